# The operator's day (issue 10, sections 1, 2 and 5), sourced by Tests/system/run.sh at step 12b with
# the service running its 4-machine config: `status` and `check` as root with no flags and their exit
# codes, `status` as a member of adm (and the sentence for a non-member), the catalog's `check` command,
# a good and a rejected `systemctl reload` (exit codes, the FILE:LINE: key: error in `systemctl status`,
# the previous config still running, [log] level applied), and `state backup` while running.
# Leaves the service running with its 4-machine config.

OP_CONFIG=/etc/akua-driftd/config.toml
op_status() { in_ct akua-driftd status "$@"; }
op_status_code() { in_ct akua-driftd status "$@" >/dev/null 2>&1; echo $?; }
# Note: run.sh sets pipefail and status exits 1 or 2 by design, so its output is captured before grep.
op_status_is() { [ "$(op_status_code)" = "$1" ]; }

# status as root, no flags: finds /var/lib/akua-driftd/state.sqlite, needs no token, exits like a plugin.
for id in "${MACHINES[@]}" "$EXTRA_ID"; do
    sim_admin PUT "/_sim/machines/$id/state" '{"state":"in_sync"}' >/dev/null
done
if poll 40 op_status_is 0; then
    ok "(o) akua-driftd status as root, no flags: exit 0 with every machine in_sync"
else
    not_ok "(o) akua-driftd status as root, no flags: exit 0 with every machine in_sync" "$(op_status 2>&1)"
fi
out=$(op_status 2>&1)
if grep -q '^webhook receiver: [0-9]* pending' <<< "$out" && grep -q '^last reload: ' <<< "$out" \
    && [ "$(grep -c '^mch_' <<< "$out")" = 4 ]; then
    ok "(o) status shows 4 machines, the webhook outbox backlog and the last reload"
else
    not_ok "(o) status shows 4 machines, the webhook outbox backlog and the last reload" "$out"
fi
sim_admin PUT "/_sim/machines/${MACHINES[0]}/state" '{"state":"drifted"}' >/dev/null
if poll 40 op_status_is 1; then
    ok "(o) status exits 1 once ${MACHINES[0]} drifted"
else
    not_ok "(o) status exits 1 once ${MACHINES[0]} drifted" "$(op_status 2>&1)"
fi
code=$(op_status_code --state /nonexistent/state.sqlite)
check "(o) status exits 3 when the state cannot be read (got $code)" test "$code" = 3
json_ok() { local out; out=$(op_status --json); jq -e 'length == 4 and all(.[]; has("failing") and has("stale"))' <<< "$out" >/dev/null; }
check "(o) status --json is one array of the 4 machines, with failing and stale" json_ok

# status as a member of adm: the daemon's snapshot in /run/akua-driftd (POSIX ACL for group adm).
in_ct useradd -M -G adm akua-op-adm 2>/dev/null
in_ct useradd -M akua-op-user 2>/dev/null
adm_status() { in_ct runuser -u akua-op-adm -- akua-driftd status 2>&1; }
adm_sees_drift() { local out; out=$(adm_status); grep -q "^${MACHINES[0]} .* drifted" <<< "$out"; }
if poll 60 adm_sees_drift; then
    out=$(adm_status); code=$(in_ct runuser -u akua-op-adm -- akua-driftd status >/dev/null 2>&1; echo $?)
    if [ "$code" = 1 ] && grep -q "from the daemon's snapshot /run/akua-driftd/status.json" <<< "$out"; then
        ok "(o) status as a non-root member of adm: read from the snapshot, exit 1 (drifted)"
    else
        not_ok "(o) status as a non-root member of adm: read from the snapshot, exit 1" "exit $code: $out"
    fi
else
    not_ok "(o) status as a non-root member of adm shows the drifted machine" \
        "$(adm_status; in_ct ls -la /run/akua-driftd; in_ct getfacl -p /run/akua-driftd 2>&1)"
fi
out=$(in_ct runuser -u akua-op-user -- akua-driftd status 2>&1); code=$?
if [ "$code" = 3 ] && grep -q 'as a member of group adm' <<< "$out"; then
    ok "(o) status as a user outside adm: exit 3 and one sentence saying how"
else
    not_ok "(o) status as a user outside adm: exit 3 and one sentence saying how" "exit $code: $out"
fi

# check as root, no flags: the service's token (/etc/akua-driftd/token); the catalog's command works.
out=$(in_ct akua-driftd check "${MACHINES[0]}" 2>&1); code=$?
if [ "$code" = 1 ] && grep -q "^machine ${NAMES[0]} (${MACHINES[0]}): drifted" <<< "$out"; then
    ok "(o) akua-driftd check ${MACHINES[0]} as root, no flags: the service's token, exit 1 (drifted)"
else
    not_ok "(o) akua-driftd check ${MACHINES[0]} as root, no flags" "exit $code: $out"
fi
# The drift entry's catalog text: "akua-driftd check @DRIFT_MACHINE_ID@ --json".
catalog_cmd=$(in_ct journalctl -x --no-pager -u "$UNIT" \
    "DRIFT_MACHINE_ID=${MACHINES[0]}" DRIFT_STATE=drifted -n 1 2>/dev/null | grep -o "akua-driftd check ${MACHINES[0]} --json" | head -n1)
if [ -n "$catalog_cmd" ] && [ "$({ in_ct $catalog_cmd 2>/dev/null || true; } | jq -c --arg m "${MACHINES[0]}" 'select(.machine_id == $m and .state == "drifted")')" != "" ]; then
    ok "(o) the catalog's \"what to do\" command runs as shown: $catalog_cmd"
else
    not_ok "(o) the catalog's \"what to do\" command runs as shown" "command: '$catalog_cmd'; $(in_ct akua-driftd check "${MACHINES[0]}" --json 2>&1 | head -n 5)"
fi
in_ct mv /etc/akua-driftd/token /etc/akua-driftd/token.away
out=$(in_ct akua-driftd check "${MACHINES[0]}" 2>&1); code=$?
in_ct mv /etc/akua-driftd/token.away /etc/akua-driftd/token
if [ "$code" = 2 ] && grep -q '/etc/akua-driftd/token' <<< "$out" && grep -q 'CREDENTIALS_DIRECTORY' <<< "$out"; then
    ok "(o) check without any token: exit 2, names every place it looked"
else
    not_ok "(o) check without any token: exit 2, names every place it looked" "exit $code: $out"
fi
sim_admin PUT "/_sim/machines/${MACHINES[0]}/state" '{"state":"in_sync"}' >/dev/null

# Reload that tells the truth.
pid_before=$(prop MainPID)
awk '/^\[\[/ && !done { print "[log]\nlevel = \"debug\"\n"; done = 1 } { print }' "$WORK/ct/config-4.toml" > "$WORK/ct/config-debug.toml"
in_ct install -m 0644 /mnt/x/config-debug.toml "$OP_CONFIG"
if out=$(timeout 60 nsenter -t "$LEADER" -a -- systemctl reload "$UNIT" 2>&1); then
    ok "(o) systemctl reload with a valid config ([log] level = debug): exit 0"
else
    not_ok "(o) systemctl reload with a valid config: exit 0" "$out"
fi
# (Not jq -e: with no input at all, Debian's jq 1.6 exits 0.)
debug_logged() { [ -n "$(in_ct journalctl --no-pager -u "$UNIT" -p debug --since "-30s" -o json 2>/dev/null | jq -c 'select(.PRIORITY == "7")')" ]; }
check "(o) [log] level = debug applied by the reload: debug entries (PRIORITY=7) in the journal" poll 30 debug_logged
in_ct install -m 0644 /mnt/x/config-bad.toml "$OP_CONFIG"
if out=$(timeout 60 nsenter -t "$LEADER" -a -- systemctl reload "$UNIT" 2>&1); then
    not_ok "(o) systemctl reload with a rejected config exits non-zero" "exit 0: $out"
else
    ok "(o) systemctl reload with a rejected config exits non-zero"
fi
sys_status=$(in_ct systemctl status --no-pager -l -n 40 "$UNIT" 2>&1)
if grep -Eq "$OP_CONFIG:[0-9]+: schedule\.interval: " <<< "$sys_status"; then
    ok "(o) systemctl status shows why: $(grep -Eom1 "$OP_CONFIG:[0-9]+: schedule\.interval: [^\"]*" <<< "$sys_status")"
else
    not_ok "(o) systemctl status shows the FILE:LINE: key: error" "$(tail -n 20 <<< "$sys_status")"
fi
if [ "$(prop MainPID)" = "$pid_before" ] && [ "$(prop ActiveState)" = active ] && status_is '^watching 4 machines: ' \
    && grep -q '^last reload: .*REJECTED' <<< "$(op_status 2>/dev/null)"; then
    ok "(o) the previous config keeps running (same MainPID, 4 machines); status shows the rejected reload"
else
    not_ok "(o) the previous config keeps running after the rejected reload" \
        "$(in_ct systemctl show -p MainPID,ActiveState,StatusText "$UNIT"; op_status 2>&1 | tail -n 3)"
fi
in_ct install -m 0644 /mnt/x/config-4.toml "$OP_CONFIG"
check "(o) systemctl reload back to the 4-machine config: exit 0" timeout 60 nsenter -t "$LEADER" -a -- systemctl reload "$UNIT"

# state backup while the daemon runs: a consistent copy, checked by sqlite3.
in_ct rm -f /var/tmp/akua-state-copy.sqlite
if out=$(in_ct akua-driftd state backup /var/tmp/akua-state-copy.sqlite 2>&1); then
    integrity=$(in_ct sqlite3 -readonly /var/tmp/akua-state-copy.sqlite 'PRAGMA integrity_check;' 2>&1)
    machines=$(in_ct sqlite3 -readonly /var/tmp/akua-state-copy.sqlite 'SELECT count(*) FROM machine WHERE configured = 1;' 2>&1)
    mode=$(in_ct stat -c %a /var/tmp/akua-state-copy.sqlite)
    if [ "$integrity" = ok ] && [ "$machines" = 4 ] && [ "$mode" = 600 ]; then
        ok "(o) akua-driftd state backup while running: sqlite3 integrity_check ok, 4 machines, mode 600"
    else
        not_ok "(o) state backup while running is consistent" "integrity=$integrity machines=$machines mode=$mode"
    fi
else
    not_ok "(o) akua-driftd state backup while running" "$out"
fi
in_ct rm -f /var/tmp/akua-state-copy.sqlite
in_ct userdel akua-op-adm 2>/dev/null
in_ct userdel akua-op-user 2>/dev/null
