#include "config/connect_settings.h"

#include <fmt/format.h>

#include "core/duration.h"

namespace dbrunbook::config {
namespace {

template <typename T>
void Copy(const std::optional<T>& from, T& to) {
  if (from) to = *from;
}

}  // namespace

bool ConnectSettings::has_tls() const {
  return tls_mode || tls_ca || tls_capath || tls_cert || tls_key || tls_cipher;
}

void ConnectSettings::ApplyTo(mysql::ConnectOptions& options) const {
  Copy(host, options.host);
  Copy(port, options.port);
  Copy(socket, options.socket);
  Copy(user, options.user);
  Copy(database, options.database);
  if (password) {
    options.password = *password;
    options.password_source = password_source;
  }
  Copy(tls_mode, options.tls.mode);
  Copy(tls_ca, options.tls.ca);
  Copy(tls_capath, options.tls.capath);
  Copy(tls_cert, options.tls.cert);
  Copy(tls_key, options.tls.key);
  Copy(tls_cipher, options.tls.cipher);
  Copy(connect_timeout, options.connect_timeout);
  Copy(read_timeout, options.read_timeout);
  Copy(write_timeout, options.write_timeout);
}

core::Result<std::chrono::milliseconds> ParseTimeout(std::string_view text) {
  auto parsed = core::ParseDuration(text, /*bare_unit_seconds=*/true);
  if (!parsed) return core::Fail(parsed.error());
  if (parsed->count() <= 0) {
    return core::MakeError(core::ErrorCode::kInvalidArgument,
                           fmt::format("timeout '{}' must be more than 0", text),
                           "write e.g. 5s or 500ms");
  }
  if (*parsed > std::chrono::hours(24)) {
    return core::MakeError(core::ErrorCode::kInvalidArgument,
                           fmt::format("timeout '{}' is longer than a day", text),
                           "write e.g. 5s, 30s or 5m");
  }
  return std::chrono::ceil<std::chrono::milliseconds>(*parsed);
}

}  // namespace dbrunbook::config
