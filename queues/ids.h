// Strong ids of the job model. A JobId is a UUID for ordinary jobs and array
// parents, "<parent>:<index>" for array children (AWS Batch "Array jobs").
#pragma once

#include <optional>
#include <string>

#include "common/strong_id.h"

namespace helix::queues {

struct JobIdTag;
using JobId = StrongId<JobIdTag>;

// "<parent>:<index>" for child `index` of array job `parent`.
JobId array_child_id(const JobId& parent, int index);

// The parent and index of an array child id; nullopt for other ids.
struct ArrayChildRef {
  JobId parent;
  int index;
};
std::optional<ArrayChildRef> parse_array_child_id(const std::string& id);

}  // namespace helix::queues
