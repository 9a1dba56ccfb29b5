// Clock: where "now" comes from, injected into every component that must ask.
//
// The pure cores never read the system clock (docs/STYLE.md section 2): they
// take `now` as an argument or hold a Clock&. The controller owns the real
// SystemClock (scheduler/controller/system_clock.h); tests and the trace
// simulator use ManualClock.
#pragma once

#include "common/time.h"

namespace helix {

class Clock {
 public:
  virtual ~Clock() = default;
  // Thread safety: implementations must allow concurrent calls.
  virtual TimePoint now() const = 0;
};

// A clock that moves only when told. Not thread safe: tests drive it from
// one thread.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(TimePoint start = from_epoch_ms(1'700'000'000'000)) : now_(start) {}
  TimePoint now() const override { return now_; }
  void advance(Duration d) { now_ += d; }
  void set(TimePoint t) { now_ = t; }

 private:
  TimePoint now_;
};

}  // namespace helix
