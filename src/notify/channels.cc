#include "notify/channels.h"

#include <curl/curl.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <ctime>
#include <fstream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <utility>

#include "cloud/retry.h"
#include "core/duration.h"
#include "core/strings.h"
#include "core/text.h"

namespace dbrunbook::notify {
namespace {

using Json = nlohmann::ordered_json;

// Slack Block Kit limits (characters): header text 150, section text 3000, a field 2000, at most
// 10 fields per section; a context element's text 2000 (we stay far below).
constexpr size_t kSlackHeaderMax = 150;
constexpr size_t kSlackSectionMax = 3000;
constexpr size_t kSlackFieldMax = 2000;
constexpr size_t kSlackFieldsPerSection = 10;
// PagerDuty: summary at most 1024 characters, dedup_key at most 255.
constexpr size_t kPagerDutySummaryMax = 1024;
constexpr size_t kPagerDutyDedupMax = 255;
// How much of a response body an outcome quotes.
constexpr size_t kExcerptMax = 200;

// The number of bytes of the UTF-8 sequence that starts with `lead` (1 for a stray byte).
size_t SequenceLength(unsigned char lead) {
  if (lead < 0x80) return 1;
  if ((lead >> 5) == 0x6) return 2;
  if ((lead >> 4) == 0xE) return 3;
  if ((lead >> 3) == 0x1E) return 4;
  return 1;
}

// Splits valid UTF-8 into code points (as byte ranges).
std::vector<std::string_view> CodePoints(std::string_view text) {
  std::vector<std::string_view> out;
  for (size_t i = 0; i < text.size();) {
    const size_t n = std::min(SequenceLength(static_cast<unsigned char>(text[i])), text.size() - i);
    out.push_back(text.substr(i, n));
    i += n;
  }
  return out;
}

std::string EscapeCodePoint(std::string_view cp) {
  if (cp == "&") return "&amp;";
  if (cp == "<") return "&lt;";
  if (cp == ">") return "&gt;";
  return std::string(cp);
}

// Slack-escaped text of at most `max_chars` characters (the escaped form counts, as Slack
// counts what it receives), cut between characters, never inside an entity.
std::string SlackText(std::string_view raw, size_t max_chars) {
  const std::string valid = core::ToValidUtf8(raw);
  const auto points = CodePoints(valid);
  // An entity counts as its characters; any other code point as one.
  const auto chars_of = [](std::string_view cp) {
    const std::string e = EscapeCodePoint(cp);
    return e == cp ? size_t{1} : e.size();
  };
  size_t total = 0;
  for (auto cp : points) total += chars_of(cp);
  std::string out;
  if (total <= max_chars) {
    for (auto cp : points) out += EscapeCodePoint(cp);
    return out;
  }
  size_t used = 0;
  for (auto cp : points) {
    const size_t chars = chars_of(cp);
    if (used + chars + 1 > max_chars) break;
    out += EscapeCodePoint(cp);
    used += chars;
  }
  return out + "…";
}

std::string Rfc5322Date(core::WallTime t) {
  static constexpr std::array<const char*, 7> kDays = {"Sun", "Mon", "Tue", "Wed",
                                                       "Thu", "Fri", "Sat"};
  static constexpr std::array<const char*, 12> kMonths = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                          "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  const std::time_t secs = std::chrono::system_clock::to_time_t(t);
  std::tm utc{};
  gmtime_r(&secs, &utc);
  return fmt::format("{}, {:02} {} {:04} {:02}:{:02}:{:02} +0000",
                     kDays.at(static_cast<size_t>(utc.tm_wday)), utc.tm_mday,
                     kMonths.at(static_cast<size_t>(utc.tm_mon)), utc.tm_year + 1900, utc.tm_hour,
                     utc.tm_min, utc.tm_sec);
}

std::string Base64(std::string_view data) {
  std::string out(4 * ((data.size() + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(data.data()),
                                static_cast<int>(data.size()));
  out.resize(static_cast<size_t>(std::max(n, 0)));
  return out;
}

std::string Hex(const unsigned char* data, size_t size) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(size * 2);
  for (size_t i = 0; i < size; ++i) {
    out += kDigits[data[i] >> 4];
    out += kDigits[data[i] & 0xF];
  }
  return out;
}

std::string Sha256HexOf(std::string_view data) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int size = 0;
  EVP_Digest(data.data(), data.size(), digest.data(), &size, EVP_sha256(), nullptr);
  return Hex(digest.data(), size);
}

std::string Redact(std::string text, const std::vector<std::string>& secrets) {
  for (const std::string& secret : secrets) {
    if (secret.empty()) continue;
    for (size_t at = text.find(secret); at != std::string::npos; at = text.find(secret, at + 3)) {
      text.replace(at, secret.size(), "***");
    }
  }
  return text;
}

std::string Excerpt(std::string_view body, const std::vector<std::string>& secrets) {
  const std::string redacted = Redact(std::string(body.substr(0, 4096)), secrets);
  return core::SanitizeForTerminal(core::OneLine(redacted, kExcerptMax));
}

Json FieldsJson(const Message& message) {
  Json fields = Json::array();
  for (const auto& [label, value] : message.fields) {
    fields.push_back(
        Json{{"label", core::ToValidUtf8(label)}, {"value", core::ToValidUtf8(value)}});
  }
  return fields;
}

}  // namespace

// ---------------------------------------------------------------------------------------
// Names
// ---------------------------------------------------------------------------------------

std::string_view ChannelTypeName(ChannelType type) {
  switch (type) {
    case ChannelType::kSlack:
      return "slack";
    case ChannelType::kPagerDuty:
      return "pagerduty";
    case ChannelType::kTeams:
      return "teams";
    case ChannelType::kWebhook:
      return "webhook";
    case ChannelType::kEmail:
      return "email";
    case ChannelType::kStdout:
      return "stdout";
    case ChannelType::kFile:
      return "file";
  }
  return "stdout";
}

std::optional<ChannelType> ParseChannelType(std::string_view name) {
  for (ChannelType t :
       {ChannelType::kSlack, ChannelType::kPagerDuty, ChannelType::kTeams, ChannelType::kWebhook,
        ChannelType::kEmail, ChannelType::kStdout, ChannelType::kFile}) {
    if (ChannelTypeName(t) == name) return t;
  }
  return std::nullopt;
}

std::optional<MessageKind> ParseMessageKind(std::string_view name) {
  for (MessageKind k : {MessageKind::kAlert, MessageKind::kUpdate, MessageKind::kEscalation,
                        MessageKind::kAcknowledged, MessageKind::kResolution, MessageKind::kTest}) {
    if (MessageKindName(k) == name) return k;
  }
  return std::nullopt;
}

std::string_view SeverityName(Severity severity) {
  switch (severity) {
    case Severity::kInfo:
      return "info";
    case Severity::kWarning:
      return "warning";
    case Severity::kCritical:
      return "critical";
  }
  return "warning";
}

std::optional<Severity> ParseSeverity(std::string_view name) {
  for (Severity s : {Severity::kInfo, Severity::kWarning, Severity::kCritical}) {
    if (SeverityName(s) == name) return s;
  }
  return std::nullopt;
}

std::string_view DeliveryStateName(DeliveryState state) {
  switch (state) {
    case DeliveryState::kDelivered:
      return "delivered";
    case DeliveryState::kRetry:
      return "retry";
    case DeliveryState::kFailed:
      return "failed";
  }
  return "failed";
}

// ---------------------------------------------------------------------------------------
// Specs
// ---------------------------------------------------------------------------------------

std::string ChannelSpec::Destination() const {
  if (url_is_secret && (type == ChannelType::kWebhook || type == ChannelType::kPagerDuty)) {
    return cloud::RedactedOrigin(url.Reveal()) + "/***";
  }
  switch (type) {
    case ChannelType::kSlack:
    case ChannelType::kTeams:
      // The whole path is the secret.
      return cloud::RedactedOrigin(url.Reveal()) + "/***";
    case ChannelType::kWebhook:
    case ChannelType::kPagerDuty: {
      // The path is shown, the query (where tokens live) is not.
      const std::string& u = url.Reveal();
      const auto scheme_end = u.find("://");
      std::string path;
      if (scheme_end != std::string::npos) {
        const auto slash = u.find('/', scheme_end + 3);
        if (slash != std::string::npos)
          path = u.substr(slash, u.find_first_of("?#", slash) - slash);
        if (u.find('?') != std::string::npos) path += "?***";
      }
      return cloud::RedactedOrigin(u) + path;
    }
    case ChannelType::kEmail:
      return fmt::format("{} -> {}", smtp_url, fmt::join(to, ", "));
    case ChannelType::kStdout:
      return "standard output";
    case ChannelType::kFile:
      return path;
  }
  return {};
}

std::vector<std::string> ChannelSpec::Secrets() const {
  std::vector<std::string> out;
  for (const core::Secret* s : {&url, &routing_key, &hmac_secret, &username, &password}) {
    if (!s->empty()) out.push_back(s->Reveal());
  }
  // A URL's path alone (what a server might echo back) is a secret for Slack and Teams.
  if ((url_is_secret || type == ChannelType::kSlack || type == ChannelType::kTeams) &&
      !url.empty()) {
    const std::string& u = url.Reveal();
    const auto scheme_end = u.find("://");
    if (scheme_end != std::string::npos) {
      const auto slash = u.find('/', scheme_end + 3);
      if (slash != std::string::npos && u.size() - slash > 1) out.push_back(u.substr(slash));
    }
  }
  return out;
}

core::Result<ChannelSpec> ResolveChannel(const config::NotifyChannelConfig& config,
                                         const core::Environment& env) {
  ChannelSpec spec;
  spec.name = config.name;
  spec.where = config.where;
  const auto type = ParseChannelType(config.type);
  if (!type) {
    return core::MakeError(
        core::ErrorCode::kInvalidConfig,
        fmt::format("channel '{}': unknown type '{}'", config.name, config.type));
  }
  spec.type = *type;
  std::vector<std::string> problems;
  const auto read = [&](const std::string& variable, std::string_view key) -> core::Secret {
    if (variable.empty()) return {};
    auto value = env.Get(variable);
    if (!value || value->empty()) {
      problems.push_back(fmt::format("environment variable {} ({}) is {}", variable, key,
                                     value ? "empty" : "not set"));
      return {};
    }
    return core::Secret(std::move(*value));
  };
  spec.url = config.url_env.empty() ? core::Secret(config.url) : read(config.url_env, "url_env");
  spec.url_is_secret = !config.url_env.empty();
  if (spec.type == ChannelType::kPagerDuty && spec.url.empty()) {
    spec.url = core::Secret(std::string(kPagerDutyEventsUrl));
  }
  spec.routing_key = read(config.routing_key_env, "routing_key_env");
  spec.hmac_secret = read(config.hmac_secret_env, "hmac_secret_env");
  spec.username = read(config.username_env, "username_env");
  spec.password = read(config.password_env, "password_env");
  if (!config.url_env.empty() && !spec.url.empty()) {
    const std::string lower = core::ToLower(spec.url.Reveal());
    if (!lower.starts_with("http://") && !lower.starts_with("https://")) {
      problems.push_back(
          fmt::format("environment variable {} (url_env) does not hold an http:// "
                      "or https:// URL",
                      config.url_env));
    }
  }
  spec.smtp_url = config.smtp_url;
  spec.starttls_required = config.starttls != "opportunistic";
  spec.from = config.from;
  spec.to = config.to;
  spec.path = config.path;
  spec.ca_file = config.ca_file;
  if (config.timeout) spec.timeout = *config.timeout;
  if (!problems.empty()) {
    return core::MakeError(
        core::ErrorCode::kInvalidConfig,
        fmt::format("channel '{}': {}", config.name, fmt::join(problems, "; ")),
        "export the variable in the environment dbrunbook runs in, or change the channel's "
        "*_env key");
  }
  return spec;
}

// ---------------------------------------------------------------------------------------
// Payloads
// ---------------------------------------------------------------------------------------

std::string SlackEscape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    if (c == '&') {
      out += "&amp;";
    } else if (c == '<') {
      out += "&lt;";
    } else if (c == '>') {
      out += "&gt;";
    } else {
      out += c;
    }
  }
  return out;
}

std::string CutChars(std::string_view text, size_t max_chars) {
  std::string valid = core::ToValidUtf8(text);
  const auto points = CodePoints(valid);
  if (points.size() <= max_chars) return valid;
  std::string out;
  for (size_t i = 0; i + 1 < max_chars && i < points.size(); ++i) out += points[i];
  return out + "…";
}

std::string SlackPayload(const Message& message) {
  Json blocks = Json::array();
  blocks.push_back(Json{{"type", "header"},
                        {"text",
                         {{"type", "plain_text"},
                          {"text", CutChars(message.title, kSlackHeaderMax)},
                          {"emoji", true}}}});
  if (!message.text.empty()) {
    blocks.push_back(
        Json{{"type", "section"},
             {"text", {{"type", "mrkdwn"}, {"text", SlackText(message.text, kSlackSectionMax)}}}});
  }
  for (size_t start = 0; start < message.fields.size(); start += kSlackFieldsPerSection) {
    Json fields = Json::array();
    for (size_t i = start; i < std::min(message.fields.size(), start + kSlackFieldsPerSection);
         ++i) {
      const auto& [label, value] = message.fields[i];
      // "*Label*\nvalue": the label bold, both escaped (a label with * would still be bold text).
      const std::string label_text = SlackText(label, 200);
      fields.push_back(
          Json{{"type", "mrkdwn"},
               {"text", fmt::format("*{}*\n{}", label_text,
                                    SlackText(value, kSlackFieldMax - label_text.size() - 3))}});
    }
    blocks.push_back(Json{{"type", "section"}, {"fields", fields}});
  }
  std::string context = "dbrunbook";
  if (!message.incident_id.empty()) context += fmt::format(" · incident {}", message.incident_id);
  if (!message.target.empty()) context += fmt::format(" · {}", message.target);
  context +=
      fmt::format(" · {} · {}", SeverityName(message.severity), MessageKindName(message.kind));
  blocks.push_back(Json{
      {"type", "context"},
      {"elements", Json::array({Json{{"type", "mrkdwn"}, {"text", SlackText(context, 2000)}}})}});
  std::string fallback = message.title;
  if (!message.text.empty()) fallback += "\n" + message.text;
  const Json payload{{"text", SlackText(fallback, 4000)}, {"blocks", blocks}};
  return payload.dump(-1, ' ', false, Json::error_handler_t::replace);
}

std::string_view PagerDutyAction(MessageKind kind) {
  switch (kind) {
    case MessageKind::kAcknowledged:
      return "acknowledge";
    case MessageKind::kResolution:
      return "resolve";
    default:
      return "trigger";
  }
}

std::string PagerDutyPayload(const Message& message, std::string_view routing_key,
                             core::WallTime created) {
  const std::string dedup =
      CutChars(message.dedup_key.empty() ? message.key : message.dedup_key, kPagerDutyDedupMax);
  const std::string_view action = PagerDutyAction(message.kind);
  Json event{{"routing_key", std::string(routing_key)},
             {"event_action", std::string(action)},
             {"dedup_key", dedup}};
  if (action == "trigger") {
    Json details = Json::object();
    for (const auto& [label, value] : message.fields) {
      details[core::ToValidUtf8(label)] = core::ToValidUtf8(value);
    }
    if (!message.incident_id.empty()) details["incident_id"] = message.incident_id;
    details["kind"] = std::string(MessageKindName(message.kind));
    if (!message.text.empty()) details["text"] = core::ToValidUtf8(message.text);
    event["payload"] =
        Json{{"summary",
              CutChars(message.title.empty() ? message.text : message.title, kPagerDutySummaryMax)},
             {"source", message.target.empty() ? std::string("dbrunbook") : message.target},
             {"severity", std::string(SeverityName(message.severity))},
             {"timestamp", core::FormatRfc3339(created)},
             {"component", "database"},
             {"custom_details", details}};
  }
  return event.dump(-1, ' ', false, Json::error_handler_t::replace);
}

std::string TeamsPayload(const Message& message) {
  Json body = Json::array();
  Json title{{"type", "TextBlock"},
             {"text", core::ToValidUtf8(message.title)},
             {"weight", "Bolder"},
             {"size", "Medium"},
             {"wrap", true}};
  if (message.severity == Severity::kCritical) title["color"] = "Attention";
  if (message.severity == Severity::kWarning) title["color"] = "Warning";
  body.push_back(title);
  if (!message.text.empty()) {
    body.push_back(
        Json{{"type", "TextBlock"}, {"text", core::ToValidUtf8(message.text)}, {"wrap", true}});
  }
  if (!message.fields.empty()) {
    Json facts = Json::array();
    for (const auto& [label, value] : message.fields) {
      facts.push_back(
          Json{{"title", core::ToValidUtf8(label)}, {"value", core::ToValidUtf8(value)}});
    }
    body.push_back(Json{{"type", "FactSet"}, {"facts", facts}});
  }
  const Json card{{"$schema", "http://adaptivecards.io/schemas/adaptive-card.json"},
                  {"type", "AdaptiveCard"},
                  {"version", "1.4"},
                  {"body", body},
                  {"msteams", {{"width", "Full"}}}};
  const Json payload{
      {"type", "message"},
      {"attachments", Json::array({Json{{"contentType", "application/vnd.microsoft.card.adaptive"},
                                        {"contentUrl", nullptr},
                                        {"content", card}}})}};
  return payload.dump(-1, ' ', false, Json::error_handler_t::replace);
}

std::string WebhookPayload(const Message& message, std::string_view channel,
                           core::WallTime created) {
  const Json payload{{"schema", std::string(kWebhookSchema)},
                     {"version", kWebhookSchemaVersion},
                     {"id", message.key},
                     {"kind", std::string(MessageKindName(message.kind))},
                     {"severity", std::string(SeverityName(message.severity))},
                     {"incident_id", message.incident_id},
                     {"target", message.target},
                     {"dedup_key", message.dedup_key},
                     {"title", core::ToValidUtf8(message.title)},
                     {"text", core::ToValidUtf8(message.text)},
                     {"fields", FieldsJson(message)},
                     {"channel", std::string(channel)},
                     {"created_at", core::FormatRfc3339(created)}};
  return payload.dump(-1, ' ', false, Json::error_handler_t::replace);
}

std::string WebhookSignature(std::string_view secret, std::string_view timestamp,
                             std::string_view body) {
  std::string signed_content;
  signed_content.reserve(timestamp.size() + 1 + body.size());
  signed_content.append(timestamp).append(".").append(body);
  std::array<unsigned char, EVP_MAX_MD_SIZE> mac{};
  unsigned int size = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(signed_content.data()), signed_content.size(),
       mac.data(), &size);
  return "sha256=" + Hex(mac.data(), size);
}

std::string EncodeHeaderWord(std::string_view text) {
  std::string valid = core::ToValidUtf8(text);
  const bool plain = valid.size() <= 900 && std::all_of(valid.begin(), valid.end(), [](char c) {
                       const auto u = static_cast<unsigned char>(c);
                       return u >= 0x20 && u < 0x7F;
                     });
  if (plain) return valid;
  // Encoded words of at most 75 characters: "=?UTF-8?B?" + base64 + "?=" leaves 63 for base64,
  // i.e. 45 bytes, cut between characters (RFC 2047 section 5: no split multi-byte characters).
  constexpr size_t kMaxBytes = 45;
  std::vector<std::string> words;
  std::string chunk;
  for (std::string_view cp : CodePoints(valid)) {
    // Control characters (a line break would end the header) become spaces.
    const std::string c =
        (cp.size() == 1 && (static_cast<unsigned char>(cp[0]) < 0x20 || cp[0] == 0x7F))
            ? std::string(" ")
            : std::string(cp);
    if (chunk.size() + c.size() > kMaxBytes) {
      words.push_back("=?UTF-8?B?" + Base64(chunk) + "?=");
      chunk.clear();
    }
    chunk += c;
  }
  if (!chunk.empty()) words.push_back("=?UTF-8?B?" + Base64(chunk) + "?=");
  return fmt::format("{}", fmt::join(words, "\r\n "));
}

std::string EmailMessage(const Message& message, const std::string& from,
                         const std::vector<std::string>& to, core::WallTime created,
                         std::string_view message_id_seed) {
  const auto at = from.find('@');
  const std::string domain = at == std::string::npos ? "dbrunbook.invalid" : from.substr(at + 1);
  const std::string id = Sha256HexOf(message_id_seed).substr(0, 32);
  std::string body = core::ToValidUtf8(message.text.empty() ? message.title : message.text);
  // CRLF line ends in the encoded body, as RFC 5322 text has them.
  std::string crlf;
  for (size_t i = 0; i < body.size(); ++i) {
    if (body[i] == '\n' && (i == 0 || body[i - 1] != '\r')) crlf += '\r';
    crlf += body[i];
  }
  const std::string encoded = Base64(crlf);
  std::string out;
  out += "Date: " + Rfc5322Date(created) + "\r\n";
  out += "From: " + from + "\r\n";
  out += fmt::format("To: {}\r\n", fmt::join(to, ", "));
  out += "Subject: " + EncodeHeaderWord(message.title) + "\r\n";
  out += fmt::format(
      "Message-ID: <{}.{}@{}>\r\n", id,
      std::chrono::duration_cast<std::chrono::seconds>(created.time_since_epoch()).count(), domain);
  out += "MIME-Version: 1.0\r\n";
  out += "Content-Type: text/plain; charset=utf-8\r\n";
  out += "Content-Transfer-Encoding: base64\r\n";
  if (!message.incident_id.empty()) {
    out += "X-Dbrunbook-Incident: " + core::SanitizeForTerminal(message.incident_id) + "\r\n";
  }
  out += fmt::format("X-Dbrunbook-Kind: {}\r\n", MessageKindName(message.kind));
  out += "\r\n";
  for (size_t i = 0; i < encoded.size(); i += 76) out += encoded.substr(i, 76) + "\r\n";
  return out;
}

// ---------------------------------------------------------------------------------------
// Classification
// ---------------------------------------------------------------------------------------

DeliveryOutcome ClassifyHttp(const core::Result<cloud::HttpResponse>& result, core::WallTime now,
                             const std::vector<std::string>& secrets) {
  DeliveryOutcome out;
  if (!result) {
    const core::Error& e = result.error();
    out.detail = Redact(e.message, secrets);
    // A malformed URL will not get better; every other transport failure may (a receiver that
    // is down, a network that is partitioned, a certificate being replaced).
    out.state = e.code == core::ErrorCode::kInvalidArgument ? DeliveryState::kFailed
                                                            : DeliveryState::kRetry;
    return out;
  }
  const cloud::HttpResponse& r = *result;
  out.status = r.status;
  const std::string excerpt = Excerpt(r.body, secrets);
  out.detail = excerpt.empty() ? fmt::format("HTTP {}", r.status)
                               : fmt::format("HTTP {}: {}", r.status, excerpt);
  if (r.status >= 200 && r.status < 300) {
    out.state = DeliveryState::kDelivered;
    return out;
  }
  if (r.status == 429 || r.status == 408 || r.status >= 500) {
    out.state = DeliveryState::kRetry;
    if (auto header = r.Header("Retry-After")) {
      out.retry_after = cloud::ParseRetryAfter(*header, now);
    }
    return out;
  }
  // 1xx that ended the exchange, 3xx (redirects are not followed: a moved webhook is a
  // configuration to fix) and the other 4xx: sending the same request again cannot help.
  out.state = DeliveryState::kFailed;
  return out;
}

namespace {

// ---------------------------------------------------------------------------------------
// Senders
// ---------------------------------------------------------------------------------------

class HttpChannel final : public Channel {
 public:
  HttpChannel(ChannelSpec spec, std::shared_ptr<cloud::HttpTransport> transport, core::Clock& clock)
      : spec_(std::move(spec)),
        transport_(std::move(transport)),
        clock_(clock),
        secrets_(spec_.Secrets()) {}

  const ChannelSpec& spec() const override { return spec_; }

  DeliveryOutcome Send(const Message& message, core::WallTime created) override {
    cloud::HttpRequest request;
    request.method = "POST";
    request.url = spec_.url.Reveal();
    request.timeout = spec_.timeout;
    request.connect_timeout = std::min<core::Duration>(spec_.timeout, std::chrono::seconds(5));
    request.headers.emplace_back("Content-Type", "application/json");
    switch (spec_.type) {
      case ChannelType::kSlack:
        request.body = SlackPayload(message);
        break;
      case ChannelType::kPagerDuty:
        request.body = PagerDutyPayload(message, spec_.routing_key.Reveal(), created);
        break;
      case ChannelType::kTeams:
        request.body = TeamsPayload(message);
        break;
      default:
        request.body = WebhookPayload(message, spec_.name, created);
        // A receiver that keeps the ids it has seen drops a repeated delivery.
        request.headers.emplace_back("X-Dbrunbook-Delivery", message.key);
        break;
    }
    if (!spec_.hmac_secret.empty()) {
      const std::string timestamp = std::to_string(
          std::chrono::duration_cast<std::chrono::seconds>(clock_.WallNow().time_since_epoch())
              .count());
      request.headers.emplace_back("X-Dbrunbook-Timestamp", timestamp);
      request.headers.emplace_back(
          "X-Dbrunbook-Signature",
          WebhookSignature(spec_.hmac_secret.Reveal(), timestamp, request.body));
    }
    return ClassifyHttp(transport_->Send(request), clock_.WallNow(), secrets_);
  }

 private:
  ChannelSpec spec_;
  std::shared_ptr<cloud::HttpTransport> transport_;
  core::Clock& clock_;
  std::vector<std::string> secrets_;
};

// stdout and file: one JSON line per message.
class LineChannel final : public Channel {
 public:
  LineChannel(ChannelSpec spec, std::ostream& out) : spec_(std::move(spec)), out_(out) {}
  const ChannelSpec& spec() const override { return spec_; }

  DeliveryOutcome Send(const Message& message, core::WallTime created) override {
    const std::string line = WebhookPayload(message, spec_.name, created) + "\n";
    DeliveryOutcome outcome;
    if (spec_.type == ChannelType::kStdout) {
      out_ << line << std::flush;
      outcome.state = out_ ? DeliveryState::kDelivered : DeliveryState::kRetry;
      outcome.detail = out_ ? "written" : "standard output cannot be written";
      return outcome;
    }
    // Opened for each line (O_APPEND: whole lines, even with another writer), created 0600.
    const int fd = open(spec_.path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (fd < 0) {
      outcome.state = DeliveryState::kRetry;
      outcome.detail = fmt::format("cannot open {}: {}", spec_.path,
                                   std::strerror(errno));  // NOLINT(concurrency-mt-unsafe)
      return outcome;
    }
    const ssize_t written = write(fd, line.data(), line.size());
    const int err = errno;
    close(fd);
    if (written != static_cast<ssize_t>(line.size())) {
      outcome.state = DeliveryState::kRetry;
      outcome.detail = fmt::format("cannot write {}: {}", spec_.path,
                                   std::strerror(err));  // NOLINT(concurrency-mt-unsafe)
      return outcome;
    }
    outcome.state = DeliveryState::kDelivered;
    outcome.detail = "written";
    return outcome;
  }

 private:
  ChannelSpec spec_;
  std::ostream& out_;
};

struct CurlEasyDeleter {
  void operator()(CURL* easy) const { curl_easy_cleanup(easy); }
};
struct CurlSlistDeleter {
  void operator()(curl_slist* list) const { curl_slist_free_all(list); }
};

struct MailSource {
  std::string_view data;
  size_t offset = 0;
};

size_t ReadMail(char* buffer, size_t size, size_t count, void* user) {
  auto* source = static_cast<MailSource*>(user);
  const size_t n = std::min(size * count, source->data.size() - source->offset);
  std::memcpy(buffer, source->data.data() + source->offset, n);
  source->offset += n;
  return n;
}

// E-mail over SMTP with libcurl: STARTTLS required (default) or opportunistic on smtp://,
// implicit TLS on smtps://; the certificate and host name are always verified.
class EmailChannel final : public Channel {
 public:
  explicit EmailChannel(ChannelSpec spec) : spec_(std::move(spec)), secrets_(spec_.Secrets()) {}
  const ChannelSpec& spec() const override { return spec_; }

  DeliveryOutcome Send(const Message& message, core::WallTime created) override {
    DeliveryOutcome out;
    static const CURLcode kInit = curl_global_init(CURL_GLOBAL_DEFAULT);
    std::unique_ptr<CURL, CurlEasyDeleter> easy(kInit == CURLE_OK ? curl_easy_init() : nullptr);
    if (!easy) {
      out.state = DeliveryState::kRetry;
      out.detail = "libcurl could not create a handle";
      return out;
    }
    const std::string mail =
        EmailMessage(message, spec_.from, spec_.to, created, message.key + "\n" + spec_.name);
    MailSource source{mail, 0};
    curl_slist* raw = nullptr;
    for (const std::string& to : spec_.to) {
      curl_slist* next = curl_slist_append(raw, ("<" + to + ">").c_str());
      if (next == nullptr) break;
      raw = next;
    }
    std::unique_ptr<curl_slist, CurlSlistDeleter> recipients(raw);
    const std::string mail_from = "<" + spec_.from + ">";
    char errbuf[CURL_ERROR_SIZE] = {};
    CURL* h = easy.get();
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(h, CURLOPT_URL, spec_.smtp_url.c_str());
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_USE_SSL,
                     static_cast<long>(spec_.starttls_required ? CURLUSESSL_ALL : CURLUSESSL_TRY));
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
    if (!spec_.ca_file.empty()) curl_easy_setopt(h, CURLOPT_CAINFO, spec_.ca_file.c_str());
    if (!spec_.username.empty()) {
      curl_easy_setopt(h, CURLOPT_USERNAME, spec_.username.Reveal().c_str());
      curl_easy_setopt(h, CURLOPT_PASSWORD, spec_.password.Reveal().c_str());
    }
    curl_easy_setopt(h, CURLOPT_MAIL_FROM, mail_from.c_str());
    curl_easy_setopt(h, CURLOPT_MAIL_RCPT, recipients.get());
    curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(h, CURLOPT_READFUNCTION, &ReadMail);
    curl_easy_setopt(h, CURLOPT_READDATA, &source);
    curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(mail.size()));
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(spec_.timeout).count();
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, static_cast<long>(ms));
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(std::min<int64_t>(ms, 5000)));
    const CURLcode code = curl_easy_perform(h);
    long reply = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &reply);
    out.status = static_cast<int>(reply);
    const std::string origin = cloud::RedactedOrigin(spec_.smtp_url);
    if (code == CURLE_OK) {
      out.state = DeliveryState::kDelivered;
      out.detail = fmt::format("accepted by {} (SMTP {})", origin, reply);
      return out;
    }
    const std::string why = Redact(errbuf[0] != '\0' ? errbuf : curl_easy_strerror(code), secrets_);
    out.detail = fmt::format("SMTP to {}: {}{}", origin, core::OneLine(why, 200),
                             reply != 0 ? fmt::format(" (reply {})", reply) : "");
    switch (code) {
      case CURLE_LOGIN_DENIED:
      case CURLE_USE_SSL_FAILED:  // STARTTLS required, not offered: the server will not change
      case CURLE_URL_MALFORMAT:
      case CURLE_UNSUPPORTED_PROTOCOL:
      case CURLE_REMOTE_ACCESS_DENIED:
        out.state = DeliveryState::kFailed;
        return out;
      default:
        break;
    }
    // RFC 5321: 5yz replies are permanent, 4yz transient.
    out.state = reply >= 500 && reply < 600 ? DeliveryState::kFailed : DeliveryState::kRetry;
    return out;
  }

 private:
  ChannelSpec spec_;
  std::vector<std::string> secrets_;
};

}  // namespace

core::Result<std::unique_ptr<Channel>> MakeChannel(ChannelSpec spec, const ChannelDeps& deps) {
  switch (spec.type) {
    case ChannelType::kSlack:
    case ChannelType::kPagerDuty:
    case ChannelType::kTeams:
    case ChannelType::kWebhook: {
      std::shared_ptr<cloud::HttpTransport> transport = deps.transport;
      if (!transport) {
        cloud::CurlTransportOptions options;
        options.ca_file = spec.ca_file;
        options.timeout = spec.timeout;
        options.user_agent = "dbrunbook-notify";
        options.max_response_bytes = size_t{1} << 20;
        auto made = cloud::CurlTransport::Create(options);
        if (!made) {
          return core::Fail(made.error().WithContext(fmt::format("channel '{}'", spec.name)));
        }
        transport = std::move(*made);
      }
      return std::unique_ptr<Channel>(
          std::make_unique<HttpChannel>(std::move(spec), std::move(transport), deps.clock));
    }
    case ChannelType::kEmail:
      if (!spec.ca_file.empty() && !std::ifstream(spec.ca_file).good()) {
        return core::MakeError(
            core::ErrorCode::kInvalidConfig,
            fmt::format("channel '{}': cannot read the CA file {}", spec.name, spec.ca_file),
            "point ca_file at a readable PEM file");
      }
      return std::unique_ptr<Channel>(std::make_unique<EmailChannel>(std::move(spec)));
    case ChannelType::kStdout:
    case ChannelType::kFile:
      return std::unique_ptr<Channel>(std::make_unique<LineChannel>(std::move(spec), deps.out));
  }
  return core::MakeError(core::ErrorCode::kInternal, "unknown channel type");
}

core::Result<std::vector<std::unique_ptr<Channel>>> MakeChannels(
    const config::NotifySettings& settings, const core::Environment& env, const ChannelDeps& deps) {
  std::vector<std::unique_ptr<Channel>> out;
  std::vector<std::string> problems;
  std::string hint;
  for (const auto& config : settings.channels) {
    auto spec = ResolveChannel(config, env);
    if (!spec) {
      problems.push_back(spec.error().message);
      hint = spec.error().hint;
      continue;
    }
    auto channel = MakeChannel(std::move(*spec), deps);
    if (!channel) {
      problems.push_back(channel.error().message);
      hint = channel.error().hint;
      continue;
    }
    out.push_back(std::move(*channel));
  }
  if (!problems.empty()) {
    return core::MakeError(core::ErrorCode::kInvalidConfig,
                           fmt::format("{}", fmt::join(problems, "\n")), hint);
  }
  return out;
}

}  // namespace dbrunbook::notify
