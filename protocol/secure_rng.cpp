#include "protocol/secure_rng.h"

#include <openssl/rand.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace helix::protocol {

uint64_t SecureRng::next_u64() {
  unsigned char bytes[sizeof(uint64_t)];
  if (RAND_bytes(bytes, sizeof bytes) != 1) {
    std::fputs("helix: OpenSSL RAND_bytes failed: no entropy for secrets\n", stderr);
    std::abort();
  }
  uint64_t value;
  std::memcpy(&value, bytes, sizeof value);
  return value;
}

}  // namespace helix::protocol
