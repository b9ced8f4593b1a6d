#include "support/server_fixture.hpp"

#include <boost/json.hpp>

#include "support/contract_checks.hpp"

namespace crud::e2e {

void server_fixture::SetUp() {
  if (on_dynamodb()) {
    dynamodb_ = std::make_unique<dynamodb_backend>();
  }
  start(server_args());
}

store_target server_fixture::store() {
  return dynamodb_ ? dynamodb_->table("items") : sqlite_target(db_path());
}

store_target server_fixture::other_store() {
  return dynamodb_ ? dynamodb_->table("other_items")
                   : sqlite_target(dir_.path() / "other" / "items.db");
}

void server_fixture::TearDown() {
  client_.reset();
  if (server_ && !server_->exited()) {
    EXPECT_EQ(server_->stop(), 0) << "crud-api serve did not exit cleanly on SIGTERM";
  }
  server_.reset();
  dynamodb_.reset();
}

void server_fixture::start(const std::vector<std::string>& args, const env_list& env) {
  client_.reset();
  server_ = std::make_unique<server_process>(store(), args, env);
  client_ = new_client();
}

void server_fixture::restart(const std::vector<std::string>& args, const env_list& env) {
  EXPECT_EQ(stop(), 0) << "crud-api serve did not exit cleanly on SIGTERM";
  start(args, env);
}

int server_fixture::stop() {
  client_.reset();
  return server_->exited() ? server_->stop(std::chrono::milliseconds(0)) : server_->stop();
}

std::unique_ptr<http_client> server_fixture::new_client() const {
  return std::make_unique<http_client>(server_->port());
}

boost::json::object server_fixture::create_item(const std::string& name,
                                                const std::string& description) {
  boost::json::object body{{"name", name}, {"description", description}};
  const auto res = client().post("/items", boost::json::serialize(body));
  EXPECT_TRUE(is_success(res, 201));
  return data_of(res);
}

std::string server_fixture::etag_of(const std::string& id) {
  const auto res = client().get(item_path(id));
  EXPECT_EQ(res.status, 200) << describe(res);
  return res.header("ETag").value_or("");
}

std::string item_path(const boost::json::object& item) {
  const auto* id = item.if_contains("id");
  return item_path(id != nullptr && id->is_string() ? std::string(id->get_string()) : "");
}

std::string item_path(const std::string& id) {
  return "/items/" + id;
}

}  // namespace crud::e2e
