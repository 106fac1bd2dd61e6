// Internal to the modules that read YAML files (config, runbook): a YAML document as a plain
// tree that remembers where each node was written.
//
// yaml-cpp throws and silently keeps only the first of duplicate keys on lookup; this tree
// is built once, inside one try/catch, and keeps every mapping entry in document order
// (duplicates included) with its position, so validation can report duplicates and exact
// positions, and environment overrides can be applied before validation.
#pragma once

#include <string>
#include <string_view>
#include <tl/expected.hpp>
#include <vector>

#include "config/diagnostic.h"

namespace dbrunbook::config {

struct YamlEntry;

struct YamlNode {
  enum class Kind { kNull, kScalar, kMap, kSequence };

  Kind kind = Kind::kNull;
  std::string scalar;              // kScalar: the text, unquoted
  SourceLocation where;            // for a null value written as `key:`, the key's position
  std::vector<YamlEntry> entries;  // kMap: in document order, duplicate keys kept
  std::vector<YamlNode> items;     // kSequence

  bool is_map() const { return kind == Kind::kMap; }
  bool is_null() const { return kind == Kind::kNull; }
  // "a mapping", "a list", "a string", "nothing": for "expected X, found Y" messages.
  std::string_view KindName() const;
};

struct YamlEntry {
  std::string key;
  SourceLocation key_where;
  YamlNode value;
};

// Parses `text` as one YAML document (an empty document is a null node). A syntax error, a
// second document, a non-scalar key, or a document that expands to too many nodes (alias
// bombs) gives one error diagnostic with the position. `display_path` names the file.
tl::expected<YamlNode, Diagnostic> ParseYamlDocument(std::string_view text,
                                                     const std::string& display_path);

}  // namespace dbrunbook::config
