#include "cli/cli.h"

#include <cstdio>

namespace dbrunbook::cli {

int Main(int /*argc*/, char** /*argv*/) {
  std::fputs("dbrunbook: no commands are built yet\n", stderr);
  return 2;
}

}  // namespace dbrunbook::cli
