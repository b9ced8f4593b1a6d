#include "core/item_line.hpp"

#include <limits>

#include <boost/json.hpp>

#include "core/item_input.hpp"
#include "core/json_text.hpp"
#include "core/timestamp.hpp"
#include "core/ulid.hpp"

namespace crud::core {
namespace {

namespace json = boost::json;

using parsed = boost::system::result<item_record, std::string>;

parsed failure(std::string reason) {
  return {boost::system::in_place_error, std::move(reason)};
}

const json::string* string_field(const json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  return v && v->is_string() ? &v->get_string() : nullptr;
}

// A JSON integer (not a fraction, not a float spelling of one) within int64.
std::optional<std::int64_t> integer_field(const json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  if (v == nullptr)
    return std::nullopt;
  if (v->is_int64())
    return v->get_int64();
  if (v->is_uint64() && v->get_uint64() <= std::numeric_limits<std::int64_t>::max())
    return static_cast<std::int64_t>(v->get_uint64());
  return std::nullopt;
}

std::optional<std::int64_t> timestamp_field(const json::object& o, std::string_view key) {
  const auto* text = string_field(o, key);
  return text ? parse_timestamp(std::string_view(*text)) : std::nullopt;
}

}  // namespace

std::int64_t ttl_seconds(std::int64_t ms) noexcept {
  return ms / 1000 + (ms % 1000 > 0 ? 1 : 0);
}

void append_item_line(std::string& out, const item_record& record) {
  out.append(R"({"owner":)");
  append_json_string(out, record.owner);
  out.append(R"(,"item":)");
  append_item_json(out, record.stored);
  if (record.expires_at) {
    // append_item_json closed the item's object; expiresAt goes inside it.
    out.pop_back();
    out.append(R"(,"expiresAt":)");
    append_json_int(out, *record.expires_at);
    out.push_back('}');
  }
  out.push_back('}');
}

std::string item_line(const item_record& record) {
  std::string out;
  out.reserve(220 + record.owner.size() + record.stored.name.size() +
              record.stored.description.size());
  append_item_line(out, record);
  return out;
}

parsed parse_item_line(std::string_view line) {
  if (line.ends_with('\r'))
    line.remove_suffix(1);
  boost::system::error_code ec;
  json::value v = json::parse(line, ec);
  if (ec)
    return failure("not JSON: " + ec.message());
  if (!v.is_object())
    return failure("not a JSON object");
  const auto& top = v.get_object();
  for (const auto& [key, value] : top) {
    if (key != "owner" && key != "item")
      return failure("unknown field " + std::string(key));
  }
  item_record r;
  const auto* owner = string_field(top, "owner");
  if (owner == nullptr || owner->empty())
    return failure("owner: missing, or not a non-empty string");
  r.owner = std::string(*owner);
  const auto* it = top.if_contains("item");
  if (it == nullptr || !it->is_object())
    return failure("item: missing, or not an object");
  const auto& o = it->get_object();
  for (const auto& [key, value] : o) {
    static constexpr std::string_view known[] = {
        "id", "name", "description", "createdAt", "updatedAt", "version", "deletedAt", "expiresAt"};
    bool ok = false;
    for (auto k : known)
      ok = ok || key == k;
    if (!ok)
      return failure("item: unknown field " + std::string(key));
  }

  const auto* id = string_field(o, "id");
  if (id == nullptr || !is_item_id(*id))
    return failure("item.id: missing, or not an item id");
  r.stored.id = std::string(*id);
  const auto* name = string_field(o, "name");
  if (name == nullptr)
    return failure("item.name: missing, or not a string");
  r.stored.name = std::string(*name);
  std::string trimmed = r.stored.name;
  if (auto reason = check_name(trimmed); !reason.empty())
    return failure("item.name: " + reason);
  if (trimmed != r.stored.name)
    return failure("item.name: has surrounding white space");
  const auto* description = string_field(o, "description");
  if (description == nullptr)
    return failure("item.description: missing, or not a string");
  r.stored.description = std::string(*description);
  if (auto reason = check_description(r.stored.description); !reason.empty())
    return failure("item.description: " + reason);

  auto created = timestamp_field(o, "createdAt");
  if (!created)
    return failure("item.createdAt: missing, or not an RFC 3339 UTC time with milliseconds");
  auto updated = timestamp_field(o, "updatedAt");
  if (!updated)
    return failure("item.updatedAt: missing, or not an RFC 3339 UTC time with milliseconds");
  r.stored.created_at = *created;
  r.stored.updated_at = *updated;
  auto version = integer_field(o, "version");
  if (!version || *version < 1)
    return failure("item.version: missing, or not a positive integer");
  r.stored.version = *version;

  if (o.contains("deletedAt")) {
    r.stored.deleted_at = timestamp_field(o, "deletedAt");
    if (!r.stored.deleted_at)
      return failure("item.deletedAt: not an RFC 3339 UTC time with milliseconds");
  }
  if (o.contains("expiresAt")) {
    // The stores keep an expiry for soft-deleted items only: on a live one DynamoDB's TTL would
    // delete an item that the API shows.
    if (!r.stored.deleted_at)
      return failure("item.expiresAt: only a soft-deleted item (with deletedAt) expires");
    r.expires_at = integer_field(o, "expiresAt");
    if (!r.expires_at || *r.expires_at < 0)
      return failure("item.expiresAt: not epoch seconds");
  }
  return r;
}

}  // namespace crud::core
