#include "app/media_type.hpp"

#include <string>

namespace crud::app {
namespace {
std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
    s.remove_suffix(1);
  return s;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z')
      c = static_cast<char>(c + 32);
  }
  return out;
}
}  // namespace

bool is_json_media_type(std::optional<std::string_view> content_type) {
  if (!content_type)
    return false;
  std::string_view rest = *content_type;
  auto semi = rest.find(';');
  std::string type = lower(trim(rest.substr(0, semi)));
  bool json =
      type == "application/json" || (type.starts_with("application/") && type.ends_with("+json"));
  if (!json)
    return false;
  while (semi != std::string_view::npos) {
    rest = rest.substr(semi + 1);
    semi = rest.find(';');
    std::string param = lower(trim(rest.substr(0, semi)));
    if (param.starts_with("charset=")) {
      std::string value = param.substr(8);
      if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
        value = value.substr(1, value.size() - 2);
      }
      if (value != "utf-8" && value != "utf8")
        return false;
    }
  }
  return true;
}

}  // namespace crud::app
