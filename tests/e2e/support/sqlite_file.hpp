#pragma once
// Direct reads of a server's SQLite file, for checks made after the server is gone
// (`PRAGMA integrity_check` after a SIGKILL, the journal mode).

#include <filesystem>
#include <string>

namespace crud::e2e {

// The first column of the first row of `sql`, as text; "error: ..." when it fails.
std::string sqlite_scalar(const std::filesystem::path& db, const std::string& sql);

}  // namespace crud::e2e
