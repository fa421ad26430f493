#!/bin/sh
# t_bad_input: every bad input or unavailable source gets a clear message
# and the documented exit code (2 usage, 3 source unavailable), against a
# live httpd where one is involved.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "${top_srcdir:-$(dirname "$0")/../..}/tests/harness.sh"

SBAGENT=${SBAGENT:-$top_builddir/agent/sbagent}
[ -x "$SBAGENT" ] || sb_fail "$SBAGENT not built"
work=$(mktemp -d "${TMPDIR:-/tmp}/sbtest-bad.XXXXXX") || sb_fail "mktemp -d"
chmod 755 "$work"
sb_at_exit rm -rf "$work"

# expect CODE REGEX ARGS...: sbagent ARGS exits CODE and says REGEX on stderr
expect()
{
    local code=$1 re=$2 rc
    shift 2
    "$SBAGENT" "$@" >"$work/out" 2>"$work/err"
    rc=$?
    sb_assert_eq "$rc" "$code" "exit status of sbagent $*"
    sb_assert_match "$(cat "$work/err")" "$re" "message of sbagent $*"
    [ "$code" = 0 ] || [ ! -s "$work/out" ] || sb_fail "sbagent $* printed a result on failure"
}

# ---------------------------------------------------------------- usage (2)
expect 2 "give a source"
expect 2 "give a source" --once
expect 2 "exactly one source" --once --scoreboard /x --status-url http://127.0.0.1/
expect 2 "unrecognized option|unknown option" --once --frobnicate
expect 2 "--count takes a whole number from 1 to 100000000" --count 0 --scoreboard /x
expect 2 "--interval takes a number from 0.01 to 86400" --count 2 --interval 0 --scoreboard /x
expect 2 "--timeout-ms: timeout_ms must be a whole number from 1 to 600000, not 'abc'" \
    --once --timeout-ms abc --status-url http://127.0.0.1/
expect 2 "--log-level: log_level must be one of error\\|warning\\|notice\\|info\\|debug, not 'loud'" \
    --once --log-level loud --status-url http://127.0.0.1/
expect 2 "--show-clients needs --workers" --once --show-clients --scoreboard /x
expect 2 "unexpected argument 'extra'" --once --scoreboard /x extra
expect 2 "cannot read password file $work/nope" --once --status-url http://127.0.0.1/ \
    --status-user u --status-password-file "$work/nope"
"$SBAGENT" --help >"$work/out" || sb_fail "--help failed"
for o in --once --count --interval --scoreboard --status-url --json --workers \
    --show-clients --timeout-ms --connect-timeout-ms --max-bytes --status-user \
    --status-password-file --ca-file --insecure --help --version; do
    grep -q -- "$o" "$work/out" || sb_fail "--help does not mention $o"
done
"$SBAGENT" --version >"$work/out" || sb_fail "--version failed"
sb_assert_match "$(cat "$work/out")" '^sbagent \(sbtune\) [0-9]+\.[0-9]+' "--version"

# ---------------------------------------------------------------- no segment (3)
expect 3 "no scoreboard segment for $work/none.*ScoreBoardFile" --once --scoreboard "$work/none"

# httpd without ScoreBoardFile: its scoreboard is anonymous
sb_httpd_start bad-anon scoreboard=no
expect 3 "ScoreBoardFile" --once --scoreboard "$SB_HTTPD_DIR/scoreboard"

# ---------------------------------------------------------------- mod_status (3)
big=$SB_HTTPD_DIR/htdocs/big.txt
head -c 300000 /dev/zero | tr '\0' 'x' >"$big"
chmod 644 "$big"
expect 3 "HTTP 404.*$SB_HTTPD_URL/nothing-here" --once --status-url "$SB_HTTPD_URL/nothing-here"
expect 3 "not a mod_status|Scoreboard" --once --status-url "$SB_HTTPD_URL/server-status?refresh=5"
expect 3 "$SB_HTTPD_URL/big.txt.*(1024|cap|larger)" --once --max-bytes 1024 \
    --status-url "$SB_HTTPD_URL/big.txt?x"
expect 3 "not a mod_status|Scoreboard" --once --status-url "$SB_HTTPD_URL/big.txt?x"
expect 3 "(timed out|timeout).*sleep.cgi|sleep.cgi.*(timed out|timeout)" --once --timeout-ms 500 \
    --status-url "$SB_HTTPD_URL/cgi-bin/sleep.cgi?3"
port=$SB_HTTPD_PORT
sb_httpd_stop
expect 3 "127.0.0.1:$port" --once --status-url "http://127.0.0.1:$port/server-status"
expect 3 "https://127.0.0.1:1/" --once --status-url "https://127.0.0.1:1/server-status"

# ---------------------------------------------------------------- permissions (3)
# The segment of an httpd started by root is 0600 root: an unprivileged
# user is refused with the path and what to do.
sb_httpd_start bad-perm
cp "$SBAGENT" "$work/sbagent"
chmod 755 "$work/sbagent"
if [ "$(id -u)" -eq 0 ]; then
    out=$(setpriv --reuid=nobody --regid=nogroup --clear-groups \
        "$work/sbagent" --once --scoreboard "$SB_SCOREBOARD" 2>&1)
    rc=$?
    sb_assert_eq "$rc" 3 "exit status of an unprivileged sbagent"
    sb_assert_match "$out" "permission denied.*$SB_SCOREBOARD.*root" "unprivileged message"
    # sbtune opens the object read-only: CAP_DAC_READ_SEARCH is enough (as
    # the message and sbagent(8) say)
    out=$(setpriv --reuid=nobody --regid=nogroup --clear-groups \
        --inh-caps=+dac_read_search --ambient-caps=+dac_read_search \
        "$work/sbagent" --once --json --scoreboard "$SB_SCOREBOARD" 2>&1) ||
        sb_fail "CAP_DAC_READ_SEARCH did not allow the read: $out"
    sb_assert_match "$out" '"source":"shm"' "read with CAP_DAC_READ_SEARCH"
else
    sb_log "not root: the permission case is checked by the root run only"
fi
# ... and a live segment read by root still works
"$SBAGENT" --once --scoreboard "$SB_SCOREBOARD" >/dev/null || sb_fail "root read failed"
sb_pass
