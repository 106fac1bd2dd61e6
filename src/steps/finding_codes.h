// Every finding code the steps emit: what the runbook file's mitigations may list under `on`
// (a code not here would never propose its action), and what a reader of findings can rely
// on. tests/steps/finding_codes_test.cc scans src/steps/*.cc for `code = "..."` and fails when
// a code is missing here or listed here but emitted nowhere, so the list cannot drift; and
// the assessment's check ids (the findings `assess.<check>` of the watch daemon's diagnosis)
// against steps::AssessChecks().
//
// Not here: corruption.* — no step emits one yet. The watch engine's corruption_suspected
// escalation matches any code starting with "corruption." for when one does.
//
// Thread-safety: constant data.
#pragma once

#include <string>
#include <vector>

namespace dbrunbook::steps {

// Sorted by name.
std::vector<std::string> FindingCodes();

}  // namespace dbrunbook::steps
