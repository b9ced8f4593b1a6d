#pragma once
// One line of `crud-api export` and `crud-api import` (CONTRACT §5): an owner's item with every
// field a store keeps for it, as one JSON object on one line, so that a file moves items between
// stores, and backs one up, without losing anything:
//
//   {"owner":"public","item":{"id":"item_…","name":"…","description":"…",
//    "createdAt":"…","updatedAt":"…","version":3,"deletedAt":"…","expiresAt":1770000000}}
//
// `deletedAt` and `expiresAt` are present only on a soft-deleted item. `expiresAt` is in epoch
// seconds, as DynamoDB's TTL attribute is (CONTRACT §4). Parsing is strict: every field has its
// type, timestamps their exact form, ids their shape, and an unknown field is refused, so a
// line that is read is one a store can keep as it is.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <boost/system/result.hpp>

#include "core/item.hpp"

namespace crud::core {

struct item_record {
  std::string owner;
  item stored;
  // Epoch seconds after which the store may drop the item; only with stored.deleted_at.
  std::optional<std::int64_t> expires_at;

  friend bool operator==(const item_record&, const item_record&) = default;
};

// The line, without its newline.
void append_item_line(std::string& out, const item_record& record);
std::string item_line(const item_record& record);

// The record in `line` (a trailing "\r" is ignored); the error is a short reason naming the
// field, e.g. "item.version: not a positive integer".
boost::system::result<item_record, std::string> parse_item_line(std::string_view line);

// Epoch seconds for a TTL at `ms`, rounded up so that nothing expires before its time.
std::int64_t ttl_seconds(std::int64_t ms) noexcept;

}  // namespace crud::core
