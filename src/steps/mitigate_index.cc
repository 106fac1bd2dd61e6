#include "steps/mitigate_index.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cmath>
#include <nlohmann/json.hpp>
#include <thread>
#include <utility>

#include "core/strings.h"
#include "dialect/resources.h"
#include "digest/fingerprint.h"
#include "steps/mitigate_kill.h"

namespace dbrunbook::steps {
namespace {

using digest::SqlToken;
using digest::SqlTokenKind;
using Tokens = std::vector<SqlToken>;

// MySQL/MariaDB server errors an ALTER ... ADD INDEX gets.
constexpr int kErDupKeyName = 1061;
constexpr int kErParseError = 1064;
constexpr core::Duration kPollSlice = std::chrono::milliseconds(20);
// Parentheses around conditions, and JSON levels of a plan, read at most this deep.
constexpr int kMaxNesting = 64;
constexpr int kErAlterOperationNotSupported = 1845;
constexpr int kErAlterOperationNotSupportedReason = 1846;

bool Is(const SqlToken& t, std::string_view lower_word) {
  return t.kind == SqlTokenKind::kWord && core::EqualsIgnoreCase(t.text, lower_word);
}
bool IsOp(const SqlToken& t, std::string_view op) {
  return t.kind == SqlTokenKind::kOperator && t.text == op;
}

// Words that end a FROM list or a WHERE clause at depth 0.
constexpr std::array<std::string_view, 14> kClauseWords = {
    "where", "group",  "having", "order",  "limit",     "union", "for",
    "lock",  "window", "into",   "except", "intersect", "set",   "procedure"};
// Words that separate or qualify joined tables.
constexpr std::array<std::string_view, 9> kJoinWords = {
    "join", "inner", "left", "right", "cross", "natural", "straight_join", "outer", "full"};
// Words that are values, not columns, inside a compared expression.
constexpr std::array<std::string_view, 22> kValueWords = {
    "null",        "true",          "false",        "interval",
    "day",         "hour",          "minute",       "second",
    "month",       "year",          "week",         "quarter",
    "microsecond", "current_date",  "current_time", "current_timestamp",
    "utc_date",    "utc_timestamp", "localtime",    "localtimestamp",
    "binary",      "collate"};
constexpr std::array<std::string_view, 8> kTextTypes = {
    "tinytext", "text", "mediumtext", "longtext", "tinyblob", "blob", "mediumblob", "longblob"};

template <typename List>
bool InList(const List& list, std::string_view word) {
  return std::any_of(list.begin(), list.end(),
                     [&](std::string_view w) { return core::EqualsIgnoreCase(w, word); });
}

bool IsClauseWord(const SqlToken& t) {
  return t.kind == SqlTokenKind::kWord && InList(kClauseWords, t.text);
}
bool IsJoinWord(const SqlToken& t) {
  return t.kind == SqlTokenKind::kWord && InList(kJoinWords, t.text);
}

// An identifier's name: backticks removed and doubled ones undoubled.
std::string Unquote(const SqlToken& t) {
  if (t.kind != SqlTokenKind::kQuoted) return std::string(t.text);
  std::string out;
  std::string_view s = t.text.substr(1);
  if (!s.empty() && s.back() == '`') s.remove_suffix(1);
  for (size_t i = 0; i < s.size(); ++i) {
    out += s[i];
    if (s[i] == '`' && i + 1 < s.size() && s[i + 1] == '`') ++i;
  }
  return out;
}

// The index past the parenthesis matching the one at `open` (the end when unbalanced).
size_t SkipParens(const Tokens& t, size_t open, size_t end) {
  int depth = 0;
  for (size_t i = open; i < end; ++i) {
    if (t[i].kind == SqlTokenKind::kLParen) ++depth;
    if (t[i].kind == SqlTokenKind::kRParen && --depth == 0) return i + 1;
  }
  return end;
}

// The first token at depth 0 in [from, end) for which `stop` holds, else `end`.
template <typename Stop>
size_t FindAtDepth0(const Tokens& t, size_t from, size_t end, Stop stop) {
  for (size_t i = from; i < end; ++i) {
    if (t[i].kind == SqlTokenKind::kLParen) {
      i = SkipParens(t, i, end) - 1;
      continue;
    }
    if (stop(i)) return i;
  }
  return end;
}

bool IsNameToken(const SqlToken& t) {
  return t.kind == SqlTokenKind::kQuoted ||
         (t.kind == SqlTokenKind::kWord && !t.text.empty() && t.text[0] != '@');
}

// A column reference filling all of [from, end): name, a.name or db.a.name (not a function).
std::optional<ColumnRef> ColumnAt(const Tokens& t, size_t from, size_t end) {
  const size_t n = end - from;
  if (n != 1 && n != 3 && n != 5) return std::nullopt;
  for (size_t i = from; i < end; ++i) {
    const bool name_slot = (i - from) % 2 == 0;
    if (name_slot ? !IsNameToken(t[i]) : t[i].kind != SqlTokenKind::kDot) return std::nullopt;
  }
  if (t[from].kind == SqlTokenKind::kWord && InList(kValueWords, t[from].text)) {
    return std::nullopt;
  }
  ColumnRef c;
  c.column = Unquote(t[end - 1]);
  if (n >= 3) c.qualifier = Unquote(t[end - 3]);
  return c;
}

// Whether [from, end) is a value: no column, no subquery (literals, @variables, functions of
// those, arithmetic, INTERVAL ...).
bool IsValue(const Tokens& t, size_t from, size_t end) {
  if (from >= end) return false;
  for (size_t i = from; i < end; ++i) {
    const SqlToken& tok = t[i];
    if (Is(tok, "select")) return false;
    if (tok.kind == SqlTokenKind::kQuoted) return false;
    if (tok.kind == SqlTokenKind::kWord && tok.text[0] != '@') {
      const bool function = i + 1 < end && t[i + 1].kind == SqlTokenKind::kLParen;
      if (!function && !InList(kValueWords, tok.text)) return false;
    }
  }
  return true;
}

// Splits [from, end) at depth-0 commas.
std::vector<std::pair<size_t, size_t>> SplitCommas(const Tokens& t, size_t from, size_t end) {
  std::vector<std::pair<size_t, size_t>> parts;
  size_t start = from;
  for (;;) {
    const size_t comma =
        FindAtDepth0(t, start, end, [&](size_t i) { return t[i].kind == SqlTokenKind::kComma; });
    parts.emplace_back(start, comma);
    if (comma == end) break;
    start = comma + 1;
  }
  return parts;
}

class Analyzer {
 public:
  Analyzer(const Tokens& t, std::string_view default_db, StatementShape& shape)
      : t_(t), default_db_(default_db), shape_(shape) {}

  // [from, end): a condition of ANDed terms.
  void Condition(size_t from, size_t end) {
    // Nesting is bounded: each level rescans its range (and recursion uses the stack).
    auto wrapped = [&] {
      return from < end && t_[from].kind == SqlTokenKind::kLParen &&
             SkipParens(t_, from, end) == end;
    };
    int levels = 0;
    while (levels + depth_ <= kMaxNesting && wrapped()) {
      ++from;
      --end;
      ++levels;
    }
    if (from >= end) return;
    if (levels + depth_ > kMaxNesting) {
      Note("a condition nested too deeply is not analysed");
      return;
    }
    ++depth_;
    ConditionAt(from, end);
    --depth_;
  }

  void ConditionAt(size_t from, size_t end) {
    const size_t or_at = FindAtDepth0(t_, from, end, [&](size_t i) {
      return Is(t_[i], "or") || Is(t_[i], "xor") || IsOp(t_[i], "||");
    });
    if (or_at != end) {
      Note("a condition with OR is not used for the index (only ANDed terms are)");
      return;
    }
    // Split at AND / && (the AND of BETWEEN x AND y is not a split).
    size_t start = from;
    bool between = false;
    for (size_t i = from; i < end; ++i) {
      if (t_[i].kind == SqlTokenKind::kLParen) {
        i = SkipParens(t_, i, end) - 1;
        continue;
      }
      if (Is(t_[i], "between")) between = true;
      if (Is(t_[i], "and") || IsOp(t_[i], "&&")) {
        if (between && Is(t_[i], "and")) {
          between = false;
          continue;
        }
        Term(start, i);
        start = i + 1;
      }
    }
    Term(start, end);
  }

  // Tables in [from, end) (a FROM list, an UPDATE's table references).
  void Tables(size_t from, size_t end) {
    size_t i = from;
    while (i < end) {
      const SqlToken& tok = t_[i];
      if (tok.kind == SqlTokenKind::kComma || IsJoinWord(tok) ||
          tok.kind == SqlTokenKind::kRParen) {
        ++i;
        continue;
      }
      if (tok.kind == SqlTokenKind::kLParen) {
        if (i + 1 < end && Is(t_[i + 1], "select")) {
          Note("a derived table (subquery in FROM) is not analysed");
          i = SkipParens(t_, i, end);
          i = SkipAlias(i, end, nullptr);
        } else {
          ++i;  // a parenthesised join: its tables are read as they come
        }
        continue;
      }
      if (Is(tok, "on")) {
        const size_t stop = FindAtDepth0(t_, i + 1, end, [&](size_t k) {
          return t_[k].kind == SqlTokenKind::kComma || IsJoinWord(t_[k]) ||
                 t_[k].kind == SqlTokenKind::kRParen;
        });
        Condition(i + 1, stop);
        i = stop;
        continue;
      }
      if (Is(tok, "using") && i + 1 < end && t_[i + 1].kind == SqlTokenKind::kLParen) {
        const size_t close = SkipParens(t_, i + 1, end);
        if (!shape_.tables.empty()) {
          for (auto [a, b] : SplitCommas(t_, i + 2, close - 1)) {
            if (auto c = ColumnAt(t_, a, b)) {
              c->qualifier = shape_.tables.back().alias;
              shape_.predicates.push_back(Predicate{*c, PredicateKind::kJoin, {}});
            }
          }
        }
        i = close;
        continue;
      }
      if (!IsNameToken(tok)) {
        ++i;
        continue;
      }
      TableRef ref;
      ref.table = Unquote(tok);
      ref.schema = std::string(default_db_);
      ++i;
      if (i + 1 < end && t_[i].kind == SqlTokenKind::kDot && IsNameToken(t_[i + 1])) {
        ref.schema = ref.table;
        ref.table = Unquote(t_[i + 1]);
        i += 2;
      }
      ref.alias = ref.table;
      i = SkipAlias(i, end, &ref.alias);
      shape_.tables.push_back(std::move(ref));
    }
  }

  void OrderBy(size_t from, size_t end) {
    std::vector<OrderItem> items;
    for (auto [a, b] : SplitCommas(t_, from, end)) {
      OrderItem item;
      if (b > a && (Is(t_[b - 1], "asc") || Is(t_[b - 1], "desc"))) {
        item.descending = Is(t_[b - 1], "desc");
        --b;
      }
      auto c = ColumnAt(t_, a, b);
      if (!c) {
        Note("ORDER BY an expression or position: not used for the index");
        return;
      }
      item.column = *c;
      items.push_back(std::move(item));
    }
    shape_.order_by = std::move(items);
  }

 private:
  void Note(std::string note) {
    if (std::find(shape_.notes.begin(), shape_.notes.end(), note) == shape_.notes.end()) {
      shape_.notes.push_back(std::move(note));
    }
  }

  // Past an optional [AS] alias, index hints and PARTITION (...).
  size_t SkipAlias(size_t i, size_t end, std::string* alias) {
    if (i < end && Is(t_[i], "as")) ++i;
    if (i < end && IsNameToken(t_[i]) && !IsClauseWord(t_[i]) && !IsJoinWord(t_[i]) &&
        !Is(t_[i], "on") && !Is(t_[i], "using") && !Is(t_[i], "use") && !Is(t_[i], "force") &&
        !Is(t_[i], "ignore") && !Is(t_[i], "partition")) {
      if (alias != nullptr) *alias = Unquote(t_[i]);
      ++i;
    }
    while (i < end && (Is(t_[i], "use") || Is(t_[i], "force") || Is(t_[i], "ignore") ||
                       Is(t_[i], "partition"))) {
      while (i < end && t_[i].kind != SqlTokenKind::kLParen) ++i;
      i = SkipParens(t_, i, end);
    }
    return i;
  }

  static std::string_view Mirror(std::string_view op) {
    if (op == "<") return ">";
    if (op == ">") return "<";
    if (op == "<=") return ">=";
    if (op == ">=") return "<=";
    return op;
  }

  // One ANDed term in [from, end).
  void Term(size_t from, size_t end) {
    if (from < end && t_[from].kind == SqlTokenKind::kLParen && SkipParens(t_, from, end) == end) {
      Condition(from + 1, end - 1);  // a parenthesised condition: ORs and ANDs inside
      return;
    }
    if (from >= end) return;
    if (Is(t_[from], "not") || IsOp(t_[from], "!")) {
      Note("a NOT condition is not used for the index");
      return;
    }
    if (Is(t_[from], "exists")) {
      Note("a subquery condition is not analysed");
      return;
    }
    // The operator at depth 0.
    const size_t op = FindAtDepth0(t_, from, end, [&](size_t i) {
      return t_[i].kind == SqlTokenKind::kOperator || Is(t_[i], "in") || Is(t_[i], "between") ||
             Is(t_[i], "like") || Is(t_[i], "is") || Is(t_[i], "not");
    });
    if (op == end || op == from) {
      Note("a condition that is not a comparison of a column is not used");
      return;
    }
    const auto left = ColumnAt(t_, from, op);
    const SqlToken& o = t_[op];
    if (!left) {
      // value op column: mirrored.
      if (o.kind == SqlTokenKind::kOperator && IsValue(t_, from, op)) {
        if (auto right = ColumnAt(t_, op + 1, end)) Compare(*right, Mirror(o.text));
        return;
      }
      Note(
          "a condition on an expression of a column (a function, arithmetic) cannot use an "
          "index on the column");
      return;
    }
    if (o.kind == SqlTokenKind::kOperator) {
      if (auto right = ColumnAt(t_, op + 1, end)) {
        if (o.text == "=" || o.text == "<=>") {
          shape_.predicates.push_back(Predicate{*left, PredicateKind::kJoin, *right});
          shape_.predicates.push_back(Predicate{*right, PredicateKind::kJoin, *left});
        }
        return;
      }
      if (!IsValue(t_, op + 1, end)) {
        Note("a comparison with a subquery or an expression of columns is not used");
        return;
      }
      Compare(*left, o.text);
      return;
    }
    if (Is(o, "not")) {
      Note("NOT IN / NOT LIKE / NOT BETWEEN cannot use an index as a lookup");
      return;
    }
    if (Is(o, "is")) {
      if (op + 2 == end && Is(t_[op + 1], "null")) {
        shape_.predicates.push_back(Predicate{*left, PredicateKind::kEquality, {}});
      }
      return;
    }
    if (Is(o, "in")) {
      if (op + 1 < end && t_[op + 1].kind == SqlTokenKind::kLParen &&
          SkipParens(t_, op + 1, end) == end && IsValue(t_, op + 2, end - 1)) {
        shape_.predicates.push_back(Predicate{*left, PredicateKind::kIn, {}});
      } else {
        Note("IN with a subquery is not analysed");
      }
      return;
    }
    if (Is(o, "between")) {
      const size_t and_at =
          FindAtDepth0(t_, op + 1, end, [&](size_t i) { return Is(t_[i], "and"); });
      if (IsValue(t_, op + 1, and_at) && and_at < end && IsValue(t_, and_at + 1, end)) {
        shape_.predicates.push_back(Predicate{*left, PredicateKind::kRange, {}});
      }
      return;
    }
    if (Is(o, "like")) {
      const SqlToken* pattern = op + 1 < end ? &t_[op + 1] : nullptr;
      if (pattern != nullptr && pattern->kind == SqlTokenKind::kLiteral && pattern->string) {
        const std::string_view text = pattern->text;
        const size_t quote = text.find_first_of("'\"");
        const char first = quote + 1 < text.size() ? text[quote + 1] : '%';
        if (first != '%' && first != '_' && first != text[quote]) {
          shape_.predicates.push_back(Predicate{*left, PredicateKind::kLikePrefix, {}});
          return;
        }
      }
      Note("LIKE with a leading wildcard (or a non-literal pattern) cannot use an index");
    }
  }

  void Compare(const ColumnRef& column, std::string_view op) {
    if (op == "=" || op == "<=>") {
      shape_.predicates.push_back(Predicate{column, PredicateKind::kEquality, {}});
    } else if (op == "<" || op == "<=" || op == ">" || op == ">=") {
      shape_.predicates.push_back(Predicate{column, PredicateKind::kRange, {}});
    } else if (op == "!=" || op == "<>") {
      Note("a <> / != condition cannot use an index as a lookup");
    }
  }

  const Tokens& t_;
  std::string_view default_db_;
  StatementShape& shape_;
  int depth_ = 0;
};

// Where each clause of one SELECT (or UPDATE / DELETE body) starting at `from` is.
struct Clauses {
  size_t where = 0, where_end = 0;
  size_t order = 0, order_end = 0;
  bool group = false;
  bool has_where = false, has_order = false, has_union = false;
};

Clauses FindClauses(const Tokens& t, size_t from, size_t end) {
  Clauses c;
  size_t i = from;
  auto next_clause = [&](size_t k) {
    return FindAtDepth0(t, k, end, [&](size_t j) { return IsClauseWord(t[j]); });
  };
  while ((i = next_clause(i)) < end) {
    const size_t stop = next_clause(i + 1);
    if (Is(t[i], "where")) {
      c.has_where = true;
      c.where = i + 1;
      c.where_end = stop;
    } else if (Is(t[i], "group")) {
      c.group = true;
    } else if (Is(t[i], "order") && i + 1 < end && Is(t[i + 1], "by")) {
      c.has_order = true;
      c.order = i + 2;
      c.order_end = stop;
    } else if (Is(t[i], "union") || Is(t[i], "except") || Is(t[i], "intersect")) {
      c.has_union = true;
      break;
    }
    i = stop;
  }
  return c;
}

core::Error Invalid(std::string message, std::string hint = {}) {
  return core::Error{core::ErrorCode::kInvalidArgument, std::move(message), std::move(hint), 0, {}};
}

}  // namespace

std::string_view StatementKindName(StatementKind kind) {
  switch (kind) {
    case StatementKind::kSelect:
      return "select";
    case StatementKind::kUpdate:
      return "update";
    case StatementKind::kDelete:
      return "delete";
    case StatementKind::kInsertSelect:
      return "insert_select";
  }
  return "select";
}

std::string_view PredicateKindName(PredicateKind kind) {
  switch (kind) {
    case PredicateKind::kEquality:
      return "equality";
    case PredicateKind::kIn:
      return "in";
    case PredicateKind::kRange:
      return "range";
    case PredicateKind::kLikePrefix:
      return "like prefix";
    case PredicateKind::kJoin:
      return "join";
  }
  return "equality";
}

core::Result<StatementShape> AnalyzeStatement(std::string_view sql, std::string_view default_db) {
  Tokens t = digest::Tokenize(sql);
  while (!t.empty() && t.back().kind == SqlTokenKind::kSemicolon) t.pop_back();
  for (const auto& tok : t) {
    if (tok.kind == SqlTokenKind::kSemicolon) {
      return core::Fail(Invalid("several statements in one: only one statement is explained",
                                "give one statement"));
    }
  }
  size_t start = 0;
  while (start < t.size() && t[start].kind == SqlTokenKind::kLParen) ++start;
  if (start >= t.size()) return core::Fail(Invalid("an empty statement"));
  StatementShape shape;
  Analyzer analyzer(t, default_db, shape);
  const size_t end = t.size();
  const SqlToken& verb = t[start];
  size_t body = start;  // where the clauses are searched from
  if (Is(verb, "select")) {
    shape.kind = StatementKind::kSelect;
  } else if (Is(verb, "insert") || Is(verb, "replace")) {
    shape.kind = StatementKind::kInsertSelect;
    const size_t select = FindAtDepth0(t, start, end, [&](size_t i) { return Is(t[i], "select"); });
    size_t inner = select;
    if (select == end) {
      // INSERT ... (SELECT ...)
      for (size_t i = start; i < end; ++i) {
        if (Is(t[i], "select")) {
          inner = i;
          break;
        }
      }
    }
    if (inner == end) {
      return core::Fail(Invalid(
          fmt::format("{} ... VALUES reads no table: nothing to index", core::ToUpper(verb.text))));
    }
    body = inner;
  } else if (Is(verb, "update")) {
    shape.kind = StatementKind::kUpdate;
    size_t i = start + 1;
    while (i < end && (Is(t[i], "low_priority") || Is(t[i], "ignore"))) ++i;
    const size_t set = FindAtDepth0(t, i, end, [&](size_t k) { return Is(t[k], "set"); });
    analyzer.Tables(i, set);
    body = set;
  } else if (Is(verb, "delete")) {
    shape.kind = StatementKind::kDelete;
    const size_t from = FindAtDepth0(t, start, end, [&](size_t k) { return Is(t[k], "from"); });
    if (from == end) return core::Fail(Invalid("a DELETE without FROM"));
    const size_t using_at = FindAtDepth0(t, from, end, [&](size_t k) { return Is(t[k], "using"); });
    const size_t tables_from = using_at != end ? using_at + 1 : from + 1;
    const size_t stop =
        FindAtDepth0(t, tables_from, end, [&](size_t k) { return IsClauseWord(t[k]); });
    analyzer.Tables(tables_from, stop);
    body = stop;
  } else {
    return core::Fail(
        Invalid(fmt::format("a {} statement is not explained: only SELECT, UPDATE, DELETE and "
                            "INSERT ... SELECT are",
                            core::ToUpper(verb.text)),
                "give the SELECT the application runs"));
  }
  if (shape.kind == StatementKind::kSelect || shape.kind == StatementKind::kInsertSelect) {
    const size_t from = FindAtDepth0(t, body, end, [&](size_t k) { return Is(t[k], "from"); });
    if (from == end) return core::Fail(Invalid("a SELECT without FROM reads no table"));
    const size_t stop =
        FindAtDepth0(t, from + 1, end, [&](size_t k) { return IsClauseWord(t[k]); });
    analyzer.Tables(from + 1, stop);
    body = stop;
  }
  const Clauses c = FindClauses(t, body, end);
  if (c.has_where) analyzer.Condition(c.where, c.where_end);
  if (c.has_union) shape.notes.emplace_back("UNION: only the first SELECT is analysed");
  shape.group_by = c.group;
  if (c.has_order) {
    if (c.group) {
      shape.notes.emplace_back("GROUP BY with ORDER BY: the ORDER BY is not used for the index");
    } else {
      analyzer.OrderBy(c.order, c.order_end);
    }
  }
  if (shape.tables.empty()) return core::Fail(Invalid("no table found in the statement"));
  return shape;
}

// --- the plan ---------------------------------------------------------------------------------

namespace {

void WalkPlan(const nlohmann::json& node, ExplainPlan& plan, int depth = 0) {
  if (depth > kMaxNesting * 4) return;  // real plans are a few dozen levels deep
  if (node.is_array()) {
    for (const auto& item : node) WalkPlan(item, plan, depth + 1);
    return;
  }
  if (!node.is_object()) return;
  if (node.contains("table_name") && node.contains("access_type")) {
    PlanTable t;
    t.table = node["table_name"].is_string() ? node["table_name"].get<std::string>() : "";
    t.access_type = node["access_type"].is_string() ? node["access_type"].get<std::string>() : "";
    if (node.contains("key") && node["key"].is_string()) t.key = node["key"].get<std::string>();
    for (const char* field : {"rows", "rows_examined_per_scan"}) {
      if (node.contains(field) && node[field].is_number()) {
        t.rows = node[field].get<int64_t>();
        break;
      }
    }
    plan.tables.push_back(std::move(t));
  }
  for (const auto& [key, value] : node.items()) {
    if (key == "filesort" || (key == "using_filesort" && value.is_boolean() && value.get<bool>())) {
      plan.filesort = true;
    }
    if (key == "temporary_table" ||
        (key == "using_temporary_table" && value.is_boolean() && value.get<bool>())) {
      plan.temporary = true;
    }
    if (value.is_object() || value.is_array()) WalkPlan(value, plan, depth + 1);
  }
}

}  // namespace

const PlanTable* ExplainPlan::Find(std::string_view table) const {
  for (const auto& t : tables) {
    if (t.table == table) return &t;
  }
  for (const auto& t : tables) {
    if (core::EqualsIgnoreCase(t.table, table)) return &t;
  }
  return nullptr;
}

core::Result<ExplainPlan> ParseExplainJson(std::string_view json) {
  const auto doc = nlohmann::json::parse(json, nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) {
    return core::Fail(Invalid("the EXPLAIN output is not JSON"));
  }
  ExplainPlan plan;
  WalkPlan(doc, plan);
  if (plan.tables.empty()) {
    return core::Fail(Invalid("the plan reads no table (optimised away, or no matching row)"));
  }
  return plan;
}

// --- derivation -------------------------------------------------------------------------------

const ColumnInfo* TableInfo::Column(std::string_view name) const {
  for (const auto& c : columns) {
    if (core::EqualsIgnoreCase(c.name, name)) return &c;
  }
  return nullptr;
}

std::string IndexCandidate::Describe() const {
  std::vector<std::string> cols;
  cols.reserve(parts.size());
  for (const auto& p : parts) {
    cols.push_back(p.prefix ? fmt::format("{}({})", p.column, *p.prefix) : p.column);
  }
  return fmt::format("({})", fmt::join(cols, ", "));
}

std::string IndexName(const std::vector<std::string>& columns, const TableIndexes& existing) {
  std::string base = "dbr";
  for (const auto& c : columns) {
    base += '_';
    for (char ch : c) {
      const bool keep = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                        (ch >= '0' && ch <= '9') || ch == '_';
      base += keep ? ch : '_';
    }
  }
  if (base.size() > kMaxIndexNameLength) base.resize(kMaxIndexNameLength);
  auto taken = [&](const std::string& name) {
    return std::any_of(existing.indexes.begin(), existing.indexes.end(),
                       [&](const IndexInfo& i) { return core::EqualsIgnoreCase(i.name, name); });
  };
  std::string name = base;
  for (int n = 2; taken(name); ++n) {
    const std::string suffix = fmt::format("_{}", n);
    name = base.substr(0, kMaxIndexNameLength - suffix.size()) + suffix;
  }
  return name;
}

namespace {

bool SameName(std::string_view a, std::string_view b) { return core::EqualsIgnoreCase(a, b); }

const TableRef* RefFor(const StatementShape& shape, std::string_view alias) {
  for (const auto& r : shape.tables) {
    if (r.alias == alias) return &r;
  }
  for (const auto& r : shape.tables) {
    if (SameName(r.alias, alias)) return &r;
  }
  return nullptr;
}

const TableInfo* InfoFor(const std::vector<TableInfo>& tables, const TableRef& ref) {
  for (const auto& t : tables) {
    if (SameName(t.schema, ref.schema) && SameName(t.table, ref.table)) return &t;
  }
  return nullptr;
}

// Whether `column` (as written) belongs to `ref`.
bool BelongsTo(const ColumnRef& column, const TableRef& ref, const StatementShape& shape,
               const std::vector<TableInfo>& tables) {
  if (!column.qualifier.empty()) {
    return SameName(column.qualifier, ref.alias) ||
           (ref.alias == ref.table && SameName(column.qualifier, ref.table));
  }
  if (shape.tables.size() == 1) return true;
  // Unqualified with several tables: the one table that has such a column.
  int owners = 0;
  bool mine = false;
  for (const auto& r : shape.tables) {
    const TableInfo* info = InfoFor(tables, r);
    if (info != nullptr && info->Column(column.column) != nullptr) {
      ++owners;
      if (&r == &ref) mine = true;
    }
  }
  return owners == 1 && mine;
}

// Whether an existing index begins with the candidate's columns: the equality part in any
// order, then the rest in order.
const IndexInfo* CoveringIndex(const TableIndexes& indexes, const std::vector<std::string>& cols,
                               size_t equality_count) {
  for (const auto& index : indexes.indexes) {
    if (index.type != IndexType::kBtree || index.functional()) continue;
    if (index.columns.size() < cols.size()) continue;
    bool covers = true;
    for (size_t i = 0; i < cols.size() && covers; ++i) {
      if (i < equality_count) {
        covers =
            std::any_of(cols.begin(), cols.begin() + static_cast<long>(equality_count),
                        [&](const std::string& c) { return SameName(c, index.columns[i].name); });
      } else {
        covers = SameName(cols[i], index.columns[i].name);
      }
    }
    if (covers) return &index;
  }
  return nullptr;
}

bool IsTextType(std::string_view type) { return InList(kTextTypes, type); }

}  // namespace

std::vector<TableAdvice> DeriveAdvice(const StatementShape& shape, const ExplainPlan& plan,
                                      const std::vector<TableInfo>& tables, int64_t min_rows) {
  std::vector<TableAdvice> out;
  for (size_t position = 0; position < plan.tables.size(); ++position) {
    const PlanTable& pt = plan.tables[position];
    std::vector<std::string> problems;
    const bool scan = pt.access_type == "ALL" || pt.access_type == "index";
    if (scan && pt.rows >= min_rows) {
      problems.push_back(
          fmt::format("{} ({}), {} rows examined",
                      pt.access_type == "ALL" ? "full table scan" : "full index scan",
                      pt.access_type, pt.rows));
    }
    // A sort or temporary table is the first table's doing.
    const bool sorts = position == 0 && (plan.filesort || plan.temporary) && pt.rows >= min_rows;
    if (sorts) {
      problems.emplace_back(plan.filesort && plan.temporary ? "filesort with a temporary table"
                            : plan.filesort                 ? "filesort"
                                                            : "temporary table");
    }
    if (problems.empty()) continue;
    TableAdvice advice;
    advice.alias = pt.table;
    advice.problem = fmt::format("{}", fmt::join(problems, "; "));
    advice.rows_before = pt.rows;
    const TableRef* ref = RefFor(shape, pt.table);
    const TableInfo* info = ref != nullptr ? InfoFor(tables, *ref) : nullptr;
    if (ref != nullptr && ref->schema.empty()) {
      advice.table = ref->table;
      advice.skipped = "its database is not known (no default database): give --db";
      out.push_back(std::move(advice));
      continue;
    }
    if (ref == nullptr || info == nullptr) {
      advice.table = pt.table;
      advice.skipped = "not a base table of the statement (a derived or temporary table)";
      out.push_back(std::move(advice));
      continue;
    }
    advice.schema = info->schema;
    advice.table = info->table;

    // Columns by role, each once, in the order the statement gives them.
    std::vector<std::string> eq;
    std::vector<std::string> in;
    std::vector<std::string> range;
    auto add = [](std::vector<std::string>& list, const std::string& column) {
      if (std::none_of(list.begin(), list.end(),
                       [&](const std::string& c) { return SameName(c, column); })) {
        list.push_back(column);
      }
    };
    auto known = [&](const std::string& column) {
      if (info->Column(column) != nullptr) return true;
      advice.notes.push_back(
          fmt::format("column {} not found in {}.{}", column, info->schema, info->table));
      return false;
    };
    for (const auto& p : shape.predicates) {
      if (!BelongsTo(p.column, *ref, shape, tables) || !known(p.column.column)) continue;
      switch (p.kind) {
        case PredicateKind::kEquality:
          add(eq, p.column.column);
          break;
        case PredicateKind::kJoin:
          // An equality once the other table is read: only for a table read after another.
          if (position > 0) add(eq, p.column.column);
          break;
        case PredicateKind::kIn:
          add(in, p.column.column);
          break;
        case PredicateKind::kRange:
        case PredicateKind::kLikePrefix:
          add(range, p.column.column);
          break;
      }
    }
    auto contains = [](const std::vector<std::string>& list, const std::string& column) {
      return std::any_of(list.begin(), list.end(),
                         [&](const std::string& c) { return SameName(c, column); });
    };
    std::erase_if(in, [&](const std::string& c) { return contains(eq, c); });
    std::erase_if(range, [&](const std::string& c) { return contains(eq, c) || contains(in, c); });

    std::vector<std::string> cols = eq;
    std::vector<std::string> roles(eq.size(), "equality");
    for (const auto& c : in) {
      cols.push_back(c);
      roles.emplace_back("in");
    }
    const size_t equality_count = cols.size();

    // ORDER BY: usable when every item is a column of this table, in one direction, and this
    // table is read first.
    std::vector<std::string> order;
    bool order_usable = !shape.order_by.empty() && position == 0;
    for (const auto& item : shape.order_by) {
      if (!BelongsTo(item.column, *ref, shape, tables) ||
          item.descending != shape.order_by.front().descending) {
        order_usable = false;
      }
      order.push_back(item.column.column);
    }
    // Columns fixed by an equality need no ordering.
    std::erase_if(order, [&](const std::string& c) { return contains(eq, c); });
    bool avoids_filesort = false;
    if (order_usable && !order.empty() && !in.empty()) {
      advice.notes.emplace_back("ORDER BY after an IN list still sorts: not added to the index");
      order_usable = false;
    }
    if (!range.empty()) {
      cols.push_back(range.front());
      roles.emplace_back("range");
      if (range.size() > 1) {
        advice.notes.push_back(fmt::format("only one range column can be used: {} (not {})",
                                           range.front(),
                                           fmt::join(range.begin() + 1, range.end(), ", ")));
      }
      if (order_usable && !order.empty()) {
        if (SameName(order.front(), range.front())) {
          for (size_t i = 1; i < order.size(); ++i) {
            cols.push_back(order[i]);
            roles.emplace_back("order by");
          }
          avoids_filesort = true;
        } else {
          advice.notes.emplace_back(
              "ORDER BY on other columns than the range: the sort stays after the range");
        }
      }
    } else if (order_usable && !order.empty()) {
      for (const auto& c : order) {
        if (contains(cols, c)) continue;
        cols.push_back(c);
        roles.emplace_back("order by");
      }
      avoids_filesort = true;
    } else if (order_usable && order.empty() && !shape.order_by.empty()) {
      avoids_filesort = true;  // every ORDER BY column is fixed by an equality
    }

    // TEXT / BLOB columns need a prefix length: cut the key there.
    for (size_t i = 0; i < cols.size(); ++i) {
      const ColumnInfo* column = info->Column(cols[i]);
      if (column != nullptr && IsTextType(column->data_type)) {
        advice.notes.push_back(fmt::format(
            "column {} is {}: an index on it needs a prefix length ({}(N)), which dbrunbook "
            "does not choose; the key stops before it",
            cols[i], column->data_type, cols[i]));
        cols.resize(i);
        roles.resize(i);
        avoids_filesort = false;  // the ORDER BY columns (or an equality before them) are cut
        break;
      }
    }
    // InnoDB's key length limit (DYNAMIC / COMPRESSED rows; 767 bytes for COMPACT / REDUNDANT).
    int64_t bytes = 0;
    for (size_t i = 0; i < cols.size(); ++i) {
      const ColumnInfo* column = info->Column(cols[i]);
      bytes += column != nullptr && column->octet_length ? *column->octet_length : 8;
      if (bytes > kInnodbMaxKeyBytes) {
        advice.notes.push_back(fmt::format(
            "the key would pass InnoDB's {} bytes at column {} ({} bytes so far): it stops "
            "before it",
            kInnodbMaxKeyBytes, cols[i], bytes));
        cols.resize(i);
        roles.resize(i);
        avoids_filesort = false;
        break;
      }
    }
    if (cols.empty()) {
      advice.skipped = advice.notes.empty()
                           ? "no condition or ORDER BY on this table that an index can serve"
                           : "no column left that an index can serve (see the notes)";
      out.push_back(std::move(advice));
      continue;
    }
    if (!scan && !avoids_filesort) {
      advice.skipped = "the table is already read by an index; a new one would not avoid the sort";
      out.push_back(std::move(advice));
      continue;
    }
    if (const IndexInfo* covering =
            CoveringIndex(info->indexes, cols, std::min(equality_count, cols.size()))) {
      advice.skipped =
          covering->visible
              ? fmt::format(
                    "index {} ({}) already begins with these columns; the optimizer did "
                    "not choose it (stale statistics? try ANALYZE TABLE)",
                    covering->name, covering->DescribeColumns())
              : fmt::format(
                    "index {} ({}) already begins with these columns but is invisible "
                    "(ignored): make it visible instead",
                    covering->name, covering->DescribeColumns());
      out.push_back(std::move(advice));
      continue;
    }
    IndexCandidate candidate;
    for (const auto& c : cols) {
      const ColumnInfo* column = info->Column(c);
      candidate.parts.push_back(dialect::KeyPart{column != nullptr ? column->name : c, {}});
    }
    std::vector<std::string> names;
    names.reserve(candidate.parts.size());
    for (const auto& p : candidate.parts) names.push_back(p.column);
    candidate.roles = roles;
    candidate.avoids_filesort = avoids_filesort && plan.filesort;
    candidate.name = IndexName(names, info->indexes);
    candidate.sql =
        dialect::AddIndex(info->schema, info->table, candidate.name, candidate.parts, true);
    candidate.sql_locking =
        dialect::AddIndex(info->schema, info->table, candidate.name, candidate.parts, false);
    advice.candidate = std::move(candidate);
    out.push_back(std::move(advice));
  }
  return out;
}

// --- reading ----------------------------------------------------------------------------------

namespace {

core::Result<mysql::ResultSet> Run(collect::TargetSession& target, const std::string& sql,
                                   std::string_view what) {
  if (sql.empty()) {
    return core::Fail(Invalid(fmt::format("{}: a name that cannot be written safely", what)));
  }
  auto r = target.session->Query(sql);
  if (!r) return core::Fail(r.error().WithContext(std::string(what)));
  return r;
}

bool IsLost(const core::Error& e) {
  return e.code == core::ErrorCode::kUnavailable || e.code == core::ErrorCode::kTimeout;
}

core::Result<ExplainPlan> Explain(collect::TargetSession& target, const StatementInput& input) {
  if (!input.db.empty()) {
    auto used = Run(target, dialect::UseSchema(input.db), "USE the statement's database");
    if (!used) return core::Fail(used.error());
  }
  const std::string sql = dialect::ExplainJson(target.dialect, input.sql);
  if (sql.empty()) {
    return core::Fail(core::Error{core::ErrorCode::kUnsupported,
                                  "this server has no EXPLAIN FORMAT=JSON",
                                  "MySQL 5.6.5+ or MariaDB 10.1.2+ is needed",
                                  0,
                                  {}});
  }
  auto r = Run(target, sql, "EXPLAIN the statement");
  if (!r && r.error().server_errno == kErParseError) {
    // The server's message quotes the statement near the error, literals included.
    core::Error e = r.error();
    e.message =
        "EXPLAIN the statement: the server could not parse it (error 1064; its message "
        "quotes the statement and is not shown)";
    e.hint = "check the statement: a slow log may cut long statements";
    return core::Fail(e);
  }
  if (!r) return core::Fail(r.error());
  if (r->rows.empty()) return core::Fail(Invalid("EXPLAIN returned no row"));
  auto text = r->rows[0].at(0).AsText();
  if (!text) return core::Fail(Invalid("EXPLAIN returned NULL"));
  return ParseExplainJson(*text);
}

}  // namespace

core::Result<TableInfo> ReadTableInfo(collect::TargetSession& target, std::string_view schema,
                                      std::string_view table) {
  TableInfo info;
  info.schema = std::string(schema);
  info.table = std::string(table);
  const std::string where = fmt::format("{}.{}", schema, table);
  auto facts = Run(target, dialect::TableFacts(schema, table), "read the table's size");
  if (!facts) return core::Fail(facts.error());
  if (facts->rows.empty()) {
    return core::Fail(core::Error{
        core::ErrorCode::kNotFound, fmt::format("table {} not found", where), "", 0, {}});
  }
  const auto& row = facts->rows[0];
  info.engine = row["engine"].StringOr("");
  info.rows_estimate = row["table_rows"].AsInt64().value_or(0);
  info.bytes = row["data_length"].AsInt64().value_or(0) + row["index_length"].AsInt64().value_or(0);
  auto columns = Run(target, dialect::TableColumns(schema, table), "read the table's columns");
  if (!columns) return core::Fail(columns.error());
  for (const auto& r : columns->rows) {
    info.columns.push_back(ColumnInfo{r["column_name"].StringOr(""), r["data_type"].StringOr(""),
                                      r["octet_length"].AsInt64()});
  }
  auto indexes =
      Run(target, dialect::IndexColumnsOf(target.dialect, schema, table), "read the indexes");
  if (!indexes) return core::Fail(indexes.error());
  auto grouped = GroupIndexColumns(*indexes);
  if (!grouped.empty()) info.indexes = std::move(grouped.front());
  info.indexes.schema = info.schema;
  info.indexes.table = info.table;
  info.indexes.engine = info.engine;
  return info;
}

core::Result<StatementAdvice> AdviseStatement(collect::TargetSession& target,
                                              const StatementInput& input,
                                              const AdviseOptions& options) {
  StatementAdvice advice;
  advice.input = input;
  advice.redacted = RedactStatement(input.sql);
  auto shape = AnalyzeStatement(input.sql, input.db);
  if (!shape) {
    advice.error = shape.error();
    return advice;
  }
  advice.shape = std::move(*shape);
  auto plan = Explain(target, input);
  if (!plan) {
    if (IsLost(plan.error())) return core::Fail(plan.error());
    advice.error = plan.error();
    return advice;
  }
  advice.plan = std::move(*plan);
  std::vector<TableInfo> tables;
  for (const auto& ref : advice.shape->tables) {
    if (ref.schema.empty()) continue;
    auto info = ReadTableInfo(target, ref.schema, ref.table);
    if (!info) {
      if (IsLost(info.error())) return core::Fail(info.error());
      continue;  // a view, a temporary table, ...: no advice for it
    }
    tables.push_back(std::move(*info));
  }
  advice.tables = DeriveAdvice(*advice.shape, *advice.plan, tables, options.min_rows);
  for (const auto& t : advice.tables) {
    RowsEstimate estimate;
    std::vector<std::string> eq;
    if (t.candidate) {
      for (size_t i = 0; i < t.candidate->parts.size(); ++i) {
        if (t.candidate->roles[i] == "equality") eq.push_back(t.candidate->parts[i].column);
      }
    }
    const TableInfo* info = nullptr;
    for (const auto& ti : tables) {
      if (SameName(ti.schema, t.schema) && SameName(ti.table, t.table)) info = &ti;
    }
    if (!t.candidate) {
      estimate.method = "no candidate";
    } else if (eq.empty() || info == nullptr) {
      estimate.method = "not estimated: no equality column (a range's rows depend on its bounds)";
    } else {
      auto sampled =
          Run(target, dialect::SampledDistinct(t.schema, t.table, eq, options.sample_rows),
              "estimate the candidate's selectivity");
      if (!sampled) {
        if (IsLost(sampled.error())) return core::Fail(sampled.error());
        estimate.method = "not estimated: " + sampled.error().message;
      } else if (!sampled->rows.empty()) {
        const int64_t read = sampled->rows[0]["sampled"].AsInt64().value_or(0);
        const int64_t distinct = sampled->rows[0]["distinct_values"].AsInt64().value_or(0);
        const int64_t table_rows = std::max(info->rows_estimate, read);
        if (distinct > 0) {
          estimate.rows =
              std::max<int64_t>(1, static_cast<int64_t>(std::ceil(static_cast<double>(table_rows) /
                                                                  static_cast<double>(distinct))));
          estimate.method = fmt::format(
              "table rows / distinct values of the equality columns, counted with "
              "COUNT(DISTINCT) over {} row(s){}",
              read, read < table_rows ? " (a sample: rather too high than too low)" : "");
        } else {
          estimate.method = "not estimated: no non-NULL value in the sample";
        }
      }
    }
    advice.estimates.push_back(std::move(estimate));
  }
  return advice;
}

// --- guardrails and execution -----------------------------------------------------------------

std::optional<std::string> ApplyGuardrail(const TableInfo& table, bool is_replica,
                                          const ApplyLimits& limits) {
  if (is_replica && !limits.allow_replica) {
    return "the server is a replica: an index added there only diverges it from its source "
           "(add it on the source; --allow-replica to add it here anyway)";
  }
  if (table.bytes > limits.max_table_bytes && !limits.allow_large) {
    return fmt::format(
        "{}.{} holds {} bytes ({:.1f} MiB) of data and indexes, above --max-table-size {} "
        "bytes: building an index reads all of it and writes a new B-tree (--allow-large to "
        "add it anyway)",
        table.schema, table.table, table.bytes, static_cast<double>(table.bytes) / (1 << 20),
        limits.max_table_bytes);
  }
  return std::nullopt;
}

core::Result<bool> IsReplica(collect::TargetSession& target) {
  auto r = Run(target, target.dialect.ReplicaStatus(), "read the replica status");
  if (!r) return core::Fail(r.error());
  return !r->rows.empty();
}

namespace {

core::Status SetTimeout(collect::TargetSession& target, core::Duration timeout) {
  for (const auto& sql : target.dialect.SessionSetup(timeout)) {
    auto r = target.session->Query(sql);
    if (!r) return core::Fail(r.error());
  }
  return core::Ok();
}

}  // namespace

core::Result<double> MeasureSelect(collect::TargetSession& target, const StatementInput& input,
                                   core::Duration timeout, core::Clock& clock) {
  auto shape = AnalyzeStatement(input.sql, input.db);
  if (!shape) return core::Fail(shape.error());
  if (shape->kind != StatementKind::kSelect) {
    return core::Fail(
        Invalid("only a SELECT is measured (running the statement would change data)"));
  }
  if (!input.db.empty()) {
    auto used = Run(target, dialect::UseSchema(input.db), "USE the statement's database");
    if (!used) return core::Fail(used.error());
  }
  if (auto set = SetTimeout(target, timeout); !set) return core::Fail(set.error());
  const core::MonoTime start = clock.MonotonicNow();
  auto r = target.session->Query(input.sql);
  const double seconds = core::ToSeconds(clock.MonotonicNow() - start);
  (void)SetTimeout(target, dialect::Dialect::kDefaultStatementTimeout);
  if (!r) return core::Fail(r.error().WithContext("measure the statement"));
  return seconds;
}

std::string_view ApplyStatusName(ApplyStatus status) {
  switch (status) {
    case ApplyStatus::kVerified:
      return "verified";
    case ApplyStatus::kNotVerified:
      return "not_verified";
    case ApplyStatus::kFailed:
      return "failed";
    case ApplyStatus::kRefused:
      return "refused";
  }
  return "failed";
}

namespace {

// Polls the ALTER's progress from `progress` until `done`.
class ProgressPoller {
 public:
  ProgressPoller(collect::TargetSession* progress, uint64_t connection_id,
                 const ApplyOptions& options)
      : done_(false) {
    if (progress == nullptr || !options.progress) return;
    const std::string sql = dialect::AlterProgress(progress->dialect, connection_id);
    if (sql.empty()) return;
    thread_ = std::thread([this, progress, sql, &options] {
      std::string last;
      while (!done_.load()) {
        // Sleep in short slices: Stop() must not wait a whole interval.
        for (auto slept = core::Duration::zero(); slept < options.poll_interval && !done_.load();
             slept += kPollSlice) {
          std::this_thread::sleep_for(kPollSlice);
        }
        if (done_.load()) break;
        auto r = progress->session->Query(sql);
        if (!r || r->rows.empty()) continue;
        const auto& row = r->rows[0];
        std::string line;
        const auto stage = row["stage"].AsInt64();
        const auto max_stage = row["max_stage"].AsInt64();
        const auto percent = row["progress"].AsDouble();
        if (stage && max_stage && *max_stage > 0) {
          line = fmt::format("stage {} of {}", *stage, *max_stage);
        }
        if (percent) line += fmt::format("{}{:.1f}%", line.empty() ? "" : ", ", *percent);
        const std::string state = row["state"].StringOr("");
        if (!state.empty()) line += fmt::format("{}{}", line.empty() ? "" : " — ", state);
        if (!line.empty() && line != last) {
          options.progress(line);
          last = line;
        }
      }
    });
  }
  ProgressPoller(const ProgressPoller&) = delete;
  ProgressPoller& operator=(const ProgressPoller&) = delete;
  ~ProgressPoller() { Stop(); }
  void Stop() {
    done_.store(true);
    if (thread_.joinable()) thread_.join();
  }

 private:
  std::atomic<bool> done_;
  std::thread thread_;
};

core::Error AlterError(const core::Error& error, bool online) {
  core::Error e = error;
  const int n = error.server_errno;
  if (online && (n == kErAlterOperationNotSupported || n == kErAlterOperationNotSupportedReason)) {
    e.hint =
        "the server cannot add this index online (it would copy the table or block writes); "
        "--allow-locking sends it without ALGORITHM=INPLACE, LOCK=NONE — writes may wait while "
        "it runs: choose a quiet moment, or use pt-online-schema-change / gh-ost";
  } else if (n == kErDupKeyName) {
    e.hint = "an index of that name was created meanwhile: plan again";
  } else if (error.code == core::ErrorCode::kPrivilege) {
    e.hint = "adding an index needs the ALTER and INDEX privileges on the table";
  }
  return e;
}

}  // namespace

ApplyOutcome ApplyIndex(collect::TargetSession& target, collect::TargetSession* progress_target,
                        const StatementAdvice& statement, const TableAdvice& advice,
                        const ApplyOptions& options, core::Clock& clock) {
  ApplyOutcome o;
  const IndexCandidate& c = *advice.candidate;
  // Re-check: the name still free, no covering index added meanwhile.
  auto now = ReadTableInfo(target, advice.schema, advice.table);
  if (!now) {
    o.status = ApplyStatus::kFailed;
    o.error = now.error();
    o.detail = "could not re-read the table before the ALTER";
    return o;
  }
  if (now->indexes.Find(c.name) != nullptr) {
    o.status = ApplyStatus::kRefused;
    o.detail = fmt::format("an index named {} exists now: not added (plan again)", c.name);
    return o;
  }
  std::vector<std::string> cols;
  cols.reserve(c.parts.size());
  for (const auto& p : c.parts) cols.push_back(p.column);
  size_t equality = 0;
  while (equality < c.roles.size() &&
         (c.roles[equality] == "equality" || c.roles[equality] == "in")) {
    ++equality;
  }
  if (const IndexInfo* covering = CoveringIndex(now->indexes, cols, equality)) {
    o.status = ApplyStatus::kRefused;
    o.detail = fmt::format("index {} ({}) covering these columns exists now: not added",
                           covering->name, covering->DescribeColumns());
    return o;
  }
  o.locking = options.allow_locking;
  o.sql = options.allow_locking ? c.sql_locking : c.sql;
  // An index build takes as long as it takes: no statement time limit on this session.
  if (auto set = SetTimeout(target, core::Duration::zero()); !set) {
    o.status = ApplyStatus::kFailed;
    o.error = set.error();
    o.detail = "could not lift the statement time limit for the ALTER";
    o.sql.clear();
    return o;
  }
  const core::MonoTime start = clock.MonotonicNow();
  core::Result<mysql::ResultSet> altered;
  {
    ProgressPoller poller(progress_target, target.session->info().connection_id, options);
    altered = target.session->Query(o.sql);
    o.seconds = core::ToSeconds(clock.MonotonicNow() - start);
    poller.Stop();
  }
  (void)SetTimeout(target, dialect::Dialect::kDefaultStatementTimeout);
  if (!altered) {
    o.status = ApplyStatus::kFailed;
    o.error = AlterError(altered.error(), !options.allow_locking);
    o.detail = "the server refused the ALTER";
    return o;
  }
  // Verify: the plan uses the new index and examines fewer rows.
  auto after = Explain(target, statement.input);
  if (!after) {
    o.status = ApplyStatus::kNotVerified;
    o.error = after.error();
    o.detail = "the index was added, but the statement could not be explained again";
    return o;
  }
  o.plan_after = *after;
  if (const PlanTable* t = after->Find(advice.alias)) {
    o.rows_after = t->rows;
    o.key_after = t->key;
  }
  if (auto info = ReadTableInfo(target, advice.schema, advice.table)) {
    if (const IndexInfo* added = info->indexes.Find(c.name)) o.cardinality = added->cardinality();
  }
  const bool uses = o.key_after && SameName(*o.key_after, c.name);
  const bool fewer = o.rows_after && *o.rows_after < advice.rows_before;
  // An index for the ORDER BY may leave the rows as they were and remove the sort.
  const bool sort_gone = c.avoids_filesort && !after->filesort;
  if (uses && (fewer || sort_gone)) {
    o.status = ApplyStatus::kVerified;
    o.detail =
        fmt::format("the plan uses {}: {} rows examined instead of {}{}", c.name,
                    o.rows_after.value_or(0), advice.rows_before, sort_gone ? ", no filesort" : "");
  } else {
    o.status = ApplyStatus::kNotVerified;
    o.detail =
        fmt::format("the index was added, but the plan {} ({} rows examined, {} before)",
                    uses ? "still examines as many rows"
                         : fmt::format("uses {} instead", o.key_after.value_or("no index")),
                    o.rows_after ? fmt::format("{}", *o.rows_after) : "?", advice.rows_before);
  }
  return o;
}

}  // namespace dbrunbook::steps
