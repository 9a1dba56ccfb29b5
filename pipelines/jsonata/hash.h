// Message digests for $hash (Step Functions' States.Hash equivalent):
// MD5 (RFC 1321), SHA-1 (FIPS 180-4), SHA-256, SHA-384 and SHA-512.
//
// Owns: the digest arithmetic only, as small pure functions over bytes, so
// the JSONata library needs no crypto library. Not for security decisions.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace helix::jsonata {

// Lower-case hex digest of `data` with `algorithm` ("MD5", "SHA-1",
// "SHA-256", "SHA-384", "SHA-512"); nullopt for any other name.
std::optional<std::string> hex_digest(std::string_view algorithm, std::string_view data);

}  // namespace helix::jsonata
