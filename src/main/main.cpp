// crud-api: one binary, four ways to run it (CONTRACT §1), and export and import (§5). This file
// only chooses the command; each command lives in its own file.

#include <csignal>
#include <cstdio>
#include <cstdlib>

#include "core/crypto.hpp"

#include "main/export_command.hpp"
#include "main/import_command.hpp"
#include "main/init_command.hpp"
#include "main/invoke_command.hpp"
#include "main/lambda_command.hpp"
#include "main/options.hpp"
#include "main/serve_command.hpp"

int main(int argc, char** argv) {
  // First, before any OpenSSL call can load its configuration file.
  crud::core::init_crypto(std::getenv("OPENSSL_CONF") != nullptr);  // NOLINT(concurrency-mt-unsafe)
  // A closed stdout pipe must not kill the server; writes report EPIPE instead.
  std::signal(SIGPIPE, SIG_IGN);
  auto parsed = crud::main::parse_options(argc, argv);
  if (parsed.exit_code) {
    if (!parsed.error.empty() && parsed.lambda_command)
      return crud::main::report_lambda_option_error(parsed.error);
    return *parsed.exit_code;
  }
  const auto& o = parsed.opts;
  switch (o.cmd) {
    case crud::main::command::serve:
      return crud::main::run_serve(o);
    case crud::main::command::init:
      return crud::main::run_init(o);
    case crud::main::command::lambda:
      return crud::main::run_lambda(o);
    case crud::main::command::invoke:
      return crud::main::run_invoke(o);
    case crud::main::command::export_items:
      return crud::main::run_export(o);
    case crud::main::command::import_items:
      return crud::main::run_import(o);
  }
  return 2;
}
