// Tests of tests/support/sandbox.h: the env-file parser (no server), and LoadSandbox /
// SandboxSql against the servers that the sandbox_primary and sandbox_replica fixtures start.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "support/sandbox.h"

namespace dbrunbook::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

TEST(ParseSandboxEnvTest, ReadsQuotedValuesAsTheScriptWritesThem) {
  const auto vars = ParseSandboxEnv(
      "# written by scripts/sandbox\n"
      "SANDBOX_NAME='primary'\n"
      "\n"
      "SANDBOX_EMPTY=''\n"
      "SANDBOX_QUOTE='it'\\''s'\n"
      "  SANDBOX_SPACES='/tmp/a b/c'   # trailing comment\n"
      "SANDBOX_DOUBLE=\"x \\\"y\\\" \\\\ \\$z\"\n"
      "SANDBOX_BARE=plain\\ word\n"
      "SANDBOX_NOTHING=\n"
      "SANDBOX_MULTI='line1\n"
      "line2'\n"
      "SANDBOX_NAME='later wins'",
      "env");
  ASSERT_TRUE(vars) << vars.error().ToString();
  EXPECT_EQ(vars->at("SANDBOX_NAME"), "later wins");
  EXPECT_EQ(vars->at("SANDBOX_EMPTY"), "");
  EXPECT_EQ(vars->at("SANDBOX_QUOTE"), "it's");
  EXPECT_EQ(vars->at("SANDBOX_SPACES"), "/tmp/a b/c");
  EXPECT_EQ(vars->at("SANDBOX_DOUBLE"), "x \"y\" \\ $z");
  EXPECT_EQ(vars->at("SANDBOX_BARE"), "plain word");
  EXPECT_EQ(vars->at("SANDBOX_NOTHING"), "");
  EXPECT_EQ(vars->at("SANDBOX_MULTI"), "line1\nline2");
  EXPECT_EQ(vars->size(), 8u);
}

TEST(ParseSandboxEnvTest, RejectsWhatItCannotEvaluate) {
  struct Case {
    const char* text;
    const char* message;
  };
  const Case cases[] = {
      {"A='open\n", "env:1: unterminated single quote in the value of A"},
      {"A=1\nB=\"open\n", "env:2: unterminated double quote in the value of B"},
      {"A=$HOME\n", "env:1: expansions are not supported (value of A)"},
      {"A=\"$(id)\"\n", "env:1: expansions are not supported (value of A)"},
      {"A=`id`\n", "env:1: expansions are not supported (value of A)"},
      {"A=x y\n", "env:1: unexpected text after the value of A"},
      {"A=x;rm\n", "env:1: unexpected ';' in the value of A"},
      {"\n\nexport A=1\n", "env:3: expected '=' after export"},
      {"=1\n", "env:1: expected KEY=value"},
  };
  for (const auto& c : cases) {
    const auto vars = ParseSandboxEnv(c.text, "env");
    ASSERT_FALSE(vars) << c.text;
    EXPECT_EQ(vars.error().code, core::ErrorCode::kParse) << c.text;
    EXPECT_EQ(vars.error().message, c.message) << c.text;
  }
}

TEST(SandboxTest, LoadsThePrimary) {
  const auto primary = LoadSandbox("primary");
  ASSERT_TRUE(primary) << primary.error().ToString();
  EXPECT_EQ(primary->name, "primary");
  EXPECT_EQ(primary->host, "127.0.0.1");
  EXPECT_NE(primary->port, 0);
  EXPECT_NE(primary->server_id, 0u);
  EXPECT_EQ(primary->replica_of, "");
  EXPECT_EQ(primary->monitor_user, "monitor");
  EXPECT_EQ(primary->datadir, primary->dir + "/data");
  for (const auto* path : {&primary->socket, &primary->tls_ca, &primary->tls_cert,
                           &primary->tls_key, &primary->slow_log, &primary->error_log}) {
    EXPECT_THAT(*path, HasSubstr("/")) << "not a path: '" << *path << "'";
  }
  EXPECT_FALSE(primary->monitor_password.empty());
  EXPECT_EQ(primary->monitor_password.Reveal(), ReadAll(primary->monitor_password_file));
}

TEST(SandboxTest, LoadsTheReplica) {
  const auto primary = LoadSandbox("primary");
  const auto replica = LoadSandbox("replica");
  ASSERT_TRUE(primary) << primary.error().ToString();
  ASSERT_TRUE(replica) << replica.error().ToString();
  EXPECT_EQ(replica->replica_of, "primary");
  EXPECT_NE(replica->port, primary->port);
  EXPECT_NE(replica->server_id, primary->server_id);
  EXPECT_EQ(replica->monitor_password, primary->monitor_password);
}

TEST(SandboxTest, BuildsConnectOptions) {
  const auto primary = LoadSandbox("primary");
  ASSERT_TRUE(primary) << primary.error().ToString();

  const auto monitor = primary->MonitorOptions();
  EXPECT_EQ(monitor.target_name, "primary");
  EXPECT_FALSE(monitor.uses_socket());
  EXPECT_EQ(monitor.host, "127.0.0.1");
  EXPECT_EQ(monitor.port, primary->port);
  EXPECT_EQ(monitor.user, "monitor");
  EXPECT_EQ(monitor.password, primary->monitor_password);
  EXPECT_EQ(monitor.tls.mode, mysql::TlsMode::kPreferred);
  EXPECT_THAT(monitor.password_source, HasSubstr(primary->monitor_password_file));
  EXPECT_THAT(monitor.password_source, Not(HasSubstr(primary->monitor_password.Reveal())));

  const auto root = primary->RootOptions();
  EXPECT_EQ(root.target_name, "primary");
  EXPECT_TRUE(root.uses_socket());
  EXPECT_EQ(root.socket, primary->socket);
  EXPECT_EQ(root.user, "root");
  EXPECT_TRUE(root.password.empty());
}

TEST(SandboxTest, MissingSandboxIsAnErrorNamingTheFile) {
  const auto missing = LoadSandbox("no-such-sandbox");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, core::ErrorCode::kNotFound);
  EXPECT_THAT(missing.error().message, HasSubstr("/no-such-sandbox/env"));
  EXPECT_THAT(missing.error().hint, HasSubstr("sandbox_no-such-sandbox"));

  EXPECT_FALSE(LoadSandbox(""));
  EXPECT_FALSE(LoadSandbox("../primary"));
}

TEST(SandboxTest, SqlRunsAsRootOverTheSocket) {
  const auto primary = LoadSandbox("primary");
  ASSERT_TRUE(primary) << primary.error().ToString();

  auto out = SandboxSql("primary", "SELECT CURRENT_USER() AS who, @@port AS port;\n");
  ASSERT_TRUE(out) << out.error().ToString();
  EXPECT_EQ(*out, "who\tport\nroot@localhost\t" + std::to_string(primary->port) + "\n");

  out = SandboxSql("replica", "SELECT @@read_only", {"--skip-column-names"});
  ASSERT_TRUE(out) << out.error().ToString();
  EXPECT_EQ(*out, "1\n");
}

TEST(SandboxTest, SqlErrorsCarryTheClientsMessage) {
  auto out = SandboxSql("primary", "SELEC 1");
  ASSERT_FALSE(out);
  EXPECT_THAT(out.error().message, HasSubstr("scripts/sandbox sql primary exited with status 1"));
  EXPECT_THAT(out.error().message, HasSubstr("ERROR 1064"));

  out = SandboxSql("no-such-sandbox", "SELECT 1");
  ASSERT_FALSE(out);
  EXPECT_THAT(out.error().message, HasSubstr("no sandbox named 'no-such-sandbox'"));
}

}  // namespace
}  // namespace dbrunbook::testing
