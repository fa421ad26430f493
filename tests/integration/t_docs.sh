#!/bin/sh
# t_docs: the man pages document every option the programs accept (the
# option tables drive --help, so --help is the list to check against), and
# sbtune.yaml(5) every key of the file (the entries of sb_config_options
# that are not command-line only) and no command-line-only option as a key.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "${top_srcdir:-$(dirname "$0")/../..}/tests/harness.sh"

check()
{
    local man=$1 opt missing=""
    shift
    [ -x "$1" ] || sb_fail "$1 not built"
    [ -f "$man" ] || sb_fail "$man missing"
    for opt in $("$@" --help | grep -o -- '--[a-z][a-z0-9-]*' | sort -u); do
        # troff writes the dashes as \- or \-\-
        grep -q -- "$(echo "$opt" | sed 's/-/\\\\-/g')" "$man" ||
            grep -q -- "$opt" "$man" || missing="$missing $opt"
    done
    [ -z "$missing" ] || sb_fail "$man does not document:$missing"
}

check "$top_srcdir/man/sbagent.8" "$top_builddir/agent/sbagent"
for cmd in plan report apply fleet; do
    check "$top_srcdir/man/sbtune.8" "$top_builddir/tuner/sbtune" "$cmd"
done

# the table's entries, one per line: { "key", ... flags },
entries=$(sed -n '/^const sb_config_opt_t sb_config_options\[\] = {/,/^};/p' \
    "$top_srcdir/lib/sb_config.c" | tr '\n' ' ' | sed 's/}, /}\n/g')
# (command-line only: flags C, maybe "| SB_CF_LIST", "| SB_CF_SHORT('x')")
cflag=" C( \| SB_CF_[A-Z_]+(\('.'\))?)* }$"
keys=$(echo "$entries" | grep -Ev "$cflag" | grep -o '{ "[a-z_]*"' | tr -d '{" ')
cmdline=$(echo "$entries" | grep -E "$cflag" | grep -o '{ "[a-z_]*"' | tr -d '{" ')
[ "$(echo "$keys" | wc -w)" -ge 40 ] || sb_fail "too few keys found in lib/sb_config.c: $keys"
[ "$(echo "$cmdline" | wc -w)" -ge 20 ] || sb_fail "too few command-line options: $cmdline"
yaml5=$top_srcdir/man/sbtune.yaml.5
missing=""
for k in $keys; do
    grep -q "^\.BR $k \" (" "$yaml5" || missing="$missing $k"
    grep -q "^#* *$k:" "$top_srcdir/conf/sbtune.yaml" || sb_fail "conf/sbtune.yaml lacks $k"
done
[ -z "$missing" ] || sb_fail "$yaml5 does not document the keys:$missing"
for k in $cmdline; do
    ! grep -q "^\.BR $k \" (" "$yaml5" || sb_fail "$yaml5 lists the command-line option $k as a key"
    ! grep -q "^$k:" "$top_srcdir/conf/sbtune.yaml" ||
        sb_fail "conf/sbtune.yaml sets the command-line option $k"
done
sb_pass
