#!/bin/sh
# t_sbtune_apply: "sbtune apply" against real private httpds (prefork and
# event) through the real apache2 binary (-f CONFIG, never /etc/apache2):
#   - success: MaxRequestWorkers 8 -> 12 by graceful, generation + 1,
#     verified in mod_status, the change recorded in the history
#   - the same again: no change (exit 0)
#   - configtest rejects the values (prefork MaxRequestWorkers 0; event
#     ThreadsPerChild above ThreadLimit): file restored byte for byte,
#     httpd untouched (same generation, same pid)
#   - the reload does not take effect (an apachectl wrapper that exits 0 on
#     -k graceful without signalling httpd): rolled back, file restored
#   - two concurrent runs: the second exits 12 (locked) at once, a third
#     with --lock-wait waits and then applies
#   - disk full while writing the snippet (a 64 KiB tmpfs over the
#     snippet's directory in a private mount namespace; else a file-size
#     rlimit): nothing changed
#   - unsafe paths (symlink, directory writable by others): refused
#   - ServerLimit/ThreadLimit increase: refused without --allow-stop-start
#     (exit 13), done with it by stop and start and verified
# Exit codes: sbtune_apply.h / sbtune(8).
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "${top_srcdir:-$(dirname "$0")/../..}/tests/harness.sh"

SBTUNE=${SBTUNE:-$top_builddir/tuner/sbtune}
[ -x "$SBTUNE" ] || sb_fail "$SBTUNE not built"
command -v sqlite3 >/dev/null || sb_fail "sqlite3 not found: apt-get install sqlite3"
work=$(mktemp -d "${TMPDIR:-/tmp}/sbtest-apply.XXXXXX") || sb_fail "mktemp -d"
chmod 755 "$work"
sb_at_exit rm -rf "$work"
snipdir=$work/snippets
mkdir -m 755 "$snipdir"
hist=$work/history.db
t0=$(date +%s)

# apply OUT ARGS...: run sbtune apply against the current httpd; exit code
# in RC, stdout+stderr in OUT.
apply()
{
    local out=$1
    shift
    "$SBTUNE" apply --apachectl "$SB_APACHE2 -f $SB_HTTPD_CONF" \
        --scoreboard "$SB_SCOREBOARD" --status-url "$SB_STATUS_URL" --snippet "$snip" "$@" \
        >"$out" 2>&1
    RC=$?
}

# expect_rc WANT OUT WHAT
expect_rc()
{
    if [ "$RC" != "$1" ]; then
        sb_log "sbtune apply output ($3):"
        sed 's/^/#   /' "$2" >&2
        sb_fail "$3: exit $RC, expected $1"
    fi
}

scoreboard_len()
{
    sb_status_fetch || sb_fail "mod_status does not answer"
    echo ${#SB_SB_LINE}
}

# untouched GEN PID FILE COPY WHAT: httpd kept its generation and pid and
# the snippet is byte for byte the saved copy.
untouched()
{
    sb_assert_eq "$(sb_generation)" "$1" "$5: generation unchanged"
    sb_assert_eq "$(cat "$SB_HTTPD_PIDFILE")" "$2" "$5: same httpd pid"
    cmp -s "$3" "$4" || sb_fail "$5: $3 differs from the saved copy"
    ls "$(dirname "$3")/.$(basename "$3")".sbtune-tmp.* >/dev/null 2>&1 &&
        sb_fail "$5: temp file left behind"
    [ ! -e "$(dirname "$3")/.$(basename "$3")".sbtune-journal ] ||
        sb_fail "$5: journal left behind"
    return 0
}

# ---------------------------------------------------------------- prefork
snip=$snipdir/prefork.conf
# a wildcard include, as in conf-enabled/*.conf (prefork.conf and, for one
# step, pz-override.conf after it)
sb_httpd_start apply-prefork mpm=prefork server_limit=16 max_workers=8 include="$snipdir/p*.conf"
pid=$(cat "$SB_HTTPD_PIDFILE")

# success: 8 -> 12 (and KeepAliveTimeout 15 -> 3) by graceful
sb_assert_eq "$(scoreboard_len)" 8 "prefork: MaxRequestWorkers before"
gen=$(sb_generation)
apply "$work/ok.out" --set MaxRequestWorkers=12 --set KeepAliveTimeout=3 \
    --history "$hist" --reason "test: 12 slots carry the spike"
expect_rc 10 "$work/ok.out" "prefork: apply MaxRequestWorkers 12"
sb_assert_eq "$(sb_generation)" $((gen + 1)) "prefork: generation + 1"
sb_assert_eq "$(scoreboard_len)" 12 "prefork: MaxRequestWorkers in force"
grep -q "verified: the status URL answers with Keep-Alive: timeout=3" "$work/ok.out" ||
    sb_fail "prefork: KeepAliveTimeout 3 not verified: $(cat "$work/ok.out")"
grep -Eq '^# Why:' "$snip" && grep -q '^#   test: 12 slots carry the spike' "$snip" ||
    sb_fail "prefork: snippet header lacks the reason"
sed -n '/<IfModule mpm_prefork_module>/,/<\/IfModule>/p' "$snip" | grep -q 'MaxRequestWorkers 12' ||
    sb_fail "prefork: MaxRequestWorkers 12 not inside <IfModule mpm_prefork_module>"
grep -q '^KeepAliveTimeout 3$' "$snip" || sb_fail "prefork: KeepAliveTimeout not at top level"
sb_assert_eq "$(sqlite3 -batch "file:$hist?mode=ro" \
    "select count(*) from changes where action='apply' and result like 'ok%'
     and after_json like '%\"MaxRequestWorkers\":12%' and reason like 'test: 12%'")" 1 \
    "prefork: change recorded in the history"
gen=$((gen + 1))
pid=$(cat "$SB_HTTPD_PIDFILE")
cp -p "$snip" "$work/saved"

# the same again: nothing to do
apply "$work/same.out" --set MaxRequestWorkers=12 --set KeepAliveTimeout=3 --cron
expect_rc 0 "$work/same.out" "prefork: same values"
[ ! -s "$work/same.out" ] || sb_fail "prefork: --cron printed on no change: $(cat "$work/same.out")"
untouched "$gen" "$pid" "$snip" "$work/saved" "prefork: no change"

# configtest: httpd would raise MaxRequestWorkers 0 to 1 (AH00182)
apply "$work/ct.out" --set MaxRequestWorkers=0
expect_rc 14 "$work/ct.out" "prefork: MaxRequestWorkers 0"
grep -q AH00182 "$work/ct.out" || sb_fail "prefork: configtest output not reported"
untouched "$gen" "$pid" "$snip" "$work/saved" "prefork: configtest rejection"

# the reload does not take effect: graceful "succeeds" without a signal
cat >"$work/ctl-noop" <<EOF
#!/bin/sh
case " \$* " in *" -k graceful "*) exit 0 ;; esac
exec "$SB_APACHE2" "\$@"
EOF
chmod 755 "$work/ctl-noop"
"$SBTUNE" apply --apachectl "$work/ctl-noop -f $SB_HTTPD_CONF" --scoreboard "$SB_SCOREBOARD" \
    --status-url "$SB_STATUS_URL" --snippet "$snip" --verify-timeout 2 --set MaxRequestWorkers=10 \
    >"$work/noop.out" 2>&1
RC=$?
expect_rc 14 "$work/noop.out" "prefork: reload without effect"
grep -q "did not take effect" "$work/noop.out" || sb_fail "prefork: cause not reported"
untouched "$gen" "$pid" "$snip" "$work/saved" "prefork: reload without effect"
sb_assert_eq "$(scoreboard_len)" 12 "prefork: still 12 slots"

# unsafe paths
ln -s "$snip" "$snipdir/link.conf"
apply "$work/link.out" --snippet "$snipdir/link.conf" --set MaxRequestWorkers=10
expect_rc 13 "$work/link.out" "symlink snippet"
grep -q "symbolic link" "$work/link.out" || sb_fail "symlink: reason not given"
mkdir -m 777 "$work/open"
apply "$work/open.out" --snippet "$work/open/x.conf" --set MaxRequestWorkers=10
expect_rc 13 "$work/open.out" "snippet in a world-writable directory"
grep -q "writable by others" "$work/open.out" || sb_fail "open dir: reason not given"
[ -z "$(ls -A "$work/open")" ] || sb_fail "open dir: sbtune created $(ls -A "$work/open") in it"
apply "$work/notinc.out" --snippet "$snipdir/other.conf" --set MaxRequestWorkers=10
expect_rc 13 "$work/notinc.out" "snippet not included"
grep -q "does not include" "$work/notinc.out" || sb_fail "not included: reason not given"
[ ! -e "$snipdir/other.conf" ] || sb_fail "not included: placeholder left behind"
untouched "$gen" "$pid" "$snip" "$work/saved" "unsafe paths"

# two concurrent runs: A holds the lock (its graceful is slowed down by
# 2 s), B exits 12 at once, C waits for A and then applies its own value
cat >"$work/ctl-slow" <<EOF
#!/bin/sh
case " \$* " in *" -k graceful "*) sleep 2 ;; esac
exec "$SB_APACHE2" "\$@"
EOF
chmod 755 "$work/ctl-slow"
lock=$(dirname "$snip")/.$(basename "$snip").sbtune-lock
sb_bg sh -c "\"$SBTUNE\" apply --apachectl \"$work/ctl-slow -f $SB_HTTPD_CONF\" \
    --scoreboard \"$SB_SCOREBOARD\" --status-url \"$SB_STATUS_URL\" --snippet \"$snip\" \
    --set MaxRequestWorkers=10 >\"$work/a.out\" 2>&1; echo \$? >\"$work/a.rc\""
end=$(($(date +%s) + 10))
until [ -s "$lock" ]; do
    [ "$(date +%s)" -lt "$end" ] || sb_fail "run A never took the lock"
    sleep 0.02
done
apply "$work/b.out" --snippet "$snip" --set MaxRequestWorkers=11
expect_rc 12 "$work/b.out" "concurrent run B (no wait)"
grep -q "holds the lock" "$work/b.out" || sb_fail "B: lock holder not named"
[ ! -s "$work/a.rc" ] || sb_fail "A finished before B ran: the test proves nothing"
apply "$work/c.out" --snippet "$snip" --set MaxRequestWorkers=12 --lock-wait 30
expect_rc 10 "$work/c.out" "concurrent run C (waits)"
sb_wait_file "$work/a.rc" 10 || sb_fail "run A did not finish"
sb_assert_eq "$(cat "$work/a.rc")" 10 "run A applied"
sb_assert_eq "$(sb_generation)" $((gen + 2)) "A then C: two reloads"
sb_assert_eq "$(scoreboard_len)" 12 "C's value is the last one"
gen=$((gen + 2))
cp -p "$snip" "$work/saved"

# a file included after the snippet overrides MaxRequestWorkers: the
# evaluated configuration shows it before any reload, so the old snippet
# goes back and httpd is not touched.  Slots stay held by slow
# requests across the run (the case where the scoreboard alone could not
# tell after a reload: old processes beyond 10 leave it undecided)
printf '<IfModule mpm_prefork_module>\n    MaxRequestWorkers 12\n</IfModule>\n' \
    >"$snipdir/pz-override.conf"
sb_client_start --slow 3 --hold 60
# (the status request itself is one more W)
sb_wait_status '[ "$(sb_count_slots W)" -ge 4 ]' 20 ||
    sb_fail "prefork: override: the slow requests hold no slots: $SB_SB_LINE"
apply "$work/ovr.out" --set MaxRequestWorkers=10 --verify-timeout 2
expect_rc 14 "$work/ovr.out" "prefork: overridden value"
grep -q "would not be in force" "$work/ovr.out" &&
    grep -q "pz-override.conf:2" "$work/ovr.out" &&
    grep -q "httpd untouched (no reload was done)" "$work/ovr.out" ||
    sb_fail "prefork: override: $(cat "$work/ovr.out")"
untouched "$gen" "$pid" "$snip" "$work/saved" "prefork: override"
sb_assert_eq "$(scoreboard_len)" 12 "prefork: override: 12 slots"
sb_assert_ge "$(sb_count_slots W)" 4 "prefork: override: the slow requests were not disturbed"
sb_bg_stop "$SB_CLIENT_PID"
sb_kill_cgis
rm -f "$snipdir/pz-override.conf"

# disk full while writing the snippet
if unshare -m true 2>/dev/null; then
    unshare -m sh -c '
        mount -t tmpfs -o size=64k,mode=755 sbtest-full "$1" || exit 90
        cp -p "$2" "$1/prefork.conf" || exit 91
        dd if=/dev/zero of="$1/fill" bs=4096 2>/dev/null
        "$3" apply --apachectl "$4 -f $5" --scoreboard "$6" --status-url "$7" \
            --snippet "$1/prefork.conf" --set MaxRequestWorkers=10 >"$8" 2>&1
        echo $? >"$8.rc"
        cmp -s "$1/prefork.conf" "$2" || echo "snippet changed" >>"$8.bad"
        ls "$1"/.prefork.conf.sbtune-tmp.* >/dev/null 2>&1 && echo "temp left" >>"$8.bad"
        exit 0' sh "$snipdir" "$work/saved" "$SBTUNE" "$SB_APACHE2" "$SB_HTTPD_CONF" \
        "$SB_SCOREBOARD" "$SB_STATUS_URL" "$work/full.out" ||
        sb_fail "disk full: tmpfs setup failed (status $?)"
    how="64 KiB tmpfs"
else
    # no mount namespace: a file-size limit of 2 KiB and a 4 KiB reason
    reason=$(head -c 4096 /dev/zero | tr '\0' x)
    (trap '' XFSZ; ulimit -f 2
     "$SBTUNE" apply --apachectl "$SB_APACHE2 -f $SB_HTTPD_CONF" --scoreboard "$SB_SCOREBOARD" \
        --status-url "$SB_STATUS_URL" --snippet "$snip" --set MaxRequestWorkers=10 \
        --reason "$reason" >"$work/full.out" 2>&1
     echo $? >"$work/full.out.rc")
    cmp -s "$snip" "$work/saved" || echo "snippet changed" >>"$work/full.out.bad"
    how="RLIMIT_FSIZE"
fi
RC=$(cat "$work/full.out.rc")
expect_rc 1 "$work/full.out" "disk full ($how)"
[ ! -s "$work/full.out.bad" ] || sb_fail "disk full: $(cat "$work/full.out.bad")"
grep -Eq "No space left on device|File too large" "$work/full.out" ||
    sb_fail "disk full: cause not reported: $(cat "$work/full.out")"
untouched "$gen" "$(cat "$SB_HTTPD_PIDFILE")" "$snip" "$work/saved" "disk full"
sb_log "prefork done in $(($(date +%s) - t0)) s"

# ---------------------------------------------------------------- event
snip=$snipdir/event.conf
sb_httpd_start apply-event mpm=event server_limit=3 thread_limit=8 threads_per_child=8 \
    max_workers=16 include="$snip"
pid=$(cat "$SB_HTTPD_PIDFILE")
gen=$(sb_generation)
apply "$work/ev.out" --set MaxRequestWorkers=24 --history "$hist"
expect_rc 10 "$work/ev.out" "event: MaxRequestWorkers 24"
sb_assert_eq "$(sb_generation)" $((gen + 1)) "event: generation + 1"
sb_assert_eq "$(scoreboard_len)" 24 "event: MaxRequestWorkers 24 in force"
gen=$((gen + 1))
pid=$(cat "$SB_HTTPD_PIDFILE")
cp -p "$snip" "$work/saved"

# configtest: ThreadsPerChild 16 above ThreadLimit 8 (AH00507)
apply "$work/evct.out" --set ThreadsPerChild=16 --set MaxRequestWorkers=32
expect_rc 14 "$work/evct.out" "event: ThreadsPerChild above ThreadLimit"
grep -q AH00507 "$work/evct.out" || sb_fail "event: configtest output not reported"
untouched "$gen" "$pid" "$snip" "$work/saved" "event: configtest rejection"

# ServerLimit 3 -> 4 and ThreadLimit 8 -> 16: refused without the option
apply "$work/sl.out" --set ServerLimit=4 --set ThreadLimit=16 --set ThreadsPerChild=16 \
    --set MaxRequestWorkers=64
expect_rc 13 "$work/sl.out" "event: ServerLimit increase without --allow-stop-start"
grep -q "AH00501" "$work/sl.out" && grep -q "allow-stop-start" "$work/sl.out" ||
    sb_fail "event: refusal does not explain: $(cat "$work/sl.out")"
untouched "$gen" "$pid" "$snip" "$work/saved" "event: refused ServerLimit increase"

# ... and done with it: stop, start, verified on the new scoreboard
apply "$work/ss.out" --set ServerLimit=4 --set ThreadLimit=16 --set ThreadsPerChild=16 \
    --set MaxRequestWorkers=64 --allow-stop-start --history "$hist"
expect_rc 10 "$work/ss.out" "event: stop and start"
grep -q "verified: scoreboard ServerLimit 4 ThreadLimit 16" "$work/ss.out" ||
    sb_fail "event: new limits not verified: $(cat "$work/ss.out")"
newpid=$(cat "$SB_HTTPD_PIDFILE")
[ "$newpid" != "$pid" ] || sb_fail "event: same pid $pid after stop and start"
sb_assert_eq "$(scoreboard_len)" 64 "event: 4 x 16 slots in force"
sb_assert_eq "$(sqlite3 -batch "file:$hist?mode=ro" \
    "select count(*) from changes where result like 'ok (stop and start%'
     and before_json like '%\"ServerLimit\":3%'")" 1 "event: stop and start recorded"

sb_log "t_sbtune_apply: $(($(date +%s) - t0)) s"
sb_pass
