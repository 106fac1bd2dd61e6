#include "watch/signals.h"

namespace dbrunbook::watch {

std::string_view CadenceName(Cadence cadence) {
  switch (cadence) {
    case Cadence::kFast:
      return "fast";
    case Cadence::kSlow:
      return "slow";
    case Cadence::kCloud:
      return "cloud";
    case Cadence::kExternal:
      return "external";
  }
  return "fast";
}

const std::vector<SignalSpec>& Signals() {
  static const std::vector<SignalSpec> kSignals = {
      {kTargetUnreachable, "", Cadence::kFast,
       "1 when the poll could not connect to or read the server, else 0"},
      {kLongestQuery, "s", Cadence::kFast,
       "longest-running statement of a client session (not Sleep, not replication, system or "
       "dbrunbook's own threads)"},
      {"threads_running", "", Cadence::kFast, "Threads_running"},
      {"threads_connected", "", Cadence::kFast, "Threads_connected"},
      {"connections_used_ratio", "ratio", Cadence::kFast, "Threads_connected / max_connections"},
      {"connection_errors_per_s", "/s", Cadence::kFast,
       "rate of the sum of the Connection_errors_* counters"},
      {"aborted_connects_per_s", "/s", Cadence::kFast, "rate of Aborted_connects"},
      {"questions_per_s", "/s", Cadence::kFast, "rate of Questions"},
      {"slow_queries_per_s", "/s", Cadence::kFast, "rate of Slow_queries"},
      {"replication_lag_seconds", "s", Cadence::kFast,
       "the largest Seconds_Behind_Master/Source of the replica's channels (absent when not a "
       "replica or unknown)"},
      {"replication_running", "", Cadence::kFast,
       "1 when the IO and SQL threads of every channel run, 0 otherwise (absent when not a "
       "replica)"},
      {"connect_seconds", "s", Cadence::kSlow,
       "time a fresh connection (dbrunbook's probe) takes to authenticate"},
      {"connect_failures_per_min", "/min", Cadence::kSlow,
       "probe connections that failed or timed out in the last minute"},
      {"row_lock_waits", "", Cadence::kSlow, "transactions waiting for a row lock now"},
      {"history_list_length", "", Cadence::kSlow, "InnoDB history list length (undo backlog)"},
      {"cpu_percent", "%", Cadence::kCloud, "CloudWatch CPUUtilization of the instance"},
      {"freeable_memory_bytes", "bytes", Cadence::kCloud, "CloudWatch FreeableMemory"},
      {kAppErrors, "/min", Cadence::kExternal,
       "application connectivity errors per minute (log files matched by patterns, or pushed "
       "to POST /api/v1/signals)"},
  };
  return kSignals;
}

const SignalSpec* FindSignal(std::string_view name) {
  for (const SignalSpec& spec : Signals()) {
    if (spec.name == name) return &spec;
  }
  return nullptr;
}

std::vector<std::string> SignalNames() {
  std::vector<std::string> names;
  for (const SignalSpec& spec : Signals()) names.emplace_back(spec.name);
  return names;
}

}  // namespace dbrunbook::watch
