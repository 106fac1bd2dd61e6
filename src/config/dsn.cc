#include "config/dsn.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <set>

#include "core/strings.h"

namespace dbrunbook::config {
namespace {

using core::ErrorCode;

constexpr std::string_view kDsnForm = "mysql://[user@]host[:port][/database][?param=value&...]";

core::Error InvalidDsn(std::string message, std::string hint = {}) {
  return core::Error{ErrorCode::kInvalidArgument, std::move(message), std::move(hint), 0, {}};
}

core::Error PasswordRefused(std::string_view extra_hint = {}) {
  std::string hint = "use password_env, password_file or defaults_file";
  if (!extra_hint.empty()) hint += fmt::format(" {}", extra_hint);
  return InvalidDsn(
      "the DSN contains a password; passwords are never accepted in a DSN (it would show in "
      "`ps` and in shell history)",
      std::move(hint));
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Decodes %XX escapes; nullopt on a malformed escape.
std::optional<std::string> PercentDecode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      out += text[i];
      continue;
    }
    if (i + 2 >= text.size()) return std::nullopt;
    const int hi = HexValue(text[i + 1]);
    const int lo = HexValue(text[i + 2]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out += static_cast<char>(hi * 16 + lo);
    i += 2;
  }
  return out;
}

// Percent-encodes everything but unreserved characters and those in `keep`.
std::string PercentEncode(std::string_view text, std::string_view keep = {}) {
  std::string out;
  for (char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (std::isalnum(u) || c == '-' || c == '.' || c == '_' || c == '~' ||
        keep.find(c) != std::string_view::npos) {
      out += c;
    } else {
      out += fmt::format("%{:02X}", u);
    }
  }
  return out;
}

bool IsHostChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '_';
}

core::Result<uint16_t> ParsePort(std::string_view text) {
  const auto port = core::ParseUint64(text);
  if (text.empty() || !port || *port == 0 || *port > 65535 ||
      !std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return core::Fail(InvalidDsn(fmt::format("port '{}' is not a number from 1 to 65535", text),
                                 "leave the port out for 3306"));
  }
  return static_cast<uint16_t>(*port);
}

// Parses "host", "host:port", "[v6]" or "[v6]:port" into `out`.
core::Status ParseHostPort(std::string_view text, ConnectSettings& out) {
  std::string_view host = text;
  std::optional<std::string_view> port;
  if (!text.empty() && text.front() == '[') {
    const auto close = text.find(']');
    if (close == std::string_view::npos) {
      return core::Fail(InvalidDsn("IPv6 address without closing ']'", "write [::1]:3306"));
    }
    host = text.substr(1, close - 1);
    const std::string_view after = text.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') {
        return core::Fail(
            InvalidDsn("unexpected text after the IPv6 address ']'", "write [::1]:3306"));
      }
      port = after.substr(1);
    }
    const bool ok = host.find(':') != std::string_view::npos &&
                    std::all_of(host.begin(), host.end(), [](char c) {
                      return std::isxdigit(static_cast<unsigned char>(c)) || c == ':' || c == '.';
                    });
    if (!ok) return core::Fail(InvalidDsn(fmt::format("'{}' is not an IPv6 address", host)));
  } else {
    const auto colon = text.find(':');
    if (colon != std::string_view::npos) {
      if (text.find(':', colon + 1) != std::string_view::npos) {
        return core::Fail(InvalidDsn("an IPv6 address must be written in brackets",
                                     "write mysql://user@[::1]:3306/"));
      }
      host = text.substr(0, colon);
      port = text.substr(colon + 1);
    }
    if (!std::all_of(host.begin(), host.end(), IsHostChar)) {
      return core::Fail(InvalidDsn(fmt::format("host '{}' contains invalid characters", host),
                                   "a host is a name or an IP address"));
    }
  }
  if (!host.empty()) out.host = std::string(host);
  if (port) {
    auto parsed = ParsePort(*port);
    if (!parsed) return core::Fail(parsed.error());
    out.port = *parsed;
  }
  return core::Ok();
}

// The canonical name of a query parameter: lower case, '-' for '_'.
std::string CanonicalParameter(std::string_view name) {
  std::string out = core::ToLower(name);
  std::replace(out.begin(), out.end(), '_', '-');
  return out;
}

core::Status ApplyParameter(const std::string& name, const std::string& value,
                            ConnectSettings& out) {
  if (value.empty()) {
    return core::Fail(InvalidDsn(fmt::format("parameter '{}' has no value", name),
                                 fmt::format("write {}=VALUE or leave it out", name)));
  }
  auto timeout = [&](std::optional<std::chrono::milliseconds>& field) -> core::Status {
    auto parsed = ParseTimeout(value);
    if (!parsed) return core::Fail(parsed.error().WithContext("parameter " + name));
    field = *parsed;
    return core::Ok();
  };
  if (name == "socket") {
    out.socket = value;
  } else if (name == "ssl-mode") {
    const auto mode = mysql::ParseTlsMode(value);
    if (!mode) {
      const std::vector<std::string> modes = {"DISABLED", "PREFERRED", "REQUIRED", "VERIFY_CA",
                                              "VERIFY_IDENTITY"};
      const std::string close = core::ClosestMatch(value, modes);
      return core::Fail(InvalidDsn(
          fmt::format("unknown ssl-mode '{}'", value),
          close.empty() ? "use DISABLED, PREFERRED, REQUIRED, VERIFY_CA or VERIFY_IDENTITY"
                        : fmt::format("did you mean {}?", close)));
    }
    out.tls_mode = *mode;
  } else if (name == "ssl-ca") {
    out.tls_ca = value;
  } else if (name == "ssl-capath") {
    out.tls_capath = value;
  } else if (name == "ssl-cert") {
    out.tls_cert = value;
  } else if (name == "ssl-key") {
    out.tls_key = value;
  } else if (name == "ssl-cipher") {
    out.tls_cipher = value;
  } else if (name == "connect-timeout") {
    return timeout(out.connect_timeout);
  } else if (name == "read-timeout") {
    return timeout(out.read_timeout);
  } else if (name == "write-timeout") {
    return timeout(out.write_timeout);
  }
  return core::Ok();
}

core::Status ParseQuery(std::string_view query, ConnectSettings& out) {
  std::set<std::string> seen;
  for (std::string_view item : core::Split(query, '&')) {
    if (item.empty()) continue;  // "?a=1&&b=2" or a trailing '&'
    const auto eq = item.find('=');
    auto raw_name = PercentDecode(item.substr(0, eq));
    if (!raw_name) return core::Fail(InvalidDsn("invalid percent-encoding in a parameter name"));
    const std::string name = CanonicalParameter(*raw_name);
    if (name == "password" || name == "pass" || name == "passwd" || name == "pwd") {
      return core::Fail(PasswordRefused());
    }
    const auto& known = DsnParameterNames();
    if (std::find(known.begin(), known.end(), name) == known.end()) {
      const std::string close = core::ClosestMatch(name, known);
      return core::Fail(InvalidDsn(fmt::format("unknown parameter '{}'", *raw_name),
                                   close.empty()
                                       ? fmt::format("known parameters: {}", fmt::join(known, ", "))
                                       : fmt::format("did you mean {}?", close)));
    }
    if (!seen.insert(name).second) {
      return core::Fail(InvalidDsn(fmt::format("parameter '{}' is given twice", name)));
    }
    std::optional<std::string> value = std::string();
    if (eq != std::string_view::npos) value = PercentDecode(item.substr(eq + 1));
    if (!value) {
      return core::Fail(InvalidDsn(fmt::format("invalid percent-encoding in parameter '{}'", name),
                                   "write '%' as %25"));
    }
    if (auto applied = ApplyParameter(name, *value, out); !applied) return applied;
  }
  return core::Ok();
}

std::string FormatMillis(std::chrono::milliseconds ms) {
  if (ms.count() % 1000 == 0) return fmt::format("{}s", ms.count() / 1000);
  return fmt::format("{}ms", ms.count());
}

}  // namespace

const std::vector<std::string>& DsnParameterNames() {
  static const std::vector<std::string> kNames = {
      "socket",  "ssl-mode",   "ssl-ca",          "ssl-capath",   "ssl-cert",
      "ssl-key", "ssl-cipher", "connect-timeout", "read-timeout", "write-timeout"};
  return kNames;
}

core::Result<ConnectSettings> ParseDsn(std::string_view dsn) {
  dsn = core::Trim(dsn);
  const auto scheme_end = dsn.find("://");
  if (scheme_end == std::string_view::npos) {
    // Not echoed: without a scheme we cannot tell which part might be a password.
    return core::Fail(InvalidDsn("not a DSN (no scheme)", fmt::format("write {}", kDsnForm)));
  }
  const std::string scheme = core::ToLower(dsn.substr(0, scheme_end));
  if (scheme != "mysql" && scheme != "mariadb") {
    const bool printable = std::all_of(scheme.begin(), scheme.end(), [](char c) {
      return std::isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '-' || c == '.';
    });
    return core::Fail(InvalidDsn(
        printable ? fmt::format("unsupported DSN scheme '{}'", scheme) : "malformed DSN scheme",
        fmt::format("write {} (mariadb:// works too)", kDsnForm)));
  }
  std::string_view rest = dsn.substr(scheme_end + 3);

  ConnectSettings out;
  // '@' must be percent-encoded everywhere but as the user separator, so the last '@' ends
  // the user part whatever characters a careless password contains. Nothing of the user
  // part is repeated in messages: it may hold a password.
  const auto at = rest.rfind('@');
  if (at != std::string_view::npos) {
    const std::string_view userinfo = rest.substr(0, at);
    const bool has_delims = userinfo.find_first_of("/?") != std::string_view::npos;
    if (userinfo.find(':') != std::string_view::npos) {
      return core::Fail(PasswordRefused(
          has_delims ? "(an '@' that does not end the user name must be written %40)" : ""));
    }
    if (has_delims) {
      return core::Fail(InvalidDsn("'@' is only allowed after the user name",
                                   "write '@' in a database name or parameter as %40"));
    }
    auto user = PercentDecode(userinfo);
    if (!user) return core::Fail(InvalidDsn("invalid percent-encoding in the user name"));
    if (user->empty()) {
      return core::Fail(
          InvalidDsn("empty user name before '@'", "write user@host, or leave 'user@' out"));
    }
    out.user = std::move(*user);
    rest = rest.substr(at + 1);
  }

  const auto authority_end = rest.find_first_of("/?");
  const std::string_view authority = rest.substr(0, authority_end);
  if (auto parsed = ParseHostPort(authority, out); !parsed) return core::Fail(parsed.error());
  rest = authority_end == std::string_view::npos ? std::string_view() : rest.substr(authority_end);

  std::string_view query;
  const auto question = rest.find('?');
  if (question != std::string_view::npos) {
    query = rest.substr(question + 1);
    rest = rest.substr(0, question);
  }
  if (!rest.empty()) {  // "/database"
    const std::string_view path = rest.substr(1);
    if (path.find('/') != std::string_view::npos) {
      return core::Fail(InvalidDsn(fmt::format("database name '{}' contains '/'", path),
                                   "write mysql://host/database (encode '/' as %2F)"));
    }
    auto database = PercentDecode(path);
    if (!database) return core::Fail(InvalidDsn("invalid percent-encoding in the database name"));
    if (!database->empty()) out.database = std::move(*database);
  }
  if (auto parsed = ParseQuery(query, out); !parsed) return core::Fail(parsed.error());

  if (!out.host && !out.socket) {
    return core::Fail(
        InvalidDsn("the DSN has no host",
                   fmt::format("write {} (or ?socket=/path for a Unix socket)", kDsnForm)));
  }
  return out;
}

std::string FormatDsn(const mysql::ConnectOptions& options) {
  std::string out = "mysql://";
  if (!options.user.empty()) out += PercentEncode(options.user) + "@";
  if (options.uses_socket()) {
    out += "localhost";
  } else if (options.host.find(':') != std::string::npos) {
    out += fmt::format("[{}]:{}", options.host, options.port);
  } else {
    out += fmt::format("{}:{}", options.host, options.port);
  }
  out += "/" + PercentEncode(options.database);

  std::vector<std::string> params;
  auto add = [&](std::string_view name, const std::string& value) {
    if (!value.empty()) params.push_back(fmt::format("{}={}", name, PercentEncode(value, "/:")));
  };
  const mysql::ConnectOptions defaults;
  add("socket", options.socket);
  if (options.tls.mode != defaults.tls.mode) {
    add("ssl-mode", std::string(mysql::TlsModeName(options.tls.mode)));
  }
  add("ssl-ca", options.tls.ca);
  add("ssl-capath", options.tls.capath);
  add("ssl-cert", options.tls.cert);
  add("ssl-key", options.tls.key);
  add("ssl-cipher", options.tls.cipher);
  if (options.connect_timeout != defaults.connect_timeout) {
    add("connect-timeout", FormatMillis(options.connect_timeout));
  }
  if (options.read_timeout != defaults.read_timeout) {
    add("read-timeout", FormatMillis(options.read_timeout));
  }
  if (options.write_timeout != defaults.write_timeout) {
    add("write-timeout", FormatMillis(options.write_timeout));
  }
  if (!params.empty()) out += "?" + fmt::format("{}", fmt::join(params, "&"));
  return out;
}

}  // namespace dbrunbook::config
