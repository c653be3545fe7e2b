#!/usr/bin/env bash
# The blue-green benchmark: two throwaway PostgreSQL 15 clusters (wal_level = logical), pgbench
# scale N initialized on blue, `zerodown bluegreen create` to the empty green, then a ledger
# workload through `zerodown proxy` (pgbench, a custom script: credit a random account and insert
# the credit into a ledger table, one transaction, at a fixed rate) while `bluegreen switch
# --proxy` moves it to green and, after a gap, `switch --back --proxy` moves it back.
# Prints, for each switch: the replication lag before it, its steps with their durations, how
# long zerodown held traffic, and the longest client-visible pause (the largest pgbench latency
# of a transaction that ended during the switch or in the 3 s after it, from scheduled start);
# then failed transactions and the ledger check on the side that serves afterwards (rows
# acknowledged by pgbench = ledger rows, ledger sum = sum of balances) and on the other once it
# caught up. Before the switches, blue's latency under the same load straight to blue, in
# --rounds rounds: --baseline seconds with no change, then while `bluegreen start` changes
# pgbench_accounts.abalance to bigint on green, then `bluegreen rollback` (p99, max and their
# ratio per round and over all rounds; one pgbench run per round, from a second before the
# no-change window to two seconds after the change, so no window holds a new connection's first
# transactions). With --control each round also measures blue while green's server does unrelated
# work as long as the change took (batches of 10,000-row UPDATEs of a copy of pgbench_accounts
# in a database green does not replicate): what blue feels of green's work through the machine
# alone, with no replication and no zerodown involved. With --split-cpus the change phase runs blue's server and pgbench on CPU 0 and
# green's server and zerodown on the others, as on two machines: without it both clusters share
# every core, and blue's latency also shows the CPU the change takes on green. Saves it as bench/results/<date>-bluegreen.txt. See docs/bench.md,
# "Blue-green".
#
#   bench/bluegreen.sh [--scale 10] [--clients 8] [--threads 2] [--rate 400] [--warmup 10]
#                      [--gap 10] [--tail 10] [--step-timeout 10] [--protocol simple|extended]
#                      [--baseline 20] [--rounds 3] [--split-cpus] [--control]
#                      [--zerodown build/release/zerodown] [--results bench/results]
#
# --rate: pgbench's -R (transactions per second over all clients); with a rate, pgbench counts
# latency from each transaction's scheduled start, so the queue that builds behind a pause shows.
set -euo pipefail
{

root=$(cd "$(dirname "$0")/.." && pwd)
scale=10
clients=8
threads=2
rate=400
warmup=10
gap=10
tail_s=10
step_timeout=10
protocol=simple
baseline=20
rounds=3
split_cpus=0
control=0
blue_pin=()
green_pin=()
zerodown=$root/build/release/zerodown
results=$root/bench/results

usage() { sed -n '2,33p' "$0" | sed 's/^# \{0,1\}//'; }
while [ $# -gt 0 ]; do
  case $1 in
    --scale) scale=$2; shift 2 ;;
    --clients) clients=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    --rate) rate=$2; shift 2 ;;
    --warmup) warmup=$2; shift 2 ;;
    --gap) gap=$2; shift 2 ;;
    --tail) tail_s=$2; shift 2 ;;
    --step-timeout) step_timeout=$2; shift 2 ;;
    --protocol) protocol=$2; shift 2 ;;
    --baseline) baseline=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    --split-cpus) split_cpus=1; shift ;;
    --control) control=1; shift ;;
    --zerodown) zerodown=$(realpath "$2"); shift 2 ;;
    --results) results=$2; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "bench-bluegreen: unknown argument $1" >&2; usage >&2; exit 2 ;;
  esac
done
# A client that prepared statements would have to prepare them again after the move.
case $protocol in simple|extended) ;; *)
  echo "bench-bluegreen: --protocol $protocol is not simple or extended" >&2; exit 2 ;;
esac
if [ ! -x "$zerodown" ]; then
  echo "bench-bluegreen: $zerodown is missing; build it first (make build)" >&2
  exit 2
fi

# shellcheck source=bench/lib/cluster.sh
source "$root/bench/lib/cluster.sh"
mkdir -p "$results"
stamp=$(date +%Y-%m-%dT%H%M%S)
work=$(mktemp -d /tmp/zerodown-bgbench.XXXXXX)
chmod 755 "$work"
table=$results/$stamp-bluegreen.txt
pids=()
blue_dir=
green_dir=

cleanup() {
  local pid
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  CLUSTER_DIR=$blue_dir cluster_stop
  CLUSTER_DIR=$green_dir cluster_stop
  rm -rf "$work"
}

# Two clusters, each with its socket in its own directory (so both use port 5432), logical
# decoding on. cluster_start keeps one cluster in CLUSTER_DIR: the first is set aside.
start_clusters() {
  # shellcheck disable=SC2034  # read by cluster_start
  CLUSTER_EXTRA_OPTIONS="-c wal_level=logical -c max_wal_senders=10 -c max_replication_slots=10"
  cluster_start
  blue_dir=$CLUSTER_DIR
  CLUSTER_DIR=
  cluster_start
  green_dir=$CLUSTER_DIR
  trap cleanup EXIT
}
blue_url() { CLUSTER_DIR=$blue_dir cluster_url shop; }
green_url() { CLUSTER_DIR=$green_dir cluster_url shop; }
psql_at() { "$PG_BINDIR/psql" -X -q -At -v ON_ERROR_STOP=1 -d "$1" -c "$2"; }
# `zerodown [--json] bluegreen VERB --green … FLAGS…` on the pair.
zd_bg() {
  local global=()
  if [ "$1" = --json ]; then global=(--json); shift; fi
  "${green_pin[@]}" "$zerodown" "${global[@]}" --postgres-url "$(blue_url)" bluegreen "$1" \
    --green "$(green_url)" \
    "${@:2}"
}

# pgbench's tables on blue (pgbench_history gains a key: logical replication needs one for its
# updates and deletes, and `bluegreen create` refuses a table without) and the ledger.
prepare_blue() {
  CLUSTER_DIR=$blue_dir cluster_sql postgres "CREATE DATABASE shop"
  CLUSTER_DIR=$green_dir cluster_sql postgres "CREATE DATABASE shop"
  if ! "$PG_BINDIR/pgbench" -i -q -s "$scale" "$(blue_url)" >"$work/init.log" 2>&1; then
    cat "$work/init.log" >&2
    exit 1
  fi
  psql_at "$(blue_url)" "ALTER TABLE pgbench_history ADD COLUMN hid bigserial PRIMARY KEY;
    CREATE TABLE ledger (id bigserial PRIMARY KEY, client int NOT NULL, aid int NOT NULL,
      amount int NOT NULL, at timestamptz NOT NULL DEFAULT clock_timestamp())"
}

# `bluegreen create`, then a wait for the initial copy of every table.
create_pair() {
  zd_bg create >"$work/create.log" 2>&1 || { cat "$work/create.log" >&2; exit 1; }
  local ready
  for _ in $(seq 600); do
    ready=$(zd_bg --json status 2>/dev/null | head -1 | jq -r '"\(.tables_ready) \(.tables_total)"')
    if [ "${ready% *}" = "${ready#* }" ]; then return; fi
    sleep 0.5
  done
  echo "bench-bluegreen: green's initial copy did not finish in 300 s ($ready)" >&2
  exit 1
}

start_proxy() {
  proxy_port=$(free_port)
  admin_port=$(free_port)
  "$zerodown" proxy --listen "127.0.0.1:$proxy_port" --admin "127.0.0.1:$admin_port" \
    --target "blue=$(blue_url)" --target "green=$(green_url)" --default blue \
    </dev/null >/dev/null 2>"$work/proxy.log" &
  pids+=($!)
  for _ in $(seq 100); do
    if psql_at "host=127.0.0.1 port=$proxy_port dbname=app user=postgres" 'SELECT 1' \
        >/dev/null 2>&1; then
      return
    fi
    sleep 0.1
  done
  echo "bench-bluegreen: the proxy does not answer; its log:" >&2
  cat "$work/proxy.log" >&2
  exit 1
}

# One switch (`--back` or nothing) through the proxy; its JSON report in $work/switch-$1.json and
# its start and end (epoch seconds) in $work/window-$1.
switch() {  # name, flags…
  local name=$1
  shift
  local began ended status=0
  began=$(date +%s.%N)
  zd_bg --json switch --proxy "127.0.0.1:$admin_port" --step-timeout "$step_timeout" "$@" \
    >"$work/switch-$name.json" 2>"$work/switch-$name.log" || status=$?
  ended=$(date +%s.%N)
  echo "$began $ended" >"$work/window-$name"
  if [ "$status" != 0 ]; then
    echo "bench-bluegreen: switch $name failed (exit $status):" >&2
    cat "$work/switch-$name.log" >&2
  fi
}

cat >"$work/ledger.sql" <<'EOF'
\set aid random(1, 100000 * :scale)
\set amount random(1, 100)
BEGIN;
UPDATE pgbench_accounts SET abalance = abalance + :amount WHERE aid = :aid;
INSERT INTO ledger (client, aid, amount) VALUES (:client_id, :aid, :amount);
END;
EOF

# The load straight to blue, started in the background into $work/$1.*: pgbench at the rate,
# for longer than any round, until load_stop. Sets load_pid.
load_start() {  # prefix
  "${blue_pin[@]}" "$PG_BINDIR/pgbench" -n -c "$clients" -j "$threads" -M "$protocol" -R "$rate" \
    -T 3600 -l --log-prefix="$work/$1" -f "$work/touch.sql" -D scale="$scale" "$(blue_url)" \
    >>"$work/$1.out" 2>&1 &
  load_pid=$!
  pids+=("$load_pid")
  # Its connections' first transactions (a new backend's caches) fall before any window.
  sleep 1
}
# Two seconds on, so that each thread's log has written past the window, the load ends. pgbench
# stopped by SIGTERM loses the lines still in its buffer: a fraction of a second, after that.
load_stop() {
  sleep 2
  kill -TERM "$load_pid" 2>/dev/null || true
  wait "$load_pid" 2>/dev/null || true
  # Off the cleanup list: its pid may be another process's by the time cleanup runs.
  local kept=() pid
  for pid in "${pids[@]}"; do [ "$pid" = "$load_pid" ] || kept+=("$pid"); done
  pids=("${kept[@]}")
}
# The latencies (microseconds, from scheduled start) of the transactions in $work/$1.* that
# ended between $2 and $3 (epoch seconds).
latencies() {  # prefix, from, to
  cat "$work/$1".[0-9]* | awk -v b="$2" -v e="$3" '$3 ~ /^[0-9]+$/ {
      t = $5 + $6 / 1e6; if (t >= b && t <= e) print $3 }'
}
# "transactions p99_ms max_ms" of the latencies on stdin.
latency_stats() {
  sort -n | awk '{ v[NR] = $1 } END { if (NR == 0) { print "0 0 0"; exit }
      i = int(NR * 0.99); if (i < NR * 0.99) i++; if (i < 1) i = 1
      printf "%d %.1f %.1f\n", NR, v[i] / 1000, v[NR] / 1000 }'
}
# An account row rewritten (the table green changes) and a history row, in one transaction; no
# ledger row and no balance change, so the ledger check of the switches stays exact.
cat >"$work/touch.sql" <<'EOF'
\set aid random(1, 100000 * :scale)
BEGIN;
UPDATE pgbench_accounts SET filler = filler WHERE aid = :aid;
INSERT INTO pgbench_history (tid, bid, aid, delta, mtime) VALUES (1, 1, :aid, 0, now());
END;
EOF
cat >"$work/widen.yaml" <<'EOF'
name: widen_abalance
operations:
  - alter_column:
      table: pgbench_accounts
      column: abalance
      type: bigint
      up: abalance::bigint
      down: abalance::int
EOF
# One round: blue's latency with no change on green, then while `bluegreen start` runs there,
# then `bluegreen rollback`, so that the next round and the switches start from green as
# `bluegreen create` left it. Appends the round's line to $work/rounds.txt.
change_round() {  # round
  local r=$1 from began ended start_status=0
  load_start "round$r"
  from=$(date +%s.%N)
  sleep "$baseline"
  began=$(date +%s.%N)
  zd_bg start "$work/widen.yaml" >>"$work/start.log" 2>&1 || start_status=$?
  ended=$(date +%s.%N)
  load_stop
  echo "$from $began" >"$work/base-window$r"
  echo "$began $ended" >"$work/window$r"
  read -r base_n base_p99 base_max <<<"$(latencies "round$r" "$from" "$began" | latency_stats)"
  read -r during_n during_p99 during_max <<<"$(latencies "round$r" "$began" "$ended" | latency_stats)"
  printf '  round %d: no change %6d tx, p99 %6.1f, max %6.1f; start (%4.1f s, exit %d) %6d tx, p99 %6.1f, max %6.1f; ratio p99 %.2f, max %.2f\n' \
    "$r" "$base_n" "$base_p99" "$base_max" \
    "$(awk -v b="$began" -v e="$ended" 'BEGIN { print e - b }')" "$start_status" \
    "$during_n" "$during_p99" "$during_max" \
    "$(awk -v a="$during_p99" -v b="$base_p99" 'BEGIN { print (b > 0 ? a / b : 0) }')" \
    "$(awk -v a="$during_max" -v b="$base_max" 'BEGIN { print (b > 0 ? a / b : 0) }')" \
    >>"$work/rounds.txt"
  if [ "$start_status" != 0 ]; then echo "  FAILED: $(tail -3 "$work/start.log")" >>"$work/rounds.txt"; fi
  zd_bg rollback widen_abalance >>"$work/start.log" 2>&1 || {
    cat "$work/start.log" >&2
    exit 1
  }
  if [ "$control" = 1 ]; then
    control_round "$r" "$(awk -v b="$began" -v e="$ended" 'BEGIN { print e - b }')" "$base_p99" "$base_max"
  fi
}
burn_url() { CLUSTER_DIR=$green_dir cluster_url burn; }
# --control: a copy of pgbench_accounts on green, in a database no subscription writes to.
prepare_control() {
  CLUSTER_DIR=$green_dir cluster_sql postgres "CREATE DATABASE burn"
  "$PG_BINDIR/pgbench" -i -q -s "$scale" -I dtgvp "$(burn_url)" >>"$work/init.log" 2>&1
}
# Blue's latency while green's server rewrites rows of the unrelated copy for $2 seconds, in
# committed batches as a backfill does; appends its line to $work/rounds.txt.
control_round() {  # round, seconds, the round's no-change p99 and max
  local r=$1 base_p99=$3 base_max=$4 began ended n p99 max
  load_start "control$r"
  began=$(date +%s.%N)
  "${green_pin[@]}" "$PG_BINDIR/psql" -X -q -v ON_ERROR_STOP=1 -d "$(burn_url)" -c "DO \$\$
    DECLARE lo bigint := 0; top bigint := (SELECT max(aid) FROM pgbench_accounts);
      stop timestamptz := clock_timestamp() + interval '$2 seconds';
    BEGIN
      WHILE clock_timestamp() < stop LOOP
        UPDATE pgbench_accounts SET abalance = abalance + 0 WHERE aid > lo AND aid <= lo + 10000;
        COMMIT;
        lo := CASE WHEN lo + 10000 >= top THEN 0 ELSE lo + 10000 END;
      END LOOP;
    END \$\$" >>"$work/start.log" 2>&1 || true
  ended=$(date +%s.%N)
  load_stop
  read -r n p99 max <<<"$(latencies "control$r" "$began" "$ended" | latency_stats)"
  echo "$began $ended" >"$work/control-window$r"
  printf '  round %d control: unrelated UPDATEs on green (%4.1f s) %6d tx, p99 %6.1f, max %6.1f; ratio to no change p99 %.2f, max %.2f\n' \
    "$r" "$(awk -v b="$began" -v e="$ended" 'BEGIN { print e - b }')" "$n" "$p99" "$max" \
    "$(awk -v a="$p99" -v b="$base_p99" 'BEGIN { print (b > 0 ? a / b : 0) }')" \
    "$(awk -v a="$max" -v b="$base_max" 'BEGIN { print (b > 0 ? a / b : 0) }')" >>"$work/rounds.txt"
}
# A cluster's postmaster and the processes it has forked to CPUs $2 (those it forks later inherit).
pin_cluster() {  # dir, cpus
  local postmaster child
  postmaster=$(head -1 "$1/data/postmaster.pid")
  taskset -a -p -c "$2" "$postmaster" >/dev/null
  for child in $(pgrep -P "$postmaster"); do taskset -a -p -c "$2" "$child" >/dev/null || true; done
}
# With --split-cpus: blue's side on CPU 0, green's on the rest; "all" undoes it.
split() {  # on|all
  local last=$(($(nproc) - 1))
  if [ "$split_cpus" = 0 ] || [ "$last" -lt 1 ]; then return; fi
  if [ "$1" = on ]; then
    pin_cluster "$blue_dir" 0
    pin_cluster "$green_dir" "1-$last"
    blue_pin=(taskset -c 0)
    green_pin=(taskset -c "1-$last")
  else
    pin_cluster "$blue_dir" "0-$last"
    pin_cluster "$green_dir" "0-$last"
    blue_pin=()
    green_pin=()
  fi
}
# --rounds rounds, then the pooled figures: every no-change window against every change window.
change_phase() {
  local r base_n base_p99 base_max during_n during_p99 during_max control_n control_p99 control_max
  split on
  for r in $(seq "$rounds"); do change_round "$r"; done
  split all
  read -r base_n base_p99 base_max <<<"$(for r in $(seq "$rounds"); do
    read -r b e <"$work/base-window$r"; latencies "round$r" "$b" "$e"; done | latency_stats)"
  read -r during_n during_p99 during_max <<<"$(for r in $(seq "$rounds"); do
    read -r b e <"$work/window$r"; latencies "round$r" "$b" "$e"; done | latency_stats)"
  change_report=$(
    echo "blue's latency, pgbench straight to blue at $rate tx/s ($clients clients), while green changes a column's type ($rounds rounds, ms$([ "$split_cpus" = 1 ] && echo ", blue on CPU 0 and green on the others")):"
    cat "$work/rounds.txt"
    printf '  all rounds: no change %6d tx, p99 %6.1f, max %6.1f; during start %6d tx, p99 %6.1f, max %6.1f\n' \
      "$base_n" "$base_p99" "$base_max" "$during_n" "$during_p99" "$during_max"
    awk -v a="$during_p99" -v b="$base_p99" -v c="$during_max" -v d="$base_max" \
      'BEGIN { if (b > 0 && d > 0) printf "  ratio during / no change, all rounds: p99 %.2f, max %.2f\n", a / b, c / d }'
    if [ "$control" = 1 ]; then
      read -r control_n control_p99 control_max <<<"$(for r in $(seq "$rounds"); do
        read -r b e <"$work/control-window$r"; latencies "control$r" "$b" "$e"; done | latency_stats)"
      printf '  all rounds, control: %6d tx, p99 %6.1f, max %6.1f; ratio control / no change: p99 %.2f, max %.2f\n' \
        "$control_n" "$control_p99" "$control_max" \
        "$(awk -v a="$control_p99" -v b="$base_p99" 'BEGIN { print (b > 0 ? a / b : 0) }')" \
        "$(awk -v a="$control_max" -v b="$base_max" 'BEGIN { print (b > 0 ? a / b : 0) }')"
    fi
  )
}


start_clusters
commit=$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)
header="bench-bluegreen: PostgreSQL $("$PG_BINDIR/postgres" --version | awk '{print $3}'), \
pgbench scale $scale, $clients clients at $rate tx/s through zerodown proxy, $protocol protocol, \
two clusters on one machine, $(nproc) cores, commit $commit, $stamp"
echo "$header" >&2
prepare_blue
create_pair
if [ "$control" = 1 ]; then prepare_control; fi
change_phase
start_proxy

# Each switch takes a few seconds at most (its guardrails included) on a healthy pair.
duration=$((warmup + gap + tail_s + 20))
"$PG_BINDIR/pgbench" -n -h 127.0.0.1 -p "$proxy_port" -U postgres -c "$clients" -j "$threads" \
  -M "$protocol" -R "$rate" -T "$duration" -l --log-prefix="$work/tx" -f "$work/ledger.sql" \
  -D scale="$scale" app >"$work/pgbench.out" 2>&1 &
pgbench_pid=$!
pids+=("$pgbench_pid")
sleep "$warmup"
switch there
sleep "$gap"
switch back --back
wait "$pgbench_pid" || true

# Acknowledged = every transaction pgbench logged as ended (a numeric latency).
cat "$work"/tx.[0-9]* | awk '$3 ~ /^[0-9]+$/' >"$work/tx.log"
acknowledged=$(wc -l <"$work/tx.log")
failed=$(awk '/^number of failed transactions: / { print $5 }' "$work/pgbench.out")
aborted=$(grep -c 'client .* aborted' "$work/pgbench.out" || true)

report_switch() {  # name, title
  local name=$1 began ended
  read -r began ended <"$work/window-$name"
  local longest
  # A transaction's end is its epoch seconds (field 5) and microseconds (field 6).
  longest=$(awk -v b="$began" -v e="$ended" '{ t = $5 + $6 / 1e6 }
    t >= b && t <= e + 3 && $3 > m { m = $3 } END { printf "%.1f", m / 1000 }' "$work/tx.log")
  echo "$2"
  if ! jq -e '.switched' "$work/switch-$name.json" >/dev/null 2>&1; then
    echo "  FAILED: $(tail -3 "$work/switch-$name.log")"
    return
  fi
  # The steps in the order they run (the report's object is keyed by name).
  jq -r '"  lag before: \(.lag_seconds_before * 1000 | round) ms\n  steps (ms):" + ([
      "reverse_prepared", "paused", "fenced", "caught_up", "sequences", "slot",
      "forward_disabled", "reverse_created", "target_unfenced", "moved", "resumed"] as $order | .steps_ms as $s |
      $order | map(" \(.) \($s[.] * 10 | round / 10)") | join(","))
    + "\n  traffic held by zerodown (pause to resume): \(.pause_ms * 10 | round / 10) ms"' \
    "$work/switch-$name.json"
  echo "  longest client-visible pause: $longest ms (pgbench latency from scheduled start)"
}

# The side serving after both switches is blue; green must hold the same once it caught up.
ledger_check() {  # url, side
  psql_at "$1" "SELECT count(*), coalesce(sum(amount), 0),
    (SELECT sum(abalance) FROM pgbench_accounts), count(DISTINCT id) FROM ledger" |
    awk -F'|' -v side="$2" -v acked="$acknowledged" '{
      printf "  %s: %s ledger rows (%s distinct ids) for %s acknowledged, ledger sum %s, balances sum %s: %s\n",
        side, $1, $4, acked, $2, $3, ($1 == acked && $4 == $1 && $2 == $3) ? "ok" : "MISMATCH" }'
}
wait_green() {
  local want
  want=$(psql_at "$(blue_url)" "SELECT count(*) FROM ledger")
  for _ in $(seq 300); do
    [ "$(psql_at "$(green_url)" "SELECT count(*) FROM ledger")" = "$want" ] && return
    sleep 0.1
  done
}

{
  echo "$header"
  echo
  echo "the proxy's log of both switches:"
  grep -E 'WARM|PAUSE|SWITCH|RESUME' "$work/proxy.log" | sed 's/^zerodown proxy: /  /'
  report_switch there "switch blue -> green (bluegreen switch --proxy):"
  report_switch back "switch green -> blue (bluegreen switch --back --proxy):"
  echo "pgbench: $acknowledged transactions acknowledged, ${failed:-0} failed, $aborted clients aborted"
  echo "ledger check:"
  ledger_check "$(blue_url)" "blue (serving)"
  wait_green
  ledger_check "$(green_url)" "green"
  echo "$change_report"
} | tee "$table"
echo "saved: $table"
exit
}
