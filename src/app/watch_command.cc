// `dbrunbook watch`, `dbrunbook incidents` and `dbrunbook incident ...`: the watch daemon and
// the operator's view of its incidents.
#include <fmt/format.h>
#include <pthread.h>
#include <signal.h>
#include <spdlog/pattern_formatter.h>

#include <atomic>
#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>

#include "app/cloud.h"
#include "app/commands.h"
#include "app/runbooks.h"
#include "app/targets.h"
#include "app/watch_actions.h"
#include "app/watch_api.h"
#include "core/duration.h"
#include "core/strings.h"
#include "core/text.h"
#include "daemon/daemon.h"
#include "notify/dispatcher.h"
#include "report/render.h"
#include "runbook/runbook.h"
#include "store/store.h"
#include "watch/engine.h"

namespace dbrunbook::app {
namespace {

constexpr std::string_view kWatch = "dbrunbook watch";
constexpr std::string_view kIncidents = "dbrunbook incidents";
constexpr std::string_view kIncident = "dbrunbook incident";

std::string Clean(std::string_view text) { return core::SanitizeForTerminal(text); }

// The store the daemon and the incident commands share: --store, else the default.
core::Result<std::unique_ptr<store::Store>> OpenStore(Env& env,
                                                      const std::optional<std::string>& path) {
  std::string file;
  if (path) {
    file = *path;
  } else {
    auto found = store::DefaultStorePath(env.environment);
    if (!found) return core::Fail(found.error());
    file = *found;
  }
  return store::Store::Open(file);
}

// One log line on stderr, as text or JSON; never a secret (messages come from errors and
// events that carry none).
class LogSink {
 public:
  LogSink(Env& env, bool json) : env_(env), json_(json) {}
  void operator()(std::string_view level, std::string_view message, const nlohmann::json& fields) {
    const std::string at = core::FormatRfc3339(env_.clock.WallNow());
    std::string line;
    if (json_) {
      // ts, level and msg first, then the event's fields in their order; a field named like
      // one of the three is kept as "field.<name>", never replacing it.
      nlohmann::ordered_json doc = {{"ts", at}, {"level", level}, {"msg", message}};
      if (fields.is_object()) {
        for (const auto& [key, value] : fields.items()) {
          const bool reserved = key == "ts" || key == "level" || key == "msg";
          doc[reserved ? "field." + key : key] = value;
        }
      }
      line = doc.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    } else {
      line = fmt::format("{} {:<5} {}", at, level, Clean(message));
      if (fields.is_object()) {
        for (const auto& [key, value] : fields.items()) {
          line += fmt::format(" {}={}", key,
                              Clean(value.is_string() ? value.get<std::string>() : value.dump()));
        }
      }
    }
    std::lock_guard lock(mutex_);
    env_.err << line << "\n";
    env_.err.flush();
  }

 private:
  Env& env_;
  bool json_;
  std::mutex mutex_;
};

// With --log-format json, the process logger's own lines (the configuration's debug line, a
// library's warning) are JSON objects too: `{"ts":...,"level":...,"msg":...}`, the message
// JSON-escaped and the level named as the daemon's lines name it.
class JsonMessageFlag final : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg& msg, const std::tm& /*time*/,
              spdlog::memory_buf_t& dest) override {
    const std::string text = nlohmann::json(std::string(msg.payload.data(), msg.payload.size()))
                                 .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    dest.append(text.data(), text.data() + text.size());
  }
  std::unique_ptr<custom_flag_formatter> clone() const override {
    return std::make_unique<JsonMessageFlag>();
  }
};
class JsonLevelFlag final : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg& msg, const std::tm& /*time*/,
              spdlog::memory_buf_t& dest) override {
    std::string_view name = "info";
    switch (msg.level) {
      case spdlog::level::trace:
      case spdlog::level::debug:
        name = "debug";
        break;
      case spdlog::level::warn:
        name = "warn";
        break;
      case spdlog::level::err:
      case spdlog::level::critical:
        name = "error";
        break;
      default:
        break;
    }
    dest.append(name.data(), name.data() + name.size());
  }
  std::unique_ptr<custom_flag_formatter> clone() const override {
    return std::make_unique<JsonLevelFlag>();
  }
};

void UseJsonLines(core::Logger& log) {
  auto formatter = std::make_unique<spdlog::pattern_formatter>(spdlog::pattern_time_type::utc);
  formatter->add_flag<JsonMessageFlag>('*').add_flag<JsonLevelFlag>('&').set_pattern(
      R"({"ts":"%Y-%m-%dT%H:%M:%S.%eZ","level":"%&","msg":%*})");
  log.set_formatter(std::move(formatter));
}

// SIGINT and SIGTERM stop the daemon: they are blocked in every thread and taken by one that
// waits for them.
class SignalStopper {
 public:
  explicit SignalStopper(std::function<void()> stop) : stop_(std::move(stop)) {
    sigemptyset(&set_);
    sigaddset(&set_, SIGINT);
    sigaddset(&set_, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set_, nullptr);
    thread_ = std::thread([this] {
      while (!done_) {
        timespec timeout{0, 200'000'000};
        if (sigtimedwait(&set_, nullptr, &timeout) > 0) stop_();
      }
    });
  }
  // The signals stay blocked: one arriving while the process exits is not delivered (it
  // would kill it with a signal status after a clean stop).
  ~SignalStopper() {
    done_ = true;
    thread_.join();
  }
  SignalStopper(const SignalStopper&) = delete;
  SignalStopper& operator=(const SignalStopper&) = delete;

 private:
  std::function<void()> stop_;
  sigset_t set_{};
  std::atomic<bool> done_{false};
  std::thread thread_;
};

std::optional<std::string> ReadToken(Env& env, const WatchOptions& options) {
  if (options.token_file) {
    std::ifstream in(*options.token_file);
    if (!in) return std::nullopt;
    std::stringstream buffer;
    buffer << in.rdbuf();
    std::string token = buffer.str();
    while (!token.empty() && (token.back() == '\n' || token.back() == '\r')) token.pop_back();
    return token;
  }
  if (auto value = env.environment.Get(options.token_env); value && !value->empty()) {
    return *value;
  }
  return std::string();
}

}  // namespace

int RunWatch(Env& env, const GlobalOptions& global, const WatchOptions& options) {
  const std::string prefix = std::string(kWatch) + ": ";
  // SIGINT/SIGTERM are blocked before any thread starts (threads inherit the mask), so that
  // only the stopper's thread takes them: a signal delivered to an HTTP or poll thread would
  // kill the process instead of stopping it cleanly.
  std::atomic<daemon::Daemon*> running{nullptr};
  std::atomic<bool> stop_early{false};
  SignalStopper stopper([&] {
    if (daemon::Daemon* d = running.load()) {
      d->Stop();
    } else {
      stop_early = true;
    }
  });
  if (options.log_format != "text" && options.log_format != "json") {
    env.err << prefix << "--log-format must be text or json\n";
    return kExitUsage;
  }
  auto sink = std::make_shared<LogSink>(env, options.log_format == "json");
  if (options.log_format == "json") UseJsonLines(env.log);
  // Warnings of a valid configuration and runbook are log lines like the daemon's (JSON with
  // --log-format json); errors that stop the command stay plain text, as for every command.
  auto warn = [&](const std::vector<config::Diagnostic>& diagnostics) {
    if (options.log_format != "json") {
      PrintDiagnostics(env, diagnostics);
      return;
    }
    for (const config::Diagnostic& d : diagnostics) {
      nlohmann::json fields = nlohmann::json::object();
      if (!d.where.file.empty()) fields["file"] = d.where.file;
      if (d.where.line > 0) fields["line"] = d.where.line;
      if (!d.key_path.empty()) fields["key"] = d.key_path;
      (*sink)("warn", d.ToString(), fields);
    }
  };
  auto loaded = LoadConfiguration(env, global, /*required=*/true, warn);
  if (!loaded) return kExitUsage;
  const config::Config& config = **loaded;
  if (config.targets.empty()) {
    env.err << prefix << "no targets configured in " << config.path
            << " — add the databases to watch under targets:\n";
    return kExitUsage;
  }

  runbook::RunbookResult book = LoadRunbookOrDefault(options.runbook_path, env.clock);
  if (!book) {
    PrintDiagnostics(env, book.error());
    env.err << prefix << "the runbook has errors; `dbrunbook config check --runbook FILE` "
            << "lists them all\n";
    return kExitUsage;
  }
  warn(book->warnings);
  bool bad_targets = false;
  for (const runbook::TriggerSpec& trigger : book->triggers) {
    for (const std::string& name : trigger.targets) {
      if (config.Find(name) == nullptr) {
        env.err << trigger.where.ToString() << ": trigger " << trigger.name << " names target '"
                << Clean(name) << "', which " << config.path << " does not define\n";
        bad_targets = true;
      }
    }
  }
  if (bad_targets) return kExitUsage;

  std::vector<daemon::DaemonTarget> targets;
  bool unresolved = false;
  for (const config::TargetConfig& t : config.targets) {
    auto resolved = ResolveNamedTarget(env, &config, t.name, warn);
    if (!resolved) {
      env.err << prefix << resolved.error().ToString() << "\n";
      unresolved = true;
      continue;
    }
    daemon::DaemonTarget target;
    target.name = t.name;
    target.options = resolved->options;
    target.protected_users = config.ProtectedUsersFor(t);
    target.tags = t.tags;
    target.assess = AssessOptionsFor(&config, &t);
    if (t.cloud) {
      // CPU and freeable memory from the provider's metrics (CloudWatch for AWS): the
      // newest one-minute average of the last ten minutes.
      const cloud::CloudResource resource = CloudResourceOf(*t.cloud);
      auto provider = MakeCloudProvider(env, resource);
      if (!provider) {
        env.err << prefix << "target '" << t.name << "': " << provider.error().ToString() << "\n";
        unresolved = true;
        continue;
      }
      std::shared_ptr<cloud::CloudProvider> shared(std::move(*provider));
      target.cloud_metrics = [shared, resource]() -> core::Result<std::map<std::string, double>> {
        auto report = shared->Metrics(resource, std::chrono::minutes(10), std::chrono::seconds(60));
        if (!report) return core::Fail(report.error());
        std::map<std::string, double> values;
        for (const cloud::MetricSummary& m : report->metrics) {
          if (m.averages.empty()) continue;
          if (m.name == "CPUUtilization") values["cpu_percent"] = m.averages.back();
          if (m.name == "FreeableMemory") values["freeable_memory_bytes"] = m.averages.back();
        }
        return values;
      };
    }
    targets.push_back(std::move(target));
  }
  if (unresolved) return kExitUsage;

  daemon::DaemonOptions daemon_options;
  if (options.store_path) {
    daemon_options.store_path = *options.store_path;
  } else {
    auto path = store::DefaultStorePath(env.environment);
    if (!path) {
      env.err << prefix << path.error().ToString() << "\n";
      return kExitUsage;
    }
    daemon_options.store_path = *path;
  }
  daemon_options.interval = options.interval.value_or(config.assess.interval);
  daemon_options.investigate = InvestigateOptionsFor(&config);
  const config::WatchSettings& watch = config.watch;
  if (watch.slow_interval) daemon_options.slow_interval = *watch.slow_interval;
  if (watch.poll_workers) daemon_options.poll_workers = *watch.poll_workers;
  if (watch.sample_every) daemon_options.sample_every = *watch.sample_every;
  if (watch.samples_kept) daemon_options.samples_kept = *watch.samples_kept;
  if (watch.alert_ttl) daemon_options.alert_ttl = *watch.alert_ttl;
  for (const config::AppLogSettings& log : watch.app_logs) {
    daemon_options.app_logs.push_back({log.path, log.target, log.patterns});
  }
  // --listen on the command line wins over watch.listen.
  const std::string listen = options.listen_given || !watch.listen ? options.listen : *watch.listen;
  if (listen != "off") daemon_options.listen = listen;
  // failover, scale-up and tune: the mitigate commands themselves, in-process.
  daemon_options.run_action =
      MakeWatchActionRunner(env, global, config, *book, daemon_options.store_path);
  daemon_options.log = [sink](std::string_view level, std::string_view message,
                              const nlohmann::json& fields) { (*sink)(level, message, fields); };

  for (const config::NotifyChannelConfig& channel : config.notify.channels) {
    daemon_options.notify_channels.insert(channel.name);
  }

  // The daemon shares the command's session factory (it outlives the daemon).
  std::shared_ptr<mysql::SessionFactory> factory(&env.sessions, [](mysql::SessionFactory*) {});
  auto created =
      daemon::Daemon::Create(*book, std::move(targets), daemon_options, factory, env.clock);
  if (!created) {
    env.err << prefix << created.error().ToString() << "\n";
    return kExitUsage;
  }
  daemon::Daemon& d = **created;
  // The store's lease before the API: a second daemon on the same store stops here, without
  // having listened anywhere.
  if (auto started = d.Start(); !started) {
    env.err << prefix << started.error().ToString() << "\n";
    return started.error().code == core::ErrorCode::kUnavailable ? kExitUsage : kExitCannotAssess;
  }

  // The notification channels (dbrunbook.yaml notify:): the dispatcher delivers what the daemon
  // queues in the store's outbox. Started once this daemon holds the store (a second daemon on
  // the same store must not deliver its outbox too); stopped after the daemon.
  std::unique_ptr<notify::Dispatcher> dispatcher;
  if (!config.notify.channels.empty()) {
    // Its lines go through the process logger (JSON lines with --log-format json).
    auto started = notify::StartDispatcher(
        config.notify, env.environment, daemon_options.store_path, env.clock,
        std::shared_ptr<core::Logger>(&env.log, [](core::Logger*) {}), env.out);
    if (!started) {
      env.err << prefix << started.error().ToString() << "\n";
      return started.error().code == core::ErrorCode::kInvalidConfig ? kExitUsage
                                                                     : kExitCannotAssess;
    }
    dispatcher = std::move(*started);
    d.SetDispatcher(dispatcher.get());
  }
  struct StopDispatcher {
    std::unique_ptr<notify::Dispatcher>& d;
    ~StopDispatcher() {
      if (d) d->Stop();
    }
  } stop_dispatcher{dispatcher};

  auto token = ReadToken(env, options);
  if (!token) {
    env.err << prefix << "cannot read the API token file " << Clean(*options.token_file)
            << " — check the path and its permissions\n";
    return kExitUsage;
  }
  std::unique_ptr<WatchApi> api;
  if (listen != "off") {
    WatchApiOptions api_options;
    api_options.listen = listen;
    if (!watch.alert_labels.empty()) api_options.alert_labels = watch.alert_labels;
    api_options.token = *token;
    api_options.log = daemon_options.log;
    api_options.access_log = env.log.should_log(spdlog::level::debug);
    for (const config::TargetConfig& t : config.targets) {
      if (!t.connect.host.empty() && t.connect.socket.empty()) {
        api_options.addresses[t.name] = fmt::format("{}:{}", t.connect.host, t.connect.port);
      }
    }
    auto started = StartWatchApi(d, api_options);
    if (!started) {
      env.err << prefix << started.error().ToString() << "\n";
      return kExitCannotAssess;
    }
    api = std::move(*started);
  }

  running = &d;
  if (stop_early) d.Stop();  // a signal came while starting: Run() returns at once
  auto ran = d.Run();
  running = nullptr;
  if (api) api->Stop();
  if (!ran) {
    env.err << prefix << ran.error().ToString() << "\n";
    return ran.error().code == core::ErrorCode::kUnavailable ? kExitUsage : kExitCannotAssess;
  }
  return kExitOk;
}

namespace {

std::string Ago(const std::string& at, core::WallTime now) {
  auto t = core::ParseRfc3339(at);
  if (!t) return at;
  return core::FormatDuration(std::chrono::duration_cast<core::Duration>(now - *t));
}

nlohmann::json ListJson(const std::vector<store::IncidentRecord>& records) {
  nlohmann::json list = nlohmann::json::array();
  for (const auto& r : records) {
    nlohmann::json state = nlohmann::json::parse(r.state_json, nullptr, false);
    list.push_back(
        {{"id", r.id},
         {"target", r.target},
         {"phase", r.phase},
         {"severity", r.severity},
         {"opened_at", r.opened_at},
         {"resolved_at", r.resolved_at.empty() ? nlohmann::json() : nlohmann::json(r.resolved_at)},
         {"triggers", state.is_object() && state.contains("triggers") ? state["triggers"]
                                                                      : nlohmann::json::array()}});
  }
  return list;
}

}  // namespace

int RunIncidents(Env& env, const IncidentsOptions& options) {
  const std::string prefix = std::string(kIncidents) + ": ";
  auto store = OpenStore(env, options.store_path);
  if (!store) {
    env.err << prefix << store.error().ToString() << "\n";
    return kExitCannotAssess;
  }
  auto records = (*store)->Incidents(options.open_only, options.limit);
  if (!records) {
    env.err << prefix << records.error().ToString() << "\n";
    return kExitCannotAssess;
  }
  if (options.format == report::Format::kJson) {
    env.out << report::ToJsonText({{"incidents", ListJson(*records)}}) << "\n";
    return kExitOk;
  }
  if (records->empty()) {
    env.out << (options.open_only ? "no open incident\n" : "no incident recorded\n");
    return kExitOk;
  }
  const core::WallTime now = env.clock.WallNow();
  env.out << fmt::format("{:>5}  {:<20} {:<12} {:<9} {:<10} {}\n", "ID", "TARGET", "PHASE",
                         "SEVERITY", "AGE", "TRIGGERS");
  for (const auto& r : *records) {
    nlohmann::json state = nlohmann::json::parse(r.state_json, nullptr, false);
    std::string triggers;
    if (state.is_object() && state.contains("triggers") && state["triggers"].is_array()) {
      for (const auto& t : state["triggers"]) {
        if (!triggers.empty()) triggers += ", ";
        triggers += t.is_string() ? t.get<std::string>() : t.dump();
      }
    }
    env.out << fmt::format("{:>5}  {:<20} {:<12} {:<9} {:<10} {}\n", r.id, Clean(r.target), r.phase,
                           r.severity, Ago(r.opened_at, now), Clean(triggers));
  }
  return kExitOk;
}

namespace {

int ShowIncident(Env& env, store::Store& store, const IncidentCommandOptions& options) {
  const std::string prefix = std::string(kIncident) + " show: ";
  auto record = store.Incident(options.id);
  if (!record) {
    env.err << prefix << record.error().ToString() << "\n";
    return kExitCannotAssess;
  }
  if (!*record) {
    env.err << prefix << "no incident " << options.id << " in " << store.path()
            << " — `dbrunbook incidents` lists them\n";
    return 1;
  }
  auto timeline = store.Timeline(options.id);
  auto findings = store.Findings(options.id);
  if (!timeline || !findings) {
    env.err << prefix << (!timeline ? timeline.error() : findings.error()).ToString() << "\n";
    return kExitCannotAssess;
  }
  const store::IncidentRecord& r = **record;
  nlohmann::json state = nlohmann::json::parse(r.state_json, nullptr, false);
  if (!state.is_object()) state = nlohmann::json::object();
  if (options.format == report::Format::kJson) {
    nlohmann::json doc = state;
    doc["id"] = r.id;
    doc["target"] = r.target;
    doc["phase"] = r.phase;
    doc["opened_at"] = r.opened_at;
    nlohmann::json events = nlohmann::json::array();
    for (const auto& e : *timeline) {
      events.push_back({{"at", e.at}, {"kind", e.kind}, {"text", e.text}});
    }
    doc["timeline"] = std::move(events);
    nlohmann::json all = nlohmann::json::array();
    for (const auto& f : *findings) {
      all.push_back({{"diagnosis", f.diagnosis},
                     {"code", f.code},
                     {"severity", f.severity},
                     {"title", f.title}});
    }
    doc["diagnoses"] = std::move(all);
    env.out << report::ToJsonText(doc) << "\n";
    return kExitOk;
  }
  env.out << fmt::format("Incident {} on {} — {} ({}), opened {}{}\n", r.id, Clean(r.target),
                         r.phase, r.severity, r.opened_at,
                         r.resolved_at.empty() ? "" : ", resolved " + r.resolved_at);
  if (state.contains("resolution") && state["resolution"].is_string() &&
      !state["resolution"].get<std::string>().empty()) {
    env.out << "Resolution: " << Clean(state["resolution"].get<std::string>()) << "\n";
  }
  env.out << "\nTimeline\n";
  const auto opened = core::ParseRfc3339(r.opened_at);
  for (const auto& e : *timeline) {
    std::string offset;
    if (auto at = core::ParseRfc3339(e.at); at && opened) {
      offset =
          "+" + core::FormatDuration(std::chrono::duration_cast<core::Duration>(*at - *opened));
    }
    env.out << fmt::format("  {:<24} {:>9}  {:<18} {}\n", e.at, offset, e.kind, Clean(e.text));
  }
  if (!findings->empty()) {
    env.out << "\nFindings (latest diagnosis)\n";
    const int latest = findings->back().diagnosis;
    for (const auto& f : *findings) {
      if (f.diagnosis != latest) continue;
      env.out << fmt::format("  {:<9} {:<26} {}\n", f.severity, f.code, Clean(f.title));
    }
  }
  if (state.contains("actions") && state["actions"].is_array() && !state["actions"].empty()) {
    env.out << "\nActions\n";
    for (const auto& a : state["actions"]) {
      auto text = [&](const char* key) {
        return a.contains(key) && a[key].is_string() ? a[key].get<std::string>() : std::string();
      };
      env.out << fmt::format("  {:<14} {:<12} {:<8} {}\n", Clean(text("action")),
                             Clean(text("state")), Clean(text("policy")),
                             Clean(text("detail").empty() ? text("reason") : text("detail")));
    }
  }
  if (state.contains("prevention") && state["prevention"].is_array() &&
      !state["prevention"].empty()) {
    env.out << "\nPrevention checklist\n";
    for (const auto& item : state["prevention"]) {
      env.out << "  [ ] " << Clean(item.is_string() ? item.get<std::string>() : item.dump())
              << "\n";
    }
  }
  return kExitOk;
}

}  // namespace

int RunIncidentCommand(Env& env, const IncidentCommandOptions& options) {
  const std::string prefix = fmt::format("{} {}: ", kIncident, options.verb);
  auto store = OpenStore(env, options.store_path);
  if (!store) {
    env.err << prefix << store.error().ToString() << "\n";
    return kExitCannotAssess;
  }
  if (options.verb == "show") return ShowIncident(env, **store, options);

  // The others are the daemon's to carry out: refuse when none is running, so that an
  // approval is never applied hours later by a daemon started for something else.
  auto lease = (*store)->CurrentDaemonLease();
  if (!lease) {
    env.err << prefix << lease.error().ToString() << "\n";
    return kExitCannotAssess;
  }
  const int64_t now_epoch =
      std::chrono::duration_cast<std::chrono::seconds>(env.clock.WallNow().time_since_epoch())
          .count();
  if (!*lease || (*lease)->heartbeat_epoch + 15 < now_epoch) {
    env.err << prefix << "no dbrunbook watch is running with the store " << (*store)->path()
            << " — start it (`dbrunbook watch --store " << (*store)->path()
            << "`), then repeat the command\n";
    return kExitCannotAssess;
  }
  store::CommandRecord command;
  command.incident_id = options.id;
  command.kind = options.verb;
  command.action = options.action;
  command.text = options.text;
  command.who = store::CurrentOsUser(env.environment);
  auto queued = (*store)->QueueCommand(command);
  if (!queued) {
    env.err << prefix << queued.error().ToString() << "\n";
    return kExitCannotAssess;
  }
  const core::MonoTime deadline = env.clock.MonotonicNow() + options.wait;
  while (env.clock.MonotonicNow() < deadline) {
    env.clock.SleepFor(std::chrono::milliseconds(100));
    auto done = (*store)->Command(*queued);
    if (!done) {
      env.err << prefix << done.error().ToString() << "\n";
      return kExitCannotAssess;
    }
    if (*done && !(*done)->done_at.empty()) {
      if ((*done)->ok) {
        env.out << Clean((*done)->result) << "\n";
        return kExitOk;
      }
      env.err << prefix << Clean((*done)->result) << "\n";
      return 1;
    }
  }
  env.err << prefix << "the daemon (pid " << (*lease)->pid << ") did not answer within "
          << core::FormatDuration(options.wait) << "; the command stays queued — check its log\n";
  return kExitCannotAssess;
}

}  // namespace dbrunbook::app
