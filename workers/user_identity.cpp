#include "workers/user_identity.h"

#include <grp.h>
#include <pwd.h>
#include <unistd.h>

#include <algorithm>

namespace helix::workers {

UserIdentityCache::Entry UserIdentityCache::resolve(uid_t uid) {
  Entry entry;
  long size = ::sysconf(_SC_GETPW_R_SIZE_MAX);
  std::vector<char> buf(size > 0 ? static_cast<size_t>(size) : 16384);
  passwd pw{};
  passwd* found = nullptr;
  while (::getpwuid_r(uid, &pw, buf.data(), buf.size(), &found) == ERANGE)
    buf.resize(buf.size() * 2);
  if (!found) return entry;
  entry.primary = pw.pw_gid;
  int count = 32;
  std::vector<gid_t> groups(static_cast<size_t>(count));
  while (::getgrouplist(pw.pw_name, pw.pw_gid, groups.data(), &count) < 0) {
    groups.resize(static_cast<size_t>(count) + 1);  // count now holds the size needed
    count = static_cast<int>(groups.size());
  }
  groups.resize(static_cast<size_t>(count));
  entry.groups = std::move(groups);
  return entry;
}

std::optional<UserIdentity> UserIdentityCache::lookup(uid_t uid, std::optional<gid_t> gid) {
  auto now = std::chrono::steady_clock::now();
  Entry entry;
  {
    std::lock_guard lock(mutex_);
    auto it = entries_.find(uid);
    if (it != entries_.end() && it->second.expires > now) entry = it->second;
  }
  if (entry.expires <= now) {
    // Resolved outside the lock: a slow directory must not stall other launches.
    entry = resolve(uid);
    entry.expires = now + ttl_;
    std::lock_guard lock(mutex_);
    entries_[uid] = entry;
  }
  UserIdentity id;
  if (gid) {
    id.gid = *gid;
  } else if (entry.primary) {
    id.gid = *entry.primary;
  } else {
    return std::nullopt;
  }
  id.groups = entry.groups;
  // getgrouplist() lists the passwd primary group; with another primary
  // gid the job is in that one too, as newgrp(1) would leave it.
  if (std::find(id.groups.begin(), id.groups.end(), id.gid) == id.groups.end())
    id.groups.push_back(id.gid);
  return id;
}

}  // namespace helix::workers
