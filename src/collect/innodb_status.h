// SHOW ENGINE INNODB STATUS, parsed: its sections, the latest detected deadlock, and the
// basics of the TRANSACTIONS section (history list length, the transactions and their lock
// waits).
//
// The text is outside input: its format changed across MySQL 5.0-9.x, Percona Server, MariaDB
// (which prints "MariaDB thread id", waits in microseconds, and from 10.6 "*** CONFLICTING
// WITH:" instead of "*** (2) HOLDS THE LOCK(S):") and Aurora, documentation pages publish
// excerpts of it, and a server truncates it at 1 MB. The parser therefore never fails: what it
// cannot read stays empty (nullopt / empty string), and unknown lines are skipped. Formats
// checked against real outputs (../shared/conformance/server-outputs/innodb-status): MySQL
// 5.1-5.7, 8.0.12, 8.1.0, 9.2.0, Percona Server 5.5 and 8.0.32, MariaDB 10.x documentation and
// a live MariaDB 10.11 deadlock, Aurora v2/v3 excerpts. MySQL 8.0.18+ prints "*** (N) HOLDS
// THE LOCK(S):" for every transaction of a deadlock; that form is parsed from its documented
// shape but no recorded output of it exists here.
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "collect/target_session.h"

namespace dbrunbook::collect {

// A time as InnoDB prints it ("2019-12-23 18:55:18", or "111226 14:48:08" before MySQL 5.6),
// in the server's local time zone: only differences between two of them mean something.
struct InnodbTime {
  int year = 0;
  int month = 0;
  int day = 0;
  int hour = 0;
  int minute = 0;
  int second = 0;

  // "2012-09-06 06:03:32"
  std::string ToString() const;
  // Seconds since 1970-01-01 00:00:00 of the same (unknown) time zone.
  int64_t Seconds() const;
  friend bool operator==(const InnodbTime&, const InnodbTime&) = default;
};

// Parses the time at the start of `line`; nullopt when it does not start with one.
std::optional<InnodbTime> ParseInnodbTime(std::string_view line);

// One lock line: "RECORD LOCKS space id 40 page no 3 n bits 80 index PRIMARY of table
// `test`.`t` trx id 847 lock_mode X locks rec but not gap waiting" or "TABLE LOCK table
// `test`.`t` trx id 907 lock mode IX".
struct InnodbLock {
  std::string type;    // "RECORD" or "TABLE"
  std::string schema;  // "test" (unquoted)
  std::string table;   // "t"
  std::string index;   // "PRIMARY"; empty for a table lock
  std::string mode;    // "X", "S", "IX", "IS", "AUTO-INC"
  // What the mode applies to, without "locks ": "rec but not gap", "gap before rec",
  // "insert intention"; empty for a next-key (record and gap) lock.
  std::string detail;
  bool waiting = false;
  std::string trx_id;  // the transaction the lock belongs to, as printed

  // "X rec but not gap on `test`.`t` index PRIMARY" (or "IX on `test`.`t`").
  std::string Describe() const;
};

// Parses one lock line; nullopt when `line` is not one.
std::optional<InnodbLock> ParseInnodbLockLine(std::string_view line);

// A transaction as printed in TRANSACTIONS or in a deadlock.
struct InnodbTransaction {
  int number = 0;  // its "(N)" in a deadlock report; 0 elsewhere
  std::string trx_id;
  std::string status;  // "ACTIVE", "ACTIVE (PREPARED)", "not started", "COMMITTED IN MEMORY"
  std::optional<int64_t> active_seconds;
  std::string operation;              // "starting index read", "inserting", "fetching rows" ...
  std::optional<uint64_t> thread_id;  // "MySQL/MariaDB thread id": the processlist id
  std::optional<uint64_t> query_id;
  std::string host;  // host name, else the IP address
  std::string ip;    // the IP address when printed
  std::string user;
  std::string state;       // the session's state ("updating", "Sending data")
  std::string query;       // the statement printed after the thread line; may be empty
  bool lock_wait = false;  // "LOCK WAIT ..." line
  std::optional<double> lock_wait_seconds;  // "TRX HAS BEEN WAITING 43 SEC" / "... 1375762 us"
  std::optional<int64_t> tables_in_use;
  std::optional<int64_t> tables_locked;
  std::optional<int64_t> lock_structs;
  std::optional<int64_t> heap_size;
  std::optional<int64_t> row_locks;
  std::optional<int64_t> undo_log_entries;
  bool has_read_view = false;
  std::vector<InnodbLock> holds;      // locks it holds (deadlock report; lock monitor output)
  std::vector<InnodbLock> waits_for;  // the lock it waits for
};

struct InnodbDeadlock {
  std::optional<InnodbTime> time;
  std::vector<InnodbTransaction> transactions;  // in printed order
  // Number ("(N)") of the transaction InnoDB rolled back, when the report names one of the
  // printed transactions. Older MariaDB releases print "(0)" (MDEV-29187), which names none:
  // then nullopt.
  std::optional<int> rolled_back;
  // "TOO DEEP OR LONG SEARCH IN THE LOCK TABLE WAITS-FOR GRAPH": InnoDB gave up searching and
  // rolled back the transaction printed after that line (its number is then -1).
  bool search_too_deep = false;

  const InnodbTransaction* RolledBack() const;
};

struct InnodbStatus {
  std::optional<InnodbTime> time;  // when the server printed the output
  // Every "-----\nTITLE\n-----" section in order, with its body text.
  std::vector<std::pair<std::string, std::string>> sections;
  std::optional<InnodbDeadlock> latest_deadlock;
  bool has_foreign_key_error = false;  // a LATEST FOREIGN KEY ERROR section is present
  std::optional<int64_t> history_list_length;
  std::string trx_id_counter;
  std::vector<InnodbTransaction> transactions;  // LIST OF TRANSACTIONS FOR EACH SESSION

  // Body of the section with this title; nullptr when absent.
  const std::string* Section(std::string_view title) const;
};

// Parses the Status text of SHOW ENGINE INNODB STATUS (leading "Type/Name/Status" or prompt
// lines are tolerated; an excerpt without section headers is read as a transaction list).
InnodbStatus ParseInnodbStatus(std::string_view text);

// Runs SHOW ENGINE INNODB STATUS (needs PROCESS) and parses its Status column.
core::Result<InnodbStatus> ReadInnodbStatus(TargetSession& target);

}  // namespace dbrunbook::collect
