#!/bin/sh
# t_deb: the Debian package (issue #13), from a clean export of the git tree
# to a purge.  Not part of "make check" (it builds the package, about two
# minutes on 2 cores, and installs it on this machine): "make check-deb",
# which tools/test runs after make check (SB_SKIP_DEB=1 skips it).
#
#  1. exports the tracked files (with their uncommitted changes: git stash
#     create) into a temp dir, or, outside a git tree, the tarball of
#     "make dist"; runs "dpkg-buildpackage -us -uc -b" there (unit tests
#     included, the integration tests are this suite's);
#  2. lintian on the .changes (the .deb and the .buildinfo): no E: and no
#     W: line (overrides live in debian/*.lintian-overrides, each with its
#     reason); dpkg -c: the expected files, conffiles;
#  3. "apt-get install ./sbtune_*.deb"; sbagent, sbtop and sbtune --version
#     from PATH; the system user sbagent and /var/lib/sbtune (sbagent,
#     0750); the units installed and not enabled, sbtune.conf in
#     conf-available and not enabled; every command the units run exists;
#     "systemd-analyze verify" accepts the installed units;
#  4. runs the installed sbagent.service against a private httpd.  This
#     machine does not run systemd as PID 1 (a container), so systemctl
#     cannot start the unit: the test runs the unit's own ExecStartPre= and
#     ExecStart= command lines (read from the installed unit file) as root
#     the way systemd would set them up in part: its CapabilityBoundingSet=
#     (setpriv --bounding-set), NoNewPrivileges= and UMask=; not its
#     namespaces and filters (ProtectSystem=, PrivateTmp=, SystemCallFilter=
#     ...).  ExecStart= gets "--scoreboard DIR/scoreboard --ports PORT"
#     appended for the private httpd (the command line wins over
#     /etc/sbtune/sbtune.yaml); the rest comes from the packaged
#     configuration: it must drop to sbagent and write its history to
#     /var/lib/sbtune/history.db.  Then ExecReload= (SIGHUP) and a stop
#     (SIGTERM, what systemctl stop sends);
#  5. "apt-get purge -y sbtune": the files, the user, the group and
#     /var/lib/sbtune are gone, and /etc/apache2 is as it was before the
#     installation (the package never runs a2enconf).
#
# Refuses to run when sbtune is installed, or a user/group sbagent or
# /var/lib/sbtune exists: the purge would take an administrator's.  On
# failure or a signal the package is purged all the same (sb_at_exit); only
# a SIGKILL of the test leaves it installed (the next run then refuses and
# says so: apt-get purge sbtune).  Must run as root.  SB_KEEP=1 keeps the
# build directory.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "${top_srcdir:-$(dirname "$0")/../..}/tests/harness.sh"

[ "$(id -u)" = 0 ] || sb_fail "must run as root: it installs and purges the package"
for t in dpkg-buildpackage dpkg-parsechangelog lintian apt-get setpriv systemd-analyze sqlite3; do
    command -v "$t" >/dev/null ||
        sb_fail "$t not found: apt-get install debhelper dpkg-dev lintian util-linux systemd sqlite3 (tools/install-deps)"
done
st=$(dpkg-query -W -f='${db:Status-Status}' sbtune 2>/dev/null) || st=not-installed
[ "$st" = not-installed ] ||
    sb_fail "the package sbtune is on this machine (status $st): this test installs and purges it; remove it first"
getent passwd sbagent >/dev/null && sb_fail "a user sbagent exists: this test's purge would remove it"
getent group sbagent >/dev/null && sb_fail "a group sbagent exists: this test's purge would remove it"
[ -e /var/lib/sbtune ] && sb_fail "/var/lib/sbtune exists: this test's purge would remove it"

work=$(mktemp -d "${TMPDIR:-/tmp}/sbtest-deb.XXXXXX") || sb_fail "mktemp -d"
chmod 755 "$work"
[ "${SB_KEEP:-0}" = 1 ] || sb_at_exit rm -rf "$work"

# /etc/apache2 before: every path, type, mode, owner, link target and
# content
etc_apache2_state()
{
    [ -d /etc/apache2 ] || return 0
    (cd /etc/apache2 && find . -printf '%p %y %m %u:%g %l\n' | sort &&
        find . -type f -print0 | sort -z | xargs -0r sha256sum)
}
etc_apache2_state >"$work/etc-apache2.before"

agent=""
cleanup()
{
    if [ -n "$agent" ] && kill -0 "$agent" 2>/dev/null; then
        kill -TERM "$agent" 2>/dev/null
        for _ in $(seq 50); do kill -0 "$agent" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$agent" 2>/dev/null
    fi
    local s
    s=$(dpkg-query -W -f='${db:Status-Status}' sbtune 2>/dev/null) || return 0
    [ "$s" = not-installed ] && return 0
    echo "t_deb: purging the package sbtune (status $s) at exit" >&2
    DEBIAN_FRONTEND=noninteractive apt-get purge -y -q sbtune >&2 ||
        dpkg --purge --force-remove-reinstreq sbtune >&2
}
sb_at_exit cleanup

# ---------------------------------------------------------------- 1. build
version=$(dpkg-parsechangelog -l "$top_srcdir/debian/changelog" -S Version) ||
    sb_fail "cannot read debian/changelog"
upstream=${version%-*}
src=$work/sbtune-$upstream
t0=$(date +%s)
if git -C "$top_srcdir" rev-parse --git-dir >/dev/null 2>&1; then
    rev=$(git -c user.name=t_deb -c user.email=t_deb@localhost -C "$top_srcdir" stash create) || sb_fail "git stash create failed"
    [ -n "$rev" ] && sb_log "the tree has uncommitted changes: building them (git stash create $rev)"
    git -C "$top_srcdir" archive --format=tar --prefix="sbtune-$upstream/" "${rev:-HEAD}" |
        tar -C "$work" -xf - || sb_fail "git archive failed"
    sb_log "source: git archive ${rev:-HEAD} of $top_srcdir"
    [ ! -e "$src/configure" ] || sb_fail "the export holds a generated configure: not a clean tree"
else
    make -C "$top_builddir" dist-gzip >"$work/dist.log" 2>&1 ||
        { tail -n 20 "$work/dist.log" >&2; sb_fail "make dist-gzip failed"; }
    tar -C "$work" -xzf "$top_builddir/sbtune-$upstream.tar.gz" || sb_fail "cannot unpack the tarball"
    sb_log "source: $top_builddir/sbtune-$upstream.tar.gz"
fi
[ -x "$src/debian/rules" ] || sb_fail "no debian/rules in the exported source $src"

(cd "$src" && dpkg-buildpackage -us -uc -b) >"$work/build.log" 2>&1 || {
    tail -n 60 "$work/build.log" >&2
    sb_fail "dpkg-buildpackage -us -uc -b failed (log above: $work/build.log, SB_KEEP=1 keeps it)"
}
t1=$(date +%s)
sb_log "dpkg-buildpackage: $((t1 - t0)) s"
arch=$(dpkg --print-architecture)
deb=$work/sbtune_${version}_$arch.deb
changes=$work/sbtune_${version}_$arch.changes
[ -f "$deb" ] || sb_fail "no $deb after the build"
[ -f "$changes" ] || sb_fail "no $changes after the build"
grep -q "sbtune_${version}_$arch.deb" "$changes" || sb_fail "$changes does not list the .deb"
case " ${DEB_BUILD_OPTIONS:-} " in
    *" nocheck "*) sb_log "DEB_BUILD_OPTIONS=nocheck: the build ran no unit tests" ;;
    *) grep -q '^# FAIL: *0$' "$work/build.log" || sb_fail "the build's unit tests did not run or did not all pass" ;;
esac

# ---------------------------------------------------------------- 2. lintian, contents
lintian --display-info "$changes" >"$work/lintian.out" 2>&1
lrc=$?
sed 's/^/# lintian: /' "$work/lintian.out" >&2
grep -Eq '^[EW]: ' "$work/lintian.out" &&
    sb_fail "lintian reports errors or warnings (above); fix them or add an override with its reason to debian/"
[ "$lrc" -eq 0 ] || sb_fail "lintian exited with $lrc"

dpkg-deb -c "$deb" | awk '{print $6}' | sed 's|^\./|/|' >"$work/contents"
for f in /usr/bin/sbagent /usr/bin/sbtop /usr/bin/sbtune \
    /usr/share/man/man8/sbagent.8.gz /usr/share/man/man1/sbtop.1.gz \
    /usr/share/man/man8/sbtune.8.gz /usr/share/man/man5/sbtune.yaml.5.gz \
    /usr/share/man/man5/sbtune-history.5.gz /etc/sbtune/sbtune.yaml \
    /lib/systemd/system/sbagent.service /lib/systemd/system/sbtune-apply.service \
    /lib/systemd/system/sbtune.timer /etc/apache2/conf-available/sbtune.conf \
    /usr/share/doc/sbtune/copyright /usr/share/doc/sbtune/README.Debian \
    /usr/share/sbtune/prometheus/sbtune-rules.yml /usr/share/sbtune/prometheus/README.md \
    /usr/share/sbtune/prometheus/sbtune-rules.test.yml \
    /usr/share/sbtune/prometheus/sbtune-dashboard.json; do
    grep -qx -- "$f" "$work/contents" || sb_fail "the package lacks $f"
done
grep -q '^/var/lib/sbtune' "$work/contents" &&
    sb_fail "the package ships /var/lib/sbtune (postinst creates it for sbagent)"
grep -q '^/etc/apache2/conf-enabled' "$work/contents" && sb_fail "the package ships conf-enabled"
dpkg-deb -f "$deb" Depends | grep -q 'adduser' || sb_fail "Depends lacks adduser (postinst runs it)"
dpkg-deb -c "$deb" | grep -E ' \./usr/bin/' | sed 's/^/# /' >&2

# ---------------------------------------------------------------- 3. install
DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$deb" \
    >"$work/install.log" 2>&1 || {
    tail -n 30 "$work/install.log" >&2
    sb_fail "apt-get install $deb failed"
}
sb_assert_eq "$(dpkg-query -W -f='${db:Status-Status}' sbtune)" installed "package status"
sb_assert_eq "$(command -v sbagent)" /usr/bin/sbagent "sbagent on PATH"
sb_assert_match "$(sbagent --version | head -n 1)" "^sbagent \\(sbtune\\) $upstream\$" "sbagent --version"
sb_assert_match "$(sbagent --version | sed -n 2p)" '^built against httpd 2\.4\.[0-9]+ scoreboard layout$' \
    "sbagent --version, second line"
sb_assert_match "$(sbtop --version | head -n 1)" "$upstream" "sbtop --version"
sb_assert_match "$(sbtune --version | head -n 1)" "$upstream" "sbtune --version"
man -w sbagent >/dev/null 2>&1 || sb_fail "man -w sbagent finds no page"

conffiles=$(dpkg-query -W -f='${Conffiles}' sbtune)
for f in /etc/sbtune/sbtune.yaml /etc/apache2/conf-available/sbtune.conf; do
    grep -q " $f " <<<"$conffiles " || sb_fail "$f is not a conffile: $conffiles"
done
if command -v promtool >/dev/null; then
    (cd /usr/share/sbtune/prometheus && promtool check rules sbtune-rules.yml &&
        promtool test rules sbtune-rules.test.yml) >"$work/promtool.out" 2>&1 ||
        { cat "$work/promtool.out" >&2; sb_fail "promtool rejects the installed rules"; }
fi
sbagent --check-config --config /etc/sbtune/sbtune.yaml >"$work/check-config.out" 2>&1 ||
    { cat "$work/check-config.out" >&2; sb_fail "sbagent --check-config rejects the packaged sbtune.yaml"; }
grep -qx 'history: /var/lib/sbtune/history.db' /etc/sbtune/sbtune.yaml ||
    sb_fail "the packaged sbtune.yaml does not put the history in /var/lib/sbtune"

IFS=: read -r _ _ uid gid _ home shell < <(getent passwd sbagent) || sb_fail "no user sbagent after installation"
sb_assert_le "$uid" 999 "sbagent is a system user (uid)"
sb_assert_eq "$(getent group sbagent | cut -d: -f3)" "$gid" "sbagent's primary group is sbagent"
sb_assert_eq "$home" /nonexistent "sbagent's home"
sb_assert_match "$shell" '/(nologin|false)$' "sbagent's shell"
sb_assert_eq "$(stat -c '%U:%G %a' /var/lib/sbtune)" "sbagent:sbagent 750" "/var/lib/sbtune"

found=$(find /etc/systemd/system -name 'sbagent.service' -o -name 'sbtune.timer' -o -name 'sbtune-apply.service' 2>/dev/null)
[ -z "$found" ] || sb_fail "units enabled (or overridden) after installation: $found"
[ ! -e /etc/apache2/conf-enabled/sbtune.conf ] || sb_fail "sbtune.conf was enabled by the installation"

# every command a unit runs exists (ExecStart=/usr/bin/sbagent ...), and
# systemd-analyze verify (offline: no running systemd needed) accepts them
units="/lib/systemd/system/sbagent.service /lib/systemd/system/sbtune-apply.service /lib/systemd/system/sbtune.timer"
for u in $units; do
    sed -n 's/^Exec[A-Za-z]*=[-+@:!]*\([^ ]*\).*/\1/p' "$u" | while read -r cmd; do
        [ -x "$cmd" ] || echo "$u: $cmd"
    done
done >"$work/missing"
[ -s "$work/missing" ] && sb_fail "commands the units run are missing: $(cat "$work/missing")"
# shellcheck disable=SC2086
systemd-analyze verify $units >"$work/verify.out" 2>&1 || {
    cat "$work/verify.out" >&2
    sb_fail "systemd-analyze verify rejects the installed units"
}
[ -s "$work/verify.out" ] && { cat "$work/verify.out" >&2; sb_fail "systemd-analyze verify complains"; }

# ---------------------------------------------------------------- 4. the unit against a private httpd
unit=/lib/systemd/system/sbagent.service
# KEY=VALUE of the [Service] section, continuation lines joined
unit_value()
{
    sed -e ':a' -e '/\\$/N; s/\\\n//; ta' "$unit" | sed -n "s/^$1=//p"
}
pre=$(unit_value ExecStartPre)
start=$(unit_value ExecStart)
reload=$(unit_value ExecReload)
caps=$(unit_value CapabilityBoundingSet)
umask_v=$(unit_value UMask)
sb_assert_match "$start" '^/usr/bin/sbagent --config /etc/sbtune/sbtune.yaml --user sbagent$' "the unit's ExecStart"
sb_assert_match "$pre" '^\+/usr/bin/install ' "the unit's ExecStartPre"
sb_assert_match "$(unit_value NoNewPrivileges)" '^yes$' "NoNewPrivileges"
[ -n "$caps" ] && [ -n "$umask_v" ] || sb_fail "no CapabilityBoundingSet= or UMask= in $unit"
bset=-all
for c in $caps; do
    c=${c#CAP_}
    bset="$bset,+${c,,}"
done

sb_httpd_start deb mpm=prefork
# ExecStartPre= ("+": as root, unconfined)
# shellcheck disable=SC2086
${pre#+} || sb_fail "ExecStartPre failed: $pre"
sb_bg bash -c "umask $umask_v; exec setpriv --bounding-set=$bset --no-new-privs $start \
    --scoreboard '$SB_SCOREBOARD' --ports $SB_HTTPD_PORT 2>'$work/agent.err'"
agent=$SB_BG_PID
sb_log "the unit's command line: umask $umask_v; setpriv --bounding-set=$bset --no-new-privs $start --scoreboard $SB_SCOREBOARD --ports $SB_HTTPD_PORT (pid $agent)"

db=/var/lib/sbtune/history.db
q()
{
    sqlite3 -batch -bail "file:$db?mode=ro" "$1" 2>&1
}
end=$(($(date +%s) + 30))
ok=0
while [ "$(date +%s)" -lt "$end" ]; do
    kill -0 "$agent" 2>/dev/null || break
    if [ -f "$db" ] && [ "$(q 'SELECT count(*) >= 3 FROM second;')" = 1 ]; then
        ok=1
        break
    fi
    sleep 0.2
done
if [ "$ok" != 1 ]; then
    sed 's/^/# agent: /' "$work/agent.err" >&2
    kill -0 "$agent" 2>/dev/null || sb_fail "the agent exited (messages above)"
    sb_fail "no 3 per-second rows in $db within 30 s (last answer: $(q 'SELECT count(*) FROM second;'))"
fi
sb_assert_match "$(awk '/^Uid:/ {print $2, $3, $4, $5}' "/proc/$agent/status")" "^$uid $uid $uid $uid\$" \
    "the agent's uids (dropped to sbagent)"
sb_assert_eq "$(awk '/^NoNewPrivs:/ {print $2}' "/proc/$agent/status")" 1 "the agent's no_new_privs"
sb_assert_eq "$(stat -c '%U:%G' "$db")" sbagent:sbagent "owner of the history"
sb_assert_match "$(q "SELECT count(*) FROM events WHERE kind = 'start';")" '^[1-9]' "a start event in the history"

# ExecReload= (kill -HUP $MAINPID): the agent re-reads its configuration and keeps running
sb_assert_match "$reload" '^/bin/kill -HUP \$MAINPID$' "the unit's ExecReload"
${reload//\$MAINPID/$agent} || sb_fail "ExecReload failed"
rows=$(q 'SELECT count(*) FROM second;')
end=$(($(date +%s) + 15))
while [ "$(date +%s)" -lt "$end" ] && [ "$(q 'SELECT count(*) FROM second;')" -le $((rows + 1)) ]; do
    kill -0 "$agent" 2>/dev/null || break
    sleep 0.2
done
kill -0 "$agent" 2>/dev/null || { sed 's/^/# agent: /' "$work/agent.err" >&2; sb_fail "the agent died after SIGHUP"; }
sb_assert_ge "$(q 'SELECT count(*) FROM second;')" $((rows + 2)) "rows written after the reload"

# systemctl stop: SIGTERM, then the agent exits by itself
kill -TERM "$agent"
end=$(($(date +%s) + 10))
while kill -0 "$agent" 2>/dev/null && [ "$(date +%s)" -lt "$end" ]; do sleep 0.1; done
kill -0 "$agent" 2>/dev/null && sb_fail "the agent did not exit within 10 s of SIGTERM"
wait "$agent" 2>/dev/null
arc=$?
sed 's/^/# agent: /' "$work/agent.err" >&2
sb_assert_eq "$arc" 0 "the agent's exit status after SIGTERM"
agent=""
sb_assert_eq "$(sqlite3 "$db" 'PRAGMA quick_check;')" ok "quick_check of the history"

# sbtune, from PATH, reads the agent's history through the packaged configuration
sbtune report --config /etc/sbtune/sbtune.yaml >"$work/report.out" 2>&1
sb_assert_eq "$?" 5 "sbtune report on a few seconds of history (5: too little history)"

# ---------------------------------------------------------------- 5. purge
DEBIAN_FRONTEND=noninteractive apt-get purge -y -q sbtune >"$work/purge.log" 2>&1 || {
    tail -n 30 "$work/purge.log" >&2
    sb_fail "apt-get purge -y sbtune failed"
}
st=$(dpkg-query -W -f='${db:Status-Status}' sbtune 2>/dev/null) || st=not-installed
sb_assert_eq "$st" not-installed "package status after the purge"
for f in /usr/bin/sbagent /usr/bin/sbtop /usr/bin/sbtune /etc/sbtune /var/lib/sbtune \
    /lib/systemd/system/sbagent.service /lib/systemd/system/sbtune-apply.service \
    /lib/systemd/system/sbtune.timer /etc/apache2/conf-available/sbtune.conf \
    /usr/share/doc/sbtune /usr/share/man/man8/sbagent.8.gz; do
    [ ! -e "$f" ] || sb_fail "$f is left after the purge"
done
getent passwd sbagent >/dev/null && sb_fail "the user sbagent is left after the purge"
getent group sbagent >/dev/null && sb_fail "the group sbagent is left after the purge"
etc_apache2_state >"$work/etc-apache2.after"
diff "$work/etc-apache2.before" "$work/etc-apache2.after" >&2 ||
    sb_fail "/etc/apache2 differs from before the installation (diff above)"
sb_log "build $((t1 - t0)) s, whole test $(($(date +%s) - t0)) s"
sb_pass
