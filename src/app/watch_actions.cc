#include "app/watch_actions.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "collect/target_session.h"
#include "core/duration.h"
#include "core/strings.h"
#include "dialect/digest.h"
#include "store/store.h"

namespace dbrunbook::app {
namespace {

using Params = std::map<std::string, std::string>;

std::string Text(const nlohmann::json& doc, const char* key) {
  auto it = doc.find(key);
  return it != doc.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// "message — hint" of the document's error, or "".
std::string ErrorText(const nlohmann::json& doc) {
  auto it = doc.find("error");
  if (it == doc.end() || !it->is_object()) return {};
  const std::string message = Text(*it, "message");
  const std::string hint = Text(*it, "hint");
  return hint.empty() ? message : fmt::format("{} — {}", message, hint);
}

std::string Strings(const nlohmann::json& doc, const char* key, std::string_view separator) {
  std::vector<std::string> out;
  auto it = doc.find(key);
  if (it != doc.end() && it->is_array()) {
    for (const auto& item : *it) {
      if (item.is_string()) out.push_back(item.get<std::string>());
    }
  }
  return fmt::format("{}", fmt::join(out, separator));
}

// The runbook's parameters, typed (the runbook module checked them at load; a value that still
// does not parse refuses the action instead of running it with a default).
class ParamReader {
 public:
  explicit ParamReader(const Params& params) : params_(params) {}

  std::optional<core::Duration> Duration(const std::string& key) {
    auto it = params_.find(key);
    if (it == params_.end()) return std::nullopt;
    auto d = core::ParseDuration(it->second, /*bare_unit_seconds=*/true);
    if (!d) {
      Bad(key, it->second);
      return std::nullopt;
    }
    return *d;
  }
  std::optional<double> Number(const std::string& key) {
    auto it = params_.find(key);
    if (it == params_.end()) return std::nullopt;
    auto n = core::ParseDouble(it->second);
    if (!n) Bad(key, it->second);
    return n;
  }
  std::optional<int64_t> Count(const std::string& key) {
    auto it = params_.find(key);
    if (it == params_.end()) return std::nullopt;
    auto n = core::ParseInt64(it->second);
    if (!n || *n < 0) {
      Bad(key, it->second);
      return std::nullopt;
    }
    return n;
  }
  bool Bool(const std::string& key) {
    auto it = params_.find(key);
    if (it == params_.end()) return false;
    auto b = core::ParseBool(it->second);
    if (!b) Bad(key, it->second);
    return b.value_or(false);
  }
  std::string String(const std::string& key) {
    auto it = params_.find(key);
    return it == params_.end() ? std::string() : it->second;
  }
  // "a, b,c" -> {a, b, c}.
  std::vector<std::string> List(const std::string& key) {
    std::vector<std::string> out;
    const std::string text = String(key);
    for (std::string_view part : core::Split(text, ',')) {
      part = core::Trim(part);
      if (!part.empty()) out.emplace_back(part);
    }
    return out;
  }
  const std::string& error() const { return error_; }

 private:
  void Bad(const std::string& key, const std::string& value) {
    if (error_.empty()) {
      error_ = fmt::format("runbook parameter {}: '{}' cannot be read", key, value);
    }
  }
  const Params& params_;
  std::string error_;
};

daemon::ActionOutcome Refused(std::string detail) {
  return {watch::ActionState::kRefused, std::move(detail), ""};
}

daemon::ActionOutcome FailoverOutcome(const nlohmann::json& doc, const std::string& status) {
  const nlohmann::json& to = doc.contains("new_primary") ? doc["new_primary"] : nlohmann::json();
  const std::string replica = to.is_object() ? Text(to, "target") : std::string();
  const std::string endpoint = to.is_object() ? Text(to, "endpoint") : std::string();
  const std::string where = fmt::format("{} ({})", replica, endpoint);
  if (status == "done") {
    return {watch::ActionState::kVerified,
            fmt::format("failed over to {}: the new primary accepts writes, the old one is "
                        "fenced or down",
                        where),
            ""};
  }
  if (status == "hook_failed") {
    const std::string hook =
        doc.contains("hook") && doc["hook"].is_object() ? Text(doc["hook"], "detail") : "";
    return {watch::ActionState::kApplied,
            fmt::format("failed over to {} and verified, but the failover hook failed ({}): the "
                        "application may still use the old endpoint",
                        where, hook),
            ""};
  }
  if (status == "unverified") {
    return {watch::ActionState::kApplied,
            fmt::format("promoted {}, but not verified: {}", where, Strings(doc, "manual", "; ")),
            ""};
  }
  if (status == "rolled_back") {
    return {watch::ActionState::kFailed,
            fmt::format("failed and rolled back: {}", Strings(doc, "manual", "; ")), ""};
  }
  if (status == "failed") {
    return {watch::ActionState::kFailed,
            fmt::format("FAILED part-way; left to do by hand: {}", Strings(doc, "manual", "; ")),
            ""};
  }
  if (status == "refused") {
    return Refused(fmt::format("refused, nothing changed: {}", Strings(doc, "reasons", "; ")));
  }
  return {watch::ActionState::kFailed, fmt::format("unexpected status '{}'", status), ""};
}

daemon::ActionOutcome ScaleOutcome(const nlohmann::json& doc, const std::string& status) {
  std::string change;
  if (auto plan = doc.find("plan"); plan != doc.end() && plan->is_object()) {
    change = fmt::format("{} {} -> {}", Text(*plan, "resource"), Text(*plan, "current"),
                         Text(*plan, "proposed"));
  }
  std::string outcome;
  if (auto o = doc.find("outcome"); o != doc.end() && o->is_object()) {
    outcome = Text(*o, "detail");
  }
  if (status == "done" || status == "scheduled") {
    return {watch::ActionState::kVerified,
            fmt::format("{}: {}{}", change, status, outcome.empty() ? "" : " — " + outcome), ""};
  }
  if (status == "in_progress") {
    return {watch::ActionState::kApplied,
            fmt::format("{}: accepted, not verified yet — {}", change, outcome), ""};
  }
  if (status == "nothing_to_do") {
    return Refused(fmt::format("nothing to do: {} is already pending", change));
  }
  if (status == "refused") return Refused("refused, nothing changed: " + ErrorText(doc));
  if (status == "failed") {
    return {watch::ActionState::kFailed, fmt::format("{}: {}", change, ErrorText(doc)), ""};
  }
  return {watch::ActionState::kFailed, fmt::format("unexpected status '{}'", status), ""};
}

daemon::ActionOutcome TuneOutcome(const nlohmann::json& doc, const std::string& status) {
  std::vector<std::string> parts;
  size_t verified = 0;
  if (auto changes = doc.find("changes"); changes != doc.end() && changes->is_array()) {
    for (const auto& c : *changes) {
      const std::string state = Text(c, "status");
      if (state == "verified" || state == "pending_reboot") ++verified;
      auto value = [&](const char* key) {
        auto it = c.find(key);
        if (it == c.end() || it->is_null()) return std::string("(unset)");
        return it->is_string() ? it->get<std::string>() : it->dump();
      };
      parts.push_back(fmt::format("{} {} -> {} {}", Text(c, "variable"), value("previous"),
                                  value("value"), state));
    }
  }
  const std::string list = fmt::format("{}", fmt::join(parts, "; "));
  if (status == "done") return {watch::ActionState::kVerified, list, ""};
  if (status == "incomplete") {
    return {verified > 0 ? watch::ActionState::kApplied : watch::ActionState::kFailed, list, ""};
  }
  if (status == "nothing_to_do") {
    return Refused("nothing to do: no applicable advice from the counters (or none in `only`)");
  }
  return {watch::ActionState::kFailed, fmt::format("unexpected status '{}'", status), ""};
}

// The index each table of the run got (or why not): "dbr_c on shop.orders verified".
daemon::ActionOutcome IndexOutcome(const nlohmann::json& doc, const std::string& status) {
  std::vector<std::string> parts;
  size_t verified = 0;
  if (auto statements = doc.find("statements"); statements != doc.end() && statements->is_array()) {
    for (const auto& st : *statements) {
      if (!st.contains("tables") || !st["tables"].is_array()) continue;
      for (const auto& t : st["tables"]) {
        const auto candidate = t.find("candidate");
        if (candidate == t.end() || !candidate->is_object()) continue;
        const auto outcome = t.find("outcome");
        const std::string state = outcome != t.end() && outcome->is_object()
                                      ? Text(*outcome, "status")
                                      : std::string("not tried");
        if (state == "verified") ++verified;
        parts.push_back(fmt::format("{} on {}.{} {}", Text(*candidate, "name"), Text(t, "schema"),
                                    Text(t, "table"), state));
      }
    }
  }
  const std::string list = fmt::format("{}", fmt::join(parts, "; "));
  if (status == "done") return {watch::ActionState::kVerified, list, ""};
  if (status == "incomplete") {
    return {verified > 0 ? watch::ActionState::kApplied : watch::ActionState::kFailed, list, ""};
  }
  if (status == "nothing_to_do") return Refused("nothing to do: no missing index found");
  return {watch::ActionState::kFailed, fmt::format("unexpected status '{}'", status), ""};
}

// One full-scanning statement of the incident: its digest, default database and one real
// execution's text (never shown: it has the literals).
struct FullScan {
  std::string digest;
  std::string schema;
  std::string sql;
};

// The digests of the digest.full_scan findings of the incident's latest diagnosis, with the
// newest execution of each still in performance_schema's statement history.
core::Result<std::vector<FullScan>> FullScansOf(Env& env, const daemon::DaemonTarget& target,
                                                int64_t incident_id,
                                                const std::string& store_path) {
  auto store = store::Store::Open(store_path);
  if (!store) return core::Fail(store.error());
  auto findings = (*store)->Findings(incident_id);
  if (!findings) return core::Fail(findings.error());
  const int latest = findings->empty() ? 0 : findings->back().diagnosis;
  std::vector<FullScan> scans;
  for (const store::FindingRecord& f : *findings) {
    if (f.diagnosis != latest || f.code != "digest.full_scan") continue;
    const nlohmann::json doc = nlohmann::json::parse(f.finding_json, nullptr, false);
    if (!doc.is_object() || !doc.contains("evidence") || !doc["evidence"].is_array()) continue;
    for (const auto& row : doc["evidence"]) {
      const std::string digest = Text(row, "digest");
      if (digest.empty()) continue;
      if (std::none_of(scans.begin(), scans.end(),
                       [&](const FullScan& s) { return s.digest == digest; })) {
        scans.push_back({digest, Text(row, "schema"), ""});
      }
    }
  }
  if (scans.empty()) return scans;
  auto session = collect::OpenTargetSession(env.sessions, target.options, env.clock);
  if (!session) return core::Fail(session.error());
  std::vector<std::string> digests;
  digests.reserve(scans.size());
  for (const auto& s : scans) digests.push_back(s.digest);
  const std::string sql = dialect::StatementSamples(session->dialect, digests);
  if (sql.empty()) return std::vector<FullScan>{};
  auto rows = session->session->Query(sql);
  if (!rows) return core::Fail(rows.error());
  for (const mysql::Row& row : rows->rows) {  // newest first
    const std::string digest = row["digest"].AsText().value_or("");
    for (auto& s : scans) {
      if (s.digest != digest || !s.sql.empty()) continue;
      s.sql = row["sql_text"].AsText().value_or("");
      if (auto schema = row["schema_name"].AsText(); schema && !schema->empty()) s.schema = *schema;
    }
  }
  return scans;
}

// `mitigate index TARGET --query <sample> --db <schema> --apply` for each full-scanning
// statement of the incident with a sample, until one run added an index (max_indexes per run).
daemon::ActionOutcome RunIndex(Env& run_env, const GlobalOptions& global,
                               const daemon::DaemonTarget& target, const watch::Effect& effect,
                               ParamReader& params, const std::string& store_path) {
  MitigateIndexOptions base;
  base.selection.target = target.name;
  if (auto rows = params.Count("min_rows")) base.min_rows = *rows;
  if (auto max = params.Count("max_indexes")) base.max_indexes = static_cast<int>(*max);
  // The file may make the table-size bound stricter, never looser.
  if (auto mib = params.Count("max_table_size_mib")) {
    base.limits.max_table_bytes = std::min(base.limits.max_table_bytes, *mib << 20);
  }
  base.apply = true;
  base.format = report::Format::kJson;
  base.store_path = store_path;
  if (!params.error().empty()) return Refused(params.error());

  auto scans = FullScansOf(run_env, target, effect.incident_id, store_path);
  if (!scans)
    return Refused("cannot read the full-scanning statements: " + scans.error().ToString());
  if (scans->empty()) {
    return Refused(
        "no digest.full_scan finding in the incident's latest diagnosis: nothing to index");
  }
  std::vector<std::string> notes;
  bool sampled = false;
  for (const FullScan& scan : *scans) {
    const std::string digest = scan.digest.substr(0, 12);
    if (scan.sql.empty()) {
      notes.push_back(fmt::format("digest {}: no execution left in the statement history", digest));
      continue;
    }
    sampled = true;
    MitigateIndexOptions o = base;
    o.query = scan.sql;
    o.db = scan.schema;
    std::ostringstream out;
    std::ostringstream err;
    Env statement_env{
        run_env.clock,      run_env.sessions, run_env.environment, out, err, run_env.log, false, 0,
        run_env.working_dir};
    const int exit_code = RunMitigateIndex(statement_env, global, o);
    nlohmann::json doc = nlohmann::json::parse(out.str(), nullptr, false);
    if (!doc.is_object()) {
      notes.push_back(
          fmt::format("digest {}: its statement cannot be analysed (exit {})", digest, exit_code));
      continue;
    }
    daemon::ActionOutcome outcome = OutcomeFromDocument("index", doc, exit_code);
    if (Text(doc, "status") == "nothing_to_do") {
      notes.push_back(fmt::format("digest {}: no missing index", digest));
      continue;
    }
    outcome.detail = fmt::format("digest {}: {}", digest, outcome.detail);
    return outcome;
  }
  if (!sampled) {
    return Refused(fmt::format(
        "{}: EXPLAIN needs one real execution of the statement; enable the "
        "events_statements_history_long consumer, or run `dbrunbook mitigate index {} --query "
        "'...' --db DB`",
        fmt::join(notes, "; "), target.name));
  }
  return Refused(fmt::format("nothing to do: {}", fmt::join(notes, "; ")));
}

}  // namespace

daemon::ActionOutcome OutcomeFromDocument(const std::string& action, const nlohmann::json& doc,
                                          int exit_code) {
  if (!doc.is_object()) {
    return {watch::ActionState::kFailed,
            fmt::format("`dbrunbook mitigate {}` gave no report (exit {})", action, exit_code), ""};
  }
  const std::string status = Text(doc, "status");
  daemon::ActionOutcome outcome;
  if (status == "error") {
    // Stopped before acting (configuration, store, the replica or the cloud not reachable).
    outcome = Refused(fmt::format("not run: {}", ErrorText(doc)));
  } else if (action == "failover") {
    outcome = FailoverOutcome(doc, status);
  } else if (action == "scale-up") {
    outcome = ScaleOutcome(doc, status);
  } else if (action == "tune") {
    outcome = TuneOutcome(doc, status);
  } else if (action == "index") {
    outcome = IndexOutcome(doc, status);
  } else {
    outcome = {watch::ActionState::kFailed, fmt::format("unknown action {}", action), ""};
  }
  outcome.run_id = Text(doc, "run_id");
  return outcome;
}

daemon::ActionRunner MakeWatchActionRunner(Env& env, const GlobalOptions& global,
                                           const config::Config& config,
                                           const runbook::Runbook& runbook,
                                           const std::string& store_path) {
  GlobalOptions run_global = global;
  run_global.config_path = config.path;
  run_global.color = ColorMode::kNever;
  std::map<std::string, core::Duration> blocks;
  for (const runbook::MitigationPolicy& m : runbook.mitigations) blocks[m.action] = m.block;
  const core::Duration config_block = config.failover_block_period.value_or(core::Duration{});
  return [&env, run_global, blocks, config_block, store_path](
             const daemon::DaemonTarget& target,
             const watch::Effect& effect) -> daemon::ActionOutcome {
    std::ostringstream out;
    std::ostringstream err;
    Env run_env{env.clock, env.sessions,   env.environment, out, err, env.log, false,
                0,         env.working_dir};
    ParamReader params(effect.params);
    int exit_code = 0;
    if (effect.action == "failover") {
      MitigateFailoverOptions o;
      o.target = target.name;
      o.to = params.String("to");
      if (auto lag = params.Duration("max_lag")) o.max_lag_seconds = core::ToSeconds(*lag);
      if (auto wait = params.Duration("wait_timeout")) o.wait_timeout = *wait;
      if (auto verify = params.Duration("verify_timeout")) o.verify_timeout = *verify;
      // The larger of the runbook's block and the configuration's failover_block_period.
      auto block = blocks.find(effect.action);
      o.block_period =
          std::max(block == blocks.end() ? std::chrono::hours(1) : block->second, config_block);
      o.apply = true;
      o.format = report::Format::kJson;
      o.store_path = store_path;
      if (!params.error().empty()) return Refused(params.error());
      exit_code = RunMitigateFailover(run_env, run_global, o);
    } else if (effect.action == "scale-up") {
      MitigateScaleOptions o;
      o.target = target.name;
      if (auto c = params.String("instance_class"); !c.empty()) o.request.instance_class = c;
      o.request.min_capacity = params.Number("min_capacity");
      o.request.max_capacity = params.Number("max_capacity");
      o.request.in_maintenance_window = params.Bool("in_maintenance_window");
      if (auto wait = params.Duration("wait")) o.wait = *wait;
      if (auto poll = params.Duration("poll_interval")) o.poll_interval = *poll;
      o.apply = true;
      o.format = report::Format::kJson;
      o.store_path = store_path;
      if (!params.error().empty()) return Refused(params.error());
      exit_code = RunMitigateScaleUp(run_env, run_global, o);
    } else if (effect.action == "tune") {
      MitigateTuneOptions o;
      o.selection.target = target.name;
      if (auto interval = params.Duration("interval")) o.interval = *interval;
      o.only = params.List("only");
      o.apply = true;
      o.persist = false;
      o.format = report::Format::kJson;
      o.store_path = store_path;
      if (!params.error().empty()) return Refused(params.error());
      exit_code = RunMitigateTune(run_env, run_global, o);
    } else if (effect.action == "index") {
      return RunIndex(run_env, run_global, target, effect, params, store_path);
    } else {
      return Refused(fmt::format("the watch daemon does not run {}", effect.action));
    }
    nlohmann::json doc = nlohmann::json::parse(out.str(), nullptr, false);
    if (!doc.is_object()) {
      // Stopped before its report (the configuration cannot be loaded): its first error line.
      std::string first = err.str();
      first = first.substr(0, first.find('\n'));
      return Refused(fmt::format("not run: `dbrunbook mitigate {}` stopped (exit {}): {}",
                                 effect.action, exit_code, first));
    }
    return OutcomeFromDocument(effect.action, doc, exit_code);
  };
}

}  // namespace dbrunbook::app
