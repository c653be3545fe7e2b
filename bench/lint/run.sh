#!/usr/bin/env bash
# Scores zerodown and squawk side by side on the labelled corpus (tests/lint/corpus: recall and
# precision, squawk with its defaults and with its timeout and robustness rules off; see
# bench/lint/score.py), then lints the same 10,000-statement migration with both and prints both
# times (wall clock and CPU, bench/lint/timing.py) and their ratio.
#
#   bench/lint/run.sh [ZERODOWN_BINARY]     (default: $ZERODOWN_BIN, else build/release/zerodown)
#   STATEMENTS=10000 RUNS=5 bench/lint/run.sh
#
# squawk comes from the npm package squawk-cli: bench/lint/node_modules/.bin/squawk when present,
# else `squawk` on PATH (`make lint-bench` installs it through scripts/bootstrap.sh).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
zerodown="${1:-${ZERODOWN_BIN:-$root/build/release/zerodown}}"
statements="${STATEMENTS:-10000}"
runs="${RUNS:-5}"

squawk="$here/node_modules/.bin/squawk"
[ -x "$squawk" ] || squawk="$(command -v squawk || true)"
if [ ! -x "$zerodown" ]; then
  echo "lint-bench: no zerodown binary at $zerodown (build first, or pass its path)" >&2
  exit 2
fi
if [ -z "$squawk" ]; then
  echo "lint-bench: squawk not found; run ZERODOWN_BOOTSTRAP_BENCH=1 scripts/bootstrap.sh" >&2
  exit 2
fi

echo "lint-bench: zerodown $("$zerodown" --version | awk '{print $2}'), $("$squawk" --version)"
python3 "$here/score.py" "$zerodown" "$squawk" "${CORPUS:-$root/tests/lint/corpus}"
echo

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
[ -n "${KEEP:-}" ] && trap - EXIT && echo "keeping $work"
sql="$work/migration.sql"

# A mix of what real migrations hold: safe and unsafe index, column, constraint and type changes,
# table creation, transactions, renames and drops. Every statement is unique.
awk -v n="$statements" 'BEGIN {
  print "SET lock_timeout = '\''2s'\'';";
  for (i = 0; i < n; i++) {
    t = "t" (i % 97);
    k = i % 20;
      if (k == 0) printf "CREATE TABLE new_%d (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, name varchar(100), created_at timestamp, amount numeric(10,2));\n", i;
      else if (k == 1) printf "CREATE INDEX idx_%d ON %s (c%d);\n", i, t, i;
      else if (k == 2) printf "CREATE INDEX CONCURRENTLY idx_c_%d ON %s (c%d, created_at);\n", i, t, i;
      else if (k == 3) printf "ALTER TABLE %s ADD COLUMN c%d uuid DEFAULT gen_random_uuid();\n", t, i;
      else if (k == 4) printf "ALTER TABLE %s ADD COLUMN c%d integer NOT NULL DEFAULT 0;\n", t, i;
      else if (k == 5) printf "ALTER TABLE %s ALTER COLUMN c%d TYPE bigint;\n", t, i;
      else if (k == 6) printf "ALTER TABLE %s ALTER COLUMN c%d SET NOT NULL;\n", t, i;
      else if (k == 7) printf "ALTER TABLE %s ADD CONSTRAINT fk_%d FOREIGN KEY (c%d) REFERENCES u%d (id);\n", t, i, i, i % 13;
      else if (k == 8) printf "ALTER TABLE %s ADD CONSTRAINT ck_%d CHECK (c%d > 0) NOT VALID;\n", t, i, i;
      else if (k == 9) printf "ALTER TABLE %s VALIDATE CONSTRAINT ck_%d;\n", t, i - 1;
      else if (k == 10) printf "ALTER TABLE %s ADD CONSTRAINT uq_%d UNIQUE (c%d);\n", t, i, i;
      else if (k == 11) printf "ALTER TABLE %s RENAME COLUMN c%d TO d%d;\n", t, i, i;
      else if (k == 12) printf "ALTER TABLE %s DROP COLUMN IF EXISTS c%d;\n", t, i;
      else if (k == 13) printf "BEGIN;\n";
      else if (k == 14) printf "ALTER TABLE %s ADD COLUMN c%d text;\n", t, i;
      else if (k == 15) printf "COMMIT;\n";
      else if (k == 16) printf "UPDATE %s SET c%d = c%d + 1 WHERE id BETWEEN %d AND %d;\n", t, i, i, i * 1000, i * 1000 + 999;
      else if (k == 17) printf "INSERT INTO %s (id, name) VALUES (%d, '\''row %d'\'');\n", t, i, i;
      else if (k == 18) printf "DROP INDEX idx_%d;\n", i - 17;
      else if (k == 19) printf "ALTER TABLE %s ALTER COLUMN c%d TYPE varchar(200);\n", t, i;
  }
}' > "$sql"
echo "lint-bench: $(grep -c ';' "$sql") statements, $(wc -c < "$sql") bytes, $runs runs each"
echo "  zerodown: $zerodown ($("$zerodown" --version))"
echo "  squawk:   $squawk ($("$squawk" --version))"

# Both exit 1 when they find something; that is the expected outcome here.
run_zerodown() { "$zerodown" lint --pg-version 15 "$sql" > "$work/zerodown.out" 2>&1 || true; }
# gcc style for squawk: one line per finding, like zerodown's text output, and its fastest
# reporter (json and gitlab take as long or longer; the default tty reporter draws source
# snippets and costs about ten times more).
run_squawk() { "$squawk" --reporter gcc --pg-version=15.0 "$sql" > "$work/squawk.out" 2>&1 || true; }

# Median of RUNS runs each, interleaved, after a warm-up run each: wall clock, and CPU time (user +
# system), which other work on a shared machine does not inflate.
q() { printf '%q' "$1"; }
read -r _ zd zd_cpu _ sq sq_cpu < <(python3 "$here/timing.py" "$runs" \
  zerodown "$(q "$zerodown") lint --pg-version 15 $(q "$sql")" \
  squawk "$(q "$squawk") --reporter gcc --pg-version=15.0 $(q "$sql")" | paste -sd ' ' -)
run_zerodown
run_squawk
zd_findings=$(grep -cE '^[^ ].*:[0-9]+:[0-9]+: (error|warning|info) ' "$work/zerodown.out" || true)
sq_findings=$(grep -cE ':[0-9]+:[0-9]+: (warning|error)' "$work/squawk.out" || true)

printf 'zerodown lint: %8.1f ms median wall, %8.1f ms CPU  (%s findings)\n' "$zd" "$zd_cpu" "$zd_findings"
printf 'squawk:        %8.1f ms median wall, %8.1f ms CPU  (%s findings)\n' "$sq" "$sq_cpu" "$sq_findings"
awk -v z="$zd_cpu" -v s="$sq_cpu" 'BEGIN { printf "ratio squawk/zerodown (CPU): %.2fx (%s)\n", s / z, (s / z > 1.05 ? "zerodown is faster" : (s / z < 0.95 ? "squawk is faster" : "within 5%: as fast")) }'
