/*
 * sb_conn_shared.h - what sb_conn.bpf.c and lib/sb_bpf.c agree on: map
 * sizes, counter slots and the ring buffer's record.  Plain C with fixed
 * width types from the includer (sb_bpf_types.h in the BPF program,
 * <linux/types.h> in userspace).
 */
#ifndef SB_CONN_SHARED_H
#define SB_CONN_SHARED_H

#define SB_CONN_MAX_PORTS 16            /* SB_KERNEL_MAX_PORTS */
#define SB_CONN_MAX_CONNS 65536         /* SB_BPF_MAX_CONNS */
#define SB_CONN_RINGBUF_BYTES (1024 * 1024)

/* Slots of the per-CPU counter array. */
enum {
    SB_CONN_ARRIVALS = 0,
    SB_CONN_CLOSED_SERVER = 1,
    SB_CONN_CLOSED_CLIENT = 2,
    SB_CONN_CLOSED_RESET = 3,
    SB_CONN_UNTRACKED = 4,
    SB_CONN_LOST = 5,
    SB_CONN_NCOUNTERS = 6
};

/* Who closed first (sb_bpf_closer_t). */
enum {
    SB_CONN_BY_SERVER = 0,
    SB_CONN_BY_CLIENT = 1,
    SB_CONN_BY_RESET = 2
};

struct sb_conn_start {
    __u64 start_ns;
    __u16 port;
};

/* One connection's close, in the ring buffer. */
struct sb_conn_record {
    __u64 lifetime_ns;
    __u16 port;
    __u8 closer;
    __u8 pad[5];
};

#endif
