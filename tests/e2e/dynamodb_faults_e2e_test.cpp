// `crud-api serve --store dynamodb` when DynamoDB misbehaves, and what it leaves in the table.
// A fault proxy sits between the server and the engine (dynalite, or moto): throttling and 500s
// must be retried
// within the policy and then surface as 503 with Retry-After; dropped and stalled connections
// must be bounded by the timeouts; a killed dynalite must give 503s, never 500s or hangs, and
// service must come back by itself. No request may report success for a write that did not
// happen. These suites run only in the DynamoDB registration of the e2e tests.

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <chrono>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "support/contract_checks.hpp"
#include "support/fault_proxy.hpp"
#include "support/server_fixture.hpp"
#include "support/server_process.hpp"
#include "support/store_backend.hpp"
#include "support/temp_dir.hpp"

namespace crud::e2e {
namespace {

namespace json = boost::json;
using fault = fault_proxy::fault;
using namespace std::chrono_literals;

// The store's bounds (dynamodb_store.hpp): three attempts of at most 3 s each, with backoff
// between them. A request past this has hung.
constexpr auto bounded = 15s;

::testing::AssertionResult is_unavailable(const http_response& res) {
  auto r = is_error(res, 503, "UNAVAILABLE");
  if (!r) {
    return r;
  }
  const auto retry_after = res.header("Retry-After").value_or("");
  if (retry_after.empty() || retry_after.find_first_not_of("0123456789") != std::string::npos ||
      std::stoi(retry_after) < 1) {
    return ::testing::AssertionFailure() << "Retry-After is '" << retry_after << "'";
  }
  return ::testing::AssertionSuccess();
}

class DynamoDbFaultsE2e : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!on_dynamodb()) {
      GTEST_SKIP() << "a DynamoDB suite: CRUD_E2E_STORE=dynamodb";
    }
    backend_ = std::make_unique<dynamodb_backend>(dir_.path() / "leveldb");
    proxy_ = std::make_unique<fault_proxy>(backend_->port());
    server_ = std::make_unique<server_process>(backend_->table("items", proxy_->endpoint()),
                                               std::vector<std::string>{"--rate-limit", "0"});
    client_ = std::make_unique<http_client>(server_->port(), 30s);
  }

  void TearDown() override {
    client_.reset();
    if (server_ && !server_->exited()) {
      EXPECT_EQ(server_->stop(), 0);
    }
    server_.reset();
    proxy_.reset();
    backend_.reset();
  }

  // The ids the server lists, following lastKey to the end.
  std::vector<std::string> all_ids() {
    std::vector<std::string> ids;
    std::string key;
    for (int page = 0; page < 100; ++page) {
      const auto res = client_->get("/items?limit=100" +
                                    (key.empty() ? std::string() : "&lastKey=" + url_encode(key)));
      EXPECT_TRUE(is_success(res, 200));
      const auto more = ids_of(res);
      ids.insert(ids.end(), more.begin(), more.end());
      const auto body = json_of(res);
      const auto* p = body.is_object() ? body.get_object().if_contains("pagination") : nullptr;
      const auto* last =
          p != nullptr && p->is_object() ? p->get_object().if_contains("lastKey") : nullptr;
      if (last == nullptr || !last->is_string()) {
        break;
      }
      key = std::string(last->get_string());
    }
    return ids;
  }

  // Sends `req` and checks it was answered within `bounded`.
  http_response timed(const http_request& req) {
    const auto start = std::chrono::steady_clock::now();
    auto res = client_->send(req);
    const auto took = std::chrono::steady_clock::now() - start;
    EXPECT_LT(took, bounded) << req.method << " " << req.target << " took "
                             << std::chrono::duration_cast<std::chrono::milliseconds>(took).count()
                             << " ms";
    return res;
  }

  static http_request post_item(const std::string& name) {
    return {
        "POST", "/items", {{"Content-Type", "application/json"}}, R"({"name":")" + name + R"("})"};
  }

  temp_dir dir_;
  std::unique_ptr<dynamodb_backend> backend_;
  std::unique_ptr<fault_proxy> proxy_;
  std::unique_ptr<server_process> server_;
  std::unique_ptr<http_client> client_;
};

TEST_F(DynamoDbFaultsE2e, ThrottlingIsRetriedThenSurfacesAs503WithRetryAfter) {
  // Two throttled attempts, then the third gets through.
  proxy_->reset_counts();
  proxy_->inject(fault::throttle, 2, "PutItem");
  const auto created = timed(post_item("after two throttles"));
  ASSERT_TRUE(is_success(created, 201));
  EXPECT_EQ(proxy_->count("PutItem"), 3);
  EXPECT_EQ(proxy_->faults_delivered(), 2);

  // Throttled every time: three attempts and no more, then 503.
  proxy_->reset_counts();
  proxy_->inject(fault::throttle, -1, "PutItem");
  EXPECT_TRUE(is_unavailable(timed(post_item("never written"))));
  EXPECT_EQ(proxy_->count("PutItem"), 3) << "standard mode makes at most three attempts";

  proxy_->clear();
  EXPECT_EQ(all_ids(), std::vector<std::string>{string_at(data_of(created), "id")});
}

TEST_F(DynamoDbFaultsE2e, ServerErrorsAreRetriedThenSurfaceAs503) {
  const auto item = data_of(client_->send(post_item("to update")));
  ASSERT_FALSE(string_at(item, "id").empty());

  proxy_->reset_counts();
  proxy_->inject(fault::server_error, 1);
  const auto read = timed({"GET", item_path(item), {}, std::nullopt});
  ASSERT_TRUE(is_success(read, 200));
  EXPECT_EQ(proxy_->count("GetItem"), 2);

  proxy_->inject(fault::server_error, -1);
  EXPECT_TRUE(is_unavailable(timed({"PUT",
                                    item_path(item),
                                    {{"Content-Type", "application/json"}},
                                    R"({"name":"never written"})"})));
  EXPECT_TRUE(is_unavailable(timed({"GET", "/items", {}, std::nullopt})));

  // The failed PUT changed nothing.
  proxy_->clear();
  const auto after = client_->get(item_path(item));
  ASSERT_TRUE(is_success(after, 200));
  EXPECT_EQ(data_of(after), item);
}

TEST_F(DynamoDbFaultsE2e, DroppedConnectionsAreRetriedAndBounded) {
  proxy_->inject(fault::drop, 1, "PutItem");
  const auto created = timed(post_item("after a drop"));
  ASSERT_TRUE(is_success(created, 201));

  proxy_->inject(fault::drop, -1);
  EXPECT_TRUE(is_unavailable(timed(post_item("never written"))));
  EXPECT_TRUE(is_unavailable(timed({"GET", item_path(data_of(created)), {}, std::nullopt})));

  proxy_->clear();
  EXPECT_EQ(all_ids(), std::vector<std::string>{string_at(data_of(created), "id")});
}

TEST_F(DynamoDbFaultsE2e, AStalledResponseIsBoundedByTheAttemptTimeout) {
  proxy_->inject(fault::stall, -1, "PutItem");
  EXPECT_TRUE(is_unavailable(timed(post_item("never written"))));
  proxy_->clear();
  EXPECT_TRUE(all_ids().empty());
  // The server is still healthy afterwards.
  EXPECT_TRUE(is_success(client_->send(post_item("fine")), 201));
}

TEST_F(DynamoDbFaultsE2e, AStalledStoreAnswers503AtTheRequestDeadline) {
  // With a 700 ms deadline, a stalled DynamoDB costs the client about that, not three attempts
  // of 3 s each.
  client_.reset();
  ASSERT_EQ(server_->stop(), 0);
  server_ = std::make_unique<server_process>(
      backend_->table("items", proxy_->endpoint()),
      std::vector<std::string>{"--rate-limit", "0", "--request-timeout-ms", "700"});
  client_ = std::make_unique<http_client>(server_->port(), 30s);

  proxy_->inject(fault::stall, -1, "PutItem");
  const auto start = std::chrono::steady_clock::now();
  const auto res = client_->send(post_item("never written"));
  const auto took = std::chrono::steady_clock::now() - start;
  EXPECT_TRUE(is_unavailable(res));
  EXPECT_GE(took, 600ms);
  EXPECT_LT(took, 2500ms) << std::chrono::duration_cast<std::chrono::milliseconds>(took).count()
                          << " ms";
  proxy_->clear();
  EXPECT_TRUE(is_success(client_->send(post_item("fine")), 201));
}

TEST_F(DynamoDbFaultsE2e, AWriteWhoseAnswerWasLostIsReportedOnceAndStoredOnce) {
  // dynalite applies each write, then the answer is lost; the retry must recognise its own
  // write rather than report a conflict, and must not write twice.
  proxy_->reset_counts();
  proxy_->inject(fault::lose_answer, 1, "PutItem");
  const auto created = timed(post_item("answer lost"));
  ASSERT_TRUE(is_success(created, 201));
  EXPECT_EQ(proxy_->faults_delivered(), 1);
  const auto id = string_at(data_of(created), "id");
  EXPECT_EQ(all_ids(), std::vector<std::string>{id});

  const auto etag = client_->get(item_path(id)).header("ETag").value_or("");
  ASSERT_FALSE(etag.empty());
  proxy_->inject(fault::lose_answer, 1, "PutItem");
  const auto updated = timed({"PUT",
                              item_path(id),
                              {{"Content-Type", "application/json"}, {"If-Match", etag}},
                              R"({"name":"renamed"})"});
  ASSERT_TRUE(is_success(updated, 200));
  EXPECT_EQ(proxy_->faults_delivered(), 2);
  EXPECT_EQ(int_at(data_of(updated), "version"), 2);
  const auto read = client_->get(item_path(id));
  EXPECT_EQ(string_at(data_of(read), "name"), "renamed");
  EXPECT_EQ(int_at(data_of(read), "version"), 2);
}

TEST_F(DynamoDbFaultsE2e, AKilledDynaliteGives503sThenServiceRecoversByItself) {
  if (!backend_->process().keeps_tables_across_restart()) {
    GTEST_SKIP() << name_of(backend_->process().engine())
                 << " keeps its tables in memory only: a restart would lose the item";
  }
  // Straight to dynalite, so that killing it is all the outage there is.
  client_.reset();
  EXPECT_EQ(server_->stop(), 0);
  server_ = std::make_unique<server_process>(backend_->table("items"),
                                             std::vector<std::string>{"--rate-limit", "0"});
  client_ = std::make_unique<http_client>(server_->port(), 30s);
  const auto before = client_->send(post_item("before the outage"));
  ASSERT_TRUE(is_success(before, 201));
  const auto id = string_at(data_of(before), "id");

  backend_->process().kill();
  const std::vector<http_request> during{
      post_item("during the outage"),
      {"GET", item_path(id), {}, std::nullopt},
      {"GET", "/items", {}, std::nullopt},
      {"PATCH", item_path(id), {{"Content-Type", "application/json"}}, R"({"name":"x"})"},
      {"DELETE", item_path(id), {}, std::nullopt},
      post_item("during the outage again")};
  for (const auto& req : during) {
    SCOPED_TRACE(req.method + " " + req.target);
    EXPECT_TRUE(is_unavailable(timed(req)));
  }

  ASSERT_TRUE(backend_->process().start()) << backend_->process().error();
  // Recovery needs nothing from us: new connections simply succeed again.
  std::optional<http_response> back;
  for (int i = 0; i < 100; ++i) {
    auto res = client_->get(item_path(id));
    if (res.status == 200) {
      back = std::move(res);
      break;
    }
    EXPECT_TRUE(is_unavailable(res));
    std::this_thread::sleep_for(100ms);
  }
  ASSERT_TRUE(back.has_value()) << "no recovery within 10 s";
  EXPECT_EQ(data_of(*back), data_of(before)) << "the outage changed the item";
  EXPECT_EQ(all_ids(), std::vector<std::string>{id}) << "a 503'd create was written";
  EXPECT_TRUE(is_success(client_->send(post_item("after the outage")), 201));
}

// Listing through the server queries the owner's partition and never scans.
TEST_F(DynamoDbFaultsE2e, ListingThroughTheServerNeverScans) {
  for (int i = 0; i < 7; ++i) {
    // Appended rather than "n" + string: GCC 12 misreports that form under -Wrestrict.
    std::string name = "n";
    name += std::to_string(i);
    ASSERT_EQ(client_->send(post_item(name)).status, 201);
  }
  proxy_->reset_counts();
  std::string key;
  int pages = 0;
  for (; pages < 10; ++pages) {
    const auto res = client_->get("/items?limit=3" +
                                  (key.empty() ? std::string() : "&lastKey=" + url_encode(key)));
    ASSERT_TRUE(is_success(res, 200));
    const auto body = json_of(res).as_object();
    const auto& last = body.at("pagination").as_object().at("lastKey");
    if (!last.is_string()) {
      break;
    }
    key = std::string(last.get_string());
  }
  EXPECT_EQ(pages, 2);
  const auto ops = proxy_->operations();
  EXPECT_GE(proxy_->count("Query"), 3);
  EXPECT_EQ(proxy_->count("Scan"), 0);
  for (const auto& [op, n] : ops) {
    EXPECT_TRUE(op == "Query" || op == "GetItem") << op << " x" << n << " while listing";
  }
}

// What the server writes, read back from dynalite over its own wire protocol.
class DynamoDbLayoutE2e : public server_fixture {
 protected:
  void SetUp() override {
    if (!on_dynamodb()) {
      GTEST_SKIP() << "a DynamoDB suite: CRUD_E2E_STORE=dynamodb";
    }
    server_fixture::SetUp();
  }

  // A call straight to the engine, answered in DynamoDB JSON ({"S": ...}, {"N": ...}).
  json::object raw_call(const std::string& operation, const json::object& body) {
    http_client raw(dynamodb()->port());
    // The engines check that a request is signed, not the signature.
    const auto res =
        raw.send({"POST",
                  "/",
                  {{"Content-Type", "application/x-amz-json-1.0"},
                   {"X-Amz-Target", "DynamoDB_20120810." + operation},
                   {"X-Amz-Date", "20260101T000000Z"},
                   {"Authorization",
                    "AWS4-HMAC-SHA256 Credential=e2e/20260101/us-east-1/dynamodb/aws4_request, "
                    "SignedHeaders=host;x-amz-date, Signature=00"}},
                  json::serialize(body)});
    EXPECT_EQ(res.status, 200) << operation << ": " << res.body;
    const auto v = json_of(res);
    return v.is_object() ? v.get_object() : json::object();
  }

  // The raw item through GetItem.
  json::object raw_item(const std::string& pk, const std::string& sk) {
    json::object key{{"pk", json::object{{"S", pk}}}, {"sk", json::object{{"S", sk}}}};
    const auto v =
        raw_call("GetItem", {{"TableName", "items"}, {"Key", key}, {"ConsistentRead", true}});
    const auto* item = v.if_contains("Item");
    return item != nullptr && item->is_object() ? item->get_object() : json::object();
  }

  static std::string typed(const json::object& m, const char* name, const char* type) {
    const auto* a = m.if_contains(name);
    if (a == nullptr || !a->is_object() || a->get_object().size() != 1) {
      return "<missing>";
    }
    const auto* v = a->get_object().if_contains(type);
    return v != nullptr && v->is_string() ? std::string(v->get_string())
                                          : "<not " + std::string(type) + ">";
  }
};

TEST_F(DynamoDbLayoutE2e, ItemsAndIdempotencyRecordsAreStoredAsTheContractSays) {
  const auto created = client().post("/items", R"({"name":"Sample Item","description":"laid out"})",
                                     {{"Idempotency-Key", "layout-key-1"}});
  ASSERT_TRUE(is_success(created, 201));
  const auto item = data_of(created);
  const auto id = string_at(item, "id");

  auto m = raw_item("OWNER#public", "ITEM#" + id);
  EXPECT_EQ(typed(m, "pk", "S"), "OWNER#public");
  EXPECT_EQ(typed(m, "sk", "S"), "ITEM#" + id);
  EXPECT_EQ(typed(m, "id", "S"), id);
  EXPECT_EQ(typed(m, "name", "S"), "Sample Item");
  EXPECT_EQ(typed(m, "description", "S"), "laid out");
  EXPECT_EQ(typed(m, "createdAt", "S"), string_at(item, "createdAt"));
  EXPECT_EQ(typed(m, "updatedAt", "S"), string_at(item, "updatedAt"));
  EXPECT_EQ(typed(m, "version", "N"), "1");
  EXPECT_EQ(m.size(), 8U) << json::serialize(m);

  // Soft delete: deletedAt, and expiresAt in epoch seconds about 30 days ahead.
  const auto deleted = client().del(item_path(id) + "?mode=soft");
  ASSERT_TRUE(is_success(deleted, 200));
  m = raw_item("OWNER#public", "ITEM#" + id);
  EXPECT_EQ(typed(m, "version", "N"), "2");
  EXPECT_NE(typed(m, "deletedAt", "S").find('T'), std::string::npos) << json::serialize(m);
  const auto now_s = std::chrono::duration_cast<std::chrono::seconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count();
  const auto expires = std::stoll(typed(m, "expiresAt", "N"));
  EXPECT_NEAR(static_cast<double>(expires - now_s), 30.0 * 86400, 600.0);

  // Restore removes both again.
  ASSERT_TRUE(is_success(client().post(item_path(id) + "/restore", ""), 200));
  m = raw_item("OWNER#public", "ITEM#" + id);
  EXPECT_EQ(typed(m, "version", "N"), "3");
  EXPECT_FALSE(m.contains("deletedAt"));
  EXPECT_FALSE(m.contains("expiresAt"));

  // The idempotency record sits in the owner's partition and expires in about 24 h.
  const auto record = raw_item("OWNER#public", "IDEMPOTENCY#layout-key-1");
  ASSERT_FALSE(record.empty());
  const auto record_expires = std::stoll(typed(record, "expiresAt", "N"));
  EXPECT_NEAR(static_cast<double>(record_expires - now_s), 86400.0, 600.0);
}

// CONTRACT §4: expiresAt is the table's TTL attribute, which `crud-api init` enables.
TEST_F(DynamoDbLayoutE2e, InitEnablesTtlOnExpiresAtWhereTheEngineCan) {
  const auto described = raw_call("DescribeTimeToLive", {{"TableName", "items"}});
  const auto* d = described.if_contains("TimeToLiveDescription");
  ASSERT_TRUE(d != nullptr && d->is_object()) << json::serialize(described);
  const auto& ttl = d->get_object();
  const auto status = ttl.contains("TimeToLiveStatus") && ttl.at("TimeToLiveStatus").is_string()
                          ? std::string(ttl.at("TimeToLiveStatus").get_string())
                          : "<missing>";
  const auto& init_log = dynamodb()->init_output("items");
  if (dynamodb()->process().engine() == dynamodb_engine::moto) {
    // DynamoDB reports ENABLING for up to an hour, then ENABLED; moto goes straight to ENABLED.
    EXPECT_TRUE(status == "ENABLED" || status == "ENABLING") << json::serialize(ttl);
    ASSERT_TRUE(ttl.contains("AttributeName")) << json::serialize(ttl);
    EXPECT_EQ(ttl.at("AttributeName"), "expiresAt");
    EXPECT_EQ(init_log.find("\"WARN\""), std::string::npos) << init_log;
  } else {
    // dynalite 4 has no UpdateTimeToLive (UnknownOperationException), and its
    // DescribeTimeToLive always says DISABLED: init goes on with a warning that says so.
    EXPECT_EQ(status, "DISABLED") << json::serialize(ttl);
    EXPECT_NE(init_log.find("does not support UpdateTimeToLive"), std::string::npos) << init_log;
  }
}

}  // namespace
}  // namespace crud::e2e
