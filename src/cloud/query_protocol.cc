#include "cloud/query_protocol.h"

#include <fmt/format.h>

#include <array>
#include <charconv>
#include <chrono>
#include <cmath>
#include <ctime>
#include <new>

#include "cloud/query_xml.h"
#include "core/strings.h"
#include "core/text.h"

namespace dbrunbook::cloud {
namespace {

bool IsUnreserved(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_' || c == '~';
}

// Service messages are untrusted text on their way to logs and terminals; long ones (a
// SignatureDoesNotMatch can quote the whole canonical request) are cut.
constexpr size_t kMaxMessageChars = 400;

std::string Printable(std::string_view text) {
  return core::OneLine(core::SanitizeForTerminal(text), kMaxMessageChars);
}

}  // namespace

std::string FormUrlEncode(std::string_view text) {
  static constexpr std::string_view kHex = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size());
  for (const char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if (IsUnreserved(c)) {
      out.push_back(ch);
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0x0F]);
    }
  }
  return out;
}

std::string FormatQueryDouble(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "Infinity" : "-Infinity";
  // Shortest round-trip digits in scientific form ("1.08e+01"), then laid out as Python's
  // repr does: positional when the decimal point falls within -4 < point <= 16, with ".0"
  // added to whole numbers; otherwise "d.ddde+XX".
  std::array<char, 64> buf{};
  const auto res =
      std::to_chars(buf.data(), buf.data() + buf.size(), value, std::chars_format::scientific);
  const std::string_view sci(buf.data(), res.ptr - buf.data());
  const size_t e_pos = sci.find('e');
  std::string_view mantissa = sci.substr(0, e_pos);
  std::string_view exponent_text = sci.substr(e_pos + 1);
  if (!exponent_text.empty() && exponent_text.front() == '+') exponent_text.remove_prefix(1);
  int exponent = 0;
  std::from_chars(exponent_text.data(), exponent_text.data() + exponent_text.size(), exponent);
  std::string sign;
  if (!mantissa.empty() && mantissa.front() == '-') {
    sign = "-";
    mantissa.remove_prefix(1);
  }
  std::string digits;
  for (const char c : mantissa) {
    if (c != '.') digits.push_back(c);
  }
  const int point = exponent + 1;  // value = 0.digits * 10^point
  if (point > -4 && point <= 16) {
    std::string out;
    if (point <= 0) {
      out = "0." + std::string(static_cast<size_t>(-point), '0') + digits;
    } else if (static_cast<size_t>(point) >= digits.size()) {
      out = digits + std::string(static_cast<size_t>(point) - digits.size(), '0') + ".0";
    } else {
      out = digits.substr(0, static_cast<size_t>(point)) + "." +
            digits.substr(static_cast<size_t>(point));
    }
    return sign + out;
  }
  std::string out = sign + digits.substr(0, 1);
  if (digits.size() > 1) out += "." + digits.substr(1);
  return out + fmt::format("e{}{:02}", exponent < 0 ? '-' : '+', std::abs(exponent));
}

std::string FormatIso8601(core::WallTime time) {
  using std::chrono::duration_cast;
  const auto since_epoch = duration_cast<std::chrono::microseconds>(time.time_since_epoch());
  auto secs = duration_cast<std::chrono::seconds>(since_epoch);
  auto micros = since_epoch - secs;
  if (micros.count() < 0) {  // before 1970: floor, not truncate
    secs -= std::chrono::seconds(1);
    micros += std::chrono::seconds(1);
  }
  const std::time_t tt = secs.count();
  std::tm tm{};
  gmtime_r(&tt, &tm);
  std::string out = fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}", tm.tm_year + 1900,
                                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
  if (micros.count() != 0) out += fmt::format(".{:06}", micros.count());
  return out + "Z";
}

std::optional<core::WallTime> ParseIso8601(std::string_view text) {
  text = core::Trim(text);
  size_t pos = 0;
  auto number = [&](size_t digits) -> std::optional<int> {
    if (pos + digits > text.size()) return std::nullopt;
    int value = 0;
    for (size_t i = 0; i < digits; ++i) {
      const char c = text[pos + i];
      if (c < '0' || c > '9') return std::nullopt;
      value = value * 10 + (c - '0');
    }
    pos += digits;
    return value;
  };
  auto expect = [&](char c) {
    if (pos < text.size() && text[pos] == c) {
      ++pos;
      return true;
    }
    return false;
  };
  const auto year = number(4);
  if (!year || !expect('-')) return std::nullopt;
  const auto month = number(2);
  if (!month || !expect('-')) return std::nullopt;
  const auto day = number(2);
  if (!day || !(expect('T') || expect('t') || expect(' '))) return std::nullopt;
  const auto hour = number(2);
  if (!hour || !expect(':')) return std::nullopt;
  const auto minute = number(2);
  if (!minute || !expect(':')) return std::nullopt;
  const auto second = number(2);
  if (!second) return std::nullopt;
  int64_t micros = 0;
  if (expect('.')) {
    int64_t scale = 100000;
    const size_t start = pos;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
      micros += (text[pos] - '0') * scale;
      scale /= 10;
      ++pos;
    }
    if (pos == start) return std::nullopt;
  }
  int offset_minutes = 0;
  if (expect('Z') || expect('z')) {
  } else if (pos < text.size() && (text[pos] == '+' || text[pos] == '-')) {
    const int sign = text[pos] == '-' ? -1 : 1;
    ++pos;
    const auto oh = number(2);
    if (!oh) return std::nullopt;
    expect(':');
    const auto om = number(2);
    if (!om || *oh > 23 || *om > 59) return std::nullopt;
    offset_minutes = sign * (*oh * 60 + *om);
  }
  if (pos != text.size()) return std::nullopt;
  const std::chrono::year_month_day ymd{std::chrono::year(*year),
                                        std::chrono::month(static_cast<unsigned>(*month)),
                                        std::chrono::day(static_cast<unsigned>(*day))};
  // core::WallTime counts nanoseconds in 64 bits (years 1678..2262): years outside a range it
  // holds with room to spare are refused rather than overflowed.
  if (*year < 1900 || *year > 2200) return std::nullopt;
  if (!ymd.ok() || *hour > 23 || *minute > 59 || *second > 59) return std::nullopt;
  const auto time = std::chrono::sys_days(ymd) + std::chrono::hours(*hour) +
                    std::chrono::minutes(*minute - offset_minutes) + std::chrono::seconds(*second) +
                    std::chrono::microseconds(micros);
  return std::chrono::time_point_cast<core::WallTime::duration>(time);
}

QueryRequest::QueryRequest(std::string action, std::string version)
    : action_(std::move(action)), version_(std::move(version)) {}

void QueryRequest::Add(std::string name, std::string value) {
  params_.emplace_back(std::move(name), std::move(value));
}

void QueryRequest::AddInt(std::string name, int64_t value) {
  Add(std::move(name), std::to_string(value));
}

void QueryRequest::AddBool(std::string name, bool value) {
  Add(std::move(name), value ? "true" : "false");
}

void QueryRequest::AddDouble(std::string name, double value) {
  Add(std::move(name), FormatQueryDouble(value));
}

void QueryRequest::AddTimestamp(std::string name, core::WallTime value) {
  Add(std::move(name), FormatIso8601(value));
}

std::string QueryRequest::ItemPrefix(std::string_view name, ListStyle style, size_t index) {
  if (style.flattened) return fmt::format("{}.{}", name, index);
  const std::string_view member = style.member_name.empty() ? "member" : style.member_name;
  return fmt::format("{}.{}.{}", name, member, index);
}

void QueryRequest::AddStringList(std::string_view name, ListStyle style,
                                 const std::vector<std::string>& values) {
  if (values.empty()) {
    Add(std::string(name), "");
    return;
  }
  for (size_t i = 0; i < values.size(); ++i) Add(ItemPrefix(name, style, i + 1), values[i]);
}

std::string QueryRequest::Body() const {
  std::string body = "Action=" + FormUrlEncode(action_) + "&Version=" + FormUrlEncode(version_);
  for (const auto& [name, value] : params_) {
    body += '&';
    body += FormUrlEncode(name);
    body += '=';
    body += FormUrlEncode(value);
  }
  return body;
}

std::string_view AwsErrorKindName(AwsErrorKind kind) {
  switch (kind) {
    case AwsErrorKind::kNotFound:
      return "not_found";
    case AwsErrorKind::kInvalidState:
      return "invalid_state";
    case AwsErrorKind::kThrottling:
      return "throttling";
    case AwsErrorKind::kAccessDenied:
      return "access_denied";
    case AwsErrorKind::kExpiredToken:
      return "expired_token";
    case AwsErrorKind::kInvalidParameter:
      return "invalid_parameter";
    case AwsErrorKind::kTransient:
      return "transient";
    case AwsErrorKind::kOther:
      return "other";
  }
  return "other";
}

AwsErrorKind ClassifyAwsError(std::string_view code, int http_status) {
  auto in = [&](std::initializer_list<std::string_view> codes) {
    for (const auto c : codes) {
      if (code == c) return true;
    }
    return false;
  };
  // botocore/retries/standard.py's throttling codes.
  if (in({"Throttling", "ThrottlingException", "ThrottledException", "RequestThrottledException",
          "TooManyRequestsException", "ProvisionedThroughputExceededException",
          "TransactionInProgressException", "RequestLimitExceeded", "BandwidthLimitExceeded",
          "LimitExceededException", "RequestThrottled", "SlowDown", "PriorRequestNotComplete",
          "EC2ThrottledException"})) {
    return AwsErrorKind::kThrottling;
  }
  if (in({"ExpiredToken", "ExpiredTokenException", "RequestExpired", "TokenRefreshRequired"})) {
    return AwsErrorKind::kExpiredToken;
  }
  if (in({"AccessDenied", "AccessDeniedException", "UnauthorizedOperation",
          "UnrecognizedClientException", "InvalidClientTokenId", "SignatureDoesNotMatch",
          "IncompleteSignature", "MissingAuthenticationToken", "AuthFailure", "OptInRequired",
          "NotAuthorized", "AuthorizationError"})) {
    return AwsErrorKind::kAccessDenied;
  }
  if (in({"InvalidParameterValue", "InvalidParameterCombination", "MissingParameter",
          "InvalidParameter", "ValidationError", "MalformedQueryString", "InvalidAction",
          "InvalidQueryParameter", "MissingAction", "InvalidNextToken",
          "InvalidParameterValueException", "InvalidParameterCombinationException"})) {
    return AwsErrorKind::kInvalidParameter;
  }
  // botocore's transient errors, plus the internal-error codes of the RDS/CloudWatch models.
  if (in({"RequestTimeout", "RequestTimeoutException", "InternalFailure", "InternalError",
          "InternalServiceError", "ServiceUnavailable"})) {
    return AwsErrorKind::kTransient;
  }
  // Model faults follow two naming patterns: Invalid<Thing>State[Fault] and
  // <Thing>NotFound[Fault] (errors-for-incident-actions.txt).
  if (code.starts_with("Invalid") && code.find("State") != std::string_view::npos) {
    return AwsErrorKind::kInvalidState;
  }
  if (code.ends_with("NotFound") || code.ends_with("NotFoundFault")) return AwsErrorKind::kNotFound;
  if (http_status >= 500) return AwsErrorKind::kTransient;
  switch (http_status) {
    case 404:
      return AwsErrorKind::kNotFound;
    case 403:
      return AwsErrorKind::kAccessDenied;
    case 429:
      return AwsErrorKind::kThrottling;
    default:
      return AwsErrorKind::kOther;
  }
}

core::Error AwsError::ToError() const {
  core::ErrorCode error_code = core::ErrorCode::kServerError;
  std::string hint;
  switch (kind) {
    case AwsErrorKind::kNotFound:
      error_code = core::ErrorCode::kNotFound;
      hint = "check the identifier and the AWS region configured for the target";
      break;
    case AwsErrorKind::kInvalidState:
      hint =
          "the resource is busy (modifying, rebooting, backing up or failing over): wait until "
          "its status is 'available', then retry";
      break;
    case AwsErrorKind::kThrottling:
      error_code = core::ErrorCode::kThrottled;
      hint = "AWS is rate-limiting this account: back off and retry, or poll less often";
      break;
    case AwsErrorKind::kAccessDenied:
      error_code = core::ErrorCode::kAccessDenied;
      hint = fmt::format(
          "allow {} in the IAM policy of the credentials dbrunbook uses, and check that they "
          "are the intended ones",
          action.empty() ? std::string("this action") : action);
      break;
    case AwsErrorKind::kExpiredToken:
      error_code = core::ErrorCode::kAccessDenied;
      hint =
          "the credentials or session token expired, or the local clock is more than 5 minutes "
          "off: refresh the credentials and check the clock";
      break;
    case AwsErrorKind::kInvalidParameter:
      error_code = core::ErrorCode::kInvalidArgument;
      hint = "AWS rejected the request's parameters: check the target's identifiers and settings";
      break;
    case AwsErrorKind::kTransient:
      error_code = core::ErrorCode::kUnavailable;
      hint = "AWS reported a temporary failure: retry later";
      break;
    case AwsErrorKind::kOther:
      break;
  }
  std::string message = fmt::format("AWS {} failed", action.empty() ? "request" : action);
  if (!code.empty()) message += fmt::format(": {}", Printable(code));
  if (!this->message.empty()) message += fmt::format(": {}", Printable(this->message));
  std::string details = http_status != 0 ? fmt::format("HTTP {}", http_status) : std::string();
  if (!request_id.empty()) {
    if (!details.empty()) details += ", ";
    details += "request id " + Printable(request_id);
  }
  if (!details.empty()) message += " (" + details + ")";
  return core::Error{error_code, std::move(message), std::move(hint), 0, {}};
}

AwsError ParseAwsError(std::string_view action, int http_status, std::string_view body) {
  AwsError error;
  error.action = std::string(action);
  error.http_status = http_status;
  auto unreadable = [&](std::string_view why) {
    error.message = fmt::format("unreadable error response ({})", why);
    error.kind = ClassifyAwsError("", http_status);
    return error;
  };
  auto doc = xml::Document::Parse(action, body);
  if (!doc) return unreadable("not XML");
  const pugi::xml_node root = doc->root();
  pugi::xml_node error_node;
  pugi::xml_node request_id;
  if (xml::LocalName(root) == "ErrorResponse") {
    error_node = xml::Child(root, "Error");
    request_id = xml::Child(root, "RequestId");
  } else if (xml::LocalName(root) == "Response") {  // the EC2-style envelope
    error_node = xml::Child(xml::Child(root, "Errors"), "Error");
    request_id = xml::Child(root, "RequestID");
  }
  if (!error_node)
    return unreadable(fmt::format("root element <{}>", Printable(xml::LocalName(root))));
  error.type = xml::Child(error_node, "Type").text().get();
  error.code = xml::Child(error_node, "Code").text().get();
  error.message = xml::Child(error_node, "Message").text().get();
  if (!request_id) request_id = xml::Child(error_node, "RequestId");
  error.request_id = request_id.text().get();
  error.kind = ClassifyAwsError(error.code, http_status);
  return error;
}

namespace xml {

std::string_view LocalName(pugi::xml_node node) {
  const std::string_view name = node.name();
  const size_t colon = name.find(':');
  return colon == std::string_view::npos ? name : name.substr(colon + 1);
}

pugi::xml_node Child(pugi::xml_node parent, std::string_view name) {
  for (pugi::xml_node child : parent.children()) {
    if (child.type() == pugi::node_element && LocalName(child) == name) return child;
  }
  return {};
}

core::Result<Document> Document::Parse(std::string_view action, std::string_view body) {
  auto fail = [&](std::string_view why) {
    return core::MakeError(core::ErrorCode::kParse, fmt::format("AWS {} response: {}", action, why),
                           "the endpoint did not answer with an AWS XML document; check the "
                           "endpoint URL and any proxy in between");
  };
  if (body.size() > kMaxResponseBytes) {
    return fail(fmt::format("{} bytes is over the {} byte limit", body.size(), kMaxResponseBytes));
  }
  Document document;
  try {
    document.doc_ = std::make_unique<pugi::xml_document>();
  } catch (const std::bad_alloc&) {
    return fail("out of memory");
  }
  // parse_doctype keeps a DOCTYPE as a node so that it can be refused below; entities are never
  // expanded beyond the five predefined ones and character references.
  const pugi::xml_parse_result parsed = document.doc_->load_buffer(
      body.data(), body.size(), pugi::parse_default | pugi::parse_doctype, pugi::encoding_utf8);
  if (!parsed) {
    return fail(
        fmt::format("not well-formed XML: {} at byte {}", parsed.description(), parsed.offset));
  }
  for (pugi::xml_node node : document.doc_->children()) {
    if (node.type() == pugi::node_doctype) return fail("a DOCTYPE is not accepted");
  }
  if (!document.doc_->document_element()) return fail("no root element");
  return document;
}

pugi::xml_node Document::root() const { return doc_->document_element(); }

core::Result<Response> ParseResponse(std::string_view action, std::string_view body) {
  auto document = Document::Parse(action, body);
  if (!document) return core::Fail(document.error());
  const pugi::xml_node root = document->root();
  const std::string expected = std::string(action) + "Response";
  if (LocalName(root) == "ErrorResponse")
    return core::Fail(ParseAwsError(action, 0, body).ToError());
  if (LocalName(root) != expected) {
    return core::MakeError(core::ErrorCode::kParse,
                           fmt::format("AWS {} response: the root element is <{}>, not <{}>",
                                       action, Printable(LocalName(root)), expected),
                           "the answer is for another action or service; check the endpoint");
  }
  Response response{std::move(*document), {}, {}};
  const pugi::xml_node result_root = response.document.root();
  response.result = Child(result_root, std::string(action) + "Result");
  response.request_id = Child(Child(result_root, "ResponseMetadata"), "RequestId").text().get();
  return response;
}

void FieldReader::Read(pugi::xml_node parent, std::string_view name, std::string& out) {
  if (const pugi::xml_node node = Child(parent, name)) out = node.text().get();
}

void FieldReader::Read(pugi::xml_node parent, std::string_view name,
                       std::optional<std::string>& out) {
  if (const pugi::xml_node node = Child(parent, name)) out = node.text().get();
}

void FieldReader::Read(pugi::xml_node parent, std::string_view name, bool& out) {
  if (const pugi::xml_node node = Child(parent, name)) {
    if (const auto value = Bool(node)) out = *value;
  }
}

void FieldReader::Read(pugi::xml_node parent, std::string_view name, std::optional<bool>& out) {
  if (const pugi::xml_node node = Child(parent, name)) out = Bool(node);
}

void FieldReader::Read(pugi::xml_node parent, std::string_view name, int64_t& out) {
  if (const pugi::xml_node node = Child(parent, name)) {
    if (const auto value = Int(node)) out = *value;
  }
}

void FieldReader::Read(pugi::xml_node parent, std::string_view name, std::optional<int64_t>& out) {
  if (const pugi::xml_node node = Child(parent, name)) out = Int(node);
}

void FieldReader::Read(pugi::xml_node parent, std::string_view name, std::optional<double>& out) {
  if (const pugi::xml_node node = Child(parent, name)) out = Double(node);
}

void FieldReader::Read(pugi::xml_node parent, std::string_view name,
                       std::optional<core::WallTime>& out) {
  if (const pugi::xml_node node = Child(parent, name)) out = Time(node);
}

std::optional<bool> FieldReader::Bool(pugi::xml_node node) {
  const std::string_view text = core::Trim(node.text().get());
  if (text == "true") return true;
  if (text == "false") return false;
  Fail(node, "a boolean (true/false)");
  return std::nullopt;
}

std::optional<int64_t> FieldReader::Int(pugi::xml_node node) {
  auto value = core::ParseInt64(node.text().get());
  if (!value) Fail(node, "an integer");
  return value;
}

std::optional<double> FieldReader::Double(pugi::xml_node node) {
  const std::string_view text = core::Trim(node.text().get());
  // The Query protocol's spellings of the special values (botocore's float() reads them too).
  if (text == "NaN") return std::nan("");
  if (text == "Infinity") return HUGE_VAL;
  if (text == "-Infinity") return -HUGE_VAL;
  auto value = core::ParseDouble(text);
  if (!value) Fail(node, "a number");
  return value;
}

std::optional<core::WallTime> FieldReader::Time(pugi::xml_node node) {
  auto value = ParseIso8601(node.text().get());
  if (!value) Fail(node, "an ISO-8601 timestamp");
  return value;
}

std::vector<std::string> FieldReader::Strings(pugi::xml_node parent, std::string_view list_name,
                                              std::string_view item_name) {
  std::vector<std::string> out;
  ForEach(parent, list_name, item_name,
          [&](pugi::xml_node item) { out.emplace_back(item.text().get()); });
  return out;
}

void FieldReader::Fail(pugi::xml_node node, std::string_view what) {
  if (error_) return;
  std::string path;
  for (pugi::xml_node n = node; n && n.type() == pugi::node_element; n = n.parent()) {
    path.insert(0, "/" + std::string(LocalName(n)));
  }
  if (path.empty()) path = "the document";  // a missing <{Action}Result>
  error_ = fmt::format("AWS {} response: {} is not {}: '{}'", action_, path, what,
                       Printable(node.text().get()));
}

core::Status FieldReader::Finish() const {
  if (!error_) return core::Ok();
  return core::MakeError(core::ErrorCode::kParse, *error_,
                         "the endpoint answered with a malformed document; check the endpoint "
                         "and report it if it is AWS");
}

}  // namespace xml
}  // namespace dbrunbook::cloud
