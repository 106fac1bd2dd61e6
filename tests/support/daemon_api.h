// One request (with a bearer token when given) to a test daemon's HTTP API on 127.0.0.1:PORT over
// the cloud module's libcurl transport (the client the daemon tests use): a failed transfer is a
// test failure and an empty response (status 0).
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "cloud/http.h"

namespace dbrunbook::testing {

inline cloud::HttpResponse DaemonHttp(cloud::HttpTransport& http, int port,
                                      const std::string& method, const std::string& path,
                                      const std::string& body = "", const std::string& token = "") {
  cloud::HttpRequest r;
  r.method = method;
  r.url = "http://127.0.0.1:" + std::to_string(port) + path;
  r.body = body;
  if (!body.empty()) r.headers.push_back({"Content-Type", "application/json"});
  if (!token.empty()) r.headers.push_back({"Authorization", "Bearer " + token});
  r.timeout = std::chrono::seconds(15);
  auto answer = http.Send(r);
  EXPECT_TRUE(answer) << answer.error().ToString();
  return answer ? *answer : cloud::HttpResponse{};
}

}  // namespace dbrunbook::testing
