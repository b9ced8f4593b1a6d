#pragma once
// The Lambda side's metrics (CONTRACT §3): one CloudWatch Embedded Metric Format document per
// request, written as a log line, which CloudWatch Logs turns into metrics with no API call and
// no agent. The document's one directive puts every metric under the dimensions
// [service, operation], in the configured namespace:
//   Latency (Milliseconds)  always;
//   Errors (Count)          always, 1 when the status is 5xx. A 4xx is the client's mistake
//                           (validation, 404, 409, 429), answered as designed, so it is not an
//                           error of the function; the log line still carries its status;
//   ItemsCreated, ItemsUpdated (PUT and PATCH), ItemsDeleted, ItemsRestored (Count 1)
//                           only on a successful write of that kind; an idempotent replay wrote
//                           nothing, so it counts nothing;
//   ColdStart (Count 1)     only in the first request a process handles. It shares the
//                           request's dimensions rather than Powertools' [service,
//                           function_name], which keeps one document per request and says
//                           which operation paid for the start.
// `serve` does not use this: it has /metrics.

#include <cstdint>
#include <string>
#include <string_view>

#include "app/http_types.hpp"
#include "app/log_sink.hpp"
#include "core/clock.hpp"

namespace crud::lambda {

inline constexpr std::string_view default_metrics_namespace = "ServerlessCrudApi";

// Whether CloudWatch takes `ns` as a custom namespace: 1-255 characters among letters, digits
// and ". - _ / # : space", not starting with "AWS/".
bool is_valid_metrics_namespace(std::string_view ns) noexcept;

// What one request did, as the metrics see it.
struct request_outcome {
  app::operation op = app::operation::unknown;
  int status = 0;
  double latency_ms = 0;
  bool replayed = false;  // an idempotent replay: the response was stored, nothing was written
  bool cold_start = false;
  std::int64_t timestamp_ms = 0;  // when the request ended, epoch ms
};

request_outcome outcome_of(const app::response& res, double latency_ms, bool cold_start,
                           std::int64_t timestamp_ms);

// The EMF document for one request, as one JSON line without the newline.
std::string format_emf_line(std::string_view metrics_namespace, std::string_view service,
                            const request_outcome& outcome);

// Writes each request's document to the log sink, remembering whether the process's cold start
// has been reported. One per process; used from one thread at a time, as the Lambda loop is.
class emf_publisher {
 public:
  emf_publisher(std::string metrics_namespace, std::string service, app::log_sink& sink,
                const core::clock& clock)
      : namespace_(std::move(metrics_namespace)),
        service_(std::move(service)),
        sink_(sink),
        clock_(clock) {}

  // `started_ns` is the clock's steady reading when the request began.
  void publish(const app::response& res, std::int64_t started_ns);

 private:
  std::string namespace_;
  std::string service_;
  app::log_sink& sink_;
  const core::clock& clock_;
  bool cold_ = true;
};

}  // namespace crud::lambda
