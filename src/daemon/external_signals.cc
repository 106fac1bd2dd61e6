#include "daemon/external_signals.h"

#include <algorithm>

namespace dbrunbook::daemon {

void ExternalSignals::Set(const std::string& target, const std::string& signal,
                          const std::string& source, double value, core::WallTime at) {
  Values& sources = values_[target][signal];
  auto it = sources.find(source);
  if (it != sources.end()) {
    if (at >= it->second.second) it->second = {value, at};
    return;
  }
  if (sources.size() >= kMaxSources) {
    sources.erase(std::min_element(
        sources.begin(), sources.end(),
        [](const auto& a, const auto& b) { return a.second.second < b.second.second; }));
  }
  sources.emplace(source, std::make_pair(value, at));
}

std::map<std::string, double> ExternalSignals::Fresh(const std::string& target,
                                                     core::WallTime now) {
  std::map<std::string, double> out;
  auto found = values_.find(target);
  if (found == values_.end()) return out;
  for (auto signal = found->second.begin(); signal != found->second.end();) {
    Values& sources = signal->second;
    for (auto it = sources.begin(); it != sources.end();) {
      if (now - it->second.second > ttl_) {
        it = sources.erase(it);
      } else {
        out[signal->first] += it->second.first;
        ++it;
      }
    }
    signal = sources.empty() ? found->second.erase(signal) : std::next(signal);
  }
  return out;
}

}  // namespace dbrunbook::daemon
