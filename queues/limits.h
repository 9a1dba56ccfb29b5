// Limits the validators enforce. AWS Batch's values are the defaults ("AWS
// Batch service quotas", JobTimeout), so that a pipeline that works on helix
// also works on AWS; an admin may change the counts, never the wire shapes.
#pragma once

#include <cstddef>
#include <cstdint>

namespace helix::queues {

struct Limits {
  // JobTimeout.attemptDurationSeconds minimum. AWS: 60. Tests and sites
  // with short jobs may lower it (helixd --min-attempt-duration).
  int64_t min_attempt_duration_seconds = 60;
  size_t max_submit_payload_bytes = 30 * 1024;      // SubmitJob payload quota
  size_t max_definition_payload_bytes = 24 * 1024;  // job definition quota
  int64_t max_array_size = 10'000;
  size_t max_dependencies = 20;
  size_t max_evaluate_on_exit = 5;
  size_t max_pattern_length = 512;
  size_t max_name_length = 128;
  size_t max_compute_environments_per_queue = 3;
  size_t max_tags = 50;
  // Share identifiers with unfinished jobs in one fair-share queue.
  size_t max_active_shares_per_queue = 500;
};

}  // namespace helix::queues
