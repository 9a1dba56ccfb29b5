#include "scheduler/controller/batch_api.h"

#include <unistd.h>

#include <fstream>
#include <map>
#include <set>

#include <spdlog/spdlog.h>

#include "common/json_reader.h"
#include "common/rng.h"
#include "queues/submit.h"
#include "scheduler/controller/unix_users.h"

namespace helix::controller {

using nlohmann::json;
using protocol::HttpRequest;
using protocol::HttpResponse;

namespace {

thread_local SeededRng request_ids(static_cast<uint64_t>(::getpid()) ^
                                   std::hash<std::thread::id>{}(std::this_thread::get_id()));

HttpResponse reply(int status, const std::string& body) {
  HttpResponse r;
  r.status = status;
  r.body = body;
  r.headers = {{"Content-Type", "application/json"}, {"x-amzn-RequestId", make_uuid(request_ids)}};
  return r;
}

HttpResponse ok_json(const json& body) { return reply(200, body.dump()); }

HttpResponse error_reply(int status, const std::string& type, const std::string& message) {
  HttpResponse r = reply(status, json{{"__type", type}, {"message", message}}.dump());
  r.headers.emplace_back("x-amzn-ErrorType", type);
  return r;
}

// ClientException (400) for everything the caller did wrong: the aws CLI
// retries 5xx, so a caller error must never be one.
HttpResponse from_error(const Error& e) {
  switch (e.code()) {
    case ErrorCode::kInvalidInput:
    case ErrorCode::kNotFound:
    case ErrorCode::kConflict:
      return error_reply(400, "ClientException", e.message());
    case ErrorCode::kPermissionDenied:
      return error_reply(403, "AccessDeniedException", e.message());
    default:
      spdlog::error("request failed: {}", e.to_string());
      return error_reply(500, "ServerException", e.message());
  }
}

template <class T>
HttpResponse respond(const Result<T>& r) {
  if (!r) return from_error(r.error());
  return ok_json(*r);
}

Result<json> parse_body(const HttpRequest& request) {
  if (request.wire.body.empty()) return json::object();
  try {
    return json::parse(request.wire.body);
  } catch (const json::parse_error& e) {
    return fail(Error::invalid("", std::string("the request body is not valid JSON: ") + e.what()));
  }
}

bool can_see(const Identity& caller, const queues::Job& job) {
  return caller.admin || job.owner.uid == caller.uid;
}

}  // namespace

namespace {

struct Routed {
  Controller& c;
  Clock& clock;
  const HttpRequest& request;
  const Identity& caller;

  HttpResponse describe_jobs(const json& body) {
    Problems problems;
    JsonReader r(body, "", problems);
    auto ids = r.optional_string_list("jobs");
    r.reject_unknown();
    if (!ids) problems.add("jobs", "is required");
    if (ids && ids->size() > 100)
      problems.add("jobs", std::to_string(ids->size()) + " job ids, the maximum is 100");
    if (!problems.empty()) return from_error(problems.to_error());
    json jobs = json::array();
    for (const auto& id : *ids) {
      auto job = c.store().get_job(id);
      if (!job) return from_error(job.error());
      if (*job && can_see(caller, **job))
        jobs.push_back(queues::job_to_detail(**job, c.options().arns));
    }
    return ok_json({{"jobs", jobs}});
  }

  HttpResponse list_jobs(const json& body) {
    Problems problems;
    JsonReader r(body, "", problems);
    JobQuery q;
    auto queue = r.optional_string("jobQueue");
    auto parent = r.optional_string("arrayJobId");
    r.unsupported("multiNodeJobId", "multinode jobs are not supported yet");
    auto status = r.optional_string("jobStatus");
    auto max = r.optional_int("maxResults", 1, 1000);
    auto token = r.optional_string("nextToken");
    const json* filters = r.optional_array("filters");
    r.reject_unknown();
    if (!!queue + !!parent != 1)
      problems.add("jobQueue", "give exactly one of jobQueue and arrayJobId");
    if (status && !queues::parse_job_status(*status))
      problems.add("jobStatus", "\"" + *status + "\" is not a job status");
    bool filtered = false;
    if (filters && !parent) {
      if (filters->size() > 1) problems.add("filters", "only one filter at a time");
      for (size_t i = 0; i < filters->size(); ++i) {
        JsonReader fr((*filters)[i], json_path_index("filters", i), problems);
        auto name = fr.required_string("name");
        auto values = fr.optional_string_list("values");
        fr.reject_unknown();
        if (!name || !values || values->size() != 1) {
          problems.add(fr.path(), "needs a name and exactly one value");
          continue;
        }
        const std::string& v = values->front();
        filtered = true;
        try {
          if (*name == "JOB_NAME") {
            q.name_pattern = v;
          } else if (*name == "JOB_DEFINITION") {
            q.definition = queues::name_from_arn_or_name(v, "job-definition");
          } else if (*name == "AFTER_CREATED_AT") {
            q.created_after_ms = std::stoll(v);
          } else if (*name == "BEFORE_CREATED_AT") {
            q.created_before_ms = std::stoll(v);
          } else if (*name == "SHARE_IDENTIFIER") {
            q.share_identifier = v;
            filtered = false;  // combines with jobStatus
          } else {
            problems.add(fr.field_path("name"), "\"" + *name + "\" is not a ListJobs filter");
          }
        } catch (const std::exception&) {
          problems.add(fr.field_path("values"), "\"" + v + "\" is not epoch milliseconds");
        }
      }
    }
    if (!problems.empty()) return from_error(problems.to_error());
    q.queue = queue ? std::optional<std::string>(queues::name_from_arn_or_name(*queue, "job-queue"))
                    : std::nullopt;
    q.array_parent = parent;
    // AWS: without a status and without a filter, only RUNNING jobs.
    if (!filtered) q.status = status ? *status : std::string("RUNNING");
    q.limit = static_cast<size_t>(max.value_or(filtered ? 100 : 1000));
    if (filtered) q.limit = std::min<size_t>(q.limit, 100);
    q.after = token.value_or("");
    if (!caller.admin) q.owner_uid = caller.uid;
    Result<JobPage> page = fail(Error::internal("unset"));
    try {
      page = c.store().list_jobs(q);
    } catch (const std::exception&) {
      return from_error(Error::invalid("nextToken", "is not a token from ListJobs"));
    }
    if (!page) return from_error(page.error());
    json list = json::array();
    for (const auto& job : page->jobs)
      list.push_back(queues::job_to_summary(job, c.options().arns));
    json out = {{"jobSummaryList", list}};
    if (!page->next_token.empty()) out["nextToken"] = page->next_token;
    return ok_json(out);
  }

  HttpResponse cancel_or_terminate(const json& body, bool terminate) {
    Problems problems;
    JsonReader r(body, "", problems);
    auto id = r.required_string("jobId");
    auto reason = r.required_string("reason");
    r.reject_unknown();
    if (!problems.empty()) return from_error(problems.to_error());
    return respond(terminate ? c.terminate_job(*id, *reason, caller)
                             : c.cancel_job(*id, *reason, caller));
  }

  HttpResponse describe_definitions(const json& body) {
    Problems problems;
    JsonReader r(body, "", problems);
    auto refs = r.optional_string_list("jobDefinitions");
    auto name = r.optional_string("jobDefinitionName");
    auto status = r.optional_string("status");
    r.optional_int("maxResults", 1, 1000);
    r.optional_string("nextToken");
    r.reject_unknown();
    if (!problems.empty()) return from_error(problems.to_error());
    auto registry = c.store().read_registry();
    if (!registry) return from_error(registry.error());
    json out = json::array();
    for (const auto& def : registry->definitions) {
      if (name && def.name != *name) continue;
      if (status && *status != (def.active ? "ACTIVE" : "INACTIVE")) continue;
      if (refs) {
        bool match = false;
        for (const auto& ref : *refs) {
          auto parsed = queues::parse_definition_ref(ref);
          match |= parsed && parsed->name == def.name &&
                   (!parsed->revision || *parsed->revision == def.revision);
        }
        if (!match) continue;
      }
      out.push_back(queues::job_definition_to_wire(def, c.options().arns));
    }
    return ok_json({{"jobDefinitions", out}});
  }

  template <class T, class ToWire>
  HttpResponse describe_named(const json& body, const char* filter_key, const char* kind,
                              const char* list_key, const std::vector<T>& objects, ToWire to_wire) {
    Problems problems;
    JsonReader r(body, "", problems);
    auto names = r.optional_string_list(filter_key);
    r.optional_int("maxResults", 1, 1000);
    r.optional_string("nextToken");
    r.reject_unknown();
    if (!problems.empty()) return from_error(problems.to_error());
    std::set<std::string> wanted;
    if (names)
      for (const auto& n : *names) wanted.insert(queues::name_from_arn_or_name(n, kind));
    json out = json::array();
    for (const auto& o : objects)
      if (!names || wanted.count(o.name)) out.push_back(to_wire(o, c.options().arns));
    return ok_json({{list_key, out}});
  }

  Result<Registry> registry() { return c.store().read_registry(); }

  HttpResponse batch(const std::string& op, const json& body) {
    if (op == "submitjob") {
      auto req = queues::parse_submit_request(body, request.wire.body.size(), c.options().limits);
      if (!req) return from_error(req.error());
      return respond(c.submit_job(std::move(*req), caller));
    }
    if (op == "describejobs") return describe_jobs(body);
    if (op == "listjobs") return list_jobs(body);
    if (op == "canceljob") return cancel_or_terminate(body, false);
    if (op == "terminatejob") return cancel_or_terminate(body, true);
    if (op == "registerjobdefinition") {
      if (request.wire.body.size() > c.options().limits.max_definition_payload_bytes)
        return from_error(Error::invalid(
            "", "the definition is " + std::to_string(request.wire.body.size()) +
                    " bytes, the maximum is " +
                    std::to_string(c.options().limits.max_definition_payload_bytes)));
      return respond(c.register_job_definition(body, caller));
    }
    if (op == "deregisterjobdefinition") {
      Problems problems;
      JsonReader r(body, "", problems);
      auto ref = r.required_string("jobDefinition");
      r.reject_unknown();
      if (!problems.empty()) return from_error(problems.to_error());
      return respond(c.deregister_job_definition(*ref, caller));
    }
    if (op == "describejobdefinitions") return describe_definitions(body);
    if (op == "createcomputeenvironment")
      return respond(c.create_compute_environment(body, caller));
    if (op == "updatecomputeenvironment")
      return respond(c.update_compute_environment(body, caller));
    if (op == "deletecomputeenvironment")
      return respond(c.delete_compute_environment(body.value("computeEnvironment", ""), caller));
    if (op == "createjobqueue") return respond(c.create_job_queue(body, caller));
    if (op == "updatejobqueue") return respond(c.update_job_queue(body, caller));
    if (op == "deletejobqueue")
      return respond(c.delete_job_queue(body.value("jobQueue", ""), caller));
    if (op == "createschedulingpolicy") return respond(c.create_scheduling_policy(body, caller));
    if (op == "updateschedulingpolicy") return respond(c.update_scheduling_policy(body, caller));
    if (op == "deleteschedulingpolicy")
      return respond(c.delete_scheduling_policy(body.value("arn", ""), caller));
    auto reg = registry();
    if (!reg) return from_error(reg.error());
    if (op == "describejobqueues")
      return describe_named(body, "jobQueues", "job-queue", "jobQueues", reg->queues,
                            queues::job_queue_to_wire);
    if (op == "describecomputeenvironments")
      return describe_named(body, "computeEnvironments", "compute-environment",
                            "computeEnvironments", reg->compute_environments,
                            queues::compute_environment_to_wire);
    if (op == "describeschedulingpolicies")
      return describe_named(body, "arns", "scheduling-policy", "schedulingPolicies", reg->policies,
                            queues::scheduling_policy_to_wire);
    if (op == "listschedulingpolicies") {
      json out = json::array();
      for (const auto& p : reg->policies)
        out.push_back({{"arn", c.options().arns.scheduling_policy(p.name)}});
      return ok_json({{"schedulingPolicies", out}});
    }
    return error_reply(400, "ClientException",
                       "operation /v1/" + op + " is not supported by helix");
  }

  Result<queues::Job> visible_job(const std::string& id) {
    auto job = c.store().get_job(id);
    if (!job) return fail(job.error());
    if (!*job || !can_see(caller, **job))
      return fail(Error::not_found("job " + id + " does not exist"));
    return std::move(**job);
  }

  HttpResponse log(const std::string& id) {
    auto job = visible_job(id);
    if (!job) return from_error(job.error());
    const queues::Attempt* attempt = nullptr;
    bool finished = true;
    auto wanted = request.query_param("attempt");
    int number = 0;
    try {
      number = wanted ? std::stoi(*wanted) : 0;
    } catch (const std::exception&) {
      return from_error(Error::invalid("attempt", "\"" + *wanted + "\" is not a number"));
    }
    for (const auto& a : job->attempts)
      if (number == 0 || a.number == number) attempt = &a;
    if (job->current && (number == 0 || job->current->number == number)) {
      attempt = &*job->current;
      finished = false;
    }
    if (!attempt)
      return from_error(Error::not_found("job " + id + " has no attempt" +
                                         (number ? " " + std::to_string(number) : std::string()) +
                                         " yet"));
    int64_t offset = 0;
    try {
      offset = std::stoll(request.query_param("offset").value_or("0"));
    } catch (const std::exception&) {
      return from_error(Error::invalid("offset", "is not a number"));
    }
    std::ifstream in(attempt->log_path, std::ios::binary);
    std::string data;
    if (in) {
      in.seekg(0, std::ios::end);
      int64_t size = in.tellg();
      if (offset < size) {
        int64_t n = std::min<int64_t>(size - offset, 1 << 20);
        data.resize(static_cast<size_t>(n));
        in.seekg(offset);
        in.read(data.data(), n);
        data.resize(static_cast<size_t>(in.gcount()));
      }
      finished = finished && offset + static_cast<int64_t>(data.size()) >= size;
    }
    HttpResponse r;
    r.status = 200;
    r.body = std::move(data);
    r.headers = {
        {"Content-Type", "application/octet-stream"},
        {"x-helix-next-offset", std::to_string(offset + static_cast<int64_t>(r.body.size()))},
        {"x-helix-log-final", finished ? "true" : "false"}};
    return r;
  }

  HttpResponse wait(const std::string& id) {
    int64_t seconds = 20;
    try {
      seconds = std::clamp<int64_t>(
          std::stoll(request.query_param("timeoutSeconds").value_or("20")), 0, 30);
    } catch (const std::exception&) {
      return from_error(Error::invalid("timeoutSeconds", "is not a number"));
    }
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
    uint64_t generation = c.generation();
    for (;;) {
      auto job = visible_job(id);
      if (!job) return from_error(job.error());
      if (queues::is_terminal(job->status) || std::chrono::steady_clock::now() >= deadline ||
          !c.wait_for_commit(&generation, deadline))
        return ok_json(queues::job_to_detail(*job, c.options().arns));
    }
  }

  // /v1/tags/{resourceArn}: POST tags, DELETE ?tagKeys=..., GET lists.
  HttpResponse tags(const std::string& arn, const json& body) {
    const std::string& method = request.wire.method;
    if (method == "POST") return respond(c.tag_resource(arn, body, caller));
    if (method == "GET") return respond(c.list_tags_for_resource(arn, caller));
    if (method == "DELETE") {
      std::vector<std::string> keys;
      for (const auto& [name, value] : request.query)
        if (name == "tagKeys") keys.push_back(value);
      return respond(c.untag_resource(arn, keys, caller));
    }
    return error_reply(405, "ClientException", method + " is not a tags operation");
  }

  HttpResponse helix(const std::string& rest, const json& body) {
    if (rest == "nodes") return respond(c.nodes_view(caller));
    if (rest == "whoami")
      return ok_json({{"uid", caller.uid}, {"userName", caller.user}, {"admin", caller.admin}});
    if (rest == "credentials" && request.wire.method == "POST") {
      auto made = c.create_credentials(body.value("userName", ""), caller);
      if (!made) return from_error(made.error());
      return ok_json({{"userName", made->user},
                      {"accessKeyId", made->access_key_id},
                      {"secretAccessKey", made->secret_access_key}});
    }
    const std::string prefix = "jobs/";
    if (rest.rfind(prefix, 0) == 0) {
      auto slash = rest.rfind('/');
      std::string id = rest.substr(prefix.size(), slash - prefix.size());
      std::string what = rest.substr(slash + 1);
      if (slash > prefix.size() && what == "log") return log(id);
      if (slash > prefix.size() && what == "wait") return wait(id);
    }
    return error_reply(404, "ClientException", "no helix endpoint " + request.path);
  }
};

}  // namespace

HttpResponse BatchApi::handle(const HttpRequest& request) {
  Identity caller;
  if (request.peer) {
    caller.uid = request.peer->uid;
    caller.gid = request.peer->gid;
    auto user = user_by_uid(caller.uid);
    caller.user = user ? user->name : std::to_string(caller.uid);
    caller.admin = caller.uid == 0 || caller.uid == ::geteuid();
    if (::geteuid() != 0 && caller.uid != ::geteuid())
      return error_reply(403, "AccessDeniedException",
                         "this helixd runs as uid " + std::to_string(::geteuid()) +
                             " and serves only that user; run helixd as root to serve everyone");
  } else {
    auto verified = protocol::verify_request(
        request.wire,
        [this](const std::string& key) -> std::optional<std::string> {
          auto u = controller_.user_of_key(key);
          if (!u) return std::nullopt;
          return u->secret_access_key;
        },
        clock_.now());
    if (!verified) return error_reply(403, verified.error().code, verified.error().message);
    auto u = controller_.user_of_key(*verified);
    caller.uid = u->uid;
    caller.gid = u->gid;
    caller.user = u->user;
    caller.admin = u->uid == 0 || u->uid == ::geteuid();
  }
  // Step Functions: AWS JSON 1.0 (POST / with X-Amz-Target), same authentication.
  if (auto target = request.wire.header("X-Amz-Target");
      target && request.wire.method == "POST" && target->rfind("AWSStepFunctions.", 0) == 0)
    return controller_.states_http(*target, request.wire.body, caller);
  auto body = parse_body(request);
  if (!body) return from_error(body.error());
  Routed routed{controller_, clock_, request, caller};
  const std::string& path = request.path;
  if (path.rfind("/v1/tags/", 0) == 0) return routed.tags(path.substr(9), *body);
  if (path.rfind("/v1/", 0) == 0 && request.wire.method == "POST") {
    if (!body->is_object())
      return from_error(Error::invalid("", "the request body must be a JSON object"));
    return routed.batch(path.substr(4), *body);
  }
  if (path.rfind("/helix/v1/", 0) == 0) return routed.helix(path.substr(10), *body);
  return error_reply(404, "ClientException",
                     "no such operation: " + request.wire.method + " " + path);
}

}  // namespace helix::controller
