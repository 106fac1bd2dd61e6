#include "daemon/poller.h"

#include <fmt/format.h>

#include <algorithm>
#include <utility>

#include "collect/activity.h"
#include "steps/mitigate_kill.h"

namespace dbrunbook::daemon {
namespace {

// The connection is gone (or never came): the next poll must reconnect.
bool LostConnection(const core::Error& error) {
  return error.code == core::ErrorCode::kUnavailable || error.code == core::ErrorCode::kTimeout ||
         error.code == core::ErrorCode::kDnsFailure;
}

}  // namespace

TargetPoller::TargetPoller(std::string target, mysql::ConnectOptions options,
                           std::shared_ptr<mysql::SessionFactory> factory, core::Clock& clock,
                           PollerOptions poller_options)
    : target_(std::move(target)),
      options_(std::move(options)),
      factory_(std::move(factory)),
      clock_(clock),
      poller_options_(poller_options) {
  options_.connect_timeout = std::min(options_.connect_timeout, poller_options_.connect_timeout);
  options_.read_timeout = std::min(options_.read_timeout, poller_options_.read_timeout);
  options_.write_timeout = std::min(options_.write_timeout, poller_options_.read_timeout);
}

uint64_t TargetPoller::statements_sent() const {
  return closed_sessions_statements_ + probe_statements_ +
         (session_ ? session_->session->statements_sent() : 0);
}

void TargetPoller::Unreachable(watch::SampleBatch& batch, const core::Error& error) {
  if (session_) closed_sessions_statements_ += session_->session->statements_sent();
  session_.reset();
  previous_.reset();  // rates restart after a reconnect (the server may have restarted)
  batch.values.clear();
  batch.values[std::string(watch::kTargetUnreachable)] = 1;
  batch.error = error.ToString();
  probe_failures_.push_back(batch.mono);
}

watch::SampleBatch TargetPoller::Poll() {
  errors_.clear();
  watch::SampleBatch batch;
  batch.target = target_;
  batch.wall = clock_.WallNow();
  batch.mono = clock_.MonotonicNow();

  if (!session_) {
    auto opened = collect::OpenTargetSession(*factory_, options_, clock_);
    if (!opened) {
      Unreachable(batch, opened.error());
      return batch;
    }
    session_ = std::move(*opened);
  }
  collect::TargetSession& target = *session_;

  // Only the counters the signals use (and the history list length where it is a status
  // variable): a dozen rows instead of ~500, every second, on every target.
  static const std::vector<std::string> kCounters = {
      "Threads_running", "Threads_connected", "Innodb_row_lock_current_waits", "Aborted_connects",
      "Questions",       "Slow_queries",      "Innodb_history_list_length"};
  static const std::vector<std::string> kPrefixes = {"Connection_errors_"};
  auto status = collect::SampleStatus(target, clock_, kCounters, kPrefixes);
  if (!status) {
    if (LostConnection(status.error())) {
      Unreachable(batch, status.error());
      return batch;
    }
    errors_.push_back("status: " + status.error().ToString());
  } else {
    const collect::StatusSample& now = *status;
    auto set = [&](const char* signal, std::optional<double> value) {
      if (value) batch.values[signal] = *value;
    };
    set("threads_running", now.Get("Threads_running"));
    set("threads_connected", now.Get("Threads_connected"));
    set("row_lock_waits", now.Get("Innodb_row_lock_current_waits"));
    if (auto connected = now.Get("Threads_connected")) {
      auto it = target.variables.find("max_connections");
      if (it != target.variables.end()) {
        const double max = std::strtod(it->second.c_str(), nullptr);
        if (max > 0) batch.values["connections_used_ratio"] = *connected / max;
      }
    }
    if (previous_) {
      set("aborted_connects_per_s", collect::Rate(*previous_, now, "Aborted_connects"));
      set("questions_per_s", collect::Rate(*previous_, now, "Questions"));
      set("slow_queries_per_s", collect::Rate(*previous_, now, "Slow_queries"));
      // Every Connection_errors_* counter the server has, summed.
      std::optional<double> errors;
      for (const auto& [name, value] : now.values) {
        if (!name.starts_with("Connection_errors_")) continue;
        if (auto rate = collect::Rate(*previous_, now, name)) errors = errors.value_or(0) + *rate;
      }
      set("connection_errors_per_s", errors);
    }
    previous_ = std::move(*status);
  }

  auto active = collect::ReadActiveStatements(target, 1);
  if (!active) {
    if (LostConnection(active.error())) {
      Unreachable(batch, active.error());
      return batch;
    }
    errors_.push_back("processlist: " + active.error().ToString());
  } else if (active->empty()) {
    batch.values[std::string(watch::kLongestQuery)] = 0;
  } else {
    const collect::ActiveStatement& longest = active->front();
    batch.values[std::string(watch::kLongestQuery)] = longest.time_seconds;
    batch.context[std::string(watch::kLongestQuery)] =
        fmt::format("connection {} ({}@{}, {:.0f}s): {}", longest.id, longest.user, longest.host,
                    longest.time_seconds, steps::RedactStatement(longest.info));
  }

  auto replicas = collect::ReadReplicaStatus(target);
  if (!replicas) {
    if (LostConnection(replicas.error())) {
      Unreachable(batch, replicas.error());
      return batch;
    }
    errors_.push_back("replica status: " + replicas.error().ToString());
  } else if (!replicas->empty()) {
    bool running = true;
    std::optional<double> lag;
    for (const collect::ReplicaChannel& channel : *replicas) {
      running = running && channel.io == collect::ThreadState::kRunning &&
                channel.sql == collect::ThreadState::kRunning;
      if (channel.seconds_behind) {
        lag = std::max(lag.value_or(0), static_cast<double>(*channel.seconds_behind));
      }
    }
    batch.values["replication_running"] = running ? 1 : 0;
    if (lag) batch.values["replication_lag_seconds"] = *lag;
  }

  if (!last_slow_ || batch.mono - *last_slow_ >= poller_options_.slow_interval) {
    last_slow_ = batch.mono;
    PollSlow(batch);
  }
  batch.values[std::string(watch::kTargetUnreachable)] = 0;
  return batch;
}

void TargetPoller::PollSlow(watch::SampleBatch& batch) {
  // A fresh connection, as an application would open one: how long it takes, and whether it
  // works at all (connection timeouts are a runbook trigger).
  mysql::ConnectOptions probe = options_;
  probe.init_statements.clear();
  const core::MonoTime start = clock_.MonotonicNow();
  auto connected = factory_->Connect(probe);
  if (connected) {
    batch.values["connect_seconds"] = core::ToSeconds(clock_.MonotonicNow() - start);
    probe_statements_ += (*connected)->statements_sent();
  } else {
    probe_failures_.push_back(batch.mono);
    errors_.push_back("probe connection: " + connected.error().ToString());
  }
  while (!probe_failures_.empty() &&
         batch.mono - probe_failures_.front() > std::chrono::minutes(1)) {
    probe_failures_.pop_front();
  }
  batch.values["connect_failures_per_min"] = static_cast<double>(probe_failures_.size());

  if (session_ && previous_) {
    auto hll = collect::ReadHistoryListLength(*session_, *previous_);
    if (hll && *hll) {
      batch.values["history_list_length"] = static_cast<double>(**hll);
    } else if (!hll) {
      errors_.push_back("history list length: " + hll.error().ToString());
    }
  }
}

}  // namespace dbrunbook::daemon
