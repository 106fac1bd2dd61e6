// Finding the peer tools that differential tests compare with (Debian's percona-toolkit, perl)
// and taking packages out of pt's fat-packed scripts, so a test can run pt's own code.
#pragma once

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <string>

namespace dbrunbook::testing {

// The executable `name` on $PATH (/usr/bin:/bin when unset), or "" when there is none.
inline std::string FindInPath(const std::string& name) {
  const char* path = std::getenv("PATH");  // NOLINT(concurrency-mt-unsafe)
  const std::string rest = path != nullptr ? path : "/usr/bin:/bin";
  std::size_t start = 0;
  while (start <= rest.size()) {
    std::size_t end = rest.find(':', start);
    if (end == std::string::npos) end = rest.size();
    const std::filesystem::path candidate =
        std::filesystem::path(rest.substr(start, end - start)) / name;
    if (access(candidate.c_str(), X_OK) == 0) return candidate.string();
    start = end + 1;
  }
  return "";
}

// The text of `package NAME;` up to its "# End NAME package" line in a pt fat-packed script
// ("" when absent). It ends with the "}" of the block pt opens before the package: prefix
// "{\n" to load it.
inline std::string PerlPackage(const std::string& script, const std::string& name) {
  const std::size_t start = script.find("\npackage " + name + ";\n");
  const std::size_t end = script.find("\n# End " + name + " package", start);
  if (start == std::string::npos || end == std::string::npos) return "";
  return script.substr(start + 1, end - start);
}

}  // namespace dbrunbook::testing
