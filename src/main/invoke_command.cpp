#include "main/invoke_command.hpp"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <iterator>

#include "lambda/apigw_event.hpp"
#include "lambda/handler_selection.hpp"
#include "lambda/serve_event.hpp"
#include "main/file_text.hpp"
#include "main/wiring.hpp"

namespace crud::main {

int run_invoke(const options& o) {
  std::string text;
  if (o.event_file == "-") {
    text.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
  } else {
    auto file = read_file(o.event_file);
    if (!file) {
      std::fprintf(stderr, "crud-api: cannot read event file %s\n", o.event_file.c_str());
      return 1;
    }
    text = std::move(*file);
  }
  // A bad event is refused before anything is opened.
  auto event = lambda::decode_event(text);
  if (!event) {
    std::fprintf(stderr, "crud-api: not a usable event: %s\n", event.error().c_str());
    return 1;
  }

  const char* handler = std::getenv("_HANDLER");  // NOLINT(concurrency-mt-unsafe)
  auto operations = lambda::parse_handler(handler != nullptr ? handler : "");
  if (!operations) {
    std::fprintf(stderr, "crud-api: _HANDLER: %s\n", operations.error().c_str());
    return 2;
  }
  auto ns = metrics_namespace();
  if (!ns) {
    std::fprintf(stderr, "crud-api: %s\n", ns.error().c_str());
    return 2;
  }

  process p(true, STDERR_FILENO);
  p.tracer = make_xray_tracer(p);
  // The request itself is the check that the store is there: one round trip, not two.
  if (auto opened = open_store(p, o, {.defer_checks = true}); !opened) {
    std::fprintf(stderr, "crud-api: %s\n", opened.error().c_str());
    return 2;
  }
  build_api(p, o, *operations);
  // As one Lambda invocation: the EMF document goes with the log lines (stderr here, since
  // stdout is the response), and a sampled _X_AMZN_TRACE_ID traces the DynamoDB calls.
  lambda::emf_publisher metrics(std::move(*ns), o.service_name, p.log, p.clock);
  lambda::event_context context;
  if (const char* trace = std::getenv("_X_AMZN_TRACE_ID"))  // NOLINT(concurrency-mt-unsafe)
    context.trace_header = trace;
  auto answer = lambda::serve_event(*p.api, std::move(*event), context, metrics, p.clock);
  // A store that cannot be used fails as an eager open would have: exit 2 with the reason
  // (a missing table, an endpoint that does not answer), not a 500 that looks like a bug.
  if (answer.status >= 500) {
    if (auto reason = why_store_fails(p, o)) {
      std::fprintf(stderr, "crud-api: %s\n", reason->c_str());
      return 2;
    }
  }
  std::string out = std::move(answer.response);
  out.push_back('\n');
  std::fwrite(out.data(), 1, out.size(), stdout);
  std::fflush(stdout);
  return 0;
}

}  // namespace crud::main
