// An incident's diagnosis, run by the watch daemon when an incident opens or relapses: the
// evidence snapshot pt-stalk would take (status counters, variables, processlist, row-lock
// waits, InnoDB status, replica status), then the assessment and the investigation, on a
// fresh session of its own. Everything goes to the store; the engine gets the findings'
// codes.
#pragma once

#include <cstdint>

#include "core/clock.h"
#include "daemon/daemon.h"
#include "mysql/session.h"
#include "steps/step.h"
#include "store/store.h"
#include "watch/engine.h"

namespace dbrunbook::daemon {

// `store` may be null (nothing recorded). Never fails: a server that cannot be reached gives
// a result with ok = false and the error.
watch::DiagnoseResult Diagnose(const DaemonTarget& target, int64_t incident_id,
                               mysql::SessionFactory& factory, core::Clock& clock,
                               const steps::InvestigateOptions& options, store::Store* store);

}  // namespace dbrunbook::daemon
