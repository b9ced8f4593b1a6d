#include "core/envelope.hpp"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

namespace crud::core {
namespace {

namespace json = boost::json;

item sample() {
  item it;
  it.id = "item_01ARYZ6S41TSV4RRFFQ69G5FAV";
  it.name = "Sample \"Item\"";
  it.description = "line\nnext";
  it.created_at = 1'768'473'000'123;
  it.updated_at = 1'768'473'000'456;
  it.version = 2;
  return it;
}

TEST(Envelope, ItemEnvelopeIsTheContractShape) {
  auto v = json::parse(item_envelope(201, sample(), "Item created successfully"));
  EXPECT_EQ(v.at("statusCode").as_int64(), 201);
  EXPECT_EQ(v.at("message").as_string(), "Item created successfully");
  const auto& data = v.at("data").as_object();
  EXPECT_EQ(data.at("id").as_string(), "item_01ARYZ6S41TSV4RRFFQ69G5FAV");
  EXPECT_EQ(data.at("name").as_string(), "Sample \"Item\"");
  EXPECT_EQ(data.at("description").as_string(), "line\nnext");
  EXPECT_EQ(data.at("createdAt").as_string(), "2026-01-15T10:30:00.123Z");
  EXPECT_EQ(data.at("updatedAt").as_string(), "2026-01-15T10:30:00.456Z");
  EXPECT_EQ(data.at("version").as_int64(), 2);
  EXPECT_FALSE(data.contains("deletedAt"));
}

TEST(Envelope, ReadsHaveNoMessage) {
  auto v = json::parse(item_envelope(200, sample(), ""));
  EXPECT_FALSE(v.as_object().contains("message"));
}

TEST(Envelope, SoftDeletedItemsShowDeletedAt) {
  item it = sample();
  it.deleted_at = 1'768'473'001'000;
  auto v = json::parse(item_json(it));
  EXPECT_EQ(v.at("deletedAt").as_string(), "2026-01-15T10:30:01.000Z");
}

TEST(Envelope, ListCarriesPagination) {
  std::vector<item> items{sample(), sample()};
  auto v = json::parse(list_envelope(items, 7, std::string("abc.def")));
  EXPECT_EQ(v.at("data").as_array().size(), 2U);
  EXPECT_EQ(v.at("pagination").at("limit").as_int64(), 7);
  EXPECT_EQ(v.at("pagination").at("count").as_int64(), 2);
  EXPECT_EQ(v.at("pagination").at("lastKey").as_string(), "abc.def");
  auto last = json::parse(list_envelope({}, 20, std::nullopt));
  EXPECT_TRUE(last.at("pagination").at("lastKey").is_null());
  EXPECT_EQ(last.at("pagination").at("count").as_int64(), 0);
}

TEST(Envelope, ErrorEnvelopeHasCodeDetailsAndRequestId) {
  api_error e = make_error(error_code::validation_failed, "Validation failed");
  e.details.push_back({"name", "name is required"});
  auto v = json::parse(error_envelope(e, "req-1"));
  EXPECT_EQ(v.at("statusCode").as_int64(), 400);
  EXPECT_EQ(v.at("message").as_string(), "Validation failed");
  EXPECT_EQ(v.at("error").at("code").as_string(), "VALIDATION_FAILED");
  EXPECT_EQ(v.at("error").at("details").at(0).at("field").as_string(), "name");
  EXPECT_EQ(v.at("requestId").as_string(), "req-1");
}

TEST(Envelope, StatusOverrideWins) {
  api_error e = make_error(error_code::bad_request, "Request header fields too large");
  e.status = 431;
  EXPECT_EQ(json::parse(error_envelope(e, "r")).at("statusCode").as_int64(), 431);
}

TEST(Envelope, EveryCodeHasAStatus) {
  EXPECT_EQ(default_status(error_code::idempotency_key_reused), 422);
  EXPECT_EQ(default_status(error_code::idempotency_in_progress), 409);
  EXPECT_EQ(default_status(error_code::rate_limited), 429);
  EXPECT_EQ(default_status(error_code::unavailable), 503);
  EXPECT_EQ(code_name(error_code::unsupported_media_type), "UNSUPPORTED_MEDIA_TYPE");
}

TEST(Envelope, EtagIsStrongAndVersioned) {
  auto a = etag_for("item_01ARYZ6S41TSV4RRFFQ69G5FAV", 1);
  auto b = etag_for("item_01ARYZ6S41TSV4RRFFQ69G5FAV", 2);
  EXPECT_NE(a, b);
  EXPECT_EQ(a.front(), '"');
  EXPECT_EQ(a.back(), '"');
  EXPECT_FALSE(a.starts_with("W/"));
}

}  // namespace
}  // namespace crud::core
