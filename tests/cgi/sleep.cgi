#!/bin/sh
# sleep.cgi: holds a worker slot in 'W' for QUERY_STRING seconds (digits
# only, at most 30; anything else means 0), then answers with a short text.
# Used by the integration tests through tests/harness.sh (ScriptAlias
# /cgi-bin/). The sleep runs in the background so that a SIGTERM from httpd
# (request pool cleanup at stop) ends it at once instead of orphaning it.

n=${QUERY_STRING:-0}
case $n in
    '' | *[!0-9]*) n=0 ;;
esac
if [ ${#n} -gt 2 ]; then
    n=30
fi
while [ "${n#0}" != "$n" ]; do
    n=${n#0}
done
[ -n "$n" ] || n=0
[ "$n" -le 30 ] || n=30

if [ "$n" -gt 0 ]; then
    sleep "$n" </dev/null >/dev/null 2>&1 &
    pid=$!
    trap 'kill "$pid" 2>/dev/null; exit 0' TERM INT HUP PIPE
    wait "$pid"
    trap - TERM INT HUP PIPE
fi

printf 'Content-Type: text/plain\r\n\r\nslept %s s\n' "$n"
