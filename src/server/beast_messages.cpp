#include "server/beast_messages.hpp"

#include <algorithm>
#include <string>

#include <boost/beast/core/string.hpp>
#include <boost/beast/http/field.hpp>
#include <boost/beast/http/status.hpp>

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

wire_response serialize_response(app::response&& res, const response_framing& framing) {
  // 1xx, 204 and 304 carry no body and, here, no Content-Length either (RFC 9110 §8.6).
  const bool bodiless = res.status < 200 || res.status == 204 || res.status == 304;
  const auto status = static_cast<unsigned>(std::clamp(res.status, 100, 999));
  const std::string_view reason = http::obsolete_reason(static_cast<http::status>(status));

  wire_response out;
  std::size_t size = 64 + reason.size() + framing.date.size();
  for (const auto& [name, value] : res.headers)
    size += name.size() + value.size() + 4;
  out.head.reserve(size);
  out.head.append(framing.version == 10 ? "HTTP/1.0 " : "HTTP/1.1 ");
  out.head.append(std::to_string(status)).append(" ").append(reason).append("\r\n");
  auto field = [&](std::string_view name, std::string_view value) {
    out.head.append(name).append(": ").append(value).append("\r\n");
  };
  for (const auto& [name, value] : res.headers) {
    if (is_framing_field(name) || !is_token(name) || !is_safe_value(value))
      continue;
    field(name, value);
  }
  if (!framing.date.empty())
    field("Date", framing.date);
  if (!bodiless)
    field("Content-Length", std::to_string(res.body.size()));
  // HTTP/1.1 keeps the connection unless told otherwise, HTTP/1.0 closes it unless told.
  if (framing.version >= 11 && !framing.keep_alive)
    field("Connection", "close");
  if (framing.version < 11 && framing.keep_alive)
    field("Connection", "keep-alive");
  out.head.append("\r\n");
  if (!bodiless && !framing.head_request)
    out.body = std::move(res.body);
  return out;
}

}  // namespace crud::server
