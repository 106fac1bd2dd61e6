// MySQL option files (defaults_file, ~/.my.cnf): any bytes must parse or give an error with
// file:line; includes are resolved relative to a directory that does not exist.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "config/option_file.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto options = dbrunbook::config::ParseOptionText(text, "/nonexistent-fuzz-dir/my.cnf");
  if (options) (void)dbrunbook::config::OptionsToConnectSettings(*options);
  return 0;
}
