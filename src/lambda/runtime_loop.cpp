#include "lambda/runtime_loop.hpp"

#include <exception>
#include <stdexcept>
#include <thread>

namespace crud::lambda {

std::string run_loop(runtime_api& api,
                     const std::function<handler_result(const invocation&)>& handler,
                     const loop_hooks& hooks, const loop_limits& limits) {
  std::size_t served = 0;
  for (;;) {
    if (limits.max_invocations != 0 && served == limits.max_invocations)
      return "invocation limit";
    runtime_result<invocation> next = runtime_failure{"not fetched", false};
    for (int attempt = 1; attempt <= limits.next_attempts; ++attempt) {
      next = api.next();
      if (next || next.error().fatal)
        break;
      if (attempt < limits.next_attempts) {
        auto wait = limits.next_backoff * attempt;
        if (hooks.sleep) {
          hooks.sleep(wait);
        } else {
          std::this_thread::sleep_for(wait);
        }
      }
    }
    if (!next)
      return "runtime API: " + next.error().message;

    const invocation& inv = *next;
    if (hooks.before)
      hooks.before(inv);
    handler_result outcome = handler_error{"Runtime.HandlerException", "not run"};
    try {
      outcome = handler(inv);
    } catch (const std::exception& e) {
      outcome = handler_error{"Runtime.HandlerException", e.what()};
    } catch (...) {
      outcome = handler_error{"Runtime.HandlerException", "unknown exception"};
    }
    if (hooks.after)
      hooks.after(inv);

    runtime_result<void> posted =
        outcome ? api.post_response(inv.request_id, *outcome)
                : api.post_error(inv.request_id, outcome.error().type, outcome.error().message);
    if (!posted && posted.error().fatal)
      return "runtime API: " + posted.error().message;
    ++served;
  }
}

void throw_exception_from_error(const handler_error& e, const boost::source_location&) {
  throw std::runtime_error(e.type + ": " + e.message);
}

}  // namespace crud::lambda
