#include "app/conditional.hpp"

namespace crud::app {
namespace {

void skip_separators(std::string_view& s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == ',')) {
    s.remove_prefix(1);
  }
}

// Calls `visit(tag, weak)` for each well-formed entity tag (tag includes its quotes); stops
// and returns true if visit does. Malformed members end the scan.
template <class Visit>
bool any_tag(std::string_view header, Visit visit) {
  std::string_view s = header;
  for (;;) {
    skip_separators(s);
    if (s.empty())
      return false;
    bool weak = false;
    if (s.starts_with("W/")) {
      weak = true;
      s.remove_prefix(2);
    }
    if (s.empty() || s.front() != '"')
      return false;
    auto close = s.find('"', 1);
    if (close == std::string_view::npos)
      return false;
    if (visit(s.substr(0, close + 1), weak))
      return true;
    s.remove_prefix(close + 1);
  }
}

bool is_star(std::string_view header) {
  while (!header.empty() && (header.front() == ' ' || header.front() == '\t'))
    header.remove_prefix(1);
  while (!header.empty() && (header.back() == ' ' || header.back() == '\t'))
    header.remove_suffix(1);
  return header == "*";
}

}  // namespace

bool if_match_satisfied(std::string_view header, std::string_view etag) {
  if (is_star(header))
    return true;
  return any_tag(header, [&](std::string_view tag, bool weak) { return !weak && tag == etag; });
}

bool if_none_match_matches(std::string_view header, std::string_view etag) {
  if (is_star(header))
    return true;
  return any_tag(header, [&](std::string_view tag, bool) { return tag == etag; });
}

}  // namespace crud::app
