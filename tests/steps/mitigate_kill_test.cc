// Unit tests of mitigate kill-queries' planning and execution over a fake session: the
// criteria, every guardrail, the victim cap, the kill statement per flavor, and the re-check
// that refuses a connection whose statement changed between plan and kill. The real-server
// proofs are tests/app/mitigate_cli_test.cc and mitigate_kill_integration_test.cc.
#include "steps/mitigate_kill.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "support/fake_session.h"

namespace dbrunbook::steps {
namespace {

using collect::ActiveStatement;
using dialect::Flavor;
using dialect::Platform;
using dialect::Product;
using testing::FakeSession;
using ::testing::HasSubstr;

Flavor Make(Product product, Platform platform, dialect::Version version) {
  Flavor f;
  f.product = product;
  f.platform = platform;
  f.version = version;
  f.version_string = version.ToString();
  f.capabilities.performance_schema = true;
  return f;
}

const Flavor kMariaDb = Make(Product::kMariaDB, Platform::kSelfManaged, {10, 11, 19});
const Flavor kMySql = Make(Product::kMySQL, Platform::kSelfManaged, {8, 0, 36});
const Flavor kRdsMySql = Make(Product::kMySQL, Platform::kRds, {8, 0, 36});

ActiveStatement Session(uint64_t id, std::string user, std::string command, double time,
                        std::optional<std::string> info = std::nullopt,
                        std::optional<uint64_t> query_id = std::nullopt) {
  ActiveStatement s;
  s.id = id;
  s.user = std::move(user);
  s.host = "10.0.0.7:51234";
  s.db = "shop";
  s.command = std::move(command);
  s.state = "Sending data";
  s.time_seconds = time;
  s.info = std::move(info);
  s.query_id = query_id;
  return s;
}

KillMatcher Matcher(KillCriteria c) {
  auto m = KillMatcher::Create(std::move(c));
  EXPECT_TRUE(m) << m.error().ToString();
  return std::move(*m);
}

const Exclusion* FindExcluded(const KillPlan& plan, uint64_t id) {
  for (const auto& e : plan.excluded) {
    if (e.session.id == id) return &e;
  }
  return nullptr;
}

TEST(KillMatcherTest, DefaultIsTheRunbooksBusyTimeOfFiveMinutes) {
  KillMatcher m = Matcher({});
  EXPECT_EQ(m.busy_seconds(), 300);
  EXPECT_THAT(m.Describe(), HasSubstr(">= 300s (the runbook's default)"));
  EXPECT_TRUE(m.Matches(Session(1, "app", "Query", 301, "SELECT 1"), false).matched);
  EXPECT_FALSE(m.Matches(Session(1, "app", "Query", 299.9, "SELECT 1"), false).matched);
  // Sleep is never busy, however long.
  EXPECT_FALSE(m.Matches(Session(1, "app", "Sleep", 9000), false).matched);
  EXPECT_FALSE(m.Matches(Session(1, "app", "Sleep", 9000), true).matched);
}

TEST(KillMatcherTest, IdleTimeAloneMatchesOnlySessionsIdleInATransaction) {
  KillCriteria c;
  c.idle_seconds = 60;
  KillMatcher m = Matcher(c);
  EXPECT_FALSE(m.busy_seconds());
  EXPECT_TRUE(m.Matches(Session(1, "app", "Sleep", 61), true).matched);
  EXPECT_FALSE(m.Matches(Session(1, "app", "Sleep", 61), false).matched);  // no transaction
  EXPECT_FALSE(m.Matches(Session(1, "app", "Query", 6100, "SELECT 1"), false).matched);
  EXPECT_THAT(m.Matches(Session(1, "app", "Sleep", 61), true).why,
              HasSubstr("idle 61.0s >= 60s in an open transaction"));
}

TEST(KillMatcherTest, PatternsAreUnanchoredAndAllMustMatch) {
  KillCriteria c;
  c.busy_seconds = 0;
  c.match_user = "^app";
  c.match_info = "(?i)select .* from orders";
  c.match_db = "shop";
  KillMatcher m = Matcher(c);
  auto yes =
      m.Matches(Session(1, "app_ro", "Query", 5, "SELECT * FROM orders WHERE id = 3"), false);
  EXPECT_TRUE(yes.matched);
  EXPECT_THAT(yes.why, HasSubstr("user ~ /^app/"));
  EXPECT_THAT(yes.why, HasSubstr("statement ~ /(?i)select .* from orders/"));
  EXPECT_FALSE(m.Matches(Session(1, "web", "Query", 5, "SELECT * FROM orders"), false).matched);
  EXPECT_FALSE(m.Matches(Session(1, "app", "Query", 5, "UPDATE orders SET a = 1"), false).matched);
  // No statement: an info pattern cannot match.
  EXPECT_FALSE(m.Matches(Session(1, "app", "Query", 5), false).matched);

  KillCriteria host;
  host.busy_seconds = 0;
  host.match_host = "^10\\.0\\.";
  host.match_command = "Query|Execute";
  host.match_state = "Sending";
  KillMatcher h = Matcher(host);
  EXPECT_TRUE(h.Matches(Session(1, "a", "Execute", 1, "x"), false).matched);
  EXPECT_FALSE(h.Matches(Session(1, "a", "Prepare", 1, "x"), false).matched);
}

TEST(KillMatcherTest, RefusesBadInput) {
  KillCriteria bad_re;
  bad_re.match_info = "(unclosed";
  auto m = KillMatcher::Create(bad_re);
  ASSERT_FALSE(m);
  EXPECT_EQ(m.error().code, core::ErrorCode::kInvalidArgument);
  EXPECT_THAT(m.error().message, HasSubstr("--match-info: invalid regular expression"));

  KillCriteria backref;
  backref.ignore_user = "(a)\\1";  // not RE2
  EXPECT_FALSE(KillMatcher::Create(backref));

  KillCriteria negative;
  negative.busy_seconds = -1;
  EXPECT_FALSE(KillMatcher::Create(negative));

  KillCriteria cap;
  cap.max_victims = 0;
  EXPECT_FALSE(KillMatcher::Create(cap));

  KillCriteria idle_query;
  idle_query.idle_seconds = 10;
  idle_query.kill_query = true;
  auto iq = KillMatcher::Create(idle_query);
  ASSERT_FALSE(iq);
  EXPECT_THAT(iq.error().message, HasSubstr("--kill-query"));
}

TEST(GuardrailTest, SparesReplicationSystemDaemonOwnAndProtected) {
  const std::vector<std::string> protected_users = {"backup"};
  auto reason = [&](ActiveStatement s) {
    return Guardrail(s, /*own_connection_id=*/77, protected_users).value_or("");
  };
  EXPECT_THAT(reason(Session(1, "repl", "Binlog Dump GTID", 900)), HasSubstr("replication"));
  EXPECT_THAT(reason(Session(2, "repl", "Binlog Dump", 900)), HasSubstr("replication"));
  EXPECT_THAT(reason(Session(3, "system user", "Slave_IO", 900)), HasSubstr("replication"));
  EXPECT_THAT(reason(Session(4, "system user", "Slave_SQL", 900)), HasSubstr("replication"));
  EXPECT_THAT(reason(Session(5, "system user", "Slave_worker", 900)), HasSubstr("replication"));
  // MySQL's replica threads: command Connect / Query, user "system user".
  EXPECT_THAT(reason(Session(6, "system user", "Connect", 900)), HasSubstr("system user"));
  EXPECT_THAT(reason(Session(7, "event_scheduler", "Daemon", 900)), HasSubstr("event scheduler"));
  EXPECT_THAT(reason(Session(8, "rdsadmin", "Query", 900, "SELECT 1")), HasSubstr("rdsadmin"));
  EXPECT_THAT(reason(Session(9, "", "Daemon", 900)), HasSubstr("daemon"));
  EXPECT_THAT(reason(Session(77, "admin", "Query", 900, "SELECT 1")), HasSubstr("own"));
  ActiveStatement self = Session(12, "admin", "Query", 900, "SELECT 1");
  self.is_self = true;
  EXPECT_THAT(reason(self), HasSubstr("own"));
  EXPECT_THAT(reason(Session(13, "backup", "Query", 900, "SELECT 1")), HasSubstr("protected"));
  EXPECT_EQ(reason(Session(14, "app", "Query", 900, "SELECT 1")), "");
}

TEST(PlanKillsTest, MatchAllStillSparesEveryGuardedSessionAndSaysWhy) {
  KillCriteria c;
  c.busy_seconds = 0;
  c.match_user = ".*";
  c.victims = VictimPolicy::kAll;
  c.protected_users = {"backup"};
  KillMatcher m = Matcher(c);
  const std::vector<ActiveStatement> sessions = {
      Session(1, "system user", "Slave_SQL", 50),
      Session(2, "repl", "Binlog Dump GTID", 40),
      Session(3, "event_scheduler", "Daemon", 30),
      Session(4, "backup", "Query", 20, "SELECT * FROM t WHERE secret = 'abc'"),
      Session(5, "monitor", "Query", 0, "SELECT ...", 1),
      Session(6, "app", "Query", 10, "SELECT * FROM orders WHERE id = 42", 99),
      Session(7, "app", "Killed", 9, "SELECT 1"),
  };
  KillPlan plan = PlanKills(m, dialect::Dialect(kMariaDb), sessions, {}, /*own=*/5);
  ASSERT_EQ(plan.victims.size(), 1u);
  EXPECT_EQ(plan.victims[0].session.id, 6u);
  EXPECT_EQ(plan.victims[0].sql, "KILL CONNECTION 6");
  // The statement is redacted: literals do not reach the plan (or the audit log).
  EXPECT_EQ(plan.victims[0].statement, "select * from orders where id = ?");
  for (uint64_t id : {1, 2, 3, 4, 5, 7}) {
    const Exclusion* e = FindExcluded(plan, id);
    ASSERT_NE(e, nullptr) << id;
    EXPECT_TRUE(e->guardrail) << id;
  }
  EXPECT_THAT(FindExcluded(plan, 4)->statement, ::testing::Not(HasSubstr("abc")));
  EXPECT_EQ(plan.sessions_read, 7);
}

// Root blockers from lock waits (ids as InnoDB transaction ids): the roots of the trees with a
// session and a long enough wait; cycles and sessionless (XA) roots are not kill targets.
TEST(RootBlockersTest, RootsOfTreesWithASessionAndALongEnoughWait) {
  LockWaits waits;
  waits.edges = {{"200", "100", 40}, {"300", "200", 12},   // 100 <- 200 <- 300
                 {"500", "400", 2},                        // 400 holds up 500 briefly
                 {"700", "600", 90},                       // 600 has no session (XA)
                 {"800", "900", 50}, {"900", "800", 50}};  // a cycle
  waits.connection_of = {{"100", 11}, {"200", 12}, {"300", 13}, {"400", 14},
                         {"500", 15}, {"800", 18}, {"900", 19}};
  auto roots = RootBlockersOf(waits, 10);
  ASSERT_EQ(roots.size(), 1u);
  EXPECT_EQ(roots.at(11).trx_id, "100");
  EXPECT_EQ(roots.at(11).held_up, 2u);
  EXPECT_EQ(roots.at(11).longest_wait_seconds, 40);
  EXPECT_EQ(RootBlockersOf(waits, 0).size(), 2u);  // 400 too
}

// Every blocker with a session, root or not, and everyone behind it.
TEST(RootBlockersTest, BlockersOfCountsEveryoneBehindEachBlocker) {
  LockWaits waits;
  waits.edges = {{"200", "100", 40}, {"300", "200", 12},
                 {"301", "200", 3},                        // 100 <- 200 <- 300, 301
                 {"700", "600", 90},                       // 600 has no session
                 {"800", "900", 50}, {"900", "800", 50}};  // a cycle
  waits.connection_of = {{"100", 11}, {"200", 12}, {"300", 13},
                         {"301", 14}, {"800", 18}, {"900", 19}};
  auto blockers = BlockersOf(waits);
  ASSERT_EQ(blockers.size(), 4u);
  EXPECT_EQ(blockers.at(11).held_up, 3u);  // 200, 300 and 301
  EXPECT_EQ(blockers.at(11).longest_wait_seconds, 40);
  EXPECT_EQ(blockers.at(12).held_up, 2u);
  EXPECT_EQ(blockers.at(12).trx_id, "200");
  EXPECT_EQ(blockers.at(18).held_up, 1u);  // the cycle's other member, counted once
  EXPECT_EQ(blockers.count(13), 0u);       // waits, blocks nobody
}

TEST(PlanKillsTest, RootBlockersReplaceTheTimeCriteriaAndKillTheConnection) {
  KillCriteria c;
  c.root_blockers = true;
  c.victims = VictimPolicy::kAll;
  c.protected_users = {"backup"};
  const std::vector<ActiveStatement> sessions = {
      Session(11, "app", "Sleep", 70),  // idle root: the usual culprit
      Session(12, "app", "Query", 40, "UPDATE t SET v = 1 WHERE id = 1"),  // a waiter
      Session(14, "backup", "Query", 5, "FLUSH TABLES WITH READ LOCK"),    // protected root
      Session(21, "app", "Query", 900, "SELECT SLEEP(900)"),  // long, but blocks nobody
  };
  std::map<uint64_t, RootBlocker> roots = {{11, {11, "100", 2, 40}}, {14, {14, "400", 1, 12}}};
  KillPlan plan = PlanKills(Matcher(c), dialect::Dialect(kMariaDb), sessions, {}, 99, roots);
  ASSERT_EQ(plan.victims.size(), 1u);
  const Victim& v = plan.victims[0];
  EXPECT_EQ(v.session.id, 11u);
  EXPECT_EQ(v.sql, "KILL CONNECTION 11");
  EXPECT_EQ(v.blocker_trx_id, "100");
  EXPECT_EQ(v.held_up, 2u);
  EXPECT_TRUE(v.idle_in_transaction);
  EXPECT_THAT(v.why, HasSubstr("holds up 2 transactions"));
  ASSERT_NE(FindExcluded(plan, 14), nullptr);
  EXPECT_TRUE(FindExcluded(plan, 14)->guardrail);
  EXPECT_EQ(FindExcluded(plan, 21), nullptr);  // not matched at all
  EXPECT_THAT(Matcher(c).Describe(), HasSubstr("root blocker of row-lock waits"));

  KillCriteria with_query = c;
  with_query.kill_query = true;
  auto refused = KillMatcher::Create(with_query);
  ASSERT_FALSE(refused);
  EXPECT_THAT(refused.error().message, HasSubstr("does not release the locks"));
  KillCriteria with_time = c;
  with_time.busy_seconds = 60;
  EXPECT_FALSE(KillMatcher::Create(with_time));
  KillCriteria negative = c;
  negative.min_wait_seconds = -1;
  EXPECT_FALSE(KillMatcher::Create(negative));
}

TEST(PlanKillsTest, OldestByDefaultAndTheCapWithAll) {
  const std::vector<ActiveStatement> sessions = {
      Session(1, "app", "Query", 400, "SELECT 1"), Session(2, "app", "Query", 900, "SELECT 2"),
      Session(3, "app", "Query", 600, "SELECT 3"),
      Session(4, "app", "Query", 100, "SELECT 4"),  // under 300 s: no match
  };
  KillPlan oldest = PlanKills(Matcher({}), dialect::Dialect(kMySql), sessions, {}, 99);
  ASSERT_EQ(oldest.victims.size(), 1u);
  EXPECT_EQ(oldest.victims[0].session.id, 2u);
  ASSERT_EQ(oldest.excluded.size(), 2u);
  EXPECT_THAT(oldest.excluded[0].reason, HasSubstr("--victims oldest"));
  EXPECT_FALSE(oldest.excluded[0].guardrail);

  KillCriteria all;
  all.victims = VictimPolicy::kAll;
  all.max_victims = 2;
  KillPlan capped = PlanKills(Matcher(all), dialect::Dialect(kMySql), sessions, {}, 99);
  ASSERT_EQ(capped.victims.size(), 2u);
  EXPECT_EQ(capped.victims[0].session.id, 2u);
  EXPECT_EQ(capped.victims[1].session.id, 3u);
  ASSERT_NE(FindExcluded(capped, 1), nullptr);
  EXPECT_EQ(FindExcluded(capped, 1)->reason, "over --max-victims 2");
}

TEST(PlanKillsTest, IgnoreUserAndIdleTransactions) {
  KillCriteria c;
  c.busy_seconds = 10;
  c.idle_seconds = 30;
  c.ignore_user = "^batch$";
  c.victims = VictimPolicy::kAll;
  collect::OpenTransaction trx;
  trx.thread_id = 3;
  trx.age_seconds = 50;
  trx.rows_modified = 2;
  trx.command = "Sleep";
  const std::vector<ActiveStatement> sessions = {
      Session(1, "batch", "Query", 500, "SELECT 1"),
      Session(2, "app", "Sleep", 100),  // idle, no transaction
      Session(3, "app", "Sleep", 40),   // idle in a transaction
  };
  KillPlan plan = PlanKills(Matcher(c), dialect::Dialect(kMariaDb), sessions, {trx}, 99);
  ASSERT_EQ(plan.victims.size(), 1u);
  EXPECT_EQ(plan.victims[0].session.id, 3u);
  EXPECT_TRUE(plan.victims[0].idle_in_transaction);
  EXPECT_THAT(plan.victims[0].why, HasSubstr("transaction open 50.0s, 2 rows modified"));
  ASSERT_NE(FindExcluded(plan, 1), nullptr);
  EXPECT_EQ(FindExcluded(plan, 1)->reason, "user matches --ignore-user");
  EXPECT_EQ(FindExcluded(plan, 2), nullptr);  // did not match: not listed
}

TEST(PlanKillsTest, KillStatementsPerFlavor) {
  KillCriteria q;
  q.busy_seconds = 0;
  q.kill_query = true;
  const std::vector<ActiveStatement> with_query_id = {
      Session(5, "app", "Query", 9, "SELECT 1", 1234)};
  const std::vector<ActiveStatement> without = {Session(5, "app", "Query", 9, "SELECT 1")};
  EXPECT_EQ(PlanKills(Matcher(q), dialect::Dialect(kMariaDb), with_query_id, {}, 1).victims[0].sql,
            "KILL QUERY ID 1234");
  EXPECT_EQ(PlanKills(Matcher(q), dialect::Dialect(kMySql), without, {}, 1).victims[0].sql,
            "KILL QUERY 5");
  EXPECT_EQ(PlanKills(Matcher(q), dialect::Dialect(kRdsMySql), without, {}, 1).victims[0].sql,
            "CALL mysql.rds_kill_query(5)");
  KillCriteria conn;
  conn.busy_seconds = 0;
  EXPECT_EQ(PlanKills(Matcher(conn), dialect::Dialect(kRdsMySql), without, {}, 1).victims[0].sql,
            "CALL mysql.rds_kill(5)");
  // An undetected flavor: nothing to send, so nothing is planned.
  KillPlan unknown = PlanKills(Matcher(conn), dialect::Dialect(Flavor{}), without, {}, 1);
  EXPECT_TRUE(unknown.victims.empty());
  ASSERT_EQ(unknown.excluded.size(), 1u);
  EXPECT_THAT(unknown.excluded[0].reason, HasSubstr("not detected"));
}

TEST(SameStatementTest, SameConnectionStatementAndStart) {
  const ActiveStatement then = Session(5, "app", "Query", 10, "SELECT 1", 100);
  using std::chrono::seconds;
  EXPECT_TRUE(SameStatement(then, Session(5, "app", "Query", 13, "SELECT 1", 100), seconds(3)));
  // A new statement on the same connection: another query id, or the time restarted.
  EXPECT_FALSE(SameStatement(then, Session(5, "app", "Query", 13, "SELECT 1", 101), seconds(3)));
  EXPECT_FALSE(SameStatement(then, Session(5, "app", "Query", 0.5, "SELECT 1", 100), seconds(3)));
  EXPECT_FALSE(SameStatement(then, Session(5, "app", "Query", 13, "SELECT 2", 100), seconds(3)));
  EXPECT_FALSE(SameStatement(then, Session(5, "app", "Sleep", 13, "SELECT 1", 100), seconds(3)));
  // Without query ids (MySQL): the start time decides.
  const ActiveStatement mysql = Session(5, "app", "Query", 10, "SELECT 1");
  EXPECT_TRUE(SameStatement(mysql, Session(5, "app", "Query", 11, "SELECT 1"), seconds(1)));
  EXPECT_FALSE(SameStatement(mysql, Session(5, "app", "Query", 2, "SELECT 1"), seconds(1)));
}

// --- execution over a fake session ---------------------------------------------------------

class ExecuteKillsTest : public ::testing::Test {
 protected:
  collect::TargetSession Target() {
    auto fake = std::make_unique<FakeSession>();
    fake_ = fake.get();
    return collect::TargetSession{std::move(fake), dialect::Dialect(kMariaDb), {}, {}, {}};
  }
  static mysql::ResultSet Row(const ActiveStatement& s) {
    return mysql::MakeResultSet(
        {"id", "user", "host", "db", "command", "state", "time_seconds", "info", "progress",
         "query_id", "is_self"},
        {{std::to_string(s.id), s.user, s.host, s.db, s.command, s.state,
          std::to_string(s.time_seconds), s.info, std::nullopt,
          s.query_id ? std::optional<std::string>(std::to_string(*s.query_id)) : std::nullopt,
          "0"}});
  }
  static mysql::ResultSet NoRow() { return mysql::MakeResultSet({"id"}, {}); }
  KillPlan PlanFor(const ActiveStatement& s, bool kill_query = false) {
    KillCriteria c;
    c.busy_seconds = 0;
    c.kill_query = kill_query;
    KillPlan plan = PlanKills(Matcher(c), dialect::Dialect(kMariaDb), {s}, {}, 1);
    plan.read_at = clock_.MonotonicNow();
    return plan;
  }
  std::vector<std::pair<KillEvent, KillStatus>> events_;
  ExecuteOptions Options() {
    ExecuteOptions o;
    o.verify_timeout = std::chrono::seconds(2);
    o.on_event = [this](const Victim&, KillEvent e, const KillOutcome& out) {
      events_.emplace_back(e, out.status);
    };
    return o;
  }
  core::SimulatedClock clock_;
  FakeSession* fake_ = nullptr;
};

TEST_F(ExecuteKillsTest, AReusedConnectionIdIsNotKilled) {
  const ActiveStatement planned = Session(5, "app", "Query", 400, "SELECT SLEEP(600)", 100);
  collect::TargetSession target = Target();
  const dialect::Dialect& d = target.dialect;
  // Between plan and kill the statement ended and the connection id now runs another one
  // (a new query id, its time restarted).
  fake_->On(d.SessionById(5), Row(Session(5, "app", "Query", 0.2, "SELECT SLEEP(600)", 117)));
  KillPlan plan = PlanFor(planned);
  auto outcomes = ExecuteKills(target, clock_, plan, Options());
  ASSERT_EQ(outcomes.size(), 1u);
  EXPECT_EQ(outcomes[0].status, KillStatus::kChanged);
  EXPECT_THAT(outcomes[0].detail, HasSubstr("not killed"));
  EXPECT_TRUE(outcomes[0].sql.empty());
  for (const auto& sql : fake_->statements()) EXPECT_FALSE(sql.starts_with("KILL")) << sql;
  ASSERT_EQ(events_.size(), 1u);
  EXPECT_EQ(events_[0].first, KillEvent::kRefused);
}

TEST_F(ExecuteKillsTest, KilledAndVerifiedWhenTheConnectionIsGone) {
  const ActiveStatement planned = Session(5, "app", "Query", 400, "SELECT SLEEP(600)", 100);
  collect::TargetSession target = Target();
  const dialect::Dialect& d = target.dialect;
  fake_->On(d.SessionById(5), Row(planned));  // the re-check
  fake_->On(d.SessionById(5), Row(Session(5, "app", "Killed", 400, "SELECT SLEEP(600)", 100)));
  fake_->On(d.SessionById(5), NoRow());  // then gone
  fake_->On("KILL CONNECTION 5", mysql::ResultSet{});
  auto outcomes = ExecuteKills(target, clock_, PlanFor(planned), Options());
  ASSERT_EQ(outcomes.size(), 1u);
  EXPECT_EQ(outcomes[0].status, KillStatus::kKilled) << outcomes[0].detail;
  EXPECT_EQ(outcomes[0].sql, "KILL CONNECTION 5");
  ASSERT_EQ(events_.size(), 2u);
  EXPECT_EQ(events_[0].first, KillEvent::kApplied);
  EXPECT_EQ(events_[1].first, KillEvent::kVerified);
}

TEST_F(ExecuteKillsTest, NotVerifiedWhenTheVictimStays) {
  const ActiveStatement planned = Session(5, "app", "Query", 400, "SELECT SLEEP(600)", 100);
  collect::TargetSession target = Target();
  fake_->On(target.dialect.SessionById(5), Row(planned));
  fake_->On(target.dialect.SessionById(5),
            Row(Session(5, "app", "Killed", 401, "SELECT SLEEP(600)", 100)));
  fake_->On("KILL CONNECTION 5", mysql::ResultSet{});
  auto outcomes = ExecuteKills(target, clock_, PlanFor(planned), Options());
  ASSERT_EQ(outcomes.size(), 1u);
  EXPECT_EQ(outcomes[0].status, KillStatus::kNotVerified);
  EXPECT_THAT(outcomes[0].detail, HasSubstr("command Killed"));
  ASSERT_EQ(events_.size(), 2u);
  EXPECT_EQ(events_[1].first, KillEvent::kFailed);
}

TEST_F(ExecuteKillsTest, KillQueryIsVerifiedWhenTheStatementIsGone) {
  const ActiveStatement planned = Session(5, "app", "Query", 400, "SELECT SLEEP(600)", 100);
  collect::TargetSession target = Target();
  fake_->On(target.dialect.SessionById(5), Row(planned));
  fake_->On(target.dialect.SessionById(5), Row(Session(5, "app", "Sleep", 0, std::nullopt, 100)));
  fake_->On("KILL QUERY ID 100", mysql::ResultSet{});
  auto outcomes = ExecuteKills(target, clock_, PlanFor(planned, /*kill_query=*/true), Options());
  ASSERT_EQ(outcomes.size(), 1u);
  EXPECT_EQ(outcomes[0].status, KillStatus::kKilled) << outcomes[0].detail;
  EXPECT_THAT(outcomes[0].detail, HasSubstr("the connection stays"));
}

TEST_F(ExecuteKillsTest, ARefusedKillIsFailedWithTheGrant) {
  const ActiveStatement planned = Session(5, "app", "Query", 400, "SELECT SLEEP(600)", 100);
  collect::TargetSession target = Target();
  fake_->On(target.dialect.SessionById(5), Row(planned));
  fake_->On("KILL CONNECTION 5",
            FakeSession::ServerError(core::ErrorCode::kServerError, 1095, "HY000",
                                     "You are not owner of thread 5"));
  fake_->On(dialect::Dialect::CurrentAccount(), mysql::MakeResultSet({"account"}, {{"monitor@%"}}));
  auto outcomes = ExecuteKills(target, clock_, PlanFor(planned), Options());
  ASSERT_EQ(outcomes.size(), 1u);
  EXPECT_EQ(outcomes[0].status, KillStatus::kFailed);
  ASSERT_TRUE(outcomes[0].error);
  EXPECT_THAT(outcomes[0].error->hint, HasSubstr("GRANT CONNECTION ADMIN ON *.* TO 'monitor'@'%'"));
  ASSERT_EQ(events_.size(), 1u);
  EXPECT_EQ(events_[0].first, KillEvent::kFailed);
}

TEST_F(ExecuteKillsTest, AVictimThatEndedJustBeforeTheKillIsNotCountedAsKilled) {
  const ActiveStatement planned = Session(5, "app", "Query", 400, "SELECT SLEEP(600)", 100);
  collect::TargetSession target = Target();
  fake_->On(target.dialect.SessionById(5), Row(planned));
  fake_->On("KILL CONNECTION 5", FakeSession::ServerError(core::ErrorCode::kServerError, 1094,
                                                          "HY000", "Unknown thread id: 5"));
  auto outcomes = ExecuteKills(target, clock_, PlanFor(planned), Options());
  ASSERT_EQ(outcomes.size(), 1u);
  EXPECT_EQ(outcomes[0].status, KillStatus::kChanged);
}

}  // namespace
}  // namespace dbrunbook::steps
