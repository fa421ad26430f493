#!/bin/sh
# t_memory_flat: sbagent and sbtop left waiting for an httpd that does not
# answer do not grow.  Three ways to wait, each for an agent (daemon) and
# an sbtop (interactive, in tmux): a scoreboard path with no segment, a
# mod_status URL that refuses connections, and a live scoreboard with a
# kernel source that fails every time it is opened (socket(AF_NETLINK)
# refused by an LD_PRELOAD shim).  Resident memory is read after a warm-up
# and again SB_MEMORY_SECONDS (default 300) later; it may grow by less
# than 256 KiB.  (Before lib/sb_source the first case grew ~50 KiB/s.)
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "${top_srcdir:-$(dirname "$0")/../..}/tests/harness.sh"

SBAGENT=${SBAGENT:-$top_builddir/agent/sbagent}
SBTOP=${SBTOP:-$top_builddir/tui/sbtop}
SECONDS_FLAT=${SB_MEMORY_SECONDS:-300}
WARMUP=20
LIMIT_KIB=256
command -v tmux >/dev/null || sb_fail "tmux not found: apt-get install tmux"
work=$(mktemp -d "${TMPDIR:-/tmp}/sbtest-mem.XXXXXX") || sb_fail "mktemp -d"
TMUX_TMPDIR=$work
export TMUX_TMPDIR
# teardown runs in order: the tmux server (and the sbtops in it) first,
# while its socket in $work still exists
sb_at_exit sh -c 'tmux kill-server 2>/dev/null'
sb_at_exit rm -rf "$work"

${CC:-cc} -shared -fPIC -o "$work/nonetlink.so" "$top_srcdir/tests/shim/nonetlink.c" -ldl ||
    sb_fail "cannot build the netlink shim"

sb_httpd_start mem mpm=prefork
# a port nothing listens on
refused=$(_sb_pick_port) || sb_fail "no free port"
refused_url="http://127.0.0.1:$refused/server-status"

declare -A args pids
args[missing]="--scoreboard $work/no-such-scoreboard"
args[refused]="--status-url $refused_url --status-interval 0.2"
args[nokernel]="--scoreboard $SB_SCOREBOARD --kernel-hz 10 --ports $SB_HTTPD_PORT"

# kernel source check: the shim really makes it fail
LD_PRELOAD=$work/nonetlink.so "$SBAGENT" ${args[nokernel]} --duration 1.5 \
    >/dev/null 2>"$work/shimcheck.err"
grep -q "kernel source off" "$work/shimcheck.err" ||
    sb_fail "the shim did not make the kernel source fail: $(cat "$work/shimcheck.err")"

for case in missing refused nokernel; do
    pre=
    [ "$case" = nokernel ] && pre="LD_PRELOAD=$work/nonetlink.so"
    sb_bg sh -c "exec env $pre \"$SBAGENT\" ${args[$case]} --duration $((SECONDS_FLAT + WARMUP + 30)) \
        >/dev/null 2>\"$work/agent-$case.err\""
    pids[agent-$case]=$SB_BG_PID
    tmux new-session -d -s "top-$case" -x 120 -y 40 \
        "exec env TERM=xterm-256color $pre \"$SBTOP\" ${args[$case]} -d 0.5 2>\"$work/top-$case.err\"" ||
        sb_fail "tmux new-session failed"
done
for case in missing refused nokernel; do
    for try in $(seq 50); do
        p=$(tmux list-panes -t "top-$case" -F '#{pane_pid}' 2>/dev/null)
        [ -n "$p" ] && [ -r "/proc/$p/status" ] && break
        sleep 0.1
    done
    [ -n "$p" ] || sb_fail "sbtop ($case) did not start"
    pids[top-$case]=$p
done

rss() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status" 2>/dev/null; }

# warm-up: first allocations, libcurl, ncurses
sleep "$WARMUP"
declare -A before
for k in "${!pids[@]}"; do
    before[$k]=$(rss "${pids[$k]}")
    [ -n "${before[$k]}" ] || sb_fail "$k exited during the warm-up: $(cat "$work"/*"${k#*-}".err 2>/dev/null)"
done
sb_log "waiting $SECONDS_FLAT s with ${#pids[@]} processes"
end=$(($(date +%s) + SECONDS_FLAT))
while [ "$(date +%s)" -lt "$end" ]; do
    for k in "${!pids[@]}"; do
        kill -0 "${pids[$k]}" 2>/dev/null || sb_fail "$k exited while waiting"
    done
    sleep 5
done
status=0
for k in $(printf '%s\n' "${!pids[@]}" | sort); do
    after=$(rss "${pids[$k]}")
    grow=$((after - before[$k]))
    sb_log "$k: RSS ${before[$k]} -> $after KiB ($grow KiB in $SECONDS_FLAT s)"
    [ "$grow" -lt "$LIMIT_KIB" ] || { echo "FAIL: $k grew $grow KiB" >&2; status=1; }
done
# each waited for the reason the case is about
grep -q "no scoreboard segment" "$work/agent-missing.err" || sb_fail "agent (missing): $(head -3 "$work/agent-missing.err")"
grep -q "cannot connect" "$work/agent-refused.err" || sb_fail "agent (refused): $(head -3 "$work/agent-refused.err")"
grep -q "kernel source off" "$work/agent-nokernel.err" || sb_fail "agent (nokernel): $(head -3 "$work/agent-nokernel.err")"
[ "$status" = 0 ] || sb_fail "memory grew while waiting"
sb_pass
