#include "main/jwks_fetch.hpp"

#include <cstdint>
#include <utility>

#include <boost/url/parse.hpp>

namespace crud::main {
namespace {

// Built by append: GCC 12 warns falsely (-Wrestrict) on "literal" + std::string.
std::string quoted(std::string_view text) {
  std::string out = "'";
  out.append(text).push_back('\'');
  return out;
}

}  // namespace

boost::system::result<core::jwks_cache::fetch_fn, std::string> make_jwks_fetch(
    std::shared_ptr<aws::http_client> http, std::string_view url) {
  auto parsed = boost::urls::parse_absolute_uri(url);
  if (!parsed || (parsed->scheme() != "http" && parsed->scheme() != "https") ||
      parsed->host().empty())
    return quoted(url) + " is not an http or https URL";
  aws::http_request request;
  request.method = "GET";
  request.tls = parsed->scheme() == "https";
  // An IPv6 literal goes to the client without its brackets.
  request.host = parsed->host_type() == boost::urls::host_type::ipv6
                     ? std::string(parsed->encoded_host_address())
                     : std::string(parsed->encoded_host());
  request.port = request.tls ? 443 : 80;
  if (parsed->has_port()) {
    if (parsed->port_number() == 0)
      return quoted(url) + " has no usable port";
    request.port = parsed->port_number();
  }
  request.target = std::string(parsed->encoded_target());
  if (request.target.empty() || request.target.front() != '/')
    request.target = std::string("/").append(request.target);
  request.headers = {{"Accept", "application/jwk-set+json, application/json"}};
  return core::jwks_cache::fetch_fn(
      [http = std::move(http), request = std::move(request), where = std::string(url)](
          std::int64_t timeout_ms) -> boost::system::result<std::string, std::string> {
        aws::http_request r = request;
        r.timeout_ms = timeout_ms;
        auto response = http->send(r);
        if (!response)
          return {boost::system::in_place_error,
                  "cannot fetch " + where + ": " + response.error().message()};
        if (response->status != 200)
          return {boost::system::in_place_error,
                  "fetching " + where + " answered " + std::to_string(response->status)};
        return {boost::system::in_place_value, std::move(response->body)};
      });
}

}  // namespace crud::main
