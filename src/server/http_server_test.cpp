#include "server/http_server.hpp"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>

#include "app/api.hpp"
#include "support/memory_store.hpp"
#include "support/testing_fakes.hpp"

namespace crud::server {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;
using tcp = boost::asio::ip::tcp;
using namespace std::chrono_literals;
using ::testing::HasSubstr;
using ::testing::StartsWith;

// Every wait in these tests is bounded by this, so a broken server fails instead of hanging.
constexpr auto io_deadline = 10s;

class fake_clock : public core::clock {
 public:
  std::int64_t wall_ms() const override { return 784'111'777'000; }
  std::int64_t steady_ns() const override { return 5'000'000'000; }
};

using response = http::response<http::string_body>;

// A small blocking client over loopback; every operation gives up after io_deadline.
class test_client {
 public:
  // `source`: the local address to connect from (any of 127/8 reaches the server).
  explicit test_client(std::uint16_t port, const char* source = nullptr) {
    if (source) {
      stream_.socket().open(tcp::v4());
      stream_.socket().bind(tcp::endpoint(asio::ip::make_address(source), 0));
    }
    ec_ = run([&](auto done) {
      stream_.async_connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port), done);
    });
  }

  bool connected() const { return !ec_; }

  void close() { stream_.close(); }

  boost::system::error_code send(std::string bytes) {
    raw_ = std::move(bytes);
    return run([&](auto done) { asio::async_write(stream_, asio::buffer(raw_), done); });
  }

  // Reads one response; nullopt when the connection failed or closed first.
  std::optional<response> read(bool head_request = false) {
    http::response_parser<http::string_body> parser;
    parser.body_limit(std::uint64_t{16} * 1024 * 1024);
    if (head_request)
      parser.skip(true);
    auto ec = run([&](auto done) { http::async_read(stream_, buffer_, parser, done); });
    if (ec)
      return std::nullopt;
    return parser.release();
  }

  std::optional<response> request(const std::string& bytes, bool head_request = false) {
    if (send(bytes))
      return std::nullopt;
    return read(head_request);
  }

  // Reads raw bytes until `marker` has arrived; returns what came before it (inclusive).
  std::optional<std::string> read_until(std::string_view marker) {
    for (;;) {
      std::string_view have(static_cast<const char*>(buffer_.data().data()), buffer_.size());
      if (auto pos = have.find(marker); pos != std::string_view::npos) {
        std::string out(have.substr(0, pos + marker.size()));
        buffer_.consume(pos + marker.size());
        return out;
      }
      std::size_t n = 0;
      auto ec = run([&](auto done) { stream_.async_read_some(buffer_.prepare(4096), done); }, &n);
      if (ec)
        return std::nullopt;
      buffer_.commit(n);
    }
  }

  // True when the server closes the connection (end of stream or reset) with nothing more
  // to read; false if data arrives or the deadline passes first.
  bool closed_by_peer() {
    if (buffer_.size() > 0)
      return false;
    std::size_t n = 0;
    auto ec = run([&](auto done) { stream_.async_read_some(buffer_.prepare(4096), done); }, &n);
    return ec == asio::error::eof || ec == asio::error::connection_reset;
  }

 private:
  template <class Start>
  boost::system::error_code run(Start start, std::size_t* bytes = nullptr) {
    boost::system::error_code result = asio::error::timed_out;
    stream_.expires_after(io_deadline);
    start([&](boost::system::error_code ec, auto&&... rest) {
      result = ec;
      if constexpr (sizeof...(rest) == 1) {
        if (bytes)
          *bytes = (rest, ...);
      }
    });
    ioc_.restart();
    ioc_.run();
    return result;
  }

  asio::io_context ioc_;
  beast::tcp_stream stream_{ioc_};
  beast::flat_buffer buffer_;
  std::string raw_;
  boost::system::error_code ec_;
};

std::string get(std::string_view target, std::string_view extra_headers = "") {
  return std::string("GET ") + std::string(target) + " HTTP/1.1\r\nHost: localhost\r\n" +
         std::string(extra_headers) + "\r\n";
}

std::string post(std::string_view target, std::string_view body,
                 std::string_view extra_headers = "") {
  return std::string("POST ") + std::string(target) +
         " HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: " +
         std::to_string(body.size()) + "\r\n" + std::string(extra_headers) + "\r\n" +
         std::string(body);
}

std::string echo(const app::request& req) {
  std::string out = req.method + " " + req.path + " |";
  for (const auto& [k, v] : req.query)
    out.append(k).append("=").append(v).append(";");
  out += "| " + req.body;
  return out;
}

// A stand-in for app::api: `handle` echoes the request, `reject` names the error.
struct fake_app final : app::request_handler {
  std::atomic<int> handled{0};
  std::atomic<int> rejected{0};
  std::mutex mutex;
  core::api_error last_error;
  std::function<app::response(const app::request&)> on_handle;

  app::response handle(const app::request& req, const app::transport_hooks&) noexcept override {
    ++handled;
    if (on_handle)
      return on_handle(req);
    app::response res;
    res.status = req.method == "POST" ? 201 : 200;
    res.op = req.method == "POST" ? app::operation::create_item : app::operation::list_items;
    res.request_id = "req-" + std::to_string(handled.load());
    res.headers = {{"Content-Type", "text/plain"},
                   {"X-Request-Id", res.request_id},
                   {"X-Correlation-Id", res.request_id}};
    res.body = echo(req);
    return res;
  }

  app::response reject(const app::request& req, const core::api_error& e) noexcept override {
    ++rejected;
    {
      std::lock_guard lock(mutex);
      last_error = e;
    }
    app::response res;
    res.status = e.http_status();
    res.request_id = "rej-" + std::to_string(rejected.load());
    res.headers = {{"Content-Type", "application/json; charset=utf-8"},
                   {"X-Request-Id", res.request_id},
                   {"X-Correlation-Id", res.request_id}};
    if (e.retry_after_s > 0)
      res.headers.emplace_back("Retry-After", std::to_string(e.retry_after_s));
    res.body = std::string(core::code_name(e.code)) + " " + std::to_string(e.http_status()) + " " +
               req.method + " " + req.path;
    return res;
  }
};

// The real pipeline over an in-memory store, for what the server and the app do together:
// the hooks (rate limit, /health, /metrics) and the standard headers.
struct real_app {
  core::testing::fake_clock clock;
  core::testing::counting_random random;
  struct : app::log_sink {
    void write(std::string_view) override {}
  } log;
  store::memory_store store;
  app::api api{app::api_config{}, app::api_dependencies{store, clock, random, log}};
};

server_config test_config() {
  server_config config;
  config.host = "127.0.0.1";
  config.port = 0;
  config.io_threads = 2;
  config.handler_threads = 4;
  config.handle_signals = false;
  config.rate_limit_rps = 0;
  return config;
}

// A server listening on a free loopback port, run on its own thread.
class running_server {
 public:
  running_server(server_config config, app::request_handler& app)
      : server_(std::move(config), app, clock_) {
    auto port = server_.listen();
    EXPECT_TRUE(port) << (port ? "" : port.error());
    port_ = port ? *port : 0;
    done_ = std::async(std::launch::async, [this] { server_.run(); });
  }
  ~running_server() {
    server_.stop();
    done_.wait();
  }

  std::uint16_t port() const { return port_; }
  http_server& server() { return server_; }
  // True when run() returns within the deadline.
  bool wait_stopped() { return done_.wait_for(io_deadline) == std::future_status::ready; }

 private:
  fake_clock clock_;
  http_server server_;
  std::uint16_t port_ = 0;
  std::future<void> done_;
};

// A store with a writer thread of its own, as the SQLite store has: it runs write jobs there,
// one at a time, and settles each with `commit`. With `give_back`, it has none.
class job_store final : public store::memory_store {
 public:
  boost::system::error_code commit;
  bool give_back = false;
  std::atomic<int> posted{0};
  std::atomic<int> ran_elsewhere{0};  // jobs whose run() was not on the writer thread

  job_store() : thread_([this] { work(); }) {}
  ~job_store() override {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    wake_.notify_one();
    thread_.join();
  }

  std::unique_ptr<store::write_job> post_write_job(std::unique_ptr<store::write_job> job) override {
    ++posted;
    if (give_back)
      return job;
    {
      std::lock_guard lock(mutex_);
      jobs_.push_back(std::move(job));
    }
    wake_.notify_one();
    return nullptr;
  }

 private:
  void work() {
    writer_id_ = std::this_thread::get_id();
    for (;;) {
      std::unique_ptr<store::write_job> job;
      {
        std::unique_lock lock(mutex_);
        wake_.wait(lock, [&] { return stopping_ || !jobs_.empty(); });
        if (jobs_.empty())
          return;
        job = std::move(jobs_.front());
        jobs_.erase(jobs_.begin());
      }
      job->run();
      if (std::this_thread::get_id() != writer_id_)
        ++ran_elsewhere;
      job->settled(commit);
    }
  }

  std::mutex mutex_;
  std::condition_variable wake_;
  std::vector<std::unique_ptr<store::write_job>> jobs_;
  bool stopping_ = false;
  std::thread::id writer_id_;
  std::thread thread_;  // last: it starts once everything above exists
};

server_config with_write_store(job_store& store) {
  server_config config = test_config();
  config.write_store = &store;
  return config;
}

TEST(HttpServer, WritesRunAsJobsOnTheStoresWriterAndReadsDoNot) {
  fake_app app;
  job_store store;
  running_server server(with_write_store(store), app);
  test_client client(server.port());
  ASSERT_TRUE(client.connected());
  auto created = client.request(post("/items", R"({"name":"a"})"));
  ASSERT_TRUE(created);
  EXPECT_EQ(created->result_int(), 201u);
  EXPECT_EQ(created->body(), R"(POST /items || {"name":"a"})");
  EXPECT_EQ(store.posted, 1);
  auto listed = client.request(get("/items"));
  ASSERT_TRUE(listed);
  EXPECT_EQ(listed->result_int(), 200u);
  EXPECT_EQ(store.posted, 1);  // reads stay on the I/O thread
  EXPECT_EQ(store.ran_elsewhere, 0);
}

TEST(HttpServer, AWriteWhoseCommitFailsIsAnsweredWithTheFailure) {
  fake_app app;
  job_store store;
  store.commit = make_error_code(store::errc::unavailable);
  running_server server(with_write_store(store), app);
  test_client client(server.port());
  auto res = client.request(post("/items", R"({"name":"a"})"));
  ASSERT_TRUE(res);
  EXPECT_EQ(res->result_int(), 503u);
  EXPECT_EQ(res->body(), "UNAVAILABLE 503 POST /items");
  EXPECT_EQ((*res)[http::field::retry_after], "1");
  EXPECT_EQ(app.handled, 1);
  EXPECT_TRUE(res->keep_alive());
}

TEST(HttpServer, AJobTheStoreGivesBackRunsOnThePool) {
  fake_app app;
  job_store store;
  store.give_back = true;
  store.commit = make_error_code(store::errc::unavailable);  // never used: the pool settles
  running_server server(with_write_store(store), app);
  test_client client(server.port());
  auto res = client.request(post("/items", R"({"name":"a"})"));
  ASSERT_TRUE(res);
  EXPECT_EQ(res->result_int(), 201u);
  EXPECT_EQ(store.posted, 1);
}

TEST(HttpServer, KeepAliveServesSeveralRequestsOnOneConnection) {
  fake_app app;
  running_server server(test_config(), app);
  test_client client(server.port());
  ASSERT_TRUE(client.connected());
  for (int i = 1; i <= 3; ++i) {
    auto res = client.request(get("/items?n=" + std::to_string(i)));
    ASSERT_TRUE(res) << "request " << i;
    EXPECT_EQ(res->result_int(), 200u);
    EXPECT_EQ(res->body(), "GET /items |n=" + std::to_string(i) + ";| ");
    EXPECT_TRUE(res->keep_alive());
    EXPECT_EQ((*res)[http::field::content_length], std::to_string(res->body().size()));
    EXPECT_EQ((*res)[http::field::date], "Sun, 06 Nov 1994 08:49:37 GMT");
  }
  EXPECT_EQ(app.handled, 3);
}

TEST(HttpServer, PipelinedRequestsAreAnsweredInOrder) {
  fake_app app;
  running_server server(test_config(), app);
  test_client client(server.port());
  ASSERT_FALSE(client.send(get("/first") + post("/second", "{\"n\":2}") + get("/third")));
  auto first = client.read();
  auto second = client.read();
  auto third = client.read();
  ASSERT_TRUE(first && second && third);
  EXPECT_EQ(first->body(), "GET /first || ");
  EXPECT_EQ(second->result_int(), 201u);
  EXPECT_EQ(second->body(), "POST /second || {\"n\":2}");
  EXPECT_EQ(third->body(), "GET /third || ");
}

TEST(HttpServer, BuildsTheAppRequestFromTheTarget) {
  fake_app app;
  app::request seen;
  std::mutex mutex;
  app.on_handle = [&](const app::request& req) {
    std::lock_guard lock(mutex);
    seen = req;
    return app::response{};
  };
  running_server server(test_config(), app);
  test_client client(server.port());
  auto res = client.request(get("/items/a%20b?limit=5&name=x+y&name=%C3%A9", "X-Thing: 1\r\n"));
  ASSERT_TRUE(res);
  std::lock_guard lock(mutex);
  EXPECT_EQ(seen.method, "GET");
  EXPECT_EQ(seen.path, "/items/a b");
  EXPECT_EQ(seen.query, (app::field_list{{"limit", "5"}, {"name", "x y"}, {"name", "\xC3\xA9"}}));
  EXPECT_EQ(seen.header("x-thing"), "1");
  EXPECT_EQ(seen.owner, "public");
  EXPECT_TRUE(seen.request_id.empty());
}

TEST(HttpServer, MalformedTargetGets400ThroughReject) {
  fake_app app;
  running_server server(test_config(), app);
  test_client client(server.port());
  auto res = client.request(get("/items/%zz"));
  ASSERT_TRUE(res);
  EXPECT_EQ(res->result_int(), 400u);
  EXPECT_THAT(res->body(), StartsWith("BAD_REQUEST 400 GET"));
  EXPECT_EQ(app.handled, 0);
  // The request was framed correctly, so the connection carries on.
  auto next = client.request(get("/items"));
  ASSERT_TRUE(next);
  EXPECT_EQ(next->result_int(), 200u);
}

TEST(HttpServer, MalformedRequestLineGets400AndCloses) {
  fake_app app;
  running_server server(test_config(), app);
  test_client client(server.port());
  auto res = client.request("GET /items HTTP/1.1\r\nBad Header\r\n\r\n");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->result_int(), 400u);
  EXPECT_THAT(res->body(), StartsWith("BAD_REQUEST 400 GET /items"));
  EXPECT_FALSE(res->keep_alive());
  EXPECT_TRUE(client.closed_by_peer());
}

TEST(HttpServer, OversizedBodyGets413AndCloses) {
  fake_app app;
  running_server server(test_config(), app);
  test_client client(server.port());
  auto res = client.request(
      post("/items", std::string(64 * 1024 + 1, 'x'), "X-Correlation-Id: big-one\r\n"));
  ASSERT_TRUE(res);
  EXPECT_EQ(res->result_int(), 413u);
  EXPECT_EQ(res->body(), "PAYLOAD_TOO_LARGE 413 POST /items");
  EXPECT_FALSE(res->keep_alive());
  EXPECT_TRUE(client.closed_by_peer());
  EXPECT_EQ(app.handled, 0);
}

TEST(HttpServer, BodyAtTheLimitIsAccepted) {
  fake_app app;
  running_server server(test_config(), app);
  test_client client(server.port());
  auto res = client.request(post("/items", std::string(std::size_t{64} * 1024, 'x')));
  ASSERT_TRUE(res);
  EXPECT_EQ(res->result_int(), 201u);
}

TEST(HttpServer, OversizedChunkedBodyGets413) {
  fake_app app;
  running_server server(test_config(), app);
  test_client client(server.port());
  std::string chunk(std::size_t{40} * 1024, 'y');
  char size[16];
  std::snprintf(size, sizeof size, "%zx", chunk.size());
  std::string req = "POST /items HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n";
  for (int i = 0; i < 2; ++i)
    req += std::string(size) + "\r\n" + chunk + "\r\n";
  req += "0\r\n\r\n";
  auto res = client.request(req);
  ASSERT_TRUE(res);
  EXPECT_EQ(res->result_int(), 413u);
  EXPECT_TRUE(client.closed_by_peer());
}

// A framing the server refuses: 400 through the app's reject, then the connection closes, and
// nothing of it reaches the handler.
void expect_refused_framing(const std::string& raw, std::string_view expected_body) {
  fake_app app;
  running_server server(test_config(), app);
  test_client client(server.port());
  auto res = client.request(raw);
  ASSERT_TRUE(res) << raw;
  EXPECT_EQ(res->result_int(), 400u) << raw;
  EXPECT_EQ(res->body(), expected_body) << raw;
  EXPECT_FALSE(res->keep_alive()) << raw;
  EXPECT_TRUE(client.closed_by_peer()) << raw;
  EXPECT_EQ(app.handled.load(), 0) << raw;
  EXPECT_EQ(app.rejected.load(), 1) << raw;
}

TEST(HttpServer, Http11WithoutExactlyOneHostGets400AndCloses) {
  expect_refused_framing("GET /items HTTP/1.1\r\n\r\n", "BAD_REQUEST 400 GET /items");
  expect_refused_framing("GET /items HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
                         "BAD_REQUEST 400 GET /items");
  // HTTP/1.0 has no Host requirement.
  fake_app app;
  running_server server(test_config(), app);
  test_client client(server.port());
  auto res = client.request("GET /items HTTP/1.0\r\n\r\n");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->result_int(), 200u);
}

TEST(HttpServer, TransferEncodingNotEndingInChunkedGets400AndCloses) {
  // Were "gzip" taken as no body, the body's bytes would be read as a second request: here a
  // smuggled DELETE.
  const std::string smuggled = "DELETE /items/x HTTP/1.1\r\nHost: x\r\n\r\n";
  expect_refused_framing(
      "POST /items HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n" + smuggled,
      "BAD_REQUEST 400 POST /items");
  expect_refused_framing(
      "POST /items HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, gzip"
      "\r\n\r\n" +
          smuggled,
      "BAD_REQUEST 400 POST /items");
  expect_refused_framing(
      "POST /items HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
      "Transfer-Encoding: identity\r\n\r\n" +
          smuggled,
      "BAD_REQUEST 400 POST /items");
}

TEST(HttpServer, TransferEncodingOnHttp10Gets400AndCloses) {
  expect_refused_framing(
      "POST /items HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n",
      "BAD_REQUEST 400 POST /items");
}

TEST(HttpServer, ChunkedAfterOtherCodingsIsStillServed) {
  fake_app app;
  running_server server(test_config(), app);
  test_client client(server.port());
  auto res = client.request(
      "POST /items HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: Chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->result_int(), 201u);
  EXPECT_EQ(res->body(), "POST /items || {}");
}

TEST(HttpServer, ExpectContinueIsAnsweredBeforeTheBody) {
  fake_app app;
  running_server server(test_config(), app);
  test_client client(server.port());
  ASSERT_FALSE(client.send(
      "POST /items HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nExpect: 100-continue\r\n\r\n"));
  auto interim = client.read_until("\r\n\r\n");
  ASSERT_TRUE(interim);
  EXPECT_THAT(*interim, StartsWith("HTTP/1.1 100 Continue"));
  ASSERT_FALSE(client.send("{}"));
  auto res = client.read();
  ASSERT_TRUE(res);
  EXPECT_EQ(res->result_int(), 201u);
  EXPECT_EQ(res->body(), "POST /items || {}");
}

TEST(HttpServer, OversizedHeaderGets431AndCloses) {
  fake_app app;
  running_server server(test_config(), app);
  test_client client(server.port());
  auto res =
      client.request(get("/items", "X-Big: " + std::string(std::size_t{10} * 1024, 'h') + "\r\n"));
  ASSERT_TRUE(res);
  EXPECT_EQ(res->result_int(), 431u);
  EXPECT_EQ(res->body(), "BAD_REQUEST 431 GET /items");
  EXPECT_FALSE(res->keep_alive());
  EXPECT_TRUE(client.closed_by_peer());
  std::lock_guard lock(app.mutex);
  EXPECT_EQ(app.last_error.code, core::error_code::bad_request);
  EXPECT_EQ(app.last_error.status, 431);
}

TEST(HttpServer, HeadGetsTheLengthButNoBody) {
  fake_app app;
  running_server server(test_config(), app);
  test_client client(server.port());
  auto head = client.request("HEAD /items HTTP/1.1\r\nHost: x\r\n\r\n", true);
  ASSERT_TRUE(head);
  EXPECT_EQ(head->result_int(), 200u);
  EXPECT_EQ((*head)[http::field::content_length],
            std::to_string(std::string("HEAD /items || ").size()));
  EXPECT_TRUE(head->body().empty());
  // Had a body been sent, it would be read as the next response's start.
  auto next = client.request(get("/after"));
  ASSERT_TRUE(next);
  EXPECT_EQ(next->body(), "GET /after || ");
}

TEST(HttpServer, HealthIsAnsweredThroughThePipeline) {
  real_app app;
  running_server server(test_config(), app.api);
  test_client client(server.port());
  auto res = client.request(get("/health", "X-Correlation-Id: probe-7\r\n"));
  ASSERT_TRUE(res);
  EXPECT_EQ(res->result_int(), 200u);
  EXPECT_EQ(res->body(), R"({"status":"ok"})");
  EXPECT_EQ((*res)[http::field::content_type], "application/json; charset=utf-8");
  EXPECT_EQ((*res)["X-Correlation-Id"], "probe-7");
  EXPECT_EQ((*res)["X-Request-Id"].size(), 36u);
  auto head = client.request("HEAD /health HTTP/1.1\r\nHost: x\r\n\r\n", true);
  ASSERT_TRUE(head);
  EXPECT_EQ(head->result_int(), 200u);
  EXPECT_TRUE(head->body().empty());
}

TEST(HttpServer, MetricsCountTheRequestsMade) {
  real_app app;
  running_server server(test_config(), app.api);
  test_client client(server.port());
  for (int i = 0; i < 3; ++i)
    ASSERT_TRUE(client.request(get("/items")));
  ASSERT_TRUE(client.request(post("/items", R"({"name":"n"})")));
  auto res = client.request(get("/metrics"));
  ASSERT_TRUE(res);
  EXPECT_EQ(res->result_int(), 200u);
  EXPECT_EQ((*res)[http::field::content_type], "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_FALSE((*res)["X-Request-Id"].empty());
  EXPECT_FALSE((*res)["X-Correlation-Id"].empty());
  const std::string& text = res->body();
  EXPECT_THAT(text,
              HasSubstr("crud_http_requests_total{operation=\"LIST_ITEMS\",status=\"200\"} 3\n"));
  EXPECT_THAT(text,
              HasSubstr("crud_http_requests_total{operation=\"CREATE_ITEM\",status=\"201\"} 1\n"));
  EXPECT_THAT(text,
              HasSubstr("crud_http_request_duration_seconds_count{operation=\"LIST_ITEMS\"} 3\n"));
  EXPECT_THAT(text, HasSubstr("\ncrud_http_requests_in_flight 1\n"));  // this very request
  EXPECT_THAT(text, HasSubstr("\ncrud_connections_open 1\n"));
  EXPECT_THAT(text, HasSubstr("\ncrud_rate_limited_total 0\n"));
}

TEST(HttpServer, OtherMethodsOnMetricsGet405WithAllow) {
  real_app app;
  running_server server(test_config(), app.api);
  test_client client(server.port());
  auto res = client.request(post("/metrics", "{}"));
  ASSERT_TRUE(res);
  EXPECT_EQ(res->result_int(), 405u);
  EXPECT_EQ((*res)[http::field::allow], "GET, HEAD");
  EXPECT_THAT(res->body(), HasSubstr(R"("code":"METHOD_NOT_ALLOWED")"));
  EXPECT_FALSE((*res)["X-Request-Id"].empty());
  auto del = client.request("DELETE /health HTTP/1.1\r\nHost: x\r\n\r\n");
  ASSERT_TRUE(del);
  EXPECT_EQ(del->result_int(), 405u);
  EXPECT_EQ((*del)[http::field::allow], "GET, HEAD");
}

TEST(HttpServer, RateLimitAnswers429WithRetryAfter) {
  real_app app;
  server_config config = test_config();
  config.rate_limit_rps = 0.5;  // the fake clock stands still: no refill
  config.rate_limit_burst = 2;
  running_server server(config, app.api);
  test_client client(server.port());
  EXPECT_EQ(client.request(get("/items"))->result_int(), 200u);
  EXPECT_EQ(client.request(get("/items"))->result_int(), 200u);
  auto limited = client.request(get("/items"));
  ASSERT_TRUE(limited);
  EXPECT_EQ(limited->result_int(), 429u);
  EXPECT_EQ((*limited)[http::field::retry_after], "2");
  EXPECT_THAT(limited->body(), HasSubstr(R"("code":"RATE_LIMITED")"));
  EXPECT_TRUE(limited->keep_alive());
}

TEST(HttpServer, IdleKeepAliveConnectionIsClosed) {
  fake_app app;
  server_config config = test_config();
  config.idle_timeout = 200ms;
  running_server server(config, app);
  test_client client(server.port());
  auto res = client.request(get("/items"));
  ASSERT_TRUE(res);
  EXPECT_TRUE(res->keep_alive());
  EXPECT_TRUE(client.closed_by_peer());
}

// The idle timer is armed once and moved lazily: when it fires on a connection that was busy
// since, it must wait out the rest of the newer deadline rather than close.
TEST(HttpServer, AConnectionInUseOutlivesItsFirstIdleDeadline) {
  fake_app app;
  server_config config = test_config();
  config.idle_timeout = 300ms;
  running_server server(config, app);
  test_client client(server.port());
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < 10; ++i) {  // about 1 s in all: past three first deadlines
    auto res = client.request(get("/items"));
    ASSERT_TRUE(res) << "request " << i;
    EXPECT_EQ(res->result_int(), 200u);
    std::this_thread::sleep_for(100ms);
  }
  EXPECT_GT(std::chrono::steady_clock::now() - start, 900ms);
  EXPECT_TRUE(client.closed_by_peer());  // and once idle, it still closes
}

// A request that arrives while the last one is still handled off the I/O thread finds no read
// waiting for it: it stays in the socket, and is read and answered after the last response.
TEST(HttpServer, ARequestSentDuringAWriteIsReadAfterIt) {
  fake_app app;
  app.on_handle = [](const app::request& req) {
    if (req.method == "POST")
      std::this_thread::sleep_for(300ms);
    app::response res;
    res.status = req.method == "POST" ? 201 : 200;
    res.headers = {{"Content-Type", "text/plain"}};
    res.body = req.method;
    return res;
  };
  running_server server(test_config(), app);
  test_client client(server.port());
  ASSERT_TRUE(client.request(get("/items")));  // its read left the socket empty
  ASSERT_FALSE(client.send(post("/items", "{}")));
  std::this_thread::sleep_for(100ms);  // the POST is read alone and is being handled
  ASSERT_FALSE(client.send(get("/items")));
  auto created = client.read();
  ASSERT_TRUE(created);
  EXPECT_EQ(created->result_int(), 201u);
  auto got = client.read();
  ASSERT_TRUE(got);
  EXPECT_EQ(got->result_int(), 200u);
  EXPECT_EQ(got->body(), "GET");
}

// Most responses are written at once; one larger than the socket's send buffer is written in
// part at once and the rest as the client reads, under the write timeout.
TEST(HttpServer, AResponseLargerThanTheSendBufferArrivesWhole) {
  fake_app app;
  std::string big(std::size_t{12} * 1024 * 1024, '\0');
  for (std::size_t i = 0; i < big.size(); ++i)
    big[i] = static_cast<char>('a' + (i * 7 + i / 4096) % 26);
  app.on_handle = [&big](const app::request&) {
    app::response res;
    res.status = 200;
    res.headers = {{"Content-Type", "text/plain"}};
    res.body = big;
    return res;
  };
  running_server server(test_config(), app);
  test_client client(server.port());
  for (int i = 0; i < 2; ++i) {  // and the connection goes on after it
    auto res = client.request(get("/big"));
    ASSERT_TRUE(res);
    EXPECT_EQ(res->result_int(), 200u);
    ASSERT_EQ(res->body().size(), big.size());
    EXPECT_TRUE(res->body() == big);
  }
}

TEST(HttpServer, IncompleteHeaderTimesOut) {
  fake_app app;
  server_config config = test_config();
  config.header_timeout = 200ms;
  running_server server(config, app);
  test_client client(server.port());
  ASSERT_FALSE(client.send("GET /items HTTP/1.1\r\nHost: x\r\n"));
  EXPECT_TRUE(client.closed_by_peer());
  EXPECT_EQ(app.handled, 0);
}

TEST(HttpServer, ConnectionCloseIsHonoured) {
  fake_app app;
  running_server server(test_config(), app);
  test_client client(server.port());
  auto res = client.request(get("/items", "Connection: close\r\n"));
  ASSERT_TRUE(res);
  EXPECT_FALSE(res->keep_alive());
  EXPECT_TRUE(client.closed_by_peer());
}

TEST(HttpServer, ConnectionsBeyondTheCapAreClosed) {
  fake_app app;
  server_config config = test_config();
  config.max_connections = 1;
  running_server server(config, app);
  test_client first(server.port());
  ASSERT_TRUE(first.request(get("/items")));  // the first connection is surely accepted
  test_client second(server.port());
  EXPECT_TRUE(second.closed_by_peer());
  auto still = first.request(get("/items"));
  ASSERT_TRUE(still);
  EXPECT_EQ(still->result_int(), 200u);
}

TEST(HttpServer, ListenReportsAnAddressInUse) {
  fake_app app;
  running_server first(test_config(), app);
  server_config config = test_config();
  config.port = first.port();
  fake_clock clock;
  http_server second(config, app, clock);
  auto port = second.listen();
  ASSERT_FALSE(port);
  EXPECT_EQ(port.error(), "cannot listen on 127.0.0.1:" + std::to_string(first.port()) +
                              ": Address already in use");
}

TEST(HttpServer, ListenRejectsABadHost) {
  fake_app app;
  server_config config = test_config();
  config.host = "no-such-host.invalid";
  fake_clock clock;
  http_server server(config, app, clock);
  auto port = server.listen();
  ASSERT_FALSE(port);
  EXPECT_THAT(port.error(), StartsWith("cannot listen on no-such-host.invalid:0: "));
}

TEST(HttpServer, GracefulStopFinishesTheRequestInFlight) {
  fake_app app;
  std::promise<void> entered;
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  app.on_handle = [&](const app::request& req) {
    app::response res;
    if (req.path == "/slow") {
      entered.set_value();
      released.wait();
    }
    res.status = 201;
    res.op = app::operation::create_item;
    res.body = "done " + req.path;
    return res;
  };
  running_server server(test_config(), app);
  test_client idle(server.port());
  ASSERT_TRUE(idle.request(get("/warm-up")));
  test_client slow(server.port());
  ASSERT_FALSE(slow.send(post("/slow", "{}")));
  ASSERT_EQ(entered.get_future().wait_for(io_deadline), std::future_status::ready);

  server.server().stop();
  // The idle keep-alive connection goes at once, while the slow request is still running.
  EXPECT_TRUE(idle.closed_by_peer());
  // No new connections are accepted.
  test_client late(server.port());
  EXPECT_TRUE(!late.connected() || late.closed_by_peer());

  release.set_value();
  auto res = slow.read();
  ASSERT_TRUE(res);
  EXPECT_EQ(res->result_int(), 201u);
  EXPECT_EQ(res->body(), "done /slow");
  EXPECT_FALSE(res->keep_alive());
  EXPECT_TRUE(slow.closed_by_peer());
  slow.close();  // as a client does on end of stream; the server need not wait for it
  EXPECT_TRUE(server.wait_stopped());
}

TEST(HttpServer, GraceExpiryForceClosesStragglers) {
  fake_app app;
  std::promise<void> entered;
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  app.on_handle = [&](const app::request&) {
    entered.set_value();
    released.wait();
    return app::response{};
  };
  server_config config = test_config();
  config.shutdown_grace = 100ms;
  running_server server(config, app);
  test_client stuck(server.port());
  ASSERT_FALSE(stuck.send(post("/items", "{}")));
  ASSERT_EQ(entered.get_future().wait_for(io_deadline), std::future_status::ready);
  server.server().stop();
  // Closed without a response, while the handler is still blocked.
  EXPECT_TRUE(stuck.closed_by_peer());
  release.set_value();
  EXPECT_TRUE(server.wait_stopped());
}

TEST(HttpServer, StopBeforeRunReturnsPromptly) {
  fake_app app;
  fake_clock clock;
  http_server server(test_config(), app, clock);
  ASSERT_TRUE(server.listen());
  server.stop();
  auto done = std::async(std::launch::async, [&] { server.run(); });
  EXPECT_EQ(done.wait_for(io_deadline), std::future_status::ready);
}

TEST(HttpServer, EveryRunsItsTaskUntilStop) {
  fake_app app;
  std::atomic<int> runs{0};
  std::promise<void> twice;
  running_server server(test_config(), app);
  server.server().every(5ms, [&] {
    if (++runs == 2)
      twice.set_value();
  });
  ASSERT_EQ(twice.get_future().wait_for(io_deadline), std::future_status::ready);
  server.server().stop();
  EXPECT_TRUE(server.wait_stopped());
  EXPECT_GE(runs.load(), 2);
}

TEST(HttpServer, ConnectionsBeyondThePerClientCapAreClosed) {
  fake_app app;
  server_config config = test_config();
  config.max_connections_per_client = 2;
  running_server server(config, app);
  auto first = std::make_unique<test_client>(server.port());
  test_client second(server.port());
  ASSERT_TRUE(first->request(get("/items")));  // both surely accepted
  ASSERT_TRUE(second.request(get("/items")));
  test_client third(server.port());
  EXPECT_TRUE(third.closed_by_peer());
  // Another address has a cap of its own.
  test_client elsewhere(server.port(), "127.0.0.2");
  auto res = elsewhere.request(get("/items"));
  ASSERT_TRUE(res);
  EXPECT_EQ(res->result_int(), 200u);

  // A closed connection gives its place back, once the server has seen it go.
  first.reset();
  bool admitted = false;
  const auto give_up = std::chrono::steady_clock::now() + io_deadline;
  while (!admitted && std::chrono::steady_clock::now() < give_up) {
    test_client again(server.port());
    admitted = again.request(get("/items")).has_value();
    if (!admitted)
      std::this_thread::sleep_for(20ms);
  }
  EXPECT_TRUE(admitted);
}

TEST(HttpServer, ACrowdedServerWaitsLessForARequest) {
  fake_app app;
  server_config config = test_config();
  config.max_connections = 10;
  config.idle_timeout = 60s;
  config.header_timeout = 60s;
  config.crowded_timeout = 300ms;
  running_server server(config, app);
  std::vector<std::unique_ptr<test_client>> settled;
  for (int i = 0; i < 8; ++i) {  // 80%: not yet crowded
    settled.push_back(std::make_unique<test_client>(server.port()));
    ASSERT_TRUE(settled.back()->request(get("/items")));
  }
  const auto start = std::chrono::steady_clock::now();
  test_client silent(server.port());  // sends nothing
  test_client slow(server.port());    // starts a header and stalls
  ASSERT_FALSE(slow.send("GET /items HTTP/1.1\r\nHost: x\r\n"));
  EXPECT_TRUE(silent.closed_by_peer());
  EXPECT_TRUE(slow.closed_by_peer());
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
  // The connections that came in before the crowd keep their keep-alive.
  auto res = settled.front()->request(get("/items"));
  ASSERT_TRUE(res);
  EXPECT_EQ(res->result_int(), 200u);
}

}  // namespace
}  // namespace crud::server
