#pragma once
// Reading a whole file, the one way `main` does it: events, PEM keys, the AWS shared files and
// container credential tokens.

#include <optional>
#include <string>

namespace crud::main {

// The file's bytes, or nullopt when it cannot be opened or read.
std::optional<std::string> read_file(const std::string& path);

}  // namespace crud::main
