// The helix subcommands: each turns its parsed options into requests with
// the pure builders of this folder, sends them through an ApiClient and
// prints the result. Each returns the process exit status:
//   0 success; 1 an error (printed to `err` as "helix: <message>", the
//   server's message as it is); 2 a usage error (a malformed flag value);
//   wait: the failed job's exit code (job_outcome.h).
// Not unit tested here: they need a live helixd (tests/integration).
#pragma once

#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "cli/api_client.h"
#include "cli/list_jobs.h"
#include "cli/submit_request.h"

namespace helix::cli {

enum class OutputFormat { kText, kJson };

struct CommandContext {
  const ApiClient& client;
  OutputFormat output = OutputFormat::kText;
  std::ostream& out;
  std::ostream& err;
};

int run_submit(const CommandContext& ctx, const SubmitOptions& options, bool wait);
int run_jobs(const CommandContext& ctx, const JobsOptions& options);
int run_describe(const CommandContext& ctx, const std::vector<std::string>& job_ids);
// attempt 0: the latest. follow: poll until the attempt's log is final.
int run_logs(const CommandContext& ctx, const std::string& job_id, int attempt, bool follow);
int run_cancel(const CommandContext& ctx, const std::string& job_id, const std::string& reason,
               bool terminate);
// timeout_seconds: give up after this long in all; nullopt waits for ever.
int run_wait(const CommandContext& ctx, const std::vector<std::string>& job_ids,
             std::optional<int64_t> timeout_seconds);
int run_apply(const CommandContext& ctx, const std::vector<std::string>& paths);
int run_queues(const CommandContext& ctx);
int run_definitions(const CommandContext& ctx);
int run_credentials(const CommandContext& ctx, const std::optional<std::string>& user);
int run_whoami(const CommandContext& ctx);
int run_nodes(const CommandContext& ctx);

// Step Functions (cli/command_states.cpp).
struct RunOptions {
  std::string file;                  // the definition (*.asl.json)
  std::optional<std::string> input;  // JSON text, @FILE or a file path
  std::optional<std::string> name;   // the execution's name
  bool follow = false;               // show progress until it ends
};
int run_run(const CommandContext& ctx, const RunOptions& options);
struct ExecutionsOptions {
  std::optional<std::string> machine;  // name or ARN; default: every machine
  std::optional<std::string> status;
};
int run_executions(const CommandContext& ctx, const ExecutionsOptions& options);
int run_history(const CommandContext& ctx, const std::string& execution_arn);
// RedriveExecution (Debian's aws CLI and boto3 predate it), optionally followed.
int run_redrive(const CommandContext& ctx, const std::string& execution_arn, bool follow);

// helix simulate (no helixd needed; cli/command_simulate.cpp).
struct SimulateOptions {
  std::string swf;
  std::string policy = "fcfs";
  int64_t procs = 0;  // 0: from the SWF header
  std::string windows;
  std::string estimate = "requested";
  std::string overrun = "run";
};
int run_simulate(const SimulateOptions& options, std::ostream& out, std::ostream& err);

// Prints "helix: <message>" and returns 1 (2 when `usage`).
int report(const CommandContext& ctx, const Error& error, bool usage = false);

// Every page of a paginated Batch list operation: the `list_key` arrays of
// each reply, joined, following nextToken.
Result<nlohmann::json> fetch_all_pages(const ApiClient& client, const std::string& operation,
                                       nlohmann::json request, const std::string& list_key);

}  // namespace helix::cli
