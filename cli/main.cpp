// helix: the user's command for helixd (the AWS Batch API on this machine).
// Parses arguments with CLI11 and hands each subcommand to commands.h.
#include <unistd.h>

#include <cstdlib>
#include <iostream>
#include <memory>

#include <CLI/CLI.hpp>

#include "cli/commands.h"
#include "cli/embedded_helixd.h"
#include "cli/endpoint.h"

namespace {

using helix::cli::OutputFormat;

// Each occurrence of a repeatable flag takes one value, so
// "--param a=1 -- cmd" never swallows the command.
template <class T>
CLI::Option* repeatable(CLI::App* app, const std::string& name, T& values,
                        const std::string& help) {
  return app->add_option(name, values, help)->allow_extra_args(false);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"helix: submit and watch jobs on helixd (an on-prem AWS Batch)"};
  app.require_subcommand(1);
  // Global flags may come after the subcommand as well.
  app.fallthrough();
  std::optional<std::string> endpoint;
  std::string output = "text";
  app.add_option("--endpoint", endpoint,
                 "unix:///path/helixd.sock or http://127.0.0.1:PORT (default: HELIX_ENDPOINT, "
                 "else the socket in helixd's state directory)");
  app.add_option("--output", output, "json or text")->check(CLI::IsMember({"json", "text"}));

  helix::cli::SubmitOptions submit;
  bool submit_wait = false;
  auto* submit_cmd = app.add_subcommand("submit", "submit a job: helix submit [flags] -- cmd args");
  submit_cmd->add_option("--queue", submit.queue, "job queue")->capture_default_str();
  submit_cmd->add_option("--definition", submit.definition, "job definition NAME[:REVISION]");
  submit_cmd->add_option("--name", submit.name, "job name (default: the command's name)");
  repeatable(submit_cmd, "--param", submit.parameters, "parameter KEY=VALUE (repeatable)");
  submit_cmd->add_option("--array-size", submit.array_size, "array job of N children");
  repeatable(submit_cmd, "--depends-on", submit.depends_on,
             "job ID[=N_TO_N|=SEQUENTIAL] to run after (repeatable)");
  submit_cmd->add_option("--retries", submit.retries, "attempts (retryStrategy.attempts)");
  submit_cmd->add_option("--timeout", submit.timeout_seconds, "seconds per attempt");
  submit_cmd->add_option("--vcpus", submit.vcpus, "vCPUs");
  submit_cmd->add_option("--memory", submit.memory_mib, "memory in MiB");
  submit_cmd->add_option("--gpus", submit.gpus, "GPUs");
  repeatable(submit_cmd, "--env", submit.environment, "environment KEY=VALUE (repeatable)");
  submit_cmd->add_flag("--wait", submit_wait, "wait for the job to end, as helix wait");
  submit_cmd->add_option("command", submit.command, "the command line, after --");

  helix::cli::JobsOptions jobs;
  auto* jobs_cmd = app.add_subcommand("jobs", "list jobs (every status unless --status)");
  jobs_cmd->add_option("--queue", jobs.queue, "only this job queue (default: all)");
  jobs_cmd->add_option("--status", jobs.status, "only this status");
  jobs_cmd->add_option("--array-job", jobs.array_job_id, "the children of this array job");
  jobs_cmd->add_option("--name", jobs.name_glob, "job names matching this glob");
  jobs_cmd->add_option("--limit", jobs.limit, "the N most recent jobs");

  std::vector<std::string> describe_ids;
  auto* describe_cmd = app.add_subcommand("describe", "describe jobs");
  describe_cmd->add_option("ids", describe_ids, "job ids")->required();

  std::string logs_id;
  int logs_attempt = 0;
  bool logs_follow = false;
  auto* logs_cmd = app.add_subcommand("logs", "print a job's output");
  logs_cmd->add_option("id", logs_id, "job id")->required();
  logs_cmd->add_option("--attempt", logs_attempt, "attempt number (default: the latest)")
      ->check(CLI::PositiveNumber);
  logs_cmd->add_flag(
      "-f,--follow", logs_follow,
      "keep printing until the job ends, each retry in turn (with --attempt: that one)");

  std::string cancel_id, cancel_reason = "Cancelled by helix CLI";
  auto* cancel_cmd = app.add_subcommand("cancel", "cancel a job that has not started");
  cancel_cmd->add_option("id", cancel_id, "job id")->required();
  cancel_cmd->add_option("--reason", cancel_reason, "reason")->capture_default_str();

  std::string terminate_id, terminate_reason = "Terminated by helix CLI";
  auto* terminate_cmd = app.add_subcommand("terminate", "terminate a job, running or not");
  terminate_cmd->add_option("id", terminate_id, "job id")->required();
  terminate_cmd->add_option("--reason", terminate_reason, "reason")->capture_default_str();

  std::vector<std::string> wait_ids;
  std::optional<int64_t> wait_timeout;
  auto* wait_cmd =
      app.add_subcommand("wait", "wait for jobs to end; exit with a failed job's code");
  wait_cmd->add_option("ids", wait_ids, "job ids")->required();
  wait_cmd->add_option("--timeout", wait_timeout, "give up after S seconds")
      ->check(CLI::NonNegativeNumber);

  std::vector<std::string> apply_paths;
  auto* apply_cmd =
      app.add_subcommand("apply",
                         "create or update compute environments, scheduling policies, "
                         "job queues and job definitions from JSON files");
  apply_cmd->add_option("paths", apply_paths, "files or directories of *.json")->required();

  auto* queues_cmd = app.add_subcommand("queues", "list job queues");
  auto* definitions_cmd = app.add_subcommand("definitions", "list job definitions");

  std::optional<std::string> credentials_user;
  auto* credentials_cmd =
      app.add_subcommand("credentials", "new SigV4 keys for the aws CLI (profile [helix])");
  credentials_cmd->add_option("--user", credentials_user, "for this user (admin only)");

  auto* whoami_cmd = app.add_subcommand("whoami", "who helixd thinks you are");
  auto* nodes_cmd =
      app.add_subcommand("nodes", "each node's NUMA nodes and PUs with the jobs on them");

  helix::cli::RunOptions run;
  auto* run_cmd = app.add_subcommand(
      "run", "run a Step Functions state machine (FILE.asl.json) and, with --follow, watch it");
  run_cmd->add_option("file", run.file, "the state machine definition")->required();
  run_cmd->add_option("--input", run.input, "input: JSON text, or @FILE / FILE");
  run_cmd->add_option("--name", run.name, "execution name (default: a UUID)");
  run_cmd->add_flag("-f,--follow", run.follow, "show progress, then the output or the error");

  helix::cli::ExecutionsOptions executions;
  auto* executions_cmd = app.add_subcommand("executions", "list Step Functions executions");
  executions_cmd->add_option("--machine", executions.machine, "state machine name or ARN");
  executions_cmd->add_option("--status", executions.status, "RUNNING, SUCCEEDED, FAILED, ...");

  std::string history_arn;
  auto* history_cmd = app.add_subcommand("history", "an execution's history events");
  history_cmd->add_option("execution", history_arn, "execution ARN")->required();

  std::string redrive_arn;
  bool redrive_follow = false;
  auto* redrive_cmd = app.add_subcommand(
      "redrive", "continue a FAILED, ABORTED or TIMED_OUT execution from where it stopped");
  redrive_cmd->add_option("execution", redrive_arn, "execution ARN")->required();
  redrive_cmd->add_flag("-f,--follow", redrive_follow,
                        "show progress, then the output or the error");

  helix::cli::SimulateOptions simulate;
  auto* simulate_cmd =
      app.add_subcommand("simulate", "replay an SWF trace through the scheduling policies");
  simulate_cmd->add_option("--swf", simulate.swf, "SWF trace (plain or gzip)")->required();
  simulate_cmd->add_option("--policy", simulate.policy, "fcfs, easy or rlsched-backfill")
      ->capture_default_str();
  simulate_cmd->add_option("--procs", simulate.procs, "machine of N one-processor nodes");
  simulate_cmd->add_option("--windows", simulate.windows, "START:LEN,... (0-based job indices)");
  simulate_cmd->add_option("--estimate", simulate.estimate, "requested or actual")
      ->capture_default_str();
  simulate_cmd->add_option("--overrun", simulate.overrun, "run or kill")->capture_default_str();

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::cerr << "helix: " << e.what() << "\n";
    return 2;
  }

  if (*simulate_cmd) return helix::cli::run_simulate(simulate, std::cout, std::cerr);
  auto client =
      helix::cli::make_api_client(endpoint, helix::cli::process_environment(), ::geteuid());
  if (!client) {
    std::cerr << "helix: " << client.error().to_string() << "\n";
    return client.error().code() == helix::ErrorCode::kInvalidInput ? 2 : 1;
  }
  // helix run is one command after setup: with no helixd answering on the
  // default socket, start one for the length of this command.
  std::unique_ptr<helix::cli::EmbeddedHelixd> embedded;
  if ((*run_cmd || *executions_cmd || *history_cmd || *redrive_cmd) && !endpoint &&
      !std::getenv("HELIX_ENDPOINT")) {
    auto probe = client->get_json("/helix/v1/whoami", "");
    if (!probe && probe.error().code() == helix::ErrorCode::kUnavailable) {
      auto started = helix::cli::EmbeddedHelixd::start(
          helix::cli::default_state_dir(helix::cli::process_environment(), ::geteuid()));
      if (!started) {
        std::cerr << "helix: " << started.error().message() << "\n";
        return 1;
      }
      embedded = std::move(*started);
    }
  }
  helix::cli::CommandContext ctx{
      *client, output == "json" ? OutputFormat::kJson : OutputFormat::kText, std::cout, std::cerr};
  if (*submit_cmd) return helix::cli::run_submit(ctx, submit, submit_wait);
  if (*jobs_cmd) return helix::cli::run_jobs(ctx, jobs);
  if (*describe_cmd) return helix::cli::run_describe(ctx, describe_ids);
  if (*logs_cmd) return helix::cli::run_logs(ctx, logs_id, logs_attempt, logs_follow);
  if (*cancel_cmd) return helix::cli::run_cancel(ctx, cancel_id, cancel_reason, false);
  if (*terminate_cmd) return helix::cli::run_cancel(ctx, terminate_id, terminate_reason, true);
  if (*wait_cmd) return helix::cli::run_wait(ctx, wait_ids, wait_timeout);
  if (*apply_cmd) return helix::cli::run_apply(ctx, apply_paths);
  if (*queues_cmd) return helix::cli::run_queues(ctx);
  if (*definitions_cmd) return helix::cli::run_definitions(ctx);
  if (*credentials_cmd) return helix::cli::run_credentials(ctx, credentials_user);
  if (*whoami_cmd) return helix::cli::run_whoami(ctx);
  if (*nodes_cmd) return helix::cli::run_nodes(ctx);
  if (*run_cmd) return helix::cli::run_run(ctx, run);
  if (*executions_cmd) return helix::cli::run_executions(ctx, executions);
  if (*history_cmd) return helix::cli::run_history(ctx, history_arn);
  if (*redrive_cmd) return helix::cli::run_redrive(ctx, redrive_arn, redrive_follow);
  return 2;
}
