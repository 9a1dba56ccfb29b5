// ActivityCatalog: Step Functions activities (issue #4, item 3), pure.
// An activity is a named queue of work that workers outside helixd poll
// with GetActivityTask and answer with SendTask*; a Task state whose
// Resource is the activity's ARN puts its input there.
//
// Owns: Create/Describe/List/DeleteActivity and the store form of an
// activity. Does not own: the tasks waiting on an activity (the
// ExecutionService keeps them with their executions) or the store.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "common/error.h"
#include "common/time.h"
#include "scheduler/controller/states_api.h"

namespace helix::states {

struct ActivityRecord {
  std::string name;
  std::string arn;
  TimePoint creation_date{};
};

std::string activity_arn(const ArnScope& scope, std::string_view name);

class ActivityCatalog {
 public:
  explicit ActivityCatalog(ArnScope scope = {}) : scope_(std::move(scope)) {}

  bool handles(std::string_view operation) const;
  // CreateActivity (idempotent by name), DescribeActivity, ListActivities,
  // DeleteActivity. `changed` gets the name of an activity created or deleted.
  ApiReply handle(std::string_view operation, const nlohmann::json& request, TimePoint now,
                  std::optional<std::string>* changed);
  const ActivityRecord* find_by_arn(std::string_view arn) const;

  // The store's form; null after a delete.
  nlohmann::json document(const std::string& name) const;
  Result<void> restore(const nlohmann::json& doc);

 private:
  ArnScope scope_;
  std::map<std::string, ActivityRecord> activities_;  // by name: List pages in name order
};

}  // namespace helix::states
