#include "scheduler/controller/unix_users.h"

#include <pwd.h>
#include <unistd.h>

#include <vector>

namespace helix::controller {

namespace {

template <class Lookup>
std::optional<UnixUser> lookup(Lookup call) {
  long hint = sysconf(_SC_GETPW_R_SIZE_MAX);
  std::vector<char> buffer(hint > 0 ? static_cast<size_t>(hint) : 16384);
  struct passwd pw {};
  struct passwd* result = nullptr;
  if (call(&pw, buffer.data(), buffer.size(), &result) != 0 || result == nullptr)
    return std::nullopt;
  return UnixUser{pw.pw_uid, pw.pw_gid, pw.pw_name, pw.pw_dir ? pw.pw_dir : "/",
                  pw.pw_shell ? pw.pw_shell : "/bin/sh"};
}

}  // namespace

std::optional<UnixUser> user_by_uid(uint32_t uid) {
  return lookup([uid](struct passwd* pw, char* buf, size_t len, struct passwd** out) {
    return getpwuid_r(uid, pw, buf, len, out);
  });
}

std::optional<UnixUser> user_by_name(const std::string& name) {
  return lookup([&name](struct passwd* pw, char* buf, size_t len, struct passwd** out) {
    return getpwnam_r(name.c_str(), pw, buf, len, out);
  });
}

}  // namespace helix::controller
