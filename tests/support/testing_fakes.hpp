#pragma once
// Deterministic stand-ins for the clock and randomness, for tests of every layer.

#include <atomic>
#include <cstdint>
#include <span>

#include "core/clock.hpp"
#include "core/random_source.hpp"

namespace crud::core::testing {

class fake_clock final : public clock {
 public:
  explicit fake_clock(std::int64_t wall_ms = 1'768'473'000'123) : wall_ms_(wall_ms) {}
  std::int64_t wall_ms() const override { return wall_ms_.load(); }
  std::int64_t steady_ns() const override { return steady_ns_.load(); }
  void advance_ms(std::int64_t ms) {
    wall_ms_ += ms;
    steady_ns_ += ms * 1'000'000;
  }
  void advance_ns(std::int64_t ns) { steady_ns_ += ns; }

 private:
  std::atomic<std::int64_t> wall_ms_;
  std::atomic<std::int64_t> steady_ns_{1'000'000'000};
};

// A deterministic stream (splitmix64 over a counter): reproducible, and it does not repeat
// within any test's lifetime.
class counting_random final : public random_source {
 public:
  void fill(std::span<std::byte> out) override {
    for (std::size_t i = 0; i < out.size(); i += 8) {
      std::uint64_t z = next_.fetch_add(0x9E3779B97F4A7C15ULL) + 0x9E3779B97F4A7C15ULL;
      z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
      z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
      z ^= z >> 31;
      for (std::size_t k = 0; k < 8 && i + k < out.size(); ++k) {
        out[i + k] = static_cast<std::byte>(z >> (8 * k));
      }
    }
  }

 private:
  std::atomic<std::uint64_t> next_{0};
};

}  // namespace crud::core::testing
