#!/bin/bash
# bench/run.sh: issue 3's and issue 9's benchmarks, side by side in one run.
#
#   bench/run.sh [--agent-seconds N] [--iterations N] [--kernel-seconds N]
#
# 1. event 16x64 (ServerLimit 16, ThreadLimit 64), event 64x256 (16,384
#    slots, at most 1000 iterations) and 2. prefork 256 (ServerLimit 256),
#    one after the other: bench/bench_sources alternates one shm sample, a
#    mod_status scrape, a bare memcpy of the segment and a scrape, on the
#    same httpd, and prints wall and CPU per call, the httpd CPU each scrape
#    costs, and the ratios (shm/memcpy, status/shm).
# 3. sbagent at its default rates (10 Hz shm, 2 Hz kernel) for N seconds
#    (default 60) against the prefork httpd under a light load from
#    tests/loadgen: the agent's CPU share (utime+stime delta / wall) and its
#    max RSS (VmHWM), next to the CPU share of httpd serving that load.
# 4. bench/bench_kernel_source.sh --seconds N (default 30; 0 leaves it
#    out): two agents at once, --kernel-source bpf and diag, on the same
#    KeepAlive Off prefork httpd at 100 and 2,000 new connections/s: their
#    CPU and max RSS, bpf/diag, httpd's CPU and the BPF program's own
#    kernel-side cost (issue 9).
# 5. bench/bench_sbtop.sh --seconds N --server-limit 64 (default 20; 0
#    leaves it out): sbtop's CPU share on 4,096 slots, interactive and batch.
# 6. sbtune report over a synthetic 7-day per-second history written by
#    bench/bench_history (604,800 second rows): wall, CPU and max RSS.
#
# Plain text on stdout, one figure per line; harness messages ('# ...') on
# stderr. Nothing is asserted: the machine is noisy, the ratios are what
# the run measures. Only 127.0.0.1, bounded. Every httpd is stopped by
# tests/harness.sh (also on failure or a signal); loadgen and sbagent are
# started with sb_bg and killed by pid at teardown if still running.
#
# Environment: top_srcdir, top_builddir (default: this tree, built in
# place), APACHE2, BENCH_SOURCES, SBAGENT, LOADGEN (default: under
# top_builddir). Exit status 0 when every figure was measured, 1 otherwise.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"

agent_seconds=60
iterations=5000
kernel_seconds=30
sbtop_seconds=20

bench_usage()
{
    echo "Usage: $0 [--agent-seconds N] [--iterations N] [--kernel-seconds N]"
    echo "  --agent-seconds N  how long the agent is measured (default 60)"
    echo "  --iterations N     shm/status pairs per httpd (default 5000)"
    echo "  --kernel-seconds N window per rate of bench_kernel_source.sh, bpf vs"
    echo "                     sock_diag (default 30; 0: left out)"
    echo "  --sbtop-seconds N  window of bench_sbtop.sh on 4,096 slots (default 20;"
    echo "                     0: left out)"
}

while [ $# -gt 0 ]; do
    case $1 in
        --agent-seconds) agent_seconds=${2:-}; shift 2 || break ;;
        --agent-seconds=*) agent_seconds=${1#*=}; shift ;;
        --iterations) iterations=${2:-}; shift 2 || break ;;
        --iterations=*) iterations=${1#*=}; shift ;;
        --kernel-seconds) kernel_seconds=${2:-}; shift 2 || break ;;
        --kernel-seconds=*) kernel_seconds=${1#*=}; shift ;;
        --sbtop-seconds) sbtop_seconds=${2:-}; shift 2 || break ;;
        --sbtop-seconds=*) sbtop_seconds=${1#*=}; shift ;;
        -h | --help) bench_usage; exit 0 ;;
        *) bench_usage >&2; exit 2 ;;
    esac
done
if ! [[ $agent_seconds =~ ^[0-9]+$ ]] || [ "$agent_seconds" -lt 5 ] ||
    [ "$agent_seconds" -gt 3600 ]; then
    echo "$0: --agent-seconds takes 5..3600 seconds, not '$agent_seconds'" >&2
    exit 2
fi
if ! [[ $iterations =~ ^[0-9]+$ ]] || [ "$iterations" -lt 10 ]; then
    echo "$0: --iterations takes a number of at least 10, not '$iterations'" >&2
    exit 2
fi

if ! [[ $kernel_seconds =~ ^[0-9]+$ ]] ||
    { [ "$kernel_seconds" -ne 0 ] && { [ "$kernel_seconds" -lt 5 ] || [ "$kernel_seconds" -gt 600 ]; }; }; then
    echo "$0: --kernel-seconds takes 0 or 5..600 seconds, not '$kernel_seconds'" >&2
    exit 2
fi

if ! [[ $sbtop_seconds =~ ^[0-9]+$ ]] ||
    { [ "$sbtop_seconds" -ne 0 ] && { [ "$sbtop_seconds" -lt 5 ] || [ "$sbtop_seconds" -gt 600 ]; }; }; then
    echo "$0: --sbtop-seconds takes 0 or 5..600 seconds, not '$sbtop_seconds'" >&2
    exit 2
fi

top_srcdir=$(cd "${top_srcdir:-$(dirname "$0")/..}" && pwd)
top_builddir=$(cd "${top_builddir:-$top_srcdir}" && pwd)
SB_TEST_NAME=bench  # read by tests/harness.sh
export SB_TEST_NAME
. "$top_srcdir/tests/harness.sh"

BENCH_SOURCES=${BENCH_SOURCES:-$top_builddir/bench/bench_sources}
BENCH_HISTORY=${BENCH_HISTORY:-$top_builddir/bench/bench_history}
SBAGENT=${SBAGENT:-$top_builddir/agent/sbagent}
SBTOP=${SBTOP:-$top_builddir/tui/sbtop}
SBTUNE=${SBTUNE:-$top_builddir/tuner/sbtune}
LOADGEN=${LOADGEN:-$top_builddir/tests/loadgen}
for b in "$BENCH_SOURCES" "$BENCH_HISTORY" "$SBAGENT" "$SBTUNE" "$LOADGEN"; do
    [ -x "$b" ] || sb_fail "$b not built (make bench builds everything it needs)"
done
command -v awk >/dev/null || sb_fail "awk not found"
command -v jq >/dev/null || sb_fail "jq not found: apt-get install jq"
work=$(mktemp -d "${TMPDIR:-/tmp}/sbbench.XXXXXX") || sb_fail "mktemp -d"
sb_at_exit rm -rf "$work"
CLK_TCK=$(getconf CLK_TCK)

. "$top_srcdir/bench/bench_lib.sh"

echo "machine: $(nproc) CPUs, $(awk '{print $1}' /proc/loadavg) load average at start;" \
    "$("$SB_APACHE2" -v | awk -F': ' '/version/ {print $2}')"

# ---------------------------------------------------------------- 1, 2
bench_one()
{
    local label=$1 pid
    pid=$(sb_httpd_pid)
    [ -n "$pid" ] || sb_fail "$label: httpd not running"
    "$BENCH_SOURCES" --label "$label" --scoreboard "$SB_SCOREBOARD" \
        --status-url "$SB_STATUS_URL" --httpd-pid "$pid" \
        --iterations "$iterations" || sb_fail "$label: bench_sources failed"
}

# all 16 processes started: every slot is live, so a sample copies every
# slot's strings (the worst case for the decode)
sb_httpd_start bench-event mpm=event server_limit=16 thread_limit=64 \
    threads_per_child=64 max_workers=1024 start_servers=16 min_spare=64 \
    max_spare=1024 ready_timeout=60
bench_one "event 16x64"
sb_httpd_stop

# 16,384 slots (5.3 MiB): fewer pairs, a scrape of this page takes ms
sb_httpd_start bench-event64 mpm=event server_limit=64 thread_limit=256 \
    threads_per_child=256 max_workers=16384 start_servers=2 min_spare=256 \
    max_spare=768
iterations_saved=$iterations
iterations=$(( iterations > 1000 ? 1000 : iterations ))
bench_one "event 64x256"
iterations=$iterations_saved
sb_httpd_stop

sb_httpd_start bench-prefork mpm=prefork server_limit=256 max_workers=256 \
    start_servers=4 min_spare=2 max_spare=12
bench_one "prefork 256"

# ---------------------------------------------------------------- 3
label="agent on prefork 256"
httpd_pid=$(sb_httpd_pid)
[ -n "$httpd_pid" ] || sb_fail "$label: httpd not running"
# 20 new connections/s, 3 requests each 0.2 s apart, then close: about 8
# slots busy. It runs past the agent's window and is stopped afterwards.
sb_bg "$LOADGEN" --url "$SB_HTTPD_URL/" --rate 20 --requests 3 --gap 0.2 \
    --close --seed 3 --duration $((agent_seconds + 10)) --drain 2 \
    --json-out "$work/loadgen.json" 2>"$work/loadgen.err"
lg_pid=$SB_BG_PID
sleep 2     # prefork grows to the load
# The agent runs 2 s longer than the measured window: its first second
# (attach, finding the listen ports) is left out, and it is alive at the end.
sb_bg "$SBAGENT" --scoreboard "$SB_SCOREBOARD" --duration $((agent_seconds + 2)) \
    >"$work/agent.out" 2>"$work/agent.err"
agent_pid=$SB_BG_PID
sleep 1
_sb_alive "$agent_pid" || {
    cat "$work/agent.err" >&2
    sb_fail "$label: sbagent exited at start"
}

t0=$(now_us)
read -r a0 _ <<<"$(proc_cpu "$agent_pid")"
n0=$(run_ns "$agent_pid")
h0=$(httpd_ns "$httpd_pid")
l0=$(proc_cpu "$lg_pid")
sleep "$agent_seconds"
read -r a1 _ <<<"$(proc_cpu "$agent_pid")"
n1=$(run_ns "$agent_pid")
h1=$(httpd_ns "$httpd_pid")
l1=$(proc_cpu "$lg_pid")
t1=$(now_us)
hwm=$(vm_kib "$agent_pid" VmHWM)
rss=$(vm_kib "$agent_pid" VmRSS)
children=$(ps -o pid= --ppid "$httpd_pid" | wc -l)
if [ -z "$a1" ] || [ -z "$hwm" ]; then
    sb_fail "$label: sbagent ended before the end of the window"
fi

wait "$agent_pid"
agent_rc=$?
[ "$agent_rc" -eq 0 ] || {
    tail -n 20 "$work/agent.err" >&2
    sb_fail "$label: sbagent exited with status $agent_rc"
}
if grep -qiE 'error|warning' "$work/agent.err"; then
    sb_log "sbagent said:"
    grep -iE 'error|warning' "$work/agent.err" | head -n 5 >&2
fi
sb_bg_stop "$lg_pid"
if [ -s "$work/loadgen.json" ]; then
    load=$(jq -r '"\(.connections_opened) connections, \(.responses_ok) responses ok, \(.responses_error.total) errors, \(.refused) refused"' \
        "$work/loadgen.json")
else
    load="loadgen report missing ($(tail -n 1 "$work/loadgen.err" 2>/dev/null))"
fi

awk -v L="$label" -v s="$agent_seconds" -v t0="$t0" -v t1="$t1" -v hz="$CLK_TCK" \
    -v a0="$a0" -v a1="$a1" -v n0="$n0" -v n1="$n1" -v h0="$h0" -v h1="$h1" \
    -v l0="${l0%% *}" -v l1="${l1%% *}" -v hwm="$hwm" -v rss="$rss" \
    -v ch="$children" -v load="$load" '
BEGIN {
    wall = (t1 - t0) / 1e6
    a = (a1 - a0) / hz; n = (n1 - n0) / 1e9; h = (h1 - h0) / 1e9; l = (l1 - l0) / hz
    printf "%s: light load (loadgen --rate 20 --requests 3 --gap 0.2 --close): %s over the whole run\n", L, load
    printf "%s: agent CPU share %.2f %% (utime+stime %.0f ms over %.1f s wall; schedstat %.1f ms), %.2f ms CPU per second\n", L, 100 * a / wall, 1000 * a, wall, 1000 * n, 1000 * a / wall
    printf "%s: agent max RSS (VmHWM) %.1f MiB, RSS at the end %.1f MiB\n", L, hwm / 1024, rss / 1024
    printf "%s: httpd serving the load: CPU share %.2f %% (parent + %d children at the end, schedstat, reaped children included); loadgen %.2f %%\n", L, 100 * h / wall, ch, 100 * l / wall
    printf "%s: agent/httpd CPU %.2fx; agent %.2f %% CPU and %.1f MiB max RSS at 10 Hz shm + 2 Hz kernel for %d s\n", L, (h > 0 ? a / h : 0), 100 * a / wall, hwm / 1024, s
}'

# ---------------------------------------------------------------- 6
# sbtune report over a synthetic 7-day history (bench/bench_history: one
# row per second, 604,800, and the 10,080 minute rows a report reads); the
# current settings are given and discovery is off (--apachectl /bin/false):
# the time is the history's, not apache2ctl's. Exit 4 is "does not fit in
# memory": the synthetic load is larger than 256 slots.
report_bench()
{
    local db=$work/history-7d.sqlite out rc
    out=$("$BENCH_HISTORY" --out "$db" --days 7 --seed 7) || sb_fail "bench_history failed"
    echo "report: $out; file $(du -m "$db" | awk '{print $1}') MiB"
    command -v /usr/bin/time >/dev/null || { echo "report: /usr/bin/time not found (apt-get install time)"; return; }
    for run in 1 2; do
        /usr/bin/time -f "%e %U %S %M" -o "$work/report.time" "$SBTUNE" report --history "$db" \
            --mpm prefork --max-request-workers 256 --server-limit 256 \
            --keepalive-timeout 5 --memory 4294967296 --apachectl /bin/false \
            >"$work/report.out" 2>&1
        rc=$?
        read -r e u s m <<<"$(tail -n 1 "$work/report.time")"
        echo "report: sbtune report over 7 days (run $run, exit $rc): $e s wall," \
            "$(awk -v u="$u" -v s="$s" 'BEGIN { print u + s }') s CPU, max RSS" \
            "$(awk -v m="$m" 'BEGIN { printf "%.1f", m / 1024 }') MiB"
    done
    grep -m 2 -E "minutes of history|^Recommendation" "$work/report.out" | sed 's/^/report: | /'
}

# ---------------------------------------------------------------- 4
if [ "$kernel_seconds" -gt 0 ]; then
    sb_httpd_stop
    SBAGENT=$SBAGENT LOADGEN=$LOADGEN top_srcdir=$top_srcdir top_builddir=$top_builddir \
        bash "$top_srcdir/bench/bench_kernel_source.sh" --seconds "$kernel_seconds" ||
        sb_fail "bench/bench_kernel_source.sh failed"
fi

# ---------------------------------------------------------------- 5
if [ "$sbtop_seconds" -gt 0 ]; then
    sb_httpd_stop
    SBTOP=$SBTOP LOADGEN=$LOADGEN top_srcdir=$top_srcdir top_builddir=$top_builddir \
        bash "$top_srcdir/bench/bench_sbtop.sh" --seconds "$sbtop_seconds" --server-limit 64 ||
        sb_fail "bench/bench_sbtop.sh failed"
fi

report_bench
exit 0
