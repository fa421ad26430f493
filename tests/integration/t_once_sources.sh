#!/bin/sh
# t_once_sources: sbagent --once reads a live prefork, worker and event httpd
# through both sources.  A known workload is held open (idle keep-alive
# connections and slow CGI requests); both sources must report it, agree
# slot for slot on the states both see, and agree on the server's identity
# and totals.  Also proves on the live segment that sbtune's mapping of the
# scoreboard cannot be written.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "${top_srcdir:-$(dirname "$0")/../..}/tests/harness.sh"

SBAGENT=${SBAGENT:-$top_builddir/agent/sbagent}
PROBE=${SHM_WRITE_PROBE:-$top_builddir/tests/shm_write_probe}
[ -x "$SBAGENT" ] || sb_fail "$SBAGENT not built"
work=$(mktemp -d "${TMPDIR:-/tmp}/sbtest-once.XXXXXX") || sb_fail "mktemp -d"
sb_at_exit rm -rf "$work"

KA=3        # idle keep-alive connections
SLOW=2      # requests stuck in a slow CGI

# visible SCOREBOARD: the shm scoreboard as mod_status prints it: without
# the open slots beyond MaxRequestWorkers / ThreadsPerChild ("disabled").
visible()
{
    local sb=$1 out="" i p t tl tpc maxd
    if [ "$SB_HTTPD_MPM" = prefork ]; then
        tl=1 tpc=1 maxd=$SB_HTTPD_MAX_WORKERS
    else
        tl=$SB_HTTPD_THREAD_LIMIT tpc=$SB_HTTPD_THREADS_PER_CHILD
        maxd=$((SB_HTTPD_MAX_WORKERS / tpc))
    fi
    for ((i = 0; i < ${#sb}; i++)); do
        p=$((i / tl)) t=$((i % tl))
        if [ "${sb:i:1}" = . ] && { [ $p -ge $maxd ] || [ $t -ge $tpc ]; }; then
            continue
        fi
        out+=${sb:i:1}
    done
    echo "$out"
}

# compare_sources MPM: one shm sample, one status sample, one shm sample;
# succeeds when the two shm samples are identical (the slots were still)
# and the status scoreboard equals them except for the one slot that served
# the status request itself ('_' in shm, 'W' in status).
compare_sources()
{
    local a b st diff i ca cs
    "$SBAGENT" --once --json --scoreboard "$SB_SCOREBOARD" >"$work/shm1.json" ||
        sb_fail "sbagent --scoreboard failed"
    "$SBAGENT" --once --json --status-url "$SB_STATUS_URL" >"$work/status.json" ||
        sb_fail "sbagent --status-url failed"
    "$SBAGENT" --once --json --scoreboard "$SB_SCOREBOARD" >"$work/shm2.json" ||
        sb_fail "sbagent --scoreboard failed"
    a=$(visible "$(jq -r .scoreboard "$work/shm1.json")")
    b=$(visible "$(jq -r .scoreboard "$work/shm2.json")")
    st=$(jq -r .scoreboard "$work/status.json")
    [ "$a" = "$b" ] || return 1
    [ "${#a}" -eq "${#st}" ] || {
        sb_log "length differs: shm $a, status $st"
        return 1
    }
    diff=0
    for ((i = 0; i < ${#a}; i++)); do
        ca=${a:i:1}
        cs=${st:i:1}
        if [ "$ca" != "$cs" ]; then
            if [ "$ca" = _ ] && [ "$cs" = W ]; then
                diff=$((diff + 1))
            else
                sb_log "slot $i: shm '$ca', status '$cs' (shm $a, status $st)"
                return 1
            fi
        fi
    done
    [ "$diff" -eq 1 ]
}

for mpm in prefork worker event; do
    sb_httpd_start "once-$mpm" mpm=$mpm keepalive_timeout=60
    if [ "$mpm" = prefork ]; then
        want_tl=1
    else
        want_tl=$SB_HTTPD_THREAD_LIMIT
    fi

    # the workload: KA idle keep-alive connections, SLOW requests in a CGI
    sb_client_start --keepalive $KA --slow $SLOW --slow-path "/cgi-bin/sleep.cgi?25" --hold 40
    if [ "$mpm" = event ]; then
        # idle keep-alive connections hold no worker with event
        sb_wait_status '[ "$(sb_count_slots W)" -ge $((SLOW + 1)) ]' 10 ||
            sb_fail "$mpm: the slow requests never showed in mod_status"
    else
        sb_wait_status '[ "$(sb_count_slots W)" -ge $((SLOW + 1)) ] &&
            [ "$(sb_count_slots K)" -ge $KA ]' 10 ||
            sb_fail "$mpm: the workload never showed in mod_status"
    fi

    ok=0
    for try in 1 2 3 4 5 6 7 8; do
        if compare_sources; then
            ok=1
            break
        fi
        sleep 0.2
    done
    [ "$ok" = 1 ] || sb_fail "$mpm: shm and status never agreed slot for slot (8 tries)"

    shm=$work/shm1.json
    stat=$work/status.json
    # the acceptance keys
    for k in .ts .source .server.version .server.mpm .server.generation \
        .server.server_limit .server.thread_limit .slots.open .slots.idle \
        .slots.starting .slots.reading .slots.writing .slots.keepalive \
        .slots.dns .slots.closing .slots.logging .slots.graceful \
        .slots.idle_cleanup .busy .total_accesses; do
        sb_assert_json "$shm" "$k != null" "$mpm shm: key $k"
        case $k in
        .server.server_limit | .server.thread_limit)
            # mod_status does not print them: present, and null
            sb_assert_json "$stat" "(.server | has(\"${k#.server.}\")) and $k == null" \
                "$mpm status: key $k is null" ;;
        *) sb_assert_json "$stat" "$k != null" "$mpm status: key $k" ;;
        esac
    done
    sb_assert_json "$shm" '.source == "shm"' "$mpm: source"
    sb_assert_json "$stat" '.source == "status"' "$mpm: source"

    # identity: both sources name the same server
    sb_assert_eq "$(jq -r .server.mpm "$shm")" "$mpm" "shm: MPM of the running httpd"
    sb_assert_eq "$(jq -r .server.mpm "$stat")" "$mpm" "status: MPM"
    sb_assert_eq "$(jq -r .server.version "$shm")" "$(jq -r .server.version "$stat")" \
        "$mpm: version by shm and status"
    sb_assert_match "$(jq -r .server.version "$shm")" '^Apache/2\.4\.' "$mpm: version"
    sb_assert_eq "$(jq -r .server.generation "$shm")" "$(jq -r .server.generation "$stat")" \
        "$mpm: generation by shm and status"
    sb_assert_eq "$(jq -r .server.server_limit "$shm")" "$SB_HTTPD_SERVER_LIMIT" "$mpm: ServerLimit"
    sb_assert_eq "$(jq -r .server.thread_limit "$shm")" "$want_tl" "$mpm: ThreadLimit"
    sb_assert_eq "$(jq -r .slots_total "$shm")" \
        $((SB_HTTPD_SERVER_LIMIT * want_tl)) "$mpm: slots = ServerLimit x ThreadLimit"

    # the workload, seen by each source
    sb_assert_eq "$(jq -r .slots.writing "$shm")" "$SLOW" "$mpm shm: slots writing (slow CGI)"
    sb_assert_eq "$(jq -r .slots.writing "$stat")" $((SLOW + 1)) \
        "$mpm status: slots writing (slow CGI + the scrape itself)"
    if [ "$mpm" = event ]; then
        sb_assert_eq "$(jq -r .slots.keepalive "$shm")" 0 \
            "event shm: idle keep-alive connections hold no worker slot"
        sb_assert_json "$stat" '.async.conns_total != null' "event status: ConnsTotal parsed"
    else
        sb_assert_eq "$(jq -r .slots.keepalive "$shm")" "$KA" "$mpm shm: slots in keep-alive"
        sb_assert_eq "$(jq -r .slots.keepalive "$stat")" "$KA" "$mpm status: slots in keep-alive"
    fi
    sb_assert_eq "$(jq -r .busy "$shm")" "$(($(jq -r .busy "$stat") - 1))" \
        "$mpm: busy by shm = busy by status - the scrape"
    sb_assert_ge "$(jq -r .total_accesses "$shm")" "$KA" "$mpm shm: total accesses"
    sb_assert_eq "$(jq -r .total_accesses "$shm")" "$(jq -r .total_accesses "$stat")" \
        "$mpm: total accesses by shm and status"
    sb_assert_json "$shm" '.extended_status == true' "$mpm shm: ExtendedStatus detected on"

    # per-worker records: the keep-alive slots served one request each on
    # their connection, the client is hidden unless asked for
    "$SBAGENT" --once --json --workers --scoreboard "$SB_SCOREBOARD" >"$work/w.json" ||
        sb_fail "sbagent --workers failed"
    sb_assert_json "$work/w.json" '[.workers[] | select(.state == "writing")] | length == '$SLOW \
        "$mpm: writing workers"
    sb_assert_json "$work/w.json" '[.workers[] | select(.state == "writing") | .pid > 0] | all' \
        "$mpm: writing workers have a pid"
    sb_assert_json "$work/w.json" '[.workers[] | has("client")] | any | not' \
        "$mpm: no client address without --show-clients"
    if [ "$mpm" != event ]; then
        sb_assert_json "$work/w.json" \
            '[.workers[] | select(.state == "keepalive") | .conn_count] == [1,1,1]' \
            "$mpm: conn_count of the keep-alive slots"
    fi
    "$SBAGENT" --once --json --workers --show-clients --scoreboard "$SB_SCOREBOARD" >"$work/w.json" ||
        sb_fail "sbagent --show-clients failed"
    sb_assert_json "$work/w.json" \
        '[.workers[] | select(.state == "writing") | .client == "127.0.0.1" and (.request | test("sleep.cgi"))] | all' \
        "$mpm: client and request with --show-clients"

    # text output names the same figures
    out=$("$SBAGENT" --once --scoreboard "$SB_SCOREBOARD") || sb_fail "text output failed"
    sb_assert_match "$out" "mpm $mpm" "$mpm: text output names the MPM"
    sb_assert_match "$out" "W writing $SLOW" "$mpm: text output counts"

    # nothing sbtune holds can write httpd's scoreboard
    out=$("$PROBE" "$SB_SCOREBOARD") || sb_fail "$mpm: $out"
    sb_assert_match "$out" "read-only$" "$mpm: sbtune holds the scoreboard read-only"

    sb_bg_stop "$SB_CLIENT_PID"
    sb_httpd_stop
done
sb_pass
