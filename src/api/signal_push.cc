#include "api/signal_push.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <initializer_list>

#include "api/json_input.h"
#include "core/strings.h"
#include "watch/signals.h"

namespace dbrunbook::api {

namespace {

using nlohmann::json;

constexpr std::string_view kWhat = "signals body";
constexpr std::string_view kShapeHint =
    "send {\"target\": NAME, \"signals\": {SIGNAL: VALUE}} or {\"samples\": [{\"target\": "
    "NAME, \"signal\": SIGNAL, \"value\": VALUE}]} (README, \"Pushing signals\")";

core::Error Problem(core::ErrorCode code, const std::string& path, std::string_view problem,
                    std::string hint = std::string(kShapeHint)) {
  return core::Error{code, fmt::format("{}: {}", path, problem), std::move(hint), 0, {}};
}

core::Error Expected(const std::string& path, std::string_view expected, const json& found) {
  return Problem(core::ErrorCode::kParse, path,
                 fmt::format("expected {}, found {}", expected,
                             found.is_string() || found.is_null()
                                 ? JsonExcerpt(found)
                                 : JsonTypeName(found) + " " + JsonExcerpt(found)));
}

core::Status CheckKeys(const json& object, const std::string& parent,
                       std::initializer_list<std::string_view> allowed) {
  for (const auto& [key, value] : object.items()) {
    bool known = false;
    for (const auto name : allowed) known = known || key == name;
    if (known) continue;
    std::vector<std::string> names(allowed.begin(), allowed.end());
    const std::string close = core::ClosestMatch(key, names);
    return core::Fail(Problem(core::ErrorCode::kParse, JsonPath(parent, key),
                              close.empty()
                                  ? std::string("unknown key")
                                  : fmt::format("unknown key (did you mean \"{}\"?)", close)));
  }
  return core::Ok();
}

core::Result<std::string> Target(const json& value, const std::string& path,
                                 const std::vector<std::string>& targets) {
  if (!value.is_string()) return core::Fail(Expected(path, "a target name (string)", value));
  const std::string name = value.get<std::string>();
  for (const auto& target : targets) {
    if (target == name) return name;
  }
  const std::string close = core::ClosestMatch(name, targets);
  return core::Fail(Problem(
      core::ErrorCode::kInvalidArgument, path,
      fmt::format("unknown target {}{}", JsonExcerpt(value),
                  close.empty() ? "" : fmt::format(" (did you mean \"{}\"?)", close)),
      targets.empty() ? std::string("no targets are configured")
                      : fmt::format("the configured targets are: {}", fmt::join(targets, ", "))));
}

core::Result<std::string> Signal(std::string_view name, const std::string& path) {
  const auto pushable = PushableSignals();
  const watch::SignalSpec* spec = watch::FindSignal(name);
  const std::string hint = fmt::format("signals that can be pushed: {}", fmt::join(pushable, ", "));
  if (spec == nullptr) {
    const std::string close = core::ClosestMatch(name, watch::SignalNames());
    return core::Fail(
        Problem(core::ErrorCode::kInvalidArgument, path,
                fmt::format("unknown signal {}{}", JsonExcerpt(json(std::string(name))),
                            close.empty() ? "" : fmt::format(" (did you mean \"{}\"?)", close)),
                hint));
  }
  if (spec->cadence != watch::Cadence::kExternal) {
    return core::Fail(
        Problem(core::ErrorCode::kInvalidArgument, path,
                fmt::format("\"{}\" is read by dbrunbook itself ({} cadence) and cannot be pushed",
                            spec->name, watch::CadenceName(spec->cadence)),
                hint));
  }
  return std::string(spec->name);
}

core::Result<double> Value(const json& value, const std::string& path) {
  if (!value.is_number()) return core::Fail(Expected(path, "a number", value));
  const double v = value.get<double>();
  if (!std::isfinite(v)) {
    return core::Fail(Problem(core::ErrorCode::kParse, path, "the number is out of range"));
  }
  if (v < 0) {
    return core::Fail(Problem(
        core::ErrorCode::kInvalidArgument, path,
        fmt::format("{} is negative; pushed signals are counts and rates", JsonExcerpt(value))));
  }
  return v;
}

core::Result<std::optional<core::WallTime>> At(const json& object, const std::string& parent) {
  const auto it = object.find("at");
  if (it == object.end() || it->is_null()) return std::optional<core::WallTime>();
  const std::string path = JsonPath(parent, "at");
  if (!it->is_string()) return core::Fail(Expected(path, "an RFC 3339 time (string)", *it));
  const auto t = ParseRfc3339(it->get<std::string>());
  if (!t || *t == core::WallTime::min() || *t == core::WallTime::max()) {
    return core::Fail(Problem(core::ErrorCode::kParse, path,
                              fmt::format("expected an RFC 3339 time such as "
                                          "\"2026-11-27T06:35:11Z\", found {}",
                                          JsonExcerpt(*it))));
  }
  return std::optional<core::WallTime>(*t);
}

core::Result<std::string> Source(const json& object, const std::string& parent) {
  const auto it = object.find("source");
  if (it == object.end() || it->is_null()) return std::string("default");
  const std::string path = JsonPath(parent, "source");
  if (!it->is_string()) return core::Fail(Expected(path, "a source name (string)", *it));
  const std::string name = it->get<std::string>();
  const bool valid =
      !name.empty() && name.size() <= 64 && std::all_of(name.begin(), name.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '.' || c == '_' ||
               c == ':' || c == '/' || c == '-';
      });
  if (!valid) {
    return core::Fail(
        Problem(core::ErrorCode::kInvalidArgument, path,
                fmt::format("{} is not 1 to 64 characters of [A-Za-z0-9._:/-]", JsonExcerpt(*it)),
                "name the application that pushes, e.g. \"orders-api\""));
  }
  return name;
}

core::Error TooMany(const std::string& path, size_t n) {
  return Problem(core::ErrorCode::kInvalidArgument, path,
                 fmt::format("{} samples; at most {} per request", n, kMaxPushedSamples),
                 "split the samples over several requests");
}

}  // namespace

std::vector<std::string> PushableSignals() {
  std::vector<std::string> out;
  for (const auto& spec : watch::Signals()) {
    if (spec.cadence == watch::Cadence::kExternal) out.emplace_back(spec.name);
  }
  return out;
}

core::Result<std::vector<PushedSample>> ParseSignalPush(std::string_view body,
                                                        const std::vector<std::string>& targets) {
  auto parsed = ParseJsonBody(body, kWhat);
  if (!parsed) return core::Fail(parsed.error());
  const json& root = *parsed;
  if (!root.is_object()) {
    return core::Fail(
        core::Error{core::ErrorCode::kParse,
                    fmt::format("{}: expected a JSON object, found {}", kWhat, JsonTypeName(root)),
                    std::string(kShapeHint),
                    0,
                    {}});
  }
  std::vector<PushedSample> out;
  const bool has_samples = root.contains("samples");
  const bool has_signals = root.contains("signals") || root.contains("target");
  if (has_samples && has_signals) {
    return core::Fail(Problem(core::ErrorCode::kParse, "samples",
                              "give either \"samples\" or \"target\" with \"signals\", not both"));
  }
  if (has_samples) {
    if (auto keys = CheckKeys(root, "", {"samples"}); !keys) return core::Fail(keys.error());
    const json& samples = root["samples"];
    if (!samples.is_array()) return core::Fail(Expected("samples", "an array", samples));
    if (samples.size() > kMaxPushedSamples) return core::Fail(TooMany("samples", samples.size()));
    for (size_t i = 0; i < samples.size(); ++i) {
      const std::string path = JsonPath("samples", i);
      const json& item = samples[i];
      if (!item.is_object()) return core::Fail(Expected(path, "an object", item));
      if (auto keys = CheckKeys(item, path, {"target", "signal", "value", "at", "source"}); !keys) {
        return core::Fail(keys.error());
      }
      for (const char* key : {"target", "signal", "value"}) {
        if (!item.contains(key)) {
          return core::Fail(Problem(core::ErrorCode::kParse, JsonPath(path, key), "missing"));
        }
      }
      PushedSample sample;
      auto target = Target(item["target"], JsonPath(path, "target"), targets);
      if (!target) return core::Fail(target.error());
      sample.target = *target;
      const json& signal = item["signal"];
      if (!signal.is_string()) {
        return core::Fail(Expected(JsonPath(path, "signal"), "a signal name (string)", signal));
      }
      auto name = Signal(signal.get<std::string>(), JsonPath(path, "signal"));
      if (!name) return core::Fail(name.error());
      sample.signal = *name;
      auto value = Value(item["value"], JsonPath(path, "value"));
      if (!value) return core::Fail(value.error());
      sample.value = *value;
      auto at = At(item, path);
      if (!at) return core::Fail(at.error());
      sample.at = *at;
      auto source = Source(item, path);
      if (!source) return core::Fail(source.error());
      sample.source = *source;
      out.push_back(std::move(sample));
    }
    return out;
  }
  if (auto keys = CheckKeys(root, "", {"target", "signals", "at", "source"}); !keys) {
    return core::Fail(keys.error());
  }
  if (!root.contains("target")) {
    return core::Fail(Problem(core::ErrorCode::kParse, "target", "missing"));
  }
  if (!root.contains("signals")) {
    return core::Fail(Problem(core::ErrorCode::kParse, "signals", "missing"));
  }
  auto target = Target(root["target"], "target", targets);
  if (!target) return core::Fail(target.error());
  const json& signals = root["signals"];
  if (!signals.is_object()) {
    return core::Fail(Expected("signals", "an object of signal: value", signals));
  }
  if (signals.empty()) return core::Fail(Problem(core::ErrorCode::kParse, "signals", "empty"));
  if (signals.size() > kMaxPushedSamples) return core::Fail(TooMany("signals", signals.size()));
  auto at = At(root, "");
  if (!at) return core::Fail(at.error());
  auto source = Source(root, "");
  if (!source) return core::Fail(source.error());
  for (const auto& [key, value] : signals.items()) {
    const std::string path = JsonPath("signals", key);
    auto name = Signal(key, path);
    if (!name) return core::Fail(name.error());
    auto number = Value(value, path);
    if (!number) return core::Fail(number.error());
    out.push_back(PushedSample{*target, *name, *number, *at, *source});
  }
  return out;
}

}  // namespace dbrunbook::api
