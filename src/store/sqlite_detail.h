// Internal to the store module: the SQLite handles and the small helpers every part of the
// store (audit log, recoveries, incidents) uses. Not for other modules.
#pragma once

#include <sqlite3.h>

#include <memory>
#include <string>
#include <string_view>

#include "core/error.h"
#include "store/store.h"

namespace dbrunbook::store::detail {

struct DbCloser {
  void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
};
struct StatementFinalizer {
  void operator()(sqlite3_stmt* statement) const { sqlite3_finalize(statement); }
};
using DbPtr = std::unique_ptr<sqlite3, DbCloser>;
using StatementPtr = std::unique_ptr<sqlite3_stmt, StatementFinalizer>;

// A kIo error naming the file, what failed and SQLite's message, with the store's hint.
core::Error StoreError(const std::string& path, std::string_view what, sqlite3* db);
core::Status Exec(sqlite3* db, const std::string& path, std::string_view sql,
                  std::string_view what);
core::Result<StatementPtr> Prepare(sqlite3* db, const std::string& path, std::string_view sql);
void BindText(sqlite3_stmt* statement, int index, const std::string& text);
std::string ColumnText(sqlite3_stmt* statement, int column);
// Inserts one outbox row unless its (key, channel) is there: whether it was written
// (outbox.cc; also used inside SaveIncident's transaction).
core::Result<bool> InsertOutboxRow(sqlite3* db, const std::string& path, const OutboxRow& row);

}  // namespace dbrunbook::store::detail

namespace dbrunbook::store {

struct Store::Impl {
  detail::DbPtr db;
  detail::StatementPtr insert;
  detail::StatementPtr recent;
  detail::StatementPtr recent_for_target;
};

}  // namespace dbrunbook::store
