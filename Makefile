# The two commands a new user needs: `make demo` and `make test`. Both install what is missing
# (scripts/bootstrap.sh), configure and build first.
PRESET ?= release
BUILD_DIR := build/$(PRESET)
JOBS ?= $(shell nproc)

.PHONY: all bootstrap configure build demo test test-asan bench bench-w1 bench-sweep bench-cpu bench-bluegreen bench-proxy bench-memory lint-bench format clean

all: build

bootstrap:
	@scripts/bootstrap.sh

configure: bootstrap
	@cmake --preset $(PRESET) >/dev/null

build: configure
	@cmake --build --preset $(PRESET) -j $(JOBS)

# The demo needs only the binary; building the test suite first would double its wait.
demo: configure
	@cmake --build --preset $(PRESET) -j $(JOBS) --target zerodown
	@$(BUILD_DIR)/zerodown demo $(DEMO_ARGS)

test: build
	@ctest --preset $(PRESET) -j $(JOBS) --timeout 900

test-asan:
	@$(MAKE) test PRESET=asan

# W1 (zerodown's own runner, every mechanism) and the rate sweep (pgbench itself at 25/50/75% of
# its unthrottled rate and unthrottled); docs/bench.md says how to read both.
bench: bench-w1 bench-sweep

bench-w1: configure
	@cmake --build --preset $(PRESET) -j $(JOBS) --target zerodown
	@bench/w1.sh $(BENCH_ARGS)

bench-sweep: configure
	@cmake --build --preset $(PRESET) -j $(JOBS) --target zerodown
	@bench/sweep.sh $(SWEEP_ARGS)

# The server CPU seconds W1's change costs with no load, pg_repack against zerodown, by session.
bench-cpu: configure
	@cmake --build --preset $(PRESET) -j $(JOBS) --target zerodown
	@bench/cpu_work.sh $(CPU_ARGS)

# The same pgbench runs direct, through PgBouncer (installed on demand) and through zerodown proxy,
# both in transaction pooling; docs/bench.md, "Proxy", says how to read the table.
bench-proxy: export ZERODOWN_BOOTSTRAP_BENCH := 1
bench-proxy: configure
	@cmake --build --preset $(PRESET) -j $(JOBS) --target zerodown
	@bench/proxy.sh $(PROXY_ARGS)

# The tool's peak memory on W1's change at 2 M and 20 M rows (MEMORY_ARGS, e.g. --scales 20).
bench-memory: configure
	@cmake --build --preset $(PRESET) -j $(JOBS) --target zerodown
	@bench/memory.sh $(MEMORY_ARGS)

# A ledger workload through zerodown proxy while `bluegreen switch --proxy` moves it to green and
# back, on two throwaway clusters; docs/bench.md, "Blue-green", says how to read it.
bench-bluegreen: configure
	@cmake --build --preset $(PRESET) -j $(JOBS) --target zerodown
	@bench/bluegreen.sh $(BLUEGREEN_ARGS)

# Lints 10,000 statements with zerodown and with squawk (installed on demand) and prints both times.
lint-bench: export ZERODOWN_BOOTSTRAP_BENCH := 1
lint-bench: configure
	@cmake --build --preset $(PRESET) -j $(JOBS) --target zerodown
	@bench/lint/run.sh $(BUILD_DIR)/zerodown

format:
	@git ls-files '*.cpp' '*.hpp' | xargs clang-format -i

clean:
	@rm -rf build
