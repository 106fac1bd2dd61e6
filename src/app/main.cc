#include "cli/cli.h"

int main(int argc, char** argv) { return dbrunbook::cli::Main(argc, argv); }
