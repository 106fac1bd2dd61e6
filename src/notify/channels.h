// The notification channels (issue 8): what each kind of receiver is sent, and the senders
// that send it once and say what happened.
//
// Payload builders are pure functions of a Message (and the time it was written), tested
// against exact JSON:
//   Slack        incoming webhook: {text, blocks: [header, section, section(fields), context]},
//                mrkdwn text with Slack's escaping of &, < and >
//   PagerDuty    Events API v2: trigger / acknowledge / resolve on the incident's dedup_key
//   Teams        a workflow ("When a Teams webhook request is received") webhook: an Adaptive
//                Card in the {type: message, attachments: [...]} envelope (the legacy
//                MessageCard of Office 365 connectors is not supported by workflows)
//   webhook      the Message as versioned JSON (schema dbrunbook.notification, version 1),
//                optionally signed: X-Dbrunbook-Signature: sha256=HEX(HMAC-SHA256(secret,
//                TIMESTAMP + "." + BODY)) with X-Dbrunbook-Timestamp: TIMESTAMP (Unix seconds)
//   email        RFC 5322 text/plain UTF-8 (base64 body), RFC 2047 encoded Subject
//   stdout/file  the webhook JSON on one line per message
//
// Senders (Channel) deliver one message once and classify the result (DeliveryOutcome):
// delivered (2xx; SMTP accepted), retry (5xx, 408, 429, timeouts, refused or broken
// connections, DNS; SMTP 4xx), failed (other 4xx, 3xx, a bad URL; SMTP 5xx, login refused,
// STARTTLS required but not offered). Retries are the dispatcher's business, not the
// channel's. An outcome's detail never holds a secret: no URL path or query (the Slack and
// Teams URLs are secrets), no routing key, no HMAC secret, no password; a response body excerpt
// is cut short and has every secret of the channel replaced by "***".
//
// Thread-safety: payload builders are pure. A Channel's Send may be called from one thread at a
// time (the dispatcher gives each channel its own worker).
#pragma once

#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "cloud/http.h"
#include "config/config.h"
#include "core/clock.h"
#include "core/environment.h"
#include "core/error.h"
#include "core/secret.h"
#include "notify/message.h"

namespace dbrunbook::notify {

enum class ChannelType { kSlack, kPagerDuty, kTeams, kWebhook, kEmail, kStdout, kFile };
std::string_view ChannelTypeName(ChannelType type);  // "slack", ...
std::optional<ChannelType> ParseChannelType(std::string_view name);

std::optional<MessageKind> ParseMessageKind(std::string_view name);
std::string_view SeverityName(Severity severity);  // info, warning, critical
std::optional<Severity> ParseSeverity(std::string_view name);

// PagerDuty's default Events API v2 endpoint.
inline constexpr std::string_view kPagerDutyEventsUrl = "https://events.pagerduty.com/v2/enqueue";
// The webhook schema's name and version (the JSON's "schema" and "version").
inline constexpr std::string_view kWebhookSchema = "dbrunbook.notification";
inline constexpr int kWebhookSchemaVersion = 1;

// A configured channel with its secrets read from the environment.
struct ChannelSpec {
  std::string name;
  ChannelType type = ChannelType::kStdout;
  core::Secret url;  // slack, teams, webhook, pagerduty (the endpoint)
  // The URL came from the environment (url_env): all of it but scheme, host and port is masked
  // wherever it is shown (Slack's and Teams' URLs always are).
  bool url_is_secret = false;
  core::Secret routing_key;
  core::Secret hmac_secret;  // webhook, teams; empty: unsigned
  std::string smtp_url;
  bool starttls_required = true;
  std::string from;
  std::vector<std::string> to;
  core::Secret username;
  core::Secret password;
  std::string path;     // file
  std::string ca_file;  // empty: the system store
  core::Duration timeout = std::chrono::seconds(10);
  config::SourceLocation where;

  // Where it sends, secrets masked: "https://hooks.slack.com/***", "smtp://mail:587 -> a@b".
  std::string Destination() const;
  // Every secret value of the channel (non-empty ones), for redaction.
  std::vector<std::string> Secrets() const;
};

// The channel with its secrets read from `env`. kInvalidConfig naming the channel, where it is
// configured and the variable (never a value) when a variable is unset or empty.
core::Result<ChannelSpec> ResolveChannel(const config::NotifyChannelConfig& config,
                                         const core::Environment& env);

// ---------------------------------------------------------------------------------------
// Payloads (pure)
// ---------------------------------------------------------------------------------------

// &, < and > as &amp;, &lt; and &gt; (Slack's control characters; nothing else is escaped).
std::string SlackEscape(std::string_view text);
// Valid UTF-8 cut to at most `max_chars` code points, ending in "…" when cut.
std::string CutChars(std::string_view text, size_t max_chars);

std::string SlackPayload(const Message& message);
// "trigger", "acknowledge" or "resolve" for the message's kind.
std::string_view PagerDutyAction(MessageKind kind);
// `created` is the event's timestamp (when the message was written, not when it is sent).
std::string PagerDutyPayload(const Message& message, std::string_view routing_key,
                             core::WallTime created);
std::string TeamsPayload(const Message& message);
// The webhook's JSON (also the stdout/file line, without line breaks).
std::string WebhookPayload(const Message& message, std::string_view channel,
                           core::WallTime created);
// "sha256=<lower-case hex HMAC-SHA256 of TIMESTAMP.BODY>".
std::string WebhookSignature(std::string_view secret, std::string_view timestamp,
                             std::string_view body);

// The whole e-mail (headers and body, CRLF line ends). `message_id_seed` makes the Message-ID
// (the same for every attempt of one message, so receivers can drop a duplicate).
std::string EmailMessage(const Message& message, const std::string& from,
                         const std::vector<std::string>& to, core::WallTime created,
                         std::string_view message_id_seed);
// RFC 2047 "=?UTF-8?B?...?=" encoded words (folded with CRLF SP) for non-ASCII or long text;
// plain ASCII without control characters is returned as it is.
std::string EncodeHeaderWord(std::string_view text);

// ---------------------------------------------------------------------------------------
// Sending
// ---------------------------------------------------------------------------------------

enum class DeliveryState { kDelivered, kRetry, kFailed };
std::string_view DeliveryStateName(DeliveryState state);  // delivered, retry, failed

struct DeliveryOutcome {
  DeliveryState state = DeliveryState::kFailed;
  int status = 0;  // the HTTP status or the SMTP reply code; 0 when none arrived
  std::optional<core::Duration> retry_after;  // what the receiver asked for (429, 503)
  std::string detail;                         // for people; never a secret
};

// An HTTP exchange's outcome by the rules in this file's comment. `secrets` are replaced by
// "***" in the body excerpt.
DeliveryOutcome ClassifyHttp(const core::Result<cloud::HttpResponse>& result, core::WallTime now,
                             const std::vector<std::string>& secrets);

class Channel {
 public:
  virtual ~Channel() = default;
  virtual const ChannelSpec& spec() const = 0;
  const std::string& name() const { return spec().name; }
  // One attempt to deliver `message`, written to the outbox at `created`.
  virtual DeliveryOutcome Send(const Message& message, core::WallTime created) = 0;
};

struct ChannelDeps {
  core::Clock& clock;
  std::ostream& out;  // the stdout channel's stream
  // HTTP channels use this transport when set (tests); else each makes its own CurlTransport.
  std::shared_ptr<cloud::HttpTransport> transport;
};

// The sender for `spec`. kInvalidConfig when its CA file is unreadable.
core::Result<std::unique_ptr<Channel>> MakeChannel(ChannelSpec spec, const ChannelDeps& deps);

// Every configured channel, resolved (ResolveChannel) and made (MakeChannel). kInvalidConfig
// listing every channel that cannot be, one per line, when any cannot.
core::Result<std::vector<std::unique_ptr<Channel>>> MakeChannels(
    const config::NotifySettings& settings, const core::Environment& env, const ChannelDeps& deps);

}  // namespace dbrunbook::notify
