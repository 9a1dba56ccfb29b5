#include "workers/run_records.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <sstream>

namespace helix::workers {

namespace {

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() > suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

int write_all(int fd, const std::string& text) {
  size_t done = 0;
  while (done < text.size()) {
    ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    done += static_cast<size_t>(n);
  }
  return 0;
}

}  // namespace

std::optional<std::string> read_small_file(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  std::string text;
  char buf[4096];
  ssize_t n;
  while ((n = ::read(fd, buf, sizeof buf)) != 0) {
    if (n < 0) {
      if (errno == EINTR) continue;
      ::close(fd);
      return std::nullopt;
    }
    text.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return text;
}

std::optional<PidRecord> parse_pid_record(const std::string& text) {
  PidRecord r;
  if (text == "claimed\n") {
    r.is_claim = true;
    return r;
  }
  std::istringstream in(text);
  long pid = 0;
  if (!(in >> pid >> r.start_ticks) || pid <= 0) return std::nullopt;
  r.pid = static_cast<pid_t>(pid);
  return r;
}

std::optional<ExecEvent> parse_exit_record(const std::string& task_id, const std::string& text) {
  ExecEvent ev;
  ev.task_id = task_id;
  if (text.rfind("exec_error=", 0) == 0) {
    ev.kind = ExecEvent::Kind::kStartFailed;
    ev.reason = text.substr(11);
    while (!ev.reason.empty() && ev.reason.back() == '\n') ev.reason.pop_back();
    return ev;
  }
  ev.kind = ExecEvent::Kind::kExited;
  std::istringstream in(text);
  std::string field;
  bool has_outcome = false;
  while (in >> field) {
    auto eq = field.find('=');
    if (eq == std::string::npos) return std::nullopt;
    std::string key = field.substr(0, eq);
    long long value = 0;
    const char* first = field.data() + eq + 1;
    const char* last = field.data() + field.size();
    auto [end, ec] = std::from_chars(first, last, value);
    if (ec != std::errc() || end != last) return std::nullopt;
    if (key == "code") {
      ev.exit_code = static_cast<int>(value);
      has_outcome = true;
    } else if (key == "signal") {
      ev.term_signal = static_cast<int>(value);
      has_outcome = true;
    } else if (key == "pid") {
      ev.pid = static_cast<pid_t>(value);
    } else if (key == "start_us") {
      ev.started_at = from_epoch_us(value);
    } else if (key == "end_us") {
      ev.ended_at = from_epoch_us(value);
    } else if (key == "utime_us") {
      ev.usage.user_seconds = static_cast<double>(value) / 1e6;
    } else if (key == "stime_us") {
      ev.usage.system_seconds = static_cast<double>(value) / 1e6;
    } else if (key == "maxrss_kib") {
      ev.usage.max_rss_kib = value;
    }  // unknown keys: a newer shim; ignore
  }
  if (!has_outcome) return std::nullopt;
  return ev;
}

std::optional<std::string> task_of_record_file(const std::string& name) {
  for (const char* suffix : {".pid", ".exit", ".exit.tmp"}) {
    if (ends_with(name, suffix)) return name.substr(0, name.size() - std::string(suffix).size());
  }
  // "<task>.pid.<pid>.tmp", the shim's fallback temporary.
  if (ends_with(name, ".tmp")) {
    auto dot = name.rfind(".pid.", name.size() - 4);
    if (dot != std::string::npos && dot > 0) return name.substr(0, dot);
  }
  return std::nullopt;
}

std::optional<unsigned long long> process_start_ticks(pid_t pid) {
  auto text = read_small_file("/proc/" + std::to_string(pid) + "/stat");
  if (!text) return std::nullopt;
  // "pid (comm) state ppid ...": comm may hold spaces and parentheses, so
  // count fields from the last ')'. state is field 3, starttime field 22.
  auto close = text->rfind(')');
  if (close == std::string::npos || close + 2 >= text->size()) return std::nullopt;
  char state = (*text)[close + 2];
  if (state == 'Z' || state == 'X') return std::nullopt;  // exited, not yet reaped
  std::istringstream in(text->substr(close + 2));
  std::string field;
  for (int i = 3; i < 22; ++i) in >> field;
  unsigned long long ticks = 0;
  if (!(in >> ticks)) return std::nullopt;
  return ticks;
}

int create_exclusive(const std::string& dir, const std::string& path, const std::string& text) {
  int fd = ::open(dir.c_str(), O_TMPFILE | O_WRONLY | O_CLOEXEC, 0644);
  if (fd >= 0) {
    int err = write_all(fd, text);
    if (err == 0) {
      std::string proc = "/proc/self/fd/" + std::to_string(fd);
      if (::linkat(AT_FDCWD, proc.c_str(), AT_FDCWD, path.c_str(), AT_SYMLINK_FOLLOW) != 0)
        err = errno;
    }
    ::close(fd);
    if (err == 0 || err == EEXIST || err == ENOSPC || err == EDQUOT) return err;
  }
  // No O_TMPFILE here (or no /proc): a named temporary, hard-linked.
  std::string tmp = path + "." + std::to_string(::getpid()) + ".tmp";
  fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return errno;
  int err = write_all(fd, text);
  ::close(fd);
  if (err == 0 && ::link(tmp.c_str(), path.c_str()) != 0) err = errno;
  ::unlink(tmp.c_str());
  return err;
}

}  // namespace helix::workers
