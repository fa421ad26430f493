#!/bin/sh
# t_memory_pss: httpd's memory as the agent reports it (pss_total_bytes)
# against the sum of smaps_rollup's Pss over httpd's processes read by this
# test.  A prefork httpd with 24 children: each memory sample (every 5 s)
# the agent reads the children it has not read yet and the 8 read longest
# ago, and all of them when one of those moved by more than 2 %; the
# others count at their last value.  After three samples the figure must
# be within 5 % of the direct sum; the same after a graceful restart has
# replaced every child (new pids).  Needs root (another
# user's smaps_rollup needs CAP_SYS_PTRACE); skipped otherwise.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "${top_srcdir:-$(dirname "$0")/../..}/tests/harness.sh"

SBAGENT=${SBAGENT:-$top_builddir/agent/sbagent}
[ "$(id -u)" = 0 ] || { echo "SKIP: reading httpd's smaps_rollup needs root"; exit 77; }
command -v jq >/dev/null || sb_fail "jq not found: apt-get install jq"
work=$(mktemp -d "${TMPDIR:-/tmp}/sbtest-pss.XXXXXX") || sb_fail "mktemp -d"
sb_at_exit rm -rf "$work"

sb_httpd_start pss mpm=prefork server_limit=24 max_workers=24 start_servers=24 min_spare=1 \
    max_spare=24

# pss_sum: the parent's and its children's Pss in bytes, read now
pss_sum()
{
    local parent kids k sum=0 v
    parent=$(cat "$SB_HTTPD_PIDFILE")
    kids=$(ps -o pid= --ppid "$parent")
    for k in "$parent" $kids; do
        v=$(awk '$1 == "Pss:" { print $2 }' "/proc/$k/smaps_rollup" 2>/dev/null)
        sum=$((sum + ${v:-0} * 1024))
    done
    echo "$sum"
}

# the last second's pss_total_bytes once N seconds with one were written
agent_pss_after()
{
    sb_wait_status "[ \$(seconds_with_pss) -ge $1 ]" 60 ||
        sb_fail "the agent reported no PSS for $1 s: $(cat "$work/agent.err")"
    grep '^{.*}$' "$work/agent.json" |
        jq -s '[.[] | select(.pss_total_bytes != null)] | last | .pss_total_bytes'
}

# whole lines only (the agent may be writing the last one)
seconds_with_pss()
{
    grep '^{.*}$' "$work/agent.json" 2>/dev/null |
        jq -s '[.[] | select(.pss_total_bytes != null)] | length' 2>/dev/null || echo 0
}

sb_bg sh -c "exec \"$SBAGENT\" --scoreboard \"$SB_SCOREBOARD\" --json --duration 90 \
    >\"$work/agent.json\" 2>\"$work/agent.err\""
# three memory samples (0, 5, 10 s) have read all 24 children
got=$(agent_pss_after 12)
want=$(pss_sum)
sb_log "pss_total_bytes $got, smaps_rollup sum $want"
sb_assert_ge "$got" $((want * 95 / 100)) "PSS within 5 % (low)"
sb_assert_le "$got" $((want * 105 / 100)) "PSS within 5 % (high)"

# a graceful restart replaces every child: new pids, read first
sb_httpd_graceful
n=$(seconds_with_pss)
got=$(agent_pss_after $((n + 12)))
want=$(pss_sum)
sb_log "after the graceful restart: pss_total_bytes $got, smaps_rollup sum $want"
sb_assert_ge "$got" $((want * 95 / 100)) "PSS after the restart within 5 % (low)"
sb_assert_le "$got" $((want * 105 / 100)) "PSS after the restart within 5 % (high)"
sb_pass
