#include "main/serve_command.hpp"

#include <unistd.h>

#include <chrono>
#include <cstdio>

#include "core/json_text.hpp"
#include "main/wiring.hpp"
#include "server/http_server.hpp"
#include "store/sqlite_store.hpp"

namespace crud::main {

int run_serve(const options& o) {
  process p(::isatty(STDOUT_FILENO) == 1);
  // Reads come from the I/O threads and from the handler pool (a write reads first), so serve
  // keeps the store's full reader pool.
  if (auto opened = open_store(p, o, store::sqlite_options{}.read_connections); !opened) {
    std::fprintf(stderr, "crud-api: %s\n", opened.error().c_str());
    return 2;
  }
  if (auto built = build_api(p, o); !built) {
    std::fprintf(stderr, "crud-api: %s\n", built.error().c_str());
    return 1;
  }

  server::server_config config;
  config.host = o.host;
  config.port = static_cast<std::uint16_t>(o.port);
  config.rate_limit_rps = o.rate_limit;
  config.rate_limit_burst = o.rate_burst;
  // SQLite reads are local and short, so they run on the I/O threads; writes block on the
  // group commit and run on the handler pool.
  config.inline_reads = o.store == "sqlite";

  app::api& api = *p.api;
  server::server_handlers handlers{
      [&api](const app::request& req) { return api.handle(req); },
      [&api](const app::request& req, const core::api_error& e) { return api.reject(req, e); },
      [&api] { return api.new_request_id(); }};
  server::http_server srv(config, std::move(handlers), p.clock);
  auto port = srv.listen();
  if (!port) {
    std::fprintf(stderr, "crud-api: %s\n", port.error().c_str());
    return 1;
  }

  std::string extra = R"("host":)";
  core::append_json_string(extra, o.host);
  extra.append(R"(,"port":)");
  core::append_json_int(extra, *port);
  extra.append(R"(,"store":)");
  core::append_json_string(extra, o.store);
  p.log_event(o, "listening", extra);
  p.log.flush();

  srv.every(std::chrono::milliseconds(200), [&p] { p.log.flush(); });
  srv.every(std::chrono::minutes(10), [&p] { (void)p.store->purge_expired(p.clock.wall_ms()); });
  (void)p.store->purge_expired(p.clock.wall_ms());

  srv.run();
  p.log_event(o, "stopped", {});
  p.log.flush();
  return 0;
}

}  // namespace crud::main
