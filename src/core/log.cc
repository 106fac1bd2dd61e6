#include "core/log.h"

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/null_sink.h>
#include <spdlog/sinks/stdout_sinks.h>

#include "core/strings.h"

namespace dbrunbook::core {

std::shared_ptr<Logger> MakeStderrLogger(spdlog::level::level_enum level) {
  auto sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
  auto logger = std::make_shared<Logger>("dbrunbook", std::move(sink));
  logger->set_formatter(std::make_unique<spdlog::pattern_formatter>(
      "%Y-%m-%dT%H:%M:%S.%eZ %l %v", spdlog::pattern_time_type::utc));
  logger->set_level(level);
  return logger;
}

std::shared_ptr<Logger> MakeNullLogger() {
  auto logger = std::make_shared<Logger>("null", std::make_shared<spdlog::sinks::null_sink_mt>());
  logger->set_level(spdlog::level::off);
  return logger;
}

std::optional<spdlog::level::level_enum> ParseLogLevel(std::string_view text) {
  const std::string lower = ToLower(Trim(text));
  if (lower == "trace") return spdlog::level::trace;
  if (lower == "debug") return spdlog::level::debug;
  if (lower == "info") return spdlog::level::info;
  if (lower == "warn" || lower == "warning") return spdlog::level::warn;
  if (lower == "error") return spdlog::level::err;
  if (lower == "off") return spdlog::level::off;
  return std::nullopt;
}

}  // namespace dbrunbook::core
