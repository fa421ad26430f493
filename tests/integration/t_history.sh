#!/bin/sh
# t_history: the agent records per-second and per-minute rows, events and
# the keep-alive histograms in an SQLite file that another process reads
# while it writes; kill -9 of the agent loses at most the last few seconds
# and leaves a file that passes quick_check, and a new agent goes on
# writing the same file.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "${top_srcdir:-$(dirname "$0")/../..}/tests/harness.sh"

SBAGENT=${SBAGENT:-$top_builddir/agent/sbagent}
LOADGEN=${LOADGEN:-$top_builddir/tests/loadgen}
command -v sqlite3 >/dev/null || sb_fail "sqlite3 not found: apt-get install sqlite3"
work=$(mktemp -d "${TMPDIR:-/tmp}/sbtest-hist.XXXXXX") || sb_fail "mktemp -d"
sb_at_exit rm -rf "$work"
db=$work/history.db

q()
{
    sqlite3 -batch -bail "file:$db?mode=ro" "$1" 2>&1
}

# wait_sql SQL TIMEOUT: until the query prints 1
wait_sql()
{
    local end=$(($(date +%s) + $2))
    while [ "$(date +%s)" -lt "$end" ]; do
        [ "$(q "$1")" = 1 ] && return 0
        sleep 0.2
    done
    sb_log "last answer to '$1': $(q "$1")"
    return 1
}

sb_httpd_start hist mpm=prefork keepalive_timeout=2 server_limit=32 max_workers=32 \
    start_servers=32 max_spare=32
sb_bg "$LOADGEN" --url "$SB_HTTPD_URL/" --rate 10 --requests 3 --gap 0.2 --linger \
    --duration 150 --drain 1 --seed 7 --json-out "$work/loadgen.json"
loadgen=$SB_BG_PID
sb_bg sh -c "exec \"$SBAGENT\" --scoreboard \"$SB_SCOREBOARD\" --history \"$db\" 2>\"$work/agent1.err\""
agent=$SB_BG_PID

# a reader sees rows while the agent writes
wait_sql "SELECT count(*) >= 5 FROM second WHERE req_per_s > 0;" 20 ||
    sb_fail "no per-second rows with requests in the history"
sb_assert_eq "$(stat -c %a "$db")" 640 "history file mode"
sb_assert_eq "$(q 'PRAGMA journal_mode;')" wal "journal mode"
sb_assert_match "$(q "SELECT kind FROM events ORDER BY ts LIMIT 1;")" '^start$' "start event"

# kill -9 while it writes
before=$(q "SELECT count(*) FROM second;")
kill -KILL "$agent"
wait "$agent" 2>/dev/null
sb_assert_eq "$(sqlite3 "$db" 'PRAGMA quick_check;')" ok "quick_check after kill -9"
after=$(q "SELECT count(*) FROM second;")
sb_assert_ge "$after" "$before" "rows kept after kill -9"
last=$(q "SELECT max(ts) FROM second;")
sb_assert_le $(($(date +%s) - last)) 5 "seconds lost by kill -9 (newest row vs now)"

# a new agent appends to the same file; the minute rows with histograms
# come once a minute is complete
sb_bg sh -c "exec \"$SBAGENT\" --scoreboard \"$SB_SCOREBOARD\" --history \"$db\" 2>\"$work/agent2.err\""
agent=$SB_BG_PID
wait_sql "SELECT max(ts) > $last FROM second;" 10 || sb_fail "the second agent did not write"
wait_sql "SELECT count(*) >= 1 FROM minute WHERE seconds >= 30 AND ka_gap_hist IS NOT NULL;" 100 ||
    sb_fail "no complete minute with histograms"
sb_assert_eq "$(q 'SELECT count(*) FROM second GROUP BY ts HAVING count(*) > 1;')" "" \
    "no second recorded twice"
q "SELECT ts, seconds, req_per_s_mean, conn_per_s_mean, keepalive_slots_mean FROM minute;" >&2
# the tuner plans from this history: too little of it by default (exit 5,
# saying what is missing), a plan when one minute is allowed
SBTUNE=${SBTUNE:-$top_builddir/tuner/sbtune}
"$SBTUNE" report --history "$db" --mpm prefork --keepalive-timeout 2 >"$work/report.txt" 2>&1
sb_assert_eq "$?" 5 "sbtune report exit status with a few minutes of history"
sb_assert_match "$(cat "$work/report.txt")" "minute" "what sbtune report says is missing"
"$SBTUNE" report --history "$db" --mpm prefork --keepalive-timeout 2 --min-minutes 1 \
    --max-request-workers 32 --format json >"$work/report.json" 2>"$work/report.err" ||
    sb_fail "sbtune report failed: $(cat "$work/report.json" "$work/report.err")"
sb_assert_json "$work/report.json" '.status != "no_data" and .recommendation.MaxRequestWorkers > 0' \
    "a recommendation from the history"
# with less than an hour recorded the busiest hour is all of it: the mean
# of the minutes' rates, each minute weighed by the seconds it covers (the
# agent's first and last minutes are partial)
busy=$(jq '.inputs.busy_conn_per_s' "$work/report.json")
want=$(q "SELECT sum(conn_per_s_mean * seconds) / sum(seconds) FROM minute
          WHERE conn_per_s_mean IS NOT NULL;")
sb_log "sbtune report: busiest window $busy new clients/s; minutes in the history: $want (load 10/s)"
jq -e --argjson b "$busy" --argjson w "$want" -n '($b - $w | fabs) <= 0.01 * $w' >/dev/null ||
    sb_fail "busy-period rate in the report $busy, the history says $want"

# the slots held per client address, kept on the host
wait_sql "SELECT count(*) >= 1 FROM clients WHERE client = '127.0.0.1' AND slot_seconds > 10;" 10 ||
    sb_fail "no slot-seconds recorded for the client 127.0.0.1"

# SIGTERM flushes: the last rows and a stop event are there
kill -TERM "$agent"
wait "$agent" || sb_fail "agent exited with $? on SIGTERM"
sb_assert_match "$(q "SELECT kind FROM events ORDER BY id DESC LIMIT 1;")" '^stop$' "stop event"
sb_assert_eq "$(sqlite3 "$db" 'PRAGMA quick_check;')" ok "quick_check after SIGTERM"
sb_bg_stop "$loadgen"
sb_pass
