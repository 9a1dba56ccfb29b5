// Batch TagResource / UntagResource / ListTagsForResource: the tags of a job
// definition revision, job queue, compute environment, scheduling policy or
// job, named by its ARN. Each change is stored in the request's transaction.
#include "common/json_reader.h"
#include "queues/common_fields.h"
#include "queues/submit.h"
#include "scheduler/controller/controller.h"

namespace helix::controller {

using nlohmann::json;
using queues::Job;
using Tags = std::map<std::string, std::string>;

namespace {

// "arn:aws:batch:REGION:ACCOUNT:KIND/NAME" -> {KIND, NAME}.
std::optional<std::pair<std::string, std::string>> split_batch_arn(const std::string& arn) {
  if (arn.rfind("arn:aws:batch:", 0) != 0) return std::nullopt;
  size_t at = 0;
  for (int colons = 0; colons < 5; ++colons) {
    at = arn.find(':', at);
    if (at == std::string::npos) return std::nullopt;
    ++at;
  }
  const std::string rest = arn.substr(at);
  const size_t slash = rest.find('/');
  if (slash == std::string::npos || slash == 0 || slash + 1 == rest.size()) return std::nullopt;
  return std::make_pair(rest.substr(0, slash), rest.substr(slash + 1));
}

Error no_such_resource(const std::string& arn) {
  return Error::invalid("resourceArn", "no such resource: " + arn);
}

}  // namespace

Result<Tags> Controller::change_tags(const std::string& arn, const TagChange& change,
                                     const Identity& caller) {
  auto parts = split_batch_arn(arn);
  if (!parts)
    return fail(Error::invalid("resourceArn",
                               "\"" + arn +
                                   "\" is not the ARN of a job, job definition, job queue, compute "
                                   "environment or scheduling policy"));
  const auto& [kind, name] = *parts;
  auto changed = [&](const Tags& tags) -> Result<Tags> { return change ? change(tags) : tags; };
  // Queues, compute environments and policies change only as root, as
  // their updates do; anyone may read their tags.
  auto admin_to_change = [&](const std::string& what) -> Result<void> {
    return change ? require_admin(caller, "tag " + what) : Result<void>{};
  };
  // A queue, compute environment or policy, stored by `put`.
  auto registry_object = [&](auto& objects, const std::string& what,
                             const auto& put) -> Result<Tags> {
    auto it = objects.find(name);
    if (it == objects.end()) return fail(no_such_resource(arn));
    if (auto ok = admin_to_change(what); !ok) return fail(ok.error());
    auto tags = changed(it->second.tags);
    if (!tags || !change) return tags;
    auto updated = it->second;
    updated.tags = *tags;
    if (auto ok = put(updated); !ok) return fail(ok.error());
    it->second = std::move(updated);
    return tags;
  };
  if (kind == "job-queue")
    return registry_object(queues_, "job queues",
                           [&](const queues::JobQueue& q) { return store_->put_queue(q); });
  if (kind == "compute-environment")
    return registry_object(
        compute_environments_, "compute environments",
        [&](const queues::ComputeEnvironment& ce) { return store_->put_compute_environment(ce); });
  if (kind == "scheduling-policy")
    return registry_object(
        policies_, "scheduling policies",
        [&](const queues::SchedulingPolicy& p) { return store_->put_policy(p); });
  if (kind == "job-definition") {
    // As registering and deregistering: open to every user.
    auto ref = queues::parse_definition_ref(name);
    if (!ref || !ref->revision) return fail(no_such_resource(arn));
    auto it = definitions_.find(ref->name);
    if (it == definitions_.end()) return fail(no_such_resource(arn));
    for (auto& def : it->second) {
      if (def.revision != *ref->revision) continue;
      auto tags = changed(def.tags);
      if (!tags || !change) return tags;
      auto updated = def;
      updated.tags = *tags;
      if (auto ok = store_->put_definition(updated); !ok) return fail(ok.error());
      def = std::move(updated);
      return tags;
    }
    return fail(no_such_resource(arn));
  }
  if (kind == "job") {
    // A user sees and tags only their own jobs, as with DescribeJobs.
    auto mine = [&](const Job& job) { return caller.admin || job.owner.uid == caller.uid; };
    if (const Job* job = book_.find(name)) {
      if (!mine(*job)) return fail(no_such_resource(arn));
      auto tags = changed(job->tags);
      if (tags && change) book_.set_tags(name, *tags);
      return tags;
    }
    auto stored = store_->get_job(name);
    if (!stored) return fail(stored.error());
    if (!*stored || !mine(**stored)) return fail(no_such_resource(arn));
    auto tags = changed((*stored)->tags);
    if (!tags || !change) return tags;
    Job updated = std::move(**stored);
    updated.tags = *tags;
    if (auto ok = store_->put_job(updated); !ok) return fail(ok.error());
    return tags;
  }
  return fail(no_such_resource(arn));
}

Result<json> Controller::tag_resource(const std::string& arn, const json& body,
                                      const Identity& caller) {
  Problems problems;
  JsonReader r(body, "", problems);
  auto given = r.optional_string_map("tags");
  if (r.ok() && !given) problems.add("tags", "is required: an object of string values");
  r.reject_unknown();
  if (!problems.empty()) return fail(problems.to_error());
  Tags added = std::move(*given);
  return call<json>([this, arn, added = std::move(added), caller]() -> Result<json> {
    auto tags = change_tags(
        arn,
        [&](const Tags& existing) { return queues::merge_tags(existing, added, options_.limits); },
        caller);
    if (!tags) return fail(tags.error());
    return json::object();
  });
}

Result<json> Controller::untag_resource(const std::string& arn,
                                        const std::vector<std::string>& keys,
                                        const Identity& caller) {
  return call<json>([this, arn, keys, caller]() -> Result<json> {
    auto tags = change_tags(
        arn,
        [&](const Tags& existing) { return queues::remove_tags(existing, keys, options_.limits); },
        caller);
    if (!tags) return fail(tags.error());
    return json::object();
  });
}

Result<json> Controller::list_tags_for_resource(const std::string& arn, const Identity& caller) {
  return call<json>([this, arn, caller]() -> Result<json> {
    auto tags = change_tags(arn, nullptr, caller);
    if (!tags) return fail(tags.error());
    return json{{"tags", *tags}};
  });
}

}  // namespace helix::controller
