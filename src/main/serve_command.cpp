#include "main/serve_command.hpp"

#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "app/http_types.hpp"
#include "aws/http_client.hpp"
#include "core/json_text.hpp"
#include "core/jwks_cache.hpp"
#include "core/jwt.hpp"
#include "main/file_text.hpp"
#include "main/jwks_fetch.hpp"
#include "main/wiring.hpp"
#include "server/http_server.hpp"
#include "store/sqlite_store.hpp"

namespace crud::main {

namespace {

// The key set at `url`, fetched now: serve refuses to start on a set it cannot fetch or use,
// rather than answer 401 to every request (decisions/0015-jwks.md).
boost::system::result<std::shared_ptr<core::jwks_cache>, std::string> load_jwks(
    const std::string& url) {
  aws::beast_http_options http_options;
  // The same trust as the DynamoDB client's: SSL_CERT_FILE / SSL_CERT_DIR, else the system's.
  if (const char* file = std::getenv("SSL_CERT_FILE"))  // NOLINT(concurrency-mt-unsafe)
    http_options.ca_file = file;
  if (const char* dir = std::getenv("SSL_CERT_DIR"))  // NOLINT(concurrency-mt-unsafe)
    http_options.ca_dir = dir;
  http_options.connect_timeout_ms = 2000;
  http_options.max_idle_per_endpoint = 1;
  http_options.max_response_bytes = std::size_t{1} << 20;  // sets are a few kilobytes
  auto http = aws::make_beast_http_client(http_options);
  if (!http)
    return http.error();
  auto fetch = make_jwks_fetch(std::shared_ptr<aws::http_client>(std::move(*http)), url);
  if (!fetch)
    return fetch.error();
  auto cache = std::make_shared<core::jwks_cache>(std::move(*fetch));
  if (auto loaded = cache->load(); !loaded)
    return loaded.error();
  return cache;
}

// The bearer-token verifier the options ask for; the error is a one-line reason.
boost::system::result<std::optional<core::jwt_verifier>, std::string> make_verifier(
    const options& o) {
  if (!o.authenticates())
    return std::optional<core::jwt_verifier>{};
  core::jwt_settings settings;
  settings.hs256_secret = o.jwt_secret;
  settings.issuer = o.jwt_issuer;
  settings.audience = o.jwt_audience;
  const char* flag = !o.jwt_secret.empty()            ? "--jwt-secret"
                     : !o.jwt_public_key_file.empty() ? "--jwt-public-key"
                                                      : "--jwt-jwks-url";
  if (!o.jwt_jwks_url.empty()) {
    auto jwks = load_jwks(o.jwt_jwks_url);
    if (!jwks)
      return std::string(flag) + ": " + jwks.error();
    settings.jwks = std::move(*jwks);
  }
  if (!o.jwt_public_key_file.empty()) {
    auto pem = read_file(o.jwt_public_key_file);
    if (!pem || pem->empty())
      return std::string(flag) + ": cannot read " + o.jwt_public_key_file;
    settings.rs256_key_pem = std::move(*pem);
  }
  auto verifier = core::jwt_verifier::make(std::move(settings));
  if (!verifier)
    return std::string(flag) + ": " + verifier.error();
  return std::optional<core::jwt_verifier>{std::move(*verifier)};
}

// `Authorization: Bearer <token>` (the scheme in any case, RFC 7235) to the token's subject.
server::auth_outcome authenticate_bearer(const core::jwt_verifier& verifier,
                                         const core::clock& clock, std::string_view header) {
  constexpr std::string_view scheme = "bearer ";
  if (header.empty())
    return {std::nullopt, "no Authorization header"};
  if (header.size() <= scheme.size() || !app::iequals(header.substr(0, scheme.size()), scheme))
    return {std::nullopt, "the Authorization header is not a Bearer token"};
  std::string_view token = header.substr(scheme.size());
  while (!token.empty() && token.front() == ' ')
    token.remove_prefix(1);
  auto subject = verifier.verify(token, clock.wall_ms() / 1000);
  if (!subject)
    return {std::nullopt, "bearer token refused: " + subject.error().reason};
  return {std::move(*subject), {}};
}

// Every connection is a descriptor, and the soft limit is often 1024 while the hard one is far
// higher: serve takes all it may. Returns the soft limit now in force (0 when unknown).
std::uint64_t raise_open_files_limit() {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0)
    return 0;
  if (limit.rlim_cur < limit.rlim_max) {
    rlimit raised = limit;
    raised.rlim_cur = limit.rlim_max;
    if (::setrlimit(RLIMIT_NOFILE, &raised) == 0)
      limit = raised;
  }
  return limit.rlim_cur == RLIM_INFINITY ? std::uint64_t{0} : std::uint64_t{limit.rlim_cur};
}

// Where a browser on this machine reaches the server: a wildcard address names no host, so the
// loopback one stands in for it; an IPv6 literal takes brackets.
std::string local_url(std::string_view host, std::uint16_t port) {
  std::string url = "http://";
  if (host == "0.0.0.0" || host.empty())
    url.append("127.0.0.1");
  else if (host == "::")
    url.append("[::1]");
  else if (host.find(':') != std::string_view::npos)
    url.append("[").append(host).append("]");
  else
    url.append(host);
  return url.append(":").append(std::to_string(port));
}

}  // namespace

int run_serve(const options& o) {
  auto verifier = make_verifier(o);
  if (!verifier) {
    std::fprintf(stderr, "crud-api: %s\n", verifier.error().c_str());
    return 2;
  }
  const std::uint64_t open_files = raise_open_files_limit();
  process p(::isatty(STDOUT_FILENO) == 1);
  // Reads come from the I/O threads (a write's own reads run on the writer's connection), so
  // serve keeps the store's full reader pool.
  if (auto opened =
          open_store(p, o, {.concurrent_readers = store::sqlite_options{}.read_connections});
      !opened) {
    std::fprintf(stderr, "crud-api: %s\n", opened.error().c_str());
    return 2;
  }
  build_api(p, o);

  server::server_config config;
  config.host = o.host;
  config.port = static_cast<std::uint16_t>(o.port);
  config.rate_limit_rps = o.rate_limit;
  config.rate_limit_burst = o.rate_burst;
  // SQLite reads are local and short, so they run on the I/O threads; writes run on the store's
  // group-commit thread, which answers each once its commit is durable. DynamoDB's calls block
  // on the network, so both run on the handler pool.
  config.inline_reads = o.store == store_kind::sqlite;
  config.write_store = p.store.get();
  config.metrics_public = o.metrics_public;
  config.request_timeout = std::chrono::milliseconds(o.request_timeout_ms);
  config.max_connections_per_client = static_cast<std::size_t>(o.max_connections_per_client);
  if (*verifier) {
    config.authenticate = [&v = **verifier, &clock = p.clock](std::string_view header) {
      return authenticate_bearer(v, clock, header);
    };
  }

  server::http_server srv(config, *p.api, p.clock);
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
  core::append_json_string(extra, store_name(o.store));
  extra.append(*verifier ? R"(,"auth":"jwt")" : R"(,"auth":"none")");
  const std::string url = local_url(o.host, *port);
  extra.append(R"(,"docs":)");
  core::append_json_string(extra, url + "/docs");
  if (open_files > 0) {
    extra.append(R"(,"openFilesLimit":)");
    core::append_json_int(extra, static_cast<std::int64_t>(open_files));
  }
  p.log_event(o, "listening", extra);
  if (*verifier && o.jwt_issuer.empty() && o.jwt_audience.empty()) {
    // Any token the key signs is then accepted, whoever it was issued to (another service
    // sharing the key or the identity provider): worth saying once, not worth refusing.
    p.log_event(o,
                "JWT authentication checks neither issuer nor audience; set --jwt-issuer or "
                "--jwt-audience",
                {}, "WARN");
  }
  p.log.flush();
  if (::isatty(STDERR_FILENO) == 1) {
    std::fprintf(stderr, "crud-api: serving on %s \u2014 API docs at %s/docs\n", url.c_str(),
                 url.c_str());
  }

  srv.every(std::chrono::milliseconds(200), [&p] { p.log.flush(); });
  srv.every(std::chrono::minutes(10), [&p] { (void)p.store->purge_expired(p.clock.wall_ms()); });
  (void)p.store->purge_expired(p.clock.wall_ms());

  srv.run();
  p.log_event(o, "stopped", {});
  p.log.flush();
  return 0;
}

}  // namespace crud::main
