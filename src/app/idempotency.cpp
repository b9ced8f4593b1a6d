#include "app/idempotency.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include "core/crypto.hpp"

namespace crud::app {

namespace json = boost::json;

bool is_valid_idempotency_key(std::string_view key) noexcept {
  if (key.empty() || key.size() > max_idempotency_key_length)
    return false;
  for (char c : key) {
    if (c < 0x20 || c > 0x7E)
      return false;
  }
  return true;
}

std::string payload_hash(const core::item_fields& fields) {
  // A name never holds a newline, so this joining is unambiguous.
  std::string canonical = fields.name;
  canonical.push_back('\n');
  canonical += fields.description;
  return core::to_hex(core::as_view(core::sha256(canonical)));
}

std::string encode_stored_response(const response& res) {
  json::object stored;
  stored["status"] = res.status;
  json::array headers;
  for (const auto& [name, value] : res.headers) {
    if (name == "Location" || name == "ETag")
      headers.push_back(json::array{name, value});
  }
  stored["headers"] = std::move(headers);
  stored["body"] = res.body;
  stored["itemId"] = res.item_id;
  return json::serialize(stored);
}

std::optional<response> decode_stored_response(std::string_view stored) {
  boost::system::error_code ec;
  json::value v = json::parse(stored, ec);
  if (ec || !v.is_object())
    return std::nullopt;
  const auto& obj = v.get_object();
  const auto* status = obj.if_contains("status");
  const auto* headers = obj.if_contains("headers");
  const auto* body = obj.if_contains("body");
  if (!status || !status->is_int64() || !headers || !headers->is_array() || !body ||
      !body->is_string()) {
    return std::nullopt;
  }
  response res;
  res.status = static_cast<int>(status->get_int64());
  for (const auto& h : headers->get_array()) {
    if (!h.is_array() || h.get_array().size() != 2 || !h.get_array()[0].is_string() ||
        !h.get_array()[1].is_string()) {
      return std::nullopt;
    }
    res.headers.emplace_back(std::string(h.get_array()[0].get_string()),
                             std::string(h.get_array()[1].get_string()));
  }
  res.body = std::string(body->get_string());
  if (const auto* id = obj.if_contains("itemId"); id && id->is_string()) {
    res.item_id = std::string(id->get_string());
  }
  return res;
}

}  // namespace crud::app
