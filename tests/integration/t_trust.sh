#!/bin/sh
# t_trust: the scoreboard is trusted only when it is httpd's (issue #11).
# Against a live prefork httpd, with one sbagent daemon running throughout:
#   1. kill -9 of httpd's parent and every child: the segment stays; the
#      agent records gaps ("httpd is not running"), `sbagent --once` exits 3;
#      a new httpd is attached again;
#   1b. httpd killed again and its parent's pid given to another process
#      at once: the agent notices by the parent's start time;
#   2. httpd stopped, then `nobody` creates the object for the
#      ScoreBoardFile path from a real segment's bytes with invented
#      figures (generation 4242), naming a live process of its own: refused
#      ("does not map"), and one naming a live root process: refused
#      (owner); gaps, never the invented figures;
#   3. the live segment truncated under the agent and sbtop: both survive
#      (no SIGBUS) and say "truncated".
# Must run as root (it forges as nobody and truncates root's object).
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "${top_srcdir:-$(dirname "$0")/../..}/tests/harness.sh"

SBAGENT=${SBAGENT:-$top_builddir/agent/sbagent}
SBTOP=${SBTOP:-$top_builddir/tui/sbtop}
PROBE=${SHM_WRITE_PROBE:-$top_builddir/tests/shm_write_probe}
for b in "$SBAGENT" "$SBTOP" "$PROBE"; do
    [ -x "$b" ] || sb_fail "$b not built"
done
[ "$(id -u)" = 0 ] || sb_fail "must run as root (it forges the object as nobody)"
command -v setpriv >/dev/null || sb_fail "setpriv not found: apt-get install util-linux"
work=$(mktemp -d "${TMPDIR:-/tmp}/sbtest-trust.XXXXXX") || sb_fail "mktemp -d"
chmod 755 "$work"
sb_at_exit rm -rf "$work"

sb_httpd_start trust mpm=prefork server_limit=4 max_workers=4 start_servers=2
out=$("$PROBE" "$SB_SCOREBOARD") || sb_fail "probe: $out"
obj=${out%%:*}
[ -f "$obj" ] || sb_fail "the scoreboard object $obj not found"
sb_at_exit rm -f "$obj"         # a forged or left-over object, if any
cp "$obj" "$work/real.bin" || sb_fail "cannot copy $obj"
sb_log "scoreboard object $obj ($(stat -c %s "$obj") bytes)"

# the agent's JSON stream: one line per second
sb_bg sh -c "exec \"$SBAGENT\" --scoreboard \"$SB_SCOREBOARD\" --json --log-level info \
    --duration 150 >\"$work/agent.json\" 2>\"$work/agent.err\""
agent=$SB_BG_PID

# wait_json JQ-FILTER SECONDS MSG: until some second of the stream matches
wait_json()
{
    local end=$(($(date +%s) + $2))
    until jq -s -e "$1" "$work/agent.json" >/dev/null 2>&1; do
        _sb_alive "$agent" || sb_fail "$3: the agent exited: $(tail -5 "$work/agent.err")"
        [ "$(date +%s)" -lt "$end" ] || sb_fail "$3 (within $2 s): $(tail -3 "$work/agent.err")"
        sleep 0.2
    done
}
# wait_err REGEX SECONDS MSG: until the agent logs a line matching REGEX
wait_err()
{
    local end=$(($(date +%s) + $2))
    until grep -Eq -- "$1" "$work/agent.err"; do
        _sb_alive "$agent" || sb_fail "$3: the agent exited: $(tail -5 "$work/agent.err")"
        [ "$(date +%s)" -lt "$end" ] || sb_fail "$3 (within $2 s): $(tail -3 "$work/agent.err")"
        sleep 0.1
    done
}
wait_json 'map(select(.gap == false and .busy_mean != null)) | length > 0' 10 \
    "the agent never sampled the live scoreboard"

# ---------------------------------------------------------------- 1. dead httpd
procs=$(_sb_dir_procs "$SB_HTTPD_DIR")
[ -n "$procs" ] || sb_fail "no httpd process found"
# shellcheck disable=SC2086
kill -KILL $procs
for p in $procs; do
    _sb_wait_gone "$p" "" 3000 || sb_fail "httpd process $p survived kill -9"
done
killed=$(date +%s)
[ -f "$obj" ] || sb_fail "the segment did not outlive httpd (it should: nothing removes it)"
"$SBAGENT" --once --scoreboard "$SB_SCOREBOARD" >/dev/null 2>"$work/once.err"
sb_assert_eq "$?" 3 "sbagent --once on the segment of a killed httpd"
sb_assert_match "$(cat "$work/once.err")" "httpd is not running" "--once says why"
wait_err "httpd is not running" 5 "the agent did not notice that httpd died"
# every second that began after the kill is a gap with no figures
wait_json "map(select(.ts >= $killed + 1)) | length >= 3" 10 "the agent stopped emitting seconds"
jq -s -e --argjson t "$killed" 'map(select(.ts >= $t + 1)) | all(.gap == true and .busy_mean == null)' \
    "$work/agent.json" >/dev/null ||
    sb_fail "the dead httpd's seconds carry figures: $(jq -s -c --argjson t "$killed" \
        'map(select(.ts >= $t + 1)) | map({ts, gap, busy_mean, idle_mean})' "$work/agent.json")"
sb_log "after kill -9: $(grep -m1 'httpd is not running' "$work/agent.err")"

# a new httpd: a new segment, attached again
sb_httpd_start_again
restarted=$(date +%s)
wait_json "map(select(.ts > $restarted and .gap == false and .busy_mean != null)) | length > 0" 10 \
    "the agent did not attach the new httpd's scoreboard"

# ---------------------------------------------------------------- 1b. pid reused
# httpd killed again (parent and children: a crash, the OOM killer) and
# the parent's pid given at once to another process (ns_last_pid: the
# next fork gets pid P): kill(P, 0) still
# succeeds, so only the parent's start time tells that this is not
# httpd.  The agent must stop taking the segment's figures within its
# start-time check (every 64th sample: 6.4 s at 10 Hz).
parent=$(cat "$SB_HTTPD_PIDFILE")
# the parent first, so that it forks no child after the list is made
kill -KILL "$parent"
dead_at=$(date +%s)
_sb_wait_gone "$parent" "" 3000 || sb_fail "httpd's parent $parent survived kill -9"
procs=$(_sb_dir_procs "$SB_HTTPD_DIR")
# shellcheck disable=SC2086
[ -z "$procs" ] || kill -KILL $procs
for p in $procs; do
    _sb_wait_gone "$p" "" 3000 || sb_fail "httpd process $p survived kill -9"
done
# the killed children are zombies until init reaps them, and they keep
# the pid taken (the parent's is their session and process group)
holders() { ps -eo pgid=,sid= | awk -v p="$parent" '$1 == p || $2 == p' | wc -l; }
end=$(($(date +%s) + 30))
while [ "$(holders)" -gt 0 ]; do
    [ "$(date +%s)" -lt "$end" ] ||
        sb_fail "pid $parent still names the session of: $(ps -eo pid,sid,stat,args |
            awk -v p="$parent" '$2 == p' | tr '\n' ';')"
    sleep 0.1
done
reused=
for try in $(seq 50); do
    echo $((parent - 1)) >/proc/sys/kernel/ns_last_pid 2>/dev/null || break
    sleep 120 &
    q=$!
    if [ "$q" = "$parent" ]; then
        reused=$q
        break
    fi
    # (KILL: the child may not have run sleep yet, and the harness's TERM
    # trap would tear the test down in it)
    kill -KILL "$q" 2>/dev/null
    wait "$q" 2>/dev/null
    [ -d "/proc/$parent" ] && break    # another process of the host took it
done
[ -n "$reused" ] || sb_fail "could not give pid $parent to another process (ns_last_pid)" \
    "$([ -d "/proc/$parent" ] && echo "; another process took it first: $(cat "/proc/$parent/comm")")" \
    "$(ps -eo pid,pgid,sid,stat,args | awk -v p="$parent" '$2 == p || $3 == p' | tr '\n' ';')"
sb_at_exit kill "$reused"
reused_at=$(date +%s)
sb_log "pid $parent now runs: $(tr '\0' ' ' <"/proc/$parent/cmdline")"
# from one start-time period (6.4 s at 10 Hz) after the pid was given to
# another process, every second is a gap: none takes the dead segment's
# figures because pid $parent answers again (until then the agent may
# still take the parent for alive: kill(pid, 0) succeeds on a zombie not
# yet reaped and on the new process alike; the old check never stopped)
from=$((reused_at + 7))
wait_json "map(select(.ts >= $from + 4)) | length >= 1" 20 \
    "the agent stopped emitting seconds after the pid was reused"
jq -s -e --argjson t "$from" 'map(select(.ts >= $t)) | all(.gap == true and .busy_mean == null)' \
    "$work/agent.json" >/dev/null ||
    sb_fail "the agent took the dead httpd's scoreboard for live once pid $parent was another" \
        "process's: $(jq -s -c --argjson t "$dead_at" \
        'map(select(.ts >= $t + 1)) | map({ts, gap, busy_mean})' "$work/agent.json")"
sb_log "pid $parent reused by sleep: every second from $from on is a gap;" \
    "$(grep "httpd is not running" "$work/agent.err" | tail -n 1)"
kill "$reused"
wait "$reused" 2>/dev/null
sb_httpd_start_again
restarted=$(date +%s)
wait_json "map(select(.ts > $restarted and .gap == false and .busy_mean != null)) | length > 0" 10 \
    "the agent did not attach the new httpd's scoreboard after the reused pid"

# ---------------------------------------------------------------- 2. forged objects
sb_httpd_stop
[ ! -e "$obj" ] || sb_fail "a stopped httpd left its object $obj"
stopped=$(date +%s)

# forge FILE PID: the real segment's bytes with PID in process slot 0 and
# generation 4242 (global_score: the generation is its fourth int; APR's
# size header is 8 bytes, the global record 56)
le32()
{
    printf "\\$(printf %03o $(($1 & 255)))\\$(printf %03o $((($1 >> 8) & 255)))"
    printf "\\$(printf %03o $((($1 >> 16) & 255)))\\$(printf %03o $((($1 >> 24) & 255)))"
}
forge()
{
    cp "$work/real.bin" "$1" && chmod 644 "$1" &&
        le32 "$2" | dd of="$1" bs=1 seek=64 conv=notrunc status=none &&
        le32 4242 | dd of="$1" bs=1 seek=20 conv=notrunc status=none ||
        sb_fail "cannot forge $1"
}
as_nobody()
{
    setpriv --reuid=nobody --regid="$(id -g nobody)" --clear-groups -- "$@"
}

# nobody names a process of its own (its parent, a shell of nobody's, owns
# the object but maps nothing)
sb_bg setpriv --reuid=nobody --regid="$(id -g nobody)" --clear-groups -- sh -c 'sleep 120 & wait'
nsh=$SB_BG_PID
end=$(($(date +%s) + 5))
until nsleep=$(ps -o pid= --ppid "$nsh" | tr -d ' ') && [ -n "$nsleep" ]; do
    [ "$(date +%s)" -lt "$end" ] || sb_fail "nobody's sleep did not start"
    sleep 0.05
done
forge "$work/forged1.bin" "$nsleep"
as_nobody sh -c "cat '$work/forged1.bin' >'$obj'" || sb_fail "nobody could not create $obj"
sb_assert_eq "$(stat -c %U "$obj")" nobody "the forged object's owner"
"$SBAGENT" --once --scoreboard "$SB_SCOREBOARD" >/dev/null 2>"$work/once.err"
sb_assert_eq "$?" 3 "sbagent --once on an object nobody forged (its own process)"
sb_assert_match "$(cat "$work/once.err")" "does not map the scoreboard object.*not trusted" \
    "--once names the rule (own process)"
wait_err "does not map the scoreboard object" 5 "the agent did not refuse the forged object"
rm -f "$obj"

# nobody names a live root process (this test's sleep: its parent, the
# test's shell, runs as root; the object is nobody's)
sb_bg sleep 120
rsleep=$SB_BG_PID
forge "$work/forged2.bin" "$rsleep"
as_nobody sh -c "cat '$work/forged2.bin' >'$obj'" || sb_fail "nobody could not create $obj"
"$SBAGENT" --once --scoreboard "$SB_SCOREBOARD" >/dev/null 2>"$work/once.err"
sb_assert_eq "$?" 3 "sbagent --once on an object nobody forged (a root process)"
sb_assert_match "$(cat "$work/once.err")" "belongs to uid $(id -u nobody), neither root nor the user" \
    "--once names the rule (owner)"
wait_err "belongs to uid $(id -u nobody)" 5 "the agent did not refuse the second forged object"
# the forged object stays while the agent closes three seconds
wait_json "map(select(.ts > $stopped)) | length >= 3" 10 "the agent stopped emitting seconds"
forged_end=$(date +%s)
rm -f "$obj"
sb_bg_stop "$nsh"
sb_bg_stop "$rsleep"
# nothing of the forgeries reached the stream: the seconds between the
# stop and now are gaps, and no second shows generation 4242's figures
jq -s -e --argjson a "$stopped" --argjson b "$forged_end" \
    'map(select(.ts > $a and .ts < $b)) | length >= 2 and all(.gap == true and .busy_mean == null)' \
    "$work/agent.json" >/dev/null ||
    sb_fail "forged seconds carry figures: $(jq -s -c --argjson a "$stopped" \
        'map(select(.ts > $a)) | map({ts, gap, busy_mean})' "$work/agent.json")"
grep -q "4242" "$work/agent.json" && sb_fail "the forged generation 4242 reached the agent's output"

# ---------------------------------------------------------------- 3. truncated under us
sb_httpd_start_again
restarted=$(date +%s)
wait_json "map(select(.ts > $restarted and .gap == false and .busy_mean != null)) | length > 0" 10 \
    "the agent did not attach the restarted httpd's scoreboard"
sb_bg sh -c "exec \"$SBTOP\" -b -n 20 -d 0.5 --scoreboard \"$SB_SCOREBOARD\" --width 120 \
    >\"$work/top\" 2>&1"
top=$SB_BG_PID
sb_wait_file "$work/top" 5 "$top" || sb_fail "sbtop -b did not start"
until grep -q "^Capacity" "$work/top"; do
    _sb_alive "$top" || sb_fail "sbtop exited before its first frame: $(cat "$work/top")"
    sleep 0.1
done
# root truncates httpd's own object (httpd's processes may die of it)
truncate -s 64 "$obj" || sb_fail "cannot truncate $obj"
wait_err "truncated" 5 "the agent did not report the truncated object"
wait "$top"
rc=$?
[ "$rc" -lt 128 ] || sb_fail "sbtop died of signal $((rc - 128)) on a truncated scoreboard"
grep -q "truncated" "$work/top" || sb_fail "sbtop did not say the scoreboard was truncated: $(tail -3 "$work/top")"
_sb_alive "$agent" || sb_fail "the agent died on a truncated scoreboard: $(tail -3 "$work/agent.err")"
sb_log "truncated: $(grep -m1 truncated "$work/agent.err")"
sb_bg_stop "$agent"
sb_pass
