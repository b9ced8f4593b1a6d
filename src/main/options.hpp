#pragma once
// The command line of CONTRACT §1: subcommands, every option with its environment variable
// (a flag beats the variable), defaults, and validation. A bad option ends the process with a
// one-line message and exit code 2.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "app/api_config.hpp"

namespace crud::main {

enum class command { serve, lambda, invoke, init, export_items, import_items };

enum class store_kind { sqlite, dynamodb };

// "sqlite" or "dynamodb", as the option spells it.
std::string_view store_name(store_kind kind) noexcept;

struct options {
  command cmd = command::serve;
  std::string host = "127.0.0.1";
  int port = 8080;
  // Resolved: the flag, else the variable, else the command's default.
  store_kind store = store_kind::sqlite;
  std::string db = "./data/items.db";
  std::string table = "items";
  std::string endpoint;
  std::string region;
  app::delete_mode delete_mode = app::delete_mode::hard;
  double rate_limit = 1000;
  double rate_burst = 2000;
  std::string cors_origin;
  std::string log_level = "INFO";
  std::string service_name = "serverless-crud-api";
  std::string event_file = "-";
  std::string out_file = "-";  // export: the JSON Lines file, - for standard output
  std::string in_file = "-";   // import: the JSON Lines file, - for standard input
  bool overwrite = false;      // import: replace items that exist
  // serve only: bearer-token authentication (JWT). Unset, every caller is `public`.
  std::string jwt_secret;           // HS256
  std::string jwt_public_key_file;  // RS256, a PEM public key
  std::string jwt_jwks_url;         // RS256 or ES256, keys of a JWK set by kid
  std::string jwt_issuer;
  std::string jwt_audience;
  bool metrics_public = false;             // serve: /metrics without a token even with JWT auth
  std::int64_t request_timeout_ms = 5000;  // serve: each request's deadline; 0 = none
  std::int64_t max_connections_per_client = 256;  // serve: open connections per address; 0 = no cap

  bool authenticates() const {
    return !jwt_secret.empty() || !jwt_public_key_file.empty() || !jwt_jwks_url.empty();
  }
};

struct parse_result {
  std::optional<int> exit_code;  // set when the process should end now (help, version, error)
  options opts;
  // When the options are wrong: the one-line reason (already printed), and whether the
  // command was `lambda`, whose start-up failures also go to the Runtime API.
  std::string error;
  bool lambda_command = false;
};

parse_result parse_options(int argc, char** argv);

}  // namespace crud::main
