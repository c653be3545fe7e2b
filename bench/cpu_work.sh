#!/usr/bin/env bash
# The CPU a change costs, with no load: W1's change (pgbench_accounts.abalance int -> bigint) made
# by pg_repack and by zerodown on fresh copies of the same data, and the server CPU seconds each
# used, booked by application_name (zerodown's copy, replay, monitor sessions; pg_repack; the
# server's own checkpointer and autovacuum). Under an unthrottled load every CPU second a change
# takes is a second the application does not get, so this is the cost behind `lost@base` in the
# rate sweep, measured without its noise. See docs/bench.md.
#
#   bench/cpu_work.sh [--scale 20] [--runs 3] [--variants c,e,f] [--zerodown build/release/zerodown]
#                     [--start-flags "--copy-sessions 1"]
#
# Variants: b = native ALTER ... TYPE bigint, c = pg_repack -t pgbench_accounts (default options),
# e = zerodown start + complete on the pgroll-format file, f = the same on the plain SQL file.
# Runs alternate the variants' order. Prints one line per variant and run, then the medians.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
scale=20
runs=3
variants=c,e,f
zerodown=$root/build/release/zerodown
start_flags=

usage() { sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'; }
while [ $# -gt 0 ]; do
  case $1 in
    --scale) scale=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    --variants) variants=$2; shift 2 ;;
    --zerodown) zerodown=$(realpath "$2"); shift 2 ;;
    --start-flags) start_flags=$2; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "cpu_work: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
if [ ! -x "$zerodown" ]; then
  echo "cpu_work: $zerodown not found; run make build or pass --zerodown" >&2
  exit 3
fi

source "$root/bench/lib/cluster.sh"
cluster_start
postmaster=$(head -1 "$CLUSTER_DIR/data/postmaster.pid")
work=$CLUSTER_DIR/work
mkdir -p "$work"
echo "cpu_work: pgbench scale $scale"
cluster_sql postgres "CREATE DATABASE cpu_template"
"$PG_BINDIR/pgbench" -i -q -s "$scale" "$(cluster_url cpu_template)" >"$work/init.log" 2>&1
cluster_sql cpu_template "CREATE EXTENSION pg_repack" 2>/dev/null ||
  echo "cpu_work: pg_repack is not installed (apt-get install postgresql-15-repack)" >&2
"$zerodown" --postgres-url "$(cluster_url cpu_template)" init >/dev/null
url=$(cluster_url cpu_run)

fresh_copy() {
  cluster_sql postgres "DROP DATABASE IF EXISTS cpu_run WITH (FORCE)"
  cluster_sql postgres "CREATE DATABASE cpu_run TEMPLATE cpu_template"
  cluster_sql cpu_run "VACUUM ANALYZE"
  cluster_sql cpu_run "CHECKPOINT"
  sync
}

command_of() {
  case $1 in
    b) echo "$PG_BINDIR/psql -X -q -d '$url' -c 'ALTER TABLE pgbench_accounts ALTER COLUMN abalance TYPE bigint'" ;;
    c) echo "$PG_BINDIR/pg_repack -t pgbench_accounts -d cpu_run -h $CLUSTER_DIR -p $CLUSTER_PORT -U postgres" ;;
    e) echo "'$zerodown' --postgres-url '$url' start $start_flags '$root/bench/w1/alter_abalance.yaml' && '$zerodown' --postgres-url '$url' complete" ;;
    f) echo "'$zerodown' --postgres-url '$url' start $start_flags '$root/bench/w1/alter_abalance.sql' && '$zerodown' --postgres-url '$url' complete" ;;
    *) echo "cpu_work: unknown variant $1" >&2; exit 2 ;;
  esac
}

IFS=, read -r -a chosen <<<"$variants"
results=$work/results.jsonl
for run in $(seq "$runs"); do
  order=("${chosen[@]}")
  if [ $((run % 2)) = 0 ]; then
    order=()
    for ((i = ${#chosen[@]} - 1; i >= 0; i--)); do order+=("${chosen[$i]}"); done
  fi
  for id in "${order[@]}"; do
    fresh_copy
    python3 "$root/bench/lib/cpu_meter.py" --postmaster "$postmaster" --psql "$PG_BINDIR/psql" \
      --url "$(cluster_url postgres)" --label "$id" -- sh -c "$(command_of "$id")" |
      tee -a "$results" || true
  done
done

python3 - "$results" <<'EOF'
import json, statistics, sys
rows = [json.loads(line) for line in open(sys.argv[1])]
names = {"b": "native ALTER", "c": "pg_repack", "e": "zerodown, pgroll file", "f": "zerodown, plain SQL"}
print(f"\n{'variant':24} {'runs':>4} {'wall s':>8} {'server CPU s':>13} {'tool CPU s':>11}  server CPU by session (median s)")
base = None
for label in dict.fromkeys(r["label"] for r in rows):
    mine = [r for r in rows if r["label"] == label and r["exit"] == 0]
    if not mine:
        print(f"{names.get(label, label):24} every run failed")
        continue
    med = lambda key: statistics.median(r[key] for r in mine)
    by = {}
    for r in mine:
        for k, v in r["server_cpu_by_name"].items():
            by.setdefault(k, []).append(v)
    parts = ", ".join(f"{k} {statistics.median(v + [0] * (len(mine) - len(v))):.2f}"
                      for k, v in sorted(by.items(), key=lambda kv: -sum(kv[1])) if sum(v) >= 0.05 * len(mine))
    cpu = med("server_cpu_s")
    if label == "c":
        base = cpu
    ratio = f" ({cpu / base:.2f}x)" if base and label != "c" else ""
    print(f"{names.get(label, label):24} {len(mine):>4} {med('wall_s'):>8.2f} {cpu:>8.2f}{ratio:>5} {med('tool_cpu_s'):>11.2f}  {parts}")
EOF
