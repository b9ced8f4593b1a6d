#pragma once
// UTF-8 decoding for validation. Lengths in the contract count Unicode code points, and input
// that is not well-formed UTF-8 (overlong forms, surrogates, truncation) is rejected.

#include <cstddef>
#include <functional>
#include <optional>
#include <string_view>

namespace crud::core {

// Calls `visit(code_point)` for each code point; returns the count, or nullopt when `s` is
// not well-formed UTF-8. `visit` may be empty.
std::optional<std::size_t> for_each_code_point(std::string_view s,
                                               const std::function<void(char32_t)>& visit);

// The number of code points, or nullopt when `s` is not well-formed UTF-8.
std::optional<std::size_t> count_code_points(std::string_view s);

}  // namespace crud::core
