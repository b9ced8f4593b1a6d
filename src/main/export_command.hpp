#pragma once
// `crud-api export [--out FILE]`: every owner's items, soft-deleted ones included, as JSON Lines
// (core/item_line.hpp) in owner-then-id order, on standard output or into FILE, which is
// replaced only once the export is complete. A progress bar on a terminal's stderr, then one
// JSON summary line on stderr. Exit 0; 1 when a stored item could not be read or the export
// stopped; 2 for a configuration error.

#include "main/options.hpp"

namespace crud::main {
int run_export(const options& o);
}
