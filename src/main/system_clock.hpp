#pragma once
// The real clock: the only place the process reads the time of day or the monotonic clock for
// the layers below, which receive it as a core::clock.

#include "core/clock.hpp"

namespace crud::main {

class system_clock final : public core::clock {
 public:
  std::int64_t wall_ms() const override;
  std::int64_t steady_ns() const override;
};

}  // namespace crud::main
