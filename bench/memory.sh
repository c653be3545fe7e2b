#!/usr/bin/env bash
# The tool's memory against the table's size: W1's change (pgbench_accounts.abalance int ->
# bigint, `start` then `complete`, from the pgroll-format and the plain SQL file) on pgbench data
# of each scale, no load, on one throwaway cluster; prints each command's peak RSS (GNU time) and
# wall time. zerodown streams the copy in key ranges and keeps no row in memory, so the peak
# should not grow with the rows. See docs/bench.md.
#
#   bench/memory.sh [--scales 20,200] [--zerodown build/release/zerodown]
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
scales=20,200
zerodown=$root/build/release/zerodown

usage() { sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//'; }
while [ $# -gt 0 ]; do
  case $1 in
    --scales) scales=$2; shift 2 ;;
    --zerodown) zerodown=$(realpath "$2"); shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "memory: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
if [ ! -x "$zerodown" ]; then
  echo "memory: $zerodown not found; run make build or pass --zerodown" >&2
  exit 3
fi
if [ ! -x /usr/bin/time ]; then
  echo "memory: /usr/bin/time (GNU time) is missing; install the Debian package time" >&2
  exit 3
fi

# shellcheck source=bench/lib/cluster.sh
source "$root/bench/lib/cluster.sh"
cluster_start
log=$(mktemp /tmp/zerodown-memory.XXXXXX)
trap 'cluster_stop; rm -f "$log"' EXIT
commit=$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)
echo "memory: PostgreSQL $("$PG_BINDIR/postgres" --version | awk '{print $3}'), commit $commit"
printf '%-6s %-10s %-22s %-9s %s\n' scale rows file command "peak RSS MB, wall s"

# Runs zerodown with $@ under GNU time; prints "MB s" or fails with the command's output.
measured() {
  if ! /usr/bin/time -f '%M %e' -o "$log.time" "$zerodown" "$@" >"$log" 2>&1; then
    echo "memory: zerodown $* failed:" >&2
    tail -20 "$log" >&2
    exit 1
  fi
  awk '{printf "%.1f MB, %.1f s", $1 / 1024, $2}' "$log.time"
}

for scale in ${scales//,/ }; do
  cluster_sql postgres "CREATE DATABASE memory_template"
  "$PG_BINDIR/pgbench" -i -q -s "$scale" "$(cluster_url memory_template)" >/dev/null 2>&1
  for file in alter_abalance.yaml alter_abalance.sql; do
    cluster_sql postgres "CREATE DATABASE memory_run TEMPLATE memory_template"
    url=$(cluster_url memory_run)
    "$zerodown" --postgres-url "$url" init >/dev/null
    for command in start complete; do
      args=("$command")
      [ "$command" = start ] && args+=("$root/bench/w1/$file")
      printf '%-6s %-10s %-22s %-9s %s\n' "$scale" "$((scale * 100000))" "$file" "$command" \
        "$(measured --postgres-url "$url" "${args[@]}")"
    done
    cluster_sql postgres "DROP DATABASE memory_run"
  done
  cluster_sql postgres "DROP DATABASE memory_template"
done
