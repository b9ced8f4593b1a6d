#include "lambda/apigw_event.hpp"

#include <algorithm>
#include <initializer_list>
#include <iterator>
#include <optional>
#include <utility>
#include <vector>

#include <boost/json.hpp>

#include "core/crypto.hpp"
#include "core/hex.hpp"
#include "core/json_text.hpp"
#include "core/utf8.hpp"

namespace crud::lambda {
namespace {

namespace json = boost::json;

using decode_result = boost::system::result<decoded_event, std::string>;

using app::iequals;

char ascii_lower(char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c + ('a' - 'A')) : c;
}

std::string to_lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), ascii_lower);
  return out;
}

// --- Reading the event: optional members of the wrong type count as absent, so that a
// --- hand-written event with `"headers": null` or a stray field still decodes.

const json::value* member(const json::object* obj, std::string_view key) {
  if (obj == nullptr)
    return nullptr;
  auto it = obj->find(key);
  return it == obj->end() ? nullptr : &it->value();
}

const json::object* object_at(const json::object* obj, std::string_view key) {
  const json::value* v = member(obj, key);
  return v != nullptr && v->is_object() ? &v->get_object() : nullptr;
}

const json::object* object_path(const json::object* obj,
                                std::initializer_list<std::string_view> keys) {
  for (std::string_view key : keys)
    obj = object_at(obj, key);
  return obj;
}

std::optional<std::string_view> string_at(const json::object* obj, std::string_view key) {
  const json::value* v = member(obj, key);
  if (v == nullptr || !v->is_string())
    return std::nullopt;
  return std::string_view(v->get_string());
}

// A non-empty string, as an identity must be.
std::optional<std::string_view> identity_at(const json::object* obj, std::string_view key) {
  auto s = string_at(obj, key);
  if (!s || s->empty())
    return std::nullopt;
  return s;
}

bool bool_at(const json::object* obj, std::string_view key) {
  const json::value* v = member(obj, key);
  return v != nullptr && v->is_bool() && v->get_bool();
}

// --- Text decoding.

// `application/x-www-form-urlencoded` parsing of a raw query string: pairs in order, repeated
// keys kept, '+' a space. API Gateway applies the same rules to v1 `queryStringParameters`.
app::field_list parse_raw_query(std::string_view raw) {
  app::field_list out;
  while (!raw.empty()) {
    std::size_t amp = raw.find('&');
    std::string_view pair = raw.substr(0, amp);
    raw = amp == std::string_view::npos ? std::string_view() : raw.substr(amp + 1);
    if (pair.empty())
      continue;
    std::size_t eq = pair.find('=');
    std::string_view key = pair.substr(0, eq);
    std::string_view value =
        eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1);
    out.emplace_back(core::percent_decode(key, true), core::percent_decode(value, true));
  }
  return out;
}

// Standard base64 (with or without '=' padding), as API Gateway sends binary bodies. Built on
// core's strict base64url codec so that there is one decoder to trust.
std::optional<std::string> base64_decode(std::string_view text) {
  std::size_t padding = 0;
  while (padding < text.size() && padding < 2 && text[text.size() - 1 - padding] == '=')
    ++padding;
  if (padding > 0 && text.size() % 4 != 0)
    return std::nullopt;
  std::string url(text.substr(0, text.size() - padding));
  for (char& c : url) {
    if (c == '-' || c == '_')
      return std::nullopt;  // base64url letters: not this alphabet
    if (c == '+')
      c = '-';
    if (c == '/')
      c = '_';
  }
  return core::base64url_decode(url);
}

std::string base64_encode(std::string_view bytes) {
  std::string out = core::base64url_encode(bytes);
  for (char& c : out) {
    if (c == '-')
      c = '+';
    if (c == '_')
      c = '/';
  }
  while (out.size() % 4 != 0)
    out.push_back('=');
  return out;
}

// --- The pieces common to both versions.

// The path without a leading "/<stage>" segment, or nullopt when it has none. A stage only
// matches a whole segment, so stage "dev" leaves "/devices" alone; "$default" is the stage
// HTTP APIs and Function URLs use when there is no prefix at all.
std::optional<std::string_view> without_stage(std::string_view path, std::string_view stage) {
  if (stage.empty() || stage == "$default")
    return std::nullopt;
  if (path.size() < stage.size() + 1 || path[0] != '/' || path.substr(1, stage.size()) != stage) {
    return std::nullopt;
  }
  std::string_view rest = path.substr(stage.size() + 1);
  if (rest.empty())
    return std::string_view("/");
  if (rest[0] != '/')
    return std::nullopt;
  return rest;
}

std::optional<std::string> method_from(std::optional<std::string_view> raw) {
  if (!raw || raw->empty())
    return std::nullopt;
  std::string method;
  method.reserve(raw->size());
  for (char c : *raw) {
    bool letter = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
    if (!letter)
      return std::nullopt;
    method.push_back(c >= 'a' && c <= 'z' ? static_cast<char>(c - ('a' - 'A')) : c);
  }
  return method;
}

// Fills `body`; the result is the reason when the event's body is unusable.
std::optional<std::string_view> read_body(const json::object& event, std::string& body) {
  const json::value* v = member(&event, "body");
  if (v == nullptr || v->is_null())
    return std::nullopt;
  if (!v->is_string())
    return "the event's body is not a string";
  std::string_view text = v->get_string();
  if (!bool_at(&event, "isBase64Encoded")) {
    body = std::string(text);
    return std::nullopt;
  }
  auto decoded = base64_decode(text);
  if (!decoded)
    return "the body is marked isBase64Encoded but is not valid base64";
  body = std::move(*decoded);
  return std::nullopt;
}

// The value of every string entry of a {name: string} map, in the event's order.
void append_string_map(const json::object* map, app::field_list& out) {
  if (map == nullptr)
    return;
  for (const auto& entry : *map) {
    if (entry.key().empty() || !entry.value().is_string())
      continue;
    out.emplace_back(std::string(entry.key()), std::string(entry.value().get_string()));
  }
}

// v1 sends each header (and query parameter) twice: once in a single-value map that keeps only
// the last value, and once in a multi-value map. The multi-value map wins; names found only in
// the single-value map (hand-written events often have only that) are added after it.
app::field_list merge_multi_value(const json::object* multi, const json::object* single,
                                  bool case_insensitive_names) {
  app::field_list out;
  std::vector<std::string_view> seen;
  if (multi != nullptr) {
    for (const auto& entry : *multi) {
      if (entry.key().empty())
        continue;
      const json::value& values = entry.value();
      bool any = false;
      if (values.is_array()) {
        for (const json::value& v : values.get_array()) {
          if (!v.is_string())
            continue;
          out.emplace_back(std::string(entry.key()), std::string(v.get_string()));
          any = true;
        }
      } else if (values.is_string()) {
        out.emplace_back(std::string(entry.key()), std::string(values.get_string()));
        any = true;
      }
      if (any)
        seen.push_back(entry.key());
    }
  }
  if (single != nullptr) {
    for (const auto& entry : *single) {
      if (entry.key().empty() || !entry.value().is_string())
        continue;
      std::string_view name = entry.key();
      bool duplicate = std::any_of(seen.begin(), seen.end(), [&](std::string_view s) {
        return case_insensitive_names ? iequals(s, name) : s == name;
      });
      if (!duplicate)
        out.emplace_back(std::string(name), std::string(entry.value().get_string()));
    }
  }
  return out;
}

// --- Owners. Only requestContext fields are read: API Gateway fills them after verifying the
// --- caller, while headers are whatever the client chose to send.

// An IAM caller that came through a Cognito identity pool is that identity, not the role
// session: every user of a pool assumes the same role, so its ARN would merge them all into
// one owner (CONTRACT §2 "Owners").
std::optional<std::string> cognito_identity_owner(std::optional<std::string_view> identity_id) {
  if (!identity_id)
    return std::nullopt;
  return "cognito:" + std::string(*identity_id);
}

std::string owner_v1(const json::object* ctx) {
  const json::object* authorizer = object_at(ctx, "authorizer");
  if (auto sub = identity_at(object_at(authorizer, "claims"), "sub"))
    return std::string(*sub);
  if (auto principal = identity_at(authorizer, "principalId"))
    return std::string(*principal);
  const json::object* identity = object_at(ctx, "identity");
  if (auto cognito = cognito_identity_owner(identity_at(identity, "cognitoIdentityId")))
    return std::move(*cognito);
  if (auto arn = identity_at(identity, "userArn"))
    return std::string(*arn);
  return "public";
}

std::string owner_v2(const json::object* ctx) {
  const json::object* authorizer = object_at(ctx, "authorizer");
  if (auto sub = identity_at(object_path(authorizer, {"jwt", "claims"}), "sub")) {
    return std::string(*sub);
  }
  // A Lambda authorizer's context is free-form; these are the names such authorizers commonly
  // use for the subject, most specific first.
  const json::object* lambda_ctx = object_at(authorizer, "lambda");
  for (std::string_view key : {"sub", "principalId", "userId"}) {
    if (auto id = identity_at(lambda_ctx, key))
      return std::string(*id);
  }
  // The REST API spelling, should an authorizer report its principal at the top level.
  if (auto principal = identity_at(authorizer, "principalId"))
    return std::string(*principal);
  const json::object* iam = object_at(authorizer, "iam");
  if (auto cognito =
          cognito_identity_owner(identity_at(object_at(iam, "cognitoIdentity"), "identityId")))
    return std::move(*cognito);
  if (auto arn = identity_at(iam, "userArn"))
    return std::string(*arn);
  return "public";
}

// --- The two shapes.

decode_result decode_v1(const json::object& event) {
  const json::object* ctx = object_at(&event, "requestContext");
  app::request req;

  auto method = method_from(string_at(&event, "httpMethod"));
  if (!method)
    method = method_from(string_at(ctx, "httpMethod"));
  if (!method)
    return std::string("the event has no usable httpMethod");
  req.method = std::move(*method);

  // `path` is already percent-decoded in v1; decoding it again would turn a literal "%2F" in
  // an id into a slash.
  auto ctx_path = string_at(ctx, "path");
  auto path = string_at(&event, "path");
  if (!path)
    path = ctx_path;
  if (!path || path->empty() || path->front() != '/') {
    return std::string("the event has no usable path");
  }
  std::string_view stage = string_at(ctx, "stage").value_or("");
  std::string_view routed = *path;
  if (auto stripped = without_stage(routed, stage)) {
    // On the default execute-api endpoint API Gateway has already removed the stage from
    // `path` and kept it in `requestContext.path`; removing it again would eat a first segment
    // that merely shares the stage's name (stage "items", GET /items/items/x).
    bool already_removed = ctx_path && ctx_path->size() == stage.size() + 1 + routed.size() &&
                           ctx_path->substr(stage.size() + 1) == routed &&
                           without_stage(*ctx_path, stage).has_value();
    if (!already_removed)
      routed = *stripped;
  }
  req.path = std::string(routed);
  // What the client's URL had before the routed path (the stage on the execute-api endpoint),
  // so that Location headers point where the client can follow them.
  if (ctx_path && ctx_path->size() > routed.size() && ctx_path->ends_with(routed)) {
    req.base_path = std::string(ctx_path->substr(0, ctx_path->size() - routed.size()));
  } else if (routed.size() < path->size()) {
    req.base_path = std::string(path->substr(0, path->size() - routed.size()));
  }

  // API Gateway has already decoded v1 query values.
  req.query = merge_multi_value(object_at(&event, "multiValueQueryStringParameters"),
                                object_at(&event, "queryStringParameters"), false);
  req.headers =
      merge_multi_value(object_at(&event, "multiValueHeaders"), object_at(&event, "headers"), true);

  if (auto problem = read_body(event, req.body))
    return std::string(*problem);

  req.upstream_request_id = std::string(string_at(ctx, "requestId").value_or(""));
  req.owner = owner_v1(ctx);
  return decoded_event{std::move(req), event_version::rest_v1};
}

decode_result decode_v2(const json::object& event) {
  const json::object* ctx = object_at(&event, "requestContext");
  const json::object* http = object_at(ctx, "http");
  app::request req;

  auto method = method_from(string_at(http, "method"));
  if (!method)
    return std::string("the event has no usable requestContext.http.method");
  req.method = std::move(*method);

  // rawPath is as the client sent it, so it is decoded here, after the stage is removed (a
  // stage name never needs escaping). requestContext.http.path is API Gateway's decoded copy.
  std::string_view stage = string_at(ctx, "stage").value_or("");
  if (auto raw_path = string_at(&event, "rawPath")) {
    std::string_view routed = raw_path->empty() ? std::string_view("/") : *raw_path;
    if (routed.front() != '/')
      return std::string("the event's rawPath does not start with '/'");
    if (auto stripped = without_stage(routed, stage)) {
      req.base_path.assign(1, '/').append(stage);
      routed = *stripped;
    }
    req.path = core::percent_decode_path(routed);
  } else if (auto http_path = string_at(http, "path");
             http_path && !http_path->empty() && http_path->front() == '/') {
    req.path = std::string(without_stage(*http_path, stage).value_or(*http_path));
  } else {
    return std::string("the event has no usable rawPath");
  }

  // The comma-joined queryStringParameters cannot tell "a=1&a=2" from "a=1,2", so the raw
  // string is the source; the map is only a fallback for hand-written events.
  auto raw_query = string_at(&event, "rawQueryString");
  if (raw_query && !raw_query->empty()) {
    req.query = parse_raw_query(*raw_query);
  } else {
    append_string_map(object_at(&event, "queryStringParameters"), req.query);
  }

  append_string_map(object_at(&event, "headers"), req.headers);
  // HTTP APIs move the Cookie header into `cookies`; put it back, replacing any copy.
  const json::value* cookies = member(&event, "cookies");
  if (cookies != nullptr && cookies->is_array() && !cookies->get_array().empty()) {
    std::string joined;
    for (const json::value& c : cookies->get_array()) {
      if (!c.is_string())
        continue;
      if (!joined.empty())
        joined += "; ";
      joined += std::string_view(c.get_string());
    }
    std::erase_if(req.headers, [](const auto& field) { return iequals(field.first, "cookie"); });
    if (!joined.empty())
      req.headers.emplace_back("cookie", std::move(joined));
  }

  if (auto problem = read_body(event, req.body))
    return std::string(*problem);

  req.upstream_request_id = std::string(string_at(ctx, "requestId").value_or(""));
  req.owner = owner_v2(ctx);
  return decoded_event{std::move(req), event_version::http_v2};
}

// --- Encoding.

struct header_group {
  std::string name;
  std::vector<std::string_view> values;
};

// Groups repeated fields case-insensitively, keeping first-seen order and spelling.
std::vector<header_group> group_headers(const app::field_list& fields, bool lower_case) {
  std::vector<header_group> groups;
  for (const auto& field : fields) {
    auto it = std::find_if(groups.begin(), groups.end(),
                           [&](const header_group& g) { return iequals(g.name, field.first); });
    if (it == groups.end()) {
      groups.push_back({lower_case ? to_lower(field.first) : field.first, {}});
      it = std::prev(groups.end());
    }
    it->values.push_back(field.second);
  }
  return groups;
}

// A header name or value as JSON text. Header values may echo decoded input (a percent-decoded
// path is any bytes), and API Gateway rejects a response that is not UTF-8: bytes that begin no
// well-formed sequence become U+FFFD, as core::append_json_string writes them.
json::string header_text(std::string_view v) {
  if (core::count_code_points(v).has_value())
    return json::string(v);
  std::string quoted;
  core::append_json_string(quoted, v);
  return json::parse(quoted).as_string();
}

void set_body(json::object& out, std::string_view body) {
  if (core::count_code_points(body).has_value()) {
    out["body"] = body;
    out["isBase64Encoded"] = false;
  } else {
    out["body"] = base64_encode(body);
    out["isBase64Encoded"] = true;
  }
}

}  // namespace

decode_result decode_event(std::string_view event_json) {
  try {
    boost::system::error_code ec;
    json::value root = json::parse(event_json, ec);
    if (ec)
      return std::string("the event is not valid JSON: ") + ec.message();
    if (!root.is_object())
      return std::string("the event is not a JSON object");
    const json::object& event = root.get_object();

    auto version = string_at(&event, "version");
    if (version && *version == "2.0")
      return decode_v2(event);
    if (version && *version == "1.0")
      return decode_v1(event);
    if (version)
      return "unsupported event payload version \"" + std::string(*version) + "\"";
    // Events without a version (older REST events, hand-written ones): the v2 shape is the one
    // with rawPath or requestContext.http.
    if (member(&event, "rawPath") != nullptr ||
        object_path(&event, {"requestContext", "http"}) != nullptr) {
      return decode_v2(event);
    }
    if (member(&event, "httpMethod") != nullptr)
      return decode_v1(event);
    return std::string(
        "not an API Gateway or Function URL proxy event (no httpMethod or requestContext.http)");
  } catch (const std::exception&) {
    // Only allocation can throw here; report it as an unusable event rather than crash.
    return std::string("the event could not be decoded");
  }
}

std::string encode_response(const app::response& res, event_version version) {
  json::object out;
  out["statusCode"] = res.status;
  if (version == event_version::rest_v1) {
    // `headers` carries one value per name (the last, as API Gateway itself does) for readers
    // that only look there; `multiValueHeaders` carries them all. API Gateway merges the two
    // and drops pairs present in both, so nothing is sent twice.
    json::object headers;
    json::object multi;
    for (const auto& group : group_headers(res.headers, false)) {
      headers[header_text(group.name)] = header_text(group.values.back());
      json::array values;
      for (std::string_view v : group.values)
        values.emplace_back(header_text(v));
      multi[header_text(group.name)] = std::move(values);
    }
    out["headers"] = std::move(headers);
    out["multiValueHeaders"] = std::move(multi);
  } else {
    // Set-Cookie cannot be comma-joined (its Expires attribute has a comma), hence `cookies`.
    json::object headers;
    json::array cookies;
    for (const auto& group : group_headers(res.headers, true)) {
      if (group.name == "set-cookie") {
        for (std::string_view v : group.values)
          cookies.emplace_back(header_text(v));
        continue;
      }
      std::string joined;
      for (std::string_view v : group.values) {
        if (!joined.empty())
          joined += ", ";
        joined += v;
      }
      headers[header_text(group.name)] = header_text(joined);
    }
    out["headers"] = std::move(headers);
    out["cookies"] = std::move(cookies);
  }
  set_body(out, res.body);
  return json::serialize(out);
}

}  // namespace crud::lambda
