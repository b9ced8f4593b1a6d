#pragma once
// `crud-api invoke [--event FILE]`: handles one API Gateway / Function URL event and prints
// the proxy-integration response on stdout, as `sam local invoke` would. Logs go to stderr so
// stdout holds only the response. Like one invocation of a deployed function, it serves only
// the operations `_HANDLER` names when that is set. Exit 0 whatever the HTTP status; 1 when
// the input is not a usable event; 2 for a bad option or configuration.

#include "main/options.hpp"

namespace crud::main {

int run_invoke(const options& o);

}  // namespace crud::main
