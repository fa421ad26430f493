#!/bin/sh
# t_sbtune_overload_prefork: issue #10 on a real prefork httpd started with
# 8 children (ServerLimit 64: growing needs no stop and start)
# and KeepAliveTimeout 25 under a lingering browser-like load whose accept
# queue grows without bound; up to three `sbtune report --apply --cron`
# cycles with the agent recording between them, then the same load again
# (see tests/overload.sh for the load, the windows and the targets).
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "${top_srcdir:-$(dirname "$0")/../..}/tests/harness.sh"
. "$top_srcdir/tests/overload.sh"
overload_main prefork 8 64
