#include "api/json_input.h"

#include <fmt/format.h>

#include <chrono>
#include <cstdint>

#include "core/duration.h"
#include "core/text.h"

namespace dbrunbook::api {

core::Result<nlohmann::json> ParseJsonBody(std::string_view body, std::string_view what) {
  if (body.empty()) {
    return core::MakeError(core::ErrorCode::kParse, fmt::format("{} is empty", what),
                           "send a JSON object with Content-Type: application/json");
  }
  try {
    return nlohmann::json::parse(body.begin(), body.end());
  } catch (const nlohmann::json::parse_error& e) {
    // e.what() is "[json.exception.parse_error.101] parse error at line 1, column 5: ...":
    // keep the part after the bracketed id, which says where and what.
    std::string detail = e.what();
    if (const auto close = detail.find("] "); close != std::string::npos) {
      detail = detail.substr(close + 2);
    }
    return core::MakeError(
        core::ErrorCode::kParse,
        fmt::format("{} is not valid JSON (byte {}): {}", what, e.byte, core::OneLine(detail, 200)),
        "send one JSON object encoded in UTF-8");
  } catch (const nlohmann::json::exception& e) {
    // Numbers out of the range of a double (1e999) end here: out_of_range.406.
    std::string detail = e.what();
    if (const auto close = detail.find("] "); close != std::string::npos) {
      detail = detail.substr(close + 2);
    }
    return core::MakeError(
        core::ErrorCode::kParse,
        fmt::format("{} is not valid JSON: {}", what, core::OneLine(detail, 200)),
        "send one JSON object encoded in UTF-8");
  }
}

std::string JsonPath(std::string_view parent, std::string_view key) {
  if (parent.empty()) return std::string(key);
  return fmt::format("{}.{}", parent, key);
}

std::string JsonPath(std::string_view parent, size_t index) {
  return fmt::format("{}[{}]", parent, index);
}

std::string JsonTypeName(const nlohmann::json& value) {
  switch (value.type()) {
    case nlohmann::json::value_t::null:
      return "null";
    case nlohmann::json::value_t::object:
      return "an object";
    case nlohmann::json::value_t::array:
      return "an array";
    case nlohmann::json::value_t::string:
      return "a string";
    case nlohmann::json::value_t::boolean:
      return "a boolean";
    case nlohmann::json::value_t::number_integer:
    case nlohmann::json::value_t::number_unsigned:
    case nlohmann::json::value_t::number_float:
      return "a number";
    case nlohmann::json::value_t::binary:
      return "binary data";
    case nlohmann::json::value_t::discarded:
      return "nothing";
  }
  return "a value";
}

std::string JsonExcerpt(const nlohmann::json& value) {
  const std::string text = value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return core::OneLine(core::ToValidUtf8(text), 60);
}

std::optional<core::WallTime> ParseRfc3339(std::string_view text) {
  auto t = core::ParseRfc3339(text);
  if (!t) return std::nullopt;
  return *t;
}

bool IsGoZeroTime(core::WallTime t) { return t == core::WallTime::min(); }

}  // namespace dbrunbook::api
