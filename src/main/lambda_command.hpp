#pragma once
// `crud-api lambda`: the AWS Lambda custom-runtime loop against $AWS_LAMBDA_RUNTIME_API.
// `_HANDLER` picks the operations this function serves. A failed start-up is reported to
// /init/error before the process exits.

#include "main/options.hpp"

namespace crud::main {
int run_lambda(const options& o);
}
