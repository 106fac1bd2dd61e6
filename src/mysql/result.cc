#include "mysql/result.h"

namespace dbrunbook::mysql {

Columns::Columns(std::vector<Column> columns) : columns_(std::move(columns)) {
  for (size_t i = 0; i < columns_.size(); ++i) {
    // First occurrence wins (joins may repeat a name).
    index_.emplace(columns_[i].name, i);
  }
}

std::optional<size_t> Columns::IndexOf(std::string_view name) const {
  auto it = index_.find(name);
  if (it == index_.end()) return std::nullopt;
  return it->second;
}

std::optional<std::string_view> Field::AsString() const {
  if (is_null()) return std::nullopt;
  return std::string_view(**value_);
}

std::optional<std::string> Field::AsText() const {
  auto s = AsString();
  if (!s) return std::nullopt;
  return std::string(*s);
}

std::string Field::StringOr(std::string_view fallback) const {
  auto s = AsString();
  return std::string(s ? *s : fallback);
}

std::optional<int64_t> Field::AsInt64() const {
  auto s = AsString();
  if (!s) return std::nullopt;
  if (auto v = core::ParseInt64(*s)) return v;
  // Decimal text such as "12.000000" (TIME columns, SUM()) truncates toward zero.
  if (auto d = core::ParseDouble(*s)) return static_cast<int64_t>(*d);
  return std::nullopt;
}

std::optional<uint64_t> Field::AsUint64() const {
  auto s = AsString();
  if (!s) return std::nullopt;
  if (auto v = core::ParseUint64(*s)) return v;
  if (auto d = core::ParseDouble(*s); d && *d >= 0) return static_cast<uint64_t>(*d);
  return std::nullopt;
}

std::optional<double> Field::AsDouble() const {
  auto s = AsString();
  if (!s) return std::nullopt;
  return core::ParseDouble(*s);
}

std::optional<bool> Field::AsBool() const {
  auto s = AsString();
  if (!s) return std::nullopt;
  return core::ParseBool(*s);
}

Row::Row(std::shared_ptr<const Columns> columns, std::vector<std::optional<std::string>> values)
    : columns_(std::move(columns)), values_(std::move(values)) {}

Field Row::operator[](std::string_view column) const {
  auto index = columns_->IndexOf(column);
  if (!index || *index >= values_.size()) return Field();
  return Field(&values_[*index], true);
}

Field Row::at(size_t index) const {
  if (index >= values_.size()) return Field();
  return Field(&values_[index], true);
}

ResultSet MakeResultSet(const std::vector<std::string>& column_names,
                        const std::vector<std::vector<std::optional<std::string>>>& rows) {
  std::vector<Column> columns;
  columns.reserve(column_names.size());
  for (const auto& name : column_names) columns.push_back(Column{name, ColumnKind::kString});
  ResultSet result;
  result.columns = std::make_shared<Columns>(std::move(columns));
  for (const auto& values : rows) {
    auto padded = values;
    padded.resize(column_names.size());
    result.rows.emplace_back(result.columns, std::move(padded));
  }
  return result;
}

}  // namespace dbrunbook::mysql
