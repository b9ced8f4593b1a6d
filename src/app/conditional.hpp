#pragma once
// Conditional requests (RFC 9110 §13): matching If-Match with the strong comparison and
// If-None-Match with the weak one, against an item's current entity tag.

#include <string_view>

namespace crud::app {

// True when the header value ("*", or a comma-separated list of entity tags) matches `etag`
// under strong comparison; weak tags never match.
bool if_match_satisfied(std::string_view header, std::string_view etag);

// True when the header value matches `etag` under weak comparison (so a GET can answer 304).
bool if_none_match_matches(std::string_view header, std::string_view etag);

}  // namespace crud::app
