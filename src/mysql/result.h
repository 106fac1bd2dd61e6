// Rows returned by a statement, typed access by column name.
//
// The text protocol returns every value as bytes (or NULL); `Field` converts on access and
// says when a value is missing, NULL or not a number, so callers never confuse "0" with
// "unknown". Column lookup is case-insensitive because servers disagree on the case of
// column names (SHOW STATUS gives `Variable_name`, information_schema `VARIABLE_NAME`).
//
// Thread-safety: immutable after construction; safe to share between threads.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/strings.h"

namespace dbrunbook::mysql {

enum class ColumnKind { kInteger, kDecimal, kFloat, kString, kBinary, kTemporal, kOther };

struct Column {
  std::string name;
  ColumnKind kind = ColumnKind::kString;
};

// Column names and their positions, shared by all rows of a result.
class Columns {
 public:
  explicit Columns(std::vector<Column> columns);
  const std::vector<Column>& list() const { return columns_; }
  std::optional<size_t> IndexOf(std::string_view name) const;
  size_t size() const { return columns_.size(); }

 private:
  std::vector<Column> columns_;
  std::map<std::string, size_t, core::CaseInsensitiveLess> index_;
};

// One value. A default-constructed Field is "missing" (the column does not exist).
class Field {
 public:
  Field() = default;
  Field(const std::optional<std::string>* value, bool present) : value_(value), present_(present) {}

  bool present() const { return present_; }
  bool is_null() const { return !present_ || value_ == nullptr || !value_->has_value(); }

  // Text of the value; nullopt when NULL or missing.
  std::optional<std::string_view> AsString() const;
  std::string StringOr(std::string_view fallback) const;
  // A copy of the text; nullopt when NULL or missing.
  std::optional<std::string> AsText() const;
  // Numeric conversions; nullopt when NULL, missing or not a number.
  std::optional<int64_t> AsInt64() const;
  std::optional<uint64_t> AsUint64() const;
  std::optional<double> AsDouble() const;
  // ON/OFF, Yes/No, 1/0, true/false.
  std::optional<bool> AsBool() const;

 private:
  const std::optional<std::string>* value_ = nullptr;
  bool present_ = false;
};

class Row {
 public:
  Row(std::shared_ptr<const Columns> columns, std::vector<std::optional<std::string>> values);

  // A missing column yields a Field whose present() is false.
  Field operator[](std::string_view column) const;
  Field at(size_t index) const;
  bool Has(std::string_view column) const { return columns_->IndexOf(column).has_value(); }
  size_t size() const { return values_.size(); }
  const Columns& columns() const { return *columns_; }

 private:
  std::shared_ptr<const Columns> columns_;
  std::vector<std::optional<std::string>> values_;
};

struct ServerWarning {
  std::string level;  // Note, Warning, Error
  int code = 0;
  std::string message;
};

struct ResultSet {
  std::shared_ptr<const Columns> columns = std::make_shared<Columns>(std::vector<Column>{});
  std::vector<Row> rows;
  uint64_t affected_rows = 0;
  std::vector<ServerWarning> warnings;

  bool empty() const { return rows.empty(); }
};

// Builds a ResultSet from column names and text values; used by fakes and by parsers of
// recorded server output. A value of nullopt is SQL NULL.
ResultSet MakeResultSet(const std::vector<std::string>& column_names,
                        const std::vector<std::vector<std::optional<std::string>>>& rows);

}  // namespace dbrunbook::mysql
