#include "steps/investigate_slowlog.h"

#include <fmt/format.h>

#include <cmath>

#include "core/duration.h"
#include "core/strings.h"
#include "dialect/slowlog.h"
#include "steps/grants.h"

namespace dbrunbook::steps {
namespace {

const std::string* Lookup(const dialect::VariableMap& variables, std::string_view name) {
  auto it = variables.find(std::string(name));
  return it == variables.end() ? nullptr : &it->second;
}

// The first of `names` the server reported (a name and its MariaDB 10.11 alias, or an old name).
const std::string* First(const dialect::VariableMap& variables,
                         std::initializer_list<std::string_view> names) {
  for (std::string_view name : names) {
    if (const std::string* value = Lookup(variables, name)) return value;
  }
  return nullptr;
}

std::optional<bool> ParseOnOff(std::string_view text) {
  text = core::Trim(text);
  if (core::EqualsIgnoreCase(text, "ON") || text == "1") return true;
  if (core::EqualsIgnoreCase(text, "OFF") || text == "0") return false;
  return std::nullopt;
}

std::optional<int64_t> ParseCount(const std::string* text) {
  if (text == nullptr) return std::nullopt;
  auto value = core::ParseDouble(*text);
  if (!value) return std::nullopt;
  return static_cast<int64_t>(*value);
}

bool IsAws(const dialect::Flavor& flavor) { return dialect::SlowLogUsesParameterGroups(flavor); }

EvidenceRow StateRow(const SlowLogState& s) {
  EvidenceRow row;
  row.Add("slow_query_log", s.enabled_text.empty() ? std::optional<std::string>()
                                                   : std::optional<std::string>(s.enabled_text));
  row.Add("long_query_time_seconds",
          s.long_query_time ? EvidenceValue(*s.long_query_time) : EvidenceValue(std::monostate{}));
  row.Add("log_output", s.log_output);
  row.Add("slow_query_log_file", s.file);
  if (s.min_examined_row_limit) row.Add("min_examined_row_limit", *s.min_examined_row_limit);
  if (s.rate_limit) row.Add("log_slow_rate_limit", *s.rate_limit);
  if (const std::string* v = Lookup(s.variables, "log_queries_not_using_indexes")) {
    row.Add("log_queries_not_using_indexes", *v);
  }
  if (const std::string* v = Lookup(s.variables, "log_slow_filter"); v && !v->empty()) {
    row.Add("log_slow_filter", *v);
  }
  return row;
}

// What keeps slow statements out of a log that is on, one clause each.
std::vector<std::string> Filters(const SlowLogState& s) {
  std::vector<std::string> out;
  if (s.min_examined_row_limit && *s.min_examined_row_limit > 0) {
    out.push_back(
        fmt::format("statements examining fewer than {} rows are not logged "
                    "(min_examined_row_limit)",
                    *s.min_examined_row_limit));
  }
  if (s.rate_limit && *s.rate_limit > 1) {
    out.push_back(
        fmt::format("only one statement in {} is logged (log_slow_rate_limit)", *s.rate_limit));
  }
  if (s.writes_table() && !s.writes_file()) {
    out.push_back("log_output=TABLE: the log is the table mysql.slow_log (read it with SELECT)");
  }
  return out;
}

std::string Destination(const SlowLogState& s) {
  if (s.writes_file() && s.writes_table()) {
    return fmt::format("{} and mysql.slow_log", s.file.empty() ? "the file" : s.file);
  }
  if (s.writes_table()) return "mysql.slow_log";
  return s.file.empty() ? std::string("the slow log file") : s.file;
}

void AddEnableSuggestions(Finding& f, const StepContext& context, const SlowLogState& s,
                          double seconds) {
  const auto& flavor = context.target.flavor();
  if (IsAws(flavor)) {
    f.suggestions.push_back({ParameterGroupAdvice(flavor, seconds), ""});
    return;
  }
  const std::vector<SlowLogChange> changes = EnableChanges(context.target.dialect, s, seconds);
  bool threshold_changes = false;
  std::vector<std::string> statements;
  for (const auto& c : changes) {
    statements.push_back(c.statement);
    if (c.variable == "long_query_time") threshold_changes = true;
  }
  f.suggestions.push_back(
      {fmt::format("turn it on with the runbook's threshold (needs {}){}",
                   SetGlobalPrivilege(flavor),
                   threshold_changes ? "; long_query_time applies to connections opened "
                                       "afterwards, existing ones keep their own"
                                     : ""),
       fmt::format("{}", fmt::join(statements, "; "))});
  // A configured target is named; an ad-hoc one is a DSN (FormatDsn, never a password)
  // that needs --dsn and the same credential option as this run.
  const std::string& name = context.target.target_name();
  const bool ad_hoc = name.starts_with("mysql://");
  f.suggestions.push_back(
      {fmt::format("or let dbrunbook do it and record the previous values: dbrunbook investigate "
                   "{}{} --enable-slow-log={} --apply{} (put them back with --restore-slow-log "
                   "--apply)",
                   ad_hoc ? "--dsn " : "", name, dialect::FormatLongQueryTime(seconds),
                   ad_hoc ? " with this run's password option" : ""),
       ""});
}

}  // namespace

bool SlowLogState::writes_file() const {
  return !writes_nowhere() && log_output.find("FILE") != std::string::npos;
}

bool SlowLogState::writes_table() const {
  return !writes_nowhere() && log_output.find("TABLE") != std::string::npos;
}

bool SlowLogState::writes_nowhere() const {
  return log_output.empty() || log_output.find("NONE") != std::string::npos;
}

std::vector<SlowLogChange> EnableChanges(const dialect::Dialect& d, const SlowLogState& now,
                                         double seconds) {
  std::vector<SlowLogChange> changes;
  // long_query_time has microsecond precision: closer than that is the same value.
  if (!now.long_query_time || std::fabs(*now.long_query_time - seconds) >= 5e-7) {
    changes.push_back({"long_query_time", now.long_query_time_text,
                       dialect::FormatLongQueryTime(seconds),
                       dialect::SetLongQueryTime(d, seconds)});
  }
  if (now.writes_nowhere()) {
    auto output = now.variables.find("log_output");
    changes.push_back({"log_output",
                       output != now.variables.end() ? output->second : now.log_output, "FILE",
                       dialect::SetLogOutput(d, "FILE")});
  }
  if (now.enabled != true) {
    changes.push_back(
        {"slow_query_log", now.enabled_text, "ON", dialect::SetSlowQueryLog(d, true)});
  }
  return changes;
}

SlowLogState ParseSlowLogState(const mysql::ResultSet& rows) {
  SlowLogState s;
  for (const auto& row : rows.rows) {
    auto name = row["Variable_name"].AsString();
    if (!name) continue;
    s.variables.insert_or_assign(std::string(*name), row["Value"].StringOr(""));
  }
  const auto& v = s.variables;
  if (const std::string* on = First(v, {"slow_query_log", "log_slow_query", "log_slow_queries"})) {
    s.enabled_text = *on;
    s.enabled = ParseOnOff(*on);
  }
  if (const std::string* t = First(v, {"long_query_time", "log_slow_query_time"})) {
    s.long_query_time_text = *t;
    s.long_query_time = core::ParseDouble(*t);
  }
  if (const std::string* file = First(v, {"slow_query_log_file", "log_slow_query_file"})) {
    s.file = *file;
  }
  // Before MySQL 5.1.6 there was no log_output: the log was a file.
  const std::string* output = Lookup(v, "log_output");
  s.log_output = output != nullptr ? dialect::NormalizeLogOutput(*output) : "FILE";
  s.min_examined_row_limit =
      ParseCount(First(v, {"min_examined_row_limit", "log_slow_min_examined_row_limit"}));
  s.rate_limit = ParseCount(Lookup(v, "log_slow_rate_limit"));
  return s;
}

core::Result<SlowLogState> ReadSlowLogState(collect::TargetSession& target) {
  auto rows = target.session->Query(dialect::SlowLogVariables(target.dialect));
  if (!rows) return core::Fail(rows.error());
  return ParseSlowLogState(*rows);
}

std::string GrantSetGlobalVariables(const dialect::Flavor& flavor, std::string_view account) {
  if (IsAws(flavor)) return {};
  if (flavor.is_mysql_family() && flavor.version.AtLeast(8, 0)) {
    return fmt::format("GRANT SYSTEM_VARIABLES_ADMIN ON *.* TO {}", account);
  }
  return fmt::format("GRANT SUPER ON *.* TO {}", account);
}

std::string SetGlobalPrivilege(const dialect::Flavor& flavor) {
  if (IsAws(flavor)) return {};
  return flavor.is_mysql_family() && flavor.version.AtLeast(8, 0)
             ? "SYSTEM_VARIABLES_ADMIN (or the deprecated SUPER)"
             : "SUPER";
}

std::string ParameterGroupAdvice(const dialect::Flavor& flavor, double seconds) {
  const bool aurora = flavor.platform == dialect::Platform::kAurora;
  return fmt::format(
      "on {} the slow log is configured in the {} (the master user cannot SET GLOBAL): set "
      "slow_query_log = 1, long_query_time = {} and log_output = FILE (FILE is what the console, "
      "`aws rds download-db-log-file-portion` and CloudWatch Logs export read; TABLE writes "
      "mysql.slow_log instead). These parameters are dynamic: no reboot; a custom parameter "
      "group is needed if the {} uses a default one.",
      aurora ? "Aurora" : "Amazon RDS",
      aurora ? "DB cluster parameter group (or the instance's DB parameter group)"
             : "DB instance's parameter group",
      dialect::FormatLongQueryTime(seconds), aurora ? "cluster" : "instance");
}

std::string SlowLogStep::RequiredGrant(const dialect::Flavor& /*flavor*/,
                                       std::string_view account) const {
  // SHOW GLOBAL VARIABLES needs no privilege; on MySQL 5.7+ it is served from
  // performance_schema.global_variables, the only grant that could be involved.
  return GrantPerformanceSchema(account);
}

core::Result<std::vector<Finding>> SlowLogStep::Run(StepContext& context) {
  auto state = ReadSlowLogState(context.target);
  if (!state) return core::Fail(state.error());
  const SlowLogState& s = *state;
  const auto& flavor = context.target.flavor();
  std::vector<Finding> findings;

  if (!s.enabled) {
    Finding f;
    f.code = "slowlog.state";
    f.severity = Severity::kInfo;
    f.title = "the server did not report slow_query_log: the slow log state is unknown";
    f.evidence.push_back(StateRow(s));
    findings.push_back(std::move(f));
    return findings;
  }

  if (!s.recording()) {
    Finding f;
    f.code = "slowlog.off";
    f.severity = Severity::kWarning;
    f.title = *s.enabled ? "the slow query log is ON but log_output is NONE: nothing is written"
                         : "the slow query log is OFF: slow statements of this incident are not "
                           "being recorded";
    f.detail = fmt::format(
        "The runbook's investigation reads the slow log. long_query_time is {}{}.",
        s.long_query_time ? core::FormatSeconds(*s.long_query_time) : "unknown",
        s.writes_nowhere() ? "" : fmt::format("; the log would go to {}", Destination(s)));
    f.evidence.push_back(StateRow(s));
    AddEnableSuggestions(f, context, s, kRunbookLongQueryTime);
    findings.push_back(std::move(f));
    return findings;
  }

  const std::vector<std::string> filters = Filters(s);
  Finding state_finding;
  state_finding.code = "slowlog.state";
  state_finding.severity = Severity::kInfo;
  state_finding.title = fmt::format(
      "the slow query log is ON: statements over {} go to {}",
      s.long_query_time ? core::FormatSeconds(*s.long_query_time) : "an unknown threshold",
      Destination(s));
  if (!filters.empty()) {
    state_finding.detail = fmt::format("Filters: {}.", fmt::join(filters, "; "));
  }
  state_finding.evidence.push_back(StateRow(s));
  findings.push_back(std::move(state_finding));

  if (s.long_query_time && *s.long_query_time > kRunbookSlowQuerySeconds) {
    Finding f;
    f.code = "slowlog.threshold_high";
    f.severity = Severity::kInfo;
    f.title = fmt::format(
        "long_query_time is {}: statements between {} (the runbook's slow query) and {} are not "
        "logged",
        core::FormatSeconds(*s.long_query_time), core::FormatSeconds(kRunbookSlowQuerySeconds),
        core::FormatSeconds(*s.long_query_time));
    f.evidence.push_back(StateRow(s));
    if (IsAws(flavor)) {
      f.suggestions.push_back({ParameterGroupAdvice(flavor, kRunbookLongQueryTime), ""});
    } else {
      f.suggestions.push_back(
          {fmt::format("lower it to the runbook's {} (needs {}; new connections only)",
                       core::FormatSeconds(kRunbookLongQueryTime), SetGlobalPrivilege(flavor)),
           dialect::SetLongQueryTime(context.target.dialect, kRunbookLongQueryTime)});
    }
    findings.push_back(std::move(f));
  }
  return findings;
}

}  // namespace dbrunbook::steps
