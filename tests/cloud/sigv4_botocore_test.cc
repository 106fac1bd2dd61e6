// Differential test against an independent SigV4 implementation: Debian's python3-botocore
// (1.29.x), run by /usr/bin/python3 — NOT the `python3` on PATH, which is a pyenv Python
// without botocore. 600 generated requests (fixed seed, credentials and time) with random
// query parameters (unicode, empty values, repeated keys, reserved characters), header values
// with inner and outer blanks, repeated and unsigned headers, paths with dot segments and
// reserved characters, RDS-style form bodies, session tokens; botocore signs them all in ONE
// process (tests/cloud/botocore_sign.py, JSON lines in and out) and every Authorization header,
// canonical request and string to sign must match ours.
//
// botocore missing is a FAILURE (CI runs scripts/setup first, which installs it).
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

#include "cloud/http_text.h"
#include "cloud/sigv4.h"

#ifndef DBRUNBOOK_CLOUD_TEST_DIR
#error "DBRUNBOOK_CLOUD_TEST_DIR must name tests/cloud (set by tests/cloud/CMakeLists.txt)"
#endif

namespace dbrunbook::cloud {
namespace {

namespace fs = std::filesystem;

constexpr int kCases = 600;
constexpr const char* kPython = "/usr/bin/python3";
const char* const kAccessKey = "AKIDEXAMPLE";
const char* const kSecretKey = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";

struct Case {
  SignableRequest request;
  std::string url;
  std::vector<HttpHeader> oracle_headers;  // what botocore gets (Host may be left to the URL)
  SigningParams params;
  std::string token;
};

class Generator {
 public:
  explicit Generator(std::uint64_t seed) : rng_(seed) {}

  int Int(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng_); }
  bool Chance(int percent) { return Int(1, 100) <= percent; }
  template <typename T>
  const T& Pick(const std::vector<T>& v) {
    return v[static_cast<std::size_t>(Int(0, static_cast<int>(v.size()) - 1))];
  }

  // Text from a pool of pieces: unreserved, reserved and blank ASCII, multi-byte UTF-8.
  std::string Text(int max_pieces, bool allow_unicode = true) {
    static const std::vector<std::string> ascii = {
        "a",   "Z",   "0",         "9", "-", ".", "_",  "~",   " ",     "+",
        "=",   "&",   "/",         "?", "%", "*", "#",  "!",   "$",     "'",
        "(",   ")",   ",",         ";", ":", "@", "[",  "]",   "{",     "}",
        "\"",  "<",   ">",         "|", "^", "`", "\\", "abc", "Value", "DBInstanceIdentifier",
        "%20", "%2F", "2014-10-31"};
    static const std::vector<std::string> unicode = {"\xc3\xa9",     "\xe1\x88\xb4",
                                                     "\xe2\x82\xac", "\xf0\x9f\x98\x80",
                                                     "\xc3\x9f",     "\xe6\x97\xa5\xe6\x9c\xac"};
    std::string out;
    const int n = Int(0, max_pieces);
    for (int i = 0; i < n; ++i) out += allow_unicode && Chance(15) ? Pick(unicode) : Pick(ascii);
    return out;
  }

  // Printable ASCII with runs of spaces and tabs (header values are ASCII on the wire).
  std::string HeaderValue() {
    static const std::vector<std::string> pieces = {"a",     "B",   "1",   " ",      "  ",
                                                    "\t",    "x y", ",",   ";",      "=",
                                                    "\"q\"", "/",   "   ", "v\t\tw", "text/plain"};
    std::string out;
    const int n = Int(0, 8);
    for (int i = 0; i < n; ++i) out += Pick(pieces);
    return out;
  }

  std::string PathSegment() {
    static const std::vector<std::string> special = {
        ".", "..", "", "a b", "%41", "x+y", "$d", "\xe1\x88\xb4", "~user", "a=b;c", "(1)"};
    if (Chance(30)) return Pick(special);
    std::string s = Text(4);
    std::erase_if(s, [](char c) { return c == '/' || c == '?' || c == '#' || c == '%'; });
    return s;
  }

  Case Next(int id) {
    Case c;
    struct Endpoint {
      const char* service;
      const char* region;
      const char* host;
    };
    static const std::vector<Endpoint> endpoints = {
        {"rds", "us-east-1", "rds.us-east-1.amazonaws.com"},
        {"rds", "eu-west-1", "rds.eu-west-1.amazonaws.com"},
        {"monitoring", "us-east-1", "monitoring.us-east-1.amazonaws.com"},
        {"service", "us-east-1", "example.amazonaws.com"},
        {"ec2", "ap-southeast-2", "ec2.ap-southeast-2.amazonaws.com"}};
    const Endpoint& ep = Pick(endpoints);
    c.params.service = ep.service;
    c.params.region = ep.region;
    c.params.time = testing::ParseIsoTime("2015-08-30T12:36:00Z");
    const bool https = Chance(70);
    const int port = Chance(20) ? Pick(std::vector<int>{8443, 18080, 80, 443}) : 0;

    SignableRequest& r = c.request;
    r.method = Pick(std::vector<std::string>{"GET", "POST", "POST", "PUT", "DELETE", "HEAD"});
    if (Chance(40)) {
      r.path = "/";
    } else {
      r.path.clear();
      const int segments = Int(1, 4);
      for (int i = 0; i < segments; ++i) r.path += "/" + PathSegment();
      if (Chance(30)) r.path += "/";
    }
    const int params = Chance(30) ? 0 : Int(1, 8);
    for (int i = 0; i < params; ++i) {
      if (!r.query.empty() && Chance(20)) {
        r.query.push_back({r.query.back().key, Chance(50) ? "" : Text(3)});  // repeated key
      } else {
        r.query.push_back({Chance(5) ? "" : Text(4), Chance(20) ? "" : Text(6)});
      }
    }
    if (r.method == "POST" && Chance(80)) {
      // A Query-API form body like the RDS and CloudWatch clients send.
      std::vector<QueryParam> form = {
          {"Action", Pick(std::vector<std::string>{"DescribeDBInstances", "ModifyDBInstance",
                                                   "GetMetricStatistics"})},
          {"Version", "2014-10-31"}};
      const int n = Int(0, 6);
      for (int i = 0; i < n; ++i)
        form.push_back({"Filters.Filter." + std::to_string(i + 1) + ".Name", Text(5)});
      r.body = FormEncode(form);
      r.headers.push_back({"Content-Type", "application/x-www-form-urlencoded; charset=utf-8"});
    } else if (Chance(15)) {
      r.body = Text(10);
    }
    const int headers = Int(0, 5);
    static const std::vector<std::string> names = {
        "My-Header1", "X-Amz-Meta-Note", "x-custom",     "Accept",
        "X-Repeated", "X-REPEATED",      "Content-Type", "User-Agent",
        "Expect",     "X-Amzn-Trace-Id", "Cache-Control"};
    for (int i = 0; i < headers; ++i) r.headers.push_back({Pick(names), HeaderValue()});

    const std::string host = HostHeaderValue(ep.host, port, https);
    c.url = std::string(https ? "https://" : "http://") + ep.host +
            (port != 0 ? ":" + std::to_string(port) : "") + r.path +
            (r.query.empty() ? "" : "?" + EncodeQueryString(r.query));
    c.oracle_headers = r.headers;
    // Half the time botocore derives Host from the URL (checks HostHeaderValue), else it gets
    // the header like we do, in a random position and case.
    const HttpHeader host_header{Chance(50) ? "Host" : "host", host};
    const auto at = static_cast<std::ptrdiff_t>(Int(0, static_cast<int>(r.headers.size())));
    r.headers.insert(r.headers.begin() + at, host_header);
    if (Chance(50)) {
      c.oracle_headers.insert(c.oracle_headers.begin() + at, host_header);
    }
    if (Chance(25)) c.token = "FQoGZXIvYXdzE" + std::to_string(id) + "/+token==";
    return c;
  }

 private:
  std::mt19937_64 rng_;
};

nlohmann::json OracleInput(int id, const Case& c) {
  nlohmann::json headers = nlohmann::json::array();
  for (const HttpHeader& h : c.oracle_headers) headers.push_back({h.name, h.value});
  return {{"id", id},
          {"method", c.request.method},
          {"url", c.url},
          {"headers", headers},
          {"body", c.request.body},
          {"service", c.params.service},
          {"region", c.params.region},
          {"amz_date", "20150830T123600Z"},
          {"access_key", kAccessKey},
          {"secret_key", kSecretKey},
          {"token", c.token.empty() ? nlohmann::json(nullptr) : nlohmann::json(c.token)}};
}

TEST(SigV4Botocore, GeneratedRequestsMatchBotocore) {
  ASSERT_EQ(access(kPython, X_OK), 0)
      << kPython << " not found: run scripts/setup (installs python3 and python3-botocore)";
  const std::string script = std::string(DBRUNBOOK_CLOUD_TEST_DIR) + "/botocore_sign.py";

  Generator gen(20150830);
  std::vector<Case> cases;
  const fs::path input =
      fs::temp_directory_path() / ("sigv4_botocore_" + std::to_string(getpid()) + ".jsonl");
  {
    std::ofstream out(input, std::ios::binary);
    for (int i = 0; i < kCases; ++i) {
      cases.push_back(gen.Next(i));
      out << OracleInput(i, cases.back()).dump() << "\n";
    }
  }

  // One botocore process for all cases.
  const std::string command = std::string(kPython) + " " + script + " < " + input.string();
  FILE* pipe = popen(command.c_str(), "r");
  ASSERT_NE(pipe, nullptr);
  std::string output;
  char buf[65536];
  std::size_t n = 0;
  while ((n = fread(buf, 1, sizeof buf, pipe)) > 0) output.append(buf, n);
  const int status = pclose(pipe);
  fs::remove(input);
  ASSERT_NE(WEXITSTATUS(status), 3) << "Debian's python3-botocore is not installed for " << kPython
                                    << ": run scripts/setup (as root) to install it";
  ASSERT_EQ(status, 0) << "botocore_sign.py failed (see its stderr above)";

  std::vector<nlohmann::json> answers;
  std::size_t start = 0;
  while (start < output.size()) {
    const std::size_t end = output.find('\n', start);
    answers.push_back(nlohmann::json::parse(output.substr(start, end - start)));
    if (end == std::string::npos) break;
    start = end + 1;
  }
  ASSERT_EQ(answers.size(), cases.size());

  const Signer signer;
  AwsCredentials base;
  base.access_key_id = core::Secret(kAccessKey);
  base.secret_access_key = core::Secret(kSecretKey);
  int matched = 0;
  int reported = 0;
  for (int i = 0; i < kCases; ++i) {
    const Case& c = cases[static_cast<std::size_t>(i)];
    ASSERT_EQ(answers[static_cast<std::size_t>(i)].at("id").get<int>(), i);
    AwsCredentials creds = base;
    creds.session_token = core::Secret(c.token);
    auto ours = signer.Sign(c.request, creds, c.params);
    ASSERT_TRUE(ours.has_value()) << "case " << i << ": " << ours.error().ToString();
    const auto& theirs = answers[static_cast<std::size_t>(i)];
    const bool same = ours->authorization == theirs.at("authorization").get<std::string>() &&
                      ours->canonical_request.Reveal() == theirs.at("creq").get<std::string>() &&
                      ours->string_to_sign == theirs.at("sts").get<std::string>();
    if (same) {
      ++matched;
    } else if (reported++ < 5) {
      ADD_FAILURE() << "case " << i << " " << c.request.method << " " << c.url << "\nours creq:\n"
                    << ours->canonical_request.Reveal() << "\nbotocore creq:\n"
                    << theirs.at("creq").get<std::string>() << "\nours:     " << ours->authorization
                    << "\nbotocore: " << theirs.at("authorization").get<std::string>();
    }
  }
  std::cout << "botocore " << kPython << ": " << matched << "/" << kCases
            << " Authorization headers (and canonical requests) match\n";
  EXPECT_EQ(matched, kCases);
  // The cache derived one key per (region, service) seen, not one per request.
  EXPECT_LE(signer.key_cache().misses(), 5u);
}

}  // namespace
}  // namespace dbrunbook::cloud
