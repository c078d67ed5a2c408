// libFuzzer target: ParseScenario() on arbitrary bytes (tools/fuzz builds and
// runs it). The loader must return a Status for any input, never crash, throw,
// leak or hang; when it accepts a scenario, the result must satisfy the
// documented ranges.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "absl/status/statusor.h"
#include "lib/workload/scenario.h"
#include "lib/workload/scenario_loader.h"

namespace {

void Check(bool ok) {
  if (!ok) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<cabench::Scenario> s =
      cabench::ParseScenario(text, "fuzz.yaml");
  if (!s.ok()) {
    // One line, naming the file.
    Check(s.status().message().find('\n') == std::string_view::npos);
    Check(s.status().message().substr(0, 10) == "fuzz.yaml:");
    return 0;
  }
  Check(s->name == "fuzz");
  Check(!s->threads.empty());
  for (int t : s->threads) Check(t >= 1 && t <= 1024);
  Check(s->queries_per_thread >= 1 && s->queries_per_thread <= 1000000000);
  Check(s->read_pct >= 0 && s->read_pct <= 100);
  Check(s->ttl_ms >= 1);
  Check(s->ttl_jitter_pct >= 0 && s->ttl_jitter_pct <= 90);
  Check(s->pool_size >= 1 && s->pool_first_id >= 1);
  Check(!s->key_prefix.empty() && s->key_prefix.size() <= 100);
  Check(s->warmup_ops >= 0);
  return 0;
}
