#include "cli/cli.h"

#include <sys/ioctl.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdlib>
#include <iostream>
#include <string>
#include <tuple>

#include "app/commands.h"
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
      "Exit status: 0 valid, 1 invalid, 2 no file found.");
  std::string config_file;
  config_check_cmd->add_option("file", config_file, "the file (default: as --config)");
  config_check_cmd->add_flag("--offline", config_check.offline,
                             "do not read password environment variables, password files or "
                             "option files");

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
    if (!kill_store.empty()) kill.store_path = kill_store;
    return app::RunMitigateKillQueries(env, global, kill);
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
    return app::RunConfigCheck(env, global, config_check);
  }
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
