// dbrunbook cloud status|metrics TARGET: what the cloud API says about a configured target
// (its cloud: section), without touching the database itself.
#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "app/cloud.h"
#include "app/commands.h"
#include "app/targets.h"
#include "core/duration.h"

namespace dbrunbook::app {
namespace {

nlohmann::json OptionalNumber(const std::optional<double>& v) {
  return v ? nlohmann::json(*v) : nlohmann::json(nullptr);
}

nlohmann::json InstanceJson(const cloud::rds::DBInstance& i) {
  nlohmann::json j = {
      {"db_instance_identifier", i.db_instance_identifier},
      {"status", i.status},
      {"class", i.db_instance_class},
      {"engine", i.engine},
      {"engine_version", i.engine_version},
      {"multi_az", i.multi_az},
      {"availability_zone", i.availability_zone},
      {"read_replica_source", i.read_replica_source_db_instance_identifier},
      {"read_replicas", i.read_replica_db_instance_identifiers},
      {"db_cluster_identifier", i.db_cluster_identifier},
      {"pending_modified_values", PendingChanges(i.pending_modified_values)},
  };
  if (i.endpoint) {
    j["endpoint"] = {{"address", i.endpoint->address}, {"port", i.endpoint->port}};
  }
  nlohmann::json groups = nlohmann::json::array();
  for (const auto& g : i.db_parameter_groups) {
    groups.push_back({{"name", g.name}, {"apply_status", g.apply_status}});
  }
  j["parameter_groups"] = groups;
  return j;
}

nlohmann::json ClusterJson(const cloud::rds::DBCluster& c) {
  nlohmann::json members = nlohmann::json::array();
  for (const auto& m : c.members) {
    members.push_back(
        {{"db_instance_identifier", m.db_instance_identifier}, {"writer", m.is_cluster_writer}});
  }
  nlohmann::json j = {{"db_cluster_identifier", c.db_cluster_identifier},
                      {"status", c.status},
                      {"engine", c.engine},
                      {"engine_version", c.engine_version},
                      {"engine_mode", c.engine_mode},
                      {"endpoint", c.endpoint},
                      {"reader_endpoint", c.reader_endpoint},
                      {"multi_az", c.multi_az ? nlohmann::json(*c.multi_az) : nullptr},
                      {"members", members}};
  if (c.serverless_v2_scaling) {
    j["serverless_v2_scaling"] = {
        {"min_capacity", OptionalNumber(c.serverless_v2_scaling->min_capacity)},
        {"max_capacity", OptionalNumber(c.serverless_v2_scaling->max_capacity)}};
  }
  return j;
}

void PrintStatusText(Env& env, const std::string& target, const cloud::CloudStatus& s) {
  std::ostream& o = env.out;
  o << fmt::format("{} (AWS {})\n", target, s.region);
  if (s.instance) {
    const auto& i = *s.instance;
    o << fmt::format("  instance  {}  {}  {}  {} {}  Multi-AZ {}{}\n", i.db_instance_identifier,
                     i.status, i.db_instance_class, i.engine, i.engine_version,
                     i.multi_az ? "yes" : "no",
                     i.availability_zone.empty() ? "" : "  " + i.availability_zone);
    if (i.endpoint) {
      o << fmt::format("    endpoint  {}:{}\n", i.endpoint->address, i.endpoint->port);
    }
    for (const auto& g : i.db_parameter_groups) {
      o << fmt::format("    parameter group  {} ({})\n", g.name, g.apply_status);
    }
    if (!i.read_replica_source_db_instance_identifier.empty()) {
      o << fmt::format("    replica of  {}\n", i.read_replica_source_db_instance_identifier);
    }
    const std::string pending = PendingChanges(i.pending_modified_values);
    o << fmt::format("    pending changes  {}\n", pending.empty() ? "none" : pending);
  }
  if (s.cluster) {
    const auto& c = *s.cluster;
    const auto* writer = c.Writer();
    o << fmt::format("  cluster   {}  {}  {} {}  writer {}\n", c.db_cluster_identifier, c.status,
                     c.engine, c.engine_version,
                     writer != nullptr ? writer->db_instance_identifier : "(none)");
    if (c.serverless_v2_scaling) {
      o << fmt::format("    serverless v2  {} .. {} ACU\n",
                       c.serverless_v2_scaling->min_capacity.value_or(0),
                       c.serverless_v2_scaling->max_capacity.value_or(0));
    }
  }
  o << (s.replicas.empty() ? "  replicas  none\n" : "  replicas\n");
  for (const auto& r : s.replicas) {
    const auto lag = s.replica_lag_seconds.find(r.db_instance_identifier);
    o << fmt::format(
        "    {}  {}  {}{}  lag {}\n", r.db_instance_identifier, r.status, r.db_instance_class,
        r.db_cluster_identifier.empty() ? "" : "  (cluster reader)",
        lag == s.replica_lag_seconds.end() ? std::string("unknown (no CloudWatch data)")
                                           : fmt::format("{:.3g} s", lag->second));
  }
  o << (s.pending_maintenance.empty() ? "  pending maintenance  none\n"
                                      : "  pending maintenance\n");
  for (const auto& m : s.pending_maintenance) o << "    " << MaintenanceText(m) << "\n";
  o << (s.events.empty() ? "  events (last hour)  none\n" : "  events (last hour)\n");
  for (const auto& e : s.events) {
    o << fmt::format("    {}  {}\n", e.date ? core::FormatRfc3339(*e.date) : "?", e.message);
  }
  for (const auto& n : s.notes) o << fmt::format("  note: {}\n", n);
}

std::string Human(double v, std::string_view unit) {
  if (unit == "Bytes") {
    static constexpr const char* kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    int u = 0;
    while (std::abs(v) >= 1024 && u < 4) {
      v /= 1024;
      ++u;
    }
    return fmt::format("{:.1f} {}", v, kUnits[u]);
  }
  if (unit == "Percent") return fmt::format("{:.1f}%", v);
  return fmt::format("{:.6g}", v);
}

void PrintMetricsText(Env& env, const std::string& target, const cloud::MetricsReport& r) {
  std::ostream& o = env.out;
  const std::string dimension = r.metrics.empty() ? "" : r.metrics.front().dimension;
  o << fmt::format("{}: AWS/RDS {}, {} .. {}, period {} s\n", target, dimension,
                   core::FormatRfc3339(r.start), core::FormatRfc3339(r.end), r.period.count());
  o << fmt::format("  {:<22} {:<14} {:>12} {:>12} {:>12} {:>7}\n", "metric", "unit", "min", "avg",
                   "max", "points");
  for (const auto& m : r.metrics) {
    auto cell = [&](const std::optional<double>& v) { return v ? Human(*v, m.unit) : "-"; };
    o << fmt::format("  {:<22} {:<14} {:>12} {:>12} {:>12} {:>7}\n", m.name, m.unit, cell(m.min),
                     cell(m.avg), cell(m.max), m.averages.size());
  }
  bool any = false;
  for (const auto& m : r.metrics) any = any || !m.averages.empty();
  if (!any) o << "  no datapoints in the window (is the identifier right? is the instance new?)\n";
}

}  // namespace

std::string MaintenanceText(const cloud::rds::PendingMaintenanceAction& m) {
  std::string out = m.action;
  if (!m.description.empty()) out += ": " + m.description;
  if (m.forced_apply_date) out += ", forced from " + core::FormatRfc3339(*m.forced_apply_date);
  if (m.auto_applied_after_date) {
    out += ", applied in the window after " + core::FormatRfc3339(*m.auto_applied_after_date);
  }
  if (!m.opt_in_status.empty()) out += " (opt-in " + m.opt_in_status + ")";
  return out;
}

std::string PendingChanges(const cloud::rds::PendingModifiedValues& p) {
  std::vector<std::string> parts;
  if (p.db_instance_class) parts.push_back("class " + *p.db_instance_class);
  if (p.allocated_storage) parts.push_back(fmt::format("storage {} GiB", *p.allocated_storage));
  if (p.multi_az) parts.push_back(fmt::format("Multi-AZ {}", *p.multi_az ? "on" : "off"));
  if (p.engine_version) parts.push_back("engine " + *p.engine_version);
  if (p.iops) parts.push_back(fmt::format("IOPS {}", *p.iops));
  if (p.storage_type) parts.push_back("storage type " + *p.storage_type);
  if (p.backup_retention_period) {
    parts.push_back(fmt::format("backup retention {} d", *p.backup_retention_period));
  }
  if (p.port) parts.push_back(fmt::format("port {}", *p.port));
  if (p.db_instance_identifier) parts.push_back("rename to " + *p.db_instance_identifier);
  std::string out;
  for (const auto& part : parts) out += (out.empty() ? "" : ", ") + part;
  return out;
}

cloud::CloudResource CloudResourceOf(const config::CloudIdentity& identity,
                                     const std::string& endpoint_override) {
  cloud::CloudResource r;
  r.provider = identity.provider;
  r.region = identity.region;
  r.instance_identifier = identity.instance_identifier;
  r.cluster_identifier = identity.cluster_identifier;
  r.profile = identity.profile;
  r.endpoint_url = endpoint_override.empty() ? identity.endpoint_url : endpoint_override;
  return r;
}

core::Result<cloud::CloudResource> CloudResourceForTarget(const config::Config& config,
                                                          const std::string& name,
                                                          const std::string& endpoint_override) {
  const config::TargetConfig* target = config.Find(name);
  if (target == nullptr) {
    return core::MakeError(core::ErrorCode::kNotFound,
                           fmt::format("no target '{}' in {}", name, config.path),
                           "dbrunbook config check lists the targets");
  }
  if (!target->cloud) {
    return core::MakeError(core::ErrorCode::kInvalidConfig,
                           fmt::format("target '{}' has no cloud identity", name),
                           "add cloud: {provider: aws, db_instance_identifier: ...} to it");
  }
  return CloudResourceOf(*target->cloud, endpoint_override);
}

core::Result<std::unique_ptr<cloud::CloudProvider>> MakeCloudProvider(
    Env& env, const cloud::CloudResource& resource) {
  if (resource.provider != "aws") {
    return core::MakeError(core::ErrorCode::kUnsupported,
                           fmt::format("cloud provider '{}' is not supported", resource.provider),
                           "the only provider is aws");
  }
  cloud::AwsProviderOptions options;
  options.resolver.profile = resource.profile;
  options.resolver.region = resource.region;
  options.resolver.endpoint_url = resource.endpoint_url;
  auto provider = cloud::AwsProvider::Create(std::move(options), env.environment, env.clock);
  if (!provider) return core::Fail(provider.error());
  return std::unique_ptr<cloud::CloudProvider>(std::move(*provider));
}

nlohmann::json CloudStatusJson(const cloud::CloudStatus& s) {
  nlohmann::json j = {{"provider", "aws"}, {"region", s.region}};
  j["instance"] = s.instance ? InstanceJson(*s.instance) : nullptr;
  j["cluster"] = s.cluster ? ClusterJson(*s.cluster) : nullptr;
  nlohmann::json replicas = nlohmann::json::array();
  for (const auto& r : s.replicas) {
    nlohmann::json replica = InstanceJson(r);
    const auto lag = s.replica_lag_seconds.find(r.db_instance_identifier);
    replica["lag_seconds"] =
        lag == s.replica_lag_seconds.end() ? nlohmann::json(nullptr) : nlohmann::json(lag->second);
    replicas.push_back(std::move(replica));
  }
  j["replicas"] = replicas;
  nlohmann::json maintenance = nlohmann::json::array();
  for (const auto& m : s.pending_maintenance) {
    auto time = [](const std::optional<core::WallTime>& t) {
      return t ? nlohmann::json(core::FormatRfc3339(*t)) : nlohmann::json(nullptr);
    };
    maintenance.push_back({{"action", m.action},
                           {"description", m.description},
                           {"auto_applied_after", time(m.auto_applied_after_date)},
                           {"forced_apply", time(m.forced_apply_date)},
                           {"opt_in_status", m.opt_in_status}});
  }
  j["pending_maintenance"] = maintenance;
  nlohmann::json events = nlohmann::json::array();
  for (const auto& e : s.events) {
    events.push_back({{"time", e.date ? core::FormatRfc3339(*e.date) : ""},
                      {"source", e.source_identifier},
                      {"message", e.message},
                      {"categories", e.event_categories}});
  }
  j["events"] = events;
  j["notes"] = s.notes;
  return j;
}

nlohmann::json CloudMetricsJson(const cloud::MetricsReport& r) {
  nlohmann::json metrics = nlohmann::json::array();
  for (const auto& m : r.metrics) {
    nlohmann::json points = nlohmann::json::array();
    for (size_t k = 0; k < m.timestamps.size(); ++k) {
      points.push_back(
          {{"time", core::FormatRfc3339(m.timestamps[k])}, {"average", m.averages[k]}});
    }
    metrics.push_back({{"name", m.name},
                       {"unit", m.unit},
                       {"dimension", m.dimension},
                       {"min", OptionalNumber(m.min)},
                       {"avg", OptionalNumber(m.avg)},
                       {"max", OptionalNumber(m.max)},
                       {"samples", m.samples},
                       {"datapoints", points}});
  }
  return {{"start", core::FormatRfc3339(r.start)},
          {"end", core::FormatRfc3339(r.end)},
          {"period_seconds", r.period.count()},
          {"metrics", metrics}};
}

int RunCloud(Env& env, const GlobalOptions& global, const CloudCommandOptions& options) {
  const std::string prefix = fmt::format("dbrunbook cloud {}", options.action);
  auto fail = [&](const core::Error& e, int code) {
    if (options.format == report::Format::kJson) {
      env.out << nlohmann::json{{"target", options.target},
                                {"error",
                                 {{"code", core::ErrorCodeName(e.code)},
                                  {"message", e.message},
                                  {"hint", e.hint}}}}
                     .dump(2)
              << "\n";
    }
    env.err << prefix << ": " << e.ToString() << "\n";
    return code;
  };
  auto config = LoadConfiguration(env, global, /*required=*/true);
  if (!config || !config->has_value()) return kExitUsage;  // (already printed)
  auto found = CloudResourceForTarget(**config, options.target, options.endpoint_url);
  if (!found) return fail(found.error(), kExitUsage);
  const cloud::CloudResource& resource = *found;
  auto provider = MakeCloudProvider(env, resource);
  if (!provider) return fail(provider.error(), kExitCannotAssess);

  if (options.action == "status") {
    auto status = (*provider)->Status(resource);
    if (!status) return fail(status.error().WithContext(options.target), kExitCannotAssess);
    if (options.format == report::Format::kJson) {
      nlohmann::json j = CloudStatusJson(*status);
      j["target"] = options.target;
      env.out << j.dump(2) << "\n";
    } else {
      PrintStatusText(env, options.target, *status);
    }
    // 1 when something is not available (modifying, rebooting, failed, storage-full ...).
    bool degraded = status->instance && status->instance->status != "available";
    degraded = degraded || (status->cluster && status->cluster->status != "available");
    for (const auto& r : status->replicas) degraded = degraded || r.status != "available";
    return degraded ? 1 : kExitOk;
  }
  auto report = (*provider)->Metrics(resource, options.since, options.period);
  if (!report) return fail(report.error().WithContext(options.target), kExitCannotAssess);
  if (options.format == report::Format::kJson) {
    nlohmann::json j = CloudMetricsJson(*report);
    j["target"] = options.target;
    env.out << j.dump(2) << "\n";
  } else {
    PrintMetricsText(env, options.target, *report);
  }
  return kExitOk;
}

}  // namespace dbrunbook::app
