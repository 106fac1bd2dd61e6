// DSNs from the command line and the configuration: any bytes must parse or give an error,
// and an error must never depend on (so never repeat) the password part of the input.
#include <cctype>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "config/dsn.h"

namespace {

// The "SECRET" of "scheme://user:SECRET@host..." when the input has exactly one '@' and the
// secret is alphanumeric (so changing its letters cannot change how the DSN is split).
std::string_view Secret(std::string_view text) {
  const auto scheme = text.find("://");
  if (scheme == std::string_view::npos) return {};
  const auto at = text.find('@', scheme);
  if (at == std::string_view::npos || at != text.rfind('@')) return {};
  const auto colon = text.find(':', scheme + 3);
  if (colon == std::string_view::npos || colon > at) return {};
  const std::string_view secret = text.substr(colon + 1, at - colon - 1);
  if (secret.size() < 4) return {};
  for (char c : secret) {
    if (std::isalnum(static_cast<unsigned char>(c)) == 0) return {};
  }
  return secret;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto settings = dbrunbook::config::ParseDsn(text);
  if (settings) return 0;
  const std::string_view secret = Secret(text);
  if (secret.empty()) return 0;
  std::string other(text);
  const size_t offset = static_cast<size_t>(secret.data() - text.data());
  for (size_t i = 0; i < secret.size(); ++i) {
    other[offset + i] = secret[i] == 'q' ? 'z' : 'q';
  }
  auto other_settings = dbrunbook::config::ParseDsn(other);
  if (other_settings || other_settings.error().ToString() != settings.error().ToString()) {
    std::abort();  // the outcome depends on the password: it may be echoed
  }
  return 0;
}
