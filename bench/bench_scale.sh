#!/bin/bash
# bench/bench_scale.sh: issue 12, "Scale": what the agent costs with many
# idle keep-alive connections on an event httpd, with sock_diag and with
# the eBPF source, side by side in one run.
#
#   bench/bench_scale.sh [--conns N] [--seconds S]
#
# One private event httpd: ServerLimit 16 x ThreadsPerChild 64 (1,024
# workers, all started), AsyncRequestWorkerFactor 16 (so that each process
# takes up to 64 + 16 x 64 connections), KeepAliveTimeout 300,
# ListenBacklog 4096.  Two sbagents run at once on it at the default
# rates (10 Hz shm, 2 Hz kernel): --kernel-source diag and --kernel-source
# bpf (when this build has the BPF source and it loads).  Two windows of S
# seconds (default 20) each:
#   1. no client connection (only the agents' own status requests);
#   2. N (default 10,000) idle keep-alive connections, opened before the
#      window by tests/sbtest_client processes of 500 each (one request
#      each, then idle), counted with ss before and after the window.
#   3. the same, plus N sockets in TIME_WAIT on another port of the host
#      (a loopback listener of this script that closes first), which
#      httpd has nothing to do with: what the agent's kernel source pays
#      for the host's other traffic.
# For each agent and window: its CPU (utime+stime over the window's wall
# time, % of one core), its max RSS (VmHWM), and what it reported as idle
# keep-alive connections (keepalive_conns_mean of its last --json second)
# against the ss count; then the ratio window 2 / window 1.  httpd's CPU
# in each window for comparison.  Nothing is asserted.
#
# Only 127.0.0.1, bounded: the clients hold their connections at most
# S + 60 s, the agents run 2 S + 90 s at most; the harness stops httpd and
# kills every process started here by pid at exit, also on failure.
#
# Environment: top_srcdir, top_builddir, APACHE2, SBAGENT, SBTEST_CLIENT.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"

conns=10000
seconds=20
while [ $# -gt 0 ]; do
    case $1 in
        --conns) conns=${2:-}; shift 2 || break ;;
        --conns=*) conns=${1#*=}; shift ;;
        --seconds) seconds=${2:-}; shift 2 || break ;;
        --seconds=*) seconds=${1#*=}; shift ;;
        -h | --help)
            echo "Usage: $0 [--conns N] [--seconds S]"
            echo "  --conns N    idle keep-alive connections, 500..16000 (default 10000)"
            echo "  --seconds S  each measured window, 5..300 (default 20)"
            exit 0
            ;;
        *) echo "$0: unknown argument '$1' (--help)" >&2; exit 2 ;;
    esac
done
[[ $conns =~ ^[0-9]+$ ]] && [ "$conns" -ge 500 ] && [ "$conns" -le 16000 ] || {
    echo "$0: --conns takes 500..16000, not '$conns'" >&2
    exit 2
}
[[ $seconds =~ ^[0-9]+$ ]] && [ "$seconds" -ge 5 ] && [ "$seconds" -le 300 ] || {
    echo "$0: --seconds takes 5..300, not '$seconds'" >&2
    exit 2
}

top_srcdir=$(cd "${top_srcdir:-$(dirname "$0")/..}" && pwd)
top_builddir=$(cd "${top_builddir:-$top_srcdir}" && pwd)
SB_TEST_NAME=bench_scale
export SB_TEST_NAME
. "$top_srcdir/tests/harness.sh"
CLK_TCK=$(getconf CLK_TCK)
. "$top_srcdir/bench/bench_lib.sh"

SBAGENT=${SBAGENT:-$top_builddir/agent/sbagent}
SBTEST_CLIENT=${SBTEST_CLIENT:-$top_builddir/tests/sbtest_client}
for b in "$SBAGENT" "$SBTEST_CLIENT"; do
    [ -x "$b" ] || sb_fail "$b not built (make bench builds everything it needs)"
done
command -v jq >/dev/null || sb_fail "jq not found: apt-get install jq"
command -v ss >/dev/null || sb_fail "ss not found: apt-get install iproute2"
[ "$(ulimit -n)" -ge 1024 ] || ulimit -n 4096 2>/dev/null ||
    sb_fail "the open-file limit $(ulimit -n) is too low for 500 connections per client"
work=$(mktemp -d "${TMPDIR:-/tmp}/sbbench-scale.XXXXXX") || sb_fail "mktemp -d"
sb_at_exit rm -rf "$work"

sources=diag
if grep -q '^#define SB_HAVE_BPF 1' "$top_builddir/config.h" 2>/dev/null; then
    sources="diag bpf"
else
    echo "bpf: not measured: this build has no BPF source"
fi

printf 'AsyncRequestWorkerFactor 16\n' >"$work/scale.conf"
sb_httpd_start bench-scale mpm=event server_limit=16 thread_limit=64 threads_per_child=64 \
    max_workers=1024 start_servers=16 min_spare=64 max_spare=1024 keepalive_timeout=300 \
    max_keepalive_requests=1000 listen_backlog=4096 include="$work/scale.conf" \
    ready_timeout=60

# established server-side connections on httpd's port (ss, no header)
established()
{
    ss -Htn state established "( sport = :$SB_HTTPD_PORT )" 2>/dev/null | wc -l
}

declare -A apid
for s in $sources; do
    sb_bg sh -c "exec \"$SBAGENT\" --scoreboard \"$SB_SCOREBOARD\" --ports $SB_HTTPD_PORT \
        --kernel-source $s --json --duration $((2 * seconds + 90)) \
        >\"$work/agent-$s.json\" 2>\"$work/agent-$s.err\""
    apid[$s]=$SB_BG_PID
done
# both agents publish seconds before the first window
for s in $sources; do
    sb_wait_status "[ \$(cat \"$work/agent-$s.json\" 2>/dev/null | wc -l) -ge 2 ]" 20 ||
        sb_fail "agent --kernel-source $s wrote no second: $(cat "$work/agent-$s.err")"
    if [ "$s" = bpf ] && grep -q 'kernel source.*diag\|bpf.*off\|falls back' "$work/agent-bpf.err"; then
        echo "bpf: the source did not load ($(head -n 1 "$work/agent-bpf.err")): measured as diag"
    fi
done

# window KEY LABEL: every agent's CPU and RSS, httpd's CPU, over $seconds
# (each agent's share also to $work/shares as "KEY SOURCE SHARE")
window()
{
    local key=$1 label=$2 s c0 c1 w0 w1 h0 h1 est t
    declare -A cpu0
    for s in $sources; do
        read -r c0 _ <<<"$(proc_cpu "${apid[$s]}")"
        [ -n "$c0" ] || sb_fail "agent $s is gone: $(cat "$work/agent-$s.err")"
        cpu0[$s]=$c0
    done
    h0=$(httpd_ns "$(cat "$SB_HTTPD_PIDFILE")")
    w0=$(now_us)
    sleep "$seconds"
    w1=$(now_us)
    h1=$(httpd_ns "$(cat "$SB_HTTPD_PIDFILE")")
    est=$(established)
    for s in $sources; do
        read -r c1 _ <<<"$(proc_cpu "${apid[$s]}")"
        [ -n "$c1" ] || sb_fail "agent $s exited in the window: $(cat "$work/agent-$s.err")"
        t=$(tail -n 1 "$work/agent-$s.json" | jq -r '.keepalive_conns_mean // "null"')
        awk -v l="$label" -v s="$s" -v c=$((c1 - cpu0[$s])) -v hz="$CLK_TCK" \
            -v w=$((w1 - w0)) -v rss="$(vm_kib "${apid[$s]}" VmHWM)" -v ka="$t" -v ss="$est" \
            'BEGIN { printf "%-22s agent %-4s cpu %6.3f %% of a core, max RSS %6.1f MiB, " \
                     "idle keep-alive reported %s (ss: %d established)\n", l, s,
                     100 * c / hz / (w / 1e6), rss / 1024, ka, ss }'
        echo "$key $s $(awk -v c=$((c1 - cpu0[$s])) -v hz="$CLK_TCK" -v w=$((w1 - w0)) \
            'BEGIN { printf "%.6f", 100 * c / hz / (w / 1e6) }')" >>"$work/shares"
    done
    awk -v l="$label" -v h=$((h1 - h0)) -v w=$((w1 - w0)) \
        -v tw="$(awk '$1 == "TCP:" { for (i = 2; i < NF; i++) if ($i == "tw") print $(i + 1) }' \
                 /proc/net/sockstat)" \
        'BEGIN { printf "%-22s httpd      cpu %6.3f %% of a core; the host has %d TCP sockets" \
                 " in TIME_WAIT\n", l, 100 * h / 1e9 / (w / 1e6), tw }'
}

echo "agent on event, ServerLimit 16 x ThreadsPerChild 64, AsyncRequestWorkerFactor 16;" \
    "windows of $seconds s"
window 0 "no connection"

nclients=$(((conns + 499) / 500))
left=$conns
for i in $(seq "$nclients"); do
    n=$((left < 500 ? left : 500))
    sb_client_start --keepalive "$n" --requests 1 --hold $((2 * seconds + 60)) --timeout 30 \
        >/dev/null 2>>"$work/clients.err"
    left=$((left - n))
done
sb_wait_status "[ \$(established) -ge $conns ]" 30 ||
    sb_fail "only $(established) of $conns connections established"
# two kernel samples after the last connection before the window
sleep 1.5
window 1 "$conns idle keep-alive"

# 3. unrelated TIME_WAIT sockets: a listener on another loopback port
# closes each connection first, so the TIME_WAIT is on this host's server
# side, as a busy neighbour service's would be
tw_port=$(_sb_pick_port) || sb_fail "no free port"
sb_bg python3 -c '
import socket, sys
port, n = int(sys.argv[1]), int(sys.argv[2])
srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", port))
srv.listen(1024)
for i in range(n):
    c = socket.create_connection(("127.0.0.1", port))
    a, _ = srv.accept()
    a.close()
    c.recv(1)
    c.close()
open(sys.argv[3], "w").write("done\n")
' "$tw_port" "$conns" "$work/tw.done"
sb_wait_file "$work/tw.done" 60 || sb_fail "the TIME_WAIT sockets were not made in 60 s"
sleep 1.5
window 2 "+ $conns unrelated TW"

for s in $sources; do
    awk -v s="$s" '$2 == s && $1 == 0 { a = $3 } $2 == s && $1 == 1 { b = $3 }
        $2 == s && $1 == 2 { c = $3 }
        END { if (a > 0) printf "agent %-4s with the connections / without: %.1fx; with the" \
              " unrelated TIME_WAIT sockets too / without any: %.1fx\n", s, b / a, c / a }' \
        "$work/shares"
done
sb_pass
