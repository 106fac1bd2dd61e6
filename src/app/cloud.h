// The cloud side of a target, for the commands: its CloudResource from the configuration, the
// provider that answers for it, and the JSON forms of what the provider says (shared by
// `dbrunbook cloud` and the assessment).
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "app/env.h"
#include "cloud/aws_provider.h"
#include "cloud/provider.h"
#include "config/config.h"

namespace dbrunbook::app {

// `endpoint_override` (--aws-endpoint-url) wins over the configuration's endpoint_url.
cloud::CloudResource CloudResourceOf(const config::CloudIdentity& identity,
                                     const std::string& endpoint_override = {});

// The cloud identity of the configured target `name`: kNotFound when the configuration has no
// such target, kInvalidConfig when the target has no cloud: section (both with a hint).
core::Result<cloud::CloudResource> CloudResourceForTarget(const config::Config& config,
                                                          const std::string& name,
                                                          const std::string& endpoint_override);

// The provider for `resource` (AWS: its own libcurl transport, env's clock and environment).
core::Result<std::unique_ptr<cloud::CloudProvider>> MakeCloudProvider(
    Env& env, const cloud::CloudResource& resource);

// "class db.r6g.xlarge, Multi-AZ on": what RDS will change at the next window (empty: none).
std::string PendingChanges(const cloud::rds::PendingModifiedValues& pending);
// "system-update: New Operating System update is available, forced from ...".
std::string MaintenanceText(const cloud::rds::PendingMaintenanceAction& action);

nlohmann::json CloudStatusJson(const cloud::CloudStatus& status);
nlohmann::json CloudMetricsJson(const cloud::MetricsReport& report);

}  // namespace dbrunbook::app
