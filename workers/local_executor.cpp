#include "workers/local_executor.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <map>
#include <mutex>
#include <thread>

#include <nlohmann/json.hpp>

#include "workers/job_cgroups.h"
#include "workers/run_records.h"
#include "workers/thread_binding.h"
#include "workers/user_identity.h"

namespace helix::workers {

namespace {

int pidfd_open(pid_t pid) { return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)); }
int pidfd_send_signal(int pidfd, int sig) {
  return static_cast<int>(::syscall(SYS_pidfd_send_signal, pidfd, sig, nullptr, 0));
}

std::string errno_text(const std::string& what, int err = errno) {
  return what + ": " + std::strerror(err);
}

ExecEvent event(ExecEvent::Kind kind, const std::string& task_id, std::string reason = {}) {
  ExecEvent ev;
  ev.kind = kind;
  ev.task_id = task_id;
  ev.reason = std::move(reason);
  return ev;
}

// Task ids become file names in the run directory.
bool is_file_name(const std::string& id) {
  return !id.empty() && id.size() <= 200 && id.front() != '.' &&
         id.find_first_of(std::string("/\0\n", 3)) == std::string::npos;
}

// The shim as a signal target. Signals to the shim, not to the job: it
// forwards them to the job's whole process group (SIGUSR1 as SIGKILL).
constexpr int kShimTerminate = SIGTERM;
constexpr int kShimKill = SIGUSR1;

// The manifest digest (hex) of `tag` in the OCI image layout `layout`, from
// its index.json ("org.opencontainers.image.ref.name" annotations).
Result<std::string> image_digest(const std::string& layout, const std::string& tag) {
  auto text = read_small_file(layout + "/index.json");
  if (!text)
    return fail(Error::not_found("image " + layout + ": no OCI layout (index.json) there"));
  try {
    auto index = nlohmann::json::parse(*text);
    for (const auto& m : index.at("manifests")) {
      auto annotations = m.value("annotations", nlohmann::json::object());
      if (annotations.value("org.opencontainers.image.ref.name", "") != tag) continue;
      std::string digest = m.at("digest").get<std::string>();
      auto colon = digest.find(':');
      return colon == std::string::npos ? digest : digest.substr(colon + 1);
    }
  } catch (const std::exception& e) {
    return fail(Error::corruption("image " + layout + ": index.json: " + e.what()));
  }
  return fail(Error::not_found("image " + layout + " has no tag \"" + tag + "\""));
}

}  // namespace

struct LocalExecutor::Impl {
  // One attempt between launch (or adoption) and its end. Invariant: every
  // watched fd maps to exactly one Task, and a Task with shim != 0 has
  // exactly one watched fd. Own shims are our children: their pid stays
  // valid until we reap them, which happens after the Task is erased.
  // Adopted ones, from a previous helixd, are held by pidfd.
  struct Task {
    pid_t shim = 0;          // 0 while launch() is spawning it
    int report_fd = -1;      // own shims: "S ..." lines, then EOF when the shim exits
    int pidfd = -1;          // adopted shims: readable when the shim exits
    int pending_signal = 0;  // asked for while the shim was being spawned
    std::string buffer;      // partial report line (epoll thread only)
  };

  LocalExecutorOptions options;
  ExecEventSink sink;
  std::unique_ptr<JobCgroups> cgroups;  // null: limits not enforced (limits_note says why)
  std::string limits_note;
  std::mutex binder_mutex;  // guards binder's creation
  std::shared_ptr<Binder> binder;
  UserIdentityCache identities;
  int epoll_fd = -1;
  int wake_fd = -1;
  std::thread thread;
  std::mutex mutex;  // guards tasks, task_of_fd, stopping
  std::map<std::string, Task> tasks;
  std::map<int, std::string> task_of_fd;
  bool stopping = false;

  ~Impl() {
    for (auto& [id, task] : tasks) {
      if (task.report_fd >= 0) ::close(task.report_fd);
      if (task.pidfd >= 0) ::close(task.pidfd);
    }
    if (epoll_fd >= 0) ::close(epoll_fd);
    if (wake_fd >= 0) ::close(wake_fd);
  }

  std::string path(const std::string& task, const char* suffix) const {
    return options.run_dir + "/" + task + suffix;
  }

  // Called with the mutex held.
  void watch(const std::string& task, int fd) {
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = fd;
    ::epoll_ctl(epoll_fd, EPOLL_CTL_ADD, fd, &ev);
    task_of_fd[fd] = task;
  }

  // The shim is gone: report what it recorded. `shim_status` is the wait
  // status of an own shim, nullopt for an adopted one.
  ExecEvent outcome(const std::string& task_id, std::optional<int> shim_status) const {
    auto text = read_small_file(path(task_id, ".exit"));
    if (text) return with_limits(task_id, *text);
    if (shim_status && WIFEXITED(*shim_status)) {
      int code = WEXITSTATUS(*shim_status);
      if (code == kShimExitClaimed)
        return event(ExecEvent::Kind::kStartFailed, task_id, kNeverStarted);
      if (code == kShimExitNoClaim)
        return event(ExecEvent::Kind::kStartFailed, task_id,
                     "helix-shim could not create its pid record in " + options.run_dir +
                         " (exit status 125; its message is on helixd's stderr)");
      return event(
          ExecEvent::Kind::kLost, task_id,
          "helix-shim exited with status " + std::to_string(code) + " without an exit record");
    }
    if (shim_status && WIFSIGNALED(*shim_status))
      return event(ExecEvent::Kind::kLost, task_id,
                   "helix-shim was killed by signal " + std::to_string(WTERMSIG(*shim_status)) +
                       " before writing an exit record");
    return event(ExecEvent::Kind::kLost, task_id, "helix-shim ended without an exit record");
  }

  // The exit record as an event, with what the cgroups tell about it.
  ExecEvent with_limits(const std::string& task_id, const std::string& record) const {
    auto parsed = parse_exit_record(task_id, record);
    if (!parsed) return event(ExecEvent::Kind::kLost, task_id, "unreadable exit record: " + record);
    if (cgroups && parsed->kind == ExecEvent::Kind::kExited) {
      parsed->oom_killed = cgroups->oom_killed(task_id);
      if (auto peak = cgroups->peak_memory_kib(task_id))
        parsed->usage.max_rss_kib = std::max(parsed->usage.max_rss_kib, *peak);
    }
    return std::move(*parsed);
  }

  // Binds the calling thread for the spawn (see thread_binding.h).
  Result<std::unique_ptr<Binder::Scope>> bind_for_spawn(const LaunchSpec& spec) {
    std::shared_ptr<Binder> b;
    {
      std::lock_guard lock(binder_mutex);
      if (!binder) {
        auto made = Binder::create();
        if (!made) return fail(made.error());
        binder = *made;
      }
      b = binder;
    }
    return b->bind_thread(spec.cpus, spec.numa_nodes);
  }

  void read_report(const std::string& task_id, Task& task, const char* data, size_t size) {
    task.buffer.append(data, size);
    size_t nl;
    while ((nl = task.buffer.find('\n')) != std::string::npos) {
      std::string line = task.buffer.substr(0, nl);
      task.buffer.erase(0, nl + 1);
      long pid = 0;
      long long start_us = 0;
      if (std::sscanf(line.c_str(), "S %ld %lld", &pid, &start_us) == 2) {
        ExecEvent ev = event(ExecEvent::Kind::kStarted, task_id);
        ev.pid = static_cast<pid_t>(pid);
        ev.started_at = from_epoch_us(start_us);
        sink(std::move(ev));
      }
    }
  }

  void on_readable(int fd) {
    std::string task_id;
    Task* task = nullptr;  // stable: only this thread erases tasks
    {
      std::lock_guard lock(mutex);
      auto it = task_of_fd.find(fd);
      if (it == task_of_fd.end()) return;
      task_id = it->second;
      task = &tasks.at(task_id);
    }
    if (fd == task->report_fd) {
      char buf[512];
      ssize_t n = ::read(fd, buf, sizeof buf);
      if (n > 0) return read_report(task_id, *task, buf, static_cast<size_t>(n));
      if (n < 0 && (errno == EINTR || errno == EAGAIN)) return;
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
      ::close(fd);
      tasks.erase(task_id);
    }
    std::optional<int> status;
    if (own) {
      int s = 0;
      pid_t r;
      while ((r = ::waitpid(shim, &s, 0)) < 0 && errno == EINTR) {
      }
      if (r == shim) status = s;  // ECHILD when helixd ignores SIGCHLD
    }
    sink(outcome(task_id, status));
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

  // Called with the mutex held.
  void send(Task& task, int sig) {
    if (task.pidfd >= 0) {
      pidfd_send_signal(task.pidfd, sig);
    } else if (task.shim > 0) {
      ::kill(task.shim, sig);  // our unreaped child: the pid cannot be reused
    } else if (task.pending_signal != kShimKill) {
      task.pending_signal = sig;  // launch() sends it once the shim exists
    }
  }

  void signal_task(const std::string& task_id, int sig) {
    std::lock_guard lock(mutex);
    auto it = tasks.find(task_id);
    if (it != tasks.end()) send(it->second, sig);
  }

  // The shim's command line: options, "--", the job's argv.
  std::optional<std::vector<std::string>> shim_args(const LaunchSpec& spec, std::string* error) {
    std::vector<std::string> args = {
        options.shim_path, "--run-dir",  options.run_dir,
        "--task",          spec.task_id, "--log",
        spec.log_path,     "--cwd",      spec.working_dir.empty() ? "/" : spec.working_dir};
    if (spec.uid) {
      auto id = identities.lookup(*spec.uid, spec.gid);
      if (!id) {
        *error = "uid " + std::to_string(*spec.uid) + " has no passwd entry and no gid was given";
        return std::nullopt;
      }
      std::string groups;
      for (gid_t g : id->groups) groups += (groups.empty() ? "" : ",") + std::to_string(g);
      args.insert(args.end(), {"--uid", std::to_string(*spec.uid), "--gid", std::to_string(id->gid),
                               "--groups", groups});
    }
    args.push_back("--");
    args.insert(args.end(), spec.argv.begin(), spec.argv.end());
    return args;
  }

  // posix_spawn of the shim, fd 3 = `report_w`. Returns 0 or an errno value.
  int spawn(std::vector<std::string>& args, const std::vector<std::string>& env, int report_w,
            pid_t* pid) {
    std::vector<char*> argv;
    argv.reserve(args.size() + 1);
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    std::vector<char*> envp;
    envp.reserve(env.size() + 1);
    for (const auto& e : env) envp.push_back(const_cast<char*>(e.c_str()));
    envp.push_back(nullptr);

    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, report_w, 3);
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    // Every handler back to default (helixd may ignore some), and the
    // shim's control signals blocked until it is ready to forward them, so
    // a terminate() right after launch() is not lost (see helix_shim.c).
    sigset_t all, control;
    sigfillset(&all);
    sigemptyset(&control);
    sigaddset(&control, kShimTerminate);
    sigaddset(&control, kShimKill);
    posix_spawnattr_setsigdefault(&attr, &all);
    posix_spawnattr_setsigmask(&attr, &control);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    int rc =
        ::posix_spawn(pid, options.shim_path.c_str(), &actions, &attr, argv.data(), envp.data());
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
    return rc;
  }

  // One id of recover(): see the header for the outcomes.
  ExecEvent recover_one(const std::string& id) {
    // A shim started by the previous helixd may be racing us; each pass
    // re-reads after a change we could not have caused, and the race is
    // settled within two passes (the pid record is created once, the exit
    // record once).
    for (int pass = 0; pass < 4; ++pass) {
      if (auto text = read_small_file(path(id, ".exit"))) return with_limits(id, *text);
      auto pid_text = read_small_file(path(id, ".pid"));
      if (!pid_text) {
        // Claim the attempt: a shim the previous helixd spawned that has not
        // created its record yet will find ours and exit without running.
        int err = create_exclusive(options.run_dir, path(id, ".pid"), "claimed\n");
        if (err == 0) return event(ExecEvent::Kind::kStartFailed, id, kNeverStarted);
        if (err == EEXIST) continue;  // the shim was faster
        return event(ExecEvent::Kind::kLost, id,
                     errno_text("cannot claim " + path(id, ".pid"), err));
      }
      auto record = parse_pid_record(*pid_text);
      if (!record) return event(ExecEvent::Kind::kLost, id, "unreadable pid record: " + *pid_text);
      if (record->is_claim) return event(ExecEvent::Kind::kStartFailed, id, kNeverStarted);
      // pidfd first, then the start time, then a liveness check through the
      // pidfd: if the process is still alive, the pid was not reused between
      // the two steps, so the start time we read was this process's.
      int pidfd = pidfd_open(record->pid);
      if (pidfd >= 0) {
        auto ticks = process_start_ticks(record->pid);
        if (ticks && *ticks == record->start_ticks && pidfd_send_signal(pidfd, 0) == 0) {
          std::lock_guard lock(mutex);
          Task& task = tasks[id];
          task.shim = record->pid;
          task.pidfd = pidfd;
          watch(id, pidfd);
          return event(ExecEvent::Kind::kStarted, id, "adopted");
        }
        ::close(pidfd);
      }
      // The shim is gone; it may have written its record just now.
      if (::access(path(id, ".exit").c_str(), F_OK) == 0) continue;
      return event(ExecEvent::Kind::kLost, id, "helix-shim ended without an exit record");
    }
    return event(ExecEvent::Kind::kLost, id, "the run records kept changing during recovery");
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
    return fail(Error::unavailable("helix-shim not executable at " + options.shim_path,
                                   std::strerror(errno)));
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  if (options.enforce_limits) {
    impl->cgroups = JobCgroups::detect(&impl->limits_note);
  } else {
    impl->limits_note = "limits not enforced (disabled by configuration)";
  }
  if (impl->cgroups) impl->limits_note = impl->cgroups->description();
  impl->sink = std::move(sink);
  impl->epoll_fd = ::epoll_create1(EPOLL_CLOEXEC);
  if (impl->epoll_fd < 0) return fail(Error::unavailable(errno_text("epoll_create1")));
  impl->wake_fd = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (impl->wake_fd < 0) return fail(Error::unavailable(errno_text("eventfd")));
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
  // Impl's destructor closes the report pipes: the shims' reports then fail
  // with EPIPE, which they ignore.
}

void LocalExecutor::launch(const LaunchSpec& spec) {
  auto fail_start = [&](std::string reason) {
    impl_->sink(event(ExecEvent::Kind::kStartFailed, spec.task_id, std::move(reason)));
  };
  if (!is_file_name(spec.task_id))
    return fail_start("task id \"" + spec.task_id + "\" cannot name a file in the run directory");
  if (spec.argv.empty()) return fail_start("empty command");
  std::string error;
  LaunchSpec effective = spec;
  if (spec.container) {
    auto digest = image_digest(spec.container->layout, spec.container->tag);
    if (!digest) return fail_start("CannotPullContainerError: " + digest.error().message());
    // helix-container runs as root (crun needs it) and switches to the
    // job's user inside the container.
    std::string runner =
        std::filesystem::path(impl_->options.shim_path).parent_path() / "helix-container";
    std::vector<std::string> argv = {runner,
                                     "--layout",
                                     spec.container->layout,
                                     "--tag",
                                     spec.container->tag,
                                     "--digest",
                                     *digest,
                                     "--cache",
                                     impl_->options.run_dir + "/../images",
                                     "--bundle",
                                     impl_->path(spec.task_id, ".bundle")};
    if (spec.uid) {
      auto id = impl_->identities.lookup(*spec.uid, spec.gid);
      argv.insert(argv.end(), {"--uid", std::to_string(*spec.uid), "--gid",
                               std::to_string(id ? id->gid : spec.gid.value_or(0))});
    }
    for (const auto& m : spec.container->mounts) argv.insert(argv.end(), {"--mount", m});
    argv.push_back("--");
    argv.insert(argv.end(), spec.argv.begin(), spec.argv.end());
    effective.argv = std::move(argv);
    effective.uid.reset();
    effective.gid.reset();
  }
  auto args = impl_->shim_args(effective, &error);
  if (!args) return fail_start(error);
  if (impl_->cgroups && (spec.memory_limit_mib || !spec.cpus.empty())) {
    CgroupLimits limits{spec.memory_limit_mib, spec.cpus, spec.numa_nodes};
    auto procs = impl_->cgroups->create(spec.task_id, limits);
    if (!procs) return fail_start(procs.error().to_string());
    auto at = std::find(args->begin(), args->end(), "--");
    for (const auto& file : *procs) at = std::next(args->insert(at, {"--cgroup", file}), 2);
  }
  {
    // Reserve the id: a second launch of a running attempt is refused, and
    // terminate()/kill() during the spawn are remembered.
    std::lock_guard lock(impl_->mutex);
    if (!impl_->tasks.try_emplace(spec.task_id).second)
      return fail_start("task " + spec.task_id + " is already running");
  }
  int fds[2];
  int rc = ::pipe2(fds, O_CLOEXEC) == 0 ? 0 : errno;
  // dup2(3, 3) would leave close-on-exec set: keep the write end off fd 3.
  if (rc == 0 && fds[1] == 3) {
    int moved = ::fcntl(fds[1], F_DUPFD_CLOEXEC, 4);
    rc = moved >= 0 ? 0 : errno;
    ::close(fds[1]);
    fds[1] = moved;
  }
  pid_t pid = 0;
  // Spawned without the lock: posix_spawn is most of launch()'s cost, and
  // the epoll thread and other launches need not wait for it.
  std::string bind_error;
  if (rc == 0) {
    std::unique_ptr<Binder::Scope> bound;
    if (!spec.cpus.empty() || !spec.numa_nodes.empty()) {
      auto scope = impl_->bind_for_spawn(spec);
      if (scope) {
        bound = std::move(*scope);
      } else {
        bind_error = scope.error().to_string();
        rc = EINVAL;
      }
    }
    if (rc == 0) rc = impl_->spawn(*args, spec.env, fds[1], &pid);
  }
  if (fds[1] >= 0) ::close(fds[1]);
  {
    std::lock_guard lock(impl_->mutex);
    auto it = impl_->tasks.find(spec.task_id);
    if (rc == 0) {
      it->second.shim = pid;
      it->second.report_fd = fds[0];
      impl_->watch(spec.task_id, fds[0]);
      if (it->second.pending_signal) ::kill(pid, it->second.pending_signal);
    } else {
      if (fds[0] >= 0) ::close(fds[0]);
      impl_->tasks.erase(it);
    }
  }
  if (rc != 0 && impl_->cgroups) impl_->cgroups->remove(spec.task_id);
  if (!bind_error.empty()) return fail_start("cannot bind to the placement: " + bind_error);
  if (rc != 0) fail_start(errno_text("cannot start helix-shim " + impl_->options.shim_path, rc));
}

void LocalExecutor::terminate(const std::string& task_id) {
  impl_->signal_task(task_id, kShimTerminate);
}
void LocalExecutor::kill(const std::string& task_id) { impl_->signal_task(task_id, kShimKill); }

void LocalExecutor::forget(const std::string& task_id) {
  if (!is_file_name(task_id)) return;
  for (const char* suffix : {".exit", ".exit.tmp", ".pid"})
    ::unlink(impl_->path(task_id, suffix).c_str());
  std::error_code ec;
  std::filesystem::remove_all(impl_->path(task_id, ".bundle"), ec);
  if (impl_->cgroups) impl_->cgroups->remove(task_id);
}

std::string LocalExecutor::limits_description() const { return impl_->limits_note; }

std::vector<ExecEvent> LocalExecutor::recover(const std::set<std::string>& task_ids) {
  std::vector<ExecEvent> out;
  out.reserve(task_ids.size());
  for (const auto& id : task_ids) {
    if (!is_file_name(id)) {
      out.push_back(event(ExecEvent::Kind::kLost, id, "task id cannot name a run record"));
      continue;
    }
    out.push_back(impl_->recover_one(id));
    // An attempt that will never run (again) has no use for its cgroups.
    if (impl_->cgroups && out.back().kind != ExecEvent::Kind::kStarted &&
        out.back().kind != ExecEvent::Kind::kExited)
      impl_->cgroups->remove(id);
  }
  // Records of attempts the store does not consider running: leftovers of
  // forget() calls a crash interrupted.
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(impl_->options.run_dir, ec)) {
    auto task = task_of_record_file(entry.path().filename().string());
    if (task && !task_ids.count(*task)) ::unlink(entry.path().c_str());
  }
  return out;
}

}  // namespace helix::workers
