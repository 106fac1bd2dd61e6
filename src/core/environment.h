// Process environment as a side effect handed in at construction, so configuration code can
// be tested without touching the real environment (no setenv in tests).
//
// Thread-safety: both implementations are read-only after construction.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace dbrunbook::core {

class Environment {
 public:
  virtual ~Environment() = default;
  virtual std::optional<std::string> Get(const std::string& name) const = 0;
  // Every variable, sorted by name.
  virtual std::vector<std::pair<std::string, std::string>> All() const = 0;
};

// Snapshot of the real process environment taken at construction.
class ProcessEnvironment final : public Environment {
 public:
  ProcessEnvironment();
  std::optional<std::string> Get(const std::string& name) const override;
  std::vector<std::pair<std::string, std::string>> All() const override;

 private:
  std::map<std::string, std::string> vars_;
};

class MapEnvironment final : public Environment {
 public:
  MapEnvironment() = default;
  explicit MapEnvironment(std::map<std::string, std::string> vars) : vars_(std::move(vars)) {}
  void Set(std::string name, std::string value) { vars_[std::move(name)] = std::move(value); }
  std::optional<std::string> Get(const std::string& name) const override;
  std::vector<std::pair<std::string, std::string>> All() const override;

 private:
  std::map<std::string, std::string> vars_;
};

}  // namespace dbrunbook::core
