#include "lambda/handler_selection.hpp"

#include <gtest/gtest.h>

namespace crud::lambda {
namespace {

// create, read, update, remove as a compact string for readable expectations.
std::string flags(const app::operation_set& s) {
  return std::string(s.create ? "C" : "-") + (s.read ? "R" : "-") + (s.update ? "U" : "-") +
         (s.remove ? "D" : "-");
}

std::string parsed(std::string_view handler) {
  auto r = parse_handler(handler);
  EXPECT_TRUE(r.has_value()) << handler << ": " << (r.has_error() ? r.error() : "");
  return r.has_value() ? flags(*r) : "error";
}

TEST(HandlerSelection, SingleOperations) {
  EXPECT_EQ(parsed("create"), "C---");
  EXPECT_EQ(parsed("read"), "-R--");
  EXPECT_EQ(parsed("update"), "--U-");
  EXPECT_EQ(parsed("delete"), "---D");
}

TEST(HandlerSelection, AllAndEmptyServeEverything) {
  EXPECT_EQ(parsed("all"), "CRUD");
  EXPECT_EQ(parsed("bootstrap"), "CRUD");
  EXPECT_EQ(parsed(""), "CRUD");
  EXPECT_EQ(parsed("  "), "CRUD");
}

TEST(HandlerSelection, ToleratesCaseAndBlanks) {
  EXPECT_EQ(parsed("READ"), "-R--");
  EXPECT_EQ(parsed(" Delete\n"), "---D");
}

TEST(HandlerSelection, CommaSeparatedList) {
  EXPECT_EQ(parsed("read,update"), "-RU-");
  EXPECT_EQ(parsed(" create , delete "), "C--D");
  EXPECT_EQ(parsed("read,read"), "-R--");
  EXPECT_EQ(parsed("read,all"), "CRUD");
}

TEST(HandlerSelection, RejectsAnythingElse) {
  for (std::string_view bad : {"reads", "remove", "index.handler", "read,", ",read", "read,,update",
                               "read;update", "read update", "*"}) {
    auto r = parse_handler(bad);
    ASSERT_TRUE(r.has_error()) << bad;
    EXPECT_NE(r.error().find("_HANDLER"), std::string::npos) << r.error();
    EXPECT_NE(r.error().find(std::string(bad)), std::string::npos) << r.error();
    EXPECT_EQ(r.error().find('\n'), std::string::npos);
  }
}

TEST(HandlerSelection, ErrorStaysOnOneLine) {
  auto r = parse_handler("read\nwrite");
  ASSERT_TRUE(r.has_error());
  EXPECT_EQ(r.error().find('\n'), std::string::npos);
  EXPECT_NE(r.error().find("read\\x0awrite"), std::string::npos) << r.error();
}

}  // namespace
}  // namespace crud::lambda
