#include "lib/workload/scenario_params.h"

#include "lib/metrics/json.h"

namespace cabench {
namespace {

const char* WritePolicyWord(WritePolicy p) {
  switch (p) {
    case WritePolicy::kRefresh:
      return "refresh";
    case WritePolicy::kInvalidate:
      return "invalidate";
    case WritePolicy::kTtlOnly:
      return "ttl_only";
  }
  return "?";
}

}  // namespace

std::string ScenarioParamsJson(const Scenario& s, int threads) {
  constexpr char kTwinSuffix[] = "@no_cache";
  std::string name = s.name;
  const bool twin =
      name.size() > sizeof(kTwinSuffix) - 1 &&
      name.compare(name.size() - (sizeof(kTwinSuffix) - 1), std::string::npos, kTwinSuffix) == 0;
  if (twin) name.resize(name.size() - (sizeof(kTwinSuffix) - 1));
  JsonObject o;
  o.Add("scenario", name)
      .Add("threads", threads)
      .Add("queries_per_thread", s.queries_per_thread)
      .Add("read_pct", s.read_pct)
      .Add("ttl_ms", s.ttl_ms)
      .Add("access", AccessName(s.access))
      .Add("cache", s.cache)
      .Add("write_policy", WritePolicyWord(s.write_policy));
  if (twin) o.Add("twin", true);
  if (s.rate_per_s > 0) o.Add("rate_per_s", s.rate_per_s).Add("arrival", ArrivalName(s.arrival));
  if (s.cache_max_memory > 0) o.Add("cache_max_memory", s.cache_max_memory);
  if (s.cache_keys_pct > 0) o.Add("cache_keys_pct", s.cache_keys_pct);
  if (!s.eviction_policy.empty()) o.Add("eviction_policy", s.eviction_policy);
  if (s.access == AccessMode::kZipf) o.Add("zipf_s", s.zipf_s);
  return o.str();
}

}  // namespace cabench
