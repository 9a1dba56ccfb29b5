#include "protocol/credentials_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cassert>
#include <cctype>
#include <cerrno>
#include <cstring>

#include "common/text.h"

namespace helix::protocol {

namespace {

constexpr char kAccessKeyId[] = "aws_access_key_id";
constexpr char kSecretAccessKey[] = "aws_secret_access_key";

std::string trim(std::string_view text) {
  size_t first = text.find_first_not_of(" \t\r");
  if (first == std::string_view::npos) return "";
  size_t last = text.find_last_not_of(" \t\r");
  return std::string(text.substr(first, last - first + 1));
}

std::string errno_text() { return std::strerror(errno); }

}  // namespace

std::optional<std::string> CredentialsProfile::get(const std::string& key) const {
  std::string wanted = ascii_lower(key);
  for (const auto& [k, v] : entries)
    if (k == wanted) return v;
  return std::nullopt;
}

void CredentialsProfile::set(const std::string& key, std::string value) {
  std::string wanted = ascii_lower(key);
  for (auto& [k, v] : entries)
    if (k == wanted) {
      v = std::move(value);
      return;
    }
  entries.emplace_back(std::move(wanted), std::move(value));
}

Result<CredentialsFile> CredentialsFile::parse(std::string_view text, const std::string& source) {
  CredentialsFile file;
  Problems problems;
  CredentialsProfile* section = nullptr;
  std::string* value = nullptr;  // the last key's value, which indented lines continue
  size_t line_number = 0;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(start, end - start);
    start = end + 1;
    ++line_number;
    std::string where = source.empty() ? "line " + std::to_string(line_number)
                                       : source + ":" + std::to_string(line_number);
    std::string content = trim(line);
    if (content.empty() || content[0] == '#' || content[0] == ';') continue;
    if ((line[0] == ' ' || line[0] == '\t') && value != nullptr) {
      *value += "\n" + content;
      continue;
    }
    value = nullptr;
    if (content[0] == '[') {
      section = nullptr;
      if (content.back() != ']' || content.size() < 3) {
        problems.add(where, "section header '" + content + "' is not of the form [profile]");
        continue;
      }
      // Not trimmed: botocore's configparser names "[ helix ]" " helix ".
      std::string name = content.substr(1, content.size() - 2);
      if (file.find(name) != nullptr) {
        problems.add(where, "profile [" + name + "] appears twice");
        continue;
      }
      file.profiles_.push_back({name, {}});
      section = &file.profiles_.back();
      continue;
    }
    size_t delimiter = content.find_first_of("=:");
    if (delimiter == std::string::npos || delimiter == 0) {
      problems.add(where, "'" + content + "' is not of the form key = value");
      continue;
    }
    std::string key = ascii_lower(trim(std::string_view(content).substr(0, delimiter)));
    if (section == nullptr) {
      problems.add(where, "key " + key + " comes before any [profile] header");
      continue;
    }
    if (section->get(key)) {
      problems.add(where, "key " + key + " appears twice in profile [" + section->name + "]");
      continue;
    }
    section->entries.emplace_back(key, trim(std::string_view(content).substr(delimiter + 1)));
    value = &section->entries.back().second;
  }
  if (!problems.empty()) return fail(problems.to_error());
  return file;
}

Result<CredentialsFile> CredentialsFile::read(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT)
      return fail(Error::not_found("credentials file " + path + " does not exist"));
    return fail(Error::unavailable("cannot open credentials file " + path, errno_text()));
  }
  std::string text;
  char buffer[4096];
  while (true) {
    ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      std::string why = errno_text();
      ::close(fd);
      return fail(Error::unavailable("cannot read credentials file " + path, why));
    }
    if (n == 0) break;
    text.append(buffer, static_cast<size_t>(n));
  }
  ::close(fd);
  return parse(text, path);
}

CredentialsProfile* CredentialsFile::find(const std::string& name) {
  for (auto& p : profiles_)
    if (p.name == name) return &p;
  return nullptr;
}

const CredentialsProfile* CredentialsFile::profile(const std::string& name) const {
  for (const auto& p : profiles_)
    if (p.name == name) return &p;
  return nullptr;
}

Result<Credentials> CredentialsFile::credentials(const std::string& name) const {
  const CredentialsProfile* p = profile(name);
  if (p == nullptr) return fail(Error::not_found("no profile [" + name + "] in credentials file"));
  Problems problems;
  auto id = p->get(kAccessKeyId);
  auto secret = p->get(kSecretAccessKey);
  if (!id || id->empty()) problems.add(name + "." + kAccessKeyId, "missing");
  if (!secret || secret->empty()) problems.add(name + "." + kSecretAccessKey, "missing");
  if (!problems.empty()) return fail(problems.to_error());
  return Credentials{*id, *secret};
}

void CredentialsFile::set_credentials(const std::string& name, const Credentials& credentials) {
  // A name with brackets or a line break would write a file that reads back
  // differently; helix names profiles itself ("helix", user names).
  assert(!name.empty() && name.find_first_of("[]\n") == std::string::npos);
  CredentialsProfile* p = find(name);
  if (p == nullptr) {
    profiles_.push_back({name, {}});
    p = &profiles_.back();
  }
  p->set(kAccessKeyId, credentials.access_key_id);
  p->set(kSecretAccessKey, credentials.secret_access_key);
}

bool CredentialsFile::remove_profile(const std::string& name) {
  return std::erase_if(profiles_, [&](const auto& p) { return p.name == name; }) > 0;
}

std::string CredentialsFile::to_text() const {
  std::string out;
  for (const auto& p : profiles_) {
    if (!out.empty()) out += "\n";
    out += "[" + p.name + "]\n";
    for (const auto& [key, value] : p.entries) {
      std::string written = value;
      // A multi-line value goes back as configparser continuation lines.
      for (size_t at = written.find('\n'); at != std::string::npos; at = written.find('\n', at + 1))
        written.insert(at + 1, "    ");
      out += key + " = " + written + "\n";
    }
  }
  return out;
}

Result<void> CredentialsFile::write(const std::string& path, std::optional<FileOwner> owner) const {
  std::string temp = path + ".XXXXXX";
  // mkstemp creates the file 0600 and O_EXCL, so the secret is never
  // readable by others, not even for an instant before a chmod.
  int fd = ::mkostemp(temp.data(), O_CLOEXEC);
  if (fd < 0)
    return fail(Error::unavailable("cannot create a temporary file beside " + path, errno_text()));
  auto abandon = [&](const std::string& step) {
    std::string why = errno_text();
    ::close(fd);
    ::unlink(temp.c_str());
    return fail(Error::unavailable("cannot write credentials file " + path + ": " + step, why));
  };
  if (::fchmod(fd, 0600) != 0) return abandon("chmod 0600");
  if (owner && ::fchown(fd, owner->uid, owner->gid) != 0)
    return abandon("chown to " + std::to_string(owner->uid) + ":" + std::to_string(owner->gid));
  std::string text = to_text();
  size_t written = 0;
  while (written < text.size()) {
    ssize_t n = ::write(fd, text.data() + written, text.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return abandon("write");
    written += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0) return abandon("fsync");
  if (::close(fd) != 0) {
    std::string why = errno_text();
    ::unlink(temp.c_str());
    return fail(Error::unavailable("cannot write credentials file " + path + ": close", why));
  }
  if (::rename(temp.c_str(), path.c_str()) != 0) {
    std::string why = errno_text();
    ::unlink(temp.c_str());
    return fail(Error::unavailable("cannot write credentials file " + path + ": rename", why));
  }
  return {};
}

Credentials generate_credentials(Rng& rng) {
  static constexpr char kUpperAlnum[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
  static constexpr char kBase64[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  // Eight random bytes per draw; a byte picks a character without bias:
  // 64 divides 256, and for 36 the bytes 252..255 (252 = 7 * 36) are dropped.
  uint64_t bits = 0;
  int bytes_left = 0;
  auto next_byte = [&]() -> unsigned {
    if (bytes_left == 0) {
      bits = rng.next_u64();
      bytes_left = 8;
    }
    unsigned byte = static_cast<unsigned>(bits & 0xff);
    bits >>= 8;
    --bytes_left;
    return byte;
  };
  Credentials out;
  out.access_key_id = "HLX";
  while (out.access_key_id.size() < 20) {
    unsigned byte = next_byte();
    if (byte < 252) out.access_key_id.push_back(kUpperAlnum[byte % 36]);
  }
  while (out.secret_access_key.size() < 40)
    out.secret_access_key.push_back(kBase64[next_byte() & 63]);
  return out;
}

}  // namespace helix::protocol
