// GET /items with a cursor another Region signed: the handler asks the store for the key the
// cursor names (docs/decisions/0021-cursor-keys-per-region.md), so a listing continues in any
// Region; an unknown key is a 400 like any bad cursor, a store that cannot answer a 503.

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "app/api.hpp"
#include "core/cursor.hpp"
#include "support/memory_store.hpp"
#include "support/testing_fakes.hpp"

namespace crud::app {
namespace {

namespace json = boost::json;

class quiet_sink final : public log_sink {
 public:
  void write(std::string_view) override {}
};

constexpr std::string_view east_secret = "the us-east-1 key, 32 bytes long";

class CursorKeys : public ::testing::Test {
 protected:
  CursorKeys() {
    store_.set_cursor_keys("eu-west-1", {{"us-east-1", std::string(east_secret)}});
    api_ = std::make_unique<api>(api_config{}, api_dependencies{store_, clock_, random_, sink_});
    for (int i = 0; i < 3; ++i) {
      auto res = call("POST", "/items", R"({"name":"n"})");
      EXPECT_EQ(res.status, 201) << res.body;
      ids_.push_back(std::string(json::parse(res.body).at("data").at("id").as_string()));
    }
  }

  response call(std::string method, std::string path, std::string body = {},
                field_list query = {}) {
    request req;
    req.method = std::move(method);
    req.path = std::move(path);
    req.body = std::move(body);
    req.query = std::move(query);
    if (!req.body.empty())
      req.headers.emplace_back("Content-Type", "application/json");
    return api_->handle(req);
  }

  std::vector<std::string> ids_after(std::string_view cursor) {
    auto res = call("GET", "/items", {}, {{"lastKey", std::string(cursor)}});
    EXPECT_EQ(res.status, 200) << res.body;
    std::vector<std::string> out;
    if (res.status != 200)
      return out;
    const auto body = json::parse(res.body);  // kept: the loop reads into it
    for (const auto& item : body.at("data").as_array())
      out.emplace_back(item.at("id").as_string());
    return out;
  }

  core::testing::fake_clock clock_;
  core::testing::counting_random random_;
  quiet_sink sink_;
  store::memory_store store_;
  std::unique_ptr<api> api_;
  std::vector<std::string> ids_;
};

TEST_F(CursorKeys, OwnCursorsNameTheirRegionsKey) {
  auto res = call("GET", "/items", {}, {{"limit", "1"}});
  ASSERT_EQ(res.status, 200);
  std::string cursor(json::parse(res.body).at("pagination").at("lastKey").as_string());
  EXPECT_TRUE(cursor.ends_with(".eu-west-1")) << cursor;
  EXPECT_EQ(ids_after(cursor), (std::vector<std::string>{ids_[1], ids_[2]}));
}

TEST_F(CursorKeys, ACursorFromAnotherRegionContinuesTheListing) {
  const core::cursor_codec east("us-east-1", std::string(east_secret));
  EXPECT_EQ(ids_after(east.encode("public", ids_[0])),
            (std::vector<std::string>{ids_[1], ids_[2]}));
}

TEST_F(CursorKeys, AnUnknownKeyOrAnotherKeysSignatureIsABadCursor) {
  const core::cursor_codec unknown("ap-south-1", std::string(east_secret));
  const core::cursor_codec forged("us-east-1", "not the us-east-1 key at all....");
  const core::cursor_codec legacy{std::string(east_secret)};  // version 1: the store has no key ""
  const std::vector<std::string> tokens{unknown.encode("public", ids_[0]),
                                        forged.encode("public", ids_[0]),
                                        legacy.encode("public", ids_[0])};
  for (const auto& token : tokens) {
    auto res = call("GET", "/items", {}, {{"lastKey", token}});
    EXPECT_EQ(res.status, 400) << token;
  }
}

TEST_F(CursorKeys, AStoreThatCannotReadTheKeyIsUnavailable) {
  store_.set_fault([](std::string_view op) {
    return op == "cursor_key" ? make_error_code(store::errc::unavailable)
                              : boost::system::error_code();
  });
  const core::cursor_codec east("us-east-1", std::string(east_secret));
  auto res = call("GET", "/items", {}, {{"lastKey", east.encode("public", ids_[0])}});
  EXPECT_EQ(res.status, 503) << res.body;
}

TEST_F(CursorKeys, TheOwnKeyIsReadOnTheFirstListAndOnlyOnceItIsRead) {
  int reads = 0;
  bool failing = true;
  store_.set_fault([&](std::string_view op) {
    if (op != "cursor_secret")
      return boost::system::error_code();
    ++reads;
    return failing ? make_error_code(store::errc::unavailable) : boost::system::error_code();
  });
  EXPECT_EQ(call("GET", "/items/" + ids_[0]).status, 200) << "a read needs no key";
  EXPECT_EQ(reads, 0);
  EXPECT_EQ(call("GET", "/items").status, 503);
  EXPECT_EQ(reads, 1);
  failing = false;
  auto res = call("GET", "/items", {}, {{"limit", "1"}});
  ASSERT_EQ(res.status, 200) << res.body << " (a failed read is not kept)";
  std::string cursor(json::parse(res.body).at("pagination").at("lastKey").as_string());
  EXPECT_EQ(ids_after(cursor), (std::vector<std::string>{ids_[1], ids_[2]}));
  EXPECT_EQ(reads, 2) << "read once, then kept";
}

}  // namespace
}  // namespace crud::app
