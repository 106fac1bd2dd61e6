// Text that came from a server (query text, error messages, host names) on its way to a
// terminal, a Markdown table or JSON: made valid UTF-8, stripped of control sequences, and
// measured and cut in terminal columns rather than bytes.
//
// Anyone who can run a query chooses the bytes of its text: unsanitised, an ESC sequence in
// a statement would reach the operator's terminal, and a byte cut in the middle of a UTF-8
// character would make the JSON output invalid.
#pragma once

#include <string>
#include <string_view>

namespace dbrunbook::core {

// Invalid UTF-8 sequences replaced by U+FFFD; valid input is returned unchanged.
std::string ToValidUtf8(std::string_view text);

// Valid UTF-8 without control characters: tab, newline and carriage return become a space;
// other C0 controls, DEL and C1 controls become a visible "\xNN".
std::string SanitizeForTerminal(std::string_view text);

// Columns `text` (valid UTF-8) takes on a terminal: East Asian wide characters and emoji
// count two, combining marks and zero-width characters none, everything else one.
size_t DisplayWidth(std::string_view text);

// `text` (valid UTF-8) cut to at most `width` columns, ending in "..." when cut; never splits
// a character. `width` 0 means no limit.
std::string FitToWidth(std::string_view text, size_t width);

// Whitespace runs collapsed to one space, then cut to at most `max_chars` characters (code
// points) with "..." appended when cut; the result is valid UTF-8.
std::string OneLine(std::string_view text, size_t max_chars);

}  // namespace dbrunbook::core
