// Test helpers for the SigV4 tests: the HTTP/1.1 request text of the conformance sets as an
// SignableRequest, and ISO-8601 timestamps.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "cloud/sigv4.h"
#include "core/error.h"

namespace dbrunbook::cloud::testing {

struct ParsedHttp {
  SignableRequest request;  // query decoded with ParseQueryString
  std::string target;       // the request-target as written ("/a b/?x=1")
  std::string raw_query;    // the part after the first '?', as written
};

// Parses "METHOD target HTTP/1.1\nName:value\n...\n\nbody". '\r' is removed first (as the
// upstream runners do). The target may contain spaces (aws-c-auth's get-space). A header line
// that starts with a space or tab continues the previous value (obs-fold, replaced by one
// space as RFC 7230 3.2.4 says). The body is everything after the first empty line.
inline core::Result<ParsedHttp> ParseHttpText(std::string_view raw) {
  std::string text;
  for (const char c : raw) {
    if (c != '\r') text.push_back(c);
  }
  ParsedHttp out;
  std::size_t pos = text.find('\n');
  const std::string first = text.substr(0, pos);
  const std::size_t sp1 = first.find(' ');
  const std::size_t sp2 = first.rfind(' ');
  if (sp1 == std::string::npos || sp2 == sp1) {
    return core::MakeError(core::ErrorCode::kParse, "bad request line: " + first);
  }
  out.request.method = first.substr(0, sp1);
  out.target = first.substr(sp1 + 1, sp2 - sp1 - 1);
  const std::size_t q = out.target.find('?');
  out.request.path = out.target.substr(0, q);
  if (q != std::string::npos) {
    out.raw_query = out.target.substr(q + 1);
    auto query = ParseQueryString(out.raw_query);
    if (!query) return core::Fail(query.error());
    out.request.query = std::move(*query);
  }
  while (pos != std::string::npos && pos + 1 <= text.size()) {
    const std::size_t start = pos + 1;
    const std::size_t end = text.find('\n', start);
    const std::string line = text.substr(start, end == std::string::npos ? end : end - start);
    pos = end;
    if (line.empty()) {
      if (end != std::string::npos) out.request.body = text.substr(end + 1);
      break;
    }
    if ((line[0] == ' ' || line[0] == '\t') && !out.request.headers.empty()) {
      out.request.headers.back().value += " " + line;
      continue;
    }
    const std::size_t colon = line.find(':');
    if (colon == std::string::npos) {
      return core::MakeError(core::ErrorCode::kParse, "bad header line: " + line);
    }
    out.request.headers.push_back({line.substr(0, colon), line.substr(colon + 1)});
  }
  return out;
}

// "2015-08-30T12:36:00Z" (UTC only, which is all the sets use).
inline std::chrono::system_clock::time_point ParseIsoTime(std::string_view s) {
  const auto num = [&](std::size_t at, std::size_t len) {
    return std::stoi(std::string(s.substr(at, len)));
  };
  using namespace std::chrono;
  const sys_days day = year{num(0, 4)} / month{static_cast<unsigned>(num(5, 2))} /
                       std::chrono::day{static_cast<unsigned>(num(8, 2))};
  return day + hours{num(11, 2)} + minutes{num(14, 2)} + seconds{num(17, 2)};
}

}  // namespace dbrunbook::cloud::testing
