#include "app/api.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <boost/json/parse.hpp>
#include <mutex>
#include <optional>
#include <set>
#include <stdexcept>
#include <thread>
#include <vector>

#include "core/utf8.hpp"
#include "support/memory_store.hpp"
#include "support/testing_fakes.hpp"

namespace crud::app {
namespace {

namespace json = boost::json;

class capture_sink final : public log_sink {
 public:
  void write(std::string_view line) override {
    std::lock_guard lock(mutex_);
    lines_.emplace_back(line);
  }
  std::vector<std::string> lines() const {
    std::lock_guard lock(mutex_);
    return lines_;
  }

 private:
  mutable std::mutex mutex_;
  std::vector<std::string> lines_;
};

class ApiTest : public ::testing::Test {
 protected:
  explicit ApiTest(api_config config = {}) { make(std::move(config)); }

  void make(api_config config) {
    api_ =
        std::make_unique<api>(std::move(config), api_dependencies{store_, clock_, random_, sink_});
  }

  response call(std::string method, std::string path, std::string body = {},
                field_list headers = {}, field_list query = {}) {
    request req;
    req.method = std::move(method);
    req.path = std::move(path);
    req.body = std::move(body);
    req.headers = std::move(headers);
    req.query = std::move(query);
    with_json_type(req);
    return api_->handle(req);
  }

  // A JSON POST /items, for the tests that drive prepare(), run() and settle() by hand.
  static request create_request(std::string body) {
    request req;
    req.method = "POST";
    req.path = "/items";
    req.body = std::move(body);
    with_json_type(req);
    return req;
  }

  // Writes with a body say it is JSON, as every real client must (CONTRACT §2); the tests of
  // the 415 rule build their requests by hand.
  static void with_json_type(request& req) {
    const bool write = req.method == "POST" || req.method == "PUT" || req.method == "PATCH";
    if (write && !req.body.empty() && !req.header("Content-Type"))
      req.headers.emplace_back("Content-Type", "application/json");
  }

  std::string create(const std::string& name = "Sample Item") {
    auto res = call("POST", "/items", R"({"name":")" + name + R"(","description":"d"})");
    EXPECT_EQ(res.status, 201) << res.body;
    return std::string(json::parse(res.body).at("data").at("id").as_string());
  }

  static json::value body(const response& res) { return json::parse(res.body); }
  static std::string error_code_of(const response& res) {
    return std::string(body(res).at("error").at("code").as_string());
  }

  core::testing::fake_clock clock_;
  core::testing::counting_random random_;
  capture_sink sink_;
  store::memory_store store_;
  std::unique_ptr<api> api_;
};

TEST_F(ApiTest, CreateReturns201WithLocationEtagAndEnvelope) {
  auto res = call("POST", "/items", R"({"name":"Sample Item","description":"This is a sample"})",
                  {{"Content-Type", "application/json"}});
  ASSERT_EQ(res.status, 201) << res.body;
  auto v = body(res);
  EXPECT_EQ(v.at("statusCode").as_int64(), 201);
  EXPECT_EQ(v.at("message").as_string(), "Item created successfully");
  std::string id(v.at("data").at("id").as_string());
  EXPECT_TRUE(core::is_item_id(id));
  EXPECT_EQ(v.at("data").at("version").as_int64(), 1);
  EXPECT_EQ(v.at("data").at("createdAt").as_string(), v.at("data").at("updatedAt").as_string());
  EXPECT_EQ(res.header("Location"), "/items/" + id);
  EXPECT_EQ(res.header("ETag"), core::etag_for(id, 1));
  EXPECT_EQ(res.header("Content-Type"), "application/json; charset=utf-8");
  ASSERT_TRUE(res.header("X-Request-Id"));
  EXPECT_EQ(res.header("X-Correlation-Id"), res.header("X-Request-Id"));
  EXPECT_EQ(res.op, operation::create_item);
}

TEST_F(ApiTest, LocationCarriesTheBasePath) {
  request req;
  req.method = "POST";
  req.path = "/items";
  req.base_path = "/dev";
  req.headers = {{"Content-Type", "application/json"}};
  req.body = R"({"name":"x"})";
  auto res = api_->handle(req);
  ASSERT_EQ(res.status, 201);
  EXPECT_TRUE(res.header("Location")->starts_with("/dev/items/item_"));
}

TEST_F(ApiTest, CorrelationIdEchoesTheClient) {
  auto res = call("GET", "/items", {}, {{"x-correlation-id", "abc-123"}});
  EXPECT_EQ(res.header("X-Correlation-Id"), "abc-123");
  EXPECT_NE(res.header("X-Request-Id"), "abc-123");
}

TEST_F(ApiTest, GetReturnsTheItemAndHonoursIfNoneMatch) {
  std::string id = create();
  auto res = call("GET", "/items/" + id);
  ASSERT_EQ(res.status, 200);
  EXPECT_EQ(body(res).at("data").at("name").as_string(), "Sample Item");
  EXPECT_FALSE(body(res).as_object().contains("message"));
  std::string etag(*res.header("ETag"));
  auto not_modified = call("GET", "/items/" + id, {}, {{"If-None-Match", etag}});
  EXPECT_EQ(not_modified.status, 304);
  EXPECT_TRUE(not_modified.body.empty());
  EXPECT_EQ(call("GET", "/items/" + id, {}, {{"If-None-Match", "W/" + etag}}).status, 304);
  EXPECT_EQ(call("GET", "/items/" + id, {}, {{"If-None-Match", "\"other\""}}).status, 200);
}

TEST_F(ApiTest, UnknownAndMalformedIdsAre404) {
  EXPECT_EQ(call("GET", "/items/item_01ARYZ6S41TSV4RRFFQ69G5FAV").status, 404);
  auto res = call("GET", "/items/not-an-id");
  EXPECT_EQ(res.status, 404);
  EXPECT_EQ(error_code_of(res), "NOT_FOUND");
  EXPECT_EQ(call("GET", "/nothing").status, 404);
  EXPECT_EQ(call("GET", "/items/").status, 404);
  EXPECT_EQ(call("POST", "/items/x/other").status, 404);
}

TEST_F(ApiTest, WrongMethodIs405WithAllow) {
  auto res = call("DELETE", "/items");
  EXPECT_EQ(res.status, 405);
  EXPECT_EQ(error_code_of(res), "METHOD_NOT_ALLOWED");
  EXPECT_EQ(res.header("Allow"), "GET, HEAD, POST");
  EXPECT_EQ(call("POST", "/items/item_01ARYZ6S41TSV4RRFFQ69G5FAV").header("Allow"),
            "GET, HEAD, PUT, PATCH, DELETE");
  EXPECT_EQ(call("GET", "/items/item_01ARYZ6S41TSV4RRFFQ69G5FAV/restore").header("Allow"), "POST");
}

TEST_F(ApiTest, WritesWithoutContentTypeGet415AndWriteNothing) {
  // A cross-site form post can send a body without a type and without a preflight.
  const auto id = create();
  for (const auto& [method, path] : std::vector<std::pair<std::string, std::string>>{
           {"POST", "/items"}, {"PUT", "/items/" + id}, {"PATCH", "/items/" + id}}) {
    request req;
    req.method = method;
    req.path = path;
    req.body = R"({"name":"x"})";
    auto res = api_->handle(req);
    EXPECT_EQ(res.status, 415) << method;
    EXPECT_EQ(error_code_of(res), "UNSUPPORTED_MEDIA_TYPE") << method;
  }
  EXPECT_EQ(body(call("GET", "/items")).at("data").as_array().size(), 1U);
  EXPECT_EQ(body(call("GET", "/items/" + id)).at("data").at("name").as_string(), "Sample Item");
}

TEST_F(ApiTest, RestoreNeedsNoContentTypeButABodyOrAFormTypeGets415) {
  const auto id = create();
  ASSERT_EQ(call("DELETE", "/items/" + id, {}, {}, {{"mode", "soft"}}).status, 200);
  request req;
  req.method = "POST";
  req.path = "/items/" + id + "/restore";
  req.body = "{}";
  EXPECT_EQ(api_->handle(req).status, 415) << "a body without a type";
  req.body.clear();
  req.headers = {{"Content-Type", "application/x-www-form-urlencoded"}};
  EXPECT_EQ(api_->handle(req).status, 415) << "a form post";
  req.headers.clear();
  EXPECT_EQ(api_->handle(req).status, 200) << "a bare restore carries no body";
}

TEST_F(ApiTest, EchoedPathsStayValidUtf8) {
  auto res = call("GET", "/\xFF\xC0");
  EXPECT_EQ(res.status, 404);
  EXPECT_TRUE(core::count_code_points(res.body).has_value()) << res.body;
  EXPECT_EQ(body(res).at("message").as_string(), "No route for /\xEF\xBF\xBD\xEF\xBF\xBD");
  ASSERT_FALSE(sink_.lines().empty());
  EXPECT_TRUE(core::count_code_points(sink_.lines().back()).has_value());
}

TEST_F(ApiTest, AnEncodedSlashIsNoRouteBoundary) {
  // What serve and Lambda hand over for "/items/<id>%2Frestore": the escape kept.
  const auto id = create();
  ASSERT_EQ(call("DELETE", "/items/" + id, {}, {}, {{"mode", "soft"}}).status, 200);
  EXPECT_EQ(call("POST", "/items/" + id + "%2Frestore").status, 404);
  EXPECT_EQ(call("POST", "/items/" + id + "%2frestore").status, 404);
  EXPECT_EQ(call("GET", "/items/" + id).status, 404) << "still soft-deleted";
  EXPECT_EQ(call("POST", "/items/" + id + "/restore").status, 200);
}

TEST_F(ApiTest, BadBodiesGetTheirOwnAnswers) {
  auto malformed = call("POST", "/items", "{not json");
  EXPECT_EQ(malformed.status, 400);
  EXPECT_EQ(error_code_of(malformed), "BAD_REQUEST");
  EXPECT_EQ(call("POST", "/items", "[1,2]").status, 400);
  auto invalid = call("POST", "/items", R"({"name":"","extra":1})");
  EXPECT_EQ(invalid.status, 400);
  EXPECT_EQ(error_code_of(invalid), "VALIDATION_FAILED");
  EXPECT_EQ(body(invalid).at("error").at("details").as_array().size(), 2U);
  auto media = call("POST", "/items", R"({"name":"x"})", {{"Content-Type", "text/plain"}});
  EXPECT_EQ(media.status, 415);
  EXPECT_EQ(error_code_of(media), "UNSUPPORTED_MEDIA_TYPE");
  auto large = call("POST", "/items", std::string(64 * 1024 + 1, ' '));
  EXPECT_EQ(large.status, 413);
  EXPECT_EQ(error_code_of(large), "PAYLOAD_TOO_LARGE");
  EXPECT_EQ(store_.item_count(), 0U);  // a failed request changes nothing
}

TEST_F(ApiTest, ErrorsCarryTheRequestId) {
  auto res = call("GET", "/nothing");
  EXPECT_EQ(body(res).at("requestId").as_string(), *res.header("X-Request-Id"));
}

TEST_F(ApiTest, PutReplacesAndBumpsTheVersion) {
  std::string id = create();
  auto res = call("PUT", "/items/" + id, R"({"name":"Renamed"})");
  ASSERT_EQ(res.status, 200) << res.body;
  auto data = body(res).at("data");
  EXPECT_EQ(data.at("name").as_string(), "Renamed");
  EXPECT_EQ(data.at("description").as_string(), "");  // PUT replaces both fields
  EXPECT_EQ(data.at("version").as_int64(), 2);
  EXPECT_EQ(body(res).at("message").as_string(), "Item updated successfully");
  EXPECT_EQ(res.header("ETag"), core::etag_for(id, 2));
}

TEST_F(ApiTest, UpdatedAtMovesAndCreatedAtStays) {
  std::string id = create();
  clock_.advance_ms(1500);
  auto data = body(call("PATCH", "/items/" + id, R"({"name":"Later"})")).at("data");
  EXPECT_NE(data.at("createdAt").as_string(), data.at("updatedAt").as_string());
}

TEST_F(ApiTest, VersionMismatchIs409AndStaleIfMatchIs412) {
  std::string id = create();
  auto conflict = call("PUT", "/items/" + id, R"({"name":"x","version":7})");
  EXPECT_EQ(conflict.status, 409);
  EXPECT_EQ(error_code_of(conflict), "CONFLICT");
  EXPECT_EQ(call("PUT", "/items/" + id, R"({"name":"x","version":1})").status, 200);
  auto stale =
      call("PUT", "/items/" + id, R"({"name":"y"})", {{"If-Match", core::etag_for(id, 1)}});
  EXPECT_EQ(stale.status, 412);
  EXPECT_EQ(error_code_of(stale), "PRECONDITION_FAILED");
  EXPECT_EQ(
      call("PUT", "/items/" + id, R"({"name":"y"})", {{"If-Match", core::etag_for(id, 2)}}).status,
      200);
  EXPECT_EQ(call("PUT", "/items/" + id, R"({"name":"z"})", {{"If-Match", "*"}}).status, 200);
  // Weak tags never satisfy If-Match.
  EXPECT_EQ(
      call("PUT", "/items/" + id, R"({"name":"w"})", {{"If-Match", "W/" + core::etag_for(id, 4)}})
          .status,
      412);
  EXPECT_EQ(call("PUT", "/items/item_01ARYZ6S41TSV4RRFFQ69G5FAV", R"({"name":"x"})").status, 404);
}

TEST_F(ApiTest, PatchIsAMergePatch) {
  std::string id = create();
  auto res = call("PATCH", "/items/" + id, R"({"description":"patched"})",
                  {{"Content-Type", "application/merge-patch+json"}});
  ASSERT_EQ(res.status, 200) << res.body;
  EXPECT_EQ(body(res).at("data").at("name").as_string(), "Sample Item");
  EXPECT_EQ(body(res).at("data").at("description").as_string(), "patched");
  auto cleared = call("PATCH", "/items/" + id, R"({"description":null})");
  EXPECT_EQ(body(cleared).at("data").at("description").as_string(), "");
  EXPECT_EQ(body(cleared).at("data").at("version").as_int64(), 3);
  auto unchanged = call("PATCH", "/items/" + id, "{}");
  EXPECT_EQ(body(unchanged).at("data").at("version").as_int64(), 3);  // no change, no version
  EXPECT_EQ(call("PATCH", "/items/" + id, R"({"name":null})").status, 400);
  EXPECT_EQ(call("PATCH", "/items/" + id, R"({"version":1,"name":"v"})").status, 409);
}

TEST_F(ApiTest, HardDeleteRemoves) {
  std::string id = create();
  auto res = call("DELETE", "/items/" + id);
  ASSERT_EQ(res.status, 200);
  EXPECT_EQ(body(res).at("data").at("deleted").as_string(), "hard");
  EXPECT_EQ(body(res).at("data").at("id").as_string(), id);
  EXPECT_EQ(call("GET", "/items/" + id).status, 404);
  EXPECT_EQ(call("POST", "/items/" + id + "/restore").status, 404);
  EXPECT_EQ(store_.item_count(), 0U);
}

TEST_F(ApiTest, SoftDeleteHidesAndRestoreBringsBack) {
  std::string id = create();
  auto res = call("DELETE", "/items/" + id, {}, {}, {{"mode", "soft"}});
  ASSERT_EQ(res.status, 200);
  EXPECT_EQ(body(res).at("data").at("deleted").as_string(), "soft");
  EXPECT_EQ(call("GET", "/items/" + id).status, 404);
  EXPECT_EQ(call("PUT", "/items/" + id, R"({"name":"x"})").status, 404);
  EXPECT_EQ(call("DELETE", "/items/" + id).status, 404);
  EXPECT_EQ(body(call("GET", "/items")).at("data").as_array().size(), 0U);
  auto restored = call("POST", "/items/" + id + "/restore");
  ASSERT_EQ(restored.status, 200) << restored.body;
  EXPECT_EQ(body(restored).at("data").at("version").as_int64(),
            3);  // delete and restore each count
  EXPECT_FALSE(body(restored).at("data").as_object().contains("deletedAt"));
  EXPECT_EQ(body(restored).at("message").as_string(), "Item restored successfully");
  EXPECT_EQ(call("GET", "/items/" + id).status, 200);
  EXPECT_EQ(call("POST", "/items/" + id + "/restore").status, 404);  // live: nothing to restore
}

TEST_F(ApiTest, RestoreIsRefusedAfterTheRetention) {
  std::string id = create();
  ASSERT_EQ(call("DELETE", "/items/" + id, {}, {}, {{"mode", "soft"}}).status, 200);
  clock_.advance_ms(core::soft_delete_retention_ms + 1);
  EXPECT_EQ(call("POST", "/items/" + id + "/restore").status, 404);
}

TEST_F(ApiTest, ConfiguredSoftDeleteAndBadMode) {
  api_config config;
  config.default_delete_mode = delete_mode::soft;
  make(config);
  std::string id = create();
  EXPECT_EQ(body(call("DELETE", "/items/" + id)).at("data").at("deleted").as_string(), "soft");
  std::string other = create();
  auto bad = call("DELETE", "/items/" + other, {}, {}, {{"mode", "later"}});
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(body(bad).at("error").at("details").at(0).at("field").as_string(), "mode");
  EXPECT_EQ(body(call("DELETE", "/items/" + other, {}, {}, {{"mode", "hard"}}))
                .at("data")
                .at("deleted")
                .as_string(),
            "hard");
}

TEST_F(ApiTest, DeleteHonoursIfMatch) {
  std::string id = create();
  EXPECT_EQ(call("DELETE", "/items/" + id, {}, {{"If-Match", "\"nope\""}}).status, 412);
  EXPECT_EQ(call("DELETE", "/items/" + id, {}, {{"If-Match", core::etag_for(id, 1)}}).status, 200);
}

TEST_F(ApiTest, ListPagesInCreationOrderWithSignedCursors) {
  std::vector<std::string> ids;
  ids.reserve(25);
  for (int i = 0; i < 25; ++i)
    ids.push_back(create("item " + std::to_string(i)));
  std::vector<std::string> seen;
  std::string cursor;
  int pages = 0;
  do {
    field_list query{{"limit", "7"}};
    if (!cursor.empty())
      query.emplace_back("lastKey", cursor);
    auto res = call("GET", "/items", {}, {}, query);
    ASSERT_EQ(res.status, 200) << res.body;
    auto v = body(res);
    EXPECT_EQ(v.at("pagination").at("limit").as_int64(), 7);
    for (const auto& it : v.at("data").as_array())
      seen.emplace_back(it.at("id").as_string());
    EXPECT_EQ(v.at("pagination").at("count").as_int64(),
              static_cast<std::int64_t>(v.at("data").as_array().size()));
    const auto& last = v.at("pagination").at("lastKey");
    cursor = last.is_null() ? "" : std::string(last.as_string());
    ++pages;
  } while (!cursor.empty() && pages < 10);
  EXPECT_EQ(seen, ids);
  EXPECT_EQ(pages, 4);
}

TEST_F(ApiTest, ListDefaultsAndBadParameters) {
  for (int i = 0; i < 22; ++i)
    create();
  auto res = call("GET", "/items");
  EXPECT_EQ(body(res).at("pagination").at("limit").as_int64(), 20);
  EXPECT_EQ(body(res).at("data").as_array().size(), 20U);
  for (std::string bad : {"0", "101", "-1", "abc", "1.5", "", "0020"}) {
    auto r = call("GET", "/items", {}, {}, {{"limit", bad}});
    EXPECT_EQ(r.status, 400) << bad;
    EXPECT_EQ(body(r).at("error").at("details").at(0).at("field").as_string(), "limit");
  }
  std::string cursor(body(res).at("pagination").at("lastKey").as_string());
  for (std::string bad :
       {cursor + "x", cursor.substr(1), std::string("garbage"),
        cursor.substr(0, cursor.size() - 1) + (cursor.back() == 'A' ? "B" : "A")}) {
    auto r = call("GET", "/items", {}, {}, {{"lastKey", bad}});
    EXPECT_EQ(r.status, 400) << bad;
    EXPECT_EQ(body(r).at("error").at("details").at(0).at("field").as_string(), "lastKey");
  }
}

TEST_F(ApiTest, OwnersSeeOnlyTheirItems) {
  request req;
  req.method = "POST";
  req.path = "/items";
  req.headers = {{"Content-Type", "application/json"}};
  req.body = R"({"name":"alice's"})";
  req.owner = "alice";
  auto created = api_->handle(req);
  ASSERT_EQ(created.status, 201);
  std::string id(body(created).at("data").at("id").as_string());
  EXPECT_EQ(call("GET", "/items/" + id).status, 404);  // as "public"
  EXPECT_EQ(body(call("GET", "/items")).at("data").as_array().size(), 0U);
  req.method = "GET";
  req.path = "/items/" + id;
  req.body.clear();
  EXPECT_EQ(api_->handle(req).status, 200);
}

TEST_F(ApiTest, IdempotentCreateReplaysAndRefusesReuse) {
  field_list headers{{"Idempotency-Key", "key-1"}};
  auto first = call("POST", "/items", R"({"name":"once"})", headers);
  ASSERT_EQ(first.status, 201);
  EXPECT_FALSE(first.header("Idempotent-Replayed"));
  auto again = call("POST", "/items", R"({ "name" : "once" })", headers);
  EXPECT_EQ(again.status, 201);
  EXPECT_EQ(again.body, first.body);
  EXPECT_EQ(again.header("Location"), first.header("Location"));
  EXPECT_EQ(again.header("ETag"), first.header("ETag"));
  EXPECT_EQ(again.header("Idempotent-Replayed"), "true");
  EXPECT_EQ(store_.item_count(), 1U);
  auto reused = call("POST", "/items", R"({"name":"different"})", headers);
  EXPECT_EQ(reused.status, 422);
  EXPECT_EQ(error_code_of(reused), "IDEMPOTENCY_KEY_REUSED");
  // Keys expire after 24 hours.
  clock_.advance_ms(24LL * 3600 * 1000 + 1);
  EXPECT_EQ(call("POST", "/items", R"({"name":"different"})", headers).status, 201);
  EXPECT_EQ(store_.item_count(), 2U);
}

TEST_F(ApiTest, SameKeyWhileTheFirstRunsIs409) {
  // The first request's claim is in place, with the same payload, and not yet completed.
  store_.set_fault([](std::string_view op) {
    return op == "create_item" ? make_error_code(store::errc::unavailable)
                               : boost::system::error_code();
  });
  // A failing first attempt releases its claim, so a retry can run.
  auto failed = call("POST", "/items", R"({"name":"p"})", {{"Idempotency-Key", "k"}});
  EXPECT_EQ(failed.status, 503);
  store_.set_fault({});
  auto retry = call("POST", "/items", R"({"name":"p"})", {{"Idempotency-Key", "k"}});
  EXPECT_EQ(retry.status, 201);

  // Hold a claim open by failing the completion step: the record stays in progress.
  store_.set_fault([](std::string_view op) {
    return op == "complete_idempotency" ? make_error_code(store::errc::unavailable)
                                        : boost::system::error_code();
  });
  EXPECT_EQ(call("POST", "/items", R"({"name":"q"})", {{"Idempotency-Key", "k2"}}).status, 201);
  store_.set_fault({});
  auto busy = call("POST", "/items", R"({"name":"q"})", {{"Idempotency-Key", "k2"}});
  EXPECT_EQ(busy.status, 409);
  EXPECT_EQ(error_code_of(busy), "IDEMPOTENCY_IN_PROGRESS");
  // Once the in-progress claim is stale, a retry may run again.
  clock_.advance_ms(61'000);
  EXPECT_EQ(call("POST", "/items", R"({"name":"q"})", {{"Idempotency-Key", "k2"}}).status, 201);
}

TEST_F(ApiTest, MalformedIdempotencyKeyIs400) {
  for (std::string key : {std::string(), std::string(256, 'k'), std::string("tab\there")}) {
    auto res = call("POST", "/items", R"({"name":"x"})", {{"Idempotency-Key", key}});
    EXPECT_EQ(res.status, 400);
    EXPECT_EQ(body(res).at("error").at("details").at(0).at("field").as_string(), "Idempotency-Key");
  }
}

TEST_F(ApiTest, StoreUnavailableIs503WithRetryAfter) {
  std::string id = create();
  store_.set_fault([](std::string_view) { return make_error_code(store::errc::unavailable); });
  auto res = call("GET", "/items/" + id);
  EXPECT_EQ(res.status, 503);
  EXPECT_EQ(error_code_of(res), "UNAVAILABLE");
  EXPECT_EQ(res.header("Retry-After"), "1");
}

TEST_F(ApiTest, InternalFailuresAre500WithoutDetails) {
  store_.set_fault([](std::string_view) -> boost::system::error_code {
    throw std::runtime_error("SELECT * FROM secret_table failed");
  });
  auto res = call("GET", "/items");
  EXPECT_EQ(res.status, 500);
  EXPECT_EQ(error_code_of(res), "INTERNAL");
  EXPECT_EQ(res.body.find("secret_table"), std::string::npos);
  EXPECT_EQ(res.header("Content-Type"), "application/json; charset=utf-8");
  // The cause is logged, not returned.
  auto lines = sink_.lines();
  ASSERT_FALSE(lines.empty());
  EXPECT_NE(lines.back().find("secret_table"), std::string::npos);
  EXPECT_NE(lines.back().find(R"("level":"ERROR")"), std::string::npos);

  store_.set_fault([](std::string_view) { return make_error_code(store::errc::internal); });
  EXPECT_EQ(call("GET", "/items").status, 500);
}

TEST_F(ApiTest, ConcurrentUpdatesWithTheSameIfMatchHaveOneWinner) {
  std::string id = create();
  std::string etag = core::etag_for(id, 1);
  std::vector<int> statuses(20);
  std::vector<std::thread> threads;
  threads.reserve(20);
  for (int i = 0; i < 20; ++i) {
    threads.emplace_back([&, i] {
      statuses[static_cast<std::size_t>(i)] =
          call("PUT", "/items/" + id, R"({"name":"writer )" + std::to_string(i) + R"("})",
               {{"If-Match", etag}})
              .status;
    });
  }
  for (auto& t : threads)
    t.join();
  EXPECT_EQ(std::count(statuses.begin(), statuses.end(), 200), 1);
  EXPECT_EQ(std::count(statuses.begin(), statuses.end(), 412), 19);
}

TEST_F(ApiTest, LogsOneStructuredLineWithoutTheBody) {
  auto res =
      call("POST", "/items", R"({"name":"top-secret-name"})", {{"Authorization", "Bearer tok"}});
  ASSERT_EQ(res.status, 201);
  auto lines = sink_.lines();
  ASSERT_EQ(lines.size(), 1U);
  auto v = json::parse(lines[0]);
  for (const char* field :
       {"timestamp", "level", "service", "requestId", "correlationId", "operation", "userId",
        "duration", "statusCode", "message", "metadata"}) {
    EXPECT_TRUE(v.as_object().contains(field)) << field;
  }
  EXPECT_EQ(v.at("operation").as_string(), "CREATE_ITEM");
  EXPECT_EQ(v.at("statusCode").as_int64(), 201);
  EXPECT_EQ(v.at("userId").as_string(), "public");
  EXPECT_EQ(v.at("service").as_string(), "serverless-crud-api");
  EXPECT_EQ(v.at("metadata").at("tableName").as_string(), "items");
  EXPECT_FALSE(res.item_id.empty());
  EXPECT_EQ(v.at("metadata").at("itemId").as_string(), res.item_id);
  EXPECT_EQ(lines[0].find("top-secret-name"), std::string::npos);
  EXPECT_EQ(lines[0].find("Bearer"), std::string::npos);
}

TEST_F(ApiTest, APreparedResponseLogsOnlyWhenSettledAndMatchesHandle) {
  const request req = create_request(R"({"name":"prepared"})");
  auto pending = api_->prepare(req, transport_hooks{});
  ASSERT_NE(pending, nullptr);
  pending->run();
  EXPECT_TRUE(sink_.lines().empty());  // the log line waits for the commit
  const response res = pending->settle({});
  EXPECT_EQ(res.status, 201) << res.body;
  EXPECT_TRUE(res.header("Location").has_value());
  EXPECT_TRUE(res.header("X-Request-Id").has_value());
  ASSERT_EQ(sink_.lines().size(), 1U);
  auto line = json::parse(sink_.lines()[0]);
  EXPECT_EQ(line.at("statusCode").as_int64(), 201);
  EXPECT_EQ(line.at("requestId").as_string(), *res.header("X-Request-Id"));
}

TEST_F(ApiTest, TheLoggedDurationCountsFromWhenTheTransportReceivedTheRequest) {
  request req;
  req.method = "GET";
  req.path = "/items";
  req.received_ns = clock_.steady_ns();
  clock_.advance_ms(40);  // queued before the pipeline ran
  auto pending = api_->prepare(req, transport_hooks{});
  ASSERT_NE(pending, nullptr);
  pending->run();
  clock_.advance_ms(2);  // waiting for the commit
  EXPECT_EQ(pending->settle({}).status, 200);
  ASSERT_EQ(sink_.lines().size(), 1U);
  EXPECT_DOUBLE_EQ(json::parse(sink_.lines()[0]).at("duration").to_number<double>(), 42.0);
}

TEST_F(ApiTest, AFailedCommitAnswersWithTheStoresErrorInsteadOfTheSuccess) {
  request req = create_request(R"({"name":"lost"})");
  req.headers.emplace_back("X-Correlation-Id", "corr-1");
  auto pending = api_->prepare(req, transport_hooks{});
  ASSERT_NE(pending, nullptr);
  pending->run();
  const response res = pending->settle(make_error_code(store::errc::unavailable));
  EXPECT_EQ(res.status, 503);
  EXPECT_EQ(error_code_of(res), "UNAVAILABLE");
  EXPECT_EQ(res.header("Retry-After"), "1");
  EXPECT_FALSE(res.header("Location").has_value());
  EXPECT_EQ(res.header("X-Correlation-Id"), "corr-1");
  ASSERT_EQ(sink_.lines().size(), 1U);  // one line, and it tells the truth
  auto line = json::parse(sink_.lines()[0]);
  EXPECT_EQ(line.at("statusCode").as_int64(), 503);
  EXPECT_EQ(line.at("operation").as_string(), "CREATE_ITEM");

  auto other = api_->prepare(req, transport_hooks{});
  ASSERT_NE(other, nullptr);
  EXPECT_EQ(other->settle(make_error_code(store::errc::internal)).status, 500);
}

TEST_F(ApiTest, PrepareAdmitsAndRoutesWithoutTheStoreAndOnlyRunCallsIt) {
  std::vector<std::string> store_calls;
  store_.set_fault([&](std::string_view op) {
    store_calls.emplace_back(op);
    return boost::system::error_code();
  });
  const request req = create_request(R"({"name":"routed"})");
  auto pending = api_->prepare(req, transport_hooks{});
  ASSERT_NE(pending, nullptr);
  EXPECT_FALSE(pending->answered());
  EXPECT_TRUE(store_calls.empty()) << store_calls.front();
  pending->run();
  EXPECT_EQ(store_calls, std::vector<std::string>{"create_item"});
  EXPECT_TRUE(pending->answered());
  EXPECT_EQ(pending->settle({}).status, 201);

  // Refused in stages 2 and 3 (admission, routing, the input's checks): answered by prepare,
  // and run() has nothing to do.
  transport_hooks limited;
  limited.rate_limit = [](const request&, std::optional<std::string_view>) {
    return std::optional<int>(3);
  };
  request wrong_method = req;
  wrong_method.method = "DELETE";
  const request malformed = create_request(R"({"name":""})");
  request not_json = req;
  not_json.headers.clear();
  request bad_mode;
  bad_mode.method = "DELETE";
  bad_mode.path = "/items/item_01ARYZ6S41TSV4RRFFQ69G5FAV";
  bad_mode.query = {{"mode", "later"}};
  const std::vector<std::pair<request, int>> refused = {
      {req, 429}, {wrong_method, 405}, {malformed, 400}, {not_json, 415}, {bad_mode, 400}};
  for (const auto& [r, status] : refused) {
    store_calls.clear();
    auto p = api_->prepare(r, status == 429 ? limited : transport_hooks{});
    ASSERT_NE(p, nullptr);
    EXPECT_TRUE(p->answered()) << status;
    p->run();
    EXPECT_TRUE(store_calls.empty()) << status << ": " << store_calls.front();
    EXPECT_EQ(p->settle({}).status, status);
  }
  EXPECT_EQ(store_.item_count(), 1U);
}

TEST_F(ApiTest, LogLevelFiltersSuccessLines) {
  api_config config;
  config.level = log_level::warn;
  make(config);
  create();
  EXPECT_TRUE(sink_.lines().empty());
}

TEST_F(ApiTest, OperationSetLimitsWhatIsServed) {
  api_config config;
  config.operations = operation_set{false, true, false, false};  // read only
  make(config);
  auto res = call("POST", "/items", R"({"name":"x"})");
  EXPECT_EQ(res.status, 405);
  EXPECT_EQ(res.header("Allow"), "GET, HEAD");
  EXPECT_EQ(call("GET", "/items").status, 200);
  EXPECT_EQ(call("DELETE", "/items/item_01ARYZ6S41TSV4RRFFQ69G5FAV").status, 405);
}

TEST_F(ApiTest, CorsHeadersAndPreflightWhenConfigured) {
  EXPECT_FALSE(call("GET", "/items").header("Access-Control-Allow-Origin"));
  EXPECT_EQ(call("OPTIONS", "/items").status, 405);
  api_config config;
  config.cors_origin = "https://example.com";
  make(config);
  EXPECT_EQ(call("GET", "/items").header("Access-Control-Allow-Origin"), "https://example.com");
  auto pre = call("OPTIONS", "/items/item_01ARYZ6S41TSV4RRFFQ69G5FAV");
  EXPECT_EQ(pre.status, 204);
  EXPECT_EQ(pre.header("Access-Control-Allow-Methods"), "GET, HEAD, PUT, PATCH, DELETE, OPTIONS");
  EXPECT_TRUE(pre.header("Access-Control-Allow-Headers")->find("If-Match") != std::string::npos);
  EXPECT_TRUE(pre.header("Access-Control-Allow-Headers")->find("X-Amz-Security-Token") !=
              std::string::npos);
}

TEST_F(ApiTest, RejectBuildsTheSameEnvelope) {
  request req;
  req.method = "POST";
  req.path = "/items";
  core::api_error e = core::make_error(core::error_code::rate_limited, "Too many requests");
  e.retry_after_s = 3;
  auto res = api_->reject(req, e);
  EXPECT_EQ(res.status, 429);
  EXPECT_EQ(error_code_of(res), "RATE_LIMITED");
  EXPECT_EQ(res.header("Retry-After"), "3");
  EXPECT_TRUE(res.header("X-Request-Id"));
  EXPECT_EQ(sink_.lines().size(), 1U);
}

TEST_F(ApiTest, RequestIdsAreUuids) {
  std::set<std::string> ids;
  for (int i = 0; i < 50; ++i) {
    auto id = std::string(*call("GET", "/items").header("X-Request-Id"));
    EXPECT_EQ(id.size(), 36U);
    EXPECT_EQ(id[14], '4');
    ids.insert(id);
  }
  EXPECT_EQ(ids.size(), 50U);
}

TEST_F(ApiTest, TransportRequestIdIsKept) {
  request req;
  req.method = "GET";
  req.path = "/items";
  req.request_id = "lambda-req-1";
  req.upstream_request_id = "apigw-req-1";
  auto res = api_->handle(req);
  EXPECT_EQ(res.header("X-Request-Id"), "lambda-req-1");
  EXPECT_EQ(res.header("X-Correlation-Id"), "lambda-req-1");
  EXPECT_EQ(json::parse(sink_.lines().back()).at("correlationId").as_string(), "apigw-req-1");
}

}  // namespace
}  // namespace crud::app

namespace crud::app {
namespace {

TEST_F(ApiTest, LogLineCarriesTheTraceIdWhenTracing) {
  request req;
  req.method = "GET";
  req.path = "/items";
  req.trace_header = "Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1";
  api_->handle(req);
  auto v = json::parse(sink_.lines().back());
  EXPECT_EQ(v.at("xray_trace_id").as_string(), req.trace_header);
  call("GET", "/items");
  EXPECT_FALSE(json::parse(sink_.lines().back()).as_object().contains("xray_trace_id"));
}

}  // namespace
}  // namespace crud::app

namespace crud::app {
namespace {

// The transport's hooks, recorded: who was asked what, in which order.
struct recording_hooks {
  std::vector<std::string> calls;
  std::optional<std::string> refuse_credentials;  // the reason, when set
  std::optional<int> rate_limited;                // Retry-After, when set
  std::optional<std::string> limited_as;
  std::vector<std::string> charged;  // every bucket charged, in order
  std::optional<int> owner_limited;  // Retry-After for an owner's bucket, when set

  transport_hooks hooks() {
    transport_hooks h;
    h.authenticate = [this](const request& req) -> boost::system::result<std::string, std::string> {
      calls.push_back("authenticate");
      if (refuse_credentials)
        return {boost::system::in_place_error, *refuse_credentials};
      return {boost::system::in_place_value,
              std::string(req.header("Authorization").value_or("nobody"))};
    };
    h.rate_limit = [this](const request& req,
                          std::optional<std::string_view> owner) -> std::optional<int> {
      calls.push_back("rate_limit");
      limited_as = owner ? "owner " + std::string(*owner) : "address " + req.client_address;
      charged.push_back(*limited_as);
      return owner ? owner_limited : rate_limited;
    };
    h.render_metrics = [this] {
      calls.push_back("metrics");
      return std::string("crud_up 1\n");
    };
    return h;
  }
};

class PipelineTest : public ApiTest {
 protected:
  response send(std::string method, std::string path, field_list headers = {},
                std::string body = {}) {
    request req;
    req.method = std::move(method);
    req.path = std::move(path);
    req.headers = std::move(headers);
    req.body = std::move(body);
    req.client_address = "192.0.2.7";
    with_json_type(req);
    return api_->handle(req, hooks_.hooks());
  }
  recording_hooks hooks_;
};

TEST_F(PipelineTest, AuthenticatedOwnerScopesTheRequestAndItsRateLimit) {
  auto created = send("POST", "/items", {{"Authorization", "alice"}}, R"({"name":"a"})");
  ASSERT_EQ(created.status, 201) << created.body;
  EXPECT_EQ(hooks_.calls, (std::vector<std::string>{"rate_limit", "authenticate", "rate_limit"}));
  EXPECT_EQ(hooks_.charged, (std::vector<std::string>{"address 192.0.2.7", "owner alice"}));
  EXPECT_EQ(hooks_.limited_as, "owner alice");
  EXPECT_EQ(json::parse(sink_.lines().back()).at("userId").as_string(), "alice");
  // Another owner does not see it.
  EXPECT_EQ(send("GET", "/items/" + created.item_id, {{"Authorization", "bob"}}).status, 404);
  EXPECT_EQ(send("GET", "/items/" + created.item_id, {{"Authorization", "alice"}}).status, 200);
}

TEST_F(PipelineTest, RefusedCredentialsGet401AfterTheAddressIsCharged) {
  hooks_.refuse_credentials = "signature does not verify";
  auto res = send("GET", "/items");
  EXPECT_EQ(res.status, 401);
  EXPECT_EQ(res.header("WWW-Authenticate"), R"(Bearer realm="crud-api")");
  EXPECT_EQ(hooks_.limited_as, "address 192.0.2.7");
  auto line = json::parse(sink_.lines().back());
  EXPECT_EQ(line.at("cause").as_string(), "signature does not verify");
  EXPECT_EQ(line.at("operation").as_string(), "LIST_ITEMS");  // known, though refused
  EXPECT_EQ(res.body.find("signature"), std::string::npos);
}

TEST_F(PipelineTest, RateLimitedRequestsGet429WithRetryAfter) {
  hooks_.rate_limited = 7;
  auto res = send("POST", "/items", {}, R"({"name":"a"})");
  EXPECT_EQ(res.status, 429);
  EXPECT_EQ(res.header("Retry-After"), "7");
  EXPECT_EQ(error_code_of(res), "RATE_LIMITED");
  EXPECT_EQ(json::parse(sink_.lines().back()).at("operation").as_string(), "CREATE_ITEM");
  EXPECT_EQ(call("GET", "/items").status, 200);  // nothing was written
  EXPECT_EQ(body(call("GET", "/items")).at("data").as_array().size(), 0U);
}

TEST_F(PipelineTest, AnEmptyAddressBucketRefusesBeforeAnyTokenWork) {
  // Verifying a signature is the expensive part; a flooding client must not get that far.
  hooks_.rate_limited = 3;
  auto res = send("GET", "/items", {{"Authorization", "alice"}});
  EXPECT_EQ(res.status, 429);
  EXPECT_EQ(res.header("Retry-After"), "3");
  EXPECT_EQ(hooks_.calls, (std::vector<std::string>{"rate_limit"}));
  EXPECT_EQ(hooks_.charged, (std::vector<std::string>{"address 192.0.2.7"}));
  EXPECT_EQ(json::parse(sink_.lines().back()).at("userId").as_string(), "public");
}

TEST_F(PipelineTest, AnEmptyOwnerBucketRefusesAfterAuthentication) {
  hooks_.owner_limited = 9;
  auto res = send("POST", "/items", {{"Authorization", "alice"}}, R"({"name":"a"})");
  EXPECT_EQ(res.status, 429);
  EXPECT_EQ(res.header("Retry-After"), "9");
  EXPECT_EQ(hooks_.charged, (std::vector<std::string>{"address 192.0.2.7", "owner alice"}));
  EXPECT_EQ(send("GET", "/items", {{"Authorization", "alice"}}).status, 429);
}

TEST_F(PipelineTest, MetricsNeedCredentialsWhenTheTransportSaysSo) {
  auto hooks = hooks_.hooks();
  hooks.metrics_need_credentials = true;
  hooks_.refuse_credentials = "no token";
  request req;
  req.method = "GET";
  req.path = "/metrics";
  req.client_address = "192.0.2.7";
  auto refused = api_->handle(req, hooks);
  EXPECT_EQ(refused.status, 401);
  EXPECT_EQ(std::count(hooks_.calls.begin(), hooks_.calls.end(), "metrics"), 0);
  req.path = "/health";
  EXPECT_EQ(api_->handle(req, hooks).status, 200) << "/health stays open";
  hooks_.refuse_credentials.reset();
  req.path = "/metrics";
  req.headers = {{"Authorization", "ops"}};
  auto allowed = api_->handle(req, hooks);
  EXPECT_EQ(allowed.status, 200);
  EXPECT_EQ(allowed.body, "crud_up 1\n");
}

TEST_F(PipelineTest, TheDocsAndTheDocumentAreServedWithoutCredentials) {
  constexpr std::array<static_asset, 2> files{{
      {"/docs", "text/html; charset=utf-8", R"("aa")", "<html></html>"},
      {"/openapi.json", "application/json; charset=utf-8", R"("bb")",
       R"({"openapi":"3.0.3","paths":{}})"},
  }};
  auto hooks = hooks_.hooks();
  hooks.docs_files = files;
  hooks_.refuse_credentials = "no token";
  request req;
  req.method = "GET";
  req.path = "/docs";
  req.client_address = "192.0.2.7";
  auto page = api_->handle(req, hooks);
  EXPECT_EQ(page.status, 200);
  EXPECT_EQ(page.body, "<html></html>");
  EXPECT_EQ(page.header("Content-Type"), "text/html; charset=utf-8");
  EXPECT_TRUE(page.header("X-Request-Id"));
  req.path = "/openapi.json";
  req.headers = {{"Host", "127.0.0.1:8080"}};
  auto doc = api_->handle(req, hooks);
  EXPECT_EQ(doc.status, 200);
  EXPECT_EQ(doc.header("Content-Type"), "application/json; charset=utf-8");
  auto parsed = json::parse(doc.body);
  EXPECT_EQ(parsed.at("servers").at(0).at("url").as_string(), "http://127.0.0.1:8080");
  EXPECT_TRUE(parsed.at("components").at("securitySchemes").as_object().contains("bearerAuth"));
  EXPECT_EQ(std::count(hooks_.calls.begin(), hooks_.calls.end(), "authenticate"), 0);
  req.path = "/docs/missing.js";
  EXPECT_EQ(api_->handle(req, hooks).status, 404);
  req.path = "/items";
  EXPECT_EQ(api_->handle(req, hooks).status, 401);
  EXPECT_EQ(call("GET", "/docs").status, 404) << "no transport routes without hooks";
}

TEST_F(PipelineTest, HealthAndMetricsAskForNoCredentialsAndLogAtDebug) {
  auto health = send("GET", "/health", {{"X-Correlation-Id", "probe-1"}});
  EXPECT_EQ(health.status, 200);
  EXPECT_EQ(health.body, R"({"status":"ok"})");
  EXPECT_EQ(health.header("Content-Type"), "application/json; charset=utf-8");
  EXPECT_EQ(health.header("Cache-Control"), "no-store");
  EXPECT_EQ(health.header("X-Correlation-Id"), "probe-1");
  EXPECT_EQ(health.header("X-Request-Id")->size(), 36U);
  auto metrics = send("GET", "/metrics");
  EXPECT_EQ(metrics.body, "crud_up 1\n");
  EXPECT_EQ(metrics.header("Content-Type"), prometheus_content_type);
  EXPECT_EQ(std::count(hooks_.calls.begin(), hooks_.calls.end(), "authenticate"), 0);
  EXPECT_TRUE(sink_.lines().empty());  // INFO by default: probes and scrapes are not logged

  api_config config;
  config.level = log_level::debug;
  make(config);
  send("HEAD", "/health");
  ASSERT_EQ(sink_.lines().size(), 1U);
  EXPECT_EQ(json::parse(sink_.lines().back()).at("level").as_string(), "DEBUG");
}

TEST_F(PipelineTest, LocalRoutesAnswerOnlyGetAndHead) {
  auto res = send("POST", "/metrics", {}, "{}");
  EXPECT_EQ(res.status, 405);
  EXPECT_EQ(res.header("Allow"), "GET, HEAD");
  EXPECT_EQ(std::count(hooks_.calls.begin(), hooks_.calls.end(), "metrics"), 0);
}

TEST_F(PipelineTest, WithoutHooksThereAreNoLocalRoutes) {
  EXPECT_EQ(call("GET", "/health").status, 404);
  EXPECT_EQ(call("GET", "/metrics").status, 404);
}

TEST_F(PipelineTest, PreflightsAreNotAuthenticated) {
  api_config config;
  config.cors_origin = "https://example.com";
  make(config);
  hooks_.refuse_credentials = "no token";
  auto res = send("OPTIONS", "/items");
  EXPECT_EQ(res.status, 204);
  EXPECT_EQ(std::count(hooks_.calls.begin(), hooks_.calls.end(), "authenticate"), 0);
}

TEST_F(PipelineTest, RestoreHonoursIfMatch) {
  auto id = create();
  ASSERT_EQ(call("DELETE", "/items/" + id, {}, {}, {{"mode", "soft"}}).status, 200);
  auto stale = call("POST", "/items/" + id + "/restore", {}, {{"If-Match", "\"stale\""}});
  EXPECT_EQ(stale.status, 412);
  EXPECT_EQ(error_code_of(stale), "PRECONDITION_FAILED");
  EXPECT_EQ(call("GET", "/items/" + id).status, 404);  // still deleted
  EXPECT_EQ(call("POST", "/items/" + id + "/restore").status, 200);
}

}  // namespace
}  // namespace crud::app

namespace crud::app {
namespace {

TEST_F(ApiTest, EmptyLastKeyIsAValidationError) {
  create();
  auto res = call("GET", "/items", {}, {}, {{"lastKey", ""}});
  EXPECT_EQ(res.status, 400);
  EXPECT_EQ(error_code_of(res), "VALIDATION_FAILED");
  EXPECT_EQ(body(res).at("error").at("details").at(0).at("field").as_string(), "lastKey");
}

}  // namespace
}  // namespace crud::app

namespace crud::app {
namespace {

TEST_F(ApiTest, IdempotencyKeyReuseIsJudgedOnEveryFieldButNotOnSpelling) {
  field_list headers{{"Idempotency-Key", "key-probe"}};
  auto first = call("POST", "/items", R"({"name":"probe","description":"first"})", headers);
  ASSERT_EQ(first.status, 201) << first.body;
  // The same payload spelt differently: fields in another order, other whitespace. Replays.
  for (std::string same : {R"({"description":"first","name":"probe"})",
                           " {\n  \"name\" :\t\"probe\" ,\r\n  \"description\":\"first\"\n}\n"}) {
    auto again = call("POST", "/items", same, headers);
    EXPECT_EQ(again.status, 201) << same;
    EXPECT_EQ(again.body, first.body) << same;
    EXPECT_EQ(again.header("Idempotent-Replayed"), "true") << same;
  }
  // Only the description differs: another request, refused.
  auto other = call("POST", "/items", R"({"name":"probe","description":"second"})", headers);
  EXPECT_EQ(other.status, 422) << other.body;
  EXPECT_EQ(error_code_of(other), "IDEMPOTENCY_KEY_REUSED");
  auto dropped = call("POST", "/items", R"({"name":"probe"})", headers);
  EXPECT_EQ(dropped.status, 422) << dropped.body;
  EXPECT_EQ(store_.item_count(), 1U);
}

}  // namespace
}  // namespace crud::app
