// Run under mpirun with 1 + N ranks (tests/workers/test_mpi_fabric.py):
// rank 0 drives the agents through MpiFabric and prints one line per check;
// ranks >= 1 are agents of emulated topologies. Exit status 0 only when
// every check passed.
//
//   mpi_fabric_check STATE_DIR SHIM MODE
//   MODE "run": each agent runs a job bound to its emulated PU 1 and the
//               job's Cpus_allowed_list is checked against the mapping.
//   MODE "die": the last agent starts `sleep 60`, is SIGKILLed, and its
//               attempt must be reported lost with a reason naming it.
#include <mpi.h>
#include <signal.h>

#include <condition_variable>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <mutex>
#include <sstream>

#include "workers/mpi_fabric.h"

using namespace helix::workers;
using namespace std::chrono_literals;

namespace {

std::mutex mutex;
std::condition_variable cv;
std::map<std::string, ExecEvent> ended;
std::map<std::string, ExecEvent> started;

bool wait_for(const std::string& task, std::chrono::seconds timeout) {
  std::unique_lock lock(mutex);
  return cv.wait_for(lock, timeout, [&] { return ended.count(task) != 0; });
}

int controller(const std::string& dir, const std::string& mode) {
  std::vector<std::string> downs;
  auto fabric = MpiFabric::start(
      [](ExecEvent e) {
        std::lock_guard lock(mutex);
        if (e.kind == ExecEvent::Kind::kStarted) {
          started[e.task_id] = e;
        } else {
          ended[e.task_id] = e;
        }
        cv.notify_all();
      },
      [&](std::string node) {
        std::lock_guard lock(mutex);
        downs.push_back(node);
      },
      1500ms);
  if (!fabric) return std::puts(fabric.error().to_string().c_str()), 1;
  auto nodes = (*fabric)->wait_for_agents(30s);
  if (!nodes) return std::puts(nodes.error().to_string().c_str()), 1;
  int failures = 0;
  auto check = [&](bool ok, const std::string& what) {
    std::printf("%s %s\n", ok ? "ok" : "FAIL", what.c_str());
    if (!ok) ++failures;
  };
  check(nodes->size() >= 2, "agents joined: " + std::to_string(nodes->size()));
  if (mode == "run") {
    for (const auto& node : *nodes) {
      LaunchSpec spec;
      spec.task_id = "t" + std::to_string(node.rank);
      spec.argv = {"grep", "Cpus_allowed_list", "/proc/self/status"};
      spec.env = {"PATH=/usr/bin:/bin"};
      spec.working_dir = dir;
      spec.log_path = dir + "/" + spec.task_id + ".log";
      spec.cpus = {1};  // emulated PU 1
      (*fabric)->agent(node.rank).launch(spec);
    }
    for (const auto& node : *nodes) {
      std::string task = "t" + std::to_string(node.rank);
      bool done = wait_for(task, 30s);
      check(
          done && ended[task].kind == ExecEvent::Kind::kExited && ended[task].exit_code == 0,
          task + " on " + node.hello.node + " exited 0: " + (done ? ended[task].reason : "no end"));
      std::ifstream log(dir + "/" + task + ".log");
      std::stringstream text;
      text << log.rdbuf();
      std::printf("%s: %s", task.c_str(), text.str().c_str());
      (*fabric)->agent(node.rank).forget(task);
    }
  } else {
    const auto& victim = nodes->back();
    LaunchSpec spec;
    spec.task_id = "sleeper";
    spec.argv = {"sleep", "60"};
    spec.env = {"PATH=/usr/bin:/bin"};
    spec.working_dir = dir;
    spec.log_path = dir + "/sleeper.log";
    (*fabric)->agent(victim.rank).launch(spec);
    {
      std::unique_lock lock(mutex);
      check(cv.wait_for(lock, 20s, [] { return started.count("sleeper") != 0; }),
            "sleeper started on " + victim.hello.node);
    }
    ::kill(static_cast<pid_t>(victim.hello.pid), SIGKILL);
    bool lost = wait_for("sleeper", 20s);
    check(lost && ended["sleeper"].kind == ExecEvent::Kind::kLost &&
              ended["sleeper"].reason.find(victim.hello.node) != std::string::npos,
          "sleeper reported lost: " + (lost ? ended["sleeper"].reason : std::string("no event")));
    if (started.count("sleeper")) ::kill(started["sleeper"].pid, SIGKILL);
    std::lock_guard lock(mutex);
    check(downs.size() == 1 && downs[0] == victim.hello.node, "node declared down");
  }
  std::fflush(stdout);
  return failures == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4) return std::fprintf(stderr, "usage: %s STATE_DIR SHIM MODE\n", argv[0]), 2;
  int provided = 0;
  MPI_Init_thread(&argc, &argv, MPI_THREAD_SERIALIZED, &provided);
  int rank = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  int status;
  if (rank == 0) {
    status = controller(argv[1], argv[3]);
  } else {
    MpiAgentOptions options;
    options.state_dir = argv[1];
    options.shim_path = argv[2];
    options.node_name = "emu" + std::to_string(rank);
    options.topology = "pack:1 [numa(memory=2GiB)] core:" + std::to_string(rank + 1) + " pu:1";
    options.heartbeat_interval = 300ms;
    status = run_mpi_agent(options);
  }
  // With a killed agent the collective finalize would wait for it forever.
  if (std::string(argv[3]) == "die") std::_Exit(status);
  MPI_Finalize();
  return status;
}
