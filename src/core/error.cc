#include "core/error.h"

namespace dbrunbook::core {

std::string_view ErrorCodeName(ErrorCode code) {
  switch (code) {
    case ErrorCode::kInvalidArgument:
      return "invalid_argument";
    case ErrorCode::kInvalidConfig:
      return "invalid_config";
    case ErrorCode::kNotFound:
      return "not_found";
    case ErrorCode::kUnavailable:
      return "unavailable";
    case ErrorCode::kDnsFailure:
      return "dns_failure";
    case ErrorCode::kTimeout:
      return "timeout";
    case ErrorCode::kAccessDenied:
      return "access_denied";
    case ErrorCode::kPrivilege:
      return "privilege";
    case ErrorCode::kTlsError:
      return "tls_error";
    case ErrorCode::kSyntax:
      return "syntax";
    case ErrorCode::kLockWaitTimeout:
      return "lock_wait_timeout";
    case ErrorCode::kThrottled:
      return "throttled";
    case ErrorCode::kUnsupported:
      return "unsupported";
    case ErrorCode::kServerError:
      return "server_error";
    case ErrorCode::kIo:
      return "io";
    case ErrorCode::kParse:
      return "parse";
    case ErrorCode::kInternal:
      return "internal";
  }
  return "internal";
}

std::string Error::ToString() const {
  if (hint.empty()) return message;
  return message + " — " + hint;
}

Error Error::WithContext(std::string_view context) const {
  Error copy = *this;
  copy.message = std::string(context) + ": " + message;
  return copy;
}

}  // namespace dbrunbook::core
