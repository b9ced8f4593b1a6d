#pragma once
// The items API as one I/O-free function: `api::handle(request) -> response`. It routes,
// validates, applies conditional requests and idempotency, calls the store, builds the
// contract's envelope and headers, and writes the per-request log line. Everything it touches
// (store, clock, randomness, log sink) is passed in. It never throws: any failure becomes a
// clean 500.

#include <cstdint>
#include <memory>
#include <string>

#include "app/http_types.hpp"
#include "app/log_sink.hpp"
#include "core/clock.hpp"
#include "core/cursor.hpp"
#include "core/error.hpp"
#include "core/random_source.hpp"
#include "core/ulid.hpp"
#include "store/item_store.hpp"

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

struct api_dependencies {
  store::item_store& store;
  const core::clock& clock;
  core::random_source& random;
  log_sink& log;
};

class api {
 public:
  api(api_config config, api_dependencies deps, core::cursor_codec cursors);

  response handle(const request& req) noexcept;

  // A response for a request the transport refused before routing (413, 429, 431, ...), in
  // the same envelope and with the same log line as any other.
  response reject(const request& req, const core::api_error& error) noexcept;

  const api_config& config() const noexcept { return config_; }

  // A fresh request id (a UUID), for responses a transport answers itself (/health).
  std::string new_request_id();

 private:
  struct context;
  void identify(context& ctx, std::string request_id);
  response dispatch(context& ctx);
  response finish(context& ctx, response res) noexcept;
  response fail(context& ctx, const core::api_error& error);
  response fail_store(context& ctx, const boost::system::error_code& ec);
  response method_not_allowed(context& ctx, std::string allow);

  response create_item(context& ctx);
  response get_item(context& ctx, std::string_view id);
  response list_items(context& ctx);
  response update_item(context& ctx, std::string_view id, bool patch);
  response delete_item(context& ctx, std::string_view id);
  response restore_item(context& ctx, std::string_view id);
  response preflight(context& ctx, std::string allow);

  api_config config_;
  api_dependencies deps_;
  core::cursor_codec cursors_;
  core::ulid_generator ids_;
};

}  // namespace crud::app
