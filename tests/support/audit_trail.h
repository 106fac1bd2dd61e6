// The audit store as the mitigation tests read it back: every entry oldest first, and their
// phases as the store names them, so a test asserts on the sequence an action wrote.
//
// Thread-safety: reentrant (opens its own Store). Failures are test failures (EXPECT), with an
// empty result.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "store/store.h"

namespace dbrunbook::testing {

// Up to `limit` entries of the store at `path`, oldest first.
inline std::vector<store::AuditRecord> ReadAuditTrail(const std::string& path, int limit = 100) {
  auto s = store::Store::Open(path);
  EXPECT_TRUE(s) << s.error().ToString();
  if (!s) return {};
  auto records = (*s)->Recent(limit);
  EXPECT_TRUE(records);
  std::vector<store::AuditRecord> out = records.value_or(std::vector<store::AuditRecord>{});
  std::reverse(out.begin(), out.end());
  return out;
}

// "planned", "applied", ... of each record, in order.
inline std::vector<std::string> AuditPhases(const std::vector<store::AuditRecord>& records) {
  std::vector<std::string> phases;
  phases.reserve(records.size());
  for (const auto& r : records) phases.emplace_back(store::PhaseName(r.entry.phase));
  return phases;
}

}  // namespace dbrunbook::testing
