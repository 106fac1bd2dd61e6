// The mitigations the watch daemon carries out for an incident (effect kApplyAction), with the
// same planning, guardrails, verification and audit as `dbrunbook mitigate ... --apply`.
//
// kill-queries runs here: the runbook's parameters (busy_time, idle_time, min_wait,
// max_victims, match_user, ignore_user, match_db, match_info, root_blockers, kill_query) become
// the KillCriteria; when the action was proposed by a lock.root_blocker finding (or
// root_blockers is true) the victims are the root blockers of the row-lock waits. failover,
// scale-up, tune and index go to DaemonOptions::run_action (the `dbrunbook mitigate` commands
// themselves, run in-process by the watch command); without one they come back refused, with
// the command a human runs.
#pragma once

#include "core/clock.h"
#include "daemon/daemon.h"
#include "mysql/session.h"
#include "store/store.h"
#include "watch/engine.h"

namespace dbrunbook::daemon {

// The actions ApplyAction can run: kill-queries, and with a runner the others.
std::vector<std::string> UnattendedActions(bool with_runner);

// `reason` is the action's reason in the incident (what proposed it). `audit` may be null
// (then nothing is audited — the daemon always passes its store); the runner's commands audit
// in the store themselves. `run_action` may be empty.
watch::ActionResult ApplyAction(const DaemonTarget& target, const watch::Effect& effect,
                                const std::string& reason, mysql::SessionFactory& factory,
                                core::Clock& clock, store::Store* audit,
                                const ActionRunner& run_action);

}  // namespace dbrunbook::daemon
