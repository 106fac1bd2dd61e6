// Text helpers that several parts of src/digest share (internal to the module): the reader,
// the aggregator and the Percona Toolkit ports (fingerprint, QueryParser).
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace dbrunbook::digest {

// Perl's s/(?:--|#)[^'"\r\n]*(?=[\r\n]|\Z)//g (QueryRewriter::fingerprint's step 7 and
// QueryParser's comment removal): a "--" or "#" whose rest of line holds no quote is removed
// with that rest. Appends the result to `out`.
void StripPtLineComments(std::string_view q, std::string& out);

// ASCII lower case of one byte (other bytes unchanged, as Perl's lc without locale).
constexpr char AsciiLower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; }

// Whether s[pos...] starts with `lower_word`, ASCII case-insensitively.
inline bool MatchesAt(std::string_view s, std::size_t pos, std::string_view lower_word) {
  if (pos > s.size() || s.size() - pos < lower_word.size()) return false;
  for (std::size_t k = 0; k < lower_word.size(); ++k) {
    if (AsciiLower(s[pos + k]) != lower_word[k]) return false;
  }
  return true;
}
// Whether s[pos...] starts with `word` exactly.
inline bool ExactAt(std::string_view s, std::size_t pos, std::string_view word) {
  return pos <= s.size() && s.size() - pos >= word.size() && s.compare(pos, word.size(), word) == 0;
}

// a == b for short texts (names, users, hosts): two overlapping 8- or 4-byte loads instead of a
// memcmp call, which costs more than such a comparison; memcmp for texts over 16 bytes.
__attribute__((always_inline)) inline bool SameText(std::string_view a, std::string_view b) {
  const std::size_t n = a.size();
  if (n != b.size()) return false;
  const char* x = a.data();
  const char* y = b.data();
  if (n > 16) return std::memcmp(x, y, n) == 0;  // (long texts: the library's vector compare)
  // Equal first and last `Word`s (they overlap when n < 2 * sizeof(Word)).
  auto same_ends = [&](auto word) {
    using Word = decltype(word);
    Word x0 = 0, x1 = 0, y0 = 0, y1 = 0;
    std::memcpy(&x0, x, sizeof(Word));
    std::memcpy(&y0, y, sizeof(Word));
    std::memcpy(&x1, x + n - sizeof(Word), sizeof(Word));
    std::memcpy(&y1, y + n - sizeof(Word), sizeof(Word));
    return x0 == y0 && x1 == y1;
  };
  if (n >= 8) return same_ends(std::uint64_t{0});
  if (n >= 4) return same_ends(std::uint32_t{0});
  for (std::size_t i = 0; i < n; ++i) {
    if (x[i] != y[i]) return false;
  }
  return true;
}

}  // namespace dbrunbook::digest
