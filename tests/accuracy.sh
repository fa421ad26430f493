# tests/accuracy.sh: sourced by t_accuracy_<mpm>.sh.  Runs the agent on a
# real httpd of one MPM under three known workloads from tests/loadgen and
# compares its figures with the load generator's truth:
#   - requests/s summed over the run: within 2 % of the requests answered;
#   - new connections/s summed: within 5 % (prefork, worker) or 10 % (event)
#     of the connections the generator opened;
#   - idle keep-alive connections (kernel's view), mean over the steady part
#     of the run: within 10 % of Little's law, rate x idle time per
#     connection (and, prefork/worker, the slots held in K likewise).
# Each run lasts about 20 s of arrivals plus the drain.

SBAGENT=${SBAGENT:-$top_builddir/agent/sbagent}
LOADGEN=${LOADGEN:-$top_builddir/tests/loadgen}
[ -x "$SBAGENT" ] || sb_fail "$SBAGENT not built"
[ -x "$LOADGEN" ] || sb_fail "$LOADGEN not built"
ACC_WORK=$(mktemp -d "${TMPDIR:-/tmp}/sbtest-acc.XXXXXX") || sb_fail "mktemp -d"
sb_at_exit rm -rf "$ACC_WORK"

ACC_DURATION=${ACC_DURATION:-20}
KAT=2

# within ACTUAL EXPECTED PERCENT WHAT
within()
{
    local ok
    ok=$(jq -n --argjson a "$1" --argjson e "$2" --argjson p "$3" \
        'if $e == 0 then ($a == 0) else ((($a - $e) / $e) | fabs) * 100 <= $p end')
    sb_log "$4: measured $1, truth $2 (tolerance $3 %)"
    [ "$ok" = true ] || sb_fail "$4: measured $1, truth $2: off by more than $3 %"
}

# run_workload NAME PREDICTED_IDLE_PER_CONN_S LOADGEN_ARGS...
run_workload()
{
    local name=$1 idle_s=$2 rate agentpid t0 out=$ACC_WORK/$1
    shift 2
    rate=$(echo "$@" | sed -n 's/.*--rate \([0-9.]*\).*/\1/p')
    "$SBAGENT" --scoreboard "$SB_SCOREBOARD" --json --kernel-hz 2 \
        >"$out.agent.json" 2>"$out.agent.err" &
    agentpid=$!
    sb_at_exit kill "$agentpid"
    # the agent's first second is its baseline: let it take it
    local n=0
    while [ "$(wc -l <"$out.agent.json")" -lt 2 ] && [ $n -lt 100 ]; do
        sleep 0.1
        n=$((n + 1))
    done
    t0=$(date +%s)
    "$LOADGEN" --url "$SB_HTTPD_URL/" --duration "$ACC_DURATION" --seed 42 "$@" \
        >"$out.truth.json" || sb_fail "$name: loadgen failed"
    sleep 1.5
    kill -TERM "$agentpid"
    wait "$agentpid" || sb_fail "$name: sbagent exited with $? on SIGTERM"
    grep -q "flushed and stopping" "$out.agent.err" || sb_fail "$name: no flush on SIGTERM"

    local served opened req conn
    served=$(jq '.responses_ok + .responses_error.total' "$out.truth.json")
    opened=$(jq '.connections_opened' "$out.truth.json")
    req=$(jq -s 'map(.req_per_s // 0) | add' "$out.agent.json")
    conn=$(jq -s 'map(.conn_per_s // 0) | add' "$out.agent.json")
    sb_assert_ge "$opened" 50 "$name: connections opened by the generator"
    jq -e '.failed.total == 0 and .refused == 0' "$out.truth.json" >/dev/null ||
        sb_fail "$name: the generator saw failures: $(jq -c '{failed, refused}' "$out.truth.json")"
    within "$req" "$served" 2 "$SB_HTTPD_MPM $name: requests"
    within "$conn" "$opened" "$CONN_TOLERANCE" "$SB_HTTPD_MPM $name: new connections"

    if [ "$idle_s" != 0 ]; then
        # steady state: from one full connection lifetime after the start
        # to the end of the arrivals
        local from=$((t0 + ${STEADY_SKIP:-6})) to=$((t0 + ACC_DURATION - 1)) measured predicted
        measured=$(jq -s --argjson f "$from" --argjson t "$to" \
            'map(select(.ts >= $f and .ts < $t and .keepalive_conns_mean != null)
                 | .keepalive_conns_mean) | add / length' "$out.agent.json")
        predicted=$(jq -n --argjson r "$rate" --argjson w "$idle_s" '$r * $w')
        within "$measured" "$predicted" 10 "$SB_HTTPD_MPM $name: idle keep-alive connections (kernel)"
        if [ "$SB_HTTPD_MPM" != event ]; then
            measured=$(jq -s --argjson f "$from" --argjson t "$to" \
                'map(select(.ts >= $f and .ts < $t) | .keepalive_slots_mean) | add / length' \
                "$out.agent.json")
            within "$measured" "$predicted" 10 "$SB_HTTPD_MPM $name: slots held in K"
        fi
    fi
}

accuracy_main()
{
    local mpm=$1
    if [ "$mpm" = prefork ]; then
        sb_httpd_start "acc-$mpm" mpm=prefork keepalive_timeout=$KAT server_limit=64 \
            max_workers=64 start_servers=64 min_spare=1 max_spare=64
        CONN_TOLERANCE=5
    else
        sb_httpd_start "acc-$mpm" mpm="$mpm" keepalive_timeout=$KAT server_limit=3 \
            thread_limit=32 threads_per_child=32 max_workers=64 start_servers=2 \
            min_spare=8 max_spare=64
        CONN_TOLERANCE=5
        [ "$mpm" != event ] || CONN_TOLERANCE=10
    fi
    # 1. short connections, no keep-alive
    run_workload short 0 --rate 30 --no-keepalive --drain 5
    # 2. browser-like: 4 requests 0.3 s apart, then the client lingers until
    #    the server closes at KeepAliveTimeout: idle 3 x 0.3 + 2 s per connection
    run_workload browser 2.9 --rate 8 --requests 4 --gap 0.3 --gap-dist fixed --linger \
        --drain 8
    # 3. long-lived: 6 requests 1 s apart, then the client closes: idle 5 s
    STEADY_SKIP=7 run_workload long 5 --rate 3 --requests 6 --gap 1 --gap-dist fixed \
        --close --drain 10
    sb_pass
}
