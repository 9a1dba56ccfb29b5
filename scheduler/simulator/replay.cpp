#include "scheduler/simulator/replay.h"

#include <algorithm>
#include <charconv>
#include <queue>
#include <string>

#include "scheduler/core/policy/capacity.h"

namespace helix::scheduler {

std::vector<SimJob> prepare_jobs(const SwfTrace& trace, EstimateSource estimate, Overrun overrun) {
  std::vector<SwfRecord> records;
  records.reserve(trace.records.size());
  for (const auto& r : trace.records) {
    if (r.run_s == 0) continue;
    records.push_back(r);
  }
  std::stable_sort(records.begin(), records.end(),
                   [](const SwfRecord& a, const SwfRecord& b) { return a.job_id < b.job_id; });
  std::vector<SimJob> jobs;
  jobs.reserve(records.size());
  for (const auto& r : records) {
    SimJob job;
    job.id = static_cast<PolicyJobId>(jobs.size());
    job.submit_s = r.submit_s;
    job.run_s = r.run_s < 0 ? 10 : r.run_s;
    job.procs = std::max<int64_t>(std::max(r.allocated_procs, r.requested_procs), 1);
    // RLScheduler reads the request before repairing the run time: a job
    // with neither (both -1) keeps an estimate of -1.
    job.estimate_s = estimate == EstimateSource::kActual ? job.run_s
                     : r.requested_s == -1               ? r.run_s
                                                         : r.requested_s;
    if (overrun == Overrun::kKill) job.run_s = std::min(job.run_s, job.estimate_s);
    jobs.push_back(job);
  }
  return jobs;
}

Result<Machine> machine_for(const SwfTrace& trace, int64_t procs_override) {
  if (procs_override > 0) return Machine{procs_override, 1};
  if (!trace.max_nodes && !trace.max_procs)
    return fail(Error::invalid("MaxNodes",
                               "the SWF header has neither MaxNodes nor MaxProcs; "
                               "give --procs"));
  if (!trace.max_nodes) return Machine{*trace.max_procs, 1};
  const int64_t nodes = std::max<int64_t>(*trace.max_nodes, 1);
  const int64_t per = trace.max_procs ? std::max<int64_t>(*trace.max_procs / nodes, 1) : 1;
  return Machine{nodes, per};
}

ReplayMetrics replay_window(std::span<const SimJob> jobs, BackfillPolicy policy,
                            const Machine& machine) {
  ReplayMetrics m;
  if (jobs.empty()) return m;
  NodeCapacity capacity(machine.nodes, machine.procs_per_node);
  BackfillMemory memory;
  std::vector<QueuedJob> queue;  // FCFS order: (submit, arrival)
  std::vector<int64_t> queue_submit;
  std::vector<RunningJob> running;
  std::vector<size_t> running_index;  // job id (window-local) -> index in running
  struct Release {
    int64_t end;
    uint64_t seq;
    PolicyJobId id;
    bool operator>(const Release& o) const { return end != o.end ? end > o.end : seq > o.seq; }
  };
  std::priority_queue<Release, std::vector<Release>, std::greater<Release>> releases;
  const PolicyJobId base = jobs.front().id;
  running_index.assign(jobs.size(), 0);
  std::vector<char> started(jobs.size(), 0);
  uint64_t seq = 0;
  size_t next = 0;
  int64_t now = jobs.front().submit_s;
  const int64_t first_submit = now;
  int64_t last_end = now;
  double wait_sum = 0, bsld_sum = 0, work = 0;
  std::vector<Decision> decisions;

  auto local = [&](PolicyJobId id) { return static_cast<size_t>(id - base); };

  while (true) {
    if (!queue.empty()) {
      decisions = decide_backfill(policy, now, queue, running, capacity, memory);
      bool removed = false;
      for (const auto& d : decisions) {
        if (d.kind == DecisionKind::kNotNow) continue;
        const SimJob& job = jobs[local(d.id)];
        started[local(d.id)] = 1;
        removed = true;
        if (d.kind == DecisionKind::kNever) {
          ++m.never;
          continue;
        }
        if (d.backfilled) ++m.backfilled;
        const int64_t wait = now - job.submit_s;
        wait_sum += static_cast<double>(wait);
        m.max_wait_s = std::max(m.max_wait_s, static_cast<double>(wait));
        const double run = static_cast<double>(job.run_s);
        bsld_sum += std::max(1.0, (static_cast<double>(wait) + run) / std::max(run, 10.0));
        work += run * static_cast<double>(job.procs);
        ++m.jobs;
        running_index[local(d.id)] = running.size();
        running.push_back({d.id, now + job.estimate_s});
        releases.push({now + job.run_s, seq++, d.id});
      }
      if (removed) {
        size_t out = 0;
        for (size_t i = 0; i < queue.size(); ++i) {
          if (started[local(queue[i].id)]) continue;
          queue[out] = queue[i];
          queue_submit[out] = queue_submit[i];
          ++out;
        }
        queue.resize(out);
        queue_submit.resize(out);
      }
    }
    const bool has_arrival = next < jobs.size();
    if (has_arrival && (releases.empty() || jobs[next].submit_s <= releases.top().end)) {
      const SimJob& job = jobs[next++];
      now = std::max(now, job.submit_s);
      auto at = std::upper_bound(queue_submit.begin(), queue_submit.end(), job.submit_s);
      const auto offset = at - queue_submit.begin();
      queue_submit.insert(at, job.submit_s);
      queue.insert(queue.begin() + offset,
                   QueuedJob{job.id, PolicyRequest{job.procs}, job.estimate_s});
    } else if (!releases.empty()) {
      const Release r = releases.top();
      releases.pop();
      now = std::max(now, r.end);
      last_end = std::max(last_end, now);
      capacity.release(r.id);
      const size_t idx = running_index[local(r.id)];
      running_index[local(running.back().id)] = idx;
      running[idx] = running.back();
      running.pop_back();
    } else {
      break;
    }
  }
  if (m.jobs > 0) {
    m.mean_wait_s = wait_sum / static_cast<double>(m.jobs);
    m.mean_bsld = bsld_sum / static_cast<double>(m.jobs);
  }
  m.makespan_s = static_cast<double>(last_end - first_submit);
  const double area = static_cast<double>(machine.nodes * machine.procs_per_node) * m.makespan_s;
  m.utilisation = area > 0 ? work / area : 0;
  return m;
}

Result<ReplayMetrics> replay(std::span<const SimJob> jobs, std::span<const Window> windows,
                             BackfillPolicy policy, const Machine& machine) {
  std::vector<Window> all(windows.begin(), windows.end());
  if (all.empty()) all.push_back({0, jobs.size()});
  ReplayMetrics total;
  for (const auto& w : all) {
    if (w.start >= jobs.size())
      return fail(Error::invalid("windows", "window start " + std::to_string(w.start) +
                                                " is past the last job (" +
                                                std::to_string(jobs.size()) + " jobs)"));
    const size_t len = std::min(w.length, jobs.size() - w.start);
    const ReplayMetrics m = replay_window(jobs.subspan(w.start, len), policy, machine);
    total.jobs += m.jobs;
    total.never += m.never;
    total.backfilled += m.backfilled;
    total.utilisation += m.utilisation;
    total.mean_wait_s += m.mean_wait_s;
    total.mean_bsld += m.mean_bsld;
    total.max_wait_s = std::max(total.max_wait_s, m.max_wait_s);
    total.makespan_s += m.makespan_s;
  }
  const double n = static_cast<double>(all.size());
  total.utilisation /= n;
  total.mean_wait_s /= n;
  total.mean_bsld /= n;
  return total;
}

Result<std::vector<Window>> parse_windows(std::string_view text) {
  std::vector<Window> out;
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t comma = text.find(',', pos);
    if (comma == std::string_view::npos) comma = text.size();
    std::string_view item = text.substr(pos, comma - pos);
    const size_t colon = item.find(':');
    size_t start = 0, length = 0;
    auto bad = [&]() {
      return fail(Error::invalid("windows", "'" + std::string(item) + "' is not START:LEN"));
    };
    if (colon == std::string_view::npos) return bad();
    auto a = std::from_chars(item.data(), item.data() + colon, start);
    auto b = std::from_chars(item.data() + colon + 1, item.data() + item.size(), length);
    if (a.ec != std::errc() || a.ptr != item.data() + colon || b.ec != std::errc() ||
        b.ptr != item.data() + item.size() || length == 0)
      return bad();
    out.push_back({start, length});
    pos = comma + 1;
  }
  return out;
}

}  // namespace helix::scheduler
