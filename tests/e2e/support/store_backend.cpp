#include "support/store_backend.hpp"

#include <algorithm>
#include <cstdlib>
#include <stdexcept>
#include <string_view>

#include "store/dynalite_process_test_support.hpp"

namespace crud::e2e {

store_kind e2e_store_kind() {
  const char* v = std::getenv("CRUD_E2E_STORE");
  if (v == nullptr || std::string_view(v).empty() || std::string_view(v) == "sqlite") {
    return store_kind::sqlite;
  }
  if (std::string_view(v) == "dynamodb") {
    return store_kind::dynamodb;
  }
  throw std::runtime_error("CRUD_E2E_STORE must be sqlite or dynamodb, not " + std::string(v));
}

store_target sqlite_target(const std::filesystem::path& db) {
  return {{"--db", db.string()}, {}};
}

env_list dynamodb_env() {
  return {{"AWS_ACCESS_KEY_ID", "e2e"},
          {"AWS_SECRET_ACCESS_KEY", "e2e-secret"},
          {"AWS_REGION", "us-east-1"},
          {"AWS_SHARED_CREDENTIALS_FILE", "/dev/null"},
          {"AWS_CONFIG_FILE", "/dev/null"}};
}

dynamodb_backend::dynamodb_backend(const std::filesystem::path& leveldb_path) {
  store::testing::dynalite_options options;
  options.path = leveldb_path.string();
  dynalite_ = std::make_unique<store::testing::dynalite_process>(options);
  if (!dynalite_->running()) {
    throw std::runtime_error("dynalite: " + dynalite_->error());
  }
}

dynamodb_backend::~dynamodb_backend() = default;

std::string dynamodb_backend::endpoint() const {
  return dynalite_->endpoint();
}

std::uint16_t dynamodb_backend::port() const {
  return dynalite_->port();
}

store_target dynamodb_backend::table(const std::string& table, const std::string& endpoint) {
  const std::string url = endpoint.empty() ? dynalite_->endpoint() : endpoint;
  store_target target{{"--store", "dynamodb", "--endpoint", url, "--table", table}, dynamodb_env()};
  if (std::find(made_.begin(), made_.end(), table) == made_.end()) {
    // Straight to dynalite: a proxy in front may be injecting faults already.
    std::vector<std::string> args{
        "init", "--store", "dynamodb", "--endpoint", dynalite_->endpoint(), "--table", table};
    const auto r = run_crud_api(args, target.env, std::chrono::seconds(60));
    if (r.exit_code != 0) {
      throw std::runtime_error("crud-api init --table " + table + " failed: " + r.err);
    }
    made_.push_back(table);
  }
  return target;
}

}  // namespace crud::e2e
