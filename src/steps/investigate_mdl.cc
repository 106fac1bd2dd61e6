#include "steps/investigate_mdl.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <deque>
#include <set>
#include <utility>

#include "core/duration.h"
#include "core/strings.h"
#include "core/text.h"
#include "dialect/mdl.h"
#include "steps/grants.h"

namespace dbrunbook::steps {
namespace mdl {
namespace {

// --- lock compatibility -----------------------------------------------------------------
//
// The server's own matrices (sql/mdl.cc of MySQL 8.0 and MariaDB 10.11): for a requested
// type, the granted types of OTHER sessions that keep it waiting, and the pending types
// (requests already queued, whatever their order) that it must let go first. Types are
// space-separated; "*" is every type.
struct MatrixRow {
  std::string_view request;
  std::string_view blocked_by_granted;
  std::string_view blocked_by_pending;
};

// Per-object locks (TABLE, FUNCTION, PROCEDURE, TRIGGER, EVENT, ...).
constexpr std::array<MatrixRow, 10> kObjectMatrix = {{
    {"SHARED", "EXCLUSIVE", "EXCLUSIVE"},
    {"SHARED_HIGH_PRIO", "EXCLUSIVE", ""},
    {"SHARED_READ", "SHARED_NO_READ_WRITE EXCLUSIVE", "SHARED_NO_READ_WRITE EXCLUSIVE"},
    {"SHARED_WRITE", "SHARED_READ_ONLY SHARED_NO_WRITE SHARED_NO_READ_WRITE EXCLUSIVE",
     "SHARED_NO_WRITE SHARED_NO_READ_WRITE EXCLUSIVE"},
    {"SHARED_WRITE_LOW_PRIO", "SHARED_READ_ONLY SHARED_NO_WRITE SHARED_NO_READ_WRITE EXCLUSIVE",
     "SHARED_READ_ONLY SHARED_NO_WRITE SHARED_NO_READ_WRITE EXCLUSIVE"},
    {"SHARED_UPGRADABLE", "SHARED_UPGRADABLE SHARED_NO_WRITE SHARED_NO_READ_WRITE EXCLUSIVE",
     "EXCLUSIVE"},
    {"SHARED_READ_ONLY", "SHARED_WRITE SHARED_WRITE_LOW_PRIO SHARED_NO_READ_WRITE EXCLUSIVE",
     "SHARED_WRITE SHARED_NO_READ_WRITE EXCLUSIVE"},
    {"SHARED_NO_WRITE",
     "SHARED_WRITE SHARED_WRITE_LOW_PRIO SHARED_UPGRADABLE SHARED_NO_WRITE SHARED_NO_READ_WRITE "
     "EXCLUSIVE",
     "EXCLUSIVE"},
    {"SHARED_NO_READ_WRITE",
     "SHARED_READ SHARED_WRITE SHARED_WRITE_LOW_PRIO SHARED_UPGRADABLE SHARED_READ_ONLY "
     "SHARED_NO_WRITE SHARED_NO_READ_WRITE EXCLUSIVE",
     "EXCLUSIVE"},
    {"EXCLUSIVE", "*", ""},
}};

// Scoped locks (GLOBAL, SCHEMA, COMMIT, TABLESPACE, MySQL's BACKUP LOCK ...): IX for
// statements that change data or metadata, S for FLUSH TABLES WITH READ LOCK, X for DROP
// DATABASE and the like.
constexpr std::array<MatrixRow, 3> kScopedMatrix = {{
    {"INTENTION_EXCLUSIVE", "SHARED EXCLUSIVE", "SHARED EXCLUSIVE"},
    {"SHARED", "INTENTION_EXCLUSIVE EXCLUSIVE", "EXCLUSIVE"},
    {"EXCLUSIVE", "INTENTION_EXCLUSIVE SHARED EXCLUSIVE", ""},
}};

// MariaDB 10.4+ BACKUP namespace (FLUSH TABLES WITH READ LOCK takes FTWRL1/FTWRL2, BACKUP
// STAGE the START..BLOCK_DDL stages, DML and DDL their own kinds).
constexpr std::array<MatrixRow, 14> kBackupMatrix = {{
    {"BACKUP_START",
     "BACKUP_START BACKUP_FLUSH BACKUP_WAIT_FLUSH BACKUP_WAIT_DDL BACKUP_WAIT_COMMIT "
     "BACKUP_BLOCK_DDL",
     "BACKUP_FLUSH BACKUP_WAIT_FLUSH BACKUP_WAIT_DDL BACKUP_WAIT_COMMIT BACKUP_BLOCK_DDL"},
    {"BACKUP_FLUSH", "BACKUP_START", ""},
    {"BACKUP_WAIT_FLUSH", "BACKUP_START BACKUP_DML", ""},
    {"BACKUP_WAIT_DDL", "BACKUP_START BACKUP_DML BACKUP_DDL", ""},
    {"BACKUP_WAIT_COMMIT", "BACKUP_START BACKUP_DML BACKUP_SYS_DML BACKUP_DDL BACKUP_COMMIT", ""},
    {"BACKUP_FTWRL1", "BACKUP_DML BACKUP_TRANS_DML BACKUP_SYS_DML BACKUP_DDL BACKUP_ALTER_COPY",
     ""},
    {"BACKUP_FTWRL2",
     "BACKUP_DML BACKUP_TRANS_DML BACKUP_SYS_DML BACKUP_DDL BACKUP_ALTER_COPY BACKUP_COMMIT", ""},
    {"BACKUP_DML",
     "BACKUP_FLUSH BACKUP_WAIT_FLUSH BACKUP_WAIT_DDL BACKUP_WAIT_COMMIT BACKUP_FTWRL1 "
     "BACKUP_FTWRL2",
     "BACKUP_FLUSH BACKUP_WAIT_FLUSH BACKUP_WAIT_DDL BACKUP_WAIT_COMMIT BACKUP_FTWRL1 "
     "BACKUP_FTWRL2"},
    {"BACKUP_TRANS_DML", "BACKUP_FTWRL1 BACKUP_FTWRL2", "BACKUP_FTWRL1 BACKUP_FTWRL2"},
    {"BACKUP_SYS_DML", "BACKUP_WAIT_COMMIT BACKUP_FTWRL1 BACKUP_FTWRL2",
     "BACKUP_WAIT_COMMIT BACKUP_FTWRL1 BACKUP_FTWRL2"},
    {"BACKUP_DDL",
     "BACKUP_WAIT_DDL BACKUP_WAIT_COMMIT BACKUP_FTWRL1 BACKUP_FTWRL2 BACKUP_BLOCK_DDL",
     "BACKUP_WAIT_DDL BACKUP_WAIT_COMMIT BACKUP_FTWRL1 BACKUP_FTWRL2 BACKUP_BLOCK_DDL"},
    {"BACKUP_BLOCK_DDL",
     "BACKUP_START BACKUP_FLUSH BACKUP_WAIT_FLUSH BACKUP_WAIT_DDL BACKUP_WAIT_COMMIT "
     "BACKUP_BLOCK_DDL BACKUP_DDL",
     "BACKUP_START"},
    {"BACKUP_ALTER_COPY", "BACKUP_FTWRL1 BACKUP_FTWRL2", "BACKUP_FTWRL1 BACKUP_FTWRL2"},
    {"BACKUP_COMMIT", "BACKUP_WAIT_COMMIT BACKUP_FTWRL2", "BACKUP_WAIT_COMMIT BACKUP_FTWRL2"},
}};

enum class Strategy { kObject, kScoped, kBackup };

Strategy StrategyFor(std::string_view object_type) {
  if (object_type == "BACKUP") return Strategy::kBackup;  // MariaDB
  static constexpr std::array<std::string_view, 9> kScoped = {
      "GLOBAL",        "SCHEMA",          "COMMIT",      "TABLESPACE",      "BACKUP LOCK",
      "BACKUP TABLES", "RESOURCE_GROUPS", "FOREIGN KEY", "CHECK CONSTRAINT"};
  for (std::string_view s : kScoped) {
    if (object_type == s) return Strategy::kScoped;
  }
  return Strategy::kObject;
}

const MatrixRow* FindRow(Strategy strategy, std::string_view type) {
  auto find = [type](const auto& matrix) -> const MatrixRow* {
    for (const auto& row : matrix) {
      if (row.request == type) return &row;
    }
    return nullptr;
  };
  switch (strategy) {
    case Strategy::kObject:
      return find(kObjectMatrix);
    case Strategy::kScoped:
      return find(kScopedMatrix);
    case Strategy::kBackup:
      return find(kBackupMatrix);
  }
  return nullptr;
}

bool ListHas(std::string_view list, std::string_view type) {
  if (list == "*") return true;
  for (std::string_view word : core::Split(list, ' ')) {
    if (word == type) return true;
  }
  return false;
}

bool SameObject(const Lock& a, const Lock& b) {
  return a.object_type == b.object_type && a.schema == b.schema && a.name == b.name;
}

// A request strong enough that everything after it queues behind it: DDL and LOCK TABLES
// ... WRITE on an object, FLUSH TABLES WITH READ LOCK and backup stages globally.
bool IsStrongRequest(const Lock& lock) {
  switch (StrategyFor(lock.object_type)) {
    case Strategy::kObject:
      return lock.lock_type == "EXCLUSIVE" || lock.lock_type == "SHARED_NO_WRITE" ||
             lock.lock_type == "SHARED_NO_READ_WRITE";
    case Strategy::kScoped:
      return lock.lock_type == "SHARED" || lock.lock_type == "EXCLUSIVE";
    case Strategy::kBackup:
      return lock.lock_type != "BACKUP_DML" && lock.lock_type != "BACKUP_TRANS_DML" &&
             lock.lock_type != "BACKUP_SYS_DML" && lock.lock_type != "BACKUP_DDL" &&
             lock.lock_type != "BACKUP_ALTER_COPY" && lock.lock_type != "BACKUP_COMMIT" &&
             lock.lock_type != "UNKNOWN";
  }
  return false;
}

// --- statement text -----------------------------------------------------------------------

struct Token {
  enum class Kind { kWord, kQuoted, kString, kPunct };
  Kind kind = Kind::kWord;
  std::string text;
  bool identifier() const { return kind == Kind::kWord || kind == Kind::kQuoted; }
};

// A light SQL tokenizer: words, `quoted` identifiers, 'strings', single punctuation; comments
// and whitespace skipped. Enough to find table names in DDL and to see whether a statement
// names a table; not a parser.
std::vector<Token> Tokenize(std::string_view sql) {
  std::vector<Token> tokens;
  size_t i = 0;
  const size_t n = sql.size();
  auto is_word = [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_' || c == '$' ||
           static_cast<unsigned char>(c) >= 0x80;
  };
  while (i < n && tokens.size() < 4096) {
    const char c = sql[i];
    if (std::isspace(static_cast<unsigned char>(c)) != 0) {
      ++i;
    } else if (c == '/' && i + 1 < n && sql[i + 1] == '*') {
      const auto end = sql.find("*/", i + 2);
      i = end == std::string_view::npos ? n : end + 2;
    } else if ((c == '-' && i + 2 < n && sql[i + 1] == '-' &&
                std::isspace(static_cast<unsigned char>(sql[i + 2])) != 0) ||
               c == '#') {
      const auto end = sql.find('\n', i);
      i = end == std::string_view::npos ? n : end + 1;
    } else if (c == '`' || c == '\'' || c == '"') {
      std::string text;
      size_t j = i + 1;
      while (j < n) {
        if (sql[j] == '\\' && c != '`' && j + 1 < n) {
          text += sql[j + 1];
          j += 2;
          continue;
        }
        if (sql[j] == c) {
          if (j + 1 < n && sql[j + 1] == c) {  // doubled quote
            text += c;
            j += 2;
            continue;
          }
          break;
        }
        text += sql[j++];
      }
      // "double quotes" are strings unless ANSI_QUOTES; treat them as strings.
      tokens.push_back({c == '`' ? Token::Kind::kQuoted : Token::Kind::kString, std::move(text)});
      i = j + 1;
    } else if (is_word(c)) {
      size_t j = i;
      while (j < n && is_word(sql[j])) ++j;
      tokens.push_back({Token::Kind::kWord, std::string(sql.substr(i, j - i))});
      i = j;
    } else {
      tokens.push_back({Token::Kind::kPunct, std::string(1, c)});
      ++i;
    }
  }
  return tokens;
}

bool IsWord(const Token& t, std::string_view word) {
  return t.kind == Token::Kind::kWord && core::EqualsIgnoreCase(t.text, word);
}

// [schema.]name at tokens[i]; advances i past it.
std::optional<TableName> QualifiedName(const std::vector<Token>& tokens, size_t& i) {
  if (i >= tokens.size() || !tokens[i].identifier()) return std::nullopt;
  TableName table{"", tokens[i].text};
  ++i;
  if (i + 1 < tokens.size() && tokens[i].kind == Token::Kind::kPunct && tokens[i].text == "." &&
      tokens[i + 1].identifier()) {
    table.schema = table.name;
    table.name = tokens[i + 1].text;
    i += 2;
  }
  return table;
}

bool IsDdlKind(std::string_view kind) {
  static constexpr std::array<std::string_view, 7> kPrefixes = {
      "ALTER", "TRUNCATE", "DROP", "CREATE", "RENAME", "OPTIMIZE", "REPAIR"};
  for (std::string_view p : kPrefixes) {
    if (kind.substr(0, p.size()) == p) return true;
  }
  return false;
}

bool IsWriteKind(std::string_view kind) {
  return kind == "INSERT" || kind == "UPDATE" || kind == "DELETE" || kind == "REPLACE" ||
         kind == "LOAD";
}

// --- requests of waiters the lock data does not show ---------------------------------------

// What a session waiting in `state` with `statement` most likely asked for. The object's
// name stays empty when the statement does not tell (a DML statement names its tables
// anywhere: it is matched against the contended tables later).
Lock InferRequest(const Session& s, const std::vector<Lock>& locks) {
  Lock lock;
  lock.connection_id = s.id;
  lock.granted = false;
  lock.inferred = true;
  lock.lock_type = "UNKNOWN";
  const std::string statement = s.statement.value_or("");
  const std::string kind = StatementKind(statement);
  const std::string_view state = s.state;
  if (state == "Waiting for table metadata lock") {
    lock.object_type = "TABLE";
    if (IsDdlKind(kind)) {
      lock.lock_type = "EXCLUSIVE";
      // An ALTER holds SHARED_UPGRADABLE on its table while it waits to upgrade: exact.
      for (const auto& held : locks) {
        if (held.granted && held.connection_id == s.id && held.object_type == "TABLE" &&
            (held.lock_type == "SHARED_UPGRADABLE" || held.lock_type == "SHARED_NO_WRITE" ||
             held.lock_type == "SHARED_NO_READ_WRITE")) {
          lock.schema = held.schema;
          lock.name = held.name;
          return lock;
        }
      }
    } else if (kind == "LOCK TABLES") {
      lock.lock_type = core::ContainsIgnoreCase(statement, "WRITE") ? "SHARED_NO_READ_WRITE"
                                                                    : "SHARED_READ_ONLY";
    } else if (kind == "SELECT") {
      lock.lock_type = "SHARED_READ";
      return lock;
    } else if (IsWriteKind(kind)) {
      lock.lock_type = "SHARED_WRITE";
      return lock;
    } else {
      return lock;
    }
    if (auto table = StatementTable(statement)) {
      lock.schema = table->schema.empty() ? s.db : table->schema;
      lock.name = table->name;
    }
    return lock;
  }
  const bool ftwrl = kind == "FLUSH TABLES WITH READ LOCK";
  if (state == "Waiting for backup lock") {
    lock.object_type = "BACKUP";
    if (ftwrl) {
      lock.lock_type = "BACKUP_FTWRL1";
    } else if (IsDdlKind(kind)) {
      lock.lock_type = "BACKUP_DDL";
    } else if (IsWriteKind(kind)) {
      lock.lock_type = "BACKUP_TRANS_DML";
    } else if (kind == "COMMIT") {
      lock.lock_type = "BACKUP_COMMIT";
    }
    return lock;
  }
  if (state == "Waiting for global read lock" || state == "Waiting for commit lock") {
    lock.object_type = state == "Waiting for commit lock" ? "COMMIT" : "GLOBAL";
    lock.lock_type = ftwrl ? "SHARED" : "INTENTION_EXCLUSIVE";
    return lock;
  }
  if (state == "Waiting for schema metadata lock") {
    lock.object_type = "SCHEMA";
    return lock;
  }
  // "Waiting for stored function metadata lock" ... : the namespace, no name.
  static constexpr std::array<std::pair<std::string_view, std::string_view>, 6> kStates = {{
      {"stored function", "FUNCTION"},
      {"stored procedure", "PROCEDURE"},
      {"stored package body", "PACKAGE BODY"},
      {"trigger", "TRIGGER"},
      {"event", "EVENT"},
      {"tablespace", "TABLESPACE"},
  }};
  lock.object_type = "OTHER";
  for (const auto& [word, type] : kStates) {
    if (state.find(word) != std::string_view::npos) lock.object_type = std::string(type);
  }
  return lock;
}

// --- the wait-for graph ---------------------------------------------------------------------

struct Graph {
  std::map<uint64_t, std::vector<uint64_t>> blockers;   // waiter -> sessions it waits for
  std::map<uint64_t, std::vector<uint64_t>> waited_by;  // reverse edges
  std::map<uint64_t, const Lock*> request;              // the first pending request per waiter
  std::set<uint64_t> waiting;
};

void AddEdge(Graph& g, uint64_t from, uint64_t to) {
  auto& out = g.blockers[from];
  if (std::find(out.begin(), out.end(), to) != out.end()) return;
  out.push_back(to);
  g.waited_by[to].push_back(from);
}

Graph BuildGraph(const std::vector<Lock>& locks) {
  Graph g;
  for (const auto& p : locks) {
    if (p.granted) continue;
    g.waiting.insert(p.connection_id);
    g.request.emplace(p.connection_id, &p);
    if (p.object_type == "TABLE" && p.name.empty()) continue;  // object unknown
    for (const auto& other : locks) {
      if (other.connection_id == p.connection_id || !SameObject(p, other)) continue;
      const bool blocks = other.granted ? BlockedByGranted(p, other) : BlockedByPending(p, other);
      if (blocks) AddEdge(g, p.connection_id, other.connection_id);
    }
  }
  return g;
}

// Sessions at the end of the wait chains from `from` (they wait for nothing); `unknown` is
// set when a chain ends at a waiter whose holder is not in the lock data.
void CollectRoots(const Graph& g, uint64_t from, std::set<uint64_t>& visited,
                  std::vector<uint64_t>& roots, bool& unknown) {
  if (!visited.insert(from).second) return;
  if (!g.waiting.contains(from)) {
    roots.push_back(from);
    return;
  }
  const auto it = g.blockers.find(from);
  if (it == g.blockers.end() || it->second.empty()) {
    unknown = true;
    return;
  }
  for (uint64_t b : it->second) CollectRoots(g, b, visited, roots, unknown);
}

std::vector<uint64_t> QueueBehind(const Graph& g, uint64_t head) {
  std::vector<uint64_t> queue;
  std::set<uint64_t> seen{head};
  std::deque<uint64_t> todo{head};
  while (!todo.empty()) {
    const uint64_t s = todo.front();
    todo.pop_front();
    const auto it = g.waited_by.find(s);
    if (it == g.waited_by.end()) continue;
    for (uint64_t w : it->second) {
      if (seen.insert(w).second) {
        queue.push_back(w);
        todo.push_back(w);
      }
    }
  }
  return queue;
}

const Session* FindSession(const Snapshot& s, uint64_t id) {
  const auto it = s.sessions.find(id);
  return it == s.sessions.end() ? nullptr : &it->second;
}

double TimeOf(const Snapshot& s, uint64_t id) {
  const Session* session = FindSession(s, id);
  return session != nullptr ? session->time_seconds : 0;
}

// Longest waiting first; ties by id.
void SortByTime(const Snapshot& s, std::vector<uint64_t>& ids) {
  std::stable_sort(ids.begin(), ids.end(), [&s](uint64_t a, uint64_t b) {
    const double ta = TimeOf(s, a);
    const double tb = TimeOf(s, b);
    return ta != tb ? ta > tb : a < b;
  });
}

// Oldest transaction first, then longest running.
void SortRoots(const Snapshot& s, std::vector<uint64_t>& ids) {
  std::stable_sort(ids.begin(), ids.end(), [&s](uint64_t a, uint64_t b) {
    const Session* sa = FindSession(s, a);
    const Session* sb = FindSession(s, b);
    const double ta = sa != nullptr ? sa->trx_seconds.value_or(-1) : -1;
    const double tb = sb != nullptr ? sb->trx_seconds.value_or(-1) : -1;
    if (ta != tb) return ta > tb;
    const double ra = sa != nullptr ? sa->time_seconds : 0;
    const double rb = sb != nullptr ? sb->time_seconds : 0;
    return ra != rb ? ra > rb : a < b;
  });
}

// Sessions that probably hold what `request` (waiting `wait_seconds`) wants, when the lock
// data does not say: a transaction open since before the wait started, or a statement on
// the same table running since before it. Only for table locks: a global read lock's holder
// (an idle FLUSH TABLES WITH READ LOCK) leaves no trace in the processlist.
std::vector<uint64_t> InferRoots(const Snapshot& s, const Graph& g, const Lock& request,
                                 double wait_seconds) {
  std::vector<uint64_t> roots;
  if (request.object_type != "TABLE" || request.name.empty()) return roots;
  const TableName table{request.schema, request.name};
  constexpr double kSlack = 1.0;  // trx_started has whole seconds
  for (uint64_t id : s.candidates) {
    if (id == request.connection_id || g.waiting.contains(id)) continue;
    const Session* c = FindSession(s, id);
    if (c == nullptr) continue;
    const bool older_transaction = c->trx_seconds && *c->trx_seconds + kSlack >= wait_seconds;
    const bool running_on_table = c->command != "Sleep" && c->statement &&
                                  c->time_seconds + kSlack >= wait_seconds &&
                                  StatementMentions(*c->statement, table, c->db);
    if (older_transaction || running_on_table) roots.push_back(id);
  }
  SortRoots(s, roots);
  return roots;
}

}  // namespace

std::string_view SourceName(Source source) {
  switch (source) {
    case Source::kPerformanceSchema:
      return "performance_schema.metadata_locks";
    case Source::kMetadataLockInfo:
      return "information_schema.METADATA_LOCK_INFO";
    case Source::kProcesslist:
      return "processlist";
  }
  return "processlist";
}

std::string_view ConfidenceName(Confidence confidence) {
  switch (confidence) {
    case Confidence::kHigh:
      return "high";
    case Confidence::kMedium:
      return "medium";
    case Confidence::kLow:
      return "low";
  }
  return "low";
}

bool Session::waits_for_metadata_lock() const {
  if (state.rfind("Waiting for ", 0) != 0) return false;
  return state.ends_with("metadata lock") || state == "Waiting for global read lock" ||
         state == "Waiting for backup lock" || state == "Waiting for commit lock";
}

std::string Lock::ObjectText() const {
  if (object_type == "TABLE") {
    if (name.empty()) return "a table";
    return schema.empty() ? name : fmt::format("{}.{}", schema, name);
  }
  if (object_type == "BACKUP") return "the backup lock (FLUSH TABLES WITH READ LOCK, BACKUP STAGE)";
  if (object_type == "GLOBAL") return "the global read lock";
  if (object_type == "COMMIT") return "the commit lock";
  if (object_type == "BACKUP LOCK") return "the instance backup lock";
  if (object_type == "SCHEMA") return schema.empty() ? "a schema" : "schema " + schema;
  std::string text = core::ToLower(object_type);
  if (!schema.empty() || !name.empty()) {
    text += " " + (schema.empty() ? name : name.empty() ? schema : schema + "." + name);
  }
  return text;
}

bool BlockedByGranted(const Lock& request, const Lock& granted) {
  if (request.connection_id == granted.connection_id) return false;
  const MatrixRow* row = FindRow(StrategyFor(request.object_type), request.lock_type);
  if (row == nullptr) return true;  // unknown request type: anything held may block it
  return ListHas(row->blocked_by_granted, granted.lock_type);
}

bool BlockedByPending(const Lock& request, const Lock& pending) {
  if (request.connection_id == pending.connection_id) return false;
  const MatrixRow* row = FindRow(StrategyFor(request.object_type), request.lock_type);
  if (row == nullptr) return false;
  return ListHas(row->blocked_by_pending, pending.lock_type);
}

std::string StatementKind(std::string_view statement) {
  const std::vector<Token> tokens = Tokenize(statement.substr(0, 2000));
  size_t i = 0;
  while (i < tokens.size() && tokens[i].kind == Token::Kind::kPunct && tokens[i].text == "(") ++i;
  if (i >= tokens.size() || tokens[i].kind != Token::Kind::kWord) return "";
  std::string first = core::ToUpper(tokens[i].text);
  auto word_at = [&tokens](size_t k) {
    return k < tokens.size() && tokens[k].kind == Token::Kind::kWord ? core::ToUpper(tokens[k].text)
                                                                     : std::string();
  };
  // The object word after modifiers: ALTER ONLINE IGNORE TABLE, CREATE UNIQUE INDEX ...
  auto object_after = [&](size_t k) {
    static constexpr std::array<std::string_view, 12> kModifiers = {
        "ONLINE", "OFFLINE", "IGNORE",  "TEMPORARY",          "UNIQUE", "FULLTEXT", "SPATIAL",
        "OR",     "REPLACE", "DEFINER", "NO_WRITE_TO_BINLOG", "LOCAL"};
    while (k < tokens.size()) {
      std::string w = word_at(k);
      if (std::find(kModifiers.begin(), kModifiers.end(), w) == kModifiers.end()) return w;
      ++k;
    }
    return std::string();
  };
  if (first == "ALTER" || first == "CREATE" || first == "DROP" || first == "RENAME" ||
      first == "OPTIMIZE" || first == "REPAIR" || first == "ANALYZE" || first == "CHECK") {
    std::string object = object_after(i + 1);
    if (object == "TABLES") object = "TABLE";
    return object.empty() ? first : first + " " + object;
  }
  if (first == "TRUNCATE") return "TRUNCATE TABLE";
  if (first == "LOCK") return "LOCK TABLES";
  if (first == "FLUSH") {
    if (word_at(i + 1) == "TABLES") {
      for (size_t k = i + 2; k + 2 < tokens.size(); ++k) {
        if (word_at(k) == "WITH" && word_at(k + 1) == "READ" && word_at(k + 2) == "LOCK") {
          return "FLUSH TABLES WITH READ LOCK";
        }
      }
      return "FLUSH TABLES";
    }
    return "FLUSH";
  }
  return first;
}

std::optional<TableName> StatementTable(std::string_view statement) {
  const std::vector<Token> tokens = Tokenize(statement.substr(0, 4000));
  const std::string kind = StatementKind(statement);
  static constexpr std::array<std::string_view, 9> kSkip = {
      "ONLINE", "OFFLINE", "IGNORE", "TEMPORARY",         "TABLE",
      "TABLES", "IF",      "EXISTS", "NO_WRITE_TO_BINLOG"};
  if (kind == "CREATE INDEX" || kind == "DROP INDEX") {
    for (size_t i = 0; i + 1 < tokens.size(); ++i) {
      if (IsWord(tokens[i], "ON")) {
        size_t k = i + 1;
        return QualifiedName(tokens, k);
      }
    }
    return std::nullopt;
  }
  const bool table_statement =
      kind == "ALTER TABLE" || kind == "TRUNCATE TABLE" || kind == "DROP TABLE" ||
      kind == "RENAME TABLE" || kind == "OPTIMIZE TABLE" || kind == "REPAIR TABLE" ||
      kind == "ANALYZE TABLE" || kind == "CHECK TABLE" || kind == "LOCK TABLES";
  if (!table_statement) return std::nullopt;
  size_t i = 1;  // after the first word
  while (i < tokens.size() && tokens[i].kind == Token::Kind::kWord) {
    const std::string w = core::ToUpper(tokens[i].text);
    const bool skip = std::find(kSkip.begin(), kSkip.end(), w) != kSkip.end() ||
                      (w == "LOCAL" && kind != "LOCK TABLES");
    if (!skip) break;
    ++i;
  }
  return QualifiedName(tokens, i);
}

bool StatementMentions(std::string_view statement, const TableName& table,
                       std::string_view default_schema) {
  if (table.name.empty()) return false;
  const std::vector<Token> tokens = Tokenize(statement.substr(0, 20000));
  for (size_t i = 0; i < tokens.size(); ++i) {
    if (!tokens[i].identifier() || !core::EqualsIgnoreCase(tokens[i].text, table.name)) continue;
    const bool qualified = i >= 2 && tokens[i - 1].kind == Token::Kind::kPunct &&
                           tokens[i - 1].text == "." && tokens[i - 2].identifier();
    if (qualified) {
      if (table.schema.empty() || core::EqualsIgnoreCase(tokens[i - 2].text, table.schema)) {
        return true;
      }
      continue;
    }
    if (table.schema.empty() || default_schema.empty() ||
        core::EqualsIgnoreCase(default_schema, table.schema)) {
      return true;
    }
  }
  return false;
}

std::map<uint64_t, Session> ParseSessions(const mysql::ResultSet& result) {
  std::map<uint64_t, Session> sessions;
  for (const auto& row : result.rows) {
    const auto id = row["connection_id"].AsUint64();
    if (!id || *id == 0 || sessions.contains(*id)) continue;
    Session s;
    s.id = *id;
    s.user = row["user"].StringOr("");
    s.host = row["host"].StringOr("");
    s.db = row["db"].StringOr("");
    s.command = row["command"].StringOr("");
    s.state = row["state"].StringOr("");
    s.time_seconds = row["time_seconds"].AsDouble().value_or(0);
    if (auto text = row["statement"].AsString()) s.statement = std::string(*text);
    s.trx_seconds = row["trx_seconds"].AsDouble();
    sessions.emplace(*id, std::move(s));
  }
  return sessions;
}

std::vector<Lock> ParseLocks(const mysql::ResultSet& result) {
  // METADATA_LOCK_INFO's LOCK_TYPE names, as performance_schema names the namespaces.
  static constexpr std::array<std::pair<std::string_view, std::string_view>, 11> kNamespaces = {{
      {"Backup lock", "BACKUP"},
      {"Global read lock", "GLOBAL"},
      {"Schema metadata lock", "SCHEMA"},
      {"Table metadata lock", "TABLE"},
      {"Stored function metadata lock", "FUNCTION"},
      {"Stored procedure metadata lock", "PROCEDURE"},
      {"Stored package body metadata lock", "PACKAGE BODY"},
      {"Trigger metadata lock", "TRIGGER"},
      {"Event metadata lock", "EVENT"},
      {"Commit lock", "COMMIT"},
      {"User lock", "USER LEVEL LOCK"},
  }};
  std::vector<Lock> locks;
  for (const auto& row : result.rows) {
    const auto id = row["connection_id"].AsUint64();
    if (!id || *id == 0) continue;  // a background thread: nobody to name or kill
    const std::string status = core::ToUpper(row["lock_status"].StringOr("GRANTED"));
    if (status != "GRANTED" && status != "PENDING") continue;
    Lock lock;
    lock.connection_id = *id;
    lock.object_type = row["object_type"].StringOr("");
    for (const auto& [plugin, pfs] : kNamespaces) {
      if (lock.object_type == plugin) lock.object_type = std::string(pfs);
    }
    lock.object_type = core::ToUpper(lock.object_type);
    lock.schema = row["object_schema"].StringOr("");
    lock.name = row["object_name"].StringOr("");
    lock.lock_type = core::ToUpper(row["lock_type"].StringOr("UNKNOWN"));
    if (lock.lock_type.rfind("MDL_", 0) == 0) lock.lock_type.erase(0, 4);
    lock.granted = status == "GRANTED";
    locks.push_back(std::move(lock));
  }
  return locks;
}

Analysis Analyze(const Snapshot& snapshot) {
  Analysis analysis;
  std::vector<Lock> locks = snapshot.locks;
  locks.reserve(locks.size() + snapshot.waiters.size());

  // Waiters the lock data does not show waiting get an inferred request.
  std::set<uint64_t> pending;
  for (const auto& l : locks) {
    if (!l.granted) pending.insert(l.connection_id);
  }
  for (uint64_t id : snapshot.waiters) {
    const Session* s = FindSession(snapshot, id);
    if (s == nullptr || pending.contains(id)) continue;
    locks.push_back(InferRequest(*s, snapshot.locks));
    analysis.uncovered.push_back(id);
    pending.insert(id);
  }
  // A waiting statement whose table the text did not give: the first contended table
  // (one somebody locks or wants exclusively) that it names.
  std::vector<TableName> contended;
  for (const auto& l : locks) {
    if (l.object_type != "TABLE" || l.name.empty()) continue;
    const bool strong = l.lock_type == "EXCLUSIVE" || l.lock_type == "SHARED_NO_WRITE" ||
                        l.lock_type == "SHARED_NO_READ_WRITE" || l.lock_type == "SHARED_UPGRADABLE";
    if (!strong) continue;
    const bool seen = std::any_of(contended.begin(), contended.end(), [&l](const TableName& t) {
      return t.schema == l.schema && t.name == l.name;
    });
    if (!seen) contended.push_back({l.schema, l.name});
  }
  for (auto& l : locks) {
    if (!l.inferred || l.object_type != "TABLE" || !l.name.empty()) continue;
    const Session* s = FindSession(snapshot, l.connection_id);
    if (s == nullptr || !s->statement) continue;
    for (const auto& t : contended) {
      if (StatementMentions(*s->statement, t, s->db)) {
        l.schema = t.schema;
        l.name = t.name;
        break;
      }
    }
  }

  const Graph g = BuildGraph(locks);
  const bool exact_source = snapshot.source == Source::kPerformanceSchema;
  auto confidence_of = [&](const std::vector<uint64_t>& involved, bool roots_inferred) {
    if (roots_inferred) return Confidence::kLow;
    bool inferred = !exact_source;
    for (uint64_t id : involved) {
      const auto it = g.request.find(id);
      if (it != g.request.end() && it->second->inferred) inferred = true;
    }
    return inferred ? Confidence::kMedium : Confidence::kHigh;
  };
  auto roots_of = [&](uint64_t id, bool& inferred) {
    std::set<uint64_t> visited;
    std::vector<uint64_t> roots;
    bool unknown = false;
    CollectRoots(g, id, visited, roots, unknown);
    inferred = false;
    if (roots.empty() && unknown) {
      // The chain ends at a waiter whose holder the lock data does not show: guess from
      // the sessions that were there before the wait started.
      uint64_t end = id;
      for (uint64_t v : visited) {
        const auto it = g.blockers.find(v);
        if (g.waiting.contains(v) && (it == g.blockers.end() || it->second.empty())) end = v;
      }
      const auto request = g.request.find(end);
      if (request != g.request.end()) {
        roots = InferRoots(snapshot, g, *request->second, TimeOf(snapshot, end));
        inferred = !roots.empty();
      }
    }
    SortRoots(snapshot, roots);
    return roots;
  };

  // Pile-up heads: strong requests, and requests others queue behind.
  std::vector<uint64_t> heads;
  for (const auto& [id, request] : g.request) {
    bool queued_behind = false;
    const auto it = g.waited_by.find(id);
    if (it != g.waited_by.end()) {
      for (uint64_t w : it->second) {
        const auto wr = g.request.find(w);
        if (wr != g.request.end() && SameObject(*wr->second, *request) &&
            BlockedByPending(*wr->second, *request)) {
          queued_behind = true;
        }
      }
    }
    if (IsStrongRequest(*request) || queued_behind) heads.push_back(id);
  }
  SortByTime(snapshot, heads);
  std::set<uint64_t> covered;
  for (uint64_t head : heads) {
    if (covered.contains(head)) continue;
    Pileup p;
    p.head = head;
    p.request = *g.request.at(head);
    p.queued = QueueBehind(g, head);
    SortByTime(snapshot, p.queued);
    p.roots = roots_of(head, p.roots_inferred);
    std::vector<uint64_t> involved = p.queued;
    involved.push_back(head);
    p.confidence = confidence_of(involved, p.roots_inferred || p.roots.empty());
    covered.insert(head);
    covered.insert(p.queued.begin(), p.queued.end());
    analysis.pileups.push_back(std::move(p));
  }

  // Every other waiter, grouped by the sessions at the end of its chain.
  std::vector<uint64_t> rest;
  for (uint64_t id : g.waiting) {
    if (!covered.contains(id)) rest.push_back(id);
  }
  SortByTime(snapshot, rest);
  for (uint64_t id : rest) {
    bool inferred = false;
    std::vector<uint64_t> roots = roots_of(id, inferred);
    auto group = std::find_if(analysis.waits.begin(), analysis.waits.end(),
                              [&](const WaitGroup& w) { return w.roots == roots; });
    if (group == analysis.waits.end()) {
      analysis.waits.push_back(WaitGroup{roots, {}, {}, inferred, Confidence::kHigh});
      group = std::prev(analysis.waits.end());
    }
    group->waiters.push_back(id);
    group->requests.push_back(*g.request.at(id));
    group->roots_inferred = group->roots_inferred || inferred;
  }
  for (auto& w : analysis.waits) {
    w.confidence = confidence_of(w.waiters, w.roots_inferred || w.roots.empty());
  }
  return analysis;
}

}  // namespace mdl

// --- the step -------------------------------------------------------------------------------

namespace {

using mdl::Analysis;
using mdl::Confidence;
using mdl::Lock;
using mdl::Session;
using mdl::Snapshot;
using mdl::Source;

constexpr int kWaiterLimit = 500;
constexpr int kLockLimit = 5000;
constexpr int kCandidateLimit = 200;
constexpr size_t kStatementChars = 300;
constexpr size_t kRowsShown = 20;
constexpr size_t kRootsSuggested = 3;
constexpr double kCriticalWaitSeconds = 30;
constexpr size_t kCriticalQueue = 3;
constexpr int kErUnknownTable = 1109;
constexpr int kErNoSuchTable = 1146;

std::string Plural(size_t n, std::string_view one, std::string_view many) {
  return fmt::format("{} {}", n, n == 1 ? one : many);
}

const Session* FindSession(const Snapshot& s, uint64_t id) {
  const auto it = s.sessions.find(id);
  return it == s.sessions.end() ? nullptr : &it->second;
}

std::string LockText(const Lock& lock) {
  return fmt::format("{} ({}{})", lock.lock_type, lock.granted ? "granted" : "waiting",
                     lock.inferred ? ", inferred" : "");
}

// The locks `id` holds on `object`, as text ("SHARED_READ (granted)"); empty when none seen.
std::optional<std::string> HeldOn(const Snapshot& s, uint64_t id, const Lock& object) {
  std::string text;
  for (const auto& l : s.locks) {
    if (l.connection_id != id || !l.granted || l.object_type != object.object_type ||
        l.schema != object.schema || l.name != object.name) {
      continue;
    }
    if (!text.empty()) text += ", ";
    text += LockText(l);
  }
  if (text.empty()) return std::nullopt;
  return text;
}

EvidenceRow SessionRow(const Snapshot& snapshot, uint64_t id, std::string_view role,
                       std::optional<std::string> lock, const std::string& object) {
  EvidenceRow row;
  row.Add("role", std::string(role)).Add("connection_id", id);
  const Session* s = FindSession(snapshot, id);
  if (s == nullptr) {
    row.Add("user", std::nullopt).Add("statement", std::nullopt);
    return row;
  }
  row.Add("user", s->user)
      .Add("host", s->host)
      .Add("db", s->db.empty() ? std::nullopt : std::optional<std::string>(s->db))
      .Add("command", s->command)
      .Add("state", s->state.empty() ? std::nullopt : std::optional<std::string>(s->state))
      .Add("time_seconds", s->time_seconds)
      .Add("transaction_seconds",
           s->trx_seconds ? EvidenceValue(*s->trx_seconds) : EvidenceValue(std::monostate{}))
      .Add("lock", std::move(lock))
      .Add("object", object)
      .Add("statement",
           s->statement ? std::optional<std::string>(core::OneLine(*s->statement, kStatementChars))
                        : std::nullopt);
  return row;
}

// "idle in a transaction open for 5m 02s", "running SELECT for 42s", "idle for 3s".
std::string Describe(const Session* s) {
  if (s == nullptr) return "not in the processlist";
  if (s->command == "Sleep" || !s->statement) {
    if (s->trx_seconds) {
      return fmt::format("idle in a transaction open for {}", core::FormatSeconds(*s->trx_seconds));
    }
    return fmt::format("idle for {}", core::FormatSeconds(s->time_seconds));
  }
  std::string kind = mdl::StatementKind(*s->statement);
  if (kind.empty()) kind = "a statement";
  std::string text = fmt::format("running {} for {}", kind, core::FormatSeconds(s->time_seconds));
  if (s->trx_seconds) {
    text += fmt::format(" in a transaction open for {}", core::FormatSeconds(*s->trx_seconds));
  }
  return text;
}

std::string WhoText(const Snapshot& snapshot, uint64_t id) {
  const Session* s = FindSession(snapshot, id);
  if (s == nullptr) return fmt::format("connection {}", id);
  return fmt::format("connection {} ({}@{}, {})", id, s->user, s->host, Describe(s));
}

std::string RequestKind(const Snapshot& snapshot, uint64_t id, const Lock& request) {
  const Session* s = FindSession(snapshot, id);
  if (s != nullptr && s->statement) {
    std::string kind = mdl::StatementKind(*s->statement);
    if (!kind.empty()) return kind;
  }
  return fmt::format("a {} request", request.lock_type);
}

std::string ConfidenceText(Source source, Confidence confidence, bool roots_inferred) {
  std::string how;
  switch (confidence) {
    case Confidence::kHigh:
      how = "granted and waiting locks read from the lock table";
      break;
    case Confidence::kMedium:
      how =
          "granted locks read from the lock table; what each waiting session asked for "
          "inferred from its processlist state and statement";
      break;
    case Confidence::kLow:
      how = roots_inferred
                ? "waiting sessions from the processlist; the holder inferred from the sessions "
                  "with a transaction or a statement older than the wait"
                : "waiting sessions from the processlist; the holder could not be determined";
      break;
  }
  return fmt::format("Source: {}; confidence {} ({}).", mdl::SourceName(source),
                     mdl::ConfidenceName(confidence), how);
}

Severity SeverityFor(const Snapshot& snapshot, const std::vector<uint64_t>& waiting,
                     size_t queued) {
  double longest = 0;
  for (uint64_t id : waiting) {
    if (const Session* s = FindSession(snapshot, id)) longest = std::max(longest, s->time_seconds);
  }
  return longest > kCriticalWaitSeconds || queued >= kCriticalQueue ? Severity::kCritical
                                                                    : Severity::kWarning;
}

void AddRootSuggestions(Finding& f, const Snapshot& snapshot, const std::vector<uint64_t>& roots,
                        bool inferred, std::string_view after, const dialect::Dialect& dialect) {
  for (size_t i = 0; i < roots.size() && i < kRootsSuggested; ++i) {
    const uint64_t id = roots[i];
    const Session* s = FindSession(snapshot, id);
    const std::string who = s != nullptr ? fmt::format("{}@{}", s->user, s->host) : "unknown";
    std::string text;
    if (s != nullptr && s->trx_seconds) {
      text = fmt::format(
          "end connection {}'s transaction: have the application ({}) commit or roll back, or "
          "kill the connection (its transaction is rolled back)",
          id, who);
    } else if (s != nullptr && s->command != "Sleep" && s->statement) {
      text = fmt::format(
          "stop connection {}'s {} ({}): kill the connection (the statement is "
          "aborted and its locks released)",
          id, mdl::StatementKind(*s->statement), who);
    } else {
      text = fmt::format(
          "release what idle connection {} holds ({}; LOCK TABLES or FLUSH TABLES WITH READ "
          "LOCK): have it run UNLOCK TABLES, or kill the connection",
          id, who);
    }
    if (inferred) text.insert(0, "if it is the holder (inferred: check first), ");
    text += after;
    f.suggestions.push_back({std::move(text), dialect.KillConnection(id)});
  }
}

Finding PileupFinding(const Snapshot& snapshot, const mdl::Pileup& p,
                      const dialect::Dialect& dialect) {
  const Lock& request = p.request;
  const std::string object = request.ObjectText();
  const std::string kind = RequestKind(snapshot, p.head, request);
  const bool ddl = request.object_type == "TABLE" &&
                   (request.lock_type == "EXCLUSIVE" || kind.rfind("ALTER", 0) == 0);
  Finding f;
  f.code = "mdl.pileup";
  std::vector<uint64_t> waiting = p.queued;
  waiting.push_back(p.head);
  f.severity = SeverityFor(snapshot, waiting, p.queued.size());
  const Session* head = FindSession(snapshot, p.head);
  const std::string waited = core::FormatSeconds(head != nullptr ? head->time_seconds : 0);
  std::string holder;
  if (p.roots.empty()) {
    holder = "; the holder could not be determined";
  } else {
    holder = fmt::format(
        "{}{}{}", p.roots_inferred ? ", probably for " : " for ",
        WhoText(snapshot, p.roots.front()),
        p.roots.size() > 1 ? fmt::format(" and {} more", p.roots.size() - 1) : std::string());
  }
  std::string queue;
  if (!p.queued.empty()) {
    queue = fmt::format("; {} queued behind it", Plural(p.queued.size(), "session", "sessions"));
  } else if (ddl) {
    queue = "; every new statement on the table will queue behind it";
  }
  const std::string on_object = request.object_type == "TABLE" ? " on " + object : "";
  f.title = fmt::format("{}{} (connection {}) has waited {}{}{}", kind, on_object, p.head, waited,
                        holder, queue);

  std::string why;
  if (request.object_type == "TABLE") {
    why = fmt::format(
        "{} needs {} metadata lock on {}: it waits until every transaction that has used the "
        "table ends, and every statement on the table that arrives after it queues behind it, "
        "so the table stays unusable until the holder's transaction ends or the {} is "
        "cancelled.",
        kind, request.lock_type == "EXCLUSIVE" ? "an exclusive" : "a " + request.lock_type, object,
        kind);
  } else {
    why = fmt::format(
        "{} waits for {}, and the statements that arrive after it queue behind it (writes and "
        "commits cannot pass a waiting global read lock).",
        kind, object);
  }
  if (p.queued.size() > kRowsShown) {
    why += fmt::format(" {} sessions are queued; the {} waiting longest are listed.",
                       p.queued.size(), kRowsShown);
  }
  f.detail = why + " " + ConfidenceText(snapshot.source, p.confidence, p.roots_inferred);

  for (uint64_t root : p.roots) {
    f.evidence.push_back(SessionRow(snapshot, root, p.roots_inferred ? "root (inferred)" : "root",
                                    HeldOn(snapshot, root, request), object));
  }
  f.evidence.push_back(SessionRow(snapshot, p.head, "waiting", LockText(request), object));
  for (size_t i = 0; i < p.queued.size() && i < kRowsShown; ++i) {
    f.evidence.push_back(SessionRow(snapshot, p.queued[i], "queued", std::nullopt, object));
  }

  const std::string after =
      p.queued.empty() ? fmt::format(": the {} then proceeds", kind)
                       : fmt::format(": the {} then proceeds, and the {} queued after it", kind,
                                     Plural(p.queued.size(), "statement", "statements"));
  AddRootSuggestions(f, snapshot, p.roots, p.roots_inferred, after, dialect);
  if (p.roots.empty()) {
    f.suggestions.push_back(
        {"find the holder: a session in an open transaction that used the table, or one that "
         "ran LOCK TABLES or FLUSH TABLES WITH READ LOCK and went idle; the MDL instrument or "
         "the METADATA_LOCK_INFO plugin names it exactly (see the check.partial finding)",
         ""});
  }
  f.suggestions.push_back(
      {fmt::format("or cancel the {} (connection {}) so that {} now; {} has to be run again "
                   "later, once the holder is gone{}",
                   kind, p.head,
                   p.queued.empty() ? std::string("new statements on the table run")
                   : p.queued.size() == 1
                       ? std::string("the statement queued behind it runs")
                       : fmt::format("the {} statements queued behind it run", p.queued.size()),
                   ddl ? "the schema change" : "it",
                   ddl ? " (a copying ALTER loses the work it has done)" : ""),
       dialect.KillQuery(p.head)});
  if (ddl) {
    f.suggestions.push_back(
        {"prevent the next one: run schema changes with pt-online-schema-change or gh-ost, or "
         "give the DDL session a short lock_wait_timeout so it gives up instead of stalling the "
         "table (MariaDB also has ALTER TABLE ... WAIT n / NOWAIT), and find the application "
         "path that leaves transactions open",
         "SET SESSION lock_wait_timeout = 5"});
  }
  return f;
}

Finding WaitFinding(const Snapshot& snapshot, const mdl::WaitGroup& w,
                    const dialect::Dialect& dialect) {
  Finding f;
  f.code = "mdl.wait";
  f.severity = SeverityFor(snapshot, w.waiters, w.waiters.size());
  bool same_object = true;
  for (const auto& r : w.requests) {
    same_object = same_object && r.object_type == w.requests.front().object_type &&
                  r.schema == w.requests.front().schema && r.name == w.requests.front().name;
  }
  const std::string object = same_object ? w.requests.front().ObjectText() : "metadata locks";
  const Session* longest = FindSession(snapshot, w.waiters.front());
  std::string holder;
  if (w.roots.empty()) {
    holder = "; the holder could not be determined";
  } else {
    holder = fmt::format(
        "{}{}{}", w.roots_inferred ? ", probably held by " : " held by ",
        WhoText(snapshot, w.roots.front()),
        w.roots.size() > 1 ? fmt::format(" and {} more", w.roots.size() - 1) : std::string());
  }
  f.title = fmt::format("{} {} up to {} for {}{}", Plural(w.waiters.size(), "session", "sessions"),
                        w.waiters.size() == 1 ? "waits" : "wait",
                        core::FormatSeconds(longest != nullptr ? longest->time_seconds : 0),
                        same_object && w.requests.front().object_type == "TABLE"
                            ? "a metadata lock on " + object
                            : object,
                        holder);
  f.detail =
      "Sessions wait for a metadata lock another session holds (LOCK TABLES, FLUSH TABLES "
      "WITH READ LOCK, a transaction that used the object, a running DDL). " +
      ConfidenceText(snapshot.source, w.confidence, w.roots_inferred);
  for (uint64_t root : w.roots) {
    f.evidence.push_back(SessionRow(snapshot, root, w.roots_inferred ? "root (inferred)" : "root",
                                    HeldOn(snapshot, root, w.requests.front()), object));
  }
  for (size_t i = 0; i < w.waiters.size() && i < kRowsShown; ++i) {
    f.evidence.push_back(SessionRow(snapshot, w.waiters[i], "waiting", LockText(w.requests[i]),
                                    w.requests[i].ObjectText()));
  }
  AddRootSuggestions(f, snapshot, w.roots, w.roots_inferred,
                     fmt::format(": the {} waiting can then proceed",
                                 Plural(w.waiters.size(), "session", "sessions")),
                     dialect);
  for (size_t i = 0; i < w.roots.size() && i < kRootsSuggested; ++i) {
    const Session* s = FindSession(snapshot, w.roots[i]);
    if (s == nullptr || s->command == "Sleep" || !s->statement) continue;
    f.suggestions.push_back(
        {fmt::format("or stop only the statement connection {} is running (releases the lock "
                     "unless its transaction keeps it)",
                     w.roots[i]),
         dialect.KillQuery(w.roots[i])});
  }
  if (w.roots.empty()) {
    f.suggestions.push_back(
        {"find the holder: usually a session that ran LOCK TABLES or FLUSH TABLES WITH READ "
         "LOCK (a backup tool) and went idle, or an open transaction that used the object; the "
         "MDL instrument or the METADATA_LOCK_INFO plugin names it exactly",
         ""});
  }
  return f;
}

// What the analysis could not be sure of, and how to make it exact next time.
std::optional<Finding> PartialFinding(const Snapshot& snapshot, const Analysis& analysis,
                                      const std::vector<std::string>& reasons,
                                      const dialect::Flavor& flavor) {
  bool inferred = snapshot.source != Source::kPerformanceSchema || !analysis.uncovered.empty();
  for (const auto& p : analysis.pileups) inferred = inferred || p.confidence != Confidence::kHigh;
  for (const auto& w : analysis.waits) inferred = inferred || w.confidence != Confidence::kHigh;
  if (!inferred && reasons.empty()) return std::nullopt;
  Finding f;
  f.code = "check.partial";
  f.severity = Severity::kInfo;
  f.title = fmt::format("metadata-lock waits {} (source: {})",
                        inferred ? "partly inferred" : "not completely read",
                        mdl::SourceName(snapshot.source));
  std::string detail;
  for (const auto& r : reasons) detail += r + " ";
  if (!analysis.uncovered.empty()) {
    detail += fmt::format(
        "{} not in the lock data: what they wait for was inferred from their processlist state "
        "and statement. ",
        Plural(analysis.uncovered.size(), "waiting session was", "waiting sessions were"));
  }
  detail += "The findings above say how sure each one is.";
  f.detail = detail;
  EvidenceRow row;
  row.Add("source", std::string(mdl::SourceName(snapshot.source)))
      .Add("performance_schema", flavor.capabilities.performance_schema
                                     ? EvidenceValue(*flavor.capabilities.performance_schema)
                                     : EvidenceValue(std::monostate{}))
      .Add("mdl_instrument", flavor.capabilities.mdl_instrument
                                 ? EvidenceValue(*flavor.capabilities.mdl_instrument)
                                 : EvidenceValue(std::monostate{}))
      .Add("inferred_waiters", static_cast<int64_t>(analysis.uncovered.size()));
  f.evidence.push_back(std::move(row));
  const bool pfs_tables =
      flavor.capabilities.performance_schema == true &&
      (flavor.is_mariadb() ? flavor.version.AtLeast(10, 5, 2) : flavor.version.AtLeast(5, 7, 3));
  if (pfs_tables) {
    f.suggestions.push_back(
        {"enable the metadata-lock instrument (takes effect for locks taken from now on; add "
         "performance-schema-instrument='wait/lock/metadata/sql/mdl=ON' to the configuration "
         "to keep it across restarts)",
         "UPDATE performance_schema.setup_instruments SET ENABLED = 'YES', TIMED = 'YES' WHERE "
         "NAME = 'wait/lock/metadata/sql/mdl'"});
  } else if (flavor.is_mariadb() && snapshot.source == Source::kProcesslist) {
    f.suggestions.push_back(
        {"load the METADATA_LOCK_INFO plugin (shipped with MariaDB) to see who holds each "
         "metadata lock",
         "INSTALL SONAME 'metadata_lock_info'"});
  } else if (!flavor.is_mariadb() && flavor.capabilities.performance_schema != true) {
    f.suggestions.push_back(
        {"turn performance_schema on (performance_schema=ON, a restart; on RDS/Aurora a "
         "parameter-group change) and enable wait/lock/metadata/sql/mdl",
         ""});
  }
  return f;
}

void MergeSessions(Snapshot& snapshot, const std::map<uint64_t, Session>& sessions) {
  for (const auto& [id, s] : sessions) {
    auto it = snapshot.sessions.find(id);
    if (it == snapshot.sessions.end()) {
      snapshot.sessions.emplace(id, s);
    } else if (!it->second.trx_seconds && s.trx_seconds) {
      it->second.trx_seconds = s.trx_seconds;
    }
  }
}

// Why performance_schema.metadata_locks is not used on this flavor.
std::string WhyNoLockTable(const dialect::Flavor& flavor) {
  const auto& caps = flavor.capabilities;
  if (caps.performance_schema != true) {
    return "performance_schema is OFF, so there is no performance_schema.metadata_locks.";
  }
  const bool has_table =
      flavor.is_mariadb() ? flavor.version.AtLeast(10, 5, 2) : flavor.version.AtLeast(5, 7, 3);
  if (!has_table) {
    return fmt::format(
        "{} has no performance_schema.metadata_locks (MySQL 5.7.3+, MariaDB "
        "10.5.2+).",
        flavor.Name());
  }
  if (!caps.mdl_instrument.has_value()) {
    return "Whether the wait/lock/metadata/sql/mdl instrument is enabled could not be probed "
           "(SELECT on performance_schema.setup_instruments).";
  }
  return "The wait/lock/metadata/sql/mdl instrument is disabled (as seen when this session "
         "connected), so performance_schema.metadata_locks stays empty.";
}

bool IsUnknownTable(const core::Error& e) {
  return e.server_errno == kErUnknownTable || e.server_errno == kErNoSuchTable ||
         e.code == core::ErrorCode::kNotFound;
}

bool NeedsCandidates(const Analysis& analysis) {
  for (const auto& p : analysis.pileups) {
    if (p.roots.empty()) return true;
  }
  for (const auto& w : analysis.waits) {
    if (w.roots.empty()) return true;
  }
  return false;
}

}  // namespace

std::string MetadataLocksStep::RequiredGrant(const dialect::Flavor& flavor,
                                             std::string_view account) const {
  if (flavor.capabilities.performance_schema == true) {
    return Grants({GrantProcess(account), GrantPerformanceSchema(account)});
  }
  return GrantProcess(account);
}

core::Result<std::vector<Finding>> MetadataLocksStep::Run(StepContext& context) {
  auto& target = context.target;
  const auto& dialect = target.dialect;
  const auto& flavor = target.flavor();
  std::vector<Finding> findings;

  // Without PROCESS the processlist shows the account's own sessions only: no waiter would
  // be seen, and "no pile-up" would be a false all-clear.
  if (auto granted = collect::RequireGlobalPrivilege(
          target, "PROCESS", "without it the processlist shows only its own sessions");
      !granted) {
    return core::Fail(granted.error());
  }
  auto waiting = target.session->Query(dialect::MetadataLockWaiters(dialect, kWaiterLimit));
  if (!waiting) return core::Fail(waiting.error());
  Snapshot snapshot;
  snapshot.sessions = mdl::ParseSessions(*waiting);
  for (const auto& [id, s] : snapshot.sessions) snapshot.waiters.push_back(id);
  if (snapshot.waiters.empty()) return findings;

  std::vector<std::string> reasons;
  if (waiting->rows.size() >= static_cast<size_t>(kWaiterLimit)) {
    reasons.push_back(
        fmt::format("At least {} sessions wait: only the {} waiting longest were analysed.",
                    kWaiterLimit, kWaiterLimit));
  }
  bool have_locks = false;
  if (dialect::HasMetadataLocksTable(flavor)) {
    if (context.expired()) {
      reasons.emplace_back("The step's time budget ran out before the lock table was read.");
    } else {
      auto locks = target.session->Query(dialect::MetadataLocks(dialect, kLockLimit));
      if (locks) {
        snapshot.source = Source::kPerformanceSchema;
        snapshot.locks = mdl::ParseLocks(*locks);
        MergeSessions(snapshot, mdl::ParseSessions(*locks));
        have_locks = true;
        if (locks->rows.size() >= static_cast<size_t>(kLockLimit)) {
          reasons.push_back(fmt::format("Only the first {} locks were read.", kLockLimit));
        }
      } else {
        reasons.push_back(fmt::format("performance_schema.metadata_locks could not be read: {}.",
                                      locks.error().message));
      }
    }
  } else {
    reasons.push_back(WhyNoLockTable(flavor));
  }
  if (!have_locks && dialect::MayHaveMetadataLockInfo(flavor) && !context.expired()) {
    auto info = target.session->Query(dialect::MetadataLockInfo(dialect, kLockLimit));
    if (info) {
      snapshot.source = Source::kMetadataLockInfo;
      snapshot.locks = mdl::ParseLocks(*info);
      MergeSessions(snapshot, mdl::ParseSessions(*info));
      reasons.emplace_back(
          "information_schema.METADATA_LOCK_INFO shows granted locks only: what each waiting "
          "session asked for is inferred from its processlist state and statement.");
    } else if (IsUnknownTable(info.error())) {
      reasons.emplace_back("The METADATA_LOCK_INFO plugin is not loaded.");
    } else {
      reasons.push_back(fmt::format("information_schema.METADATA_LOCK_INFO could not be read: {}.",
                                    info.error().message));
    }
  }

  Analysis analysis = mdl::Analyze(snapshot);
  if (NeedsCandidates(analysis) && !context.expired()) {
    auto candidates =
        target.session->Query(dialect::MetadataLockHolderCandidates(dialect, kCandidateLimit));
    if (candidates) {
      auto sessions = mdl::ParseSessions(*candidates);
      for (const auto& [id, s] : sessions) snapshot.candidates.push_back(id);
      MergeSessions(snapshot, sessions);
      analysis = mdl::Analyze(snapshot);
    } else {
      reasons.push_back(
          fmt::format("The open transactions could not be read: {}.", candidates.error().message));
    }
  }

  for (const auto& p : analysis.pileups) findings.push_back(PileupFinding(snapshot, p, dialect));
  for (const auto& w : analysis.waits) findings.push_back(WaitFinding(snapshot, w, dialect));
  if (auto partial = PartialFinding(snapshot, analysis, reasons, flavor)) {
    findings.push_back(std::move(*partial));
  }
  return findings;
}

}  // namespace dbrunbook::steps
