// The generic half of a YAML file validator that reports every problem at once, with its
// position and key path: dbrunbook.yaml (config.cc) and the runbook file
// (src/runbook/runbook.cc) share it, so both say "file:line:col: key.path: unknown key — did
// you mean X?", report duplicate keys, and sort what they found into reading order.
//
// For readers of config::YamlNode trees only (config/yaml_tree.h); not a general API.
// Thread-safety: a YamlChecker is used by one thread, for one file.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <tl/expected.hpp>
#include <vector>

#include "config/diagnostic.h"
#include "config/yaml_tree.h"

namespace dbrunbook::config {

// A value as read from the file: whether the key was written, its value when valid, where.
template <typename T>
struct Setting {
  bool present = false;    // the key was written (its value may have been invalid)
  std::optional<T> value;  // the value, when valid
  SourceLocation where;    // of the value
};

bool Contains(const std::vector<std::string>& list, std::string_view item);
// "targets[0].tls" + "mode" -> "targets[0].tls.mode"; "" + "log" -> "log".
std::string JoinKeyPath(const std::string& path, std::string_view key);
// "did you mean X?" when X is the one candidate `word` is the start of, or a plausible typo
// of `word`; else "<list_label>: a, b, c".
std::string DidYouMean(std::string_view word, const std::vector<std::string>& candidates,
                       std::string_view list_label);
// Reading order: environment overrides first, then by position in the file (stable).
void SortByPosition(std::vector<Diagnostic>& diagnostics);

// Reads a YAML file whole: `noun` names it in the one error a missing, non-regular, too
// large or unreadable file gives ("the runbook file does not exist" + `missing_hint`).
tl::expected<std::string, Diagnostic> ReadYamlFile(const std::string& path, std::string_view noun,
                                                   uintmax_t max_bytes,
                                                   std::string_view missing_hint);

// Collects errors and warnings while a validator walks a tree; the shapes every YAML file
// has (mappings, keys, strings, numbers) are checked here.
class YamlChecker {
 public:
  explicit YamlChecker(std::vector<Diagnostic> errors = {}) : errors_(std::move(errors)) {}
  virtual ~YamlChecker() = default;
  YamlChecker(const YamlChecker&) = delete;
  YamlChecker& operator=(const YamlChecker&) = delete;

  void Error(const SourceLocation& where, std::string key_path, std::string message,
             std::string hint = {});
  void Warn(const SourceLocation& where, std::string key_path, std::string message,
            std::string hint = {});

  // True for a mapping or a null (`key:` alone is an empty mapping); else an error.
  bool ExpectMap(const YamlNode& node, const std::string& path);
  // The entries of a mapping, each key once: duplicates are reported (the first one counts),
  // and so are keys not in `known` (when given).
  std::vector<const YamlEntry*> Entries(const YamlNode& map, const std::string& path,
                                        const std::vector<std::string>* known);
  // A scalar; an error for anything else, for `key:` without a value and (unless
  // `allow_empty`) for an empty string.
  Setting<std::string> String(const YamlNode& node, const std::string& path,
                              bool allow_empty = false);
  // A finite number.
  Setting<double> Number(const YamlNode& node, const std::string& path);

  // Ends the walk: sorts what was found; with errors, returns them followed by the warnings;
  // without, moves the warnings into `warnings` and returns nothing.
  std::optional<std::vector<Diagnostic>> TakeDiagnostics(std::vector<Diagnostic>& warnings);

 protected:
  // Reports a key not in the known list ("unknown key — did you mean ...?"; YAML merge keys
  // get their own message). Validators override it for keys that deserve a better message.
  virtual void UnknownKey(const YamlEntry& entry, const std::string& key_path,
                          const std::vector<std::string>& known);

 private:
  std::vector<Diagnostic> errors_;
  std::vector<Diagnostic> warnings_;
};

}  // namespace dbrunbook::config
