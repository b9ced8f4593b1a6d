#pragma once
// How an `api` is configured: what `main` decides from the options, fixed for the process.

#include <cstdint>
#include <string>

#include "app/log_sink.hpp"

namespace crud::app {

enum class delete_mode { hard, soft };

// Which operations this deployment serves (Lambda's _HANDLER); others get 405.
struct operation_set {
  bool create = true;
  bool read = true;
  bool update = true;
  bool remove = true;
};

struct api_config {
  delete_mode default_delete_mode = delete_mode::hard;
  std::string cors_origin;  // empty: no CORS headers
  std::string service_name = "serverless-crud-api";
  std::string table_name = "items";
  log_level level = log_level::info;
  operation_set operations;
  // How long an in-progress idempotency claim blocks retries when the request has no deadline.
  std::int64_t idempotency_in_progress_ms = 60'000;
  std::int64_t idempotency_ttl_ms = 24LL * 3600 * 1000;
};

}  // namespace crud::app
