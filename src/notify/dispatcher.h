// Delivery that loses nothing (issue 8): the durable outbox and the workers that drain it.
//
// Every message is written to the store's outbox (one row per message key and channel) before
// anything is sent; a worker per channel sends what is due, oldest first, and records each
// attempt. So:
//   - at least once: a row leaves `queued` only when the receiver accepted it (sent) or the
//     dispatcher gave up (failed); a crash (kill -9) between sending and recording repeats that
//     one message after the restart, nothing is lost;
//   - once per key: enqueueing the same key for the same channel again changes nothing;
//     PagerDuty deduplicates repeats by dedup_key, the webhook carries the key as "id" and
//     X-Dbrunbook-Delivery (e-mail: a stable Message-ID) so receivers can drop a repeat;
//   - in order per incident: a channel never sends a message before an older queued message of
//     the same incident (dedup_key), so a resolve never overtakes its trigger;
//   - retries: exponential backoff with full jitter (uniform in [0, min(cap, base * 2^(n-1))]),
//     never shorter than the receiver's Retry-After; a channel whose attempt must be retried is
//     paused for that delay as a whole (a dead receiver sees one probe per backoff, not one per
//     queued message); 4xx other than 408/429 fail at once; after max_attempts attempts, or
//     once a message is older than max_age, it fails;
//   - isolation: each channel has its own thread, transport and store connection: a dead or
//     slow channel delays only itself, and the caller of Enqueue (the incident engine) never
//     waits for a receiver — only for one row insert.
//
// Thread-safety: Enqueue, Counters, MetricFamilies, WaitIdle and Stop may be called from any
// thread. The channels, clock and logger must outlive the dispatcher.
#pragma once

#include <atomic>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "api/prometheus.h"
#include "config/config.h"
#include "core/clock.h"
#include "core/error.h"
#include "core/log.h"
#include "notify/channels.h"
#include "notify/message.h"
#include "store/store.h"

namespace dbrunbook::notify {

struct DeliveryPolicy {
  int max_attempts = 12;
  core::Duration max_age = std::chrono::hours(24);
  core::Duration backoff_base = std::chrono::seconds(2);
  core::Duration backoff_cap = std::chrono::minutes(5);
};
// The policy of `notify.delivery` (defaults for unset keys).
DeliveryPolicy PolicyFrom(const config::NotifyDeliverySettings& settings);

// The wait before the next attempt after `attempts` attempts (>= 1) failed with "retry":
// full jitter, uniform01 in [0, 1) picks the point; at least `retry_after` when given.
core::Duration RetryDelay(const DeliveryPolicy& policy, int attempts,
                          std::optional<core::Duration> retry_after, double uniform01);

// The message as stored in the outbox (JSON with every field) and back.
std::string MessageToJson(const Message& message);
core::Result<Message> MessageFromJson(std::string_view json);

struct EnqueueResult {
  int queued = 0;      // rows written
  int duplicates = 0;  // (key, channel) pairs already in the outbox
  // Channels the message names that are not configured: their rows are written as failed
  // ("channel is not configured"), so the incident report shows the message was not sent.
  std::vector<std::string> unknown_channels;
};

// The outbox rows of `message`: one per channel it names (once each); a channel not in `known`
// (the configured names) gets a row already failed ("channel ... is not configured").
std::vector<store::OutboxRow> OutboxRowsOf(const Message& message, core::WallTime now,
                                           const std::set<std::string>& known);

// Writes the rows of `message` (one per channel it names; `known` are the configured channel
// names) into `store`. kInvalidArgument for a message without key or channels; kIo when the
// store cannot be written (then some rows may have been written: enqueueing again is safe).
core::Result<EnqueueResult> EnqueueMessage(store::Store& store, const Message& message,
                                           core::WallTime now, const std::set<std::string>& known);

struct DispatcherOptions {
  std::string store_path;
  DeliveryPolicy policy;
  // How often an idle worker looks for rows written by another connection (Enqueue through
  // this dispatcher wakes its workers at once).
  core::Duration idle_poll = std::chrono::seconds(1);
  int batch = 16;  // rows a worker reads at a time
};

// Per channel, since the dispatcher started.
struct ChannelCounters {
  int64_t delivered = 0;
  int64_t retried = 0;  // attempts that will be repeated
  int64_t failed = 0;   // messages given up
  int64_t store_errors = 0;
  bool last_ok = true;  // the last attempt delivered (true before any)
};

class Dispatcher {
 public:
  // Opens a store connection per channel (and one for Enqueue) on options.store_path and starts
  // one worker per channel; queued rows from before (a restart) are picked up at once. kIo when
  // the store cannot be opened; kInvalidArgument for two channels with one name.
  static core::Result<std::unique_ptr<Dispatcher>> Start(
      std::vector<std::unique_ptr<Channel>> channels, DispatcherOptions options, core::Clock& clock,
      std::shared_ptr<core::Logger> log);
  ~Dispatcher();
  Dispatcher(const Dispatcher&) = delete;
  Dispatcher& operator=(const Dispatcher&) = delete;

  // EnqueueMessage on the dispatcher's connection, then wakes the channels' workers.
  core::Result<EnqueueResult> Enqueue(const Message& message);

  // Wakes every channel's worker to look for due rows now (after rows were written through
  // another connection, e.g. the daemon's SaveIncident).
  void Wake();

  // The configured channel names.
  const std::set<std::string>& ChannelNames() const { return names_; }

  // Waits until every worker has looked for due rows and found none after this call began (each
  // channel delivered, or deferred by backoff, what was due); false at `timeout`.
  bool WaitIdle(core::Duration timeout);

  // Stops the workers: returns once each has finished its current attempt (at most the
  // channel's timeout). Rows not sent stay queued for the next start. Idempotent.
  void Stop();

  std::map<std::string, ChannelCounters> Counters() const;

  // For /metrics:
  //   dbrunbook_notify_messages{channel,state}            gauge, rows in the outbox by state
  //   dbrunbook_notify_attempts_total{channel,outcome}    counter, delivered|retry|failed
  //   dbrunbook_notify_channel_up{channel}                gauge, 1 when the last attempt
  //                                                       delivered (or none was made yet)
  //   dbrunbook_notify_store_errors_total{channel}        counter
  // kIo when the outbox cannot be counted.
  core::Result<std::vector<api::MetricFamily>> MetricFamilies();

 private:
  struct Worker;
  Dispatcher(DispatcherOptions options, core::Clock& clock, std::shared_ptr<core::Logger> log);
  void Run(Worker& worker);
  void Deliver(Worker& worker, const store::OutboxRow& row);

  DispatcherOptions options_;
  core::Clock& clock_;
  std::shared_ptr<core::Logger> log_;
  std::mutex enqueue_mutex_;  // guards store_
  std::unique_ptr<store::Store> store_;
  std::set<std::string> names_;
  std::vector<std::unique_ptr<Worker>> workers_;
  std::atomic<bool> stopping_{false};
  mutable std::mutex mutex_;  // guards the workers' counters, wake flags and idle rounds
  std::condition_variable changed_;
};

// The dispatcher of a configuration (what the watch daemon starts): every channel of
// `settings` with its secrets from `env` (MakeChannels), the policy of `settings.delivery`, the
// outbox of the store at `store_path`; `out` is the stdout channel's stream. kInvalidConfig
// listing every channel that cannot be resolved; kIo when the store cannot be opened.
core::Result<std::unique_ptr<Dispatcher>> StartDispatcher(const config::NotifySettings& settings,
                                                          const core::Environment& env,
                                                          const std::string& store_path,
                                                          core::Clock& clock,
                                                          std::shared_ptr<core::Logger> log,
                                                          std::ostream& out);

}  // namespace dbrunbook::notify
