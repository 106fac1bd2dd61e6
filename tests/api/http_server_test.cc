// The HTTP server over real loopback sockets, with libcurl as the client.
#include "api/http_server.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/socket.h>

#include <atomic>
#include <mutex>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <thread>

#include "api/alertmanager.h"
#include "cloud/http.h"

namespace dbrunbook::api {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

class HttpServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto transport = cloud::CurlTransport::Create();
    ASSERT_TRUE(transport) << transport.error().ToString();
    client_ = std::move(*transport);
  }

  // Starts `server` on an ephemeral loopback port.
  void Start(HttpServer& server) {
    auto port = server.Start();
    ASSERT_TRUE(port) << port.error().ToString();
    ASSERT_GT(*port, 0);
    base_ = "http://127.0.0.1:" + std::to_string(*port);
  }

  cloud::HttpResponse Send(const std::string& method, const std::string& path,
                           const std::string& body = "", cloud::HttpHeaders headers = {}) {
    cloud::HttpRequest request;
    request.method = method;
    request.url = base_ + path;
    request.body = body;
    request.headers = std::move(headers);
    request.timeout = std::chrono::seconds(10);
    auto response = client_->Send(request);
    EXPECT_TRUE(response) << response.error().ToString();
    return response ? *response : cloud::HttpResponse{};
  }

  static nlohmann::json BodyJson(const cloud::HttpResponse& response) {
    return nlohmann::json::parse(response.body, nullptr, /*allow_exceptions=*/false);
  }

  std::unique_ptr<cloud::CurlTransport> client_;
  std::string base_;
};

TEST_F(HttpServerTest, RoutesGiveParamsQueryAndLowerCaseHeadersWithoutAuthorization) {
  HttpServerOptions options;
  options.bearer_token = core::Secret("s3cret-token");
  HttpServer server(options);
  ASSERT_TRUE(server.Get("/api/v1/incidents/:id", [](const Request& req) {
    nlohmann::json headers = req.headers;
    return Response::Json(200, {{"id", req.params.at("id")},
                                {"open", req.Query("open")},
                                {"method", req.method},
                                {"headers", headers}});
  }));
  ASSERT_TRUE(server.Get("^/raw/([a-z]+)/([0-9]+)$", [](const Request& req) {
    return Response::Json(200, {{"matches", req.matches}});
  }));
  Start(server);
  const auto response = Send("GET", "/api/v1/incidents/42?open=1", "",
                             {{"Authorization", "Bearer s3cret-token"}, {"X-Request-Tag", "abc"}});
  ASSERT_EQ(response.status, 200) << response.body;
  EXPECT_EQ(response.Header("content-type").value_or(""), "application/json");
  const auto json = BodyJson(response);
  EXPECT_EQ(json["id"], "42");
  EXPECT_EQ(json["open"], "1");
  EXPECT_EQ(json["method"], "GET");
  EXPECT_EQ(json["headers"]["x-request-tag"], "abc");
  EXPECT_FALSE(json["headers"].contains("authorization"));
  EXPECT_THAT(response.body, Not(HasSubstr("s3cret-token")));

  const auto raw = Send("GET", "/raw/abc/123", "", {{"Authorization", "Bearer s3cret-token"}});
  ASSERT_EQ(raw.status, 200);
  EXPECT_EQ(BodyJson(raw)["matches"], nlohmann::json({"/raw/abc/123", "abc", "123"}));
  // A ":name" segment is one segment, not more.
  EXPECT_EQ(
      Send("GET", "/api/v1/incidents/4/2", "", {{"Authorization", "Bearer s3cret-token"}}).status,
      404);
}

TEST_F(HttpServerTest, UnknownPathIs404AndWrongMethodIs405WithJsonErrors) {
  HttpServer server(HttpServerOptions{});
  ASSERT_TRUE(server.Get("/healthz", [](const Request&) { return Response::Json(200, "ok"); }));
  ASSERT_TRUE(
      server.Post("/api/v1/alerts", [](const Request&) { return Response::Json(200, "ok"); }));
  Start(server);

  const auto missing = Send("GET", "/nope");
  EXPECT_EQ(missing.status, 404);
  auto json = BodyJson(missing);
  EXPECT_THAT(json["error"].get<std::string>(), HasSubstr("/nope"));
  EXPECT_TRUE(json.contains("hint"));

  const auto wrong = Send("GET", "/api/v1/alerts");
  EXPECT_EQ(wrong.status, 405);
  EXPECT_EQ(wrong.Header("allow").value_or(""), "POST");
  json = BodyJson(wrong);
  EXPECT_THAT(json["error"].get<std::string>(), HasSubstr("GET is not allowed on /api/v1/alerts"));
  EXPECT_THAT(json["hint"].get<std::string>(), HasSubstr("POST"));

  // Refused before its body was read: the connection must not take the unread body for the
  // next request.
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(Send("POST", "/nope", std::string(20000, '{')).status, 404);
    EXPECT_EQ(Send("PUT", "/api/v1/alerts", std::string(20000, '{')).status, 405);
    EXPECT_EQ(Send("GET", "/healthz").status, 200);
  }

  const auto options = Send("OPTIONS", "/api/v1/alerts");
  EXPECT_EQ(options.status, 405);
  EXPECT_EQ(options.Header("allow").value_or(""), "POST");

  const auto head = Send("HEAD", "/healthz");
  EXPECT_EQ(head.status, 200);
  EXPECT_TRUE(head.body.empty());
}

TEST_F(HttpServerTest, BearerTokenGuardsEverythingButHealthzAndNeverAppears) {
  std::mutex mutex;
  std::vector<AccessLogEntry> log;
  HttpServerOptions options;
  options.bearer_token = core::Secret("tok-123456");
  options.access_log = [&](const AccessLogEntry& entry) {
    std::lock_guard lock(mutex);
    log.push_back(entry);
  };
  HttpServer server(options);
  ASSERT_TRUE(server.Get("/healthz", [](const Request&) { return Response::Json(200, "ok"); }));
  ASSERT_TRUE(server.Get(
      "/metrics", [](const Request&) { return Response::Text(200, "up 1\n", "text/plain"); }));
  Start(server);

  const auto none = Send("GET", "/metrics");
  EXPECT_EQ(none.status, 401);
  EXPECT_EQ(none.Header("www-authenticate").value_or(""), "Bearer realm=\"dbrunbook\"");
  EXPECT_THAT(BodyJson(none)["error"].get<std::string>(), HasSubstr("no bearer token"));

  const auto wrong =
      Send("GET", "/metrics?x=tok-123456", "", {{"Authorization", "Bearer tok-12345"}});
  EXPECT_EQ(wrong.status, 401);
  EXPECT_THAT(wrong.Header("www-authenticate").value_or(""), HasSubstr("invalid_token"));
  EXPECT_THAT(wrong.body, Not(HasSubstr("tok-12345")));

  // Basic is not Bearer, even with the right secret.
  EXPECT_EQ(Send("GET", "/metrics", "", {{"Authorization", "Basic tok-123456"}}).status, 401);
  // The scheme is case-insensitive (RFC 7235).
  const auto right = Send("GET", "/metrics", "", {{"Authorization", "bearer tok-123456"}});
  EXPECT_EQ(right.status, 200);
  EXPECT_EQ(right.body, "up 1\n");
  // An unknown path is 401 too: without the token nothing says which paths exist.
  EXPECT_EQ(Send("GET", "/secret-path").status, 401);
  EXPECT_EQ(Send("GET", "/healthz").status, 200);
  // With a body (screened after it is read): still 401, before 404/405.
  EXPECT_EQ(Send("POST", "/metrics", "{\"a\": 1}").status, 401);

  server.Stop();
  std::lock_guard lock(mutex);
  ASSERT_EQ(log.size(), 7u);
  for (const auto& entry : log) {
    EXPECT_THAT(entry.path, Not(HasSubstr("tok-")));
    EXPECT_THAT(entry.path, Not(HasSubstr("?")));
  }
  EXPECT_EQ(log[0].method, "GET");
  EXPECT_EQ(log[0].path, "/metrics");
  EXPECT_EQ(log[0].status, 401);
  EXPECT_EQ(log[3].status, 200);
  EXPECT_EQ(log[5].path, "/healthz");
  EXPECT_EQ(log[5].remote_addr, "127.0.0.1");
}

TEST_F(HttpServerTest, BodiesOverTheLimitGet413BeforeTheHandler) {
  std::atomic<int> calls{0};
  std::atomic<size_t> seen{0};
  HttpServerOptions options;
  options.max_body_bytes = 4096;
  HttpServer server(options);
  ASSERT_TRUE(server.Post("/api/v1/signals", [&](const Request& req) {
    ++calls;
    seen = req.body.size();
    return Response::Json(202, {{"bytes", req.body.size()}});
  }));
  Start(server);

  const std::string small(4096, 'a');
  const auto ok = Send("POST", "/api/v1/signals", small, {{"Content-Type", "application/json"}});
  EXPECT_EQ(ok.status, 202);
  EXPECT_EQ(seen.load(), 4096u);

  // Just over the limit: sent whole (no Expect: 100-continue), refused when read.
  const auto over = Send("POST", "/api/v1/signals", std::string(4097, 'b'));
  EXPECT_EQ(over.status, 413);
  EXPECT_EQ(BodyJson(over)["error"], "request body larger than the limit of 4096 bytes");
  // Far over (curl asks "Expect: 100-continue" first): refused before the body is sent.
  const auto big =
      Send("POST", "/api/v1/signals", std::string(3 << 20, 'c'), {{"Expect", "100-continue"}});
  EXPECT_EQ(big.status, 413);
  EXPECT_EQ(BodyJson(big)["error"],
            "request body of 3145728 bytes is larger than the limit of 4096 bytes");
  EXPECT_EQ(calls.load(), 1);
  // The server is still fine.
  EXPECT_EQ(Send("POST", "/api/v1/signals", "{}").status, 202);
}

TEST_F(HttpServerTest, AHandlerThatThrowsIsA500AndTheServerGoesOn) {
  HttpServer server(HttpServerOptions{});
  ASSERT_TRUE(server.Get(
      "/boom", [](const Request&) -> Response { throw std::runtime_error("store is gone"); }));
  ASSERT_TRUE(server.Get("/int", [](const Request&) -> Response { throw 42; }));
  ASSERT_TRUE(server.Get("/healthz", [](const Request&) { return Response::Json(200, "ok"); }));
  Start(server);
  const auto boom = Send("GET", "/boom");
  EXPECT_EQ(boom.status, 500);
  const auto json = BodyJson(boom);
  EXPECT_THAT(json["error"].get<std::string>(), HasSubstr("store is gone"));
  EXPECT_THAT(json["error"].get<std::string>(), HasSubstr("GET /boom"));
  EXPECT_EQ(Send("GET", "/int").status, 500);
  EXPECT_EQ(Send("GET", "/healthz").status, 200);
}

TEST_F(HttpServerTest, MalformedWebhookBodiesGet400WithTheJsonPath) {
  HttpServer server(HttpServerOptions{});
  AlertTargetRules rules;
  rules.targets = {"orders-primary"};
  ASSERT_TRUE(server.Post("/api/v1/alerts", [&rules](const Request& req) {
    auto payload = ParseAlertmanagerWebhook(req.body, rules);
    if (!payload) return Response::FromError(400, payload.error());
    return Response::Json(200, {{"matched", payload->matched()}});
  }));
  Start(server);
  const auto not_json = Send("POST", "/api/v1/alerts", "{\"version\": ");
  EXPECT_EQ(not_json.status, 400);
  EXPECT_THAT(BodyJson(not_json)["error"].get<std::string>(), HasSubstr("not valid JSON"));
  const auto bad_status =
      Send("POST", "/api/v1/alerts",
           R"({"version":"4","status":"firing","alerts":[{"status":"fire","labels":{},)"
           R"("startsAt":"2026-11-27T06:00:00Z"}]})");
  EXPECT_EQ(bad_status.status, 400);
  EXPECT_EQ(BodyJson(bad_status)["error"],
            "alerts[0].status: expected \"firing\" or \"resolved\", found \"fire\"");
}

TEST_F(HttpServerTest, AnAddressInUseIsAClearErrorNotASharedPort) {
  HttpServer first(HttpServerOptions{});
  ASSERT_TRUE(first.Get("/healthz", [](const Request&) { return Response::Json(200, "one"); }));
  Start(first);
  HttpServerOptions options;
  options.port = first.port();
  HttpServer second(options);
  ASSERT_TRUE(second.Get("/healthz", [](const Request&) { return Response::Json(200, "two"); }));
  const auto started = second.Start();
  ASSERT_FALSE(started) << "a second server bound the same port";
  EXPECT_EQ(started.error().code, core::ErrorCode::kUnavailable);
  EXPECT_EQ(started.error().message, "cannot listen on 127.0.0.1:" + std::to_string(first.port()) +
                                         ": address already in use");
  EXPECT_THAT(started.error().hint, HasSubstr("another dbrunbook watch"));
  // Every request still reaches the first server.
  for (int i = 0; i < 5; ++i) EXPECT_EQ(BodyJson(Send("GET", "/healthz")), "one");
}

TEST_F(HttpServerTest, BadBindAddressesAreClearErrors) {
  HttpServerOptions bad;
  bad.bind_address = "not an address!";
  HttpServer server(bad);
  const auto started = server.Start();
  ASSERT_FALSE(started);
  EXPECT_EQ(started.error().code, core::ErrorCode::kInvalidArgument);
  EXPECT_THAT(started.error().message, HasSubstr("cannot listen on not an address!:0"));

  HttpServerOptions foreign;
  foreign.bind_address = "192.0.2.1";  // TEST-NET-1: an address of no machine here
  HttpServer other(foreign);
  const auto refused = other.Start();
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().message,
            "cannot listen on 192.0.2.1:0: address not available on this machine");
}

TEST_F(HttpServerTest, StopJoinsAndClosesThePort) {
  HttpServer server(HttpServerOptions{});
  ASSERT_TRUE(server.Get("/slow", [](const Request&) {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    return Response::Json(200, "done");
  }));
  Start(server);
  // Requests in flight on all workers at once finish; then Stop returns.
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int i = 0; i < 6; ++i) {
    threads.emplace_back([&] {
      auto transport = cloud::CurlTransport::Create();
      if (!transport) return;
      cloud::HttpRequest request;
      request.url = base_ + "/slow";
      auto response = (*transport)->Send(request);
      if (response && response->status == 200) ++ok;
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(ok.load(), 6);
  server.Stop();
  server.Stop();  // idempotent
  cloud::HttpRequest request;
  request.url = base_ + "/slow";
  request.connect_timeout = std::chrono::seconds(2);
  const auto after = client_->Send(request);
  ASSERT_FALSE(after);
  EXPECT_EQ(after.error().code, core::ErrorCode::kUnavailable);
}

TEST(HttpServerRoutes, BadPatternsAndLateRoutesAreRefused) {
  HttpServer server(HttpServerOptions{});
  const auto handler = [](const Request&) { return Response::Json(200, "ok"); };
  EXPECT_FALSE(server.Get("relative", handler));
  EXPECT_FALSE(server.Get("^/(unclosed", handler));
  EXPECT_FALSE(server.Route("TRACE", "/x", handler));
  ASSERT_TRUE(server.Get("/x", handler));
  EXPECT_FALSE(server.Get("/x", handler));
  ASSERT_TRUE(server.Start());
  const auto late = server.Get("/y", handler);
  ASSERT_FALSE(late);
  EXPECT_THAT(late.error().message, HasSubstr("after Start()"));
}

}  // namespace
}  // namespace dbrunbook::api
