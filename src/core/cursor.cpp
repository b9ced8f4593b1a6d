#include "core/cursor.hpp"

#include "core/crypto.hpp"
#include "core/ulid.hpp"

namespace crud::core {
namespace {
// Truncated HMAC: 128 bits is ample against forgery and keeps tokens short.
constexpr std::size_t mac_bytes = 16;
// Bounds the work done on hostile input before any decoding.
constexpr std::size_t max_token_size = 160;
constexpr std::size_t max_key_id_size = 32;

// Version 1 signs owner and id; version 2 also the key's id, so a cursor cannot be moved to
// another key of the same deployment.
std::string mac(std::string_view key, std::string_view key_id, std::string_view owner,
                std::string_view last_id) {
  std::string message = key_id.empty() ? "crud.cursor.v1\n" : "crud.cursor.v2\n";
  if (!key_id.empty()) {
    message.append(key_id);
    message.push_back('\n');
  }
  message.append(owner);
  message.push_back('\n');
  message.append(last_id);
  auto full = hmac_sha256(key, message);
  return std::string(as_view(full).substr(0, mac_bytes));
}

}  // namespace

bool cursor_codec::valid_key_id(std::string_view id) {
  if (id.empty() || id.size() > max_key_id_size || id.front() == '-')
    return false;
  for (char c : id) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'))
      return false;
  }
  return true;
}

std::string cursor_codec::encode(std::string_view owner, std::string_view last_id) const {
  std::string token = base64url_encode(last_id);
  token.push_back('.');
  token += base64url_encode(mac(key_, key_id_, owner, last_id));
  if (!key_id_.empty()) {
    token.push_back('.');
    token += key_id_;
  }
  return token;
}

std::optional<parsed_cursor> cursor_codec::parse(std::string_view token) {
  if (token.empty() || token.size() > max_token_size)
    return std::nullopt;
  auto dot = token.find('.');
  if (dot == std::string_view::npos)
    return std::nullopt;
  std::string_view rest = token.substr(dot + 1);
  std::string_view key_id;
  if (auto second = rest.find('.'); second != std::string_view::npos) {
    key_id = rest.substr(second + 1);
    rest = rest.substr(0, second);
    if (!valid_key_id(key_id))
      return std::nullopt;
  }
  auto id = base64url_decode(token.substr(0, dot));
  auto tag = base64url_decode(rest);
  if (!id || !tag || !is_item_id(*id) || tag->size() != mac_bytes)
    return std::nullopt;
  return parsed_cursor{std::move(*id), std::string(key_id), std::move(*tag)};
}

bool cursor_codec::verify(std::string_view owner, const parsed_cursor& cursor,
                          std::string_view key) {
  return constant_time_equal(cursor.tag, mac(key, cursor.key_id, owner, cursor.last_id));
}

std::optional<std::string> cursor_codec::decode(std::string_view owner,
                                                std::string_view token) const {
  auto parsed = parse(token);
  if (!parsed || parsed->key_id != key_id_ || !verify(owner, *parsed, key_))
    return std::nullopt;
  return std::move(parsed->last_id);
}

}  // namespace crud::core
