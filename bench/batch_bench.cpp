// batch_bench: end-to-end throughput and submit -> start latency of helixd
// on this machine, beside the baseline every job pays: fork/exec/wait of
// /bin/true. Prints `metric value unit` lines and the ratios.
//
//   build/bin/batch_bench [--jobs 2000] [--latency-jobs 200] [--clients 4]
//
// It starts its own helixd (build/bin/helixd) with a temporary state dir
// and talks to it over the Unix socket, as the helix CLI does.
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include <httplib.h>
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

extern char** environ;

namespace {

using Clock = std::chrono::steady_clock;
using nlohmann::json;

double seconds_since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

// The baseline: what the kernel charges to start and reap /bin/true.
double fork_exec_wait_per_second(int n) {
  auto start = Clock::now();
  for (int i = 0; i < n; ++i) {
    pid_t pid = 0;
    char* argv[] = {const_cast<char*>("/bin/true"), nullptr};
    if (posix_spawn(&pid, "/bin/true", nullptr, nullptr, argv, environ) != 0) std::abort();
    int status = 0;
    waitpid(pid, &status, 0);
  }
  return n / seconds_since(start);
}

struct Daemon {
  pid_t pid = 0;
  std::string state_dir;
  std::string socket;
};

// helixd alone (mpi_nodes == 0: the embedded agent), or under mpirun with
// one controller rank and `mpi_nodes` emulated node agents of 2 PUs each.
Daemon start_helixd(const std::string& bin_dir, const std::string& parent, int mpi_nodes) {
  Daemon d;
  std::string tmpl = parent + "/helix-bench-XXXXXX";
  d.state_dir = mkdtemp(tmpl.data());
  std::string helixd = bin_dir + "/helixd";
  std::vector<std::string> args;
  if (mpi_nodes > 0) {
    args = {"mpirun", "--oversubscribe", "--mca", "btl", "self,tcp", "-np", "1", helixd, "--mpi"};
  } else {
    args = {helixd};
  }
  args.insert(args.end(), {"--state-dir", d.state_dir, "--port", "0", "--log-level", "error"});
  for (int n = 1; n <= mpi_nodes; ++n)
    args.insert(args.end(), {":", "-np", "1", helixd, "--mpi", "--state-dir", d.state_dir,
                             "--node-name", "bench" + std::to_string(n), "--topology",
                             "pack:1 [numa(memory=4GiB)] core:2 pu:1"});
  int out[2];
  if (pipe(out) != 0) std::abort();
  d.pid = fork();
  if (d.pid == 0) {
    setpgid(0, 0);  // stopped as a group: mpirun and its ranks
    dup2(out[1], 1);
    close(out[0]);
    setenv("OMPI_ALLOW_RUN_AS_ROOT", "1", 1);
    setenv("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1", 1);
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    execvp(argv[0], argv.data());
    _exit(127);
  }
  close(out[1]);
  std::string line;
  char c;
  while (read(out[0], &c, 1) == 1 && c != '\n') line += c;
  close(out[0]);
  if (line.rfind("listening on", 0) != 0) {
    std::cerr << "helixd did not start: " << line << "\n";
    std::exit(1);
  }
  d.socket = d.state_dir + "/helixd.sock";
  return d;
}

httplib::Client client(const std::string& socket) {
  httplib::Client c(socket);
  c.set_address_family(AF_UNIX);
  c.set_read_timeout(60, 0);
  c.set_keep_alive(true);
  return c;
}

std::string submit(httplib::Client& c, const std::string& name) {
  json body = {{"jobName", name},
               {"jobQueue", "default"},
               {"jobDefinition", "helix-command"},
               {"containerOverrides", {{"command", {"/bin/true"}}}}};
  auto res = c.Post("/v1/submitjob", body.dump(), "application/json");
  if (!res || res->status != 200) {
    std::cerr << "submit failed: " << (res ? res->body : httplib::to_string(res.error())) << "\n";
    std::exit(1);
  }
  return json::parse(res->body)["jobId"].get<std::string>();
}

json wait_job(httplib::Client& c, const std::string& id) {
  for (;;) {
    auto res = c.Get("/helix/v1/jobs/" + id + "/wait?timeoutSeconds=30");
    if (!res || res->status != 200) std::exit(1);
    json job = json::parse(res->body);
    if (job["status"] == "SUCCEEDED" || job["status"] == "FAILED") return job;
  }
}

double percentile(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  size_t i = static_cast<size_t>(p * static_cast<double>(v.size() - 1) + 0.5);
  return v[i];
}

}  // namespace

struct Results {
  double submit_rate = 0;
  double throughput = 0;
  double p50_ms = 0;
  double p99_ms = 0;
  int failed = 0;
};

Results run_suite(const Daemon& d, int jobs, int latency_jobs, int clients) {
  Results r;
  // Latency: one job at a time on an idle daemon.
  std::vector<double> latencies_ms;
  {
    auto c = client(d.socket);
    for (int i = 0; i < latency_jobs; ++i) {
      json job = wait_job(c, submit(c, "lat"));
      double us = job["helix"]["startedAtMicros"].get<double>() -
                  job["helix"]["createdAtMicros"].get<double>();
      latencies_ms.push_back(us / 1000.0);
    }
  }
  // Throughput: submit everything over several connections, then wait for all.
  std::vector<std::string> ids(static_cast<size_t>(jobs));
  std::atomic<int> next{0};
  auto start = Clock::now();
  std::vector<std::thread> threads;
  for (int t = 0; t < clients; ++t) {
    threads.emplace_back([&] {
      auto c = client(d.socket);
      for (int i = next++; i < jobs; i = next++) ids[static_cast<size_t>(i)] = submit(c, "tp");
    });
  }
  for (auto& t : threads) t.join();
  double submit_seconds = seconds_since(start);
  {
    auto c = client(d.socket);
    for (const auto& id : ids) r.failed += wait_job(c, id)["status"] != "SUCCEEDED";
  }
  r.submit_rate = jobs / submit_seconds;
  r.throughput = jobs / seconds_since(start);
  r.p50_ms = percentile(latencies_ms, 0.50);
  r.p99_ms = percentile(latencies_ms, 0.99);
  return r;
}

void stop(const Daemon& d) {
  kill(-d.pid, SIGTERM);
  int status = 0;
  waitpid(d.pid, &status, 0);
  std::filesystem::remove_all(d.state_dir);
}

int main(int argc, char** argv) {
  CLI::App app{"helix batch benchmark"};
  int jobs = 2000;
  int latency_jobs = 200;
  int clients = 4;
  std::string bin_dir = std::filesystem::canonical("/proc/self/exe").parent_path().string();
  app.add_option("--jobs", jobs, "jobs in the throughput run");
  app.add_option("--latency-jobs", latency_jobs, "jobs in the latency run (one at a time)");
  app.add_option("--clients", clients, "concurrent submitting connections");
  app.add_option("--bin-dir", bin_dir, "where helixd is");
  std::string state_parent = "/tmp";
  app.add_option("--state-parent", state_parent, "helixd's state directory is made in here");
  int mpi_nodes = 0;
  app.add_option("--mpi-nodes", mpi_nodes,
                 "also run through the MPI transport with this many emulated nodes");
  CLI11_PARSE(app, argc, argv);

  double baseline = fork_exec_wait_per_second(jobs);
  std::printf("baseline_fork_exec_wait %.1f jobs/s\n", baseline);

  Daemon d = start_helixd(bin_dir, state_parent, 0);
  Results local = run_suite(d, jobs, latency_jobs, clients);
  stop(d);
  std::printf("submit_rate %.1f jobs/s\n", local.submit_rate);
  std::printf("end_to_end_throughput %.1f jobs/s\n", local.throughput);
  std::printf("throughput_vs_fork_exec_ratio %.3f ratio\n", local.throughput / baseline);
  std::printf("submit_to_start_p50 %.3f ms\n", local.p50_ms);
  std::printf("submit_to_start_p99 %.3f ms\n", local.p99_ms);
  int failed = local.failed;
  if (mpi_nodes > 0) {
    // The same jobs dispatched through the MPI transport to emulated nodes:
    // the difference in submit -> start is the transport's cost per dispatch
    // (a launch message out, a started event back).
    Daemon m = start_helixd(bin_dir, state_parent, mpi_nodes);
    Results mpi = run_suite(m, jobs, latency_jobs, clients);
    stop(m);
    std::printf("mpi_nodes %d nodes\n", mpi_nodes);
    std::printf("mpi_end_to_end_throughput %.1f jobs/s\n", mpi.throughput);
    std::printf("mpi_vs_embedded_throughput_ratio %.3f ratio\n", mpi.throughput / local.throughput);
    std::printf("mpi_submit_to_start_p50 %.3f ms\n", mpi.p50_ms);
    std::printf("mpi_submit_to_start_p99 %.3f ms\n", mpi.p99_ms);
    std::printf("mpi_dispatch_round_trip_p50 %.3f ms\n", mpi.p50_ms - local.p50_ms);
    failed += mpi.failed;
  }
  std::printf("failed_jobs %d jobs\n", failed);
  return failed == 0 ? 0 : 1;
}
