// One AWS Query-protocol service (RDS, CloudWatch) as dbrunbook calls it: a QueryRequest in,
// the XML body of a successful answer out.
//
// Each call resolves the credentials, region and endpoint (AwsCredentialResolver: environment,
// profile files, container or instance metadata; an endpoint override from the configuration
// or --aws-endpoint-url), builds the form body, signs it with SigV4 (sigv4.h), sends it over the
// transport with the retry policy (retry.h: throttling and 5xx are retried with full-jitter
// backoff; a non-idempotent action only when it never left this machine), and turns an AWS
// error document into a core::Error (AwsError::ToError: typed code, message naming the action,
// hint). Nothing secret reaches an error or a log line: messages name the action and the
// endpoint's scheme://host:port only.
//
// Thread-safety: Call() may be used from several threads if the transport, resolver and policy
// allow it (CurlTransport serialises its requests; the resolver locks).
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "cloud/credentials.h"
#include "cloud/http.h"
#include "cloud/query_protocol.h"
#include "cloud/retry.h"
#include "cloud/sigv4.h"
#include "core/clock.h"
#include "core/error.h"

namespace dbrunbook::cloud {

struct AwsService {
  std::string_view signing_name;     // SigV4 service name: "rds", "monitoring"
  std::string_view endpoint_prefix;  // https://PREFIX.REGION.amazonaws.com
  std::string_view display;          // for messages: "RDS", "CloudWatch"
};
inline constexpr AwsService kRdsService{"rds", "rds", "RDS"};
inline constexpr AwsService kCloudWatchService{"monitoring", "monitoring", "CloudWatch"};

// The service's standard endpoint in `region` (".amazonaws.com.cn" in the China regions).
std::string StandardEndpoint(const AwsService& service, std::string_view region);

class AwsQueryClient {
 public:
  // All references must outlive the client.
  AwsQueryClient(AwsService service, AwsCredentialResolver& resolver, HttpTransport& transport,
                 RetryPolicy& retry, core::Clock& clock, const Signer& signer);

  // Sends `request`; the body of a 2xx answer, else the error. `idempotency` says whether the
  // action may reach the service twice (Describe*, GetMetric* may; Modify*, Reboot*, Failover*
  // and PromoteReadReplica may not).
  core::Result<std::string> Call(const QueryRequest& request, Idempotency idempotency);

  // Told about every retry (attempt number, reason), for logs; may be empty.
  void SetRetryObserver(std::function<void(std::string_view action, std::string_view reason)> f) {
    on_retry_ = std::move(f);
  }
  // Requests sent (attempts included), for --verbose and tests.
  int requests_sent() const { return requests_sent_; }

 private:
  AwsService service_;
  AwsCredentialResolver& resolver_;
  HttpTransport& transport_;
  RetryPolicy& retry_;
  core::Clock& clock_;
  const Signer& signer_;
  std::function<void(std::string_view, std::string_view)> on_retry_;
  int requests_sent_ = 0;
};

}  // namespace dbrunbook::cloud
