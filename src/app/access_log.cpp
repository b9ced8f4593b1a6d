#include "app/access_log.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>

#include "core/json_text.hpp"
#include "core/timestamp.hpp"

namespace crud::app {

std::string_view level_name(log_level level) noexcept {
  switch (level) {
    case log_level::debug:
      return "DEBUG";
    case log_level::info:
      return "INFO";
    case log_level::warn:
      return "WARN";
    case log_level::error:
      return "ERROR";
  }
  return "INFO";
}

std::string format_access_line(const access_record& r) {
  using core::append_json_string;
  std::string out;
  out.reserve(400);
  out.append(R"({"timestamp":")");
  core::append_timestamp(out, r.timestamp_ms);
  out.append(R"(","level":")");
  out.append(level_name(r.level));
  out.append(R"(","service":)");
  append_json_string(out, r.service);
  out.append(R"(,"requestId":)");
  append_json_string(out, r.request_id);
  out.append(R"(,"correlationId":)");
  append_json_string(out, r.correlation_id);
  out.append(R"(,"operation":")");
  out.append(operation_name(r.op));
  out.append(R"(","userId":)");
  append_json_string(out, r.user_id);
  out.append(R"(,"duration":)");
  char buf[32];
  // A clock that jumps could give anything; the field stays a plain, bounded JSON number
  // (1e12 ms is over 30 years).
  double duration = std::isfinite(r.duration_ms) && r.duration_ms >= 0 ? r.duration_ms : 0;
  duration = std::min(duration, 1e12);
  // to_chars rounds exactly as "%.3f" does, without printf's locale and format parsing.
  const auto [end, ec] =
      std::to_chars(buf, buf + sizeof buf, duration, std::chars_format::fixed, 3);
  out.append(buf, ec == std::errc() ? end : buf);
  out.append(R"(,"statusCode":)");
  core::append_json_int(out, r.status);
  out.append(R"(,"message":)");
  append_json_string(out, r.message);
  if (!r.error_code.empty()) {
    out.append(R"(,"errorCode":)");
    append_json_string(out, r.error_code);
  }
  if (!r.cause.empty()) {
    out.append(R"(,"cause":)");
    append_json_string(out, r.cause);
  }
  if (!r.trace_id.empty()) {
    out.append(R"(,"xray_trace_id":)");
    append_json_string(out, r.trace_id);
  }
  out.append(R"(,"metadata":{"itemId":)");
  if (r.item_id.empty()) {
    out.append("null");
  } else {
    append_json_string(out, r.item_id);
  }
  out.append(R"(,"tableName":)");
  append_json_string(out, r.table_name);
  out.append("}}");
  return out;
}

}  // namespace crud::app
