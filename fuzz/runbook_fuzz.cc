// The runbook file as hostile input: any bytes must give a Runbook or diagnostics, never a
// crash, a hang, or an exception escaping the runbook module.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "runbook/runbook.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const dbrunbook::runbook::RunbookSchema kSchema = [] {
    dbrunbook::runbook::RunbookSchema schema;
    schema.signals = {"longest_query_seconds", "replication_lag_seconds", "target_unreachable"};
    schema.actions = {"kill-queries", "failover"};
    schema.finding_codes = {"lock.root_blocker", "query.long_running"};
    schema.action_params = {{"kill-queries", {"busy_time", "max_victims", "root_blockers"}}};
    schema.param_types = {{"busy_time", dbrunbook::runbook::ParamType::kDuration},
                          {"max_victims", dbrunbook::runbook::ParamType::kCount},
                          {"root_blockers", dbrunbook::runbook::ParamType::kBool}};
    return schema;
  }();
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto runbook = dbrunbook::runbook::ParseRunbook(text, "fuzz.yaml", kSchema, "2026-11-27");
  if (!runbook) {
    for (const auto& d : runbook.error()) (void)d.ToString();
  } else {
    for (const auto& t : runbook->triggers) (void)t.Describe();
  }
  return 0;
}
