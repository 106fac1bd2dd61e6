// dbrunbook.yaml as hostile input: any bytes must give a Config or diagnostics, never a
// crash, a hang, or an exception escaping the config module.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "config/config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const dbrunbook::core::MapEnvironment kEnv(
      {{"DBRUNBOOK_TARGETS__A__PORT", "3307"}, {"DBRUNBOOK_ASSESS__INTERVAL", "2s"}});
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto config = dbrunbook::config::ParseConfig(text, "fuzz.yaml", kEnv);
  if (!config) {
    for (const auto& d : config.error()) (void)d.ToString();
  }
  return 0;
}
