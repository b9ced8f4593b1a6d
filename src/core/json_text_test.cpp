#include "core/json_text.hpp"

#include <string>

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

#include "core/utf8.hpp"

namespace crud::core {
namespace {

std::string quoted(std::string_view s) {
  std::string out;
  append_json_string(out, s);
  return out;
}

TEST(JsonText, KeepsWellFormedUtf8AndEscapesControls) {
  EXPECT_EQ(quoted("a\"b\\c\n\x01"), R"("a\"b\\c\n\u0001")");
  EXPECT_EQ(quoted("\xE2\x82\xAC \xF0\x9F\x98\x80 \xC3\xA9"),
            "\"\xE2\x82\xAC \xF0\x9F\x98\x80 \xC3\xA9\"");
}

TEST(JsonText, ReplacesBytesThatAreNotUtf8) {
  // Echoed input (a decoded path such as "/%FF") is any bytes; the JSON must stay UTF-8.
  EXPECT_EQ(quoted("/\xFF"), R"("/\ufffd")");
  EXPECT_EQ(quoted("a\xC0\xAF"), R"("a\ufffd\ufffd")") << "overlong";
  EXPECT_EQ(quoted("\xED\xA0\x80"), R"("\ufffd\ufffd\ufffd")") << "surrogate";
  EXPECT_EQ(quoted("\xE2\x82"), R"("\ufffd\ufffd")") << "truncated";
  EXPECT_EQ(quoted("\xF4\x90\x80\x80"), R"("\ufffd\ufffd\ufffd\ufffd")") << "past U+10FFFF";
  for (std::string_view bad : {"\xFF", "\x80x", "x\xC3", "\xF0\x9F\x98", "\xFE\xFF"}) {
    const std::string out = quoted(bad);
    EXPECT_TRUE(count_code_points(out).has_value()) << out;
    boost::system::error_code ec;
    boost::json::parse(out, ec);
    EXPECT_FALSE(ec) << out;
  }
}

}  // namespace
}  // namespace crud::core
