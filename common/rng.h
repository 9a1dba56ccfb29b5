// Rng: the only source of randomness in the pure cores, injected and seeded
// by the caller so that the same inputs and seed give the same decisions.
#pragma once

#include <cstdint>
#include <string>

namespace helix {

class Rng {
 public:
  virtual ~Rng() = default;
  virtual uint64_t next_u64() = 0;
};

// SplitMix64 (Steele, Lea, Flood 2014): tiny, fast and statistically sound for
// ids and jitter; not for cryptography. Not thread safe.
class SeededRng final : public Rng {
 public:
  explicit SeededRng(uint64_t seed) : state_(seed) {}
  uint64_t next_u64() override;

 private:
  uint64_t state_;
};

// A random (version 4) UUID in its canonical lower-case text form.
std::string make_uuid(Rng& rng);

// True when text is a canonical UUID (8-4-4-4-12 hex digits).
bool is_uuid(const std::string& text);

}  // namespace helix
