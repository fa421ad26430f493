#!/bin/sh
# t_prometheus: conf/prometheus/ works with the real Prometheus server.
# promtool checks the rule file and runs its unit tests; then a private
# prometheus (its own config, storage and loopback port; never the system's
# instance) loads the rules and scrapes a real sbagent --listen measuring a
# real prefork httpd under loadgen's load; every rule must evaluate without
# error, and every recording rule, every dashboard panel's query and the
# dashboard's variable query must return data.  Needs the Debian package
# prometheus (tools/install-deps installs it).
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "${top_srcdir:-$(dirname "$0")/../..}/tests/harness.sh"

SBAGENT=${SBAGENT:-$top_builddir/agent/sbagent}
LOADGEN=${LOADGEN:-$top_builddir/tests/loadgen}
PROMETHEUS=${PROMETHEUS:-prometheus}
PROMTOOL=${PROMTOOL:-promtool}
confdir=$top_srcdir/conf/prometheus
rules=$confdir/sbtune-rules.yml
dash=$confdir/sbtune-dashboard.json
for b in "$SBAGENT" "$LOADGEN"; do
    [ -x "$b" ] || sb_fail "$b not built"
done
for t in "$PROMETHEUS" "$PROMTOOL"; do
    command -v "$t" >/dev/null ||
        sb_fail "$t not found: apt-get install prometheus (tools/install-deps installs it)"
done
command -v jq >/dev/null || sb_fail "jq not found: apt-get install jq"
start=$(date +%s)
work=$(mktemp -d "${TMPDIR:-/tmp}/sbtest-prom.XXXXXX") || sb_fail "mktemp -d"
chmod 755 "$work"
sb_at_exit rm -rf "$work"

# ---------------------------------------------------------------- promtool
"$PROMTOOL" check rules "$rules" >"$work/check.out" 2>&1 ||
    sb_fail "promtool check rules: $(cat "$work/check.out")"
sb_log "$(tr '\n' ' ' <"$work/check.out")"
(cd "$confdir" && "$PROMTOOL" test rules sbtune-rules.test.yml) >"$work/test.out" 2>&1 ||
    sb_fail "promtool test rules: $(cat "$work/test.out")"
grep -q SUCCESS "$work/test.out" || sb_fail "promtool test rules: $(cat "$work/test.out")"

# the names the rule file defines, and the dashboard's queries
records=$(sed -n 's/^ *- record: *\([^ ]*\) *$/\1/p' "$rules")
alerts=$(sed -n 's/^ *- alert: *\([^ ]*\) *$/\1/p' "$rules")
nrules=$(($(echo "$records" | wc -w) + $(echo "$alerts" | wc -w)))
[ "$(echo "$records" | wc -w)" -ge 10 ] || sb_fail "too few recording rules found in $rules"
[ "$(echo "$alerts" | wc -w)" -ge 8 ] || sb_fail "too few alerts found in $rules"
# every alert has a severity and the two annotations (promtool does not ask)
for a in $alerts; do
    sed -n "/- alert: $a\$/,/- alert:/p" "$rules" | sed '1d' >"$work/alert.txt"
    for k in "severity:" "summary:" "runbook:"; do
        grep -q "^ *$k" "$work/alert.txt" || sb_fail "alert $a has no $k"
    done
done

# the dashboard: valid JSON, a Grafana 9/10 schema, the datasource templated,
# every panel with a query, unique ids
jq -e '.schemaVersion >= 36' "$dash" >/dev/null || sb_fail "$dash: schemaVersion missing or < 36"
jq -e '[.templating.list[] | select(.name == "DS_PROMETHEUS" and .type == "datasource")]
    | length == 1' "$dash" >/dev/null || sb_fail "$dash: no datasource variable DS_PROMETHEUS"
bad=$(jq -r '.panels[] | select(.type != "row")
    | select(.datasource.uid != "${DS_PROMETHEUS}" or (.targets | length) == 0
             or any(.targets[]; .datasource.uid != "${DS_PROMETHEUS}" or (.expr | length) == 0))
    | .title' "$dash")
[ -z "$bad" ] || sb_fail "$dash: panels without the templated datasource or a query: $bad"
jq -e '[.panels[].id] | length == (unique | length)' "$dash" >/dev/null ||
    sb_fail "$dash: panel ids are not unique"
for title in "Slot states" "Arrivals vs capacity" "Accept queue and refused" \
    "Keep-alive gaps" "Memory per worker"; do
    jq -e --arg t "$title" 'any(.panels[]; .title == $t)' "$dash" >/dev/null ||
        sb_fail "$dash: no panel '$title'"
done
jq -e 'any(.panels[]; .type == "heatmap" and .targets[0].format == "heatmap"
    and (.targets[0].expr | test("sbtune_keepalive_gap_seconds_bucket")))' "$dash" >/dev/null ||
    sb_fail "$dash: no heatmap of the keep-alive gap histogram"
# Grafana's variables, as Grafana would expand them: all instances, and a
# rate window of a few scrape intervals (scrapes are 1 s apart here)
jq -r '.panels[].targets[]?.expr' "$dash" |
    sed -e 's/\$instance/.+/g' -e 's/\$__rate_interval/10s/g' >"$work/panel-exprs"
[ "$(wc -l <"$work/panel-exprs")" -ge 15 ] || sb_fail "too few panel queries in $dash"
! grep -q '\$' "$work/panel-exprs" || sb_fail "unexpanded variable: $(grep '\$' "$work/panel-exprs")"

# ---------------------------------------------------------------- httpd, load, agent
sb_httpd_start prom mpm=prefork server_limit=8 max_workers=8 start_servers=8 min_spare=1 \
    max_spare=8 keepalive_timeout=2
# Browser-like clients: 3 requests 0.2 s apart, then idle until httpd closes
# (KeepAliveTimeout 2): every connection holds its slot about 2.5 s; 2 new
# clients/s keep about 5 of the 8 slots busy.
sb_bg "$LOADGEN" --url "$SB_HTTPD_URL/" --rate 2 --requests 3 --gap 0.2 --linger \
    --seed 13 --duration 150 --drain 1 --json-out "$work/load.json"
load=$SB_BG_PID
aport=$(_sb_pick_port) || sb_fail "no free port"
sb_bg sh -c "exec \"$SBAGENT\" --scoreboard \"$SB_SCOREBOARD\" --listen 127.0.0.1:$aport \
    --export-clients --log-level info 2>\"$work/agent.err\""
agent=$SB_BG_PID

# ---------------------------------------------------------------- prometheus
pport=$(_sb_pick_port) || sb_fail "no free port"
[ "$pport" != "$aport" ] || pport=$(_sb_pick_port) || sb_fail "no free port"
cat >"$work/prometheus.yml" <<EOC
# t_prometheus: a private server, never the system's
global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
rule_files:
  - $rules
scrape_configs:
  - job_name: sbagent
    static_configs:
      - targets: ['127.0.0.1:$aport']
EOC
"$PROMTOOL" check config "$work/prometheus.yml" >"$work/checkconf.out" 2>&1 ||
    sb_fail "promtool check config: $(cat "$work/checkconf.out")"
sb_bg sh -c "exec \"$PROMETHEUS\" --config.file=\"$work/prometheus.yml\" \
    --storage.tsdb.path=\"$work/tsdb\" --web.listen-address=127.0.0.1:$pport \
    --web.console.templates=\"$work\" --web.console.libraries=\"$work\" \
    --log.level=warn 2>\"$work/prometheus.log\""
prom=$SB_BG_PID
api=http://127.0.0.1:$pport/api/v1

# q EXPR: the query's JSON answer, in $work/q.json; 0 when it has a result
q()
{
    curl -s --max-time 5 -G --data-urlencode "query=$1" "$api/query" >"$work/q.json" 2>/dev/null &&
        jq -e '.status == "success" and (.data.result | length) > 0' "$work/q.json" >/dev/null
}

# wait_for SECONDS CMD...: poll CMD until it succeeds; 1 on timeout or if
# prometheus, the agent or the load died
wait_for()
{
    local end=$(($(date +%s) + $1))
    shift
    until "$@"; do
        _sb_alive "$prom" || { sb_log "prometheus exited: $(tail -5 "$work/prometheus.log")"; return 1; }
        _sb_alive "$agent" || { sb_log "sbagent exited: $(tail -5 "$work/agent.err")"; return 1; }
        _sb_alive "$load" || { sb_log "loadgen exited"; return 1; }
        [ "$(date +%s)" -lt "$end" ] || return 1
        sleep 0.5
    done
}

wait_for 30 q 'up{job="sbagent"} == 1' || sb_fail "prometheus has not scraped the agent: $(cat "$work/q.json")"
scraped=$(date +%s)
sb_log "scraping 127.0.0.1:$aport from prometheus on 127.0.0.1:$pport after $((scraped - start)) s"

# every recording rule and every panel query returns data (some need a few
# finished connections first: poll, then name what is still empty)
empty_now()
{
    local e
    empty=""
    for e in $records; do
        q "$e" || empty="$empty; recording rule $e"
    done
    while IFS= read -r e; do
        q "$e" || empty="$empty; panel query $e"
    done <"$work/panel-exprs"
    [ -z "$empty" ]
}
wait_for 60 empty_now || sb_fail "no data after $(($(date +%s) - scraped)) s for${empty#;}"
sb_log "every recording rule and panel query has data $(($(date +%s) - scraped)) s after the first scrape"

# the dashboard's variable: the instances that have sbtune_up
curl -s --max-time 5 -G --data-urlencode 'match[]=sbtune_up' "$api/label/instance/values" \
    >"$work/labels.json" || sb_fail "label values query failed"
jq -e --arg i "127.0.0.1:$aport" '.data | index($i) != null' "$work/labels.json" >/dev/null ||
    sb_fail "label_values(sbtune_up, instance) lacks the agent: $(cat "$work/labels.json")"

# every rule loaded, evaluated, healthy
curl -s --max-time 5 "$api/rules" >"$work/rules.json" || sb_fail "GET /api/v1/rules failed"
loaded=$(jq '[.data.groups[].rules[]] | length' "$work/rules.json")
sb_assert_eq "$loaded" "$nrules" "rules loaded by prometheus"
for n in $records $alerts; do
    jq -e --arg n "$n" 'any(.data.groups[].rules[]; .name == $n)' "$work/rules.json" >/dev/null ||
        sb_fail "rule $n not loaded"
done
bad=$(jq -r '.data.groups[].rules[] | select(.health != "ok" or (.lastError // "") != ""
    or (.lastEvaluation | startswith("0001")))
    | "\(.name): health \(.health) \(.lastError // "")"' "$work/rules.json")
[ -z "$bad" ] || sb_fail "rules not evaluated cleanly: $bad"

# the figures are the agent's and the rules' arithmetic holds on them
# (queried 2 s back, so that every rule of that evaluation is written).  N
# is the 8 slots this httpd has (MaxRequestWorkers 8, all started).  W
# itself is not checked against loadgen: quick static requests leave the
# hold histogram empty (the agent sees no first request in progress), so W
# is busy slots / the accepted rate, and rate() over 5 minutes of a series
# younger than that reads low by the series' age / 5 min, W high by as
# much; the headroom, arrivals over accepted, does not depend on it.
value()
{
    curl -s --max-time 5 -G --data-urlencode "query=$1" --data-urlencode "time=$t" \
        "$api/query" >"$work/q.json" 2>/dev/null &&
        jq -e '.status == "success" and (.data.result | length) > 0' "$work/q.json" \
            >/dev/null || sb_fail "no result for $1 at $t: $(cat "$work/q.json")"
    jq -r '.data.result[0].value[1]' "$work/q.json"
}
t=$(($(date +%s) - 2))
limit=$(value 'sbtune:slots_limit')
sb_assert_eq "$limit" 8 "sbtune:slots_limit (MaxRequestWorkers 8, all 8 started)"
w=$(value 'sbtune:hold_seconds:mean5m')
cap=$(value 'sbtune:capacity:rate5m')
arr=$(value 'sbtune:arrivals:rate5m')
acc=$(value 'sbtune:accepted:rate5m')
head=$(value 'sbtune:headroom:ratio5m')
busy=$(value 'sbtune:slots_busy:avg5m')
total=$(value 'sbtune_connections_total')
sb_log "N $limit, W $w s, capacity $cap/s, arrivals $arr/s, accepted $acc/s," \
    "busy $busy, headroom $head, $total arrivals counted"
awk -v c="$cap" -v w="$w" 'BEGIN { exit !(c > 0 && (c * w - 8) ^ 2 < 1e-9) }' ||
    sb_fail "capacity $cap is not N/W = 8/$w"
awk -v h="$head" -v a="$arr" -v c="$cap" 'BEGIN { exit !((h - (1 - a / c)) ^ 2 < 1e-9) }' ||
    sb_fail "headroom $head is not 1 - $arr/$cap"
# W: the mean of the hold-time histogram when it has 3 connections in the
# window, else Little's law (busy / accepted), so that then
# 1 - arrivals x W / N = 1 - busy / N x arrivals / accepted
held=$(value 'increase(sbtune_connection_hold_seconds_count[5m])')
if awk -v n="$held" 'BEGIN { exit !(n >= 3) }'; then
    hmean=$(value 'rate(sbtune_connection_hold_seconds_sum[5m]) / rate(sbtune_connection_hold_seconds_count[5m])')
    # (the recording rule was evaluated up to a second before this query)
    awk -v w="$w" -v m="$hmean" 'BEGIN { d = (w - m) / m; exit !(d * d < 0.01) }' ||
        sb_fail "W $w is not the hold histogram's mean $hmean ($held connections)"
    # the load: 3 requests 0.2 s apart, then KeepAliveTimeout 2 s idle
    awk -v w="$w" 'BEGIN { exit !(w > 1.5 && w < 5) }' ||
        sb_fail "W $w s from the hold histogram is not near the load's ~2.5 s"
    sb_log "W from the hold histogram ($held connections): $w s"
else
    awk -v h="$head" -v b="$busy" -v a="$arr" -v acc="$acc" \
        'BEGIN { exit !(acc > 0 && (h - (1 - b / 8 * a / acc)) ^ 2 < 1e-9 && h > -1 && h < 1) }' ||
        sb_fail "headroom $head is not 1 - busy $busy / 8 x arrivals $arr / accepted $acc"
    sb_log "W from Little's law (the hold histogram has $held connections)"
fi
awk -v a="$total" 'BEGIN { exit !(a >= 5) }' || sb_fail "the agent counted $total arrivals"
q 'sbtune_client_slots{client="127.0.0.1"} > 0' || sb_fail "no client slots for 127.0.0.1"

# the agent and httpd are up: no alert about them is pending or firing
curl -s --max-time 5 "$api/alerts" >"$work/alerts.json" || sb_fail "GET /api/v1/alerts failed"
active=$(jq -r '.data.alerts[] | select(.labels.alertname
    | test("^Sbtune(AgentDown|NoScoreboard|TextfileStale)$")) | .labels.alertname' \
    "$work/alerts.json")
[ -z "$active" ] || sb_fail "alerts active with the agent up: $active"

kill -TERM "$prom"
_sb_wait_gone "$prom" "" 10000 || sb_fail "prometheus did not stop on SIGTERM"
wait "$prom" 2>/dev/null
grep -i 'level=error' "$work/prometheus.log" && sb_fail "prometheus logged errors"
sb_bg_stop "$load"
sb_bg_stop "$agent"
sb_log "t_prometheus took $(($(date +%s) - start)) s"
sb_pass
