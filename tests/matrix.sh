# tests/matrix.sh: sourced by t_matrix_<mpm>.sh (issue #9, the accuracy
# matrix).  Runs six workloads from tests/loadgen on a real httpd of one MPM
# and watches each with two agents side by side on the same traffic, one
# with --kernel-source bpf, one with --kernel-source diag, and compares
# their per-second figures, summed over the run, with the generator's truth:
#
#   off       KeepAlive Off, 2,500 new connections/s
#   browser   4 requests 0.3 s apart, then the client lingers until
#             KeepAliveTimeout (2 s) closes it
#   client    5 requests 0.2 s apart, then the client closes
#   long      6 requests 1 s apart (5 s per connection), the client closes
#   overload  every slot held (one request, the client lingers until
#             KeepAliveTimeout 1 s) and >= 5x what the slots serve
#             arriving: the accept queue grows until the end of the run
#   refused   ListenBacklog 2 overflowed: SYNs dropped, clients retry or
#             give up (connect timeout)
#
# Targets (the honest ones of the issue; a miss fails the test, after every
# figure has been printed and the whole table shown, unless it is one of
# the known weaknesses listed in MX_KNOWN below, shown as KNOWN):
#   conn_per_s summed: bpf within 1 %, diag within 5 % of the connections
#     the generator opened (those cut while still queued included);
#   req_per_s summed: exact (both agents: the access counters);
#   keepalive_conns_mean over the steady part: within 5 % of Little's law
#     computed from the generator's own arrivals second by second;
#   mean lifetime (observations.conn_lifetime, bpf) and mean hold time
#     (observations.hold_time, scoreboard, prefork/worker): within 5 % of
#     the generator's mean conn_duration_ms; KeepAlive Off: see
#     mx_durations (short) and mx_slot_hold.
#
# MATRIX_ONLY (default: all) runs only the workloads it names, separated
# by spaces or commas (off keepalive overload refused; keepalive is the
# browser, client and long workloads on one httpd), e.g. MATRIX_ONLY=off.
# MATRIX_DURATION (default 20) sets the seconds of arrivals of the
# browser, client, long and overload workloads.  KeepAlive Off runs 12 s
# (MATRIX_OFF_DURATION): 30,000 connections, each leaving a client-side
# TIME_WAIT for 60 s, and two of these tests may run at once (make -j2)
# within one ephemeral port range (28,000 ports here, reused on loopback
# only after 1 s).  The refusal workload runs 3 s: its clients retry for
# up to 4 s and it only needs the backlog to overflow.

SBAGENT=${SBAGENT:-$top_builddir/agent/sbagent}
LOADGEN=${LOADGEN:-$top_builddir/tests/loadgen}
[ -x "$SBAGENT" ] || sb_fail "$SBAGENT not built"
[ -x "$LOADGEN" ] || sb_fail "$LOADGEN not built"
MX_WORK=$(mktemp -d "${TMPDIR:-/tmp}/sbtest-matrix.XXXXXX") || sb_fail "mktemp -d"
# MATRIX_SAVE=DIR keeps every agent's and the generator's JSON there
mx_save()
{
    mkdir -p "$MATRIX_SAVE" && cp -r "$MX_WORK"/. "$MATRIX_SAVE"/
}
[ -z "${MATRIX_SAVE:-}" ] || sb_at_exit mx_save
sb_at_exit rm -rf "$MX_WORK"
MX_DURATION=${MATRIX_DURATION:-20}
MX_OFF_DURATION=${MATRIX_OFF_DURATION:-12}
MX_TABLE=$MX_WORK/table
MX_FAILS=0
MX_KNOWN_N=0
: >"$MX_TABLE"

# Known weaknesses of the estimators (issue #9's note gives the figures):
# a miss of one of these targets is shown as KNOWN in the table, not
# counted as a failure; every other miss fails the test.  MPM:SCENARIO:
# SOURCE:FIGURE, each a bash pattern.  Fixed and so no longer listed: the
# scoreboard's scale for KeepAlive Off (-57 %), the kernel estimate's
# phantom connections (+81 %), the first 20 ms of each idle gap (-8 to
# -11 %), the scoreboard's rare hold times (0-3 per run), its hold time
# with KeepAlive Off (prefork 2.7 and 3.8 ms against the generator's 2.0
# and 1.9 ms, worker 41.6 against 6.7 ms: length-biased, and against a
# truth that ends before the slot is free; now Little's law against the
# slots' own, below, and still listed); see sbagent(8), ESTIMATORS.
MX_KNOWN=(
    # diag (scoreboard) hold time with KeepAlive Off, against the slots'
    # own (100 Hz raw sampler): Little's law for the connections that end
    # unobserved removed the length bias, but a 10 Hz sampling of a 12 s
    # run is noisy and the bound is 5 % or 3 sd of that noise: a CI run
    # (a loaded host, so a small sd) had worker 19.1 ms against 21.1 ms
    # (-9.5 %, bound 0.83 ms); the helper's runs -12.8 .. +19.1 %
    "prefork:off:diag:hold_time mean (s)" "worker:off:diag:hold_time mean (s)"
)

# mx_known SCENARIO SOURCE FIGURE: 0 when the target is a known weakness
mx_known()
{
    local k m sc src fig
    for k in ${MX_KNOWN[@]+"${MX_KNOWN[@]}"}; do
        IFS=: read -r m sc src fig <<<"$k"
        # shellcheck disable=SC2053
        [[ $SB_HTTPD_MPM == $m && $1 == $sc && $2 == $src && $3 == $fig ]] && return 0
    done
    return 1
}

# mx_miss SCENARIO SOURCE FIGURE MEASURED TRUTH TOLERANCE RESULT: a miss,
# known or a failure
mx_miss()
{
    if mx_known "$1" "$2" "$3"; then
        mx_row "$1" "$2" "$3" "$4" "$5" "$6" "KNOWN ${7#FAIL }"
        MX_KNOWN_N=$((MX_KNOWN_N + 1))
    else
        mx_row "$@"
        MX_FAILS=$((MX_FAILS + 1))
    fi
}

if ! grep -q '^#define SB_HAVE_BPF 1' "$top_builddir/config.h"; then
    why=$(sed -n 's/^#define SB_BPF_WHY_NOT "\(.*\)"/\1/p' "$top_builddir/config.h")
    echo "SKIP: $SB_TEST_NAME: this build has no BPF source (configure: ${why:-disabled})"
    exit 77
fi

# mx_row SCENARIO SOURCE FIGURE MEASURED TRUTH TOLERANCE RESULT
mx_row()
{
    printf '%-9s %-4s %-26s %14s %14s %9s %s\n' "$@" >>"$MX_TABLE"
    sb_log "$SB_HTTPD_MPM $1 $2 $3: measured $4, truth $5 ($6): $7"
}

# mx_check SCENARIO SOURCE FIGURE MEASURED TRUTH PERCENT [FLOOR]: within
# PERCENT % of TRUTH (or FLOOR absolute, if larger); PERCENT 0 means equal
# after rounding to an integer.  A miss is recorded, not fatal at once.
mx_check()
{
    local ok tol
    if [ "$4" = null ] || [ -z "$4" ]; then
        ok=false
    else
        ok=$(jq -n --argjson a "$4" --argjson e "$5" --argjson p "$6" --argjson f "${7:-0}" \
            'if $p == 0 then (($a | round) == ($e | round))
             else (($a - $e) | fabs) <= ([($e | fabs) * $p / 100, $f] | max) end')
    fi
    if [ "$6" = 0 ]; then tol=exact; else tol="±$6%"; fi
    [ -z "${7:-}" ] || tol="$tol|${7}"
    if [ "$ok" = true ]; then
        mx_row "$1" "$2" "$3" "$4" "$5" "$tol" pass
    else
        local off
        off=$(jq -n --argjson a "${4/null/0}" --argjson e "$5" \
            'if $e == 0 then "n/a" else ((($a - $e) / $e * 1000 | round) / 10 | tostring) + "%" end' 2>/dev/null)
        mx_miss "$1" "$2" "$3" "$4" "$5" "$tol" "FAIL (off by ${off:-?})"
    fi
}

# mx_info SCENARIO SOURCE FIGURE MEASURED TRUTH NOTE: printed, not asserted.
mx_info()
{
    mx_row "$1" "$2" "$3" "$4" "$5" - "${6:-info}"
}

listen_overflows()
{
    awk '$1 == "TcpExt:" && !h { for (i = 2; i <= NF; i++) n[i] = $i; h = 1; next }
         $1 == "TcpExt:" { for (i = 2; i <= NF; i++) if (n[i] == "ListenOverflows") print $i }' \
        /proc/net/netstat
}

# listen_queue: clients waiting in httpd's accept queue now.
listen_queue()
{
    ss -Hltn "sport = :$SB_HTTPD_PORT" | awk '{ q += $2 } END { print q + 0 }'
}

# mx_agents_start NAME: one agent per source, both past their baseline
# second when this returns.
mx_agents_start()
{
    local src n
    for src in bpf diag; do
        sb_bg "$SBAGENT" --scoreboard "$SB_SCOREBOARD" --json --kernel-hz 2 \
            --kernel-source "$src" >"$MX_WORK/$1.$src.json" 2>"$MX_WORK/$1.$src.err"
        eval "mx_agent_$src=$SB_BG_PID"
    done
    for src in bpf diag; do
        n=0
        while [ "$(wc -l <"$MX_WORK/$1.$src.json")" -lt 2 ] && [ $n -lt 150 ]; do
            eval "kill -0 \$mx_agent_$src" 2>/dev/null ||
                sb_fail "$1: sbagent --kernel-source $src exited: $(cat "$MX_WORK/$1.$src.err")"
            sleep 0.1
            n=$((n + 1))
        done
        [ $n -lt 150 ] || sb_fail "$1: sbagent --kernel-source $src: no second within 15 s"
    done
    if ! jq -e -s 'map(select(.conn_per_s_bpf != null)) | length > 0' "$MX_WORK/$1.bpf.json" \
        >/dev/null; then
        # skip only where the BPF source cannot load here: not root, or no
        # BTF; as root on a kernel with BTF (CI) that is a failure
        if [ "$(id -u)" != 0 ] || [ ! -r /sys/kernel/btf/vmlinux ]; then
            echo "SKIP: $SB_TEST_NAME: the BPF source cannot load here (uid $(id -u), BTF $(ls /sys/kernel/btf/vmlinux 2>&1)): $(tr '\n' ' ' <"$MX_WORK/$1.bpf.err")"
            exit 77
        fi
        sb_fail "$1: the bpf agent reports no conn_per_s_bpf: $(cat "$MX_WORK/$1.bpf.err")"
    fi
}

mx_agents_stop()
{
    local src pid
    for src in bpf diag; do
        eval "pid=\$mx_agent_$src"
        kill -TERM "$pid"
        wait "$pid" || sb_fail "$1: sbagent ($src) exited with $? on SIGTERM"
        sb_log "$1 $src agent: $(grep -c . "$MX_WORK/$1.$src.json") seconds; stderr: $(tr '\n' ' ' <"$MX_WORK/$1.$src.err" | cut -c1-300)"
    done
}

# mx_sum NAME SRC FIELD: FIELD summed over every second.
mx_sum()
{
    jq -s "map(.$3 // 0) | add" "$MX_WORK/$1.$2.json"
}

# mx_obs_mean NAME SRC KIND: mean of every observation of KIND (null if none).
mx_obs_mean()
{
    jq -s "[.[].observations.$3[]?] | if length == 0 then null else add / length end" \
        "$MX_WORK/$1.$2.json"
}

mx_obs_count()
{
    jq -s "[.[].observations.$3[]?] | length" "$MX_WORK/$1.$2.json"
}

# The slots' own truth for KeepAlive Off (MX_SLOTS=1 around an mx_run):
# the scoreboard read at 100 Hz by a raw sampler (sbagent --count, no
# estimator), independent of the agents' 10 Hz.  A slot is held from the
# accept until httpd's lingering close has read the client's FIN (then the
# slot is ready): after the client's close, where the generator's
# connection ends, so the generator's duration is no bound for it.
mx_slots_start()
{
    sb_bg "$SBAGENT" --scoreboard "$SB_SCOREBOARD" --json --count 1000000 \
        --interval 0.01 >"$MX_WORK/$1.slots.json" 2>"$MX_WORK/$1.slots.err"
    mx_slots_pid=$SB_BG_PID
}

mx_slots_stop()
{
    sb_bg_stop "$mx_slots_pid"
    sb_log "$1 slot sampler: $(grep -c . "$MX_WORK/$1.slots.json") samples;" \
        "stderr: $(head -c 300 "$MX_WORK/$1.slots.err")"
}

# mx_slot_hold NAME CONNECTIONS: slot-seconds on a connection (R W K L D C,
# each sample standing for the time since the previous one) over the
# CONNECTIONS httpd accepted: the mean slot hold (Little's law; exact up to
# the 100 Hz sampling: a connection holds a slot ~1-20 ms, 2,500/s).
# Prints it and the standard deviation of the same taken from every 10th
# sample (ten phases of a 10 Hz sampling, what the agents do): how closely
# 10 Hz samples of this run can tell the mean at all.
mx_slot_hold()
{
    jq -R 'fromjson? | select(.slots != null)
           | {t: (.ts | tonumber),
              b: (.slots | .reading + .writing + .keepalive + .logging + .dns + .closing)}' \
        "$MX_WORK/$1.slots.json" |
        jq -rs --argjson n "$2" \
            'def held(ix): [range(1; ix | length) as $k
                            | (.[ix[$k]].t - .[ix[$k - 1]].t) * .[ix[$k]].b] | add / $n;
             . as $a
             | held([range(0; $a | length)]) as $full
             | [range(0; 10) as $p | $a | held([range($p; $a | length; 10)])] as $ph
             | ($ph | add / length) as $m
             | ([$ph[] | (. - $m) * (. - $m)] | add / (length - 1) | sqrt) as $sd
             | "\($full) \($sd)"'
}

# mx_run NAME [--queue-drain] LOADGEN_ARGS...: the agents, the generator's
# run (truth in $MX_WORK/NAME.truth.json, its unix start time in
# MX_T0, in seconds with decimals), a settle, the agents stopped.  With
# --queue-drain, waits (30 s at most) until httpd has accepted every
# connection still in its accept queue (cut by the generator at the end:
# httpd still accepts and serves them) before stopping the agents.
mx_run()
{
    local name=$1 qd=0 i t_start t_end
    shift
    if [ "$1" = --queue-drain ]; then
        qd=1
        shift
    fi
    mx_agents_start "$name"
    [ "${MX_SLOTS:-0}" = 0 ] || mx_slots_start "$name"
    MX_OVF0=$(listen_overflows)
    MX_QMAX=0
    t_start=$(_sb_now_ms)
    MX_T0=$(jq -n --arg t "$EPOCHREALTIME" '$t | tonumber')
    "$LOADGEN" --url "$SB_HTTPD_URL/" --seed 9 --json-out "$MX_WORK/$name.truth.json" "$@" \
        2>"$MX_WORK/$name.loadgen.err" || sb_fail "$name: loadgen failed: $(cat "$MX_WORK/$name.loadgen.err")"
    if [ $qd = 1 ]; then
        for i in $(seq 300); do
            [ "$(listen_queue)" -eq 0 ] && break
            [ "${MX_DRAIN_KILL_CGIS:-0}" = 0 ] || sb_kill_cgis
            sleep 0.1
        done
        [ "${MX_DRAIN_KILL_CGIS:-0}" = 0 ] || sb_kill_cgis
        sb_log "$name: accept queue empty $((i / 10)) s after the generator ended"
    fi
    sleep 2
    MX_OVF1=$(listen_overflows)
    [ "${MX_SLOTS:-0}" = 0 ] || mx_slots_stop "$name"
    mx_agents_stop "$name"
    t_end=$(_sb_now_ms)
    sb_log "$name: run took $(((t_end - t_start) / 1000)) s"
    sb_log "$name truth: $(jq -c '{connections_attempted, connections_opened, refused, connect_timeouts, responses_ok, errors: .responses_error.total, unanswered: .requests_unanswered, connection_ends, closed_at_end, failed: .failed.total, conn_duration_ms, arrivals_s}' "$MX_WORK/$name.truth.json")"
}

# mx_little NAME IDLE_S SKIP_S: Little's law over the steady window (from
# SKIP_S after the start to 1 s before the end of the arrivals, in whole
# agent seconds): the generator's arrivals of each second (taken at its
# middle) times the part of each connection's idle time [a, a + IDLE_S]
# inside the window, divided by the window.  Prints "from to L".
mx_little()
{
    local from to
    from=$(jq -n --argjson t "$MX_T0" --argjson s "$3" '($t + $s) | ceil')
    to=$(jq -n --argjson t "$MX_T0" --argjson d "$MX_DURATION" '($t + $d - 1) | floor')
    jq -r --argjson t0 "$MX_T0" --argjson f "$from" --argjson t "$to" --argjson d "$2" \
        '[.per_second_arrivals | to_entries[]
          | ($t0 + .key + 0.5) as $a
          | .value * ([([$a + $d, $t] | min) - ([$a, $f] | max), 0] | max)]
         | add / ($t - $f) | "\($f) \($t) \(.)"' "$MX_WORK/$1.truth.json"
}

# mx_window_mean NAME SRC FIELD FROM TO: mean of FIELD over seconds [FROM, TO).
mx_window_mean()
{
    jq -s --argjson f "$4" --argjson t "$5" \
        "map(select(.ts >= \$f and .ts < \$t and .$3 != null) | .$3)
         | if length == 0 then null else add / length end" "$MX_WORK/$1.$2.json"
}

lg() { jq -r "$2" "$MX_WORK/$1.truth.json"; }

# mx_counts NAME [SERVED]: connections and requests of both agents against
# the truth.  SERVED (default: responses_ok + responses_error.total) is the
# requests httpd served.
mx_counts()
{
    local name=$1 opened served src tol
    opened=$(lg "$name" .connections_opened)
    served=${2:-$(lg "$name" '.responses_ok + .responses_error.total')}
    for src in bpf diag; do
        if [ $src = bpf ]; then tol=1; else tol=5; fi
        mx_check "$name" $src conn_per_s "$(mx_sum "$name" $src conn_per_s)" "$opened" $tol
        mx_check "$name" $src req_per_s "$(mx_sum "$name" $src req_per_s)" "$served" 0
    done
    mx_info "$name" bpf conn_per_s_bpf "$(mx_sum "$name" bpf conn_per_s_bpf)" "$opened"
    mx_info "$name" diag conn_per_s_kernel "$(mx_sum "$name" diag conn_per_s_kernel)" "$opened"
    [ "$SB_HTTPD_MPM" = event ] ||
        mx_info "$name" diag conn_per_s_scoreboard "$(mx_sum "$name" diag conn_per_s_scoreboard)" "$opened"
}

# mx_nested SCENARIO SOURCE FIGURE MEASURED TRUTH: MEASURED must exist and
# be <= TRUTH (+ 50 us for the two clocks' reads).
mx_nested()
{
    local ok
    ok=$(jq -n --argjson a "${4/null/-1}" --argjson e "$5" 'if $a < 0 then 0 elif $a <= $e + 0.00005 then 1 else 0 end')
    if [ "$ok" = 1 ]; then
        mx_row "$1" "$2" "$3" "$4" "$5" "<=truth" pass
    else
        mx_miss "$1" "$2" "$3" "$4" "$5" "<=truth" FAIL
    fi
}

# mx_durations NAME [short|queued|halfopen]: mean lifetime (bpf) and hold
# time (prefork, worker) against the generator's mean connection duration
# (conn_duration_ms), within 5 %.  The server's view of a connection lies
# inside the client's: its ESTABLISHED comes after the client's (the
# handshake's last ACK), its first close no later than the generator's
# timestamp of the end (taken before close(2) or after reading the FIN).
#   short: connections that live about a millisecond (KeepAlive Off): the
#     generator's end is late by its own event-loop latency (about 1.5 ms
#     at 2,500 new connections/s on 2 cores), so the truth cannot resolve
#     5 %: asserted is that the server's mean lies inside (<=) the
#     generator's, for the lifetime and the eBPF hold time (the lifetime
#     less the accept queue wait: it ends at httpd's first close).  Not for
#     the scoreboard's hold time: the slot stays held through httpd's
#     lingering close until it has read the client's FIN, which the client
#     sends after the generator's end; that slot hold is the W the tuner
#     plans with (DESIGN.md: slots = rate x the time each connection holds
#     a slot).  Its truth is the slots' own (mx_slot_hold: the scoreboard
#     at 100 Hz over the connections the generator opened), within 5 %, or
#     3 standard deviations of a 10 Hz sampling of the run where that is
#     more (with 1-5 slots held at a time, 12 s at 10 Hz cannot tell 5 %);
#   queued: connections wait in the accept queue first; a slot is held
#     from the accept on, so the hold time is printed, not compared (the
#     lifetime, from the handshake, is);
#   halfopen: as queued, and the kernel dropped handshake ACKs (full
#     backlog): the client counts its connection open while the server
#     still holds it in SYN_RECV, which no server-side hook sees as a
#     connection; asserted is lifetime <= the generator's.
mx_durations()
{
    local name=$1 mode=${2:-normal} truth src hold slot=null sd=0
    truth=$(lg "$name" '.conn_duration_ms.mean / 1000')
    if [ "$mode" = short ] && [ "$SB_HTTPD_MPM" != event ]; then
        read -r slot sd <<<"$(mx_slot_hold "$name" "$(lg "$name" .connections_opened)")"
        sb_log "$name: slot hold from the 100 Hz scoreboard samples: $slot s;" \
            "10 Hz sampling of the run: sd $sd s" \
            "($(jq -n --argjson a "$sd" --argjson b "$slot" '$a / $b * 1000 | round / 10') %)"
    fi
    case $mode in
        short | halfopen)
            mx_nested "$name" bpf "conn_lifetime mean (s)" "$(mx_obs_mean "$name" bpf conn_lifetime)" "$truth"
            ;;
        *)
            mx_check "$name" bpf "conn_lifetime mean (s)" "$(mx_obs_mean "$name" bpf conn_lifetime)" "$truth" 5
            ;;
    esac
    mx_info "$name" bpf "conn_lifetime count" "$(mx_obs_count "$name" bpf conn_lifetime)" \
        "$(lg "$name" .conn_duration_ms.count)"
    [ "$SB_HTTPD_MPM" != event ] || return 0
    for src in bpf diag; do
        hold=$(mx_obs_mean "$name" $src hold_time)
        case $mode in
            short)
                if [ $src = bpf ]; then
                    # the lifetime less the accept queue wait: it ends at
                    # httpd's first close, before its lingering close
                    mx_nested "$name" $src "hold_time mean (s)" "$hold" "$truth"
                    mx_info "$name" $src "hold_time mean (s)" "$hold" "$slot" \
                        "info: truth = slot hold (100 Hz scoreboard)"
                else
                    # the scoreboard's: the slot's hold, lingering close
                    # included, against the slot sampler's: within 5 %,
                    # or 3 sd of 10 Hz sampling where the run's samples
                    # cannot tell 5 % (few slots held at a time)
                    mx_check "$name" $src "hold_time mean (s)" "$hold" "$slot" 5 \
                        "$(jq -n --argjson s "$sd" '$s * 3 * 1e7 | round / 1e7')"
                    mx_info "$name" $src "hold_time mean (s)" "$hold" "$truth" \
                        "info: truth = the generator's duration"
                fi
                ;;
            queued | halfopen)
                mx_info "$name" $src "hold_time mean (s)" "$hold" "$truth" \
                    "info: truth includes the accept queue wait"
                ;;
            *) mx_check "$name" $src "hold_time mean (s)" "$hold" "$truth" 5 ;;
        esac
        mx_info "$name" $src "hold_time count" "$(mx_obs_count "$name" $src hold_time)" \
            "$(lg "$name" .conn_duration_ms.count)"
    done
}

# mx_idle NAME IDLE_S SKIP_S: idle keep-alive connections (both agents)
# against Little's law; prefork/worker also the slots held in K.
mx_idle()
{
    local name=$1 w from to little src
    w=$(mx_little "$name" "$2" "$3")
    read -r from to little <<<"$w"
    for src in bpf diag; do
        mx_check "$name" $src "keepalive_conns_mean" \
            "$(mx_window_mean "$name" $src keepalive_conns_mean "$from" "$to")" "$little" 5
    done
    if [ "$SB_HTTPD_MPM" != event ]; then
        mx_check "$name" diag "keepalive_slots_mean" \
            "$(mx_window_mean "$name" diag keepalive_slots_mean "$from" "$to")" "$little" 5
    fi
}

mx_ordinary_httpd()
{
    local mpm=$1
    shift
    if [ "$mpm" = prefork ]; then
        sb_httpd_start "mx-$mpm" mpm=prefork server_limit=64 max_workers=64 start_servers=64 \
            min_spare=1 max_spare=64 "$@"
    else
        sb_httpd_start "mx-$mpm" mpm="$mpm" server_limit=3 thread_limit=32 threads_per_child=32 \
            max_workers=64 start_servers=2 min_spare=8 max_spare=64 "$@"
    fi
}

# mx_small_httpd MPM SLOTS KEY=VALUE...: an httpd of SLOTS workers in one
# process (threaded MPMs) or SLOTS processes (prefork).
mx_small_httpd()
{
    local mpm=$1 n=$2
    shift 2
    if [ "$mpm" = prefork ]; then
        sb_httpd_start "mx-$mpm-small" mpm=prefork server_limit="$n" max_workers="$n" \
            start_servers="$n" min_spare=1 max_spare="$n" "$@"
    else
        sb_httpd_start "mx-$mpm-small" mpm="$mpm" server_limit=1 thread_limit="$n" \
            threads_per_child="$n" max_workers="$n" start_servers=1 min_spare=1 \
            max_spare="$n" "$@"
    fi
}

# mx_want GROUP: 0 when MATRIX_ONLY is unset or names GROUP
mx_want()
{
    [ -z "${MATRIX_ONLY:-}" ] && return 0
    [[ " ${MATRIX_ONLY//,/ } " == *" $1 "* ]]
}

matrix_main()
{
    local mpm=$1 t_all name opened
    t_all=$(_sb_now_ms)

    # ------------------------------------------------------------ off
    if mx_want off; then
    mx_ordinary_httpd "$mpm" keepalive=Off
    MX_SLOTS=1 mx_run off --rate 2500 --duration "$MX_OFF_DURATION" --no-keepalive --timeout 10 \
        --drain 5
    sb_assert_ge "$(lg off .connections_opened)" $((2000 * MX_OFF_DURATION)) \
        "off: connections opened (>= 2,000/s)"
    mx_counts off
    mx_durations off short
    sb_httpd_stop
    fi

    # ------------------------------------------------------------ keep-alive
    if mx_want keepalive; then
    mx_ordinary_httpd "$mpm" keepalive_timeout=2
    # browser: idle 3 x 0.3 s + the 2 s KeepAliveTimeout per connection
    mx_run browser --rate 12 --duration "$MX_DURATION" --requests 4 --gap 0.3 --gap-dist fixed \
        --linger --drain 8
    mx_counts browser
    mx_idle browser 2.9 4
    mx_durations browser
    # client-closed: idle 4 x 0.2 s per connection
    mx_run client --rate 20 --duration "$MX_DURATION" --requests 5 --gap 0.2 --gap-dist fixed \
        --close --drain 5
    mx_counts client
    mx_idle client 0.8 2
    mx_durations client
    # long-lived: idle 5 x 1 s per connection
    mx_run long --rate 5 --duration "$MX_DURATION" --requests 6 --gap 1 --gap-dist fixed \
        --close --drain 8
    mx_counts long
    mx_idle long 5 6
    mx_durations long
    sb_httpd_stop
    fi

    # ------------------------------------------------------------ overload
    if mx_want overload; then
    # 4 slots, each connection holds one for its request and the 1 s
    # KeepAliveTimeout: prefork and worker serve < 4 connections/s; 20/s
    # arrive (5x).  Event holds no worker while a connection idles, and
    # when its process is full it closes idle keep-alive connections at
    # once (seen: half of them closed within 1 ms of their response), so
    # lingering clients cannot overload it: there each request holds its
    # worker 1 s in sleep.cgi instead, 4 workers serve 4 connections/s,
    # 20/s arrive (5x).  The accept queue grows all along (ListenBacklog
    # 4096: it never fills); the generator cuts the queued connections at
    # the end (counted in connections_opened: their handshake completed),
    # and httpd still accepts them and serves their requests (already
    # sent) after the cut: the truth for requests is the responses plus the
    # requests the cut left unanswered.  On event the CGIs of those are
    # ended as they start (their requests still end and count), else the
    # drain would take (queue x 1 s / 4) ~80 s.
    local opath=/
    if [ "$mpm" = event ]; then
        opath=/cgi-bin/sleep.cgi?1
        MX_DRAIN_KILL_CGIS=1
    fi
    mx_small_httpd "$mpm" 4 keepalive_timeout=1 listen_backlog=4096
    mx_run overload --queue-drain --rate 20 --duration "$MX_DURATION" --requests 1 --linger \
        --path "$opath" --timeout 60 --drain 1
    MX_DRAIN_KILL_CGIS=0
    opened=$(lg overload .connections_opened)
    mx_counts overload "$(lg overload '.responses_ok + .responses_error.total + .requests_unanswered.cut_at_end')"
    mx_durations overload queued
    local qmax acc_run acc_all arr_run
    qmax=$(jq -s 'map(.listen_queue_max // 0) | max' "$MX_WORK/overload.diag.json")
    mx_info overload diag "listen_queue_max (max)" "$qmax" "$opened" "info: half the arrivals or more must wait"
    sb_assert_ge "$((qmax * 2))" "$opened" "overload: the accept queue held half the arrivals at its peak"
    sb_assert_ge "$(jq --argjson d "$MX_DURATION" '.per_second_arrivals[0:$d] | add' "$MX_WORK/overload.truth.json")" \
        "$(jq --argjson d "$MX_DURATION" '.per_second_requests[0:$d] | add * 4' "$MX_WORK/overload.truth.json")" \
        "overload: arrivals >= 4x the connections served meanwhile"
    sb_assert_eq "$(lg overload .refused)" 0 "overload: refused connections (the backlog must not fill)"
    for src in bpf diag; do
        # accepted while the arrivals went on vs the responses the
        # generator had by then; over the whole run (queue drained)
        # accepted = arrivals
        acc_run=$(jq -s --argjson t "$MX_T0" --argjson d "$MX_DURATION" \
            'map(select(.ts < ($t + $d | floor)) | .accepted_per_s // 0) | add' \
            "$MX_WORK/overload.$src.json")
        arr_run=$(jq -s --argjson t "$MX_T0" --argjson d "$MX_DURATION" \
            'map(select(.ts < ($t + $d | floor)) | .conn_per_s // 0) | add' \
            "$MX_WORK/overload.$src.json")
        acc_all=$(mx_sum overload $src accepted_per_s)
        mx_info overload $src "accepted (arrival secs)" "$acc_run" \
            "$(jq --argjson d "$MX_DURATION" '.per_second_requests[0:$d] | add' "$MX_WORK/overload.truth.json")" \
            "info: truth = responses in those seconds"
        mx_info overload $src "arrivals (arrival secs)" "$arr_run" \
            "$(jq --argjson d "$MX_DURATION" '.per_second_arrivals[0:$d] | add' "$MX_WORK/overload.truth.json")" \
            "info: truth = connect()s in those seconds"
        mx_check overload $src "accepted_per_s (all)" "$acc_all" "$opened" 5
        mx_info overload $src refused_per_s "$(mx_sum overload $src refused_per_s)" \
            "$(lg overload .refused)" "info: truth = loadgen refused"
    done
    sb_httpd_stop
    fi

    # ------------------------------------------------------------ refused
    if mx_want refused; then
    # ListenBacklog 2 (an accept queue of 3) before 2 slots held ~1 s each;
    # 40 clients/s for 3 s.  The kernel drops SYNs (and handshake ACKs)
    # while the queue is full; a client retries its SYN after 1 s and 3 s
    # and gives up at its 4 s connect timeout (connect_timeouts).  Those
    # never complete a handshake: no eBPF hook sees them, and no sock_diag
    # sample either; they are refused attempts, which the agents count apart
    # (refused_per_s: ListenOverflows, dropped packets, host-wide, so also
    # retries and other listeners' drops).  The strongest true statements:
    # arrivals = connections the generator opened (within 1 % bpf, 5 %
    # diag), and refused_per_s >= the clients that gave up (each lost at
    # least one SYN); refused_per_s against the host's ListenOverflows
    # delta is printed.
    local rslots=2
    mx_small_httpd "$mpm" $rslots keepalive_timeout=1 listen_backlog=2
    mx_run refused --rate 40 --duration 3 --requests 1 --linger --connect-timeout 4 \
        --timeout 20 --drain 12
    # a request in flight when the generator stopped is still served
    mx_counts refused "$(lg refused '.responses_ok + .responses_error.total + .requests_unanswered.cut_at_end')"
    mx_durations refused halfopen
    local ovf refused_sum gave_up
    ovf=$((MX_OVF1 - MX_OVF0))
    gave_up=$(lg refused '.connect_timeouts + .refused')
    for src in bpf diag; do
        refused_sum=$(mx_sum refused $src refused_per_s)
        mx_info refused $src "refused_per_s" "$refused_sum" "$gave_up" \
            "info: truth = clients that gave up (connect timeout or RST)"
        mx_check refused $src "refused_per_s >= gave up" \
            "$(jq -n --argjson r "$refused_sum" --argjson g "$gave_up" 'if $r >= $g then 1 else 0 end')" 1 0
        # the host's counter over the generator's window: printed, not
        # asserted (other listeners' overflows count in it, e.g. a parallel
        # test's, and an agent's window edge may miss one: 462 of 463 seen)
        mx_info refused $src "refused_per_s" "$refused_sum" "$ovf" "info: truth = ListenOverflows delta"
        mx_info refused $src "accepted_per_s" "$(mx_sum refused $src accepted_per_s)" \
            "$(lg refused .connections_opened)" "info: truth = opened"
    done
    sb_assert_ge "$gave_up" 1 "refused: clients that never got in (the backlog must overflow)"
    sb_httpd_stop
    fi

    echo "---- $SB_HTTPD_MPM: scenario source figure measured truth tolerance result" >&2
    cat "$MX_TABLE" >&2
    sb_log "$SB_TEST_NAME took $((($(_sb_now_ms) - t_all) / 1000)) s"
    sb_log "$MX_KNOWN_N known weakness(es) missed their target (KNOWN above; issue #9)"
    [ "$MX_FAILS" -eq 0 ] || sb_fail "$MX_FAILS figure(s) off target (table above)"
    sb_pass
}
