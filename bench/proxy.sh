#!/usr/bin/env bash
# The proxy benchmark: the same pgbench runs straight to the server, through PgBouncer and through
# `zerodown proxy`, both poolers in transaction pooling with the same number of server
# connections, on one throwaway PostgreSQL 15, side by side. Two workloads (pgbench's TPC-B-like
# transaction and its select-only `-S`), each at every client count. Each pooler runs --rounds
# times per workload and client count, in mirrored order (PgBouncer, zerodown, direct, zerodown,
# PgBouncer; the next cell starts with zerodown), so a drift of the machine during a cell weighs
# on both poolers alike; each run follows a --warmup through the same route, so the pooler's
# server connections are open and warm for that client count before the clock starts.
# Prints one table (TPS averaged over the rounds, p50 and p99 latency from pgbench's
# per-transaction logs of all rounds, failed transactions, and zerodown's ratios to direct and to
# PgBouncer) and saves it as bench/results/<date>-proxy.txt. See docs/bench.md, "Proxy".
#
#   bench/proxy.sh [--scale 10] [--clients 8,64] [--threads 2] [--duration 20] [--rounds 2]
#                  [--warmup 2] [--protocol simple|extended|prepared] [--pool-size 20]
#                  [--workloads tpcb,select] [--zerodown build/release/zerodown]
#                  [--pgbouncer /usr/sbin/pgbouncer] [--results bench/results]
#
# --pool-size: server connections per pooler (PgBouncer's default_pool_size, zerodown's
# --max-server-connections); PgBouncer's own default is 20. PgBouncer comes from the Debian package
# `pgbouncer` (`ZERODOWN_BOOTSTRAP_BENCH=1 scripts/bootstrap.sh`, which `make bench-proxy` runs).
# PgBouncer 1.18 does not keep named prepared statements in transaction pooling: with
# `--protocol prepared` its clients fail, and the table says so.
set -euo pipefail
{

root=$(cd "$(dirname "$0")/.." && pwd)
scale=10
clients=8,64
threads=2
duration=20
rounds=2
warmup=2
protocol=simple
pool_size=20
workloads=tpcb,select
zerodown=$root/build/release/zerodown
pgbouncer=$(command -v pgbouncer || echo /usr/sbin/pgbouncer)
results=$root/bench/results

usage() { sed -n '2,24p' "$0" | sed 's/^# \{0,1\}//'; }
while [ $# -gt 0 ]; do
  case $1 in
    --scale) scale=$2; shift 2 ;;
    --clients) clients=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    --duration) duration=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    --warmup) warmup=$2; shift 2 ;;
    --protocol) protocol=$2; shift 2 ;;
    --pool-size) pool_size=$2; shift 2 ;;
    --workloads) workloads=$2; shift 2 ;;
    --zerodown) zerodown=$(realpath "$2"); shift 2 ;;
    --pgbouncer) pgbouncer=$2; shift 2 ;;
    --results) results=$2; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "bench-proxy: unknown argument $1" >&2; usage >&2; exit 2 ;;
  esac
done
case $protocol in simple|extended|prepared) ;; *)
  echo "bench-proxy: --protocol $protocol is not simple, extended or prepared" >&2; exit 2 ;;
esac
if [ ! -x "$zerodown" ]; then
  echo "bench-proxy: $zerodown is missing; build it first (make build)" >&2
  exit 2
fi
if [ ! -x "$pgbouncer" ]; then
  echo "bench-proxy: pgbouncer is not installed; run ZERODOWN_BOOTSTRAP_BENCH=1 scripts/bootstrap.sh" >&2
  exit 2
fi

# shellcheck source=bench/lib/cluster.sh
source "$root/bench/lib/cluster.sh"
mkdir -p "$results"
stamp=$(date +%Y-%m-%dT%H%M%S)
work=$(mktemp -d /tmp/zerodown-proxybench.XXXXXX)
chmod 755 "$work"
table=$results/$stamp-proxy.txt
pids=()

cleanup() {
  local pid
  # PgBouncer runs under runuser, which does not pass a signal on: its own pid file says whom.
  if [ -s "$work/pgbouncer.pid" ]; then kill "$(cat "$work/pgbouncer.pid")" 2>/dev/null || true; fi
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  cluster_stop
  rm -rf "$work"
}

# Waits until `psql` gets an answer through port $1 (the pooler is up), for at most 10 s.
wait_ready() {
  for _ in $(seq 100); do
    if "$PG_BINDIR/psql" -X -q -h 127.0.0.1 -p "$1" -U postgres -d bench -c 'SELECT 1' \
        >/dev/null 2>&1; then
      return
    fi
    sleep 0.1
  done
  echo "bench-proxy: nothing answers on port $1; its log:" >&2
  cat "$2" >&2
  exit 1
}

# PgBouncer with a generated ini: transaction pooling, clients let in without a password (the
# throwaway cluster trusts its socket), the server reached over the cluster's unix socket. It
# refuses to run as root, so it runs as the cluster's owner.
start_pgbouncer() {
  bouncer_port=$(free_port)
  printf '"postgres" ""\n' >"$work/userlist.txt"
  cat >"$work/pgbouncer.ini" <<EOF
[databases]
bench = host=$CLUSTER_DIR port=$CLUSTER_PORT dbname=bench user=postgres
[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $bouncer_port
unix_socket_dir =
auth_type = trust
auth_file = $work/userlist.txt
pool_mode = transaction
default_pool_size = $pool_size
max_client_conn = 1000
logfile = $work/pgbouncer.log
pidfile = $work/pgbouncer.pid
EOF
  chmod 644 "$work"/pgbouncer.ini "$work"/userlist.txt
  if [ "$(id -u)" -eq 0 ]; then chown postgres: "$work"; fi
  as_server_user "$pgbouncer" -q "$work/pgbouncer.ini" </dev/null >/dev/null 2>&1 &
  pids+=($!)
  wait_ready "$bouncer_port" "$work/pgbouncer.log"
}

start_zerodown() {
  zerodown_port=$(free_port)
  "$zerodown" proxy --listen "127.0.0.1:$zerodown_port" --target "bench=$(cluster_url bench)" \
    --pool-mode transaction --max-server-connections "$pool_size" </dev/null >/dev/null 2>"$work/zerodown.log" &
  pids+=($!)
  wait_ready "$zerodown_port" "$work/zerodown.log"
}

cluster_start
trap cleanup EXIT
commit=$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)
cluster_sql postgres "CREATE DATABASE bench"
if ! "$PG_BINDIR/pgbench" -i -q -s "$scale" "$(cluster_url bench)" >"$work/init.log" 2>&1; then
  cat "$work/init.log" >&2
  exit 1
fi
start_pgbouncer
start_zerodown

header="bench-proxy: PostgreSQL $("$PG_BINDIR/postgres" --version | awk '{print $3}'), \
$("$pgbouncer" --version | head -1), pgbench scale $scale, $protocol protocol, -j $threads, \
$duration s per run, $rounds rounds per pooler after ${warmup} s of warm-up, $pool_size server connections per pooler, $(nproc) cores, commit $commit, $stamp"
echo "$header"

# The same starting point for every run: no history rows, vacuumed small tables, a checkpoint
# (what pgbench does itself without -n, done here the same way for all three routes).
reset_tables() {
  cluster_sql bench "TRUNCATE pgbench_history" >/dev/null
  cluster_sql bench "VACUUM pgbench_branches, pgbench_tellers, pgbench_history" >/dev/null
  cluster_sql bench "CHECKPOINT" >/dev/null
}

# One pgbench run of $duration seconds (after $warmup seconds unmeasured); appends "workload
# clients route tps failed" to $work/runs and keeps pgbench's per-transaction log lines in
# $work/lat-<workload>-<clients>-<route>.
run_one() {  # workload, clients, route, round
  local workload=$1 n=$2 route=$3 round=$4 port host args=()
  case $route in
    direct) host=$CLUSTER_DIR; port=$CLUSTER_PORT ;;
    pgbouncer) host=127.0.0.1; port=$bouncer_port ;;
    zerodown) host=127.0.0.1; port=$zerodown_port ;;
  esac
  if [ "$workload" = select ]; then args+=(-S); fi
  local prefix=$work/log-$workload-$n-$route-$round
  if [ "$warmup" -gt 0 ]; then
    "$PG_BINDIR/pgbench" -n -h "$host" -p "$port" -U postgres -c "$n" -j "$threads" \
      -M "$protocol" -T "$warmup" "${args[@]}" bench >/dev/null 2>&1 || true
  fi
  reset_tables
  local status=0
  "$PG_BINDIR/pgbench" -n -h "$host" -p "$port" -U postgres -c "$n" -j "$threads" \
    -M "$protocol" -T "$duration" -l --log-prefix="$prefix" "${args[@]}" bench \
    >"$prefix.out" 2>&1 || status=$?
  local tps failed
  tps=$(awk '/^tps = / { printf "%.0f", $3 }' "$prefix.out")
  failed=$(awk '/^number of failed transactions: / { print $5 }' "$prefix.out")
  if [ "$status" != 0 ]; then
    local aborted
    aborted=$(grep -c 'client .* aborted' "$prefix.out" || true)
    failed="${failed:-0}+${aborted}aborted"
  fi
  cat "$prefix".[0-9]* >>"$work/lat-$workload-$n-$route" 2>/dev/null || true
  rm -f "$prefix".[0-9]*
  echo "$workload $n $route ${tps:-0} ${failed:-0}" >>"$work/runs"
  printf 'bench-proxy: %-6s %3s clients %-9s round %s %7s tps  failed %s\n' \
    "$workload" "$n" "$route" "$round" "${tps:-0}" "${failed:-0}"
}

# The row of one route: mean TPS over its rounds, p50/p99 of all their transactions, failures
# summed; appends "workload clients route tps p50 p99 failed" to $work/rows.
summarize() {  # workload, clients, route
  local workload=$1 n=$2 route=$3 tps failed p50 p99
  read -r tps failed < <(awk -v w="$workload" -v n="$n" -v r="$route" '
    $1 == w && $2 == n && $3 == r { sum += $4; runs++; split($5, f, "+"); failed += f[1]
      if ($5 ~ /aborted/) aborted = 1 }
    END { printf "%.0f %s\n", runs ? sum / runs : 0, failed (aborted ? "+aborted" : "") }' \
    "$work/runs")
  # Latency (µs, the third field of each line) of every transaction that ended, all threads.
  read -r p50 p99 < <(awk '$3 ~ /^[0-9]+$/ { print $3 }' "$work/lat-$workload-$n-$route" \
    2>/dev/null | sort -n | awk '{ v[NR] = $1 } END {
      if (NR == 0) { print "- -"; exit }
      i50 = int(NR * 0.50); if (i50 < 1) i50 = 1
      i99 = int(NR * 0.99); if (i99 < 1) i99 = 1
      printf "%.2f %.2f\n", v[i50] / 1000, v[i99] / 1000 }')
  echo "$workload $n $route $tps $p50 $p99 $failed" >>"$work/rows"
}

IFS=, read -r -a chosen_clients <<<"$clients"
IFS=, read -r -a chosen_workloads <<<"$workloads"
routes=(direct pgbouncer zerodown)
: >"$work/runs"
: >"$work/rows"
turn=0
for n in "${chosen_clients[@]}"; do
  for workload in "${chosen_workloads[@]}"; do
    # Mirrored: A B .. direct .. B A, with A PgBouncer in one cell and zerodown in the next.
    first=pgbouncer second=zerodown
    if [ $((turn % 2)) = 1 ]; then first=zerodown second=pgbouncer; fi
    order=()
    for ((r = 1; r <= rounds; r++)); do
      if [ $((r % 2)) = 1 ]; then order+=("$first:$r" "$second:$r"); else order+=("$second:$r" "$first:$r"); fi
      if [ "$r" = $(((rounds + 1) / 2)) ]; then order+=("direct:1"); fi
    done
    for step in "${order[@]}"; do run_one "$workload" "$n" "${step%%:*}" "${step##*:}"; done
    for route in "${routes[@]}"; do summarize "$workload" "$n" "$route"; done
    turn=$((turn + 1))
  done
done

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "-" || b == "-" || b == 0) print "-"; else printf "%.2f", a / b }'; }
{
  echo "$header"
  echo
  printf '%-8s %7s  %-10s %8s %9s %9s  %-8s  %s\n' workload clients route tps "p50 ms" "p99 ms" \
    failed "zerodown / direct, / PgBouncer (tps, p50, p99)"
  for n in "${chosen_clients[@]}"; do
    for workload in "${chosen_workloads[@]}"; do
      for route in "${routes[@]}"; do
        read -r _ _ _ tps p50 p99 failed < <(awk -v w="$workload" -v n="$n" -v r="$route" \
          '$1 == w && $2 == n && $3 == r' "$work/rows")
        note=
        if [ "$route" = zerodown ]; then
          read -r _ _ _ dtps dp50 dp99 _ < <(awk -v w="$workload" -v n="$n" \
            '$1 == w && $2 == n && $3 == "direct"' "$work/rows")
          read -r _ _ _ btps bp50 bp99 _ < <(awk -v w="$workload" -v n="$n" \
            '$1 == w && $2 == n && $3 == "pgbouncer"' "$work/rows")
          note="direct $(ratio "$tps" "$dtps") $(ratio "$p50" "$dp50") $(ratio "$p99" "$dp99");"
          note+=" PgBouncer $(ratio "$tps" "$btps") $(ratio "$p50" "$bp50") $(ratio "$p99" "$bp99")"
        fi
        printf '%-8s %7s  %-10s %8s %9s %9s  %-8s  %s\n' "$workload" "$n" "$route" "$tps" "$p50" \
          "$p99" "$failed" "$note"
      done
    done
  done
} | tee "$table"
echo "saved: $table"
exit
}
