// The runbook's connectivity test: can we reach the target, how, and how fast.
//
// Connects (TCP or socket, TLS as configured), detects the flavor, then times a few trivial
// round trips and reports the median, so one slow packet does not decide the result.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/error.h"
#include "dialect/flavor.h"
#include "mysql/session.h"

namespace dbrunbook::steps {

struct ConnectivityResult {
  std::string target;
  std::string endpoint;  // "tcp 127.0.0.1:3306" / "socket /path"
  std::string user;
  std::optional<core::Error> error;  // set when the target could not be reached or detected
  bool tls = false;
  std::string tls_version;
  std::string tls_cipher;
  core::Duration connect_time{};  // transport + TLS + authentication
  core::Duration detect_time{};   // flavor detection after authentication
  std::vector<core::Duration> round_trips;
  core::Duration median_round_trip{};
  std::string server_version;
  dialect::Flavor flavor;

  bool reachable() const { return !error.has_value(); }
};

ConnectivityResult CheckConnectivity(mysql::SessionFactory& factory,
                                     const mysql::ConnectOptions& options, core::Clock& clock,
                                     int round_trips = 5);

}  // namespace dbrunbook::steps
