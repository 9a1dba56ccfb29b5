#include "scheduler/controller/controller.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <future>
#include <sstream>

#include <spdlog/spdlog.h>

#include "protocol/credentials_file.h"
#include "protocol/secure_rng.h"
#include "queues/ids.h"
#include "scheduler/controller/unix_users.h"

namespace helix::controller {

using nlohmann::json;
using queues::Job;
using queues::JobStatus;

namespace {

constexpr size_t kMaxCommandsPerIteration = 2000;

// The packer's view of a node: its NUMA nodes with the PUs jobs may use
// (capacity.pus, in the topology's NUMA nodes) and its offered memory split
// over them in proportion to what the topology says (so --node-memory-mib
// and VMs whose NUMA figures miss hot-plugged memory still add up), and its
// GPUs on the NUMA nodes they are local to.
scheduler::NumaLedger packer_for(const scheduler::NodeCapacity& cap,
                                 const std::vector<workers::NumaNode>& layout) {
  std::vector<int> pus = cap.pus;
  if (pus.empty())
    for (int i = 0; i < cap.vcpus; ++i) pus.push_back(i);
  std::vector<scheduler::NumaNodeSpec> specs;
  int64_t topology_memory = 0;
  for (const auto& n : layout) topology_memory += n.memory_mib;
  std::set<int> placed;
  for (const auto& n : layout) {
    scheduler::NumaNodeSpec s;
    s.id = n.os_index;
    for (int pu : n.pus)
      if (std::find(pus.begin(), pus.end(), pu) != pus.end() && placed.insert(pu).second)
        s.pus.push_back(pu);
    s.memory_mib = topology_memory > 0 ? cap.memory_mib * n.memory_mib / topology_memory : 0;
    specs.push_back(std::move(s));
  }
  if (specs.empty()) specs.push_back({0, 0, {}, {}});
  // PUs the topology does not place (emulated nodes, odd exports): NUMA 0.
  for (int pu : pus)
    if (!placed.count(pu)) specs.front().pus.push_back(pu);
  int64_t assigned = 0;
  for (const auto& s : specs) assigned += s.memory_mib;
  specs.front().memory_mib += cap.memory_mib - assigned;  // rounding, or no topology
  // GPUs on the NUMA node their PCI root is attached to; any the topology
  // does not place (an offered count above what it lists) on the first.
  std::set<int> local_gpus;
  for (size_t k = 0; k < layout.size() && k < specs.size(); ++k)
    for (int g : layout[k].gpus)
      if (g < cap.gpus && local_gpus.insert(g).second) specs[k].gpus.push_back(g);
  for (int g = 0; g < cap.gpus; ++g)
    if (!local_gpus.count(g)) specs.front().gpus.push_back(g);
  return scheduler::NumaLedger(cap.name, std::move(specs));
}

}  // namespace

scheduler::NumaPlacement Controller::Node::take(const std::string& holder,
                                                const queues::ResourceRequest& r,
                                                const std::vector<int>& pus,
                                                const std::vector<int>& gpus) {
  scheduler::NumaRequest want{r.vcpus, r.memory_mib, r.gpus};
  std::optional<scheduler::NumaPlacement> p;
  if (!pus.empty()) p = packer.place_on(pus, want, gpus);
  if (!p) p = packer.place(want);
  if (!p) p = scheduler::NumaPlacement{};  // cannot happen when ledger.fits_now(r)
  packer.reserve(holder, *p);
  ledger.reserve(holder, r, p->pus);
  return *p;
}

void Controller::Node::give_back(const std::string& holder) {
  packer.release(holder);
  ledger.release(holder);
}

Controller::Controller(ControllerOptions options, std::unique_ptr<Store> store, Clock& clock,
                       Rng& rng)
    : options_(std::move(options)),
      store_(std::move(store)),
      clock_(clock),
      rng_(rng),
      book_([this](const std::string& id) { return store_->job_facts(id); }, options_.kill_grace) {
  for (const auto& spec : options_.nodes) {
    auto numa = workers::numa_layout_from_xml(spec.topology_xml);
    auto packer = packer_for(spec.capacity, numa);
    nodes_.push_back(Node{spec, spec.agent, scheduler::NodeLedger(spec.capacity), false,
                          std::move(numa), std::move(packer)});
  }
  init_states();
}

Result<std::unique_ptr<Controller>> Controller::start(ControllerOptions options,
                                                      std::unique_ptr<Store> store, Clock& clock,
                                                      Rng& rng) {
  if (options.nodes.empty()) return fail(Error::invalid("nodes", "helixd needs at least one node"));
  std::unique_ptr<Controller> c(new Controller(std::move(options), std::move(store), clock, rng));
  ::mkdir(c->log_dir().c_str(), 0755);
  if (auto ok = c->load(); !ok) return fail(ok.error());
  Controller* self = c.get();
  for (auto& node : c->nodes_) {
    if (node.agent) continue;
    if (!c->embedded_) {
      auto executor = workers::LocalExecutor::create(
          {c->options_.state_dir + "/run", c->options_.shim_path},
          [self](workers::ExecEvent event) { self->deliver(std::move(event)); });
      if (!executor) return fail(executor.error());
      c->embedded_ = std::move(*executor);
      spdlog::info("job limits: {}", c->embedded_->limits_description());
    }
    node.agent = c->embedded_.get();
  }
  c->recover();
  if (auto ok = c->restore_states(); !ok) return fail(ok.error());
  // A first iteration schedules the jobs that were RUNNABLE at the restart.
  c->post([]() -> Completion { return nullptr; });
  c->loop_ = std::thread([self] { self->run_loop(); });
  return c;
}

Controller::~Controller() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (loop_.joinable()) loop_.join();
  embedded_.reset();
}

void Controller::deliver(workers::ExecEvent event) {
  post([this, event = std::move(event)]() -> Completion {
    on_exec_event(event);
    return nullptr;
  });
}

Result<Controller::Json> Controller::nodes_view(const Identity& caller) {
  return call<Json>([this, caller]() -> Result<Json> {
    Json nodes = Json::array();
    for (const auto& node : nodes_) {
      const auto& cap = node.ledger.total();
      std::map<int, std::string> holder_of;  // PU -> job id
      for (const auto& holder : node.ledger.holders()) {
        const Job* job = book_.find(holder);
        bool visible = caller.admin || (job && job->owner.uid == caller.uid);
        for (int pu : node.ledger.pus_of(holder)) holder_of[pu] = visible ? holder : "(other user)";
      }
      Json numa = Json::array();
      auto layout = node.numa;
      if (layout.empty()) layout.push_back({0, cap.memory_mib, cap.pus, {}});
      for (const auto& n : layout) {
        Json pus = Json::array();
        for (int pu : n.pus) {
          if (std::find(cap.pus.begin(), cap.pus.end(), pu) == cap.pus.end()) continue;
          Json p = {{"pu", pu}};
          if (auto it = holder_of.find(pu); it != holder_of.end()) p["job"] = it->second;
          pus.push_back(p);
        }
        // The GPUs the scheduler places on this NUMA node (their locality).
        Json gpus = Json::array();
        for (const auto& spec : node.packer.numa_nodes())
          if (spec.id == n.os_index) gpus = spec.gpus;
        numa.push_back(
            {{"numaNode", n.os_index}, {"memoryMib", n.memory_mib}, {"pus", pus}, {"gpus", gpus}});
      }
      nodes.push_back({{"name", cap.name},
                       {"state", node.down ? "DOWN" : "UP"},
                       {"computeEnvironment", node.spec.compute_environment},
                       {"vcpus", cap.vcpus},
                       {"freeVcpus", node.ledger.free_vcpus()},
                       {"memoryMib", cap.memory_mib},
                       {"freeMemoryMib", cap.memory_mib - node.ledger.used().memory_mib},
                       {"gpus", cap.gpus},
                       {"freeGpus", cap.gpus - node.ledger.used().gpus},
                       {"numaNodes", numa}});
    }
    return Json{{"nodes", nodes}};
  });
}

void Controller::node_down(const std::string& name) {
  post([this, name]() -> Completion {
    for (auto& node : nodes_)
      if (node.spec.capacity.name == name && !node.down) {
        node.down = true;
        spdlog::warn("node {} is down: nothing more is placed on it", name);
      }
    return nullptr;
  });
}

workers::NodeAgent* Controller::agent_of_task(const std::string& task_id) {
  auto it = node_of_task_.find(task_id);
  return it == node_of_task_.end() ? nullptr : nodes_[it->second].agent;
}

Result<void> Controller::load() {
  auto registry = store_->load_registry();
  if (!registry) return fail(registry.error());
  for (auto& def : registry->definitions) definitions_[def.name].push_back(std::move(def));
  for (auto& q : registry->queues) queues_[q.name] = std::move(q);
  for (auto& ce : registry->compute_environments) compute_environments_[ce.name] = std::move(ce);
  for (auto& p : registry->policies) policies_[p.name] = std::move(p);
  for (auto& u : registry->users) users_[u.access_key_id] = std::move(u);
  for (const auto& [name, q] : queues_) book_.set_queue_priority(name, q.priority);

  // First start: a compute environment for this node, a default queue and
  // the definition `helix submit -- command` uses.
  if (auto ok = store_->begin(); !ok) return ok;
  if (compute_environments_.empty() && queues_.empty()) {
    queues::ComputeEnvironment ce;
    ce.name = "local";
    compute_environments_[ce.name] = ce;
    if (auto ok = store_->put_compute_environment(ce); !ok) return ok;
    queues::JobQueue q;
    q.name = "default";
    q.priority = 1;
    q.compute_environment_order = {{1, "local"}};
    queues_[q.name] = q;
    book_.set_queue_priority(q.name, q.priority);
    if (auto ok = store_->put_queue(q); !ok) return ok;
  }
  if (!definitions_.count("helix-command")) {
    queues::JobDefinition def;
    def.name = "helix-command";
    def.revision = 1;
    definitions_[def.name].push_back(def);
    if (auto ok = store_->put_definition(def); !ok) return ok;
  }
  // The daemon's own user (root in production) gets keys on first start.
  bool has_root_key = false;
  for (const auto& [key, u] : users_) has_root_key |= u.uid == geteuid();
  if (!has_root_key) {
    protocol::SecureRng secure;  // secrets never come from the seeded Rng
    auto keys = protocol::generate_credentials(secure);
    StoredUser root{keys.access_key_id, keys.secret_access_key, static_cast<uint32_t>(geteuid()),
                    static_cast<uint32_t>(getegid()),
                    user_by_uid(geteuid()).value_or(UnixUser{}).name};
    if (auto ok = store_->put_user(root); !ok) return ok;
    users_[root.access_key_id] = root;
  }
  if (auto ok = store_->commit(); !ok) return ok;

  auto jobs = store_->load_unfinished_jobs();
  if (!jobs) return fail(jobs.error());
  for (auto& job : *jobs) {
    if (job.current && queues::is_active_attempt(job.status)) {
      // The attempt holds its node's resources; an attempt on a node that
      // is no longer configured is reported lost by recover().
      const auto& a = *job.current;
      for (size_t k = 0; k < a.nodes.size() && k < job.node_resources.size(); ++k)
        for (auto& node : nodes_)
          if (node.spec.capacity.name == a.nodes[k] && k != static_cast<size_t>(job.main_node))
            node.take(job.id, job.node_resources[k],
                      k < a.node_cpus.size() ? a.node_cpus[k] : std::vector<int>{});
      for (size_t i = 0; i < nodes_.size(); ++i)
        if (nodes_[i].spec.capacity.name == job.current->node) {
          nodes_[i].take(job.id, job.resources, job.current->cpus, job.current->gpus);
          node_of_task_[job.current->task_id] = i;
        }
    }
    book_.restore(std::move(job));
  }
  return {};
}

void Controller::recover() {
  // Attempts that were STARTING / RUNNING when the previous helixd stopped:
  // each node's agent tells which exited, still run, were lost or never
  // started.
  std::map<workers::NodeAgent*, std::set<std::string>> tasks;
  std::vector<workers::ExecEvent> events;
  for (const Job* job : book_.active()) {
    const std::string& task = job->current->task_id;
    if (workers::NodeAgent* agent = agent_of_task(task)) {
      tasks[agent].insert(task);
    } else {
      workers::ExecEvent lost;
      lost.kind = workers::ExecEvent::Kind::kLost;
      lost.task_id = task;
      lost.reason = "node " + job->current->node + " is no longer part of this cluster";
      events.push_back(std::move(lost));
    }
  }
  // The embedded agent also clears records of tasks it no longer runs, so
  // it is asked even when it has none.
  if (embedded_) tasks.try_emplace(embedded_.get());
  for (auto& [agent, ids] : tasks) {
    auto answered = agent->recover(ids);
    events.insert(events.end(), answered.begin(), answered.end());
  }
  TimePoint now = clock_.now();
  for (const auto& ev : events) {
    switch (ev.kind) {
      case workers::ExecEvent::Kind::kStartFailed:
        // A claim (it never ran) does not use up an attempt; a recorded
        // exec error does.
        if (ev.reason == workers::kNeverStarted) {
          book_.attempt_never_started(ev.task_id);
        } else {
          on_exec_event(ev);
        }
        break;
      default:
        on_exec_event(ev);
    }
  }
  // Write the outcome before anything else happens.
  if (!store_->begin()) std::abort();
  book_.evaluate(now);
  auto effects = book_.take_effects();
  for (const auto& id : effects.dirty) {
    if (const Job* job = book_.find(id)) {
      if (!store_->put_job(*job)) std::abort();
    }
  }
  if (!store_->commit()) std::abort();
  for (const auto& id : effects.finished) book_.evict(id);
  forget_tasks(effects.forget_tasks);
  spdlog::info("recovered {} unfinished jobs ({} attempts were running)", book_.size(),
               events.size());
}

void Controller::post(Command command) {
  {
    std::lock_guard lock(mutex_);
    pending_.push_back(std::move(command));
  }
  wake_.notify_one();
}

template <class T>
Result<T> Controller::call(std::function<Result<T>()> work) {
  auto promise = std::make_shared<std::promise<Result<T>>>();
  auto future = promise->get_future();
  post([promise, work = std::move(work)]() -> Completion {
    auto result = std::make_shared<Result<T>>(work());
    return [promise, result] { promise->set_value(std::move(*result)); };
  });
  return future.get();
}

// controller_states.cpp and controller_tags.cpp call into the loop with these.
template Result<states::ApiReply> Controller::call<states::ApiReply>(
    std::function<Result<states::ApiReply>()> work);
template Result<nlohmann::json> Controller::call<nlohmann::json>(
    std::function<Result<nlohmann::json>()> work);

void Controller::run_loop() {
  for (;;) {
    std::vector<Command> commands;
    {
      std::unique_lock lock(mutex_);
      auto deadline = book_.next_deadline();
      if (auto wake = executions_->next_wake(); wake && (!deadline || *wake < *deadline))
        deadline = wake;
      auto ready = [&] { return stopping_ || !pending_.empty(); };
      if (!finished_for_states_.empty()) {
        // Jobs of Step Functions tasks finished: run their executions now.
      } else if (deadline) {
        auto wait = *deadline - clock_.now();
        if (wait > Duration::zero()) wake_.wait_for(lock, wait, ready);
      } else {
        wake_.wait(lock, ready);
      }
      if (stopping_) return;
      if (pending_.size() <= kMaxCommandsPerIteration) {
        commands.swap(pending_);
      } else {
        commands.assign(std::make_move_iterator(pending_.begin()),
                        std::make_move_iterator(pending_.begin() + kMaxCommandsPerIteration));
        pending_.erase(pending_.begin(), pending_.begin() + kMaxCommandsPerIteration);
      }
    }
    iterate(std::move(commands));
  }
}

void Controller::iterate(std::vector<Command> commands) {
  if (auto ok = store_->begin(); !ok) {
    spdlog::critical("store: cannot begin a transaction: {}", ok.error().to_string());
    std::abort();
  }
  std::vector<Completion> completions;
  for (auto& command : commands) {
    if (auto done = command()) completions.push_back(std::move(done));
  }
  TimePoint now = clock_.now();
  // Executions first: the jobs their tasks submit are scheduled below and
  // written in this same transaction.
  step_states(now);
  book_.evaluate(now);
  schedule(now);
  auto effects = book_.take_effects();
  for (const auto& id : effects.dirty) {
    const Job* job = book_.find(id);
    if (!job) continue;
    if (auto ok = store_->put_job(*job); !ok) {
      spdlog::critical("store: cannot write job {}: {}", id, ok.error().to_string());
      std::abort();
    }
  }
  write_states_changes();
  if (auto ok = store_->commit(); !ok) {
    // The in-memory model is ahead of the store: restart from the store
    // rather than serve state that was never durable.
    spdlog::critical("store: commit failed: {}", ok.error().to_string());
    std::abort();
  }
  executions_->forget_closed();
  note_finished_for_states(effects.finished);
  for (const auto& id : effects.finished) book_.evict(id);
  for (auto& done : completions) done();
  {
    std::lock_guard lock(mutex_);
    ++generation_;
  }
  committed_.notify_all();
  for (const auto& t : effects.terminate_tasks)
    if (auto* agent = agent_of_task(t)) agent->terminate(t);
  for (const auto& t : effects.kill_tasks)
    if (auto* agent = agent_of_task(t)) agent->kill(t);
  for (const auto& id : effects.launch) launch(id);
  // Cleanup last: the records and cgroups of ended attempts can wait, the
  // jobs placed on the resources they gave back should not.
  forget_tasks(effects.forget_tasks);
}

void Controller::forget_tasks(const std::vector<std::string>& tasks) {
  for (const auto& t : tasks) {
    if (auto* agent = agent_of_task(t)) agent->forget(t);
    node_of_task_.erase(t);
  }
}

std::vector<const Job*> Controller::fair_share_order(TimePoint now) {
  std::vector<const Job*> jobs = book_.runnable();
  // Usage accrues per policy in whole seconds: what each share runs now.
  int64_t dt = std::chrono::duration_cast<std::chrono::seconds>(now - usage_clock_).count();
  if (usage_clock_ == TimePoint{}) dt = 0;
  if (dt > 0 || usage_clock_ == TimePoint{}) usage_clock_ = now;
  for (const auto& [name, policy] : policies_) {
    std::map<std::string, double> weights;
    for (const auto& w : policy.share_distribution) weights[w.share_identifier] = w.weight_factor;
    auto it = fair_shares_.find(name);
    if (it == fair_shares_.end() || it->second.decay_seconds() != policy.share_decay_seconds)
      it = fair_shares_
               .insert_or_assign(name, scheduler::FairShare(policy.share_decay_seconds, weights))
               .first;
    std::map<std::string, int64_t> running;
    for (const Job* job : book_.active()) {
      auto q = queues_.find(job->queue);
      if (q != queues_.end() && q->second.scheduling_policy == name && job->share_identifier)
        running[*job->share_identifier] += job->resources.vcpus;
    }
    for (const auto& [share, vcpus] : running) it->second.set_running(share, vcpus);
    if (dt > 0) it->second.advance(dt);
  }
  // Each fair-share queue's slots in the priority order are filled with its
  // jobs in fair-share order (AWS: share with the lowest weighted usage
  // first); FIFO queues keep their order.
  std::map<std::string, std::vector<size_t>> slots;
  for (size_t i = 0; i < jobs.size(); ++i) {
    auto q = queues_.find(jobs[i]->queue);
    if (q != queues_.end() && q->second.scheduling_policy &&
        fair_shares_.count(*q->second.scheduling_policy))
      slots[jobs[i]->queue].push_back(i);
  }
  for (const auto& [queue, positions] : slots) {
    std::vector<scheduler::OrderKey> keys;
    for (size_t k = 0; k < positions.size(); ++k) {
      const Job* job = jobs[positions[k]];
      keys.push_back({k, 0, job->scheduling_priority.value_or(0), job->sequence,
                      job->share_identifier.value_or(""), job->resources.vcpus});
    }
    const auto& fair = fair_shares_.at(*queues_.at(queue).scheduling_policy);
    std::vector<const Job*> reordered;
    for (uint64_t k : fair.order(keys)) reordered.push_back(jobs[positions[k]]);
    for (size_t k = 0; k < positions.size() && k < reordered.size(); ++k)
      jobs[positions[k]] = reordered[k];
  }
  return jobs;
}

namespace {

// The vCPUs a job holds while it runs: a multi-node job's on every node.
int64_t vcpus_held(const Job& job) {
  if (!job.is_multinode()) return job.resources.vcpus;
  int64_t sum = 0;
  for (const auto& r : job.node_resources) sum += r.vcpus;
  return sum;
}

}  // namespace

std::map<std::string, scheduler::ShareReservation> Controller::share_reservations() const {
  std::map<std::string, scheduler::ShareReservation> out;
  for (const auto& [name, queue] : queues_) {
    if (!queue.scheduling_policy) continue;
    auto policy = policies_.find(*queue.scheduling_policy);
    if (policy == policies_.end() || policy->second.compute_reservation <= 0) continue;
    // AWS reserves a share of the compute environments' maximum vCPUs: here
    // the vCPUs of the nodes that are up in the queue's enabled ones.
    int64_t max_vcpus = 0;
    for (const auto& node : nodes_) {
      if (node.down) continue;
      bool serves = false;
      for (const auto& o : queue.compute_environment_order) {
        auto ce = compute_environments_.find(o.compute_environment);
        serves = serves || (ce != compute_environments_.end() && ce->second.enabled &&
                            (node.spec.compute_environment.empty() ||
                             node.spec.compute_environment == o.compute_environment));
      }
      if (serves) max_vcpus += node.spec.capacity.vcpus;
    }
    int64_t used = 0;
    for (const Job* job : book_.active())
      if (job->queue == name) used += vcpus_held(*job);
    out.emplace(name, scheduler::ShareReservation(
                          max_vcpus, static_cast<int>(policy->second.compute_reservation),
                          static_cast<int>(book_.active_shares(name)), used));
  }
  return out;
}

void Controller::schedule(TimePoint now) {
  // Attempts that ended in this iteration give their resources back before
  // anything is placed.
  int64_t free_vcpus = 0;
  for (auto& node : nodes_) {
    for (const auto& holder : node.ledger.holders()) {
      const Job* held = book_.find(holder);
      if (!held || !queues::is_active_attempt(held->status)) node.give_back(holder);
    }
    if (!node.down) free_vcpus += node.ledger.free_vcpus();
  }
  struct Placement {
    std::string job_id;
    std::string ce;
    size_t node;
    std::vector<size_t> gang;  // multi-node jobs: the node of each node index
  };
  std::vector<Placement> placements;
  std::vector<std::pair<std::string, std::string>> reasons;
  std::vector<std::pair<std::string, std::string>> refused;
  // Jobs that wait get a reason with every node's numbers, for the first
  // kExplained of them in order: enough for `helix describe` of what is
  // near the front, without rewriting a 10,000-job queue each iteration.
  constexpr int kExplained = 100;
  int explained = 0;
  // EASY backfilling, one reservation: the first job that fits some node
  // but not now is the head; it gets the earliest time (the shadow) at which
  // running jobs, ending by their attemptDurationSeconds, leave it room on
  // one node. A later job may start now only if it will have ended by the
  // shadow, or if the head still fits at the shadow beside it; a job without
  // attemptDurationSeconds is taken to run forever, so it never delays the
  // reservation. Running jobs without a timeout never end in this
  // reckoning: when no shadow exists, there is no reservation.
  struct Reservation {
    std::string head;
    size_t node = 0;
    TimePoint shadow{};
    scheduler::NodeLedger at_shadow;  // the node's ledger at the shadow, head excluded
  };
  std::optional<Reservation> reservation;
  auto share_caps = share_reservations();
  // Whether computeReservation lets `job` start now; if not, says why.
  auto within_share_cap = [&](const Job& job) {
    auto cap = share_caps.find(job.queue);
    if (cap == share_caps.end() || cap->second.admits(vcpus_held(job))) return true;
    if (explained < kExplained) {
      reasons.emplace_back(job.id, "CAPACITY:INSUFFICIENT_INSTANCE_CAPACITY - " +
                                       cap->second.why_not(vcpus_held(job)));
      ++explained;
    }
    return false;
  };
  auto take_share_cap = [&](const Job& job) {
    if (auto cap = share_caps.find(job.queue); cap != share_caps.end())
      cap->second.take(vcpus_held(job));
  };
  auto expected_end = [&](const Job& j) -> std::optional<TimePoint> {
    if (!j.timeout_seconds) return std::nullopt;
    TimePoint start = j.current && j.current->started_at ? *j.current->started_at : now;
    return start + std::chrono::seconds(*j.timeout_seconds);
  };
  auto reserve_for = [&](const Job& head, const std::vector<std::pair<size_t, std::string>>& on) {
    for (const auto& [i, ce] : on) {
      scheduler::NodeLedger future = nodes_[i].ledger;
      std::vector<std::pair<TimePoint, std::string>> ends;
      for (const auto& holder : future.holders())
        if (const Job* r = book_.find(holder))
          if (auto end = expected_end(*r)) ends.emplace_back(*end, holder);
      std::sort(ends.begin(), ends.end());
      for (const auto& [end, holder] : ends) {
        future.release(holder);
        if (future.fits_now(head.resources) &&
            (!reservation || std::max(end, now) < reservation->shadow))
          reservation = Reservation{head.id, i, std::max(end, now), future};
        if (future.fits_now(head.resources)) break;
      }
    }
  };
  // May `job` start on node i now without delaying the reservation?
  auto respects_reservation = [&](const Job& job, size_t i) {
    if (!reservation || reservation->node != i) return true;
    auto end = expected_end(job);
    if (end && *end <= reservation->shadow) return true;
    scheduler::NodeLedger with = reservation->at_shadow;
    if (!with.fits_now(job.resources)) return false;
    with.reserve(job.id, job.resources);
    const Job* head = book_.find(reservation->head);
    if (!head || !with.fits_now(head->resources)) return false;
    reservation->at_shadow = std::move(with);
    return true;
  };
  auto consider = [&](const Job& job) {
    if (free_vcpus <= 0 && explained >= kExplained) return false;  // every node is full
    auto q = queues_.find(job.queue);
    if (q == queues_.end()) {
      reasons.emplace_back(job.id, "ACTION_REQUIRED - job queue " + job.queue + " was deleted");
      return true;
    }
    // Nodes of the queue's enabled compute environments, in its order.
    std::vector<std::pair<size_t, std::string>> candidates;
    for (const auto& o : q->second.compute_environment_order) {
      auto it = compute_environments_.find(o.compute_environment);
      if (it == compute_environments_.end() || !it->second.enabled) continue;
      for (size_t i = 0; i < nodes_.size(); ++i)
        if (!nodes_[i].down && (nodes_[i].spec.compute_environment.empty() ||
                                nodes_[i].spec.compute_environment == o.compute_environment))
          candidates.emplace_back(i, o.compute_environment);
    }
    if (candidates.empty()) {
      reasons.emplace_back(job.id,
                           "CAPACITY:INSUFFICIENT_INSTANCE_CAPACITY - no compute "
                           "environment of job queue " +
                               job.queue + " is ENABLED with a node that is up");
      return true;
    }
    if (job.is_multinode()) {
      // A gang: one distinct node per node index, all at once or none
      // (largest requests first, each on the first candidate it fits).
      std::vector<size_t> order(job.node_resources.size());
      for (size_t k = 0; k < order.size(); ++k) order[k] = k;
      std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
        return job.node_resources[a].vcpus > job.node_resources[b].vcpus;
      });
      auto assign = [&](bool now_only) {
        std::vector<size_t> gang(order.size(), nodes_.size());
        std::set<size_t> taken;
        for (size_t k : order) {
          for (const auto& [i, ce] : candidates) {
            if (taken.count(i)) continue;
            const auto& want = job.node_resources[k];
            bool ok = now_only ? nodes_[i].ledger.fits_now(want)
                               : !nodes_[i].ledger.never_fits(want).has_value();
            if (ok) {
              gang[k] = i;
              taken.insert(i);
              break;
            }
          }
          if (gang[k] == nodes_.size()) return std::vector<size_t>{};
        }
        return gang;
      };
      if (assign(false).empty()) {
        std::string reason = "MISCONFIGURATION:JOB_RESOURCE_REQUIREMENT - needs " +
                             std::to_string(order.size()) + " nodes, " +
                             std::to_string(candidates.size()) +
                             " are up in its compute environments and too few could ever fit "
                             "its node ranges";
        if (q->second.time_limit_for(reason)) {
          reasons.emplace_back(job.id, reason);
        } else {
          refused.emplace_back(job.id, reason);
        }
        return true;
      }
      auto gang = assign(true);
      if (gang.empty()) return true;  // not now
      if (!within_share_cap(job)) return true;
      take_share_cap(job);
      for (size_t k = 0; k < gang.size(); ++k) {
        nodes_[gang[k]].take(job.id, job.node_resources[k]);
        free_vcpus -= job.node_resources[k].vcpus;
      }
      size_t main = gang[static_cast<size_t>(job.main_node)];
      placements.push_back({job.id, candidates.front().second, main, gang});
      return true;
    }
    std::string never;
    bool could_fit = false;
    // Best fit across nodes (NodeLedger::left_after), the first listed of
    // equals.
    std::optional<std::pair<size_t, std::string>> best;
    std::pair<int64_t, int64_t> best_left;
    for (const auto& [i, ce] : candidates) {
      auto why = nodes_[i].ledger.never_fits(job.resources);
      if (why) {
        never += (never.empty() ? "" : "; ") + *why;
        continue;
      }
      could_fit = true;
      if (nodes_[i].ledger.fits_now(job.resources) && respects_reservation(job, i)) {
        const auto left = nodes_[i].ledger.left_after(job.resources);
        if (!best || left < best_left) {
          best = {i, ce};
          best_left = left;
        }
      }
    }
    if (best && !within_share_cap(job)) return true;
    if (best) {
      take_share_cap(job);
      nodes_[best->first].take(job.id, job.resources);
      free_vcpus -= job.resources.vcpus;
      placements.push_back({job.id, best->second, best->first, {}});
      return true;
    }
    // A job its queue's computeReservation holds back gets no reservation:
    // the nodes would be kept for a start the cap may still refuse.
    const auto cap = share_caps.find(job.queue);
    const bool capped = cap != share_caps.end() && !cap->second.admits(vcpus_held(job));
    if (could_fit && !reservation && !capped) reserve_for(job, candidates);
    if (could_fit && explained < kExplained) {
      // It fits some node, just not now: say what each node lacks. The AWS
      // code lets a jobStateTimeLimitAction cancel a job that waits too long.
      std::string why;
      for (const auto& [i, ce] : candidates)
        if (auto lack = nodes_[i].ledger.not_now(job.resources))
          why += (why.empty() ? "" : "; ") + *lack;
      if (why.empty() && reservation)
        why = "starting now would delay job " + reservation->head + ", reserved on " +
              nodes_[reservation->node].spec.capacity.name + " from " +
              format_iso8601(reservation->shadow) + " (EASY backfilling)";
      reasons.emplace_back(job.id, "CAPACITY:INSUFFICIENT_INSTANCE_CAPACITY - " + why);
      ++explained;
    }
    if (!could_fit) {
      // No node could ever run it. As Slurm refuses such a job at once,
      // helix fails it, unless its queue asks for AWS's behaviour by giving
      // a jobStateTimeLimitAction for this reason: then it waits RUNNABLE
      // until that action cancels it. Either way it blocks nobody.
      std::string reason = "MISCONFIGURATION:JOB_RESOURCE_REQUIREMENT - " + never;
      if (q->second.time_limit_for(reason)) {
        reasons.emplace_back(job.id, reason);
      } else {
        refused.emplace_back(job.id, reason);
      }
    }
    return true;
  };
  if (policies_.empty()) {
    // Every queue is FIFO: the book's order, walked only as far as a pass
    // needs (a full node stops it after kExplained waiting jobs, however
    // deep the queue). No share usage to accrue.
    usage_clock_ = TimePoint{};
    book_.for_each_runnable(consider);
  } else {
    for (const Job* job : fair_share_order(now))
      if (!consider(*job)) break;
  }
  for (const auto& [id, reason] : reasons) {
    const Job* job = book_.find(id);
    std::optional<Duration> limit;
    if (auto q = queues_.find(job->queue); q != queues_.end())
      if (const auto* action = q->second.time_limit_for(reason))
        limit = std::chrono::seconds(action->max_time_seconds);
    book_.set_waiting_reason(id, reason, now, limit);
  }
  for (const auto& [id, reason] : refused) book_.refuse(id, reason, now);
  for (const auto& p : placements) {
    std::vector<std::string> gang_nodes;
    std::vector<std::vector<int>> gang_cpus;
    for (size_t i : p.gang) {
      gang_nodes.push_back(nodes_[i].spec.capacity.name);
      gang_cpus.push_back(nodes_[i].ledger.pus_of(p.job_id));
    }
    const auto* where = nodes_[p.node].packer.held(p.job_id);
    book_.place(p.job_id, nodes_[p.node].spec.capacity.name, p.ce, log_dir(), now,
                nodes_[p.node].ledger.pus_of(p.job_id),
                where ? where->numa_nodes : std::vector<int>{}, std::move(gang_nodes),
                std::move(gang_cpus), where ? where->gpus : std::vector<int>{});
    node_of_task_[book_.find(p.job_id)->current->task_id] = p.node;
  }
}

void Controller::launch(const std::string& job_id) {
  const Job* job = book_.find(job_id);
  if (!job || !job->current || job->status != JobStatus::kStarting) return;
  const auto& attempt = *job->current;
  workers::LaunchSpec spec;
  spec.task_id = attempt.task_id;
  spec.argv = job->container.command;
  spec.log_path = attempt.log_path;
  spec.cpus = attempt.cpus;
  spec.numa_nodes = attempt.numa_nodes;
  // A job that asked for no memory gets no limit (the shim itself could
  // not live in a cgroup of 0 bytes).
  if (job->resources.memory_mib > 0) spec.memory_limit_mib = job->resources.memory_mib;
  std::optional<UnixUser> user =
      job->run_as_user ? user_by_name(*job->run_as_user) : user_by_uid(job->owner.uid);
  if (options_.switch_users && user) {
    spec.uid = user->uid;
    spec.gid = user->gid;
  }
  spec.working_dir = user && !user->home.empty() ? user->home : "/";
  if (::access(spec.working_dir.c_str(), X_OK) != 0) spec.working_dir = "/";
  std::vector<std::pair<std::string, std::string>> env = {
      {"PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"},
      {"HOME", spec.working_dir},
      {"USER", user ? user->name : job->owner.user},
      {"LOGNAME", user ? user->name : job->owner.user},
      {"SHELL", user ? user->shell : "/bin/sh"},
  };
  env = queues::merge_environment(env, job->container.environment);
  env.emplace_back("AWS_BATCH_JOB_ID", job->id);
  env.emplace_back("AWS_BATCH_JOB_ATTEMPT", std::to_string(attempt.number));
  env.emplace_back("AWS_BATCH_JQ_NAME", job->queue);
  env.emplace_back("AWS_BATCH_CE_NAME", attempt.compute_environment);
  if (!attempt.gpus.empty()) {
    // The GPUs it was given, as AWS Batch tells a GPU job; numbered in PCI
    // bus order, as hwloc lists them, so CUDA is told to count that way.
    std::string ids;
    for (int g : attempt.gpus) ids += (ids.empty() ? "" : ",") + std::to_string(g);
    env.emplace_back("NVIDIA_VISIBLE_DEVICES", ids);
    env.emplace_back("CUDA_VISIBLE_DEVICES", ids);
    env.emplace_back("CUDA_DEVICE_ORDER", "PCI_BUS_ID");
  }
  if (job->array_index) {
    env.emplace_back("AWS_BATCH_JOB_ARRAY_INDEX", std::to_string(*job->array_index));
    if (auto parent = book_.facts(job->parent_id); parent && parent->array_size)
      env.emplace_back("AWS_BATCH_JOB_ARRAY_SIZE", std::to_string(*parent->array_size));
  }
  if (job->container.image) {
    // "DIR[:TAG]": the tag follows the last ':' after the last '/'.
    const std::string& image = *job->container.image;
    auto colon = image.rfind(':');
    workers::ContainerLaunch c;
    if (colon != std::string::npos && colon > image.rfind('/')) {
      c.layout = image.substr(0, colon);
      c.tag = image.substr(colon + 1);
    } else {
      c.layout = image;
    }
    for (const auto& m : job->container.mounts)
      c.mounts.push_back(m.source_path + ":" + m.container_path + (m.read_only ? ":ro" : ":rw"));
    spec.container = std::move(c);
  }
  if (job->is_multinode()) {
    env.emplace_back("AWS_BATCH_JOB_NUM_NODES", std::to_string(job->node_containers.size()));
    env.emplace_back("AWS_BATCH_JOB_MAIN_NODE_INDEX", std::to_string(job->main_node));
    env.emplace_back("HELIX_HOSTFILE", options_.state_dir + "/mnp/" + attempt.task_id + ".hosts");
    // mpirun refuses root unless told; the job's own user is root here.
    if (!spec.uid || *spec.uid == 0) {
      env.emplace_back("OMPI_ALLOW_RUN_AS_ROOT", "1");
      env.emplace_back("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1");
    }
    spec.argv = multinode_command(*job, attempt, env);
    // The launcher is not bound: its ranks bind themselves per the rankfile.
    spec.cpus.clear();
    spec.memory_limit_mib.reset();
  }
  for (const auto& [k, v] : env) spec.env.push_back(k + "=" + v);
  if (auto* agent = agent_of_task(spec.task_id)) agent->launch(spec);
}

std::vector<std::string> Controller::multinode_command(
    const Job& job, const queues::Attempt& attempt,
    const std::vector<std::pair<std::string, std::string>>& env) {
  // One MPI rank per node index, bound by a rankfile to the PUs the node
  // gave it (real OS indexes: an emulated node maps its own). The main node
  // runs mpirun; the job ends when mpirun does, i.e. when every rank has.
  std::string dir = options_.state_dir + "/mnp";
  ::mkdir(dir.c_str(), 0755);
  std::string rankfile = dir + "/" + attempt.task_id + ".rankfile";
  std::string hostfile = dir + "/" + attempt.task_id + ".hosts";
  std::string main_host;
  std::ostringstream ranks, hosts;
  for (size_t k = 0; k < attempt.nodes.size(); ++k) {
    const NodeSpec* spec = nullptr;
    for (const auto& n : nodes_)
      if (n.spec.capacity.name == attempt.nodes[k]) spec = &n.spec;
    std::string host = spec && !spec->host.empty() ? spec->host : attempt.nodes[k];
    if (static_cast<int>(k) == job.main_node) main_host = host;
    std::string slots;
    for (int pu : k < attempt.node_cpus.size() ? attempt.node_cpus[k] : std::vector<int>{}) {
      int real = pu;
      if (spec) {
        const auto& pus = spec->capacity.pus;
        auto at = std::find(pus.begin(), pus.end(), pu);
        if (at != pus.end() && static_cast<size_t>(at - pus.begin()) < spec->real_pus.size())
          real = spec->real_pus[static_cast<size_t>(at - pus.begin())];
      }
      slots += (slots.empty() ? "" : ",") + std::to_string(real);
    }
    ranks << "rank " << k << "=" << host << " slot=" << slots << "\n";
    hosts << host << "\n";
  }
  std::ofstream(rankfile) << ranks.str();
  std::ofstream(hostfile) << hosts.str();
  std::vector<std::string> argv = {"mpirun", "--oversubscribe",          "--rankfile", rankfile,
                                   "--mca",  "rmaps_rank_file_physical", "1"};
  for (const auto& [name, value] : env) argv.insert(argv.end(), {"-x", name});
  // Consecutive node indexes with the same command form one MPMD segment.
  // Each rank learns its index from OpenMPI's rank (they are the same).
  const std::string wrapper =
      "export AWS_BATCH_JOB_NODE_INDEX=$OMPI_COMM_WORLD_RANK; "
      "if [ \"$OMPI_COMM_WORLD_RANK\" != " +
      std::to_string(job.main_node) +
      " ]; then export AWS_BATCH_JOB_MAIN_NODE_PRIVATE_IPV4_ADDRESS=" + main_host +
      "; fi; exec \"$@\"";
  size_t k = 0;
  while (k < job.node_containers.size()) {
    size_t end = k + 1;
    while (end < job.node_containers.size() &&
           job.node_containers[end].command == job.node_containers[k].command &&
           job.node_containers[end].environment == job.node_containers[k].environment)
      ++end;
    if (k > 0) argv.push_back(":");
    argv.insert(argv.end(), {"-np", std::to_string(end - k)});
    for (const auto& [name, value] : job.node_containers[k].environment)
      argv.insert(argv.end(), {"-x", name + "=" + value});
    argv.insert(argv.end(), {"sh", "-c", wrapper, "helix-node"});
    argv.insert(argv.end(), job.node_containers[k].command.begin(),
                job.node_containers[k].command.end());
    k = end;
  }
  return argv;
}

void Controller::on_exec_event(const workers::ExecEvent& ev) {
  TimePoint now = clock_.now();
  switch (ev.kind) {
    case workers::ExecEvent::Kind::kStarted:
      book_.attempt_running(ev.task_id, ev.started_at == TimePoint{} ? now : ev.started_at);
      break;
    case workers::ExecEvent::Kind::kExited: {
      queues::ExitReport r;
      r.exit_code = ev.exit_code;
      r.term_signal = ev.term_signal;
      if (ev.started_at != TimePoint{}) r.started_at = ev.started_at;
      r.user_seconds = ev.usage.user_seconds;
      r.system_seconds = ev.usage.system_seconds;
      r.max_rss_kib = ev.usage.max_rss_kib;
      r.oom_killed = ev.oom_killed;
      book_.attempt_exited(ev.task_id, r, ev.ended_at == TimePoint{} ? now : ev.ended_at);
      break;
    }
    case workers::ExecEvent::Kind::kStartFailed:
      book_.attempt_start_failed(ev.task_id, ev.reason, now);
      break;
    case workers::ExecEvent::Kind::kLost:
      book_.attempt_lost(ev.task_id, now);
      break;
  }
}

bool Controller::wait_for_commit(uint64_t* generation,
                                 std::chrono::steady_clock::time_point deadline) {
  std::unique_lock lock(mutex_);
  committed_.wait_until(
      lock, deadline, [&] { return generation_ != *generation || stopping_ || waiters_released_; });
  *generation = generation_;
  return !stopping_ && !waiters_released_;
}

void Controller::release_waiters() {
  {
    std::lock_guard lock(mutex_);
    waiters_released_ = true;
  }
  committed_.notify_all();
}

uint64_t Controller::generation() const {
  std::lock_guard lock(mutex_);
  return generation_;
}

std::optional<StoredUser> Controller::user_of_key(const std::string& key) const {
  std::lock_guard lock(users_mutex_);
  auto it = users_.find(key);
  if (it == users_.end()) return std::nullopt;
  return it->second;
}

Result<void> Controller::require_admin(const Identity& caller, const std::string& action) const {
  if (caller.admin) return {};
  return fail(
      Error::permission_denied("only root may " + action + " (you are " + caller.user + ")"));
}

const queues::JobDefinition* Controller::find_definition(const std::string& name,
                                                         std::optional<int> revision) const {
  auto it = definitions_.find(name);
  if (it == definitions_.end()) return nullptr;
  if (revision) {
    for (const auto& d : it->second)
      if (d.revision == *revision) return &d;
    return nullptr;
  }
  for (auto d = it->second.rbegin(); d != it->second.rend(); ++d)
    if (d->active) return &*d;
  return nullptr;
}

// ---- requests (each runs on the loop thread, inside its transaction) ----

Result<json> Controller::submit_job(queues::SubmitRequest request, const Identity& caller) {
  return call<json>([this, request = std::move(request), caller]() -> Result<json> {
    return submit_on_loop(request, caller);
  });
}

Result<json> Controller::submit_on_loop(const queues::SubmitRequest& request,
                                        const Identity& caller) {
  {
    auto q = queues_.find(request.job_queue);
    if (q == queues_.end())
      return fail(
          Error::invalid("jobQueue", "Job Queue " + request.job_queue + " does not exist."));
    if (!q->second.enabled)
      return fail(Error::invalid(
          "jobQueue", "Job Queue " + request.job_queue + " is DISABLED and accepts no new jobs"));
    auto ref = queues::parse_definition_ref(request.job_definition);
    if (!ref) return fail(ref.error());
    const queues::JobDefinition* def = find_definition(ref->name, ref->revision);
    if (!def)
      return fail(Error::invalid(
          "jobDefinition", "JobDefinition " + request.job_definition +
                               (ref->revision ? " does not exist" : " has no ACTIVE revision")));
    if (!def->active)
      return fail(Error::invalid("jobDefinition",
                                 "JobDefinition " +
                                     options_.arns.job_definition(def->name, def->revision) +
                                     " is not in ACTIVE status"));
    if (def->container.user && !caller.admin && *def->container.user != caller.user)
      return fail(Error::invalid("jobDefinition", "definition " + def->name + " runs as user " +
                                                      *def->container.user +
                                                      "; only root may submit it"));
    std::map<std::string, std::optional<int>> sizes;
    Problems missing;
    for (size_t i = 0; i < request.depends_on.size(); ++i) {
      const auto& d = request.depends_on[i];
      if (d.job_id.empty()) continue;
      auto facts = book_.facts(d.job_id);
      if (!facts) {
        missing.add("dependsOn[" + std::to_string(i) + "].jobId",
                    "job " + d.job_id + " does not exist");
        continue;
      }
      sizes[d.job_id] = facts->array_size;
    }
    if (!missing.empty()) return fail(missing.to_error());
    std::string id = make_uuid(rng_);
    auto jobs = queues::resolve_submission(request, *def, q->second,
                                           queues::Owner{caller.uid, caller.gid, caller.user}, id,
                                           clock_.now(), sizes);
    if (!jobs) return fail(jobs.error());
    if (const auto& share = request.share_identifier;
        share && !book_.share_active(q->second.name, *share) &&
        book_.active_shares(q->second.name) >= options_.limits.max_active_shares_per_queue)
      return fail(Error::invalid("shareIdentifier",
                                 "job queue " + q->second.name + " already has " +
                                     std::to_string(options_.limits.max_active_shares_per_queue) +
                                     " active share identifiers, the most allowed; " + *share +
                                     " would be one more"));
    if (auto ok = book_.add(std::move(*jobs)); !ok) return fail(ok.error());
    return json{{"jobArn", options_.arns.job(id)}, {"jobName", request.job_name}, {"jobId", id}};
  }
}

Result<json> Controller::cancel_job(const std::string& job_id, const std::string& reason,
                                    const Identity& caller) {
  return call<json>([=, this]() -> Result<json> {
    auto ok = book_.cancel(job_id, reason, {caller.uid, caller.admin}, clock_.now());
    if (!ok) return fail(ok.error());
    return json::object();
  });
}

Result<json> Controller::terminate_job(const std::string& job_id, const std::string& reason,
                                       const Identity& caller) {
  return call<json>([=, this]() -> Result<json> {
    auto ok = book_.terminate(job_id, reason, {caller.uid, caller.admin}, clock_.now());
    if (!ok) return fail(ok.error());
    return json::object();
  });
}

Result<json> Controller::register_job_definition(const json& body, const Identity& caller) {
  (void)caller;  // any user may register definitions; `user` is checked at submit
  auto parsed = queues::parse_job_definition(body, options_.limits);
  if (!parsed) return fail(parsed.error());
  return call<json>([this, def = std::move(*parsed)]() mutable -> Result<json> {
    auto& revisions = definitions_[def.name];
    def.revision = revisions.empty() ? 1 : revisions.back().revision + 1;
    if (auto ok = store_->put_definition(def); !ok) return fail(ok.error());
    revisions.push_back(def);
    return json{{"jobDefinitionName", def.name},
                {"jobDefinitionArn", options_.arns.job_definition(def.name, def.revision)},
                {"revision", def.revision}};
  });
}

Result<json> Controller::deregister_job_definition(const std::string& text,
                                                   const Identity& caller) {
  auto ref = queues::parse_definition_ref(text);
  if (!ref) return fail(ref.error());
  if (!ref->revision)
    return fail(Error::invalid("jobDefinition",
                               "\"" + text + "\" must name a revision (name:revision or an ARN)"));
  (void)caller;
  return call<json>([this, ref = *ref, text]() -> Result<json> {
    auto it = definitions_.find(ref.name);
    if (it != definitions_.end()) {
      for (auto& d : it->second) {
        if (d.revision != *ref.revision) continue;
        queues::JobDefinition updated = d;
        updated.active = false;
        if (auto ok = store_->put_definition(updated); !ok) return fail(ok.error());
        d.active = false;
        return json::object();
      }
    }
    return fail(Error::invalid("jobDefinition", "JobDefinition " + text + " does not exist"));
  });
}

Result<json> Controller::create_compute_environment(const json& body, const Identity& caller) {
  if (auto ok = require_admin(caller, "create compute environments"); !ok) return fail(ok.error());
  auto ce = queues::parse_create_compute_environment(body, options_.limits);
  if (!ce) return fail(ce.error());
  return call<json>([this, ce = std::move(*ce)]() -> Result<json> {
    if (compute_environments_.count(ce.name))
      return fail(Error::invalid("computeEnvironmentName",
                                 "compute environment " + ce.name + " already exists"));
    if (auto ok = store_->put_compute_environment(ce); !ok) return fail(ok.error());
    compute_environments_[ce.name] = ce;
    return json{{"computeEnvironmentName", ce.name},
                {"computeEnvironmentArn", options_.arns.compute_environment(ce.name)}};
  });
}

Result<json> Controller::update_compute_environment(const json& body, const Identity& caller) {
  if (auto ok = require_admin(caller, "update compute environments"); !ok) return fail(ok.error());
  std::string name =
      queues::name_from_arn_or_name(body.value("computeEnvironment", ""), "compute-environment");
  return call<json>([this, body, name]() -> Result<json> {
    auto it = compute_environments_.find(name);
    if (it == compute_environments_.end())
      return fail(
          Error::invalid("computeEnvironment", "compute environment " + name + " does not exist"));
    auto updated = queues::apply_compute_environment_update(it->second, body);
    if (!updated) return fail(updated.error());
    if (auto ok = store_->put_compute_environment(*updated); !ok) return fail(ok.error());
    it->second = *updated;
    return json{{"computeEnvironmentName", name},
                {"computeEnvironmentArn", options_.arns.compute_environment(name)}};
  });
}

Result<json> Controller::delete_compute_environment(const std::string& text,
                                                    const Identity& caller) {
  if (auto ok = require_admin(caller, "delete compute environments"); !ok) return fail(ok.error());
  std::string name = queues::name_from_arn_or_name(text, "compute-environment");
  return call<json>([this, name]() -> Result<json> {
    auto it = compute_environments_.find(name);
    if (it == compute_environments_.end())
      return fail(
          Error::invalid("computeEnvironment", "compute environment " + name + " does not exist"));
    if (it->second.enabled)
      return fail(
          Error::invalid("computeEnvironment",
                         "compute environment " + name + " must be DISABLED before it is deleted"));
    for (const auto& [qname, q] : queues_)
      for (const auto& o : q.compute_environment_order)
        if (o.compute_environment == name)
          return fail(Error::invalid("computeEnvironment", "compute environment " + name +
                                                               " is used by job queue " + qname));
    if (auto ok = store_->delete_compute_environment(name); !ok) return fail(ok.error());
    compute_environments_.erase(it);
    return json::object();
  });
}

namespace {

Result<void> check_queue_refs(const queues::JobQueue& q,
                              const std::map<std::string, queues::ComputeEnvironment>& ces,
                              const std::map<std::string, queues::SchedulingPolicy>& policies) {
  Problems problems;
  for (size_t i = 0; i < q.compute_environment_order.size(); ++i) {
    const auto& name = q.compute_environment_order[i].compute_environment;
    if (!ces.count(name))
      problems.add("computeEnvironmentOrder[" + std::to_string(i) + "].computeEnvironment",
                   "compute environment " + name + " does not exist");
  }
  if (q.scheduling_policy && !policies.count(*q.scheduling_policy))
    problems.add("schedulingPolicyArn",
                 "scheduling policy " + *q.scheduling_policy + " does not exist");
  if (!problems.empty()) return fail(problems.to_error());
  return {};
}

}  // namespace

Result<json> Controller::create_job_queue(const json& body, const Identity& caller) {
  if (auto ok = require_admin(caller, "create job queues"); !ok) return fail(ok.error());
  auto q = queues::parse_create_job_queue(body, options_.limits);
  if (!q) return fail(q.error());
  return call<json>([this, q = std::move(*q)]() -> Result<json> {
    if (queues_.count(q.name))
      return fail(Error::invalid("jobQueueName", "job queue " + q.name + " already exists"));
    if (auto ok = check_queue_refs(q, compute_environments_, policies_); !ok)
      return fail(ok.error());
    if (auto ok = store_->put_queue(q); !ok) return fail(ok.error());
    queues_[q.name] = q;
    book_.set_queue_priority(q.name, q.priority);
    return json{{"jobQueueName", q.name}, {"jobQueueArn", options_.arns.job_queue(q.name)}};
  });
}

Result<json> Controller::update_job_queue(const json& body, const Identity& caller) {
  if (auto ok = require_admin(caller, "update job queues"); !ok) return fail(ok.error());
  std::string name = queues::name_from_arn_or_name(body.value("jobQueue", ""), "job-queue");
  return call<json>([this, body, name]() -> Result<json> {
    auto it = queues_.find(name);
    if (it == queues_.end())
      return fail(Error::invalid("jobQueue", "Job Queue " + name + " does not exist."));
    auto updated = queues::apply_job_queue_update(it->second, body, options_.limits);
    if (!updated) return fail(updated.error());
    if (auto ok = check_queue_refs(*updated, compute_environments_, policies_); !ok)
      return fail(ok.error());
    if (auto ok = store_->put_queue(*updated); !ok) return fail(ok.error());
    it->second = *updated;
    book_.set_queue_priority(name, updated->priority);
    return json{{"jobQueueName", name}, {"jobQueueArn", options_.arns.job_queue(name)}};
  });
}

Result<json> Controller::delete_job_queue(const std::string& text, const Identity& caller) {
  if (auto ok = require_admin(caller, "delete job queues"); !ok) return fail(ok.error());
  std::string name = queues::name_from_arn_or_name(text, "job-queue");
  return call<json>([this, name]() -> Result<json> {
    auto it = queues_.find(name);
    if (it == queues_.end())
      return fail(Error::invalid("jobQueue", "Job Queue " + name + " does not exist."));
    if (it->second.enabled)
      return fail(Error::invalid("jobQueue",
                                 "job queue " + name + " must be DISABLED before it is deleted"));
    size_t unfinished = 0;
    book_.for_each_runnable([&](const Job& j) {
      unfinished += j.queue == name;
      return true;
    });
    for (const Job* j : book_.active()) unfinished += j->queue == name;
    if (unfinished > 0)
      return fail(Error::invalid("jobQueue", "job queue " + name + " still has " +
                                                 std::to_string(unfinished) +
                                                 " unfinished jobs; terminate them first"));
    if (auto ok = store_->delete_queue(name); !ok) return fail(ok.error());
    queues_.erase(it);
    return json::object();
  });
}

Result<json> Controller::create_scheduling_policy(const json& body, const Identity& caller) {
  if (auto ok = require_admin(caller, "create scheduling policies"); !ok) return fail(ok.error());
  auto p = queues::parse_create_scheduling_policy(body, options_.limits);
  if (!p) return fail(p.error());
  return call<json>([this, p = std::move(*p)]() -> Result<json> {
    if (policies_.count(p.name))
      return fail(Error::invalid("name", "scheduling policy " + p.name + " already exists"));
    if (auto ok = store_->put_policy(p); !ok) return fail(ok.error());
    policies_[p.name] = p;
    return json{{"name", p.name}, {"arn", options_.arns.scheduling_policy(p.name)}};
  });
}

Result<json> Controller::update_scheduling_policy(const json& body, const Identity& caller) {
  if (auto ok = require_admin(caller, "update scheduling policies"); !ok) return fail(ok.error());
  std::string name = queues::name_from_arn_or_name(body.value("arn", ""), "scheduling-policy");
  return call<json>([this, body, name]() -> Result<json> {
    auto it = policies_.find(name);
    if (it == policies_.end())
      return fail(Error::invalid("arn", "scheduling policy " + name + " does not exist"));
    auto updated = queues::apply_scheduling_policy_update(it->second, body);
    if (!updated) return fail(updated.error());
    if (auto ok = store_->put_policy(*updated); !ok) return fail(ok.error());
    it->second = *updated;
    return json::object();
  });
}

Result<json> Controller::delete_scheduling_policy(const std::string& text, const Identity& caller) {
  if (auto ok = require_admin(caller, "delete scheduling policies"); !ok) return fail(ok.error());
  std::string name = queues::name_from_arn_or_name(text, "scheduling-policy");
  return call<json>([this, name]() -> Result<json> {
    if (!policies_.count(name))
      return fail(Error::invalid("arn", "scheduling policy " + name + " does not exist"));
    for (const auto& [qname, q] : queues_)
      if (q.scheduling_policy == name)
        return fail(
            Error::invalid("arn", "scheduling policy " + name + " is used by job queue " + qname));
    if (auto ok = store_->delete_policy(name); !ok) return fail(ok.error());
    policies_.erase(name);
    return json::object();
  });
}

Result<StoredUser> Controller::create_credentials(const std::string& user_name,
                                                  const Identity& caller) {
  std::string name = user_name.empty() ? caller.user : user_name;
  if (name != caller.user && !caller.admin)
    return fail(Error::permission_denied("only root may create credentials for another user"));
  auto user = user_by_name(name);
  if (!user) return fail(Error::invalid("userName", "no Unix user named " + name));
  return call<StoredUser>([this, u = *user]() -> Result<StoredUser> {
    protocol::SecureRng secure;
    auto keys = protocol::generate_credentials(secure);
    StoredUser stored{keys.access_key_id, keys.secret_access_key, u.uid, u.gid, u.name};
    if (auto ok = store_->put_user(stored); !ok) return fail(ok.error());
    std::lock_guard lock(users_mutex_);
    users_[stored.access_key_id] = stored;
    return stored;
  });
}

}  // namespace helix::controller
