#include "steps/connectivity.h"

#include <algorithm>

#include "collect/target_session.h"

namespace dbrunbook::steps {

ConnectivityResult CheckConnectivity(mysql::SessionFactory& factory,
                                     const mysql::ConnectOptions& options, core::Clock& clock,
                                     int round_trips) {
  ConnectivityResult r;
  r.target = options.target_name;
  r.endpoint = options.Endpoint();
  r.user = options.user;
  auto target = collect::OpenTargetSession(factory, options, clock);
  if (!target) {
    r.error = target.error();
    return r;
  }
  const auto& info = target->session->info();
  r.tls = info.tls;
  r.tls_version = info.tls_version;
  r.tls_cipher = info.tls_cipher;
  r.connect_time = info.connect_time;
  r.detect_time = target->detect_time;
  r.server_version = info.server_version;
  r.flavor = target->flavor();
  for (int i = 0; i < round_trips; ++i) {
    const auto start = clock.MonotonicNow();
    auto result = target->session->Query(dialect::Dialect::Ping());
    if (!result) {
      r.error = result.error();
      return r;
    }
    r.round_trips.push_back(clock.MonotonicNow() - start);
  }
  if (!r.round_trips.empty()) {
    auto sorted = r.round_trips;
    std::sort(sorted.begin(), sorted.end());
    r.median_round_trip = sorted[sorted.size() / 2];
  }
  return r;
}

}  // namespace dbrunbook::steps
