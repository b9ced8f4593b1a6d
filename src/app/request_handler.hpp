#pragma once
// The app as a transport sees it: one call per request, which never throws. `api` implements
// it; transport tests substitute their own.

#include "app/http_types.hpp"
#include "app/transport_hooks.hpp"
#include "core/error.hpp"

namespace crud::app {

class request_handler {
 public:
  virtual ~request_handler() = default;

  // Runs the whole pipeline for a request the transport could read.
  virtual response handle(const request& req, const transport_hooks& hooks) noexcept = 0;

  // Answers a request the transport refused before it could be routed (a malformed target, a
  // header or body over its limit), in the same envelope and with the same log line as any
  // other.
  virtual response reject(const request& req, const core::api_error& error) noexcept = 0;
};

}  // namespace crud::app
