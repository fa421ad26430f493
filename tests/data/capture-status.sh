#!/bin/bash
# capture-status.sh MPM On|Off OUT.txt [OUT.html]
#
# How the real captures in this folder were made (see README.md): start a
# private httpd (Debian's apache2, loopback, free port, temporary ServerRoot),
# put light load on it, hold a few connections open so the scoreboard shows
# K, W and R slots, save /server-status?auto (and the HTML page), stop it.
# Needs root (User nobody), curl, ab (apache2-utils) and python3.
set -u
[ $# -ge 3 ] || { echo "usage: $0 prefork|worker|event On|Off OUT.txt [OUT.html]" >&2; exit 2; }
mpm=$1 ext=$2 out=$3 html=${4:-}
APACHE2=${APACHE2:-/usr/sbin/apache2}
MODS=/usr/lib/apache2/modules
dir=$(mktemp -d /tmp/sbcap.XXXXXX)
chmod 755 "$dir"
mkdir -p "$dir/htdocs"
echo hello > "$dir/htdocs/index.html"
head -c 64m /dev/zero > "$dir/htdocs/big.bin"
chmod -R a+rX "$dir/htdocs"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
conf=$dir/httpd.conf
{
    echo "ServerRoot $dir"
    echo "DefaultRuntimeDir $dir"
    echo "Listen 127.0.0.1:$port"
    echo "ServerName localhost"
    echo "LoadModule mpm_${mpm}_module $MODS/mod_mpm_${mpm}.so"
    echo "LoadModule authz_core_module $MODS/mod_authz_core.so"
    echo "LoadModule authz_host_module $MODS/mod_authz_host.so"
    echo "LoadModule status_module $MODS/mod_status.so"
    echo "User nobody"
    echo "Group nogroup"
    echo "PidFile $dir/httpd.pid"
    echo "ErrorLog $dir/error.log"
    echo "ScoreBoardFile $dir/scoreboard"
    echo "Mutex file:$dir default"
    echo "DocumentRoot $dir/htdocs"
    echo "KeepAlive On"
    echo "KeepAliveTimeout 15"
    echo "ExtendedStatus $ext"
    case $mpm in
    prefork) echo "StartServers 10"; echo "MinSpareServers 10"; echo "MaxSpareServers 15"
             echo "ServerLimit 20"; echo "MaxRequestWorkers 16" ;;
    *)       echo "StartServers 2"; echo "ServerLimit 4"; echo "ThreadLimit 16"
             echo "ThreadsPerChild 16"; echo "MaxRequestWorkers 48"
             echo "MinSpareThreads 8"; echo "MaxSpareThreads 48" ;;
    esac
    echo "<Directory $dir/htdocs>"
    echo "    Require all granted"
    echo "</Directory>"
    echo "<Location /server-status>"
    echo "    SetHandler server-status"
    echo "    Require ip 127.0.0.1"
    echo "</Location>"
} > "$conf"
base=http://127.0.0.1:$port
"$APACHE2" -d "$dir" -f "$conf" -k start || { cat "$dir/error.log"; exit 1; }
stop() {
    local pid
    pid=$(cat "$dir/httpd.pid" 2>/dev/null)
    "$APACHE2" -d "$dir" -f "$conf" -k stop
    [ -n "$pid" ] || return
    for i in $(seq 100); do kill -0 "$pid" 2>/dev/null || return; sleep 0.1; done
    kill -KILL "$pid"
}
trap 'stop; rm -rf "$dir"; jobs -p | xargs -r kill 2>/dev/null; exec 3>&- 4>&- 5>&- 6>&- 7>&- 8>&-' EXIT
for i in $(seq 100); do curl -fs -o /dev/null "$base/" && break; sleep 0.1; done
ab -q -k -n 500 -c 4 "$base/index.html" >/dev/null 2>&1
ab -q -n 200 -c 2 "$base/index.html" >/dev/null 2>&1
sleep 1
# idle keep-alive connections: one request answered, connection left open
for fd in 3 4 5; do
    eval "exec $fd<>/dev/tcp/127.0.0.1/$port"
    printf 'GET /index.html HTTP/1.1\r\nHost: localhost\r\n\r\n' >&$fd
done
# slow readers of a large file (writing)
for fd in 6 7; do
    eval "exec $fd<>/dev/tcp/127.0.0.1/$port"
    printf 'GET /big.bin HTTP/1.1\r\nHost: localhost\r\n\r\n' >&$fd
done
# a request whose headers never end (reading)
exec 8<>/dev/tcp/127.0.0.1/$port
printf 'GET /index.html HTTP/1.1\r\nHost: localhost\r\n' >&8
sleep 1
curl -s -o "$out" "$base/server-status?auto"
[ -z "$html" ] || curl -s -o "$html" "$base/server-status"
echo "captured $out from $mpm on port $port"
