#pragma once
// A DynamoDB-compatible server on a free loopback port for the lifetime of the object, for the
// DynamoDB tests. Two engines, written independently of each other, so that neither one's
// quirks pass for DynamoDB's behaviour (docs/decisions/0009-second-dynamodb-engine.md):
// - dynalite, in Node.js, pinned in the project's package-lock.json and installed by `npm ci`.
//   In memory by default; with a LevelDB folder it keeps its tables across a kill and a restart
//   on the same port, which the fault tests rely on.
// - moto_server (moto's standalone server, in Python), from the machine's Python. In memory
//   only: a restart starts empty. It implements UpdateTimeToLive, which dynalite does not.
// Each runs as a child_process, so none outlives its test. The object is ready once the engine
// has answered a ListTables call: moto loads its DynamoDB backend on the first request.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "support/child_process.hpp"

namespace crud::test_support {

enum class dynamodb_engine { dynalite, moto };

std::string_view name_of(dynamodb_engine engine);
// CRUD_DYNAMODB_ENGINE: "moto", or dynalite when unset or "dynalite"; throws
// std::runtime_error on anything else.
dynamodb_engine dynamodb_engine_from_environment();

struct dynamodb_engine_options {
  dynamodb_engine engine = dynamodb_engine_from_environment();
  std::uint16_t port = 0;  // 0: a free one
  std::string path;        // dynalite's LevelDB folder; empty: in memory. moto ignores it.
  int start_tries = 0;     // engines spawned before giving up; 0: 50 on a fixed port, else 3
};

// Whether process `pid` holds the socket listening on 127.0.0.1:port (Linux's /proc). An
// answer on a port does not say whose it is.
bool holds_listener(int pid, std::uint16_t port);

class dynamodb_engine_process {
 public:
  dynamodb_engine_process() : dynamodb_engine_process(dynamodb_engine_options{}) {}
  explicit dynamodb_engine_process(dynamodb_engine_options options);
  dynamodb_engine_process(const dynamodb_engine_process&) = delete;
  dynamodb_engine_process& operator=(const dynamodb_engine_process&) = delete;
  ~dynamodb_engine_process();

  // Starts it again after stop() or kill(), on the same port when it had one.
  bool start();

  dynamodb_engine engine() const { return options_.engine; }
  // Whether tables survive kill() and start(): dynalite with a LevelDB folder only.
  bool keeps_tables_across_restart() const {
    return options_.engine == dynamodb_engine::dynalite && !options_.path.empty();
  }
  bool running() const { return child_ != nullptr; }
  const std::string& error() const { return error_; }
  std::uint16_t port() const { return port_; }
  std::string endpoint() const { return "http://127.0.0.1:" + std::to_string(port_); }
  // What points a crud-api child at TABLE on this engine: the store, the table, the endpoint,
  // a region and static keys, and no shared AWS files (the machine's own must not leak in).
  env_list crud_env(std::string_view table) const;

  // A power cut: SIGKILL, then reap.
  void kill();
  // SIGTERM, then SIGKILL if it has not gone within 5 s.
  void stop();

 private:
  bool spawn();
  bool wait_until_ready();

  dynamodb_engine_options options_;
  std::unique_ptr<child_process> child_;
  std::uint16_t port_ = 0;
  std::string error_;
};

}  // namespace crud::test_support
