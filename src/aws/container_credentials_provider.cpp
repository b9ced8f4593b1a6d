#include "aws/container_credentials_provider.hpp"

#include <boost/url/parse.hpp>

namespace crud::aws {
namespace {
// credentials is an aggregate of strings, so a bare string would be ambiguous here.
boost::system::result<credentials, std::string> failure(std::string reason) {
  return {boost::system::in_place_error, std::move(reason)};
}
}  // namespace

container_credentials_provider::container_credentials_provider(
    container_credentials_request request, std::shared_ptr<http_client> http,
    std::function<std::optional<std::string>(const std::string& path)> read_file)
    : request_(std::move(request)), http_(std::move(http)), read_file_(std::move(read_file)) {}

boost::system::result<credentials, std::string> container_credentials_provider::get(
    std::int64_t now_ms) {
  std::lock_guard lock(mutex_);
  if (cached_ && !needs_refresh(*cached_, now_ms))
    return *cached_;
  auto fetched = fetch();
  if (fetched) {
    cached_ = *fetched;
    return *fetched;
  }
  if (cached_ && (cached_->expires_at_ms == 0 || cached_->expires_at_ms > now_ms))
    return *cached_;
  return failure(fetched.error());
}

boost::system::result<credentials, std::string> container_credentials_provider::fetch() {
  auto url = boost::urls::parse_absolute_uri(request_.url);
  if (!url)
    return failure("the container credentials URL is not an absolute URL");
  http_request req;
  req.method = "GET";
  req.tls = url->scheme() == "https";
  req.host = url->host_address();
  req.port = url->has_port() ? url->port_number() : (req.tls ? 443 : 80);
  req.target = url->encoded_target().empty() ? "/" : std::string(url->encoded_target());
  req.timeout_ms = 2000;
  std::string authorization = request_.authorization;
  if (!request_.authorization_token_file.empty()) {
    auto contents = read_file_ ? read_file_(request_.authorization_token_file) : std::nullopt;
    if (!contents)
      return failure("cannot read AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE");
    auto token = authorization_from_token_file(*contents);
    if (!token)
      return failure(token.error().message);
    authorization = std::move(*token);
  }
  if (!authorization.empty())
    req.headers.emplace_back("Authorization", authorization);
  auto res = http_->send(req);
  if (!res)
    return failure("the container credentials endpoint is unreachable: " + res.error().message());
  if (res->status != 200)
    return failure("the container credentials endpoint answered HTTP " +
                   std::to_string(res->status));
  auto creds = parse_container_credentials(res->body);
  if (!creds)
    return failure(creds.error().message);
  return std::move(*creds);
}

}  // namespace crud::aws
