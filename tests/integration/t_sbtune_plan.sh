#!/bin/sh
# t_sbtune_plan: the planning calculator (the real tuner/sbtune binary)
# reproduces the planning article's two figures in text and JSON, refuses
# bad input with exit 2, and when memory cannot hold the slots says so,
# recommends KeepAlive Off (prefork) or the event MPM, and exits 4.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "${top_srcdir:-$(dirname "$0")/../..}/tests/harness.sh"

SBTUNE=${SBTUNE:-$top_builddir/tuner/sbtune}
[ -x "$SBTUNE" ] || sb_fail "$SBTUNE not built"
command -v jq >/dev/null || sb_fail "jq is needed"
work=$(mktemp -d "${TMPDIR:-/tmp}/sbtest-plan.XXXXXX") || sb_fail "mktemp -d"
sb_at_exit rm -rf "$work"

# run CODE ARGS...: sbtune ARGS exits CODE; stdout in $work/out, stderr in $work/err
run()
{
    local code=$1 rc
    shift
    "$SBTUNE" "$@" >"$work/out" 2>"$work/err"
    rc=$?
    if [ "$rc" != "$code" ]; then
        sb_log "stdout:"; cat "$work/out" >&2
        sb_log "stderr:"; cat "$work/err" >&2
    fi
    sb_assert_eq "$rc" "$code" "exit status of sbtune $*"
}

# ------------------------------------------------ 256 slots at a 7 s hold: 36 clients/s
run 0 plan --slots 256 --hold-time 7
out=$(cat "$work/out")
sb_assert_match "$out" "256 slots / 7 s hold = 36\.6 new clients/s" "Little's law in words"
sb_assert_match "$out" "Erlang C: .* only up to 31\.[0-9] new clients/s" "Erlang C capacity"
sb_log "$(grep "Little's law" "$work/out")"

run 0 plan --slots 256 --hold-time 7 --format json
sb_assert_json "$work/out" '.mode == "capacity"'
sb_assert_json "$work/out" '.capacity.littles_law_conn_per_s | (. > 36.5 and . < 36.6)' \
    "256/7 = 36.57"
sb_assert_json "$work/out" '.capacity.littles_law_conn_per_s | floor == 36' "the article's 36"
sb_assert_json "$work/out" \
    '.capacity.erlang_c_conn_per_s < .capacity.littles_law_conn_per_s and .capacity.erlang_c_conn_per_s > 30'
sb_assert_json "$work/out" '.arithmetic | test("Little.s law")'

# ------------------------------------------------ 150/s at KeepAliveTimeout 5: about 1,000 slots
run 0 plan --conn-rate 150 --keepalive-timeout 5 --hold-time 6.6
out=$(cat "$work/out")
sb_assert_match "$out" "150 new clients/s × 6\.6 s hold = 990 slots" "the article's arithmetic"
sb_assert_match "$out" "1\.6 s of requests and gaps \+ 5 s final keep-alive wait" "hold parts"
sb_assert_match "$out" "Erlang C: .*never drains.*slots keep the chance" "Erlang C explained"
sb_assert_match "$out" "MaxRequestWorkers 10[0-9][0-9]" "about 1,000"
sb_assert_match "$out" "stop and a start" "ServerLimit beyond httpd's default 256"
sb_assert_match "$out" "Uncertainty: The hold time 6\.6 s is an estimate" "uncertainty"
sb_log "$(grep -E "Little's law|Erlang C" "$work/out")"

run 0 plan --conn-rate 150 --keepalive-timeout 5 --hold-time 6.6 --format json
j=$work/out
sb_assert_json "$j" '.status == "ok"'
sb_assert_json "$j" '.inputs.design_conn_per_s == 150 and .inputs.hold_time_s == 6.6'
sb_assert_json "$j" '.model.littles_law_slots | (. > 989.99 and . < 990.01)' "L = 990"
sb_assert_json "$j" '.recommendation.MaxRequestWorkers | (. > 990 and . < 1100)' "about 1,000"
sb_assert_json "$j" '.recommendation | .ServerLimit == .MaxRequestWorkers + ((.MaxRequestWorkers + 3) / 4 | floor)' \
    "prefork: ServerLimit = MaxRequestWorkers + 25 % for children finishing gracefully"
sb_assert_json "$j" '.recommendation.KeepAlive == "On" and .recommendation.KeepAliveTimeout == 5'
sb_assert_json "$j" '.recommendation | has("ThreadsPerChild") | not' "prefork has no threads"
sb_assert_json "$j" '.model.wait_probability <= 0.01'
sb_assert_json "$j" '.needs_full_restart == true' "ServerLimit grows beyond 256"
sb_assert_json "$j" '.current.ServerLimit == 256 and .current.httpd_defaults_assumed'
sb_assert_json "$j" '.arithmetic | test("150 new clients/s × 6.6 s hold = 990 slots")'
sb_assert_json "$j" '.uncertainty | length > 0'

# the same through the article's route: 50/s busy average, 3x spike, 1.6 s + the 5 s timeout
run 0 plan --busy-rate 50 --spike-factor 3 --keepalive-timeout 5 --active-time 1.6 --format json
sb_assert_json "$work/out" '.inputs.design_conn_per_s == 150 and .inputs.hold_time_s == 6.6'
sb_assert_json "$work/out" '.model.littles_law_slots | (. > 989.99 and . < 990.01)'

# worker: a multiple of ThreadsPerChild, headroom for finishing processes
run 0 plan --conn-rate 150 --keepalive-timeout 5 --hold-time 6.6 --mpm worker \
    --threads-per-child 25 --current-server-limit 100 --format json
sb_assert_json "$work/out" '.recommendation.MaxRequestWorkers % 25 == 0'
sb_assert_json "$work/out" \
    '.recommendation.ServerLimit > .recommendation.MaxRequestWorkers / 25'
sb_assert_json "$work/out" '.recommendation.ThreadsPerChild == 25'
sb_assert_json "$work/out" '.needs_full_restart == false' "ServerLimit 100 is enough"

# event: workers from requests, far fewer than prefork's slots
run 0 plan --conn-rate 150 --keepalive-timeout 5 --hold-time 6.6 --mpm event \
    --service-time 0.05 --requests-per-conn 10 --format json
sb_assert_json "$work/out" '.model.request_load | (. > 74.99 and . < 75.01)'
sb_assert_json "$work/out" '.recommendation.MaxRequestWorkers < 600'
sb_assert_json "$work/out" '.model.connection_ceiling >= .model.design_connections'

# ------------------------------------------------ memory: KeepAlive Off, exit 4
# 20 MiB per child, 4 GiB host: 3 GiB budget holds 153 children; 1,066 are needed
run 4 plan --conn-rate 150 --keepalive-timeout 5 --hold-time 6.6 --service-time 0.05 \
    --requests-per-conn 10 --pss 20M --memory 4G
out=$(cat "$work/out")
sb_assert_match "$out" "153 workers at most" "memory arithmetic"
sb_assert_match "$out" "Not even at KeepAliveTimeout 1 s" "the shortest sensible timeout tried"
sb_assert_match "$out" "Recommendation: KeepAlive Off" "KeepAlive Off recommended"
sb_assert_match "$out" "Alternative: the event MPM" "the event MPM mentioned"
sb_assert_match "$out" "    KeepAlive Off" "the fallback's directives"

run 4 plan --conn-rate 150 --keepalive-timeout 5 --hold-time 6.6 --service-time 0.05 \
    --requests-per-conn 10 --pss 20M --memory 4G --format json
j=$work/out
sb_assert_json "$j" '.status == "no_fit"'
sb_assert_json "$j" '.recommendation.KeepAlive == "Off" and .recommendation.KeepAliveTimeout == null'
sb_assert_json "$j" '.recommendation.MaxRequestWorkers <= 153 and .memory.max_workers == 153'
sb_assert_json "$j" '.memory.fits == true'
sb_assert_json "$j" '.alternative.mpm == "event" and (.alternative.recommendation.MaxRequestWorkers % 25 == 0)'
sb_assert_json "$j" '.inputs.pss_per_worker_bytes == 20971520 and .inputs.memory_bytes == 4294967296'
sb_assert_json "$j" '.arithmetic | test("KeepAlive Off")'

# a budget that fits at a shorter timeout: exit 0, the timeout shortened
run 0 plan --conn-rate 150 --keepalive-timeout 5 --hold-time 6.6 --pss 10M --memory-budget 6G \
    --format json
sb_assert_json "$work/out" '.memory.keepalive_timeout_shortened == true'
sb_assert_json "$work/out" '.recommendation.KeepAliveTimeout < 5 and .recommendation.MaxRequestWorkers <= 614'

# nothing fits, not even KeepAlive Off: exit 4, capped, more hardware needed
run 4 plan --conn-rate 150 --keepalive-timeout 5 --hold-time 6.6 --pss 200M --memory 2G
sb_assert_match "$(cat "$work/out")" "cannot carry 150 new clients/s" "hardware too small"

# ------------------------------------------------ the YAML file
# a key from --config changes the plan; the command line wins; a bad file
# names file:line:column and is a usage error
printf 'spike_factor: 4\nmpm: worker\n' >"$work/sbtune.yaml"
run 0 plan --config "$work/sbtune.yaml" --busy-rate 50 --hold-time 7 --format json
sb_assert_json "$work/out" '.inputs.design_conn_per_s == 200 and .inputs.mpm == "worker"' \
    "spike_factor and mpm from the file"
run 0 plan --config "$work/sbtune.yaml" --busy-rate 50 --hold-time 7 --spike-factor 2 --format json
sb_assert_json "$work/out" '.inputs.design_conn_per_s == 100' "the command line wins over the file"
printf '# sbtune\nspike_factor: 400\n' >"$work/bad.yaml"
run 2 plan --config "$work/bad.yaml" --busy-rate 50 --hold-time 7
sb_assert_match "$(cat "$work/err")" "bad.yaml:2:15: spike_factor must be a number from 1 to 100"
printf 'hold_time: 7\n' >"$work/bad.yaml"
run 2 plan --config "$work/bad.yaml" --busy-rate 50
sb_assert_match "$(cat "$work/err")" "bad.yaml:1:1: 'hold_time' is a command-line option"
run 2 plan --config "$work/missing.yaml" --busy-rate 50 --hold-time 7
sb_assert_match "$(cat "$work/err")" "missing.yaml: cannot open"

# ------------------------------------------------ usage (2)
run 2 plan
sb_assert_match "$(cat "$work/err")" "give --hold-time"
run 2 plan --hold-time 7
sb_assert_match "$(cat "$work/err")" "give --conn-rate"
run 2 plan --conn-rate fast --hold-time 7
sb_assert_match "$(cat "$work/err")" "--conn-rate takes"
run 2 plan --conn-rate 10 --hold-time 7 --mpm winnt
sb_assert_match "$(cat "$work/err")" "prefork\|worker\|event"
run 2 plan --conn-rate 10 --hold-time 7 --pss 10Q
run 2 plan --conn-rate 10 --hold-time 7 --hold-time-typo 1
run 2 plan --conn-rate 10 --hold-time 7 --active-time 2
run 2 plan --conn-rate 10 --hold-time 7 --format yaml
run 2 frobnicate
[ ! -s "$work/out" ] || sb_fail "a usage error printed a result"
run 0 plan --help
for o in --conn-rate --hold-time --keepalive-timeout --pss --memory --mpm --threads-per-child \
    --spike-factor --target-wait --format --slots; do
    grep -q -- "$o" "$work/out" || sb_fail "plan --help does not mention $o"
done
run 0 --version
sb_assert_match "$(cat "$work/out")" '^sbtune \(sbtune\) [0-9]+\.[0-9]+' "--version"

# the man page documents every option of plan --help
man=$top_srcdir/man/sbtune.8
[ -f "$man" ] || sb_fail "$man missing"
"$SBTUNE" plan --help >"$work/help"
for opt in $(grep -o -- '--[a-z][a-z0-9-]*' "$work/help" | sort -u); do
    grep -q -- "$(echo "$opt" | sed 's/-/\\\\-/g')" "$man" || grep -q -- "$opt" "$man" ||
        sb_fail "$man does not document $opt"
done
sb_pass
