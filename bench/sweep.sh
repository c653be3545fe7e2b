#!/usr/bin/env bash
# The rate sweep: pgbench's own client (TPC-B-like, pgbench_accounts.abalance int -> bigint) at
# fixed rates, a share of what this machine reaches unthrottled, and unthrottled, each with every
# way of making the change, on fresh copies of the same data, in one run. At a fixed rate pgbench
# measures each transaction from its scheduled start: when the server falls behind the offered
# rate, the queue shows in the latency, as a web application's users would feel it. Judge peaks
# (p99, max, > 100 ms) at the fixed rates, which leave CPU to spare; judge cost (duration,
# transactions lost) unthrottled. See docs/bench.md for how to read the tables.
#
#   bench/sweep.sh [--scale 20] [--clients 8] [--threads 2] [--rates 25,50,75,max]
#                  [--variants b,c,e,f,a] [--warmup 10] [--cooldown 15] [--runs 1]
#                  [--protocol simple|extended|prepared] [--zerodown build/release/zerodown]
#                  [--start-flags "--copy-sessions 1"] [--limit 1800] [--results bench/results]
#
# --rates: percentages of the unthrottled rate (measured first, 20 s of pgbench on a fresh copy),
# and `max` for unthrottled. Variants: a = no change (run last, for as long as the longest change
# of its rate), b = native ALTER ... TYPE bigint, c = pg_repack -t pgbench_accounts with its
# default options (a rebuild only, the reference cost of an online rewrite), e = zerodown start +
# complete on the pgroll-format file, f = zerodown start + complete on the plain SQL file, g (not in
# the default set) = e at full speed whatever the application leaves (--headroom 0, two copy and
# two replay sessions): what waiting for headroom changes.
# --start-flags are added to zerodown's `start` (e.g. to try other session counts). Prints one
# table per rate with ratios against pg_repack; saves bench/results/<date>-sweep-r<run>-<rate>.json,
# a chart per rate and variant (<date>-sweep-r<run>-<rate>-<variant>.svg), all tables in
# <date>-sweep.txt, and each variant's output in tmp/<date>-sweep-r<run>-<rate>-<variant>.log.
set -euo pipefail
{

root=$(cd "$(dirname "$0")/.." && pwd)
scale=20
clients=8
threads=2
rates=25,50,75,max
variants=b,c,e,f,a
warmup=10
cooldown=15
runs=1
protocol=simple
zerodown=$root/build/release/zerodown
start_flags=
limit=1800
results=$root/bench/results

usage() { sed -n '2,25p' "$0" | sed 's/^# \{0,1\}//'; }
while [ $# -gt 0 ]; do
  case $1 in
    --scale) scale=$2; shift 2 ;;
    --clients) clients=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    --rates) rates=$2; shift 2 ;;
    --variants) variants=$2; shift 2 ;;
    --warmup) warmup=$2; shift 2 ;;
    --cooldown) cooldown=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    --protocol) protocol=$2; shift 2 ;;
    --zerodown) zerodown=$(realpath "$2"); shift 2 ;;
    --start-flags) start_flags=$2; shift 2 ;;
    --limit) limit=$2; shift 2 ;;
    --results) results=$2; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "sweep: unknown argument $1" >&2; usage >&2; exit 2 ;;
  esac
done
if [ ! -x "$zerodown" ]; then
  echo "sweep: $zerodown is missing; build it first (make build)" >&2
  exit 2
fi

# shellcheck source=bench/lib/cluster.sh
source "$root/bench/lib/cluster.sh"
mkdir -p "$results" "$results/tmp"
stamp=$(date +%Y-%m-%dT%H%M%S)
work=$(mktemp -d /tmp/zerodown-sweep.XXXXXX)
tables=$results/$stamp-sweep.txt
cluster_start
trap 'cluster_stop; rm -rf "$work"' EXIT
commit=$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)
echo "sweep: PostgreSQL $("$PG_BINDIR/postgres" --version | awk '{print $3}'), pgbench scale $scale, $clients clients, $threads threads, $protocol protocol, $(nproc) cores, commit $commit" | tee "$tables"

cluster_sql postgres "CREATE DATABASE sweep_template"
if ! "$PG_BINDIR/pgbench" -i -q -s "$scale" "$(cluster_url sweep_template)" >"$work/init.log" 2>&1; then
  cat "$work/init.log" >&2
  exit 1
fi
have_repack=1
cluster_sql sweep_template "CREATE EXTENSION pg_repack" 2>/dev/null || have_repack=0
url=$(cluster_url sweep_run)

fresh_copy() {
  cluster_sql postgres "DROP DATABASE IF EXISTS sweep_run WITH (FORCE)"
  cluster_sql postgres "CREATE DATABASE sweep_run TEMPLATE sweep_template"
  cluster_sql sweep_run "CHECKPOINT"
  # The copy leaves the database's files dirty in the OS cache; written out now, not in the
  # middle of the measured window (see bench/w1.sh).
  sync
}

# The rate pgbench reaches unthrottled here: what the fixed rates are shares of.
fresh_copy
capacity=$("$PG_BINDIR/pgbench" -n -c "$clients" -j "$threads" -M "$protocol" -T 20 "$url" 2>/dev/null |
  awk '/^tps = / { print int($3) }')
echo "sweep: unthrottled, pgbench reaches $capacity tx/s" | tee -a "$tables"

swap_lock_sql="SELECT (checkpoint->>'swap_lock_ms')::float FROM zerodown.steps WHERE action LIKE '%shadow_copy' ORDER BY updated_at DESC LIMIT 1"

run_variant() {  # rate tag, rate (0 = unthrottled), id, label, lock (whole|swap|-), command…
  local tag=$1 rate=$2 id=$3 label=$4 lock=$5
  shift 5
  echo "sweep: [$tag] ($id) $label"
  fresh_copy
  local args=(--client pgbench --clients "$clients" --threads "$threads" --protocol "$protocol"
              --warmup "$warmup" --cooldown "$cooldown" --label "($id) $label"
              --svg "$results/$stamp-sweep-$tag-$id.svg")
  if [ "$rate" != 0 ]; then args+=(--rate "$rate"); fi
  case $lock in
    whole) args+=(--cutover-lock-whole) ;;
    swap) "$zerodown" --postgres-url "$url" init >/dev/null
          args+=(--cutover-lock-sql "$swap_lock_sql") ;;
  esac
  local guard=(timeout "$limit")
  if [ "$id" = a ]; then args+=(--baseline); guard=(); fi
  local status=0
  "$zerodown" --postgres-url "$url" --json bench "${args[@]}" -- "${guard[@]}" "$@" \
    >"$work/$tag-$id.json" 2>"$results/tmp/$stamp-sweep-$tag-$id.log" || status=$?
  if [ ! -s "$work/$tag-$id.json" ]; then
    tail -5 "$results/tmp/$stamp-sweep-$tag-$id.log" >&2
    printf '{"label": "(%s) %s", "note": "benchmark failed (exit %s)"}\n' "$id" "$label" "$status" \
      >"$work/$tag-$id.json"
  fi
  local seconds
  seconds=$(grep -o '"change_seconds": *[0-9.]*' "$work/$tag-$id.json" | head -1 | sed 's/.*: *//')
  if [ -n "$seconds" ] && [ "$id" != a ]; then
    longest=$(awk -v a="$longest" -v b="$seconds" 'BEGIN { print (b > a ? b : a) }')
  fi
}

IFS=, read -r -a chosen_rates <<<"$rates"
IFS=, read -r -a chosen <<<"$variants"
order=()
for id in "${chosen[@]}"; do [ "$id" = a ] || order+=("$id"); done
for id in "${chosen[@]}"; do [ "$id" != a ] || order+=("$id"); done

for run in $(seq "$runs"); do
  for share in "${chosen_rates[@]}"; do
    if [ "$share" = max ]; then rate=0; else rate=$((capacity * share / 100)); fi
    tag=r$run-$share
    longest=0
    files=()
    for id in "${order[@]}"; do
      case $id in
        a) run_variant "$tag" "$rate" a "no change (baseline)" - \
             sleep "$(awk -v s="$longest" 'BEGIN { s = int(s + 0.5); print (s < 5 ? 5 : s) }')" ;;
        b) run_variant "$tag" "$rate" b "native ALTER TYPE bigint" whole "$PG_BINDIR/psql" -X -q \
             -v ON_ERROR_STOP=1 -d "$url" -c "ALTER TABLE pgbench_accounts ALTER COLUMN abalance TYPE bigint" ;;
        c) if [ "$have_repack" = 1 ] && [ -x "$PG_BINDIR/pg_repack" ]; then
             run_variant "$tag" "$rate" c "pg_repack -t pgbench_accounts" - "$PG_BINDIR/pg_repack" \
               -h "$CLUSTER_DIR" -p "$CLUSTER_PORT" -U postgres -d sweep_run -t pgbench_accounts
           else
             echo "sweep: pg_repack is not installed (apt-get install postgresql-15-repack)" >&2
             continue
           fi ;;
        e|f|g) file=$root/bench/w1/alter_abalance.yaml
             label="zerodown start + complete, pgroll file"
             flags=$start_flags
             if [ "$id" = f ]; then
               file=$root/bench/w1/alter_abalance.sql
               label="zerodown start + complete, plain SQL"
             elif [ "$id" = g ]; then
               label="zerodown, pgroll file, full speed"
               flags="--headroom 0 --copy-sessions 2 --replay-sessions 2 $start_flags"
             fi
             run_variant "$tag" "$rate" "$id" "$label" swap bash -c \
               '"$0" --postgres-url "$1" start "$2" ${3:+$3} && "$0" --postgres-url "$1" complete' \
               "$zerodown" "$url" "$file" "$flags" ;;
        *) echo "sweep: unknown variant $id (a, b, c, e, f, g)" >&2; exit 2 ;;
      esac
      files+=("$work/$tag-$id.json")
    done
    {
      printf '{"workload": "sweep", "scale": %d, "clients": %d, "threads": %d, ' "$scale" "$clients" "$threads"
      printf '"protocol": "%s", "offered_rate": %d, "unthrottled_rate": %d, "cores": %d, ' \
        "$protocol" "$rate" "$capacity" "$(nproc)"
      printf '"commit": "%s", "date": "%s", "run": %d, "results": ' "$commit" "$stamp" "$run"
      "$zerodown" --json bench --summarize "${files[@]}"
      printf '}\n'
    } >"$results/$stamp-sweep-$tag.json"
    versus=()
    if grep -q '"change_seconds"' "$work/$tag-c.json" 2>/dev/null; then versus=(--versus c); fi
    {
      echo
      if [ "$rate" = 0 ]; then
        echo "run $run, unthrottled (pgbench reached $capacity tx/s alone)"
      else
        echo "run $run, at $rate tx/s ($share% of $capacity, pgbench -R $rate)"
      fi
      "$zerodown" bench --summarize "${files[@]}" "${versus[@]}"
    } | tee -a "$tables"
  done
done
echo "saved: $tables, $results/$stamp-sweep-r<run>-<rate>.json and the charts beside them"
exit
}
