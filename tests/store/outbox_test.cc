// The notification outbox (schema version 4) on temporary files: idempotent enqueue per (key,
// channel), what is due (per channel limit, order per order_key, next attempt time), the state
// changes, the counts, an incident's messages, and a version 3 file migrated with its data.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <cstdlib>
#include <filesystem>

#include "store/store.h"

namespace dbrunbook::store {
namespace {

namespace fs = std::filesystem;

class OutboxTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::temp_directory_path() / "dbrunbook-outbox-test-XXXXXX").string();
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    auto store = Store::Open(dir_ + "/s.db");
    ASSERT_TRUE(store) << store.error().ToString();
    store_ = std::move(*store);
  }
  void TearDown() override {
    store_.reset();
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  static OutboxRow Row(std::string key, std::string channel, std::string order_key = "",
                       int64_t at_ms = 1000, std::string incident = "7") {
    OutboxRow r;
    r.key = std::move(key);
    r.channel = std::move(channel);
    r.incident_id = std::move(incident);
    r.kind = "alert";
    r.order_key = std::move(order_key);
    r.message_json = "{}";
    r.next_attempt_ms = at_ms;
    r.created_at = "2026-11-27T10:00:00.000Z";
    r.created_ms = at_ms;
    return r;
  }

  std::vector<std::string> DueKeys(int64_t now, int limit, std::string_view channel = {}) {
    auto due = store_->OutboxDue(now, limit, channel);
    EXPECT_TRUE(due) << due.error().ToString();
    std::vector<std::string> keys;
    if (due) {
      for (const auto& r : *due) keys.push_back(r.channel + "/" + r.key);
    }
    return keys;
  }

  std::string dir_;
  std::unique_ptr<Store> store_;
};

TEST_F(OutboxTest, EnqueueIsIdempotentPerKeyAndChannel) {
  EXPECT_TRUE(*store_->OutboxEnqueue(Row("k1", "slack")));
  EXPECT_FALSE(*store_->OutboxEnqueue(Row("k1", "slack")));  // the same pair: nothing changes
  EXPECT_TRUE(*store_->OutboxEnqueue(Row("k1", "pager")));   // another channel: its own row
  auto counts = store_->OutboxCounts();
  ASSERT_TRUE(counts);
  ASSERT_EQ(counts->size(), 2u);
  EXPECT_EQ((*counts)[0].channel, "pager");
  EXPECT_EQ((*counts)[0].count, 1);
  EXPECT_EQ((*counts)[1].channel, "slack");
  EXPECT_EQ((*counts)[1].count, 1);
}

TEST_F(OutboxTest, EnqueueAllWritesQueuedAndFailedRows) {
  OutboxRow failed = Row("k1", "nowhere");
  failed.state = "failed";
  failed.last_error = "channel 'nowhere' is not configured";
  auto written = store_->OutboxEnqueueAll({Row("k1", "slack"), failed, Row("k1", "slack")});
  ASSERT_TRUE(written) << written.error().ToString();
  EXPECT_EQ(*written, (std::vector<bool>{true, true, false}));
  auto rows = store_->OutboxByState("failed", 10);
  ASSERT_TRUE(rows);
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_EQ(rows->front().last_error, "channel 'nowhere' is not configured");
  EXPECT_EQ(rows->front().attempts, 0);
  EXPECT_EQ(DueKeys(2000, 10), (std::vector<std::string>{"slack/k1"}));
}

TEST_F(OutboxTest, DueRespectsTimeLimitAndOrderPerIncident) {
  ASSERT_TRUE(store_->OutboxEnqueue(Row("a1", "slack", "inc-1", 1000)));
  ASSERT_TRUE(
      store_->OutboxEnqueue(Row("a2", "slack", "inc-1", 1000)));  // after a1 (same incident)
  ASSERT_TRUE(store_->OutboxEnqueue(Row("b1", "slack", "inc-2", 1000)));
  ASSERT_TRUE(store_->OutboxEnqueue(Row("c1", "slack", "", 5000)));  // not yet due
  ASSERT_TRUE(store_->OutboxEnqueue(Row("a1", "pager", "inc-1", 1000)));
  EXPECT_EQ(DueKeys(2000, 10), (std::vector<std::string>{"slack/a1", "slack/b1", "pager/a1"}));
  EXPECT_EQ(DueKeys(2000, 1), (std::vector<std::string>{"slack/a1", "pager/a1"}));
  EXPECT_EQ(DueKeys(2000, 10, "pager"), (std::vector<std::string>{"pager/a1"}));
  EXPECT_EQ(DueKeys(9000, 10, "slack"),
            (std::vector<std::string>{"slack/a1", "slack/b1", "slack/c1"}));

  // a1 waits for a retry at 3000: a2 (same incident) waits with it, b1 does not.
  auto due = store_->OutboxDue(2000, 10, "slack");
  ASSERT_TRUE(due);
  const int64_t a1 = due->front().id;
  ASSERT_TRUE(*store_->OutboxMarkRetry(a1, 3000, "HTTP 503", 503));
  EXPECT_EQ(DueKeys(2000, 10, "slack"), (std::vector<std::string>{"slack/b1"}));
  auto next = store_->OutboxNextAttempt("slack", 2000);
  ASSERT_TRUE(next && *next);
  EXPECT_EQ(**next, 3000);
  // Sent: a2 is free.
  ASSERT_TRUE(*store_->OutboxMarkSent(a1, "2026-11-27T10:00:03.000Z", 200));
  EXPECT_EQ(DueKeys(2000, 10, "slack"), (std::vector<std::string>{"slack/a2", "slack/b1"}));
  // A row sent stays sent: a late retry or failure of it changes nothing.
  EXPECT_FALSE(*store_->OutboxMarkFailed(a1, "late", 0));
  EXPECT_FALSE(*store_->OutboxMarkRetry(a1, 1, "late", 0));

  auto rows = store_->OutboxMessagesOf("7");
  ASSERT_TRUE(rows);
  ASSERT_EQ(rows->size(), 5u);
  EXPECT_EQ((*rows)[0].state, "sent");
  EXPECT_EQ((*rows)[0].attempts, 2);
  EXPECT_EQ((*rows)[0].last_status, 200);
  EXPECT_EQ((*rows)[0].last_error, "");
  EXPECT_EQ((*rows)[0].sent_at, "2026-11-27T10:00:03.000Z");
}

TEST_F(OutboxTest, FailedRowsAreCountedAndListed) {
  ASSERT_TRUE(store_->OutboxEnqueue(Row("k1", "hook")));
  ASSERT_TRUE(store_->OutboxEnqueue(Row("k2", "hook")));
  auto due = store_->OutboxDue(2000, 10);
  ASSERT_TRUE(due);
  ASSERT_TRUE(*store_->OutboxMarkFailed(due->at(0).id, "HTTP 400: invalid_payload", 400));
  auto failed = store_->OutboxByState("failed", 10);
  ASSERT_TRUE(failed);
  ASSERT_EQ(failed->size(), 1u);
  EXPECT_EQ(failed->front().key, "k1");
  EXPECT_EQ(failed->front().last_error, "HTTP 400: invalid_payload");
  EXPECT_EQ(failed->front().attempts, 1);
  EXPECT_EQ(DueKeys(2000, 10), (std::vector<std::string>{"hook/k2"}));
  auto counts = store_->OutboxCounts();
  ASSERT_TRUE(counts);
  ASSERT_EQ(counts->size(), 2u);
  EXPECT_EQ((*counts)[0].state, "failed");
  EXPECT_EQ((*counts)[1].state, "queued");
}

TEST_F(OutboxTest, SurvivesReopening) {
  ASSERT_TRUE(store_->OutboxEnqueue(Row("k1", "hook")));
  store_.reset();
  auto again = Store::Open(dir_ + "/s.db");
  ASSERT_TRUE(again);
  auto due = (*again)->OutboxDue(2000, 10);
  ASSERT_TRUE(due);
  ASSERT_EQ(due->size(), 1u);
  EXPECT_EQ(due->front().key, "k1");
}

TEST(OutboxMigration, Version3FileGetsTheOutboxAndKeepsItsIncidents) {
  std::string pattern = (fs::temp_directory_path() / "dbrunbook-outbox-mig-XXXXXX").string();
  ASSERT_NE(mkdtemp(pattern.data()), nullptr);
  const std::string path = pattern + "/v3.db";
  {
    // A file as this build writes it, then set back to version 3 without the outbox: what a
    // version 3 dbrunbook left.
    auto store = Store::Open(path);
    ASSERT_TRUE(store);
    IncidentRecord incident;
    incident.id = 7;
    incident.target = "orders";
    incident.phase = "assess";
    incident.severity = "critical";
    incident.opened_at = "2026-11-27T10:00:00Z";
    incident.state_json = "{}";
    ASSERT_TRUE((*store)->SaveIncident(incident, {}));
  }
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "DROP TABLE notify_outbox; UPDATE schema_version SET version = 3;",
                         nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(db);
  auto store = Store::Open(path);
  ASSERT_TRUE(store) << store.error().ToString();
  EXPECT_EQ((*store)->schema_version(), 4);
  auto incident = (*store)->Incident(7);
  ASSERT_TRUE(incident && *incident);
  EXPECT_EQ((*incident)->target, "orders");
  OutboxRow row;
  row.key = "k";
  row.channel = "c";
  row.message_json = "{}";
  EXPECT_TRUE(*(*store)->OutboxEnqueue(row));
  std::error_code ec;
  fs::remove_all(pattern, ec);
}

}  // namespace
}  // namespace dbrunbook::store
