#!/usr/bin/env bash
# Remakes the shard fixtures of test_merge.py (shards3, shards3_unsharded.json, shards1,
# shards1_open) from real cabench runs, against the servers in CABENCH_* (small preset):
#   eval "$(tools/servers start)"; build/bin/cabench_load --preset=small
#   tools/tests/data/make_shards.sh
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)
data=$root/tools/tests/data
cabench=${CABENCH:-$root/build/bin/cabench}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
at() { echo $(($(date +%s%3N) + ${1:-4000})); }
shards() {  # OUT COUNT FILTER FLAGS...
  local out=$1 count=$2 filter=$3 start
  shift 3
  start=$(at 5000)
  for ((i = 0; i < count; i++)); do
    "$cabench" --scenarios="$root/scenarios" --benchmark_filter="$filter" --shard_index=$i \
      --shard_count="$count" --start_at="$start" --out_dir="$out" "$@" >/dev/null 2>&1 &
  done
  wait
}
shards "$tmp/shards3" 3 '^CacheAside/concurrency/' --queries=2000
"$cabench" --scenarios="$root/scenarios" --benchmark_filter='^CacheAside/concurrency/' \
  --queries=2000 --no_twins --out_dir="$tmp/unsharded" \
  --benchmark_out="$tmp/shards3_unsharded.json" --benchmark_out_format=json >/dev/null 2>&1
shards "$tmp/shards1" 1 '^CacheAside/read_heavy/' --queries=1000
shards "$tmp/shards1_open" 1 '^CacheAside/read_heavy/' --queries=500 --rate_per_s=4000
for d in shards3 shards1 shards1_open; do
  rm -rf "${data:?}/$d"
  cp -r "$tmp/$d" "$data/$d"
done
cp "$tmp/shards3_unsharded.json" "$data/shards3_unsharded.json"
echo "remade shards3, shards3_unsharded.json, shards1, shards1_open in $data"
