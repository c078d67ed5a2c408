#include "lib/engine/shard.h"

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace cabench {
namespace {

// A whole number from a variable, nullopt when unset or empty.
absl::StatusOr<std::optional<int64_t>> EnvInt(const GetEnvFn& getenv, const char* name) {
  const char* text = getenv(name);
  if (text == nullptr || *text == '\0') return std::optional<int64_t>();
  int64_t value = 0;
  if (!absl::SimpleAtoi(text, &value)) {
    return absl::InvalidArgumentError(
        absl::StrCat(name, "='", text, "' is not a whole number (shard index or count)"));
  }
  return std::optional<int64_t>(value);
}

}  // namespace

absl::StatusOr<ShardSpec> ResolveShard(std::optional<int64_t> index_flag,
                                       std::optional<int64_t> count_flag, const GetEnvFn& getenv) {
  absl::StatusOr<std::optional<int64_t>> slurm_rank = EnvInt(getenv, "SLURM_PROCID");
  if (!slurm_rank.ok()) return slurm_rank.status();
  absl::StatusOr<std::optional<int64_t>> slurm_tasks = EnvInt(getenv, "SLURM_NTASKS");
  if (!slurm_tasks.ok()) return slurm_tasks.status();
  absl::StatusOr<std::optional<int64_t>> k8s_index = EnvInt(getenv, "JOB_COMPLETION_INDEX");
  if (!k8s_index.ok()) return k8s_index.status();

  std::optional<int64_t> index = index_flag;
  std::optional<int64_t> count = count_flag;
  const char* index_from = "--shard_index";
  const char* count_from = "--shard_count";
  std::string source = "flags";
  if (!count.has_value() && slurm_tasks->has_value() && **slurm_tasks > 1) {
    count = *slurm_tasks;
    count_from = "SLURM_NTASKS";
    source = "slurm";
  }
  if (!index.has_value()) {
    if (source == "slurm" && slurm_rank->has_value()) {
      index = *slurm_rank;
      index_from = "SLURM_PROCID";
    } else if (count_flag.has_value() && slurm_rank->has_value()) {
      index = *slurm_rank;
      index_from = "SLURM_PROCID";
      source = "slurm";
    } else if (count_flag.has_value() && k8s_index->has_value()) {
      index = *k8s_index;
      index_from = "JOB_COMPLETION_INDEX";
      source = "kubernetes";
    }
  }
  if (!index.has_value() && !count.has_value()) return ShardSpec();
  if (!count.has_value()) {
    return absl::InvalidArgumentError(
        absl::StrCat(index_from, " needs a shard count: give --shard_count=N"));
  }
  if (*count < 1 || *count > kMaxShards) {
    return absl::InvalidArgumentError(
        absl::StrCat(count_from, ": expected a shard count 1..", kMaxShards, ", got ", *count));
  }
  if (!index.has_value()) {
    return absl::InvalidArgumentError(absl::StrCat(
        count_from, " needs this process's shard index: give --shard_index=I (0..", *count - 1,
        "), or run under srun (SLURM_PROCID) or a Kubernetes Indexed Job (JOB_COMPLETION_INDEX)"));
  }
  if (*index < 0 || *index >= *count) {
    return absl::InvalidArgumentError(absl::StrCat(index_from, ": expected a shard index 0..",
                                                   *count - 1, " (", count_from, "=", *count,
                                                   "), got ", *index));
  }
  ShardSpec spec;
  spec.index = static_cast<int>(*index);
  spec.count = static_cast<int>(*count);
  spec.source = source;
  return spec;
}

std::vector<int> ShardThreads(const ShardSpec& shard, int threads) {
  std::vector<int> out;
  const int step = shard.sharded() ? shard.count : 1;
  for (int g = shard.sharded() ? shard.index : 0; g < threads; g += step) out.push_back(g);
  return out;
}

absl::Status CheckStartAt(int64_t start_at_ms, int64_t now_ms) {
  if (start_at_ms <= now_ms) {
    return absl::InvalidArgumentError(
        absl::StrCat("--start_at=", start_at_ms, " is ", now_ms - start_at_ms,
                     " ms in the past (now is ", now_ms,
                     "): give an instant after every shard has started, e.g. $(( $(date +%s%3N) "
                     "+ 10000 ))"));
  }
  if (start_at_ms - now_ms > kMaxStartAheadMs) {
    return absl::InvalidArgumentError(
        absl::StrCat("--start_at=", start_at_ms, " is ", (start_at_ms - now_ms) / 1000,
                     " s ahead, more than a day: expected Unix epoch MILLIseconds (date +%s%3N)"));
  }
  return absl::OkStatus();
}

}  // namespace cabench
