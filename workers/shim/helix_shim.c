/* helix-shim: supervises one job attempt so that it outlives helixd.
 *
 *   helix-shim --run-dir DIR --task ID --log FILE [--cwd DIR]
 *              [--uid N --gid N [--groups G1,G2,...]] [--cgroup PROCS]... -- CMD ARGS...
 *
 * The environment of the shim is the job's (execvp searches its PATH).
 * fd 3, when open, is a pipe to the executor: "S <pid> <start_us>\n" once
 * the command runs; EOF when the shim ends. The shim
 *  1. becomes a session leader and a child subreaper, and claims DIR/ID.pid
 *     ("<pid> <start ticks>", created complete and exclusively): if helixd
 *     claimed it first during recovery, the attempt must never start, so the
 *     shim exits with kExitClaimed without running anything;
 *  2. joins each cgroup whose cgroup.procs file is given with --cgroup (the
 *     attempt's memory limit and cpuset; helixd created them), so the job
 *     and everything it starts are held to its limits;
 *  3. forks the job into its own process group, with stdout/stderr appended
 *     to FILE (0600, owned by the job's user, never through a symlink),
 *     stdin from /dev/null, the job's uid/gid/groups and a clean signal
 *     state; errors before exec come back over a close-on-exec pipe;
 *  4. waits for it, kills what is left of its process group and every
 *     descendant that re-parented to the shim (daemons escaping with setsid
 *     included), and writes DIR/ID.exit atomically: "code=N" or "signal=N"
 *     with resource usage and times, or "exec_error=TEXT" when the command
 *     never ran (exec, chdir, user switch or log errors).
 * SIGTERM is forwarded to the job's process group; SIGUSR1 kills the group.
 * The executor spawns the shim with both blocked; they stay blocked until
 * the job's group exists, so a signal sent at any moment reaches the job.
 * Exit status: 0 the exit record is written; kExitClaimed; kExitNoClaim
 * (the pid record could not be created: nothing ran; message on stderr);
 * kExitNoRecord (the exit record could not be written).
 * Plain C, static and single-threaded, so starting it costs little and it
 * needs nothing from helixd's address space.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* Kept in sync with workers/run_records.h. */
enum { kExitClaimed = 2, kExitNoClaim = 125, kExitNoRecord = 126 };
enum { kMaxGroups = 256, kPathMax = 4096, kMaxCgroups = 4 };

static volatile sig_atomic_t job_pgid = 0;

/* Async-signal-safe: kill() only. Installed while the signals are blocked
 * and unblocked only once job_pgid is set, so there is always a group. */
static void on_signal(int sig) {
  int saved = errno;
  if (job_pgid > 0) kill(-job_pgid, sig == SIGUSR1 ? SIGKILL : SIGTERM);
  errno = saved;
}

static long long now_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (long long)ts.tv_sec * 1000000LL + ts.tv_nsec / 1000;
}

static long long tv_us(struct timeval tv) { return (long long)tv.tv_sec * 1000000LL + tv.tv_usec; }

static int write_all(int fd, const char* text, size_t len) {
  while (len > 0) {
    ssize_t n = write(fd, text, len);
    if (n < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    text += n;
    len -= (size_t)n;
  }
  return 0;
}

/* The start time of this process in clock ticks since boot (/proc/self/stat
 * field 22): with the pid it identifies the shim even if pids are reused. */
static unsigned long long self_starttime(void) {
  char buf[1024];
  int fd = open("/proc/self/stat", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (n <= 0) return 0;
  buf[n] = 0;
  char* p = strrchr(buf, ')'); /* the command name may hold spaces */
  if (!p) return 0;
  int field = 2;
  for (p++; *p && field < 22; p++)
    if (*p == ' ') field++;
  return strtoull(p, NULL, 10);
}

/* Creates `path` holding `text`, failing with EEXIST if it exists. Readers
 * never see it empty or half written: the content is written to an unnamed
 * file (O_TMPFILE) that is then linked in, or, where the file system lacks
 * O_TMPFILE, to a named temporary that is hard-linked. */
static int create_exclusive(const char* dir, const char* path, const char* text) {
  int fd = open(dir, O_TMPFILE | O_WRONLY | O_CLOEXEC, 0644);
  if (fd >= 0) {
    char proc[64];
    snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
    int rc = write_all(fd, text, strlen(text));
    if (rc == 0) rc = linkat(AT_FDCWD, proc, AT_FDCWD, path, AT_SYMLINK_FOLLOW);
    int err = errno;
    close(fd);
    errno = err;
    if (rc == 0 || errno == EEXIST || errno == ENOSPC || errno == EDQUOT) return rc;
  }
  char tmp[kPathMax + 32];
  snprintf(tmp, sizeof tmp, "%s.%d.tmp", path, (int)getpid());
  fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return -1;
  int rc = write_all(fd, text, strlen(text));
  close(fd);
  if (rc == 0) rc = link(tmp, path);
  int err = errno;
  unlink(tmp);
  errno = err;
  return rc;
}

static int write_record(const char* dir, const char* task, const char* text) {
  char tmp[kPathMax + 16], path[kPathMax + 16];
  snprintf(tmp, sizeof tmp, "%s/%s.exit.tmp", dir, task);
  snprintf(path, sizeof path, "%s/%s.exit", dir, task);
  int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return -1;
  int rc = write_all(fd, text, strlen(text));
  close(fd);
  return rc == 0 ? rename(tmp, path) : -1;
}

/* The command never ran: record why (a kStartFailed for the executor). */
static int start_failed(const char* dir, const char* task, const char* reason) {
  char record[kPathMax + 512];
  snprintf(record, sizeof record, "exec_error=%s\n", reason);
  return write_record(dir, task, record) == 0 ? 0 : kExitNoRecord;
}

/* SIGKILLs every child of the shim; returns how many were listed, or -1
 * if the kernel does not list children. Our children cannot be reaped
 * behind our back, so their pids stay theirs while we signal them. */
static int kill_children(void) {
  char path[64], buf[4096];
  snprintf(path, sizeof path, "/proc/%d/task/%d/children", (int)getpid(), (int)getpid());
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  int count = 0;
  long pid = 0;
  ssize_t n;
  while ((n = read(fd, buf, sizeof buf)) > 0) {
    for (ssize_t k = 0; k < n; k++) {
      if (buf[k] >= '0' && buf[k] <= '9') {
        pid = pid * 10 + (buf[k] - '0'); /* numbers may span reads */
      } else if (pid > 0) {
        kill((pid_t)pid, SIGKILL);
        count++;
        pid = 0;
      }
    }
  }
  if (pid > 0) {
    kill((pid_t)pid, SIGKILL);
    count++;
  }
  close(fd);
  return count;
}

/* After the job's main process ended: nothing it started may outlive it. */
static void reap_descendants(void) {
  for (;;) {
    int listed = kill_children();
    pid_t r = waitpid(-1, NULL, listed > 0 ? 0 : WNOHANG);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return; /* ECHILD: none left */
  }
}

static int parse_groups(const char* text, gid_t* groups) {
  int n = 0;
  char* end;
  while (*text && n < kMaxGroups) {
    groups[n++] = (gid_t)strtoul(text, &end, 10);
    if (end == text) return -1;
    text = *end == ',' ? end + 1 : end;
  }
  return n;
}

/* The forked child: becomes the job. Writes why it failed to `err_fd`. */
static void run_job(char** command, const char* cwd, int log_fd, int err_fd, long uid, long gid,
                    const gid_t* groups, int ngroups) {
  struct sigaction dfl;
  memset(&dfl, 0, sizeof dfl);
  dfl.sa_handler = SIG_DFL;
  sigaction(SIGTERM, &dfl, NULL);
  sigaction(SIGUSR1, &dfl, NULL);
  sigaction(SIGPIPE, &dfl, NULL);
  setpgid(0, 0);
  char msg[kPathMax + 256];
  int n;
  int devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (devnull < 0 || dup2(devnull, 0) < 0 || dup2(log_fd, 1) < 0 || dup2(log_fd, 2) < 0) {
    n = snprintf(msg, sizeof msg, "redirect stdio: %s", strerror(errno));
    goto fail;
  }
  if (gid >= 0) {
    gid_t primary = (gid_t)gid;
    if ((ngroups > 0 ? setgroups((size_t)ngroups, groups) : setgroups(1, &primary)) != 0 ||
        setgid(primary) != 0) {
      n = snprintf(msg, sizeof msg, "setgid(%ld): %s", gid, strerror(errno));
      goto fail;
    }
  }
  if (uid >= 0 && setuid((uid_t)uid) != 0) {
    n = snprintf(msg, sizeof msg, "setuid(%ld): %s", uid, strerror(errno));
    goto fail;
  }
  if (chdir(cwd) != 0) {
    n = snprintf(msg, sizeof msg, "chdir(\"%s\"): %s", cwd, strerror(errno));
    goto fail;
  }
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, NULL);
  execvp(command[0], command);
  n = snprintf(msg, sizeof msg, "execvp(\"%s\"): %s", command[0], strerror(errno));
fail:
  if (n > (int)sizeof msg - 1) n = (int)sizeof msg - 1;
  write_all(err_fd, msg, (size_t)n);
  _exit(127);
}

static int usage(void) {
  dprintf(2,
          "usage: helix-shim --run-dir DIR --task ID --log FILE [--cwd DIR] "
          "[--uid N --gid N [--groups G1,G2]] -- CMD ARGS...\n");
  return kExitNoClaim;
}

/* Moves this process into the cgroup whose cgroup.procs (v2) or tasks/
 * cgroup.procs (v1) file is `procs`. 0 or -1 with errno. */
static int join_cgroup(const char* procs) {
  int fd = open(procs, O_WRONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  char pid[24];
  int len = snprintf(pid, sizeof pid, "%d\n", (int)getpid());
  int rc = write_all(fd, pid, (size_t)len);
  int saved = errno;
  close(fd);
  errno = saved;
  return rc;
}

int main(int argc, char** argv) {
  /* Blocked until the job's process group exists (see on_signal). */
  sigset_t control, unblocked;
  sigemptyset(&control);
  sigaddset(&control, SIGTERM);
  sigaddset(&control, SIGUSR1);
  sigprocmask(SIG_BLOCK, &control, &unblocked);
  sigdelset(&unblocked, SIGTERM);
  sigdelset(&unblocked, SIGUSR1);

  const char *run_dir = NULL, *task = NULL, *log_path = NULL, *cwd = "/";
  long uid = -1, gid = -1;
  gid_t groups[kMaxGroups];
  int ngroups = 0;
  const char* cgroups[kMaxCgroups];
  int ncgroups = 0;
  int i = 1;
  for (; i < argc; i++) {
    if (strcmp(argv[i], "--") == 0) {
      i++;
      break;
    }
    if (i + 1 >= argc) return usage();
    const char* value = argv[++i];
    if (strcmp(argv[i - 1], "--run-dir") == 0)
      run_dir = value;
    else if (strcmp(argv[i - 1], "--task") == 0)
      task = value;
    else if (strcmp(argv[i - 1], "--log") == 0)
      log_path = value;
    else if (strcmp(argv[i - 1], "--cwd") == 0)
      cwd = value;
    else if (strcmp(argv[i - 1], "--uid") == 0)
      uid = atol(value);
    else if (strcmp(argv[i - 1], "--gid") == 0)
      gid = atol(value);
    else if (strcmp(argv[i - 1], "--cgroup") == 0) {
      if (ncgroups == kMaxCgroups) return usage();
      cgroups[ncgroups++] = value;
    } else if (strcmp(argv[i - 1], "--groups") == 0) {
      if ((ngroups = parse_groups(value, groups)) < 0) return usage();
    } else
      return usage();
  }
  if (!run_dir || !task || !log_path || i >= argc || (uid >= 0 && gid < 0)) return usage();
  if (strlen(run_dir) + strlen(task) > kPathMax - 64 || strlen(log_path) > kPathMax - 64)
    return usage();
  char** command = argv + i;

  /* helixd's descriptors stay with helixd (a listening socket held by a
   * shim would keep a restarted helixd from binding its port). */
  int report = fcntl(3, F_GETFD) >= 0 ? 3 : -1;
  if (report >= 0) fcntl(report, F_SETFD, FD_CLOEXEC);
  syscall(SYS_close_range, 4U, ~0U, 0U);
  signal(SIGPIPE, SIG_IGN); /* the executor may be gone: fd 3 then gives EPIPE */
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGUSR1, &sa, NULL);
  setsid();
  prctl(PR_SET_CHILD_SUBREAPER, 1); /* orphans of the job come back to us */

  char pid_path[kPathMax], line[128];
  snprintf(pid_path, sizeof pid_path, "%s/%s.pid", run_dir, task);
  snprintf(line, sizeof line, "%d %llu\n", (int)getpid(), self_starttime());
  if (create_exclusive(run_dir, pid_path, line) != 0) {
    if (errno == EEXIST) return kExitClaimed; /* recovery claimed it: never start */
    dprintf(2, "helix-shim: cannot create %s: %s\n", pid_path, strerror(errno));
    return kExitNoClaim;
  }

  /* From here on, failures are reported in the exit record; helixd's stdio
   * (perhaps a pipe someone waits on) is not held for the job's lifetime. */
  int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
  if (devnull >= 0) {
    dup2(devnull, 0);
    dup2(devnull, 1);
    dup2(devnull, 2);
    close(devnull);
  }

  char reason[kPathMax + 256];
  /* O_NOFOLLOW, O_NONBLOCK (a FIFO without reader fails instead of hanging)
   * and the regular-file check: the shim runs as root and must not be
   * steered into appending to, or chowning, some other file. */
  const char* why = NULL;
  int log_fd =
      open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK,
           0600);
  struct stat st;
  if (log_fd < 0 || fstat(log_fd, &st) != 0)
    why = strerror(errno);
  else if (!S_ISREG(st.st_mode))
    why = "not a regular file";
  else if ((uid >= 0 && fchown(log_fd, (uid_t)uid, (gid_t)gid) != 0) ||
           fcntl(log_fd, F_SETFL, O_APPEND) != 0)
    why = strerror(errno);
  if (why) {
    snprintf(reason, sizeof reason, "log \"%s\": %s", log_path, why);
    return start_failed(run_dir, task, reason);
  }

  /* Before the fork, so the job inherits the cgroups; after the claim, so a
   * claimed attempt never touches them. */
  for (int c = 0; c < ncgroups; c++) {
    if (join_cgroup(cgroups[c]) != 0) {
      snprintf(reason, sizeof reason, "cgroup \"%s\": %s", cgroups[c], strerror(errno));
      return start_failed(run_dir, task, reason);
    }
  }

  int errpipe[2];
  if (pipe2(errpipe, O_CLOEXEC) != 0) {
    snprintf(reason, sizeof reason, "helix-shim: pipe: %s", strerror(errno));
    return start_failed(run_dir, task, reason);
  }
  long long start_us = now_us();
  pid_t pid = fork();
  if (pid < 0) {
    snprintf(reason, sizeof reason, "helix-shim: fork: %s", strerror(errno));
    return start_failed(run_dir, task, reason);
  }
  if (pid == 0) run_job(command, cwd, log_fd, errpipe[1], uid, gid, groups, ngroups);
  setpgid(pid, pid); /* also done by the child: whichever runs first */
  job_pgid = pid;
  sigprocmask(SIG_SETMASK, &unblocked, NULL); /* pending signals reach the group now */
  close(errpipe[1]);
  close(log_fd);

  char exec_error[kPathMax + 256];
  ssize_t got = 0, n;
  while ((n = read(errpipe[0], exec_error + got, sizeof exec_error - 1 - (size_t)got)) != 0) {
    if (n < 0) {
      if (errno == EINTR) continue;
      break;
    }
    got += n;
    if ((size_t)got >= sizeof exec_error - 1) break;
  }
  close(errpipe[0]);
  exec_error[got] = 0;

  if (got == 0 && report >= 0) {
    int len = snprintf(line, sizeof line, "S %d %lld\n", (int)pid, start_us);
    write_all(report, line, (size_t)len);
  }

  /* Wait for the job without reaping it (WNOWAIT): while its zombie holds
   * the pid, the process group id cannot be reused, so killing the group
   * afterwards cannot hit a stranger. Orphans re-parented to us are reaped
   * as they end. */
  for (;;) {
    siginfo_t info;
    memset(&info, 0, sizeof info);
    if (waitid(P_ALL, 0, &info, WEXITED | WNOWAIT) != 0) {
      if (errno == EINTR) continue;
      break;
    }
    if (info.si_pid == pid) break;
    waitpid(info.si_pid, NULL, 0);
  }
  long long end_us = now_us();
  kill(-pid, SIGKILL); /* what the job left behind in its group */
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  job_pgid = 0;
  reap_descendants();

  if (got > 0) return start_failed(run_dir, task, exec_error);
  /* RUSAGE_CHILDREN: the job plus the descendants we reaped for it. */
  struct rusage ru;
  memset(&ru, 0, sizeof ru);
  getrusage(RUSAGE_CHILDREN, &ru);
  char outcome[32], record[512];
  if (WIFSIGNALED(status))
    snprintf(outcome, sizeof outcome, "signal=%d", WTERMSIG(status));
  else
    snprintf(outcome, sizeof outcome, "code=%d", WEXITSTATUS(status));
  snprintf(record, sizeof record,
           "%s pid=%d start_us=%lld end_us=%lld utime_us=%lld stime_us=%lld maxrss_kib=%ld\n",
           outcome, (int)pid, start_us, end_us, tv_us(ru.ru_utime), tv_us(ru.ru_stime),
           ru.ru_maxrss);
  return write_record(run_dir, task, record) == 0 ? 0 : kExitNoRecord;
}
