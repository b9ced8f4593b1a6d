#include "core/item_input.hpp"

#include "core/utf8.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace crud::core {
namespace {

bool has_field(const api_error& e, std::string_view field) {
  return std::any_of(e.details.begin(), e.details.end(),
                     [&](const field_error& f) { return f.field == field; });
}

TEST(ItemInput, AcceptsAValidCreateBody) {
  auto r = parse_create_body(R"({"name":"  Sample Item ","description":"line\n\ttab"})");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->name, "Sample Item");  // trimmed
  EXPECT_EQ(r->description, "line\n\ttab");
  EXPECT_FALSE(r->version);
}

TEST(ItemInput, DescriptionDefaultsToEmpty) {
  auto r = parse_create_body(R"({"name":"x"})");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->description, "");
}

TEST(ItemInput, MalformedJsonAndNonObjectsAreBadRequests) {
  for (std::string_view body :
       {"", "{", "{\"name\":}", "[]", "\"name\"", "42", "null", "{\"name\":\"x\"} trailing"}) {
    auto r = parse_create_body(body);
    ASSERT_FALSE(r) << body;
    EXPECT_EQ(r.error().code, error_code::bad_request) << body;
  }
}

TEST(ItemInput, ReportsEveryFailingField) {
  auto r = parse_create_body(R"({"description":5,"color":"red","version":2})");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, error_code::validation_failed);
  EXPECT_TRUE(has_field(r.error(), "name"));
  EXPECT_TRUE(has_field(r.error(), "description"));
  EXPECT_TRUE(has_field(r.error(), "color"));
  EXPECT_TRUE(has_field(r.error(), "version"));  // not writable on create
  EXPECT_EQ(r.error().details.size(), 4U);
}

TEST(ItemInput, NameLengthCountsCodePointsAfterTrimming) {
  std::string e200;
  for (int i = 0; i < 200; ++i)
    e200 += "\xC3\xA9";  // 200 code points, 400 bytes
  EXPECT_TRUE(parse_create_body(R"({"name":")" + e200 + R"("})"));
  EXPECT_FALSE(parse_create_body(R"({"name":")" + e200 + R"(x"})"));
  EXPECT_TRUE(parse_create_body(R"({"name":"   )" + std::string(200, 'a') + R"(   "})"));
  EXPECT_FALSE(parse_create_body(R"({"name":"   "})"));
  EXPECT_FALSE(parse_create_body(R"({"name":""})"));
}

TEST(ItemInput, RejectsControlCharacters) {
  EXPECT_FALSE(parse_create_body(R"({"name":"a\u0001b"})"));
  EXPECT_FALSE(parse_create_body(R"({"name":"a\nb"})"));
  EXPECT_FALSE(parse_create_body(R"({"name":"a\u0085b"})"));  // C1 control
  EXPECT_FALSE(parse_create_body(R"({"name":"a","description":"x\u0000y"})"));
  EXPECT_FALSE(parse_create_body(R"({"name":"a","description":"x\ry"})"));
  EXPECT_TRUE(parse_create_body(R"({"name":"a","description":"x\ny\tz"})"));
}

TEST(ItemInput, DescriptionLimitIs2000CodePoints) {
  EXPECT_TRUE(parse_create_body(R"({"name":"a","description":")" + std::string(2000, 'd') + "\"}"));
  auto r = parse_create_body(R"({"name":"a","description":")" + std::string(2001, 'd') + "\"}");
  ASSERT_FALSE(r);
  EXPECT_TRUE(has_field(r.error(), "description"));
}

TEST(ItemInput, RejectsInvalidUtf8) {
  auto r = parse_create_body("{\"name\":\"a\xC0\xAF\"}");
  ASSERT_FALSE(r);
}

TEST(ItemInput, ReplaceAcceptsAVersion) {
  auto r = parse_replace_body(R"({"name":"n","version":3})");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->version, 3);
  EXPECT_FALSE(parse_replace_body(R"({"name":"n","version":0})"));
  EXPECT_FALSE(parse_replace_body(R"({"name":"n","version":1.5})"));
  EXPECT_FALSE(parse_replace_body(R"({"name":"n","version":"1"})"));
  EXPECT_FALSE(parse_replace_body(R"({"description":"only"})"));  // PUT needs a name
}

TEST(ItemInput, MergePatchSemantics) {
  auto only_description = parse_patch_body(R"({"description":"new"})");
  ASSERT_TRUE(only_description);
  EXPECT_FALSE(only_description->name);
  EXPECT_EQ(only_description->description, "new");

  auto cleared = parse_patch_body(R"({"description":null})");
  ASSERT_TRUE(cleared);
  EXPECT_EQ(cleared->description, "");

  auto empty = parse_patch_body("{}");
  ASSERT_TRUE(empty);
  EXPECT_FALSE(empty->name);
  EXPECT_FALSE(empty->description);

  auto no_name = parse_patch_body(R"({"name":null})");
  ASSERT_FALSE(no_name);
  EXPECT_TRUE(has_field(no_name.error(), "name"));
}

TEST(ItemInput, LimitsTheNumberOfReportedUnknownFields) {
  std::string body = R"({"name":"a")";
  for (int i = 0; i < 500; ++i)
    body += ",\"f" + std::to_string(i) + "\":1";
  body += "}";
  auto r = parse_create_body(body);
  ASSERT_FALSE(r);
  EXPECT_LE(r.error().details.size(), 21U);
}

TEST(ItemInput, DeepNestingIsRefused) {
  std::string body =
      R"({"name":"a","x":)" + std::string(10000, '[') + std::string(10000, ']') + "}";
  auto r = parse_create_body(body);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, error_code::bad_request);
}

// The JSON parsing corpus: n_* must be rejected as malformed; y_* must parse (and then fail
// only on shape or validation, never as "not valid JSON").
TEST(ItemInput, JsonTestSuiteCorpus) {
  const char* root_env = std::getenv("CRUD_SOURCE_DIR");  // NOLINT(concurrency-mt-unsafe): tests
  std::filesystem::path root = root_env ? root_env : ".";
  std::filesystem::path dir = root / ".." / "shared" / "testdata" / "json-test-suite";
  ASSERT_TRUE(std::filesystem::is_directory(dir)) << dir;
  int accepted = 0;
  int rejected = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    std::string name = entry.path().filename().string();
    if (entry.path().extension() != ".json")
      continue;
    std::ifstream in(entry.path(), std::ios::binary);
    std::stringstream text;
    text << in.rdbuf();
    auto r = parse_create_body(text.str());
    bool malformed = !r && r.error().code == error_code::bad_request &&
                     r.error().message == "Request body is not valid JSON";
    if (name.starts_with("n_")) {
      EXPECT_TRUE(malformed) << name;
      ++rejected;
    } else if (name.starts_with("y_")) {
      EXPECT_FALSE(malformed) << name;
      ++accepted;
    } else if (name.starts_with("i_") && r) {
      // Implementation-defined inputs may parse, but a stored name must be valid UTF-8.
      EXPECT_TRUE(count_code_points(r->name).has_value()) << name;
      EXPECT_TRUE(count_code_points(r->description).has_value()) << name;
    }
  }
  EXPECT_GT(accepted, 50);
  EXPECT_GT(rejected, 100);
}

}  // namespace
}  // namespace crud::core
