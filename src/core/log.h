// Diagnostic logging to stderr (spdlog), created by main() and handed to whoever logs.
//
// Levels: trace, debug (every statement sent, with its duration), info, warn, error, off.
// Nothing logged may contain a credential: log `Secret`s only through fmt (prints "***").
#pragma once

#include <spdlog/logger.h>

#include <memory>
#include <optional>
#include <string_view>

namespace dbrunbook::core {

using Logger = spdlog::logger;

// A logger writing "2026-11-26T15:38:28.123Z debug message" lines (UTC) to stderr.
std::shared_ptr<Logger> MakeStderrLogger(spdlog::level::level_enum level);
// A logger that drops everything (tests, library defaults).
std::shared_ptr<Logger> MakeNullLogger();

// "trace" ... "off" (any case); nullopt for anything else.
std::optional<spdlog::level::level_enum> ParseLogLevel(std::string_view text);

}  // namespace dbrunbook::core
