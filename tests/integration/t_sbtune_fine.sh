#!/bin/sh
# t_sbtune_fine: issue #10's "a server that is fine: no change, exit 0" on a
# real prefork httpd.  The same browser-like lingering load as
# tests/overload.sh, lighter (1 new client/s, 3 requests 0.2 s apart), first
# on a generous httpd (MaxRequestWorkers 32, KeepAliveTimeout 5) to learn
# the plan (`sbtune report`, no apply); then a second httpd started at the
# planned MaxRequestWorkers and KeepAliveTimeout records the same load into
# a fresh history, and `sbtune report --apply --cron` on it must change
# nothing: exit 0, nothing printed, no reload, no overload found.
#
# The short windows are those of t_sbtune_e2e.sh (--min-minutes 1
# --min-conns 20 --min-gaps 20).  --spike-factor 5: over two minutes the
# busiest second (the peak, max of ~120 Poisson(1) counts: 3 to 6) would
# set the design rate and vary by more than the 10 % threshold from one
# recording to the next; 5 x the busy-period mean (whose noise over two
# minutes is ~9 %) stays above any such peak.  Both runs use it.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "${top_srcdir:-$(dirname "$0")/../..}/tests/harness.sh"

SBTUNE=${SBTUNE:-$top_builddir/tuner/sbtune}
SBAGENT=${SBAGENT:-$top_builddir/agent/sbagent}
LOADGEN=${LOADGEN:-$top_builddir/tests/loadgen}
for b in "$SBTUNE" "$SBAGENT" "$LOADGEN"; do
    [ -x "$b" ] || sb_fail "$b not built"
done
work=$(mktemp -d "${TMPDIR:-/tmp}/sbtest-fine.XXXXXX") || sb_fail "mktemp -d"
chmod 755 "$work"
sb_at_exit rm -rf "$work"
mkdir -m 755 "$work/snippets"
snip=$work/snippets/sbtune-tuning.conf
MIN="--min-minutes 1 --min-conns 20 --min-gaps 20 --spike-factor 5"
LOAD="--rate 1 --requests 3 --gap 0.2 --linger --seed 31 --drain 10 --timeout 60"

# record HISTORY NAME: 90 s of the load, the agent recording
record()
{
    local agent
    sb_bg "$SBAGENT" --scoreboard "$SB_SCOREBOARD" --history "$1" --duration 92
    agent=$SB_BG_PID
    "$LOADGEN" --url "$SB_HTTPD_URL/" $LOAD --duration 90 --json-out "$work/$2.json" ||
        sb_fail "loadgen failed ($2)"
    wait "$agent" 2>/dev/null
    sb_log "$2: ttfb p99 $(jq .ttfb_ms.p99 "$work/$2.json") ms, refused $(jq .refused "$work/$2.json")," \
        "failed $(jq .failed.total "$work/$2.json")"
}

# ---------------------------------------------------------------- learn the plan
sb_httpd_start fine-a mpm=prefork server_limit=64 max_workers=32 start_servers=8 \
    min_spare=1 max_spare=32 keepalive_timeout=5
record "$work/a.db" learn
"$SBTUNE" report --history "$work/a.db" --mpm prefork $MIN --max-request-workers 32 \
    --server-limit 64 --keepalive-timeout 5 --apachectl "$SB_APACHE2 -f $SB_HTTPD_CONF" \
    --format json >"$work/plan.json" 2>"$work/plan.err" ||
    sb_fail "report: $(cat "$work/plan.err" "$work/plan.json")"
mrw=$(jq .recommendation.MaxRequestWorkers "$work/plan.json")
kat=$(jq .recommendation.KeepAliveTimeout "$work/plan.json")
sb_assert_json "$work/plan.json" '.overloaded == false' "a generous server is not overloaded"
sb_log "plan: MaxRequestWorkers $mrw, KeepAliveTimeout $kat"
sb_httpd_stop

# ---------------------------------------------------------------- the server that is fine
sb_httpd_start fine-b mpm=prefork server_limit=64 max_workers="$mrw" start_servers="$mrw" \
    min_spare=1 max_spare="$mrw" keepalive_timeout="$kat" include="$snip"
record "$work/b.db" fine
sb_assert_json "$work/fine.json" '.refused == 0 and .failed.total == 0' \
    "the server at the plan serves every client"
gen=$(sb_generation)
"$SBTUNE" report --history "$work/b.db" --mpm prefork $MIN --max-request-workers "$mrw" \
    --server-limit 64 --keepalive-timeout "$kat" --apachectl "$SB_APACHE2 -f $SB_HTTPD_CONF" \
    --format json >"$work/fine-plan.json" 2>"$work/fine-plan.err"
sb_log "the plan on the fine server: MaxRequestWorkers" \
    "$(jq .recommendation.MaxRequestWorkers "$work/fine-plan.json"), KeepAliveTimeout" \
    "$(jq .recommendation.KeepAliveTimeout "$work/fine-plan.json"), overloaded" \
    "$(jq .overloaded "$work/fine-plan.json")"
"$SBTUNE" report --history "$work/b.db" --mpm prefork $MIN --max-request-workers "$mrw" \
    --server-limit 64 --keepalive-timeout "$kat" \
    --apply --snippet "$snip" --apachectl "$SB_APACHE2 -f $SB_HTTPD_CONF" \
    --scoreboard "$SB_SCOREBOARD" --status-url "$SB_STATUS_URL" --cron >"$work/apply.out" 2>&1
rc=$?
sed 's/^/#   /' "$work/apply.out" >&2
sb_assert_eq "$rc" 0 "a server that is fine: no change (exit 0)"
[ ! -s "$work/apply.out" ] || sb_fail "--cron printed without a change"
sb_assert_eq "$(sb_generation)" "$gen" "no reload"
[ ! -s "$snip" ] || sb_fail "the snippet was written: $(cat "$snip")"
sb_pass
