#include "config/yaml_checks.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <system_error>
#include <tuple>
#include <utility>

#include "core/strings.h"

namespace dbrunbook::config {

bool Contains(const std::vector<std::string>& list, std::string_view item) {
  return std::find(list.begin(), list.end(), item) != list.end();
}

std::string JoinKeyPath(const std::string& path, std::string_view key) {
  return path.empty() ? std::string(key) : fmt::format("{}.{}", path, key);
}

std::string DidYouMean(std::string_view word, const std::vector<std::string>& candidates,
                       std::string_view list_label) {
  // A word cut short ("replication_lag" for replication_lag_seconds) is a closer match than
  // the candidate fewest edits away (replication_running); a short start ("prot") is not.
  constexpr size_t kMinPrefix = 4;
  std::vector<std::string> extending;
  for (const auto& candidate : candidates) {
    if (word.size() >= kMinPrefix && candidate.size() > word.size() &&
        word.size() * 2 >= candidate.size() &&
        std::string_view(candidate).substr(0, word.size()) == word) {
      extending.push_back(candidate);
    }
  }
  if (extending.size() == 1) return fmt::format("did you mean {}?", extending.front());
  const std::string close = core::ClosestMatch(word, candidates);
  if (!close.empty()) return fmt::format("did you mean {}?", close);
  return fmt::format("{}: {}", list_label, fmt::join(candidates, ", "));
}

void SortByPosition(std::vector<Diagnostic>& diagnostics) {
  std::stable_sort(diagnostics.begin(), diagnostics.end(),
                   [](const Diagnostic& a, const Diagnostic& b) {
                     return std::tuple(!a.where.from_env(), a.where.line, a.where.column) <
                            std::tuple(!b.where.from_env(), b.where.line, b.where.column);
                   });
}

tl::expected<std::string, Diagnostic> ReadYamlFile(const std::string& path, std::string_view noun,
                                                   uintmax_t max_bytes,
                                                   std::string_view missing_hint) {
  namespace fs = std::filesystem;
  auto fail = [&](std::string message, std::string_view hint) {
    return tl::unexpected(Diagnostic{Diagnostic::Severity::kError, SourceLocation{path, 0, 0, ""},
                                     "", std::move(message), std::string(hint)});
  };
  std::error_code ec;
  const auto status = fs::status(path, ec);
  if (ec || !fs::exists(status)) {
    return fail(fmt::format("the {} file does not exist", noun), missing_hint);
  }
  if (!fs::is_regular_file(status)) return fail(fmt::format("the {} path is not a file", noun), "");
  if (fs::file_size(path, ec) > max_bytes || ec) {
    return fail(
        fmt::format("the {} file is too large (over {} MiB) or unreadable", noun, max_bytes >> 20),
        "");
  }
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  if (in) text << in.rdbuf();
  if (!in || in.bad()) {
    return fail(fmt::format("the {} file cannot be read", noun), "check its permissions");
  }
  return std::move(text).str();
}

void YamlChecker::Error(const SourceLocation& where, std::string key_path, std::string message,
                        std::string hint) {
  errors_.push_back(Diagnostic{Diagnostic::Severity::kError, where, std::move(key_path),
                               std::move(message), std::move(hint)});
}

void YamlChecker::Warn(const SourceLocation& where, std::string key_path, std::string message,
                       std::string hint) {
  warnings_.push_back(Diagnostic{Diagnostic::Severity::kWarning, where, std::move(key_path),
                                 std::move(message), std::move(hint)});
}

bool YamlChecker::ExpectMap(const YamlNode& node, const std::string& path) {
  if (node.is_map() || node.is_null()) return true;
  Error(node.where, path, fmt::format("expected a mapping, found {}", node.KindName()));
  return false;
}

std::vector<const YamlEntry*> YamlChecker::Entries(const YamlNode& map, const std::string& path,
                                                   const std::vector<std::string>* known) {
  std::vector<const YamlEntry*> out;
  std::map<std::string, const YamlEntry*> seen;
  for (const YamlEntry& entry : map.entries) {
    const std::string key_path = JoinKeyPath(path, entry.key);
    auto [it, inserted] = seen.emplace(entry.key, &entry);
    if (!inserted) {
      Error(entry.key_where, key_path,
            fmt::format("duplicate key (first set at {})", it->second->key_where.ToString()),
            "YAML keeps only one of them: remove the other");
      continue;
    }
    if (known != nullptr && !Contains(*known, entry.key)) {
      UnknownKey(entry, key_path, *known);
      continue;
    }
    out.push_back(&entry);
  }
  return out;
}

void YamlChecker::UnknownKey(const YamlEntry& entry, const std::string& key_path,
                             const std::vector<std::string>& known) {
  if (entry.key == "<<") {
    Error(entry.key_where, key_path, "YAML merge keys are not supported",
          "write the keys out in each place");
    return;
  }
  Error(entry.key_where, key_path, "unknown key", DidYouMean(entry.key, known, "known keys"));
}

Setting<std::string> YamlChecker::String(const YamlNode& node, const std::string& path,
                                         bool allow_empty) {
  Setting<std::string> out{true, std::nullopt, node.where};
  if (node.is_null()) {
    Error(node.where, path, "has no value");
  } else if (node.kind != YamlNode::Kind::kScalar) {
    Error(node.where, path, fmt::format("expected a string, found {}", node.KindName()));
  } else if (node.scalar.empty() && !allow_empty) {
    Error(node.where, path, "is empty");
  } else {
    out.value = node.scalar;
  }
  return out;
}

Setting<double> YamlChecker::Number(const YamlNode& node, const std::string& path) {
  const Setting<std::string> text = String(node, path);
  Setting<double> out{true, std::nullopt, node.where};
  if (!text.value) return out;
  const auto number = core::ParseDouble(*text.value);
  if (!number || !std::isfinite(*number)) {
    Error(node.where, path, fmt::format("'{}' is not a number", *text.value));
  } else {
    out.value = *number;
  }
  return out;
}

std::optional<std::vector<Diagnostic>> YamlChecker::TakeDiagnostics(
    std::vector<Diagnostic>& warnings) {
  SortByPosition(errors_);
  SortByPosition(warnings_);
  if (!errors_.empty()) {
    std::vector<Diagnostic> all = std::move(errors_);
    all.insert(all.end(), warnings_.begin(), warnings_.end());
    errors_.clear();
    warnings_.clear();
    return all;
  }
  warnings = std::move(warnings_);
  warnings_.clear();
  return std::nullopt;
}

}  // namespace dbrunbook::config
