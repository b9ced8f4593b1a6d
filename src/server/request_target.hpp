#pragma once
// Splits an HTTP request-target into the percent-decoded path and decoded query parameters the
// app expects. Origin form ("/items?limit=5") is the norm; absolute form
// ("http://host/items") is accepted too, as RFC 9112 requires of servers. Anything else, or a
// target with a bad percent escape, is malformed.

#include <optional>
#include <string>
#include <string_view>

#include "app/http_types.hpp"

namespace crud::server {

struct request_target {
  std::string path;       // percent-decoded; "/" when the target has an empty path
  app::field_list query;  // in order; '+' decodes to a space, as in HTML forms
};

std::optional<request_target> parse_request_target(std::string_view target);

}  // namespace crud::server
