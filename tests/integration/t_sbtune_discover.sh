#!/bin/sh
# t_sbtune_discover: `sbtune report` finds the settings of the running
# httpd itself (issue #10): a real httpd (event, then prefork) whose
# harness configuration includes tests/data/httpdconf/tree/tuning.conf,
# which spreads the directives over included files (a glob, a nested
# include inside <IfModule mpm_event_module>), <IfModule> blocks for the
# three MPMs, an <IfDefine> made true by a Define further up, a
# <VirtualHost> with its own KeepAliveTimeout 2 and KeepAlive Off, a
# continued line, and the snippet sbtune owns (conf.d/20-sbtune.conf).
#
# Each discovered value and its file:line is asserted, and checked against
# what httpd itself shows: its Keep-Alive response header (the main
# server's KeepAliveTimeout), mod_status's Scoreboard length (ServerLimit x
# ThreadsPerChild), the scoreboard's ServerLimit and ThreadLimit, and the
# warning of `apache2 -t` (httpd lowering MaxRequestWorkers).  Debian's own
# apache2ctl on the stock /etc/apache2 (read only) gives the MPM -V names,
# every file DUMP_INCLUDES lists and MaxRequestWorkers from the loaded
# MPM's mods-enabled file.  A --snippet that exists but is not loaded
# makes discovery fall back (the command reads another configuration), as
# does a configuration that does not parse (the reason is httpd's error
# with its file and line); --mpm against the running MPM is a conflict.
# Then, on a history the agent recorded from the live event httpd,
# `sbtune report --history` without --mpm or any limit option
# prints the discovered values with their sources; an explicit option wins
# and the conflict is reported; --apply --dry-run plans from the discovered
# values; an apachectl that cannot run falls back to the options, the
# snippet and the defaults with one line saying why.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "${top_srcdir:-$(dirname "$0")/../..}/tests/harness.sh"

SBTUNE=${SBTUNE:-$top_builddir/tuner/sbtune}
SBAGENT=${SBAGENT:-$top_builddir/agent/sbagent}
LOADGEN=${LOADGEN:-$top_builddir/tests/loadgen}
for b in "$SBTUNE" "$SBAGENT" "$LOADGEN"; do
    [ -x "$b" ] || sb_fail "$b not built"
done
command -v jq >/dev/null || sb_fail "jq is needed"
work=$(mktemp -d "${TMPDIR:-/tmp}/sbtest-discover.XXXXXX") || sb_fail "mktemp -d"
chmod 755 "$work"
[ -n "${KEEP:-}" ] || sb_at_exit rm -rf "$work"

# a copy of the tree (httpd and sbtune both read ${SBTREE} from the
# environment)
cp -R "$top_srcdir/tests/data/httpdconf/tree" "$work/tree"
chmod -R go-w "$work/tree"
SBTREE=$work/tree
export SBTREE
T=$SBTREE
snip=$T/conf.d/20-sbtune.conf

# src JSON NAME: the source discovery gives for NAME
src()
{
    jq -r --arg n "$2" '.discovery.settings[$n].source' "$1"
}
val()
{
    jq -r --arg n "$2" '.discovery.settings[$n].value' "$1"
}

# keepalive_header: the timeout of the Keep-Alive response header
keepalive_header()
{
    curl -s -o /dev/null -D - -H 'Connection: keep-alive' "$SB_HTTPD_URL/" |
        sed -n 's/^Keep-Alive: timeout=\([0-9]*\).*/\1/p' | tr -d '\r'
}

# an empty history for the discovery-only runs (sbtune report needs one)
empty=$work/empty.db
"$SBAGENT" --scoreboard /nonexistent --history "$empty" --duration 0.1 >/dev/null 2>&1
[ -f "$empty" ] || sb_fail "no history file made by sbagent"

for mpm in event prefork; do
    if [ "$mpm" = event ]; then
        sb_httpd_start "discover-$mpm" mpm=event include="$T/tuning.conf"
    else
        sb_httpd_start "discover-$mpm" mpm=prefork start_servers=2 include="$T/tuning.conf"
    fi
    ctl="$SB_APACHE2 -f $SB_HTTPD_CONF"
    out=$work/$mpm.json
    "$SBTUNE" report --history "$empty" --apachectl "$ctl" --format json >"$out" 2>"$work/$mpm.err"
    sb_assert_eq "$?" 5 "$mpm: report on an empty history (too little data)"
    [ ! -s "$work/$mpm.err" ] || sb_fail "$mpm: stderr: $(cat "$work/$mpm.err")"
    sb_assert_json "$out" '.discovery.status == "discovered"' "$mpm: discovered"
    sb_assert_eq "$(val "$out" MPM)" "$mpm" "$mpm: the MPM"
    sb_assert_eq "$(src "$out" MPM)" "apachectl -V" "$mpm: the MPM's source"
    jq -e --arg x "$T/mods/mpm.conf" '.discovery.files | index($x) != null' "$out" >/dev/null ||
        sb_fail "$mpm: the globbed include is not among the files"
    # the <IfDefine SHORT_KA> after "Define SHORT_KA" (mod_status is loaded)
    sb_assert_eq "$(val "$out" KeepAliveTimeout)" 7 "$mpm: KeepAliveTimeout"
    sb_assert_eq "$(src "$out" KeepAliveTimeout)" "$T/conf.d/10-keepalive.conf:10" \
        "$mpm: KeepAliveTimeout's file:line"
    sb_assert_eq "$(keepalive_header)" 7 "$mpm: httpd's Keep-Alive header agrees"
    sb_assert_eq "$(val "$out" KeepAlive)" On "$mpm: KeepAlive (the vhost's Off not counted)"
    sb_assert_eq "$(src "$out" KeepAlive)" "$snip:2" "$mpm: KeepAlive from the snippet"
    jq -e --arg x "$T/tuning.conf:14: KeepAliveTimeout 2 inside <VirtualHost>" \
        '.discovery.notes | map(startswith($x)) | any' "$out" >/dev/null ||
        sb_fail "$mpm: the vhost's KeepAliveTimeout is not noted: $(jq -c .discovery.notes "$out")"
    ct=$("$SB_APACHE2" -f "$SB_HTTPD_CONF" -t 2>&1)
    sb_assert_match "$(src "$out" MaxRequestWorkers)" "^$T/tuning.conf:18 says 48; httpd lowers" \
        "$mpm: MaxRequestWorkers from the continued line, lowered"
    sb_assert_eq "$(val "$out" ListenBacklog)" 64 "$mpm: ListenBacklog (<IfModule !...>)"
    sb_assert_eq "$(val "$out" MaxConnectionsPerChild)" 1000 \
        "$mpm: MaxConnectionsPerChild (<IfModule status_module>)"
    sb_status_fetch || sb_fail "$mpm: mod_status"
    if [ "$mpm" = event ]; then
        sb_assert_eq "$(val "$out" MaxRequestWorkers)" 32 "event: MaxRequestWorkers in force"
        sb_assert_match "$ct" "MaxRequestWorkers of 48 .* decreasing to 32" \
            "event: httpd lowers it to 32 too"
        sb_assert_eq "$(val "$out" ServerLimit)" 4 "event: ServerLimit"
        sb_assert_eq "$(src "$out" ServerLimit)" "$T/mods/mpm.conf:14" "event: its file:line"
        sb_assert_eq "$(val "$out" ThreadLimit)" 16 "event: ThreadLimit (quoted)"
        sb_assert_eq "$(val "$out" ThreadsPerChild)" 8 "event: ThreadsPerChild"
        sb_assert_eq "${#SB_SB_LINE}" 32 "event: mod_status shows ServerLimit 4 x ThreadsPerChild 8"
        sb_assert_match "$("$SBAGENT" --scoreboard "$SB_SCOREBOARD" --count 1 2>/dev/null)" \
            "limits: +ServerLimit 4, ThreadLimit 16" "event: the scoreboard's limits agree"
        sb_assert_eq "$(val "$out" MinSpareThreads)" 8 "event: MinSpareThreads"
        sb_assert_eq "$(src "$out" MinSpareThreads)" "$T/mods/event-extra.inc:2" \
            "event: from the include nested in <IfModule mpm_event_module>"
        sb_assert_eq "$(val "$out" AsyncRequestWorkerFactor)" 1.5 "event: AsyncRequestWorkerFactor"
        sb_assert_eq "$(src "$out" StartServers)" "$snip:4" "event: StartServers (snippet)"
        event_dir=$SB_HTTPD_DIR
    else
        sb_assert_eq "$(val "$out" MaxRequestWorkers)" 16 "prefork: MaxRequestWorkers in force"
        sb_assert_match "$ct" "MaxRequestWorkers of 48 exceeds ServerLimit value of 16" \
            "prefork: httpd lowers it to 16 too"
        sb_assert_eq "$(src "$out" ServerLimit)" "$T/mods/mpm.conf:7" "prefork: ServerLimit"
        sb_assert_eq "${#SB_SB_LINE}" 16 "prefork: mod_status shows ServerLimit 16"
        sb_assert_eq "$(src "$out" StartServers)" "$T/mods/mpm.conf:3" \
            "prefork: StartServers (the event block of the snippet is false)"
        sb_assert_json "$out" '.discovery.settings | has("ThreadsPerChild") | not' \
            "prefork: no ThreadsPerChild"
        sb_assert_eq "$(val "$out" MinSpareServers)" 1 "prefork: MinSpareServers"
        sb_httpd_stop
    fi
    sb_log "$mpm: discovered $(jq -c '[.discovery.settings | to_entries[] |
        "\(.key) \(.value.value)"]' "$out")"
done
sb_httpd_select "$event_dir"

# Debian's own apachectl on the stock /etc/apache2 (read only: -V, -M,
# -t -D DUMP_RUN_CFG, -t -D DUMP_INCLUDES): the MPM it names, every file
# it lists, MaxRequestWorkers from the loaded MPM's mods-enabled file
if [ -f /etc/apache2/apache2.conf ] && command -v apache2ctl >/dev/null; then
    "$SBTUNE" report --history "$empty" --apachectl apache2ctl --format json \
        >"$work/debian.json" 2>"$work/debian.err"
    sb_assert_eq "$?" 5 "Debian's apachectl: report on an empty history"
    sb_assert_json "$work/debian.json" '.discovery.status == "discovered"' \
        "Debian's apachectl: discovered ($(cat "$work/debian.err"))"
    dmpm=$(apache2ctl -V 2>/dev/null | sed -n 's/^Server MPM: *//p')
    sb_assert_eq "$(val "$work/debian.json" MPM)" "$dmpm" "Debian's apachectl: the MPM"
    sb_assert_eq "$(jq '.discovery.files | length' "$work/debian.json")" \
        "$(apache2ctl -t -D DUMP_INCLUDES 2>/dev/null | grep -c '^ *(')" \
        "Debian's apachectl: every file DUMP_INCLUDES lists"
    f=/etc/apache2/mods-enabled/mpm_$dmpm.conf
    if [ -f "$f" ] && line=$(grep -n '^[[:space:]]*MaxRequestWorkers' "$f" | tail -1 | cut -d: -f1) &&
        [ -n "$line" ]; then
        sb_assert_match "$(src "$work/debian.json" MaxRequestWorkers)" "^$f:$line" \
            "Debian's apachectl: MaxRequestWorkers from $f"
    fi
    sb_log "Debian's stock configuration: $(jq -c '[.discovery.settings | to_entries[] |
        "\(.key) \(.value.value) (\(.value.source))"]' "$work/debian.json")"
else
    sb_log "no stock /etc/apache2 here: Debian's apachectl not tried"
fi

# --mpm against what runs: a conflict, the option wins
"$SBTUNE" report --history "$empty" --apachectl "$SB_APACHE2 -f $SB_HTTPD_CONF" --mpm worker \
    --format json >"$work/mpm.json" 2>"$work/mpm.err"
sb_assert_eq "$(cat "$work/mpm.err")" \
    "sbtune report: conflict: --mpm worker, but httpd runs the event MPM (apachectl -V): the option wins" \
    "the MPM conflict"
sb_assert_json "$work/mpm.json" '.discovery.settings.MPM == {"value": "worker", "source": "option"}'

# a configuration that does not parse: the fallback names httpd's error
printf 'ServerName 127.0.0.1\nLoadModule mpm_event_module %s/mod_mpm_event.so\nNoSuchDirective 1\n' \
    "$SB_MODULES_DIR" >"$work/broken.conf"
"$SBTUNE" report --history "$empty" --apachectl "$SB_APACHE2 -f $work/broken.conf" \
    --format json >"$work/broken.json" 2>"$work/broken.err"
sb_assert_eq "$?" 5 "a broken configuration does not fail the report"
sb_assert_eq "$(grep -c . "$work/broken.err")" 1 "one line says why"
sb_assert_match "$(cat "$work/broken.err")" \
    "not discovered: '$SB_APACHE2 -f $work/broken.conf -M' exited 1 \(.*line 3 of $work/broken.conf: Invalid command 'NoSuchDirective'" \
    "httpd's own error, with its file and line"
sb_assert_json "$work/broken.json" '.discovery.status == "failed"'

# a snippet that exists but that the command does not load: discovery is
# not trusted (another httpd's configuration), the fallback says why
echo "MaxRequestWorkers 77" >"$work/other-snippet.conf"
"$SBTUNE" report --history "$empty" --apachectl "$SB_APACHE2 -f $SB_HTTPD_CONF" \
    --snippet "$work/other-snippet.conf" --format json >"$work/other.json" 2>"$work/other.err"
sb_assert_match "$(cat "$work/other.err")" "not discovered: the snippet $work/other-snippet.conf is not among" \
    "a snippet httpd does not load"
sb_assert_json "$work/other.json" '.discovery.settings.MaxRequestWorkers.value == 77' \
    "the fallback takes the snippet's value"

# ---------------------------------------------------------------- a live history
hist=$work/history.db
sb_bg "$LOADGEN" --url "$SB_HTTPD_URL/" --rate 4 --requests 3 --gap 0.2 --seed 5 \
    --duration 68 --timeout 30 --json-out "$work/load.json"
load=$SB_BG_PID
sb_bg sh -c "exec \"$SBAGENT\" --scoreboard \"$SB_SCOREBOARD\" --history \"$hist\" \
    --duration 70 2>\"$work/agent.err\""
agent=$SB_BG_PID
sb_wait_file "$work/load.json" 120 || sb_fail "loadgen did not finish"
wait "$load" 2>/dev/null
wait "$agent" 2>/dev/null
MIN="--min-minutes 1 --min-conns 10 --min-gaps 10"
ctl="$SB_APACHE2 -f $SB_HTTPD_CONF"

# no --mpm, no limit option: the text report names every source
"$SBTUNE" report --history "$hist" $MIN --apachectl "$ctl" --scoreboard "$SB_SCOREBOARD" \
    >"$work/report.txt" 2>"$work/report.err"
rc=$?
sed 's/^/#   /' "$work/report.txt" >&2
[ "$rc" = 0 ] || [ "$rc" = 4 ] || sb_fail "report: exit $rc: $(cat "$work/report.err")"
[ ! -s "$work/report.err" ] || sb_fail "report: stderr: $(cat "$work/report.err")"
txt=$(cat "$work/report.txt")
sb_assert_match "$txt" "sbtune report: event MPM" "the MPM discovered, not the prefork default"
sb_assert_match "$txt" "Current settings \(discovered through '$ctl'" "discovery named"
sb_assert_match "$txt" "  MPM event \(apachectl -V\)" "the MPM's source"
sb_assert_match "$txt" "  KeepAliveTimeout 7 \($T/conf.d/10-keepalive.conf:10\)" "KeepAliveTimeout"
sb_assert_match "$txt" "  MaxRequestWorkers 32 \($T/tuning.conf:18 says 48; httpd lowers it to 32" \
    "MaxRequestWorkers"
sb_assert_match "$txt" "  ServerLimit 4 \($T/mods/mpm.conf:14\)" "ServerLimit (the scoreboard agrees)"
sb_assert_match "$txt" "  ThreadsPerChild 8 \($T/mods/mpm.conf:15\)" "ThreadsPerChild"
sb_assert_match "$txt" "MinSpareThreads 8 \($T/mods/event-extra.inc:2\)" "MinSpareThreads"
sb_assert_match "$txt" "Recommendation:" "a plan from the discovered values"

# an explicit option wins; the conflict is one line on stderr, and in the JSON
"$SBTUNE" report --history "$hist" $MIN --apachectl "$ctl" --max-request-workers 12 \
    --format json >"$work/conflict.json" 2>"$work/conflict.err"
rc=$?
[ "$rc" = 0 ] || [ "$rc" = 4 ] || sb_fail "report --max-request-workers: exit $rc"
sb_assert_eq "$(grep -c . "$work/conflict.err")" 1 "one line on stderr"
sb_assert_match "$(cat "$work/conflict.err")" \
    "conflict: --max-request-workers 12, but httpd runs MaxRequestWorkers 32 \($T/tuning.conf:18" \
    "the conflict names the option, the running value and its file:line"
sb_assert_json "$work/conflict.json" '.current.MaxRequestWorkers == 12' "the option wins"
sb_assert_json "$work/conflict.json" '.discovery.settings.MaxRequestWorkers.source == "option"'
sb_assert_json "$work/conflict.json" '.discovery.conflicts | length == 1'
sb_assert_json "$work/conflict.json" '.current.KeepAliveTimeout == 7 and .current.ServerLimit == 4'

# under --cron the conflict is not mailed every run: a run that changes
# nothing prints nothing (the report carries the conflict when it prints)
"$SBTUNE" report --history "$hist" $MIN --apachectl "$ctl" --max-request-workers 12 --apply \
    --cron --dry-run --snippet "$snip" --scoreboard "$SB_SCOREBOARD" >"$work/cron.out" \
    2>"$work/cron.err"
rc=$?
[ "$rc" = 0 ] || [ "$rc" = 11 ] || sb_fail "report --cron: exit $rc: $(cat "$work/cron.err")"
[ ! -s "$work/cron.out" ] && [ ! -s "$work/cron.err" ] ||
    sb_fail "report --cron printed with nothing changed: $(cat "$work/cron.out" "$work/cron.err")"

# --apply --dry-run plans from the discovered values (the snippet is the
# tree's, included by httpd)
"$SBTUNE" report --history "$hist" $MIN --apachectl "$ctl" --apply --dry-run \
    --snippet "$snip" --scoreboard "$SB_SCOREBOARD" --format json >"$work/apply.json" \
    2>"$work/apply.err"
rc=$?
[ "$rc" = 0 ] || [ "$rc" = 11 ] || sb_fail "report --apply --dry-run: exit $rc: $(cat "$work/apply.err")"
sb_assert_json "$work/apply.json" '.current.MaxRequestWorkers == 32 and .current.KeepAliveTimeout == 7' \
    "--apply starts from the discovered values"
sb_assert_json "$work/apply.json" '.discovery.status == "discovered"'

# apachectl that cannot run: one line, then today's behaviour (the
# snippet's KeepAlive On, the rest httpd's defaults for --mpm)
"$SBTUNE" report --history "$hist" $MIN --apachectl "$work/no-such-apachectl" --mpm event \
    --snippet "$snip" --format json >"$work/fallback.json" 2>"$work/fallback.err"
rc=$?
[ "$rc" = 0 ] || [ "$rc" = 4 ] || sb_fail "fallback: exit $rc: $(cat "$work/fallback.err")"
sb_assert_eq "$(grep -c . "$work/fallback.err")" 1 "the fallback is one line on stderr"
sb_assert_match "$(cat "$work/fallback.err")" "not discovered: .*no-such-apachectl.*; using the options" \
    "the reason"
sb_assert_json "$work/fallback.json" '.discovery.status == "failed" and (.discovery.reason | length > 0)'
sb_assert_json "$work/fallback.json" \
    '.discovery.settings.MaxRequestWorkers == {"value": 400, "source": "httpd default"}' \
    "httpd's default for event"

# ServerLimit changed in the file but not applied (a graceful restart does
# not): the scoreboard's is in force, the source says what the file says
sed -i 's/^    ServerLimit 4$/    ServerLimit 6/' "$T/mods/mpm.conf"
"$SBTUNE" report --history "$empty" --apachectl "$ctl" --scoreboard "$SB_SCOREBOARD" \
    --format json >"$work/pending.json" 2>"$work/pending.err"
sb_assert_json "$work/pending.json" '.discovery.settings.ServerLimit.value == 4' \
    "ServerLimit in force: the scoreboard's"
sb_assert_eq "$(src "$work/pending.json" ServerLimit)" \
    "scoreboard $SB_SCOREBOARD; the configuration says 6 at $T/mods/mpm.conf:14: a stop and start applies it" \
    "the pending ServerLimit is named"
sb_pass
