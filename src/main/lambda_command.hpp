#pragma once
// `crud-api lambda`: the AWS Lambda custom-runtime loop against $AWS_LAMBDA_RUNTIME_API.
// `_HANDLER` picks the operations this function serves. A failed start-up, a bad option among
// them, is reported to /init/error before the process exits.

#include <string>

#include "main/options.hpp"

namespace crud::main {

int run_lambda(const options& o);

// For options that failed to parse before `run_lambda` could start: posts `message` to the
// Runtime API's /init/error when there is one, and returns the exit code, 2.
int report_lambda_option_error(const std::string& message);

}  // namespace crud::main
