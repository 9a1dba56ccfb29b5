/* helix-shim: supervises one job attempt so that it outlives helixd.
 *
 *   helix-shim --run-dir DIR --task ID --log FILE --cwd DIR [--uid N --gid N] -- CMD ARGS...
 *
 * The environment of the shim is the job's. fd 3, when open, is a pipe to
 * the executor: "S <pid> <start_us>\n" once the command runs. The shim
 *  1. becomes a session leader and claims DIR/ID.pid with O_EXCL (if helixd
 *     claimed it first during recovery, the attempt must never start: exit);
 *  2. forks the job into its own process group, with stdout/stderr appended
 *     to FILE (0600, owned by the job's user), stdin from /dev/null, and the
 *     job's uid/gid; exec errors come back over a close-on-exec pipe;
 *  3. waits for it, kills what is left of its process group, and writes
 *     DIR/ID.exit atomically: "code=N" or "signal=N", resource usage and
 *     times, or "exec_error=TEXT" when the command could not be started.
 * SIGTERM is forwarded to the job's process group; SIGUSR1 kills it.
 * Plain C and static, so starting it costs little and it needs nothing
 * from helixd's address space.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t job_pgid = 0;
static volatile sig_atomic_t pending_signal = 0;

static void on_signal(int sig) {
  int forward = sig == SIGUSR1 ? SIGKILL : SIGTERM;
  if (job_pgid > 0) {
    kill(-job_pgid, forward);
  } else if (pending_signal != SIGKILL) {
    pending_signal = forward;
  }
}

static long long now_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (long long)ts.tv_sec * 1000000LL + ts.tv_nsec / 1000;
}

static long long tv_us(struct timeval tv) { return (long long)tv.tv_sec * 1000000LL + tv.tv_usec; }

static void die(const char* what) {
  dprintf(2, "helix-shim: %s: %s\n", what, strerror(errno));
  exit(125);
}

/* The start time of this process in clock ticks since boot (/proc/self/stat
 * field 22): with the pid it identifies the shim even if pids are reused. */
static unsigned long long self_starttime(void) {
  char buf[4096];
  int fd = open("/proc/self/stat", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (n <= 0) return 0;
  buf[n] = 0;
  char* p = strrchr(buf, ')');
  if (!p) return 0;
  unsigned long long value = 0;
  int field = 2;
  for (p++; *p && field < 22; p++)
    if (*p == ' ') field++;
  sscanf(p, "%llu", &value);
  return value;
}

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

static void write_record(const char* dir, const char* task, const char* text) {
  char tmp[4096], path[4096];
  snprintf(tmp, sizeof tmp, "%s/%s.exit.tmp", dir, task);
  snprintf(path, sizeof path, "%s/%s.exit", dir, task);
  int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) die("open exit record");
  if (write_all(fd, text, strlen(text)) != 0) die("write exit record");
  close(fd);
  if (rename(tmp, path) != 0) die("rename exit record");
}

int main(int argc, char** argv) {
  const char *run_dir = NULL, *task = NULL, *log_path = NULL, *cwd = "/";
  long uid = -1, gid = -1;
  int i = 1;
  for (; i < argc; i++) {
    if (strcmp(argv[i], "--") == 0) {
      i++;
      break;
    }
    if (i + 1 >= argc) break;
    if (strcmp(argv[i], "--run-dir") == 0)
      run_dir = argv[++i];
    else if (strcmp(argv[i], "--task") == 0)
      task = argv[++i];
    else if (strcmp(argv[i], "--log") == 0)
      log_path = argv[++i];
    else if (strcmp(argv[i], "--cwd") == 0)
      cwd = argv[++i];
    else if (strcmp(argv[i], "--uid") == 0)
      uid = atol(argv[++i]);
    else if (strcmp(argv[i], "--gid") == 0)
      gid = atol(argv[++i]);
    else {
      dprintf(2, "helix-shim: unknown option %s\n", argv[i]);
      return 125;
    }
  }
  if (!run_dir || !task || !log_path || i >= argc) {
    dprintf(2,
            "usage: helix-shim --run-dir DIR --task ID --log FILE [--cwd DIR] "
            "[--uid N --gid N] -- CMD ARGS...\n");
    return 125;
  }
  char** command = argv + i;
  int report = fcntl(3, F_GETFD) >= 0 ? 3 : -1;
  if (report >= 0) fcntl(report, F_SETFD, FD_CLOEXEC);
  signal(SIGPIPE, SIG_IGN);
  setsid();

  char pid_path[4096];
  snprintf(pid_path, sizeof pid_path, "%s/%s.pid", run_dir, task);
  int pid_fd = open(pid_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (pid_fd < 0) {
    if (errno == EEXIST) return 0; /* claimed by recovery: never start */
    die("claim pid record");
  }
  char line[256];
  int len = snprintf(line, sizeof line, "%d %llu\n", (int)getpid(), self_starttime());
  if (write_all(pid_fd, line, (size_t)len) != 0) die("write pid record");
  close(pid_fd);

  int log_fd = open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (log_fd < 0) {
    char record[4200];
    snprintf(record, sizeof record, "exec_error=cannot open log %s: %s\n", log_path,
             strerror(errno));
    write_record(run_dir, task, record);
    return 0;
  }
  if (uid >= 0 && fchown(log_fd, (uid_t)uid, (gid_t)gid) != 0) die("chown log");

  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGUSR1, &sa, NULL);

  int errpipe[2];
  if (pipe2(errpipe, O_CLOEXEC) != 0) die("pipe");
  sigset_t block, old;
  sigemptyset(&block);
  sigaddset(&block, SIGTERM);
  sigaddset(&block, SIGUSR1);
  sigprocmask(SIG_BLOCK, &block, &old);
  long long start_us = now_us();
  pid_t pid = fork();
  if (pid < 0) die("fork");
  if (pid == 0) {
    struct sigaction dfl;
    memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    sigaction(SIGTERM, &dfl, NULL);
    sigaction(SIGUSR1, &dfl, NULL);
    sigaction(SIGPIPE, &dfl, NULL);
    sigprocmask(SIG_SETMASK, &old, NULL);
    setpgid(0, 0);
    int devnull = open("/dev/null", O_RDONLY);
    const char* step = "redirect";
    if (devnull < 0 || dup2(devnull, 0) < 0 || dup2(log_fd, 1) < 0 || dup2(log_fd, 2) < 0)
      goto fail;
    step = "switch user";
    if (gid >= 0) {
      gid_t g = (gid_t)gid;
      if (setgroups(1, &g) != 0 || setgid(g) != 0) goto fail;
    }
    if (uid >= 0 && setuid((uid_t)uid) != 0) goto fail;
    step = "chdir";
    if (chdir(cwd) != 0) goto fail;
    step = "execvp";
    execvp(command[0], command);
  fail:;
    int err = errno;
    char msg[4200];
    int n = strcmp(step, "execvp") == 0
                ? snprintf(msg, sizeof msg, "execvp(\"%s\"): %s", command[0], strerror(err))
            : strcmp(step, "chdir") == 0
                ? snprintf(msg, sizeof msg, "chdir(\"%s\"): %s", cwd, strerror(err))
                : snprintf(msg, sizeof msg, "%s: %s", step, strerror(err));
    write_all(errpipe[1], msg, (size_t)n);
    _exit(127);
  }
  setpgid(pid, pid);
  job_pgid = pid;
  sigprocmask(SIG_SETMASK, &old, NULL);
  if (pending_signal) kill(-pid, pending_signal);
  close(errpipe[1]);
  close(log_fd);

  char exec_error[4200];
  ssize_t got = 0, n;
  while ((n = read(errpipe[0], exec_error + got, sizeof exec_error - 1 - (size_t)got)) != 0) {
    if (n < 0) {
      if (errno == EINTR) continue;
      break;
    }
    got += n;
  }
  close(errpipe[0]);
  exec_error[got > 0 ? got : 0] = 0;

  if (got == 0 && report >= 0) {
    len = snprintf(line, sizeof line, "S %d %lld\n", (int)pid, start_us);
    write_all(report, line, (size_t)len);
  }

  int status = 0;
  struct rusage ru;
  memset(&ru, 0, sizeof ru);
  while (wait4(pid, &status, 0, &ru) < 0) {
    if (errno != EINTR) die("wait4");
  }
  long long end_us = now_us();
  job_pgid = 0;
  kill(-pid, SIGKILL); /* what the job left behind in its group */

  char record[4600];
  if (got > 0) {
    snprintf(record, sizeof record, "exec_error=%s\n", exec_error);
  } else {
    char outcome[64];
    if (WIFSIGNALED(status))
      snprintf(outcome, sizeof outcome, "signal=%d", WTERMSIG(status));
    else
      snprintf(outcome, sizeof outcome, "code=%d", WEXITSTATUS(status));
    snprintf(record, sizeof record,
             "%s pid=%d start_us=%lld end_us=%lld utime_us=%lld stime_us=%lld maxrss_kib=%ld\n",
             outcome, (int)pid, start_us, end_us, tv_us(ru.ru_utime), tv_us(ru.ru_stime),
             ru.ru_maxrss);
  }
  write_record(run_dir, task, record);
  return 0;
}
