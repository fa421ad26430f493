#!/bin/bash
# The live demo's running part (see tools/demo): a private prefork httpd on
# 127.0.0.1 under a varying browser-like load with spikes (tests/loadgen),
# sbagent recording to a temporary history, and sbtop on top of it.
# Quitting sbtop (q) stops everything this script started.  Without a
# terminal (scripts, CI) sbtop runs in batch mode for a few frames.
# SB_DEMO_SECONDS sets how long the load lasts (default 600).
top_srcdir=$(cd "$(dirname "$0")/.." && pwd)
top_builddir=${top_builddir:-$top_srcdir/build}
SB_TEST_NAME=demo
export top_srcdir top_builddir
. "$top_srcdir/tests/harness.sh"

agent=$top_builddir/agent/sbagent
sbtop=$top_builddir/tui/sbtop
loadgen=$top_builddir/tests/loadgen
for b in "$agent" "$sbtop" "$loadgen"; do
    [ -x "$b" ] || sb_fail "$b is not built: run tools/demo"
done
seconds=${SB_DEMO_SECONDS:-600}

echo "== a private httpd: prefork, 16 slots, KeepAliveTimeout 5, on 127.0.0.1"
sb_httpd_start demo mpm=prefork server_limit=16 max_workers=16 start_servers=16 \
    min_spare=1 max_spare=16 keepalive_timeout=5
echo "   $SB_HTTPD_URL   ScoreBoardFile $SB_SCOREBOARD"
hist=$SB_HTTPD_DIR/history.db

echo "== load: browser-like clients (4 requests 0.3 s apart, then they linger until"
echo "   KeepAliveTimeout), 2/s with spikes to 6/s: each holds a slot about 6 s, so a"
echo "   spike needs 6 x 6 = 36 slots of the 16 there are (the accept queue fills)"
sched=""
for ((i = 0; i < seconds; i += 60)); do
    sched="$sched${sched:+,}2:40,6:20"
done
sb_bg sh -c "exec '$loadgen' --url '$SB_HTTPD_URL/' --schedule '$sched' --requests 4 \
    --gap 0.3 --gap-dist fixed --linger --drain 2 >/dev/null 2>&1"
sb_bg sh -c "exec '$agent' --scoreboard '$SB_SCOREBOARD' --history '$hist' 2>'$SB_HTTPD_DIR/agent.log'"

if [ -t 0 ] && [ -t 1 ]; then
    echo "== sbtop (h: help, w: workers, t: clients, g: keep-alive gaps, q: quit)"
    sleep 1
    "$sbtop" --scoreboard "$SB_SCOREBOARD" --keepalive-timeout 5 --max-request-workers 16
else
    echo "== no terminal: three frames of sbtop in batch mode"
    sleep 4
    "$sbtop" -b -n 3 -d 2 --scoreboard "$SB_SCOREBOARD" --keepalive-timeout 5 \
        --max-request-workers 16
fi
echo
echo "== the agent recorded $(sqlite3 "file:$hist?mode=ro" 'SELECT count(*) FROM second;' 2>/dev/null || echo '?') seconds in $hist"
if [ -x "$top_builddir/tuner/sbtune" ]; then
    echo "== what sbtune would recommend for this server:"
    echo "   (a demo records minutes, not the week sbtune plans from: the minimums are lowered)"
    echo "   (the MPM and the current settings are read from the demo httpd's configuration)"
    "$top_builddir/tuner/sbtune" report --history "$hist" \
        --apachectl "$SB_APACHE2 -f $SB_HTTPD_CONF" --scoreboard "$SB_SCOREBOARD" \
        --min-minutes 1 --min-gaps 20 --min-conns 20 2>&1 || true
fi
echo "== stopping the demo httpd, the load and the agent"
sb_pass
