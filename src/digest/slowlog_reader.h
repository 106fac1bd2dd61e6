// The slow-query-log reader: a streaming parser of MySQL / Percona Server / MariaDB slow logs
// that finds exactly the events pt-query-digest (3.2.1 .. 3.5.7, lib/SlowLogParser.pm) finds.
//
// What an event is follows pt's parser, quirks included, because counts must match it:
//  - the input is cut into records at every ";\n#" (pt reads with $/ = ";\n#");
//  - server start-up headers ("/usr/sbin/mysqld, Version: ... started with:", "Tcp port: ...",
//    "Time  Id Command  Argument") are removed from a record, which is then re-split;
//  - a record's leading "#"-lines, "use db;" and "SET timestamp=...;" lines are its header; the
//    first other line starts the statement ("arg"), which runs to the end of the record;
//  - "# administrator command: X;" is an admin event's statement;
//  - a record made only of header lines looks ahead one ";\n"-terminated piece of input (pt's
//    "NULL query" and "admin statement after non-comment lines" special cases);
//  - an event is counted only when its statement is not empty (and not "0", Perl truthiness);
//    records that pt's parser dies on (an odd "SET a;" setting, a look-ahead cut by the end of
//    the input) are dropped.
// Deliberate difference: input whose first line ends in CR LF is read as if every CR LF were LF
// (pt reads such a file as a single event); see SlowLogStats::crlf.
//
// Every "Name: value" pair on a "#" attribute line becomes a typed Attribute (number, Yes/No
// boolean, or string), as do the User@Host line's "Id:" (Thread_id) and SET settings
// (timestamp, insert_id, last_insert_id). A later pair with the same name replaces an earlier
// one (pt builds a Perl hash).
//
// Performance: events are views (std::string_view) into the input buffer (a memory-mapped file,
// or a large block buffer for stdin, gzip and CR LF input), attributes live in a fixed-capacity
// array, and the hot path allocates nothing. A parser can run over a byte range of a mapped
// buffer; NextEventBoundary() finds places where such ranges can start so that the union of
// the ranges' events is exactly the single-pass event sequence (see SlowLogParser::ForRange).
//
// Thread-safety: a SlowLogParser / SlowLogReader is used by one thread at a time; several
// parsers may share one read-only buffer. Errors: opening or reading input fails with kIo /
// kNotFound; bad input is never an error: it is skipped and counted in SlowLogStats.
#pragma once

#include <array>
#include <bitset>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/error.h"

namespace dbrunbook::digest {

enum class AttributeType : std::uint8_t {
  kNumber,  // pt's numeric form: digits, or a decimal with a '.', e.g. "12", "0.000123", "-1.5"
  kBool,    // exactly "Yes" or "No"
  kString,  // anything else
};

struct Attribute {
  std::string_view name;  // as written in the log: "Query_time", "Rows_examined", "QC_hit"
  std::string_view text;  // the raw value as written (may be empty: "Schema: " at end of line)
  AttributeType type = AttributeType::kString;
  double number = 0;  // kNumber: the value; kBool: 1 (Yes) or 0 (No); kString: 0
};

// An 8-bit hash of an attribute name (its first and last 8 bytes and its length): the parser's
// filter of the names an event has, and the aggregator's cache of name ids, use it.
inline std::uint8_t AttributeNameHash(std::string_view name) {
  const std::size_t n = name.size();
  std::uint64_t a = 0, b = 0;
  if (n >= 8) {
    std::memcpy(&a, name.data(), 8);
    std::memcpy(&b, name.data() + n - 8, 8);
  } else {
    std::memcpy(&a, name.data(), n);
  }
  const std::uint64_t h = (a ^ (b * 0x9E3779B97F4A7C15ULL) ^ n) * 0xFF51AFD7ED558CCDULL;
  return static_cast<std::uint8_t>(h >> 56);
}

// Attributes kept per event; pairs beyond this are dropped and counted
// (SlowLogStats::attributes_dropped). Real logs carry at most ~40.
inline constexpr std::size_t kMaxAttributes = 96;

// A header line that repeats from event to event ("# Rows_affected: 0  Bytes_sent: 197"), kept
// once by the parser that read it and shared by every event that carries it, when the parser
// groups repeated lines (SlowLogParser::SetGroupRepeatedLines): such an event has the line in
// SlowLogEvent::lines instead of its pairs in `attributes`, and a consumer that aggregates can
// count the line instead of adding its values one by one. Lives as long as its parser.
struct RepeatedLine {
  std::uint64_t parser = 0;  // the serial of the parser that read it (unique in the process)
  std::uint32_t id = 0;      // dense, from 0, unique within that parser
  std::string text;          // the line as written
  std::vector<Attribute> attributes;  // typed, views into `text`
};
// Repeated lines an event can carry; further ones are put as attributes.
inline constexpr std::size_t kMaxRepeatedLines = 16;

// One slow-log event. All views point into the reader's buffer (or its scratch space) and stay
// valid until the next call that produces an event on the same parser/reader.
struct SlowLogEvent {
  std::string_view arg;   // the statement (no trailing ";"), or "administrator command: Quit"
  std::string_view ts;    // "# Time:" value as pt captures it ("071015 21:43:52",
                          // "2024-01-01T00:00:00"); empty when the event has none
  std::string_view user;  // User@Host fields; empty when absent
  std::string_view host;  // the host name, or the IP when the name is empty (pt's rule)
  std::string_view ip;
  std::string_view db;         // from "use db;" (Schema: stays an attribute)
  bool admin = false;          // pt's cmd "Admin": "# administrator command:" and look-ahead ones
  bool no_query = false;       // pt's "/* No query */" placeholder event (header-only record)
  bool has_user_host = false;  // a User@Host line was read (user/host may still be empty)
  std::uint64_t offset = 0;    // where the record this event came from starts in the input
  std::size_t attribute_count = 0;
  std::array<Attribute, kMaxAttributes> attributes{};
  // Repeated header lines (only from a parser that groups them): their attributes are the
  // event's too. No name occurs twice among `attributes` and these lines.
  std::size_t line_count = 0;
  std::array<const RepeatedLine*, kMaxRepeatedLines> lines{};

  // The attributes put one by one (without those of `lines`; see ForEachAttribute).
  std::span<const Attribute> Attributes() const { return {attributes.data(), attribute_count}; }
  std::span<const RepeatedLine* const> Lines() const { return {lines.data(), line_count}; }
  // Calls f(const Attribute&) for every attribute: `attributes`, then those of `lines`.
  template <typename F>
  void ForEachAttribute(F&& f) const {
    for (std::size_t i = 0; i < attribute_count; ++i) f(attributes[i]);
    for (std::size_t l = 0; l < line_count; ++l) {
      for (const Attribute& a : lines[l]->attributes) f(a);
    }
  }
  // The attribute named `name` (also in `lines`), or nullptr.
  const Attribute* Find(std::string_view name) const;
  // Query_time as pt's aggregator reads it: the leading "digits[.digits]" of the value (so
  // "1.5abc" is 1.5); nullopt when absent or not starting with a digit. Events without a
  // Query_time are not in pt-query-digest's "Overall: N total".
  std::optional<double> QueryTime() const;
};

// What was read and what was skipped, by reason. Counters only grow; Add() merges.
struct SlowLogStats {
  std::uint64_t bytes = 0;    // input bytes parsed (after decompression and CR LF folding)
  std::uint64_t records = 0;  // ";\n#"-delimited records seen, including re-split pieces
  std::uint64_t events = 0;   // events produced (== pt's parsed events with a statement)
  std::uint64_t admin_events = 0;
  std::uint64_t no_query_events = 0;  // "/* No query */" placeholders produced
  // Skipped: records without a statement (garbage between events, a truncated last event).
  std::uint64_t skipped_no_statement = 0;
  // Skipped: a header-only record at the end of the input (pt: "can't figure out what to do").
  std::uint64_t skipped_truncated = 0;
  // Skipped: records pt's parser dies on (odd "SET x;" settings, look-ahead cut by end of input).
  std::uint64_t skipped_malformed = 0;
  std::uint64_t server_headers = 0;       // start-up header lines removed
  std::uint64_t query_time_missing = 0;   // events without Query_time (not in pt's total)
  std::uint64_t query_time_repaired = 0;  // Query_time with junk after the number ("1.5abc")
  std::uint64_t query_time_invalid = 0;   // Query_time not starting with a digit
  std::uint64_t attributes_dropped = 0;   // pairs beyond kMaxAttributes
  bool crlf = false;                      // input was CR LF and was read as LF

  void Add(const SlowLogStats& other);
};

// The next place at or after `offset` where a chunk of `text` may start: 0, text.size(), or
// the position after a ";\n#" that ends a statement line (a line that is not header-like).
// A parser started there (ForRange) sees the events a single pass sees from there on, as long
// as the previous chunk's parser ends cleanly exactly there (SlowLogParser::EndedCleanly).
std::size_t NextEventBoundary(std::string_view text, std::size_t offset);

// The parser proper, over an in-memory buffer that it does not own.
class SlowLogParser {
 public:
  // Parses all of `text` (the whole input: its end is the end of the input).
  explicit SlowLogParser(std::string_view text);
  // Parses the events whose records start in [begin, end) of `text` (the whole input), assuming
  // `begin` is 0 or a boundary where the previous range ended cleanly. Records that start before
  // `end` are parsed to their end even past it.
  static SlowLogParser ForRange(std::string_view text, std::size_t begin, std::size_t end);

  // Fills `event` with the next event; false at the end of the input/range.
  bool Next(SlowLogEvent& event);
  const SlowLogStats& stats() const { return stats_; }
  // After Next() returned false on a range: whether parsing stopped exactly at the range's end
  // with nothing pending, i.e. whether a parser started at `end` continues exactly this pass.
  // When false, re-run this range with the next range's end (merge the two); always true when
  // `end` is the end of the input.
  bool EndedCleanly() const { return ended_cleanly_; }

  // Whether events carry repeated header lines as SlowLogEvent::lines (off by default: every
  // pair is then in SlowLogEvent::attributes). A line is grouped from its second occurrence on,
  // when none of its names is a key the parser keeps elsewhere (ts, user, db...), none is
  // Query_time, and none repeats a name the event already has; at most kMaxGroupedLines
  // distinct lines per parser are kept (later ones are put pair by pair).
  void SetGroupRepeatedLines(bool on) { group_lines_ = on; }
  static constexpr std::size_t kMaxGroupedLines = 1 << 16;

  // Streaming use (SlowLogReader): the window is text[base, base + window.size()) of the input;
  // `eof` says the input ends with it. Next() returns false with NeedsMore() true when it needs
  // bytes past the window; the caller then supplies a window that still starts at or before
  // KeepFrom() and calls Next() again.
  static SlowLogParser ForStream();
  void SetWindow(std::string_view window, std::uint64_t base, bool eof);
  bool NeedsMore() const { return needs_more_; }
  std::uint64_t KeepFrom() const { return pos_ > 0 ? pos_ - 1 : 0; }
  void AddInputBytes(std::uint64_t n) { stats_.bytes += n; }
  // How many header lines were read through a line template (LineTemplate), for tests and
  // benchmarks.
  std::uint64_t TemplatedLines() const { return templated_lines_; }
  void MarkCrlf() { stats_.crlf = true; }

 private:
  // kHeaders: the record may hold server start-up header lines (ProcessStatement's
  // find_headers); Step removes them and processes the record again.
  enum class Outcome { kEvent, kNoEvent, kSkip, kDie, kEnd, kNeedMore, kHeaders };
  struct Piece {  // a view and whether it came from the input window (vs. scratch)
    std::string_view text;
    std::uint64_t offset = 0;
    bool in_window = false;
  };

  // A 256-bit filter of attribute names (Put()'s test whether an event may have a name).
  struct NameFilter {
    std::array<std::uint64_t, 4> words{};
    static std::uint8_t Hash(std::string_view name) { return AttributeNameHash(name); }
    bool Has(std::uint8_t h) const { return ((words[h >> 6] >> (h & 63)) & 1) != 0; }
    void Add(std::uint8_t h) { words[h >> 6] |= std::uint64_t{1} << (h & 63); }
    bool Intersects(const NameFilter& o) const {
      return ((words[0] & o.words[0]) | (words[1] & o.words[1]) | (words[2] & o.words[2]) |
              (words[3] & o.words[3])) != 0;
    }
    void Add(const NameFilter& o) {
      for (std::size_t i = 0; i < 4; ++i) words[i] |= o.words[i];
    }
  };

  // The outcome of a header line, cached by content (see ProcessStatement). Offsets are into
  // `line`, the cache's own copy of the line: views of a reused outcome point there, so they
  // stay valid when the input buffer moves, until the entry is replaced (by a later event's
  // line at the same position, never during the event that reads it).
  struct CachedPair {
    std::uint16_t name_at = 0, name_len = 0, text_at = 0, text_len = 0;
    std::uint8_t name_hash = 0;  // NameFilter::Hash of the name
    AttributeType type = AttributeType::kString;
    double number = 0;  // TypeAttribute's result for the text
  };
  static constexpr std::size_t kMaxCachedPairs = 12;
  struct CachedLine {
    enum class Kind : std::uint8_t {
      kNone,       // nothing cached (empty entry, or a line not worth caching)
      kAttribute,  // an attribute line ("# Name: value  Name: value"): `pairs`
      kUserHost,   // a User@Host line: `pairs` 0..3 hold user, host, ip, thread_id (texts)
      kSet,        // a "SET a=b, c=d" line: `pairs`, and `set_fields` split fields
    };
    std::string line;
    Kind kind = Kind::kNone;
    // kAttribute / kSet: the line as a RepeatedLine, once it repeated (nullptr before, or
    // when the line cannot be grouped: then `groupable` is false).
    const RepeatedLine* repeated = nullptr;
    bool groupable = true;
    NameFilter names;    // every pair's name
    bool plain = false;  // PlainNames(*this)
    std::uint8_t pair_count = 0;
    std::size_t set_fields = 0;
    std::array<CachedPair, kMaxCachedPairs> pairs{};
    std::string_view Name(const CachedPair& p) const {
      return {line.data() + p.name_at, p.name_len};
    }
    std::string_view Text(const CachedPair& p) const {
      return {line.data() + p.text_at, p.text_len};
    }

    // Fill the entry with `line` and its outcome; views are into `line`. The Set* that return
    // bool leave the entry empty (kNone) and return false when the line has too many pairs.
    void SetUserHost(std::string_view text, std::string_view user, std::string_view host,
                     std::string_view ip, std::string_view thread_id);
    bool SetAttributes(std::string_view text);
    bool SetSetting(std::string_view text, std::string_view setting);

    // An attribute line read through a template: `pairs` (offsets into `text`, typed) and
    // `names` are already set.
    void SetTemplated(std::string_view text) {
      line.assign(text);
      repeated = nullptr;
      groupable = true;
      kind = Kind::kAttribute;
    }

   private:
    // pairs[pair_count++] = (name, value), views into `text`; false when full.
    bool AddPair(std::string_view text, std::string_view name, std::string_view value);
    void Finish(std::string_view text, Kind k);  // types the pairs, copies `text`
  };
  // The shape of an attribute line whose values are all plain numbers ("# Query_time: 0.000552
  // Lock_time: 0.000159  Rows_sent: 1  Rows_examined: 1"): the text around the values (the
  // literals: names, colons, spaces) and where the names are. A line of a record that is not in
  // the line cache but has the literals of the template at its position, with plain numbers
  // between them, has the same pairs as the template's line with its own values, and takes the
  // same branch of ProcessStatement (its literals decide every test before the pairs): it is
  // read by comparing literals, without the pair search and typing.
  struct LineTemplate {
    struct Slot {
      std::uint16_t literal_at = 0, literal_len = 0;  // the text before the value
      std::uint16_t name_at = 0, name_len = 0;        // the name, inside that text
      std::uint8_t name_hash = 0;
    };
    std::string line;  // the line it was made from (literals and names are views into it)
    std::uint8_t slot_count = 0;  // 0: no template
    std::array<Slot, kMaxCachedPairs> slots{};
    std::uint16_t tail_at = 0, tail_len = 0;  // the text after the last value
    NameFilter names;
    bool plain = false;  // (the line's CachedLine::plain)

    // Makes this the template of a cached attribute line; false (and no change) when the
    // line's values are not all plain numbers or its literals could take another branch (a
    // '@', "Schema:", "# Time: ").
    bool Make(const CachedLine& entry);
  };
  // Header lines 0..kCachedLinePositions-1 of a record are cached, kCachedLineWays distinct
  // lines per position (round-robin replacement).
  static constexpr std::size_t kCachedLinePositions = 8;
  static constexpr std::size_t kCachedLineWays = 8;
  static constexpr std::size_t kMaxCachedLineSize = 4096;

  SlowLogParser() = default;
  Outcome Step(SlowLogEvent& event);
  Outcome ReadRecord(bool with_hash, Piece& out);
  Outcome ProcessStatement(Piece stmt, SlowLogEvent& event, bool find_headers);
  // Sets `key` (a pair of a header line) in `event`; returns the attribute it set, or nullptr
  // (a key the parser keeps elsewhere, like "db", or a pair dropped for lack of room). The
  // attribute is marked untyped (typed_).
  Attribute* Put(SlowLogEvent& event, std::string_view key, std::string_view value);
  // Put() with the key's NameFilter::Hash already known.
  Attribute* Put(SlowLogEvent& event, std::string_view key, std::string_view value,
                 std::uint8_t hash);
  // Put() of a cached pair, with its type and number (the attribute is then marked typed).
  void PutTyped(SlowLogEvent& event, const CachedLine& entry, const CachedPair& pair);
  // A cached line's pairs into `event`, typed, as PutTyped() one by one would: at once when
  // the line is `plain` and the event has none of its names yet.
  void PutPairs(SlowLogEvent& event, const CachedLine& entry);
  static bool PlainNames(const CachedLine& entry);
  // A cached line's pairs into `event`: as one of its `lines` when grouping allows, else
  // pair by pair.
  void PutLine(SlowLogEvent& event, CachedLine& entry);
  // When `line` has the shape of `t`: its pairs into `event` (typed) and into `store` (the cache
  // entry for the line, as CachedLine::SetAttributes would fill it); else false, nothing put.
  bool PutByTemplate(SlowLogEvent& event, const LineTemplate& t, std::string_view line,
                     CachedLine& store);
  // Puts the pairs of the event's grouped lines one by one (a later pair may replace one).
  void UngroupLines(SlowLogEvent& event);
  // Whether `event` has an attribute (also in its grouped lines) named `name`.
  static bool HasName(const SlowLogEvent& event, std::string_view name);
  const RepeatedLine* Repeated(CachedLine& entry);
  std::string_view Keep(std::string text);
  std::string_view window_;
  std::uint64_t base_ = 0;
  bool eof_ = true;
  std::uint64_t pos_ = 0;  // absolute input offset of the next read
  std::uint64_t end_ = UINT64_MAX;
  bool needs_more_ = false;
  // Where ReadRecord's search for the end of the record at resume_pos_ (with or without the
  // '#') stopped for want of input.
  std::uint64_t resume_pos_ = UINT64_MAX;
  bool resume_hash_ = false;
  std::uint64_t resume_at_ = 0;
  bool ended_cleanly_ = false;
  bool done_ = false;
  std::vector<Piece> pending_;       // pt's @pending: re-split pieces, look-ahead events
  std::deque<std::string> scratch_;  // owned text of pending pieces and rewritten lines
  SlowLogStats stats_;
  NameFilter names_seen_;          // Put()'s filter of attribute names in the current event
  std::size_t grouped_pairs_ = 0;  // pairs of the current event's grouped lines
  // Attributes of the current event whose type and number are already set (from the cache).
  std::bitset<kMaxAttributes> typed_;
  std::vector<CachedLine> line_cache_;  // [position * kCachedLineWays + way], made on first use
  std::array<std::uint64_t, kCachedLinePositions * kCachedLineWays> line_tags_{};  // LineTag
  std::array<std::uint8_t, kCachedLinePositions> next_way_{};   // round-robin victims
  std::array<std::uint8_t, kCachedLinePositions> last_way_{};   // the way last hit or stored
  std::array<LineTemplate, kCachedLinePositions> templates_{};  // by position, as the cache
  std::uint64_t templated_lines_ = 0;
  // Grouped lines (SetGroupRepeatedLines): kept for the parser's life, at stable addresses.
  bool group_lines_ = false;
  std::uint64_t serial_ = 0;  // this parser's RepeatedLine::parser (set on first use)
  std::unique_ptr<std::deque<RepeatedLine>> repeated_;
  std::unique_ptr<std::unordered_map<std::string, const RepeatedLine*>> repeated_index_;
};

// Input files: a path, "-" for stdin; gzip detected by magic bytes. Regular uncompressed LF
// files are memory-mapped (Mapped() then gives the whole text for ranged parsing); stdin, gzip
// and CR LF input are read in large blocks and parsed as a stream.
class SlowLogReader {
 public:
  static core::Result<std::unique_ptr<SlowLogReader>> Open(const std::string& path);
  ~SlowLogReader();
  SlowLogReader(const SlowLogReader&) = delete;
  SlowLogReader& operator=(const SlowLogReader&) = delete;

  // The next event: true, false at the end, or an I/O error (a failing gzip stream).
  core::Result<bool> Next(SlowLogEvent& event);
  const SlowLogStats& stats() const { return parser_.stats(); }
  // The whole input when it is memory-mapped, else nullopt.
  std::optional<std::string_view> Mapped() const;
  const std::string& path() const { return path_; }

  // Reads `block_size` bytes at a time (tests use tiny blocks to exercise refills).
  void SetBlockSizeForTest(std::size_t block_size) { block_size_ = block_size; }
  // SlowLogParser::SetGroupRepeatedLines.
  void SetGroupRepeatedLines(bool on) { parser_.SetGroupRepeatedLines(on); }

 private:
  struct Source;
  SlowLogReader() = default;
  core::Status Fill();

  std::string path_;
  std::unique_ptr<Source> source_;
  SlowLogParser parser_ = SlowLogParser::ForStream();
  std::string buffer_;  // stream mode: input bytes from buffer_base_ on
  std::uint64_t buffer_base_ = 0;
  bool eof_ = false;
  int crlf_ = -1;         // -1 unknown, 0 LF, 1 CR LF
  bool held_cr_ = false;  // a CR at the end of the last block, not yet known to end a line
  std::size_t block_size_ = std::size_t{8} << 20;
};

// Reads every file in `paths` in order and calls `sink(event, file_index)` for each event.
// Stops at the first file that cannot be opened or read. Returns the merged stats.
core::Result<SlowLogStats> ReadSlowLogs(
    const std::vector<std::string>& paths,
    const std::function<void(const SlowLogEvent&, std::size_t)>& sink);

}  // namespace dbrunbook::digest
