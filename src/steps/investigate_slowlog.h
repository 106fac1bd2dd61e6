// Investigation step "slowlog": is the slow query log recording this incident, with which
// threshold, where to, and how to turn it on for this flavor.
//
// Findings:
//   slowlog.off             warning: the slow log records nothing (slow_query_log OFF, or ON
//                           with log_output NONE). The runbook's investigation reads the slow
//                           log, so a log that is off is a gap in the evidence of this
//                           incident, whatever else is recorded. Suggests the exact SET
//                           GLOBAL statements (runbook: long_query_time 2) and
//                           `--enable-slow-log --apply`; on RDS/Aurora the parameter group
//                           change instead (no SET GLOBAL there).
//   slowlog.state           info: the log is on: long_query_time, where it goes (file path or
//                           mysql.slow_log), and the filters that keep slow statements out
//                           (min_examined_row_limit, log_slow_rate_limit ...).
//   slowlog.threshold_high  info: the log is on but long_query_time is above the runbook's
//                           slow query (5 s): statements between 5 s and long_query_time are
//                           slow for the runbook and missing from the log.
//
// One statement (SHOW GLOBAL VARIABLES WHERE ...); no privilege needed.
//
// The same state is what `dbrunbook investigate --enable-slow-log / --restore-slow-log`
// plans from (src/app/slow_log_action.h), so ReadSlowLogState is public.
#pragma once

#include <optional>
#include <string>

#include "dialect/flavor.h"
#include "mysql/result.h"
#include "steps/step.h"

namespace dbrunbook::steps {

// The runbook's numbers: what it turns the log on with, and what it calls a slow query.
inline constexpr double kRunbookLongQueryTime = 2;
inline constexpr double kRunbookSlowQuerySeconds = 5;

// The slow log's global configuration, as the server reports it.
struct SlowLogState {
  std::optional<bool> enabled;  // slow_query_log (log_slow_query; log_slow_queries before 5.1.29)
  std::string enabled_text;     // as printed: "ON", "OFF"
  std::optional<double> long_query_time;
  std::string long_query_time_text;  // as printed: "10.000000"
  std::string file;                  // slow_query_log_file
  std::string log_output;            // normalized: "FILE", "TABLE", "FILE,TABLE", "NONE" ...
  std::optional<int64_t> min_examined_row_limit;
  std::optional<int64_t> rate_limit;  // log_slow_rate_limit (MariaDB, Percona): 1 in N
  dialect::VariableMap variables;     // everything read, by name

  bool writes_file() const;
  bool writes_table() const;
  // log_output NONE (which wins over FILE/TABLE) or nothing readable.
  bool writes_nowhere() const;
  // On and written somewhere: slow statements are being recorded.
  bool recording() const { return enabled == true && !writes_nowhere(); }
};

// One variable to set to turn the log on (or back), and the statement that does it.
struct SlowLogChange {
  std::string variable;   // slow_query_log, long_query_time, log_output
  std::string current;    // as the server prints it now
  std::string value;      // what it is set to
  std::string statement;  // SET GLOBAL ...; empty on RDS/Aurora
};

// What turning the log on with long_query_time `seconds` changes, in the order to run it:
// the threshold first (so the log never opens with the old one), log_output FILE when it is
// NONE, then slow_query_log ON — each only when it differs now. Shared by the step's
// suggestion and `--enable-slow-log`.
std::vector<SlowLogChange> EnableChanges(const dialect::Dialect& d, const SlowLogState& now,
                                         double seconds);

// From Variable_name/Value rows (dialect::SlowLogVariables, or a recording).
SlowLogState ParseSlowLogState(const mysql::ResultSet& rows);
core::Result<SlowLogState> ReadSlowLogState(collect::TargetSession& target);

// The GRANT an account needs to change the slow log with SET GLOBAL: SYSTEM_VARIABLES_ADMIN on
// MySQL-family 8.0+ (SUPER also works there but is deprecated), SUPER on MySQL 5.7 and every
// MariaDB (the privileges MariaDB 10.5.2 split out of SUPER do not cover these variables).
// Empty on RDS/Aurora, where it is a parameter group change.
std::string GrantSetGlobalVariables(const dialect::Flavor& flavor, std::string_view account);
// The privilege's name alone: "SYSTEM_VARIABLES_ADMIN (or the deprecated SUPER)", "SUPER";
// empty on RDS/Aurora.
std::string SetGlobalPrivilege(const dialect::Flavor& flavor);

// What to do on RDS/Aurora instead of SET GLOBAL: the parameter group, the parameters and
// their values (log_output FILE so that the log can be downloaded or published to
// CloudWatch Logs). `seconds` is the long_query_time to set.
std::string ParameterGroupAdvice(const dialect::Flavor& flavor, double seconds);

class SlowLogStep final : public Step {
 public:
  std::string_view name() const override { return "investigate.slowlog"; }
  std::string_view group() const override { return "slowlog"; }
  std::string_view description() const override {
    return "slow query log state (on/off, long_query_time, file) and how to turn it on";
  }
  std::string RequiredGrant(const dialect::Flavor& flavor, std::string_view account) const override;
  core::Result<std::vector<Finding>> Run(StepContext& context) override;
};

}  // namespace dbrunbook::steps
