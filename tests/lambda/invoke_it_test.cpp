// `crud-api invoke` driven like `sam local invoke`: API Gateway events written as REST (v1) and
// HTTP API (v2) payloads, each handled by its own process over one store (SQLite, or DynamoDB in
// the suite's second registration), so a whole CRUD conversation runs through successive
// one-shot invocations. Checks the proxy response shape of each version and the contract
// envelope inside its body.

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <cctype>
#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "support/child_process.hpp"
#include "support/it_store.hpp"
#include "support/proxy_events.hpp"
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

enum class payload { rest_v1, http_v2 };
enum class feed { event_file, stdin_dash, stdin_implicit };

constexpr std::string_view json_type = "application/json; charset=utf-8";

std::string event_for(payload p, const api_call& call) {
  return p == payload::rest_v1 ? rest_v1_event(call) : http_v2_event(call);
}

std::string str(const json::value& v, std::string_view key) {
  const json::object* o = v.if_object();
  if (o == nullptr || !o->contains(key) || !o->at(key).is_string())
    return {};
  return std::string(o->at(key).get_string());
}

std::int64_t num(const json::value& v, std::string_view key) {
  const json::object* o = v.if_object();
  if (o == nullptr || !o->contains(key) || !o->at(key).is_int64())
    return -1;
  return o->at(key).as_int64();
}

const json::value& data_of(const proxy_response& r) {
  static const json::value null;
  const json::object* o = r.body.if_object();
  return o != nullptr && o->contains("data") ? o->at("data") : null;
}

// The proxy response carries exactly the fields of its payload version, with well-formed
// headers, and the contract's JSON envelope in `body`.
void expect_shape(const proxy_response& r, payload p) {
  std::set<std::string> keys;
  for (const auto& field : r.whole)
    keys.insert(std::string(field.key()));
  const json::object* headers =
      r.whole.contains("headers") ? r.whole.at("headers").if_object() : nullptr;
  ASSERT_NE(headers, nullptr) << json::serialize(r.whole);
  for (const auto& h : *headers)
    EXPECT_TRUE(h.value().is_string()) << h.key();
  ASSERT_TRUE(r.whole.contains("isBase64Encoded"));
  EXPECT_EQ(r.whole.at("isBase64Encoded"), json::value(false));
  ASSERT_TRUE(r.whole.at("body").is_string());

  if (p == payload::rest_v1) {
    EXPECT_EQ(keys, (std::set<std::string>{"statusCode", "headers", "multiValueHeaders", "body",
                                           "isBase64Encoded"}));
    const json::object* multi = r.whole.contains("multiValueHeaders")
                                    ? r.whole.at("multiValueHeaders").if_object()
                                    : nullptr;
    ASSERT_NE(multi, nullptr);
    // Every single-value header is also in multiValueHeaders, as its last value.
    for (const auto& h : *headers) {
      ASSERT_TRUE(multi->contains(h.key())) << h.key();
      const json::array* values = multi->at(h.key()).if_array();
      ASSERT_NE(values, nullptr) << h.key();
      ASSERT_FALSE(values->empty());
      EXPECT_EQ(values->back(), h.value()) << h.key();
    }
    EXPECT_EQ(r.header_any_case("Content-Type").value_or(""), json_type);
  } else {
    EXPECT_EQ(keys, (std::set<std::string>{"statusCode", "headers", "cookies", "body",
                                           "isBase64Encoded"}));
    ASSERT_TRUE(r.whole.contains("cookies"));
    EXPECT_TRUE(r.whole.at("cookies").is_array());
    for (const auto& h : *headers) {
      std::string name(h.key());
      for (char c : name)
        EXPECT_FALSE(c >= 'A' && c <= 'Z') << "v2 header names are lower case: " << name;
    }
    EXPECT_EQ(r.header("content-type").value_or(""), json_type);
  }
  EXPECT_TRUE(r.header_any_case("X-Request-Id").has_value());
  EXPECT_TRUE(r.header_any_case("X-Correlation-Id").has_value());

  ASSERT_TRUE(r.body.is_object()) << "body is not a JSON object: " << json::serialize(r.whole);
  EXPECT_EQ(num(r.body, "statusCode"), r.status);
  if (r.status >= 400) {
    const json::value& error = r.body.as_object().contains("error") ? r.body.at("error") : nullptr;
    EXPECT_FALSE(str(error, "code").empty()) << json::serialize(r.body);
    EXPECT_FALSE(str(error, "message").empty()) << json::serialize(r.body);
    EXPECT_FALSE(str(r.body, "message").empty()) << json::serialize(r.body);
    EXPECT_FALSE(str(r.body, "requestId").empty()) << json::serialize(r.body);
  } else if (r.status != 304) {
    EXPECT_TRUE(r.body.as_object().contains("data")) << json::serialize(r.body);
  }
}

std::string error_code(const proxy_response& r) {
  const json::object* o = r.body.if_object();
  return o != nullptr && o->contains("error") ? str(o->at("error"), "code") : std::string();
}

class InvokeCommand : public ::testing::Test {
 protected:
  env_list env() const { return store_.env(); }

  // One `crud-api invoke` of `call` written as `p`. Records a failure unless the process
  // exits 0 with exactly one JSON line on stdout, the proxy response.
  proxy_response invoke(payload p, const api_call& call, feed how = feed::event_file) {
    const std::string event = event_for(p, call);
    spawn_options opts;
    opts.env = env();
    switch (how) {
      case feed::event_file: {
        auto file = dir_.write_file("event-" + std::to_string(++files_) + ".json", event);
        opts.args = {"invoke", "--event", file.string()};
        break;
      }
      case feed::stdin_dash:
        opts.args = {"invoke", "--event", "-"};
        opts.stdin_text = event;
        break;
      case feed::stdin_implicit:
        opts.args = {"invoke"};
        opts.stdin_text = event;
        break;
    }
    run_result run = run_to_end(opts);
    EXPECT_EQ(run.exit_code, 0) << call.method << " " << call.path << "\nstderr: " << run.err;
    std::vector<std::string> lines = lines_of(run.out);
    EXPECT_EQ(lines.size(), 1u) << "stdout holds only the proxy response:\n" << run.out;
    last_stderr_ = run.err;
    parsed_response parsed = parse_proxy_response(lines.empty() ? "" : lines.front());
    EXPECT_TRUE(parsed.response.has_value()) << parsed.error;
    proxy_response r = parsed.response.value_or(proxy_response{});
    expect_shape(r, p);
    return r;
  }

  // Creates an item and returns its id.
  std::string create(payload p, const std::string& name, const std::string& owner = {}) {
    api_call post{.method = "POST", .path = "/items"};
    post.headers = {{"Content-Type", "application/json"}};
    post.body = json::serialize(json::object{{"name", name}});
    post.claims_sub = owner;
    proxy_response r = invoke(p, post);
    EXPECT_EQ(r.status, 201) << json::serialize(r.whole);
    return str(data_of(r), "id");
  }

  // Create, read, replace (If-Match), patch, soft delete and restore one item, each step its
  // own process, fed the way `how` says.
  void crud_round_trip(payload p, feed how);

  temp_dir dir_;
  it_store store_{dir_.path()};
  int files_ = 0;
  std::string last_stderr_;
};

void InvokeCommand::crud_round_trip(payload p, feed how) {
  const bool v1 = p == payload::rest_v1;
  // v1 keeps the header names as the app writes them; v2 lower-cases them.
  auto h = [&](std::string_view name) {
    std::string out(name);
    if (!v1) {
      for (char& c : out)
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    return out;
  };

  // Create.
  api_call post{.method = "POST", .path = "/items"};
  post.headers = {{"Content-Type", "application/json"}, {"X-Correlation-Id", "corr-round-trip"}};
  post.body = R"({"name":"Widget","description":"first"})";
  post.cookies = {"session=abc", "theme=dark"};
  proxy_response created = invoke(p, post, how);
  ASSERT_EQ(created.status, 201) << json::serialize(created.whole);
  const std::string id = str(data_of(created), "id");
  ASSERT_EQ(id.size(), 5u + 26u) << id;
  EXPECT_TRUE(id.starts_with("item_")) << id;
  EXPECT_EQ(created.header(h("Location")).value_or(""), "/dev/items/" + id);
  const std::string etag1 = created.header(h("ETag")).value_or("");
  EXPECT_TRUE(etag1.size() > 2 && etag1.front() == '"' && etag1.back() == '"') << etag1;
  EXPECT_EQ(created.header(h("X-Correlation-Id")).value_or(""), "corr-round-trip");
  EXPECT_EQ(str(data_of(created), "name"), "Widget");
  EXPECT_EQ(str(data_of(created), "description"), "first");
  EXPECT_EQ(num(data_of(created), "version"), 1);
  EXPECT_FALSE(str(created.body, "message").empty());
  // Logs go to stderr in `invoke`: the create's access line is there.
  EXPECT_NE(last_stderr_.find("\"CREATE_ITEM\""), std::string::npos) << last_stderr_;

  // Read.
  const std::string item_path = "/items/" + id;
  proxy_response got = invoke(p, {.method = "GET", .path = item_path}, how);
  ASSERT_EQ(got.status, 200);
  EXPECT_EQ(data_of(got), data_of(created));
  EXPECT_EQ(got.header(h("ETag")).value_or(""), etag1);

  // Replace: a stale If-Match is refused and changes nothing; the current one succeeds.
  api_call put{.method = "PUT", .path = item_path};
  put.body = R"({"name":"Widget 2","description":"second"})";
  put.headers = {{"Content-Type", "application/json"}, {"If-Match", "\"not-the-etag\""}};
  proxy_response stale = invoke(p, put, how);
  EXPECT_EQ(stale.status, 412) << json::serialize(stale.body);
  EXPECT_EQ(error_code(stale), "PRECONDITION_FAILED");
  put.headers = {{"Content-Type", "application/json"}, {"If-Match", etag1}};
  proxy_response replaced = invoke(p, put, how);
  ASSERT_EQ(replaced.status, 200) << json::serialize(replaced.body);
  EXPECT_EQ(num(data_of(replaced), "version"), 2);
  EXPECT_EQ(str(data_of(replaced), "name"), "Widget 2");
  EXPECT_EQ(str(data_of(replaced), "description"), "second");

  // Merge patch.
  api_call patch{.method = "PATCH", .path = item_path};
  patch.headers = {{"Content-Type", "application/merge-patch+json"}};
  patch.body = R"({"description":"patched"})";
  proxy_response patched = invoke(p, patch, how);
  ASSERT_EQ(patched.status, 200) << json::serialize(patched.body);
  EXPECT_EQ(num(data_of(patched), "version"), 3);
  EXPECT_EQ(str(data_of(patched), "name"), "Widget 2");
  EXPECT_EQ(str(data_of(patched), "description"), "patched");

  // Soft delete hides it.
  api_call del{.method = "DELETE", .path = item_path, .query = {{"mode", "soft"}}};
  proxy_response deleted = invoke(p, del, how);
  ASSERT_EQ(deleted.status, 200) << json::serialize(deleted.body);
  EXPECT_EQ(str(data_of(deleted), "id"), id);
  EXPECT_EQ(str(data_of(deleted), "deleted"), "soft");
  proxy_response hidden = invoke(p, {.method = "GET", .path = item_path}, how);
  EXPECT_EQ(hidden.status, 404);
  EXPECT_EQ(error_code(hidden), "NOT_FOUND");

  // Restore brings it back with the next version.
  proxy_response restored = invoke(p, {.method = "POST", .path = item_path + "/restore"}, how);
  ASSERT_EQ(restored.status, 200) << json::serialize(restored.body);
  EXPECT_EQ(str(data_of(restored), "id"), id);
  EXPECT_GT(num(data_of(restored), "version"), 3);
  EXPECT_FALSE(data_of(restored).as_object().contains("deletedAt"))
      << json::serialize(data_of(restored));
  proxy_response back = invoke(p, {.method = "GET", .path = item_path}, how);
  ASSERT_EQ(back.status, 200);
  EXPECT_EQ(str(data_of(back), "name"), "Widget 2");
  EXPECT_EQ(str(data_of(back), "description"), "patched");
  EXPECT_EQ(num(data_of(back), "version"), num(data_of(restored), "version"));
}

TEST_F(InvokeCommand, RestV1EventsRoundTripCrudFromFiles) {
  crud_round_trip(payload::rest_v1, feed::event_file);
}

TEST_F(InvokeCommand, HttpV2EventsRoundTripCrudFromStdin) {
  crud_round_trip(payload::http_v2, feed::stdin_dash);
}

TEST_F(InvokeCommand, ImplicitStdinIsTheEvent) {
  proxy_response r =
      invoke(payload::http_v2, {.method = "GET", .path = "/items"}, feed::stdin_implicit);
  EXPECT_EQ(r.status, 200);
  EXPECT_TRUE(data_of(r).is_array()) << json::serialize(r.body);
}

TEST_F(InvokeCommand, ListFollowsLastKeyAcrossVersions) {
  std::vector<std::string> created;
  for (int i = 0; i < 5; ++i)
    created.push_back(
        create(i % 2 == 0 ? payload::rest_v1 : payload::http_v2, "listed " + std::to_string(i)));
  ASSERT_EQ(std::set<std::string>(created.begin(), created.end()).size(), 5u);

  // Pages of 2 take three calls; the cursor of each page is sent with the other version, so
  // it goes through both v1's decoded parameters and v2's percent-encoded raw query string.
  std::vector<std::string> seen;
  std::string last_key;
  std::vector<int> counts;
  for (int page = 0; page < 4; ++page) {
    api_call list{.method = "GET", .path = "/items", .query = {{"limit", "2"}}};
    if (!last_key.empty())
      list.query.emplace_back("lastKey", last_key);
    proxy_response r = invoke(page % 2 == 0 ? payload::rest_v1 : payload::http_v2, list);
    ASSERT_EQ(r.status, 200) << json::serialize(r.body);
    ASSERT_TRUE(data_of(r).is_array());
    for (const auto& item : data_of(r).as_array())
      seen.push_back(str(item, "id"));
    const json::value& pagination =
        r.body.as_object().contains("pagination") ? r.body.at("pagination") : nullptr;
    ASSERT_TRUE(pagination.is_object()) << json::serialize(r.body);
    EXPECT_EQ(num(pagination, "limit"), 2);
    counts.push_back(static_cast<int>(num(pagination, "count")));
    const json::value& next = pagination.as_object().contains("lastKey") ? pagination.at("lastKey")
                                                                         : json::value("missing");
    if (next.is_null())
      break;
    ASSERT_TRUE(next.is_string()) << json::serialize(pagination);
    last_key = std::string(next.get_string());
  }
  EXPECT_EQ(seen, created) << "every item once, oldest first";
  EXPECT_EQ(counts, (std::vector<int>{2, 2, 1}));
}

TEST_F(InvokeCommand, Base64BodiesAreDecoded) {
  for (payload p : {payload::rest_v1, payload::http_v2}) {
    const std::string name =
        p == payload::rest_v1 ? "Caf\xC3\xA9 \xE2\x9C\x93 v1" : "\xE2\x9C\x93 v2";
    api_call post{.method = "POST", .path = "/items"};
    post.headers = {{"Content-Type", "application/json"}};
    post.body = json::serialize(json::object{{"name", name}, {"description", "b64"}});
    post.base64_body = true;
    proxy_response r = invoke(p, post);
    ASSERT_EQ(r.status, 201) << json::serialize(r.body);
    EXPECT_EQ(str(data_of(r), "name"), name);
    EXPECT_EQ(str(data_of(r), "description"), "b64");
  }
}

TEST_F(InvokeCommand, FunctionUrlEventsHaveNoStagePrefix) {
  // A Function URL event is the v2 shape with the `$default` stage: no prefix in rawPath.
  api_call post{.method = "POST", .path = "/items", .stage = "$default"};
  post.headers = {{"Content-Type", "application/json"}};
  post.body = R"({"name":"from a function URL"})";
  proxy_response created = invoke(payload::http_v2, post);
  ASSERT_EQ(created.status, 201) << json::serialize(created.body);
  const std::string id = str(data_of(created), "id");
  ASSERT_TRUE(id.starts_with("item_")) << id;
  EXPECT_EQ(created.header("location").value_or(""), "/items/" + id);

  // rawPath arrives percent-encoded; `_` written as %5F names the same item.
  std::string encoded = "/items/item%5F" + id.substr(5);
  proxy_response got =
      invoke(payload::http_v2, {.method = "GET", .path = encoded, .stage = "$default"});
  EXPECT_EQ(got.status, 200) << json::serialize(got.body);
  EXPECT_EQ(str(data_of(got), "id"), id);
}

TEST_F(InvokeCommand, HttpErrorsStillExitZero) {
  proxy_response missing =
      invoke(payload::http_v2, {.method = "GET", .path = "/items/item_01ARZ3NDEKTSV4RRFFQ69G5FAV"});
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(error_code(missing), "NOT_FOUND");

  api_call bad{.method = "POST", .path = "/items"};
  bad.headers = {{"Content-Type", "application/json"}};
  bad.body = R"({"name":"","colour":"red"})";
  proxy_response invalid = invoke(payload::rest_v1, bad);
  EXPECT_EQ(invalid.status, 400);
  EXPECT_EQ(error_code(invalid), "VALIDATION_FAILED");

  proxy_response wrong_method = invoke(payload::rest_v1, {.method = "DELETE", .path = "/items"});
  EXPECT_EQ(wrong_method.status, 405);
  EXPECT_EQ(error_code(wrong_method), "METHOD_NOT_ALLOWED");
  EXPECT_TRUE(wrong_method.header_any_case("Allow").has_value());
}

TEST_F(InvokeCommand, OwnersSeeOnlyTheirItems) {
  const std::string mine = create(payload::http_v2, "alice's", "alice-sub");
  ASSERT_FALSE(mine.empty());

  api_call get_as_bob{.method = "GET", .path = "/items/" + mine};
  get_as_bob.claims_sub = "bob-sub";
  EXPECT_EQ(invoke(payload::rest_v1, get_as_bob).status, 404);
  EXPECT_EQ(invoke(payload::http_v2, {.method = "GET", .path = "/items/" + mine}).status, 404)
      << "public does not see alice's item";

  api_call get_as_alice{.method = "GET", .path = "/items/" + mine};
  get_as_alice.claims_sub = "alice-sub";
  EXPECT_EQ(invoke(payload::rest_v1, get_as_alice).status, 200) << "v1 claims, same owner";

  auto listed_ids = [&](const std::string& owner) {
    api_call list{.method = "GET", .path = "/items"};
    list.claims_sub = owner;
    proxy_response r = invoke(payload::http_v2, list);
    std::vector<std::string> ids;
    if (data_of(r).is_array()) {
      for (const auto& item : data_of(r).as_array())
        ids.push_back(str(item, "id"));
    }
    return ids;
  };
  EXPECT_EQ(listed_ids("alice-sub"), std::vector<std::string>{mine});
  EXPECT_TRUE(listed_ids("bob-sub").empty());
  EXPECT_TRUE(listed_ids("").empty());
}

TEST_F(InvokeCommand, HonoursTheHandlerSettingLikeTheFunction) {
  // Standing in for the Read function: only GETs are served.
  const std::string event = http_v2_event({.method = "POST",
                                           .path = "/items",
                                           .headers = {{"Content-Type", "application/json"}},
                                           .body = R"({"name":"x"})"});
  spawn_options opts;
  opts.args = {"invoke", "--event", "-"};
  opts.env = env();
  opts.env.emplace_back("_HANDLER", "read");
  opts.stdin_text = event;
  run_result run = run_to_end(opts);
  ASSERT_EQ(run.exit_code, 0) << run.err;
  parsed_response parsed = parse_proxy_response(lines_of(run.out).front());
  ASSERT_TRUE(parsed.response.has_value()) << parsed.error;
  EXPECT_EQ(parsed.response->status, 405);
  EXPECT_EQ(parsed.response->header_any_case("Allow").value_or(""), "GET, HEAD");

  opts.env.back().second = "write-everything";
  run = run_to_end(opts);
  EXPECT_EQ(run.exit_code, 2) << "a bad _HANDLER is a configuration error";
  EXPECT_NE(run.err.find("write-everything"), std::string::npos) << run.err;
  EXPECT_TRUE(run.out.empty());
}

TEST_F(InvokeCommand, AStoreItCannotUseExitsTwoWithTheReason) {
  // On DynamoDB the open makes no call and the request is the check (store_opening), so the
  // reason has to come back after the request failed, as it did when the open checked; the
  // list also goes through the cursor key the open no longer reads.
  env_list broken = env();
  for (const auto& [name, value] : store_.unopenable()) {
    std::erase_if(broken, [&](const auto& e) { return e.first == name; });
    broken.emplace_back(name, value);
  }
  for (const std::string path : {"/items/item_01ARZ3NDEKTSV4RRFFQ69G5FAV", "/items"}) {
    spawn_options opts;
    opts.args = {"invoke", "--event", "-"};
    opts.env = broken;
    opts.stdin_text = http_v2_event({.method = "GET", .path = path});
    run_result run = run_to_end(opts);
    EXPECT_EQ(run.exit_code, 2) << path << "\nstderr: " << run.err;
    EXPECT_TRUE(run.out.empty()) << "no response for a store it cannot use: " << run.out;
    const std::string named = store_.on_dynamodb() ? "no_such_table" : "/proc/nope/items.db";
    EXPECT_NE(run.err.find("crud-api: cannot open"), std::string::npos) << run.err;
    EXPECT_NE(run.err.find(named), std::string::npos) << run.err;
    if (store_.on_dynamodb()) {
      EXPECT_NE(run.err.find("ResourceNotFoundException"), std::string::npos) << run.err;
    }
  }
}

TEST_F(InvokeCommand, NonEventInputExitsOneWithAReason) {
  const std::vector<std::string> inputs = {
      "[1,2]", "\"x\"", "not json at all", "{}", R"({"hello":"world"})", ""};
  for (const std::string& input : inputs) {
    spawn_options opts;
    opts.args = {"invoke", "--event", "-"};
    opts.env = env();
    opts.stdin_text = input;
    run_result run = run_to_end(opts);
    EXPECT_EQ(run.exit_code, 1) << "input: " << input << "\nstderr: " << run.err;
    EXPECT_TRUE(run.out.empty()) << "input: " << input << "\nstdout: " << run.out;
    EXPECT_FALSE(run.err.empty()) << "input: " << input;
  }

  spawn_options missing_file;
  missing_file.args = {"invoke", "--event", (dir_.path() / "no-such-event.json").string()};
  missing_file.env = env();
  run_result run = run_to_end(missing_file);
  ASSERT_TRUE(run.exit_code.has_value());
  EXPECT_NE(*run.exit_code, 0);
  EXPECT_TRUE(run.out.empty()) << run.out;
  EXPECT_NE(run.err.find("no-such-event.json"), std::string::npos) << run.err;
}

}  // namespace
}  // namespace crud::lambda_it
