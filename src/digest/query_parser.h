// Percona Toolkit's table extraction, distillation and EXPLAIN conversion of statements, as
// pt-query-digest 3.5.7 uses them (QueryParser::get_tables / extract_tables, QueryRewriter::
// distill / convert_to_select / shorten, Quoter::split_unquote / quote, and the parts of
// QueryReportFormatter that print them), quirks included, so that `--group-by tables`, the
// "# Tables" section, the profile's last column, `--group-by distill` and the "# Converted for
// EXPLAIN" block come out as pt prints them.
//
// pt does all of this with Perl regexes. Here every regex is a hand-written scan that yields
// the match Perl's backtracking engine finds (query_parser.cc states each regex and why the
// scan finds the same match); nothing uses a regex engine, and the work is linear in the
// length of the statement (statements can be megabytes; pt itself does not cut them).
//
// Text is treated as bytes, as pt does: only ASCII letters fold case, `\w` is [A-Za-z0-9_] and
// `\s` is [ \t\n\v\f\r]; other bytes (UTF-8 included) pass through unchanged. Perl's "false"
// strings ("" and "0") are false here too wherever pt tests a value.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace dbrunbook::digest {

// QueryParser::get_tables: the tables a statement names, in order, as written (backticks and
// `db.` kept; duplicates kept). CREATE/ALTER/TRUNCATE/DROP/RENAME give the name after the
// first "TABLE" (none for ... DATABASE; CREATE ... SELECT gives the SELECT's tables); LOAD DATA
// gives the word after "INTO TABLE"; LOCK TABLES its list; others every name after
// FROM/JOIN/UPDATE/INTO (and comma joins), with string literals blanked first.
//
// pt can also return an undefined entry: a DDL statement without "TABLE name" (DROP INDEX i
// ON t) or a LOAD DATA without "INTO TABLE x". GetTablesRaw keeps it as nullopt; GetTables
// leaves it out, as extract_tables and distill do.
std::vector<std::optional<std::string>> GetTablesRaw(std::string_view query);
std::vector<std::string> GetTables(std::string_view query);

// One (db, table) pair: Quoter::split_unquote's result, without backticks. An empty `db` (or
// `table`) is pt's undef; the strings are otherwise as pt has them (a db named "0" stays "0",
// which pt's report then treats as no db).
struct TableRef {
  std::string db;
  std::string table;
  bool operator==(const TableRef&) const = default;
};

// Quoter::split_unquote(db_tbl, default_db): cut at the first two '.' (not backtick-aware, as
// pt), strip one backtick from each end of each part and undouble ``; a name without a db gets
// `default_db`.
TableRef SplitUnquote(std::string_view db_tbl, std::string_view default_db = {});

// QueryParser::extract_tables(query, default_db): get_tables' defined, non-false names, each
// once (by exact text), split and unquoted; a name without a (true) db gets `default_db`
// (empty: none).
//
// In pt-query-digest's report the query is the class's sample (not shortened) and default_db
// is the sample's db; when the sample has no db but other events of the class do, pt 3.x
// passes the NUMBER of distinct dbs of the class (a Perl `keys` in scalar context), e.g. "1".
std::vector<TableRef> ExtractTables(std::string_view query, std::string_view default_db);

// QueryReportFormatter::tables_report: "# Tables\n" then for each pair
//   "#    SHOW TABLE STATUS FROM `db` LIKE 'tbl'\G\n"   (" FROM `db`" only when db is true)
//   "#    SHOW CREATE TABLE `db`.`tbl`\G\n"              (only the true parts; ` doubled)
// without "\G" when `vertical` is false (--no-vertical-format); "" for no tables.
// pt prints it after the histogram of each class grouped by fingerprint (ExtractTables of the
// sample) and, for --group-by tables, with the single pair SplitUnquote(item).
std::string TablesReport(const std::vector<TableRef>& tables, bool vertical = true);

// The values one event contributes to pt-query-digest --group-by tables: get_tables' names
// without backticks, each prefixed with "db." when it has no '.' and `db` (the event's db, or
// its Schema) is true. nullopt when pt's pipeline dies on the event (get_tables returned an
// undefined entry): pt prints "Pipeline process ... (tables) caused an error" and the event
// is left out of every report.
std::optional<std::vector<std::string>> GroupByTables(std::string_view query, std::string_view db);

// QueryRewriter::distill: the "super-fingerprint" of the profile's last column and of
// --group-by distill: the statement's verbs and its tables, e.g. "SELECT film",
// "INSERT SELECT abtemp.coxed foo", "SHOW GLOBAL STATUS", "UPDATE db?.tbl?", "CALL foo",
// "ADMIN QUIT", "LOAD DATA tbl", "" when nothing is recognised. (pt dies on an empty or "0"
// statement; those give "" here. SHOW aliases SCHEMA/KEYS/INDEXES are replaced in a fixed
// order; pt's order is Perl's random hash order, which matters only for text holding two of
// them overlapping, like "KEYSCHEMA".)
std::string Distill(std::string_view query);

// QueryRewriter::convert_to_select: UPDATE, DELETE, INSERT/REPLACE ... VALUES/SET/SELECT as a
// SELECT for EXPLAIN; other statements come back unchanged except that text before the first
// word SELECT and an ON DUPLICATE KEY UPDATE clause are removed. nullopt where pt returns
// undef: an empty (or "0") statement, or one containing `= (SELECT ` (a subquery as a value).
std::optional<std::string> ConvertToSelect(std::string_view query);

// QueryRewriter::shorten(query, length): a multi-row INSERT/REPLACE keeps its first row,
// marked "/*... omitted ...*/" (ON DUPLICATE ... kept), and, when the result is still longer
// than `length` (> 0) bytes, every IN() list of more than 20 items keeps its first 20 plus
// "/*... omitted N items ...*/". The report prints samples shortened with length 1024.
std::string Shorten(std::string_view query, long long length);

// When pt-query-digest's query report (grouped by fingerprint) prints "# Converted for
// EXPLAIN", and what: after the sample line(s), for a class whose fingerprint does not start
// with [\s(]*select, insert or replace, when convert_to_select of the printed (shortened)
// sample starts with [\s(]*select (ci). The block is then
//   "# Converted for EXPLAIN\n# EXPLAIN /*!50100 PARTITIONS*/\n" + text + "\G\n"
// ("\G" only in vertical format; the PARTITIONS comment is left out only after an --explain
// against MySQL 8.0 failed with it). Returns that text, or nullopt where pt prints no block.
std::optional<std::string> ConvertedForExplain(std::string_view fingerprint,
                                               std::string_view shortened_sample);

}  // namespace dbrunbook::digest
