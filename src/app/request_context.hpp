#pragma once
// What the pipeline learns about one request as it passes through the stages, and what the
// handlers add to it: the ids, the caller, the operation, and what the log line will say. It
// lives for one call of `api::handle`.

#include <cstdint>
#include <string>
#include <string_view>

#include <boost/system/result.hpp>

#include "app/api_config.hpp"
#include "app/http_types.hpp"
#include "app/log_sink.hpp"
#include "core/error.hpp"
#include "core/item_input.hpp"
#include "store/item_store.hpp"

namespace crud::app {

struct request_context {
  explicit request_context(const request& r) : req(r), owner(r.owner) {}

  const request& req;
  std::string request_id;
  std::string correlation_id;  // for the log: the client's, else API Gateway's, else ours
  bool client_correlation = false;
  std::int64_t start_ns = 0;
  // The caller: the transport's, or the one its authenticate hook vouched for.
  std::string owner;
  operation op = operation::unknown;
  // The level of a successful request's log line; probes and scrapes log at DEBUG.
  log_level success_level = log_level::info;
  std::string item_id;
  std::string message;
  std::string_view error_code;  // empty on success
  std::string cause;            // for the log only
  store::call_options opts;
  // A write's input, parsed and validated in stage 3 (item_handlers::check_input) for its
  // handler: POST's fields, what PUT and PATCH change, and DELETE's mode.
  core::item_fields new_item;
  core::item_patch changes;
  delete_mode removal = delete_mode::soft;
};

// What a handler returns: the response, or the error the pipeline turns into the envelope.
using outcome = boost::system::result<response, core::api_error>;

}  // namespace crud::app
