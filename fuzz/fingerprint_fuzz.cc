// Statements are outside input (any client's text, cut at any byte by the slow log): every
// byte string must fingerprint without crashing or hanging, under every option, and the
// buffer-reusing form must give the same result as the plain one. Query IDs are always 32
// upper-case hex digits.
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
  return 0;
}
