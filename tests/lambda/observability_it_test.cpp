// Observability of the built binary as it runs in Lambda, on a DynamoDB table (a dynalite the
// test starts): the CloudWatch EMF document each invocation writes to stdout beside its log
// line, and the X-Ray subsegments its DynamoDB calls send over UDP to the daemon address, which
// here is a socket the test listens on. The Runtime API stand-in hands each invocation its
// trace id (Lambda-Runtime-Trace-Id), as Lambda does.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <array>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <chrono>
#include <cstdio>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "support/child_process.hpp"
#include "support/dynamodb_engine.hpp"
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
using namespace std::chrono_literals;

constexpr auto step_timeout = 30s;
constexpr auto exit_timeout = 20s;
constexpr std::string_view table = "obs_items";
constexpr std::string_view metrics_namespace = "ObsTest/Api";
constexpr std::string_view service = "obs-svc";

struct trace {
  std::string root;
  std::string parent;
  bool sampled = true;

  std::string header() const {
    return "Root=" + root + ";Parent=" + parent + ";Sampled=" + (sampled ? "1" : "0");
  }
};

trace make_trace(unsigned n, bool sampled) {
  std::array<char, 64> root{};
  std::array<char, 32> parent{};
  std::snprintf(root.data(), root.size(), "1-6790a1b2-%024x", n * 2654435761U);
  std::snprintf(parent.data(), parent.size(), "%016x", n + 0xa000U);
  return {root.data(), parent.data(), sampled};
}

// The X-Ray daemon's stand-in: a UDP socket on loopback that keeps what it receives.
class udp_listener {
 public:
  udp_listener() {
    fd_ = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd_ < 0)
      throw std::runtime_error("socket");
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0)
      throw std::runtime_error("bind");
    port_ = ntohs(addr.sin_port);
  }
  ~udp_listener() { ::close(fd_); }
  udp_listener(const udp_listener&) = delete;
  udp_listener& operator=(const udp_listener&) = delete;

  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }

  // Everything received so far. The binary sends each subsegment before it answers the
  // invocation, and loopback UDP is delivered at once, so once the answers are in, so are the
  // datagrams; the short wait only guards against a slow scheduler.
  std::vector<std::string> drain() {
    std::vector<std::string> out;
    std::vector<char> buf(65536);
    for (;;) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, out.empty() ? 200 : 50) != 1)
        return out;
      ssize_t n = ::recv(fd_, buf.data(), buf.size(), 0);
      if (n < 0)
        return out;
      out.emplace_back(buf.data(), static_cast<std::size_t>(n));
    }
  }

 private:
  int fd_ = -1;
  std::uint16_t port_ = 0;
};

std::string str(const json::value& v, std::string_view key) {
  const json::object* o = v.if_object();
  if (o == nullptr || !o->contains(key) || !o->at(key).is_string())
    return {};
  return std::string(o->at(key).get_string());
}

// The EMF documents among a stream of JSON lines.
std::vector<json::object> emf_documents(const std::string& text) {
  std::vector<json::object> docs;
  for (const std::string& line : lines_of(text)) {
    boost::system::error_code ec;
    json::value v = json::parse(line, ec);
    if (!ec && v.is_object() && v.as_object().contains("_aws"))
      docs.push_back(std::move(v.as_object()));
  }
  return docs;
}

std::set<std::string> declared_metrics(const json::object& doc) {
  std::set<std::string> names;
  const json::object& directive =
      doc.at("_aws").at("CloudWatchMetrics").as_array().at(0).as_object();
  for (const auto& m : directive.at("Metrics").as_array())
    names.emplace(m.at("Name").as_string());
  return names;
}

// Checks what every document must have, and that each declared metric has its value.
void expect_emf_shape(const json::object& doc) {
  const std::string text = json::serialize(doc);
  const json::object& aws = doc.at("_aws").as_object();
  ASSERT_TRUE(aws.contains("Timestamp") && aws.at("Timestamp").is_int64()) << text;
  EXPECT_GT(aws.at("Timestamp").as_int64(), 1'600'000'000'000) << "epoch ms: " << text;
  const json::array& directives = aws.at("CloudWatchMetrics").as_array();
  ASSERT_EQ(directives.size(), 1u) << text;
  EXPECT_EQ(str(directives[0], "Namespace"), metrics_namespace) << text;
  EXPECT_EQ(json::serialize(directives[0].at("Dimensions")), R"([["service","operation"]])");
  EXPECT_EQ(str(doc, "service"), service) << text;
  EXPECT_FALSE(str(doc, "operation").empty()) << text;
  for (const std::string& name : declared_metrics(doc)) {
    ASSERT_TRUE(doc.contains(name)) << name << " declared without a value: " << text;
    EXPECT_TRUE(doc.at(name).is_number()) << text;
  }
  EXPECT_TRUE(declared_metrics(doc).contains("Latency")) << text;
  EXPECT_TRUE(declared_metrics(doc).contains("Errors")) << text;
  EXPECT_GE(doc.at("Latency").to_number<double>(), 0) << text;
  EXPECT_EQ(doc.at("Errors").to_number<int>(), 0) << text;
}

struct subsegment {
  json::object doc;
  std::string operation;
};

// Parses a datagram: the daemon's header line, then one subsegment document.
std::optional<subsegment> parse_datagram(const std::string& d) {
  const auto newline = d.find('\n');
  EXPECT_NE(newline, std::string::npos) << d;
  if (newline == std::string::npos)
    return std::nullopt;
  EXPECT_EQ(d.substr(0, newline), R"({"format": "json", "version": 1})");
  boost::system::error_code ec;
  json::value v = json::parse(d.substr(newline + 1), ec);
  EXPECT_FALSE(ec) << d;
  if (ec || !v.is_object())
    return std::nullopt;
  subsegment s{std::move(v.as_object()), {}};
  s.operation = str(s.doc.at("aws"), "operation");
  return s;
}

class LambdaObservability : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(engine_.running()) << engine_.error();
    spawn_options init;
    init.args = {"init"};
    init.env = store_env();
    const run_result r = run_to_end(init, 60s);
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }

  env_list store_env() const { return engine_.crud_env(table); }

  env_list observability_env() const {
    env_list env = store_env();
    env.emplace_back("AWS_XRAY_DAEMON_ADDRESS", daemon_.address());
    env.emplace_back("POWERTOOLS_METRICS_NAMESPACE", std::string(metrics_namespace));
    env.emplace_back("POWERTOOLS_SERVICE_NAME", std::string(service));
    return env;
  }

  std::unique_ptr<child_process> start_runtime(const runtime_stand_in& stand_in) {
    spawn_options opts;
    opts.args = {"lambda"};
    opts.env = observability_env();
    opts.env.emplace_back("AWS_LAMBDA_RUNTIME_API", stand_in.endpoint());
    opts.env.emplace_back("AWS_LAMBDA_FUNCTION_NAME", "crud-api-obs");
    opts.env.emplace_back("LAMBDA_TASK_ROOT", dir_.path().string());
    return std::make_unique<child_process>(opts);
  }

  static void expect_clean_exit(child_process& child) {
    std::optional<int> code = child.wait_for(exit_timeout);
    ASSERT_TRUE(code.has_value()) << "the runtime did not exit by itself";
    EXPECT_LT(*code, 128) << child.stderr_text();
    for (const char* report : {"AddressSanitizer", "LeakSanitizer", "runtime error:"})
      EXPECT_EQ(child.stderr_text().find(report), std::string::npos) << child.stderr_text();
  }

  static std::string created_id(const runtime_post& post) {
    parsed_response parsed = parse_proxy_response(post.body);
    EXPECT_TRUE(parsed.response.has_value()) << parsed.error;
    if (!parsed.response)
      return {};
    EXPECT_EQ(parsed.response->status, 201) << post.body;
    const json::value& body = parsed.response->body;
    return body.is_object() && body.as_object().contains("data") ? str(body.at("data"), "id")
                                                                 : std::string();
  }

  temp_dir dir_;
  test_support::dynamodb_engine_process engine_;
  udp_listener daemon_;
};

api_call create_call(const std::string& name) {
  api_call post{.method = "POST", .path = "/items"};
  post.headers = {{"Content-Type", "application/json"}};
  post.body = json::serialize(json::object{{"name", name}});
  return post;
}

TEST_F(LambdaObservability, WritesEmfAndTracesSampledDynamoDbCalls) {
  runtime_stand_in stand_in(runtime_stand_in::when_empty::hold);
  const trace create_trace = make_trace(1, true);
  const trace read_trace = make_trace(2, true);
  const trace list_trace = make_trace(3, false);
  stand_in.enqueue({{"obs-1", create_trace.header(), http_v2_event(create_call("traced"))}});
  std::unique_ptr<child_process> child = start_runtime(stand_in);
  ASSERT_TRUE(stand_in.wait_idle(1, step_timeout)) << child->stderr_text();
  const std::string id = created_id(stand_in.posts().at(0));
  ASSERT_FALSE(id.empty());

  stand_in.enqueue({
      {"obs-2", read_trace.header(), http_v2_event({.method = "GET", .path = "/items/" + id})},
      {"obs-3", list_trace.header(), http_v2_event({.method = "GET", .path = "/items"})},
      {"obs-4", "", http_v2_event({.method = "DELETE", .path = "/items/" + id})},
  });
  ASSERT_TRUE(stand_in.wait_idle(4, step_timeout)) << child->stderr_text();
  stand_in.finish();
  expect_clean_exit(*child);
  ASSERT_EQ(stand_in.posts().size(), 4u);

  // EMF: one document per invocation, in order, after that invocation's log line.
  const std::string out = child->stdout_text();
  std::vector<json::object> docs = emf_documents(out);
  ASSERT_EQ(docs.size(), 4u) << out;
  for (const json::object& doc : docs)
    expect_emf_shape(doc);
  const std::vector<std::string> operations = {"CREATE_ITEM", "GET_ITEM", "LIST_ITEMS",
                                               "DELETE_ITEM"};
  for (std::size_t i = 0; i < docs.size(); ++i)
    EXPECT_EQ(str(docs[i], "operation"), operations[i]) << json::serialize(docs[i]);
  EXPECT_TRUE(declared_metrics(docs[0]).contains("ColdStart"));
  EXPECT_EQ(docs[0].at("ColdStart").to_number<int>(), 1);
  for (std::size_t i = 1; i < docs.size(); ++i) {
    EXPECT_FALSE(docs[i].contains("ColdStart")) << "only the first invocation is cold";
    EXPECT_FALSE(declared_metrics(docs[i]).contains("ColdStart"));
  }
  EXPECT_EQ(docs[0].at("ItemsCreated").to_number<int>(), 1);
  EXPECT_EQ(docs[3].at("ItemsDeleted").to_number<int>(), 1);
  for (std::size_t i = 1; i < 3; ++i)
    EXPECT_EQ(declared_metrics(docs[i]), (std::set<std::string>{"Latency", "Errors"}));
  const std::vector<std::string> lines = lines_of(out);
  const auto first_emf = out.find("\"_aws\"");
  const auto first_log = out.find("\"requestId\":\"obs-1\"");
  ASSERT_NE(first_log, std::string::npos) << out;
  EXPECT_LT(first_log, first_emf) << "the log line comes first";
  EXPECT_EQ(lines.size(), 8u) << "one log line and one EMF line per invocation:\n" << out;

  // X-Ray: subsegments for the sampled invocations only, under their own trace and parent.
  std::vector<std::string> datagrams = daemon_.drain();
  ASSERT_FALSE(datagrams.empty()) << child->stderr_text();
  std::map<std::string, std::multiset<std::string>> operations_by_root;
  std::set<std::string> ids;
  for (const std::string& d : datagrams) {
    std::optional<subsegment> s = parse_datagram(d);
    ASSERT_TRUE(s.has_value()) << d;
    const json::object& doc = s->doc;
    const std::string root = str(doc, "trace_id");
    EXPECT_EQ(str(doc, "type"), "subsegment") << d;
    EXPECT_EQ(str(doc, "name"), "DynamoDB") << d;
    EXPECT_EQ(str(doc, "namespace"), "aws") << d;
    const std::string sid = str(doc, "id");
    EXPECT_EQ(sid.size(), 16u) << d;
    EXPECT_EQ(sid.find_first_not_of("0123456789abcdef"), std::string::npos) << d;
    ids.insert(sid);
    ASSERT_TRUE(root == create_trace.root || root == read_trace.root)
        << "a subsegment for an unsampled or untraced invocation: " << d;
    const trace& t = root == create_trace.root ? create_trace : read_trace;
    EXPECT_EQ(str(doc, "parent_id"), t.parent) << d;
    ASSERT_TRUE(doc.at("start_time").is_number() && doc.at("end_time").is_number()) << d;
    const double start = doc.at("start_time").to_number<double>();
    EXPECT_GT(start, 1.6e9) << "epoch seconds: " << d;
    EXPECT_LE(start, doc.at("end_time").to_number<double>()) << d;
    const json::object& aws = doc.at("aws").as_object();
    EXPECT_EQ(str(aws, "table_name"), table) << d;
    EXPECT_EQ(str(aws, "region"), "us-east-1") << d;
    EXPECT_EQ(aws.at("retries").to_number<int>(), 0) << d;
    EXPECT_EQ(doc.at("http").at("response").at("status").to_number<int>(), 200) << d;
    EXPECT_FALSE(doc.contains("fault") || doc.contains("error") || doc.contains("throttle")) << d;
    operations_by_root[root].insert(s->operation);
  }
  EXPECT_EQ(ids.size(), datagrams.size()) << "every subsegment has its own id";
  EXPECT_TRUE(operations_by_root[create_trace.root].contains("PutItem"));
  EXPECT_TRUE(operations_by_root[read_trace.root].contains("GetItem"));
  EXPECT_FALSE(operations_by_root[read_trace.root].contains("PutItem")) << "a read writes nothing";
}

TEST_F(LambdaObservability, SendsNothingWhenNotSampled) {
  runtime_stand_in stand_in;  // 500 once the queue is empty: the runtime exits by itself
  stand_in.enqueue({
      {"quiet-1", make_trace(7, false).header(), http_v2_event(create_call("unsampled"))},
      {"quiet-2", make_trace(8, false).header(),
       http_v2_event({.method = "GET", .path = "/items"})},
      {"quiet-3", "", http_v2_event(create_call("untraced"))},
  });
  std::unique_ptr<child_process> child = start_runtime(stand_in);
  expect_clean_exit(*child);
  ASSERT_EQ(stand_in.posts().size(), 3u) << child->stderr_text();
  EXPECT_EQ(created_id(stand_in.posts()[0]).empty(), false);

  EXPECT_TRUE(daemon_.drain().empty()) << "no subsegment without Sampled=1";
  std::vector<json::object> docs = emf_documents(child->stdout_text());
  ASSERT_EQ(docs.size(), 3u) << child->stdout_text();
  EXPECT_EQ(docs[0].at("ColdStart").to_number<int>(), 1);
  EXPECT_EQ(docs[0].at("ItemsCreated").to_number<int>(), 1);
  EXPECT_EQ(docs[2].at("ItemsCreated").to_number<int>(), 1);
  EXPECT_FALSE(docs[2].contains("ColdStart"));
}

TEST_F(LambdaObservability, InvokeActsAsOneColdInvocation) {
  const trace t = make_trace(9, true);
  spawn_options opts;
  opts.args = {"invoke", "--event", "-"};
  opts.env = observability_env();
  opts.env.emplace_back("_X_AMZN_TRACE_ID", t.header());
  opts.stdin_text = http_v2_event(create_call("invoked"));
  const run_result r = run_to_end(opts);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(lines_of(r.out).size(), 1u) << "stdout holds only the response:\n" << r.out;

  // stdout is the response, so the metrics go with the logs, to stderr.
  std::vector<json::object> docs = emf_documents(r.err);
  ASSERT_EQ(docs.size(), 1u) << r.err;
  expect_emf_shape(docs[0]);
  EXPECT_EQ(str(docs[0], "operation"), "CREATE_ITEM");
  EXPECT_EQ(docs[0].at("ColdStart").to_number<int>(), 1);
  EXPECT_EQ(docs[0].at("ItemsCreated").to_number<int>(), 1);

  std::vector<std::string> datagrams = daemon_.drain();
  ASSERT_FALSE(datagrams.empty()) << r.err;
  bool put = false;
  for (const std::string& d : datagrams) {
    std::optional<subsegment> s = parse_datagram(d);
    ASSERT_TRUE(s.has_value());
    EXPECT_EQ(str(s->doc, "trace_id"), t.root) << d;
    EXPECT_EQ(str(s->doc, "parent_id"), t.parent) << d;
    put = put || s->operation == "PutItem";
  }
  EXPECT_TRUE(put) << "the create's PutItem is traced";
}

TEST_F(LambdaObservability, ABadNamespaceFailsAtStartUp) {
  spawn_options opts;
  opts.args = {"invoke", "--event", "-"};
  opts.env = observability_env();
  std::erase_if(opts.env, [](const auto& e) { return e.first == "POWERTOOLS_METRICS_NAMESPACE"; });
  opts.env.emplace_back("POWERTOOLS_METRICS_NAMESPACE", "AWS/Reserved");
  opts.stdin_text = http_v2_event({.method = "GET", .path = "/items"});
  const run_result r = run_to_end(opts);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("POWERTOOLS_METRICS_NAMESPACE"), std::string::npos) << r.err;
  EXPECT_TRUE(r.out.empty()) << r.out;
}

}  // namespace
}  // namespace crud::lambda_it
