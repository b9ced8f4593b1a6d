#pragma once
// The item: the one resource the API manages, its JSON form, and its strong ETag.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace crud::core {

struct item {
  std::string id;  // "item_" + ULID
  std::string name;
  std::string description;
  std::int64_t created_at = 0;  // ms since the epoch
  std::int64_t updated_at = 0;
  std::int64_t version = 0;
  std::optional<std::int64_t> deleted_at;  // set while soft-deleted

  bool deleted() const noexcept { return deleted_at.has_value(); }
  friend bool operator==(const item&, const item&) = default;
};

// Soft-deleted items are purged this long after deletion.
inline constexpr std::int64_t soft_delete_retention_ms = 30LL * 24 * 3600 * 1000;

// Appends the item's JSON object, as the API shows it.
void append_item_json(std::string& out, const item& it);
std::string item_json(const item& it);

// A strong entity tag derived from the id and the version, quoted as HTTP wants it.
std::string etag_for(std::string_view id, std::int64_t version);
inline std::string etag_for(const item& it) {
  return etag_for(it.id, it.version);
}

}  // namespace crud::core
