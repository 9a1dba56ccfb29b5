#include "scheduler/controller/local_objects.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace helix::states {
namespace {

namespace fs = std::filesystem;

// The owner's permission on a file from its mode bits, as the kernel
// decides for an unprivileged process (root may do anything).
bool may(const struct stat& st, const ObjectOwner& owner, mode_t user_bit, mode_t group_bit,
         mode_t other_bit) {
  if (owner.uid == 0) return true;
  if (st.st_uid == owner.uid) return (st.st_mode & user_bit) != 0;
  if (st.st_gid == owner.gid) return (st.st_mode & group_bit) != 0;
  return (st.st_mode & other_bit) != 0;
}

Result<std::string> bucket_of(const nlohmann::json& p) {
  if (!p.is_object() || !p.contains("Bucket") || !p["Bucket"].is_string())
    return fail(Error::invalid("Parameters.Bucket",
                               "must be a string: the absolute directory the objects are in"));
  std::string bucket = p["Bucket"].get<std::string>();
  if (bucket.rfind("s3://", 0) == 0) bucket = bucket.substr(5);
  if (bucket.empty() || bucket[0] != '/')
    return fail(
        Error::invalid("Parameters.Bucket", "'" + bucket +
                                                "' is not an absolute directory path (helix reads "
                                                "and writes objects on the shared filesystem)"));
  return bucket;
}

}  // namespace

Result<std::string> read_object(const nlohmann::json& p, const ObjectOwner& owner,
                                size_t max_bytes) {
  auto bucket = bucket_of(p);
  if (!bucket) return fail(bucket.error());
  if (!p.contains("Key") || !p["Key"].is_string())
    return fail(Error::invalid("Parameters.Key", "must be a string: the file under Bucket"));
  fs::path path = fs::path(*bucket) / p["Key"].get<std::string>();
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0)
    return fail(Error::not_found(path.string() + ": " + std::strerror(errno)));
  if (!S_ISREG(st.st_mode))
    return fail(Error::invalid("Parameters.Key", path.string() + " is not a file"));
  if (!may(st, owner, S_IRUSR, S_IRGRP, S_IROTH))
    return fail(Error::permission_denied("uid " + std::to_string(owner.uid) + " may not read " +
                                         path.string()));
  if (static_cast<size_t>(st.st_size) > max_bytes)
    return fail(Error::invalid("Parameters.Key", path.string() + " is larger than " +
                                                     std::to_string(max_bytes) + " bytes"));
  std::ifstream in(path, std::ios::binary);
  if (!in) return fail(Error::unavailable("cannot open " + path.string()));
  std::ostringstream bytes;
  bytes << in.rdbuf();
  return bytes.str();
}

Result<std::string> write_results(const nlohmann::json& p, const std::string& execution_name,
                                  const std::string& state_name, const nlohmann::json& results,
                                  const ObjectOwner& owner) {
  auto bucket = bucket_of(p);
  if (!bucket) return fail(bucket.error());
  struct stat st {};
  if (::stat(bucket->c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
    return fail(Error::not_found("Bucket " + *bucket + " is not a directory"));
  if (!may(st, owner, S_IWUSR, S_IWGRP, S_IWOTH))
    return fail(Error::permission_denied("uid " + std::to_string(owner.uid) + " may not write in " +
                                         *bucket));
  std::string prefix = p.value("Prefix", "");
  if (prefix.find("..") != std::string::npos)
    return fail(Error::invalid("Parameters.Prefix", "must not contain '..'"));
  fs::path dir = fs::path(*bucket) / prefix / execution_name / state_name;
  // Create each missing level as the owner's, so they can clean up.
  fs::path built;
  for (const auto& part : dir) {
    built /= part;
    if (::mkdir(built.c_str(), 0755) == 0) {
      if (::chown(built.c_str(), owner.uid, owner.gid) != 0 && ::geteuid() == 0)
        return fail(Error::unavailable("cannot chown " + built.string()));
    } else if (errno != EEXIST) {
      return fail(
          Error::unavailable("cannot create " + built.string() + ": " + std::strerror(errno)));
    }
  }
  fs::path file = dir / "results.json";
  {
    std::ofstream out(file, std::ios::binary | std::ios::trunc);
    out << results.dump() << "\n";
    if (!out) return fail(Error::unavailable("cannot write " + file.string()));
  }
  if (::chown(file.c_str(), owner.uid, owner.gid) != 0 && ::geteuid() == 0)
    return fail(Error::unavailable("cannot chown " + file.string()));
  return file.string();
}

}  // namespace helix::states
