// The items routes of CONTRACT §2 over real HTTP: create, read, list, replace, merge-patch,
// both delete modes with restore, conditional requests and idempotent replay.

#include <boost/json.hpp>
#include <string>
#include <vector>

#include "support/contract_checks.hpp"
#include "support/server_fixture.hpp"

namespace crud::e2e {
namespace {

namespace json = boost::json;

// A well-formed id that no test creates.
constexpr const char* absent_id = "item_01ARZ3NDEKTSV4RRFFQ69G5FAV";

json::object body_of(const http_response& res) {
  auto v = json_of(res);
  return v.is_object() ? v.get_object() : json::object();
}

bool is_strong_etag(const std::string& tag) {
  return tag.size() >= 3 && tag.front() == '"' && tag.back() == '"';
}

class ApiE2e : public server_fixture {};

TEST_F(ApiE2e, CreateAnswers201WithLocationEtagAndTheItem) {
  const auto res = client().post(
      "/items", R"({"name":"  Sample Item  ","description":"This is a sample item for testing"})");
  ASSERT_TRUE(is_success(res, 201));
  EXPECT_EQ(string_at(body_of(res), "message"), "Item created successfully");
  const auto item = data_of(res);
  EXPECT_TRUE(is_item(item));
  EXPECT_EQ(string_at(item, "name"), "Sample Item");
  EXPECT_EQ(string_at(item, "description"), "This is a sample item for testing");
  EXPECT_EQ(int_at(item, "version"), 1);
  EXPECT_EQ(string_at(item, "createdAt"), string_at(item, "updatedAt"));
  EXPECT_FALSE(item.contains("deletedAt"));
  EXPECT_EQ(res.header("Location").value_or(""), item_path(item));
  const auto etag = res.header("ETag").value_or("");
  EXPECT_TRUE(is_strong_etag(etag)) << "ETag: " << etag;
  EXPECT_EQ(res.header("X-Correlation-Id"), res.header("X-Request-Id"));
}

TEST_F(ApiE2e, CreateDefaultsDescriptionToEmpty) {
  const auto res = client().post("/items", R"({"name":"no description"})");
  ASSERT_TRUE(is_success(res, 201));
  EXPECT_EQ(string_at(data_of(res), "description"), "");
  EXPECT_TRUE(data_of(res).contains("description"));
}

TEST_F(ApiE2e, IdsAreDistinctAndAscendInCreationOrder) {
  std::vector<std::string> ids;
  for (int i = 0; i < 30; ++i) {
    // Appended rather than "n" + string: GCC 12 misreports that form under -Wrestrict.
    std::string name = "n";
    name += std::to_string(i);
    ids.push_back(string_at(create_item(name), "id"));
  }
  for (std::size_t i = 1; i < ids.size(); ++i) {
    EXPECT_LT(ids[i - 1], ids[i]) << "at " << i;
  }
}

TEST_F(ApiE2e, GetReturnsTheItemAndTheSameEtagAsCreate) {
  const auto created = client().post("/items", R"({"name":"a","description":"b"})");
  ASSERT_TRUE(is_success(created, 201));
  const auto res = client().get(item_path(data_of(created)));
  ASSERT_TRUE(is_success(res, 200));
  EXPECT_EQ(data_of(res), data_of(created));
  EXPECT_EQ(res.header("ETag"), created.header("ETag"));
}

TEST_F(ApiE2e, IfNoneMatchWithACurrentEtagGets304) {
  const auto item = create_item("cached");
  const auto etag = etag_of(string_at(item, "id"));
  ASSERT_FALSE(etag.empty());

  const auto not_modified = client().get(item_path(item), {{"If-None-Match", etag}});
  EXPECT_EQ(not_modified.status, 304) << describe(not_modified);
  EXPECT_TRUE(not_modified.body.empty());
  EXPECT_TRUE(not_modified.header("X-Request-Id").has_value());
  EXPECT_EQ(not_modified.header("ETag").value_or(""), etag);

  EXPECT_EQ(client().get(item_path(item), {{"If-None-Match", "\"other\", " + etag}}).status, 304);
  EXPECT_EQ(client().get(item_path(item), {{"If-None-Match", "*"}}).status, 304);
  EXPECT_TRUE(is_success(client().get(item_path(item), {{"If-None-Match", "\"other\""}}), 200));

  ASSERT_TRUE(is_success(client().patch(item_path(item), R"({"name":"changed"})"), 200));
  const auto changed = client().get(item_path(item), {{"If-None-Match", etag}});
  ASSERT_TRUE(is_success(changed, 200));
  EXPECT_NE(changed.header("ETag").value_or(etag), etag);
}

TEST_F(ApiE2e, HeadAnswersLikeGetWithoutABody) {
  const auto item = create_item("headed");
  const auto get = client().get(item_path(item));
  const auto head = client().head(item_path(item));
  EXPECT_EQ(head.status, 200) << describe(head);
  EXPECT_TRUE(head.body.empty());
  EXPECT_TRUE(has_contract_headers(head));
  EXPECT_EQ(head.header("ETag"), get.header("ETag"));

  const auto list = client().head("/items");
  EXPECT_EQ(list.status, 200) << describe(list);
  EXPECT_TRUE(list.body.empty());

  const auto missing = client().head(item_path(absent_id));
  EXPECT_EQ(missing.status, 404) << describe(missing);
  EXPECT_TRUE(missing.body.empty());
  // The connection is still usable after bodiless answers.
  EXPECT_TRUE(is_success(client().get(item_path(item)), 200));
}

TEST_F(ApiE2e, ListReturnsItemsOldestFirstWithPagination) {
  const auto empty = client().get("/items");
  ASSERT_TRUE(is_success(empty, 200));
  EXPECT_TRUE(ids_of(empty).empty());
  auto pagination = body_of(empty)["pagination"];
  ASSERT_TRUE(pagination.is_object()) << describe(empty);
  EXPECT_EQ(int_at(pagination.get_object(), "limit"), 20);
  EXPECT_EQ(int_at(pagination.get_object(), "count"), 0);
  EXPECT_TRUE(pagination.get_object()["lastKey"].is_null());

  std::vector<std::string> created;
  for (int i = 0; i < 25; ++i) {
    created.push_back(string_at(create_item("item " + std::to_string(i)), "id"));
  }
  const auto first = client().get("/items");
  ASSERT_TRUE(is_success(first, 200));
  const auto first_ids = ids_of(first);
  EXPECT_EQ(first_ids, std::vector<std::string>(created.begin(), created.begin() + 20));
  const auto first_body = json_of(first);
  for (const auto& item : first_body.at("data").as_array()) {
    EXPECT_TRUE(is_item(item));
  }
  pagination = body_of(first)["pagination"];
  ASSERT_TRUE(pagination.is_object());
  EXPECT_EQ(int_at(pagination.get_object(), "limit"), 20);
  EXPECT_EQ(int_at(pagination.get_object(), "count"), 20);
  const auto last_key = string_at(pagination.get_object(), "lastKey");
  ASSERT_FALSE(last_key.empty()) << describe(first);

  const auto second = client().get("/items?lastKey=" + url_encode(last_key));
  ASSERT_TRUE(is_success(second, 200));
  EXPECT_EQ(ids_of(second), std::vector<std::string>(created.begin() + 20, created.end()));
  pagination = body_of(second)["pagination"];
  EXPECT_EQ(int_at(pagination.get_object(), "count"), 5);
  EXPECT_TRUE(pagination.get_object()["lastKey"].is_null()) << describe(second);

  const auto all = client().get("/items?limit=100");
  ASSERT_TRUE(is_success(all, 200));
  EXPECT_EQ(ids_of(all), created);
  EXPECT_EQ(int_at(body_of(all)["pagination"].get_object(), "limit"), 100);
}

TEST_F(ApiE2e, PutReplacesNameAndDescription) {
  const auto created = client().post("/items", R"({"name":"a","description":"d"})");
  ASSERT_TRUE(is_success(created, 201));
  const auto before = data_of(created);

  const auto res = client().put(item_path(before), R"({"name":" b "})");
  ASSERT_TRUE(is_success(res, 200));
  EXPECT_EQ(string_at(body_of(res), "message"), "Item updated successfully");
  const auto after = data_of(res);
  EXPECT_TRUE(is_item(after));
  EXPECT_EQ(string_at(after, "id"), string_at(before, "id"));
  EXPECT_EQ(string_at(after, "name"), "b");
  EXPECT_EQ(string_at(after, "description"), "");
  EXPECT_EQ(int_at(after, "version"), 2);
  EXPECT_EQ(string_at(after, "createdAt"), string_at(before, "createdAt"));
  EXPECT_GE(string_at(after, "updatedAt"), string_at(before, "updatedAt"));
  const auto etag = res.header("ETag").value_or("");
  EXPECT_TRUE(is_strong_etag(etag));
  EXPECT_NE(etag, created.header("ETag").value_or(""));

  const auto read = client().get(item_path(before));
  EXPECT_EQ(data_of(read), after);
  EXPECT_EQ(read.header("ETag").value_or(""), etag);
}

TEST_F(ApiE2e, PutWithAStaleBodyVersionGets409AndChangesNothing) {
  const auto item = create_item("a");
  EXPECT_TRUE(
      is_error(client().put(item_path(item), R"({"name":"b","version":7})"), 409, "CONFLICT"));
  EXPECT_EQ(data_of(client().get(item_path(item))), item);

  const auto ok = client().put(item_path(item), R"({"name":"b","version":1})");
  ASSERT_TRUE(is_success(ok, 200));
  EXPECT_EQ(int_at(data_of(ok), "version"), 2);
  EXPECT_TRUE(
      is_error(client().put(item_path(item), R"({"name":"c","version":1})"), 409, "CONFLICT"));
}

TEST_F(ApiE2e, PutWithAStaleIfMatchGets412AndChangesNothing) {
  const auto item = create_item("a");
  const auto first = etag_of(string_at(item, "id"));
  const auto ok = client().put(item_path(item), R"({"name":"b"})", {{"If-Match", first}});
  ASSERT_TRUE(is_success(ok, 200));
  const auto current = data_of(ok);

  EXPECT_TRUE(is_error(client().put(item_path(item), R"({"name":"c"})", {{"If-Match", first}}), 412,
                       "PRECONDITION_FAILED"));
  EXPECT_EQ(data_of(client().get(item_path(item))), current);
  EXPECT_TRUE(
      is_success(client().put(item_path(item), R"({"name":"d"})", {{"If-Match", "*"}}), 200));
}

TEST_F(ApiE2e, WritesOnAMissingItemGet404) {
  const std::string path = item_path(absent_id);
  EXPECT_TRUE(is_error(client().put(path, R"({"name":"x"})"), 404, "NOT_FOUND"));
  EXPECT_TRUE(is_error(client().patch(path, R"({"name":"x"})"), 404, "NOT_FOUND"));
  EXPECT_TRUE(is_error(client().del(path), 404, "NOT_FOUND"));
  EXPECT_TRUE(is_error(client().get(path), 404, "NOT_FOUND"));
  EXPECT_TRUE(is_error(client().post(path + "/restore", ""), 404, "NOT_FOUND"));
}

TEST_F(ApiE2e, PatchMergesNameAndDescription) {
  const auto created = client().post("/items", R"({"name":"a","description":"d"})");
  ASSERT_TRUE(is_success(created, 201));
  const auto path = item_path(data_of(created));
  const header_list merge{{"Content-Type", "application/merge-patch+json"}};

  auto res = client().patch(path, R"({"description":"e"})", merge);
  ASSERT_TRUE(is_success(res, 200));
  EXPECT_EQ(string_at(body_of(res), "message"), "Item updated successfully");
  EXPECT_EQ(string_at(data_of(res), "name"), "a");
  EXPECT_EQ(string_at(data_of(res), "description"), "e");
  EXPECT_EQ(int_at(data_of(res), "version"), 2);
  EXPECT_NE(res.header("ETag").value_or(""), created.header("ETag").value_or(""));

  res = client().patch(path, R"({"name":"b"})");
  ASSERT_TRUE(is_success(res, 200));
  EXPECT_EQ(string_at(data_of(res), "name"), "b");
  EXPECT_EQ(string_at(data_of(res), "description"), "e");
  EXPECT_EQ(int_at(data_of(res), "version"), 3);

  res = client().patch(path, R"({"description":null})", merge);
  ASSERT_TRUE(is_success(res, 200));
  EXPECT_EQ(string_at(data_of(res), "description"), "");
  EXPECT_EQ(int_at(data_of(res), "version"), 4);
  const auto current = data_of(res);
  const auto etag = res.header("ETag").value_or("");

  res = client().patch(path, R"({"name":null})", merge);
  EXPECT_TRUE(is_error(res, 400, "VALIDATION_FAILED"));
  EXPECT_EQ(detail_fields(res), std::vector<std::string>{"name"});
  res = client().patch(path, R"({"color":"red"})", merge);
  EXPECT_TRUE(is_error(res, 400, "VALIDATION_FAILED"));
  EXPECT_EQ(detail_fields(res), std::vector<std::string>{"color"});
  EXPECT_TRUE(is_error(client().patch(path, R"({"name":"c","version":1})"), 409, "CONFLICT"));
  EXPECT_TRUE(is_error(
      client().patch(path, R"({"name":"c"})", {{"If-Match", created.header("ETag").value_or("")}}),
      412, "PRECONDITION_FAILED"));
  EXPECT_EQ(data_of(client().get(path)), current);

  res = client().patch(path, R"({"name":"c","version":4})", {{"If-Match", etag}});
  ASSERT_TRUE(is_success(res, 200));
  EXPECT_EQ(int_at(data_of(res), "version"), 5);
}

TEST_F(ApiE2e, HardDeleteRemovesTheItem) {
  const auto item = create_item("doomed");
  const auto res = client().del(item_path(item));
  ASSERT_TRUE(is_success(res, 200));
  EXPECT_EQ(string_at(body_of(res), "message"), "Item deleted successfully");
  EXPECT_EQ(data_of(res), (json::object{{"id", item.at("id")}, {"deleted", "hard"}}));

  EXPECT_TRUE(is_error(client().get(item_path(item)), 404, "NOT_FOUND"));
  EXPECT_TRUE(is_error(client().del(item_path(item)), 404, "NOT_FOUND"));
  EXPECT_TRUE(is_error(client().post(item_path(item) + "/restore", ""), 404, "NOT_FOUND"));
  EXPECT_TRUE(ids_of(client().get("/items")).empty());
}

TEST_F(ApiE2e, SoftDeleteHidesTheItemUntilRestored) {
  const auto kept = create_item("kept");
  const auto item = create_item("soft", "still here");
  ASSERT_TRUE(is_success(client().patch(item_path(item), R"({"description":"v2"})"), 200));
  const auto etag = etag_of(string_at(item, "id"));

  const auto res = client().del(item_path(item) + "?mode=soft");
  ASSERT_TRUE(is_success(res, 200));
  EXPECT_EQ(string_at(body_of(res), "message"), "Item deleted successfully");
  EXPECT_EQ(data_of(res), (json::object{{"id", item.at("id")}, {"deleted", "soft"}}));

  EXPECT_TRUE(is_error(client().get(item_path(item)), 404, "NOT_FOUND"));
  EXPECT_EQ(client().head(item_path(item)).status, 404);
  EXPECT_TRUE(is_error(client().put(item_path(item), R"({"name":"x"})"), 404, "NOT_FOUND"));
  EXPECT_TRUE(is_error(client().patch(item_path(item), R"({"name":"x"})"), 404, "NOT_FOUND"));
  EXPECT_TRUE(is_error(client().del(item_path(item)), 404, "NOT_FOUND"));
  EXPECT_TRUE(is_error(client().del(item_path(item) + "?mode=soft"), 404, "NOT_FOUND"));
  EXPECT_EQ(ids_of(client().get("/items")), std::vector<std::string>{string_at(kept, "id")});

  const auto restored = client().post(item_path(item) + "/restore", "");
  ASSERT_TRUE(is_success(restored, 200));
  EXPECT_EQ(string_at(body_of(restored), "message"), "Item restored successfully");
  const auto back = data_of(restored);
  EXPECT_TRUE(is_item(back));
  EXPECT_FALSE(back.contains("deletedAt"));
  EXPECT_EQ(string_at(back, "name"), "soft");
  EXPECT_EQ(string_at(back, "description"), "v2");
  // 1 on create, 2 after the patch, 3 for the soft delete, 4 for the restore.
  EXPECT_EQ(int_at(back, "version"), 4);
  EXPECT_NE(restored.header("ETag").value_or(etag), etag);

  const auto read = client().get(item_path(item));
  ASSERT_TRUE(is_success(read, 200));
  EXPECT_EQ(data_of(read), back);
  EXPECT_EQ(ids_of(client().get("/items")),
            (std::vector<std::string>{string_at(kept, "id"), string_at(item, "id")}));
  // A live item cannot be restored.
  EXPECT_TRUE(is_error(client().post(item_path(item) + "/restore", ""), 404, "NOT_FOUND"));
}

TEST_F(ApiE2e, HardModeParameterRemovesASoftDeletableItem) {
  restart({"--delete-mode", "soft"});
  const auto soft = create_item("soft by default");
  auto res = client().del(item_path(soft));
  ASSERT_TRUE(is_success(res, 200));
  EXPECT_EQ(string_at(data_of(res), "deleted"), "soft");
  EXPECT_TRUE(is_success(client().post(item_path(soft) + "/restore", ""), 200));

  res = client().del(item_path(soft) + "?mode=hard");
  ASSERT_TRUE(is_success(res, 200));
  EXPECT_EQ(string_at(data_of(res), "deleted"), "hard");
  EXPECT_TRUE(is_error(client().post(item_path(soft) + "/restore", ""), 404, "NOT_FOUND"));
}

TEST_F(ApiE2e, DeleteModeComesFromTheEnvironment) {
  restart({}, {{"DELETE_MODE", "soft"}});
  const auto item = create_item("env");
  EXPECT_EQ(string_at(data_of(client().del(item_path(item))), "deleted"), "soft");
}

TEST_F(ApiE2e, DeleteHonoursIfMatch) {
  const auto item = create_item("conditional");
  const auto stale = etag_of(string_at(item, "id"));
  ASSERT_TRUE(is_success(client().put(item_path(item), R"({"name":"v2"})"), 200));
  EXPECT_TRUE(
      is_error(client().del(item_path(item), {{"If-Match", stale}}), 412, "PRECONDITION_FAILED"));
  EXPECT_TRUE(is_success(client().get(item_path(item)), 200));
  EXPECT_TRUE(is_error(client().del(item_path(item) + "?mode=soft", {{"If-Match", stale}}), 412,
                       "PRECONDITION_FAILED"));

  const auto current = etag_of(string_at(item, "id"));
  EXPECT_TRUE(is_success(client().del(item_path(item), {{"If-Match", current}}), 200));
  EXPECT_TRUE(is_error(client().get(item_path(item)), 404, "NOT_FOUND"));
}

TEST_F(ApiE2e, IdempotentRetryReplaysTheFirstResponse) {
  const std::string body = R"({"name":"once","description":"only once"})";
  const header_list key{{"Idempotency-Key", "order-2024-0001"}};
  const auto first = client().post("/items", body, key);
  ASSERT_TRUE(is_success(first, 201));
  EXPECT_FALSE(first.header("Idempotent-Replayed").has_value());

  const auto replay = client().post("/items", body, key);
  ASSERT_TRUE(is_success(replay, 201));
  EXPECT_EQ(replay.header("Idempotent-Replayed").value_or(""), "true");
  EXPECT_EQ(json_of(replay), json_of(first));
  EXPECT_EQ(ids_of(client().get("/items")).size(), 1U);

  const auto reused = client().post("/items", R"({"name":"other"})", key);
  EXPECT_TRUE(is_error(reused, 422, "IDEMPOTENCY_KEY_REUSED"));

  const auto fresh = client().post("/items", body, {{"Idempotency-Key", "order-2024-0002"}});
  ASSERT_TRUE(is_success(fresh, 201));
  EXPECT_NE(string_at(data_of(fresh), "id"), string_at(data_of(first), "id"));
  EXPECT_EQ(ids_of(client().get("/items")).size(), 2U);
}

TEST_F(ApiE2e, KeepAliveServesManyRequestsOnOneConnection) {
  const auto item = create_item("kept alive");
  for (int i = 0; i < 20; ++i) {
    ASSERT_TRUE(is_success(client().get(item_path(item)), 200));
  }
  EXPECT_EQ(client().connections_opened(), 1);
}

TEST_F(ApiE2e, CorrelationIdIsEchoedOrDefaultsToTheRequestId) {
  const auto echoed = client().get("/items", {{"X-Correlation-Id", "corr-abc-123"}});
  EXPECT_EQ(echoed.header("X-Correlation-Id").value_or(""), "corr-abc-123");
  EXPECT_NE(echoed.header("X-Request-Id").value_or("corr-abc-123"), "corr-abc-123");

  const auto error = client().get("/nope", {{"X-Correlation-Id", "corr-err"}});
  EXPECT_EQ(error.header("X-Correlation-Id").value_or(""), "corr-err");

  const auto a = client().get("/items");
  const auto b = client().get("/items");
  EXPECT_EQ(a.header("X-Correlation-Id"), a.header("X-Request-Id"));
  EXPECT_NE(a.header("X-Request-Id"), b.header("X-Request-Id"));
}

}  // namespace
}  // namespace crud::e2e
