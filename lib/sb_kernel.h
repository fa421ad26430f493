/*
 * sb_kernel.h - the kernel's view of httpd's sockets.
 *
 * Through NETLINK_SOCK_DIAG (inet_diag, the interface of `ss`), without
 * privileges: the LISTEN sockets on httpd's ports with their accept queue,
 * and every server-side socket of those ports in the other states with
 * tcp_info.  The kernel filters on the local port (bytecode), so the other
 * sockets of a busy host are never copied to userspace, and the client side
 * of a connection made from this host (whose peer port is the listen port)
 * is never reported.  Plus the host-wide counters ListenOverflows,
 * ListenDrops (/proc/net/netstat) and PassiveOpens (/proc/net/snmp) of the
 * network namespace sbtune runs in.
 *
 * The parsers of the /proc files are pure functions over a buffer.
 */
#ifndef SB_KERNEL_H
#define SB_KERNEL_H

#include <stdint.h>
#include <sys/types.h>
#include <apr_pools.h>
#include <apr_errno.h>
#include <apr_time.h>

#include "sb_tcp.h"

#define SB_KERNEL_MAX_PORTS 16

/* Local TCP ports to watch (host order).  Every address of the host counts. */
typedef struct {
    int nports;
    uint16_t port[SB_KERNEL_MAX_PORTS];
} sb_kernel_ports_t;


/* A listening socket. */
typedef struct {
    int family;                 /* AF_INET or AF_INET6 */
    uint8_t addr[16];           /* local address, network order (IPv4: 4 bytes) */
    uint16_t port;
    uint32_t queued;            /* accept queue: connections not yet accept()ed
                                 * (idiag_rqueue); can reach backlog + 1 */
    uint32_t backlog;           /* accept queue limit (idiag_wqueue):
                                 * min(ListenBacklog, net.core.somaxconn) */
    uint32_t inode;             /* socket inode (matches /proc/PID/fd) */
    uint32_t uid;               /* owner of the socket */
    uint64_t cookie;            /* socket cookie (SO_COOKIE) */
} sb_listen_t;

/* A server-side connection on one of the watched ports. */
typedef struct {
    int family;                 /* AF_INET or AF_INET6 (v4-mapped peers of an
                                 * IPv6 listener stay AF_INET6) */
    sb_tcp_state_t state;       /* any but LISTEN, SYN_SENT and CLOSE.
                                 * SYN_RECV entries are half-open request socks;
                                 * an orphaned FIN_WAIT2 may be a timewait
                                 * socket (then has_info is 0) */
    uint8_t laddr[16];          /* local address, network order */
    uint8_t raddr[16];          /* peer address */
    uint16_t lport;             /* always one of the watched ports */
    uint16_t rport;
    uint64_t cookie;            /* socket cookie (SO_COOKIE of httpd's fd);
                                 * track by 4-tuple: see sb_kernel_tuple_key() */
    uint32_t inode;             /* 0 when no process holds a descriptor:
                                 * still in the accept queue, closed by httpd
                                 * (orphaned), request and timewait socks */
    uint32_t uid;               /* owner of the socket's file: the user of
                                 * the process that accept()ed it */
    uint32_t rqueue;            /* bytes received, not yet read by httpd */
    uint32_t wqueue;            /* bytes sent, not yet acknowledged */
    int timer;                  /* pending timer (idiag_timer): 0 none,
                                 * 1 retransmit, 2 keep-alive, 3 TIME_WAIT,
                                 * 4 zero-window probe */
    uint32_t expires_ms;        /* ms left on that timer (TIME_WAIT: until the
                                 * entry goes), 0 when none */
    int has_info;               /* the tcp_info fields below are valid: 0 for
                                 * TIME_WAIT and SYN_RECV (no full socket) */
    uint32_t last_data_recv_ms; /* ms since data last arrived (since the
                                 * handshake when none ever did) */
    uint32_t last_data_sent_ms;
    uint32_t last_ack_recv_ms;
    uint64_t bytes_received;    /* payload bytes received */
    uint64_t bytes_acked;       /* payload bytes sent and acknowledged */
    uint32_t segs_in;
    uint32_t segs_out;
    uint32_t data_segs_in;      /* segments that carried payload */
} sb_conn_t;

typedef struct {
    apr_time_t ts;              /* when the dump started */
    int nlisten;
    sb_listen_t *listen;
    int nconns;
    sb_conn_t *conns;
    /* Host-wide (this network namespace), cumulative since boot: the caller
     * computes deltas.  ListenDrops includes ListenOverflows. */
    uint64_t listen_overflows;
    uint64_t listen_drops;
    uint64_t passive_opens;
    int have_netstat;           /* the three counters above are valid */
    /* The destroy feed: the server-side connections of the ports the
     * kernel freed since the previous sample (before this one's dump),
     * with their final tcp_info (state CLOSE, or the state they were freed
     * in).  have_destroyed 0: no feed (the kernel refused to join it);
     * destroyed_lost 1: the feed overran, some are missing. */
    int have_destroyed;
    int destroyed_lost;
    int ndestroyed;
    sb_conn_t *destroyed;
} sb_kernel_sample_t;

typedef struct sb_kernel sb_kernel_t;

/* Open a NETLINK_SOCK_DIAG socket and keep it on a handle allocated from p
 * (closed by sb_kernel_close() or when p is cleared or destroyed).  *out is
 * valid even on failure, so that sb_kernel_error() can say why.  Returns
 * APR_SUCCESS or the error of socket()/bind(). */
apr_status_t sb_kernel_open(sb_kernel_t **out, apr_pool_t *p);

/* Close the netlink socket.  Safe on a failed handle and when called twice. */
void sb_kernel_close(sb_kernel_t *k);

/* The message for the last failure, or for have_netstat being 0 after the
 * last sb_kernel_sample(); "" when there is none. */
const char *sb_kernel_error(const sb_kernel_t *k);

/* NULL when the destroy feed is on (see sb_kernel_sample_t), else why not. */
const char *sb_kernel_destroy_feed(const sb_kernel_t *k);

/* How many sockets the kernel sent during the last sb_kernel_sample() or
 * sb_kernel_listen_ports_of_pid() (before sbtune's own checks): shows that
 * the kernel-side port filter works, and what a dump costs. */
apr_size_t sb_kernel_received(const sb_kernel_t *k);

/* Dump, for the local ports in *ports (1..SB_KERNEL_MAX_PORTS, IPv4 and
 * IPv6), the LISTEN sockets and the server-side sockets in every other
 * state, with tcp_info for full sockets, then read the host counters.
 * Connections are looked for only in an address family that has a
 * listener on the ports (none at all while httpd is stopped).  *out and
 * its arrays are allocated from p; the arrays are in the kernel's order
 * (IPv4 first).  An unreadable /proc/net file is not an error:
 * have_netstat is 0 and sb_kernel_error() says why.  Returns APR_SUCCESS,
 * APR_EINVAL (no ports, too many, port 0), APR_ENOTIMPL (this kernel has no
 * inet_diag for TCP), APR_TIMEUP (the kernel did not answer within 5 s),
 * APR_ENOMEM, or another netlink error; *out is NULL on failure. */
apr_status_t sb_kernel_sample(sb_kernel_t *k, const sb_kernel_ports_t *ports,
                              apr_pool_t *p, sb_kernel_sample_t **out);

/* The TCP ports process pid listens on (sorted, each once, every address
 * family), found by matching the inodes of its /proc/pid/fd sockets with the
 * LISTEN sockets' inodes.  Meant for httpd's parent.  Returns APR_SUCCESS,
 * APR_ENOENT (it holds no listening TCP socket), ESRCH (no such process),
 * APR_EACCES (another user's process: needs root, or CAP_DAC_READ_SEARCH and
 * CAP_SYS_PTRACE), APR_ENOSPC (more than SB_KERNEL_MAX_PORTS ports: out
 * holds the lowest ones), or a netlink error as sb_kernel_sample(). */
apr_status_t sb_kernel_listen_ports_of_pid(sb_kernel_t *k, pid_t pid,
                                           sb_kernel_ports_t *out);

/* Decode one datagram of a SOCK_DIAG_BY_FAMILY dump reply of family, as
 * recvmsg() returned it to sb_kernel_sample() (len bytes at buf, aligned
 * for struct nlmsghdr), with the same code and bounds checks: the
 * messages of sequence number seq (others are skipped), their sockets on
 * ports into *out (listen and conns from p; no host counters, ts 0).
 * *done is set when the datagram holds the dump's NLMSG_DONE.  Returns
 * APR_SUCCESS, or what sb_kernel_sample() would return for it (a kernel
 * error message, a short message, APR_ENOMEM) with *out NULL and the
 * message in err.  For tests and fuzzing. */
apr_status_t sb_kernel_decode_dump(const void *buf, apr_size_t len, int family,
                                   uint32_t seq, const sb_kernel_ports_t *ports,
                                   apr_pool_t *p, sb_kernel_sample_t **out, int *done,
                                   char *err, apr_size_t errlen);

/* Parse /proc/net/netstat (len bytes, no NUL needed) for TcpExt
 * ListenOverflows and ListenDrops.  Only lines ending in '\n' count: a cut
 * last line is ignored.  Returns APR_SUCCESS, APR_ENOENT (no TcpExt section
 * or no such counter) or APR_EINVAL (a names line without its values line,
 * a different count of names and values, a value that is not a number);
 * the outputs are set only on success. */
apr_status_t sb_kernel_parse_netstat(const char *buf, apr_size_t len,
                                     uint64_t *listen_overflows,
                                     uint64_t *listen_drops);

/* Parse /proc/net/snmp for Tcp PassiveOpens; rules and returns as
 * sb_kernel_parse_netstat(). */
apr_status_t sb_kernel_parse_snmp(const char *buf, apr_size_t len,
                                  uint64_t *passive_opens);

/* Write the connection's 4-tuple as "127.0.0.1:80-192.0.2.7:51234" or
 * "[::1]:80-[::1]:51234" (local first).  Returns what snprintf returns: the
 * length of the whole key, which was cut when it is >= len.  A key of 112
 * bytes always suffices.  Track connections by this key (or by
 * sb_kernel_tuple_hash()), not by cookie: a half-open SYN_RECV entry and
 * the ESTABLISHED socket made from it are different kernel objects with
 * different cookies, and a timewait socket keeps the cookie of its full
 * socket only because some reader (a dump, SO_COOKIE) made that cookie
 * earlier.  A 4-tuple is reused only after its TIME_WAIT entry is gone or
 * taken over: a tuple seen in TIME_WAIT and then ESTABLISHED again is a
 * new connection. */
int sb_kernel_tuple_key(const sb_conn_t *c, char *buf, apr_size_t len);

/* A 64-bit hash (FNV-1a) of family and 4-tuple; equal tuples hash equal. */
uint64_t sb_kernel_tuple_hash(const sb_conn_t *c);

/* Text form of an address as stored in sb_listen_t/sb_conn_t (inet_ntop);
 * returns buf. */
const char *sb_kernel_addr_str(int family, const uint8_t *addr, char *buf,
                               apr_size_t len);

/* "ESTABLISHED", "TIME_WAIT", ... ; "UNKNOWN" for other numbers. */
const char *sb_kernel_state_name(int state);

#endif
