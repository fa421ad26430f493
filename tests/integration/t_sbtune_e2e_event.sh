#!/bin/sh
# t_sbtune_e2e_event: the whole flow of t_sbtune_e2e.sh on a real event
# httpd.  On event an idle keep-alive connection holds no worker; what
# queues clients is the per-process connection ceiling (ThreadsPerChild +
# AsyncRequestWorkerFactor x idle workers): once a process holds that many
# connections its listener stops accepting and new clients wait in the
# accept queue.  httpd starts with one process of 4 threads
# (MaxRequestWorkers 4, ServerLimit 8 so that growing needs no stop and
# start) and AsyncRequestWorkerFactor 1: at most ~8 connections, like the
# prefork test's 8 slots.  The same browser-like lingering load (1.2
# clients/s, ~5.7 s each with KeepAliveTimeout 5, ~6.8 erlangs) queues
# clients for seconds but keeps up (see t_sbtune_e2e.sh for the short
# window; the overload whose queue grows without bound is
# t_sbtune_overload_event.sh).
# AsyncRequestWorkerFactor has no harness key: the harness's include= names
# a wrapper that sets it and includes sbtune's snippet.
#
# The report runs with no --mpm and no limit option (sbtune(8), DISCOVERY),
# on a configuration that spreads them: the wrapper includes conf.d/*.conf,
# where the MPM limits are inside <IfModule> blocks for prefork and event
# and KeepAliveTimeout 5 overrides the harness's 15; the report names the
# file and line of each.
#
# Targets: p99 after < 1000 ms and p99 after < p99 before / 5, no refused
# or failed connection after.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "${top_srcdir:-$(dirname "$0")/../..}/tests/harness.sh"

SBTUNE=${SBTUNE:-$top_builddir/tuner/sbtune}
SBAGENT=${SBAGENT:-$top_builddir/agent/sbagent}
LOADGEN=${LOADGEN:-$top_builddir/tests/loadgen}
for b in "$SBTUNE" "$SBAGENT" "$LOADGEN"; do
    [ -x "$b" ] || sb_fail "$b not built"
done
command -v sqlite3 >/dev/null || sb_fail "sqlite3 not found: apt-get install sqlite3"
work=$(mktemp -d "${TMPDIR:-/tmp}/sbtest-e2e-event.XXXXXX") || sb_fail "mktemp -d"
chmod 755 "$work"
sb_at_exit rm -rf "$work"
snipdir=$work/snippets
mkdir -m 755 "$snipdir"
snip=$snipdir/sbtune-tuning.conf
wrap=$work/event-extra.conf
mkdir -m 755 "$work/conf.d"
cat >"$work/conf.d/mpm.conf" <<'EOF'
# the limits per MPM: only the loaded one's count
<IfModule mpm_prefork_module>
    ServerLimit 150
    MaxRequestWorkers 150
</IfModule>
<IfModule mpm_event_module>
    ServerLimit 8
    ThreadLimit 4
    ThreadsPerChild 4
    MaxRequestWorkers 4
    AsyncRequestWorkerFactor 1
</IfModule>
EOF
printf '# over the harness'"'"'s KeepAliveTimeout 15\nKeepAliveTimeout 5\n' >"$work/conf.d/keepalive.conf"
printf 'Include "%s/conf.d/*.conf"\nIncludeOptional "%s"\n' "$work" "$snip" >"$wrap"
chmod 644 "$wrap" "$work/conf.d/"*.conf
hist=$work/history.db
RATE=1.2
MIN="--min-minutes 1 --min-conns 20 --min-gaps 20"
LOAD="--rate $RATE --requests 3 --gap 0.3 --linger --seed 11 --drain 15 --timeout 60"

sb_httpd_start e2e-event mpm=event server_limit=8 thread_limit=4 threads_per_child=4 \
    max_workers=4 start_servers=1 min_spare=8 max_spare=16 include="$wrap"

# ---------------------------------------------------------------- before
sb_load_start ${BEFORE_S:-130} "$work/before.json" $LOAD
before_pid=$SB_LOAD_PID
sb_bg sh -c "exec \"$SBAGENT\" --scoreboard \"$SB_SCOREBOARD\" --history \"$hist\" \
    --duration $((${BEFORE_S:-130} + 2)) 2>\"$work/agent.err\""
agent=$SB_BG_PID
sb_load_wait "$before_pid" "$work/before.json" 200
wait "$agent" 2>/dev/null
p99_before=$(jq '.ttfb_ms.p99' "$work/before.json")
lq=$(sb_hist_q "$hist" "SELECT coalesce(max(listen_queue_max), -1) FROM minute;")
minutes=$(sb_hist_q "$hist" "SELECT count(*) FROM minute WHERE conn_per_s_mean IS NOT NULL;")
sb_log "before: 1 x 4 threads, AsyncRequestWorkerFactor 1, KeepAliveTimeout 5, $RATE lingering clients/s:" \
    "ttfb p99 ${p99_before} ms, refused $(jq .refused "$work/before.json")," \
    "history: $minutes minute(s), listen_queue_max $lq"
sb_assert_ge "$lq" 1 "accept queue seen by the agent before the change"
jq -e '.ttfb_ms.p99 > 1000' "$work/before.json" >/dev/null ||
    sb_fail "the starting configuration does not queue clients (p99 ${p99_before} ms)"

[ -z "${SB_KEEP_HISTORY:-}" ] || sqlite3 "$hist" ".backup '$SB_KEEP_HISTORY'"

# ---------------------------------------------------------------- one cycle
gen=$(sb_generation)
"$SBTUNE" report --history "$hist" $MIN --apachectl "$SB_APACHE2 -f $SB_HTTPD_CONF" \
    --format apache >"$work/snippet.preview" 2>&1
rc=$?
sed 's/^/#   /' "$work/snippet.preview" >&2
[ "$rc" = 10 ] || [ "$rc" = 11 ] || [ "$rc" = 0 ] ||
    sb_fail "--format apache: exit $rc: $(cat "$work/snippet.preview")"
"$SBTUNE" report --history "$hist" $MIN \
    --apply --snippet "$snip" --apachectl "$SB_APACHE2 -f $SB_HTTPD_CONF" \
    --scoreboard "$SB_SCOREBOARD" --status-url "$SB_STATUS_URL" --cron >"$work/apply.out" 2>&1
rc=$?
sed 's/^/#   /' "$work/apply.out" >&2
sb_assert_eq "$rc" 10 "sbtune report --apply exit status (changed)"
applied=$(cat "$work/apply.out")
sb_assert_match "$applied" "  MPM event \(apachectl -V\)" "the MPM discovered"
for d in "ServerLimit 8 @mpm.conf:7" "ThreadLimit 4 @mpm.conf:8" "ThreadsPerChild 4 @mpm.conf:9" \
    "MaxRequestWorkers 4 @mpm.conf:10" "AsyncRequestWorkerFactor 1 @mpm.conf:11" \
    "KeepAliveTimeout 5 @keepalive.conf:2"; do
    grep -qF "  ${d% @*} ($work/conf.d/${d#*@})" "$work/apply.out" ||
        sb_fail "not discovered: ${d% @*} from conf.d/${d#*@}"
done
[[ $applied != *conflict* ]] || sb_fail "a conflict without options: $applied"
sb_assert_eq "$(sb_generation)" $((gen + 1)) "one graceful reload"
mrw=$(sed -n 's/^ *MaxRequestWorkers \([0-9]*\)$/\1/p' "$snip")
kat=$(sed -n 's/^KeepAliveTimeout \([0-9]*\)$/\1/p' "$snip")
sb_assert_eq "$(sb_hist_q "$hist" "SELECT count(*) FROM changes WHERE action = 'apply' AND result LIKE 'ok%';")" 1 \
    "the change is recorded in the history"

# ---------------------------------------------------------------- after
sb_load_start 40 "$work/after.json" $LOAD
sb_load_wait "$SB_LOAD_PID" "$work/after.json" 200
p99_after=$(jq '.ttfb_ms.p99' "$work/after.json")
sb_log "after: MaxRequestWorkers ${mrw:-?}, KeepAliveTimeout ${kat:-?}: ttfb p99 ${p99_after} ms," \
    "refused $(jq .refused "$work/after.json"), failed $(jq .failed.total "$work/after.json")"
sb_log "before -> after: ttfb p99 ${p99_before} ms -> ${p99_after} ms"
sb_assert_json "$work/after.json" '.refused == 0' "no refused connection after the change"
sb_assert_json "$work/after.json" '.failed.total == 0' "no failed request after the change"
sb_assert_json "$work/after.json" '.ttfb_ms.p99 < 1000' "ttfb p99 after < 1000 ms"
jq -e --argjson b "$p99_before" '.ttfb_ms.p99 < $b / 5' "$work/after.json" >/dev/null ||
    sb_fail "ttfb p99 after ($p99_after ms) not below a fifth of before ($p99_before ms)"
sb_pass
