#pragma once
// What a transport adds to the pipeline for one request. `serve` authenticates bearer tokens,
// limits each client's rate and has routes of its own (/health, /metrics, /openapi.json,
// /docs); Lambda has none of these, since API Gateway authenticated and throttled the caller
// before the event arrived. The app calls the hooks at fixed stages (api.hpp), so each
// transport stays a thin adapter.

#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include <boost/system/result.hpp>

#include "app/static_asset.hpp"

namespace crud::app {

struct request;

// The Prometheus text exposition format, version 0.0.4.
inline constexpr std::string_view prometheus_content_type =
    "text/plain; version=0.0.4; charset=utf-8";

struct transport_hooks {
  // Who is calling, from the request's credentials: the owner, or why the credentials were
  // refused (for the log line's `cause`; the client only learns it is 401). Unset, the owner is
  // whatever the transport put in the request. Not asked for CORS preflights and the
  // transport's own routes (/metrics excepted when `metrics_need_credentials`), and only asked
  // once the address's budget admitted the request, so that refused floods cost no crypto.
  std::function<boost::system::result<std::string, std::string>(const request&)> authenticate;
  // Charges a budget; nullopt admits the request, a value refuses it with that many seconds
  // for Retry-After. Called first with no owner, to charge the client's address, before any
  // credential is looked at; then, when `authenticate` vouched for an owner, again with it, to
  // charge that owner's budget.
  std::function<std::optional<int>(const request&, std::optional<std::string_view> owner)>
      rate_limit;
  // With `authenticate` set: /metrics needs the same credentials as the API (CONTRACT §2),
  // unless the operator made the scrape public. /health never does.
  bool metrics_need_credentials = false;
  // Set by a transport that has its own routes; it renders the metrics body.
  std::function<std::string()> render_metrics;
  // The files behind /docs and /openapi.json, by URL path (api_docs.hpp). Public, like /health:
  // documentation asks for no credentials.
  std::span<const static_asset> docs_files;
};

}  // namespace crud::app
