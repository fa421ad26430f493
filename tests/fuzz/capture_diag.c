/*
 * capture_diag: record the datagrams the kernel sends for one sock_diag
 * dump, as sbtune's decoder receives them (seed inputs of fuzz_netlink).
 *
 *   capture_diag PORT listen|conns OUTPREFIX
 *
 * Sends the request sb_kernel_sample() sends for one port (IPv4 TCP,
 * sequence number 1; "listen": LISTEN sockets, "conns": the other states
 * with INET_DIAG_INFO) and writes each datagram from the kernel to
 * OUTPREFIX.N (N from 0), the last one holding NLMSG_DONE.  Not part of the
 * build: tests/fuzz/capture-seeds.sh compiles and runs it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>

int main(int argc, char **argv)
{
    union {
        struct nlmsghdr h;
        char buf[NLMSG_SPACE(sizeof(struct inet_diag_req_v2)) + RTA_SPACE(16)];
    } req;
    static union {
        struct nlmsghdr h;
        char buf[65536];
    } rbuf;
    struct inet_diag_req_v2 *r;
    struct rtattr *rta;
    struct inet_diag_bc_op *bc;
    struct sockaddr_nl sa;
    int fd, listen, n = 0, done = 0;
    unsigned port;

    if (argc != 4 || sscanf(argv[1], "%u", &port) != 1 || port == 0 || port > 65535
        || (strcmp(argv[2], "listen") && strcmp(argv[2], "conns"))) {
        fprintf(stderr, "usage: capture_diag PORT listen|conns OUTPREFIX\n");
        return 2;
    }
    listen = !strcmp(argv[2], "listen");
    memset(&req, 0, sizeof(req));
    r = NLMSG_DATA(&req.h);
    r->sdiag_family = AF_INET;
    r->sdiag_protocol = IPPROTO_TCP;
    /* the states of sb_kernel.c: LISTEN, or all but SYN_SENT, CLOSE, LISTEN */
    r->idiag_states = listen ? 1u << 10
                             : (1u << 1) | (1u << 3) | (1u << 4) | (1u << 5) | (1u << 6)
                               | (1u << 8) | (1u << 9) | (1u << 11);
    r->idiag_ext = listen ? 0 : 1 << (INET_DIAG_INFO - 1);
    rta = (struct rtattr *)(void *)(req.buf + NLMSG_SPACE(sizeof(*r)));
    rta->rta_type = INET_DIAG_REQ_BYTECODE;
    rta->rta_len = RTA_LENGTH(16);
    bc = RTA_DATA(rta);
    bc[0].code = INET_DIAG_BC_S_GE;
    bc[0].yes = 8;
    bc[0].no = 20;
    bc[1].no = (unsigned short)port;
    bc[2].code = INET_DIAG_BC_S_LE;
    bc[2].yes = 8;
    bc[2].no = 12;
    bc[3].no = (unsigned short)port;
    req.h.nlmsg_len = NLMSG_SPACE(sizeof(*r)) + RTA_SPACE(16);
    req.h.nlmsg_type = SOCK_DIAG_BY_FAMILY;
    req.h.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
    req.h.nlmsg_seq = 1;

    fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
    memset(&sa, 0, sizeof(sa));
    sa.nl_family = AF_NETLINK;
    if (fd < 0 || sendto(fd, &req, req.h.nlmsg_len, 0, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        perror("capture_diag: netlink");
        return 1;
    }
    while (!done) {
        ssize_t got = recv(fd, rbuf.buf, sizeof(rbuf.buf), 0);
        char fn[4096];
        FILE *f;
        struct nlmsghdr *h;
        int left;
        if (got < 0) {
            perror("capture_diag: recv");
            return 1;
        }
        snprintf(fn, sizeof(fn), "%s.%d", argv[3], n++);
        if (!(f = fopen(fn, "wb")) || fwrite(rbuf.buf, 1, (size_t)got, f) != (size_t)got
            || fclose(f) != 0) {
            perror(fn);
            return 1;
        }
        left = (int)got;
        for (h = &rbuf.h; NLMSG_OK(h, left); h = NLMSG_NEXT(h, left)) {
            if (h->nlmsg_type == NLMSG_DONE || h->nlmsg_type == NLMSG_ERROR) {
                done = 1;
            }
        }
        printf("%s: %zd bytes\n", fn, got);
    }
    close(fd);
    return 0;
}
