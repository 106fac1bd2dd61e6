#include "daemon/daemon.h"

#include <fmt/format.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <set>
#include <thread>
#include <utility>
#include <variant>

#include "api/prometheus.h"
#include "core/duration.h"
#include "daemon/actions.h"
#include "daemon/diagnose.h"
#include "daemon/external_signals.h"
#include "daemon/poller.h"
#include "notify/dispatcher.h"
#include "notify/templates.h"
#include "store/store.h"

namespace dbrunbook::daemon {
namespace {

using Message = std::variant<watch::SampleBatch, watch::ExternalAlert, watch::DiagnoseResult,
                             watch::ActionResult>;

// A lease not renewed for this long belongs to a dead daemon.
constexpr int64_t kLeaseStaleSeconds = 15;
constexpr core::Duration kHeartbeatEvery = std::chrono::seconds(5);
// The application log tailer's source of app_errors_per_min (pushed sources are "api:...").
constexpr const char* kAppLogsSource = "app_logs";

int64_t EpochSeconds(core::WallTime t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}
int64_t EpochMillis(core::WallTime t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

std::string HostName() {
  std::array<char, 256> name{};
  if (gethostname(name.data(), name.size() - 1) != 0) return "unknown";
  return name.data();
}

}  // namespace

struct PollSlot {
  std::unique_ptr<TargetPoller> poller;
  bool in_flight = false;  // guarded by Impl::poll_mutex
  core::MonoTime next_due{};
  // The cloud metrics: their own cadence, their own in-flight flag (a slow cloud API never
  // delays the server's polls).
  bool cloud_in_flight = false;
  core::MonoTime cloud_next_due{};
};

// A poll job: the server poll of slot `index`, or its cloud metrics.
struct PollJob {
  size_t index = 0;
  bool cloud = false;
};

struct Daemon::Impl {
  Impl(runbook::Runbook rb, std::vector<DaemonTarget> t, DaemonOptions o,
       std::shared_ptr<mysql::SessionFactory> f, core::Clock& c)
      : runbook(std::move(rb)),
        targets(std::move(t)),
        options(std::move(o)),
        factory(std::move(f)),
        clock(c) {}

  runbook::Runbook runbook;
  std::vector<DaemonTarget> targets;
  DaemonOptions options;
  std::shared_ptr<mysql::SessionFactory> factory;
  core::Clock& clock;

  // Engine thread only.
  std::unique_ptr<store::Store> store;
  std::optional<watch::Engine> engine;
  std::map<std::string, core::WallTime> last_sample_stored;
  int64_t pid = getpid();

  std::atomic<bool> stop{false};
  std::atomic<bool> is_running{false};
  bool started = false;

  // Inbox of the engine thread.
  std::mutex inbox_mutex;
  std::condition_variable inbox_cv;
  std::deque<Message> inbox;

  // The scheduler's sleep.
  std::mutex scheduler_mutex;
  std::condition_variable scheduler_cv;

  // Polls.
  std::mutex poll_mutex;
  std::condition_variable poll_cv;
  std::vector<PollSlot> slots;
  std::deque<PollJob> poll_queue;

  // Effects.
  std::mutex effect_mutex;
  std::condition_variable effect_cv;
  std::deque<watch::Effect> effects;
  std::set<std::string> effect_busy;  // targets with an effect running

  // Pushed and log-derived signals, per source (summed per target and signal).
  std::mutex external_mutex;
  ExternalSignals external{options.external_ttl};

  // What /metrics and the API read, published by the threads that own the data.
  std::mutex metrics_mutex;
  std::map<std::string, PollStats> poll_stats;  // by target
  // By target and signal: the last value and when it came (slow and pushed signals are not
  // in every batch; a value older than three of its periods is no longer shown).
  std::map<std::string, std::map<std::string, std::pair<double, core::MonoTime>>> last_values;
  std::vector<watch::TriggerStatus> trigger_statuses;
  std::map<std::string, int> open_by_target;      // open incidents per target
  std::map<std::string, uint64_t> events_total;   // by kind
  std::map<std::string, uint64_t> effects_total;  // "diagnose", "action:<state>", "escalate"
  std::map<std::string, uint64_t> cloud_errors;   // failed cloud metric reads, by target

  // The API's own store handle (a reader; WAL lets it read while the engine writes).
  std::mutex api_store_mutex;
  std::unique_ptr<store::Store> api_store;

  void Log(std::string_view level, std::string_view message, const nlohmann::json& fields = {}) {
    if (options.log) options.log(level, message, fields);
  }

  void Post(Message message) {
    {
      std::lock_guard lock(inbox_mutex);
      inbox.push_back(std::move(message));
    }
    inbox_cv.notify_one();
  }

  const DaemonTarget* FindTarget(std::string_view name) const {
    for (const auto& t : targets) {
      if (t.name == name) return &t;
    }
    return nullptr;
  }

  // --- engine thread ---
  core::Status Start();
  void Loop();
  void Handle(const Message& message);
  void HandleOutput(const watch::Output& output);
  // Saves the incident with its new events (and `extra` entries and outbox rows) in one
  // transaction; the messages the events call for are queued with them.
  void Persist(int64_t incident_id, const std::vector<watch::Event>& events,
               std::vector<store::TimelineEntry> extra = {},
               std::vector<store::OutboxRow> extra_outbox = {});
  // The runbook's message of `kind` for the incident, as outbox rows (none when no contact
  // of the message's levels names a channel).
  std::vector<store::OutboxRow> MessageRows(const watch::Incident& incident,
                                            notify::MessageKind kind, const notify::MessageCue* cue,
                                            int update_number);
  // Queues the status updates that are due (the "next update" the last message promised).
  void SendDueUpdates();
  void Tick();
  void RunCommands();
  void StoreSamples(const watch::SampleBatch& batch);
  void Publish();

  // --- other threads ---
  void Scheduler();
  void PollWorker();
  void PollCloud(size_t index);
  void EffectWorker();

  // Status updates, by incident (engine thread): when the alert or the last update was queued,
  // and how many updates were; seeded from the outbox at start.
  struct UpdateState {
    core::WallTime last_sent{};
    int updates = 0;
  };
  std::map<int64_t, UpdateState> update_state;
  std::atomic<notify::Dispatcher*> dispatcher{nullptr};

  std::vector<std::thread> threads;
  core::MonoTime last_heartbeat{};
  std::unique_ptr<tail::LogTailer> tailer;  // engine thread; null without app_logs
};

std::vector<store::OutboxRow> Daemon::Impl::MessageRows(const watch::Incident& incident,
                                                        notify::MessageKind kind,
                                                        const notify::MessageCue* cue,
                                                        int update_number) {
  const DaemonTarget* target = FindTarget(incident.target);
  static const std::map<std::string, std::string> kNoTags;
  const core::WallTime now = clock.WallNow();
  notify::MessageContext context =
      notify::BuildContext(incident, runbook, target != nullptr ? target->tags : kNoTags, now);
  if (cue != nullptr) cue->ApplyTo(context);
  context.update_number = update_number;
  const notify::Message message = notify::Render(kind, context, runbook.messages);
  if (message.channels.empty()) return {};
  return notify::OutboxRowsOf(message, now, options.notify_channels);
}

void Daemon::Impl::Persist(int64_t incident_id, const std::vector<watch::Event>& events,
                           std::vector<store::TimelineEntry> extra,
                           std::vector<store::OutboxRow> extra_outbox) {
  const watch::Incident* incident = engine->Find(incident_id);
  if (incident == nullptr) return;
  store::IncidentRecord record;
  record.id = incident->id;
  record.target = incident->target;
  record.phase = std::string(watch::PhaseName(incident->phase));
  record.severity = incident->severity;
  record.opened_at = core::FormatRfc3339(incident->opened_at);
  record.resolved_at = incident->resolved_at ? core::FormatRfc3339(*incident->resolved_at) : "";
  record.state_json = watch::IncidentToJson(*incident).dump();
  std::vector<store::TimelineEntry> entries;
  std::vector<store::OutboxRow> outbox;
  for (const watch::Event& e : events) {
    if (e.incident_id != incident_id) continue;
    entries.push_back({0, e.incident_id, core::FormatRfc3339(e.at), e.kind, e.text, e.data.dump()});
    // The messages this event calls for go into the outbox in the same transaction as the
    // event: after a crash, both are there or neither (and the engine re-emits neither).
    if (auto cue = notify::MessageCueFor(e)) {
      std::vector<store::OutboxRow> rows = MessageRows(*incident, cue->kind, &*cue, 0);
      outbox.insert(outbox.end(), rows.begin(), rows.end());
      if (cue->kind == notify::MessageKind::kAlert) update_state[incident_id] = {e.at, 0};
    }
  }
  for (auto& e : extra) entries.push_back(std::move(e));
  for (auto& r : extra_outbox) outbox.push_back(std::move(r));
  if (auto saved = store->SaveIncident(record, entries, outbox); !saved) {
    Log("error", "cannot save incident " + std::to_string(incident_id),
        {{"error", saved.error().ToString()}});
    return;
  }
  if (incident->resolved_at) update_state.erase(incident_id);
  if (notify::Dispatcher* d = dispatcher.load(); d != nullptr && !outbox.empty()) d->Wake();
}

void Daemon::Impl::SendDueUpdates() {
  const core::WallTime now = clock.WallNow();
  for (const watch::Incident* incident : engine->OpenIncidents()) {
    auto state = update_state.find(incident->id);
    if (state == update_state.end()) continue;
    const auto due = notify::NextUpdateDue(*incident, state->second.last_sent, runbook.messages);
    if (!due || *due > now) continue;
    const int number = state->second.updates + 1;
    std::vector<store::OutboxRow> rows =
        MessageRows(*incident, notify::MessageKind::kUpdate, nullptr, number);
    state->second = {now, number};
    if (rows.empty()) continue;
    std::set<std::string> channels;
    for (const auto& r : rows) channels.insert(r.channel);
    const std::string text =
        fmt::format("status update {} queued for {}", number, fmt::join(channels, ", "));
    Persist(incident->id, {},
            {{0, incident->id, core::FormatRfc3339(now), "message.update", text,
              nlohmann::json{{"update", number}}.dump()}},
            std::move(rows));
    Log("info", text, {{"incident", incident->id}, {"target", incident->target}});
  }
}

void Daemon::Impl::HandleOutput(const watch::Output& output) {
  std::set<int64_t> ids(output.changed.begin(), output.changed.end());
  for (const watch::Event& e : output.events) ids.insert(e.incident_id);
  for (int64_t id : ids) Persist(id, output.events);
  {
    std::lock_guard lock(metrics_mutex);
    for (const watch::Event& e : output.events) ++events_total[e.kind];
  }
  for (const watch::Event& e : output.events) {
    nlohmann::json fields = {{"incident", e.incident_id}, {"event", e.kind}};
    if (const watch::Incident* i = engine->Find(e.incident_id)) fields["target"] = i->target;
    const bool loud = e.kind == "opened" || e.kind == "escalated" || e.kind == "deadline.missed" ||
                      e.kind.starts_with("action.") || e.kind == "resolved";
    Log(loud ? "warn" : "info", e.text, fields);
  }
  for (const watch::Effect& effect : output.effects) {
    if (effect.kind == watch::EffectKind::kEscalate) {
      // Delivery to the contacts' channels is the notification outbox's job; here the
      // escalation is logged (the engine recorded it on the timeline).
      Log("warn",
          fmt::format("escalation level {} ({}) for incident {} on {}: {}", effect.level,
                      effect.rule, effect.incident_id, effect.target,
                      effect.contacts.empty()
                          ? std::string("no contact at this level")
                          : fmt::format("{}", fmt::join(effect.contacts, ", "))),
          {{"incident", effect.incident_id},
           {"target", effect.target},
           {"escalation_level", effect.level}});
      std::lock_guard lock(metrics_mutex);
      ++effects_total["escalate"];
      continue;
    }
    watch::Effect queued = effect;
    if (queued.kind == watch::EffectKind::kApplyAction && queued.reason.empty()) {
      // What proposed the action decides how it is run (a root blocker: kill the roots).
      if (const watch::Incident* i = engine->Find(effect.incident_id)) {
        for (const auto& a : i->actions) {
          if (a.key == effect.key) queued.reason = a.reason;
        }
      }
    }
    {
      std::lock_guard lock(effect_mutex);
      effects.push_back(std::move(queued));
    }
    effect_cv.notify_one();
  }
}

void Daemon::Impl::StoreSamples(const watch::SampleBatch& batch) {
  bool open = false;
  for (const watch::Incident* i : engine->OpenIncidents()) open = open || i->target == batch.target;
  auto& last = last_sample_stored[batch.target];
  if (!open && batch.wall - last < options.sample_every) return;
  last = batch.wall;
  nlohmann::json values = batch.values;
  if (auto s = store->AppendSamples({{batch.target, EpochMillis(batch.wall), values.dump()}},
                                    options.samples_kept);
      !s) {
    Log("error", "cannot store samples",
        {{"target", batch.target}, {"error", s.error().ToString()}});
  }
}

void Daemon::Impl::Handle(const Message& message) {
  if (const auto* batch = std::get_if<watch::SampleBatch>(&message)) {
    watch::SampleBatch merged = *batch;
    {
      // Pushed and log-derived signals ride along with the target's poll: per signal, the
      // sum over the sources that reported within external_ttl.
      std::lock_guard lock(external_mutex);
      for (const auto& [signal, value] : external.Fresh(batch->target, batch->wall)) {
        merged.values[signal] = value;
      }
    }
    {
      std::lock_guard lock(metrics_mutex);
      auto& values = last_values[batch->target];
      for (const auto& [signal, value] : merged.values) values[signal] = {value, batch->mono};
    }
    StoreSamples(merged);
    HandleOutput(engine->OnSamples(merged));
  } else if (const auto* alert = std::get_if<watch::ExternalAlert>(&message)) {
    HandleOutput(engine->OnAlert(*alert));
  } else if (const auto* diagnosed = std::get_if<watch::DiagnoseResult>(&message)) {
    HandleOutput(engine->OnDiagnoseDone(*diagnosed));
  } else if (const auto* acted = std::get_if<watch::ActionResult>(&message)) {
    {
      std::lock_guard lock(metrics_mutex);
      ++effects_total[fmt::format("action:{}", watch::ActionStateName(acted->state))];
    }
    HandleOutput(engine->OnActionDone(*acted));
  }
}

void Daemon::Impl::RunCommands() {
  auto pending = store->PendingCommands();
  if (!pending) {
    Log("error", "cannot read commands", {{"error", pending.error().ToString()}});
    return;
  }
  for (const store::CommandRecord& c : *pending) {
    const core::WallTime now = clock.WallNow();
    core::Result<watch::Output> out = core::MakeError(core::ErrorCode::kInvalidArgument,
                                                      fmt::format("unknown command '{}'", c.kind),
                                                      "use approve, ack, note or resolve");
    if (c.kind == "approve") {
      out = engine->Approve(c.incident_id, c.action, c.who, now);
    } else if (c.kind == "ack") {
      out = engine->Ack(c.incident_id, c.who, now);
    } else if (c.kind == "note") {
      out = engine->Note(c.incident_id, c.who, c.text, now);
    } else if (c.kind == "resolve") {
      out = engine->Resolve(c.incident_id, c.who, c.text, now);
    }
    std::string answer;
    if (out) {
      HandleOutput(*out);
      answer = out->events.empty() ? "done" : out->events.back().text;
    } else {
      answer = out.error().ToString();
    }
    if (auto s = store->FinishCommand(c.id, out.has_value(), answer); !s) {
      Log("error", "cannot answer a command", {{"error", s.error().ToString()}});
    }
  }
}

void Daemon::Impl::Publish() {
  std::lock_guard lock(metrics_mutex);
  trigger_statuses = engine->Triggers();
  open_by_target.clear();
  for (const auto& t : targets) open_by_target[t.name] = 0;
  for (const watch::Incident* i : engine->OpenIncidents()) ++open_by_target[i->target];
}

void Daemon::Impl::Tick() {
  if (tailer) {
    // The application logs' errors per minute join each target's next poll.
    const core::MonoTime mono = clock.MonotonicNow();
    tail::PollResult read = tailer->Poll(mono);
    for (const std::string& notice : read.notices) Log("warn", notice, {{"source", "app_logs"}});
    const core::WallTime wall = clock.WallNow();
    std::lock_guard lock(external_mutex);
    for (const auto& [target, rate] : tailer->ErrorsPerMinute(mono)) {
      external.Set(target, std::string(watch::kAppErrors), kAppLogsSource, rate, wall);
    }
  }
  HandleOutput(engine->OnTick(clock.WallNow(), clock.MonotonicNow()));
  SendDueUpdates();
  RunCommands();
  const core::MonoTime now = clock.MonotonicNow();
  if (now - last_heartbeat >= kHeartbeatEvery) {
    last_heartbeat = now;
    if (auto s = store->Heartbeat(pid, EpochSeconds(clock.WallNow())); !s) {
      Log("error", "lost the store's daemon lease; stopping", {{"error", s.error().ToString()}});
      stop = true;
    }
  }
  Publish();
}

core::Status Daemon::Impl::Start() {
  auto opened = store::Store::Open(options.store_path);
  if (!opened) return core::Fail(opened.error());
  store = std::move(*opened);
  auto reader = store::Store::Open(options.store_path);
  if (!reader) return core::Fail(reader.error());
  api_store = std::move(*reader);

  store::DaemonLease me{pid, HostName(), core::FormatRfc3339(clock.WallNow()), 0, options.listen};
  auto holder = store->AcquireDaemonLease(me, EpochSeconds(clock.WallNow()), kLeaseStaleSeconds);
  if (!holder) return core::Fail(holder.error());
  if (*holder && (*holder)->host == me.host && kill(static_cast<pid_t>((*holder)->pid), 0) != 0 &&
      errno == ESRCH) {
    // The previous daemon on this host died without releasing the lease (kill -9, a crash):
    // no need to wait for its heartbeat to age.
    Log("warn",
        fmt::format("the previous daemon (pid {}) is gone; taking over the store", (*holder)->pid));
    if (auto released = store->ReleaseDaemonLease((*holder)->pid); !released) {
      return core::Fail(released.error());
    }
    holder = store->AcquireDaemonLease(me, EpochSeconds(clock.WallNow()), kLeaseStaleSeconds);
    if (!holder) return core::Fail(holder.error());
  }
  if (*holder) {
    return core::MakeError(
        core::ErrorCode::kUnavailable,
        fmt::format("store {} is used by another dbrunbook watch (pid {} on {}, since {}{})",
                    store->path(), (*holder)->pid, (*holder)->host, (*holder)->started_at,
                    (*holder)->listen.empty() ? "" : ", API on " + (*holder)->listen),
        "run one watch daemon per store file; stop the other one, or give this one its own "
        "--store");
  }

  auto max_id = store->MaxIncidentId();
  if (!max_id) return core::Fail(max_id.error());
  std::vector<std::string> names;
  for (const auto& t : targets) names.push_back(t.name);
  engine.emplace(runbook, names, *max_id + 1, options.alert_ttl);

  auto open = store->Incidents(true, 100000);
  if (!open) return core::Fail(open.error());
  std::vector<watch::Incident> restored;
  for (const store::IncidentRecord& record : *open) {
    nlohmann::json json = nlohmann::json::parse(record.state_json, nullptr, false);
    auto incident = json.is_discarded() ? core::Result<watch::Incident>(core::MakeError(
                                              core::ErrorCode::kParse, "not JSON", ""))
                                        : watch::IncidentFromJson(json);
    if (!incident) {
      Log("error", fmt::format("incident {} in the store cannot be read; left as it is", record.id),
          {{"error", incident.error().ToString()}});
      continue;
    }
    restored.push_back(std::move(*incident));
  }
  std::map<std::string, std::map<std::string, core::WallTime>> last_applied;
  if (auto applied = store->LastApplied()) {
    for (const auto& [target, actions] : *applied) {
      for (const auto& [action, at] : actions) {
        if (auto t = core::ParseRfc3339(at)) last_applied[target][action] = *t;
      }
    }
  }
  const size_t restored_count = restored.size();
  // The status updates' clocks: the last alert or update each open incident queued.
  for (const watch::Incident& incident : restored) {
    auto rows = store->OutboxMessagesOf(std::to_string(incident.id));
    if (!rows) {
      Log("error", fmt::format("cannot read the messages of incident {}", incident.id),
          {{"error", rows.error().ToString()}});
      continue;
    }
    std::set<std::string> update_keys;
    std::optional<int64_t> last_ms;
    for (const store::OutboxRow& row : *rows) {
      if (row.kind != "alert" && row.kind != "update") continue;
      if (row.kind == "update") update_keys.insert(row.key);
      last_ms = std::max(last_ms.value_or(row.created_ms), row.created_ms);
    }
    if (last_ms) {
      update_state[incident.id] = {core::WallTime(std::chrono::milliseconds(*last_ms)),
                                   static_cast<int>(update_keys.size())};
    }
  }
  HandleOutput(engine->Restore(std::move(restored), last_applied, clock.WallNow()));
  if (restored_count > 0) {
    Log("info", fmt::format("resumed {} open incident(s)", restored_count));
  }

  if (!options.app_logs.empty()) {
    auto created = tail::LogTailer::Create(options.app_logs);
    if (!created) return core::Fail(created.error());
    tailer = std::move(*created);
  }

  const core::MonoTime now = clock.MonotonicNow();
  PollerOptions poller_options;
  poller_options.slow_interval = options.slow_interval;
  slots.resize(targets.size());
  for (size_t i = 0; i < targets.size(); ++i) {
    slots[i].poller = std::make_unique<TargetPoller>(targets[i].name, targets[i].options, factory,
                                                     clock, poller_options);
    // Spread the first polls over one interval so that hundreds of targets do not all start
    // in the same millisecond.
    slots[i].next_due = now + options.interval * static_cast<int64_t>(i) /
                                  static_cast<int64_t>(std::max<size_t>(targets.size(), 1));
  }
  Publish();
  return core::Ok();
}

void Daemon::Impl::Scheduler() {
  while (!stop) {
    const core::MonoTime now = clock.MonotonicNow();
    core::MonoTime next = now + std::chrono::milliseconds(100);
    {
      std::lock_guard lock(poll_mutex);
      for (size_t i = 0; i < slots.size(); ++i) {
        PollSlot& slot = slots[i];
        if (slot.next_due > now) {
          next = std::min(next, slot.next_due);
          continue;
        }
        // Keep the cadence: the next poll is due one interval after this one was due.
        slot.next_due += options.interval;
        if (slot.next_due <= now) slot.next_due = now + options.interval;
        if (slot.in_flight) {
          std::lock_guard m(metrics_mutex);
          ++poll_stats[targets[i].name].overruns;
          continue;
        }
        slot.in_flight = true;
        poll_queue.push_back({i, false});
        next = std::min(next, slot.next_due);
      }
      for (size_t i = 0; i < slots.size(); ++i) {
        PollSlot& slot = slots[i];
        if (!targets[i].cloud_metrics || slot.cloud_in_flight) continue;
        if (slot.cloud_next_due > now) {
          next = std::min(next, slot.cloud_next_due);
          continue;
        }
        slot.cloud_next_due = now + options.cloud_interval;
        slot.cloud_in_flight = true;
        poll_queue.push_back({i, true});
      }
    }
    poll_cv.notify_all();
    const auto wait =
        std::max<core::Duration>(next - clock.MonotonicNow(), std::chrono::milliseconds(5));
    // A sleep Stop() can cut short; its own condition variable, so that a Post() meant to
    // wake the engine thread never wakes the scheduler instead.
    std::unique_lock lock(scheduler_mutex);
    scheduler_cv.wait_for(lock, std::min<core::Duration>(wait, std::chrono::milliseconds(100)),
                          [&] { return stop.load(); });
  }
}

void Daemon::Impl::PollWorker() {
  while (true) {
    PollJob job;
    {
      std::unique_lock lock(poll_mutex);
      poll_cv.wait(lock, [&] { return stop || !poll_queue.empty(); });
      if (stop) return;
      job = poll_queue.front();
      poll_queue.pop_front();
    }
    const size_t index = job.index;
    if (job.cloud) {
      PollCloud(index);
      continue;
    }
    TargetPoller& poller = *slots[index].poller;
    const core::MonoTime start = clock.MonotonicNow();
    watch::SampleBatch batch = poller.Poll();
    const double seconds = core::ToSeconds(clock.MonotonicNow() - start);
    {
      std::lock_guard lock(metrics_mutex);
      PollStats& stats = poll_stats[poller.target()];
      ++stats.polls;
      if (!batch.error.empty()) ++stats.errors;
      stats.last_seconds = seconds;
      stats.statements = poller.statements_sent();
    }
    if (!batch.error.empty()) {
      Log("warn", fmt::format("target {} unreachable: {}", poller.target(), batch.error),
          {{"target", poller.target()}});
    }
    {
      std::lock_guard lock(poll_mutex);
      slots[index].in_flight = false;
    }
    Post(std::move(batch));
  }
}

void Daemon::Impl::PollCloud(size_t index) {
  const DaemonTarget& target = targets[index];
  watch::SampleBatch batch;
  batch.target = target.name;
  batch.wall = clock.WallNow();
  batch.mono = clock.MonotonicNow();
  // No target_unreachable: the engine only updates the signals a cloud batch carries.
  auto values = target.cloud_metrics();
  if (values) {
    batch.values = std::move(*values);
  } else {
    std::lock_guard lock(metrics_mutex);
    ++cloud_errors[target.name];
  }
  {
    std::lock_guard lock(poll_mutex);
    slots[index].cloud_in_flight = false;
  }
  if (!values) {
    Log("warn", fmt::format("cloud metrics of {}: {}", target.name, values.error().ToString()),
        {{"target", target.name}});
    return;
  }
  if (!batch.values.empty()) Post(std::move(batch));
}

void Daemon::Impl::EffectWorker() {
  auto worker_store = store::Store::Open(options.store_path);
  while (true) {
    watch::Effect effect;
    {
      std::unique_lock lock(effect_mutex);
      auto runnable = [&] {
        return std::find_if(effects.begin(), effects.end(), [&](const watch::Effect& e) {
          return effect_busy.count(e.target) == 0;
        });
      };
      effect_cv.wait(lock, [&] { return stop || runnable() != effects.end(); });
      if (stop) return;
      auto it = runnable();
      effect = *it;
      effects.erase(it);
      effect_busy.insert(effect.target);
    }
    const DaemonTarget* target = FindTarget(effect.target);
    store::Store* audit = worker_store ? worker_store->get() : nullptr;
    if (effect.kind == watch::EffectKind::kDiagnose) {
      {
        std::lock_guard lock(metrics_mutex);
        ++effects_total["diagnose"];
      }
      Log("info", fmt::format("diagnosing incident {} on {}", effect.incident_id, effect.target),
          {{"incident", effect.incident_id}, {"target", effect.target}});
      watch::DiagnoseResult result =
          target == nullptr
              ? watch::DiagnoseResult{effect.incident_id,
                                      false,
                                      "unknown target",
                                      {},
                                      clock.WallNow()}
              : Diagnose(*target, effect.incident_id, *factory, clock, options.investigate, audit);
      Post(std::move(result));
    } else if (effect.kind == watch::EffectKind::kApplyAction) {
      Log("warn",
          fmt::format("applying {} for incident {} on {}", effect.action, effect.incident_id,
                      effect.target),
          {{"incident", effect.incident_id}, {"target", effect.target}, {"action", effect.action}});
      watch::ActionResult result;
      if (target == nullptr) {
        result = {effect.incident_id, effect.key, watch::ActionState::kRefused,
                  "unknown target",   "",         clock.WallNow()};
      } else {
        result =
            ApplyAction(*target, effect, effect.reason, *factory, clock, audit, options.run_action);
      }
      Post(std::move(result));
    }
    {
      std::lock_guard lock(effect_mutex);
      effect_busy.erase(effect.target);
    }
    effect_cv.notify_all();
  }
}

void Daemon::Impl::Loop() {
  core::MonoTime next_tick = clock.MonotonicNow();
  while (!stop) {
    std::deque<Message> batch;
    {
      std::unique_lock lock(inbox_mutex);
      inbox_cv.wait_until(lock, next_tick, [&] { return stop || !inbox.empty(); });
      batch.swap(inbox);
    }
    for (const Message& m : batch) Handle(m);
    if (clock.MonotonicNow() >= next_tick) {
      Tick();
      next_tick += std::chrono::seconds(1);
      if (next_tick <= clock.MonotonicNow())
        next_tick = clock.MonotonicNow() + std::chrono::seconds(1);
    }
  }
}

Daemon::Daemon(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Daemon::~Daemon() {
  Stop();
  for (auto& t : impl_->threads) {
    if (t.joinable()) t.join();
  }
}

core::Result<std::unique_ptr<Daemon>> Daemon::Create(runbook::Runbook runbook,
                                                     std::vector<DaemonTarget> targets,
                                                     DaemonOptions options,
                                                     std::shared_ptr<mysql::SessionFactory> factory,
                                                     core::Clock& clock) {
  if (options.poll_workers < 1 || options.effect_workers < 1) {
    return core::MakeError(core::ErrorCode::kInvalidArgument, "the daemon needs workers",
                           "poll_workers and effect_workers must be at least 1");
  }
  auto impl = std::make_unique<Impl>(std::move(runbook), std::move(targets), std::move(options),
                                     std::move(factory), clock);
  return std::unique_ptr<Daemon>(new Daemon(std::move(impl)));
}

core::Status Daemon::Start() {
  if (impl_->started) return core::Ok();
  if (auto started = impl_->Start(); !started) return started;
  impl_->started = true;
  return core::Ok();
}

core::Status Daemon::Run() {
  Impl& d = *impl_;
  if (auto started = Start(); !started) return started;
  d.is_running = true;
  const int pollers =
      std::min<int>(d.options.poll_workers, std::max<int>(static_cast<int>(d.targets.size()), 1));
  d.threads.emplace_back([&d] { d.Scheduler(); });
  for (int i = 0; i < pollers; ++i) d.threads.emplace_back([&d] { d.PollWorker(); });
  for (int i = 0; i < d.options.effect_workers; ++i) {
    d.threads.emplace_back([&d] { d.EffectWorker(); });
  }
  d.Log("info", fmt::format("watching {} target(s) every {}", d.targets.size(),
                            core::FormatDuration(d.options.interval)));
  d.Loop();

  // Stopping: the workers finish what they hold (an action under way is completed and
  // verified, never cut in half), then their results are recorded.
  d.poll_cv.notify_all();
  d.effect_cv.notify_all();
  d.inbox_cv.notify_all();
  for (auto& t : d.threads) {
    if (t.joinable()) t.join();
  }
  d.threads.clear();
  std::deque<Message> rest;
  {
    std::lock_guard lock(d.inbox_mutex);
    rest.swap(d.inbox);
  }
  for (const Message& m : rest) {
    if (!std::holds_alternative<watch::SampleBatch>(m)) d.Handle(m);
  }
  (void)d.store->ReleaseDaemonLease(d.pid);
  d.is_running = false;
  d.Log("info", "stopped");
  return core::Ok();
}

void Daemon::SetDispatcher(notify::Dispatcher* dispatcher) {
  impl_->dispatcher = dispatcher;
  if (dispatcher != nullptr) dispatcher->Wake();
}

void Daemon::Stop() {
  impl_->stop = true;
  impl_->scheduler_cv.notify_all();
  impl_->inbox_cv.notify_all();
  impl_->poll_cv.notify_all();
  impl_->effect_cv.notify_all();
}

bool Daemon::running() const { return impl_->is_running; }

std::vector<std::string> Daemon::TargetNames() const {
  std::vector<std::string> names;
  for (const auto& t : impl_->targets) names.push_back(t.name);
  return names;
}

void Daemon::PostAlert(watch::ExternalAlert alert) { impl_->Post(std::move(alert)); }

void Daemon::PostSignals(const std::string& target, const std::map<std::string, double>& values,
                         core::WallTime at, const std::string& source) {
  std::lock_guard lock(impl_->external_mutex);
  // "api:" keeps every pushed source apart from the log tailer's, whatever its name.
  for (const auto& [signal, value] : values) {
    impl_->external.Set(target, signal, "api:" + source, value, at);
  }
}

namespace {

nlohmann::json TimelineJson(const std::vector<store::TimelineEntry>& entries) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& e : entries) {
    nlohmann::json data = nlohmann::json::parse(e.data_json, nullptr, false);
    out.push_back({{"at", e.at},
                   {"kind", e.kind},
                   {"text", e.text},
                   {"data", data.is_discarded() ? nlohmann::json::object() : data}});
  }
  return out;
}

// The incident as the API shows it: the engine's state with the store's columns and its
// timeline.
nlohmann::json IncidentDocument(const store::IncidentRecord& r,
                                const std::vector<store::TimelineEntry>& timeline) {
  nlohmann::json doc = nlohmann::json::parse(r.state_json, nullptr, false);
  if (!doc.is_object()) doc = nlohmann::json::object();
  doc["id"] = r.id;
  doc["target"] = r.target;
  doc["phase"] = r.phase;
  doc["severity"] = r.severity;
  doc["opened_at"] = r.opened_at;
  doc["resolved_at"] = r.resolved_at.empty() ? nlohmann::json() : nlohmann::json(r.resolved_at);
  doc["updated_at"] = r.updated_at;
  for (const char* key : {"triggers", "findings", "actions"}) {
    if (!doc.contains(key)) doc[key] = nlohmann::json::array();
  }
  doc["timeline"] = TimelineJson(timeline);
  return doc;
}

}  // namespace

core::Result<nlohmann::json> Daemon::IncidentsJson(bool open_only, int limit) {
  std::lock_guard lock(impl_->api_store_mutex);
  store::Store& s = *impl_->api_store;
  auto records = s.Incidents(open_only, limit);
  if (!records) return core::Fail(records.error());
  nlohmann::json list = nlohmann::json::array();
  for (const auto& r : *records) {
    auto timeline = s.Timeline(r.id);
    if (!timeline) return core::Fail(timeline.error());
    list.push_back(IncidentDocument(r, *timeline));
  }
  return nlohmann::json{{"incidents", std::move(list)}};
}

core::Result<std::optional<nlohmann::json>> Daemon::IncidentJson(int64_t id) {
  std::lock_guard lock(impl_->api_store_mutex);
  store::Store& s = *impl_->api_store;
  auto record = s.Incident(id);
  if (!record) return core::Fail(record.error());
  if (!*record) return std::optional<nlohmann::json>();
  auto timeline = s.Timeline(id);
  if (!timeline) return core::Fail(timeline.error());
  nlohmann::json doc = IncidentDocument(**record, *timeline);
  auto findings = s.Findings(id);
  if (!findings) return core::Fail(findings.error());
  nlohmann::json all = nlohmann::json::array();
  for (const auto& f : *findings) {
    nlohmann::json whole = nlohmann::json::parse(f.finding_json, nullptr, false);
    all.push_back({{"diagnosis", f.diagnosis},
                   {"at", f.at},
                   {"code", f.code},
                   {"severity", f.severity},
                   {"title", f.title},
                   {"finding", whole.is_discarded() ? nlohmann::json() : whole}});
  }
  doc["diagnoses"] = std::move(all);
  auto evidence = s.Evidence(id);
  if (!evidence) return core::Fail(evidence.error());
  nlohmann::json kinds = nlohmann::json::array();
  for (const auto& e : *evidence) kinds.push_back({{"at", e.at}, {"kind", e.kind}});
  doc["evidence"] = std::move(kinds);
  return std::optional<nlohmann::json>(std::move(doc));
}

core::Result<std::string> Daemon::Command(int64_t incident_id, const std::string& kind,
                                          const std::string& action, const std::string& who,
                                          const std::string& text, core::Duration wait) {
  int64_t id = 0;
  {
    std::lock_guard lock(impl_->api_store_mutex);
    store::CommandRecord c;
    c.incident_id = incident_id;
    c.kind = kind;
    c.action = action;
    c.who = who;
    c.text = text;
    auto queued = impl_->api_store->QueueCommand(c);
    if (!queued) return core::Fail(queued.error());
    id = *queued;
  }
  const core::MonoTime deadline = impl_->clock.MonotonicNow() + wait;
  while (impl_->clock.MonotonicNow() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    std::lock_guard lock(impl_->api_store_mutex);
    auto done = impl_->api_store->Command(id);
    if (!done) return core::Fail(done.error());
    if (*done && !(*done)->done_at.empty()) {
      if (!(*done)->ok) {
        return core::MakeError(core::ErrorCode::kInvalidArgument, (*done)->result,
                               "see `dbrunbook incident show ID` for what the incident holds");
      }
      return (*done)->result;
    }
  }
  return core::MakeError(core::ErrorCode::kTimeout,
                         fmt::format("command {} was queued but not answered in time", id),
                         "the daemon applies queued commands within a second; check its log");
}

std::string Daemon::MetricsText() {
  Impl& d = *impl_;
  using Labels = std::vector<std::pair<std::string, std::string>>;
  auto family = [](std::string name, std::string help, api::MetricType type) {
    return api::MetricFamily{std::move(name), std::move(help), type, {}};
  };
  std::vector<api::MetricFamily> families;
  api::MetricFamily up =
      family("dbrunbook_up", "1 while the watch daemon runs", api::MetricType::kGauge);
  up.samples.push_back({{}, d.is_running ? 1.0 : 0.0});
  families.push_back(std::move(up));
  {
    std::lock_guard lock(d.metrics_mutex);
    std::vector<watch::SampleBatch> latest;
    const core::MonoTime now = d.clock.MonotonicNow();
    for (const auto& [target, values] : d.last_values) {
      watch::SampleBatch batch;
      batch.target = target;
      for (const auto& [signal, value] : values) {
        const watch::SignalSpec* spec = watch::FindSignal(signal);
        const core::Duration period =
            spec == nullptr || spec->cadence == watch::Cadence::kFast ? d.options.interval
            : spec->cadence == watch::Cadence::kSlow                  ? d.options.slow_interval
                                                     : core::Duration(std::chrono::seconds(60));
        if (now - value.second <= 3 * period) batch.values[signal] = value.first;
      }
      latest.push_back(std::move(batch));
    }
    families.push_back(api::SignalFamily(latest));

    api::MetricFamily states =
        family("dbrunbook_trigger_state",
               "runbook trigger state per target: 0 inactive, 1 pending, 2 firing",
               api::MetricType::kGauge);
    for (const watch::TriggerStatus& t : d.trigger_statuses) {
      states.samples.push_back({Labels{{"target", t.target}, {"trigger", t.trigger}},
                                static_cast<double>(static_cast<int>(t.state))});
    }
    families.push_back(std::move(states));

    api::MetricFamily open =
        family("dbrunbook_open_incidents", "open incidents per target", api::MetricType::kGauge);
    for (const auto& [target, n] : d.open_by_target) {
      open.samples.push_back({Labels{{"target", target}}, static_cast<double>(n)});
    }
    families.push_back(std::move(open));

    api::MetricFamily polls =
        family("dbrunbook_polls_total", "polls of the target", api::MetricType::kCounter);
    api::MetricFamily errors =
        family("dbrunbook_poll_errors_total", "polls that could not reach or read the target",
               api::MetricType::kCounter);
    api::MetricFamily overruns = family("dbrunbook_poll_overruns_total",
                                        "polls skipped because the previous one had not finished",
                                        api::MetricType::kCounter);
    api::MetricFamily seconds = family("dbrunbook_poll_duration_seconds",
                                       "duration of the last poll", api::MetricType::kGauge);
    api::MetricFamily statements =
        family("dbrunbook_statements_total", "statements the pollers sent to the target",
               api::MetricType::kCounter);
    for (const auto& [target, stats] : d.poll_stats) {
      const Labels labels = {{"target", target}};
      polls.samples.push_back({labels, static_cast<double>(stats.polls)});
      errors.samples.push_back({labels, static_cast<double>(stats.errors)});
      overruns.samples.push_back({labels, static_cast<double>(stats.overruns)});
      seconds.samples.push_back({labels, stats.last_seconds});
      statements.samples.push_back({labels, static_cast<double>(stats.statements)});
    }
    api::MetricFamily cloud = family("dbrunbook_cloud_errors_total",
                                     "cloud metric reads that failed", api::MetricType::kCounter);
    for (const auto& [target, n] : d.cloud_errors) {
      cloud.samples.push_back({Labels{{"target", target}}, static_cast<double>(n)});
    }
    for (api::MetricFamily* f : {&polls, &errors, &overruns, &seconds, &statements, &cloud}) {
      families.push_back(std::move(*f));
    }

    api::MetricFamily events =
        family("dbrunbook_incident_events_total", "incident timeline events recorded, by kind",
               api::MetricType::kCounter);
    for (const auto& [kind, n] : d.events_total) {
      events.samples.push_back({Labels{{"kind", kind}}, static_cast<double>(n)});
    }
    families.push_back(std::move(events));
    api::MetricFamily effects =
        family("dbrunbook_effects_total",
               "work done for incidents: diagnoses, actions by outcome, escalations",
               api::MetricType::kCounter);
    for (const auto& [kind, n] : d.effects_total) {
      effects.samples.push_back({Labels{{"kind", kind}}, static_cast<double>(n)});
    }
    families.push_back(std::move(effects));
  }
  {
    std::lock_guard lock(d.effect_mutex);
    api::MetricFamily queued =
        family("dbrunbook_effects_queued", "diagnoses and actions waiting for a worker",
               api::MetricType::kGauge);
    queued.samples.push_back({{}, static_cast<double>(d.effects.size())});
    families.push_back(std::move(queued));
  }
  if (notify::Dispatcher* dispatcher = d.dispatcher.load()) {
    // The outbox: messages queued, sent and failed per channel, and delivery attempts.
    if (auto notify_families = dispatcher->MetricFamilies()) {
      for (auto& f : *notify_families) families.push_back(std::move(f));
    } else {
      d.Log("error", "cannot count the notification outbox",
            {{"error", notify_families.error().ToString()}});
    }
  }
  auto text = api::WriteExposition(families);
  if (!text) {
    d.Log("error", "cannot write /metrics", {{"error", text.error().ToString()}});
    return "# dbrunbook: " + text.error().message + "\n";
  }
  return *text;
}

}  // namespace dbrunbook::daemon
