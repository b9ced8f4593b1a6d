#pragma once
// Which store an e2e run drives. CTest registers the suites twice: once on SQLite, and once
// with CRUD_E2E_STORE=dynamodb, where every test process starts its own dynalite and serves
// from tables that `crud-api init --store dynamodb` made there. A suite asks for a
// `store_target`, the flags and environment that point `crud-api` at one store, so the same
// test body runs on both.

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "support/child_process.hpp"

namespace crud::store::testing {
class dynalite_process;
}

namespace crud::e2e {

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

// The dummy credentials and region every DynamoDB child gets: dynalite checks that requests
// are signed, not who signed them.
env_list dynamodb_env();

// A dynalite for one test, in memory or in a LevelDB folder, plus the tables made in it.
class dynamodb_backend {
 public:
  // Starts dynalite; throws std::runtime_error when it cannot.
  explicit dynamodb_backend(const std::filesystem::path& leveldb_path = {});
  ~dynamodb_backend();
  dynamodb_backend(const dynamodb_backend&) = delete;
  dynamodb_backend& operator=(const dynamodb_backend&) = delete;

  std::string endpoint() const;
  std::uint16_t port() const;
  // `table` through `endpoint` (the proxy's, say), made with `crud-api init` on first use.
  store_target table(const std::string& table, const std::string& endpoint = {});

  store::testing::dynalite_process& process() { return *dynalite_; }

 private:
  std::unique_ptr<store::testing::dynalite_process> dynalite_;
  std::vector<std::string> made_;
};

}  // namespace crud::e2e
