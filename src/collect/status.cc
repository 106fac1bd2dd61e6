#include "collect/status.h"

namespace dbrunbook::collect {

std::optional<double> StatusSample::Get(std::string_view name) const {
  auto it = values.find(name);
  if (it == values.end()) return std::nullopt;
  return core::ParseDouble(it->second);
}

namespace {

core::Result<StatusSample> Sample(TargetSession& target, core::Clock& clock,
                                  const std::string& statement) {
  auto result = target.session->Query(statement);
  if (!result) return core::Fail(result.error());
  StatusSample sample;
  // The midpoint would be more exact, but a local SHOW STATUS takes well under a millisecond
  // compared with intervals of a second or more.
  sample.taken = clock.MonotonicNow();
  sample.wall = clock.WallNow();
  for (const auto& row : result->rows) {
    auto name = row.at(0).AsString();
    auto value = row.at(1).AsString();
    if (name && value) sample.values.emplace(std::string(*name), std::string(*value));
  }
  return sample;
}

}  // namespace

core::Result<StatusSample> SampleStatus(TargetSession& target, core::Clock& clock) {
  return Sample(target, clock, target.dialect.GlobalStatus());
}

core::Result<StatusSample> SampleStatus(TargetSession& target, core::Clock& clock,
                                        const std::vector<std::string>& names,
                                        const std::vector<std::string>& prefixes) {
  return Sample(target, clock, target.dialect.GlobalStatusOf(names, prefixes));
}

std::optional<double> Delta(const StatusSample& before, const StatusSample& after,
                            std::string_view counter) {
  auto a = before.Get(counter);
  auto b = after.Get(counter);
  if (!a || !b || *b < *a) return std::nullopt;
  return *b - *a;
}

std::optional<double> Rate(const StatusSample& before, const StatusSample& after,
                           std::string_view counter) {
  const double seconds = core::ToSeconds(after.taken - before.taken);
  if (seconds <= 0) return std::nullopt;
  auto delta = Delta(before, after, counter);
  if (!delta) return std::nullopt;
  return *delta / seconds;
}

}  // namespace dbrunbook::collect
