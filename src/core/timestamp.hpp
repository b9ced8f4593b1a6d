#pragma once
// RFC 3339 UTC timestamps with milliseconds ("2026-01-15T10:30:00.123Z"), the only time format
// the API shows. Internally times are milliseconds since the Unix epoch.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace crud::core {

std::string format_timestamp(std::int64_t epoch_ms);

// Appends the quoted-free text form to `out` (no allocation beyond the append).
void append_timestamp(std::string& out, std::int64_t epoch_ms);

// Parses exactly the form format_timestamp writes; nullopt for anything else.
std::optional<std::int64_t> parse_timestamp(std::string_view text);

}  // namespace crud::core
