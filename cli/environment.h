// The process environment behind a function, so that endpoint, region and
// credential resolution are pure functions of what they are handed and can
// be tested without touching the real environment.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>

namespace helix::cli {

// The value of an environment variable; nullopt when unset. An empty value
// counts as unset everywhere in the CLI, as the aws CLI treats it.
using EnvLookup = std::function<std::optional<std::string>(const std::string& name)>;

// Reads the real environment (getenv). Not thread safe against setenv.
EnvLookup process_environment();

// A fixed environment, for tests.
EnvLookup fixed_environment(std::map<std::string, std::string> values);

}  // namespace helix::cli
