#include "digest/filter.h"

#include <re2/re2.h>

#include <cmath>
#include <ctime>

#include "core/strings.h"

namespace dbrunbook::digest {

namespace {

enum class Op { kEq, kNe, kLt, kLe, kGt, kGe, kMatch, kNoMatch };

core::Error Bad(std::string_view expression, std::size_t at, std::string_view what) {
  return core::Error{core::ErrorCode::kInvalidArgument,
                     "--filter '" + std::string(expression) + "': " + std::string(what) +
                         " at character " + std::to_string(at + 1),
                     "write ATTRIBUTE OP VALUE [and|or ...], e.g. 'Query_time > 1 and db = app'; "
                     "OP is one of = != < <= > >= =~ !~",
                     0,
                     {}};
}

bool IsNameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

// Tokens: names/words, operators, quoted strings.
struct Lexer {
  std::string_view s;
  std::size_t i = 0;

  void Skip() {
    while (i < s.size() && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n')) ++i;
  }
  bool AtEnd() {
    Skip();
    return i >= s.size();
  }
  std::optional<std::string> Name() {
    Skip();
    const std::size_t b = i;
    while (i < s.size() && IsNameChar(s[i])) ++i;
    if (i == b) return std::nullopt;
    return std::string(s.substr(b, i - b));
  }
  std::optional<Op> Operator() {
    Skip();
    static constexpr std::pair<std::string_view, Op> kOps[] = {
        {"=~", Op::kMatch}, {"!~", Op::kNoMatch}, {"!=", Op::kNe}, {"<>", Op::kNe}, {"<=", Op::kLe},
        {">=", Op::kGe},    {"==", Op::kEq},      {"=", Op::kEq},  {"<", Op::kLt},  {">", Op::kGt}};
    for (const auto& [text, op] : kOps) {
      if (s.substr(i, text.size()) == text) {
        i += text.size();
        return op;
      }
    }
    return std::nullopt;
  }
  // A quoted string or a bare word (up to the next blank).
  core::Result<std::string> Value(std::string_view expression) {
    Skip();
    if (i >= s.size()) return tl::unexpected(Bad(expression, i, "missing value"));
    const char q = s[i];
    if (q == '\'' || q == '"') {
      std::string out;
      ++i;
      while (i < s.size() && s[i] != q) {
        if (s[i] == '\\' && i + 1 < s.size()) ++i;
        out.push_back(s[i]);
        ++i;
      }
      if (i >= s.size()) return tl::unexpected(Bad(expression, i, "unterminated quoted value"));
      ++i;
      return out;
    }
    const std::size_t b = i;
    while (i < s.size() && s[i] != ' ' && s[i] != '\t' && s[i] != '\n') ++i;
    return std::string(s.substr(b, i - b));
  }
};

std::optional<double> AsNumber(std::string_view v) {
  const std::string_view t = core::Trim(v);
  if (t.empty()) return std::nullopt;
  return core::ParseDouble(t);
}

}  // namespace

struct Filter::Comparison {
  std::string attribute;
  Op op = Op::kEq;
  std::string value;
  std::optional<double> number;  // the value as a number, when it is one
  std::unique_ptr<RE2> regex;

  bool Test(const EventView& e) const {
    const bool negative = op == Op::kNe || op == Op::kNoMatch;
    std::optional<std::string_view> text;
    std::optional<double> num;
    const Attribute* a = nullptr;
    const bool pseudo = attribute == "db" || attribute == "Schema" || attribute == "user" ||
                        attribute == "host" || attribute == "ip" || attribute == "arg" ||
                        attribute == "fingerprint" || attribute == "ts";
    if (pseudo) {
      text = e.Text(attribute);
    } else if (attribute == "bytes" || attribute == "pos_in_log" || attribute == "Query_time") {
      num = e.Number(attribute);
      if (attribute == "Query_time") {
        a = e.event.Find("Query_time");
        if (a != nullptr) text = a->text;
      }
    } else {
      a = e.event.Find(attribute);
      if (a != nullptr) {
        text = a->text;
        if (a->type == AttributeType::kNumber) num = a->number;
      }
    }
    if (!text && !num) return negative;
    switch (op) {
      case Op::kMatch:
        return text && RE2::PartialMatch(*text, *regex);
      case Op::kNoMatch:
        return !text || !RE2::PartialMatch(*text, *regex);
      case Op::kEq:
      case Op::kNe: {
        bool equal = false;
        if (number && num) {
          equal = *num == *number;
        } else if (text) {
          equal = *text == value;
        } else if (num && !number) {
          equal = false;
        }
        return op == Op::kEq ? equal : !equal;
      }
      default:
        break;
    }
    if (!num && text) num = AsNumber(*text);
    if (!num || !number) return false;
    switch (op) {
      case Op::kLt:
        return *num < *number;
      case Op::kLe:
        return *num <= *number;
      case Op::kGt:
        return *num > *number;
      case Op::kGe:
        return *num >= *number;
      default:
        return false;
    }
  }
};

Filter::Filter() = default;
Filter::Filter(Filter&&) noexcept = default;
Filter& Filter::operator=(Filter&&) noexcept = default;
Filter::~Filter() = default;

core::Result<Filter> Filter::Parse(std::string_view expression) {
  Filter f;
  f.text_ = std::string(expression);
  Lexer lx{expression};
  f.any_of_.emplace_back();
  while (true) {
    const std::size_t at = (lx.Skip(), lx.i);
    auto name = lx.Name();
    if (!name) return tl::unexpected(Bad(expression, at, "expected an attribute name"));
    const std::size_t op_at = (lx.Skip(), lx.i);
    auto op = lx.Operator();
    if (!op)
      return tl::unexpected(Bad(expression, op_at, "expected an operator after '" + *name + "'"));
    const std::size_t value_at = (lx.Skip(), lx.i);
    auto value = lx.Value(expression);
    if (!value) return tl::unexpected(value.error());
    auto c = std::make_shared<Comparison>();
    c->attribute = *name;
    c->op = *op;
    c->value = *value;
    c->number = AsNumber(*value);
    if (*op == Op::kMatch || *op == Op::kNoMatch) {
      RE2::Options options;
      options.set_log_errors(false);
      c->regex = std::make_unique<RE2>(*value, options);
      if (!c->regex->ok()) {
        return tl::unexpected(
            Bad(expression, value_at, "invalid regular expression: " + c->regex->error()));
      }
    } else if ((*op == Op::kLt || *op == Op::kLe || *op == Op::kGt || *op == Op::kGe) &&
               !c->number) {
      return tl::unexpected(Bad(expression, value_at, "'" + *value + "' is not a number"));
    }
    f.any_of_.back().push_back(std::move(c));
    if (lx.AtEnd()) break;
    const std::size_t join_at = lx.i;
    auto join = lx.Name();
    if (join && core::EqualsIgnoreCase(*join, "and")) continue;
    if (join && core::EqualsIgnoreCase(*join, "or")) {
      f.any_of_.emplace_back();
      continue;
    }
    return tl::unexpected(Bad(expression, join_at, "expected 'and' or 'or'"));
  }
  return f;
}

bool Filter::Matches(const EventView& e) const {
  for (const auto& all : any_of_) {
    bool ok = true;
    for (const auto& c : all) {
      if (!c->Test(e)) {
        ok = false;
        break;
      }
    }
    if (ok) return true;
  }
  return false;
}

bool Filter::NeedsFingerprint() const {
  for (const auto& all : any_of_) {
    for (const auto& c : all) {
      if (c->attribute == "fingerprint") return true;
    }
  }
  return false;
}

core::Result<double> ParseTimeBound(std::string_view text, double now) {
  const std::string_view t = core::Trim(text);
  auto bad = [&] {
    return core::MakeError(
        core::ErrorCode::kInvalidArgument, "invalid time '" + std::string(text) + "'",
        "write N[s|m|h|d] (that long ago), YYYY-MM-DD[ HH:MM:SS], YYMMDD[ HH:MM:SS], or a Unix "
        "timestamp");
  };
  if (t.empty()) return bad();
  // N[smhd], up to 5 digits.
  std::size_t digits = 0;
  while (digits < t.size() && t[digits] >= '0' && t[digits] <= '9') ++digits;
  if (digits >= 1 && digits <= 5 &&
      (digits == t.size() || (digits + 1 == t.size() && std::string_view("smhd").find(t[digits]) !=
                                                            std::string_view::npos))) {
    const double n = static_cast<double>(*core::ParseUint64(t.substr(0, digits)));
    const char unit = digits < t.size() ? t[digits] : 's';
    const double mult = unit == 'm' ? 60 : unit == 'h' ? 3600 : unit == 'd' ? 86400 : 1;
    return now - n * mult;
  }
  if (digits >= 9 && digits == t.size()) return static_cast<double>(*core::ParseUint64(t));
  if (digits == 6) {
    std::string v(t);
    if (v.size() == 6) v += " 00:00:00";
    if (const auto parsed = ParseLogTime(v)) return *parsed;
    return bad();
  }
  if (digits == 4 && t.size() >= 10 && t[4] == '-') {
    std::string v(t);
    if (v.size() == 10) v += " 00:00:00";
    if (const auto parsed = ParseLogTime(v)) return *parsed;
    return bad();
  }
  return bad();
}

}  // namespace dbrunbook::digest
