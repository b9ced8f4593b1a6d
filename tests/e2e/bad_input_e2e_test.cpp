// Every bad-input line of CONTRACT §2 over real HTTP: each has exactly one answer, and a
// failed request changes nothing.

#include <algorithm>
#include <boost/json.hpp>
#include <string>
#include <vector>

#include "support/contract_checks.hpp"
#include "support/server_fixture.hpp"

namespace crud::e2e {
namespace {

namespace json = boost::json;

std::string repeat(std::string_view s, std::size_t n) {
  std::string out;
  out.reserve(s.size() * n);
  for (std::size_t i = 0; i < n; ++i) {
    out += s;
  }
  return out;
}

bool contains(const std::vector<std::string>& v, std::string_view x) {
  return std::find(v.begin(), v.end(), x) != v.end();
}

std::string with_name(std::string_view name) {
  return R"({"name":)" + json_string(name) + "}";
}

class BadInputE2e : public server_fixture {};

TEST_F(BadInputE2e, MalformedJsonGets400BadRequest) {
  const auto item = create_item("target");
  for (const std::string& body :
       std::vector<std::string>{R"({"name":)", "not json", "", R"({"name":"a"} trailing)",
                                R"({"name":"a",})", "{'name':'a'}"}) {
    SCOPED_TRACE("body: " + body);
    EXPECT_TRUE(is_error(client().post("/items", body), 400, "BAD_REQUEST"));
    EXPECT_TRUE(is_error(client().put(item_path(item), body), 400, "BAD_REQUEST"));
    EXPECT_TRUE(is_error(client().patch(item_path(item), body), 400, "BAD_REQUEST"));
  }
  EXPECT_EQ(ids_of(client().get("/items")).size(), 1U);
  EXPECT_EQ(data_of(client().get(item_path(item))), item);
}

TEST_F(BadInputE2e, JsonThatIsNotAnObjectGets400BadRequest) {
  const auto item = create_item("target");
  for (const std::string& body :
       std::vector<std::string>{"[]", R"(["name"])", R"("name")", "42", "null", "true"}) {
    SCOPED_TRACE("body: " + body);
    EXPECT_TRUE(is_error(client().post("/items", body), 400, "BAD_REQUEST"));
    EXPECT_TRUE(is_error(client().put(item_path(item), body), 400, "BAD_REQUEST"));
    EXPECT_TRUE(is_error(client().patch(item_path(item), body), 400, "BAD_REQUEST"));
  }
  EXPECT_EQ(ids_of(client().get("/items")).size(), 1U);
}

TEST_F(BadInputE2e, InvalidUtf8Gets400) {
  for (const std::string& body :
       std::vector<std::string>{"{\"name\":\"caf\xC3\"}", "{\"name\":\"\xFF\xFE\"}",
                                "{\"name\":\"a\",\"description\":\"\xED\xA0\x80\"}"}) {
    const auto res = client().post("/items", body);
    EXPECT_TRUE(is_error(res, 400, "BAD_REQUEST") || is_error(res, 400, "VALIDATION_FAILED"))
        << describe(res);
  }
  EXPECT_TRUE(ids_of(client().get("/items")).empty());
}

TEST_F(BadInputE2e, ValidationReportsEveryFailingField) {
  const auto res = client().post(
      "/items", R"({"name":"","description":")" + repeat("a", 2001) + R"(","color":"red"})");
  ASSERT_TRUE(is_error(res, 400, "VALIDATION_FAILED"));
  const auto fields = detail_fields(res);
  EXPECT_TRUE(contains(fields, "name"));
  EXPECT_TRUE(contains(fields, "description"));
  EXPECT_TRUE(contains(fields, "color"));
  EXPECT_EQ(fields.size(), 3U);
  EXPECT_TRUE(ids_of(client().get("/items")).empty());
}

TEST_F(BadInputE2e, NameRulesCountCodePointsAfterTrimming) {
  for (const std::string& body :
       std::vector<std::string>{std::string("{}"), std::string(R"({"name":123})"),
                                std::string(R"({"name":null})"), with_name(""), with_name(" \t "),
                                with_name(repeat("\xC3\xA9", 201)), with_name(repeat("a", 201)),
                                with_name("a\x01"
                                          "b"),
                                with_name("a\nb"), with_name("a\tb"),
                                with_name("a\x7f"
                                          "b")}) {
    SCOPED_TRACE("body: " + body);
    const auto res = client().post("/items", body);
    EXPECT_TRUE(is_error(res, 400, "VALIDATION_FAILED"));
    EXPECT_EQ(detail_fields(res), std::vector<std::string>{"name"});
  }
  EXPECT_TRUE(ids_of(client().get("/items")).empty());

  const auto accented = client().post("/items", with_name(repeat("\xC3\xA9", 200)));
  ASSERT_TRUE(is_success(accented, 201));
  EXPECT_EQ(string_at(data_of(accented), "name"), repeat("\xC3\xA9", 200));
  const auto emoji = client().post("/items", with_name(repeat("\xF0\x9F\x98\x80", 200)));
  EXPECT_TRUE(is_success(emoji, 201));
  const auto padded = client().post("/items", with_name("  " + repeat("b", 200) + "\t "));
  ASSERT_TRUE(is_success(padded, 201));
  EXPECT_EQ(string_at(data_of(padded), "name"), repeat("b", 200));
}

TEST_F(BadInputE2e, DescriptionRules) {
  const auto body = [](std::string_view description) {
    return R"({"name":"n","description":)" + json_string(description) + "}";
  };
  for (const auto& bad : {body(repeat("\xE2\x82\xAC", 2001)), body("bell\x07"), body("cr\r"),
                          std::string(R"({"name":"n","description":5})")}) {
    SCOPED_TRACE("body: " + bad.substr(0, 80));
    const auto res = client().post("/items", bad);
    EXPECT_TRUE(is_error(res, 400, "VALIDATION_FAILED"));
    EXPECT_EQ(detail_fields(res), std::vector<std::string>{"description"});
  }
  const auto longest = client().post("/items", body(repeat("\xE2\x82\xAC", 2000)));
  EXPECT_TRUE(is_success(longest, 201));
  const auto lines = client().post("/items", body("line one\nline two\tand a tab"));
  ASSERT_TRUE(is_success(lines, 201));
  EXPECT_EQ(string_at(data_of(lines), "description"), "line one\nline two\tand a tab");
}

TEST_F(BadInputE2e, UnknownFieldsAndVersionOnCreateAreNamed) {
  auto res = client().post("/items", R"({"name":"a","version":1})");
  EXPECT_TRUE(is_error(res, 400, "VALIDATION_FAILED"));
  EXPECT_EQ(detail_fields(res), std::vector<std::string>{"version"});
  res = client().post("/items", R"({"name":"a","id":"item_01ARZ3NDEKTSV4RRFFQ69G5FAV"})");
  EXPECT_TRUE(is_error(res, 400, "VALIDATION_FAILED"));
  EXPECT_EQ(detail_fields(res), std::vector<std::string>{"id"});
  EXPECT_TRUE(ids_of(client().get("/items")).empty());
}

TEST_F(BadInputE2e, PutValidatesLikeCreateAndChangesNothing) {
  const auto item = create_item("a", "d");
  auto res = client().put(item_path(item), R"({"name":""})");
  EXPECT_TRUE(is_error(res, 400, "VALIDATION_FAILED"));
  EXPECT_EQ(detail_fields(res), std::vector<std::string>{"name"});
  res = client().put(item_path(item), R"({"description":"no name"})");
  EXPECT_TRUE(is_error(res, 400, "VALIDATION_FAILED"));
  EXPECT_TRUE(contains(detail_fields(res), "name"));
  res = client().put(item_path(item), R"({"name":"b","createdAt":"2020-01-01T00:00:00.000Z"})");
  EXPECT_TRUE(is_error(res, 400, "VALIDATION_FAILED"));
  EXPECT_EQ(detail_fields(res), std::vector<std::string>{"createdAt"});
  res = client().put(item_path(item), R"({"name":"b","version":"1"})");
  EXPECT_TRUE(is_error(res, 400, "VALIDATION_FAILED"));
  EXPECT_EQ(detail_fields(res), std::vector<std::string>{"version"});
  EXPECT_EQ(data_of(client().get(item_path(item))), item);
}

TEST_F(BadInputE2e, BadLimitGets400) {
  create_item("one");
  for (const std::string& limit : std::vector<std::string>{"0", "101", "-1", "abc", "1.5", "",
                                                           "1e1", "20x", "999999999999999999999"}) {
    SCOPED_TRACE("limit=" + limit);
    const auto res = client().get("/items?limit=" + url_encode(limit));
    EXPECT_TRUE(is_error(res, 400, "VALIDATION_FAILED"));
    EXPECT_EQ(detail_fields(res), std::vector<std::string>{"limit"});
  }
  for (const int limit : {1, 100}) {
    const auto res = client().get("/items?limit=" + std::to_string(limit));
    ASSERT_TRUE(is_success(res, 200));
    EXPECT_EQ(int_at(json_of(res).at("pagination").as_object(), "limit"), limit);
  }
}

TEST_F(BadInputE2e, GarbledLastKeyGets400) {
  create_item("one");
  for (const std::string& key :
       std::vector<std::string>{"garbage", "not-a-cursor!", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
                                "item_01ARZ3NDEKTSV4RRFFQ69G5FAV", "%00", "{}"}) {
    SCOPED_TRACE("lastKey=" + key);
    const auto res = client().get("/items?lastKey=" + url_encode(key));
    EXPECT_TRUE(is_error(res, 400, "VALIDATION_FAILED"));
    EXPECT_EQ(detail_fields(res), std::vector<std::string>{"lastKey"});
  }
}

TEST_F(BadInputE2e, BadDeleteModeGets400AndDeletesNothing) {
  const auto item = create_item("stays");
  for (const std::string& mode : std::vector<std::string>{"x", "purge", "softly"}) {
    const auto res = client().del(item_path(item) + "?mode=" + mode);
    EXPECT_TRUE(is_error(res, 400, "VALIDATION_FAILED"));
    EXPECT_EQ(detail_fields(res), std::vector<std::string>{"mode"});
  }
  EXPECT_EQ(data_of(client().get(item_path(item))), item);
}

TEST_F(BadInputE2e, MalformedIdempotencyKeyGets400) {
  for (const std::string& key :
       {std::string(), repeat("k", 256), std::string("caf\xC3\xA9"), std::string("a\tb")}) {
    SCOPED_TRACE("key of " + std::to_string(key.size()) + " bytes");
    const auto res = client().post("/items", R"({"name":"k"})", {{"Idempotency-Key", key}});
    EXPECT_TRUE(is_error(res, 400, "VALIDATION_FAILED"));
    EXPECT_EQ(detail_fields(res), std::vector<std::string>{"Idempotency-Key"});
  }
  EXPECT_TRUE(ids_of(client().get("/items")).empty());
  EXPECT_TRUE(is_success(
      client().post("/items", R"({"name":"k"})", {{"Idempotency-Key", repeat("k", 255)}}), 201));
  EXPECT_TRUE(is_success(
      client().post("/items", R"({"name":"k"})", {{"Idempotency-Key", "with space ~!"}}), 201));
}

TEST_F(BadInputE2e, BodyOver64KiBGets413) {
  const auto item = create_item("target");
  // {"name":"n","description":"<pad>"} is 29 bytes plus the padding.
  const auto sized = [](std::size_t total) {
    return R"({"name":"n","description":")" + repeat("a", total - 29) + R"("})";
  };
  ASSERT_EQ(sized(65537).size(), 65537U);
  EXPECT_TRUE(is_error(client().post("/items", sized(65537)), 413, "PAYLOAD_TOO_LARGE"));
  EXPECT_TRUE(is_error(client().put(item_path(item), sized(70000)), 413, "PAYLOAD_TOO_LARGE"));
  EXPECT_TRUE(is_error(client().patch(item_path(item), sized(200000)), 413, "PAYLOAD_TOO_LARGE"));
  // Exactly 64 KiB is read, and fails validation instead.
  const auto at_limit = client().post("/items", sized(65536));
  EXPECT_TRUE(is_error(at_limit, 400, "VALIDATION_FAILED"));
  EXPECT_EQ(detail_fields(at_limit), std::vector<std::string>{"description"});
  EXPECT_EQ(ids_of(client().get("/items")).size(), 1U);
  EXPECT_EQ(data_of(client().get(item_path(item))), item);
}

TEST_F(BadInputE2e, HeadersOver8KiBGet431AndTheConnectionCloses) {
  ASSERT_TRUE(is_success(client().get("/items", {{"X-Padding", repeat("p", 6000)}}), 200));
  const auto res = client().get("/items", {{"X-Padding", repeat("p", 9000)}});
  EXPECT_EQ(res.status, 431) << describe(res);
  EXPECT_TRUE(has_contract_headers(res));
  const auto body = json_of(res);
  ASSERT_TRUE(body.is_object()) << describe(res);
  EXPECT_EQ(int_at(body.get_object(), "statusCode"), 431);
  EXPECT_TRUE(body.get_object().contains("error"));
  EXPECT_FALSE(res.keep_alive) << "431 should announce Connection: close";
  EXPECT_TRUE(client().peer_closed(std::chrono::seconds(5)));
  EXPECT_TRUE(is_success(new_client()->get("/items"), 200));
}

TEST_F(BadInputE2e, NonJsonContentTypeGets415) {
  const auto item = create_item("target");
  for (const std::string& type :
       std::vector<std::string>{"text/plain", "application/x-www-form-urlencoded",
                                "multipart/form-data; boundary=x", "application/xml"}) {
    SCOPED_TRACE("Content-Type: " + type);
    const header_list headers{{"Content-Type", type}};
    EXPECT_TRUE(is_error(client().post("/items", R"({"name":"x"})", headers), 415,
                         "UNSUPPORTED_MEDIA_TYPE"));
    EXPECT_TRUE(is_error(client().put(item_path(item), R"({"name":"x"})", headers), 415,
                         "UNSUPPORTED_MEDIA_TYPE"));
    EXPECT_TRUE(is_error(client().patch(item_path(item), R"({"name":"x"})", headers), 415,
                         "UNSUPPORTED_MEDIA_TYPE"));
  }
  EXPECT_EQ(ids_of(client().get("/items")).size(), 1U);
  EXPECT_EQ(data_of(client().get(item_path(item))), item);
}

TEST_F(BadInputE2e, JsonContentTypesAreAccepted) {
  for (const std::string& type : std::vector<std::string>{
           "application/json", "application/json; charset=utf-8", "application/json;charset=UTF-8",
           "application/vnd.api+json", "Application/JSON"}) {
    SCOPED_TRACE("Content-Type: " + type);
    EXPECT_TRUE(
        is_success(client().post("/items", R"({"name":"x"})", {{"Content-Type", type}}), 201));
  }
}

TEST_F(BadInputE2e, WritesWithoutContentTypeGet415) {
  // What `curl -H 'Content-Type:' --data …` and a cross-site form post without preflight send.
  const auto item = create_item("target");
  const std::string body = R"({"name":"untyped"})";
  for (const std::string method : {"POST", "PUT", "PATCH"}) {
    SCOPED_TRACE(method);
    const std::string target = method == "POST" ? std::string("/items") : item_path(item);
    EXPECT_TRUE(is_error(client().send(http_request{method, target, {}, body}), 415,
                         "UNSUPPORTED_MEDIA_TYPE"));
  }
  EXPECT_EQ(ids_of(client().get("/items")).size(), 1U);
  EXPECT_EQ(data_of(client().get(item_path(item))), item);
}

TEST_F(BadInputE2e, AnEncodedSlashDoesNotRouteAndEchoesStayUtf8) {
  const auto item = create_item("soft");
  ASSERT_TRUE(is_success(client().del(item_path(item) + "?mode=soft"), 200));
  for (const std::string escape : {"%2F", "%2f"}) {
    SCOPED_TRACE(escape);
    EXPECT_TRUE(is_error(
        client().send(http_request{"POST", item_path(item) + escape + "restore", {}, std::nullopt}),
        404, "NOT_FOUND"));
  }
  EXPECT_TRUE(is_error(client().get(item_path(item)), 404, "NOT_FOUND")) << "not restored";
  const auto odd = client().get("/%FF%C0");
  EXPECT_TRUE(is_error(odd, 404, "NOT_FOUND"));
  boost::system::error_code ec;
  const auto parsed = json::parse(odd.body, ec);  // Boost.JSON refuses invalid UTF-8
  EXPECT_FALSE(ec) << odd.body;
}

TEST_F(BadInputE2e, UnknownPathsGet404) {
  const auto item = create_item("exists");
  for (const std::string& path :
       {std::string("/"), std::string("/nope"), std::string("/itemsx"), std::string("/items/abc"),
        std::string("/items/item_123"), std::string("/items/item_01ARZ3NDEKTSV4RRFFQ69G5FA!"),
        std::string("/items/01ARZ3NDEKTSV4RRFFQ69G5FAV"), item_path(item) + "/extra",
        item_path(item) + "/restore/again", std::string("/v1/items")}) {
    SCOPED_TRACE("path: " + path);
    EXPECT_TRUE(is_error(client().get(path), 404, "NOT_FOUND"));
  }
  EXPECT_TRUE(is_error(client().post("/nope", R"({"name":"x"})"), 404, "NOT_FOUND"));
  EXPECT_TRUE(is_error(client().put("/items/abc", R"({"name":"x"})"), 404, "NOT_FOUND"));
}

TEST_F(BadInputE2e, WrongMethodGets405WithAllow) {
  const auto item = create_item("exists");
  struct probe {
    std::string method;
    std::string path;
    std::string allow;
  };
  const std::string items_allow = "GET, HEAD, POST";
  const std::string item_allow = "GET, HEAD, PUT, PATCH, DELETE";
  for (const auto& p : std::vector<probe>{
           {"DELETE", "/items", items_allow},
           {"PUT", "/items", items_allow},
           {"PATCH", "/items", items_allow},
           {"POST", item_path(item), item_allow},
           {"POST", "/items/item_01ARZ3NDEKTSV4RRFFQ69G5FAV", item_allow},
           {"GET", item_path(item) + "/restore", "POST"},
           {"DELETE", item_path(item) + "/restore", "POST"},
           {"PUT", item_path(item) + "/restore", "POST"},
       }) {
    SCOPED_TRACE(p.method + " " + p.path);
    const auto res = client().send(http_request{p.method, p.path, {}, std::nullopt});
    EXPECT_TRUE(is_error(res, 405, "METHOD_NOT_ALLOWED"));
    EXPECT_EQ(res.header("Allow").value_or("<absent>"), p.allow);
  }
  EXPECT_EQ(data_of(client().get(item_path(item))), item);
}

}  // namespace
}  // namespace crud::e2e
