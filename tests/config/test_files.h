// Real files for config tests: a private temporary directory, removed with everything in it
// when the TempDir goes out of scope.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

namespace dbrunbook::config::testing {

class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  // `relative` under the directory (parent directories are created).
  std::string Path(std::string_view relative) const;
  // Writes `content` to `relative` with `perms` and returns the full path.
  std::string Write(std::string_view relative, std::string_view content,
                    std::filesystem::perms perms = std::filesystem::perms::owner_read |
                                                   std::filesystem::perms::owner_write) const;

 private:
  std::string path_;
};

}  // namespace dbrunbook::config::testing
