#include "dialect/slowlog.h"

#include <fmt/format.h>

#include <cmath>
#include <string_view>

#include "core/strings.h"

namespace dbrunbook::dialect {
namespace {

// long_query_time's range on every flavor (seconds, microsecond precision).
constexpr double kLongQueryTimeMax = 31536000;

constexpr std::string_view kCommonVariables[] = {
    "slow_query_log",
    "long_query_time",
    "slow_query_log_file",
    "log_output",
    "min_examined_row_limit",
    "log_queries_not_using_indexes",
    "log_slow_admin_statements",
};

constexpr std::string_view kMariaDbVariables[] = {
    "log_slow_query",
    "log_slow_query_time",
    "log_slow_query_file",
    "log_slow_min_examined_row_limit",
    "log_slow_filter",
    "log_slow_rate_limit",
    "log_slow_verbosity",
    "log_slow_disabled_statements",
    "log_slow_slave_statements",
};

constexpr std::string_view kMySqlVariables[] = {
    "log_slow_extra",
    "log_slow_replica_statements",
    "log_slow_slave_statements",
    "log_throttle_queries_not_using_indexes",
};

constexpr std::string_view kPerconaVariables[] = {
    "log_slow_filter",
    "log_slow_rate_limit",
    "log_slow_rate_type",
    "log_slow_verbosity",
    "slow_query_log_use_global_control",
};

bool CanSetGlobal(const Dialect& d) {
  return d.flavor().detected() && !SlowLogUsesParameterGroups(d.flavor());
}

}  // namespace

std::string SlowLogVariables(const Dialect& d) {
  const Flavor& flavor = d.flavor();
  std::vector<std::string_view> names(std::begin(kCommonVariables), std::end(kCommonVariables));
  if (flavor.is_mariadb()) {
    names.insert(names.end(), std::begin(kMariaDbVariables), std::end(kMariaDbVariables));
  } else {
    names.insert(names.end(), std::begin(kMySqlVariables), std::end(kMySqlVariables));
    if (flavor.product == Product::kPerconaServer ||
        flavor.product == Product::kPerconaXtraDBCluster) {
      names.insert(names.end(), std::begin(kPerconaVariables), std::end(kPerconaVariables));
    }
  }
  std::string list;
  for (std::string_view name : names) {
    if (!list.empty()) list += ", ";
    list += fmt::format("'{}'", name);
  }
  return fmt::format("SHOW GLOBAL VARIABLES WHERE Variable_name IN ({})", list);
}

bool SlowLogUsesParameterGroups(const Flavor& flavor) {
  return flavor.platform == Platform::kRds || flavor.platform == Platform::kAurora;
}

std::string SetSlowQueryLog(const Dialect& d, bool on) {
  if (!CanSetGlobal(d)) return {};
  return fmt::format("SET GLOBAL slow_query_log = {}", on ? "ON" : "OFF");
}

std::string FormatLongQueryTime(double seconds) {
  std::string text = fmt::format("{:.6f}", seconds);
  while (!text.empty() && text.back() == '0') text.pop_back();
  if (!text.empty() && text.back() == '.') text.pop_back();
  return text;
}

std::string SetLongQueryTime(const Dialect& d, double seconds) {
  if (!CanSetGlobal(d)) return {};
  if (!std::isfinite(seconds) || seconds < 0 || seconds > kLongQueryTimeMax) return {};
  return fmt::format("SET GLOBAL long_query_time = {}", FormatLongQueryTime(seconds));
}

std::string NormalizeLogOutput(std::string_view destinations) {
  bool file = false;
  bool table = false;
  bool none = false;
  bool any = false;
  for (std::string_view part : core::Split(destinations, ',')) {
    part = core::Trim(part);
    if (part.empty()) continue;
    any = true;
    if (core::EqualsIgnoreCase(part, "FILE")) {
      file = true;
    } else if (core::EqualsIgnoreCase(part, "TABLE")) {
      table = true;
    } else if (core::EqualsIgnoreCase(part, "NONE")) {
      none = true;
    } else {
      return {};
    }
  }
  if (!any) return {};
  // The order SHOW VARIABLES prints the set in (checked on MariaDB 10.11: 'TABLE,FILE' reads
  // back as FILE,TABLE and 'TABLE,NONE' as NONE,TABLE).
  std::string out;
  for (const auto& [present, name] : {std::pair{none, "NONE"}, {file, "FILE"}, {table, "TABLE"}}) {
    if (!present) continue;
    if (!out.empty()) out += ',';
    out += name;
  }
  return out;
}

std::string SetLogOutput(const Dialect& d, std::string_view destinations) {
  if (!CanSetGlobal(d)) return {};
  const std::string normalized = NormalizeLogOutput(destinations);
  if (normalized.empty()) return {};
  return fmt::format("SET GLOBAL log_output = '{}'", normalized);
}

}  // namespace dbrunbook::dialect
