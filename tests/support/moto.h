// Access to the moto fixture, for end-to-end tests of the AWS provider.
//
// The CTest fixture `moto` (tests/cloud/CMakeLists.txt, script tests/cloud/moto_fixture) runs
// moto_server, the AWS emulator, seeded by tests/cloud/moto_seed.py, behind
// tests/cloud/sigv4_verifying_proxy.py, which re-verifies every request's SigV4 signature with
// botocore and refuses (HTTP 403) unsigned or wrongly signed ones. It writes
// $DBRUNBOOK_MOTO_DIR/env and $DBRUNBOOK_MOTO_DIR/manifest.json; `LoadMotoFixture` reads both.
//
// Use from a test registered with `dbrunbook_test(NAME ... MOTO)`:
//
//   auto moto = testing::LoadMotoFixture();
//   ASSERT_TRUE(moto) << moto.error().ToString();
//   const auto before = testing::ProxyLogSize(*moto);
//   ... point the code under test at moto->endpoint_url (the proxy), region, keys ...
//   auto verdicts = testing::ProxyVerdicts(*moto, before);
//   EXPECT_EQ(verdicts->rejected, 0);            // every request we made was signed right
//   auto out = testing::RunBoto3(*moto, "print(rds.describe_db_instances(...)...)");
//
// The code under test must talk to `endpoint_url` only; `moto_url` (moto itself, which does not
// check signatures) is for RunBoto3 and checks of the emulator's state.
//
// Like the sandbox readers, every function returns an error (naming the file or command) when
// the fixture is missing: tests assert on it and FAIL, never skip.
//
// Thread-safety: the functions are reentrant; they read files and the environment, and
// (RunBoto3) spawn a process.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/error.h"

namespace dbrunbook::testing {

struct MotoFixture {
  std::string dir;           // $DBRUNBOOK_MOTO_DIR
  std::string moto_url;      // http://127.0.0.1:P1: moto itself (no signature checks)
  std::string endpoint_url;  // http://127.0.0.1:P2: the verifying proxy, for the code under test
  std::string region;        // "us-east-1"
  std::string access_key;    // moto_seed.py's example credentials, the only ones the proxy
  std::string secret_key;    // accepts (test-only, published values)
  std::string python;        // the Python with moto and boto3 (RunBoto3 uses it)
  std::string proxy_log;     // one line per request with its verdict
  nlohmann::json manifest;   // what moto_seed.py created: "rds" resources, "metrics" values
};

// Reads $DBRUNBOOK_MOTO_DIR/env and the manifest it names.
core::Result<MotoFixture> LoadMotoFixture();

// One request as the verifying proxy logged it.
struct ProxyRequest {
  std::string method;
  std::string path;
  std::string action;     // Action of a Query-API request, else X-Amz-Target or "-"
  std::string verdict;    // "ok 200", "ok, upstream failed: ...", or a rejection code
  bool accepted = false;  // the signature verified (verdict starts with "ok")
};

struct ProxyVerdictCounts {
  int accepted = 0;
  int rejected = 0;
  std::vector<ProxyRequest> requests;  // in log order
  std::uint64_t end_offset = 0;        // where the next call can start
};

// The size of the proxy log now: pass it to ProxyVerdicts to count only what follows.
std::uint64_t ProxyLogSize(const MotoFixture& fixture);

// The requests the proxy logged from byte `offset` of its log on (complete lines only).
core::Result<ProxyVerdictCounts> ProxyVerdicts(const MotoFixture& fixture,
                                               std::uint64_t offset = 0);

// Runs Python `code` with the fixture's Python after a prelude that defines `rds` and
// `cloudwatch`, boto3 clients connected to moto directly (not through the proxy), and imports
// `json`; returns its stdout, or an error with its exit status and stderr. For test setup and
// for checking moto's state after an action, e.g.
//   RunBoto3(f, "print(rds.describe_db_instances(DBInstanceIdentifier='orders-primary-db')"
//               "['DBInstances'][0]['DBInstanceClass'])")
// The credentials reach the child through its environment (AWS_* variables of ours are not
// passed on), the code through a temporary file on its stdin.
core::Result<std::string> RunBoto3(const MotoFixture& fixture, const std::string& code);

}  // namespace dbrunbook::testing
