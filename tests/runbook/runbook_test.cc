// The runbook file: the default runbook (valid, warning-free, encoding the runbook's numbers,
// identical to runbooks/database-performance.yaml), every validation rule with its exact
// diagnostic (file:line:col, key path, message, hint), the review warning, hysteresis sides,
// and the small functions the engine uses (Compare, Describe, AppliesTo, lookups).
#include "runbook/runbook.h"

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "app/runbooks.h"
#include "steps/finding_codes.h"
#include "watch/signals.h"

namespace dbrunbook::runbook {
namespace {

using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::IsEmpty;

constexpr std::string_view kToday = "2026-11-27";

std::string SourceDir() {
  const char* dir = std::getenv("DBRUNBOOK_SOURCE_DIR");  // NOLINT(concurrency-mt-unsafe)
  return dir == nullptr ? std::string() : std::string(dir);
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

// A small schema, so these tests do not depend on the catalogues' contents.
RunbookSchema TestSchema() {
  RunbookSchema schema;
  schema.signals = {"longest_query_seconds", "replication_lag_seconds", "replication_running",
                    "target_unreachable", "freeable_memory_bytes"};
  schema.actions = {"kill-queries", "failover"};
  schema.finding_codes = {"lock.root_blocker", "query.long_running", "replication.broken"};
  schema.action_params = {{"kill-queries", {"busy_time", "max_victims", "root_blockers"}}};
  schema.param_types = {{"busy_time", ParamType::kDuration},
                        {"max_victims", ParamType::kCount},
                        {"root_blockers", ParamType::kBool}};
  return schema;
}

// The metadata and one trigger: lines 1-8. Cases append from line 9.
constexpr std::string_view kHead =
    "runbook:\n"                           // 1
    "  name: test\n"                       // 2
    "  version: 1\n"                       // 3
    "  owner: dba\n"                       // 4
    "triggers:\n"                          // 5
    "  - name: slow\n"                     // 6
    "    signal: longest_query_seconds\n"  // 7
    "    threshold: 5\n";                  // 8

std::vector<std::string> Diagnose(std::string_view text, std::string_view today = kToday) {
  std::vector<std::string> out;
  auto parsed = ParseRunbook(text, "rb.yaml", TestSchema(), today);
  const auto& list = parsed ? parsed->warnings : parsed.error();
  out.reserve(list.size());
  for (const auto& d : list) out.push_back(d.ToString());
  return out;
}

// ---------------------------------------------------------------------------------------
// The default runbook
// ---------------------------------------------------------------------------------------

TEST(DefaultRunbookTest, ParsesWithNoErrorAndNoWarning) {
  auto parsed = DefaultRunbook(app::WatchRunbookSchema(), kToday);
  ASSERT_TRUE(parsed.has_value()) << (parsed ? "" : parsed.error().front().ToString());
  for (const auto& w : parsed->warnings) ADD_FAILURE() << w.ToString();
  EXPECT_EQ(parsed->path, "(built-in)");
  EXPECT_EQ(parsed->metadata.name, "database-performance");
  EXPECT_EQ(parsed->metadata.version, "1");
  EXPECT_EQ(parsed->metadata.last_reviewed, "2026-11-01");
  EXPECT_EQ(parsed->metadata.review_interval, std::chrono::hours(24 * 180));
}

TEST(DefaultRunbookTest, EveryTriggerUsesASignalTheWatcherKnows) {
  auto parsed = DefaultRunbook(app::WatchRunbookSchema(), kToday);
  ASSERT_TRUE(parsed.has_value());
  ASSERT_FALSE(parsed->triggers.empty());
  for (const auto& trigger : parsed->triggers) {
    EXPECT_NE(watch::FindSignal(trigger.signal), nullptr) << trigger.name << ": " << trigger.signal;
  }
  // And every finding code a mitigation lists is one a step emits; every trigger.NAME one of
  // the file's triggers.
  const auto codes = steps::FindingCodes();
  for (const auto& m : parsed->mitigations) {
    for (const auto& code : m.on) {
      if (code.starts_with(kOnTriggerPrefix)) {
        EXPECT_NE(parsed->FindTrigger(code.substr(kOnTriggerPrefix.size())), nullptr) << code;
      } else if (code != kOnTargetUnavailable) {
        EXPECT_THAT(codes, Contains(code)) << m.action;
      }
    }
  }
}

TEST(DefaultRunbookTest, EncodesTheRunbooksNumbers) {
  auto parsed = DefaultRunbook(app::WatchRunbookSchema(), kToday);
  ASSERT_TRUE(parsed.has_value());
  const Runbook& book = *parsed;

  const TriggerSpec* slow = book.FindTrigger("slow_queries");
  ASSERT_NE(slow, nullptr);
  EXPECT_EQ(slow->Describe(), "longest_query_seconds > 5 for 0s");
  EXPECT_EQ(slow->severity, TriggerSeverity::kCritical);

  const TriggerSpec* lag = book.FindTrigger("replication_lag");
  ASSERT_NE(lag, nullptr);
  EXPECT_EQ(lag->Describe(), "replication_lag_seconds > 60 for 30s");
  EXPECT_EQ(lag->resolve_threshold, 30);

  const TriggerSpec* memory = book.FindTrigger("low_memory");
  ASSERT_NE(memory, nullptr);
  EXPECT_EQ(memory->Describe(), "freeable_memory_bytes < 268435456 for 5m");

  const TriggerSpec* down = book.FindTrigger("unreachable");
  ASSERT_NE(down, nullptr);
  EXPECT_EQ(down->Describe(), "target_unreachable >= 1 for 5s");
  EXPECT_EQ(down->severity, TriggerSeverity::kCritical);
  for (const char* name :
       {"connect_failures", "slow_connect", "high_cpu", "app_connectivity_errors",
        "replication_stopped", "threads_running_high", "connections_near_limit"}) {
    EXPECT_NE(book.FindTrigger(name), nullptr) << name;
  }

  EXPECT_EQ(book.phases.assess_deadline, std::chrono::minutes(5));
  EXPECT_EQ(book.phases.investigate_deadline, std::chrono::minutes(15));
  EXPECT_EQ(book.phases.mitigate_deadline, std::chrono::minutes(30));
  EXPECT_EQ(book.phases.verify_period, std::chrono::minutes(30));

  // Read-only by default: nothing is applied without a person's approval.
  for (const auto& m : book.mitigations) EXPECT_NE(m.policy, Policy::kAuto) << m.action;
  const MitigationPolicy* kill = book.FindMitigation("kill-queries");
  ASSERT_NE(kill, nullptr);
  EXPECT_EQ(kill->policy, Policy::kApprove);
  EXPECT_THAT(kill->on, ElementsAre("lock.root_blocker", "query.long_running"));
  EXPECT_EQ(kill->block, std::chrono::hours(1));
  EXPECT_EQ(kill->params.at("busy_time"), "300s");
  EXPECT_EQ(kill->params.at("min_wait"), "10s");
  EXPECT_EQ(kill->params.at("max_victims"), "10");
  EXPECT_EQ(book.FindMitigation("no-such-action"), nullptr);

  ASSERT_FALSE(book.escalation.empty());
  const EscalationRule& first = book.escalation.front();
  EXPECT_EQ(first.when, EscalationWhen::kUnavailable);
  EXPECT_EQ(first.after, std::chrono::minutes(10));
  EXPECT_EQ(first.level, 1);
  bool deadline_rule = false;
  for (const auto& rule : book.escalation) {
    if (rule.when == EscalationWhen::kDeadlineMissed) {
      deadline_rule = true;
      EXPECT_EQ(rule.phase, "mitigate");
    }
  }
  EXPECT_TRUE(deadline_rule);

  ASSERT_EQ(book.ContactsAt(1).size(), 1U);
  EXPECT_EQ(book.ContactsAt(1).front()->name, "dba-on-call");
  EXPECT_EQ(book.ContactsAt(2).front()->name, "cloud-support");
  EXPECT_EQ(book.ContactsAt(3).front()->name, "management");
  EXPECT_THAT(book.ContactsAt(4), IsEmpty());
  EXPECT_GE(book.prevention.size(), 6U);
}

TEST(DefaultRunbookTest, CompiledTextIsTheFileOnDisk) {
  const std::string dir = SourceDir();
  ASSERT_FALSE(dir.empty()) << "run through CTest (DBRUNBOOK_SOURCE_DIR)";
  const std::string on_disk = ReadFile(dir + "/runbooks/database-performance.yaml");
  ASSERT_FALSE(on_disk.empty());
  EXPECT_EQ(DefaultRunbookText(), on_disk);
}

TEST(DefaultRunbookTest, LoadsFromTheFileToo) {
  auto loaded = LoadRunbook(SourceDir() + "/runbooks/database-performance.yaml",
                            app::WatchRunbookSchema(), kToday);
  ASSERT_TRUE(loaded.has_value()) << (loaded ? "" : loaded.error().front().ToString());
  EXPECT_EQ(loaded->triggers.size(), 11U);
}

// ---------------------------------------------------------------------------------------
// Bad runbooks: each with its exact diagnostic
// ---------------------------------------------------------------------------------------

struct BadCase {
  std::string name;
  std::string tail;      // appended to kHead (which ends on line 8)
  std::string expected;  // one of the diagnostics, exactly
};

class BadRunbookTest : public ::testing::TestWithParam<BadCase> {};

TEST_P(BadRunbookTest, GivesTheExactDiagnostic) {
  const BadCase& c = GetParam();
  const std::string text = std::string(kHead) + c.tail;
  auto parsed = ParseRunbook(text, "rb.yaml", TestSchema(), kToday);
  ASSERT_FALSE(parsed.has_value()) << "accepted:\n" << text;
  std::vector<std::string> got;
  for (const auto& d : parsed.error()) got.push_back(d.ToString());
  EXPECT_THAT(got, Contains(c.expected)) << text;
}

INSTANTIATE_TEST_SUITE_P(
    Rules, BadRunbookTest,
    ::testing::Values(
        BadCase{"UnknownTriggerKey", "    severty: critical\n",
                "rb.yaml:9:5: triggers[0] (slow).severty: unknown key — did you mean "
                "severity?"},
        BadCase{"SignalCutShort", "  - {name: lag, signal: replication_lag, threshold: 1}\n",
                "rb.yaml:9:25: triggers[1] (lag).signal: unknown signal 'replication_lag' — "
                "did you mean replication_lag_seconds?"},
        BadCase{"UnknownTopLevelKey", "phase:\n  assess: {deadline: 5m}\n",
                "rb.yaml:9:1: phase: unknown key — did you mean phases?"},
        BadCase{"UnknownSignal",
                "  - name: long\n"
                "    signal: longest_query_secnds\n"
                "    threshold: 60\n",
                "rb.yaml:10:13: triggers[1] (long).signal: unknown signal "
                "'longest_query_secnds' — did you mean longest_query_seconds?"},
        BadCase{"DuplicateTriggerName",
                "  - name: slow\n"
                "    signal: replication_lag_seconds\n"
                "    threshold: 60\n",
                "rb.yaml:9:11: triggers[1] (slow).name: duplicate trigger name 'slow' (first "
                "used at rb.yaml:6:11) — trigger names must be unique"},
        BadCase{"DuplicateKey", "    threshold: 6\n",
                "rb.yaml:9:5: triggers[0] (slow).threshold: duplicate key (first set at "
                "rb.yaml:8:5) — YAML keeps only one of them: remove the other"},
        BadCase{"InvalidTriggerName",
                "  - name: Replication-Lag\n"
                "    signal: replication_lag_seconds\n"
                "    threshold: 60\n",
                "rb.yaml:9:11: triggers[1] (Replication-Lag).name: invalid trigger name "
                "'Replication-Lag' — use lower-case letters, digits and '_', at most 64 "
                "characters (it names the trigger in metrics and the API)"},
        BadCase{"MissingThreshold",
                "  - name: lag\n"
                "    signal: replication_lag_seconds\n",
                "rb.yaml:9:5: triggers[1] (lag).threshold: missing"},
        BadCase{"ThresholdNotANumber",
                "    for: 1m\n  - name: lag\n    signal: "
                "replication_lag_seconds\n    threshold: sixty\n",
                "rb.yaml:12:16: triggers[1] (lag).threshold: 'sixty' is not a number"},
        BadCase{"UnknownOperator", "    op: \"=>\"\n",
                "rb.yaml:9:9: triggers[0] (slow).op: unknown operator '=>' — use one of > >= "
                "< <= == != (in quotes)"},
        BadCase{"UnquotedGreaterThan", "    op: >\n    for: 1m\n",
                "rb.yaml:9:9: triggers[0] (slow).op: is empty — write the operator in quotes "
                "(op: \">\"): unquoted, > and | start a block of text"},
        BadCase{"DurationWithoutUnit", "    for: 5\n",
                "rb.yaml:9:10: triggers[0] (slow).for: duration '5' has no unit — write 5s "
                "for seconds (units: ms, s, m, h, d)"},
        BadCase{"DurationOutOfRange", "    resolve_for: 90d\n",
                "rb.yaml:9:18: triggers[0] (slow).resolve_for: 90d is out of range — use a "
                "duration from 0s and at most 30d"},
        BadCase{"UnknownSeverity", "    severity: high\n",
                "rb.yaml:9:15: triggers[0] (slow).severity: unknown severity 'high' — use "
                "one of: warning, critical"},
        BadCase{"ResolveAboveForGreater", "    resolve_threshold: 7\n",
                "rb.yaml:9:24: triggers[0] (slow).resolve_threshold: 7 is on the wrong side of "
                "the threshold: above 5 with op > — the trigger fires above the threshold and "
                "clears once the value drops to resolve_threshold: use a value at or below 5"},
        BadCase{"ResolveBelowForLess",
                "  - name: memory\n"
                "    signal: freeable_memory_bytes\n"
                "    op: \"<\"\n"
                "    threshold: 1000\n"
                "    resolve_threshold: 500\n",
                "rb.yaml:13:24: triggers[1] (memory).resolve_threshold: 500 is on the wrong "
                "side of the threshold: below 1000 with op < — the trigger fires below the "
                "threshold and clears once the value rises to resolve_threshold: use a value "
                "at or above 1000"},
        BadCase{"ResolveWithEquality", "    op: \"==\"\n    resolve_threshold: 4\n",
                "rb.yaml:10:24: triggers[0] (slow).resolve_threshold: has no meaning with op "
                "== — resolve_threshold applies to >, >=, < and <=: remove it"},
        BadCase{"DeadlinesOutOfOrder",
                "phases:\n"
                "  assess: {deadline: 10m}\n"
                "  investigate: {deadline: 8m}\n",
                "rb.yaml:11:27: phases.investigate.deadline: deadlines out of order: assess "
                "10m is later than investigate 8m — deadlines count from the incident's "
                "opening: assess <= investigate <= mitigate"},
        BadCase{"DeadlineLaterThanADefault",
                "phases:\n"
                "  assess: {deadline: 20m}\n",
                "rb.yaml:10:22: phases.assess.deadline: deadlines out of order: assess 20m is "
                "later than investigate 15m (the default) — deadlines count from the "
                "incident's opening: assess <= investigate <= mitigate"},
        BadCase{"PhaseWrittenAsAString", "phases:\n  assess: 5m\n",
                "rb.yaml:10:11: phases.assess: expected a mapping, found a string — write "
                "assess: {deadline: 5m}"},
        BadCase{"ZeroDeadline", "phases:\n  verify: {period: 0s}\n",
                "rb.yaml:10:20: phases.verify.period: 0s is out of range — use a duration "
                "above 0 and at most 30d"},
        BadCase{"UnknownAction",
                "mitigations:\n"
                "  kill-query: {policy: approve, on: [lock.root_blocker]}\n",
                "rb.yaml:10:3: mitigations.kill-query: unknown action 'kill-query' — did you "
                "mean kill-queries?"},
        BadCase{"UnknownPolicy",
                "mitigations:\n"
                "  kill-queries: {policy: automatic, on: [lock.root_blocker]}\n",
                "rb.yaml:10:26: mitigations.kill-queries.policy: unknown policy 'automatic' — "
                "use one of: off, approve, auto"},
        BadCase{"UnknownFindingCode",
                "mitigations:\n"
                "  kill-queries:\n"
                "    on: [lock.root_blockers]\n",
                "rb.yaml:11:10: mitigations.kill-queries.on[0]: unknown finding code "
                "'lock.root_blockers' — did you mean lock.root_blocker?"},
        BadCase{"OnNamesAnUnknownTrigger",
                "mitigations:\n"
                "  failover:\n"
                "    on: [trigger.slo]\n",
                "rb.yaml:11:10: mitigations.failover.on[0]: no trigger is named 'slo' — did you "
                "mean slow?"},
        BadCase{"OnTargetMisspelt",
                "mitigations:\n"
                "  failover:\n"
                "    on: [target.unavailabel]\n",
                "rb.yaml:11:10: mitigations.failover.on[0]: unknown finding code "
                "'target.unavailabel' — did you mean target.unavailable?"},
        BadCase{"AfterNotADuration",
                "mitigations:\n"
                "  failover:\n"
                "    on: [target.unavailable]\n"
                "    after: soon\n",
                "rb.yaml:12:12: mitigations.failover.after: cannot parse duration 'soon' — write a "
                "number with a unit, e.g. 500ms, 2s, 5m, 1h30m"},
        BadCase{"UnknownActionParameter",
                "mitigations:\n"
                "  kill-queries:\n"
                "    on: [lock.root_blocker]\n"
                "    busy_tim: 300s\n",
                "rb.yaml:12:5: mitigations.kill-queries.busy_tim: unknown key — did you mean "
                "busy_time?"},
        BadCase{"ParameterNotADuration",
                "mitigations:\n"
                "  kill-queries:\n"
                "    on: [lock.root_blocker]\n"
                "    busy_time: 300\n",
                "rb.yaml:12:16: mitigations.kill-queries.busy_time: duration '300' has no unit "
                "— write 300s for seconds (units: ms, s, m, h, d)"},
        BadCase{"ParameterNotACount",
                "mitigations:\n"
                "  kill-queries:\n"
                "    on: [lock.root_blocker]\n"
                "    max_victims: ten\n",
                "rb.yaml:12:18: mitigations.kill-queries.max_victims: 'ten' is not a whole "
                "number — write a count such as 10"},
        BadCase{"ParameterNotABool",
                "mitigations:\n"
                "  kill-queries:\n"
                "    on: [lock.root_blocker]\n"
                "    root_blockers: yes please\n",
                "rb.yaml:12:20: mitigations.kill-queries.root_blockers: 'yes please' is not "
                "true or false — write true or false"},
        BadCase{"OnNotAList",
                "mitigations:\n"
                "  failover:\n"
                "    on: replication.broken\n",
                "rb.yaml:11:9: mitigations.failover.on: expected a list of finding codes, "
                "trigger.NAME or target.unavailable, found a string — write on: "
                "[lock.root_blocker, query.long_running]"},
        BadCase{"UnknownEscalationCondition",
                "escalation:\n"
                "  - name: down\n"
                "    when: unavailble\n",
                "rb.yaml:11:11: escalation[0] (down).when: unknown condition 'unavailble' — "
                "did you mean unavailable?"},
        BadCase{"LevelBelowOne",
                "escalation:\n"
                "  - name: down\n"
                "    when: unavailable\n"
                "    level: 0\n",
                "rb.yaml:12:12: escalation[0] (down).level: '0' is not a level (a whole number "
                "from 1 to 100) — level 1 is the first line (the DBA on call); higher levels "
                "are told later"},
        BadCase{"DuplicateRuleName",
                "escalation:\n"
                "  - {name: down, when: unavailable}\n"
                "  - {name: down, when: replication_failed}\n",
                "rb.yaml:11:12: escalation[1] (down).name: duplicate escalation rule name "
                "'down' (first used at rb.yaml:10:12) — escalation rule names must be unique"},
        BadCase{"DeadlineMissedWithoutPhase",
                "escalation:\n"
                "  - name: late\n"
                "    when: deadline_missed\n",
                "rb.yaml:10:5: escalation[0] (late).phase: missing — deadline_missed needs the "
                "phase whose deadline counts: assess, investigate or mitigate"},
        BadCase{"PhaseOnAnotherCondition",
                "escalation:\n"
                "  - name: down\n"
                "    when: unavailable\n"
                "    phase: mitigate\n",
                "rb.yaml:12:12: escalation[0] (down).phase: only applies to when: "
                "deadline_missed — remove it"},
        BadCase{"UnknownPhase",
                "escalation:\n"
                "  - name: late\n"
                "    when: deadline_missed\n"
                "    phase: verify\n",
                "rb.yaml:12:12: escalation[0] (late).phase: unknown phase 'verify' — phases "
                "with a deadline are: assess, investigate, mitigate"},
        BadCase{"TriggerFiringUnknownTrigger",
                "escalation:\n"
                "  - name: still-slow\n"
                "    when: trigger_firing\n"
                "    trigger: slw\n",
                "rb.yaml:12:14: escalation[0] (still-slow).trigger: no trigger is named 'slw' — "
                "did you mean slow?"},
        BadCase{"DuplicateContactName",
                "contacts:\n"
                "  - {name: dba, level: 1}\n"
                "  - {name: dba, level: 1}\n",
                "rb.yaml:11:12: contacts[1] (dba).name: duplicate contact name 'dba' (first "
                "used at rb.yaml:10:12) — contact names must be unique"},
        BadCase{"ContactLevelNotANumber",
                "contacts:\n"
                "  - {name: dba, level: first}\n",
                "rb.yaml:10:24: contacts[0] (dba).level: 'first' is not a level (a whole "
                "number from 1 to 100) — level 1 is the first line (the DBA on call); higher "
                "levels are told later"},
        BadCase{"PreventionNotAList", "prevention: Review the slow log\n",
                "rb.yaml:9:13: prevention: expected a list, found a string — write each item "
                "as `- Review ...`"}),
    [](const ::testing::TestParamInfo<BadCase>& info) { return info.param.name; });

TEST(RunbookTest, MetadataRules) {
  // Missing keys, a bad date and a bad name, each reported, all at once.
  const auto got = Diagnose(
      "runbook:\n"
      "  name: my runbook\n"
      "  last_reviewed: 2026-02-30\n"
      "triggers:\n"
      "  - {name: slow, signal: longest_query_seconds, threshold: 5}\n");
  EXPECT_THAT(got, ElementsAre("rb.yaml:2:3: runbook.version: missing",
                               "rb.yaml:2:3: runbook.owner: missing — name who keeps this "
                               "runbook up to date (a team or a person)",
                               "rb.yaml:2:9: runbook.name: invalid runbook name 'my runbook' — "
                               "use letters, digits, '.', '_' and '-', at most 64 characters",
                               "rb.yaml:3:18: runbook.last_reviewed: '2026-02-30' is not a date "
                               "— write the date of the last review as YYYY-MM-DD, e.g. "
                               "2026-11-01"));
}

TEST(RunbookTest, MissingSectionsAreErrorsOnTheFile) {
  EXPECT_THAT(Diagnose("prevention: []\n"),
              ElementsAre("rb.yaml: runbook: missing — add `runbook:` with name, version and "
                          "owner (see the default runbook)",
                          "rb.yaml: triggers: missing — add `triggers:` with at least one "
                          "trigger"));
  EXPECT_THAT(Diagnose("runbook: {name: a, version: 1, owner: b}\ntriggers: []\n"),
              ElementsAre("rb.yaml:2:11: triggers: is empty — write each trigger as a list "
                          "item: `- name: slow_queries`; a runbook needs at least one"));
}

TEST(RunbookTest, ReportsEveryProblemAtOnceInFileOrder) {
  const auto got = Diagnose(std::string(kHead) +
                            "    for: 5\n"
                            "mitigations:\n"
                            "  kill-query: {}\n"
                            "escalation:\n"
                            "  - {name: down, when: unavailble}\n");
  ASSERT_EQ(got.size(), 3U) << ::testing::PrintToString(got);
  EXPECT_EQ(got[0].rfind("rb.yaml:9:10: ", 0), 0U) << got[0];
  EXPECT_EQ(got[1].rfind("rb.yaml:11:3: ", 0), 0U) << got[1];
  EXPECT_EQ(got[2].rfind("rb.yaml:13:24: ", 0), 0U) << got[2];
}

TEST(RunbookTest, ASyntaxErrorIsOneDiagnosticWithItsPosition) {
  const auto got = Diagnose("runbook:\n  name: [unclosed\n");
  ASSERT_EQ(got.size(), 1U);
  EXPECT_EQ(got[0].rfind("rb.yaml:", 0), 0U) << got[0];
  EXPECT_NE(got[0].find("rb.yaml:3"), std::string::npos) << got[0];
}

TEST(RunbookTest, EmptySchemaListsAreNotChecked) {
  auto parsed = ParseRunbook(
      "runbook: {name: a, version: 1, owner: b}\n"
      "triggers:\n"
      "  - {name: t, signal: anything_at_all, threshold: 1}\n"
      "mitigations:\n"
      "  some-action: {on: [any.code], whatever: 3}\n",
      "rb.yaml", RunbookSchema{}, kToday);
  ASSERT_TRUE(parsed.has_value()) << parsed.error().front().ToString();
  ASSERT_EQ(parsed->mitigations.size(), 1U);
  EXPECT_EQ(parsed->mitigations[0].params.at("whatever"), "3");
  EXPECT_EQ(parsed->mitigations[0].policy, Policy::kApprove);  // the default
}

TEST(RunbookTest, TargetsAreKeptForTheCaller) {
  auto parsed = ParseRunbook(std::string(kHead) + "    targets: [orders-primary, orders-replica]\n",
                             "rb.yaml", TestSchema(), kToday);
  ASSERT_TRUE(parsed.has_value());
  const TriggerSpec& t = parsed->triggers.at(0);
  EXPECT_THAT(t.targets, ElementsAre("orders-primary", "orders-replica"));
  EXPECT_TRUE(t.AppliesTo("orders-replica"));
  EXPECT_FALSE(t.AppliesTo("billing"));
  EXPECT_EQ(t.where.ToString(), "rb.yaml:6:5");
}

// ---------------------------------------------------------------------------------------
// Warnings
// ---------------------------------------------------------------------------------------

std::string Reviewed(std::string_view date, std::string_view interval) {
  return fmt::format(
      "runbook:\n"
      "  name: test\n"
      "  version: 1\n"
      "  owner: dba\n"
      "  last_reviewed: {}\n"
      "  review_interval: {}\n"
      "triggers:\n"
      "  - {{name: slow, signal: longest_query_seconds, threshold: 5}}\n",
      date, interval);
}

TEST(RunbookWarningTest, ReviewOverdueFromTheDayAfterTheDueDate) {
  const std::string text = Reviewed("2026-01-01", "90d");  // due 2026-04-01
  EXPECT_THAT(Diagnose(text, "2026-04-01"), IsEmpty());
  EXPECT_THAT(Diagnose(text, "2026-04-02"),
              ElementsAre("rb.yaml:5:18: warning: runbook.last_reviewed: runbook review overdue "
                          "since 2026-04-01 (last_reviewed + review_interval) — review it and "
                          "update last_reviewed"));
  // A warning, not an error: the runbook is still usable.
  auto parsed = ParseRunbook(text, "rb.yaml", TestSchema(), kToday);
  ASSERT_TRUE(parsed.has_value());
  ASSERT_EQ(parsed->warnings.size(), 1U);
  EXPECT_FALSE(parsed->warnings[0].is_error());
  // Without an interval there is nothing to be overdue.
  EXPECT_THAT(Diagnose("runbook: {name: a, version: 1, owner: b, last_reviewed: 2020-01-01}\n"
                       "triggers: [{name: t, signal: target_unreachable, threshold: 1}]\n"),
              IsEmpty());
}

TEST(RunbookWarningTest, ReviewDateInTheFuture) {
  EXPECT_THAT(Diagnose(Reviewed("2062-11-01", "90d")),
              ElementsAre("rb.yaml:5:18: warning: runbook.last_reviewed: 2062-11-01 is in the "
                          "future (today is 2026-11-27) — write the date of the last review"));
}

TEST(RunbookWarningTest, ContactLevelNoRuleReaches) {
  EXPECT_THAT(Diagnose(std::string(kHead) + "escalation:\n"
                                            "  - {name: down, when: unavailable, level: 1}\n"
                                            "contacts:\n"
                                            "  - {name: dba, level: 1}\n"
                                            "  - {name: boss, level: 3}\n"),
              ElementsAre("rb.yaml:13:25: warning: contacts[1] (boss).level: no escalation rule "
                          "reaches level 3: boss is never notified — add an escalation rule with "
                          "level: 3, or change the contact's level"));
}

TEST(RunbookWarningTest, ProposedActionWithoutFindings) {
  EXPECT_THAT(Diagnose(std::string(kHead) + "mitigations:\n"
                                            "  failover: {policy: approve, on: []}\n"
                                            "  kill-queries: {policy: off}\n"),
              ElementsAre("rb.yaml:10:3: warning: mitigations.failover.on: lists nothing that "
                          "proposes the action: it is never proposed — list the finding codes, "
                          "trigger.NAME or target.unavailable that propose it, or set policy: "
                          "off"));
}

TEST(RunbookTest, OnListsTriggersAndTargetUnavailable) {
  auto parsed = ParseRunbook(std::string(kHead) +
                                 "mitigations:\n"
                                 "  failover: {policy: auto, on: [target.unavailable], after: 5s}\n"
                                 "  kill-queries:\n"
                                 "    on: [trigger.slow, lock.root_blocker]\n",
                             "rb.yaml", TestSchema(), kToday);
  ASSERT_TRUE(parsed.has_value()) << ::testing::PrintToString(Diagnose(kHead));
  const MitigationPolicy* failover = parsed->FindMitigation("failover");
  ASSERT_NE(failover, nullptr);
  EXPECT_THAT(failover->on, ElementsAre("target.unavailable"));
  EXPECT_EQ(failover->after, std::chrono::seconds(5));
  EXPECT_EQ(failover->params.count("after"), 0U);
  const MitigationPolicy* kill = parsed->FindMitigation("kill-queries");
  ASSERT_NE(kill, nullptr);
  EXPECT_THAT(kill->on, ElementsAre("trigger.slow", "lock.root_blocker"));
  EXPECT_EQ(kill->after, std::chrono::seconds(30));  // the default
}

// ---------------------------------------------------------------------------------------
// Hysteresis sides accepted, comparisons, descriptions
// ---------------------------------------------------------------------------------------

TEST(RunbookTest, ResolveThresholdOnTheRightSideOrEqualIsAccepted) {
  for (const char* tail :
       {"    resolve_threshold: 2\n", "    resolve_threshold: 5\n",
        "    op: \">=\"\n    resolve_threshold: 4.5\n", "    op: \"<\"\n    resolve_threshold: 6\n",
        "    op: \"<=\"\n    resolve_threshold: 5\n"}) {
    auto parsed = ParseRunbook(std::string(kHead) + tail, "rb.yaml", TestSchema(), kToday);
    EXPECT_TRUE(parsed.has_value()) << tail << (parsed ? "" : parsed.error().front().ToString());
  }
}

TEST(CompareTest, EachOperator) {
  struct Case {
    Comparison op;
    std::string_view text;
    bool below, equal, above;  // Compare(4|5|6, op, 5)
  };
  for (const Case& c : {Case{Comparison::kGreater, ">", false, false, true},
                        Case{Comparison::kGreaterEqual, ">=", false, true, true},
                        Case{Comparison::kLess, "<", true, false, false},
                        Case{Comparison::kLessEqual, "<=", true, true, false},
                        Case{Comparison::kEqual, "==", false, true, false},
                        Case{Comparison::kNotEqual, "!=", true, false, true}}) {
    EXPECT_EQ(ComparisonText(c.op), c.text);
    EXPECT_EQ(Compare(4, c.op, 5), c.below) << c.text;
    EXPECT_EQ(Compare(5, c.op, 5), c.equal) << c.text;
    EXPECT_EQ(Compare(6, c.op, 5), c.above) << c.text;
    // Each operator parses from the file back to itself.
    auto parsed = ParseRunbook(std::string(kHead) + fmt::format("    op: \"{}\"\n", c.text),
                               "rb.yaml", TestSchema(), kToday);
    ASSERT_TRUE(parsed.has_value()) << c.text;
    EXPECT_EQ(parsed->triggers[0].op, c.op);
  }
  EXPECT_FALSE(Compare(0.1 + 0.2, Comparison::kLessEqual, 0.29));
}

TEST(DescribeTest, ConditionAndDuration) {
  TriggerSpec t;
  t.signal = "connections_used_ratio";
  t.op = Comparison::kGreaterEqual;
  t.threshold = 0.9;
  t.for_duration = std::chrono::seconds(90);
  EXPECT_EQ(t.Describe(), "connections_used_ratio >= 0.9 for 1m30s");
  EXPECT_EQ(DurationText(std::chrono::milliseconds(1500)), "1s500ms");
  EXPECT_EQ(DurationText(std::chrono::hours(24 * 180)), "180d");
  EXPECT_EQ(DurationText(core::Duration{}), "0s");
  EXPECT_EQ(TriggerSeverityName(TriggerSeverity::kCritical), "critical");
  EXPECT_EQ(PolicyName(Policy::kAuto), "auto");
  EXPECT_EQ(EscalationWhenName(EscalationWhen::kDegradedAfterMitigation),
            "degraded_after_mitigation");
}

TEST(LoadRunbookTest, MissingFileIsOneErrorNamingIt) {
  auto loaded = LoadRunbook("/nonexistent/runbook.yaml", TestSchema(), kToday);
  ASSERT_FALSE(loaded.has_value());
  ASSERT_EQ(loaded.error().size(), 1U);
  EXPECT_EQ(loaded.error()[0].ToString(),
            "/nonexistent/runbook.yaml: the runbook file does not exist — check the path given "
            "to --runbook (without it, the built-in runbook is used)");
}

}  // namespace
}  // namespace dbrunbook::runbook
