// The GRANT statements that give the monitoring account what a step needs, per flavor, for
// the "could not check X" findings (and the README's permission table).
#pragma once

#include <string>
#include <string_view>

#include "dialect/flavor.h"

namespace dbrunbook::steps {

// `account` is quoted: 'monitor'@'%'.
std::string GrantProcess(std::string_view account);
// Replica status: REPLICATION CLIENT (MySQL family, MariaDB before 10.5), REPLICATION SLAVE
// ADMIN (MariaDB 10.5.2-10.5.8), SLAVE MONITOR (MariaDB 10.5.9+).
std::string GrantReplicationMonitor(const dialect::Flavor& flavor, std::string_view account);
std::string GrantPerformanceSchema(std::string_view account);
std::string GrantSys(std::string_view account);
// SELECT on application schemas (table sizes, index statistics): information_schema shows
// only the tables the account may read.
std::string GrantSelectOn(std::string_view schema, std::string_view account);
// Several statements joined with "; ".
std::string Grants(std::initializer_list<std::string> statements);

}  // namespace dbrunbook::steps
