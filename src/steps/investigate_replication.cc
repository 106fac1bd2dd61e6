#include "steps/investigate_replication.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "collect/activity.h"
#include "core/duration.h"
#include "core/strings.h"
#include "core/text.h"
#include "dialect/replication.h"
#include "steps/grants.h"

namespace dbrunbook::steps {
namespace {

using collect::ThreadState;

constexpr size_t kErrorChars = 300;       // error text in evidence
constexpr size_t kTitleErrorChars = 160;  // error text in a title
constexpr size_t kStatementChars = 300;
constexpr size_t kGtidChars = 500;  // a MySQL GTID set can be long; evidence keeps the start
constexpr int kRelayEventsRead = 8;
constexpr int kRelayEventsSuggested = 20;
constexpr int kSuggestedParallelThreads = 4;

// Replication reports whole seconds: "6s", "4m 05s"; fractions (Aurora's milliseconds) as
// core::FormatSeconds does.
std::string Seconds(double seconds) {
  if (seconds >= 1 && seconds < 60 &&
      seconds == static_cast<double>(static_cast<int64_t>(seconds))) {
    return fmt::format("{}s", static_cast<int64_t>(seconds));
  }
  return core::FormatSeconds(seconds);
}

// --- reading ---------------------------------------------------------------------------

// One replication channel: what collect::ParseReplicaStatus reads plus the columns this step
// needs (dialect::ReplicaDetailColumns), from the same row.
struct Channel {
  collect::ReplicaChannel base;
  std::string source_log_file;
  std::optional<int64_t> read_pos;
  std::string relay_source_log_file;
  std::optional<int64_t> exec_pos;
  std::string relay_log_file;
  std::optional<int64_t> relay_log_pos;
  std::optional<int64_t> relay_log_space;
  std::optional<int64_t> sql_delay;
  std::optional<int64_t> sql_remaining_delay;
  std::string retrieved_gtid;
  std::string executed_gtid;
  std::string using_gtid;
  std::string last_io_error_time;
  std::string last_sql_error_time;
  std::string parallel_mode;
  std::string replicate_do_db;

  const std::string& name() const { return base.channel; }

  std::string source() const {
    if (!base.source_port) return base.source_host;
    return fmt::format("{}:{}", base.source_host, *base.source_port);
  }
  // "" or " [channel 'x']", for titles.
  std::string label() const {
    return name().empty() ? std::string() : fmt::format(" [channel '{}']", name());
  }
  std::string io_position() const {
    if (source_log_file.empty() || !read_pos) return {};
    return fmt::format("{}:{}", source_log_file, *read_pos);
  }
  std::string sql_position() const {
    if (relay_source_log_file.empty() || !exec_pos) return {};
    return fmt::format("{}:{}", relay_source_log_file, *exec_pos);
  }
  // Bytes of the source binlog fetched but not applied, when both threads are in one file.
  std::optional<int64_t> gap_bytes() const {
    if (!read_pos || !exec_pos || source_log_file.empty() ||
        source_log_file != relay_source_log_file) {
      return std::nullopt;
    }
    return std::max<int64_t>(0, *read_pos - *exec_pos);
  }
  // The applier has executed everything the IO thread fetched.
  bool applier_caught_up() const {
    if (!read_pos || !exec_pos || source_log_file.empty()) return false;
    return source_log_file == relay_source_log_file && *read_pos == *exec_pos;
  }
  // Seconds_Behind minus the configured delay: a delayed replica is not lagging by its delay.
  std::optional<double> lag() const {
    if (!base.seconds_behind) return std::nullopt;
    const int64_t delay = sql_delay.value_or(0);
    return static_cast<double>(std::max<int64_t>(0, *base.seconds_behind - delay));
  }
};

std::string Text(const mysql::Row& row, std::string_view column) {
  if (column.empty()) return {};
  return row[column].StringOr("");
}

std::optional<int64_t> Int(const mysql::Row& row, std::string_view column) {
  if (column.empty()) return std::nullopt;
  return row[column].AsInt64();
}

std::vector<Channel> ParseChannels(const mysql::ResultSet& result, const dialect::Dialect& d) {
  auto bases = collect::ParseReplicaStatus(result, d.replica_columns());
  const dialect::ReplicaDetailColumns c = dialect::ReplicaDetailColumnsFor(d);
  std::vector<Channel> channels;
  for (size_t i = 0; i < result.rows.size() && i < bases.size(); ++i) {
    const mysql::Row& row = result.rows[i];
    Channel ch;
    ch.base = std::move(bases[i]);
    ch.source_log_file = Text(row, c.source_log_file);
    ch.read_pos = Int(row, c.read_source_log_pos);
    ch.relay_source_log_file = Text(row, c.relay_source_log_file);
    ch.exec_pos = Int(row, c.exec_source_log_pos);
    ch.relay_log_file = Text(row, c.relay_log_file);
    ch.relay_log_pos = Int(row, c.relay_log_pos);
    ch.relay_log_space = Int(row, c.relay_log_space);
    ch.sql_delay = Int(row, c.sql_delay);
    ch.sql_remaining_delay = Int(row, c.sql_remaining_delay);
    ch.retrieved_gtid = core::OneLine(Text(row, c.retrieved_gtid), kGtidChars);
    ch.executed_gtid = core::OneLine(Text(row, c.executed_gtid), kGtidChars);
    ch.using_gtid = Text(row, c.using_gtid);
    ch.last_io_error_time = Text(row, c.last_io_error_timestamp);
    ch.last_sql_error_time = Text(row, c.last_sql_error_timestamp);
    ch.parallel_mode = Text(row, c.parallel_mode);
    ch.replicate_do_db = Text(row, c.replicate_do_db);
    channels.push_back(std::move(ch));
  }
  return channels;
}

using Variables = std::map<std::string, std::string, core::CaseInsensitiveLess>;

std::optional<std::string> Variable(const Variables& vars, std::string_view name) {
  auto it = vars.find(name);
  if (it == vars.end()) return std::nullopt;
  return it->second;
}

// Applier threads: parallel workers (MySQL workers <= 1 and MariaDB 0 threads mean one).
struct ApplyMode {
  std::optional<int64_t> threads;
  std::string variable;  // the variable that says so
  std::string mode;      // slave_parallel_mode / replica_parallel_type
  // MariaDB's slave_parallel_mode = none applies serially whatever the thread count.
  bool single_threaded() const {
    if (!threads) return false;
    return *threads <= 1 || core::EqualsIgnoreCase(mode, "none");
  }
};

ApplyMode ReadApplyMode(const Variables& vars, const dialect::Flavor& flavor) {
  ApplyMode m;
  const std::vector<std::string_view> names =
      flavor.is_mariadb()
          ? std::vector<std::string_view>{"slave_parallel_threads"}
          : std::vector<std::string_view>{"replica_parallel_workers", "slave_parallel_workers"};
  for (std::string_view name : names) {
    if (auto v = Variable(vars, name)) {
      m.threads = core::ParseInt64(*v);
      m.variable = std::string(name);
      break;
    }
  }
  for (std::string_view name :
       {"slave_parallel_mode", "replica_parallel_type", "slave_parallel_type"}) {
    if (auto v = Variable(vars, name)) {
      m.mode = *v;
      break;
    }
  }
  return m;
}

struct ApplierTransaction {
  std::string trx_id;
  uint64_t thread_id = 0;
  double age_seconds = 0;
  std::string state;
  int64_t rows_locked = 0;
  int64_t rows_modified = 0;
  std::optional<std::string> query;
  std::string thread_state;
  std::string db;
  std::optional<double> lock_wait_seconds;
  std::optional<uint64_t> blocking_thread_id;

  bool waiting_for_lock() const { return core::EqualsIgnoreCase(state, "LOCK WAIT"); }
};

std::vector<ApplierTransaction> ParseApplierTransactions(const mysql::ResultSet& result) {
  std::vector<ApplierTransaction> out;
  for (const auto& row : result.rows) {
    ApplierTransaction t;
    t.trx_id = row["trx_id"].StringOr("");
    t.thread_id = row["thread_id"].AsUint64().value_or(0);
    t.age_seconds = row["age_seconds"].AsDouble().value_or(0);
    t.state = row["state"].StringOr("");
    t.rows_locked = row["rows_locked"].AsInt64().value_or(0);
    t.rows_modified = row["rows_modified"].AsInt64().value_or(0);
    if (auto q = row["query"].AsString()) t.query = std::string(*q);
    t.thread_state = row["thread_state"].StringOr("");
    t.db = row["db"].StringOr("");
    t.lock_wait_seconds = row["lock_wait_seconds"].AsDouble();
    t.blocking_thread_id = row["blocking_thread_id"].AsUint64();
    out.push_back(std::move(t));
  }
  return out;
}

// What the relay log says about the event group the SQL thread stopped on.
struct FailedEvent {
  std::string gtid;
  std::string statement;
  std::vector<std::string> tables;
};

// MariaDB "BEGIN GTID 0-1-10" / "GTID 0-1-10"; MySQL "SET @@SESSION.GTID_NEXT= 'uuid:5'".
std::string GtidFromEventInfo(std::string_view info) {
  if (auto q = info.find('\''); q != std::string_view::npos) {
    auto end = info.find('\'', q + 1);
    if (end != std::string_view::npos) return std::string(info.substr(q + 1, end - q - 1));
  }
  auto at = info.find("GTID ");
  if (at == std::string_view::npos) return {};
  std::string_view rest = info.substr(at + 5);
  auto space = rest.find(' ');
  return std::string(core::Trim(rest.substr(0, space)));
}

FailedEvent ParseFailedEvent(const mysql::ResultSet& result) {
  FailedEvent e;
  for (const auto& row : result.rows) {
    const std::string type = row["Event_type"].StringOr("");
    const std::string info = row["Info"].StringOr("");
    if (core::EqualsIgnoreCase(type, "Gtid")) {
      if (!e.gtid.empty()) break;  // the next group starts
      e.gtid = GtidFromEventInfo(info);
      if (core::EqualsIgnoreCase(e.gtid, "ANONYMOUS")) e.gtid.clear();  // MySQL without GTID
    } else if ((core::EqualsIgnoreCase(type, "Annotate_rows") ||
                core::EqualsIgnoreCase(type, "Rows_query") ||
                core::EqualsIgnoreCase(type, "Query")) &&
               e.statement.empty() && !core::EqualsIgnoreCase(core::Trim(info), "BEGIN")) {
      std::string_view text = core::Trim(info);
      if (text.starts_with("# ")) text.remove_prefix(2);  // MySQL Rows_query prints "# stmt"
      e.statement = core::OneLine(text, kStatementChars);
    } else if (core::EqualsIgnoreCase(type, "Table_map")) {
      // "table_id: 20 (r1.t)"
      auto open = info.rfind('(');
      auto close = info.rfind(')');
      if (open != std::string::npos && close != std::string::npos && close > open) {
        std::string table = info.substr(open + 1, close - open - 1);
        if (std::find(e.tables.begin(), e.tables.end(), table) == e.tables.end()) {
          e.tables.push_back(std::move(table));
        }
      }
    } else if (core::EqualsIgnoreCase(type, "Xid") && !e.gtid.empty()) {
      break;  // the end of the group
    }
  }
  return e;
}

// MySQL's coordinator message: "... Worker 1 failed executing transaction 'uuid:23' at ...".
std::string GtidFromErrorText(std::string_view error) {
  const std::string_view marker = "transaction '";
  auto at = error.find(marker);
  if (at == std::string_view::npos) return {};
  auto start = at + marker.size();
  auto end = error.find('\'', start);
  if (end == std::string_view::npos) return {};
  std::string_view gtid = error.substr(start, end - start);
  if (gtid.find(':') == std::string_view::npos) return {};  // "ANONYMOUS"
  return std::string(gtid);
}

// MariaDB GTID position "0-1-10,1-2-5": the list with `gtid`'s domain set to `gtid`.
std::string WithGtidInItsDomain(std::string_view position, std::string_view gtid) {
  const auto domain_of = [](std::string_view g) { return g.substr(0, g.find('-')); };
  const std::string_view domain = domain_of(gtid);
  std::vector<std::string> entries;
  bool replaced = false;
  for (std::string_view part : core::Split(position, ',')) {
    part = core::Trim(part);
    if (part.empty()) continue;
    if (domain_of(part) == domain) {
      entries.emplace_back(gtid);
      replaced = true;
    } else {
      entries.emplace_back(part);
    }
  }
  if (!replaced) entries.emplace_back(gtid);
  return fmt::format("{}", fmt::join(entries, ","));
}

size_t GtidDomains(std::string_view position) {
  size_t n = 0;
  for (std::string_view part : core::Split(position, ',')) {
    if (!core::Trim(part).empty()) ++n;
  }
  return n;
}

// "mysql-bin-changelog.012345" -> 12345.
std::optional<uint64_t> LogFileIndex(std::string_view file) {
  auto dot = file.rfind('.');
  if (dot == std::string_view::npos) return std::nullopt;
  return core::ParseUint64(file.substr(dot + 1));
}

std::vector<std::string> SplitList(std::string_view text) {
  std::vector<std::string> out;
  for (std::string_view part : core::Split(text, ',')) {
    part = core::Trim(part);
    if (!part.empty()) out.emplace_back(part);
  }
  return out;
}

// --- evidence ----------------------------------------------------------------------------

EvidenceValue OptionalInt(const std::optional<int64_t>& v) {
  return v ? EvidenceValue(*v) : EvidenceValue(std::monostate{});
}

EvidenceValue OptionalText(const std::string& s) {
  return s.empty() ? EvidenceValue(std::monostate{}) : EvidenceValue(s);
}

// Threads, positions, backlog and GTIDs of a channel in one row: the evidence of lag, of a
// stopped thread, of a delay and of a healthy channel. The states (free text) come last, where
// a table has room for them.
EvidenceRow ChannelRow(const Channel& ch) {
  EvidenceRow row;
  row.Add("channel", ch.name())
      .Add("source", ch.source())
      .Add("io_thread", std::string(collect::ThreadStateName(ch.base.io)))
      .Add("sql_thread", std::string(collect::ThreadStateName(ch.base.sql)))
      .Add("seconds_behind", OptionalInt(ch.base.seconds_behind))
      .Add("sql_delay", OptionalInt(ch.sql_delay))
      .Add("lag_seconds", ch.lag() ? EvidenceValue(*ch.lag()) : EvidenceValue(std::monostate{}))
      .Add("io_position", OptionalText(ch.io_position()))
      .Add("sql_position", OptionalText(ch.sql_position()))
      .Add("position_gap_bytes", OptionalInt(ch.gap_bytes()))
      .Add("relay_log_space_bytes", OptionalInt(ch.relay_log_space))
      .Add("using_gtid", OptionalText(ch.using_gtid))
      .Add("retrieved_gtid", OptionalText(ch.retrieved_gtid))
      .Add("executed_gtid", OptionalText(ch.executed_gtid))
      .Add("io_state", OptionalText(ch.base.io_state))
      .Add("sql_state", OptionalText(ch.base.sql_state));
  return row;
}

std::string Backlog(const Channel& ch) {
  if (auto gap = ch.gap_bytes()) {
    return fmt::format("{} bytes of the source binlog fetched but not applied", *gap);
  }
  if (ch.relay_log_space) return fmt::format("relay logs hold {} bytes", *ch.relay_log_space);
  return "backlog unknown";
}

// --- the step's run ------------------------------------------------------------------------

class ReplicationRun {
 public:
  ReplicationRun(StepContext& context, const ReplicationThresholds& thresholds)
      : context_(context), thresholds_(thresholds), d_(context.target.dialect) {}

  core::Result<std::vector<Finding>> Execute();

 private:
  // Runs `sql` unless the step's time is up; on failure notes what could not be checked.
  std::optional<mysql::ResultSet> Read(const std::string& sql, std::string_view what);
  void Partial(std::string what, std::string why) {
    partial_.emplace_back(std::move(what), std::move(why));
  }

  void ReplicaFindings();
  void ChannelFindings(const Channel& ch);
  void SqlBroken(const Channel& ch);
  void IoTrouble(const Channel& ch, bool connecting);
  void IoAdvice(const Channel& ch, Finding& f);
  void Stopped(const Channel& ch);
  void Delayed(const Channel& ch);
  void Lag(const Channel& ch, double lag);
  void LagCauses(const std::vector<const Channel*>& lagging);
  void ApplierCauses(const Channel& ch);
  void TablesWithoutPrimaryKey(const std::vector<const Channel*>& lagging);
  void SingleThreaded(const Channel& ch, double lag);
  void IoBehind(const Channel& ch, double lag);
  void Healthy(const Channel& ch);

  void SourceFindings();
  void AuroraFindings();

  bool uses_gtid(const Channel& ch) const;
  std::string gtid_slave_pos(const Channel& ch) const;

  StepContext& context_;
  const ReplicationThresholds& thresholds_;
  const dialect::Dialect& d_;
  std::vector<Finding> findings_;
  std::vector<std::pair<std::string, std::string>> partial_;
  std::vector<Channel> channels_;
  Variables variables_;
  std::optional<std::vector<ApplierTransaction>> appliers_;
  std::set<std::string> reported_transactions_;
};

std::optional<mysql::ResultSet> ReplicationRun::Read(const std::string& sql,
                                                     std::string_view what) {
  if (sql.empty()) return std::nullopt;
  if (context_.expired()) {
    Partial(std::string(what), "the step ran out of time before reading it");
    return std::nullopt;
  }
  auto result = context_.target.session->Query(sql);
  if (!result) {
    Partial(std::string(what), result.error().message);
    return std::nullopt;
  }
  return std::move(*result);
}

bool ReplicationRun::uses_gtid(const Channel& ch) const {
  if (d_.flavor().is_mariadb()) {
    return !ch.using_gtid.empty() && !core::EqualsIgnoreCase(ch.using_gtid, "No");
  }
  if (ch.using_gtid == "1") return true;
  auto mode = Variable(variables_, "gtid_mode");
  return mode && core::EqualsIgnoreCase(*mode, "ON");
}

std::string ReplicationRun::gtid_slave_pos(const Channel& ch) const {
  if (!ch.executed_gtid.empty() && d_.flavor().is_mariadb()) return ch.executed_gtid;
  return Variable(variables_, "gtid_slave_pos").value_or("");
}

core::Result<std::vector<Finding>> ReplicationRun::Execute() {
  auto& session = *context_.target.session;
  // The one statement the step cannot do without: it says whether this is a replica.
  auto status = session.Query(d_.ReplicaStatus());
  if (!status) return core::Fail(status.error());
  channels_ = ParseChannels(*status, d_);

  if (!channels_.empty()) ReplicaFindings();
  SourceFindings();
  AuroraFindings();

  if (channels_.empty() && findings_.empty()) {
    Finding f;
    f.code = "replication.status";
    f.severity = Severity::kInfo;
    f.title = "this server is not a replica and no replica is connected to it";
    findings_.push_back(std::move(f));
  }
  if (!partial_.empty()) {
    Finding f;
    f.code = "check.partial";
    f.severity = Severity::kInfo;
    f.title = fmt::format("replication: {} part{} could not be checked", partial_.size(),
                          partial_.size() == 1 ? "" : "s");
    f.detail =
        "The findings above are based on what could be read; what is listed here was not "
        "checked (lower confidence).";
    for (const auto& [what, why] : partial_) {
      EvidenceRow row;
      row.Add("check", what).Add("reason", core::OneLine(why, kErrorChars));
      f.evidence.push_back(std::move(row));
    }
    findings_.push_back(std::move(f));
  }
  return std::move(findings_);
}

void ReplicationRun::ReplicaFindings() {
  if (auto vars = Read(dialect::ReplicationVariables(d_), "replication variables")) {
    for (const auto& row : vars->rows) {
      auto name = row.at(0).AsString();
      auto value = row.at(1).AsString();
      if (name) variables_.insert_or_assign(std::string(*name), std::string(value.value_or("")));
    }
  }
  std::vector<const Channel*> lagging;
  for (const auto& ch : channels_) {
    ChannelFindings(ch);
    if (ch.base.sql == ThreadState::kRunning) {
      if (auto lag = ch.lag(); lag && *lag >= thresholds_.lag_warning_seconds) {
        lagging.push_back(&ch);
      }
    }
  }
  if (!lagging.empty()) LagCauses(lagging);
}

void ReplicationRun::ChannelFindings(const Channel& ch) {
  const size_t before = findings_.size();
  const bool io_stopped = ch.base.io == ThreadState::kStopped;
  const bool sql_stopped = ch.base.sql == ThreadState::kStopped;
  if (io_stopped && ch.base.last_io_errno != 0) IoTrouble(ch, false);
  if (ch.base.io == ThreadState::kConnecting) IoTrouble(ch, true);
  if (sql_stopped && ch.base.last_sql_errno != 0) SqlBroken(ch);
  if ((io_stopped && ch.base.last_io_errno == 0) || (sql_stopped && ch.base.last_sql_errno == 0)) {
    Stopped(ch);
  }
  if (ch.sql_delay.value_or(0) > 0) Delayed(ch);
  if (ch.base.sql == ThreadState::kRunning) {
    if (auto lag = ch.lag(); lag && *lag >= thresholds_.lag_warning_seconds) Lag(ch, *lag);
  }
  bool trouble = false;
  for (size_t i = before; i < findings_.size(); ++i) {
    if (findings_[i].severity != Severity::kInfo) trouble = true;
  }
  if (!trouble) Healthy(ch);
}

void ReplicationRun::SqlBroken(const Channel& ch) {
  const auto& flavor = d_.flavor();
  const int64_t error_number = ch.base.last_sql_errno;
  Finding f;
  f.code = "replication.broken";
  f.severity = Severity::kCritical;
  f.title = fmt::format("replica SQL thread stopped on error {}{}: {}", error_number, ch.label(),
                        core::OneLine(ch.base.last_sql_error, kTitleErrorChars));
  f.detail = fmt::format(
      "Replication from {} is not applied any more: every change on the source since the "
      "failing transaction is missing here, and the relay log keeps growing while the IO "
      "thread fetches.",
      ch.source());

  // The failing transaction: its GTID, statement and tables from the relay log; on MySQL
  // 5.7+ the worker table names the GTID even where the relay log cannot be read.
  FailedEvent failed;
  if (!ch.relay_log_file.empty() && ch.relay_log_pos) {
    const std::string sql =
        dialect::RelayLogEvents(d_, ch.name(), ch.relay_log_file,
                                static_cast<uint64_t>(*ch.relay_log_pos), kRelayEventsRead);
    if (auto events = Read(sql, "the failing relay-log event")) failed = ParseFailedEvent(*events);
  }
  if (failed.gtid.empty() && flavor.is_mysql_family()) {
    if (auto workers = Read(dialect::ApplierWorkerErrors(d_), "the applier workers' errors")) {
      for (const auto& row : workers->rows) {
        if (row["channel"].StringOr("") != ch.name()) continue;
        const std::string gtid = row["gtid"].StringOr("");
        if (gtid.find(':') != std::string::npos) {
          failed.gtid = gtid;
          break;
        }
      }
    }
    if (failed.gtid.empty()) failed.gtid = GtidFromErrorText(ch.base.last_sql_error);
  }

  EvidenceRow row;
  row.Add("channel", ch.name())
      .Add("source", ch.source())
      .Add("thread", "SQL")
      .Add("errno", ch.base.last_sql_errno)
      .Add("error_time", OptionalText(ch.last_sql_error_time))
      .Add("failing_gtid", OptionalText(failed.gtid))
      .Add("tables", OptionalText(fmt::format("{}", fmt::join(failed.tables, ", "))))
      .Add(
          "relay_log_position",
          OptionalText(ch.relay_log_pos ? fmt::format("{}:{}", ch.relay_log_file, *ch.relay_log_pos)
                                        : std::string()))
      .Add("sql_position", OptionalText(ch.sql_position()))
      .Add("io_position", OptionalText(ch.io_position()))
      .Add("position_gap_bytes", OptionalInt(ch.gap_bytes()))
      .Add("relay_log_space_bytes", OptionalInt(ch.relay_log_space))
      .Add("executed_gtid",
           OptionalText(flavor.is_mariadb() ? gtid_slave_pos(ch) : ch.executed_gtid))
      .Add("retrieved_gtid", OptionalText(ch.retrieved_gtid))
      .Add("failing_statement", OptionalText(failed.statement))
      .Add("error", core::OneLine(ch.base.last_sql_error, kErrorChars));
  f.evidence.push_back(std::move(row));

  // 1. Look at it.
  if (!ch.relay_log_file.empty() && ch.relay_log_pos) {
    f.suggestions.push_back(
        {"look at the failing transaction (its statement, table and row) in the relay log, "
         "and compare the row it names on the source and on this replica",
         dialect::RelayLogEvents(d_, ch.name(), ch.relay_log_file,
                                 static_cast<uint64_t>(*ch.relay_log_pos), kRelayEventsSuggested)});
  }
  // 2. Fix the data, then restart the applier.
  std::string fix;
  switch (error_number) {
    case 1062:
      fix =
          "fix the data: the row the source inserted already exists here (written on the "
          "replica directly, or replayed twice). Remove or correct the conflicting row on this "
          "replica in a session with SET SESSION sql_log_bin = 0 (so the repair is not "
          "binary-logged), then restart the SQL thread";
      break;
    case 1032:
      fix =
          "fix the data: the row the event updates or deletes is missing here. Re-create it as "
          "it is on the source, in a session with SET SESSION sql_log_bin = 0, then restart "
          "the SQL thread";
      break;
    case 1146:
      fix =
          "the table the event writes does not exist here: create it as on the source (SHOW "
          "CREATE TABLE there), then restart the SQL thread";
      break;
    default:
      fix = "fix what the error names, then restart the SQL thread";
      break;
  }
  f.suggestions.push_back({fix, dialect::StartSqlThread(d_, ch.name())});

  // 3. Skip it: a last resort.
  const std::string warning =
      "WARNING: skipping diverges the data (this replica lacks that transaction for good): "
      "checksum the tables afterwards (pt-table-checksum) and resync what differs";
  if (flavor.is_mariadb()) {
    const std::string position = gtid_slave_pos(ch);
    if (uses_gtid(ch) && !failed.gtid.empty() &&
        flavor.platform == dialect::Platform::kSelfManaged) {
      const std::string new_position = WithGtidInItsDomain(position, failed.gtid);
      f.suggestions.push_back(
          {fmt::format("or skip exactly the failing transaction {} by recording it as applied "
                       "(gtid_slave_pos {} -> {}); {}",
                       failed.gtid, position.empty() ? "''" : position, new_position, warning),
           dialect::SkipWithGtidSlavePos(d_, new_position, channels_.size() > 1)});
    }
    if (!uses_gtid(ch) || GtidDomains(position) <= 1) {
      f.suggestions.push_back(
          {fmt::format("or skip the one event group the SQL thread stopped on; {}", warning),
           dialect::SkipWithCounter(d_, ch.name())});
    }
  } else if (uses_gtid(ch)) {
    if (!failed.gtid.empty()) {
      f.suggestions.push_back(
          {fmt::format("or skip the failing transaction {} by committing an empty transaction "
                       "with its GTID (sql_slave_skip_counter is refused with GTID); {}",
                       failed.gtid, warning),
           dialect::SkipWithEmptyTransaction(d_, ch.name(), failed.gtid)});
    } else {
      f.suggestions.push_back(
          {fmt::format("to skip it, find the failing GTID (APPLYING_TRANSACTION of the worker "
                       "with the error) and commit an empty transaction with it; {}",
                       warning),
           dialect::ApplierWorkerErrors(d_)});
    }
  } else {
    f.suggestions.push_back(
        {fmt::format("or skip the one event group the SQL thread stopped on; {}", warning),
         dialect::SkipWithCounter(d_, ch.name())});
  }
  findings_.push_back(std::move(f));
}

void ReplicationRun::IoAdvice(const Channel& ch, Finding& f) {
  const int64_t error_number = ch.base.last_io_errno;
  switch (error_number) {
    case 1236: {
      f.suggestions.push_back(
          {"the source no longer has the binlog file, position or GTIDs this replica asks "
           "for (purged by binlog expiry, or lost in a source crash or failover): compare this "
           "replica's IO position with the source's binlogs (run this on the source); a replica "
           "whose position is gone must be rebuilt from a fresh backup of the source",
           dialect::BinaryLogStatus(d_)});
      const auto index = LogFileIndex(ch.source_log_file);
      const std::string next = index ? dialect::NextSourceLog(d_, *index) : std::string();
      if (!next.empty()) {
        f.suggestions.push_back(
            {"only if this follows a failover of a Multi-AZ source: move to the start of the "
             "source's next binlog (AWS procedure; transactions the source had not written to "
             "its binlog before the failover are lost on this replica)",
             next});
      }
      break;
    }
    case 1045:
    case 1044:
    case 1130:
    case 1227:
      f.suggestions.push_back(
          {"the source refused the replication account: check its password (CHANGE MASTER "
           "... MASTER_PASSWORD) and that it has REPLICATION SLAVE on the source, then restart "
           "the IO thread",
           dialect::StartIoThread(d_, ch.name())});
      break;
    case 1593:
      f.suggestions.push_back(
          {"a fatal configuration clash (equal server_id or server_uuid on source and "
           "replica, or a source too old): fix the configuration, then restart the IO thread",
           dialect::StartIoThread(d_, ch.name())});
      break;
    case 2003:
    case 2005:
    case 2013:
    case 2026:
    case 2061:
    case 1158:
    case 1159:
      f.suggestions.push_back(
          {fmt::format("the source {} cannot be reached or the connection breaks (network, "
                       "DNS, firewall, TLS, the source down): test a connection from this "
                       "host to it with the replication account",
                       ch.source()),
           ""});
      break;
    default:
      f.suggestions.push_back({"fix what the error names, then restart the IO thread",
                               dialect::StartIoThread(d_, ch.name())});
      break;
  }
}

void ReplicationRun::IoTrouble(const Channel& ch, bool connecting) {
  Finding f;
  f.code = connecting ? "replication.connecting" : "replication.broken";
  f.severity = Severity::kCritical;
  const bool has_error = ch.base.last_io_errno != 0;
  if (connecting) {
    f.title = has_error ? fmt::format("replica IO thread cannot connect to {}{}: error {}: {}",
                                      ch.source(), ch.label(), ch.base.last_io_errno,
                                      core::OneLine(ch.base.last_io_error, kTitleErrorChars))
                        : fmt::format("replica IO thread is still connecting to {}{}", ch.source(),
                                      ch.label());
    f.detail =
        "The IO thread retries (every Connect_Retry seconds); until it connects nothing new "
        "arrives from the source, and Seconds_Behind is NULL or stale.";
  } else {
    f.title = fmt::format("replica IO thread stopped on error {}{}: {}", ch.base.last_io_errno,
                          ch.label(), core::OneLine(ch.base.last_io_error, kTitleErrorChars));
    f.detail = fmt::format(
        "Nothing new arrives from {}; the SQL thread applies what is already in the relay "
        "log, then waits.",
        ch.source());
  }
  EvidenceRow row;
  row.Add("channel", ch.name())
      .Add("source", ch.source())
      .Add("thread", "IO")
      .Add("io_thread", std::string(collect::ThreadStateName(ch.base.io)))
      .Add("io_state", OptionalText(ch.base.io_state))
      .Add("errno", ch.base.last_io_errno)
      .Add("error_time", OptionalText(ch.last_io_error_time))
      .Add("io_position", OptionalText(ch.io_position()))
      .Add("retrieved_gtid", OptionalText(ch.retrieved_gtid))
      .Add("error", OptionalText(core::OneLine(ch.base.last_io_error, kErrorChars)));
  f.evidence.push_back(std::move(row));
  if (has_error) {
    IoAdvice(ch, f);
  } else {
    f.suggestions.push_back(
        {fmt::format("check that {} is up and reachable from this host with the replication "
                     "account",
                     ch.source()),
         ""});
  }
  findings_.push_back(std::move(f));
}

void ReplicationRun::Stopped(const Channel& ch) {
  const bool io = ch.base.io == ThreadState::kStopped && ch.base.last_io_errno == 0;
  const bool sql = ch.base.sql == ThreadState::kStopped && ch.base.last_sql_errno == 0;
  Finding f;
  f.code = "replication.stopped";
  f.severity = Severity::kWarning;
  const std::string_view which = io && sql ? "IO and SQL threads are"
                                 : io      ? "IO thread is"
                                           : "SQL thread is";
  f.title = fmt::format("replica {} stopped without an error{} (replication from {}); {}", which,
                        ch.label(), ch.source(), Backlog(ch));
  f.detail =
      sql ? "Someone ran STOP SLAVE / STOP REPLICA (maintenance, a backup) or the SQL thread "
            "was stopped on purpose: the replica serves older and older data while the relay "
            "log grows; Seconds_Behind is NULL, so lag alarms do not fire."
          : "The IO thread was stopped on purpose: nothing new arrives from the source, and "
            "Seconds_Behind is NULL, so lag alarms do not fire.";
  f.evidence.push_back(ChannelRow(ch));
  const std::string start = io && sql ? dialect::StartReplica(d_, ch.name())
                            : io      ? dialect::StartIoThread(d_, ch.name())
                                      : dialect::StartSqlThread(d_, ch.name());
  f.suggestions.push_back(
      {"if nobody stopped it on purpose (ask first: a backup may rely on it), "
       "start it again",
       start});
  findings_.push_back(std::move(f));
}

void ReplicationRun::Delayed(const Channel& ch) {
  Finding f;
  f.code = "replication.delayed";
  f.severity = Severity::kInfo;
  f.title = fmt::format("replica applies {} behind {} on purpose (SQL_Delay / MASTER_DELAY){}{}",
                        Seconds(static_cast<double>(*ch.sql_delay)), ch.source(), ch.label(),
                        ch.sql_remaining_delay
                            ? fmt::format("; the next event is applied in {}",
                                          Seconds(static_cast<double>(*ch.sql_remaining_delay)))
                            : std::string());
  f.detail =
      "Seconds_Behind includes the configured delay: dbrunbook subtracts it, so a delayed "
      "replica is reported as lagging only beyond its delay.";
  f.evidence.push_back(ChannelRow(ch));
  f.suggestions.push_back(
      {"if the delay is not wanted (a delayed replica must never serve reads that need fresh "
       "data, nor be a failover target), remove it",
       dialect::RemoveDelay(d_, ch.name())});
  findings_.push_back(std::move(f));
}

void ReplicationRun::Lag(const Channel& ch, double lag) {
  Finding f;
  f.code = "replication.lag";
  f.severity = lag >= thresholds_.lag_critical_seconds ? Severity::kCritical : Severity::kWarning;
  f.title = fmt::format("replica is {} behind {}{}{}; {}", Seconds(lag), ch.source(), ch.label(),
                        ch.sql_delay.value_or(0) > 0
                            ? fmt::format(" beyond its configured delay of {}",
                                          Seconds(static_cast<double>(*ch.sql_delay)))
                            : std::string(),
                        Backlog(ch));
  f.detail =
      "Reads from this replica see data this old. Likely causes, when found, follow as "
      "replication.lag_cause findings.";
  f.evidence.push_back(ChannelRow(ch));
  f.suggestions.push_back(
      {"send reads that need fresh data to the source until the replica has caught up", ""});
  findings_.push_back(std::move(f));
}

void ReplicationRun::Healthy(const Channel& ch) {
  Finding f;
  f.code = "replication.status";
  f.severity = Severity::kInfo;
  const auto lag = ch.lag();
  f.title = fmt::format("replica of {}{}: IO thread {}, SQL thread {}{}", ch.source(), ch.label(),
                        collect::ThreadStateName(ch.base.io), collect::ThreadStateName(ch.base.sql),
                        lag ? fmt::format(", {} behind", Seconds(*lag)) : std::string());
  f.evidence.push_back(ChannelRow(ch));
  findings_.push_back(std::move(f));
}

void ReplicationRun::LagCauses(const std::vector<const Channel*>& lagging) {
  if (!appliers_) {
    if (auto result = Read(dialect::ApplierTransactions(d_), "the applier's transaction")) {
      appliers_ = ParseApplierTransactions(*result);
    }
  }
  for (const Channel* ch : lagging) {
    const double lag = *ch->lag();
    ApplierCauses(*ch);
    SingleThreaded(*ch, lag);
    IoBehind(*ch, lag);
  }
  TablesWithoutPrimaryKey(lagging);
}

void ReplicationRun::ApplierCauses(const Channel& ch) {
  if (!appliers_) return;
  for (const auto& t : *appliers_) {
    const bool long_running = t.age_seconds >= thresholds_.applier_transaction_seconds;
    if (!long_running && !t.waiting_for_lock()) continue;
    // Transactions are not tied to a channel: with several lagging channels each is reported
    // once, under the first.
    if (!reported_transactions_.insert(t.trx_id).second) continue;
    Finding f;
    f.code = "replication.lag_cause";
    f.severity = Severity::kWarning;
    if (t.waiting_for_lock()) {
      f.title = fmt::format(
          "the replication applier (connection {}) waits {} for a row lock{} while {} behind",
          t.thread_id, Seconds(t.lock_wait_seconds.value_or(t.age_seconds)),
          t.blocking_thread_id
              ? fmt::format(" held by connection {} on this replica", *t.blocking_thread_id)
              : std::string(),
          Seconds(*ch.lag()));
    } else {
      f.title = fmt::format(
          "the replication applier (connection {}) has been applying one transaction for {} "
          "({} rows modified so far) while {} behind",
          t.thread_id, Seconds(t.age_seconds), t.rows_modified, Seconds(*ch.lag()));
    }
    f.detail =
        "A transaction replays on the replica as long as it ran on the source, and longer "
        "when row events must find their rows without a usable index; everything behind it "
        "waits.";
    EvidenceRow row;
    row.Add("channel", ch.name())
        .Add("cause", t.waiting_for_lock() ? "applier waits for a lock" : "long transaction")
        .Add("connection_id", t.thread_id)
        .Add("trx_id", t.trx_id)
        .Add("transaction_seconds", t.age_seconds)
        .Add("trx_state", t.state)
        .Add("rows_locked", t.rows_locked)
        .Add("rows_modified", t.rows_modified)
        .Add("lock_wait_seconds", t.lock_wait_seconds ? EvidenceValue(*t.lock_wait_seconds)
                                                      : EvidenceValue(std::monostate{}))
        .Add("blocking_connection_id",
             t.blocking_thread_id ? EvidenceValue(static_cast<int64_t>(*t.blocking_thread_id))
                                  : EvidenceValue(std::monostate{}))
        .Add("thread_state", OptionalText(t.thread_state))
        .Add("db", OptionalText(t.db))
        .Add("statement", t.query
                              ? std::optional<std::string>(core::OneLine(*t.query, kStatementChars))
                              : std::nullopt);
    f.evidence.push_back(std::move(row));
    if (t.blocking_thread_id) {
      f.suggestions.push_back(
          {fmt::format("connection {} on this replica holds the lock the applier needs (a "
                       "local session, e.g. a report with SELECT ... FOR UPDATE or a forgotten "
                       "transaction): end its transaction, or kill it",
                       *t.blocking_thread_id),
           d_.KillConnection(*t.blocking_thread_id)});
    } else if (t.waiting_for_lock()) {
      f.suggestions.push_back(
          {"find the session on this replica holding the lock (investigate --only locks)", ""});
    }
    if (long_running && !t.waiting_for_lock()) {
      f.suggestions.push_back(
          {"large transactions on the source (bulk UPDATE/DELETE, big imports) replay here in "
           "one piece: split such jobs into smaller batches on the source",
           ""});
    }
    findings_.push_back(std::move(f));
  }
}

void ReplicationRun::SingleThreaded(const Channel& ch, double lag) {
  const ApplyMode mode = ReadApplyMode(variables_, d_.flavor());
  if (!mode.single_threaded()) return;
  Finding f;
  f.code = "replication.lag_cause";
  f.severity = Severity::kWarning;
  f.title = fmt::format("the replica applies with a single thread ({} = {}{}) while {} behind{}",
                        mode.variable, *mode.threads,
                        mode.mode.empty() ? std::string() : fmt::format(", mode {}", mode.mode),
                        Seconds(lag), ch.label());
  f.detail =
      "The source commits in parallel; one applier thread replays its transactions one after "
      "the other and falls behind under write load.";
  EvidenceRow row;
  row.Add("channel", ch.name())
      .Add("cause", "single-threaded apply")
      .Add("variable", mode.variable)
      .Add("threads", *mode.threads)
      .Add("parallel_mode", OptionalText(mode.mode.empty() ? ch.parallel_mode : mode.mode))
      .Add("lag_seconds", lag);
  f.evidence.push_back(std::move(row));
  const std::string sql = dialect::EnableParallelApply(d_, kSuggestedParallelThreads);
  f.suggestions.push_back(
      {sql.empty() ? "enable parallel apply in the DB parameter group (replica_parallel_workers / "
                     "slave_parallel_workers, or slave_parallel_threads on MariaDB)"
                   : fmt::format("enable parallel apply ({} threads; on MySQL also prefer "
                                 "replica_parallel_type = LOGICAL_CLOCK with "
                                 "replica_preserve_commit_order = ON), and persist it in the "
                                 "configuration file",
                                 kSuggestedParallelThreads),
       sql});
  findings_.push_back(std::move(f));
}

void ReplicationRun::IoBehind(const Channel& ch, double lag) {
  if (!ch.applier_caught_up()) return;
  if (ch.base.io != ThreadState::kRunning) return;
  Finding f;
  f.code = "replication.lag_cause";
  f.severity = Severity::kWarning;
  f.title = fmt::format(
      "the SQL thread has applied everything the IO thread fetched ({}), yet the replica is {} "
      "behind{}: the IO thread is not keeping up with the source",
      ch.io_position(), Seconds(lag), ch.label());
  f.detail =
      "The lag is on the receiving side: the network between source and replica, a source too "
      "busy to send its binlog, or the source's clock.";
  EvidenceRow row;
  row.Add("channel", ch.name())
      .Add("cause", "IO thread behind")
      .Add("io_state", OptionalText(ch.base.io_state))
      .Add("io_position", OptionalText(ch.io_position()))
      .Add("sql_position", OptionalText(ch.sql_position()))
      .Add("retrieved_gtid", OptionalText(ch.retrieved_gtid))
      .Add("lag_seconds", lag);
  f.evidence.push_back(std::move(row));
  f.suggestions.push_back(
      {"compare this IO position with the source's current binlog position (run on the "
       "source), and check the network between them",
       dialect::BinaryLogStatus(d_)});
  findings_.push_back(std::move(f));
}

void ReplicationRun::TablesWithoutPrimaryKey(const std::vector<const Channel*>& lagging) {
  // The schemas being replicated: Replicate_Do_DB where it is set, else the schemas the
  // applier works in now, else every schema.
  std::set<std::string> scope;
  for (const Channel* ch : lagging) {
    for (auto& s : SplitList(ch->replicate_do_db)) scope.insert(std::move(s));
  }
  if (scope.empty() && appliers_) {
    for (const auto& t : *appliers_) {
      if (!t.db.empty()) scope.insert(t.db);
    }
  }
  const std::vector<std::string> schemas(scope.begin(), scope.end());
  const std::string scope_text =
      schemas.empty() ? "every schema" : fmt::format("{}", fmt::join(schemas, ", "));
  auto tables =
      Read(dialect::TablesWithoutPrimaryKey(d_, schemas, thresholds_.tables_without_primary_key),
           "tables without a primary key");
  if (!tables) return;
  if (tables->rows.empty()) {
    // information_schema lists only tables the account may see.
    auto visible = Read(dialect::VisibleTableCount(d_, schemas), "visible tables");
    if (visible && !visible->rows.empty() &&
        visible->rows[0]["tables"].AsInt64().value_or(0) == 0) {
      Partial(fmt::format("tables without a primary key in {}", scope_text),
              "the account sees no table there: information_schema lists only tables it has "
              "a privilege on (GRANT SELECT ON the replicated schemas to check them)");
    }
    return;
  }
  Finding f;
  f.code = "replication.lag_cause";
  f.severity = Severity::kWarning;
  const size_t n = tables->rows.size();
  f.title = fmt::format(
      "{}{} table{} without a primary key in the replicated schemas ({}): row-based events on "
      "them scan the table for every row changed",
      n, n >= static_cast<size_t>(thresholds_.tables_without_primary_key) ? "+" : "",
      n == 1 ? "" : "s", scope_text);
  f.detail =
      "With row-based replication the replica finds each changed row by the primary key; "
      "without one it falls back to another index or a full table scan per row, so one bulk "
      "change on the source can take hours here.";
  std::string first_schema;
  std::string first_table;
  for (const auto& r : tables->rows) {
    EvidenceRow row;
    const std::string schema = r["table_schema"].StringOr("");
    const std::string table = r["table_name"].StringOr("");
    if (first_table.empty()) {
      first_schema = schema;
      first_table = table;
    }
    row.Add("cause", "table without primary key")
        .Add("table_schema", schema)
        .Add("table_name", table)
        .Add("engine", OptionalText(r["engine"].StringOr("")))
        .Add("table_rows", OptionalInt(r["table_rows"].AsInt64()))
        .Add("unique_keys", r["unique_keys"].AsInt64().value_or(0));
    f.evidence.push_back(std::move(row));
  }
  f.suggestions.push_back(
      {fmt::format("add a primary key to each (on the source, which replicates it; with an "
                   "online schema-change tool for large tables), e.g. for {}.{}",
                   first_schema, first_table),
       dialect::AddPrimaryKey(d_, first_schema, first_table)});
  findings_.push_back(std::move(f));
}

void ReplicationRun::SourceFindings() {
  auto dumps = Read(dialect::BinlogDumpThreads(d_), "replicas connected (Binlog Dump threads)");
  if (!dumps || dumps->rows.empty()) return;
  const size_t connected = dumps->rows.size();

  Finding f;
  f.code = "replication.replicas";
  f.severity = Severity::kInfo;
  const std::string hosts_sql = dialect::ReplicaHosts(d_);
  std::string refused;
  std::optional<mysql::ResultSet> hosts;
  if (context_.expired()) {
    refused = "the step ran out of time";
  } else {
    auto result = context_.target.session->Query(hosts_sql);
    if (result) {
      hosts = std::move(*result);
    } else if (result.error().code == core::ErrorCode::kPrivilege) {
      refused = fmt::format("error {}: missing privilege", result.error().server_errno);
    } else {
      refused = core::OneLine(result.error().message, kErrorChars);
    }
  }
  if (hosts && !hosts->rows.empty()) {
    f.title = fmt::format("{} replica{} connected (source: {})", connected,
                          connected == 1 ? "" : "s", hosts_sql);
    for (const auto& r : hosts->rows) {
      EvidenceRow row;
      row.Add("source", hosts_sql)
          .Add("server_id", OptionalInt(r["Server_id"].AsInt64()))
          .Add("host", OptionalText(r["Host"].StringOr("")))
          .Add("port", OptionalInt(r["Port"].AsInt64()))
          .Add("source_server_id", OptionalInt(r.Has("Source_id") ? r["Source_id"].AsInt64()
                                                                  : r["Master_id"].AsInt64()))
          .Add("replica_uuid", OptionalText(r.Has("Replica_UUID") ? r["Replica_UUID"].StringOr("")
                                                                  : r["Slave_UUID"].StringOr("")));
      f.evidence.push_back(std::move(row));
    }
  } else {
    const std::string source = "processlist (Binlog Dump threads)";
    f.title = fmt::format("{} replica{} connected (source: {})", connected,
                          connected == 1 ? "" : "s", source);
    f.detail = refused.empty() ? fmt::format(
                                     "{} lists no registered replica; the Binlog Dump threads show "
                                     "the connections (host and port of each replica's connection, "
                                     "time in the current state).",
                                     hosts_sql)
                               : fmt::format(
                                     "{} was refused ({}): on MariaDB 10.5.2+ it needs REPLICATION "
                                     "MASTER ADMIN, on MySQL REPLICATION SLAVE, neither part of a "
                                     "monitoring account. The Binlog Dump threads show the "
                                     "connections instead.",
                                     hosts_sql, refused);
    for (const auto& r : dumps->rows) {
      EvidenceRow row;
      row.Add("source", source)
          .Add("connection_id", OptionalInt(r["id"].AsInt64()))
          .Add("user", OptionalText(r["user"].StringOr("")))
          .Add("host", OptionalText(r["host"].StringOr("")))
          .Add("command", OptionalText(r["command"].StringOr("")))
          .Add("state_seconds", OptionalInt(r["time_seconds"].AsInt64()))
          .Add("state", OptionalText(r["state"].StringOr("")));
      f.evidence.push_back(std::move(row));
    }
  }
  findings_.push_back(std::move(f));
}

// Aurora's own replicas share the cluster volume and do not appear in SHOW REPLICAS.
void ReplicationRun::AuroraFindings() {
  auto result = Read(dialect::AuroraReplicaHostStatus(d_),
                     "Aurora cluster instances (information_schema.replica_host_status)");
  if (!result || result->rows.empty()) return;
  const std::string source = "information_schema.replica_host_status";
  Finding f;
  f.code = "replication.replicas";
  f.severity = Severity::kInfo;
  f.title = fmt::format("Aurora cluster: {} instance{} (source: {})", result->rows.size(),
                        result->rows.size() == 1 ? "" : "s", source);
  for (const auto& r : result->rows) {
    const std::string server = r["SERVER_ID"].StringOr("");
    const std::string session = r["SESSION_ID"].StringOr("");
    std::optional<double> lag_ms = r["REPLICA_LAG_IN_MILLISECONDS"].AsDouble();
    if (!lag_ms) lag_ms = r["REPLICA_LAG_IN_MSEC"].AsDouble();
    std::string role;
    if (r.Has("SESSION_ID")) {
      role = session == "MASTER_SESSION_ID" ? "writer" : "reader";
    } else if (r.Has("HAS_PRIMARY")) {
      role =
          r["HAS_PRIMARY"].AsBool().value_or(false) ? "multi-master (has primary)" : "multi-master";
    }
    EvidenceRow row;
    row.Add("source", source)
        .Add("server_id", server)
        .Add("role", OptionalText(role))
        .Add("session_id", OptionalText(session))
        .Add("replica_lag_ms", lag_ms ? EvidenceValue(*lag_ms) : EvidenceValue(std::monostate{}))
        .Add("cpu_percent", r["CPU"].AsDouble() ? EvidenceValue(*r["CPU"].AsDouble())
                                                : EvidenceValue(std::monostate{}))
        .Add("status", OptionalText(r["LAST_REPORTED_STATUS"].StringOr("")))
        .Add("last_update", OptionalText(r["LAST_UPDATE_TIMESTAMP"].StringOr("")));
    f.evidence.push_back(std::move(row));

    if (role != "writer" && lag_ms && *lag_ms / 1000.0 >= thresholds_.lag_warning_seconds) {
      const double lag = *lag_ms / 1000.0;
      Finding lagf;
      lagf.code = "replication.lag";
      lagf.severity =
          lag >= thresholds_.lag_critical_seconds ? Severity::kCritical : Severity::kWarning;
      lagf.title = fmt::format("Aurora replica {} is {} behind the writer", server, Seconds(lag));
      lagf.detail =
          "Aurora replicas read the shared cluster volume and normally lag by milliseconds; "
          "seconds of lag point to a reader overloaded by its own queries or a writer with a "
          "very high write rate.";
      EvidenceRow lrow;
      lrow.Add("source", source).Add("server_id", server).Add("replica_lag_ms", *lag_ms);
      lagf.evidence.push_back(std::move(lrow));
      lagf.suggestions.push_back(
          {"look at that reader's load (its long queries: investigate --only queries on it) "
           "and send reads that need fresh data to the writer",
           ""});
      findings_.push_back(std::move(lagf));
    }
  }
  findings_.push_back(std::move(f));
}

}  // namespace

std::string ReplicationStep::RequiredGrant(const dialect::Flavor& flavor,
                                           std::string_view account) const {
  return Grants({GrantReplicationMonitor(flavor, account), GrantProcess(account)});
}

core::Result<std::vector<Finding>> ReplicationStep::Run(StepContext& context) {
  ReplicationRun run(context, thresholds_);
  return run.Execute();
}

}  // namespace dbrunbook::steps
