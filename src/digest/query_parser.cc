// Percona Toolkit's QueryParser::get_tables / extract_tables, QueryRewriter::distill /
// convert_to_select / shorten and Quoter::split_unquote / quote, without regexes.
//
// Each function below states the Perl regex it stands for and how Perl's backtracking engine
// resolves it; the scan then finds that same match. Notation: `\s` is [ \t\n\v\f\r], `\w` is
// [A-Za-z0-9_], `.` is any byte but "\n" (any byte under /s), `\Z` is the end or just before a
// final "\n", `ci` means ASCII case-insensitive. Perl "true" strings are all but "" and "0".
//
// Work is linear in the statement: searches that a failed attempt would repeat from a later
// position are either cut short by an argument (stated where it is made) or memoized
// (NextByte).
#include "digest/query_parser.h"

#include <algorithm>
#include <cstddef>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>
#include <utility>
#include <vector>

#include "digest/pt_text.h"

namespace dbrunbook::digest {
namespace {

constexpr size_t kNpos = std::string_view::npos;

constexpr bool IsSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}
constexpr bool IsDigit(char c) { return c >= '0' && c <= '9'; }
constexpr bool IsAlpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
constexpr bool IsWord(char c) { return IsAlpha(c) || IsDigit(c) || c == '_'; }
constexpr char Lower(char c) { return AsciiLower(c); }
constexpr char Upper(char c) { return (c >= 'a' && c <= 'z') ? static_cast<char>(c - 32) : c; }

bool PerlTrue(std::string_view s) { return !s.empty() && s != "0"; }

bool SpaceAt(std::string_view s, size_t pos) { return pos < s.size() && IsSpace(s[pos]); }
size_t SkipSpaces(std::string_view s, size_t pos) {
  while (pos < s.size() && IsSpace(s[pos])) ++pos;
  return pos;
}
size_t WordEnd(std::string_view s, size_t pos) {
  while (pos < s.size() && IsWord(s[pos])) ++pos;
  return pos;
}
size_t NonSpaceEnd(std::string_view s, size_t pos) {
  while (pos < s.size() && !IsSpace(s[pos])) ++pos;
  return pos;
}
size_t DigitsEnd(std::string_view s, size_t pos) {
  while (pos < s.size() && IsDigit(s[pos])) ++pos;
  return pos;
}
// \b before a word character at `pos` / after a word character ending at `end`.
bool BoundaryBefore(std::string_view s, size_t pos) { return pos == 0 || !IsWord(s[pos - 1]); }
bool BoundaryAfter(std::string_view s, size_t end) { return end >= s.size() || !IsWord(s[end]); }
// \Z at pos: the end, or just before a final "\n".
bool EndAt(std::string_view s, size_t pos) {
  return pos == s.size() || (pos + 1 == s.size() && s[pos] == '\n');
}
// The first position >= from where `lower_word` starts (ci), or kNpos.
size_t FindCi(std::string_view s, std::string_view lower_word, size_t from) {
  if (lower_word.empty() || s.size() < lower_word.size()) return kNpos;
  const char first = lower_word[0];
  for (size_t p = from; p + lower_word.size() <= s.size(); ++p) {
    if (Lower(s[p]) == first && MatchesAt(s, p, lower_word)) return p;
  }
  return kNpos;
}
// The first \bWORD\b (ci) at or after `from`, or kNpos.
size_t FindWordCi(std::string_view s, std::string_view lower_word, size_t from) {
  for (size_t p = FindCi(s, lower_word, from); p != kNpos; p = FindCi(s, lower_word, p + 1)) {
    if (BoundaryBefore(s, p) && BoundaryAfter(s, p + lower_word.size())) return p;
  }
  return kNpos;
}

std::string ToUpper(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = Upper(c);
  return out;
}

// Perl's split(/,/, $s) (or any one-character separator): empty trailing fields are dropped.
std::vector<std::string_view> PerlSplit(std::string_view s, char sep) {
  std::vector<std::string_view> fields;
  size_t start = 0;
  while (true) {
    const size_t at = s.find(sep, start);
    if (at == kNpos) {
      fields.push_back(s.substr(start));
      break;
    }
    fields.push_back(s.substr(start, at - start));
    start = at + 1;
  }
  while (!fields.empty() && fields.back().empty()) fields.pop_back();
  return fields;
}

// The next occurrence of one byte at or after a position, memoized: successive questions from
// growing positions cost one pass in total (a failed search is not repeated).
class NextByte {
 public:
  NextByte(std::string_view s, char c) : s_(s), c_(c) {}
  size_t From(size_t pos) {
    if (valid_ && pos >= searched_from_ && (found_ == kNpos || pos <= found_)) return found_;
    valid_ = true;
    searched_from_ = pos;
    found_ = pos >= s_.size() ? kNpos : s_.find(c_, pos);
    return found_;
  }

 private:
  std::string_view s_;
  char c_;
  bool valid_ = false;
  size_t searched_from_ = 0;
  size_t found_ = kNpos;
};

// $tbl_ident = (?:`[^`]+`|\w+)(?:\.(?:`[^`]+`|\w+))? at `pos`: its end, or kNpos. Both
// alternatives start with different bytes and everything after them is optional, so the
// greedy first choice is the match.
size_t IdentPartEnd(std::string_view s, size_t pos, NextByte& backtick) {
  if (pos >= s.size()) return kNpos;
  if (s[pos] == '`') {
    const size_t close = backtick.From(pos + 1);
    if (close == kNpos || close == pos + 1) return kNpos;
    return close + 1;
  }
  if (!IsWord(s[pos])) return kNpos;
  return WordEnd(s, pos);
}
size_t IdentEnd(std::string_view s, size_t pos, NextByte& backtick) {
  const size_t end = IdentPartEnd(s, pos, backtick);
  if (end == kNpos) return kNpos;
  if (end < s.size() && s[end] == '.') {
    const size_t second = IdentPartEnd(s, end + 1, backtick);
    if (second != kNpos) return second;
  }
  return end;
}

// ---------------------------------------------------------------------------------------------
// QueryParser::get_tables

// ^\s*(CREATE|ALTER|TRUNCATE|DROP|RENAME)\b (ci): the verb's length at `pos`, or 0.
size_t DdlVerbAt(std::string_view s, size_t pos) {
  static constexpr std::string_view kVerbs[] = {"create", "alter", "truncate", "drop", "rename"};
  for (std::string_view verb : kVerbs) {
    if (MatchesAt(s, pos, verb) && BoundaryAfter(s, pos + verb.size())) return verb.size();
  }
  return 0;
}

// s/IF\s+(?:NOT\s+)?EXISTS//i : the first one removed (no \b anywhere).
std::string RemoveIfExists(std::string_view s) {
  for (size_t p = FindCi(s, "if", 0); p != kNpos; p = FindCi(s, "if", p + 1)) {
    if (!SpaceAt(s, p + 2)) continue;
    const size_t a = SkipSpaces(s, p + 2);
    size_t end = kNpos;
    if (MatchesAt(s, a, "not") && SpaceAt(s, a + 3)) {
      const size_t b = SkipSpaces(s, a + 3);
      if (MatchesAt(s, b, "exists")) end = b + 6;
    }
    if (end == kNpos && MatchesAt(s, a, "exists")) end = a + 6;
    if (end == kNpos) continue;
    std::string out(s.substr(0, p));
    out.append(s.substr(end));
    return out;
  }
  return std::string(s);
}

// m/$ddl_stmt\b.+?\bSELECT\b/i : an occurrence of the verb with \b after it, then on the same
// line (no /s) at least one byte, then the word SELECT. When the first occurrence on a line
// fails, later ones on that line see less of it and fail too.
bool CreateThenSelect(std::string_view s, std::string_view verb_lower) {
  size_t from = 0;
  while (true) {
    size_t a = kNpos;
    for (size_t p = FindCi(s, verb_lower, from); p != kNpos; p = FindCi(s, verb_lower, p + 1)) {
      if (BoundaryAfter(s, p + verb_lower.size())) {
        a = p;
        break;
      }
    }
    if (a == kNpos) return false;
    size_t line_end = s.find('\n', a + verb_lower.size());
    if (line_end == kNpos) line_end = s.size();
    const std::string_view line = s.substr(0, line_end);
    for (size_t p = FindCi(line, "select", a + verb_lower.size() + 1); p != kNpos;
         p = FindCi(line, "select", p + 1)) {
      if (BoundaryBefore(s, p) && BoundaryAfter(s, p + 6)) return true;
    }
    if (line_end >= s.size()) return false;
    from = line_end + 1;
  }
}

// s/\s+(?:READ(?:\s+LOCAL)?|WRITE)\s*//gi
std::string RemoveLockModes(std::string_view s) {
  std::string out;
  size_t i = 0;
  while (i < s.size()) {
    if (!IsSpace(s[i])) {
      out.push_back(s[i++]);
      continue;
    }
    const size_t w = SkipSpaces(s, i);
    size_t end = kNpos;
    if (MatchesAt(s, w, "read")) {
      end = w + 4;
      if (SpaceAt(s, end)) {
        const size_t l = SkipSpaces(s, end);
        if (MatchesAt(s, l, "local")) end = l + 5;
      }
    } else if (MatchesAt(s, w, "write")) {
      end = w + 5;
    }
    if (end == kNpos) {
      out.append(s.substr(i, w - i));
      i = w;
      continue;
    }
    i = SkipSpaces(s, end);
  }
  return out;
}

// s/(?:LOW_PRIORITY|IGNORE|STRAIGHT_JOIN|DELAYED)\s+/ /ig
std::string RemoveModifiers(std::string_view s) {
  static constexpr std::string_view kWords[] = {"low_priority", "ignore", "straight_join",
                                                "delayed"};
  std::string out;
  size_t i = 0;
  while (i < s.size()) {
    size_t end = kNpos;
    const char c = Lower(s[i]);
    if (c == 'l' || c == 'i' || c == 's' || c == 'd') {
      for (std::string_view word : kWords) {
        if (MatchesAt(s, i, word) && SpaceAt(s, i + word.size())) {
          end = SkipSpaces(s, i + word.size());
          break;
        }
      }
    }
    if (end == kNpos) {
      out.push_back(s[i++]);
    } else {
      out.push_back(' ');
      i = end;
    }
  }
  return out;
}

// s/\\["']//g; s/".*?"/?/sg; s/'.*?'/?/sg  (the pre-PT-1900 string rules that get_tables kept)
std::string BlankStrings(std::string_view s) {
  std::string a;
  a.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 1 < s.size() && (s[i + 1] == '"' || s[i + 1] == '\'')) {
      ++i;
      continue;
    }
    a.push_back(s[i]);
  }
  for (const char quote : {'"', '\''}) {
    std::string b;
    b.reserve(a.size());
    size_t i = 0;
    while (true) {
      const size_t open = a.find(quote, i);
      const size_t close = open == kNpos ? kNpos : a.find(quote, open + 1);
      if (close == kNpos) break;
      b.append(a, i, open - i);
      b.push_back('?');
      i = close + 1;
    }
    b.append(a, i, kNpos);
    a = std::move(b);
  }
  return a;
}

// m/INTO TABLE\s+(\S+)/i : the first "INTO TABLE" followed by spaces and a non-space.
std::optional<std::string_view> IntoTableWord(std::string_view s) {
  for (size_t p = FindCi(s, "into table", 0); p != kNpos; p = FindCi(s, "into table", p + 1)) {
    if (!SpaceAt(s, p + 10)) continue;
    const size_t w = SkipSpaces(s, p + 10);
    if (w == s.size()) continue;
    return s.substr(w, NonSpaceEnd(s, w) - w);
  }
  return std::nullopt;
}

// m/(?:TABLE|DATABASE)\s+($tbl_ident)(\s+.*)?/i (keywords: the lower-case alternatives in
// order): the first keyword occurrence followed by spaces and an identifier.
std::optional<std::string_view> IdentAfterKeyword(std::string_view s,
                                                  std::initializer_list<std::string_view> words) {
  NextByte backtick(s, '`');
  for (size_t p = 0; p < s.size(); ++p) {
    const char c = Lower(s[p]);
    for (std::string_view word : words) {
      if (c != word[0] || !MatchesAt(s, p, word) || !SpaceAt(s, p + word.size())) continue;
      const size_t k = SkipSpaces(s, p + word.size());
      const size_t end = IdentEnd(s, k, backtick);
      if (end != kNpos) return s.substr(k, end - k);
    }
  }
  return std::nullopt;
}

// One table of a $tbl_regex capture: s/\s*($tbl_ident)(\s+.*)?/$1/g ("." stops at "\n",
// so text after a line break is matched again).
std::string StripAlias(std::string_view piece) {
  std::string out;
  NextByte backtick(piece, '`');
  size_t pos = 0;
  size_t start = 0;
  while (true) {
    size_t ident = kNpos;
    size_t ident_end = kNpos;
    while (start < piece.size()) {
      const size_t k = SkipSpaces(piece, start);
      const size_t end = IdentEnd(piece, k, backtick);
      if (end != kNpos) {
        ident = k;
        ident_end = end;
        break;
      }
      start = k + 1;  // every start in [start, k] leads to k
    }
    if (ident == kNpos) break;
    size_t end = ident_end;
    if (SpaceAt(piece, end)) {
      end = SkipSpaces(piece, end);
      const size_t nl = piece.find('\n', end);
      end = nl == kNpos ? piece.size() : nl;
    }
    out.append(piece.substr(pos, start - pos));
    out.append(piece.substr(ident, ident_end - ident));
    pos = start = end;
  }
  out.append(piece.substr(pos));
  return out;
}

// The captures of m/$tbl_regex/gio:
//   \b(?:FROM|JOIN|(?<!KEY\s)UPDATE|INTO)\b\s*\(?
//   ($tbl_ident(?:(?:\s+(?:AS\s+)?\w+)?,\s*$tbl_ident)*)
// A keyword's match is its greedy path: every part after the first identifier is a repetition
// that may stop, so an iteration that fails is simply not taken.
std::vector<std::string_view> TableListCaptures(std::string_view s) {
  std::vector<std::string_view> captures;
  NextByte backtick(s, '`');
  size_t p = 0;
  while (p < s.size()) {
    const char c = Lower(s[p]);
    size_t kw = 0;
    if ((c == 'f' && MatchesAt(s, p, "from")) || (c == 'j' && MatchesAt(s, p, "join")) ||
        (c == 'i' && MatchesAt(s, p, "into"))) {
      kw = 4;
    } else if (c == 'u' && MatchesAt(s, p, "update") &&
               !(p >= 4 && MatchesAt(s, p - 4, "key") && IsSpace(s[p - 1]))) {
      kw = 6;
    }
    if (kw == 0 || !BoundaryBefore(s, p) || !BoundaryAfter(s, p + kw)) {
      ++p;
      continue;
    }
    size_t k = SkipSpaces(s, p + kw);
    if (k < s.size() && s[k] == '(') ++k;
    size_t t = IdentEnd(s, k, backtick);
    if (t == kNpos) {
      ++p;
      continue;
    }
    while (true) {
      // (?:\s+(?:AS\s+)?\w+)? then ',' : with AS, without AS, without the alias.
      size_t comma = kNpos;
      if (SpaceAt(s, t)) {
        const size_t a = SkipSpaces(s, t);
        if (MatchesAt(s, a, "as") && SpaceAt(s, a + 2)) {
          const size_t w = SkipSpaces(s, a + 2);
          const size_t we = WordEnd(s, w);
          if (we > w && we < s.size() && s[we] == ',') comma = we;
        }
        if (comma == kNpos) {
          const size_t we = WordEnd(s, a);
          if (we > a && we < s.size() && s[we] == ',') comma = we;
        }
      }
      if (comma == kNpos && t < s.size() && s[t] == ',') comma = t;
      if (comma == kNpos) break;
      const size_t next = SkipSpaces(s, comma + 1);
      const size_t next_end = IdentEnd(s, next, backtick);
      if (next_end == kNpos) break;
      t = next_end;
    }
    captures.push_back(s.substr(k, t - k));
    p = t;
  }
  return captures;
}

std::vector<std::optional<std::string>> GetTablesImpl(std::string_view query) {
  std::vector<std::optional<std::string>> tables;
  if (!PerlTrue(query)) return tables;

  const size_t start = SkipSpaces(query, 0);
  if (const size_t len = DdlVerbAt(query, start); len != 0) {
    std::string verb(query.substr(start, len));
    for (char& c : verb) c = Lower(c);
    const std::string q = RemoveIfExists(query);
    // m/$ddl_stmt DATABASE\b/i
    const std::string verb_database = verb + " database";
    for (size_t p = FindCi(q, verb_database, 0); p != kNpos; p = FindCi(q, verb_database, p + 1)) {
      if (BoundaryAfter(q, p + verb_database.size())) return tables;
    }
    if (verb == "create" && CreateThenSelect(q, verb)) {
      // m/\b(SELECT\b.+)/is
      const size_t select = FindWordCi(q, "select", 0);
      if (select == kNpos || select + 6 >= q.size()) return tables;
      return GetTablesImpl(std::string_view(q).substr(select));
    }
    const auto table = IdentAfterKeyword(q, {"table"});
    tables.emplace_back(table ? std::optional<std::string>(std::string(*table)) : std::nullopt);
    return tables;
  }

  std::string q = RemoveModifiers(query);
  {
    const size_t k = SkipSpaces(q, 0);
    if (MatchesAt(q, k, "lock tables") && SpaceAt(q, k + 11)) {
      q = "FROM " + RemoveLockModes(std::string_view(q).substr(SkipSpaces(q, k + 11)));
    }
  }
  q = BlankStrings(q);
  {
    // INSERT and REPLACE without INTO: m/\A\s*(?:INSERT|REPLACE)(?!\s+INTO)/i, then
    // s/\A\s*((?:INSERT|REPLACE))\s+/$1 INTO /i
    const size_t k = SkipSpaces(q, 0);
    const size_t len = MatchesAt(q, k, "insert") ? 6 : MatchesAt(q, k, "replace") ? 7 : 0;
    if (len != 0 && SpaceAt(q, k + len) && !MatchesAt(q, SkipSpaces(q, k + len), "into")) {
      q = q.substr(k, len) + " INTO " + q.substr(SkipSpaces(q, k + len));
    }
  }
  if (MatchesAt(q, SkipSpaces(q, 0), "load data")) {
    const auto table = IntoTableWord(q);
    tables.emplace_back(table ? std::optional<std::string>(std::string(*table)) : std::nullopt);
    return tables;
  }

  for (std::string_view capture : TableListCaptures(q)) {
    if (MatchesAt(capture, 0, "select") && BoundaryAfter(capture, 6)) continue;
    for (std::string_view piece : PerlSplit(capture, ',')) {
      std::string table = StripAlias(piece);
      if (std::none_of(table.begin(), table.end(), IsAlpha)) continue;
      tables.emplace_back(std::move(table));
    }
  }
  return tables;
}

// ---------------------------------------------------------------------------------------------
// QueryRewriter::strip_comments

// /\*[^!].*?\*/ removed (s, global). "/**/" needs a later "*/".
std::string StripBlockComments(std::string_view q) {
  std::string out;
  size_t i = 0;
  while (i < q.size()) {
    const size_t pos = q.find("/*", i);
    if (pos == kNpos || pos + 2 >= q.size()) break;
    if (q[pos + 2] == '!') {
      out.append(q.substr(i, pos + 1 - i));
      i = pos + 1;
      continue;
    }
    const size_t close = q.find("*/", pos + 3);
    if (close == kNpos) break;  // no later "/*" can close either
    out.append(q.substr(i, pos - i));
    i = close + 2;
  }
  out.append(q.substr(i));
  return out;
}

// (?:--|#)[^'"\r\n]*(?=[\r\n]|\Z) removed (global): a comment start whose rest of line holds
// no quote.
std::string StripLineComments(std::string_view q) {
  std::string out;
  StripPtLineComments(q, out);
  return out;
}

// The first "/*!" followed by a digit at or after `from`, or kNpos.
size_t FindVersionComment(std::string_view s, size_t from) {
  for (size_t p = s.find("/*!", from); p != kNpos; p = s.find("/*!", p + 1)) {
    if (p + 3 < s.size() && IsDigit(s[p + 3])) return p;
  }
  return kNpos;
}

std::string StripComments(std::string_view query) {
  std::string q = StripLineComments(StripBlockComments(query));
  // m/$vlc_rf/i with $vlc_rf = qr#^(?:SHOW).*?/\*![0-9]+(.*?)\*/#sm : the qr's own flags win,
  // so SHOW is case-sensitive, and ^ is any line start. The first SHOW decides: a later one
  // only sees less of the text.
  size_t show = kNpos;
  for (size_t p = q.find("SHOW"); p != kNpos; p = q.find("SHOW", p + 1)) {
    if (p == 0 || q[p - 1] == '\n') {
      show = p;
      break;
    }
  }
  if (show == kNpos) return q;
  const size_t comment = FindVersionComment(q, show + 4);
  if (comment == kNpos) return q;
  const size_t digits_end = DigitsEnd(q, comment + 3);
  const size_t close = q.find("*/", digits_end);
  if (close == kNpos) return q;
  std::string qualifier = q.substr(digits_end, close - digits_end);
  if (!PerlTrue(qualifier)) qualifier.clear();
  // s/$vlc_re/$qualifier/go with $vlc_re = qr#/\*.*?[0-9]+.*?\*/#sm : from a "/*", the first
  // digit after it, then the first "*/" after that digit run. When one "/*" fails, later ones
  // (fewer digits, fewer "*/" after them) fail too.
  std::string out;
  size_t i = 0;
  while (true) {
    const size_t open = q.find("/*", i);
    if (open == kNpos) break;
    size_t digit = open + 2;
    while (digit < q.size() && !IsDigit(q[digit])) ++digit;
    if (digit >= q.size()) break;
    const size_t end = q.find("*/", DigitsEnd(q, digit));
    if (end == kNpos) break;
    out.append(q, i, open - i);
    out.append(qualifier);
    i = end + 2;
  }
  out.append(q, i, kNpos);
  return out;
}

// ---------------------------------------------------------------------------------------------
// QueryRewriter::distill_verbs / distill

struct Verbs {
  std::string verbs;
  std::optional<std::string> table;  // DDL statements: the name after TABLE/DATABASE
};

// The SHOW branch of distill_verbs, on the comment-stripped statement.
std::string DistillShow(std::string_view stripped) {
  std::string q = ToUpper(stripped);
  {
    // s/\s+(?:SESSION|FULL|STORAGE|ENGINE)\b/ /g
    static constexpr std::string_view kWords[] = {"SESSION", "FULL", "STORAGE", "ENGINE"};
    std::string out;
    size_t i = 0;
    while (i < q.size()) {
      if (!IsSpace(q[i])) {
        out.push_back(q[i++]);
        continue;
      }
      const size_t w = SkipSpaces(q, i);
      size_t end = kNpos;
      for (std::string_view word : kWords) {
        if (ExactAt(q, w, word) && BoundaryAfter(q, w + word.size())) end = w + word.size();
      }
      if (end == kNpos) {
        out.append(q, i, w - i);
        i = w;
      } else {
        out.push_back(' ');
        i = end;
      }
    }
    q = std::move(out);
  }
  {
    // s/\s+COUNT[^)]+\)//g
    std::string out;
    NextByte paren(q, ')');
    size_t i = 0;
    while (i < q.size()) {
      if (!IsSpace(q[i])) {
        out.push_back(q[i++]);
        continue;
      }
      const size_t w = SkipSpaces(q, i);
      if (ExactAt(q, w, "COUNT") && w + 5 < q.size() && q[w + 5] != ')') {
        const size_t close = paren.From(w + 5);
        if (close != kNpos) {
          i = close + 1;
          continue;
        }
      }
      out.append(q, i, w - i);
      i = w;
    }
    q = std::move(out);
  }
  {
    // s/\s+(?:FOR|FROM|LIKE|WHERE|LIMIT|IN)\b.+//ms : the first one, to the end.
    static constexpr std::string_view kWords[] = {"FOR", "FROM", "LIKE", "WHERE", "LIMIT", "IN"};
    size_t i = 0;
    while (i < q.size()) {
      if (!IsSpace(q[i])) {
        ++i;
        continue;
      }
      const size_t w = SkipSpaces(q, i);
      bool cut = false;
      for (std::string_view word : kWords) {
        const size_t end = w + word.size();
        if (ExactAt(q, w, word) && BoundaryAfter(q, end) && end < q.size()) cut = true;
      }
      if (cut) {
        q.resize(i);
        break;
      }
      i = w;
    }
  }
  // s/\A(SHOW(?:\s+\S+){1,2}).*\Z/$1/s
  if (ExactAt(q, 0, "SHOW")) {
    size_t end = 4;
    int words = 0;
    while (words < 2 && SpaceAt(q, end)) {
      const size_t w = SkipSpaces(q, end);
      if (w >= q.size()) break;
      end = NonSpaceEnd(q, w);
      ++words;
    }
    if (words > 0) q.resize(end);
  }
  // s/\s+/ /g
  std::string out;
  for (size_t i = 0; i < q.size();) {
    if (IsSpace(q[i])) {
      out.push_back(' ');
      i = SkipSpaces(q, i);
    } else {
      out.push_back(q[i++]);
    }
  }
  return out;
}

// The DDL branch: ($dds) = m/^\s*($data_def_stmts)\b/i already matched at [start, start+len).
Verbs DistillDdl(std::string_view stripped, size_t start, size_t len) {
  const std::string dds(stripped.substr(start, len));
  std::string dds_lower = dds;
  for (char& c : dds_lower) c = Lower(c);
  // s/\s+IF(?:\s+NOT)?\s+EXISTS/ /i : the first, from the start of its space run.
  std::string q(stripped);
  for (size_t i = 0; i < q.size();) {
    if (!IsSpace(q[i])) {
      ++i;
      continue;
    }
    const size_t w = SkipSpaces(q, i);
    size_t end = kNpos;
    if (MatchesAt(q, w, "if") && SpaceAt(q, w + 2)) {
      const size_t a = SkipSpaces(q, w + 2);
      if (MatchesAt(q, a, "not") && SpaceAt(q, a + 3)) {
        const size_t b = SkipSpaces(q, a + 3);
        if (MatchesAt(q, b, "exists")) end = b + 6;
      }
      if (end == kNpos && MatchesAt(q, a, "exists")) end = a + 6;
    }
    if (end != kNpos) {
      q = q.substr(0, i) + " " + q.substr(end);
      break;
    }
    i = w;
  }
  // ($obj) = m/$dds.+(DATABASE|TABLE)\b/i : an occurrence of the verb (ci, anywhere), then on
  // the same line the LAST DATABASE/TABLE with \b after it, at least one byte later. When an
  // occurrence fails, the others on its line fail too.
  std::string obj;
  for (size_t a = FindCi(q, dds_lower, 0); a != kNpos && obj.empty();) {
    const size_t from = a + dds_lower.size() + 1;
    size_t line_end = q.find('\n', a + dds_lower.size());
    if (line_end == kNpos) line_end = q.size();
    for (size_t p = line_end; p > from;) {
      --p;
      for (std::string_view word : {std::string_view("database"), std::string_view("table")}) {
        if (MatchesAt(q, p, word) && BoundaryAfter(q, p + word.size())) {
          obj = ToUpper(q.substr(p, word.size()));
          break;
        }
      }
      if (!obj.empty()) break;
    }
    if (line_end >= q.size()) break;
    a = FindCi(q, dds_lower, line_end + 1);
  }
  Verbs result;
  result.verbs = ToUpper(dds + (obj.empty() ? "" : " " + obj));
  if (const auto name = IdentAfterKeyword(q, {"table", "database"})) {
    result.table = std::string(*name);
  }
  return result;
}

// m/\b($verbs)\b/gio with $verbs = qr{^SHOW|^FLUSH|^COMMIT|^ROLLBACK|^BEGIN|SELECT|INSERT
// |UPDATE|DELETE|REPLACE|^SET|UNION|^START|^LOCK}xi (no /m: ^ is the start of the text).
std::string VerbList(std::string_view q) {
  static constexpr std::string_view kAnchored[] = {"show",  "flush", "commit", "rollback",
                                                   "begin", "set",   "start",  "lock"};
  static constexpr std::string_view kAnywhere[] = {"select", "insert",  "update",
                                                   "delete", "replace", "union"};
  std::vector<std::string> verbs;
  size_t p = 0;
  while (p < q.size()) {
    if (!IsWord(q[p]) || !BoundaryBefore(q, p)) {
      ++p;
      continue;
    }
    size_t len = 0;
    for (std::string_view verb : kAnywhere) {
      if (MatchesAt(q, p, verb) && BoundaryAfter(q, p + verb.size())) len = verb.size();
    }
    if (p == 0) {
      for (std::string_view verb : kAnchored) {
        if (MatchesAt(q, p, verb) && BoundaryAfter(q, p + verb.size())) len = verb.size();
      }
    }
    if (len == 0) {
      p = WordEnd(q, p);
      continue;
    }
    std::string verb = ToUpper(q.substr(p, len));
    if (verbs.empty() || verbs.back() != verb) verbs.push_back(std::move(verb));
    p += len;
  }
  if (!verbs.empty() && verbs[0] == "SELECT" && verbs.size() > 1) {
    const bool has_union = std::find(verbs.begin(), verbs.end(), "UNION") != verbs.end();
    verbs.assign({"SELECT"});
    if (has_union) verbs.emplace_back("UNION");
  }
  std::string out;
  for (const auto& verb : verbs) {
    if (!out.empty()) out.push_back(' ');
    out.append(verb);
  }
  return out;
}

Verbs DistillVerbs(std::string_view query) {
  Verbs result;
  const size_t start = SkipSpaces(query, 0);
  // m/\A\s*call\s+(\S+)\(/i -> "CALL $1": the last "(" of the word, after its first byte.
  if (MatchesAt(query, start, "call") && SpaceAt(query, start + 4)) {
    const size_t name = SkipSpaces(query, start + 4);
    const size_t end = NonSpaceEnd(query, name);
    for (size_t p = end; p > name + 1; --p) {
      if (query[p - 1] == '(') {
        result.verbs = "CALL " + std::string(query.substr(name, p - 1 - name));
        return result;
      }
    }
  }
  // m/\A\s*use\s+/ (case-sensitive)
  if (ExactAt(query, start, "use") && SpaceAt(query, start + 3)) {
    result.verbs = "USE";
    return result;
  }
  if (MatchesAt(query, start, "unlock tables")) {
    result.verbs = "UNLOCK";
    return result;
  }
  // m/\A\s*xa\s+(\S+)/i -> "XA_$1"
  if (MatchesAt(query, start, "xa") && SpaceAt(query, start + 2)) {
    const size_t w = SkipSpaces(query, start + 2);
    if (w < query.size()) {
      result.verbs = "XA_" + std::string(query.substr(w, NonSpaceEnd(query, w) - w));
      return result;
    }
  }
  if (MatchesAt(query, start, "load")) {
    std::string table;
    if (const auto word = IntoTableWord(query); word && PerlTrue(*word)) table = *word;
    std::erase(table, '`');
    result.verbs = "LOAD DATA " + table;
    return result;
  }
  constexpr std::string_view kAdmin = "administrator command:";
  if (ExactAt(query, 0, kAdmin)) {
    result.verbs = ToUpper("ADMIN" + std::string(query.substr(kAdmin.size())));
    return result;
  }

  const std::string q = StripComments(query);
  const size_t k = SkipSpaces(q, 0);
  if (MatchesAt(q, k, "show") && SpaceAt(q, k + 4)) {
    result.verbs = DistillShow(q);
    return result;
  }
  if (const size_t len = DdlVerbAt(q, k); len != 0) return DistillDdl(q, k, len);
  result.verbs = VerbList(q);
  return result;
}

// s/(_?)[0-9]+/$1?/g : every run of digits becomes "?".
std::string AbstractDigits(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size();) {
    if (IsDigit(s[i])) {
      out.push_back('?');
      i = DigitsEnd(s, i);
    } else {
      out.push_back(s[i++]);
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// QueryRewriter::convert_to_select

// m/=\s*\(\s*SELECT /i
bool HasSubqueryValue(std::string_view s) {
  for (size_t p = s.find('='); p != kNpos; p = s.find('=', p + 1)) {
    const size_t a = SkipSpaces(s, p + 1);
    if (a >= s.size() || s[a] != '(') continue;
    if (MatchesAt(s, SkipSpaces(s, a + 1), "select ")) return true;
  }
  return false;
}

// The tail of the UPDATE rule at `pos`: (limit\s*[0-9]+(?:\s*,\s*[0-9]+)?)?\Z. Returns the end
// of the limit clause (== pos without one) or kNpos.
size_t UpdateTail(std::string_view s, size_t pos) {
  if (EndAt(s, pos)) return pos;
  if (!MatchesAt(s, pos, "limit")) return kNpos;
  const size_t d = SkipSpaces(s, pos + 5);
  const size_t d_end = DigitsEnd(s, d);
  if (d_end == d) return kNpos;
  const size_t c = SkipSpaces(s, d_end);
  if (c < s.size() && s[c] == ',') {
    const size_t d2 = SkipSpaces(s, c + 1);
    const size_t d2_end = DigitsEnd(s, d2);
    if (d2_end > d2 && EndAt(s, d2_end)) return d2_end;
  }
  return EndAt(s, d_end) ? d_end : kNpos;
}

// \s+set\b: the first space run at or after `from` that is followed by the word SET.
size_t FindSpaceThenSet(std::string_view s, size_t from) {
  for (size_t p = from; p < s.size(); ++p) {
    if (!IsSpace(s[p])) continue;
    const size_t w = SkipSpaces(s, p);
    if (MatchesAt(s, w, "set") && BoundaryAfter(s, w + 3)) return p;
    p = w;
  }
  return kNpos;
}

// s{\A.*?update(?:\s+(?:low_priority|ignore))?\s+(.*?)\s+set\b(.*?)(?:\s*where\b(.*?))?
//   (limit\s*[0-9]+(?:\s*,\s*[0-9]+)?)?\Z}{__update_to_select($1, $2, $3, $4)}exsi
//
// Once "\s+set\b" is found the rest always matches ($2 can run to the end), so an "update"
// (no \b: "last_update" counts) succeeds when a space run after it is followed by SET. Only the
// first "update" followed by a space matters: every space run a later one could use lies after
// the first one's spaces, where the first one's search already looked.
bool UpdateToSelect(std::string_view s, std::string& out) {
  size_t u = kNpos;
  for (size_t p = FindCi(s, "update", 0); p != kNpos; p = FindCi(s, "update", p + 1)) {
    if (SpaceAt(s, p + 6)) {
      u = p;
      break;
    }
  }
  if (u == kNpos) return false;
  // Returns (from_begin, from_end, set_word) for one way of matching the part after "update"
  // (at `a`, which must be a space): \s+ greedy, then (.*?) up to the first space run
  // followed by SET; if there is none, a shorter \s+ leaves (.*?) empty when SET directly
  // follows a run of two or more spaces.
  struct From {
    size_t begin = kNpos, end = kNpos, set = kNpos;
  };
  auto match_from = [&](size_t a) -> From {
    if (!SpaceAt(s, a)) return {};
    const size_t w = SkipSpaces(s, a);
    const size_t f = FindSpaceThenSet(s, w);
    if (f != kNpos) return {w, f, SkipSpaces(s, f)};
    if (w - a >= 2 && MatchesAt(s, w, "set") && BoundaryAfter(s, w + 3)) return {w, w, w};
    return {};
  };
  From from;
  const size_t w0 = SkipSpaces(s, u + 6);
  const size_t modifier = MatchesAt(s, w0, "low_priority") ? 12
                          : MatchesAt(s, w0, "ignore")     ? 6
                                                           : 0;
  if (modifier != 0) from = match_from(w0 + modifier);
  if (from.set == kNpos) from = match_from(u + 6);
  if (from.set == kNpos) return false;

  // (.*?)(?:\s*where\b(.*?))?(limit...)?\Z : $2 ends at the first x where either "\s*where\b"
  // starts (the where group then always matches: $3 can run to the end) or the tail matches.
  const size_t set_begin = from.set + 3;
  size_t set_end = kNpos;
  size_t where_begin = kNpos;
  size_t where_end = kNpos;
  size_t limit_begin = kNpos;
  size_t limit_end = kNpos;
  size_t y = 0;  // SkipSpaces(s, x), kept incrementally
  for (size_t x = set_begin; x <= s.size(); ++x) {
    if (y < x) y = SkipSpaces(s, x);
    if (MatchesAt(s, y, "where") && BoundaryAfter(s, y + 5)) {
      set_end = x;
      where_begin = y + 5;
      for (size_t z = where_begin; z <= s.size(); ++z) {
        const size_t tail = UpdateTail(s, z);
        if (tail != kNpos) {
          where_end = z;
          if (tail > z) {
            limit_begin = z;
            limit_end = tail;
          }
          break;
        }
      }
      break;
    }
    const size_t tail = UpdateTail(s, x);
    if (tail != kNpos) {
      set_end = x;
      if (tail > x) {
        limit_begin = x;
        limit_end = tail;
      }
      break;
    }
  }
  const size_t match_end = limit_end != kNpos   ? limit_end
                           : where_end != kNpos ? where_end
                                                : set_end;
  out = "select ";
  out.append(s.substr(set_begin, set_end - set_begin));
  out.append(" from ");
  out.append(s.substr(from.begin, from.end - from.begin));
  out.push_back(' ');
  if (where_begin != kNpos && PerlTrue(s.substr(where_begin, where_end - where_begin))) {
    out.append("where ");
    out.append(s.substr(where_begin, where_end - where_begin));
  }
  if (limit_begin != kNpos) {
    out.push_back(' ');
    out.append(s.substr(limit_begin, limit_end - limit_begin));
    out.push_back(' ');
  }
  out.append(s.substr(match_end));
  return true;
}

// The shared tail of the two INSERT rules at a position p:
//   \s*(?:\blimit\b|on\s+duplicate\s+key.*)?\s*\Z  (/s)
// It depends only on q = SkipSpaces(s, p), which is what this takes.
bool InsertTailAt(std::string_view s, size_t q) {
  if (q >= s.size()) return true;
  if (MatchesAt(s, q, "limit") && BoundaryBefore(s, q) && BoundaryAfter(s, q + 5)) {
    return SkipSpaces(s, q + 5) == s.size();
  }
  if (MatchesAt(s, q, "on") && SpaceAt(s, q + 2)) {
    const size_t d = SkipSpaces(s, q + 2);
    if (MatchesAt(s, d, "duplicate") && SpaceAt(s, d + 9)) {
      return MatchesAt(s, SkipSpaces(s, d + 9), "key");
    }
  }
  return false;
}

// \A.*?(?:insert(?:\s+ignore)?|replace)\s+ : the first "insert"/"replace" (ci, no \b)
// followed by a space; returns the position after the verb, or kNpos. (Whether "ignore" is
// taken does not matter: nothing after it is captured before the INTO, which cannot lie
// inside "ignore".) Only the first such verb matters for both INSERT rules: a later verb only
// sees a part of what the first one sees.
size_t InsertVerbEnd(std::string_view s) {
  for (size_t p = 0; p < s.size(); ++p) {
    const char c = Lower(s[p]);
    if (c == 'i' && MatchesAt(s, p, "insert") && SpaceAt(s, p + 6)) return p + 6;
    if (c == 'r' && MatchesAt(s, p, "replace") && SpaceAt(s, p + 7)) return p + 7;
  }
  return kNpos;
}

// Perl's m/($quote_re|[^,]*${bal}[^,]*|[^,]+)/g over the VALUES list of __insert_to_select.
std::vector<std::string_view> SplitValues(std::string_view s) {
  // $bal at a "(" matches up to its matching ")" (plain bracket matching; the atomic
  // (?>[^()]+) only speeds Perl up). Pairs (open, close), in order of `open`.
  std::vector<std::pair<size_t, size_t>> pairs;
  {
    std::vector<size_t> stack;
    for (size_t i = 0; i < s.size(); ++i) {
      if (s[i] == '(') {
        stack.push_back(i);
        pairs.emplace_back(i, kNpos);
      } else if (s[i] == ')' && !stack.empty()) {
        const size_t open = stack.back();
        stack.pop_back();
        auto it = std::lower_bound(pairs.begin(), pairs.end(), std::make_pair(open, size_t{0}));
        it->second = i;
      }
    }
  }
  auto close_of = [&](size_t open) {
    auto it = std::lower_bound(pairs.begin(), pairs.end(), std::make_pair(open, size_t{0}));
    return it != pairs.end() && it->first == open ? it->second : kNpos;
  };
  // "(?:(?!(?<!\\)").)*" : up to the first unescaped quote on the line; failing that, by
  // backtracking, up to the last (escaped) quote before the end of the line.
  auto quoted_end = [&](size_t p) -> size_t {
    const char quote = s[p];
    size_t last = kNpos;
    for (size_t t = p + 1; t < s.size() && s[t] != '\n'; ++t) {
      if (s[t] != quote) continue;
      if (s[t - 1] != '\\') return t + 1;
      last = t;
    }
    return last == kNpos ? kNpos : last + 1;
  };
  std::vector<std::string_view> values;
  NextByte comma(s, ',');
  size_t p = 0;
  while (p < s.size()) {
    if (s[p] == '"' || s[p] == '\'') {
      const size_t end = quoted_end(p);
      if (end != kNpos) {
        values.push_back(s.substr(p, end - p));
        p = end;
        continue;
      }
    }
    size_t c = comma.From(p);
    if (c == kNpos) c = s.size();
    // [^,]*${bal}[^,]* : the rightmost "(" before the comma that has a match.
    size_t bal_end = kNpos;
    for (size_t q = c; q > p;) {
      --q;
      if (s[q] == '(') {
        const size_t close = close_of(q);
        if (close != kNpos) {
          bal_end = close + 1;
          break;
        }
      }
    }
    if (bal_end != kNpos) {
      size_t end = comma.From(bal_end);
      if (end == kNpos) end = s.size();
      values.push_back(s.substr(p, end - p));
      p = end;
      continue;
    }
    if (c > p) {
      values.push_back(s.substr(p, c - p));
      p = c;
      continue;
    }
    ++p;  // a comma: nothing matches here
  }
  return values;
}

// __insert_to_select($tbl, $cols, $vals)
std::string InsertToSelect(std::string_view table, std::string_view cols, std::string_view vals) {
  const std::vector<std::string_view> columns = PerlSplit(cols, ',');
  // s/^\(|\)$//g ($vals is "(...)")
  if (!vals.empty() && vals.front() == '(') vals.remove_prefix(1);
  if (!vals.empty() && vals.back() == ')') vals.remove_suffix(1);
  const std::vector<std::string_view> values = SplitValues(vals);
  std::string out = "select * from ";
  out.append(table);
  if (columns.size() != values.size()) {
    out.append(" limit 1");
    return out;
  }
  out.append(" where ");
  for (size_t k = 0; k < columns.size(); ++k) {
    if (k > 0) out.append(" and ");
    out.append(columns[k]);
    out.push_back('=');
    out.append(values[k]);
  }
  return out;
}

// s{\A.*?(?:insert(?:\s+ignore)?|replace)\s+.*?\binto\b(.*?)\(([^\)]+)\)\s*
//   values?\s*(\(.*?\))\s*(?:\blimit\b|on\s+duplicate\s+key.*)?\s*\Z}
//  {__insert_to_select($1, $2, $3)}exsi
//
// With the verb and the first INTO fixed (later ones only see less), $1 grows to each "("
// in turn: its ([^\)]+) runs to the next ")" (at least one byte), which must be followed by
// VALUE[S] ( . The first "(" where that holds decides: its VALUES list ends at the first ")"
// followed by the tail; if there is none, no later "(" can have one either.
bool InsertValuesToSelect(std::string_view s, std::string& out) {
  const size_t verb_end = InsertVerbEnd(s);
  if (verb_end == kNpos) return false;
  const size_t into = FindWordCi(s, "into", verb_end + 1);
  if (into == kNpos) return false;
  NextByte close(s, ')');
  size_t checked_close = kNpos;  // the ")" whose VALUES check failed last
  for (size_t j = s.find('(', into + 4); j != kNpos; j = s.find('(', j + 1)) {
    const size_t k = close.From(j + 1);
    if (k == kNpos) return false;
    if (k == j + 1 || k == checked_close) continue;
    const size_t v = SkipSpaces(s, k + 1);
    size_t m = kNpos;
    if (MatchesAt(s, v, "value")) {
      size_t after = v + 5;
      if (after < s.size() && Lower(s[after]) == 's') ++after;
      const size_t paren = SkipSpaces(s, after);
      if (paren < s.size() && s[paren] == '(') m = paren;
    }
    if (m == kNpos) {
      checked_close = k;
      continue;
    }
    for (size_t r = s.find(')', m + 1); r != kNpos; r = s.find(')', r + 1)) {
      if (!InsertTailAt(s, SkipSpaces(s, r + 1))) continue;
      out = InsertToSelect(s.substr(into + 4, j - (into + 4)), s.substr(j + 1, k - j - 1),
                           s.substr(m, r + 1 - m));
      return true;
    }
    return false;
  }
  return false;
}

// s{\A.*?(?:insert(?:\s+ignore)?|replace)\s+(?:.*?\binto)\b(.*?)\s*set\s+(.*?)\s*
//   (?:\blimit\b|on\s+duplicate\s+key.*)?\s*\Z}{__insert_to_select_with_set($1, $2)}exsi
bool InsertSetToSelect(std::string_view s, std::string& out) {
  const size_t verb_end = InsertVerbEnd(s);
  if (verb_end == kNpos) return false;
  const size_t into = FindWordCi(s, "into", verb_end + 1);
  if (into == kNpos) return false;
  // \s*set\s+ : the first "set" (no \b before it) followed by a space; $1 stops at the start
  // of the space run before it.
  size_t set = kNpos;
  for (size_t p = FindCi(s, "set", into + 4); p != kNpos; p = FindCi(s, "set", p + 1)) {
    if (SpaceAt(s, p + 3)) {
      set = p;
      break;
    }
  }
  if (set == kNpos) return false;
  size_t from_end = set;
  while (from_end > into + 4 && IsSpace(s[from_end - 1])) --from_end;
  const size_t values = SkipSpaces(s, set + 3);
  // $2 ends at the first w whose tail matches; positions in one space run share the answer.
  size_t values_end = s.size();
  for (size_t w = values; w <= s.size();) {
    const size_t q = SkipSpaces(s, w);
    if (InsertTailAt(s, q)) {
      values_end = w;
      break;
    }
    w = q + 1;
  }
  out = "select * from ";
  out.append(s.substr(into + 4, from_end - (into + 4)));
  out.append(" where ");
  for (const char c : s.substr(values, values_end - values)) {
    if (c == ',') {
      out.append(" and ");
    } else {
      out.push_back(c);
    }
  }
  out.push_back(' ');
  return true;
}

// s{\A.*?delete\s+(.*?)\bfrom\b(.*)\Z}{__delete_to_select($1, $2)}exsi : the first "delete"
// followed by a space, then the first word FROM after its spaces (a later "delete" would only
// see a part of what this one sees).
bool DeleteToSelect(std::string_view s, std::string& out) {
  for (size_t d = FindCi(s, "delete", 0); d != kNpos; d = FindCi(s, "delete", d + 1)) {
    if (!SpaceAt(s, d + 6)) continue;
    const size_t from = FindWordCi(s, "from", SkipSpaces(s, d + 6));
    if (from == kNpos) return false;
    const std::string_view join = s.substr(from + 4);
    bool has_join = false;  // m/\bjoin\b/ (case-sensitive)
    for (size_t p = join.find("join"); p != kNpos; p = join.find("join", p + 1)) {
      if (BoundaryBefore(join, p) && BoundaryAfter(join, p + 4)) {
        has_join = true;
        break;
      }
    }
    out = has_join ? "select 1 from " : "select * from ";
    out.append(join);
    return true;
  }
  return false;
}

// ---------------------------------------------------------------------------------------------
// QueryRewriter::shorten

// \s*,\s*\( at `pos`: the position after the "(", or kNpos.
size_t CommaParenEnd(std::string_view s, size_t pos) {
  const size_t c = SkipSpaces(s, pos);
  if (c >= s.size() || s[c] != ',') return kNpos;
  const size_t p = SkipSpaces(s, c + 1);
  return p < s.size() && s[p] == '(' ? p + 1 : kNpos;
}

// s{\A((?:INSERT|REPLACE)(?:\s+LOW_PRIORITY|DELAYED|HIGH_PRIORITY|IGNORE)?
//   (?:\s\w+)*\s+\S+\s+VALUES\s*\(.*?\))\s*,\s*\(.*?(ON\s+DUPLICATE|\Z)}
//  {$1 /*... omitted ...*/$2}xsi
//
// (?:\s\w+)* is a chain of words each after exactly one space; Perl tries the longest chain
// first, then shorter ones. After k words, \s+\S+\s+ must take whole runs, so VALUES has to
// start the second non-space run after them.
bool ShortenMultiRowInsert(std::string_view s, std::string& out) {
  size_t verb_end = 0;
  if (MatchesAt(s, 0, "insert")) {
    verb_end = 6;
  } else if (MatchesAt(s, 0, "replace")) {
    verb_end = 7;
  } else {
    return false;
  }
  std::vector<size_t> starts;
  if (SpaceAt(s, verb_end) && MatchesAt(s, SkipSpaces(s, verb_end), "low_priority")) {
    starts.push_back(SkipSpaces(s, verb_end) + 12);
  } else if (MatchesAt(s, verb_end, "delayed")) {
    starts.push_back(verb_end + 7);
  } else if (MatchesAt(s, verb_end, "high_priority")) {
    starts.push_back(verb_end + 13);
  } else if (MatchesAt(s, verb_end, "ignore")) {
    starts.push_back(verb_end + 6);
  }
  starts.push_back(verb_end);
  // The ")" positions followed by \s*,\s*\( , found once (lazily) for all candidates.
  std::optional<std::vector<size_t>> closes;
  for (const size_t start : starts) {
    std::vector<size_t> chain = {start};
    for (size_t t = start; SpaceAt(s, t) && t + 1 < s.size() && IsWord(s[t + 1]);) {
      t = WordEnd(s, t + 1);
      chain.push_back(t);
    }
    for (size_t k = chain.size(); k > 0; --k) {
      const size_t e = chain[k - 1];
      if (!SpaceAt(s, e)) continue;
      const size_t a = SkipSpaces(s, e);
      const size_t b = NonSpaceEnd(s, a);
      if (b == a || !SpaceAt(s, b)) continue;
      const size_t c = SkipSpaces(s, b);
      if (!MatchesAt(s, c, "values")) continue;
      const size_t d = SkipSpaces(s, c + 6);
      if (d >= s.size() || s[d] != '(') continue;
      if (!closes) {
        closes.emplace();
        for (size_t r = s.find(')'); r != kNpos; r = s.find(')', r + 1)) {
          if (CommaParenEnd(s, r + 1) != kNpos) closes->push_back(r);
        }
      }
      const auto it = std::lower_bound(closes->begin(), closes->end(), d + 1);
      if (it == closes->end()) continue;
      const size_t r = *it;
      // .*?(ON\s+DUPLICATE|\Z)
      size_t t = CommaParenEnd(s, r + 1);
      std::string_view on_duplicate;
      for (; t < s.size(); ++t) {
        if (EndAt(s, t)) break;
        if (MatchesAt(s, t, "on") && SpaceAt(s, t + 2)) {
          const size_t dup = SkipSpaces(s, t + 2);
          if (MatchesAt(s, dup, "duplicate")) {
            on_duplicate = s.substr(t, dup + 9 - t);
            break;
          }
        }
      }
      out.assign(s.substr(0, r + 1));
      out.append(" /*... omitted ...*/");
      out.append(on_duplicate);
      out.append(s.substr(t + on_duplicate.size()));
      return true;
    }
  }
  return false;
}

// __shorten: a list of more than 20 comma-separated items keeps 20.
std::string ShortenList(std::string_view list) {
  const std::vector<std::string_view> items = PerlSplit(list, ',');
  if (items.size() <= 20) return std::string(list);
  std::string out;
  for (size_t k = 0; k < 20; ++k) {
    if (k > 0) out.push_back(',');
    out.append(items[k]);
  }
  out.append("/*... omitted " + std::to_string(items.size() - 20) + " items ...*/");
  return out;
}

// m/IN\s*\(\s*(?!select)/i : the look-ahead passes after a shorter \s* whenever there is a
// space, so only "IN(select" (no space after the parenthesis) is refused.
bool HasInList(std::string_view s) {
  for (size_t p = FindCi(s, "in", 0); p != kNpos; p = FindCi(s, "in", p + 1)) {
    const size_t paren = SkipSpaces(s, p + 2);
    if (paren >= s.size() || s[paren] != '(') continue;
    if (SpaceAt(s, paren + 1) || !MatchesAt(s, paren + 1, "select")) return true;
  }
  return false;
}

// s{(\bIN\s*\()([^\)]+)(?=\))}{$1 . __shorten($2)}gexsi
std::string ShortenInLists(std::string_view s) {
  std::string out;
  NextByte close(s, ')');
  size_t copied = 0;
  size_t p = 0;
  while (p + 2 <= s.size()) {
    if (!MatchesAt(s, p, "in") || !BoundaryBefore(s, p)) {
      ++p;
      continue;
    }
    const size_t paren = SkipSpaces(s, p + 2);
    if (paren >= s.size() || s[paren] != '(') {
      ++p;
      continue;
    }
    const size_t end = close.From(paren + 1);
    if (end == kNpos || end == paren + 1) {
      ++p;
      continue;
    }
    out.append(s.substr(copied, paren + 1 - copied));
    out.append(ShortenList(s.substr(paren + 1, end - paren - 1)));
    copied = p = end;
  }
  out.append(s.substr(copied));
  return out;
}

}  // namespace

// ---------------------------------------------------------------------------------------------

std::vector<std::optional<std::string>> GetTablesRaw(std::string_view query) {
  return GetTablesImpl(query);
}

std::vector<std::string> GetTables(std::string_view query) {
  std::vector<std::string> tables;
  for (auto& table : GetTablesImpl(query)) {
    if (table) tables.push_back(std::move(*table));
  }
  return tables;
}

TableRef SplitUnquote(std::string_view db_tbl, std::string_view default_db) {
  const std::vector<std::string_view> fields = PerlSplit(db_tbl, '.');
  std::string_view db = !fields.empty() ? fields[0] : std::string_view();
  std::string_view table = fields.size() > 1 ? fields[1] : std::string_view();
  if (!PerlTrue(table)) {
    table = db;
    db = default_db;
  }
  auto unquote = [](std::string_view part) {
    if (!PerlTrue(part)) return std::string(part);
    if (part.front() == '`') part.remove_prefix(1);
    if (!part.empty() && part.back() == '`') part.remove_suffix(1);
    std::string out;
    for (size_t i = 0; i < part.size(); ++i) {
      out.push_back(part[i]);
      if (part[i] == '`' && i + 1 < part.size() && part[i + 1] == '`') ++i;
    }
    return out;
  };
  return TableRef{unquote(db), unquote(table)};
}

std::vector<TableRef> ExtractTables(std::string_view query, std::string_view default_db) {
  std::vector<TableRef> tables;
  std::unordered_set<std::string> seen;
  for (const std::string& db_tbl : GetTables(query)) {
    if (!PerlTrue(db_tbl) || !seen.insert(db_tbl).second) continue;
    TableRef ref = SplitUnquote(db_tbl);
    if (!PerlTrue(ref.db)) ref.db = std::string(default_db);
    tables.push_back(std::move(ref));
  }
  return tables;
}

std::string TablesReport(const std::vector<TableRef>& tables, bool vertical) {
  if (tables.empty()) return "";
  const char* mark = vertical ? "\\G" : "";
  auto quote = [](std::string_view name) {
    std::string out = "`";
    for (const char c : name) {
      out.push_back(c);
      if (c == '`') out.push_back('`');
    }
    out.push_back('`');
    return out;
  };
  std::string out = "# Tables\n";
  for (const TableRef& ref : tables) {
    out.append("#    SHOW TABLE STATUS");
    if (PerlTrue(ref.db)) out.append(" FROM `" + ref.db + "`");
    out.append(" LIKE '" + ref.table + "'" + mark + "\n");
    std::string name;
    for (const std::string* part : {&ref.db, &ref.table}) {
      if (!PerlTrue(*part)) continue;
      if (!name.empty()) name.push_back('.');
      name.append(quote(*part));
    }
    out.append("#    SHOW CREATE TABLE " + name + mark + "\n");
  }
  return out;
}

std::optional<std::vector<std::string>> GroupByTables(std::string_view query, std::string_view db) {
  std::vector<std::string> items;
  for (auto& table : GetTablesImpl(query)) {
    if (!table) return std::nullopt;
    std::string item = std::move(*table);
    std::erase(item, '`');
    if (item.find('.') == std::string::npos && PerlTrue(db)) {
      item.insert(0, 1, '.');
      item.insert(0, db);
    }
    items.push_back(std::move(item));
  }
  return items;
}

std::string Distill(std::string_view query) {
  Verbs verbs = DistillVerbs(query);
  if (PerlTrue(verbs.verbs) && verbs.verbs.starts_with("SHOW")) {
    // map { $verbs =~ s/$_/$alias_for{$_}/ } keys %alias_for  (the first occurrence of each)
    static constexpr std::pair<std::string_view, std::string_view> kAliases[] = {
        {"SCHEMA", "DATABASE"}, {"KEYS", "INDEX"}, {"INDEXES", "INDEX"}};
    for (const auto& [from, to] : kAliases) {
      const size_t at = verbs.verbs.find(from);
      if (at != std::string::npos) verbs.verbs.replace(at, from.size(), to);
    }
    return verbs.verbs;
  }
  if (PerlTrue(verbs.verbs) && verbs.verbs.starts_with("LOAD DATA")) return verbs.verbs;
  // __distill_tables: get_tables' names without backticks and with digits abstracted, the
  // DDL name (as written) after them, adjacent duplicates collapsed.
  std::vector<std::string> tables;
  for (std::string& table : GetTables(query)) {
    std::erase(table, '`');
    tables.push_back(AbstractDigits(table));
  }
  if (verbs.table && PerlTrue(*verbs.table)) tables.push_back(*verbs.table);
  std::string out = verbs.verbs;
  std::string last;  // pt starts the collapse with '', so an empty first name goes too
  for (const std::string& table : tables) {
    if (table == last) continue;
    last = table;
    out.push_back(' ');
    out.append(table);
  }
  return out;
}

std::optional<std::string> ConvertToSelect(std::string_view query) {
  if (!PerlTrue(query) || HasSubqueryValue(query)) return std::nullopt;
  std::string q;
  if (!UpdateToSelect(query, q) && !InsertValuesToSelect(query, q) &&
      !InsertSetToSelect(query, q) && !DeleteToSelect(query, q)) {
    q = std::string(query);
  }
  // s/\s*on\s+duplicate\s+key\s+update.*\Z//si : from the space run before the first one.
  for (size_t p = FindCi(q, "on", 0); p != kNpos; p = FindCi(q, "on", p + 1)) {
    if (!SpaceAt(q, p + 2)) continue;
    const size_t d = SkipSpaces(q, p + 2);
    if (!MatchesAt(q, d, "duplicate") || !SpaceAt(q, d + 9)) continue;
    const size_t k = SkipSpaces(q, d + 9);
    if (!MatchesAt(q, k, "key") || !SpaceAt(q, k + 3)) continue;
    if (!MatchesAt(q, SkipSpaces(q, k + 3), "update")) continue;
    size_t start = p;
    while (start > 0 && IsSpace(q[start - 1])) --start;
    q.resize(start);
    break;
  }
  // s/\A.*?(?=\bSELECT\s*\b)//ism : everything before the first word SELECT.
  if (const size_t select = FindWordCi(q, "select", 0); select != kNpos) q.erase(0, select);
  return q;
}

std::string Shorten(std::string_view query, long long length) {
  std::string shortened;
  std::string_view q = query;
  if (ShortenMultiRowInsert(query, shortened)) q = shortened;
  if (!HasInList(q)) return std::string(q);
  if (length > 0 && static_cast<long long>(q.size()) > length) return ShortenInLists(q);
  return std::string(q);
}

std::optional<std::string> ConvertedForExplain(std::string_view fingerprint,
                                               std::string_view shortened_sample) {
  // $item =~ m/^(?:[\(\s]*select|insert|replace)/
  size_t k = 0;
  while (k < fingerprint.size() && (fingerprint[k] == '(' || IsSpace(fingerprint[k]))) ++k;
  if (ExactAt(fingerprint, k, "select") || ExactAt(fingerprint, 0, "insert") ||
      ExactAt(fingerprint, 0, "replace")) {
    return std::nullopt;
  }
  auto converted = ConvertToSelect(shortened_sample);
  if (!converted || !PerlTrue(*converted)) return std::nullopt;
  // $converted =~ m/^[\(\s]*select/i
  size_t c = 0;
  while (c < converted->size() && ((*converted)[c] == '(' || IsSpace((*converted)[c]))) ++c;
  if (!MatchesAt(*converted, c, "select")) return std::nullopt;
  return converted;
}

}  // namespace dbrunbook::digest
