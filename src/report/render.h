// Output of the assessment and connectivity commands: an aligned terminal table (coloured
// when asked), Markdown for pasting into an incident channel or ticket, and JSON with a
// stable, versioned schema for other tools (documented in the README).
//
// Renderers are pure functions of their input: they never query anything.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "steps/assess.h"
#include "steps/connectivity.h"

namespace dbrunbook::report {

enum class Format { kTable, kJson, kMarkdown };
// "table", "json", "markdown" (also "md").
std::optional<Format> ParseFormat(std::string_view text);

struct TableStyle {
  bool color = false;  // ANSI colours for levels
  int width = 0;       // terminal width to fit the detail column into; 0 = no limit
};

// Bumped when a field is removed or changes meaning; adding fields keeps the version.
inline constexpr int kJsonSchemaVersion = 1;

// --- assess ---------------------------------------------------------------------------------
std::string RenderAssessmentTable(const steps::Assessment& a, const TableStyle& style);
std::string RenderAssessmentMarkdown(const steps::Assessment& a);
nlohmann::json AssessmentJson(const steps::Assessment& a);
nlohmann::json CheckJson(const steps::Check& check);
// When the target could not be assessed at all (no connection): the error, exit status 3, and
// the checks that did not need the server (the cloud's view of it), if any.
// `endpoint` may be empty when it is not known (a --dsn that did not parse).
nlohmann::json AssessmentErrorJson(const std::string& target, const std::string& endpoint,
                                   const core::Error& error,
                                   const std::vector<steps::Check>& other_checks = {});

// --- check ----------------------------------------------------------------------------------
std::string RenderConnectivityTable(const std::vector<steps::ConnectivityResult>& results,
                                    const TableStyle& style);
std::string RenderConnectivityMarkdown(const std::vector<steps::ConnectivityResult>& results);
nlohmann::json ConnectivityJson(const std::vector<steps::ConnectivityResult>& results);

// --- shared ---------------------------------------------------------------------------------
// Pretty-printed JSON text; invalid UTF-8 that reached a string (server text is arbitrary
// bytes) is replaced by U+FFFD instead of failing.
std::string ToJsonText(const nlohmann::json& document);
nlohmann::json ErrorJson(const core::Error& error);
nlohmann::json FlavorJson(const dialect::Flavor& flavor);

}  // namespace dbrunbook::report
