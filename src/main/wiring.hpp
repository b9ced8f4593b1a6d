#pragma once
// Building the process from its options: the real clock, randomness and log sink, the
// configured store, and the app on top. Every command (serve, lambda, invoke, init) wires the
// same way, so the API behaves the same in each.

#include <cstddef>
#include <memory>
#include <optional>
#include <string>

#include <boost/system/result.hpp>

#include "app/api.hpp"
#include "aws/dynamodb_client.hpp"
#include "main/options.hpp"
#include "main/os_random.hpp"
#include "main/stdout_sink.hpp"
#include "main/system_clock.hpp"
#include "store/item_store.hpp"
#include "store/item_transfer.hpp"

namespace crud::main {

struct process {
  system_clock clock;
  os_random random;
  stdout_sink log;
  // Set before open_store() to trace the store's DynamoDB calls; outlives the store.
  std::unique_ptr<aws::call_observer> tracer;
  std::unique_ptr<store::item_store> store;
  std::unique_ptr<app::api> api;

  explicit process(bool line_buffered_log, int log_fd = 1) : log(line_buffered_log, log_fd) {}

  // One JSON line outside any request (start-up, shutdown), at INFO level.
  void log_event(const options& o, std::string_view message, std::string_view extra_json,
                 std::string_view level = "INFO");
};

struct store_opening {
  // How many threads may read at once: SQLite opens that many read connections up front, and
  // each costs an open and a schema read at start-up, which a Lambda cold start or a one-shot
  // `invoke` would pay for nothing.
  std::size_t concurrent_readers = 1;
  // Skip what the open would check over the network (DynamoDB: that the table is there, by
  // reading the cursor secret, which then waits for the first list). For a one-shot `invoke`,
  // a round trip fewer; after a failed answer, why_store_fails() gives the reason the open
  // would have.
  bool defer_checks = false;
};

// Opens the store. The error is a one-line reason naming what is wrong.
boost::system::result<void, std::string> open_store(process& p, const options& o,
                                                    const store_opening& how = {});

// Opens the configured store anew with every check and closes it again: the one-line reason it
// cannot be opened, or nullopt when it can.
std::optional<std::string> why_store_fails(process& p, const options& o);

// Opens the configured store's bulk interface for `export` (a missing SQLite file is an error)
// or `import` (which creates it). The error is a one-line reason.
boost::system::result<std::unique_ptr<store::item_transfer>, std::string> open_transfer(
    process& p, const options& o, bool for_import);

// Builds the app over an open store.
void build_api(process& p, const options& o, app::operation_set operations = {});

app::log_level parse_log_level(const std::string& name);

// The EMF metrics namespace: POWERTOOLS_METRICS_NAMESPACE, else "ServerlessCrudApi". The error
// is a one-line reason naming the variable.
boost::system::result<std::string, std::string> metrics_namespace();

// X-Ray subsegments for the DynamoDB calls of sampled requests, sent to the daemon named by
// AWS_XRAY_DAEMON_ADDRESS (Lambda sets it). Null when the variable is unset; an unusable value
// is reported on stderr and also gives null, since tracing is not worth failing a function for.
std::unique_ptr<aws::call_observer> make_xray_tracer(process& p);

}  // namespace crud::main
