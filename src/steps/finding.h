// Findings: what an investigation step concluded, with the evidence and the next step.
//
// A finding is not a raw table to read: it says what is wrong (a stable `code` other tools
// match on, a severity and a one-line title), shows the rows that prove it (connection ids,
// tables, statements involved), and suggests what a human would do next, including the
// exact SQL for this flavor (`KILL 1234` or `CALL mysql.rds_kill(1234)`). Suggestions are
// text: nothing in an investigation executes them.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace dbrunbook::steps {

enum class Severity { kInfo = 0, kWarning = 1, kCritical = 2 };

std::string_view SeverityName(Severity severity);  // "info", "warning", "critical"

// A typed value in an evidence row: null, integer, number, boolean or text.
using EvidenceValue = std::variant<std::monostate, int64_t, double, bool, std::string>;

// One row of evidence: named values in a fixed order (the order columns are shown in).
class EvidenceRow {
 public:
  EvidenceRow& Add(std::string name, EvidenceValue value);
  // Exact overloads, so an integer never narrows and text never turns into a bool.
  EvidenceRow& Add(std::string name, std::string text) {
    return Add(std::move(name), EvidenceValue(std::move(text)));
  }
  EvidenceRow& Add(std::string name, const char* text) {
    return Add(std::move(name), EvidenceValue(std::string(text)));
  }
  EvidenceRow& Add(std::string name, std::optional<std::string> text);
  EvidenceRow& Add(std::string name, int64_t value) {
    return Add(std::move(name), EvidenceValue(value));
  }
  EvidenceRow& Add(std::string name, int value) { return Add(std::move(name), int64_t{value}); }
  EvidenceRow& Add(std::string name, uint64_t value) {
    return Add(std::move(name), static_cast<int64_t>(value));
  }
  EvidenceRow& Add(std::string name, double value) {
    return Add(std::move(name), EvidenceValue(value));
  }
  EvidenceRow& Add(std::string name, bool value) {
    return Add(std::move(name), EvidenceValue(value));
  }

  const std::vector<std::pair<std::string, EvidenceValue>>& fields() const { return fields_; }
  // nullptr when the row has no field of that name.
  const EvidenceValue* Find(std::string_view name) const;

 private:
  std::vector<std::pair<std::string, EvidenceValue>> fields_;
};

// "1234", "0.25", "yes", "" (null): how a value reads in a table.
std::string EvidenceText(const EvidenceValue& value);

struct Suggestion {
  std::string text;  // what to do and why, for a human
  std::string sql;   // the exact statement a human would run; empty when there is none
};

struct Finding {
  std::string code;  // stable id: "lock.root_blocker", "mdl.pileup", "index.unused" ...
  Severity severity = Severity::kInfo;
  std::string title;   // one line: "connection 1234 (app@10.0.0.9) blocks 3 sessions for 42s"
  std::string detail;  // optional explanation
  std::vector<EvidenceRow> evidence;
  std::vector<Suggestion> suggestions;
  std::string step;  // the step that produced it ("investigate.locks")
};

// Most severe first; equal severities keep the order the steps produced them in.
void SortFindings(std::vector<Finding>& findings);

}  // namespace dbrunbook::steps
