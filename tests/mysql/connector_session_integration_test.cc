// ConnectorSession against a real MariaDB server (the sandbox_primary fixture): transports,
// typed rows, warnings, every class of error, timeouts, and TLS in each mode, including a
// certificate chain this test generates with openssl and loads into the server.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <thread>

#include "mysql/connector_session.h"
#include "support/sandbox.h"

namespace dbrunbook::mysql {
namespace {

namespace fs = std::filesystem;
using core::ErrorCode;

class ConnectorSessionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto server = testing::LoadSandbox("primary");
    ASSERT_TRUE(server) << server.error().ToString();
    server_ = std::move(*server);
  }

  core::Result<std::unique_ptr<Session>> Connect(const ConnectOptions& options) {
    return factory_.Connect(options);
  }

  std::unique_ptr<Session> MustConnect(const ConnectOptions& options) {
    auto session = Connect(options);
    EXPECT_TRUE(session) << session.error().ToString();
    return session ? std::move(*session) : nullptr;
  }

  core::RealClock clock_;
  ConnectorSessionFactory factory_{clock_};
  testing::SandboxServer server_;
};

// Accepts TCP connections and never says a word: a hung server or a black-holed proxy.
class SilentListener {
 public:
  SilentListener() {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
    listen(fd_, 8);
    socklen_t len = sizeof(addr);
    getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
  }
  ~SilentListener() { close(fd_); }
  uint16_t port() const { return port_; }

 private:
  int fd_ = -1;
  uint16_t port_ = 0;
};

TEST_F(ConnectorSessionTest, ConnectsOverTcpWithTypedRowsAndConnectionFacts) {
  ConnectOptions options = server_.MonitorOptions();
  options.init_statements = {"SET SESSION lock_wait_timeout = 2"};
  auto session = MustConnect(options);
  ASSERT_NE(session, nullptr);
  const ConnectionInfo& info = session->info();
  EXPECT_EQ(info.target_name, "primary");
  EXPECT_EQ(info.endpoint, fmt::format("tcp 127.0.0.1:{}", server_.port));
  EXPECT_NE(info.server_version.find("MariaDB"), std::string::npos);
  EXPECT_GT(info.connection_id, 0u);
  EXPECT_GT(info.connect_time.count(), 0);

  auto rs = session->Query(
      "SELECT 42 AS answer, NULL AS nothing, 'text' AS word, 1.5 AS ratio, "
      "@@session.lock_wait_timeout AS lwt, CONNECTION_ID() AS id");
  ASSERT_TRUE(rs) << rs.error().ToString();
  ASSERT_EQ(rs->rows.size(), 1u);
  const Row& row = rs->rows[0];
  EXPECT_EQ(row["ANSWER"].AsInt64(), 42);
  EXPECT_TRUE(row["nothing"].is_null());
  EXPECT_EQ(row["word"].AsString(), "text");
  EXPECT_DOUBLE_EQ(*row["ratio"].AsDouble(), 1.5);
  EXPECT_EQ(row["lwt"].AsInt64(), 2);  // the init statement ran
  EXPECT_EQ(row["id"].AsUint64(), info.connection_id);
  const auto& columns = rs->columns->list();
  EXPECT_EQ(columns[0].kind, ColumnKind::kInteger);
  EXPECT_EQ(columns[2].kind, ColumnKind::kString);
  EXPECT_EQ(columns[3].kind, ColumnKind::kDecimal);
  // init statement + this query
  EXPECT_EQ(session->statements_sent(), 2u);
}

TEST_F(ConnectorSessionTest, ProgramNameIsVisibleInTheProcesslist) {
  auto session = MustConnect(server_.MonitorOptions());
  ASSERT_NE(session, nullptr);
  const uint64_t id = session->info().connection_id;
  std::thread busy([&session] { (void)session->Query("SELECT SLEEP(2) AS busy"); });
  std::this_thread::sleep_for(std::chrono::milliseconds(700));
  // What a DBA sees, read by root: the statement carries our name, and the connection
  // attribute reaches sys.processlist.
  auto info = testing::SandboxSql(
      "primary",
      fmt::format("SELECT INFO FROM information_schema.PROCESSLIST WHERE ID = {}; "
                  "SELECT program_name FROM sys.processlist WHERE conn_id = {};",
                  id, id),
      {"--skip-column-names"});
  busy.join();
  ASSERT_TRUE(info) << info.error().ToString();
  EXPECT_NE(info->find("/* dbrunbook */ SELECT SLEEP(2) AS busy"), std::string::npos) << *info;
  EXPECT_NE(info->find("\ndbrunbook\n"), std::string::npos) << *info;
}

TEST(ConnectorSessionOptionsTest, ProgramNameCannotCloseTheComment) {
  core::RealClock clock;
  ConnectorSessionFactory factory(clock);
  ConnectOptions options;
  options.program_name = "x */ DROP TABLE t; /*";
  auto session = factory.Connect(options);
  ASSERT_FALSE(session);
  EXPECT_EQ(session.error().code, ErrorCode::kInvalidArgument);
}

TEST_F(ConnectorSessionTest, ConnectsOverTheUnixSocket) {
  ConnectOptions options = server_.MonitorOptions();
  options.socket = server_.socket;
  auto session = MustConnect(options);
  ASSERT_NE(session, nullptr);
  EXPECT_EQ(session->info().endpoint, "socket " + server_.socket);
  auto rs = session->Query("SELECT @@socket AS s");
  ASSERT_TRUE(rs);
  EXPECT_EQ(rs->rows[0]["s"].AsString(), server_.socket);
}

TEST_F(ConnectorSessionTest, ReturnsServerWarnings) {
  ConnectOptions options = server_.MonitorOptions();
  options.warnings_statement = "SHOW WARNINGS";
  auto session = MustConnect(options);
  ASSERT_NE(session, nullptr);
  auto rs = session->Query("SELECT CAST('12abc' AS SIGNED) AS n");
  ASSERT_TRUE(rs);
  EXPECT_EQ(rs->rows[0]["n"].AsInt64(), 12);
  ASSERT_EQ(rs->warnings.size(), 1u);
  EXPECT_EQ(rs->warnings[0].level, "Warning");
  EXPECT_EQ(rs->warnings[0].code, 1292);
  EXPECT_NE(rs->warnings[0].message.find("12abc"), std::string::npos);
}

TEST_F(ConnectorSessionTest, WrongPasswordIsAccessDeniedWithoutLeakingIt) {
  ConnectOptions options = server_.MonitorOptions();
  options.password = core::Secret("wrong-Pa55word-xyz");
  options.password_source = "password_env ORDERS_DB_PASSWORD";
  auto session = Connect(options);
  ASSERT_FALSE(session);
  EXPECT_EQ(session.error().code, ErrorCode::kAccessDenied);
  EXPECT_EQ(session.error().server_errno, 1045);
  const std::string text = session.error().ToString();
  EXPECT_NE(text.find("access denied for user 'monitor' on target 'primary'"), std::string::npos);
  EXPECT_NE(text.find("password_env ORDERS_DB_PASSWORD"), std::string::npos);
  EXPECT_EQ(text.find("wrong-Pa55word-xyz"), std::string::npos);
  EXPECT_EQ(text.find(server_.monitor_password.Reveal()), std::string::npos);
}

TEST_F(ConnectorSessionTest, RefusedPortIsUnavailable) {
  ConnectOptions options = server_.MonitorOptions();
  options.port = testing::ClosedLoopbackPort();
  auto session = Connect(options);
  ASSERT_FALSE(session);
  EXPECT_EQ(session.error().code, ErrorCode::kUnavailable);
  EXPECT_NE(session.error().message.find(fmt::format("127.0.0.1:{}", options.port)),
            std::string::npos);
}

TEST_F(ConnectorSessionTest, UnknownHostIsDnsFailure) {
  ConnectOptions options = server_.MonitorOptions();
  options.host = "no-such-host.invalid";
  auto session = Connect(options);
  ASSERT_FALSE(session);
  EXPECT_EQ(session.error().code, ErrorCode::kDnsFailure);
  EXPECT_NE(session.error().message.find("no-such-host.invalid"), std::string::npos);
}

TEST_F(ConnectorSessionTest, SilentServerTimesOutWithinConnectTimeout) {
  SilentListener silent;
  ConnectOptions options = server_.MonitorOptions();
  options.port = silent.port();
  options.connect_timeout = std::chrono::seconds(1);
  options.read_timeout = std::chrono::seconds(1);
  const auto start = std::chrono::steady_clock::now();
  auto session = Connect(options);
  const auto took = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(session);
  EXPECT_EQ(session.error().code, ErrorCode::kTimeout) << session.error().ToString();
  EXPECT_LT(took, std::chrono::seconds(4));
}

TEST_F(ConnectorSessionTest, SlowStatementTimesOutAtReadTimeout) {
  ConnectOptions options = server_.MonitorOptions();
  options.read_timeout = std::chrono::seconds(1);
  auto session = MustConnect(options);
  ASSERT_NE(session, nullptr);
  const uint64_t id = session->info().connection_id;
  auto rs = session->Query("SELECT SLEEP(4)");
  // The client gave up; the server still runs the statement. Stop it, so that it does not
  // complete inside a later test's measurement (the digest tests count what completes).
  (void)testing::SandboxSql("primary", fmt::format("KILL CONNECTION {}", id));
  ASSERT_FALSE(rs);
  EXPECT_EQ(rs.error().code, ErrorCode::kTimeout) << rs.error().ToString();
  EXPECT_NE(rs.error().message.find("SELECT SLEEP(4)"), std::string::npos);
}

TEST_F(ConnectorSessionTest, KilledConnectionIsUnavailable) {
  auto session = MustConnect(server_.MonitorOptions());
  ASSERT_NE(session, nullptr);
  auto killed = testing::SandboxSql(
      "primary", fmt::format("KILL CONNECTION {}", session->info().connection_id));
  ASSERT_TRUE(killed) << killed.error().ToString();
  auto rs = session->Query("SELECT 1");
  ASSERT_FALSE(rs);
  EXPECT_EQ(rs.error().code, ErrorCode::kUnavailable) << rs.error().ToString();
}

TEST_F(ConnectorSessionTest, ServerErrorsAreClassified) {
  auto session = MustConnect(server_.MonitorOptions());
  ASSERT_NE(session, nullptr);
  auto denied = session->Query("SELECT User FROM mysql.user");
  ASSERT_FALSE(denied);
  EXPECT_EQ(denied.error().code, ErrorCode::kPrivilege);
  EXPECT_EQ(denied.error().server_errno, 1142);
  auto syntax = session->Query("SELEKT 1");
  ASSERT_FALSE(syntax);
  EXPECT_EQ(syntax.error().code, ErrorCode::kSyntax);
  auto missing = session->Query("SELECT * FROM performance_schema.no_such_table");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, ErrorCode::kUnsupported);
  // The session survives statement errors.
  auto ok = session->Query("SELECT 1");
  EXPECT_TRUE(ok);
}

// --- TLS -------------------------------------------------------------------------------------

TEST_F(ConnectorSessionTest, TlsModesAgainstTheSandboxCertificate) {
  ConnectOptions options = server_.MonitorOptions();

  options.tls.mode = TlsMode::kDisabled;
  auto plain = MustConnect(options);
  ASSERT_NE(plain, nullptr);
  EXPECT_FALSE(plain->info().tls);

  options.tls.mode = TlsMode::kPreferred;
  auto preferred = MustConnect(options);
  ASSERT_NE(preferred, nullptr);
  EXPECT_TRUE(preferred->info().tls);

  options.tls.mode = TlsMode::kRequired;
  auto required = MustConnect(options);
  ASSERT_NE(required, nullptr);
  EXPECT_TRUE(required->info().tls);
  EXPECT_FALSE(required->info().tls_cipher.empty());
  EXPECT_EQ(required->info().tls_version.rfind("TLSv1.", 0), 0u) << required->info().tls_version;
  // The server agrees the connection is encrypted.
  auto cipher = required->Query("SHOW SESSION STATUS LIKE 'Ssl_cipher'");
  ASSERT_TRUE(cipher);
  EXPECT_EQ(cipher->rows[0]["Value"].AsString(), required->info().tls_cipher);

  options.tls.mode = TlsMode::kVerifyCa;
  options.tls.ca = server_.tls_ca;
  auto verify_ca = MustConnect(options);
  ASSERT_NE(verify_ca, nullptr);
  EXPECT_TRUE(verify_ca->info().tls);

  options.tls.mode = TlsMode::kVerifyIdentity;  // 127.0.0.1 is in the certificate's SAN
  auto verify_identity = MustConnect(options);
  ASSERT_NE(verify_identity, nullptr);
  EXPECT_TRUE(verify_identity->info().tls);
}

// Runs openssl; returns false (and the test fails) when it does not succeed.
bool Openssl(const std::string& args) {
  const std::string command = "openssl " + args + " >/dev/null 2>&1";
  return std::system(command.c_str()) == 0;  // NOLINT(concurrency-mt-unsafe, cert-env33-c)
}

// A CA and a server certificate that this test generates, swapped into the running server
// with FLUSH SSL and swapped back afterwards. The certificate names only db.example.test,
// so the chain verifies but the identity of 127.0.0.1 does not.
class GeneratedCertificateTest : public ConnectorSessionTest {
 protected:
  void SetUp() override {
    ConnectorSessionTest::SetUp();
    if (HasFatalFailure()) return;
    dir_ = fs::temp_directory_path() / fmt::format("dbrunbook-tls-{}", getpid());
    fs::create_directories(dir_);
    const std::string d = dir_.string();
    ASSERT_TRUE(Openssl(
        fmt::format("req -x509 -newkey rsa:2048 -nodes -days 2 -subj '/CN=dbrunbook test CA' "
                    "-keyout {0}/ca-key.pem -out {0}/ca.pem",
                    d)));
    std::ofstream(dir_ / "san.ext") << "subjectAltName=DNS:db.example.test\n";
    ASSERT_TRUE(Openssl(fmt::format(
        "req -newkey rsa:2048 -nodes -subj '/CN=db.example.test' -keyout {0}/server-key.pem "
        "-out {0}/server.csr",
        d)));
    ASSERT_TRUE(Openssl(fmt::format(
        "x509 -req -in {0}/server.csr -CA {0}/ca.pem -CAkey {0}/ca-key.pem -CAcreateserial "
        "-days 2 -extfile {0}/san.ext -out {0}/server-cert.pem",
        d)));
    fs::copy_file(server_.tls_cert, dir_ / "orig-cert.pem");
    fs::copy_file(server_.tls_key, dir_ / "orig-key.pem");
    fs::copy_file(dir_ / "server-cert.pem", server_.tls_cert, fs::copy_options::overwrite_existing);
    fs::copy_file(dir_ / "server-key.pem", server_.tls_key, fs::copy_options::overwrite_existing);
    swapped_ = true;
    auto flushed = testing::SandboxSql("primary", "FLUSH SSL");
    ASSERT_TRUE(flushed) << flushed.error().ToString();
  }

  void TearDown() override {
    if (swapped_) {
      fs::copy_file(dir_ / "orig-cert.pem", server_.tls_cert, fs::copy_options::overwrite_existing);
      fs::copy_file(dir_ / "orig-key.pem", server_.tls_key, fs::copy_options::overwrite_existing);
      auto flushed = testing::SandboxSql("primary", "FLUSH SSL");
      EXPECT_TRUE(flushed) << flushed.error().ToString();
    }
    if (!dir_.empty()) fs::remove_all(dir_);
  }

  fs::path dir_;
  bool swapped_ = false;
};

TEST_F(GeneratedCertificateTest, VerifyCaChecksTheChainAndVerifyIdentityTheName) {
  ConnectOptions options = server_.MonitorOptions();
  options.tls.mode = TlsMode::kRequired;  // encrypts whatever the certificate
  auto required = MustConnect(options);
  ASSERT_NE(required, nullptr);
  EXPECT_TRUE(required->info().tls);

  options.tls.mode = TlsMode::kVerifyCa;
  options.tls.ca = (dir_ / "ca.pem").string();
  auto verified = MustConnect(options);
  ASSERT_NE(verified, nullptr);
  EXPECT_TRUE(verified->info().tls);

  options.tls.mode = TlsMode::kVerifyIdentity;  // 127.0.0.1 is not db.example.test
  auto wrong_name = Connect(options);
  ASSERT_FALSE(wrong_name);
  EXPECT_EQ(wrong_name.error().code, ErrorCode::kTlsError) << wrong_name.error().ToString();
  EXPECT_NE(wrong_name.error().hint.find("host name"), std::string::npos);

  options.tls.mode = TlsMode::kVerifyCa;
  options.tls.ca = server_.tls_ca;  // the sandbox CA did not sign this certificate
  auto wrong_ca = Connect(options);
  ASSERT_FALSE(wrong_ca);
  EXPECT_EQ(wrong_ca.error().code, ErrorCode::kTlsError) << wrong_ca.error().ToString();
  EXPECT_NE(wrong_ca.error().message.find("VERIFY_CA"), std::string::npos);
}

}  // namespace
}  // namespace dbrunbook::mysql
