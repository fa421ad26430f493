# bench/bench_lib.sh: /proc readers shared by bench/run.sh and
# bench/bench_kernel_source.sh (sourced after tests/harness.sh; needs
# CLK_TCK set, e.g. CLK_TCK=$(getconf CLK_TCK)).

# proc_cpu PID: "utime+stime cutime+cstime" of PID in clock ticks (empty
# when PID is gone).
proc_cpu()
{
    local stat f
    { read -r stat <"/proc/$1/stat"; } 2>/dev/null || return 1
    stat=${stat##*) }
    read -r -a f <<<"$stat"
    echo "$((f[11] + f[12])) $((f[13] + f[14]))"
}

# proc_ut_st PID: "utime stime" of PID in clock ticks (empty when gone).
proc_ut_st()
{
    local stat f
    { read -r stat <"/proc/$1/stat"; } 2>/dev/null || return 1
    stat=${stat##*) }
    read -r -a f <<<"$stat"
    echo "${f[11]} ${f[12]}"
}

# run_ns PID: nanoseconds on CPU of all threads of PID (schedstat).
run_ns()
{
    local f v sum=0
    for f in /proc/"$1"/task/*/schedstat; do
        { read -r v _ <"$f"; } 2>/dev/null || continue
        sum=$((sum + v))
    done
    echo "$sum"
}

# httpd_ns PARENT: nanoseconds on CPU of httpd so far: its live processes
# (schedstat of the parent's and the children's threads) plus the children
# the parent has reaped (its cutime+cstime, in ticks). Summing utime+stime
# of each child instead would lose up to a 10 ms tick per child.
httpd_ns()
{
    local own reaped total c
    read -r own reaped <<<"$(proc_cpu "$1")"
    [ -n "$own" ] || return 1
    total=$((reaped * 1000000000 / CLK_TCK + $(run_ns "$1")))
    for c in $(ps -o pid= --ppid "$1" 2>/dev/null); do
        total=$((total + $(run_ns "$c")))
    done
    echo "$total"
}

# vm_kib PID FIELD: a /proc/PID/status field in KiB (VmHWM, VmRSS).
vm_kib()
{
    awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status" 2>/dev/null
}

# now_us: wall clock in microseconds.
now_us()
{
    echo "${EPOCHREALTIME//[!0-9]/}"
}
