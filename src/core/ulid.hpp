#pragma once
// ULID identifiers: 48 bits of millisecond time then 80 random bits, in Crockford base32, so
// ids sort by creation time. Within one millisecond the generator increments the random part,
// which keeps ids strictly increasing per process even under concurrent creation.

#include <array>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>

#include "core/clock.hpp"
#include "core/random_source.hpp"

namespace crud::core {

inline constexpr std::string_view item_id_prefix = "item_";

class ulid_generator {
 public:
  ulid_generator(const clock& clk, random_source& random) : clock_(clk), random_(random) {}

  // A new 26-character ULID. Thread-safe.
  std::string next();
  // "item_" + next().
  std::string next_item_id();

 private:
  const clock& clock_;
  random_source& random_;
  std::mutex mutex_;
  std::int64_t last_ms_ = -1;
  std::array<std::uint8_t, 10> last_random_{};
};

// Encodes a timestamp and 80 random bits.
std::string encode_ulid(std::int64_t ms, const std::array<std::uint8_t, 10>& random);

bool is_valid_ulid(std::string_view text) noexcept;
bool is_item_id(std::string_view text) noexcept;

}  // namespace crud::core
