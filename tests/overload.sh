# tests/overload.sh: sourced by t_sbtune_overload_<mpm>.sh (issue #10, "the
# tuner acts on an overload").  A real httpd of one MPM starts >= 4x too
# small for a lingering browser-like load with a long KeepAliveTimeout
# (25 s): the accept queue grows without bound and clients wait tens of
# seconds for their first byte (many give up after loadgen's 60 s).  One
# sbagent records the whole test into one history.  Then up to three
# `sbtune report --apply --cron` cycles, each on the history recorded since
# the last applied change (sbtune(8), "THE OVERLOAD RULE"), with the same
# load running and the agent recording between them; then the same load
# again, measured by the generator.  No cycle gives --mpm or a limit:
# sbtune discovers the settings from httpd's configuration, and each cycle
# checks them against what the test knows httpd runs (OV_OPTIONS=1 passes
# them as options instead).
#
# The load (all MPMs): 2 new clients/s (Poisson), 3 requests 0.3 s apart
# (exponential gaps), then the client lingers until the server closes
# (at most 30 s).  At KeepAliveTimeout 25 each client holds a slot (event:
# a connection) for ~25.6 s: ~51 erlangs, against 8 slots (prefork, worker:
# 6.4x too few) or event's connection ceiling of 1 process x (4 threads +
# AsyncRequestWorkerFactor 2 x 4 idle) = 12 (4.3x too few).
#
# Why the windows are short (--min-minutes 1 --min-conns 20 --min-gaps 20,
# as in t_sbtune_e2e.sh): a test cannot record the production hour.  The
# overload rule itself needs only min(min_minutes, 5) minutes, so the
# production minimums would need 5 minutes per cycle; everything else (the
# hysteresis threshold, the step bounds, the minimum interval, the spike
# check) runs with its defaults.  Minute rows are written when a minute
# ends: each recording phase runs until the first whole minute after the
# change is written (60-122 s), so a test takes 3-6 minutes.
#
# Targets: after the cycles, client p99 time to first byte <= 1000 ms (the
# goal is 50 ms; the figure is printed), no refused and no failed
# connection, MaxRequestWorkers x PSS per worker within 75 % of MemTotal,
# at most three applied changes (the count is printed).
[ -n "${top_srcdir:-}" ] || sb_fail "source tests/harness.sh first"

OV_RATE=2
OV_KAT=25
OV_MIN="--min-minutes 1 --min-conns 20 --min-gaps 20"
OV_LOAD="--rate $OV_RATE --requests 3 --gap 0.3 --linger --seed 23 --drain 10 --timeout 60"

# ov_q SQL: a read-only query of the test's history
ov_q()
{
    sb_hist_q "$OV_HIST" "$1"
}

# ov_record FROM_TS NAME: the load until the minute starting at or after
# FROM_TS (the first whole minute of the phase) is in the history
ov_record()
{
    local from=$1 name=$2 m now dur end
    m=$(((from + 59) / 60 * 60))
    now=$(date +%s)
    dur=$((m + 62 - now))
    sb_load_start "$dur" "$OV_WORK/$name.json" $OV_LOAD
    sb_load_wait "$SB_LOAD_PID" "$OV_WORK/$name.json"
    end=$(($(date +%s) + 30))
    while [ "$(ov_q "SELECT count(*) FROM minute WHERE ts >= $m;")" -lt 1 ]; do
        [ "$(date +%s)" -lt "$end" ] || sb_fail "no minute row from $m in the history"
        sleep 0.5
    done
}

# ov_current: the settings in force (the options given at start, then the
# snippet's): as sbtune options in OV_CUR when OV_OPTIONS=1, else OV_CUR
# is empty and sbtune discovers them from httpd's configuration (the
# default: sbtune(8), DISCOVERY; each cycle then checks that what it
# discovered is what the test knows httpd runs)
ov_current()
{
    local v
    if [ -s "$OV_SNIP" ]; then
        v=$(sed -n 's/^ *MaxRequestWorkers \([0-9]*\)$/\1/p' "$OV_SNIP")
        [ -z "$v" ] || OV_MRW=$v
        v=$(sed -n 's/^ *ServerLimit \([0-9]*\)$/\1/p' "$OV_SNIP")
        [ -z "$v" ] || OV_SL_SNIP=$v
        v=$(sed -n 's/^ *KeepAliveTimeout \([0-9]*\)$/\1/p' "$OV_SNIP")
        [ -z "$v" ] || OV_KAT_CUR=$v
        v=$(sed -n 's/^ *ThreadsPerChild \([0-9]*\)$/\1/p' "$OV_SNIP")
        [ -z "$v" ] || OV_TPC=$v
    fi
    OV_CUR="--mpm $OV_MPM --max-request-workers $OV_MRW --server-limit $OV_SL"
    OV_CUR="$OV_CUR --keepalive-timeout $OV_KAT_CUR"
    [ "$OV_MPM" = prefork ] || OV_CUR="$OV_CUR --threads-per-child $OV_TPC --thread-limit $OV_TL"
    OV_WANT=".current.MaxRequestWorkers == $OV_MRW and .current.KeepAliveTimeout == $OV_KAT_CUR"
    [ "${OV_OPTIONS:-0}" = 1 ] || OV_CUR="--scoreboard $SB_SCOREBOARD"
}

# overload_main MPM MRW SERVER_LIMIT THREADS_PER_CHILD: the whole test
overload_main()
{
    local mpm=$1 procs start rc cycle changes gen p99_before lq lqs agent pss budget memtotal
    SBTUNE=${SBTUNE:-$top_builddir/tuner/sbtune}
    SBAGENT=${SBAGENT:-$top_builddir/agent/sbagent}
    LOADGEN=${LOADGEN:-$top_builddir/tests/loadgen}
    for b in "$SBTUNE" "$SBAGENT" "$LOADGEN"; do
        [ -x "$b" ] || sb_fail "$b not built"
    done
    command -v sqlite3 >/dev/null || sb_fail "sqlite3 not found: apt-get install sqlite3"
    OV_WORK=$(mktemp -d "${TMPDIR:-/tmp}/sbtest-overload.XXXXXX") || sb_fail "mktemp -d"
    chmod 755 "$OV_WORK"
    sb_at_exit rm -rf "$OV_WORK"
    mkdir -m 755 "$OV_WORK/snippets"
    OV_SNIP=$OV_WORK/snippets/sbtune-tuning.conf
    OV_HIST=$OV_WORK/history.db
    OV_MPM=$mpm OV_MRW=$2 OV_SL=$3 OV_TPC=${4:-1} OV_TL=${4:-1} OV_KAT_CUR=$OV_KAT
    if [ "$mpm" = prefork ]; then
        sb_httpd_start "overload-$mpm" mpm=prefork server_limit="$OV_SL" max_workers="$OV_MRW" \
            start_servers="$OV_MRW" min_spare=1 max_spare="$OV_MRW" \
            keepalive_timeout=$OV_KAT include="$OV_SNIP"
    else
        procs=$((OV_MRW / OV_TPC))
        sb_httpd_start "overload-$mpm" mpm="$mpm" server_limit="$OV_SL" thread_limit="$OV_TL" \
            threads_per_child="$OV_TPC" max_workers="$OV_MRW" start_servers="$procs" \
            min_spare="$OV_TPC" max_spare="$OV_MRW" keepalive_timeout=$OV_KAT \
            include="$OV_SNIP"
    fi
    sb_bg sh -c "exec \"$SBAGENT\" --scoreboard \"$SB_SCOREBOARD\" --history \"$OV_HIST\" \
        --duration 900 2>\"$OV_WORK/agent.err\""
    agent=$SB_BG_PID

    # ------------------------------------------------------------ before
    start=$(date +%s)
    ov_record "$start" before
    p99_before=$(jq '.ttfb_ms.p99' "$OV_WORK/before.json")
    lqs=$(ov_q "SELECT group_concat(coalesce(listen_queue_max, -1), ' ') FROM minute;")
    lq=$(ov_q "SELECT coalesce(max(listen_queue_max), -1) FROM minute;")
    sb_log "before: $mpm MaxRequestWorkers $OV_MRW, KeepAliveTimeout $OV_KAT, $OV_RATE lingering" \
        "clients/s: ttfb p99 ${p99_before} ms, refused $(jq .refused "$OV_WORK/before.json")," \
        "failed $(jq .failed.total "$OV_WORK/before.json"); accept queue max per minute: $lqs"
    sb_assert_ge "$lq" 20 "the accept queue grows (agent's history)"
    jq -e '.ttfb_ms.p99 > 5000' "$OV_WORK/before.json" >/dev/null ||
        sb_fail "the starting configuration is not overloaded (p99 ${p99_before} ms)"

    # ------------------------------------------------------------ cycles
    changes=0
    for cycle in 1 2 3; do
        ov_current
        gen=$(sb_generation)
        "$SBTUNE" report --history "$OV_HIST" $OV_MIN $OV_CUR --format json \
            --apachectl "$SB_APACHE2 -f $SB_HTTPD_CONF" \
            >"$OV_WORK/plan$cycle.json" 2>"$OV_WORK/plan$cycle.err"
        if [ "${OV_OPTIONS:-0}" != 1 ]; then
            sb_assert_json "$OV_WORK/plan$cycle.json" \
                ".discovery.status == \"discovered\" and $OV_WANT" \
                "cycle $cycle: the settings discovered are those httpd runs"
        fi
        sb_log "cycle $cycle: $(jq -r '"overloaded \(.overloaded), estimated: \(.estimated)"' \
            "$OV_WORK/plan$cycle.json" 2>/dev/null)"
        "$SBTUNE" report --history "$OV_HIST" $OV_MIN $OV_CUR \
            --apply --snippet "$OV_SNIP" --apachectl "$SB_APACHE2 -f $SB_HTTPD_CONF" \
            --scoreboard "$SB_SCOREBOARD" --status-url "$SB_STATUS_URL" --cron \
            >"$OV_WORK/apply$cycle.out" 2>&1
        rc=$?
        sed 's/^/#   /' "$OV_WORK/apply$cycle.out" >&2
        sb_log "cycle $cycle: sbtune report --apply --cron exit $rc"
        case $rc in
            10)
                changes=$((changes + 1))
                sb_assert_eq "$(sb_generation)" $((gen + 1)) "cycle $cycle: one graceful reload"
                ;;
            0 | 5 | 11)
                [ "$cycle" -gt 1 ] || sb_fail "cycle 1 on an overloaded server: exit $rc"
                [ ! -s "$OV_WORK/apply$cycle.out" ] ||
                    sb_fail "cycle $cycle printed in --cron mode without a change"
                sb_assert_eq "$(sb_generation)" "$gen" "cycle $cycle: no reload without a change"
                break
                ;;
            *) sb_fail "cycle $cycle: exit $rc: $(cat "$OV_WORK/apply$cycle.out")" ;;
        esac
        [ "$cycle" -lt 3 ] || break
        ov_record "$(date +%s)" "cycle$cycle"
        sb_log "recorded after cycle $cycle: ttfb p99 $(jq .ttfb_ms.p99 "$OV_WORK/cycle$cycle.json")" \
            "ms, accept queue max since: $(ov_q "SELECT coalesce(max(listen_queue_max), -1) FROM minute
                WHERE ts >= (SELECT max(ts) FROM changes WHERE action = 'apply');")"
    done
    sb_assert_eq "$(ov_q "SELECT count(*) FROM changes WHERE action = 'apply' AND result LIKE 'ok%';")" \
        "$changes" "the changes are recorded in the history"
    sb_assert_ge "$changes" 1 "at least one change"
    sb_assert_le "$changes" 3 "at most three cycles"

    # ------------------------------------------------------------ after
    ov_current
    sb_load_start 50 "$OV_WORK/after.json" $OV_LOAD
    sb_load_wait "$SB_LOAD_PID" "$OV_WORK/after.json"
    sb_bg_stop "$agent"
    "$SBTUNE" report --history "$OV_HIST" $OV_MIN $OV_CUR --format json \
        --apachectl "$SB_APACHE2 -f $SB_HTTPD_CONF" \
        >"$OV_WORK/after-plan.json" 2>"$OV_WORK/after-plan.err"
    pss=$(jq '.inputs.pss_per_worker_bytes // 0' "$OV_WORK/after-plan.json")
    memtotal=$(awk '/^MemTotal:/ { printf "%.0f\n", $2 * 1024 }' /proc/meminfo)
    budget=$((memtotal * 3 / 4))
    sb_log "after $changes change(s): MaxRequestWorkers $OV_MRW, KeepAliveTimeout $OV_KAT_CUR:" \
        "ttfb p99 $(jq .ttfb_ms.p99 "$OV_WORK/after.json") ms (goal 50 ms)," \
        "refused $(jq .refused "$OV_WORK/after.json"), failed $(jq .failed.total "$OV_WORK/after.json")," \
        "PSS/worker $pss B"
    sb_log "$mpm: cycles $changes; ttfb p99 ${p99_before} ms -> $(jq .ttfb_ms.p99 "$OV_WORK/after.json") ms;" \
        "accept queue max before $lq"
    sb_assert_json "$OV_WORK/after.json" '.refused == 0' "no refused connection after"
    sb_assert_json "$OV_WORK/after.json" '.failed.total == 0' "no failed connection after"
    sb_assert_json "$OV_WORK/after.json" '.ttfb_ms.p99 <= 1000' "ttfb p99 after <= 1000 ms"
    sb_assert_le $((OV_MRW * pss)) "$budget" \
        "MaxRequestWorkers x PSS per worker within 75 % of MemTotal"
    sb_pass
}
