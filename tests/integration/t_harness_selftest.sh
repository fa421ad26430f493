#!/bin/sh
# t_harness_selftest: proves tests/harness.sh and tests/sbtest_client against
# a real httpd under each MPM: the client's workload shows in the
# scoreboard, graceful and full restarts bump ParentServerMPMGeneration, stop
# leaves nothing behind, and a test killed by a signal still tears its httpd
# down. Also checks the assertion helpers and the missing-apache2 failure.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "${top_srcdir:-$(dirname "$0")/../..}/tests/harness.sh"

[ -x "$SBTEST_CLIENT" ] ||
    sb_fail "test client $SBTEST_CLIENT not built (make check builds it; or set SBTEST_CLIENT)"
command -v jq >/dev/null || sb_fail "jq not found: apt-get install jq"

work=$(mktemp -d "${TMPDIR:-/tmp}/sbtest-selftest.XXXXXX") || sb_fail "mktemp -d"
sb_at_exit rm -rf "$work"

# ---------------------------------------------------------------- helpers
# Failing assertions print expected/actual and exit 1; no httpd needed.
cat >"$work/t_assert.sh" <<'EOF'
. "$top_srcdir/tests/harness.sh"
case $1 in
    eq) sb_assert_eq 1 2 "answer" ;;
    ge) sb_assert_ge 3 5 "slots" ;;
    le) sb_assert_le 7 5 "slots" ;;
    match) sb_assert_match "abc" '^x' "name" ;;
    json) echo '{"a": 1}' >"$2"; sb_assert_json "$2" '.a == 2' "a" ;;
    ok)
        sb_assert_eq 1 1; sb_assert_ge 5 5; sb_assert_le 5 5
        sb_assert_match "Scoreboard: __W" '^Scoreboard: [_W]+$'
        echo '{"a": 1}' >"$2"; sb_assert_json "$2" '.a == 1'
        [ "$(sb_json "$2" .a)" = 1 ] || sb_fail "sb_json"
        sb_pass ;;
    noapache) sb_httpd_start never ;;
esac
sb_fail "not reached"
EOF
for c in eq:"expected '2', actual '1'" ge:"expected >= 5, actual 3" \
    le:"expected <= 5, actual 7" match:"expected a match for /\\^x/" \
    json:"'.a == 2' does not hold"; do
    out=$(bash "$work/t_assert.sh" "${c%%:*}" "$work/j.json" 2>&1)
    rc=$?
    sb_assert_eq "$rc" 1 "exit status of a failing sb_assert_${c%%:*}"
    sb_assert_match "$out" "FAIL: t_assert: .*${c#*:}" "message of sb_assert_${c%%:*}"
done
out=$(bash "$work/t_assert.sh" ok "$work/j.json" 2>&1) ||
    sb_fail "passing assertions failed: $out"
sb_assert_match "$out" '^PASS: t_assert$' "sb_pass output"
out=$(APACHE2=/nonexistent/apache2 bash "$work/t_assert.sh" noapache 2>&1)
rc=$?
sb_assert_eq "$rc" 1 "exit status without apache2 (a failure, not a skip)"
sb_assert_match "$out" "apache2 not found: apt-get install apache2" "missing apache2 message"

# ---------------------------------------------------------------- each MPM
for mpm in prefork worker event; do
    sb_httpd_start "self-$mpm" mpm=$mpm
    sb_assert_eq "$(sb_status_field ServerMPM)" "$mpm" "ServerMPM"
    # ?auto lists process slots up to the highest one used, not ServerLimit.
    sb_assert_ge "${#SB_SB_LINE}" "$SB_HTTPD_READY_SLOTS" "$mpm: scoreboard length"
    sb_assert_le "${#SB_SB_LINE}" $((SB_HTTPD_SERVER_LIMIT * SB_HTTPD_THREAD_LIMIT)) \
        "$mpm: scoreboard length"
    sb_assert_match "$SB_SCOREBOARD" "^$SB_HTTPD_DIR/scoreboard\$" "SB_SCOREBOARD"
    sb_assert_match "$SB_HTTPD_URL" '^http://127\.0\.0\.1:[0-9]+$' "SB_HTTPD_URL"
    code=$(curl -s -o "$work/index" -w '%{http_code}' --max-time 5 "$SB_HTTPD_URL/")
    sb_assert_eq "$code" 200 "$mpm: GET /"
    sb_assert_ge "$(wc -c <"$work/index")" 200 "$mpm: size of index.html"
    out=$(curl -s --max-time 5 "$SB_HTTPD_URL/cgi-bin/sleep.cgi?0")
    sb_assert_eq "$out" "slept 0 s" "$mpm: sleep.cgi"

    sb_client_start --keepalive 3 --slow 2 --slow-path '/cgi-bin/sleep.cgi?20' --hold 30
    # W: the 2 slow requests + this status request. K: the 3 idle
    # keep-alive connections, except under event, where they hold no slot.
    if [ "$mpm" = event ]; then
        pred='[ "$(sb_count_slots W)" -eq 3 ]'
        want="3 W"
    else
        pred='[ "$(sb_count_slots W)" -eq 3 ] && [ "$(sb_count_slots K)" -eq 3 ]'
        want="3 W and 3 K"
    fi
    sb_wait_status "$pred" 10 || sb_fail "$mpm: client workload not visible as $want"
    sb_log "$mpm under load: $SB_SB_LINE"
    sb_assert_ge "$(sb_count_slots W)" 2 "$mpm: W slots"
    conns=$(ss -Htn state established "( dport = :$SB_HTTPD_PORT )" | wc -l)
    sb_assert_ge "$conns" 5 "$mpm: established client connections (ss)"

    gen=$(sb_generation)
    sb_assert_match "$gen" '^[0-9]+$' "$mpm: ParentServerMPMGeneration"
    # Worker under held connections may start no new process until they end
    # (see sb_httpd_graceful), so its graceful comes after the release.
    if [ "$mpm" != worker ]; then
        t0=$(_sb_now_ms)
        sb_httpd_graceful
        sb_log "$mpm: graceful under load: generation $gen -> $SB_GENERATION in $(($(_sb_now_ms) - t0)) ms: $SB_SB_LINE"
        sb_assert_eq "$SB_GENERATION" $((gen + 1)) "$mpm: generation after graceful"
    fi

    # Release the workload: a full restart of a threaded MPM waits (up to
    # 9 s, then SIGKILL) for threads blocked on a CGI.
    sb_bg_stop "$SB_CLIENT_PID"
    sb_kill_cgis
    sb_wait_status '[ "$(sb_count_slots RWKDCLGI)" -le 1 ]' 15 ||
        sb_fail "$mpm: slots not released after the client and CGIs ended"

    if [ "$mpm" = worker ]; then
        t0=$(_sb_now_ms)
        sb_httpd_graceful
        sb_log "$mpm: graceful: generation $gen -> $SB_GENERATION in $(($(_sb_now_ms) - t0)) ms: $SB_SB_LINE"
        sb_assert_eq "$SB_GENERATION" $((gen + 1)) "$mpm: generation after graceful"
    fi
    t0=$(_sb_now_ms)
    sb_httpd_restart
    sb_log "$mpm: restart: generation $SB_GENERATION in $(($(_sb_now_ms) - t0)) ms: $SB_SB_LINE"
    sb_assert_eq "$SB_GENERATION" $((gen + 2)) "$mpm: generation after restart"

    pid=$(cat "$SB_HTTPD_PIDFILE")
    sb_httpd_stop
    [ ! -d "/proc/$pid" ] || sb_fail "$mpm: httpd pid $pid still exists after sb_httpd_stop"

    # stop and start: same dir, port and ScoreBoardFile, generation 0 again
    port=$SB_HTTPD_PORT
    sb_httpd_start_again
    sb_assert_eq "$SB_HTTPD_PORT" "$port" "$mpm: port after sb_httpd_start_again"
    sb_assert_eq "$(sb_generation)" 0 "$mpm: generation after stop and start"
    pid=$(sb_httpd_pid)
    sb_httpd_stop
    [ ! -d "/proc/$pid" ] || sb_fail "$mpm: httpd pid $pid still exists after the second stop"
done

# ---------------------------------------------------------------- signals
# A test killed mid-way (TERM or HUP: its trap; KILL: the harness's reaper)
# must stop its httpd, its CGIs and its helpers and remove its temp dir.
cat >"$work/t_killed.sh" <<'EOF'
. "$top_srcdir/tests/harness.sh"
sb_httpd_start killed "mpm=$1"
sb_client_start --keepalive 2 --slow 2 --slow-path '/cgi-bin/sleep.cgi?20' --hold 60
sb_wait_status '[ "$(sb_count_slots W)" -ge 3 ]' 10 || sb_fail "no slow requests"
sb_bg sleep 60
printf '%s %s %s %s\n' "$SB_HTTPD_DIR" "$(cat "$SB_HTTPD_PIDFILE")" \
    "$SB_CLIENT_PID" "$SB_BG_PID" >"$2.tmp"
mv "$2.tmp" "$2"
wait "$SB_BG_PID"
sb_fail "not killed"
EOF
for case in worker:TERM:143 prefork:HUP:129 event:TERM:143 prefork:KILL:137; do
    IFS=: read -r mpm sig status <<<"$case"
    state=$work/state-$mpm-$sig
    sb_bg bash "$work/t_killed.sh" "$mpm" "$state"
    sub=$SB_BG_PID
    sb_wait_file "$state" 20 "$sub" || sb_fail "killed-test ($mpm) did not get ready"
    read -r dir hpid cpid spid <"$state"
    sb_at_exit _sb_httpd_stop_dir "$dir"
    sb_at_exit rm -rf "$dir"
    kids=$(_sb_dir_procs "$dir" | wc -l)
    sb_assert_ge "$kids" 3 "$mpm: processes of the killed test's httpd before the kill"
    for p in "$hpid" "$cpid" "$spid"; do
        [ -d "/proc/$p" ] || sb_fail "$mpm: pid $p not running before the kill"
    done
    t0=$(_sb_now_ms)
    kill -"$sig" "$sub"
    { wait "$sub"; } 2>/dev/null
    rc=$?
    sb_assert_eq "$rc" "$status" "$mpm: exit status of the test killed by SIG$sig"
    # TERM/HUP: all done when the test exits. KILL: the reaper polls each
    # second, then stops httpd.
    end=$(($(_sb_now_ms) + 15000))
    while [ -d "/proc/$hpid" ] || [ -d "/proc/$cpid" ] || [ -d "/proc/$spid" ] ||
        [ -e "$dir" ] || [ -n "$(_sb_dir_procs "$dir")" ]; do
        [ "$sig" = KILL ] && [ "$(_sb_now_ms)" -lt "$end" ] || break
        sleep 0.1
    done
    sb_log "$mpm: SIG$sig: teardown done $(($(_sb_now_ms) - t0)) ms after the kill"
    [ ! -d "/proc/$hpid" ] || sb_fail "$mpm: httpd pid $hpid survives SIG$sig of its test"
    [ ! -d "/proc/$cpid" ] || sb_fail "$mpm: client pid $cpid survives SIG$sig of its test"
    [ ! -d "/proc/$spid" ] || sb_fail "$mpm: helper pid $spid survives SIG$sig of its test"
    left=$(_sb_dir_procs "$dir")
    [ -z "$left" ] || sb_fail "$mpm: processes of $dir survive SIG$sig: $left"
    [ ! -e "$dir" ] || sb_fail "$mpm: temp dir $dir survives SIG$sig"
done

sb_pass
