#include "workers/exit_record.h"

#include <fstream>
#include <sstream>

namespace helix::workers {

std::optional<std::string> read_small_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

std::optional<PidRecord> parse_pid_record(const std::string& text) {
  PidRecord r;
  if (text.rfind("claimed", 0) == 0) {
    r.claimed = true;
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
  bool outcome = false;
  while (in >> field) {
    auto eq = field.find('=');
    if (eq == std::string::npos) return std::nullopt;
    std::string key = field.substr(0, eq);
    long long value = 0;
    try {
      value = std::stoll(field.substr(eq + 1));
    } catch (const std::exception&) {
      return std::nullopt;
    }
    if (key == "code") {
      ev.exit_code = static_cast<int>(value);
      outcome = true;
    } else if (key == "signal") {
      ev.term_signal = static_cast<int>(value);
      outcome = true;
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
    }
  }
  if (!outcome) return std::nullopt;
  return ev;
}

std::optional<unsigned long long> process_start_ticks(pid_t pid) {
  auto text = read_small_file("/proc/" + std::to_string(pid) + "/stat");
  if (!text) return std::nullopt;
  auto close = text->rfind(')');
  if (close == std::string::npos) return std::nullopt;
  std::istringstream in(text->substr(close + 2));
  std::string field;
  // Fields after the command: state is field 3; starttime is field 22.
  for (int i = 3; i < 22; ++i) in >> field;
  unsigned long long ticks = 0;
  char state = text->size() > close + 2 ? (*text)[close + 2] : '?';
  if (state == 'Z' || state == 'X') return std::nullopt;  // exited, not yet reaped
  if (!(in >> ticks)) return std::nullopt;
  return ticks;
}

}  // namespace helix::workers
