// The watch daemon's shell around the incident engine (watch/engine.h): the pollers, the
// workers that diagnose and act, the store, the operator's commands, and what the HTTP API
// reads and posts.
//
// Threads:
//   * the engine thread (Run()): the only one that touches the engine. It drains an inbox
//     (sample batches, alerts, diagnoses and action results), ticks the engine every second,
//     carries out operator commands queued in the store (`dbrunbook incident approve ...`),
//     persists every changed incident with its new timeline events in one transaction, and
//     hands effects to the workers;
//   * the scheduler and a bounded pool of poll workers: each target is polled every
//     `interval` by its TargetPoller; a target whose previous poll has not finished is
//     skipped (counted as an overrun), never queued twice, so one hung server holds one
//     worker until its read timeout and never delays the others;
//   * a small pool of effect workers: diagnosis (evidence snapshot, assessment,
//     investigation) and actions, each on its own fresh session, at most one per target at a
//     time;
//   * the HTTP server's threads (api/), which only read published snapshots or the store,
//     and post into the inbox.
//
// Thread-safety: the public methods may be called from any thread.
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/error.h"
#include "mysql/connect_options.h"
#include "mysql/session.h"
#include "runbook/runbook.h"
#include "steps/assess.h"
#include "steps/step.h"
#include "tail/log_tail.h"
#include "watch/engine.h"

namespace dbrunbook::notify {
class Dispatcher;
}  // namespace dbrunbook::notify

namespace dbrunbook::daemon {

struct DaemonTarget {
  std::string name;
  mysql::ConnectOptions options;  // resolved, password included: never printed
  std::vector<std::string> protected_users;
  std::map<std::string, std::string> tags;
  steps::AssessOptions assess;  // thresholds, expected role and replicas (app::AssessOptionsFor)
  // The cloud-cadence signals (cpu_percent, freeable_memory_bytes) from the provider's
  // metrics; empty for a target without a cloud: section. Called on a poll worker every
  // DaemonOptions::cloud_interval, one call at a time per target.
  std::function<core::Result<std::map<std::string, double>>()> cloud_metrics;
};

// What an action run by DaemonOptions::run_action came to.
struct ActionOutcome {
  watch::ActionState state = watch::ActionState::kRefused;  // applied, verified, failed, refused
  std::string detail;  // one line for the timeline: never a password or a statement's text
  std::string run_id;  // the audit run id of the attempt
};
// Runs an action of an incident (effect.action, effect.params, effect.reason) on `target`.
using ActionRunner = std::function<ActionOutcome(const DaemonTarget&, const watch::Effect&)>;

struct DaemonOptions {
  std::string store_path;
  core::Duration interval = std::chrono::seconds(1);
  core::Duration slow_interval = std::chrono::seconds(10);
  core::Duration cloud_interval = std::chrono::seconds(60);  // CloudWatch's own period
  int poll_workers = 16;                                     // bounded concurrency of polls
  int effect_workers = 4;
  // Samples kept per target in the store's ring buffer, and how often one is stored (every
  // poll while the target has an open incident).
  core::Duration sample_every = std::chrono::seconds(10);
  int samples_kept = 8640;  // a day at 10 s
  steps::InvestigateOptions investigate;
  // Application log files tailed for connectivity errors (app_errors_per_min per target).
  std::vector<tail::LogFileConfig> app_logs;
  // Pushed and log-derived signal values older than this are dropped (per source).
  core::Duration external_ttl = std::chrono::minutes(2);
  // A firing Alertmanager alert not received again for this long ends (watch.alert_ttl).
  core::Duration alert_ttl = watch::kDefaultAlertTtl;
  // The HTTP API's address ("" when none), recorded in the daemon lease for the CLI.
  std::string listen;
  // Runs failover, scale-up, tune and index for an incident with the same planning,
  // pre-checks, guardrails, verification and audit as `dbrunbook mitigate ACTION --apply`
  // (app/watch_command.cc sets it; without it these actions come back refused). Called on an
  // effect worker, one action per target at a time; actions of two targets may run at once
  // (the failover's recovery lock in the store keeps one recovery per cluster).
  ActionRunner run_action;
  // The runbook's messages (notify/templates.h) for each incident event that calls for one
  // (opened, escalated, acknowledged, resolved) and the status updates the alert promised are
  // queued in the store's outbox in the same transaction as the event, to the channels the
  // runbook's contacts name; a channel not among these configured ones (notify.channels) gets
  // its row failed as "not configured". The dispatcher that delivers them is attached with
  // SetDispatcher once the daemon holds the store.
  std::set<std::string> notify_channels;
  // One log line per event (text or JSON, as the caller formats it).
  std::function<void(std::string_view level, std::string_view message,
                     const nlohmann::json& fields)>
      log;
};

// Counters /metrics shows besides the signals.
struct PollStats {
  uint64_t polls = 0;
  uint64_t errors = 0;    // polls that found the target unreachable
  uint64_t overruns = 0;  // polls skipped because the previous one was still running
  double last_seconds = 0;
  uint64_t statements = 0;
};

class Daemon {
 public:
  static core::Result<std::unique_ptr<Daemon>> Create(
      runbook::Runbook runbook, std::vector<DaemonTarget> targets, DaemonOptions options,
      std::shared_ptr<mysql::SessionFactory> factory, core::Clock& clock);
  ~Daemon();
  Daemon(const Daemon&) = delete;
  Daemon& operator=(const Daemon&) = delete;

  // Opens the store, takes its daemon lease and restores the open incidents. kUnavailable
  // when another live daemon holds the store (a holder on this host whose process is gone is
  // replaced at once; one elsewhere once its heartbeat is 15 s old).
  core::Status Start();
  // Starts the threads and runs the engine until Stop(); calls Start() first if needed.
  core::Status Run();
  // The notification dispatcher delivering the outbox (owned by the caller, outliving the
  // daemon): woken when messages were queued, and its counters shown on /metrics. Attach it
  // after Start() (which takes the store's lease: one daemon's dispatcher per store) and before
  // Run(); without one, messages stay queued.
  void SetDispatcher(notify::Dispatcher* dispatcher);
  // Asks Run() to return; from any thread (the watch command calls it from the thread that
  // takes SIGINT and SIGTERM). Not async-signal-safe: never call it from a signal handler.
  void Stop();

  // --- for the HTTP API ---
  // {"incidents": [...]} newest first, each with id, target, phase, opened_at, triggers,
  // findings, actions, timeline (from the store: resolved ones too).
  core::Result<nlohmann::json> IncidentsJson(bool open_only, int limit);
  // One incident with its timeline, findings (whole) and evidence kinds; nullopt: unknown.
  core::Result<std::optional<nlohmann::json>> IncidentJson(int64_t id);
  // The Prometheus text exposition of the daemon's state.
  std::string MetricsText();
  // Posts an alert or pushed signal values into the engine (from the API's parsers).
  void PostAlert(watch::ExternalAlert alert);
  // Pushed values of `source` (the caller's name for itself): a target's external signal is
  // the sum over its sources (the log tailer's and each pushed one), each fresh for
  // DaemonOptions::external_ttl.
  void PostSignals(const std::string& target, const std::map<std::string, double>& values,
                   core::WallTime at, const std::string& source = "default");
  // Queues an operator command (approve/ack/note/resolve) and waits for its answer.
  core::Result<std::string> Command(int64_t incident_id, const std::string& kind,
                                    const std::string& action, const std::string& who,
                                    const std::string& text, core::Duration wait);
  // Names of the configured targets.
  std::vector<std::string> TargetNames() const;
  bool running() const;

  struct Impl;

 private:
  explicit Daemon(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace dbrunbook::daemon
