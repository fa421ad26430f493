/*
 * sb_bpf_types.h - the few kernel types sb_conn.bpf.c reads, for CO-RE.
 *
 * Not a generated vmlinux.h: a build host (a Debian build chroot) may have
 * no /sys/kernel/btf.  Each struct names only the fields the program reads;
 * preserve_access_index makes clang record every access as a relocation
 * that libbpf resolves against the running kernel's BTF at load time, so
 * the offsets here are never used and the layout may differ per kernel.
 */
#ifndef SB_BPF_TYPES_H
#define SB_BPF_TYPES_H

typedef signed char __s8;
typedef unsigned char __u8;
typedef short __s16;
typedef unsigned short __u16;
typedef int __s32;
typedef unsigned int __u32;
typedef long long __s64;
typedef unsigned long long __u64;
typedef __u16 __be16;
typedef __u32 __be32;
typedef __u32 __wsum;

/* uapi/linux/bpf.h: the values used here (a stable ABI) */
enum bpf_map_type {
    BPF_MAP_TYPE_HASH = 1,
    BPF_MAP_TYPE_ARRAY = 2,
    BPF_MAP_TYPE_PERCPU_ARRAY = 6,
    BPF_MAP_TYPE_RINGBUF = 27
};

enum {
    BPF_ANY = 0,
    BPF_NOEXIST = 1,
    BPF_EXIST = 2
};

#include "sb_tcp.h"        /* the TCP states, shared with sb_kernel */

#define SB_IPPROTO_TCP 6

struct sock_common {
    __u16 skc_num;              /* local port, host order */
} __attribute__((preserve_access_index));

/* sk_protocol was an 8-bit bitfield before Linux 5.6 and a __u16 since:
 * read it with BPF_CORE_READ_BITFIELD, which works for both. */
struct sock {
    struct sock_common __sk_common;
    __u16 sk_protocol;
} __attribute__((preserve_access_index));

/* inet_sport is the local port in network order.  It outlives skc_num,
 * which inet_put_port() zeroes when tcp_set_state() moves a socket to
 * TCP_CLOSE, before the tracepoint fires. */
struct inet_sock {
    struct sock sk;
    __be16 inet_sport;
} __attribute__((preserve_access_index));

#endif
