// Event filters for `dbrunbook digest`: --filter expressions, and --since/--until times.
//
// A filter expression is comparisons joined by `and` / `or` (`and` binds tighter; no
// parentheses):
//   ATTRIBUTE OP VALUE
// ATTRIBUTE: db, user, host, ip, arg (the statement), fingerprint, ts, or any attribute as the
// log writes it (Query_time, Rows_examined, QC_hit, Full_scan, Thread_id, ...); names are
// case-sensitive, as in the log. `bytes` is the statement length.
// OP: = and != (numbers compare as numbers when both sides are numbers, else as text;
// Yes/No booleans compare as text), < <= > >= (numbers), =~ and !~ (RE2 regular expression,
// searched anywhere in the value; prefix (?i) for case-insensitive).
// VALUE: a word, a number, or a quoted string ('...' or "..." with \ escapes).
// An event without the attribute fails every comparison except != and !~.
//
// Examples: `db = sbtest`, `Query_time > 1.5 and Rows_examined >= 10000`,
// `user = app or user = batch`, `arg =~ '(?i)^select .* for update'`.
//
// Thread-safety: a parsed Filter is immutable; Matches() may be called from several threads.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "digest/aggregate.h"

namespace dbrunbook::digest {

class Filter {
 public:
  // Parses one expression; errors name the position and what was expected.
  static core::Result<Filter> Parse(std::string_view expression);
  Filter(Filter&&) noexcept;
  Filter& operator=(Filter&&) noexcept;
  ~Filter();

  bool Matches(const EventView& event) const;
  // Whether the expression looks at the fingerprint (it then has to be computed).
  bool NeedsFingerprint() const;
  const std::string& text() const { return text_; }

 private:
  struct Comparison;
  Filter();
  std::string text_;
  // Disjunction of conjunctions.
  std::vector<std::vector<std::shared_ptr<const Comparison>>> any_of_;
};

// pt-query-digest's --since / --until values (Transformers::any_unix_timestamp), as epoch
// seconds: N[smhd] (up to 5 digits: now minus that; no suffix = seconds), a Unix timestamp
// (9+ digits), YYMMDD[ HH:MM:SS], YYYY-MM-DD[( |T)HH:MM:SS] (local time, like the classic slow
// log's "# Time:"; ISO times with Z or +HH:MM are exact). `now` is the current epoch time.
core::Result<double> ParseTimeBound(std::string_view text, double now);

}  // namespace dbrunbook::digest
