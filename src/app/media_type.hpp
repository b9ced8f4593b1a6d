#pragma once
// Deciding whether a request body is JSON from its Content-Type, for the 415 rule.

#include <optional>
#include <string_view>

namespace crud::app {

// Absent: treated as JSON (curl and many clients send none). Present: application/json,
// application/merge-patch+json or any application/*+json, with no charset but UTF-8.
bool is_json_media_type(std::optional<std::string_view> content_type);

}  // namespace crud::app
