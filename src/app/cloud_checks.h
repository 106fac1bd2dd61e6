// The assessment's cloud checks (steps::CheckSource): for a target with a cloud: section, the
// instance and cluster status, replicas, pending changes and the last 15 minutes of CloudWatch
// metrics (CPU, freeable memory, connections, read/write IOPS, replica lag), as checks with
// the ids cloud_* of steps::AssessChecks(), leveled by their thresholds (overridable in the
// configuration like every check).
#pragma once

#include <chrono>
#include <string_view>
#include <vector>

#include "cloud/provider.h"
#include "steps/assess.h"

namespace dbrunbook::app {

class CloudCheckSource final : public steps::CheckSource {
 public:
  // `provider` must outlive the source.
  CloudCheckSource(cloud::CloudProvider& provider, cloud::CloudResource resource,
                   std::chrono::seconds window = std::chrono::minutes(15),
                   std::chrono::seconds period = std::chrono::seconds(60))
      : provider_(provider), resource_(std::move(resource)), window_(window), period_(period) {}

  std::string_view name() const override { return "cloud"; }
  core::Result<std::vector<steps::Check>> Collect() override;

 private:
  cloud::CloudProvider& provider_;
  cloud::CloudResource resource_;
  std::chrono::seconds window_;
  std::chrono::seconds period_;
};

// The level of an RDS instance or cluster status ("available" ok; "modifying" warn; "failed"
// critical; an unknown status warn).
steps::Level CloudStatusLevel(std::string_view status);

}  // namespace dbrunbook::app
