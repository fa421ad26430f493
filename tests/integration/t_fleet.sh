#!/bin/sh
# t_fleet: plans from Prometheus are the plans from the history.  Two real
# httpds (prefork and event) under loadgen's load, each measured by a real
# sbagent that serves its metrics (--listen) and writes its SQLite history;
# a private Debian prometheus (own configuration, storage and loopback
# port; scrape every second) scrapes both.  Once each history holds two
# minutes (the first partial), `sbtune report --prometheus URL --instance HOST:PORT`
# must plan what `sbtune report --history FILE` plans from the same agent
# (MaxRequestWorkers within 10 %, KeepAliveTimeout equal), with the
# settings the agent exports matching those discovered from httpd, and
# `sbtune fleet` must list both instances (text and json) with those
# plans.  Errors: an unreachable URL (exit 6), a URL that answers but is
# not Prometheus (6), an instance without series (7), each named.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "${top_srcdir:-$(dirname "$0")/../..}/tests/harness.sh"

SBAGENT=${SBAGENT:-$top_builddir/agent/sbagent}
SBTUNE=${SBTUNE:-$top_builddir/tuner/sbtune}
LOADGEN=${LOADGEN:-$top_builddir/tests/loadgen}
PROMETHEUS=${PROMETHEUS:-prometheus}
for b in "$SBAGENT" "$SBTUNE" "$LOADGEN"; do
    [ -x "$b" ] || sb_fail "$b not built"
done
command -v "$PROMETHEUS" >/dev/null ||
    sb_fail "$PROMETHEUS not found: apt-get install prometheus (tools/install-deps installs it)"
for t in jq sqlite3; do
    command -v $t >/dev/null || sb_fail "$t not found: apt-get install $t"
done
start=$(date +%s)
work=$(mktemp -d "${TMPDIR:-/tmp}/sbtest-fleet.XXXXXX") || sb_fail "mktemp -d"
chmod 755 "$work"
sb_at_exit rm -rf "$work"
MIN="--min-minutes 1 --min-conns 20 --min-gaps 20 --window-days 0.02"

# ---------------------------------------------------------------- two httpds, load, agents
# Browser-like clients: 3 requests 1.2 s apart, then idle until httpd
# closes (KeepAliveTimeout 5), 1 new client/s on each httpd; bounded.  The
# gaps make the recommended KeepAliveTimeout 2 (their 95th percentile is
# about 1.3 s), neither the current one nor the shortest: the plan takes
# it from the gap histogram read back from Prometheus.
# run MPM: httpd, load and agent; sets dir_MPM, port_MPM, hist_MPM, pid_MPM
run()
{
    local mpm=$1 aport extra=""
    shift
    sb_httpd_start "fleet-$mpm" mpm="$mpm" keepalive_timeout=5 "$@"
    eval "dir_$mpm=\$SB_HTTPD_DIR"
    sb_bg "$LOADGEN" --url "$SB_HTTPD_URL/" --rate 1 --requests 3 --gap 1.2 --gap-dist fixed \
        --linger --seed 17 --duration 200 --drain 1 >/dev/null
    aport=$(_sb_pick_port) || sb_fail "no free port"
    [ "$mpm" = prefork ] || extra="--threads-per-child $SB_HTTPD_THREADS_PER_CHILD"
    # the settings it exports: those httpd was started with (the plan from
    # the history discovers them; the two must agree, checked below)
    sb_bg sh -c "exec \"$SBAGENT\" --scoreboard \"$SB_SCOREBOARD\" --listen 127.0.0.1:$aport \
        --history \"$work/$mpm.db\" --max-request-workers $SB_HTTPD_MAX_WORKERS \
        --keepalive-timeout 5 $extra 2>\"$work/agent-$mpm.err\""
    eval "port_$mpm=$aport pid_$mpm=$SB_BG_PID"
}
run prefork server_limit=16 max_workers=12 start_servers=8 min_spare=1 max_spare=12
run event
sb_log "prefork agent on 127.0.0.1:$port_prefork, event agent on 127.0.0.1:$port_event"

# ---------------------------------------------------------------- prometheus
pport=$(_sb_pick_port) || sb_fail "no free port"
cat >"$work/prometheus.yml" <<EOC
# t_fleet: a private server, never the system's
global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: sbagent
    static_configs:
      - targets: ['127.0.0.1:$port_prefork', '127.0.0.1:$port_event']
EOC
sb_bg sh -c "exec \"$PROMETHEUS\" --config.file=\"$work/prometheus.yml\" \
    --storage.tsdb.path=\"$work/tsdb\" --web.listen-address=127.0.0.1:$pport \
    --web.console.templates=\"$work\" --web.console.libraries=\"$work\" \
    --log.level=warn 2>\"$work/prometheus.log\""
prom=$SB_BG_PID
url=http://127.0.0.1:$pport

# wait_for SECONDS CMD...: poll CMD until it succeeds; 1 on timeout or
# when prometheus or an agent died
wait_for()
{
    local end=$(($(date +%s) + $1)) p
    shift
    until "$@"; do
        for p in "$prom" "$pid_prefork" "$pid_event"; do
            _sb_alive "$p" || { sb_log "pid $p exited: $(tail -3 "$work"/*.err \
                "$work/prometheus.log")"; return 1; }
        done
        [ "$(date +%s)" -lt "$end" ] || return 1
        sleep 1
    done
}
scraped()
{
    curl -s --max-time 5 -G --data-urlencode 'query=count(up{job="sbagent"} == 1)' \
        "$url/api/v1/query" >"$work/up.json" 2>/dev/null &&
        jq -e '.data.result[0].value[1] == "2"' "$work/up.json" >/dev/null
}
wait_for 30 scraped || sb_fail "prometheus does not scrape both agents: $(cat "$work/up.json")"
sb_log "both agents scraped $(($(date +%s) - start)) s after the start"

# ---------------------------------------------------------------- the same minutes
# Two minutes with a rate in each history (the first partial), the newest one written,
# and a minute boundary not near (the reports plan from the whole minutes
# before now: both must see the same ones).
ready()
{
    local now=$(($(date +%s))) mpm n last
    [ $((now % 60)) -ge 5 ] && [ $((now % 60)) -le 40 ] || return 1
    for mpm in prefork event; do
        n=$(sqlite3 "$work/$mpm.db" "SELECT count(*) FROM minute WHERE conn_per_s_mean
            IS NOT NULL;" 2>/dev/null) || return 1
        last=$(sqlite3 "$work/$mpm.db" "SELECT coalesce(max(ts), 0) FROM minute;") || return 1
        [ "${n:-0}" -ge 2 ] && [ "$last" -eq $((now / 60 * 60 - 60)) ] || return 1
    done
}
wait_for 200 ready || sb_fail "the histories do not hold two whole minutes"
sb_log "planning $(($(date +%s) - start)) s after the start"

# plan MPM: both reports of the agent of MPM into $work/{hist,prom}-MPM.json
plan()
{
    local mpm=$1 dir port rc
    eval "dir=\$dir_$mpm port=\$port_$mpm"
    sb_httpd_select "$dir"
    "$SBTUNE" report --history "$work/$mpm.db" $MIN --scoreboard "$SB_SCOREBOARD" \
        --apachectl "$SB_APACHE2 -f $SB_HTTPD_CONF" --format json \
        >"$work/hist-$mpm.json" 2>"$work/hist-$mpm.err"
    rc=$?
    [ "$rc" -eq 0 ] || sb_fail "report --history ($mpm): exit $rc: $(cat "$work/hist-$mpm.json" \
        "$work/hist-$mpm.err")"
    "$SBTUNE" report --prometheus "$url" --instance "127.0.0.1:$port" $MIN --format json \
        >"$work/prom-$mpm.json" 2>"$work/prom-$mpm.err"
    rc=$?
    [ "$rc" -eq 0 ] || sb_fail "report --prometheus ($mpm): exit $rc: $(cat \
        "$work/prom-$mpm.json" "$work/prom-$mpm.err")"
}
plan prefork
plan event
# the text report: the settings named as the agent's series
"$SBTUNE" report --prometheus "$url" --instance "127.0.0.1:$port_prefork" $MIN \
    >"$work/prom-prefork.txt" 2>&1 || sb_fail "report --prometheus (text): exit $?"
grep -q "^Current settings (read from the agent's series in Prometheus at $url, instance" \
    "$work/prom-prefork.txt" ||
    sb_fail "report --prometheus (text): $(cat "$work/prom-prefork.txt")"
grep -q "MaxRequestWorkers 12 (sbtune_httpd_max_request_workers)" "$work/prom-prefork.txt" ||
    sb_fail "report --prometheus (text) does not name the metric: $(cat "$work/prom-prefork.txt")"
"$SBTUNE" fleet --prometheus "$url" $MIN >"$work/fleet.txt" 2>"$work/fleet.err" ||
    sb_fail "fleet: exit $?: $(cat "$work/fleet.txt" "$work/fleet.err")"
"$SBTUNE" fleet --prometheus "$url" --selector '{job="sbagent"}' $MIN --format json \
    >"$work/fleet.json" 2>"$work/fleet-json.err" ||
    sb_fail "fleet --format json: exit $?: $(cat "$work/fleet.json" "$work/fleet-json.err")"
sb_log "fleet:"$'\n'"$(cat "$work/fleet.txt")"

# ---------------------------------------------------------------- the plans agree
fig()
{
    jq -r "$2" "$1"
}
for mpm in prefork event; do
    h=$work/hist-$mpm.json p=$work/prom-$mpm.json
    sb_log "$mpm: history: $(fig "$h" '"\(.inputs.minutes) min, busy \(.inputs.busy_conn_per_s)/s,
        peak \(.inputs.peak_conn_per_s)/s, hold \(.inputs.hold_time_s) s ->
        KAT \(.recommendation.KeepAliveTimeout) MRW \(.recommendation.MaxRequestWorkers);
        overloaded \(.overloaded) \(.overload)"')"
    sb_log "$mpm: prometheus: $(fig "$p" '"\(.inputs.minutes) min,
        busy \(.inputs.busy_conn_per_s)/s,
        peak \(.inputs.peak_conn_per_s)/s, hold \(.inputs.hold_time_s) s ->
        KAT \(.recommendation.KeepAliveTimeout) MRW \(.recommendation.MaxRequestWorkers);
        overloaded \(.overloaded) \(.overload)"')"
    sb_log "$mpm: the timeout, from Prometheus: $(jq -r .arithmetic "$p" |
        grep -i -m3 'gap\|timeout')"
    sb_assert_json "$p" '.status == "ok"' "$mpm: report --prometheus plans"
    sb_assert_eq "$(fig "$p" .inputs.minutes)" "$(fig "$h" .inputs.minutes)" \
        "$mpm: minutes planned from"
    # the settings the agent exports are those discovered from httpd
    for d in MaxRequestWorkers ServerLimit KeepAliveTimeout; do
        sb_assert_eq "$(fig "$p" ".current.$d")" "$(fig "$h" ".current.$d")" \
            "$mpm: current $d from Prometheus vs discovered"
    done
    sb_assert_eq "$(fig "$p" .discovery.settings.MPM.value)" "$mpm" "$mpm: MPM from Prometheus"
    # the inputs: the busiest window's arrivals within 5 % (the minutes end
    # at the last scrape before the minute's end: up to 1 s of 60 off), the
    # overload rule's verdict the same
    jq -n -e --argjson a "$(fig "$h" .inputs.busy_conn_per_s)" \
        --argjson b "$(fig "$p" .inputs.busy_conn_per_s)" '($a - $b | fabs) <= 0.05 * $a' \
        >/dev/null || sb_fail "$mpm: busiest window's arrivals differ by over 5 %"
    sb_assert_eq "$(fig "$p" .overloaded)" "$(fig "$h" .overloaded)" "$mpm: overloaded"
    sb_assert_eq "$(fig "$p" .recommendation.KeepAliveTimeout)" \
        "$(fig "$h" .recommendation.KeepAliveTimeout)" "$mpm: recommended KeepAliveTimeout"
    mh=$(fig "$h" .recommendation.MaxRequestWorkers)
    mp=$(fig "$p" .recommendation.MaxRequestWorkers)
    jq -n -e --argjson a "$mh" --argjson b "$mp" '($a - $b | fabs) <= 0.1 * $a' >/dev/null ||
        sb_log "$mpm: the models: history $(jq -c .model "$h"), prometheus $(jq -c .model "$p")"
    jq -n -e --argjson a "$mh" --argjson b "$mp" '($a - $b | fabs) <= 0.1 * $a' >/dev/null ||
        sb_fail "$mpm: MaxRequestWorkers from Prometheus $mp, from the history $mh (over 10 %)"
    # fleet's line is the same plan
    jq -e --arg i "127.0.0.1:$(eval echo "\$port_$mpm")" --arg m "$mpm" --argjson k \
        "$(fig "$p" .recommendation.KeepAliveTimeout)" --argjson w "$mp" \
        '[.instances[] | select(.instance == $i)] | length == 1 and .[0].mpm == $m
         and .[0].status == "ok" and .[0].recommendation.KeepAliveTimeout == $k
         and .[0].recommendation.MaxRequestWorkers == $w
         and (.[0].headroom | type) == "number" and (.[0].saturated | type) == "boolean"' \
        "$work/fleet.json" >/dev/null || sb_fail "fleet --format json for $mpm: $(cat \
        "$work/fleet.json")"
    grep -Eq "^127\.0\.0\.1:$(eval echo "\$port_$mpm") +$mpm .* -> $mp .*saturated" \
        "$work/fleet.txt" || sb_fail "fleet's text has no line for $mpm: $(cat "$work/fleet.txt")"
done
sb_assert_eq "$(jq '.instances | length' "$work/fleet.json")" 2 "fleet lists two instances"
sb_assert_eq "$(grep -c '^127\.0\.0\.1:' "$work/fleet.txt")" 2 "fleet's text: two lines"

# ---------------------------------------------------------------- errors
dead=$(_sb_pick_port) || sb_fail "no free port"
"$SBTUNE" report --prometheus "http://127.0.0.1:$dead" --instance "127.0.0.1:$port_event" $MIN \
    >/dev/null 2>"$work/dead.err"
sb_assert_eq "$?" 6 "report --prometheus with nothing listening: exit"
grep -q "127.0.0.1:$dead" "$work/dead.err" || sb_fail "the error does not name the URL:" \
    "$(cat "$work/dead.err")"
"$SBTUNE" fleet --prometheus "http://127.0.0.1:$dead" >/dev/null 2>"$work/dead-fleet.err"
sb_assert_eq "$?" 6 "fleet with nothing listening: exit"
sb_httpd_select "$dir_prefork"
"$SBTUNE" report --prometheus "$SB_HTTPD_URL" --instance "127.0.0.1:$port_event" $MIN \
    >/dev/null 2>"$work/notprom.err"
sb_assert_eq "$?" 6 "report --prometheus at an httpd: exit"
grep -q "not the API's JSON" "$work/notprom.err" || sb_fail "not Prometheus, not said:" \
    "$(cat "$work/notprom.err")"
"$SBTUNE" report --prometheus "$url" --instance "127.0.0.1:$dead" $MIN \
    >/dev/null 2>"$work/noinst.err"
sb_assert_eq "$?" 7 "report --prometheus for an unknown instance: exit"
grep -q "instance=\"127.0.0.1:$dead\"" "$work/noinst.err" ||
    sb_fail "the error does not name the instance: $(cat "$work/noinst.err")"
"$SBTUNE" fleet --prometheus "$url" --selector '{job="nothing"}' >/dev/null 2>"$work/nojob.err"
sb_assert_eq "$?" 7 "fleet with a selector matching nothing: exit"
"$SBTUNE" report --prometheus "$url" $MIN >/dev/null 2>"$work/usage.err"
sb_assert_eq "$?" 2 "report --prometheus without --instance: usage"
"$SBTUNE" fleet --prometheus "$url" --selector 'job="sbagent"' >/dev/null 2>"$work/sel.err"
sb_assert_eq "$?" 2 "fleet --selector without braces: usage"
grep -q "label matchers in braces" "$work/sel.err" || sb_fail "bad selector: $(cat "$work/sel.err")"
"$SBTUNE" report --prometheus "$url" --instance "127.0.0.1:$port_event" --apply \
    --snippet "$work/snip.conf" --scoreboard /nonexistent >/dev/null 2>"$work/apply.err"
sb_assert_eq "$?" 2 "report --prometheus --apply: usage (apply stays per host)"

sb_log "done in $(($(date +%s) - start)) s"
sb_pass
