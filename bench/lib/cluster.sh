# A throwaway PostgreSQL for the benchmark scripts: initdb + pg_ctl in a temp dir, reachable only
# through a unix socket in that dir, torn down by an EXIT trap. As root the server runs as the
# `postgres` system user (initdb refuses root), like zerodown's own TempCluster. Source this file;
# it defines functions and the variables CLUSTER_DIR, CLUSTER_PORT and PG_BINDIR.

PG_BINDIR=${ZERODOWN_PG_BINDIR:-/usr/lib/postgresql/15/bin}
CLUSTER_DIR=
CLUSTER_PORT=5432

# Runs a command as the server's owner.
as_server_user() {
  if [ "$(id -u)" -eq 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

# libpq URL for database $1 on the throwaway cluster.
cluster_url() {
  echo "postgresql:///$1?host=$CLUSTER_DIR&port=$CLUSTER_PORT&user=postgres"
}

# Runs SQL $2 in database $1 and fails loudly if it fails.
cluster_sql() {
  "$PG_BINDIR/psql" -X -q -v ON_ERROR_STOP=1 -d "$(cluster_url "$1")" -c "$2"
}

cluster_stop() {
  if [ -n "$CLUSTER_DIR" ] && [ -d "$CLUSTER_DIR/data" ]; then
    as_server_user "$PG_BINDIR/pg_ctl" -D "$CLUSTER_DIR/data" -m immediate stop >/dev/null 2>&1 || true
  fi
  if [ -n "$CLUSTER_DIR" ]; then rm -rf "$CLUSTER_DIR"; fi
  CLUSTER_DIR=
}

# Creates and starts the cluster. The settings match TempCluster's: durability off (fsync,
# synchronous_commit, full_page_writes), so the figures measure locking and rewriting, not disk
# flushes; every variant runs under the same settings, so the comparison is fair.
cluster_start() {
  for tool in initdb pg_ctl psql pgbench; do
    if [ ! -x "$PG_BINDIR/$tool" ]; then
      echo "bench: $PG_BINDIR/$tool not found; install postgresql-15 (make bootstrap) or set ZERODOWN_PG_BINDIR" >&2
      exit 3
    fi
  done
  CLUSTER_DIR=$(mktemp -d /tmp/zerodown-bench.XXXXXX)
  trap cluster_stop EXIT
  trap 'exit 130' INT TERM
  chmod 755 "$CLUSTER_DIR"
  if [ "$(id -u)" -eq 0 ]; then chown postgres: "$CLUSTER_DIR"; fi
  if ! as_server_user "$PG_BINDIR/initdb" -D "$CLUSTER_DIR/data" -U postgres -A trust \
      --no-sync -E UTF8 >"$CLUSTER_DIR/initdb.log" 2>&1; then
    cat "$CLUSTER_DIR/initdb.log" >&2
    exit 1
  fi
  local options="-c listen_addresses='' -c unix_socket_directories='$CLUSTER_DIR'"
  options+=" -c port=$CLUSTER_PORT -c fsync=off -c synchronous_commit=off"
  options+=" -c full_page_writes=off -c shared_buffers=256MB -c max_wal_size=4GB"
  options+=" -c max_connections=200 -c shared_preload_libraries=''"
  # Settings of the calling script (later -c wins), e.g. -c shared_preload_libraries=pg_stat_statements.
  options+=" ${CLUSTER_EXTRA_OPTIONS:-}"
  if ! as_server_user "$PG_BINDIR/pg_ctl" -D "$CLUSTER_DIR/data" -l "$CLUSTER_DIR/server.log" \
      -o "$options" -w start >/dev/null; then
    cat "$CLUSTER_DIR/server.log" >&2
    exit 1
  fi
}

# A TCP port on 127.0.0.1 that nothing listens on (nothing answers a connection to it), for a
# proxy or pooler the benchmark starts.
free_port() {
  local port
  for _ in $(seq 50); do
    port=$((20000 + RANDOM % 20000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then echo "$port"; return; fi
  done
  echo "bench: found no free local port" >&2
  exit 1
}
