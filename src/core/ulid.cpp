#include "core/ulid.hpp"

#include <cstddef>
#include <span>

namespace crud::core {
namespace {
constexpr char crockford[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

bool is_crockford(char c) {
  return (c >= '0' && c <= '9') ||
         (c >= 'A' && c <= 'Z' && c != 'I' && c != 'L' && c != 'O' && c != 'U');
}
}  // namespace

std::string encode_ulid(std::int64_t ms, const std::array<std::uint8_t, 10>& random) {
  // 128 bits: 48 of time, 80 of randomness, written as 26 five-bit groups (the first has 3).
  std::array<std::uint8_t, 16> bytes{};
  auto t = static_cast<std::uint64_t>(ms);
  for (int i = 5; i >= 0; --i) {
    bytes[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(t & 0xFF);
    t >>= 8;
  }
  for (std::size_t i = 0; i < 10; ++i)
    bytes[6 + i] = random[i];
  std::string out(26, '0');
  // Walk the 130-bit field (two leading zero bits) five bits at a time.
  for (int g = 0; g < 26; ++g) {
    int bit = g * 5 - 2;  // position of this group's first bit in the 128-bit value
    unsigned v = 0;
    for (int k = 0; k < 5; ++k) {
      int b = bit + k;
      unsigned set = 0;
      if (b >= 0) {
        set = (bytes[static_cast<std::size_t>(b / 8)] >> (7 - b % 8)) & 1U;
      }
      v = (v << 1) | set;
    }
    out[static_cast<std::size_t>(g)] = crockford[v];
  }
  return out;
}

std::string ulid_generator::next() {
  std::array<std::uint8_t, 10> fresh{};
  random_.fill(std::as_writable_bytes(std::span(fresh)));
  std::int64_t now = clock_.wall_ms();
  std::lock_guard lock(mutex_);
  if (now <= last_ms_) {
    // Same millisecond (or the clock stepped back): stay on the last time and count up, so
    // the order of ids is the order of creation.
    now = last_ms_;
    for (int i = 9; i >= 0; --i) {
      auto& b = last_random_[static_cast<std::size_t>(i)];
      if (++b != 0)
        break;
      if (i == 0)
        ++now;  // 80-bit overflow: borrow the next millisecond
    }
  } else {
    last_random_ = fresh;
  }
  last_ms_ = now;
  return encode_ulid(now, last_random_);
}

std::string ulid_generator::next_item_id() {
  std::string id(item_id_prefix);
  id += next();
  return id;
}

bool is_valid_ulid(std::string_view text) noexcept {
  if (text.size() != 26)
    return false;
  if (text[0] > '7')
    return false;  // the first group holds only 3 bits
  for (char c : text) {
    if (!is_crockford(c))
      return false;
  }
  return true;
}

bool is_item_id(std::string_view text) noexcept {
  return text.size() == item_id_prefix.size() + 26 && text.starts_with(item_id_prefix) &&
         is_valid_ulid(text.substr(item_id_prefix.size()));
}

}  // namespace crud::core
