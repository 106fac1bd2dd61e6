#include "digest/slowlog_reader.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#if defined(__SSE2__)
#include <immintrin.h>
#endif

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <system_error>
#include <utility>

#include "digest/pt_text.h"

namespace dbrunbook::digest {
namespace {

constexpr std::size_t kNpos = std::string_view::npos;

// Perl's \s and \w on byte strings (pt reads logs as bytes), by table: one load per test in
// the per-byte loops of the attribute lines.
constexpr std::uint8_t kSpaceClass = 1, kWordClass = 2;
constexpr std::array<std::uint8_t, 256> kCharClass = [] {
  std::array<std::uint8_t, 256> t{};
  for (const unsigned char c : {' ', '\t', '\n', '\r', '\f', '\v'}) t[c] = kSpaceClass;
  for (int c = 0; c < 256; ++c) {
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')
      t[static_cast<std::size_t>(c)] = kWordClass;
  }
  return t;
}();
bool IsSpace(char c) { return kCharClass[static_cast<unsigned char>(c)] == kSpaceClass; }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsUpper(char c) { return c >= 'A' && c <= 'Z'; }
bool IsAlpha(char c) { return IsUpper(c) || (c >= 'a' && c <= 'z'); }
bool IsWord(char c) { return kCharClass[static_cast<unsigned char>(c)] == kWordClass; }

// (memcmp with the literal's constant length: the compiler expands it inline, no call.)
bool StartsWith(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && std::memcmp(s.data(), prefix.data(), prefix.size()) == 0;
}

// s.find(c, from) without a library call: the searches of the event parser span a few dozen
// bytes (a line, an attribute pair), where memchr's call and set-up cost more than the scan.
// Reads only inside s.
std::size_t FindChar(std::string_view s, char c, std::size_t from) {
  const char* const d = s.data();
  const std::size_t n = s.size();
  std::size_t i = from;
#if defined(__SSE2__)
  const __m128i needle = _mm_set1_epi8(c);
  for (; i + 16 <= n; i += 16) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(d + i));
    const auto mask = static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(v, needle)));
    if (mask != 0) return i + static_cast<std::size_t>(__builtin_ctz(mask));
  }
#endif
  for (; i < n; ++i) {
    if (d[i] == c) return i;
  }
  return kNpos;
}

// a == b for two lines of the same length `n` (the header-line cache's test): 16 bytes at a
// time, the last block overlapping, no library call; a differing line usually differs in its
// first blocks (the values come early). Reads only inside a and b.
bool SameLine(const char* a, const char* b, std::size_t n) {
#if defined(__SSE2__)
  if (n >= 16) {
    auto same16 = [&](std::size_t i) {
      const __m128i x = _mm_loadu_si128(reinterpret_cast<const __m128i*>(a + i));
      const __m128i y = _mm_loadu_si128(reinterpret_cast<const __m128i*>(b + i));
      return _mm_movemask_epi8(_mm_cmpeq_epi8(x, y)) == 0xFFFF;
    };
    for (std::size_t i = 0; i + 16 < n; i += 16) {
      if (!same16(i)) return false;
    }
    return same16(n - 16);
  }
#endif
  return std::memcmp(a, b, n) == 0;
}

// A line's tag for the header-line cache: its length and its 8-byte words (the last one
// overlapping), rotated and XOR-ed. Lines with equal tags are still compared in full.
std::uint64_t LineTag(std::string_view s) {
  const std::size_t n = s.size();
  std::uint64_t t = n * 0x9E3779B97F4A7C15ULL;
  std::uint64_t w = 0;
  if (n < 8) {
    std::memcpy(&w, s.data(), n);
    return t ^ w;
  }
  for (std::size_t i = 0; i + 8 < n; i += 8) {
    std::memcpy(&w, s.data() + i, 8);
    t = ((t << 7) | (t >> 57)) ^ w;
  }
  std::memcpy(&w, s.data() + n - 8, 8);
  return ((t << 7) | (t >> 57)) ^ w;
}

std::size_t Find(std::string_view s, std::string_view needle, std::size_t from = 0) {
  if (from >= s.size() || needle.size() > s.size() - from) return kNpos;
  const void* hit = memmem(s.data() + from, s.size() - from, needle.data(), needle.size());
  return hit == nullptr ? kNpos : static_cast<const char*>(hit) - s.data();
}

// pt's numeric attribute values: /^(?:\d+|[+-]?\d+\.\d*(?:E[+-]?\d+)?)$/i.
bool IsPtNumber(std::string_view v) {
  std::size_t i = 0;
  const std::size_t n = v.size();
  if (n == 0) return false;
  const bool sign = v[0] == '+' || v[0] == '-';
  if (sign) ++i;
  const std::size_t digits_start = i;
  while (i < n && IsDigit(v[i])) ++i;
  if (i == digits_start) return false;
  if (i == n) return !sign;
  if (v[i] != '.') return false;
  ++i;
  while (i < n && IsDigit(v[i])) ++i;
  if (i == n) return true;
  if (v[i] != 'e' && v[i] != 'E') return false;
  ++i;
  if (i < n && (v[i] == '+' || v[i] == '-')) ++i;
  const std::size_t exp_start = i;
  while (i < n && IsDigit(v[i])) ++i;
  return i > exp_start && i == n;
}

constexpr double kPow10[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
                             1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

// The usual numeric form of a value, "12" or "0.000123" (digits, then maybe a '.' and digits; at
// most 15 digits), read from the start of `s` up to the first other character and converted in
// the same pass with ParseDouble's exact fast path (same digits, same division). Returns how
// many characters it read; 0 when `s` does not start with such a number.
__attribute__((always_inline)) inline std::size_t PlainDecimal(std::string_view s, double& number) {
  if (s.empty() || !IsDigit(s[0])) return 0;
    // "0.000552", the form of every Query_time and Lock_time: the eight bytes at once (SWAR).
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
  if (s.size() >= 9 && s[1] == '.' && !IsDigit(s[8]) && s[8] != '.') {
    std::uint64_t x = 0;
    std::memcpy(&x, s.data(), 8);  // (little-endian: s[0] is the low byte)
    // '0', s[0], s[2..7]: the seven digits as one eight-digit number
    const std::uint64_t v = (x & 0xFFFFFFFFFFFF0000ULL) | ((x & 0xFF) << 8) | 0x30;
    if ((((v & 0xF0F0F0F0F0F0F0F0ULL) |
          (((v + 0x0606060606060606ULL) & 0xF0F0F0F0F0F0F0F0ULL) >> 4)) == 0x3333333333333333ULL)) {
      std::uint64_t d = v - 0x3030303030303030ULL;
      d = (d * 10) + (d >> 8);
      d = (((d & 0x000000FF000000FFULL) * 0x000F424000000064ULL) +
           (((d >> 16) & 0x000000FF000000FFULL) * 0x0000271000000001ULL)) >>
          32;
      number = static_cast<double>(static_cast<std::int64_t>(d)) / kPow10[6];
      return 8;
    }
  }
#endif
  std::uint64_t mantissa = 0;
  int digits = 0;
  int fraction = -1;
  std::size_t i = 0;
  for (; i < s.size(); ++i) {
    const char c = s[i];
    if (IsDigit(c)) {
      mantissa = mantissa * 10 + static_cast<std::uint64_t>(c - '0');
      ++digits;
      if (fraction >= 0) ++fraction;
    } else if (c == '.' && fraction < 0) {
      fraction = 0;
    } else {
      break;
    }
  }
  if (digits > 15) return 0;
  // (mantissa < 10^15: the signed conversion is exact and cheaper than the unsigned one)
  number = static_cast<double>(static_cast<std::int64_t>(mantissa)) /
           kPow10[fraction < 0 ? 0 : fraction];
  return i;
}

double ParseDouble(std::string_view v) {
  if (!v.empty() && v[0] == '+') v.remove_prefix(1);
  // Fast path, exact: at most 15 significant digits and no exponent, so the mantissa and the
  // power of ten are exact doubles and one correctly rounded division gives the nearest value.
  const bool negative = !v.empty() && v[0] == '-';
  const std::string_view unsigned_part = v.substr(negative ? 1 : 0);
  double value = 0;
  if (!unsigned_part.empty() && PlainDecimal(unsigned_part, value) == unsigned_part.size()) {
    return negative ? -value : value;
  }
  double out = 0;
  std::from_chars(v.data(), v.data() + v.size(), out);
  return out;
}

// The leading /^\d+(?:\.\d+)?/ of a value (pt's Query_time clean-up); empty when none.
std::string_view LeadingDecimal(std::string_view v) {
  std::size_t i = 0;
  while (i < v.size() && IsDigit(v[i])) ++i;
  if (i == 0) return {};
  if (i + 1 < v.size() && v[i] == '.' && IsDigit(v[i + 1])) {
    i += 2;
    while (i < v.size() && IsDigit(v[i])) ++i;
  }
  return v.substr(0, i);
}

// --- server start-up header lines (pt's $slow_log_hd_line, /m, applied with s///g) ---------

// One of pt's keyword literals where the regex has \s between two words.
bool MatchWords(std::string_view s, std::size_t at, std::string_view first,
                std::string_view second) {
  if (at + first.size() + 1 + second.size() > s.size()) return false;
  return s.compare(at, first.size(), first) == 0 && IsSpace(s[at + first.size()]) &&
         s.compare(at + first.size() + 1, second.size(), second) == 0;
}

// End (after the '\n') of a header match starting at line start `i`, or kNpos.
std::size_t MatchHeaderAt(std::string_view s, std::size_t i) {
  const std::size_t n = s.size();
  if (i >= n) return kNpos;
  const char c = s[i];
  // T[cC][pP]\s[pP]ort:\s+\d+.*\n
  if (c == 'T' && i + 4 < n && (s[i + 1] == 'c' || s[i + 1] == 'C') &&
      (s[i + 2] == 'p' || s[i + 2] == 'P') && IsSpace(s[i + 3]) &&
      (s[i + 4] == 'p' || s[i + 4] == 'P') && s.compare(i + 5, 4, "ort:") == 0) {
    std::size_t k = i + 9;
    while (k < n && IsSpace(s[k])) ++k;
    if (k > i + 9 && k < n && IsDigit(s[k])) {
      const std::size_t nl = s.find('\n', k);
      if (nl != kNpos) return nl + 1;
    }
  }
  // [/A-Z].*mysqld,\sVersion.*(?:started\swith:|embedded\slibrary).*\n  (greedy: last first)
  if (c == '/' || IsUpper(c)) {
    const std::size_t line_end = std::min(s.find('\n', i), n);
    std::size_t hits[64];
    std::size_t count = 0;
    const std::string_view line = s.substr(0, line_end);
    for (std::size_t k = Find(line, "mysqld,", i + 1); k != kNpos;
         k = Find(line, "mysqld,", k + 1)) {
      if (MatchWords(s, k, "mysqld,", "Version")) {
        if (count == 64) std::move(hits + 1, hits + 64, hits), count = 63;
        hits[count++] = k;
      }
    }
    for (std::size_t h = count; h-- > 0;) {
      const std::size_t version_end = hits[h] + 15;
      const std::size_t kw_line_end = std::min(s.find('\n', version_end), n);
      for (std::size_t k = kw_line_end; k-- > version_end;) {
        std::size_t kw_end = kNpos;
        if (MatchWords(s, k, "started", "with:")) kw_end = k + 13;
        if (MatchWords(s, k, "embedded", "library")) kw_end = k + 16;
        if (kw_end == kNpos) continue;
        const std::size_t nl = s.find('\n', kw_end);
        if (nl != kNpos) return nl + 1;
      }
    }
  }
  // Time\s+Id\s+Command.*\n
  if (c == 'T' && s.compare(i, 4, "Time") == 0) {
    std::size_t k = i + 4;
    const std::size_t a = k;
    while (k < n && IsSpace(s[k])) ++k;
    if (k > a && s.compare(k, 2, "Id") == 0) {
      k += 2;
      const std::size_t b = k;
      while (k < n && IsSpace(s[k])) ++k;
      if (k > b && s.compare(k, 7, "Command") == 0) {
        const std::size_t nl = s.find('\n', k + 7);
        if (nl != kNpos) return nl + 1;
      }
    }
  }
  return kNpos;
}

// Every start-up header line contains one of these (alternatives 2, 1, 3 of pt's regex).
constexpr std::string_view kHeaderNeedles[3] = {"mysqld,", "ort:", "Command"};

// The next occurrence of needle `k` at or after `from` that has the context the header regex
// needs around it (so "Filesort:" is not taken for "Tcp port:").
bool QualifiedAt(std::string_view s, std::size_t k, std::size_t at) {
  if (s.compare(at, kHeaderNeedles[k].size(), kHeaderNeedles[k]) != 0) return false;
  if (k == 0) return MatchWords(s, at, "mysqld,", "Version");
  if (k == 1) {
    return at >= 5 && s[at - 5] == 'T' && (s[at - 4] == 'c' || s[at - 4] == 'C') &&
           (s[at - 3] == 'p' || s[at - 3] == 'P') && IsSpace(s[at - 2]) &&
           (s[at - 1] == 'p' || s[at - 1] == 'P');
  }
  return at >= 1 && IsSpace(s[at - 1]);
}

bool QualifiedHeaderNeedleAt(std::string_view s, std::size_t at) {
  return QualifiedAt(s, 0, at) || QualifiedAt(s, 1, at) || QualifiedAt(s, 2, at);
}

#if defined(__x86_64__)
// FindAnyHeaderNeedle's loop, 32 bytes at a time, for processors with AVX2 (chosen at run
// time; the build itself targets plain x86-64). Returns where the search must go on: the
// position of a qualified needle, or the first position it did not look at.
__attribute__((target("avx2"))) std::size_t FindAnyHeaderNeedleAvx2(std::string_view s,
                                                                    std::size_t i, bool& found) {
  const std::size_t n = s.size();
  const char* d = s.data();
  const __m256i f0 = _mm256_set1_epi8('m'), l0 = _mm256_set1_epi8(',');  // mysqld,
  const __m256i f1 = _mm256_set1_epi8('o'), l1 = _mm256_set1_epi8(':');  // ort:
  const __m256i f2 = _mm256_set1_epi8('C'), l2 = _mm256_set1_epi8('d');  // Command
  for (; i + 32 + 6 <= n; i += 32) {
    const __m256i a = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(d + i));
    const __m256i b3 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(d + i + 3));
    const __m256i b6 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(d + i + 6));
    const __m256i m0 = _mm256_and_si256(_mm256_cmpeq_epi8(a, f0), _mm256_cmpeq_epi8(b6, l0));
    const __m256i m1 = _mm256_and_si256(_mm256_cmpeq_epi8(a, f1), _mm256_cmpeq_epi8(b3, l1));
    const __m256i m2 = _mm256_and_si256(_mm256_cmpeq_epi8(a, f2), _mm256_cmpeq_epi8(b6, l2));
    auto mask =
        static_cast<unsigned>(_mm256_movemask_epi8(_mm256_or_si256(_mm256_or_si256(m0, m1), m2)));
    while (mask != 0) {
      const std::size_t at = i + static_cast<std::size_t>(__builtin_ctz(mask));
      if (QualifiedHeaderNeedleAt(s, at)) {
        found = true;
        return at;
      }
      mask &= mask - 1;
    }
  }
  found = false;
  return i;
}

bool HaveAvx2() {
  static const bool kHave = [] {
    __builtin_cpu_init();  // (may run before libgcc's own initialisation of the CPU model)
    return __builtin_cpu_supports("avx2") != 0;
  }();
  return kHave;
}
#endif

#if defined(__x86_64__)
// FindRecordEnd's loop with AVX2 (chosen at run time): the first ";\n#" at or after `i` whose
// three bytes lie before `n`, or where the search must go on.
__attribute__((target("avx2"))) std::size_t FindRecordEndAvx2(const char* d, std::size_t i,
                                                              std::size_t n, bool& found) {
  const __m256i semi = _mm256_set1_epi8(';'), nl = _mm256_set1_epi8('\n');
  const __m256i hash = _mm256_set1_epi8('#');
  for (; i + 32 + 2 <= n; i += 32) {
    const __m256i a = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(d + i));
    const __m256i b = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(d + i + 1));
    const __m256i c = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(d + i + 2));
    const __m256i m =
        _mm256_and_si256(_mm256_and_si256(_mm256_cmpeq_epi8(a, semi), _mm256_cmpeq_epi8(b, nl)),
                         _mm256_cmpeq_epi8(c, hash));
    const auto mask = static_cast<unsigned>(_mm256_movemask_epi8(m));
    if (mask != 0) {
      found = true;
      return i + static_cast<std::size_t>(__builtin_ctz(mask));
    }
  }
  found = false;
  return i;
}
#endif

// The first ";\n#" in d[i, n) that lies wholly before `n`, as its position; `found` false
// when there is none before the last two bytes, and then the position the caller's
// byte-by-byte search must go on from (at most 33 bytes before n).
std::size_t FindRecordEnd(const char* d, std::size_t i, std::size_t n, bool& found) {
  found = false;
#if defined(__x86_64__)
  if (HaveAvx2()) {
    i = FindRecordEndAvx2(d, i, n, found);
    if (found) return i;
  }
#endif
#if defined(__SSE2__)
  const __m128i semi = _mm_set1_epi8(';'), nl = _mm_set1_epi8('\n'), hash = _mm_set1_epi8('#');
  for (; i + 16 + 2 <= n; i += 16) {
    const __m128i a = _mm_loadu_si128(reinterpret_cast<const __m128i*>(d + i));
    const __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(d + i + 1));
    const __m128i c = _mm_loadu_si128(reinterpret_cast<const __m128i*>(d + i + 2));
    const __m128i m = _mm_and_si128(_mm_and_si128(_mm_cmpeq_epi8(a, semi), _mm_cmpeq_epi8(b, nl)),
                                    _mm_cmpeq_epi8(c, hash));
    const auto mask = static_cast<unsigned>(_mm_movemask_epi8(m));
    if (mask != 0) {
      found = true;
      return i + static_cast<std::size_t>(__builtin_ctz(mask));
    }
  }
#endif
  return i;
}

// The first qualified occurrence of any header needle at or after `from`, or kNpos. One pass:
// 16 (or 32) bytes at a time, a candidate is where a needle's first and last bytes both match.
std::size_t FindAnyHeaderNeedle(std::string_view s, std::size_t from) {
  std::size_t i = from;
#if defined(__x86_64__)
  if (HaveAvx2()) {
    bool found = false;
    i = FindAnyHeaderNeedleAvx2(s, i, found);
    if (found) return i;
  }
#endif
#if defined(__SSE2__)
  const std::size_t n = s.size();
  const char* d = s.data();
  const __m128i f0 = _mm_set1_epi8('m'), l0 = _mm_set1_epi8(',');  // mysqld,
  const __m128i f1 = _mm_set1_epi8('o'), l1 = _mm_set1_epi8(':');  // ort:
  const __m128i f2 = _mm_set1_epi8('C'), l2 = _mm_set1_epi8('d');  // Command
  // The candidates among the 16 positions from j (reads d[j, j + 22)).
  auto candidates = [&](std::size_t j) {
    const __m128i a = _mm_loadu_si128(reinterpret_cast<const __m128i*>(d + j));
    const __m128i b3 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(d + j + 3));
    const __m128i b6 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(d + j + 6));
    const __m128i m0 = _mm_and_si128(_mm_cmpeq_epi8(a, f0), _mm_cmpeq_epi8(b6, l0));
    const __m128i m1 = _mm_and_si128(_mm_cmpeq_epi8(a, f1), _mm_cmpeq_epi8(b3, l1));
    const __m128i m2 = _mm_and_si128(_mm_cmpeq_epi8(a, f2), _mm_cmpeq_epi8(b6, l2));
    return static_cast<unsigned>(_mm_movemask_epi8(_mm_or_si128(_mm_or_si128(m0, m1), m2)));
  };
  // The first qualified candidate of `mask` (positions from j), or kNpos.
  auto first_qualified = [&](std::size_t j, unsigned mask) {
    for (; mask != 0; mask &= mask - 1) {
      const std::size_t at = j + static_cast<std::size_t>(__builtin_ctz(mask));
      if (QualifiedHeaderNeedleAt(s, at)) return at;
    }
    return kNpos;
  };
  for (; i + 16 + 6 <= n; i += 16) {
    if (const std::size_t at = first_qualified(i, candidates(i)); at != kNpos) return at;
  }
  // The block that ends where the last needle can (n - 22 .. n - 7), overlapping the ones
  // looked at; then only "ort:" fits, at n - 6 .. n - 4.
  if (n >= 22 && i < n && i < n - 22 + 16) {
    const std::size_t j = n - 22;
    unsigned mask = candidates(j);
    if (i > j) mask &= ~((1U << (i - j)) - 1);  // (positions before i were looked at)
    if (const std::size_t at = first_qualified(j, mask); at != kNpos) return at;
    for (i = std::max(i, n - 6); i + 4 <= n; ++i) {
      if (d[i] == 'o' && QualifiedHeaderNeedleAt(s, i)) return i;
    }
    return kNpos;
  }
#endif
  // The rest (a short statement is all rest): byte by byte, the needles' first bytes.
  for (; i < s.size(); ++i) {
    const char c = s[i];
    if ((c == 'm' || c == 'o' || c == 'C') && QualifiedHeaderNeedleAt(s, i)) return i;
  }
  return kNpos;
}

bool MayHaveHeader(std::string_view s) { return FindAnyHeaderNeedle(s, 0) != kNpos; }

// s/$slow_log_hd_line//g; returns the number of lines removed and fills `out` when any.
int RemoveHeaders(std::string_view s, std::string& out) {
  int removed = 0;
  std::size_t copied = 0;
  std::size_t i = 0;
  while (i < s.size()) {
    const std::size_t e = MatchHeaderAt(s, i);
    if (e != kNpos) {
      out.append(s.substr(copied, i - copied));
      copied = i = e;
      ++removed;
      continue;
    }
    const std::size_t nl = s.find('\n', i);
    if (nl == kNpos) break;
    i = nl + 1;
  }
  if (removed > 0) out.append(s.substr(copied));
  return removed;
}

// --- header lines of an event --------------------------------------------------------------

// /^(?:#|use |SET (?:last_insert_id|insert_id|timestamp))/
bool IsMetaLine(std::string_view line) {
  if (line.empty()) return false;
  if (line[0] == '#') return true;
  if (line[0] == 'u') return StartsWith(line, "use ");
  if (line[0] == 'S') {
    return StartsWith(line, "SET timestamp") || StartsWith(line, "SET insert_id") ||
           StartsWith(line, "SET last_insert_id");
  }
  return false;
}

// /^# Time: ((?:[0-9: ]{15})|(?:[-0-9: T]{19}))/
bool MatchTime(std::string_view line, std::string_view& ts) {
  if (!StartsWith(line, "# Time: ")) return false;
  const std::string_view rest = line.substr(8);
  auto run = [&](std::size_t want, bool iso) {
    if (rest.size() < want) return false;
    for (std::size_t i = 0; i < want; ++i) {
      const char c = rest[i];
      if (!(IsDigit(c) || c == ':' || c == ' ' || (iso && (c == '-' || c == 'T')))) return false;
    }
    ts = rest.substr(0, want);
    return true;
  };
  return run(15, false) || run(19, true);
}

struct UserHost {
  std::string_view user, host, ip, thread_id;
};

// One try of /# User\@Host: ([^\[]+|\[[^[]+\]).*?@ (\S*) \[(.*)\]\s*(?:Id:\s*(\d+))?/ with
// the user starting at `p`. Mirrors the regex's backtracking order without re-scanning.
bool TryUserHost(std::string_view line, std::size_t p, UserHost& out) {
  const std::size_t n = line.size();
  if (p >= n) return false;
  const std::size_t last_bracket = line.rfind(']');
  if (last_bracket == kNpos) return false;
  // "@ " at q is usable when "(\S*) \[" follows and a ']' comes after that.
  auto usable = [&](std::size_t q, std::size_t& r) {
    if (q + 1 >= n || line[q] != '@' || line[q + 1] != ' ') return false;
    r = q + 2;
    while (r < n && !IsSpace(line[r])) ++r;
    return r + 1 < n && line[r] == ' ' && line[r + 1] == '[' && last_bracket >= r + 2;
  };
  std::size_t qmax = kNpos;
  for (std::size_t q = line.find("@ ", p + 1); q != kNpos; q = line.find("@ ", q + 1)) {
    std::size_t r = 0;
    if (usable(q, r)) qmax = q;
  }
  if (qmax == kNpos) return false;
  std::size_t user_end = kNpos;
  if (line[p] != '[') {
    std::size_t run_end = p;
    while (run_end < n && line[run_end] != '[') ++run_end;
    user_end = std::min(run_end, qmax);  // the longest user that leaves a usable "@ "
  } else {
    std::size_t run_end = p + 1;
    while (run_end < n && line[run_end] != '[') ++run_end;
    for (std::size_t e = run_end; e-- > p + 1;) {
      if (line[e] == ']' && e >= p + 2 && e + 1 <= qmax) {
        user_end = e + 1;
        break;
      }
    }
    if (user_end == kNpos) return false;
  }
  std::size_t r = 0;
  std::size_t q = line.find("@ ", user_end);
  while (q != kNpos && !usable(q, r)) q = line.find("@ ", q + 1);
  if (q == kNpos) return false;
  out.user = line.substr(p, user_end - p);
  out.host = line.substr(q + 2, r - q - 2);
  out.ip = line.substr(r + 2, last_bracket - r - 2);
  out.thread_id = {};
  std::size_t k = last_bracket + 1;
  while (k < n && IsSpace(line[k])) ++k;
  if (line.compare(k, 3, "Id:") == 0) {
    k += 3;
    while (k < n && IsSpace(line[k])) ++k;
    const std::size_t d = k;
    while (k < n && IsDigit(line[k])) ++k;
    if (k > d) out.thread_id = line.substr(d, k - d);
  }
  return true;
}

bool MatchUserHost(std::string_view line, UserHost& out) {
  for (std::size_t i = line.find("# User@Host: "); i != kNpos;
       i = line.find("# User@Host: ", i + 1)) {
    if (TryUserHost(line, i + 13, out)) return true;
  }
  return false;
}

// /^# +[A-Z][A-Za-z_]+: \S+/
bool IsAttributeLine(std::string_view line) {
  std::size_t j = 1;
  while (j < line.size() && line[j] == ' ') ++j;
  if (j == 1 || j >= line.size() || !IsUpper(line[j])) return false;
  std::size_t k = j + 1;
  while (k < line.size() && (IsAlpha(line[k]) || line[k] == '_')) ++k;
  return k > j + 1 && k + 2 < line.size() && line[k] == ':' && line[k + 1] == ' ' &&
         !IsSpace(line[k + 2]);
}

// line.find("Schema:", from), found through its 'S' (FindChar, no memmem call; most
// attribute lines have no 'S').
std::size_t FindSchemaColon(std::string_view line, std::size_t from) {
  for (std::size_t i = FindChar(line, 'S', from); i != kNpos; i = FindChar(line, 'S', i + 1)) {
    if (i + 7 <= line.size() && std::memcmp(line.data() + i, "Schema:", 7) == 0) return i;
  }
  return kNpos;
}

// pt: if /Schema:\s+\w+: / then s/Schema:\s+//  (an empty Schema: swallowed the next name).
bool NeedsSchemaFix(std::string_view line) {
  for (std::size_t i = FindSchemaColon(line, 0); i != kNpos; i = FindSchemaColon(line, i + 1)) {
    std::size_t k = i + 7;
    const std::size_t a = k;
    while (k < line.size() && IsSpace(line[k])) ++k;
    if (k == a) continue;
    const std::size_t w = k;
    while (k < line.size() && IsWord(line[k])) ++k;
    if (k > w && k + 1 < line.size() && line[k] == ':' && line[k + 1] == ' ') return true;
  }
  return false;
}

std::string SchemaFixed(std::string_view line) {
  for (std::size_t i = FindSchemaColon(line, 0); i != kNpos; i = FindSchemaColon(line, i + 1)) {
    std::size_t k = i + 7;
    while (k < line.size() && IsSpace(line[k])) ++k;
    if (k == i + 7) continue;
    std::string out(line.substr(0, i));
    out.append(line.substr(k));
    return out;
  }
  return std::string(line);
}

// Calls f(name, value) for each /(\w+):\s+(\S+|\Z)/g match.
template <typename F>
void ForEachPair(std::string_view line, F&& f) {
  std::size_t from = 0;
  std::size_t c = FindChar(line, ':', from);
  while (c != kNpos) {
    std::size_t w = c;
    while (w > from && IsWord(line[w - 1])) --w;
    std::size_t k = c + 1;
    while (k < line.size() && IsSpace(line[k])) ++k;
    if (w == c || k == c + 1) {
      c = FindChar(line, ':', c + 1);
      continue;
    }
    std::size_t v = k;
    while (v < line.size() && !IsSpace(line[v])) ++v;
    f(line.substr(w, c - w), line.substr(k, v - k));
    from = v;
    c = FindChar(line, ':', from);
  }
}

// split(/,|\s*=\s*/, $setting) with trailing empty fields removed.
template <typename F>
std::size_t SplitSetting(std::string_view s, F&& f) {
  std::string_view fields[64];
  std::size_t count = 0;
  std::size_t total = 0;
  std::size_t start = 0;
  std::size_t i = 0;
  auto emit = [&](std::string_view field) {
    if (count < 64) fields[count++] = field;
    ++total;
  };
  while (i < s.size()) {
    std::size_t sep_end = kNpos;
    if (s[i] == ',') {
      sep_end = i + 1;
    } else {
      std::size_t k = i;
      while (k < s.size() && IsSpace(s[k])) ++k;
      if (k < s.size() && s[k] == '=') {
        ++k;
        while (k < s.size() && IsSpace(s[k])) ++k;
        sep_end = k;
      }
    }
    if (sep_end == kNpos) {
      ++i;
      continue;
    }
    emit(s.substr(start, i - start));
    start = i = sep_end;
  }
  emit(s.substr(start));
  while (count > 0 && fields[count - 1].empty()) --count, --total;
  if (total > count) return total;  // absurdly many settings: parity is all that matters
  for (std::size_t k = 0; k + 1 < count; k += 2) f(fields[k], fields[k + 1]);
  return total;
}

void TypeAttribute(Attribute& a) {
  double number = 0;
  if (!a.text.empty() && PlainDecimal(a.text, number) == a.text.size()) {
    a.type = AttributeType::kNumber;
    a.number = number;
    return;
  }
  if (a.text == "Yes" || a.text == "No") {
    a.type = AttributeType::kBool;
    a.number = a.text == "Yes" ? 1 : 0;
  } else if (IsPtNumber(a.text)) {
    a.type = AttributeType::kNumber;
    a.number = ParseDouble(a.text);
  } else {
    a.type = AttributeType::kString;
    a.number = 0;
  }
}

// Names Put() keeps outside the attributes.
bool ParserKey(std::string_view name) {
  return name == "ts" || name == "ip" || name == "db" || name == "arg" || name == "cmd" ||
         name == "user" || name == "host";
}

// ParserKey() names, and Query_time, which the parser checks.
bool KeptApart(std::string_view name) { return ParserKey(name) || name == "Query_time"; }

// strerror is not thread-safe; std::error_code's message is.
std::string ErrnoText(int err) { return std::error_code(err, std::generic_category()).message(); }

// The line before `sep` (a ";\n#" at text[sep]) is a statement line, not a header-like one.
bool StatementLineBefore(std::string_view text, std::size_t sep) {
  const void* nl = memrchr(text.data(), '\n', sep);
  const std::size_t start = nl == nullptr ? 0 : static_cast<const char*>(nl) - text.data() + 1;
  return !IsMetaLine(text.substr(start, sep - start));
}

}  // namespace

// --- SlowLogEvent / SlowLogStats -----------------------------------------------------------

const Attribute* SlowLogEvent::Find(std::string_view name) const {
  for (std::size_t i = 0; i < attribute_count; ++i) {
    if (SameText(attributes[i].name, name)) return &attributes[i];
  }
  for (std::size_t l = 0; l < line_count; ++l) {
    for (const Attribute& a : lines[l]->attributes) {
      if (SameText(a.name, name)) return &a;
    }
  }
  return nullptr;
}

std::optional<double> SlowLogEvent::QueryTime() const {
  const Attribute* a = Find("Query_time");
  if (a == nullptr) return std::nullopt;
  const std::string_view lead = LeadingDecimal(a->text);
  if (lead.empty()) return std::nullopt;
  return ParseDouble(lead);
}

void SlowLogStats::Add(const SlowLogStats& o) {
  bytes += o.bytes;
  records += o.records;
  events += o.events;
  admin_events += o.admin_events;
  no_query_events += o.no_query_events;
  skipped_no_statement += o.skipped_no_statement;
  skipped_truncated += o.skipped_truncated;
  skipped_malformed += o.skipped_malformed;
  server_headers += o.server_headers;
  query_time_missing += o.query_time_missing;
  query_time_repaired += o.query_time_repaired;
  query_time_invalid += o.query_time_invalid;
  attributes_dropped += o.attributes_dropped;
  crlf = crlf || o.crlf;
}

std::size_t NextEventBoundary(std::string_view text, std::size_t offset) {
  if (offset == 0) return 0;
  if (offset >= text.size()) return text.size();
  std::size_t s = offset >= 3 ? offset - 3 : 0;
  for (s = Find(text, ";\n#", s); s != kNpos; s = Find(text, ";\n#", s + 1)) {
    const std::size_t p = s + 3;
    if (p < offset) continue;
    const std::string_view next = text.substr(p);
    if ((StartsWith(next, " Time: ") || StartsWith(next, " User@Host: ")) &&
        StatementLineBefore(text, s)) {
      return p;
    }
  }
  return text.size();
}

// --- SlowLogParser::NameFilter / CachedLine ------------------------------------------------

// Whether Put() would put each of the entry's pairs as a new attribute, given names the
// event does not have yet: none is a key Put() keeps elsewhere, none repeats in the line.
bool SlowLogParser::PlainNames(const CachedLine& entry) {
  for (std::size_t i = 0; i < entry.pair_count; ++i) {
    const std::string_view name = entry.Name(entry.pairs[i]);
    if (ParserKey(name)) return false;
    for (std::size_t j = 0; j < i; ++j) {
      if (entry.Name(entry.pairs[j]) == name) return false;
    }
  }
  return true;
}

bool SlowLogParser::CachedLine::AddPair(std::string_view text, std::string_view name,
                                        std::string_view value) {
  if (pair_count == kMaxCachedPairs) return false;
  CachedPair& p = pairs[pair_count++];
  // (Empty views may have no data pointer: their offset does not matter.)
  p.name_at = static_cast<std::uint16_t>(name.empty() ? 0 : name.data() - text.data());
  p.name_len = static_cast<std::uint16_t>(name.size());
  p.text_at = static_cast<std::uint16_t>(value.empty() ? 0 : value.data() - text.data());
  p.text_len = static_cast<std::uint16_t>(value.size());
  return true;
}

void SlowLogParser::CachedLine::Finish(std::string_view text, Kind k) {
  line.assign(text);
  repeated = nullptr;
  groupable = true;
  names = {};
  plain = PlainNames(*this);
  for (std::size_t i = 0; i < pair_count; ++i) {
    pairs[i].name_hash = NameFilter::Hash(Name(pairs[i]));
    names.Add(pairs[i].name_hash);
    Attribute a;
    a.text = Text(pairs[i]);
    TypeAttribute(a);
    pairs[i].type = a.type;
    pairs[i].number = a.number;
  }
  kind = k;
}

void SlowLogParser::CachedLine::SetUserHost(std::string_view text, std::string_view user,
                                            std::string_view host, std::string_view ip,
                                            std::string_view thread_id) {
  pair_count = 0;
  for (const std::string_view v : {user, host, ip, thread_id}) AddPair(text, {}, v);
  Finish(text, Kind::kUserHost);
}

bool SlowLogParser::CachedLine::SetAttributes(std::string_view text) {
  kind = Kind::kNone;
  pair_count = 0;
  bool full = false;
  ForEachPair(text, [&](std::string_view k, std::string_view v) {
    if (!AddPair(text, k, v)) full = true;
  });
  if (full) return false;
  Finish(text, Kind::kAttribute);
  return true;
}

bool SlowLogParser::CachedLine::SetSetting(std::string_view text, std::string_view setting) {
  kind = Kind::kNone;
  pair_count = 0;
  bool full = false;
  set_fields = SplitSetting(setting, [&](std::string_view a, std::string_view b) {
    if (!AddPair(text, a, b)) full = true;
  });
  if (full) return false;
  Finish(text, Kind::kSet);
  return true;
}

bool SlowLogParser::LineTemplate::Make(const CachedLine& entry) {
  const std::string_view text = entry.line;
  if (entry.kind != CachedLine::Kind::kAttribute || entry.pair_count == 0 ||
      StartsWith(text, "# Time: ") || FindChar(text, '@', 0) != kNpos ||
      FindSchemaColon(text, 0) != kNpos) {
    return false;
  }
  // (A value is \S+: the literal after it starts with a space, or the line ends.)
  for (std::size_t i = 0, pos = 0; i < entry.pair_count; ++i) {
    const CachedPair& p = entry.pairs[i];
    double number = 0;
    if (p.text_len == 0 || p.text_at < pos ||
        PlainDecimal(text.substr(p.text_at), number) != p.text_len) {
      return false;
    }
    pos = p.text_at + p.text_len;
  }
  std::size_t pos = 0;
  names = {};
  for (std::size_t i = 0; i < entry.pair_count; ++i) {
    const CachedPair& p = entry.pairs[i];
    Slot& slot = slots[i];
    slot.literal_at = static_cast<std::uint16_t>(pos);
    slot.literal_len = static_cast<std::uint16_t>(p.text_at - pos);
    slot.name_at = p.name_at;
    slot.name_len = p.name_len;
    slot.name_hash = p.name_hash;
    names.Add(p.name_hash);
    pos = p.text_at + p.text_len;
  }
  line.assign(text);
  plain = entry.plain;
  tail_at = static_cast<std::uint16_t>(pos);
  tail_len = static_cast<std::uint16_t>(text.size() - pos);
  slot_count = entry.pair_count;
  return true;
}

// --- SlowLogParser -------------------------------------------------------------------------

SlowLogParser::SlowLogParser(std::string_view text) : window_(text) { stats_.bytes = text.size(); }

SlowLogParser SlowLogParser::ForRange(std::string_view text, std::size_t begin, std::size_t end) {
  SlowLogParser p(text);
  p.pos_ = std::min(begin, text.size());
  p.end_ = std::max<std::uint64_t>(p.pos_, std::min(end, text.size()));
  p.stats_.bytes = p.end_ - p.pos_;
  if (p.end_ == text.size()) p.end_ = UINT64_MAX;
  return p;
}

SlowLogParser SlowLogParser::ForStream() {
  SlowLogParser p;
  p.eof_ = false;
  return p;
}

void SlowLogParser::SetWindow(std::string_view window, std::uint64_t base, bool eof) {
  window_ = window;
  base_ = base;
  eof_ = eof;
  needs_more_ = false;
}

std::string_view SlowLogParser::Keep(std::string text) {
  scratch_.push_back(std::move(text));
  return scratch_.back();
}

bool SlowLogParser::Next(SlowLogEvent& event) {
  needs_more_ = false;
  if (done_) return false;
  while (true) {
    if (pending_.empty()) {
      if (pos_ >= end_) {
        ended_cleanly_ = pos_ == end_;
        done_ = true;
        return false;
      }
      scratch_.clear();
    }
    // A step may run out of window in streaming mode; then it is undone and redone later.
    const std::uint64_t saved_pos = pos_;
    const bool streaming = !eof_;
    std::vector<Piece> saved_pending;
    SlowLogStats saved_stats;
    if (streaming) saved_pending = pending_, saved_stats = stats_;
    const Outcome outcome = Step(event);
    switch (outcome) {
      case Outcome::kEvent:
        ++stats_.events;
        if (event.admin) ++stats_.admin_events;
        if (event.no_query) ++stats_.no_query_events;
        return true;
      case Outcome::kNeedMore:
        pos_ = saved_pos;
        pending_ = std::move(saved_pending);
        stats_ = saved_stats;
        needs_more_ = true;
        return false;
      case Outcome::kEnd:
        ended_cleanly_ = end_ == UINT64_MAX;
        done_ = true;
        return false;
      default:
        break;  // a record without an event: go on with the next one
    }
  }
}

SlowLogParser::Outcome SlowLogParser::ReadRecord(bool with_hash, Piece& out) {
  const std::size_t n = window_.size();
  const std::size_t p = pos_ - base_;
  if (p >= n) return eof_ ? Outcome::kEnd : Outcome::kNeedMore;
  const char* d = window_.data();
  std::size_t q = p;
  // A search for this record's end that ran out of window goes on where it stopped, not from
  // the record's start again (streamed input arrives a block at a time).
  if (resume_pos_ == pos_ && resume_hash_ == with_hash && resume_at_ >= pos_ &&
      resume_at_ - base_ <= n) {
    q = static_cast<std::size_t>(resume_at_ - base_);
  }
  auto need_more = [&](std::size_t from) {
    resume_pos_ = pos_;
    resume_hash_ = with_hash;
    resume_at_ = base_ + from;
    return Outcome::kNeedMore;
  };
  std::size_t end = n;
  if (with_hash) {  // the vector search as far as it goes, then the loop below
    bool found = false;
    const std::size_t at = FindRecordEnd(d, q, n, found);
    if (found) {
      end = at + 3;
      q = n;
    } else {
      q = at;
    }
  }
  const std::size_t need = with_hash ? 3 : 2;
  while (q < n) {
    const void* hit = std::memchr(d + q, ';', n - q);
    if (hit == nullptr) break;
    const std::size_t s = static_cast<const char*>(hit) - d;
    if (s + need > n) {
      if (!eof_) return need_more(s);
      break;
    }
    if (d[s + 1] == '\n' && (!with_hash || d[s + 2] == '#')) {
      end = s + need;
      break;
    }
    q = s + 1;
  }
  // (No record end before n - need; a match there, or one that needs the next bytes, is
  // looked at again.)
  if (end == n && !eof_) return need_more(n - p >= need ? n - need : p);
  out.text = window_.substr(p, end - p);
  out.offset = pos_;
  out.in_window = true;
  pos_ = base_ + end;
  return Outcome::kNoEvent;  // read ok
}

SlowLogParser::Outcome SlowLogParser::Step(SlowLogEvent& event) {
  Piece stmt;
  if (!pending_.empty()) {
    stmt = pending_.front();
    pending_.erase(pending_.begin());
  } else {
    const Outcome r = ReadRecord(true, stmt);
    if (r != Outcome::kNoEvent) return r;
  }
  ++stats_.records;
  // Server start-up header lines (pt removes them from the record, s///g, then splits it
  // again). A record read from the window is looked at by ProcessStatement, which finds any
  // where they can be: a header line begins with 'T', '/' or a capital, so it is no "#" or
  // "use" line and is either a SET line or in the statement part.
  if (stmt.in_window) {
    const Outcome o = ProcessStatement(stmt, event, true);
    if (o != Outcome::kHeaders) return o;
  } else if (!MayHaveHeader(stmt.text)) {
    return ProcessStatement(stmt, event, false);
  }
  std::string cleaned;
  const int removed = RemoveHeaders(stmt.text, cleaned);
  if (removed > 0) {
    stats_.server_headers += removed;
    const std::string_view whole = Keep(std::move(cleaned));
    std::vector<std::string_view> chunks;
    std::size_t start = 0;
    for (std::size_t s = Find(whole, ";\n#"); s != kNpos; s = Find(whole, ";\n#", start)) {
      chunks.push_back(whole.substr(start, s - start));
      start = s + 3;
    }
    chunks.push_back(whole.substr(start));
    while (!chunks.empty() && chunks.back().empty()) chunks.pop_back();
    if (chunks.size() > 1) {
      std::vector<Piece> front;
      for (std::size_t i = 1; i < chunks.size(); ++i) {
        front.push_back(Piece{chunks[i], stmt.offset, false});
      }
      pending_.insert(pending_.begin(), front.begin(), front.end());
      stmt.text = chunks[0];
    } else {
      stmt.text = whole;
    }
    stmt.in_window = false;
  }
  return ProcessStatement(stmt, event, false);
}

Attribute* SlowLogParser::Put(SlowLogEvent& event, std::string_view key, std::string_view value) {
  return Put(event, key, value, NameFilter::Hash(key));
}

Attribute* SlowLogParser::Put(SlowLogEvent& event, std::string_view key, std::string_view value,
                              std::uint8_t hash) {
  // Keys the parser itself sets; an attribute pair with such a name overrides them, as in pt.
  switch (key.size()) {
    case 2:
      if (SameText(key, "ts")) {
        event.ts = value;
        return nullptr;
      }
      if (SameText(key, "ip")) {
        event.ip = value;
        return nullptr;
      }
      if (SameText(key, "db")) {
        event.db = value;
        return nullptr;
      }
      break;
    case 3:
      if (SameText(key, "arg")) {
        event.arg = value;
        event.no_query = false;
        return nullptr;
      }
      if (SameText(key, "cmd")) {
        event.admin = value == "Admin";
        return nullptr;
      }
      break;
    case 4:
      if (SameText(key, "user")) {
        event.user = value;
        return nullptr;
      }
      if (SameText(key, "host")) {
        event.host = value;
        return nullptr;
      }
      break;
    default:
      break;
  }
  // A later pair with the same name replaces the earlier one; a 256-bit filter of name hashes
  // skips the search for names not seen yet in this event.
  if (names_seen_.Has(hash)) {
    if (event.line_count > 0) {
      for (std::size_t l = 0; l < event.line_count; ++l) {
        for (const Attribute& a : event.lines[l]->attributes) {
          if (SameText(a.name, key)) {
            UngroupLines(event);  // the pair replaces one of a grouped line's
            break;
          }
        }
        if (event.line_count == 0) break;
      }
    }
    for (std::size_t i = 0; i < event.attribute_count; ++i) {
      Attribute& a = event.attributes[i];
      if (SameText(a.name, key)) {
        a.text = value;
        typed_.reset(i);
        return &a;
      }
    }
  }
  names_seen_.Add(hash);
  if (event.attribute_count + grouped_pairs_ >= kMaxAttributes) {  // (grouped ones count too)
    ++stats_.attributes_dropped;
    return nullptr;
  }
  typed_.reset(event.attribute_count);
  Attribute& a = event.attributes[event.attribute_count++];
  a.name = key;
  a.text = value;
  return &a;
}

void SlowLogParser::PutTyped(SlowLogEvent& event, const CachedLine& entry, const CachedPair& pair) {
  Attribute* a = Put(event, entry.Name(pair), entry.Text(pair), pair.name_hash);
  if (a == nullptr) return;
  a->type = pair.type;
  a->number = pair.number;
  typed_.set(static_cast<std::size_t>(a - event.attributes.data()));
}

void SlowLogParser::PutPairs(SlowLogEvent& event, const CachedLine& entry) {
  const std::size_t k = entry.pair_count;
  if (entry.plain && !names_seen_.Intersects(entry.names) &&
      event.attribute_count + grouped_pairs_ + k <= kMaxAttributes) {
    for (std::size_t i = 0; i < k; ++i) {
      const CachedPair& p = entry.pairs[i];
      Attribute& a = event.attributes[event.attribute_count];
      a.name = entry.Name(p);
      a.text = entry.Text(p);
      a.type = p.type;
      a.number = p.number;
      typed_.set(event.attribute_count++);
    }
    names_seen_.Add(entry.names);
    return;
  }
  for (std::size_t i = 0; i < k; ++i) PutTyped(event, entry, entry.pairs[i]);
}

const RepeatedLine* SlowLogParser::Repeated(CachedLine& entry) {
  if (entry.repeated != nullptr || !entry.groupable) return entry.repeated;
  entry.groupable = false;
  for (std::size_t i = 0; i < entry.pair_count; ++i) {
    const std::string_view name = entry.Name(entry.pairs[i]);
    if (KeptApart(name)) return nullptr;
    for (std::size_t j = 0; j < i; ++j) {  // a name twice in the line: the later pair replaces
      if (entry.Name(entry.pairs[j]) == name) return nullptr;
    }
  }
  if (repeated_ == nullptr) {
    static std::atomic<std::uint64_t> next_serial{1};
    serial_ = next_serial.fetch_add(1, std::memory_order_relaxed);
    repeated_ = std::make_unique<std::deque<RepeatedLine>>();
    repeated_index_ = std::make_unique<std::unordered_map<std::string, const RepeatedLine*>>();
  }
  if (const auto it = repeated_index_->find(entry.line); it != repeated_index_->end()) {
    entry.repeated = it->second;
    entry.groupable = true;
    return entry.repeated;
  }
  if (repeated_->size() >= kMaxGroupedLines) return nullptr;
  RepeatedLine& r = repeated_->emplace_back();
  r.parser = serial_;
  r.id = static_cast<std::uint32_t>(repeated_->size() - 1);
  r.text = entry.line;
  r.attributes.reserve(entry.pair_count);
  for (std::size_t i = 0; i < entry.pair_count; ++i) {
    const CachedPair& p = entry.pairs[i];
    Attribute& a = r.attributes.emplace_back();
    a.name = std::string_view(r.text).substr(p.name_at, p.name_len);
    a.text = std::string_view(r.text).substr(p.text_at, p.text_len);
    a.type = p.type;
    a.number = p.number;
  }
  repeated_index_->emplace(r.text, &r);
  entry.repeated = &r;
  entry.groupable = true;
  return entry.repeated;
}

bool SlowLogParser::PutByTemplate(SlowLogEvent& event, const LineTemplate& t, std::string_view line,
                                  CachedLine& store) {
  const std::size_t n = line.size();
  const char* const tl = t.line.data();
  std::size_t pos = 0;
  for (std::size_t i = 0; i < t.slot_count; ++i) {
    const LineTemplate::Slot& slot = t.slots[i];
    if (n - pos < slot.literal_len ||
        !SameText(line.substr(pos, slot.literal_len), {tl + slot.literal_at, slot.literal_len})) {
      return false;
    }
    CachedPair& p = store.pairs[i];  // (the entry is empty, kNone, until it is complete)
    p.name_at = static_cast<std::uint16_t>(pos + slot.name_at - slot.literal_at);
    p.name_len = slot.name_len;
    p.name_hash = slot.name_hash;
    pos += slot.literal_len;
    double number = 0;
    const std::size_t len = PlainDecimal(line.substr(pos), number);
    if (len == 0) return false;
    p.text_at = static_cast<std::uint16_t>(pos);
    p.text_len = static_cast<std::uint16_t>(len);
    p.type = AttributeType::kNumber;
    p.number = number;
    pos += len;
  }
  if (n - pos != t.tail_len || !SameText(line.substr(pos), {tl + t.tail_at, t.tail_len})) {
    return false;
  }
  store.pair_count = t.slot_count;
  store.names = t.names;
  store.plain = t.plain;
  store.SetTemplated(line);
  PutPairs(event, store);
  return true;
}

bool SlowLogParser::HasName(const SlowLogEvent& event, std::string_view name) {
  for (std::size_t i = 0; i < event.attribute_count; ++i) {
    if (SameText(event.attributes[i].name, name)) return true;
  }
  for (std::size_t l = 0; l < event.line_count; ++l) {
    for (const Attribute& a : event.lines[l]->attributes) {
      if (SameText(a.name, name)) return true;
    }
  }
  return false;
}

void SlowLogParser::PutLine(SlowLogEvent& event, CachedLine& entry) {
  // (Grouped only when all its pairs fit in kMaxAttributes, so that an event drops exactly the
  // pairs it drops without grouping.)
  if (group_lines_ && event.line_count < kMaxRepeatedLines &&
      event.attribute_count + grouped_pairs_ + entry.pair_count <= kMaxAttributes) {
    bool clash = false;
    if (names_seen_.Intersects(entry.names)) {  // (the filter may say so wrongly: check)
      for (std::size_t i = 0; i < entry.pair_count && !clash; ++i) {
        const CachedPair& p = entry.pairs[i];
        clash = names_seen_.Has(p.name_hash) && HasName(event, entry.Name(p));
      }
    }
    if (!clash) {
      if (const RepeatedLine* r = Repeated(entry)) {
        event.lines[event.line_count++] = r;
        names_seen_.Add(entry.names);
        grouped_pairs_ += entry.pair_count;
        return;
      }
    }
  }
  PutPairs(event, entry);
}

void SlowLogParser::UngroupLines(SlowLogEvent& event) {
  const std::size_t lines = event.line_count;
  event.line_count = 0;
  grouped_pairs_ = 0;
  for (std::size_t l = 0; l < lines; ++l) {
    for (const Attribute& a : event.lines[l]->attributes) {
      if (event.attribute_count == kMaxAttributes) {
        ++stats_.attributes_dropped;
        continue;
      }
      typed_.set(event.attribute_count);
      event.attributes[event.attribute_count++] = a;
    }
  }
}

SlowLogParser::Outcome SlowLogParser::ProcessStatement(Piece piece, SlowLogEvent& event,
                                                       bool find_headers) {
  std::string_view stmt = piece.text;
  // $stmt = '#' . $stmt unless $stmt =~ m/\A#/;
  if (stmt.empty() || stmt[0] != '#') {
    if (piece.in_window && piece.offset > base_ && stmt.data()[-1] == '#') {
      stmt = std::string_view(stmt.data() - 1, stmt.size() + 1);
    } else {
      std::string s = "#";
      s.append(stmt);
      stmt = Keep(std::move(s));
    }
  }
  // $stmt =~ s/;\n#?\Z//;  (\Z also matches before a final newline)
  const std::size_t n0 = stmt.size();
  auto ends = [&](std::string_view tail) {  // (byte by byte: no library call for 2-4 bytes)
    if (n0 < tail.size()) return false;
    for (std::size_t k = 0; k < tail.size(); ++k) {
      if (stmt[n0 - tail.size() + k] != tail[k]) return false;
    }
    return true;
  };
  if (ends(";\n#\n")) {
    stmt = Keep(std::string(stmt.substr(0, n0 - 4)) + "\n");
  } else if (ends(";\n#")) {
    stmt = stmt.substr(0, n0 - 3);
  } else if (ends(";\n\n")) {
    stmt = Keep(std::string(stmt.substr(0, n0 - 3)) + "\n");
  } else if (ends(";\n")) {
    stmt = stmt.substr(0, n0 - 2);
  }

  event.arg = event.ts = event.user = event.host = event.ip = event.db = {};
  event.admin = event.no_query = event.has_user_host = false;
  event.offset = piece.offset;
  event.attribute_count = 0;
  event.line_count = 0;
  grouped_pairs_ = 0;
  names_seen_ = {};
  typed_.reset();
  bool got_ts = false, got_uh = false, got_ac = false, got_db = false, got_set = false;
  bool found_arg = false;
  bool odd = false;
  const std::size_t len = stmt.size();
  std::size_t line_start = 0;
  std::size_t line_index = 0;
  if (line_cache_.empty()) line_cache_.resize(kCachedLinePositions * kCachedLineWays);
  while (true) {
    // The line last seen at this position first (see the line cache below): a line equal to
    // it, newline included, is told by one compare, before its end is searched and its tag
    // computed. (A cached line passed IsMetaLine, which reads only the line's own bytes.)
    CachedLine* hit = nullptr;
    std::size_t nl = kNpos;
    if (line_index < kCachedLinePositions) {
      CachedLine& e = line_cache_[line_index * kCachedLineWays + last_way_[line_index]];
      const std::size_t m = e.line.size();
      if (e.kind != CachedLine::Kind::kNone && m < len - line_start &&
          stmt[line_start + m] == '\n' && SameLine(e.line.data(), stmt.data() + line_start, m)) {
        hit = &e;
        nl = line_start + m;
      }
    }
    // IsMetaLine looks at a prefix without newlines: the rest of the record answers for the
    // line, and the statement's first line is not searched for its end.
    if (hit == nullptr && !IsMetaLine(stmt.substr(line_start))) {
      if (find_headers && FindAnyHeaderNeedle(stmt, line_start) != kNpos) return Outcome::kHeaders;
      Put(event, "arg", stmt.substr(line_start));  // cmd stays: an admin line may precede
      break;
    }
    if (hit == nullptr) nl = FindChar(stmt, '\n', line_start);
    const std::size_t line_end = nl == kNpos ? len : nl;
    std::string_view line = stmt.substr(line_start, line_end - line_start);
    std::string_view ts;
    UserHost uh;
    auto put_user_host = [&] {
      event.user = uh.user;  // (as Put() sets these keys)
      event.host = uh.host.empty() || SameText(uh.host, "0") ? uh.ip : uh.host;
      event.ip = uh.ip;
      if (!uh.thread_id.empty() && !SameText(uh.thread_id, "0"))
        Put(event, "Thread_id", uh.thread_id);
      event.has_user_host = true;
      got_uh = true;
    };

    // Header lines repeat from event to event ("# Rows_affected: 0  Bytes_sent: 197" in
    // thousands of events): a line equal to a cached line at the same position of an earlier
    // record reuses that line's outcome (its pairs, typed) instead of being matched, scanned
    // and converted again. A cached outcome is the branch of the chain below that the line
    // takes when all got_* flags are false, stored only when every earlier branch's test is
    // false for the line itself (not merely skipped by a flag); so it is the branch taken now
    // too, provided its own flag allows it (checked below; else the line goes the long way).
    CachedLine* store = nullptr;  // on a miss: the entry for this line's outcome
    bool handled = false;
    if (hit == nullptr && line_index < kCachedLinePositions && line.size() <= kMaxCachedLineSize) {
      // The tags of a position's ways sit together: a line that is not cached is told by
      // them, without touching the entries' copies of their lines.
      CachedLine* const ways = &line_cache_[line_index * kCachedLineWays];
      std::uint64_t* const tags = &line_tags_[line_index * kCachedLineWays];
      const std::uint64_t tag = LineTag(line);
      unsigned same_tag = 0;  // (the tags first: an entry is looked at only when its tag is)
      for (std::size_t w = 0; w < kCachedLineWays; ++w) {
        same_tag |= static_cast<unsigned>(tags[w] == tag) << w;
      }
      for (; same_tag != 0; same_tag &= same_tag - 1) {
        const unsigned w = static_cast<unsigned>(__builtin_ctz(same_tag));
        CachedLine& e = ways[w];
        if (e.kind != CachedLine::Kind::kNone && e.line.size() == line.size() &&
            SameLine(e.line.data(), line.data(), line.size())) {
          hit = &e;
          last_way_[line_index] = static_cast<std::uint8_t>(w);
          break;
        }
      }
      if (hit == nullptr) {
        std::uint8_t& victim = next_way_[line_index];
        store = &ways[victim];
        store->kind = CachedLine::Kind::kNone;  // (filled below, if the line's branch caches)
        tags[victim] = tag;
        last_way_[line_index] = victim;
        victim = static_cast<std::uint8_t>((victim + 1) % kCachedLineWays);
      }
    }
    // A hit whose branch is not open (a second User@Host or SET line) goes the long way.
    if (hit == nullptr) {
      // not cached (store: looked up, not found; the long way below stores it)
    } else if (hit->kind == CachedLine::Kind::kAttribute) {
      PutLine(event, *hit);
      handled = true;
    } else if (hit->kind == CachedLine::Kind::kUserHost && !got_uh) {
      uh.user = hit->Text(hit->pairs[0]);
      uh.host = hit->Text(hit->pairs[1]);
      uh.ip = hit->Text(hit->pairs[2]);
      uh.thread_id = hit->Text(hit->pairs[3]);
      put_user_host();
      handled = true;
    } else if (hit->kind == CachedLine::Kind::kSet && !got_set) {
      PutLine(event, *hit);
      odd = hit->set_fields % 2 == 1;
      got_set = true;
      handled = true;
    }
    if (store != nullptr && templates_[line_index].slot_count > 0 &&
        PutByTemplate(event, templates_[line_index], line, *store)) {
      handled = true;  // (the attribute branch: see LineTemplate)
      ++templated_lines_;
    }
    ++line_index;
    // For storing: the User@Host test is false for the line (it was not run when got_uh).
    auto not_user_host = [&] {
      UserHost unused;
      return !got_uh || FindChar(line, '@', 0) == kNpos || !MatchUserHost(line, unused);
    };

    if (!handled && find_headers && line[0] == 'S' && FindAnyHeaderNeedle(line, 0) != kNpos) {
      return Outcome::kHeaders;  // (a SET line is cached only after this test)
    }
    if (handled) {
      // done: the cached outcome is this line's
    } else if (!got_ts && MatchTime(line, ts)) {
      Put(event, "ts", ts);
      got_ts = true;
      if (!got_uh && MatchUserHost(line, uh)) put_user_host();
    } else if (!got_uh && MatchUserHost(line, uh)) {
      if (store != nullptr && !StartsWith(line, "# Time: "))
        store->SetUserHost(line, uh.user, uh.host, uh.ip, uh.thread_id);
      put_user_host();
    } else if (!got_ac && StartsWith(line, "# administrator command:")) {
      std::size_t k = 1;
      while (k < line.size() && IsSpace(line[k])) ++k;
      Put(event, "cmd", "Admin");
      Put(event, "arg", line.substr(k));
      found_arg = got_ac = true;
    } else if (IsAttributeLine(line)) {
      if (NeedsSchemaFix(line)) {
        line = Keep(SchemaFixed(line));  // (not cached: the pairs are not the line's own)
        store = nullptr;
      }
      // (An attribute line is never an admin line: that one goes on in lower case.)
      if (store != nullptr && !StartsWith(line, "# Time: ") && not_user_host() &&
          store->SetAttributes(line)) {
        PutPairs(event, *store);
        // (A line that cannot be a template leaves the position's template as it is.)
        templates_[line_index - 1].Make(*store);
      } else {
        ForEachPair(line, [&](std::string_view k, std::string_view v) { Put(event, k, v); });
      }
    } else if (!got_db && StartsWith(line, "use ") && line.size() > 4 && line[4] != ';') {
      const std::size_t semi = line.find(';', 4);
      Put(event, "db", line.substr(4, (semi == kNpos ? line.size() : semi) - 4));
      got_db = true;
    } else if (!got_set && StartsWith(line, "SET") && line.size() > 3 && IsSpace(line[3])) {
      std::size_t k = 3;
      while (k < line.size() && IsSpace(line[k])) ++k;
      const std::size_t semi = line.find(';', k);
      const std::string_view setting = line.substr(k, (semi == kNpos ? line.size() : semi) - k);
      // (A "SET" line is no Time, admin, attribute or "use" line.)
      if (store != nullptr && not_user_host() && store->SetSetting(line, setting)) {
        PutPairs(event, *store);
        odd = store->set_fields % 2 == 1;
      } else {
        const std::size_t fields = SplitSetting(
            setting, [&](std::string_view a, std::string_view b) { Put(event, a, b); });
        odd = fields % 2 == 1;
      }
      got_set = true;
    }
    if (!found_arg && line_end == len) {
      // A record of header lines only: pt reads on to the next ";\n".
      Piece l;
      const Outcome r = ReadRecord(false, l);
      if (r == Outcome::kNeedMore) return r;
      if (r == Outcome::kEnd) {
        ++stats_.skipped_truncated;
        return Outcome::kSkip;
      }
      // /^\s*[A-Z][a-z_]+: / : the next event's header follows (pt's "NULL query").
      std::size_t k = 0;
      while (k < l.text.size() && IsSpace(l.text[k])) ++k;
      std::size_t w = k + 1;
      while (w < l.text.size() && ((l.text[w] >= 'a' && l.text[w] <= 'z') || l.text[w] == '_')) {
        ++w;
      }
      if (k < l.text.size() && IsUpper(l.text[k]) && w > k + 1 && w + 1 < l.text.size() &&
          l.text[w] == ':' && l.text[w + 1] == ' ') {
        Piece rest;
        const Outcome r2 = ReadRecord(true, rest);
        if (r2 == Outcome::kNeedMore) return r2;
        if (r2 == Outcome::kEnd) {  // pt dies on the undefined rest of the event
          ++stats_.skipped_malformed;
          return Outcome::kDie;
        }
        std::string merged(l.text);
        merged.append(rest.text);
        pending_.push_back(Piece{Keep(std::move(merged)), l.offset, false});
        Put(event, "cmd", "Query");
        Put(event, "arg", "/* No query */");
        event.no_query = true;
      } else {
        std::string_view a = l.text;
        if (a.size() >= 2 && a.substr(a.size() - 2) == ";\n") a.remove_suffix(2);
        while (!a.empty() && IsSpace(a[0])) a.remove_prefix(1);
        Put(event, "cmd", "Admin");
        Put(event, "arg", a);
      }
      found_arg = true;
    }
    if (nl == kNpos || nl + 1 >= len) break;
    line_start = nl + 1;
  }

  if (odd) {  // Perl: "Odd number of elements in anonymous hash" is fatal in pt
    ++stats_.skipped_malformed;
    return Outcome::kDie;
  }
  if (event.arg.empty() || event.arg == "0") {
    ++stats_.skipped_no_statement;
    return Outcome::kNoEvent;
  }
  bool has_query_time = false;
  for (std::size_t i = 0; i < event.attribute_count; ++i) {
    Attribute& a = event.attributes[i];
    if (!typed_.test(i)) TypeAttribute(a);
    if (SameText(a.name, "Query_time")) {
      has_query_time = true;
      if (a.type != AttributeType::kNumber) {
        const std::string_view lead = LeadingDecimal(a.text);
        if (lead.empty()) {
          ++stats_.query_time_invalid;
        } else {
          ++stats_.query_time_repaired;
          a.type = AttributeType::kNumber;
          a.number = ParseDouble(lead);
        }
      }
    }
  }
  if (!has_query_time) ++stats_.query_time_missing;
  return Outcome::kEvent;
}

// --- SlowLogReader -------------------------------------------------------------------------

struct SlowLogReader::Source {
  int fd = -1;
  gzFile gz = nullptr;
  void* map = nullptr;
  std::size_t map_size = 0;
  bool mapped = false;

  ~Source() {
    if (map != nullptr) munmap(map, map_size);
    if (gz != nullptr) {
      gzclose(gz);  // closes fd too
    } else if (fd >= 0) {
      close(fd);
    }
  }
};

SlowLogReader::~SlowLogReader() = default;

core::Result<std::unique_ptr<SlowLogReader>> SlowLogReader::Open(const std::string& path) {
  std::unique_ptr<SlowLogReader> reader(new SlowLogReader());
  reader->path_ = path;
  auto source = std::make_unique<Source>();
  const bool is_stdin = path == "-";
  source->fd = is_stdin ? dup(STDIN_FILENO) : open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (source->fd < 0) {
    const int err = errno;
    return core::MakeError(err == ENOENT ? core::ErrorCode::kNotFound : core::ErrorCode::kIo,
                           "cannot open slow log '" + path + "': " + ErrnoText(err),
                           "check the path and its permissions");
  }
  struct stat st {};
  if (fstat(source->fd, &st) != 0) {
    return core::MakeError(core::ErrorCode::kIo,
                           "cannot stat slow log '" + path + "': " + ErrnoText(errno));
  }
  bool stream = !S_ISREG(st.st_mode);
  if (!stream && st.st_size > 0) {
    unsigned char magic[2] = {0, 0};
    if (pread(source->fd, magic, 2, 0) == 2 && magic[0] == 0x1f && magic[1] == 0x8b) {
      stream = true;
    } else {
      source->map_size = static_cast<std::size_t>(st.st_size);
      source->map = mmap(nullptr, source->map_size, PROT_READ, MAP_PRIVATE, source->fd, 0);
      if (source->map == MAP_FAILED) {
        source->map = nullptr;
        stream = true;
      } else {
        madvise(source->map, source->map_size, MADV_SEQUENTIAL);
        const std::string_view text(static_cast<const char*>(source->map), source->map_size);
        const std::size_t nl = text.find('\n');
        if (nl != kNpos && nl > 0 && text[nl - 1] == '\r') {  // CR LF: fold while streaming
          munmap(source->map, source->map_size);
          source->map = nullptr;
          stream = true;
        }
      }
    }
  }
  if (stream) {
    if (!is_stdin) lseek(source->fd, 0, SEEK_SET);
    source->gz = gzdopen(source->fd, "rb");  // transparent for uncompressed input
    if (source->gz == nullptr) {
      return core::MakeError(core::ErrorCode::kIo, "cannot read slow log '" + path + "'");
    }
    gzbuffer(source->gz, 1 << 20);
    reader->parser_ = SlowLogParser::ForStream();
  } else {
    source->mapped = true;
    const std::string_view text(static_cast<const char*>(source->map), source->map_size);
    reader->parser_ = SlowLogParser(text);
  }
  reader->source_ = std::move(source);
  return reader;
}

std::optional<std::string_view> SlowLogReader::Mapped() const {
  if (!source_->mapped) return std::nullopt;
  return std::string_view(static_cast<const char*>(source_->map), source_->map_size);
}

core::Status SlowLogReader::Fill() {
  // Drop what the parser no longer needs, then append one block.
  const std::uint64_t keep = parser_.KeepFrom();
  if (keep > buffer_base_) {
    const std::size_t drop = std::min<std::uint64_t>(keep - buffer_base_, buffer_.size());
    if (drop > buffer_.size() / 2 || drop > (std::size_t{64} << 20)) {
      buffer_.erase(0, drop);
      buffer_base_ += drop;
    }
  }
  const std::size_t old_size = buffer_.size();
  buffer_.resize(old_size + block_size_);
  const int got =
      gzread(source_->gz, buffer_.data() + old_size, static_cast<unsigned>(block_size_));
  if (got < 0) {
    int errnum = 0;
    const char* msg = gzerror(source_->gz, &errnum);
    buffer_.resize(old_size);
    return core::MakeError(core::ErrorCode::kIo,
                           "cannot read slow log '" + path_ + "': " + (msg ? msg : "read error"),
                           "a gzip file may be truncated or corrupt");
  }
  buffer_.resize(old_size + static_cast<std::size_t>(got));
  if (got == 0) {
    eof_ = true;
    int errnum = 0;
    const char* msg = gzerror(source_->gz, &errnum);
    if (errnum != Z_OK) {
      return core::MakeError(core::ErrorCode::kIo,
                             "cannot read slow log '" + path_ + "': " + (msg ? msg : "error"),
                             "a gzip file may be truncated or corrupt");
    }
    if (held_cr_) buffer_.push_back('\r'), held_cr_ = false;
  }
  std::size_t fresh = old_size;
  if (crlf_ < 0) {
    const std::size_t nl = buffer_.find('\n');
    if (nl != std::string::npos) {
      crlf_ = nl > 0 && buffer_[nl - 1] == '\r' ? 1 : 0;
      fresh = 0;  // fold what came before the first newline too
      if (crlf_ == 1) parser_.MarkCrlf();
    }
  }
  if (crlf_ == 1 && got > 0) {
    // Fold CR LF into LF in the new bytes; a CR at the very end waits for the next block.
    std::string& b = buffer_;
    std::size_t w = fresh;
    if (held_cr_) {
      if (b[fresh] != '\n') b.insert(b.begin() + static_cast<std::ptrdiff_t>(fresh), '\r');
      held_cr_ = false;
    }
    for (std::size_t r = fresh; r < b.size(); ++r) {
      if (b[r] == '\r' && r + 1 < b.size() && b[r + 1] == '\n') continue;
      b[w++] = b[r];
    }
    b.resize(w);
    if (!b.empty() && b.back() == '\r') b.pop_back(), held_cr_ = true;
  }
  if (buffer_.size() > old_size) parser_.AddInputBytes(buffer_.size() - old_size);
  parser_.SetWindow(buffer_, buffer_base_, eof_);
  return core::Ok();
}

core::Result<bool> SlowLogReader::Next(SlowLogEvent& event) {
  while (true) {
    if (parser_.Next(event)) return true;
    if (!parser_.NeedsMore()) return false;
    if (auto st = Fill(); !st) return core::Fail(st.error());
  }
}

core::Result<SlowLogStats> ReadSlowLogs(
    const std::vector<std::string>& paths,
    const std::function<void(const SlowLogEvent&, std::size_t)>& sink) {
  SlowLogStats total;
  auto event = std::make_unique<SlowLogEvent>();
  for (std::size_t i = 0; i < paths.size(); ++i) {
    auto reader = SlowLogReader::Open(paths[i]);
    if (!reader) return core::Fail(reader.error());
    while (true) {
      auto more = (*reader)->Next(*event);
      if (!more) return core::Fail(more.error());
      if (!*more) break;
      sink(*event, i);
    }
    total.Add((*reader)->stats());
  }
  return total;
}

}  // namespace dbrunbook::digest
