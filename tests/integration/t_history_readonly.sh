#!/bin/sh
# t_history_readonly: a history file on a read-only file system (issue #11).
# A real agent records a live httpd into a WAL history; the file is copied
# onto a tmpfs that is then remounted read-only, in a private mount
# namespace.  There `sbtune report` and `sbtop --history` read it (SQLite
# cannot create the -shm index a WAL reader needs: sbtune opens it
# immutable), and sbagent refuses to write it, naming the read-only file
# system rather than owner and mode.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "${top_srcdir:-$(dirname "$0")/../..}/tests/harness.sh"

SBAGENT=${SBAGENT:-$top_builddir/agent/sbagent}
SBTUNE=${SBTUNE:-$top_builddir/tuner/sbtune}
SBTOP=${SBTOP:-$top_builddir/tui/sbtop}
for b in "$SBAGENT" "$SBTUNE" "$SBTOP"; do
    [ -x "$b" ] || sb_fail "$b not built"
done
command -v sqlite3 >/dev/null || sb_fail "sqlite3 not found: apt-get install sqlite3"
unshare -m true 2>/dev/null || sb_fail "unshare -m not permitted: run as root (CI does)"
work=$(mktemp -d "${TMPDIR:-/tmp}/sbtest-rofs.XXXXXX") || sb_fail "mktemp -d"
chmod 755 "$work"
[ -n "${KEEP:-}" ] || sb_at_exit rm -rf "$work"

sb_httpd_start rofs mpm=prefork
"$SBAGENT" --scoreboard "$SB_SCOREBOARD" --history "$work/h.db" --duration 4 \
    >"$work/agent.out" 2>&1 || sb_fail "agent failed: $(cat "$work/agent.out")"
sb_assert_eq "$(sqlite3 -batch "file:$work/h.db?mode=ro" 'PRAGMA journal_mode')" wal \
    "the history is a WAL database"
rows=$(sqlite3 -batch "file:$work/h.db?mode=ro" 'select count(*) from second')
sb_assert_ge "$rows" 3 "seconds recorded"

mkdir "$work/ro"
unshare -m sh -c '
    mount -t tmpfs -o size=8m,mode=755 sbtest-ro "$1/ro" || exit 90
    cp "$1/h.db" "$1/ro/h.db" || exit 91
    mount -o remount,ro "$1/ro" || exit 92
    touch "$1/ro/x" 2>/dev/null && exit 93
    "$2" report --history "$1/ro/h.db" --mpm prefork --max-request-workers 8 \
        --min-minutes 1 >"$1/report.out" 2>&1
    echo $? >"$1/report.rc"
    "$3" -b -n 1 --history "$1/ro/h.db" --at last --width 120 >"$1/top.out" 2>&1
    echo $? >"$1/top.rc"
    "$4" --scoreboard "$5" --history "$1/ro/h.db" --duration 2 >"$1/agent2.out" 2>&1
    echo $? >"$1/agent2.rc"
    exit 0' sh "$work" "$SBTUNE" "$SBTOP" "$SBAGENT" "$SB_SCOREBOARD" ||
    sb_fail "read-only mount setup failed (status $?)"

out=$(cat "$work/report.out")
sb_assert_match "$out" "minute" "sbtune report read the read-only history"
grep -Eqi "unable to open|cannot open|readonly|read-only" "$work/report.out" &&
    sb_fail "sbtune report could not read the read-only history: $out"
rc=$(cat "$work/report.rc")
[ "$rc" = 0 ] || [ "$rc" = 5 ] || sb_fail "sbtune report exit $rc: $out"
sb_assert_eq "$(cat "$work/top.rc")" 0 "sbtop --history on the read-only history: exit status"
grep -Eqi "unable to open|cannot open" "$work/top.out" &&
    sb_fail "sbtop could not read the read-only history: $(cat "$work/top.out")"
sb_assert_eq "$(cat "$work/agent2.rc")" 2 "sbagent on a read-only history: exit status"
sb_assert_match "$(cat "$work/agent2.out")" "is on a read-only file system" \
    "sbagent names the read-only file system"
grep -q "owner and" "$work/agent2.out" && sb_fail "sbagent blames owner and mode: $(cat "$work/agent2.out")"
sb_pass
