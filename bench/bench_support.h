// What the benchmarks share: reading a sandbox server's env file and password file, and the
// server's own counters (SHOW GLOBAL STATUS) read by a separate probe connection.
#pragma once

#include <cstddef>
#include <map>
#include <optional>
#include <string>

#include "core/error.h"
#include "core/secret.h"
#include "mysql/session.h"

namespace dbrunbook::bench {

using Counters = std::map<std::string, double>;

// The whole file, or nullopt when it cannot be read.
std::optional<std::string> ReadFile(const std::string& path);

// KEY=value lines as scripts/sandbox writes them: values in sh quoting. Expansions are refused.
core::Result<std::map<std::string, std::string>> ParseEnvFile(const std::string& path);

// A password file's content without its trailing newline.
core::Result<core::Secret> ReadSecret(const std::string& path);

// SHOW GLOBAL STATUS as numbers (non-numeric values left out).
core::Result<Counters> ReadStatus(mysql::Session& probe);

// after - before, for the counters present in both.
Counters Delta(const Counters& before, const Counters& after);

// The last `max_chars` characters of a file, trimmed (for error output of a failed process).
std::string Tail(const std::string& path, size_t max_chars = 600);

}  // namespace dbrunbook::bench
