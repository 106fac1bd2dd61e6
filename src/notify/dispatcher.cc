#include "notify/dispatcher.h"

#include <fmt/format.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <random>
#include <utility>

#include "core/duration.h"

namespace dbrunbook::notify {
namespace {

using Json = nlohmann::ordered_json;
using std::chrono::milliseconds;

int64_t ToMs(core::WallTime t) {
  return std::chrono::duration_cast<milliseconds>(t.time_since_epoch()).count();
}

core::WallTime FromMs(int64_t ms) { return core::WallTime(milliseconds(ms)); }

constexpr std::array<std::string_view, 3> kStates = {"queued", "sent", "failed"};

}  // namespace

DeliveryPolicy PolicyFrom(const config::NotifyDeliverySettings& settings) {
  DeliveryPolicy policy;
  if (settings.max_attempts) policy.max_attempts = *settings.max_attempts;
  if (settings.max_age) policy.max_age = *settings.max_age;
  if (settings.backoff_base) policy.backoff_base = *settings.backoff_base;
  if (settings.backoff_cap) policy.backoff_cap = *settings.backoff_cap;
  return policy;
}

core::Duration RetryDelay(const DeliveryPolicy& policy, int attempts,
                          std::optional<core::Duration> retry_after, double uniform01) {
  // min(cap, base * 2^(attempts-1)) by doubling, which cannot overflow once it reaches the cap.
  core::Duration ceiling = policy.backoff_base;
  for (int i = 1; i < attempts && ceiling < policy.backoff_cap; ++i) ceiling *= 2;
  ceiling = std::min(ceiling, policy.backoff_cap);
  const double u = std::clamp(uniform01, 0.0, 1.0);
  core::Duration delay = std::chrono::duration_cast<core::Duration>(ceiling * u);
  if (retry_after) delay = std::max(delay, *retry_after);
  return delay;
}

std::string MessageToJson(const Message& message) {
  Json fields = Json::array();
  for (const auto& [label, value] : message.fields) fields.push_back(Json::array({label, value}));
  const Json json{{"kind", std::string(MessageKindName(message.kind))},
                  {"severity", std::string(SeverityName(message.severity))},
                  {"incident_id", message.incident_id},
                  {"target", message.target},
                  {"key", message.key},
                  {"dedup_key", message.dedup_key},
                  {"title", message.title},
                  {"text", message.text},
                  {"fields", fields},
                  {"channels", message.channels}};
  return json.dump(-1, ' ', false, Json::error_handler_t::replace);
}

core::Result<Message> MessageFromJson(std::string_view text) {
  const Json json = Json::parse(text, nullptr, /*allow_exceptions=*/false);
  const auto bad = [](std::string_view what) {
    return core::MakeError(core::ErrorCode::kParse,
                           fmt::format("stored message is unreadable: {}", what),
                           "the outbox row was written by another dbrunbook version or changed "
                           "by hand");
  };
  if (!json.is_object()) return bad("not a JSON object");
  Message m;
  const auto text_of = [&](const char* key) -> std::optional<std::string> {
    auto it = json.find(key);
    if (it == json.end() || !it->is_string()) return std::nullopt;
    return it->get<std::string>();
  };
  const auto kind = ParseMessageKind(text_of("kind").value_or(""));
  const auto severity = ParseSeverity(text_of("severity").value_or(""));
  if (!kind || !severity) return bad("kind or severity");
  m.kind = *kind;
  m.severity = *severity;
  for (auto [field, key] : {std::pair{&m.incident_id, "incident_id"},
                            {&m.target, "target"},
                            {&m.key, "key"},
                            {&m.dedup_key, "dedup_key"},
                            {&m.title, "title"},
                            {&m.text, "text"}}) {
    auto value = text_of(key);
    if (!value) return bad(key);
    *field = std::move(*value);
  }
  if (auto it = json.find("fields"); it != json.end() && it->is_array()) {
    for (const auto& pair : *it) {
      if (!pair.is_array() || pair.size() != 2 || !pair[0].is_string() || !pair[1].is_string()) {
        return bad("fields");
      }
      m.fields.emplace_back(pair[0].get<std::string>(), pair[1].get<std::string>());
    }
  }
  if (auto it = json.find("channels"); it != json.end() && it->is_array()) {
    for (const auto& name : *it) {
      if (name.is_string()) m.channels.push_back(name.get<std::string>());
    }
  }
  return m;
}

std::vector<store::OutboxRow> OutboxRowsOf(const Message& message, core::WallTime now,
                                           const std::set<std::string>& known) {
  const std::string json = MessageToJson(message);
  std::vector<store::OutboxRow> rows;
  std::set<std::string> seen;
  for (const std::string& channel : message.channels) {
    if (!seen.insert(channel).second) continue;
    store::OutboxRow row;
    row.key = message.key;
    row.channel = channel;
    row.incident_id = message.incident_id;
    row.kind = std::string(MessageKindName(message.kind));
    row.order_key = message.dedup_key;
    row.message_json = json;
    row.next_attempt_ms = ToMs(now);
    row.created_at = core::FormatRfc3339(now);
    row.created_ms = ToMs(now);
    if (known.count(channel) == 0) {
      // Written as failed: the message is visible (notify outbox, the incident report) and
      // counted on /metrics instead of silently missing.
      row.state = "failed";
      row.last_error = fmt::format(
          "channel '{}' is not configured in notify.channels (the runbook's contacts name it)",
          channel);
    }
    rows.push_back(std::move(row));
  }
  return rows;
}

core::Result<EnqueueResult> EnqueueMessage(store::Store& store, const Message& message,
                                           core::WallTime now, const std::set<std::string>& known) {
  if (message.key.empty()) {
    return core::MakeError(core::ErrorCode::kInvalidArgument,
                           "notification without a key cannot be queued",
                           "the template must give every message its idempotency key");
  }
  EnqueueResult result;
  const std::vector<store::OutboxRow> rows = OutboxRowsOf(message, now, known);
  auto written = store.OutboxEnqueueAll(rows);
  if (!written) return core::Fail(written.error());
  for (size_t i = 0; i < rows.size(); ++i) {
    if (!(*written)[i]) {
      ++result.duplicates;
    } else if (rows[i].state == "failed") {
      result.unknown_channels.push_back(rows[i].channel);
    } else {
      ++result.queued;
    }
  }
  return result;
}

struct Dispatcher::Worker {
  std::unique_ptr<Channel> channel;
  std::unique_ptr<store::Store> store;
  std::thread thread;
  std::mt19937_64 random{std::random_device{}()};
  int64_t paused_until_ms = 0;  // the worker's own
  // Guarded by Dispatcher::mutex_:
  bool wake = false;
  uint64_t rounds_started = 0;
  uint64_t last_empty_round = 0;  // the number of the last round that found nothing due
  ChannelCounters counters;
};

Dispatcher::Dispatcher(DispatcherOptions options, core::Clock& clock,
                       std::shared_ptr<core::Logger> log)
    : options_(std::move(options)), clock_(clock), log_(std::move(log)) {}

core::Result<std::unique_ptr<Dispatcher>> Dispatcher::Start(
    std::vector<std::unique_ptr<Channel>> channels, DispatcherOptions options, core::Clock& clock,
    std::shared_ptr<core::Logger> log) {
  if (!log) log = core::MakeNullLogger();
  std::unique_ptr<Dispatcher> d(new Dispatcher(std::move(options), clock, std::move(log)));
  auto store = store::Store::Open(d->options_.store_path);
  if (!store) return core::Fail(store.error());
  d->store_ = std::move(*store);
  for (auto& channel : channels) {
    if (!d->names_.insert(channel->name()).second) {
      return core::MakeError(
          core::ErrorCode::kInvalidArgument,
          fmt::format("two notification channels are named '{}'", channel->name()));
    }
    auto worker = std::make_unique<Worker>();
    auto own = store::Store::Open(d->options_.store_path);
    if (!own) return core::Fail(own.error());
    worker->store = std::move(*own);
    worker->channel = std::move(channel);
    d->workers_.push_back(std::move(worker));
  }
  // Rows queued for a channel that is no longer configured are kept (the channel may come
  // back), counted on /metrics, and said once here.
  if (auto counts = d->store_->OutboxCounts()) {
    for (const auto& c : *counts) {
      if (c.state == "queued" && d->names_.count(c.channel) == 0) {
        d->log_->warn(
            "notify: {} message(s) queued for channel '{}', which is not configured: they stay "
            "queued until it is (dbrunbook notify outbox lists them)",
            c.count, c.channel);
      }
    }
  }
  for (auto& worker : d->workers_) {
    Worker* w = worker.get();
    Dispatcher* self = d.get();
    w->thread = std::thread([self, w] { self->Run(*w); });
  }
  return d;
}

Dispatcher::~Dispatcher() { Stop(); }

void Dispatcher::Stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  changed_.notify_all();
  for (auto& w : workers_) {
    if (w->thread.joinable()) w->thread.join();
  }
}

core::Result<EnqueueResult> Dispatcher::Enqueue(const Message& message) {
  core::Result<EnqueueResult> result;
  {
    std::lock_guard lock(enqueue_mutex_);
    result = EnqueueMessage(*store_, message, clock_.WallNow(), names_);
  }
  if (!result) return result;
  {
    std::lock_guard lock(mutex_);
    for (auto& w : workers_) {
      if (std::find(message.channels.begin(), message.channels.end(), w->channel->name()) !=
          message.channels.end()) {
        w->wake = true;
      }
    }
  }
  changed_.notify_all();
  return result;
}

void Dispatcher::Wake() {
  {
    std::lock_guard lock(mutex_);
    for (auto& w : workers_) w->wake = true;
  }
  changed_.notify_all();
}

bool Dispatcher::WaitIdle(core::Duration timeout) {
  std::unique_lock lock(mutex_);
  std::vector<uint64_t> started;
  for (auto& w : workers_) {
    started.push_back(w->rounds_started);
    w->wake = true;
  }
  changed_.notify_all();
  return changed_.wait_for(lock, timeout, [&] {
    for (size_t i = 0; i < workers_.size(); ++i) {
      if (workers_[i]->last_empty_round <= started[i]) return false;
    }
    return true;
  });
}

std::map<std::string, ChannelCounters> Dispatcher::Counters() const {
  std::lock_guard lock(mutex_);
  std::map<std::string, ChannelCounters> out;
  for (const auto& w : workers_) out[w->channel->name()] = w->counters;
  return out;
}

void Dispatcher::Run(Worker& w) {
  const std::string& name = w.channel->name();
  const auto wait = [&](core::Duration d) {
    std::unique_lock lock(mutex_);
    changed_.wait_for(lock, d, [&] { return stopping_.load() || w.wake; });
    w.wake = false;
  };
  while (!stopping_) {
    const int64_t now = ToMs(clock_.WallNow());
    uint64_t round = 0;
    {
      std::lock_guard lock(mutex_);
      round = ++w.rounds_started;
    }
    const auto idle = [&] {
      {
        std::lock_guard lock(mutex_);
        w.last_empty_round = round;
      }
      changed_.notify_all();
    };
    if (now < w.paused_until_ms) {
      // The channel backs off as a whole: nothing is due for it before the pause ends.
      idle();
      wait(std::min<core::Duration>(milliseconds(w.paused_until_ms - now), options_.idle_poll));
      continue;
    }
    auto rows = w.store->OutboxDue(now, options_.batch, name);
    if (!rows) {
      log_->warn("notify: channel {}: cannot read the outbox: {}", name, rows.error().ToString());
      {
        std::lock_guard lock(mutex_);
        ++w.counters.store_errors;
      }
      wait(options_.idle_poll);
      continue;
    }
    if (rows->empty()) {
      idle();
      core::Duration pause = options_.idle_poll;
      if (auto next = w.store->OutboxNextAttempt(name, now); next && *next) {
        pause = std::min<core::Duration>(pause, milliseconds(**next - now));
      }
      wait(pause);
      continue;
    }
    for (const store::OutboxRow& row : *rows) {
      if (stopping_) break;
      Deliver(w, row);
      if (ToMs(clock_.WallNow()) < w.paused_until_ms) break;
    }
  }
}

void Dispatcher::Deliver(Worker& w, const store::OutboxRow& row) {
  const std::string& name = w.channel->name();
  const auto record = [&](const core::Result<bool>& marked) {
    if (!marked) {
      log_->warn("notify: channel {}: cannot record the attempt of message {}: {}", name, row.key,
                 marked.error().ToString());
      std::lock_guard lock(mutex_);
      ++w.counters.store_errors;
    }
  };
  const auto count = [&](DeliveryState state, bool gave_up) {
    std::lock_guard lock(mutex_);
    w.counters.last_ok = state == DeliveryState::kDelivered;
    if (state == DeliveryState::kDelivered) ++w.counters.delivered;
    if (state == DeliveryState::kRetry && !gave_up) ++w.counters.retried;
    if (state == DeliveryState::kFailed || gave_up) ++w.counters.failed;
  };
  auto message = MessageFromJson(row.message_json);
  if (!message) {
    record(w.store->OutboxMarkFailed(row.id, message.error().message, 0));
    count(DeliveryState::kFailed, false);
    return;
  }
  const core::WallTime created = FromMs(row.created_ms);
  const core::WallTime before = clock_.WallNow();
  if (before - created > options_.policy.max_age) {
    record(w.store->OutboxMarkFailed(
        row.id,
        fmt::format("expired: not delivered within max_age {} ({} attempts){}",
                    core::FormatDuration(options_.policy.max_age), row.attempts,
                    row.last_error.empty() ? "" : "; last error: " + row.last_error),
        row.last_status));
    count(DeliveryState::kFailed, false);
    return;
  }
  const DeliveryOutcome outcome = w.channel->Send(*message, created);
  const core::WallTime now = clock_.WallNow();
  const int attempts = row.attempts + 1;
  switch (outcome.state) {
    case DeliveryState::kDelivered:
      log_->debug("notify: channel {}: message {} delivered ({})", name, row.key, outcome.detail);
      record(w.store->OutboxMarkSent(row.id, core::FormatRfc3339(now), outcome.status));
      count(DeliveryState::kDelivered, false);
      return;
    case DeliveryState::kFailed:
      log_->warn("notify: channel {}: message {} failed, not retried: {}", name, row.key,
                 outcome.detail);
      record(w.store->OutboxMarkFailed(row.id, outcome.detail, outcome.status));
      count(DeliveryState::kFailed, false);
      return;
    case DeliveryState::kRetry:
      break;
  }
  if (attempts >= options_.policy.max_attempts) {
    log_->warn("notify: channel {}: message {} failed after {} attempts: {}", name, row.key,
               attempts, outcome.detail);
    record(w.store->OutboxMarkFailed(
        row.id, fmt::format("gave up after {} attempts: {}", attempts, outcome.detail),
        outcome.status));
    count(DeliveryState::kRetry, true);
    return;
  }
  const double u = std::uniform_real_distribution<double>(0.0, 1.0)(w.random);
  const core::Duration delay = RetryDelay(options_.policy, attempts, outcome.retry_after, u);
  const int64_t next = ToMs(now) + std::chrono::duration_cast<milliseconds>(delay).count();
  log_->warn("notify: channel {}: message {} attempt {} failed, retry in {}: {}", name, row.key,
             attempts, core::FormatDuration(delay), outcome.detail);
  record(w.store->OutboxMarkRetry(row.id, next, outcome.detail, outcome.status));
  w.paused_until_ms = next;
  count(DeliveryState::kRetry, false);
}

core::Result<std::vector<api::MetricFamily>> Dispatcher::MetricFamilies() {
  core::Result<std::vector<store::OutboxCount>> counts;
  {
    std::lock_guard lock(enqueue_mutex_);
    counts = store_->OutboxCounts();
  }
  if (!counts) return core::Fail(counts.error());
  std::map<std::string, std::map<std::string, int64_t>> by_channel;
  for (const auto& name : names_) {
    for (auto state : kStates) by_channel[name][std::string(state)] = 0;
  }
  for (const auto& c : *counts) by_channel[c.channel][c.state] = c.count;
  api::MetricFamily messages{"dbrunbook_notify_messages",
                             "Notification messages in the outbox, by channel and state "
                             "(queued, sent, failed).",
                             api::MetricType::kGauge,
                             {}};
  for (const auto& [channel, states] : by_channel) {
    for (const auto& [state, n] : states) {
      messages.samples.push_back(
          {{{"channel", channel}, {"state", state}}, static_cast<double>(n)});
    }
  }
  api::MetricFamily attempts{"dbrunbook_notify_attempts_total",
                             "Delivery attempts since the daemon started, by channel and outcome "
                             "(delivered, retry, failed).",
                             api::MetricType::kCounter,
                             {}};
  api::MetricFamily up{"dbrunbook_notify_channel_up",
                       "1 when the channel's last delivery attempt succeeded (or none was made "
                       "yet), 0 when it failed.",
                       api::MetricType::kGauge,
                       {}};
  api::MetricFamily store_errors{"dbrunbook_notify_store_errors_total",
                                 "Outbox reads or writes that failed, by channel.",
                                 api::MetricType::kCounter,
                                 {}};
  for (const auto& [channel, c] : Counters()) {
    for (auto [outcome, n] : {std::pair{"delivered", c.delivered}, std::pair{"retry", c.retried},
                              std::pair{"failed", c.failed}}) {
      attempts.samples.push_back(
          {{{"channel", channel}, {"outcome", outcome}}, static_cast<double>(n)});
    }
    up.samples.push_back({{{"channel", channel}}, c.last_ok ? 1.0 : 0.0});
    store_errors.samples.push_back({{{"channel", channel}}, static_cast<double>(c.store_errors)});
  }
  return std::vector<api::MetricFamily>{messages, attempts, up, store_errors};
}

core::Result<std::unique_ptr<Dispatcher>> StartDispatcher(const config::NotifySettings& settings,
                                                          const core::Environment& env,
                                                          const std::string& store_path,
                                                          core::Clock& clock,
                                                          std::shared_ptr<core::Logger> log,
                                                          std::ostream& out) {
  auto channels = MakeChannels(settings, env, ChannelDeps{clock, out, {}});
  if (!channels) return core::Fail(channels.error());
  DispatcherOptions options;
  options.store_path = store_path;
  options.policy = PolicyFrom(settings.delivery);
  return Dispatcher::Start(std::move(*channels), std::move(options), clock, std::move(log));
}

}  // namespace dbrunbook::notify
