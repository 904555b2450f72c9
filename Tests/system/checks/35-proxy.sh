# shellcheck shell=bash
# (p) Issue 10 §6 on the installed service: webhook deliveries go through HTTP_PROXY (from the unit's
# environment, as for the API client). The webhook URL names a host that never resolves
# (receiver.invalid), so an event reaches the receiver only through the recording proxy on the host's
# loopback (Tests/Support/connect-proxy.py tunnels every CONNECT to 127.0.0.1 on the requested port).
# Sourced by run.sh at step 12b; leaves the service running its 4-machine config without the proxy.

PX_DROPIN=/etc/systemd/system/$UNIT.d/60-proxy.conf
python3 "$ROOT/Tests/Support/connect-proxy.py" > "$WORK/proxy.out" 2> "$WORK/proxy.err" &
PX_PID=$!
px_port() { head -n1 "$WORK/proxy.out" 2>/dev/null | grep -Eo '^[0-9]+$'; }
if ! poll 10 px_port; then
    not_ok "(p) the recording CONNECT proxy starts" "$(cat "$WORK/proxy.err")"
else
    PX_PORT=$(px_port)
    PX_RECEIVER_PORT=${RECEIVER_ROOT##*:}
    printf '[Service]\nEnvironment=HTTP_PROXY=http://127.0.0.1:%s NO_PROXY=\n' "$PX_PORT" > "$WORK/ct/60-proxy.conf"
    # The 4-machine config, its webhook at an unresolvable host (plain http there needs allow_insecure_http).
    sed -e "s|^url = \"$RECEIVER_ROOT/hooks/drift\"|url = \"http://receiver.invalid:$PX_RECEIVER_PORT/hooks/drift\"\nallow_insecure_http = true|" \
        "$WORK/ct/config-4.toml" > "$WORK/ct/config-proxy.toml"
    grep -q '^url = "http://receiver.invalid:' "$WORK/ct/config-proxy.toml" || not_ok "(p) the proxy config names receiver.invalid" "$(cat "$WORK/ct/config-proxy.toml")"
    in_ct install -D -m 0644 /mnt/x/60-proxy.conf "$PX_DROPIN"
    in_ct install -m 0644 /mnt/x/config-proxy.toml /etc/akua-driftd/config.toml
    in_ct systemctl daemon-reload
    check "(p) restart with HTTP_PROXY in the unit's environment and the webhook at receiver.invalid" \
        timeout 60 nsenter -t "$LEADER" -a -- systemctl restart "$UNIT"
    px_before=$(received_count)
    check "(p) simulator: $FLIP drifts" sim_admin PUT "/_sim/machines/$FLIP/state" '{"state":"drifted"}'
    # px_received STATE: the receiver got an event of $FLIP entering STATE since the restart. (jq -e is
    # no test here: with no input at all, Debian's jq 1.6 exits 0.)
    px_received() {
        [ -n "$(tail -n +"$((px_before + 1))" "$WORK/events.jsonl" \
            | jq -c --arg m "$FLIP" --arg s "$1" 'select(.payload.data.machine_id == $m and .payload.data.state == $s)')" ]
    }
    px_delivered() { px_received drifted; }
    if poll 60 px_delivered; then
        ok "(p) the drift of $FLIP reached the receiver"
    else
        not_ok "(p) the drift of $FLIP reached the receiver" \
            "$(in_ct systemctl show -p Environment "$UNIT"; in_ct journalctl --no-pager -u "$UNIT" -n 15 -o cat 2>&1)"
    fi
    if grep -q "\"target\": \"receiver.invalid:$PX_RECEIVER_PORT\"" "$WORK/proxy.out"; then
        ok "(p) through the proxy: $(grep -m1 'receiver.invalid' "$WORK/proxy.out")"
    else
        not_ok "(p) the delivery went through the proxy" "$(head -n 5 "$WORK/proxy.out")"
    fi
    check "(p) simulator: $FLIP back to in_sync" sim_admin PUT "/_sim/machines/$FLIP/state" '{"state":"in_sync"}'
    px_back() { px_received in_sync; }
    check "(p) $FLIP back in sync, delivered through the proxy too" poll 60 px_back
    # Back to the plain config and environment.
    in_ct rm -f "$PX_DROPIN"
    in_ct install -m 0644 /mnt/x/config-4.toml /etc/akua-driftd/config.toml
    in_ct systemctl daemon-reload
    check "(p) restart without the proxy" timeout 60 nsenter -t "$LEADER" -a -- systemctl restart "$UNIT"
fi
stop_pid "$PX_PID" 5
check "(p) the service runs on with 4 machines" poll 15 status_is '^watching 4 machines: '
