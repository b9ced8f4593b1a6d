#pragma once
// The invocation loop of a Lambda custom runtime: next → handle → response (or error), for
// ever. A failure inside one invocation never ends the loop: the handler's answer is always
// posted, and anything the handler could not turn into an HTTP response is posted to the
// invocation's /error. The loop ends only when the Runtime API itself fails: at once on a
// container error, or after a few quick retries of `next`.

#include <chrono>
#include <functional>
#include <string>

#include <boost/assert/source_location.hpp>
#include <boost/system/result.hpp>

#include "lambda/runtime_api.hpp"

namespace crud::lambda {

// What a handler could not turn into a response, posted to the invocation's /error.
struct handler_error {
  // Two strings, never one: a lone string in a handler_result is the response body.
  handler_error() = default;
  handler_error(std::string error_type, std::string error_message)
      : type(std::move(error_type)), message(std::move(error_message)) {}

  std::string type;  // e.g. "InvalidEvent"
  std::string message;
};

// What a handler returns: the response body to post, or an error to post to /error.
using handler_result = boost::system::result<std::string, handler_error>;

// Lets handler_result::value() throw; found by ADL.
[[noreturn]] void throw_exception_from_error(const handler_error& e,
                                             const boost::source_location& loc);

struct loop_hooks {
  // Before each invocation (main sets _X_AMZN_TRACE_ID) and after it (main clears it).
  std::function<void(const invocation&)> before;
  std::function<void(const invocation&)> after;
  // Sleeps between retries of `next`; tests replace it.
  std::function<void(std::chrono::milliseconds)> sleep;
};

struct loop_limits {
  int next_attempts = 3;
  std::chrono::milliseconds next_backoff{50};
  // Stop after this many invocations (0 = never); for tests.
  std::size_t max_invocations = 0;
};

// Runs until the Runtime API fails; returns the reason.
std::string run_loop(runtime_api& api,
                     const std::function<handler_result(const invocation&)>& handler,
                     const loop_hooks& hooks = {}, const loop_limits& limits = {});

}  // namespace crud::lambda
