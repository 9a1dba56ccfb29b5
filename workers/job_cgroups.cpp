#include "workers/job_cgroups.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "workers/run_records.h"

namespace helix::workers {

namespace {

// One v1 hierarchy as this process sees it.
struct Hierarchy {
  std::string mount_point;  // "/sys/fs/cgroup/memory"
  std::string mount_root;   // the hierarchy path mounted there ("/" outside containers)
};

std::vector<std::string> split(const std::string& text, char sep) {
  std::vector<std::string> out;
  std::string part;
  std::istringstream in(text);
  while (std::getline(in, part, sep)) out.push_back(part);
  return out;
}

// The v1 hierarchy carrying `controller`, from /proc/self/mountinfo:
// "ID PARENT MAJ:MIN ROOT MOUNT OPTIONS [TAGS...] - cgroup SOURCE SUPER".
std::optional<Hierarchy> find_v1_mount(const std::string& controller) {
  std::ifstream in("/proc/self/mountinfo");
  std::string line;
  while (std::getline(in, line)) {
    auto dash = line.find(" - ");
    if (dash == std::string::npos) continue;
    auto before = split(line.substr(0, dash), ' ');
    auto after = split(line.substr(dash + 3), ' ');
    if (before.size() < 5 || after.size() < 3 || after[0] != "cgroup") continue;
    auto options = split(after[2], ',');
    if (std::find(options.begin(), options.end(), controller) == options.end()) continue;
    return Hierarchy{before[4], before[3]};
  }
  return std::nullopt;
}

// This process's path in the v1 hierarchy of `controller`, from
// /proc/self/cgroup ("4:memory:/process_api/abc").
std::optional<std::string> own_v1_path(const std::string& controller) {
  std::ifstream in("/proc/self/cgroup");
  std::string line;
  while (std::getline(in, line)) {
    auto first = line.find(':');
    auto second = line.find(':', first + 1);
    if (first == std::string::npos || second == std::string::npos) continue;
    auto controllers = split(line.substr(first + 1, second - first - 1), ',');
    if (std::find(controllers.begin(), controllers.end(), controller) != controllers.end())
      return line.substr(second + 1);
  }
  return std::nullopt;
}

// The directory of this process's own cgroup in the `controller` hierarchy.
std::optional<std::string> own_v1_dir(const std::string& controller) {
  auto mount = find_v1_mount(controller);
  auto path = own_v1_path(controller);
  if (!mount || !path) return std::nullopt;
  std::string relative = *path;
  // Inside a container the mount shows only our subtree: strip its root.
  if (mount->mount_root != "/" && relative.rfind(mount->mount_root, 0) == 0)
    relative = relative.substr(mount->mount_root.size());
  if (relative == "/") relative.clear();
  return mount->mount_point + relative;
}

Result<void> write_file(const std::string& path, const std::string& value) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return fail(Error::unavailable("cannot open " + path, std::strerror(errno)));
  ssize_t n = ::write(fd, value.data(), value.size());
  int err = errno;
  ::close(fd);
  if (n != static_cast<ssize_t>(value.size()))
    return fail(Error::unavailable("cannot write \"" + value + "\" to " + path,
                                   n < 0 ? std::strerror(err) : "short write"));
  return {};
}

Result<void> make_dir(const std::string& path) {
  if (::mkdir(path.c_str(), 0755) != 0 && errno != EEXIST)
    return fail(Error::unavailable("cannot create cgroup " + path, std::strerror(errno)));
  return {};
}

std::string trimmed(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  return text;
}

// A v1 cpuset cgroup accepts tasks only once cpus and mems are set; a new
// one starts empty, so it inherits its parent's unless told otherwise.
Result<void> init_cpuset(const std::string& dir, const std::string& parent, const std::string& cpus,
                         const std::string& mems) {
  for (const char* file : {"cpuset.cpus", "cpuset.mems"}) {
    bool is_cpus = std::strcmp(file, "cpuset.cpus") == 0;
    std::string value = is_cpus ? cpus : mems;
    if (value.empty()) value = trimmed(read_small_file(parent + "/" + file).value_or(""));
    if (auto r = write_file(dir + "/" + file, value); !r) return r;
  }
  return {};
}

std::optional<int64_t> counter(const std::string& file, const std::string& key) {
  auto text = read_small_file(file);
  if (!text) return std::nullopt;
  std::istringstream in(*text);
  std::string name;
  int64_t value = 0;
  while (in >> name >> value)
    if (name == key) return value;
  return std::nullopt;
}

}  // namespace

std::string format_cpu_list(std::vector<int> indexes) {
  std::sort(indexes.begin(), indexes.end());
  indexes.erase(std::unique(indexes.begin(), indexes.end()), indexes.end());
  std::string out;
  for (size_t i = 0; i < indexes.size();) {
    size_t j = i;
    while (j + 1 < indexes.size() && indexes[j + 1] == indexes[j] + 1) ++j;
    if (!out.empty()) out += ',';
    out += std::to_string(indexes[i]);
    if (j > i) out += '-' + std::to_string(indexes[j]);
    i = j + 1;
  }
  return out;
}

std::optional<std::vector<int>> parse_cpu_list(const std::string& text) {
  std::vector<int> out;
  std::string body = trimmed(text);
  if (body.empty()) return out;
  for (const auto& part : split(body, ',')) {
    int first = 0, last = 0;
    char dash = 0;
    std::istringstream in(part);
    if (!(in >> first) || first < 0) return std::nullopt;
    last = first;
    if (in >> dash) {
      if (dash != '-' || !(in >> last) || last < first) return std::nullopt;
    }
    std::string rest;
    if (in >> rest) return std::nullopt;
    for (int i = first; i <= last; ++i) out.push_back(i);
  }
  return out;
}

std::unique_ptr<JobCgroups> JobCgroups::detect(std::string* why_not) {
  auto memory = own_v1_dir("memory");
  if (!memory) {
    *why_not = "no cgroup v1 memory hierarchy (cgroup v2 is not supported yet)";
    return nullptr;
  }
  if (::access(memory->c_str(), W_OK) != 0) {
    *why_not = "cannot create cgroups in " + *memory + ": " + std::strerror(errno);
    return nullptr;
  }
  auto cpuset = own_v1_dir("cpuset");
  if (cpuset && ::access(cpuset->c_str(), W_OK) != 0) cpuset.reset();
  return std::make_unique<JobCgroups>(*memory, cpuset.value_or(""));
}

JobCgroups::JobCgroups(std::string memory_dir, std::string cpuset_dir)
    : memory_dir_(std::move(memory_dir)), cpuset_dir_(std::move(cpuset_dir)) {}

std::string JobCgroups::description() const {
  std::string out =
      "cgroup v1: memory at " + (memory_dir_.empty() ? "(none)" : memory_dir_ + "/helix");
  out += ", cpuset at " + (cpuset_dir_.empty() ? "(none)" : cpuset_dir_ + "/helix");
  return out;
}

Result<std::vector<std::string>> JobCgroups::create(const std::string& task_id,
                                                    const CgroupLimits& limits) {
  std::vector<std::string> procs;
  auto undo = [&](Error error) -> Result<std::vector<std::string>> {
    remove(task_id);
    return fail(std::move(error));
  };
  if (!memory_dir_.empty() && limits.memory_mib) {
    std::string parent = memory_dir_ + "/helix";
    std::string dir = parent + "/" + task_id;
    if (auto r = make_dir(parent); !r) return undo(r.error());
    if (auto r = make_dir(dir); !r) return undo(r.error());
    std::string bytes = std::to_string(*limits.memory_mib * 1024 * 1024);
    if (auto r = write_file(dir + "/memory.limit_in_bytes", bytes); !r) return undo(r.error());
    // Without swap accounting the job could page out past its limit.
    if (::access((dir + "/memory.memsw.limit_in_bytes").c_str(), F_OK) == 0)
      if (auto r = write_file(dir + "/memory.memsw.limit_in_bytes", bytes); !r)
        return undo(r.error());
    procs.push_back(dir + "/cgroup.procs");
  }
  if (!cpuset_dir_.empty() && !limits.cpus.empty()) {
    std::string parent = cpuset_dir_ + "/helix";
    std::string dir = parent + "/" + task_id;
    bool fresh_parent = ::access(parent.c_str(), F_OK) != 0;
    if (auto r = make_dir(parent); !r) return undo(r.error());
    if (fresh_parent || trimmed(read_small_file(parent + "/cpuset.cpus").value_or("")).empty())
      if (auto r = init_cpuset(parent, cpuset_dir_, "", ""); !r) return undo(r.error());
    if (auto r = make_dir(dir); !r) return undo(r.error());
    std::string mems = limits.mems.empty() ? "" : format_cpu_list(limits.mems);
    if (auto r = init_cpuset(dir, parent, format_cpu_list(limits.cpus), mems); !r)
      return undo(r.error());
    procs.push_back(dir + "/cgroup.procs");
  }
  return procs;
}

bool JobCgroups::oom_killed(const std::string& task_id) const {
  if (memory_dir_.empty()) return false;
  auto kills = counter(memory_dir_ + "/helix/" + task_id + "/memory.oom_control", "oom_kill");
  return kills && *kills > 0;
}

std::optional<int64_t> JobCgroups::peak_memory_kib(const std::string& task_id) const {
  if (memory_dir_.empty()) return std::nullopt;
  auto text = read_small_file(memory_dir_ + "/helix/" + task_id + "/memory.max_usage_in_bytes");
  if (!text) return std::nullopt;
  try {
    return std::stoll(*text) / 1024;
  } catch (...) {
    return std::nullopt;
  }
}

void JobCgroups::remove(const std::string& task_id) {
  for (const auto& root : {memory_dir_, cpuset_dir_})
    if (!root.empty()) ::rmdir((root + "/helix/" + task_id).c_str());
}

}  // namespace helix::workers
