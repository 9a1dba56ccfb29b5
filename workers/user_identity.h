// The identity a job runs under when helixd switches users: primary group
// and supplementary groups, as login(1) would give them (initgroups). The
// static helix-shim cannot use NSS, so helixd resolves them and passes
// numbers. Lookups go through NSS (files, LDAP, SSSD) and may be slow, so
// results are cached per uid for `ttl`; a group change reaches new jobs
// within that time. Thread safe.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <vector>

namespace helix::workers {

struct UserIdentity {
  gid_t gid = 0;
  std::vector<gid_t> groups;  // supplementary groups, the primary one included
};

class UserIdentityCache {
 public:
  explicit UserIdentityCache(std::chrono::seconds ttl = std::chrono::seconds(60)) : ttl_(ttl) {}

  // `gid` overrides the passwd primary group. A uid without a passwd entry
  // gets `gid` alone as its groups, or nullopt when no gid was given.
  std::optional<UserIdentity> lookup(uid_t uid, std::optional<gid_t> gid);

 private:
  struct Entry {
    std::optional<gid_t> primary;  // from passwd; nullopt: no entry
    std::vector<gid_t> groups;     // for `primary`
    std::chrono::steady_clock::time_point expires;
  };
  static Entry resolve(uid_t uid);

  std::chrono::seconds ttl_;
  std::mutex mutex_;
  std::map<uid_t, Entry> entries_;
};

}  // namespace helix::workers
