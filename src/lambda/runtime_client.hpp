#pragma once
// The Lambda Runtime API over HTTP/1.1 (Beast, plain TCP, one keep-alive connection) to
// $AWS_LAMBDA_RUNTIME_API. `next` long-polls with no read timeout; the posts have a short one.

#include <memory>
#include <string>

#include "lambda/runtime_api.hpp"

namespace crud::lambda {

class runtime_client final : public runtime_api {
 public:
  // `endpoint` is host:port, as AWS_LAMBDA_RUNTIME_API gives it.
  explicit runtime_client(const std::string& endpoint);
  ~runtime_client() override;
  runtime_client(const runtime_client&) = delete;
  runtime_client& operator=(const runtime_client&) = delete;

  runtime_result<invocation> next() override;
  runtime_result<void> post_response(const std::string& request_id,
                                     const std::string& body) override;
  runtime_result<void> post_error(const std::string& request_id, const std::string& error_type,
                                  const std::string& message) override;
  runtime_result<void> post_init_error(const std::string& error_type,
                                       const std::string& message) override;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace crud::lambda
