#pragma once
// `crud-api invoke [--event FILE]`: handles one API Gateway / Function URL event and prints
// the proxy-integration response on stdout, as `sam local invoke` would. Logs go to stderr so
// stdout holds only the response. Exit 0 whatever the HTTP status; 1 when the input is not a
// usable event.

#include "main/options.hpp"

namespace crud::main {
int run_invoke(const options& o);
}
