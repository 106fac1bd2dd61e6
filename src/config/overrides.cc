#include "config/overrides.h"

#include <fmt/format.h>

#include <cctype>
#include <optional>

#include "core/strings.h"

namespace dbrunbook::config {
namespace {

constexpr std::string_view kPrefix = "DBRUNBOOK_";

std::vector<std::string> SplitPath(std::string_view path) {
  std::vector<std::string> segments;
  size_t start = 0;
  while (true) {
    const size_t pos = path.find("__", start);
    segments.emplace_back(path.substr(start, pos - start));
    if (pos == std::string_view::npos) return segments;
    start = pos + 2;
  }
}

class Override {
 public:
  Override(std::string var, std::string value, std::vector<Diagnostic>& diagnostics)
      : var_(std::move(var)), value_(std::move(value)), diagnostics_(diagnostics) {}

  // Applies the override to `root`, or reports why not and leaves `root` as it was.
  void Apply(YamlNode& root) {
    YamlNode copy = root;
    if (ApplyTo(copy)) root = std::move(copy);
  }

 private:
  bool ApplyTo(YamlNode& root) {
    const std::vector<std::string> segments = SplitPath(var_.substr(kPrefix.size()));
    for (const auto& segment : segments) {
      if (segment.empty()) {
        return Error("empty path segment", fmt::format("write {}SECTION__KEY, with '__' between "
                                                       "levels and no other double '_'",
                                                       kPrefix));
      }
    }
    std::optional<YamlNode> value = Value();
    if (!value) return false;
    YamlNode* node = &root;
    std::string path;
    for (size_t i = 0; i < segments.size(); ++i) {
      const std::string& segment = segments[i];
      if (path == "targets") {
        if (node->is_null()) {
          return Error(
              fmt::format("no target is named {}: the configuration has no targets", segment));
        }
        if (node->kind != YamlNode::Kind::kSequence) {
          return Error(fmt::format("no target is named {}: targets is {} ({}), not a list", segment,
                                   node->KindName(), node->where.ToString()));
        }
        node = FindTarget(*node, segment);
        if (node == nullptr) return false;
        path += "." + segment;
        if (i + 1 == segments.size()) {
          return Error("names a whole target",
                       fmt::format("name one of its keys, e.g. {}__PORT", var_));
        }
        continue;
      }
      if (node->is_null()) {
        node->kind = YamlNode::Kind::kMap;
        node->where = Where();
      }
      if (!node->is_map()) {
        return Error(fmt::format("cannot set a key under '{}': it is {} ({}), not a mapping", path,
                                 node->KindName(), node->where.ToString()));
      }
      node = &Child(*node, segment);
      path += (path.empty() ? "" : ".") + core::ToLower(segment);
    }
    *node = std::move(*value);
    return true;
  }

  SourceLocation Where() const { return SourceLocation{"", 0, 0, var_}; }

  // Records an error; returns false for `return Error(...)` in ApplyTo.
  bool Error(std::string message, std::string hint = {}) {
    diagnostics_.push_back(
        Diagnostic{Diagnostic::Severity::kError, Where(), "", std::move(message), std::move(hint)});
    return false;
  }

  // The target whose EnvironmentName is `segment`, or nullptr after reporting why not.
  YamlNode* FindTarget(YamlNode& targets, const std::string& segment) {
    YamlNode* found = nullptr;
    std::vector<std::string> names;
    for (auto& item : targets.items) {
      if (!item.is_map()) continue;
      for (const auto& entry : item.entries) {
        if (entry.key != "name" || entry.value.kind != YamlNode::Kind::kScalar) continue;
        const std::string env_name = EnvironmentName(entry.value.scalar);
        if (env_name == segment) {
          if (found != nullptr) {
            Error(fmt::format("more than one target is named {} in environment form", segment),
                  "rename one of them so their names differ in more than - . and _");
            return nullptr;
          }
          found = &item;
        }
        names.push_back(env_name);
        break;
      }
    }
    if (found == nullptr) {
      const std::string close = core::ClosestMatch(segment, names);
      Error(fmt::format("no target is named {} (target names are written upper-case, with _ for "
                        "every other character)",
                        segment),
            close.empty() ? (names.empty() ? "the configuration has no targets"
                                           : fmt::format("targets: {}", fmt::join(names, ", ")))
                          : fmt::format("did you mean {}?", close));
    }
    return found;
  }

  // The entry of `map` the segment names (keys compare in environment form, so THREADS_RUNNING
  // finds threads_running and TEAM_NAME finds team-name); a new lower-case key otherwise.
  YamlNode& Child(YamlNode& map, const std::string& segment) {
    for (auto& entry : map.entries) {
      if (EnvironmentName(entry.key) == segment) return entry.value;
    }
    YamlEntry entry;
    entry.key = core::ToLower(segment);
    entry.key_where = Where();
    entry.value.where = Where();
    map.entries.push_back(std::move(entry));
    return map.entries.back().value;
  }

  // The value is a plain string (checked later like any value in the file, so "3307" is a
  // valid port); one starting with '[' or '{' is a YAML flow list or mapping.
  std::optional<YamlNode> Value() {
    const std::string_view trimmed = core::Trim(value_);
    if (!trimmed.empty() && (trimmed.front() == '[' || trimmed.front() == '{')) {
      auto parsed = ParseYamlDocument(trimmed, "");
      if (!parsed) {
        Error(parsed.error().message);
        return std::nullopt;
      }
      Relocate(*parsed);
      return std::move(*parsed);
    }
    YamlNode node;
    node.kind = YamlNode::Kind::kScalar;
    node.scalar = value_;
    node.where = Where();
    return node;
  }

  void Relocate(YamlNode& node) {
    node.where = Where();
    for (auto& item : node.items) Relocate(item);
    for (auto& entry : node.entries) {
      entry.key_where = Where();
      Relocate(entry.value);
    }
  }

  std::string var_;
  std::string value_;
  std::vector<Diagnostic>& diagnostics_;
};

}  // namespace

std::string EnvironmentName(std::string_view name) {
  std::string out;
  out.reserve(name.size());
  for (char c : name) {
    const auto u = static_cast<unsigned char>(c);
    out += std::isalnum(u) ? static_cast<char>(std::toupper(u)) : '_';
  }
  return out;
}

void ApplyEnvironmentOverrides(YamlNode& root, const core::Environment& env,
                               std::vector<Diagnostic>& diagnostics) {
  for (const auto& [name, value] : env.All()) {
    // Only DBRUNBOOK_ variables with a '__' are overrides; DBRUNBOOK_CONFIG and other
    // single-level names are settings of the program itself.
    if (name.rfind(kPrefix, 0) != 0) continue;
    if (name.find("__", kPrefix.size()) == std::string::npos) continue;
    Override(name, value, diagnostics).Apply(root);
  }
}

}  // namespace dbrunbook::config
