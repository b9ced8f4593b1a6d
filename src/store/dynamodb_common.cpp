#include "store/dynamodb_common.hpp"

#include "core/cursor.hpp"
#include "core/hex.hpp"
#include "core/item_line.hpp"
#include "core/timestamp.hpp"

#include <array>
#include <cstddef>
#include <span>

namespace crud::store::dynamodb_detail {
namespace {

using aws::attribute_map;
using aws::attribute_value;
using aws::dynamodb_error;

constexpr std::string_view meta_pk = "META";

attribute_value s(std::string_view v) {
  return attribute_value::string(std::string(v));
}

std::string hex(std::span<const std::byte> bytes) {
  std::string out;
  out.reserve(bytes.size() * 2);
  for (auto b : bytes)
    core::append_hex(out, std::to_integer<std::uint8_t>(b));
  return out;
}

}  // namespace

const std::string* string_attr(const attribute_map& m, std::string_view name) {
  auto it = m.find(name);
  return it == m.end() ? nullptr : it->second.as_string();
}

attribute_map item_attributes(std::string_view owner, const core::item& it,
                              std::optional<std::int64_t> expires_at) {
  attribute_map m;
  m["pk"] = s(owner_pk(owner));
  m["sk"] = s(item_sk(it.id));
  m["id"] = s(it.id);
  m["name"] = s(it.name);
  m["description"] = s(it.description);
  m["createdAt"] = s(core::format_timestamp(it.created_at));
  m["updatedAt"] = s(core::format_timestamp(it.updated_at));
  m["version"] = attribute_value::number(it.version);
  if (it.deleted_at) {
    m["deletedAt"] = s(core::format_timestamp(*it.deleted_at));
    m["expiresAt"] = attribute_value::number(
        expires_at ? *expires_at
                   : core::ttl_seconds(*it.deleted_at + core::soft_delete_retention_ms));
  }
  return m;
}

boost::system::result<core::item, std::string> parse_item(const attribute_map& m) {
  auto fail = [](std::string why) {
    return boost::system::result<core::item, std::string>(boost::system::in_place_error,
                                                          std::move(why));
  };
  auto time = [&](std::string_view name) -> std::optional<std::int64_t> {
    const auto* v = string_attr(m, name);
    return v ? core::parse_timestamp(*v) : std::nullopt;
  };
  const auto* id = string_attr(m, "id");
  const auto* name = string_attr(m, "name");
  const auto* description = string_attr(m, "description");
  if (!id || !name || !description)
    return fail("id, name or description is missing or not a string");
  auto created = time("createdAt");
  auto updated = time("updatedAt");
  if (!created || !updated)
    return fail("createdAt or updatedAt is missing or not a timestamp");
  auto version = m.contains("version") ? m.at("version").as_int64() : std::nullopt;
  if (!version)
    return fail("version is missing or not an integer");
  core::item it;
  it.id = *id;
  it.name = *name;
  it.description = *description;
  it.created_at = *created;
  it.updated_at = *updated;
  it.version = *version;
  if (m.contains("deletedAt")) {
    it.deleted_at = time("deletedAt");
    if (!it.deleted_at)
      return fail("deletedAt is not a timestamp");
  }
  return it;
}

boost::system::result<std::optional<std::string>, dynamodb_error> read_cursor_secret(
    aws::dynamodb_client& client, const aws::request_context& context, const std::string& table,
    std::string_view key_id) {
  const attribute_map key{{"pk", s(meta_pk)}, {"sk", s(cursor_key_sk(key_id))}};
  aws::get_item_input get{table, key, true, {}, {}};
  auto found = client.get_item(context, get);
  if (!found)
    return found.error();
  if (!*found)
    return std::optional<std::string>();
  if (const auto* secret = string_attr(**found, "secret"); secret && !secret->empty())
    return std::optional<std::string>(*secret);
  dynamodb_error e;
  e.what = dynamodb_error::kind::bad_response;
  e.message = "the cursor secret item has no secret";
  return e;
}

boost::system::result<std::string, dynamodb_error> ensure_cursor_secret(
    aws::dynamodb_client& client, const std::string& table, const std::string& key_id,
    core::random_source& random) {
  for (int round = 0; round < 2; ++round) {
    auto found = read_cursor_secret(client, {}, table, key_id);
    if (!found)
      return found.error();
    if (*found)
      return std::move(**found);
    std::array<std::byte, 32> bytes{};
    random.fill(bytes);
    aws::put_item_input put;
    put.table = table;
    put.item = {{"pk", s(meta_pk)}, {"sk", s(cursor_key_sk(key_id))}};
    put.item["secret"] = s(hex(bytes));
    put.condition.expression = "attribute_not_exists(pk)";
    auto written = client.put_item({}, put);
    if (written)
      return string_attr(put.item, "secret") ? *string_attr(put.item, "secret") : std::string();
    if (!written.error().is("ConditionalCheckFailedException"))
      return written.error();
    // Another process of this region created it first: read theirs.
  }
  dynamodb_error e;
  e.what = dynamodb_error::kind::bad_response;
  e.message = "the cursor secret item keeps disappearing";
  return e;
}

boost::system::result<std::string, std::string> cursor_key_id_of(const dynamodb_options& options) {
  const std::string& id = options.cursor_key_id.empty() ? options.region : options.cursor_key_id;
  if (!core::cursor_codec::valid_key_id(id))
    return {
        boost::system::in_place_error,
        "the cursor key id \"" + id + "\" (the region, unless set) must be 1 to 32 of a-z, 0-9, -"};
  return {boost::system::in_place_value, id};
}

std::string describe(const dynamodb_error& e) {
  std::string out;
  switch (e.what) {
    case dynamodb_error::kind::service:
      out = e.type.empty() ? "HTTP " + std::to_string(e.http_status) : e.type;
      break;
    case dynamodb_error::kind::transport:
      out = "connection failed";
      break;
    case dynamodb_error::kind::timeout:
      out = "timed out";
      break;
    case dynamodb_error::kind::deadline:
      out = "deadline passed";
      break;
    case dynamodb_error::kind::crc_mismatch:
      out = "response checksum mismatch";
      break;
    case dynamodb_error::kind::bad_response:
      out = "unexpected response";
      break;
    case dynamodb_error::kind::credentials:
      out = "no credentials";
      break;
  }
  if (!e.message.empty())
    out += ": " + e.message;
  return out;
}

boost::system::result<std::unique_ptr<aws::dynamodb_client>, std::string> make_client(
    const dynamodb_options& options, const dynamodb_store_deps& deps) {
  if (options.table.empty())
    return std::string("--table must not be empty");
  if (!deps.http || !deps.credentials)
    return std::string("the DynamoDB store needs an HTTP client and credentials");
  auto endpoint = aws::resolve_dynamodb_endpoint(options.endpoint, options.region);
  if (!endpoint)
    return endpoint.error();
  aws::dynamodb_config config;
  config.region = options.region;
  config.endpoint = *endpoint;
  config.retry = options.retry;
  config.attempt_timeout_ms = options.attempt_timeout_ms;
  return std::make_unique<aws::dynamodb_client>(
      config, aws::dynamodb_deps{*deps.http, *deps.credentials, deps.clock, deps.random, deps.sleep,
                                 deps.observer});
}

std::string where(const dynamodb_options& options) {
  return "DynamoDB table " + options.table + " at " +
         (options.endpoint.empty() ? "dynamodb." + options.region + ".amazonaws.com"
                                   : options.endpoint);
}

}  // namespace crud::store::dynamodb_detail
