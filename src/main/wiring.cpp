#include "main/wiring.hpp"

#include <cstdio>
#include <cstdlib>

#include "app/access_log.hpp"
#include "aws/xray_emitter.hpp"
#include "aws/xray_tracer.hpp"
#include "core/json_text.hpp"
#include "core/timestamp.hpp"
#include "lambda/emf_metrics.hpp"
#include "main/dynamodb_setup.hpp"
#include "main/timed_store.hpp"
#include "store/dynamodb_transfer.hpp"
#include "store/sqlite_store.hpp"
#include "store/sqlite_transfer.hpp"

namespace crud::main {
namespace {

// The tracer and the socket it sends through, as one object.
class owning_xray_tracer final : public aws::call_observer {
 public:
  owning_xray_tracer(std::unique_ptr<aws::xray_emitter> emitter, core::random_source& random)
      : emitter_(std::move(emitter)), tracer_(*emitter_, random) {}
  bool observes(std::string_view trace_header) const noexcept override {
    return tracer_.observes(trace_header);
  }
  void on_call(const aws::call_record& record) noexcept override { tracer_.on_call(record); }

 private:
  std::unique_ptr<aws::xray_emitter> emitter_;
  aws::xray_tracer tracer_;
};

}  // namespace

boost::system::result<std::string, std::string> metrics_namespace() {
  const char* v = std::getenv("POWERTOOLS_METRICS_NAMESPACE");  // NOLINT(concurrency-mt-unsafe)
  if (v == nullptr || *v == '\0')
    return {boost::system::in_place_value, lambda::default_metrics_namespace};
  if (!lambda::is_valid_metrics_namespace(v))
    return {boost::system::in_place_error,
            "POWERTOOLS_METRICS_NAMESPACE '" + std::string(v) +
                "' is not a CloudWatch namespace (1-255 of letters, digits and . - _ / # : space; "
                "not AWS/...)"};
  return {boost::system::in_place_value, v};
}

std::unique_ptr<aws::call_observer> make_xray_tracer(process& p) {
  const char* v = std::getenv("AWS_XRAY_DAEMON_ADDRESS");  // NOLINT(concurrency-mt-unsafe)
  if (v == nullptr || *v == '\0')
    return nullptr;
  auto address = aws::parse_daemon_address(v);
  if (!address) {
    std::fprintf(stderr, "crud-api: AWS_XRAY_DAEMON_ADDRESS %s; X-Ray tracing is off\n",
                 address.error().c_str());
    return nullptr;
  }
  auto emitter = aws::make_udp_xray_emitter(*address);
  if (!emitter) {
    std::fprintf(stderr, "crud-api: X-Ray daemon: %s; X-Ray tracing is off\n",
                 emitter.error().c_str());
    return nullptr;
  }
  return std::make_unique<owning_xray_tracer>(std::move(*emitter), p.random);
}

void process::log_event(const options& o, std::string_view message, std::string_view extra_json,
                        std::string_view level) {
  std::string line = R"({"timestamp":")";
  core::append_timestamp(line, clock.wall_ms());
  line.append(R"(","level":")");
  line.append(level);
  line.append(R"(","service":)");
  core::append_json_string(line, o.service_name);
  line.append(R"(,"message":)");
  core::append_json_string(line, message);
  if (!extra_json.empty()) {
    line.push_back(',');
    line.append(extra_json);
  }
  line.push_back('}');
  log.write(line);
}

app::log_level parse_log_level(const std::string& name) {
  if (name == "DEBUG")
    return app::log_level::debug;
  if (name == "WARN")
    return app::log_level::warn;
  if (name == "ERROR")
    return app::log_level::error;
  return app::log_level::info;
}

namespace {

// At DEBUG, every store call is also timed and logged (timed_store).
void adopt_store(process& p, const options& o, std::unique_ptr<store::item_store> opened) {
  if (parse_log_level(o.log_level) == app::log_level::debug)
    opened = std::make_unique<timed_store>(std::move(opened), p.clock, p.log, o.service_name);
  p.store = std::move(opened);
}

}  // namespace

namespace {

boost::system::result<std::unique_ptr<store::item_store>, std::string> open_store_as(
    process& p, const options& o, const store_opening& how) {
  if (o.store == store_kind::dynamodb) {
    auto setup = make_dynamodb_setup(p, o);
    if (!setup)
      return setup.error();
    setup->options.cursor_secret_at_open = !how.defer_checks;
    return store::open_dynamodb_store(setup->options, setup->deps);
  }
  store::sqlite_options so;
  so.path = o.db;
  so.read_connections = how.concurrent_readers;
  return store::open_sqlite_store(so, p.random);
}

}  // namespace

boost::system::result<void, std::string> open_store(process& p, const options& o,
                                                    const store_opening& how) {
  auto opened = open_store_as(p, o, how);
  if (!opened)
    return opened.error();
  adopt_store(p, o, std::move(*opened));
  return {};
}

std::optional<std::string> why_store_fails(process& p, const options& o) {
  auto opened = open_store_as(p, o, store_opening{});
  if (!opened)
    return std::move(opened.error());
  return std::nullopt;
}

boost::system::result<std::unique_ptr<store::item_transfer>, std::string> open_transfer(
    process& p, const options& o, bool for_import) {
  if (o.store == store_kind::dynamodb) {
    auto setup = make_dynamodb_setup(p, o);
    if (!setup)
      return setup.error();
    // A bulk call (a page of a Scan, a batch of 25 writes) may take longer than one item's.
    setup->options.attempt_timeout_ms = 15'000;
    auto opened = store::open_dynamodb_transfer(setup->options, setup->deps);
    if (!opened)
      return opened.error();
    return std::move(*opened);
  }
  store::sqlite_transfer_options so;
  so.path = o.db;
  so.create = for_import;
  auto opened = store::open_sqlite_transfer(so, p.random);
  if (!opened)
    return opened.error();
  return std::move(*opened);
}

void build_api(process& p, const options& o, app::operation_set operations) {
  app::api_config config;
  config.default_delete_mode = o.delete_mode;
  config.cors_origin = o.cors_origin;
  config.service_name = o.service_name;
  config.table_name = o.store == store_kind::dynamodb ? o.table : o.db;
  config.level = parse_log_level(o.log_level);
  config.operations = operations;
  p.api = std::make_unique<app::api>(std::move(config),
                                     app::api_dependencies{*p.store, p.clock, p.random, p.log});
}

}  // namespace crud::main
