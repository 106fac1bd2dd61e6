// Shared pieces of the API's request parsers: a JSON body parsed without exceptions, JSON
// paths for error messages ("alerts[2].status"), the type names users see, and RFC 3339
// timestamps as Alertmanager and pushing applications write them.
//
// Thread-safety: pure functions.
#pragma once

#include <cstddef>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "core/clock.h"
#include "core/error.h"

namespace dbrunbook::api {

// Parses `body` as one JSON document. Fails with kParse naming the byte offset and what the
// parser expected ("request body is not valid JSON at byte 17: ..."); `what` names the body
// for the message ("Alertmanager webhook body"). Never throws.
core::Result<nlohmann::json> ParseJsonBody(std::string_view body, std::string_view what);

// "alerts[2]" from ("alerts", 2); "labels.instance" from ("labels", "instance"). An empty
// parent gives the child alone.
std::string JsonPath(std::string_view parent, std::string_view key);
std::string JsonPath(std::string_view parent, size_t index);

// "a string", "a number", "an object", "null" ... for "expected X, found Y" messages.
std::string JsonTypeName(const nlohmann::json& value);

// A JSON value shown in an error message: strings quoted, anything long cut to 60 characters,
// always valid UTF-8.
std::string JsonExcerpt(const nlohmann::json& value);

// RFC 3339 date-time: "2026-11-27T06:35:11Z", "2018-08-03T09:52:26.739266876+02:00" (any
// number of fraction digits; 't' and 'z' accepted; a space instead of 'T' too, as RFC 3339
// allows). nullopt for anything else (no exception, no locale). A time outside what
// system_clock holds (before 1678 or after 2261) reads as WallTime::min() / max(): in practice
// only Go's zero time, 0001-01-01T00:00:00Z, which Alertmanager writes for "no end yet".
std::optional<core::WallTime> ParseRfc3339(std::string_view text);

// True for the WallTime::min() that Go's zero time (and any time before 1678) reads as.
bool IsGoZeroTime(core::WallTime t);

}  // namespace dbrunbook::api
