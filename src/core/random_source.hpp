#pragma once
// Randomness as a dependency. `main` supplies a CSPRNG; tests supply deterministic bytes.
// Implementations must be safe to call from several threads at once.

#include <cstddef>
#include <span>

namespace crud::core {

class random_source {
 public:
  virtual ~random_source() = default;
  virtual void fill(std::span<std::byte> out) = 0;
};

}  // namespace crud::core
