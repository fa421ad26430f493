/*
 * sb_kernel.c - httpd's sockets as the kernel sees them: inet_diag over
 * NETLINK_SOCK_DIAG, and the TCP counters of /proc/net/{netstat,snmp}.
 *
 * struct tcp_info comes from <linux/tcp.h>, not glibc's <netinet/tcp.h>,
 * whose copy stops before the byte and segment counters.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <linux/tcp.h>

#include <apr_strings.h>

#include "sb_kernel.h"

#define SB_RECV_BUF      65536        /* the kernel sends at most 32 KiB per read */
#define SB_RECV_TIMEOUT  5            /* seconds */
#define SB_PROC_MAX      (1 << 20)    /* cap on a /proc/net file */

#define TCPF(s) (1u << (s))
#define SB_CONN_STATES (TCPF(SB_TCP_ESTABLISHED) | TCPF(SB_TCP_SYN_RECV)          \
                        | TCPF(SB_TCP_FIN_WAIT1) | TCPF(SB_TCP_FIN_WAIT2)         \
                        | TCPF(SB_TCP_TIME_WAIT) | TCPF(SB_TCP_CLOSE_WAIT)        \
                        | TCPF(SB_TCP_LAST_ACK) | TCPF(SB_TCP_CLOSING))

/* tcp_info must reach data_segs_in (Linux 4.6) to count as present. */
#define SB_TCPI_MIN (offsetof(struct tcp_info, tcpi_data_segs_in) + sizeof(__u32))

/* Receive buffer asked for the destroy feed: at 5,000 connections/s a
 * second of messages (each an skb of its own). */
#define SB_DESTROY_RCVBUF (16 * 1024 * 1024)

struct sb_kernel {
    apr_pool_t *pool;
    int fd;
    int dfd;                    /* the destroy feed (multicast), -1 none */
    uint32_t seq;
    char *rbuf;                 /* SB_RECV_BUF bytes, aligned for nlmsghdr */
    char *fbuf;                 /* /proc/net files */
    apr_size_t fbuf_cap;
    sb_listen_t *ls;            /* scratch of one dump (malloc) */
    int nls, cap_ls;
    sb_conn_t *cs;
    int ncs, cap_cs;
    sb_conn_t *ds;              /* connections the destroy feed reported */
    int nds, cap_ds;
    int ds_lost;
    char derr[160];             /* why there is no destroy feed */
    apr_size_t received;        /* socket messages of the last call */
    char err[512];
};

/* One dump's receiver: called per inet_diag_msg; info is NULL or points to
 * info_len bytes of struct tcp_info.  Returns APR_SUCCESS or stops the
 * dump with an error. */
typedef apr_status_t (*diag_cb_t)(sb_kernel_t *k, const struct inet_diag_msg *m,
                                  const void *info, apr_size_t info_len, void *ctx);

static apr_status_t cleanup_kernel(void *data)
{
    sb_kernel_t *k = data;

    sb_kernel_close(k);
    free(k->ls);
    free(k->cs);
    free(k->ds);
    free(k->fbuf);
    k->ls = NULL;
    k->cs = NULL;
    k->ds = NULL;
    k->cap_ds = 0;
    k->fbuf = NULL;
    k->cap_ls = k->cap_cs = 0;
    k->fbuf_cap = 0;
    return APR_SUCCESS;
}

/* The destroy feed: the kernel multicasts an inet_diag message, with
 * tcp_info, for each full TCP socket it frees (SKNLGRP_INET*_TCP_DESTROY,
 * Linux 4.9; joining needs CAP_NET_ADMIN in some kernels).  Best effort:
 * without it dfd stays -1. */
static void destroy_open(sb_kernel_t *k)
{
#ifdef SKNLGRP_MAX
    struct sockaddr_nl sa;
    int sz = SB_DESTROY_RCVBUF;

    k->dfd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_SOCK_DIAG);
    if (k->dfd < 0) {
        snprintf(k->derr, sizeof(k->derr), "socket: %s", strerror(errno));
        return;
    }
    if (setsockopt(k->dfd, SOL_SOCKET, SO_RCVBUFFORCE, &sz, sizeof(sz)) != 0) {
        setsockopt(k->dfd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
    }
    memset(&sa, 0, sizeof(sa));
    sa.nl_family = AF_NETLINK;
    sa.nl_groups = (1U << (SKNLGRP_INET_TCP_DESTROY - 1)) | (1U << (SKNLGRP_INET6_TCP_DESTROY - 1));
    if (bind(k->dfd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
        snprintf(k->derr, sizeof(k->derr), "joining its multicast groups: %s%s",
                 strerror(errno), errno == EPERM ? " (needs CAP_NET_ADMIN)" : "");
        close(k->dfd);
        k->dfd = -1;
    }
#else
    snprintf(k->derr, sizeof(k->derr), "not built (the kernel headers lack SKNLGRP_*)");
#endif
}

const char *sb_kernel_destroy_feed(const sb_kernel_t *k)
{
    return k->dfd >= 0 ? NULL : k->derr;
}

apr_status_t sb_kernel_open(sb_kernel_t **out, apr_pool_t *p)
{
    sb_kernel_t *k = apr_pcalloc(p, sizeof(*k));
    struct sockaddr_nl sa;
    struct timeval tv;
    int e;

    *out = k;
    k->pool = p;
    k->fd = -1;
    k->dfd = -1;
    k->rbuf = apr_palloc(p, SB_RECV_BUF);
    apr_pool_cleanup_register(p, k, cleanup_kernel, apr_pool_cleanup_null);

    k->fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
    if (k->fd < 0) {
        e = errno;
        snprintf(k->err, sizeof(k->err),
                 "sock_diag netlink not available: socket(AF_NETLINK, "
                 "NETLINK_SOCK_DIAG): %s (a kernel without CONFIG_INET_DIAG, or a "
                 "seccomp/container policy that forbids netlink sockets)",
                 strerror(e));
        return APR_FROM_OS_ERROR(e);
    }
    memset(&sa, 0, sizeof(sa));
    sa.nl_family = AF_NETLINK;
    if (bind(k->fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
        e = errno;
        snprintf(k->err, sizeof(k->err),
                 "sock_diag netlink not available: bind: %s", strerror(e));
        close(k->fd);
        k->fd = -1;
        return APR_FROM_OS_ERROR(e);
    }
    tv.tv_sec = SB_RECV_TIMEOUT;
    tv.tv_usec = 0;
    setsockopt(k->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    destroy_open(k);
    k->err[0] = '\0';
    return APR_SUCCESS;
}

void sb_kernel_close(sb_kernel_t *k)
{
    if (k && k->fd >= 0) {
        close(k->fd);
        k->fd = -1;
    }
    if (k && k->dfd >= 0) {
        close(k->dfd);
        k->dfd = -1;
    }
}

const char *sb_kernel_error(const sb_kernel_t *k)
{
    return k->err;
}

apr_size_t sb_kernel_received(const sb_kernel_t *k)
{
    return k->received;
}

const char *sb_kernel_state_name(int state)
{
    static const char *const names[] = {
        "UNKNOWN", "ESTABLISHED", "SYN_SENT", "SYN_RECV", "FIN_WAIT1",
        "FIN_WAIT2", "TIME_WAIT", "CLOSE", "CLOSE_WAIT", "LAST_ACK", "LISTEN",
        "CLOSING"
    };

    if (state < 0 || state >= (int)(sizeof(names) / sizeof(names[0]))) {
        return names[0];
    }
    return names[state];
}

const char *sb_kernel_addr_str(int family, const uint8_t *addr, char *buf,
                               apr_size_t len)
{
    if (len == 0) {
        return buf;
    }
    if (!inet_ntop(family == AF_INET6 ? AF_INET6 : AF_INET, addr, buf,
                   (socklen_t)len)) {
        apr_cpystrn(buf, "?", len);
    }
    return buf;
}

int sb_kernel_tuple_key(const sb_conn_t *c, char *buf, apr_size_t len)
{
    char l[INET6_ADDRSTRLEN], r[INET6_ADDRSTRLEN];

    sb_kernel_addr_str(c->family, c->laddr, l, sizeof(l));
    sb_kernel_addr_str(c->family, c->raddr, r, sizeof(r));
    if (c->family == AF_INET6) {
        return snprintf(buf, len, "[%s]:%u-[%s]:%u", l, (unsigned)c->lport, r,
                        (unsigned)c->rport);
    }
    return snprintf(buf, len, "%s:%u-%s:%u", l, (unsigned)c->lport, r,
                    (unsigned)c->rport);
}

static uint64_t fnv1a(uint64_t h, const void *data, apr_size_t n)
{
    const unsigned char *b = data;
    apr_size_t i;

    for (i = 0; i < n; i++) {
        h ^= b[i];
        h *= UINT64_C(0x100000001b3);
    }
    return h;
}

uint64_t sb_kernel_tuple_hash(const sb_conn_t *c)
{
    uint64_t h = UINT64_C(0xcbf29ce484222325);
    apr_size_t alen = c->family == AF_INET6 ? 16 : 4;
    unsigned char f = (unsigned char)c->family;
    unsigned char ports[4];

    ports[0] = (unsigned char)(c->lport >> 8);
    ports[1] = (unsigned char)c->lport;
    ports[2] = (unsigned char)(c->rport >> 8);
    ports[3] = (unsigned char)c->rport;
    h = fnv1a(h, &f, 1);
    h = fnv1a(h, c->laddr, alen);
    h = fnv1a(h, c->raddr, alen);
    return fnv1a(h, ports, sizeof(ports));
}

/* ---------------------------------------------------------------- netlink */

/* Bytecode accepting a socket whose local port is one of ports: per port
 * "S_GE p && S_LE p", blocks joined by a JMP to the end (accept).  Every
 * jump target lies on the chain of "yes" jumps, as the kernel's auditor
 * (inet_diag_bc_audit) requires.  S_GE/S_LE exist on every kernel; S_EQ only
 * since 4.17.  Returns the length in bytes. */
static apr_size_t build_port_filter(const sb_kernel_ports_t *ports,
                                    struct inet_diag_bc_op *bc)
{
    int n = ports->nports, i;
    apr_size_t len = (apr_size_t)n * 16 + (apr_size_t)(n - 1) * 4;
    apr_size_t at = 0;

    for (i = 0; i < n; i++) {
        struct inet_diag_bc_op *op = bc + at / sizeof(*bc);
        int last = i == n - 1;
        /* where "no match" goes: the next block, or past the end (reject) */
        apr_size_t fail = last ? len + 4 : at + 20;

        op[0].code = INET_DIAG_BC_S_GE;
        op[0].yes = 8;
        op[0].no = (unsigned short)(fail - at);
        op[1].code = 0;
        op[1].yes = 0;
        op[1].no = ports->port[i];
        op[2].code = INET_DIAG_BC_S_LE;
        op[2].yes = 8;
        op[2].no = (unsigned short)(fail - (at + 8));
        op[3].code = 0;
        op[3].yes = 0;
        op[3].no = ports->port[i];
        if (!last) {
            op[4].code = INET_DIAG_BC_JMP;
            op[4].yes = 4;
            op[4].no = (unsigned short)(len - (at + 16));
        }
        at += last ? 16 : 20;
    }
    return len;
}

static const char *family_name(int family)
{
    return family == AF_INET6 ? "IPv6" : "IPv4";
}

/* Send one SOCK_DIAG_BY_FAMILY dump request for TCP sockets of family in
 * states (with the port filter when ports is not NULL) and hand every
 * answer to cb.  Returns APR_SUCCESS, the first error of cb, or a netlink
 * error with k->err set. */
/* Send the dump request for family and states (with the port filter when
 * ports is not NULL); returns its sequence number in *seq. */
static apr_status_t diag_request(sb_kernel_t *k, int family, uint32_t states,
                                 const sb_kernel_ports_t *ports, int want_info, uint32_t *seq)
{
    union {
        struct nlmsghdr h;
        char buf[NLMSG_SPACE(sizeof(struct inet_diag_req_v2))
                 + RTA_SPACE(SB_KERNEL_MAX_PORTS * 20)];
    } req;
    struct inet_diag_req_v2 *r;
    struct sockaddr_nl kernel;
    apr_size_t reqlen = NLMSG_LENGTH(sizeof(*r));
    int e;

    memset(&req, 0, sizeof(req));
    r = NLMSG_DATA(&req.h);
    r->sdiag_family = (__u8)family;
    r->sdiag_protocol = IPPROTO_TCP;
    r->idiag_states = states;
    r->idiag_ext = want_info ? (1 << (INET_DIAG_INFO - 1)) : 0;
    if (ports) {
        struct rtattr *rta = (struct rtattr *)(void *)(req.buf + NLMSG_ALIGN(reqlen));
        apr_size_t bclen = build_port_filter(ports, RTA_DATA(rta));
        rta->rta_type = INET_DIAG_REQ_BYTECODE;
        rta->rta_len = (unsigned short)RTA_LENGTH(bclen);
        reqlen = NLMSG_ALIGN(reqlen) + RTA_ALIGN(rta->rta_len);
    }
    *seq = ++k->seq;
    req.h.nlmsg_len = (__u32)reqlen;
    req.h.nlmsg_type = SOCK_DIAG_BY_FAMILY;
    req.h.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
    req.h.nlmsg_seq = *seq;

    memset(&kernel, 0, sizeof(kernel));
    kernel.nl_family = AF_NETLINK;
    while (sendto(k->fd, &req, reqlen, 0, (struct sockaddr *)&kernel,
                  sizeof(kernel)) < 0) {
        if (errno == EINTR) {
            continue;
        }
        e = errno;
        snprintf(k->err, sizeof(k->err), "sock_diag netlink: sending the %s "
                 "dump request failed: %s", family_name(family), strerror(e));
        return APR_FROM_OS_ERROR(e);
    }
    return APR_SUCCESS;
}

/* One datagram of the dump into k->rbuf: its length in *n, 0 when it did
 * not come from the kernel. */
static apr_status_t diag_receive(sb_kernel_t *k, int family, apr_size_t *n)
{
    struct sockaddr_nl from;
    struct iovec iov = { k->rbuf, SB_RECV_BUF };
    struct msghdr msg;
    ssize_t got;
    int e;

    memset(&msg, 0, sizeof(msg));
    msg.msg_name = &from;
    msg.msg_namelen = sizeof(from);
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    while ((got = recvmsg(k->fd, &msg, 0)) < 0 && errno == EINTR) {
    }
    if (got < 0) {
        e = errno;
        if (e == EAGAIN || e == EWOULDBLOCK) {
            snprintf(k->err, sizeof(k->err), "sock_diag netlink: the kernel "
                     "did not answer the %s dump within %d s",
                     family_name(family), SB_RECV_TIMEOUT);
            return APR_TIMEUP;
        }
        if (e == ENOBUFS) {
            /* our receive buffer overflowed: messages are lost */
            snprintf(k->err, sizeof(k->err), "sock_diag netlink: %s dump "
                     "lost messages (receive buffer overrun)", family_name(family));
            return APR_FROM_OS_ERROR(e);
        }
        snprintf(k->err, sizeof(k->err), "sock_diag netlink: receiving the "
                 "%s dump failed: %s", family_name(family), strerror(e));
        return APR_FROM_OS_ERROR(e);
    }
    if (msg.msg_flags & MSG_TRUNC) {
        snprintf(k->err, sizeof(k->err), "sock_diag netlink: a %s dump "
                 "message was truncated", family_name(family));
        return APR_EGENERAL;
    }
    *n = from.nl_pid == 0 ? (apr_size_t)got : 0;
    return APR_SUCCESS;
}

/* An NLMSG_ERROR of the dump: APR_SUCCESS for an ack, else the error. */
static apr_status_t diag_error(sb_kernel_t *k, int family, const struct nlmsghdr *h)
{
    const struct nlmsgerr *ne = NLMSG_DATA(h);
    int err = EPROTO;

    /* the kernel sends -errno (0 for an ack); any other number is garbled
     * (and -INT_MIN does not exist) */
    if (h->nlmsg_len >= NLMSG_LENGTH(sizeof(*ne)) && ne->error <= 0 && ne->error > -4096) {
        err = -ne->error;
    }

    if (err == 0) {
        return APR_SUCCESS;
    }
    if (err == ENOENT || err == EOPNOTSUPP || err == EAFNOSUPPORT) {
        snprintf(k->err, sizeof(k->err),
                 "sock_diag netlink not available for %s TCP: %s "
                 "(the kernel has no inet_diag/tcp_diag%s)",
                 family_name(family), strerror(err),
                 family == AF_INET6 ? " for IPv6, or IPv6 is off" : "");
        return APR_ENOTIMPL;
    }
    snprintf(k->err, sizeof(k->err), "sock_diag netlink: the kernel "
             "refused the %s dump: %s", family_name(family), strerror(err));
    return APR_FROM_OS_ERROR(err);
}

/* One SOCK_DIAG_BY_FAMILY message: its tcp_info attribute found, then cb. */
static apr_status_t diag_message(sb_kernel_t *k, int family, const struct nlmsghdr *h,
                                 diag_cb_t cb, void *ctx)
{
    const struct inet_diag_msg *m = NLMSG_DATA(h);
    const char *ap = (const char *)m + NLMSG_ALIGN(sizeof(*m));
    apr_size_t aleft;
    const void *info = NULL;
    apr_size_t info_len = 0;

    if (h->nlmsg_len < NLMSG_LENGTH(sizeof(struct inet_diag_msg))) {
        snprintf(k->err, sizeof(k->err), "sock_diag netlink: short %s "
                 "message (%u bytes)", family_name(family), (unsigned)h->nlmsg_len);
        return APR_EGENERAL;
    }
    aleft = h->nlmsg_len - NLMSG_LENGTH(sizeof(*m));
    /* the attributes: INET_DIAG_INFO is struct tcp_info */
    while (aleft >= sizeof(struct rtattr)) {
        const struct rtattr *a = (const void *)ap;
        apr_size_t astep = RTA_ALIGN(a->rta_len);
        if (a->rta_len < sizeof(*a) || a->rta_len > aleft) {
            break;
        }
        if (a->rta_type == INET_DIAG_INFO) {
            info = ap + RTA_LENGTH(0);
            info_len = a->rta_len - RTA_LENGTH(0);
        }
        if (astep >= aleft) {
            break;
        }
        ap += astep;
        aleft -= astep;
    }
    return cb(k, m, info, info_len, ctx);
}

/* One datagram of a dump (n bytes at buf, aligned for nlmsghdr): the
 * messages of sequence number seq go to cb, the others are left over from
 * an earlier, failed dump.  After a callback error *rv holds it and the
 * rest is drained; NLMSG_DONE sets *done.  Returns APR_SUCCESS or the
 * error of an NLMSG_ERROR, with k->err set. */
static apr_status_t diag_datagram(sb_kernel_t *k, int family, uint32_t seq,
                                  const char *buf, apr_size_t n, diag_cb_t cb,
                                  void *ctx, apr_status_t *rv, int *done)
{
    const char *at;
    apr_size_t left, step;
    apr_status_t e;

    for (at = buf, left = n; left >= sizeof(struct nlmsghdr); at += step, left -= step) {
        const struct nlmsghdr *h = (const struct nlmsghdr *)(const void *)at;
        if (h->nlmsg_len < sizeof(*h) || h->nlmsg_len > left) {
            break;
        }
        step = NLMSG_ALIGN(h->nlmsg_len);
        if (step > left) {
            step = left;
        }
        if (h->nlmsg_seq != seq) {
            continue;           /* left over from an earlier, failed dump */
        }
        if (h->nlmsg_type == NLMSG_DONE) {
            *done = 1;
            break;
        }
        if (h->nlmsg_type == NLMSG_ERROR) {
            if ((e = diag_error(k, family, h)) != APR_SUCCESS) {
                return e;
            }
            continue;
        }
        if (h->nlmsg_type != SOCK_DIAG_BY_FAMILY) {
            continue;
        }
        k->received++;
        if (*rv == APR_SUCCESS) {   /* after a callback error: drain */
            *rv = diag_message(k, family, h, cb, ctx);
        }
    }
    return APR_SUCCESS;
}

static apr_status_t diag_dump(sb_kernel_t *k, int family, uint32_t states,
                              const sb_kernel_ports_t *ports, int want_info,
                              diag_cb_t cb, void *ctx)
{
    uint32_t seq;
    int done = 0;
    apr_status_t rv = APR_SUCCESS, e;

    if (k->fd < 0) {
        snprintf(k->err, sizeof(k->err),
                 "sock_diag netlink socket is not open (sb_kernel_open failed "
                 "or the handle was closed)");
        return APR_EBADF;
    }
    if ((e = diag_request(k, family, states, ports, want_info, &seq)) != APR_SUCCESS) {
        return e;
    }
    while (!done) {
        apr_size_t n = 0;

        if ((e = diag_receive(k, family, &n)) != APR_SUCCESS) {
            return e;
        }
        if ((e = diag_datagram(k, family, seq, k->rbuf, n, cb, ctx, &rv, &done))
            != APR_SUCCESS) {
            return e;
        }
    }
    return rv;
}

static void copy_addr(uint8_t *dst, const __be32 *src, int family)
{
    memset(dst, 0, 16);
    memcpy(dst, src, family == AF_INET6 ? 16 : 4);
}

static uint64_t cookie_of(const struct inet_diag_msg *m)
{
    return (uint64_t)m->id.idiag_cookie[0] | ((uint64_t)m->id.idiag_cookie[1] << 32);
}

static int port_wanted(const sb_kernel_ports_t *ports, uint16_t port)
{
    int i;

    for (i = 0; i < ports->nports; i++) {
        if (ports->port[i] == port) {
            return 1;
        }
    }
    return 0;
}

static apr_status_t nomem(sb_kernel_t *k)
{
    snprintf(k->err, sizeof(k->err), "out of memory collecting sockets");
    return APR_ENOMEM;
}

static apr_status_t push_listen(sb_kernel_t *k, const struct inet_diag_msg *m)
{
    sb_listen_t *l;

    if (k->nls == k->cap_ls) {
        int cap = k->cap_ls ? k->cap_ls * 2 : 16;
        sb_listen_t *n = realloc(k->ls, (size_t)cap * sizeof(*n));
        if (!n) {
            return nomem(k);
        }
        k->ls = n;
        k->cap_ls = cap;
    }
    l = &k->ls[k->nls++];
    memset(l, 0, sizeof(*l));
    l->family = m->idiag_family;
    copy_addr(l->addr, m->id.idiag_src, m->idiag_family);
    l->port = ntohs(m->id.idiag_sport);
    l->queued = m->idiag_rqueue;
    l->backlog = m->idiag_wqueue;
    l->inode = m->idiag_inode;
    l->uid = m->idiag_uid;
    l->cookie = cookie_of(m);
    return APR_SUCCESS;
}

/* Room for one more connection in *arr (of *n, *cap). */
static sb_conn_t *push_conn(sb_kernel_t *k, sb_conn_t **arr, int *n, int *cap)
{
    if (*n == *cap) {
        int ncap = *cap ? *cap * 2 : 64;
        sb_conn_t *na = realloc(*arr, (size_t)ncap * sizeof(*na));
        if (!na) {
            nomem(k);
            return NULL;
        }
        *arr = na;
        *cap = ncap;
    }
    return &(*arr)[(*n)++];
}

static void fill_conn(sb_conn_t *c, const struct inet_diag_msg *m, uint16_t lport,
                      const void *info, apr_size_t info_len)
{
    memset(c, 0, sizeof(*c));
    c->family = m->idiag_family;
    c->state = (sb_tcp_state_t)m->idiag_state;
    copy_addr(c->laddr, m->id.idiag_src, m->idiag_family);
    copy_addr(c->raddr, m->id.idiag_dst, m->idiag_family);
    c->lport = lport;
    c->rport = ntohs(m->id.idiag_dport);
    c->cookie = cookie_of(m);
    c->inode = m->idiag_inode;
    c->uid = m->idiag_uid;
    c->rqueue = m->idiag_rqueue;
    c->wqueue = m->idiag_wqueue;
    c->timer = m->idiag_timer;
    c->expires_ms = m->idiag_timer ? m->idiag_expires : 0;
    if (info && info_len >= SB_TCPI_MIN) {
        struct tcp_info ti;
        memset(&ti, 0, sizeof(ti));
        memcpy(&ti, info, info_len < sizeof(ti) ? info_len : sizeof(ti));
        c->has_info = 1;
        c->last_data_recv_ms = ti.tcpi_last_data_recv;
        c->last_data_sent_ms = ti.tcpi_last_data_sent;
        c->last_ack_recv_ms = ti.tcpi_last_ack_recv;
        c->bytes_received = ti.tcpi_bytes_received;
        c->bytes_acked = ti.tcpi_bytes_acked;
        c->segs_in = ti.tcpi_segs_in;
        c->segs_out = ti.tcpi_segs_out;
        c->data_segs_in = ti.tcpi_data_segs_in;
    }
}

static apr_status_t sample_cb(sb_kernel_t *k, const struct inet_diag_msg *m,
                              const void *info, apr_size_t info_len, void *ctx)
{
    const sb_kernel_ports_t *ports = ctx;
    uint16_t lport = ntohs(m->id.idiag_sport);
    sb_conn_t *c;

    /* The kernel filtered already; this guards against a kernel that did not. */
    if (!port_wanted(ports, lport)
        || (m->idiag_family != AF_INET && m->idiag_family != AF_INET6)) {
        return APR_SUCCESS;
    }
    if (m->idiag_state == SB_TCP_LISTEN) {
        return push_listen(k, m);
    }
    if (m->idiag_state >= 32 || !(SB_CONN_STATES & TCPF(m->idiag_state))) {
        return APR_SUCCESS;
    }
    if (!(c = push_conn(k, &k->cs, &k->ncs, &k->cap_cs))) {
        return APR_ENOMEM;
    }
    fill_conn(c, m, lport, info, info_len);
    return APR_SUCCESS;
}

/* A destroyed socket: a server-side one of the ports (the feed carries
 * every TCP socket of the host, client sides and other servers' too; a
 * listener closing is no connection). */
static apr_status_t destroy_cb(sb_kernel_t *k, const struct inet_diag_msg *m,
                               const void *info, apr_size_t info_len, void *ctx)
{
    const sb_kernel_ports_t *ports = ctx;
    uint16_t lport = ntohs(m->id.idiag_sport);
    sb_conn_t *c;

    if (!port_wanted(ports, lport) || m->idiag_state == SB_TCP_LISTEN
        || ntohs(m->id.idiag_dport) == 0
        || (m->idiag_family != AF_INET && m->idiag_family != AF_INET6)) {
        return APR_SUCCESS;
    }
    if (!(c = push_conn(k, &k->ds, &k->nds, &k->cap_ds))) {
        return APR_ENOMEM;
    }
    fill_conn(c, m, lport, info, info_len);
    return APR_SUCCESS;
}

/* Everything the destroy feed holds now into k->ds; an overrun (ENOBUFS)
 * is noted in k->ds_lost. */
static void destroy_drain(sb_kernel_t *k, const sb_kernel_ports_t *ports)
{
    k->nds = 0;
    k->ds_lost = 0;
    if (k->dfd < 0) {
        return;
    }
    for (;;) {
        ssize_t got = recv(k->dfd, k->rbuf, SB_RECV_BUF, MSG_DONTWAIT);
        apr_size_t left, step;
        char *at;

        if (got < 0) {
            if (errno == EINTR) {
                continue;
            }
            if (errno == ENOBUFS) {
                k->ds_lost = 1;
                continue;
            }
            return;             /* EAGAIN: drained */
        }
        for (at = k->rbuf, left = (apr_size_t)got; left >= sizeof(struct nlmsghdr);
             at += step, left -= step) {
            struct nlmsghdr *h = (struct nlmsghdr *)(void *)at;
            if (h->nlmsg_len < sizeof(*h) || h->nlmsg_len > left) {
                break;
            }
            step = NLMSG_ALIGN(h->nlmsg_len);
            if (step > left) {
                step = left;
            }
            if (h->nlmsg_type == SOCK_DIAG_BY_FAMILY
                && h->nlmsg_len >= NLMSG_LENGTH(sizeof(struct inet_diag_msg))) {
                diag_message(k, 0, h, destroy_cb, (void *)ports);
            }
        }
    }
}

/* ---------------------------------------------------------------- /proc */

/* Read a whole file into k->fbuf.  Returns APR_SUCCESS or an errno. */
static apr_status_t read_proc(sb_kernel_t *k, const char *path, apr_size_t *len)
{
    int fd, e;
    apr_size_t n = 0;

    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        e = errno;
        snprintf(k->err, sizeof(k->err), "cannot open %s: %s", path, strerror(e));
        return APR_FROM_OS_ERROR(e);
    }
    for (;;) {
        ssize_t r;
        if (k->fbuf_cap - n < 4096) {
            apr_size_t cap = k->fbuf_cap ? k->fbuf_cap * 2 : 16384;
            char *nb;
            if (cap > SB_PROC_MAX) {
                snprintf(k->err, sizeof(k->err), "%s is larger than %d bytes",
                         path, SB_PROC_MAX);
                close(fd);
                return APR_ENOSPC;
            }
            nb = realloc(k->fbuf, cap);
            if (!nb) {
                close(fd);
                return nomem(k);
            }
            k->fbuf = nb;
            k->fbuf_cap = cap;
        }
        r = read(fd, k->fbuf + n, k->fbuf_cap - n);
        if (r < 0) {
            if (errno == EINTR) {
                continue;
            }
            e = errno;
            snprintf(k->err, sizeof(k->err), "cannot read %s: %s", path, strerror(e));
            close(fd);
            return APR_FROM_OS_ERROR(e);
        }
        if (r == 0) {
            break;
        }
        n += (apr_size_t)r;
    }
    close(fd);
    *len = n;
    return APR_SUCCESS;
}

/* A line [*start, *end) of buf ending in '\n'; 0 when no complete line is
 * left. */
static int next_line(const char *buf, apr_size_t len, apr_size_t *pos,
                     const char **start, apr_size_t *n)
{
    const char *nl;

    if (*pos >= len) {
        return 0;
    }
    nl = memchr(buf + *pos, '\n', len - *pos);
    if (!nl) {
        return 0;
    }
    *start = buf + *pos;
    *n = (apr_size_t)(nl - *start);
    *pos = (apr_size_t)(nl - buf) + 1;
    return 1;
}

static int is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r';
}

/* The next whitespace-separated token of [*p, end). */
static int next_token(const char **p, const char *end, const char **tok,
                      apr_size_t *tlen)
{
    while (*p < end && is_space(**p)) {
        (*p)++;
    }
    if (*p >= end) {
        return 0;
    }
    *tok = *p;
    while (*p < end && !is_space(**p)) {
        (*p)++;
    }
    *tlen = (apr_size_t)(*p - *tok);
    return 1;
}

/* A counter: digits, optionally after '-' (snmp's MaxConn is -1).
 * Returns 0 when tok is not such a number; *neg tells a negative one. */
static int parse_counter(const char *tok, apr_size_t n, uint64_t *v, int *neg)
{
    apr_size_t i = 0;
    uint64_t x = 0;

    *neg = 0;
    if (n > 0 && tok[0] == '-') {
        *neg = 1;
        i = 1;
    }
    if (i == n) {
        return 0;
    }
    for (; i < n; i++) {
        if (tok[i] < '0' || tok[i] > '9') {
            return 0;
        }
        if (x > (UINT64_MAX - (uint64_t)(tok[i] - '0')) / 10) {
            return 0;
        }
        x = x * 10 + (uint64_t)(tok[i] - '0');
    }
    *v = x;
    return 1;
}

/* Counters of /proc/net/{netstat,snmp}: a "Section: name name ..." line
 * followed by a "Section: value value ..." line.  Looks up nnames names of
 * section; values[i] gets the value of names[i]. */
static apr_status_t parse_counters(const char *buf, apr_size_t len,
                                   const char *section, const char *const *names,
                                   uint64_t *values, int nnames)
{
    apr_size_t slen = strlen(section), pos = 0, n, vn;
    const char *line, *vline;
    int found[8] = { 0 }, i, nfound = 0, saw_section = 0;

    if (nnames > 8) {
        return APR_EINVAL;
    }
    while (next_line(buf, len, &pos, &line, &n)) {
        const char *hp, *vp, *hend, *vend, *ht = NULL, *vt = NULL;
        apr_size_t hl = 0, vl = 0;
        uint64_t v[8] = { 0 };

        if (n < slen + 1 || memcmp(line, section, slen) != 0 || line[slen] != ':') {
            continue;
        }
        saw_section = 1;
        if (!next_line(buf, len, &pos, &vline, &vn) || vn < slen + 1
            || memcmp(vline, section, slen) != 0 || vline[slen] != ':') {
            return APR_EINVAL;          /* names without values */
        }
        hp = line + slen + 1;
        hend = line + n;
        vp = vline + slen + 1;
        vend = vline + vn;
        for (;;) {
            int h = next_token(&hp, hend, &ht, &hl);
            int w = next_token(&vp, vend, &vt, &vl);
            uint64_t val;
            int neg;
            if (!h && !w) {
                break;
            }
            if (!h || !w) {
                return APR_EINVAL;      /* counts differ */
            }
            if (!parse_counter(vt, vl, &val, &neg)) {
                return APR_EINVAL;
            }
            for (i = 0; i < nnames; i++) {
                if (!found[i] && strlen(names[i]) == hl && !memcmp(names[i], ht, hl)) {
                    if (neg) {
                        return APR_EINVAL;
                    }
                    found[i] = 1;
                    v[i] = val;
                    nfound++;
                }
            }
        }
        if (nfound == nnames) {
            for (i = 0; i < nnames; i++) {
                values[i] = v[i];
            }
            return APR_SUCCESS;
        }
        /* only one names/values pair per section exists */
        return APR_ENOENT;
    }
    return saw_section ? APR_EINVAL : APR_ENOENT;
}

apr_status_t sb_kernel_parse_netstat(const char *buf, apr_size_t len,
                                     uint64_t *listen_overflows,
                                     uint64_t *listen_drops)
{
    static const char *const names[] = { "ListenOverflows", "ListenDrops" };
    uint64_t v[2];
    apr_status_t rv = parse_counters(buf, len, "TcpExt", names, v, 2);

    if (rv == APR_SUCCESS) {
        *listen_overflows = v[0];
        *listen_drops = v[1];
    }
    return rv;
}

apr_status_t sb_kernel_parse_snmp(const char *buf, apr_size_t len,
                                  uint64_t *passive_opens)
{
    static const char *const names[] = { "PassiveOpens" };

    return parse_counters(buf, len, "Tcp", names, passive_opens, 1);
}

static int read_counters(sb_kernel_t *k, sb_kernel_sample_t *s)
{
    apr_size_t len;
    apr_status_t rv;
    char ebuf[128];

    if (read_proc(k, "/proc/net/netstat", &len) != APR_SUCCESS) {
        return 0;
    }
    rv = sb_kernel_parse_netstat(k->fbuf, len, &s->listen_overflows, &s->listen_drops);
    if (rv != APR_SUCCESS) {
        snprintf(k->err, sizeof(k->err), "/proc/net/netstat: no usable TcpExt "
                 "ListenOverflows/ListenDrops: %s", apr_strerror(rv, ebuf, sizeof(ebuf)));
        return 0;
    }
    if (read_proc(k, "/proc/net/snmp", &len) != APR_SUCCESS) {
        return 0;
    }
    rv = sb_kernel_parse_snmp(k->fbuf, len, &s->passive_opens);
    if (rv != APR_SUCCESS) {
        snprintf(k->err, sizeof(k->err), "/proc/net/snmp: no usable Tcp "
                 "PassiveOpens: %s", apr_strerror(rv, ebuf, sizeof(ebuf)));
        return 0;
    }
    return 1;
}

/* ---------------------------------------------------------------- API */

/* Dump both families; IPv6 may be missing from the kernel. */
static apr_status_t dump_both(sb_kernel_t *k, uint32_t states,
                              const sb_kernel_ports_t *filter, int want_info,
                              diag_cb_t cb, void *ctx)
{
    apr_status_t rv = diag_dump(k, AF_INET, states, filter, want_info, cb, ctx);

    if (rv != APR_SUCCESS) {
        return rv;
    }
    rv = diag_dump(k, AF_INET6, states, filter, want_info, cb, ctx);
    if (rv == APR_ENOTIMPL) {
        rv = APR_SUCCESS;       /* no IPv6 in this kernel: no IPv6 sockets */
    }
    return rv;
}

apr_status_t sb_kernel_sample(sb_kernel_t *k, const sb_kernel_ports_t *ports,
                              apr_pool_t *p, sb_kernel_sample_t **out)
{
    sb_kernel_sample_t *s;
    apr_status_t rv;
    int i, have4 = 0, have6 = 0;

    *out = NULL;
    if (!ports || ports->nports < 1 || ports->nports > SB_KERNEL_MAX_PORTS) {
        snprintf(k->err, sizeof(k->err), "sb_kernel_sample: %d ports given, "
                 "expected 1 to %d", ports ? ports->nports : 0, SB_KERNEL_MAX_PORTS);
        return APR_EINVAL;
    }
    for (i = 0; i < ports->nports; i++) {
        if (ports->port[i] == 0) {
            snprintf(k->err, sizeof(k->err), "sb_kernel_sample: port 0 is not a "
                     "listen port");
            return APR_EINVAL;
        }
    }
    s = apr_pcalloc(p, sizeof(*s));
    s->ts = apr_time_now();
    k->nls = k->ncs = 0;
    k->received = 0;
    /* what was freed before the dump: such a connection is not in it */
    destroy_drain(k, ports);
    /* Listeners first: cheap (the listening hash is small).  Connections
     * cost a walk of the whole established hash, sized by the host's
     * memory rather than by its load, so it is walked only for a family
     * with a listener on the ports: a server-side socket exists only
     * through its family's listener. */
    rv = dump_both(k, TCPF(SB_TCP_LISTEN), ports, 0, sample_cb, (void *)ports);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    for (i = 0; i < k->nls; i++) {
        if (k->ls[i].family == AF_INET) {
            have4 = 1;
        }
        else {
            have6 = 1;
        }
    }
    if (have4) {
        rv = diag_dump(k, AF_INET, SB_CONN_STATES, ports, 1, sample_cb, (void *)ports);
    }
    if (rv == APR_SUCCESS && have6) {
        rv = diag_dump(k, AF_INET6, SB_CONN_STATES, ports, 1, sample_cb, (void *)ports);
    }
    if (rv != APR_SUCCESS) {
        return rv;
    }
    s->nlisten = k->nls;
    s->nconns = k->ncs;
    if (k->nls) {
        s->listen = apr_pmemdup(p, k->ls, (apr_size_t)k->nls * sizeof(*k->ls));
    }
    if (k->ncs) {
        s->conns = apr_pmemdup(p, k->cs, (apr_size_t)k->ncs * sizeof(*k->cs));
    }
    s->have_destroyed = k->dfd >= 0;
    s->destroyed_lost = k->ds_lost;
    s->ndestroyed = k->nds;
    if (k->nds) {
        s->destroyed = apr_pmemdup(p, k->ds, (apr_size_t)k->nds * sizeof(*k->ds));
    }
    k->err[0] = '\0';
    s->have_netstat = read_counters(k, s);
    if (!s->have_netstat) {
        s->listen_overflows = s->listen_drops = s->passive_opens = 0;
    }
    *out = s;
    return APR_SUCCESS;
}

apr_status_t sb_kernel_decode_dump(const void *buf, apr_size_t len, int family,
                                   uint32_t seq, const sb_kernel_ports_t *ports,
                                   apr_pool_t *p, sb_kernel_sample_t **out, int *done,
                                   char *err, apr_size_t errlen)
{
    sb_kernel_t k;
    sb_kernel_sample_t *s;
    apr_status_t rv = APR_SUCCESS, e;

    *out = NULL;
    *done = 0;
    memset(&k, 0, sizeof(k));
    k.pool = p;
    k.fd = -1;
    e = diag_datagram(&k, family, seq, buf, len, sample_cb, (void *)ports, &rv, done);
    if (e == APR_SUCCESS && rv == APR_SUCCESS) {
        s = apr_pcalloc(p, sizeof(*s));
        s->nlisten = k.nls;
        s->nconns = k.ncs;
        if (k.nls) {
            s->listen = apr_pmemdup(p, k.ls, (apr_size_t)k.nls * sizeof(*k.ls));
        }
        if (k.ncs) {
            s->conns = apr_pmemdup(p, k.cs, (apr_size_t)k.ncs * sizeof(*k.cs));
        }
        *out = s;
    }
    else {
        apr_cpystrn(err, k.err, errlen);
    }
    free(k.ls);
    free(k.cs);
    return e != APR_SUCCESS ? e : rv;
}

static apr_status_t listen_cb(sb_kernel_t *k, const struct inet_diag_msg *m,
                              const void *info, apr_size_t info_len, void *ctx)
{
    if (m->idiag_state != SB_TCP_LISTEN
        || (m->idiag_family != AF_INET && m->idiag_family != AF_INET6)) {
        return APR_SUCCESS;
    }
    return push_listen(k, m);
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

    return x < y ? -1 : x > y;
}

static int cmp_u16(const void *a, const void *b)
{
    uint16_t x = *(const uint16_t *)a, y = *(const uint16_t *)b;

    return x < y ? -1 : x > y;
}

static apr_status_t fd_access_error(sb_kernel_t *k, pid_t pid, const char *what)
{
    if (geteuid() == 0) {
        snprintf(k->err, sizeof(k->err),
                 "cannot read the open files of process %d (%.96s): permission "
                 "denied even as root (the process is in another user namespace "
                 "or container, or a security module forbids it); give the listen "
                 "ports explicitly", (int)pid, what);
        return APR_EACCES;
    }
    snprintf(k->err, sizeof(k->err),
             "cannot read the open files of process %d (%.96s): permission denied; "
             "the process belongs to another user (httpd's parent runs as root): "
             "run as that user or as root, or grant CAP_DAC_READ_SEARCH and "
             "CAP_SYS_PTRACE; or give the listen ports explicitly",
             (int)pid, what);
    return APR_EACCES;
}

apr_status_t sb_kernel_listen_ports_of_pid(sb_kernel_t *k, pid_t pid,
                                           sb_kernel_ports_t *out)
{
    char dir[64], path[320], link[64];
    DIR *d;
    struct dirent *de;
    uint32_t *inodes = NULL;
    apr_size_t ninodes = 0, cap = 0;
    uint16_t ports[256];
    int nports = 0, i, e;
    apr_status_t rv;

    memset(out, 0, sizeof(*out));
    if (pid <= 0) {
        snprintf(k->err, sizeof(k->err), "no process %d", (int)pid);
        return APR_FROM_OS_ERROR(ESRCH);
    }
    snprintf(dir, sizeof(dir), "/proc/%d/fd", (int)pid);
    d = opendir(dir);
    if (!d) {
        e = errno;
        if (e == ENOENT) {
            snprintf(k->err, sizeof(k->err), "no process %d (%s does not exist)",
                     (int)pid, dir);
            return APR_FROM_OS_ERROR(ESRCH);
        }
        if (e == EACCES || e == EPERM) {
            return fd_access_error(k, pid, dir);
        }
        snprintf(k->err, sizeof(k->err), "cannot list %s: %s", dir, strerror(e));
        return APR_FROM_OS_ERROR(e);
    }
    while ((de = readdir(d)) != NULL) {
        ssize_t n;
        unsigned long ino;
        char tail;

        if (de->d_name[0] < '0' || de->d_name[0] > '9') {
            continue;
        }
        snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
        n = readlink(path, link, sizeof(link) - 1);
        if (n < 0) {
            e = errno;
            if (e == EACCES || e == EPERM) {
                closedir(d);
                free(inodes);
                return fd_access_error(k, pid, path);
            }
            continue;           /* closed meanwhile */
        }
        link[n] = '\0';
        if (sscanf(link, "socket:[%lu%c", &ino, &tail) != 2 || tail != ']') {
            continue;
        }
        if (ninodes == cap) {
            apr_size_t ncap = cap ? cap * 2 : 64;
            uint32_t *ni = realloc(inodes, ncap * sizeof(*ni));
            if (!ni) {
                closedir(d);
                free(inodes);
                return nomem(k);
            }
            inodes = ni;
            cap = ncap;
        }
        inodes[ninodes++] = (uint32_t)ino;
    }
    closedir(d);
    if (ninodes == 0) {
        snprintf(k->err, sizeof(k->err), "process %d holds no socket at all (is "
                 "it httpd's parent?)", (int)pid);
        free(inodes);
        return APR_ENOENT;
    }
    qsort(inodes, ninodes, sizeof(*inodes), cmp_u32);

    k->nls = 0;
    k->received = 0;
    rv = dump_both(k, TCPF(SB_TCP_LISTEN), NULL, 0, listen_cb, NULL);
    if (rv != APR_SUCCESS) {
        free(inodes);
        return rv;
    }
    for (i = 0; i < k->nls; i++) {
        uint32_t ino = k->ls[i].inode;
        int j, dup = 0;
        if (ino == 0 || !bsearch(&ino, inodes, ninodes, sizeof(*inodes), cmp_u32)) {
            continue;
        }
        for (j = 0; j < nports; j++) {
            dup |= ports[j] == k->ls[i].port;
        }
        if (!dup && nports < (int)(sizeof(ports) / sizeof(ports[0]))) {
            ports[nports++] = k->ls[i].port;
        }
    }
    free(inodes);
    if (nports == 0) {
        snprintf(k->err, sizeof(k->err), "process %d holds no listening TCP "
                 "socket (is it httpd's parent?)", (int)pid);
        return APR_ENOENT;
    }
    qsort(ports, (size_t)nports, sizeof(ports[0]), cmp_u16);
    out->nports = nports < SB_KERNEL_MAX_PORTS ? nports : SB_KERNEL_MAX_PORTS;
    memcpy(out->port, ports, (size_t)out->nports * sizeof(ports[0]));
    if (nports > SB_KERNEL_MAX_PORTS) {
        snprintf(k->err, sizeof(k->err), "process %d listens on %d TCP ports; "
                 "only the lowest %d are kept", (int)pid, nports,
                 SB_KERNEL_MAX_PORTS);
        return APR_ENOSPC;
    }
    k->err[0] = '\0';
    return APR_SUCCESS;
}
