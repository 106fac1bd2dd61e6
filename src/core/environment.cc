#include "core/environment.h"

#include <unistd.h>

#include <string_view>

namespace dbrunbook::core {

ProcessEnvironment::ProcessEnvironment() {
  for (char** entry = environ; entry != nullptr && *entry != nullptr; ++entry) {
    std::string_view kv(*entry);
    const auto eq = kv.find('=');
    if (eq == std::string_view::npos) continue;
    vars_.emplace(std::string(kv.substr(0, eq)), std::string(kv.substr(eq + 1)));
  }
}

std::optional<std::string> ProcessEnvironment::Get(const std::string& name) const {
  auto it = vars_.find(name);
  if (it == vars_.end()) return std::nullopt;
  return it->second;
}

std::vector<std::pair<std::string, std::string>> ProcessEnvironment::All() const {
  return {vars_.begin(), vars_.end()};
}

std::optional<std::string> MapEnvironment::Get(const std::string& name) const {
  auto it = vars_.find(name);
  if (it == vars_.end()) return std::nullopt;
  return it->second;
}

std::vector<std::pair<std::string, std::string>> MapEnvironment::All() const {
  return {vars_.begin(), vars_.end()};
}

}  // namespace dbrunbook::core
