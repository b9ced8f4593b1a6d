#include "support/it_store.hpp"

#include <cstdlib>
#include <stdexcept>
#include <string_view>

namespace crud::lambda_it {
namespace {

bool dynamodb_requested() {
  const char* v = std::getenv("CRUD_E2E_STORE");
  return v != nullptr && std::string_view(v) == "dynamodb";
}

}  // namespace

it_store::it_store(const std::filesystem::path& scratch) : db_(scratch / "items.db") {
  if (!dynamodb_requested())
    return;
  engine_ = std::make_unique<test_support::dynamodb_engine_process>();
  if (!engine_->running())
    throw std::runtime_error(std::string(name_of(engine_->engine())) + ": " + engine_->error());
  test_support::spawn_options init;
  init.args = {"init"};
  init.env = env();
  const test_support::run_result r = test_support::run_to_end(init, std::chrono::seconds(60));
  if (r.exit_code != 0)
    throw std::runtime_error("crud-api init failed: " + r.err);
}

it_store::~it_store() = default;

env_list it_store::env() const {
  if (!engine_)
    return {{"CRUD_STORE", "sqlite"}, {"CRUD_DB", db_.string()}};
  return engine_->crud_env("items");
}

env_list it_store::unopenable() const {
  if (!engine_)
    return {{"CRUD_DB", "/proc/nope/items.db"}};
  return {{"TABLE_NAME", "no_such_table"}};
}

}  // namespace crud::lambda_it
