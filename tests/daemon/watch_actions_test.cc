// The watch daemon's unattended mitigations, run through the `dbrunbook mitigate` commands
// themselves (app/watch_actions.h), as a process against real servers:
//   * failover of its own replication pair (wfo_primary, wfo_replica), proposed by a trigger
//     and by target.unavailable: refused while the test holds the cluster's recovery lock (the
//     holder named), refused for a primary that is down (it cannot be fenced and the daemon
//     never passes --force; the incident escalates), then run and verified (the replica
//     promoted, the old primary read-only, audited, the recovery recorded) — proposed by two
//     targets of the cluster at once, one runs and the other is refused — and an operator's
//     approval of the next one refused by the block period;
//   * an Aurora writer that does not answer failed over by target.unavailable through the
//     cloud (FailoverDBCluster on moto: the writer switched, verified);
//   * scale-up on moto, proposed while the CloudWatch-fed high_cpu trigger fires: the
//     ModifyDBInstance call made and verified (DescribeDBInstances shows the next class),
//     audited. The server polled is the shared sandbox primary (read only);
//   * tune and index through approval on the shared primary: proposed, nothing changed until
//     approved; then thread_cache_size set and read back, and the index of a statement that
//     scans a 20000-row table (its execution taken from the statement history) added online
//     and verified (both put back by the test).
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "cloud/http.h"
#include "core/clock.h"
#include "core/duration.h"
#include "mysql/connector_session.h"
#include "store/store.h"
#include "support/audit_trail.h"
#include "support/cli_fixture.h"
#include "support/daemon_api.h"
#include "support/daemon_process.h"
#include "support/moto.h"
#include "support/sandbox.h"

namespace dbrunbook {
namespace {

using json = nlohmann::json;
using testing::DaemonProcess;
using ::testing::HasSubstr;
using ::testing::Not;
using Clock = std::chrono::steady_clock;

std::string Sql(const std::string& server, const std::string& sql) {
  const bool vertical = sql.ends_with("\\G");
  auto out = testing::SandboxSql(
      server, sql,
      vertical ? std::vector<std::string>{} : std::vector<std::string>{"--skip-column-names"});
  EXPECT_TRUE(out) << out.error().ToString();
  return out.value_or("");
}

class WatchActionsTest : public testing::CliFixture {
 protected:
  WatchActionsTest() : CliFixture("watch-actions") {}

  void SetUp() override {
    CliFixture::SetUp();
    std::filesystem::create_directories(dir_ / "home");
    store_ = (dir_ / "store.db").string();
    auto transport = cloud::CurlTransport::Create();
    ASSERT_TRUE(transport) << transport.error().ToString();
    http_ = std::move(*transport);
  }

  void StartDaemon(const std::string& config, const std::string& runbook,
                   const std::vector<std::pair<std::string, std::string>>& env = {}) {
    daemon_ = std::make_unique<DaemonProcess>(
        binary_,
        std::vector<std::string>{"--config", config, "watch", "--runbook", runbook, "--store",
                                 store_, "--listen", "127.0.0.1:0"},
        (dir_ / "daemon.log").string(), (dir_ / "home").string(), env);
    port_ = daemon_->WaitForPort(std::chrono::seconds(20));
    ASSERT_GT(port_, 0) << daemon_->Log();
  }

  cloud::HttpResponse Http(const std::string& method, const std::string& path,
                           const std::string& body = "") {
    return testing::DaemonHttp(*http_, port_, method, path, body);
  }

  // The first incident on `target` satisfying `pred`, polled for up to `timeout`.
  json WaitIncident(const std::string& target, const std::function<bool(const json&)>& pred,
                    std::chrono::seconds timeout) {
    const auto deadline = Clock::now() + timeout;
    json last;
    while (Clock::now() < deadline) {
      auto r = Http("GET", "/api/v1/incidents");
      last = json::parse(r.body, nullptr, false);
      if (last.is_object()) {
        for (const auto& i : last["incidents"]) {
          if (i["target"] == target && pred(i)) return i;
        }
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    ADD_FAILURE() << "no matching incident on " << target << " within " << timeout.count()
                  << "s; last: " << last.dump(2).substr(0, 8000) << "\ndaemon log:\n"
                  << (daemon_ ? daemon_->Log() : "");
    return json();
  }

  static json Action(const json& incident, const std::string& action) {
    if (incident.is_object()) {
      for (const auto& a : incident["actions"]) {
        if (a.value("action", "") == action) return a;
      }
    }
    return json::object();
  }
  static std::string StateOf(const json& incident, const std::string& action) {
    return Action(incident, action).value("state", "");
  }
  static bool HasEvent(const json& incident, const std::string& kind) {
    for (const auto& e : incident["timeline"]) {
      if (e["kind"] == kind) return true;
    }
    return false;
  }
  // An outcome: neither waiting, running nor absent.
  static bool Settled(const json& incident, const std::string& action) {
    const std::string s = StateOf(incident, action);
    return !s.empty() && s != "running" && s != "proposed";
  }

  void PushAppErrors(const std::string& target, int per_min) {
    auto r = Http("POST", "/api/v1/signals",
                  json{{"target", target}, {"signals", {{"app_errors_per_min", per_min}}}}.dump());
    EXPECT_EQ(r.status, 200) << r.body;
  }

  // The audit entries of one run, oldest first, as "phase:subject".
  std::vector<store::AuditRecord> RunAudit(const std::string& run_id) {
    std::vector<store::AuditRecord> out;
    for (auto& r : testing::ReadAuditTrail(store_, 500)) {
      if (r.entry.run_id == run_id) out.push_back(std::move(r));
    }
    return out;
  }

  static std::string SandboxScript() {
    const char* dir = std::getenv("DBRUNBOOK_SOURCE_DIR");  // NOLINT(concurrency-mt-unsafe)
    return std::string(dir == nullptr ? "." : dir) + "/scripts/sandbox";
  }

  std::string store_;
  int port_ = 0;
  std::unique_ptr<DaemonProcess> daemon_;
  std::unique_ptr<cloud::CurlTransport> http_;
};

TEST_F(WatchActionsTest, FailoverGoesThroughTheCommandsLockPreChecksAndBlockPeriod) {
  auto primary = testing::LoadSandbox("wfo_primary");
  ASSERT_TRUE(primary) << primary.error().ToString();
  auto replica = testing::LoadSandbox("wfo_replica");
  ASSERT_TRUE(replica) << replica.error().ToString();
  const std::string config =
      Write("dbrunbook.yaml", "targets:\n  - name: wfo-a\n    socket: " + primary->socket +
                                  "\n    user: root\n    replicas: [wfo-b]\n"
                                  // The same primary under a second name, with the same
                                  // replica: one cluster, two targets whose effects may run
                                  // at once.
                                  "  - name: wfo-a2\n    socket: " +
                                  primary->socket +
                                  "\n    user: root\n    replicas: [wfo-b]\n"
                                  "  - name: wfo-b\n    socket: " +
                                  replica->socket +
                                  "\n    user: root\n    replica_of: wfo-a\n"
                                  "investigate:\n  digest_interval: 0s\n");
  // The runbook: failover auto, proposed by pushed application errors (a live primary) or by
  // the primary unreachable for 1 s; the verify period short so that incidents end quickly.
  const std::string runbook =
      Write("runbook.yaml",
            "runbook: {name: watch-actions, version: 1, owner: tests}\n"
            "triggers:\n"
            "  - {name: app_errors, signal: app_errors_per_min, op: \">=\", threshold: 5,"
            " targets: [wfo-a, wfo-a2]}\n"
            "  - {name: down, signal: target_unreachable, op: \">=\", threshold: 1, for: 1s,"
            " severity: critical, targets: [wfo-a]}\n"
            "phases: {verify: {period: 1s}}\n"
            "mitigations:\n"
            "  failover: {policy: auto, on: [trigger.app_errors, target.unavailable], after: 1s,"
            " max_lag: 10s, block: 1h}\n"
            "escalation:\n"
            "  - {name: database-unavailable, when: unavailable, after: 2s, level: 1}\n"
            "contacts:\n"
            "  - {name: dba, role: DBA on call, level: 1, channels: []}\n");
  StartDaemon(config, runbook);
  const auto started = Clock::now();

  auto expect_pair_untouched = [&] {
    EXPECT_EQ(Sql("wfo_replica", "SELECT @@read_only"), "1\n");
    EXPECT_THAT(Sql("wfo_replica", "SHOW SLAVE STATUS\\G"), HasSubstr("Master_Port"));
  };

  // 1. Another recovery of the cluster holds the store's lock (this process, alive): the
  //    daemon's failover is refused, the holder named, and nothing changes.
  auto store = store::Store::Open(store_);
  ASSERT_TRUE(store) << store.error().ToString();
  store::Recovery held;
  held.cluster = "wfo-a";  // ClusterName: no cluster tag, the smallest name of the pair
  held.action = "failover";
  held.run_id = "test-holder-run";
  held.os_user = "watch-actions-test";
  held.pid = getpid();
  held.started_at = core::FormatRfc3339(std::chrono::system_clock::now());
  held.started_epoch = std::chrono::duration_cast<std::chrono::seconds>(
                           std::chrono::system_clock::now().time_since_epoch())
                           .count();
  held.old_primary = "wfo-a";
  held.new_primary = "wfo-b";
  auto lock = (*store)->BeginRecovery(held);
  ASSERT_TRUE(lock && lock->id) << (lock ? "lock held elsewhere" : lock.error().ToString());
  PushAppErrors("wfo-a", 10);
  json first = WaitIncident(
      "wfo-a", [](const json& i) { return Settled(i, "failover"); }, std::chrono::seconds(30));
  ASSERT_FALSE(first.is_null());
  const json refused_by_lock = Action(first, "failover");
  EXPECT_EQ(refused_by_lock["state"], "refused") << refused_by_lock.dump();
  EXPECT_EQ(refused_by_lock["reason"], "trigger.app_errors");
  EXPECT_THAT(refused_by_lock["detail"].get<std::string>(),
              HasSubstr("another recovery of cluster 'wfo-a' is running (run test-holder-run, "
                        "pid " +
                        std::to_string(getpid())));
  EXPECT_TRUE(HasEvent(first, "action.refused"));
  expect_pair_untouched();
  ASSERT_TRUE((*store)->EndRecovery(*lock->id, "abandoned", "released by the test"));
  PushAppErrors("wfo-a", 0);
  const int first_id = first["id"];
  ASSERT_FALSE(WaitIncident(
                   "wfo-a",
                   [&](const json& i) { return i["id"] == first_id && i["phase"] == "resolved"; },
                   std::chrono::seconds(20))
                   .is_null());

  // 2. The primary goes down: the incident opens on `down`, the diagnosis cannot connect,
  //    target.unavailable proposes the failover after 1 s, and the command refuses: an old
  //    primary that cannot be reached cannot be fenced, and the daemon never passes --force.
  //    The incident escalates as before; the replica is not promoted.
  ASSERT_EQ(Shell("'" + SandboxScript() + "' stop wfo_primary").status, 0);
  json down = WaitIncident(
      "wfo-a",
      [&](const json& i) {
        return i["id"] > first_id && Settled(i, "failover") && HasEvent(i, "escalated");
      },
      std::chrono::seconds(40));
  ASSERT_FALSE(down.is_null());
  const json refused_down = Action(down, "failover");
  EXPECT_EQ(refused_down["state"], "refused") << refused_down.dump();
  EXPECT_EQ(refused_down["reason"], "target.unavailable");
  EXPECT_THAT(refused_down["detail"].get<std::string>(), HasSubstr("primary_reachable"));
  EXPECT_THAT(refused_down["detail"].get<std::string>(), HasSubstr("cannot be fenced"));
  EXPECT_THAT(down["triggers"].dump(), HasSubstr("down"));
  expect_pair_untouched();

  // The primary comes back (from its data, writable again: exactly why an unfenced failover
  // is refused) and the replica reconnects; the incident resolves.
  ASSERT_EQ(Shell("'" + SandboxScript() + "' start wfo_primary").status, 0);
  const int down_id = down["id"];
  ASSERT_FALSE(WaitIncident(
                   "wfo-a",
                   [&](const json& i) { return i["id"] == down_id && i["phase"] == "resolved"; },
                   std::chrono::seconds(30))
                   .is_null());
  for (int i = 0; i < 100; ++i) {
    if (Sql("wfo_replica", "SHOW SLAVE STATUS\\G").find("Slave_IO_Running: Yes") !=
        std::string::npos) {
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_THAT(Sql("wfo_replica", "SHOW SLAVE STATUS\\G"), HasSubstr("Slave_IO_Running: Yes"));

  // 3. A live primary, the lock free, and both targets of the cluster propose a failover at
  //    the same moment (two effect workers): exactly one runs and is verified; the other is
  //    refused by the cluster's lock (the holder named) or, if it came second, its block period.
  PushAppErrors("wfo-a", 10);
  PushAppErrors("wfo-a2", 10);
  auto settled_after = [](int after) {
    return [after](const json& i) { return i["id"] > after && Settled(i, "failover"); };
  };
  json on_a = WaitIncident("wfo-a", settled_after(down_id), std::chrono::seconds(40));
  json on_a2 = WaitIncident("wfo-a2", settled_after(down_id), std::chrono::seconds(40));
  ASSERT_FALSE(on_a.is_null());
  ASSERT_FALSE(on_a2.is_null());
  const bool a_won = StateOf(on_a, "failover") == "verified";
  const std::string winner = a_won ? "wfo-a" : "wfo-a2";
  json failed_over = a_won ? on_a : on_a2;
  const json loser = Action(a_won ? on_a2 : on_a, "failover");
  const json done = Action(failed_over, "failover");
  ASSERT_EQ(done["state"], "verified") << done.dump() << loser.dump() << daemon_->Log();
  EXPECT_EQ(loser["state"], "refused") << loser.dump();
  EXPECT_THAT(loser["detail"].get<std::string>(),
              ::testing::ContainsRegex("another recovery of cluster 'wfo-a' is running \\(run "
                                       "[^,]+, pid [0-9]+|within the block period"));
  std::cout << "[ measured ] the concurrent failover of the cluster's other target: "
            << loser["detail"].get<std::string>().substr(0, 200) << "\n";
  EXPECT_THAT(done["detail"].get<std::string>(), HasSubstr("failed over to wfo-b"));
  EXPECT_TRUE(HasEvent(failed_over, "action.verified"));
  // The new primary writable without replication, the old one read-only.
  EXPECT_EQ(Sql("wfo_replica", "SELECT @@read_only"), "0\n");
  EXPECT_EQ(Sql("wfo_replica", "SHOW SLAVE STATUS"), "");
  EXPECT_EQ(Sql("wfo_primary", "SELECT @@read_only"), "1\n");
  // Audited under the action's run id by the command itself; the recovery is recorded, once.
  const std::string run_id = done["run_id"];
  ASSERT_FALSE(run_id.empty());
  const auto trail = RunAudit(run_id);
  ASSERT_FALSE(trail.empty());
  EXPECT_EQ(trail.front().entry.phase, store::Phase::kPlanned);
  EXPECT_EQ(trail.back().entry.phase, store::Phase::kVerified);
  for (const auto& r : trail) {
    EXPECT_EQ(r.entry.action, "failover");
    EXPECT_EQ(r.entry.target, winner);
  }
  auto recovery = (*store)->LastRecovery("wfo-a");
  ASSERT_TRUE(recovery && *recovery);
  EXPECT_EQ((*recovery)->outcome, "done");
  EXPECT_EQ((*recovery)->run_id, run_id);
  EXPECT_EQ((*recovery)->new_primary, "wfo-b");
  PushAppErrors(a_won ? "wfo-a2" : "wfo-a", 0);

  // 4. The next incident: the engine blocks the failover (anti-flapping); an operator's
  //    approval overrides that, and the command refuses within the cluster's block period.
  PushAppErrors(winner, 0);
  const int failed_over_id = failed_over["id"];
  ASSERT_FALSE(
      WaitIncident(
          winner,
          [&](const json& i) { return i["id"] == failed_over_id && i["phase"] == "resolved"; },
          std::chrono::seconds(20))
          .is_null());
  PushAppErrors(winner, 10);
  json blocked = WaitIncident(
      winner,
      [&](const json& i) {
        return i["id"] > failed_over_id && StateOf(i, "failover") == "blocked";
      },
      std::chrono::seconds(30));
  ASSERT_FALSE(blocked.is_null());
  const int blocked_id = blocked["id"];
  auto approved = Shell("HOME='" + (dir_ / "home").string() + "' \"$B\" incident approve " +
                        std::to_string(blocked_id) + " failover --store '" + store_ + "'");
  ASSERT_EQ(approved.status, 0) << approved.Describe();
  json again = WaitIncident(
      winner,
      [&](const json& i) {
        return i["id"] == blocked_id && Settled(i, "failover") &&
               StateOf(i, "failover") != "blocked";
      },
      std::chrono::seconds(30));
  ASSERT_FALSE(again.is_null());
  const json refused_block = Action(again, "failover");
  EXPECT_EQ(refused_block["state"], "refused") << refused_block.dump();
  EXPECT_THAT(refused_block["detail"].get<std::string>(), HasSubstr("within the block period"));
  EXPECT_EQ(Sql("wfo_replica", "SELECT @@read_only"), "0\n");  // nothing changed since
  EXPECT_EQ(Sql("wfo_primary", "SELECT @@read_only"), "1\n");

  EXPECT_EQ(daemon_->Signal(SIGTERM), 0) << daemon_->Log();
  std::cout << "[ measured ] failover scenario (4 incidents, a primary stop and restart): "
            << std::chrono::duration<double>(Clock::now() - started).count() << " s\n";
}

TEST_F(WatchActionsTest, ScaleUpOnTheCpuTriggerIsMadeAndVerifiedOnMoto) {
  auto moto = testing::LoadMotoFixture();
  ASSERT_TRUE(moto) << moto.error().ToString();
  auto server = testing::LoadSandbox("primary");
  ASSERT_TRUE(server) << server.error().ToString();
  auto seeded = testing::RunBoto3(
      *moto,
      "import datetime\n"
      "rds.create_db_instance(DBInstanceIdentifier='watch-scale-db', DBInstanceClass="
      "'db.t3.micro', Engine='mysql', MasterUsername='admin', MasterUserPassword="
      "'not-a-secret-1', AllocatedStorage=20)\n"
      "now = datetime.datetime.now(datetime.timezone.utc)\n"
      "for m in range(1, 5):\n"
      "    cloudwatch.put_metric_data(Namespace='AWS/RDS', MetricData=[\n"
      "        {'MetricName': 'CPUUtilization', 'Unit': 'Percent', 'Value': 98.0,"
      "         'Timestamp': now - datetime.timedelta(minutes=m),"
      "         'Dimensions': [{'Name': 'DBInstanceIdentifier', 'Value': 'watch-scale-db'}]}])\n"
      "print('ok')\n");
  ASSERT_TRUE(seeded) << seeded.error().ToString();
  const auto log_offset = testing::ProxyLogSize(*moto);

  const std::string config = Write(
      "dbrunbook.yaml", "targets:\n  - name: rds-db\n    socket: " + server->socket +
                            "\n    user: root\n    cloud: {region: " + moto->region +
                            ", db_instance_identifier: watch-scale-db, endpoint_url: \"" +
                            moto->endpoint_url + "\"}\ninvestigate:\n  digest_interval: 0s\n");
  const std::string runbook = Write(
      "runbook.yaml",
      "runbook: {name: watch-scale, version: 1, owner: tests}\n"
      "triggers:\n"
      "  - {name: high_cpu, signal: cpu_percent, op: \">\", threshold: 90}\n"
      "mitigations:\n"
      "  scale-up: {policy: auto, on: [trigger.high_cpu], wait: 30s, poll_interval: 200ms}\n");
  const auto started = Clock::now();
  StartDaemon(config, runbook,
              {{"AWS_ACCESS_KEY_ID", moto->access_key},
               {"AWS_SECRET_ACCESS_KEY", moto->secret_key},
               {"AWS_EC2_METADATA_DISABLED", "true"},
               {"AWS_CONFIG_FILE", "/nonexistent"},
               {"AWS_SHARED_CREDENTIALS_FILE", "/nonexistent"}});

  json incident = WaitIncident(
      "rds-db", [](const json& i) { return Settled(i, "scale-up"); }, std::chrono::seconds(40));
  ASSERT_FALSE(incident.is_null());
  const json action = Action(incident, "scale-up");
  EXPECT_EQ(action["state"], "verified") << action.dump() << daemon_->Log();
  EXPECT_EQ(action["reason"], "trigger.high_cpu");
  EXPECT_THAT(action["detail"].get<std::string>(),
              HasSubstr("watch-scale-db db.t3.micro -> db.t3.small: done"));
  const std::chrono::seconds took =
      std::chrono::duration_cast<std::chrono::seconds>(Clock::now() - started);

  // RDS (moto) shows the new class.
  auto described =
      testing::RunBoto3(*moto,
                        "print(rds.describe_db_instances(DBInstanceIdentifier='watch-scale-db')"
                        "['DBInstances'][0]['DBInstanceClass'])\n");
  ASSERT_TRUE(described) << described.error().ToString();
  EXPECT_THAT(*described, HasSubstr("db.t3.small"));

  // Audited by the command under the action's run id: planned, applied, verified.
  const auto trail = RunAudit(action["run_id"]);
  EXPECT_EQ(testing::AuditPhases(trail),
            (std::vector<std::string>{"planned", "applied", "verified"}));
  for (const auto& r : trail) EXPECT_EQ(r.entry.action, "scale-up");

  EXPECT_EQ(daemon_->Signal(SIGTERM), 0) << daemon_->Log();
  EXPECT_EQ(daemon_->Log().find(moto->secret_key), std::string::npos);
  auto verdicts = testing::ProxyVerdicts(*moto, log_offset);
  ASSERT_TRUE(verdicts) << verdicts.error().ToString();
  EXPECT_EQ(verdicts->rejected, 0);
  EXPECT_GE(verdicts->accepted, 3);  // metrics, status, modify, status
  std::cout << "[ measured ] scale-up from daemon start to verified: " << took.count() << " s\n";
}

TEST_F(WatchActionsTest, AnAuroraWriterThatDoesNotAnswerIsFailedOverThroughTheCloud) {
  // Unlike a self-managed primary, an Aurora cluster's failover does not need the old writer:
  // FailoverDBCluster fences it. A writer endpoint that refuses connections (a closed port)
  // opens the incident, target.unavailable proposes the failover after 2 s, and it is made
  // and verified on moto (Aurora's writer switches at once there).
  auto moto = testing::LoadMotoFixture();
  ASSERT_TRUE(moto) << moto.error().ToString();
  auto seeded = testing::RunBoto3(
      *moto,
      "import datetime\n"
      "rds.create_db_cluster(DBClusterIdentifier='wa-cluster', Engine='aurora-mysql', "
      "MasterUsername='admin', MasterUserPassword='not-a-real-password')\n"
      "for n in ('wa-aurora-1', 'wa-aurora-2'):\n"
      "    rds.create_db_instance(DBInstanceIdentifier=n, DBInstanceClass='db.r6g.large', "
      "Engine='aurora-mysql', DBClusterIdentifier='wa-cluster')\n"
      "now = datetime.datetime.now(datetime.timezone.utc)\n"
      "cloudwatch.put_metric_data(Namespace='AWS/RDS', MetricData=[{'MetricName': "
      "'AuroraReplicaLag', 'Unit': 'Milliseconds', 'Value': 20.0, 'Timestamp': now - "
      "datetime.timedelta(seconds=m * 60 + 30), 'Dimensions': [{'Name': 'DBInstanceIdentifier', "
      "'Value': 'wa-aurora-2'}]} for m in range(3)])\n"
      "print('ok')\n");
  ASSERT_TRUE(seeded) << seeded.error().ToString();
  const std::string config =
      Write("dbrunbook.yaml", "targets:\n  - name: wa-aurora\n    host: 127.0.0.1\n    port: " +
                                  std::to_string(testing::ClosedLoopbackPort()) +
                                  "\n    user: admin\n    cloud: {region: " + moto->region +
                                  ", db_cluster_identifier: wa-cluster, endpoint_url: \"" +
                                  moto->endpoint_url + "\"}\n");
  const std::string runbook =
      Write("runbook.yaml",
            "runbook: {name: watch-aurora, version: 1, owner: tests}\n"
            "triggers:\n"
            "  - {name: down, signal: target_unreachable, op: \">=\", threshold: 1, for: 1s,"
            " severity: critical}\n"
            "mitigations:\n"
            "  failover: {policy: auto, on: [target.unavailable], after: 2s, to: wa-aurora-2,"
            " verify_timeout: 30s}\n");
  const auto started = Clock::now();
  StartDaemon(config, runbook,
              {{"AWS_ACCESS_KEY_ID", moto->access_key},
               {"AWS_SECRET_ACCESS_KEY", moto->secret_key},
               {"AWS_EC2_METADATA_DISABLED", "true"},
               {"AWS_CONFIG_FILE", "/nonexistent"},
               {"AWS_SHARED_CREDENTIALS_FILE", "/nonexistent"}});
  json incident = WaitIncident(
      "wa-aurora", [](const json& i) { return Settled(i, "failover"); }, std::chrono::seconds(60));
  ASSERT_FALSE(incident.is_null());
  const json action = Action(incident, "failover");
  EXPECT_EQ(action["state"], "verified") << action.dump() << daemon_->Log();
  EXPECT_EQ(action["reason"], "target.unavailable");
  EXPECT_THAT(action["detail"].get<std::string>(), HasSubstr("failed over to wa-aurora-2"));
  EXPECT_THAT(incident["triggers"].dump(), HasSubstr("down"));
  EXPECT_TRUE(HasEvent(incident, "diagnose.failed"));
  auto writer = testing::RunBoto3(
      *moto,
      "c = rds.describe_db_clusters(DBClusterIdentifier='wa-cluster')['DBClusters'][0]\n"
      "print([m['DBInstanceIdentifier'] for m in c['DBClusterMembers'] if "
      "m['IsClusterWriter']])\n");
  ASSERT_TRUE(writer) << writer.error().ToString();
  EXPECT_THAT(*writer, HasSubstr("wa-aurora-2"));
  const auto trail = RunAudit(action["run_id"]);
  ASSERT_FALSE(trail.empty());
  EXPECT_EQ(trail.back().entry.phase, store::Phase::kVerified);
  EXPECT_EQ(daemon_->Signal(SIGTERM), 0) << daemon_->Log();
  std::cout << "[ measured ] Aurora writer unreachable to failover verified: "
            << std::chrono::duration<double>(Clock::now() - started).count() << " s\n";
}

TEST_F(WatchActionsTest, TuneAndIndexWaitForApprovalThenChangeOnlyWhatTheyPlanned) {
  auto server = testing::LoadSandbox("primary");
  ASSERT_TRUE(server) << server.error().ToString();
  // thread_cache_size 0 makes every connection create a thread: the tune advice raises it.
  const std::string original = Sql("primary", "SELECT @@GLOBAL.thread_cache_size");
  ASSERT_FALSE(original.empty());
  const std::string max_connections = Sql("primary", "SELECT @@GLOBAL.max_connections");
  // A table of 20000 rows and a statement that scans it, run in a loop on one connection while
  // the test runs (its executions stay in performance_schema's statement history).
  ASSERT_TRUE(testing::SandboxSql(
      "primary",
      "SET GLOBAL thread_cache_size = 0; DROP DATABASE IF EXISTS watchidx; "
      "CREATE DATABASE watchidx; CREATE TABLE watchidx.t (id INT PRIMARY KEY AUTO_INCREMENT, "
      "c INT NOT NULL, pad VARCHAR(20)) ENGINE=InnoDB; USE watchidx; INSERT INTO watchidx.t "
      "(c, pad) SELECT seq % 500, 'x' FROM seq_1_to_20000; ANALYZE TABLE watchidx.t;"));
  struct Restore {
    std::string value;
    ~Restore() {
      (void)testing::SandboxSql("primary", "SET GLOBAL thread_cache_size = " + value +
                                               "; DROP DATABASE IF EXISTS watchidx");
    }
  } restore{original.substr(0, original.find('\n'))};
  core::RealClock clock;
  mysql::ConnectorSessionFactory factory(clock);
  mysql::ConnectOptions options;
  options.socket = server->socket;
  options.user = "root";
  options.target_name = "workload";
  auto workload_session = factory.Connect(options);
  ASSERT_TRUE(workload_session) << workload_session.error().ToString();
  std::atomic<bool> stop{false};
  std::thread workload([&] {
    while (!stop) {
      (void)(*workload_session)->Query("SELECT COUNT(*) FROM watchidx.t WHERE c = 7");
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  });
  struct Join {
    std::atomic<bool>& stop;
    std::thread& thread;
    ~Join() {
      stop = true;
      thread.join();
    }
  } join{stop, workload};

  const std::string config =
      Write("dbrunbook.yaml", "targets:\n  - name: tunedb\n    socket: " + server->socket +
                                  "\n    user: root\ninvestigate:\n  digest_interval: 2s\n");
  const std::string runbook =
      Write("runbook.yaml",
            "runbook: {name: watch-tune, version: 1, owner: tests}\n"
            "triggers:\n"
            "  - {name: app_errors, signal: app_errors_per_min, op: \">=\", threshold: 5}\n"
            "mitigations:\n"
            "  tune: {policy: approve, on: [trigger.app_errors], only: thread_cache_size,"
            " interval: 1s}\n"
            "  index: {policy: approve, on: [digest.full_scan], min_rows: 1000}\n");
  StartDaemon(config, runbook);
  PushAppErrors("tunedb", 10);
  json proposed = WaitIncident(
      "tunedb",
      [](const json& i) {
        return StateOf(i, "tune") == "proposed" && StateOf(i, "index") == "proposed";
      },
      std::chrono::seconds(30));
  ASSERT_FALSE(proposed.is_null());
  EXPECT_EQ(Action(proposed, "tune")["reason"], "trigger.app_errors");
  EXPECT_EQ(Action(proposed, "index")["reason"], "digest.full_scan");
  EXPECT_EQ(Sql("primary", "SELECT @@GLOBAL.thread_cache_size"), "0\n") << "approve: not yet";
  EXPECT_EQ(Sql("primary",
                "SELECT COUNT(*) FROM information_schema.STATISTICS WHERE "
                "TABLE_SCHEMA = 'watchidx' AND INDEX_NAME <> 'PRIMARY'"),
            "0\n");

  const std::string path = "/api/v1/incidents/" + std::to_string(proposed["id"].get<int>());
  auto approved = Http("POST", path + "/approve", R"({"action":"tune","who":"test"})");
  ASSERT_EQ(approved.status, 200) << approved.body;
  json tuned = WaitIncident(
      "tunedb", [](const json& i) { return Settled(i, "tune"); }, std::chrono::seconds(30));
  ASSERT_FALSE(tuned.is_null());
  const json action = Action(tuned, "tune");
  EXPECT_EQ(action["state"], "verified") << action.dump() << daemon_->Log();
  // The server's own default: 8 + max_connections / 100.
  const int expected = 8 + std::stoi(max_connections) / 100;
  EXPECT_EQ(Sql("primary", "SELECT @@GLOBAL.thread_cache_size"), std::to_string(expected) + "\n");
  EXPECT_THAT(action["detail"].get<std::string>(),
              HasSubstr("thread_cache_size 0 -> " + std::to_string(expected) + " verified"));
  const auto trail = RunAudit(action["run_id"]);
  ASSERT_FALSE(trail.empty());
  EXPECT_EQ(trail.front().entry.phase, store::Phase::kPlanned);
  EXPECT_EQ(trail.back().entry.phase, store::Phase::kVerified);
  EXPECT_EQ(trail.back().entry.subject, "thread_cache_size");

  // index: the full-scanning statement's execution from the statement history, EXPLAINed, the
  // index added online and verified; the incident names the index, never the statement.
  auto index = Http("POST", path + "/approve", R"({"action":"index","who":"test"})");
  ASSERT_EQ(index.status, 200) << index.body;
  json indexed = WaitIncident(
      "tunedb", [](const json& i) { return Settled(i, "index"); }, std::chrono::seconds(30));
  ASSERT_FALSE(indexed.is_null());
  const json added = Action(indexed, "index");
  EXPECT_EQ(added["state"], "verified") << added.dump() << daemon_->Log();
  EXPECT_THAT(added["detail"].get<std::string>(), HasSubstr("on watchidx.t verified"));
  EXPECT_THAT(indexed.dump(), Not(HasSubstr("c = 7")));
  EXPECT_EQ(Sql("primary",
                "SELECT GROUP_CONCAT(COLUMN_NAME) FROM information_schema.STATISTICS "
                "WHERE TABLE_SCHEMA = 'watchidx' AND INDEX_NAME <> 'PRIMARY'"),
            "c\n");
  const auto index_trail = RunAudit(added["run_id"]);
  EXPECT_THAT(testing::AuditPhases(index_trail),
              ::testing::ElementsAre("planned", "applied", "verified"));
  EXPECT_EQ(daemon_->Signal(SIGTERM), 0) << daemon_->Log();
}

}  // namespace
}  // namespace dbrunbook
