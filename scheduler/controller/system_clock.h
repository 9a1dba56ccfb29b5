// The real clock, for helixd only; the pure cores take a Clock&.
#pragma once

#include <chrono>

#include "common/clock.h"

namespace helix::controller {

class SystemClock final : public Clock {
 public:
  TimePoint now() const override {
    return std::chrono::time_point_cast<Duration>(std::chrono::system_clock::now());
  }
};

}  // namespace helix::controller
