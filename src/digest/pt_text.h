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

// a == b for short texts such as attribute names: overlapping 8- or 4-byte loads instead of a
// memcmp call.
inline bool SameText(std::string_view a, std::string_view b) {
  const std::size_t n = a.size();
  if (n != b.size()) return false;
  if (n >= 8 && n <= 16) {
    std::uint64_t a0 = 0, a1 = 0, b0 = 0, b1 = 0;
    std::memcpy(&a0, a.data(), 8);
    std::memcpy(&b0, b.data(), 8);
    std::memcpy(&a1, a.data() + n - 8, 8);
    std::memcpy(&b1, b.data() + n - 8, 8);
    return a0 == b0 && a1 == b1;
  }
  if (n >= 4 && n < 8) {
    std::uint32_t a0 = 0, a1 = 0, b0 = 0, b1 = 0;
    std::memcpy(&a0, a.data(), 4);
    std::memcpy(&b0, b.data(), 4);
    std::memcpy(&a1, a.data() + n - 4, 4);
    std::memcpy(&b1, b.data() + n - 4, 4);
    return a0 == b0 && a1 == b1;
  }
  return a == b;
}

}  // namespace dbrunbook::digest
