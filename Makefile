# akua-driftd: `make demo` runs the daemon against the embedded simulator, `make test` runs every suite.
SWIFT ?= $(shell command -v swift 2>/dev/null || echo /opt/swift/usr/bin/swift)
PREFIX ?= /usr
export PATH := /opt/swift/usr/bin:$(PATH)

.PHONY: all deps build demo test test-summary test-system bench bench-large bench-smoke clean

all: build

deps:
	@scripts/install-deps.sh

build: deps
	$(SWIFT) build

demo: deps
	$(SWIFT) build --product akua-driftd
	.build/debug/akua-driftd demo

## test: every suite. Unit and integration tests (Swift Testing, real SQLite files, loopback HTTP,
## real journald in a private mount namespace; one test at a time, ~50 s: on two cores, CPU-bound property tests in
## parallel starved the loopback tests' 5 s timeouts), then the deterministic fleet simulation on its own (CPU-bound
## for about 30 s: AKUA_SIM_SEED and AKUA_SIM_HOURS replay or lengthen it), then the heavy reliability suite on its own (chaos,
## fuzzing and fault injection would otherwise starve the timing of the others), a smoke run of the
## benchmark harness (1,000 machines) so it cannot rot, then the system test under a real systemd.
## Every stage runs (Tests/Support/test-stage.sh keeps its log in $(TEST_LOGS)); the run always ends with
## Tests/Support/test-summary.sh: per stage the suites, tests passed/failed/skipped, every skip with its
## reason, and a closing line "N passed, N failed, N skipped". A skipped test or suite (no root, no loop
## device, no systemd-nspawn or journald, a missing tool) is listed loudly; with CI=true it fails the run.
TEST_LOGS ?= .build/test-logs
STAGE = Tests/Support/test-stage.sh $(TEST_LOGS)

test: deps
	@if [ "$$CI" = true ] && [ "$$(id -u)" -ne 0 ]; then \
		echo "!!! CI=true but running as uid $$(id -u), not root: the journald, disk, chaos, secrets and system tests will be skipped, and a skip fails CI !!!"; fi
	$(SWIFT) build --build-tests
	$(SWIFT) build --product akua-driftd
	$(SWIFT) build --product akua-sim
	@rm -rf $(TEST_LOGS) && mkdir -p $(TEST_LOGS)
	@$(STAGE) unit swift -- $(SWIFT) test --skip-build --no-parallel --skip ReliabilityTests --skip FleetSimulationTests
	@$(STAGE) simulation swift -- $(SWIFT) test --skip-build --filter FleetSimulationTests
	@$(STAGE) reliability swift -- $(SWIFT) test --skip-build --filter ReliabilityTests --skip ReliabilityTests.NotifyPolicyTests
	@$(STAGE) policy swift -- $(SWIFT) test --skip-build --filter ReliabilityTests.NotifyPolicyTests
	@$(STAGE) bench-smoke check -- $(MAKE) --no-print-directory bench-smoke
	@$(STAGE) system tap -- env SWIFT='$(SWIFT)' bash Tests/system/run.sh
	@Tests/Support/test-summary.sh $(TEST_LOGS)

## The summary of the last `make test` (or of stages run by hand into $(TEST_LOGS)).
test-summary:
	@Tests/Support/test-summary.sh $(TEST_LOGS)

## The system test alone. It exits 77 without root or systemd-nspawn: a loud skip, and a failure with CI=true.
test-system:
	@status=0; Tests/system/run.sh || status=$$?; \
	if [ $$status -eq 77 ]; then echo "!!! SKIPPED: system test (needs root and systemd-nspawn) !!!"; \
		if [ "$$CI" = true ]; then echo "CI=true: a skipped system test fails the run"; exit 1; fi; \
	elif [ $$status -ne 0 ]; then exit $$status; fi

clean:
	rm -rf .build dist

include deploy/install.mk
include bench/bench.mk
