#!/bin/sh
# t_bpf_counts: the eBPF connection-lifecycle source (lib/sb_bpf) against a
# real prefork httpd and tests/loadgen, whose report is the truth:
#   1. KeepAlive Off, >= 2,000 new connections/s for 3 s: every handshake is
#      one arrival (exactly), every close is the server's or the client's
#      (whoever sends its FIN first after the response), none is a reset;
#   2. keep-alive connections the client closes after 3 requests 0.05 s
#      apart: all closed by the client, each lived >= the two gaps;
#   3. KeepAliveTimeout 1 expiring on lingering clients: all closed by the
#      server, each lived >= 1 s;
#   4. overload (2 slots, ListenBacklog 2, more clients than slots): the
#      accept queue overflows, yet once the clients are served every
#      handshake was counted once, and connections are counted while they
#      wait in the accept queue (more open than slots).
# Fails when the build has the BPF source and it cannot load; skips (77)
# only when configure left it out.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "${top_srcdir:-$(dirname "$0")/../..}/tests/harness.sh"

PROBE=${BPF_PROBE:-$top_builddir/tests/bpf_probe}
LOADGEN=${LOADGEN:-$top_builddir/tests/loadgen}

if ! grep -q '^#define SB_HAVE_BPF 1' "$top_builddir/config.h"; then
    why=$(sed -n 's/^#define SB_BPF_WHY_NOT "\(.*\)"/\1/p' "$top_builddir/config.h")
    echo "SKIP: $SB_TEST_NAME: this build has no BPF source (configure: ${why:-disabled})"
    exit 77
fi
work=$(mktemp -d "${TMPDIR:-/tmp}/sbtest-bpf.XXXXXX") || sb_fail "mktemp -d"
sb_at_exit rm -rf "$work"

# probe_start NAME: a bpf_probe on $SB_HTTPD_PORT writing $work/NAME.out,
# attached and watching when this returns.
probe_start()
{
    local i
    sb_bg sh -c "exec \"$PROBE\" $SB_HTTPD_PORT >\"$work/$1.out\" 2>\"$work/$1.err\""
    eval "probe_$1=$SB_BG_PID"
    for i in $(seq 100); do
        grep -q '"ready"' "$work/$1.out" 2>/dev/null && return 0
        kill -0 "$SB_BG_PID" 2>/dev/null ||
            sb_fail "the BPF source did not load: $(cat "$work/$1.err")"
        sleep 0.1
    done
    sb_fail "bpf_probe not ready within 10 s: $(cat "$work/$1.err")"
}

# probe_counts NAME: the probe's counts now (one JSON object on stdout).
probe_counts()
{
    local pid n i
    eval "pid=\$probe_$1"
    n=$(grep -c '"counts"' "$work/$1.out")
    kill -USR1 "$pid"
    for i in $(seq 50); do
        [ "$(grep -c '"counts"' "$work/$1.out")" -gt "$n" ] && break
        sleep 0.02
    done
    grep '"counts"' "$work/$1.out" | tail -n 1 | jq -c .counts
}

# probe_settle NAME: wait (5 s at most) until every arrival has closed.
probe_settle()
{
    local i c
    for i in $(seq 50); do
        c=$(probe_counts "$1")
        [ -n "$c" ] && jq -e '.arrivals == .closed_server + .closed_client + .closed_reset' \
            <<<"$c" >/dev/null && return 0
        sleep 0.1
    done
    sb_log "$1: not every arrival closed: $c"
}

# probe_stop NAME: stop the probe; its final counts in $work/NAME.counts,
# its lifetimes (one JSON object per close) in $work/NAME.closes.
probe_stop()
{
    local pid i
    eval "pid=\$probe_$1"
    kill -TERM "$pid"
    for i in $(seq 50); do
        grep -q '"final":true' "$work/$1.out" && break
        sleep 0.1
    done
    grep '"final":true' "$work/$1.out" | jq -c .counts >"$work/$1.counts"
    [ -s "$work/$1.counts" ] || sb_fail "$1: no final counts: $(cat "$work/$1.err")"
    grep '"close"' "$work/$1.out" >"$work/$1.closes" || :
    sb_log "$1: bpf $(cat "$work/$1.counts")"
}

count() { jq -r ".$2" "$work/$1.counts"; }
lg() { jq -r "$2" "$work/$1.json"; }
lifetimes() { jq -s -r "[.[].lifetime] | $2" "$work/$1.closes"; }

listen_overflows()
{
    awk '$1 == "TcpExt:" && !h { for (i = 2; i <= NF; i++) n[i] = $i; h = 1; next }
         $1 == "TcpExt:" { for (i = 2; i <= NF; i++) if (n[i] == "ListenOverflows") print $i }' \
        /proc/net/netstat
}

# ---------------------------------------------------------------- 1. KeepAlive Off
sb_httpd_start bpfoff mpm=prefork keepalive=Off
probe_start off
"$LOADGEN" --url "$SB_HTTPD_URL/" --rate 2500 --duration 3 --no-keepalive --seed 11 \
    --timeout 10 --drain 5 --json-out "$work/off.json" || sb_fail "loadgen (KeepAlive Off) failed"
probe_settle off
probe_stop off
opened=$(lg off .connections_opened)
sb_log "off: loadgen attempted $(lg off .connections_attempted) opened $opened refused $(lg off .refused) ok $(lg off .responses_ok)"
sb_assert_eq "$(lg off .refused)" 0 "refused connections at 2,500/s"
sb_assert_ge "$opened" 6000 "connections opened in 3 s (>= 2,000/s)"
sb_assert_eq "$(count off arrivals)" "$opened" "arrivals == connections loadgen opened (KeepAlive Off)"
sb_assert_eq "$(($(count off closed_server) + $(count off closed_client)))" "$opened" \
    "closes by server or client (KeepAlive Off)"
sb_assert_eq "$(count off closed_reset)" 0 "resets (KeepAlive Off)"
sb_assert_ge "$(count off closed_server)" 1 "server closes (KeepAlive Off)"
sb_assert_eq "$(count off untracked)" 0 "untracked (KeepAlive Off)"
sb_assert_eq "$(count off lost)" 0 "lost records (KeepAlive Off)"
sb_assert_eq "$(wc -l <"$work/off.closes")" "$opened" "one lifetime per connection (KeepAlive Off)"
# one request of a static page on loopback: far below a second
sb_assert_eq "$(lifetimes off 'map(select(. < 0 or . > 1)) | length')" 0 \
    "KeepAlive Off lifetimes outside [0, 1] s"
sb_log "off: lifetimes $(lifetimes off '{min: min, max: max}' | jq -c .)"
sb_httpd_stop

# ---------------------------------------------------------------- 2. client closes
sb_httpd_start bpfcli mpm=prefork keepalive=On keepalive_timeout=15
probe_start cli
"$LOADGEN" --url "$SB_HTTPD_URL/" --rate 50 --duration 4 --requests 3 --gap 0.05 \
    --gap-dist fixed --close --seed 12 --timeout 10 --drain 5 --json-out "$work/cli.json" ||
    sb_fail "loadgen (client closes) failed"
probe_settle cli
probe_stop cli
opened=$(lg cli .connections_opened)
sb_log "cli: loadgen opened $opened client_close $(lg cli .connection_ends.client_close)"
sb_assert_eq "$(lg cli .refused)" 0 "refused connections (client closes)"
sb_assert_ge "$opened" 100 "connections opened (client closes)"
sb_assert_eq "$(lg cli .connection_ends.client_close)" "$opened" "loadgen closed every connection"
sb_assert_eq "$(count cli arrivals)" "$opened" "arrivals == connections opened (client closes)"
sb_assert_eq "$(count cli closed_client)" "$opened" "closed by the client"
sb_assert_eq "$(count cli closed_server)" 0 "closed by the server (client closes)"
sb_assert_eq "$(count cli closed_reset)" 0 "resets (client closes)"
sb_assert_eq "$(wc -l <"$work/cli.closes")" "$opened" "one lifetime per connection (client closes)"
# 3 requests with two fixed 0.05 s gaps between them (less 1 ms for the
# client's timer), well within the 15 s KeepAliveTimeout
sb_assert_eq "$(lifetimes cli 'map(select(. < 0.099 or . > 15)) | length')" 0 \
    "client-closed lifetimes outside [0.099, 15] s"
sb_log "cli: lifetimes $(lifetimes cli '{min: min, max: max}' | jq -c .)"
sb_httpd_stop

# ---------------------------------------------------------------- 3. KeepAliveTimeout
sb_httpd_start bpfkat mpm=prefork keepalive=On keepalive_timeout=1
probe_start kat
"$LOADGEN" --url "$SB_HTTPD_URL/" --rate 5 --duration 4 --requests 1 --linger --linger-max 10 \
    --seed 13 --timeout 10 --drain 5 --json-out "$work/kat.json" ||
    sb_fail "loadgen (KeepAliveTimeout) failed"
probe_settle kat
probe_stop kat
opened=$(lg kat .connections_opened)
sb_log "kat: loadgen opened $opened server_closed_idle $(lg kat .connection_ends.server_closed_idle)"
sb_assert_ge "$opened" 5 "connections opened (KeepAliveTimeout)"
sb_assert_eq "$(lg kat .connection_ends.server_closed_idle)" "$opened" "httpd closed every idle connection"
sb_assert_eq "$(count kat arrivals)" "$opened" "arrivals == connections opened (KeepAliveTimeout)"
sb_assert_eq "$(count kat closed_server)" "$opened" "closed by the server (KeepAliveTimeout 1)"
sb_assert_eq "$(count kat closed_client)" 0 "closed by the client (KeepAliveTimeout 1)"
sb_assert_eq "$(count kat closed_reset)" 0 "resets (KeepAliveTimeout 1)"
sb_assert_eq "$(wc -l <"$work/kat.closes")" "$opened" "one lifetime per connection (KeepAliveTimeout)"
# the connection lives through its request and then the whole 1 s timeout;
# 2.5 s leaves 1.5 s for a loaded 2-core machine
sb_assert_eq "$(lifetimes kat 'map(select(. < 1 or . > 2.5)) | length')" 0 \
    "KeepAliveTimeout-closed lifetimes outside [1, 2.5] s"
sb_log "kat: lifetimes $(lifetimes kat '{min: min, max: max}' | jq -c .)"
sb_httpd_stop

# ---------------------------------------------------------------- 4. overload
# 2 slots, each connection holds one for >= 0.3 s (2 requests 0.3 s apart):
# 2 slots serve < 7 connections/s; about 40 arrive within 1 s at a queue of 2.
sb_httpd_start bpfover mpm=prefork server_limit=2 max_workers=2 start_servers=2 min_spare=1 \
    max_spare=2 listen_backlog=2 keepalive=On keepalive_timeout=5
probe_start over
ovf0=$(listen_overflows)
sb_bg "$LOADGEN" --url "$SB_HTTPD_URL/" --rate 40 --duration 1 --requests 2 --gap 0.3 \
    --gap-dist fixed --close --seed 14 --timeout 20 --drain 20 --json-out "$work/over.json"
lgpid=$SB_BG_PID
inflight=0
while kill -0 "$lgpid" 2>/dev/null && [ ! -s "$work/over.json" ]; do
    c=$(probe_counts over)
    n=$(jq '.arrivals - .closed_server - .closed_client - .closed_reset' <<<"$c")
    [ "$n" -gt "$inflight" ] && inflight=$n
    sleep 0.05
done
wait "$lgpid" || sb_fail "loadgen (overload) failed"
probe_settle over
probe_stop over
ovf1=$(listen_overflows)
opened=$(lg over .connections_opened)
sb_log "over: loadgen attempted $(lg over .connections_attempted) opened $opened refused $(lg over .refused) timeouts $(lg over .connect_timeouts) ok $(lg over .responses_ok); ListenOverflows +$((ovf1 - ovf0)); most open at once (bpf) $inflight"
sb_assert_ge "$((ovf1 - ovf0))" 1 "ListenOverflows during the overload (the accept queue filled)"
sb_assert_eq "$(lg over .refused)" 0 "refused connections (overload)"
sb_assert_eq "$(lg over .connect_timeouts)" 0 "connect timeouts (overload)"
sb_assert_eq "$(count over arrivals)" "$opened" "arrivals == connections opened (overload)"
sb_assert_eq "$(($(count over closed_server) + $(count over closed_client) + $(count over closed_reset)))" \
    "$opened" "every arrival closed (overload)"
sb_assert_ge "$inflight" 3 "connections counted while waiting in the accept queue (2 slots)"
sb_httpd_stop

sb_pass
