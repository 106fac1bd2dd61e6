// The commands behind the CLI. Each takes parsed options, does its work through `Env`, writes
// to env.out/env.err and returns the process exit status documented in the README.
#pragma once

#include <chrono>
#include <istream>
#include <optional>
#include <string>
#include <vector>

#include "app/env.h"
#include "cloud/scale_plan.h"
#include "config/config.h"
#include "core/clock.h"
#include "report/render.h"
#include "steps/mitigate_failover.h"
#include "steps/mitigate_index.h"
#include "steps/mitigate_kill.h"

namespace dbrunbook::app {

enum class ColorMode { kAuto, kAlways, kNever };

struct GlobalOptions {
  std::optional<std::string> config_path;  // --config
  ColorMode color = ColorMode::kAuto;      // --color
  // --log-level; when not given, the configuration's log.level applies.
  std::optional<spdlog::level::level_enum> log_level;
};

// Exit statuses shared by the commands.
inline constexpr int kExitOk = 0;
inline constexpr int kExitUsage = 2;         // check, config check: bad usage
inline constexpr int kExitCannotAssess = 3;  // assess: no assessment possible (or bad usage)

struct CheckCommandOptions {
  std::vector<std::string> targets;  // names from the configuration; empty = all
  std::vector<std::string> dsns;     // ad-hoc --dsn URLs
  config::DsnCredentials credentials;
  report::Format format = report::Format::kTable;
  int round_trips = 5;
};
// 0 when every target is reachable, 1 otherwise, 2 for usage and configuration errors.
int RunCheck(Env& env, const GlobalOptions& global, const CheckCommandOptions& options);

// How a single-target command names its target: a configured TARGET, or an ad-hoc --dsn (or
// --defaults-file holding the whole connection) with its credential flags.
struct TargetSelection {
  std::string target;
  std::string dsn;
  config::DsnCredentials credentials;
};

struct AssessCommandOptions {
  TargetSelection selection;
  report::Format format = report::Format::kTable;
  std::optional<core::Duration> interval;  // --interval, overrides assess.interval
};
// 0 ok, 1 warn, 2 critical, 3 could not assess (including usage and configuration errors).
int RunAssess(Env& env, const GlobalOptions& global, const AssessCommandOptions& options);

struct InvestigateCommandOptions {
  TargetSelection selection;
  report::Format format = report::Format::kTable;
  std::vector<std::string> only;        // --only groups; empty = all
  std::optional<core::Duration> since;  // --since: statement digest interval (0 skips it)
  // --enable-slow-log[=SECONDS] / --restore-slow-log: run that action instead of the
  // investigation (app/slow_log_action.h); only its plan unless --apply.
  std::optional<double> enable_slow_log;
  bool restore_slow_log = false;
  bool apply = false;
};
// 0 no finding above info, 1 warnings, 2 critical, 3 could not investigate (including usage
// and configuration errors). With --enable-slow-log / --restore-slow-log: 0 done (or plan
// shown), 1 refused (nothing changed), 2 the server refused a statement, 3 as above.
int RunInvestigate(Env& env, const GlobalOptions& global, const InvestigateCommandOptions& options);

struct ConfigCheckOptions {
  std::optional<std::string> file;     // positional FILE; else --config / the search path
  bool offline = false;                // do not resolve passwords and option files
  std::optional<std::string> runbook;  // --runbook FILE; else the built-in runbook is checked
};
// Validates the configuration and the runbook file. 0 both valid, 1 either invalid, 2 usage
// (no configuration file found, the --runbook file does not exist).
int RunConfigCheck(Env& env, const GlobalOptions& global, const ConfigCheckOptions& options);

struct RunbookShowOptions {
  std::optional<std::string> runbook;  // --runbook FILE; else the built-in runbook
};
// `runbook show`: the effective runbook in readable form (triggers, phases, mitigation
// policies, escalation chain, contacts, prevention). 0 shown, 1 the file is invalid (its
// diagnostics on stderr).
int RunRunbookShow(Env& env, const RunbookShowOptions& options);
// `runbook print-default`: the built-in runbook's YAML, comments included, to copy and edit.
int RunRunbookPrintDefault(Env& env);

struct FingerprintCommandOptions {
  std::vector<std::string> files;    // FILE...; empty or "-" = standard input
  std::optional<std::string> query;  // --query: fingerprint this text instead of reading files
  bool multi = false;     // --multi: pt-fingerprint's records (";\n"-terminated), not lines
  bool query_id = false;  // --query-id: print "ID fingerprint"
  bool match_md5_checksums = false;
  bool match_embedded_numbers = false;
  bool abstract = false;  // --abstract: dbrunbook's abstract fingerprint, not pt's
};
// Prints one fingerprint per statement (pt-query-digest 3.5.7's, app/fingerprint_command.cc).
// 0 every input was read, 1 an input could not be read (the others are still processed).
int RunFingerprint(Env& env, const FingerprintCommandOptions& options, std::istream& in);

struct DigestCommandOptions {
  std::vector<std::string> files;  // FILE...; "-" or none = standard input
  // A live digest instead: a TARGET (--target) or --dsn, over performance_schema's statement
  // digests during `interval` (default 10 s).
  TargetSelection selection;
  std::optional<core::Duration> interval;
  std::string format = "report";  // report (pt-query-digest's text), json, pt-json
  std::string group_by = "fingerprint";
  std::string order_by = "Query_time:sum";
  std::string limit = "95%:20";      // pt's default
  std::vector<std::string> filters;  // --filter, all must hold (digest/filter.h)
  std::optional<std::string> since;
  std::optional<std::string> until;
  std::optional<std::string> report_format;  // pt's --report-format sections
  unsigned threads = 0;                      // 0: one per core
  bool progress = false;                     // draw the progress bar on stderr
  bool vertical = true;                      // pt's --[no]vertical-format
  bool preserve_embedded_numbers = false;    // pt's --preserve-embedded-numbers
  bool abstract_fingerprints = false;        // digest/fingerprint.h FingerprintOptions::abstract
};
// Digests slow logs (app/digest_command.cc), or a live server's statement digests. 0 report
// printed, 1 an input could not be read (nothing printed), 2 usage error.
// Live (--target / --dsn): 3 when the server cannot be reached or has no digest.
int RunDigest(Env& env, const GlobalOptions& global, const DigestCommandOptions& options);

struct CloudCommandOptions {
  std::string action;  // "status" or "metrics"
  std::string target;  // a configured target with a cloud: section
  report::Format format = report::Format::kTable;
  std::string endpoint_url;  // --aws-endpoint-url: instead of the configuration's endpoint_url
  std::chrono::seconds since = std::chrono::minutes(15);  // metrics: the window before now
  std::chrono::seconds period = std::chrono::seconds(300);
};
// What the cloud API says about TARGET (app/cloud_command.cc). status: 0 everything available,
// 1 the instance, cluster or a replica is in another state (modifying, rebooting, ...).
// metrics: 0 printed. Both: 2 usage or configuration error, 3 the cloud could not be asked.
int RunCloud(Env& env, const GlobalOptions& global, const CloudCommandOptions& options);

struct MitigateKillOptions {
  TargetSelection selection;
  // The criteria from the command line; the configuration's protected_users (global and the
  // target's) are added to criteria.protected_users.
  steps::KillCriteria criteria;
  bool apply = false;
  report::Format format = report::Format::kTable;
  std::optional<std::string> store_path;  // --store; else store::DefaultStorePath
};
// `dbrunbook mitigate kill-queries` (app/mitigate_command.cc): the plan, or with --apply the
// kills and their verification; every attempt in the audit store (which --apply requires).
// 0 nothing to do, plan shown, or every victim killed and verified; 1 some victim not killed
// or not verified; 2 usage or configuration error (the store cannot be opened, with --apply);
// 3 cannot connect or read the processlist.
int RunMitigateKillQueries(Env& env, const GlobalOptions& global,
                           const MitigateKillOptions& options);

struct MitigateTuneOptions {
  TargetSelection selection;
  core::Duration interval = std::chrono::seconds(10);  // --interval: between the status reads
  bool apply = false;                                  // --apply
  bool persist = false;           // --persist: SET PERSIST (MySQL 8.0+ self-managed only)
  std::vector<std::string> only;  // --only VAR,...: the items to apply (default: every one)
  bool revert = false;            // --revert [RUN_ID]
  std::string revert_run;         // empty: the newest run that changed something
  report::Format format = report::Format::kTable;
  std::optional<std::string> store_path;  // --store
  std::string aws_endpoint_url;           // --aws-endpoint-url
};
// `dbrunbook mitigate tune` (app/mitigate_tune_command.cc): configuration advice from the
// interval's counters, and with --apply the change of the applicable items (SET GLOBAL, or the
// DB parameter group for a target with a cloud: section), each verified and audited with its
// previous value; --revert sets a run's values back. 0 nothing to do, advice shown, or every
// change verified; 1 some change failed or not verified; 2 usage or configuration error (the
// store cannot be opened, with --apply or --revert); 3 cannot connect or read.
int RunMitigateTune(Env& env, const GlobalOptions& global, const MitigateTuneOptions& options);

struct MitigateScaleOptions {
  std::string target;  // a configured target with a cloud: section
  cloud::ScaleRequest request;
  bool apply = false;
  report::Format format = report::Format::kTable;
  std::optional<std::string> store_path;                    // --store; else store::DefaultStorePath
  std::string endpoint_url;                                 // --aws-endpoint-url
  core::Duration wait = std::chrono::minutes(20);           // --wait: verification bound
  core::Duration poll_interval = std::chrono::seconds(15);  // --poll-interval
};
// `dbrunbook mitigate scale-up` (app/mitigate_scale_command.cc): the plan, or with --apply the
// RDS call and its verification, audited. 0 plan shown, nothing to do, or done (scheduled, for
// --in-maintenance-window) and verified; 1 refused (the instance is busy), the call failed, or
// not verified within --wait; 2 usage or configuration error; 3 the cloud could not be asked.
int RunMitigateScaleUp(Env& env, const GlobalOptions& global, const MitigateScaleOptions& options);

struct MitigateIndexOptions {
  TargetSelection selection;
  std::vector<std::string> slow_logs;  // --slow-log: the top classes' worst samples
  std::optional<std::string> query;    // --query: one statement
  std::string db;                      // --db: its default database
  int limit = 5;                       // --limit: top classes by Query_time sum
  int64_t min_rows = steps::kDefaultMinRows;
  bool apply = false;
  bool allow_locking = false;  // without ALGORITHM=INPLACE, LOCK=NONE
  steps::ApplyLimits limits;   // --allow-replica, --allow-large, --max-table-size
  int max_indexes = 1;         // added per run at most
  bool measure = false;        // run each SELECT once before and after
  std::chrono::seconds measure_timeout = std::chrono::seconds(30);
  report::Format format = report::Format::kTable;
  std::optional<std::string> store_path;
};
// `dbrunbook mitigate index` (app/mitigate_index_command.cc): missing indexes of the top
// statements, derived from EXPLAIN; with --apply added online and verified. 0 nothing to do,
// plan shown, or every index added and verified; 1 an index refused by a guardrail, failed or
// not verified; 2 usage or configuration error (or no audit store with --apply); 3 cannot
// connect or read.
int RunMitigateIndex(Env& env, const GlobalOptions& global, const MitigateIndexOptions& options);
struct MitigateFailoverOptions {
  std::string target;  // a configured TARGET (the old primary)
  std::string to;      // --to REPLICA: which replica (a configured target; Aurora: or an instance)
  double max_lag_seconds = steps::kDefaultFailoverMaxLagSeconds;     // --max-lag
  core::Duration wait_timeout = steps::kDefaultFailoverWaitTimeout;  // --wait-timeout
  core::Duration verify_timeout = std::chrono::minutes(15);          // --verify-timeout (cloud)
  core::Duration hook_timeout = std::chrono::seconds(60);            // --hook-timeout
  bool apply = false;
  bool force = false;                              // lift the forceable pre-checks
  bool acknowledge = false;                        // fail over again within the block period
  std::optional<core::Duration> block_period;      // --block-period; else failover_block_period, 1h
  std::optional<std::string> hook;                 // --hook; else failover_hook
  std::optional<int64_t> backup_retention_period;  // RDS promotion; else the old primary's
  std::optional<std::string> preferred_backup_window;
  std::string aws_endpoint_url;  // --aws-endpoint-url
  report::Format format = report::Format::kTable;
  std::optional<std::string> store_path;  // --store
};
// `dbrunbook mitigate failover` (app/failover_command.cc): the plan and pre-checks, or with
// --apply the failover and its verification; one recovery per cluster at a time, none within
// the block period without --acknowledge; every step in the audit store (which --apply needs).
// 0 plan shown (pre-checks pass) or failed over and verified; 1 refused (nothing changed),
// rolled back, failed part-way, not verified, or the hook failed; 2 usage or configuration
// error; 3 the replica (or the cloud API) cannot be reached.
int RunMitigateFailover(Env& env, const GlobalOptions& global,
                        const MitigateFailoverOptions& options);

// --- The watch daemon (app/watch_command.cc) ---

// The API's default address: loopback only.
inline constexpr std::string_view kDefaultListen = "127.0.0.1:9473";

struct WatchOptions {
  std::optional<std::string> runbook_path;           // --runbook; else the built-in runbook
  std::string listen = std::string(kDefaultListen);  // --listen HOST:PORT, or "off"
  bool listen_given = false;  // --listen was on the command line (else watch.listen applies)
  std::optional<std::string> store_path;  // --store
  std::string log_format = "text";        // --log-format text|json
  // The API's bearer token: --api-token-file, else the variable --api-token-env names
  // (default DBRUNBOOK_API_TOKEN) when it is set; else no token (loopback only).
  std::optional<std::string> token_file;
  std::string token_env = "DBRUNBOOK_API_TOKEN";
  std::optional<core::Duration> interval;  // --interval; else assess.interval (1 s)
};
// `dbrunbook watch`: runs until SIGINT/SIGTERM. 0 stopped cleanly; 2 usage, configuration or
// runbook error, or another daemon holds the store; 3 the store or the API cannot be opened.
int RunWatch(Env& env, const GlobalOptions& global, const WatchOptions& options);

struct IncidentsOptions {
  bool open_only = false;  // --open
  int limit = 50;          // --limit
  std::optional<std::string> store_path;
  report::Format format = report::Format::kTable;
};
// `dbrunbook incidents`: the store's incidents, newest first. 0 listed; 2 usage; 3 the store
// cannot be read.
int RunIncidents(Env& env, const IncidentsOptions& options);

struct IncidentCommandOptions {
  std::string verb;  // show, approve, ack, note, resolve
  int64_t id = 0;
  std::string action;  // approve: the action
  std::string text;    // note: the text; resolve: the reason
  std::optional<std::string> store_path;
  report::Format format = report::Format::kTable;
  core::Duration wait = std::chrono::seconds(10);  // how long to wait for the daemon's answer
};
// `dbrunbook incident show|approve|ack|note|resolve ID ...`. show: 0 shown, 1 unknown incident.
// The others are carried out by the running watch daemon (queued in the store, answered
// within a second): 0 done, 1 refused by the daemon (unknown incident or action), 2 usage, 3
// no daemon is running on the store or the store cannot be read.
int RunIncidentCommand(Env& env, const IncidentCommandOptions& options);

// --- The incident report (app/report_command.cc) ---

struct ReportCommandOptions {
  int64_t id = 0;
  std::optional<std::string> store_path;    // --store
  std::optional<std::string> runbook_path;  // --runbook: whose deadlines; else the built-in
  std::string format = "markdown";          // markdown | html | json
  std::optional<std::string> output;        // -o FILE; else standard output
};
// `dbrunbook report ID`: 0 written; 1 no such incident in the store; 2 usage, the store does not
// exist or cannot be read, the runbook is invalid, or the output cannot be written.
// The configuration (--config, else the usual places; none is fine) gives the target's tags.
int RunReport(Env& env, const GlobalOptions& global, const ReportCommandOptions& options);

// --- Notifications (app/notify_command.cc) ---

struct NotifyOptions {
  std::string verb;                                // test, list, outbox, flush
  std::string channel;                             // test: the channel's name
  std::optional<std::string> store_path;           // outbox, flush: --store
  int limit = 20;                                  // outbox: failed and queued rows shown
  core::Duration wait = std::chrono::seconds(60);  // flush: --wait, at most this long
};
// `dbrunbook notify test CHANNEL`: one test message straight through the channel's sender (not
// the outbox; a PagerDuty test incident is resolved at once): 0 delivered, 1 not delivered,
// 2 configuration error or unknown channel. `notify list`: each channel and where it sends,
// secrets masked: 0, 2 configuration error. `notify outbox`: counts per channel and state, the
// failed and queued rows: 0 shown, 3 the store cannot be read. `notify flush`: delivers the
// queued rows (when no watch daemon holds the store): 0 all delivered, 1 some failed or still
// queued, 2 configuration error or a daemon runs, 3 the store cannot be opened.
int RunNotify(Env& env, const GlobalOptions& global, const NotifyOptions& options);

}  // namespace dbrunbook::app
