#include "cli/embedded_helixd.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <vector>

extern char** environ;

namespace helix::cli {

Result<std::unique_ptr<EmbeddedHelixd>> EmbeddedHelixd::start(const std::string& state_dir) {
  std::error_code ec;
  auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) return fail(Error::unavailable("cannot find this executable: " + ec.message()));
  std::string helixd = (self.parent_path() / "helixd").string();
  if (::access(helixd.c_str(), X_OK) != 0)
    return fail(Error::unavailable("no helixd answers and none is installed at " + helixd +
                                   " to start for this command"));
  std::filesystem::create_directories(state_dir, ec);
  if (ec) return fail(Error::unavailable("cannot create " + state_dir + ": " + ec.message()));
  int pipe_fds[2];
  if (::pipe(pipe_fds) != 0) return fail(Error::unavailable(std::strerror(errno)));
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, pipe_fds[1], STDOUT_FILENO);
  posix_spawn_file_actions_addclose(&actions, pipe_fds[0]);
  std::string log = state_dir + "/helixd-embedded.log";
  posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, log.c_str(),
                                   O_WRONLY | O_CREAT | O_APPEND, 0644);
  std::vector<std::string> args{helixd, "--state-dir", state_dir, "--port",
                                "0",    "--log-level", "warn"};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = 0;
  int rc = posix_spawn(&pid, helixd.c_str(), &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  ::close(pipe_fds[1]);
  if (rc != 0) {
    ::close(pipe_fds[0]);
    return fail(Error::unavailable("cannot start " + helixd + ": " + std::strerror(rc)));
  }
  // helixd prints "listening on ..." once both sockets accept requests.
  std::string line;
  char c;
  while (::read(pipe_fds[0], &c, 1) == 1 && c != '\n') line += c;
  ::close(pipe_fds[0]);
  if (line.rfind("listening on", 0) != 0) {
    ::kill(pid, SIGTERM);
    ::waitpid(pid, nullptr, 0);
    return fail(
        Error::unavailable("the helixd started for this command did not come up; see " + log));
  }
  return std::unique_ptr<EmbeddedHelixd>(new EmbeddedHelixd(pid));
}

EmbeddedHelixd::~EmbeddedHelixd() {
  ::kill(pid_, SIGTERM);
  int status = 0;
  while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
  }
}

}  // namespace helix::cli
