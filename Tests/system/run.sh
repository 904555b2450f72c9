#!/usr/bin/env bash
# System test: akua-driftd as a hardened systemd service under a real systemd.
#
# Boots the host's own Debian in a throwaway systemd-nspawn container (writable
# overlays over /usr, /var and /etc that vanish with it), installs the .deb built
# by `make deb` there, points the daemon at an akua-sim and a webhook receiver
# running on the host's loopback (the container shares the host's network), and
# checks readiness, status text, journal fields and catalog, webhooks, reload,
# restart without re-announcing, the watchdog, and the sandbox.
#
# Prints one `ok - ...` / `not ok - ...` line per assertion and ends with
# `system: N passed, M failed`. Exit 0 when all passed, 1 otherwise, 77 (skip)
# without root or systemd-nspawn.
#
# Environment:
#   SYSTEM_TEST_NO_BUILD=1   no swift build: package the existing .build-release binary
#   SYSTEM_TEST_DEB=FILE     the .deb to install (default: `make deb` into a temp dir)
#   SYSTEM_TEST_SIM=FILE     the akua-sim binary (default .build-release/release/akua-sim)
#   SYSTEM_TEST_KEEP_LOGS=DIR  copy the container's journal and helper logs there
set -uo pipefail

if [ "$(id -u)" -ne 0 ] || ! command -v systemd-nspawn >/dev/null 2>&1 || ! command -v nsenter >/dev/null 2>&1; then
    echo "SKIPPED: system test needs root and systemd-nspawn"
    exit 77
fi

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
START_TIME=$(date +%s)
INTERVAL_S=2             # [schedule] interval of every machine
WATCHDOG_S=4             # WatchdogSec= of the test drop-in (the unit ships 30s)
MACHINES=(mch_web1 mch_web2 mch_db1)
NAMES=(web-1 web-2 db-1)
EXTRA_ID=mch_cache1 EXTRA_NAME=cache-1
MSG_DRIFTED=dc7614e992424aadb1f508c0d9b24d0e
MSG_IN_SYNC=f2820db539934d1892130bf0c79eee4b
MSG_UNKNOWN=1377544151bc43caa53d7384358c33ad
MSG_RELOAD_REJECTED=261660a403594acda50a63be2331b45b
ALL_MSG_IDS=("$MSG_DRIFTED" "$MSG_IN_SYNC" "$MSG_UNKNOWN" 6e37777d1ef344d9a8f6289ce3428eef "$MSG_RELOAD_REJECTED" 50436342e16c4de093f6e4639671aa76)
UNIT=akua-driftd.service

passed=0 failed=0
NSPAWN_PID="" LEADER="" SIM_PID="" RECEIVER_PID="" OVERLAY_DIRS=""
WORK=$(mktemp -d /tmp/akua-system.XXXXXX)
CT_NAME="akua-systest-$$"

# --- reporting --------------------------------------------------------------
ok() { passed=$((passed + 1)); echo "ok - $1"; }
not_ok() {
    failed=$((failed + 1))
    echo "not ok - $1"
    [ -n "${2:-}" ] && printf '%s\n' "$2" | sed 's/^/#   /' | head -n 30
    return 0
}
note() { echo "# $*"; }
# check DESCRIPTION COMMAND...: one assertion from a command's exit status.
check() {
    local desc=$1 out
    shift
    if out=$("$@" 2>&1); then ok "$desc"; else not_ok "$desc" "$out"; fi
}
# fatal DESCRIPTION [DETAILS]: a failed step that later steps cannot do without.
fatal() {
    not_ok "$1" "${2:-}"
    note "stopping early: later steps depend on this one"
    exit 1
}

# --- processes and cleanup ----------------------------------------------------
# stop_pid PID SECONDS: SIGTERM, wait up to SECONDS, then SIGKILL. Only our own pids.
stop_pid() {
    local pid=$1 limit=$2 t
    [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 0
    kill -TERM "$pid" 2>/dev/null
    t=$((SECONDS + limit))
    while kill -0 "$pid" 2>/dev/null && [ $SECONDS -lt $t ]; do sleep 0.2; done
    if kill -0 "$pid" 2>/dev/null; then kill -KILL "$pid" 2>/dev/null; sleep 0.2; fi
    wait "$pid" 2>/dev/null
    return 0
}

# poweroff_container SECONDS: clean poweroff through the container's systemd, bounded.
poweroff_container() {
    local limit=$1 t
    [ -n "$NSPAWN_PID" ] && kill -0 "$NSPAWN_PID" 2>/dev/null || return 0
    if [ -n "$LEADER" ] && kill -0 "$LEADER" 2>/dev/null; then
        timeout 10 nsenter -t "$LEADER" -a -- systemctl poweroff --no-block >/dev/null 2>&1
    fi
    t=$((SECONDS + limit))
    while kill -0 "$NSPAWN_PID" 2>/dev/null && [ $SECONDS -lt $t ]; do sleep 0.2; done
    ! kill -0 "$NSPAWN_PID" 2>/dev/null
}

dump_logs() {
    note "--- diagnostics ---"
    if [ -n "$LEADER" ] && kill -0 "$LEADER" 2>/dev/null; then
        in_ct systemctl status --no-pager -n 0 "$UNIT" 2>&1 | sed 's/^/#   /' | head -n 15
        note "last journal lines of $UNIT:"
        in_ct journalctl --no-pager -u "$UNIT" -n 60 -o short-monotonic 2>&1 | sed 's/^/#   /'
    fi
    for f in sim.err receiver.err events.jsonl.rejected; do
        [ -s "$WORK/$f" ] && { note "$f:"; tail -n 15 "$WORK/$f" | sed 's/^/#   /'; }
    done
    return 0
}

keep_logs() {
    local dest=${SYSTEM_TEST_KEEP_LOGS:-}
    [ -n "$dest" ] || return 0
    mkdir -p "$dest"
    cp "$WORK"/*.out "$WORK"/*.err "$WORK"/*.log "$WORK"/events.jsonl* "$dest"/ 2>/dev/null
    if [ -n "$LEADER" ] && kill -0 "$LEADER" 2>/dev/null; then
        in_ct journalctl --no-pager -o json > "$dest/container-journal.json" 2>/dev/null
        in_ct journalctl --no-pager -o short-monotonic > "$dest/container-journal.txt" 2>/dev/null
    fi
    return 0
}

cleanup() {
    local status=$?
    trap - EXIT INT TERM
    if [ "$failed" -gt 0 ] || [ "$status" -ne 0 ]; then dump_logs; fi
    keep_logs
    if ! poweroff_container 30; then
        note "container did not power off in 30 s; killing systemd-nspawn (pid $NSPAWN_PID)"
        stop_pid "$NSPAWN_PID" 10
    fi
    [ -n "$NSPAWN_PID" ] && wait "$NSPAWN_PID" 2>/dev/null
    if [ -n "$NSPAWN_PID" ] && ! kill -0 "$NSPAWN_PID" 2>/dev/null; then
        for d in $OVERLAY_DIRS; do [ -d "$d" ] && rm -rf --one-file-system "$d"; done
    fi
    stop_pid "$SIM_PID" 5
    stop_pid "$RECEIVER_PID" 5
    rmdir "/run/systemd/nspawn/propagate/$CT_NAME" 2>/dev/null
    rm -rf "$WORK"
    [ "$failed" -eq 0 ] && [ "$status" -ne 0 ] && failed=1
    note "duration $(( $(date +%s) - START_TIME )) s"
    echo "system: $passed passed, $failed failed"
    [ "$failed" -eq 0 ] && exit 0
    exit 1
}
trap cleanup EXIT
trap 'note "interrupted"; exit 130' INT TERM

# --- helpers --------------------------------------------------------------------
# Runs a command inside the container with a clean environment.
in_ct() {
    nsenter -t "$LEADER" -a -- env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 \
        SYSTEMD_PAGER= SYSTEMD_COLORS=0 "$@"
}
prop() { in_ct systemctl show -P "$1" "$UNIT" 2>/dev/null; }
# poll SECONDS COMMAND...: runs COMMAND every 0.25 s until it succeeds or SECONDS pass.
poll() {
    # (A name no polled function uses: bash scopes dynamically, so the command sees poll's locals.)
    local limit=$1 poll_deadline_ms
    shift
    poll_deadline_ms=$(( $(date +%s%N) / 1000000 + limit * 1000 ))
    while :; do
        "$@" >/dev/null 2>&1 && return 0
        [ $(( $(date +%s%N) / 1000000 )) -ge "$poll_deadline_ms" ] && return 1
        sleep 0.25
    done
}
# wait_line FILE REGEX SECONDS: prints the first line of FILE matching REGEX once it appears.
wait_line() {
    local file=$1 regex=$2 limit=$3
    poll "$limit" grep -Eq "$regex" "$file" || return 1
    grep -Em1 "$regex" "$file"
}
sim_admin() { # METHOD PATH [JSON]
    curl -fsS --max-time 5 -X "$1" -H 'content-type: application/json' ${3:+-d "$3"} "$SIM_ROOT$2"
}
# JSON of the daemon's transition entries (one object per line).
transitions() {
    in_ct journalctl --no-pager -u "$UNIT" -o json 2>/dev/null \
        | jq -c --arg a "$MSG_DRIFTED" --arg b "$MSG_IN_SYNC" --arg c "$MSG_UNKNOWN" \
            'select(.MESSAGE_ID == $a or .MESSAGE_ID == $b or .MESSAGE_ID == $c)'
}
# "MACHINE COUNT" lines: transition entries per machine.
transition_counts() { transitions | jq -r '.DRIFT_MACHINE_ID' | sort | uniq -c | awk '{print $2, $1}'; }
received_ids() { [ -f "$WORK/events.jsonl" ] && jq -r '.webhook_id' "$WORK/events.jsonl" | sort -u; }
received_count() { if [ -f "$WORK/events.jsonl" ]; then wc -l < "$WORK/events.jsonl"; else echo 0; fi; }
# Event ids of the transitions that webhooks get (first observations only when drifted).
webhook_worthy_ids() {
    transitions | jq -r 'select(.DRIFT_FIRST_OBSERVATION != "1" or .DRIFT_STATE == "drifted") | .DRIFT_EVENT_ID' | sort -u
}
undelivered_ids() { comm -23 <(webhook_worthy_ids) <(received_ids); }
# Every transition meant for webhooks has reached the receiver.
all_delivered() { [ -z "$(undelivered_ids)" ]; }
status_is() { [[ "$(prop StatusText)" =~ $1 ]]; }
prop_is() { [ "$(prop "$1")" = "$2" ]; }
running_with_new_pid() { # OLD_PID EXPECTED_NRESTARTS
    local pid
    pid=$(prop MainPID)
    prop_is NRestarts "$2" && prop_is ActiveState active && prop_is SubState running \
        && [ -n "$pid" ] && [ "$pid" != 0 ] && [ "$pid" != "$1" ]
}
# ct_says EXPECTED COMMAND...: the command's output inside the container is EXPECTED.
ct_says() { [ "$(in_ct "${@:2}" 2>/dev/null)" = "$1" ]; }
sim_requests() { sim_admin GET /_sim/stats | jq -r '.requests_total // 0'; }
# settle SECONDS: waits until everything announced was delivered and nothing new was
# announced or received across two full check rounds (interval + margin).
settle() {
    local limit=$1 deadline snapshot previous="" since=$SECONDS
    deadline=$((SECONDS + limit))
    while [ $SECONDS -lt $deadline ]; do
        if all_delivered; then
            snapshot="$(transition_counts)|$(received_count)"
            if [ "$snapshot" = "$previous" ] && [ $((SECONDS - since)) -ge $((2 * INTERVAL_S + 1)) ]; then
                return 0
            fi
            if [ "$snapshot" != "$previous" ]; then previous=$snapshot since=$SECONDS; fi
        else
            previous="" since=$SECONDS
        fi
        sleep 0.5
    done
    return 1
}

# --- configuration files for the container ------------------------------------------
write_config() { # FILE MACHINE_COUNT [nohook]
    local file=$1 count=$2 hook=${3:-hook} i
    {
        echo "# akua-driftd system test"
        echo "[api]"
        echo "base_url = \"$SIM_ROOT/v1\""
        echo "timeout = \"5s\""
        echo
        echo "[schedule]"
        echo "interval = \"${INTERVAL_S}s\""
        echo "refresh_before_expiry = \"5s\""
        echo "catch_up_window = \"1s\""
        echo
        if [ "$hook" = hook ]; then
            echo "[[webhook]]"
            echo "name = \"receiver\""
            echo "url = \"$RECEIVER_ROOT/hooks/drift\""
            echo "timeout = \"5s\""
        fi
        local ids=("${MACHINES[@]}" "$EXTRA_ID") names=("${NAMES[@]}" "$EXTRA_NAME")
        for ((i = 0; i < count; i++)); do
            echo
            echo "[[machine]]"
            echo "id = \"${ids[$i]}\""
            echo "name = \"${names[$i]}\""
        done
    } > "$file"
}

# =====================================================================================
note "work dir $WORK, container $CT_NAME"
missing_tools=""
for tool in jq curl python3 objdump strip dpkg-deb setpriv pgrep ps make systemd-analyze journalctl; do
    command -v "$tool" >/dev/null 2>&1 || missing_tools+=" $tool"
done
[ -z "$missing_tools" ] || fatal "tools present" "missing:$missing_tools (Debian: jq curl python3 binutils util-linux procps make systemd)"

# 0. Artifacts: the .deb (static-stdlib release akua-driftd) and a release akua-sim.
SIM=${SYSTEM_TEST_SIM:-$ROOT/.build-release/release/akua-sim}
DEB=${SYSTEM_TEST_DEB:-}
if [ -z "${SYSTEM_TEST_NO_BUILD:-}" ]; then
    note "building release binaries and the .deb (log: make output below on failure)"
    if ! make -C "$ROOT" -f deploy/install.mk deb release-sim DIST="$WORK/dist" ${SWIFT:+SWIFT="$SWIFT"} > "$WORK/build.log" 2>&1; then
        fatal "build release binaries and the .deb" "$(tail -n 30 "$WORK/build.log")"
    fi
elif [ -z "$DEB" ]; then
    # No build: package the existing release binary (seconds, no swift build).
    make -C "$ROOT" -f deploy/install.mk -o release-driftd deb DIST="$WORK/dist" > "$WORK/build.log" 2>&1 \
        || fatal "package the existing release binary" "$(tail -n 30 "$WORK/build.log")"
fi
DEB=${DEB:-$(ls "$WORK"/dist/akua-driftd_*.deb 2>/dev/null | head -n1)}
[ -f "$DEB" ] && [ -x "$SIM" ] || fatal "release akua-sim and .deb exist" "deb='$DEB' sim='$SIM'"
ok "release akua-sim and .deb built ($(basename "$DEB"); Depends: $(dpkg-deb -f "$DEB" Depends))"
needed=$(dpkg-deb --fsys-tarfile "$DEB" | tar -xO ./usr/bin/akua-driftd > "$WORK/akua-driftd.bin" && objdump -p "$WORK/akua-driftd.bin" | awk '$1 == "NEEDED" {print $2}' | tr '\n' ' ')
if [ -n "$needed" ] && ! grep -Eq 'libswift|libFoundation|libdispatch|libBlocksRuntime' <<< "$needed"; then
    ok "packaged binary links no Swift runtime dynamically (NEEDED: $needed)"
else
    not_ok "packaged binary links no Swift runtime dynamically" "NEEDED: $needed"
fi

# make install / uninstall into a DESTDIR, reusing the release binary just built.
RELEASE_BIN=$ROOT/.build-release/release/akua-driftd
if [ -z "${SYSTEM_TEST_DEB:-}" ] && [ -x "$RELEASE_BIN" ]; then
    dest=$WORK/destdir
    installed() {
        [ -x "$dest/usr/bin/akua-driftd" ] && [ -f "$dest/usr/lib/systemd/system/akua-driftd.service" ] \
            && [ -f "$dest/usr/lib/systemd/catalog/akua-driftd.catalog" ] && [ -f "$dest/etc/akua-driftd/config.toml" ] \
            && [ -f "$dest/usr/share/doc/akua-driftd/README.md" ]
    }
    mk() { make -C "$ROOT" -f deploy/install.mk -o release-driftd "$@" DESTDIR="$dest" > "$WORK/install.log" 2>&1; }
    if mk install && installed && echo "# local change" >> "$dest/etc/akua-driftd/config.toml" \
        && mk install && grep -q '^# local change' "$dest/etc/akua-driftd/config.toml" \
        && mk uninstall && [ ! -e "$dest/usr/bin/akua-driftd" ] && [ ! -e "$dest/usr/lib/systemd/system/akua-driftd.service" ] \
        && [ ! -e "$dest/usr/lib/systemd/catalog/akua-driftd.catalog" ] && [ -f "$dest/etc/akua-driftd/config.toml" ]; then
        ok "make install DESTDIR=: binary, unit, catalog, config, docs; reinstall keeps a changed config; uninstall keeps config"
    else
        not_ok "make install / uninstall with DESTDIR" "$(tail -n 20 "$WORK/install.log"; find "$dest" | sort)"
    fi
fi

# Offline hardening score of the unit as shipped.
score=$(systemd-analyze security --offline=yes "$ROOT/deploy/akua-driftd.service" 2>/dev/null \
    | sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p')
if [ -n "$score" ] && awk -v s="$score" 'BEGIN { exit !(s <= 1.5) }'; then
    ok "systemd-analyze security --offline=yes deploy/akua-driftd.service: exposure $score <= 1.5"
else
    not_ok "systemd-analyze security --offline=yes deploy/akua-driftd.service: exposure '${score:-?}' <= 1.5"
fi

# 1. Simulator and webhook receiver on the host's loopback.
mkdir -p "$WORK/ct"
TOKEN="akua_systest_$(od -An -tx1 -N16 /dev/urandom | tr -d ' \n')"
SECRET="whsec_$(head -c 32 /dev/urandom | base64 -w0)"
printf '%s\n' "$TOKEN" > "$WORK/ct/token"
printf '%s\n' "$SECRET" > "$WORK/ct/webhook.secret"
chmod 0600 "$WORK/ct/token" "$WORK/ct/webhook.secret"

"$SIM" --listen 127.0.0.1:0 --token "$TOKEN" --machines "$(IFS=,; echo "${MACHINES[*]}")" --ttl 20s \
    > "$WORK/sim.out" 2> "$WORK/sim.err" < /dev/null &
SIM_PID=$!
line=$(wait_line "$WORK/sim.out" '^akua-sim listening on http://127\.0\.0\.1:[0-9]+/v1$' 20) \
    || fatal "akua-sim prints its listening line within 20 s" "$(cat "$WORK/sim.out" "$WORK/sim.err" 2>/dev/null)"
SIM_ROOT=$(sed -E 's|^akua-sim listening on (http://127\.0\.0\.1:[0-9]+)/v1$|\1|' <<< "$line")
ok "akua-sim listening at $SIM_ROOT/v1"

python3 "$HERE/webhook_receiver.py" --secret-file "$WORK/ct/webhook.secret" --events "$WORK/events.jsonl" \
    > "$WORK/receiver.out" 2> "$WORK/receiver.err" < /dev/null &
RECEIVER_PID=$!
line=$(wait_line "$WORK/receiver.out" '^webhook-receiver listening on http://127\.0\.0\.1:[0-9]+/$' 20) \
    || fatal "webhook receiver listens within 20 s" "$(cat "$WORK/receiver.err" 2>/dev/null)"
RECEIVER_ROOT=$(sed -E 's|^webhook-receiver listening on (http://127\.0\.0\.1:[0-9]+)/$|\1|' <<< "$line")
ok "webhook receiver listening at $RECEIVER_ROOT"

write_config "$WORK/ct/config.toml" 3
write_config "$WORK/ct/config-4.toml" 4
write_config "$WORK/ct/config-nohook.toml" 3 nohook
sed 's/^interval = .*/interval = "soon"/' "$WORK/ct/config-4.toml" > "$WORK/ct/config-bad.toml"
printf '[Service]\nWatchdogSec=%ss\n' "$WATCHDOG_S" > "$WORK/ct/50-system-test.conf"
cp "$DEB" "$WORK/ct/"
DEB_NAME=$(basename "$DEB")

# 2. Boot the container.
boot_start=$SECONDS
systemd-nspawn -D / --volatile=yes --overlay=/usr::/usr --overlay=/var::/var --overlay=/etc::/etc \
    --bind-ro="$WORK/ct":/mnt/x --boot --register=no --keep-unit --machine="$CT_NAME" \
    -- systemd.firstboot=off < /dev/null > "$WORK/nspawn.log" 2>&1 &
NSPAWN_PID=$!
leader_known() { LEADER=$(pgrep -P "$NSPAWN_PID" | head -n1); [ -n "$LEADER" ]; }
poll 20 leader_known || fatal "systemd-nspawn starts the container's init within 20 s" "$(tail -n 20 "$WORK/nspawn.log")"
LEADER=$(pgrep -P "$NSPAWN_PID" | head -n1)
booted() {
    local s
    s=$(timeout 5 nsenter -t "$LEADER" -a -- systemctl is-system-running --wait 2>/dev/null)
    [ "$s" = running ] || [ "$s" = degraded ]
}
poll 120 booted || fatal "container boots (is-system-running: running/degraded) within 120 s" \
    "$(timeout 5 nsenter -t "$LEADER" -a -- systemctl is-system-running 2>&1; tail -n 20 "$WORK/nspawn.log")"
BOOT_SECONDS=$((SECONDS - boot_start))
# nspawn keeps the overlays' upper directories in /var/tmp/nspawn-temp-*; remember ours to be
# sure they are gone afterwards.
OVERLAY_DIRS=$(grep -o 'upperdir=/var/tmp/nspawn-temp-[A-Za-z0-9]*' "/proc/$LEADER/mountinfo" 2>/dev/null | cut -d= -f2 | sort -u)
ok "container booted in ${BOOT_SECONDS} s ($(in_ct systemctl is-system-running 2>/dev/null))"

# 3. Install the package.
check "dpkg -i $DEB_NAME" in_ct dpkg -i "/mnt/x/$DEB_NAME"
check "package installed /usr/bin/akua-driftd, unit and catalog" \
    in_ct test -x /usr/bin/akua-driftd -a -f /usr/lib/systemd/system/$UNIT -a -f /usr/lib/systemd/catalog/akua-driftd.catalog
check "installing enables nothing (is-enabled: disabled)" ct_says disabled systemctl is-enabled "$UNIT"
check "installing starts nothing (is-active: inactive)" ct_says inactive systemctl is-active "$UNIT"
catalog=$(in_ct journalctl --list-catalog 2>/dev/null)
missing_ids=""
for id in "${ALL_MSG_IDS[@]}"; do grep -q "^$id " <<< "$catalog" || missing_ids+=" $id"; done
if [ -z "$missing_ids" ]; then ok "postinst compiled the catalog (all ${#ALL_MSG_IDS[@]} MESSAGE_IDs listed)"
else not_ok "postinst compiled the catalog" "missing:$missing_ids"; fi
check "systemd-analyze verify $UNIT" in_ct systemd-analyze verify "$UNIT"
score=$(in_ct systemd-analyze security "$UNIT" --no-pager 2>/dev/null \
    | sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p')
if [ -n "$score" ] && awk -v s="$score" 'BEGIN { exit !(s <= 1.5) }'; then
    ok "systemd-analyze security $UNIT (loaded unit): exposure $score <= 1.5"
else
    not_ok "systemd-analyze security $UNIT (loaded unit): exposure '${score:-?}' <= 1.5"
fi

# 4. Credentials, test drop-in, and first a broken config.
in_ct install -m 0600 /mnt/x/token /etc/akua-driftd/token
in_ct install -m 0600 /mnt/x/webhook.secret /etc/akua-driftd/webhook.secret
in_ct install -D -m 0644 /mnt/x/50-system-test.conf /etc/systemd/system/$UNIT.d/50-system-test.conf
in_ct systemctl daemon-reload
check "test drop-in installed (WatchdogSec=${WATCHDOG_S}s)" \
    bash -c "nsenter -t $LEADER -a -- systemctl show -P DropInPaths $UNIT | grep -q 50-system-test.conf"

in_ct install -m 0644 /mnt/x/config-bad.toml /etc/akua-driftd/config.toml
if timeout 60 nsenter -t "$LEADER" -a -- systemctl start "$UNIT" >/dev/null 2>&1; then
    not_ok "invalid config: systemctl start fails (the daemon never sends READY=1)"
else
    ok "invalid config: systemctl start fails (the daemon never sends READY=1)"
fi
failed_state() { [ "$(prop ActiveState)" = failed ]; }
if poll 15 failed_state && [ "$(prop ExecMainStatus)" = 78 ] && [ "$(prop NRestarts)" = 0 ]; then
    ok "invalid config: exit status 78, unit failed, not restarted (RestartPreventExitStatus=78)"
else
    not_ok "invalid config: exit status 78, unit failed, not restarted" \
        "$(in_ct systemctl show -p ActiveState,SubState,Result,ExecMainStatus,NRestarts "$UNIT")"
fi
if in_ct journalctl --no-pager -u "$UNIT" -o cat | grep -Eq 'config\.toml:[0-9]+: '; then
    ok "invalid config: journal names FILE:LINE: of the error"
else
    not_ok "invalid config: journal names FILE:LINE: of the error" "$(in_ct journalctl --no-pager -u "$UNIT" -o cat | tail -n 10)"
fi
in_ct systemctl reset-failed "$UNIT"

# Credentials are optional files: without webhooks no webhook.secret is needed (the unit's
# SetCredential= fallback), and a missing token is reported by the daemon, not by systemd.
in_ct install -m 0644 /mnt/x/config-nohook.toml /etc/akua-driftd/config.toml
in_ct rm -f /etc/akua-driftd/webhook.secret
if timeout 60 nsenter -t "$LEADER" -a -- systemctl start "$UNIT" >/dev/null 2>&1 && prop_is ActiveState active; then
    ok "no webhooks and no /etc/akua-driftd/webhook.secret: the service starts"
else
    not_ok "no webhooks and no /etc/akua-driftd/webhook.secret: the service starts" \
        "$(in_ct systemctl show -p ActiveState,Result,ExecMainStatus "$UNIT"; in_ct journalctl --no-pager -u "$UNIT" -n 5 -o cat)"
fi
in_ct systemctl stop "$UNIT"
in_ct rm -f /etc/akua-driftd/token
token_mentions() { in_ct journalctl --no-pager -u "$UNIT" -o cat 2>/dev/null | grep -c 'akua-token'; }
mentions_before=$(token_mentions)
start_fails() { ! timeout 60 nsenter -t "$LEADER" -a -- systemctl start "$UNIT" >/dev/null 2>&1; }
more_mentions() { [ "$(token_mentions)" -gt "$mentions_before" ]; }
if start_fails && poll 15 failed_state && prop_is ExecMainStatus 78 && poll 5 more_mentions; then
    ok "no /etc/akua-driftd/token: the daemon itself fails with 78 and names the akua-token credential"
else
    not_ok "no /etc/akua-driftd/token: the daemon itself fails with 78 and names the akua-token credential" \
        "$(in_ct systemctl show -p ActiveState,Result,ExecMainStatus "$UNIT"; in_ct journalctl --no-pager -u "$UNIT" -n 5 -o cat)"
fi
in_ct systemctl reset-failed "$UNIT"
check "systemctl clean --what=state: the trial runs' state is gone" \
    bash -c "nsenter -t $LEADER -a -- systemctl clean --what=state $UNIT && ! nsenter -t $LEADER -a -- test -e /var/lib/private/akua-driftd/state.sqlite"
in_ct install -m 0600 /mnt/x/token /etc/akua-driftd/token
in_ct install -m 0600 /mnt/x/webhook.secret /etc/akua-driftd/webhook.secret

# 5. (a) Start: `systemctl start` returns only once the daemon sent READY=1.
in_ct install -m 0644 /mnt/x/config.toml /etc/akua-driftd/config.toml
start_begin=$SECONDS
if ! start_out=$(timeout 90 nsenter -t "$LEADER" -a -- systemctl start "$UNIT" 2>&1); then
    fatal "systemctl start $UNIT succeeds" "$start_out"
fi
STARTUP_SECONDS=$((SECONDS - start_begin))
props=$(in_ct systemctl show -p Type,ActiveState,SubState,StatusText,MainPID,NRestarts,Result "$UNIT")
if grep -qx 'Type=notify' <<< "$props" && grep -qx 'ActiveState=active' <<< "$props" \
    && grep -qx 'SubState=running' <<< "$props" && grep -q '^StatusText=.' <<< "$props"; then
    ok "(a) Type=notify: start returned after READY=1 in ${STARTUP_SECONDS} s; active (running) with a status text"
else
    not_ok "(a) Type=notify: start returned after READY=1; active (running) with a status text" "$props"
fi
check "(a) running with WatchdogSec=${WATCHDOG_S}s" prop_is WatchdogUSec "${WATCHDOG_S}s"
exec_start=$(prop ExecMainStartTimestampMonotonic) active_enter=$(prop ActiveEnterTimestampMonotonic)
if [ -n "$exec_start" ] && [ -n "$active_enter" ] && [ "$active_enter" -gt "$exec_start" ]; then
    ok "(a) activation happened after the process started ($(( (active_enter - exec_start) / 1000 )) ms later)"
else
    not_ok "(a) activation happened after the process started" "exec=$exec_start active=$active_enter"
fi

# 6. (b) Status text with machine counts.
if poll 10 status_is '^watching 3 machines: '; then
    ok "(b) StatusText: $(prop StatusText)"
else
    not_ok "(b) StatusText reports 3 machines" "$(prop StatusText)"
fi
if poll 40 status_is '^watching 3 machines: 3 in_sync, 0 drifted, 0 unknown'; then
    ok "(b) all 3 machines checked in_sync: $(prop StatusText)"
else
    not_ok "(b) all 3 machines checked in_sync" "$(prop StatusText)"
fi

# 7. (c) A machine drifts: journal entry with all DRIFT_* fields, and a signed webhook.
FLIP=${MACHINES[1]} FLIP_NAME=${NAMES[1]}
check "(c) simulator: $FLIP set to drifted" sim_admin PUT "/_sim/machines/$FLIP/state" '{"state":"drifted"}'
drift_entry() {
    in_ct journalctl --no-pager -u "$UNIT" -o json DRIFT_STATE=drifted "DRIFT_MACHINE_ID=$FLIP" 2>/dev/null \
        | jq -c --arg m "$MSG_DRIFTED" 'select(.MESSAGE_ID == $m)' | head -n1
}
has_drift_entry() { [ -n "$(drift_entry)" ]; }
if poll 60 has_drift_entry; then
    entry=$(drift_entry)
    ok "(c) journal: drifted transition of $FLIP: $(jq -r .MESSAGE <<< "$entry")"
    problems=""
    for f in DRIFT_MACHINE_ID DRIFT_MACHINE_NAME DRIFT_STATE DRIFT_PREVIOUS_STATE DRIFT_REPORT_ID DRIFT_EVENT_ID \
        DRIFT_EXPIRES_AT DRIFT_ATTRIBUTES CODE_FILE CODE_LINE CODE_FUNC; do
        [ -n "$(jq -r --arg f "$f" '.[$f] // empty' <<< "$entry")" ] || problems+="missing $f; "
    done
    expect() { [ "$(jq -r --arg f "$1" '.[$f] // empty' <<< "$entry")" = "$2" ] || problems+="$1 is not '$2'; "; }
    expect DRIFT_MACHINE_NAME "$FLIP_NAME"
    expect DRIFT_STATE drifted
    expect DRIFT_PREVIOUS_STATE in_sync
    expect PRIORITY 4
    expect SYSLOG_IDENTIFIER akua-driftd
    expires=$(jq -r '.DRIFT_EXPIRES_AT // empty' <<< "$entry")
    [[ $expires =~ ^[0-9]+$ ]] && [ "$expires" -gt "$(date +%s)" ] || problems+="DRIFT_EXPIRES_AT '$expires' is not a future unix time; "
    [ "$(jq -r '._UID // empty' <<< "$entry")" != 0 ] || problems+="logged by uid 0; "
    if [ -z "$problems" ]; then
        ok "(c) entry has all DRIFT_* fields (name, state, previous in_sync, report, event, expiry, attributes '$(jq -r .DRIFT_ATTRIBUTES <<< "$entry")'), PRIORITY=4, CODE_*"
    else
        not_ok "(c) entry has all DRIFT_* fields with the expected values" "$problems"$'\n'"$entry"
    fi
    EVENT_ID=$(jq -r '.DRIFT_EVENT_ID // empty' <<< "$entry")
    got_event() { [ -n "$EVENT_ID" ] && [ -f "$WORK/events.jsonl" ] && jq -e --arg id "$EVENT_ID" 'select(.webhook_id == $id)' "$WORK/events.jsonl" >/dev/null; }
    if poll 30 got_event; then
        payload=$(jq -c --arg id "$EVENT_ID" 'select(.webhook_id == $id) | .payload' "$WORK/events.jsonl" | head -n1)
        if jq -e --arg m "$FLIP" '.type == "machine.drift.transition" and .data.machine_id == $m
                and .data.state == "drifted" and .data.previous_state == "in_sync"' <<< "$payload" >/dev/null; then
            ok "(c) receiver verified the signed webhook webhook-id=$EVENT_ID: $FLIP in_sync -> drifted"
        else
            not_ok "(c) webhook payload is machine.drift.transition of $FLIP in_sync -> drifted" "$payload"
        fi
    else
        not_ok "(c) receiver got a validly signed webhook with webhook-id = DRIFT_EVENT_ID ($EVENT_ID) within 30 s" \
            "$(cat "$WORK/events.jsonl" "$WORK/events.jsonl.rejected" 2>/dev/null | tail -n 5)"
    fi
else
    not_ok "(c) journal: drifted transition of $FLIP within 60 s" "$(in_ct journalctl --no-pager -u "$UNIT" -n 15 -o cat)"
fi

# 8. (d) The catalog explains the entry.
xout=$(in_ct journalctl --no-pager -x -u "$UNIT" "DRIFT_MACHINE_ID=$FLIP" DRIFT_STATE=drifted 2>/dev/null)
if grep -q "Subject: Machine $FLIP_NAME ($FLIP) drifted from its configuration" <<< "$xout" \
    && grep -q "Defined-By: akua-driftd" <<< "$xout"; then
    ok "(d) journalctl -x shows the catalog text with the machine filled in"
else
    not_ok "(d) journalctl -x shows the catalog text with the machine filled in" "$(tail -n 20 <<< "$xout")"
fi

# 9. (e) Reload with a 4th machine: same process, new status.
check "(e) simulator: added $EXTRA_ID" sim_admin POST /_sim/machines \
    "{\"id\":\"$EXTRA_ID\",\"name\":\"$EXTRA_NAME\",\"state\":\"in_sync\"}"
in_ct install -m 0644 /mnt/x/config-4.toml /etc/akua-driftd/config.toml
pid_before=$(prop MainPID) restarts_before=$(prop NRestarts)
check "(e) systemctl reload $UNIT" timeout 30 nsenter -t "$LEADER" -a -- systemctl reload "$UNIT"
if poll 20 status_is '^watching 4 machines: ' && [ "$(prop MainPID)" = "$pid_before" ] \
    && [ "$(prop NRestarts)" = "$restarts_before" ] && [ "$(prop ActiveState)" = active ]; then
    ok "(e) reload kept MainPID $pid_before; StatusText: $(prop StatusText)"
else
    not_ok "(e) reload kept MainPID and reports 4 machines" \
        "before pid=$pid_before restarts=$restarts_before; now $(in_ct systemctl show -p MainPID,NRestarts,ActiveState,StatusText "$UNIT")"
fi
if poll 40 status_is '^watching 4 machines: 3 in_sync, 1 drifted, 0 unknown'; then
    ok "(e) 4th machine checked: $(prop StatusText)"
else
    not_ok "(e) 4th machine checked (3 in_sync, 1 drifted)" "$(prop StatusText)"
fi

# A broken config on reload is rejected with the catalogued MESSAGE_ID; the daemon keeps running.
rejected_count() { in_ct journalctl --no-pager -u "$UNIT" "MESSAGE_ID=$MSG_RELOAD_REJECTED" -o cat 2>/dev/null | grep -c . ; }
rejected_before=$(rejected_count)
in_ct install -m 0644 /mnt/x/config-bad.toml /etc/akua-driftd/config.toml
in_ct systemctl reload "$UNIT" >/dev/null 2>&1
more_rejected() { [ "$(rejected_count)" -gt "$rejected_before" ]; }
if poll 20 more_rejected && [ "$(prop MainPID)" = "$pid_before" ] && [ "$(prop ActiveState)" = active ] \
    && status_is '^watching 4 machines: '; then
    ok "(e) invalid config on reload: rejected (MESSAGE_ID=$MSG_RELOAD_REJECTED), still running with 4 machines"
else
    not_ok "(e) invalid config on reload: rejected and still running" \
        "$(in_ct systemctl show -p MainPID,ActiveState,StatusText "$UNIT"; in_ct journalctl --no-pager -u "$UNIT" -n 8 -o cat)"
fi
in_ct install -m 0644 /mnt/x/config-4.toml /etc/akua-driftd/config.toml

# 10. (f) kill -9: systemd restarts it; nothing is announced twice.
if settle 60; then
    ok "(f) settled: every announced transition was delivered, nothing new for $((2 * INTERVAL_S + 1)) s"
else
    not_ok "(f) settled before the crash test" "journal events not received: $(undelivered_ids | tr '\n' ' ')"
fi
counts_before=$(transition_counts) received_before=$(received_count)
note "transitions per machine before the crash: $(tr '\n' ' ' <<< "$counts_before"); webhooks received: $received_before"
pid_before=$(prop MainPID) restarts_before=$(prop NRestarts)
in_ct kill -KILL "$pid_before"
if poll 30 running_with_new_pid "$pid_before" $((restarts_before + 1)); then
    ok "(f) after kill -9: restarted by systemd (NRestarts $restarts_before -> $(prop NRestarts), MainPID $pid_before -> $(prop MainPID))"
else
    not_ok "(f) after kill -9: restarted by systemd" "$(in_ct systemctl show -p MainPID,NRestarts,ActiveState,SubState,Result "$UNIT")"
fi
# Let the new process run at least two check rounds of every machine against the simulator.
requests_mark=$(sim_requests)
enough_rounds() { [ "$(sim_requests)" -ge $((requests_mark + 2 * 4)) ]; }
round_start=$SECONDS
poll 60 enough_rounds || note "simulator saw fewer than 8 requests after the restart"
while [ $((SECONDS - round_start)) -lt $((2 * INTERVAL_S + 1)) ]; do sleep 0.5; done
counts_after=$(transition_counts) received_after=$(received_count)
if [ "$counts_after" = "$counts_before" ] && [ "$received_after" = "$received_before" ]; then
    ok "(f) no transition re-announced after the restart (journal per machine and $received_after webhooks unchanged)"
else
    not_ok "(f) no transition re-announced after the restart" \
        "before: $(tr '\n' ' ' <<< "$counts_before") / $received_before webhooks; after: $(tr '\n' ' ' <<< "$counts_after") / $received_after webhooks"
fi
if status_is '^watching 4 machines: 3 in_sync, 1 drifted, 0 unknown'; then
    ok "(f) state survived the crash: $(prop StatusText)"
else
    not_ok "(f) state survived the crash" "$(prop StatusText)"
fi

# A change after the restart is announced exactly once, to the journal and to the webhook.
check "(f) simulator: $FLIP back to in_sync" sim_admin PUT "/_sim/machines/$FLIP/state" '{"state":"in_sync"}'
back_entries() {
    in_ct journalctl --no-pager -u "$UNIT" -o json DRIFT_STATE=in_sync "DRIFT_MACHINE_ID=$FLIP" DRIFT_PREVIOUS_STATE=drifted \
        2>/dev/null | jq -c --arg m "$MSG_IN_SYNC" 'select(.MESSAGE_ID == $m)' | grep -c .
}
has_back() { [ "$(back_entries)" -ge 1 ]; }
if poll 40 has_back && settle 40 && [ "$(back_entries)" = 1 ] && [ "$(received_count)" = $((received_after + 1)) ]; then
    ok "(f) the restarted daemon announces $FLIP drifted -> in_sync exactly once (journal and webhook)"
else
    not_ok "(f) the restarted daemon announces $FLIP drifted -> in_sync exactly once" \
        "journal entries: $(back_entries); webhooks: $(received_count) (expected $((received_after + 1)))"
fi

# 11. (g) SIGSTOP: no more WATCHDOG=1, systemd kills it with Result=watchdog and restarts it.
pid_before=$(prop MainPID) restarts_before=$(prop NRestarts)
watchdog_results() { in_ct journalctl --no-pager -u "$UNIT" UNIT_RESULT=watchdog -o cat 2>/dev/null | grep -c . ; }
watchdog_before=$(watchdog_results)
in_ct kill -STOP "$pid_before"
stop_at=$SECONDS
watchdog_fired() { [ "$(prop Result)" = watchdog ] || [ "$(watchdog_results)" -gt "$watchdog_before" ]; }
if poll $((WATCHDOG_S + 30)) watchdog_fired; then
    ok "(g) watchdog fired $((SECONDS - stop_at)) s after SIGSTOP (Result=watchdog, WatchdogSec=${WATCHDOG_S}s)"
else
    not_ok "(g) watchdog fired after SIGSTOP" "$(in_ct systemctl show -p MainPID,NRestarts,ActiveState,SubState,Result "$UNIT")"
fi
if poll 60 running_with_new_pid "$pid_before" $((restarts_before + 1)); then
    ok "(g) restarted after the watchdog (NRestarts $(prop NRestarts), MainPID $pid_before -> $(prop MainPID))"
else
    not_ok "(g) restarted after the watchdog" "$(in_ct systemctl show -p MainPID,NRestarts,ActiveState,SubState,Result "$UNIT")"
fi
if poll 20 status_is '^watching 4 machines: '; then
    ok "(g) serving again: $(prop StatusText)"
else
    not_ok "(g) serving again after the watchdog restart" "$(prop StatusText)"
fi

# 12. (h) Sandbox: dynamic user, no capabilities, read-only system, state dir writable.
PID=$(prop MainPID)
check "(h) DynamicUser=yes" prop_is DynamicUser yes
user=$(in_ct ps -o user= -p "$PID" | tr -d ' ')
status_file=$(in_ct cat "/proc/$PID/status")
uid=$(awk '/^Uid:/ {print $2}' <<< "$status_file") gid=$(awk '/^Gid:/ {print $2}' <<< "$status_file")
uids=$(awk '/^Uid:/ {print $2, $3, $4, $5}' <<< "$status_file")
if [ -n "$uid" ] && [ "$user" != root ] && [ "$uids" = "$uid $uid $uid $uid" ] && [ "$uid" -ge 61184 ] && [ "$uid" -le 65519 ]; then
    ok "(h) runs as dynamic user $user (uid $uid, in 61184-65519; real/effective/saved/fs equal)"
else
    not_ok "(h) runs as a dynamic non-root user" "user=$user uids=$uids"
fi
caps=$(grep -E '^(CapPrm|CapEff|CapBnd|CapAmb|NoNewPrivs|Seccomp):' <<< "$status_file" | tr -s '\t ' ' ' | tr '\n' ' ')
if grep -q 'CapPrm: 0000000000000000' <<< "$caps" && grep -q 'CapEff: 0000000000000000' <<< "$caps" \
    && grep -q 'CapBnd: 0000000000000000' <<< "$caps" && grep -q 'NoNewPrivs: 1' <<< "$caps" && grep -q 'Seccomp: 2' <<< "$caps"; then
    ok "(h) no capabilities (permitted, effective, bounding), NoNewPrivs=1, seccomp filter on"
else
    not_ok "(h) no capabilities, NoNewPrivs, seccomp" "$caps"
fi
# Probes inside the daemon's own mount namespace, as its uid and without capabilities.
as_daemon() {
    in_ct nsenter -t "$PID" -m -- setpriv --reuid="$uid" --regid="$gid" --clear-groups \
        --inh-caps=-all --bounding-set=-all -- "$@"
}
probe=".akua-systest-probe-$$"
if ! as_daemon touch "/etc/akua-driftd/$probe" 2>/dev/null && ! as_daemon touch "/usr/$probe" 2>/dev/null \
    && ! as_daemon touch "/var/$probe" 2>/dev/null && ! as_daemon sh -c "ls /root /home" >/dev/null 2>&1; then
    ok "(h) as its uid in its mount namespace: cannot write /etc, /usr, /var; /root and /home unreadable"
else
    not_ok "(h) as its uid in its mount namespace: cannot write outside its state directory"
fi
erofs=$(in_ct nsenter -t "$PID" -m -- touch "/etc/$probe" 2>&1)
if grep -q 'Read-only file system' <<< "$erofs"; then
    ok "(h) /etc is mounted read-only in its namespace (even root gets EROFS: ProtectSystem=strict)"
else
    not_ok "(h) /etc is mounted read-only in its namespace" "pid $PID: touch /etc/$probe: '$erofs'"
    in_ct nsenter -t "$PID" -m -- rm -f "/etc/$probe" 2>/dev/null
fi
if as_daemon sh -c "touch /var/lib/akua-driftd/$probe && rm /var/lib/akua-driftd/$probe"; then
    ok "(h) its state directory /var/lib/akua-driftd is writable for it"
else
    not_ok "(h) its state directory /var/lib/akua-driftd is writable for it"
fi
if ! as_daemon cat /etc/akua-driftd/token >/dev/null 2>&1 && ! as_daemon test -e /proc/1/cmdline; then
    ok "(h) it cannot read /etc/akua-driftd/token (it gets the credential) nor see other processes (ProtectProc=invisible)"
else
    not_ok "(h) it cannot read the token file nor see other processes"
fi
db=$(in_ct stat -c '%U %a' /var/lib/private/akua-driftd/state.sqlite 2>/dev/null)
if [ "$db" = "$user 600" ]; then
    ok "(h) state database /var/lib/private/akua-driftd/state.sqlite: owner $user, mode 600 (UMask=0077)"
else
    not_ok "(h) state database owned by the dynamic user with mode 600" "stat: '$db'"
fi

# The sandbox (seccomp filter, MemoryDenyWriteExecute, ...) makes no call of the daemon or of
# the Swift runtime fail visibly: nothing logged by the daemon about EPERM or missing syscalls.
# Known and harmless, as for any unprivileged Swift process: libdispatch's one attempt per
# process to raise a worker thread's priority, "Failed to set thread priority for worker
# thread: pqc=0x... errno=13" (EACCES, no CAP_SYS_NICE). errno=1 (EPERM) there would mean the
# seccomp filter denied setpriority() and is reported.
complaints=$(in_ct journalctl --no-pager -u "$UNIT" _COMM=akua-driftd -o cat 2>/dev/null \
    | grep -Ev '^Failed to set thread priority for worker thread: pqc=0x[0-9a-f]+ errno=13$' \
    | grep -Ei 'errno=|Operation not permitted|Bad system call|Function not implemented|Permission denied|mprotect|seccomp' \
    | sed -E 's/0x[0-9a-f]+/0x.../' | sort | uniq -c | head -n 10)
if [ -z "$complaints" ]; then
    ok "(h) the daemon logged no EPERM/ENOSYS complaints under the sandbox"
else
    not_ok "(h) the daemon logged no EPERM/ENOSYS complaints under the sandbox" "$complaints"
fi

# 12b. Feature checks: each file in Tests/system/checks/*.sh (sorted) is sourced here, with the
# service running its 4-machine config, the helpers above (in_ct, check, ok, not_ok, poll, sim_admin,
# settle, write_config) and $WORK, $LEADER, $UNIT, $SIM_ROOT, $RECEIVER_ROOT set. A file leaves the
# service running with a working config when it is done.
for feature_checks in "$HERE"/checks/*.sh; do
    [ -e "$feature_checks" ] || continue
    note "feature checks: $(basename "$feature_checks")"
    # shellcheck source=/dev/null
    . "$feature_checks"
done

# 13. Clean stop, then purge.
check "systemctl stop $UNIT" timeout 40 nsenter -t "$LEADER" -a -- systemctl stop "$UNIT"
stop_props=$(in_ct systemctl show -p ActiveState,Result,ExecMainCode,ExecMainStatus "$UNIT")
if grep -qx 'ActiveState=inactive' <<< "$stop_props" && grep -qx 'Result=success' <<< "$stop_props"; then
    ok "SIGTERM stops it cleanly (inactive, Result=success)"
else
    not_ok "SIGTERM stops it cleanly" "$stop_props"
fi
check "dpkg --purge akua-driftd" in_ct dpkg --purge akua-driftd
if in_ct test ! -e /usr/bin/akua-driftd -a ! -e /usr/lib/systemd/system/$UNIT -a ! -e /var/lib/private/akua-driftd \
    -a ! -e /etc/akua-driftd/token -a ! -e /etc/akua-driftd/config.toml \
    && ! in_ct journalctl --list-catalog 2>/dev/null | grep -q "$MSG_DRIFTED"; then
    ok "purge removed binary, unit, state, credentials, config and catalog entries"
else
    not_ok "purge removed binary, unit, state, credentials, config and catalog entries" \
        "$(in_ct ls -la /usr/bin/akua-driftd /var/lib/private/akua-driftd /etc/akua-driftd 2>&1)"
fi

# 14. (i) Power off (cleanup does the same, bounded, when a step above bailed out).
if poweroff_container 30; then
    ok "(i) container powered off"
else
    not_ok "(i) container powered off within 30 s"
fi
note "boot ${BOOT_SECONDS} s, daemon startup ${STARTUP_SECONDS} s"
