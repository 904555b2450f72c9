#!/bin/bash
# The idle phase of `make bench` alone, for A/B comparisons of two daemons in one session (the README's
# "same-session A/B"): akua-sim with N machines, a cold start until every machine has a report, a restart,
# then the daemon's CPU per check over SECONDS at a 1 h interval, per thread, and its peak resident set.
#
#   bench/idle-ab.sh DIR [N] [SECONDS]     DIR holds akua-driftd and akua-sim (release builds)
#   PERF=1 bench/idle-ab.sh ...            also `perf record -g` of the window into ./idle-ab.perf.data
#
# Needs python3 and curl. Run the two daemons one after the other on a quiet machine; compare ratios.
set -eu
BIN=$(cd "${1:?usage: $0 DIR [N] [SECONDS]}" && pwd); N=${2:-100000}; SECS=${3:-30}
OUT=$PWD
WORK=$(mktemp -d /tmp/idle-ab.XXXXXX)
SIM=; DAEMON=
cleanup() {
    [ -n "$DAEMON" ] && kill -TERM "$DAEMON" 2>/dev/null && wait "$DAEMON" 2>/dev/null
    [ -n "$SIM" ] && kill -TERM "$SIM" 2>/dev/null && wait "$SIM" 2>/dev/null
    rm -rf "$WORK"
}
trap cleanup EXIT
cd "$WORK"
TOKEN=sk_akua_idle_ab_$$
printf %s "$TOKEN" > token
"$BIN/akua-sim" --listen 127.0.0.1:0 --token "$TOKEN" --machine-count "$N" --ttl 2h --seed 1 > sim.out 2> sim.err &
SIM=$!
for _ in $(seq 600); do grep -q "listening on" sim.out && break; sleep 0.2; done
BASE=$(sed -n 's/^akua-sim listening on //p' sim.out | head -1)
ADMIN=${BASE%/v1}/_sim
python3 - "$N" "$BASE" "$WORK" > config.toml <<'PY'
import sys
n, base, work = int(sys.argv[1]), sys.argv[2], sys.argv[3]
print(f'[api]\nbase_url = "{base}"\ntoken_file = "{work}/token"\nmax_in_flight = 64\ntimeout = "10s"\n'
      f'[schedule]\ninterval = "1h"\nrefresh_before_expiry = "1m"\ncatch_up_window = "1s"\n'
      f'[state]\npath = "{work}/state.sqlite"\n')
sys.stdout.write("".join(f'[[machine]]\nid = "mch_sim_{i:06d}"\nname = "sim_{i:06d}"\n' for i in range(1, n + 1)))
PY
creates() { curl -s "$ADMIN/stats" | python3 -c 'import sys, json; print(json.load(sys.stdin)["creates_total"])'; }
cpu() { awk '{print $14 + $15}' "$1"; }
threads() {
    for t in /proc/"$DAEMON"/task/*; do echo "$(basename "$t") $(tr ' ' _ < "$t/comm" 2>/dev/null) $(cpu "$t/stat" 2>/dev/null)"; done | sort
}

"$BIN/akua-driftd" run --config config.toml --log-target stderr 2> cold.err &
DAEMON=$!
for _ in $(seq 1200); do [ "$(creates)" -ge "$N" ] && break; sleep 0.5; done
echo "cold start and first round: $(creates) creates; peak $(awk '/VmHWM/ {print $2 / 1024}' /proc/$DAEMON/status) MiB"
kill -TERM "$DAEMON"; wait "$DAEMON" || true

"$BIN/akua-driftd" run --config config.toml --log-target stderr 2> restart.err &
DAEMON=$!
sleep 8
c0=$(creates); t0=$(cpu /proc/$DAEMON/stat); threads > threads.0
PERFPID=
if [ -n "${PERF:-}" ]; then perf record -g -p "$DAEMON" -o "$OUT/idle-ab.perf.data" -- sleep "$SECS" > /dev/null 2>&1 & PERFPID=$!; fi
sleep "$SECS"
c1=$(creates); t1=$(cpu /proc/$DAEMON/stat); threads > threads.1
[ -n "$PERFPID" ] && wait "$PERFPID"
join threads.0 threads.1 | awk '$5 > $3 {print "  thread " $2 ": " ($5 - $3) " ticks"}' | sort -t: -k2 -n -r
python3 -c "
checks = $c1 - $c0; cpu = ($t1 - $t0) / $(getconf CLK_TCK)
print(f'idle {$SECS} s: {checks} checks, CPU {cpu:.2f} s, {cpu / max(checks, 1) * 1e6:.0f} µs per check')"
echo "restarted daemon: peak $(awk '/VmHWM/ {print $2 / 1024}' /proc/$DAEMON/status) MiB"
