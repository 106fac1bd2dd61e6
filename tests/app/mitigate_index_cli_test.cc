// `dbrunbook mitigate index` as a process against the sandbox servers, on a table of 300,000
// rows filled from MariaDB's SEQUENCE engine: the advice for a query that scans and sorts it,
// a dry run that changes nothing (SHOW INDEX unchanged), the index applied online and verified
// by EXPLAIN with the query measured before and after (printed), the top classes of a slow log
// (statements redacted), a failed apply (an account without ALTER) reported and audited, the
// guardrails (a replica, a table above --max-table-size), a table the server cannot index
// online (Aria: LOCK=NONE refused, then --allow-locking), and the exit codes of bad usage.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "store/store.h"
#include "support/cli_fixture.h"
#include "support/sandbox.h"

namespace dbrunbook::app {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;

constexpr const char* kQuery =
    "SELECT o.id, o.amount FROM orders AS o WHERE o.customer_id = 4242 "
    "AND o.created_at >= '2026-03-01' ORDER BY o.created_at DESC LIMIT 10";
constexpr const char* kIndex = "dbr_customer_id_created_at";
constexpr int kRows = 300000;

std::string Sql(const std::string& server, const std::string& sql) {
  auto out = testing::SandboxSql(server, sql, {"--skip-column-names"});
  EXPECT_TRUE(out) << out.error().ToString();
  return out.value_or("");
}

class MitigateIndexCliTest : public testing::CliFixture {
 protected:
  MitigateIndexCliTest() : CliFixture("mitigate-index-cli") {}

  // The tables, once per process: orders (300,000 rows, no secondary index), a small table
  // (also replicated: for the replica guardrail) and an Aria table.
  static void SetUpTestSuite() {
    const auto start = std::chrono::steady_clock::now();
    const std::string fill =
        "DROP DATABASE IF EXISTS mi_shop; CREATE DATABASE mi_shop; "
        "CREATE TABLE mi_shop.orders (id INT PRIMARY KEY AUTO_INCREMENT, customer_id INT NOT "
        "NULL, status VARCHAR(16) NOT NULL, created_at DATETIME NOT NULL, note TEXT, amount "
        "DECIMAL(10,2)) ENGINE=InnoDB; "
        "INSERT INTO mi_shop.orders (customer_id, status, created_at, amount) SELECT seq % 5000, "
        "ELT(1 + seq % 4, 'new', 'paid', 'shipped', 'void'), '2026-01-01' + INTERVAL (seq % 300) "
        "DAY + INTERVAL (seq % 86400) SECOND, seq % 997 FROM mi_shop.seq_1_to_" +
        std::to_string(kRows) +
        "; ANALYZE TABLE mi_shop.orders; "
        "CREATE TABLE mi_shop.small (id INT PRIMARY KEY, k INT NOT NULL) ENGINE=InnoDB; "
        "INSERT INTO mi_shop.small SELECT seq, seq % 10 FROM mi_shop.seq_1_to_2000; "
        "CREATE TABLE mi_shop.legacy (id INT PRIMARY KEY, k INT NOT NULL) ENGINE=Aria; "
        "INSERT INTO mi_shop.legacy SELECT seq, seq % 100 FROM mi_shop.seq_1_to_20000; "
        "ANALYZE TABLE mi_shop.small, mi_shop.legacy; "
        // An account that may read (and EXPLAIN) but not ALTER.
        "DROP USER IF EXISTS mi_reader@localhost; "
        "CREATE USER mi_reader@localhost IDENTIFIED BY 'mi-reader-pw'; "
        "GRANT SELECT ON mi_shop.* TO mi_reader@localhost;";
    auto out = testing::SandboxSql("primary", fill);
    ASSERT_TRUE(out) << out.error().ToString();
    std::cout << "filled mi_shop.orders with " << kRows << " rows in "
              << std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count()
              << " s\n";
  }

  void SetUp() override {
    CliFixture::SetUp();
    auto primary = testing::LoadSandbox("primary");
    ASSERT_TRUE(primary) << primary.error().ToString();
    primary_ = std::move(*primary);
    auto replica = testing::LoadSandbox("replica");
    ASSERT_TRUE(replica) << replica.error().ToString();
    replica_ = std::move(*replica);
    std::filesystem::create_directories(dir_ / "home");
    store_ = (dir_ / "audit.db").string();
    config_ = Write("dbrunbook.yaml",
                    "targets:\n"
                    "  - name: primary-root\n"
                    "    socket: " +
                        primary_.socket +
                        "\n"
                        "    user: root\n"
                        "  - name: replica-root\n"
                        "    socket: " +
                        replica_.socket +
                        "\n"
                        "    user: root\n"
                        "  - name: primary-reader\n"
                        "    socket: " +
                        primary_.socket +
                        "\n"
                        "    user: mi_reader\n"
                        "    password_file: " +
                        Write("reader.password", "mi-reader-pw\n") + "\n");
    std::filesystem::permissions(dir_ / "reader.password", std::filesystem::perms::owner_read |
                                                               std::filesystem::perms::owner_write);
    // Each test starts without the index.
    Sql("primary", std::string("ALTER TABLE mi_shop.orders DROP INDEX IF EXISTS ") + kIndex);
  }

  testing::RunResult Index(const std::string& args) {
    return Shell("HOME='" + (dir_ / "home").string() + "' XDG_STATE_HOME= \"$B\" --config '" +
                 config_ + "' mitigate index " + args + " --store '" + store_ + "'");
  }
  static json Json(const testing::RunResult& r) {
    const json j = json::parse(r.out, nullptr, false);
    EXPECT_FALSE(j.is_discarded()) << r.Describe();
    return j;
  }
  static std::string ShowIndex(const std::string& table, const std::string& server = "primary") {
    return Sql(server, "SHOW INDEX FROM mi_shop." + table);
  }
  std::vector<store::AuditRecord> Audit() {
    auto s = store::Store::Open(store_);
    EXPECT_TRUE(s) << s.error().ToString();
    if (!s) return {};
    auto records = (*s)->Recent(100);
    EXPECT_TRUE(records);
    std::vector<store::AuditRecord> out = records.value_or(std::vector<store::AuditRecord>{});
    std::reverse(out.begin(), out.end());
    return out;
  }
  static std::vector<std::string> Phases(const std::vector<store::AuditRecord>& records) {
    std::vector<std::string> phases;
    for (const auto& r : records) phases.emplace_back(store::PhaseName(r.entry.phase));
    return phases;
  }
  static std::string Q(const std::string& text) { return "'" + text + "'"; }

  testing::SandboxServer primary_;
  testing::SandboxServer replica_;
  std::string store_;
  std::string config_;
};

TEST_F(MitigateIndexCliTest, DryRunAdvisesTheIndexAndChangesNothing) {
  const std::string before = ShowIndex("orders");
  const auto r = Index("primary-root --db mi_shop --format json --query " + Q(kQuery));
  ASSERT_EQ(r.status, 0) << r.Describe();
  const json j = Json(r);
  EXPECT_EQ(j["schema"], "dbrunbook.mitigation");
  EXPECT_EQ(j["action"], "index");
  EXPECT_EQ(j["status"], "planned");
  EXPECT_EQ(j["exit_code"], 0);
  ASSERT_EQ(j["statements"].size(), 1u) << j.dump(2);
  const json& s = j["statements"][0];
  EXPECT_EQ(s["kind"], "select");
  EXPECT_EQ(s["plan_before"]["filesort"], true);
  ASSERT_EQ(s["tables"].size(), 1u) << s.dump(2);
  const json& t = s["tables"][0];
  EXPECT_EQ(t["schema"], "mi_shop");
  EXPECT_EQ(t["table"], "orders");
  EXPECT_GT(t["rows_before"].get<int64_t>(), kRows / 2);
  EXPECT_EQ(t["candidate"]["name"], kIndex);
  EXPECT_EQ(t["candidate"]["columns"][0]["column"], "customer_id");
  EXPECT_EQ(t["candidate"]["columns"][1]["role"], "range");
  EXPECT_EQ(t["candidate"]["sql"],
            "ALTER TABLE `mi_shop`.`orders` ADD INDEX `dbr_customer_id_created_at` "
            "(`customer_id`, `created_at`), ALGORITHM=INPLACE, LOCK=NONE");
  // 5,000 customers: about 60 rows each.
  const int64_t estimate = t["estimate"]["rows_after"].get<int64_t>();
  EXPECT_GT(estimate, 20);
  EXPECT_LT(estimate, 200);
  EXPECT_TRUE(t["outcome"].is_null());
  // The statement is shown redacted.
  EXPECT_EQ(r.out.find("4242"), std::string::npos);
  EXPECT_EQ(ShowIndex("orders"), before);

  const auto audit = Audit();
  ASSERT_EQ(Phases(audit), std::vector<std::string>{"planned"});
  EXPECT_EQ(audit[0].entry.action, "index");
  EXPECT_THAT(audit[0].entry.result, HasSubstr("dry run"));
  EXPECT_EQ(audit[0].entry.plan.find("4242"), std::string::npos);

  const auto text = Index("primary-root --db mi_shop --query " + Q(kQuery));
  ASSERT_EQ(text.status, 0) << text.Describe();
  EXPECT_THAT(text.out, HasSubstr("plan — nothing was changed"));
  EXPECT_THAT(text.out, HasSubstr("candidate: dbr_customer_id_created_at (customer_id, "
                                  "created_at) — equality, range; avoids the filesort"));
}

TEST_F(MitigateIndexCliTest, ApplyAddsTheIndexVerifiesThePlanAndMeasures) {
  const auto r =
      Index("primary-root --db mi_shop --format json --apply --measure --query " + Q(kQuery));
  ASSERT_EQ(r.status, 0) << r.Describe();
  const json j = Json(r);
  EXPECT_EQ(j["status"], "done");
  const json& s = j["statements"][0];
  const json& t = s["tables"][0];
  const json& o = t["outcome"];
  EXPECT_EQ(o["status"], "verified") << o.dump(2);
  EXPECT_EQ(o["locking"], false);
  EXPECT_EQ(o["key_after"], kIndex);
  const int64_t before = t["rows_before"].get<int64_t>();
  const int64_t after = o["rows_after"].get<int64_t>();
  EXPECT_LT(after, before / 100);
  EXPECT_THAT(ShowIndex("orders"), HasSubstr(kIndex));
  ASSERT_TRUE(s["measured_before_seconds"].is_number()) << s.dump(2);
  ASSERT_TRUE(s["measured_after_seconds"].is_number()) << s.dump(2);
  const double t_before = s["measured_before_seconds"].get<double>();
  const double t_after = s["measured_after_seconds"].get<double>();
  EXPECT_LT(t_after, t_before);
  std::cout << "rows examined: " << before << " before, " << after << " after (estimate "
            << t["estimate"]["rows_after"] << "); query time: " << t_before << " s before, "
            << t_after << " s after; ALTER " << o["alter_seconds"] << " s; cardinality "
            << o["cardinality"] << "\n";
  EXPECT_EQ(Phases(Audit()), (std::vector<std::string>{"planned", "applied", "verified"}));
  std::cout << "progress on stderr:\n" << r.err;

  // Run again: nothing to do.
  const auto again = Index("primary-root --db mi_shop --format json --apply --query " + Q(kQuery));
  ASSERT_EQ(again.status, 0) << again.Describe();
  EXPECT_EQ(Json(again)["status"], "nothing_to_do");
}

TEST_F(MitigateIndexCliTest, SlowLogTopClassesWithTheirDatabase) {
  const std::string log = Write("slow.log",
                                "# Time: 2026-11-27T03:00:00.000000Z\n"
                                "# User@Host: app[app] @ localhost []\n"
                                "# Query_time: 0.500000  Lock_time: 0.000100 Rows_sent: 10  "
                                "Rows_examined: 300000\n"
                                "use mi_shop;\n"
                                "SET timestamp=1795748400;\n"
                                "SELECT o.id, o.amount FROM orders AS o WHERE o.customer_id = "
                                "4242 AND o.created_at >= '2026-03-01' ORDER BY o.created_at "
                                "DESC LIMIT 10;\n"
                                "# Query_time: 0.700000  Lock_time: 0.000100 Rows_sent: 10  "
                                "Rows_examined: 300000\n"
                                "SET timestamp=1795748401;\n"
                                "SELECT o.id, o.amount FROM orders AS o WHERE o.customer_id = "
                                "777 AND o.created_at >= '2026-04-01' ORDER BY o.created_at "
                                "DESC LIMIT 10;\n"
                                "# Query_time: 0.300000  Lock_time: 0.000100 Rows_sent: 0  "
                                "Rows_examined: 0\n"
                                "SET timestamp=1795748402;\n"
                                "INSERT INTO small VALUES (99999, 1);\n"
                                "# Query_time: 0.001000  Lock_time: 0.000100 Rows_sent: 1  "
                                "Rows_examined: 1\n"
                                "SET timestamp=1795748403;\n"
                                "SELECT k FROM small WHERE id = 5;\n");
  const auto r = Index("primary-root --format json --limit 2 --slow-log '" + log + "'");
  ASSERT_EQ(r.status, 0) << r.Describe();
  const json j = Json(r);
  EXPECT_EQ(j["status"], "planned");
  ASSERT_EQ(j["statements"].size(), 2u) << j.dump(2);
  const json& first = j["statements"][0];
  EXPECT_THAT(first["source"].get<std::string>(),
              HasSubstr("slow log class 1 (Query_time sum 1.200s, 2 calls)"));
  EXPECT_EQ(first["db"], "mi_shop");
  EXPECT_EQ(first["tables"][0]["candidate"]["name"], kIndex);
  const json& second = j["statements"][1];
  EXPECT_EQ(second["error"]["code"], "invalid_argument") << second.dump(2);
  EXPECT_THAT(second["error"]["message"].get<std::string>(), HasSubstr("INSERT ... VALUES"));
  // The worst sample (customer 777) went to EXPLAIN; neither literal is shown.
  EXPECT_EQ(r.out.find("777"), std::string::npos);
  EXPECT_EQ(r.out.find("4242"), std::string::npos);
}

TEST_F(MitigateIndexCliTest, AnAccountWithoutAlterFailsAndIsAudited) {
  const std::string before = ShowIndex("orders");
  // Without the privilege to read the replica status, it cannot tell: refused.
  const auto unknown =
      Index("primary-reader --db mi_shop --format json --apply --query " + Q(kQuery));
  ASSERT_EQ(unknown.status, 1) << unknown.Describe();
  const json unknown_json = Json(unknown);
  const json& u = unknown_json["statements"][0]["tables"][0]["outcome"];
  EXPECT_EQ(u["status"], "refused") << u.dump(2);
  EXPECT_THAT(u["detail"].get<std::string>(), HasSubstr("cannot tell whether the server is a "
                                                        "replica"));
  EXPECT_EQ(Phases(Audit()), (std::vector<std::string>{"planned", "refused"}));

  // --allow-replica lifts that; the ALTER itself is then refused by the server.
  const auto r = Index(
      "primary-reader --db mi_shop --format json --apply --allow-replica "
      "--query " +
      Q(kQuery));
  ASSERT_EQ(r.status, 1) << r.Describe();
  const json j = Json(r);
  EXPECT_EQ(j["status"], "incomplete");
  const json& o = j["statements"][0]["tables"][0]["outcome"];
  EXPECT_EQ(o["status"], "failed") << o.dump(2);
  EXPECT_EQ(o["error"]["code"], "privilege") << o.dump(2);
  EXPECT_THAT(o["error"]["hint"].get<std::string>(), HasSubstr("ALTER and INDEX"));
  EXPECT_EQ(ShowIndex("orders"), before);
  const auto audit = Audit();
  ASSERT_EQ(Phases(audit), (std::vector<std::string>{"planned", "refused", "planned", "failed"}));
  EXPECT_EQ(audit[3].entry.subject, "mi_shop.orders dbr_customer_id_created_at");
  EXPECT_THAT(audit[3].entry.error, HasSubstr("denied"));
}

TEST_F(MitigateIndexCliTest, AReplicaIsRefused) {
  // mi_shop.small reaches the replica through replication.
  bool replicated = false;
  for (int i = 0; i < 300 && !replicated; ++i) {
    replicated = Sql("replica", "SELECT COUNT(*) FROM mi_shop.small") == "2000\n";
    if (!replicated) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_TRUE(replicated);
  const std::string before = ShowIndex("small", "replica");
  const auto r = Index(
      "replica-root --db mi_shop --min-rows 100 --format json --apply --query "
      "'SELECT id FROM small WHERE k = 3'");
  ASSERT_EQ(r.status, 1) << r.Describe();
  const json j = Json(r);
  const json& o = j["statements"][0]["tables"][0]["outcome"];
  EXPECT_EQ(o["status"], "refused") << j.dump(2);
  EXPECT_THAT(o["detail"].get<std::string>(), HasSubstr("replica"));
  EXPECT_TRUE(o["sql_sent"].is_null());
  EXPECT_EQ(ShowIndex("small", "replica"), before);
  EXPECT_EQ(Phases(Audit()), (std::vector<std::string>{"planned", "refused"}));
}

TEST_F(MitigateIndexCliTest, ALargeTableNeedsAllowLarge) {
  const std::string before = ShowIndex("orders");
  const auto r = Index("primary-root --db mi_shop --max-table-size 1 --apply --query " + Q(kQuery));
  ASSERT_EQ(r.status, 1) << r.Describe();
  EXPECT_THAT(r.out, HasSubstr("-> refused"));
  EXPECT_THAT(r.out, HasSubstr("above --max-table-size"));
  EXPECT_THAT(r.out, HasSubstr("--allow-large"));
  EXPECT_EQ(ShowIndex("orders"), before);
}

TEST_F(MitigateIndexCliTest, ATableThatCannotBeIndexedOnlineNeedsAllowLocking) {
  Sql("primary", "ALTER TABLE mi_shop.legacy DROP INDEX IF EXISTS dbr_k");
  const std::string query =
      " --db mi_shop --min-rows 1000 --format json --apply --query "
      "'SELECT id FROM legacy WHERE k = 7'";
  const auto refused = Index("primary-root" + query);
  ASSERT_EQ(refused.status, 1) << refused.Describe();
  const json refused_json = Json(refused);
  const json& o = refused_json["statements"][0]["tables"][0]["outcome"];
  EXPECT_EQ(o["status"], "failed") << o.dump(2);
  EXPECT_THAT(o["error"]["hint"].get<std::string>(), HasSubstr("--allow-locking"));
  EXPECT_THAT(ShowIndex("legacy"), ::testing::Not(HasSubstr("dbr_k")));

  const auto locked = Index("primary-root --allow-locking" + query);
  ASSERT_EQ(locked.status, 0) << locked.Describe();
  const json locked_json = Json(locked);
  const json& l = locked_json["statements"][0]["tables"][0]["outcome"];
  EXPECT_EQ(l["status"], "verified") << l.dump(2);
  EXPECT_EQ(l["locking"], true);
  EXPECT_EQ(l["sql_sent"], "ALTER TABLE `mi_shop`.`legacy` ADD INDEX `dbr_k` (`k`)");
  EXPECT_THAT(ShowIndex("legacy"), HasSubstr("dbr_k"));
}

TEST_F(MitigateIndexCliTest, UsageErrorsAndUnreachableServers) {
  auto r = Index("primary-root");
  EXPECT_EQ(r.status, 2) << r.Describe();
  EXPECT_THAT(r.err, HasSubstr("--slow-log FILE"));
  r = Index("primary-root --query 'SELECT 1 FROM t' --slow-log /dev/null");
  EXPECT_EQ(r.status, 2) << r.Describe();
  r = Index("primary-root --query 'ALTER TABLE t ADD INDEX (a)'");
  EXPECT_EQ(r.status, 2) << r.Describe();
  EXPECT_THAT(r.err, HasSubstr("only SELECT, UPDATE, DELETE and INSERT ... SELECT"));
  r = Index("primary-root --slow-log '" + (dir_ / "missing.log").string() + "'");
  EXPECT_EQ(r.status, 2) << r.Describe();
  EXPECT_THAT(r.err, HasSubstr("missing.log"));
  // One file per --slow-log: the TARGET after it is not read as a second file.
  r = Index("--slow-log '" + (dir_ / "missing.log").string() + "' primary-root");
  EXPECT_EQ(r.status, 2) << r.Describe();
  EXPECT_THAT(r.err, HasSubstr("missing.log"));
  r = Index("--dsn mysql://nobody@127.0.0.1:" + std::to_string(testing::ClosedLoopbackPort()) +
            "/ --query 'SELECT 1 FROM t' --format json");
  EXPECT_EQ(r.status, 3) << r.Describe();
  EXPECT_EQ(Json(r)["status"], "error");
  EXPECT_TRUE(Audit().empty());
}

}  // namespace
}  // namespace dbrunbook::app
