// A job and its attempts: the state JobBook moves through the lifecycle and
// the store persists (batch-semantics.md sections 1-3, 12). Pure data plus
// its wire (JobDetail, JobSummary) and store forms.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/error.h"
#include "common/time.h"
#include "queues/job_definition.h"
#include "queues/job_status.h"
#include "queues/naming.h"
#include "queues/resources.h"
#include "queues/retry_strategy.h"

namespace helix::queues {

enum class DependencyType { kPlain, kNToN, kSequential };

struct Dependency {
  std::string job_id;  // empty for SEQUENTIAL
  DependencyType type = DependencyType::kPlain;
  bool operator==(const Dependency&) const = default;
};

// Who submitted a job: the Unix user it runs as unless the definition's
// `user` says otherwise (root only).
struct Owner {
  uint32_t uid = 0;
  uint32_t gid = 0;
  std::string user;
  bool operator==(const Owner&) const = default;
};

struct Attempt {
  int number = 1;
  std::string task_id;  // file-name safe, unique per attempt
  std::string node;
  std::vector<int> cpus;        // the PUs (OS indexes) the attempt is bound to; empty: unbound
  std::vector<int> numa_nodes;  // the NUMA nodes its memory is bound to
  std::vector<int> gpus;        // the node's GPUs (PCI order) it was given
  // Multi-node jobs: the node and PUs of each node index (node index i on
  // nodes[i]); `node` and `cpus` are the main node's.
  std::vector<std::string> nodes;
  std::vector<std::vector<int>> node_cpus;
  std::string compute_environment;
  std::string log_stream;  // <definition>/default/<task id>, as on AWS
  std::string log_path;
  std::optional<TimePoint> started_at;  // RUNNING time; none when it never ran
  std::optional<TimePoint> stopped_at;
  std::optional<int> exit_code;
  std::string reason;         // container.reason
  std::string status_reason;  // attempts[].statusReason
  double user_seconds = 0;
  double system_seconds = 0;
  int64_t max_rss_kib = 0;
  // Set while an attempt is being stopped (timeout or TerminateJob).
  bool timed_out = false;
  std::optional<TimePoint> kill_at;  // SIGKILL after the grace period
};

struct Job {
  std::string id;
  std::string name;
  std::string queue;
  std::string definition_name;
  int definition_revision = 0;
  Owner owner;
  std::optional<std::string> run_as_user;
  JobStatus status = JobStatus::kSubmitted;
  std::string status_reason;
  TimePoint created_at{};
  ContainerSpec container;  // resolved: command after substitution, merged environment
  ResourceRequest resources;
  std::map<std::string, std::string> parameters;  // merged
  RetryStrategy retry_strategy;
  std::optional<int64_t> timeout_seconds;
  std::map<std::string, std::string> tags;
  bool propagate_tags = false;
  std::optional<int64_t> scheduling_priority;
  std::optional<std::string> share_identifier;
  std::vector<Dependency> depends_on;  // as submitted
  // Exact job ids that must SUCCEED first (array children: the parent's
  // plain dependencies, their N_TO_N peers, the SEQUENTIAL predecessor).
  std::vector<std::string> wait_for;
  std::optional<int> array_size;   // array parents
  std::optional<int> array_index;  // array children
  std::string parent_id;           // array children
  // Array parents: children per status, in kAllJobStatuses order.
  std::array<int, 7> child_counts{};
  std::optional<TimePoint> child_counts_updated_at;
  std::vector<Attempt> attempts;   // finished attempts
  std::optional<Attempt> current;  // the STARTING / RUNNING attempt
  bool is_cancelled = false;
  bool is_terminated = false;
  std::optional<std::string> terminate_reason;  // TerminateJob of a running attempt
  std::vector<std::string> warnings;            // e.g. unresolved Ref:: placeholders
  uint64_t sequence = 0;                        // submission order, for FIFO
  // Placements so far: task ids stay unique when an attempt that never
  // started is placed again.
  int launches = 0;
  // Multi-node parallel jobs: the container and resources of each node
  // index (empty for single-node jobs) and which index is the main node.
  std::vector<ContainerSpec> node_containers;
  std::vector<ResourceRequest> node_resources;
  int main_node = 0;
  bool is_multinode() const { return !node_containers.empty(); }
  // RUNNABLE and blocked: since when for the current status_reason, and
  // when its queue's jobStateTimeLimitAction cancels it (if one applies).
  std::optional<TimePoint> waiting_since;
  std::optional<TimePoint> cancel_waiting_at;

  bool is_array_parent() const { return array_size.has_value(); }
  int next_attempt_number() const { return static_cast<int>(attempts.size()) + 1; }
  // startedAt / stoppedAt of the latest attempt.
  std::optional<TimePoint> started_at() const;
  std::optional<TimePoint> stopped_at() const;
};

// Store form: everything needed to rebuild the job after a restart.
nlohmann::json job_to_store(const Job& job);
Result<Job> job_from_store(const nlohmann::json& doc);

// DescribeJobs' JobDetail and ListJobs' JobSummary.
nlohmann::json job_to_detail(const Job& job, const ArnFormat& arns);
nlohmann::json job_to_summary(const Job& job, const ArnFormat& arns);

const char* dependency_type_name(DependencyType type);  // "" for plain

}  // namespace helix::queues
