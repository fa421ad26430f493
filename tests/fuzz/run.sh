#!/bin/sh
# make fuzz: tests/fuzz/run.sh SRCDIR BUILDDIR NAME...
# For each target NAME: replay every file of SRCDIR/regress/NAME (the crash
# reproducers: each must pass), then fuzz a copy of SRCDIR/corpus/NAME plus
# the seeds.txt files of the source tree for FUZZ_SECONDS (default 30) with libFuzzer under ASan and UBSan.  A crash,
# leak, timeout or failed invariant fails the run: the input is kept in
# BUILDDIR/work/NAME/crash-* with the command that replays it.  With
# FUZZ_MERGE=1 the inputs that add coverage are merged (minimized) into
# SRCDIR/corpus/NAME.  Prints per target: executions, executions per
# second, coverage (cov: edges, ft: features) and corpus size.
set -u
src=$1
build=$2
shift 2
top=$src/../..
seconds=${FUZZ_SECONDS:-30}
merge=${FUZZ_MERGE:-0}
case $seconds in
    ''|*[!0-9]*) echo "fuzz: FUZZ_SECONDS must be a whole number of seconds (got '$seconds')" >&2
                 exit 2 ;;
esac
# leaks are failures; a failed UBSan check aborts (-fno-sanitize-recover)
ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:symbolize=1}
UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export ASAN_OPTIONS UBSAN_OPTIONS
status=0
summary=""
for name in "$@"; do
    bin=$build/fuzz_$name
    work=$build/work/$name
    if [ ! -x "$bin" ]; then
        echo "fuzz: $bin is not built (make fuzz-build)" >&2
        exit 2
    fi
    rm -rf "$work"
    mkdir -p "$work/corpus"
    if [ -d "$src/corpus/$name" ]; then
        cp "$src/corpus/$name"/* "$work/corpus/" 2>/dev/null
    fi
    # the captured inputs of tests/data (seeds.txt), read from a directory
    # of their own: new inputs go to the first directory, corpus
    mkdir -p "$work/seeds"
    while read -r target pattern; do
        [ "$target" = "$name" ] || continue
        for f in $top/$pattern; do
            [ -f "$f" ] && cp "$f" "$work/seeds/seed-$(basename "$f")"
        done
    done <"$src/seeds.txt"
    # the reproducers first: a fixed bug stays fixed
    nreg=0
    if [ -d "$src/regress/$name" ]; then
        for f in "$src/regress/$name"/*; do
            [ -f "$f" ] || continue
            nreg=$((nreg + 1))
            if ! "$bin" -runs=1 "$f" >"$work/regress.log" 2>&1; then
                echo "FAIL fuzz_$name: regression input $f:" >&2
                cat "$work/regress.log" >&2
                status=1
            fi
        done
    fi
    echo "fuzz_$name: $nreg regression input(s) replayed; fuzzing $(ls "$work/corpus" | wc -l) corpus and $(ls "$work/seeds" | wc -l) seed input(s) for ${seconds}s"
    dict=""
    [ -f "$src/$name.dict" ] && dict="-dict=$src/$name.dict"
    # shellcheck disable=SC2086
    (cd "$work" && "$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
        -print_final_stats=1 -artifact_prefix="$work/" $dict corpus seeds) >"$work/fuzz.log" 2>&1
    rc=$?
    done_line=$(grep -E '^#[0-9]+.*(DONE|pulse|NEW|REDUCE|INITED)' "$work/fuzz.log" | tail -n 1)
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/fuzz.log" | head -n 1)
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$work/fuzz.log" | head -n 1)
    cov=$(echo "$done_line" | sed -n 's/.*cov: \([0-9]*\).*/\1/p')
    ft=$(echo "$done_line" | sed -n 's/.*ft: \([0-9]*\).*/\1/p')
    corp=$(echo "$done_line" | sed -n 's/.*corp: \([0-9]*\/[0-9a-zA-Z]*\).*/\1/p')
    line="fuzz_$name: ${runs:-?} runs, ${rate:-?}/s, cov ${cov:-?}, ft ${ft:-?}, corpus ${corp:-?}"
    if [ "$rc" -ne 0 ]; then
        echo "FAIL $line (exit $rc):" >&2
        grep -v -E '^#[0-9]+' "$work/fuzz.log" | tail -n 60 >&2
        for a in "$work"/crash-* "$work"/leak-* "$work"/timeout-* "$work"/oom-*; do
            [ -f "$a" ] || continue
            echo "  input kept: $a" >&2
            echo "  replay: $bin $a" >&2
            echo "  once fixed, keep it: cp $a $src/regress/$name/" >&2
        done
        status=1
    else
        echo "ok   $line"
    fi
    summary="$summary$line
"
    if [ "$merge" = 1 ] && [ "$rc" -eq 0 ]; then
        # what adds coverage to the seeds and the committed corpus goes into
        # the committed corpus (the seeds stay in tests/data only)
        mkdir -p "$src/corpus/$name" "$work/merged"
        cp "$work/seeds"/* "$src/corpus/$name"/* "$work/merged/" 2>/dev/null
        # by edges only (-use_counters=0): a few small files per new edge
        if "$bin" -merge=1 -use_counters=0 "$work/merged" "$work/corpus" >"$work/merge.log" 2>&1; then
            added=0
            for f in "$work/merged"/*; do
                b=$(basename "$f")
                case $b in seed-*) continue ;; esac
                [ -e "$src/corpus/$name/$b" ] && continue
                cp "$f" "$src/corpus/$name/$b"
                added=$((added + 1))
            done
            echo "fuzz_$name: $added input(s) merged into $src/corpus/$name"
        else
            echo "fuzz_$name: merge failed, see $work/merge.log" >&2
            status=1
        fi
    fi
done
printf '%s' "$summary"
exit $status
