#include "dialect/flavor.h"

#include <fmt/format.h>

#include <cctype>
#include <tuple>

namespace dbrunbook::dialect {
namespace {

std::optional<std::string_view> Lookup(const VariableMap& variables, std::string_view name) {
  auto it = variables.find(name);
  if (it == variables.end()) return std::nullopt;
  return core::Trim(it->second);
}

// Reads up to 9 digits at `*pos`; nullopt if there is no digit there.
std::optional<int> ReadNumber(std::string_view text, size_t* pos) {
  size_t i = *pos;
  int value = 0;
  while (i < text.size() && i - *pos < 9 && std::isdigit(static_cast<unsigned char>(text[i]))) {
    value = value * 10 + (text[i] - '0');
    ++i;
  }
  if (i == *pos) return std::nullopt;
  *pos = i;
  return value;
}

// "3.04.0" from ".../oscar-8.0.mysql_aurora.3.04.0.0.32961.0/" (the engine version format
// "<mysql-major>.mysql_aurora.<aurora-version>" that AWS documents, inside basedir).
std::string AuroraVersionFromBasedir(std::string_view basedir) {
  constexpr std::string_view kMarker = "mysql_aurora.";
  const size_t at = basedir.find(kMarker);
  if (at == std::string_view::npos) return {};
  std::string_view rest = basedir.substr(at + kMarker.size());
  size_t pos = 0;
  std::string out;
  for (int part = 0; part < 3; ++part) {
    const size_t start = pos;
    if (!ReadNumber(rest, &pos)) return part == 0 ? std::string() : out;
    if (part > 0) out += '.';
    out += rest.substr(start, pos - start);
    if (pos >= rest.size() || rest[pos] != '.') break;
    ++pos;
  }
  return out;
}

// "8.0.32-24-log" -> "8.0.32-24": the release as a human reads it.
std::string_view WithoutBuildSuffixes(std::string_view version) {
  bool stripped = true;
  while (stripped) {
    stripped = false;
    for (std::string_view suffix : {"-log", "-debug", "-valgrind"}) {
      if (version.size() > suffix.size() &&
          version.substr(version.size() - suffix.size()) == suffix) {
        version.remove_suffix(suffix.size());
        stripped = true;
      }
    }
  }
  return version;
}

}  // namespace

bool Version::AtLeast(int ma, int mi, int pa) const {
  return std::tie(major, minor, patch) >= std::tie(ma, mi, pa);
}

std::string Version::ToString() const { return fmt::format("{}.{}.{}", major, minor, patch); }

bool Flavor::is_mysql_family() const {
  return product == Product::kMySQL || product == Product::kPerconaServer ||
         product == Product::kPerconaXtraDBCluster;
}

std::string Flavor::Id() const {
  if (!detected()) return "unknown";
  if (platform == Platform::kAurora) {
    const size_t dot = aurora_version.find('.');
    if (aurora_version.empty()) return fmt::format("aurora-{}", ProductId(product));
    return fmt::format("aurora-{}-{}", ProductId(product), aurora_version.substr(0, dot));
  }
  const std::string prefix = platform == Platform::kRds ? "rds-" : "";
  return fmt::format("{}{}-{}.{}", prefix, ProductId(product), version.major, version.minor);
}

std::string Flavor::Name() const {
  if (!detected()) {
    if (version_string.empty()) return "unknown server";
    return fmt::format("unknown server (version '{}')", version_string);
  }
  if (platform == Platform::kAurora) {
    if (aurora_version.empty()) return fmt::format("Aurora MySQL (MySQL {})", version.ToString());
    return fmt::format("Aurora MySQL {} (MySQL {})", aurora_version, version.ToString());
  }
  std::string release = version.ToString();
  if (product == Product::kPerconaServer || product == Product::kPerconaXtraDBCluster) {
    release = std::string(WithoutBuildSuffixes(version_string));
  }
  if (platform == Platform::kRds) {
    return fmt::format("Amazon RDS for {} {}", ProductName(product), release);
  }
  return fmt::format("{} {}", ProductName(product), release);
}

std::string_view ProductId(Product product) {
  switch (product) {
    case Product::kMySQL:
      return "mysql";
    case Product::kPerconaServer:
      return "percona-server";
    case Product::kPerconaXtraDBCluster:
      return "pxc";
    case Product::kMariaDB:
      return "mariadb";
    case Product::kUnknown:
      break;
  }
  return "unknown";
}

std::string_view PlatformId(Platform platform) {
  switch (platform) {
    case Platform::kSelfManaged:
      return "self-managed";
    case Platform::kRds:
      return "rds";
    case Platform::kAurora:
      return "aurora";
  }
  return "unknown";
}

std::string_view ProductName(Product product) {
  switch (product) {
    case Product::kMySQL:
      return "MySQL";
    case Product::kPerconaServer:
      return "Percona Server";
    case Product::kPerconaXtraDBCluster:
      return "Percona XtraDB Cluster";
    case Product::kMariaDB:
      return "MariaDB";
    case Product::kUnknown:
      break;
  }
  return "unknown";
}

std::string_view PlatformName(Platform platform) {
  switch (platform) {
    case Platform::kSelfManaged:
      return "self-managed";
    case Platform::kRds:
      return "Amazon RDS";
    case Platform::kAurora:
      return "Amazon Aurora";
  }
  return "unknown";
}

std::optional<Version> ParseVersion(std::string_view text) {
  text = core::Trim(text);
  // MariaDB 10+ prefixes its handshake version with "5.5.5-" for old clients' sake.
  constexpr std::string_view kHandshakePrefix = "5.5.5-";
  if (text.starts_with(kHandshakePrefix) && core::ContainsIgnoreCase(text, "mariadb")) {
    text.remove_prefix(kHandshakePrefix.size());
  }
  size_t pos = 0;
  Version version;
  auto major = ReadNumber(text, &pos);
  if (!major || pos >= text.size() || text[pos] != '.') return std::nullopt;
  ++pos;
  auto minor = ReadNumber(text, &pos);
  if (!minor) return std::nullopt;
  version.major = *major;
  version.minor = *minor;
  if (pos < text.size() && text[pos] == '.') {
    size_t patch_pos = pos + 1;
    if (auto patch = ReadNumber(text, &patch_pos)) {
      version.patch = *patch;
      pos = patch_pos;
    }
  }
  // "8.0.32x" is not a version; "8.0.32-24", "10.11.19-MariaDB", "8.0.32 " are.
  if (pos < text.size() && std::isalnum(static_cast<unsigned char>(text[pos])) != 0) {
    return std::nullopt;
  }
  return version;
}

Flavor DetectFlavor(const VariableMap& variables) {
  Flavor flavor;
  const auto version_text = Lookup(variables, "version");
  if (!version_text || version_text->empty()) return flavor;
  const auto version = ParseVersion(*version_text);
  if (!version) {
    flavor.version_string = std::string(*version_text);
    return flavor;
  }
  flavor.version = *version;
  flavor.version_string = std::string(*version_text);
  const std::string_view comment = Lookup(variables, "version_comment").value_or("");
  flavor.version_comment = std::string(comment);

  // Servers that speak the protocol and report a MySQL-like version but are something else:
  // their processlists, status counters and KILL semantics differ, so nothing is assumed.
  for (std::string_view other : {"tidb", "vitess", "memsql", "singlestore", "proxysql", "oceanbase",
                                 "starrocks", "doris", "dolt", "clickhouse"}) {
    if (core::ContainsIgnoreCase(*version_text, other) ||
        core::ContainsIgnoreCase(comment, other)) {
      return flavor;
    }
  }

  const bool percona = core::ContainsIgnoreCase(comment, "percona");
  if (core::ContainsIgnoreCase(*version_text, "mariadb") ||
      core::ContainsIgnoreCase(comment, "mariadb")) {
    flavor.product = Product::kMariaDB;
  } else if (core::ContainsIgnoreCase(comment, "xtradb cluster") ||
             (percona && variables.contains("wsrep_on"))) {
    flavor.product = Product::kPerconaXtraDBCluster;
  } else if (percona) {
    flavor.product = Product::kPerconaServer;
  } else {
    flavor.product = Product::kMySQL;
  }

  const std::string_view basedir = Lookup(variables, "basedir").value_or("");
  const std::string_view datadir = Lookup(variables, "datadir").value_or("");
  flavor.aurora_version = std::string(Lookup(variables, "aurora_version").value_or(""));
  if (flavor.aurora_version.empty()) flavor.aurora_version = AuroraVersionFromBasedir(basedir);
  if (!flavor.aurora_version.empty() || basedir.find("mysql_aurora") != std::string_view::npos) {
    flavor.platform = Platform::kAurora;
  } else if (basedir.starts_with("/rdsdbbin/") || datadir.starts_with("/rdsdbdata/")) {
    flavor.platform = Platform::kRds;
  }

  if (auto value = Lookup(variables, "performance_schema")) {
    flavor.capabilities.performance_schema = core::ParseBool(*value);
  }
  if (auto value = Lookup(variables, "userstat")) {
    flavor.capabilities.userstat = core::ParseBool(*value);
  }
  if (auto value = Lookup(variables, "wsrep_on")) {
    flavor.capabilities.galera = core::ParseBool(*value);
  }
  return flavor;
}

}  // namespace dbrunbook::dialect
