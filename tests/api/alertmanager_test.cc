#include "api/alertmanager.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "api/json_input.h"
#include "core/duration.h"

namespace dbrunbook::api {
namespace {

using ::testing::HasSubstr;

std::string SamplePayload() {
  // A version 4 payload in the shape of the Alertmanager documentation's example, also the
  // fuzzer's seed.
  std::ifstream in(std::string(DBRUNBOOK_SOURCE_DIR) + "/fuzz/corpus/alertmanager/v4-firing");
  std::stringstream out;
  out << in.rdbuf();
  return out.str();
}

AlertTargetRules Rules() {
  AlertTargetRules rules;
  rules.targets = {"orders-primary", "orders-replica", "billing"};
  rules.addresses = {{"orders-primary", "db1.example.com:3306"},
                     {"orders-replica", "db2.example.com:3306"},
                     {"billing", "10.0.0.7:3307"}};
  return rules;
}

TEST(Alertmanager, ParsesTheV4PayloadAndMapsAlertsToTargets) {
  const std::string body = SamplePayload();
  ASSERT_FALSE(body.empty());
  auto payload = ParseAlertmanagerWebhook(body, Rules());
  ASSERT_TRUE(payload) << payload.error().ToString();
  EXPECT_EQ(payload->version, "4");
  EXPECT_EQ(payload->status, "firing");
  EXPECT_EQ(payload->receiver, "dbrunbook");
  EXPECT_EQ(payload->group_key, "{}:{job=\"mysqld\"}");
  EXPECT_EQ(payload->external_url, "http://alertmanager.example.com:9093");
  EXPECT_EQ(payload->group_labels.at("job"), "mysqld");
  ASSERT_EQ(payload->alerts.size(), 3u);
  EXPECT_EQ(payload->matched(), 2u);

  const auto& first = payload->alerts[0];
  // The exporter's instance (host:9104) matches the target on the same host.
  EXPECT_EQ(first.target, "orders-primary");
  EXPECT_EQ(first.matched_by, "instance (host)");
  EXPECT_EQ(first.alertname, "MySQLTooManyConnections");
  EXPECT_TRUE(first.firing);
  EXPECT_EQ(first.severity, "critical");
  EXPECT_EQ(first.summary, "MySQL connections near the limit");
  EXPECT_EQ(core::FormatRfc3339(first.starts_at), "2018-08-03T07:52:26.739Z");
  EXPECT_FALSE(first.ends_at.has_value());
  EXPECT_EQ(first.fingerprint, "1a30ba71cca2921f");
  // Firing, endsAt the zero time: no end for the engine; received when the webhook came.
  const core::WallTime arrival = first.starts_at + std::chrono::minutes(3);
  const auto firing = first.ToExternalAlert(arrival);
  EXPECT_TRUE(firing.firing);
  EXPECT_EQ(firing.at, first.starts_at);
  EXPECT_FALSE(firing.ends_at.has_value());
  EXPECT_EQ(firing.received, arrival);
  // A firing alert with an endsAt (a sender other than Alertmanager's webhook) keeps it.
  AlertmanagerAlert with_end = first;
  with_end.ends_at = first.starts_at + std::chrono::minutes(4);
  EXPECT_EQ(with_end.ToExternalAlert(arrival).ends_at, with_end.ends_at);

  const auto& second = payload->alerts[1];
  EXPECT_EQ(second.target, "orders-replica");
  EXPECT_EQ(second.matched_by, "dbrunbook_target");
  EXPECT_FALSE(second.firing);
  EXPECT_EQ(second.severity, "warning");
  EXPECT_EQ(second.summary, "Replication lag above 60 s");  // description when no summary
  ASSERT_TRUE(second.ends_at.has_value());
  EXPECT_EQ(core::FormatRfc3339(*second.ends_at), "2018-08-03T09:51:00.500Z");
  const auto external = second.ToExternalAlert(core::WallTime{});
  EXPECT_EQ(external.target, "orders-replica");
  EXPECT_EQ(external.name, "MySQLReplicationLag");
  EXPECT_FALSE(external.firing);
  EXPECT_EQ(external.at, *second.ends_at);

  const auto& third = payload->alerts[2];
  EXPECT_TRUE(third.target.empty());
  EXPECT_EQ(third.unmatched_reason,
            "no known target in instance=\"web7.example.com:9100\", job=\"node\"");

  const auto summary = AlertmanagerSummaryJson(*payload);
  EXPECT_EQ(summary["received"], 3);
  EXPECT_EQ(summary["matched"], 2);
  EXPECT_EQ(summary["alerts"][0]["target"], "orders-primary");
  EXPECT_EQ(summary["alerts"][1]["status"], "resolved");
  EXPECT_TRUE(summary["alerts"][2]["target"].is_null());
  EXPECT_EQ(summary["alerts"][2]["unmatched"], third.unmatched_reason);
}

TEST(Alertmanager, TargetMatchingRules) {
  const auto rules = Rules();
  std::string by;
  auto exact = MatchAlertTarget(
      {{"instance", "db2.example.com:9104"}, {"dbrunbook_target", "billing"}}, rules, &by);
  ASSERT_TRUE(exact);
  EXPECT_EQ(*exact, "billing");  // dbrunbook_target comes first
  auto host_port = MatchAlertTarget({{"instance", "10.0.0.7:3307"}}, rules, &by);
  ASSERT_TRUE(host_port);
  EXPECT_EQ(*host_port, "billing");
  EXPECT_EQ(by, "instance (host:port)");
  auto url = MatchAlertTarget({{"instance", "https://DB1.example.com:443/probe"}}, rules, &by);
  ASSERT_TRUE(url);
  EXPECT_EQ(*url, "orders-primary");
  auto job = MatchAlertTarget({{"job", "orders-replica"}}, rules, &by);
  ASSERT_TRUE(job);
  EXPECT_EQ(by, "job");

  AlertTargetRules shared = rules;
  shared.addresses["billing"] = "db1.example.com:3307";
  auto ambiguous = MatchAlertTarget({{"instance", "db1.example.com:9104"}}, shared, &by);
  ASSERT_FALSE(ambiguous);
  EXPECT_THAT(ambiguous.error().message,
              HasSubstr("matches several targets (billing, orders-primary)"));
  // ... unless the port says which.
  auto exact_port = MatchAlertTarget({{"instance", "db1.example.com:3307"}}, shared, &by);
  ASSERT_TRUE(exact_port);
  EXPECT_EQ(*exact_port, "billing");

  auto none = MatchAlertTarget({{"alertname", "X"}}, rules, &by);
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().message,
            "the alert has none of the labels dbrunbook_target, instance, job");
  EXPECT_THAT(none.error().hint, HasSubstr("dbrunbook_target"));

  AlertTargetRules custom = rules;
  custom.labels = {"cluster"};
  auto cluster =
      MatchAlertTarget({{"cluster", "billing"}, {"instance", "db1.example.com:1"}}, custom, &by);
  ASSERT_TRUE(cluster);
  EXPECT_EQ(*cluster, "billing");
}

struct BadCase {
  std::string body;
  std::string message;
};

TEST(Alertmanager, MalformedBodiesNameTheJsonPath) {
  const std::string alert =
      R"({"status":"firing","labels":{"alertname":"A"},"startsAt":"2026-11-27T06:00:00Z"})";
  const auto wrap = [](const std::string& alerts, const std::string& extra = "") {
    return R"({"version":"4","status":"firing",)" + extra + R"("alerts":[)" + alerts + "]}";
  };
  const std::vector<BadCase> cases = {
      {"[]", "Alertmanager webhook body: expected a JSON object, found an array"},
      {R"({"status":"firing","alerts":[]})", "version: missing"},
      {R"({"version":"3","status":"firing","alerts":[]})",
       "version: expected \"4\" (the Alertmanager webhook payload version dbrunbook reads), "
       "found \"3\""},
      {R"({"version":"4","status":"firing"})", "alerts: missing"},
      {R"({"version":"4","status":"firing","alerts":{}})",
       "alerts: expected an array, found an object {}"},
      {R"({"version":"4","status":"on","alerts":[]})",
       "status: expected \"firing\" or \"resolved\", found \"on\""},
      {wrap(alert + "," + alert + ",7"), "alerts[2]: expected an object, found a number 7"},
      {wrap(alert + R"(,{"status":"fire","labels":{},"startsAt":"2026-11-27T06:00:00Z"})"),
       "alerts[1].status: expected \"firing\" or \"resolved\", found \"fire\""},
      {wrap(R"({"status":"firing","startsAt":"2026-11-27T06:00:00Z"})"),
       "alerts[0].labels: missing"},
      {wrap(R"({"status":"firing","labels":{"severity":3},"startsAt":"2026-11-27T06:00:00Z"})"),
       "alerts[0].labels.severity: expected a string, found a number 3"},
      {wrap(R"({"status":"firing","labels":{},"startsAt":"yesterday"})"),
       "alerts[0].startsAt: expected an RFC 3339 time such as \"2026-11-27T06:35:11.123Z\", "
       "found \"yesterday\""},
      {wrap(R"({"status":"firing","labels":{}})"), "alerts[0].startsAt: missing"},
      {wrap("", R"("truncatedAlerts":"many",)"),
       "truncatedAlerts: expected a whole number, found \"many\""},
      {wrap("", R"("commonLabels":[],)"),
       "commonLabels: expected an object of strings, found an array []"},
  };
  for (const auto& c : cases) {
    auto payload = ParseAlertmanagerWebhook(c.body, Rules());
    ASSERT_FALSE(payload) << c.body;
    EXPECT_EQ(payload.error().message, c.message) << c.body;
    EXPECT_EQ(payload.error().code, core::ErrorCode::kParse);
    EXPECT_THAT(payload.error().hint, HasSubstr("version 4"));
  }
  auto empty = ParseAlertmanagerWebhook("", Rules());
  ASSERT_FALSE(empty);
  EXPECT_EQ(empty.error().message, "Alertmanager webhook body is empty");
  auto truncated = ParseAlertmanagerWebhook(R"({"version": "4", "alerts": [)", Rules());
  ASSERT_FALSE(truncated);
  EXPECT_THAT(truncated.error().message, HasSubstr("is not valid JSON (byte 29)"));
}

TEST(Alertmanager, AVersionNumberFourAndAnEmptyAlertListAreAccepted) {
  auto payload =
      ParseAlertmanagerWebhook(R"({"version":4,"status":"resolved","alerts":[]})", Rules());
  ASSERT_TRUE(payload) << payload.error().ToString();
  EXPECT_EQ(payload->status, "resolved");
  EXPECT_TRUE(payload->alerts.empty());
}

}  // namespace
}  // namespace dbrunbook::api
