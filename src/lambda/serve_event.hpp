#pragma once
// One API Gateway (REST v1, HTTP API v2) or Function URL event through the app: decode it,
// run it through the pipeline, publish its EMF metrics line, and encode the proxy-integration
// response. The Lambda runtime loop and `invoke` both serve events this way, so `main` only
// wires them.

#include <cstdint>
#include <string>
#include <string_view>

#include <boost/system/result.hpp>

#include "app/request_handler.hpp"
#include "core/clock.hpp"
#include "lambda/apigw_event.hpp"
#include "lambda/emf_metrics.hpp"

namespace crud::lambda {

// What the invocation, rather than the event, says about the request.
struct event_context {
  std::string request_id;        // Lambda's request id; empty: the app makes one
  std::int64_t deadline_ms = 0;  // epoch ms; 0 for none
  std::string trace_header;      // X-Ray's Lambda-Runtime-Trace-Id, when tracing
};

// The response JSON, or why the payload is not a usable event (one line).
boost::system::result<std::string, std::string> serve_event(app::request_handler& app,
                                                            std::string_view payload,
                                                            const event_context& context,
                                                            emf_publisher& metrics,
                                                            const core::clock& clock);

// An answered event: the HTTP status the app gave, and the proxy response JSON.
struct served_event {
  int status = 0;
  std::string response;
};

// The same for an event already decoded, by a caller that refuses a bad one before it opens a
// store, and looks at the status before it answers (`invoke`).
served_event serve_event(app::request_handler& app, decoded_event event,
                         const event_context& context, emf_publisher& metrics,
                         const core::clock& clock);

}  // namespace crud::lambda
