// File: lib/engine/shard.h
//
// Static sharding of one benchmark over several load machines, with no
// coordinator: each machine runs its own cabench process, a "shard", told
// only its index I and the shard count N (flags, or the launcher's
// environment), the run's name and the instant its measurement starts. A
// run of T threads is split by GLOBAL thread index: shard I runs the threads
// g = I, I + N, I + 2N, ... (< T). Every thread keeps its global index for
// everything the index decides in the unsharded run (its Workload's and its
// open-loop schedule's seeds, its phase t/R and its rate R/T), so the union
// of the shards' threads sends exactly the operations of one unsharded run of
// T threads: same counts, same keys, same schedule. A shard whose index is
// T or more has no thread of that benchmark and skips it. Round robin rather
// than contiguous blocks: with T not a multiple of N the shards' loads differ
// by one thread at most either way, and shard 0 always holds thread 0 (the
// one that flushes the scenario's keys and warms the cache up) whatever T.
//
// Where the shard comes from (ResolveShard):
//   --shard_index / --shard_count       as given (both, or the index from
//                                       the environment below)
//   SLURM_PROCID / SLURM_NTASKS         srun's task rank and task count
//   JOB_COMPLETION_INDEX                a Kubernetes Indexed Job's pod index
//                                       (with --shard_count: Kubernetes does
//                                       not tell a pod the completion count)
// A run of one task (SLURM_NTASKS=1) is not sharded.
//
// Thread safety: pure functions and plain values; safe to call concurrently.
#ifndef CABENCH_LIB_ENGINE_SHARD_H_
#define CABENCH_LIB_ENGINE_SHARD_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace cabench {

// The most shards a run may have.
inline constexpr int kMaxShards = 1024;

// This process's part of a sharded run. The default is the unsharded run.
struct ShardSpec {
  int index = 0;
  int count = 1;
  // Where index and count came from ("flags", "slurm", "kubernetes"), for
  // messages and the shard's manifest; empty when not sharded.
  std::string source;

  bool sharded() const { return !source.empty(); }
};

// Reads a variable of the environment (nullptr when unset); std::getenv in
// production, a map in tests.
using GetEnvFn = std::function<const char*(const char*)>;

// This process's shard, from the flags (nullopt: not given) and else the
// environment. Returns the unsharded ShardSpec when neither says anything.
// Fails with InvalidArgument, one line naming the flag or variable, when a
// value is not a whole number, the count is outside 1..kMaxShards, the index
// is outside 0..count-1, or --shard_index is given without a count (from
// --shard_count or SLURM_NTASKS).
absl::StatusOr<ShardSpec> ResolveShard(std::optional<int64_t> index_flag,
                                       std::optional<int64_t> count_flag, const GetEnvFn& getenv);

// The global thread indexes of a run of `threads` threads that `shard` runs,
// ascending: index, index + count, ... < threads (empty when index >=
// threads). Unsharded: 0..threads-1.
std::vector<int> ShardThreads(const ShardSpec& shard, int threads);

// How far a sharded run's agreed start may lie ahead: --start_at more than
// this in the future is refused as a mistake (milliseconds vs seconds).
inline constexpr int64_t kMaxStartAheadMs = 24 * 3600 * 1000;

// OK when `start_at_ms` (Unix epoch milliseconds) is after `now_ms` and at
// most kMaxStartAheadMs ahead; InvalidArgument saying how far in the past or
// future it is otherwise.
absl::Status CheckStartAt(int64_t start_at_ms, int64_t now_ms);

}  // namespace cabench

#endif  // CABENCH_LIB_ENGINE_SHARD_H_
