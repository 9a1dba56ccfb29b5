// helix apply, queues, definitions, credentials and whoami.
#include <map>

#include "cli/apply_plan.h"
#include "cli/commands.h"
#include "cli/node_views.h"
#include "cli/resource_views.h"
#include "protocol/credentials_file.h"

namespace helix::cli {

using nlohmann::json;

namespace {

void print_json(const CommandContext& ctx, const json& value) { ctx.out << value.dump(2) << "\n"; }

// What helixd has now, for every document's kind and name.
struct Existing {
  std::map<std::string, json> compute_environments;
  std::map<std::string, json> scheduling_policies;
  std::map<std::string, json> job_queues;
  std::map<std::string, json> latest_definitions;  // highest ACTIVE revision

  const json* find(const ApplyDocument& d) const {
    const std::map<std::string, json>* m = nullptr;
    switch (d.kind) {
      case ApplyKind::kComputeEnvironment:
        m = &compute_environments;
        break;
      case ApplyKind::kSchedulingPolicy:
        m = &scheduling_policies;
        break;
      case ApplyKind::kJobQueue:
        m = &job_queues;
        break;
      case ApplyKind::kJobDefinition:
        m = &latest_definitions;
        break;
    }
    auto it = m->find(d.name);
    return it == m->end() ? nullptr : &it->second;
  }
};

void index_by(const json& list, const std::string& key, std::map<std::string, json>& out) {
  for (const auto& item : list) out[item.value(key, "")] = item;
}

Result<Existing> read_existing(const ApiClient& client, const std::vector<ApplyDocument>& docs) {
  Existing existing;
  auto ces =
      fetch_all_pages(client, "describecomputeenvironments", json::object(), "computeEnvironments");
  if (!ces) return fail(ces.error());
  index_by(*ces, "computeEnvironmentName", existing.compute_environments);
  auto queues = fetch_all_pages(client, "describejobqueues", json::object(), "jobQueues");
  if (!queues) return fail(queues.error());
  index_by(*queues, "jobQueueName", existing.job_queues);
  auto policy_arns =
      fetch_all_pages(client, "listschedulingpolicies", json::object(), "schedulingPolicies");
  if (!policy_arns) return fail(policy_arns.error());
  json arns = json::array();
  for (const auto& p : *policy_arns) arns.push_back(p.value("arn", ""));
  if (!arns.empty()) {
    auto policies = client.batch("describeschedulingpolicies", {{"arns", arns}});
    if (!policies) return fail(policies.error());
    index_by(policies->value("schedulingPolicies", json::array()), "name",
             existing.scheduling_policies);
  }
  for (const auto& d : docs) {
    if (d.kind != ApplyKind::kJobDefinition || existing.latest_definitions.count(d.name)) continue;
    auto defs =
        fetch_all_pages(client, "describejobdefinitions",
                        {{"jobDefinitionName", d.name}, {"status", "ACTIVE"}}, "jobDefinitions");
    if (!defs) return fail(defs.error());
    const json* latest = nullptr;
    for (const auto& def : *defs)
      if (def.value("status", "") == "ACTIVE" &&
          (!latest || def.value("revision", 0) > latest->value("revision", 0)))
        latest = &def;
    if (latest) existing.latest_definitions[d.name] = *latest;
  }
  return existing;
}

ApplyStep plan(const ApplyDocument& d, const json* existing) {
  switch (d.kind) {
    case ApplyKind::kComputeEnvironment:
      return plan_compute_environment(d, existing);
    case ApplyKind::kSchedulingPolicy:
      return plan_scheduling_policy(d, existing);
    case ApplyKind::kJobQueue:
      return plan_job_queue(d, existing);
    case ApplyKind::kJobDefinition:
      return plan_job_definition(d, existing);
  }
  return {};
}

}  // namespace

int run_apply(const CommandContext& ctx, const std::vector<std::string>& paths) {
  auto docs = load_apply_documents(paths);
  if (!docs) return report(ctx, docs.error(), /*usage=*/true);
  auto existing = read_existing(ctx.client, *docs);
  if (!existing) return report(ctx, existing.error());
  json results = json::array();
  int status = 0;
  for (const auto& d : *docs) {
    ApplyStep step = plan(d, existing->find(d));
    json response;
    if (step.action != ApplyStep::Action::kUnchanged) {
      auto reply = ctx.client.batch(step.operation, step.request);
      if (!reply) {
        // Later documents may depend on this one (a queue on its compute
        // environment), so stop here.
        status =
            report(ctx, Error(reply.error().code(), d.source + ": " + reply.error().message()));
        break;
      }
      response = std::move(*reply);
    }
    std::string line = apply_result_line(d, step, response);
    if (ctx.output == OutputFormat::kText) {
      ctx.out << line << std::endl;
    } else {
      json r = {{"file", d.source},
                {"kind", apply_kind_phrase(d.kind)},
                {"name", d.name},
                {"result", line.substr(line.rfind(": ") + 2)}};
      if (!response.is_null()) r["response"] = response;
      results.push_back(std::move(r));
    }
  }
  if (ctx.output == OutputFormat::kJson) print_json(ctx, results);
  return status;
}

int run_queues(const CommandContext& ctx) {
  auto queues = fetch_all_pages(ctx.client, "describejobqueues", json::object(), "jobQueues");
  if (!queues) return report(ctx, queues.error());
  if (ctx.output == OutputFormat::kJson) {
    print_json(ctx, {{"jobQueues", *queues}});
  } else {
    ctx.out << render_queues_table(*queues);
  }
  return 0;
}

int run_definitions(const CommandContext& ctx) {
  auto defs =
      fetch_all_pages(ctx.client, "describejobdefinitions", json::object(), "jobDefinitions");
  if (!defs) return report(ctx, defs.error());
  if (ctx.output == OutputFormat::kJson) {
    print_json(ctx, {{"jobDefinitions", *defs}});
  } else {
    ctx.out << render_definitions_table(*defs);
  }
  return 0;
}

int run_credentials(const CommandContext& ctx, const std::optional<std::string>& user) {
  json request = json::object();
  if (user) request["userName"] = *user;
  auto reply = ctx.client.post_json("/helix/v1/credentials", request);
  if (!reply) return report(ctx, reply.error());
  if (ctx.output == OutputFormat::kJson) {
    print_json(ctx, *reply);
    return 0;
  }
  protocol::CredentialsFile file;
  file.set_credentials("helix",
                       {reply->value("accessKeyId", ""), reply->value("secretAccessKey", "")});
  ctx.out << file.to_text();
  return 0;
}

int run_whoami(const CommandContext& ctx) {
  auto reply = ctx.client.get_json("/helix/v1/whoami", "");
  if (!reply) return report(ctx, reply.error());
  if (ctx.output == OutputFormat::kJson) {
    print_json(ctx, *reply);
    return 0;
  }
  ctx.out << reply->value("userName", "?") << " (uid " << reply->value("uid", json()).dump()
          << (reply->value("admin", false) ? ", admin" : "") << ")\n";
  return 0;
}

int run_nodes(const CommandContext& ctx) {
  auto reply = ctx.client.get_json("/helix/v1/nodes", "");
  if (!reply) return report(ctx, reply.error());
  if (ctx.output == OutputFormat::kJson) {
    print_json(ctx, *reply);
    return 0;
  }
  ctx.out << render_nodes(*reply);
  return 0;
}

}  // namespace helix::cli
