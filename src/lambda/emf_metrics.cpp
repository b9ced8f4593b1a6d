#include "lambda/emf_metrics.hpp"

#include <array>
#include <cmath>
#include <cstdio>
#include <vector>

#include "core/json_text.hpp"

namespace crud::lambda {
namespace {

struct metric {
  std::string_view name;
  std::string_view unit;
  double value;
};

void append_number(std::string& out, double v) {
  std::array<char, 48> buf{};
  int n = std::snprintf(buf.data(), buf.size(), "%.3f", v);
  // Trim "1.000" to "1" so counts read as counts.
  while (n > 0 && buf[static_cast<std::size_t>(n - 1)] == '0')
    --n;
  if (n > 0 && buf[static_cast<std::size_t>(n - 1)] == '.')
    --n;
  out.append(buf.data(), static_cast<std::size_t>(n > 0 ? n : 0));
}

bool is_success(int status) noexcept {
  return status >= 200 && status < 300;
}

}  // namespace

bool is_valid_metrics_namespace(std::string_view ns) noexcept {
  if (ns.empty() || ns.size() > 255 || ns.substr(0, 4) == "AWS/")
    return false;
  for (char c : ns) {
    const bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    if (!alnum && std::string_view(".-_/#: ").find(c) == std::string_view::npos)
      return false;
  }
  return true;
}

request_outcome outcome_of(const app::response& res, double latency_ms, bool cold_start,
                           std::int64_t timestamp_ms) {
  request_outcome o;
  o.op = res.op;
  o.status = res.status;
  o.latency_ms = latency_ms;
  o.replayed = res.header("Idempotent-Replayed").value_or("") == "true";
  o.cold_start = cold_start;
  o.timestamp_ms = timestamp_ms;
  return o;
}

std::string format_emf_line(std::string_view metrics_namespace, std::string_view service,
                            const request_outcome& o) {
  using app::operation;
  std::vector<metric> metrics;
  metrics.reserve(4);
  const double latency = std::isfinite(o.latency_ms) && o.latency_ms > 0 ? o.latency_ms : 0;
  metrics.push_back({"Latency", "Milliseconds", latency});
  metrics.push_back({"Errors", "Count", o.status >= 500 ? 1.0 : 0.0});
  if (is_success(o.status) && !o.replayed) {
    switch (o.op) {
      case operation::create_item:
        metrics.push_back({"ItemsCreated", "Count", 1});
        break;
      case operation::update_item:
      case operation::patch_item:
        metrics.push_back({"ItemsUpdated", "Count", 1});
        break;
      case operation::delete_item:
        metrics.push_back({"ItemsDeleted", "Count", 1});
        break;
      case operation::restore_item:
        metrics.push_back({"ItemsRestored", "Count", 1});
        break;
      default:
        break;
    }
  }
  if (o.cold_start)
    metrics.push_back({"ColdStart", "Count", 1});

  std::string out;
  out.reserve(384);
  out.append(R"({"_aws":{"Timestamp":)");
  core::append_json_int(out, o.timestamp_ms);
  out.append(R"(,"CloudWatchMetrics":[{"Namespace":)");
  core::append_json_string(out, metrics_namespace);
  out.append(R"(,"Dimensions":[["service","operation"]],"Metrics":[)");
  for (std::size_t i = 0; i < metrics.size(); ++i) {
    if (i > 0)
      out.push_back(',');
    out.append(R"({"Name":")");
    out.append(metrics[i].name);
    out.append(R"(","Unit":")");
    out.append(metrics[i].unit);
    out.append(R"("})");
  }
  out.append(R"(]}]},"service":)");
  core::append_json_string(out, service);
  out.append(R"(,"operation":")");
  out.append(app::operation_name(o.op));
  out.push_back('"');
  for (const metric& m : metrics) {
    out.append(R"(,")");
    out.append(m.name);
    out.append(R"(":)");
    append_number(out, m.value);
  }
  out.push_back('}');
  return out;
}

void emf_publisher::publish(const app::response& res, std::int64_t started_ns) {
  const double latency_ms = static_cast<double>(clock_.steady_ns() - started_ns) / 1e6;
  sink_.write(
      format_emf_line(namespace_, service_, outcome_of(res, latency_ms, cold_, clock_.wall_ms())));
  cold_ = false;
}

}  // namespace crud::lambda
