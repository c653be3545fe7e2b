#!/usr/bin/env bash
# Installs what zerodown needs to build, test, demo and benchmark on Debian 12,
# and only what is missing. Idempotent: a second run installs nothing.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config ccache clang-format
  postgresql-15 postgresql-contrib postgresql-15-repack libpq-dev
  libpg-query-dev libprotobuf-c-dev libyaml-cpp-dev nlohmann-json3-dev libcli11-dev libfmt-dev
  prometheus-cpp-dev libasio-dev libssl-dev zlib1g-dev libcurl4-openssl-dev
  libgtest-dev libgmock-dev libbenchmark-dev gnuplot-nox libmurmurhash-dev time
  # bluegreen_pgbouncer_switch_test switches through a real PgBouncer; bench/proxy.sh compares
  # zerodown proxy with it.
  pgbouncer
)

# Opt-in (ZERODOWN_BOOTSTRAP_BENCH=1, set by `make lint-bench` and `make bench-proxy`): squawk,
# the linter that bench/lint compares zerodown with, from npm (the squawk-cli package ships its
# binary).
if [ "${ZERODOWN_BOOTSTRAP_BENCH:-0}" = 1 ]; then
  if ! command -v npm > /dev/null; then packages+=(nodejs npm); fi
fi
install_bench_tools() {
  if [ "${ZERODOWN_BOOTSTRAP_BENCH:-0}" = 1 ] && ! command -v squawk > /dev/null; then
    echo "bootstrap: installing squawk-cli (npm)"
    npm install -g --no-fund --no-audit squawk-cli > /dev/null
  fi
}

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
  install_bench_tools
  exit 0
fi

echo "bootstrap: installing ${missing[*]}"
if [ "$(id -u)" -ne 0 ]; then
  SUDO=sudo
else
  SUDO=
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
install_bench_tools
echo "bootstrap: done"
