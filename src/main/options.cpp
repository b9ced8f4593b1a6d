#include "main/options.hpp"

#include <CLI/CLI.hpp>

#include <boost/url/parse.hpp>
#include <cstdlib>
#include <iostream>
#include <string_view>
#include <utility>
#include <vector>

namespace crud::main {
namespace {

// Each subcommand takes only the options it uses, so that its --help is the whole truth; an
// option that several take reads the same way in each (`--store`, `CRUD_STORE`).
// What is parsed as text and then resolved into options' enums.
struct option_text {
  std::string store;  // empty: the command's default
  std::string delete_mode = "hard";
};

// Where the items are: every command.
void add_store_options(CLI::App& cmd, options& o, option_text& text) {
  cmd.add_option("--store", text.store, "sqlite or dynamodb")
      ->envname("CRUD_STORE")
      ->check(CLI::IsMember({"sqlite", "dynamodb"}));
  cmd.add_option("--db", o.db, "SQLite database path (parent folders are created)")
      ->envname("CRUD_DB");
  cmd.add_option("--table", o.table, "DynamoDB table name")->envname("TABLE_NAME");
  cmd.add_option("--endpoint", o.endpoint, "DynamoDB endpoint URL (http or https)")
      ->envname("DYNAMODB_ENDPOINT");
  cmd.add_option("--region", o.region, "AWS region (else AWS_REGION, AWS_DEFAULT_REGION)");
}

// Logging: every command.
void add_log_options(CLI::App& cmd, options& o) {
  cmd.add_option("--log-level", o.log_level, "DEBUG, INFO, WARN or ERROR")
      ->envname("LOG_LEVEL")
      ->transform(CLI::IsMember({"DEBUG", "INFO", "WARN", "WARNING", "ERROR"}, CLI::ignore_case));
  cmd.add_option("--service-name", o.service_name, "Service name in logs and metrics")
      ->envname("POWERTOOLS_SERVICE_NAME");
}

// How the API answers: the commands that answer requests (serve, lambda, invoke).
void add_app_options(CLI::App& cmd, options& o, option_text& text) {
  cmd.add_option("--delete-mode", text.delete_mode, "hard or soft")
      ->envname("DELETE_MODE")
      ->check(CLI::IsMember({"hard", "soft"}));
  cmd.add_option("--cors-origin", o.cors_origin, "Allowed CORS origin (unset = no CORS)")
      ->envname("CORS_ALLOW_ORIGIN");
}

// The HTTP server's own: serve only.
void add_server_options(CLI::App& cmd, options& o) {
  cmd.add_option("--host", o.host, "Address to listen on")->envname("CRUD_HOST");
  cmd.add_option("--port", o.port, "Port to listen on (0 = pick a free port)")
      ->envname("PORT")
      ->check(CLI::Range(0, 65535));
  cmd.add_option("--rate-limit", o.rate_limit, "Requests per second per client (0 = off)")
      ->envname("RATE_LIMIT_RPS")
      ->check(CLI::Range(0.0, 1e9));
  cmd.add_option("--rate-burst", o.rate_burst, "Burst per client (0 = off)")
      ->envname("RATE_LIMIT_BURST")
      ->check(CLI::Range(0.0, 1e9));
}

// A message about `--flag` whose value came from its environment variable names the variable
// instead: `PORT=abc crud-api serve` has no --port to look for.
std::string name_the_source(const CLI::App* cmd, const std::vector<std::string>& args,
                            std::string message) {
  if (cmd == nullptr || message.rfind("--", 0) != 0)
    return message;
  const auto colon = message.find(':');
  if (colon == std::string::npos)
    return message;
  const std::string flag = message.substr(0, colon);
  for (const auto& arg : args) {
    if (arg == flag || arg.rfind(flag + "=", 0) == 0)
      return message;  // given on the command line
  }
  for (const CLI::Option* opt : cmd->get_options()) {
    if (opt->get_name() != flag || opt->get_envname().empty())
      continue;
    const char* v = std::getenv(opt->get_envname().c_str());  // NOLINT(concurrency-mt-unsafe)
    if (v != nullptr && *v != '\0')
      return opt->get_envname() + message.substr(colon);
  }
  return message;
}

std::string env_or(const char* name, std::string fallback) {
  const char* v = std::getenv(name);  // NOLINT(concurrency-mt-unsafe): main, before threads
  return v && *v ? std::string(v) : std::move(fallback);
}

// Checks that need more than one option or a parser; returns a one-line reason.
std::string validate(options& o) {
  for (char& c : o.log_level)
    c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  if (o.log_level == "WARNING")
    o.log_level = "WARN";
  if (o.host.empty())
    return "--host: must not be empty";
  if (o.store == store_kind::sqlite && o.db.empty())
    return "--db: must not be empty";
  if (o.table.empty())
    return "--table: must not be empty";
  if (!o.endpoint.empty()) {
    auto url = boost::urls::parse_absolute_uri(o.endpoint);
    if (!url || (url->scheme() != "http" && url->scheme() != "https") || !url->has_authority() ||
        url->host().empty()) {
      return "--endpoint: '" + o.endpoint + "' is not an http or https URL";
    }
  }
  if (static_cast<int>(!o.jwt_secret.empty()) + static_cast<int>(!o.jwt_public_key_file.empty()) +
          static_cast<int>(!o.jwt_jwks_url.empty()) >
      1)
    return "--jwt-secret, --jwt-public-key and --jwt-jwks-url: give only one";
  if (!o.authenticates() && (!o.jwt_issuer.empty() || !o.jwt_audience.empty()))
    return "--jwt-issuer and --jwt-audience need --jwt-secret, --jwt-public-key or "
           "--jwt-jwks-url";
  if (!o.jwt_jwks_url.empty()) {
    auto url = boost::urls::parse_absolute_uri(o.jwt_jwks_url);
    if (!url || (url->scheme() != "http" && url->scheme() != "https") || !url->has_authority() ||
        url->host().empty() || url->has_userinfo() || url->has_fragment()) {
      return "--jwt-jwks-url: '" + o.jwt_jwks_url + "' is not an http or https URL";
    }
  }
  if (!o.cors_origin.empty()) {
    for (char c : o.cors_origin) {
      if (c < 0x21 || c > 0x7E)
        return "--cors-origin: must be a single origin without spaces";
    }
  }
  return {};
}

}  // namespace

namespace {

parse_result parse_args(std::vector<std::string> args, bool auto_lambda_allowed);

}  // namespace

std::string_view store_name(store_kind kind) noexcept {
  return kind == store_kind::dynamodb ? "dynamodb" : "sqlite";
}

parse_result parse_options(int argc, char** argv) {
  std::vector<std::string> args(argv, argv + argc);
  return parse_args(std::move(args), true);
}

namespace {

parse_result parse_args(std::vector<std::string> args, bool auto_lambda_allowed) {
  parse_result result;
  options& o = result.opts;
  option_text text;

  CLI::App app{
      "Serverless CRUD API: one binary that serves the items API as an HTTP server, "
      "an AWS Lambda custom runtime, or a local invoker."};
  // Named here because argv[0] is not parsed: usage lines read `crud-api serve [OPTIONS]`.
  app.name("crud-api");
  app.set_version_flag("--version", std::string("crud-api ") + CRUD_VERSION);
  app.fallthrough();

  auto* serve = app.add_subcommand("serve", "Serve the API over HTTP/1.1");
  auto* lambda = app.add_subcommand("lambda", "Run the AWS Lambda custom-runtime loop");
  auto* invoke =
      app.add_subcommand("invoke", "Handle one API Gateway event and print the response");
  auto* init = app.add_subcommand("init", "Create the SQLite schema or the DynamoDB table");
  auto* export_cmd = app.add_subcommand(
      "export", "Write every owner's items, soft-deleted ones too, as JSON Lines");
  auto* import_cmd =
      app.add_subcommand("import", "Write items from JSON Lines (as export makes) into the store");
  // CLI11 reads environment variables for the options of every subcommand, chosen or not, so
  // the options go only on the one named on the command line: PORT=99999 must not fail
  // `serve --port 0` through `init`'s copy of --port.
  CLI::App* chosen = nullptr;
  for (std::size_t i = 1; i < args.size() && chosen == nullptr; ++i) {
    for (auto* cmd : {serve, lambda, invoke, init, export_cmd, import_cmd}) {
      if (args[i] == cmd->get_name())
        chosen = cmd;
    }
  }
  if (chosen != nullptr) {
    add_store_options(*chosen, o, text);
    add_log_options(*chosen, o);
    // export and import move stored items as they are: no API settings apply.
    if (chosen != init && chosen != export_cmd && chosen != import_cmd)
      add_app_options(*chosen, o, text);
    if (chosen == serve)
      add_server_options(*chosen, o);
  }
  // Parsing again as `lambda` (see below) means the Lambda environment chose the command.
  result.lambda_command = chosen == lambda || !auto_lambda_allowed;
  invoke->add_option("--event", o.event_file, "Event file, or - for standard input")
      ->envname("CRUD_EVENT");
  export_cmd
      ->add_option("--out", o.out_file,
                   "File to write (replaced when complete), or - for standard output")
      ->envname("CRUD_EXPORT_OUT");
  import_cmd->add_option("--in", o.in_file, "File to read, or - for standard input")
      ->envname("CRUD_IMPORT_IN");
  import_cmd
      ->add_flag("--overwrite", o.overwrite,
                 "Replace items that exist (by default they are left alone and skipped)")
      ->envname("CRUD_IMPORT_OVERWRITE");
  if (chosen == serve) {
    serve
        ->add_option("--jwt-secret", o.jwt_secret,
                     "Require HS256 bearer tokens signed with this secret (32+ bytes)")
        ->envname("CRUD_JWT_SECRET");
    serve
        ->add_option("--jwt-public-key", o.jwt_public_key_file,
                     "Require RS256 bearer tokens signed for this PEM public key file")
        ->envname("CRUD_JWT_PUBLIC_KEY_FILE");
    serve
        ->add_option("--jwt-jwks-url", o.jwt_jwks_url,
                     "Require RS256 or ES256 bearer tokens signed by a key of this JWK set")
        ->envname("CRUD_JWT_JWKS_URL");
    serve->add_option("--jwt-issuer", o.jwt_issuer, "Required iss claim of bearer tokens")
        ->envname("CRUD_JWT_ISSUER");
    serve->add_option("--jwt-audience", o.jwt_audience, "Required aud claim of bearer tokens")
        ->envname("CRUD_JWT_AUDIENCE");
    serve
        ->add_flag("--metrics-public", o.metrics_public,
                   "Serve /metrics without a bearer token when JWT authentication is on")
        ->envname("CRUD_METRICS_PUBLIC");
    serve
        ->add_option("--request-timeout-ms", o.request_timeout_ms,
                     "Each request's deadline: the store gives up with 503 after it (0 = none)")
        ->envname("CRUD_REQUEST_TIMEOUT_MS")
        ->check(CLI::Range(std::int64_t{0}, std::int64_t{3'600'000}));
    serve
        ->add_option("--max-connections-per-client", o.max_connections_per_client,
                     "Open connections one client address may hold (IPv6: per /64; 0 = no cap)")
        ->envname("CRUD_MAX_CONNECTIONS_PER_CLIENT")
        ->check(CLI::Range(std::int64_t{0}, std::int64_t{1'000'000}));
  }
  app.require_subcommand(0, 1);

  std::string_view exe = args.empty() ? std::string_view() : std::string_view(args.front());
  if (auto slash = exe.rfind('/'); slash != std::string_view::npos)
    exe.remove_prefix(slash + 1);
  const bool lambda_environment =
      exe == "bootstrap" || !env_or("AWS_LAMBDA_RUNTIME_API", "").empty();

  try {
    std::vector<std::string> reversed(args.rbegin(), args.rend() - (args.empty() ? 0 : 1));
    app.parse(reversed);
  } catch (const CLI::CallForHelp& e) {
    result.exit_code = app.exit(e);
    return result;
  } catch (const CLI::CallForAllHelp& e) {
    result.exit_code = app.exit(e);
    return result;
  } catch (const CLI::CallForVersion& e) {
    result.exit_code = app.exit(e);
    return result;
  } catch (const CLI::ParseError& e) {
    if (auto_lambda_allowed && lambda_environment && app.get_subcommands().empty()) {
      // Options without a subcommand, as Lambda's bootstrap might pass: parse as `lambda`.
      args.insert(args.begin() + (args.empty() ? 0 : 1), "lambda");
      return parse_args(std::move(args), false);
    }
    result.error = name_the_source(chosen, args, e.what());
    std::cerr << "crud-api: " << result.error << '\n';
    result.exit_code = 2;
    return result;
  }

  if (serve->parsed()) {
    o.cmd = command::serve;
  } else if (lambda->parsed()) {
    o.cmd = command::lambda;
  } else if (invoke->parsed()) {
    o.cmd = command::invoke;
  } else if (init->parsed()) {
    o.cmd = command::init;
  } else if (export_cmd->parsed()) {
    o.cmd = command::export_items;
  } else if (import_cmd->parsed()) {
    o.cmd = command::import_items;
  } else if (auto_lambda_allowed && lambda_environment) {
    // No subcommand: parse again as `lambda`, so that its environment variables apply.
    args.insert(args.begin() + (args.empty() ? 0 : 1), "lambda");
    return parse_args(std::move(args), false);
  } else {
    std::cerr << "crud-api: a subcommand is required (serve, lambda, invoke, init, export or "
                 "import); see --help\n";
    result.exit_code = 2;
    return result;
  }

  if (text.store.empty())
    o.store = o.cmd == command::lambda ? store_kind::dynamodb : store_kind::sqlite;
  else
    o.store = text.store == "dynamodb" ? store_kind::dynamodb : store_kind::sqlite;
  o.delete_mode = text.delete_mode == "soft" ? app::delete_mode::soft : app::delete_mode::hard;
  if (o.region.empty())
    o.region = env_or("AWS_REGION", env_or("AWS_DEFAULT_REGION", "us-east-1"));
  if (auto reason = validate(o); !reason.empty()) {
    reason = name_the_source(chosen, args, std::move(reason));
    std::cerr << "crud-api: " << reason << '\n';
    result.error = std::move(reason);
    result.exit_code = 2;
  }
  return result;
}

}  // namespace

}  // namespace crud::main
