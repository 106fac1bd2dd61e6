// POST /api/v1/signals bodies (api/signal_push.h) come from the network: any bytes must give
// samples or an error, without crashing, and the samples must respect the contract (known
// targets, pushable signals, finite non-negative values, at most kMaxPushedSamples).
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "api/signal_push.h"

namespace {

void Check(bool condition) {
  if (!condition) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  const std::vector<std::string> targets = {"orders-primary", "orders-replica"};
  const auto samples = dbrunbook::api::ParseSignalPush(body, targets);
  if (!samples) {
    Check(!samples.error().message.empty());
    return 0;
  }
  Check(samples->size() <= dbrunbook::api::kMaxPushedSamples);
  const auto pushable = dbrunbook::api::PushableSignals();
  for (const auto& sample : *samples) {
    Check(sample.target == targets[0] || sample.target == targets[1]);
    bool ok = false;
    for (const auto& name : pushable) ok = ok || name == sample.signal;
    Check(ok);
    Check(std::isfinite(sample.value) && sample.value >= 0);
  }
  return 0;
}
