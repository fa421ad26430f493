#!/bin/sh
# t_accuracy_prefork: the agent's figures against a known load on a real prefork httpd
# (see tests/accuracy.sh for the workloads and the tolerances).
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "${top_srcdir:-$(dirname "$0")/../..}/tests/harness.sh"
. "$top_srcdir/tests/accuracy.sh"
accuracy_main prefork
