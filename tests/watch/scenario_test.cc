// Runs every tests/watch/scenarios/*.yaml through the incident engine on a simulated clock:
// samples, alerts, results and operator commands in; the timeline, the effects and the final
// state of the incidents out, compared exactly (README.md in that folder has the format).
//
// One test case per file, discovered from the folder, so adding a scenario is adding a file.
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>

#include "config/yaml_tree.h"
#include "core/clock.h"
#include "core/duration.h"
#include "core/strings.h"
#include "watch/engine.h"

namespace dbrunbook::watch {
namespace {

namespace fs = std::filesystem;
using config::YamlNode;

// ---------------------------------------------------------------------------------------
// Reading the scenario file (lenient where it does not matter, strict on unknown keys so a
// typo cannot silently turn an expectation off)
// ---------------------------------------------------------------------------------------

std::string ScenarioDir() {
  const char* source = std::getenv("DBRUNBOOK_SOURCE_DIR");  // NOLINT(concurrency-mt-unsafe)
  return source == nullptr ? std::string() : std::string(source) + "/tests/watch/scenarios";
}

std::vector<std::string> ScenarioFiles() {
  std::vector<std::string> files;
  std::error_code ec;
  const std::string dir = ScenarioDir();
  if (dir.empty()) return files;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    if (entry.path().extension() == ".yaml") files.push_back(entry.path().filename().string());
  }
  std::sort(files.begin(), files.end());
  return files;
}

// "1h0m5s"-free compact form: "0s", "45s", "5m", "5m3s", "1h2m", "1.5s".
std::string Offset(core::Duration d) {
  if (d < core::Duration::zero()) return "-" + Offset(-d);
  const int64_t ms = std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
  if (ms == 0) return "0s";
  std::string out;
  if (ms / 3'600'000 > 0) out += std::to_string(ms / 3'600'000) + "h";
  if ((ms / 60'000) % 60 > 0) out += std::to_string((ms / 60'000) % 60) + "m";
  const int64_t rest = ms % 60'000;
  if (rest > 0) {
    std::ostringstream s;
    s << static_cast<double>(rest) / 1000.0 << "s";
    out += s.str();
  }
  return out;
}

class Reader {
 public:
  explicit Reader(std::string file) : file_(std::move(file)) {}

  std::vector<std::string> errors;

  void Error(const YamlNode& at, const std::string& message) {
    errors.push_back(fmt::format("{}:{}: {}", file_, at.where.line, message));
  }

  static const YamlNode* Child(const YamlNode& map, std::string_view key) {
    if (!map.is_map()) return nullptr;
    for (const auto& entry : map.entries) {
      if (entry.key == key) return &entry.value;
    }
    return nullptr;
  }

  void OnlyKeys(const YamlNode& map, const std::vector<std::string>& allowed,
                std::string_view what) {
    if (!map.is_map()) {
      Error(map, fmt::format("{}: expected a mapping, found {}", what, map.KindName()));
      return;
    }
    for (const auto& entry : map.entries) {
      if (std::find(allowed.begin(), allowed.end(), entry.key) == allowed.end()) {
        Error(entry.value, fmt::format("{}: unknown key '{}'", what, entry.key));
      }
    }
  }

  std::string Str(const YamlNode& node, std::string_view what) {
    if (node.kind != YamlNode::Kind::kScalar) {
      Error(node, fmt::format("{}: expected a scalar, found {}", what, node.KindName()));
      return {};
    }
    return node.scalar;
  }
  std::string Str(const YamlNode& map, std::string_view key, std::string fallback) {
    const YamlNode* n = Child(map, key);
    return n == nullptr ? std::move(fallback) : Str(*n, key);
  }

  double Num(const YamlNode& node, std::string_view what) {
    auto v = core::ParseDouble(Str(node, what));
    if (!v) Error(node, fmt::format("{}: '{}' is not a number", what, node.scalar));
    return v.value_or(0);
  }

  int64_t Int(const YamlNode& map, std::string_view key, int64_t fallback) {
    const YamlNode* n = Child(map, key);
    if (n == nullptr) return fallback;
    auto v = core::ParseInt64(Str(*n, key));
    if (!v) Error(*n, fmt::format("{}: '{}' is not an integer", key, n->scalar));
    return v.value_or(fallback);
  }

  bool Bool(const YamlNode& map, std::string_view key, bool fallback) {
    const YamlNode* n = Child(map, key);
    if (n == nullptr) return fallback;
    auto v = core::ParseBool(Str(*n, key));
    if (!v) Error(*n, fmt::format("{}: '{}' is not true or false", key, n->scalar));
    return v.value_or(fallback);
  }

  core::Duration Dur(const YamlNode& node, std::string_view what) {
    auto d = core::ParseDuration(Str(node, what), /*bare_unit_seconds=*/true);
    if (!d) Error(node, fmt::format("{}: {}", what, d.error().message));
    return d.value_or(core::Duration::zero());
  }
  core::Duration Dur(const YamlNode& map, std::string_view key, core::Duration fallback) {
    const YamlNode* n = Child(map, key);
    return n == nullptr ? fallback : Dur(*n, key);
  }

  std::vector<std::string> List(const YamlNode* node, std::string_view what) {
    std::vector<std::string> out;
    if (node == nullptr || node->is_null()) return out;
    if (node->kind != YamlNode::Kind::kSequence) {
      Error(*node, fmt::format("{}: expected a list, found {}", what, node->KindName()));
      return out;
    }
    for (const YamlNode& item : node->items) out.push_back(Str(item, what));
    return out;
  }

 private:
  std::string file_;
};

runbook::Runbook ReadRunbook(Reader& r, const YamlNode& node) {
  runbook::Runbook rb;
  rb.path = "(scenario)";
  rb.metadata.name = "scenario";
  r.OnlyKeys(node, {"triggers", "phases", "mitigations", "escalation", "contacts", "prevention"},
             "runbook");
  if (const YamlNode* triggers = Reader::Child(node, "triggers")) {
    for (const YamlNode& t : triggers->items) {
      r.OnlyKeys(t,
                 {"name", "signal", "op", "threshold", "resolve_threshold", "for", "resolve_for",
                  "severity", "summary", "targets"},
                 "trigger");
      runbook::TriggerSpec spec;
      spec.name = r.Str(t, "name", "");
      spec.signal = r.Str(t, "signal", "");
      const std::string op = r.Str(t, "op", ">");
      const std::map<std::string, runbook::Comparison> ops = {
          {">", runbook::Comparison::kGreater}, {">=", runbook::Comparison::kGreaterEqual},
          {"<", runbook::Comparison::kLess},    {"<=", runbook::Comparison::kLessEqual},
          {"==", runbook::Comparison::kEqual},  {"!=", runbook::Comparison::kNotEqual}};
      if (ops.count(op) == 0) r.Error(t, fmt::format("trigger {}: unknown op '{}'", spec.name, op));
      spec.op = ops.count(op) > 0 ? ops.at(op) : runbook::Comparison::kGreater;
      if (const YamlNode* n = Reader::Child(t, "threshold"))
        spec.threshold = r.Num(*n, "threshold");
      if (const YamlNode* n = Reader::Child(t, "resolve_threshold")) {
        spec.resolve_threshold = r.Num(*n, "resolve_threshold");
      }
      spec.for_duration = r.Dur(t, "for", core::Duration::zero());
      spec.resolve_for = r.Dur(t, "resolve_for", core::Duration::zero());
      spec.severity = r.Str(t, "severity", "warning") == "critical"
                          ? runbook::TriggerSeverity::kCritical
                          : runbook::TriggerSeverity::kWarning;
      spec.summary = r.Str(t, "summary", "");
      spec.targets = r.List(Reader::Child(t, "targets"), "targets");
      rb.triggers.push_back(std::move(spec));
    }
  }
  if (const YamlNode* phases = Reader::Child(node, "phases")) {
    r.OnlyKeys(*phases, {"assess", "investigate", "mitigate", "verify"}, "phases");
    auto deadline = [&](std::string_view phase, std::string_view key, core::Duration& out) {
      if (const YamlNode* p = Reader::Child(*phases, phase)) out = r.Dur(*p, key, out);
    };
    deadline("assess", "deadline", rb.phases.assess_deadline);
    deadline("investigate", "deadline", rb.phases.investigate_deadline);
    deadline("mitigate", "deadline", rb.phases.mitigate_deadline);
    deadline("verify", "period", rb.phases.verify_period);
  }
  if (const YamlNode* mitigations = Reader::Child(node, "mitigations")) {
    for (const auto& entry : mitigations->entries) {
      runbook::MitigationPolicy m;
      m.action = entry.key;
      const std::string policy = r.Str(entry.value, "policy", "approve");
      m.policy = policy == "auto"  ? runbook::Policy::kAuto
                 : policy == "off" ? runbook::Policy::kOff
                                   : runbook::Policy::kApprove;
      if (policy != "auto" && policy != "off" && policy != "approve") {
        r.Error(entry.value, fmt::format("mitigation {}: unknown policy '{}'", m.action, policy));
      }
      m.on = r.List(Reader::Child(entry.value, "on"), "on");
      m.block = r.Dur(entry.value, "block", m.block);
      m.after = r.Dur(entry.value, "after", m.after);
      for (const auto& param : entry.value.entries) {
        if (param.key != "policy" && param.key != "on" && param.key != "block" &&
            param.key != "after") {
          m.params[param.key] = r.Str(param.value, param.key);
        }
      }
      rb.mitigations.push_back(std::move(m));
    }
  }
  if (const YamlNode* escalation = Reader::Child(node, "escalation")) {
    const std::map<std::string, runbook::EscalationWhen> whens = {
        {"unavailable", runbook::EscalationWhen::kUnavailable},
        {"corruption_suspected", runbook::EscalationWhen::kCorruptionSuspected},
        {"replication_failed", runbook::EscalationWhen::kReplicationFailed},
        {"degraded_after_mitigation", runbook::EscalationWhen::kDegradedAfterMitigation},
        {"deadline_missed", runbook::EscalationWhen::kDeadlineMissed},
        {"trigger_firing", runbook::EscalationWhen::kTriggerFiring}};
    for (const YamlNode& e : escalation->items) {
      r.OnlyKeys(e, {"name", "when", "after", "phase", "trigger", "level"}, "escalation");
      runbook::EscalationRule rule;
      rule.name = r.Str(e, "name", "");
      const std::string when = r.Str(e, "when", "");
      if (whens.count(when) == 0) r.Error(e, fmt::format("escalation: unknown when '{}'", when));
      rule.when = whens.count(when) > 0 ? whens.at(when) : runbook::EscalationWhen::kUnavailable;
      rule.after = r.Dur(e, "after", core::Duration::zero());
      rule.phase = r.Str(e, "phase", "");
      rule.trigger = r.Str(e, "trigger", "");
      rule.level = static_cast<int>(r.Int(e, "level", 1));
      rb.escalation.push_back(std::move(rule));
    }
  }
  if (const YamlNode* contacts = Reader::Child(node, "contacts")) {
    for (const YamlNode& c : contacts->items) {
      r.OnlyKeys(c, {"name", "role", "level", "channels"}, "contact");
      runbook::Contact contact;
      contact.name = r.Str(c, "name", "");
      contact.role = r.Str(c, "role", "");
      contact.level = static_cast<int>(r.Int(c, "level", 1));
      contact.channels = r.List(Reader::Child(c, "channels"), "channels");
      rb.contacts.push_back(std::move(contact));
    }
  }
  rb.prevention = r.List(Reader::Child(node, "prevention"), "prevention");
  return rb;
}

enum class InputKind {
  kSamples,
  kAlert,
  kDiagnoseDone,
  kActionDone,
  kApprove,
  kAck,
  kNote,
  kResolve,
  kRestart
};

struct Input {
  core::Duration at{};
  int line = 0;
  InputKind kind = InputKind::kSamples;
  // kSamples
  std::string target;
  std::map<std::string, double> values;
  std::string error;
  bool partial = false;
  // kAlert
  ExternalAlert alert;
  std::optional<core::Duration> alert_ends;  // `ends_at`, from the start
  // kDiagnoseDone
  DiagnoseResult diagnose;
  // kActionDone
  ActionResult action;
  // operator commands
  int64_t incident = 0;
  std::string action_name;
  std::string who;
  std::string text;
  std::string expect_error;  // an error code name the command must fail with
  // kRestart
  core::Duration down_for{};
};

struct Scenario {
  runbook::Runbook runbook;
  std::vector<std::string> targets;
  int64_t next_id = 1;
  core::Duration alert_ttl = kDefaultAlertTtl;
  std::map<std::string, std::map<std::string, core::Duration>> last_applied;  // ago
  std::vector<Input> inputs;
  core::Duration end{};
  std::vector<std::string> timeline;
  std::optional<std::vector<std::string>> effects;
  const YamlNode* final_state = nullptr;
  const YamlNode* trigger_states = nullptr;
  std::optional<std::vector<int64_t>> open_incidents;
};

void ReadInputs(Reader& r, const YamlNode& list, Scenario& s) {
  const std::vector<std::string> common = {"at", "until", "every", "expect_error"};
  for (const YamlNode& item : list.items) {
    if (!item.is_map() || item.entries.empty()) {
      r.Error(item, "input: expected a mapping with `at` and one input");
      continue;
    }
    Input in;
    in.line = item.where.line;
    const YamlNode* at = Reader::Child(item, "at");
    if (at == nullptr) r.Error(item, "input: `at` is missing");
    in.at = at != nullptr ? r.Dur(*at, "at") : core::Duration::zero();
    in.expect_error = r.Str(item, "expect_error", "");
    std::vector<std::string> allowed = common;
    if (Reader::Child(item, "values") != nullptr || Reader::Child(item, "unreachable") != nullptr) {
      in.kind = InputKind::kSamples;
      allowed.insert(allowed.end(), {"target", "values", "unreachable", "partial"});
      in.target = r.Str(item, "target", "");
      if (const YamlNode* values = Reader::Child(item, "values")) {
        for (const auto& v : values->entries) in.values[v.key] = r.Num(v.value, v.key);
      }
      if (const YamlNode* down = Reader::Child(item, "unreachable")) {
        in.values[std::string(kTargetUnreachable)] = 1;
        in.error = r.Str(*down, "unreachable");
      }
      in.partial = r.Bool(item, "partial", false);
      // A server poll always says whether the server answered.
      if (!in.partial && in.values.count(std::string(kTargetUnreachable)) == 0) {
        in.values[std::string(kTargetUnreachable)] = 0;
      }
    } else if (const YamlNode* a = Reader::Child(item, "alert")) {
      in.kind = InputKind::kAlert;
      allowed.push_back("alert");
      r.OnlyKeys(*a, {"target", "name", "firing", "severity", "summary", "ends_at"}, "alert");
      if (Reader::Child(*a, "ends_at") != nullptr) {
        in.alert_ends = r.Dur(*a, "ends_at", core::Duration::zero());
      }
      in.alert.target = r.Str(*a, "target", "");
      in.alert.name = r.Str(*a, "name", "");
      in.alert.firing = r.Bool(*a, "firing", true);
      in.alert.severity = r.Str(*a, "severity", "warning");
      in.alert.summary = r.Str(*a, "summary", "");
    } else if (const YamlNode* d = Reader::Child(item, "diagnose_done")) {
      in.kind = InputKind::kDiagnoseDone;
      allowed.push_back("diagnose_done");
      r.OnlyKeys(*d, {"incident", "findings", "error"}, "diagnose_done");
      in.diagnose.incident_id = r.Int(*d, "incident", 0);
      in.diagnose.error = r.Str(*d, "error", "");
      in.diagnose.ok = in.diagnose.error.empty();
      if (const YamlNode* findings = Reader::Child(*d, "findings")) {
        for (const YamlNode& f : findings->items) {
          FindingRef ref;
          if (f.is_map()) {
            r.OnlyKeys(f, {"code", "severity", "title"}, "finding");
            ref.code = r.Str(f, "code", "");
            ref.severity = r.Str(f, "severity", "warning");
            ref.title = r.Str(f, "title", "");
          } else {
            ref.code = r.Str(f, "finding");
            ref.severity = "warning";
          }
          in.diagnose.findings.push_back(std::move(ref));
        }
      }
    } else if (const YamlNode* d = Reader::Child(item, "action_done")) {
      in.kind = InputKind::kActionDone;
      allowed.push_back("action_done");
      r.OnlyKeys(*d, {"incident", "key", "state", "detail", "run_id"}, "action_done");
      in.action.key = r.Str(*d, "key", "");
      const auto first = core::Split(in.action.key, ':');
      in.action.incident_id =
          r.Int(*d, "incident", core::ParseInt64(first.empty() ? "" : first[0]).value_or(0));
      const std::string state = r.Str(*d, "state", "applied");
      auto parsed = ParseActionState(state);
      if (!parsed) r.Error(*d, fmt::format("action_done: unknown state '{}'", state));
      in.action.state = parsed.value_or(ActionState::kApplied);
      in.action.detail = r.Str(*d, "detail", "");
      in.action.run_id = r.Str(*d, "run_id", "");
    } else if (Reader::Child(item, "restart") != nullptr) {
      in.kind = InputKind::kRestart;
      allowed.push_back("restart");
      const YamlNode& restart = *Reader::Child(item, "restart");
      if (restart.is_map()) {
        r.OnlyKeys(restart, {"down_for"}, "restart");
        in.down_for = r.Dur(restart, "down_for", core::Duration::zero());
      }
    } else {
      bool found = false;
      for (auto [key, kind] :
           {std::pair{"approve", InputKind::kApprove}, std::pair{"ack", InputKind::kAck},
            std::pair{"note", InputKind::kNote}, std::pair{"resolve", InputKind::kResolve}}) {
        const YamlNode* c = Reader::Child(item, key);
        if (c == nullptr) continue;
        found = true;
        in.kind = kind;
        allowed.emplace_back(key);
        r.OnlyKeys(*c, {"incident", "action", "who", "text", "reason"}, key);
        in.incident = r.Int(*c, "incident", 0);
        in.action_name = r.Str(*c, "action", "");
        in.who = r.Str(*c, "who", "");
        in.text = r.Str(*c, kind == InputKind::kResolve ? "reason" : "text", "");
        break;
      }
      if (!found)
        r.Error(item,
                "input: none of values, unreachable, alert, diagnose_done, "
                "action_done, approve, ack, note, resolve, restart");
    }
    r.OnlyKeys(item, allowed, "input");
    // A repeated poll: at, at+every, ... up to and including `until`.
    if (const YamlNode* until = Reader::Child(item, "until")) {
      const core::Duration last = r.Dur(*until, "until");
      const core::Duration every = r.Dur(item, "every", std::chrono::seconds(1));
      if (every <= core::Duration::zero() || in.kind != InputKind::kSamples) {
        r.Error(item, "input: `until` repeats sample batches only, with `every` > 0");
        continue;
      }
      for (core::Duration t = in.at; t <= last; t += every) {
        Input copy = in;
        copy.at = t;
        s.inputs.push_back(std::move(copy));
      }
    } else {
      s.inputs.push_back(std::move(in));
    }
  }
  std::stable_sort(s.inputs.begin(), s.inputs.end(),
                   [](const Input& a, const Input& b) { return a.at < b.at; });
}

// ---------------------------------------------------------------------------------------
// Running it
// ---------------------------------------------------------------------------------------

struct ExpectedLine {
  std::string head;  // "5m #1 deadline.missed"
  std::string text;  // substring of the event's text; empty: any
};

std::string NormaliseHead(const std::string& head) {
  // The first word is a time; written "300s" or "5m", compared as one form.
  const size_t space = head.find(' ');
  const std::string first = head.substr(0, space);
  auto d = core::ParseDuration(first, true);
  if (!d) return head;
  return Offset(*d) + (space == std::string::npos ? "" : head.substr(space));
}

ExpectedLine ParseExpected(const std::string& line) {
  const size_t bar = line.find(" | ");
  if (bar == std::string::npos) return ExpectedLine{NormaliseHead(line), ""};
  return ExpectedLine{NormaliseHead(line.substr(0, bar)), line.substr(bar + 3)};
}

bool Matches(const ExpectedLine& expected, const std::string& actual) {
  const size_t bar = actual.find(" | ");
  const std::string head = actual.substr(0, bar);
  const std::string text = bar == std::string::npos ? "" : actual.substr(bar + 3);
  return head == expected.head && text.find(expected.text) != std::string::npos;
}

// A readable diff (longest common subsequence): "  " same, "- " expected only, "+ " actual only.
std::string Diff(const std::vector<std::string>& expected, const std::vector<std::string>& actual,
                 bool substring_match) {
  std::vector<ExpectedLine> parsed;
  parsed.reserve(expected.size());
  for (const std::string& e : expected) {
    parsed.push_back(substring_match ? ParseExpected(e) : ExpectedLine{NormaliseHead(e), ""});
  }
  auto same = [&](size_t i, size_t j) {
    return substring_match ? Matches(parsed[i], actual[j]) : parsed[i].head == actual[j];
  };
  const size_t n = expected.size();
  const size_t m = actual.size();
  std::vector<std::vector<int>> lcs(n + 1, std::vector<int>(m + 1, 0));
  for (size_t i = n; i-- > 0;) {
    for (size_t j = m; j-- > 0;) {
      lcs[i][j] = same(i, j) ? lcs[i + 1][j + 1] + 1 : std::max(lcs[i + 1][j], lcs[i][j + 1]);
    }
  }
  std::string out;
  size_t i = 0;
  size_t j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && same(i, j)) {
      out += "    " + actual[j++] + "\n";
      ++i;
    } else if (i < n && (j == m || lcs[i + 1][j] >= lcs[i][j + 1])) {
      out += "  - " + expected[i++] + "\n";
    } else {
      out += "  + " + actual[j++] + "\n";
    }
  }
  return out;
}

bool AllMatch(const std::vector<std::string>& expected, const std::vector<std::string>& actual,
              bool substring_match) {
  if (expected.size() != actual.size()) return false;
  for (size_t i = 0; i < expected.size(); ++i) {
    const bool ok = substring_match ? Matches(ParseExpected(expected[i]), actual[i])
                                    : NormaliseHead(expected[i]) == actual[i];
    if (!ok) return false;
  }
  return true;
}

class Simulation {
 public:
  explicit Simulation(const Scenario& s) : s_(s), start_(clock_.WallNow()) {}

  void Go() {
    NewEngine();
    std::map<std::string, std::map<std::string, core::WallTime>> last_applied;
    for (const auto& [target, actions] : s_.last_applied) {
      for (const auto& [action, ago] : actions) last_applied[target][action] = start_ - ago;
    }
    Record(engine_->Restore({}, last_applied, clock_.WallNow()));
    core::Duration next_tick = core::Duration::zero();
    core::Duration down_until = core::Duration::zero();
    for (const Input& in : s_.inputs) {
      if (in.at < down_until) {
        ADD_FAILURE() << "line " << in.line << ": input at " << Offset(in.at)
                      << " while the daemon is down (until " << Offset(down_until) << ")";
        return;
      }
      for (; next_tick < in.at; next_tick += std::chrono::seconds(1)) Tick(next_tick);
      AdvanceTo(in.at);
      Apply(in);
      if (in.kind == InputKind::kRestart) {
        down_until = in.at + in.down_for;
        AdvanceTo(down_until);
        Restart();
        next_tick = std::max(next_tick, down_until);
      }
      if (::testing::Test::HasFatalFailure()) return;
    }
    for (; next_tick <= s_.end; next_tick += std::chrono::seconds(1)) Tick(next_tick);
  }

  std::vector<std::string> timeline;
  std::vector<std::string> effects;
  std::map<int64_t, Incident> seen;  // the latest state of every incident
  std::unique_ptr<Engine> engine_;

 private:
  core::Duration Now() const { return clock_.WallNow() - start_; }

  void AdvanceTo(core::Duration at) {
    if (at > Now()) clock_.Advance(at - Now());
  }

  void Tick(core::Duration at) {
    AdvanceTo(at);
    Record(engine_->OnTick(clock_.WallNow(), clock_.MonotonicNow()));
  }

  void NewEngine() {
    int64_t next_id = s_.next_id;
    for (const auto& [id, incident] : seen) next_id = std::max(next_id, id + 1);
    engine_ = std::make_unique<Engine>(s_.runbook, s_.targets, next_id, s_.alert_ttl);
  }

  // What the daemon does on a restart: every incident goes through its JSON form (the store),
  // a new engine is built and the open ones restored, with when each action was last applied
  // per target (from the audit log: every action that ran or may have run).
  void Restart() {
    std::vector<Incident> open;
    for (const auto& [id, incident] : seen) {
      const std::string stored = IncidentToJson(incident).dump();
      auto back = IncidentFromJson(nlohmann::json::parse(stored));
      ASSERT_TRUE(back.has_value()) << back.error().ToString() << "\n" << stored;
      ASSERT_EQ(IncidentToJson(*back).dump(), stored)
          << "the JSON round trip changed incident " << id;
      if (back->open()) open.push_back(std::move(*back));
    }
    std::map<std::string, std::map<std::string, core::WallTime>> last_applied;
    for (const auto& [id, incident] : seen) {
      for (const IncidentAction& a : incident.actions) {
        if (a.state == ActionState::kApplied || a.state == ActionState::kVerified ||
            a.state == ActionState::kFailed || a.state == ActionState::kRunning ||
            a.state == ActionState::kInterrupted) {
          core::WallTime& slot = last_applied[incident.target][a.action];
          slot = std::max(slot, a.updated_at);
        }
      }
    }
    NewEngine();
    Record(engine_->Restore(std::move(open), last_applied, clock_.WallNow()));
  }

  void Command(const Input& in, const core::Result<Output>& result) {
    if (!in.expect_error.empty()) {
      if (result) {
        ADD_FAILURE() << "line " << in.line << ": expected error " << in.expect_error
                      << ", the command succeeded";
      } else if (core::ErrorCodeName(result.error().code) != in.expect_error) {
        ADD_FAILURE() << "line " << in.line << ": expected error " << in.expect_error << ", got "
                      << core::ErrorCodeName(result.error().code) << ": "
                      << result.error().ToString();
      } else {
        timeline.push_back(fmt::format("{} error {} | {}", Offset(Now()),
                                       core::ErrorCodeName(result.error().code),
                                       result.error().message));
      }
      return;
    }
    if (!result) {
      ADD_FAILURE() << "line " << in.line << ": " << result.error().ToString();
      return;
    }
    Record(*result);
  }

  void Apply(const Input& in) {
    const core::WallTime now = clock_.WallNow();
    switch (in.kind) {
      case InputKind::kSamples: {
        SampleBatch batch;
        batch.target = in.target;
        batch.wall = now;
        batch.mono = clock_.MonotonicNow();
        batch.values = in.values;
        batch.error = in.error;
        Record(engine_->OnSamples(batch));
        break;
      }
      case InputKind::kAlert: {
        ExternalAlert alert = in.alert;
        alert.at = now;
        alert.received = now;
        if (in.alert_ends) alert.ends_at = start_ + *in.alert_ends;
        Record(engine_->OnAlert(alert));
        break;
      }
      case InputKind::kDiagnoseDone: {
        DiagnoseResult result = in.diagnose;
        result.at = now;
        Record(engine_->OnDiagnoseDone(result));
        break;
      }
      case InputKind::kActionDone: {
        ActionResult result = in.action;
        result.at = now;
        Record(engine_->OnActionDone(result));
        break;
      }
      case InputKind::kApprove:
        Command(in, engine_->Approve(in.incident, in.action_name, in.who, now));
        break;
      case InputKind::kAck:
        Command(in, engine_->Ack(in.incident, in.who, now));
        break;
      case InputKind::kNote:
        Command(in, engine_->Note(in.incident, in.who, in.text, now));
        break;
      case InputKind::kResolve:
        Command(in, engine_->Resolve(in.incident, in.who, in.text, now));
        break;
      case InputKind::kRestart:
        break;
    }
  }

  void Record(const Output& out) {
    for (const Event& e : out.events) {
      timeline.push_back(
          fmt::format("{} #{} {} | {}", Offset(e.at - start_), e.incident_id, e.kind, e.text));
    }
    for (const Effect& e : out.effects) {
      switch (e.kind) {
        case EffectKind::kDiagnose:
          effects.push_back(
              fmt::format("{} diagnose #{} {}", Offset(Now()), e.incident_id, e.target));
          break;
        case EffectKind::kApplyAction: {
          std::string params;
          for (const auto& [k, v] : e.params) params += fmt::format(" {}={}", k, v);
          effects.push_back(fmt::format("{} apply #{} {} {} key={}{}", Offset(Now()), e.incident_id,
                                        e.target, e.action, e.key, params));
          break;
        }
        case EffectKind::kEscalate: {
          std::string contacts;
          for (const std::string& c : e.contacts) contacts += (contacts.empty() ? "" : ",") + c;
          effects.push_back(fmt::format("{} escalate #{} {} level={} rule={} contacts={}",
                                        Offset(Now()), e.incident_id, e.target, e.level, e.rule,
                                        contacts));
          break;
        }
      }
    }
    for (int64_t id : out.changed) {
      if (const Incident* incident = engine_->Find(id)) seen[id] = *incident;
    }
    // The engine's promise: never two open incidents on one target.
    std::set<std::string> targets;
    for (const Incident* incident : engine_->OpenIncidents()) {
      EXPECT_TRUE(targets.insert(incident->target).second)
          << "two open incidents on " << incident->target << " at " << Offset(Now());
    }
  }

  const Scenario& s_;
  core::SimulatedClock clock_{core::WallTime{} + std::chrono::hours(24 * 20'784)};
  core::WallTime start_;
};

// ---------------------------------------------------------------------------------------
// Final state checks
// ---------------------------------------------------------------------------------------

std::string Sorted(std::vector<std::string> items) {
  std::sort(items.begin(), items.end());
  std::string out;
  for (const std::string& i : items) out += (out.empty() ? "" : ", ") + i;
  return "[" + out + "]";
}

void CheckFinal(Reader& r, const YamlNode& final_state, const Simulation& run) {
  for (const auto& entry : final_state.entries) {
    const auto id = core::ParseInt64(entry.key);
    if (!id) {
      r.Error(entry.value, fmt::format("final: '{}' is not an incident id", entry.key));
      continue;
    }
    auto it = run.seen.find(*id);
    if (it == run.seen.end()) {
      ADD_FAILURE() << "final: incident " << *id << " was never opened";
      continue;
    }
    const Incident& inc = it->second;
    const YamlNode& want = entry.value;
    r.OnlyKeys(want,
               {"target", "phase", "severity", "escalation_level", "relapses", "diagnoses",
                "acked_by", "resolution", "triggers", "firing", "findings", "actions",
                "deadlines_missed", "escalations_fired", "prevention"},
               "final");
    const std::string where = fmt::format("final #{}: ", *id);
    auto eq = [&](std::string_view key, const std::string& actual) {
      if (const YamlNode* n = Reader::Child(want, key)) {
        EXPECT_EQ(r.Str(*n, key), actual) << where << key;
      }
    };
    auto list = [&](std::string_view key, const std::vector<std::string>& actual, bool sort) {
      if (const YamlNode* n = Reader::Child(want, key)) {
        std::vector<std::string> expected = r.List(n, key);
        if (sort) {
          EXPECT_EQ(Sorted(expected), Sorted(actual)) << where << key;
        } else {
          EXPECT_EQ(expected, actual) << where << key;
        }
      }
    };
    eq("target", inc.target);
    eq("phase", std::string(PhaseName(inc.phase)));
    eq("severity", inc.severity);
    eq("escalation_level", std::to_string(inc.escalation_level));
    eq("relapses", std::to_string(inc.relapses));
    eq("diagnoses", std::to_string(inc.diagnoses));
    eq("acked_by", inc.acked_by);
    if (const YamlNode* n = Reader::Child(want, "resolution")) {
      EXPECT_NE(inc.resolution.find(r.Str(*n, "resolution")), std::string::npos)
          << where << "resolution is '" << inc.resolution << "'";
    }
    list("triggers", inc.triggers, false);
    list("firing", {inc.firing.begin(), inc.firing.end()}, true);
    std::vector<std::string> codes;
    for (const FindingRef& f : inc.findings) codes.push_back(f.code);
    list("findings", codes, false);
    list("deadlines_missed", {inc.deadlines_missed.begin(), inc.deadlines_missed.end()}, true);
    list("escalations_fired", {inc.escalations_fired.begin(), inc.escalations_fired.end()}, true);
    list("prevention", inc.prevention, false);
    if (const YamlNode* actions = Reader::Child(want, "actions")) {
      // action: state, or state@generation
      std::map<std::string, std::string> actual;
      for (const IncidentAction& a : inc.actions) {
        actual[a.action] = fmt::format("{}@{}", ActionStateName(a.state), a.generation);
      }
      std::map<std::string, std::string> expected;
      for (const auto& a : actions->entries) {
        std::string value = r.Str(a.value, a.key);
        auto have = actual.find(a.key);
        if (value.find('@') == std::string::npos && have != actual.end()) {
          value += have->second.substr(have->second.find('@'));
        }
        expected[a.key] = value;
      }
      EXPECT_EQ(expected, actual) << where << "actions (state@generation)";
    }
  }
}

// ---------------------------------------------------------------------------------------

class ScenarioTest : public ::testing::TestWithParam<std::string> {};

TEST_P(ScenarioTest, Timeline) {
  const std::string path = ScenarioDir() + "/" + GetParam();
  std::ifstream file(path);
  ASSERT_TRUE(file.good()) << "cannot read " << path;
  std::stringstream text;
  text << file.rdbuf();
  auto doc = config::ParseYamlDocument(text.str(), GetParam());
  ASSERT_TRUE(doc.has_value()) << doc.error().ToString();

  Reader r(GetParam());
  r.OnlyKeys(*doc,
             {"description", "runbook", "targets", "next_id", "alert_ttl", "last_applied", "input",
              "end", "expect"},
             "scenario");
  Scenario s;
  const YamlNode* rb = Reader::Child(*doc, "runbook");
  ASSERT_NE(rb, nullptr) << GetParam() << ": `runbook` is missing";
  s.runbook = ReadRunbook(r, *rb);
  s.targets = r.List(Reader::Child(*doc, "targets"), "targets");
  s.next_id = r.Int(*doc, "next_id", 1);
  s.alert_ttl = r.Dur(*doc, "alert_ttl", kDefaultAlertTtl);
  if (const YamlNode* la = Reader::Child(*doc, "last_applied")) {
    for (const auto& t : la->entries) {
      for (const auto& a : t.value.entries) s.last_applied[t.key][a.key] = r.Dur(a.value, a.key);
    }
  }
  const YamlNode* input = Reader::Child(*doc, "input");
  ASSERT_NE(input, nullptr) << GetParam() << ": `input` is missing";
  ReadInputs(r, *input, s);
  s.end = r.Dur(*doc, "end", s.inputs.empty() ? core::Duration::zero() : s.inputs.back().at);
  const YamlNode* expect = Reader::Child(*doc, "expect");
  ASSERT_NE(expect, nullptr) << GetParam() << ": `expect` is missing";
  r.OnlyKeys(*expect, {"timeline", "effects", "final", "triggers", "open"}, "expect");
  const YamlNode* timeline = Reader::Child(*expect, "timeline");
  ASSERT_NE(timeline, nullptr) << GetParam()
                               << ": `expect.timeline` is missing (write [] for "
                                  "a scenario where nothing happens)";
  s.timeline = r.List(timeline, "timeline");
  if (const YamlNode* effects = Reader::Child(*expect, "effects")) {
    s.effects = r.List(effects, "effects");
  }
  if (const YamlNode* open = Reader::Child(*expect, "open")) {
    std::vector<int64_t> ids;
    for (const std::string& id : r.List(open, "open"))
      ids.push_back(core::ParseInt64(id).value_or(-1));
    s.open_incidents = ids;
  }
  ASSERT_TRUE(r.errors.empty()) << "scenario file errors:\n"
                                << fmt::format("{}", fmt::join(r.errors, "\n"));

  Simulation run(s);
  run.Go();
  ASSERT_FALSE(HasFatalFailure());

  EXPECT_TRUE(AllMatch(s.timeline, run.timeline, true))
      << GetParam() << ": timeline differs (- expected, + actual):\n"
      << Diff(s.timeline, run.timeline, true);
  if (s.effects) {
    EXPECT_TRUE(AllMatch(*s.effects, run.effects, false))
        << GetParam() << ": effects differ (- expected, + actual):\n"
        << Diff(*s.effects, run.effects, false);
  }
  if (const YamlNode* final_state = Reader::Child(*expect, "final")) {
    CheckFinal(r, *final_state, run);
  }
  if (const YamlNode* triggers = Reader::Child(*expect, "triggers")) {
    std::map<std::string, std::string> actual;
    for (const TriggerStatus& t : run.engine_->Triggers()) {
      actual[t.target + "/" + t.trigger] = std::string(TriggerStateName(t.state));
    }
    for (const auto& t : triggers->entries) {
      auto it = actual.find(t.key);
      if (it == actual.end()) {
        ADD_FAILURE() << "expect.triggers: no trigger " << t.key;
        continue;
      }
      EXPECT_EQ(r.Str(t.value, t.key), it->second) << "trigger " << t.key;
    }
  }
  if (s.open_incidents) {
    std::vector<int64_t> open;
    for (const Incident* i : run.engine_->OpenIncidents()) open.push_back(i->id);
    EXPECT_EQ(*s.open_incidents, open) << "open incidents at the end";
  }
  EXPECT_TRUE(r.errors.empty()) << fmt::format("{}", fmt::join(r.errors, "\n"));
}

std::string TestName(const ::testing::TestParamInfo<std::string>& info) {
  std::string name = fs::path(info.param).stem().string();
  for (char& c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  }
  return name;
}

INSTANTIATE_TEST_SUITE_P(Scenarios, ScenarioTest, ::testing::ValuesIn(ScenarioFiles()), TestName);

// The folder is found and holds the scenarios (an empty list would run nothing and pass).
TEST(ScenarioFiles, AreFound) {
  ASSERT_FALSE(ScenarioDir().empty()) << "DBRUNBOOK_SOURCE_DIR is not set";
  EXPECT_GE(ScenarioFiles().size(), 20u) << "in " << ScenarioDir();
}

// The harness itself can fail: a timeline that differs in one line is reported with a diff.
TEST(ScenarioHarness, DiffShowsTheDifference) {
  const std::vector<std::string> expected = {"0s #1 opened", "5m #1 deadline.missed | assess"};
  const std::vector<std::string> actual = {"0s #1 opened | incident 1 opened on db1",
                                           "5m #1 deadline.missed | deadline for investigate"};
  EXPECT_FALSE(AllMatch(expected, actual, true));
  const std::string diff = Diff(expected, actual, true);
  EXPECT_NE(diff.find("  - 5m #1 deadline.missed | assess"), std::string::npos) << diff;
  EXPECT_NE(diff.find("  + 5m #1 deadline.missed | deadline for investigate"), std::string::npos)
      << diff;
  EXPECT_TRUE(AllMatch({"300s #1 deadline.missed | assess"},
                       {"5m #1 deadline.missed | deadline for assess (5m) missed"}, true));
}

}  // namespace
}  // namespace dbrunbook::watch
