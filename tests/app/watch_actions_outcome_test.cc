// How the watch daemon reads a mitigate command's JSON document (app/watch_actions.h): the
// action state recorded on the incident for each status, the one-line detail (never the SQL a
// change sent), and the run id. The documents have the keys the commands write
// (ActionEnvelopeJson and each command's own); the runs themselves are tested live in
// tests/daemon/watch_actions_test.cc.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "app/watch_actions.h"

namespace dbrunbook::app {
namespace {

using json = nlohmann::json;
using ::testing::HasSubstr;
using ::testing::Not;
using watch::ActionState;

json Envelope(const std::string& action, const std::string& status, int exit_code) {
  return {{"schema", "dbrunbook.mitigation"},
          {"schema_version", 1},
          {"action", action},
          {"status", status},
          {"exit_code", exit_code},
          {"run_id", "run-7"},
          {"warnings", json::array()},
          {"error", nullptr}};
}

TEST(WatchActionOutcomeTest, FailoverStatuses) {
  json done = Envelope("failover", "done", 0);
  done["new_primary"] = {{"target", "db-b"}, {"endpoint", "10.0.0.2:3306"}};
  auto o = OutcomeFromDocument("failover", done, 0);
  EXPECT_EQ(o.state, ActionState::kVerified);
  EXPECT_THAT(o.detail, HasSubstr("failed over to db-b (10.0.0.2:3306)"));
  EXPECT_EQ(o.run_id, "run-7");

  json refused = Envelope("failover", "refused", 1);
  refused["reasons"] = {"primary_reachable: the old primary cannot be reached", "lag: 30 s"};
  o = OutcomeFromDocument("failover", refused, 1);
  EXPECT_EQ(o.state, ActionState::kRefused);
  EXPECT_EQ(o.detail,
            "refused, nothing changed: primary_reachable: the old primary cannot be reached; "
            "lag: 30 s");

  json hook = done;
  hook["status"] = "hook_failed";
  hook["hook"] = {{"detail", "failed: exit 3"}};
  o = OutcomeFromDocument("failover", hook, 1);
  EXPECT_EQ(o.state, ActionState::kApplied);
  EXPECT_THAT(o.detail, HasSubstr("the failover hook failed (failed: exit 3)"));

  json rolled = Envelope("failover", "rolled_back", 1);
  rolled["manual"] = json::array();
  EXPECT_EQ(OutcomeFromDocument("failover", rolled, 1).state, ActionState::kFailed);
  json partway = Envelope("failover", "failed", 1);
  partway["manual"] = {"run SET GLOBAL read_only = OFF on the new primary"};
  o = OutcomeFromDocument("failover", partway, 1);
  EXPECT_EQ(o.state, ActionState::kFailed);
  EXPECT_THAT(o.detail, HasSubstr("FAILED part-way"));
  json unverified = done;
  unverified["status"] = "unverified";
  EXPECT_EQ(OutcomeFromDocument("failover", unverified, 1).state, ActionState::kApplied);
}

TEST(WatchActionOutcomeTest, AnErrorBeforeActingIsARefusal) {
  json error = Envelope("failover", "error", 3);
  error["error"] = {{"code", "unavailable"},
                    {"message", "replica 'db-b': cannot connect"},
                    {"hint", "check that it runs"}};
  auto o = OutcomeFromDocument("failover", error, 3);
  EXPECT_EQ(o.state, ActionState::kRefused);
  EXPECT_EQ(o.detail, "not run: replica 'db-b': cannot connect — check that it runs");
  EXPECT_EQ(o.run_id, "run-7");
}

TEST(WatchActionOutcomeTest, ScaleUpStatuses) {
  json done = Envelope("scale-up", "done", 0);
  done["plan"] = {
      {"resource", "orders-db"}, {"current", "db.r6g.large"}, {"proposed", "db.r6g.xlarge"}};
  done["outcome"] = {{"state", "done"}, {"detail", "orders-db is db.r6g.xlarge and available"}};
  auto o = OutcomeFromDocument("scale-up", done, 0);
  EXPECT_EQ(o.state, ActionState::kVerified);
  EXPECT_EQ(o.detail,
            "orders-db db.r6g.large -> db.r6g.xlarge: done — orders-db is db.r6g.xlarge and "
            "available");
  json scheduled = done;
  scheduled["status"] = "scheduled";
  EXPECT_EQ(OutcomeFromDocument("scale-up", scheduled, 0).state, ActionState::kVerified);
  json in_progress = done;
  in_progress["status"] = "in_progress";
  EXPECT_EQ(OutcomeFromDocument("scale-up", in_progress, 1).state, ActionState::kApplied);
  json pending = done;
  pending["status"] = "nothing_to_do";
  o = OutcomeFromDocument("scale-up", pending, 0);
  EXPECT_EQ(o.state, ActionState::kRefused);
  EXPECT_THAT(o.detail, HasSubstr("already pending"));
  json busy = Envelope("scale-up", "refused", 1);
  busy["error"] = {{"message", "orders-db is modifying"}, {"hint", ""}};
  o = OutcomeFromDocument("scale-up", busy, 1);
  EXPECT_EQ(o.state, ActionState::kRefused);
  EXPECT_EQ(o.detail, "refused, nothing changed: orders-db is modifying");
  json failed = Envelope("scale-up", "failed", 1);
  failed["error"] = {{"message", "InvalidParameterCombination"}, {"hint", ""}};
  EXPECT_EQ(OutcomeFromDocument("scale-up", failed, 1).state, ActionState::kFailed);
}

TEST(WatchActionOutcomeTest, TuneListsTheVariablesNeverTheStatements) {
  json done = Envelope("tune", "done", 0);
  done["changes"] = {{{"variable", "thread_cache_size"},
                      {"previous", "0"},
                      {"value", "9"},
                      {"now", "9"},
                      {"sql", "SET GLOBAL thread_cache_size = 9"},
                      {"status", "verified"},
                      {"detail", "reads back 9"}}};
  auto o = OutcomeFromDocument("tune", done, 0);
  EXPECT_EQ(o.state, ActionState::kVerified);
  EXPECT_EQ(o.detail, "thread_cache_size 0 -> 9 verified");
  EXPECT_THAT(o.detail, Not(HasSubstr("SET GLOBAL")));

  json some = done;
  some["status"] = "incomplete";
  some["changes"].push_back({{"variable", "table_open_cache"},
                             {"previous", "2000"},
                             {"value", "4000"},
                             {"status", "failed"}});
  o = OutcomeFromDocument("tune", some, 1);
  EXPECT_EQ(o.state, ActionState::kApplied);  // one of two verified
  EXPECT_EQ(o.detail, "thread_cache_size 0 -> 9 verified; table_open_cache 2000 -> 4000 failed");
  json none = some;
  none["changes"].erase(0);
  EXPECT_EQ(OutcomeFromDocument("tune", none, 1).state, ActionState::kFailed);
  json nothing = Envelope("tune", "nothing_to_do", 0);
  EXPECT_EQ(OutcomeFromDocument("tune", nothing, 0).state, ActionState::kRefused);
}

TEST(WatchActionOutcomeTest, IndexNamesTheIndexAndTableNeverTheStatement) {
  json done = Envelope("index", "done", 0);
  done["statements"] = {
      {{"statement", "SELECT COUNT(*) FROM shop.orders WHERE customer = ?"},
       {"tables",
        {{{"schema", "shop"},
          {"table", "orders"},
          {"candidate", {{"name", "dbr_customer"}, {"sql", "ALTER TABLE ..."}}},
          {"outcome", {{"status", "verified"}, {"detail", "EXPLAIN uses dbr_customer"}}}},
         {{"schema", "shop"}, {"table", "customers"}, {"candidate", nullptr}}}}}};
  auto o = OutcomeFromDocument("index", done, 0);
  EXPECT_EQ(o.state, ActionState::kVerified);
  EXPECT_EQ(o.detail, "dbr_customer on shop.orders verified");
  json refused = done;
  refused["status"] = "incomplete";
  refused["statements"][0]["tables"][0]["outcome"]["status"] = "refused";
  o = OutcomeFromDocument("index", refused, 1);
  EXPECT_EQ(o.state, ActionState::kFailed);
  EXPECT_EQ(o.detail, "dbr_customer on shop.orders refused");
  EXPECT_EQ(OutcomeFromDocument("index", Envelope("index", "nothing_to_do", 0), 0).state,
            ActionState::kRefused);
}

TEST(WatchActionOutcomeTest, NoDocumentOrAnUnknownStatusIsAFailure) {
  auto o = OutcomeFromDocument("tune", json(), 2);
  EXPECT_EQ(o.state, ActionState::kFailed);
  EXPECT_THAT(o.detail, HasSubstr("exit 2"));
  o = OutcomeFromDocument("failover", Envelope("failover", "planned", 0), 0);
  EXPECT_EQ(o.state, ActionState::kFailed);
  EXPECT_THAT(o.detail, HasSubstr("unexpected status 'planned'"));
}

}  // namespace
}  // namespace dbrunbook::app
