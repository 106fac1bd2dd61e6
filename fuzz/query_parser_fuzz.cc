// Statements are outside input (any client's text, cut at any byte by the slow log): every
// byte string must go through table extraction, distillation, EXPLAIN conversion and
// shortening without crashing or hanging, and the functions must agree with each other.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "digest/query_parser.h"

namespace {

void Check(bool condition) {
  if (!condition) __builtin_trap();
}

bool StartsWithSelect(std::string_view s) {
  size_t k = 0;
  while (k < s.size() && (s[k] == '(' || s[k] == ' ' || s[k] == '\t' || s[k] == '\n' ||
                          s[k] == '\v' || s[k] == '\f' || s[k] == '\r')) {
    ++k;
  }
  if (s.size() - k < 6) return false;
  for (size_t i = 0; i < 6; ++i) {
    const char c = s[k + i];
    if ((c | 0x20) != "select"[i]) return false;
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace dbrunbook::digest;  // NOLINT(google-build-using-namespace)
  const std::string_view query(reinterpret_cast<const char*>(data), size);
  const auto raw = GetTablesRaw(query);
  const auto tables = GetTables(query);
  size_t defined = 0;
  bool undefined = false;
  for (const auto& t : raw) {
    if (t) {
      Check(*t == tables[defined]);
      ++defined;
    } else {
      undefined = true;
    }
  }
  Check(defined == tables.size());
  const auto items = GroupByTables(query, "db");
  Check(items.has_value() == !undefined);
  if (items) Check(items->size() == raw.size());
  const auto refs = ExtractTables(query, "db");
  Check(refs.size() <= tables.size());
  (void)TablesReport(refs, true);
  (void)Distill(query);
  (void)ConvertToSelect(query);
  const auto converted = ConvertedForExplain("update t set a=?", query);
  if (converted) Check(StartsWithSelect(*converted));
  (void)Shorten(query, 1);
  (void)Shorten(query, 1024);
  return 0;
}
