#!/bin/bash
# capture-seeds.sh: record the seed inputs of fuzz_shm and fuzz_netlink
# from a live httpd (Debian's apache2 via tests/harness.sh, as root), into
# tests/data (see tests/data/README.md):
#   scoreboard-prefork-4x1.bin, -worker-2x4.bin, -event-2x4.bin: the
#     scoreboard's usable area (the object /dev/shm/ShM.* httpd's parent
#     maps, from byte 8), with one keep-alive connection after a request,
#     one request whose headers never end and one finished request;
#   sockdiag-listen-prefork.N, sockdiag-conns-prefork.N: the datagrams of
#     the LISTEN dump and of the connections dump (with tcp_info) for the
#     prefork httpd's port, meanwhile.
# Usage (from the build directory): top_srcdir=.. top_builddir=. \
#   bash ../tests/fuzz/capture-seeds.sh
set -u
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$top_srcdir/tests/harness.sh"
out=$top_srcdir/tests/data
tool=$(mktemp "${TMPDIR:-/tmp}/capture_diag.XXXXXX")
sb_at_exit rm -f "$tool"
cc -O1 -o "$tool" "$top_srcdir/tests/fuzz/capture_diag.c" || sb_fail "cannot build capture_diag"

capture()
{
    local label=$1 parent obj
    shift
    sb_httpd_start "fuzzseed-$label" "$@"
    # a finished request, a keep-alive connection, headers that never end
    curl -s -o /dev/null "$SB_HTTPD_URL/" || sb_fail "curl"
    exec 3<>"/dev/tcp/127.0.0.1/$SB_HTTPD_PORT" || sb_fail "connect"
    printf 'GET /?keepalive HTTP/1.1\r\nHost: seed.example\r\n\r\n' >&3
    exec 4<>"/dev/tcp/127.0.0.1/$SB_HTTPD_PORT" || sb_fail "connect"
    printf 'GET /never-ends HTTP/1.1\r\nHost: seed.example\r\nX-A: ' >&4
    sb_wait_status '[ "$(sb_count_slots R)" -ge 1 ]' 10 || sb_fail "no R slot"
    parent=$(sb_httpd_pid)
    obj=$(grep -o '/dev/shm/ShM\.[0-9a-fH]*' "/proc/$parent/maps" | head -n 1)
    [ -n "$obj" ] || sb_fail "httpd's parent $parent maps no /dev/shm/ShM.* object"
    tail -c +9 "$obj" >"$out/scoreboard-$label.bin"
    sb_log "$label: $obj, $(wc -c <"$out/scoreboard-$label.bin") bytes"
    if [ "$label" = prefork-4x1 ]; then
        "$tool" "$SB_HTTPD_PORT" listen "$out/sockdiag-listen-prefork" || sb_fail "capture_diag listen"
        "$tool" "$SB_HTTPD_PORT" conns "$out/sockdiag-conns-prefork" || sb_fail "capture_diag conns"
    fi
    exec 3>&- 4>&-
    sb_httpd_stop
}

capture prefork-4x1 mpm=prefork server_limit=4 max_workers=4 start_servers=2 min_spare=1 max_spare=4 extended_status=On
capture worker-2x4 mpm=worker server_limit=2 thread_limit=4 threads_per_child=4 max_workers=8 start_servers=1 min_spare=4 max_spare=8 extended_status=On
capture event-2x4 mpm=event server_limit=2 thread_limit=4 threads_per_child=4 max_workers=8 start_servers=1 min_spare=4 max_spare=8 extended_status=On
sb_pass
