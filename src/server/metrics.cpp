#include "server/metrics.hpp"

#include <algorithm>
#include <charconv>

namespace crud::server {
namespace {

constexpr std::int64_t to_ns(double seconds) {
  return static_cast<std::int64_t>(seconds * 1e9);
}

// Bucket bounds in nanoseconds, so recording compares integers.
constexpr auto bucket_bounds_ns = [] {
  std::array<std::int64_t, metrics::latency_buckets_s.size()> out{};
  for (std::size_t i = 0; i < out.size(); ++i)
    out[i] = to_ns(metrics::latency_buckets_s[i]);
  return out;
}();

void append_number(std::string& out, std::uint64_t v) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, r.ptr);
}

void append_number(std::string& out, std::int64_t v) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, r.ptr);
}

// Shortest fixed-point form that reads back exactly ("0.0005", "2.5", "10").
void append_double(std::string& out, double v) {
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::fixed);
  out.append(buf, r.ptr);
}

void append_header(std::string& out, std::string_view name, std::string_view help,
                   std::string_view type) {
  out.append("# HELP ").append(name).append(" ").append(help).append("\n");
  out.append("# TYPE ").append(name).append(" ").append(type).append("\n");
}

}  // namespace

void metrics::record_request(app::operation op, int status, std::int64_t duration_ns) noexcept {
  auto index = static_cast<std::size_t>(op);
  if (index >= ops_.size())
    index = static_cast<std::size_t>(app::operation::unknown);
  per_operation& o = ops_[index];
  if (status >= min_status && status <= max_status) {
    o.by_status[static_cast<std::size_t>(status - min_status)].fetch_add(1,
                                                                         std::memory_order_relaxed);
  }
  duration_ns = std::max<std::int64_t>(duration_ns, 0);
  const auto bucket = static_cast<std::size_t>(
      std::lower_bound(bucket_bounds_ns.begin(), bucket_bounds_ns.end(), duration_ns) -
      bucket_bounds_ns.begin());
  o.buckets[bucket].fetch_add(1, std::memory_order_relaxed);
  o.duration_ns_sum.fetch_add(static_cast<std::uint64_t>(duration_ns), std::memory_order_relaxed);
  o.count.fetch_add(1, std::memory_order_relaxed);
}

std::string metrics::render() const {
  std::string out;
  out.reserve(4096);

  append_header(out, "crud_http_requests_total", "HTTP requests answered, by operation and status.",
                "counter");
  for (std::size_t op = 0; op < ops_.size(); ++op) {
    const auto name = app::operation_name(static_cast<app::operation>(op));
    for (std::size_t s = 0; s < status_slots; ++s) {
      const auto n = ops_[op].by_status[s].load(std::memory_order_relaxed);
      if (n == 0)
        continue;
      out.append("crud_http_requests_total{operation=\"").append(name).append("\",status=\"");
      append_number(out, static_cast<std::uint64_t>(s + min_status));
      out.append("\"} ");
      append_number(out, n);
      out.push_back('\n');
    }
  }

  append_header(out, "crud_http_request_duration_seconds",
                "Time from a request's complete header to its response, by operation.",
                "histogram");
  for (std::size_t op = 0; op < ops_.size(); ++op) {
    const per_operation& o = ops_[op];
    const auto count = o.count.load(std::memory_order_relaxed);
    if (count == 0)
      continue;
    const auto name = app::operation_name(static_cast<app::operation>(op));
    std::uint64_t cumulative = 0;
    for (std::size_t b = 0; b < bucket_slots; ++b) {
      cumulative += o.buckets[b].load(std::memory_order_relaxed);
      out.append("crud_http_request_duration_seconds_bucket{operation=\"")
          .append(name)
          .append("\",le=\"");
      if (b < latency_buckets_s.size()) {
        append_double(out, latency_buckets_s[b]);
      } else {
        out.append("+Inf");
      }
      out.append("\"} ");
      append_number(out, cumulative);
      out.push_back('\n');
    }
    out.append("crud_http_request_duration_seconds_sum{operation=\"").append(name).append("\"} ");
    append_double(out,
                  static_cast<double>(o.duration_ns_sum.load(std::memory_order_relaxed)) / 1e9);
    out.push_back('\n');
    out.append("crud_http_request_duration_seconds_count{operation=\"").append(name).append("\"} ");
    // The buckets were read one by one, so +Inf is the count that matches them.
    append_number(out, cumulative);
    out.push_back('\n');
  }

  append_header(out, "crud_http_requests_in_flight", "Requests being processed.", "gauge");
  out.append("crud_http_requests_in_flight ");
  append_number(out, in_flight());
  out.push_back('\n');

  append_header(out, "crud_rate_limited_total", "Requests refused by the per-client rate limit.",
                "counter");
  out.append("crud_rate_limited_total ");
  append_number(out, rate_limited_.load(std::memory_order_relaxed));
  out.push_back('\n');

  append_header(out, "crud_connections_open", "Open client connections.", "gauge");
  out.append("crud_connections_open ");
  append_number(out, connections_open());
  out.push_back('\n');

  append_header(out, "crud_connections_refused_total",
                "Connections closed on accept because the connection cap was reached.", "counter");
  out.append("crud_connections_refused_total ");
  append_number(out, connections_refused_.load(std::memory_order_relaxed));
  out.push_back('\n');
  return out;
}

}  // namespace crud::server
