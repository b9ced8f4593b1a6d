#include "store/dynamodb_transfer.hpp"

#include <gtest/gtest.h>

#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include <boost/json.hpp>

#include "aws/credentials_provider.hpp"
#include "support/testing_fakes.hpp"

namespace crud::store {
namespace {

namespace json = boost::json;

// Answers each DynamoDB call with what `answer(operation, request body)` returns (200), and
// keeps the calls: what DynamoDB does that the local engines never do (leave items unprocessed)
// can be scripted here.
class scripted_http final : public aws::http_client {
 public:
  using script = std::function<json::object(const std::string& operation, const json::object&)>;
  explicit scripted_http(script answer) : answer_(std::move(answer)) {}

  boost::system::result<aws::http_response> send(const aws::http_request& request) override {
    std::string operation;
    for (const auto& [name, value] : request.headers)
      if (name == "X-Amz-Target")
        operation = value.substr(value.find('.') + 1);
    json::object body = json::parse(request.body).as_object();
    std::lock_guard lock(mutex_);
    calls.emplace_back(operation, body);
    aws::http_response r;
    r.status = 200;
    r.body = json::serialize(answer_(operation, body));
    return r;
  }

  std::vector<std::pair<std::string, json::object>> calls;

 private:
  script answer_;
  std::mutex mutex_;
};

core::item_record record(std::string owner, int n) {
  core::item_record r;
  r.owner = std::move(owner);
  r.stored.id = "item_01JDQ3G6X0S6PZ9R6X7Y8Z9A" + std::string(1, "ABCDEFGHJK"[n / 10]) +
                std::string(1, "0123456789"[n % 10]);
  r.stored.name = "Item " + std::to_string(n);
  r.stored.created_at = 1'700'000'000'000;
  r.stored.updated_at = 1'700'000'000'000;
  r.stored.version = 1;
  return r;
}

struct fixture {
  explicit fixture(scripted_http::script answer)
      : http(std::make_shared<scripted_http>(std::move(answer))),
        credentials(std::make_shared<aws::static_credentials_provider>(
            aws::credentials{"AKID", "secret", "", 0})) {
    dynamodb_options options;
    options.table = "items";
    options.endpoint = "http://127.0.0.1:1";
    auto opened = open_dynamodb_transfer(
        options, dynamodb_store_deps{http, credentials, clock, random,
                                     [this](std::int64_t ms) { sleeps.push_back(ms); }, nullptr});
    EXPECT_TRUE(opened.has_value());
    transfer = std::move(*opened);
  }

  std::vector<std::string> operations() const {
    std::vector<std::string> out;
    for (const auto& [op, body] : http->calls)
      out.push_back(op);
    return out;
  }

  core::testing::fake_clock clock;
  core::testing::counting_random random;
  std::vector<std::int64_t> sleeps;
  std::shared_ptr<scripted_http> http;
  std::shared_ptr<aws::credentials_provider> credentials;
  std::unique_ptr<item_transfer> transfer;
};

const json::array& puts_of(const json::object& body) {
  return body.at("RequestItems").as_object().at("items").as_array();
}

TEST(DynamodbTransfer, SendsUnprocessedItemsAgainAfterABackoff) {
  int writes = 0;
  fixture f([&](const std::string& op, const json::object& body) {
    if (op != "BatchWriteItem")
      return json::object{};
    // The first answer leaves two items unprocessed, as DynamoDB does under throttling.
    if (++writes == 1) {
      json::array left{puts_of(body)[0], puts_of(body)[1]};
      return json::object{{"UnprocessedItems", json::object{{"items", left}}}};
    }
    return json::object{{"UnprocessedItems", json::object{}}};
  });
  std::vector<core::item_record> records;
  records.reserve(10);
  for (int i = 0; i < 10; ++i)
    records.push_back(record("o", i));
  auto out = f.transfer->import_items(records, true);
  ASSERT_TRUE(out.has_value()) << out.error();
  EXPECT_EQ(*out, std::vector<import_outcome>(10, import_outcome::written));
  ASSERT_EQ(f.operations(), (std::vector<std::string>{"BatchWriteItem", "BatchWriteItem"}));
  EXPECT_EQ(puts_of(f.http->calls[0].second).size(), 10U);
  EXPECT_EQ(puts_of(f.http->calls[1].second).size(), 2U);
  ASSERT_EQ(f.sleeps.size(), 1U);
  EXPECT_GE(f.sleeps[0], 25);
  EXPECT_LE(f.sleeps[0], 50);
}

TEST(DynamodbTransfer, GivesUpWhenNothingGetsThroughAndBacksOffUpToACap) {
  fixture f([&](const std::string& op, const json::object& body) {
    if (op != "BatchWriteItem")
      return json::object{};
    return json::object{{"UnprocessedItems", json::object{{"items", puts_of(body)}}}};
  });
  std::vector<core::item_record> records{record("o", 1)};
  auto out = f.transfer->import_items(records, true);
  ASSERT_FALSE(out.has_value());
  EXPECT_NE(out.error().find("unprocessed"), std::string::npos) << out.error();
  ASSERT_EQ(f.sleeps.size(), 9U);
  for (std::size_t i = 1; i < f.sleeps.size(); ++i)
    EXPECT_LE(f.sleeps[i], 5000);
  EXPECT_GE(f.sleeps.back(), 2500);
}

TEST(DynamodbTransfer, WithoutOverwriteWritesOnlyWhatDoesNotExist) {
  fixture f([&](const std::string& op, const json::object& body) {
    if (op == "BatchGetItem") {
      const auto& request = body.at("RequestItems").as_object().at("items").as_object();
      EXPECT_TRUE(request.at("ConsistentRead").as_bool());
      // The second key exists.
      json::array found{request.at("Keys").as_array()[1]};
      return json::object{{"Responses", json::object{{"items", found}}}};
    }
    return json::object{};
  });
  std::vector<core::item_record> records{record("o", 1), record("o", 2), record("p", 3)};
  auto out = f.transfer->import_items(records, false);
  ASSERT_TRUE(out.has_value()) << out.error();
  EXPECT_EQ(*out, (std::vector<import_outcome>{import_outcome::written, import_outcome::skipped,
                                               import_outcome::written}));
  ASSERT_EQ(f.operations(), (std::vector<std::string>{"BatchGetItem", "BatchWriteItem"}));
  const auto& puts = puts_of(f.http->calls[1].second);
  ASSERT_EQ(puts.size(), 2U);
  EXPECT_EQ(puts[1].at("PutRequest").at("Item").at("pk").at("S").as_string(), "OWNER#p");
}

TEST(DynamodbTransfer, ARepeatedKeyGoesInALaterRequestAndFindsTheFirstCopy) {
  std::set<std::string> stored;
  fixture f([&](const std::string& op, const json::object& body) {
    const auto& request = body.at("RequestItems").as_object().at("items");
    if (op == "BatchGetItem") {
      json::array found;
      for (const auto& key : request.at("Keys").as_array())
        if (stored.contains(json::serialize(key)))
          found.push_back(key);
      return json::object{{"Responses", json::object{{"items", found}}}};
    }
    for (const auto& put : request.as_array()) {
      const auto& item = put.at("PutRequest").at("Item").as_object();
      stored.insert(json::serialize(json::object{{"pk", item.at("pk")}, {"sk", item.at("sk")}}));
    }
    return json::object{};
  });
  std::vector<core::item_record> records{record("o", 1), record("o", 2), record("o", 1)};
  auto out = f.transfer->import_items(records, false);
  ASSERT_TRUE(out.has_value()) << out.error();
  EXPECT_EQ(*out, (std::vector<import_outcome>{import_outcome::written, import_outcome::written,
                                               import_outcome::skipped}));
  EXPECT_EQ(f.operations(),
            (std::vector<std::string>{"BatchGetItem", "BatchWriteItem", "BatchGetItem"}));
}

TEST(DynamodbTransfer, ExportFindsOwnersWithAKeysOnlyScanThenQueriesEachInOrder) {
  auto item = [](std::string_view owner, std::string_view id) {
    return json::object{{"pk", {{"S", "OWNER#" + std::string(owner)}}},
                        {"sk", {{"S", "ITEM#" + std::string(id)}}},
                        {"id", {{"S", id}}},
                        {"name", {{"S", "n"}}},
                        {"description", {{"S", ""}}},
                        {"createdAt", {{"S", "2026-01-15T10:30:00.123Z"}}},
                        {"updatedAt", {{"S", "2026-01-15T10:30:00.123Z"}}},
                        {"version", {{"N", "2"}}}};
  };
  const std::string a1 = "item_01JDQ3G6X0S6PZ9R6X7Y8Z9AA1";
  const std::string b1 = "item_01JDQ3G6X0S6PZ9R6X7Y8Z9AB1";
  fixture f([&](const std::string& op, const json::object& body) {
    if (op == "Scan") {
      EXPECT_EQ(body.at("ProjectionExpression").as_string(), "pk");
      EXPECT_EQ(body.at("FilterExpression").as_string(), "begins_with(sk, :item)");
      EXPECT_TRUE(body.at("ConsistentRead").as_bool());
      if (!body.contains("ExclusiveStartKey"))
        return json::object{
            {"Items", json::array{json::object{{"pk", {{"S", "OWNER#b"}}}},
                                  json::object{{"pk", {{"S", "OWNER#b"}}}}}},
            {"LastEvaluatedKey", json::object{{"pk", {{"S", "OWNER#b"}}}, {"sk", {{"S", "x"}}}}}};
      return json::object{{"Items", json::array{json::object{{"pk", {{"S", "OWNER#a"}}}}}}};
    }
    EXPECT_EQ(op, "Query");
    const auto pk = body.at("ExpressionAttributeValues").at(":pk").at("S").as_string();
    return json::object{{"Items", json::array{pk == "OWNER#a" ? item("a", a1) : item("b", b1)}}};
  });
  std::vector<core::item_record> seen;
  auto done = f.transfer->export_items(
      [&](const core::item_record& r) -> transfer_result<void> {
        seen.push_back(r);
        return {};
      },
      [](std::string_view, std::string_view) { ADD_FAILURE(); });
  ASSERT_TRUE(done.has_value()) << done.error();
  ASSERT_EQ(seen.size(), 2U);
  EXPECT_EQ(seen[0].owner, "a");
  EXPECT_EQ(seen[0].stored.id, a1);
  EXPECT_EQ(seen[0].stored.version, 2);
  EXPECT_EQ(seen[1].owner, "b");
  EXPECT_EQ(f.operations(), (std::vector<std::string>{"Scan", "Scan", "Query", "Query"}));
}

}  // namespace
}  // namespace crud::store
