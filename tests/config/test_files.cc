#include "config/test_files.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <fstream>
#include <vector>

namespace dbrunbook::config::testing {

namespace fs = std::filesystem;

TempDir::TempDir() {
  std::string pattern = (fs::temp_directory_path() / "dbrunbook-config-test-XXXXXX").string();
  std::vector<char> buffer(pattern.begin(), pattern.end());
  buffer.push_back('\0');
  const char* created = mkdtemp(buffer.data());
  if (created == nullptr) {
    ADD_FAILURE() << "mkdtemp failed";
    return;
  }
  path_ = created;
}

TempDir::~TempDir() {
  std::error_code ec;
  if (!path_.empty()) fs::remove_all(path_, ec);
}

std::string TempDir::Path(std::string_view relative) const {
  return (fs::path(path_) / relative).string();
}

std::string TempDir::Write(std::string_view relative, std::string_view content,
                           fs::perms perms) const {
  const fs::path file = fs::path(path_) / relative;
  fs::create_directories(file.parent_path());
  {
    std::ofstream out(file, std::ios::binary | std::ios::trunc);
    out << content;
  }
  fs::permissions(file, perms);
  return file.string();
}

}  // namespace dbrunbook::config::testing
