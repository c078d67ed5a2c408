#include "lib/model/eviction.h"

#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace cabench {

absl::StatusOr<Eviction> EvictionFromPolicy(std::string_view policy) {
  if (policy == "allkeys-lru" || policy == "volatile-lru") return Eviction::kLru;
  if (policy == "allkeys-lfu" || policy == "volatile-lfu") return Eviction::kLfu;
  if (policy == "allkeys-random" || policy == "volatile-random") return Eviction::kRandom;
  if (policy == "volatile-ttl") return Eviction::kTtl;
  if (policy == "noeviction" || policy.empty()) return Eviction::kNone;
  return absl::InvalidArgumentError(absl::StrCat("unknown eviction policy '", std::string(policy), "'"));
}

const char* EvictionName(Eviction eviction) {
  switch (eviction) {
    case Eviction::kLru:
      return "lru";
    case Eviction::kLfu:
      return "lfu";
    case Eviction::kRandom:
      return "random";
    case Eviction::kTtl:
      return "ttl";
    case Eviction::kNone:
      return "none";
  }
  return "?";
}

}  // namespace cabench
