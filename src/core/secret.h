// A credential held in memory.
//
// `Secret` exists so that a password cannot reach a log line, an error message, a report or
// JSON by accident: it has no implicit conversion to a string, streams and formats as "***",
// and its bytes are wiped when it is destroyed. The only way to the value is `Reveal()`,
// which the MySQL connection calls at the moment it authenticates.
//
// Thread-safety: like std::string (const methods may be called concurrently).
#pragma once

#include <fmt/format.h>

#include <ostream>
#include <string>
#include <string_view>

namespace dbrunbook::core {

class Secret {
 public:
  Secret() = default;
  explicit Secret(std::string value) : value_(std::move(value)) {}
  Secret(const Secret&) = default;
  Secret& operator=(const Secret&) = default;
  Secret(Secret&& other) noexcept;
  Secret& operator=(Secret&& other) noexcept;
  ~Secret();

  bool empty() const { return value_.empty(); }
  const std::string& Reveal() const { return value_; }

  friend bool operator==(const Secret& a, const Secret& b) { return a.value_ == b.value_; }
  friend std::ostream& operator<<(std::ostream& out, const Secret&) { return out << "***"; }

 private:
  void Wipe();
  std::string value_;
};

}  // namespace dbrunbook::core

template <>
struct fmt::formatter<dbrunbook::core::Secret> : fmt::formatter<std::string_view> {
  template <typename FormatContext>
  auto format(const dbrunbook::core::Secret&, FormatContext& ctx) const {
    return fmt::formatter<std::string_view>::format("***", ctx);
  }
};
