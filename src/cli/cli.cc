#include "cli/cli.h"

#include <sys/ioctl.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdlib>
#include <iostream>
#include <string>
#include <tuple>

#include "app/commands.h"
#include "cli/notify_cli.h"
#include "cli/report_cli.h"
#include "cli/watch_cli.h"
#include "core/duration.h"
#include "core/strings.h"
#include "mysql/connector_session.h"
#include "steps/investigate.h"

namespace dbrunbook::cli {
namespace {

constexpr std::string_view kVersion = "0.1.0";

int TerminalWidth() {
  winsize ws{};
  if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) return ws.ws_col;
  return 0;
}

void AddCredentialFlags(CLI::App& cmd, config::DsnCredentials& credentials) {
  cmd.add_option("--password-env", credentials.password_env,
                 "with --dsn: environment variable holding the password");
  cmd.add_option("--password-file", credentials.password_file,
                 "with --dsn: file holding the password (chmod 600)");
  cmd.add_option("--defaults-file", credentials.defaults_file,
                 "MySQL option file ([client] group): user, password, ssl-* for --dsn; alone, "
                 "the whole connection (host/port/socket too)");
}

}  // namespace

int Main(int argc, char** argv) {
  CLI::App cli{
      "dbrunbook — the database performance runbook, executable.\n"
      "Connectivity test, initial assessment and (later) investigation and mitigation for\n"
      "MySQL, MariaDB, Amazon RDS and Aurora.",
      "dbrunbook"};
  cli.require_subcommand(1);
  cli.fallthrough();  // --config and --color are accepted before or after the subcommand
  cli.set_version_flag("--version", std::string(kVersion));

  app::GlobalOptions global;
  std::string config_path;
  cli.add_option("--config", config_path,
                 "configuration file (default: $DBRUNBOOK_CONFIG, ./dbrunbook.yaml, "
                 "~/.config/dbrunbook/dbrunbook.yaml)");
  std::string color = "auto";
  cli.add_option("--color", color, "colour the table output: auto (default), always, never")
      ->check(CLI::IsMember({"auto", "always", "never"}));

  std::string log_level;
  cli.add_option("--log-level", log_level,
                 "trace, debug (every statement sent, with its duration), info, warn, error, off "
                 "(default: log.level from the configuration, else info)")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "off"}));

  std::string format = "table";
  auto format_check = CLI::IsMember({"table", "json", "markdown", "md"});

  // watch, incidents, incident (cli/watch_cli.cc)
  WatchCommands watch_commands(cli);
  // report (cli/report_cli.cc)
  ReportCommand report_command(cli);
  // notify test|list|outbox|flush (cli/notify_cli.cc)
  NotifyCommands notify_commands(cli);

  // check
  app::CheckCommandOptions check;
  CLI::App* check_cmd = cli.add_subcommand(
      "check",
      "the runbook's connectivity test: reach each target, time connect and round trip, "
      "detect the flavor.\nExit status: 0 all reachable, 1 otherwise, 2 usage error.");
  check_cmd->add_option("targets", check.targets,
                        "target names from the configuration (default: all)");
  check_cmd->add_option("--dsn", check.dsns,
                        "ad-hoc target, e.g. mysql://monitor@10.0.0.5:3306/?ssl-mode=REQUIRED "
                        "(repeatable; never put a password in it)");
  AddCredentialFlags(*check_cmd, check.credentials);
  check_cmd->add_option("--format", format, "table (default), json or markdown")
      ->check(format_check);
  check_cmd
      ->add_option("--round-trips", check.round_trips, "SELECT 1 round trips to time (default 5)")
      ->check(CLI::Range(1, 1000));

  // assess
  app::AssessCommandOptions assess;
  std::string interval;
  CLI::App* assess_cmd = cli.add_subcommand(
      "assess",
      "the runbook's initial assessment (minutes 0-5): is the database healthy right now?\n"
      "Exit status: 0 ok, 1 warn, 2 critical, 3 could not assess (or usage error).");
  assess_cmd->add_option("target", assess.selection.target, "target name from the configuration");
  assess_cmd->add_option("--dsn", assess.selection.dsn,
                         "ad-hoc target instead of a configured one");
  AddCredentialFlags(*assess_cmd, assess.selection.credentials);
  assess_cmd->add_option("--format", format, "table (default), json or markdown")
      ->check(format_check);
  assess_cmd->add_option("--interval", interval,
                         "time between the two status samples rates are computed from "
                         "(default: assess.interval, 1s)");

  // investigate
  app::InvestigateCommandOptions investigate;
  std::string only;
  std::string since;
  CLI::App* investigate_cmd = cli.add_subcommand(
      "investigate",
      "the runbook's investigation (minutes 5-15): findings with evidence and next steps —\n"
      "long queries, idle transactions, lock trees, metadata-lock pile-ups, resources,\n"
      "replication, statement digest. Reads only; suggestions are never executed.\n"
      "Exit status: 0 nothing above info, 1 warnings, 2 critical, 3 could not investigate.\n"
      "--enable-slow-log / --restore-slow-log run alone instead: 0 done (or plan shown),\n"
      "1 refused (nothing changed), 2 the server refused a statement, 3 as above.");
  investigate_cmd->add_option("target", investigate.selection.target,
                              "target name from the configuration");
  investigate_cmd->add_option("--dsn", investigate.selection.dsn,
                              "ad-hoc target instead of a configured one");
  AddCredentialFlags(*investigate_cmd, investigate.selection.credentials);
  investigate_cmd->add_option("--format", format, "table (default), json or markdown")
      ->check(format_check);
  investigate_cmd->add_option("--only", only,
                              "comma-separated groups to run: " +
                                  fmt::format("{}", fmt::join(steps::InvestigationGroups(), ",")));
  investigate_cmd->add_option("--since", since,
                              "statement digest interval between its two snapshots (default "
                              "10s; 0 skips the digest)");
  std::string enable_slow_log;
  CLI::Option* enable_slow_log_flag = investigate_cmd->add_flag(
      "--enable-slow-log{2}", enable_slow_log,
      "instead of investigating: turn the slow query log on with long_query_time SECONDS "
      "(--enable-slow-log=SECONDS, default 2); shows the plan unless --apply, which first "
      "records the previous values");
  investigate_cmd->add_flag("--restore-slow-log", investigate.restore_slow_log,
                            "instead of investigating: put back the slow log settings "
                            "--enable-slow-log --apply recorded; the plan unless --apply");
  investigate_cmd->add_flag("--apply", investigate.apply,
                            "run --enable-slow-log / --restore-slow-log (needs SUPER, or "
                            "SYSTEM_VARIABLES_ADMIN on MySQL 8.0+)");

  for (CLI::App* sub : {check_cmd, assess_cmd, investigate_cmd}) {
    sub->footer("Global options (--config, --color, --log-level) may also follow the subcommand.");
  }

  // config check
  app::ConfigCheckOptions config_check;
  CLI::App* config_cmd = cli.add_subcommand("config", "configuration tools");
  config_cmd->require_subcommand(1);
  CLI::App* config_check_cmd = config_cmd->add_subcommand(
      "check",
      "validate a configuration file: every error with file:line, unknown keys with 'did you "
      "mean', and the credentials of every target (unless --offline).\n"
      "The runbook file (--runbook FILE, else the built-in runbook) is validated the same way.\n"
      "Exit status: 0 valid, 1 invalid, 2 no file found.");
  std::string config_file;
  config_check_cmd->add_option("file", config_file, "the file (default: as --config)");
  config_check_cmd->add_flag("--offline", config_check.offline,
                             "do not read password environment variables, password files or "
                             "option files");
  std::string config_check_runbook;
  config_check_cmd->add_option("--runbook", config_check_runbook,
                               "the runbook file to validate too (default: the built-in runbook)");

  // runbook show / print-default
  CLI::App* runbook_cmd = cli.add_subcommand("runbook", "runbook file tools");
  runbook_cmd->require_subcommand(1);
  app::RunbookShowOptions runbook_show;
  std::string runbook_show_file;
  CLI::App* runbook_show_cmd = runbook_cmd->add_subcommand(
      "show",
      "print the effective runbook: triggers, phase deadlines, mitigation policies, escalation\n"
      "chain, contacts and the prevention checklist.\n"
      "Exit status: 0 shown, 1 the runbook file is invalid (every error with file:line).");
  runbook_show_cmd->add_option("--runbook", runbook_show_file,
                               "the runbook file (default: the built-in runbook)");
  CLI::App* runbook_print_cmd = runbook_cmd->add_subcommand(
      "print-default",
      "write the built-in runbook (runbooks/database-performance.yaml) to standard output, to\n"
      "copy and edit: dbrunbook runbook print-default > runbook.yaml");

  app::FingerprintCommandOptions fingerprint;
  std::string fingerprint_query;
  CLI::App* fingerprint_cmd = cli.add_subcommand(
      "fingerprint",
      "print the fingerprint of each statement, as pt-query-digest 3.5.7 (and pt-fingerprint)\n"
      "compute it: literals become ?, comments go, whitespace collapses, lower case, IN()\n"
      "and VALUES() lists collapse. Reads FILEs (- or none: standard input), one statement\n"
      "per line, or pt-fingerprint's ';'-terminated records with --multi. --abstract prints\n"
      "dbrunbook's own fingerprint instead, with pt's quirks fixed (not pt-compatible).\n"
      "Exit status: 0 ok, 1 an input could not be read, 2 usage error.");
  fingerprint_cmd->add_option("files", fingerprint.files, "input files (default: standard input)");
  fingerprint_cmd->add_flag("--multi", fingerprint.multi,
                            "statements end with ';' at the end of a line and may span lines "
                            "(pt-fingerprint's input format; '#' comment lines are ignored)");
  fingerprint_cmd->add_option("--query", fingerprint_query,
                              "fingerprint this statement instead of reading input");
  fingerprint_cmd->add_flag("--query-id", fingerprint.query_id,
                            "print the query ID (pt-query-digest's, 32 hex digits) and a tab "
                            "before each fingerprint");
  fingerprint_cmd->add_flag("--match-md5-checksums", fingerprint.match_md5_checksums,
                            "also replace 32-digit hex MD5 strings in identifiers (as "
                            "pt-fingerprint --match-md5-checksums)");
  fingerprint_cmd->add_flag("--match-embedded-numbers", fingerprint.match_embedded_numbers,
                            "keep numbers inside identifiers (rt_5min, t1), as pt-fingerprint "
                            "--match-embedded-numbers / pt-query-digest "
                            "--preserve-embedded-numbers");
  fingerprint_cmd->add_flag("--abstract", fingerprint.abstract,
                            "dbrunbook's abstract fingerprint instead of pt's: one class per query "
                            "shape, pt's quirks fixed (0x1F, 1e5 and -5 are ?, identifiers keep "
                            "their numbers, spacing and backticks do not matter, LIMIT/IN/VALUES "
                            "forms are one class; README lists the rules). Its fingerprints and "
                            "query IDs do not join with Percona tooling");

  app::DigestCommandOptions digest;
  std::string digest_since;
  std::string digest_until;
  std::string digest_report_format;
  bool digest_no_progress = false;
  bool digest_no_vertical = false;
  CLI::App* digest_cmd = cli.add_subcommand(
      "digest",
      "pt-query-digest's report of slow query logs, on every core: classes of statements by\n"
      "fingerprint (or db, user, host, tables) ranked by total time, with pt's statistics.\n"
      "Reads FILEs (- or none: standard input; gzip is detected). Reads only.\n"
      "Exit status: 0 report printed, 1 an input could not be read, 2 usage error.");
  digest_cmd->add_option("files", digest.files, "slow log files (- for standard input)");
  std::string digest_interval;
  digest_cmd->add_option("--target", digest.selection.target,
                         "live digest instead of a slow log: this configured target's "
                         "performance_schema statement digests");
  digest_cmd->add_option("--dsn", digest.selection.dsn, "live digest of an ad-hoc target");
  AddCredentialFlags(*digest_cmd, digest.selection.credentials);
  digest_cmd->add_option("--interval", digest_interval,
                         "live digest: time between the two snapshots (default 10s)");
  digest_cmd->add_option("--format", digest.format,
                         "report (pt-query-digest's text, default), json (dbrunbook.digest v1) "
                         "or pt-json (pt-query-digest --output json)");
  digest_cmd->add_option("--group-by", digest.group_by,
                         "fingerprint (default), db, user, host or tables");
  digest_cmd->add_option("--order-by", digest.order_by,
                         "ATTRIBUTE:sum|max|min|cnt|avg to rank classes by (default "
                         "Query_time:sum)");
  digest_cmd->add_option("--limit", digest.limit,
                         "classes to report: N, P% (of the order-by total) or P%:N; 0 = all "
                         "(default 95%:20)");
  digest_cmd
      ->add_option("--filter", digest.filters,
                   "only events matching, e.g. 'db = app and Query_time > 1' "
                   "(repeatable: all must match; see README)")
      ->allow_extra_args(false);
  digest_cmd->add_option("--since", digest_since,
                         "only events at or after: YYYY-MM-DD[ HH:MM:SS], YYMMDD[ HH:MM:SS], a "
                         "Unix time, or N[smhd] ago");
  digest_cmd->add_option("--until", digest_until, "only events before (same forms as --since)");
  digest_cmd->add_option("--report-format", digest_report_format,
                         "text report sections: files,header,profile,query_report,prepared "
                         "(default all)");
  digest_cmd->add_option("--threads", digest.threads,
                         "threads reading a file (default 0: one per core)");
  digest_cmd->add_flag("--no-progress", digest_no_progress,
                       "no progress bar (it is drawn on stderr only when stderr is a terminal)");
  digest_cmd->add_flag("--no-vertical-format", digest_no_vertical,
                       "no \\G after the sample statements (pt's --no-vertical-format)");
  digest_cmd->add_flag("--preserve-embedded-numbers", digest.preserve_embedded_numbers,
                       "keep numbers inside identifiers in fingerprints (rt_5min, t1)");
  digest_cmd->add_flag("--abstract-fingerprints", digest.abstract_fingerprints,
                       "group by dbrunbook's abstract fingerprint, which fixes pt's quirks "
                       "(its query IDs do not join with Percona tooling; see README)");

  app::CloudCommandOptions cloud_options;
  std::string cloud_since = "15m";
  std::string cloud_period = "300";
  std::string cloud_format = "table";
  CLI::App* cloud_cmd = cli.add_subcommand(
      "cloud", "what the cloud API (AWS RDS and CloudWatch) says about a configured target");
  cloud_cmd->require_subcommand(1);
  CLI::App* cloud_status_cmd = cloud_cmd->add_subcommand(
      "status",
      "instance and cluster status, class, engine, Multi-AZ, replicas, pending changes, events");
  CLI::App* cloud_metrics_cmd = cloud_cmd->add_subcommand(
      "metrics", "CPU, freeable memory, connections, read/write IOPS and replica lag: min/avg/max");
  for (CLI::App* sub : {cloud_status_cmd, cloud_metrics_cmd}) {
    sub->add_option("target", cloud_options.target, "a configured target with a cloud: section")
        ->required();
    sub->add_option("--format", cloud_format, "table (default) or json")
        ->check(CLI::IsMember({"table", "json"}));
    sub->add_option("--aws-endpoint-url", cloud_options.endpoint_url,
                    "send the API calls here instead of the configured or standard endpoint");
  }
  cloud_metrics_cmd->add_option("--since", cloud_since,
                                "the window before now (default 15m; up to 24h)");
  cloud_metrics_cmd->add_option("--period", cloud_period,
                                "seconds per datapoint: 60 or a multiple of 60 (default 300)");

  // mitigate kill-queries
  app::MitigateKillOptions kill;
  std::string kill_busy;
  std::string kill_idle;
  std::string kill_victims = "oldest";
  std::string kill_format = "table";
  std::string kill_store;
  std::string kill_min_wait;
  CLI::App* mitigate_cmd = cli.add_subcommand(
      "mitigate", "the runbook's mitigation (minutes 15-30), guarded: a plan unless --apply");
  mitigate_cmd->require_subcommand(1);
  CLI::App* kill_cmd = mitigate_cmd->add_subcommand(
      "kill-queries",
      "kill long-running queries (default: the runbook's time > 300 AND command != 'Sleep'),\n"
      "never replication or system threads, the event scheduler, dbrunbook's own session or\n"
      "protected users; each victim is re-checked just before its kill, and verified after.\n"
      "Prints the plan unless --apply. Every attempt goes to the audit store.\n"
      "Exit status: 0 nothing to do, plan shown, or all killed and verified; 1 some victim\n"
      "not killed or not verified; 2 usage or configuration error; 3 cannot connect.");
  kill_cmd->add_option("target", kill.selection.target, "target name from the configuration");
  kill_cmd->add_option("--dsn", kill.selection.dsn, "ad-hoc target instead of a configured one");
  AddCredentialFlags(*kill_cmd, kill.selection.credentials);
  kill_cmd->add_option("--busy-time", kill_busy,
                       "statements (command not Sleep) running at least SECONDS (default 300 "
                       "unless --idle-time is given)");
  kill_cmd->add_option("--idle-time", kill_idle,
                       "sessions idle (Sleep) inside an open transaction at least SECONDS");
  kill_cmd->add_option("--match-user", kill.criteria.match_user, "RE2 pattern on the user");
  kill_cmd->add_option("--ignore-user", kill.criteria.ignore_user,
                       "RE2 pattern: spare matching users");
  kill_cmd->add_option("--match-host", kill.criteria.match_host, "RE2 pattern on the host");
  kill_cmd->add_option("--match-db", kill.criteria.match_db, "RE2 pattern on the schema");
  kill_cmd->add_option("--match-command", kill.criteria.match_command,
                       "RE2 pattern on the command (Query, Execute, ...)");
  kill_cmd->add_option("--match-state", kill.criteria.match_state, "RE2 pattern on the state");
  kill_cmd->add_option("--match-info", kill.criteria.match_info,
                       "RE2 pattern on the statement text");
  kill_cmd->add_flag("--root-blockers", kill.criteria.root_blockers,
                     "instead of the time criteria: the root blockers of row-lock waits (the "
                     "transaction every waiter in its tree is held up by); verified once its "
                     "lock waits are released");
  kill_cmd->add_option("--min-wait", kill_min_wait,
                       "--root-blockers: only trees with a wait of at least SECONDS (default 10)");
  kill_cmd->add_flag("--kill-query", kill.criteria.kill_query,
                     "stop the statement and keep the connection (KILL QUERY; MariaDB: KILL "
                     "QUERY ID, which cannot hit the connection's next statement)");
  kill_cmd
      ->add_option("--victims", kill_victims, "oldest (default: the longest-running match) or all")
      ->check(CLI::IsMember({"oldest", "all"}));
  kill_cmd
      ->add_option("--max-victims", kill.criteria.max_victims,
                   "at most N victims per run with --victims all (default 10)")
      ->check(CLI::Range(1, steps::kMaxVictimsLimit));
  kill_cmd->add_flag("--apply", kill.apply, "kill the victims (needs CONNECTION ADMIN or SUPER)");
  kill_cmd->add_option("--format", kill_format, "table (default) or json")
      ->check(CLI::IsMember({"table", "json"}));
  kill_cmd->add_option("--store", kill_store,
                       "the audit store (default $XDG_STATE_HOME/dbrunbook/dbrunbook.db, else "
                       "~/.local/state/dbrunbook/dbrunbook.db)");
  kill_cmd->footer(
      "Global options (--config, --color, --log-level) may also follow the subcommand.");

  // mitigate tune
  app::MitigateTuneOptions tune;
  std::string tune_interval;
  std::string tune_only;
  std::string tune_format = "table";
  std::string tune_store;
  std::optional<std::string> tune_revert;
  CLI::App* tune_cmd = mitigate_cmd->add_subcommand(
      "tune",
      "configuration advice from the server's counters over --interval (buffer pool, connections,\n"
      "temporary tables, table and thread caches, redo log, history list, log waits, query\n"
      "cache), each with its evidence; --apply sets the chosen dynamic variables (SET GLOBAL, or\n"
      "the DB parameter group of a target with a cloud: section), verifies and audits them with\n"
      "their previous values; --revert [RUN_ID] --apply sets a run's values back.\n"
      "Exit status: 0 nothing to do, advice shown, or every change verified; 1 some change\n"
      "failed or not verified; 2 usage or configuration error; 3 cannot connect or read.");
  tune_cmd->add_option("target", tune.selection.target, "target name from the configuration");
  tune_cmd->add_option("--dsn", tune.selection.dsn, "ad-hoc target instead of a configured one");
  AddCredentialFlags(*tune_cmd, tune.selection.credentials);
  tune_cmd->add_option("--interval", tune_interval,
                       "time between the two status reads (default 10s; e.g. 30s, 1m)");
  tune_cmd->add_option("--only", tune_only,
                       "apply only these variables (comma-separated), e.g. thread_cache_size");
  tune_cmd->add_flag("--apply", tune.apply,
                     "change the chosen items (needs SUPER, or SYSTEM_VARIABLES_ADMIN on MySQL "
                     "8.0+; rds:ModifyDBParameterGroup on RDS/Aurora)");
  tune_cmd->add_flag("--persist", tune.persist,
                     "with --apply: SET PERSIST instead of SET GLOBAL (MySQL 8.0+ only)");
  tune_cmd
      ->add_option("--revert", tune_revert,
                   "restore the values a run changed (default: the newest run); with --apply")
      ->expected(0, 1);
  tune_cmd->add_option("--format", tune_format, "table (default) or json")
      ->check(CLI::IsMember({"table", "json"}));
  tune_cmd->add_option("--store", tune_store, "the audit store (as for kill-queries)");
  tune_cmd->add_option("--aws-endpoint-url", tune.aws_endpoint_url,
                       "RDS/CloudWatch endpoint instead of the configuration's endpoint_url");
  tune_cmd->footer(
      "Global options (--config, --color, --log-level) may also follow the subcommand.");

  // mitigate scale-up
  app::MitigateScaleOptions scale;
  std::string scale_class;
  std::string scale_min;
  std::string scale_max;
  std::string scale_wait = "20m";
  std::string scale_poll = "15s";
  std::string scale_format = "table";
  std::string scale_store;
  CLI::App* scale_cmd = mitigate_cmd->add_subcommand(
      "scale-up",
      "scale the RDS instance up (next size of its class family, or --class) or raise an\n"
      "Aurora Serverless v2 cluster's capacity (MaxCapacity doubled, or --max-capacity /\n"
      "--min-capacity), through the RDS API. Prints the plan (current and new class, cost,\n"
      "downtime, now or in the maintenance window) unless --apply; then verifies.\n"
      "Exit status: 0 plan shown, nothing to do, or applied and verified; 1 refused, failed\n"
      "or not verified within --wait; 2 usage or configuration error; 3 cloud unreachable.");
  scale_cmd->add_option("target", scale.target, "target name (with a cloud: section)")->required();
  scale_cmd->add_option("--class", scale_class, "the instance class to scale to (db.r6g.2xlarge)");
  scale_cmd->add_option("--max-capacity", scale_max, "Serverless v2: the new MaxCapacity (ACU)");
  scale_cmd->add_option("--min-capacity", scale_min, "Serverless v2: the new MinCapacity (ACU)");
  scale_cmd->add_flag("--in-maintenance-window", scale.request.in_maintenance_window,
                      "let RDS apply the class change at the next maintenance window, not now");
  scale_cmd->add_option("--wait", scale_wait,
                        "how long to wait for RDS to finish before giving up verifying "
                        "(default 20m; 0 checks once)");
  scale_cmd->add_option("--poll-interval", scale_poll, "between status checks (default 15s)");
  scale_cmd->add_option("--aws-endpoint-url", scale.endpoint_url,
                        "send the RDS calls to this endpoint instead");
  scale_cmd->add_flag("--apply", scale.apply,
                      "make the change (IAM: rds:ModifyDBInstance or rds:ModifyDBCluster)");
  scale_cmd->add_option("--format", scale_format, "table (default) or json")
      ->check(CLI::IsMember({"table", "json"}));
  scale_cmd->add_option("--store", scale_store, "the audit store (as for kill-queries)");
  scale_cmd->footer(
      "Global options (--config, --color, --log-level) may also follow the subcommand.");

  // mitigate index
  app::MitigateIndexOptions index;
  std::string index_query;
  std::string index_format = "table";
  std::string index_store;
  int64_t index_max_mib = index.limits.max_table_bytes >> 20;
  int index_measure_timeout = static_cast<int>(index.measure_timeout.count());
  CLI::App* index_cmd = mitigate_cmd->add_subcommand(
      "index",
      "missing indexes of the top statements (a slow log's classes by total time, or --query):\n"
      "EXPLAIN FORMAT=JSON on the worst sample, a candidate index for each large table read by a\n"
      "full scan or sorted by a filesort (equality columns, one range column, ORDER BY columns).\n"
      "Prints the plan unless --apply: ALTER TABLE ... ADD INDEX ..., ALGORITHM=INPLACE, "
      "LOCK=NONE,\n"
      "progress on stderr, the plan verified after. Never on a replica, never drops anything.\n"
      "Exit status: 0 nothing to do, plan shown, or all added and verified; 1 an index refused,\n"
      "failed or not verified; 2 usage or configuration error; 3 cannot connect or read.");
  index_cmd->add_option("target", index.selection.target, "target name from the configuration");
  index_cmd->add_option("--dsn", index.selection.dsn, "ad-hoc target instead of a configured one");
  AddCredentialFlags(*index_cmd, index.selection.credentials);
  // One file per --slow-log, so that a TARGET after it is not taken for a second file.
  index_cmd
      ->add_option("--slow-log", index.slow_logs,
                   "a slow log file (gzip, or - for stdin; repeat for several): the top classes "
                   "by Query_time sum, each class's worst sample with its db")
      ->allow_extra_args(false);
  index_cmd->add_option("--query", index_query,
                        "one statement instead (SELECT, UPDATE, DELETE, INSERT ... SELECT)");
  index_cmd->add_option("--db", index.db,
                        "the default database of --query (and of samples logged without one)");
  index_cmd->add_option("--limit", index.limit, "top N classes of the slow log (default 5)")
      ->check(CLI::Range(1, 100));
  index_cmd
      ->add_option("--min-rows", index.min_rows,
                   "a scan or sort matters from this many rows examined (default 10000)")
      ->check(CLI::Range(int64_t{1}, int64_t{1} << 50));
  index_cmd->add_flag("--apply", index.apply,
                      "add the index (needs ALTER and INDEX on the table; PROCESS to show "
                      "progress)");
  index_cmd->add_flag("--allow-locking", index.allow_locking,
                      "when the server cannot add it online: send the ALTER without "
                      "ALGORITHM=INPLACE, LOCK=NONE (writes may wait while it runs)");
  index_cmd->add_flag("--allow-replica", index.limits.allow_replica,
                      "add it on a replica too (it then differs from its source)");
  index_cmd->add_flag("--allow-large", index.limits.allow_large,
                      "add it to a table above --max-table-size");
  index_cmd
      ->add_option("--max-table-size", index_max_mib,
                   "MiB of data and indexes above which a table needs --allow-large (default "
                   "4096)")
      ->check(CLI::Range(int64_t{1}, int64_t{1} << 30));
  index_cmd->add_option("--max-indexes", index.max_indexes, "indexes added per run (default 1)")
      ->check(CLI::Range(1, 20));
  index_cmd->add_flag("--measure", index.measure,
                      "run each SELECT once before and once after (its rows are discarded)");
  index_cmd
      ->add_option("--measure-timeout", index_measure_timeout,
                   "seconds a measured SELECT may run (default 30)")
      ->check(CLI::Range(1, 3600));
  index_cmd->add_option("--format", index_format, "table (default) or json")
      ->check(CLI::IsMember({"table", "json"}));
  index_cmd->add_option("--store", index_store,
                        "the audit store (default $XDG_STATE_HOME/dbrunbook/dbrunbook.db, else "
                        "~/.local/state/dbrunbook/dbrunbook.db)");
  index_cmd->footer(
      "Global options (--config, --color, --log-level) may also follow the subcommand.");

  // mitigate failover
  app::MitigateFailoverOptions failover;
  std::string fo_max_lag;
  std::string fo_wait_timeout;
  std::string fo_verify_timeout;
  std::string fo_hook_timeout;
  std::string fo_block_period;
  std::string fo_hook;
  std::string fo_format = "table";
  std::string fo_store;
  std::string fo_window;
  int64_t fo_retention = -1;
  CLI::App* failover_cmd = mitigate_cmd->add_subcommand(
      "failover",
      "fail TARGET (a primary) over to one of its replicas: pre-checks, fence the old primary\n"
      "(read_only), wait for the replica to apply everything, stop and reset its replication,\n"
      "make it writable, verify; RDS PromoteReadReplica / Aurora FailoverDBCluster for targets\n"
      "with a cloud: section. A plan unless --apply. One recovery per cluster at a time, none\n"
      "within the block period (1h) unless --acknowledge.\n"
      "Exit status: 0 plan shown, or failed over and verified; 1 refused, rolled back, failed\n"
      "or not verified, or the hook failed; 2 usage or configuration error; 3 the replica or\n"
      "the cloud API cannot be reached.");
  failover_cmd->add_option("target", failover.target, "the primary, a configured target")
      ->required();
  failover_cmd->add_option("--to", failover.to,
                           "the replica to promote (a configured target; Aurora: or an instance "
                           "id); needed when there are several");
  failover_cmd->add_option("--max-lag", fo_max_lag,
                           "refuse a replica further behind than this (seconds, default 10)");
  failover_cmd->add_option("--wait-timeout", fo_wait_timeout,
                           "how long to wait for the replica to apply what it received "
                           "(default 30s)");
  failover_cmd->add_option("--verify-timeout", fo_verify_timeout,
                           "cloud: how long to poll for the promoted instance / new writer "
                           "(default 15m)");
  failover_cmd->add_flag("--apply", failover.apply, "fail over (default: only the plan)");
  failover_cmd->add_flag("--force", failover.force,
                         "go on although the old primary is down (cannot be fenced), a replica "
                         "thread is stopped, the lag is above --max-lag or the relay log is not "
                         "applied");
  failover_cmd->add_flag("--acknowledge", failover.acknowledge,
                         "fail over again within the block period of the last failover");
  failover_cmd->add_option("--block-period", fo_block_period,
                           "no second failover of the cluster within this (default 1h, or "
                           "failover_block_period)");
  failover_cmd->add_option("--hook", fo_hook,
                           "command run (sh -c) after the failover, with DBRUNBOOK_OLD_PRIMARY "
                           "and DBRUNBOOK_NEW_PRIMARY (host:port) in its environment; default "
                           "failover_hook");
  failover_cmd->add_option("--hook-timeout", fo_hook_timeout, "kill the hook after (default 60s)");
  failover_cmd
      ->add_option("--backup-retention-period", fo_retention,
                   "RDS: the promoted instance's backup retention in days (default: "
                   "the old primary's)")
      ->check(CLI::Range(0, 35));
  failover_cmd->add_option("--preferred-backup-window", fo_window,
                           "RDS: the promoted instance's backup window, hh24:mi-hh24:mi UTC");
  failover_cmd->add_option("--aws-endpoint-url", failover.aws_endpoint_url,
                           "cloud API endpoint instead of the configuration's endpoint_url");
  failover_cmd->add_option("--format", fo_format, "table (default) or json")
      ->check(CLI::IsMember({"table", "json"}));
  failover_cmd->add_option("--store", fo_store,
                           "the audit store (default $XDG_STATE_HOME/dbrunbook/dbrunbook.db, "
                           "else ~/.local/state/dbrunbook/dbrunbook.db)");
  failover_cmd->footer(
      "Global options (--config, --color, --log-level) may also follow the subcommand.");

  try {
    cli.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = cli.exit(e);  // prints help/version (code 0) or the error
    if (code == 0) return 0;
    // assess follows the monitoring-plugin convention (3 = could not assess); every other
    // command uses 2.
    return assess_cmd->parsed() || investigate_cmd->parsed() ? app::kExitCannotAssess
                                                             : app::kExitUsage;
  }

  if (!config_path.empty()) global.config_path = config_path;
  global.color = color == "always"  ? app::ColorMode::kAlways
                 : color == "never" ? app::ColorMode::kNever
                                    : app::ColorMode::kAuto;
  const report::Format parsed_format = *report::ParseFormat(format);

  if (!log_level.empty()) global.log_level = core::ParseLogLevel(log_level);
  auto logger = core::MakeStderrLogger(global.log_level.value_or(spdlog::level::info));
  core::RealClock clock;
  mysql::ConnectorSessionFactory sessions(clock, logger);
  core::ProcessEnvironment environment;
  app::Env env{clock, sessions, environment, std::cout, std::cerr, *logger};
  env.out_is_terminal = isatty(STDOUT_FILENO) != 0;
  env.terminal_width = env.out_is_terminal ? TerminalWidth() : 0;

  if (auto status = watch_commands.RunIfParsed(env, global)) return *status;
  if (auto status = report_command.RunIfParsed(env, global)) return *status;
  if (auto status = notify_commands.RunIfParsed(env, global)) return *status;
  if (check_cmd->parsed()) {
    check.format = parsed_format;
    return app::RunCheck(env, global, check);
  }
  if (assess_cmd->parsed()) {
    assess.format = parsed_format;
    if (!interval.empty()) {
      auto parsed = core::ParseDuration(interval);
      if (!parsed || *parsed < std::chrono::milliseconds(100) ||
          *parsed > std::chrono::seconds(60)) {
        std::cerr << "dbrunbook assess: --interval must be a duration from 100ms to 60s (got '"
                  << interval << "')\n";
        return app::kExitCannotAssess;
      }
      assess.interval = *parsed;
    }
    return app::RunAssess(env, global, assess);
  }
  if (investigate_cmd->parsed()) {
    investigate.format = parsed_format;
    if (!only.empty()) {
      for (std::string_view group : core::Split(only, ',')) {
        group = core::Trim(group);
        if (!group.empty()) investigate.only.emplace_back(group);
      }
    }
    if (enable_slow_log_flag->count() > 0) {
      auto seconds = core::ParseDouble(enable_slow_log);
      if (!seconds || !(*seconds > 0) || *seconds > 31536000) {
        std::cerr << "dbrunbook investigate: --enable-slow-log=SECONDS must be a number of "
                     "seconds above 0 and up to 31536000 (got '"
                  << enable_slow_log << "')\n";
        return app::kExitCannotAssess;
      }
      investigate.enable_slow_log = *seconds;
    }
    if (!since.empty()) {
      auto parsed = core::ParseDuration(since, /*bare_unit_seconds=*/true);
      if (!parsed || *parsed > std::chrono::minutes(10)) {
        std::cerr << "dbrunbook investigate: --since must be a duration up to 10m (got '" << since
                  << "')\n";
        return app::kExitCannotAssess;
      }
      investigate.since = *parsed;
    }
    return app::RunInvestigate(env, global, investigate);
  }
  if (cloud_cmd->parsed()) {
    cloud_options.action = cloud_status_cmd->parsed() ? "status" : "metrics";
    cloud_options.format = *report::ParseFormat(cloud_format);
    const std::string prefix = "dbrunbook cloud " + cloud_options.action;
    auto since = core::ParseDuration(cloud_since, /*bare_unit_seconds=*/true);
    if (!since || *since < std::chrono::minutes(1) || *since > std::chrono::hours(24)) {
      std::cerr << prefix << ": --since must be a duration from 1m to 24h (got '" << cloud_since
                << "')\n";
      return app::kExitUsage;
    }
    auto period = core::ParseInt64(cloud_period);
    if (!period || *period < 60 || *period % 60 != 0 || *period > 86400) {
      std::cerr << prefix << ": --period must be 60 or a multiple of 60 seconds up to 86400 (got '"
                << cloud_period << "')\n";
      return app::kExitUsage;
    }
    cloud_options.since = std::chrono::duration_cast<std::chrono::seconds>(*since);
    cloud_options.period = std::chrono::seconds(*period);
    if (cloud_options.since < cloud_options.period) {
      std::cerr << prefix << ": --since must be at least one --period\n";
      return app::kExitUsage;
    }
    return app::RunCloud(env, global, cloud_options);
  }
  if (kill_cmd->parsed()) {
    kill.format = *report::ParseFormat(kill_format);
    kill.criteria.victims =
        kill_victims == "all" ? steps::VictimPolicy::kAll : steps::VictimPolicy::kOldest;
    for (auto [option, text, field] :
         {std::tuple{"--busy-time", &kill_busy, &kill.criteria.busy_seconds},
          std::tuple{"--idle-time", &kill_idle, &kill.criteria.idle_seconds}}) {
      if (text->empty()) continue;
      auto parsed = core::ParseDouble(*text);
      if (!parsed || !(*parsed >= 0) || *parsed > 31536000) {
        std::cerr << "dbrunbook mitigate kill-queries: " << option
                  << " must be a number of seconds from 0 to 31536000 (got '" << *text << "')\n";
        return app::kExitUsage;
      }
      *field = *parsed;
    }
    if (!kill_min_wait.empty()) {
      auto parsed = core::ParseDouble(kill_min_wait);
      if (!parsed || !(*parsed >= 0) || *parsed > 31536000) {
        std::cerr << "dbrunbook mitigate kill-queries: --min-wait must be a number of seconds "
                     "from 0 to 31536000 (got '"
                  << kill_min_wait << "')\n";
        return app::kExitUsage;
      }
      if (!kill.criteria.root_blockers) {
        std::cerr << "dbrunbook mitigate kill-queries: --min-wait goes with --root-blockers\n";
        return app::kExitUsage;
      }
      kill.criteria.min_wait_seconds = *parsed;
    }
    if (!kill_store.empty()) kill.store_path = kill_store;
    return app::RunMitigateKillQueries(env, global, kill);
  }
  if (tune_cmd->parsed()) {
    tune.format = *report::ParseFormat(tune_format);
    if (!tune_interval.empty()) {
      auto parsed = core::ParseDuration(tune_interval, /*bare_unit_seconds=*/true);
      if (!parsed) {
        std::cerr << "dbrunbook mitigate tune: --interval: " << parsed.error().ToString() << "\n";
        return app::kExitUsage;
      }
      tune.interval = *parsed;
    }
    for (auto name : core::Split(tune_only, ',')) {
      const std::string trimmed(core::Trim(name));
      if (!trimmed.empty()) tune.only.push_back(core::ToLower(trimmed));
    }
    if (tune_cmd->count("--revert") > 0) {
      tune.revert = true;
      tune.revert_run = tune_revert.value_or("");
    }
    if (!tune_store.empty()) tune.store_path = tune_store;
    return app::RunMitigateTune(env, global, tune);
  }
  if (scale_cmd->parsed()) {
    const std::string prefix = "dbrunbook mitigate scale-up: ";
    scale.format = *report::ParseFormat(scale_format);
    if (!scale_class.empty()) scale.request.instance_class = scale_class;
    for (auto [option, text, field] :
         {std::tuple{"--min-capacity", &scale_min, &scale.request.min_capacity},
          std::tuple{"--max-capacity", &scale_max, &scale.request.max_capacity}}) {
      if (text->empty()) continue;
      auto parsed = core::ParseDouble(*text);
      if (!parsed || !(*parsed >= 0) || *parsed > 100000) {
        std::cerr << prefix << option << " must be a number of ACUs (got '" << *text << "')\n";
        return app::kExitUsage;
      }
      *field = *parsed;
    }
    auto wait = core::ParseDuration(scale_wait, /*bare_unit_seconds=*/true);
    if (!wait || *wait > std::chrono::hours(6)) {
      std::cerr << prefix << "--wait must be a duration up to 6h (got '" << scale_wait << "')\n";
      return app::kExitUsage;
    }
    auto poll = core::ParseDuration(scale_poll, /*bare_unit_seconds=*/true);
    if (!poll || *poll < std::chrono::milliseconds(100) || *poll > std::chrono::minutes(10)) {
      std::cerr << prefix << "--poll-interval must be a duration from 100ms to 10m (got '"
                << scale_poll << "')\n";
      return app::kExitUsage;
    }
    scale.wait = *wait;
    scale.poll_interval = *poll;
    if (!scale_store.empty()) scale.store_path = scale_store;
    return app::RunMitigateScaleUp(env, global, scale);
  }
  if (index_cmd->parsed()) {
    index.format = *report::ParseFormat(index_format);
    if (index_cmd->count("--query") > 0) index.query = index_query;
    index.limits.max_table_bytes = index_max_mib << 20;
    index.measure_timeout = std::chrono::seconds(index_measure_timeout);
    if (!index_store.empty()) index.store_path = index_store;
    return app::RunMitigateIndex(env, global, index);
  }
  if (failover_cmd->parsed()) {
    const std::string prefix = "dbrunbook mitigate failover: ";
    failover.format = *report::ParseFormat(fo_format);
    if (!fo_max_lag.empty()) {
      auto parsed = core::ParseDouble(fo_max_lag);
      if (!parsed || !(*parsed >= 0) || *parsed > 86400) {
        std::cerr << prefix << "--max-lag must be a number of seconds from 0 to 86400 (got '"
                  << fo_max_lag << "')\n";
        return app::kExitUsage;
      }
      failover.max_lag_seconds = *parsed;
    }
    for (auto [option, text, field, low, high] :
         {std::tuple{"--wait-timeout", &fo_wait_timeout, &failover.wait_timeout,
                     core::Duration(std::chrono::seconds(1)),
                     core::Duration(std::chrono::hours(1))},
          std::tuple{"--verify-timeout", &fo_verify_timeout, &failover.verify_timeout,
                     core::Duration(std::chrono::seconds(0)),
                     core::Duration(std::chrono::hours(2))},
          std::tuple{"--hook-timeout", &fo_hook_timeout, &failover.hook_timeout,
                     core::Duration(std::chrono::seconds(1)),
                     core::Duration(std::chrono::hours(1))}}) {
      if (text->empty()) continue;
      auto parsed = core::ParseDuration(*text, /*bare_unit_seconds=*/true);
      if (!parsed || *parsed < low || *parsed > high) {
        std::cerr << prefix << option << " must be a duration from " << core::FormatDuration(low)
                  << " to " << core::FormatDuration(high) << " (got '" << *text << "')\n";
        return app::kExitUsage;
      }
      *field = *parsed;
    }
    if (!fo_block_period.empty()) {
      auto parsed = core::ParseDuration(fo_block_period, /*bare_unit_seconds=*/true);
      if (!parsed || *parsed > std::chrono::hours(24 * 30)) {
        std::cerr << prefix << "--block-period must be a duration up to 30 days (got '"
                  << fo_block_period << "')\n";
        return app::kExitUsage;
      }
      failover.block_period = *parsed;
    }
    if (failover_cmd->count("--hook") > 0) failover.hook = fo_hook;
    if (fo_retention >= 0) failover.backup_retention_period = fo_retention;
    if (!fo_window.empty()) failover.preferred_backup_window = fo_window;
    if (!fo_store.empty()) failover.store_path = fo_store;
    return app::RunMitigateFailover(env, global, failover);
  }
  if (config_check_cmd->parsed()) {
    if (!config_file.empty()) config_check.file = config_file;
    if (!config_check_runbook.empty()) config_check.runbook = config_check_runbook;
    return app::RunConfigCheck(env, global, config_check);
  }
  if (runbook_show_cmd->parsed()) {
    if (!runbook_show_file.empty()) runbook_show.runbook = runbook_show_file;
    return app::RunRunbookShow(env, runbook_show);
  }
  if (runbook_print_cmd->parsed()) return app::RunRunbookPrintDefault(env);
  if (fingerprint_cmd->parsed()) {
    if (fingerprint_cmd->count("--query") > 0) fingerprint.query = fingerprint_query;
    return app::RunFingerprint(env, fingerprint, std::cin);
  }
  if (digest_cmd->parsed()) {
    if (!digest_since.empty()) digest.since = digest_since;
    if (!digest_until.empty()) digest.until = digest_until;
    if (!digest_report_format.empty()) digest.report_format = digest_report_format;
    digest.vertical = !digest_no_vertical;
    digest.progress = !digest_no_progress && isatty(STDERR_FILENO) != 0;
    if (!digest_interval.empty()) {
      auto parsed = core::ParseDuration(digest_interval, /*bare_unit_seconds=*/true);
      if (!parsed || *parsed < std::chrono::milliseconds(100) || *parsed > std::chrono::hours(1)) {
        std::cerr << "dbrunbook digest: --interval must be a duration from 100ms to 1h (got '"
                  << digest_interval << "')\n";
        return app::kExitUsage;
      }
      digest.interval = *parsed;
    }
    return app::RunDigest(env, global, digest);
  }
  std::cerr << cli.help();
  return app::kExitUsage;
}

}  // namespace dbrunbook::cli
