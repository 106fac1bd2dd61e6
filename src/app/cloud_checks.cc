#include "app/cloud_checks.h"

#include <fmt/format.h>

#include <array>

#include "app/cloud.h"

namespace dbrunbook::app {
namespace {

steps::Check NewCheck(std::string_view id) {
  steps::Check c;
  c.id = std::string(id);
  if (const steps::CheckSpec* spec = steps::FindAssessCheck(id)) {
    c.title = std::string(spec->title);
    c.unit = std::string(spec->unit);
    c.threshold = spec->defaults;
  }
  return c;
}

std::string Bytes(double v) {
  static constexpr std::array<const char*, 5> kUnits = {"B", "KiB", "MiB", "GiB", "TiB"};
  size_t u = 0;
  while (v >= 1024 && u + 1 < kUnits.size()) {
    v /= 1024;
    ++u;
  }
  return fmt::format("{:.1f} {}", v, kUnits[u]);
}

const cloud::MetricSummary* Find(const cloud::MetricsReport& r, std::string_view name) {
  for (const auto& m : r.metrics) {
    if (m.name == name) return &m;
  }
  return nullptr;
}

}  // namespace

steps::Level CloudStatusLevel(std::string_view status) {
  static constexpr std::string_view kOk[] = {"available"};
  static constexpr std::string_view kCritical[] = {
      "failed",
      "storage-full",
      "stopped",
      "stopping",
      "rebooting",
      "starting",
      "deleting",
      "inaccessible-encryption-credentials",
      "restore-error",
      "incompatible-network",
      "incompatible-option-group",
      "incompatible-parameters",
      "incompatible-restore",
      "insufficient-capacity",
      "failing-over",
      "inaccessible-encryption-credentials-recoverable"};
  for (auto s : kOk) {
    if (status == s) return steps::Level::kOk;
  }
  for (auto s : kCritical) {
    if (status == s) return steps::Level::kCritical;
  }
  // backing-up, modifying, maintenance, upgrading, configuring-*, storage-optimization,
  // renaming, resetting-master-credentials, creating ... and statuses not known here.
  return steps::Level::kWarn;
}

core::Result<std::vector<steps::Check>> CloudCheckSource::Collect() {
  std::vector<steps::Check> checks;
  auto status = provider_.Status(resource_);
  if (!status) return core::Fail(status.error());

  if (status->instance) {
    const auto& i = *status->instance;
    steps::Check c = NewCheck("cloud_instance_status");
    c.level = CloudStatusLevel(i.status);
    c.display = fmt::format("{} ({}, {} {}{})", i.status, i.db_instance_class, i.engine,
                            i.engine_version, i.multi_az ? ", Multi-AZ" : "");
    c.detail = fmt::format("{} in {}", i.db_instance_identifier, status->region);
    checks.push_back(std::move(c));
    steps::Check p = NewCheck("cloud_pending_changes");
    const std::string pending = PendingChanges(i.pending_modified_values);
    p.display = pending.empty() ? "no modification pending" : "pending: " + pending;
    std::string maintenance;
    for (const auto& m : status->pending_maintenance) {
      maintenance += (maintenance.empty() ? "" : "; ") + MaintenanceText(m);
    }
    bool maintenance_known = true;
    for (const auto& note : status->notes) {
      maintenance_known = maintenance_known && !note.starts_with("pending maintenance");
    }
    if (!status->pending_maintenance.empty()) {
      p.display += fmt::format(", {} maintenance action(s)", status->pending_maintenance.size());
    } else {
      p.display += maintenance_known ? ", no maintenance scheduled" : ", maintenance unknown";
    }
    p.detail = maintenance;
    checks.push_back(std::move(p));
  }
  if (status->cluster) {
    const auto& cl = *status->cluster;
    steps::Check c = NewCheck("cloud_cluster_status");
    c.level = CloudStatusLevel(cl.status);
    const auto* writer = cl.Writer();
    c.display = fmt::format("{} (writer {})", cl.status,
                            writer != nullptr ? writer->db_instance_identifier : "none");
    if (writer == nullptr && c.level == steps::Level::kOk) c.level = steps::Level::kWarn;
    c.detail = cl.db_cluster_identifier;
    checks.push_back(std::move(c));
  }
  if (!status->replicas.empty()) {
    steps::Check c = NewCheck("cloud_replicas");
    int available = 0;
    std::string others;
    for (const auto& r : status->replicas) {
      if (r.status == "available") {
        ++available;
      } else {
        others +=
            fmt::format("{}{} {}", others.empty() ? "" : ", ", r.db_instance_identifier, r.status);
      }
    }
    if (available < static_cast<int>(status->replicas.size())) c.level = steps::Level::kWarn;
    c.display = fmt::format("{} of {} available", available, status->replicas.size());
    std::string lags;
    for (const auto& [id, lag] : status->replica_lag_seconds) {
      lags += fmt::format("{}{} lag {:.3g} s", lags.empty() ? "" : ", ", id, lag);
    }
    c.detail = others.empty() ? lags : others + (lags.empty() ? "" : "; " + lags);
    checks.push_back(std::move(c));
  }
  // Parts the status could not read: a replica that could not be described is an unknown
  // replica check; other gaps (lag, maintenance, events, the cluster) are told in a detail.
  for (const auto& note : status->notes) {
    if (note.starts_with("replica ")) {
      steps::Check c = NewCheck("cloud_replicas");
      c.level = steps::Level::kUnknown;
      c.display = "unknown";
      c.detail = note;
      checks.push_back(std::move(c));
      continue;
    }
    const std::string_view into =
        note.starts_with("pending maintenance") ? "cloud_pending_changes" : "cloud_instance_status";
    for (auto& c : checks) {
      if (c.id != into) continue;
      c.detail += (c.detail.empty() ? "" : "; ") + note;
      break;
    }
  }

  auto report = provider_.Metrics(resource_, window_, period_, &*status);
  if (!report) {
    for (const char* id : {"cloud_cpu_percent", "cloud_freeable_memory_bytes"}) {
      steps::Check c = NewCheck(id);
      c.level = steps::Level::kUnknown;
      c.display = "unknown";
      c.detail = report.error().ToString();
      checks.push_back(std::move(c));
    }
    return checks;
  }
  const auto minutes = window_.count() / 60;
  auto metric_check = [&](std::string_view id, std::string_view metric, char which, double scale) {
    steps::Check c = NewCheck(id);
    const cloud::MetricSummary* m = Find(*report, metric);
    if (m == nullptr) return;
    const std::optional<double> v = which == 'a' ? m->avg : which == 'n' ? m->min : m->max;
    if (!v) {
      c.level = steps::Level::kUnknown;
      c.display = "no data";
      c.detail = fmt::format("no {} datapoint in the last {} minutes", metric, minutes);
      checks.push_back(std::move(c));
      return;
    }
    c.value = *v * scale;
    auto shown = [&](double x) {
      x *= scale;
      if (c.unit == "bytes") return Bytes(x);
      if (c.unit == "%") return fmt::format("{:.1f}%", x);
      return fmt::format("{:.4g}", x);
    };
    c.display = shown(*v);
    c.detail = fmt::format("{} min {} avg {} max {} over {} min ({} datapoints)", metric,
                           m->min ? shown(*m->min) : "-", m->avg ? shown(*m->avg) : "-",
                           m->max ? shown(*m->max) : "-", minutes, m->averages.size());
    checks.push_back(std::move(c));
  };
  metric_check("cloud_cpu_percent", "CPUUtilization", 'a', 1);
  metric_check("cloud_freeable_memory_bytes", "FreeableMemory", 'n', 1);
  metric_check("cloud_connections", "DatabaseConnections", 'x', 1);
  metric_check("cloud_read_iops", "ReadIOPS", 'a', 1);
  metric_check("cloud_write_iops", "WriteIOPS", 'a', 1);
  metric_check("cloud_replica_lag_seconds", "ReplicaLag", 'x', 1);
  metric_check("cloud_replica_lag_seconds", "AuroraReplicaLag", 'x', 0.001);  // ms -> s
  metric_check("cloud_replica_lag_seconds", "AuroraReplicaLagMaximum", 'x', 0.001);
  return checks;
}

}  // namespace dbrunbook::app
