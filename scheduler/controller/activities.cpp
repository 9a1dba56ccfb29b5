#include "scheduler/controller/activities.h"

namespace helix::states {

using nlohmann::json;

namespace {

ApiReply invalid_arn(const std::string& arn) {
  return error_reply("InvalidArn",
                     "Invalid Arn: 'Resource type not valid in this context: " + arn + "'");
}

}  // namespace

std::string activity_arn(const ArnScope& scope, std::string_view name) {
  return "arn:aws:states:" + scope.region + ":" + scope.account + ":activity:" + std::string(name);
}

bool ActivityCatalog::handles(std::string_view op) const {
  return op == "CreateActivity" || op == "DescribeActivity" || op == "ListActivities" ||
         op == "DeleteActivity";
}

const ActivityRecord* ActivityCatalog::find_by_arn(std::string_view arn) const {
  std::string prefix = activity_arn(scope_, "");
  if (arn.size() <= prefix.size() || arn.substr(0, prefix.size()) != prefix) return nullptr;
  auto it = activities_.find(std::string(arn.substr(prefix.size())));
  return it == activities_.end() ? nullptr : &it->second;
}

ApiReply ActivityCatalog::handle(std::string_view op, const json& request, TimePoint now,
                                 std::optional<std::string>* changed) {
  if (op == "CreateActivity") {
    if (!request.contains("name")) return missing("name");
    std::string name = string_member(request, "name");
    if (!is_valid_name(name)) return error_reply("InvalidName", "Invalid Name: '" + name + "'");
    auto [it, created] = activities_.try_emplace(name);
    if (created) {
      it->second = ActivityRecord{name, activity_arn(scope_, name), now};
      *changed = name;
    }
    return ApiReply{200, json{{"activityArn", it->second.arn},
                              {"creationDate", epoch_seconds(it->second.creation_date)}}};
  }
  if (op == "DescribeActivity" || op == "DeleteActivity") {
    if (!request.contains("activityArn")) return missing("activityArn");
    std::string arn = string_member(request, "activityArn");
    if (arn.rfind(activity_arn(scope_, ""), 0) != 0) return invalid_arn(arn);
    const ActivityRecord* a = find_by_arn(arn);
    if (op == "DeleteActivity") {
      // Deleting is idempotent; tasks already scheduled on it stay until
      // their timeouts (as on AWS).
      if (a) {
        *changed = a->name;
        activities_.erase(a->name);
      }
      return ApiReply{200, json::object()};
    }
    if (!a) return error_reply("ActivityDoesNotExist", "Activity Does Not Exist: '" + arn + "'");
    return ApiReply{200, json{{"activityArn", a->arn},
                              {"name", a->name},
                              {"creationDate", epoch_seconds(a->creation_date)}}};
  }
  if (op == "ListActivities") {
    ApiReply refusal;
    auto max_results = page_size(request, &refusal);
    if (!max_results) return refusal;
    auto it = activities_.begin();
    // The token is the name of the first activity of the next page.
    if (std::string token = string_member(request, "nextToken"); !token.empty())
      it = activities_.lower_bound(token);
    json items = json::array();
    for (; it != activities_.end() && items.size() < *max_results; ++it)
      items.push_back(json{{"activityArn", it->second.arn},
                           {"name", it->second.name},
                           {"creationDate", epoch_seconds(it->second.creation_date)}});
    json body{{"activities", std::move(items)}};
    if (it != activities_.end()) body["nextToken"] = it->first;
    return ApiReply{200, std::move(body)};
  }
  return error_reply("UnknownOperationException", "unknown operation " + std::string(op));
}

json ActivityCatalog::document(const std::string& name) const {
  auto it = activities_.find(name);
  if (it == activities_.end()) return json();
  return json{{"name", it->second.name},
              {"arn", it->second.arn},
              {"creationUs", to_epoch_us(it->second.creation_date)}};
}

Result<void> ActivityCatalog::restore(const json& doc) {
  try {
    ActivityRecord a{doc.at("name").get<std::string>(), doc.at("arn").get<std::string>(),
                     from_epoch_us(doc.at("creationUs").get<int64_t>())};
    activities_[a.name] = std::move(a);
    return {};
  } catch (const json::exception& e) {
    return fail(Error::corruption("a stored activity does not parse", e.what()));
  }
}

}  // namespace helix::states
