// The "resources" step against the real sandbox primary (MariaDB 10.11), with the documented
// monitor account: a schema built for the test with larger and smaller tables, free space
// inside one, a low-cardinality index, indexes used and never used, an exact duplicate, a
// left-prefix one, and the cases where dbrunbook and pt-duplicate-key-checker disagree. The
// duplicates are compared with the real pt-duplicate-key-checker run on the same schema
// (as root over the socket: no password anywhere), the visibility finding is checked before
// the monitor is granted SELECT on the schema, and the command is run once end to end.
//
// The server is shared with every other integration test: the schema is dropped and the grant
// revoked however a test ends.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <functional>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <thread>

#include "core/strings.h"
#include "dialect/resources.h"
#include "mysql/connector_session.h"
#include "steps/investigate.h"
#include "steps/investigate_resources.h"
#include "support/sandbox.h"

namespace dbrunbook::steps {
namespace {

constexpr const char* kSchema = "resources_it";
constexpr const char* kPtDuplicateKeyChecker = "/usr/bin/pt-duplicate-key-checker";

// The schema. orders: 5000 rows, a 3-value status index, an exact duplicate (by_created_copy)
// and a left prefix (by_customer) that pt-duplicate-key-checker reports the same way, a unique
// key and a prefix index never used. order_lines: a foreign key's index, never read. events:
// 40000 rows of which the last 32000 are deleted, leaving whole free extents. docs: FULLTEXT
// duplicates. The other tables are the cases where the rules differ (see index_analysis.h).
constexpr const char* kSetup = R"sql(
DROP DATABASE IF EXISTS resources_it;
CREATE DATABASE resources_it;
USE resources_it;
CREATE TABLE orders (
  id INT AUTO_INCREMENT PRIMARY KEY, customer_id INT NOT NULL, status TINYINT NOT NULL,
  ref CHAR(12) NOT NULL, note VARCHAR(200), created DATETIME NOT NULL,
  KEY by_customer (customer_id), KEY by_customer_created (customer_id, created),
  KEY by_created (created), KEY by_created_copy (created), KEY by_status (status),
  KEY by_note (note(20)), UNIQUE KEY uk_ref (ref)) ENGINE=InnoDB;
INSERT INTO orders (customer_id, status, ref, note, created)
  SELECT seq % 500, seq % 3, CONCAT('R', seq), CONCAT('note ', seq),
         '2024-01-01' + INTERVAL seq MINUTE FROM seq_1_to_5000;
CREATE TABLE order_lines (
  id INT AUTO_INCREMENT PRIMARY KEY, order_id INT NOT NULL, qty INT NOT NULL,
  KEY fk_order (order_id),
  CONSTRAINT order_lines_order FOREIGN KEY (order_id) REFERENCES orders (id)) ENGINE=InnoDB;
INSERT INTO order_lines (order_id, qty) SELECT seq, 1 FROM seq_1_to_1000;
CREATE TABLE events (
  id INT AUTO_INCREMENT PRIMARY KEY, pad CHAR(255) NOT NULL, k INT NOT NULL, KEY k (k))
  ENGINE=InnoDB;
INSERT INTO events (pad, k) SELECT REPEAT('x', 255), seq % 7 FROM seq_1_to_40000;
DELETE FROM events WHERE id > 8000;
CREATE TABLE docs (id INT PRIMARY KEY, body TEXT, FULLTEXT KEY f1 (body), FULLTEXT KEY f2 (body))
  ENGINE=InnoDB;
CREATE TABLE pfx (id INT PRIMARY KEY, c VARCHAR(100), KEY c_full (c), KEY c20 (c(20)))
  ENGINE=InnoDB;
CREATE TABLE uq (a INT, b INT, c INT, PRIMARY KEY (a, b, c), UNIQUE KEY uab (a, b)) ENGINE=InnoDB;
CREATE TABLE mem (id INT PRIMARY KEY, a INT, b INT, KEY ha (a) USING HASH,
  KEY hab (a, b) USING HASH) ENGINE=MEMORY;
CREATE TABLE cl (id INT PRIMARY KEY, b INT NOT NULL, UNIQUE KEY ub (b), KEY b_id (b, id))
  ENGINE=InnoDB;
CREATE TABLE nopk (a INT NOT NULL, b INT, UNIQUE KEY ua (a), KEY b_a (b, a)) ENGINE=InnoDB;
CREATE TABLE ex (id INT PRIMARY KEY, b INT, UNIQUE KEY ub1 (b), UNIQUE KEY ub2 (b)) ENGINE=InnoDB;
ANALYZE TABLE orders, order_lines, events;
SELECT COUNT(*) FROM orders FORCE INDEX (by_customer_created) WHERE customer_id = 7;
SELECT COUNT(*) FROM orders FORCE INDEX (by_created) WHERE created > '2024-01-02';
)sql";

// What each tool drops in resources_it ("table.index").
const std::set<std::string> kAgreed = {"orders.by_customer", "orders.by_created_copy", "docs.f2",
                                       "cl.b_id"};
const std::set<std::string> kOnlyPt = {
    "pfx.c_full",  // reads `c` as a left prefix of `c`(20): the whole column cannot go
    "uq.uab",      // a UNIQUE (a, b) dropped for PRIMARY (a, b, c) loses its constraint
    "mem.ha",      // a HASH index on (a, b) cannot find rows by a alone
    "nopk.b_a",    // "ends with the clustered key": the same B-tree without it, nothing saved
    "ex.ub1",      // of two equal UNIQUE keys pt keeps the later name, dbrunbook the first
};
const std::set<std::string> kOnlyDbrunbook = {"pfx.c20", "ex.ub2"};

class ScopeGuard {
 public:
  explicit ScopeGuard(std::function<void()> f) : f_(std::move(f)) {}
  ScopeGuard(const ScopeGuard&) = delete;
  ScopeGuard& operator=(const ScopeGuard&) = delete;
  ~ScopeGuard() {
    if (f_) f_();
  }

 private:
  std::function<void()> f_;
};

struct CommandResult {
  int status = -1;
  std::string out;
};

// Runs a shell command (a test harness: fixed arguments of ours, no user input).
CommandResult RunCommand(const std::string& command) {
  CommandResult result;
  FILE* pipe = popen(command.c_str(), "r");  // NOLINT(cert-env33-c)
  if (pipe == nullptr) return result;
  std::array<char, 4096> buffer{};
  size_t n = 0;
  while ((n = fread(buffer.data(), 1, buffer.size(), pipe)) > 0)
    result.out.append(buffer.data(), n);
  const int status = pclose(pipe);
  result.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

std::string Text(const EvidenceRow& row, std::string_view field) {
  const EvidenceValue* v = row.Find(field);
  return v ? EvidenceText(*v) : "<missing>";
}

std::vector<const Finding*> WithCode(const std::vector<Finding>& findings, std::string_view code) {
  std::vector<const Finding*> out;
  for (const auto& f : findings) {
    if (f.code == code) out.push_back(&f);
  }
  return out;
}

// "table.index" of the findings with `code` in resources_it.
std::set<std::string> InSchema(const std::vector<Finding>& findings, std::string_view code) {
  std::set<std::string> out;
  for (const Finding* f : WithCode(findings, code)) {
    const auto& row = f->evidence.at(0);
    if (Text(row, "schema") == kSchema) out.insert(Text(row, "table") + "." + Text(row, "index"));
  }
  return out;
}

const Finding* Find(const std::vector<Finding>& findings, std::string_view code,
                    std::string_view table, std::string_view index) {
  for (const Finding* f : WithCode(findings, code)) {
    const auto& row = f->evidence.at(0);
    if (Text(row, "schema") == kSchema && Text(row, "table") == table &&
        Text(row, "index") == index) {
      return f;
    }
  }
  return nullptr;
}

bool HasSuggestion(const Finding& f, std::string_view sql) {
  return std::any_of(f.suggestions.begin(), f.suggestions.end(),
                     [&](const Suggestion& s) { return s.sql == sql; });
}

std::set<std::string> Minus(const std::set<std::string>& a, const std::set<std::string>& b) {
  std::set<std::string> out;
  std::set_difference(a.begin(), a.end(), b.begin(), b.end(), std::inserter(out, out.end()));
  return out;
}

class ResourcesIntegrationTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto setup = testing::SandboxSql("primary", kSetup);
    ASSERT_TRUE(setup) << setup.error().ToString();
    // Purge frees the deleted rows' pages in the background: wait for whole free extents.
    for (int i = 0; i < 60; ++i) {
      auto free = testing::SandboxSql(
          "primary",
          "SELECT DATA_FREE FROM information_schema.TABLES WHERE TABLE_SCHEMA = 'resources_it' "
          "AND TABLE_NAME = 'events'",
          {"--skip-column-names"});
      ASSERT_TRUE(free) << free.error().ToString();
      if (std::stoll(free->empty() ? "0" : *free) >= kMinFree) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(500));
    }
    FAIL() << "events never showed " << kMinFree << " bytes of free space";
  }
  static void TearDownTestSuite() {
    (void)testing::SandboxSql("primary", "DROP DATABASE IF EXISTS resources_it");
  }

  void SetUp() override {
    auto primary = testing::LoadSandbox("primary");
    ASSERT_TRUE(primary) << primary.error().ToString();
    primary_ = std::move(*primary);
  }
  void TearDown() override { Revoke(); }

  void Grant() {
    auto granted =
        testing::SandboxSql("primary", "GRANT SELECT ON `resources_it`.* TO 'monitor'@'%'");
    ASSERT_TRUE(granted) << granted.error().ToString();
  }
  // Fails harmlessly (ignored) when there is no such grant.
  static void Revoke() {
    (void)testing::SandboxSql("primary", "REVOKE SELECT ON `resources_it`.* FROM 'monitor'@'%'");
  }

  collect::TargetSession Monitor() {
    auto target = collect::OpenTargetSession(factory_, primary_.MonitorOptions(), clock_);
    EXPECT_TRUE(target) << target.error().ToString();
    return std::move(*target);
  }

  // One run of the resources step through the runner, on a fresh monitor session.
  std::vector<Finding> Investigate(
      InvestigateOptions options, const ResourcesThresholds& thresholds,
      const std::function<void(collect::TargetSession&)>& adjust = {}) {
    collect::TargetSession target = Monitor();
    if (adjust) adjust(target);
    options.only = {"resources"};
    std::vector<std::unique_ptr<Step>> steps;
    steps.push_back(std::make_unique<ResourcesStep>(thresholds));
    const Investigation inv = RunInvestigation(target, clock_, options, steps);
    EXPECT_EQ(inv.steps.size(), 1u);
    if (!inv.steps.empty()) {
      EXPECT_FALSE(inv.steps[0].failed);
    }
    return inv.findings;
  }

  static ResourcesThresholds Small() {
    ResourcesThresholds t;
    t.fragmented_min_bytes = kMinFree;
    t.low_cardinality_min_rows = 1000;
    t.max_findings_per_code = 200;
    return t;
  }
  static InvestigateOptions NoUptimeGuard() {
    InvestigateOptions options;
    options.unused_index_min_uptime = std::chrono::seconds(0);  // the sandbox just started
    return options;
  }

  static constexpr int64_t kMinFree = int64_t{8} << 20;

  core::RealClock clock_;
  mysql::ConnectorSessionFactory factory_{clock_};
  testing::SandboxServer primary_;
};

TEST_F(ResourcesIntegrationTest, WithoutSelectTheHiddenSchemaIsNamedWithItsGrant) {
  Revoke();
  const auto findings = Investigate(NoUptimeGuard(), Small());
  const Finding* hidden = nullptr;
  for (const Finding* f : WithCode(findings, "check.partial")) {
    for (const auto& row : f->evidence) {
      if (Text(row, "schema") == kSchema && row.Find("innodb_tables") != nullptr) hidden = f;
    }
  }
  ASSERT_NE(hidden, nullptr) << "no check.partial finding names resources_it";
  EXPECT_EQ(hidden->severity, Severity::kInfo);
  for (const auto& row : hidden->evidence) {
    if (Text(row, "schema") != kSchema) continue;
    EXPECT_EQ(Text(row, "innodb_tables"), "9");  // every table but the MEMORY one
    EXPECT_EQ(Text(row, "visible_tables"), "0");
  }
  EXPECT_TRUE(HasSuggestion(*hidden, "GRANT SELECT ON `resources_it`.* TO 'monitor'@'%'"));
  // Nothing about the schema's indexes is claimed without their definitions.
  EXPECT_TRUE(InSchema(findings, "index.duplicate").empty());
  EXPECT_TRUE(InSchema(findings, "index.unused").empty());
}

TEST_F(ResourcesIntegrationTest, FindsUnusedDuplicateFragmentedAndLowCardinality) {
  Grant();
  const auto findings = Investigate(NoUptimeGuard(), Small());
  for (const Finding* f : WithCode(findings, "check.partial")) {
    for (const auto& row : f->evidence) EXPECT_NE(Text(row, "schema"), kSchema) << f->title;
  }

  // Duplicates, with the statement that drops each and the index that covers it.
  EXPECT_EQ(InSchema(findings, "index.duplicate"),
            (std::set<std::string>{"orders.by_customer", "orders.by_created_copy", "docs.f2",
                                   "pfx.c20", "cl.b_id", "ex.ub2"}));
  const Finding* prefix = Find(findings, "index.duplicate", "orders", "by_customer");
  ASSERT_NE(prefix, nullptr);
  EXPECT_EQ(prefix->severity, Severity::kWarning);
  EXPECT_EQ(Text(prefix->evidence[0], "covered_by"), "by_customer_created");
  EXPECT_EQ(Text(prefix->evidence[0], "relation"), "left prefix");
  EXPECT_EQ(Text(prefix->evidence[0], "unused_since_startup"), "yes");
  EXPECT_TRUE(
      HasSuggestion(*prefix, "ALTER TABLE `resources_it`.`orders` DROP INDEX `by_customer`"));
  EXPECT_TRUE(HasSuggestion(
      *prefix, "ALTER TABLE `resources_it`.`orders` ALTER INDEX `by_customer` IGNORED"));
  const Finding* exact = Find(findings, "index.duplicate", "orders", "by_created_copy");
  ASSERT_NE(exact, nullptr);
  EXPECT_EQ(Text(exact->evidence[0], "covered_by"), "by_created");
  EXPECT_EQ(Text(exact->evidence[0], "relation"), "exact duplicate");
  EXPECT_EQ(Text(exact->evidence[0], "unused_since_startup"), "yes");
  const Finding* clustered = Find(findings, "index.duplicate", "cl", "b_id");
  ASSERT_NE(clustered, nullptr);
  EXPECT_EQ(Text(clustered->evidence[0], "covered_by"), "ub");
  EXPECT_EQ(Text(clustered->evidence[0], "via_clustered_key"), "yes");

  // Unused since startup: never the used ones, the unique key, the foreign key's index, the
  // FULLTEXT one, nor those already reported as duplicates.
  const auto unused = InSchema(findings, "index.unused");
  EXPECT_TRUE(unused.contains("orders.by_status")) << ::testing::PrintToString(unused);
  EXPECT_TRUE(unused.contains("orders.by_note"));
  EXPECT_TRUE(unused.contains("events.k"));
  EXPECT_FALSE(unused.contains("orders.by_customer_created"));
  EXPECT_FALSE(unused.contains("orders.by_created"));
  EXPECT_FALSE(unused.contains("orders.uk_ref"));
  EXPECT_FALSE(unused.contains("order_lines.fk_order"));
  EXPECT_FALSE(unused.contains("docs.f1"));
  EXPECT_FALSE(unused.contains("orders.by_customer"));
  const Finding* status = Find(findings, "index.unused", "orders", "by_status");
  ASSERT_NE(status, nullptr);
  EXPECT_EQ(status->severity, Severity::kWarning);
  EXPECT_EQ(Text(status->evidence[0], "source"),
            "performance_schema.table_io_waits_summary_by_index_usage");
  EXPECT_TRUE(HasSuggestion(*status, "ALTER TABLE `resources_it`.`orders` DROP INDEX `by_status`"));
  EXPECT_TRUE(HasSuggestion(*status,
                            "ALTER TABLE `resources_it`.`orders` ALTER INDEX `by_status` IGNORED"));

  const Finding* free = nullptr;
  for (const Finding* f : WithCode(findings, "table.fragmented")) {
    if (Text(f->evidence[0], "schema") == kSchema && Text(f->evidence[0], "table") == "events") {
      free = f;
    }
  }
  ASSERT_NE(free, nullptr);
  EXPECT_EQ(free->severity, Severity::kWarning);
  EXPECT_GE(std::get<int64_t>(*free->evidence[0].Find("free_bytes")), kMinFree);
  EXPECT_TRUE(HasSuggestion(
      *free, "ALTER TABLE `resources_it`.`events` FORCE, ALGORITHM=INPLACE, LOCK=NONE"));

  const Finding* low = Find(findings, "index.low_cardinality", "orders", "by_status");
  ASSERT_NE(low, nullptr);
  EXPECT_LE(std::get<int64_t>(*low->evidence[0].Find("distinct_values")), 20);
  EXPECT_GE(std::get<int64_t>(*low->evidence[0].Find("table_rows")), 1000);
  EXPECT_EQ(Find(findings, "index.low_cardinality", "orders", "by_customer_created"), nullptr);

  const auto largest = WithCode(findings, "table.largest");
  ASSERT_EQ(largest.size(), 1u);
  bool events_listed = false;
  for (const auto& row : largest[0]->evidence) {
    if (Text(row, "schema") == kSchema && Text(row, "table") == "events") {
      events_listed = true;
      EXPECT_GT(std::get<int64_t>(*row.Find("rows")), 0);
      EXPECT_GE(std::get<int64_t>(*row.Find("free_bytes")), kMinFree);
    }
  }
  EXPECT_TRUE(events_listed);
}

TEST_F(ResourcesIntegrationTest, UptimeGuardRefusesWithTheDefault) {
  Grant();
  const auto findings = Investigate(InvestigateOptions{}, Small());  // 24 h
  EXPECT_TRUE(WithCode(findings, "index.unused").empty());
  const auto skipped = WithCode(findings, "index.unused_skipped");
  ASSERT_EQ(skipped.size(), 1u);
  EXPECT_NE(skipped[0]->title.find("less than the 1d 0h needed"), std::string::npos)
      << skipped[0]->title;
  EXPECT_LT(std::get<int64_t>(*skipped[0]->evidence[0].Find("uptime_seconds")), 86400);
  // Duplicates are still reported; whether they are used is left open.
  const Finding* prefix = Find(findings, "index.duplicate", "orders", "by_customer");
  ASSERT_NE(prefix, nullptr);
  EXPECT_EQ(Text(prefix->evidence[0], "unused_since_startup"), "");
}

TEST_F(ResourcesIntegrationTest, UserStatisticsWhenPerformanceSchemaIsNotThere) {
  Grant();
  // The sandbox has both; a server with performance_schema off (MariaDB's default) reads
  // information_schema.INDEX_STATISTICS.
  const auto findings = Investigate(NoUptimeGuard(), Small(), [](collect::TargetSession& t) {
    auto flavor = t.flavor();
    flavor.capabilities.performance_schema = false;
    t.dialect = dialect::Dialect(flavor);
  });
  const auto unused = InSchema(findings, "index.unused");
  EXPECT_TRUE(unused.contains("orders.by_status")) << ::testing::PrintToString(unused);
  EXPECT_FALSE(unused.contains("orders.by_customer_created"));  // read by the setup's query
  EXPECT_FALSE(unused.contains("orders.by_created"));
  EXPECT_FALSE(unused.contains("orders.uk_ref"));
  const Finding* status = Find(findings, "index.unused", "orders", "by_status");
  ASSERT_NE(status, nullptr);
  EXPECT_EQ(Text(status->evidence[0], "source"), "information_schema.INDEX_STATISTICS (userstat)");
}

TEST_F(ResourcesIntegrationTest, ManyTablesUseInnodbFileSizes) {
  Grant();
  InvestigateOptions options = NoUptimeGuard();
  options.max_tables_for_details = 1;
  options.top_tables = 50;
  const auto findings = Investigate(options, Small());
  const auto largest = WithCode(findings, "table.largest");
  ASSERT_EQ(largest.size(), 1u);
  EXPECT_EQ(largest[0]->title.rfind("largest tables by InnoDB file size:", 0), 0u)
      << largest[0]->title;
  bool events = false;
  for (const auto& row : largest[0]->evidence) {
    if (Text(row, "schema") == kSchema && Text(row, "table") == "events") {
      events = true;
      EXPECT_GE(std::get<int64_t>(*row.Find("file_bytes")), kMinFree);
    }
  }
  EXPECT_TRUE(events);
  bool said_so = false;
  for (const Finding* f : WithCode(findings, "check.partial")) {
    said_so |= f->title.find("sizes are InnoDB file sizes") != std::string::npos;
  }
  EXPECT_TRUE(said_so);
  // The largest tables' indexes were read one by one: their duplicates are still found.
  EXPECT_NE(Find(findings, "index.duplicate", "orders", "by_customer"), nullptr);
}

// More tables than the server's table cache holds: reading every table from
// information_schema would evict the application's tables, so the cache size caps the limit.
TEST_F(ResourcesIntegrationTest, TableCacheSmallerThanTheSchemaCapsTheDetails) {
  Grant();
  auto old_cache =
      testing::SandboxSql("primary", "SELECT @@GLOBAL.table_open_cache", {"--skip-column-names"});
  ASSERT_TRUE(old_cache) << old_cache.error().ToString();
  const std::string restore =
      fmt::format("SET GLOBAL table_open_cache = {}", core::Trim(*old_cache));
  std::string pad;  // more tables than the cache (10, MariaDB's minimum) holds
  for (int i = 1; i <= 12; ++i) {
    pad += fmt::format("CREATE TABLE {}.pad_{} (id INT PRIMARY KEY) ENGINE=InnoDB; ", kSchema, i);
  }
  ASSERT_TRUE(testing::SandboxSql("primary", pad));
  ASSERT_TRUE(testing::SandboxSql("primary", "SET GLOBAL table_open_cache = 10"));
  InvestigateOptions options = NoUptimeGuard();  // max_tables_for_details stays 10,000
  const auto findings = Investigate(options, Small());
  ASSERT_TRUE(testing::SandboxSql("primary", restore));

  const Finding* capped = nullptr;
  for (const Finding* f : WithCode(findings, "check.partial")) {
    if (f->title.find("(table_open_cache)") != std::string::npos) capped = f;
  }
  ASSERT_NE(capped, nullptr);
  EXPECT_EQ(Text(capped->evidence.at(0), "details_limit"), "10");
  EXPECT_EQ(Text(capped->evidence.at(0), "details_limit_from"), "table_open_cache");
  const auto largest = WithCode(findings, "table.largest");
  ASSERT_EQ(largest.size(), 1u);
  EXPECT_EQ(largest[0]->title.rfind("largest tables by InnoDB file size:", 0), 0u)
      << largest[0]->title;
}

TEST_F(ResourcesIntegrationTest, DuplicatesAgainstPtDuplicateKeyChecker) {
  Grant();
  const auto findings = Investigate(NoUptimeGuard(), Small());
  const std::set<std::string> ours = InSchema(findings, "index.duplicate");

  ASSERT_EQ(access(kPtDuplicateKeyChecker, X_OK), 0) << kPtDuplicateKeyChecker;
  const CommandResult pt =
      RunCommand(fmt::format("{} -S {} -u root --databases {} --no-version-check --no-summary 2>&1",
                             kPtDuplicateKeyChecker, primary_.socket, kSchema));
  ASSERT_EQ(pt.status, 0) << pt.out;
  // "ALTER TABLE `resources_it`.`orders` DROP INDEX `by_customer`;" and, for its clustered-key
  // rule, "... DROP INDEX `b_id`, ADD INDEX `b_id` (`b`);".
  std::set<std::string> theirs;
  const std::regex drop(R"(ALTER TABLE `resources_it`\.`([^`]+)` DROP INDEX `([^`]+)`)");
  for (auto it = std::sregex_iterator(pt.out.begin(), pt.out.end(), drop);
       it != std::sregex_iterator(); ++it) {
    theirs.insert((*it)[1].str() + "." + (*it)[2].str());
  }
  ASSERT_FALSE(theirs.empty()) << pt.out;

  std::set<std::string> both;
  std::set_intersection(ours.begin(), ours.end(), theirs.begin(), theirs.end(),
                        std::inserter(both, both.end()));
  EXPECT_EQ(both, kAgreed) << pt.out;
  EXPECT_EQ(Minus(theirs, ours), kOnlyPt) << pt.out;
  EXPECT_EQ(Minus(ours, theirs), kOnlyDbrunbook) << pt.out;
  // Where both drop cl.b_id, pt says why in its own words (the clustered key) and suggests
  // re-adding it shorter; dbrunbook names the UNIQUE index that already is that B-tree.
  EXPECT_NE(pt.out.find("Key b_id ends with a prefix of the clustered index"), std::string::npos);
}

TEST_F(ResourcesIntegrationTest, CommandPrintsTheFindingsAsJson) {
  Grant();
  const char* binary = std::getenv("DBRUNBOOK_BINARY");  // NOLINT(concurrency-mt-unsafe)
  ASSERT_NE(binary, nullptr) << "DBRUNBOOK_BINARY is not set: run through ctest";
  const CommandResult cli = RunCommand(fmt::format(
      "{} investigate --dsn mysql://monitor@127.0.0.1:{}/ --password-file {} --only resources "
      "--format json 2>/dev/null",
      binary, primary_.port, primary_.monitor_password_file));
  EXPECT_EQ(cli.status, 1) << cli.out;  // warnings: duplicates (and the fragmented table)
  const auto json = nlohmann::json::parse(cli.out, nullptr, false);
  ASSERT_FALSE(json.is_discarded()) << cli.out;
  ASSERT_TRUE(json["findings"].is_array());
  bool duplicate = false;
  bool skipped = false;
  for (const auto& f : json["findings"]) {
    EXPECT_TRUE(f.contains("code") && f.contains("severity") && f.contains("title") &&
                f.contains("evidence") && f.contains("suggestions"));
    EXPECT_EQ(f["step"], "investigate.resources");
    if (f["code"] == "index.duplicate" && f["evidence"][0]["schema"] == kSchema &&
        f["evidence"][0]["index"] == "by_customer") {
      duplicate = true;
      EXPECT_EQ(f["severity"], "warning");
      EXPECT_EQ(f["evidence"][0]["covered_by"], "by_customer_created");
      EXPECT_EQ(f["suggestions"][0]["sql"],
                "ALTER TABLE `resources_it`.`orders` DROP INDEX `by_customer`");
    }
    if (f["code"] == "index.unused_skipped") {
      skipped = true;  // the default 24 h: the sandbox started minutes ago
      EXPECT_EQ(f["severity"], "info");
      EXPECT_TRUE(f["evidence"][0]["uptime_seconds"].is_number_integer());
    }
  }
  EXPECT_TRUE(duplicate) << cli.out;
  EXPECT_TRUE(skipped) << cli.out;
}

}  // namespace
}  // namespace dbrunbook::steps
