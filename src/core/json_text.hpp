#pragma once
// Writing JSON text by appending to a string. The hot paths (an item, an envelope) are small
// and fixed in shape, so they are written directly rather than through a DOM.

#include <cstdint>
#include <string>
#include <string_view>

namespace crud::core {

// Appends `s` as a quoted JSON string; control characters, quotes and backslashes are escaped.
// `s` may be any bytes (echoed input is): each byte that begins no well-formed UTF-8 sequence
// is written as U+FFFD, so the output is always valid JSON and valid UTF-8.
void append_json_string(std::string& out, std::string_view s);

void append_json_int(std::string& out, std::int64_t v);

}  // namespace crud::core
