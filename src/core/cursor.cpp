#include "core/cursor.hpp"

#include "core/crypto.hpp"
#include "core/ulid.hpp"

namespace crud::core {
namespace {
// Truncated HMAC: 128 bits is ample against forgery and keeps tokens short.
constexpr std::size_t mac_bytes = 16;
// Bounds the work done on hostile input before any decoding.
constexpr std::size_t max_token_size = 128;
}  // namespace

std::string cursor_codec::mac(std::string_view owner, std::string_view last_id) const {
  std::string message = "crud.cursor.v1\n";
  message.append(owner);
  message.push_back('\n');
  message.append(last_id);
  auto full = hmac_sha256(key_, message);
  return std::string(as_view(full).substr(0, mac_bytes));
}

std::string cursor_codec::encode(std::string_view owner, std::string_view last_id) const {
  std::string token = base64url_encode(last_id);
  token.push_back('.');
  token += base64url_encode(mac(owner, last_id));
  return token;
}

std::optional<std::string> cursor_codec::decode(std::string_view owner,
                                                std::string_view token) const {
  if (token.empty() || token.size() > max_token_size)
    return std::nullopt;
  auto dot = token.find('.');
  if (dot == std::string_view::npos)
    return std::nullopt;
  auto id = base64url_decode(token.substr(0, dot));
  auto tag = base64url_decode(token.substr(dot + 1));
  if (!id || !tag || !is_item_id(*id))
    return std::nullopt;
  if (!constant_time_equal(*tag, mac(owner, *id)))
    return std::nullopt;
  return id;
}

}  // namespace crud::core
