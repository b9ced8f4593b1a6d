#include "support/contract_checks.hpp"

#include <boost/json.hpp>
#include <regex>
#include <set>

namespace crud::e2e {

namespace json = boost::json;

json::value json_of(const http_response& res) {
  boost::system::error_code ec;
  auto value = json::parse(res.body, ec);
  return ec ? json::value() : value;
}

json::object data_of(const http_response& res) {
  const auto body = json_of(res);
  if (!body.is_object()) {
    return {};
  }
  const auto* data = body.get_object().if_contains("data");
  return data != nullptr && data->is_object() ? data->get_object() : json::object();
}

std::string describe(const http_response& res) {
  std::string out = "status " + std::to_string(res.status);
  if (!res.error.empty()) {
    out += " (transport: " + res.error + ")";
  }
  out += ", body: " + res.body.substr(0, 600);
  return out;
}

::testing::AssertionResult has_contract_headers(const http_response& res) {
  const auto type = res.header("Content-Type");
  if (!type || *type != json_content_type) {
    return ::testing::AssertionFailure()
           << "Content-Type is '" << type.value_or("<absent>") << "', " << describe(res);
  }
  const auto request_id = res.header("X-Request-Id");
  if (!request_id || request_id->empty()) {
    return ::testing::AssertionFailure() << "no X-Request-Id, " << describe(res);
  }
  const auto correlation = res.header("X-Correlation-Id");
  if (!correlation || correlation->empty()) {
    return ::testing::AssertionFailure() << "no X-Correlation-Id, " << describe(res);
  }
  return ::testing::AssertionSuccess();
}

::testing::AssertionResult is_success(const http_response& res, int status) {
  if (res.status != status) {
    return ::testing::AssertionFailure() << "expected " << status << ", got " << describe(res);
  }
  if (auto headers = has_contract_headers(res); !headers) {
    return headers;
  }
  const auto body = json_of(res);
  if (!body.is_object()) {
    return ::testing::AssertionFailure() << "body is not a JSON object, " << describe(res);
  }
  const auto& obj = body.get_object();
  const auto* code = obj.if_contains("statusCode");
  if (code == nullptr || !code->is_int64() || code->get_int64() != status) {
    return ::testing::AssertionFailure()
           << "statusCode differs from " << status << ", " << describe(res);
  }
  if (obj.if_contains("data") == nullptr) {
    return ::testing::AssertionFailure() << "no data, " << describe(res);
  }
  if (obj.if_contains("error") != nullptr) {
    return ::testing::AssertionFailure() << "a success carries error, " << describe(res);
  }
  return ::testing::AssertionSuccess();
}

::testing::AssertionResult is_error(const http_response& res, int status, std::string_view code) {
  if (res.status != status) {
    return ::testing::AssertionFailure()
           << "expected " << status << " " << code << ", got " << describe(res);
  }
  if (auto headers = has_contract_headers(res); !headers) {
    return headers;
  }
  const auto body = json_of(res);
  if (!body.is_object()) {
    return ::testing::AssertionFailure() << "body is not a JSON object, " << describe(res);
  }
  const auto& obj = body.get_object();
  const auto* status_code = obj.if_contains("statusCode");
  if (status_code == nullptr || !status_code->is_int64() || status_code->get_int64() != status) {
    return ::testing::AssertionFailure()
           << "statusCode differs from " << status << ", " << describe(res);
  }
  const auto* message = obj.if_contains("message");
  if (message == nullptr || !message->is_string() || message->get_string().empty()) {
    return ::testing::AssertionFailure() << "no message, " << describe(res);
  }
  const auto* error = obj.if_contains("error");
  if (error == nullptr || !error->is_object()) {
    return ::testing::AssertionFailure() << "no error object, " << describe(res);
  }
  const auto* error_code = error->get_object().if_contains("code");
  if (error_code == nullptr || !error_code->is_string() || error_code->get_string() != code) {
    return ::testing::AssertionFailure() << "error.code is not " << code << ", " << describe(res);
  }
  const auto* error_message = error->get_object().if_contains("message");
  if (error_message == nullptr || !error_message->is_string() ||
      error_message->get_string().empty()) {
    return ::testing::AssertionFailure() << "no error.message, " << describe(res);
  }
  if (const auto* details = error->get_object().if_contains("details")) {
    if (!details->is_array()) {
      return ::testing::AssertionFailure() << "error.details is not an array, " << describe(res);
    }
    for (const auto& d : details->get_array()) {
      const auto* field = d.is_object() ? d.get_object().if_contains("field") : nullptr;
      const auto* reason = d.is_object() ? d.get_object().if_contains("reason") : nullptr;
      if (field == nullptr || !field->is_string() || reason == nullptr || !reason->is_string()) {
        return ::testing::AssertionFailure()
               << "a details entry lacks field or reason, " << describe(res);
      }
    }
  }
  if (obj.if_contains("data") != nullptr) {
    return ::testing::AssertionFailure() << "an error carries data, " << describe(res);
  }
  const auto* request_id = obj.if_contains("requestId");
  const auto header_id = res.header("X-Request-Id");
  if (request_id == nullptr || !request_id->is_string() || !header_id ||
      request_id->get_string() != *header_id) {
    return ::testing::AssertionFailure() << "requestId differs from X-Request-Id '"
                                         << header_id.value_or("") << "', " << describe(res);
  }
  return ::testing::AssertionSuccess();
}

std::vector<std::string> detail_fields(const http_response& res) {
  std::vector<std::string> fields;
  const auto body = json_of(res);
  if (!body.is_object()) {
    return fields;
  }
  const auto* error = body.get_object().if_contains("error");
  if (error == nullptr || !error->is_object()) {
    return fields;
  }
  const auto* details = error->get_object().if_contains("details");
  if (details == nullptr || !details->is_array()) {
    return fields;
  }
  for (const auto& d : details->get_array()) {
    if (const auto* f = d.is_object() ? d.get_object().if_contains("field") : nullptr;
        f != nullptr && f->is_string()) {
      fields.emplace_back(f->get_string());
    }
  }
  return fields;
}

::testing::AssertionResult is_item(const json::value& item) {
  static const std::regex id_pattern("item_[0-7][0-9A-HJKMNP-TV-Z]{25}");
  static const std::regex time_pattern(
      R"(\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])T([01]\d|2[0-3]):[0-5]\d:[0-5]\d\.\d{3}Z)");
  if (!item.is_object()) {
    return ::testing::AssertionFailure() << "not an object: " << json::serialize(item);
  }
  const auto& obj = item.get_object();
  const std::set<std::string> allowed{"id",        "name",    "description", "createdAt",
                                      "updatedAt", "version", "deletedAt"};
  for (const auto& kv : obj) {
    if (allowed.count(std::string(kv.key())) == 0) {
      return ::testing::AssertionFailure()
             << "unexpected field '" << kv.key() << "' in " << json::serialize(item);
    }
  }
  const auto string_field = [&](const char* name) -> const json::string* {
    const auto* v = obj.if_contains(name);
    return v != nullptr && v->is_string() ? &v->get_string() : nullptr;
  };
  const auto* id = string_field("id");
  if (id == nullptr || !std::regex_match(id->c_str(), id_pattern)) {
    return ::testing::AssertionFailure() << "bad id in " << json::serialize(item);
  }
  if (string_field("name") == nullptr || string_field("description") == nullptr) {
    return ::testing::AssertionFailure() << "name/description missing in " << json::serialize(item);
  }
  for (const char* t : {"createdAt", "updatedAt"}) {
    const auto* s = string_field(t);
    if (s == nullptr || !std::regex_match(s->c_str(), time_pattern)) {
      return ::testing::AssertionFailure() << "bad " << t << " in " << json::serialize(item);
    }
  }
  const auto* version = obj.if_contains("version");
  if (version == nullptr || !version->is_int64() || version->get_int64() < 1) {
    return ::testing::AssertionFailure() << "bad version in " << json::serialize(item);
  }
  if (*string_field("updatedAt") < *string_field("createdAt")) {
    return ::testing::AssertionFailure()
           << "updatedAt before createdAt in " << json::serialize(item);
  }
  return ::testing::AssertionSuccess();
}

std::string string_at(const json::object& obj, std::string_view key) {
  const auto* v = obj.if_contains(key);
  return v != nullptr && v->is_string() ? std::string(v->get_string()) : std::string();
}

json::object logged_line(const server_process& server, const http_response& res) {
  const std::string id = res.header("X-Request-Id").value_or("");
  json::object found;
  server.wait_for_line(
      [&](std::string_view line) {
        boost::system::error_code ec;
        auto v = json::parse(line, ec);
        if (ec || !v.is_object() || string_at(v.get_object(), "requestId") != id)
          return false;
        found = std::move(v.get_object());
        return true;
      },
      std::chrono::seconds(5));
  return found;
}

std::int64_t int_at(const json::object& obj, std::string_view key) {
  const auto* v = obj.if_contains(key);
  return v != nullptr && v->is_int64() ? v->get_int64() : -1;
}

std::vector<std::string> ids_of(const http_response& res) {
  std::vector<std::string> ids;
  const auto body = json_of(res);
  const auto* data = body.is_object() ? body.get_object().if_contains("data") : nullptr;
  if (data == nullptr || !data->is_array()) {
    return ids;
  }
  for (const auto& item : data->get_array()) {
    if (item.is_object()) {
      ids.push_back(string_at(item.get_object(), "id"));
    }
  }
  return ids;
}

std::string url_encode(std::string_view s) {
  static constexpr char hex[] = "0123456789ABCDEF";
  std::string out;
  for (const unsigned char c : s) {
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
        c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

std::string json_string(std::string_view text) {
  return json::serialize(json::string(text));
}

}  // namespace crud::e2e
