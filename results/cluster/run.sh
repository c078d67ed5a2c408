#!/bin/bash
# How results/cluster was made: the same scenarios against one cache server and against a
# three-primary cluster (tools/servers start --cache-cluster=3), each with its own MariaDB
# loaded with the small preset, ROUNDS rounds alternating. Starts and stops its own servers
# on ports of its own (CACHE_PORT.. and DB_PORT..). Run from the repository root after a build.
set -euo pipefail
R=${1:-results/cluster}
ROUNDS=${ROUNDS:-2}
CACHE_PORT=${CACHE_PORT:-36379} DB_PORT=${DB_PORT:-33306}
filter='^CacheAside/(concurrency|read_heavy|random_balanced)/'
single=(--cache-port="$CACHE_PORT" --db-port="$DB_PORT")
cluster=(--cache-port=$((CACHE_PORT + 20)) --db-port=$((DB_PORT + 20)))
trap 'tools/servers stop "${single[@]}" || true; tools/servers stop "${cluster[@]}" || true' EXIT
tools/servers start "${single[@]}" >"$R/.single.env"
tools/servers start "${cluster[@]}" --cache-cluster=3 >"$R/.cluster.env"
for kind in single cluster; do
  (source "$R/.$kind.env" && build/bin/cabench_load --preset=small)
done
for round in $(seq 1 "$ROUNDS"); do
  for kind in single cluster; do
    (source "$R/.$kind.env" &&
      build/bin/cabench --benchmark_filter="$filter" --no_twins --out_dir="$R/out/$kind-$round" \
        --benchmark_out="$R/$kind-$round.json" --benchmark_out_format=json)
  done
done
rm -rf "$R/out" "$R/.single.env" "$R/.cluster.env"
