#pragma once
// A private scratch directory for one test (its SQLite database, its event files, a LevelDB
// folder, a copy of the binary named `bootstrap`), removed with everything in it when the object
// goes away, so test runs leave nothing behind.

#include <filesystem>
#include <string>
#include <string_view>

namespace crud::test_support {

class temp_dir {
 public:
  // Throws std::runtime_error when the directory cannot be made.
  explicit temp_dir(std::string_view prefix = "crud-test");
  ~temp_dir();
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;

  const std::filesystem::path& path() const noexcept { return path_; }
  // The path of `name` in the directory, as text.
  std::string file(std::string_view name) const { return (path_ / name).string(); }
  // Writes `content` to the file `name` in the directory and returns its path.
  std::filesystem::path write_file(std::string_view name, std::string_view content) const;

 private:
  std::filesystem::path path_;
};

}  // namespace crud::test_support
