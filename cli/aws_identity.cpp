#include "cli/aws_identity.h"

#include "cli/endpoint.h"
#include "protocol/credentials_file.h"

namespace helix::cli {

std::string resolve_region(const EnvLookup& env) {
  if (auto region = env("AWS_DEFAULT_REGION")) return *region;
  if (auto region = env("AWS_REGION")) return *region;
  return "us-east-1";
}

namespace {

// The file, or nullopt when it does not exist.
Result<std::optional<protocol::CredentialsFile>> read_if_present(const std::string& path) {
  auto file = protocol::CredentialsFile::read(path);
  if (file) return std::optional<protocol::CredentialsFile>(std::move(*file));
  if (file.error().code() == ErrorCode::kNotFound)
    return std::optional<protocol::CredentialsFile>();
  return fail(file.error());
}

}  // namespace

Result<protocol::Credentials> resolve_credentials(const EnvLookup& env, uid_t euid) {
  auto key_id = env("AWS_ACCESS_KEY_ID");
  auto secret = env("AWS_SECRET_ACCESS_KEY");
  if (key_id && secret) return protocol::Credentials{*key_id, *secret};
  if (key_id)
    return fail(Error::invalid("AWS_SECRET_ACCESS_KEY", "is not set but AWS_ACCESS_KEY_ID is"));
  if (secret)
    return fail(Error::invalid("AWS_ACCESS_KEY_ID", "is not set but AWS_SECRET_ACCESS_KEY is"));

  std::string shared_path;
  if (auto path = env("AWS_SHARED_CREDENTIALS_FILE")) {
    shared_path = *path;
  } else if (auto home = env("HOME")) {
    shared_path = *home + "/.aws/credentials";
  }
  std::optional<protocol::CredentialsFile> shared;
  if (!shared_path.empty()) {
    auto read = read_if_present(shared_path);
    if (!read) return fail(read.error());
    shared = std::move(*read);
  }
  if (auto profile = env("AWS_PROFILE")) {
    if (!shared)
      return fail(Error::not_found("AWS_PROFILE is " + *profile + " but " +
                                   (shared_path.empty() ? std::string("HOME is not set")
                                                        : shared_path + " does not exist")));
    auto creds = shared->credentials(*profile);
    if (!creds)
      return fail(Error(creds.error().code(), shared_path + ": " + creds.error().message()));
    return creds;
  }
  if (shared) {
    for (const char* name : {"default", "helix"})
      if (shared->profile(name)) {
        auto creds = shared->credentials(name);
        if (!creds)
          return fail(Error(creds.error().code(), shared_path + ": " + creds.error().message()));
        return creds;
      }
  }
  std::string state_path = default_state_dir(env, euid) + "/credentials";
  auto state = read_if_present(state_path);
  if (!state) return fail(state.error());
  if (*state && (*state)->profile("helix")) {
    auto creds = (*state)->credentials("helix");
    if (!creds)
      return fail(Error(creds.error().code(), state_path + ": " + creds.error().message()));
    return creds;
  }
  return fail(Error::not_found(
      "no AWS credentials to sign with: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or "
      "AWS_PROFILE, or add a [default] or [helix] profile to " +
      (shared_path.empty() ? std::string("~/.aws/credentials") : shared_path) +
      " (helix credentials prints one), or use the Unix socket endpoint; " + state_path +
      " has none either"));
}

}  // namespace helix::cli
