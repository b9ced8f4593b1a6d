#pragma once
// Hexadecimal digits, the one table every layer uses: ids, hashes, JSON escapes, SigV4's
// percent-encoding and X-Ray's segment ids all print bytes this way; and the one lenient
// percent-decoder, which SigV4's canonical query and the Lambda events' paths and queries share.

#include <cstdint>
#include <string>
#include <string_view>

namespace crud::core {

inline constexpr std::string_view hex_lower = "0123456789abcdef";
inline constexpr std::string_view hex_upper = "0123456789ABCDEF";

// Appends the byte as two digits, lower case unless `digits` says otherwise.
inline void append_hex(std::string& out, std::uint8_t byte, std::string_view digits = hex_lower) {
  out.push_back(digits[byte >> 4]);
  out.push_back(digits[byte & 0xF]);
}

// The value of one hex digit, or -1.
int hex_value(char c) noexcept;

// Decodes %XX escapes. Lenient, as WHATWG URL parsing is: a '%' not followed by two hex digits
// stays literal rather than failing the whole text. `plus_as_space` for HTML-form queries.
std::string percent_decode(std::string_view text, bool plus_as_space = false);

// Decodes a URL path for routing, keeping segment boundaries: an escaped slash ("%2F") stays
// as it was sent rather than becoming a '/', so "/items/x%2Frestore" is one segment after
// "/items" and never the restore route.
std::string percent_decode_path(std::string_view path);

}  // namespace crud::core
