// Investigation step "resources": the largest tables, free space inside them, index
// selectivity, unused indexes and duplicate / redundant indexes, with the DDL a human would
// run for each (never run here).
//
// Findings:
//   table.largest          info: the top InvestigateOptions::top_tables tables by data + index
//                          (rows, data, index and free bytes), or, when the account sees more
//                          than max_tables_for_details tables, by InnoDB file size (the
//                          tablespace list needs no table to be opened), which the title says
//   table.fragmented       warning: free space inside a table (DATA_FREE) of at least
//                          fragmented_min_bytes AND at least fragmented_min_ratio of the
//                          table's data + index + free; with the online rebuild (InnoDB) or
//                          OPTIMIZE TABLE and their locking caveats. A DATA_FREE value shared
//                          by several InnoDB tables is the free space of a shared tablespace
//                          (system or general), not theirs: not reported.
//   index.low_cardinality  info: a non-unique index of one of the largest tables with at least
//                          low_cardinality_min_rows rows whose whole key has 1 to
//                          low_cardinality_max_distinct distinct values (estimated)
//   index.unused           warning: a secondary index with no use recorded since startup
//                          (performance_schema, else MariaDB/Percona userstat), never a
//                          PRIMARY, UNIQUE, clustered, FULLTEXT, functional or foreign-key
//                          index, and only when the server has been up for
//                          unused_index_min_uptime; with DROP INDEX and INVISIBLE / IGNORED.
//                          Warning because every unused index is paid for on every write and
//                          in the buffer pool, and the guards above keep it to real cases.
//   index.unused_skipped   info: why unused indexes were not assessed (uptime too short, no
//                          usage source, usage data empty)
//   index.duplicate        warning: an index made redundant by another one of its table
//                          (index_analysis.h has the rules), with the DROP INDEX and the index
//                          that covers it
//   check.partial          info: what could not be looked at and why: tables hidden from the
//                          account (InnoDB's dictionary lists more than information_schema
//                          shows; with GRANT SELECT ON `db`.* per schema), details limited to
//                          the largest tables, foreign keys unread, findings cut at a cap, the
//                          step's time budget
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "steps/step.h"

namespace dbrunbook::steps {

class ResourcesStep final : public Step {
 public:
  explicit ResourcesStep(ResourcesThresholds thresholds = {}) : thresholds_(thresholds) {}

  std::string_view name() const override { return "investigate.resources"; }
  std::string_view group() const override { return "resources"; }
  std::string_view description() const override {
    return "largest tables, free space, index cardinality, unused and duplicate indexes";
  }
  // PROCESS (InnoDB dictionary and tablespaces, hidden-table check), SELECT on
  // performance_schema (index usage) where the flavor reads it there; SELECT on application
  // schemas is suggested per schema by the check.partial finding.
  std::string RequiredGrant(const dialect::Flavor& flavor, std::string_view account) const override;
  core::Result<std::vector<Finding>> Run(StepContext& context) override;

 private:
  ResourcesThresholds thresholds_;
};

// "512 B", "1.5 KiB", "12.3 GiB": sizes as people read them.
std::string FormatBytes(int64_t bytes);

}  // namespace dbrunbook::steps
