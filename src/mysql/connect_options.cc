#include "mysql/connect_options.h"

#include <fmt/format.h>

#include "core/strings.h"

namespace dbrunbook::mysql {

std::string_view TlsModeName(TlsMode mode) {
  switch (mode) {
    case TlsMode::kDisabled:
      return "DISABLED";
    case TlsMode::kPreferred:
      return "PREFERRED";
    case TlsMode::kRequired:
      return "REQUIRED";
    case TlsMode::kVerifyCa:
      return "VERIFY_CA";
    case TlsMode::kVerifyIdentity:
      return "VERIFY_IDENTITY";
  }
  return "PREFERRED";
}

std::optional<TlsMode> ParseTlsMode(std::string_view text) {
  std::string normalized = core::ToUpper(core::Trim(text));
  for (char& c : normalized) {
    if (c == '-') c = '_';
  }
  for (TlsMode mode : {TlsMode::kDisabled, TlsMode::kPreferred, TlsMode::kRequired,
                       TlsMode::kVerifyCa, TlsMode::kVerifyIdentity}) {
    if (normalized == TlsModeName(mode)) return mode;
  }
  return std::nullopt;
}

std::string ConnectOptions::Endpoint() const {
  if (uses_socket()) return fmt::format("socket {}", socket);
  if (host.find(':') != std::string::npos) return fmt::format("tcp [{}]:{}", host, port);
  return fmt::format("tcp {}:{}", host, port);
}

std::string ConnectOptions::Describe() const {
  return fmt::format("user '{}' at {}, tls {}", user, Endpoint(), TlsModeName(tls.mode));
}

}  // namespace dbrunbook::mysql
