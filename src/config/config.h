// The configuration file, dbrunbook.yaml: which databases to watch and how to reach them.
//
// ---------------------------------------------------------------------------------------
// Schema
// ---------------------------------------------------------------------------------------
//
//   targets:                           # required; may be empty (commands then say
//                                      # "no targets configured")
//     - name: orders-primary           # required, unique, [A-Za-z0-9._-]+, at most 64 chars
//       host: 127.0.0.1                # TCP host name or address ...
//       socket: /run/mysqld/mysqld.sock  # ... or a Unix socket (wins over host/port)
//       port: 3306                     # 1-65535, default 3306
//       user: monitor
//       database: orders               # optional default schema
//       password_env: ORDERS_DB_PASSWORD   # the password is in this environment variable,
//       password_file: /etc/dbrunbook/orders.pw  # or in this file (one trailing newline is
//                                      # dropped; keep it chmod 600), - at most one of them
//       defaults_file: /etc/dbrunbook/orders.cnf # a MySQL option file, groups [client],
//                                      # [client-mariadb], [dbrunbook]: user, password, host,
//                                      # port, socket, database, ssl-*, connect-timeout.
//                                      # Combines with the keys here; these keys win.
//       tls:
//         mode: VERIFY_CA              # DISABLED, PREFERRED (default), REQUIRED, VERIFY_CA,
//                                      # VERIFY_IDENTITY (any case, '-' or '_')
//         ca: /etc/ssl/certs/rds-ca.pem    # CA bundle; VERIFY_* need ca or capath
//         capath: /etc/ssl/certs       # directory of CA certificates
//         cert: /etc/dbrunbook/client.pem  # client certificate and key, for X509 accounts
//         key: /etc/dbrunbook/client.key
//         cipher: ECDHE-RSA-AES256-GCM-SHA384
//       connect_timeout: 5s            # durations (500ms, 5s, 1m); a bare number is
//       read_timeout: 30s              # seconds; more than 0, at most a day;
//       write_timeout: 30s             # defaults 5s, 30s, 30s
//       tags: {service: orders, team: payments}   # free-form string -> string labels
//       replica_of: other-target       # this target replicates from another target
//       replicas: [orders-replica]     # targets that replicate from this one
//       cloud:                         # where the cloud API knows this database
//         provider: aws                # the only provider; the default
//         region: eu-west-1            # optional: else AWS_REGION, the profile's
//         db_instance_identifier: orders-db      # the RDS instance, and/or
//         db_cluster_identifier: orders-cluster  # its Aurora cluster
//         profile: prod                          # optional: ~/.aws profile
//         endpoint_url: https://rds.eu-west-1.amazonaws.com  # optional API endpoint
//       thresholds:                    # per-target overrides of assess.thresholds
//         threads_running: {warn: 40}
//       protected_users: [app_admin]   # `mitigate kill-queries` never kills their sessions
//                                      # (user names as the processlist shows them), in
//                                      # addition to the global list below
//     - name: orders-replica
//       dsn: mysql://monitor@10.0.0.12:3306/?ssl-mode=REQUIRED  # see dsn.h; replaces host,
//                                      # port, socket, user and database (an error with them)
//       password_env: ORDERS_DB_PASSWORD
//       replica_of: orders-primary
//
//   defaults:                          # any target key but name, dsn, replica_of, replicas;
//     user: monitor                    # applied to every target that does not set the key
//     tls: {mode: REQUIRED}
//
//   assess:
//     interval: 1s                     # how often targets are polled; 100ms to 60s
//     thresholds:                      # check name -> {warn: number, critical: number}
//       threads_running: {warn: 20, critical: 50}   # (at least one of the two)
//
//   investigate:                       # limits of `dbrunbook investigate` (defaults shown)
//     long_query: 60s                  # statements running this long are long runners
//     idle_transaction: 10s            # sessions idle this long in a transaction are reported
//     unused_index_min_uptime: 24h     # below this uptime no index is called unused
//     digest_interval: 10s             # between the two digest snapshots; 0s skips it
//     step_budget: 20s                 # longest one step may keep sending statements
//     top_tables: 20                   # largest tables shown
//     max_tables_for_details: 10000    # above this many tables, cheaper sources are used
//     digest_top: 10                   # statements shown from the digest
//
//   watch:                            # `dbrunbook watch` (defaults shown)
//     listen: 127.0.0.1:9473           # the API's HOST:PORT, or off (--listen wins)
//     slow_interval: 10s               # probe connection, history list length: 1s to 10m
//     poll_workers: 16                 # polls running at once: 1 to 1024
//     sample_every: 10s                # a target's samples stored this often (every poll
//                                      # while it has an open incident): 1s to 1h
//     samples_kept: 8640               # per target, the oldest go first: 10 to 10000000
//     alert_ttl: 4h15m                 # a firing alert not received again for this long
//                                      # ends (above Alertmanager's repeat_interval): 1m to 30d
//     alert_labels: [dbrunbook_target, instance, job]  # Alertmanager labels that name the
//                                      # target (by name, host:port or host)
//     app_logs:                        # application logs tailed for connectivity errors
//       - path: /var/log/app/orders.log   # relative: to this file's directory
//         target: orders-primary       # a configured target
//         patterns: ["Too many connections"]   # RE2; default: the MySQL/MariaDB client
//                                      # error texts (README, "Application log files")
//
//   notify:                           # notification channels (README, "Notifications")
//     delivery:                        # the outbox's retries (defaults shown)
//       max_attempts: 12               # 1 to 1000
//       max_age: 24h                   # a message older than this is not retried: 1m to 30 days
//       backoff_base: 2s               # full-jitter exponential backoff: base 1ms to 1h,
//       backoff_cap: 5m                # cap 1ms to 1d, cap >= base
//     channels:
//       - {name: dba-slack, type: slack, url_env: SLACK_WEBHOOK_URL}
//       - {name: pager, type: pagerduty, routing_key_env: PD_ROUTING_KEY}  # url: endpoint
//       - {name: ops-hook, type: webhook, url: https://hooks.example.com/db,
//          hmac_secret_env: HOOK_SECRET}          # or url_env
//       - {name: teams, type: teams, url_env: TEAMS_WORKFLOW_URL}
//       - {name: mail, type: email, smtp_url: smtp://mail.example.com:587,
//          from: dbrunbook@example.com, to: [dba@example.com], starttls: required,
//          username_env: SMTP_USER, password_env: SMTP_PASSWORD}
//       - {name: local, type: stdout}
//       - {name: archive, type: file, path: /var/log/dbrunbook/messages.jsonl}
//     # every channel: timeout (one attempt, 100ms to 5m, default 10s), ca_file (PEM)
//     # Names unique, [A-Za-z0-9._-]+. Slack and Teams URLs hold a secret: url_env only.
//
//   log:
//     level: info                      # trace, debug, info (default), warn, error, off
//
//   protected_users: [backup, repl]    # never killed on any target (mitigate kill-queries)
//
//   failover_hook: /usr/local/bin/repoint-app   # mitigate failover: run after a failover
//                                      # (sh -c), DBRUNBOOK_OLD_PRIMARY / DBRUNBOOK_NEW_PRIMARY
//                                      # (host:port) ... in its environment
//   failover_block_period: 1h          # no second failover of a cluster within this time
//                                      # unless --acknowledge (0s: no block; at most 30 days)
//
// How `defaults` combine with a target: a key the target sets wins. Mappings (tls, tags,
// cloud, thresholds and each threshold) merge key by key: a target's tls.mode replaces the
// default tls.mode but keeps the default tls.ca. Lists and plain values are replaced. Two
// groups go together: an address (host and socket are not taken from defaults by a target
// that sets host, socket or dsn; port not by one that sets socket or dsn; user and database
// not by one that sets dsn), and a password source (password_env and password_file are not
// taken by a target that sets either).
//
// A DSN's parameters count as the target's own keys: `ssl-mode` in the dsn and `tls.mode`
// in the same target is an error; defaults fill in what neither sets.
//
// Relative paths (password_file, defaults_file, tls.ca/capath/cert/key) written in the file
// are relative to the file's directory; in an environment override, to the working
// directory.
//
// Rules, each reported with file:line:column and key path, all at once (validation does not
// stop at the first error): unknown keys (with "did you mean"), duplicate keys, wrong types,
// dsn with host/port/socket/user/database, a target without dsn, host or socket (unless a
// defaults_file may give the host), password_env with password_file, VERIFY_CA or
// VERIFY_IDENTITY without ca or capath (unless a defaults_file may give them), replica_of
// or replicas naming an unknown target or the target itself, duplicate target names.
// Warnings: tls.ca or tls.capath with a mode that does not verify.
//
// ---------------------------------------------------------------------------------------
// Environment overrides
// ---------------------------------------------------------------------------------------
//
// A variable DBRUNBOOK_<PATH> whose name contains "__" overrides one value before
// validation. PATH is the key path, upper case, with "__" between levels; a target is
// addressed by its name in upper case with every character other than A-Z and 0-9 turned
// into '_'; keys of free-form mappings (thresholds, tags) are written upper case and stored
// lower case:
//
//   DBRUNBOOK_ASSESS__INTERVAL=2s
//   DBRUNBOOK_LOG__LEVEL=debug
//   DBRUNBOOK_TARGETS__ORDERS_PRIMARY__PORT=3307
//   DBRUNBOOK_TARGETS__ORDERS_PRIMARY__TLS__MODE=REQUIRED
//   DBRUNBOOK_ASSESS__THRESHOLDS__THREADS_RUNNING__WARN=20
//   DBRUNBOOK_DEFAULTS__CONNECT_TIMEOUT=10s
//
// The value is a plain string, checked like the same value in the file ("3307" is a valid
// port); a value starting with '[' or '{' is a YAML flow list or mapping
// (DBRUNBOOK_TARGETS__ORDERS_PRIMARY__REPLICAS=[orders-replica]). Diagnostics about an
// override say "environment DBRUNBOOK_..." instead of file:line. An override naming an
// unknown target or key is an error. Variables without "__" (DBRUNBOOK_CONFIG, which picks
// the file, and any other DBRUNBOOK_NAME used by the program or its tests) are never
// overrides and are ignored here.
//
// Thread-safety: free functions without shared state; a Config is a plain value.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <tl/expected.hpp>
#include <vector>

#include "config/connect_settings.h"
#include "config/diagnostic.h"
#include "core/clock.h"
#include "core/environment.h"
#include "core/error.h"
#include "mysql/connect_options.h"

namespace dbrunbook::config {

// One check's thresholds. The config module does not know the check names: callers
// validate them and report unknown ones at `where` (the position of the name).
struct Threshold {
  std::optional<double> warn;
  std::optional<double> critical;
  SourceLocation where;
};
using Thresholds = std::map<std::string, Threshold>;  // by check name

struct CloudIdentity {
  std::string provider = "aws";
  std::string region;               // empty: resolved as the AWS tools do (AWS_REGION ...)
  std::string instance_identifier;  // db_instance_identifier: the RDS instance
  std::string cluster_identifier;   // db_cluster_identifier: its Aurora cluster (one or both)
  std::string endpoint_url;         // empty: the service's regional endpoint
  std::string profile;              // empty: AWS_PROFILE, else "default"
};

enum class PasswordSourceKind { kNone, kEnv, kFile };

struct TargetConfig {
  std::string name;
  SourceLocation where;  // where the target's entry starts

  // What the configuration says about the connection, over the built-in defaults
  // (target_name = name); never a password. For display; to connect, use
  // ResolveConnectOptions, which also reads the defaults_file and the password.
  mysql::ConnectOptions connect;
  // The fields the configuration set explicitly (keys, dsn, defaults); they win over what
  // an option file says.
  ConnectSettings settings;

  PasswordSourceKind password_kind = PasswordSourceKind::kNone;
  std::string password_env;   // kEnv: the variable's name
  std::string password_file;  // kFile: the file's path
  std::string defaults_file;  // may be set with any password_kind

  std::map<std::string, std::string> tags;
  std::string replica_of;
  std::vector<std::string> replicas;
  // Users whose sessions mitigate kill-queries never touches, on this target (besides
  // Config::protected_users).
  std::vector<std::string> protected_users;
  std::optional<CloudIdentity> cloud;
  Thresholds thresholds;  // the target's own (with defaults'), not assess.thresholds
};

struct AssessSettings {
  core::Duration interval = std::chrono::seconds(1);
  Thresholds thresholds;
};

// The investigation's limits (steps::InvestigateOptions); unset keys keep the built-in
// defaults.
struct InvestigateSettings {
  std::optional<core::Duration> long_query;               // a long runner (default 60s)
  std::optional<core::Duration> idle_transaction;         // idle in transaction (default 10s)
  std::optional<core::Duration> unused_index_min_uptime;  // default 24h
  std::optional<core::Duration> digest_interval;          // default 10s; 0s skips the digest
  std::optional<core::Duration> step_budget;              // per step (default 20s)
  std::optional<int> top_tables;                          // default 20
  std::optional<int> max_tables_for_details;              // default 10000
  std::optional<int> digest_top;                          // default 10
  // Replication step: lag warning / critical (default 60s / 300s), an applier transaction
  // open this long is a likely cause of lag (default 10s).
  std::optional<core::Duration> replication_lag_warning;
  std::optional<core::Duration> replication_lag_critical;
  std::optional<core::Duration> applier_transaction;
  // Resources step: table.fragmented from this much free space (default 100 MiB) and this
  // share of the table (default 20 %); index.low_cardinality on tables of at least this many
  // rows (default 100000) with at most this many distinct values (default 20); at most this
  // many findings per code (default 30).
  std::optional<int64_t> fragmented_min_mib;
  std::optional<int> fragmented_min_percent;
  std::optional<int64_t> low_cardinality_min_rows;
  std::optional<int64_t> low_cardinality_max_distinct;
  std::optional<int> max_findings_per_code;
};

// One application log file the watch daemon tails for database connectivity errors.
struct AppLogSettings {
  std::string path;
  std::string target;
  std::vector<std::string> patterns;  // RE2; empty: the built-in client error texts
  SourceLocation where;
};

// `dbrunbook watch` (the daemon); unset keys keep the built-in defaults.
struct WatchSettings {
  std::optional<std::string> listen;            // HOST:PORT of the API, or "off"
  std::optional<core::Duration> slow_interval;  // slow signals (default 10s)
  std::optional<int> poll_workers;              // polls at once (default 16)
  std::optional<core::Duration> sample_every;   // stored samples (default 10s)
  std::optional<int> samples_kept;              // per target (default 8640)
  std::optional<core::Duration> alert_ttl;      // firing alerts not re-sent (default 4h15m)
  std::vector<std::string> alert_labels;        // Alertmanager labels naming the target
  std::vector<AppLogSettings> app_logs;
};

// One notification channel of `notify.channels` (notify/channels.h sends through it). Secrets
// are never here: only the names of the environment variables that hold them
// (notify::ResolveChannels reads them).
struct NotifyChannelConfig {
  std::string name;
  std::string type;             // slack, pagerduty, teams, webhook, email, stdout, file
  std::string url;              // webhook, pagerduty (the Events API endpoint; default PagerDuty's)
  std::string url_env;          // slack, teams, webhook: the variable holding the URL
  std::string routing_key_env;  // pagerduty
  std::string hmac_secret_env;  // webhook, teams: sign the body (X-Dbrunbook-Signature)
  std::string smtp_url;         // email: smtp://host[:port] (STARTTLS) or smtps://host[:port]
  std::string starttls = "required";  // email over smtp://: required | opportunistic
  std::string from;                   // email
  std::vector<std::string> to;        // email
  std::string username_env;           // email: SMTP AUTH
  std::string password_env;           // email: SMTP AUTH
  std::string path;                   // file: one JSON line per message
  std::string ca_file;                // PEM CA bundle instead of the system store (https, smtps)
  std::optional<core::Duration> timeout;  // one delivery attempt (default 10s)
  SourceLocation where;
};

// How the outbox retries (notify/dispatcher.h); unset keys keep the defaults.
struct NotifyDeliverySettings {
  std::optional<int> max_attempts;             // default 12
  std::optional<core::Duration> max_age;       // default 24h
  std::optional<core::Duration> backoff_base;  // default 2s
  std::optional<core::Duration> backoff_cap;   // default 5m
};

struct NotifySettings {
  std::vector<NotifyChannelConfig> channels;
  NotifyDeliverySettings delivery;

  // nullptr when no channel has that name.
  const NotifyChannelConfig* Find(std::string_view name) const;
};

struct Config {
  std::string path;  // the file it was read from (the display path for ParseConfig)
  std::vector<TargetConfig> targets;
  AssessSettings assess;
  InvestigateSettings investigate;
  WatchSettings watch;
  NotifySettings notify;
  std::string log_level = "info";
  // Users never killed on any target (top-level protected_users).
  std::vector<std::string> protected_users;
  // mitigate failover: the command run after a failover (top-level failover_hook, run by
  // /bin/sh -c with DBRUNBOOK_OLD_PRIMARY / DBRUNBOOK_NEW_PRIMARY ...), and how long after a
  // failover of a cluster another one is refused without --acknowledge (default 1h).
  std::string failover_hook;
  std::optional<core::Duration> failover_block_period;
  std::vector<Diagnostic> warnings;

  // nullptr when no target has that name.
  const TargetConfig* Find(std::string_view name) const;
  // The thresholds that apply to `target`: assess.thresholds, overridden value by value
  // (warn, critical) by the target's own.
  Thresholds ThresholdsFor(const TargetConfig& target) const;
  // The global protected_users and the target's, without repeats.
  std::vector<std::string> ProtectedUsersFor(const TargetConfig& target) const;
};

// All diagnostics (errors first in reading order, then warnings) when any error was found.
using ConfigResult = tl::expected<Config, std::vector<Diagnostic>>;

// What the rest of the program knows that the config module does not: the names of the
// assessment checks thresholds may name. Empty lists are not checked.
struct ConfigSchema {
  std::vector<std::string> check_names;
};

// Reads, overrides (from `env`) and validates the file at `path`, in one pass that reports
// every problem. An unreadable file is one error diagnostic.
ConfigResult LoadConfig(const std::string& path, const core::Environment& env,
                        const ConfigSchema& schema = {});

// Same for text in memory; `display_path` names it in diagnostics and anchors relative
// paths.
ConfigResult ParseConfig(std::string_view yaml_text, const std::string& display_path,
                         const core::Environment& env, const ConfigSchema& schema = {});

// Which configuration file to read: `cli_path` (--config) if given, which must exist; else
// $DBRUNBOOK_CONFIG if set, which must exist; else the first that exists of
// <working_dir>/dbrunbook.yaml and $XDG_CONFIG_HOME/dbrunbook/dbrunbook.yaml (or
// $HOME/.config/dbrunbook/dbrunbook.yaml without XDG_CONFIG_HOME). kNotFound, listing every
// path tried, when none exists.
core::Result<std::string> FindConfigFile(const std::optional<std::string>& cli_path,
                                         const core::Environment& env,
                                         const std::string& working_dir = ".");

// Completes the connection options of `target` for connecting, in this order: built-in
// defaults; the option file (defaults_file, or else $HOME/.my.cnf when the target has no
// password source and that file exists); the configuration's explicit settings; the
// password from password_env or password_file (one trailing newline stripped). Sets
// `password_source` ("password_env ORDERS_DB_PASSWORD", "password_file /path",
// "defaults_file /path", "option file /home/u/.my.cnf") for later hints.
//
// Errors name the target and the source and say what to do, e.g. "target 'orders-primary':
// environment variable ORDERS_DB_PASSWORD is not set — export it or change password_env";
// an unset or empty variable, a missing, unreadable or empty password file, an unreadable
// or invalid option file (file:line), or VERIFY_CA/VERIFY_IDENTITY without a CA once
// everything is combined. No message ever contains the password.
//
// Warnings (a password file or an option file holding the password that is readable by
// group or others) are appended to `warnings` when it is not null.
core::Result<mysql::ConnectOptions> ResolveConnectOptions(
    const TargetConfig& target, const core::Environment& env,
    std::vector<Diagnostic>* warnings = nullptr);

// Credentials given next to an ad-hoc --dsn on the command line.
struct DsnCredentials {
  std::string password_env;   // --password-env
  std::string password_file;  // --password-file
  std::string defaults_file;  // --defaults-file
};

// Connection options for `dsn` (see dsn.h) with `credentials`, resolved like a target
// named after the DSN (FormatDsn). An empty `dsn` takes the whole connection from
// credentials.defaults_file (as `mysql --defaults-file=F` does). Errors are kInvalidArgument
// for a bad DSN, both password flags, or neither a DSN nor a defaults file; else as
// ResolveConnectOptions.
core::Result<mysql::ConnectOptions> ConnectOptionsFromDsn(
    std::string_view dsn, const DsnCredentials& credentials, const core::Environment& env,
    std::vector<Diagnostic>* warnings = nullptr);

}  // namespace dbrunbook::config
