// SHOW ENGINE INNODB STATUS text (collect/innodb_status.h) is outside input: a server's
// output of any MySQL/MariaDB release, or an excerpt pasted from elsewhere. Any bytes must
// parse without crashing, and what the parser returns must be self-consistent.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "collect/innodb_status.h"

namespace {

void Check(bool condition) {
  if (!condition) __builtin_trap();
}

void Touch(const dbrunbook::collect::InnodbTransaction& t) {
  for (const auto& lock : t.holds) (void)lock.Describe();
  for (const auto& lock : t.waits_for) Check(!lock.Describe().empty());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const auto status = dbrunbook::collect::ParseInnodbStatus(text);
  if (status.time) (void)status.time->Seconds(), (void)status.time->ToString();
  for (const auto& t : status.transactions) Touch(t);
  if (status.latest_deadlock) {
    const auto& d = *status.latest_deadlock;
    if (d.time) (void)d.time->ToString();
    for (const auto& t : d.transactions) Touch(t);
    // A rolled-back number always names a printed transaction.
    Check(d.rolled_back.has_value() == (d.RolledBack() != nullptr));
  }
  for (const auto& [title, body] : status.sections) Check(!title.empty());
  (void)dbrunbook::collect::ParseInnodbLockLine(text);
  (void)dbrunbook::collect::ParseInnodbTime(text);
  return 0;
}
