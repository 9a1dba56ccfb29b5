// LocalObjects: where a Map's ItemReader reads and its ResultWriter writes
// on an on-prem cluster, with the permissions of the execution's owner.
//
// The S3 shapes map onto the shared filesystem: {"Bucket": "/abs/dir",
// "Key": "samples.json"} names the file /abs/dir/samples.json, and a
// ResultWriter's {"Bucket": "/abs/dir", "Prefix": "out"} the directory
// /abs/dir/out/<execution name>/<state name>/ that receives results.json.
// helixd may run as root, so every access is checked against the owner's
// uid and gid first (the file's mode bits), and what is written is owned
// by the owner.
#pragma once

#include <sys/types.h>

#include <string>

#include <nlohmann/json.hpp>

#include "common/error.h"

namespace helix::states {

struct ObjectOwner {
  uid_t uid = 0;
  gid_t gid = 0;
};

// The bytes of the object the ItemReader's evaluated Parameters name.
// InvalidInput names the field (Bucket/Key) when the shape is wrong;
// PermissionDenied when the owner may not read it; NotFound when absent.
Result<std::string> read_object(const nlohmann::json& parameters, const ObjectOwner& owner,
                                size_t max_bytes = 256u << 20);

// Writes `results` (a JSON array) as results.json under the directory the
// ResultWriter's Parameters name; returns the file's path.
Result<std::string> write_results(const nlohmann::json& parameters,
                                  const std::string& execution_name, const std::string& state_name,
                                  const nlohmann::json& results, const ObjectOwner& owner);

}  // namespace helix::states
