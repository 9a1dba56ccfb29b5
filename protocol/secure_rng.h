// SecureRng: an Rng drawing from OpenSSL's CSPRNG (RAND_bytes), for what
// must not be guessable (SigV4 secrets, access key ids). The pure cores'
// SeededRng (common/rng.h) is reproducible by design and must never make a
// secret; code that makes secrets takes an Rng& so tests can pin them.
#pragma once

#include <cstdint>

#include "common/rng.h"

namespace helix::protocol {

class SecureRng final : public Rng {
 public:
  // Thread safe (RAND_bytes is). Aborts if libcrypto cannot produce random
  // bytes, which only happens when the system has no entropy source: a
  // broken installation, not a condition the caller can handle.
  uint64_t next_u64() override;
};

}  // namespace helix::protocol
