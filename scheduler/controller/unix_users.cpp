#include "scheduler/controller/unix_users.h"

#include <pwd.h>
#include <unistd.h>

#include <chrono>
#include <map>
#include <mutex>
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

// Accounts found, by key (uid or name), until they expire.
template <class Key>
class Found {
 public:
  template <class Resolve>
  std::optional<UnixUser> get(const Key& key, Resolve resolve) {
    auto now = std::chrono::steady_clock::now();
    {
      std::lock_guard lock(mutex_);
      auto it = entries_.find(key);
      if (it != entries_.end() && it->second.second > now) return it->second.first;
    }
    auto user = resolve();  // outside the lock: NSS may be slow
    std::lock_guard lock(mutex_);
    if (user) {
      entries_.insert_or_assign(key, std::make_pair(*user, now + kKeptFor));
    } else {
      entries_.erase(key);
    }
    return user;
  }

 private:
  static constexpr std::chrono::seconds kKeptFor{60};
  std::mutex mutex_;
  std::map<Key, std::pair<UnixUser, std::chrono::steady_clock::time_point>> entries_;
};

}  // namespace

std::optional<UnixUser> user_by_uid(uint32_t uid) {
  static Found<uint32_t> found;
  return found.get(uid, [uid] {
    return lookup([uid](struct passwd* pw, char* buf, size_t len, struct passwd** out) {
      return getpwuid_r(uid, pw, buf, len, out);
    });
  });
}

std::optional<UnixUser> user_by_name(const std::string& name) {
  static Found<std::string> found;
  return found.get(name, [&name] {
    return lookup([&name](struct passwd* pw, char* buf, size_t len, struct passwd** out) {
      return getpwnam_r(name.c_str(), pw, buf, len, out);
    });
  });
}

}  // namespace helix::controller
