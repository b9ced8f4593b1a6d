#pragma once
// The app's transport-neutral request and response. The server, the Lambda event adapter and
// `invoke` all translate to and from these, so every route behaves the same in each.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace crud::app {

using field_list = std::vector<std::pair<std::string, std::string>>;

// Case-insensitive lookup of the first field named `name`.
std::optional<std::string_view> find_field(const field_list& fields, std::string_view name);

// ASCII case-insensitive equality, as HTTP field names and auth schemes compare.
bool iequals(std::string_view a, std::string_view b) noexcept;

struct request {
  std::string method;  // upper case, e.g. "GET"
  std::string path;    // percent-decoded, without any API Gateway stage prefix
  // The prefix the client's URLs carry before `path` (an API Gateway stage, "/dev"), used to
  // build Location headers. Empty for the standalone server.
  std::string base_path;
  field_list query;    // decoded query parameters, in order
  field_list headers;  // names in any case
  std::string body;
  // The verified caller identity; "public" when there is no authentication.
  std::string owner = "public";
  // The peer as the transport keys it for rate limits (serve: the address, IPv6 by /64).
  std::string client_address;
  // Set by transports that already have one (Lambda); otherwise the app makes one.
  std::string request_id;
  // A fallback correlation id when the client sent no X-Correlation-Id (API Gateway's).
  std::string upstream_request_id;
  // Absolute deadline, ms since the epoch; 0 for none.
  std::int64_t deadline_ms = 0;
  // When the transport began to receive the request, on the clock's steady scale; 0 for when
  // the pipeline starts. The log line's duration counts from here, so time a request spends queued
  // (behind a group commit, say) is in it.
  std::int64_t received_ns = 0;
  std::string trace_header;

  std::optional<std::string_view> header(std::string_view name) const {
    return find_field(headers, name);
  }
  std::optional<std::string_view> query_param(std::string_view name) const;
};

// What the request was, for logs and metrics.
enum class operation : std::uint8_t {
  create_item,
  get_item,
  list_items,
  update_item,
  patch_item,
  delete_item,
  restore_item,
  preflight,
  unknown,
};
inline constexpr std::size_t operation_count = 9;

// "CREATE_ITEM", "GET_ITEM", ... as CONTRACT §3 names them.
std::string_view operation_name(operation op) noexcept;

struct response {
  int status = 200;
  field_list headers;
  std::string body;
  operation op = operation::unknown;
  std::string item_id;  // for logs
  std::string request_id;

  std::optional<std::string_view> header(std::string_view name) const {
    return find_field(headers, name);
  }
};

}  // namespace crud::app
