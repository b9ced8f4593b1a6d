#include "main/timed_store.hpp"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <string>
#include <vector>

#include "support/testing_fakes.hpp"

namespace crud::main {
namespace {

namespace json = boost::json;

class capture_sink final : public app::log_sink {
 public:
  void write(std::string_view line) override { lines.emplace_back(line); }
  std::vector<std::string> lines;
};

// Each call takes the time the test gives it on the fake clock; get_item fails.
class fake_store final : public store::item_store {
 public:
  explicit fake_store(core::testing::fake_clock& clock) : clock_(clock) {}
  std::int64_t call_ns = 0;
  int calls = 0;

  store::result<void> create_item(const store::call_options&, std::string_view,
                                  const core::item&) override {
    return tick();
  }
  store::result<core::item> get_item(const store::call_options&, std::string_view,
                                     std::string_view) override {
    (void)tick();
    return store::errc::not_found;
  }
  store::result<store::item_page> list_items(const store::call_options&, std::string_view,
                                             std::string_view, std::size_t) override {
    (void)tick();
    return store::item_page{};
  }
  store::result<void> replace_item(const store::call_options&, std::string_view, const core::item&,
                                   std::int64_t) override {
    return tick();
  }
  store::result<void> delete_item(const store::call_options&, std::string_view, std::string_view,
                                  std::int64_t) override {
    return tick();
  }
  store::result<store::claim_outcome> claim_idempotency(const store::call_options&,
                                                        std::string_view, std::string_view,
                                                        const store::idempotency_record&,
                                                        std::int64_t) override {
    (void)tick();
    return store::claim_outcome{.claimed = true};
  }
  store::result<void> complete_idempotency(const store::call_options&, std::string_view,
                                           std::string_view, std::string_view, std::string_view,
                                           std::int64_t) override {
    return tick();
  }
  store::result<void> release_idempotency(const store::call_options&, std::string_view,
                                          std::string_view, std::string_view) override {
    return tick();
  }
  store::result<void> purge_expired(std::int64_t) override { return tick(); }
  store::result<std::string> cursor_secret() override {
    (void)tick();
    return std::string("secret");
  }

 private:
  store::result<void> tick() {
    ++calls;
    clock_.advance_ns(call_ns);
    return {};
  }
  core::testing::fake_clock& clock_;
};

class TimedStoreTest : public ::testing::Test {
 protected:
  TimedStoreTest() {
    auto inner = std::make_unique<fake_store>(clock_);
    inner_ = inner.get();
    store_ = std::make_unique<timed_store>(std::move(inner), clock_, sink_, "svc");
  }
  json::object line(std::size_t i) const { return json::parse(sink_.lines.at(i)).as_object(); }

  core::testing::fake_clock clock_;
  capture_sink sink_;
  fake_store* inner_ = nullptr;
  std::unique_ptr<timed_store> store_;
};

TEST_F(TimedStoreTest, LogsOneDebugLinePerCallWithItsDuration) {
  inner_->call_ns = 2'500'000;
  ASSERT_TRUE(store_->list_items({}, "alice", "", 20));
  ASSERT_EQ(sink_.lines.size(), 1U);
  auto l = line(0);
  EXPECT_EQ(l.at("level").as_string(), "DEBUG");
  EXPECT_EQ(l.at("service").as_string(), "svc");
  EXPECT_EQ(l.at("message").as_string(), "store call");
  EXPECT_EQ(l.at("operation").as_string(), "list_items");
  EXPECT_DOUBLE_EQ(l.at("durationMs").to_number<double>(), 2.5);
  EXPECT_FALSE(l.contains("error"));
  EXPECT_EQ(inner_->calls, 1);
}

TEST_F(TimedStoreTest, PassesResultsThroughAndNamesFailures) {
  auto got = store_->get_item({}, "alice", "item_x");
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error(), store::errc::not_found);
  auto secret = store_->cursor_secret();
  ASSERT_TRUE(secret);
  EXPECT_EQ(*secret, "secret");
  ASSERT_EQ(sink_.lines.size(), 2U);
  EXPECT_EQ(line(0).at("operation").as_string(), "get_item");
  EXPECT_FALSE(line(0).at("error").as_string().empty());
  EXPECT_EQ(line(1).at("operation").as_string(), "cursor_secret");
}

TEST_F(TimedStoreTest, EveryOperationIsNamed) {
  const core::item item{};
  (void)store_->create_item({}, "o", item);
  (void)store_->replace_item({}, "o", item, 1);
  (void)store_->delete_item({}, "o", "id", 1);
  (void)store_->claim_idempotency({}, "o", "k", {}, 0);
  (void)store_->complete_idempotency({}, "o", "k", "t", "r", 0);
  (void)store_->release_idempotency({}, "o", "k", "t");
  (void)store_->purge_expired(0);
  std::vector<std::string> ops;
  for (std::size_t i = 0; i < sink_.lines.size(); ++i)
    ops.emplace_back(line(i).at("operation").as_string());
  EXPECT_EQ(ops, (std::vector<std::string>{"create_item", "replace_item", "delete_item",
                                           "claim_idempotency", "complete_idempotency",
                                           "release_idempotency", "purge_expired"}));
}

}  // namespace
}  // namespace crud::main
