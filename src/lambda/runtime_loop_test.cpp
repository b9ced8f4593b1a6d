#include "lambda/runtime_loop.hpp"

#include <gtest/gtest.h>

#include <deque>
#include <stdexcept>
#include <vector>

namespace crud::lambda {
namespace {

struct posted {
  std::string kind;  // "response", "error"
  std::string request_id;
  std::string body_or_type;
};

class fake_runtime final : public runtime_api {
 public:
  std::deque<runtime_result<invocation>> queue;
  std::vector<posted> posts;
  runtime_failure fail_post{"", false};
  bool fail_posts = false;

  runtime_result<invocation> next() override {
    if (queue.empty())
      return runtime_failure{"no more", true};
    auto r = std::move(queue.front());
    queue.pop_front();
    return r;
  }
  runtime_result<void> post_response(const std::string& id, const std::string& body) override {
    posts.push_back({"response", id, body});
    if (fail_posts)
      return fail_post;
    return {};
  }
  runtime_result<void> post_error(const std::string& id, const std::string& type,
                                  const std::string&) override {
    posts.push_back({"error", id, type});
    return {};
  }
  runtime_result<void> post_init_error(const std::string&, const std::string&) override {
    return {};
  }
};

invocation make(std::string id, std::string payload = "{}") {
  invocation inv;
  inv.request_id = std::move(id);
  inv.payload = std::move(payload);
  return inv;
}

TEST(RuntimeLoop, PostsEachResponseToItsRequestId) {
  fake_runtime rt;
  rt.queue.push_back(make("a", "1"));
  rt.queue.push_back(make("b", "2"));
  auto reason =
      run_loop(rt, [](const invocation& inv) { return handler_result{"echo " + inv.payload}; });
  EXPECT_NE(reason.find("no more"), std::string::npos);
  ASSERT_EQ(rt.posts.size(), 2U);
  EXPECT_EQ(rt.posts[0].request_id, "a");
  EXPECT_EQ(rt.posts[0].body_or_type, "echo 1");
  EXPECT_EQ(rt.posts[1].request_id, "b");
}

TEST(RuntimeLoop, HandlerFailuresGoToErrorAndTheLoopGoesOn) {
  fake_runtime rt;
  rt.queue.push_back(make("a"));
  rt.queue.push_back(make("b"));
  rt.queue.push_back(make("c"));
  int calls = 0;
  run_loop(rt, [&](const invocation& inv) -> handler_result {
    ++calls;
    if (inv.request_id == "a")
      throw std::runtime_error("boom");
    if (inv.request_id == "b")
      return handler_error{"InvalidEvent", "not an event"};
    return handler_result{"ok"};
  });
  EXPECT_EQ(calls, 3);
  ASSERT_EQ(rt.posts.size(), 3U);
  EXPECT_EQ(rt.posts[0].kind, "error");
  EXPECT_EQ(rt.posts[0].body_or_type, "Runtime.HandlerException");
  EXPECT_EQ(rt.posts[1].kind, "error");
  EXPECT_EQ(rt.posts[1].body_or_type, "InvalidEvent");
  EXPECT_EQ(rt.posts[2].kind, "response");
}

TEST(RuntimeLoop, RetriesNextBrieflyThenGivesUp) {
  fake_runtime rt;
  rt.queue.push_back(runtime_failure{"refused", false});
  rt.queue.push_back(make("a"));
  rt.queue.push_back(runtime_failure{"refused", false});
  rt.queue.push_back(runtime_failure{"refused", false});
  rt.queue.push_back(runtime_failure{"refused", false});
  rt.queue.push_back(make("never"));
  int sleeps = 0;
  loop_hooks hooks;
  hooks.sleep = [&](std::chrono::milliseconds) { ++sleeps; };
  auto reason = run_loop(
      rt, [](const invocation&) { return handler_result{"ok"}; }, hooks);
  EXPECT_NE(reason.find("refused"), std::string::npos);
  ASSERT_EQ(rt.posts.size(), 1U);
  EXPECT_EQ(rt.posts[0].request_id, "a");
  EXPECT_EQ(sleeps, 3);  // one before "a", two before giving up
}

TEST(RuntimeLoop, ContainerErrorEndsTheLoopAtOnce) {
  fake_runtime rt;
  rt.queue.push_back(make("a"));
  rt.queue.push_back(make("b"));
  rt.fail_posts = true;
  rt.fail_post = runtime_failure{"500 container error", true};
  auto reason = run_loop(rt, [](const invocation&) { return handler_result{"ok"}; });
  EXPECT_NE(reason.find("container error"), std::string::npos);
  EXPECT_EQ(rt.posts.size(), 1U);
}

TEST(RuntimeLoop, RefusedPostDoesNotEndTheLoop) {
  fake_runtime rt;
  rt.queue.push_back(make("a"));
  rt.queue.push_back(make("b"));
  rt.fail_posts = true;
  rt.fail_post = runtime_failure{"413 too large", false};
  run_loop(rt, [](const invocation&) { return handler_result{"ok"}; });
  EXPECT_EQ(rt.posts.size(), 2U);
}

TEST(RuntimeLoop, HooksWrapEachInvocation) {
  fake_runtime rt;
  rt.queue.push_back(make("a"));
  std::vector<std::string> events;
  loop_hooks hooks;
  hooks.before = [&](const invocation& inv) { events.push_back("before " + inv.request_id); };
  hooks.after = [&](const invocation& inv) { events.push_back("after " + inv.request_id); };
  run_loop(
      rt,
      [&](const invocation&) {
        events.push_back("handle");
        return handler_result{"ok"};
      },
      hooks);
  EXPECT_EQ(events, (std::vector<std::string>{"before a", "handle", "after a"}));
}

TEST(RuntimeLoop, ErrorBodyShape) {
  EXPECT_EQ(error_body("T", "m\"x"), R"({"errorMessage":"m\"x","errorType":"T","stackTrace":[]})");
}

}  // namespace
}  // namespace crud::lambda
