#include "core/error.hpp"

#include <utility>

namespace crud::core {

std::string_view code_name(error_code code) noexcept {
  switch (code) {
    case error_code::bad_request:
      return "BAD_REQUEST";
    case error_code::validation_failed:
      return "VALIDATION_FAILED";
    case error_code::unauthorized:
      return "UNAUTHORIZED";
    case error_code::not_found:
      return "NOT_FOUND";
    case error_code::method_not_allowed:
      return "METHOD_NOT_ALLOWED";
    case error_code::conflict:
      return "CONFLICT";
    case error_code::precondition_failed:
      return "PRECONDITION_FAILED";
    case error_code::payload_too_large:
      return "PAYLOAD_TOO_LARGE";
    case error_code::unsupported_media_type:
      return "UNSUPPORTED_MEDIA_TYPE";
    case error_code::idempotency_key_reused:
      return "IDEMPOTENCY_KEY_REUSED";
    case error_code::idempotency_in_progress:
      return "IDEMPOTENCY_IN_PROGRESS";
    case error_code::rate_limited:
      return "RATE_LIMITED";
    case error_code::internal:
      return "INTERNAL";
    case error_code::unavailable:
      return "UNAVAILABLE";
  }
  return "INTERNAL";
}

int default_status(error_code code) noexcept {
  switch (code) {
    case error_code::bad_request:
    case error_code::validation_failed:
      return 400;
    case error_code::unauthorized:
      return 401;
    case error_code::not_found:
      return 404;
    case error_code::method_not_allowed:
      return 405;
    case error_code::conflict:
      return 409;
    case error_code::precondition_failed:
      return 412;
    case error_code::payload_too_large:
      return 413;
    case error_code::unsupported_media_type:
      return 415;
    case error_code::idempotency_key_reused:
      return 422;
    case error_code::idempotency_in_progress:
      return 409;
    case error_code::rate_limited:
      return 429;
    case error_code::internal:
      return 500;
    case error_code::unavailable:
      return 503;
  }
  return 500;
}

api_error make_error(error_code code, std::string message) {
  api_error e;
  e.code = code;
  e.message = std::move(message);
  return e;
}

}  // namespace crud::core

#include <boost/assert/source_location.hpp>
#include <stdexcept>

namespace crud::core {
void throw_exception_from_error(const api_error& e, const boost::source_location&) {
  throw std::runtime_error(std::string(code_name(e.code)) + ": " + e.message);
}
}  // namespace crud::core
