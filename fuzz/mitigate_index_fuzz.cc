// Slow-log statements and EXPLAIN output are outside input: every byte string must go through
// mitigate index's WHERE-clause analysis, the plan parser and the candidate derivation without
// crashing or hanging, and what comes out must hold together (a shape has a table; every
// candidate has a role per column and a name of at most 64 characters).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "steps/mitigate_index.h"

namespace {

void Check(bool condition) {
  if (!condition) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  using namespace dbrunbook::steps;  // NOLINT(google-build-using-namespace)

  auto shape = AnalyzeStatement(text, "db");
  if (shape) {
    Check(!shape->tables.empty());
  }
  // Real plans have at most 61 tables and real tables a bounded column list: the derivation is
  // fed statements of that size (the made-up columns below grow with tables x predicates).
  if (shape && shape->tables.size() <= 8 && shape->predicates.size() <= 64) {
    // The statement against a plan that scans each of its tables, with made-up columns.
    ExplainPlan plan;
    std::vector<TableInfo> tables;
    for (const auto& t : shape->tables) {
      plan.tables.push_back(PlanTable{t.alias, "ALL", std::nullopt, 1000000});
      TableInfo info;
      info.schema = t.schema;
      info.table = t.table;
      for (const auto& p : shape->predicates) {
        info.columns.push_back(ColumnInfo{p.column.column, "varchar", 400});
      }
      tables.push_back(std::move(info));
    }
    plan.filesort = !shape->order_by.empty();
    for (const auto& advice : DeriveAdvice(*shape, plan, tables, 1)) {
      if (!advice.candidate) continue;
      Check(!advice.candidate->parts.empty());
      Check(advice.candidate->parts.size() == advice.candidate->roles.size());
      Check(advice.candidate->name.size() <= kMaxIndexNameLength);
    }
  }
  auto parsed = ParseExplainJson(text);
  if (parsed) Check(!parsed->tables.empty());
  return 0;
}
