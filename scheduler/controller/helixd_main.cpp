// helixd: the helix controller daemon. Runs in the foreground with its
// store under --state-dir, the AWS Batch API on 127.0.0.1:--port and on
// STATE_DIR/helixd.sock, and an embedded worker for this node.
//
// With --mpi, under `mpirun -np N+1`, rank 0 is the controller and ranks
// 1..N are node agents (one per node, or emulated nodes of --topology on
// one machine); rank 0 then runs no jobs itself.
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <iostream>

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <CLI/CLI.hpp>

#include "common/rng.h"
#include "protocol/credentials_file.h"
#include "protocol/http_server.h"
#include "scheduler/controller/batch_api.h"
#include "scheduler/controller/controller.h"
#include "scheduler/controller/system_clock.h"
#include "workers/mpi_fabric.h"
#include "workers/node_resources.h"

#include <mpi.h>

namespace {

// The same rule as the helix CLI's, so both find the same socket.
std::string default_state_dir() {
  if (const char* dir = std::getenv("HELIX_STATE_DIR"); dir && *dir) return dir;
  if (::geteuid() == 0) return "/var/lib/helix";
  const char* home = std::getenv("HOME");
  return std::string(home ? home : "/tmp") + "/.local/state/helix";
}

// Root's SigV4 credentials, in the AWS shared-credentials format (profile
// "helix", mode 0600), written once so `aws --profile helix` works out of
// the box. An existing file is never overwritten: an admin may have edited it.
void write_credentials_file(const std::string& path, const helix::controller::StoredUser& user) {
  if (::access(path.c_str(), F_OK) == 0) return;
  helix::protocol::CredentialsFile file;
  file.set_credentials("helix", {user.access_key_id, user.secret_access_key});
  if (auto ok = file.write(path); !ok)
    spdlog::error("cannot write {}: {}", path, ok.error().to_string());
}

std::string self_dir() {
  std::error_code ec;
  auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? std::string(".") : exe.parent_path().string();
}

// Events from MPI agents may arrive before the controller exists (an
// adopted attempt ending right after recovery): they wait here until it does.
class EventRelay {
 public:
  void deliver(helix::workers::ExecEvent e) {
    std::lock_guard lock(mutex_);
    if (target_) return target_->deliver(std::move(e));
    early_.push_back(std::move(e));
  }
  void attach(helix::controller::Controller* target) {
    std::lock_guard lock(mutex_);
    target_ = target;
    for (auto& e : early_) target_->deliver(std::move(e));
    early_.clear();
  }
  void node_down(const std::string& name) {
    std::lock_guard lock(mutex_);
    if (target_) target_->node_down(name);
    down_ = true;
  }
  bool any_down() {
    std::lock_guard lock(mutex_);
    return down_;
  }

 private:
  std::mutex mutex_;
  helix::controller::Controller* target_ = nullptr;
  std::vector<helix::workers::ExecEvent> early_;
  bool down_ = false;
};

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"helixd: the helix controller (AWS Batch API, store, scheduler, local worker)"};
  std::string state_dir = default_state_dir();
  int port = 8470;
  std::string region = "us-east-1";
  int64_t kill_grace = 30;
  int64_t min_attempt = 60;
  std::string log_level = "info";
  int64_t node_vcpus = 0, node_memory = 0;
  bool mpi = false;
  helix::workers::MpiAgentOptions agent;
  int64_t heartbeat_timeout_ms = 5000;
  int64_t max_history_events = 25000;
  app.add_option("--state-dir", state_dir, "store, logs and the Unix socket live here")
      ->capture_default_str();
  app.add_option("--port", port, "TCP port on 127.0.0.1 (0: pick a free one and print it)")
      ->check(CLI::Range(0, 65535))
      ->capture_default_str();
  app.add_option("--region", region, "region shown in ARNs")->capture_default_str();
  app.add_option("--kill-grace", kill_grace, "seconds between SIGTERM and SIGKILL")
      ->check(CLI::Range(int64_t{0}, int64_t{3600}))
      ->capture_default_str();
  app.add_option("--min-attempt-duration", min_attempt,
                 "smallest timeout.attemptDurationSeconds accepted (AWS: 60)")
      ->check(CLI::Range(int64_t{1}, int64_t{86400}))
      ->capture_default_str();
  // As Slurm's CPUs= and RealMemory= in slurm.conf: offer the scheduler less
  // than the machine has (the rest stays for the system, or a benchmark
  // needs a node of a given size).
  app.add_option("--node-vcpus", node_vcpus, "vCPUs offered to jobs (0: every PU helixd may use)")
      ->check(CLI::Range(int64_t{0}, int64_t{1} << 20));
  app.add_option("--node-memory-mib", node_memory,
                 "memory offered to jobs in MiB (0: all of the node's memory)")
      ->check(CLI::Range(int64_t{0}, int64_t{1} << 40));
  app.add_option("--max-history-events", max_history_events,
                 "Step Functions: events one execution's history may hold before it fails "
                 "(AWS: 25000; 0: no limit)")
      ->check(CLI::Range(int64_t{0}, int64_t{1} << 40))
      ->capture_default_str();
  app.add_flag("--mpi", mpi,
               "run under mpirun: rank 0 is the controller, the other ranks node agents");
  app.add_option("--topology", agent.topology,
                 "agents: emulate a node of this hwloc synthetic string or XML file");
  app.add_option("--node-name", agent.node_name, "agents: the node's name (default host-rank)");
  app.add_option("--compute-environment", agent.compute_environment,
                 "agents: the compute environment this node serves (default: all)");
  app.add_option("--heartbeat-timeout-ms", heartbeat_timeout_ms,
                 "controller: an agent silent this long is declared down")
      ->check(CLI::Range(int64_t{200}, int64_t{600000}))
      ->capture_default_str();
  app.add_option("--log-level", log_level, "trace, debug, info, warn, error")
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  spdlog::set_default_logger(spdlog::stderr_color_mt("helixd"));
  spdlog::set_level(spdlog::level::from_str(log_level));
  ::signal(SIGPIPE, SIG_IGN);

  std::error_code ec;
  std::filesystem::create_directories(state_dir, ec);
  if (ec) {
    std::cerr << "helixd: --state-dir " << state_dir << ": " << ec.message() << "\n";
    return 1;
  }
  ::chmod(state_dir.c_str(), 0755);

  int rank = 0;
  if (mpi) {
    int provided = 0;
    MPI_Init_thread(&argc, &argv, MPI_THREAD_SERIALIZED, &provided);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    if (rank != 0) {
      agent.state_dir = state_dir;
      agent.shim_path = self_dir() + "/helix-shim";
      int status = helix::workers::run_mpi_agent(agent);
      MPI_Finalize();
      return status;
    }
  }

  auto node = helix::workers::discover_local_node();
  if (!node) {
    std::cerr << "helixd: cannot read this node's topology: " << node.error().to_string() << "\n";
    return 1;
  }
  if (node_vcpus > node->vcpus || node_memory > node->memory_mib) {
    std::cerr << "helixd: --node-vcpus " << node_vcpus << " / --node-memory-mib " << node_memory
              << ": this node has only " << node->vcpus << " vCPUs and " << node->memory_mib
              << " MiB\n";
    return 1;
  }
  if (node_vcpus > 0) node->vcpus = node_vcpus;
  if (node_memory > 0) node->memory_mib = node_memory;
  auto store = helix::controller::Store::open(state_dir + "/helix.db");
  if (!store) {
    std::cerr << "helixd: " << store.error().to_string() << "\n";
    return 1;
  }
  helix::controller::ControllerOptions options;
  options.state_dir = state_dir;
  options.arns.region = region;
  options.limits.min_attempt_duration_seconds = min_attempt;
  options.kill_grace = std::chrono::seconds(kill_grace);
  options.max_history_events = max_history_events;
  EventRelay relay;
  std::unique_ptr<helix::workers::MpiFabric> fabric;
  if (mpi) {
    auto started = helix::workers::MpiFabric::start(
        [&relay](helix::workers::ExecEvent e) { relay.deliver(std::move(e)); },
        [&relay](std::string name) { relay.node_down(name); },
        std::chrono::milliseconds(heartbeat_timeout_ms));
    if (!started) {
      std::cerr << "helixd: " << started.error().to_string() << "\n";
      return 1;
    }
    fabric = std::move(*started);
    auto agents = fabric->wait_for_agents(std::chrono::seconds(60));
    if (!agents) {
      std::cerr << "helixd: " << agents.error().to_string() << "\n";
      return 1;
    }
    for (const auto& a : *agents) {
      helix::controller::NodeSpec spec;
      spec.capacity = {a.hello.node, a.hello.vcpus, a.hello.memory_mib, a.hello.gpus, a.hello.pus};
      spec.topology_xml = a.hello.topology_xml;
      spec.compute_environment = a.hello.compute_environment;
      spec.host = a.hello.host;
      spec.real_pus = a.hello.real_pus;
      spec.agent = &fabric->agent(a.rank);
      options.nodes.push_back(spec);
      spdlog::info("node {} joined (MPI rank {}): {} vCPUs, {} MiB, {} GPUs", a.hello.node, a.rank,
                   a.hello.vcpus, a.hello.memory_mib, a.hello.gpus);
    }
  } else {
    helix::controller::NodeSpec local;
    // --node-vcpus offers the first PUs only.
    std::vector<int> pus = node->pus;
    if (static_cast<int64_t>(pus.size()) > node->vcpus)
      pus.resize(static_cast<size_t>(node->vcpus));
    local.capacity = {node->hostname, node->vcpus, node->memory_mib, node->gpus, pus};
    local.topology_xml = node->topology_xml;
    local.host = node->hostname;
    local.real_pus = pus;
    options.nodes.push_back(local);
  }
  options.shim_path = self_dir() + "/helix-shim";
  options.switch_users = ::geteuid() == 0;

  helix::controller::SystemClock clock;
  helix::SeededRng rng(static_cast<uint64_t>(clock.now().time_since_epoch().count()) ^
                       static_cast<uint64_t>(::getpid()) << 32);

  // Block the stop signals before threads start so only sigwait sees them.
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGTERM);
  sigaddset(&stop, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop, nullptr);

  auto controller = helix::controller::Controller::start(options, std::move(*store), clock, rng);
  if (!controller) {
    std::cerr << "helixd: " << controller.error().to_string() << "\n";
    return 1;
  }
  relay.attach(controller->get());
  auto registry = (*controller)->store().read_registry();
  if (registry) {
    for (const auto& u : registry->users)
      if (u.uid == ::geteuid()) {
        write_credentials_file(state_dir + "/credentials", u);
        break;
      }
  }

  helix::controller::BatchApi api(**controller, clock);
  helix::protocol::HttpServerOptions http;
  http.tcp_port = static_cast<uint16_t>(port);
  http.unix_socket_path = state_dir + "/helixd.sock";
  http.unix_socket_mode = ::geteuid() == 0 ? 0666 : 0600;
  auto server = helix::protocol::HttpServer::start(
      http, [&api](const helix::protocol::HttpRequest& r) { return api.handle(r); });
  if (!server) {
    std::cerr << "helixd: " << server.error().to_string() << "\n";
    return 1;
  }
  std::cout << "listening on 127.0.0.1:" << (*server)->tcp_port()
            << " unix:" << http.unix_socket_path << std::endl;
  if (!mpi)
    spdlog::info("node {}: {} vCPUs, {} MiB, {} GPUs; state in {}", node->hostname, node->vcpus,
                 node->memory_mib, node->gpus, state_dir);

  int signal_number = 0;
  sigwait(&stop, &signal_number);
  spdlog::info("stopping on signal {}; running jobs keep running", signal_number);
  (*controller)->release_waiters();
  server->reset();
  controller->reset();
  if (fabric) {
    fabric.reset();  // tells the agents to stop
    // A dead rank would keep the collective MPI_Finalize waiting forever.
    if (relay.any_down()) std::_Exit(0);
    MPI_Finalize();
  }
  return 0;
}
