// Unit tests of src/cloud/sigv4.h: helpers, validation errors (and that they never carry a
// secret), the signing key cache, token placement and concurrent use. The AWS vectors are in
// sigv4_conformance_test.cc, the comparison with botocore in sigv4_botocore_test.cc.
#include "cloud/sigv4.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <sstream>
#include <thread>
#include <vector>

#include "cloud/http_text.h"

namespace dbrunbook::cloud {
namespace {

const char* const kSecret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
const char* const kToken = "AQoDYXdzEPT//////////wEXAMPLEtoken+secret==";

AwsCredentials Creds(bool with_token = false) {
  AwsCredentials c;
  c.access_key_id = core::Secret("AKIDEXAMPLE");
  c.secret_access_key = core::Secret(kSecret);
  if (with_token) c.session_token = core::Secret(kToken);
  return c;
}

SigningParams Params(std::string service = "rds", std::string region = "us-east-1") {
  SigningParams p;
  p.region = std::move(region);
  p.service = std::move(service);
  p.time = testing::ParseIsoTime("2015-08-30T12:36:00Z");
  return p;
}

SignableRequest RdsRequest(std::string body = "Action=DescribeDBInstances&Version=2014-10-31") {
  SignableRequest r;
  r.method = "POST";
  r.path = "/";
  r.headers = {{"Content-Type", "application/x-www-form-urlencoded; charset=utf-8"},
               {"Host", "rds.us-east-1.amazonaws.com"}};
  r.body = std::move(body);
  return r;
}

TEST(SigV4Helpers, UriEncode) {
  EXPECT_EQ(UriEncode("AZaz09-._~", false), "AZaz09-._~");
  EXPECT_EQ(UriEncode("a b+c/d=e&f%*", false), "a%20b%2Bc%2Fd%3De%26f%25%2A");
  EXPECT_EQ(UriEncode("/a b/c", true), "/a%20b/c");
  EXPECT_EQ(UriEncode("\xe1\x88\xb4", false), "%E1%88%B4");
  EXPECT_EQ(UriEncode(std::string("\0\xff", 2), false), "%00%FF");
}

TEST(SigV4Helpers, ParseQueryString) {
  auto q = ParseQueryString("a=1&b=%20x&c&=v&d=&a=%2b+");
  ASSERT_TRUE(q.has_value());
  ASSERT_EQ(q->size(), 6u);
  EXPECT_EQ((*q)[1].value, " x");
  EXPECT_EQ((*q)[2].key, "c");
  EXPECT_EQ((*q)[2].value, "");
  EXPECT_EQ((*q)[3].key, "");
  EXPECT_EQ((*q)[5].value, "++");  // '+' is literal in RFC 3986 query strings
  EXPECT_TRUE(ParseQueryString("")->empty());
  for (const char* bad : {"a=%", "a=%4", "a=%zz", "%G0=1"}) {
    auto r = ParseQueryString(bad);
    ASSERT_FALSE(r.has_value()) << bad;
    EXPECT_EQ(r.error().code, core::ErrorCode::kInvalidArgument);
  }
}

TEST(SigV4Helpers, EncodeAndFormEncode) {
  const std::vector<QueryParam> params = {
      {"Expression", "cpu * 2"}, {"Value", "{DBInstanceClassMemory/12582880}"}, {"empty", ""}};
  EXPECT_EQ(FormEncode(params),
            "Expression=cpu+%2A+2&Value=%7BDBInstanceClassMemory%2F12582880%7D&empty=");
  EXPECT_EQ(EncodeQueryString(params),
            "Expression=cpu%20%2A%202&Value=%7BDBInstanceClassMemory%2F12582880%7D&empty=");
  EXPECT_EQ(EncodeQueryString({}), "");
}

TEST(SigV4Helpers, HostAndDate) {
  EXPECT_EQ(HostHeaderValue("rds.us-east-1.amazonaws.com", 443, true),
            "rds.us-east-1.amazonaws.com");
  EXPECT_EQ(HostHeaderValue("127.0.0.1", 18080, false), "127.0.0.1:18080");
  EXPECT_EQ(HostHeaderValue("h", 80, false), "h");
  EXPECT_EQ(HostHeaderValue("h", 80, true), "h:80");
  EXPECT_EQ(FormatAmzDate(testing::ParseIsoTime("2015-08-30T12:36:00Z")), "20150830T123600Z");
  EXPECT_EQ(
      FormatAmzDate(testing::ParseIsoTime("1999-12-31T23:59:59Z") + std::chrono::milliseconds(999)),
      "19991231T235959Z");
  EXPECT_EQ(*Sha256Hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

// The example in the shared README, computed there with Debian's botocore.
TEST(SigV4Signer, RdsExampleFromTheOracle) {
  const Signer signer;
  auto r = signer.Sign(RdsRequest(), Creds(), Params());
  ASSERT_TRUE(r.has_value()) << r.error().ToString();
  EXPECT_EQ(r->authorization,
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/rds/aws4_request, "
            "SignedHeaders=content-type;host;x-amz-date, "
            "Signature=aae506226afb5271fe069f0663d5fc04b52e4e6a95a1ab9b6d3dc506a0092dcd");
  EXPECT_EQ(r->request.Header("x-amz-date"), "20150830T123600Z");
  EXPECT_FALSE(r->request.Header("x-amz-content-sha256").has_value());
}

TEST(SigV4Signer, ReplacesHeadersItOwns) {
  SignableRequest req = RdsRequest();
  req.headers.push_back({"authorization", "stale"});
  req.headers.push_back({"X-AMZ-DATE", "19700101T000000Z"});
  req.headers.push_back({"X-Amz-Security-Token", "stale"});
  const Signer signer;
  auto r = signer.Sign(req, Creds(), Params());
  ASSERT_TRUE(r.has_value());
  int authz = 0;
  for (const HttpHeader& h : r->request.headers) {
    EXPECT_NE(h.value, "stale");
    if (h.name == "Authorization") ++authz;
  }
  EXPECT_EQ(authz, 1);
  EXPECT_EQ(r->request.Header("x-amz-date"), "20150830T123600Z");
  EXPECT_FALSE(r->request.Header("x-amz-security-token").has_value());
  // Same signature as without the stale headers.
  EXPECT_EQ(r->signature, signer.Sign(RdsRequest(), Creds(), Params())->signature);
}

TEST(SigV4Signer, SessionTokenPlacement) {
  const Signer signer;
  auto before = signer.Sign(RdsRequest(), Creds(true), Params());
  ASSERT_TRUE(before.has_value());
  EXPECT_EQ(before->signed_headers, "content-type;host;x-amz-date;x-amz-security-token");
  EXPECT_EQ(before->request.Header("X-Amz-Security-Token"), kToken);

  SigningParams after_params = Params();
  after_params.token_placement = SessionTokenPlacement::kAddedAfterSigning;
  auto after = signer.Sign(RdsRequest(), Creds(true), after_params);
  ASSERT_TRUE(after.has_value());
  EXPECT_EQ(after->signed_headers, "content-type;host;x-amz-date");
  EXPECT_EQ(after->request.Header("X-Amz-Security-Token"), kToken);
  // Signed as if there were no token.
  EXPECT_EQ(after->signature, signer.Sign(RdsRequest(), Creds(false), Params())->signature);

  auto presigned = signer.Presign(RdsRequest(), Creds(true), after_params);
  ASSERT_TRUE(presigned.has_value());
  EXPECT_EQ(presigned->request.query.back().key, "X-Amz-Signature");
  EXPECT_EQ(presigned->request.query[presigned->request.query.size() - 2].value, kToken);
  EXPECT_EQ(presigned->canonical_request.Reveal().find("Security-Token"), std::string::npos);
}

TEST(SigV4Signer, ContentSha256HeaderOnlyWhenAsked) {
  SigningParams p = Params();
  p.add_content_sha256_header = true;
  auto r = Signer().Sign(RdsRequest(), Creds(), p);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->signed_headers, "content-type;host;x-amz-content-sha256;x-amz-date");
  EXPECT_EQ(r->request.Header("x-amz-content-sha256"), *Sha256Hex(RdsRequest().body));
}

TEST(SigV4Signer, CanonicalRequestDoesNotPrint) {
  auto r = Signer().Sign(RdsRequest(), Creds(true), Params());
  ASSERT_TRUE(r.has_value());
  std::ostringstream out;
  out << r->canonical_request;
  EXPECT_EQ(out.str(), "***");
  EXPECT_EQ(fmt::format("{}", r->canonical_request), "***");
}

// Every rejection is an error value, and no error text carries the secret key or token.
TEST(SigV4Signer, RejectsWhatCannotBeSignedWithoutLeakingSecrets) {
  struct Bad {
    const char* what;
    SignableRequest request;
    AwsCredentials credentials;
    SigningParams params;
    bool presign;
  };
  std::vector<Bad> cases;
  const auto add = [&](const char* what, auto mutate, bool presign = false) {
    Bad b{what, RdsRequest(), Creds(true), Params(), presign};
    mutate(b);
    cases.push_back(std::move(b));
  };
  add("no host", [](Bad& b) { b.request.headers.pop_back(); });
  add("empty host", [](Bad& b) { b.request.headers.back().value = "  "; });
  add("empty access key", [](Bad& b) { b.credentials.access_key_id = core::Secret(); });
  add("access key with a slash",
      [](Bad& b) { b.credentials.access_key_id = core::Secret("AK/ID"); });
  add("empty secret", [](Bad& b) { b.credentials.secret_access_key = core::Secret(); });
  add("empty region", [](Bad& b) { b.params.region.clear(); });
  add("region with slash", [](Bad& b) { b.params.region = "us-east-1/x"; });
  add("service upper case", [](Bad& b) { b.params.service = "RDS"; });
  add("bad method", [](Bad& b) { b.request.method = "PO ST"; });
  add("path with query", [](Bad& b) { b.request.path = "/?a=1"; });
  add("header name with colon", [](Bad& b) { b.request.headers.push_back({"a:b", "x"}); });
  add("header value with line break", [](Bad& b) {
    b.request.headers.push_back({"X-A", "1\r\nX-Injected: 2"});
  });
  add("header value with NUL", [](Bad& b) {
    b.request.headers.push_back({"X-A", std::string("1\0", 2)});
  });
  add(
      "expires 0", [](Bad& b) { b.params.expires = std::chrono::seconds(0); }, true);
  add(
      "expires 8 days", [](Bad& b) { b.params.expires = std::chrono::hours(24 * 8); }, true);
  const Signer signer;
  for (const Bad& b : cases) {
    SCOPED_TRACE(b.what);
    auto r = b.presign ? signer.Presign(b.request, b.credentials, b.params)
                       : signer.Sign(b.request, b.credentials, b.params);
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code, core::ErrorCode::kInvalidArgument);
    const std::string text = r.error().ToString();
    EXPECT_EQ(text.find(kSecret), std::string::npos) << text;
    EXPECT_EQ(text.find(kToken), std::string::npos) << text;
  }
  EXPECT_EQ(signer.key_cache().misses(), 0u);  // nothing was derived for a rejected request
}

TEST(SigningKeyCache, HitsMissesAndEviction) {
  SigningKeyCache cache(2);
  const core::Secret a(kSecret);
  const core::Secret b("another-secret");
  auto k1 = cache.Get(a, "20150830", "us-east-1", "rds");
  ASSERT_TRUE(k1.has_value());
  EXPECT_EQ(cache.misses(), 1u);
  auto k2 = cache.Get(a, "20150830", "us-east-1", "rds");
  EXPECT_EQ(cache.hits(), 1u);
  EXPECT_EQ(k1->Bytes(), k2->Bytes());
  // The key AWS's documentation derives for this secret, date, region and service ("iam").
  auto iam = cache.Get(a, "20150830", "us-east-1", "iam");
  ASSERT_TRUE(iam.has_value());
  std::string hex;
  for (const unsigned char c : iam->Bytes()) hex += fmt::format("{:02x}", c);
  EXPECT_EQ(hex, "c4afb1cc5771d871763a393e44b703571b55cc28424d1a5e86da6ed3c154a4b9");
  EXPECT_EQ(cache.misses(), 2u);
  // Another secret, another day: misses, and the least recently used entry goes.
  EXPECT_NE(cache.Get(b, "20150830", "us-east-1", "rds")->Bytes(), k1->Bytes());
  EXPECT_NE(cache.Get(a, "20150831", "us-east-1", "rds")->Bytes(), k1->Bytes());
  EXPECT_EQ(cache.misses(), 4u);
  (void)cache.Get(a, "20150830", "us-east-1", "rds");  // evicted earlier: derived again
  EXPECT_EQ(cache.misses(), 5u);
}

TEST(SigV4Signer, ConcurrentSigningGivesTheSameSignatures) {
  const Signer signer(4);
  const std::string expected = signer.Sign(RdsRequest(), Creds(), Params())->signature;
  std::vector<std::thread> threads;
  std::vector<int> mismatches(4, 0);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 100; ++i) {
        // Alternate services so that the cache is written while others read it.
        const std::string service = (i % 3 == 0) ? "monitoring" : "rds";
        auto r = signer.Sign(RdsRequest(), Creds(), Params(service));
        if (!r || (service == "rds" && r->signature != expected)) ++mismatches[t];
      }
    });
  }
  for (auto& th : threads) th.join();
  for (int t = 0; t < 4; ++t) EXPECT_EQ(mismatches[t], 0);
  EXPECT_EQ(signer.key_cache().misses(), 2u);
}

}  // namespace
}  // namespace dbrunbook::cloud
