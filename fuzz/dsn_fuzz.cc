// DSNs from the command line and the configuration: any bytes must parse or give an error;
// a password in the input must never appear in the error text.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "config/dsn.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto settings = dbrunbook::config::ParseDsn(text);
  if (!settings) {
    const std::string message = settings.error().ToString();
    // "mysql://user:SECRET@host": whatever SECRET is, it must not be echoed back.
    // Checked when the input has one '@' after the scheme, so the user part is unambiguous.
    const auto scheme = text.find("://");
    const auto colon = text.find(':', scheme == std::string_view::npos ? 0 : scheme + 3);
    const auto at = text.find('@');
    if (scheme != std::string_view::npos && colon != std::string_view::npos &&
        at != std::string_view::npos && at == text.rfind('@') && scheme < colon && colon < at &&
        at - colon > 8) {
      const std::string_view secret = text.substr(colon + 1, at - colon - 1);
      if (secret.find_first_of("/?#@") == std::string_view::npos &&
          message.find(secret) != std::string::npos) {
        std::abort();
      }
    }
  }
  return 0;
}
