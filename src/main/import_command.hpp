#pragma once
// `crud-api import [--in FILE] [--overwrite]`: writes the items of a JSON Lines file (as export
// makes it; standard input by default) into the configured store, keeping ids, versions,
// timestamps, soft-delete state and expiry. An item that exists is skipped unless --overwrite,
// so an interrupted import can simply be run again. A malformed line is reported on stderr with
// its number and skipped. A progress bar on a terminal's stderr (with a percentage and an ETA
// when the input's size is known), then one JSON summary line on stderr. Exit 0; 1 when any
// line failed; 2 for a configuration error.

#include "main/options.hpp"

namespace crud::main {
int run_import(const options& o);
}
