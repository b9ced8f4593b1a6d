#include "core/hex.hpp"

namespace crud::core {

int hex_value(char c) noexcept {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

namespace {

std::string decode(std::string_view text, bool plus_as_space, bool keep_slash) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '%' && i + 2 < text.size()) {
      const int hi = hex_value(text[i + 1]);
      const int lo = hex_value(text[i + 2]);
      if (hi >= 0 && lo >= 0) {
        const int value = hi * 16 + lo;
        if (keep_slash && value == '/')
          out.append(text.substr(i, 3));
        else
          out.push_back(static_cast<char>(value));
        i += 2;
        continue;
      }
    }
    out.push_back(plus_as_space && c == '+' ? ' ' : c);
  }
  return out;
}

}  // namespace

std::string percent_decode(std::string_view text, bool plus_as_space) {
  return decode(text, plus_as_space, false);
}

std::string percent_decode_path(std::string_view path) {
  return decode(path, false, true);
}

}  // namespace crud::core
