// `dbrunbook watch` as a process, on what issue 7 asks to see live:
//   * one hung server never delays the others: the daemon watches the sandbox server daemondb (read
//     only) and a loopback listener that accepts connections and never sends the handshake
//     (what a SIGSTOPped mysqld looks like to a client). The healthy target keeps its 1 s
//     cadence, opens and diagnoses its incident on time, while the hung one errors, overruns
//     and gets its `unavailable` incident;
//   * `--log-format json`: every stderr line one JSON object with ts, level, msg and the
//     event's fields, the incident-opened line among them, and never the target's password;
//   * `incident note` and `incident resolve` through the running daemon (CLI and API), and
//     their refusal for an unknown incident.
#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <fstream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

#include "cloud/http.h"
#include "support/cli_fixture.h"
#include "support/daemon_api.h"
#include "support/daemon_process.h"
#include "support/sandbox.h"

namespace dbrunbook {
namespace {

using json = nlohmann::json;
using ::testing::HasSubstr;
using Clock = std::chrono::steady_clock;
using testing::DaemonProcess;

constexpr const char* kHungPassword = "hung-target-pw-7f3a91";

// A TCP listener on loopback that accepts every connection and never writes a byte: the
// kernel completes the TCP handshake, no MySQL greeting ever comes, as with a stopped mysqld.
// Accepted sockets stay open until the server is destroyed (a close would be an instant
// error, not a hang).
class SilentServer {
 public:
  SilentServer() {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = 0;
    socklen_t size = sizeof(address);
    if (fd_ < 0 || bind(fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0 ||
        listen(fd_, 64) != 0 ||
        getsockname(fd_, reinterpret_cast<sockaddr*>(&address), &size) != 0) {
      return;
    }
    port_ = ntohs(address.sin_port);
    thread_ = std::thread([this] {
      while (!stop_) {
        pollfd p{fd_, POLLIN, 0};
        if (poll(&p, 1, 100) <= 0) continue;
        const int client = accept(fd_, nullptr, nullptr);
        if (client < 0) continue;
        std::lock_guard lock(mutex_);
        accepted_.push_back(client);
      }
    });
  }
  ~SilentServer() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
    for (int fd : accepted_) close(fd);
    if (fd_ >= 0) close(fd_);
  }
  SilentServer(const SilentServer&) = delete;
  SilentServer& operator=(const SilentServer&) = delete;

  int port() const { return port_; }
  size_t accepted() {
    std::lock_guard lock(mutex_);
    return accepted_.size();
  }

 private:
  int fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  std::mutex mutex_;
  std::vector<int> accepted_;
};

// A TCP proxy on loopback to a real server that, once frozen, stops forwarding in both
// directions and answers nothing to new connections: what a mysqld SIGSTOPped mid-session
// looks like to a client whose session is already open (its next statement waits for an
// answer that never comes). Sockets are closed only when the proxy is destroyed.
class FreezingProxy {
 public:
  explicit FreezingProxy(int upstream_port) : upstream_port_(upstream_port) {
    listen_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address = Loopback(0);
    socklen_t size = sizeof(address);
    if (listen_ < 0 || bind(listen_, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0 ||
        listen(listen_, 64) != 0 ||
        getsockname(listen_, reinterpret_cast<sockaddr*>(&address), &size) != 0) {
      return;
    }
    port_ = ntohs(address.sin_port);
    thread_ = std::thread([this] { Run(); });
  }
  ~FreezingProxy() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
    for (const auto& [a, b] : pairs_) {
      close(a);
      close(b);
    }
    for (int fd : held_) close(fd);
    if (listen_ >= 0) close(listen_);
  }
  FreezingProxy(const FreezingProxy&) = delete;
  FreezingProxy& operator=(const FreezingProxy&) = delete;

  int port() const { return port_; }
  void Freeze() { frozen_ = true; }

 private:
  static sockaddr_in Loopback(int port) {
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = htons(static_cast<uint16_t>(port));
    return address;
  }

  void Run() {
    std::array<char, 16384> buffer{};
    while (!stop_) {
      const bool frozen = frozen_;
      std::vector<pollfd> fds = {{listen_, POLLIN, 0}};
      if (!frozen) {
        for (const auto& [client, server] : pairs_) {
          fds.push_back({client, POLLIN, 0});
          fds.push_back({server, POLLIN, 0});
        }
      }
      if (poll(fds.data(), fds.size(), 50) <= 0) continue;
      if ((fds[0].revents & POLLIN) != 0) {
        const int client = accept(listen_, nullptr, nullptr);
        if (client >= 0 && frozen) {
          held_.push_back(client);  // never answered
        } else if (client >= 0) {
          const int server = socket(AF_INET, SOCK_STREAM, 0);
          sockaddr_in upstream = Loopback(upstream_port_);
          if (server >= 0 &&
              connect(server, reinterpret_cast<sockaddr*>(&upstream), sizeof(upstream)) == 0) {
            pairs_.emplace_back(client, server);
          } else {
            close(client);
            if (server >= 0) close(server);
          }
        }
      }
      if (frozen) continue;
      std::vector<size_t> dead;
      for (size_t i = 1; i < fds.size(); ++i) {
        if (fds[i].revents == 0) continue;
        const auto& pair = pairs_[(i - 1) / 2];
        const int from = fds[i].fd;
        const int to = from == pair.first ? pair.second : pair.first;
        const ssize_t n = read(from, buffer.data(), buffer.size());
        bool ok = n > 0;
        for (ssize_t done = 0; ok && done < n;) {
          const ssize_t w = write(to, buffer.data() + done, static_cast<size_t>(n - done));
          ok = w > 0;
          done += w > 0 ? w : 0;
        }
        if (!ok) dead.push_back((i - 1) / 2);
      }
      std::sort(dead.begin(), dead.end());
      dead.erase(std::unique(dead.begin(), dead.end()), dead.end());
      for (auto it = dead.rbegin(); it != dead.rend(); ++it) {
        close(pairs_[*it].first);
        close(pairs_[*it].second);
        pairs_.erase(pairs_.begin() + static_cast<std::ptrdiff_t>(*it));
      }
    }
  }

  int upstream_port_;
  int listen_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<bool> frozen_{false};
  std::thread thread_;
  std::vector<std::pair<int, int>> pairs_;  // client, server (proxy thread only)
  std::vector<int> held_;                   // accepted while frozen (proxy thread only)
};

// The value of one sample line of a Prometheus exposition ("name{labels} value"); nullopt
// when the series is absent.
std::optional<double> Sample(const std::string& text, const std::string& series) {
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(series + " ", 0) == 0) return std::stod(line.substr(series.size() + 1));
  }
  return std::nullopt;
}

class WatchLiveTest : public testing::CliFixture {
 protected:
  WatchLiveTest() : CliFixture("watch-live") {}

  void SetUp() override {
    CliFixture::SetUp();
    auto server = testing::LoadSandbox("daemondb");
    ASSERT_TRUE(server) << server.error().ToString();
    server_ = std::move(*server);
    std::filesystem::create_directories(dir_ / "home");
    store_ = (dir_ / "store.db").string();
    applog_ = Write("app.log", "");
    auto transport = cloud::CurlTransport::Create();
    ASSERT_TRUE(transport) << transport.error().ToString();
    http_ = std::move(*transport);
  }

  // db: the sandbox server daemondb (nothing here writes to it); hung: the silent listener, when
  // given. stalled: daemondb over TCP through a FreezingProxy, as the monitor user (a real
  // password, which must appear in no log line), when given.
  std::string Config(int hung_port, int stalled_port) {
    std::string text =
        "targets:\n"
        "  - name: db\n"
        "    socket: " +
        server_.socket +
        "\n"
        "    user: root\n";
    if (hung_port > 0) {
      text +=
          "  - name: hung\n"
          "    host: 127.0.0.1\n"
          "    port: " +
          std::to_string(hung_port) +
          "\n"
          "    user: monitor\n"
          // Readable by others: a configuration warning, logged as a JSON line too.
          "    password_file: " +
          Write("hung-password", std::string(kHungPassword) + "\n") + "\n";
      std::filesystem::permissions(dir_ / "hung-password", std::filesystem::perms(0644));
    }
    if (stalled_port > 0) {
      text +=
          "  - name: stalled\n"
          "    host: 127.0.0.1\n"
          "    port: " +
          std::to_string(stalled_port) + "\n    user: " + server_.monitor_user +
          "\n    password_file: " + server_.monitor_password_file + "\n";
    }
    text +=
        "investigate:\n"
        "  digest_interval: 0s\n"
        "watch:\n"
        "  slow_interval: 2s\n"
        "  app_logs:\n"
        "    - {path: " +
        applog_ + ", target: db}\n";
    return Write("dbrunbook.yaml", text);
  }

  // db_busy holds on any live server (a session is always connected: the poller's own), so
  // it opens db's incident 1 s after the first polls: a trigger on polled data whose timing
  // is known in advance.
  std::string Runbook(bool with_hung) {
    return Write("runbook.yaml",
                 std::string("runbook: {name: watch-live, version: 1, owner: tests}\n"
                             "triggers:\n"
                             "  - {name: db_busy, signal: threads_connected, op: \">=\","
                             " threshold: 1, for: 1s, severity: warning, targets: [db]}\n") +
                     (with_hung ? "  - {name: database_unreachable, signal: target_unreachable,"
                                  " op: \">=\", threshold: 1, severity: critical,"
                                  " targets: [hung, stalled]}\n"
                                : "") +
                     "phases:\n"
                     "  assess: {deadline: 5m}\n"
                     "  investigate: {deadline: 15m}\n"
                     "  mitigate: {deadline: 30m}\n"
                     "  verify: {period: 10m}\n"
                     // The hung target's incident escalates after 1 s unavailable: its log
                     // line carries the escalation level beside the log level.
                     "escalation:\n"
                     "  - {name: database-unavailable, when: unavailable, after: 1s, level: 1}\n"
                     "contacts:\n"
                     "  - {name: dba, role: DBA on call, level: 1, channels: []}\n"
                     "prevention:\n"
                     "  - Size the connection pool below max_connections\n");
  }

  std::unique_ptr<DaemonProcess> Start(int hung_port, int stalled_port = 0,
                                       const std::vector<std::string>& extra = {}) {
    std::vector<std::string> args = {"--config",
                                     Config(hung_port, stalled_port),
                                     "watch",
                                     "--runbook",
                                     Runbook(hung_port > 0),
                                     "--store",
                                     store_,
                                     "--listen",
                                     "127.0.0.1:0"};
    args.insert(args.end(), extra.begin(), extra.end());
    auto d = std::make_unique<DaemonProcess>(binary_, args, (dir_ / "daemon.log").string(),
                                             (dir_ / "home").string(),
                                             std::vector<std::pair<std::string, std::string>>{
                                                 {"DBRUNBOOK_TEST_HUNG_PASSWORD", kHungPassword}});
    current_ = d.get();
    port_ = d->WaitForPort(std::chrono::seconds(20));
    EXPECT_GT(port_, 0) << d->Log();
    return d;
  }

  cloud::HttpResponse Http(const std::string& method, const std::string& path,
                           const std::string& body = "") {
    return testing::DaemonHttp(*http_, port_, method, path, body);
  }

  json Get(const std::string& path) {
    auto r = Http("GET", path);
    EXPECT_EQ(r.status, 200) << path << ": " << r.body;
    return json::parse(r.body, nullptr, false);
  }

  // The first incident on `target` satisfying `pred`, polled every 100 ms up to `timeout`.
  json WaitIncident(const std::string& target, const std::function<bool(const json&)>& pred,
                    std::chrono::milliseconds timeout) {
    const auto deadline = Clock::now() + timeout;
    json last;
    while (Clock::now() < deadline) {
      last = Get("/api/v1/incidents");
      if (last.is_object()) {
        for (const auto& i : last["incidents"]) {
          if (i["target"] == target && pred(i)) return i;
        }
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    ADD_FAILURE() << "no matching incident on " << target << " within " << timeout.count()
                  << " ms; last: " << last.dump(2).substr(0, 4000) << "\ndaemon log:\n"
                  << (current_ != nullptr ? current_->Log().substr(0, 8000) : "");
    return json();
  }

  static bool HasEvent(const json& incident, const std::string& kind) {
    for (const auto& e : incident["timeline"]) {
      if (e["kind"] == kind) return true;
    }
    return false;
  }

  std::string Cli(const std::string& args) {
    return "HOME='" + (dir_ / "home").string() + "' \"$B\" " + args + " --store '" + store_ + "'";
  }

  testing::SandboxServer server_;
  std::string store_;
  std::string applog_;
  int port_ = 0;
  DaemonProcess* current_ = nullptr;
  std::unique_ptr<cloud::CurlTransport> http_;
};

TEST_F(WatchLiveTest, HungTargetNeverDelaysTheHealthyOneAndJsonLogLinesAreWhole) {
  SilentServer hung;
  ASSERT_GT(hung.port(), 0) << "cannot listen on loopback";
  const auto started = Clock::now();
  FreezingProxy proxy(server_.port);
  ASSERT_GT(proxy.port(), 0) << "cannot listen on loopback";
  // --log-level debug: the API's access log and the process logger's own lines, JSON too.
  auto daemon = Start(hung.port(), proxy.port(), {"--log-format", "json", "--log-level", "debug"});
  ASSERT_GT(port_, 0);

  // db's trigger holds from its first poll and needs 1 s: its incident opens at about
  // started + 1 s (+ one poll), while the hung target's first poll is still waiting for a
  // greeting (3 s connect timeout).
  json db = WaitIncident(
      "db", [](const json&) { return true; }, std::chrono::seconds(10));
  ASSERT_FALSE(db.is_null());
  const double db_open = std::chrono::duration<double>(Clock::now() - started).count();
  EXPECT_LT(db_open, 1.0 + 1.0 + 2.0) << "for: 1s, 1 s polls, 2 s of slack (process start)";

  // stalled has been read through the proxy; now its server stops answering mid-session.
  EXPECT_EQ(Sample(Http("GET", "/metrics").body,
                   R"(dbrunbook_signal{target="stalled",signal="target_unreachable"})"),
            0.0)
      << "stalled was polled before the freeze";
  proxy.Freeze();
  const auto frozen_at = Clock::now();

  // The hung target: its poll times out, it is unreachable, its incident opens.
  json down = WaitIncident(
      "hung", [](const json&) { return true; }, std::chrono::seconds(15));
  ASSERT_FALSE(down.is_null());
  EXPECT_THAT(down["triggers"].dump(), HasSubstr("database_unreachable"));
  EXPECT_GE(hung.accepted(), 1U) << "the daemon did connect to the silent server";

  // Over the next 4 s: db polled on its cadence (>= 3 of 4 polls, each fast) while the hung
  // target's polls overrun and fail.
  const std::string before = Http("GET", "/metrics").body;
  const auto window_start = Clock::now();
  std::this_thread::sleep_for(std::chrono::seconds(4));
  const std::string after = Http("GET", "/metrics").body;
  const double window = std::chrono::duration<double>(Clock::now() - window_start).count();
  auto delta = [&](const std::string& series) {
    auto a = Sample(before, series);
    auto b = Sample(after, series);
    EXPECT_TRUE(a && b) << series << " missing from /metrics:\n" << after;
    return a && b ? *b - *a : -1;
  };
  const double db_polls = delta(R"(dbrunbook_polls_total{target="db"})");
  EXPECT_GE(db_polls, window - 1.0) << "db polled every second while the other target hangs";
  EXPECT_EQ(delta(R"(dbrunbook_poll_errors_total{target="db"})"), 0);
  const auto db_seconds = Sample(after, R"(dbrunbook_poll_duration_seconds{target="db"})");
  ASSERT_TRUE(db_seconds);
  EXPECT_LT(*db_seconds, 0.5);
  EXPECT_EQ(Sample(after, R"(dbrunbook_signal{target="db",signal="target_unreachable"})"), 0.0);
  const double hung_overruns = delta(R"(dbrunbook_poll_overruns_total{target="hung"})");
  EXPECT_GE(hung_overruns, 2) << "polls of the hung target skipped, never queued";
  const auto hung_errors = Sample(after, R"(dbrunbook_poll_errors_total{target="hung"})");
  ASSERT_TRUE(hung_errors);
  EXPECT_GE(*hung_errors, 1);
  const auto hung_seconds = Sample(after, R"(dbrunbook_poll_duration_seconds{target="hung"})");
  ASSERT_TRUE(hung_seconds);
  EXPECT_GE(*hung_seconds, 2.5) << "the hung poll waited for its greeting";
  EXPECT_LE(*hung_seconds, 6.0) << "bounded by the 3 s connect timeout (rounded up by the client)";
  const double stalled_overruns = delta(R"(dbrunbook_poll_overruns_total{target="stalled"})");
  EXPECT_GE(stalled_overruns, 2) << "the stalled target's statement waits for its read timeout";

  // The stalled target: its statement times out (5 s), it is unreachable, its incident opens.
  json stalled = WaitIncident(
      "stalled", [](const json&) { return true; }, std::chrono::seconds(20));
  ASSERT_FALSE(stalled.is_null());
  const double stalled_open = std::chrono::duration<double>(Clock::now() - frozen_at).count();
  EXPECT_GE(stalled_open, 4.5) << "not before the 5 s read timeout";
  EXPECT_LE(stalled_open, 5.0 + 1.0 + 3.0) << "read timeout, a poll, slack";
  std::cerr << "measured: stalled incident " << stalled_open << " s after the freeze; "
            << stalled_overruns << " stalled overruns in the window\n";
  std::cerr << "measured: db incident after " << db_open << " s; over " << window
            << " s: " << db_polls << " db polls, " << hung_overruns
            << " hung overruns; last poll db " << *db_seconds << " s, hung " << *hung_seconds
            << " s\n";

  // db's diagnosis ran while the hung target's own diagnosis was waiting on its connection.
  json diagnosed = WaitIncident(
      "db", [](const json& i) { return HasEvent(i, "findings"); }, std::chrono::seconds(20));
  EXPECT_FALSE(diagnosed.is_null());

  const auto stop_start = Clock::now();
  EXPECT_EQ(daemon->Signal(SIGTERM), 0);
  std::cerr << "measured: SIGTERM to exit "
            << std::chrono::duration<double>(Clock::now() - stop_start).count() << " s\n";

  // Every line is one JSON object: ts (RFC 3339), level, msg, and the event's fields.
  const std::string log = daemon->Log();
  EXPECT_EQ(log.find(kHungPassword), std::string::npos) << "the password never appears";
  ASSERT_FALSE(server_.monitor_password.empty());
  EXPECT_EQ(log.find(server_.monitor_password.Reveal()), std::string::npos)
      << "the monitor's password never appears";
  std::istringstream lines(log);
  std::string line;
  int count = 0;
  bool opened_db = false;
  bool opened_hung = false;
  bool unreachable = false;
  bool listening = false;
  bool escalated = false;
  bool access = false;
  bool configuration = false;
  std::string stalled_error;
  bool config_warning = false;
  const std::regex rfc3339(R"(^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$)");
  while (std::getline(lines, line)) {
    ++count;
    json doc = json::parse(line, nullptr, false);
    ASSERT_TRUE(doc.is_object()) << "line " << count << " is not a JSON object: " << line;
    ASSERT_TRUE(doc.contains("ts") && doc["ts"].is_string()) << line;
    EXPECT_TRUE(std::regex_match(doc["ts"].get<std::string>(), rfc3339)) << line;
    ASSERT_TRUE(doc.contains("level") && doc["level"].is_string()) << line;
    EXPECT_THAT((std::vector<std::string>{"debug", "info", "warn", "error"}),
                ::testing::Contains(doc["level"].get<std::string>()))
        << line;
    ASSERT_TRUE(doc.contains("msg") && doc["msg"].is_string()) << line;
    const std::string msg = doc["msg"];
    if (doc.value("event", "") == "opened") {
      EXPECT_TRUE(doc["incident"].is_number_integer()) << line;
      EXPECT_EQ(doc["level"], "warn") << line;
      if (doc["target"] == "db" && doc["incident"] == db["id"]) opened_db = true;
      if (doc["target"] == "hung" && doc["incident"] == down["id"]) opened_hung = true;
    }
    if (doc.value("target", "") == "hung" && msg.find("unreachable") != std::string::npos) {
      unreachable = true;
    }
    if (doc.value("target", "") == "stalled" && msg.find("unreachable") != std::string::npos &&
        stalled_error.empty()) {
      stalled_error = msg;
    }
    listening = listening || msg.find("API listening on 127.0.0.1:") == 0;
    if (doc.value("method", "") == "GET" && doc.value("path", "") == "/metrics") {
      access = true;
      EXPECT_EQ(doc["level"], "debug") << line;
      EXPECT_EQ(doc.value("status", 0), 200) << line;
      EXPECT_TRUE(doc["seconds"].is_number()) << line;
    }
    configuration = configuration || msg.find("configuration: ") == 0;
    if (msg.find("readable by other users") != std::string::npos) {
      config_warning = true;
      EXPECT_EQ(doc["level"], "warn") << line;
    }
    if (msg.find("escalation level 1") == 0) {
      // Both unreachable targets' incidents escalate (the stalled one's when its read timeout
      // has passed, which may come before the daemon stops); the hung one's must be there.
      const std::string target = doc.value("target", "");
      escalated = escalated || target == "hung";
      EXPECT_EQ(doc.value("escalation_level", 0), 1) << line;
      EXPECT_TRUE(target == "hung" || target == "stalled") << line;
    }
  }
  EXPECT_GT(count, 5);
  EXPECT_TRUE(opened_db) << log.substr(0, 6000);
  EXPECT_TRUE(opened_hung) << log.substr(0, 6000);
  EXPECT_TRUE(unreachable) << log.substr(0, 6000);
  EXPECT_TRUE(listening);
  EXPECT_TRUE(escalated) << log.substr(0, 6000);
  EXPECT_TRUE(config_warning) << log.substr(0, 6000);
  EXPECT_TRUE(access) << "an access log line for GET /metrics";
  EXPECT_TRUE(configuration) << "the process logger's debug line, as JSON";
  std::cerr << "stalled: " << stalled_error << "\n";
}

TEST_F(WatchLiveTest, NoteAndResolveGoThroughTheDaemonAndAnUnknownIncidentIsRefused) {
  auto daemon = Start(0);
  ASSERT_GT(port_, 0);
  json opened = WaitIncident(
      "db", [](const json&) { return true; }, std::chrono::seconds(10));
  ASSERT_FALSE(opened.is_null());
  const std::string id = std::to_string(opened["id"].get<int>());

  // A note from the CLI: answered by the daemon, on the timeline in the store and the API.
  auto noted = Shell(Cli("incident note " + id + " restarted the nightly batch job"));
  ASSERT_EQ(noted.status, 0) << noted.Describe() << daemon->Log();
  EXPECT_THAT(noted.out, HasSubstr("restarted the nightly batch job"));
  auto shown = Shell(Cli("incident show " + id));
  ASSERT_EQ(shown.status, 0) << shown.Describe();
  EXPECT_THAT(shown.out, HasSubstr("restarted the nightly batch job"));
  json doc = Get("/api/v1/incidents/" + id);
  bool noted_in_api = false;
  for (const auto& e : doc["timeline"]) {
    noted_in_api =
        noted_in_api ||
        (e["kind"] == "note" &&
         e["text"].get<std::string>().find("restarted the nightly batch job") != std::string::npos);
  }
  EXPECT_TRUE(noted_in_api) << doc["timeline"].dump(2);

  // A note through the API names who wrote it.
  auto api_note = Http("POST", "/api/v1/incidents/" + id + "/note",
                       R"({"text": "pool resized to 50", "who": "alice"})");
  EXPECT_EQ(api_note.status, 200) << api_note.body;
  EXPECT_THAT(Get("/api/v1/incidents/" + id)["timeline"].dump(),
              ::testing::AllOf(HasSubstr("pool resized to 50"), HasSubstr("alice")));

  // Unknown incidents: a clear refusal and exit status 1, nothing queued for later.
  auto unknown_note = Shell(Cli("incident note 9999 anything"));
  EXPECT_EQ(unknown_note.status, 1) << unknown_note.Describe();
  EXPECT_THAT(unknown_note.err, HasSubstr("9999"));
  auto api_unknown = Http("POST", "/api/v1/incidents/9999/resolve", R"({"text": "x"})");
  EXPECT_EQ(api_unknown.status, 409) << api_unknown.body;
  EXPECT_THAT(api_unknown.body, HasSubstr("9999"));

  // Resolve: closed with the reason and the prevention checklist; API and CLI agree.
  auto resolved = Shell(Cli("incident resolve " + id + " pool fixed, false alarm"));
  ASSERT_EQ(resolved.status, 0) << resolved.Describe() << daemon->Log();
  json closed = Get("/api/v1/incidents/" + id);
  EXPECT_EQ(closed["phase"], "resolved") << closed.dump(2);
  EXPECT_FALSE(closed["resolved_at"].is_null());
  EXPECT_THAT(closed["resolution"].dump(), HasSubstr("pool fixed, false alarm"));
  EXPECT_THAT(closed["prevention"].dump(),
              HasSubstr("Size the connection pool below max_connections"));
  EXPECT_TRUE(HasEvent(closed, "resolved"));
  auto open_cli = Shell(Cli("incidents --open --format json"));
  ASSERT_EQ(open_cli.status, 0) << open_cli.Describe();
  json open_list = json::parse(open_cli.out, nullptr, false);
  ASSERT_TRUE(open_list.is_object()) << open_cli.out;
  std::set<int> cli_open;
  for (const auto& i : open_list["incidents"]) cli_open.insert(i["id"].get<int>());
  // The trigger still holds, so db may open a new incident: whatever is open, both views
  // agree, and the resolved one is in neither. (The CLI reads the store, the API its own
  // handle on it: read both after the daemon has answered.)
  std::set<int> api_open;
  const json api_list = Get("/api/v1/incidents?open=1");
  for (const auto& i : api_list["incidents"]) {
    api_open.insert(i["id"].get<int>());
  }
  EXPECT_EQ(cli_open.count(std::stoi(id)), 0U);
  EXPECT_EQ(api_open.count(std::stoi(id)), 0U);
  EXPECT_TRUE(std::includes(api_open.begin(), api_open.end(), cli_open.begin(), cli_open.end()))
      << "every incident the CLI lists open is open in the API";
  auto shown_closed = Shell(Cli("incident show " + id));
  EXPECT_THAT(shown_closed.out, HasSubstr("Resolution: "));
  EXPECT_THAT(shown_closed.out, HasSubstr("Prevention checklist"));

  // A resolved incident still takes notes (the post-mortem's), on its timeline; it stays
  // resolved.
  auto late = Shell(Cli("incident note " + id + " root cause: a pool leak in orders-api"));
  EXPECT_EQ(late.status, 0) << late.Describe();
  json after_note = Get("/api/v1/incidents/" + id);
  EXPECT_EQ(after_note["phase"], "resolved");
  EXPECT_THAT(after_note["timeline"].dump(), HasSubstr("root cause: a pool leak in orders-api"));
  EXPECT_EQ(daemon->Signal(SIGTERM), 0);
}

TEST_F(WatchLiveTest, LoggedAndPushedAppErrorsAddUpPerSource) {
  auto daemon = Start(0);
  ASSERT_GT(port_, 0);
  std::ofstream(applog_, std::ios::app)
      << "2026-11-27 06:00:01 ERROR pool: SQLSTATE[HY000] [1040] Too many connections\n";
  auto orders = Http("POST", "/api/v1/signals",
                     R"({"target":"db","source":"orders-api","signals":{"app_errors_per_min":3}})");
  EXPECT_EQ(orders.status, 200) << orders.body;
  auto billing = Http("POST", "/api/v1/signals",
                      R"({"target":"db","source":"billing","signals":{"app_errors_per_min":4}})");
  EXPECT_EQ(billing.status, 200) << billing.body;
  // The log line (1 per minute) and the two pushed sources: 8 on the next polls.
  const std::string series = R"(dbrunbook_signal{target="db",signal="app_errors_per_min"})";
  std::optional<double> seen;
  const auto deadline = Clock::now() + std::chrono::seconds(10);
  while (Clock::now() < deadline) {
    seen = Sample(Http("GET", "/metrics").body, series);
    if (seen == 8.0) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  EXPECT_EQ(seen, 8.0) << "1 (log) + 3 (orders-api) + 4 (billing)\n" << daemon->Log();
  // A source's new value replaces its own only.
  auto again = Http("POST", "/api/v1/signals",
                    R"({"target":"db","source":"orders-api","signals":{"app_errors_per_min":0}})");
  EXPECT_EQ(again.status, 200) << again.body;
  const auto deadline2 = Clock::now() + std::chrono::seconds(10);
  while (Clock::now() < deadline2) {
    seen = Sample(Http("GET", "/metrics").body, series);
    if (seen == 5.0) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  EXPECT_EQ(seen, 5.0) << "1 (log) + 0 (orders-api) + 4 (billing)";
  EXPECT_EQ(daemon->Signal(SIGTERM), 0);
}

}  // namespace
}  // namespace dbrunbook
