// One target's poller: the watch daemon's eyes on one server.
//
// Poll() reads the fast signals (SHOW GLOBAL STATUS, the active statements, replica status:
// three statements) on a monitoring session it keeps open, and every `slow_interval` the slow
// ones (a fresh probe connection, timed; the InnoDB history list length). Counter signals are
// rates against the previous poll's status sample. A server that cannot be reached, or a
// session lost mid-poll, gives a batch with target_unreachable = 1 and the error; the next poll
// reconnects. Errors that leave the session usable (a missing privilege) drop only the
// signals they concern, and are reported in `errors`.
//
// Every statement is bounded by the session's read timeout (PollerOptions::read_timeout), so
// one hung server holds one poller, never the daemon.
//
// Thread-safety: one thread at a time per poller; pollers of different targets are
// independent.
#pragma once

#include <deque>
#include <memory>
#include <optional>
#include <string>

#include "collect/status.h"
#include "collect/target_session.h"
#include "core/clock.h"
#include "mysql/connect_options.h"
#include "mysql/session.h"
#include "watch/signals.h"

namespace dbrunbook::daemon {

struct PollerOptions {
  core::Duration slow_interval = std::chrono::seconds(10);
  std::chrono::milliseconds connect_timeout{3000};
  std::chrono::milliseconds read_timeout{5000};
};

class TargetPoller {
 public:
  TargetPoller(std::string target, mysql::ConnectOptions options,
               std::shared_ptr<mysql::SessionFactory> factory, core::Clock& clock,
               PollerOptions poller_options = {});

  const std::string& target() const { return target_; }

  // One poll. Never fails: what cannot be read is absent from the batch or makes it an
  // unreachable one.
  watch::SampleBatch Poll();

  // Statements sent by the monitoring sessions and probes so far (for the benchmark).
  uint64_t statements_sent() const;
  // Errors of the last poll that did not make the target unreachable ("processlist: ...").
  const std::vector<std::string>& errors() const { return errors_; }

 private:
  void Unreachable(watch::SampleBatch& batch, const core::Error& error);
  void PollSlow(watch::SampleBatch& batch);

  std::string target_;
  mysql::ConnectOptions options_;
  std::shared_ptr<mysql::SessionFactory> factory_;
  core::Clock& clock_;
  PollerOptions poller_options_;
  std::optional<collect::TargetSession> session_;
  std::optional<collect::StatusSample> previous_;
  std::optional<core::MonoTime> last_slow_;
  std::deque<core::MonoTime> probe_failures_;
  uint64_t closed_sessions_statements_ = 0;
  uint64_t probe_statements_ = 0;
  std::vector<std::string> errors_;
};

}  // namespace dbrunbook::daemon
