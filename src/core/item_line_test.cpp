#include "core/item_line.hpp"

#include <gtest/gtest.h>

#include "core/timestamp.hpp"

namespace crud::core {
namespace {

item_record live_record() {
  item_record r;
  r.owner = "user-1 \"quoted\" é";
  r.stored.id = "item_01JDQ3G6X0S6PZ9R6X7Y8Z9ABC";
  r.stored.name = "Sample Item";
  r.stored.description = "line one\nline\ttwo";
  r.stored.created_at = *parse_timestamp("2026-01-15T10:30:00.123Z");
  r.stored.updated_at = *parse_timestamp("2026-01-16T11:00:00.000Z");
  r.stored.version = 3;
  return r;
}

item_record deleted_record() {
  item_record r = live_record();
  r.stored.deleted_at = *parse_timestamp("2026-01-17T12:00:00.001Z");
  r.expires_at = ttl_seconds(*r.stored.deleted_at + soft_delete_retention_ms);
  return r;
}

TEST(ItemLine, WritesEveryStoredFieldOnOneLine) {
  EXPECT_EQ(item_line(live_record()),
            R"({"owner":"user-1 \"quoted\" é","item":{"id":"item_01JDQ3G6X0S6PZ9R6X7Y8Z9ABC",)"
            R"("name":"Sample Item","description":"line one\nline\ttwo",)"
            R"("createdAt":"2026-01-15T10:30:00.123Z","updatedAt":"2026-01-16T11:00:00.000Z",)"
            R"("version":3}})");
  const std::string deleted = item_line(deleted_record());
  EXPECT_NE(deleted.find(R"("deletedAt":"2026-01-17T12:00:00.001Z","expiresAt":1771243201}})"),
            std::string::npos)
      << deleted;
  EXPECT_EQ(deleted.find('\n'), std::string::npos);
}

TEST(ItemLine, RoundTripsLiveAndSoftDeletedItems) {
  for (const auto& r : {live_record(), deleted_record()}) {
    auto parsed = parse_item_line(item_line(r));
    ASSERT_TRUE(parsed.has_value()) << parsed.error();
    EXPECT_EQ(*parsed, r);
    EXPECT_EQ(item_line(*parsed), item_line(r));
  }
}

TEST(ItemLine, AcceptsACarriageReturnAndAnyFieldOrder) {
  auto parsed =
      parse_item_line(R"({"item":{"version":1,"updatedAt":"2026-01-15T10:30:00.123Z","createdAt":)"
                      R"("2026-01-15T10:30:00.123Z","description":"","name":"x","id":)"
                      R"("item_01JDQ3G6X0S6PZ9R6X7Y8Z9ABC"},"owner":"o"})"
                      "\r");
  ASSERT_TRUE(parsed.has_value()) << parsed.error();
  EXPECT_EQ(parsed->owner, "o");
  EXPECT_EQ(parsed->stored.name, "x");
  EXPECT_FALSE(parsed->expires_at.has_value());
}

TEST(ItemLine, RefusesMalformedLinesWithTheFieldNamed) {
  const std::string good = item_line(live_record());
  auto with = [&](std::string_view from, std::string_view to) {
    std::string line = good;
    const auto at = line.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    line.replace(at, from.size(), to);
    return line;
  };
  const std::pair<std::string, std::string> cases[] = {
      {"", "not JSON"},
      {"{\"owner\":", "not JSON"},
      {"[1,2]", "not a JSON object"},
      {with(R"("owner":"user-1 \"quoted\" é")", R"("owner":"")"), "owner"},
      {with(R"("owner")", R"("who")"), "unknown field who"},
      {R"({"owner":"o"})", "item"},
      {with(R"("id":"item_01JDQ3G6X0S6PZ9R6X7Y8Z9ABC")", R"("id":"nope")"), "item.id"},
      {with(R"("name":"Sample Item")", R"("name":7)"), "item.name"},
      {with(R"("name":"Sample Item")", R"("name":" padded ")"), "item.name"},
      {with(R"("name":"Sample Item")", R"("name":"")"), "item.name"},
      {with(R"("description":"line one\nline\ttwo")", R"("description":null)"), "item.description"},
      {with(R"("createdAt":"2026-01-15T10:30:00.123Z")", R"("createdAt":"2026-01-15")"),
       "item.createdAt"},
      {with(R"("updatedAt":"2026-01-16T11:00:00.000Z",)", ""), "item.updatedAt"},
      {with(R"("version":3)", R"("version":0)"), "item.version"},
      {with(R"("version":3)", R"("version":1.5)"), "item.version"},
      {with(R"("version":3)", R"("version":"3")"), "item.version"},
      {with(R"("version":3)", R"("version":3,"colour":"red")"), "unknown field colour"},
      {with(R"("version":3)", R"("version":3,"expiresAt":1)"), "item.expiresAt"},
      {with(R"("version":3)", R"("version":3,"deletedAt":"yesterday")"), "item.deletedAt"},
  };
  for (const auto& [line, field] : cases) {
    auto parsed = parse_item_line(line);
    ASSERT_FALSE(parsed.has_value()) << line;
    EXPECT_NE(parsed.error().find(field), std::string::npos) << line << " -> " << parsed.error();
  }
}

TEST(ItemLine, TtlSecondsRoundUp) {
  EXPECT_EQ(ttl_seconds(1000), 1);
  EXPECT_EQ(ttl_seconds(1001), 2);
  EXPECT_EQ(ttl_seconds(0), 0);
}

}  // namespace
}  // namespace crud::core
