// helix-container: runs one container job attempt under helix-shim.
//
//   helix-container --layout DIR --tag TAG --digest HEX --cache DIR --bundle DIR
//                   [--uid N --gid N] [--mount SRC:DST:rw|ro]... -- CMD ARGS...
//
// The executor resolved TAG in the OCI image layout DIR to its manifest
// digest before starting us. This program
//  1. unpacks the image once per digest into CACHE/<digest>/ with umoci
//     (under an flock, into a temporary directory renamed when complete, so
//     concurrent attempts and a crash mid-unpack never see half an image);
//  2. writes BUNDLE/config.json from the image's runtime config: our
//     command (or the image's), the image environment overlaid with ours,
//     the job's uid/gid, host bind mounts, the host network (as AWS Batch's
//     host mode), a read-only shared root with a private /tmp;
//  3. execs the OCI runtime so that the container stays inside the
//     attempt's cgroups, which hold it to its memory and cpuset, and
//     inherits the placement's CPU and memory binding: crun with its cgroup
//     manager disabled, or, on hosts mixing cgroup v1 and v2 controllers
//     (which crun refuses), runc with a cgroup nested in the attempt's.
// Its stdout/stderr are the attempt's log. Exit status: the container's, or
// 125 with a message when the image cannot be unpacked or crun not run.
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

constexpr int kSetupFailed = 125;

[[noreturn]] void die(const std::string& message) {
  std::cerr << "helix-container: " << message << std::endl;
  std::exit(kSetupFailed);
}

int run(const std::vector<std::string>& args) {
  pid_t pid = fork();
  if (pid < 0) die(std::string("fork: ") + std::strerror(errno));
  if (pid == 0) {
    std::vector<char*> argv;
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    execvp(argv[0], argv.data());
    std::cerr << "helix-container: exec " << args[0] << ": " << std::strerror(errno) << std::endl;
    _exit(127);
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

// CACHE/<digest>/ holds config.json and rootfs/ once unpacked.
fs::path unpack_once(const std::string& layout, const std::string& tag, const std::string& digest,
                     const fs::path& cache) {
  fs::create_directories(cache);
  fs::path done = cache / digest;
  int lock = open((cache / (digest + ".lock")).c_str(), O_CREAT | O_RDWR | O_CLOEXEC, 0600);
  if (lock < 0 || flock(lock, LOCK_EX) != 0) die("cannot lock the image cache " + cache.string());
  if (!fs::exists(done / "config.json")) {
    fs::path tmp = cache / (digest + ".unpacking");
    fs::remove_all(tmp);
    if (run({"umoci", "--log", "error", "unpack", "--image", layout + ":" + tag, tmp.string()}) !=
        0)
      die("cannot unpack image " + layout + ":" + tag + " with umoci (see above)");
    fs::rename(tmp, done);
  }
  close(lock);
  return done;
}

// cgroup v1 hierarchies beside a v2 one that has controllers: crun refuses
// to run there ("cgroups in hybrid mode not supported").
bool is_hybrid_cgroup_host() {
  std::ifstream in("/sys/fs/cgroup/unified/cgroup.controllers");
  std::string controllers;
  return in && std::getline(in, controllers) && !controllers.empty();
}

bool has_program(const std::string& name) {
  const char* path = std::getenv("PATH");
  std::stringstream dirs(path ? path : "/usr/sbin:/usr/bin:/sbin:/bin");
  std::string dir;
  while (std::getline(dirs, dir, ':'))
    if (!dir.empty() && access((dir + "/" + name).c_str(), X_OK) == 0) return true;
  return false;
}

}  // namespace

int main(int argc, char** argv) {
  std::string layout, tag, digest, cache, bundle;
  long uid = -1, gid = -1;
  std::vector<std::string> mounts, command;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--") {
      for (++i; i < argc; ++i) command.push_back(argv[i]);
      break;
    }
    if (i + 1 >= argc) die("option " + a + " needs a value");
    std::string v = argv[++i];
    if (a == "--layout")
      layout = v;
    else if (a == "--tag")
      tag = v;
    else if (a == "--digest")
      digest = v;
    else if (a == "--cache")
      cache = v;
    else if (a == "--bundle")
      bundle = v;
    else if (a == "--uid")
      uid = std::stol(v);
    else if (a == "--gid")
      gid = std::stol(v);
    else if (a == "--mount")
      mounts.push_back(v);
    else
      die("unknown option " + a);
  }
  if (layout.empty() || tag.empty() || digest.empty() || cache.empty() || bundle.empty())
    die("usage: helix-container --layout DIR --tag TAG --digest HEX --cache DIR --bundle DIR ...");

  fs::path image = unpack_once(layout, tag, digest, cache);
  json config;
  {
    std::ifstream in(image / "config.json");
    try {
      config = json::parse(in);
    } catch (const std::exception& e) {
      die("image runtime config " + (image / "config.json").string() + ": " + e.what());
    }
  }
  json& process = config["process"];
  if (!command.empty()) process["args"] = command;
  // Our environment (the job's, set by the controller) over the image's.
  std::vector<std::string> env = process.value("env", std::vector<std::string>{});
  for (char** e = environ; *e; ++e) {
    std::string var = *e;
    std::string name = var.substr(0, var.find('='));
    std::erase_if(env, [&](const std::string& x) { return x.rfind(name + "=", 0) == 0; });
    env.push_back(var);
  }
  process["env"] = env;
  process["terminal"] = false;
  if (uid >= 0) process["user"] = {{"uid", uid}, {"gid", gid}};
  config["root"] = {{"path", (image / "rootfs").string()}, {"readonly", true}};
  config["hostname"] = "helix";
  json& linux_config = config["linux"];
  json namespaces = json::array();
  for (const auto& ns : linux_config.value("namespaces", json::array()))
    if (ns.value("type", "") != "network") namespaces.push_back(ns);  // host network
  linux_config["namespaces"] = namespaces;
  linux_config.erase("resources");  // the attempt's own cgroups limit it
  linux_config.erase("cgroupsPath");
  json& m = config["mounts"];
  m.push_back({{"destination", "/tmp"},
               {"type", "tmpfs"},
               {"source", "tmpfs"},
               {"options", {"nosuid", "nodev", "mode=1777"}}});
  for (const auto& spec : mounts) {
    auto first = spec.find(':'), last = spec.rfind(':');
    if (first == std::string::npos || first == last) die("bad --mount " + spec);
    std::string src = spec.substr(0, first), dst = spec.substr(first + 1, last - first - 1);
    bool ro = spec.substr(last + 1) == "ro";
    m.push_back({{"destination", dst},
                 {"type", "bind"},
                 {"source", src},
                 {"options", {"rbind", ro ? "ro" : "rw"}}});
  }
  std::string id = "helix-" + fs::path(bundle).filename().string();
  bool use_runc = is_hybrid_cgroup_host() && has_program("runc");
  if (use_runc) config["linux"]["cgroupsPath"] = "container";  // relative: inside ours
  fs::create_directories(bundle);
  std::ofstream(fs::path(bundle) / "config.json") << config.dump(2);
  std::vector<std::string> runtime =
      use_runc ? std::vector<std::string>{"runc", "run", "--bundle", bundle, id}
               : std::vector<std::string>{
                     "crun", "--cgroup-manager=disabled", "run", "--bundle", bundle, id};
  std::vector<char*> cargv;
  for (auto& a : runtime) cargv.push_back(a.data());
  cargv.push_back(nullptr);
  execvp(cargv[0], cargv.data());
  die("exec " + runtime[0] + ": " + std::strerror(errno));
}
