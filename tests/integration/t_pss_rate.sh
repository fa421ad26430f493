#!/bin/sh
# t_pss_rate: sbagent reads the PSS of httpd's processes (one smaps_rollup
# each) when the scoreboard's processes change and about once a minute
# otherwise, not at every memory sample (5 s).  The agent runs under strace
# (openat only) against a prefork httpd whose four children stay:
#   1. 16 s with the same processes: the parent's smaps_rollup is opened
#      once (at 5 s it would be 4 times);
#   2. a graceful restart replaces the children: it is opened again within
#      the next memory sample (by 7 s after the restart).
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "${top_srcdir:-$(dirname "$0")/../..}/tests/harness.sh"

SBAGENT=${SBAGENT:-$top_builddir/agent/sbagent}
command -v strace >/dev/null ||
    sb_fail "strace not found: apt-get install strace (tools/install-deps)"
work=$(mktemp -d "${TMPDIR:-/tmp}/sbtest-pss.XXXXXX") || sb_fail "mktemp -d"
sb_at_exit rm -rf "$work"

# four children, neither grown nor shrunk without load
sb_httpd_start pss mpm=prefork server_limit=4 max_workers=4 start_servers=4 \
    min_spare=1 max_spare=4
parent=$(sb_httpd_pid)
[ -n "$parent" ] || sb_fail "httpd not running"

# reads_of FILE: the opens of the parent's smaps_rollup in an strace log
reads_of()
{
    grep -c "/proc/$parent/smaps_rollup" "$1"
}

sb_bg strace -f -qq -e trace=openat -o "$work/trace" \
    "$SBAGENT" --scoreboard "$SB_SCOREBOARD" --kernel-hz 0 --duration 40
tracer=$SB_BG_PID
# the first read (at the agent's first memory sample)
for _ in $(seq 1 100); do
    [ -s "$work/trace" ] && [ "$(reads_of "$work/trace")" -ge 1 ] && break
    _sb_alive "$tracer" || sb_fail "the agent ended: $(tail -3 "$work/trace")"
    sleep 0.1
done
sb_assert_ge "$(reads_of "$work/trace")" 1 "the agent read the parent's PSS at start"

sleep 16
n1=$(reads_of "$work/trace")
sb_log "16 s with the same processes: $n1 read(s) of /proc/$parent/smaps_rollup"
sb_assert_eq "$n1" 1 "no PSS read again while the processes stay the same"

sb_httpd_graceful
t0=$(date +%s)
n2=$n1
until [ "$n2" -gt "$n1" ] || [ $(($(date +%s) - t0)) -ge 7 ]; do
    sleep 0.2
    n2=$(reads_of "$work/trace")
done
sb_log "after the graceful restart: $n2 read(s)"
sb_assert_ge "$n2" $((n1 + 1)) "the PSS is read again once the children changed"
sb_bg_stop "$tracer"
sb_pass
