#pragma once
// The GoogleTest fixture behind the e2e suites: a fresh store (a temporary SQLite database,
// or a table in a DynamoDB engine of the test's own when CRUD_E2E_STORE=dynamodb), `crud-api serve`
// on it (started in SetUp with `server_args()`), and a keep-alive client. TearDown stops the
// server with SIGTERM and expects exit code 0, unless a test already stopped or killed it.

#include <gtest/gtest.h>

#include <boost/json/object.hpp>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "support/http_client.hpp"
#include "support/server_process.hpp"
#include "support/store_backend.hpp"
#include "support/temp_dir.hpp"

namespace crud::e2e {

class server_fixture : public ::testing::Test {
 protected:
  void SetUp() override;
  void TearDown() override;

  // The flags SetUp starts the server with (after --host, --port 0 and the store's).
  virtual std::vector<std::string> server_args() const { return {}; }

  // Stops the running server (expecting exit 0) and starts a new one on the same database.
  void restart(const std::vector<std::string>& args, const env_list& env = {});
  // Starts a server when none is running (after kill(), say).
  void start(const std::vector<std::string>& args, const env_list& env = {});
  // Stops the server with SIGTERM; its exit code.
  int stop();

  server_process& server() { return *server_; }
  http_client& client() { return *client_; }
  std::unique_ptr<http_client> new_client() const;
  // The store the server runs on, and a second, independent one of the same kind.
  store_target store();
  store_target other_store();
  // The SQLite database of store() (meaningful only when !on_dynamodb()).
  std::filesystem::path db_path() const { return dir_.path() / "data" / "items.db"; }
  // The DynamoDB engine behind store() when on_dynamodb(); null otherwise.
  dynamodb_backend* dynamodb() { return dynamodb_.get(); }
  const std::filesystem::path& dir() const { return dir_.path(); }

  // POSTs an item and expects 201; the item (`data`), or an empty object on failure.
  boost::json::object create_item(const std::string& name, const std::string& description = "");
  // GETs an item and returns its ETag (empty when the GET fails).
  std::string etag_of(const std::string& id);

 private:
  temp_dir dir_;
  std::unique_ptr<dynamodb_backend> dynamodb_;
  std::unique_ptr<server_process> server_;
  std::unique_ptr<http_client> client_;
};

// "/items/<id>"
std::string item_path(const boost::json::object& item);
std::string item_path(const std::string& id);

}  // namespace crud::e2e
