#!/bin/sh
# t_sbtune_journal: an apply survives every interruption (issue #11), on a
# real prefork httpd whose configuration includes the snippet's directory
# with a bare glob (IncludeOptional DIR/*: sbtune's lock, journal and
# backup beside the snippet must never be read as configuration).
#   - kill -9 of sbtune at each step that runs apachectl (an apachectl
#     wrapper kills it): the include check (a placeholder is on disk), the
#     configtest (the new snippet is on disk, httpd runs the old one), just
#     before the graceful, just after it (httpd runs the new one,
#     unverified).  Each time a second run finds the journal, finds out
#     what httpd runs, completes or rolls back, records that in the
#     history, and then does its own work; in the end the snippet and httpd
#     agree;
#   - a graceful that reloads httpd and then exits 1: the run re-reads the
#     generation, says httpd reloaded, and rolls back by reloading the
#     previous snippet;
#   - SIGTERM during the configtest: the run rolls back before it exits;
#   - unsafe paths: a symlink on the way, a directory others can write
#     above the snippet's; a --lock that is not sbtune's: refused, untouched.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "${top_srcdir:-$(dirname "$0")/../..}/tests/harness.sh"

SBTUNE=${SBTUNE:-$top_builddir/tuner/sbtune}
[ -x "$SBTUNE" ] || sb_fail "$SBTUNE not built"
command -v sqlite3 >/dev/null || sb_fail "sqlite3 not found: apt-get install sqlite3"
work=$(mktemp -d "${TMPDIR:-/tmp}/sbtest-journal.XXXXXX") || sb_fail "mktemp -d"
chmod 755 "$work"
[ -n "${KEEP:-}" ] || sb_at_exit rm -rf "$work"
snipdir=$work/snippets
mkdir -m 755 "$snipdir"
snip=$snipdir/mpm.conf
journal=$snipdir/.mpm.conf.sbtune-journal
hist=$work/history.db

sb_httpd_start journal mpm=prefork server_limit=16 max_workers=8 include="$snipdir/*"

# the apachectl wrapper: KILL_AT=includes|configtest|graceful-before|
# graceful-after kills the sbtune run whose pid is in $PIDF at that step;
# FAIL_GRACEFUL=1 runs the graceful and exits 1; SLOW_CONFIGTEST=1 makes
# the configtest take 3 s
cat >"$work/ctl" <<EOF
#!/bin/sh
case " \$* " in
    *" DUMP_INCLUDES "*) act=includes ;;
    *" DUMP_RUN_CFG "*|*" -V "*|*" -v "*) act=other ;;
    *" -k graceful "*) act=graceful ;;
    *" -t "*) act=configtest ;;
    *) act=other ;;
esac
if [ "\$act" = "\${KILL_AT:-}" ] || [ "\$act-before" = "\${KILL_AT:-}" ]; then
    kill -KILL "\$(cat "\$PIDF")"
    exit 1
fi
if [ "\$act-after" = "\${KILL_AT:-}" ]; then
    "$SB_APACHE2" "\$@"
    kill -KILL "\$(cat "\$PIDF")"
    exit 0
fi
if [ "\$act" = graceful ] && [ -n "\${FAIL_GRACEFUL:-}" ]; then
    "$SB_APACHE2" "\$@"
    exit 1
fi
if [ "\$act" = configtest ] && [ -n "\${SLOW_CONFIGTEST:-}" ]; then
    sleep 3
fi
exec "$SB_APACHE2" "\$@"
EOF
chmod 755 "$work/ctl"

# apply OUT ARGS...: one run through the wrapper; exit code in RC
apply()
{
    local out=$1
    shift
    sh -c 'echo $$ >"$PIDF"; exec "$@"' sh "$SBTUNE" apply \
        --apachectl "$work/ctl -f $SB_HTTPD_CONF" --scoreboard "$SB_SCOREBOARD" \
        --status-url "$SB_STATUS_URL" --snippet "$snip" --history "$hist" "$@" >"$out" 2>&1
    RC=$?
}
export PIDF=$work/sbtune.pid

expect_rc()
{
    if [ "$RC" != "$1" ]; then
        sb_log "sbtune apply output ($3):"
        sed 's/^/#   /' "$2" >&2
        sb_fail "$3: exit $RC, expected $1"
    fi
}

slots()
{
    sb_status_fetch || sb_fail "mod_status does not answer"
    echo ${#SB_SB_LINE}
}

changes()
{
    sqlite3 -batch "file:$hist?mode=ro" "select count(*) from changes where result like '$1'"
}

# agree N WHAT: httpd runs N slots, the snippet says N, no journal is left,
# httpd's configuration lists none of sbtune's own files
agree()
{
    sb_assert_eq "$(slots)" "$1" "$2: MaxRequestWorkers in force"
    grep -q "MaxRequestWorkers $1\$" "$snip" || sb_fail "$2: the snippet does not say $1: $(cat "$snip")"
    [ ! -e "$journal" ] || sb_fail "$2: the journal is left: $(cat "$journal")"
    "$SB_APACHE2" -f "$SB_HTTPD_CONF" -t -D DUMP_INCLUDES 2>&1 | grep -q 'sbtune-' &&
        sb_fail "$2: httpd's configuration includes one of sbtune's files"
    return 0
}

# ---------------------------------------------------------------- kill -9 at the include check
[ ! -e "$snip" ] || sb_fail "the snippet exists before the first run"
KILL_AT=includes apply "$work/k1.out" --set MaxRequestWorkers=10
[ "$RC" -ge 128 ] || sb_fail "the run was not killed at the include check (exit $RC): $(cat "$work/k1.out")"
[ -e "$journal" ] || sb_fail "no journal after kill -9 at the include check"
grep -q placeholder "$snip" || sb_fail "no placeholder on disk: the test proves nothing"
apply "$work/r1.out" --set MaxRequestWorkers=10
expect_rc 10 "$work/r1.out" "the run after kill -9 at the include check"
grep -q "recovering: an interrupted run" "$work/r1.out" || sb_fail "recovery not reported: $(cat "$work/r1.out")"
sb_assert_eq "$(changes 'interrupted run; recovered: the previous snippet was in place')" 1 \
    "history: recovery after the include check"
agree 10 "after kill -9 at the include check"

# ---------------------------------------------------------------- kill -9 at the configtest
gen=$(sb_generation)
KILL_AT=configtest apply "$work/k2.out" --set MaxRequestWorkers=11
[ "$RC" -ge 128 ] || sb_fail "the run was not killed at the configtest (exit $RC)"
grep -q "MaxRequestWorkers 11" "$snip" || sb_fail "the new snippet is not on disk: the test proves nothing"
sb_assert_eq "$(slots)" 10 "httpd still runs the old value after kill -9 at the configtest"
apply "$work/r2.out" --set MaxRequestWorkers=11
expect_rc 10 "$work/r2.out" "the run after kill -9 at the configtest"
sb_assert_eq "$(changes 'interrupted run; recovered: rolled back, httpd had never loaded it')" 1 \
    "history: recovery after the configtest"
sb_assert_eq "$(sb_generation)" $((gen + 1)) "one reload (the second run's)"
agree 11 "after kill -9 at the configtest"

# ---------------------------------------------------------------- kill -9 just before the graceful
KILL_AT=graceful-before apply "$work/k3.out" --set MaxRequestWorkers=12
[ "$RC" -ge 128 ] || sb_fail "the run was not killed before the graceful (exit $RC)"
apply "$work/r3.out" --set MaxRequestWorkers=12
expect_rc 10 "$work/r3.out" "the run after kill -9 before the graceful"
sb_assert_eq "$(changes 'interrupted run; recovered: rolled back, httpd had never loaded it')" 2 \
    "history: recovery before the graceful"
agree 12 "after kill -9 before the graceful"

# ---------------------------------------------------------------- kill -9 just after the graceful
gen=$(sb_generation)
KILL_AT=graceful-after apply "$work/k4.out" --set MaxRequestWorkers=13
[ "$RC" -ge 128 ] || sb_fail "the run was not killed after the graceful (exit $RC)"
sb_wait_generation_change "$gen" 10 || sb_fail "the wrapper's graceful did not reload httpd"
apply "$work/r4.out" --set MaxRequestWorkers=13
expect_rc 0 "$work/r4.out" "the run after kill -9 after the graceful (completed: nothing left to do)"
sb_assert_eq "$(changes 'ok (recovered after an interrupted run%')" 1 "history: the change completed"
agree 13 "after kill -9 after the graceful"

# ---------------------------------------------------------------- a graceful that reloads, then fails
gen=$(sb_generation)
FAIL_GRACEFUL=1 apply "$work/f.out" --set MaxRequestWorkers=14
expect_rc 14 "$work/f.out" "a graceful that reloaded and exited 1"
grep -q "but httpd reloaded all the same: generation $gen -> " "$work/f.out" ||
    sb_fail "the run did not re-read the generation after the failed graceful: $(cat "$work/f.out")"
grep -q "httpd never loaded" "$work/f.out" && sb_fail "the run claims httpd never loaded the snippet"
sb_assert_eq "$(sb_generation)" $((gen + 2)) "reloaded with the new, then with the previous snippet"
agree 13 "after the failed graceful"

# ---------------------------------------------------------------- SIGTERM during the configtest
gen=$(sb_generation)
cp -p "$snip" "$work/saved"
SLOW_CONFIGTEST=1 sb_bg sh -c 'echo $$ >"$PIDF"; exec "$@" >"$0" 2>&1' "$work/t.out" "$SBTUNE" apply \
    --apachectl "$work/ctl -f $SB_HTTPD_CONF" --scoreboard "$SB_SCOREBOARD" \
    --status-url "$SB_STATUS_URL" --snippet "$snip" --history "$hist" --set MaxRequestWorkers=15
run=$SB_BG_PID
end=$(($(date +%s) + 10))
until grep -q "MaxRequestWorkers 15" "$snip" 2>/dev/null; do
    [ "$(date +%s)" -lt "$end" ] || sb_fail "the slow run never wrote its snippet"
    sleep 0.05
done
kill -TERM "$(cat "$PIDF")"
wait "$run"
RC=$?
expect_rc 14 "$work/t.out" "SIGTERM during the configtest"
grep -q "interrupted by signal 15" "$work/t.out" || sb_fail "the interruption is not reported: $(cat "$work/t.out")"
cmp -s "$snip" "$work/saved" || sb_fail "SIGTERM: the snippet was not restored"
sb_assert_eq "$(sb_generation)" "$gen" "SIGTERM during the configtest: httpd untouched"
agree 13 "after SIGTERM"

# ---------------------------------------------------------------- unsafe paths
mkdir -p "$work/real/conf" && chmod 755 "$work/real" "$work/real/conf"
ln -s "$work/real" "$work/link"
"$SBTUNE" apply --apachectl "$work/ctl -f $SB_HTTPD_CONF" --scoreboard "$SB_SCOREBOARD" \
    --snippet "$work/link/conf/x.conf" --set MaxRequestWorkers=9 >"$work/p1.out" 2>&1
RC=$?
expect_rc 13 "$work/p1.out" "a symlink on the way to the snippet"
grep -q "$work/link is a symbolic link" "$work/p1.out" || sb_fail "symlink: reason not given: $(cat "$work/p1.out")"
[ -z "$(ls -A "$work/real/conf")" ] || sb_fail "symlink: sbtune created $(ls -A "$work/real/conf")"
mkdir -p "$work/open/conf" && chmod 777 "$work/open" && chmod 755 "$work/open/conf"
"$SBTUNE" apply --apachectl "$work/ctl -f $SB_HTTPD_CONF" --scoreboard "$SB_SCOREBOARD" \
    --snippet "$work/open/conf/x.conf" --set MaxRequestWorkers=9 >"$work/p2.out" 2>&1
RC=$?
expect_rc 13 "$work/p2.out" "a directory others can write above the snippet's"
grep -q "the directory $work/open (mode 0777) is writable by others" "$work/p2.out" ||
    sb_fail "open ancestor: reason not given: $(cat "$work/p2.out")"
[ -z "$(ls -A "$work/open/conf")" ] || sb_fail "open ancestor: sbtune created $(ls -A "$work/open/conf")"

# ---------------------------------------------------------------- a lock that is not sbtune's
printf 'precious data\n' >"$work/precious"
chmod 600 "$work/precious"
cp -p "$work/precious" "$work/precious.saved"
apply "$work/l.out" --set MaxRequestWorkers=9 --lock "$work/precious"
expect_rc 13 "$work/l.out" "--lock on a file that is not sbtune's"
grep -q "not sbtune's" "$work/l.out" || sb_fail "foreign lock: reason not given: $(cat "$work/l.out")"
cmp -s "$work/precious" "$work/precious.saved" || sb_fail "the foreign lock file was changed"
agree 13 "after the refused lock"

# ---------------------------------------------------------------- a missing apachectl
"$SBTUNE" apply --apachectl "$work/no-such-ctl -f $SB_HTTPD_CONF" --scoreboard "$SB_SCOREBOARD" \
    --snippet "$snip" --set MaxRequestWorkers=9 >"$work/m.out" 2>&1
RC=$?
expect_rc 1 "$work/m.out" "a missing apachectl (exit 1: failed before httpd was touched)"
grep -q "cannot run the apachectl command, nothing changed: $work/no-such-ctl" "$work/m.out" ||
    sb_fail "missing apachectl: reason not given: $(cat "$work/m.out")"
agree 13 "after the missing apachectl"
sb_pass
