// Unit tests of the "resources" step (src/steps/investigate_resources.*) and of its
// statements per flavor (src/dialect/resources.*).
//
// Recordings: tests/steps/data/resources--mariadb-10.11.19--{root,monitor}-<statement>.txt are
// the step's own statements run with the mariadb client (-B) on a MariaDB 10.11.19 sandbox
// holding two schemas, px (the pt-duplicate-key-checker cases: exact and prefix duplicates,
// prefix lengths, unique keys, DESC, FULLTEXT, SPATIAL, HASH on MEMORY, the clustered-key
// suffix) and rx (a table with free space inside and a 3-value index, a partitioned table, a
// foreign key, FULLTEXT duplicates, MyISAM, a view, and `we-ird$t` with index `i``x`): once as
// root (everything visible) and once as the documented monitor account (no SELECT on px/rx:
// information_schema shows nothing, InnoDB's dictionary and performance_schema show it all).
// A statement whose answer was empty left no file.
#include "dialect/resources.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "report/findings.h"
#include "steps/investigate.h"
#include "steps/investigate_resources.h"
#include "support/fake_session.h"
#include "support/recorded_output.h"

namespace dbrunbook::steps {
namespace {

using testing::FakeSession;

constexpr const char* kMariaDbVariables =
    "tests/dialect/data/variables--mariadb-10.11.19--debian12-captured.txt";
constexpr int64_t kTwoDays = 2 * 86400;

mysql::ResultSet Recorded(const std::string& who, const std::string& statement) {
  const std::string path =
      "tests/steps/data/resources--mariadb-10.11.19--" + who + "-" + statement + ".txt";
  auto text = testing::ReadSourceFile(path);
  if (!text) return mysql::MakeResultSet({"empty"}, {});  // the statement returned no row
  auto sets = testing::ParseRecordedOutput(*text);
  EXPECT_EQ(sets.size(), 1u) << path;
  if (sets.empty()) return mysql::MakeResultSet({"empty"}, {});
  mysql::ResultSet set = sets.front();
  // The parser reads any two-column TAB block as headerless name/value pairs (SHOW VARIABLES):
  // here the first line is a header.
  if (set.columns->size() == 2 && set.columns->list()[0].name == "Variable_name" &&
      !set.rows.empty()) {
    std::vector<std::string> names = {set.rows[0].at(0).StringOr(""),
                                      set.rows[0].at(1).StringOr("")};
    std::vector<std::vector<std::optional<std::string>>> rows;
    for (size_t i = 1; i < set.rows.size(); ++i) {
      const auto value = [&](size_t c) -> std::optional<std::string> {
        auto v = set.rows[i].at(c).AsString();
        return v ? std::optional<std::string>(std::string(*v)) : std::nullopt;
      };
      rows.push_back({value(0), value(1)});
    }
    set = mysql::MakeResultSet(names, rows);
  }
  return set;
}

mysql::ResultSet Uptime(int64_t seconds) {
  return mysql::MakeResultSet({"Variable_name", "Value"}, {{"Uptime", std::to_string(seconds)}});
}

dialect::Flavor MariaDb() {
  auto text = testing::ReadSourceFile(kMariaDbVariables);
  EXPECT_TRUE(text) << kMariaDbVariables;
  auto flavor = dialect::DetectFlavor(testing::ParseVariables(text ? *text : ""));
  EXPECT_TRUE(flavor.detected());
  EXPECT_EQ(flavor.capabilities.performance_schema, true);
  EXPECT_EQ(flavor.capabilities.userstat, true);
  return flavor;
}

dialect::Flavor MakeFlavor(dialect::Product product, dialect::Version version,
                           dialect::Platform platform = dialect::Platform::kSelfManaged) {
  dialect::Flavor f;
  f.product = product;
  f.version = version;
  f.platform = platform;
  f.capabilities.performance_schema = true;
  f.capabilities.userstat = false;
  return f;
}

std::vector<const Finding*> WithCode(const std::vector<Finding>& findings, std::string_view code) {
  std::vector<const Finding*> out;
  for (const auto& f : findings) {
    if (f.code == code) out.push_back(&f);
  }
  return out;
}

std::string Text(const EvidenceRow& row, std::string_view field) {
  const EvidenceValue* v = row.Find(field);
  return v ? EvidenceText(*v) : "<missing>";
}

// "schema.table.index" of every finding with `code`.
std::set<std::string> IndexesOf(const std::vector<Finding>& findings, std::string_view code) {
  std::set<std::string> out;
  for (const Finding* f : WithCode(findings, code)) {
    const auto& row = f->evidence.at(0);
    out.insert(Text(row, "schema") + "." + Text(row, "table") + "." + Text(row, "index"));
  }
  return out;
}

bool HasSuggestion(const Finding& f, std::string_view sql) {
  return std::any_of(f.suggestions.begin(), f.suggestions.end(),
                     [&](const Suggestion& s) { return s.sql == sql; });
}

class ResourcesStepTest : public ::testing::Test {
 protected:
  void MakeTarget(const dialect::Flavor& flavor) {
    auto fake = std::make_unique<FakeSession>();
    fake_ = fake.get();
    target_.emplace(collect::TargetSession{std::move(fake), dialect::Dialect(flavor), {}, {}, {}});
    fake_->On(dialect::Dialect::CurrentAccount(),
              mysql::MakeResultSet({"account"}, {{"monitor@%"}}));
  }
  const dialect::Dialect& d() const { return target_->dialect; }

  // Answers every statement of a full run from the recordings of `who`.
  // `innodb_counts` false leaves that statement for the test to answer.
  void ReplayMariaDb(const std::string& who, int64_t uptime, bool innodb_counts = true) {
    MakeTarget(MariaDb());
    fake_->On(dialect::VisibleTableCounts(d()), Recorded(who, "visible_table_counts"));
    if (innodb_counts) {
      fake_->On(dialect::InnodbTableCounts(d()), Recorded(who, "innodb_table_counts"));
    }
    fake_->On(dialect::ServerUptime(d()), Uptime(uptime));
    fake_->On(dialect::TableSizes(d(), options_.max_tables_for_details),
              Recorded(who, "table_sizes"));
    fake_->On(dialect::IndexColumns(d()), Recorded(who, "index_columns"));
    fake_->On(dialect::UnusedIndexesPerformanceSchema(d(), 100'000),
              Recorded(who, "unused_indexes_performance_schema"));
    fake_->On(dialect::ForeignKeyColumns(d()), Recorded(who, "foreign_key_columns"));
  }

  std::vector<Finding> Run(const ResourcesThresholds& thresholds = {}) {
    ResourcesStep step(thresholds);
    StepContext context{*target_, clock_, options_, clock_.MonotonicNow() + budget_};
    auto findings = step.Run(context);
    EXPECT_TRUE(findings) << findings.error().ToString();
    return findings ? *findings : std::vector<Finding>{};
  }

  // Thresholds low enough for the recorded rx.frag (7904 rows, 14 MiB free, 3-value index).
  static ResourcesThresholds Small() {
    ResourcesThresholds t;
    t.fragmented_min_bytes = 8 << 20;
    t.low_cardinality_min_rows = 1000;
    return t;
  }

  core::SimulatedClock clock_;
  InvestigateOptions options_;
  core::Duration budget_ = std::chrono::seconds(20);
  FakeSession* fake_ = nullptr;
  std::optional<collect::TargetSession> target_;
};

TEST_F(ResourcesStepTest, FindsDuplicatesUnusedIndexesFreeSpaceAndLowCardinality) {
  ReplayMariaDb("root", kTwoDays);
  const auto findings = Run(Small());

  // Redundant indexes: the cases pt-duplicate-key-checker agrees with, and ours where it
  // differs (px.pref: the prefix indexes go, not the whole-column one; px.ex: ub2 goes).
  EXPECT_EQ(IndexesOf(findings, "index.duplicate"),
            (std::set<std::string>{"px.a.ia", "px.a.ia_dup", "px.cl2.b", "px.ex.uid", "px.ex.ub2",
                                   "px.ex.x2", "px.ft.f2", "px.pref.c10", "px.pref.c20", "px.sp.s2",
                                   "rx.ft.f2", "rx.t1.ia2", "rx.t1.ib"}));
  for (const Finding* f : WithCode(findings, "index.duplicate")) {
    EXPECT_EQ(f->severity, Severity::kWarning);
    const auto& row = f->evidence.at(0);
    if (Text(row, "index") == "ia2") {
      EXPECT_EQ(Text(row, "covered_by"), "ia");
      EXPECT_EQ(Text(row, "relation"), "exact duplicate");
      EXPECT_EQ(Text(row, "unused_since_startup"), "yes");
      EXPECT_EQ(f->title, "`rx`.`t1` index `ia2` (a) is an exact duplicate of `ia` (a)");
      EXPECT_TRUE(HasSuggestion(*f, "ALTER TABLE `rx`.`t1` DROP INDEX `ia2`"));
      EXPECT_TRUE(HasSuggestion(*f, "ALTER TABLE `rx`.`t1` ALTER INDEX `ia2` IGNORED"));
    }
    if (Text(row, "index") == "ib") {
      EXPECT_EQ(Text(row, "covered_by"), "ibc");
      EXPECT_EQ(Text(row, "columns"), "b(10)");
      EXPECT_EQ(Text(row, "relation"), "left prefix");
    }
    if (Text(row, "schema") == "px" && Text(row, "table") == "pref") {
      EXPECT_EQ(Text(row, "covered_by"), "c_full");
    }
  }

  // Unused: never PRIMARY/UNIQUE/FULLTEXT, never the foreign key's rx.child.fk_pid, and not
  // again when already reported as redundant.
  EXPECT_EQ(IndexesOf(findings, "index.unused"),
            (std::set<std::string>{"px.a.iab", "px.cl.b_id", "px.cl2.b_id", "px.dsc.a_asc",
                                   "px.dsc.a_desc", "px.ex.x1", "px.mem.ha", "px.mem.hab",
                                   "px.nopk.b_a", "px.pref.c_full", "px.sp.s1", "rx.m.a",
                                   "rx.t1.ibc", "rx.we-ird$t.i`x"}));
  for (const Finding* f : WithCode(findings, "index.unused")) {
    EXPECT_EQ(f->severity, Severity::kWarning);
    const auto& row = f->evidence.at(0);
    EXPECT_EQ(Text(row, "uptime_seconds"), std::to_string(kTwoDays));
    EXPECT_EQ(Text(row, "source"), "performance_schema.table_io_waits_summary_by_index_usage");
    if (Text(row, "index") == "i`x") {
      EXPECT_EQ(f->title,
                "`rx`.`we-ird$t` index `i``x` (co`l) has not been used since the server started "
                "2d 0h ago");
      EXPECT_TRUE(HasSuggestion(*f, "ALTER TABLE `rx`.`we-ird$t` DROP INDEX `i``x`"));
      EXPECT_TRUE(HasSuggestion(*f, "ALTER TABLE `rx`.`we-ird$t` ALTER INDEX `i``x` IGNORED"));
    }
  }

  const auto fragmented = WithCode(findings, "table.fragmented");
  ASSERT_EQ(fragmented.size(), 1u);
  EXPECT_EQ(Text(fragmented[0]->evidence.at(0), "table"), "frag");
  EXPECT_EQ(Text(fragmented[0]->evidence.at(0), "free_bytes"), "14680064");
  EXPECT_EQ(fragmented[0]->title,
            "`rx`.`frag` has 14 MiB of free space inside it (75% of its 19 MiB)");
  EXPECT_TRUE(
      HasSuggestion(*fragmented[0], "ALTER TABLE `rx`.`frag` FORCE, ALGORITHM=INPLACE, LOCK=NONE"));

  const auto low = WithCode(findings, "index.low_cardinality");
  ASSERT_EQ(low.size(), 1u);
  EXPECT_EQ(Text(low[0]->evidence.at(0), "index"), "k");
  EXPECT_EQ(Text(low[0]->evidence.at(0), "distinct_values"), "6");
  EXPECT_EQ(Text(low[0]->evidence.at(0), "table_rows"), "7904");
  EXPECT_EQ(low[0]->severity, Severity::kInfo);

  const auto largest = WithCode(findings, "table.largest");
  ASSERT_EQ(largest.size(), 1u);
  EXPECT_EQ(largest[0]->severity, Severity::kInfo);
  ASSERT_EQ(largest[0]->evidence.size(), 19u);  // every table: fewer than top_tables (20)
  EXPECT_EQ(Text(largest[0]->evidence[0], "table"), "frag");
  EXPECT_EQ(Text(largest[0]->evidence[0], "rows"), "7904");
  EXPECT_EQ(Text(largest[0]->evidence[0], "data_bytes"), "3686400");
  EXPECT_EQ(Text(largest[0]->evidence[0], "index_bytes"), "1196032");
  EXPECT_EQ(Text(largest[0]->evidence[0], "free_bytes"), "14680064");
  EXPECT_NE(largest[0]->title.find("`rx`.`frag` 4.7 MiB"), std::string::npos) << largest[0]->title;
  EXPECT_NE(largest[0]->title.find("the top 19 of 19 tables"), std::string::npos)
      << largest[0]->title;

  EXPECT_TRUE(WithCode(findings, "check.partial").empty());
  EXPECT_TRUE(WithCode(findings, "index.unused_skipped").empty());
  // Nothing but reads, each statement once, and no CURRENT_USER() (no GRANT to suggest).
  EXPECT_EQ(
      fake_->statements(),
      (std::vector<std::string>{
          dialect::VisibleTableCounts(d()), dialect::InnodbTableCounts(d()),
          dialect::ServerUptime(d()), dialect::TableSizes(d(), options_.max_tables_for_details),
          dialect::IndexColumns(d()), dialect::UnusedIndexesPerformanceSchema(d(), 100'000),
          dialect::ForeignKeyColumns(d())}));
}

TEST_F(ResourcesStepTest, UptimeGuardRefusesToCallIndexesUnused) {
  ReplayMariaDb("root", 1281);
  const auto findings = Run();  // default: 24 h
  EXPECT_TRUE(WithCode(findings, "index.unused").empty());
  const auto skipped = WithCode(findings, "index.unused_skipped");
  ASSERT_EQ(skipped.size(), 1u);
  EXPECT_EQ(skipped[0]->severity, Severity::kInfo);
  EXPECT_EQ(skipped[0]->title,
            "unused indexes not assessed: the server has been up 21m 21s, less than the 1d 0h "
            "needed to call an index unused");
  EXPECT_EQ(Text(skipped[0]->evidence.at(0), "uptime_seconds"), "1281");
  EXPECT_EQ(Text(skipped[0]->evidence.at(0), "min_uptime_seconds"), "86400");
  // Duplicates do not depend on uptime; whether they are also unused is unknown.
  const auto dups = WithCode(findings, "index.duplicate");
  ASSERT_EQ(dups.size(), 13u);
  EXPECT_EQ(Text(dups[0]->evidence.at(0), "unused_since_startup"), "");
  // Default thresholds: 14 MiB free and 7904 rows are below them.
  EXPECT_TRUE(WithCode(findings, "table.fragmented").empty());
  EXPECT_TRUE(WithCode(findings, "index.low_cardinality").empty());
  const auto& sent = fake_->statements();
  EXPECT_EQ(
      std::count(sent.begin(), sent.end(), dialect::UnusedIndexesPerformanceSchema(d(), 100'000)),
      0);
}

TEST_F(ResourcesStepTest, TablesHiddenFromTheMonitorAreNamedWithTheGrantThatShowsThem) {
  ReplayMariaDb("monitor", kTwoDays);
  const auto findings = Run();
  const auto limited = WithCode(findings, "check.partial");
  ASSERT_EQ(limited.size(), 2u);
  const Finding& hidden = *limited[0];
  EXPECT_EQ(hidden.severity, Severity::kInfo);
  EXPECT_EQ(hidden.title,
            "resources: 17 InnoDB tables in 2 schemas are hidden from 'monitor'@'%': their sizes "
            "and indexes are not checked");
  ASSERT_EQ(hidden.evidence.size(), 2u);
  EXPECT_EQ(Text(hidden.evidence[0], "schema"), "px");
  EXPECT_EQ(Text(hidden.evidence[0], "innodb_tables"), "10");
  EXPECT_EQ(Text(hidden.evidence[0], "visible_tables"), "0");
  EXPECT_TRUE(HasSuggestion(hidden, "GRANT SELECT ON `px`.* TO 'monitor'@'%'"));
  EXPECT_TRUE(HasSuggestion(hidden, "GRANT SELECT ON `rx`.* TO 'monitor'@'%'"));
  // performance_schema shows the indexes, but without STATISTICS nothing says which are
  // unique: none is called unused, and the finding says how many were left out.
  const Finding& unchecked = *limited[1];
  EXPECT_EQ(unchecked.title,
            "resources: 36 indexes with no recorded use are on tables whose definitions were not "
            "read, so they are not reported");
  EXPECT_TRUE(HasSuggestion(unchecked, "GRANT SELECT ON `rx`.* TO 'monitor'@'%'"));
  EXPECT_TRUE(WithCode(findings, "index.unused").empty());
  EXPECT_TRUE(WithCode(findings, "index.duplicate").empty());
  EXPECT_TRUE(WithCode(findings, "table.largest").empty());
  // Nothing visible: no table was opened for sizes or statistics.
  const auto& sent = fake_->statements();
  EXPECT_EQ(std::count(sent.begin(), sent.end(), dialect::IndexColumns(d())), 0);
}

TEST_F(ResourcesStepTest, WithoutProcessTheHiddenTableCheckSaysWhatItNeeds) {
  ReplayMariaDb("monitor", kTwoDays, /*innodb_counts=*/false);
  fake_->On(dialect::InnodbTableCounts(d()),
            FakeSession::ServerError(core::ErrorCode::kPrivilege, 1227, "42000",
                                     "Access denied; you need (at least one of) the PROCESS "
                                     "privilege(s) for this operation"));
  const auto findings = Run();
  const auto limited = WithCode(findings, "check.partial");
  ASSERT_FALSE(limited.empty());
  EXPECT_EQ(limited[0]->title,
            "resources: no application table is visible to this account, and InnoDB's table "
            "list could not be read to tell whether any exist");
  EXPECT_TRUE(HasSuggestion(*limited[0], "GRANT PROCESS ON *.* TO 'monitor'@'%'"));
}

TEST_F(ResourcesStepTest, UserStatisticsWhenPerformanceSchemaIsOff) {
  auto flavor = MariaDb();
  flavor.capabilities.performance_schema = false;
  MakeTarget(flavor);
  ASSERT_EQ(dialect::UsageSourceFor(d()), dialect::IndexUsageSource::kUserStatistics);
  fake_->On(dialect::VisibleTableCounts(d()), Recorded("root", "visible_table_counts"));
  fake_->On(dialect::InnodbTableCounts(d()), Recorded("root", "innodb_table_counts"));
  fake_->On(dialect::ServerUptime(d()), Uptime(kTwoDays));
  fake_->On(dialect::TableSizes(d(), options_.max_tables_for_details),
            Recorded("root", "table_sizes"));
  fake_->On(dialect::IndexColumns(d()), Recorded("root", "index_columns"));
  fake_->On(dialect::UsedIndexesUserStatistics(d(), 100'000),
            Recorded("root", "used_indexes_user_statistics"));
  fake_->On(dialect::ForeignKeyColumns(d()), Recorded("root", "foreign_key_columns"));
  const auto findings = Run();
  const auto unused = IndexesOf(findings, "index.unused");
  // Read since userstat was turned on: rx.t1.ia and rx.frag.k; absent rows mean unused.
  EXPECT_FALSE(unused.contains("rx.t1.ia"));
  EXPECT_FALSE(unused.contains("rx.frag.k"));
  EXPECT_TRUE(unused.contains("px.a.iab"));
  EXPECT_TRUE(unused.contains("rx.t1.ibc"));
  EXPECT_FALSE(unused.contains("rx.child.fk_pid"));  // a foreign key needs it
  EXPECT_FALSE(unused.contains("rx.t1.uc"));         // unique
  for (const Finding* f : WithCode(findings, "index.unused")) {
    EXPECT_EQ(Text(f->evidence.at(0), "source"), "information_schema.INDEX_STATISTICS (userstat)");
    EXPECT_NE(f->title.find("has no read recorded by userstat"), std::string::npos);
  }
  // The duplicate rx.t1.ia2 is unused too (no INDEX_STATISTICS row), ia is not.
  for (const Finding* f : WithCode(findings, "index.duplicate")) {
    if (Text(f->evidence.at(0), "index") == "ia2") {
      EXPECT_EQ(Text(f->evidence.at(0), "unused_since_startup"), "yes");
    }
  }
}

TEST_F(ResourcesStepTest, EmptyIndexStatisticsIsNoEvidence) {
  auto flavor = MariaDb();
  flavor.capabilities.performance_schema = false;
  MakeTarget(flavor);
  fake_->On(dialect::VisibleTableCounts(d()), Recorded("root", "visible_table_counts"));
  fake_->On(dialect::InnodbTableCounts(d()), Recorded("root", "innodb_table_counts"));
  fake_->On(dialect::ServerUptime(d()), Uptime(kTwoDays));
  fake_->On(dialect::TableSizes(d(), options_.max_tables_for_details),
            Recorded("root", "table_sizes"));
  fake_->On(dialect::IndexColumns(d()), Recorded("root", "index_columns"));
  fake_->On(dialect::UsedIndexesUserStatistics(d(), 100'000),
            mysql::MakeResultSet({"table_schema", "table_name", "index_name", "rows_read"}, {}));
  const auto findings = Run();
  EXPECT_TRUE(WithCode(findings, "index.unused").empty());
  const auto skipped = WithCode(findings, "index.unused_skipped");
  ASSERT_EQ(skipped.size(), 1u);
  EXPECT_NE(skipped[0]->title.find("INDEX_STATISTICS has no row at all"), std::string::npos);
}

TEST_F(ResourcesStepTest, NoUsageSourceSaysHowToGetOne) {
  auto flavor = MariaDb();
  flavor.capabilities.performance_schema = false;
  flavor.capabilities.userstat = false;
  MakeTarget(flavor);
  fake_->On(dialect::VisibleTableCounts(d()), Recorded("root", "visible_table_counts"));
  fake_->On(dialect::InnodbTableCounts(d()), Recorded("root", "innodb_table_counts"));
  fake_->On(dialect::ServerUptime(d()), Uptime(kTwoDays));
  fake_->On(dialect::TableSizes(d(), options_.max_tables_for_details),
            Recorded("root", "table_sizes"));
  fake_->On(dialect::IndexColumns(d()), Recorded("root", "index_columns"));
  const auto findings = Run();
  const auto skipped = WithCode(findings, "index.unused_skipped");
  ASSERT_EQ(skipped.size(), 1u);
  EXPECT_TRUE(HasSuggestion(*skipped[0], "SET GLOBAL userstat = 1"));
  EXPECT_EQ(WithCode(findings, "index.duplicate").size(), 13u);
}

TEST_F(ResourcesStepTest, ManyTablesReadInnodbFileSizesAndTheLargestTablesOnly) {
  options_.max_tables_for_details = 5;  // the recording sees 20 tables and views
  ReplayMariaDb("root", kTwoDays);
  fake_->On(dialect::LargestTablespaces(d(), options_.top_tables),
            Recorded("root", "largest_tablespaces"));
  fake_->On(dialect::IndexColumnsOf(d(), "rx", "t1"), Recorded("root", "index_columns_of_rx_t1"));
  const std::string one_table_prefix = dialect::IndexColumnsOf(d(), "x", "y").substr(0, 60);
  fake_->OnPrefix(one_table_prefix,
                  mysql::MakeResultSet({"table_schema", "table_name", "index_name"}, {}));
  const auto findings = Run();

  const auto largest = WithCode(findings, "table.largest");
  ASSERT_EQ(largest.size(), 1u);
  EXPECT_EQ(largest[0]->title.rfind("largest tables by InnoDB file size: `rx`.`frag` 22 MiB", 0),
            0u)
      << largest[0]->title;
  EXPECT_EQ(Text(largest[0]->evidence[0], "file_bytes"), "23068672");
  EXPECT_EQ(Text(largest[0]->evidence[1], "table"), "p");  // partitions summed
  EXPECT_EQ(Text(largest[0]->evidence[1], "file_bytes"), "196608");
  bool weird = false;
  for (const auto& row : largest[0]->evidence) weird |= Text(row, "table") == "we-ird$t";
  EXPECT_TRUE(weird);  // decoded from we@002dird@0024t

  // Index checks on the tables read one by one: rx.t1's duplicates.
  EXPECT_EQ(IndexesOf(findings, "index.duplicate"),
            (std::set<std::string>{"rx.t1.ia2", "rx.t1.ib"}));
  const auto limited = WithCode(findings, "check.partial");
  ASSERT_FALSE(limited.empty());
  EXPECT_EQ(limited[0]->title,
            "resources: 20 tables, more than 5 (max_tables_for_details): sizes are InnoDB file "
            "sizes and index checks cover the 17 largest tables only");
  // The statements that open every table were not sent; one STATISTICS read per table was.
  const auto& sent = fake_->statements();
  EXPECT_EQ(std::count(sent.begin(), sent.end(), dialect::IndexColumns(d())), 0);
  EXPECT_EQ(std::count(sent.begin(), sent.end(),
                       dialect::TableSizes(d(), options_.max_tables_for_details)),
            0);
  EXPECT_EQ(std::count_if(sent.begin(), sent.end(),
                          [&](const std::string& s) { return s.rfind(one_table_prefix, 0) == 0; }),
            17);
}

TEST_F(ResourcesStepTest, SharedTablespaceFreeSpaceIsNotCalledFragmentation) {
  MakeTarget(MariaDb());
  fake_->On(dialect::VisibleTableCounts(d()),
            mysql::MakeResultSet({"schema_name", "tables"}, {{"app", "3"}}));
  fake_->On(dialect::InnodbTableCounts(d()),
            mysql::MakeResultSet({"schema_name", "tables"}, {{"app", "2"}}));
  fake_->On(dialect::ServerUptime(d()), Uptime(10));
  // a and b live in ibdata1 (the same DATA_FREE); c is MyISAM with its own free space.
  fake_->On(dialect::TableSizes(d(), options_.max_tables_for_details),
            mysql::MakeResultSet({"table_schema", "table_name", "engine", "table_rows",
                                  "data_length", "index_length", "data_free"},
                                 {{"app", "a", "InnoDB", "1000", "104857600", "0", "524288000"},
                                  {"app", "b", "InnoDB", "1000", "104857600", "0", "524288000"},
                                  {"app", "c", "MyISAM", "1000", "104857600", "0", "209715200"}}));
  fake_->On(dialect::IndexColumns(d()), mysql::MakeResultSet({"table_schema"}, {}));
  const auto findings = Run();
  const auto fragmented = WithCode(findings, "table.fragmented");
  ASSERT_EQ(fragmented.size(), 1u);
  EXPECT_EQ(Text(fragmented[0]->evidence.at(0), "table"), "c");
  EXPECT_TRUE(HasSuggestion(*fragmented[0], "OPTIMIZE TABLE `app`.`c`"));
  const auto limited = WithCode(findings, "check.partial");
  ASSERT_EQ(limited.size(), 1u);
  EXPECT_EQ(limited[0]->title,
            "resources: free space of 2 InnoDB tables is that of a shared tablespace (system or "
            "general), not reported per table");
}

TEST_F(ResourcesStepTest, MySql8SuggestsInvisibleAndReadsTheDataDictionaryTables) {
  MakeTarget(MakeFlavor(dialect::Product::kMySQL, {8, 0, 36}));
  EXPECT_NE(dialect::InnodbTableCounts(d()).find("information_schema.INNODB_TABLES "),
            std::string::npos);
  fake_->On(dialect::VisibleTableCounts(d()),
            mysql::MakeResultSet({"schema_name", "tables"}, {{"shop", "1"}}));
  fake_->On(dialect::InnodbTableCounts(d()),
            mysql::MakeResultSet({"schema_name", "tables"}, {{"shop", "1"}}));
  fake_->On(dialect::ServerUptime(d()), Uptime(kTwoDays));
  fake_->On(dialect::TableSizes(d(), options_.max_tables_for_details),
            mysql::MakeResultSet({"table_schema", "table_name", "engine", "table_rows",
                                  "data_length", "index_length", "data_free"},
                                 {{"shop", "orders", "InnoDB", "10", "16384", "32768", "0"}}));
  fake_->On(dialect::IndexColumns(d()),
            mysql::MakeResultSet({"table_schema", "table_name", "index_name", "non_unique",
                                  "seq_in_index", "column_name", "sub_part", "collation",
                                  "cardinality", "nullable", "index_type", "visible"},
                                 {{"shop", "orders", "PRIMARY", "0", "1", "id", std::nullopt, "A",
                                   "10", "", "BTREE", "YES"},
                                  {"shop", "orders", "by_customer", "1", "1", "customer_id",
                                   std::nullopt, "A", "5", "YES", "BTREE", "YES"},
                                  {"shop", "orders", "by_customer_date", "1", "1", "customer_id",
                                   std::nullopt, "A", "5", "YES", "BTREE", "YES"},
                                  {"shop", "orders", "by_customer_date", "1", "2", "created",
                                   std::nullopt, "D", "10", "YES", "BTREE", "YES"}}));
  fake_->On(dialect::UnusedIndexesPerformanceSchema(d(), 100'000),
            mysql::MakeResultSet({"table_schema", "table_name", "index_name"}, {}));
  const auto findings = Run();
  const auto dups = WithCode(findings, "index.duplicate");
  ASSERT_EQ(dups.size(), 1u);
  EXPECT_TRUE(HasSuggestion(*dups[0], "ALTER TABLE `shop`.`orders` DROP INDEX `by_customer`"));
  EXPECT_TRUE(
      HasSuggestion(*dups[0], "ALTER TABLE `shop`.`orders` ALTER INDEX `by_customer` INVISIBLE"));
  EXPECT_EQ(Text(dups[0]->evidence.at(0), "covered_by_columns"), "customer_id, created DESC");
  EXPECT_EQ(Text(dups[0]->evidence.at(0), "unused_since_startup"), "no");
}

TEST_F(ResourcesStepTest, RefusedWhenTablesCannotBeCountedAndWhatItNeeds) {
  MakeTarget(MariaDb());
  fake_->On(dialect::VisibleTableCounts(d()),
            FakeSession::ServerError(core::ErrorCode::kServerError, 1105, "HY000", "boom"));
  ResourcesStep step;
  StepContext context{*target_, clock_, options_, clock_.MonotonicNow() + budget_};
  auto findings = step.Run(context);
  ASSERT_FALSE(findings);
  EXPECT_EQ(findings.error().server_errno, 1105);

  EXPECT_EQ(step.RequiredGrant(d().flavor(), "'monitor'@'%'"),
            "GRANT PROCESS ON *.* TO 'monitor'@'%'; GRANT SELECT ON performance_schema.* TO "
            "'monitor'@'%'");
  auto no_ps = d().flavor();
  no_ps.capabilities.performance_schema = false;
  EXPECT_EQ(step.RequiredGrant(no_ps, "'monitor'@'%'"), "GRANT PROCESS ON *.* TO 'monitor'@'%'");
}

TEST_F(ResourcesStepTest, StopsStartingStatementsWhenTheBudgetIsSpent) {
  ReplayMariaDb("root", kTwoDays);
  budget_ = core::Duration::zero();
  const auto findings = Run();
  EXPECT_EQ(fake_->statements().size(), 1u);  // the table count only
  const auto limited = WithCode(findings, "check.partial");
  ASSERT_EQ(limited.size(), 1u);
  EXPECT_EQ(limited[0]->title,
            "resources: stopped early, the step's time budget ran out before the hidden-table "
            "check");
}

TEST_F(ResourcesStepTest, JsonThroughTheRunner) {
  ReplayMariaDb("root", kTwoDays);
  InvestigateOptions options;
  options.only = {"resources"};
  std::vector<std::unique_ptr<Step>> steps;
  steps.push_back(std::make_unique<ResourcesStep>());
  const Investigation inv = RunInvestigation(*target_, clock_, options, steps);
  EXPECT_EQ(ExitCodeFor(inv), 1);  // warnings
  const auto json = report::InvestigationJson(inv);
  bool found = false;
  for (const auto& f : json["findings"]) {
    if (f["code"] != "index.duplicate" || f["evidence"][0]["index"] != "ia2") continue;
    found = true;
    EXPECT_EQ(f["severity"], "warning");
    EXPECT_EQ(f["step"], "investigate.resources");
    EXPECT_EQ(f["evidence"][0]["unused_since_startup"], true);
    EXPECT_EQ(f["suggestions"][0]["sql"], "ALTER TABLE `rx`.`t1` DROP INDEX `ia2`");
  }
  EXPECT_TRUE(found);
}

TEST(ResourcesDialectTest, StatementsPerFlavor) {
  using dialect::Product;
  struct Case {
    dialect::Flavor flavor;
    std::string innodb_tables;  // "" = no statement
    std::string tablespaces;
    std::string foreign;
    std::string hide;  // keyword; "" = none
    std::string visible;
    dialect::IndexUsageSource usage;
  };
  auto no_ps = MakeFlavor(Product::kMariaDB, {10, 5, 9});
  no_ps.capabilities.performance_schema = false;
  auto percona57_userstat = MakeFlavor(Product::kPerconaServer, {5, 7, 40});
  percona57_userstat.capabilities.performance_schema = false;
  percona57_userstat.capabilities.userstat = true;
  const std::vector<Case> cases = {
      {MakeFlavor(Product::kMySQL, {5, 6, 51}), "INNODB_SYS_TABLES", "", "INNODB_SYS_FOREIGN", "",
       "'YES'", dialect::IndexUsageSource::kPerformanceSchema},
      {MakeFlavor(Product::kMySQL, {5, 7, 44}), "INNODB_SYS_TABLES", "INNODB_SYS_TABLESPACES",
       "INNODB_SYS_FOREIGN", "", "'YES'", dialect::IndexUsageSource::kPerformanceSchema},
      {MakeFlavor(Product::kMySQL, {8, 0, 36}), "INNODB_TABLES", "INNODB_TABLESPACES",
       "INNODB_FOREIGN", "INVISIBLE", "IS_VISIBLE", dialect::IndexUsageSource::kPerformanceSchema},
      {MakeFlavor(Product::kMySQL, {8, 4, 3}), "INNODB_TABLES", "INNODB_TABLESPACES",
       "INNODB_FOREIGN", "INVISIBLE", "IS_VISIBLE", dialect::IndexUsageSource::kPerformanceSchema},
      {MakeFlavor(Product::kPerconaServer, {8, 0, 32}), "INNODB_TABLES", "INNODB_TABLESPACES",
       "INNODB_FOREIGN", "INVISIBLE", "IS_VISIBLE", dialect::IndexUsageSource::kPerformanceSchema},
      {percona57_userstat, "INNODB_SYS_TABLES", "INNODB_SYS_TABLESPACES", "INNODB_SYS_FOREIGN", "",
       "'YES'", dialect::IndexUsageSource::kUserStatistics},
      {MakeFlavor(Product::kMySQL, {8, 0, 28}, dialect::Platform::kAurora), "INNODB_TABLES",
       "INNODB_TABLESPACES", "INNODB_FOREIGN", "INVISIBLE", "IS_VISIBLE",
       dialect::IndexUsageSource::kPerformanceSchema},
      {MakeFlavor(Product::kMySQL, {5, 7, 12}, dialect::Platform::kAurora), "INNODB_SYS_TABLES",
       "INNODB_SYS_TABLESPACES", "INNODB_SYS_FOREIGN", "", "'YES'",
       dialect::IndexUsageSource::kPerformanceSchema},
      {MakeFlavor(Product::kMySQL, {8, 0, 35}, dialect::Platform::kRds), "INNODB_TABLES",
       "INNODB_TABLESPACES", "INNODB_FOREIGN", "INVISIBLE", "IS_VISIBLE",
       dialect::IndexUsageSource::kPerformanceSchema},
      {MakeFlavor(Product::kMariaDB, {10, 1, 48}), "INNODB_SYS_TABLES", "", "INNODB_SYS_FOREIGN",
       "", "'YES'", dialect::IndexUsageSource::kPerformanceSchema},
      {no_ps, "INNODB_SYS_TABLES", "INNODB_SYS_TABLESPACES", "INNODB_SYS_FOREIGN", "", "'YES'",
       dialect::IndexUsageSource::kNone},
      {MakeFlavor(Product::kMariaDB, {10, 6, 16}, dialect::Platform::kRds), "INNODB_SYS_TABLES",
       "INNODB_SYS_TABLESPACES", "INNODB_SYS_FOREIGN", "IGNORED",
       "IF(IGNORED = 'YES', 'NO', 'YES')", dialect::IndexUsageSource::kPerformanceSchema},
      {MakeFlavor(Product::kMariaDB, {11, 4, 5}), "INNODB_SYS_TABLES", "INNODB_SYS_TABLESPACES",
       "INNODB_SYS_FOREIGN", "IGNORED", "IF(IGNORED = 'YES', 'NO', 'YES')",
       dialect::IndexUsageSource::kPerformanceSchema},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.flavor.Id());
    const dialect::Dialect d(c.flavor);
    EXPECT_NE(dialect::InnodbTableCounts(d).find("information_schema." + c.innodb_tables + " "),
              std::string::npos);
    if (c.tablespaces.empty()) {
      EXPECT_EQ(dialect::LargestTablespaces(d, 20), "");
    } else {
      EXPECT_NE(
          dialect::LargestTablespaces(d, 20).find("information_schema." + c.tablespaces + " "),
          std::string::npos);
    }
    EXPECT_NE(dialect::ForeignKeyColumns(d).find("information_schema." + c.foreign + " f"),
              std::string::npos);
    const std::string hide = dialect::HideIndex(d, "s", "t", "i");
    if (c.hide.empty()) {
      EXPECT_EQ(hide, "");
      EXPECT_EQ(dialect::RevealIndex(d, "s", "t", "i"), "");
    } else {
      EXPECT_EQ(hide, "ALTER TABLE `s`.`t` ALTER INDEX `i` " + c.hide);
    }
    EXPECT_NE(dialect::IndexColumns(d).find(c.visible + " AS `visible`"), std::string::npos);
    EXPECT_EQ(dialect::UsageSourceFor(d), c.usage);
    EXPECT_EQ(dialect::UnusedIndexesPerformanceSchema(d, 10).empty(),
              c.usage != dialect::IndexUsageSource::kPerformanceSchema);
    EXPECT_EQ(dialect::UsedIndexesUserStatistics(d, 10).empty(),
              c.usage != dialect::IndexUsageSource::kUserStatistics);
    // The same on every flavor: name-only counting and the system schemas left out.
    EXPECT_NE(dialect::VisibleTableCounts(d).find("COUNT(*)"), std::string::npos);
    EXPECT_NE(dialect::TableSizes(d, 10).find("NOT IN ('mysql', 'information_schema', "
                                              "'performance_schema', 'sys')"),
              std::string::npos);
  }
  // MySQL before 5.6 has no InnoDB dictionary tables.
  const dialect::Dialect old(MakeFlavor(Product::kMySQL, {5, 5, 62}));
  EXPECT_EQ(dialect::InnodbTableCounts(old), "");
  EXPECT_EQ(dialect::ForeignKeyColumns(old), "");
}

TEST(ResourcesDialectTest, OneTableStatementsAndRebuilds) {
  const dialect::Dialect d(MakeFlavor(dialect::Product::kMariaDB, {10, 11, 19}));
  const std::string one = dialect::IndexColumnsOf(d, "o'neil", "t");
  EXPECT_NE(one.find("WHERE TABLE_SCHEMA = 'o''neil' AND TABLE_NAME = 't'"), std::string::npos);
  EXPECT_EQ(dialect::IndexColumnsOf(d, "back\\slash", "t"), "");  // meaning depends on sql_mode
  EXPECT_EQ(dialect::RebuildTable(d, "s", "t", "innodb"),
            "ALTER TABLE `s`.`t` FORCE, ALGORITHM=INPLACE, LOCK=NONE");
  EXPECT_EQ(dialect::RebuildTable(d, "s", "t", "Aria"), "OPTIMIZE TABLE `s`.`t`");
  EXPECT_EQ(dialect::AnalyzeTable(d, "s", "t`x"), "ANALYZE TABLE `s`.`t``x`");
  EXPECT_EQ(dialect::ServerUptime(d), "SHOW GLOBAL STATUS LIKE 'Uptime'");
}

TEST(ResourcesFormatTest, Bytes) {
  EXPECT_EQ(FormatBytes(0), "0 B");
  EXPECT_EQ(FormatBytes(1023), "1023 B");
  EXPECT_EQ(FormatBytes(1536), "1.5 KiB");
  EXPECT_EQ(FormatBytes(14680064), "14 MiB");
  EXPECT_EQ(FormatBytes(int64_t{5} << 40), "5.0 TiB");
}

}  // namespace
}  // namespace dbrunbook::steps
