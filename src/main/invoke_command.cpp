#include "main/invoke_command.hpp"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>

#include "lambda/apigw_event.hpp"
#include "lambda/emf_metrics.hpp"
#include "main/wiring.hpp"

namespace crud::main {

int run_invoke(const options& o) {
  std::string text;
  if (o.event_file == "-") {
    text.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
  } else {
    std::ifstream in(o.event_file, std::ios::binary);
    if (!in) {
      std::fprintf(stderr, "crud-api: cannot read event file %s\n", o.event_file.c_str());
      return 1;
    }
    std::ostringstream buf;
    buf << in.rdbuf();
    text = buf.str();
  }
  auto event = lambda::decode_event(text);
  if (!event) {
    std::fprintf(stderr, "crud-api: not a usable event: %s\n", event.error().c_str());
    return 1;
  }

  auto ns = metrics_namespace();
  if (!ns) {
    std::fprintf(stderr, "crud-api: %s\n", ns.error().c_str());
    return 2;
  }

  process p(true, STDERR_FILENO);
  p.tracer = make_xray_tracer(p);
  if (auto opened = open_store(p, o); !opened) {
    std::fprintf(stderr, "crud-api: %s\n", opened.error().c_str());
    return 2;
  }
  if (auto built = build_api(p, o); !built) {
    std::fprintf(stderr, "crud-api: %s\n", built.error().c_str());
    return 1;
  }
  // As one Lambda invocation: the EMF document goes with the log lines (stderr here, since
  // stdout is the response), and a sampled _X_AMZN_TRACE_ID traces the DynamoDB calls.
  lambda::emf_publisher metrics(std::move(*ns), o.service_name, p.log, p.clock);
  app::request& req = event->request;
  if (const char* trace = std::getenv("_X_AMZN_TRACE_ID"))  // NOLINT(concurrency-mt-unsafe)
    req.trace_header = trace;
  const std::int64_t started = p.clock.steady_ns();
  app::response res = p.api->handle(req);
  metrics.publish(res, started);
  std::string out = lambda::encode_response(res, event->version);
  out.push_back('\n');
  std::fwrite(out.data(), 1, out.size(), stdout);
  std::fflush(stdout);
  return 0;
}

}  // namespace crud::main
