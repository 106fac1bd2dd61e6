// Output of `dbrunbook investigate`: findings as a terminal report, Markdown and JSON.
//
// JSON schema "dbrunbook.investigation" (version 1): target, endpoint, started_at,
// elapsed_seconds, server {version, flavor}, status (ok|info|warning|critical), exit_code,
// findings [{code, severity, title, detail, step, evidence [{field: value ...}],
// suggestions [{text, sql}]}], steps [{name, group, ran, failed, elapsed_seconds,
// statements}], statements_sent. Evidence values keep their types (numbers, booleans,
// strings, null).
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "report/render.h"
#include "steps/investigate.h"

namespace dbrunbook::report {

std::string RenderInvestigationTable(const steps::Investigation& inv, const TableStyle& style);
std::string RenderInvestigationMarkdown(const steps::Investigation& inv);
nlohmann::json InvestigationJson(const steps::Investigation& inv);
// When the target could not be investigated at all: status "unknown", exit_code 3.
nlohmann::json InvestigationErrorJson(const std::string& target, const std::string& endpoint,
                                      const core::Error& error);

// One evidence value as JSON, keeping its type.
nlohmann::json EvidenceJson(const steps::EvidenceValue& value);

}  // namespace dbrunbook::report
