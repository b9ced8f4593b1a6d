#pragma once
// The items API as one transport-free pipeline: `api::handle(request, hooks) -> response`.
// Every request passes the same stages, in this order:
//   1. identify:  the request id (the transport's, else a new UUID) and the correlation id;
//   2. admit:     the transport's hooks charge the client address's rate limit, then
//                 authenticate the caller and charge its owner's rate limit;
//   3. route:     the route table (router.hpp) names the route and the operation;
//   4. handle:    the operation's handler (item_handlers.hpp) calls the store;
//   5. finish:    the standard headers and the one log line.
// A transport that group-commits runs stages 1 to 4 (`prepare`) where the writes happen and
// stage 5 once the commit is durable or has failed (request_handler.hpp).
// Rejections a transport makes itself (`reject`) join at stage 5, so every response, /health
// and /metrics included, leaves with the same headers and log line. The store, clock,
// randomness and log sink are passed in; the pipeline never throws: anything unexpected
// becomes a clean 500.

#include <memory>
#include <string>

#include "app/api_config.hpp"
#include "app/http_types.hpp"
#include "app/item_handlers.hpp"
#include "app/log_sink.hpp"
#include "app/request_context.hpp"
#include "app/request_handler.hpp"
#include "app/router.hpp"
#include "app/transport_hooks.hpp"
#include "core/clock.hpp"
#include "core/error.hpp"
#include "core/random_source.hpp"
#include "store/item_store.hpp"

namespace crud::app {

struct api_dependencies {
  store::item_store& store;
  const core::clock& clock;
  core::random_source& random;
  log_sink& log;
};

class api final : public request_handler {
 public:
  // List cursors are signed with the store's key (cursor_key_id, cursor_secret), read on the
  // first list.
  api(api_config config, api_dependencies deps);

  response handle(const request& req, const transport_hooks& hooks) noexcept override;
  // For transports without hooks (Lambda, `invoke`).
  response handle(const request& req) noexcept;
  response reject(const request& req, const core::api_error& error) noexcept override;
  // Stages 1 to 4 now, stage 5 when the transport settles the commit (request_handler.hpp).
  std::unique_ptr<pending_response> prepare(const request& req,
                                            const transport_hooks& hooks) noexcept override;

  const api_config& config() const noexcept { return config_; }

 private:
  class pending;

  response respond(request_context& ctx, const transport_hooks& hooks) noexcept;
  std::optional<response> admit(request_context& ctx, const transport_hooks& hooks,
                                route_match& match) noexcept;
  response run_handler(request_context& ctx, const route_match& match) noexcept;
  response internal_failure(request_context& ctx) noexcept;
  void identify(request_context& ctx);
  std::optional<outcome> admit_and_route(request_context& ctx, const transport_hooks& hooks,
                                         route_match& match);
  outcome dispatch(request_context& ctx, const route_match& match);
  outcome answer_local(request_context& ctx, route_id route, const transport_hooks& hooks);
  response preflight(request_context& ctx, route_id route);
  response fail(request_context& ctx, const core::api_error& error);
  response finish(request_context& ctx, response res) noexcept;
  std::string new_request_id();

  api_config config_;
  api_dependencies deps_;
  item_handlers handlers_;
};

}  // namespace crud::app
