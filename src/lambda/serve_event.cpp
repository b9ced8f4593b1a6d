#include "lambda/serve_event.hpp"

#include <utility>

namespace crud::lambda {

boost::system::result<std::string, std::string> serve_event(app::request_handler& app,
                                                            std::string_view payload,
                                                            const event_context& context,
                                                            emf_publisher& metrics,
                                                            const core::clock& clock) {
  auto event = decode_event(payload);
  if (!event)
    return {boost::system::in_place_error, std::move(event.error())};
  return {boost::system::in_place_value,
          serve_event(app, std::move(*event), context, metrics, clock).response};
}

served_event serve_event(app::request_handler& app, decoded_event event,
                         const event_context& context, emf_publisher& metrics,
                         const core::clock& clock) {
  app::request& req = event.request;
  req.request_id = context.request_id;
  req.deadline_ms = context.deadline_ms;
  req.trace_header = context.trace_header;
  const std::int64_t started = clock.steady_ns();
  app::response res = app.handle(req, {});
  metrics.publish(res, started);
  return {res.status, encode_response(res, event.version)};
}

}  // namespace crud::lambda
