#include "lambda/handler_selection.hpp"

#include "core/hex.hpp"

#include <algorithm>

namespace crud::lambda {
namespace {

std::string_view trim(std::string_view s) {
  constexpr std::string_view blanks = " \t\r\n";
  std::size_t first = s.find_first_not_of(blanks);
  if (first == std::string_view::npos)
    return {};
  return s.substr(first, s.find_last_not_of(blanks) - first + 1);
}

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; });
  return out;
}

// Adds one named operation to `set`; false when the name is not one of ours.
bool add(app::operation_set& set, std::string_view name) {
  // "bootstrap" is what many provided.al2023 templates put in Handler by habit; it names the
  // executable, not an operation, so it means the whole API.
  if (name == "all" || name == "bootstrap") {
    set = app::operation_set{};
  } else if (name == "create") {
    set.create = true;
  } else if (name == "read") {
    set.read = true;
  } else if (name == "update") {
    set.update = true;
  } else if (name == "delete") {
    set.remove = true;
  } else {
    return false;
  }
  return true;
}

// The message must stay on one line even when the setting does not.
std::string error_for(std::string_view handler) {
  std::string shown;
  for (char c : handler) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      shown += "\\x";
      core::append_hex(shown, static_cast<std::uint8_t>(c));
    } else {
      shown += c;
    }
  }
  return "invalid _HANDLER \"" + shown +
         "\": expected create, read, update, delete or all (or a comma-separated list)";
}

}  // namespace

boost::system::result<app::operation_set, std::string> parse_handler(std::string_view handler) {
  if (trim(handler).empty())
    return app::operation_set{};
  app::operation_set set{false, false, false, false};
  std::string_view rest = handler;
  while (true) {
    std::size_t comma = rest.find(',');
    std::string name = lower(trim(rest.substr(0, comma)));
    if (!add(set, name))
      return error_for(handler);
    if (comma == std::string_view::npos)
      break;
    rest = rest.substr(comma + 1);
  }
  return set;
}

}  // namespace crud::lambda
