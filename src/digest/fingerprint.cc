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
#include "digest/fingerprint.h"

#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstring>
#include <string>
#include <string_view>
#include <utility>

namespace dbrunbook::digest {
namespace {

constexpr bool IsSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}
constexpr bool IsDigit(char c) { return c >= '0' && c <= '9'; }
constexpr bool IsWord(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || IsDigit(c) || c == '_';
}
constexpr char Lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; }
constexpr bool IsHexLower(char c) { return IsDigit(c) || (c >= 'a' && c <= 'f'); }
// Step 12: the characters a "number" continues with.
constexpr bool IsNumberChar(char c) {
  return IsHexLower(c) || c == '.' || c == 'x' || c == 'b' || c == '+' || c == '-';
}
constexpr bool IsNumberStart(char c) { return IsDigit(c) || c == '+' || c == '-'; }

// Case-insensitive comparison of s[pos...] with a lower-case ASCII word.
bool MatchesAt(std::string_view s, size_t pos, std::string_view lower_word) {
  if (pos > s.size() || s.size() - pos < lower_word.size()) return false;
  for (size_t k = 0; k < lower_word.size(); ++k) {
    if (Lower(s[pos + k]) != lower_word[k]) return false;
  }
  return true;
}
bool ExactAt(std::string_view s, size_t pos, std::string_view word) {
  return pos <= s.size() && s.size() - pos >= word.size() && s.compare(pos, word.size(), word) == 0;
}
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

// Step 7: (?:--|#)[^'"\r\n]*(?=[\r\n]|\Z) removed.
void StripLineComments(std::string_view q, std::string& out) {
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
class MainPass {
 public:
  MainPass(std::string& out, bool md5) : out_(out), md5_(md5) {}

  // A character of step 12's output (step 13 onwards).
  void Emit3(char c) {
    if (c == '?') {
      if (IsLeftover(last3_)) out_.pop_back();  // step 13; it is the last output character
      last3_ = '?';
      Emit4('?');
      return;
    }
    last3_ = c;
    Emit4(c);
  }

  void Finish() {
    // A pending "\n" at the very end is what chomp removes.
    pending_newline_ = false;
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
      if (!out_.empty() && out_.back() == ' ') return;
      out_.push_back(' ');
      return;
    }
    out_.push_back(Lower(c));
  }

  std::string& out_;
  bool md5_;
  char last3_ = '\0';
  bool started_ = false;
  bool pending_newline_ = false;
};

// Steps 10 (optional), 12 and 13-17 over `q` (the output of step 9, or of step 11).
void NumbersAndWhitespace(std::string_view q, bool booleans, const FingerprintOptions& options,
                          std::string& out) {
  MainPass pass(out, options.match_md5_checksums);
  const bool embedded = options.match_embedded_numbers;
  char prev = '\0';  // the previous character of step 12's input, for \b
  size_t i = 0;
  const size_t n = q.size();
  while (i < n) {
    const char c = q[i];
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
void CollapseUnions(std::string_view q, std::string& out) {
  const size_t n = q.size();
  size_t copied = 0;
  size_t i = 0;
  // One repetition of (\sunion(?:\sall)?)\s\1 at `pos`; its end, or npos.
  auto repetition = [&](size_t pos, std::string_view capture, std::string_view& sep) {
    if (pos >= n || !IsSpace(q[pos]) || !ExactAt(q, pos + 1, "union"))
      return std::string_view::npos;
    const size_t r = pos + 6;
    if (r + 4 < n && IsSpace(q[r]) && ExactAt(q, r + 1, "all") && IsSpace(q[r + 4]) &&
        ExactAt(q, r + 5, capture)) {
      sep = q.substr(pos, r + 4 - pos);
      return r + 5 + capture.size();
    }
    if (r < n && IsSpace(q[r]) && ExactAt(q, r + 1, capture)) {
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
    o.reserve(q.size());
    NumbersAndWhitespace(q, booleans_inline, options, o);
  });
  if (Contains(passes.cur(), "null")) run(ReplaceNulls);
  if (passes.cur().find('(') != std::string_view::npos) run(CollapseLists);
  if (Contains(passes.cur(), "union")) run(CollapseUnions);
  if (Contains(passes.cur(), "limit ?")) run(CollapseLimit);
  if (Contains(passes.cur(), "order by ")) run(DropOrderByAsc);
  out.assign(passes.cur());
}

std::string Fingerprint(std::string_view query, const FingerprintOptions& options) {
  std::string out;
  FingerprintInto(query, options, out);
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

}  // namespace dbrunbook::digest
