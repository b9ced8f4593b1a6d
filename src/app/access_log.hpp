#pragma once
// The one structured log line each request writes (CONTRACT §3). It carries identifiers,
// the outcome and timing; never a body, a token or a credential.

#include <cstdint>
#include <string>
#include <string_view>

#include "app/http_types.hpp"
#include "app/log_sink.hpp"

namespace crud::app {

struct access_record {
  std::int64_t timestamp_ms = 0;
  log_level level = log_level::info;
  std::string_view service;
  std::string_view request_id;
  std::string_view correlation_id;
  operation op = operation::unknown;
  std::string_view user_id;
  double duration_ms = 0;
  int status = 0;
  std::string_view message;
  std::string_view error_code;  // empty on success
  std::string_view cause;       // internal detail for 5xx, never sent to the client
  std::string_view item_id;
  std::string_view table_name;
  std::string_view trace_id;  // X-Ray trace header, when tracing
};

std::string format_access_line(const access_record& record);

std::string_view level_name(log_level level) noexcept;

}  // namespace crud::app
