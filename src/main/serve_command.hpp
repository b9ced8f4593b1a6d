#pragma once
// `crud-api serve`: the standalone HTTP server over the configured store. Prints the
// "listening" line once it accepts connections; SIGINT/SIGTERM stop it gracefully (exit 0).

#include "main/options.hpp"

namespace crud::main {
int run_serve(const options& o);
}
