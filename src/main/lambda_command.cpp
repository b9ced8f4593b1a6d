#include "main/lambda_command.hpp"

#include <cstdio>
#include <cstdlib>

#include "lambda/apigw_event.hpp"
#include "lambda/emf_metrics.hpp"
#include "lambda/handler_selection.hpp"
#include "lambda/runtime_client.hpp"
#include "lambda/runtime_loop.hpp"
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
  if (auto built = build_api(p, o, *operations); !built) {
    return init_failure(client, "Runtime.InitError", built.error(), 1);
  }

  lambda::emf_publisher metrics(std::move(*ns), o.service_name, p.log, p.clock);

  app::api& api = *p.api;
  const core::clock& clock = p.clock;
  auto handler = [&api, &metrics,
                  &clock](const lambda::invocation& inv) -> lambda::handler_outcome {
    auto event = lambda::decode_event(inv.payload);
    if (!event)
      return {false, {}, "InvalidEvent", event.error()};
    app::request& req = event->request;
    req.request_id = inv.request_id;
    req.deadline_ms = inv.deadline_ms;
    // Read back from the environment the hook just set, so the log line shows what code in
    // this invocation sees as _X_AMZN_TRACE_ID.
    req.trace_header = env("_X_AMZN_TRACE_ID");
    const std::int64_t started = clock.steady_ns();
    app::response res = api.handle(req);
    metrics.publish(res, started);
    return {true, lambda::encode_response(res, event->version), {}, {}};
  };
  lambda::loop_hooks hooks;
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
