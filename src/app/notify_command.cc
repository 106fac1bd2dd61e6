// `dbrunbook notify test|list|outbox|flush` (issue 8): try a channel, show where the channels
// send, read the outbox, and deliver what it holds when no watch daemon runs.
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <map>

#include "app/commands.h"
#include "app/targets.h"
#include "config/yaml_checks.h"
#include "core/duration.h"
#include "core/strings.h"
#include "notify/dispatcher.h"
#include "store/store.h"

namespace dbrunbook::app {
namespace {

constexpr int kExitNotDelivered = 1;
constexpr int kExitStore = 3;
// A watch daemon whose heartbeat is younger than this owns the outbox (it beats every few
// seconds).
constexpr int64_t kLeaseFreshSeconds = 30;

std::string HostName() {
  std::array<char, 256> name{};
  if (gethostname(name.data(), name.size() - 1) != 0) return "unknown host";
  return name.data();
}

core::Result<std::string> StorePath(Env& env, const std::optional<std::string>& path) {
  if (path) return *path;
  return store::DefaultStorePath(env.environment);
}

notify::Message TestMessage(Env& env, const notify::Channel& channel) {
  const auto now = env.clock.WallNow();
  notify::Message m;
  m.kind = notify::MessageKind::kTest;
  m.severity = notify::Severity::kInfo;
  m.key = fmt::format(
      "test-{}-{}", channel.name(),
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count());
  m.dedup_key = m.key;
  m.target = "dbrunbook";
  m.title = fmt::format("🧪 dbrunbook test message: {}", channel.name());
  m.text = fmt::format(
      "This is a test of the notification channel {} ({}), sent by `dbrunbook notify test` from "
      "{} at {}. Nothing is wrong.",
      channel.name(), notify::ChannelTypeName(channel.spec().type), HostName(),
      core::FormatRfc3339(now));
  m.fields = {{"Channel", channel.name()},
              {"Type", std::string(notify::ChannelTypeName(channel.spec().type))},
              {"Host", HostName()}};
  m.channels = {channel.name()};
  return m;
}

int RunTest(Env& env, const config::Config& config, const NotifyOptions& options) {
  const config::NotifyChannelConfig* configured = config.notify.Find(options.channel);
  if (configured == nullptr) {
    std::vector<std::string> names;
    for (const auto& c : config.notify.channels) names.push_back(c.name);
    env.err << fmt::format("dbrunbook notify test: no channel is named '{}' in {} — {}\n",
                           options.channel, config.path,
                           names.empty()
                               ? std::string("add one under notify.channels")
                               : config::DidYouMean(options.channel, names, "channels are"));
    return kExitUsage;
  }
  auto spec = notify::ResolveChannel(*configured, env.environment);
  if (!spec) {
    env.err << "dbrunbook notify test: " << spec.error().ToString() << "\n";
    return kExitUsage;
  }
  auto channel = notify::MakeChannel(std::move(*spec), notify::ChannelDeps{env.clock, env.out, {}});
  if (!channel) {
    env.err << "dbrunbook notify test: " << channel.error().ToString() << "\n";
    return kExitUsage;
  }
  notify::Message message = TestMessage(env, **channel);
  const auto report = [&](std::string_view what, const notify::DeliveryOutcome& outcome) {
    (outcome.state == notify::DeliveryState::kDelivered ? env.out : env.err) << fmt::format(
        "{} {} to {} ({}): {} — {}\n", what, message.key, (*channel)->name(),
        (*channel)->spec().Destination(), notify::DeliveryStateName(outcome.state), outcome.detail);
  };
  const auto sent = (*channel)->Send(message, env.clock.WallNow());
  report("test message", sent);
  if (sent.state != notify::DeliveryState::kDelivered) {
    if (sent.state == notify::DeliveryState::kRetry) {
      env.err << "the receiver may accept it later (the outbox would retry); check that it is "
                 "reachable and try again\n";
    }
    return kExitNotDelivered;
  }
  if ((*channel)->spec().type == notify::ChannelType::kPagerDuty) {
    // The test trigger opened a PagerDuty incident: resolve it (same dedup_key) at once.
    message.kind = notify::MessageKind::kResolution;
    const auto resolved = (*channel)->Send(message, env.clock.WallNow());
    report("resolve of test incident", resolved);
    if (resolved.state != notify::DeliveryState::kDelivered) return kExitNotDelivered;
  }
  return kExitOk;
}

int RunList(Env& env, const config::Config& config) {
  if (config.notify.channels.empty()) {
    env.out << fmt::format("no notification channels in {} (notify.channels)\n", config.path);
    return kExitOk;
  }
  int errors = 0;
  for (const auto& c : config.notify.channels) {
    auto spec = notify::ResolveChannel(c, env.environment);
    if (!spec) {
      ++errors;
      env.out << fmt::format("{:<16} {:<10} (cannot resolve: {})\n", c.name, c.type,
                             spec.error().message);
      continue;
    }
    std::string extra;
    if (!spec->hmac_secret.empty()) extra += ", signed (HMAC-SHA256)";
    if (spec->type == notify::ChannelType::kEmail) {
      extra += core::StartsWithIgnoreCase(spec->smtp_url, "smtps://") ? ", implicit TLS"
               : spec->starttls_required                              ? ", STARTTLS required"
                                                                      : ", STARTTLS when offered";
      if (!spec->username.empty()) extra += ", SMTP AUTH";
    }
    env.out << fmt::format("{:<16} {:<10} {}{} (timeout {})\n", c.name, c.type, spec->Destination(),
                           extra, core::FormatDuration(spec->timeout));
  }
  return errors > 0 ? kExitUsage : kExitOk;
}

int RunOutbox(Env& env, const NotifyOptions& options) {
  auto path = StorePath(env, options.store_path);
  if (!path) {
    env.err << "dbrunbook notify outbox: " << path.error().ToString() << "\n";
    return kExitUsage;
  }
  auto opened = store::Store::Open(*path);
  if (!opened) {
    env.err << "dbrunbook notify outbox: " << opened.error().ToString() << "\n";
    return kExitStore;
  }
  auto counts = (*opened)->OutboxCounts();
  if (!counts) {
    env.err << "dbrunbook notify outbox: " << counts.error().ToString() << "\n";
    return kExitStore;
  }
  std::map<std::string, std::map<std::string, int64_t>> by_channel;
  for (const auto& c : *counts) by_channel[c.channel][c.state] = c.count;
  if (by_channel.empty()) {
    env.out << fmt::format("the outbox of {} is empty\n", *path);
    return kExitOk;
  }
  env.out << fmt::format("{:<16} {:>8} {:>8} {:>8}\n", "CHANNEL", "QUEUED", "SENT", "FAILED");
  for (auto& [channel, states] : by_channel) {
    env.out << fmt::format("{:<16} {:>8} {:>8} {:>8}\n", channel, states["queued"], states["sent"],
                           states["failed"]);
  }
  auto failed = (*opened)->OutboxByState("failed", options.limit);
  if (!failed) {
    env.err << "dbrunbook notify outbox: " << failed.error().ToString() << "\n";
    return kExitStore;
  }
  if (!failed->empty()) {
    env.out << fmt::format("\nFailed (newest first, at most {}):\n", options.limit);
    for (const auto& row : *failed) {
      env.out << fmt::format(
          "  {} {} {}{} after {} attempt{}: {}\n", row.created_at, row.channel, row.kind,
          row.incident_id.empty() ? "" : fmt::format(" (incident {})", row.incident_id),
          row.attempts, row.attempts == 1 ? "" : "s", row.last_error);
    }
  }
  auto queued = (*opened)->OutboxByState("queued", options.limit);
  if (queued && !queued->empty()) {
    env.out << fmt::format("\nQueued (newest first, at most {}):\n", options.limit);
    for (const auto& row : *queued) {
      env.out << fmt::format("  {} {} {} {} attempt{}{}\n", row.created_at, row.channel, row.kind,
                             row.attempts, row.attempts == 1 ? "" : "s",
                             row.last_error.empty() ? "" : ", last error: " + row.last_error);
    }
  }
  return kExitOk;
}

int RunFlush(Env& env, const config::Config& config, const NotifyOptions& options) {
  auto path = StorePath(env, options.store_path);
  if (!path) {
    env.err << "dbrunbook notify flush: " << path.error().ToString() << "\n";
    return kExitUsage;
  }
  {
    auto opened = store::Store::Open(*path);
    if (!opened) {
      env.err << "dbrunbook notify flush: " << opened.error().ToString() << "\n";
      return kExitStore;
    }
    auto lease = (*opened)->CurrentDaemonLease();
    const int64_t now =
        std::chrono::duration_cast<std::chrono::seconds>(env.clock.WallNow().time_since_epoch())
            .count();
    if (lease && *lease && now - (*lease)->heartbeat_epoch < kLeaseFreshSeconds) {
      env.err << fmt::format(
          "dbrunbook notify flush: the watch daemon (pid {} on {}) delivers the outbox of {} — "
          "it retries by itself; stop it first to flush by hand\n",
          (*lease)->pid, (*lease)->host, *path);
      return kExitUsage;
    }
  }
  auto dispatcher = notify::StartDispatcher(
      config.notify, env.environment, *path, env.clock,
      std::shared_ptr<core::Logger>(&env.log, [](core::Logger*) {}), env.out);
  if (!dispatcher) {
    env.err << "dbrunbook notify flush: " << dispatcher.error().ToString() << "\n";
    return dispatcher.error().code == core::ErrorCode::kInvalidConfig ? kExitUsage : kExitStore;
  }
  const bool idle = (*dispatcher)->WaitIdle(options.wait);
  (*dispatcher)->Stop();
  int64_t failed = 0;
  int64_t delivered = 0;
  for (const auto& [name, c] : (*dispatcher)->Counters()) {
    delivered += c.delivered;
    failed += c.failed;
  }
  auto opened = store::Store::Open(*path);
  int64_t queued = 0;
  if (opened) {
    if (auto counts = (*opened)->OutboxCounts()) {
      for (const auto& c : *counts) {
        if (c.state == "queued") queued += c.count;
      }
    }
  }
  env.out << fmt::format("delivered {}, failed {}, still queued {}{}\n", delivered, failed, queued,
                         idle ? "" : " (stopped after --wait)");
  return failed > 0 || queued > 0 ? kExitNotDelivered : kExitOk;
}

}  // namespace

int RunNotify(Env& env, const GlobalOptions& global, const NotifyOptions& options) {
  if (options.verb == "outbox") return RunOutbox(env, options);
  auto config = LoadConfiguration(env, global, /*required=*/true);
  if (!config || !*config) return kExitUsage;
  if (options.verb == "test") return RunTest(env, **config, options);
  if (options.verb == "list") return RunList(env, **config);
  if (options.verb == "flush") return RunFlush(env, **config, options);
  env.err << fmt::format("dbrunbook notify: unknown command '{}'\n", options.verb);
  return kExitUsage;
}

}  // namespace dbrunbook::app
