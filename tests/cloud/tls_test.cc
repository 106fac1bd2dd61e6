// TLS verification of CurlTransport against a real TLS server: `openssl s_server` (Debian's
// openssl) with a self-signed certificate made by the test.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "cloud/http.h"

extern char** environ;

namespace dbrunbook::cloud {
namespace {

// A temporary directory removed at the end of the test.
class TempDir {
 public:
  TempDir() {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "dbrunbook-tls-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) std::abort();
    path_ = pattern;
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// Runs `argv` and waits; returns its exit status (or -1).
int Run(const std::vector<std::string>& argv) {
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
  pid_t pid = 0;
  const int rc = posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) return -1;
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

// A self-signed certificate (its own CA) for the given subjectAltName.
void MakeCertificate(const std::string& dir, const std::string& name, const std::string& san) {
  ASSERT_EQ(Run({"openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout",
                 dir + "/" + name + ".key", "-out", dir + "/" + name + ".pem", "-days", "1",
                 "-subj", "/CN=dbrunbook-test", "-addext", "subjectAltName=" + san}),
            0)
      << "openssl req failed (is Debian's openssl installed?)";
}

// `openssl s_server -www` on an ephemeral loopback port; stopped (by pid) on destruction.
class TlsServer {
 public:
  TlsServer(const std::string& cert, const std::string& key) {
    int out[2];
    if (::pipe(out) != 0) std::abort();
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, out[1], STDOUT_FILENO);
    posix_spawn_file_actions_adddup2(&actions, out[1], STDERR_FILENO);
    posix_spawn_file_actions_addclose(&actions, out[0]);
    std::vector<std::string> argv = {"openssl", "s_server", "-accept", "127.0.0.1:0", "-cert",
                                     cert,      "-key",     key,       "-www"};
    std::vector<char*> args;
    for (auto& a : argv) args.push_back(a.data());
    args.push_back(nullptr);
    const int rc = posix_spawnp(&pid_, "openssl", &actions, nullptr, args.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    ::close(out[1]);
    if (rc != 0) {
      pid_ = 0;
      ::close(out[0]);
      return;
    }
    // s_server prints "ACCEPT 127.0.0.1:PORT" once it listens.
    std::string text;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (port_ == 0 && std::chrono::steady_clock::now() < deadline) {
      pollfd p{out[0], POLLIN, 0};
      if (::poll(&p, 1, 200) <= 0) continue;
      char buf[256];
      const ssize_t n = ::read(out[0], buf, sizeof buf);
      if (n <= 0) break;
      text.append(buf, static_cast<size_t>(n));
      const auto at = text.find("ACCEPT 127.0.0.1:");
      const auto eol = at == std::string::npos ? std::string::npos : text.find('\n', at);
      if (eol != std::string::npos) port_ = std::stoi(text.substr(at + 17, eol - at - 17));
    }
    output_fd_ = out[0];  // kept open so s_server never writes into a closed pipe
  }
  ~TlsServer() {
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      ::waitpid(pid_, nullptr, 0);
    }
    if (output_fd_ >= 0) ::close(output_fd_);
  }
  int port() const { return port_; }

 private:
  pid_t pid_ = 0;
  int port_ = 0;
  int output_fd_ = -1;
};

class TlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    MakeCertificate(dir_.path(), "good", "IP:127.0.0.1,DNS:localhost");
    MakeCertificate(dir_.path(), "other", "DNS:db.example.org");
  }
  std::string Pem(const std::string& name) const { return dir_.path() + "/" + name + ".pem"; }
  std::string Key(const std::string& name) const { return dir_.path() + "/" + name + ".key"; }

  TempDir dir_;
};

HttpRequest Get(int port) {
  HttpRequest request;
  request.url = "https://127.0.0.1:" + std::to_string(port) + "/?X-Amz-Signature=SECRET";
  request.timeout = std::chrono::seconds(10);
  return request;
}

TEST_F(TlsTest, SelfSignedCertificateIsRefusedByDefault) {
  TlsServer server(Pem("good"), Key("good"));
  ASSERT_GT(server.port(), 0) << "openssl s_server did not start";
  auto transport = CurlTransport::Create();
  ASSERT_TRUE(transport);
  auto response = (*transport)->Send(Get(server.port()));
  ASSERT_FALSE(response);
  EXPECT_EQ(response.error().code, core::ErrorCode::kTlsError) << response.error().ToString();
  EXPECT_NE(response.error().message.find("127.0.0.1"), std::string::npos);
  EXPECT_EQ(response.error().ToString().find("SECRET"), std::string::npos);
  EXPECT_TRUE(FailedBeforeSending(response.error()));
}

TEST_F(TlsTest, CertificateIsAcceptedWithItsCaFile) {
  TlsServer server(Pem("good"), Key("good"));
  ASSERT_GT(server.port(), 0) << "openssl s_server did not start";
  CurlTransportOptions options;
  options.ca_file = Pem("good");
  auto transport = CurlTransport::Create(options);
  ASSERT_TRUE(transport) << transport.error().ToString();
  auto response = (*transport)->Send(Get(server.port()));
  ASSERT_TRUE(response) << response.error().ToString();
  EXPECT_EQ(response->status, 200);
  EXPECT_NE(response->body.find("s_server"), std::string::npos);  // -www's status page
}

TEST_F(TlsTest, HostNameIsVerifiedEvenWithTheRightCa) {
  // Trusted CA, but the certificate is for db.example.org, not 127.0.0.1.
  TlsServer server(Pem("other"), Key("other"));
  ASSERT_GT(server.port(), 0) << "openssl s_server did not start";
  CurlTransportOptions options;
  options.ca_file = Pem("other");
  auto transport = CurlTransport::Create(options);
  ASSERT_TRUE(transport) << transport.error().ToString();
  auto response = (*transport)->Send(Get(server.port()));
  ASSERT_FALSE(response);
  EXPECT_EQ(response.error().code, core::ErrorCode::kTlsError) << response.error().ToString();
}

}  // namespace
}  // namespace dbrunbook::cloud
