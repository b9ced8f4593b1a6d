#include "core/item_input.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include <algorithm>

#include "core/utf8.hpp"

namespace crud::core {
namespace {

namespace json = boost::json;

// Unknown fields beyond this many are not listed one by one; a hostile body could hold
// thousands.
constexpr std::size_t max_reported_fields = 20;

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

bool is_control(char32_t cp) {
  return cp < 0x20 || (cp >= 0x7F && cp <= 0x9F);
}

enum class body_kind { create, replace, patch };

boost::system::result<json::value, api_error> parse_object(std::string_view body) {
  boost::system::error_code ec;
  json::parse_options opts;
  opts.max_depth = 32;
  json::value v = json::parse(body, ec, {}, opts);
  if (ec) {
    return make_error(error_code::bad_request, "Request body is not valid JSON");
  }
  if (!v.is_object()) {
    return make_error(error_code::bad_request, "Request body must be a JSON object");
  }
  return v;
}

void add(api_error& e, std::string field, std::string reason) {
  e.details.push_back({std::move(field), std::move(reason)});
}

std::optional<std::int64_t> as_version(const json::value& v) {
  if (v.is_int64() && v.get_int64() >= 1)
    return v.get_int64();
  if (v.is_uint64() && v.get_uint64() <= static_cast<std::uint64_t>(INT64_MAX) &&
      v.get_uint64() >= 1) {
    return static_cast<std::int64_t>(v.get_uint64());
  }
  return std::nullopt;
}

struct fields_seen {
  std::optional<std::string> name;
  bool name_null = false;
  std::optional<std::string> description;
  bool description_null = false;
  std::optional<std::int64_t> version;
};

boost::system::result<fields_seen, api_error> read_fields(std::string_view body, body_kind kind) {
  auto parsed = parse_object(body);
  if (!parsed)
    return parsed.error();
  const json::object& obj = parsed->get_object();

  api_error failure = make_error(error_code::validation_failed, "Validation failed");
  fields_seen seen;
  std::size_t unknown = 0;
  for (const auto& [key, value] : obj) {
    if (key == "name") {
      if (value.is_string()) {
        std::string name(value.get_string());
        if (auto reason = check_name(name); !reason.empty()) {
          add(failure, "name", reason);
        } else {
          seen.name = std::move(name);
        }
      } else if (value.is_null() && kind == body_kind::patch) {
        seen.name_null = true;
        add(failure, "name", "name is required and cannot be removed");
      } else {
        add(failure, "name", "must be a string");
      }
    } else if (key == "description") {
      if (value.is_string()) {
        std::string_view text = value.get_string();
        if (auto reason = check_description(text); !reason.empty()) {
          add(failure, "description", reason);
        } else {
          seen.description = std::string(text);
        }
      } else if (value.is_null() && kind == body_kind::patch) {
        seen.description_null = true;
      } else {
        add(failure, "description", "must be a string");
      }
    } else if (key == "version" && kind != body_kind::create) {
      if (auto v = as_version(value)) {
        seen.version = v;
      } else {
        add(failure, "version", "must be a positive integer");
      }
    } else {
      if (unknown++ < max_reported_fields) {
        std::string field(key);
        if (!count_code_points(field))
          field = "(invalid UTF-8)";
        add(failure, std::move(field), "unknown field");
      }
    }
  }
  if (kind != body_kind::patch && !seen.name &&
      std::none_of(failure.details.begin(), failure.details.end(),
                   [](const field_error& f) { return f.field == "name"; })) {
    add(failure, "name", "name is required");
  }
  if (unknown > max_reported_fields) {
    add(failure, "(more)", std::to_string(unknown - max_reported_fields) + " more unknown fields");
  }
  if (!failure.details.empty())
    return failure;
  return seen;
}

}  // namespace

std::string check_name(std::string& name) {
  std::string_view v = name;
  while (!v.empty() && is_space(v.front()))
    v.remove_prefix(1);
  while (!v.empty() && is_space(v.back()))
    v.remove_suffix(1);
  bool control = false;
  auto count = for_each_code_point(v, [&](char32_t cp) { control = control || is_control(cp); });
  if (!count)
    return "must be valid UTF-8";
  if (*count == 0)
    return "must not be empty";
  if (*count > max_name_length)
    return "must be at most 200 characters";
  if (control)
    return "must not contain control characters";
  name = std::string(v);
  return {};
}

std::string check_description(std::string_view description) {
  bool control = false;
  auto count = for_each_code_point(description, [&](char32_t cp) {
    control = control || (is_control(cp) && cp != '\n' && cp != '\t');
  });
  if (!count)
    return "must be valid UTF-8";
  if (*count > max_description_length)
    return "must be at most 2000 characters";
  if (control)
    return "must not contain control characters other than newline and tab";
  return {};
}

boost::system::result<item_fields, api_error> parse_create_body(std::string_view body) {
  auto seen = read_fields(body, body_kind::create);
  if (!seen)
    return seen.error();
  return item_fields{std::move(*seen->name), seen->description.value_or(""), std::nullopt};
}

boost::system::result<item_fields, api_error> parse_replace_body(std::string_view body) {
  auto seen = read_fields(body, body_kind::replace);
  if (!seen)
    return seen.error();
  return item_fields{std::move(*seen->name), seen->description.value_or(""), seen->version};
}

boost::system::result<item_patch, api_error> parse_patch_body(std::string_view body) {
  auto seen = read_fields(body, body_kind::patch);
  if (!seen)
    return seen.error();
  item_patch patch;
  patch.name = std::move(seen->name);
  if (seen->description) {
    patch.description = std::move(seen->description);
  } else if (seen->description_null) {
    patch.description = std::string();
  }
  patch.version = seen->version;
  return patch;
}

}  // namespace crud::core
