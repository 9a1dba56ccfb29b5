// Unix account lookups (getpwuid_r / getpwnam_r): who a peer uid is, where
// a job's user lives, which uid a definition's `user` names. They go through
// NSS (files, LDAP, SSSD) on every API request and job launch, so accounts
// found are kept for a minute (as the executor's UserIdentityCache keeps
// groups): a changed home or shell reaches new jobs within that time. A
// miss is not kept, so an account created a moment ago is found at once.
// Thread safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace helix::controller {

struct UnixUser {
  uint32_t uid = 0;
  uint32_t gid = 0;
  std::string name;
  std::string home;
  std::string shell;
};

std::optional<UnixUser> user_by_uid(uint32_t uid);
std::optional<UnixUser> user_by_name(const std::string& name);

}  // namespace helix::controller
