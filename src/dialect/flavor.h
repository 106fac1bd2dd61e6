// What a target really is: product, platform, version and optional features.
//
// Detection is a pure function of the server's variables (so it is unit-tested on recorded
// variable sets of every flavor) plus a capability probe that needs a live session.
// Nothing acts on a target whose flavor was not detected (safety model).
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "core/strings.h"

namespace dbrunbook::dialect {

// Server variables by name, case-insensitive (SHOW VARIABLES output or a recorded dump).
using VariableMap = std::map<std::string, std::string, core::CaseInsensitiveLess>;

enum class Product {
  kUnknown,
  kMySQL,                 // Oracle MySQL Community / Enterprise
  kPerconaServer,         // Percona Server for MySQL
  kPerconaXtraDBCluster,  // Percona XtraDB Cluster (Galera)
  kMariaDB,               // MariaDB Server (also MariaDB Galera Cluster)
};

enum class Platform {
  kSelfManaged,
  kRds,     // Amazon RDS for MySQL / MariaDB
  kAurora,  // Amazon Aurora MySQL
};

struct Version {
  int major = 0;
  int minor = 0;
  int patch = 0;
  bool AtLeast(int ma, int mi = 0, int pa = 0) const;
  std::string ToString() const;  // "8.0.32"
  friend bool operator==(const Version&, const Version&) = default;
};

// Optional features; nullopt means "not probed" (or the probe was not allowed).
// DetectFlavor sets performance_schema, userstat and galera only from variables present in the
// map it is given; Detect, which knows which variables it asked for, also sets them to false
// when the server does not have the variable at all (e.g. no userstat on Oracle MySQL).
struct Capabilities {
  std::optional<bool> performance_schema;  // @@performance_schema = ON
  std::optional<bool> sys_schema;          // sys schema present and readable
  std::optional<bool> mdl_instrument;      // wait/lock/metadata/sql/mdl enabled
  std::optional<bool> statement_digests;   // events_statements_summary_by_digest consumer on
  std::optional<bool> userstat;            // MariaDB/Percona userstat = ON
  std::optional<bool> galera;              // wsrep_on = ON
};

struct Flavor {
  Product product = Product::kUnknown;
  Platform platform = Platform::kSelfManaged;
  Version version;              // server version (for Aurora: the MySQL-compatible version)
  std::string version_string;   // @@version as reported
  std::string version_comment;  // @@version_comment
  std::string aurora_version;   // @@aurora_version, Aurora only
  Capabilities capabilities;

  bool detected() const { return product != Product::kUnknown; }
  bool is_mariadb() const { return product == Product::kMariaDB; }
  // MySQL-family (MySQL, Percona Server, PXC; Aurora and RDS MySQL too).
  bool is_mysql_family() const;
  // Short machine name: "mysql-8.0", "mariadb-10.11", "percona-server-8.0", "pxc-5.5",
  // "aurora-mysql-3", "rds-mysql-8.0", "rds-mariadb-10.6"; "unknown" when not detected.
  std::string Id() const;
  // Human name: "MariaDB 10.11.19", "Aurora MySQL 3.04.0 (MySQL 8.0.28)", "Amazon RDS for
  // MySQL 8.0.35", "Percona Server 8.0.32-24" (Percona keeps its release suffix, without
  // "-log"); "unknown server (version '...')" when not detected.
  std::string Name() const;
};

// Display names: "MariaDB", "Percona Server", "Amazon RDS", "self-managed".
std::string_view ProductName(Product product);
std::string_view PlatformName(Platform platform);
// Stable machine ids (JSON output, Flavor::Id): "mysql", "percona-server", "pxc", "mariadb",
// "unknown"; "self-managed", "rds", "aurora".
std::string_view ProductId(Product product);
std::string_view PlatformId(Platform platform);

// Parses "8.0.32-24", "10.11.19-MariaDB-0+deb12u1", "5.5.5-10.6.12-MariaDB" (the 5.5.5-
// prefix MariaDB sends in the handshake) into a Version. Needs at least "major.minor" at the
// start; anything else (empty, "abc", "8") gives nullopt.
std::optional<Version> ParseVersion(std::string_view text);

// Determines product, platform and version from variables (version, version_comment,
// aurora_version, basedir, datadir, wsrep_on, userstat, performance_schema ...). Unrecognised
// input gives Product::kUnknown, never a guess: no `version`, or one that does not parse.
//   product : MariaDB if version or version_comment says "MariaDB"; Percona XtraDB Cluster if
//             version_comment says "XtraDB Cluster", or says "Percona" and wsrep_on exists;
//             Percona Server if version_comment says "Percona"; else MySQL.
//   platform: Aurora if aurora_version is set or basedir holds "mysql_aurora" (aurora_version
//             is then taken from basedir, ".../oscar-8.0.mysql_aurora.3.04.0.0.32961.0/");
//             RDS if basedir is under /rdsdbbin/ or datadir under /rdsdbdata/; else
//             self-managed.
Flavor DetectFlavor(const VariableMap& variables);

}  // namespace dbrunbook::dialect
