// Query fingerprints and query IDs exactly as Percona Toolkit 3.5.7 computes them
// (QueryRewriter::fingerprint, used by pt-query-digest and pt-fingerprint), so that classes
// can be joined with pt-query-digest reports, PMM and other Percona tooling.
//
// A fingerprint abstracts a statement: literals become `?`, comments go, whitespace collapses,
// the text is lower-cased, IN()/VALUES() lists collapse to `(?+)`, and so on. The rules are
// pt's, in pt's order, quirks included (fingerprint.cc lists them): for example `0x1F`
// becomes `?f` and `users_2009` becomes `users_?`, exactly as pt-query-digest groups them.
// The implementation is a few hand-written passes over the bytes (no regular expressions);
// passes whose trigger byte does not occur are skipped.
//
// Text is treated as bytes, as pt does: only ASCII letters are lower-cased and only ASCII
// letters, digits and `_` are word characters; other bytes (UTF-8 included) pass through.
//
// FingerprintOptions::abstract selects a different fingerprint, dbrunbook's own: it fixes pt's
// quirks instead of reproducing them (fingerprint.cc lists its rules A1-A17). It reads the
// statement as MySQL's lexer does (strings, quoted identifiers, comments, numbers, operators),
// so `0x1F`, `1e5`, `-5`, `N'x'` and `_utf8mb4'x'` are each one `?`, numbers inside identifiers
// stay, spacing and quoting do not matter (`id=1` and `` `id` = 1 `` are one class), and
// `LIMIT ?, ?` / `LIMIT ? OFFSET ?`, one-row and multi-row VALUES, and trailing `;` no longer
// split a class. Its output keeps pt's style (lower case, `?`, `in(?+)`, `/*repeat union*/`).
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace dbrunbook::digest {

struct FingerprintOptions {
  // pt-fingerprint --match-md5-checksums: a 32-digit lower-case hex string after `.`, `_` or
  // `-` becomes `?` (db.fbc5e685..._temp -> db.?_temp).
  bool match_md5_checksums = false;
  // pt-fingerprint --match-embedded-numbers, pt-query-digest --preserve-embedded-numbers:
  // numbers inside identifiers stay (rt_5min, prices2.t1); only numbers starting a word are
  // abstracted.
  bool match_embedded_numbers = false;
  // dbrunbook's abstract fingerprint instead of pt's (rules A1-A17 in fingerprint.cc): one
  // class per query shape, pt's quirks fixed. Not pt-compatible: neither the fingerprint nor
  // its QueryId joins with pt-query-digest, PMM or other Percona tooling. Identifiers are never
  // abstracted in this mode, so match_embedded_numbers has no effect; match_md5_checksums
  // still replaces 32-digit lower-case hex MD5s inside identifiers.
  bool abstract = false;
};

// The fingerprint of one statement (pt-query-digest's default options unless given).
std::string Fingerprint(std::string_view query, const FingerprintOptions& options = {});

// The same, written into `out` (its capacity is reused; for hot loops).
void FingerprintInto(std::string_view query, const FingerprintOptions& options, std::string& out);

// Whether statements that differ only in their digits share a fingerprint, and the key that
// says so: writes `query` into `key` with every run of decimal digits written as one "0" and
// returns true when every statement with the same key has the same (pt, default options)
// fingerprint as `query`. That holds because pt's rules look at digits only through rule 12
// (a number becomes `?`, `users_2009` becomes `users_?`), which does not care about a run's
// value or length, except in rules this refuses: comments (`/*db.tbl:1/2*/`,
// `/*!40001 SQL_NO_CACHE */`), `call name(` and administrator commands. Not valid for the
// options (md5 checksums, embedded numbers, abstract). Used to skip fingerprinting statements
// of a known shape (the aggregator's memo); tests check the property on the corpora.
bool DigitRunKey(std::string_view query, std::string& key);

// pt-query-digest's query ID (Transformers::make_checksum): the upper-case hex MD5 of the
// fingerprint, 32 digits. The same function serves abstract fingerprints: their IDs are MD5s of
// a different text, so they never equal (or join with) the IDs Percona tooling reports. pt 3.x
// reports print all 32 ("ID 0x8E30...0841"); Maatkit and pt 2.x printed only the last 16
// (QueryIdShort), which are the last 16 digits of the same MD5.
// The statement as the abstract fingerprint's lexer reads it (MySQL's lexer rules: strings,
// `quoted` identifiers, comments dropped, version comments' contents kept, numbers, multi-byte
// operators), for callers that analyse a statement's structure (mitigate index's WHERE-clause
// analysis) without writing a second tokenizer. Token texts are views into `query`.
enum class SqlTokenKind : unsigned char {
  kWord,      // keyword, name, @variable
  kQuoted,    // `quoted identifier`, backticks included
  kLiteral,   // string (quotes included), number, or `?` placeholder
  kOperator,  // =, <=, <>, <=>, +, ...
  kLParen,
  kRParen,
  kComma,
  kDot,
  kSemicolon,
};
struct SqlToken {
  SqlTokenKind kind = SqlTokenKind::kWord;
  std::string_view text;
  bool string = false;  // kLiteral: a quoted string
};
std::vector<SqlToken> Tokenize(std::string_view query);

std::string QueryId(std::string_view fingerprint);
std::string QueryIdShort(std::string_view fingerprint);

}  // namespace dbrunbook::digest
