#pragma once
// The list cursor (`lastKey`): opaque to clients and tamper-evident. It names the last item id
// a page returned and carries an HMAC over that id and the owner, so a forged, garbled or
// another owner's cursor is rejected. The key must be the same for every process serving the
// same data, so stores keep it (see docs/decisions/0003-cursor-format.md).

#include <optional>
#include <string>
#include <string_view>

namespace crud::core {

class cursor_codec {
 public:
  // `key` is raw secret bytes, at least 16 of them.
  explicit cursor_codec(std::string key) : key_(std::move(key)) {}

  std::string encode(std::string_view owner, std::string_view last_id) const;
  // The last id, or nullopt when the token was not made by encode() for this owner and key.
  std::optional<std::string> decode(std::string_view owner, std::string_view token) const;

 private:
  std::string mac(std::string_view owner, std::string_view last_id) const;
  std::string key_;
};

}  // namespace crud::core
