// Parser of recorded server output, so fakes replay what real servers printed.
//
// The recordings under ../shared/conformance/server-outputs (and captured files under
// tests/*/data) come in the formats the mysql client, pt-mysql-summary and mysqltest print:
//
//   TAB  "name<TAB>value" lines (mysql -N -B, pt-mysql-summary) or a tab-separated header line
//        followed by rows (mysql -B, mysqltest). Values are unescaped as mysql -B escapes them
//        (\n, \t, \\, \0).
//   \G   "*************************** N. row ***************************" blocks with
//        right-aligned "name: value" lines; a line that is not a field line continues the
//        previous value (multi-line values such as SHOW ENGINE INNODB STATUS, whose Status
//        takes the rest of the row). Rows whose names were left-aligned by a documentation
//        editor are read too.
//   BOX  the client's +----+ tables. Cells are cut at the border's '+' positions when the line
//        lines up with the border, else split on '|' (tolerates malformed separators and
//        non-breaking spaces, which are trimmed like blanks).
//   MTR  mysqltest results: statements interleaved with TAB results; a two-column vertical
//        result ("name<TAB>value") reads like a headerless TAB block (see PivotNameValue).
//
// Everything that is not server output is skipped: prompts ("mysql>", "MySQL [(none)]>",
// "MariaDB [(none)]>") and query text, "N rows in set (x sec)", "Empty set", "Query OK",
// "Warnings:" with the mysqltest warning lines after it, pt-stalk "TS ..." lines,
// pt-mysql-summary "internal::..." / "pt-summary-internal-..." lines (space separated), and a
// documentation ellipsis line "...".
//
// The literal value NULL becomes SQL NULL (nullopt): the text formats cannot tell the string
// "NULL" from NULL, and servers print NULL far more often.
//
// Thread-safety: pure functions. Errors: ReadSharedFile/ReadSourceFile return kIo with the path;
// the parsers never fail (unrecognised text is skipped, so a test asserting counts notices).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "dialect/flavor.h"
#include "mysql/result.h"

namespace dbrunbook::testing {

// Contents of `relative` under the shared directory: $DBRUNBOOK_SHARED_DIR (set by CTest), or
// else <source root>/../shared, the source root taken from where this file was compiled.
// Example: ReadSharedFile("conformance/server-outputs/variables/variables--....txt").
core::Result<std::string> ReadSharedFile(const std::string& relative);
// The path ReadSharedFile reads, for tests that list a shared directory.
std::string SharedPath(const std::string& relative);

// Contents of `relative` under the source tree: $DBRUNBOOK_SOURCE_DIR (set by CTest), or else
// the source root this file was compiled from. Example: ReadSourceFile("tests/dialect/data/x").
core::Result<std::string> ReadSourceFile(const std::string& relative);

// One ResultSet per result block found in `text`, in order. Column names come from the header
// (TAB with header, BOX) or the field names (\G, first row); a headerless two-column TAB block
// gets the columns Variable_name and Value, as SHOW VARIABLES has.
std::vector<mysql::ResultSet> ParseRecordedOutput(std::string_view text);

// Server variables (or status counters) from a recording: every Variable_name/Value block
// (SHOW [GLOBAL] VARIABLES / STATUS in any format), plus single-row results of
// "SELECT @@x, @@global.y" whose @@ columns become x and y. Other columns are ignored. NULL
// values become "". Later blocks override earlier ones.
dialect::VariableMap ParseVariables(std::string_view text);

// Turns a two-column name/value result (a mysqltest vertical result, or any Variable_name/Value
// rows) into one row whose columns are the names, so row["Slave_IO_Running"] works on it.
mysql::ResultSet PivotNameValue(const mysql::ResultSet& name_value);

}  // namespace dbrunbook::testing
