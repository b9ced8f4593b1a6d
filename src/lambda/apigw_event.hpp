#pragma once
// Translation between API Gateway / Function URL proxy events and the app's transport-neutral
// request and response. It reads REST API events (payload 1.0), HTTP API events (payload 2.0)
// and Function URL events (the 2.0 shape), removes the stage from the path, decodes the query,
// body and caller identity, and writes the proxy-integration response back in the shape of the
// version that came in. It does no I/O and never throws.
//
// Decisions worth knowing (see apigw_event.cpp for the reasons):
// - The owner comes only from what API Gateway verified, never from a header, in this order:
//   JWT / Cognito claims `sub`; a Lambda authorizer (v1 `principalId`; v2 the `lambda` context's
//   `sub`, then `principalId`, then `userId`); the IAM caller's `userArn`; else "public".
// - A stage prefix is removed only when it is a whole first segment (`/dev` or `/dev/...`) and
//   the stage is not `$default`. In v1, `path` normally arrives without the stage already
//   (`requestContext.path` keeps it); the prefix is then left alone even when the first
//   segment happens to equal the stage name.
// - Query strings decode like HTML forms (`+` is a space), as API Gateway does in v1.

#include <string>
#include <string_view>

#include <boost/system/result.hpp>

#include "app/http_types.hpp"

namespace crud::lambda {

enum class event_version { rest_v1, http_v2 };  // Function URLs use the v2 shape

struct decoded_event {
  app::request request;
  event_version version;
};

// Decodes an API Gateway REST (payload v1), HTTP API (v2) or Function URL event JSON text.
// The error is a one-line reason when the text is not a usable event (not JSON, not an object,
// no method or path, a body that is not valid base64...). `request.request_id` is left empty
// for the runtime loop to fill with the Lambda request id; `upstream_request_id` carries
// `requestContext.requestId`.
boost::system::result<decoded_event, std::string> decode_event(std::string_view event_json);

// Encodes the proxy-integration response in the shape of the incoming version:
// v1: {"statusCode","headers","multiValueHeaders","body","isBase64Encoded"}
// v2: {"statusCode","headers" (lower-case names; repeated headers comma-joined),"cookies",
//      "body","isBase64Encoded"}
// `isBase64Encoded` is false unless the body is not valid UTF-8 (JSON text cannot carry it).
std::string encode_response(const app::response& res, event_version version);

}  // namespace crud::lambda
