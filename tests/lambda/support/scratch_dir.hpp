#pragma once
// A private scratch directory for one test (its SQLite database, its event files, a copy of the
// binary named `bootstrap`), removed with everything in it when the object goes away.

#include <filesystem>
#include <string_view>

namespace crud::lambda_it {

class scratch_dir {
 public:
  scratch_dir();
  ~scratch_dir();
  scratch_dir(const scratch_dir&) = delete;
  scratch_dir& operator=(const scratch_dir&) = delete;

  const std::filesystem::path& path() const noexcept { return path_; }

  // Writes `content` to the file `name` in the directory and returns its path.
  std::filesystem::path write_file(std::string_view name, std::string_view content) const;

 private:
  std::filesystem::path path_;
};

}  // namespace crud::lambda_it
