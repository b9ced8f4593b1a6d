#pragma once
// Credentials from the container credentials endpoint (ECS, EKS Pod Identity, Lambda
// SnapStart), fetched through the http_client and kept until shortly before they expire
// (refresh_margin_ms), then fetched again. When a refresh fails but the credentials in hand
// have not expired yet, they go on being used, so a brief outage of the endpoint is not one of
// the service.

#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "aws/container_credentials.hpp"
#include "aws/credentials_provider.hpp"
#include "aws/http_client.hpp"

namespace crud::aws {

class container_credentials_provider final : public credentials_provider {
 public:
  // `read_file` returns a file's contents, or nullopt when it cannot be read; it is called for
  // the authorization token file before every fetch, since EKS rotates it.
  container_credentials_provider(
      container_credentials_request request, std::shared_ptr<http_client> http,
      std::function<std::optional<std::string>(const std::string& path)> read_file);

  boost::system::result<credentials, std::string> get(std::int64_t now_ms) override;

 private:
  boost::system::result<credentials, std::string> fetch();

  container_credentials_request request_;
  std::shared_ptr<http_client> http_;
  std::function<std::optional<std::string>(const std::string&)> read_file_;
  std::mutex mutex_;
  std::optional<credentials> cached_;
};

}  // namespace crud::aws
