#include "collect/innodb_status.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cctype>

#include "core/strings.h"
#include "dialect/locks.h"

namespace dbrunbook::collect {
namespace {

using std::string_view;

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

bool StartsWith(string_view s, string_view prefix) { return s.substr(0, prefix.size()) == prefix; }

// Lines without their '\r'.
std::vector<string_view> Lines(string_view text) {
  std::vector<string_view> lines;
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find('\n', start);
    if (end == string_view::npos) end = text.size();
    string_view line = text.substr(start, end - start);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    lines.push_back(line);
    if (end == text.size()) break;
    start = end + 1;
  }
  return lines;
}

// A line of one repeated character ("-----", "====="), at least 3 long.
bool IsRule(string_view line, char c) {
  line = core::Trim(line);
  return line.size() >= 3 && std::all_of(line.begin(), line.end(), [c](char x) { return x == c; });
}

bool IsTitle(string_view line) {
  line = core::Trim(line);
  if (line.empty() || line.size() > 80) return false;
  bool letter = false;
  for (char c : line) {
    if (c >= 'a' && c <= 'z') return false;
    if (c >= 'A' && c <= 'Z') letter = true;
  }
  return letter;
}

// Reads a run of digits at `pos`; advances `pos`.
std::optional<int64_t> Digits(string_view s, size_t& pos, size_t max_digits = 18) {
  const size_t start = pos;
  while (pos < s.size() && IsDigit(s[pos]) && pos - start < max_digits) ++pos;
  if (pos == start) return std::nullopt;
  return core::ParseInt64(s.substr(start, pos - start));
}

// The first integer after `label` in `line` ("heap size 1136" -> 1136).
std::optional<int64_t> NumberAfter(string_view line, string_view label) {
  const size_t at = line.find(label);
  if (at == string_view::npos) return std::nullopt;
  size_t pos = at + label.size();
  while (pos < line.size() && line[pos] == ' ') ++pos;
  return Digits(line, pos);
}

// The integer just before `label` ("3 row lock(s)" -> 3).
std::optional<int64_t> NumberBefore(string_view line, string_view label) {
  const size_t at = line.find(label);
  if (at == string_view::npos || at == 0) return std::nullopt;
  size_t end = at;
  while (end > 0 && line[end - 1] == ' ') --end;
  size_t start = end;
  while (start > 0 && IsDigit(line[start - 1])) --start;
  if (start == end || end - start > 18) return std::nullopt;
  return core::ParseInt64(line.substr(start, end - start));
}

bool LooksLikeIp(string_view s) {
  if (s.empty()) return false;
  int dots = 0;
  int colons = 0;
  for (char c : s) {
    if (c == '.') {
      ++dots;
    } else if (c == ':') {
      ++colons;
    } else if (!IsDigit(c) && !std::isxdigit(static_cast<unsigned char>(c))) {
      return false;
    }
  }
  const bool v4 = dots == 3 && colons == 0 &&
                  std::all_of(s.begin(), s.end(), [](char c) { return IsDigit(c) || c == '.'; });
  return v4 || colons >= 2;
}

// `name` with one level of ` or " quoting removed ("`a``b`" -> "a`b").
std::string Unquote(string_view name) {
  name = core::Trim(name);
  if (name.size() >= 2 && (name.front() == '`' || name.front() == '"') &&
      name.back() == name.front()) {
    const char q = name.front();
    std::string out;
    for (size_t i = 1; i + 1 < name.size(); ++i) {
      out += name[i];
      if (name[i] == q && i + 2 < name.size() && name[i + 1] == q) ++i;
    }
    return out;
  }
  return std::string(name);
}

// Splits "`db`.`t`", "\"db\".\"t\"", "db.t" or "`db/t`" into schema and table.
std::pair<std::string, std::string> SplitTableName(string_view name) {
  name = core::Trim(name);
  // A quoted first part: find its closing quote, honoring doubled quotes.
  if (!name.empty() && (name.front() == '`' || name.front() == '"')) {
    const char q = name.front();
    size_t i = 1;
    while (i < name.size()) {
      if (name[i] == q) {
        if (i + 1 < name.size() && name[i + 1] == q) {
          i += 2;
          continue;
        }
        break;
      }
      ++i;
    }
    if (i < name.size() && i + 1 < name.size() && name[i + 1] == '.') {
      return {Unquote(name.substr(0, i + 1)), Unquote(name.substr(i + 2))};
    }
    const std::string whole = Unquote(name);
    const size_t slash = whole.find('/');
    if (slash != std::string::npos) return {whole.substr(0, slash), whole.substr(slash + 1)};
    return {"", whole};
  }
  const size_t dot = name.find('.');
  if (dot != string_view::npos) {
    return {Unquote(name.substr(0, dot)), Unquote(name.substr(dot + 1))};
  }
  const size_t slash = name.find('/');
  if (slash != string_view::npos) {
    return {std::string(name.substr(0, slash)), std::string(name.substr(slash + 1))};
  }
  return {"", std::string(name)};
}

// "TRANSACTION 847, ACTIVE 10 sec starting index read" (with or without the "---" prefix).
void ParseTransactionHeader(string_view line, InnodbTransaction& t) {
  line = core::Trim(line);
  while (StartsWith(line, "-")) line.remove_prefix(1);
  if (!StartsWith(line, "TRANSACTION")) return;
  line.remove_prefix(std::string_view("TRANSACTION").size());
  line = core::Trim(line);
  const size_t comma = line.find(',');
  t.trx_id = std::string(core::Trim(line.substr(0, comma)));
  if (comma == string_view::npos) return;
  for (string_view part : core::Split(line.substr(comma + 1), ',')) {
    part = core::Trim(part);
    string_view rest;
    if (StartsWith(part, "ACTIVE")) {
      part.remove_prefix(std::string_view("ACTIVE").size());
      part = core::Trim(part);
      t.status = "ACTIVE";
      if (StartsWith(part, "(PREPARED)")) {
        t.status = "ACTIVE (PREPARED)";
        part = core::Trim(part.substr(std::string_view("(PREPARED)").size()));
      }
      size_t pos = 0;
      t.active_seconds = Digits(part, pos);
      rest = core::Trim(part.substr(pos));
      if (StartsWith(rest, "sec")) rest = core::Trim(rest.substr(3));
    } else if (StartsWith(part, "OS thread id") || StartsWith(part, "process no") ||
               StartsWith(part, "thread declared inside InnoDB")) {
      // "OS thread id 4513800192 inserting": the operation follows the number.
      size_t pos = part.find_first_of("0123456789");
      if (pos == string_view::npos) continue;
      while (pos < part.size() && std::isxdigit(static_cast<unsigned char>(part[pos]))) ++pos;
      if (pos < part.size() && part[pos] == 'x') {  // 0x... handle
        ++pos;
        while (pos < part.size() && std::isxdigit(static_cast<unsigned char>(part[pos]))) ++pos;
      }
      rest = core::Trim(part.substr(pos));
    } else if (t.status.empty()) {
      t.status = std::string(part);  // "not started", "COMMITTED IN MEMORY"
      continue;
    } else {
      continue;
    }
    if (!rest.empty()) t.operation = std::string(rest);
  }
}

// "MySQL thread id 46, OS thread handle 1399..., query id 839 localhost root Updating"
// (MariaDB: "MariaDB thread id"). After the query id come, each only when set: host, IP,
// user and the session state.
bool ParseThreadLine(string_view line, InnodbTransaction& t) {
  if (!(StartsWith(line, "MySQL thread id") || StartsWith(line, "MariaDB thread id"))) {
    return false;
  }
  size_t pos = line.find(" thread id ") + std::string_view(" thread id ").size();
  if (auto id = Digits(line, pos)) t.thread_id = static_cast<uint64_t>(*id);
  const size_t qid = line.find("query id ", pos);
  if (qid == string_view::npos) return true;
  pos = qid + std::string_view("query id ").size();
  if (auto id = Digits(line, pos)) t.query_id = static_cast<uint64_t>(*id);
  string_view rest = line.substr(pos);
  // Tokens: [host] [ip] [user] [state words...]
  std::vector<string_view> tokens;
  {
    size_t i = 0;
    while (i < rest.size()) {
      while (i < rest.size() && rest[i] == ' ') ++i;
      const size_t start = i;
      while (i < rest.size() && rest[i] != ' ') ++i;
      if (i > start) tokens.push_back(rest.substr(start, i - start));
    }
  }
  size_t next = 0;
  // A replication thread prints no host and no user, only its state ("Slave has read all
  // relay log; ..."): innotop reads those as the "system user".
  static constexpr std::array<string_view, 6> kThreadStates = {
      "Slave ", "Replica ", "Waiting ", "Has read all relay log", "Reading event", "Queueing "};
  for (string_view prefix : kThreadStates) {
    if (StartsWith(core::Trim(rest), prefix)) {
      t.user = "system user";
      t.state = std::string(core::Trim(rest));
      return true;
    }
  }
  if (next < tokens.size() && LooksLikeIp(tokens[next])) {
    t.ip = std::string(tokens[next++]);
  } else if (next < tokens.size()) {
    t.host = std::string(tokens[next++]);
    if (next < tokens.size() && LooksLikeIp(tokens[next])) t.ip = std::string(tokens[next++]);
  }
  if (t.host.empty()) t.host = t.ip;
  if (next < tokens.size()) t.user = std::string(tokens[next++]);
  std::string state;
  for (; next < tokens.size(); ++next) {
    if (!state.empty()) state += ' ';
    state += tokens[next];
  }
  t.state = std::move(state);
  return true;
}

// Lines that are part of a transaction block but not its statement text.
bool ParseTransactionDetail(string_view line, InnodbTransaction& t) {
  if (StartsWith(line, "mysql tables in use")) {
    t.tables_in_use = NumberAfter(line, "in use");
    t.tables_locked = NumberAfter(line, "locked");
    return true;
  }
  if (line.find("lock struct(s)") != string_view::npos) {
    t.lock_wait = StartsWith(line, "LOCK WAIT");
    t.lock_structs = NumberBefore(line, "lock struct(s)");
    t.heap_size = NumberAfter(line, "heap size");
    t.row_locks = NumberBefore(line, "row lock(s)");
    t.undo_log_entries = NumberAfter(line, "undo log entries");
    return true;
  }
  if (StartsWith(line, "Trx read view")) {
    t.has_read_view = true;
    return true;
  }
  if (StartsWith(line, "Trx #rec lock waits") || StartsWith(line, "Trx has approximately")) {
    return true;
  }
  return false;
}

bool IsLockLine(string_view line) {
  return StartsWith(line, "RECORD LOCKS") || StartsWith(line, "TABLE LOCK");
}

// Lines inside a lock dump that carry no information we keep.
bool IsLockDumpLine(string_view line) {
  return StartsWith(line, "Record lock, heap no") || StartsWith(line, " ") ||
         StartsWith(line, "\t") || StartsWith(line, "PHYSICAL RECORD");
}

void AppendQueryLine(InnodbTransaction& t, string_view line) {
  if (!t.query.empty()) t.query += '\n';
  t.query += line;
}

void TrimQuery(InnodbTransaction& t) {
  const string_view trimmed = core::Trim(t.query);
  if (trimmed.size() != t.query.size()) t.query = std::string(trimmed);
}

InnodbDeadlock ParseDeadlock(string_view body) {
  InnodbDeadlock d;
  enum class Mode { kNone, kTransaction, kWaiting, kHolds, kConflicting };
  Mode mode = Mode::kNone;
  InnodbTransaction* current = nullptr;
  bool thread_seen = false;
  bool next_is_victim = false;
  std::vector<InnodbLock> conflicting;
  for (string_view line : Lines(body)) {
    const string_view trimmed = core::Trim(line);
    if (!d.time && d.transactions.empty() && !trimmed.empty()) {
      if (auto time = ParseInnodbTime(trimmed)) {
        d.time = time;
        continue;
      }
    }
    if (StartsWith(trimmed, "*** ")) {
      string_view marker = trimmed.substr(4);
      int number = 0;
      if (StartsWith(marker, "(")) {
        size_t pos = 1;
        number = static_cast<int>(Digits(marker, pos, 6).value_or(0));
        const size_t close = marker.find(')');
        marker = close == string_view::npos ? string_view() : core::Trim(marker.substr(close + 1));
      }
      auto find = [&](int n) -> InnodbTransaction* {
        for (auto& t : d.transactions) {
          if (t.number == n) return &t;
        }
        return nullptr;
      };
      if (StartsWith(marker, "TRANSACTION")) {
        InnodbTransaction t;
        t.number = next_is_victim ? -1 : number;
        d.transactions.push_back(std::move(t));
        current = &d.transactions.back();
        if (next_is_victim) d.rolled_back = -1;
        next_is_victim = false;
        thread_seen = false;
        mode = Mode::kTransaction;
      } else if (StartsWith(marker, "WAITING FOR THIS LOCK")) {
        if (number != 0) current = find(number);
        mode = Mode::kWaiting;
      } else if (StartsWith(marker, "HOLDS THE LOCK")) {
        if (number != 0) current = find(number);
        mode = Mode::kHolds;
      } else if (StartsWith(marker, "CONFLICTING WITH")) {
        mode = Mode::kConflicting;
      } else if (StartsWith(marker, "WE ROLL BACK TRANSACTION")) {
        const size_t open = marker.find('(');
        if (open != string_view::npos) {
          size_t pos = open + 1;
          const int n = static_cast<int>(Digits(marker, pos, 6).value_or(0));
          if (find(n) != nullptr) d.rolled_back = n;
        }
        mode = Mode::kNone;
      } else {
        mode = Mode::kNone;
      }
      continue;
    }
    if (StartsWith(trimmed, "TOO DEEP OR LONG SEARCH")) {
      d.search_too_deep = true;
      next_is_victim = true;
      mode = Mode::kNone;
      continue;
    }
    if (current == nullptr) continue;
    switch (mode) {
      case Mode::kTransaction:
        if (StartsWith(trimmed, "TRANSACTION ")) {
          ParseTransactionHeader(trimmed, *current);
        } else if (!thread_seen && ParseThreadLine(trimmed, *current)) {
          thread_seen = true;
        } else if (!thread_seen && ParseTransactionDetail(trimmed, *current)) {
        } else if (thread_seen) {
          AppendQueryLine(*current, line);
        }
        break;
      case Mode::kWaiting:
      case Mode::kHolds:
      case Mode::kConflicting:
        if (!IsLockLine(trimmed)) break;
        if (auto lock = ParseInnodbLockLine(trimmed)) {
          if (mode == Mode::kConflicting) {
            conflicting.push_back(std::move(*lock));
          } else if (mode == Mode::kWaiting) {
            current->waits_for.push_back(std::move(*lock));
          } else {
            current->holds.push_back(std::move(*lock));
          }
        }
        break;
      case Mode::kNone:
        break;
    }
  }
  // MariaDB 10.6+: the locks each waiter conflicts with belong to other transactions of the
  // cycle; give each to its owner (by trx id) as a lock it holds.
  for (auto& lock : conflicting) {
    for (auto& t : d.transactions) {
      if (t.trx_id.empty() || t.trx_id != lock.trx_id) continue;
      const bool known = std::any_of(t.holds.begin(), t.holds.end(), [&](const InnodbLock& h) {
        return h.Describe() == lock.Describe();
      });
      if (!known) t.holds.push_back(lock);
      break;
    }
  }
  for (auto& t : d.transactions) TrimQuery(t);
  return d;
}

// "TRX HAS BEEN WAITING 43 SEC FOR THIS LOCK" / MariaDB "... 1375762 us FOR ...".
std::optional<double> WaitSeconds(string_view line) {
  const size_t at = line.find("HAS BEEN WAITING ");
  if (at == string_view::npos) return std::nullopt;
  size_t pos = at + std::string_view("HAS BEEN WAITING ").size();
  auto value = Digits(line, pos);
  if (!value) return std::nullopt;
  const string_view unit = core::Trim(line.substr(pos));
  if (StartsWith(unit, "us")) return static_cast<double>(*value) / 1e6;
  if (StartsWith(unit, "ms")) return static_cast<double>(*value) / 1e3;
  return static_cast<double>(*value);
}

std::vector<InnodbTransaction> ParseTransactionList(string_view body) {
  std::vector<InnodbTransaction> list;
  enum class Mode { kHeader, kQuery, kWaitLock, kLocks };
  Mode mode = Mode::kHeader;
  for (string_view line : Lines(body)) {
    const string_view trimmed = core::Trim(line);
    if (StartsWith(trimmed, "---TRANSACTION")) {
      list.emplace_back();
      ParseTransactionHeader(trimmed, list.back());
      mode = Mode::kHeader;
      continue;
    }
    if (list.empty()) continue;
    InnodbTransaction& t = list.back();
    if (StartsWith(trimmed, "------- TRX HAS BEEN WAITING") ||
        StartsWith(trimmed, "TRX HAS BEEN WAITING")) {
      t.lock_wait_seconds = WaitSeconds(trimmed);
      mode = Mode::kWaitLock;
      continue;
    }
    if (IsRule(trimmed, '-')) {
      mode = Mode::kLocks;
      continue;
    }
    if (IsLockLine(trimmed)) {
      if (auto lock = ParseInnodbLockLine(trimmed)) {
        if (mode == Mode::kWaitLock && lock->waiting) {
          t.waits_for.push_back(std::move(*lock));
        } else {
          t.holds.push_back(std::move(*lock));
        }
      }
      if (mode != Mode::kWaitLock) mode = Mode::kLocks;
      continue;
    }
    if (mode == Mode::kWaitLock || mode == Mode::kLocks) continue;
    if (mode == Mode::kHeader) {
      if (ParseThreadLine(trimmed, t)) {
        mode = Mode::kQuery;
      } else {
        ParseTransactionDetail(trimmed, t);
      }
      continue;
    }
    // kQuery: the statement, until a detail line ("Trx read view ...") or a lock.
    if (ParseTransactionDetail(trimmed, t)) {
      mode = Mode::kLocks;
      continue;
    }
    if (IsLockDumpLine(line) && t.query.empty()) continue;
    AppendQueryLine(t, line);
  }
  for (auto& t : list) TrimQuery(t);
  return list;
}

void ParseTransactionsSection(string_view body, InnodbStatus& status) {
  for (string_view line : Lines(body)) {
    line = core::Trim(line);
    if (StartsWith(line, "Trx id counter")) {
      status.trx_id_counter = std::string(core::Trim(line.substr(14)));
    } else if (StartsWith(line, "History list length")) {
      status.history_list_length = NumberAfter(line, "History list length");
    }
  }
  status.transactions = ParseTransactionList(body);
}

int64_t DaysFromCivil(int64_t y, int64_t m, int64_t d) {
  // Howard Hinnant's days_from_civil.
  y -= m <= 2 ? 1 : 0;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;
  const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

}  // namespace

std::string InnodbTime::ToString() const {
  return fmt::format("{:04}-{:02}-{:02} {:02}:{:02}:{:02}", year, month, day, hour, minute, second);
}

int64_t InnodbTime::Seconds() const {
  return DaysFromCivil(year, month, day) * 86400 + int64_t{hour} * 3600 + int64_t{minute} * 60 +
         second;
}

std::optional<InnodbTime> ParseInnodbTime(string_view line) {
  line = core::Trim(line);
  InnodbTime t;
  size_t pos = 0;
  auto date = Digits(line, pos, 8);
  if (!date) return std::nullopt;
  if (pos == 4 && pos < line.size() && line[pos] == '-') {
    // 2019-12-23 18:55:18
    t.year = static_cast<int>(*date);
    ++pos;
    auto month = Digits(line, pos, 2);
    if (!month || pos >= line.size() || line[pos] != '-') return std::nullopt;
    ++pos;
    auto day = Digits(line, pos, 2);
    if (!day) return std::nullopt;
    t.month = static_cast<int>(*month);
    t.day = static_cast<int>(*day);
  } else if (pos == 6) {
    // 111226 14:48:08 (YYMMDD, hour padded with a space)
    t.year = 2000 + static_cast<int>(*date / 10000);
    t.month = static_cast<int>(*date / 100 % 100);
    t.day = static_cast<int>(*date % 100);
  } else {
    return std::nullopt;
  }
  if (pos >= line.size() || line[pos] != ' ') return std::nullopt;
  while (pos < line.size() && line[pos] == ' ') ++pos;
  auto hour = Digits(line, pos, 2);
  if (!hour || pos >= line.size() || line[pos] != ':') return std::nullopt;
  ++pos;
  auto minute = Digits(line, pos, 2);
  if (!minute || pos >= line.size() || line[pos] != ':') return std::nullopt;
  ++pos;
  auto second = Digits(line, pos, 2);
  if (!second) return std::nullopt;
  t.hour = static_cast<int>(*hour);
  t.minute = static_cast<int>(*minute);
  t.second = static_cast<int>(*second);
  if (t.month < 1 || t.month > 12 || t.day < 1 || t.day > 31 || t.hour > 23 || t.minute > 59 ||
      t.second > 60) {
    return std::nullopt;
  }
  return t;
}

std::string InnodbLock::Describe() const {
  std::string out = mode.empty() ? "lock" : mode;
  if (!detail.empty()) out += " " + detail;
  out += " on ";
  out += schema.empty() ? fmt::format("`{}`", table) : fmt::format("`{}`.`{}`", schema, table);
  if (!index.empty()) out += " index " + index;
  return out;
}

std::optional<InnodbLock> ParseInnodbLockLine(string_view line) {
  line = core::Trim(line);
  InnodbLock lock;
  string_view table_part;
  if (StartsWith(line, "RECORD LOCKS")) {
    lock.type = "RECORD";
    const size_t index = line.find(" index ");
    const size_t of_table = line.find(" of table ");
    if (index != string_view::npos && of_table != string_view::npos && index < of_table) {
      lock.index = Unquote(line.substr(index + 7, of_table - index - 7));
    }
    if (of_table != string_view::npos) table_part = line.substr(of_table + 10);
  } else if (StartsWith(line, "TABLE LOCK")) {
    lock.type = "TABLE";
    const size_t table = line.find("table ", 10);
    if (table != string_view::npos) table_part = line.substr(table + 6);
  } else {
    return std::nullopt;
  }
  const size_t trx = table_part.find(" trx id ");
  string_view name = table_part.substr(0, trx);
  // MySQL 8.0 appends "/* Partition `p0` */" to a partitioned table's name.
  const size_t comment = name.find(" /*");
  if (comment != string_view::npos) name = name.substr(0, comment);
  auto [schema, table] = SplitTableName(name);
  lock.schema = std::move(schema);
  lock.table = std::move(table);
  if (trx == string_view::npos) return lock;
  string_view rest = table_part.substr(trx + 8);
  // "lock_mode X" (record locks) or "lock mode S" / "lock mode IX"; both labels are 10 long.
  size_t mode_at = rest.find("lock_mode ");
  if (mode_at == string_view::npos) mode_at = rest.find("lock mode ");
  if (mode_at == string_view::npos) {
    lock.trx_id = std::string(core::Trim(rest));
    return lock;
  }
  lock.trx_id = std::string(core::Trim(rest.substr(0, mode_at)));
  rest = rest.substr(mode_at + 10);
  const size_t space = rest.find(' ');
  lock.mode = std::string(rest.substr(0, space));
  string_view detail = space == string_view::npos ? string_view() : core::Trim(rest.substr(space));
  if (detail.size() >= 7 && detail.substr(detail.size() - 7) == "waiting") {
    lock.waiting = true;
    detail = core::Trim(detail.substr(0, detail.size() - 7));
  }
  if (StartsWith(detail, "locks ")) detail.remove_prefix(6);
  lock.detail = std::string(detail);
  return lock;
}

const InnodbTransaction* InnodbDeadlock::RolledBack() const {
  if (!rolled_back) return nullptr;
  for (const auto& t : transactions) {
    if (t.number == *rolled_back) return &t;
  }
  return nullptr;
}

const std::string* InnodbStatus::Section(string_view title) const {
  for (const auto& [name, body] : sections) {
    if (name == title) return &body;
  }
  return nullptr;
}

InnodbStatus ParseInnodbStatus(string_view text) {
  InnodbStatus status;
  const std::vector<string_view> lines = Lines(text);
  // Header time: the line "2019-09-06 12:44:13 0x7f93cc236700 INNODB MONITOR OUTPUT".
  for (string_view line : lines) {
    if (line.find("INNODB MONITOR OUTPUT") != string_view::npos &&
        line.find("END OF") == string_view::npos) {
      status.time = ParseInnodbTime(line);
      break;
    }
  }
  // Sections: a rule of dashes, an upper-case title, a rule of dashes.
  struct Header {
    size_t line;
    std::string title;
  };
  std::vector<Header> headers;
  for (size_t i = 0; i + 2 < lines.size(); ++i) {
    if (IsRule(lines[i], '-') && IsTitle(lines[i + 1]) && IsRule(lines[i + 2], '-')) {
      headers.push_back({i, std::string(core::Trim(lines[i + 1]))});
      i += 2;
    }
  }
  for (size_t h = 0; h < headers.size(); ++h) {
    const size_t begin = headers[h].line + 3;
    size_t end = h + 1 < headers.size() ? headers[h + 1].line : lines.size();
    // The trailer "----\nEND OF INNODB MONITOR OUTPUT\n====" is not part of the last section.
    for (size_t i = begin; i < end; ++i) {
      if (core::Trim(lines[i]) == "END OF INNODB MONITOR OUTPUT") {
        end = i > begin && IsRule(lines[i - 1], '-') ? i - 1 : i;
        break;
      }
    }
    std::string body;
    for (size_t i = begin; i < end; ++i) {
      body.append(lines[i]);
      body += '\n';
    }
    status.sections.emplace_back(headers[h].title, std::move(body));
  }
  if (const std::string* deadlock = status.Section("LATEST DETECTED DEADLOCK")) {
    status.latest_deadlock = ParseDeadlock(*deadlock);
  }
  status.has_foreign_key_error = status.Section("LATEST FOREIGN KEY ERROR") != nullptr;
  if (const std::string* transactions = status.Section("TRANSACTIONS")) {
    ParseTransactionsSection(*transactions, status);
  } else if (headers.empty()) {
    // An excerpt (documentation pages publish single transaction entries).
    ParseTransactionsSection(text, status);
  }
  return status;
}

core::Result<InnodbStatus> ReadInnodbStatus(TargetSession& target) {
  auto result = target.session->Query(dialect::InnodbStatus(target.dialect));
  if (!result) return core::Fail(result.error());
  if (result->rows.empty()) {
    return core::MakeError(
        core::ErrorCode::kParse,
        fmt::format("target '{}': SHOW ENGINE INNODB STATUS returned no row", target.target_name()),
        "is InnoDB disabled on this server?");
  }
  const mysql::Row& row = result->rows[0];
  auto text = row["Status"].AsString();
  if (!text && row.size() >= 3) text = row.at(2).AsString();
  return ParseInnodbStatus(text.value_or(""));
}

}  // namespace dbrunbook::collect
