#include "dialect/tuning.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>

namespace dbrunbook::dialect {
namespace {

// Values a tuning SET may carry: digits only (bytes, counts), or one of these keywords.
bool IsSafeValue(std::string_view value) {
  if (value.empty() || value.size() > 20) return false;
  if (std::all_of(value.begin(), value.end(), [](unsigned char c) { return std::isdigit(c); })) {
    return true;
  }
  for (std::string_view keyword : {"ON", "OFF", "DEMAND"}) {
    if (value == keyword) return true;
  }
  return false;
}

}  // namespace

const std::vector<std::string_view>& TunableVariables() {
  static const std::vector<std::string_view> kNames = {
      "innodb_buffer_pool_size", "max_connections",      "tmp_table_size",
      "max_heap_table_size",     "table_open_cache",     "table_definition_cache",
      "thread_cache_size",       "innodb_log_file_size", "innodb_redo_log_capacity",
      "innodb_log_buffer_size",  "query_cache_type",     "query_cache_size"};
  return kNames;
}

bool IsTunableVariable(std::string_view name) {
  const auto& names = TunableVariables();
  return std::find(names.begin(), names.end(), name) != names.end();
}

std::string ReadTunableVariables(const std::vector<std::string>& names) {
  std::string list;
  for (const auto& name : names) {
    if (!IsTunableVariable(name)) continue;
    if (!list.empty()) list += ", ";
    list += fmt::format("'{}'", name);
  }
  if (list.empty()) return {};
  return fmt::format("SHOW GLOBAL VARIABLES WHERE Variable_name IN ({})", list);
}

bool HasSetPersist(const Flavor& flavor) {
  return flavor.detected() && flavor.is_mysql_family() && flavor.version.AtLeast(8, 0) &&
         !IsAwsManaged(flavor);
}

std::string SetTunableVariable(const Dialect& d, std::string_view name, std::string_view value,
                               bool persist) {
  const Flavor& f = d.flavor();
  if (!f.detected() || IsAwsManaged(f)) return {};
  if (!IsTunableVariable(name) || !IsSafeValue(value)) return {};
  if (persist && !HasSetPersist(f)) return {};
  return fmt::format("SET {} {} = {}", persist ? "PERSIST" : "GLOBAL", name, value);
}

}  // namespace dbrunbook::dialect
