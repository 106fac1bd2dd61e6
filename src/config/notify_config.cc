#include "config/notify_config.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <map>
#include <set>

#include "core/duration.h"
#include "core/strings.h"

namespace dbrunbook::config {
namespace {

const std::vector<std::string>& NotifyKeys() {
  static const std::vector<std::string> kKeys = {"channels", "delivery"};
  return kKeys;
}

const std::vector<std::string>& DeliveryKeys() {
  static const std::vector<std::string> kKeys = {"max_attempts", "max_age", "backoff_base",
                                                 "backoff_cap"};
  return kKeys;
}

const std::vector<std::string>& ChannelKeys() {
  static const std::vector<std::string> kKeys = {
      "name",     "type",     "url",    "url_env", "routing_key_env", "hmac_secret_env",
      "smtp_url", "starttls", "from",   "to",      "username_env",    "password_env",
      "path",     "ca_file",  "timeout"};
  return kKeys;
}

const std::vector<std::string>& ChannelTypes() {
  static const std::vector<std::string> kTypes = {"slack", "pagerduty", "teams", "webhook",
                                                  "email", "stdout",    "file"};
  return kTypes;
}

// The keys each type accepts besides name, type and timeout.
const std::map<std::string, std::set<std::string>>& KeysByType() {
  static const std::map<std::string, std::set<std::string>> kKeys = {
      {"slack", {"url_env", "ca_file"}},
      {"teams", {"url_env", "hmac_secret_env", "ca_file"}},
      {"webhook", {"url", "url_env", "hmac_secret_env", "ca_file"}},
      {"pagerduty", {"url", "routing_key_env", "ca_file"}},
      {"email", {"smtp_url", "starttls", "from", "to", "username_env", "password_env", "ca_file"}},
      {"stdout", {}},
      {"file", {"path"}},
  };
  return kKeys;
}

bool IsChannelName(std::string_view name) {
  return !name.empty() && name.size() <= 64 && std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '.' || c == '_' || c == '-';
  });
}

bool IsEnvName(std::string_view name) {
  return !name.empty() && std::isdigit(static_cast<unsigned char>(name[0])) == 0 &&
         std::all_of(name.begin(), name.end(), [](char c) {
           return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_';
         });
}

// A bare e-mail address: local@domain, no spaces, angle brackets or line breaks (which would
// let a value inject headers or SMTP commands).
bool IsMailbox(std::string_view address) {
  const auto at = address.find('@');
  return at != std::string_view::npos && at > 0 && at + 1 < address.size() &&
         address.find('@', at + 1) == std::string_view::npos &&
         std::none_of(address.begin(), address.end(), [](char c) {
           return c == ' ' || c == '<' || c == '>' || c == '\r' || c == '\n' || c == '\t' ||
                  c == ',' || c == ';' || static_cast<unsigned char>(c) < 0x20;
         });
}

class NotifyReader {
 public:
  NotifyReader(YamlChecker& checker, std::string base_dir)
      : c_(checker), base_dir_(std::move(base_dir)) {}

  void Read(const YamlNode& node, NotifySettings& out) {
    if (!c_.ExpectMap(node, "notify")) return;
    for (const YamlEntry* entry : c_.Entries(node, "notify", &NotifyKeys())) {
      if (entry->key == "delivery") ReadDelivery(entry->value, out.delivery);
      if (entry->key == "channels") ReadChannels(entry->value, out.channels);
    }
    const auto& d = out.delivery;
    if (d.backoff_base && d.backoff_cap && *d.backoff_cap < *d.backoff_base) {
      c_.Error(cap_where_, "notify.delivery.backoff_cap", "smaller than backoff_base",
               "the cap bounds the growing backoff: make it at least backoff_base");
    }
  }

 private:
  std::optional<core::Duration> Duration(const YamlNode& node, const std::string& path,
                                         core::Duration low, core::Duration high,
                                         std::string_view range) {
    const Setting<std::string> text = c_.String(node, path);
    if (!text.value) return std::nullopt;
    auto parsed = core::ParseDuration(*text.value);
    if (!parsed || *parsed < low || *parsed > high) {
      c_.Error(node.where, path, fmt::format("'{}' is not a duration from {}", *text.value, range),
               "write e.g. 500ms, 2s, 5m or 24h");
      return std::nullopt;
    }
    return *parsed;
  }

  void ReadDelivery(const YamlNode& node, NotifyDeliverySettings& out) {
    if (!c_.ExpectMap(node, "notify.delivery")) return;
    for (const YamlEntry* entry : c_.Entries(node, "notify.delivery", &DeliveryKeys())) {
      const std::string path = JoinKeyPath("notify.delivery", entry->key);
      const std::string& key = entry->key;
      if (key == "max_attempts") {
        const Setting<std::string> text = c_.String(entry->value, path);
        if (!text.value) continue;
        const auto n = core::ParseInt64(*text.value);
        if (!n || *n < 1 || *n > 1000) {
          c_.Error(entry->value.where, path,
                   fmt::format("'{}' is not a whole number from 1 to 1000", *text.value));
          continue;
        }
        out.max_attempts = static_cast<int>(*n);
      } else if (key == "max_age") {
        out.max_age = Duration(entry->value, path, std::chrono::minutes(1),
                               std::chrono::hours(24 * 30), "1m to 30 days");
      } else if (key == "backoff_base") {
        out.backoff_base = Duration(entry->value, path, std::chrono::milliseconds(1),
                                    std::chrono::hours(1), "1ms to 1h");
      } else if (key == "backoff_cap") {
        cap_where_ = entry->value.where;
        out.backoff_cap = Duration(entry->value, path, std::chrono::milliseconds(1),
                                   std::chrono::hours(24), "1ms to 1d");
      }
    }
  }

  void ReadChannels(const YamlNode& node, std::vector<NotifyChannelConfig>& out) {
    if (node.kind != YamlNode::Kind::kSequence) {
      if (node.is_null()) return;
      c_.Error(node.where, "notify.channels",
               fmt::format("expected a list of channels, found {}", node.KindName()),
               "write each channel as a list item: `- {name: dba-slack, type: slack, url_env: "
               "SLACK_WEBHOOK_URL}`");
      return;
    }
    std::map<std::string, SourceLocation> names;
    for (size_t i = 0; i < node.items.size(); ++i) {
      NotifyChannelConfig channel;
      if (ReadChannel(node.items[i], fmt::format("notify.channels[{}]", i), names, channel)) {
        out.push_back(std::move(channel));
      }
    }
  }

  std::string EnvName(const YamlNode& node, const std::string& path) {
    const Setting<std::string> text = c_.String(node, path);
    if (!text.value) return {};
    if (!IsEnvName(*text.value)) {
      c_.Error(node.where, path,
               fmt::format("'{}' is not an environment variable name", *text.value),
               "name the variable that holds the value (letters, digits and '_'), e.g. "
               "SLACK_WEBHOOK_URL; never the value itself");
      return {};
    }
    return *text.value;
  }

  std::string HttpUrl(const YamlNode& node, const std::string& path) {
    const Setting<std::string> text = c_.String(node, path);
    if (!text.value) return {};
    const std::string lower = core::ToLower(*text.value);
    if (!lower.starts_with("http://") && !lower.starts_with("https://")) {
      c_.Error(node.where, path, "not an http:// or https:// URL",
               "write the receiver's absolute URL");
      return {};
    }
    return *text.value;
  }

  std::string FilePath(const YamlNode& node, const std::string& path) {
    const Setting<std::string> text = c_.String(node, path);
    if (!text.value) return {};
    std::filesystem::path file(*text.value);
    if (!text.where.from_env() && !base_dir_.empty() && file.is_relative()) {
      file = std::filesystem::path(base_dir_) / file;
    }
    return file.string();
  }

  bool ReadChannel(const YamlNode& item, const std::string& path,
                   std::map<std::string, SourceLocation>& names, NotifyChannelConfig& ch) {
    if (!c_.ExpectMap(item, path)) return false;
    ch.where = item.where;
    std::string shown = path;  // gets the name once known
    std::vector<const YamlEntry*> entries = c_.Entries(item, path, &ChannelKeys());
    // name and type first: the other keys are checked against the type.
    for (const YamlEntry* entry : entries) {
      if (entry->key == "name") {
        const Setting<std::string> name = c_.String(entry->value, JoinKeyPath(path, "name"));
        if (!name.value) continue;
        if (!IsChannelName(*name.value)) {
          c_.Error(entry->value.where, JoinKeyPath(path, "name"),
                   fmt::format("invalid channel name '{}'", *name.value),
                   "use letters, digits, '.', '_' and '-' (at most 64)");
          continue;
        }
        if (auto [it, inserted] = names.emplace(*name.value, entry->value.where); !inserted) {
          c_.Error(entry->value.where, JoinKeyPath(path, "name"),
                   fmt::format("duplicate channel name '{}' (first at {})", *name.value,
                               it->second.ToString()),
                   "give each channel its own name");
          continue;
        }
        ch.name = *name.value;
        shown = fmt::format("{} ({})", path, ch.name);
      } else if (entry->key == "type") {
        const Setting<std::string> type = c_.String(entry->value, JoinKeyPath(path, "type"));
        if (!type.value) continue;
        const std::string lower = core::ToLower(*type.value);
        if (std::find(ChannelTypes().begin(), ChannelTypes().end(), lower) ==
            ChannelTypes().end()) {
          c_.Error(entry->value.where, JoinKeyPath(path, "type"),
                   fmt::format("unknown channel type '{}'", *type.value),
                   DidYouMean(lower, ChannelTypes(), "types are"));
          continue;
        }
        ch.type = lower;
      }
    }
    bool ok = !ch.name.empty() && !ch.type.empty();
    if (ch.name.empty() && !HasKey(entries, "name")) {
      c_.Error(item.where, JoinKeyPath(path, "name"), "missing", "give the channel a name");
    }
    if (ch.type.empty() && !HasKey(entries, "type")) {
      c_.Error(item.where, JoinKeyPath(shown, "type"), "missing",
               "types are: slack, pagerduty, teams, webhook, email, stdout, file");
    }
    if (ch.type.empty()) return false;
    const std::set<std::string>& allowed = KeysByType().at(ch.type);
    SourceLocation url_where;
    for (const YamlEntry* entry : entries) {
      const std::string& key = entry->key;
      if (key == "name" || key == "type") continue;
      const std::string key_path = JoinKeyPath(shown, key);
      if (key != "timeout" && allowed.count(key) == 0) {
        std::string hint =
            allowed.empty() ? fmt::format("a {} channel takes only name, type and timeout", ch.type)
                            : fmt::format("a {} channel takes: {} (and name, type, timeout)",
                                          ch.type, fmt::join(allowed.begin(), allowed.end(), ", "));
        if (key == "url" && (ch.type == "slack" || ch.type == "teams")) {
          hint = fmt::format(
              "a {} webhook URL is a secret (whoever has it can post): put it in an "
              "environment variable and name that with url_env",
              ch.type == "slack" ? "Slack" : "Teams workflow");
        }
        c_.Error(entry->key_where, key_path, fmt::format("does not apply to a {} channel", ch.type),
                 hint);
        ok = false;
        continue;
      }
      if (key == "url") {
        url_where = entry->value.where;
        ch.url = HttpUrl(entry->value, key_path);
      } else if (key == "url_env") {
        ch.url_env = EnvName(entry->value, key_path);
      } else if (key == "routing_key_env") {
        ch.routing_key_env = EnvName(entry->value, key_path);
      } else if (key == "hmac_secret_env") {
        ch.hmac_secret_env = EnvName(entry->value, key_path);
      } else if (key == "username_env") {
        ch.username_env = EnvName(entry->value, key_path);
      } else if (key == "password_env") {
        ch.password_env = EnvName(entry->value, key_path);
      } else if (key == "smtp_url") {
        const Setting<std::string> text = c_.String(entry->value, key_path);
        if (!text.value) continue;
        const std::string lower = core::ToLower(*text.value);
        if ((!lower.starts_with("smtp://") && !lower.starts_with("smtps://")) ||
            text.value->find('@') != std::string::npos) {
          c_.Error(entry->value.where, key_path,
                   "not an smtp:// or smtps:// URL without credentials",
                   "write smtp://mail.example.com:587 (STARTTLS) or smtps://mail.example.com:465; "
                   "credentials go in username_env / password_env");
          continue;
        }
        ch.smtp_url = *text.value;
      } else if (key == "starttls") {
        const Setting<std::string> text = c_.String(entry->value, key_path);
        if (!text.value) continue;
        const std::string lower = core::ToLower(*text.value);
        if (lower != "required" && lower != "opportunistic") {
          c_.Error(entry->value.where, key_path, fmt::format("unknown value '{}'", *text.value),
                   "use required (default: refuse a server that does not offer STARTTLS) or "
                   "opportunistic (use it when offered)");
          continue;
        }
        ch.starttls = lower;
      } else if (key == "from") {
        const Setting<std::string> text = c_.String(entry->value, key_path);
        if (!text.value) continue;
        if (!IsMailbox(*text.value)) {
          c_.Error(entry->value.where, key_path,
                   fmt::format("'{}' is not an e-mail address", *text.value),
                   "write a bare address: dbrunbook@example.com");
          continue;
        }
        ch.from = *text.value;
      } else if (key == "to") {
        ReadRecipients(entry->value, key_path, ch.to);
      } else if (key == "path") {
        ch.path = FilePath(entry->value, key_path);
      } else if (key == "ca_file") {
        ch.ca_file = FilePath(entry->value, key_path);
      } else if (key == "timeout") {
        ch.timeout = Duration(entry->value, key_path, std::chrono::milliseconds(100),
                              std::chrono::minutes(5), "100ms to 5m");
      }
    }
    ok = CheckRequired(item, shown, ch, entries) && ok;
    return ok;
  }

  void ReadRecipients(const YamlNode& node, const std::string& path,
                      std::vector<std::string>& out) {
    std::vector<const YamlNode*> items;
    if (node.kind == YamlNode::Kind::kSequence) {
      for (const auto& item : node.items) items.push_back(&item);
    } else {
      items.push_back(&node);  // one address without brackets
    }
    for (size_t i = 0; i < items.size(); ++i) {
      const std::string item_path =
          node.kind == YamlNode::Kind::kSequence ? fmt::format("{}[{}]", path, i) : path;
      const Setting<std::string> text = c_.String(*items[i], item_path);
      if (!text.value) continue;
      if (!IsMailbox(*text.value)) {
        c_.Error(items[i]->where, item_path,
                 fmt::format("'{}' is not an e-mail address", *text.value),
                 "write bare addresses: [dba@example.com, oncall@example.com]");
        continue;
      }
      out.push_back(*text.value);
    }
  }

  static bool HasKey(const std::vector<const YamlEntry*>& entries, std::string_view key) {
    return std::any_of(entries.begin(), entries.end(),
                       [&](const YamlEntry* e) { return e->key == key; });
  }

  // Keys a type needs. A key written with an invalid value was reported already; only a key
  // not written at all is "missing" (but either makes the channel unusable).
  bool CheckRequired(const YamlNode& item, const std::string& shown, const NotifyChannelConfig& ch,
                     const std::vector<const YamlEntry*>& entries) {
    bool ok = true;
    const bool has_url = HasKey(entries, "url");
    const bool has_url_env = HasKey(entries, "url_env");
    const auto missing = [&](std::string_view key, std::string hint) {
      if (!HasKey(entries, key)) {
        c_.Error(item.where, JoinKeyPath(shown, std::string(key)), "missing", std::move(hint));
      }
      ok = false;
    };
    if (ch.type == "slack" && ch.url_env.empty()) {
      missing("url_env", "name the environment variable holding the incoming webhook's URL");
    }
    if (ch.type == "teams" && ch.url_env.empty()) {
      missing("url_env", "name the environment variable holding the workflow's webhook URL");
    }
    if (ch.type == "webhook") {
      if (has_url == has_url_env) {
        c_.Error(item.where, JoinKeyPath(shown, "url"),
                 has_url ? "url and url_env are both set" : "missing",
                 "give the receiver's URL with url, or the variable holding it with url_env");
        ok = false;
      } else if (ch.url.empty() && ch.url_env.empty()) {
        ok = false;  // written, invalid: reported
      }
    }
    if (ch.type == "pagerduty" && ch.routing_key_env.empty()) {
      missing("routing_key_env",
              "name the environment variable holding the Events API v2 integration's routing "
              "key");
    }
    if (ch.type == "email") {
      if (ch.smtp_url.empty()) missing("smtp_url", "write smtp://mail.example.com:587");
      if (ch.from.empty()) missing("from", "write from: dbrunbook@example.com");
      if (ch.to.empty()) missing("to", "write to: [dba@example.com]");
      if (HasKey(entries, "username_env") != HasKey(entries, "password_env")) {
        c_.Error(item.where,
                 JoinKeyPath(shown, ch.username_env.empty() ? "username_env" : "password_env"),
                 "missing", "SMTP AUTH needs both username_env and password_env");
        ok = false;
      }
      if (!ch.password_env.empty() && ch.starttls == "opportunistic" &&
          core::StartsWithIgnoreCase(ch.smtp_url, "smtp://")) {
        c_.Error(item.where, JoinKeyPath(shown, "starttls"),
                 "opportunistic STARTTLS with a password would send the password in clear text "
                 "to a server that does not offer STARTTLS",
                 "use starttls: required, or smtps://");
        ok = false;
      }
    }
    if (ch.type == "file" && ch.path.empty()) {
      missing("path", "write path: /var/log/dbrunbook/messages.jsonl");
    }
    return ok;
  }

  YamlChecker& c_;
  std::string base_dir_;
  SourceLocation cap_where_;
};

}  // namespace

void ParseNotifySection(YamlChecker& checker, const YamlNode& node, const std::string& base_dir,
                        NotifySettings& out) {
  NotifyReader(checker, base_dir).Read(node, out);
}

const NotifyChannelConfig* NotifySettings::Find(std::string_view name) const {
  for (const auto& channel : channels) {
    if (channel.name == name) return &channel;
  }
  return nullptr;
}

}  // namespace dbrunbook::config
