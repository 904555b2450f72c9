# shellcheck shell=bash
# (s) Issue 11 §2, silences on the installed service: `akua-driftd silence add --all --for 10m` as root
# with no flags finds the service's state file and wakes the running daemon (SIGUSR1); a drift in the
# simulator is then journaled with DRIFT_SILENCED=1 and queues no webhook delivery; `silence remove` ends
# it and the drifted state is delivered. Sourced by run.sh at step 12b; leaves the service running its
# 4-machine config with no silence in force and $SL_M back in sync.

SL_M=${MACHINES[2]}
sl_state() { in_ct akua-driftd status --json 2>/dev/null | jq -r --arg m "$SL_M" '.[] | select(.machine_id == $m) | .state'; }
sl_state_is() { [ "$(sl_state)" = "$1" ]; }
# pending + failed + delivered of the receiver's outbox, from `status` (one row per event queued).
sl_outbox_total() {
    in_ct akua-driftd status 2>/dev/null | sed -nE 's/^webhook receiver: ([0-9]+) pending.*, ([0-9]+) failed, ([0-9]+) delivered.*/\1 \2 \3/p' \
        | awk '{ print $1 + $2 + $3 }'
}
# sl_received STATE: the receiver got an event of $SL_M entering STATE since line $sl_before.
sl_received() {
    [ -n "$(tail -n +"$((sl_before + 1))" "$WORK/events.jsonl" \
        | jq -c --arg m "$SL_M" --arg s "$1" 'select(.payload.data.machine_id == $m and .payload.data.state == $s)')" ]
}
sl_silenced_entry() {
    [ -n "$(in_ct journalctl --no-pager -u "$UNIT" -o json "DRIFT_MACHINE_ID=$SL_M" DRIFT_STATE=drifted DRIFT_SILENCED=1 2>/dev/null)" ]
}

sim_admin PUT "/_sim/machines/$SL_M/state" '{"state":"in_sync"}' >/dev/null
check "(s) $SL_M starts in_sync" poll 40 sl_state_is in_sync
sl_pid=$(prop MainPID)
out=$(in_ct akua-driftd silence add --all --for 10m --reason "system test" 2>&1); code=$?
SL_ID=$(grep -Eo 'sil_[0-9a-f]{12}' <<< "$out" | head -n1)
if [ "$code" = 0 ] && [ -n "$SL_ID" ] && grep -q "akua-driftd (pid $sl_pid) applies it now" <<< "$out"; then
    ok "(s) silence add --all --for 10m as root, no flags: $SL_ID stored, the daemon (pid $sl_pid) signalled"
else
    not_ok "(s) silence add --all --for 10m as root, no flags, signals the daemon (pid $sl_pid)" "exit $code: $out"
fi
sl_reread() { in_ct journalctl --no-pager -u "$UNIT" -o cat | grep -q "silences re-read (SIGUSR1): 1 active ($SL_ID)"; }
check "(s) the daemon re-read the silences on SIGUSR1" poll 20 sl_reread
list=$(in_ct akua-driftd silence list --json 2>&1)
if [ "$(jq -r --arg id "$SL_ID" '[.[] | select(.id == $id and .machines == null and .state == "active")] | length' <<< "$list" 2>/dev/null)" = 1 ]; then
    ok "(s) silence list --json shows $SL_ID active for every machine"
else
    not_ok "(s) silence list --json shows $SL_ID active for every machine" "$list"
fi

sl_outbox_before=$(sl_outbox_total)
sl_before=$(received_count)
check "(s) simulator: $SL_M drifts" sim_admin PUT "/_sim/machines/$SL_M/state" '{"state":"drifted"}'
if poll 40 sl_silenced_entry; then
    ok "(s) the drift of $SL_M is journaled with DRIFT_SILENCED=1"
    # The transition and its outbox rows are written in one transaction, before the journal entry: once
    # the entry exists, a delivery would already be counted.
    sl_outbox_after=$(sl_outbox_total)
    if [ -n "$sl_outbox_before" ] && [ "$sl_outbox_after" = "$sl_outbox_before" ] && ! sl_received drifted; then
        ok "(s) the silenced drift queued no webhook delivery (outbox total $sl_outbox_after)"
    else
        not_ok "(s) the silenced drift queued no webhook delivery" \
            "outbox total before '$sl_outbox_before', after '$sl_outbox_after'; $(tail -n +"$((sl_before + 1))" "$WORK/events.jsonl" | head -n 3)"
    fi
else
    not_ok "(s) the drift of $SL_M is journaled with DRIFT_SILENCED=1" \
        "$(in_ct journalctl --no-pager -u "$UNIT" -o json "DRIFT_MACHINE_ID=$SL_M" -n 3 2>&1 | tail -n 3)"
fi
out=$(in_ct akua-driftd status 2>&1)
if grep -q "^silence $SL_ID: every machine" <<< "$out"; then
    ok "(s) status shows the silence"
else
    not_ok "(s) status shows the silence" "$out"
fi

out=$(in_ct akua-driftd silence remove "$SL_ID" 2>&1); code=$?
if [ "$code" = 0 ] && grep -q "applies it now" <<< "$out"; then
    ok "(s) silence remove $SL_ID signals the daemon"
else
    not_ok "(s) silence remove $SL_ID signals the daemon" "exit $code: $out"
fi
sl_delivered_drift() { sl_received drifted; }
if poll 60 sl_delivered_drift; then
    ok "(s) once the silence is removed, the drifted state of $SL_M is delivered"
else
    not_ok "(s) once the silence is removed, the drifted state of $SL_M is delivered" \
        "$(in_ct akua-driftd status 2>&1 | tail -n 5; in_ct journalctl --no-pager -u "$UNIT" -n 10 -o cat 2>&1)"
fi
out=$(in_ct akua-driftd silence remove "$SL_ID" 2>&1); code=$?
check "(s) removing it again is an error (exit 1): $out" test "$code" = 1

# Back to in_sync, delivered, for the checks after this one.
sim_admin PUT "/_sim/machines/$SL_M/state" '{"state":"in_sync"}' >/dev/null
sl_delivered_sync() { sl_received in_sync; }
check "(s) $SL_M back in sync, delivered" poll 60 sl_delivered_sync
