#include "support/fake_session.h"

#include <algorithm>
#include <utility>

namespace dbrunbook::testing {
namespace {

mysql::ConnectionInfo DefaultInfo() {
  mysql::ConnectionInfo info;
  info.target_name = "fake-target";
  info.endpoint = "fake:3306";
  info.user = "monitor";
  info.connection_id = 42;
  return info;
}

}  // namespace

FakeSession::FakeSession() : info_(DefaultInfo()) {}

FakeSession::FakeSession(mysql::ConnectionInfo info) : info_(std::move(info)) {}

FakeSession::Rule& FakeSession::ExactRule(std::string statement) {
  for (auto& rule : exact_) {
    if (rule.description == statement) return rule;
  }
  exact_.push_back(Rule{std::move(statement), {}, {}, 0});
  return exact_.back();
}

FakeSession& FakeSession::On(std::string statement, Reply reply) {
  ExactRule(std::move(statement)).replies.push_back(std::move(reply));
  return *this;
}

FakeSession& FakeSession::OnPrefix(std::string prefix, Reply reply) {
  std::string description = "prefix '" + prefix + "'";
  Matcher matcher = [prefix = std::move(prefix)](std::string_view sql) {
    return sql.starts_with(prefix);
  };
  return OnMatch(std::move(description), std::move(matcher), std::move(reply));
}

FakeSession& FakeSession::OnMatch(std::string description, Matcher matcher, Reply reply) {
  for (auto& rule : matchers_) {
    if (rule.description == description) {
      rule.replies.push_back(std::move(reply));
      return *this;
    }
  }
  Rule rule{std::move(description), std::move(matcher), {}, 0};
  rule.replies.push_back(std::move(reply));
  matchers_.push_back(std::move(rule));
  return *this;
}

FakeSession::Reply FakeSession::ServerError(core::ErrorCode code, int server_errno,
                                            std::string sqlstate, std::string message) {
  core::Error error{code, std::move(message), {}, server_errno, std::move(sqlstate)};
  return core::Fail(std::move(error));
}

FakeSession::Rule* FakeSession::Find(std::string_view sql) {
  for (auto& rule : exact_) {
    if (rule.description == sql) return &rule;
  }
  for (auto& rule : matchers_) {
    if (rule.matcher(sql)) return &rule;
  }
  return nullptr;
}

core::Result<mysql::ResultSet> FakeSession::Query(std::string_view sql) {
  statements_.emplace_back(sql);
  Rule* rule = Find(sql);
  if (rule == nullptr || rule->replies.empty()) {
    return core::MakeError(
        core::ErrorCode::kInternal,
        "FakeSession on '" + info_.target_name + "': unexpected statement: " + std::string(sql),
        "register a reply with FakeSession::On, OnPrefix or OnMatch");
  }
  const size_t index = std::min(rule->served, rule->replies.size() - 1);
  ++rule->served;
  return rule->replies[index];
}

}  // namespace dbrunbook::testing
