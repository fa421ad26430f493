# tests/harness.sh: real-httpd test harness for sbtune's integration tests.
#
# Sourced (bash) by tests/integration/t_*.sh, which automake runs as
# `$(SHELL) tests/integration/t_x.sh` with top_srcdir, top_builddir (absolute)
# and APACHE2 in the environment. A test starts with:
#
#     [ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
#     . "${top_srcdir:-$(dirname "$0")/../..}/tests/harness.sh"
#
# and ends with `sb_pass`. Exit codes follow automake: 0 pass, 1 fail.
# A missing apache2 is a failure, never a skip (77).
#
# What it provides (contracts are above each function):
#   sb_httpd_start NAME [key=value ...]   private httpd on 127.0.0.1:random
#   sb_httpd_graceful, sb_httpd_restart, sb_httpd_stop, sb_httpd_start_again,
#   sb_httpd_select DIR,
#   sb_httpd_pid, sb_kill_cgis
#   sb_status_fetch, sb_status_field KEY, sb_count_slots CHARS,
#   sb_wait_status PRED TIMEOUT, sb_wait_ready, sb_generation,
#   sb_wait_generation_change OLD, sb_wait_file FILE TIMEOUT [PID]
#   sb_bg CMD..., sb_bg_stop PID, sb_client_start ARGS..., sb_at_exit CMD...
#   sb_assert_eq/_ge/_le/_match, sb_json, sb_assert_json, sb_fail, sb_pass,
#   sb_log
#
# Teardown (trap on EXIT INT TERM HUP): sb_at_exit commands run, background
# helpers are killed, every httpd this script started loses its CGIs and is
# stopped (-k stop by pid file, then TERM/KILL of its pid), leftovers whose
# command line names one of our temp dirs' httpd.conf or cgi-bin/ are
# killed, and the temp dirs are removed unless SB_KEEP=1. On failure (or a
# signal) the httpd logs' tails are printed. If the test is killed with
# SIGKILL, a detached reaper (started with the first httpd or helper) does
# the same about a second later. Nothing outside our temp dirs is touched:
# no /etc/apache2, no process this script did not start.
#
# httpd runs as `setsid apache2 -f CONF -DFOREGROUND` in the background: its
# pid is known at once, and its own process group keeps its killpg() on
# stop/restart away from the test. Children run as nobody:nogroup.
#
# Do not call sb_fail or the sb_assert_* helpers inside $(...): exit would
# only leave the subshell. Do not set your own EXIT/INT/TERM/HUP trap; use
# sb_at_exit. Signal traps run between commands: keep foreground commands
# short (helpers go through sb_bg).

if [ -z "${BASH_VERSION:-}" ]; then
    exec bash "$0" "$@"
fi

SB_TEST_NAME=${SB_TEST_NAME:-$(basename "$0" .sh)}

if [ -z "${top_srcdir:-}" ]; then
    top_srcdir=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
fi
top_builddir=${top_builddir:-$top_srcdir}
SB_APACHE2=${APACHE2:-}
[ -n "$SB_APACHE2" ] || SB_APACHE2=/usr/sbin/apache2
SB_MODULES_DIR=${SB_MODULES_DIR:-/usr/lib/apache2/modules}
SBTEST_CLIENT=${SBTEST_CLIENT:-$top_builddir/tests/sbtest_client}
export top_srcdir top_builddir SBTEST_CLIENT

_sb_dirs=()        # temp dirs, one per httpd started
_sb_bg_pids=()     # background helpers (sb_bg)
_sb_at_exit=()     # commands registered with sb_at_exit
_sb_torn=""
_sb_failed=0
_sb_reaper_list=""  # registry of our temp dirs, read by the reaper
_sb_reaper_pid=""

# ---------------------------------------------------------------- messages

# sb_log MSG...: informational line on stderr, prefixed with '# '.
sb_log()
{
    printf '# %s\n' "$*" >&2
}

# sb_fail MSG...: print "FAIL: test: MSG" and exit 1 (teardown runs).
sb_fail()
{
    _sb_failed=1
    printf 'FAIL: %s: %s\n' "$SB_TEST_NAME" "$*" >&2
    exit 1
}

# sb_pass: print "PASS: test" and exit 0 (teardown runs).
sb_pass()
{
    printf 'PASS: %s\n' "$SB_TEST_NAME"
    exit 0
}

# ---------------------------------------------------------------- assertions
# All take ACTUAL first, then the expected value or bound, then an optional
# message naming what was checked. They return 0 or fail the test.

sb_assert_eq()
{
    [ "$1" = "$2" ] ||
        sb_fail "${3:-assert_eq}: expected '$2', actual '$1'"
}

_sb_is_int()
{
    [[ $1 =~ ^-?[0-9]+$ ]]
}

sb_assert_ge()
{
    _sb_is_int "$1" && _sb_is_int "$2" ||
        sb_fail "${3:-assert_ge}: not integers: actual '$1', bound '$2'"
    [ "$1" -ge "$2" ] ||
        sb_fail "${3:-assert_ge}: expected >= $2, actual $1"
}

sb_assert_le()
{
    _sb_is_int "$1" && _sb_is_int "$2" ||
        sb_fail "${3:-assert_le}: not integers: actual '$1', bound '$2'"
    [ "$1" -le "$2" ] ||
        sb_fail "${3:-assert_le}: expected <= $2, actual $1"
}

# sb_assert_match ACTUAL ERE [MSG]: ACTUAL must match the extended regex.
sb_assert_match()
{
    [[ $1 =~ $2 ]] ||
        sb_fail "${3:-assert_match}: expected a match for /$2/, actual '$1'"
}

# sb_json FILE JQEXPR: print `jq -e JQEXPR FILE`; returns jq's status
# (0 only when the result is neither false nor null). Never fails the test.
sb_json()
{
    jq -e "$2" "$1"
}

# sb_assert_json FILE JQEXPR [MSG]: fail unless jq -e JQEXPR holds on FILE.
sb_assert_json()
{
    local out
    if ! out=$(jq -e "$2" "$1" 2>&1); then
        sb_log "jq result: $out"
        sb_log "$1 (first 40 lines):"
        head -n 40 "$1" >&2 2>/dev/null
        sb_fail "${3:-assert_json}: '$2' does not hold on $1"
    fi
}

# ---------------------------------------------------------------- time

_sb_now_ms()
{
    local t=${EPOCHREALTIME//[!0-9]/}
    echo $((t / 1000))
}

# seconds ("10", "0.5") -> milliseconds
_sb_to_ms()
{
    local s=$1 i f
    [[ $s =~ ^[0-9]+(\.[0-9]+)?$ ]] || { echo 10000; return; }
    i=${s%%.*}
    f=0
    if [[ $s == *.* ]]; then
        f=${s#*.}000
        f=${f:0:3}
        f=$((10#$f))
    fi
    echo $((10#$i * 1000 + f))
}

# ---------------------------------------------------------------- processes

# _sb_alive PID [NEEDLE]: PID exists, is not a zombie, and (if NEEDLE is
# given) its command line contains NEEDLE (guards against pid reuse).
_sb_alive()
{
    local pid=$1 needle=${2:-} stat args=()
    [ -n "$pid" ] || return 1
    { read -r stat <"/proc/$pid/stat"; } 2>/dev/null || return 1
    stat=${stat##*) }
    [ "${stat:0:1}" != Z ] || return 1
    if [ -n "$needle" ]; then
        { mapfile -d '' args <"/proc/$pid/cmdline"; } 2>/dev/null || return 1
        [[ "${args[*]}" == *"$needle"* ]] || return 1
    fi
    return 0
}

# _sb_wait_gone PID NEEDLE MS: wait until PID is gone; 1 on timeout.
_sb_wait_gone()
{
    local pid=$1 needle=$2 end=$(($(_sb_now_ms) + $3))
    while _sb_alive "$pid" "$needle"; do
        [ "$(_sb_now_ms)" -lt "$end" ] || return 1
        sleep 0.05
    done
    return 0
}

# _sb_children PID: direct children of PID.
_sb_children()
{
    ps -o pid= --ppid "$1" 2>/dev/null
}

# _sb_kill_tree PID: TERM PID and its descendants (children first listed),
# then KILL whatever is left after 3 s. Only for processes we started.
_sb_kill_tree()
{
    local pid=$1 all=() queue=("$1") p c
    while [ ${#queue[@]} -gt 0 ]; do
        p=${queue[0]}
        queue=("${queue[@]:1}")
        all+=("$p")
        for c in $(_sb_children "$p"); do
            queue+=("$c")
        done
    done
    for p in "${all[@]}"; do
        _sb_alive "$p" && kill -TERM "$p" 2>/dev/null
    done
    for p in "${all[@]}"; do
        if ! _sb_wait_gone "$p" "" 3000; then
            kill -KILL "$p" 2>/dev/null
            _sb_wait_gone "$p" "" 1000
        fi
    done
    wait "$pid" 2>/dev/null
    return 0
}

# _sb_dir_procs DIR: live pids of processes started for the httpd of DIR:
# its parent and children and the cgid daemon (command line names
# DIR/httpd.conf) and its CGIs (command line names DIR/cgi-bin/).
_sb_dir_procs()
{
    local dir=$1 f pid cmd args
    for f in /proc/[0-9]*/cmdline; do
        pid=${f#/proc/}
        pid=${pid%/cmdline}
        args=()
        { mapfile -d '' args <"$f"; } 2>/dev/null || continue
        cmd="${args[*]}"
        [[ $cmd == *"$dir/httpd.conf"* || $cmd == *"$dir/cgi-bin/"* ]] || continue
        _sb_alive "$pid" && echo "$pid"
    done
}

# sb_bg CMD [ARG...]: run CMD in the background; its pid is recorded for
# teardown and left in SB_BG_PID.
sb_bg()
{
    local st
    "$@" &
    SB_BG_PID=$!
    st=$(_sb_starttime "$SB_BG_PID")
    _sb_bg_pids+=("$SB_BG_PID:$st")
    _sb_reaper_add pid "$SB_BG_PID" "$st"
}

# sb_bg_stop PID: kill one helper started with sb_bg (and its children);
# a pid that has meanwhile exited (and maybe been reused) is left alone.
sb_bg_stop()
{
    local e
    for e in "${_sb_bg_pids[@]}"; do
        if [ "${e%%:*}" = "$1" ]; then
            _sb_bg_kill "$e"
            return 0
        fi
    done
    sb_fail "sb_bg_stop: $1 was not started with sb_bg"
}

# _sb_bg_kill PID:STARTTIME
_sb_bg_kill()
{
    local pid=${1%%:*} st=${1#*:}
    if [ -n "$st" ] && [ "$(_sb_starttime "$pid")" = "$st" ]; then
        _sb_kill_tree "$pid"
    else
        wait "$pid" 2>/dev/null
    fi
    return 0
}

# sb_at_exit CMD [ARG...]: run CMD at teardown (before httpd is stopped).
sb_at_exit()
{
    local q
    printf -v q '%q ' "$@"
    _sb_at_exit+=("$q")
}

# sb_wait_file FILE TIMEOUT [PID]: wait until FILE exists (and PID, if
# given, is still alive). Returns 0, or 1 on timeout or PID exit.
sb_wait_file()
{
    local file=$1 pid=${3:-} end
    end=$(($(_sb_now_ms) + $(_sb_to_ms "$2")))
    while [ ! -e "$file" ]; do
        if [ -n "$pid" ] && ! _sb_alive "$pid"; then
            return 1
        fi
        [ "$(_sb_now_ms)" -lt "$end" ] || return 1
        sleep 0.05
    done
    return 0
}

# sb_hist_q DB SQL: one read-only query of a history file (sqlite3)
sb_hist_q()
{
    sqlite3 -batch "file:$1?mode=ro" "$2" 2>&1
}

# sb_load_start DURATION OUT LOADGEN-ARGS...: tests/loadgen against the
# private httpd in the background for DURATION seconds, writing its JSON
# summary to OUT; its pid in SB_LOAD_PID
sb_load_start()
{
    local duration=$1 out=$2
    shift 2
    sb_bg "${LOADGEN:-$top_builddir/tests/loadgen}" --url "$SB_HTTPD_URL/" "$@" \
        --duration "$duration" --json-out "$out"
    SB_LOAD_PID=$SB_BG_PID
}

# sb_load_wait PID OUT [TIMEOUT]: until that loadgen has written OUT
# (default 300 s), then reaped; fails the test when it never does
sb_load_wait()
{
    sb_wait_file "$2" "${3:-300}" || sb_fail "loadgen did not finish ($2)"
    wait "$1" 2>/dev/null
    return 0
}

# ---------------------------------------------------------------- httpd

_sb_need_tools()
{
    if [ ! -x "$SB_APACHE2" ]; then
        sb_fail "apache2 not found: apt-get install apache2 (APACHE2='$SB_APACHE2')"
    fi
    command -v curl >/dev/null || sb_fail "curl not found: apt-get install curl"
    command -v ss >/dev/null || sb_fail "ss not found: apt-get install iproute2"
    command -v ps >/dev/null || sb_fail "ps not found: apt-get install procps"
    command -v setsid >/dev/null || sb_fail "setsid not found: apt-get install util-linux"
    [ -f "$SB_MODULES_DIR/mod_status.so" ] ||
        sb_fail "httpd modules not found in $SB_MODULES_DIR (set SB_MODULES_DIR)"
}

# Every ancestor of DIR must be searchable by others: children run as nobody.
_sb_check_traversable()
{
    local d=$1 mode
    while [ "$d" != / ] && [ -n "$d" ]; do
        mode=$(stat -c %A "$d" 2>/dev/null) || return 0
        if [ "${mode:9:1}" != x ] && [ "${mode:9:1}" != t ]; then
            sb_fail "temp dir $1: '$d' is not searchable by others (mode $mode); httpd's children run as nobody: set TMPDIR to e.g. /tmp"
        fi
        d=$(dirname "$d")
    done
}

_sb_port_in_use()
{
    [ -n "$(ss -Htan "sport = :$1" 2>/dev/null)" ] && return 0
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    return 1
}

# _sb_pick_port: a random free TCP port below the ephemeral range.
_sb_pick_port()
{
    local i port
    for i in $(seq 1 50); do
        port=$((10000 + (RANDOM * 32768 + RANDOM) % 22000))
        if ! _sb_port_in_use "$port"; then
            echo "$port"
            return 0
        fi
    done
    return 1
}

# _sb_write_conf DIR PORT: httpd.conf from the _sb_k_* settings.
_sb_write_conf()
{
    local dir=$1 port=$2 m=$SB_MODULES_DIR
    {
        echo "# generated by tests/harness.sh for $SB_TEST_NAME"
        echo "ServerRoot \"$dir\""
        echo "DefaultRuntimeDir \"$dir\""
        echo "PidFile \"$dir/httpd.pid\""
        echo "ErrorLog \"$dir/error.log\""
        echo "LogLevel $_sb_k_log_level"
        echo "Mutex file:$dir default"
        if [ "$_sb_k_scoreboard" = yes ]; then
            echo "ScoreBoardFile \"$dir/scoreboard\""
        fi
        echo "ServerName 127.0.0.1"
        echo "Listen 127.0.0.1:$port"
        [ -z "$_sb_k_listen_backlog" ] || echo "ListenBacklog $_sb_k_listen_backlog"
        echo "User nobody"
        echo "Group nogroup"
        echo
        echo "LoadModule mpm_${_sb_k_mpm}_module \"$m/mod_mpm_${_sb_k_mpm}.so\""
        echo "LoadModule authz_core_module \"$m/mod_authz_core.so\""
        echo "LoadModule authz_host_module \"$m/mod_authz_host.so\""
        echo "LoadModule mime_module \"$m/mod_mime.so\""
        echo "LoadModule dir_module \"$m/mod_dir.so\""
        echo "LoadModule alias_module \"$m/mod_alias.so\""
        echo "LoadModule status_module \"$m/mod_status.so\""
        if [ "$_sb_k_mpm" = prefork ]; then
            echo "LoadModule cgi_module \"$m/mod_cgi.so\""
        else
            echo "LoadModule cgid_module \"$m/mod_cgid.so\""
            echo "ScriptSock \"$dir/cgid.sock\""
        fi
        echo
        echo "ServerLimit $_sb_k_server_limit"
        if [ "$_sb_k_mpm" = prefork ]; then
            echo "MaxRequestWorkers $_sb_k_max_workers"
            echo "StartServers $_sb_k_start_servers"
            echo "MinSpareServers $_sb_k_min_spare"
            echo "MaxSpareServers $_sb_k_max_spare"
        else
            echo "ThreadLimit $_sb_k_thread_limit"
            echo "ThreadsPerChild $_sb_k_threads_per_child"
            echo "MaxRequestWorkers $_sb_k_max_workers"
            echo "StartServers $_sb_k_start_servers"
            echo "MinSpareThreads $_sb_k_min_spare"
            echo "MaxSpareThreads $_sb_k_max_spare"
        fi
        echo "MaxConnectionsPerChild 0"
        echo "Timeout $_sb_k_timeout"
        echo "KeepAlive $_sb_k_keepalive"
        echo "KeepAliveTimeout $_sb_k_keepalive_timeout"
        echo "MaxKeepAliveRequests $_sb_k_max_keepalive_requests"
        case $_sb_k_extended_status in
            default) ;;
            *) echo "ExtendedStatus $_sb_k_extended_status" ;;
        esac
        echo
        echo "TypesConfig \"$dir/mime.types\""
        echo "DocumentRoot \"$dir/htdocs\""
        echo "DirectoryIndex index.html"
        echo "<Directory />"
        echo "    AllowOverride None"
        echo "    Require all denied"
        echo "</Directory>"
        echo "<Directory \"$dir/htdocs\">"
        echo "    Require all granted"
        echo "</Directory>"
        echo "ScriptAlias /cgi-bin/ \"$dir/cgi-bin/\""
        echo "<Directory \"$dir/cgi-bin\">"
        echo "    Options +ExecCGI"
        echo "    Require all granted"
        echo "</Directory>"
        echo "<Location /server-status>"
        echo "    SetHandler server-status"
        echo "    Require ip 127.0.0.1"
        echo "</Location>"
        [ -z "$_sb_k_include" ] || echo "IncludeOptional \"$_sb_k_include\""
    } >"$dir/httpd.conf"
}

# _sb_export DIR: point the SB_* variables at the httpd of DIR.
_sb_export()
{
    local dir=$1 k v
    SB_HTTPD_DIR=$dir
    SB_HTTPD_CONF=$dir/httpd.conf
    SB_HTTPD_PIDFILE=$dir/httpd.pid
    SB_HTTPD_PORT=$(cat "$dir/port")
    SB_HTTPD_URL=http://127.0.0.1:$SB_HTTPD_PORT
    SB_STATUS_URL=$SB_HTTPD_URL/server-status?auto
    SB_SCOREBOARD=""
    while IFS='=' read -r k v; do
        case $k in
            MPM) SB_HTTPD_MPM=$v ;;
            SERVER_LIMIT) SB_HTTPD_SERVER_LIMIT=$v ;;
            THREAD_LIMIT) SB_HTTPD_THREAD_LIMIT=$v ;;
            THREADS_PER_CHILD) SB_HTTPD_THREADS_PER_CHILD=$v ;;
            MAX_WORKERS) SB_HTTPD_MAX_WORKERS=$v ;;
            START_SERVERS) SB_HTTPD_START_SERVERS=$v ;;
            READY_SLOTS) SB_HTTPD_READY_SLOTS=$v ;;
            SCOREBOARD) SB_SCOREBOARD=$v ;;
        esac
    done <"$dir/settings"
    export SB_HTTPD_DIR SB_HTTPD_CONF SB_HTTPD_PIDFILE SB_HTTPD_PORT \
        SB_HTTPD_URL SB_STATUS_URL SB_SCOREBOARD SB_HTTPD_MPM \
        SB_HTTPD_SERVER_LIMIT SB_HTTPD_THREAD_LIMIT SB_HTTPD_THREADS_PER_CHILD \
        SB_HTTPD_MAX_WORKERS SB_HTTPD_START_SERVERS SB_HTTPD_READY_SLOTS
}

# sb_httpd_select DIR: make the httpd of DIR (an earlier SB_HTTPD_DIR) the
# current one for the functions below and the SB_* variables.
sb_httpd_select()
{
    [ -f "$1/settings" ] || sb_fail "sb_httpd_select: $1 is not a harness httpd dir"
    _sb_export "$1"
}

_sb_main_pid()
{
    cat "$1/main.pid" 2>/dev/null
}

# sb_httpd_pid: pid of the current httpd parent (empty if not running).
sb_httpd_pid()
{
    local pid
    pid=$(_sb_main_pid "$SB_HTTPD_DIR")
    _sb_alive "$pid" "$SB_HTTPD_CONF" && echo "$pid"
}

# sb_httpd_start NAME [key=value ...]
#   Start Debian's apache2 with a private config in a new temp dir
#   (${TMPDIR:-/tmp}/sbtest-NAME.XXXXXX) on 127.0.0.1 and a random free port,
#   wait until mod_status answers and all StartServers slots are ready.
#   Keys (defaults prefork | worker,event):
#     mpm=prefork|worker|event (prefork), server_limit (8 | 3),
#     thread_limit (- | 8), threads_per_child (- | 8), max_workers (8 | 16),
#     start_servers (8 | 2), min_spare (1 | 8), max_spare (8 | 16),
#     keepalive=On|Off (On), keepalive_timeout (15),
#     max_keepalive_requests (100), extended_status=On|Off|default (default:
#     no directive), scoreboard=yes|no (yes), listen_backlog (none),
#     timeout (60), log_level (warn), include=FILE (IncludeOptional at the
#     end), ready_timeout seconds (10).
#   The threaded ServerLimit default (3) leaves one process slot of headroom
#   that event uses to start a new process during a graceful restart under
#   load (worker only ever uses MaxRequestWorkers/ThreadsPerChild slots).
#   Prefork's MinSpareServers default is 1, not 8: with 8 of 8, one busy
#   slot already makes httpd log AH00161 "reached MaxRequestWorkers".
#   Exports SB_HTTPD_DIR SB_HTTPD_CONF SB_HTTPD_PORT SB_HTTPD_URL
#   SB_STATUS_URL SB_SCOREBOARD (empty with scoreboard=no) SB_HTTPD_PIDFILE
#   SB_HTTPD_MPM SB_HTTPD_SERVER_LIMIT SB_HTTPD_THREAD_LIMIT
#   SB_HTTPD_THREADS_PER_CHILD SB_HTTPD_MAX_WORKERS SB_HTTPD_START_SERVERS
#   SB_HTTPD_READY_SLOTS (slots expected ready once started).
#   Fails the test on any error (with the error log).
sb_httpd_start()
{
    local name=${1:-httpd} kv k v dir port pid attempt ready procs st
    shift || true
    _sb_need_tools
    name=${name//[!A-Za-z0-9_.-]/_}

    _sb_k_mpm=prefork
    for kv in "$@"; do
        [ "${kv%%=*}" = mpm ] && _sb_k_mpm=${kv#*=}
    done
    case $_sb_k_mpm in
        prefork)
            _sb_k_server_limit=8 _sb_k_thread_limit=1 _sb_k_threads_per_child=1
            _sb_k_max_workers=8 _sb_k_start_servers=8
            _sb_k_min_spare=1 _sb_k_max_spare=8
            ;;
        worker | event)
            _sb_k_server_limit=3 _sb_k_thread_limit=8 _sb_k_threads_per_child=8
            _sb_k_max_workers=16 _sb_k_start_servers=2
            _sb_k_min_spare=8 _sb_k_max_spare=16
            ;;
        *) sb_fail "sb_httpd_start: mpm must be prefork, worker or event (got '$_sb_k_mpm')" ;;
    esac
    _sb_k_keepalive=On _sb_k_keepalive_timeout=15
    _sb_k_max_keepalive_requests=100 _sb_k_extended_status=default
    _sb_k_scoreboard=yes _sb_k_listen_backlog="" _sb_k_timeout=60
    _sb_k_log_level=warn _sb_k_include="" _sb_k_ready_timeout=10

    for kv in "$@"; do
        [[ $kv == *=* ]] || sb_fail "sb_httpd_start: expected key=value, got '$kv'"
        k=${kv%%=*}
        v=${kv#*=}
        case $k in
            server_limit | thread_limit | threads_per_child | max_workers | \
                start_servers | min_spare | max_spare | keepalive_timeout | \
                max_keepalive_requests | listen_backlog | timeout)
                [[ $v =~ ^[0-9]+$ ]] ||
                    sb_fail "sb_httpd_start: $k must be a number (got '$v')"
                ;;
            keepalive)
                [[ $v =~ ^(On|Off)$ ]] ||
                    sb_fail "sb_httpd_start: keepalive must be On or Off (got '$v')"
                ;;
            extended_status)
                [[ $v =~ ^(On|Off|default)$ ]] ||
                    sb_fail "sb_httpd_start: extended_status must be On, Off or default (got '$v')"
                ;;
            scoreboard)
                [[ $v =~ ^(yes|no)$ ]] ||
                    sb_fail "sb_httpd_start: scoreboard must be yes or no (got '$v')"
                ;;
            ready_timeout)
                [[ $v =~ ^[0-9]+(\.[0-9]+)?$ ]] ||
                    sb_fail "sb_httpd_start: ready_timeout must be seconds (got '$v')"
                ;;
            mpm | log_level | include) ;;
            *)
                sb_fail "sb_httpd_start: unknown key '$k' (allowed: mpm server_limit thread_limit threads_per_child max_workers start_servers min_spare max_spare keepalive keepalive_timeout max_keepalive_requests extended_status scoreboard listen_backlog timeout log_level include ready_timeout)"
                ;;
        esac
        printf -v "_sb_k_$k" '%s' "$v"
    done
    if [ "$_sb_k_mpm" = prefork ]; then
        _sb_k_thread_limit=1 _sb_k_threads_per_child=1
    fi

    dir=$(mktemp -d "${TMPDIR:-/tmp}/sbtest-$name.XXXXXX") ||
        sb_fail "sb_httpd_start: mktemp -d failed under ${TMPDIR:-/tmp}"
    _sb_dirs+=("$dir")
    _sb_reaper_add dir "$dir"
    chmod 755 "$dir"
    _sb_check_traversable "$dir"

    mkdir "$dir/htdocs"
    {
        echo '<!DOCTYPE html>'
        echo '<html><head><title>sbtune test page</title></head><body>'
        echo '<h1>sbtune integration test</h1>'
        echo '<p>This page is served by a private Apache httpd started by'
        echo 'tests/harness.sh on 127.0.0.1. Its only purpose is to give the'
        echo 'keep-alive clients of the tests a small static response with a'
        echo 'Content-Length, so that they can read it fully and then idle.</p>'
        echo '</body></html>'
    } >"$dir/htdocs/index.html"
    printf 'text/html\thtml htm\ntext/plain\ttxt\n' >"$dir/mime.types"
    mkdir "$dir/cgi-bin"
    if [ -d "$top_srcdir/tests/cgi" ]; then
        cp "$top_srcdir"/tests/cgi/* "$dir/cgi-bin/" ||
            sb_fail "sb_httpd_start: cannot copy $top_srcdir/tests/cgi"
    fi
    chmod -R a+rX "$dir"
    chmod a+rx "$dir"/cgi-bin/* 2>/dev/null

    if [ "$_sb_k_mpm" = prefork ]; then
        ready=$_sb_k_start_servers
        [ "$ready" -le "$_sb_k_max_workers" ] || ready=$_sb_k_max_workers
        [ "$ready" -le "$_sb_k_server_limit" ] || ready=$_sb_k_server_limit
    else
        procs=$_sb_k_start_servers
        [ "$procs" -le "$_sb_k_server_limit" ] || procs=$_sb_k_server_limit
        if [ "$_sb_k_threads_per_child" -gt 0 ] &&
            [ "$procs" -gt $((_sb_k_max_workers / _sb_k_threads_per_child)) ]; then
            procs=$((_sb_k_max_workers / _sb_k_threads_per_child))
        fi
        [ "$procs" -ge 1 ] || procs=1
        ready=$((procs * _sb_k_threads_per_child))
    fi
    {
        echo "MPM=$_sb_k_mpm"
        echo "SERVER_LIMIT=$_sb_k_server_limit"
        echo "THREAD_LIMIT=$_sb_k_thread_limit"
        echo "THREADS_PER_CHILD=$_sb_k_threads_per_child"
        echo "MAX_WORKERS=$_sb_k_max_workers"
        echo "START_SERVERS=$_sb_k_start_servers"
        echo "READY_SLOTS=$ready"
        if [ "$_sb_k_scoreboard" = yes ]; then
            echo "SCOREBOARD=$dir/scoreboard"
        fi
    } >"$dir/settings"

    for attempt in 1 2 3 4 5; do
        port=$(_sb_pick_port) || sb_fail "sb_httpd_start: no free port found"
        echo "$port" >"$dir/port"
        _sb_write_conf "$dir" "$port"
        _sb_launch "$dir"
        pid=$_sb_launched
        if _sb_wait_http_up "$pid" "$_sb_k_ready_timeout"; then
            break
        fi
        if ! _sb_alive "$pid"; then
            wait "$pid" 2>/dev/null
            st=$?
            if grep -qE "could not bind|Address already in use" \
                "$dir/startup.log" "$dir/error.log" 2>/dev/null; then
                sb_log "port $port taken meanwhile, retrying"
                : >"$dir/startup.log"
                continue
            fi
            sb_fail "sb_httpd_start: $SB_APACHE2 ($_sb_k_mpm) exited during startup with status $st (log below)"
        fi
        sb_fail "sb_httpd_start: httpd ($SB_APACHE2, $_sb_k_mpm) did not answer $SB_STATUS_URL within ${_sb_k_ready_timeout}s"
    done
    _sb_alive "$pid" || sb_fail "sb_httpd_start: could not get a free port after 5 attempts"
    sb_wait_ready "$_sb_k_ready_timeout" ||
        sb_fail "sb_httpd_start: $SB_HTTPD_READY_SLOTS slots not ready within ${_sb_k_ready_timeout}s"
    sb_log "httpd $_sb_k_mpm pid $pid on $SB_HTTPD_URL, dir $dir"
    return 0
}

# _sb_launch DIR: start the httpd of DIR; its pid goes to DIR/main.pid and
# _sb_launched, and the SB_* variables point at it.
# Foreground mode in the background: the parent stays our child, so its pid
# is known before any pid file exists. setsid is required: httpd signals
# its whole process group on stop and restart (killpg SIGTERM/SIGHUP),
# which would otherwise be ours. setsid does not fork here (a background
# job is no group leader), so $! is httpd itself. Not through apache2ctl:
# the private config needs none of Debian's envvars.
_sb_launch()
{
    local dir=$1
    rm -f "$dir/httpd.pid" "$dir/main.pid"
    setsid "$SB_APACHE2" -f "$dir/httpd.conf" -DFOREGROUND \
        </dev/null >>"$dir/startup.log" 2>&1 &
    _sb_launched=$!
    echo "$_sb_launched" >"$dir/main.pid"
    _sb_export "$dir"
}

# sb_httpd_start_again [TIMEOUT]: start the current httpd again after
# sb_httpd_stop, with the same dir, config, port and ScoreBoardFile (the
# "stop and start" case: a new scoreboard segment, generation 0), and wait
# (default 10 s) until it answers and its slots are ready. Fails the test
# if it is still running, cannot start, or its port was taken meanwhile.
sb_httpd_start_again()
{
    local pid st
    [ -z "$(sb_httpd_pid)" ] ||
        sb_fail "sb_httpd_start_again: httpd of $SB_HTTPD_DIR is still running"
    : >"$SB_HTTPD_DIR/startup.log"
    _sb_launch "$SB_HTTPD_DIR"
    pid=$_sb_launched
    if ! _sb_wait_http_up "$pid" "${1:-10}"; then
        if ! _sb_alive "$pid"; then
            wait "$pid" 2>/dev/null
            st=$?
            sb_fail "sb_httpd_start_again: $SB_APACHE2 exited during startup with status $st (port $SB_HTTPD_PORT taken meanwhile? log below)"
        fi
        sb_fail "sb_httpd_start_again: httpd did not answer $SB_STATUS_URL within ${1:-10}s"
    fi
    sb_wait_ready "${1:-10}" ||
        sb_fail "sb_httpd_start_again: $SB_HTTPD_READY_SLOTS slots not ready within ${1:-10}s"
    sb_log "httpd $SB_HTTPD_MPM started again: pid $pid on $SB_HTTPD_URL"
}

# _sb_wait_http_up PID TIMEOUT: PID lives, the pid file names a live httpd
# of our config (written after binding, so the port is ours and not another
# server's; it is PID itself unless APACHE2 is a wrapper such as strace)
# and the status URL answers 200.
_sb_wait_http_up()
{
    local pid=$1 end filepid
    end=$(($(_sb_now_ms) + $(_sb_to_ms "$2")))
    while :; do
        _sb_alive "$pid" || return 1
        filepid=""
        [ ! -s "$SB_HTTPD_PIDFILE" ] || read -r filepid <"$SB_HTTPD_PIDFILE"
        if _sb_alive "$filepid" "$SB_HTTPD_CONF" && sb_status_fetch; then
            return 0
        fi
        [ "$(_sb_now_ms)" -lt "$end" ] || return 1
        sleep 0.05
    done
}

# sb_status_fetch: GET the current SB_STATUS_URL once (2 s limit,
# "Connection: close" so that status requests never leave a 'K' behind).
# Sets SB_STATUS (the ?auto body), SB_STATUS_CODE and SB_SB_LINE (the
# Scoreboard value: mod_status leaves out the open slots of process slots
# beyond MaxRequestWorkers / ThreadsPerChild and of threads beyond
# ThreadsPerChild, so its length is ServerLimit x ThreadLimit only when
# those limits leave nothing out). Returns 0 on HTTP 200.
sb_status_fetch()
{
    local out
    out=$(curl -s --max-time 2 -H 'Connection: close' -w '\n%{http_code}' \
        "$SB_STATUS_URL" 2>/dev/null)
    SB_STATUS_CODE=${out##*$'\n'}
    SB_STATUS=${out%$'\n'*}
    SB_SB_LINE=$(sb_status_field Scoreboard)
    [ "$SB_STATUS_CODE" = 200 ]
}

# sb_status_field KEY: value of "KEY: value" in SB_STATUS (first match).
sb_status_field()
{
    local line
    while IFS= read -r line; do
        if [[ $line == "$1: "* ]]; then
            echo "${line#"$1: "}"
            return 0
        fi
    done <<<"${SB_STATUS:-}"
    return 1
}

# sb_count_slots CHARS [SCOREBOARD]: how many slots of SCOREBOARD (default
# SB_SB_LINE) are one of the state characters in CHARS, e.g. "W", "_", "RWK".
sb_count_slots()
{
    local sb=${2-${SB_SB_LINE:-}} kept
    kept=${sb//[!"$1"]/}
    echo ${#kept}
}

# sb_wait_status PREDICATE TIMEOUT: fetch ?auto every 0.05 s until the
# shell expression PREDICATE (eval'd; may use SB_STATUS, SB_SB_LINE,
# sb_status_field, sb_count_slots) is true on a 200 answer.
# Returns 0, or 1 on timeout (after printing the last status seen).
#   sb_wait_status '[ "$(sb_count_slots W)" -ge 3 ]' 10
sb_wait_status()
{
    local pred=$1 end
    end=$(($(_sb_now_ms) + $(_sb_to_ms "${2:-10}")))
    while :; do
        if sb_status_fetch && eval "$pred"; then
            return 0
        fi
        if [ "$(_sb_now_ms)" -ge "$end" ]; then
            sb_log "sb_wait_status: timed out after ${2:-10}s waiting for: $pred"
            sb_log "last answer (HTTP ${SB_STATUS_CODE:-none}): Scoreboard: ${SB_SB_LINE:-}"
            return 1
        fi
        sleep 0.05
    done
}

# sb_wait_ready [TIMEOUT]: all SB_HTTPD_READY_SLOTS slots started: no 'S'
# and at least that many slots neither '.' nor 'S' (the status request
# itself shows as 'W'). Returns 0, or 1 on timeout.
sb_wait_ready()
{
    sb_wait_status '[ "$(sb_count_slots S)" -eq 0 ] &&
        [ $(( ${#SB_SB_LINE} - $(sb_count_slots .S) )) -ge "$SB_HTTPD_READY_SLOTS" ]' \
        "${1:-10}"
}

# sb_generation: ParentServerMPMGeneration of the current httpd (fetches).
sb_generation()
{
    sb_status_fetch && sb_status_field ParentServerMPMGeneration
}

# sb_wait_generation_change OLD [TIMEOUT]: wait until ?auto shows a
# ParentServerMPMGeneration other than OLD; the new one is left in
# SB_GENERATION. Returns 0, or 1 on timeout.
sb_wait_generation_change()
{
    local old=$1
    sb_wait_status "_sb_g=\$(sb_status_field ParentServerMPMGeneration) &&
        [ -n \"\$_sb_g\" ] && [ \"\$_sb_g\" != '$old' ]" "${2:-10}" || return 1
    SB_GENERATION=$(sb_status_field ParentServerMPMGeneration)
    export SB_GENERATION
}

# _sb_signal_httpd ACTION: apache2 -f CONF -k ACTION on the current httpd,
# which must be running (apache2 -k restart|graceful would otherwise start
# a detached server).
_sb_signal_httpd()
{
    local pid
    pid=$(sb_httpd_pid)
    [ -n "$pid" ] || sb_fail "httpd in $SB_HTTPD_DIR is not running (cannot $1)"
    if ! "$SB_APACHE2" -f "$SB_HTTPD_CONF" -k "$1" >>"$SB_HTTPD_DIR/ctl.log" 2>&1; then
        tail -n 5 "$SB_HTTPD_DIR/ctl.log" >&2
        sb_fail "apache2 -k $1 failed"
    fi
}

# sb_httpd_graceful [TIMEOUT]: graceful restart (-k graceful) and wait
# (default 30 s) until ?auto shows a new ParentServerMPMGeneration
# (SB_GENERATION). Slots holding requests stay busy or 'G'; this does not
# wait for them. Fails the test on timeout.
# Expect ~2 s under worker/event: the new processes start on the parent's
# next maintenance pass(es), and meanwhile nothing accepts. Worker under
# load can take longer: it starts a new process only in a slot of
# MaxRequestWorkers/ThreadsPerChild whose old process has a dead ('.')
# thread; idle old threads left in 'G' do not count, so with held
# connections it may wait until those connections end (seen: >10 s).
sb_httpd_graceful()
{
    local old
    old=$(sb_generation) || sb_fail "sb_httpd_graceful: no status before restart"
    _sb_signal_httpd graceful
    sb_wait_generation_change "$old" "${1:-30}" ||
        sb_fail "sb_httpd_graceful: generation still $old after ${1:-30}s"
}

# sb_httpd_restart [TIMEOUT]: full restart (-k restart: children are
# killed, their connections dropped), wait (default 30 s) for the new
# generation and for all slots to be ready again. Fails the test on timeout.
# Under worker/event a thread blocked on a CGI keeps its child alive until
# httpd's SIGKILL (~9 s), and nothing accepts meanwhile: call sb_kill_cgis
# first unless that stall is what the test is about.
sb_httpd_restart()
{
    local old
    old=$(sb_generation) || sb_fail "sb_httpd_restart: no status before restart"
    _sb_signal_httpd restart
    sb_wait_generation_change "$old" "${1:-30}" ||
        sb_fail "sb_httpd_restart: generation still $old after ${1:-30}s"
    sb_wait_ready "${1:-30}" || sb_fail "sb_httpd_restart: slots not ready after restart"
}

# sb_kill_cgis: end the CGIs (sleep.cgi) of the current httpd now, which
# releases the slots their requests hold. Their clients get a 500 or EOF.
sb_kill_cgis()
{
    _sb_kill_cgis "$SB_HTTPD_DIR"
}

# _sb_kill_cgis DIR: TERM (then KILL) the CGIs running from DIR/cgi-bin.
# A worker blocked on a sleeping CGI would hold its child up to 9 s at stop
# (and an orphaned CGI of mod_cgid would outlive httpd).
_sb_kill_cgis()
{
    local dir=$1 p cgis=()
    for p in $(_sb_dir_procs "$dir"); do
        _sb_alive "$p" "$dir/cgi-bin/" && cgis+=("$p")
    done
    [ ${#cgis[@]} -gt 0 ] || return 0
    kill -TERM "${cgis[@]}" 2>/dev/null
    for p in "${cgis[@]}"; do
        _sb_wait_gone "$p" "$dir/cgi-bin/" 2000 || kill -KILL "$p" 2>/dev/null
    done
}

# _sb_httpd_stop_dir DIR: stop the httpd of DIR: end its CGIs, -k stop (pid
# file), wait up to 10 s, then TERM / KILL its pid, then any process whose
# command line names DIR/httpd.conf or DIR/cgi-bin/. Returns 0 when nothing
# of it is left, 1 otherwise.
_sb_httpd_stop_dir()
{
    local dir=$1 conf=$1/httpd.conf pid filepid p left
    pid=$(_sb_main_pid "$dir")
    filepid=$(cat "$dir/httpd.pid" 2>/dev/null)
    _sb_kill_cgis "$dir"
    if _sb_alive "$pid" "$conf" || _sb_alive "$filepid" "$conf"; then
        if [ -s "$dir/httpd.pid" ]; then
            "$SB_APACHE2" -f "$conf" -k stop >>"$dir/ctl.log" 2>&1
        fi
        for p in $pid $filepid; do
            _sb_alive "$p" "$conf" || continue
            _sb_wait_gone "$p" "$conf" 10000 && continue
            sb_log "httpd pid $p lingers after -k stop: TERM"
            kill -TERM "$p" 2>/dev/null
            _sb_wait_gone "$p" "$conf" 5000 && continue
            sb_log "httpd pid $p lingers after TERM: KILL"
            kill -KILL "$p" 2>/dev/null
            _sb_wait_gone "$p" "$conf" 2000
        done
        [ -z "$pid" ] || wait "$pid" 2>/dev/null
    fi
    # Children of a killed parent, CGIs, cgid daemon: all name $dir.
    left=$(_sb_dir_procs "$dir")
    if [ -n "$left" ]; then
        sleep 0.2
        left=$(_sb_dir_procs "$dir")
    fi
    if [ -n "$left" ]; then
        sb_log "killing leftover processes of $dir: $(echo $left)"
        for p in $left; do
            kill -TERM "$p" 2>/dev/null
        done
        for p in $left; do
            _sb_wait_gone "$p" "" 3000 || kill -KILL "$p" 2>/dev/null
        done
    fi
    [ -z "$(_sb_dir_procs "$dir")" ]
}

# sb_httpd_stop: stop the current httpd (-k stop by pid file, then its pid
# with TERM and KILL if it lingers, all bounded) and wait until it is gone.
# The temp dir stays (removed at teardown). Fails the test if it survives.
sb_httpd_stop()
{
    _sb_httpd_stop_dir "$SB_HTTPD_DIR" ||
        sb_fail "sb_httpd_stop: processes of $SB_HTTPD_DIR survive"
}

# sb_client_start ARGS...: run the test client ($SBTEST_CLIENT, default
# $top_builddir/tests/sbtest_client) in the background against the current
# httpd (--port and --ready-file are added) and wait until it reports ready
# (15 s). The pid is left in SB_CLIENT_PID (and SB_BG_PID); the client is
# killed at teardown. Fails the test if it exits or times out first.
sb_client_start()
{
    local rf
    [ -x "$SBTEST_CLIENT" ] ||
        sb_fail "test client $SBTEST_CLIENT not built (make check builds it; or set SBTEST_CLIENT)"
    rf=$(mktemp -u "$SB_HTTPD_DIR/client-ready.XXXXXX")
    sb_bg "$SBTEST_CLIENT" --port "$SB_HTTPD_PORT" --ready-file "$rf" "$@"
    SB_CLIENT_PID=$SB_BG_PID
    if ! sb_wait_file "$rf" 15 "$SB_CLIENT_PID"; then
        if _sb_alive "$SB_CLIENT_PID"; then
            sb_fail "sbtest_client $* not ready within 15 s"
        fi
        wait "$SB_CLIENT_PID"
        sb_fail "sbtest_client $* exited (status $?) before it was ready"
    fi
}

# ---------------------------------------------------------------- teardown

_sb_print_logs()
{
    local dir=$1 f
    for f in startup.log error.log ctl.log; do
        if [ -s "$dir/$f" ]; then
            echo "---- $dir/$f (last 30 lines)" >&2
            tail -n 30 "$dir/$f" >&2
        fi
    done
}

# _sb_starttime PID: the kernel start time of PID (guards against reuse).
_sb_starttime()
{
    local stat f
    { read -r stat <"/proc/$1/stat"; } 2>/dev/null || return 1
    stat=${stat##*) }
    read -r -a f <<<"$stat"
    echo "${f[19]}"
}

# _sb_reaper_add dir DIR | pid PID STARTTIME: register a temp dir or a
# background helper with the reaper, starting it first. The reaper is a
# detached bash (own session) that outlives a test killed with SIGKILL:
# when the test process is gone and the registry still exists (teardown
# did not run), it kills the registered helpers (if their start time still
# matches), stops every registered httpd and removes the dirs. A normal
# teardown removes the registry and ends the reaper.
_sb_reaper_add()
{
    if [ -z "$_sb_reaper_list" ]; then
        _sb_reaper_list=$(mktemp "${TMPDIR:-/tmp}/sbtest-reaper.XXXXXX") ||
            sb_fail "mktemp failed under ${TMPDIR:-/tmp}"
        _SB_REAPER_OF=$$ _SB_REAPER_LIST=$_sb_reaper_list \
            APACHE2=$SB_APACHE2 SB_TEST_NAME=$SB_TEST_NAME-reaper \
            setsid bash -c '. "$1"' sb-reaper "${BASH_SOURCE[0]}" \
            </dev/null >/dev/null 2>&1 &
        _sb_reaper_pid=$!
    fi
    echo "$*" >>"$_sb_reaper_list"
}

_sb_reap_main()
{
    local pid=$_SB_REAPER_OF list=$_SB_REAPER_LIST start dir
    start=$(_sb_starttime "$pid") || exit 0
    while [ -e "$list" ] && [ "$(_sb_starttime "$pid")" = "$start" ]; do
        sleep 1
    done
    [ -e "$list" ] || exit 0
    while read -r kind arg st; do
        if [ "$kind" = pid ] && [ -n "$st" ] &&
            [ "$(_sb_starttime "$arg")" = "$st" ]; then
            _sb_kill_tree "$arg"
        fi
    done <"$list"
    while read -r kind arg; do
        [ "$kind" = dir ] && [ -n "$arg" ] || continue
        _sb_httpd_stop_dir "$arg"
        [ "${SB_KEEP:-0}" = 1 ] || rm -rf "$arg"
    done <"$list"
    rm -f "$list"
    exit 0
}

_sb_teardown()
{
    local rc=$1 i pid dir
    [ -z "$_sb_torn" ] || return 0
    _sb_torn=1
    set +e +u
    trap '' INT TERM HUP
    for i in "${_sb_at_exit[@]}"; do
        eval "$i"
    done
    for pid in "${_sb_bg_pids[@]}"; do
        _sb_bg_kill "$pid"
    done
    for ((i = ${#_sb_dirs[@]} - 1; i >= 0; i--)); do
        dir=${_sb_dirs[i]}
        _sb_httpd_stop_dir "$dir" || {
            echo "harness: processes of $dir survive teardown" >&2
            rc=1
        }
    done
    if [ "$rc" -ne 0 ] || [ "$_sb_failed" -ne 0 ]; then
        for dir in "${_sb_dirs[@]}"; do
            _sb_print_logs "$dir"
        done
    fi
    for dir in "${_sb_dirs[@]}"; do
        if [ "${SB_KEEP:-0}" = 1 ]; then
            echo "harness: SB_KEEP=1: kept $dir" >&2
        else
            rm -rf "$dir"
        fi
    done
    if [ -n "$_sb_reaper_list" ]; then
        rm -f "$_sb_reaper_list"
        _sb_alive "$_sb_reaper_pid" sb-reaper && kill -TERM "$_sb_reaper_pid" 2>/dev/null
    fi
    return "$rc"
}

_sb_on_exit()
{
    local rc=$?
    if ! _sb_teardown "$rc" && [ "$rc" -eq 0 ]; then
        echo "FAIL: $SB_TEST_NAME: teardown left processes behind" >&2
        exit 1
    fi
}

_sb_on_signal()
{
    echo "harness: $SB_TEST_NAME caught SIG$1, tearing down" >&2
    _sb_failed=1
    _sb_teardown 1
    trap - EXIT
    exit "$2"
}

if [ -n "${_SB_REAPER_OF:-}" ]; then
    _sb_reap_main
fi
trap _sb_on_exit EXIT
trap '_sb_on_signal INT 130' INT
trap '_sb_on_signal TERM 143' TERM
trap '_sb_on_signal HUP 129' HUP
