// SigV4 conformance: every case of the three sets in ../shared/conformance/aws/sigv4/ (see its
// README.txt), byte for byte:
//   * aws-c-auth/v4 (38 cases): header AND query (presign) signing — canonical request, string
//     to sign, signature, and the signed request (header set / request line);
//   * botocore-aws4_testsuite (34 cases, the classic 2015 suite): canonical request, string to
//     sign, Authorization and signed request;
//   * awscli-2.9.19-rds-cloudwatch (12 real RDS / CloudWatch Query requests): the same plus the
//     signed header list, and the form body round-trips through FormEncode.
// No case may be skipped: a case that cannot pass would have to be listed in kKnownFailures
// with its reason (the list is empty), and the case counts are asserted so a missing directory
// is a failure too.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "cloud/http_text.h"
#include "cloud/sigv4.h"
#include "core/strings.h"
#include "support/recorded_output.h"

namespace dbrunbook::cloud {
namespace {

namespace fs = std::filesystem;
using testing::ParseHttpText;
using testing::ParseIsoTime;

const std::string kSetDir = "conformance/aws/sigv4/";

// "set/case" -> why it cannot pass. Empty: every case passes.
const std::map<std::string, std::string>& KnownFailures() {
  static const std::map<std::string, std::string> known = {};
  return known;
}

// Sample signed requests (.sreq) that contradict their own case: the Authorization line of
// these is not compared (everything else is, including .authz). Printed when used.
const std::map<std::string, std::string>& KnownSampleDefects() {
  static const std::map<std::string, std::string> known = {
      {"botocore-aws4_testsuite/get-vanilla-with-session-token",
       "the .sreq carries get-vanilla's Signature=5fa00fa3..., but the case's own .authz (and "
       "aws-c-auth's header-signature.txt for the same request and token) say 07ec1639..., "
       "which is what we produce"},
  };
  return known;
}

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in.good()) << "cannot read " << path;
  std::string out;
  char c = 0;
  while (in.get(c)) {
    if (c != '\r') out.push_back(c);  // as the upstream runners compare
  }
  return out;
}

std::vector<fs::path> CaseDirs(const std::string& set, const std::string& marker) {
  std::vector<fs::path> out;
  const fs::path root = dbrunbook::testing::SharedPath(kSetDir + set);
  if (!fs::is_directory(root)) return out;
  for (const auto& entry : fs::recursive_directory_iterator(root)) {
    if (entry.is_regular_file() && entry.path().filename().string().ends_with(marker)) {
      out.push_back(entry.path().parent_path());
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

// Header lines of a signed request as a sorted multiset of (lower-case name, trimmed value):
// header order is not significant in the expected files.
std::multiset<std::pair<std::string, std::string>> HeaderSet(
    const std::vector<HttpHeader>& headers) {
  std::multiset<std::pair<std::string, std::string>> out;
  for (const HttpHeader& h : headers) {
    out.emplace(core::ToLower(h.name), std::string(core::Trim(h.value)));
  }
  return out;
}

AwsCredentials CredentialsFrom(const nlohmann::json& context) {
  const auto& c = context.at("credentials");
  AwsCredentials out;
  out.access_key_id = core::Secret(c.at("access_key_id").get<std::string>());
  out.secret_access_key = core::Secret(c.at("secret_access_key").get<std::string>());
  if (c.contains("token")) out.session_token = core::Secret(c.at("token").get<std::string>());
  return out;
}

// EXPECT_EQ that also says whether it held, so that a case can be counted as passed.
template <typename A, typename B>
bool Same(const A& actual, const B& expected) {
  EXPECT_EQ(actual, expected);
  return actual == expected;
}

struct Tally {
  int cases = 0;
  int failed = 0;
};

bool Known(const std::string& name) {
  const auto it = KnownFailures().find(name);
  if (it == KnownFailures().end()) return false;
  std::cout << "known failure " << name << ": " << it->second << "\n";
  return true;
}

TEST(SigV4Conformance, AwsCAuthV4HeaderAndQuery) {
  const auto dirs = CaseDirs("aws-c-auth/v4", "context.json");
  ASSERT_EQ(dirs.size(), 38u) << "aws-c-auth/v4 has 38 cases";
  const Signer signer;
  Tally header;
  Tally query;
  for (const fs::path& dir : dirs) {
    const std::string name = "aws-c-auth/" + dir.filename().string();
    SCOPED_TRACE(name);
    if (Known(name)) continue;
    const auto context = nlohmann::json::parse(ReadFile(dir / "context.json"));
    auto parsed = ParseHttpText(ReadFile(dir / "request.txt"));
    ASSERT_TRUE(parsed.has_value()) << parsed.error().ToString();
    const AwsCredentials credentials = CredentialsFrom(context);
    SigningParams params;
    params.region = context.at("region");
    params.service = context.at("service");
    params.time = ParseIsoTime(context.at("timestamp").get<std::string>());
    params.normalize_path = context.at("normalize");
    params.double_uri_encode = true;  // what tests/sigv4_signing_tests.c sets
    params.add_content_sha256_header = context.at("sign_body");
    params.token_placement = context.value("omit_session_token", false)
                                 ? SessionTokenPlacement::kAddedAfterSigning
                                 : SessionTokenPlacement::kSigned;
    params.expires = std::chrono::seconds(context.at("expiration_in_seconds").get<int>());

    // Header signing.
    {
      ++header.cases;
      bool ok = true;
      auto signed_req = signer.Sign(parsed->request, credentials, params);
      ASSERT_TRUE(signed_req.has_value()) << signed_req.error().ToString();
      ok &= Same(signed_req->canonical_request.Reveal(),
                 ReadFile(dir / "header-canonical-request.txt"));
      ok &= Same(signed_req->string_to_sign, ReadFile(dir / "header-string-to-sign.txt"));
      ok &= Same(signed_req->signature, ReadFile(dir / "header-signature.txt"));
      auto expected = ParseHttpText(ReadFile(dir / "header-signed-request.txt"));
      ASSERT_TRUE(expected.has_value());
      ok &= Same(HeaderSet(signed_req->request.headers), HeaderSet(expected->request.headers));
      ok &= Same(signed_req->request.body, expected->request.body);
      ok &= Same(core::Trim(*expected->request.Header("authorization")), signed_req->authorization);
      if (!ok) ++header.failed;
    }
    // Query (presigned URL) signing.
    {
      ++query.cases;
      bool ok = true;
      auto signed_req = signer.Presign(parsed->request, credentials, params);
      ASSERT_TRUE(signed_req.has_value()) << signed_req.error().ToString();
      ok &= Same(signed_req->canonical_request.Reveal(),
                 ReadFile(dir / "query-canonical-request.txt"));
      ok &= Same(signed_req->string_to_sign, ReadFile(dir / "query-string-to-sign.txt"));
      ok &= Same(signed_req->signature, ReadFile(dir / "query-signature.txt"));
      ok &= Same(signed_req->authorization, std::string());
      auto expected = ParseHttpText(ReadFile(dir / "query-signed-request.txt"));
      ASSERT_TRUE(expected.has_value());
      // The request line byte for byte: aws-c-auth keeps the request's own query as it was
      // written (get-vanilla-utf8-query sends raw UTF-8) and appends the X-Amz-* parameters,
      // which must be encoded and ordered as here.
      const std::vector<QueryParam> added(
          signed_req->request.query.begin() +
              static_cast<std::ptrdiff_t>(parsed->request.query.size()),
          signed_req->request.query.end());
      ok &= Same(signed_req->request.path + "?" + parsed->raw_query +
                     (parsed->raw_query.empty() ? "" : "&") + EncodeQueryString(added),
                 expected->target);
      ok &= Same(HeaderSet(signed_req->request.headers), HeaderSet(expected->request.headers));
      if (!ok) ++query.failed;
    }
  }
  std::cout << "aws-c-auth/v4: header " << header.cases - header.failed << "/" << header.cases
            << ", query " << query.cases - query.failed << "/" << query.cases << " pass\n";
}

TEST(SigV4Conformance, BotocoreAws4Testsuite) {
  const auto dirs = CaseDirs("botocore-aws4_testsuite", ".req");
  ASSERT_EQ(dirs.size(), 34u) << "botocore-aws4_testsuite has 34 cases";
  const Signer signer;
  Tally tally;
  for (const fs::path& dir : dirs) {
    const std::string base = dir.filename().string();
    const std::string name = "botocore-aws4_testsuite/" + base;
    SCOPED_TRACE(name);
    if (Known(name)) continue;
    ++tally.cases;
    bool ok = true;
    const auto file = [&](const char* ext) { return dir / (base + ext); };
    auto parsed = ParseHttpText(ReadFile(file(".req")));
    ASSERT_TRUE(parsed.has_value()) << parsed.error().ToString();
    const std::string creq = ReadFile(file(".creq"));
    auto expected = ParseHttpText(ReadFile(file(".sreq")));
    ASSERT_TRUE(expected.has_value());

    AwsCredentials credentials;
    credentials.access_key_id = core::Secret("AKIDEXAMPLE");
    credentials.secret_access_key = core::Secret("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY");
    SigningParams params;
    params.region = "us-east-1";
    params.service = "service";
    params.time = ParseIsoTime("2015-08-30T12:36:00Z");
    // The token: signed when the canonical request has it (how botocore's runner finds it),
    // else added after signing when only the signed request carries it (post-sts-header-after).
    const std::string token_line = "\nx-amz-security-token:";
    if (const std::size_t at = creq.find(token_line); at != std::string::npos) {
      const std::size_t start = at + token_line.size();
      credentials.session_token = core::Secret(creq.substr(start, creq.find('\n', start) - start));
    } else if (auto token = expected->request.Header("x-amz-security-token")) {
      credentials.session_token = core::Secret(std::string(*token));
      params.token_placement = SessionTokenPlacement::kAddedAfterSigning;
    }

    auto signed_req = signer.Sign(parsed->request, credentials, params);
    ASSERT_TRUE(signed_req.has_value()) << signed_req.error().ToString();
    ok &= Same(signed_req->canonical_request.Reveal(), creq);
    ok &= Same(signed_req->string_to_sign, ReadFile(file(".sts")));
    ok &= Same(signed_req->authorization, ReadFile(file(".authz")));
    std::vector<HttpHeader> ours = signed_req->request.headers;
    if (const auto defect = KnownSampleDefects().find(name); defect != KnownSampleDefects().end()) {
      std::cout << "not comparing the .sreq Authorization of " << name << ": " << defect->second
                << "\n";
      const auto is_authz = [](const HttpHeader& h) {
        return core::EqualsIgnoreCase(h.name, "authorization");
      };
      std::erase_if(ours, is_authz);
      std::erase_if(expected->request.headers, is_authz);
    }
    ok &= Same(HeaderSet(ours), HeaderSet(expected->request.headers));
    ok &= Same(signed_req->request.body, expected->request.body);
    if (!ok) ++tally.failed;
  }
  std::cout << "botocore-aws4_testsuite: " << tally.cases - tally.failed << "/" << tally.cases
            << " pass\n";
}

TEST(SigV4Conformance, AwscliRdsCloudwatch) {
  const auto dirs = CaseDirs("awscli-2.9.19-rds-cloudwatch", "context.json");
  ASSERT_EQ(dirs.size(), 12u) << "awscli-2.9.19-rds-cloudwatch has 12 cases";
  const Signer signer;
  Tally tally;
  for (const fs::path& dir : dirs) {
    const std::string name = "awscli-2.9.19-rds-cloudwatch/" + dir.filename().string();
    SCOPED_TRACE(name);
    if (Known(name)) continue;
    ++tally.cases;
    bool ok = true;
    const auto context = nlohmann::json::parse(ReadFile(dir / "context.json"));
    auto parsed = ParseHttpText(ReadFile(dir / "request.txt"));
    ASSERT_TRUE(parsed.has_value()) << parsed.error().ToString();
    // What awscli's botocore had in the request when it signed: its HTTP layer adds
    // Accept-Encoding and Content-Length afterwards (User-Agent is there but never signed).
    SignableRequest before_signing = parsed->request;
    std::vector<HttpHeader> added_later;
    std::erase_if(before_signing.headers, [&](const HttpHeader& h) {
      const bool later = core::EqualsIgnoreCase(h.name, "accept-encoding") ||
                         core::EqualsIgnoreCase(h.name, "content-length");
      if (later) added_later.push_back(h);
      return later;
    });
    SigningParams params;
    params.region = context.at("region");
    params.service = context.at("service");
    params.time = ParseIsoTime(context.at("timestamp").get<std::string>());
    params.add_content_sha256_header = context.at("x_amz_content_sha256_header_sent");

    auto signed_req = signer.Sign(before_signing, CredentialsFrom(context), params);
    ASSERT_TRUE(signed_req.has_value()) << signed_req.error().ToString();
    ok &= Same(signed_req->canonical_request.Reveal(), ReadFile(dir / "canonical-request.txt"));
    ok &= Same(signed_req->string_to_sign, ReadFile(dir / "string-to-sign.txt"));
    ok &= Same(signed_req->signature, ReadFile(dir / "signature.txt"));
    ok &= Same(signed_req->authorization, ReadFile(dir / "authorization.txt"));
    ok &= Same(signed_req->signed_headers, context.at("signed_headers").get<std::string>());
    auto expected = ParseHttpText(ReadFile(dir / "signed-request.txt"));
    ASSERT_TRUE(expected.has_value());
    std::vector<HttpHeader> sent = signed_req->request.headers;
    sent.insert(sent.end(), added_later.begin(), added_later.end());
    ok &= Same(HeaderSet(sent), HeaderSet(expected->request.headers));
    ok &= Same(signed_req->request.body, expected->request.body);
    auto body_hash = Sha256Hex(signed_req->request.body);
    ASSERT_TRUE(body_hash.has_value());
    ok &= Same(*body_hash, context.at("payload_sha256_in_canonical_request").get<std::string>());

    // The form body is what FormEncode produces from its decoded parameters ('+' is a space).
    std::string raw = parsed->request.body;
    std::string spaced;
    for (const char c : raw) spaced += c == '+' ? std::string("%20") : std::string(1, c);
    auto form = ParseQueryString(spaced);
    ASSERT_TRUE(form.has_value());
    ok &= Same(FormEncode(*form), raw);
    if (!ok) ++tally.failed;
  }
  std::cout << "awscli-2.9.19-rds-cloudwatch: " << tally.cases - tally.failed << "/" << tally.cases
            << " pass\n";
}

}  // namespace
}  // namespace dbrunbook::cloud
