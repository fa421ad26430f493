#!/bin/sh
# t_privdrop: sb_privs_drop() against a live httpd.  tests/privs_probe drops
# from root to nobody keeping different capabilities, then tries what
# sbagent does afterwards: read a root-owned 0600 file (and not write it),
# attach the scoreboard (a root-owned 0600 shm object opened read-only), re-attach it
# after a stop and start of httpd, read httpd's memory (smaps_rollup) and
# find its listen ports (/proc/PID/fd).  Checks the kernel's view of the
# result (/proc/self/status) and the refusals: unknown user, root, more than
# one thread, a capability the process lacks, no CAP_SETPCAP, not root.
# Must run as root (the CI does).
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "${top_srcdir:-$(dirname "$0")/../..}/tests/harness.sh"

# In an --enable-sanitizers build, LeakSanitizer's exit-time check ptraces
# the process, which a process that changed its credentials and is no
# longer dumpable does not allow: it would fail the run, not the test.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"

[ "$(id -u)" = 0 ] ||
    sb_fail "must run as root: it tests dropping from root to nobody (run make check as root)"
PRIVS_PROBE=${PRIVS_PROBE:-$top_builddir/tests/privs_probe}
[ -x "$PRIVS_PROBE" ] ||
    sb_fail "$PRIVS_PROBE not built (make check builds it; or set PRIVS_PROBE)"
command -v setpriv >/dev/null || sb_fail "setpriv not found: apt-get install util-linux"
getent passwd nobody >/dev/null || sb_fail "no user nobody"

work=$(mktemp -d "${TMPDIR:-/tmp}/sbtest-privdrop.XXXXXX") || sb_fail "mktemp -d"
chmod 755 "$work"
sb_at_exit rm -rf "$work"
# a copy that nobody can run (the build tree need not be searchable by it)
cp "$PRIVS_PROBE" "$work/privs_probe" && chmod 755 "$work/privs_probe" ||
    sb_fail "cannot copy $PRIVS_PROBE"
probe_bin=$work/privs_probe
secret=$work/secret
(umask 077 && echo secret >"$secret") || sb_fail "cannot write $secret"
chown root:root "$secret" && chmod 600 "$secret"

sb_httpd_start privdrop
parent=$(sb_httpd_pid)
child=$(ps -o pid= --ppid "$parent" | head -n 1 | tr -d ' ')
[ -n "$parent" ] && [ -n "$child" ] || sb_fail "httpd's parent or child not found"
sb_log "httpd parent $parent (root), child $child (nobody)"

out=$work/out

# probe [setpriv ARGS --] USER CAPS ARGS...: run the probe, output in $out,
# exit status in $rc
probe()
{
    local pre=()
    if [ "$1" = setpriv ]; then
        shift
        while [ "$1" != -- ]; do
            pre+=("$1")
            shift
        done
        shift
        pre=(setpriv "${pre[@]}")
    fi
    "${pre[@]}" "$probe_bin" "$@" >"$out" 2>&1
    rc=$?
}

# has REGEX MSG: some line of $out matches REGEX
has()
{
    grep -Eq -- "$1" "$out" || {
        sb_log "probe output:"
        sed 's/^/#   /' "$out" >&2
        sb_fail "$2: no line matching /$1/"
    }
}

# dropped CAPS HEX: the kernel shows uid/gid nobody, exactly HEX as the
# permitted, effective and bounding sets, nothing inheritable or ambient,
# and no_new_privs
dropped()
{
    local what="drop to nobody keeping '$1'"
    has '^drop: ok$' "$what"
    has '^status: Uid: 65534 65534 65534 65534 *$' "$what: uids"
    has "^status: Gid: $(id -g nobody) $(id -g nobody) $(id -g nobody) $(id -g nobody) *\$" \
        "$what: gids"
    has "^status: CapPrm: $2\$" "$what: permitted set"
    has "^status: CapEff: $2\$" "$what: effective set"
    has "^status: CapBnd: $2\$" "$what: bounding set"
    has '^status: CapInh: 0000000000000000$' "$what: inheritable set"
    has '^status: CapAmb: 0000000000000000$' "$what: ambient set"
    has '^status: NoNewPrivs: 1$' "$what: no_new_privs"
}

checks=(--read "$secret" --scoreboard "$SB_SCOREBOARD" --smaps "$parent" --smaps "$child"
    --ports "$parent")

# ---------------------------------------------------------------- nothing kept
probe nobody none "${checks[@]}"
sb_assert_eq "$rc" 1 "exit status with no capability"
dropped none 0000000000000000
has '^creds: uid=65534\(nobody\) .*caps=none no_new_privs=1$' "creds line"
has '^read: failed: .*Permission denied' "root's 0600 file without CAP_DAC_OVERRIDE"
has '^scoreboard: failed: .*' "scoreboard without CAP_DAC_OVERRIDE"
has "^smaps $parent: failed: .*permission denied" "httpd parent's memory without CAP_SYS_PTRACE"
has '^ports: failed: .*permission denied' "listen ports without capabilities"

# ---------------------------------------------------------------- the default
# read access is enough for the scoreboard (opened read-only), and it
# writes nothing
probe nobody dac_read_search "${checks[@]}" --write "$secret"
sb_assert_eq "$rc" 1 "exit status with CAP_DAC_READ_SEARCH (memory, ports and writes are refused)"
dropped dac_read_search 0000000000000004
has '^creds: uid=65534\(nobody\) .*caps=cap_dac_read_search no_new_privs=1$' "creds line"
has '^read: ok' "root's 0600 file with CAP_DAC_READ_SEARCH"
has '^write: failed: .*Permission denied' "root's 0600 file cannot be written with CAP_DAC_READ_SEARCH"
has '^scoreboard: ok' "scoreboard with CAP_DAC_READ_SEARCH"
has "^smaps $parent: failed: .*permission denied" "httpd parent's memory without CAP_SYS_PTRACE"
has '^ports: failed: .*permission denied' "listen ports without CAP_SYS_PTRACE"
grep -E "^smaps $child:" "$out" | sed 's/^/# without CAP_SYS_PTRACE: /' >&2

# CAP_DAC_OVERRIDE, which sbagent no longer keeps, would write it
probe nobody dac_override --write "$secret"
dropped dac_override 0000000000000002
has '^write: ok' "root's 0600 file can be written with CAP_DAC_OVERRIDE"

# ---------------------------------------------------------------- ptrace
probe nobody dac_read_search,sys_ptrace "${checks[@]}"
sb_assert_eq "$rc" 0 "exit status with CAP_DAC_READ_SEARCH and CAP_SYS_PTRACE"
dropped dac_read_search,sys_ptrace 0000000000080004
has '^creds: .*caps=cap_dac_read_search,cap_sys_ptrace no_new_privs=1$' "creds line"
has '^read: ok' "root's 0600 file"
has '^scoreboard: ok' "scoreboard"
has "^smaps $parent: ok" "httpd parent's memory with CAP_SYS_PTRACE"
has "^smaps $child: ok" "httpd child's memory with CAP_SYS_PTRACE"
has "^ports: ok: 1 port\\(s\\), the first $SB_HTTPD_PORT\$" "listen ports"

probe nobody sys_ptrace --read "$secret" --smaps "$parent" --ports "$parent"
dropped sys_ptrace 0000000000080000
has '^read: failed: .*Permission denied' "root's 0600 file with CAP_SYS_PTRACE only"
has "^smaps $parent: ok" "httpd parent's memory with CAP_SYS_PTRACE only"
has '^ports: failed: .*permission denied' "listen ports need a DAC capability too"

# ---------------------------------------------------------------- as under sbagent.service
unit_bset=-all,+setuid,+setgid,+setpcap,+dac_read_search,+sys_ptrace,+net_admin,+bpf,+perfmon
probe setpriv --bounding-set "$unit_bset" -- nobody dac_read_search --scoreboard "$SB_SCOREBOARD"
sb_assert_eq "$rc" 0 "drop under sbagent.service's bounding set"
dropped "dac_read_search (unit)" 0000000000000004
has '^scoreboard: ok' "scoreboard under sbagent.service's bounding set"

# ---------------------------------------------------------------- re-attach after stop and start
# wait_line FILE REGEX TIMEOUT PID: until a line of FILE matches REGEX;
# 1 on timeout, or when PID exited without writing it
wait_line()
{
    local i
    for ((i = 0; i < $3 * 20; i++)); do
        grep -Eq -- "$2" "$1" 2>/dev/null && return 0
        kill -0 "$4" 2>/dev/null || { grep -Eq -- "$2" "$1" 2>/dev/null; return; }
        sleep 0.05
    done
    return 1
}

# attach as root, drop, then httpd is stopped and started: the new segment
# must be attached again by the unprivileged process
reattach()
{
    local caps=$1 go=$work/go-$1 pid
    rm -f "$go"
    sb_bg sh -c "exec \"$probe_bin\" nobody $caps --reattach \"$SB_SCOREBOARD\" \
        --wait-file \"$go\" >\"$out\" 2>&1"
    pid=$SB_BG_PID
    wait_line "$out" '^ready$' 10 "$pid" ||
        { cat "$out" >&2; sb_fail "probe ($caps) did not attach and drop"; }
    sb_httpd_stop
    sb_httpd_start_again
    touch "$go"
    wait "$pid"
    rc=$?
}

reattach dac_read_search
sb_assert_eq "$rc" 0 "re-attach with CAP_DAC_READ_SEARCH: exit status"
dropped "dac_read_search (reattach)" 0000000000000004
has '^reattach: ok' "the new scoreboard attached after stop and start, as nobody"

reattach none
sb_assert_eq "$rc" 1 "re-attach with no capability: exit status"
has '^reattach: failed: .*permission denied' "re-attach of root's 0600 object needs CAP_DAC_READ_SEARCH"

# ---------------------------------------------------------------- refusals (exit 2)
# refused NEEDLE-REGEX MSG: the drop failed with that message and the
# process is still root
refused()
{
    sb_assert_eq "$rc" 2 "$2: exit status"
    has "^drop: failed: .*$1" "$2"
    grep -q '^drop: ok' "$out" && sb_fail "$2: the drop went through"
}

probe nosuchuser-sbtest dac_override
refused "no such user" "unknown user"
has '^creds: uid=0\(root\)' "unknown user: still root"

probe root dac_override
refused "uid 0" "dropping to root"

probe nobody dac_override --spawn-thread
refused "2 threads" "a second thread"
has '^creds: uid=0\(root\)' "a second thread: still root"

probe setpriv --bounding-set "-all,+setuid,+setgid,+setpcap,+dac_override" -- \
    nobody dac_override,sys_ptrace
refused "keeping cap_sys_ptrace: this process does not have it" \
    "keeping a capability outside the bounding set"

probe setpriv --bounding-set "-setpcap" -- nobody dac_override
refused "needs cap_setpcap" "a bounding set to shrink without CAP_SETPCAP"

probe nobody dac_override,bogus
sb_assert_eq "$rc" 2 "bad capability list: exit status"
has "unknown capability 'bogus'" "bad capability list"

# ---------------------------------------------------------------- not root
probe setpriv --reuid=nobody --regid="$(id -g nobody)" --clear-groups -- nobody dac_override
sb_assert_eq "$rc" 0 "already nobody: nothing to drop"
has '^drop: ok$' "already nobody"
has '^creds: uid=65534\(nobody\) .*caps=none' "already nobody: creds"

probe setpriv --reuid=nobody --regid="$(id -g nobody)" --clear-groups -- daemon dac_override
refused "not root" "nobody asking for another user"

# ---------------------------------------------------------------- the agent
# sbagent --user nobody: attaches as root, drops to nobody with only
# CAP_DAC_READ_SEARCH, keeps sampling, and reattaches the new root-owned
# segment after httpd is stopped and started.
SBAGENT=${SBAGENT:-$top_builddir/agent/sbagent}
agent_dir=$(mktemp -d "${TMPDIR:-/tmp}/sbtest-privagent.XXXXXX") || sb_fail "mktemp -d"
chmod 755 "$agent_dir"
sb_at_exit rm -rf "$agent_dir"
cp "$SBAGENT" "$agent_dir/sbagent"
sb_bg sh -c "exec \"$agent_dir/sbagent\" --scoreboard \"$SB_SCOREBOARD\" --user nobody --json \
    --duration 20 >\"$agent_dir/out.json\" 2>\"$agent_dir/err\""
apid=$SB_BG_PID
sb_wait_file "$agent_dir/out.json" 5 "$apid" || sb_fail "agent: no output"
end=$(($(date +%s) + 5))
until grep -q "running as uid=65534(nobody)" "$agent_dir/err"; do
    [ "$(date +%s)" -lt "$end" ] || sb_fail "agent did not drop: $(cat "$agent_dir/err")"
    sleep 0.1
done
st=/proc/$apid/status
sb_assert_match "$(grep '^Uid:' "$st")" '^Uid:[[:space:]]+65534[[:space:]]+65534[[:space:]]+65534' \
    "agent uids after the drop"
sb_assert_eq "$(awk '/^CapEff:/ {print $2}' "$st")" 0000000000000004 "agent CapEff: dac_read_search only"
sb_assert_eq "$(awk '/^CapPrm:/ {print $2}' "$st")" 0000000000000004 "agent CapPrm"
sb_httpd_stop
# while httpd is down the agent records gap seconds, inventing nothing
end=$(($(date +%s) + 10))
until jq -s -e 'map(select(.gap)) | length > 0' "$agent_dir/out.json" >/dev/null 2>&1; do
    [ "$(date +%s)" -lt "$end" ] || sb_fail "no gap second while httpd was stopped"
    sleep 0.2
done
sb_httpd_start_again
end=$(($(date +%s) + 10))
until grep -q "attached its new scoreboard" "$agent_dir/err"; do
    [ "$(date +%s)" -lt "$end" ] || sb_fail "agent did not reattach as nobody: $(cat "$agent_dir/err")"
    sleep 0.1
done
# the seconds httpd was down are recorded as gaps, and sampling goes on
end=$(($(date +%s) + 10))
until jq -s -e 'map(.gap) | index(true) as $g | $g != null and (.[$g:] | index(false)) != null' \
    "$agent_dir/out.json" >/dev/null 2>&1; do
    [ "$(date +%s)" -lt "$end" ] || sb_fail "no gap followed by samples: $(jq -c -s 'map(.gap)' "$agent_dir/out.json")"
    sleep 0.2
done
jq -s -e 'map(select(.gap)) | all(.req_per_s == null and .busy_mean == null)' \
    "$agent_dir/out.json" >/dev/null || sb_fail "a gap second carries invented figures"
sb_bg_stop "$apid"

# under the unit's bounding set the agent loads the eBPF source as root,
# drops to nobody, and the source goes on counting: arrivals after the drop
if grep -q '^#define SB_HAVE_BPF 1' "$top_builddir/config.h"; then
    sb_bg sh -c "exec setpriv --bounding-set \"$unit_bset\" -- \"$agent_dir/sbagent\" \
        --scoreboard \"$SB_SCOREBOARD\" --user nobody --kernel-source bpf --log-level info --json \
        --duration 8 >\"$agent_dir/bpf.json\" 2>\"$agent_dir/bpf.err\""
    apid=$SB_BG_PID
    end=$(($(date +%s) + 5))
    until grep -q "running as uid=65534(nobody)" "$agent_dir/bpf.err"; do
        [ "$(date +%s)" -lt "$end" ] || sb_fail "agent (bpf) did not drop: $(cat "$agent_dir/bpf.err")"
        sleep 0.1
    done
    grep -q "eBPF source on" "$agent_dir/bpf.err" ||
        sb_fail "eBPF source not loaded under the unit's bounding set: $(cat "$agent_dir/bpf.err")"
    for i in $(seq 20); do curl -s -o /dev/null "$SB_HTTPD_URL/"; done
    wait "$apid"
    sb_assert_ge "$(jq -s 'map(.conn_per_s_bpf // 0) | add' "$agent_dir/bpf.json")" 20 \
        "arrivals the eBPF source counted after the drop"
fi
sb_pass
