#!/bin/bash
# The demo's running part (see tools/demo): uses the test harness to start
# and always stop a private httpd.
top_srcdir=$(cd "$(dirname "$0")/.." && pwd)
top_builddir=${top_builddir:-$top_srcdir/build}
SB_TEST_NAME=demo
export top_srcdir top_builddir
. "$top_srcdir/tests/harness.sh"

agent=$top_builddir/agent/sbagent
[ -x "$agent" ] || sb_fail "$agent is not built: run tools/demo"

echo "== starting a private httpd (prefork, 8 slots, KeepAliveTimeout 5) on 127.0.0.1"
sb_httpd_start demo mpm=prefork keepalive_timeout=5
echo "   $SB_HTTPD_URL   ScoreBoardFile $SB_SCOREBOARD"
echo "== holding 3 idle keep-alive connections and 2 slow requests open"
sb_client_start --keepalive 3 --slow 2 --slow-path "/cgi-bin/sleep.cgi?20" --hold 25
echo
echo "== sbagent --once --scoreboard $SB_SCOREBOARD"
"$agent" --once --scoreboard "$SB_SCOREBOARD"
echo
echo "== sbagent --once --status-url $SB_STATUS_URL"
"$agent" --once --status-url "$SB_STATUS_URL"
echo
echo "== sbagent --duration 5 --json (per-second figures; ab puts 200 requests/s on it)"
if command -v ab >/dev/null; then
    sb_bg sh -c "exec ab -q -n 1000 -c 2 -k '$SB_HTTPD_URL/' >/dev/null 2>&1"
fi
"$agent" --scoreboard "$SB_SCOREBOARD" --json --duration 5 2>/dev/null |
    jq -c '{ts, req_per_s, conn_per_s, busy_mean, keepalive_slots_mean, idle_mean}'
echo
echo "== stopping the demo httpd"
sb_pass
