#!/bin/sh
# t_saturation: a prefork httpd with 4 workers saturated by lingering
# clients.  The shared-memory source keeps its sampling rate, while a
# mod_status scrape times out (it needs a free worker); the agent reports
# the clients waiting in the accept queue and counts the clients that keep
# arriving apart from those httpd accepts; sbtop shows the overload.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "${top_srcdir:-$(dirname "$0")/../..}/tests/harness.sh"

SBAGENT=${SBAGENT:-$top_builddir/agent/sbagent}
SBTOP=${SBTOP:-$top_builddir/tui/sbtop}
LOADGEN=${LOADGEN:-$top_builddir/tests/loadgen}
work=$(mktemp -d "${TMPDIR:-/tmp}/sbtest-sat.XXXXXX") || sb_fail "mktemp -d"
sb_at_exit rm -rf "$work"

sb_httpd_start sat mpm=prefork server_limit=4 max_workers=4 start_servers=4 min_spare=1 \
    max_spare=4 keepalive_timeout=10
# lingering clients at 20/s hold each worker 10 s: 4 workers serve 0.4/s
sb_bg "$LOADGEN" --url "$SB_HTTPD_URL/" --rate 20 --linger --duration 24 --drain 1 \
    --timeout 20 --seed 3 --json-out "$work/loadgen.json"
loadgen=$SB_BG_PID
sb_bg sh -c "exec \"$SBAGENT\" --scoreboard \"$SB_SCOREBOARD\" --json --duration 8 \
    >\"$work/agent.json\" 2>\"$work/agent.err\""
agent=$SB_BG_PID

# wait until every worker is held
end=$(($(date +%s) + 10))
while :; do
    "$SBAGENT" --once --json --scoreboard "$SB_SCOREBOARD" >"$work/once.json" 2>/dev/null
    [ "$(jq .busy "$work/once.json")" = 4 ] && { allbusy=$(date +%s); break; }
    [ "$(date +%s)" -lt "$end" ] || sb_fail "the workers never all got busy: $(jq -c .slots "$work/once.json")"
    sleep 0.1
done

# mod_status cannot answer: no worker is free to run it
start=$(date +%s%N)
"$SBAGENT" --once --status-url "$SB_STATUS_URL" --timeout-ms 2000 >/dev/null 2>"$work/status.err"
rc=$?
took=$((($(date +%s%N) - start) / 1000000))
sb_assert_eq "$rc" 3 "mod_status scrape of a saturated server"
sb_assert_match "$(cat "$work/status.err")" "timeout|timed out" "the scrape timed out"
sb_log "mod_status scrape gave up after $took ms"

# ... while shared memory answers at once
start=$(date +%s%N)
"$SBAGENT" --once --json --scoreboard "$SB_SCOREBOARD" >"$work/once.json" ||
    sb_fail "shm sample of a saturated server failed"
took=$((($(date +%s%N) - start) / 1000000))
sb_assert_le "$took" 1000 "ms for one shm sample of a saturated server"

wait "$agent" || sb_fail "agent failed: $(cat "$work/agent.err")"
# full seconds kept 10 samples each (allow the edges)
jq -s -e 'map(select(.gap == false)) | length >= 6' "$work/agent.json" >/dev/null ||
    sb_fail "too few seconds from the agent"
low=$(jq -s '[.[1:-1][] | .samples] | min' "$work/agent.json")
sb_assert_ge "$low" 9 "shm samples per second under saturation (10 Hz)"
# clients wait in the accept queue, and the agent says so
qmax=$(jq -s '[.[] | .listen_queue_max // 0] | max' "$work/agent.json")
sb_assert_ge "$qmax" 5 "accept queue reported under saturation"
# every second that began after all 4 workers were seen busy (the agent
# starts with the load: its first seconds may precede that)
busy=$(jq -s --argjson t "$allbusy" '[.[:-1][] | select(.ts > $t) | .busy_mean] | min' \
    "$work/agent.json")
sb_log "busy_mean per second: $(jq -s -c '[.[] | .busy_mean]' "$work/agent.json"), all busy at $allbusy"
sb_assert_ge "${busy%.*}" 4 "busy slots under saturation"
sb_log "accept queue up to $qmax, shm samples per second at least $low"
# arrivals are the 20 clients/s that keep coming, not the ~0.4/s the
# slots let in (4 slots held 10 s each)
arr=$(jq -s --argjson t "$allbusy" '[.[:-1][] | select(.ts > $t) | .conn_per_s] | add / length' \
    "$work/agent.json")
acc=$(jq -s --argjson t "$allbusy" '[.[:-1][] | select(.ts > $t) | .accepted_per_s] | add / length' \
    "$work/agent.json")
sb_log "arrivals $arr/s, accepted $acc/s (the generator: 20/s)"
sb_assert_ge "${arr%.*}" 15 "arrivals/s under saturation"
sb_assert_le "${acc%.*}" 2 "accepted connections/s under saturation"
# sbtop says so: negative headroom, the clients waiting and their wait
# (its first closed seconds are baselines: the last frames have the rates)
"$SBTOP" -b -n 5 -d 1 --scoreboard "$SB_SCOREBOARD" --width 200 >"$work/top" 2>&1 ||
    sb_fail "sbtop -b failed: $(cat "$work/top")"
sb_log "$(grep -m1 "^Capacity: headroom" "$work/top")"
grep -qE "^Capacity: headroom -[0-9]+ %: now [0-9.]+ new clients/s, slots 4 sustains [0-9.]+/s; [0-9]+ clients wait in the accept queue" "$work/top" ||
    sb_fail "sbtop's capacity line does not show the overload: $(grep Capacity "$work/top")"
grep -qE "[0-9]+ arrived, httpd accepted [0-9.]+" "$work/top" ||
    sb_fail "sbtop does not show arrivals apart from accepted connections"
sb_bg_stop "$loadgen"
sb_pass
