/*
 * sb_bpf.h - the kernel's connection lifecycle, from eBPF.
 *
 * A BPF program (libbpf, CO-RE) on the BTF-typed tracepoint
 * sock/inet_sock_set_state (tp_btf: no tracefs needed), filtered in the
 * kernel to the TCP sockets whose local port is one of httpd's listen
 * ports, counts for every server-side connection:
 *
 *   arrival        SYN_RECV -> ESTABLISHED: the handshake completed and the
 *                  connection entered the accept queue, whether or not
 *                  httpd has a free slot to accept it (a SYN refused
 *                  because the queue is full never gets here: those are
 *                  the host's ListenOverflows)
 *   closed_server  ESTABLISHED -> FIN_WAIT1: httpd closed first
 *   closed_client  ESTABLISHED -> CLOSE_WAIT: the client closed first
 *   closed_reset   ESTABLISHED -> CLOSE: reset or aborted
 *
 * and each connection's lifetime from ESTABLISHED to the first of those,
 * through a bounded hash map (SB_BPF_MAX_CONNS entries, keyed by the
 * socket; a connection that finds the map full is counted in untracked
 * and has no lifetime) and a ring buffer of close records read by
 * sb_bpf_poll() (records lost when it is full are counted in lost).
 * Connections already open when the program was attached have no start
 * time: their closes are counted, their lifetimes are not.
 *
 * Needs root, or CAP_BPF + CAP_PERFMON, and a kernel with BTF
 * (/sys/kernel/btf/vmlinux); built only when configure found libbpf,
 * bpftool and clang (SB_HAVE_BPF in config.h).  Without them every call
 * fails with APR_ENOTIMPL and sb_bpf_error() says why.
 */
#ifndef SB_BPF_H
#define SB_BPF_H

#include <stdint.h>
#include <apr_pools.h>
#include <apr_errno.h>

#include "sb_kernel.h"

/* Connections followed at once (the hash map's size). */
#define SB_BPF_MAX_CONNS 65536

/* Who closed a connection first. */
typedef enum {
    SB_BPF_CLOSED_SERVER = 0,
    SB_BPF_CLOSED_CLIENT = 1,
    SB_BPF_CLOSED_RESET = 2
} sb_bpf_closer_t;

/* Cumulative counts since sb_bpf_open(), summed over the watched ports
 * and the CPUs. */
typedef struct {
    uint64_t arrivals;
    uint64_t closed_server;
    uint64_t closed_client;
    uint64_t closed_reset;
    uint64_t untracked;         /* arrivals the full map could not follow */
    uint64_t lost;              /* close records the full ring buffer lost */
} sb_bpf_counts_t;

typedef struct sb_bpf sb_bpf_t;

/* Called by sb_bpf_poll() for each connection that closed since the last
 * poll and was followed from its start: its lifetime in seconds, who
 * closed first, and the local port. */
typedef void (*sb_bpf_close_fn)(void *baton, double lifetime_s, sb_bpf_closer_t closer,
                                uint16_t port);

/* Load and attach the program; the handle comes from p (the program is
 * detached when p is cleared or destroyed, or by sb_bpf_close()).  *out
 * is valid even on failure, so that sb_bpf_error() can say why.  Returns
 * APR_SUCCESS; APR_ENOTIMPL (built without libbpf, or the kernel has no
 * BTF or no tp_btf support); APR_EACCES (not root, and not CAP_BPF with
 * CAP_PERFMON); or another error of libbpf. */
apr_status_t sb_bpf_open(sb_bpf_t **out, apr_pool_t *p);

/* Watch these local ports from now on (1..SB_KERNEL_MAX_PORTS; replaces
 * the previous set).  Returns APR_SUCCESS or APR_EINVAL / a map error. */
apr_status_t sb_bpf_set_ports(sb_bpf_t *b, const sb_kernel_ports_t *ports);

/* Read the counters into *out and hand every close record waiting in the
 * ring buffer to fn (may be NULL).  Never blocks.  Returns APR_SUCCESS or
 * a map error. */
apr_status_t sb_bpf_poll(sb_bpf_t *b, sb_bpf_counts_t *out, sb_bpf_close_fn fn, void *baton);

/* The message for the last failure, "" when none. */
const char *sb_bpf_error(const sb_bpf_t *b);

/* Detach and free.  Safe on a failed handle and twice. */
void sb_bpf_close(sb_bpf_t *b);

/* 1 when this build has the BPF source. */
int sb_bpf_built(void);

#endif
