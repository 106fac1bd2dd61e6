// The AWS Query protocol, as RDS (2014-10-31) and CloudWatch (2010-08-01) speak it: a request
// is an ordered list of name=value parameters sent as an application/x-www-form-urlencoded POST
// body ("Action=X&Version=Y&..."), and a response is an XML document, <XResponse><XResult>...
// on success and <ErrorResponse><Error>... on failure.
//
// This header holds what every Query service shares: the request body builder (QueryRequest),
// the scalar formats (booleans, doubles, ISO-8601 UTC timestamps), the list-naming rules, and
// the error document (AwsError). The typed actions live in rds_api.h and cloudwatch_api.h.
// Signing and HTTP are not done here: callers get the form body and hand back the response body.
//
// Thread-safety: values and pure functions; a QueryRequest is not shared between threads while
// it is being built. Failure: builders do not fail (typed builders in rds_api.h validate first);
// parsers return core::Error values, never throw, and bound what they accept (kMaxResponseBytes).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/clock.h"
#include "core/error.h"

namespace dbrunbook::cloud {

// Responses larger than this are refused before parsing. The largest legitimate answer is a
// GetMetricData page (at most 100,800 datapoints, about 7 MB of XML); 32 MiB leaves room while
// keeping a hostile or broken endpoint from making us build a DOM of arbitrary size.
inline constexpr size_t kMaxResponseBytes = size_t{32} << 20;

// Percent-encodes `text` for a form body: RFC 3986 unreserved characters (A-Z a-z 0-9 - . _ ~)
// are kept, every other byte becomes %XX (upper-case hex), so a space is "%20" and '*' is
// "%2A". This is the encoding the AWS C++ and Java SDKs use and the one SigV4 canonicalises to.
// botocore/awscli send a space as '+' instead; both decode to the same value on the server.
std::string FormUrlEncode(std::string_view text);

// A double the way botocore writes one (Python's repr): shortest round-trip digits, "10.8",
// "100.0", "1e-05", "1e+16"; and "NaN", "Infinity", "-Infinity" for the special values.
std::string FormatQueryDouble(double value);

// ISO-8601 UTC, "2015-08-30T12:36:00Z"; sub-second precision (".123456Z", microseconds) only
// when the time has a fraction, as botocore serialises timestamps.
std::string FormatIso8601(core::WallTime time);

// Parses the timestamps AWS returns: "2014-04-25T18:07:51.508Z", "2026-11-26T15:16:20.649243Z",
// "2011-05-23T06:50:00Z", and the same with "+hh:mm"/"-hh:mm" offsets or without a zone (read
// as UTC). Fractions beyond microseconds are truncated. nullopt when malformed.
std::optional<core::WallTime> ParseIso8601(std::string_view text);

// How a list member is named on the wire (the model's list shape and member traits):
//   member list (default)          Name.member.1, Name.member.2          (CloudWatch)
//   named member (locationName)    Filters.Filter.1, Values.Value.2      (RDS)
//   flattened                      Name.1, Name.2 (Name is the structure member's wire name;
//                                  a member name on the list is not used, as in the awsQuery
//                                  protocol tests' FlattenedListArgWithXmlName case)
struct ListStyle {
  std::string_view member_name;  // empty: "member"
  bool flattened = false;
};
inline constexpr ListStyle kMemberList{};

// One Query request being built. Parameters keep the order they were added in (the order of the
// model's members, as SDKs send them), after Action and Version.
class QueryRequest {
 public:
  QueryRequest(std::string action, std::string version);

  const std::string& action() const { return action_; }
  const std::string& version() const { return version_; }
  // The parameters after Action and Version, unencoded.
  const std::vector<std::pair<std::string, std::string>>& params() const { return params_; }

  void Add(std::string name, std::string value);
  void AddInt(std::string name, int64_t value);
  void AddBool(std::string name, bool value);
  void AddDouble(std::string name, double value);
  void AddTimestamp(std::string name, core::WallTime value);

  // The prefix of the `index`-th (1-based) element of the list parameter `name`, e.g.
  // ItemPrefix("Filters", {"Filter"}, 2) == "Filters.Filter.2"; members of a structure element
  // are appended as ".Member".
  static std::string ItemPrefix(std::string_view name, ListStyle style, size_t index);
  // A list of strings; an empty list is sent as "name=" (the Query protocol's empty list).
  void AddStringList(std::string_view name, ListStyle style,
                     const std::vector<std::string>& values);

  // "Action=...&Version=...&k=v..." with names and values form-encoded (FormUrlEncode).
  std::string Body() const;

 private:
  std::string action_;
  std::string version_;
  std::vector<std::pair<std::string, std::string>> params_;
};

// What an AWS error code means for the caller (retry, give up, fix the request, refresh
// credentials). Wire codes are classified by botocore's lists and the RDS/CloudWatch models.
enum class AwsErrorKind {
  kNotFound,          // DBInstanceNotFound, DBClusterNotFoundFault, ... (HTTP 404)
  kInvalidState,      // InvalidDBInstanceState, InvalidDBClusterStateFault: wait, then retry
  kThrottling,        // Throttling, RequestLimitExceeded, ...: back off and retry
  kAccessDenied,      // AccessDenied, UnauthorizedOperation, SignatureDoesNotMatch, ...
  kExpiredToken,      // ExpiredToken, RequestExpired: refresh credentials (or the clock)
  kInvalidParameter,  // InvalidParameterValue/Combination, MissingParameter, ValidationError
  kTransient,         // HTTP 5xx, InternalFailure, ServiceUnavailable: retry later
  kOther,
};

// Stable lower-case name ("not_found", "throttling", ...).
std::string_view AwsErrorKindName(AwsErrorKind kind);
AwsErrorKind ClassifyAwsError(std::string_view code, int http_status);

// An error answer of a Query service:
//   <ErrorResponse><Error><Type>Sender</Type><Code/><Message/></Error><RequestId/></ErrorResponse>
// (RDS and CloudWatch alike; also the older <Response><Errors><Error>... form).
struct AwsError {
  std::string action;  // the action the request was for ("DescribeDBInstances")
  int http_status = 0;
  std::string type;        // "Sender" or "Receiver"; may be empty
  std::string code;        // the wire code ("DBInstanceNotFound"); empty when unreadable
  std::string message;     // as sent by the service (untrusted text)
  std::string request_id;  // for AWS support; may be empty
  AwsErrorKind kind = AwsErrorKind::kOther;

  // A core::Error whose code follows `kind` (kNotFound, kThrottled, kAccessDenied, ...), whose
  // message says which action failed with what, and whose hint says what to do next.
  core::Error ToError() const;
};

// Reads an error body. Never fails: a body that is not an error document (an HTML page from a
// proxy, an empty body) still gives an AwsError classified by `http_status`, whose message
// says the body could not be read.
AwsError ParseAwsError(std::string_view action, int http_status, std::string_view body);

}  // namespace dbrunbook::cloud
