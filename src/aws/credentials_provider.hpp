#pragma once
// Where each signed request's credentials come from: fixed ones (the environment, the shared
// files) or ones a provider fetches and refreshes before they expire (the container endpoint).
// Implementations are thread-safe.

#include <cstdint>
#include <string>
#include <utility>

#include <boost/system/result.hpp>

#include "aws/credentials.hpp"

namespace crud::aws {

// Where each call's credentials come from; implementations refresh expiring ones.
class credentials_provider {
 public:
  virtual ~credentials_provider() = default;
  virtual boost::system::result<credentials, std::string> get(std::int64_t now_ms) = 0;
};

class static_credentials_provider final : public credentials_provider {
 public:
  explicit static_credentials_provider(credentials c) : creds_(std::move(c)) {}
  boost::system::result<credentials, std::string> get(std::int64_t) override { return creds_; }

 private:
  credentials creds_;
};

}  // namespace crud::aws
