#!/bin/sh
# t_sbtop_saturated: sbtop on mod_status alone, with every worker slot of
# httpd held by a slow request, so that each scrape waits in the accept
# queue until its timeout (8 s here).  Keys and redraws must not wait for
# it: the help overlay opens and closes, and q quits, each well within
# half the scrape timeout.  (Before the scrape moved off sbtop's UI loop, a
# key waited for the scrape in flight.)
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "${top_srcdir:-$(dirname "$0")/../..}/tests/harness.sh"

SBTOP=${SBTOP:-$top_builddir/tui/sbtop}
command -v tmux >/dev/null || sb_fail "tmux not found: apt-get install tmux"
work=$(mktemp -d "${TMPDIR:-/tmp}/sbtest-sbtops.XXXXXX") || sb_fail "mktemp -d"
TMUX_TMPDIR=$work
export TMUX_TMPDIR
sb_at_exit sh -c 'tmux kill-server 2>/dev/null'   # before its socket goes with $work
sb_at_exit rm -rf "$work"
TIMEOUT_MS=8000
LIMIT_MS=$((TIMEOUT_MS / 2))

sb_httpd_start sbtops mpm=prefork server_limit=2 max_workers=2 start_servers=2 min_spare=1 \
    max_spare=2
sb_client_start --slow 2 --slow-path "/cgi-bin/sleep.cgi?40" --hold 45
# every slot busy: a scrape cannot be served
if curl -s -m 2 -o /dev/null "$SB_STATUS_URL"; then
    sb_fail "mod_status still answers: the slots are not all busy"
fi

# ms_until SESSION ERE: milliseconds until the screen matches ERE (or
# 3 x the scrape timeout: then fail)
ms_until()
{
    local t0 end
    t0=$(_sb_now_ms)
    end=$((t0 + 3 * TIMEOUT_MS))
    while [ "$(_sb_now_ms)" -lt "$end" ]; do
        tmux capture-pane -p -t "$1" >"$work/pane" 2>/dev/null
        if grep -Eq -- "$2" "$work/pane"; then
            echo $(($(_sb_now_ms) - t0))
            return 0
        fi
        sleep 0.05
    done
    echo never
}

tmux new-session -d -s top -x 120 -y 40 \
    "exec env TERM=screen \"$SBTOP\" --status-url \"$SB_STATUS_URL\" --timeout-ms $TIMEOUT_MS \
     -d 0.5 --kernel-hz 0 2>\"$work/err\"" || sb_fail "tmux new-session failed"
t=$(ms_until top 'sbtop')
[ "$t" != never ] || sb_fail "sbtop never drew its screen"
# the first scrape is in flight now (it waits for a slot that never frees)
tmux send-keys -t top h
t=$(ms_until top 'sbtop keys')
sb_log "help opened after $t ms (a scrape waits up to $TIMEOUT_MS ms)"
[ "$t" != never ] && [ "$t" -lt "$LIMIT_MS" ] || sb_fail "the help key waited $t ms for mod_status"
tmux send-keys -t top Escape
t0=$(_sb_now_ms)
while tmux capture-pane -p -t top | grep -q 'sbtop keys'; do
    [ $(($(_sb_now_ms) - t0)) -lt "$LIMIT_MS" ] || sb_fail "Esc waited for mod_status"
    sleep 0.05
done
sb_log "help closed after $(($(_sb_now_ms) - t0)) ms"
pid=$(tmux list-panes -t top -F '#{pane_pid}')     # the shell exec'ed sbtop
[ -n "$pid" ] && grep -q sbtop "/proc/$pid/cmdline" || sb_fail "sbtop's pid not found"
tmux send-keys -t top q
t0=$(_sb_now_ms)
# gone, or a zombie tmux has not reaped yet
while st=$(awk '{ print $3 }' "/proc/$pid/stat" 2>/dev/null) && [ -n "$st" ] && [ "$st" != Z ]; do
    [ $(($(_sb_now_ms) - t0)) -lt "$LIMIT_MS" ] || sb_fail "q waited for mod_status"
    sleep 0.05
done
sb_log "q quit after $(($(_sb_now_ms) - t0)) ms"
sb_pass
