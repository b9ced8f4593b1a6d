#pragma once
// Translation between HTTP on the wire and the app's request/response: Beast's parsed request
// in, the serialized response out. The only place where the two meet, so the session only moves
// messages around.

#include <string>
#include <string_view>

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include "app/http_types.hpp"
#include "server/request_target.hpp"

namespace crud::server {

using beast_request = boost::beast::http::request<boost::beast::http::string_body>;
using beast_response = boost::beast::http::response<boost::beast::http::string_body>;

// Moves the method, headers and body of `msg` into an app::request with the decoded target.
// The owner stays "public" and request_id empty: the app makes one.
app::request to_app_request(beast_request&& msg, request_target target);

struct response_framing {
  unsigned version = 11;      // the request's: 10 or 11
  bool head_request = false;  // HEAD: Content-Length of the body, but no body
  bool keep_alive = true;
  std::string_view date;  // the Date header; none when empty
};

// A response as it goes on the wire: the status line and header through the blank line, then
// the body, written together with one gather write.
struct wire_response {
  std::string head;
  std::string body;  // empty for HEAD and for statuses without a body
};

// The wire response for `res`: its status and headers, with the framing headers
// (Content-Length, Connection, Transfer-Encoding) set here rather than taken from the app.
// Header fields a peer could misparse (a CR or LF in a value, a bad name) are dropped. The
// bytes are those Beast's serializer writes for the same message; written here in one pass,
// they cost one allocation instead of one per field and a serializer's state machine.
wire_response serialize_response(app::response&& res, const response_framing& framing);

}  // namespace crud::server
