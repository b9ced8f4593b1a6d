#pragma once
// Writing JSON text by appending to a string. The hot paths (an item, an envelope) are small
// and fixed in shape, so they are written directly rather than through a DOM.

#include <cstdint>
#include <string>
#include <string_view>

namespace crud::core {

// Appends `s` as a quoted JSON string. `s` must be valid UTF-8 (validated on input); control
// characters, quotes and backslashes are escaped.
void append_json_string(std::string& out, std::string_view s);

void append_json_int(std::string& out, std::int64_t v);

}  // namespace crud::core
