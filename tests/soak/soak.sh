#!/bin/sh
# soak.sh - the reliability soak of issue #11 (make check-soak; not part of
# make check: it takes several minutes).  Against one private httpd
# (SOAK_MPM, default event) under a light load from tests/loadgen, with
# one sbagent daemon (history + JSON stream) and one sbtop -b running
# throughout:
#   SOAK_GRACEFUL (100) graceful restarts, SOAK_RESTART (50) full
#   restarts, SOAK_STOPSTART (20) stops and starts, SOAK_KILL (10) kill -9
#   of httpd's parent and every child followed by a start;
# then SOAK_AGENT_KILL (20) kill -9 of an agent while it writes its
# history (each at a random point within a flush period), each followed
# by a new agent on the same file.
# Asserts: the agent and sbtop survive the httpd part and reattach after
# every stop and kill (an "attached its new scoreboard" per start); no
# second whose whole span httpd was down carries figures (gap, no
# busy_mean) in the stream or the history; every agent after a kill opens
# the history and writes to it; PRAGMA integrity_check is ok; figures
# printed at the end.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "${top_srcdir:-$(dirname "$0")/../..}/tests/harness.sh"

SBAGENT=${SBAGENT:-$top_builddir/agent/sbagent}
SBTOP=${SBTOP:-$top_builddir/tui/sbtop}
LOADGEN=${LOADGEN:-$top_builddir/tests/loadgen}
for b in "$SBAGENT" "$SBTOP" "$LOADGEN"; do
    [ -x "$b" ] || sb_fail "$b not built"
done
command -v sqlite3 >/dev/null || sb_fail "sqlite3 not found: apt-get install sqlite3"
N_GRACEFUL=${SOAK_GRACEFUL:-100}
N_RESTART=${SOAK_RESTART:-50}
N_STOPSTART=${SOAK_STOPSTART:-20}
N_KILL=${SOAK_KILL:-10}
N_AGENT_KILL=${SOAK_AGENT_KILL:-20}
work=$(mktemp -d "${TMPDIR:-/tmp}/sbtest-soak.XXXXXX") || sb_fail "mktemp -d"
chmod 755 "$work"
[ -n "${KEEP:-}" ] || sb_at_exit rm -rf "$work"
hist=$work/history.db
t_start=$(date +%s)

# a light load, well within the slots (the soak is about restarts, not
# overload: a saturated httpd would not answer the harness's status checks)
case ${SOAK_MPM:-event} in
    prefork) sb_httpd_start soak mpm=prefork server_limit=32 max_workers=32 start_servers=8 \
        max_spare=16 keepalive_timeout=1 ;;
    *) sb_httpd_start soak mpm="${SOAK_MPM:-event}" keepalive_timeout=1 ;;
esac
sb_bg "$LOADGEN" --url "$SB_HTTPD_URL/" --rate 10 --requests 3 --gap 0.1 --duration 1800 \
    --timeout 5 --seed 11 --json-out "$work/loadgen.json"
load=$SB_BG_PID
sb_bg sh -c "exec \"$SBAGENT\" --scoreboard \"$SB_SCOREBOARD\" --history \"$hist\" --json \
    --log-level info >\"$work/agent.json\" 2>\"$work/agent.err\""
agent=$SB_BG_PID
sb_bg sh -c "exec \"$SBTOP\" -b -n 1000000 -d 1 --scoreboard \"$SB_SCOREBOARD\" --width 120 \
    >\"$work/top.out\" 2>&1"
top=$SB_BG_PID
sb_wait_file "$work/agent.json" 10 "$agent" || sb_fail "the agent wrote nothing"

alive()
{
    _sb_alive "$agent" || sb_fail "$1: the agent died: $(tail -5 "$work/agent.err")"
    _sb_alive "$top" || sb_fail "$1: sbtop died: $(tail -5 "$work/top.out")"
}
# wait_line FILE REGEX COUNT SECONDS MSG: until FILE has COUNT matching lines
wait_count()
{
    local end=$(($(date +%s) + $4))
    until [ "$(grep -Ec -- "$2" "$1")" -ge "$3" ]; do
        alive "$5"
        [ "$(date +%s)" -lt "$end" ] || sb_fail "$5 (within $4 s; $(grep -Ec -- "$2" "$1") of $3)"
        sleep 0.1
    done
}

# ---------------------------------------------------------------- graceful restarts
t0=$(date +%s)
for i in $(seq "$N_GRACEFUL"); do
    g=$(sb_generation)
    sb_httpd_graceful
    sb_wait_generation_change "$g" 10 || sb_fail "graceful $i did not take"
    alive "graceful $i"
done
t_graceful=$(($(date +%s) - t0))
sb_log "$N_GRACEFUL graceful restarts in $t_graceful s"

# ---------------------------------------------------------------- full restarts
t0=$(date +%s)
for i in $(seq "$N_RESTART"); do
    g=$(sb_generation)
    sb_httpd_restart
    sb_wait_generation_change "$g" 10 || sb_fail "restart $i did not take"
    sb_wait_ready 10 || sb_fail "restart $i: slots not ready"
    alive "restart $i"
done
t_restart=$(($(date +%s) - t0))
sb_log "$N_RESTART full restarts in $t_restart s"

# ---------------------------------------------------------------- down periods
: >"$work/down"          # one "from to" line per period httpd was down
attach0=$(grep -c "attached its new scoreboard" "$work/agent.err")
t0=$(date +%s)
for i in $(seq "$N_STOPSTART"); do
    sb_httpd_stop
    a=$(date +%s.%N)        # every process of httpd is gone
    sleep 2.2               # two whole seconds down, at least one
    b=$(date +%s.%N)
    sb_httpd_start_again
    echo "$a $b" >>"$work/down"
    wait_count "$work/agent.err" "attached its new scoreboard" $((attach0 + i)) 10 \
        "stop and start $i: the agent did not reattach"
done
t_stopstart=$(($(date +%s) - t0))
sb_log "$N_STOPSTART stops and starts in $t_stopstart s"
t0=$(date +%s)
for i in $(seq "$N_KILL"); do
    procs=$(_sb_dir_procs "$SB_HTTPD_DIR")
    # shellcheck disable=SC2086
    kill -KILL $procs 2>/dev/null
    for p in $procs; do
        _sb_wait_gone "$p" "" 3000 || sb_fail "kill $i: httpd process $p survived kill -9"
    done
    a=$(date +%s.%N)
    sleep 2.2
    b=$(date +%s.%N)
    sb_httpd_start_again
    echo "$a $b" >>"$work/down"
    wait_count "$work/agent.err" "attached its new scoreboard" \
        $((attach0 + N_STOPSTART + i)) 10 "kill -9 $i: the agent did not reattach"
done
t_kill=$(($(date +%s) - t0))
sb_log "$N_KILL kill -9 of httpd in $t_kill s"
alive "after the httpd part"
rss=$(awk '/^VmRSS:/ {print $2}' "/proc/$agent/status")
top_rss=$(awk '/^VmRSS:/ {print $2}' "/proc/$top/status")
sb_bg_stop "$agent"
sb_bg_stop "$top"

# no second that lies wholly inside a down period carries figures
bad=0
total_down=0
while read -r a b; do
    from=$(awk -v a="$a" 'BEGIN { printf "%d", a + 1 }')   # first whole second
    to=$(awk -v b="$b" 'BEGIN { printf "%d", b }')          # the second httpd came back in
    [ "$to" -gt "$from" ] || continue
    total_down=$((total_down + to - from))
    n=$(jq -s --argjson f "$from" --argjson t "$to" \
        'map(select(.ts >= $f and .ts < $t and (.gap == false or .busy_mean != null))) | length' \
        "$work/agent.json")
    h=$(sqlite3 -batch "file:$hist?mode=ro" \
        "select count(*) from second where ts >= $from and ts < $to and (gap = 0 or busy_mean is not null)")
    g=$(jq -s --argjson f "$from" --argjson t "$to" \
        'map(select(.ts >= $f and .ts < $t and .gap == true)) | length' "$work/agent.json")
    [ "$g" = $((to - from)) ] || {
        sb_log "down $from..$to: $g gap seconds in the stream, $((to - from)) expected"
        bad=$((bad + 1))
    }
    if [ "$n" != 0 ] || [ "$h" != 0 ]; then
        sb_log "down $from..$to: $n stream seconds and $h history seconds with figures"
        bad=$((bad + 1))
    fi
done <"$work/down"
sb_assert_eq "$bad" 0 "down periods with figures or without their gap seconds"
sb_assert_ge "$total_down" "$((N_STOPSTART + N_KILL))" "whole seconds httpd was down"
gaps=$(sqlite3 -batch "file:$hist?mode=ro" "select count(*) from second where gap = 1")
sb_log "down periods: $(wc -l <"$work/down"), $total_down whole seconds; gap seconds in the history: $gaps"

# ---------------------------------------------------------------- kill -9 of the agent while it writes
t0=$(date +%s)
before=$(sqlite3 -batch "file:$hist?mode=ro" "select count(*) from second")
for i in $(seq "$N_AGENT_KILL"); do
    sb_bg sh -c "exec \"$SBAGENT\" --scoreboard \"$SB_SCOREBOARD\" --history \"$hist\" \
        --log-level info 2>\"$work/agent$i.err\""
    ak=$SB_BG_PID
    n0=$(sqlite3 -batch "file:$hist?mode=ro" "select count(*) from second")
    end=$(($(date +%s) + 15))
    # it writes (a flush), then dies at a random point of the next one
    until [ "$(sqlite3 -batch "file:$hist?mode=ro" "select count(*) from second" 2>/dev/null)" \
            -gt "$n0" ] 2>/dev/null; do
        _sb_alive "$ak" || sb_fail "agent $i exited: $(cat "$work/agent$i.err")"
        [ "$(date +%s)" -lt "$end" ] || sb_fail "agent $i never wrote its history: $(cat "$work/agent$i.err")"
        sleep 0.1
    done
    sleep "0.$((RANDOM % 10))$((RANDOM % 10))"
    kill -KILL "$ak"
    wait "$ak" 2>/dev/null
    ok=$(sqlite3 -batch "file:$hist?mode=ro" "PRAGMA quick_check" 2>&1)
    [ "$ok" = ok ] || sb_fail "after kill -9 of agent $i: quick_check says $ok"
done
t_agent=$(($(date +%s) - t0))
after=$(sqlite3 -batch "file:$hist?mode=ro" "select count(*) from second")
sb_log "$N_AGENT_KILL kill -9 of the agent in $t_agent s: seconds $before -> $after"
sb_bg_stop "$load"

integrity=$(sqlite3 -batch "$hist" "PRAGMA integrity_check")
sb_assert_eq "$integrity" ok "PRAGMA integrity_check"
events=$(sqlite3 -batch "file:$hist?mode=ro" "select kind || ' ' || count(*) from events group by kind" | tr '\n' ',')
sb_log "history events: $events"
sb_log "figures: graceful $N_GRACEFUL (${t_graceful}s), restart $N_RESTART (${t_restart}s), stop+start $N_STOPSTART (${t_stopstart}s), kill -9 httpd $N_KILL (${t_kill}s), kill -9 agent $N_AGENT_KILL (${t_agent}s); agent RSS at the end of the httpd part ${rss} KiB, sbtop ${top_rss} KiB; history $(stat -c %s "$hist") bytes, integrity ok; total $(($(date +%s) - t_start)) s"
sb_pass
