#include "config/config.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <system_error>
#include <tuple>
#include <utility>

#include "config/dsn.h"
#include "config/notify_config.h"
#include "config/overrides.h"
#include "config/yaml_checks.h"
#include "config/yaml_tree.h"
#include "core/duration.h"
#include "core/strings.h"

namespace dbrunbook::config {
namespace {

namespace fs = std::filesystem;
using mysql::TlsMode;
using std::chrono::milliseconds;

constexpr size_t kMaxNameLength = 64;
constexpr std::uintmax_t kMaxConfigBytes = 4 << 20;

// ---------------------------------------------------------------------------------------
// Key lists
// ---------------------------------------------------------------------------------------

const std::vector<std::string>& TopLevelKeys() {
  static const std::vector<std::string> kKeys = {
      "targets", "defaults",        "assess",        "investigate",           "watch",
      "log",     "protected_users", "failover_hook", "failover_block_period", "notify"};
  return kKeys;
}

const std::vector<std::string>& TargetKeys() {
  static const std::vector<std::string> kKeys = {
      "name",          "dsn",           "host",       "port",
      "socket",        "user",          "database",   "password_env",
      "password_file", "defaults_file", "tls",        "tags",
      "replica_of",    "replicas",      "cloud",      "connect_timeout",
      "read_timeout",  "write_timeout", "thresholds", "protected_users"};
  return kKeys;
}

// Keys that make sense for one target only.
bool IsPerTargetKey(std::string_view key) {
  return key == "name" || key == "dsn" || key == "replica_of" || key == "replicas";
}

const std::vector<std::string>& TlsKeys() {
  static const std::vector<std::string> kKeys = {"mode", "ca", "capath", "cert", "key", "cipher"};
  return kKeys;
}

const std::vector<std::string>& CloudKeys() {
  // db_instance_identifier / db_cluster_identifier are the names RDS uses; the shorter
  // instance_identifier / cluster_identifier (the first form of this file) are aliases.
  static const std::vector<std::string> kKeys = {"provider",
                                                 "region",
                                                 "db_instance_identifier",
                                                 "db_cluster_identifier",
                                                 "instance_identifier",
                                                 "cluster_identifier",
                                                 "endpoint_url",
                                                 "profile"};
  return kKeys;
}

const std::vector<std::string>& ThresholdKeys() {
  static const std::vector<std::string> kKeys = {"warn", "critical"};
  return kKeys;
}

const std::vector<std::string>& AssessKeys() {
  static const std::vector<std::string> kKeys = {"interval", "thresholds"};
  return kKeys;
}

const std::vector<std::string>& WatchKeys() {
  static const std::vector<std::string> kKeys = {"listen",       "slow_interval", "poll_workers",
                                                 "sample_every", "samples_kept",  "alert_ttl",
                                                 "alert_labels", "app_logs"};
  return kKeys;
}

const std::vector<std::string>& AppLogKeys() {
  static const std::vector<std::string> kKeys = {"path", "target", "patterns"};
  return kKeys;
}

const std::vector<std::string>& InvestigateKeys() {
  static const std::vector<std::string> kKeys = {"long_query",
                                                 "idle_transaction",
                                                 "unused_index_min_uptime",
                                                 "digest_interval",
                                                 "step_budget",
                                                 "top_tables",
                                                 "max_tables_for_details",
                                                 "digest_top",
                                                 "replication_lag_warning",
                                                 "replication_lag_critical",
                                                 "applier_transaction",
                                                 "fragmented_min_mib",
                                                 "fragmented_min_percent",
                                                 "low_cardinality_min_rows",
                                                 "low_cardinality_max_distinct",
                                                 "max_findings_per_code"};
  return kKeys;
}

const std::vector<std::string>& LogKeys() {
  static const std::vector<std::string> kKeys = {"level"};
  return kKeys;
}

const std::vector<std::string>& LogLevels() {
  static const std::vector<std::string> kLevels = {"trace", "debug", "info",
                                                   "warn",  "error", "off"};
  return kLevels;
}

const std::vector<std::string>& TlsModeNames() {
  static const std::vector<std::string> kNames = {"DISABLED", "PREFERRED", "REQUIRED", "VERIFY_CA",
                                                  "VERIFY_IDENTITY"};
  return kNames;
}

bool IsValidTargetName(std::string_view name) {
  return !name.empty() && name.size() <= kMaxNameLength &&
         std::all_of(name.begin(), name.end(), [](char c) {
           return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-';
         });
}

bool IsEnvironmentVariableName(std::string_view name) {
  return !name.empty() && std::isdigit(static_cast<unsigned char>(name.front())) == 0 &&
         std::all_of(name.begin(), name.end(), [](char c) {
           return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
         });
}

// RDS's rule for DBInstanceIdentifier and DBClusterIdentifier: 1 to 63 letters, digits or
// hyphens; a letter first; no hyphen last and no two hyphens in a row.
bool LooksLikeRdsIdentifier(std::string_view id) {
  if (id.empty() || id.size() > 63) return false;
  if (!std::isalpha(static_cast<unsigned char>(id.front())) || id.back() == '-') return false;
  for (size_t i = 0; i < id.size(); ++i) {
    const auto c = static_cast<unsigned char>(id[i]);
    if (!std::isalnum(c) && c != '-') return false;
    if (c == '-' && i > 0 && id[i - 1] == '-') return false;
  }
  return true;
}

// "us-east-1", "eu-central-2", "us-gov-west-1", "cn-north-1", "ap-southeast-4".
bool LooksLikeAwsRegion(std::string_view region) {
  const auto parts = core::Split(region, '-');
  if (parts.size() < 3) return false;
  auto letters = [](std::string_view s) {
    return !s.empty() &&
           std::all_of(s.begin(), s.end(), [](char c) { return c >= 'a' && c <= 'z'; });
  };
  auto digits = [](std::string_view s) {
    return !s.empty() &&
           std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
  };
  if (parts.front().size() != 2 || !letters(parts.front())) return false;
  for (size_t i = 1; i + 1 < parts.size(); ++i) {
    if (!letters(parts[i])) return false;
  }
  return digits(parts.back());
}

// ---------------------------------------------------------------------------------------
// Intermediate representation: what one mapping (a target or `defaults`) says, with where.
// ---------------------------------------------------------------------------------------

template <typename T>
void Inherit(Setting<T>& mine, const Setting<T>& theirs) {
  if (!mine.present) mine = theirs;
}

struct ThresholdSpec {
  Setting<double> warn;
  Setting<double> critical;
  SourceLocation where;  // of the check name
};
using ThresholdSpecs = std::map<std::string, ThresholdSpec>;

struct TlsSpec {
  Setting<TlsMode> mode;
  Setting<std::string> ca, capath, cert, key, cipher;
};

struct CloudSpec {
  bool present = false;
  bool own = false;  // the target wrote a cloud section (not only inherited from defaults)
  SourceLocation where;
  Setting<std::string> provider, region, instance_identifier, cluster_identifier, endpoint_url,
      profile;
};

struct Reference {
  std::string name;
  SourceLocation where;
};

struct TargetSpec {
  std::string path;  // "targets[1] (orders-replica)" or "defaults"
  SourceLocation where;
  Setting<std::string> name, dsn, host, socket, user, database;
  Setting<uint16_t> port;
  Setting<std::string> password_env, password_file, defaults_file;
  Setting<milliseconds> connect_timeout, read_timeout, write_timeout;
  TlsSpec tls;
  std::map<std::string, std::string> tags;
  Setting<std::string> replica_of;
  std::vector<Reference> replicas;
  Setting<std::vector<std::string>> protected_users;
  CloudSpec cloud;
  ThresholdSpecs thresholds;
  std::optional<ConnectSettings> dsn_settings;  // when dsn parsed
};

// Fills in `target` from `defaults` following the rules in config.h.
void MergeDefaults(TargetSpec& t, const TargetSpec& d) {
  const bool has_dsn = t.dsn.present;
  if (!has_dsn && !t.host.present && !t.socket.present) {
    Inherit(t.host, d.host);
    Inherit(t.socket, d.socket);
  }
  if (!has_dsn && !t.socket.present) Inherit(t.port, d.port);
  if (!has_dsn) {
    Inherit(t.user, d.user);
    Inherit(t.database, d.database);
  }
  if (!t.password_env.present && !t.password_file.present) {
    t.password_env = d.password_env;
    t.password_file = d.password_file;
  }
  Inherit(t.defaults_file, d.defaults_file);
  Inherit(t.connect_timeout, d.connect_timeout);
  Inherit(t.read_timeout, d.read_timeout);
  Inherit(t.write_timeout, d.write_timeout);
  Inherit(t.protected_users, d.protected_users);
  Inherit(t.tls.mode, d.tls.mode);
  Inherit(t.tls.ca, d.tls.ca);
  Inherit(t.tls.capath, d.tls.capath);
  Inherit(t.tls.cert, d.tls.cert);
  Inherit(t.tls.key, d.tls.key);
  Inherit(t.tls.cipher, d.tls.cipher);
  for (const auto& [key, value] : d.tags) t.tags.emplace(key, value);
  if (d.cloud.present) {
    if (!t.cloud.present) t.cloud.where = d.cloud.where;
    t.cloud.present = true;
    Inherit(t.cloud.provider, d.cloud.provider);
    Inherit(t.cloud.region, d.cloud.region);
    Inherit(t.cloud.instance_identifier, d.cloud.instance_identifier);
    Inherit(t.cloud.cluster_identifier, d.cloud.cluster_identifier);
    Inherit(t.cloud.endpoint_url, d.cloud.endpoint_url);
    Inherit(t.cloud.profile, d.cloud.profile);
  }
  for (const auto& [check, spec] : d.thresholds) {
    auto [it, inserted] = t.thresholds.emplace(check, spec);
    if (!inserted) {
      Inherit(it->second.warn, spec.warn);
      Inherit(it->second.critical, spec.critical);
    }
  }
}

Thresholds ToThresholds(const ThresholdSpecs& specs) {
  Thresholds out;
  for (const auto& [check, spec] : specs) {
    out[check] = Threshold{spec.warn.value, spec.critical.value, spec.where};
  }
  return out;
}

// ---------------------------------------------------------------------------------------
// The validator: walks the tree once, collecting every diagnostic.
// ---------------------------------------------------------------------------------------

class Validator : public YamlChecker {
 public:
  Validator(std::string base_dir, std::vector<Diagnostic> errors, const ConfigSchema& schema)
      : YamlChecker(std::move(errors)), base_dir_(std::move(base_dir)), schema_(schema) {}

  ConfigResult Build(const YamlNode& root, const std::string& path) {
    Config config;
    config.path = path;
    if (!root.is_null() && !root.is_map()) {
      Error(root.where, "",
            fmt::format("expected a mapping with `targets:`, found {}", root.KindName()));
      return Finish(std::move(config));
    }
    const YamlEntry* targets = nullptr;
    const YamlEntry* defaults = nullptr;
    for (const YamlEntry* entry : Entries(root, "", &TopLevelKeys())) {
      if (entry->key == "targets") targets = entry;
      if (entry->key == "defaults") defaults = entry;
      if (entry->key == "assess") ParseAssess(entry->value, config.assess);
      if (entry->key == "investigate") ParseInvestigate(entry->value, config.investigate);
      if (entry->key == "watch") ParseWatch(entry->value, config.watch);
      if (entry->key == "notify") ParseNotifySection(*this, entry->value, base_dir_, config.notify);
      if (entry->key == "log") ParseLog(entry->value, config.log_level);
      if (entry->key == "failover_hook") {
        const Setting<std::string> hook = String(entry->value, "failover_hook");
        if (hook.value && core::Trim(*hook.value).empty()) {
          Error(entry->value.where, "failover_hook", "empty command",
                "name the command to run after a failover, or remove the key");
        } else if (hook.value) {
          config.failover_hook = *hook.value;
        }
      }
      if (entry->key == "failover_block_period") {
        const Setting<std::string> text = String(entry->value, "failover_block_period");
        if (text.value) {
          auto duration = core::ParseDuration(*text.value);
          if (!duration || *duration > std::chrono::hours(24 * 30)) {
            Error(entry->value.where, "failover_block_period",
                  fmt::format("'{}' is not a duration up to 30 days", *text.value),
                  "write e.g. 1h, 30m or 0s (no block)");
          } else {
            config.failover_block_period = *duration;
          }
        }
      }
      if (entry->key == "protected_users") {
        config.protected_users = ProtectedUsers(entry->value, "protected_users")
                                     .value.value_or(std::vector<std::string>{});
      }
    }

    TargetSpec defaults_spec;
    defaults_spec.path = "defaults";
    if (defaults != nullptr && ExpectMap(defaults->value, "defaults")) {
      defaults_spec.where = defaults->value.where;
      ParseTargetKeys(defaults->value, defaults_spec, /*is_defaults=*/true);
    }

    if (targets == nullptr) {
      Error(SourceLocation{path, 0, 0, ""}, "targets", "missing",
            "add `targets:` with a list of targets (`targets: []` for none)");
    } else if (targets->value.kind == YamlNode::Kind::kSequence) {
      config.targets = BuildTargets(targets->value, defaults_spec);
    } else if (!targets->value.is_null()) {  // `targets:` alone is an empty list
      Error(targets->value.where, "targets",
            fmt::format("expected a list of targets, found {}", targets->value.KindName()),
            "write each target as a list item: `- name: orders-primary`");
    }
    for (const AppLogSettings& log : config.watch.app_logs) {
      if (!log.target.empty() && config.Find(log.target) == nullptr) {
        std::vector<std::string> names;
        for (const auto& t : config.targets) names.push_back(t.name);
        Error(log.where, "watch.app_logs", fmt::format("target '{}' is not configured", log.target),
              DidYouMean(log.target, names, "targets are"));
      }
    }
    return Finish(std::move(config));
  }

 private:
  ConfigResult Finish(Config config) {
    if (auto errors = TakeDiagnostics(config.warnings)) return tl::unexpected(std::move(*errors));
    return config;
  }

  void UnknownKey(const YamlEntry& entry, const std::string& key_path,
                  const std::vector<std::string>& known) override {
    const std::string lower = core::ToLower(entry.key);
    if (lower == "password" || lower == "passwd" || lower == "pass" || lower == "pwd") {
      Error(entry.key_where, key_path,
            "passwords are never written in the configuration file (it is easily shared and "
            "committed)",
            "use password_env, password_file or defaults_file");
      return;
    }
    if (entry.key == "<<") {
      Error(entry.key_where, key_path, "YAML merge keys are not supported",
            "put shared settings under `defaults:`");
      return;
    }
    YamlChecker::UnknownKey(entry, key_path, known);
  }

  // A file system path; relative paths written in the file are made relative to its
  // directory.
  Setting<std::string> FilePath(const YamlNode& node, const std::string& path) {
    Setting<std::string> out = String(node, path);
    if (out.value && !out.where.from_env() && !base_dir_.empty() &&
        fs::path(*out.value).is_relative()) {
      out.value = (fs::path(base_dir_) / *out.value).string();
    }
    return out;
  }

  Setting<uint16_t> Port(const YamlNode& node, const std::string& path) {
    const Setting<std::string> text = String(node, path);
    Setting<uint16_t> out{true, std::nullopt, node.where};
    if (!text.value) return out;
    const auto port = core::ParseUint64(*text.value);
    if (!port || *port == 0 || *port > 65535) {
      Error(node.where, path, fmt::format("'{}' is not a port number (1-65535)", *text.value));
    } else {
      out.value = static_cast<uint16_t>(*port);
    }
    return out;
  }

  Setting<milliseconds> Timeout(const YamlNode& node, const std::string& path) {
    const Setting<std::string> text = String(node, path);
    Setting<milliseconds> out{true, std::nullopt, node.where};
    if (!text.value) return out;
    auto parsed = ParseTimeout(*text.value);
    if (!parsed) {
      Error(node.where, path, parsed.error().message, parsed.error().hint);
    } else {
      out.value = *parsed;
    }
    return out;
  }

  Setting<TlsMode> Mode(const YamlNode& node, const std::string& path) {
    const Setting<std::string> text = String(node, path);
    Setting<TlsMode> out{true, std::nullopt, node.where};
    if (!text.value) return out;
    out.value = mysql::ParseTlsMode(*text.value);
    if (!out.value) {
      Error(node.where, path, fmt::format("unknown value '{}'", *text.value),
            DidYouMean(core::ToUpper(*text.value), TlsModeNames(), "use one of"));
    }
    return out;
  }

  // ----- sections -----

  void ParseWatch(const YamlNode& node, WatchSettings& out) {
    if (!ExpectMap(node, "watch")) return;
    for (const YamlEntry* entry : Entries(node, "watch", &WatchKeys())) {
      const std::string path = JoinKeyPath("watch", entry->key);
      const std::string& key = entry->key;
      if (key == "alert_labels") {
        if (entry->value.kind != YamlNode::Kind::kSequence || entry->value.items.empty()) {
          Error(entry->value.where, path,
                fmt::format("expected a list of label names, found {}", entry->value.KindName()),
                "write [dbrunbook_target, instance]");
          continue;
        }
        for (size_t i = 0; i < entry->value.items.size(); ++i) {
          const Setting<std::string> label =
              String(entry->value.items[i], fmt::format("{}[{}]", path, i));
          if (label.value) out.alert_labels.push_back(*label.value);
        }
        continue;
      }
      if (key == "app_logs") {
        ParseAppLogs(entry->value, path, out.app_logs);
        continue;
      }
      const Setting<std::string> text = String(entry->value, path);
      if (!text.value) continue;
      if (key == "listen") {
        if (*text.value != "off" && text.value->rfind(':') == std::string::npos) {
          Error(entry->value.where, path, fmt::format("'{}' is not HOST:PORT", *text.value),
                "write 127.0.0.1:9473, [::1]:9473, or off");
          continue;
        }
        out.listen = *text.value;
        continue;
      }
      if (key == "poll_workers" || key == "samples_kept") {
        const int64_t low = key == "poll_workers" ? 1 : 10;
        const int64_t high = key == "poll_workers" ? 1024 : 10'000'000;
        const auto number = core::ParseInt64(*text.value);
        if (!number || *number < low || *number > high) {
          Error(entry->value.where, path,
                fmt::format("'{}' is not a whole number from {} to {}", *text.value, low, high));
          continue;
        }
        (key == "poll_workers" ? out.poll_workers : out.samples_kept) = static_cast<int>(*number);
        continue;
      }
      if (key == "alert_ttl") {
        auto ttl = core::ParseDuration(*text.value);
        if (!ttl || *ttl < std::chrono::minutes(1) || *ttl > std::chrono::hours(24 * 30)) {
          Error(entry->value.where, path,
                fmt::format("'{}' is not a duration from 1m to 30d", *text.value),
                "make it longer than Alertmanager's repeat_interval plus group_interval "
                "(defaults 4h and 5m)");
          continue;
        }
        out.alert_ttl = *ttl;
        continue;
      }
      auto duration = core::ParseDuration(*text.value);
      const core::Duration high = key == "slow_interval" ? core::Duration(std::chrono::minutes(10))
                                                         : core::Duration(std::chrono::hours(1));
      if (!duration || *duration < std::chrono::seconds(1) || *duration > high) {
        Error(entry->value.where, path,
              fmt::format("'{}' is not a duration from 1s to {}", *text.value,
                          key == "slow_interval" ? "10m" : "1h"));
        continue;
      }
      (key == "slow_interval" ? out.slow_interval : out.sample_every) = *duration;
    }
  }

  void ParseAppLogs(const YamlNode& node, const std::string& path,
                    std::vector<AppLogSettings>& out) {
    if (node.kind != YamlNode::Kind::kSequence) {
      Error(node.where, path,
            fmt::format("expected a list of log files, found {}", node.KindName()),
            "write `- {path: /var/log/app.log, target: orders-primary}`");
      return;
    }
    for (size_t i = 0; i < node.items.size(); ++i) {
      const std::string item_path = fmt::format("{}[{}]", path, i);
      const YamlNode& item = node.items[i];
      if (!ExpectMap(item, item_path)) continue;
      AppLogSettings log;
      log.where = item.where;
      for (const YamlEntry* entry : Entries(item, item_path, &AppLogKeys())) {
        const std::string key_path = JoinKeyPath(item_path, entry->key);
        if (entry->key == "path") {
          if (auto file = FilePath(entry->value, key_path); file.value) log.path = *file.value;
        } else if (entry->key == "target") {
          if (auto target = String(entry->value, key_path); target.value) {
            log.target = *target.value;
          }
        } else if (entry->key == "patterns") {
          if (entry->value.kind != YamlNode::Kind::kSequence) {
            Error(entry->value.where, key_path,
                  fmt::format("expected a list of RE2 patterns, found {}", entry->value.KindName()),
                  R"(write ["Too many connections", "Lost connection"])");
            continue;
          }
          for (size_t p = 0; p < entry->value.items.size(); ++p) {
            const Setting<std::string> pattern =
                String(entry->value.items[p], fmt::format("{}[{}]", key_path, p));
            if (pattern.value) log.patterns.push_back(*pattern.value);
          }
        }
      }
      if (log.path.empty() || log.target.empty()) {
        Error(item.where, item_path, "a log file needs path and target",
              "write `- {path: /var/log/app.log, target: orders-primary}`");
        continue;
      }
      out.push_back(std::move(log));
    }
  }

  void ParseInvestigate(const YamlNode& node, InvestigateSettings& out) {
    if (!ExpectMap(node, "investigate")) return;
    SourceLocation critical_where = node.where;
    for (const YamlEntry* entry : Entries(node, "investigate", &InvestigateKeys())) {
      const std::string path = JoinKeyPath("investigate", entry->key);
      if (entry->key == "replication_lag_critical") critical_where = entry->value.where;
      const std::string& key = entry->key;
      const Setting<std::string> text = String(entry->value, path);
      if (!text.value) continue;
      if (key == "top_tables" || key == "max_tables_for_details" || key == "digest_top" ||
          key == "fragmented_min_mib" || key == "low_cardinality_min_rows" ||
          key == "low_cardinality_max_distinct" || key == "max_findings_per_code") {
        const int64_t max = key == "low_cardinality_min_rows" ? int64_t{1'000'000'000'000}
                            : key == "fragmented_min_mib"     ? int64_t{100'000'000}
                                                              : int64_t{1'000'000};
        const auto number = core::ParseInt64(*text.value);
        if (!number || *number < 1 || *number > max) {
          Error(entry->value.where, path,
                fmt::format("'{}' is not a whole number from 1 to {}", *text.value, max));
          continue;
        }
        if (key == "fragmented_min_mib") {
          out.fragmented_min_mib = *number;
        } else if (key == "low_cardinality_min_rows") {
          out.low_cardinality_min_rows = *number;
        } else if (key == "low_cardinality_max_distinct") {
          out.low_cardinality_max_distinct = *number;
        } else {
          std::optional<int>& field = key == "top_tables"               ? out.top_tables
                                      : key == "max_tables_for_details" ? out.max_tables_for_details
                                      : key == "digest_top"             ? out.digest_top
                                                                        : out.max_findings_per_code;
          field = static_cast<int>(*number);
        }
        continue;
      }
      if (key == "fragmented_min_percent") {
        const auto number = core::ParseInt64(*text.value);
        if (!number || *number < 1 || *number > 100) {
          Error(entry->value.where, path,
                fmt::format("'{}' is not a whole number from 1 to 100 (percent of the table)",
                            *text.value));
          continue;
        }
        out.fragmented_min_percent = static_cast<int>(*number);
        continue;
      }
      auto duration = core::ParseDuration(*text.value);
      if (!duration) {
        Error(entry->value.where, path, duration.error().message, duration.error().hint);
        continue;
      }
      if (*duration > std::chrono::hours(24 * 365) ||
          (duration->count() == 0 && key != "digest_interval" &&
           key != "unused_index_min_uptime")) {
        Error(entry->value.where, path, fmt::format("{} is out of range", *text.value),
              "use a duration above 0 and at most a year");
        continue;
      }
      if (key == "digest_interval" && *duration > std::chrono::minutes(10)) {
        Error(entry->value.where, path, fmt::format("{} is out of range", *text.value),
              "the digest interval is at most 10m");
        continue;
      }
      std::optional<core::Duration>& field =
          key == "long_query"                 ? out.long_query
          : key == "idle_transaction"         ? out.idle_transaction
          : key == "unused_index_min_uptime"  ? out.unused_index_min_uptime
          : key == "digest_interval"          ? out.digest_interval
          : key == "replication_lag_warning"  ? out.replication_lag_warning
          : key == "replication_lag_critical" ? out.replication_lag_critical
          : key == "applier_transaction"      ? out.applier_transaction
                                              : out.step_budget;
      field = *duration;
    }
    if (out.replication_lag_warning && out.replication_lag_critical &&
        *out.replication_lag_critical < *out.replication_lag_warning) {
      Error(critical_where, "investigate.replication_lag_critical",
            "is below replication_lag_warning",
            "the critical lag must be at least the warning lag");
    }
  }

  void ParseAssess(const YamlNode& node, AssessSettings& out) {
    if (!ExpectMap(node, "assess")) return;
    for (const YamlEntry* entry : Entries(node, "assess", &AssessKeys())) {
      const std::string path = JoinKeyPath("assess", entry->key);
      if (entry->key == "thresholds") {
        ThresholdSpecs specs;
        ParseThresholds(entry->value, path, specs);
        out.thresholds = ToThresholds(specs);
        continue;
      }
      const Setting<std::string> text = String(entry->value, path);
      if (!text.value) continue;
      auto interval = core::ParseDuration(*text.value);
      if (!interval) {
        Error(entry->value.where, path, interval.error().message, interval.error().hint);
      } else if (*interval < milliseconds(100) || *interval > std::chrono::seconds(60)) {
        Error(
            entry->value.where, path,
            fmt::format("{} is out of range: the interval must be from 100ms to 60s", *text.value));
      } else {
        out.interval = *interval;
      }
    }
  }

  void ParseLog(const YamlNode& node, std::string& level) {
    if (!ExpectMap(node, "log")) return;
    for (const YamlEntry* entry : Entries(node, "log", &LogKeys())) {
      const std::string path = JoinKeyPath("log", entry->key);
      const Setting<std::string> text = String(entry->value, path);
      if (!text.value) continue;
      const std::string lower = core::ToLower(*text.value);
      if (Contains(LogLevels(), lower)) {
        level = lower;
      } else {
        Error(entry->value.where, path, fmt::format("unknown value '{}'", *text.value),
              DidYouMean(lower, LogLevels(), "use one of"));
      }
    }
  }

  void ParseThresholds(const YamlNode& node, const std::string& path, ThresholdSpecs& out) {
    if (!ExpectMap(node, path)) return;
    for (const YamlEntry* check : Entries(node, path, nullptr)) {
      const std::string check_path = JoinKeyPath(path, check->key);
      if (check->key.empty()) {
        Error(check->key_where, path, "empty check name");
        continue;
      }
      if (!schema_.check_names.empty() && !Contains(schema_.check_names, check->key)) {
        Error(check->key_where, check_path, fmt::format("unknown check '{}'", check->key),
              DidYouMean(check->key, schema_.check_names, "checks are"));
        continue;
      }
      ThresholdSpec spec;
      spec.where = check->key_where;
      if (check->value.is_null()) {
        Error(check->key_where, check_path, "has no value",
              "write {warn: NUMBER, critical: NUMBER}");
        continue;
      }
      if (!ExpectMap(check->value, check_path)) continue;
      for (const YamlEntry* entry : Entries(check->value, check_path, &ThresholdKeys())) {
        Setting<double>& field = entry->key == "warn" ? spec.warn : spec.critical;
        field = Number(entry->value, JoinKeyPath(check_path, entry->key));
      }
      if (!spec.warn.present && !spec.critical.present) {
        Error(check->value.where, check_path, "sets neither warn nor critical",
              "write {warn: NUMBER, critical: NUMBER} (or one of them)");
      }
      out[check->key] = std::move(spec);
    }
  }

  void ParseTls(const YamlNode& node, const std::string& path, TlsSpec& out) {
    if (!ExpectMap(node, path)) return;
    for (const YamlEntry* entry : Entries(node, path, &TlsKeys())) {
      const std::string key_path = JoinKeyPath(path, entry->key);
      const std::string& key = entry->key;
      if (key == "mode") {
        out.mode = Mode(entry->value, key_path);
      } else if (key == "ca") {
        out.ca = FilePath(entry->value, key_path);
      } else if (key == "capath") {
        out.capath = FilePath(entry->value, key_path);
      } else if (key == "cert") {
        out.cert = FilePath(entry->value, key_path);
      } else if (key == "key") {
        out.key = FilePath(entry->value, key_path);
      } else if (key == "cipher") {
        out.cipher = String(entry->value, key_path);
      }
    }
  }

  void ParseCloud(const YamlNode& node, const std::string& path, CloudSpec& out) {
    if (!ExpectMap(node, path)) return;
    out.present = true;
    out.own = true;
    out.where = node.where;
    for (const YamlEntry* entry : Entries(node, path, &CloudKeys())) {
      const std::string key_path = JoinKeyPath(path, entry->key);
      const std::string& key = entry->key;
      Setting<std::string> value = String(entry->value, key_path);
      if (key == "provider") {
        if (value.value && *value.value != "aws") {
          Error(value.where, key_path, fmt::format("unknown provider '{}'", *value.value),
                "the only provider is aws");
          value.value.reset();
        }
        out.provider = value;
      } else if (key == "region") {
        if (value.value && !LooksLikeAwsRegion(*value.value)) {
          Error(value.where, key_path,
                fmt::format("'{}' does not look like an AWS region", *value.value),
                "write e.g. us-east-1 or eu-west-1");
          value.value.reset();
        }
        out.region = value;
      } else if (key == "db_instance_identifier" || key == "instance_identifier") {
        if (out.instance_identifier.present) {
          Error(value.where, key_path, "the instance identifier is set twice",
                "keep one of db_instance_identifier and instance_identifier");
        }
        if (value.value && !LooksLikeRdsIdentifier(*value.value)) {
          Error(value.where, key_path, fmt::format("'{}' is not an RDS identifier", *value.value),
                "1-63 letters, digits and hyphens, starting with a letter");
          value.value.reset();
        }
        out.instance_identifier = value;
      } else if (key == "db_cluster_identifier" || key == "cluster_identifier") {
        if (out.cluster_identifier.present) {
          Error(value.where, key_path, "the cluster identifier is set twice",
                "keep one of db_cluster_identifier and cluster_identifier");
        }
        if (value.value && !LooksLikeRdsIdentifier(*value.value)) {
          Error(value.where, key_path, fmt::format("'{}' is not an RDS identifier", *value.value),
                "1-63 letters, digits and hyphens, starting with a letter");
          value.value.reset();
        }
        out.cluster_identifier = value;
      } else if (key == "profile") {
        out.profile = value;
      } else if (key == "endpoint_url") {
        if (value.value && value.value->rfind("https://", 0) != 0 &&
            value.value->rfind("http://", 0) != 0) {
          Error(value.where, key_path, "must start with https:// (or http://)");
          value.value.reset();
        }
        out.endpoint_url = value;
      }
    }
  }

  void ParseTags(const YamlNode& node, const std::string& path,
                 std::map<std::string, std::string>& out) {
    if (!ExpectMap(node, path)) return;
    for (const YamlEntry* entry : Entries(node, path, nullptr)) {
      const std::string key_path = JoinKeyPath(path, entry->key);
      if (entry->key.empty()) {
        Error(entry->key_where, path, "empty tag name");
        continue;
      }
      const Setting<std::string> value = String(entry->value, key_path, /*allow_empty=*/true);
      if (value.value) out[entry->key] = *value.value;
    }
  }

  void ParseReplicas(const YamlNode& node, const std::string& path, std::vector<Reference>& out) {
    if (node.kind != YamlNode::Kind::kSequence) {
      Error(node.where, path,
            fmt::format("expected a list of target names, found {}", node.KindName()),
            "write [orders-replica-1, orders-replica-2]");
      return;
    }
    for (size_t i = 0; i < node.items.size(); ++i) {
      const Setting<std::string> name = String(node.items[i], fmt::format("{}[{}]", path, i));
      if (name.value) out.push_back(Reference{*name.value, name.where});
    }
  }

  // A list of user names as the processlist shows them (USER): `app`, not 'app'@'%' — the
  // guardrail of mitigate kill-queries compares with the processlist, where a session has a
  // user and a host but no account pattern.
  Setting<std::vector<std::string>> ProtectedUsers(const YamlNode& node, const std::string& path) {
    Setting<std::vector<std::string>> out{true, std::nullopt, node.where};
    if (node.kind != YamlNode::Kind::kSequence) {
      Error(node.where, path,
            fmt::format("expected a list of user names, found {}", node.KindName()),
            "write [app_admin, backup]");
      return out;
    }
    std::vector<std::string> users;
    bool ok = true;
    for (size_t i = 0; i < node.items.size(); ++i) {
      const std::string item_path = fmt::format("{}[{}]", path, i);
      const Setting<std::string> user = String(node.items[i], item_path);
      if (!user.value) {
        ok = false;
        continue;
      }
      if (user.value->find_first_of("'`\"@") != std::string::npos) {
        Error(user.where, item_path, fmt::format("'{}' is not a user name", *user.value),
              "write the user as the processlist shows it (app), without quotes or @host");
        ok = false;
        continue;
      }
      users.push_back(*user.value);
    }
    if (ok) out.value = std::move(users);
    return out;
  }

  Setting<std::string> TargetName(const YamlNode& node, const std::string& path) {
    Setting<std::string> name = String(node, path);
    if (name.value && !IsValidTargetName(*name.value)) {
      Error(name.where, path, fmt::format("invalid target name '{}'", *name.value),
            fmt::format("use letters, digits, '.', '_' and '-', at most {} characters",
                        kMaxNameLength));
      name.value.reset();
    }
    return name;
  }

  // The keys of one target, or of `defaults`.
  void ParseTargetKeys(const YamlNode& map, TargetSpec& spec, bool is_defaults) {
    for (const YamlEntry* entry : Entries(map, spec.path, &TargetKeys())) {
      const std::string& key = entry->key;
      const YamlNode& value = entry->value;
      const std::string path = JoinKeyPath(spec.path, key);
      if (is_defaults && IsPerTargetKey(key)) {
        Error(entry->key_where, path, "cannot be set in defaults",
              "it differs from target to target: set it in each target");
        continue;
      }
      if (key == "name") {
        spec.name = TargetName(value, path);
      } else if (key == "dsn") {
        spec.dsn = String(value, path);
        if (spec.dsn.value) {
          auto parsed = ParseDsn(*spec.dsn.value);
          if (parsed) {
            spec.dsn_settings = std::move(*parsed);
          } else {
            Error(value.where, path, parsed.error().message, parsed.error().hint);
          }
        }
      } else if (key == "host") {
        spec.host = String(value, path);
        if (spec.host.value) CheckHost(spec.host, path);
      } else if (key == "port") {
        spec.port = Port(value, path);
      } else if (key == "socket") {
        spec.socket = String(value, path);
      } else if (key == "user") {
        spec.user = String(value, path);
      } else if (key == "database") {
        spec.database = String(value, path);
      } else if (key == "password_env") {
        spec.password_env = String(value, path);
        if (spec.password_env.value && !IsEnvironmentVariableName(*spec.password_env.value)) {
          // Not repeated: a password pasted here by mistake must not reach the output.
          Error(value.where, path, "is not an environment variable name",
                "write the NAME of the variable holding the password (letters, digits, _)");
          spec.password_env.value.reset();
        }
      } else if (key == "password_file") {
        spec.password_file = FilePath(value, path);
      } else if (key == "defaults_file") {
        spec.defaults_file = FilePath(value, path);
      } else if (key == "tls") {
        ParseTls(value, path, spec.tls);
      } else if (key == "tags") {
        ParseTags(value, path, spec.tags);
      } else if (key == "replica_of") {
        spec.replica_of = String(value, path);
      } else if (key == "replicas") {
        ParseReplicas(value, path, spec.replicas);
      } else if (key == "cloud") {
        ParseCloud(value, path, spec.cloud);
      } else if (key == "connect_timeout") {
        spec.connect_timeout = Timeout(value, path);
      } else if (key == "read_timeout") {
        spec.read_timeout = Timeout(value, path);
      } else if (key == "write_timeout") {
        spec.write_timeout = Timeout(value, path);
      } else if (key == "thresholds") {
        ParseThresholds(value, path, spec.thresholds);
      } else if (key == "protected_users") {
        spec.protected_users = ProtectedUsers(value, path);
      }
    }
  }

  void CheckHost(Setting<std::string>& host, const std::string& path) {
    const std::string& text = *host.value;
    if (text.find_first_of(" \t/@?") != std::string::npos) {
      Error(host.where, path, fmt::format("'{}' is not a host name or address", text),
            text.find("://") != std::string::npos ? "write a URL under `dsn:` instead" : "");
      host.value.reset();
    } else if (std::count(text.begin(), text.end(), ':') == 1) {
      Error(host.where, path, fmt::format("host '{}' contains a port", text),
            "write the port under `port:`");
      host.value.reset();
    }
  }

  // ----- targets -----

  std::vector<TargetConfig> BuildTargets(const YamlNode& list, const TargetSpec& defaults) {
    std::vector<TargetSpec> specs;
    for (size_t i = 0; i < list.items.size(); ++i) {
      const YamlNode& item = list.items[i];
      TargetSpec spec;
      spec.path = fmt::format("targets[{}]", i);
      spec.where = item.where;
      if (!item.is_map()) {
        Error(item.where, spec.path,
              fmt::format("expected a target (a mapping with name, host, ...), found {}",
                          item.KindName()));
        continue;
      }
      // Name the target in every message about it, when it has a usable name.
      for (const YamlEntry& entry : item.entries) {
        if (entry.key == "name" && entry.value.kind == YamlNode::Kind::kScalar &&
            IsValidTargetName(entry.value.scalar)) {
          spec.path += fmt::format(" ({})", entry.value.scalar);
          break;
        }
      }
      ParseTargetKeys(item, spec, /*is_defaults=*/false);
      if (!spec.name.present) {
        Error(item.where, spec.path, "missing name",
              "every target needs a unique name, e.g. name: orders-primary");
      }
      ExpandDsn(spec);
      MergeDefaults(spec, defaults);
      CheckTarget(spec);
      specs.push_back(std::move(spec));
    }
    CheckNamesAndReferences(specs);

    std::vector<TargetConfig> out;
    out.reserve(specs.size());
    for (const auto& spec : specs) out.push_back(ToTargetConfig(spec));
    return out;
  }

  // Moves what the DSN says into the target's own settings (see config.h), reporting keys
  // that say the same thing twice.
  void ExpandDsn(TargetSpec& spec) {
    if (!spec.dsn.present) return;
    std::vector<std::string> clashes;
    for (auto [key, present] :
         {std::pair{"host", spec.host.present}, std::pair{"port", spec.port.present},
          std::pair{"socket", spec.socket.present}, std::pair{"user", spec.user.present},
          std::pair{"database", spec.database.present}}) {
      if (present) clashes.emplace_back(key);
    }
    if (!clashes.empty()) {
      Error(spec.dsn.where, JoinKeyPath(spec.path, "dsn"),
            fmt::format("dsn cannot be combined with {} (the DSN holds the whole address)",
                        fmt::join(clashes, ", ")),
            "put everything in the DSN, or replace dsn by host/port/user keys");
    }
    if (!spec.dsn_settings) return;
    const ConnectSettings& dsn = *spec.dsn_settings;
    const SourceLocation& where = spec.dsn.where;
    auto take = [&](auto& setting, const auto& value) {
      if (value && !setting.present) setting = {true, *value, where};
    };
    // The address: clashes were reported above, so only fill in.
    take(spec.host, dsn.host);
    take(spec.port, dsn.port);
    take(spec.socket, dsn.socket);
    take(spec.user, dsn.user);
    take(spec.database, dsn.database);
    auto take_unique = [&](auto& setting, const auto& value, std::string_view key,
                           std::string_view parameter) {
      if (!value) return;
      if (setting.present) {
        Error(setting.where, JoinKeyPath(spec.path, key),
              fmt::format("is also set by the dsn ({})", parameter), "set it in one place");
        return;
      }
      setting = {true, *value, where};
    };
    take_unique(spec.tls.mode, dsn.tls_mode, "tls.mode", "ssl-mode");
    take_unique(spec.tls.ca, dsn.tls_ca, "tls.ca", "ssl-ca");
    take_unique(spec.tls.capath, dsn.tls_capath, "tls.capath", "ssl-capath");
    take_unique(spec.tls.cert, dsn.tls_cert, "tls.cert", "ssl-cert");
    take_unique(spec.tls.key, dsn.tls_key, "tls.key", "ssl-key");
    take_unique(spec.tls.cipher, dsn.tls_cipher, "tls.cipher", "ssl-cipher");
    take_unique(spec.connect_timeout, dsn.connect_timeout, "connect_timeout", "connect-timeout");
    take_unique(spec.read_timeout, dsn.read_timeout, "read_timeout", "read-timeout");
    take_unique(spec.write_timeout, dsn.write_timeout, "write_timeout", "write-timeout");
  }

  // Rules between keys of one target, after defaults were merged in.
  void CheckTarget(const TargetSpec& spec) {
    const bool option_file = spec.defaults_file.present;
    if (!spec.dsn.present && !spec.host.present && !spec.socket.present && !option_file) {
      Error(spec.where, spec.path, "no address: set dsn, host or socket",
            "e.g. host: 10.0.0.5, or dsn: mysql://monitor@10.0.0.5:3306/");
    }
    if (spec.password_env.present && spec.password_file.present) {
      Error(spec.password_file.where, JoinKeyPath(spec.path, "password_file"),
            "password_env and password_file are both set", "keep one of them");
    }

    const TlsSpec& tls = spec.tls;
    const bool verifies = tls.mode.value && (*tls.mode.value == TlsMode::kVerifyCa ||
                                             *tls.mode.value == TlsMode::kVerifyIdentity);
    if (verifies && !tls.ca.present && !tls.capath.present && !option_file) {
      Error(tls.mode.where, JoinKeyPath(spec.path, "tls.mode"),
            fmt::format("{} needs tls.ca or tls.capath to check the server certificate",
                        mysql::TlsModeName(*tls.mode.value)),
            "set tls.ca to the CA bundle (for RDS and Aurora: the RDS CA bundle)");
    }
    const bool mode_does_not_verify = tls.mode.value && !verifies;
    const bool mode_defaults = !tls.mode.present && !option_file;  // PREFERRED
    if (mode_does_not_verify || mode_defaults) {
      for (auto [key, setting] : {std::pair{"ca", &tls.ca}, std::pair{"capath", &tls.capath}}) {
        if (!setting->present) continue;
        Warn(setting->where, JoinKeyPath(spec.path, fmt::format("tls.{}", key)),
             fmt::format("{} is ignored unless mode is VERIFY_CA or VERIFY_IDENTITY", key),
             "set tls.mode: VERIFY_CA (or VERIFY_IDENTITY) to verify the server certificate");
      }
    }

    // (No region is fine: it is then found as the AWS tools find it, from AWS_REGION,
    // AWS_DEFAULT_REGION or the profile, when the cloud is first asked. A cloud section only
    // inherited from defaults, without an identifier, is no cloud identity: see ToTargetConfig.)
    const CloudSpec& cloud = spec.cloud;
    if (cloud.own && !cloud.instance_identifier.present && !cloud.cluster_identifier.present) {
      Error(cloud.where, JoinKeyPath(spec.path, "cloud"),
            "names neither db_instance_identifier nor db_cluster_identifier",
            "set the RDS instance (db_instance_identifier), the Aurora cluster "
            "(db_cluster_identifier), or both");
    }
  }

  void CheckNamesAndReferences(const std::vector<TargetSpec>& specs) {
    std::map<std::string, const TargetSpec*> by_name;
    std::vector<std::string> names;
    for (const auto& spec : specs) {
      if (!spec.name.value) continue;
      auto [it, inserted] = by_name.emplace(*spec.name.value, &spec);
      if (!inserted) {
        Error(spec.name.where, JoinKeyPath(spec.path, "name"),
              fmt::format("duplicate target name '{}' (first used at {})", *spec.name.value,
                          it->second->name.where.ToString()),
              "target names must be unique");
      } else {
        names.push_back(*spec.name.value);
      }
    }
    auto check = [&](const TargetSpec& spec, const std::string& ref, const SourceLocation& where,
                     const std::string& path) {
      if (spec.name.value && ref == *spec.name.value) {
        Error(where, path, "a target cannot name itself");
      } else if (by_name.count(ref) == 0) {
        Error(where, path, fmt::format("no target is named '{}'", ref),
              DidYouMean(ref, names, "targets"));
      }
    };
    for (const auto& spec : specs) {
      if (spec.replica_of.value) {
        check(spec, *spec.replica_of.value, spec.replica_of.where,
              JoinKeyPath(spec.path, "replica_of"));
      }
      for (size_t i = 0; i < spec.replicas.size(); ++i) {
        check(spec, spec.replicas[i].name, spec.replicas[i].where,
              fmt::format("{}.replicas[{}]", spec.path, i));
      }
    }
  }

  static TargetConfig ToTargetConfig(const TargetSpec& spec) {
    TargetConfig out;
    out.name = spec.name.value.value_or("");
    out.where = spec.where;
    ConnectSettings& s = out.settings;
    s.host = spec.host.value;
    s.port = spec.port.value;
    s.socket = spec.socket.value;
    s.user = spec.user.value;
    s.database = spec.database.value;
    s.tls_mode = spec.tls.mode.value;
    s.tls_ca = spec.tls.ca.value;
    s.tls_capath = spec.tls.capath.value;
    s.tls_cert = spec.tls.cert.value;
    s.tls_key = spec.tls.key.value;
    s.tls_cipher = spec.tls.cipher.value;
    s.connect_timeout = spec.connect_timeout.value;
    s.read_timeout = spec.read_timeout.value;
    s.write_timeout = spec.write_timeout.value;
    out.connect.target_name = out.name;
    s.ApplyTo(out.connect);

    if (spec.password_env.value) {
      out.password_kind = PasswordSourceKind::kEnv;
      out.password_env = *spec.password_env.value;
    } else if (spec.password_file.value) {
      out.password_kind = PasswordSourceKind::kFile;
      out.password_file = *spec.password_file.value;
    }
    out.defaults_file = spec.defaults_file.value.value_or("");
    out.tags = spec.tags;
    out.replica_of = spec.replica_of.value.value_or("");
    for (const auto& replica : spec.replicas) out.replicas.push_back(replica.name);
    out.protected_users = spec.protected_users.value.value_or(std::vector<std::string>{});
    if (spec.cloud.present &&
        (spec.cloud.instance_identifier.value || spec.cloud.cluster_identifier.value)) {
      CloudIdentity cloud;
      cloud.provider = spec.cloud.provider.value.value_or("aws");
      cloud.region = spec.cloud.region.value.value_or("");
      cloud.instance_identifier = spec.cloud.instance_identifier.value.value_or("");
      cloud.cluster_identifier = spec.cloud.cluster_identifier.value.value_or("");
      cloud.endpoint_url = spec.cloud.endpoint_url.value.value_or("");
      cloud.profile = spec.cloud.profile.value.value_or("");
      out.cloud = std::move(cloud);
    }
    out.thresholds = ToThresholds(spec.thresholds);
    return out;
  }

  std::string base_dir_;
  const ConfigSchema& schema_;
};

bool IsRegularFile(const std::string& path) {
  std::error_code ec;
  return fs::is_regular_file(path, ec);
}

}  // namespace

const TargetConfig* Config::Find(std::string_view name) const {
  for (const auto& target : targets) {
    if (target.name == name) return &target;
  }
  return nullptr;
}

Thresholds Config::ThresholdsFor(const TargetConfig& target) const {
  Thresholds out = assess.thresholds;
  for (const auto& [check, own] : target.thresholds) {
    auto [it, inserted] = out.emplace(check, own);
    if (inserted) continue;
    if (own.warn) it->second.warn = own.warn;
    if (own.critical) it->second.critical = own.critical;
    it->second.where = own.where;
  }
  return out;
}

std::vector<std::string> Config::ProtectedUsersFor(const TargetConfig& target) const {
  std::vector<std::string> out = protected_users;
  for (const auto& user : target.protected_users) {
    if (std::find(out.begin(), out.end(), user) == out.end()) out.push_back(user);
  }
  return out;
}

ConfigResult ParseConfig(std::string_view yaml_text, const std::string& display_path,
                         const core::Environment& env, const ConfigSchema& schema) {
  auto root = ParseYamlDocument(yaml_text, display_path);
  if (!root) return tl::unexpected(std::vector<Diagnostic>{root.error()});
  std::vector<Diagnostic> override_errors;
  ApplyEnvironmentOverrides(*root, env, override_errors);
  Validator validator(fs::path(display_path).parent_path().string(), std::move(override_errors),
                      schema);
  return validator.Build(*root, display_path);
}

ConfigResult LoadConfig(const std::string& path, const core::Environment& env,
                        const ConfigSchema& schema) {
  auto text =
      ReadYamlFile(path, "configuration", kMaxConfigBytes, "pass --config or set DBRUNBOOK_CONFIG");
  if (!text) return tl::unexpected(std::vector<Diagnostic>{text.error()});
  return ParseConfig(*text, path, env, schema);
}

core::Result<std::string> FindConfigFile(const std::optional<std::string>& cli_path,
                                         const core::Environment& env,
                                         const std::string& working_dir) {
  if (cli_path) {
    if (IsRegularFile(*cli_path)) return *cli_path;
    return core::MakeError(
        core::ErrorCode::kNotFound,
        fmt::format("configuration file {} (from --config) does not exist", *cli_path),
        "check the path given to --config");
  }
  if (auto from_env = env.Get("DBRUNBOOK_CONFIG"); from_env && !from_env->empty()) {
    if (IsRegularFile(*from_env)) return *from_env;
    return core::MakeError(core::ErrorCode::kNotFound,
                           fmt::format("configuration file {} (from DBRUNBOOK_CONFIG) does not "
                                       "exist",
                                       *from_env),
                           "fix DBRUNBOOK_CONFIG or unset it");
  }
  std::vector<std::string> tried = {(fs::path(working_dir) / "dbrunbook.yaml").string()};
  if (auto xdg = env.Get("XDG_CONFIG_HOME"); xdg && !xdg->empty()) {
    tried.push_back((fs::path(*xdg) / "dbrunbook" / "dbrunbook.yaml").string());
  } else if (auto home = env.Get("HOME"); home && !home->empty()) {
    tried.push_back((fs::path(*home) / ".config" / "dbrunbook" / "dbrunbook.yaml").string());
  }
  for (const auto& candidate : tried) {
    if (IsRegularFile(candidate)) return candidate;
  }
  return core::MakeError(
      core::ErrorCode::kNotFound,
      fmt::format("no configuration file found (tried {})", fmt::join(tried, ", ")),
      "create dbrunbook.yaml, pass --config FILE or set DBRUNBOOK_CONFIG");
}

}  // namespace dbrunbook::config
