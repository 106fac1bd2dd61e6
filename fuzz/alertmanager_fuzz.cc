// Alertmanager webhook bodies (api/alertmanager.h) come from the network: any bytes must give
// a payload or an error naming where, without crashing, and every alert of a payload must be
// matched to a configured target or say why not. RFC 3339 times are read from the same bytes.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "api/alertmanager.h"
#include "api/json_input.h"

namespace {

void Check(bool condition) {
  if (!condition) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  dbrunbook::api::AlertTargetRules rules;
  rules.targets = {"orders-primary", "orders-replica", "billing"};
  rules.addresses = {{"orders-primary", "db1.example.com:3306"},
                     {"orders-replica", "db2.example.com:3306"},
                     {"billing", "db1.example.com:3307"}};
  const auto payload = dbrunbook::api::ParseAlertmanagerWebhook(body, rules);
  if (!payload) {
    Check(!payload.error().message.empty());
    Check(!payload.error().hint.empty());
  } else {
    Check(payload->version == "4");
    Check(payload->status == "firing" || payload->status == "resolved");
    for (const auto& alert : payload->alerts) {
      if (alert.target.empty()) {
        Check(!alert.unmatched_reason.empty());
      } else {
        bool known = false;
        for (const auto& target : rules.targets) known = known || target == alert.target;
        Check(known);
        Check(!alert.matched_by.empty());
      }
      Check(!alert.severity.empty());
    }
  }
  (void)dbrunbook::api::ParseRfc3339(body);
  return 0;
}
