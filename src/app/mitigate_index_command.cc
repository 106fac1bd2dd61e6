// `dbrunbook mitigate index TARGET`: the top statements (a slow log's classes by Query_time sum,
// or one --query), EXPLAINed; a candidate index for each table read by a full scan or behind a
// filesort (steps/mitigate_index.h); with --apply the index added online, its progress on
// stderr, and the plan verified; every attempt in the audit store.
#include <fmt/format.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "app/commands.h"
#include "app/mitigation.h"
#include "app/targets.h"
#include "collect/target_session.h"
#include "core/text.h"
#include "digest/digest.h"
#include "report/render.h"
#include "steps/mitigate_index.h"
#include "store/store.h"

namespace dbrunbook::app {
namespace {

constexpr std::string_view kCommand = "dbrunbook mitigate index";
constexpr std::string_view kAction = "index";

std::string Clean(std::string_view text) { return core::SanitizeForTerminal(text); }

template <typename T>
nlohmann::json OrNull(const std::optional<T>& value) {
  return value ? nlohmann::json(*value) : nlohmann::json(nullptr);
}

struct Outcome {
  size_t statement = 0;
  size_t table = 0;
  steps::ApplyOutcome result;
  // False for a candidate left for a later run on purpose (the same index as an earlier
  // statement's, or over --max-indexes): it does not make the run incomplete.
  bool counted = true;
};

struct StatementRun {
  steps::StatementAdvice advice;
  std::optional<double> measured_before;
  std::optional<double> measured_after;
  std::string measure_note;
};

// status: planned, nothing_to_do, done, incomplete, error
struct Run : ActionRun {
  std::string endpoint;
  std::string source;  // what the statements came from
  std::vector<StatementRun> statements;
  std::vector<Outcome> outcomes;

  const Outcome* OutcomeFor(size_t s, size_t t) const {
    for (const auto& o : outcomes) {
      if (o.statement == s && o.table == t) return &o;
    }
    return nullptr;
  }
};

nlohmann::json PlanJson(const steps::ExplainPlan& plan) {
  nlohmann::json tables = nlohmann::json::array();
  for (const auto& t : plan.tables) {
    tables.push_back({{"table", t.table},
                      {"access_type", t.access_type},
                      {"key", OrNull(t.key)},
                      {"rows", t.rows}});
  }
  return {{"tables", tables}, {"filesort", plan.filesort}, {"temporary", plan.temporary}};
}

nlohmann::json OutcomeJson(const steps::ApplyOutcome& o) {
  return {{"status", steps::ApplyStatusName(o.status)},
          {"detail", o.detail},
          {"sql_sent", o.sql.empty() ? nlohmann::json(nullptr) : nlohmann::json(o.sql)},
          {"locking", o.locking},
          {"alter_seconds", o.seconds},
          {"rows_after", OrNull(o.rows_after)},
          {"key_after", OrNull(o.key_after)},
          {"cardinality", OrNull(o.cardinality)},
          {"plan_after", o.plan_after ? PlanJson(*o.plan_after) : nlohmann::json(nullptr)},
          {"error", o.error ? report::ErrorJson(*o.error) : nlohmann::json(nullptr)}};
}

nlohmann::json StatementsJson(const Run& r) {
  nlohmann::json out = nlohmann::json::array();
  for (size_t s = 0; s < r.statements.size(); ++s) {
    const StatementRun& sr = r.statements[s];
    const steps::StatementAdvice& a = sr.advice;
    nlohmann::json tables = nlohmann::json::array();
    for (size_t t = 0; t < a.tables.size(); ++t) {
      const steps::TableAdvice& ta = a.tables[t];
      nlohmann::json candidate = nullptr;
      if (ta.candidate) {
        nlohmann::json columns = nlohmann::json::array();
        for (size_t i = 0; i < ta.candidate->parts.size(); ++i) {
          columns.push_back(
              {{"column", ta.candidate->parts[i].column}, {"role", ta.candidate->roles[i]}});
        }
        candidate = {{"name", ta.candidate->name},
                     {"columns", columns},
                     {"avoids_filesort", ta.candidate->avoids_filesort},
                     {"sql", ta.candidate->sql},
                     {"sql_allow_locking", ta.candidate->sql_locking}};
      }
      const steps::RowsEstimate* e = t < a.estimates.size() ? &a.estimates[t] : nullptr;
      const Outcome* o = r.OutcomeFor(s, t);
      tables.push_back(
          {{"schema", ta.schema},
           {"table", ta.table},
           {"alias", ta.alias},
           {"problem", ta.problem},
           {"rows_before", ta.rows_before},
           {"candidate", candidate},
           {"skipped", ta.skipped.empty() ? nlohmann::json(nullptr) : nlohmann::json(ta.skipped)},
           {"notes", ta.notes},
           {"estimate", e != nullptr
                            ? nlohmann::json{{"rows_after", OrNull(e->rows)}, {"method", e->method}}
                            : nlohmann::json(nullptr)},
           {"outcome", o != nullptr ? OutcomeJson(o->result) : nlohmann::json(nullptr)}});
    }
    out.push_back(
        {{"source", a.input.source},
         {"db", a.input.db.empty() ? nlohmann::json(nullptr) : nlohmann::json(a.input.db)},
         {"statement", a.redacted},
         {"kind", a.shape ? nlohmann::json(steps::StatementKindName(a.shape->kind))
                          : nlohmann::json(nullptr)},
         {"notes", a.shape ? nlohmann::json(a.shape->notes) : nlohmann::json::array()},
         {"error", a.error ? report::ErrorJson(*a.error) : nlohmann::json(nullptr)},
         {"plan_before", a.plan ? PlanJson(*a.plan) : nlohmann::json(nullptr)},
         {"measured_before_seconds", OrNull(sr.measured_before)},
         {"measured_after_seconds", OrNull(sr.measured_after)},
         {"measure_note",
          sr.measure_note.empty() ? nlohmann::json(nullptr) : nlohmann::json(sr.measure_note)},
         {"tables", tables}});
  }
  return out;
}

nlohmann::json RunJson(const Run& r, const collect::TargetSession* target) {
  nlohmann::json doc = ActionEnvelopeJson(r, kAction);
  doc["endpoint"] = r.endpoint;
  doc["server"] = ServerJson(target);
  doc["source"] = r.source;
  doc["statements"] = StatementsJson(r);
  return doc;
}

std::string PlanLine(const steps::ExplainPlan& plan) {
  std::vector<std::string> parts;
  for (const auto& t : plan.tables) {
    parts.push_back(fmt::format("{} {}{} {} rows", Clean(t.table), t.access_type,
                                t.key ? " key " + Clean(*t.key) : "", t.rows));
  }
  std::string line = fmt::format("{}", fmt::join(parts, ", "));
  if (plan.filesort) line += "; filesort";
  if (plan.temporary) line += "; temporary table";
  return line;
}

size_t CandidateCount(const Run& r) {
  size_t n = 0;
  for (const auto& s : r.statements) {
    for (const auto& t : s.advice.tables) n += t.candidate ? 1 : 0;
  }
  return n;
}

std::string RenderText(const Run& r, const collect::TargetSession& target) {
  std::string headline;
  if (r.status == "planned") {
    headline = "plan — nothing was changed (add --apply to add the index)";
  } else if (r.status == "nothing_to_do") {
    headline = "no missing index found";
  } else if (r.status == "done") {
    headline = "every index added and verified";
  } else {
    headline = "not every index was added and verified (see below)";
  }
  std::string out = fmt::format("Missing indexes on {} ({}, {}): {}\n", Clean(r.target),
                                Clean(target.flavor().Name()), Clean(r.endpoint), headline);
  out += fmt::format("Statements: {}\n", Clean(r.source));
  for (size_t s = 0; s < r.statements.size(); ++s) {
    const StatementRun& sr = r.statements[s];
    const steps::StatementAdvice& a = sr.advice;
    out += fmt::format("\n{}. {}{}\n", s + 1, Clean(a.input.source),
                       a.input.db.empty() ? "" : ", db " + Clean(a.input.db));
    out += fmt::format("   statement: {}\n", Clean(a.redacted));
    if (a.error) {
      out += fmt::format("   not analysed: {}\n", Clean(a.error->message));
      if (!a.error->hint.empty()) out += fmt::format("   {}\n", Clean(a.error->hint));
      continue;
    }
    if (a.plan) out += fmt::format("   plan: {}\n", PlanLine(*a.plan));
    if (a.shape) {
      for (const auto& n : a.shape->notes) out += fmt::format("   note: {}\n", Clean(n));
    }
    if (a.tables.empty()) out += "   no full scan or sort over large tables: nothing to add\n";
    for (size_t t = 0; t < a.tables.size(); ++t) {
      const steps::TableAdvice& ta = a.tables[t];
      out += fmt::format(
          "   {}{}: {}\n", Clean(ta.alias),
          ta.schema.empty() ? "" : fmt::format(" ({}.{})", Clean(ta.schema), Clean(ta.table)),
          Clean(ta.problem));
      for (const auto& n : ta.notes) out += fmt::format("     note: {}\n", Clean(n));
      if (!ta.candidate) {
        out += fmt::format("     no index proposed: {}\n", Clean(ta.skipped));
        continue;
      }
      const steps::IndexCandidate& c = *ta.candidate;
      out +=
          fmt::format("     candidate: {} {} — {}{}\n", Clean(c.name), Clean(c.Describe()),
                      fmt::join(c.roles, ", "), c.avoids_filesort ? "; avoids the filesort" : "");
      if (t < a.estimates.size()) {
        const auto& e = a.estimates[t];
        out += fmt::format("     rows examined: {} now, {} with the index ({})\n", ta.rows_before,
                           e.rows ? fmt::format("about {}", *e.rows) : "not estimated",
                           Clean(e.method));
      }
      out += fmt::format("     sql: {};\n", Clean(c.sql));
      if (const Outcome* o = r.OutcomeFor(s, t)) {
        out += fmt::format("     -> {}: {}\n", steps::ApplyStatusName(o->result.status),
                           Clean(o->result.detail));
        if (!o->result.sql.empty()) {
          out +=
              fmt::format("        sent{}: {}; ({:.1f}s)\n",
                          o->result.locking ? " WITHOUT the online clauses (--allow-locking)" : "",
                          Clean(o->result.sql), o->result.seconds);
        }
        if (o->result.error) {
          out += fmt::format("        {}\n", Clean(o->result.error->message));
          if (!o->result.error->hint.empty()) {
            out += fmt::format("        {}\n", Clean(o->result.error->hint));
          }
        }
      }
    }
    if (sr.measured_before || sr.measured_after || !sr.measure_note.empty()) {
      out += fmt::format("   measured: {} before, {} after{}\n",
                         sr.measured_before ? fmt::format("{:.4f}s", *sr.measured_before) : "-",
                         sr.measured_after ? fmt::format("{:.4f}s", *sr.measured_after) : "-",
                         sr.measure_note.empty() ? "" : " (" + Clean(sr.measure_note) + ")");
    }
  }
  out += AuditFooter(r.warnings, r.store_path, r.run_id);
  return out;
}

int Finish(Env& env, const MitigateIndexOptions& options, Run& run,
           const collect::TargetSession* target) {
  if (options.format == report::Format::kJson) {
    env.out << report::ToJsonText(RunJson(run, target)) << "\n";
  } else if (target != nullptr && run.status != "error") {
    env.out << RenderText(run, *target);
  }
  if (run.error) {
    PrintActionError(env, kCommand, run);
  }
  return run.exit_code;
}

// The statements to examine: the top classes of the slow log(s), or --query.
core::Result<std::vector<steps::StatementInput>> ReadStatements(const MitigateIndexOptions& options,
                                                                std::string& source) {
  std::vector<steps::StatementInput> out;
  if (options.query) {
    out.push_back(steps::StatementInput{*options.query, options.db, "--query"});
    source = "--query";
    return out;
  }
  digest::DigestOptions d;
  auto result = digest::DigestFiles(options.slow_logs, d);
  if (!result) return core::Fail(result.error());
  digest::Limit limit;
  limit.count = static_cast<size_t>(options.limit);
  const digest::Ranking ranking = digest::Rank(result->aggregator, digest::OrderBy{}, limit);
  const auto& classes = result->aggregator.Classes();
  source = fmt::format("slow log {} ({} classes, the top {} by Query_time sum)",
                       fmt::join(options.slow_logs, ", "), classes.size(), ranking.top.size());
  const auto time_id = result->aggregator.AttributeId("Query_time");
  for (const auto& ranked : ranking.top) {
    const digest::ClassStats& c = classes[ranked.index];
    if (!c.sample.present) continue;
    double total = 0;
    if (time_id) {
      if (const auto* stats = c.Find(*time_id); stats != nullptr) {
        total = stats->number.sum();
      }
    }
    steps::StatementInput input;
    input.sql = c.sample.arg;
    input.db = c.sample.db.empty() ? options.db : c.sample.db;
    input.source = fmt::format("slow log class {} (Query_time sum {:.3f}s, {} calls)", ranked.rank,
                               total, c.count);
    out.push_back(std::move(input));
  }
  return out;
}

}  // namespace

int RunMitigateIndex(Env& env, const GlobalOptions& global, const MitigateIndexOptions& options) {
  if (options.query.has_value() == !options.slow_logs.empty()) {
    env.err << kCommand
            << ": give the statements to examine: --slow-log FILE (its top classes by total "
               "time) or --query SQL (with --db), one of the two\n";
    return kExitUsage;
  }
  if (options.query) {
    // One statement given by hand: one that cannot be explained is a usage error.
    if (auto shape = steps::AnalyzeStatement(*options.query, options.db); !shape) {
      env.err << kCommand << ": --query: " << Clean(shape.error().ToString()) << "\n";
      return kExitUsage;
    }
  }
  auto lookup = LookupTarget(env, global, options.selection, kCommand);
  if (!lookup) return kExitUsage;

  Run run;
  run.apply = options.apply;
  run.target = lookup->display_name;
  run.endpoint = lookup->endpoint;
  run.run_id = NewRunId(env);

  auto statements = ReadStatements(options, run.source);
  if (!statements) {
    env.err << kCommand << ": " << Clean(statements.error().ToString()) << "\n";
    return kExitUsage;
  }

  auto store = OpenAuditStore(env, options.store_path, options.apply, run.warnings);
  if (!store) {
    run.Fail("error", kExitUsage, store.error());
    return Finish(env, options, run, nullptr);
  }
  if (*store) run.store_path = (*store)->path();
  Auditor audit(env, store->get(), std::string(kAction), run.target, run.run_id, run.warnings);

  auto target = ConnectForAction(env, *lookup, options.apply, audit);
  if (!target) {
    run.Fail("error", target.error().exit_code, target.error().error);
    return Finish(env, options, run, nullptr);
  }

  steps::AdviseOptions advise;
  advise.min_rows = options.min_rows;
  for (const auto& input : *statements) {
    auto advice = steps::AdviseStatement(*target, input, advise);
    if (!advice) {
      run.Fail("error", kExitCannotAssess, advice.error());
      return Finish(env, options, run, &*target);
    }
    StatementRun sr;
    sr.advice = std::move(*advice);
    run.statements.push_back(std::move(sr));
  }

  // --measure: each SELECT with a candidate, once, before anything changes.
  auto measure = [&](StatementRun& sr, std::optional<double>& into) {
    const bool has_candidate =
        std::any_of(sr.advice.tables.begin(), sr.advice.tables.end(),
                    [](const steps::TableAdvice& t) { return t.candidate.has_value(); });
    if (!options.measure || !has_candidate) return;
    auto seconds =
        steps::MeasureSelect(*target, sr.advice.input, options.measure_timeout, env.clock);
    if (seconds) {
      into = *seconds;
    } else {
      sr.measure_note = seconds.error().message;
    }
  };
  for (auto& sr : run.statements) measure(sr, sr.measured_before);

  const size_t candidates = CandidateCount(run);
  audit.Write(store::Phase::kPlanned, "", nlohmann::json(StatementsJson(run)).dump(),
              fmt::format("{} statement(s), {} candidate index(es){}", run.statements.size(),
                          candidates, options.apply ? "" : "; dry run"),
              "");
  if (candidates == 0) {
    run.status = "nothing_to_do";
    return Finish(env, options, run, &*target);
  }
  if (!options.apply) {
    run.status = "planned";
    return Finish(env, options, run, &*target);
  }

  // Whether the server is a replica; with --allow-replica it does not matter. An account that
  // may not read the replica status cannot tell: every index is then refused (the guardrail
  // holds unless lifted on purpose).
  bool is_replica = false;
  std::optional<std::string> replica_unknown;
  if (!options.limits.allow_replica) {
    auto replica = steps::IsReplica(*target);
    if (replica) {
      is_replica = *replica;
    } else if (replica.error().code == core::ErrorCode::kPrivilege) {
      replica_unknown = fmt::format(
          "cannot tell whether the server is a replica ({}): grant REPLICATION CLIENT (MariaDB "
          "10.5+: SLAVE MONITOR), or pass --allow-replica",
          replica.error().message);
    } else {
      run.Fail("error", kExitCannotAssess, replica.error());
      return Finish(env, options, run, &*target);
    }
  }
  // A second session shows the ALTER's progress; without it the ALTER still runs.
  auto progress_target =
      collect::OpenTargetSession(env.sessions, lookup->resolved->options, env.clock);
  if (!progress_target) {
    run.warnings.push_back("no progress shown: " + progress_target.error().ToString());
  }
  steps::ApplyOptions apply;
  apply.allow_locking = options.allow_locking;

  int added = 0;
  std::vector<std::string> seen;  // schema.table.name already handled this run
  for (size_t s = 0; s < run.statements.size(); ++s) {
    StatementRun& sr = run.statements[s];
    bool any_added = false;
    for (size_t t = 0; t < sr.advice.tables.size(); ++t) {
      const steps::TableAdvice& ta = sr.advice.tables[t];
      if (!ta.candidate) continue;
      const std::string key = fmt::format("{}.{}.{}", ta.schema, ta.table, ta.candidate->name);
      const std::string subject = fmt::format("{}.{} {}", ta.schema, ta.table, ta.candidate->name);
      Outcome o{s, t, {}};
      if (std::find(seen.begin(), seen.end(), key) != seen.end()) {
        o.result.status = steps::ApplyStatus::kRefused;
        o.result.detail = "the same index as an earlier statement's: added once";
        o.counted = false;
        run.outcomes.push_back(std::move(o));
        continue;
      }
      seen.push_back(key);
      if (added >= options.max_indexes) {
        o.result.status = steps::ApplyStatus::kRefused;
        o.result.detail =
            fmt::format("over --max-indexes {}: one index build at a time; run again for the next",
                        options.max_indexes);
        o.counted = false;
        audit.Write(store::Phase::kRefused, subject, ta.candidate->sql, o.result.detail, "");
        run.outcomes.push_back(std::move(o));
        continue;
      }
      auto info = steps::ReadTableInfo(*target, ta.schema, ta.table);
      if (!info) {
        o.result.status = steps::ApplyStatus::kFailed;
        o.result.error = info.error();
        o.result.detail = "could not read the table";
        audit.Write(store::Phase::kFailed, subject, ta.candidate->sql, o.result.detail,
                    info.error().ToString());
        run.outcomes.push_back(std::move(o));
        continue;
      }
      std::optional<std::string> refused = replica_unknown;
      if (!refused) refused = steps::ApplyGuardrail(*info, is_replica, options.limits);
      if (refused) {
        o.result.status = steps::ApplyStatus::kRefused;
        o.result.detail = *refused;
        audit.Write(store::Phase::kRefused, subject, ta.candidate->sql, *refused, "");
        run.outcomes.push_back(std::move(o));
        continue;
      }
      ++added;
      apply.progress = [&env, subject](const std::string& line) {
        env.err << kCommand << ": " << Clean(subject) << ": " << Clean(line) << "\n";
      };
      o.result = steps::ApplyIndex(*target, progress_target ? &*progress_target : nullptr,
                                   sr.advice, ta, apply, env.clock);
      const std::string error = o.result.error ? o.result.error->ToString() : "";
      const std::string sent = o.result.sql.empty() ? ta.candidate->sql : o.result.sql;
      switch (o.result.status) {
        case steps::ApplyStatus::kRefused:
          audit.Write(store::Phase::kRefused, subject, sent, o.result.detail, error);
          break;
        case steps::ApplyStatus::kFailed:
          audit.Write(store::Phase::kFailed, subject, sent, o.result.detail, error);
          break;
        case steps::ApplyStatus::kNotVerified:
          audit.Write(store::Phase::kApplied, subject, sent,
                      fmt::format("index added in {:.1f}s", o.result.seconds), "");
          audit.Write(store::Phase::kFailed, subject, sent, o.result.detail, error);
          any_added = true;
          break;
        case steps::ApplyStatus::kVerified:
          audit.Write(store::Phase::kApplied, subject, sent,
                      fmt::format("index added in {:.1f}s", o.result.seconds), "");
          audit.Write(store::Phase::kVerified, subject, sent, o.result.detail, "");
          any_added = true;
          break;
      }
      run.outcomes.push_back(std::move(o));
    }
    if (any_added) measure(sr, sr.measured_after);
  }
  const bool all = std::all_of(run.outcomes.begin(), run.outcomes.end(), [](const Outcome& o) {
    return !o.counted || o.result.status == steps::ApplyStatus::kVerified;
  });
  run.status = all ? "done" : "incomplete";
  run.exit_code = all ? kExitOk : 1;
  return Finish(env, options, run, &*target);
}

}  // namespace dbrunbook::app
