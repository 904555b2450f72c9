#!/usr/bin/env bash
# test-stage.sh LOGDIR NAME KIND -- COMMAND [ARGS...]
#
# One stage of `make test`: runs COMMAND with its output shown and kept in LOGDIR/NAME.log, records its
# exit status in LOGDIR/NAME.status and the stage in LOGDIR/stages ("NAME KIND"), and always exits 0 so
# that every stage runs; Tests/Support/test-summary.sh then reads the logs and decides.
# KIND tells the summary how to read the log:
#   swift   Swift Testing (and XCTest) output of `swift test`
#   tap     `ok - ...` / `not ok - ...` lines and `NAME: N passed, M failed` (Tests/system/run.sh); exit 77 = skipped
#   check   one check: exit 0 passed, anything else failed
set -uo pipefail
[ $# -ge 5 ] && [ "$4" = "--" ] || { echo "usage: test-stage.sh LOGDIR NAME swift|tap|check -- COMMAND..." >&2; exit 64; }
dir=$1 name=$2 kind=$3
shift 4
mkdir -p "$dir"
log="$dir/$name.log"
echo "==== make test: stage $name: $* ====" | tee "$log"
started=$(date +%s)
"$@" 2>&1 | tee -a "$log"
status=${PIPESTATUS[0]}
echo "$status" > "$dir/$name.status"
echo "$(( $(date +%s) - started ))" > "$dir/$name.seconds"
echo "$name $kind" >> "$dir/stages"
echo "==== make test: stage $name exited $status after $(cat "$dir/$name.seconds") s (log: $log) ===="
exit 0
