#include "steps/grants.h"

#include <fmt/format.h>

namespace dbrunbook::steps {

std::string GrantProcess(std::string_view account) {
  return fmt::format("GRANT PROCESS ON *.* TO {}", account);
}

std::string GrantReplicationMonitor(const dialect::Flavor& flavor, std::string_view account) {
  if (flavor.is_mariadb() && flavor.version.AtLeast(10, 5, 9)) {
    return fmt::format("GRANT SLAVE MONITOR ON *.* TO {}", account);
  }
  if (flavor.is_mariadb() && flavor.version.AtLeast(10, 5, 2)) {
    return fmt::format("GRANT REPLICATION SLAVE ADMIN ON *.* TO {}", account);
  }
  return fmt::format("GRANT REPLICATION CLIENT ON *.* TO {}", account);
}

std::string GrantPerformanceSchema(std::string_view account) {
  return fmt::format("GRANT SELECT ON performance_schema.* TO {}", account);
}

std::string GrantSys(std::string_view account) {
  return fmt::format("GRANT SELECT, EXECUTE ON sys.* TO {}", account);
}

std::string GrantSelectOn(std::string_view schema, std::string_view account) {
  return fmt::format("GRANT SELECT ON `{}`.* TO {}", schema, account);
}

std::string Grants(std::initializer_list<std::string> statements) {
  return fmt::format("{}", fmt::join(statements, "; "));
}

}  // namespace dbrunbook::steps
