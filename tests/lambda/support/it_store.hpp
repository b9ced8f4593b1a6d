#pragma once
// The store a Lambda integration test runs the binary on. CTest registers these suites three
// times: on SQLite in the test's scratch folder, and with CRUD_E2E_STORE=dynamodb on a table in a
// DynamoDB engine (dynalite, or moto_server with CRUD_DYNAMODB_ENGINE=moto) that the test starts
// for itself and readies with `crud-api init`. Tests take the environment from here, so one test
// body covers all three.

#include <filesystem>
#include <memory>

#include "support/child_process.hpp"
#include "support/dynamodb_engine.hpp"

namespace crud::lambda_it {

using test_support::env_list;

class it_store {
 public:
  // Throws std::runtime_error when the engine or `crud-api init` fails.
  explicit it_store(const std::filesystem::path& scratch);
  ~it_store();
  it_store(const it_store&) = delete;
  it_store& operator=(const it_store&) = delete;

  bool on_dynamodb() const { return engine_ != nullptr; }
  // CRUD_STORE and what that store needs (CRUD_DB; or TABLE_NAME, DYNAMODB_ENDPOINT, region
  // and dummy credentials).
  env_list env() const;
  // Overrides of env() that leave a store the binary cannot open.
  env_list unopenable() const;

 private:
  std::filesystem::path db_;
  std::unique_ptr<test_support::dynamodb_engine_process> engine_;
};

}  // namespace crud::lambda_it
