// Statements are outside input (any client's text, cut at any byte by the slow log): every
// byte string must fingerprint without crashing or hanging, under every option, and the
// buffer-reusing form must give the same result as the plain one. Query IDs are always 32
// upper-case hex digits. A statement DigitRunKey accepts keeps its key and its fingerprint
// when its runs of digits are written differently (what the aggregator's memo relies on).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "digest/fingerprint.h"

namespace {

void Check(bool condition) {
  if (!condition) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view query(reinterpret_cast<const char*>(data), size);
  std::string reused = "left over from an earlier statement";
  for (int bits = 0; bits < 4; ++bits) {
    dbrunbook::digest::FingerprintOptions options;
    options.match_md5_checksums = (bits & 1) != 0;
    options.match_embedded_numbers = (bits & 2) != 0;
    const std::string fingerprint = dbrunbook::digest::Fingerprint(query, options);
    dbrunbook::digest::FingerprintInto(query, options, reused);
    Check(reused == fingerprint);
    const std::string id = dbrunbook::digest::QueryId(fingerprint);
    Check(id.size() == 32);
    for (char c : id) Check((c >= '0' && c <= '9') || (c >= 'A' && c <= 'F'));
  }
  std::string key;
  if (dbrunbook::digest::DigitRunKey(query, key)) {
    // Every run of digits written "7", then every run one digit longer.
    for (int respelling = 0; respelling < 2; ++respelling) {
      std::string other;
      for (std::size_t i = 0; i < query.size();) {
        if (query[i] < '0' || query[i] > '9') {
          other += query[i++];
          continue;
        }
        std::size_t j = i;
        while (j < query.size() && query[j] >= '0' && query[j] <= '9') ++j;
        other += respelling == 0 ? std::string("7") : std::string(query.substr(i, j - i)) + "1";
        i = j;
      }
      std::string other_key;
      Check(dbrunbook::digest::DigitRunKey(other, other_key));
      Check(other_key == key);
      Check(dbrunbook::digest::Fingerprint(other) == dbrunbook::digest::Fingerprint(query));
    }
  }
  return 0;
}
