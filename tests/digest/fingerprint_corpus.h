// Statements for the fingerprint tests, taken from the shared conformance slow logs with a
// deliberately simple reader (tests only; the real reader is src/digest/slowlog*): an event's
// statement is its non-header lines, without the leading `use db;` / `SET timestamp=N;` lines
// pt's parser turns into attributes, and without the final `;`. `# administrator command: X;`
// headers give "administrator command: X".
#pragma once

#include <string>
#include <vector>

namespace dbrunbook::digest::testing {

// The statements of one slow log (path relative to the shared directory); empty if unreadable.
std::vector<std::string> SlowLogStatements(const std::string& relative);

// The statements of every uncompressed slow log under conformance/slowlogs, in file order.
std::vector<std::string> AllSlowLogStatements();

}  // namespace dbrunbook::digest::testing
