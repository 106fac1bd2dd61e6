// The mitigations the watch daemon carries out for an incident (effect kApplyAction), with the
// same planning, guardrails, verification and audit as `dbrunbook mitigate ... --apply`.
//
// kill-queries: the runbook's parameters (busy_time, idle_time, min_wait, max_victims,
// match_user, ignore_user, match_db, match_info, root_blockers, kill_query) become the
// KillCriteria; when the action was proposed by a lock.root_blocker finding (or root_blockers
// is true) the victims are the root blockers of the row-lock waits. The other actions are
// proposed by the engine but not run unattended yet: they come back refused, with the
// command a human runs.
#pragma once

#include "core/clock.h"
#include "daemon/daemon.h"
#include "mysql/session.h"
#include "store/store.h"
#include "watch/engine.h"

namespace dbrunbook::daemon {

// The actions ApplyAction can run.
std::vector<std::string> UnattendedActions();

// `reason` is the action's reason in the incident (the finding codes that proposed it).
// `audit` may be null (then nothing is audited — the daemon always passes its store).
watch::ActionResult ApplyAction(const DaemonTarget& target, const watch::Effect& effect,
                                const std::string& reason, mysql::SessionFactory& factory,
                                core::Clock& clock, store::Store* audit);

}  // namespace dbrunbook::daemon
