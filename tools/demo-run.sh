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
echo "== sbagent --duration 8 --json: per-second figures under a browser-like load"
echo "   (tests/loadgen: 8 new clients/s, 4 requests 0.3 s apart, then they linger"
echo "    until KeepAliveTimeout; Little's law: 8/s x (0.9 + 5) s = 47 idle connections,"
echo "    more than the 8 slots: watch the accept queue fill)"
sb_bg sh -c "exec '$top_builddir/tests/loadgen' --url '$SB_HTTPD_URL/' --rate 8 --requests 4 \
    --gap 0.3 --gap-dist fixed --linger --duration 8 --drain 1 >/dev/null 2>&1"
"$agent" --scoreboard "$SB_SCOREBOARD" --json --duration 8 2>/dev/null |
    jq -c '{ts, req_per_s, conn_per_s, busy: .busy_mean, keepalive_slots: .keepalive_slots_mean,
            idle_ka_conns: .keepalive_conns_mean, accept_queue: .listen_queue_max}'
echo
echo "== stopping the demo httpd"
sb_pass
