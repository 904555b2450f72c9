# Metrics (issue 12), sourced by Tests/system/run.sh at step 12b with the service running its 4-machine
# config: the [metrics] listener on loopback under the unit's real sandbox (RestrictAddressFamilies,
# ProcSubset=pid, DynamicUser), /metrics, /-/healthy and /-/ready answering, the fleet gauge and the
# /proc-based process metrics present. Leaves the service running with its 4-machine config.

METRICS_URL=http://127.0.0.1:9464
# The 4-machine config with a [metrics] table before its first array table.
awk '/^\[\[/ && !done { print "[metrics]\nlisten = \"127.0.0.1:9464\"\n"; done = 1 } { print }' \
    "$WORK/ct/config-4.toml" > "$WORK/ct/config-metrics.toml"
in_ct install -m 0644 /mnt/x/config-metrics.toml /etc/akua-driftd/config.toml
check "(m) systemctl restart $UNIT with [metrics] listen = 127.0.0.1:9464" \
    timeout 60 nsenter -t "$LEADER" -a -- systemctl restart "$UNIT"
metrics_up() { in_ct curl -fsS --max-time 5 "$METRICS_URL/metrics" > "$WORK/metrics.txt"; }
if poll 30 metrics_up; then
    ok "(m) GET /metrics answers under the unit's sandbox"
    # Every machine counted once across the state gauge, once the first round is in.
    machines_total() {
        metrics_up && [ "$(awk '/^akua_driftd_machines\{/ { n += $2 } END { print n + 0 }' "$WORK/metrics.txt")" = 4 ] \
            && grep -q '^akua_driftd_checks_total{result="ok"}' "$WORK/metrics.txt"
    }
    check "(m) akua_driftd_machines sums to the 4 configured machines, checks are counted" poll 30 machines_total
    process_metrics() {
        for name in process_cpu_seconds_total process_resident_memory_bytes process_open_fds process_start_time_seconds; do
            grep -q "^$name " "$WORK/metrics.txt" || { echo "missing $name"; return 1; }
        done
    }
    check "(m) process metrics are read from /proc/self under ProcSubset=pid" process_metrics
    if command -v promtool >/dev/null 2>&1; then
        check "(m) promtool check metrics accepts the scrape" sh -c 'promtool check metrics < "$1"' _ "$WORK/metrics.txt"
    else
        not_ok "(m) promtool is installed (scripts/install-deps.sh: prometheus)"
    fi
else
    not_ok "(m) GET /metrics answers under the unit's sandbox" "$(in_ct journalctl --no-pager -u "$UNIT" -n 20 2>&1)"
fi
check "(m) GET /-/healthy is 200" in_ct curl -fsS --max-time 5 "$METRICS_URL/-/healthy"
check "(m) GET /-/ready is 200 while the scheduler keeps up" in_ct curl -fsS --max-time 5 "$METRICS_URL/-/ready"

# Back to the 4-machine config without the listener.
in_ct install -m 0644 /mnt/x/config-4.toml /etc/akua-driftd/config.toml
check "(m) systemctl restart $UNIT without [metrics]" timeout 60 nsenter -t "$LEADER" -a -- systemctl restart "$UNIT"
check "(m) the service runs again" poll 30 prop_is ActiveState active
