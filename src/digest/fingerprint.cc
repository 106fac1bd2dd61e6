// QueryRewriter::fingerprint of Percona Toolkit 3.5.7, rule by rule, without regexes.
//
// pt applies these rules in this order, each to the output of the one before (the regex
// notation is only to state the rule; nothing here uses a regex engine):
//   1. `\ASELECT /*!40001 SQL_NO_CACHE */ * FROM `` (mysqldump)        -> "mysqldump"
//   2. `/*\w+.\w+:[0-9]/[0-9]*/` anywhere (pt-table-checksum)          -> "percona-toolkit"
//   3. `\Aadministrator command: `                                     -> the query unchanged
//   4. `\A\s*(call\s+\S+)\(` (case-insensitive)                        -> lc($1)
//   5. `\A((?:INSERT|REPLACE)(?: IGNORE)?\s+INTO.+?VALUES\s*\(.*?\))\s*,\s*\(` (ci, /s):
//      the query is cut after the first VALUES row
//   6. multi-line comments `/\*[^!].*?\*/` removed (not /*!version*/ ones; `/**/` needs a
//      later `*/`)
//   7. one-line comments `(?:--|#)[^'"\r\n]*(?=[\r\n]|\Z)` removed (not when the rest of the
//      line holds a quote; also inside strings)
//   8. `\Ause \S+\Z` (ci) -> "use ?" (plus a final newline if there was one), returned as is
//   9. strings (PT-1900, pt 3.3.2+): remove `\'`/`\"` after a non-backslash, then `\\`, then
//      any `\'`, `\"`; then `([^\\])(".*?[^\\]?")` -> `$1?`, then the same for '...'
//      (a quote at the very start of the query cannot open a string)
//  10. `\bfalse\b|\btrue\b` (ci) -> ?
//  11. (match_md5_checksums) `([._-])[a-f0-9]{32}` -> `$1?`
//  12. `[0-9+-][0-9a-f.xb+-]*` -> ? (with match_embedded_numbers: `\b` before it); case
//      sensitive, before lower-casing: 0x1F -> ?F, 1E5 -> ?E?
//  13. `[xb.+-]\?` -> ? (without `.` under match_md5_checksums)
//  14. leading whitespace removed; 15. chomp (one final "\n"); 16. `tr/ \n\t\r\f/ /s`
//  17. lower-case (ASCII); 18. `\bnull\b` -> ?
//  19. `\b(in|values?)(?:[\s,]*\([\s?,]*\))+` -> `$1(?+)`
//  20. `\b(select\s.*?)(?:(\sunion(?:\sall)?)\s\1)+` -> `$1 /*repeat$2*/`
//  21. the first `\blimit \?(?:, ?\?| offset \?)?` -> "limit ?"
//  22. after the first `\bORDER BY `, repeatedly from there: `\G(.+?)\s+ASC` -> `$1` (no `\b`
//      after ASC: "ascending" loses its "asc" too)
// `\s` is Perl's ASCII set (space, \t, \n, \v, \f, \r); `\w` is [A-Za-z0-9_].
//
// Steps 10-17 run as one fused pass; the others run only when their trigger text occurs.
//
// FingerprintOptions::abstract: rules A1-A17 below (before FingerprintInto), not these.
#include "digest/fingerprint.h"

#include <openssl/evp.h>

#if defined(__SSE2__)
#include <immintrin.h>
#endif

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstring>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "digest/pt_text.h"

namespace dbrunbook::digest {
namespace {

constexpr bool IsSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}
constexpr bool IsDigit(char c) { return c >= '0' && c <= '9'; }
constexpr bool IsWord(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || IsDigit(c) || c == '_';
}
constexpr char Lower(char c) { return AsciiLower(c); }
constexpr bool IsHexLower(char c) { return IsDigit(c) || (c >= 'a' && c <= 'f'); }
// Step 12: the characters a "number" continues with.
constexpr bool IsNumberChar(char c) {
  return IsHexLower(c) || c == '.' || c == 'x' || c == 'b' || c == '+' || c == '-';
}
constexpr bool IsNumberStart(char c) { return IsDigit(c) || c == '+' || c == '-'; }

size_t SkipSpaces(std::string_view s, size_t pos) {
  while (pos < s.size() && IsSpace(s[pos])) ++pos;
  return pos;
}
bool WordBoundaryBefore(std::string_view s, size_t pos) { return pos == 0 || !IsWord(s[pos - 1]); }
bool WordBoundaryAfter(std::string_view s, size_t end) {
  return end >= s.size() || !IsWord(s[end]);
}

// Two scratch buffers that the passes alternate between; `cur` is the text so far.
class Passes {
 public:
  Passes(std::string_view input, std::string& a, std::string& b) : cur_(input), a_(a), b_(b) {}
  std::string_view cur() const { return cur_; }
  void Set(std::string_view v) { cur_ = v; }
  // The buffer not holding cur(), cleared, to write the next pass into.
  std::string& Next() {
    std::string& out = (!a_.empty() && cur_.data() == a_.data()) ? b_ : a_;
    out.clear();
    return out;
  }
  void Done(const std::string& out) { cur_ = out; }

 private:
  std::string_view cur_;
  std::string& a_;
  std::string& b_;
};

// Step 2: /\*\w+\.\w+:[0-9]/[0-9]\*/ anywhere.
bool HasToolkitChecksumComment(std::string_view q) {
  for (size_t pos = q.find("/*"); pos != std::string_view::npos; pos = q.find("/*", pos + 1)) {
    size_t k = pos + 2;
    size_t start = k;
    while (k < q.size() && IsWord(q[k])) ++k;
    if (k == start || k >= q.size() || q[k] != '.') continue;
    start = ++k;
    while (k < q.size() && IsWord(q[k])) ++k;
    if (k == start) continue;
    if (q.size() - k >= 6 && q[k] == ':' && IsDigit(q[k + 1]) && q[k + 2] == '/' &&
        IsDigit(q[k + 3]) && q[k + 4] == '*' && q[k + 5] == '/') {
      return true;
    }
  }
  return false;
}

// Step 4: \A\s*(call\s+\S+)\( ; returns the length of $1 (from `start`) or 0.
bool MatchCall(std::string_view q, size_t& start, size_t& end) {
  size_t k = SkipSpaces(q, 0);
  if (!MatchesAt(q, k, "call")) return false;
  start = k;
  k += 4;
  const size_t after_call = k;
  k = SkipSpaces(q, k);
  if (k == after_call) return false;
  const size_t name = k;
  while (k < q.size() && !IsSpace(q[k])) ++k;
  // \S+ is greedy: the last '(' of the run with at least one character before it.
  for (size_t p = k; p > name + 1; --p) {
    if (q[p - 1] == '(') {
      end = p - 1;
      return true;
    }
  }
  return false;
}

// Step 5: the length of the prefix to keep, or 0 when the rule does not apply.
size_t MultiRowInsertPrefix(std::string_view q) {
  size_t k = 0;
  if (MatchesAt(q, 0, "insert")) {
    k = 6;
  } else if (MatchesAt(q, 0, "replace")) {
    k = 7;
  } else {
    return 0;
  }
  auto into_after = [&](size_t p) -> size_t {
    const size_t s = SkipSpaces(q, p);
    if (s == p || !MatchesAt(q, s, "into")) return 0;
    return s + 4;
  };
  size_t t = 0;
  if (MatchesAt(q, k, " ignore")) t = into_after(k + 7);
  if (t == 0) t = into_after(k);
  if (t == 0) return 0;
  // .+? then VALUES\s*\( : the first VALUES (at least one character after INTO) followed by
  // an opening parenthesis. A later VALUES can only see fewer ')' candidates, so if the
  // first one fails they all do.
  size_t open = std::string_view::npos;
  for (size_t v = t + 1; v + 6 <= q.size(); ++v) {
    if (Lower(q[v]) != 'v' || !MatchesAt(q, v, "values")) continue;
    const size_t p = SkipSpaces(q, v + 6);
    if (p < q.size() && q[p] == '(') {
      open = p;
      break;
    }
  }
  if (open == std::string_view::npos) return 0;
  // .*?\)\s*,\s*\( : the first ')' followed by a comma and another '('.
  for (size_t c = q.find(')', open + 1); c != std::string_view::npos; c = q.find(')', c + 1)) {
    size_t p = SkipSpaces(q, c + 1);
    if (p >= q.size() || q[p] != ',') continue;
    p = SkipSpaces(q, p + 1);
    if (p < q.size() && q[p] == '(') return c + 1;
  }
  return 0;
}

// Step 6: /\*[^!].*?\*/ removed.
void StripBlockComments(std::string_view q, std::string& out) {
  size_t i = 0;
  while (i < q.size()) {
    const size_t pos = q.find("/*", i);
    if (pos == std::string_view::npos || pos + 2 >= q.size()) break;
    if (q[pos + 2] == '!') {
      out.append(q.substr(i, pos + 1 - i));
      i = pos + 1;
      continue;
    }
    const size_t close = q.find("*/", pos + 3);
    if (close == std::string_view::npos) break;  // no later "/*" can close either
    out.append(q.substr(i, pos - i));
    i = close + 2;
  }
  out.append(q.substr(i));
}

// Step 7: (?:--|#)[^'"\r\n]*(?=[\r\n]|\Z) removed (pt_text.h).
void StripLineComments(std::string_view q, std::string& out) { StripPtLineComments(q, out); }

// Step 9a/9b: ([^\\])(\\Q) -> $1.
void DropEscapedQuoteAfterNonBackslash(std::string_view q, char quote, std::string& out) {
  size_t i = 0;
  while (i < q.size()) {
    if (i + 2 < q.size() && q[i] != '\\' && q[i + 1] == '\\' && q[i + 2] == quote) {
      out.push_back(q[i]);
      i += 3;
    } else {
      out.push_back(q[i]);
      ++i;
    }
  }
}

// Step 9c/9d/9e: the two-character sequence backslash + `second` removed.
void DropBackslashPair(std::string_view q, char second, std::string& out) {
  size_t i = 0;
  while (i < q.size()) {
    if (q[i] == '\\' && i + 1 < q.size() && q[i + 1] == second) {
      i += 2;
    } else {
      out.push_back(q[i]);
      ++i;
    }
  }
}

// Step 9f/9g: ([^\\])(Q.*?[^\\]?Q) -> $1?
void ReplaceQuoted(std::string_view q, char quote, std::string& out) {
  size_t i = 0;       // where the regex resumes
  size_t search = 1;  // an opening quote needs a character before it
  while (true) {
    const size_t open = q.find(quote, search);
    if (open == std::string_view::npos) break;
    if (q[open - 1] == '\\') {
      search = open + 1;
      continue;
    }
    const size_t e1 = q.find(quote, open + 1);
    if (e1 == std::string_view::npos) break;
    size_t end = e1;
    if (e1 == open + 1 || q[e1 - 1] == '\\') {
      if (e1 + 1 < q.size() && q[e1 + 1] == quote) end = e1 + 1;
    }
    out.append(q.substr(i, open - i));  // up to and including the [^\\] character
    out.push_back('?');
    i = end + 1;
    search = i + 1;
  }
  if (i < q.size()) out.append(q.substr(i));
}

// Step 10 at `pos`: \bfalse\b or \btrue\b (ci); the length matched or 0.
size_t BooleanAt(std::string_view s, size_t pos) {
  const char c = Lower(s[pos]);
  size_t len = 0;
  if (c == 't' && MatchesAt(s, pos, "true")) {
    len = 4;
  } else if (c == 'f' && MatchesAt(s, pos, "false")) {
    len = 5;
  } else {
    return 0;
  }
  if (!WordBoundaryBefore(s, pos) || !WordBoundaryAfter(s, pos + len)) return 0;
  return len;
}

void ReplaceBooleans(std::string_view q, std::string& out) {
  size_t i = 0;
  while (i < q.size()) {
    const size_t len = BooleanAt(q, i);
    if (len != 0) {
      out.push_back('?');
      i += len;
    } else {
      out.push_back(q[i]);
      ++i;
    }
  }
}

// Step 11: ([._-])[a-f0-9]{32} -> $1?
void ReplaceMd5Checksums(std::string_view q, std::string& out) {
  size_t i = 0;
  while (i < q.size()) {
    const char c = q[i];
    if ((c == '.' || c == '_' || c == '-') && q.size() - i > 32) {
      size_t k = 1;
      while (k <= 32 && IsHexLower(q[i + k])) ++k;
      if (k == 33) {
        out.push_back(c);
        out.push_back('?');
        i += 33;
        continue;
      }
    }
    out.push_back(c);
    ++i;
  }
}

// Steps 12-17 fused (and step 10 when `booleans` is set): numbers, their leftovers, leading
// whitespace, chomp, whitespace collapsing and lower-casing, in one pass.
//
// The output is written through a raw pointer into `out`, sized up front to the input's length:
// each input character gives at most one call of Emit4, which writes at most one character
// besides a newline held back by an earlier call that wrote none. Finish() trims `out`.
class MainPass {
 public:
  MainPass(std::string& out, size_t input_size, bool md5) : out_(out), md5_(md5) {
    out_.resize(input_size);
    begin_ = end_ = out_.data();
  }

  // A character of step 12's output (step 13 onwards).
  void Emit3(char c) {
    if (c == '?') {
      if (IsLeftover(last3_)) --end_;  // step 13; it is the last output character
      last3_ = '?';
      Emit4('?');
      return;
    }
    last3_ = c;
    Emit4(c);
  }

  // A "plain" character (IsPlainAt): steps 13-15 do nothing to it and 16-17 lower-case it.
  void EmitPlain(char c) {
    if (pending_newline_) {
      pending_newline_ = false;
      Squeeze('\n');
    }
    started_ = true;
    last3_ = c;
    *end_++ = Lower(c);
  }

  void Finish() {
    // A pending "\n" at the very end is what chomp removes.
    pending_newline_ = false;
    out_.resize(static_cast<size_t>(end_ - begin_));
  }

 private:
  bool IsLeftover(char c) const {
    return c == 'x' || c == 'b' || c == '+' || c == '-' || (!md5_ && c == '.');
  }
  void Emit4(char c) {
    if (!started_) {  // step 14
      if (IsSpace(c)) return;
      started_ = true;
    }
    if (pending_newline_) {  // step 15: only a final "\n" is chomped
      pending_newline_ = false;
      Squeeze('\n');
    }
    if (c == '\n') {
      pending_newline_ = true;
      return;
    }
    Squeeze(c);
  }
  void Squeeze(char c) {  // steps 16 and 17
    if (c == ' ' || c == '\n' || c == '\t' || c == '\r' || c == '\f') {
      if (end_ != begin_ && end_[-1] == ' ') return;
      *end_++ = ' ';
      return;
    }
    *end_++ = Lower(c);
  }

  std::string& out_;
  char* begin_;
  char* end_;
  bool md5_;
  char last3_ = '\0';
  bool started_ = false;
  bool pending_newline_ = false;
};

// The characters MainPass::EmitPlain takes: not whitespace (IsSpace), not '?', not a number's
// start, not a letter a boolean starts with (t, f: those are plain after a word character).
constexpr std::array<bool, 256> kPlain = [] {
  std::array<bool, 256> t{};
  for (int c = 0; c < 256; ++c) {
    const char ch = static_cast<char>(c);
    t[static_cast<size_t>(c)] = !IsSpace(ch) && ch != '?' && !IsNumberStart(ch) && ch != 't' &&
                                ch != 'T' && ch != 'f' && ch != 'F';
  }
  return t;
}();

// kPlain, or a 't' or 'f' after a word character (which starts no boolean: \b).
bool IsPlainAt(std::string_view q, size_t i) {
  const char c = q[i];
  return kPlain[static_cast<unsigned char>(c)] ||
         ((c == 't' || c == 'T' || c == 'f' || c == 'F') && i > 0 && IsWord(q[i - 1]));
}

// Steps 10 (optional), 12 and 13-17 over `q` (the output of step 9, or of step 11).
void NumbersAndWhitespace(std::string_view q, bool booleans, const FingerprintOptions& options,
                          std::string& out) {
  MainPass pass(out, q.size(), options.match_md5_checksums);
  const bool embedded = options.match_embedded_numbers;
  char prev = '\0';  // the previous character of step 12's input, for \b
  size_t i = 0;
  const size_t n = q.size();
  while (i < n) {
    const char c = q[i];
    // The common case first: a character no step before 16 touches.
    if (IsPlainAt(q, i)) {
      pass.EmitPlain(c);
      prev = c;
      ++i;
      continue;
    }
    if (booleans && (c == 't' || c == 'T' || c == 'f' || c == 'F')) {
      const size_t len = BooleanAt(q, i);
      if (len != 0) {
        pass.Emit3('?');
        prev = '?';
        i += len;
        continue;
      }
    }
    if (IsNumberStart(c) && (!embedded || IsWord(prev) != IsWord(c))) {
      size_t j = i + 1;
      while (j < n && IsNumberChar(q[j])) {
        // "-false": step 10 already turned the word into '?', which ends the number.
        if (booleans && q[j] == 'f' && BooleanAt(q, j) != 0) break;
        ++j;
      }
      pass.Emit3('?');
      prev = q[j - 1];
      i = j;
      continue;
    }
    pass.Emit3(c);
    prev = c;
    ++i;
  }
  pass.Finish();
}

// Step 18: \bnull\b -> ?
void ReplaceNulls(std::string_view q, std::string& out) {
  size_t i = 0;
  size_t copied = 0;
  for (size_t pos = q.find("null"); pos != std::string_view::npos; pos = q.find("null", i)) {
    if (WordBoundaryBefore(q, pos) && WordBoundaryAfter(q, pos + 4)) {
      out.append(q.substr(copied, pos - copied));
      out.push_back('?');
      copied = pos + 4;
      i = pos + 4;
    } else {
      i = pos + 1;
    }
  }
  out.append(q.substr(copied));
}

// Step 19: \b(in|values?)(?:[\s,]*\([\s?,]*\))+ -> $1(?+)
void CollapseLists(std::string_view q, std::string& out) {
  size_t i = 0;
  size_t copied = 0;
  const size_t n = q.size();
  while (i < n) {
    const char c = q[i];
    if ((c != 'i' && c != 'v') || !WordBoundaryBefore(q, i)) {
      ++i;
      continue;
    }
    size_t word = 0;
    if (c == 'i' && ExactAt(q, i, "in")) {
      word = 2;
    } else if (c == 'v' && ExactAt(q, i, "value")) {
      word = ExactAt(q, i, "values") ? 6 : 5;
    }
    if (word == 0) {
      ++i;
      continue;
    }
    auto lists_from = [&](size_t pos) {
      size_t end = pos;
      while (true) {
        size_t p = end;
        while (p < n && (IsSpace(q[p]) || q[p] == ',')) ++p;
        if (p >= n || q[p] != '(') break;
        ++p;
        while (p < n && (IsSpace(q[p]) || q[p] == ',' || q[p] == '?')) ++p;
        if (p >= n || q[p] != ')') break;
        end = p + 1;
      }
      return end;
    };
    size_t end = lists_from(i + word);
    if (end == i + word && word == 6) {  // values? backtracks to "value"
      word = 5;
      end = lists_from(i + word);
    }
    if (end == i + word) {
      ++i;
      continue;
    }
    out.append(q.substr(copied, i + word - copied));
    out.append("(?+)");
    copied = end;
    i = end;
  }
  out.append(q.substr(copied));
}

// Step 20: \b(select\s.*?)(?:(\sunion(?:\sall)?)\s\1)+ -> $1 /*repeat$2*/
// With `bounded` (abstract rule A15), a repetition must also end where a SELECT can end.
void CollapseUnionsImpl(std::string_view q, std::string& out, bool bounded) {
  const size_t n = q.size();
  auto select_ends_at = [&](size_t end) {
    if (end >= n || q[end] == ')' || q[end] == ';') return true;
    if (q[end] != ' ') return false;
    for (std::string_view w : {"union", "order", "limit", "for", "into", "lock"}) {
      if (ExactAt(q, end + 1, w) && WordBoundaryAfter(q, end + 1 + w.size())) return true;
    }
    return false;
  };
  size_t copied = 0;
  size_t i = 0;
  // One repetition of (\sunion(?:\sall)?)\s\1 at `pos`; its end, or npos.
  auto repetition = [&](size_t pos, std::string_view capture, std::string_view& sep) {
    if (pos >= n || !IsSpace(q[pos]) || !ExactAt(q, pos + 1, "union"))
      return std::string_view::npos;
    const size_t r = pos + 6;
    if (r + 4 < n && IsSpace(q[r]) && ExactAt(q, r + 1, "all") && IsSpace(q[r + 4]) &&
        ExactAt(q, r + 5, capture) && (!bounded || select_ends_at(r + 5 + capture.size()))) {
      sep = q.substr(pos, r + 4 - pos);
      return r + 5 + capture.size();
    }
    if (r < n && IsSpace(q[r]) && ExactAt(q, r + 1, capture) &&
        (!bounded || select_ends_at(r + 1 + capture.size()))) {
      sep = q.substr(pos, r - pos);
      return r + 1 + capture.size();
    }
    return std::string_view::npos;
  };
  while (i < n) {
    const size_t s = q.find("select", i);
    if (s == std::string_view::npos) break;
    if (!WordBoundaryBefore(q, s) || s + 6 >= n || !IsSpace(q[s + 6])) {
      i = s + 1;
      continue;
    }
    bool matched = false;
    // .*? : every candidate end of $1, shortest first; `.` does not match "\n".
    for (size_t f = q.find("union", s + 8); f != std::string_view::npos;
         f = q.find("union", f + 1)) {
      const size_t u = f - 1;
      if (!IsSpace(q[u])) continue;
      const std::string_view capture = q.substr(s, u - s);
      std::string_view sep;
      size_t end = repetition(u, capture, sep);
      if (end == std::string_view::npos) continue;
      for (size_t next = repetition(end, capture, sep); next != std::string_view::npos;
           next = repetition(end, capture, sep)) {
        end = next;
      }
      out.append(q.substr(copied, u - copied));
      out.append(" /*repeat");
      out.append(sep);
      out.append("*/");
      copied = end;
      i = end;
      matched = true;
      break;
    }
    if (!matched) i = s + 1;
  }
  out.append(q.substr(copied));
}
void CollapseUnions(std::string_view q, std::string& out) { CollapseUnionsImpl(q, out, false); }

// Step 21: the first \blimit \?(?:, ?\?| offset \?)? -> limit ?
void CollapseLimit(std::string_view q, std::string& out) {
  for (size_t pos = q.find("limit ?"); pos != std::string_view::npos;
       pos = q.find("limit ?", pos + 1)) {
    if (!WordBoundaryBefore(q, pos)) continue;
    size_t end = pos + 7;
    if (ExactAt(q, end, ", ?")) {
      end += 3;
    } else if (ExactAt(q, end, ",?")) {
      end += 2;
    } else if (ExactAt(q, end, " offset ?")) {
      end += 9;
    }
    out.append(q.substr(0, pos));
    out.append("limit ?");
    out.append(q.substr(end));
    return;
  }
  out.append(q);
}

// Step 22: after the first \border by , \G(.+?)\s+asc -> $1 repeatedly.
void DropOrderByAsc(std::string_view q, std::string& out) {
  size_t anchor = std::string_view::npos;
  for (size_t pos = q.find("order by "); pos != std::string_view::npos;
       pos = q.find("order by ", pos + 1)) {
    if (WordBoundaryBefore(q, pos)) {
      anchor = pos + 9;
      break;
    }
  }
  if (anchor == std::string_view::npos) {
    out.append(q);
    return;
  }
  size_t p = anchor;
  out.append(q.substr(0, p));
  const size_t n = q.size();
  while (p < n) {
    size_t found = std::string_view::npos;
    size_t after = 0;
    for (size_t w = p + 1; w < n && q[w - 1] != '\n'; ++w) {
      if (!IsSpace(q[w])) continue;
      const size_t a = SkipSpaces(q, w);
      if (ExactAt(q, a, "asc")) {
        found = w;
        after = a + 3;
        break;
      }
      w = a - 1;  // every start inside this run reaches the same non-space character
    }
    if (found == std::string_view::npos) break;
    out.append(q.substr(p, found - p));
    p = after;
  }
  out.append(q.substr(std::min(p, n)));
}

bool Contains(std::string_view s, std::string_view needle) {
  return s.find(needle) != std::string_view::npos;
}

// --- abstract mode (FingerprintOptions::abstract) --------------------------------------------
//
// dbrunbook's own fingerprint: one class per query shape. The statement is read the way MySQL's
// lexer reads it (in the default sql_mode: backslash escapes, "..." is a string) into tokens,
// the tokens are normalized, and the result is written with one canonical spacing. Rules (each
// names the pt quirk it fixes; examples are input -> abstract fingerprint):
//  A1. mysqldump SELECTs, pt-table-checksum statements and administrator commands: as pt
//      (steps 1-3).
//  A2. Comments: /* ... */ (also /**/; unterminated: to the end), `#` and `-- ` to the end of
//      the line, also when the line holds a quote, are removed; comment markers inside strings
//      and quoted identifiers are text. `--` starts a comment only before whitespace, a control
//      character or the end (MySQL's rule): `5--1` is 5 - -1. Version comments /*!NNNNN ... */
//      and MariaDB's /*M!NNNNNN ... */ lose their markers and version and their content is read
//      as SQL, as the server runs it. Optimizer hints /*+ ... */ are removed like comments.
//      (pt: `/**/` needs a later `*/`, a line comment holding a quote stays, `--` anywhere is a
//      comment, and comments inside strings are removed.)
//  A3. Strings: '...' and "..." (backslash escapes, doubled quotes) are one `?`: 'it''s', a
//      string starting the statement, an unterminated string (to the end). Adjacent strings,
//      which MySQL concatenates ('a' 'b'), are one `?`. Prefixed strings N'x', X'1F', B'01',
//      _utf8mb4'x' are one `?`. (pt: 'it''s' -> ?'s', X'1F' -> x?, _utf8mb4'x' -> _utf?m??.)
//  A4. Numbers are one `?`: 42, 4.2, .5, 5., 1e5, 1.5E-3, 0x1F, 0b0101, `?` placeholders. A word
//      starting with a digit that is not a number is an identifier (2fast, 123abc; 0XFF, since
//      MySQL's 0x prefix is lower case). (pt: 0x1F -> ?f, 1E5 -> ?e?, 2fast -> ?st.)
//  A5. A `-` or `+` where an operand is expected (at the start, after `(`, `,`, an operator or
//      a keyword such as SELECT, WHERE, AND, THEN, INTERVAL) before a literal belongs to the
//      literal: `= -5`, `+3`, `in (-1, 2)`, `interval -1 day`. A binary `-`/`+` stays an
//      operator: a-5 -> a - ?, a+5 -> a + ?. (pt: a-5 -> a?, a - 5 -> a ? ?, a*5 -> a*?.)
//  A6. Identifiers are never abstracted: tbl_2009, c1, db3.tbl_42, prices2.t1, 2fast stay (pt:
//      tbl_?, c?, d?tbl_?, prices?t?, ?st; with --match-embedded-numbers still ?st). After
//      `name.`, a word starting with a digit is a name too: t.5, db.2019_sales.
//  A7. Backticks are removed around a plain name (letters, digits, `_`, `$`, bytes >= 0x80; not
//      only digits; not a reserved word): `db`.`t` and db.t are one class. Other quoted names
//      keep them: `my table`, `order`. (pt keeps backticks, and abstracts numbers inside them.)
//  A8. Spacing: one space between tokens, none after `(`, before `)`, `,` or `;`, around `.`,
//      after a unary operator, or between a name (function, table) and `(`; one between a
//      clause keyword (FROM, JOIN, AND, AS, ...) and `(`. `id=1` and `id = 1`, `IN (1)` and
//      `in(1)`, `t (a,b)` and `t(a, b)` are one class each. (pt only squeezes whitespace runs;
//      \v is not even squeezed.)
//  A9. ASCII lower case, as pt; `!=` is written `<>`.
//  A10. NULL, TRUE and FALSE are `?`, except after IS, IS NOT or NOT: `is null`, `is not null`,
//      `is true` stay words (pt: `is ?` for all of them).
//  A11. IN lists: `in` and one parenthesized list of only literals (empty, one value, N values,
//      or tuples of literals: (a,b) in ((1,2),(3,4))) -> in(?+). (pt: tuples stay and split by
//      count.)
//  A12. VALUES/VALUE rows: rows of only literals, whether one or N rows (also ROW(...) rows),
//      -> values(?+). With expressions in a row, only the first row is kept. What follows the
//      rows (ON DUPLICATE KEY UPDATE, AS alias) stays for one row and for N rows. (pt cuts a
//      multi-row INSERT after its first row, so ON DUPLICATE KEY UPDATE classes split by row
//      count and merge with each other.)
//  A13. LIMIT: every `limit ?`, `limit ?, ?`, `limit ? offset ?` -> limit ? (pt: only the first
//      LIMIT of the statement).
//  A14. The keyword ASC is removed wherever it is (it is the default). (pt: after the first
//      ORDER BY, any " asc" text: `order by ascending` -> aending, `, ascii(a)` -> `,ii(a)`.)
//  A15. Repeated UNIONs: pt's step 20, but a repeated SELECT must end where it is repeated (at
//      the end, `)`, `;`, or before UNION, ORDER, LIMIT, FOR, INTO, LOCK). (pt: `select a from
//      t union select a from t2` -> `select a from t /*repeat union*/2`.)
//  A16. CALL p(...) -> `call p` (pt: `call p(f(1))` -> `call p(f`, `call p (1)` keeps its
//      arguments); USE db -> `use ?` also with a comment, backticks or `;`; trailing `;` and
//      whitespace go (pt: `select 1;` -> `select ?;`, `select 1\r\n` -> `select ? `).
//  A17. An integer that is a whole ORDER BY / GROUP BY item is a column position and stays:
//      `group by 1` and `group by 2` are different queries (pt: `group by ?` for both).
// match_md5_checksums applies pt's step 11 inside identifiers; match_embedded_numbers has no
// effect (A6).

constexpr bool IsNameChar(char c) {
  return IsWord(c) || c == '$' || static_cast<unsigned char>(c) >= 0x80;
}

enum class Tok : unsigned char {
  kWord,     // keyword, name, @variable (raw text)
  kQuoted,   // `quoted identifier` (raw text, backticks included)
  kLiteral,  // string, number, placeholder: written `?`
  kList,     // an abstracted list: written (?+)
  kOp,       // operator or other punctuation
  kLParen,
  kRParen,
  kComma,
  kDot,
  kSemi,
};

struct Token {
  Tok type;
  bool string = false;  // kLiteral: a quoted string (A3: adjacent ones merge)
  bool unary = false;   // kOp: written without a space after it
  bool keep = false;    // kLiteral: written as it is (A17: ORDER BY 2)
  std::string_view text;
};

// The ASCII-lower-case copy of a short word in `buf`; empty when it is too long to be a keyword.
std::string_view LowerWord(std::string_view word, std::array<char, 24>& buf) {
  if (word.size() > buf.size()) return {};
  for (size_t k = 0; k < word.size(); ++k) buf[k] = Lower(word[k]);
  return {buf.data(), word.size()};
}

// MySQL 8.0's reserved words (those that can precede an operand, a parenthesis, or be quoted
// names in practice), sorted for binary search.
// clang-format off
constexpr std::string_view kReserved[] = {
    "accessible", "add", "all", "alter", "analyze", "and", "as", "asc", "asensitive", "before",
    "between", "bigint", "binary", "blob", "both", "by", "call", "cascade", "case", "change",
    "char", "character", "check", "collate", "column", "condition", "constraint", "continue",
    "convert", "create", "cross", "cube", "cume_dist", "current_date", "current_time",
    "current_timestamp", "current_user", "cursor", "database", "databases", "day_hour",
    "day_microsecond", "day_minute", "day_second", "dec", "decimal", "declare", "default",
    "delayed", "delete", "dense_rank", "desc", "describe", "deterministic", "distinct",
    "distinctrow", "div", "double", "drop", "dual", "each", "else", "elseif", "empty", "enclosed",
    "escaped", "except", "exists", "exit", "explain", "false", "fetch", "first_value", "float",
    "for", "force", "foreign", "from", "fulltext", "function", "generated", "get", "grant", "group",
    "grouping", "groups", "having", "high_priority", "hour_microsecond", "hour_minute",
    "hour_second", "if", "ignore", "in", "index", "infile", "inner", "inout", "insensitive",
    "insert", "int", "integer", "intersect", "interval", "into", "is", "iterate", "join",
    "json_table", "key", "keys", "kill", "lag", "last_value", "lateral", "lead", "leading", "leave",
    "left", "like", "limit", "linear", "lines", "load", "localtime", "localtimestamp", "lock",
    "long", "loop", "low_priority", "match", "maxvalue", "mediumint", "minute_microsecond",
    "minute_second", "mod", "natural", "not", "nth_value", "ntile", "null", "numeric", "of", "on",
    "optimize", "option", "optionally", "or", "order", "out", "outer", "outfile", "over",
    "partition", "percent_rank", "precision", "primary", "procedure", "purge", "range", "rank",
    "read", "reads", "real", "recursive", "references", "regexp", "release", "rename", "repeat",
    "replace", "require", "restrict", "return", "revoke", "right", "rlike", "row", "row_number",
    "rows", "schema", "schemas", "select", "separator", "set", "show", "smallint", "spatial", "sql",
    "sql_calc_found_rows", "starting", "straight_join", "table", "terminated", "then", "tinyint",
    "to", "trailing", "trigger", "true", "union", "unique", "unlock", "unsigned", "update", "usage",
    "use", "using", "utc_date", "utc_time", "utc_timestamp", "values", "varchar", "when", "where",
    "while", "window", "with", "write", "xor", "year_month", "zerofill",
};
// clang-format on
static_assert(std::is_sorted(std::begin(kReserved), std::end(kReserved)));

bool IsReserved(std::string_view lower) {
  return std::binary_search(std::begin(kReserved), std::end(kReserved), lower);
}

// Reserved words that are values, not operators: a sign after them is binary (A5).
bool IsValueKeyword(std::string_view lower) {
  static constexpr std::string_view kValues[] = {
      "current_date", "current_time", "current_timestamp", "current_user", "dual",
      "false",        "localtime",    "localtimestamp",    "maxvalue",     "null",
      "true",         "utc_date",     "utc_time",          "utc_timestamp"};
  return std::find(std::begin(kValues), std::end(kValues), lower) != std::end(kValues);
}

// Keywords written with a space before `(` (A8); every other word is a name or function.
bool IsClauseKeyword(std::string_view lower) {
  static constexpr std::string_view kClause[] = {
      "all",  "and",  "as",    "between", "by",   "case",  "distinct", "else", "from", "having",
      "into", "is",   "join",  "key",     "like", "not",   "on",       "or",   "over", "select",
      "set",  "then", "union", "using",   "when", "where", "with",     "xor"};
  return std::find(std::begin(kClause), std::end(kClause), lower) != std::end(kClause);
}

bool WordIs(const Token& t, std::string_view lower_word) {
  return t.type == Tok::kWord && t.text.size() == lower_word.size() &&
         MatchesAt(t.text, 0, lower_word);
}

// The end of a quoted string or identifier opened at `open` (past the closing quote; the end of
// the text when unterminated). A doubled quote is an escaped quote; so is a backslash pair when
// `backslash`.
size_t QuotedEnd(std::string_view q, size_t open, bool backslash) {
  const char quote = q[open];
  size_t k = open + 1;
  while (k < q.size()) {
    if (backslash && q[k] == '\\') {
      k += 2;
    } else if (q[k] == quote) {
      if (k + 1 < q.size() && q[k + 1] == quote) {
        k += 2;
      } else {
        return k + 1;
      }
    } else {
      ++k;
    }
  }
  return q.size();
}

// A4: the end of the number starting at `i`, or 0 when the word there is an identifier.
size_t NumberEnd(std::string_view q, size_t i) {
  const size_t n = q.size();
  auto name_ends = [&](size_t k) { return k >= n || !IsNameChar(q[k]); };
  if (q[i] == '0' && i + 1 < n && (q[i + 1] == 'x' || q[i + 1] == 'b')) {
    const bool hex = q[i + 1] == 'x';
    size_t k = i + 2;
    while (k < n && (hex ? (IsDigit(q[k]) || (Lower(q[k]) >= 'a' && Lower(q[k]) <= 'f'))
                         : (q[k] == '0' || q[k] == '1'))) {
      ++k;
    }
    if (k > i + 2 && name_ends(k)) return k;
  }
  size_t k = i;
  while (k < n && IsDigit(q[k])) ++k;
  bool dot = false;
  if (k < n && q[k] == '.') {
    dot = true;
    ++k;
    while (k < n && IsDigit(q[k])) ++k;
  }
  if (k < n && (q[k] == 'e' || q[k] == 'E')) {
    size_t m = k + 1;
    if (m < n && (q[m] == '+' || q[m] == '-')) ++m;
    if (m < n && IsDigit(q[m])) {
      while (m < n && IsDigit(q[m])) ++m;
      k = m;
    }
  }
  if (!dot && !name_ends(k)) return 0;  // 2fast, 123abc, 0XFF: identifiers
  return k;
}

// Whether the `.` at `i` qualifies a name written right before it (t.5 is column 5 of t;
// `select .5` is a number).
bool QualifiesName(std::string_view q, size_t i) {
  return i > 0 && (IsNameChar(q[i - 1]) || q[i - 1] == '`');
}

// A2-A4: the statement as tokens.
void Lex(std::string_view q, std::vector<Token>& toks) {
  const size_t n = q.size();
  size_t i = 0;
  int version_comments = 0;
  auto push = [&](Tok type, size_t from, size_t to) {
    toks.push_back(Token{.type = type, .text = q.substr(from, to - from)});
  };
  while (i < n) {
    const char c = q[i];
    const char next = i + 1 < n ? q[i + 1] : '\0';
    if (IsSpace(c)) {
      ++i;
    } else if (c == '/' && next == '*') {
      size_t k = i + 2;
      size_t bang = std::string_view::npos;
      if (k < n && q[k] == '!') {
        bang = k;
      } else if (k + 1 < n && (q[k] == 'M' || q[k] == 'm') && q[k + 1] == '!') {
        bang = k + 1;
      }
      if (bang != std::string_view::npos) {
        k = bang + 1;
        while (k < n && IsDigit(q[k])) ++k;
        ++version_comments;
        i = k;
      } else {
        const size_t close = q.find("*/", i + 2);
        i = close == std::string_view::npos ? n : close + 2;
      }
    } else if (c == '*' && next == '/' && version_comments > 0) {
      --version_comments;
      i += 2;
    } else if (c == '#' || (c == '-' && next == '-' &&
                            (i + 2 >= n || static_cast<unsigned char>(q[i + 2]) <= ' '))) {
      const size_t eol = q.find('\n', i);
      i = eol == std::string_view::npos ? n : eol + 1;
    } else if (c == '\'' || c == '"') {
      const size_t end = QuotedEnd(q, i, true);
      push(Tok::kLiteral, i, end);
      toks.back().string = true;
      i = end;
    } else if (c == '`') {
      const size_t end = QuotedEnd(q, i, false);
      push(Tok::kQuoted, i, end);
      i = end;
    } else if (IsDigit(c) || (c == '.' && IsDigit(next) && !QualifiesName(q, i))) {
      // After `name.` a word starting with a digit is a name: db.2019_sales.
      const bool qualified =
          c != '.' && toks.size() >= 2 && toks.back().type == Tok::kDot &&
          (toks[toks.size() - 2].type == Tok::kWord || toks[toks.size() - 2].type == Tok::kQuoted);
      const size_t end = qualified ? 0 : NumberEnd(q, i);
      if (end != 0) {
        push(Tok::kLiteral, i, end);
        i = end;
      } else {
        size_t k = i;
        while (k < n && IsNameChar(q[k])) ++k;
        push(Tok::kWord, i, k);
        i = k;
      }
    } else if (IsNameChar(c) || c == '@') {
      size_t k = i + 1;
      if (c == '@' && k < n && q[k] == '@') ++k;
      if (c == '@' && k < n && (q[k] == '\'' || q[k] == '"' || q[k] == '`')) {
        k = QuotedEnd(q, k, q[k] != '`');
      } else {
        while (k < n && IsNameChar(q[k])) ++k;
      }
      // N'x', X'1F', B'01', _utf8mb4'x': one string literal.
      const std::string_view word = q.substr(i, k - i);
      const bool prefix =
          (word.size() == 1 && std::string_view("nNxXbB").find(c) != std::string_view::npos) ||
          (word.size() > 1 && c == '_');
      if (prefix && k < n && (q[k] == '\'' || q[k] == '"')) {
        const size_t end = QuotedEnd(q, k, true);
        push(Tok::kLiteral, i, end);
        toks.back().string = true;
        i = end;
      } else {
        push(k == i + 1 && c == '@' ? Tok::kOp : Tok::kWord, i, k);
        i = k;
      }
    } else if (c == '?') {
      push(Tok::kLiteral, i, i + 1);
      ++i;
    } else if (c == '(' || c == ')' || c == ',' || c == '.' || c == ';') {
      push(c == '('   ? Tok::kLParen
           : c == ')' ? Tok::kRParen
           : c == ',' ? Tok::kComma
           : c == '.' ? Tok::kDot
                      : Tok::kSemi,
           i, i + 1);
      ++i;
    } else {
      size_t len = 1;
      for (std::string_view op :
           {"<=>", "->>", "<=", ">=", "<>", "!=", "<<", ">>", ":=", "||", "&&", "->"}) {
        if (ExactAt(q, i, op)) {
          len = op.size();
          break;
        }
      }
      push(Tok::kOp, i, i + len);
      i += len;
    }
  }
}

// A5: whether an operand is expected after `prev`.
bool OperandExpected(const std::vector<Token>& out) {
  if (out.empty()) return true;
  const Token& prev = out.back();
  switch (prev.type) {
    case Tok::kOp:
    case Tok::kLParen:
    case Tok::kComma:
    case Tok::kSemi:
    case Tok::kDot:
      return true;
    case Tok::kWord: {
      std::array<char, 24> buf{};
      const std::string_view lower = LowerWord(prev.text, buf);
      return IsReserved(lower) && !IsValueKeyword(lower);
    }
    default:
      return false;
  }
}

// A3, A5, A9, A10, A14: the token-by-token rules.
void NormalizeTokens(const std::vector<Token>& in, std::vector<Token>& out) {
  for (size_t k = 0; k < in.size(); ++k) {
    Token t = in[k];
    if (t.type == Tok::kWord) {
      if (WordIs(t, "asc")) continue;
      if (WordIs(t, "null") || WordIs(t, "true") || WordIs(t, "false")) {
        const bool keep = !out.empty() && (WordIs(out.back(), "is") || WordIs(out.back(), "not"));
        if (!keep) t = Token{.type = Tok::kLiteral, .text = "?"};
      }
    } else if (t.type == Tok::kLiteral) {
      if (t.string && !out.empty() && out.back().type == Tok::kLiteral && out.back().string) {
        continue;  // 'a' 'b'
      }
    } else if (t.type == Tok::kOp) {
      if (t.text == "!=") t.text = "<>";
      const bool sign = t.text == "-" || t.text == "+";
      if ((sign || t.text == "~" || t.text == "!") && OperandExpected(out)) {
        if (sign) {
          size_t j = k + 1;
          while (j < in.size() && in[j].type == Tok::kOp &&
                 (in[j].text == "-" || in[j].text == "+")) {
            ++j;
          }
          if (j < in.size() && in[j].type == Tok::kLiteral) {
            k = j - 1;  // the signs belong to the literal
            continue;
          }
          for (; k + 1 < j; ++k) {  // unary signs before something else: - -a
            out.push_back(in[k]);
            out.back().unary = true;
          }
          t = in[k];
        }
        t.unary = true;
      }
    }
    out.push_back(t);
  }
}

// A11/A12: the end (past its `)`) of a parenthesized group at `open` holding only literals,
// commas and such groups; npos if it holds anything else.
size_t LiteralGroupEnd(const std::vector<Token>& toks, size_t open) {
  int depth = 0;
  for (size_t k = open; k < toks.size(); ++k) {
    switch (toks[k].type) {
      case Tok::kLParen:
        ++depth;
        break;
      case Tok::kRParen:
        if (--depth == 0) return k + 1;
        break;
      case Tok::kLiteral:
      case Tok::kComma:
        break;
      default:
        return std::string_view::npos;
    }
  }
  return std::string_view::npos;
}

// For each `(`, the index past its `)` (npos when it is not closed); linear, so that nested
// VALUES( ... ) groups cannot make the list rules quadratic.
void MatchParens(const std::vector<Token>& toks, std::vector<size_t>& ends) {
  ends.assign(toks.size(), std::string_view::npos);
  thread_local std::vector<size_t> open;
  open.clear();
  for (size_t k = 0; k < toks.size(); ++k) {
    if (toks[k].type == Tok::kLParen) {
      open.push_back(k);
    } else if (toks[k].type == Tok::kRParen && !open.empty()) {
      ends[open.back()] = k + 1;
      open.pop_back();
    }
  }
}

// A17: an integer that is a whole ORDER BY / GROUP BY item is a column position, kept.
void KeepPositions(std::vector<Token>& toks) {
  const size_t n = toks.size();
  int depth = 0;
  int list_depth = -1;  // the depth of the BY list we are in, or -1
  bool item_start = false;
  for (size_t k = 0; k < n; ++k) {
    Token& t = toks[k];
    const bool was_item_start = item_start;
    item_start = false;
    if (t.type == Tok::kLParen) {
      ++depth;
    } else if (t.type == Tok::kRParen) {
      --depth;
      if (list_depth > depth) list_depth = -1;
    } else if (t.type == Tok::kComma) {
      item_start = list_depth == depth;
    } else if (t.type == Tok::kWord) {
      if (WordIs(t, "by") && k > 0 &&
          (WordIs(toks[k - 1], "order") || WordIs(toks[k - 1], "group"))) {
        list_depth = depth;
        item_start = true;
      } else if (list_depth == depth) {
        for (std::string_view end : {"limit", "having", "window", "union", "except", "intersect",
                                     "for", "into", "lock", "with", "procedure", "from", "where"}) {
          if (WordIs(t, end)) list_depth = -1;
        }
      }
    } else if (t.type == Tok::kLiteral && was_item_start && !t.text.empty() &&
               std::all_of(t.text.begin(), t.text.end(), IsDigit)) {
      const Tok next = k + 1 < n ? toks[k + 1].type : Tok::kSemi;
      t.keep =
          next == Tok::kComma || next == Tok::kRParen || next == Tok::kSemi || next == Tok::kWord;
    }
  }
}

// A11-A13: lists and LIMIT.
void CollapseTokenLists(const std::vector<Token>& in, std::vector<Token>& out) {
  const size_t n = in.size();
  thread_local std::vector<size_t> group_end;
  MatchParens(in, group_end);
  auto is = [&](size_t k, Tok type) { return k < n && in[k].type == type; };
  for (size_t k = 0; k < n; ++k) {
    const Token& t = in[k];
    out.push_back(t);
    if (t.type != Tok::kWord) continue;
    if (WordIs(t, "in") && is(k + 1, Tok::kLParen)) {
      const size_t end = LiteralGroupEnd(in, k + 1);
      if (end != std::string_view::npos) {
        out.push_back(Token{.type = Tok::kList, .text = "(?+)"});
        k = end - 1;
      }
    } else if (WordIs(t, "values") || WordIs(t, "value")) {
      const bool row = k + 1 < n && WordIs(in[k + 1], "row");
      const size_t first = k + 1 + (row ? 1 : 0);
      if (!is(first, Tok::kLParen)) continue;
      // The rows: `(...)` (or `row(...)`) separated by commas.
      bool literal = true;
      size_t open = first;
      size_t end = std::string_view::npos;  // past the last complete row
      size_t first_end = std::string_view::npos;
      while (true) {
        const size_t e = group_end[open];
        if (e == std::string_view::npos) break;
        literal = literal && LiteralGroupEnd(in, open) == e;
        if (first_end == std::string_view::npos) first_end = e;
        end = e;
        const size_t next = end + 1 + (row ? 1 : 0);
        if (!is(end, Tok::kComma) || !is(next, Tok::kLParen) ||
            (row && !WordIs(in[end + 1], "row"))) {
          break;
        }
        open = next;
      }
      if (first_end == std::string_view::npos) continue;
      if (row) out.push_back(in[k + 1]);
      if (literal) {
        out.push_back(Token{.type = Tok::kList, .text = "(?+)"});
      } else {
        out.insert(out.end(), in.begin() + static_cast<std::ptrdiff_t>(first),
                   in.begin() + static_cast<std::ptrdiff_t>(first_end));
      }
      k = end - 1;
    } else if (WordIs(t, "limit") && is(k + 1, Tok::kLiteral)) {
      out.push_back(in[k + 1]);
      k += 1;
      // `, ?` or `offset ?`: the offset goes.
      const bool offset = is(k + 1, Tok::kComma) || (k + 1 < n && WordIs(in[k + 1], "offset"));
      if (offset && is(k + 2, Tok::kLiteral)) k += 2;
    }
  }
}

// A7: a backticked name written without its backticks.
bool PlainName(std::string_view quoted) {
  if (quoted.size() < 3 || quoted.back() != '`') return false;
  const std::string_view name = quoted.substr(1, quoted.size() - 2);
  bool digits_only = true;
  for (char c : name) {
    if (!IsNameChar(c)) return false;
    digits_only = digits_only && IsDigit(c);
  }
  std::array<char, 24> buf{};
  const std::string_view lower = LowerWord(name, buf);
  return !digits_only && (lower.empty() || !IsReserved(lower));
}

// A6 with match_md5_checksums: pt's step 11 inside one name (`after_dot`: a `.` precedes it).
void AppendName(std::string_view name, bool md5, bool after_dot, std::string& out) {
  size_t k = 0;
  while (k < name.size()) {
    const bool start =
        k == 0 ? after_dot : (name[k - 1] == '.' || name[k - 1] == '_' || name[k - 1] == '-');
    if (md5 && start && name.size() - k >= 32) {
      size_t m = 0;
      while (m < 32 && IsHexLower(name[k + m])) ++m;
      if (m == 32) {
        out.push_back('?');
        k += 32;
        continue;
      }
    }
    out.push_back(Lower(name[k]));
    ++k;
  }
}

// A8: whether a space goes between `prev` and `cur`.
bool SpaceBetween(const Token& prev, const Token& cur) {
  switch (cur.type) {
    case Tok::kComma:
    case Tok::kRParen:
    case Tok::kSemi:
    case Tok::kDot:
    case Tok::kList:
      return false;
    default:
      break;
  }
  if (prev.type == Tok::kLParen || prev.type == Tok::kDot ||
      (prev.type == Tok::kOp && prev.unary)) {
    return false;
  }
  if (cur.type == Tok::kLParen) {
    if (prev.type == Tok::kQuoted) return false;
    if (prev.type == Tok::kWord) {
      std::array<char, 24> buf{};
      return IsClauseKeyword(LowerWord(prev.text, buf));
    }
  }
  return true;
}

void WriteTokens(const std::vector<Token>& toks, bool md5, std::string& out) {
  for (size_t k = 0; k < toks.size(); ++k) {
    const Token& t = toks[k];
    if (k > 0 && SpaceBetween(toks[k - 1], t)) out.push_back(' ');
    const bool after_dot = k > 0 && toks[k - 1].type == Tok::kDot;
    switch (t.type) {
      case Tok::kLiteral:
        if (t.keep) {
          out.append(t.text);
        } else {
          out.push_back('?');
        }
        break;
      case Tok::kWord:
        AppendName(t.text, md5, after_dot, out);
        break;
      case Tok::kQuoted:
        if (PlainName(t.text)) {
          AppendName(t.text.substr(1, t.text.size() - 2), md5, after_dot, out);
        } else {
          AppendName(t.text, md5, false, out);
        }
        break;
      default:
        out.append(t.text);
        break;
    }
  }
}

// A16: CALL and USE; false when the statement is neither.
bool CallOrUse(const std::vector<Token>& toks, bool md5, std::string& out) {
  if (toks.size() < 2) return false;
  const auto is_name = [&](size_t k) {
    return k < toks.size() && (toks[k].type == Tok::kWord || toks[k].type == Tok::kQuoted);
  };
  if (WordIs(toks[0], "use") && toks.size() == 2 && is_name(1)) {
    out = "use ?";
    return true;
  }
  if (!WordIs(toks[0], "call") || !is_name(1)) return false;
  size_t end = 2;
  while (end + 1 < toks.size() && toks[end].type == Tok::kDot && is_name(end + 1)) end += 2;
  const std::vector<Token> call(toks.begin(), toks.begin() + static_cast<std::ptrdiff_t>(end));
  WriteTokens(call, md5, out);
  return true;
}

void AbstractFingerprintInto(std::string_view query, const FingerprintOptions& options,
                             std::string& out) {
  thread_local std::vector<Token> lexed;
  thread_local std::vector<Token> normal;
  thread_local std::vector<Token> collapsed;
  lexed.clear();
  normal.clear();
  collapsed.clear();
  Lex(query, lexed);
  while (!lexed.empty() && lexed.back().type == Tok::kSemi) lexed.pop_back();
  const bool md5 = options.match_md5_checksums;
  if (CallOrUse(lexed, md5, out)) return;
  NormalizeTokens(lexed, normal);
  KeepPositions(normal);
  CollapseTokenLists(normal, collapsed);
  thread_local std::string text;
  text.clear();
  text.reserve(query.size());
  WriteTokens(collapsed, md5, text);
  if (Contains(text, "union")) {
    CollapseUnionsImpl(text, out, true);
  } else {
    out.assign(text);
  }
}

}  // namespace

void FingerprintInto(std::string_view query, const FingerprintOptions& options, std::string& out) {
  out.clear();
  if (query.starts_with("SELECT /*!40001 SQL_NO_CACHE */ * FROM `")) {
    out = "mysqldump";
    return;
  }
  if (HasToolkitChecksumComment(query)) {
    out = "percona-toolkit";
    return;
  }
  if (query.starts_with("administrator command: ")) {
    out.assign(query);
    return;
  }
  if (options.abstract) {
    AbstractFingerprintInto(query, options, out);
    return;
  }
  size_t call_start = 0;
  size_t call_end = 0;
  if (MatchCall(query, call_start, call_end)) {
    for (size_t k = call_start; k < call_end; ++k) out.push_back(Lower(query[k]));
    return;
  }
  if (const size_t keep = MultiRowInsertPrefix(query); keep != 0) query = query.substr(0, keep);

  thread_local std::string scratch_a;
  thread_local std::string scratch_b;
  Passes passes(query, scratch_a, scratch_b);
  auto run = [&](auto&& pass) {
    std::string& next = passes.Next();
    pass(passes.cur(), next);
    passes.Done(next);
  };

  if (Contains(passes.cur(), "/*")) run(StripBlockComments);
  {
    const std::string_view q = passes.cur();
    if (q.find('#') != std::string_view::npos || Contains(q, "--")) run(StripLineComments);
  }
  {
    // Step 8: \Ause \S+\Z (ci).
    const std::string_view q = passes.cur();
    if (MatchesAt(q, 0, "use ")) {
      size_t k = 4;
      while (k < q.size() && !IsSpace(q[k])) ++k;
      if (k > 4 && (k == q.size() || (k + 1 == q.size() && q[k] == '\n'))) {
        out = "use ?";
        out.append(q.substr(k));
        return;
      }
    }
  }
  if (passes.cur().find('\\') != std::string_view::npos) {
    run([](std::string_view q, std::string& o) { DropEscapedQuoteAfterNonBackslash(q, '\'', o); });
    run([](std::string_view q, std::string& o) { DropEscapedQuoteAfterNonBackslash(q, '"', o); });
    run([](std::string_view q, std::string& o) { DropBackslashPair(q, '\\', o); });
    run([](std::string_view q, std::string& o) { DropBackslashPair(q, '\'', o); });
    run([](std::string_view q, std::string& o) { DropBackslashPair(q, '"', o); });
  }
  if (passes.cur().find('"') != std::string_view::npos) {
    run([](std::string_view q, std::string& o) { ReplaceQuoted(q, '"', o); });
  }
  if (passes.cur().find('\'') != std::string_view::npos) {
    run([](std::string_view q, std::string& o) { ReplaceQuoted(q, '\'', o); });
  }
  bool booleans_inline = true;
  if (options.match_md5_checksums) {
    run(ReplaceBooleans);
    run(ReplaceMd5Checksums);
    booleans_inline = false;
  }
  run([&](std::string_view q, std::string& o) {
    NumbersAndWhitespace(q, booleans_inline, options, o);
  });
  if (Contains(passes.cur(), "null")) run(ReplaceNulls);
  if (passes.cur().find('(') != std::string_view::npos) run(CollapseLists);
  if (Contains(passes.cur(), "union")) run(CollapseUnions);
  if (Contains(passes.cur(), "limit ?")) run(CollapseLimit);
  if (Contains(passes.cur(), "order by ")) run(DropOrderByAsc);
  out.assign(passes.cur());
}

namespace {

// One character of DigitRunKey: false on the start of a comment ("/*").
inline bool DigitRunStep(char c, char* out, std::size_t& o, char& prev) {
  if (IsDigit(c)) {
    if (!IsDigit(prev)) out[o++] = '0';
  } else {
    if (c == '*' && prev == '/') return false;  // a comment
    out[o++] = c;
  }
  prev = c;
  return true;
}

#if defined(__x86_64__)
// For each 8-bit mask of bytes to keep: the PSHUFB indices that move them to the front.
constexpr std::array<std::array<std::uint8_t, 8>, 256> kPackIndices = [] {
  std::array<std::array<std::uint8_t, 8>, 256> t{};
  for (std::size_t m = 0; m < 256; ++m) {
    std::size_t o = 0;
    for (std::uint8_t b = 0; b < 8; ++b) {
      if (((m >> b) & 1) != 0) t[m][o++] = b;
    }
    for (; o < 8; ++o) t[m][o] = 0x80;  // (a zero byte)
  }
  return t;
}();

bool HaveSsse3() {
  static const bool kHave = [] {
    __builtin_cpu_init();
    return __builtin_cpu_supports("ssse3") != 0 && __builtin_cpu_supports("popcnt") != 0;
  }();
  return kHave;
}

// DigitRunKey's 16-byte blocks: in a block with digits, each digit becomes '0' and the bytes
// to keep (non-digits, and the first digit of each run) are packed with PSHUFB, eight bytes
// at a time. A block with a '*' goes character by character (a comment may start there).
__attribute__((target("ssse3,popcnt"))) bool DigitRunBlocksSsse3(const char* q, std::size_t n,
                                                                 char* out, std::size_t& i,
                                                                 std::size_t& o, char& prev) {
  const __m128i below0 = _mm_set1_epi8('0' - 1), above9 = _mm_set1_epi8('9' + 1);
  const __m128i star = _mm_set1_epi8('*'), zero = _mm_set1_epi8('0');
  const __m128i high_half = _mm_set_epi64x(0x0808080808080808LL, 0);
  for (; i + 16 <= n; i += 16) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(q + i));
    const __m128i digits = _mm_and_si128(_mm_cmpgt_epi8(v, below0), _mm_cmplt_epi8(v, above9));
    const auto d = static_cast<unsigned>(_mm_movemask_epi8(digits));
    if (_mm_movemask_epi8(_mm_cmpeq_epi8(v, star)) != 0) {
      for (std::size_t k = i; k < i + 16; ++k) {
        if (!DigitRunStep(q[k], out, o, prev)) return false;
      }
      continue;
    }
    if (d == 0) {
      _mm_storeu_si128(reinterpret_cast<__m128i*>(out + o), v);
      o += 16;
    } else {
      const unsigned starts = d & ~((d << 1) | (IsDigit(prev) ? 1U : 0U));
      const unsigned keep = (~d & 0xFFFFU) | starts;
      const __m128i w = _mm_or_si128(_mm_andnot_si128(digits, v), _mm_and_si128(digits, zero));
      std::uint64_t lo_idx = 0, hi_idx = 0;
      std::memcpy(&lo_idx, kPackIndices[keep & 0xFF].data(), 8);
      std::memcpy(&hi_idx, kPackIndices[keep >> 8].data(), 8);
      const __m128i idx = _mm_add_epi8(
          _mm_set_epi64x(static_cast<long long>(hi_idx), static_cast<long long>(lo_idx)),
          high_half);  // (0x80 + 8 still has its high bit: still a zero byte)
      const __m128i packed = _mm_shuffle_epi8(w, idx);
      const auto lo = static_cast<std::size_t>(__builtin_popcount(keep & 0xFF));
      // (o <= i: the 8 bytes written at o + lo end by i + 16 <= n, inside the key)
      _mm_storel_epi64(reinterpret_cast<__m128i*>(out + o), packed);
      _mm_storel_epi64(reinterpret_cast<__m128i*>(out + o + lo),
                       _mm_unpackhi_epi64(packed, packed));
      o += lo + static_cast<std::size_t>(__builtin_popcount(keep >> 8));
    }
    prev = q[i + 15];
  }
  return true;
}
#endif

}  // namespace

bool DigitRunKey(std::string_view query, std::string& key) {
  const std::size_t n = query.size();
  key.resize(n);
  char* out = key.data();
  std::size_t o = 0;
  char prev = 0;
  std::size_t i = 0;
#if defined(__x86_64__)
  if (HaveSsse3()) {
    if (!DigitRunBlocksSsse3(query.data(), n, out, i, o, prev)) return false;
  }
#endif
#if defined(__SSE2__)
  // 16 bytes at a time: a block without a digit or '*' (most of a statement) is copied.
  const __m128i below0 = _mm_set1_epi8('0' - 1), above9 = _mm_set1_epi8('9' + 1);
  const __m128i star = _mm_set1_epi8('*');
  for (; i + 16 <= n; i += 16) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(query.data() + i));
    const __m128i digit = _mm_and_si128(_mm_cmpgt_epi8(v, below0), _mm_cmplt_epi8(v, above9));
    if (_mm_movemask_epi8(_mm_or_si128(digit, _mm_cmpeq_epi8(v, star))) == 0) {
      _mm_storeu_si128(reinterpret_cast<__m128i*>(out + o), v);
      o += 16;
      prev = query[i + 15];
      continue;
    }
    for (std::size_t k = i; k < i + 16; ++k) {
      if (!DigitRunStep(query[k], out, o, prev)) return false;
    }
  }
#endif
  for (; i < n; ++i) {
    if (!DigitRunStep(query[i], out, o, prev)) return false;
  }
  key.resize(o);
  // \A\s*call (any case; pt's rule needs \s after it: refusing more is safe), and
  // \Aadministrator command:
  std::size_t k = 0;
  while (k < o && IsSpace(key[k])) ++k;
  if (o - k >= 4 && Lower(key[k]) == 'c' && Lower(key[k + 1]) == 'a' && Lower(key[k + 2]) == 'l' &&
      Lower(key[k + 3]) == 'l') {
    return false;
  }
  return !std::string_view(key).starts_with("administrator command:") && o > 0;
}

std::string Fingerprint(std::string_view query, const FingerprintOptions& options) {
  std::string out;
  FingerprintInto(query, options, out);
  return out;
}

std::vector<SqlToken> Tokenize(std::string_view query) {
  std::vector<Token> lexed;
  Lex(query, lexed);
  std::vector<SqlToken> out;
  out.reserve(lexed.size());
  for (const Token& t : lexed) {
    SqlToken token;
    token.text = t.text;
    token.string = t.string;
    switch (t.type) {
      case Tok::kWord:
        token.kind = SqlTokenKind::kWord;
        break;
      case Tok::kQuoted:
        token.kind = SqlTokenKind::kQuoted;
        break;
      case Tok::kLiteral:
      case Tok::kList:
        token.kind = SqlTokenKind::kLiteral;
        break;
      case Tok::kOp:
        token.kind = SqlTokenKind::kOperator;
        break;
      case Tok::kLParen:
        token.kind = SqlTokenKind::kLParen;
        break;
      case Tok::kRParen:
        token.kind = SqlTokenKind::kRParen;
        break;
      case Tok::kComma:
        token.kind = SqlTokenKind::kComma;
        break;
      case Tok::kDot:
        token.kind = SqlTokenKind::kDot;
        break;
      case Tok::kSemi:
        token.kind = SqlTokenKind::kSemicolon;
        break;
    }
    out.push_back(token);
  }
  return out;
}

std::string QueryId(std::string_view fingerprint) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int len = 0;
  if (EVP_Digest(fingerprint.data(), fingerprint.size(), digest.data(), &len, EVP_md5(), nullptr) !=
      1) {
    return {};
  }
  static constexpr std::string_view kHex = "0123456789ABCDEF";
  std::string id;
  id.reserve(2 * static_cast<size_t>(len));
  for (unsigned int k = 0; k < len; ++k) {
    id.push_back(kHex[digest[k] >> 4]);
    id.push_back(kHex[digest[k] & 0x0F]);
  }
  return id;
}

std::string QueryIdShort(std::string_view fingerprint) {
  std::string id = QueryId(fingerprint);
  return id.size() > 16 ? id.substr(id.size() - 16) : id;
}

void StripPtLineComments(std::string_view q, std::string& out) {
  size_t i = 0;
  size_t copied = 0;
  while (i < q.size()) {
    size_t body = 0;
    if (q[i] == '#') {
      body = i + 1;
    } else if (q[i] == '-' && i + 1 < q.size() && q[i + 1] == '-') {
      body = i + 2;
    } else {
      ++i;
      continue;
    }
    size_t k = body;
    while (k < q.size() && q[k] != '\'' && q[k] != '"' && q[k] != '\r' && q[k] != '\n') ++k;
    if (k < q.size() && (q[k] == '\'' || q[k] == '"')) {
      // No start before the quote can match either: they all run into the same quote.
      i = k + 1;
      continue;
    }
    out.append(q.substr(copied, i - copied));
    copied = k;
    i = k;
  }
  out.append(q.substr(copied));
}

}  // namespace dbrunbook::digest
