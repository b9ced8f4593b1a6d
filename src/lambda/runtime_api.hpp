#pragma once
// The Lambda Runtime API as the runtime loop sees it: fetch the next invocation, post its
// response or its error, or report a failed start-up. `runtime_client` implements it over
// HTTP; tests implement it in memory.

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include <boost/assert/source_location.hpp>
#include <boost/system/result.hpp>

namespace crud::lambda {

struct invocation {
  std::string request_id;        // Lambda-Runtime-Aws-Request-Id
  std::int64_t deadline_ms = 0;  // Lambda-Runtime-Deadline-Ms (epoch ms)
  std::string function_arn;      // Lambda-Runtime-Invoked-Function-Arn
  std::string trace_id;          // Lambda-Runtime-Trace-Id
  std::string client_context;    // Lambda-Runtime-Client-Context
  std::string cognito_identity;  // Lambda-Runtime-Cognito-Identity
  std::string payload;           // the event
};

struct runtime_failure {
  std::string message;
  // The Runtime API answered 500 ("container error") or is gone: the process should exit
  // promptly rather than retry.
  bool fatal = false;
};

template <class T>
using runtime_result = boost::system::result<T, runtime_failure>;

class runtime_api {
 public:
  virtual ~runtime_api() = default;
  virtual runtime_result<invocation> next() = 0;
  virtual runtime_result<void> post_response(const std::string& request_id,
                                             const std::string& body) = 0;
  virtual runtime_result<void> post_error(const std::string& request_id,
                                          const std::string& error_type,
                                          const std::string& message) = 0;
  virtual runtime_result<void> post_init_error(const std::string& error_type,
                                               const std::string& message) = 0;
};

// The invocation that a 200 answer to GET /invocation/next describes. `header` returns a
// response header's value by name, empty when absent. Separate from the client so that what the
// Runtime API sends can be tested, and fuzzed, without a socket. Fails when there is no request
// id, since nothing could then be posted back.
runtime_result<invocation> parse_invocation_headers(
    const std::function<std::string_view(std::string_view)>& header, std::string payload);

// {"errorMessage":…,"errorType":…,"stackTrace":[]}, the body of /error and /init/error.
std::string error_body(const std::string& error_type, const std::string& message);

// Lets runtime_result<T>::value() throw; found by ADL.
[[noreturn]] void throw_exception_from_error(const runtime_failure& f,
                                             const boost::source_location& loc);
}  // namespace crud::lambda
