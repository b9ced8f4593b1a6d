#include "support/store_backend.hpp"

#include <algorithm>
#include <cstdlib>
#include <stdexcept>
#include <string_view>

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
  test_support::dynamodb_engine_options options;
  options.path = leveldb_path.string();
  engine_ = std::make_unique<dynamodb_engine_process>(options);
  if (!engine_->running()) {
    throw std::runtime_error(std::string(name_of(engine_->engine())) + ": " + engine_->error());
  }
}

dynamodb_backend::~dynamodb_backend() = default;

std::string dynamodb_backend::endpoint() const {
  return engine_->endpoint();
}

std::uint16_t dynamodb_backend::port() const {
  return engine_->port();
}

store_target dynamodb_backend::table(const std::string& table, const std::string& endpoint) {
  const std::string url = endpoint.empty() ? engine_->endpoint() : endpoint;
  store_target target{{"--store", "dynamodb", "--endpoint", url, "--table", table}, dynamodb_env()};
  if (std::none_of(made_.begin(), made_.end(), [&](const auto& m) { return m.first == table; })) {
    // Straight to the engine: a proxy in front may be injecting faults already.
    std::vector<std::string> args{
        "init", "--store", "dynamodb", "--endpoint", engine_->endpoint(), "--table", table};
    const auto r = run_crud_api(args, target.env, std::chrono::seconds(60));
    if (r.exit_code != 0) {
      throw std::runtime_error("crud-api init --table " + table + " failed: " + r.err);
    }
    made_.emplace_back(table, r.out);
  }
  return target;
}

const std::string& dynamodb_backend::init_output(const std::string& table) const {
  static const std::string none;
  for (const auto& [name, out] : made_) {
    if (name == table) {
      return out;
    }
  }
  return none;
}

}  // namespace crud::e2e
