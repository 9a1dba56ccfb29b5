#include "workers/local_executor.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <map>
#include <mutex>
#include <thread>

#include "workers/exit_record.h"

namespace helix::workers {

namespace {

int pidfd_open(pid_t pid) { return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)); }
int pidfd_send_signal(int pidfd, int sig) {
  return static_cast<int>(::syscall(SYS_pidfd_send_signal, pidfd, sig, nullptr, 0));
}

std::string errno_text(const std::string& what) { return what + ": " + std::strerror(errno); }

}  // namespace

struct LocalExecutor::Impl {
  // One running attempt. Own shims are our children (pid stays valid until
  // we reap it); adopted ones, from a previous helixd, are watched by pidfd.
  struct Task {
    pid_t shim = 0;
    int report_fd = -1;  // own shims: EOF when the shim exits
    int pidfd = -1;      // adopted shims: readable when the shim exits
    std::string buffer;
  };

  LocalExecutorOptions options;
  ExecEventSink sink;
  int epoll_fd = -1;
  int wake_fd = -1;
  std::thread thread;
  std::mutex mutex;
  std::map<std::string, Task> tasks;      // by task id
  std::map<int, std::string> task_of_fd;  // watched fd -> task id
  bool stopping = false;

  std::string path(const std::string& task, const char* suffix) const {
    return options.run_dir + "/" + task + suffix;
  }

  void watch(const std::string& task, int fd) {
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = fd;
    ::epoll_ctl(epoll_fd, EPOLL_CTL_ADD, fd, &ev);
    task_of_fd[fd] = task;
  }

  // The shim is gone: report what it recorded.
  void finish(const std::string& task_id) {
    ExecEvent ev;
    auto text = read_small_file(path(task_id, ".exit"));
    std::optional<ExecEvent> parsed = text ? parse_exit_record(task_id, *text) : std::nullopt;
    if (parsed) {
      ev = std::move(*parsed);
    } else {
      ev.kind = ExecEvent::Kind::kLost;
      ev.task_id = task_id;
      ev.reason =
          text ? "unreadable exit record" : "the attempt's shim ended without an exit record";
    }
    sink(std::move(ev));
  }

  void on_readable(int fd) {
    std::string task_id;
    Task* task = nullptr;
    {
      std::lock_guard lock(mutex);
      auto it = task_of_fd.find(fd);
      if (it == task_of_fd.end()) return;
      task_id = it->second;
      task = &tasks[task_id];
    }
    if (fd == task->report_fd) {
      char buf[512];
      ssize_t n = ::read(fd, buf, sizeof buf);
      if (n > 0) {
        task->buffer.append(buf, static_cast<size_t>(n));
        size_t nl;
        while ((nl = task->buffer.find('\n')) != std::string::npos) {
          std::string line = task->buffer.substr(0, nl);
          task->buffer.erase(0, nl + 1);
          long pid = 0;
          long long start_us = 0;
          if (std::sscanf(line.c_str(), "S %ld %lld", &pid, &start_us) == 2) {
            ExecEvent ev;
            ev.kind = ExecEvent::Kind::kStarted;
            ev.task_id = task_id;
            ev.pid = static_cast<pid_t>(pid);
            ev.started_at = from_epoch_us(start_us);
            sink(std::move(ev));
          }
        }
        return;
      }
      if (n < 0 && errno == EINTR) return;
    }
    // EOF on the report pipe, or the adopted shim's pidfd fired: it exited.
    pid_t shim = 0;
    bool own = false;
    {
      std::lock_guard lock(mutex);
      ::epoll_ctl(epoll_fd, EPOLL_CTL_DEL, fd, nullptr);
      task_of_fd.erase(fd);
      own = task->report_fd >= 0;
      shim = task->shim;
      if (task->report_fd >= 0) ::close(task->report_fd);
      if (task->pidfd >= 0) ::close(task->pidfd);
      tasks.erase(task_id);
    }
    if (own) {
      int status = 0;
      while (::waitpid(shim, &status, 0) < 0 && errno == EINTR) {
      }
    }
    finish(task_id);
  }

  void run() {
    epoll_event events[64];
    for (;;) {
      int n = ::epoll_wait(epoll_fd, events, 64, -1);
      if (n < 0) {
        if (errno == EINTR) continue;
        return;
      }
      for (int i = 0; i < n; ++i) {
        if (events[i].data.fd == wake_fd) {
          std::lock_guard lock(mutex);
          if (stopping) return;
          continue;
        }
        on_readable(events[i].data.fd);
      }
    }
  }

  void signal_task(const std::string& task_id, int sig) {
    std::lock_guard lock(mutex);
    auto it = tasks.find(task_id);
    if (it == tasks.end()) return;
    if (it->second.pidfd >= 0) {
      pidfd_send_signal(it->second.pidfd, sig);
    } else {
      ::kill(it->second.shim, sig);  // our unreaped child: the pid cannot be reused
    }
  }
};

LocalExecutor::LocalExecutor(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Result<std::unique_ptr<LocalExecutor>> LocalExecutor::create(const LocalExecutorOptions& options,
                                                             ExecEventSink sink) {
  std::error_code ec;
  std::filesystem::create_directories(options.run_dir, ec);
  if (ec)
    return fail(Error::unavailable("cannot create run directory " + options.run_dir, ec.message()));
  if (::access(options.shim_path.c_str(), X_OK) != 0)
    return fail(
        Error::unavailable("helix-shim not found at " + options.shim_path, std::strerror(errno)));
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  impl->sink = std::move(sink);
  impl->epoll_fd = ::epoll_create1(EPOLL_CLOEXEC);
  impl->wake_fd = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (impl->epoll_fd < 0 || impl->wake_fd < 0)
    return fail(Error::unavailable(errno_text("epoll/eventfd")));
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.fd = impl->wake_fd;
  ::epoll_ctl(impl->epoll_fd, EPOLL_CTL_ADD, impl->wake_fd, &ev);
  Impl* raw = impl.get();
  impl->thread = std::thread([raw] { raw->run(); });
  return std::unique_ptr<LocalExecutor>(new LocalExecutor(std::move(impl)));
}

LocalExecutor::~LocalExecutor() {
  {
    std::lock_guard lock(impl_->mutex);
    impl_->stopping = true;
  }
  uint64_t one = 1;
  (void)!::write(impl_->wake_fd, &one, sizeof one);
  if (impl_->thread.joinable()) impl_->thread.join();
  for (auto& [id, task] : impl_->tasks) {
    if (task.report_fd >= 0) ::close(task.report_fd);
    if (task.pidfd >= 0) ::close(task.pidfd);
  }
  ::close(impl_->epoll_fd);
  ::close(impl_->wake_fd);
}

void LocalExecutor::launch(const LaunchSpec& spec) {
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) {
    impl_->sink(
        {ExecEvent::Kind::kStartFailed, spec.task_id, 0, {}, {}, {}, {}, {}, errno_text("pipe")});
    return;
  }
  std::vector<std::string> args = {impl_->options.shim_path,
                                   "--run-dir",
                                   impl_->options.run_dir,
                                   "--task",
                                   spec.task_id,
                                   "--log",
                                   spec.log_path,
                                   "--cwd",
                                   spec.working_dir};
  if (spec.uid) {
    args.insert(args.end(), {"--uid", std::to_string(*spec.uid), "--gid",
                             std::to_string(spec.gid.value_or(*spec.uid))});
  }
  args.push_back("--");
  args.insert(args.end(), spec.argv.begin(), spec.argv.end());
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::vector<std::string> env = spec.env;
  std::vector<char*> envp;
  for (auto& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, pipe_fds[1], 3);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  // helixd blocks SIGTERM/SIGINT for its sigwait thread; the shim must not
  // inherit that mask, nor ignored signals.
  sigset_t empty, defaults;
  sigemptyset(&empty);
  sigemptyset(&defaults);
  for (int sig : {SIGTERM, SIGINT, SIGUSR1, SIGPIPE, SIGHUP}) sigaddset(&defaults, sig);
  posix_spawnattr_setsigmask(&attr, &empty);
  posix_spawnattr_setsigdefault(&attr, &defaults);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  pid_t pid = 0;
  int rc;
  {
    // Hold the lock so the report fd is registered before the thread can
    // see it; launches are serialized anyway by the kernel's process creation.
    std::lock_guard lock(impl_->mutex);
    rc = ::posix_spawn(&pid, impl_->options.shim_path.c_str(), &actions, &attr, argv.data(),
                       envp.data());
    ::close(pipe_fds[1]);
    if (rc == 0) {
      Impl::Task task;
      task.shim = pid;
      task.report_fd = pipe_fds[0];
      impl_->tasks[spec.task_id] = std::move(task);
      impl_->watch(spec.task_id, pipe_fds[0]);
    } else {
      ::close(pipe_fds[0]);
    }
  }
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) {
    ExecEvent ev;
    ev.kind = ExecEvent::Kind::kStartFailed;
    ev.task_id = spec.task_id;
    ev.reason = "cannot start helix-shim: " + std::string(std::strerror(rc));
    impl_->sink(std::move(ev));
  }
}

void LocalExecutor::terminate(const std::string& task_id) { impl_->signal_task(task_id, SIGTERM); }
void LocalExecutor::kill(const std::string& task_id) { impl_->signal_task(task_id, SIGUSR1); }

void LocalExecutor::forget(const std::string& task_id) {
  for (const char* suffix : {".exit", ".exit.tmp", ".pid"})
    ::unlink(impl_->path(task_id, suffix).c_str());
}

std::vector<ExecEvent> LocalExecutor::recover(const std::set<std::string>& task_ids) {
  std::vector<ExecEvent> out;
  for (const auto& id : task_ids) {
    for (int round = 0;; ++round) {
      if (auto text = read_small_file(impl_->path(id, ".exit"))) {
        auto ev = parse_exit_record(id, *text);
        if (!ev) {
          ev = ExecEvent{};
          ev->kind = ExecEvent::Kind::kLost;
          ev->task_id = id;
          ev->reason = "unreadable exit record";
        }
        out.push_back(std::move(*ev));
        break;
      }
      auto pid_text = read_small_file(impl_->path(id, ".pid"));
      if (!pid_text) {
        // Claim the record: a shim spawned by the previous helixd that has
        // not run yet will find it and exit without starting the command.
        int fd =
            ::open(impl_->path(id, ".pid").c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        if (fd < 0) {
          if (errno == EEXIST && round < 3) continue;  // the shim was just faster
          out.push_back({ExecEvent::Kind::kLost, id, 0, {}, {}, {}, {}, {}, errno_text("claim")});
          break;
        }
        (void)!::write(fd, "claimed\n", 8);
        ::close(fd);
        out.push_back({ExecEvent::Kind::kStartFailed, id, 0, {}, {}, {}, {}, {}, kNeverStarted});
        break;
      }
      auto record = parse_pid_record(*pid_text);
      if (!record && round < 3) continue;  // being written this instant
      if (record && record->claimed) {
        out.push_back({ExecEvent::Kind::kStartFailed, id, 0, {}, {}, {}, {}, {}, kNeverStarted});
        break;
      }
      auto ticks = record ? process_start_ticks(record->pid) : std::nullopt;
      int pidfd = ticks && *ticks == record->start_ticks ? pidfd_open(record->pid) : -1;
      if (pidfd >= 0) {
        std::lock_guard lock(impl_->mutex);
        Impl::Task task;
        task.shim = record->pid;
        task.pidfd = pidfd;
        impl_->tasks[id] = std::move(task);
        impl_->watch(id, pidfd);
        out.push_back({ExecEvent::Kind::kStarted, id, 0, {}, {}, {}, {}, {}, "adopted"});
        break;
      }
      if (read_small_file(impl_->path(id, ".exit"))) continue;  // it finished meanwhile
      out.push_back({ExecEvent::Kind::kLost,
                     id,
                     0,
                     {},
                     {},
                     {},
                     {},
                     {},
                     "the attempt's shim ended without an exit record"});
      break;
    }
  }
  // Records of attempts the store no longer considers running.
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(impl_->options.run_dir, ec)) {
    std::string name = entry.path().filename().string();
    auto dot = name.find(".pid") != std::string::npos ? name.rfind(".pid") : name.rfind(".exit");
    if (dot == std::string::npos) continue;
    if (!task_ids.count(name.substr(0, dot))) ::unlink(entry.path().c_str());
  }
  return out;
}

}  // namespace helix::workers
