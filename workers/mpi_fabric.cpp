#include "workers/mpi_fabric.h"

#include <mpi.h>
#include <sched.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <deque>
#include <fstream>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "workers/job_cgroups.h"
#include "workers/local_executor.h"
#include "workers/node_resources.h"

namespace helix::workers {

namespace {

constexpr int kTag = 7;  // every helix message travels on this tag

// One process's MPI traffic: outgoing messages are queued by any thread and
// sent by the loop thread, which also receives. Idle, it polls at most
// every 200 µs, so a dispatch costs well under a millisecond.
class Mailbox {
 public:
  void post(int rank, std::string text) {
    std::lock_guard lock(mutex_);
    outgoing_.emplace_back(rank, std::move(text));
  }

  // Sends what is queued, then receives what has arrived; calls `deliver`
  // for each message. Returns whether anything happened.
  bool pump(const std::function<void(int, std::string)>& deliver) {
    std::deque<std::pair<int, std::string>> out;
    {
      std::lock_guard lock(mutex_);
      out.swap(outgoing_);
    }
    for (auto& [rank, text] : out) {
      if (dead_.count(rank)) continue;
      if (MPI_Send(text.data(), static_cast<int>(text.size()), MPI_CHAR, rank, kTag,
                   MPI_COMM_WORLD) != MPI_SUCCESS)
        dead_.insert(rank);
    }
    bool any = !out.empty();
    for (;;) {
      int flag = 0;
      MPI_Status status;
      if (MPI_Iprobe(MPI_ANY_SOURCE, kTag, MPI_COMM_WORLD, &flag, &status) != MPI_SUCCESS || !flag)
        break;
      int count = 0;
      MPI_Get_count(&status, MPI_CHAR, &count);
      std::string text(static_cast<size_t>(count), '\0');
      if (MPI_Recv(text.data(), count, MPI_CHAR, status.MPI_SOURCE, kTag, MPI_COMM_WORLD,
                   MPI_STATUS_IGNORE) != MPI_SUCCESS)
        break;
      any = true;
      deliver(status.MPI_SOURCE, std::move(text));
    }
    return any;
  }

  void mark_dead(int rank) { dead_.insert(rank); }

 private:
  std::mutex mutex_;
  std::deque<std::pair<int, std::string>> outgoing_;
  std::set<int> dead_;  // loop thread only
};

void idle_wait(bool busy) {
  if (!busy) std::this_thread::sleep_for(std::chrono::microseconds(200));
}

}  // namespace

// The controller's view of one agent rank.
class MpiAgentProxy final : public NodeAgent {
 public:
  MpiAgentProxy(MpiFabric::Impl& fabric, int rank) : fabric_(fabric), rank_(rank) {}
  std::vector<ExecEvent> recover(const std::set<std::string>& task_ids) override;
  void launch(const LaunchSpec& spec) override;
  void terminate(const std::string& task_id) override {
    send(SignalMessage{SignalMessage::Kind::kTerminate, task_id});
  }
  void kill(const std::string& task_id) override {
    send(SignalMessage{SignalMessage::Kind::kKill, task_id});
  }
  void forget(const std::string& task_id) override {
    send(SignalMessage{SignalMessage::Kind::kForget, task_id});
  }

 private:
  friend struct MpiFabric::Impl;
  void send(const AgentMessage& m);

  MpiFabric::Impl& fabric_;
  int rank_;
  std::set<std::string> running_;  // launched or adopted, not yet ended (guarded by fabric mutex)
  std::optional<std::vector<ExecEvent>> recovered_;
};

struct MpiFabric::Impl {
  ExecEventSink sink;
  std::function<void(std::string)> on_down;
  std::chrono::milliseconds heartbeat_timeout{};
  Mailbox mailbox;
  std::thread thread;
  std::atomic<bool> stopping{false};
  int world = 1;

  std::mutex mutex;  // guards everything below
  std::condition_variable changed;
  std::map<int, MpiNode> nodes;
  std::map<int, std::string> refused;
  std::map<int, std::unique_ptr<MpiAgentProxy>> proxies;
  std::map<int, std::chrono::steady_clock::time_point> last_seen;
  std::set<int> down;

  void deliver(int rank, std::string text) {
    auto message = decode_message(text);
    std::unique_lock lock(mutex);
    last_seen[rank] = std::chrono::steady_clock::now();
    if (!message) {
      // A message we cannot read: treat the agent as refusing (version skew).
      refused[rank] = message.error().to_string();
      changed.notify_all();
      return;
    }
    if (auto* hello = std::get_if<HelloMessage>(&*message)) {
      nodes[rank] = MpiNode{rank, *hello};
      proxies[rank] = std::make_unique<MpiAgentProxy>(*this, rank);
    } else if (auto* no = std::get_if<RefusedMessage>(&*message)) {
      refused[rank] = no->reason;
    } else if (auto* ev = std::get_if<EventMessage>(&*message)) {
      if (down.count(rank)) return;  // already reported lost
      if (auto it = proxies.find(rank); it != proxies.end()) {
        if (ev->event.kind == ExecEvent::Kind::kStarted) {
          it->second->running_.insert(ev->event.task_id);
        } else {
          it->second->running_.erase(ev->event.task_id);
        }
      }
      lock.unlock();
      sink(std::move(ev->event));
      return;
    } else if (auto* rec = std::get_if<RecoveredMessage>(&*message)) {
      if (auto it = proxies.find(rank); it != proxies.end()) {
        for (const auto& e : rec->events)
          if (e.kind == ExecEvent::Kind::kStarted) it->second->running_.insert(e.task_id);
        it->second->recovered_ = std::move(rec->events);
      }
    }
    changed.notify_all();
  }

  // Agents silent for longer than the timeout are down: their attempts are
  // reported lost so the controller can retry them on other nodes.
  void check_heartbeats() {
    auto now = std::chrono::steady_clock::now();
    std::vector<ExecEvent> lost;
    std::vector<std::string> names;
    {
      std::lock_guard lock(mutex);
      for (auto& [rank, node] : nodes) {
        if (down.count(rank) || now - last_seen[rank] < heartbeat_timeout) continue;
        down.insert(rank);
        mailbox.mark_dead(rank);
        auto& proxy = *proxies.at(rank);
        for (const auto& task : proxy.running_) {
          ExecEvent e;
          e.kind = ExecEvent::Kind::kLost;
          e.task_id = task;
          e.reason = "node " + node.hello.node + " (MPI rank " + std::to_string(rank) +
                     ") stopped sending heartbeats and was declared down";
          lost.push_back(std::move(e));
        }
        proxy.running_.clear();
        names.push_back(node.hello.node);
      }
      changed.notify_all();
    }
    // The node is down before its attempts are reported lost, so that the
    // controller never places their retries on it.
    for (auto& n : names)
      if (on_down) on_down(n);
    for (auto& e : lost) sink(std::move(e));
  }

  void run() {
    auto next_check = std::chrono::steady_clock::now();
    while (!stopping) {
      bool busy =
          mailbox.pump([this](int rank, std::string text) { deliver(rank, std::move(text)); });
      if (std::chrono::steady_clock::now() >= next_check) {
        check_heartbeats();
        next_check = std::chrono::steady_clock::now() + heartbeat_timeout / 4;
      }
      idle_wait(busy);
    }
    // Last words: the shutdown messages queued by the destructor.
    mailbox.pump([](int, std::string) {});
  }
};

void MpiAgentProxy::send(const AgentMessage& m) { fabric_.mailbox.post(rank_, encode_message(m)); }

void MpiAgentProxy::launch(const LaunchSpec& spec) { send(LaunchMessage{spec}); }

std::vector<ExecEvent> MpiAgentProxy::recover(const std::set<std::string>& task_ids) {
  {
    std::lock_guard lock(fabric_.mutex);
    recovered_.reset();
  }
  send(RecoverMessage{task_ids});
  std::unique_lock lock(fabric_.mutex);
  bool answered = fabric_.changed.wait_for(lock, fabric_.heartbeat_timeout * 4, [&] {
    return recovered_.has_value() || fabric_.down.count(rank_);
  });
  if (answered && recovered_) return std::move(*recovered_);
  // No answer: the node is gone, so are its attempts' outcomes.
  std::vector<ExecEvent> lost;
  for (const auto& id : task_ids) {
    ExecEvent e;
    e.kind = ExecEvent::Kind::kLost;
    e.task_id = id;
    e.reason = "MPI rank " + std::to_string(rank_) + " did not answer recovery";
    lost.push_back(std::move(e));
  }
  return lost;
}

MpiFabric::MpiFabric(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Result<std::unique_ptr<MpiFabric>> MpiFabric::start(ExecEventSink sink,
                                                    std::function<void(std::string)> on_down,
                                                    std::chrono::milliseconds heartbeat_timeout) {
  int initialized = 0;
  MPI_Initialized(&initialized);
  if (!initialized) return fail(Error::internal("MpiFabric::start before MPI_Init_thread"));
  MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
  auto impl = std::make_unique<Impl>();
  impl->sink = std::move(sink);
  impl->on_down = std::move(on_down);
  impl->heartbeat_timeout = heartbeat_timeout;
  MPI_Comm_size(MPI_COMM_WORLD, &impl->world);
  Impl* raw = impl.get();
  impl->thread = std::thread([raw] { raw->run(); });
  return std::unique_ptr<MpiFabric>(new MpiFabric(std::move(impl)));
}

MpiFabric::~MpiFabric() {
  for (int rank = 1; rank < impl_->world; ++rank)
    impl_->mailbox.post(rank, encode_message(ShutdownMessage{}));
  impl_->stopping = true;
  if (impl_->thread.joinable()) impl_->thread.join();
}

Result<std::vector<MpiNode>> MpiFabric::wait_for_agents(std::chrono::milliseconds timeout) {
  std::unique_lock lock(impl_->mutex);
  int agents = impl_->world - 1;
  impl_->changed.wait_for(lock, timeout, [&] {
    return static_cast<int>(impl_->nodes.size() + impl_->refused.size()) >= agents;
  });
  std::string problems;
  for (int rank = 1; rank <= agents; ++rank) {
    if (auto it = impl_->refused.find(rank); it != impl_->refused.end()) {
      problems += (problems.empty() ? "" : "; ") + std::string("rank ") + std::to_string(rank) +
                  " refused to join: " + it->second;
    } else if (!impl_->nodes.count(rank)) {
      problems += (problems.empty() ? "" : "; ") + std::string("rank ") + std::to_string(rank) +
                  " never said hello";
    }
  }
  if (!problems.empty()) return fail(Error::unavailable("MPI agents: " + problems));
  std::vector<MpiNode> out;
  for (const auto& [rank, node] : impl_->nodes) out.push_back(node);
  return out;
}

NodeAgent& MpiFabric::agent(int rank) {
  std::lock_guard lock(impl_->mutex);
  return *impl_->proxies.at(rank);
}

// ---------------------------------------------------------------------------
// The agent side.

namespace {

std::vector<int> allowed_pus() {
  cpu_set_t set;
  std::vector<int> out;
  if (sched_getaffinity(0, sizeof set, &set) == 0)
    for (int i = 0; i < CPU_SETSIZE; ++i)
      if (CPU_ISSET(i, &set)) out.push_back(i);
  return out;
}

std::vector<int> online_numa_nodes() {
  std::ifstream in("/sys/devices/system/node/online");
  std::string text;
  std::getline(in, text);
  auto list = parse_cpu_list(text);
  return list && !list->empty() ? *list : std::vector<int>{0};
}

std::vector<int> map_indexes(const std::vector<int>& emulated, const std::vector<int>& real) {
  std::vector<int> out;
  std::set<int> seen;
  for (int i : emulated) {
    int r = real[static_cast<size_t>(i) % real.size()];
    if (seen.insert(r).second) out.push_back(r);
  }
  return out;
}

// The real PU of each emulated one, index by index.
std::vector<int> map_each(const std::vector<int>& emulated, const std::vector<int>& real) {
  std::vector<int> out;
  for (int i : emulated) out.push_back(real[static_cast<size_t>(i) % real.size()]);
  return out;
}

}  // namespace

int run_mpi_agent(const MpiAgentOptions& options) {
  MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
  int rank = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  Mailbox mailbox;
  auto refuse = [&](const std::string& reason) {
    mailbox.post(0, encode_message(RefusedMessage{reason}));
    mailbox.pump([](int, std::string) {});
    return 1;
  };
  char host[256] = {};
  ::gethostname(host, sizeof host - 1);
  std::string name = options.node_name.empty() ? std::string(host) + "-" + std::to_string(rank)
                                               : options.node_name;
  auto node = options.topology.empty() ? discover_local_node()
                                       : node_resources_from_description(options.topology, name);
  if (!node) return refuse(node.error().to_string());
  const bool emulated = !options.topology.empty();
  std::vector<int> real_pus = allowed_pus();
  std::vector<int> real_numa = online_numa_nodes();
  if (real_pus.empty()) return refuse("this process may run on no PU");

  auto executor = LocalExecutor::create(
      {options.state_dir + "/agents/" + name + "/run", options.shim_path},
      [&mailbox](ExecEvent e) { mailbox.post(0, encode_message(EventMessage{std::move(e)})); });
  if (!executor) return refuse(executor.error().to_string());

  mailbox.post(0, encode_message(HelloMessage{
                      name, ::getpid(), options.compute_environment, node->topology_xml,
                      node->vcpus, node->memory_mib, node->gpus, node->pus, host,
                      emulated ? map_each(node->pus, real_pus) : node->pus}));
  bool done = false;
  auto next_beat = std::chrono::steady_clock::now();
  while (!done) {
    bool busy = mailbox.pump([&](int from, std::string text) {
      if (from != 0) return;
      auto message = decode_message(text);
      if (!message) return;  // the controller speaks our version or not at all
      if (auto* launch = std::get_if<LaunchMessage>(&*message)) {
        LaunchSpec spec = std::move(launch->spec);
        if (emulated) {
          spec.cpus = map_indexes(spec.cpus, real_pus);
          spec.numa_nodes = map_indexes(spec.numa_nodes, real_numa);
        }
        (*executor)->launch(spec);
      } else if (auto* sig = std::get_if<SignalMessage>(&*message)) {
        switch (sig->kind) {
          case SignalMessage::Kind::kTerminate:
            (*executor)->terminate(sig->task_id);
            break;
          case SignalMessage::Kind::kKill:
            (*executor)->kill(sig->task_id);
            break;
          case SignalMessage::Kind::kForget:
            (*executor)->forget(sig->task_id);
            break;
        }
      } else if (auto* rec = std::get_if<RecoverMessage>(&*message)) {
        mailbox.post(0, encode_message(RecoveredMessage{(*executor)->recover(rec->task_ids)}));
      } else if (std::holds_alternative<ShutdownMessage>(*message)) {
        done = true;
      }
    });
    if (std::chrono::steady_clock::now() >= next_beat) {
      mailbox.post(0, encode_message(HeartbeatMessage{}));
      next_beat = std::chrono::steady_clock::now() + options.heartbeat_interval;
    }
    idle_wait(busy);
  }
  return 0;
}

}  // namespace helix::workers
