// Investigation step "open_tables": the tables statements are using right now, context for
// the metadata-lock findings (which table a pile-up is on, what else is busy).
//
// Sources: SHOW OPEN TABLES WHERE In_use > 0 (every flavor; In_use counts the statements
// using the table, Name_locked a DROP/RENAME holding its name), and, where performance_schema
// is ON (MySQL 5.7.3+, MariaDB 10.5.2+), performance_schema.table_handles, which names the
// sessions owning each table's handles. SHOW OPEN TABLES lists only the tables the account
// has a privilege on: the documented monitoring account (PROCESS, SELECT on
// performance_schema and sys) sees none of the application's tables there, so table_handles
// is what shows them to it. A session idle inside a transaction holds its metadata locks
// but uses no table: it is not counted (the mdl step names it).
//
// Findings:
//   table.in_use   info: the tables in use (schema.table, In_use, Name_locked, the sessions
//                  owning handles), busiest first, at most 50
//   check.partial  info: nothing was visible in use while the only source was SHOW OPEN
//                  TABLES, which cannot show tables this account has no privilege on
#pragma once

#include "steps/step.h"

namespace dbrunbook::steps {

class OpenTablesStep final : public Step {
 public:
  std::string_view name() const override { return "investigate.open_tables"; }
  std::string_view group() const override { return "open_tables"; }
  std::string_view description() const override {
    return "tables in use (SHOW OPEN TABLES WHERE In_use > 0, performance_schema.table_handles)";
  }
  std::string RequiredGrant(const dialect::Flavor& flavor, std::string_view account) const override;
  core::Result<std::vector<Finding>> Run(StepContext& context) override;
};

}  // namespace dbrunbook::steps
