#include "app/http_types.hpp"

#include <algorithm>

namespace crud::app {

bool iequals(std::string_view a, std::string_view b) noexcept {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; };
           return lower(x) == lower(y);
         });
}

std::optional<std::string_view> find_field(const field_list& fields, std::string_view name) {
  for (const auto& [key, value] : fields) {
    if (iequals(key, name))
      return std::string_view(value);
  }
  return std::nullopt;
}

std::optional<std::string_view> request::query_param(std::string_view name) const {
  for (const auto& [key, value] : query) {
    if (key == name)
      return std::string_view(value);
  }
  return std::nullopt;
}

std::string_view operation_name(operation op) noexcept {
  switch (op) {
    case operation::create_item:
      return "CREATE_ITEM";
    case operation::get_item:
      return "GET_ITEM";
    case operation::list_items:
      return "LIST_ITEMS";
    case operation::update_item:
      return "UPDATE_ITEM";
    case operation::patch_item:
      return "PATCH_ITEM";
    case operation::delete_item:
      return "DELETE_ITEM";
    case operation::restore_item:
      return "RESTORE_ITEM";
    case operation::preflight:
      return "PREFLIGHT";
    case operation::unknown:
      return "UNKNOWN";
  }
  return "UNKNOWN";
}

}  // namespace crud::app
