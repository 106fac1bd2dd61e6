// Reading SHOW GRANTS lines: the MariaDB and MySQL spellings of global grants, role grants
// and grants that are not global.
#include "dialect/privileges.h"

#include <gtest/gtest.h>

namespace dbrunbook::dialect {
namespace {

TEST(PrivilegesTest, NamedGlobalPrivilegeIsGranted) {
  // MariaDB 10.11 spelling, with the password hash after TO.
  const std::vector<std::string> mariadb = {
      "GRANT PROCESS, BINLOG MONITOR, SLAVE MONITOR ON *.* TO `monitor`@`%` IDENTIFIED BY "
      "PASSWORD '*0000000000000000000000000000000000000000'",
      "GRANT SELECT ON `performance_schema`.* TO `monitor`@`%`"};
  EXPECT_EQ(GlobalPrivilege(mariadb, "PROCESS"), PrivilegeState::kGranted);
  EXPECT_EQ(GlobalPrivilege(mariadb, "process"), PrivilegeState::kGranted);
  EXPECT_EQ(GlobalPrivilege(mariadb, "SUPER"), PrivilegeState::kMissing);
  // MySQL 8 spelling: static privileges, then dynamic ones on their own line.
  const std::vector<std::string> mysql = {
      "GRANT SELECT, PROCESS, REPLICATION CLIENT ON *.* TO `monitor`@`%`",
      "GRANT SYSTEM_VARIABLES_ADMIN ON *.* TO `monitor`@`%`"};
  EXPECT_EQ(GlobalPrivilege(mysql, "PROCESS"), PrivilegeState::kGranted);
  EXPECT_EQ(GlobalPrivilege(mysql, "SYSTEM_VARIABLES_ADMIN"), PrivilegeState::kGranted);
  EXPECT_EQ(GlobalPrivilege(mysql, "REPLICATION CLIENT"), PrivilegeState::kGranted);
  EXPECT_EQ(GlobalPrivilege(mysql, "REPLICATION"), PrivilegeState::kMissing);
}

TEST(PrivilegesTest, AllPrivilegesGrantsEverything) {
  EXPECT_EQ(GlobalPrivilege({"GRANT ALL PRIVILEGES ON *.* TO `root`@`localhost` WITH GRANT "
                             "OPTION"},
                            "PROCESS"),
            PrivilegeState::kGranted);
}

TEST(PrivilegesTest, PrivilegesOnASchemaOrTableAreNotGlobal) {
  const std::vector<std::string> lines = {"GRANT USAGE ON *.* TO `app`@`10.%`",
                                          "GRANT ALL PRIVILEGES ON `shop`.* TO `app`@`10.%`",
                                          "GRANT SELECT (`PROCESS`) ON `odd`.`t` TO `app`@`10.%`",
                                          "GRANT PROXY ON ''@'%' TO 'app'@'10.%'"};
  EXPECT_EQ(GlobalPrivilege(lines, "PROCESS"), PrivilegeState::kMissing);
  EXPECT_EQ(GlobalPrivilege({}, "PROCESS"), PrivilegeState::kMissing);
}

TEST(PrivilegesTest, ARoleMayHoldWhatIsNotGrantedDirectly) {
  // MySQL 8 lists the role, not its privileges (unless SHOW GRANTS ... USING).
  const std::vector<std::string> lines = {"GRANT USAGE ON *.* TO `monitor`@`%`",
                                          "GRANT `dba_monitor`@`%` TO `monitor`@`%`"};
  EXPECT_EQ(GlobalPrivilege(lines, "PROCESS"), PrivilegeState::kUnknown);
  // MariaDB lists the granted role by name and, for the enabled role, its grants.
  const std::vector<std::string> mariadb = {"GRANT `monitoring` TO `monitor`@`%`",
                                            "GRANT USAGE ON *.* TO `monitor`@`%`",
                                            "GRANT PROCESS ON *.* TO `monitoring`"};
  EXPECT_EQ(GlobalPrivilege(mariadb, "PROCESS"), PrivilegeState::kGranted);
}

}  // namespace
}  // namespace dbrunbook::dialect
