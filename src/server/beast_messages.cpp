#include "server/beast_messages.hpp"

#include <algorithm>

#include <boost/beast/core/string.hpp>
#include <boost/beast/http/field.hpp>

namespace crud::server {
namespace http = boost::beast::http;

namespace {

// RFC 9110 tchar.
bool is_token(std::string_view s) noexcept {
  if (s.empty())
    return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
      return true;
    return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
  });
}

bool is_safe_value(std::string_view s) noexcept {
  return std::none_of(s.begin(), s.end(),
                      [](char c) { return c == '\r' || c == '\n' || c == '\0'; });
}

bool is_framing_field(std::string_view name) noexcept {
  using boost::beast::iequals;
  return iequals(name, "Content-Length") || iequals(name, "Transfer-Encoding") ||
         iequals(name, "Connection") || iequals(name, "Keep-Alive") || iequals(name, "Date");
}

}  // namespace

app::request to_app_request(beast_request&& msg, request_target target) {
  app::request req;
  req.method = std::string(msg.method_string());
  req.path = std::move(target.path);
  req.query = std::move(target.query);
  req.headers.reserve(static_cast<std::size_t>(std::distance(msg.begin(), msg.end())));
  for (const auto& field : msg) {
    req.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
  }
  req.body = std::move(msg.body());
  return req;
}

beast_response to_beast_response(app::response&& res, const response_framing& framing) {
  beast_response out;
  out.version(framing.version);
  out.result(static_cast<unsigned>(res.status));
  for (auto& [name, value] : res.headers) {
    if (is_framing_field(name) || !is_token(name) || !is_safe_value(value))
      continue;
    out.insert(name, value);
  }
  if (!framing.date.empty())
    out.set(http::field::date, framing.date);

  // 1xx, 204 and 304 carry no body and, here, no Content-Length either (RFC 9110 §8.6).
  const bool bodiless = res.status < 200 || res.status == 204 || res.status == 304;
  if (!bodiless)
    out.content_length(res.body.size());
  if (!bodiless && !framing.head_request)
    out.body() = std::move(res.body);
  out.keep_alive(framing.keep_alive);
  return out;
}

}  // namespace crud::server
