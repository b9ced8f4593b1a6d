#pragma once
// Deciding whether a request body is JSON from its Content-Type, for the 415 rule.

#include <optional>
#include <string_view>

namespace crud::app {

// application/json, application/merge-patch+json or any application/*+json, with no charset
// but UTF-8. Absent is not JSON (CONTRACT §2: 415): a body without a type is what a
// cross-site form post without a preflight can send, and it must not write.
bool is_json_media_type(std::optional<std::string_view> content_type);

}  // namespace crud::app
