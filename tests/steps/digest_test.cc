// Unit tests of the statement digest step: its statements per flavor, the comparison of two
// snapshots (deltas, new digests, resets, the full table's catch-all row) and the findings.
//
// The main scenario replays two real snapshots and the digest texts captured from a sandbox
// MariaDB 10.11.19 around a known workload (tests/steps/data/digest--README.txt). No public
// recording of events_statements_summary_by_digest exists for MySQL, RDS or Aurora; the table
// and its columns are MySQL's (MariaDB's performance_schema is MySQL 5.6/5.7's), so those
// flavors replay the same rows, which checks the statements they are sent and the flavor
// rules. Edge cases (resets, a full table, 64-bit counters) use constructed rows, labelled.
#include "dialect/digest.h"

#include <gtest/gtest.h>

#include "steps/investigate_digest.h"
#include "support/fake_session.h"
#include "support/recorded_output.h"

namespace dbrunbook::steps {
namespace {

using testing::FakeSession;

constexpr const char* kMariaDbVariables =
    "tests/dialect/data/variables--mariadb-10.11.19--debian12-captured.txt";
constexpr const char* kPercona80Variables =
    "conformance/server-outputs/variables/"
    "variables--percona-server-8.0.32-24--pt-summary-temp_enc008.txt";
constexpr const char* kBefore =
    "tests/steps/data/digest-before--mariadb-10.11.19--sandbox-captured.txt";
constexpr const char* kAfter =
    "tests/steps/data/digest-after--mariadb-10.11.19--sandbox-captured.txt";
constexpr const char* kTexts =
    "tests/steps/data/digest-texts--mariadb-10.11.19--sandbox-captured.txt";

// The digests the captured workload produced.
constexpr const char* kFullScanSelect = "1458cb450e4ee61ff0cc0fc66a298150";  // WHERE note = ?
constexpr const char* kGroupBy = "5392cf2395480791c170d999d10c1ad5";
constexpr const char* kUpdate = "a3162f89fce0fe34ec3f0ae32b594be1";
constexpr const char* kPrimaryKey = "3a1e84f7869858aef111c23ee0eb49c2";  // WHERE id = ?

mysql::ResultSet Recorded(const char* source_path) {
  auto text = testing::ReadSourceFile(source_path);
  EXPECT_TRUE(text) << source_path;
  if (!text) return {};
  auto sets = testing::ParseRecordedOutput(*text);
  EXPECT_EQ(sets.size(), 1u) << source_path;
  return sets.empty() ? mysql::ResultSet{} : sets.front();
}

dialect::VariableMap Variables(const char* path, bool shared) {
  auto text = shared ? testing::ReadSharedFile(path) : testing::ReadSourceFile(path);
  EXPECT_TRUE(text) << path;
  return text ? testing::ParseVariables(*text) : dialect::VariableMap{};
}

// Flavors: MariaDB 10.11 and Percona 8.0.32 from recordings; RDS and Aurora constructed from
// the documented facts tests/dialect/flavor_test.cc uses.
dialect::Flavor MariaDb() { return dialect::DetectFlavor(Variables(kMariaDbVariables, false)); }
dialect::Flavor MySql8() { return dialect::DetectFlavor(Variables(kPercona80Variables, true)); }
dialect::Flavor Rds() {
  return dialect::DetectFlavor(
      {{"version", "8.0.35"}, {"basedir", "/rdsdbbin/mysql/"}, {"datadir", "/rdsdbdata/db/"}});
}
dialect::Flavor Aurora() {
  return dialect::DetectFlavor({{"version", "8.0.28"},
                                {"aurora_version", "3.04.0"},
                                {"basedir", "/rdsdbbin/oscar-8.0.mysql_aurora.3.04.0.0.32961.0/"}});
}

dialect::Flavor WithDigests(dialect::Flavor flavor, std::optional<bool> performance_schema = true,
                            std::optional<bool> digests = true) {
  flavor.capabilities.performance_schema = performance_schema;
  flavor.capabilities.statement_digests = digests;
  return flavor;
}

const std::vector<std::string> kSnapshotColumns = {"dbrunbook_digest_snapshot",
                                                   "schema_name",
                                                   "digest",
                                                   "calls",
                                                   "total_latency_ps",
                                                   "lock_latency_ps",
                                                   "errors",
                                                   "warnings",
                                                   "rows_affected",
                                                   "rows_sent",
                                                   "rows_examined",
                                                   "tmp_tables",
                                                   "tmp_disk_tables",
                                                   "full_joins",
                                                   "no_index_used",
                                                   "no_good_index_used",
                                                   "first_seen"};

// A constructed snapshot row: calls, latency (ps), rows sent, rows examined, no-index calls.
std::vector<std::optional<std::string>> Row(std::optional<std::string> digest, uint64_t calls,
                                            uint64_t latency_ps, uint64_t sent, uint64_t examined,
                                            uint64_t no_index,
                                            std::string first_seen = "2026-11-26 10:00:00",
                                            std::optional<std::string> schema = "app") {
  return {"1",
          schema,
          digest,
          std::to_string(calls),
          std::to_string(latency_ps),
          "0",
          "0",
          "0",
          "0",
          std::to_string(sent),
          std::to_string(examined),
          "0",
          "0",
          "0",
          std::to_string(no_index),
          "0",
          first_seen};
}

mysql::ResultSet Snapshot(const std::vector<std::vector<std::optional<std::string>>>& rows) {
  return mysql::MakeResultSet(kSnapshotColumns, rows);
}

struct StepOutcome {
  std::vector<Finding> findings;
  std::vector<std::string> statements;
  int prepared_reads = 0;
  core::Duration slept{};
  bool ok = false;
  core::Error error;
};

class DigestStepTest : public ::testing::Test {
 protected:
  void SetUpTarget(const dialect::Flavor& flavor) {
    auto fake = std::make_unique<FakeSession>();
    fake_ = fake.get();
    target_.emplace(collect::TargetSession{std::move(fake), dialect::Dialect(flavor), {}, {}, {}});
  }

  void ReplyCaptured() {
    const auto& d = target_->dialect;
    fake_->On(dialect::DigestSnapshot(d), Recorded(kBefore));
    fake_->On(dialect::DigestSnapshot(d), Recorded(kAfter));
    fake_->OnPrefix(
        "SELECT 1 AS `dbrunbook_digest_snapshot`, SCHEMA_NAME AS `schema_name`, "
        "DIGEST AS `digest`, SUBSTRING(DIGEST_TEXT",
        Recorded(kTexts));
  }

  StepOutcome RunStep(core::Duration interval = std::chrono::seconds(10), int top = 10,
                      core::Duration budget = std::chrono::seconds(20)) {
    InvestigateOptions options;
    options.digest_interval = interval;
    options.digest_top = top;
    const auto start = clock_.MonotonicNow();
    StepContext context{*target_, clock_, options, start + budget};
    auto result = DigestStep().Run(context);
    StepOutcome run;
    run.slept = clock_.MonotonicNow() - start;
    // The prepared-statement count (MariaDB) is read before the first and after the second
    // snapshot, outside the interval; counted apart so the snapshots' order stays checked.
    for (const auto& statement : fake_->statements()) {
      if (statement == dialect::PreparedExecutions(target_->dialect)) {
        ++run.prepared_reads;
      } else {
        run.statements.push_back(statement);
      }
    }
    run.ok = result.has_value();
    if (result) {
      run.findings = *result;
    } else {
      run.error = result.error();
    }
    return run;
  }

  core::SimulatedClock clock_;
  FakeSession* fake_ = nullptr;
  std::optional<collect::TargetSession> target_;
};

const Finding* FindCode(const std::vector<Finding>& findings, std::string_view code) {
  for (const auto& f : findings) {
    if (f.code == code) return &f;
  }
  return nullptr;
}

std::vector<const Finding*> AllOf(const std::vector<Finding>& findings, std::string_view code) {
  std::vector<const Finding*> out;
  for (const auto& f : findings) {
    if (f.code == code) out.push_back(&f);
  }
  return out;
}

std::string Text(const EvidenceRow& row, std::string_view name) {
  const EvidenceValue* v = row.Find(name);
  return v != nullptr ? EvidenceText(*v) : "<missing>";
}

// --- statements --------------------------------------------------------------------------

TEST(DigestDialectTest, StatementsCarryTheMarkerAndExcludeIt) {
  const dialect::Dialect d(MariaDb());
  const std::string snapshot = dialect::DigestSnapshot(d);
  EXPECT_TRUE(
      snapshot.starts_with("SELECT 1 AS `dbrunbook_digest_snapshot`, SCHEMA_NAME AS "
                           "`schema_name`, DIGEST AS `digest`, COUNT_STAR AS `calls`, "
                           "SUM_TIMER_WAIT AS `total_latency_ps`"));
  EXPECT_TRUE(snapshot.ends_with(
      "FROM performance_schema.events_statements_summary_by_digest WHERE DIGEST_TEXT IS NULL OR "
      "DIGEST_TEXT NOT LIKE '%dbrunbook_digest_snapshot%'"));
  EXPECT_EQ(snapshot.find("DIGEST_TEXT AS"), std::string::npos);  // no text in snapshots
  // The same statement on every flavor that has the table.
  for (const auto& flavor : {MySql8(), Rds(), Aurora()}) {
    EXPECT_EQ(dialect::DigestSnapshot(dialect::Dialect(flavor)), snapshot) << flavor.Id();
  }
  EXPECT_EQ(dialect::DigestTexts(d, {"abc123", "x'; DROP", ""}),
            "SELECT 1 AS `dbrunbook_digest_snapshot`, SCHEMA_NAME AS `schema_name`, DIGEST AS "
            "`digest`, SUBSTRING(DIGEST_TEXT, 1, 1000) AS `digest_text` FROM "
            "performance_schema.events_statements_summary_by_digest WHERE DIGEST IN ('abc123')");
  EXPECT_EQ(dialect::DigestTexts(d, {"not hex"}), "");
  EXPECT_EQ(dialect::ResetDigestTable(d),
            "TRUNCATE TABLE performance_schema.events_statements_summary_by_digest");
}

TEST(DigestDialectTest, StatementSamplesReadBothHistoriesForHexDigestsOnly) {
  const dialect::Dialect d(MariaDb());
  EXPECT_EQ(dialect::StatementSamples(d, {"3e5a8bf6c2d9980caa5812f49d6acbeb", "x'; DROP"}),
            "SELECT DIGEST AS `digest`, CURRENT_SCHEMA AS `schema_name`, SQL_TEXT AS "
            "`sql_text`, TIMER_START AS `started` FROM "
            "performance_schema.events_statements_history WHERE DIGEST IN "
            "('3e5a8bf6c2d9980caa5812f49d6acbeb') AND SQL_TEXT IS NOT NULL UNION ALL SELECT "
            "DIGEST AS `digest`, CURRENT_SCHEMA AS `schema_name`, SQL_TEXT AS `sql_text`, "
            "TIMER_START AS `started` FROM performance_schema.events_statements_history_long "
            "WHERE DIGEST IN ('3e5a8bf6c2d9980caa5812f49d6acbeb') AND SQL_TEXT IS NOT NULL "
            "ORDER BY `started` DESC");
  EXPECT_EQ(dialect::StatementSamples(d, {"not hex", ""}), "");
}

TEST(DigestDialectTest, WhichFlavorsHaveTheTable) {
  EXPECT_TRUE(dialect::HasStatementDigestTable(MariaDb()));
  EXPECT_TRUE(dialect::HasStatementDigestTable(MySql8()));
  EXPECT_TRUE(dialect::HasStatementDigestTable(Rds()));
  EXPECT_TRUE(dialect::HasStatementDigestTable(Aurora()));
  EXPECT_FALSE(dialect::HasStatementDigestTable(dialect::DetectFlavor({{"version", "5.5.21"}})));
  EXPECT_FALSE(
      dialect::HasStatementDigestTable(dialect::DetectFlavor({{"version", "5.5.68-MariaDB"}})));
  EXPECT_TRUE(
      dialect::HasStatementDigestTable(dialect::DetectFlavor({{"version", "10.0.38-MariaDB"}})));
}

// --- comparison --------------------------------------------------------------------------

TEST(DigestCompareTest, CapturedSnapshots) {
  const auto cmp = CompareDigestSnapshots(ParseDigestSnapshot(Recorded(kBefore)),
                                          ParseDigestSnapshot(Recorded(kAfter)));
  EXPECT_EQ(cmp.rows_before, 25u);
  EXPECT_EQ(cmp.rows_after, 29u);
  EXPECT_FALSE(cmp.reset());
  EXPECT_FALSE(cmp.catch_all_present);
  ASSERT_EQ(cmp.deltas.size(), 5u);
  EXPECT_EQ(*cmp.deltas[0].digest, kFullScanSelect);
  EXPECT_EQ(*cmp.deltas[1].digest, kGroupBy);
  EXPECT_EQ(*cmp.deltas[2].digest, kUpdate);
  EXPECT_EQ(*cmp.deltas[3].digest, kPrimaryKey);
  const auto& top = cmp.deltas[0];
  EXPECT_EQ(top.schema, "dtest");
  EXPECT_TRUE(top.new_in_interval);
  EXPECT_EQ(top.counters.calls, 150u);
  EXPECT_EQ(top.counters.total_latency_ps, 740815895000u);
  EXPECT_EQ(top.counters.rows_examined, 3000000u);
  EXPECT_EQ(top.counters.rows_sent, 0u);
  EXPECT_EQ(top.counters.no_index_used, 150u);
  EXPECT_EQ(cmp.deltas[1].counters.tmp_tables, 20u);
  // The client's SELECT SCHEMA() ran once more: a delta of an existing row.
  EXPECT_FALSE(cmp.deltas[4].new_in_interval);
  EXPECT_EQ(cmp.deltas[4].counters.calls, 1u);
  EXPECT_EQ(cmp.deltas[4].counters.total_latency_ps, 286169000u - 128185000u);
  EXPECT_EQ(cmp.total.calls, 150u + 150u + 20u + 20u + 1u);
}

TEST(DigestCompareTest, ResetsAreRecognisedNeverNegative) {
  // Constructed: a TRUNCATE between the snapshots. "a" came back with a new FIRST_SEEN and
  // fewer calls, "b" vanished, "c" is new.
  const auto before =
      ParseDigestSnapshot(Snapshot({Row("a", 100, 9000, 10, 10, 0), Row("b", 5, 500, 5, 5, 0)}));
  const auto after =
      ParseDigestSnapshot(Snapshot({Row("a", 3, 300, 3, 3, 0, "2026-11-26 10:00:05"),
                                    Row("c", 2, 200, 2, 2, 0, "2026-11-26 10:00:06")}));
  const auto cmp = CompareDigestSnapshots(before, after);
  EXPECT_TRUE(cmp.reset());
  EXPECT_EQ(cmp.vanished, 1u);
  EXPECT_EQ(cmp.restarted, 1u);
  ASSERT_EQ(cmp.deltas.size(), 2u);
  EXPECT_EQ(*cmp.deltas[0].digest, "a");
  EXPECT_TRUE(cmp.deltas[0].restarted);
  EXPECT_EQ(cmp.deltas[0].counters.calls, 3u);  // what ran after the reset
  // A counter going backwards with the same FIRST_SEEN (a reset within the same second).
  const auto same_second = CompareDigestSnapshots(
      before, ParseDigestSnapshot(Snapshot({Row("a", 1, 50, 1, 1, 0), Row("b", 5, 500, 5, 5, 0)})));
  EXPECT_EQ(same_second.restarted, 1u);
  EXPECT_EQ(same_second.deltas.at(0).counters.calls, 1u);
}

TEST(DigestCompareTest, CatchAllRowAndLargeCounters) {
  // Constructed: the catch-all row (DIGEST and SCHEMA_NAME NULL) of a full table, and
  // SUM_TIMER_WAIT beyond 2^63 picoseconds (106 days of statement time: a busy server).
  const uint64_t big = 10'000'000'000'000'000'000ULL;
  const auto before = ParseDigestSnapshot(
      Snapshot({Row(std::nullopt, 40, 4000, 0, 0, 0, "2026-11-26 09:00:00", std::nullopt),
                Row("d", 1000, big, 1, 1, 0)}));
  const auto after = ParseDigestSnapshot(
      Snapshot({Row(std::nullopt, 52, 5200, 0, 0, 0, "2026-11-26 09:00:00", std::nullopt),
                Row("d", 1010, big + 2'000'000'000'000, 11, 11, 0)}));
  const auto cmp = CompareDigestSnapshots(before, after);
  EXPECT_TRUE(cmp.catch_all_present);
  EXPECT_EQ(cmp.catch_all_calls, 12u);
  ASSERT_EQ(cmp.deltas.size(), 2u);
  EXPECT_EQ(*cmp.deltas[0].digest, "d");
  EXPECT_EQ(cmp.deltas[0].counters.total_latency_ps, 2'000'000'000'000u);
  EXPECT_TRUE(cmp.deltas[1].catch_all());
  EXPECT_FALSE(cmp.reset());
}

// --- the step ----------------------------------------------------------------------------

TEST_F(DigestStepTest, CapturedWorkloadOnEveryFlavor) {
  for (const auto& flavor : {MariaDb(), MySql8(), Rds(), Aurora()}) {
    SCOPED_TRACE(flavor.Id());
    SetUpTarget(WithDigests(flavor));
    ReplyCaptured();
    const StepOutcome run = RunStep();
    ASSERT_TRUE(run.ok) << run.error.ToString();
    // snapshot, (wait), snapshot, texts: nothing else between the two snapshots.
    ASSERT_EQ(run.statements.size(), 3u);
    EXPECT_EQ(run.statements[0], dialect::DigestSnapshot(target_->dialect));
    EXPECT_EQ(run.statements[1], dialect::DigestSnapshot(target_->dialect));
    EXPECT_NE(run.statements[2].find(kFullScanSelect), std::string::npos);
    EXPECT_EQ(run.slept, std::chrono::seconds(10));
    // Unanswered here (the fake refuses it): read once, then not again.
    EXPECT_EQ(run.prepared_reads, flavor.is_mariadb() ? 1 : 0);

    const Finding* top = FindCode(run.findings, "digest.top");
    ASSERT_NE(top, nullptr);
    EXPECT_EQ(top->severity, Severity::kInfo);
    ASSERT_EQ(top->evidence.size(), 5u);
    const EvidenceRow& first = top->evidence[0];
    EXPECT_EQ(Text(first, "digest"), kFullScanSelect);
    EXPECT_EQ(Text(first, "schema"), "dtest");
    EXPECT_EQ(Text(first, "statement"), "SELECT ID FROM `t` WHERE `note` = ?");
    EXPECT_EQ(Text(first, "calls"), "150");
    EXPECT_EQ(Text(first, "rows_examined"), "3000000");
    EXPECT_EQ(Text(first, "rows_sent"), "0");
    EXPECT_EQ(Text(first, "no_index_used"), "150");
    EXPECT_DOUBLE_EQ(std::get<double>(*first.Find("total_seconds")), 0.740815895);
    EXPECT_NEAR(std::get<double>(*first.Find("avg_ms")), 740.815895 / 150, 1e-9);
    EXPECT_EQ(Text(top->evidence[1], "tmp_tables"), "20");
    EXPECT_NE(top->title.find("SELECT ID FROM `t` WHERE `note` = ?"), std::string::npos);
    EXPECT_NE(top->title.find("150 calls"), std::string::npos);

    // Three statements scan without an index; the primary-key lookup does not.
    const auto scans = AllOf(run.findings, "digest.full_scan");
    ASSERT_EQ(scans.size(), 3u);
    std::set<std::string> digests;
    for (const Finding* f : scans) {
      EXPECT_EQ(f->severity, Severity::kWarning);
      digests.insert(Text(f->evidence.at(0), "digest"));
    }
    EXPECT_EQ(digests, (std::set<std::string>{kFullScanSelect, kGroupBy, kUpdate}));
    EXPECT_EQ(FindCode(run.findings, "digest.reset"), nullptr);
    EXPECT_EQ(FindCode(run.findings, "digest.table_full"), nullptr);
  }
}

TEST_F(DigestStepTest, TopNLimitsRowsAndTexts) {
  SetUpTarget(WithDigests(MariaDb()));
  ReplyCaptured();
  const StepOutcome run = RunStep(std::chrono::seconds(10), 2);
  const Finding* top = FindCode(run.findings, "digest.top");
  ASSERT_NE(top, nullptr);
  EXPECT_EQ(top->evidence.size(), 2u);
  EXPECT_EQ(run.statements[2].find(kUpdate), std::string::npos);
  EXPECT_EQ(AllOf(run.findings, "digest.full_scan").size(), 2u);
}

TEST_F(DigestStepTest, ZeroIntervalSkipsTheStep) {
  SetUpTarget(WithDigests(MariaDb()));
  const StepOutcome run = RunStep(core::Duration::zero());
  EXPECT_TRUE(run.ok);
  EXPECT_TRUE(run.findings.empty());
  EXPECT_TRUE(run.statements.empty());
  EXPECT_EQ(run.slept, core::Duration::zero());
}

TEST_F(DigestStepTest, UnavailableDigestsDegradeWithTheReason) {
  // performance_schema OFF (MariaDB's default).
  SetUpTarget(WithDigests(MariaDb(), false, std::nullopt));
  StepOutcome run = RunStep();
  ASSERT_EQ(run.findings.size(), 1u);
  EXPECT_EQ(run.findings[0].code, "digest.unavailable");
  EXPECT_EQ(run.findings[0].severity, Severity::kInfo);
  EXPECT_NE(run.findings[0].title.find("performance_schema is OFF"), std::string::npos);
  EXPECT_NE(run.findings[0].detail.find("my.cnf"), std::string::npos);
  EXPECT_TRUE(run.statements.empty());

  SetUpTarget(WithDigests(Rds(), false, std::nullopt));
  run = RunStep();
  EXPECT_NE(run.findings.at(0).detail.find("parameter group"), std::string::npos);

  // The consumer disabled: the statement that enables it.
  SetUpTarget(WithDigests(MySql8(), true, false));
  run = RunStep();
  ASSERT_EQ(run.findings.size(), 1u);
  EXPECT_NE(run.findings[0].title.find("statements_digest consumer"), std::string::npos);
  EXPECT_EQ(run.findings[0].suggestions.at(0).sql,
            "UPDATE performance_schema.setup_consumers SET ENABLED = 'YES' WHERE NAME IN "
            "('global_instrumentation', 'statements_digest')");
  EXPECT_TRUE(run.statements.empty());

  // A flavor without the table.
  SetUpTarget(dialect::DetectFlavor({{"version", "5.5.21"}}));
  run = RunStep();
  EXPECT_EQ(run.findings.at(0).code, "digest.unavailable");
  EXPECT_TRUE(run.statements.empty());
}

TEST_F(DigestStepTest, MissingPrivilegeFailsTheStep) {
  // Capabilities unknown (the probe was refused): the step tries, and the refusal becomes the
  // runner's check.incomplete with the GRANT.
  SetUpTarget(WithDigests(MySql8(), true, std::nullopt));
  fake_->On(dialect::DigestSnapshot(target_->dialect),
            FakeSession::ServerError(core::ErrorCode::kPrivilege, 1142, "42000",
                                     "SELECT command denied to user 'monitor'@'%' for table "
                                     "'events_statements_summary_by_digest'"));
  const StepOutcome run = RunStep();
  ASSERT_FALSE(run.ok);
  EXPECT_EQ(run.error.code, core::ErrorCode::kPrivilege);
  EXPECT_EQ(DigestStep().RequiredGrant(target_->flavor(), "'monitor'@'%'"),
            "GRANT SELECT ON performance_schema.* TO 'monitor'@'%'");
}

TEST_F(DigestStepTest, UnreadableTextsStillGiveTheFigures) {
  SetUpTarget(WithDigests(MariaDb()));
  const auto& d = target_->dialect;
  fake_->On(dialect::DigestSnapshot(d), Recorded(kBefore));
  fake_->On(dialect::DigestSnapshot(d), Recorded(kAfter));
  fake_->OnPrefix("SELECT 1 AS `dbrunbook_digest_snapshot`, SCHEMA_NAME",
                  FakeSession::ServerError(core::ErrorCode::kTimeout, 1969, "70100",
                                           "Query execution was interrupted"));
  const StepOutcome run = RunStep();
  ASSERT_TRUE(run.ok);
  const Finding* top = FindCode(run.findings, "digest.top");
  ASSERT_NE(top, nullptr);
  EXPECT_NE(top->detail.find("texts could not be read"), std::string::npos);
  EXPECT_EQ(Text(top->evidence.at(0), "statement"), "");
  EXPECT_EQ(AllOf(run.findings, "digest.full_scan").size(), 3u);
}

TEST_F(DigestStepTest, TheBudgetDoesNotCountTheWait) {
  // A 1 s budget and a 10 s interval: the texts are still read after the wait ...
  SetUpTarget(WithDigests(MariaDb()));
  ReplyCaptured();
  StepOutcome run = RunStep(std::chrono::seconds(10), 10, std::chrono::seconds(1));
  EXPECT_EQ(run.statements.size(), 3u);
  // ... but not once the budget itself is spent (here: already at the start).
  SetUpTarget(WithDigests(MariaDb()));
  ReplyCaptured();
  run = RunStep(std::chrono::seconds(10), 10, core::Duration::zero());
  EXPECT_EQ(run.statements.size(), 2u);
  ASSERT_NE(FindCode(run.findings, "digest.top"), nullptr);
}

// MariaDB gives binary-protocol prepared statements no digest: a workload of them must not
// read as an idle server. Constructed counters (the statement/com/Execute row of
// events_statements_summary_global_by_event_name, as the MariaDB 10.11 sandbox showed
// under sysbench).
TEST_F(DigestStepTest, PreparedStatementsMariaDbDoesNotDigestAreCounted) {
  SetUpTarget(WithDigests(MariaDb()));
  const auto& d = target_->dialect;
  const std::string prepared = dialect::PreparedExecutions(d);
  fake_->On(prepared,
            mysql::MakeResultSet({"dbrunbook_digest_snapshot", "executions", "latency_ps"},
                                 {{"1", "743020", "90000000000000"}}));
  fake_->On(prepared,
            mysql::MakeResultSet({"dbrunbook_digest_snapshot", "executions", "latency_ps"},
                                 {{"1", "763020", "93000000000000"}}));
  fake_->On(dialect::DigestSnapshot(d), Snapshot({Row("a", 1, 10, 1, 1, 0)}));
  StepOutcome run = RunStep(std::chrono::seconds(10));
  ASSERT_TRUE(run.ok) << run.error.ToString();
  EXPECT_EQ(run.prepared_reads, 2);
  const Finding* top = FindCode(run.findings, "digest.top");
  ASSERT_NE(top, nullptr);
  EXPECT_NE(top->title.find("no digested statement completed"), std::string::npos) << top->title;
  const Finding* unseen = FindCode(run.findings, "digest.prepared_unseen");
  ASSERT_NE(unseen, nullptr);
  EXPECT_EQ(unseen->severity, Severity::kWarning);  // all of the statement time
  EXPECT_NE(unseen->title.find("20000 prepared-statement executions"), std::string::npos)
      << unseen->title;
  EXPECT_EQ(Text(unseen->evidence.at(0), "executions"), "20000");
  EXPECT_EQ(Text(unseen->evidence.at(0), "latency_seconds"), "3");

  // None executed in the interval: no finding. Not MariaDB: not read at all.
  SetUpTarget(WithDigests(MariaDb()));
  fake_->On(dialect::PreparedExecutions(target_->dialect),
            mysql::MakeResultSet({"dbrunbook_digest_snapshot", "executions", "latency_ps"},
                                 {{"1", "5", "100"}}));
  fake_->On(dialect::DigestSnapshot(target_->dialect), Snapshot({Row("a", 1, 10, 1, 1, 0)}));
  run = RunStep(std::chrono::seconds(10));
  EXPECT_EQ(run.prepared_reads, 2);
  EXPECT_EQ(FindCode(run.findings, "digest.prepared_unseen"), nullptr);
  SetUpTarget(WithDigests(MySql8()));
  fake_->On(dialect::DigestSnapshot(target_->dialect), Snapshot({Row("a", 1, 10, 1, 1, 0)}));
  run = RunStep(std::chrono::seconds(10));
  EXPECT_EQ(run.prepared_reads, 0);
}

TEST_F(DigestStepTest, QuietServerResetAndFullTable) {
  SetUpTarget(WithDigests(MariaDb()));
  const auto& d = target_->dialect;
  // Constructed: nothing moved.
  fake_->On(dialect::DigestSnapshot(d), Snapshot({Row("a", 1, 10, 1, 1, 0)}));
  StepOutcome run = RunStep(std::chrono::seconds(2));
  ASSERT_EQ(run.findings.size(), 1u);
  EXPECT_EQ(run.findings[0].code, "digest.top");
  EXPECT_NE(run.findings[0].title.find("no statement completed"), std::string::npos);
  EXPECT_EQ(run.statements.size(), 2u);  // no texts to read

  // Constructed: a reset, and the catch-all row of a full table growing.
  SetUpTarget(WithDigests(MariaDb()));
  fake_->On(dialect::DigestSnapshot(target_->dialect),
            Snapshot({Row("aa", 100, 9000, 10, 10, 0), Row("bb", 5, 500, 5, 5, 0),
                      Row(std::nullopt, 7, 700, 0, 0, 0, "2026-11-26 09:00:00", std::nullopt)}));
  fake_->On(dialect::DigestSnapshot(target_->dialect),
            Snapshot({Row("aa", 3, 300, 3, 3, 0, "2026-11-26 10:00:05"),
                      Row(std::nullopt, 19, 1900, 0, 0, 0, "2026-11-26 09:00:00", std::nullopt)}));
  fake_->OnPrefix(
      "SELECT 1 AS `dbrunbook_digest_snapshot`, SCHEMA_NAME",
      mysql::MakeResultSet({"schema_name", "digest", "digest_text"}, {{"app", "aa", "SELECT ?"}}));
  run = RunStep(std::chrono::seconds(2));
  ASSERT_TRUE(run.ok);
  const Finding* reset = FindCode(run.findings, "digest.reset");
  ASSERT_NE(reset, nullptr);
  EXPECT_EQ(reset->severity, Severity::kInfo);
  EXPECT_NE(reset->title.find("1 digests vanished, 1 restarted"), std::string::npos);
  const Finding* full = FindCode(run.findings, "digest.table_full");
  ASSERT_NE(full, nullptr);
  EXPECT_NE(full->title.find("12 calls"), std::string::npos);
  EXPECT_EQ(full->suggestions.at(0).sql,
            "TRUNCATE TABLE performance_schema.events_statements_summary_by_digest");
  const Finding* top = FindCode(run.findings, "digest.top");
  ASSERT_NE(top, nullptr);
  ASSERT_EQ(top->evidence.size(), 2u);
  EXPECT_EQ(Text(top->evidence[0], "digest"), "");  // the catch-all row costs most here
  EXPECT_EQ(Text(top->evidence[0], "statement"),
            "(statements not told apart: the digest table is full)");
  EXPECT_EQ(Text(top->evidence[1], "restarted_in_interval"), "yes");
}

TEST_F(DigestStepTest, FullScanRuleBoundaries) {
  // Constructed rows against the rule: >= half the calls without an index, >= 1,000 rows
  // examined per call, >= 100 x the rows sent or changed.
  struct Case {
    const char* name;
    uint64_t calls, sent, examined, no_index;
    bool flagged;
  };
  for (const Case& c : {Case{"flagged", 10, 10, 10'000, 10, true},
                        Case{"half without index", 10, 10, 10'000, 5, true},
                        Case{"mostly indexed", 10, 10, 10'000, 4, false},
                        Case{"small table", 10, 0, 9'990, 10, false},
                        Case{"sends a lot", 10, 101, 10'000, 10, false}}) {
    SCOPED_TRACE(c.name);
    SetUpTarget(WithDigests(MariaDb()));
    fake_->On(dialect::DigestSnapshot(target_->dialect), Snapshot({}));
    fake_->On(dialect::DigestSnapshot(target_->dialect),
              Snapshot({Row("ab", c.calls, 1000, c.sent, c.examined, c.no_index)}));
    fake_->OnPrefix("SELECT 1 AS `dbrunbook_digest_snapshot`, SCHEMA_NAME",
                    mysql::MakeResultSet({"schema_name", "digest", "digest_text"}, {}));
    const StepOutcome run = RunStep(std::chrono::seconds(1));
    EXPECT_EQ(FindCode(run.findings, "digest.full_scan") != nullptr, c.flagged);
  }
}

}  // namespace
}  // namespace dbrunbook::steps
