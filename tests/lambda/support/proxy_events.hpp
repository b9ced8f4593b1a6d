#pragma once
// API Gateway proxy events written the way API Gateway writes them, REST (payload 1.0) and
// HTTP API (payload 2.0), from one description of an API call; and the proxy-integration
// response the binary answers with, parsed for assertions.

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

namespace crud::lambda_it {

using field_list = std::vector<std::pair<std::string, std::string>>;

struct api_call {
  std::string method = "GET";
  std::string path = "/items";  // the API's own path, without the stage
  field_list query;             // decoded names and values, in order
  field_list headers;           // v2 lower-cases the names, as API Gateway does
  std::optional<std::string> body;
  bool base64_body = false;          // send `body` base64-encoded, with isBase64Encoded true
  std::vector<std::string> cookies;  // v2 `cookies`; v1 folds them into a Cookie header
  std::string stage = "dev";
  std::string apigw_request_id = "apigw-request";  // requestContext.requestId
  // The caller's verified identity: v1 Cognito `claims.sub`, v2 `jwt.claims.sub`. Empty: none.
  std::string claims_sub;
};

std::string rest_v1_event(const api_call& call);
std::string http_v2_event(const api_call& call);

std::string base64_encode(std::string_view bytes);
// RFC 3986 percent-encoding of everything but the unreserved characters.
std::string percent_encode(std::string_view text);

struct proxy_response {
  boost::json::object whole;
  int status = 0;
  boost::json::value body;  // the parsed `body`; null when it is not JSON

  // A header from `headers`, by exact name (the case is part of what is checked).
  std::optional<std::string> header(std::string_view name) const;
  // A header from `headers`, any case.
  std::optional<std::string> header_any_case(std::string_view name) const;
};

// Parses the proxy response JSON text; the error is what makes it unusable.
struct parsed_response {
  std::optional<proxy_response> response;
  std::string error;
};
parsed_response parse_proxy_response(std::string_view text);

}  // namespace crud::lambda_it
