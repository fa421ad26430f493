#!/bin/sh
# t_docs: the man pages document every option the programs accept (the
# option tables drive --help, so --help is the list to check against).
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "${top_srcdir:-$(dirname "$0")/../..}/tests/harness.sh"

check()
{
    local prog=$1 man=$2 opt missing=""
    [ -x "$prog" ] || sb_fail "$prog not built"
    [ -f "$man" ] || sb_fail "$man missing"
    for opt in $("$prog" --help | grep -o -- '--[a-z][a-z0-9-]*' | sort -u); do
        # troff writes the dashes as \- or \-\-
        grep -q -- "$(echo "$opt" | sed 's/-/\\\\-/g')" "$man" ||
            grep -q -- "$opt" "$man" || missing="$missing $opt"
    done
    [ -z "$missing" ] || sb_fail "$man does not document:$missing"
}

check "$top_builddir/agent/sbagent" "$top_srcdir/man/sbagent.8"
sb_pass
