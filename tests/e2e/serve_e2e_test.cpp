// `crud-api serve` as an operator sees it: /health, /metrics, the per-request log line, CORS,
// rate limiting, start-up and shutdown, and configuration errors.

#include <algorithm>
#include <atomic>
#include <boost/json.hpp>
#include <cctype>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "support/child_process.hpp"
#include "support/contract_checks.hpp"
#include "support/server_fixture.hpp"
#include "support/sqlite_file.hpp"
#include "support/temp_dir.hpp"

namespace crud::e2e {
namespace {

namespace json = boost::json;

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

bool contains_ci(const std::string& haystack, const std::string& needle) {
  return lower(haystack).find(lower(needle)) != std::string::npos;
}

json::object parse_object(std::string_view line) {
  boost::system::error_code ec;
  auto v = json::parse(line, ec);
  return !ec && v.is_object() ? v.get_object() : json::object();
}

// The log line for the request whose X-Request-Id is `request_id`, waiting briefly for it.
json::object log_line_for(const server_process& server, const std::string& request_id) {
  const auto matches = [&](std::string_view line) {
    return string_at(parse_object(line), "requestId") == request_id;
  };
  if (!server.wait_for_line(matches, std::chrono::seconds(5))) {
    return {};
  }
  json::object found;
  int count = 0;
  for (const auto& line : server.lines()) {
    if (matches(line)) {
      found = parse_object(line);
      ++count;
    }
  }
  EXPECT_EQ(count, 1) << "log lines for request " << request_id;
  return found;
}

// The value of the Prometheus sample of `metric` whose labels include every one of `labels`.
double sample(const std::string& text, const std::string& metric,
              const std::vector<std::string>& labels) {
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(metric + "{", 0) != 0) {
      continue;
    }
    const auto close = line.find('}');
    if (close == std::string::npos) {
      continue;
    }
    const auto label_text = line.substr(0, close);
    if (std::all_of(labels.begin(), labels.end(), [&](const std::string& l) {
          return label_text.find(l) != std::string::npos;
        })) {
      return std::stod(line.substr(close + 1));
    }
  }
  return -1;
}

class ServeE2e : public server_fixture {};

TEST_F(ServeE2e, HealthAnswersOk) {
  const auto res = client().get("/health");
  EXPECT_EQ(res.status, 200) << describe(res);
  EXPECT_TRUE(has_contract_headers(res));
  EXPECT_EQ(json_of(res), (json::object{{"status", "ok"}}));
}

TEST_F(ServeE2e, MetricsCountRequestsByOperationAndStatus) {
  create_item("one");
  create_item("two");
  ASSERT_EQ(client().get("/items/item_01ARZ3NDEKTSV4RRFFQ69G5FAV").status, 404);
  ASSERT_EQ(client().get("/items").status, 200);

  const auto res = client().get("/metrics");
  ASSERT_EQ(res.status, 200) << describe(res);
  EXPECT_EQ(res.header("Content-Type").value_or(""), "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_TRUE(res.header("X-Request-Id").has_value());
  EXPECT_EQ(sample(res.body, "crud_http_requests_total",
                   {R"(operation="CREATE_ITEM")", R"(status="201")"}),
            2)
      << res.body;
  EXPECT_EQ(
      sample(res.body, "crud_http_requests_total", {R"(operation="GET_ITEM")", R"(status="404")"}),
      1)
      << res.body;
  EXPECT_EQ(sample(res.body, "crud_http_requests_total",
                   {R"(operation="LIST_ITEMS")", R"(status="200")"}),
            1)
      << res.body;
  EXPECT_TRUE(std::regex_search(res.body, std::regex(R"((^|\n)# TYPE \w+ histogram\n)")))
      << res.body;
  EXPECT_TRUE(
      std::regex_search(res.body, std::regex(R"((^|\n)\w+_bucket\{[^}]*le="\+Inf"[^}]*\} \d+)")))
      << res.body;
  EXPECT_TRUE(std::regex_search(res.body, std::regex(R"((^|\n)# TYPE \w*in_flight\w* gauge\n)")))
      << res.body;
}

TEST_F(ServeE2e, EachRequestWritesOneJsonLogLineWithoutTheBody) {
  const std::string secret_name = "zebra-secret-name-7f3a";
  const std::string secret_description = "quokka-secret-description-91c2";
  const header_list correlated{{"X-Correlation-Id", "corr-log-1"}};
  const auto created = client().post(
      "/items",
      R"({"name":")" + secret_name + R"(","description":")" + secret_description + R"("})",
      correlated);
  ASSERT_TRUE(is_success(created, 201));
  const auto id = string_at(data_of(created), "id");
  const auto path = item_path(id);

  struct expectation {
    http_response res;
    std::string operation;
    std::string item_id;
  };
  std::vector<expectation> expected{
      {created, "CREATE_ITEM", id},
      {client().get(path, correlated), "GET_ITEM", id},
      {client().get("/items", correlated), "LIST_ITEMS", ""},
      {client().put(path, R"({"name":")" + secret_name + R"(2"})", correlated), "UPDATE_ITEM", id},
      {client().patch(path, R"({"description":")" + secret_description + R"(2"})", correlated),
       "PATCH_ITEM", id},
      {client().del(path + "?mode=soft", correlated), "DELETE_ITEM", id},
      {client().post(path + "/restore", "", correlated), "RESTORE_ITEM", id},
      {client().get(item_path("item_01ARZ3NDEKTSV4RRFFQ69G5FAV"), correlated), "GET_ITEM", ""},
      // Refused by the transport before routing, yet logged the same way.
      {client().post("/items",
                     R"({"name":")" + secret_name + R"(","description":")" +
                         std::string(70000, 'x') + R"("})",
                     correlated),
       "", ""},
  };
  static const std::regex timestamp(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z)");
  for (const auto& e : expected) {
    SCOPED_TRACE(e.operation + " " + std::to_string(e.res.status));
    const auto request_id = e.res.header("X-Request-Id").value_or("");
    ASSERT_FALSE(request_id.empty());
    const auto line = log_line_for(server(), request_id);
    ASSERT_FALSE(line.empty()) << "no log line for " << request_id;
    EXPECT_TRUE(std::regex_match(string_at(line, "timestamp"), timestamp)) << json::serialize(line);
    EXPECT_FALSE(string_at(line, "level").empty());
    EXPECT_EQ(string_at(line, "service"), "serverless-crud-api");
    EXPECT_EQ(string_at(line, "correlationId"), "corr-log-1");
    if (!e.operation.empty()) {
      EXPECT_EQ(string_at(line, "operation"), e.operation);
    }
    EXPECT_EQ(string_at(line, "userId"), "public");
    ASSERT_TRUE(line.contains("duration") && line.at("duration").is_number())
        << json::serialize(line);
    EXPECT_GE(line.at("duration").to_number<double>(), 0.0);
    EXPECT_EQ(int_at(line, "statusCode"), e.res.status);
    EXPECT_FALSE(string_at(line, "message").empty());
    ASSERT_TRUE(line.contains("metadata") && line.at("metadata").is_object())
        << json::serialize(line);
    const auto& metadata = line.at("metadata").get_object();
    if (!e.item_id.empty()) {
      EXPECT_EQ(string_at(metadata, "itemId"), e.item_id);
    }
    // The store's name for the table: `--table` on DynamoDB; for SQLite it names the file.
    if (on_dynamodb()) {
      EXPECT_EQ(string_at(metadata, "tableName"), "items") << json::serialize(line);
    } else {
      EXPECT_FALSE(string_at(metadata, "tableName").empty()) << json::serialize(line);
    }
  }
  for (const auto& line : server().lines()) {
    EXPECT_EQ(line.find("secret"), std::string::npos) << "a body leaked into the log: " << line;
  }
}

TEST_F(ServeE2e, ServiceNameComesFromTheFlag) {
  restart({"--service-name", "inventory-api"});
  const auto res = client().get("/items");
  const auto line = log_line_for(server(), res.header("X-Request-Id").value_or(""));
  EXPECT_EQ(string_at(line, "service"), "inventory-api");
}

TEST_F(ServeE2e, FlagsBeatEnvironmentVariables) {
  // server_process passes --port 0 itself: an unusable PORT must not matter.
  restart(
      {"--delete-mode", "hard", "--cors-origin", "https://flag.example"},
      {{"DELETE_MODE", "soft"}, {"CORS_ALLOW_ORIGIN", "https://env.example"}, {"PORT", "99999"}});
  const auto item = create_item("flag");
  const auto res = client().del(item_path(item), {{"Origin", "https://flag.example"}});
  EXPECT_EQ(string_at(data_of(res), "deleted"), "hard") << describe(res);
  EXPECT_EQ(res.header("Access-Control-Allow-Origin").value_or(""), "https://flag.example");
}

TEST_F(ServeE2e, ListeningLineNamesHostAndPort) {
  const auto lines = server().lines();
  const auto listening = std::find_if(lines.begin(), lines.end(), [](const std::string& l) {
    return string_at(parse_object(l), "message") == "listening";
  });
  ASSERT_NE(listening, lines.end());
  const auto obj = parse_object(*listening);
  EXPECT_EQ(string_at(obj, "host"), "127.0.0.1");
  EXPECT_EQ(int_at(obj, "port"), static_cast<std::int64_t>(server().port()));
}

TEST_F(ServeE2e, NoCorsHeadersUnlessConfigured) {
  const header_list origin{{"Origin", "https://example.com"}};
  const auto res = client().get("/items", origin);
  EXPECT_EQ(res.status, 200);
  EXPECT_FALSE(res.header("Access-Control-Allow-Origin").has_value());
  const auto preflight = client().send(
      http_request{"OPTIONS",
                   "/items",
                   {{"Origin", "https://example.com"}, {"Access-Control-Request-Method", "POST"}},
                   std::nullopt});
  EXPECT_NE(preflight.status, 0);
  EXPECT_FALSE(preflight.header("Access-Control-Allow-Origin").has_value());
}

TEST_F(ServeE2e, CorsOriginIsAllowedAndPreflightAnswered) {
  restart({"--cors-origin", "https://example.com"});
  const header_list origin{{"Origin", "https://example.com"}};
  for (const auto& res :
       {client().get("/items", origin), client().post("/items", R"({"name":"cors"})", origin),
        client().get("/nope", origin)}) {
    SCOPED_TRACE(describe(res));
    EXPECT_EQ(res.header("Access-Control-Allow-Origin").value_or(""), "https://example.com");
  }
  const auto preflight = client().send(
      http_request{"OPTIONS",
                   "/items",
                   {{"Origin", "https://example.com"},
                    {"Access-Control-Request-Method", "POST"},
                    {"Access-Control-Request-Headers", "content-type,idempotency-key"}},
                   std::nullopt});
  EXPECT_EQ(preflight.status, 204) << describe(preflight);
  EXPECT_TRUE(preflight.body.empty());
  EXPECT_EQ(preflight.header("Access-Control-Allow-Origin").value_or(""), "https://example.com");
  const auto methods = preflight.header("Access-Control-Allow-Methods").value_or("");
  EXPECT_TRUE(contains_ci(methods, "POST")) << methods;
  EXPECT_TRUE(contains_ci(methods, "GET")) << methods;
  const auto headers = preflight.header("Access-Control-Allow-Headers").value_or("");
  for (const std::string& h :
       std::vector<std::string>{"Content-Type", "Idempotency-Key", "If-Match"}) {
    EXPECT_TRUE(contains_ci(headers, h)) << headers;
  }
  const auto item_preflight = client().send(
      http_request{"OPTIONS",
                   "/items/item_01ARZ3NDEKTSV4RRFFQ69G5FAV",
                   {{"Origin", "https://example.com"}, {"Access-Control-Request-Method", "PATCH"}},
                   std::nullopt});
  EXPECT_EQ(item_preflight.status, 204) << describe(item_preflight);
  const auto item_methods = item_preflight.header("Access-Control-Allow-Methods").value_or("");
  for (const std::string& m : std::vector<std::string>{"PUT", "PATCH", "DELETE"}) {
    EXPECT_TRUE(contains_ci(item_methods, m)) << item_methods;
  }
}

TEST_F(ServeE2e, RateLimitAnswers429WithRetryAfter) {
  restart({"--rate-limit", "1", "--rate-burst", "3"});
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(is_success(client().get("/items"), 200)) << "request " << i;
  }
  http_response limited;
  for (int i = 0; i < 10 && limited.status != 429; ++i) {
    limited = client().get("/items");
  }
  ASSERT_TRUE(is_error(limited, 429, "RATE_LIMITED"));
  const auto retry_after = limited.header("Retry-After").value_or("");
  ASSERT_TRUE(std::regex_match(retry_after, std::regex("[1-9][0-9]*"))) << retry_after;
  // The bucket refills: after Retry-After, the client is served again.
  std::this_thread::sleep_for(std::chrono::seconds(std::min(std::stoi(retry_after), 3)));
  EXPECT_TRUE(is_success(client().get("/items"), 200));
}

TEST_F(ServeE2e, DefaultRateLimitAllowsABurst) {
  for (int i = 0; i < 300; ++i) {
    ASSERT_EQ(client().get("/health").status, 200) << "request " << i;
  }
}

TEST(ServeLifecycleE2e, SigtermRightAfterListeningExitsZero) {
  temp_dir dir;
  for (int i = 0; i < 5; ++i) {
    SCOPED_TRACE("attempt " + std::to_string(i));
    server_process server(dir.path() / "items.db");
    EXPECT_EQ(server.stop(std::chrono::seconds(10)), 0);
  }
}

TEST_F(ServeE2e, SigtermWithAnIdleKeepAliveConnectionExitsZeroPromptly) {
  ASSERT_TRUE(is_success(client().get("/items"), 200));
  auto idle = new_client();
  ASSERT_TRUE(idle->connect());
  // Well under the 60 s idle keep-alive timeout: idle connections must not hold shutdown up.
  EXPECT_EQ(server().stop(std::chrono::seconds(10)), 0);
}

TEST_F(ServeE2e, SigtermFinishesRequestsInFlightAndLosesNoAcknowledgedWrite) {
  constexpr int writers = 4;
  std::vector<std::vector<std::string>> acknowledged(writers);
  std::atomic<int> malformed{0};
  std::atomic<int> total{0};
  std::vector<std::thread> threads;
  for (int w = 0; w < writers; ++w) {
    threads.emplace_back([&, w, port = server().port()] {
      http_client c(port, std::chrono::seconds(15));
      for (int i = 0; i < 3000; ++i) {
        const auto res = c.post("/items", R"({"name":"inflight"})");
        if (res.status == 0) {
          break;
        }
        ++total;
        if (res.status == 201 && !string_at(data_of(res), "id").empty()) {
          acknowledged[w].push_back(string_at(data_of(res), "id"));
        } else if (res.status != 503) {
          ++malformed;
        }
      }
    });
  }
  // Let the writers get going, then stop the server under load.
  server().wait_for_line(
      [n = 0](std::string_view line) mutable {
        return line.find("CREATE_ITEM") != std::string_view::npos && ++n >= 50;
      },
      std::chrono::seconds(10));
  EXPECT_EQ(server().stop(std::chrono::seconds(20)), 0);
  for (auto& t : threads) {
    t.join();
  }
  EXPECT_EQ(malformed, 0);
  EXPECT_GT(total, 0);

  start({});
  for (const auto& ids : acknowledged) {
    for (const auto& id : ids) {
      ASSERT_EQ(client().get(item_path(id)).status, 200) << id;
    }
  }
}

// `crud-api import` is another process writing the server's store. On SQLite the server's
// readers keep their snapshots across reads (decision 30), and only a change in the WAL index
// tells them that this commit happened: the next read must see it.
TEST_F(ServeE2e, AnImportIntoTheLiveStoreIsSeenByTheNextRead) {
  const auto item = create_item("before");
  const std::string path = item_path(item);
  for (int i = 0; i < 3; ++i) {
    ASSERT_EQ(string_at(data_of(client().get(path)), "name"), "before");
  }
  const store_target target = store();
  std::vector<std::string> args = {"export"};
  args.insert(args.end(), target.args.begin(), target.args.end());
  const auto exported = run_crud_api(args, target.env);
  ASSERT_EQ(exported.exit_code, 0) << exported.err;
  std::string lines = exported.out;
  const std::string from = R"("name":"before")";
  const auto at = lines.find(from);
  ASSERT_NE(at, std::string::npos) << lines;
  lines.replace(at, from.size(), R"("name":"after")");
  const auto file = dir() / "changed.jsonl";
  std::ofstream(file) << lines;

  args = {"import", "--overwrite", "--in", file.string()};
  args.insert(args.end(), target.args.begin(), target.args.end());
  const auto imported = run_crud_api(args, target.env);
  ASSERT_EQ(imported.exit_code, 0) << imported.err;
  EXPECT_EQ(string_at(data_of(client().get(path)), "name"), "after");
}

TEST(ServeConfigE2e, BadOptionsExit2WithOneLineNamingThem) {
  temp_dir dir;
  const auto db = (dir.path() / "items.db").string();
  struct bad_case {
    std::vector<std::string> args;
    env_list env;
    std::string named;
  };
  const std::vector<bad_case> cases{
      {{"serve", "--port", "70000", "--db", db}, {}, "port"},
      {{"serve", "--port", "http", "--db", db}, {}, "port"},
      {{"serve", "--store", "bogus", "--db", db}, {}, "store"},
      {{"serve", "--delete-mode", "x", "--db", db}, {}, "delete"},
      {{"serve", "--rate-limit", "fast", "--db", db}, {}, "rate"},
      {{"serve", "--log-level", "LOUD", "--db", db}, {}, "log"},
      {{"serve", "--no-such-flag", "--db", db}, {}, "no-such-flag"},
      {{"serve", "--db", db}, {{"PORT", "99999"}}, "port"},
      {{"serve", "--db", db}, {{"DELETE_MODE", "sometimes"}}, "delete"},
  };
  for (const auto& c : cases) {
    std::string label;
    for (const auto& a : c.args) {
      label += a + " ";
    }
    for (const auto& [k, v] : c.env) {
      label += k + "=" + v + " ";
    }
    SCOPED_TRACE(label);
    const auto r = run_crud_api(c.args, c.env, std::chrono::seconds(20));
    EXPECT_EQ(r.exit_code, 2) << r.err;
    auto err = r.err;
    while (!err.empty() && err.back() == '\n') {
      err.pop_back();
    }
    EXPECT_FALSE(err.empty());
    EXPECT_EQ(err.find('\n'), std::string::npos) << "more than one line: " << r.err;
    EXPECT_TRUE(contains_ci(err, c.named)) << err;
  }
  EXPECT_FALSE(std::filesystem::exists(db)) << "a failed start created the database";
}

TEST(ServeConfigE2e, HelpAndVersionExitZero) {
  auto r = run_crud_api({"--help"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(contains_ci(r.out, "serve")) << r.out;
  r = run_crud_api({"serve", "--help"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(contains_ci(r.out, "--delete-mode")) << r.out;
  r = run_crud_api({"--version"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(std::regex_search(r.out, std::regex(R"(\d+\.\d+\.\d+)"))) << r.out;
}

TEST(ServeConfigE2e, InitCreatesTheSchemaAndIsHarmlessTwice) {
  temp_dir dir;
  const auto db = dir.path() / "nested" / "folder" / "items.db";
  auto r = run_crud_api({"init", "--db", db.string()});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  ASSERT_TRUE(std::filesystem::exists(db));
  r = run_crud_api({"init", "--db", db.string()});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(sqlite_scalar(db, "PRAGMA integrity_check"), "ok");
  EXPECT_EQ(sqlite_scalar(db, "PRAGMA journal_mode"), "wal");

  server_process server(db);
  http_client c(server.port());
  EXPECT_TRUE(is_success(c.post("/items", R"({"name":"after init"})"), 201));
  EXPECT_EQ(server.stop(), 0);
}

}  // namespace
}  // namespace crud::e2e
