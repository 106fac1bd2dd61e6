#include "bench/bench_support.h"

#include <fmt/format.h>

#include <fstream>
#include <sstream>
#include <utility>

#include "core/strings.h"

namespace dbrunbook::bench {

std::optional<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream out;
  out << in.rdbuf();
  return std::move(out).str();
}

// KEY=value lines as scripts/sandbox writes them: values in sh quoting ('single' with '\''
// for a quote, "double" with backslash escapes, backslash outside quotes). Expansions are
// refused, not evaluated.
core::Result<std::map<std::string, std::string>> ParseEnvFile(const std::string& path) {
  auto text = ReadFile(path);
  if (!text) {
    return core::MakeError(core::ErrorCode::kNotFound, fmt::format("cannot read {}", path),
                           "start the server first: scripts/sandbox start NAME");
  }
  std::map<std::string, std::string> env;
  std::istringstream lines(*text);
  std::string line;
  int number = 0;
  while (std::getline(lines, line)) {
    ++number;
    const std::string_view trimmed = core::Trim(line);
    if (trimmed.empty() || trimmed.front() == '#') continue;
    const size_t eq = trimmed.find('=');
    if (eq == std::string_view::npos || eq == 0) {
      return core::MakeError(core::ErrorCode::kInvalidConfig,
                             fmt::format("{}:{}: expected KEY=value", path, number));
    }
    std::string value;
    const std::string_view raw = trimmed.substr(eq + 1);
    for (size_t i = 0; i < raw.size(); ++i) {
      const char c = raw[i];
      if (c == '\'') {
        const size_t end = raw.find('\'', i + 1);
        if (end == std::string_view::npos) {
          return core::MakeError(core::ErrorCode::kInvalidConfig,
                                 fmt::format("{}:{}: unterminated quote", path, number));
        }
        value.append(raw.substr(i + 1, end - i - 1));
        i = end;
      } else if (c == '"') {
        for (++i; i < raw.size() && raw[i] != '"'; ++i) {
          if (raw[i] == '\\' && i + 1 < raw.size()) ++i;
          value.push_back(raw[i]);
        }
      } else if (c == '\\' && i + 1 < raw.size()) {
        value.push_back(raw[++i]);
      } else if (c == '$' || c == '`') {
        return core::MakeError(core::ErrorCode::kInvalidConfig,
                               fmt::format("{}:{}: expansions are not supported", path, number));
      } else {
        value.push_back(c);
      }
    }
    env[std::string(trimmed.substr(0, eq))] = std::move(value);
  }
  return env;
}

core::Result<core::Secret> ReadSecret(const std::string& path) {
  auto text = ReadFile(path);
  if (!text) {
    return core::MakeError(core::ErrorCode::kNotFound, fmt::format("cannot read {}", path));
  }
  while (!text->empty() && (text->back() == '\n' || text->back() == '\r')) text->pop_back();
  return core::Secret(std::move(*text));
}

core::Result<Counters> ReadStatus(mysql::Session& probe) {
  auto result = probe.Query("SHOW GLOBAL STATUS");
  if (!result) return core::Fail(result.error());
  Counters counters;
  for (const auto& row : result->rows) {
    auto name = row.at(0).AsString();
    auto value = row.at(1).AsString();
    if (!name || !value) continue;
    if (auto number = core::ParseDouble(*value)) counters.emplace(std::string(*name), *number);
  }
  return counters;
}

Counters Delta(const Counters& before, const Counters& after) {
  Counters delta;
  for (const auto& [name, value] : after) {
    if (auto it = before.find(name); it != before.end()) delta[name] = value - it->second;
  }
  return delta;
}

std::string Tail(const std::string& path, size_t max_chars) {
  auto text = ReadFile(path).value_or("");
  if (text.size() > max_chars) text = "..." + text.substr(text.size() - max_chars);
  return std::string(core::Trim(text));
}

}  // namespace dbrunbook::bench
