#include "main/lambda_command.hpp"

#include <cstdio>
#include <cstdlib>

#include "lambda/handler_selection.hpp"
#include "lambda/runtime_client.hpp"
#include "lambda/runtime_loop.hpp"
#include "lambda/serve_event.hpp"
#include "main/wiring.hpp"

namespace crud::main {
namespace {

std::string env(const char* name) {
  const char* v = std::getenv(name);  // NOLINT(concurrency-mt-unsafe): the loop is single-threaded
  return v ? std::string(v) : std::string();
}

int init_failure(lambda::runtime_client& client, const std::string& type,
                 const std::string& message, int code) {
  std::fprintf(stderr, "crud-api: %s\n", message.c_str());
  (void)client.post_init_error(type, message);
  return code;
}

}  // namespace

int report_lambda_option_error(const std::string& message) {
  const std::string endpoint = env("AWS_LAMBDA_RUNTIME_API");
  if (!endpoint.empty()) {
    lambda::runtime_client client(endpoint);
    (void)client.post_init_error("Runtime.InitError", message);
  }
  return 2;
}

int run_lambda(const options& o) {
  const std::string endpoint = env("AWS_LAMBDA_RUNTIME_API");
  if (endpoint.empty()) {
    std::fprintf(stderr,
                 "crud-api: AWS_LAMBDA_RUNTIME_API is not set; `lambda` runs only inside "
                 "a Lambda execution environment\n");
    return 2;
  }
  lambda::runtime_client client(endpoint);

  auto operations = lambda::parse_handler(env("_HANDLER"));
  if (!operations)
    return init_failure(client, "Runtime.InvalidHandler", operations.error(), 2);

  auto ns = metrics_namespace();
  if (!ns)
    return init_failure(client, "Runtime.InitError", ns.error(), 2);

  // CloudWatch takes stdout line by line; don't hold lines back.
  process p(true);
  p.tracer = make_xray_tracer(p);
  if (auto opened = open_store(p, o); !opened) {
    return init_failure(client, "Runtime.StoreUnavailable", opened.error(), 2);
  }
  build_api(p, o, *operations);

  lambda::emf_publisher metrics(std::move(*ns), o.service_name, p.log, p.clock);
  auto handler = [&p, &metrics](const lambda::invocation& inv) -> lambda::handler_result {
    auto served = lambda::serve_event(
        *p.api, inv.payload, {inv.request_id, inv.deadline_ms, inv.trace_id}, metrics, p.clock);
    if (!served)
      return lambda::handler_error{"InvalidEvent", std::move(served.error())};
    return std::move(*served);
  };
  lambda::loop_hooks hooks;
  // The runtime's documented duty, for any code in the invocation that reads it; the app gets
  // the trace id from the invocation itself.
  hooks.before = [](const lambda::invocation& inv) {
    if (inv.trace_id.empty()) {
      ::unsetenv("_X_AMZN_TRACE_ID");  // NOLINT(concurrency-mt-unsafe)
    } else {
      ::setenv("_X_AMZN_TRACE_ID", inv.trace_id.c_str(), 1);  // NOLINT(concurrency-mt-unsafe)
    }
  };
  hooks.after = [&p](const lambda::invocation&) {
    ::unsetenv("_X_AMZN_TRACE_ID");  // NOLINT(concurrency-mt-unsafe)
    p.log.flush();
  };
  std::string reason = lambda::run_loop(client, handler, hooks);
  p.log.flush();
  std::fprintf(stderr, "crud-api: %s\n", reason.c_str());
  return 1;
}

}  // namespace crud::main
