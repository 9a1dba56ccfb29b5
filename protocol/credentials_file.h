// The AWS shared-credentials file (~/.aws/credentials) that the aws CLI and
// boto3 read, so helix can hand a user SigV4 keys that work with
// `aws --profile helix`:
//
//   [helix]
//   aws_access_key_id = HLX7Q2M4ZP0AB3KD9XW1C
//   aws_secret_access_key = 3v6bJ...40 characters...
//
// Owns: parsing and writing that INI format as botocore reads it (Python's
// configparser: '#' and ';' comment lines, '=' or ':' between key and value,
// key names case-insensitive, indented lines continue a value, a section or
// key given twice is an error), and making new key pairs. Does not own: where
// the file lives or which user it belongs to (the caller says), or the
// registry of valid keys (helixd's store).
//
// Comments are not kept: a file read and written again loses them, but every
// profile and every key (aws_session_token, region, ...) survives.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/error.h"
#include "common/rng.h"
#include "protocol/sigv4.h"

namespace helix::protocol {

// One [name] section. Invariant: keys are lower case and unique.
struct CredentialsProfile {
  std::string name;
  std::vector<std::pair<std::string, std::string>> entries;  // in file order

  std::optional<std::string> get(const std::string& key) const;  // key in any case
  void set(const std::string& key, std::string value);           // replaces or appends
};

// Who should own a written file (chown needs root unless it is the caller).
struct FileOwner {
  uid_t uid = 0;
  gid_t gid = 0;
};

// Invariant: profile names are unique; order is file order.
class CredentialsFile {
 public:
  // Parses the text; on failure an InvalidInput error with one problem per
  // bad line, its path "line 7" (or "<source>:7" when source is given).
  static Result<CredentialsFile> parse(std::string_view text, const std::string& source = "");
  // Reads and parses a file; NotFound when it does not exist, Unavailable
  // when it cannot be read, InvalidInput (paths "<path>:<line>") when bad.
  static Result<CredentialsFile> read(const std::string& path);

  const std::vector<CredentialsProfile>& profiles() const { return profiles_; }
  const CredentialsProfile* profile(const std::string& name) const;

  // The key pair of a profile: NotFound when there is no such profile,
  // InvalidInput naming the profile and key when one of the two is missing.
  Result<Credentials> credentials(const std::string& profile) const;
  // Adds the profile (at the end) or replaces its two keys, keeping others.
  void set_credentials(const std::string& profile, const Credentials& credentials);
  // False when there was no such profile.
  bool remove_profile(const std::string& profile);

  // The file's text: profiles separated by blank lines, "key = value".
  std::string to_text() const;

  // Writes to_text() atomically: a temporary file in the same directory,
  // mode 0600, chowned to `owner` when given, fsynced, then renamed over
  // `path`, so a reader sees the old file or the new one and never a
  // partial one, and the secret is never readable by others. Unavailable,
  // naming the path and the failed step, when any step fails (the
  // temporary file is removed).
  Result<void> write(const std::string& path, std::optional<FileOwner> owner = std::nullopt) const;

 private:
  CredentialsProfile* find(const std::string& name);
  std::vector<CredentialsProfile> profiles_;
};

// A new key pair shaped like AWS's: an access key id of "HLX" and 17
// characters from A-Z0-9 (20 in all; AWS's start with "AKIA"), and a
// 40-character secret from A-Za-z0-9+/ (240 bits). Pass a SecureRng
// (protocol/secure_rng.h) for real keys; a SeededRng only in tests.
Credentials generate_credentials(Rng& rng);

}  // namespace helix::protocol
