#!/usr/bin/env bash
# Workload W1: pgbench's TPC-B-like transaction on pgbench_accounts under N
# clients while `abalance` changes from int to bigint, by every way a user could do it, all in
# one run on the same machine and data. Prints one table; saves bench/results/<date>.json, one
# SVG chart per variant and each variant's output in bench/results/tmp/<date>-<variant>.log.
# See docs/bench.md for what each column means.
#
#   bench/w1.sh [--scale 20] [--clients 8] [--warmup 10] [--cooldown 10]
#               [--variants a,b,c,d,e,f,g,i[,h]] [--zerodown build/release/zerodown]
#               [--baseline-seconds auto] [--limit 3600] [--results bench/results] [--waits]
#
# Variants: a = no change (baseline: the load alone, run last for as long as the longest
# change, since the max latency of a window grows with its length; --baseline-seconds N fixes
# it), b = native ALTER … TYPE bigint,
# c = pg_repack --table (a rebuild only: the reference cost of an online rewrite), d = zerodown
# expand/contract in place (`start --mechanism inplace` on the pgroll-format file, then
# `complete`), e = the same file with `--mechanism shadow` (copy into a new heap, swap), f =
# zerodown on the plain SQL ALTER (default mechanism: auto), g = `zerodown repack` (a rebuild
# only: the like-for-like of c), h (not in the default set) = e copied by one session
# (`--copy-sessions 1`): what the second copy session changes, i = CPU work alone: one busy
# shell loop per core at idle priority (`chrt --idle`), touching nothing in the database, run
# after the changes for as long as the longest of them: what any use of the CPU does to the
# load's peaks on this machine (docs/bench.md, "What the CPU-only row shows"). `zerodown init` runs before the
# measured window. A command still running after --limit seconds is stopped and reported as not
# finished. --waits samples what the load's clients wait on (pg_stat_activity, every ~5 ms)
# during each variant and prints, per variant, the waits three or more clients were in at once:
# where the max latency comes from (it costs the server a little CPU, so it is off by default).
set -euo pipefail
# The whole script is one block, read before it runs: editing the file during a run (which
# lasts up to an hour) cannot change what the run does.
{

root=$(cd "$(dirname "$0")/.." && pwd)
scale=20
clients=8
warmup=10
cooldown=10
variants=a,b,c,d,e,f,g,i
zerodown=$root/build/release/zerodown
results=$root/bench/results
baseline_seconds=auto
limit=3600
waits=0

usage() { sed -n '2,27p' "$0" | sed 's/^# \{0,1\}//'; }
while [ $# -gt 0 ]; do
  case $1 in
    --scale) scale=$2; shift 2 ;;
    --clients) clients=$2; shift 2 ;;
    --warmup) warmup=$2; shift 2 ;;
    --cooldown) cooldown=$2; shift 2 ;;
    --variants) variants=$2; shift 2 ;;
    --zerodown) zerodown=$(realpath "$2"); shift 2 ;;
    --results) results=$2; shift 2 ;;
    --baseline-seconds) baseline_seconds=$2; shift 2 ;;
    --limit) limit=$2; shift 2 ;;
    --waits) waits=1; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "w1: unknown argument $1" >&2; usage >&2; exit 2 ;;
  esac
done
if [ ! -x "$zerodown" ]; then
  echo "w1: $zerodown is missing; build it first (make build, or cmake --build build/release --target zerodown)" >&2
  exit 2
fi

# shellcheck source=bench/lib/cluster.sh
source "$root/bench/lib/cluster.sh"
mkdir -p "$results" "$results/tmp"
stamp=$(date +%Y-%m-%dT%H%M%S)
work=$(mktemp -d /tmp/zerodown-w1.XXXXXX)
started=$(date +%s)

cluster_start
trap 'cluster_stop; rm -rf "$work"' EXIT
echo "w1: PostgreSQL $("$PG_BINDIR/postgres" --version | awk '{print $3}') in $CLUSTER_DIR; pgbench scale $scale ($((scale * 100000)) accounts), $clients clients, $(nproc) cores"

# One template, copied per variant: CREATE DATABASE … TEMPLATE is a file copy, far faster than
# pgbench -i, and every variant starts from the same bytes.
cluster_sql postgres "CREATE DATABASE w1_template"
if ! "$PG_BINDIR/pgbench" -i -q -s "$scale" "$(cluster_url w1_template)" >"$work/pgbench.log" 2>&1; then
  cat "$work/pgbench.log" >&2
  exit 1
fi
have_repack=1
cluster_sql w1_template "CREATE EXTENSION pg_repack" || have_repack=0
url=$(cluster_url w1_run)
zd=("$zerodown" --postgres-url "$url")

# Whether this zerodown binary can run `start` on this file yet (the engine is growing): pointed
# at a server that does not exist, a command that understood the file fails to connect (exit 3);
# one that cannot read the file yet fails before that.
zerodown_can_start() {
  local rc=0
  "$zerodown" --postgres-url "host=$work port=1 dbname=none connect_timeout=1" start "$1" \
    >"$work/probe.log" 2>&1 || rc=$?
  [ "$rc" -eq 3 ]
}

# The ACCESS EXCLUSIVE hold time of the last shadow-copy swap zerodown recorded (none for the
# in-place mechanism: the query then returns no row and the lock column says "-").
swap_lock_sql="SELECT (checkpoint->>'swap_lock_ms')::float FROM zerodown.steps WHERE action LIKE '%shadow_copy' ORDER BY updated_at DESC LIMIT 1"

# lock: `whole` = the command holds ACCESS EXCLUSIVE throughout (lock ms = its duration), `swap` =
# a zerodown command (init first; lock ms = its last swap's, from zerodown.steps), `-` = unknown.
run_variant() {  # id, label, lock (whole | swap | -), command…
  local id=$1 label=$2 lock=$3
  shift 3
  echo "w1: ($id) $label"
  cluster_sql postgres "DROP DATABASE IF EXISTS w1_run WITH (FORCE)"
  cluster_sql postgres "CREATE DATABASE w1_run TEMPLATE w1_template"
  # pgbench -i vacuumed the template; a checkpoint keeps the previous variant's writes from
  # being flushed during this one.
  cluster_sql w1_run "CHECKPOINT"
  # With fsync off, the database's copy and the checkpoint leave ~300 MB (scale 20) dirty in
  # the OS cache, which the kernel writes back 30 s later (dirty_expire_centisecs): in the
  # middle of the measured window, where it stalled several clients at once for 100-600 ms in
  # every variant, the no-change one too. Written out now, before the load starts.
  sync
  local bench_args=()
  case $lock in
    whole) bench_args=(--cutover-lock-whole) ;;
    swap)
      # The state schema is one-time setup, not part of the change: outside the measured window.
      "${zd[@]}" init >/dev/null
      bench_args=(--cutover-lock-sql "$swap_lock_sql") ;;
  esac
  # The baseline's rate is what the table's lost@base column measures every change against.
  if [ "$id" = a ]; then bench_args+=(--baseline); fi
  local status=0
  # timeout(1) stops the command alone (exit 124): bench reports the load up to that moment.
  # Not the baseline's `sleep`, which ends by itself and may be as long as the limit.
  local guard=(timeout "$limit")
  if [ "$id" = a ]; then guard=(); fi
  if [ "$waits" = 1 ]; then start_wait_sampler; fi
  "$zerodown" --postgres-url "$url" --json bench --clients "$clients" --warmup "$warmup" \
    --cooldown "$cooldown" --label "($id) $label" --svg "$results/$stamp-$id.svg" \
    "${bench_args[@]}" -- "${guard[@]}" "$@" >"$work/$id.json" \
    2> >(tee "$results/tmp/$stamp-$id.log" >&2) || status=$?
  if [ "$waits" = 1 ]; then stop_wait_sampler "$id"; fi
  if [ ! -s "$work/$id.json" ]; then
    echo "w1: ($id) produced no report (exit $status)" >&2
    printf '{"label": "(%s) %s", "note": "benchmark failed (exit %s)"}\n' "$id" "$label" "$status" \
      >"$work/$id.json"
  elif grep -q '"command_exit": *124' "$work/$id.json"; then
    echo "w1: ($id) did not finish within $limit s (--limit); stopped" >&2
    sed -i "s/\"note\": *\"[^\"]*\"/\"note\": \"did not finish within $limit s (stopped)\"/" \
      "$work/$id.json"
  fi
  local seconds
  seconds=$(grep -o '"change_seconds": *[0-9.]*' "$work/$id.json" | head -1 | sed 's/.*: *//')
  if [ -n "$seconds" ] && [ "$id" != a ]; then
    longest=$(awk -v a="$longest" -v b="$seconds" 'BEGIN { print (b > a ? b : a) }')
  fi
}
longest=0

# --waits: a server-side loop (its own session in the postgres database, committing every sample
# so that it holds back no vacuum) records every wait of an active load client (bench's
# connections are named zerodown-load) that is not a wait for the client itself.
start_wait_sampler() {
  cluster_sql postgres "DROP TABLE IF EXISTS w1_waits; CREATE UNLOGGED TABLE w1_waits (at timestamptz, pid int, wait text)"
  "$PG_BINDIR/psql" -X -q -d "$(cluster_url postgres)" -c "DO \$\$ DECLARE t timestamptz; BEGIN LOOP
      PERFORM pg_stat_clear_snapshot();
      t := clock_timestamp();
      INSERT INTO w1_waits SELECT t, pid, wait_event_type || ':' || wait_event
        FROM pg_stat_activity WHERE application_name = 'zerodown-load' AND state = 'active'
        AND wait_event_type IS NOT NULL AND wait_event_type <> 'Client';
      COMMIT; PERFORM pg_sleep(0.005); END LOOP; END \$\$" >/dev/null 2>&1 &
  sampler=$!
}

# Stops the sampler and prints, per wait, the samples in which 3 or more clients were in it at
# once, and the most clients in it at once; saved beside the variant's log.
stop_wait_sampler() {  # id
  kill "$sampler" 2>/dev/null || true
  wait "$sampler" 2>/dev/null || true
  cluster_sql postgres "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query LIKE 'DO %w1_waits%' AND pid <> pg_backend_pid()" >/dev/null
  "$PG_BINDIR/psql" -X -q -d "$(cluster_url postgres)" -c "
    SELECT wait, count(*) AS \"samples with >= 3 waiting\", max(clients) AS \"most at once\"
    FROM (SELECT at, wait, count(*) AS clients FROM w1_waits GROUP BY at, wait) AS s
    WHERE clients >= 3 GROUP BY wait ORDER BY 2 DESC" | tee "$results/tmp/$stamp-$1-waits.txt"
}

not_available() {  # id, label, why
  echo "w1: ($1) $2: $3"
  printf '{"label": "(%s) %s", "note": "%s"}\n' "$1" "$2" "$3" >"$work/$1.json"
}

# zerodown start FILE [start flags…], then complete, as one command under the load.
zerodown_start_complete() {  # id, label, file, start flags…
  local id=$1 label=$2 file=$3
  shift 3
  if zerodown_can_start "$file"; then
    run_variant "$id" "$label" swap bash -c \
      '"$0" --postgres-url "$1" start "${@:2}" && "$0" --postgres-url "$1" complete' \
      "$zerodown" "$url" "$file" "$@"
  else
    not_available "$id" "$label" "not available yet"
  fi
}

IFS=, read -r -a chosen <<<"$variants"
# The baseline and the CPU-only reference run last, so that their windows can be as long as the
# longest change.
order=()
for id in "${chosen[@]}"; do [ "$id" = a ] || [ "$id" = i ] || order+=("$id"); done
for id in "${chosen[@]}"; do [ "$id" != i ] || order+=("$id"); done
for id in "${chosen[@]}"; do [ "$id" != a ] || order+=("$id"); done
reference_seconds() {
  if [ "$baseline_seconds" != auto ]; then echo "$baseline_seconds"; return; fi
  awk -v s="$longest" 'BEGIN { s = int(s + 0.5); print (s < 5 ? 5 : s) }'
}
for id in "${order[@]}"; do
  case $id in
    a) run_variant a "no change (baseline)" - sleep "$(reference_seconds)" ;;
    i) # One loop per core, each ending by itself: SCHED_IDLE gets a core only when no other
       # process wants it, so this is CPU work that takes nothing from the load by priority.
       run_variant i "CPU only: idle-priority busy loops" - chrt --idle 0 bash -c \
         'end=$((SECONDS + $0)); for _ in $(seq "$1"); do (while [ $SECONDS -lt $end ]; do :; done) & done; wait' \
         "$(reference_seconds)" "$(nproc)" ;;
    b) run_variant b "native ALTER TYPE bigint" whole "$PG_BINDIR/psql" -X -q -v ON_ERROR_STOP=1 \
         -d "$url" -c "ALTER TABLE pgbench_accounts ALTER COLUMN abalance TYPE bigint" ;;
    c) if [ "$have_repack" = 1 ] && [ -x "$PG_BINDIR/pg_repack" ]; then
         run_variant c "pg_repack --table (rebuild only)" - "$PG_BINDIR/pg_repack" --no-order \
           -h "$CLUSTER_DIR" -p "$CLUSTER_PORT" -U postgres -d w1_run --table=pgbench_accounts
       else
         not_available c "pg_repack --table (rebuild only)" "not installed (apt-get install postgresql-15-repack)"
       fi ;;
    d) zerodown_start_complete d "zerodown expand/contract in place" \
         "$root/bench/w1/alter_abalance.yaml" --mechanism inplace ;;
    e) zerodown_start_complete e "zerodown shadow copy" \
         "$root/bench/w1/alter_abalance.yaml" --mechanism shadow ;;
    f) zerodown_start_complete f "zerodown on plain SQL (auto)" "$root/bench/w1/alter_abalance.sql" ;;
    g) run_variant g "zerodown repack (rebuild only)" swap "${zd[@]}" repack pgbench_accounts ;;
    h) zerodown_start_complete h "zerodown shadow copy, 1 copy session" \
         "$root/bench/w1/alter_abalance.yaml" --mechanism shadow --copy-sessions 1 ;;
    *) echo "w1: unknown variant $id (a-i)" >&2; exit 2 ;;
  esac
done

files=()
for id in "${chosen[@]}"; do files+=("$work/$id.json"); done
{
  printf '{"workload": "W1", "scale": %d, "clients": %d, "warmup_s": %s, "cooldown_s": %s, ' \
    "$scale" "$clients" "$warmup" "$cooldown"
  printf '"cores": %d, "date": "%s", "results": ' "$(nproc)" "$stamp"
  "$zerodown" --json bench --summarize "${files[@]}"
  printf '}\n'
} >"$results/$stamp.json"

# The ratios against pg_repack (docs/bench.md reads its goals from them), when pg_repack ran to
# the end of its change.
versus=()
repack_seconds=$(grep -o '"change_seconds": *[0-9.]*' "$work/c.json" 2>/dev/null | head -1 | sed 's/.*: *//' || true)
if awk -v s="${repack_seconds:-0}" 'BEGIN { exit !(s > 0) }'; then versus=(--versus c); fi
echo
echo "W1: pgbench scale $scale, $clients clients, $(nproc) cores, abalance int -> bigint ($(($(date +%s) - started)) s)"
"$zerodown" bench --summarize "${files[@]}" "${versus[@]}"
if [ ${#versus[@]} -gt 0 ]; then
  echo "goals: 0 failed; lock ms <= 50; against (c): change s <= 1.5x, lost <= 1x;"
  echo "max <= 1.5x the no-change max"
fi
echo "saved: $results/$stamp.json and $results/$stamp-<variant>.svg"
exit
}
