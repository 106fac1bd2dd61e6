// Flavor detection on real recorded variable sets (../shared/conformance/server-outputs), on
// tests/dialect/data/variables--mariadb-10.11.19--debian12-captured.txt (captured live from
// Debian 12's mariadb-server 10.11.19 on the build machine with `mariadb -N -B -e "SHOW GLOBAL
// VARIABLES"`), and on a few minimal constructed sets for platforms no recording covers; each
// constructed set says which documented facts it is built from.
#include "dialect/flavor.h"

#include <gtest/gtest.h>

#include "support/recorded_output.h"

namespace dbrunbook::dialect {
namespace {

Flavor FromRecording(const std::string& file) {
  auto text = testing::ReadSharedFile("conformance/server-outputs/variables/" + file);
  if (!text) {
    ADD_FAILURE() << text.error().ToString();
    return {};
  }
  return DetectFlavor(testing::ParseVariables(*text));
}

Flavor FromCapturedMariaDB() {
  auto text = testing::ReadSourceFile(
      "tests/dialect/data/variables--mariadb-10.11.19--debian12-captured.txt");
  if (!text) {
    ADD_FAILURE() << text.error().ToString();
    return {};
  }
  return DetectFlavor(testing::ParseVariables(*text));
}

// --- ParseVersion ---------------------------------------------------------------------------

TEST(ParseVersionTest, ReadsEveryRecordedShape) {
  struct Case {
    const char* text;
    Version expected;
  };
  const Case cases[] = {
      {"8.0.32-24", {8, 0, 32}},
      {"10.11.19-MariaDB-0+deb12u1", {10, 11, 19}},
      {"5.5.5-10.6.12-MariaDB", {10, 6, 12}},
      {"5.5.5-10.11.19-MariaDB-0+deb12u1", {10, 11, 19}},
      {"5.1.43-60.hardy.7-log", {5, 1, 43}},
      {"5.7.12", {5, 7, 12}},
      {"11.4.5-MariaDB  ", {11, 4, 5}},
      {"5.5.23-rel25.3-log", {5, 5, 23}},
      {"9.7.1", {9, 7, 1}},
      {"8.0", {8, 0, 0}},
  };
  for (const auto& c : cases) {
    auto version = ParseVersion(c.text);
    ASSERT_TRUE(version) << c.text;
    EXPECT_EQ(*version, c.expected) << c.text;
  }
}

TEST(ParseVersionTest, RejectsWhatIsNotAVersion) {
  for (const char* text : {"", "abc", "8", "8.", ".8.0", "v8.0.32", "8.0.32abc", "Debian 12"}) {
    EXPECT_FALSE(ParseVersion(text)) << text;
  }
}

TEST(ParseVersionTest, KeepsA555PrefixThatIsNotMariaDBs) {
  // Only MariaDB's handshake prefix is stripped; MySQL 5.5.5 itself stays 5.5.5.
  EXPECT_EQ(ParseVersion("5.5.5-log"), (Version{5, 5, 5}));
}

TEST(VersionTest, ComparesAndPrints) {
  Version v{8, 0, 22};
  EXPECT_TRUE(v.AtLeast(8, 0, 22));
  EXPECT_TRUE(v.AtLeast(8));
  EXPECT_TRUE(v.AtLeast(5, 7, 44));
  EXPECT_FALSE(v.AtLeast(8, 0, 23));
  EXPECT_FALSE(v.AtLeast(8, 4));
  EXPECT_EQ(v.ToString(), "8.0.22");
}

// --- every recorded variables file -----------------------------------------------------------

struct RecordedCase {
  const char* file;
  Product product;
  Platform platform;
  Version version;
  const char* id;
  const char* name;
};

class RecordedVariablesTest : public ::testing::TestWithParam<RecordedCase> {};

TEST_P(RecordedVariablesTest, DetectsProductPlatformVersionAndName) {
  const RecordedCase& c = GetParam();
  Flavor flavor = FromRecording(c.file);
  EXPECT_EQ(flavor.product, c.product);
  EXPECT_EQ(flavor.platform, c.platform);
  EXPECT_EQ(flavor.version, c.version);
  EXPECT_EQ(flavor.Id(), c.id);
  EXPECT_EQ(flavor.Name(), c.name);
}

INSTANTIATE_TEST_SUITE_P(
    AllRecordings, RecordedVariablesTest,
    ::testing::Values(
        RecordedCase{"variables--aurora-mysql-2.09.0--aws-aurora-guide-cond-wait-status.txt",
                     Product::kMySQL,
                     Platform::kAurora,
                     {5, 7, 12},
                     "aurora-mysql-2",
                     "Aurora MySQL 2.09.0 (MySQL 5.7.12)"},
        RecordedCase{"variables--mariadb-11.4.5--mariadb-docs-upgrading-minor.txt",
                     Product::kMariaDB,
                     Platform::kSelfManaged,
                     {11, 4, 5},
                     "mariadb-11.4",
                     "MariaDB 11.4.5"},
        RecordedCase{"variables--mysql-5.0.82--pt-lib-vars004-vertical.txt",
                     Product::kMySQL,
                     Platform::kSelfManaged,
                     {5, 0, 82},
                     "mysql-5.0",
                     "MySQL 5.0.82"},
        RecordedCase{"variables--mysql-5.1.34--pt-lib-vars001-table.txt",
                     Product::kMySQL,
                     Platform::kSelfManaged,
                     {5, 1, 34},
                     "mysql-5.1",
                     "MySQL 5.1.34"},
        RecordedCase{"variables--mysql-5.5.21--pt-summary-semisync.txt",
                     Product::kMySQL,
                     Platform::kSelfManaged,
                     {5, 5, 21},
                     "mysql-5.5",
                     "MySQL 5.5.21"},
        RecordedCase{"variables--mysql-9.7.1--pt-summary-temp010.txt",
                     Product::kMySQL,
                     Platform::kSelfManaged,
                     {9, 7, 1},
                     "mysql-9.7",
                     "MySQL 9.7.1"},
        RecordedCase{"variables--percona-server-5.5.23--pt-summary.txt",
                     Product::kPerconaServer,
                     Platform::kSelfManaged,
                     {5, 5, 23},
                     "percona-server-5.5",
                     "Percona Server 5.5.23-rel25.3"},
        RecordedCase{"variables--percona-server-8.0.32-24--pt-summary-temp_enc008.txt",
                     Product::kPerconaServer,
                     Platform::kSelfManaged,
                     {8, 0, 32},
                     "percona-server-8.0",
                     "Percona Server 8.0.32-24"},
        RecordedCase{"variables--percona-server-8.4.5-5--pt-summary-pt-2322.txt",
                     Product::kPerconaServer,
                     Platform::kSelfManaged,
                     {8, 4, 5},
                     "percona-server-8.4",
                     "Percona Server 8.4.5-5"},
        // The odd 5.1 comment "(Percona SQL Server (GPL), XtraDB , Revision )".
        RecordedCase{"variables--percona-sql-server-5.1.43--pt-lib-vars-baron-002.txt",
                     Product::kPerconaServer,
                     Platform::kSelfManaged,
                     {5, 1, 43},
                     "percona-server-5.1",
                     "Percona Server 5.1.43-60.hardy.7"},
        RecordedCase{"variables--pxc-5.5.28-23.7--pt-summary-temp006.txt",
                     Product::kPerconaXtraDBCluster,
                     Platform::kSelfManaged,
                     {5, 5, 28},
                     "pxc-5.5",
                     "Percona XtraDB Cluster 5.5.28-23.7"}));

TEST(FlavorTest, Aurora2111RecordingHasNoVersionSoStaysUnknown) {
  // The AWS example selects aurora_version() and @@aurora_version only: without @@version
  // there is nothing to go on, and detection must not guess.
  Flavor flavor = FromRecording("variables--aurora-mysql-2.11.1--aws-aurora-guide-versions.txt");
  EXPECT_FALSE(flavor.detected());
  EXPECT_EQ(flavor.Id(), "unknown");
  EXPECT_EQ(flavor.Name(), "unknown server");
}

TEST(FlavorTest, CapabilitiesComeFromVariablesPresent) {
  Flavor pxc = FromRecording("variables--pxc-5.5.28-23.7--pt-summary-temp006.txt");
  EXPECT_EQ(pxc.capabilities.galera, true);
  EXPECT_EQ(pxc.capabilities.performance_schema, false);
  EXPECT_EQ(pxc.capabilities.userstat, false);
  EXPECT_TRUE(pxc.is_mysql_family());

  Flavor percona = FromRecording("variables--percona-server-8.0.32-24--pt-summary-temp_enc008.txt");
  EXPECT_EQ(percona.capabilities.performance_schema, true);
  EXPECT_EQ(percona.capabilities.userstat, false);
  EXPECT_FALSE(percona.capabilities.galera.has_value());      // no wsrep_on in the dump
  EXPECT_FALSE(percona.capabilities.sys_schema.has_value());  // needs the live probe

  Flavor mysql50 = FromRecording("variables--mysql-5.0.82--pt-lib-vars004-vertical.txt");
  EXPECT_FALSE(mysql50.capabilities.performance_schema.has_value());
}

TEST(FlavorTest, CapturedMariaDB1011OnDebian) {
  Flavor flavor = FromCapturedMariaDB();
  EXPECT_EQ(flavor.product, Product::kMariaDB);  // version_comment is just "Debian 12"
  EXPECT_EQ(flavor.platform, Platform::kSelfManaged);
  EXPECT_EQ(flavor.version, (Version{10, 11, 19}));
  EXPECT_EQ(flavor.version_string, "10.11.19-MariaDB-0+deb12u1");
  EXPECT_EQ(flavor.version_comment, "Debian 12");
  EXPECT_EQ(flavor.Id(), "mariadb-10.11");
  EXPECT_EQ(flavor.Name(), "MariaDB 10.11.19");
  EXPECT_TRUE(flavor.is_mariadb());
  EXPECT_FALSE(flavor.is_mysql_family());
  EXPECT_EQ(flavor.capabilities.performance_schema, true);
  EXPECT_EQ(flavor.capabilities.userstat, true);
  EXPECT_EQ(flavor.capabilities.galera, false);
}

// --- constructed cases for platforms without a recording --------------------------------------

TEST(FlavorTest, AuroraV3ConstructedFromDocumentedFacts) {
  // Constructed from the facts in server-outputs/README.txt, GAPS/variables (public issue
  // threads nethalo/dbsafe#50, github/gh-ost#1425): Aurora v3 reports @@version 8.0.28 with
  // @@aurora_version 3.04.0, basedir /rdsdbbin/oscar-8.0.mysql_aurora.3.04.0.0.32961.0/ and
  // version_comment "Source distribution".
  VariableMap variables = {
      {"version", "8.0.28"},
      {"aurora_version", "3.04.0"},
      {"basedir", "/rdsdbbin/oscar-8.0.mysql_aurora.3.04.0.0.32961.0/"},
      {"version_comment", "Source distribution"},
  };
  Flavor flavor = DetectFlavor(variables);
  EXPECT_EQ(flavor.product, Product::kMySQL);
  EXPECT_EQ(flavor.platform, Platform::kAurora);
  EXPECT_EQ(flavor.version, (Version{8, 0, 28}));
  EXPECT_EQ(flavor.aurora_version, "3.04.0");
  EXPECT_EQ(flavor.Id(), "aurora-mysql-3");
  EXPECT_EQ(flavor.Name(), "Aurora MySQL 3.04.0 (MySQL 8.0.28)");
}

TEST(FlavorTest, AuroraRecognisedFromBasedirAlone) {
  // Constructed from the same documented basedir (README GAPS/variables), without the
  // aurora_version variable: the engine version inside basedir names the release.
  VariableMap variables = {
      {"version", "8.0.28"},
      {"basedir", "/rdsdbbin/oscar-8.0.mysql_aurora.3.04.0.0.32961.0/"},
  };
  Flavor flavor = DetectFlavor(variables);
  EXPECT_EQ(flavor.platform, Platform::kAurora);
  EXPECT_EQ(flavor.aurora_version, "3.04.0");
  EXPECT_EQ(flavor.Name(), "Aurora MySQL 3.04.0 (MySQL 8.0.28)");
}

TEST(FlavorTest, RdsMySQLConstructedFromDocumentedFacts) {
  // Constructed: README GAPS/variables names the RDS basedir "/rdsdbbin/mysql..."; public SHOW
  // VARIABLES dumps of RDS for MySQL 5.5.27 and 5.6.23 show basedir /rdsdbbin/mysql/ and
  // datadir /rdsdbdata/db/. The version is the example of flavor.h.
  VariableMap variables = {
      {"version", "8.0.35"},
      {"basedir", "/rdsdbbin/mysql/"},
      {"datadir", "/rdsdbdata/db/"},
  };
  Flavor flavor = DetectFlavor(variables);
  EXPECT_EQ(flavor.product, Product::kMySQL);
  EXPECT_EQ(flavor.platform, Platform::kRds);
  EXPECT_EQ(flavor.Id(), "rds-mysql-8.0");
  EXPECT_EQ(flavor.Name(), "Amazon RDS for MySQL 8.0.35");
}

TEST(FlavorTest, RdsMariaDBConstructedFromDocumentedFacts) {
  // Constructed: a public SHOW VARIABLES dump of RDS for MariaDB 10.6.7 shows
  // character_sets_dir /rdsdbbin/mariadb-10.6.7.R2/share/charsets/ (so the install lives under
  // /rdsdbbin/); RDS data lives under /rdsdbdata/db/ (as for RDS for MySQL above).
  VariableMap variables = {
      {"version", "10.6.7-MariaDB-log"},
      {"basedir", "/rdsdbbin/mariadb-10.6.7.R2/"},
      {"datadir", "/rdsdbdata/db/"},
  };
  Flavor flavor = DetectFlavor(variables);
  EXPECT_EQ(flavor.product, Product::kMariaDB);
  EXPECT_EQ(flavor.platform, Platform::kRds);
  EXPECT_EQ(flavor.Id(), "rds-mariadb-10.6");
  EXPECT_EQ(flavor.Name(), "Amazon RDS for MariaDB 10.6.7");
}

TEST(FlavorTest, RdsRecognisedFromDatadirAlone) {
  VariableMap variables = {{"version", "8.0.35"}, {"datadir", "/rdsdbdata/db/"}};
  EXPECT_EQ(DetectFlavor(variables).platform, Platform::kRds);
}

TEST(FlavorTest, PerconaWithWsrepIsXtraDBCluster) {
  // Constructed: a Percona comment without "XtraDB Cluster" but with the wsrep_on variable that
  // only PXC (of Percona's products) has.
  VariableMap variables = {
      {"version", "8.0.33-25.1"},
      {"version_comment", "Percona Server (GPL), Release 25.1"},
      {"wsrep_on", "ON"},
  };
  EXPECT_EQ(DetectFlavor(variables).product, Product::kPerconaXtraDBCluster);
}

TEST(FlavorTest, UnknownNeverGuesses) {
  EXPECT_FALSE(DetectFlavor({}).detected());
  EXPECT_FALSE(DetectFlavor({{"version_comment", "MySQL Community Server - GPL"}}).detected());
  EXPECT_FALSE(DetectFlavor({{"version", ""}}).detected());
  Flavor garbage = DetectFlavor({{"version", "not-a-version"}, {"basedir", "/rdsdbbin/mysql/"}});
  EXPECT_FALSE(garbage.detected());
  EXPECT_EQ(garbage.Name(), "unknown server (version 'not-a-version')");
  EXPECT_EQ(garbage.Id(), "unknown");
}

TEST(FlavorTest, MySqlCompatibleServersThatAreNotMySqlAreNotGuessed) {
  // Version strings as these servers document them (TiDB "5.7.25-TiDB-v7.5.0", Vitess
  // "8.0.30-Vitess"): they parse as versions, yet none of them is MySQL.
  for (const char* version : {"5.7.25-TiDB-v7.5.0", "8.0.30-Vitess", "5.5.30 (ProxySQL)"}) {
    VariableMap variables{{"version", version}, {"version_comment", ""}};
    const Flavor flavor = DetectFlavor(variables);
    EXPECT_FALSE(flavor.detected()) << version;
    EXPECT_EQ(flavor.version_string, version);
  }
  VariableMap singlestore{{"version", "5.7.32"}, {"version_comment", "SingleStore"}};
  EXPECT_FALSE(DetectFlavor(singlestore).detected());
}

TEST(FlavorTest, VariableNamesAreCaseInsensitive) {
  VariableMap variables = {{"VERSION", "10.11.19-MariaDB"}, {"Performance_Schema", "OFF"}};
  Flavor flavor = DetectFlavor(variables);
  EXPECT_TRUE(flavor.is_mariadb());
  EXPECT_EQ(flavor.capabilities.performance_schema, false);
}

TEST(FlavorTest, ProductAndPlatformNames) {
  EXPECT_EQ(ProductName(Product::kPerconaXtraDBCluster), "Percona XtraDB Cluster");
  EXPECT_EQ(ProductName(Product::kUnknown), "unknown");
  EXPECT_EQ(PlatformName(Platform::kAurora), "Amazon Aurora");
  EXPECT_EQ(PlatformName(Platform::kSelfManaged), "self-managed");
}

}  // namespace
}  // namespace dbrunbook::dialect
