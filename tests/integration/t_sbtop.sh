#!/bin/sh
# t_sbtop: sbtop driven for real.  A prefork httpd holds a known load (3
# idle keep-alive connections, 2 requests stuck in a slow CGI, all from
# 127.0.0.1); sbtop runs in tmux and capture-pane checks what it shows:
# the header, the slot map's K and W cells, the gauges, each view, the help
# overlay generated from the key table, a resize, a graceful restart, a
# stop and start, quitting with the terminal restored, SIGTERM, an 80x24
# monochrome run.  Batch frames are checked against sbagent --once --json,
# and a history recorded by sbagent is replayed (batch and interactive).
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "${top_srcdir:-$(dirname "$0")/../..}/tests/harness.sh"

SBTOP=${SBTOP:-$top_builddir/tui/sbtop}
SBAGENT=${SBAGENT:-$top_builddir/agent/sbagent}
[ -x "$SBTOP" ] || sb_fail "$SBTOP not built"
[ -x "$SBAGENT" ] || sb_fail "$SBAGENT not built"
command -v tmux >/dev/null || sb_fail "tmux not found: apt-get install tmux"
work=$(mktemp -d "${TMPDIR:-/tmp}/sbtest-sbtop.XXXXXX") || sb_fail "mktemp -d"
# a private tmux server (its socket in $work): the user's sessions are not
# touched; killing it hangs up every sbtop still running in it
export TMUX_TMPDIR=$work
unset TMUX
sb_at_exit sh -c 'tmux kill-server 2>/dev/null'
sb_at_exit rm -rf "$work"

KA=3
SLOW=2

# ---------------------------------------------------------------- helpers

# pane SESSION [-e]: the visible screen of SESSION
pane()
{
    tmux capture-pane -p ${2:-} -t "$1" 2>/dev/null
}

# wait_pane SESSION ERE TIMEOUT: until the screen matches ERE (grep -E);
# the last screen is left in $work/pane.  Returns 1 on timeout.
wait_pane()
{
    local s=$1 re=$2 end=$(($(_sb_now_ms) + $(_sb_to_ms "$3")))
    while :; do
        pane "$s" >"$work/pane"
        grep -Eq -- "$re" "$work/pane" && return 0
        if [ "$(_sb_now_ms)" -ge "$end" ]; then
            sb_log "no /$re/ on the screen of $s within $3 s; the screen:"
            cat "$work/pane" >&2
            return 1
        fi
        sleep 0.1
    done
}

# wait_pane_cmd SESSION TIMEOUT CMD...: until CMD (given the screen file)
# succeeds.
wait_pane_cmd()
{
    local s=$1 end=$(($(_sb_now_ms) + $(_sb_to_ms "$2")))
    shift 2
    while :; do
        pane "$s" >"$work/pane"
        "$@" "$work/pane" && return 0
        if [ "$(_sb_now_ms)" -ge "$end" ]; then
            sb_log "condition '$*' never held on $s; the screen:"
            cat "$work/pane" >&2
            return 1
        fi
        sleep 0.1
    done
}

# start_session NAME COLS ROWS ENV...: a shell in tmux at that size, with a
# plain prompt ("sbtest$ "), ready for commands.
start_session()
{
    local name=$1 cols=$2 rows=$3
    shift 3
    tmux new-session -d -s "$name" -x "$cols" -y "$rows" \
        env -i PATH="$PATH" HOME="$work" TERM=screen "$@" PS1='sbtest$ ' \
        bash --norc --noprofile || sb_fail "tmux new-session failed"
    wait_pane "$name" 'sbtest\$' 5 || sb_fail "$name: no shell prompt"
}

# run_in NAME CMD: type CMD into the session's shell, followed by a line
# that reports its exit status.
run_in()
{
    tmux send-keys -t "$1" "$2; echo SBTOP_EXIT=\$?" Enter
}

# map_count FILE CHARS: cells of the prefork slot map line(s) in FILE that
# are one of CHARS
map_count()
{
    local cells
    cells=$(grep -E '^ +[0-9]+  [_SRWKLDCGI.]+ *$' "$1" | sed -E 's/^ +[0-9]+  //' | tr -d ' \n')
    cells=${cells//[!"$2"]/}
    echo ${#cells}
}

has_load()
{
    [ "$(map_count "$1" K)" = $KA ] && [ "$(map_count "$1" W)" = $SLOW ]
}

# ---------------------------------------------------------------- setup

sb_httpd_start sbtop mpm=prefork keepalive_timeout=60
sb_client_start --keepalive $KA --slow $SLOW --slow-path "/cgi-bin/sleep.cgi?50" --hold 60
sb_wait_status '[ "$(sb_count_slots W)" -ge $((SLOW + 1)) ] &&
    [ "$(sb_count_slots K)" -ge $KA ]' 10 || sb_fail "the load never showed in mod_status"

# the agent records a short history meanwhile (replayed at the end)
t_rec=$(date +%s)
sb_bg "$SBAGENT" --scoreboard "$SB_SCOREBOARD" --history "$work/history.db" --duration 5 \
    2>"$work/agent.err"
agent=$SB_BG_PID

# ---------------------------------------------------------------- usage

"$SBTOP" --help >"$work/help" || sb_fail "--help failed"
missing=""
for opt in $(grep -o -- '--[a-z][a-z0-9-]*' "$work/help" | sort -u); do
    grep -q -- "$(echo "$opt" | sed 's/-/\\\\-/g')" "$top_srcdir/man/sbtop.1" ||
        grep -q -- "$opt" "$top_srcdir/man/sbtop.1" || missing="$missing $opt"
done
[ -z "$missing" ] || sb_fail "man/sbtop.1 does not document:$missing"
"$SBTOP" --no-such-option >/dev/null 2>&1
sb_assert_eq $? 2 "exit status of an unknown option"
"$SBTOP" -b -d 0 --scoreboard "$SB_SCOREBOARD" >/dev/null 2>&1
sb_assert_eq $? 2 "exit status of -d 0"
"$SBTOP" -b >/dev/null 2>&1
sb_assert_eq $? 2 "exit status without a source"
"$SBTOP" -b -n 1 --scoreboard "$work/no-such-scoreboard" >/dev/null 2>"$work/err"
sb_assert_eq $? 3 "exit status of batch mode with no scoreboard"
grep -q "no sample could be taken" "$work/err" || sb_fail "no reason given: $(cat "$work/err")"

# ---------------------------------------------------------------- batch

# 3 frames 0.5 s apart, each with the counts sbagent sees at that moment
ok=0
for try in 1 2 3 4 5; do
    "$SBAGENT" --once --json --scoreboard "$SB_SCOREBOARD" >"$work/a1.json" || sb_fail "sbagent"
    "$SBTOP" -b -n 3 -d 0.5 --scoreboard "$SB_SCOREBOARD" >"$work/batch" 2>"$work/batch.err" ||
        sb_fail "sbtop -b failed: $(cat "$work/batch.err")"
    "$SBAGENT" --once --json --scoreboard "$SB_SCOREBOARD" >"$work/a2.json" || sb_fail "sbagent"
    cmp -s <(jq -c '[.slots, .busy]' "$work/a1.json") <(jq -c '[.slots, .busy]' "$work/a2.json") &&
        { ok=1; break; }
done
[ "$ok" = 1 ] || sb_fail "the slots never stood still around a batch run"
sb_assert_eq "$(grep -c '^sbtop | ' "$work/batch")" 3 "batch frames"
grep -q $'\e' "$work/batch" && sb_fail "batch output has escape sequences"
for key in writing keepalive idle open; do
    n=$(jq -r ".slots.$key" "$work/a1.json")
    sb_assert_eq "$(grep -cE "(^| )$key $n( |$)" "$work/batch")" 3 "batch: $key $n in each frame"
done
busy=$(jq -r .busy "$work/a1.json")
total=$(jq -r .slots_total "$work/a1.json")
sb_assert_eq "$(grep -cE "^busy +\[[#.]+\] $busy/$total " "$work/batch")" 3 \
    "batch: busy gauge $busy/$total in each frame"
sb_assert_eq "$(grep -cE "^keep-alive +\[[#.]+\] $KA/$total " "$work/batch")" 3 \
    "batch: keep-alive gauge"
grep -q "mpm prefork" "$work/batch" || sb_fail "batch: no MPM in the header"
grep -q "source shm" "$work/batch" || sb_fail "batch: no source in the header"
sb_assert_eq "$(map_count "$work/batch" W)" $((3 * SLOW)) "batch: W cells in 3 frames"
sb_assert_eq "$(map_count "$work/batch" K)" $((3 * KA)) "batch: K cells in 3 frames"

# ---------------------------------------------------------------- live, 120x40

S=live
start_session $S 120 40 LANG=C.UTF-8
run_in $S "$SBTOP --scoreboard $SB_SCOREBOARD --keepalive-timeout 60"
wait_pane $S 'Capacity' 10 || sb_fail "sbtop did not draw its dashboard"
wait_pane_cmd $S 10 has_load || sb_fail "slot map: not $KA K and $SLOW W cells"
f=$work/pane
grep -qE 'Apache/2\.4\.[0-9]+' "$f" || sb_fail "header: no httpd version"
grep -q 'mpm prefork' "$f" || sb_fail "header: no MPM"
grep -q 'source shm' "$f" || sb_fail "header: source is not shm"
grep -qE 'gen [0-9]+' "$f" || sb_fail "header: no generation"
grep -qE 'up [0-9]+' "$f" || sb_fail "header: no uptime"
grep -qE '[0-9]{2}:[0-9]{2}:[0-9]{2}' "$f" || sb_fail "header: no clock"
grep -qE "(^| )keep-alive +\[.*\] $KA/8 " "$f" || sb_fail "gauge: keep-alive is not $KA/8"
grep -qE "^busy +\[.*\] $((KA + SLOW))/8 " "$f" || sb_fail "gauge: busy is not $((KA + SLOW))/8"
grep -qE "K keepalive $KA( |$)" "$f" || sb_fail "legend: keepalive count"
grep -qE "W writing $SLOW( |$)" "$f" || sb_fail "legend: writing count"
wait_pane $S "idle keep-alive conns \(kernel\) $KA " 10 || sb_fail "kernel: idle keep-alive conns"
grep -q "KeepAliveTimeout 60 s" "$f" || sb_fail "capacity line does not name KeepAliveTimeout"
grep -q '█' "$f" || sb_fail "UTF-8: no block characters in the bars"

tmux send-keys -t $S w
wait_pane $S 'Workers: [0-9]+ of 8 slots' 5 || sb_fail "workers view: no title"
sb_assert_eq "$(grep -cE '^ +[0-9]+ +[0-9]+  W .*127\.0\.0\.1 .*sleep\.cgi' "$work/pane")" $SLOW \
    "workers view: rows in W for the slow requests"
sb_assert_eq "$(grep -cE '^ +[0-9]+ +[0-9]+  K +[0-9.]+ +1 +127\.0\.0\.1' "$work/pane")" $KA \
    "workers view: rows in K with 1 request on the connection"
tmux send-keys -t $S s
wait_pane $S 'sorted by seconds' 5 || sb_fail "s did not change the sort"

tmux send-keys -t $S t
wait_pane $S 'Top clients by slots held' 5 || sb_fail "clients view: no title"
grep -qE "^127\.0\.0\.1 +$((KA + SLOW)) +$SLOW +$KA +100%.*over half" "$work/pane" ||
    sb_fail "clients view: 127.0.0.1 does not hold the $((KA + SLOW)) slots, flagged"

tmux send-keys -t $S g
wait_pane $S 'Keep-alive gaps between requests' 5 || sb_fail "gaps view: no title"

tmux send-keys -t $S h
wait_pane $S 'sbtop keys' 5 || sb_fail "no help overlay"
# every binding of the key table (--help prints the same table)
sed -n '/^Keys:/,/^$/p' "$work/help" | sed '1d;/^$/d' | while IFS= read -r line; do
    label=$(echo "$line" | cut -c3-10 | sed 's/ *$//')
    text=$(echo "$line" | cut -c12- | cut -c1-40)
    grep -qF -- "$label" "$work/pane" && grep -qF -- "$text" "$work/pane" ||
        { echo "$label: $text" >"$work/help-missing"; break; }
done
[ ! -s "$work/help-missing" ] || sb_fail "help overlay lacks $(cat "$work/help-missing")"
tmux send-keys -t $S Escape
wait_pane_cmd $S 5 sh -c '! grep -q "sbtop keys" "$1"' sh || sb_fail "Esc did not close the help"
tmux send-keys -t $S d
wait_pane $S 'Capacity' 5 || sb_fail "d did not go back to the dashboard"

# resize: the screen is redrawn at the new size
tmux resize-window -t $S -x 160 -y 50
wide()
{
    [ "$(awk 'NR == 1 { print length($0) }' "$1")" -ge 150 ] &&
        [ "$(wc -l <"$1")" -ge 49 ] && sed -n '50p;49p' "$1" | grep -q '\[dashboard\]'
}
wait_pane_cmd $S 5 wide || sb_fail "not redrawn at 160x50"
grep -qE '^busy +\[.*\] 5/8 .*keep-alive +\[' "$work/pane" ||
    sb_fail "160 columns: the gauges are not side by side"

# the history must hold the load only: the agent ends before the restart
wait "$agent"
sb_assert_eq $? 0 "sbagent recording the history"

# graceful restart: a notice, and sbtop goes on
gen=$(sb_generation)
sb_httpd_graceful
wait_pane $S "restarted gracefully at [0-9:]+: generation $SB_GENERATION" 10 ||
    sb_fail "no restart notice"
wait_pane $S "gen $SB_GENERATION" 5 || sb_fail "header generation not updated from $gen"

# stop and start: "httpd stopped - retrying", then the new segment
sb_httpd_stop
wait_pane $S 'httpd stopped .{1,3} retrying' 10 || sb_fail "no 'httpd stopped' notice"
sb_httpd_start_again
wait_pane $S 'new scoreboard attached|answers again' 10 || sb_fail "sbtop did not reattach"
wait_pane $S 'gen 0' 5 || sb_fail "generation after the new start"

# q quits with status 0 and the shell's screen comes back
tmux send-keys -t $S q
wait_pane $S 'SBTOP_EXIT=0' 5 || sb_fail "q: sbtop did not exit with 0"
grep -q 'Capacity' "$work/pane" && sb_fail "q: sbtop's screen is still shown"
tmux send-keys -t $S 'echo alive' Enter
wait_pane $S '^alive$' 5 || sb_fail "the terminal does not echo after sbtop"

# ---------------------------------------------------------------- 80x24 mono

sb_client_start --keepalive $KA --hold 60
S=mono
start_session $S 80 24 LANG=C NO_COLOR=1
run_in $S "$SBTOP --scoreboard $SB_SCOREBOARD -d 0.5"
wait_pane $S 'Capacity' 10 || sb_fail "80x24: no dashboard"
wait_pane_cmd $S 10 sh -c 'grep -qE "^ +0  [_SRWKLDCGI.]*(K[_SRWKLDCGI.]*){3}" "$1"' sh ||
    sb_fail "80x24: the slot map does not show the 3 keep-alive slots"
sb_assert_eq "$(wc -l <"$work/pane")" 24 "80x24: lines"
sed -n '24p' "$work/pane" | grep -q '\[dashboard\]' || sb_fail "80x24: no footer on line 24"
grep -q 'source shm' "$work/pane" || sb_fail "80x24: header"
grep -q '█' "$work/pane" && sb_fail "80x24 C locale: block characters"
grep -qE '^busy +\[#+\.*\] ' "$work/pane" || sb_fail "80x24: ASCII bars"
pane $S -e >"$work/pane-e"
grep -qE $'\e\\[([0-9;]*;)?(3[0-7]|4[0-7]|38;5)[;m]' "$work/pane-e" &&
    sb_fail "NO_COLOR: colours on the screen"
grep -q $'\e\\[' "$work/pane-e" || sb_fail "monochrome: no attributes at all (reverse, bold)"
# SIGTERM: restored and exit status 0
pid=$(ps -o pid= --ppid "$(tmux list-panes -t $S -F '#{pane_pid}')" | tr -d ' ')
[ -n "$pid" ] || sb_fail "no sbtop process in the 80x24 session"
kill -TERM "$pid"
wait_pane $S 'SBTOP_EXIT=0' 5 || sb_fail "SIGTERM: sbtop did not exit with 0"
grep -q 'Capacity' "$work/pane" && sb_fail "SIGTERM: sbtop's screen is still shown"

# colours when allowed
S=color
start_session $S 100 30 LANG=C.UTF-8 TERM=screen-256color
run_in $S "$SBTOP --scoreboard $SB_SCOREBOARD"
wait_pane $S 'Capacity' 10 || sb_fail "colour run: no dashboard"
pane $S -e >"$work/pane-e"
grep -qE $'\e\\[([0-9;]*;)?(3[0-7]|4[0-7])[;m]' "$work/pane-e" || sb_fail "no colours"
tmux send-keys -t $S q
wait_pane $S 'SBTOP_EXIT=0' 5 || sb_fail "colour run: q"

# ---------------------------------------------------------------- replay

at=$((t_rec + 2))
"$SBTOP" -b -n 1 --history "$work/history.db" --at "$at" >"$work/replay" 2>&1 ||
    sb_fail "replay failed: $(cat "$work/replay")"
grep -q "REPLAY $(date -d "@$at" '+%Y-%m-%d %H:%M:%S') ($at)" "$work/replay" ||
    sb_fail "replay: header does not name the time"
grep -q 'No per-slot map in history' "$work/replay" || sb_fail "replay: map area"
grep -qE "^> $(date -d "@$at" +%H:%M:%S) +$((KA + SLOW)) +[0-9.]+ +$KA " "$work/replay" ||
    { cat "$work/replay" >&2; sb_fail "replay: the second's row is not busy $((KA + SLOW)), K $KA"; }
grep -qE "^busy +\[[#.]+\] $((KA + SLOW))/8 " "$work/replay" || sb_fail "replay: busy gauge"
# the same moment given as local time
"$SBTOP" -b -n 2 --history "$work/history.db" --at "$(date -d "@$at" '+%Y-%m-%d %H:%M:%S')" \
    >"$work/replay2" || sb_fail "replay with a local time failed"
sb_assert_eq "$(grep -c '^sbtop | REPLAY' "$work/replay2")" 2 "replay: 2 frames"
grep -q "($((at + 1)))" "$work/replay2" || sb_fail "replay: the second frame is not 1 s later"
"$SBTOP" -b --history "$work/history.db" --at "yesterday-ish" >/dev/null 2>&1
sb_assert_eq $? 2 "replay: a bad --at"

S=replay
start_session $S 100 30 LANG=C.UTF-8
run_in $S "$SBTOP --history $work/history.db --at $at"
wait_pane $S "REPLAY .*\($at\)" 5 || sb_fail "interactive replay"
tmux send-keys -t $S Right
wait_pane $S "REPLAY .*\($((at + 1))\)" 5 || sb_fail "Right: not one second on"
tmux send-keys -t $S PPage
wait_pane $S "REPLAY .*\($((at + 1 - 60))\)" 5 || sb_fail "PgUp: not one minute back"
tmux send-keys -t $S q
wait_pane $S 'SBTOP_EXIT=0' 5 || sb_fail "replay: q"

sb_pass
