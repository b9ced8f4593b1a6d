// Item bodies (POST, PUT, PATCH): every client-supplied item goes through these parsers.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "core/item_input.hpp"

namespace {

// What the parsers accepted must pass the validators on its own.
void check_valid(std::string name, std::string_view description) {
  if (name.empty() || !crud::core::check_name(name).empty() ||
      !crud::core::check_description(description).empty())
    std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace crud::core;
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  if (auto created = parse_create_body(body)) {
    if (created->version)
      std::abort();  // POST never takes a version
    check_valid(created->name, created->description);
  }
  if (auto replaced = parse_replace_body(body))
    check_valid(replaced->name, replaced->description);
  if (auto patch = parse_patch_body(body)) {
    if (patch->name)
      check_valid(*patch->name, patch->description.value_or(""));
  }
  return 0;
}
