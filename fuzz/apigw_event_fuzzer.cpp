// API Gateway / Function URL event decoding, then encoding a response that echoes what decoded:
// the event is the one input a Lambda deployment takes from outside.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include <boost/json/parse.hpp>

#include "lambda/apigw_event.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace crud;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto decoded = lambda::decode_event(text);
  if (!decoded)
    return 0;
  // Whatever decoded (headers, body bytes) goes back out, so the encoder meets hostile text too.
  const app::request& req = decoded->request;
  app::response res;
  res.status = 200;
  res.headers = req.headers;
  res.headers.emplace_back("Set-Cookie", req.path);
  res.body = req.body;
  for (auto version : {lambda::event_version::rest_v1, lambda::event_version::http_v2}) {
    const std::string out = lambda::encode_response(res, version);
    boost::system::error_code ec;
    boost::json::parse(out, ec);
    if (ec)
      std::abort();  // the response must always be JSON, whatever it carries
  }
  return 0;
}
