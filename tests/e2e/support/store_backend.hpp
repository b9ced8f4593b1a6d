#pragma once
// Which store an e2e run drives. CTest registers the suites three times: on SQLite; with
// CRUD_E2E_STORE=dynamodb, where every test process starts its own dynalite and serves from
// tables that `crud-api init --store dynamodb` made there; and likewise on moto_server with
// CRUD_DYNAMODB_ENGINE=moto as well. A suite asks for a `store_target`, the flags and
// environment that point `crud-api` at one store, so the same test body runs on all three.

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "support/child_process.hpp"
#include "support/dynamodb_engine.hpp"
#include "support/temp_dir.hpp"

namespace crud::e2e {

// The shared test support, by the names the suites use.
using test_support::child_process;
using test_support::dynamodb_engine;
using test_support::dynamodb_engine_process;
using test_support::env_list;
using test_support::run_crud_api;
using test_support::run_result;
using test_support::temp_dir;

enum class store_kind { sqlite, dynamodb };

// CRUD_E2E_STORE: "dynamodb", or SQLite when unset.
store_kind e2e_store_kind();
inline bool on_dynamodb() {
  return e2e_store_kind() == store_kind::dynamodb;
}

// One store: `args` go after the subcommand, `env` into the child's environment.
struct store_target {
  std::vector<std::string> args;
  env_list env;
};

store_target sqlite_target(const std::filesystem::path& db);

// The dummy credentials and region every DynamoDB child gets: the engines check that requests
// are signed, not who signed them.
env_list dynamodb_env();

// A DynamoDB engine for one test (CRUD_DYNAMODB_ENGINE: dynalite, or moto), plus the tables
// made in it. dynalite keeps its tables in a LevelDB folder when given one; moto only in memory.
class dynamodb_backend {
 public:
  // Starts the engine; throws std::runtime_error when it cannot.
  explicit dynamodb_backend(const std::filesystem::path& leveldb_path = {});
  ~dynamodb_backend();
  dynamodb_backend(const dynamodb_backend&) = delete;
  dynamodb_backend& operator=(const dynamodb_backend&) = delete;

  std::string endpoint() const;
  std::uint16_t port() const;
  // `table` through `endpoint` (the proxy's, say), made with `crud-api init` on first use.
  store_target table(const std::string& table, const std::string& endpoint = {});
  // What `crud-api init` printed for `table` (its log lines), or empty before table().
  const std::string& init_output(const std::string& table) const;

  dynamodb_engine_process& process() { return *engine_; }

 private:
  std::unique_ptr<dynamodb_engine_process> engine_;
  std::vector<std::pair<std::string, std::string>> made_;  // (table, init's stdout)
};

}  // namespace crud::e2e
