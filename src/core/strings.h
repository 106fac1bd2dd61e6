// Small string helpers shared by every module (parsing numbers without exceptions or locale,
// case-insensitive comparison for SQL identifiers, "did you mean" suggestions).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace dbrunbook::core {

std::string ToLower(std::string_view s);
std::string ToUpper(std::string_view s);
bool EqualsIgnoreCase(std::string_view a, std::string_view b);
bool StartsWithIgnoreCase(std::string_view s, std::string_view prefix);
bool ContainsIgnoreCase(std::string_view haystack, std::string_view needle);
std::string_view Trim(std::string_view s);
std::vector<std::string_view> Split(std::string_view s, char sep);

// "1 row lock", "2 row locks": a count with the noun in the matching number.
std::string CountOf(int64_t n, std::string_view singular, std::string_view plural);

// Whole-string numeric parsing: leading/trailing blanks are allowed, anything else is not.
std::optional<int64_t> ParseInt64(std::string_view s);
std::optional<uint64_t> ParseUint64(std::string_view s);
std::optional<double> ParseDouble(std::string_view s);
// "ON"/"YES"/"TRUE"/"1" and "OFF"/"NO"/"FALSE"/"0" (any case).
std::optional<bool> ParseBool(std::string_view s);

// Levenshtein distance, for "did you mean" hints on unknown keys and names.
size_t EditDistance(std::string_view a, std::string_view b);
// The candidate closest to `word` if it is close enough to be a plausible typo, else "".
std::string ClosestMatch(std::string_view word, const std::vector<std::string>& candidates);

// Transparent comparator ordering strings case-insensitively (ASCII), for maps keyed by
// SQL identifiers such as variable names.
struct CaseInsensitiveLess {
  using is_transparent = void;
  bool operator()(std::string_view a, std::string_view b) const;
};

}  // namespace dbrunbook::core
