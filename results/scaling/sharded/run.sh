#!/bin/bash
# How results/scaling/sharded was made: ROUNDS rounds of one unsharded run and one
# three-shard run (three local processes) of the same work, alternating, on servers from
# tools/servers start and data from cabench_load --preset=small. Run from the repository root
# with the servers' CABENCH_* variables exported.
set -euo pipefail
R=${1:-results/scaling/sharded}
ROUNDS=${ROUNDS:-3}
filter='^CacheAside/concurrency/'
for round in $(seq 1 "$ROUNDS"); do
  d=$R/round-$round
  build/bin/cabench --benchmark_filter="$filter" --no_twins --out_dir="$d/unsharded" \
    --benchmark_out="$d/unsharded/cabench.json" --benchmark_out_format=json
  start_at=$(($(date +%s%3N) + 3000))
  for i in 0 1 2; do
    build/bin/cabench --benchmark_filter="$filter" --out_dir="$d/sharded" \
      --shard_index=$i --shard_count=3 --start_at=$start_at --run_id=sharded-round-$round &
  done
  wait
  tools/merge "$d/sharded" 2>"$d/merge_notes.txt"
  tools/compare "$d/unsharded/cabench.json" "$d/sharded/merged/cabench.json" \
    >"$d/compare.txt" || true
done
