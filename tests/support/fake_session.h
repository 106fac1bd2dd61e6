// A mysql::Session for unit tests: answers statements from a script instead of a server.
//
// Replies are registered per statement: an exact text (On), a prefix (OnPrefix) or any
// predicate (OnMatch). Exact rules win over matchers; matchers are tried in the order they were
// registered. Registering several replies for one rule (the same exact text, prefix or matcher
// description) returns them in turn, the last one repeating (a counter that grows between
// polls, then stays). Every statement is recorded in
// the order it was sent, including unexpected ones.
//
// A statement that no rule answers fails with a kInternal error naming the statement, so a test
// that sends something its script does not expect fails loudly instead of reading an empty
// result.
//
// Thread-safety: none (like a real Session, used by one thread at a time).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/error.h"
#include "mysql/result.h"
#include "mysql/session.h"

namespace dbrunbook::testing {

class FakeSession final : public mysql::Session {
 public:
  using Reply = core::Result<mysql::ResultSet>;
  using Matcher = std::function<bool(std::string_view statement)>;

  // `info` is what info() returns; the default has target_name "fake-target" and
  // connection_id 42.
  FakeSession();
  explicit FakeSession(mysql::ConnectionInfo info);

  // Answers the exact statement text with `reply` (a ResultSet, or an error built with
  // ServerError / core::Fail). Returns *this for chaining.
  FakeSession& On(std::string statement, Reply reply);
  // Answers every statement that starts with `prefix`.
  FakeSession& OnPrefix(std::string prefix, Reply reply);
  // Answers every statement `matcher` accepts; `description` names the rule in failures.
  FakeSession& OnMatch(std::string description, Matcher matcher, Reply reply);

  // An error as the server would report it, e.g.
  // ServerError(core::ErrorCode::kPrivilege, 1227, "42000", "Access denied; ...").
  static Reply ServerError(core::ErrorCode code, int server_errno, std::string sqlstate,
                           std::string message);

  core::Result<mysql::ResultSet> Query(std::string_view sql) override;
  const mysql::ConnectionInfo& info() const override { return info_; }
  uint64_t statements_sent() const override { return statements_.size(); }

  // Every statement sent so far, in order.
  const std::vector<std::string>& statements() const { return statements_; }
  void set_info(mysql::ConnectionInfo info) { info_ = std::move(info); }

 private:
  struct Rule {
    std::string description;  // the exact text, or "prefix '...'", or the caller's text
    Matcher matcher;          // empty for exact rules
    std::vector<Reply> replies;
    size_t served = 0;
  };
  Rule* Find(std::string_view sql);
  Rule& ExactRule(std::string statement);

  mysql::ConnectionInfo info_;
  std::vector<Rule> exact_;
  std::vector<Rule> matchers_;
  std::vector<std::string> statements_;
};

}  // namespace dbrunbook::testing
