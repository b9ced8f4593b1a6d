#include "core/utf8.hpp"

namespace crud::core {
namespace {

// Decodes one code point at s[i], advancing i; returns false on any ill-formed sequence
// (Unicode Table 3-7, well-formed byte sequences).
bool decode(std::string_view s, std::size_t& i, char32_t& cp) {
  auto byte = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  unsigned char b0 = byte(i);
  if (b0 < 0x80) {
    cp = b0;
    i += 1;
    return true;
  }
  std::size_t len = 0;
  unsigned char lo = 0x80;
  unsigned char hi = 0xBF;
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    len = 2;
    cp = b0 & 0x1F;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    len = 3;
    cp = b0 & 0x0F;
    if (b0 == 0xE0)
      lo = 0xA0;
    if (b0 == 0xED)
      hi = 0x9F;  // excludes UTF-16 surrogates
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    len = 4;
    cp = b0 & 0x07;
    if (b0 == 0xF0)
      lo = 0x90;
    if (b0 == 0xF4)
      hi = 0x8F;  // nothing above U+10FFFF
  } else {
    return false;
  }
  if (i + len > s.size())
    return false;
  for (std::size_t k = 1; k < len; ++k) {
    unsigned char b = byte(i + k);
    unsigned char min = k == 1 ? lo : 0x80;
    unsigned char max = k == 1 ? hi : 0xBF;
    if (b < min || b > max)
      return false;
    cp = (cp << 6) | (b & 0x3F);
  }
  i += len;
  return true;
}

}  // namespace

std::optional<std::size_t> for_each_code_point(std::string_view s,
                                               const std::function<void(char32_t)>& visit) {
  std::size_t count = 0;
  std::size_t i = 0;
  while (i < s.size()) {
    char32_t cp = 0;
    if (!decode(s, i, cp))
      return std::nullopt;
    if (visit)
      visit(cp);
    ++count;
  }
  return count;
}

std::optional<std::size_t> count_code_points(std::string_view s) {
  return for_each_code_point(s, {});
}

}  // namespace crud::core
