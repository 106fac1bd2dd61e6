// The watch daemon's cloud-cadence signals end to end: a target with a `cloud:` section gets
// cpu_percent and freeable_memory_bytes from CloudWatch (moto behind the SigV4-verifying
// proxy), and the runbook's high-CPU and low-memory triggers open an incident on them. The
// values come from datapoints this test puts into moto, read back through the daemon's API.
// The server polled is the shared sandbox primary (the daemon only reads it).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <thread>

#include "cloud/http.h"
#include "support/cli_fixture.h"
#include "support/daemon_process.h"
#include "support/moto.h"
#include "support/sandbox.h"

namespace dbrunbook {
namespace {

using json = nlohmann::json;
using testing::DaemonProcess;
using ::testing::HasSubstr;

class WatchCloudTest : public testing::CliFixture {
 protected:
  WatchCloudTest() : CliFixture("watch-cloud") {}

  void SetUp() override {
    CliFixture::SetUp();
    auto moto = testing::LoadMotoFixture();
    ASSERT_TRUE(moto) << moto.error().ToString();
    moto_ = *moto;
    auto server = testing::LoadSandbox("primary");
    ASSERT_TRUE(server) << server.error().ToString();
    server_ = *server;
    auto transport = cloud::CurlTransport::Create();
    ASSERT_TRUE(transport) << transport.error().ToString();
    http_ = std::move(*transport);
  }

  json Get(int port, const std::string& path) {
    cloud::HttpRequest r;
    r.url = "http://127.0.0.1:" + std::to_string(port) + path;
    r.timeout = std::chrono::seconds(10);
    auto answer = http_->Send(r);
    if (!answer) {
      ADD_FAILURE() << answer.error().ToString();
      return json();
    }
    if (path == "/metrics") return json(answer->body);
    return json::parse(answer->body, nullptr, false);
  }

  testing::MotoFixture moto_;
  testing::SandboxServer server_;
  std::unique_ptr<cloud::CurlTransport> http_;
};

TEST_F(WatchCloudTest, CloudWatchCpuAndMemoryFireTheRunbooksTriggers) {
  // An instance of the test's own, with three minutes of 97.5 % CPU and 100 MiB free memory.
  auto seeded = testing::RunBoto3(
      moto_,
      "import datetime\n"
      "rds.create_db_instance(DBInstanceIdentifier='watch-cpu-db', DBInstanceClass='db.t3.micro',"
      " Engine='mysql', MasterUsername='admin', MasterUserPassword='not-a-secret-1',"
      " AllocatedStorage=20)\n"
      "now = datetime.datetime.now(datetime.timezone.utc)\n"
      "for m in range(1, 5):\n"
      "    ts = now - datetime.timedelta(minutes=m)\n"
      "    cloudwatch.put_metric_data(Namespace='AWS/RDS', MetricData=[\n"
      "        {'MetricName': 'CPUUtilization', 'Unit': 'Percent', 'Value': 97.5, 'Timestamp': ts,"
      "         'Dimensions': [{'Name': 'DBInstanceIdentifier', 'Value': 'watch-cpu-db'}]},\n"
      "        {'MetricName': 'FreeableMemory', 'Unit': 'Bytes', 'Value': 104857600.0,"
      "         'Timestamp': ts,"
      "         'Dimensions': [{'Name': 'DBInstanceIdentifier', 'Value': 'watch-cpu-db'}]}])\n"
      "print('ok')\n");
  ASSERT_TRUE(seeded) << seeded.error().ToString();
  const auto log_offset = testing::ProxyLogSize(moto_);

  const std::string config =
      Write("dbrunbook.yaml", "targets:\n  - name: rds-db\n    socket: " + server_.socket +
                                  "\n    user: root\n    cloud: {region: " + moto_.region +
                                  ", db_instance_identifier: watch-cpu-db, endpoint_url: \"" +
                                  moto_.endpoint_url + "\"}\n");
  const std::string runbook = Write(
      "runbook.yaml",
      "runbook: {name: cloud-test, version: 1, owner: tests}\n"
      "triggers:\n"
      "  - {name: high_cpu, signal: cpu_percent, op: \">\", threshold: 90}\n"
      "  - {name: low_memory, signal: freeable_memory_bytes, op: \"<\", threshold: 268435456}\n");
  std::filesystem::create_directories(dir_ / "home");
  DaemonProcess daemon(binary_,
                       {"--config", config, "watch", "--runbook", runbook, "--store",
                        (dir_ / "store.db").string(), "--listen", "127.0.0.1:0"},
                       (dir_ / "daemon.log").string(), (dir_ / "home").string(),
                       {{"AWS_ACCESS_KEY_ID", moto_.access_key},
                        {"AWS_SECRET_ACCESS_KEY", moto_.secret_key},
                        {"AWS_EC2_METADATA_DISABLED", "true"},
                        {"AWS_CONFIG_FILE", "/nonexistent"},
                        {"AWS_SHARED_CREDENTIALS_FILE", "/nonexistent"}});
  const int port = daemon.WaitForPort(std::chrono::seconds(20));
  ASSERT_GT(port, 0) << daemon.Log();

  json incident;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (std::chrono::steady_clock::now() < deadline) {
    json list = Get(port, "/api/v1/incidents");
    if (list.is_object() && !list["incidents"].empty()) {
      incident = list["incidents"][0];
      const std::string triggers = incident["triggers"].dump();
      if (triggers.find("high_cpu") != std::string::npos &&
          triggers.find("low_memory") != std::string::npos) {
        break;
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  ASSERT_FALSE(incident.is_null()) << daemon.Log();
  EXPECT_EQ(incident["target"], "rds-db");
  EXPECT_THAT(incident["triggers"].dump(), HasSubstr("high_cpu"));
  EXPECT_THAT(incident["triggers"].dump(), HasSubstr("low_memory"));
  EXPECT_THAT(incident["timeline"].dump(), HasSubstr("cpu_percent = 97.5 > 90"));

  const std::string metrics = Get(port, "/metrics").get<std::string>();
  EXPECT_THAT(metrics,
              HasSubstr("dbrunbook_signal{target=\"rds-db\",signal=\"cpu_percent\"} 97.5"));
  EXPECT_THAT(metrics, HasSubstr("dbrunbook_signal{target=\"rds-db\","
                                 "signal=\"freeable_memory_bytes\"} 104857600"));
  EXPECT_EQ(daemon.Signal(SIGTERM), 0) << daemon.Log();
  EXPECT_EQ(daemon.Log().find(moto_.secret_key), std::string::npos);

  // Every request the daemon sent was signed right (the proxy re-verified each).
  auto verdicts = testing::ProxyVerdicts(moto_, log_offset);
  ASSERT_TRUE(verdicts) << verdicts.error().ToString();
  EXPECT_EQ(verdicts->rejected, 0);
  EXPECT_GE(verdicts->accepted, 1);
}

}  // namespace
}  // namespace dbrunbook
