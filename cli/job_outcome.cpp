#include "cli/job_outcome.h"

#include <optional>

namespace helix::cli {

using nlohmann::json;

bool is_final_status(const std::string& status) {
  return status == "SUCCEEDED" || status == "FAILED";
}

std::string wait_line(const json& job) {
  std::string line = job.value("jobId", "") + " " + job.value("status", "");
  if (job.value("status", "") == "FAILED") {
    std::string reason = job.value("statusReason", "");
    if (!reason.empty()) line += ": " + reason;
  }
  return line;
}

namespace {

std::optional<int64_t> exit_code_in(const json& holder) {
  auto container = holder.find("container");
  if (container == holder.end() || !container->is_object()) return std::nullopt;
  auto code = container->find("exitCode");
  if (code == container->end() || !code->is_number_integer()) return std::nullopt;
  return code->get<int64_t>();
}

}  // namespace

int wait_exit_code(const std::vector<json>& jobs) {
  for (const auto& job : jobs) {
    if (job.value("status", "") == "SUCCEEDED") continue;
    std::optional<int64_t> code;
    auto attempts = job.find("attempts");
    if (attempts != job.end() && attempts->is_array() && !attempts->empty())
      code = exit_code_in(attempts->back());
    else
      code = exit_code_in(job);
    if (code && *code >= 1 && *code <= 255) return static_cast<int>(*code);
    return 1;
  }
  return 0;
}

int latest_attempt_number(const json& job) {
  auto helix = job.find("helix");
  if (helix != job.end() && helix->is_object() && helix->contains("attempt") &&
      (*helix)["attempt"].is_number_integer())
    return (*helix)["attempt"].get<int>();
  auto attempts = job.find("attempts");
  if (attempts != job.end() && attempts->is_array()) return static_cast<int>(attempts->size());
  return 0;
}

}  // namespace helix::cli
