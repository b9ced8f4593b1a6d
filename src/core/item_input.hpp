#pragma once
// Parsing and validating request bodies into item fields, by the contract's rules: `name`
// 1-200 code points after trimming with no control characters, `description` at most 2000
// code points with no control characters but \n and \t, no unknown fields. Every failing
// field is reported. Malformed JSON or a non-object is a BAD_REQUEST, not a validation failure.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <boost/system/result.hpp>

#include "core/error.hpp"

namespace crud::core {

inline constexpr std::size_t max_name_length = 200;
inline constexpr std::size_t max_description_length = 2000;

struct item_fields {
  std::string name;
  std::string description;
  std::optional<std::int64_t> version;  // only from PUT
};

struct item_patch {
  std::optional<std::string> name;
  std::optional<std::string> description;  // a null in the patch resets it to ""
  std::optional<std::int64_t> version;
};

// POST /items: `name` required, `description` optional, nothing else (not even `version`).
boost::system::result<item_fields, api_error> parse_create_body(std::string_view body);
// PUT /items/{id}: as POST, and `version` is allowed.
boost::system::result<item_fields, api_error> parse_replace_body(std::string_view body);
// PATCH /items/{id}: an RFC 7396 merge patch over name and description, plus `version`.
boost::system::result<item_patch, api_error> parse_patch_body(std::string_view body);

// Validates a name or description on its own; an empty string means valid. Used by
// parse_* and by tests.
std::string check_name(std::string& name);  // trims in place
std::string check_description(std::string_view description);

}  // namespace crud::core
