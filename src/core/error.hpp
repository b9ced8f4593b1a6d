#pragma once
// The API's error model: the contract's error codes, the HTTP status each maps to, and the
// domain error value (`api_error`) that every layer above core uses to describe a failed
// request. Transport layers turn an api_error into the error envelope; nothing else does.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace crud::core {

enum class error_code : std::uint8_t {
  bad_request,
  validation_failed,
  unauthorized,
  not_found,
  method_not_allowed,
  conflict,
  precondition_failed,
  payload_too_large,
  unsupported_media_type,
  idempotency_key_reused,
  idempotency_in_progress,
  rate_limited,
  internal,
  unavailable,
};

// The name used in the envelope's `error.code`, e.g. "VALIDATION_FAILED".
std::string_view code_name(error_code code) noexcept;

// The HTTP status the contract assigns to a code.
int default_status(error_code code) noexcept;

struct field_error {
  std::string field;
  std::string reason;
};

struct api_error {
  error_code code = error_code::internal;
  std::string message;
  std::vector<field_error> details;
  // 0 means default_status(code). Only a few transport errors (431) override it.
  int status = 0;
  // Seconds for a Retry-After header; 0 means none.
  int retry_after_s = 0;
  // What went wrong in detail, for the log line only; never sent to the client.
  std::string cause;

  int http_status() const noexcept { return status != 0 ? status : default_status(code); }
};

api_error make_error(error_code code, std::string message);

}  // namespace crud::core

namespace boost {
struct source_location;
}

namespace crud::core {
// Lets boost::system::result<T, api_error>::value() report an error by throwing; found by ADL.
[[noreturn]] void throw_exception_from_error(const api_error& e, const boost::source_location& loc);
}  // namespace crud::core
