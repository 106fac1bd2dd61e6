// Small file helpers shared by the test support libraries (sandbox.cc, moto.cc): a whole file
// read, errno text, and a temporary file removed when it goes out of scope.
#pragma once

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>

#include "core/environment.h"
#include "core/error.h"

namespace dbrunbook::testing {

// strerror() shares a buffer between threads; test setup calls it from one thread.
inline std::string ErrorText(int err) {
  return std::strerror(err);
}  // NOLINT(concurrency-mt-unsafe)

// Reads a whole file; nullopt when it cannot be opened.
inline std::optional<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream out;
  out << in.rdbuf();
  return std::move(out).str();
}

// A temporary file that is removed when this goes out of scope.
class TempFile {
 public:
  TempFile() = default;
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;
  ~TempFile() {
    if (!path_.empty()) unlink(path_.c_str());
  }

  // `prefix` names the file: TMPDIR/PREFIX-XXXXXX.
  core::Status Create(const std::string& contents, const std::string& prefix) {
    const std::string dir = TempDir();
    std::string pattern = dir + "/" + prefix + "-XXXXXX";
    const int fd = mkstemp(pattern.data());
    if (fd < 0) {
      return core::MakeError(core::ErrorCode::kIo,
                             "cannot create a temporary file in " + dir + ": " + ErrorText(errno));
    }
    path_ = pattern;
    size_t done = 0;
    while (done < contents.size()) {
      const ssize_t n = write(fd, contents.data() + done, contents.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        const std::string why = ErrorText(errno);
        close(fd);
        return core::MakeError(core::ErrorCode::kIo,
                               "cannot write temporary file " + path_ + ": " + why);
      }
      done += static_cast<size_t>(n);
    }
    close(fd);
    return core::Ok();
  }

  const std::string& path() const { return path_; }

 private:
  static std::string TempDir() {
    const auto dir = core::ProcessEnvironment().Get("TMPDIR");
    return dir && !dir->empty() ? *dir : "/tmp";
  }

  std::string path_;
};

}  // namespace dbrunbook::testing
