#include "aws/xray_subsegment.hpp"

#include <array>
#include <cstddef>
#include <cstdio>
#include <span>

#include "core/hex.hpp"
#include "core/json_text.hpp"

namespace crud::aws {
namespace {

bool all_hex(std::string_view s) noexcept {
  for (char c : s) {
    const bool digit = c >= '0' && c <= '9';
    const bool lower = c >= 'a' && c <= 'f';
    const bool upper = c >= 'A' && c <= 'F';
    if (!digit && !lower && !upper)
      return false;
  }
  return true;
}

// "1-" + 8 hex digits (epoch seconds) + "-" + 24 hex digits.
bool valid_root(std::string_view root) noexcept {
  return root.size() == 35 && root.substr(0, 2) == "1-" && root[10] == '-' &&
         all_hex(root.substr(2, 8)) && all_hex(root.substr(11));
}

std::string_view trim(std::string_view s) noexcept {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
    s.remove_suffix(1);
  return s;
}

void append_seconds(std::string& out, double seconds) {
  std::array<char, 48> buf{};
  int n = std::snprintf(buf.data(), buf.size(), "%.6f", seconds);
  out.append(buf.data(), static_cast<std::size_t>(n > 0 ? n : 0));
}

bool is_throttling(std::string_view type) noexcept {
  return type == "ThrottlingException" || type == "ProvisionedThroughputExceededException" ||
         type == "RequestLimitExceeded";
}

}  // namespace

std::optional<trace_header> parse_trace_header(std::string_view text) {
  trace_header h;
  bool has_root = false;
  while (!text.empty()) {
    const auto semi = text.find(';');
    std::string_view part = trim(text.substr(0, semi));
    text = semi == std::string_view::npos ? std::string_view() : text.substr(semi + 1);
    const auto eq = part.find('=');
    if (eq == std::string_view::npos)
      continue;
    const std::string_view key = trim(part.substr(0, eq));
    const std::string_view value = trim(part.substr(eq + 1));
    if (key == "Root" && valid_root(value)) {
      h.root = std::string(value);
      has_root = true;
    } else if (key == "Parent" && value.size() == 16 && all_hex(value)) {
      h.parent = std::string(value);
    } else if (key == "Sampled") {
      h.sampled = value == "1";
    }
  }
  if (!has_root)
    return std::nullopt;
  return h;
}

bool traced(const trace_header& header) noexcept {
  return header.sampled && !header.parent.empty();
}

std::string new_segment_id(core::random_source& random) {
  std::array<std::byte, 8> bytes{};
  random.fill(std::span<std::byte>(bytes));
  std::string id;
  id.reserve(16);
  for (std::byte b : bytes) {
    core::append_hex(id, std::to_integer<std::uint8_t>(b));
  }
  return id;
}

namespace {

// The exception type for a failure DynamoDB did not name itself.
std::string_view local_failure_type(dynamodb_error::kind kind) noexcept {
  switch (kind) {
    case dynamodb_error::kind::service:
      return "ServiceError";
    case dynamodb_error::kind::transport:
      return "TransportError";
    case dynamodb_error::kind::timeout:
      return "Timeout";
    case dynamodb_error::kind::deadline:
      return "DeadlineExceeded";
    case dynamodb_error::kind::crc_mismatch:
      return "ChecksumMismatch";
    case dynamodb_error::kind::bad_response:
      return "BadResponse";
    case dynamodb_error::kind::credentials:
      return "NoCredentials";
  }
  return "Error";
}

void append_cause(std::string& out, const dynamodb_error& e, std::string_view exception_id) {
  const bool remote = e.what == dynamodb_error::kind::service;
  std::string_view type =
      remote && !e.type.empty() ? std::string_view(e.type) : local_failure_type(e.what);
  std::string message = e.message;
  if (message.empty() && e.transport_error)
    message = e.transport_error.message();
  out.append(R"(,"cause":{"exceptions":[{"id":)");
  core::append_json_string(out, exception_id);
  out.append(R"(,"type":)");
  core::append_json_string(out, type);
  if (!message.empty()) {
    out.append(R"(,"message":)");
    core::append_json_string(out, message);
  }
  out.append(remote ? R"(,"remote":true}]})" : R"(,"remote":false}]})");
}

}  // namespace

std::string format_dynamodb_subsegment(const trace_header& header, const call_record& call,
                                       std::string_view id, std::string_view exception_id) {
  using core::append_json_string;
  const double start = static_cast<double>(call.start_ms) / 1e3;
  const double end = start + static_cast<double>(call.duration_ns) / 1e9;

  bool fault = false;
  bool error = false;
  bool throttle = false;
  if (call.error != nullptr) {
    const auto kind = call.error->what;
    if (kind == dynamodb_error::kind::service) {
      throttle = call.error->http_status == 429 || is_throttling(call.error->type);
      fault = call.error->http_status >= 500 && !throttle;
      error = !fault;
    } else {
      // No usable answer, or one we could not trust: the dependency failed.
      fault = true;
    }
  }

  std::string out;
  out.reserve(512);
  out.append(R"({"type":"subsegment","id":)");
  append_json_string(out, id);
  out.append(R"(,"trace_id":)");
  append_json_string(out, header.root);
  out.append(R"(,"parent_id":)");
  append_json_string(out, header.parent);
  out.append(R"(,"name":"DynamoDB","namespace":"aws","start_time":)");
  append_seconds(out, start);
  out.append(R"(,"end_time":)");
  append_seconds(out, end);
  out.append(R"(,"aws":{"operation":)");
  append_json_string(out, call.operation);
  if (!call.table.empty()) {
    out.append(R"(,"table_name":)");
    append_json_string(out, call.table);
  }
  if (!call.region.empty()) {
    out.append(R"(,"region":)");
    append_json_string(out, call.region);
  }
  out.append(R"(,"retries":)");
  core::append_json_int(out, call.attempts > 1 ? call.attempts - 1 : 0);
  if (!call.request_id.empty()) {
    out.append(R"(,"request_id":)");
    append_json_string(out, call.request_id);
  }
  out.push_back('}');
  if (call.http_status != 0) {
    out.append(R"(,"http":{"response":{"status":)");
    core::append_json_int(out, call.http_status);
    out.append("}}");
  }
  if (fault)
    out.append(R"(,"fault":true)");
  if (error)
    out.append(R"(,"error":true)");
  if (throttle)
    out.append(R"(,"throttle":true)");
  if (call.error != nullptr && !exception_id.empty())
    append_cause(out, *call.error, exception_id);
  out.push_back('}');
  return out;
}

std::string xray_datagram(std::string_view document) {
  std::string out = "{\"format\": \"json\", \"version\": 1}\n";
  out.append(document);
  return out;
}

}  // namespace crud::aws
