// The few OpenSSL (libcrypto) primitives SigV4 and credential generation
// need, behind plain std::string signatures so no OpenSSL type leaks out.
//
// Owns: hashing, HMAC, hex and constant-time comparison. Does not own: key
// management or randomness for the pure cores (they take an injected Rng).
#pragma once

#include <string>
#include <string_view>

namespace helix::protocol {

// Lower-case hex of the bytes: "\x01\xab" -> "01ab".
std::string to_hex(std::string_view bytes);

// SHA-256 of the bytes as 32 raw bytes.
std::string sha256(std::string_view bytes);

// HMAC-SHA256(key, message) as 32 raw bytes.
std::string hmac_sha256(std::string_view key, std::string_view message);

// True when a and b are equal; the time taken depends only on their
// lengths, not on where they differ, so a signature cannot be guessed byte
// by byte from response times.
bool constant_time_equals(std::string_view a, std::string_view b);

}  // namespace helix::protocol
