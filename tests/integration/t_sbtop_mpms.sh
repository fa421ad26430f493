#!/bin/sh
# t_sbtop_mpms: sbtop against a live worker and event httpd holding a known
# load (idle keep-alive connections and slow CGI requests): batch frames
# show the MPM, the slot states sbagent sees, the map's rows per process,
# and the kernel's idle keep-alive connections; the interactive screen in
# tmux shows the same and quits cleanly; without a readable scoreboard sbtop
# falls back to mod_status with a notice.  (prefork: t_sbtop.)
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "${top_srcdir:-$(dirname "$0")/../..}/tests/harness.sh"

SBTOP=${SBTOP:-$top_builddir/tui/sbtop}
SBAGENT=${SBAGENT:-$top_builddir/agent/sbagent}
command -v tmux >/dev/null || sb_fail "tmux not found: apt-get install tmux"
work=$(mktemp -d "${TMPDIR:-/tmp}/sbtest-sbtopm.XXXXXX") || sb_fail "mktemp -d"
TMUX_TMPDIR=$work
export TMUX_TMPDIR
sb_at_exit sh -c 'tmux kill-server 2>/dev/null'   # before its socket goes with $work
sb_at_exit rm -rf "$work"
KA=3
SLOW=2

# the cells of the map rows ("  P  PID  cells") of FILE that are one of CHARS
map_count()
{
    local cells
    cells=$(grep -E '^ +[0-9]+ +[0-9]+ +[_SRWKLDCGI.]+ *$' "$1" |
        sed -E 's/^ +[0-9]+ +[0-9]+ +//' | tr -d ' \n')
    cells=${cells//[!"$2"]/}
    echo ${#cells}
}

for mpm in worker event; do
    sb_httpd_start "sbtopm-$mpm" mpm=$mpm keepalive_timeout=60
    sb_client_start --keepalive $KA --slow $SLOW --slow-path "/cgi-bin/sleep.cgi?40" --hold 45
    sb_wait_status '[ "$(sb_count_slots W)" -ge $((SLOW + 1)) ]' 10 ||
        sb_fail "$mpm: the slow requests never showed"

    ok=0
    for try in 1 2 3 4 5; do
        "$SBAGENT" --once --json --scoreboard "$SB_SCOREBOARD" >"$work/a1.json" || sb_fail "sbagent"
        "$SBTOP" -b -n 2 -d 0.6 --scoreboard "$SB_SCOREBOARD" >"$work/batch" 2>"$work/err" ||
            sb_fail "$mpm: sbtop -b failed: $(cat "$work/err")"
        "$SBAGENT" --once --json --scoreboard "$SB_SCOREBOARD" >"$work/a2.json" || sb_fail "sbagent"
        cmp -s <(jq -c '[.slots, .busy]' "$work/a1.json") <(jq -c '[.slots, .busy]' "$work/a2.json") &&
            { ok=1; break; }
    done
    [ "$ok" = 1 ] || sb_fail "$mpm: the slots never stood still around a batch run"
    sb_assert_eq "$(grep -c '^sbtop | ' "$work/batch")" 2 "$mpm: batch frames"
    grep -q "mpm $mpm" "$work/batch" || sb_fail "$mpm: the header does not name the MPM"
    for key in writing keepalive idle open; do
        n=$(jq -r ".slots.$key" "$work/a1.json")
        sb_assert_eq "$(grep -cE "(^| )$key $n( |$)" "$work/batch")" 2 "$mpm batch: $key $n"
    done
    sb_assert_eq "$(map_count "$work/batch" W)" $((2 * SLOW)) "$mpm batch: W cells in 2 frames"
    # one map row per running process, ThreadLimit cells wide
    rows=$(grep -cE '^ +[0-9]+ +[0-9]+ +[_SRWKLDCGI.]{8} *$' "$work/batch")
    sb_assert_ge "$rows" 4 "$mpm: map rows of 8 cells (2 processes x 2 frames)"
    # the kernel's idle keep-alive connections (event holds them in no slot)
    wait_kernel=0
    for try in 1 2 3; do
        grep -q "idle keep-alive conns (kernel) $KA " "$work/batch" && { wait_kernel=1; break; }
        "$SBTOP" -b -n 2 -d 0.6 --scoreboard "$SB_SCOREBOARD" >"$work/batch" 2>/dev/null
    done
    [ "$wait_kernel" = 1 ] || sb_fail "$mpm: idle keep-alive connections (kernel) not $KA: $(grep -o 'idle keep-alive conns[^|]*' "$work/batch" | head -1)"
    if [ "$mpm" = event ]; then
        sb_assert_eq "$(map_count "$work/batch" K)" 0 "event: no slot held in K"
    else
        sb_assert_eq "$(map_count "$work/batch" K)" $((2 * KA)) "worker batch: K cells"
    fi

    # interactive: the same screen, then q
    tmux new-session -d -s "$mpm" -x 120 -y 40 \
        "env TERM=screen '$SBTOP' --scoreboard '$SB_SCOREBOARD'; echo SBTOP_EXIT=\$?; sleep 30" ||
        sb_fail "tmux new-session failed"
    end=$(($(date +%s) + 10))
    until tmux capture-pane -p -t "$mpm" >"$work/pane" 2>/dev/null &&
        grep -q "mpm $mpm" "$work/pane" && [ "$(map_count "$work/pane" W)" = $SLOW ]; do
        [ "$(date +%s)" -lt "$end" ] || { cat "$work/pane" >&2; sb_fail "$mpm: screen never showed the load"; }
        sleep 0.1
    done
    tmux send-keys -t "$mpm" q
    end=$(($(date +%s) + 5))
    until tmux capture-pane -p -t "$mpm" | grep -q "SBTOP_EXIT=0"; do
        [ "$(date +%s)" -lt "$end" ] || sb_fail "$mpm: sbtop did not quit with 0"
        sleep 0.1
    done
    tmux kill-session -t "$mpm"
    sb_bg_stop "$SB_CLIENT_PID"
    sb_httpd_stop
done
# the fallback: no readable scoreboard (httpd without ScoreBoardFile), so
# sbtop reads mod_status and says so on the screen
sb_httpd_start sbtopm-fallback mpm=prefork scoreboard=no
"$SBTOP" -b -n 1 --scoreboard "$SB_HTTPD_DIR/scoreboard" --status-url "$SB_STATUS_URL" \
    >"$work/fallback" 2>&1 || sb_fail "sbtop with the fallback failed: $(cat "$work/fallback")"
grep -q "source status (fallback)" "$work/fallback" || sb_fail "fallback: source not shown"
grep -q "scoreboard unavailable (no scoreboard segment" "$work/fallback" ||
    sb_fail "fallback: no notice saying why"
grep -qE "(^| )idle [0-9]+" "$work/fallback" || sb_fail "fallback: no slot counts"
sb_pass
