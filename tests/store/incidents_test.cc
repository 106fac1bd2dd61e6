// The watch daemon's part of the store on temporary files: incidents with their timeline in
// one transaction, findings per diagnosis, evidence, the sample ring buffer, commands, the
// daemon lease, and the anti-flapping memory read from the audit log.
#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#include "store/store.h"

namespace dbrunbook::store {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

class IncidentStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::temp_directory_path() / "dbrunbook-incidents-XXXXXX").string();
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    path_ = dir_ + "/store.db";
    auto store = Store::Open(path_);
    ASSERT_TRUE(store) << store.error().message;
    store_ = std::move(*store);
  }
  void TearDown() override {
    store_.reset();
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  static IncidentRecord Incident(int64_t id, std::string target, std::string phase,
                                 std::string resolved_at = "") {
    IncidentRecord r;
    r.id = id;
    r.target = std::move(target);
    r.phase = std::move(phase);
    r.severity = "critical";
    r.opened_at = "2026-11-27T06:00:00Z";
    r.resolved_at = std::move(resolved_at);
    r.state_json = R"({"id":)" + std::to_string(id) + "}";
    return r;
  }
  static TimelineEntry Event(int64_t incident, std::string kind, std::string text) {
    TimelineEntry e;
    e.incident_id = incident;
    e.at = "2026-11-27T06:00:01Z";
    e.kind = std::move(kind);
    e.text = std::move(text);
    return e;
  }

  std::string dir_;
  std::string path_;
  std::unique_ptr<Store> store_;
};

TEST_F(IncidentStoreTest, SavesIncidentsAndTheirTimelineAndListsOpenOnes) {
  ASSERT_TRUE(store_->SaveIncident(Incident(1, "db1", "assess"),
                                   {Event(1, "opened", "trigger slow_queries firing")}));
  ASSERT_TRUE(store_->SaveIncident(Incident(2, "db2", "resolved", "2026-11-27T07:00:00Z"),
                                   {Event(2, "opened", "x"), Event(2, "resolved", "y")}));
  // Saving again replaces the row and appends to the timeline.
  ASSERT_TRUE(store_->SaveIncident(Incident(1, "db1", "investigate"),
                                   {Event(1, "phase", "assess -> investigate")}));

  auto all = store_->Incidents(false, 10);
  ASSERT_TRUE(all);
  ASSERT_EQ(all->size(), 2U);
  EXPECT_EQ((*all)[0].id, 2);  // newest first
  EXPECT_EQ((*all)[1].phase, "investigate");
  EXPECT_FALSE((*all)[1].updated_at.empty());

  auto open = store_->Incidents(true, 10);
  ASSERT_TRUE(open);
  ASSERT_EQ(open->size(), 1U);
  EXPECT_EQ((*open)[0].id, 1);

  auto timeline = store_->Timeline(1);
  ASSERT_TRUE(timeline);
  ASSERT_EQ(timeline->size(), 2U);
  EXPECT_EQ((*timeline)[0].kind, "opened");
  EXPECT_EQ((*timeline)[1].text, "assess -> investigate");

  auto max = store_->MaxIncidentId();
  ASSERT_TRUE(max);
  EXPECT_EQ(*max, 2);
  auto one = store_->Incident(2);
  ASSERT_TRUE(one && one->has_value());
  EXPECT_EQ((*one)->resolved_at, "2026-11-27T07:00:00Z");
  auto none = store_->Incident(99);
  ASSERT_TRUE(none);
  EXPECT_FALSE(none->has_value());
}

TEST_F(IncidentStoreTest, ReopeningTheFileKeepsEverything) {
  ASSERT_TRUE(store_->SaveIncident(Incident(7, "db1", "mitigate"), {Event(7, "opened", "o")}));
  store_.reset();
  auto again = Store::Open(path_);
  ASSERT_TRUE(again);
  auto open = (*again)->Incidents(true, 10);
  ASSERT_TRUE(open);
  ASSERT_EQ(open->size(), 1U);
  EXPECT_EQ((*open)[0].state_json, R"({"id":7})");
  EXPECT_EQ((*again)->MaxIncidentId().value(), 7);
}

TEST_F(IncidentStoreTest, FindingsAreKeptPerDiagnosisAndReplacedWithin) {
  FindingRecord f;
  f.code = "lock.root_blocker";
  f.severity = "critical";
  f.title = "connection 12 blocks 2";
  f.finding_json = "{}";
  ASSERT_TRUE(store_->SaveFindings(1, 1, {f, f}));
  ASSERT_TRUE(store_->SaveFindings(1, 1, {f}));  // replaces diagnosis 1
  f.code = "query.long_running";
  ASSERT_TRUE(store_->SaveFindings(1, 2, {f}));
  auto findings = store_->Findings(1);
  ASSERT_TRUE(findings);
  ASSERT_EQ(findings->size(), 2U);
  EXPECT_EQ((*findings)[0].diagnosis, 1);
  EXPECT_EQ((*findings)[0].code, "lock.root_blocker");
  EXPECT_EQ((*findings)[1].code, "query.long_running");
  EXPECT_TRUE(store_->Findings(2)->empty());
}

TEST_F(IncidentStoreTest, EvidenceIsKeptInOrder) {
  ASSERT_TRUE(store_->SaveEvidence({{3, "", "processlist", "[]"}, {3, "", "innodb_status", "x"}}));
  auto evidence = store_->Evidence(3);
  ASSERT_TRUE(evidence);
  ASSERT_EQ(evidence->size(), 2U);
  EXPECT_EQ((*evidence)[1].kind, "innodb_status");
  EXPECT_FALSE((*evidence)[0].at.empty());
}

TEST_F(IncidentStoreTest, SamplesAreARingBufferPerTarget) {
  std::vector<SampleRecord> batch;
  for (int i = 0; i < 10; ++i) {
    batch.push_back({"db1", 1000 + i, R"({"threads_running":)" + std::to_string(i) + "}"});
    batch.push_back({"db2", 1000 + i, "{}"});
  }
  ASSERT_TRUE(store_->AppendSamples(batch, 4));
  auto db1 = store_->Samples("db1", 0, 1'000'000);
  ASSERT_TRUE(db1);
  ASSERT_EQ(db1->size(), 4U);  // the newest four
  EXPECT_EQ((*db1)[0].at_ms, 1006);
  EXPECT_EQ((*db1)[3].values_json, R"({"threads_running":9})");
  EXPECT_EQ(store_->Samples("db2", 0, 1'000'000)->size(), 4U);
  EXPECT_EQ(store_->Samples("db1", 1007, 1008)->size(), 2U);
}

TEST_F(IncidentStoreTest, CommandsArePendingUntilFinished) {
  CommandRecord c;
  c.incident_id = 4;
  c.kind = "approve";
  c.action = "kill-queries";
  c.who = "alice";
  auto id = store_->QueueCommand(c);
  ASSERT_TRUE(id);
  auto pending = store_->PendingCommands();
  ASSERT_TRUE(pending);
  ASSERT_EQ(pending->size(), 1U);
  EXPECT_EQ((*pending)[0].action, "kill-queries");
  ASSERT_TRUE(store_->FinishCommand(*id, true, "approved; applying"));
  EXPECT_TRUE(store_->PendingCommands()->empty());
  auto done = store_->Command(*id);
  ASSERT_TRUE(done && done->has_value());
  EXPECT_TRUE((*done)->ok);
  EXPECT_EQ((*done)->result, "approved; applying");
  EXPECT_FALSE((*done)->done_at.empty());
}

TEST_F(IncidentStoreTest, OneDaemonHoldsTheLeaseUntilItGoesStale) {
  DaemonLease first{100, "host", "2026-11-27T06:00:00Z", 0, "127.0.0.1:9101"};
  DaemonLease second{200, "host", "2026-11-27T06:00:05Z", 0, ""};
  auto a = store_->AcquireDaemonLease(first, 1000, 15);
  ASSERT_TRUE(a);
  EXPECT_FALSE(a->has_value());  // taken
  auto b = store_->AcquireDaemonLease(second, 1005, 15);
  ASSERT_TRUE(b);
  ASSERT_TRUE(b->has_value());  // refused: the first is alive
  EXPECT_EQ((*b)->pid, 100);
  EXPECT_EQ((*b)->listen, "127.0.0.1:9101");
  ASSERT_TRUE(store_->Heartbeat(100, 1010));
  EXPECT_TRUE(store_->AcquireDaemonLease(second, 1020, 15)->has_value());  // 1010 + 15 >= 1020
  auto c = store_->AcquireDaemonLease(second, 1026, 15);                   // stale: replaced
  ASSERT_TRUE(c);
  EXPECT_FALSE(c->has_value());
  auto lost = store_->Heartbeat(100, 1027);
  ASSERT_FALSE(lost);
  EXPECT_THAT(lost.error().message, HasSubstr("another watch daemon"));
  ASSERT_TRUE(store_->ReleaseDaemonLease(200));
  EXPECT_FALSE(store_->CurrentDaemonLease()->has_value());
}

TEST_F(IncidentStoreTest, LastAppliedReadsTheAuditLog) {
  AuditEntry e;
  e.run_id = "r1";
  e.target = "db1";
  e.action = "kill-queries";
  e.phase = Phase::kPlanned;
  e.at = "2026-11-27T05:00:00Z";
  ASSERT_TRUE(store_->Append(e));  // planned: does not count
  e.phase = Phase::kVerified;
  e.at = "2026-11-27T05:10:00Z";
  ASSERT_TRUE(store_->Append(e));
  e.phase = Phase::kApplied;
  e.at = "2026-11-27T05:20:00Z";
  ASSERT_TRUE(store_->Append(e));
  e.target = "db2";
  e.phase = Phase::kRefused;
  ASSERT_TRUE(store_->Append(e));
  auto last = store_->LastApplied();
  ASSERT_TRUE(last);
  ASSERT_EQ(last->size(), 1U);
  EXPECT_EQ(last->at("db1").at("kill-queries"), "2026-11-27T05:20:00Z");
}

// Whether another process sees a lock of ours anywhere on the file (fcntl F_GETLK from a
// child: the parent's locks conflict with a write lock over the whole file).
bool LockedForAnotherProcess(const std::string& path) {
  int fds[2];
  if (pipe(fds) != 0) return false;
  const pid_t child = fork();
  if (child == 0) {
    close(fds[0]);
    const int fd = open(path.c_str(), O_RDWR | O_CLOEXEC);
    struct flock probe {};
    probe.l_type = F_WRLCK;
    probe.l_whence = SEEK_SET;
    probe.l_start = 0;
    probe.l_len = 0;  // the whole file, and beyond (SQLite locks bytes past 1 GiB)
    const char locked = fd >= 0 && fcntl(fd, F_GETLK, &probe) == 0 && probe.l_type != F_UNLCK;
    (void)!write(fds[1], &locked, 1);
    _exit(0);
  }
  close(fds[1]);
  char locked = 0;
  (void)!read(fds[0], &locked, 1);
  close(fds[0]);
  waitpid(child, nullptr, 0);
  return locked != 0;
}

// The watch daemon opens several Stores on one file in one process (its threads). Opening one
// must not disturb the others: closing any descriptor of the file drops every POSIX lock the
// process holds on it, those of the SQLite connections already open included, and another
// process may then take the WAL for abandoned (checkpoint and delete it) while the first
// connection still writes to it — its later writes are lost to every other reader.
TEST_F(IncidentStoreTest, OpeningASecondStoreInTheProcessKeepsTheFirstOnesLocks) {
  CommandRecord c;
  c.incident_id = 1;
  c.kind = "ack";
  ASSERT_TRUE(store_->QueueCommand(c));
  // A read keeps the connection's shared lock while the statement is open; the WAL-mode
  // connection holds its lock on the file between statements too.
  ASSERT_TRUE(LockedForAnotherProcess(path_)) << "an open store holds a lock on its file";
  auto second = Store::Open(path_);
  ASSERT_TRUE(second) << second.error().ToString();
  EXPECT_TRUE(LockedForAnotherProcess(path_)) << "opening a second store dropped the locks";
  ASSERT_TRUE(store_->QueueCommand(c));
  EXPECT_EQ((*second)->PendingCommands()->size(), 2U);
}

}  // namespace
}  // namespace dbrunbook::store
