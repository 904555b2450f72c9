#!/usr/bin/env bash
# journal-sandbox.sh: run a command against a private, throw-away systemd-journald, then dump every
# entry that journald stored as JSON lines. Used by Tests/DriftSystemdTests and the daemon integration tests.
#
# Usage:
#   journal-sandbox.sh [OPTIONS] OUT.jsonl -- COMMAND [ARGS...]
#   journal-sandbox.sh [OPTIONS] --script FILE OUT.jsonl        (same as: OUT.jsonl -- bash FILE)
#
# Options:
#   --timeout SECONDS    send SIGTERM to the command after SECONDS, SIGKILL 5 s later; exit status 124
#   --pidfile FILE       write the command's PID to FILE once it runs (a host PID: `kill -HUP "$(cat FILE)"` works)
#   --ready-timeout SEC  how long journald may take to come up (default 10)
#
# What it does: `unshare --mount --propagation private` (a private mount namespace, so nothing below is
# visible outside and it all disappears with the sandbox), tmpfs over /run/systemd/journal,
# /run/log/journal and /var/log/journal (created on the host if missing: empty directories),
# a sandbox journald.conf bind-mounted over /etc/systemd/journald.conf (host drop-ins hidden):
# Storage=volatile, no rate limiting, no kmsg/audit, no forwarding. Then it starts
# /lib/systemd/systemd-journald, waits (deadline, not a fixed sleep) until its sockets exist and it
# answers `journalctl --sync`, runs the command with the caller's stdin/stdout/stderr, syncs,
# writes `journalctl -D /run/log/journal -o json --all --no-pager` (all entries, journald's own included;
# long and multi-line values included) to OUT.jsonl, stops journald and exits with the command's status.
#
# Inside, the command sees the normal filesystem (so .build/debug binaries, /tmp, loopback network) and:
#   JOURNAL_SANDBOX=1, JOURNAL_SANDBOX_DIR=/run/log/journal
#   To look at the journal while the command runs (e.g. from a --script):
#     journalctl --sync && journalctl -D "$JOURNAL_SANDBOX_DIR" -o json --all --no-pager
# sd_journal_sendv and `systemd-cat` reach the sandbox journald (/run/systemd/journal/{socket,stdout}).
# There is no /dev/log: use `logger --journald` or `logger --socket /run/systemd/journal/dev-log`.
# NOTIFY_SOCKET and friends are hidden from journald but passed on to the command. The command starts
# with default signal handling and no blocked signals (the script resets both first: Foundation's
# Process passes on the blocked mask of Dispatch threads, which would disable SIGTERM/SIGHUP handling).
# journald (v252, not PID 1's child) writes /run/log/journal/<machine-id>/system.journal; reading with
# `journalctl -D /run/log/journal` finds it whatever the machine ID (an invalid /etc/machine-id is
# replaced by a generated one inside the sandbox).
#
# Signals to this script: SIGHUP, SIGUSR1, SIGUSR2 are forwarded to the command; SIGTERM and SIGINT are
# forwarded as SIGTERM (background commands ignore SIGINT). The journal is dumped afterwards either way,
# so a long-running daemon is stopped with SIGTERM to this script (or `kill "$(cat PIDFILE)"`).
# SIGKILL to this script still cleans up (the inner half SIGTERMs the command, dumps, stops journald),
# but the exit status and the dump then come too late for the caller; use --timeout as a backstop.
#
# Exit status: the command's (128+N if killed by signal N); 124 after --timeout (whatever the command
# then returned); 77 and a line
# `SKIPPED: journal tests need root and unshare (...)` when not root or unshare/journald/journalctl are
# missing or unusable; 125 when the sandbox itself failed (message on stderr); 64 for usage errors.
# The Swift suites check the same prerequisites first (TestPreconditions.journalSandbox, a condition trait
# that reports the test as skipped with its reason), so for them a 77 here is a failure, never a pass.
#
# Example (daemon integration test):
#   journal-sandbox.sh --timeout 60 --pidfile /tmp/x/pid /tmp/x/journal.jsonl -- \
#       .build/debug/akua-driftd run --config /tmp/x/config.toml --log-target journal &
#   ... drive the simulator, `kill -HUP "$(cat /tmp/x/pid)"` to reload ...
#   kill -TERM <pid of journal-sandbox.sh>; wait; jq 'select(.SYSLOG_IDENTIFIER == "akua-driftd")' /tmp/x/journal.jsonl
set -u

JOURNAL_DIRS=(/run/systemd/journal /run/log/journal /var/log/journal)

usage() {
    echo "usage: journal-sandbox.sh [--timeout SEC] [--pidfile FILE] [--ready-timeout SEC] OUT.jsonl -- COMMAND [ARGS...]" >&2
    echo "       journal-sandbox.sh [--timeout SEC] [--pidfile FILE] [--ready-timeout SEC] --script FILE OUT.jsonl" >&2
    exit 64
}

skip() {
    echo "SKIPPED: journal tests need root and unshare ($1)" >&2
    exit 77
}

find_journald() {
    local candidate
    for candidate in "${JOURNAL_SANDBOX_JOURNALD:-}" /lib/systemd/systemd-journald /usr/lib/systemd/systemd-journald; do
        if [ -n "$candidate" ] && [ -x "$candidate" ]; then
            echo "$candidate"
            return 0
        fi
    done
    return 1
}

now_ms() {
    local seconds nanos
    IFS=. read -r seconds nanos <<<"$EPOCHREALTIME"
    echo $((seconds * 1000 + 10#${nanos:0:3}))
}

# ---------------------------------------------------------------------------------------------------
# Inner half: runs as the child of unshare, inside the private mount namespace.
# Settings arrive in JS_* environment variables; "$@" is the command.
# ---------------------------------------------------------------------------------------------------
inner() {
    local state=$JS_STATE out=$JS_OUT journald=$JS_JOURNALD
    local jpid="" cpid="" wpid="" rc=0 d interrupted=0

    inner_log() { echo "journal-sandbox: $*" >&2; }
    stop_journald() {
        if [ -n "$jpid" ]; then
            kill -TERM "$jpid" 2>/dev/null
            wait "$jpid" 2>/dev/null
            jpid=""
        fi
    }
    die() {
        inner_log "$*"
        if [ -s "$state/journald.log" ]; then sed 's/^/journal-sandbox: journald: /' "$state/journald.log" >&2; fi
        [ -n "$cpid" ] && kill -TERM "$cpid" 2>/dev/null
        stop_journald
        rm -rf "$state"
        exit 125
    }
    # unshare --kill-child=TERM delivers SIGTERM here when the outer script is gone.
    trap 'interrupted=1; [ -n "$cpid" ] && kill -TERM "$cpid" 2>/dev/null; touch "$state/stop"' TERM

    # The journal directories: private tmpfs mounts.
    for d in "${JOURNAL_DIRS[@]}"; do
        mkdir -p "$d" || die "cannot create $d"
        mount -t tmpfs -o mode=0755,size=256m journal-sandbox "$d" || die "cannot mount tmpfs on $d"
    done

    # journald configuration: ours only.
    cat >"$state/journald.conf" <<'EOF'
[Journal]
Storage=volatile
RuntimeMaxUse=128M
Seal=no
RateLimitIntervalSec=0
RateLimitBurst=0
ReadKMsg=no
Audit=no
ForwardToSyslog=no
ForwardToKMsg=no
ForwardToConsole=no
ForwardToWall=no
MaxLevelStore=debug
EOF
    if [ -f /etc/systemd/journald.conf ]; then
        mount --bind "$state/journald.conf" /etc/systemd/journald.conf || die "cannot bind-mount journald.conf"
    else
        mkdir -p /etc/systemd || die "cannot create /etc/systemd"
        mount -t tmpfs -o mode=0755 journal-sandbox /etc/systemd || die "cannot mount tmpfs on /etc/systemd"
        cp "$state/journald.conf" /etc/systemd/journald.conf || die "cannot write journald.conf"
    fi
    for d in /etc/systemd/journald.conf.d /run/systemd/journald.conf.d /usr/local/lib/systemd/journald.conf.d \
        /usr/lib/systemd/journald.conf.d /lib/systemd/journald.conf.d; do
        if [ -d "$d" ]; then
            mount -t tmpfs -o ro,mode=0755 journal-sandbox "$d" || die "cannot hide drop-in directory $d"
        fi
    done

    # journald names its directory after the machine ID.
    if ! grep -qE '^[0-9a-f]{32}$' /etc/machine-id 2>/dev/null; then
        [ -f /etc/machine-id ] || { echo "SKIPPED: journal tests need root and unshare (no /etc/machine-id)" >&2; rm -rf "$state"; exit 77; }
        tr -d '-' </proc/sys/kernel/random/uuid >"$state/machine-id" || die "cannot generate a machine ID"
        mount --bind "$state/machine-id" /etc/machine-id || die "cannot bind-mount /etc/machine-id"
    fi

    # Start journald; hide any service manager of our caller from it.
    env -u NOTIFY_SOCKET -u WATCHDOG_USEC -u WATCHDOG_PID -u LISTEN_FDS -u LISTEN_PID -u LISTEN_FDNAMES \
        -u JOURNAL_STREAM -u INVOCATION_ID "$journald" </dev/null >"$state/journald.log" 2>&1 &
    jpid=$!

    # Wait for its sockets, with a deadline, then make sure its event loop answers.
    local deadline=$(($(now_ms) + JS_READY_TIMEOUT * 1000))
    until [ -S /run/systemd/journal/socket ] && [ -S /run/systemd/journal/stdout ] &&
        [ -S /run/systemd/journal/io.systemd.journal ]; do
        kill -0 "$jpid" 2>/dev/null || { wait "$jpid"; jpid=""; die "systemd-journald exited during startup"; }
        [ "$(now_ms)" -lt "$deadline" ] || die "systemd-journald created no socket within ${JS_READY_TIMEOUT}s"
        sleep 0.02
    done
    timeout "$JS_READY_TIMEOUT" journalctl --sync >/dev/null 2>&1 || die "systemd-journald does not answer journalctl --sync"

    # Run the command.
    if [ -e "$state/stop" ]; then
        rc=143
    else
        JOURNAL_SANDBOX=1 JOURNAL_SANDBOX_DIR=/run/log/journal env --default-signal -- "$@" <&3 3<&- &
        cpid=$!
        echo "$cpid" >"$state/cmd.pid.tmp" && mv "$state/cmd.pid.tmp" "$state/cmd.pid"
        if [ -n "$JS_PIDFILE" ]; then echo "$cpid" >"$JS_PIDFILE"; fi
        if [ -n "$JS_TIMEOUT" ]; then
            # The watchdog runs in its own process group (setsid): SIGKILL to it, then to its group,
            # ends it and its sleep whether or not setsid had happened yet.
            setsid bash -c 'sleep "$1" || exit 0; touch "$2/timedout"
                echo "journal-sandbox: timeout after $1 s: sending SIGTERM to the command" >&2
                kill -TERM "$3" 2>/dev/null; sleep 5; kill -KILL "$3" 2>/dev/null' \
                journal-sandbox-watchdog "$JS_TIMEOUT" "$state" "$cpid" </dev/null &
            wpid=$!
        fi
        while :; do
            interrupted=0
            wait "$cpid" 2>/dev/null
            rc=$?
            [ "$interrupted" = 1 ] || break
        done
        if [ -n "$wpid" ]; then
            kill -KILL "$wpid" 2>/dev/null
            kill -KILL -- "-$wpid" 2>/dev/null
            wait "$wpid" 2>/dev/null
        fi
        [ -e "$state/timedout" ] && rc=124
    fi
    exec 3<&-

    # Everything the command sent is in journald's queues: sync, dump, stop journald.
    timeout 15 journalctl --sync >/dev/null 2>&1 || die "journalctl --sync failed after the command"
    if ! journalctl -D /run/log/journal -o json --all --no-pager >"$out.tmp" 2>"$state/dump.err"; then
        sed 's/^/journal-sandbox: journalctl: /' "$state/dump.err" >&2
        rm -f "$out.tmp"
        die "cannot dump the journal"
    fi
    mv "$out.tmp" "$out" || die "cannot write $out"
    stop_journald
    # The outer half may be gone (SIGKILL): clean up here; it only needed cmd.pid while we ran.
    rm -rf "$state"
    exit "$rc"
}

# Start from default signal handling with nothing blocked: callers such as Foundation's Process on
# Linux pass on a blocked signal mask (Dispatch threads block signals), which would silently disable
# the traps below and the command's own SIGTERM/SIGHUP handling.
if [ -z "${JOURNAL_SANDBOX_SIGNALS_RESET:-}" ] && env --default-signal true 2>/dev/null; then
    JOURNAL_SANDBOX_SIGNALS_RESET=1 exec env --default-signal "$BASH" "${BASH_SOURCE[0]}" "$@"
fi
unset JOURNAL_SANDBOX_SIGNALS_RESET

if [ "${1:-}" = "--inner-journal-sandbox" ]; then
    shift
    inner "$@"
fi

# ---------------------------------------------------------------------------------------------------
# Outer half: arguments, prerequisites, the namespace, signal forwarding.
# ---------------------------------------------------------------------------------------------------
timeout_seconds="" pidfile="" ready_timeout=10 script="" out=""
while [ $# -gt 0 ]; do
    case "$1" in
    --timeout) [ $# -ge 2 ] || usage; timeout_seconds=$2; shift 2 ;;
    --pidfile) [ $# -ge 2 ] || usage; pidfile=$2; shift 2 ;;
    --ready-timeout) [ $# -ge 2 ] || usage; ready_timeout=$2; shift 2 ;;
    --script) [ $# -ge 2 ] || usage; script=$2; shift 2 ;;
    -h | --help) usage ;;
    --) usage ;;
    -*) echo "journal-sandbox: unknown option $1" >&2; usage ;;
    *) break ;;
    esac
done
[ $# -ge 1 ] || usage
out=$1
shift
if [ -n "$script" ]; then
    [ $# -eq 0 ] || usage
    [ -r "$script" ] || { echo "journal-sandbox: cannot read script $script" >&2; exit 64; }
    set -- bash "$script"
else
    [ "${1:-}" = "--" ] && [ $# -ge 2 ] || usage
    shift
fi
if [ -n "$timeout_seconds" ] && ! [[ $timeout_seconds =~ ^[0-9]+(\.[0-9]+)?$ ]]; then usage; fi
[[ $ready_timeout =~ ^[0-9]+$ ]] || usage

[ "$(id -u)" = 0 ] || skip "not root"
command -v unshare >/dev/null 2>&1 || skip "unshare not found"
command -v journalctl >/dev/null 2>&1 || skip "journalctl not found"
journald=$(find_journald) || skip "systemd-journald not found"
unshare --mount --propagation private true 2>/dev/null || skip "unshare --mount is not permitted here"

self=$(readlink -f "${BASH_SOURCE[0]}")
out_dir=$(cd "$(dirname "$out")" 2>/dev/null && pwd) || { echo "journal-sandbox: no directory for $out" >&2; exit 64; }
out="$out_dir/$(basename "$out")"
state=$(mktemp -d "${TMPDIR:-/tmp}/journal-sandbox.XXXXXX") || exit 125
rm -f "$out"

forward() {
    local signal=$1 pid
    interrupted=1
    if [ -s "$state/cmd.pid" ]; then
        pid=$(cat "$state/cmd.pid")
        kill -"$signal" "$pid" 2>/dev/null
    elif [ "$signal" = TERM ]; then
        touch "$state/stop"
    fi
}
trap 'forward HUP' HUP
trap 'forward USR1' USR1
trap 'forward USR2' USR2
trap 'forward TERM' TERM INT

# If this script is SIGKILLed, unshare gets SIGKILL (setpriv --pdeathsig) and then the inner half gets
# SIGTERM (--kill-child): it stops the command, dumps the journal and stops journald.
pdeathsig=()
if command -v setpriv >/dev/null 2>&1 && setpriv --pdeathsig KILL true 2>/dev/null; then
    pdeathsig=(setpriv --pdeathsig KILL --)
fi

# Background commands get /dev/null as stdin: hand the real one down as fd 3.
exec 3<&0
JS_STATE=$state JS_OUT=$out JS_JOURNALD=$journald JS_TIMEOUT=$timeout_seconds JS_PIDFILE=$pidfile \
    JS_READY_TIMEOUT=$ready_timeout \
    "${pdeathsig[@]}" unshare --mount --propagation private --kill-child=TERM -- \
    "$BASH" "$self" --inner-journal-sandbox "$@" &
upid=$!
while :; do
    interrupted=0
    wait "$upid"
    rc=$?
    [ "$interrupted" = 1 ] || break
done
rm -rf "$state"
exit "$rc"
