// The built binary as an AWS Lambda custom runtime, against a Runtime API stand-in served by the
// test on loopback: started as `crud-api lambda`, and as a copy named `bootstrap` started with no
// subcommand (the environment alone makes it a runtime, as on provided.al2023). The SQLite store
// backs it, so real CRUD requests run through the loop.

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "support/child_process.hpp"
#include "support/it_store.hpp"
#include "support/proxy_events.hpp"
#include "support/runtime_stand_in.hpp"
#include "support/temp_dir.hpp"

namespace crud::lambda_it {
namespace {

// The shared test support, by the names the tests use.
using test_support::child_process;
using test_support::crud_api_binary;
using test_support::env_list;
using test_support::lines_of;
using test_support::resident_kib;
using test_support::run_result;
using test_support::run_to_end;
using test_support::spawn_options;
using test_support::temp_dir;

namespace json = boost::json;
namespace fs = std::filesystem;
using namespace std::chrono_literals;

// Generous for a sanitizer build on a shared machine; a healthy run takes a fraction of this.
constexpr auto step_timeout = 30s;
constexpr auto exit_timeout = 20s;

enum class launch { lambda_subcommand, bootstrap_copy };

void PrintTo(launch how, std::ostream* os) {
  *os << (how == launch::lambda_subcommand ? "crud-api lambda" : "bootstrap, no subcommand");
}

std::string trace_id(int n) {
  char buf[128];
  std::snprintf(buf, sizeof buf, "Root=1-6790a1b2-%024x;Parent=%016x;Sampled=1",
                static_cast<unsigned>(n) * 2654435761u, static_cast<unsigned>(n) + 0x1000u);
  return buf;
}

std::string request_id(const std::string& label, int n) {
  char buf[96];
  std::snprintf(buf, sizeof buf, "%08x-%s-4000-8000-%012d", static_cast<unsigned>(n) * 7919u,
                label.c_str(), n);
  return buf;
}

std::string str(const json::value& v, std::string_view key) {
  const json::object* o = v.if_object();
  if (o == nullptr || !o->contains(key) || !o->at(key).is_string())
    return {};
  return std::string(o->at(key).get_string());
}

const json::value& data_of(const proxy_response& r) {
  static const json::value null;
  const json::object* o = r.body.if_object();
  return o != nullptr && o->contains("data") ? o->at("data") : null;
}

proxy_response response_of(const runtime_post& post) {
  parsed_response parsed = parse_proxy_response(post.body);
  EXPECT_TRUE(parsed.response.has_value()) << parsed.error;
  return parsed.response.value_or(proxy_response{});
}

// The per-request JSON log lines among the process's stdout lines.
std::vector<json::object> access_lines(const std::string& out) {
  std::vector<json::object> lines;
  for (const std::string& line : lines_of(out)) {
    boost::system::error_code ec;
    json::value v = json::parse(line, ec);
    EXPECT_FALSE(ec) << "stdout line is not JSON: " << line;
    // EMF metric documents carry `operation` too, as a dimension; they have `_aws`.
    if (!ec && v.is_object() && v.as_object().contains("operation") &&
        !v.as_object().contains("_aws"))
      lines.push_back(std::move(v.as_object()));
  }
  return lines;
}

// The body of /error and /init/error: {"errorMessage","errorType","stackTrace":[]}, with
// errorType equal to the Lambda-Runtime-Function-Error-Type header.
void expect_error_body(const runtime_post& post) {
  EXPECT_FALSE(post.error_type.empty()) << "no Lambda-Runtime-Function-Error-Type header";
  boost::system::error_code ec;
  json::value body = json::parse(post.body, ec);
  ASSERT_FALSE(ec) << post.body;
  ASSERT_TRUE(body.is_object()) << post.body;
  EXPECT_FALSE(str(body, "errorMessage").empty()) << post.body;
  EXPECT_EQ(str(body, "errorType"), post.error_type) << post.body;
  ASSERT_TRUE(body.as_object().contains("stackTrace")) << post.body;
  EXPECT_TRUE(body.at("stackTrace").is_array()) << post.body;
}

// Every post answered the invocation that was outstanding, under that invocation's id.
void expect_answers_match(const std::vector<runtime_post>& posts) {
  for (std::size_t i = 0; i < posts.size(); ++i) {
    if (posts[i].kind == post_kind::init_error)
      continue;
    EXPECT_FALSE(posts[i].outstanding.empty()) << "post " << i << " answers no invocation";
    EXPECT_EQ(posts[i].request_id, posts[i].outstanding) << "post " << i;
  }
}

// One run of the binary as a Lambda runtime against `stand_in`.
class runtime_process {
 public:
  enum class store_state : std::uint8_t { usable, unopenable };

  runtime_process(launch how, const runtime_stand_in& stand_in, const env_list& extra = {},
                  store_state state = store_state::usable)
      : store_(dir_.path()) {
    spawn_options opts;
    opts.env = {{"AWS_LAMBDA_RUNTIME_API", stand_in.endpoint()},
                {"AWS_LAMBDA_FUNCTION_NAME", "crud-api-it"},
                {"AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128"},
                {"AWS_REGION", "us-east-1"},
                {"LAMBDA_TASK_ROOT", dir_.path().string()}};
    env_list store_env = store_.env();
    if (state == store_state::unopenable) {
      const env_list broken = store_.unopenable();
      store_env.insert(store_env.end(), broken.begin(), broken.end());
    }
    for (const auto& [name, value] : store_env) {
      std::erase_if(opts.env, [&](const auto& e) { return e.first == name; });
      opts.env.emplace_back(name, value);
    }
    for (const auto& [name, value] : extra) {
      std::erase_if(opts.env, [&](const auto& e) { return e.first == name; });
      opts.env.emplace_back(name, value);
    }
    if (how == launch::bootstrap_copy) {
      opts.executable = dir_.path() / "bootstrap";
      fs::copy_file(crud_api_binary(), opts.executable);
      fs::permissions(opts.executable, fs::perms::owner_all, fs::perm_options::add);
    } else {
      opts.args = {"lambda"};
    }
    child_ = std::make_unique<child_process>(opts);
  }

  child_process& child() { return *child_; }
  const fs::path& dir() const { return dir_.path(); }

  // Waits for the process to end by itself; records a failure if it does not, or if it ended
  // by a signal or with a sanitizer report.
  std::optional<int> expect_exit() {
    std::optional<int> code = child_->wait_for(exit_timeout);
    EXPECT_TRUE(code.has_value()) << "the runtime did not exit by itself";
    if (!code) {
      child_->signal(SIGKILL);
      child_->wait_for(10s);
      return std::nullopt;
    }
    EXPECT_LT(*code, 128) << "ended by signal " << *code - 128 << "\n" << child_->stderr_text();
    const std::string err = child_->stderr_text();
    for (const char* report : {"AddressSanitizer", "LeakSanitizer", "runtime error:"})
      EXPECT_EQ(err.find(report), std::string::npos) << err;
    return code;
  }

 private:
  temp_dir dir_;
  it_store store_;
  std::unique_ptr<child_process> child_;
};

class RuntimeLoop : public ::testing::TestWithParam<launch> {};

TEST_P(RuntimeLoop, AnswersEachInvocationUnderItsRequestId) {
  runtime_stand_in stand_in(runtime_stand_in::when_empty::hold);
  api_call post{.method = "POST", .path = "/items", .apigw_request_id = "apigw-create"};
  post.headers = {{"Content-Type", "application/json"}};
  post.body = R"({"name":"through the loop"})";
  const std::string create_id = request_id("create", 1);
  stand_in.enqueue({{create_id, trace_id(1), http_v2_event(post)}});

  runtime_process run(GetParam(), stand_in);
  ASSERT_TRUE(stand_in.wait_idle(1, step_timeout)) << run.child().stderr_text();
  std::vector<runtime_post> posts = stand_in.posts();
  ASSERT_EQ(posts.size(), 1u);
  ASSERT_EQ(posts[0].kind, post_kind::response) << posts[0].body;
  EXPECT_EQ(posts[0].request_id, create_id);
  proxy_response created = response_of(posts[0]);
  ASSERT_EQ(created.status, 201) << posts[0].body;
  const std::string item = str(data_of(created), "id");
  ASSERT_FALSE(item.empty());
  EXPECT_EQ(created.header("location").value_or(""), "/dev/items/" + item) << "v2: lower case";
  EXPECT_TRUE(created.whole.contains("cookies"));

  // The second invocation reads what the first created, through the same process.
  const std::string read_id = request_id("read", 2);
  api_call get{.method = "GET", .path = "/items/" + item, .apigw_request_id = "apigw-read"};
  stand_in.enqueue({{read_id, trace_id(2), rest_v1_event(get)}});
  ASSERT_TRUE(stand_in.wait_idle(2, step_timeout)) << run.child().stderr_text();
  stand_in.finish();
  run.expect_exit();

  posts = stand_in.posts();
  ASSERT_EQ(posts.size(), 2u);
  expect_answers_match(posts);
  ASSERT_EQ(posts[1].kind, post_kind::response) << posts[1].body;
  EXPECT_EQ(posts[1].request_id, read_id);
  proxy_response read = response_of(posts[1]);
  EXPECT_EQ(read.status, 200) << posts[1].body;
  EXPECT_EQ(str(data_of(read), "id"), item);
  EXPECT_EQ(str(data_of(read), "name"), "through the loop");
  EXPECT_TRUE(read.whole.contains("multiValueHeaders")) << "v1 shape for a v1 event";
  EXPECT_TRUE(stand_in.unexpected().empty());

  // One log line per invocation, under the Lambda request id, with API Gateway's request id
  // as the correlation id since the client sent none.
  std::vector<json::object> logs = access_lines(run.child().stdout_text());
  ASSERT_EQ(logs.size(), 2u) << run.child().stdout_text();
  EXPECT_EQ(str(logs[0], "requestId"), create_id);
  EXPECT_EQ(str(logs[0], "operation"), "CREATE_ITEM");
  EXPECT_EQ(str(logs[0], "correlationId"), "apigw-create");
  EXPECT_EQ(str(logs[1], "requestId"), read_id);
  EXPECT_EQ(str(logs[1], "operation"), "GET_ITEM");
  EXPECT_EQ(str(logs[1], "correlationId"), "apigw-read");
  EXPECT_EQ(read.header_any_case("X-Request-Id").value_or(""), read_id);
}

TEST_P(RuntimeLoop, SetsTheTraceIdForEachInvocation) {
  runtime_stand_in stand_in;  // 500 once the queue is empty: the runtime exits by itself
  std::vector<queued_event> events;
  for (int i = 0; i < 4; ++i) {
    api_call list{.method = "GET", .path = "/items", .query = {{"limit", "1"}}};
    events.push_back({request_id("trace", i), trace_id(i), http_v2_event(list)});
  }
  // The last one comes without a trace id: the previous one must not linger.
  events.push_back(
      {request_id("trace", 4), "", http_v2_event({.method = "GET", .path = "/items"})});
  const std::vector<queued_event> sent = events;
  stand_in.enqueue(std::move(events));

  runtime_process run(GetParam(), stand_in);
  run.expect_exit();
  EXPECT_EQ(stand_in.posts().size(), sent.size()) << run.child().stderr_text();
  expect_answers_match(stand_in.posts());

  std::vector<json::object> logs = access_lines(run.child().stdout_text());
  ASSERT_EQ(logs.size(), sent.size()) << run.child().stdout_text();
  for (std::size_t i = 0; i < sent.size(); ++i) {
    EXPECT_EQ(str(logs[i], "requestId"), sent[i].request_id);
    if (sent[i].trace_id.empty()) {
      EXPECT_FALSE(logs[i].contains("xray_trace_id") && !str(logs[i], "xray_trace_id").empty())
          << "a trace id outlived its invocation: " << json::serialize(logs[i]);
    } else {
      EXPECT_EQ(str(logs[i], "xray_trace_id"), sent[i].trace_id) << json::serialize(logs[i]);
    }
  }
  EXPECT_NE(sent[0].trace_id, sent[1].trace_id);
}

TEST_P(RuntimeLoop, HandlerFailureGoesToErrorAndTheLoopGoesOn) {
  runtime_stand_in stand_in;
  api_call post{.method = "POST", .path = "/items"};
  post.headers = {{"Content-Type", "application/json"}};
  post.body = R"({"name":"after the failures"})";
  const std::vector<queued_event> sent = {
      {request_id("ok", 0), trace_id(0), http_v2_event({.method = "GET", .path = "/items"})},
      {request_id("array", 1), trace_id(1), "[1,2]"},
      {request_id("string", 2), trace_id(2), "\"x\""},
      {request_id("garbage", 3), trace_id(3), "this is not JSON"},
      {request_id("ok", 4), trace_id(4), rest_v1_event(post)},
  };
  stand_in.enqueue(sent);

  runtime_process run(GetParam(), stand_in);
  run.expect_exit();
  std::vector<runtime_post> posts = stand_in.posts();
  ASSERT_EQ(posts.size(), sent.size()) << run.child().stderr_text();
  expect_answers_match(posts);
  for (std::size_t i = 0; i < sent.size(); ++i)
    EXPECT_EQ(posts[i].request_id, sent[i].request_id) << i;

  EXPECT_EQ(posts[0].kind, post_kind::response);
  EXPECT_EQ(response_of(posts[0]).status, 200);
  for (std::size_t i : {1u, 2u, 3u}) {
    EXPECT_EQ(posts[i].kind, post_kind::error) << "payload " << sent[i].payload;
    expect_error_body(posts[i]);
  }
  ASSERT_EQ(posts[4].kind, post_kind::response) << posts[4].body;
  EXPECT_EQ(response_of(posts[4]).status, 201) << posts[4].body;
  EXPECT_TRUE(stand_in.unexpected().empty());
}

TEST_P(RuntimeLoop, BadHandlerSettingIsAnInitError) {
  runtime_stand_in stand_in;
  stand_in.enqueue(
      {{request_id("never", 0), trace_id(0), http_v2_event({.method = "GET", .path = "/items"})}});
  runtime_process run(GetParam(), stand_in, {{"_HANDLER", "bogus"}});
  std::optional<int> code = run.expect_exit();
  ASSERT_TRUE(code.has_value());
  EXPECT_NE(*code, 0);

  std::vector<runtime_post> posts = stand_in.posts();
  ASSERT_EQ(posts.size(), 1u) << run.child().stderr_text();
  EXPECT_EQ(posts[0].kind, post_kind::init_error);
  expect_error_body(posts[0]);
  EXPECT_NE(posts[0].body.find("bogus"), std::string::npos) << "the message names the value";
  EXPECT_EQ(stand_in.next_requests(), 0u) << "no invocation after a failed init";
  EXPECT_FALSE(run.child().stderr_text().empty());
}

TEST_P(RuntimeLoop, BadOptionIsAnInitErrorAndExitsTwo) {
  // CONTRACT §1: a bad option or configuration fails with exit code 2, "in `lambda`, after
  // posting it to the Runtime API's /init/error".
  runtime_stand_in stand_in;
  stand_in.enqueue(
      {{request_id("never", 0), trace_id(0), http_v2_event({.method = "GET", .path = "/items"})}});
  runtime_process run(GetParam(), stand_in, {{"CRUD_STORE", "bogus"}});
  std::optional<int> code = run.expect_exit();
  ASSERT_TRUE(code.has_value());
  EXPECT_EQ(*code, 2);

  std::vector<runtime_post> posts = stand_in.posts();
  ASSERT_EQ(posts.size(), 1u) << run.child().stderr_text();
  EXPECT_EQ(posts[0].kind, post_kind::init_error);
  expect_error_body(posts[0]);
  EXPECT_NE(posts[0].body.find("bogus"), std::string::npos) << "the message names the value";
  EXPECT_EQ(stand_in.next_requests(), 0u) << "no invocation after a failed init";
}

TEST_P(RuntimeLoop, UnopenableStoreIsAnInitError) {
  runtime_stand_in stand_in;
  stand_in.enqueue(
      {{request_id("never", 0), trace_id(0), http_v2_event({.method = "GET", .path = "/items"})}});
  runtime_process run(GetParam(), stand_in, {}, runtime_process::store_state::unopenable);
  std::optional<int> code = run.expect_exit();
  ASSERT_TRUE(code.has_value());
  EXPECT_NE(*code, 0);

  std::vector<runtime_post> posts = stand_in.posts();
  ASSERT_EQ(posts.size(), 1u) << run.child().stderr_text();
  EXPECT_EQ(posts[0].kind, post_kind::init_error);
  expect_error_body(posts[0]);
  EXPECT_EQ(stand_in.next_requests(), 0u) << "no invocation after a failed init";
}

TEST_P(RuntimeLoop, ReadFunctionAnswers405ForOtherOperations) {
  runtime_stand_in stand_in;
  api_call post{.method = "POST", .path = "/items"};
  post.headers = {{"Content-Type", "application/json"}};
  post.body = R"({"name":"not here"})";
  const std::vector<queued_event> sent = {
      {request_id("post", 0), trace_id(0), rest_v1_event(post)},
      {request_id("delete", 1), trace_id(1),
       http_v2_event({.method = "DELETE", .path = "/items/item_01ARZ3NDEKTSV4RRFFQ69G5FAV"})},
      {request_id("list", 2), trace_id(2), http_v2_event({.method = "GET", .path = "/items"})},
  };
  stand_in.enqueue(sent);
  runtime_process run(GetParam(), stand_in, {{"_HANDLER", "read"}});
  run.expect_exit();

  std::vector<runtime_post> posts = stand_in.posts();
  ASSERT_EQ(posts.size(), sent.size()) << run.child().stderr_text();
  expect_answers_match(posts);
  for (std::size_t i : {0u, 1u}) {
    ASSERT_EQ(posts[i].kind, post_kind::response);
    proxy_response r = response_of(posts[i]);
    EXPECT_EQ(r.status, 405) << posts[i].body;
    EXPECT_EQ(str(r.body.is_object() && r.body.as_object().contains("error") ? r.body.at("error")
                                                                             : json::value(),
                  "code"),
              "METHOD_NOT_ALLOWED")
        << posts[i].body;
  }
  ASSERT_EQ(posts[2].kind, post_kind::response);
  EXPECT_EQ(response_of(posts[2]).status, 200) << posts[2].body;
}

INSTANTIATE_TEST_SUITE_P(Launch, RuntimeLoop,
                         ::testing::Values(launch::lambda_subcommand, launch::bootstrap_copy),
                         [](const ::testing::TestParamInfo<launch>& info) {
                           return info.param == launch::lambda_subcommand
                                      ? std::string("LambdaSubcommand")
                                      : std::string("BootstrapNoSubcommand");
                         });

// A mix of every kind of invocation: creates, lists, misses, and now and then a payload that
// is not an event (an invocation error).
queued_event soak_event(int n) {
  api_call call;
  call.apigw_request_id = "apigw-" + std::to_string(n);
  switch (n % 4) {
    case 0:
      call.method = "POST";
      call.headers = {{"Content-Type", "application/json"}};
      call.body = R"({"name":"soak )" + std::to_string(n) + R"(","description":"memory"})";
      return {request_id("soak", n), trace_id(n), http_v2_event(call)};
    case 1:
      call.query = {{"limit", "5"}};
      return {request_id("soak", n), trace_id(n), rest_v1_event(call)};
    case 2:
      call.path = "/items/item_01ARZ3NDEKTSV4RRFFQ69G5FAV";
      return {request_id("soak", n), trace_id(n), http_v2_event(call)};
    default:
      if (n % 20 == 3)
        return {request_id("soak", n), trace_id(n), "[1,2]"};
      call.method = "PATCH";
      call.path = "/items/item_01ARZ3NDEKTSV4RRFFQ69G5FAV";
      call.headers = {{"Content-Type", "application/merge-patch+json"}};
      call.body = R"({"description":"x"})";
      return {request_id("soak", n), trace_id(n), rest_v1_event(call)};
  }
}

TEST(RuntimeLoopSoak, MemoryStaysFlatOverAThousandInvocations) {
  constexpr int warm_up = 100;
  constexpr int total = 1000;
  runtime_stand_in stand_in(runtime_stand_in::when_empty::hold);
  auto batch = [](int from, int to) {
    std::vector<queued_event> events;
    for (int n = from; n < to; ++n)
      events.push_back(soak_event(n));
    return events;
  };
  stand_in.enqueue(batch(0, warm_up));
  env_list env;
#if defined(__SANITIZE_ADDRESS__)
  // AddressSanitizer parks freed memory in a quarantine of up to 256 MB, so resident memory
  // climbs with every allocation whether or not anything leaks. Without the quarantine RSS
  // means what it means in production; leaks are LeakSanitizer's job at exit (expect_exit).
  const char* asan = std::getenv("ASAN_OPTIONS");  // NOLINT(concurrency-mt-unsafe)
  env.emplace_back("ASAN_OPTIONS", std::string(asan != nullptr ? asan : "") +
                                       ":quarantine_size_mb=0:thread_local_quarantine_size_kb=0");
#endif
  runtime_process run(launch::lambda_subcommand, stand_in, env);

  // Sampled while the runtime waits in `next`, between invocations.
  ASSERT_TRUE(stand_in.wait_idle(warm_up, 60s)) << run.child().stderr_text();
  std::optional<long> after_warm_up = resident_kib(run.child().pid());
  stand_in.enqueue(batch(warm_up, total));
  ASSERT_TRUE(stand_in.wait_idle(total, 120s)) << run.child().stderr_text();
  std::optional<long> after_all = resident_kib(run.child().pid());
  stand_in.finish();
  run.expect_exit();

  ASSERT_TRUE(after_warm_up && after_all);
  RecordProperty("rss_kib_after_100", std::to_string(*after_warm_up));
  RecordProperty("rss_kib_after_1000", std::to_string(*after_all));
  std::printf("VmRSS: %ld KiB after %d invocations, %ld KiB after %d\n", *after_warm_up, warm_up,
              *after_all, total);
  EXPECT_LT(static_cast<double>(*after_all), static_cast<double>(*after_warm_up) * 1.10)
      << "VmRSS " << *after_warm_up << " KiB after " << warm_up << " invocations, " << *after_all
      << " KiB after " << total;

  // One keep-alive connection serves the whole run (the final 500 closes it).
  EXPECT_EQ(stand_in.connections(), 1u);
  EXPECT_TRUE(stand_in.unexpected().empty());

  std::vector<runtime_post> posts = stand_in.posts();
  ASSERT_EQ(posts.size(), static_cast<std::size_t>(total));
  expect_answers_match(posts);
  int non_events = 0;
  for (int n = 0; n < total; ++n)
    non_events += soak_event(n).payload == "[1,2]" ? 1 : 0;
  ASSERT_GT(non_events, 0);
  int errors = 0;
  int created = 0;
  for (int n = 0; n < total; ++n) {
    const runtime_post& p = posts[static_cast<std::size_t>(n)];
    if (p.kind == post_kind::error) {
      ++errors;
      continue;
    }
    if (n % 4 == 0 && response_of(p).status == 201)
      ++created;
  }
  EXPECT_EQ(errors, non_events) << "each non-event payload, and only those, is an error";
  EXPECT_EQ(created, total / 4);
  EXPECT_EQ(access_lines(run.child().stdout_text()).size(),
            static_cast<std::size_t>(total - errors));
}

}  // namespace
}  // namespace crud::lambda_it
