// Names and ARNs of the job model (docs/batch-semantics.md section 0).
//
// helix answers with AWS-shaped ARNs so that scripts that parse them keep
// working: arn:aws:batch:<region>:<account>:<kind>/<name>. Requests accept a
// name or an ARN wherever AWS does.
#pragma once

#include <cstddef>
#include <string>

#include "common/error.h"

namespace helix::queues {

struct ArnFormat {
  std::string region = "us-east-1";
  std::string account = "000000000000";

  std::string job(const std::string& id) const { return prefix() + "job/" + id; }
  std::string job_queue(const std::string& name) const { return prefix() + "job-queue/" + name; }
  std::string compute_environment(const std::string& name) const {
    return prefix() + "compute-environment/" + name;
  }
  std::string job_definition(const std::string& name, int revision) const {
    return prefix() + "job-definition/" + name + ":" + std::to_string(revision);
  }
  std::string scheduling_policy(const std::string& name) const {
    return prefix() + "scheduling-policy/" + name;
  }

 private:
  std::string prefix() const { return "arn:aws:batch:" + region + ":" + account + ":"; }
};

// The name inside "arn:aws:batch:...:<kind>/<name>", or `text` unchanged
// when it is not an ARN of that kind.
std::string name_from_arn_or_name(const std::string& text, const std::string& kind);

// Letters, digits, '-' and '_', 1..max characters; a job name must also start
// with a letter or digit. Adds "<path>: ..." to problems when not.
bool check_name(const std::string& name, size_t max_length, bool must_start_alnum,
                const std::string& path, Problems& problems);

}  // namespace helix::queues
