/*
 * fuzz_netlink: one received datagram of a sock_diag dump through the
 * decoder sb_kernel_sample() uses (sb_kernel_decode_dump: the nlmsghdr
 * walk, NLMSG_ERROR/DONE, inet_diag_msg and its rtattr/tcp_info).  The
 * input is the datagram as recvmsg() returned it; the sequence number,
 * the family and the watched port are taken from its first message (as
 * the request would have set them), plus port 80.
 */
#include "config.h"
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include "sb_fuzz.h"
#include "sb_kernel.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p;
    sb_kernel_ports_t ports;
    sb_kernel_sample_t *s = NULL;
    uint32_t seq = 0, *aligned;
    int family = AF_INET, done = 0, i;
    char err[512], key[112], addr[64];
    apr_status_t rv;

    memset(&ports, 0, sizeof(ports));
    ports.nports = 1;
    ports.port[0] = 80;
    if (size >= 16) {
        memcpy(&seq, data + 8, 4);
    }
    if (size >= 22) {
        uint16_t sport;
        family = data[16];
        memcpy(&sport, data + 20, 2);
        if (ntohs(sport) != 80) {
            ports.port[ports.nports++] = ntohs(sport);
        }
    }
    /* recvmsg's buffer is aligned for nlmsghdr */
    aligned = malloc(size ? size : 1);
    memcpy(aligned, data, size);
    p = sb_fuzz_pool();
    err[0] = '\0';
    rv = sb_kernel_decode_dump(aligned, size, family, seq, &ports, p, &s, &done, err,
                               sizeof(err));
    SB_FUZZ_ASSERT((rv == APR_SUCCESS) == (s != NULL), "rv %d, sample %p", (int)rv, (void *)s);
    SB_FUZZ_ASSERT(rv == APR_SUCCESS || err[0], "rv %d without a message", (int)rv);
    if (s) {
        SB_FUZZ_ASSERT((size_t)(s->nlisten + s->nconns) * 72 <= size,
                       "%d + %d sockets from %zu bytes", s->nlisten, s->nconns, size);
        for (i = 0; i < s->nlisten; i++) {
            const sb_listen_t *l = &s->listen[i];
            SB_FUZZ_ASSERT(l->family == AF_INET || l->family == AF_INET6, "family %d", l->family);
            SB_FUZZ_ASSERT(l->port == ports.port[0] || l->port == ports.port[ports.nports - 1],
                           "listen port %u not watched", (unsigned)l->port);
            sb_kernel_addr_str(l->family, l->addr, addr, sizeof(addr));
        }
        for (i = 0; i < s->nconns; i++) {
            const sb_conn_t *c = &s->conns[i];
            int n;
            SB_FUZZ_ASSERT(c->family == AF_INET || c->family == AF_INET6, "family %d", c->family);
            SB_FUZZ_ASSERT(c->lport == ports.port[0] || c->lport == ports.port[ports.nports - 1],
                           "conn port %u not watched", (unsigned)c->lport);
            SB_FUZZ_ASSERT(c->state != SB_TCP_LISTEN && c->state != SB_TCP_SYN_SENT
                           && c->state != SB_TCP_CLOSE && c->state > 0 && c->state < 12,
                           "state %d", (int)c->state);
            n = sb_kernel_tuple_key(c, key, sizeof(key));
            SB_FUZZ_ASSERT(n > 0 && (size_t)n < sizeof(key), "tuple key of %d bytes", n);
            (void)sb_kernel_tuple_hash(c);
            (void)sb_kernel_state_name(c->state);
        }
    }
    apr_pool_destroy(p);
    free(aligned);
    return 0;
}
