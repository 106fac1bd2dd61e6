// `dbrunbook notify ...` as a process against real receivers: an HTTP server on loopback (this
// test's HttpTestServer) and a real SMTP server (aiosmtpd from Debian's python3-aiosmtpd, its
// Mailbox handler writing a Maildir), plain and with STARTTLS on a self-signed certificate.
// Also: `notify flush` killed with SIGKILL in the middle of delivering loses nothing.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <signal.h>
#include <sys/socket.h>

#include <map>
#include <nlohmann/json.hpp>
#include <thread>

#include "notify/dispatcher.h"
#include "support/cli_fixture.h"
#include "support/daemon_process.h"
#include "support/http_test_server.h"

namespace dbrunbook::notify {
namespace {

using nlohmann::json;
using std::chrono::milliseconds;
using testing::HttpTestServer;
using testing::RecordedRequest;
using testing::ScriptedResponse;

constexpr const char* kPython = "/usr/bin/python3";

std::string Hmac(const std::string& secret, const std::string& content) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(content.data()), content.size(), mac, &size);
  std::string hex;
  for (unsigned i = 0; i < size; ++i) hex += fmt::format("{:02x}", mac[i]);
  return hex;
}

uint16_t FreePort() {
  HttpTestServer probe;
  return probe.port();
}

bool Accepts(uint16_t port) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(port);
  const bool ok = connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  close(fd);
  return ok;
}

class NotifyCliTest : public testing::CliFixture {
 protected:
  NotifyCliTest() : CliFixture("notify-cli") {}

  // Enqueues `n` alert messages for `channel` into the store at `store`.
  static void Enqueue(const std::string& store, const std::string& channel, int n,
                      const std::string& title = "alert") {
    auto opened = store::Store::Open(store);
    ASSERT_TRUE(opened) << opened.error().ToString();
    for (int i = 0; i < n; ++i) {
      Message m;
      m.kind = MessageKind::kAlert;
      m.severity = Severity::kCritical;
      m.incident_id = std::to_string(100 + i);
      m.target = "orders-primary";
      m.key = fmt::format("incident-{}-alert", 100 + i);
      m.dedup_key = fmt::format("dbrunbook-{}", 100 + i);
      m.title = title;
      m.text = "Slow queries on orders-primary.\nÄnderung: none — ✓";
      m.channels = {channel};
      auto queued = EnqueueMessage(**opened, m, std::chrono::system_clock::now(), {channel});
      ASSERT_TRUE(queued) << queued.error().ToString();
    }
  }

  // A real SMTP server: aiosmtpd on `port`, its handler (tests/notify/smtp/save_handler.py)
  // keeping every message as received in `maildir`.
  std::unique_ptr<testing::DaemonProcess> StartSmtp(uint16_t port, const std::string& maildir,
                                                    const std::vector<std::string>& extra = {}) {
    std::vector<std::string> args = {"-m", "aiosmtpd", "-n", "-l",
                                     "127.0.0.1:" + std::to_string(port)};
    args.insert(args.end(), extra.begin(), extra.end());
    args.insert(args.end(), {"-c", "save_handler.Save", maildir});
    const char* source = std::getenv("DBRUNBOOK_SOURCE_DIR");  // NOLINT(concurrency-mt-unsafe)
    EXPECT_NE(source, nullptr) << "run through CTest (DBRUNBOOK_SOURCE_DIR)";
    auto smtp = std::make_unique<testing::DaemonProcess>(
        kPython, args, (dir_ / "smtp.log").string(), dir_.string(),
        std::vector<std::pair<std::string, std::string>>{
            {"PYTHONPATH", std::string(source != nullptr ? source : ".") + "/tests/notify/smtp"}});
    for (int i = 0; i < 300 && !Accepts(port); ++i) {
      std::this_thread::sleep_for(milliseconds(20));
    }
    EXPECT_TRUE(Accepts(port)) << "aiosmtpd did not start (Debian package python3-aiosmtpd):\n"
                               << smtp->Log();
    return smtp;
  }

  // Envelope, subject, body and Message-ID of every mail received, the message decoded by
  // Python's email package from the bytes as sent.
  testing::RunResult ReadMaildir(const std::string& maildir) {
    Write("read_maildir.py",
          "import glob, sys, email, email.policy\n"
          "for name in sorted(glob.glob(sys.argv[1] + '/*.eml')):\n"
          "    print(open(name[:-4] + '.env', encoding='utf-8').read().rstrip())\n"
          "    m = email.message_from_bytes(open(name, 'rb').read(), policy=email.policy.default)\n"
          "    print('SUBJECT:', m['subject'])\n"
          "    print('MESSAGE-ID:', m['message-id'])\n"
          "    print('CONTENT-TYPE:', m.get_content_type(), m.get_content_charset())\n"
          "    print('BODY:', m.get_content().replace('\\r\\n', '\\n').rstrip())\n");
    return Shell(std::string(kPython) + " '" + (dir_ / "read_maildir.py").string() + "' '" +
                 maildir + "'");
  }
};

TEST_F(NotifyCliTest, TestListAndConfigCheckAgainstARealWebhook) {
  std::atomic<int> status{200};
  HttpTestServer server(
      [&](const RecordedRequest&) { return ScriptedResponse::Text(status.load(), "ok"); });
  const std::string config = Write("dbrunbook.yaml", R"(targets: []
notify:
  channels:
    - {name: ops-hook, type: webhook, url_env: HOOK_URL, hmac_secret_env: HOOK_SECRET}
)");
  const std::string env = "HOOK_URL='" + server.BaseUrl() + "/hook/t0ken' HOOK_SECRET=s3cr3t ";
  auto run = Shell(env + "$B notify test ops-hook --config '" + config + "'");
  EXPECT_EQ(run.status, 0) << run.Describe();
  EXPECT_NE(run.out.find("delivered"), std::string::npos) << run.Describe();
  ASSERT_EQ(server.Requests().size(), 1u);
  const RecordedRequest r = server.Requests().front();
  EXPECT_EQ(r.Path(), "/hook/t0ken");
  EXPECT_EQ(json::parse(r.body)["kind"], "test");
  EXPECT_EQ(
      r.Header("X-Dbrunbook-Signature").value_or(""),
      "sha256=" + Hmac("s3cr3t", r.Header("X-Dbrunbook-Timestamp").value_or("") + "." + r.body));

  // A receiver answering 400: not delivered, exit 1.
  status = 400;
  run = Shell(env + "$B notify test ops-hook --config '" + config + "'");
  EXPECT_EQ(run.status, 1) << run.Describe();
  EXPECT_NE(run.err.find("failed — HTTP 400"), std::string::npos) << run.Describe();

  run = Shell(env + "$B notify test ops-hok --config '" + config + "'");
  EXPECT_EQ(run.status, 2) << run.Describe();
  EXPECT_NE(run.err.find("did you mean ops-hook?"), std::string::npos) << run.Describe();

  run = Shell(env + "$B notify list --config '" + config + "'");
  EXPECT_EQ(run.status, 0) << run.Describe();
  EXPECT_NE(run.out.find("signed (HMAC-SHA256)"), std::string::npos) << run.Describe();
  EXPECT_EQ(run.out.find("s3cr3t"), std::string::npos) << run.Describe();
  // The URL came from the environment: only its origin is shown.
  EXPECT_NE(run.out.find(server.BaseUrl() + "/***"), std::string::npos) << run.Describe();
  EXPECT_EQ(run.out.find("t0ken"), std::string::npos) << run.Describe();

  // Without the secret's variable, config check names it (never a value) and fails.
  run = Shell("HOOK_URL='" + server.BaseUrl() + "/hook/t0ken' $B config check '" + config + "'");
  EXPECT_EQ(run.status, 1) << run.Describe();
  EXPECT_NE(run.err.find("notify.channels (ops-hook): environment variable HOOK_SECRET "
                         "(hmac_secret_env) is not set"),
            std::string::npos)
      << run.Describe();
  EXPECT_EQ(run.err.find("t0ken"), std::string::npos) << run.Describe();

  // A runbook contact naming a channel that is not configured: an error of config check.
  const std::string runbook = Write("runbook.yaml", R"(runbook: {name: r, version: 1, owner: dba}
triggers:
  - {name: slow, signal: longest_query_seconds, op: ">", threshold: 5, for: 30s}
escalation:
  - {name: down, when: unavailable, after: 10m, level: 1}
contacts:
  - {name: dba-on-call, role: DBA, level: 1, channels: [ops-hok]}
)");
  run = Shell(env + "$B config check '" + config + "' --runbook '" + runbook + "'");
  EXPECT_EQ(run.status, 1) << run.Describe();
  EXPECT_NE(run.err.find("contacts (dba-on-call).channels: no notification channel is named "
                         "'ops-hok'"),
            std::string::npos)
      << run.Describe();
  EXPECT_NE(run.err.find("did you mean ops-hook?"), std::string::npos) << run.Describe();
}

TEST_F(NotifyCliTest, PagerDutyTestTriggersAndResolvesItsIncident) {
  HttpTestServer server([](const RecordedRequest&) {
    return ScriptedResponse::Text(202, R"({"status":"success","message":"Event processed"})");
  });
  const std::string config = Write("dbrunbook.yaml",
                                   "targets: []\nnotify:\n  channels:\n"
                                   "    - {name: pager, type: pagerduty, "
                                   "routing_key_env: PD_KEY, url: " +
                                       server.BaseUrl() + "/v2/enqueue}\n");
  auto run = Shell("PD_KEY=R0UT1NGKEY $B notify test pager --config '" + config + "'");
  EXPECT_EQ(run.status, 0) << run.Describe();
  EXPECT_EQ((run.out + run.err).find("R0UT1NGKEY"), std::string::npos) << run.Describe();
  const auto requests = server.Requests();
  ASSERT_EQ(requests.size(), 2u);
  const json trigger = json::parse(requests[0].body);
  const json resolve = json::parse(requests[1].body);
  EXPECT_EQ(trigger["event_action"], "trigger");
  EXPECT_EQ(trigger["routing_key"], "R0UT1NGKEY");
  EXPECT_EQ(trigger["payload"]["severity"], "info");
  EXPECT_EQ(resolve["event_action"], "resolve");
  EXPECT_EQ(resolve["dedup_key"], trigger["dedup_key"]);
  EXPECT_FALSE(resolve.contains("payload"));
}

TEST_F(NotifyCliTest, FlushKilledWithSigkillMidwayLosesNothing) {
  HttpTestServer server([](const RecordedRequest&) {
    ScriptedResponse r = ScriptedResponse::Text(200, "ok");
    r.delay = milliseconds(60);
    return r;
  });
  const std::string config = Write("dbrunbook.yaml",
                                   "targets: []\nnotify:\n  channels:\n"
                                   "    - {name: hook, type: webhook, url: " +
                                       server.BaseUrl() + "/hook}\n");
  const std::string store = (dir_ / "store.db").string();
  Enqueue(store, "hook", 20);
  {
    testing::DaemonProcess flush(binary_, {"notify", "flush", "--store", store, "--config", config},
                                 (dir_ / "flush.log").string(), dir_.string());
    ASSERT_TRUE(server.WaitForRequests(6, milliseconds(10000)));
    EXPECT_EQ(flush.Signal(SIGKILL), -SIGKILL);
  }
  const size_t before = server.Requests().size();
  EXPECT_LT(before, 20u) << "the flush finished before it was killed: nothing was tested";
  auto run = Shell("$B notify flush --store '" + store + "' --config '" + config + "'");
  EXPECT_EQ(run.status, 0) << run.Describe();
  std::map<std::string, int> per_key;
  for (const auto& r : server.Requests()) ++per_key[json::parse(r.body)["id"]];
  EXPECT_EQ(per_key.size(), 20u);
  int repeats = 0;
  for (const auto& [key, n] : per_key) repeats += n - 1;
  // At least once: only the message in flight when the process died may arrive twice.
  EXPECT_LE(repeats, 1);
  std::cout << "killed after " << before << " requests; " << repeats
            << " message(s) delivered twice, none lost\n";
  run = Shell("$B notify outbox --store '" + store + "'");
  EXPECT_EQ(run.status, 0) << run.Describe();
  EXPECT_NE(run.out.find("hook                    0       20        0"), std::string::npos)
      << run.Describe();
}

TEST_F(NotifyCliTest, EmailArrivesAtARealSmtpServerWithItsUtf8Subject) {
  const uint16_t port = FreePort();
  const std::string maildir = (dir_ / "Maildir").string();
  auto smtp = StartSmtp(port, maildir);
  const std::string url = "smtp://127.0.0.1:" + std::to_string(port);
  const std::string config = Write("dbrunbook.yaml", R"(targets: []
notify:
  channels:
    - {name: mail, type: email, smtp_url: )" + url + R"(, starttls: opportunistic,
       from: dbrunbook@example.com, to: [dba@example.com, oncall@example.com]}
    - {name: mail-tls, type: email, smtp_url: )" + url + R"(,
       from: dbrunbook@example.com, to: [dba@example.com]}
)");
  const std::string store = (dir_ / "store.db").string();
  Enqueue(store, "mail", 1, "🚨 Database performance alert: orders-primary");
  auto run = Shell("$B notify flush --store '" + store + "' --config '" + config + "'");
  EXPECT_EQ(run.status, 0) << run.Describe();
  auto mails = ReadMaildir(maildir);
  ASSERT_EQ(mails.status, 0) << mails.Describe();
  EXPECT_NE(mails.out.find("SUBJECT: 🚨 Database performance alert: orders-primary"),
            std::string::npos)
      << mails.Describe();
  EXPECT_NE(mails.out.find("BODY: Slow queries on orders-primary.\nÄnderung: none — ✓"),
            std::string::npos)
      << mails.Describe();
  EXPECT_NE(mails.out.find("CONTENT-TYPE: text/plain utf-8"), std::string::npos);
  EXPECT_NE(mails.out.find("@example.com>"), std::string::npos);  // the Message-ID
  EXPECT_NE(mails.out.find("to: dba@example.com, oncall@example.com\ntls: no"), std::string::npos)
      << mails.Describe();

  // STARTTLS required (the default) from a server that does not offer it: refused, not sent
  // in clear text.
  run = Shell("$B notify test mail-tls --config '" + config + "'");
  EXPECT_EQ(run.status, 1) << run.Describe();
  EXPECT_NE(run.err.find("failed"), std::string::npos) << run.Describe();
  mails = ReadMaildir(maildir);
  EXPECT_EQ(mails.out.find("test message: mail-tls"), std::string::npos) << mails.Describe();
}

TEST_F(NotifyCliTest, EmailOverStartTlsVerifiesTheServerCertificate) {
  const std::string cert = (dir_ / "cert.pem").string();
  const std::string key = (dir_ / "key.pem").string();
  auto made = Shell(
      "openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=127.0.0.1 "
      "-addext subjectAltName=IP:127.0.0.1 -keyout '" +
      key + "' -out '" + cert + "'");
  ASSERT_EQ(made.status, 0) << made.Describe();
  const uint16_t port = FreePort();
  const std::string maildir = (dir_ / "Maildir").string();
  auto smtp = StartSmtp(port, maildir, {"--tlscert", cert, "--tlskey", key});
  const std::string url = "smtp://127.0.0.1:" + std::to_string(port);
  const std::string config = Write("dbrunbook.yaml", R"(targets: []
notify:
  channels:
    - {name: mail, type: email, smtp_url: )" + url + R"(, ca_file: )" +
                                                         cert + R"(,
       from: dbrunbook@example.com, to: [dba@example.com]}
    - {name: untrusted, type: email, smtp_url: )" + url + R"(,
       from: dbrunbook@example.com, to: [dba@example.com]}
)");
  auto run = Shell("$B notify test mail --config '" + config + "'");
  EXPECT_EQ(run.status, 0) << run.Describe();
  auto mails = ReadMaildir(maildir);
  EXPECT_NE(mails.out.find("SUBJECT: 🧪 dbrunbook test message: mail"), std::string::npos)
      << mails.Describe() << smtp->Log();
  EXPECT_NE(mails.out.find("tls: yes"), std::string::npos) << mails.Describe();  // STARTTLS
  // The same server without its CA: the certificate does not verify, nothing is sent.
  run = Shell("$B notify test untrusted --config '" + config + "'");
  EXPECT_EQ(run.status, 1) << run.Describe();
  mails = ReadMaildir(maildir);
  EXPECT_EQ(mails.out.find("test message: untrusted"), std::string::npos) << mails.Describe();
}

TEST_F(NotifyCliTest, EmailWithSmtpAuthAfterStartTls) {
  const std::string cert = (dir_ / "cert.pem").string();
  const std::string key = (dir_ / "key.pem").string();
  auto made = Shell(
      "openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=127.0.0.1 "
      "-addext subjectAltName=IP:127.0.0.1 -keyout '" +
      key + "' -out '" + cert + "'");
  ASSERT_EQ(made.status, 0) << made.Describe();
  const uint16_t port = FreePort();
  const std::string maildir = (dir_ / "Maildir").string();
  const char* source = std::getenv("DBRUNBOOK_SOURCE_DIR");  // NOLINT(concurrency-mt-unsafe)
  ASSERT_NE(source, nullptr);
  const std::string scripts = std::string(source) + "/tests/notify/smtp";
  testing::DaemonProcess smtp(kPython,
                              {scripts + "/auth_server.py", "127.0.0.1", std::to_string(port), cert,
                               key, "dbrunbook", maildir},
                              (dir_ / "smtp.log").string(), dir_.string(),
                              {{"PYTHONPATH", scripts}, {"SMTP_TEST_PASSWORD", "pa55-w0rd"}});
  for (int i = 0; i < 300 && !Accepts(port); ++i) std::this_thread::sleep_for(milliseconds(20));
  ASSERT_TRUE(Accepts(port)) << smtp.Log();
  const std::string config =
      Write("dbrunbook.yaml", R"(targets: []
notify:
  channels:
    - {name: mail, type: email, smtp_url: smtp://127.0.0.1:)" +
                                  std::to_string(port) + R"(, ca_file: )" + cert + R"(,
       from: dbrunbook@example.com, to: [dba@example.com],
       username_env: SMTP_USER, password_env: SMTP_PASSWORD}
)");
  auto run = Shell("SMTP_USER=dbrunbook SMTP_PASSWORD=pa55-w0rd $B notify test mail --config '" +
                   config + "'");
  EXPECT_EQ(run.status, 0) << run.Describe() << smtp.Log();
  auto mails = ReadMaildir(maildir);
  EXPECT_NE(mails.out.find("tls: yes\nauth: dbrunbook"), std::string::npos) << mails.Describe();
  // A wrong password: refused by the server, failed without retry, never printed.
  run = Shell("SMTP_USER=dbrunbook SMTP_PASSWORD=wr0ng-pa55 $B notify test mail --config '" +
              config + "'");
  EXPECT_EQ(run.status, 1) << run.Describe();
  EXPECT_NE(run.err.find("failed"), std::string::npos) << run.Describe();
  EXPECT_EQ((run.out + run.err).find("wr0ng-pa55"), std::string::npos) << run.Describe();
}

}  // namespace
}  // namespace dbrunbook::notify
