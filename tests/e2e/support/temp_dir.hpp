#pragma once
// A private scratch directory for one test (a database, an nginx prefix), removed with
// everything in it when the object goes away, so e2e runs leave nothing behind.

#include <filesystem>

namespace crud::e2e {

class temp_dir {
 public:
  temp_dir();
  ~temp_dir();
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;

  const std::filesystem::path& path() const noexcept { return path_; }

 private:
  std::filesystem::path path_;
};

}  // namespace crud::e2e
