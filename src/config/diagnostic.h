// Where a configuration value came from, and what is wrong with it.
//
// Every problem found in dbrunbook.yaml (or in a DBRUNBOOK_* environment override) is a
// `Diagnostic` that names the exact place ("dbrunbook.yaml:12:7" or "environment
// DBRUNBOOK_LOG__LEVEL"), the key path ("targets[1] (orders-replica).tls.mode"), what is
// wrong and, where we can tell, what to write instead. Diagnostics never contain a password.
#pragma once

#include <string>
#include <vector>

namespace dbrunbook::config {

// A place in the configuration: a file position (1-based line and column; 0 when unknown),
// or the environment variable that set the value (then `env_var` is non-empty and wins).
struct SourceLocation {
  std::string file;
  int line = 0;
  int column = 0;
  std::string env_var;

  bool from_env() const { return !env_var.empty(); }
  // "dbrunbook.yaml:12:7", "dbrunbook.yaml:12", "dbrunbook.yaml" or
  // "environment DBRUNBOOK_TARGETS__ORDERS_PRIMARY__PORT".
  std::string ToString() const;
};

struct Diagnostic {
  enum class Severity { kError, kWarning };

  Severity severity = Severity::kError;
  SourceLocation where;
  std::string key_path;  // "targets[1] (orders-replica).tls.mode"; empty for the whole file
  std::string message;   // "unknown value 'VERIFYCA'"
  std::string hint;      // "did you mean VERIFY_CA?"; may be empty

  bool is_error() const { return severity == Severity::kError; }
  // "dbrunbook.yaml:12:7: targets[1] (orders-replica).tls.mode: unknown value 'VERIFYCA' —
  // did you mean VERIFY_CA?"; warnings read "<where>: warning: <key path>: ...".
  std::string ToString() const;
};

// True when any diagnostic in the list is an error.
bool HasErrors(const std::vector<Diagnostic>& diagnostics);

}  // namespace dbrunbook::config
