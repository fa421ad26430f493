#!/bin/sh
# t_matrix_event: the accuracy matrix of issue #9 on a real event httpd: six
# workloads, each watched by an eBPF agent and a sock_diag agent side by
# side (see tests/matrix.sh for the workloads and the targets).
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "${top_srcdir:-$(dirname "$0")/../..}/tests/harness.sh"
. "$top_srcdir/tests/matrix.sh"
matrix_main event
