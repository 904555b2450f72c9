#!/usr/bin/env bash
# test-summary.sh LOGDIR: the summary `make test` always ends with, from the stage logs written by
# Tests/Support/test-stage.sh: per stage the suites run and the tests passed, failed and skipped; every
# skipped test or suite with its reason, every failure; then one closing line
#     N passed, N failed, N skipped
# (also written to LOGDIR/summary.txt, whose last line is that line).
#
# Exit status: 1 when a test failed, a stage failed (or crashed before its closing line), or when
# CI=true and anything was skipped (CI requires every suite to run: root, a loop device, systemd-nspawn,
# journald, and the tools scripts/install-deps.sh installs). Without CI=true a skip is allowed, loudly.
set -uo pipefail
export LC_ALL=C.UTF-8
dir=${1:?usage: test-summary.sh LOGDIR}
[ -f "$dir/stages" ] || { echo "test-summary: no stages recorded in $dir" >&2; exit 1; }

total_passed=0 total_failed=0 total_skipped=0 total_suites=0
table="" skipped_lines="" failed_lines="" stage_problems=""

count() { grep -cE "$1" "$2" 2>/dev/null || true; }

while read -r name kind; do
    log="$dir/$name.log"
    status=$(cat "$dir/$name.status" 2>/dev/null || echo 255)
    passed=0 failed=0 skipped=0 suites=0 detail=""
    case "$kind" in
    swift)
        # Swift Testing: "✔ Test NAME passed after", "✘ Test NAME failed after", "➜ Test NAME skipped: REASON",
        # "➜ Suite NAME skipped: REASON", and the closing "Test run with N tests in M suites passed|failed".
        passed=$(count '^✔ Test .* passed after' "$log")
        passed=$(( passed - $(count '^✔ Test run with ' "$log") ))
        failed=$(count '^✘ Test .* failed after' "$log")
        failed=$(( failed - $(count '^✘ Test run with ' "$log") ))
        skipped=$(count '^➜ Test .* skipped' "$log")
        run_line=$(grep -E '^[✔✘] Test run with [0-9]+ tests? in [0-9]+ suites?' "$log" | tail -n 1)
        if [ -n "$run_line" ]; then
            suites=$(sed -E 's/.* in ([0-9]+) suites?.*/\1/' <<< "$run_line")
            tests=$(sed -E 's/.*Test run with ([0-9]+) tests?.*/\1/' <<< "$run_line")
        else
            tests="?"
            stage_problems+="  $name: swift test ended without Swift Testing's closing line (a crash or a build failure; exit $status)"$'\n'
            failed=$(( failed + 1 ))
        fi
        # XCTest, if any target uses it: the last "Executed N tests, with F failures".
        xc=$(grep -E 'Executed [0-9]+ tests?, with [0-9]+ failures?' "$log" | tail -n 1)
        if [ -n "$xc" ]; then
            xn=$(sed -E 's/.*Executed ([0-9]+) tests?.*/\1/' <<< "$xc")
            xf=$(sed -E 's/.*with ([0-9]+) failures?.*/\1/' <<< "$xc")
            passed=$(( passed + xn - xf )); failed=$(( failed + xf ))
        fi
        while IFS= read -r line; do skipped_lines+="  $name: ${line#➜ }"$'\n'; done < <(grep -E '^➜ (Test|Suite) .* skipped' "$log")
        while IFS= read -r line; do failed_lines+="  $name: ${line#✘ }"$'\n'; done < <(grep -E '^✘ Test .* failed after' "$log" | grep -v '^✘ Test run with ')
        if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then
            stage_problems+="  $name: swift test exited $status without a failed test"$'\n'
            failed=1
        fi
        detail="$tests tests in $suites suites"
        ;;
    tap)
        if [ "$status" -eq 77 ]; then
            skipped=1
            reason=$(grep -v '^==== make test' "$log" | grep -m1 -E 'SKIPPED' | sed -E 's/^[! ]*//; s/[! ]*$//')
            skipped_lines+="  $name: ${reason:-skipped (exit 77)}"$'\n'
            detail="skipped"
        else
            line=$(grep -E '^[A-Za-z-]+: [0-9]+ passed, [0-9]+ failed' "$log" | tail -n 1)
            if [ -n "$line" ]; then
                passed=$(sed -E 's/.*: ([0-9]+) passed.*/\1/' <<< "$line")
                failed=$(sed -E 's/.*passed, ([0-9]+) failed.*/\1/' <<< "$line")
            fi
            while IFS= read -r l; do failed_lines+="  $name: $l"$'\n'; done < <(grep -E '^not ok - ' "$log")
            if [ -z "$line" ] || { [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; }; then
                stage_problems+="  $name: exited $status${line:+ after \"$line\"}${line:- without its closing \"N passed, M failed\" line}"$'\n'
                failed=$(( failed + 1 ))
            fi
            detail="$(( passed + failed )) checks"
        fi
        suites=1
        ;;
    check)
        if [ "$status" -eq 0 ]; then passed=1; else failed=1; failed_lines+="  $name: exited $status (see $log)"$'\n'; fi
        suites=1 detail="1 check"
        ;;
    esac
    table+=$(printf '  %-12s %-22s %5d passed, %3d failed, %3d skipped   (exit %s, %ss)' \
        "$name" "$detail" "$passed" "$failed" "$skipped" "$status" "$(cat "$dir/$name.seconds" 2>/dev/null || echo '?')")$'\n'
    total_passed=$(( total_passed + passed ))
    total_failed=$(( total_failed + failed ))
    total_skipped=$(( total_skipped + skipped ))
    total_suites=$(( total_suites + suites ))
done < "$dir/stages"

verdict=0
[ "$total_failed" -gt 0 ] && verdict=1
any_skip=0
if [ "$total_skipped" -gt 0 ] || grep -qE '^➜ Suite .* skipped' "$dir"/*.log 2>/dev/null; then any_skip=1; fi
[ "$any_skip" = 1 ] && [ "${CI:-}" = true ] && verdict=1
{
    echo
    echo "==================== make test: summary (logs: $dir) ===================="
    printf '%s' "$table"
    echo "  suites: $total_suites ($(cat "$dir"/*.log 2>/dev/null | grep -cE '^➜ Suite .* skipped') skipped as a whole)"
    if [ -n "$skipped_lines" ]; then
        echo
        echo "!!! SKIPPED: $total_skipped test(s) did not run; these suites prove nothing here: !!!"
        printf '%s' "$skipped_lines"
    fi
    if [ -n "$failed_lines$stage_problems" ]; then
        echo
        echo "FAILED:"
        printf '%s' "$failed_lines$stage_problems"
    fi
    if [ "$any_skip" = 1 ]; then
        if [ "${CI:-}" = true ]; then
            echo
            echo "CI=true: $total_skipped skipped test(s) fail this run: CI runs every suite (as root, with a loop device,"
            echo "systemd-nspawn and journald; scripts/install-deps.sh installs the tools). Running as uid $(id -u)$(command -v systemd-nspawn >/dev/null 2>&1 || echo ', without systemd-nspawn')."
        else
            echo
            echo "(skips are allowed because CI is not \"true\"; with CI=true they fail the run)"
        fi
    fi
    echo "$total_passed passed, $total_failed failed, $total_skipped skipped"
} | tee "$dir/summary.txt"
exit $verdict
