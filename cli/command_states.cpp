// helix run / executions / history: Step Functions executions from the
// command line, through the same AWSStepFunctions.* operations the aws CLI
// uses (ApiClient::states).
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "cli/commands.h"
#include "cli/local_time.h"
#include "cli/table.h"

namespace helix::cli {
namespace {

using nlohmann::json;

Result<std::string> read_text(const std::string& path, const std::string& field) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return fail(Error::invalid(field, "cannot read " + path));
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// "pipelines/align.asl.json" -> "align": a state machine name (1-80 of
// letters, digits, '-' and '_'; other characters become '-').
std::string machine_name_of(const std::string& path) {
  std::string name = std::filesystem::path(path).filename().string();
  for (const char* suffix : {".asl.json", ".json", ".asl"}) {
    std::string s(suffix);
    if (name.size() > s.size() && name.compare(name.size() - s.size(), s.size(), s) == 0) {
      name.resize(name.size() - s.size());
      break;
    }
  }
  for (char& c : name)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_') c = '-';
  if (name.size() > 80) name.resize(80);
  return name.empty() ? "machine" : name;
}

Result<std::string> find_machine_arn(const ApiClient& client, const std::string& name) {
  json request = json::object();
  for (;;) {
    auto page = client.states("ListStateMachines", request);
    if (!page) return fail(page.error());
    for (const auto& m : (*page)["stateMachines"])
      if (m.value("name", "") == name) return m["stateMachineArn"].get<std::string>();
    if (!page->contains("nextToken")) break;
    request["nextToken"] = (*page)["nextToken"];
  }
  return fail(Error::not_found("state machine " + name + " does not exist"));
}

// Creates the machine, or updates it when it exists with another definition.
Result<std::string> upsert_machine(const ApiClient& client, const std::string& name,
                                   const std::string& definition) {
  auto created = client.states("CreateStateMachine",
                               json{{"name", name},
                                    {"definition", definition},
                                    {"roleArn", "arn:aws:iam::123456789012:role/helix"}});
  if (created) return (*created)["stateMachineArn"].get<std::string>();
  if (created.error().message().find("Already Exists") == std::string::npos)
    return fail(created.error());
  auto arn = find_machine_arn(client, name);
  if (!arn) return fail(arn.error());
  auto updated = client.states("UpdateStateMachine",
                               json{{"stateMachineArn", *arn}, {"definition", definition}});
  if (!updated) return fail(updated.error());
  return *arn;
}

// An execution ARN, or a name looked up among the executions of `machine`.
Result<std::string> execution_arn_of(const std::string& text) {
  if (text.rfind("arn:", 0) == 0) return text;
  return fail(
      Error::invalid("execution", "give the execution's ARN (helix executions lists them)"));
}

// What --follow has seen so far: each Map state's items done and total,
// summed over its instances (one per sample of an outer Map, say), and how
// many iterations are open (the states inside them are not printed).
struct Progress {
  std::map<std::string, std::pair<int, int>> maps;
  int open_iterations = 0;
  std::string last_map;  // the Map state entered last: MapStateStarted's owner
};

// One line of progress for a history event, or "" for events not shown.
std::string progress_line(const json& e, Progress& p) {
  std::string type = e.value("type", "");
  auto name_of = [&](const char* member) {
    return e.contains(member) ? e[member].value("name", "") : std::string();
  };
  bool in_iteration = p.open_iterations > 0;
  if (type == "MapStateEntered") p.last_map = name_of("stateEnteredEventDetails");
  if (type.ends_with("StateEntered"))
    return in_iteration ? "" : "  started    " + name_of("stateEnteredEventDetails");
  if (type.ends_with("StateExited"))
    return in_iteration ? "" : "  succeeded  " + name_of("stateExitedEventDetails");
  if (type == "MapIterationStarted") ++p.open_iterations;
  if (type == "MapStateStarted") {
    int length = e["mapStateStartedEventDetails"].value("length", 0);
    p.maps[p.last_map].second += length;
    return in_iteration ? ""
                        : "  map        " + p.last_map + ": " + std::to_string(length) + " items";
  }
  if (type == "MapIterationSucceeded" || type == "MapIterationFailed" ||
      type == "MapIterationAborted") {
    --p.open_iterations;
    if (type == "MapIterationAborted") return {};
    std::string member = type == "MapIterationSucceeded" ? "mapIterationSucceededEventDetails"
                                                         : "mapIterationFailedEventDetails";
    std::string map_name = name_of(member.c_str());
    auto& [done, total] = p.maps[map_name];
    ++done;
    int step = std::max(1, total / 10);  // about ten lines per Map of any size
    if (type == "MapIterationSucceeded" && done != total && done % step != 0) return {};
    return "  map        " + map_name + ": " + std::to_string(done) + " of " +
           std::to_string(total) + " items done" +
           (type == "MapIterationFailed" ? " (one failed)" : "");
  }
  for (const char* failed :
       {"TaskFailed", "TaskTimedOut", "ExecutionFailed", "ExecutionTimedOut", "ExecutionAborted"}) {
    if (type == failed) {
      std::string member = std::string(1, static_cast<char>(std::tolower(type[0]))) +
                           type.substr(1) + "EventDetails";
      const json d = e.value(member, json::object());
      std::string line = "  " + type + ": " + d.value("error", "");
      if (d.contains("cause")) line += ": " + d["cause"].get<std::string>().substr(0, 300);
      return line;
    }
  }
  if (type == "TaskSubmitted" && !in_iteration) {
    auto out = json::parse(e["taskSubmittedEventDetails"].value("output", "{}"), nullptr, false);
    if (out.is_object() && out.contains("JobId"))
      return "  job        " + out.value("JobName", "") + " " + out["JobId"].get<std::string>();
  }
  return {};
}

// Prints progress lines for the history events after `last_event` until
// the execution ends, then its output (exit 0) or its error (exit 1).
int follow_execution(const CommandContext& ctx, const std::string& arn, int64_t last_event) {
  Progress progress;
  for (;;) {
    // Status first: events written before it was read are then all listed.
    auto described = ctx.client.states("DescribeExecution", json{{"executionArn", arn}});
    if (!described) return report(ctx, described.error());
    for (;;) {
      json request{{"executionArn", arn}, {"maxResults", 1000}};
      if (last_event > 0) request["nextToken"] = std::to_string(last_event);
      auto page = ctx.client.states("GetExecutionHistory", request);
      if (!page) return report(ctx, page.error());
      for (const auto& e : (*page)["events"]) {
        last_event = e.value("id", last_event);
        if (ctx.output != OutputFormat::kText) continue;
        std::string line = progress_line(e, progress);
        if (!line.empty()) ctx.out << line << "\n" << std::flush;
      }
      if (!page->contains("nextToken")) break;
    }
    std::string status = (*described)["status"];
    if (status != "RUNNING") {
      if (ctx.output == OutputFormat::kJson) {
        ctx.out << described->dump(2) << "\n";
      } else if (status == "SUCCEEDED") {
        auto output = json::parse(described->value("output", "null"), nullptr, false);
        ctx.out << status << "\n" << (output.is_discarded() ? json() : output).dump(2) << "\n";
      } else {
        ctx.err << "helix: execution " << status << ": " << described->value("error", "")
                << (described->contains("cause") ? ": " + (*described)["cause"].get<std::string>()
                                                 : std::string())
                << "\n";
      }
      return status == "SUCCEEDED" ? 0 : 1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
  }
}

}  // namespace

int run_run(const CommandContext& ctx, const RunOptions& options) {
  auto definition = read_text(options.file, "FILE");
  if (!definition) return report(ctx, definition.error(), true);
  std::string input = options.input.value_or("{}");
  if (!input.empty() && input[0] == '@') {
    auto text = read_text(input.substr(1), "--input");
    if (!text) return report(ctx, text.error(), true);
    input = *text;
  } else if (!input.empty() && input[0] != '{' && input[0] != '[' && input[0] != '"' &&
             std::filesystem::exists(input)) {
    auto text = read_text(input, "--input");
    if (!text) return report(ctx, text.error(), true);
    input = *text;
  }
  std::string name = options.name.value_or(machine_name_of(options.file));
  auto machine = upsert_machine(ctx.client, machine_name_of(options.file), *definition);
  if (!machine) return report(ctx, machine.error());
  json start{{"stateMachineArn", *machine}, {"input", input}};
  if (options.name) start["name"] = name;
  auto started = ctx.client.states("StartExecution", start);
  if (!started) return report(ctx, started.error());
  std::string arn = (*started)["executionArn"];
  if (!options.follow) {
    if (ctx.output == OutputFormat::kJson)
      ctx.out << started->dump(2) << "\n";
    else
      ctx.out << arn << "\n";
    return 0;
  }
  if (ctx.output == OutputFormat::kText) ctx.out << "execution " << arn << "\n";
  return follow_execution(ctx, arn, 0);
}

int run_executions(const CommandContext& ctx, const ExecutionsOptions& options) {
  std::vector<std::string> machines;
  if (options.machine) {
    if (options.machine->rfind("arn:", 0) == 0) {
      machines.push_back(*options.machine);
    } else {
      auto arn = find_machine_arn(ctx.client, *options.machine);
      if (!arn) return report(ctx, arn.error());
      machines.push_back(*arn);
    }
  } else {
    json request = json::object();
    for (;;) {
      auto page = ctx.client.states("ListStateMachines", request);
      if (!page) return report(ctx, page.error());
      for (const auto& m : (*page)["stateMachines"]) machines.push_back(m["stateMachineArn"]);
      if (!page->contains("nextToken")) break;
      request["nextToken"] = (*page)["nextToken"];
    }
  }
  json all = json::array();
  for (const auto& machine : machines) {
    json request{{"stateMachineArn", machine}};
    if (options.status) request["statusFilter"] = *options.status;
    for (;;) {
      auto page = ctx.client.states("ListExecutions", request);
      if (!page) return report(ctx, page.error());
      for (auto& e : (*page)["executions"]) all.push_back(e);
      if (!page->contains("nextToken")) break;
      request["nextToken"] = (*page)["nextToken"];
    }
  }
  if (ctx.output == OutputFormat::kJson) {
    ctx.out << json{{"executions", all}}.dump(2) << "\n";
    return 0;
  }
  std::vector<std::vector<std::string>> rows;
  for (const auto& e : all) {
    auto when = [&](const char* key) {
      if (!e.contains(key)) return std::string("-");
      return format_local_short(static_cast<int64_t>(e[key].get<double>() * 1000));
    };
    rows.push_back({e.value("name", ""), e.value("status", ""), when("startDate"), when("stopDate"),
                    e.value("executionArn", "")});
  }
  ctx.out << render_table({{"NAME", 40}, {"STATUS"}, {"STARTED"}, {"STOPPED"}, {"ARN"}}, rows);
  return 0;
}

int run_history(const CommandContext& ctx, const std::string& execution) {
  auto arn = execution_arn_of(execution);
  if (!arn) return report(ctx, arn.error(), true);
  json events = json::array();
  json request{{"executionArn", *arn}, {"maxResults", 1000}};
  for (;;) {
    auto page = ctx.client.states("GetExecutionHistory", request);
    if (!page) return report(ctx, page.error());
    for (auto& e : (*page)["events"]) events.push_back(e);
    if (!page->contains("nextToken")) break;
    request["nextToken"] = (*page)["nextToken"];
  }
  if (ctx.output == OutputFormat::kJson) {
    ctx.out << json{{"events", events}}.dump(2) << "\n";
    return 0;
  }
  std::vector<std::vector<std::string>> rows;
  for (const auto& e : events) {
    std::string detail;
    for (auto it = e.begin(); it != e.end(); ++it) {
      if (!it.key().ends_with("EventDetails") || !it->is_object()) continue;
      const json& d = *it;
      for (const char* key : {"name", "error", "resource", "cause"})
        if (d.contains(key) && d[key].is_string())
          detail += (detail.empty() ? "" : " ") + d[key].get<std::string>().substr(0, 80);
    }
    rows.push_back({std::to_string(e.value("id", 0)), std::to_string(e.value("previousEventId", 0)),
                    format_local_short(static_cast<int64_t>(e.value("timestamp", 0.0) * 1000)),
                    e.value("type", ""), detail});
  }
  ctx.out << render_table({{"ID"}, {"PREV"}, {"TIME"}, {"TYPE"}, {"DETAIL", 100}}, rows);
  return 0;
}

int run_redrive(const CommandContext& ctx, const std::string& execution, bool follow) {
  auto arn = execution_arn_of(execution);
  if (!arn) return report(ctx, arn.error(), true);
  // Progress after a redrive starts from the events it adds.
  int64_t last_event = 0;
  auto latest =
      ctx.client.states("GetExecutionHistory",
                        json{{"executionArn", *arn}, {"maxResults", 1}, {"reverseOrder", true}});
  if (!latest) return report(ctx, latest.error());
  if (!(*latest)["events"].empty()) last_event = (*latest)["events"][0].value("id", int64_t{0});
  auto redriven = ctx.client.states("RedriveExecution", json{{"executionArn", *arn}});
  if (!redriven) return report(ctx, redriven.error());
  if (!follow) {
    if (ctx.output == OutputFormat::kJson)
      ctx.out << redriven->dump(2) << "\n";
    else
      ctx.out << "redriven " << *arn << "\n";
    return 0;
  }
  if (ctx.output == OutputFormat::kText) ctx.out << "redriven " << *arn << "\n";
  return follow_execution(ctx, *arn, last_event);
}

}  // namespace helix::cli
