#include "support/proxy_events.hpp"

#include <algorithm>
#include <boost/json/array.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <cctype>

namespace crud::lambda_it {
namespace json = boost::json;

namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool iequal(std::string_view a, std::string_view b) {
  return a.size() == b.size() && lower(a) == lower(b);
}

// Values grouped by name, names in first-seen order (std::map would sort them).
std::vector<std::pair<std::string, std::vector<std::string>>> grouped(const field_list& fields,
                                                                      bool lower_names) {
  std::vector<std::pair<std::string, std::vector<std::string>>> out;
  for (const auto& [name, value] : fields) {
    std::string key = lower_names ? lower(name) : name;
    auto it = std::find_if(out.begin(), out.end(), [&](const auto& g) { return g.first == key; });
    if (it == out.end()) {
      out.push_back({key, {value}});
    } else {
      it->second.push_back(value);
    }
  }
  return out;
}

json::value body_value(const api_call& call) {
  if (!call.body)
    return nullptr;
  return json::value(call.base64_body ? base64_encode(*call.body) : *call.body);
}

}  // namespace

std::string base64_encode(std::string_view bytes) {
  static constexpr char alphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  std::size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    unsigned v = (static_cast<unsigned char>(bytes[i]) << 16) |
                 (static_cast<unsigned char>(bytes[i + 1]) << 8) |
                 static_cast<unsigned char>(bytes[i + 2]);
    for (int shift : {18, 12, 6, 0})
      out.push_back(alphabet[(v >> shift) & 63]);
  }
  if (std::size_t rest = bytes.size() - i; rest > 0) {
    unsigned v = static_cast<unsigned char>(bytes[i]) << 16;
    if (rest == 2)
      v |= static_cast<unsigned char>(bytes[i + 1]) << 8;
    out.push_back(alphabet[(v >> 18) & 63]);
    out.push_back(alphabet[(v >> 12) & 63]);
    out.push_back(rest == 2 ? alphabet[(v >> 6) & 63] : '=');
    out.push_back('=');
  }
  return out;
}

std::string percent_encode(std::string_view text) {
  static constexpr char hex[] = "0123456789ABCDEF";
  std::string out;
  for (char c : text) {
    auto u = static_cast<unsigned char>(c);
    if (std::isalnum(u) || c == '-' || c == '.' || c == '_' || c == '~') {
      out.push_back(c);
    } else {
      out.push_back('%');
      out.push_back(hex[u >> 4]);
      out.push_back(hex[u & 15]);
    }
  }
  return out;
}

std::string rest_v1_event(const api_call& call) {
  field_list headers = call.headers;
  if (!call.cookies.empty()) {
    std::string joined;
    for (const auto& c : call.cookies)
      joined += (joined.empty() ? "" : "; ") + c;
    headers.emplace_back("Cookie", joined);
  }
  json::object ev;
  ev["resource"] = "/{proxy+}";
  ev["path"] = call.path;
  ev["httpMethod"] = call.method;
  if (headers.empty()) {
    ev["headers"] = nullptr;
    ev["multiValueHeaders"] = nullptr;
  } else {
    json::object single;
    json::object multi;
    for (const auto& [name, values] : grouped(headers, false)) {
      single[name] = values.back();
      json::array arr;
      for (const auto& v : values)
        arr.emplace_back(v);
      multi[name] = std::move(arr);
    }
    ev["headers"] = std::move(single);
    ev["multiValueHeaders"] = std::move(multi);
  }
  if (call.query.empty()) {
    ev["queryStringParameters"] = nullptr;
    ev["multiValueQueryStringParameters"] = nullptr;
  } else {
    json::object single;
    json::object multi;
    for (const auto& [name, values] : grouped(call.query, false)) {
      single[name] = values.back();
      json::array arr;
      for (const auto& v : values)
        arr.emplace_back(v);
      multi[name] = std::move(arr);
    }
    ev["queryStringParameters"] = std::move(single);
    ev["multiValueQueryStringParameters"] = std::move(multi);
  }
  ev["pathParameters"] = json::object{{"proxy", call.path.substr(1)}};
  ev["stageVariables"] = nullptr;
  ev["requestContext"] = json::object{
      {"accountId", "123456789012"},
      {"apiId", "a1b2c3d4e5"},
      {"resourceId", "r3s0urc3"},
      {"resourcePath", "/{proxy+}"},
      {"httpMethod", call.method},
      {"path", "/" + call.stage + call.path},
      {"stage", call.stage},
      {"requestId", call.apigw_request_id},
      {"requestTimeEpoch", 1767225600000},
      {"protocol", "HTTP/1.1"},
      {"identity", json::object{{"sourceIp", "127.0.0.1"}, {"userAgent", "lambda-it"}}},
  };
  if (!call.claims_sub.empty()) {
    ev["requestContext"].as_object()["authorizer"] =
        json::object{{"claims", json::object{{"sub", call.claims_sub}}}};
  }
  ev["body"] = body_value(call);
  ev["isBase64Encoded"] = call.base64_body;
  return json::serialize(ev);
}

std::string http_v2_event(const api_call& call) {
  // Appended piece by piece: GCC 12 misreports `"literal" + std::string` under -Wrestrict.
  std::string raw_path;
  if (call.stage != "$default")
    raw_path.append("/").append(call.stage);
  raw_path += call.path;
  std::string raw_query;
  for (const auto& [name, value] : call.query) {
    if (!raw_query.empty())
      raw_query += '&';
    raw_query.append(percent_encode(name)).append("=").append(percent_encode(value));
  }
  json::object ev;
  ev["version"] = "2.0";
  ev["routeKey"] = "$default";
  ev["rawPath"] = raw_path;
  ev["rawQueryString"] = raw_query;
  if (!call.cookies.empty()) {
    json::array cookies;
    for (const auto& c : call.cookies)
      cookies.emplace_back(c);
    ev["cookies"] = std::move(cookies);
  }
  json::object headers;
  for (const auto& [name, values] : grouped(call.headers, true)) {
    std::string joined;
    for (const auto& v : values)
      joined += (joined.empty() ? "" : ",") + v;
    headers[name] = joined;
  }
  ev["headers"] = std::move(headers);
  if (!call.query.empty()) {
    json::object params;
    for (const auto& [name, values] : grouped(call.query, false)) {
      std::string joined;
      for (const auto& v : values)
        joined += (joined.empty() ? "" : ",") + v;
      params[name] = joined;
    }
    ev["queryStringParameters"] = std::move(params);
  }
  ev["requestContext"] = json::object{
      {"accountId", "123456789012"},
      {"apiId", "a1b2c3d4e5"},
      {"domainName", "a1b2c3d4e5.execute-api.us-east-1.amazonaws.com"},
      {"domainPrefix", "a1b2c3d4e5"},
      {"http", json::object{{"method", call.method},
                            {"path", raw_path},
                            {"protocol", "HTTP/1.1"},
                            {"sourceIp", "127.0.0.1"},
                            {"userAgent", "lambda-it"}}},
      {"requestId", call.apigw_request_id},
      {"routeKey", "$default"},
      {"stage", call.stage},
      {"time", "01/Jan/2026:00:00:00 +0000"},
      {"timeEpoch", 1767225600000},
  };
  if (!call.claims_sub.empty()) {
    ev["requestContext"].as_object()["authorizer"] =
        json::object{{"jwt", json::object{{"claims", json::object{{"sub", call.claims_sub}}},
                                          {"scopes", json::array{}}}}};
  }
  ev["body"] = body_value(call);
  ev["isBase64Encoded"] = call.base64_body;
  return json::serialize(ev);
}

std::optional<std::string> proxy_response::header(std::string_view name) const {
  const json::object* headers =
      whole.if_contains("headers") ? whole.at("headers").if_object() : nullptr;
  if (headers == nullptr)
    return std::nullopt;
  auto it = headers->find(name);
  if (it == headers->end() || !it->value().is_string())
    return std::nullopt;
  return std::string(it->value().get_string());
}

std::optional<std::string> proxy_response::header_any_case(std::string_view name) const {
  const json::object* headers =
      whole.if_contains("headers") ? whole.at("headers").if_object() : nullptr;
  if (headers == nullptr)
    return std::nullopt;
  for (const auto& field : *headers) {
    if (iequal(field.key(), name) && field.value().is_string())
      return std::string(field.value().get_string());
  }
  return std::nullopt;
}

parsed_response parse_proxy_response(std::string_view text) {
  parsed_response out;
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec) {
    out.error = "not JSON: " + ec.message() + " in: " + std::string(text);
    return out;
  }
  if (!v.is_object()) {
    out.error = "not a JSON object: " + std::string(text);
    return out;
  }
  proxy_response r;
  r.whole = std::move(v.as_object());
  const json::value* status = r.whole.if_contains("statusCode");
  if (status == nullptr || !status->is_int64()) {
    out.error = "no integer statusCode in: " + std::string(text);
    return out;
  }
  r.status = static_cast<int>(status->as_int64());
  if (const json::value* body = r.whole.if_contains("body"); body && body->is_string()) {
    json::value parsed = json::parse(body->get_string(), ec);
    if (!ec)
      r.body = std::move(parsed);
  }
  out.response = std::move(r);
  return out;
}

}  // namespace crud::lambda_it
