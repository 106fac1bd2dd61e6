// Investigation step "queries": running and long-running statements, sessions idle inside an
// open transaction, and the longest transaction with the InnoDB history list it pins.
//
// Findings:
//   query.long_running        a statement running >= long_query_seconds (warning; critical
//                             from 5x), with KILL QUERY for this flavor
//   transaction.idle          a session idle >= idle_transaction_seconds inside an open
//                             transaction (warning; critical when it holds row locks for
//                             over 5 minutes), with the KILL that rolls it back
//   transaction.long          the oldest transaction when open >= long_query_seconds, with
//                             the history list length it keeps from being purged
//   query.active              info: the statements running now (at most 20)
#pragma once

#include "steps/step.h"

namespace dbrunbook::steps {

class QueriesStep final : public Step {
 public:
  std::string_view name() const override { return "investigate.queries"; }
  std::string_view group() const override { return "queries"; }
  std::string_view description() const override {
    return "running and long-running statements, idle transactions, the oldest transaction "
           "and the history list it pins";
  }
  std::string RequiredGrant(const dialect::Flavor& flavor, std::string_view account) const override;
  core::Result<std::vector<Finding>> Run(StepContext& context) override;
};

}  // namespace dbrunbook::steps
