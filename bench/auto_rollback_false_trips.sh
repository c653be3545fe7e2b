#!/usr/bin/env bash
# How often `start --auto-rollback` rolls back a migration that harms nobody. A steady pgbench
# workload (TPC-B-like, 4 clients unthrottled: all a 2-core server has) runs; `start
# --auto-rollback` begins under it, held by a pause file so the migration does nothing at all,
# and waits --hold seconds. A start that ends in that time was a false trip. Then the pause file
# goes, the start finishes and `rollback` resets for the next run. Prints one line per run and
# the count. Goal: 0.
#
#   bench/auto_rollback_false_trips.sh [--runs 20] [--hold 15] [--clients 4]
#                                      [--statements] [--zerodown build/release/zerodown]
#
# --statements loads pg_stat_statements, so the latency judged is the application's statements'
# (docs/monitoring.md); without it the probe query is judged.
set -euo pipefail
{
root=$(cd "$(dirname "$0")/.." && pwd)
runs=20
hold=15
clients=4
statements=0
zerodown=$root/build/release/zerodown
while [ $# -gt 0 ]; do
  case $1 in
    --runs) runs=$2; shift 2 ;;
    --hold) hold=$2; shift 2 ;;
    --clients) clients=$2; shift 2 ;;
    --statements) statements=1; shift ;;
    --zerodown) zerodown=$2; shift 2 ;;
    *) echo "usage: $0 [--runs N] [--hold S] [--clients N] [--statements] [--zerodown PATH]" >&2; exit 2 ;;
  esac
done
[ -x "$zerodown" ] || { echo "bench: $zerodown not found; build it first (make)" >&2; exit 3; }

# shellcheck source=lib/cluster.sh
source "$root/bench/lib/cluster.sh"
if [ "$statements" = 1 ]; then CLUSTER_EXTRA_OPTIONS="-c shared_preload_libraries=pg_stat_statements"; fi
cluster_start
work=$CLUSTER_DIR/work
mkdir -p "$work"
cluster_sql postgres "CREATE DATABASE bench"
url=$(cluster_url bench)
pgbench() { "$PG_BINDIR/pgbench" -h "$CLUSTER_DIR" -p "$CLUSTER_PORT" -U postgres "$@"; }
pgbench -i -q -s 1 bench >/dev/null 2>&1
cluster_sql bench "CREATE TABLE items (id int PRIMARY KEY, v int NOT NULL);
  INSERT INTO items SELECT g, g FROM generate_series(1, 1000) g;"
if [ "$statements" = 1 ]; then cluster_sql bench "CREATE EXTENSION pg_stat_statements"; fi
"$zerodown" --postgres-url "$url" init >/dev/null
cat >"$work/m.yaml" <<'YAML'
operations:
  - alter_column:
      table: items
      column: v
      type: bigint
      up: v
      down: v::integer
YAML

tripped=0
for run in $(seq 1 "$runs"); do
  pgbench -n -c "$clients" -j 2 -T $((hold + 30)) bench >"$work/pgbench.log" 2>&1 &
  load=$!
  sleep 3
  touch "$work/pause"
  "$zerodown" --postgres-url "$url" start --auto-rollback --mechanism inplace \
    --pause-file "$work/pause" "$work/m.yaml" >"$work/start-$run.log" 2>&1 &
  start=$!
  waited=0
  while [ "$waited" -lt "$hold" ] && kill -0 "$start" 2>/dev/null; do sleep 1; waited=$((waited + 1)); done
  if kill -0 "$start" 2>/dev/null; then
    rm -f "$work/pause"
    wait "$start" || true
    echo "run $run: held ${hold}s, no rollback"
    "$zerodown" --postgres-url "$url" rollback >/dev/null 2>&1
  else
    wait "$start" || true
    tripped=$((tripped + 1))
    echo "run $run: TRIPPED after ${waited}s: $(grep -o 'automatic rollback: .*' "$work/start-$run.log" | head -1)"
  fi
  kill "$load" 2>/dev/null || true
  wait "$load" 2>/dev/null || true
done
echo "false trips: $tripped of $runs (clients $clients, hold ${hold}s, latency source: $([ "$statements" = 1 ] && echo statements || echo probe))"
}
