# shellcheck shell=bash
# (r) Issue 10 §5 on the installed service: `[state] retention` (default 30d) prunes transitions and finished
# deliveries older than that in the background (first pass about a minute after the start), and keeps the
# rest. Rows are made old by hand (sqlite3, service stopped), so the run needs no month of waiting.
# Sourced by run.sh at step 12b; leaves the service running with its 4-machine config.

RT_STATE=/var/lib/private/akua-driftd/state.sqlite
RT_OLD_MS=$((40 * 86400 * 1000))
rt_sql() { in_ct sqlite3 "$RT_STATE" "$1" 2>&1; }
rt_counts() { in_ct sqlite3 -readonly "$RT_STATE" \
    "SELECT (SELECT count(*) FROM transition_log) || ' ' || (SELECT count(*) FROM delivery);" 2>&1; }

check "(r) systemctl stop for the retention check" timeout 40 nsenter -t "$LEADER" -a -- systemctl stop "$UNIT"
read -r rt_transitions rt_deliveries <<< "$(rt_counts)"
# The two oldest journaled transitions without a pending delivery, and the two oldest finished deliveries.
rt_old_t=$(rt_sql "SELECT count(*) FROM (SELECT seq FROM transition_log t WHERE journaled = 1 AND NOT EXISTS
    (SELECT 1 FROM delivery d WHERE d.event_id = t.event_id AND d.status = 'pending') ORDER BY seq LIMIT 2);")
rt_old_d=$(rt_sql "SELECT count(*) FROM (SELECT seq FROM delivery WHERE status IN ('delivered', 'failed') ORDER BY seq LIMIT 2);")
rt_update=$(rt_sql "BEGIN;
    UPDATE transition_log SET at = at - $RT_OLD_MS WHERE seq IN (SELECT seq FROM transition_log t WHERE journaled = 1
        AND NOT EXISTS (SELECT 1 FROM delivery d WHERE d.event_id = t.event_id AND d.status = 'pending') ORDER BY seq LIMIT 2);
    UPDATE delivery SET finished_at = finished_at - $RT_OLD_MS
        WHERE seq IN (SELECT seq FROM delivery WHERE status IN ('delivered', 'failed') ORDER BY seq LIMIT 2);
    COMMIT;")
# sqlite3 ran as root: whatever it left next to the file must stay the service's.
in_ct sh -c "for f in $RT_STATE-wal $RT_STATE-shm; do [ -e \"\$f\" ] && chown --reference=$RT_STATE \"\$f\"; done; true"
note "retention: $rt_transitions transitions, $rt_deliveries deliveries; made $rt_old_t transitions and $rt_old_d deliveries 40 days old ${rt_update:+($rt_update)}"
check "(r) systemctl start after making history old" timeout 60 nsenter -t "$LEADER" -a -- systemctl start "$UNIT"
rt_expected="$((rt_transitions - rt_old_t)) $((rt_deliveries - rt_old_d))"
rt_pruned() {
    # (Locals with names of their own: poll's `t` is visible here, bash scopes dynamically.)
    local rt_now rt_t rt_d
    rt_now=$(rt_counts)
    # New transitions or deliveries may come in meanwhile: old ones gone is what counts.
    read -r rt_t rt_d <<< "$rt_now"
    [ "$(in_ct sqlite3 -readonly "$RT_STATE" "SELECT count(*) FROM transition_log WHERE at < (strftime('%s','now') * 1000 - 30 * 86400000);")" = 0 ] &&
        [ "$(in_ct sqlite3 -readonly "$RT_STATE" "SELECT count(*) FROM delivery WHERE status IN ('delivered','failed') AND finished_at < (strftime('%s','now') * 1000 - 30 * 86400000);")" = 0 ] &&
        [ "$rt_t" -ge "$((rt_transitions - rt_old_t))" ] && [ "$rt_d" -ge "$((rt_deliveries - rt_old_d))" ]
}
rt_started=$(date +%s)
if [ "$rt_old_t" -ge 1 ] && [ "$rt_old_d" -ge 1 ] && poll 150 rt_pruned; then
    ok "(r) [state] retention pruned the $rt_old_t old transitions and $rt_old_d old deliveries in the background, and kept the rest (now: $(rt_counts); at least $rt_expected)"
else
    not_ok "(r) [state] retention prunes old history in the background" \
        "old: $rt_old_t transitions, $rt_old_d deliveries; before: $rt_transitions $rt_deliveries; now: $(rt_counts) after $(( $(date +%s) - rt_started )) s
$(rt_sql "SELECT seq, at, journaled FROM transition_log ORDER BY seq LIMIT 3;" | tr '\n' ' ')
$(in_ct journalctl --no-pager -u "$UNIT" --since "-4min" -o cat 2>&1 | grep -v ': retry\|delivered' | tail -n 15)"
fi
rt_logged=$(in_ct journalctl --no-pager -u "$UNIT" --since "-5min" -o cat 2>/dev/null | grep -m1 '^pruned ')
if [ -n "$rt_logged" ]; then ok "(r) the pruning is journaled: $rt_logged"; else not_ok "(r) the pruning is journaled" "no 'pruned' entry"; fi
check "(r) the service runs on after the pruning" poll 10 status_is '^watching 4 machines: '
