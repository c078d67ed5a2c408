#!/bin/bash
# How results/replicas was made: ROUNDS rounds, alternating, of read_heavy, stale_invalidate
# and stale_refresh with reads on the replicas (CABENCH_*_READ_URL set) and on the primaries
# (unset), on the same servers. Run from the repository root with the variables of
# `tools/servers start --replicas` exported and `cabench_load --preset=small` loaded.
set -euo pipefail
R=${1:-results/replicas}
ROUNDS=${ROUNDS:-3}
filter='^CacheAside/(read_heavy|stale_invalidate|stale_refresh)/'
: "${CABENCH_CACHE_READ_URL:?start the servers with tools/servers start --replicas}"
: "${CABENCH_DB_READ_URL:?start the servers with tools/servers start --replicas}"
for round in $(seq 1 "$ROUNDS"); do
  build/bin/cabench --benchmark_filter="$filter" --no_twins --out_dir="$R/out/replicas-$round" \
    --benchmark_out="$R/replicas-$round.json" --benchmark_out_format=json
  env -u CABENCH_CACHE_READ_URL -u CABENCH_DB_READ_URL \
    build/bin/cabench --benchmark_filter="$filter" --no_twins --out_dir="$R/out/primary-$round" \
    --benchmark_out="$R/primary-$round.json" --benchmark_out_format=json
done
rm -rf "$R/out"
