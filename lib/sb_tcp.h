/*
 * sb_tcp.h - TCP states, numbered as the kernel numbers them
 * (include/net/tcp_states.h, a stable ABI: ss and sock_diag print them).
 * No includes: the BPF program uses it too.
 */
#ifndef SB_TCP_H
#define SB_TCP_H

typedef enum {
    SB_TCP_ESTABLISHED = 1,
    SB_TCP_SYN_SENT = 2,
    SB_TCP_SYN_RECV = 3,
    SB_TCP_FIN_WAIT1 = 4,
    SB_TCP_FIN_WAIT2 = 5,
    SB_TCP_TIME_WAIT = 6,
    SB_TCP_CLOSE = 7,
    SB_TCP_CLOSE_WAIT = 8,
    SB_TCP_LAST_ACK = 9,
    SB_TCP_LISTEN = 10,
    SB_TCP_CLOSING = 11,
    SB_TCP_NEW_SYN_RECV = 12    /* a request sock (never in a dump of full sockets) */
} sb_tcp_state_t;

#endif
