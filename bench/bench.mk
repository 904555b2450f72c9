# Benchmarks of akua-driftd. Included by the top-level Makefile (`include bench/bench.mk`).
#
#   make bench        release binaries (the same scratch path and flags as `make install`), then akua-sim and
#                     `akua-driftd run` on loopback for fleets of 1,000, 10,000 and 100,000 machines: one table,
#                     also as JSON in bench/results/latest.json (table: latest.md); then the micro-benchmarks of
#                     the hot paths (bench/results/micro.json); then the same 100,000-machine fleet with
#                     [metrics] off and on (bench/results/metrics-cost.json: peak RSS and CPU per check).
#                     About 17 minutes on 2 cores after the build (with the idle profiles and the 1,000 reloads).
#                     Then 1,000 reloads of a 100,000-machine config in one process (bench/results/config-reloads.json:
#                     time per load, resident set after the last load against after the first).
#   make bench-large  release binaries, one fleet of 1,000,000 machines (BENCH_LARGE_MACHINES): check-config,
#                     start to READY=1 with an empty and with an existing state file, a one-machine reload, peak
#                     RSS (bench/results/large.json). About 3 minutes on 2 cores after the build.
#   make bench-smoke  debug binaries, 1,000 machines, short phases (under a minute): fails when a figure is
#                     missing or more than 2x off its target (READY <= 3 s, peak RSS <= 150 MiB, lag p99 <= 250 ms,
#                     delivery p99 <= 50 ms, reload <= 1000 ms, 0 re-created reports). Meant for `make test`.
#
# Knobs: BENCH_FLEETS=1000,10000 (fleet sizes), BENCH_IDLE=60 (seconds of the idle window),
#        BENCH_RESULTS=bench/results (where the JSON goes).

BENCH_SCRATCH ?= .build-release
BENCH_FLAGS ?= -c release --static-swift-stdlib --scratch-path $(BENCH_SCRATCH)
BENCH_BIN = $(BENCH_SCRATCH)/release
BENCH_FLEETS ?= 1000,10000,100000
BENCH_IDLE ?= 60
BENCH_RESULTS ?= bench/results
# The fleet of the metrics off/on comparison (drift-bench metrics-cost).
BENCH_METRICS_MACHINES ?= 100000
# perf profiles of the idle daemon (the low-rate check path): a flame graph per fleet size (empty: none).
BENCH_PROFILES ?= $(BENCH_RESULTS)/flamegraphs
BENCH_LARGE_MACHINES ?= 1000000
# The leak check: loads of one config in one process (the TOML library leaked per parsed document).
BENCH_RELOAD_MACHINES ?= 100000
BENCH_RELOADS ?= 1000
BENCH_SMOKE_OUT ?= /tmp/akua-driftd-bench-smoke
# The allocation-counting shim for the micro-benchmarks (LD_PRELOAD); any C compiler will do.
BENCH_CC ?= $(firstword $(wildcard /opt/swift/usr/bin/clang) cc)
BENCH_MALLOC_SHIM = $(BENCH_SCRATCH)/bench-malloc-count.so

.PHONY: bench bench-large bench-smoke bench-build

bench-build: deps
	$(SWIFT) build $(BENCH_FLAGS) --product akua-driftd
	$(SWIFT) build $(BENCH_FLAGS) --product akua-sim
	$(SWIFT) build $(BENCH_FLAGS) --product drift-bench

bench: bench-build
	$(BENCH_CC) -O2 -shared -fPIC -o $(BENCH_MALLOC_SHIM) bench/malloc-count.c
	$(BENCH_BIN)/drift-bench run --fleets $(BENCH_FLEETS) --idle-seconds $(BENCH_IDLE) \
		--driftd $(BENCH_BIN)/akua-driftd --sim $(BENCH_BIN)/akua-sim --out $(BENCH_RESULTS) \
		$(if $(BENCH_PROFILES),--profile-dir $(BENCH_PROFILES))
	LD_PRELOAD=$(abspath $(BENCH_MALLOC_SHIM)) $(BENCH_BIN)/drift-bench micro --out $(BENCH_RESULTS)/micro.json
	$(BENCH_BIN)/drift-bench metrics-cost --machines $(BENCH_METRICS_MACHINES) \
		--driftd $(BENCH_BIN)/akua-driftd --sim $(BENCH_BIN)/akua-sim --out $(BENCH_RESULTS)/metrics-cost.json
	$(BENCH_BIN)/drift-bench config-load --machines $(BENCH_RELOAD_MACHINES) --reloads $(BENCH_RELOADS) \
		--out $(BENCH_RESULTS)/config-reloads.json

bench-large: bench-build
	$(BENCH_BIN)/drift-bench large --machines $(BENCH_LARGE_MACHINES) \
		--driftd $(BENCH_BIN)/akua-driftd --sim $(BENCH_BIN)/akua-sim --out $(BENCH_RESULTS)/large.json

bench-smoke: deps
	$(SWIFT) build --product akua-driftd
	$(SWIFT) build --product akua-sim
	$(SWIFT) build --product drift-bench
	.build/debug/drift-bench run --smoke --fleets 1000 --binaries debug \
		--driftd .build/debug/akua-driftd --sim .build/debug/akua-sim --out $(BENCH_SMOKE_OUT)
	.build/debug/drift-bench micro --quick
