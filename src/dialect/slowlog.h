// Statements for the slow query log: reading its state, and the SET GLOBAL statements that
// turn it on (`dbrunbook investigate --enable-slow-log`) and put the previous values back
// (`--restore-slow-log`).
//
// Names: slow_query_log and long_query_time exist on every supported flavor (MySQL 5.1+,
// every MariaDB; on MariaDB 10.11+ they are aliases of log_slow_query / log_slow_query_time,
// and SET works with either name), so the SET statements use them everywhere. Setting them
// globally needs SUPER (MySQL 5.7, MariaDB: the privileges MariaDB 10.5.2 split out of SUPER
// do not cover them — checked on 10.11) or SYSTEM_VARIABLES_ADMIN (MySQL 8.0+). On RDS and
// Aurora the master user cannot SET GLOBAL: these are DB parameter group settings, so the
// SET functions return an empty string there (nothing to run), as they do for an undetected
// flavor.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "dialect/dialect.h"

namespace dbrunbook::dialect {

// SHOW GLOBAL VARIABLES WHERE Variable_name IN (...): Variable_name/Value rows for the slow
// log variables of this flavor (names it lacks are simply absent): slow_query_log,
// long_query_time, slow_query_log_file, log_output, min_examined_row_limit,
// log_queries_not_using_indexes, log_slow_admin_statements, and per flavor
//   MariaDB  log_slow_query, log_slow_query_time, log_slow_query_file (10.11 names),
//            log_slow_min_examined_row_limit, log_slow_filter, log_slow_rate_limit,
//            log_slow_verbosity, log_slow_disabled_statements, log_slow_slave_statements
//   MySQL    log_slow_extra (8.0.14+), log_slow_replica_statements / log_slow_slave_statements,
//            log_throttle_queries_not_using_indexes
//   Percona  the MySQL names plus log_slow_filter, log_slow_rate_limit, log_slow_rate_type,
//            log_slow_verbosity, slow_query_log_use_global_control
// Needs no privilege. Always global values: dbrunbook's own session keeps itself out of the
// log (Dialect::UniversalSessionSetup), so its session values say nothing.
std::string SlowLogVariables(const Dialect& d);

// True when the slow log is configured through DB parameter groups rather than SET GLOBAL
// (Amazon RDS, Aurora).
bool SlowLogUsesParameterGroups(const Flavor& flavor);

// SET GLOBAL slow_query_log = ON|OFF.
std::string SetSlowQueryLog(const Dialect& d, bool on);
// SET GLOBAL long_query_time = <seconds>, written with at most six decimals (the variable's
// microsecond precision): 2 -> "2", 0.5 -> "0.5", 10.000000 -> "10". Empty for a value
// outside 0..31536000 (the server's range) or not finite.
std::string SetLongQueryTime(const Dialect& d, double seconds);
// SET GLOBAL log_output = 'FILE' (or 'TABLE', 'FILE,TABLE', 'NONE'). `destinations` is a
// comma-separated list of FILE, TABLE, NONE in any case; anything else gives an empty string.
std::string SetLogOutput(const Dialect& d, std::string_view destinations);

// "2", "0.5", "10": how SetLongQueryTime writes seconds.
std::string FormatLongQueryTime(double seconds);
// NONE, FILE, TABLE in upper case, in the order the server prints them ("FILE,TABLE"),
// duplicates and blanks removed;
// empty when `destinations` holds anything else (or nothing).
std::string NormalizeLogOutput(std::string_view destinations);

}  // namespace dbrunbook::dialect
