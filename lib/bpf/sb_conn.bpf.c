/*
 * sb_conn.bpf.c - the kernel half of lib/sb_bpf: server-side TCP
 * connection lifecycles on httpd's listen ports (see lib/sb_bpf.h).
 *
 * A passive open is seen as LISTEN -> SYN_RECV (inet_csk_clone_lock makes
 * the child when the handshake's last ACK arrives) then SYN_RECV ->
 * ESTABLISHED (tcp_rcv_state_process), once per child: the second is the
 * arrival.  The child already sits in the listener's accept queue then,
 * whether or not httpd accepts it.  At any move to CLOSE the local port
 * is read from inet_sport: the kernel has released the port (skc_num 0)
 * by then.
 */
#include "sb_bpf_types.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>

#include "sb_conn_shared.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, SB_CONN_MAX_PORTS);
    __type(key, __u16);
    __type(value, __u8);
} ports SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, SB_CONN_MAX_CONNS);
    __type(key, __u64);
    __type(value, struct sb_conn_start);
} conns SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
    __uint(max_entries, SB_CONN_NCOUNTERS);
    __type(key, __u32);
    __type(value, __u64);
} counters SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_RINGBUF);
    __uint(max_entries, SB_CONN_RINGBUF_BYTES);
} records SEC(".maps");

static __always_inline void count(__u32 which)
{
    __u64 *c = bpf_map_lookup_elem(&counters, &which);

    if (c) {
        *c += 1;
    }
}

static __always_inline void closed(__u64 key, __u32 which, __u8 closer, __u64 now)
{
    struct sb_conn_start *st;
    struct sb_conn_record *rec;

    count(which);
    st = bpf_map_lookup_elem(&conns, &key);
    if (!st) {
        return;
    }
    rec = bpf_ringbuf_reserve(&records, sizeof(*rec), 0);
    if (rec) {
        rec->lifetime_ns = now - st->start_ns;
        rec->port = st->port;
        rec->closer = closer;
        bpf_ringbuf_submit(rec, 0);
    }
    else {
        count(SB_CONN_LOST);
    }
    bpf_map_delete_elem(&conns, &key);
}

SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(sb_conn_state, const struct sock *sk, const int oldstate, const int newstate)
{
    __u64 key = (__u64)(unsigned long)sk;
    __u16 port;
    __u64 now;

    if (BPF_CORE_READ_BITFIELD(sk, sk_protocol) != SB_IPPROTO_TCP) {
        return 0;
    }
    port = sk->__sk_common.skc_num;
    if (port == 0) {
        port = bpf_ntohs(BPF_CORE_READ((const struct inet_sock *)sk, inet_sport));
    }
    if (!bpf_map_lookup_elem(&ports, &port)) {
        /* a port no longer watched may leave connections in the map */
        if (newstate == SB_TCP_CLOSE) {
            bpf_map_delete_elem(&conns, &key);
        }
        return 0;
    }
    now = bpf_ktime_get_ns();

    if (oldstate == SB_TCP_SYN_RECV && newstate == SB_TCP_ESTABLISHED) {
        struct sb_conn_start st = { .start_ns = now, .port = port };

        count(SB_CONN_ARRIVALS);
        if (bpf_map_update_elem(&conns, &key, &st, BPF_ANY) != 0) {
            count(SB_CONN_UNTRACKED);
        }
        return 0;
    }
    if (oldstate == SB_TCP_ESTABLISHED) {
        if (newstate == SB_TCP_FIN_WAIT1) {
            closed(key, SB_CONN_CLOSED_SERVER, SB_CONN_BY_SERVER, now);
        }
        else if (newstate == SB_TCP_CLOSE_WAIT) {
            closed(key, SB_CONN_CLOSED_CLIENT, SB_CONN_BY_CLIENT, now);
        }
        else if (newstate == SB_TCP_CLOSE) {
            closed(key, SB_CONN_CLOSED_RESET, SB_CONN_BY_RESET, now);
        }
    }
    if (newstate == SB_TCP_CLOSE) {
        bpf_map_delete_elem(&conns, &key);
    }
    return 0;
}
