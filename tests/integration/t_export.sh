#!/bin/sh
# t_export: the agent configured by a YAML file serves Prometheus metrics
# on loopback (scraped here by curl, a real HTTP client), writes the
# node_exporter textfile atomically, keeps client addresses to itself
# unless export_clients is on, and on SIGHUP reloads its file, keeping the
# running configuration when the new file is broken.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "${top_srcdir:-$(dirname "$0")/../..}/tests/harness.sh"

SBAGENT=${SBAGENT:-$top_builddir/agent/sbagent}
work=$(mktemp -d "${TMPDIR:-/tmp}/sbtest-export.XXXXXX") || sb_fail "mktemp -d"
sb_at_exit rm -rf "$work"

sb_httpd_start export mpm=prefork keepalive_timeout=30
sb_client_start --keepalive 3 --slow 1 --slow-path "/cgi-bin/sleep.cgi?25" --hold 40
port=$(_sb_pick_port) || sb_fail "no free port"

write_conf()
{
    cat >"$work/sbtune.yaml" <<EOC
# sbagent test configuration
scoreboard: $SB_SCOREBOARD
listen: 127.0.0.1:$port
textfile: $work/sbtune.prom
export_clients: $1
log_level: ${2:-info}
EOC
}

# wait_metric REGEX TIMEOUT: until the endpoint serves a line matching REGEX
wait_metric()
{
    local end=$(($(date +%s) + $2))
    while [ "$(date +%s)" -lt "$end" ]; do
        curl -s --max-time 2 "http://127.0.0.1:$port/metrics" >"$work/metrics" 2>/dev/null &&
            grep -Eq "$1" "$work/metrics" && return 0
        sleep 0.2
    done
    sb_log "no line matching /$1/ in the metrics:"
    head -40 "$work/metrics" >&2
    return 1
}

write_conf false
"$SBAGENT" --check-config --config "$work/sbtune.yaml" >/dev/null ||
    sb_fail "--check-config refused a valid file"
sb_bg sh -c "exec \"$SBAGENT\" --config \"$work/sbtune.yaml\" 2>\"$work/agent.err\""
agent=$SB_BG_PID

wait_metric '^sbtune_slots\{state="keepalive"\} 3$' 10 || sb_fail "keep-alive slots not served"
for m in sbtune_up sbtune_requests_total sbtune_connections_total sbtune_busy_slots_max \
    sbtune_listen_queue_length sbtune_keepalive_gap_seconds sbtune_httpd_info; do
    grep -q "^# TYPE $m " "$work/metrics" || sb_fail "metric $m missing or untyped"
done
grep -q '^sbtune_up 1$' "$work/metrics" || sb_fail "sbtune_up is not 1"
grep -q '^sbtune_httpd_info{version="Apache/2.4.[0-9]*[^"]*",mpm="prefork"} 1$' "$work/metrics" ||
    sb_fail "sbtune_httpd_info wrong: $(grep httpd_info "$work/metrics")"
grep -Eq '^sbtune_requests_total [0-9]' "$work/metrics" || sb_fail "requests counter"
# counters only grow; histogram buckets are cumulative
jq -R -s -e 'split("\n") | map(select(startswith("sbtune_keepalive_gap_seconds_bucket")))
    | map(split(" ")[1] | tonumber) | . == sort' "$work/metrics" >/dev/null ||
    sb_fail "histogram buckets are not cumulative"
if grep -q 'client=' "$work/metrics" || grep -q '127\.0\.0\.1' "$work/metrics"; then
    sb_fail "a client address was exported without export_clients"
fi
code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/nothing")
sb_assert_eq "$code" 404 "unknown path"
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST "http://127.0.0.1:$port/metrics")
sb_assert_eq "$code" 405 "POST to /metrics"
ss -ltn "sport = :$port" | grep -q "127.0.0.1:$port" || sb_fail "the endpoint is not on loopback"

# the textfile: there, complete, world-readable, replaced atomically
sb_wait_file "$work/sbtune.prom" 5 || sb_fail "no textfile"
sb_assert_eq "$(stat -c %a "$work/sbtune.prom")" 644 "textfile mode"
grep -q '^sbtune_up 1$' "$work/sbtune.prom" || sb_fail "textfile content"
[ -z "$(find "$work" -name 'sbtune.prom.tmp*')" ] || sb_fail "temporary textfile left behind"

# SIGHUP with a broken file: an error naming file:line:column, the agent
# goes on with its running configuration
printf 'scoreboard: %s\nlisten: 127.0.0.1:%s\nshm_hz: fast\n' "$SB_SCOREBOARD" "$port" \
    >"$work/sbtune.yaml"
kill -HUP "$agent"
end=$(($(date +%s) + 5))
until grep -q "sbtune.yaml:3:9: shm_hz must be a number" "$work/agent.err"; do
    [ "$(date +%s)" -lt "$end" ] || sb_fail "broken reload not reported: $(cat "$work/agent.err")"
    sleep 0.1
done
grep -q "keeping the running configuration" "$work/agent.err" || sb_fail "no keep message"
kill -0 "$agent" 2>/dev/null || sb_fail "the agent died on a broken reload"
wait_metric '^sbtune_up 1$' 5 || sb_fail "metrics stopped after a broken reload"

# SIGHUP with export_clients on: the clients holding slots appear
write_conf true debug
kill -HUP "$agent"
wait_metric '^sbtune_client_slots\{client="127\.0\.0\.1"\} [1-9]' 10 ||
    sb_fail "client slots not exported with export_clients"
grep -q "reloaded $work/sbtune.yaml" "$work/agent.err" || sb_fail "no reload message"

kill -TERM "$agent"
wait "$agent" || sb_fail "agent exit status $? on SIGTERM"
sb_pass
