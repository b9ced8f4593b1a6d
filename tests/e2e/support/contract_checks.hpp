#pragma once
// Assertions on what CONTRACT §2 promises every response: the envelope, the error shape and
// the headers. They return ::testing::AssertionResult so a failure names the request's status
// and body, e.g. `EXPECT_TRUE(is_error(res, 404, "NOT_FOUND"))`.

#include <gtest/gtest.h>

#include <boost/json/value.hpp>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "support/http_client.hpp"
#include "support/server_process.hpp"

namespace crud::e2e {

inline constexpr std::string_view json_content_type = "application/json; charset=utf-8";

// The body as JSON; a null value when it is not JSON.
boost::json::value json_of(const http_response& res);
// `data` of a success envelope as an object; empty when absent.
boost::json::object data_of(const http_response& res);
// A short description for failure messages: status, error and body.
std::string describe(const http_response& res);

// Content-Type, X-Request-Id and X-Correlation-Id as every response must carry them.
::testing::AssertionResult has_contract_headers(const http_response& res);
// Status `status`, the headers, and `{"statusCode": status, "data": ...}`.
::testing::AssertionResult is_success(const http_response& res, int status);
// Status `status`, the headers, and the error envelope with `error.code == code` and a
// `requestId` equal to the X-Request-Id header.
::testing::AssertionResult is_error(const http_response& res, int status, std::string_view code);
// The `field` of every `error.details` entry, in order.
std::vector<std::string> detail_fields(const http_response& res);
// An item as CONTRACT §2 shows it: exactly its fields, an `item_` + ULID id, RFC 3339 UTC
// millisecond timestamps, a positive version.
::testing::AssertionResult is_item(const boost::json::value& item);

// obj[key] as a string ("" when absent or not a string) and as an integer (-1 likewise).
std::string string_at(const boost::json::object& obj, std::string_view key);
std::int64_t int_at(const boost::json::object& obj, std::string_view key);
// The ids of a list response's `data`, in order.
std::vector<std::string> ids_of(const http_response& res);

// The log line (CONTRACT §3) of the request `res` answered, found by its X-Request-Id among
// the server's stdout lines; waits up to 5 s for it, and is empty when none came.
boost::json::object logged_line(const server_process& server, const http_response& res);

// Percent-encodes a query parameter value.
std::string url_encode(std::string_view s);
// `"text"` as a JSON string literal.
std::string json_string(std::string_view text);

}  // namespace crud::e2e
