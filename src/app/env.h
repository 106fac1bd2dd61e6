// The side effects a command may use, handed in at construction (LevelDB's Env, Envoy's
// Api): time, MySQL sessions, the process environment and the output streams. main() builds
// the real ones; tests build theirs (a SimulatedClock, a fake SessionFactory, string streams).
#pragma once

#include <ostream>
#include <string>

#include "core/clock.h"
#include "core/environment.h"
#include "core/log.h"
#include "mysql/session.h"

namespace dbrunbook::app {

struct Env {
  core::Clock& clock;
  mysql::SessionFactory& sessions;
  const core::Environment& environment;
  std::ostream& out;  // results
  std::ostream& err;  // diagnostics and errors
  core::Logger& log;  // debug/trace detail on stderr; its level follows --log-level or log.level
  bool out_is_terminal = false;
  int terminal_width = 0;  // 0 when unknown or not a terminal
  std::string working_dir = ".";
};

}  // namespace dbrunbook::app
