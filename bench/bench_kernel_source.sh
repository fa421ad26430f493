#!/bin/bash
# bench/bench_kernel_source.sh: issue 9, what the eBPF kernel source costs
# next to sock_diag, side by side in one run.
#
#   bench/bench_kernel_source.sh [--seconds N] [--rates "R1 R2 ..."]
#
# One private prefork httpd (ServerLimit = MaxRequestWorkers = StartServers
# = 16, MinSpare 1, MaxSpare 16 so that the pool neither grows nor shrinks;
# KeepAlive Off: every request is a new connection). For each rate (default
# 100 and 2000 new connections/s), tests/loadgen --no-keepalive puts that
# load on it and two sbagents run at once on the same traffic, at the
# default rates (10 Hz shm, 2 Hz kernel):
#   sbagent --kernel-source bpf    (eBPF lifecycle source + sock_diag)
#   sbagent --kernel-source diag   (sock_diag samples only)
# The agents start first; once the BPF program is attached, 1 s, then 3 s
# without load (the program's runs for the host's other TCP traffic), then
# the load, 2 s to settle, and a window of N seconds (default 30) in which
# it measures for each agent its CPU
# (utime+stime delta of /proc/PID/stat over the wall time, % of one core,
# and schedstat's ns for comparison) and its max RSS (VmHWM), the ratios
# bpf/diag, httpd's CPU (parent + children, schedstat) and agent/httpd.
# The achieved rate comes from loadgen's JSON report (per_second_arrivals,
# the whole seconds inside the window).
#
# The BPF program's own cost runs in the kernel, in the context of whichever
# task or softirq changes a TCP socket's state (mostly httpd and loadgen
# here), so it is not in the agent's utime+stime. With
# kernel.bpf_stats_enabled it is measured from the program's run_time_ns
# and run_cnt (/proc/AGENT/fdinfo of its program fd): ns per run, runs per
# new connection, % of one core. The sysctl is set to 1 for the run only
# when it was 0, and set back to 0 at exit.
#
# Plain text on stdout; harness messages ('# ...') on stderr. Nothing is
# asserted. Only 127.0.0.1, bounded (each rate: the agents run N + 9 s,
# loadgen N + 6 s and at most 5 s of drain). httpd is stopped by
# tests/harness.sh; loadgen and the agents are started with sb_bg and
# killed by pid at teardown, also on failure. The sysctl is restored by an
# sb_at_exit command, which a SIGKILL of this script skips.
# When this build has no BPF source, it says so and exits 0.
#
# Environment: top_srcdir, top_builddir, APACHE2, SBAGENT, LOADGEN.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"

seconds=30
rates="100 2000"
while [ $# -gt 0 ]; do
    case $1 in
        --seconds) seconds=${2:-}; shift 2 || break ;;
        --seconds=*) seconds=${1#*=}; shift ;;
        --rates) rates=${2:-}; shift 2 || break ;;
        --rates=*) rates=${1#*=}; shift ;;
        -h | --help)
            echo "Usage: $0 [--seconds N] [--rates \"R1 R2 ...\"]"
            echo "  --seconds N  measured window per rate, 5..600 (default 30)"
            echo "  --rates LIST new connections/s, 1..5000 each (default \"100 2000\")"
            exit 0
            ;;
        *) echo "$0: unknown argument '$1' (--help)" >&2; exit 2 ;;
    esac
done
[[ $seconds =~ ^[0-9]+$ ]] && [ "$seconds" -ge 5 ] && [ "$seconds" -le 600 ] || {
    echo "$0: --seconds takes 5..600, not '$seconds'" >&2
    exit 2
}
for r in $rates; do
    [[ $r =~ ^[0-9]+$ ]] && [ "$r" -ge 1 ] && [ "$r" -le 5000 ] || {
        echo "$0: --rates takes numbers 1..5000, not '$r'" >&2
        exit 2
    }
done
[ -n "$rates" ] || { echo "$0: --rates is empty" >&2; exit 2; }

top_srcdir=$(cd "${top_srcdir:-$(dirname "$0")/..}" && pwd)
top_builddir=$(cd "${top_builddir:-$top_srcdir}" && pwd)
SB_TEST_NAME=bench_kernel_source
export SB_TEST_NAME
. "$top_srcdir/tests/harness.sh"
CLK_TCK=$(getconf CLK_TCK)
. "$top_srcdir/bench/bench_lib.sh"

SBAGENT=${SBAGENT:-$top_builddir/agent/sbagent}
LOADGEN=${LOADGEN:-$top_builddir/tests/loadgen}
for b in "$SBAGENT" "$LOADGEN"; do
    [ -x "$b" ] || sb_fail "$b not built (make bench builds everything it needs)"
done
command -v jq >/dev/null || sb_fail "jq not found: apt-get install jq"
if ! grep -q '^#define SB_HAVE_BPF 1' "$top_builddir/config.h" 2>/dev/null; then
    why=$(sed -n 's/^#define SB_BPF_WHY_NOT "\(.*\)"/\1/p' "$top_builddir/config.h" 2>/dev/null)
    echo "kernel source: not measured: this build has no BPF source (configure: ${why:-unknown})"
    exit 0
fi
work=$(mktemp -d "${TMPDIR:-/tmp}/sbbench-ks.XXXXXX") || sb_fail "mktemp -d"
sb_at_exit rm -rf "$work"

# kernel.bpf_stats_enabled: on for this run only, and only if it was off.
stats=no
stats_sysctl=/proc/sys/kernel/bpf_stats_enabled
if [ -r "$stats_sysctl" ]; then
    case $(cat "$stats_sysctl") in
        1) stats=yes; sb_log "kernel.bpf_stats_enabled was already 1: left as it is" ;;
        0)
            if echo 1 2>/dev/null >"$stats_sysctl"; then
                stats=yes
                sb_at_exit sh -c "echo 0 >$stats_sysctl"
                sb_log "kernel.bpf_stats_enabled set to 1 for this run (0 again at exit)"
            fi
            ;;
    esac
fi

# bpf_prog_id PID: id of the BPF program the process holds an fd of.
bpf_prog_id()
{
    local f
    for f in /proc/"$1"/fdinfo/*; do
        awk '$1 == "prog_id:" { print $2; found = 1; exit } END { exit !found }' "$f" \
            2>/dev/null && return 0
    done
    return 1
}

# bpf_prog_stats PID: "run_time_ns run_cnt recursion_misses" of that
# program, from its fd's fdinfo (kernel >= 5.1), else from bpftool.
bpf_prog_stats()
{
    local f id
    for f in /proc/"$1"/fdinfo/*; do
        if awk '$1 == "prog_id:" { p = 1 } $1 == "run_time_ns:" { t = $2 }
                $1 == "run_cnt:" { c = $2 } $1 == "recursion_misses:" { m = $2 }
                END { if (!p || t == "") exit 1; print t, c, (m == "" ? 0 : m) }' \
            "$f" 2>/dev/null; then
            return 0
        fi
    done
    id=$(bpf_prog_id "$1") || return 1
    command -v bpftool >/dev/null || return 1
    bpftool prog show id "$id" --json 2>/dev/null |
        jq -r '"\(.run_time_ns // 0) \(.run_cnt // 0) \(.recursion_misses // 0)"'
}

# bpf_memlock PID: KiB of kernel memory charged to the BPF maps and
# programs the process holds fds of (the memlock lines of their fdinfo).
bpf_memlock()
{
    cat /proc/"$1"/fdinfo/* 2>/dev/null |
        awk '$1 == "memlock:" { s += $2 } END { printf "%.0f\n", s / 1024 }'
}

# agent_rates FILE T0 T1 FIELD: mean of FIELD over the agent's per-second
# JSON records with T0 < ts <= T1 (seconds), and how many there were.
agent_rates()
{
    jq -s -r --argjson t0 "$2" --argjson t1 "$3" --arg f "$4" \
        '[.[] | select(.ts? and .ts > $t0 and .ts <= $t1) | .[$f] // 0] |
         if length > 0 then "\(add / length) \(length)" else "0 0" end' "$1" 2>/dev/null
}

echo "machine: $(nproc) CPUs, $(awk '{print $1}' /proc/loadavg) load average at start;" \
    "$("$SB_APACHE2" -v | awk -F': ' '/version/ {print $2}'); $(uname -r)"

sb_httpd_start bench-ks mpm=prefork keepalive=Off server_limit=16 max_workers=16 \
    start_servers=16 min_spare=1 max_spare=16
httpd_pid=$(sb_httpd_pid)
[ -n "$httpd_pid" ] || sb_fail "httpd not running"
echo "httpd: prefork, ServerLimit = MaxRequestWorkers = StartServers 16, KeepAlive Off;" \
    "agents at --shm-hz 10 --kernel-hz 2; window $seconds s per rate"

measure_rate()
{
    local rate=$1 L="kernel source at $1/s" lg_pid lg_t0 pb pd i id
    local t0 t1 b0 b1 d0 d1 bn0 bn1 dn0 dn1 h0 h1 l0 l1 s0 s1
    local bhwm dhwm brss drss rc children lgline bpfline diagline q0 q1 k0 k1 kmem brss0 drss0 sockstat

    # The agents first: the BPF program is attached and, for 3 s before
    # the load starts, counts the runs caused by the host's other TCP
    # traffic. Then the load, 2 s for it to settle, the window, and the
    # agents stop 2 s after it; loadgen 2 s later.
    sb_bg "$SBAGENT" --scoreboard "$SB_SCOREBOARD" --kernel-source bpf --json \
        --duration $((seconds + 9)) >"$work/bpf-$rate.out" 2>"$work/bpf-$rate.err"
    pb=$SB_BG_PID
    sb_bg "$SBAGENT" --scoreboard "$SB_SCOREBOARD" --kernel-source diag --json \
        --duration $((seconds + 9)) >"$work/diag-$rate.out" 2>"$work/diag-$rate.err"
    pd=$SB_BG_PID
    for i in $(seq 100); do
        id=$(bpf_prog_id "$pb") && break
        _sb_alive "$pb" || break
        sleep 0.02
    done
    [ -n "$id" ] || {
        cat "$work/bpf-$rate.err" >&2
        sb_fail "$L: the bpf agent holds no BPF program 2 s after its start"
    }
    sleep 1
    _sb_alive "$pd" || { cat "$work/diag-$rate.err" >&2; sb_fail "$L: the diag agent exited at start"; }
    q0=$(now_us); k0=$(bpf_prog_stats "$pb")
    brss0=$(vm_kib "$pb" VmRSS); drss0=$(vm_kib "$pd" VmRSS)
    sleep 3
    q1=$(now_us); k1=$(bpf_prog_stats "$pb")

    lg_t0=$(now_us)
    sb_bg "$LOADGEN" --url "$SB_HTTPD_URL/" --rate "$rate" --no-keepalive \
        --seed "$rate" --duration $((seconds + 6)) --drain 5 --timeout 10 \
        --json-out "$work/lg-$rate.json" 2>"$work/lg-$rate.err"
    lg_pid=$SB_BG_PID
    sleep 2
    t0=$(now_us)
    b0=$(proc_ut_st "$pb"); d0=$(proc_ut_st "$pd")
    bn0=$(run_ns "$pb"); dn0=$(run_ns "$pd")
    h0=$(httpd_ns "$httpd_pid"); read -r l0 _ <<<"$(proc_cpu "$lg_pid")"
    s0=$(bpf_prog_stats "$pb")
    sleep "$seconds"
    b1=$(proc_ut_st "$pb"); d1=$(proc_ut_st "$pd")
    bn1=$(run_ns "$pb"); dn1=$(run_ns "$pd")
    h1=$(httpd_ns "$httpd_pid"); read -r l1 _ <<<"$(proc_cpu "$lg_pid")"
    s1=$(bpf_prog_stats "$pb")
    t1=$(now_us)
    bhwm=$(vm_kib "$pb" VmHWM); brss=$(vm_kib "$pb" VmRSS)
    dhwm=$(vm_kib "$pd" VmHWM); drss=$(vm_kib "$pd" VmRSS)
    kmem=$(bpf_memlock "$pb")
    sockstat=$(awk '$1 == "TCP:" { for (i = 2; i < NF; i += 2) printf "%s %s ", $i, $(i + 1) }' /proc/net/sockstat)
    children=$(ps -o pid= --ppid "$httpd_pid" | wc -l)
    [ -n "$b1" ] && [ -n "$d1" ] && [ -n "$bhwm" ] && [ -n "$dhwm" ] ||
        sb_fail "$L: an agent ended before the end of the window"

    for i in "bpf $pb" "diag $pd"; do
        set -- $i
        wait "$2"
        rc=$?
        [ "$rc" -eq 0 ] || {
            tail -n 20 "$work/$1-$rate.err" >&2
            sb_fail "$L: sbagent --kernel-source $1 exited with status $rc"
        }
        if grep -qiE 'error|warning' "$work/$1-$rate.err"; then
            sb_log "sbagent --kernel-source $1 said:"
            grep -iE 'error|warning' "$work/$1-$rate.err" | head -n 5 >&2
        fi
    done
    wait "$lg_pid"
    [ -s "$work/lg-$rate.json" ] ||
        sb_fail "$L: no loadgen report ($(tail -n 1 "$work/lg-$rate.err" 2>/dev/null))"

    # loadgen's per-second series start at its own start, about lg_t0: the
    # whole seconds inside the window.
    lgline=$(jq -r --argjson a "$(((t0 - lg_t0 + 999999) / 1000000))" \
        --argjson b "$(((t1 - lg_t0) / 1000000))" \
        '[.per_second_arrivals[$a:$b][]] as $w |
         "\($w | add // 0) \($w | length) \(.connections_opened) \(.arrivals_s) \(.refused) \(.responses_error.total) \(.failed.total) \(.responses_ok) \(.schedule_lag_ms.p99 // "null")"' \
        "$work/lg-$rate.json")
    bpfline=$(agent_rates "$work/bpf-$rate.out" $((t0 / 1000000)) $((t1 / 1000000)) conn_per_s_bpf)
    diagline=$(agent_rates "$work/diag-$rate.out" $((t0 / 1000000)) $((t1 / 1000000)) conn_per_s_kernel)

    awk -v L="$L" -v rate="$rate" -v hz="$CLK_TCK" -v t0="$t0" -v t1="$t1" \
        -v b0="$b0" -v b1="$b1" -v d0="$d0" -v d1="$d1" \
        -v bn0="$bn0" -v bn1="$bn1" -v dn0="$dn0" -v dn1="$dn1" \
        -v h0="$h0" -v h1="$h1" -v l0="$l0" -v l1="$l1" -v ch="$children" \
        -v bhwm="$bhwm" -v brss="$brss" -v dhwm="$dhwm" -v drss="$drss" \
        -v s0="$s0" -v s1="$s1" -v stats="$stats" -v lg="$lgline" \
        -v bm="$bpfline" -v dm="$diagline" -v kmem="$kmem" \
        -v brss0="$brss0" -v drss0="$drss0" -v sockstat="$sockstat" \
        -v q0="$q0" -v q1="$q1" -v k0="$k0" -v k1="$k1" '
function pct(x) { return 100 * x / wall }
function ratio(a, b) { return b > 0 ? sprintf("%.2fx", a / b) : "n/a" }
BEGIN {
    wall = (t1 - t0) / 1e6
    split(b0, B0, " "); split(b1, B1, " "); split(d0, D0, " "); split(d1, D1, " ")
    but = (B1[1] - B0[1]) / hz; bst = (B1[2] - B0[2]) / hz; b = but + bst
    dut = (D1[1] - D0[1]) / hz; dst = (D1[2] - D0[2]) / hz; d = dut + dst
    bn = (bn1 - bn0) / 1e9; dn = (dn1 - dn0) / 1e9
    h = (h1 - h0) / 1e9; l = (l1 - l0) / hz
    split(lg, G, " "); split(bm, BM, " "); split(dm, DM, " ")
    wrate = G[2] > 0 ? G[1] / G[2] : 0
    conns = wrate * wall

    printf "%s: load: loadgen --rate %d --no-keepalive: %.1f new connections/s achieved in the window (%d whole seconds); whole run %d opened in %.0f s (%.1f/s), %d responses ok, %d refused, %d errors, %d failed, schedule lag p99 %s ms\n", L, rate, wrate, G[2], G[3], G[4], (G[4] > 0 ? G[3] / G[4] : 0), G[8], G[5], G[6], G[7], G[9]
    printf "%s: agent bpf:  CPU %.2f %% of one core (utime %.0f + stime %.0f ms over %.1f s; schedstat %.1f ms), max RSS %.1f MiB (RSS %.1f before the load, %.1f at the end) + %.1f MiB of kernel memory for its BPF maps and program (memlock); it measured %.1f arrivals/s (conn_per_s_bpf, %d s)\n", L, pct(b), 1000 * but, 1000 * bst, wall, 1000 * bn, bhwm / 1024, brss0 / 1024, brss / 1024, kmem / 1024, BM[1], BM[2]
    printf "%s: agent diag: CPU %.2f %% of one core (utime %.0f + stime %.0f ms over %.1f s; schedstat %.1f ms), max RSS %.1f MiB (RSS %.1f before the load, %.1f at the end); it measured %.1f conn/s (conn_per_s_kernel, %d s)\n", L, pct(d), 1000 * dut, 1000 * dst, wall, 1000 * dn, dhwm / 1024, drss0 / 1024, drss / 1024, DM[1], DM[2]
    n = split(sockstat, T, " ")
    for (i = 1; i < n; i += 2) tcp[T[i]] = T[i + 1]
    printf "%s: host TCP sockets at the end of the window (/proc/net/sockstat): %d in use, %d in TIME_WAIT (entries of the hash table a sock_diag dump walks)\n", L, tcp["inuse"], tcp["tw"]
    printf "%s: bpf/diag: CPU %s (schedstat %s), max RSS %s\n", L, ratio(b, d), ratio(bn, dn), ratio(bhwm, dhwm)
    printf "%s: httpd CPU %.2f %% of one core (parent + %d children, schedstat); loadgen %.2f %%; agent/httpd: bpf %s, diag %s\n", L, pct(h), ch, pct(l), ratio(b, h), ratio(d, h)

    prog = "not measured (kernel.bpf_stats_enabled could not be set)"
    pk = -1
    if (stats == "yes" && s0 != "" && s1 != "") {
        split(s0, S0, " "); split(s1, S1, " ")
        rt = S1[1] - S0[1]; rc = S1[2] - S0[2]; rm = S1[3] - S0[3]
        pk = rt / 1e9
        # runs caused by other TCP traffic on the host, from the 3 s before the load
        split(k0, K0, " "); split(k1, K1, " ")
        qw = (q1 - q0) / 1e6
        bg = (qw > 0 && k0 != "" && k1 != "") ? (K1[2] - K0[2]) / qw : 0
        bgns = (bg > 0) ? (K1[1] - K0[1]) / (K1[2] - K0[2]) : 0
        own = rc - bg * wall
        if (own < 0) own = 0
        prog = sprintf("%d runs, %.0f ns per run, %.3f %% of one core (%.1f ms over %.1f s); recursion_misses %d", rc, (rc > 0 ? rt / rc : 0), pct(pk), rt / 1e6, wall, rm)
        bgline = sprintf("before the load it ran %.1f times/s for the host'"'"'s other TCP traffic (%.0f ns per run, sockets not on the port); with that subtracted, about %.1f runs and %.2f us per new connection (an estimate: the other traffic varies)", bg, bgns, (conns > 0 ? own / conns : 0), (conns > 0 && rc > 0 ? own * (rt / rc) / conns / 1000 : 0))
        printf "%s: BPF program (kernel side, charged to the tasks changing socket states, not to the agent): %s\n", L, prog
        printf "%s: BPF program: %s\n", L, bgline
    }
    else
        printf "%s: BPF program: %s\n", L, prog
    if (pk >= 0)
        withprog = sprintf(", %.2f %% with its BPF program (%s of diag)", pct(b + pk), ratio(b + pk, d))
    else
        withprog = ""
    printf "summary %d/s: bpf agent %.2f %%%s vs diag agent %.2f %% of one core: bpf/diag %s; max RSS %.1f vs %.1f MiB; httpd %.2f %% (agent/httpd %s bpf, %s diag); %.1f new connections/s achieved\n", rate, pct(b), withprog, pct(d), ratio(b, d), bhwm / 1024, dhwm / 1024, pct(h), ratio(b, h), ratio(d, h), wrate
}'
}

for r in $rates; do
    measure_rate "$r"
done
exit 0
