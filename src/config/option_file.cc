#include "config/option_file.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <system_error>

#include "core/strings.h"

namespace dbrunbook::config {
namespace {

namespace fs = std::filesystem;
using core::ErrorCode;

constexpr int kMaxIncludeDepth = 10;               // as the MySQL client
constexpr std::uintmax_t kMaxFileBytes = 1 << 20;  // option files are small

core::Error SyntaxError(const std::string& file, int line, std::string message,
                        std::string hint = {}) {
  return core::Error{ErrorCode::kInvalidConfig,
                     fmt::format("{}:{}: {}", file, line, message),
                     std::move(hint),
                     0,
                     {}};
}

bool IsBlank(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v'; }

bool IsNameChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
}

// Decodes the escapes the MySQL client decodes in option values.
std::string Unescape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '\\' || i + 1 == text.size()) {
      out += text[i];
      continue;
    }
    const char next = text[++i];
    switch (next) {
      case 'n':
        out += '\n';
        break;
      case 't':
        out += '\t';
        break;
      case 'r':
        out += '\r';
        break;
      case 'b':
        out += '\b';
        break;
      case 's':
        out += ' ';
        break;
      case '\\':
      case '"':
      case '\'':
        out += next;
        break;
      default:  // unknown escapes are kept (Windows paths)
        out += '\\';
        out += next;
    }
  }
  return out;
}

// Name with '-' for '_' and without a `loose-` prefix.
std::string CanonicalName(std::string_view name) {
  std::string out(name);
  std::replace(out.begin(), out.end(), '_', '-');
  if (out.rfind("loose-", 0) == 0) out.erase(0, 6);
  return out;
}

// Reads one file and what it includes into an OptionSet.
class Parser {
 public:
  Parser(const std::vector<std::string>& groups, OptionSet& out) : groups_(groups), out_(out) {}

  // `from` is "file:line" of the including directive, empty for the top file.
  core::Status ReadFile(const std::string& path, int depth, const std::string& from) {
    auto fail = [&](ErrorCode code, const std::string& what) {
      const std::string message = from.empty()
                                      ? fmt::format("option file {}: {}", path, what)
                                      : fmt::format("{}: included file {}: {}", from, path, what);
      return core::Fail(core::Error{code, message, "check the path and its permissions", 0, {}});
    };
    std::error_code ec;
    const auto status = fs::status(path, ec);
    if (ec || !fs::exists(status)) return fail(ErrorCode::kNotFound, "does not exist");
    if (!fs::is_regular_file(status)) return fail(ErrorCode::kIo, "is not a regular file");
    const auto size = fs::file_size(path, ec);
    if (ec || size > kMaxFileBytes) return fail(ErrorCode::kIo, "is too large or unreadable");
    std::ifstream in(path, std::ios::binary);
    if (!in) return fail(ErrorCode::kIo, "cannot be read");
    std::ostringstream text;
    text << in.rdbuf();
    if (in.bad()) return fail(ErrorCode::kIo, "cannot be read");
    return ParseText(text.str(), path, depth);
  }

  core::Status ParseText(std::string_view text, const std::string& path, int depth) {
    out_.files.push_back(path);
    if (text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);  // UTF-8 BOM
    // Group state is per file, as in the MySQL client: an included file starts outside any
    // group, and the including file continues in its own group afterwards.
    bool in_group = false;
    bool selected = false;
    int line_number = 0;
    for (std::string_view line : core::Split(text, '\n')) {
      ++line_number;
      line = core::Trim(line);
      if (line.empty() || line.front() == '#' || line.front() == ';') continue;
      if (line.front() == '!') {
        if (auto s = Directive(line, path, line_number, depth); !s) return s;
        continue;
      }
      if (line.front() == '[') {
        const auto close = line.find(']');
        const std::string_view after =
            close == std::string_view::npos ? "" : core::Trim(line.substr(close + 1));
        if (close == std::string_view::npos || (!after.empty() && after.front() != '#')) {
          return core::Fail(SyntaxError(path, line_number, "malformed group header",
                                        "write [client] on a line of its own"));
        }
        const std::string_view name = core::Trim(line.substr(1, close - 1));
        if (name.empty()) return core::Fail(SyntaxError(path, line_number, "empty group name"));
        in_group = true;
        selected = std::any_of(groups_.begin(), groups_.end(), [&](const std::string& g) {
          return core::EqualsIgnoreCase(g, name);
        });
        continue;
      }
      if (!in_group) {
        return core::Fail(SyntaxError(path, line_number, "option outside any [group]",
                                      "put it under a group such as [client]"));
      }
      if (!selected) continue;
      if (auto s = Option(line, path, line_number); !s) return s;
    }
    return core::Ok();
  }

 private:
  core::Status Directive(std::string_view line, const std::string& path, int line_number,
                         int depth) {
    const auto word_end = line.find_first_of(" \t");
    const std::string_view word = line.substr(0, word_end);
    const std::string arg(word_end == std::string_view::npos ? ""
                                                             : core::Trim(line.substr(word_end)));
    if (word != "!include" && word != "!includedir") {
      return core::Fail(SyntaxError(path, line_number, fmt::format("unknown directive '{}'", word),
                                    "use !include FILE or !includedir DIR"));
    }
    if (arg.empty()) {
      return core::Fail(SyntaxError(path, line_number, fmt::format("{} needs a path", word)));
    }
    if (depth >= kMaxIncludeDepth) {
      return core::Fail(SyntaxError(path, line_number,
                                    fmt::format("includes nested deeper than {}", kMaxIncludeDepth),
                                    "look for a file that includes itself"));
    }
    fs::path target(arg);
    if (target.is_relative()) target = fs::path(path).parent_path() / target;
    const std::string from = fmt::format("{}:{}", path, line_number);
    if (word == "!include") return ReadFile(target.string(), depth + 1, from);

    std::error_code ec;
    std::vector<std::string> files;
    for (fs::directory_iterator it(target, ec), end; !ec && it != end; it.increment(ec)) {
      const auto& entry = *it;
      std::error_code type_ec;
      if (entry.path().extension() == ".cnf" && entry.is_regular_file(type_ec)) {
        files.push_back(entry.path().string());
      }
    }
    if (ec) {
      return core::Fail(core::Error{ErrorCode::kIo,
                                    fmt::format("{}: cannot list included directory {}: {}", from,
                                                target.string(), ec.message()),
                                    "check the path and its permissions",
                                    0,
                                    {}});
    }
    std::sort(files.begin(), files.end());
    for (const auto& file : files) {
      if (auto s = ReadFile(file, depth + 1, from); !s) return s;
    }
    return core::Ok();
  }

  core::Status Option(std::string_view line, const std::string& path, int line_number) {
    const auto name_end = line.find_first_of("= \t");
    const std::string_view name = line.substr(0, name_end);
    std::string_view rest =
        name_end == std::string_view::npos ? std::string_view() : line.substr(name_end);
    while (!rest.empty() && IsBlank(rest.front())) rest.remove_prefix(1);

    const bool bare = rest.empty() || rest.front() == '#';
    if ((!bare && rest.front() != '=') || name.empty() ||
        !std::all_of(name.begin(), name.end(), IsNameChar)) {
      return core::Fail(SyntaxError(path, line_number,
                                    "expected `name`, `name = value`, `[group]` or a ! directive"));
    }
    OptionValue value{"", false, path, line_number};
    std::string canonical = CanonicalName(name);
    if (bare) {
      // Bare negations, as the MySQL client's option parser understands them.
      for (auto [prefix, replacement] :
           {std::pair{"skip-", "0"}, std::pair{"disable-", "0"}, std::pair{"enable-", "1"}}) {
        const std::string_view p(prefix);
        if (canonical.size() > p.size() && canonical.compare(0, p.size(), p) == 0) {
          canonical.erase(0, p.size());
          value.value = replacement;
          value.has_value = true;
          break;
        }
      }
    } else {
      auto parsed = Value(core::Trim(rest.substr(1)), path, line_number);
      if (!parsed) return core::Fail(parsed.error());
      value.value = std::move(*parsed);
      value.has_value = true;
    }
    out_.values.insert_or_assign(std::move(canonical), std::move(value));
    return core::Ok();
  }

  static core::Result<std::string> Value(std::string_view text, const std::string& path,
                                         int line_number) {
    if (!text.empty() && (text.front() == '"' || text.front() == '\'')) {
      const char quote = text.front();
      size_t i = 1;
      while (i < text.size() && text[i] != quote) i += text[i] == '\\' ? 2 : 1;
      if (i >= text.size()) {
        return core::Fail(SyntaxError(path, line_number, "unterminated quote",
                                      fmt::format("end the value with {}", quote)));
      }
      const std::string_view after = core::Trim(text.substr(i + 1));
      if (!after.empty() && after.front() != '#') {
        return core::Fail(SyntaxError(path, line_number, "text after the closing quote",
                                      "quote the whole value, or put a # before a comment"));
      }
      return Unescape(text.substr(1, i - 1));
    }
    // Unquoted: a '#' after a blank starts a comment.
    for (size_t i = 1; i < text.size(); ++i) {
      if (text[i] == '#' && IsBlank(text[i - 1])) {
        text = text.substr(0, i);
        break;
      }
    }
    return Unescape(core::Trim(text));
  }

  const std::vector<std::string>& groups_;
  OptionSet& out_;
};

core::Error ValueError(const OptionValue& value, std::string message, std::string hint = {}) {
  return core::Error{ErrorCode::kInvalidConfig,
                     fmt::format("{}: {}", value.Where(), message),
                     std::move(hint),
                     0,
                     {}};
}

}  // namespace

std::string OptionValue::Where() const { return fmt::format("{}:{}", file, line); }

const OptionValue* OptionSet::Find(std::string_view name) const {
  auto it = values.find(CanonicalName(name));
  return it == values.end() ? nullptr : &it->second;
}

const std::vector<std::string>& DefaultOptionGroups() {
  static const std::vector<std::string> kGroups = {"client", "client-mariadb", "dbrunbook"};
  return kGroups;
}

core::Result<OptionSet> ReadOptionFile(const std::string& path,
                                       const std::vector<std::string>& groups) {
  OptionSet out;
  Parser parser(groups, out);
  if (auto s = parser.ReadFile(path, 0, ""); !s) return core::Fail(s.error());
  return out;
}

core::Result<OptionSet> ParseOptionText(std::string_view text, const std::string& path,
                                        const std::vector<std::string>& groups) {
  OptionSet out;
  Parser parser(groups, out);
  if (auto s = parser.ParseText(text, path, 0); !s) return core::Fail(s.error());
  return out;
}

core::Result<ConnectSettings> OptionsToConnectSettings(const OptionSet& options,
                                                       std::string_view password_source_label) {
  ConnectSettings out;
  // Plain string options; an empty value (`host=`) leaves the default, as in the client.
  auto text = [&](std::string_view name, std::optional<std::string>& field) -> core::Status {
    const OptionValue* v = options.Find(name);
    if (v == nullptr) return core::Ok();
    if (!v->has_value) {
      return core::Fail(ValueError(*v, fmt::format("{} needs a value", name),
                                   fmt::format("write {}=VALUE", name)));
    }
    if (!v->value.empty()) field = v->value;
    return core::Ok();
  };
  for (auto [name, field] :
       {std::pair{"user", &out.user}, std::pair{"host", &out.host},
        std::pair{"socket", &out.socket}, std::pair{"database", &out.database},
        std::pair{"ssl-ca", &out.tls_ca}, std::pair{"ssl-capath", &out.tls_capath},
        std::pair{"ssl-cert", &out.tls_cert}, std::pair{"ssl-key", &out.tls_key},
        std::pair{"ssl-cipher", &out.tls_cipher}}) {
    if (auto s = text(name, *field); !s) return core::Fail(s.error());
  }

  if (const OptionValue* v = options.Find("password")) {
    if (!v->has_value) {
      return core::Fail(ValueError(
          *v, "password without a value (the mysql client would prompt; dbrunbook cannot)",
          "write password=... or remove the line"));
    }
    out.password = core::Secret(v->value);
    out.password_source = fmt::format("{} {}", password_source_label, v->file);
  }
  if (const OptionValue* v = options.Find("port")) {
    const auto port = core::ParseUint64(v->value);
    if (!port || *port == 0 || *port > 65535) {
      return core::Fail(
          ValueError(*v, fmt::format("port '{}' is not a number from 1 to 65535", v->value)));
    }
    out.port = static_cast<uint16_t>(*port);
  }
  if (const OptionValue* v = options.Find("connect-timeout")) {
    auto timeout = ParseTimeout(v->value);
    if (!timeout) {
      return core::Fail(
          ValueError(*v, "connect-timeout: " + timeout.error().message, timeout.error().hint));
    }
    out.connect_timeout = *timeout;
  }

  // TLS: see the table in the header.
  auto switch_value = [&](std::string_view name) -> core::Result<std::optional<bool>> {
    const OptionValue* v = options.Find(name);
    if (v == nullptr) return std::optional<bool>();
    if (!v->has_value) return std::optional<bool>(true);
    const auto parsed = core::ParseBool(v->value);
    if (!parsed) {
      return core::Fail(ValueError(*v, fmt::format("{} must be 0 or 1, not '{}'", name, v->value)));
    }
    return std::optional<bool>(*parsed);
  };
  auto ssl = switch_value("ssl");
  if (!ssl) return core::Fail(ssl.error());
  auto verify = switch_value("ssl-verify-server-cert");
  if (!verify) return core::Fail(verify.error());
  if (const OptionValue* v = options.Find("ssl-mode")) {
    const auto mode = mysql::ParseTlsMode(v->value);
    if (!mode) {
      const std::string close = core::ClosestMatch(
          v->value, {"DISABLED", "PREFERRED", "REQUIRED", "VERIFY_CA", "VERIFY_IDENTITY"});
      return core::Fail(ValueError(
          *v, fmt::format("unknown ssl-mode '{}'", v->value),
          close.empty() ? "use DISABLED, PREFERRED, REQUIRED, VERIFY_CA or VERIFY_IDENTITY"
                        : fmt::format("did you mean {}?", close)));
    }
    out.tls_mode = *mode;
  } else if (*ssl && !**ssl) {
    out.tls_mode = mysql::TlsMode::kDisabled;
  } else if (*verify && **verify) {
    out.tls_mode = mysql::TlsMode::kVerifyIdentity;
  } else if (*ssl && **ssl) {
    out.tls_mode = mysql::TlsMode::kRequired;
  }
  return out;
}

}  // namespace dbrunbook::config
