// EmbeddedHelixd: a helixd the CLI starts for the length of one command
// (`helix run` when no helixd answers), so a pipeline is one command after
// setup. It runs the helixd installed next to this helix executable on the
// user's default state directory, so the jobs and executions it ran stay
// visible to a later helixd there.
#pragma once

#include <sys/types.h>

#include <memory>
#include <string>

#include "common/error.h"

namespace helix::cli {

class EmbeddedHelixd {
 public:
  // Starts helixd --state-dir `state_dir` --port 0 and waits for its
  // "listening on" line (its Unix socket is then ready).
  static Result<std::unique_ptr<EmbeddedHelixd>> start(const std::string& state_dir);
  ~EmbeddedHelixd();  // SIGTERM, then waits for it to exit
  EmbeddedHelixd(const EmbeddedHelixd&) = delete;
  EmbeddedHelixd& operator=(const EmbeddedHelixd&) = delete;

 private:
  explicit EmbeddedHelixd(pid_t pid) : pid_(pid) {}
  pid_t pid_;
};

}  // namespace helix::cli
