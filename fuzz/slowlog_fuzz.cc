// Slow logs (digest/slowlog_reader.h) are outside input: any server's log, truncated, rotated
// mid-write, concatenated, or not a slow log at all. Any bytes must parse without crashing, and
// parsing the input as ranges split at NextEventBoundary must find exactly the single pass's
// events (what the multi-threaded digest relies on); and a parser that groups repeated header
// lines (SetGroupRepeatedLines) must give every event the same attributes as one that does not.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "digest/slowlog_reader.h"

namespace {

using dbrunbook::digest::SlowLogEvent;
using dbrunbook::digest::SlowLogParser;

void Check(bool condition) {
  if (!condition) __builtin_trap();
}

// A cheap fingerprint of an event, so sequences can be compared without copying them.
std::uint64_t Hash(const SlowLogEvent& e) {
  std::uint64_t h = 1469598103934665603ULL;
  auto mix = [&](std::string_view s) {
    for (unsigned char c : s) h = (h ^ c) * 1099511628211ULL;
    h = (h ^ 0xff) * 1099511628211ULL;
  };
  mix(e.arg), mix(e.ts), mix(e.user), mix(e.host), mix(e.ip), mix(e.db);
  h ^= e.admin ? 1 : 0;
  for (const auto& a : e.Attributes()) mix(a.name), mix(a.text);
  return h;
}

// The same over every attribute, grouped lines included, in any order.
std::uint64_t HashAll(const SlowLogEvent& e) {
  auto one = [](std::string_view s, std::uint64_t h) {
    for (unsigned char c : s) h = (h ^ c) * 1099511628211ULL;
    return (h ^ 0xff) * 1099511628211ULL;
  };
  std::uint64_t h =
      one(e.arg, one(e.ts, one(e.user, one(e.host, one(e.db, 1469598103934665603ULL)))));
  std::uint64_t attrs = 0;
  std::size_t n = 0;
  e.ForEachAttribute([&](const dbrunbook::digest::Attribute& a) {
    std::uint64_t x = one(a.text, one(a.name, 1469598103934665603ULL));
    x ^= static_cast<std::uint64_t>(a.type) * 0x9E3779B97F4A7C15ULL;
    attrs += x * 0xFF51AFD7ED558CCDULL;
    ++n;
  });
  return h ^ attrs ^ (n << 56) ^ (e.admin ? 1 : 0);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto e = std::make_unique<SlowLogEvent>();
  std::vector<std::uint64_t> single;
  SlowLogParser parser(text);
  while (parser.Next(*e)) {
    Check(!e->arg.empty());
    Check(e->attribute_count <= dbrunbook::digest::kMaxAttributes);
    (void)e->QueryTime();
    single.push_back(Hash(*e));
  }
  Check(parser.EndedCleanly());
  Check(parser.stats().events == single.size());

  // Split in three at NextEventBoundary; merge a range into the next when it does not end
  // cleanly (as the digest does). The concatenation must be the single pass.
  std::vector<std::size_t> bounds{0};
  for (std::size_t cut : {size / 3, size / 2, (size * 4) / 5}) {
    const std::size_t b = dbrunbook::digest::NextEventBoundary(text, cut);
    Check(b >= cut || cut == 0);
    if (b > bounds.back() && b < size) bounds.push_back(b);
  }
  bounds.push_back(size);
  std::vector<std::uint64_t> ranged;
  for (std::size_t k = 0; k + 1 < bounds.size();) {
    std::size_t end = k + 1;
    while (true) {
      std::vector<std::uint64_t> part;
      auto p = SlowLogParser::ForRange(text, bounds[k], bounds[end]);
      while (p.Next(*e)) part.push_back(Hash(*e));
      if (p.EndedCleanly() || end + 1 == bounds.size()) {
        ranged.insert(ranged.end(), part.begin(), part.end());
        break;
      }
      ++end;
    }
    k = end;
  }
  Check(ranged == single);

  std::vector<std::uint64_t> plain;
  std::vector<std::uint64_t> grouped;
  SlowLogParser p1(text);
  while (p1.Next(*e)) plain.push_back(HashAll(*e));
  SlowLogParser p2(text);
  p2.SetGroupRepeatedLines(true);
  while (p2.Next(*e)) grouped.push_back(HashAll(*e));
  Check(plain == grouped);
  return 0;
}
