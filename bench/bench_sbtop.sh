#!/bin/bash
# bench/bench_sbtop.sh: sbtop's CPU share on a 1,024-slot scoreboard.
#
#   bench/bench_sbtop.sh [--seconds N] [--server-limit N]
#
# Starts an event httpd with ServerLimit 16 (or --server-limit N, up to 64:
# 64 x 64 = 4,096 slots) x ThreadLimit 64 (1,024 worker slots, all of them
# started) through tests/harness.sh, puts a light load
# on it with tests/loadgen (10 new connections/s, 2 requests each), and
# runs sbtop for N seconds (default 40) at its defaults (1 s refresh, shm
# sampled at 10 Hz, kernel at 2 Hz), twice, side by side:
#   1. interactive, in a 120x40 tmux session (curses redraws);
#   2. batch mode, -b -n N -d 1 > /dev/null.
# For each it prints sbtop's CPU share: (utime + stime) delta from
# /proc/PID/stat over the wall time of the window (the first 2 s, attach
# and port discovery, left out).  Nothing is asserted.  Only 127.0.0.1,
# bounded; the harness stops httpd, the tmux session is killed at exit.
#
# Environment: top_srcdir, top_builddir, APACHE2, SBTOP, LOADGEN.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"

seconds=40
server_limit=16
while [ $# -gt 0 ]; do
    case $1 in
        --seconds) seconds=${2:-}; shift 2 || break ;;
        --seconds=*) seconds=${1#*=}; shift ;;
        --server-limit) server_limit=${2:-}; shift 2 || break ;;
        --server-limit=*) server_limit=${1#*=}; shift ;;
        -h | --help) echo "Usage: $0 [--seconds N] [--server-limit N]"; exit 0 ;;
        *) echo "$0: unknown argument '$1'" >&2; exit 2 ;;
    esac
done
[[ $seconds =~ ^[0-9]+$ ]] && [ "$seconds" -ge 5 ] && [ "$seconds" -le 600 ] || {
    echo "$0: --seconds takes 5 to 600" >&2
    exit 2
}
[[ $server_limit =~ ^[0-9]+$ ]] && [ "$server_limit" -ge 1 ] && [ "$server_limit" -le 64 ] || {
    echo "$0: --server-limit takes 1 to 64" >&2
    exit 2
}
slots=$((server_limit * 64))

SB_TEST_NAME=bench_sbtop
. "${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}/tests/harness.sh"
SBTOP=${SBTOP:-$top_builddir/tui/sbtop}
LOADGEN=${LOADGEN:-$top_builddir/tests/loadgen}
[ -x "$SBTOP" ] || sb_fail "$SBTOP not built"
[ -x "$LOADGEN" ] || sb_fail "$LOADGEN not built (make check builds it)"
command -v tmux >/dev/null || sb_fail "tmux not found: apt-get install tmux"
CLK_TCK=$(getconf CLK_TCK)
session=sbbench$$
sb_at_exit sh -c "tmux kill-session -t $session 2>/dev/null"

# cpu_ticks PID: utime + stime of PID in clock ticks
cpu_ticks()
{
    local stat f
    { read -r stat <"/proc/$1/stat"; } 2>/dev/null || return 1
    stat=${stat##*) }
    read -r -a f <<<"$stat"
    echo $((f[11] + f[12]))
}

# measure LABEL PID: CPU share of PID over $seconds - 2 s
measure()
{
    local label=$1 pid=$2 t0 t1 c0 c1 w0 w1 wall
    sleep 2
    c0=$(cpu_ticks "$pid") || sb_fail "$label: sbtop (pid $pid) is not running"
    w0=${EPOCHREALTIME//[!0-9]/}
    sleep $((seconds - 2))
    c1=$(cpu_ticks "$pid") || sb_fail "$label: sbtop exited during the window"
    w1=${EPOCHREALTIME//[!0-9]/}
    wall=$((w1 - w0))
    awk -v c=$((c1 - c0)) -v hz="$CLK_TCK" -v w="$wall" -v l="$label" -v n="$slots" \
        'BEGIN { printf "sbtop %d slots, %-32s cpu %.2f s over %.1f s wall: %.2f %% of a core\n", n, l, c / hz, w / 1e6, 100 * c / hz / (w / 1e6) }'
}

sb_httpd_start bench-sbtop mpm=event server_limit=$server_limit thread_limit=64 \
    threads_per_child=64 max_workers=$slots start_servers=$server_limit min_spare=64 \
    max_spare=$slots ready_timeout=60
sb_bg "$LOADGEN" --url "$SB_HTTPD_URL/" --rate 10 --requests 2 --gap 0.1 --close \
    --seed 5 --duration $((2 * seconds + 20)) --drain 2 >/dev/null 2>&1

echo "sbtop on event, ServerLimit $server_limit x ThreadLimit 64 = $slots slots, loadgen 10 conn/s"

# 1. interactive in tmux
tmux new-session -d -s "$session" -x 120 -y 40 \
    "exec $SBTOP --scoreboard $SB_SCOREBOARD --ascii" ||
    sb_fail "tmux new-session failed"
pid=$(tmux list-panes -t "$session" -F '#{pane_pid}')
measure "interactive 120x40, 1 s refresh" "$pid"
tmux send-keys -t "$session" q
tmux kill-session -t "$session" 2>/dev/null

# 2. batch mode
sb_bg "$SBTOP" -b -n $((seconds + 5)) -d 1 --scoreboard "$SB_SCOREBOARD" >/dev/null
measure "batch -b -d 1 > /dev/null" "$SB_BG_PID"
sb_bg_stop "$SB_BG_PID"
sb_pass
