#pragma once
// The list cursor (`lastKey`): opaque to clients and tamper-evident. It names the last item id
// a page returned and carries an HMAC over that id and the owner, so a forged, garbled or
// another owner's cursor is rejected. Every process serving the same data must be able to find
// the key that signed a cursor: a store with one key signs version 1 cursors with it; a store
// whose processes in several regions each keep their own key signs version 2 cursors, which
// name their key (see docs/decisions/0003-cursor-format.md and 0021-cursor-keys-per-region.md).

#include <optional>
#include <string>
#include <string_view>

namespace crud::core {

// A cursor's parts, before its MAC is checked against the key it names.
struct parsed_cursor {
  std::string last_id;
  std::string key_id;  // empty: a version 1 cursor, signed with the store's one key
  std::string tag;
};

class cursor_codec {
 public:
  // `key` is raw secret bytes, at least 16 of them; cursors are version 1.
  explicit cursor_codec(std::string key) : key_(std::move(key)) {}
  // Version 2 cursors, naming `key_id` (a short [a-z0-9-] name, such as a region); an empty
  // `key_id` means version 1.
  cursor_codec(std::string key_id, std::string key)
      : key_id_(std::move(key_id)), key_(std::move(key)) {}

  const std::string& key_id() const { return key_id_; }

  std::string encode(std::string_view owner, std::string_view last_id) const;
  // The last id, or nullopt when the token was not made by encode() for this owner and key.
  std::optional<std::string> decode(std::string_view owner, std::string_view token) const;

  // The token's parts when it is well formed (either version); nullopt otherwise. Says nothing
  // about its authenticity: verify() does, with the key the cursor names.
  static std::optional<parsed_cursor> parse(std::string_view token);
  // Whether `cursor` was signed for `owner` with `key` (the secret of cursor.key_id).
  static bool verify(std::string_view owner, const parsed_cursor& cursor, std::string_view key);

  // Whether `id` may name a key in a version 2 cursor.
  static bool valid_key_id(std::string_view id);

 private:
  std::string key_id_;
  std::string key_;
};

}  // namespace crud::core
