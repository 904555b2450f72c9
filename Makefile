# akua-driftd: `make demo` runs the daemon against the embedded simulator, `make test` runs every suite.
SWIFT ?= $(shell command -v swift 2>/dev/null || echo /opt/swift/usr/bin/swift)
PREFIX ?= /usr
export PATH := /opt/swift/usr/bin:$(PATH)

.PHONY: all deps build demo test test-unit test-journal test-system bench bench-smoke clean

all: build

deps:
	@scripts/install-deps.sh

build: deps
	$(SWIFT) build

demo: deps
	$(SWIFT) build --product akua-driftd
	.build/debug/akua-driftd demo

## test: every suite. Unit and integration tests (Swift Testing, real SQLite files, loopback HTTP,
## real journald in a private mount namespace), then the heavy reliability suite on its own (chaos,
## fuzzing and fault injection would otherwise starve the timing of the others), a smoke run of the
## benchmark harness (1,000 machines) so it cannot rot, then the system test under a real systemd.
test: deps
	$(SWIFT) build --build-tests
	$(SWIFT) build --product akua-driftd
	$(SWIFT) build --product akua-sim
	$(SWIFT) test --skip-build --skip ReliabilityTests
	$(SWIFT) test --skip-build --filter ReliabilityTests
	@$(MAKE) --no-print-directory bench-smoke
	@$(MAKE) --no-print-directory test-system

test-system:
	@status=0; Tests/system/run.sh || status=$$?; \
	if [ $$status -eq 77 ]; then echo "!!! SKIPPED: system test (needs root and systemd-nspawn) !!!"; \
	elif [ $$status -ne 0 ]; then exit $$status; fi

clean:
	rm -rf .build dist

include deploy/install.mk
include bench/bench.mk
