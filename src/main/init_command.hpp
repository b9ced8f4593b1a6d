#pragma once
// `crud-api init`: creates the SQLite schema (or the DynamoDB table) if missing. Harmless to
// run again.

#include "main/options.hpp"

namespace crud::main {
int run_init(const options& o);
}
