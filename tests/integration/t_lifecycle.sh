#!/bin/sh
# t_lifecycle: sbagent keeps sampling a live httpd (prefork, worker, event)
# through a graceful restart, a full restart and a stop and start.  From
# shared memory it reports each change (generation, restart_time,
# reattached), says when httpd is stopped, and reattaches the new segment
# by itself; from mod_status it reports the restarts and goes on.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "${top_srcdir:-$(dirname "$0")/../..}/tests/harness.sh"

SBAGENT=${SBAGENT:-$top_builddir/agent/sbagent}
[ -x "$SBAGENT" ] || sb_fail "$SBAGENT not built"
work=$(mktemp -d "${TMPDIR:-/tmp}/sbtest-life.XXXXXX") || sb_fail "mktemp -d"
sb_at_exit rm -rf "$work"

# wait_json FILE JQ TIMEOUT: until some line of FILE satisfies JQ (a
# filter on one sample object)
wait_json()
{
    local file=$1 filter=$2 end=$(($(date +%s%N) / 1000000 + $3 * 1000))
    while [ $(($(date +%s%N) / 1000000)) -lt "$end" ]; do
        if [ -s "$file" ] && jq -e -s "map(select($filter)) | length > 0" "$file" >/dev/null 2>&1; then
            return 0
        fi
        sleep 0.05
    done
    sb_log "no sample in $file matched: $filter"
    tail -3 "$file" >&2
    return 1
}

for mpm in prefork worker event; do
    sb_httpd_start "life-$mpm" mpm=$mpm
    shm_out=$work/shm-$mpm.json
    st_out=$work/status-$mpm.json
    # at most 30 s each; they are stopped once the checks are done
    sb_bg sh -c "exec \"$SBAGENT\" --count 600 --interval 0.05 --json --scoreboard \"$SB_SCOREBOARD\" >\"$shm_out\" 2>\"$shm_out.err\""
    shm_pid=$SB_BG_PID
    sb_bg sh -c "exec \"$SBAGENT\" --count 120 --interval 0.25 --json --status-url \"$SB_STATUS_URL\" >\"$st_out\" 2>\"$st_out.err\""
    st_pid=$SB_BG_PID

    wait_json "$shm_out" '.source == "shm" and .server.generation == 0' 10 ||
        sb_fail "$mpm: no shm sample before the restarts"
    wait_json "$st_out" '.source == "status"' 10 || sb_fail "$mpm: no status sample"

    # graceful: same segment, generation + 1, counters kept
    before=$(jq -s 'map(select(.total_accesses != null)) | last | .total_accesses' "$shm_out")
    sb_assert_ge "$before" 1 "$mpm: requests counted before the graceful restart"
    sb_httpd_graceful
    wait_json "$shm_out" '.server.generation == 1 and (.events | index("generation"))' 10 ||
        sb_fail "$mpm: graceful restart not reported from shm"
    after=$(jq -s 'map(select(.server.generation == 1)) | first | .total_accesses' "$shm_out")
    sb_assert_ge "$after" "$before" "$mpm: access counters survive a graceful restart"
    sb_assert_eq "$(jq -c -s 'map(select(.server.generation == 1)) | first | .events' "$shm_out")" \
        '["generation"]' "$mpm: a graceful restart is not reported as a full restart"

    # full restart: same segment, generation + 1, restart_time changes
    sb_httpd_restart
    wait_json "$shm_out" '.server.generation == 2 and (.events | index("restart_time"))' 10 ||
        sb_fail "$mpm: full restart not reported from shm"

    # stop: the segment goes; sbagent says so and keeps trying
    sb_httpd_stop
    wait_json "$shm_out" '.error != null and (.error | test("stopped"))' 10 ||
        sb_fail "$mpm: stop not reported from shm"
    sb_assert_match "$(cat "$shm_out.err")" "was removed: httpd stopped" "$mpm: stop notice"
    wait_json "$st_out" '.error != null' 10 ||
        sb_fail "$mpm: the stop was not reported from mod_status"

    # start: a new segment, attached by itself, generation back to 0
    sb_httpd_start_again
    wait_json "$shm_out" '.server.generation == 0 and (.events | index("reattached"))' 10 ||
        sb_fail "$mpm: new segment not reattached after stop and start"
    wait_json "$shm_out" '(.events | index("reattached") | not) and .source == "shm" and .slots.idle > 0' 10 ||
        sb_fail "$mpm: sampling did not go on after reattaching"
    sb_assert_match "$(cat "$shm_out.err")" "reattached" "$mpm: reattach notice"

    # mod_status saw both restarts and kept sampling through them
    wait_json "$st_out" '.events | index("generation")' 10 ||
        sb_fail "$mpm: restarts not reported from mod_status"
    n0=$(jq -s 'length' "$st_out")
    wait_json "$st_out" '.source == "status" and .server.generation == 0 and .error == null and .server.config_generation == 1' 10 ||
        sb_fail "$mpm: mod_status sampling did not resume after the start"

    # every shm line is a sample or an error line, never garbage
    jq -e -s 'map(select((.slots == null) and (.error == null))) | length == 0' "$shm_out" >/dev/null ||
        sb_fail "$mpm: a line of sbagent's output is neither a sample nor an error"
    sb_bg_stop "$shm_pid"
    sb_bg_stop "$st_pid"
    sb_log "$mpm: $(jq -s length "$shm_out") shm samples, $n0+ status samples"
    sb_httpd_stop
done
sb_pass
