// End to end through tests/cloud/sigv4_verifying_proxy.py (botocore re-verifies every
// request as received on a real socket) in front of a loopback echo server: requests signed
// by our signer are relayed (200, the echo's body), a request with one byte changed or without
// Authorization is refused with an AWS-style 403. Needs /usr/bin/python3 with Debian's
// python3-botocore; missing, the test FAILS and says to run scripts/setup.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "cloud/http_text.h"
#include "cloud/sigv4.h"

#ifndef DBRUNBOOK_CLOUD_TEST_DIR
#error "DBRUNBOOK_CLOUD_TEST_DIR must name tests/cloud (set by tests/cloud/CMakeLists.txt)"
#endif

extern char** environ;  // NOLINT: POSIX, for posix_spawn

namespace dbrunbook::cloud {
namespace {

constexpr const char* kPython = "/usr/bin/python3";
const char* const kAccessKey = "AKIDEXAMPLE";
const char* const kSecret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
const char* const kToken = "FQoGZXIvYXdzEXAMPLE/session+token==";

// A child process whose stdout we read until it prints "ready PORT"; stopped (SIGTERM) when
// destroyed. Its stderr goes to ours, so the proxy's per-request log lines show in the test log.
class Child {
 public:
  // `extra_env` ("NAME=value") is added to our environment for the child: secrets go there,
  // never on its command line, which every user of the machine sees in ps.
  explicit Child(std::vector<std::string> args, std::vector<std::string> extra_env = {}) {
    int fds[2];
    if (pipe(fds) != 0) return;
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
    posix_spawn_file_actions_addclose(&actions, fds[0]);
    std::vector<char*> argv;
    for (std::string& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    std::vector<char*> envp;
    for (char** e = environ; *e != nullptr; ++e) envp.push_back(*e);
    for (std::string& e : extra_env) envp.push_back(e.data());
    envp.push_back(nullptr);
    if (posix_spawn(&pid_, argv[0], &actions, nullptr, argv.data(), envp.data()) != 0) pid_ = -1;
    posix_spawn_file_actions_destroy(&actions);
    close(fds[1]);
    out_ = fdopen(fds[0], "r");
    if (pid_ <= 0 || out_ == nullptr) return;
    char line[256];
    if (fgets(line, sizeof line, out_) != nullptr) sscanf(line, "ready %d", &port_);
  }
  ~Child() {
    if (pid_ > 0) {
      kill(pid_, SIGTERM);
      int status = 0;
      waitpid(pid_, &status, 0);
    }
    if (out_ != nullptr) fclose(out_);
  }
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;

  int port() const { return port_; }
  // The exit status if the child already ended (e.g. botocore missing), else -1.
  int ExitStatusIfDone() {
    int status = 0;
    if (pid_ > 0 && waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
    }
    return -1;
  }

 private:
  pid_t pid_ = -1;
  FILE* out_ = nullptr;
  int port_ = 0;
};

struct Response {
  int status = 0;
  std::string text;  // status line, headers and body
};

// One HTTP/1.1 exchange on a fresh loopback connection ("Connection: close").
Response Exchange(int port, const std::string& raw) {
  Response out;
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (fd < 0 || connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    if (fd >= 0) close(fd);
    return out;
  }
  std::size_t sent = 0;
  while (sent < raw.size()) {
    const ssize_t n = send(fd, raw.data() + sent, raw.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) break;
    sent += static_cast<std::size_t>(n);
  }
  char buf[8192];
  ssize_t n = 0;
  while ((n = recv(fd, buf, sizeof buf, 0)) > 0) out.text.append(buf, static_cast<std::size_t>(n));
  close(fd);
  if (out.text.size() > 12) out.status = std::stoi(out.text.substr(9, 3));
  return out;
}

// The request as it goes on the wire; Content-Length and Connection are added after signing
// (unsigned, as awscli's HTTP layer adds them).
std::string Wire(const SignableRequest& r) {
  std::string out = r.method + " " + r.path;
  if (!r.query.empty()) out += "?" + EncodeQueryString(r.query);
  out += " HTTP/1.1\r\n";
  for (const HttpHeader& h : r.headers) out += h.name + ": " + h.value + "\r\n";
  out += "Content-Length: " + std::to_string(r.body.size()) + "\r\nConnection: close\r\n\r\n";
  return out + r.body;
}

class SigV4ProxyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(access(kPython, X_OK), 0) << kPython << " not found: run scripts/setup";
    const std::string dir = DBRUNBOOK_CLOUD_TEST_DIR;
    upstream_ =
        std::make_unique<Child>(std::vector<std::string>{kPython, dir + "/echo_upstream.py"});
    ASSERT_GT(upstream_->port(), 0) << "echo upstream did not start";
    proxy_ = std::make_unique<Child>(
        std::vector<std::string>{
            kPython, dir + "/sigv4_verifying_proxy.py", "--listen-port", "0", "--upstream",
            "http://127.0.0.1:" + std::to_string(upstream_->port()), "--access-key", kAccessKey,
            "--secret-env", "PROXY_TEST_SECRET", "--token-env", "PROXY_TEST_TOKEN"},
        std::vector<std::string>{std::string("PROXY_TEST_SECRET=") + kSecret,
                                 std::string("PROXY_TEST_TOKEN=") + kToken});
    if (proxy_->port() <= 0) {
      ASSERT_NE(proxy_->ExitStatusIfDone(), 3) << "Debian's python3-botocore is not installed for "
                                               << kPython << ": run scripts/setup (as root)";
      FAIL() << "sigv4_verifying_proxy.py did not start (see its stderr)";
    }
    credentials_.access_key_id = core::Secret(kAccessKey);
    credentials_.secret_access_key = core::Secret(kSecret);
    credentials_.session_token = core::Secret(kToken);
    params_.region = "us-east-1";
    params_.service = "rds";
    params_.time = std::chrono::system_clock::now();
  }

  static SignableRequest DescribeDBInstances() {
    SignableRequest r;
    r.method = "POST";
    r.path = "/";
    r.headers = {{"Host", "rds.us-east-1.amazonaws.com"},
                 {"Content-Type", "application/x-www-form-urlencoded; charset=utf-8"}};
    r.body = FormEncode({{"Action", "DescribeDBInstances"},
                         {"Version", "2014-10-31"},
                         {"Filters.Filter.1.Values.Value.1", "my db * \xc3\xa9"}});
    return r;
  }

  std::string SignedWire(const SignableRequest& r) {
    auto s = signer_.Sign(r, credentials_, params_);
    EXPECT_TRUE(s.has_value()) << s.error().ToString();
    return s ? Wire(s->request) : "";
  }

  std::unique_ptr<Child> upstream_;
  std::unique_ptr<Child> proxy_;
  Signer signer_;
  AwsCredentials credentials_;
  SigningParams params_;
};

TEST_F(SigV4ProxyTest, SignedRequestIsRelayed) {
  const SignableRequest r = DescribeDBInstances();
  const Response resp = Exchange(proxy_->port(), SignedWire(r));
  EXPECT_EQ(resp.status, 200) << resp.text;
  EXPECT_NE(resp.text.find("X-Upstream: echo"), std::string::npos) << resp.text;
  EXPECT_NE(resp.text.find("<BodySha256>" + *Sha256Hex(r.body)), std::string::npos) << resp.text;
}

TEST_F(SigV4ProxyTest, SignedGetWithAwkwardQueryIsRelayed) {
  SignableRequest r;
  r.method = "GET";
  r.path = "/a%20b/./c/";  // wire form; the signer encodes it once more, as AWS expects
  r.query = {{"Action", "GetMetricStatistics"}, {"k", ""}, {"k", "z y"}, {"\xe1\x88\xb4", "*+/"}};
  r.headers = {{"Host", "monitoring.us-east-1.amazonaws.com"}, {"X-Note", "  a   b  "}};
  params_.service = "monitoring";
  const Response resp = Exchange(proxy_->port(), SignedWire(r));
  EXPECT_EQ(resp.status, 200) << resp.text;
}

TEST_F(SigV4ProxyTest, OneTamperedByteIsRefused) {
  std::string wire = SignedWire(DescribeDBInstances());
  ASSERT_FALSE(wire.empty());
  wire.back() = wire.back() == 'x' ? 'y' : 'x';  // last byte of the body
  const Response resp = Exchange(proxy_->port(), wire);
  EXPECT_EQ(resp.status, 403) << resp.text;
  EXPECT_NE(resp.text.find("<Code>SignatureDoesNotMatch</Code>"), std::string::npos) << resp.text;
  EXPECT_EQ(resp.text.find(kSecret), std::string::npos);

  // A changed signature digit is refused the same way.
  std::string wire2 = SignedWire(DescribeDBInstances());
  const std::size_t sig = wire2.find("Signature=") + 10;
  wire2[sig] = wire2[sig] == '0' ? '1' : '0';
  EXPECT_EQ(Exchange(proxy_->port(), wire2).status, 403);
}

TEST_F(SigV4ProxyTest, UnsignedRequestIsRefused) {
  const Response resp = Exchange(proxy_->port(), Wire(DescribeDBInstances()));
  EXPECT_EQ(resp.status, 403) << resp.text;
  EXPECT_NE(resp.text.find("<Code>MissingAuthenticationToken</Code>"), std::string::npos)
      << resp.text;
}

TEST_F(SigV4ProxyTest, WrongSecretOrMissingTokenIsRefused) {
  credentials_.secret_access_key = core::Secret("not-the-secret");
  EXPECT_EQ(Exchange(proxy_->port(), SignedWire(DescribeDBInstances())).status, 403);
  credentials_.secret_access_key = core::Secret(kSecret);
  credentials_.session_token = core::Secret();
  const Response resp = Exchange(proxy_->port(), SignedWire(DescribeDBInstances()));
  EXPECT_EQ(resp.status, 403);
  EXPECT_NE(resp.text.find("<Code>InvalidClientTokenId</Code>"), std::string::npos) << resp.text;
}

}  // namespace
}  // namespace dbrunbook::cloud
