#!/bin/sh
# t_sighup: SIGHUP applies every key that can change while sbagent runs.
# The agent watches a prefork httpd (scoreboard, metrics endpoint, history
# file from its YAML file); the file is rewritten to name a second, worker
# httpd's scoreboard, another endpoint and another history file, and a
# key that needs a restart (user); after SIGHUP the agent follows the new
# httpd, serves on the new address only, writes the new history, and logs
# each change and the key it cannot apply.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "${top_srcdir:-$(dirname "$0")/../..}/tests/harness.sh"

SBAGENT=${SBAGENT:-$top_builddir/agent/sbagent}
work=$(mktemp -d "${TMPDIR:-/tmp}/sbtest-hup.XXXXXX") || sb_fail "mktemp -d"
sb_at_exit rm -rf "$work"

free_port() { _sb_pick_port || sb_fail "no free port"; }

sb_httpd_start hupa mpm=prefork
dir_a=$SB_HTTPD_DIR sb_a=$SB_SCOREBOARD
sb_httpd_start hupb mpm=worker
sb_b=$SB_SCOREBOARD pid_b=$(sb_httpd_pid)
p1=$(free_port) p2=$(free_port)

conf() { printf 'scoreboard: %s\nlisten: 127.0.0.1:%s\nhistory: %s\nlog_level: info\n%s' \
    "$1" "$2" "$3" "${4:-}" >"$work/sbtune.yaml"; }
conf "$sb_a" "$p1" "$work/h1.db"

# wait_metric PORT ERE SECONDS: until the endpoint serves a line matching ERE
wait_metric()
{
    local end=$(($(date +%s) + $3))
    while [ "$(date +%s)" -lt "$end" ]; do
        curl -s -m 1 "http://127.0.0.1:$1/metrics" 2>/dev/null | grep -Eq -- "$2" && return 0
        sleep 0.2
    done
    return 1
}

sb_bg sh -c "exec \"$SBAGENT\" --config \"$work/sbtune.yaml\" --json >\"$work/agent.json\" 2>\"$work/agent.err\""
agent=$SB_BG_PID
wait_metric "$p1" '^sbtune_httpd_info\{.*mpm="prefork"\} 1$' 10 ||
    sb_fail "no prefork metrics on :$p1: $(cat "$work/agent.err")"

conf "$sb_b" "$p2" "$work/h2.db" "user: nobody
"
kill -HUP "$agent"
wait_metric "$p2" '^sbtune_httpd_info\{.*mpm="worker"\} 1$' 10 ||
    sb_fail "the agent did not follow the new scoreboard to :$p2: $(cat "$work/agent.err")"
curl -s -m 1 "http://127.0.0.1:$p1/metrics" >/dev/null && sb_fail "the old endpoint :$p1 still answers"
grep -qF "SIGHUP: scoreboard: $sb_a -> $sb_b" "$work/agent.err" || sb_fail "scoreboard change not logged"
grep -qF "SIGHUP: listen: 127.0.0.1:$p1 -> 127.0.0.1:$p2" "$work/agent.err" || sb_fail "listen change not logged"
grep -qF "SIGHUP: user:  -> nobody (takes effect when sbagent is started again)" "$work/agent.err" ||
    sb_fail "the restart-only key is not named: $(grep SIGHUP "$work/agent.err")"
# only keys that changed are named (an unset number is not a change)
sb_assert_eq "$(grep -c '^.*SIGHUP: [a-z_]*: ' "$work/agent.err")" 4 \
    "keys named at SIGHUP (scoreboard, listen, history, user): $(grep SIGHUP "$work/agent.err")"
grep -q "httpd's parent process is $pid_b" "$work/agent.err" || sb_fail "the new httpd's parent is not found"
# the new history fills, the old one was closed with a stop event
end=$(($(date +%s) + 10))
until [ "$(sqlite3 "$work/h2.db" 'select count(*) from second' 2>/dev/null || echo 0)" -ge 2 ]; do
    [ "$(date +%s)" -lt "$end" ] || sb_fail "no seconds in the new history"
    sleep 0.2
done
sb_assert_match "$(sqlite3 "$work/h1.db" "select detail from events order by id desc limit 1")" \
    "history moved by SIGHUP" "the old history's last event"
# the agent still runs as root: user is not applied by a reload
sb_assert_eq "$(awk '/^Uid:/ { print $2 }' "/proc/$agent/status")" 0 "the agent's uid after SIGHUP"
kill -TERM "$agent"
wait "$agent" || sb_fail "agent exit status $? on SIGTERM"
sb_pass
