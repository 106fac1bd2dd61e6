// Command-line entry point: parses arguments (CLI11) and dispatches to the app commands.
#pragma once

namespace dbrunbook::cli {

// Runs dbrunbook with the given arguments and returns the process exit status.
int Main(int argc, char** argv);

}  // namespace dbrunbook::cli
