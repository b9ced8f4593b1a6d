#pragma once
// Time as a dependency. Only `main` constructs a clock that reads the system; every other layer
// receives one, so tests can fix and advance time.

#include <cstdint>

namespace crud::core {

class clock {
 public:
  virtual ~clock() = default;
  // Milliseconds since the Unix epoch (UTC), for timestamps and expiries.
  virtual std::int64_t wall_ms() const = 0;
  // A monotonic reading in nanoseconds, for durations and rate limiting.
  virtual std::int64_t steady_ns() const = 0;
};

}  // namespace crud::core
