#include "store/dynamodb_common.hpp"

#include "core/hex.hpp"

#include <array>
#include <cstddef>
#include <span>

namespace crud::store::dynamodb_detail {
namespace {

using aws::attribute_map;
using aws::attribute_value;
using aws::dynamodb_error;

constexpr std::string_view meta_pk = "META";
constexpr std::string_view secret_sk = "CURSOR_SECRET";

attribute_value s(std::string_view v) {
  return attribute_value::string(std::string(v));
}

const std::string* string_attr(const attribute_map& m, std::string_view name) {
  auto it = m.find(name);
  return it == m.end() ? nullptr : it->second.as_string();
}

std::string hex(std::span<const std::byte> bytes) {
  std::string out;
  out.reserve(bytes.size() * 2);
  for (auto b : bytes)
    core::append_hex(out, std::to_integer<std::uint8_t>(b));
  return out;
}

}  // namespace

boost::system::result<std::string, dynamodb_error> ensure_cursor_secret(
    aws::dynamodb_client& client, const std::string& table, core::random_source& random) {
  const attribute_map key{{"pk", s(meta_pk)}, {"sk", s(secret_sk)}};
  for (int round = 0; round < 2; ++round) {
    aws::get_item_input get{table, key, true, {}, {}};
    auto found = client.get_item({}, get);
    if (!found)
      return found.error();
    if (*found) {
      if (const auto* secret = string_attr(**found, "secret"); secret && !secret->empty())
        return *secret;
      dynamodb_error e;
      e.what = dynamodb_error::kind::bad_response;
      e.message = "the cursor secret item has no secret";
      return e;
    }
    std::array<std::byte, 32> bytes{};
    random.fill(bytes);
    aws::put_item_input put;
    put.table = table;
    put.item = key;
    put.item["secret"] = s(hex(bytes));
    put.condition.expression = "attribute_not_exists(pk)";
    auto written = client.put_item({}, put);
    if (written)
      return string_attr(put.item, "secret") ? *string_attr(put.item, "secret") : std::string();
    if (!written.error().is("ConditionalCheckFailedException"))
      return written.error();
    // Another process created it first: read theirs.
  }
  dynamodb_error e;
  e.what = dynamodb_error::kind::bad_response;
  e.message = "the cursor secret item keeps disappearing";
  return e;
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
