// Job ordering within one queue: priority order and AWS Batch fair share.
// Pure.
//
// Priority order (FIFO queues): job queue priority (higher first), then
// schedulingPriority (higher first; FIFO queues pass 0 as AWS ignores it),
// then submission order (lower sequence first).
//
// Fair share (docs/batch-semantics.md section 8), helix's exact math:
//  - usage(share) is vCPU-seconds decayed exponentially with time constant
//    D = shareDecaySeconds (D = 0 means 600 s): on advancing by dt seconds,
//    usage *= exp(-dt / D), then running vCPUs * dt are added (trapezoid-
//    free: the vCPUs held during the step). Worked example: D = 600, a
//    share ran 4 vCPUs for 600 s from zero: 2400; after 600 s idle:
//    2400 * e^-1 = 882.9.
//  - weighted usage = usage * weightFactor; lower weight = more share.
//  - order: repeatedly take the share with the lowest weighted usage
//    (ties: share identifier, lexicographic); from it, its next job by
//    schedulingPriority (higher first) then submission order; that share's
//    weighted usage then grows by the job's vCPUs * weightFactor * D (its
//    expected use over one window), so shares interleave in proportion to
//    1/weight. Worked example: A weight 1, B weight 0.5, no usage, all jobs
//    1 vCPU, D = 600: A0 (A=600), B0 (B=300), B1 (B=600), A1 (ties: A first),
//    B2 ... i.e. B gets 2 jobs for each of A's.
//  - computeReservation r: reserved vCPUs = floor(max_vcpus *
//    (r/100)^active_shares), held back for shares not yet active: jobs of
//    active shares may not bring used vCPUs above max_vcpus - reserved.
//    Example: r = 50, max 100: 1 active share -> 50 held, 2 -> 25, 3 -> 12.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace helix::scheduler {

struct OrderKey {
  uint64_t id = 0;
  int64_t queue_priority = 0;
  int64_t scheduling_priority = 0;
  uint64_t submit_seq = 0;
  std::string share;  // shareIdentifier; empty in FIFO queues
  int64_t vcpus = 1;
};

// Priority order; returns ids.
std::vector<uint64_t> order_by_priority(std::vector<OrderKey> jobs);

struct ShareState {
  double usage = 0;  // decayed vCPU-seconds
  int64_t running_vcpus = 0;
};

class FairShare {
 public:
  FairShare(int64_t share_decay_seconds, std::map<std::string, double> weights);

  // weightFactor of a share: exact entry, else the longest "prefix*" entry,
  // else 1.0.
  double weight(const std::string& share) const;
  int64_t decay_seconds() const { return decay_; }

  void set_running(const std::string& share, int64_t vcpus);
  // Advances the decay by dt seconds (see header comment).
  void advance(int64_t dt_seconds);
  double usage(const std::string& share) const;
  double weighted_usage(const std::string& share) const;

  // Fair-share order of `jobs` (all of one queue).
  std::vector<uint64_t> order(const std::vector<OrderKey>& jobs) const;

 private:
  int64_t decay_;
  std::map<std::string, double> weights_;
  std::map<std::string, ShareState> shares_;
};

// floor(max_vcpus * (reservation/100)^active_shares); 0 when reservation 0.
int64_t reserved_vcpus(int64_t max_vcpus, int compute_reservation, int active_shares);

// computeReservation applied to one fair-share queue during a scheduling
// pass. A share is active while it has unfinished jobs, so every job the
// pass considers belongs to an active share and the cap binds them all:
// the queue's jobs may hold at most max_vcpus - reserved_vcpus(...) in all.
// The cap rises as shares become active (r = 50, 2 vCPUs: 1 vCPU with one
// active share, 2 with two), which is how a newcomer gets room at once.
class ShareReservation {
 public:
  ShareReservation(int64_t max_vcpus, int compute_reservation, int active_shares,
                   int64_t used_vcpus);

  int64_t cap() const { return max_vcpus_ - reserved_; }
  // May a job needing `vcpus` start now?
  bool admits(int64_t vcpus) const { return used_ + vcpus <= cap(); }
  // A job of the queue was placed in this pass.
  void take(int64_t vcpus) { used_ += vcpus; }
  // Why a job needing `vcpus` waits, with the numbers.
  std::string why_not(int64_t vcpus) const;

 private:
  int64_t max_vcpus_;
  int compute_reservation_;
  int active_shares_;
  int64_t reserved_;
  int64_t used_;
};

}  // namespace helix::scheduler
