/*
 * test_kernel.c - sb_kernel: the /proc/net counter parsers on real
 * captures (tests/data/proc-net-*.txt, see its README.md) and damaged
 * copies of them; sock_diag on real sockets made here (accept queue,
 * server-side connections in each state, tcp_info, the client side of a
 * loopback connection left out, ListenOverflows); and a real private httpd
 * (Debian's apache2) started and stopped by the "httpd" test case.
 *
 * Live checks poll for the condition they expect (bounded), never sleep a
 * fixed time.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <ftw.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <linux/netlink.h>

#include <check.h>
#include "sb_unit.h"
#include <apr_general.h>
#include <apr_pools.h>
#include <apr_strings.h>

#include "sb_kernel.h"
#include "sb_procmem.h"

#ifndef SO_COOKIE
#define SO_COOKIE 57
#endif

static apr_pool_t *pool;

static void setup(void)
{
    apr_pool_create(&pool, NULL);
}

static void teardown(void)
{
    apr_pool_destroy(pool);
}

/* ---------------------------------------------------------------- helpers */


/* The value of counter name in section of a netstat/snmp text, found the
 * simple way (strtok over the NUL-terminated copy); -1 when absent. */
static long long file_counter(const char *text, const char *section, const char *name)
{
    char *copy = apr_pstrdup(pool, text), *save = NULL, *line;
    char *names = NULL;
    apr_size_t sl = strlen(section);

    for (line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        if (strncmp(line, section, sl) || line[sl] != ':') {
            continue;
        }
        if (!names) {
            names = line + sl + 1;
            continue;
        }
        {
            char *s1 = NULL, *s2 = NULL;
            char *a = strtok_r(names, " ", &s1), *b = strtok_r(line + sl + 1, " ", &s2);
            while (a && b) {
                if (!strcmp(a, name)) {
                    return atoll(b);
                }
                a = strtok_r(NULL, " ", &s1);
                b = strtok_r(NULL, " ", &s2);
            }
            return -1;
        }
    }
    return -1;
}

/* Parse exactly len bytes from a malloc'd copy (no NUL after them). */
static apr_status_t netstat_exact(const char *data, apr_size_t len, uint64_t *o, uint64_t *d)
{
    char *exact = malloc(len ? len : 1);
    apr_status_t rv;

    ck_assert_ptr_nonnull(exact);
    memcpy(exact, data, len);
    rv = sb_kernel_parse_netstat(exact, len, o, d);
    free(exact);
    return rv;
}

static apr_status_t snmp_exact(const char *data, apr_size_t len, uint64_t *po)
{
    char *exact = malloc(len ? len : 1);
    apr_status_t rv;

    ck_assert_ptr_nonnull(exact);
    memcpy(exact, data, len);
    rv = sb_kernel_parse_snmp(exact, len, po);
    free(exact);
    return rv;
}

static void sleep_ms(int ms)
{
    struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

    nanosleep(&ts, NULL);
}

static socklen_t loopback(int family, uint16_t port, struct sockaddr_storage *ss)
{
    memset(ss, 0, sizeof(*ss));
    if (family == AF_INET6) {
        struct sockaddr_in6 *a = (struct sockaddr_in6 *)ss;
        a->sin6_family = AF_INET6;
        a->sin6_addr = in6addr_loopback;
        a->sin6_port = htons(port);
        return sizeof(*a);
    }
    else {
        struct sockaddr_in *a = (struct sockaddr_in *)ss;
        a->sin_family = AF_INET;
        a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        a->sin_port = htons(port);
        return sizeof(*a);
    }
}

static uint16_t local_port(int fd)
{
    struct sockaddr_storage ss;
    socklen_t sl = sizeof(ss);

    ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&ss, &sl), 0);
    return ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                          : ((struct sockaddr_in *)&ss)->sin_port);
}

/* A listener on the loopback address of family, port chosen by the kernel;
 * -1 when the family cannot be used here (no IPv6). */
static int make_listener(int family, int backlog, uint16_t *port)
{
    struct sockaddr_storage ss;
    socklen_t sl = loopback(family, 0, &ss);
    int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);

    if (fd < 0) {
        ck_assert_msg(family == AF_INET6, "socket: %s", strerror(errno));
        return -1;
    }
    if (bind(fd, (struct sockaddr *)&ss, sl) != 0) {
        ck_assert_msg(family == AF_INET6, "bind: %s", strerror(errno));
        close(fd);
        return -1;
    }
    ck_assert_int_eq(listen(fd, backlog), 0);
    *port = local_port(fd);
    return fd;
}

static int connect_to(int family, uint16_t port, int nonblock)
{
    struct sockaddr_storage ss;
    socklen_t sl = loopback(family, port, &ss);
    int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC | (nonblock ? SOCK_NONBLOCK : 0), 0);
    int rc;

    ck_assert_int_ge(fd, 0);
    rc = connect(fd, (struct sockaddr *)&ss, sl);
    ck_assert_msg(rc == 0 || (nonblock && errno == EINPROGRESS), "connect: %s",
                  strerror(errno));
    return fd;
}

static void write_all(int fd, const char *buf, apr_size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, buf, n);
        ck_assert_msg(w > 0, "write: %s", strerror(errno));
        buf += w;
        n -= (apr_size_t)w;
    }
}

static void read_exact(int fd, char *buf, apr_size_t n)
{
    while (n > 0) {
        ssize_t r = read(fd, buf, n);
        ck_assert_msg(r > 0, "read: %s", r == 0 ? "EOF" : strerror(errno));
        buf += r;
        n -= (apr_size_t)r;
    }
}

static const sb_listen_t *find_listen(const sb_kernel_sample_t *s, int family, uint16_t port)
{
    int i;

    for (i = 0; i < s->nlisten; i++) {
        if (s->listen[i].family == family && s->listen[i].port == port) {
            return &s->listen[i];
        }
    }
    return NULL;
}

/* The connection lport <- rport of family (state 0: any state). */
static const sb_conn_t *find_conn(const sb_kernel_sample_t *s, int family, uint16_t lport,
                                  uint16_t rport, int state)
{
    int i;

    for (i = 0; i < s->nconns; i++) {
        const sb_conn_t *c = &s->conns[i];
        if (c->family == family && c->lport == lport && c->rport == rport
            && (state == 0 || (int)c->state == state)) {
            return c;
        }
    }
    return NULL;
}

static int count_state(const sb_kernel_sample_t *s, int state)
{
    int i, n = 0;

    for (i = 0; i < s->nconns; i++) {
        n += (int)s->conns[i].state == state;
    }
    return n;
}

/* Every entry must be server side: local port watched, never the client
 * side of a loopback connection (local port ephemeral, peer port watched). */
static void assert_server_side_only(const sb_kernel_sample_t *s, const sb_kernel_ports_t *pt)
{
    int i, j;

    for (i = 0; i < s->nconns; i++) {
        int ok = 0;
        for (j = 0; j < pt->nports; j++) {
            ok |= s->conns[i].lport == pt->port[j];
            ck_assert_msg(s->conns[i].rport != pt->port[j],
                          "a client-side socket (peer port %u) was reported",
                          (unsigned)pt->port[j]);
        }
        ck_assert_msg(ok, "a socket on local port %u was reported",
                      (unsigned)s->conns[i].lport);
    }
    for (i = 0; i < s->nlisten; i++) {
        int ok = 0;
        for (j = 0; j < pt->nports; j++) {
            ok |= s->listen[i].port == pt->port[j];
        }
        ck_assert(ok);
    }
}

/* Sample every millisecond until cond holds (3 s at most). */
#define WAIT_FOR(k, pt, s, cond)                                                 \
    do {                                                                         \
        int tries_;                                                              \
        for (tries_ = 0;; tries_++) {                                            \
            apr_status_t rv_ = sb_kernel_sample((k), (pt), pool, &(s));          \
            ck_assert_msg(rv_ == APR_SUCCESS, "sb_kernel_sample: %s",            \
                          sb_kernel_error(k));                                   \
            if (cond) {                                                          \
                break;                                                           \
            }                                                                    \
            ck_assert_msg(tries_ < 3000, "timed out waiting for: %s", #cond);    \
            sleep_ms(1);                                                         \
        }                                                                        \
    } while (0)

static sb_kernel_t *open_kernel(void)
{
    sb_kernel_t *k;
    apr_status_t rv = sb_kernel_open(&k, pool);

    ck_assert_msg(rv == APR_SUCCESS, "sb_kernel_open: %s", sb_kernel_error(k));
    return k;
}

static uint64_t cookie_of_fd(int fd)
{
    uint64_t ck = 0;
    socklen_t sl = sizeof(ck);

    ck_assert_int_eq(getsockopt(fd, SOL_SOCKET, SO_COOKIE, &ck, &sl), 0);
    return ck;
}

static uint32_t inode_of_fd(int fd)
{
    struct stat st;

    ck_assert_int_eq(fstat(fd, &st), 0);
    return (uint32_t)st.st_ino;
}

/* /proc/net/tcp{,6} lists a socket of local port lport, remote port rport
 * in state (an independent view of the kernel's table). */
static int proc_net_tcp_has(int family, uint16_t lport, uint16_t rport, int state)
{
    FILE *f = fopen(family == AF_INET6 ? "/proc/net/tcp6" : "/proc/net/tcp", "r");
    char line[512];
    int found = 0;

    ck_assert_ptr_nonnull(f);
    while (!found && fgets(line, sizeof(line), f)) {
        char *local = strchr(line, ':'), *lp, *rp;
        unsigned int st;
        if (!local || !(lp = strchr(local + 1, ':'))) {
            continue;           /* the header */
        }
        /* "sl: LOCALADDR:PORT REMADDR:PORT ST ..." */
        rp = strchr(lp + 1, ':');
        if (!rp || sscanf(rp + 6, "%x", &st) != 1) {
            continue;
        }
        found = strtoul(lp + 1, NULL, 16) == lport && strtoul(rp + 1, NULL, 16) == rport
                && (int)st == state;
    }
    fclose(f);
    return found;
}

static int family_usable(int family)
{
    uint16_t port;
    int fd = make_listener(family, 1, &port);

    if (fd < 0) {
        fprintf(stderr, "# %s loopback is not usable here: skipping its checks\n",
                family == AF_INET6 ? "IPv6" : "IPv4");
        return 0;
    }
    close(fd);
    return 1;
}

/* ---------------------------------------------------------------- parsers */

START_TEST(test_netstat_real)
{
    apr_size_t len;
    const char *text = sb_unit_load(pool, "proc-net-netstat.txt", &len);
    uint64_t o = 1, d = 1;
    long long eo = file_counter(text, "TcpExt", "ListenOverflows");
    long long ed = file_counter(text, "TcpExt", "ListenDrops");

    ck_assert_int_ge(eo, 0);
    ck_assert_int_ge(ed, eo);
    ck_assert_int_eq(netstat_exact(text, len, &o, &d), APR_SUCCESS);
    ck_assert_uint_eq(o, (uint64_t)eo);
    ck_assert_uint_eq(d, (uint64_t)ed);
}
END_TEST

START_TEST(test_snmp_real)
{
    apr_size_t len;
    const char *text = sb_unit_load(pool, "proc-net-snmp.txt", &len);
    uint64_t po = 0;
    long long e = file_counter(text, "Tcp", "PassiveOpens");

    ck_assert_int_gt(e, 0);
    ck_assert_int_eq(snmp_exact(text, len, &po), APR_SUCCESS);
    ck_assert_uint_eq(po, (uint64_t)e);
    /* the netstat parser must not take "Tcp:" for "TcpExt:" and back */
    {
        uint64_t o, d;
        ck_assert_int_eq(netstat_exact(text, len, &o, &d), APR_ENOENT);
    }
}
END_TEST

/* Every prefix of the real files: the right values or an error, never a
 * wrong value (a cut line does not count). */
START_TEST(test_counters_truncated)
{
    apr_size_t len, cut, ok = 0;
    const char *text = sb_unit_load(pool, "proc-net-netstat.txt", &len);
    uint64_t o0, d0, o, d, po0, po;

    ck_assert_int_eq(netstat_exact(text, len, &o0, &d0), APR_SUCCESS);
    for (cut = 0; cut < len; cut++) {
        apr_status_t rv = netstat_exact(text, cut, &o, &d);
        ck_assert_msg(rv == APR_SUCCESS || rv == APR_ENOENT || rv == APR_EINVAL,
                      "cut %lu: rv %d", (unsigned long)cut, rv);
        if (rv == APR_SUCCESS) {
            ck_assert_uint_eq(o, o0);
            ck_assert_uint_eq(d, d0);
            ok++;
        }
    }
    ck_assert_uint_gt(ok, 0);

    text = sb_unit_load(pool, "proc-net-snmp.txt", &len);
    ck_assert_int_eq(snmp_exact(text, len, &po0), APR_SUCCESS);
    for (cut = 0; cut < len; cut++) {
        apr_status_t rv = snmp_exact(text, cut, &po);
        ck_assert(rv == APR_SUCCESS || rv == APR_ENOENT || rv == APR_EINVAL);
        if (rv == APR_SUCCESS) {
            ck_assert_uint_eq(po, po0);
        }
    }
}
END_TEST

START_TEST(test_counters_malformed)
{
    uint64_t o = 7, d = 7, po = 7;
    const char *s;

#define NS(str) netstat_exact((str), strlen(str), &o, &d)
    ck_assert_int_eq(NS(""), APR_ENOENT);
    ck_assert_int_eq(NS("garbage\n\n\n"), APR_ENOENT);
    ck_assert_int_eq(NS("TcpExt: ListenOverflows ListenDrops\nTcpExt: 3 5\n"), APR_SUCCESS);
    ck_assert_uint_eq(o, 3);
    ck_assert_uint_eq(d, 5);
    /* order and extra names do not matter; CR is whitespace */
    ck_assert_int_eq(NS("IpExt: A\r\nIpExt: 1\r\nTcpExt: X ListenDrops Y ListenOverflows\r\n"
                        "TcpExt: 1 22 3 11\r\n"), APR_SUCCESS);
    ck_assert_uint_eq(o, 11);
    ck_assert_uint_eq(d, 22);
    /* a section name that merely starts like ours */
    ck_assert_int_eq(NS("TcpExtra: ListenOverflows ListenDrops\nTcpExtra: 3 5\n"), APR_ENOENT);
    /* values line missing, cut or of another section */
    ck_assert_int_eq(NS("TcpExt: ListenOverflows ListenDrops\n"), APR_EINVAL);
    ck_assert_int_eq(NS("TcpExt: ListenOverflows ListenDrops\nTcpExt: 3 5"), APR_EINVAL);
    ck_assert_int_eq(NS("TcpExt: ListenOverflows ListenDrops\nIpExt: 3 5\n"), APR_EINVAL);
    /* counts differ, either way */
    ck_assert_int_eq(NS("TcpExt: ListenOverflows ListenDrops\nTcpExt: 3\n"), APR_EINVAL);
    ck_assert_int_eq(NS("TcpExt: ListenOverflows ListenDrops\nTcpExt: 3 5 6\n"), APR_EINVAL);
    /* not numbers, negative, too big */
    ck_assert_int_eq(NS("TcpExt: ListenOverflows ListenDrops\nTcpExt: 3 x5\n"), APR_EINVAL);
    ck_assert_int_eq(NS("TcpExt: ListenOverflows ListenDrops\nTcpExt: -3 5\n"), APR_EINVAL);
    ck_assert_int_eq(NS("TcpExt: ListenOverflows ListenDrops\nTcpExt: 3 -\n"), APR_EINVAL);
    ck_assert_int_eq(NS("TcpExt: ListenOverflows ListenDrops\n"
                        "TcpExt: 3 99999999999999999999999\n"), APR_EINVAL);
    ck_assert_int_eq(NS("TcpExt: ListenOverflows ListenDrops\n"
                        "TcpExt: 3 18446744073709551615\n"), APR_SUCCESS);
    ck_assert_uint_eq(d, UINT64_MAX);
    /* a counter absent from the section */
    ck_assert_int_eq(NS("TcpExt: ListenOverflows Other\nTcpExt: 3 5\n"), APR_ENOENT);
    /* NUL bytes and binary noise */
    s = "TcpExt: ListenOverflows\0ListenDrops\nTcpExt: 3\0 5\n";
    ck_assert_int_ne(netstat_exact(s, 49, &o, &d), APR_SUCCESS);
#undef NS
    /* snmp: MaxConn is -1 on Linux and must not disturb PassiveOpens */
    s = "Tcp: RtoAlgorithm MaxConn PassiveOpens\nTcp: 1 -1 42\n";
    ck_assert_int_eq(snmp_exact(s, strlen(s), &po), APR_SUCCESS);
    ck_assert_uint_eq(po, 42);
    s = "Tcp: RtoAlgorithm MaxConn PassiveOpens\nTcp: 1 -1 -42\n";
    ck_assert_int_eq(snmp_exact(s, strlen(s), &po), APR_EINVAL);
}
END_TEST

START_TEST(test_tuple_key)
{
    sb_conn_t a, b;
    char key[112];
    int n;

    memset(&a, 0, sizeof(a));
    a.family = AF_INET;
    ck_assert_int_eq(inet_pton(AF_INET, "127.0.0.1", a.laddr), 1);
    ck_assert_int_eq(inet_pton(AF_INET, "192.0.2.7", a.raddr), 1);
    a.lport = 80;
    a.rport = 51234;
    n = sb_kernel_tuple_key(&a, key, sizeof(key));
    ck_assert_str_eq(key, "127.0.0.1:80-192.0.2.7:51234");
    ck_assert_int_eq(n, (int)strlen(key));
    ck_assert_int_eq(sb_kernel_tuple_key(&a, key, 5), n);
    ck_assert_str_eq(key, "127.");

    b = a;
    b.cookie = 99;              /* neither cookie nor state is in the tuple */
    b.state = SB_TCP_TIME_WAIT;
    ck_assert_uint_eq(sb_kernel_tuple_hash(&a), sb_kernel_tuple_hash(&b));
    b.rport = 51235;
    ck_assert_uint_ne(sb_kernel_tuple_hash(&a), sb_kernel_tuple_hash(&b));
    b = a;
    b.lport = 81;
    ck_assert_uint_ne(sb_kernel_tuple_hash(&a), sb_kernel_tuple_hash(&b));

    memset(&b, 0, sizeof(b));
    b.family = AF_INET6;
    ck_assert_int_eq(inet_pton(AF_INET6, "2001:db8::1", b.laddr), 1);
    ck_assert_int_eq(inet_pton(AF_INET6, "::ffff:192.0.2.7", b.raddr), 1);
    b.lport = 443;
    b.rport = 65535;
    sb_kernel_tuple_key(&b, key, sizeof(key));
    ck_assert_str_eq(key, "[2001:db8::1]:443-[::ffff:192.0.2.7]:65535");
    ck_assert_uint_ne(sb_kernel_tuple_hash(&a), sb_kernel_tuple_hash(&b));
    /* the longest key fits the documented 112 bytes */
    memset(b.laddr, 0xab, 16);
    memset(b.raddr, 0xcd, 16);
    ck_assert_int_lt(sb_kernel_tuple_key(&b, key, sizeof(key)), (int)sizeof(key));

    ck_assert_str_eq(sb_kernel_state_name(SB_TCP_TIME_WAIT), "TIME_WAIT");
    ck_assert_str_eq(sb_kernel_state_name(SB_TCP_ESTABLISHED), "ESTABLISHED");
    ck_assert_str_eq(sb_kernel_state_name(SB_TCP_CLOSING), "CLOSING");
    ck_assert_str_eq(sb_kernel_state_name(99), "UNKNOWN");
    ck_assert_str_eq(sb_kernel_state_name(-1), "UNKNOWN");
}
END_TEST

/* ---------------------------------------------------------------- sock_diag */

START_TEST(test_bad_arguments)
{
    sb_kernel_t *k = open_kernel();
    sb_kernel_sample_t *s = (void *)1;
    sb_kernel_ports_t pt;

    memset(&pt, 0, sizeof(pt));
    ck_assert_int_eq(sb_kernel_sample(k, &pt, pool, &s), APR_EINVAL);
    ck_assert_ptr_null(s);
    ck_assert_ptr_nonnull(strstr(sb_kernel_error(k), "0 ports"));
    ck_assert_int_eq(sb_kernel_sample(k, NULL, pool, &s), APR_EINVAL);
    pt.nports = SB_KERNEL_MAX_PORTS + 1;
    ck_assert_int_eq(sb_kernel_sample(k, &pt, pool, &s), APR_EINVAL);
    pt.nports = 1;
    pt.port[0] = 0;
    ck_assert_int_eq(sb_kernel_sample(k, &pt, pool, &s), APR_EINVAL);
    ck_assert_ptr_nonnull(strstr(sb_kernel_error(k), "port 0"));

    /* a closed handle says so, and closing twice is harmless */
    pt.port[0] = 9;
    sb_kernel_close(k);
    sb_kernel_close(k);
    ck_assert_int_ne(sb_kernel_sample(k, &pt, pool, &s), APR_SUCCESS);
    ck_assert_ptr_nonnull(strstr(sb_kernel_error(k), "not open"));
}
END_TEST

/* All 16 ports at once (the longest bytecode): listeners on the watched
 * ports are reported, one on another port is not. */
START_TEST(test_port_filter)
{
    sb_kernel_t *k = open_kernel();
    sb_kernel_sample_t *s;
    sb_kernel_ports_t pt;
    int fds[SB_KERNEL_MAX_PORTS + 1], i;
    uint16_t ports[SB_KERNEL_MAX_PORTS + 1];

    memset(&pt, 0, sizeof(pt));
    for (i = 0; i <= SB_KERNEL_MAX_PORTS; i++) {
        fds[i] = make_listener(AF_INET, 4, &ports[i]);
    }
    /* watch ports[1..16], in an unsorted order; ports[0] is not watched */
    for (i = 0; i < SB_KERNEL_MAX_PORTS; i++) {
        pt.port[i] = ports[SB_KERNEL_MAX_PORTS - i];
    }
    pt.nports = SB_KERNEL_MAX_PORTS;
    ck_assert_int_eq(sb_kernel_sample(k, &pt, pool, &s), APR_SUCCESS);
    ck_assert_int_eq(s->nlisten, SB_KERNEL_MAX_PORTS);
    ck_assert_uint_eq(sb_kernel_received(k), SB_KERNEL_MAX_PORTS);
    ck_assert_ptr_null(find_listen(s, AF_INET, ports[0]));
    for (i = 1; i <= SB_KERNEL_MAX_PORTS; i++) {
        const sb_listen_t *l = find_listen(s, AF_INET, ports[i]);
        ck_assert_ptr_nonnull(l);
        ck_assert_uint_eq(l->backlog, 4);
        ck_assert_uint_eq(l->queued, 0);
        ck_assert_uint_eq(l->inode, inode_of_fd(fds[i]));
        ck_assert_uint_eq(l->cookie, cookie_of_fd(fds[i]));
        ck_assert_uint_eq(l->uid, (uint32_t)geteuid());
    }
    assert_server_side_only(s, &pt);

    /* one port only: the smallest bytecode */
    pt.nports = 1;
    pt.port[0] = ports[0];
    ck_assert_int_eq(sb_kernel_sample(k, &pt, pool, &s), APR_SUCCESS);
    ck_assert_int_eq(s->nlisten, 1);
    ck_assert_uint_eq(sb_kernel_received(k), 1);
    ck_assert_uint_eq(s->listen[0].port, ports[0]);
    ck_assert_int_eq(s->nconns, 0);
    for (i = 0; i <= SB_KERNEL_MAX_PORTS; i++) {
        close(fds[i]);
    }
}
END_TEST

/* Connections not yet accepted sit in the accept queue: the listener's
 * queued count, and ESTABLISHED entries without an inode.  Accepting one
 * gives it the inode of the accepted descriptor; its tcp_info counts the
 * bytes; the client sides are never reported. */
static void accept_queue_checks(int family)
{
    sb_kernel_t *k = open_kernel();
    sb_kernel_sample_t *s;
    sb_kernel_ports_t pt;
    const sb_listen_t *l;
    const sb_conn_t *c;
    uint16_t port, cport[3];
    int lfd, cfd[3], afd, i;
    char buf[1000], back[500];

    if (!family_usable(family)) {
        return;
    }
    lfd = make_listener(family, 8, &port);
    memset(&pt, 0, sizeof(pt));
    pt.nports = 1;
    pt.port[0] = port;

    ck_assert_int_eq(sb_kernel_sample(k, &pt, pool, &s), APR_SUCCESS);
    l = find_listen(s, family, port);
    ck_assert_ptr_nonnull(l);
    ck_assert_uint_eq(l->queued, 0);
    ck_assert_uint_eq(l->backlog, 8);
    {
        uint8_t lo[16];
        memset(lo, 0, sizeof(lo));
        inet_pton(family, family == AF_INET6 ? "::1" : "127.0.0.1", lo);
        ck_assert_mem_eq(l->addr, lo, 16);
    }
    ck_assert_int_eq(s->nconns, 0);

    for (i = 0; i < 3; i++) {
        cfd[i] = connect_to(family, port, 0);
        cport[i] = local_port(cfd[i]);
    }
    WAIT_FOR(k, &pt, s, find_listen(s, family, port)
             && find_listen(s, family, port)->queued == 3);
    ck_assert_int_eq(s->nlisten, 1);
    ck_assert_int_eq(s->nconns, 3);
    assert_server_side_only(s, &pt);
    /* the kernel filtered: the 3 client sockets never reached us */
    ck_assert_uint_eq(sb_kernel_received(k), 4);
    for (i = 0; i < 3; i++) {
        c = find_conn(s, family, port, cport[i], SB_TCP_ESTABLISHED);
        ck_assert_msg(c != NULL, "queued connection from port %u not reported",
                      (unsigned)cport[i]);
        ck_assert_uint_eq(c->inode, 0);     /* nobody holds it yet */
        ck_assert_int_eq(c->has_info, 1);
        ck_assert_uint_eq(c->bytes_received, 0);
        ck_assert_mem_eq(c->laddr, l->addr, 16);
    }

    /* accept one: which one the kernel hands out is its business */
    afd = accept(lfd, NULL, NULL);
    ck_assert_int_ge(afd, 0);
    {
        struct sockaddr_storage peer;
        socklen_t sl = sizeof(peer);
        uint16_t pport;
        ck_assert_int_eq(getpeername(afd, (struct sockaddr *)&peer, &sl), 0);
        pport = ntohs(family == AF_INET6 ? ((struct sockaddr_in6 *)&peer)->sin6_port
                                         : ((struct sockaddr_in *)&peer)->sin_port);
        for (i = 0; i < 3 && cport[i] != pport; i++) {
        }
        ck_assert_int_lt(i, 3);
    }
    WAIT_FOR(k, &pt, s, find_listen(s, family, port)->queued == 2);
    c = find_conn(s, family, port, cport[i], SB_TCP_ESTABLISHED);
    ck_assert_ptr_nonnull(c);
    ck_assert_uint_eq(c->inode, inode_of_fd(afd));
    ck_assert_uint_eq(c->cookie, cookie_of_fd(afd));
    ck_assert_uint_eq(c->uid, (uint32_t)geteuid());
    ck_assert_int_eq(c->has_info, 1);

    /* client -> server: counted on arrival, queued until read */
    memset(buf, 'q', sizeof(buf));
    write_all(cfd[i], buf, sizeof(buf));
    WAIT_FOR(k, &pt, s, (c = find_conn(s, family, port, cport[i], 0)) != NULL
             && c->bytes_received == sizeof(buf));
    ck_assert_uint_eq(c->rqueue, sizeof(buf));
    ck_assert_uint_ge(c->data_segs_in, 1);
    ck_assert_uint_ge(c->segs_in, c->data_segs_in);
    ck_assert_uint_lt(c->last_data_recv_ms, 10000);
    read_exact(afd, buf, sizeof(buf));
    WAIT_FOR(k, &pt, s, find_conn(s, family, port, cport[i], 0)->rqueue == 0);

    /* server -> client: bytes_acked once the client's ACK is in */
    memset(back, 'r', sizeof(back));
    write_all(afd, back, sizeof(back));
    read_exact(cfd[i], back, sizeof(back));
    WAIT_FOR(k, &pt, s, (c = find_conn(s, family, port, cport[i], 0)) != NULL
             && c->bytes_acked == sizeof(back) && c->wqueue == 0);
    ck_assert_uint_eq(c->bytes_received, sizeof(buf));
    ck_assert_uint_ge(c->segs_out, 2);
    ck_assert_uint_lt(c->last_data_sent_ms, 10000);
    ck_assert_uint_lt(c->last_ack_recv_ms, 10000);
    assert_server_side_only(s, &pt);

    /* without a listener the connection dump is skipped (httpd stopped),
     * though the accepted connection is still there */
    close(lfd);
    ck_assert_int_eq(sb_kernel_sample(k, &pt, pool, &s), APR_SUCCESS);
    ck_assert_int_eq(s->nlisten, 0);
    ck_assert_int_eq(s->nconns, 0);
    ck_assert_uint_eq(sb_kernel_received(k), 0);

    close(afd);
    for (i = 0; i < 3; i++) {
        close(cfd[i]);
    }
}

START_TEST(test_accept_queue_v4)
{
    accept_queue_checks(AF_INET);
}
END_TEST

START_TEST(test_accept_queue_v6)
{
    accept_queue_checks(AF_INET6);
}
END_TEST

/* Server closes first: FIN_WAIT2, then TIME_WAIT for the same 4-tuple,
 * without tcp_info.  Client closes first: CLOSE_WAIT on the server side,
 * while the client's own TIME_WAIT (local port ephemeral) stays out. */
static void close_state_checks(int family)
{
    sb_kernel_t *k = open_kernel();
    sb_kernel_sample_t *s;
    sb_kernel_ports_t pt;
    const sb_conn_t *c;
    uint16_t port, cport;
    int lfd, cfd, afd;
    char key1[112], key2[112], b;
    uint64_t cookie;

    if (!family_usable(family)) {
        return;
    }
    lfd = make_listener(family, 8, &port);
    memset(&pt, 0, sizeof(pt));
    pt.nports = 1;
    pt.port[0] = port;

    /* --- the server closes first (httpd's keep-alive timeout) */
    cfd = connect_to(family, port, 0);
    cport = local_port(cfd);
    afd = accept(lfd, NULL, NULL);
    ck_assert_int_ge(afd, 0);
    WAIT_FOR(k, &pt, s, find_conn(s, family, port, cport, SB_TCP_ESTABLISHED) != NULL);
    c = find_conn(s, family, port, cport, SB_TCP_ESTABLISHED);
    cookie = c->cookie;
    ck_assert_uint_eq(cookie, cookie_of_fd(afd));
    sb_kernel_tuple_key(c, key1, sizeof(key1));

    close(afd);
    WAIT_FOR(k, &pt, s, (c = find_conn(s, family, port, cport, 0)) != NULL
             && (c->state == SB_TCP_FIN_WAIT2 || c->state == SB_TCP_TIME_WAIT));
    ck_assert_uint_eq(c->inode, 0);     /* orphaned */
    if (c->state == SB_TCP_FIN_WAIT2) {
        fprintf(stderr, "# %s orphaned FIN_WAIT2: has_info %d (0: a timewait "
                "socket), cookie %s\n", family == AF_INET6 ? "IPv6" : "IPv4",
                c->has_info, c->cookie == cookie ? "kept" : "changed");
    }
    ck_assert_int_eq(read(cfd, &b, 1), 0);     /* EOF */
    close(cfd);
    WAIT_FOR(k, &pt, s, find_conn(s, family, port, cport, SB_TCP_TIME_WAIT) != NULL);
    c = find_conn(s, family, port, cport, SB_TCP_TIME_WAIT);
    sb_kernel_tuple_key(c, key2, sizeof(key2));
    ck_assert_str_eq(key1, key2);
    ck_assert_int_eq(c->has_info, 0);
    ck_assert_uint_eq(c->bytes_received, 0);
    ck_assert_uint_eq(c->inode, 0);
    ck_assert_int_eq(c->timer, 3);
    ck_assert_uint_gt(c->expires_ms, 0);
    ck_assert_uint_le(c->expires_ms, 60000);
    ck_assert_int_eq(count_state(s, SB_TCP_TIME_WAIT), 1);
    fprintf(stderr, "# %s TIME_WAIT %s: cookie %llu, %s the ESTABLISHED cookie "
            "%llu\n", family == AF_INET6 ? "IPv6" : "IPv4", key2,
            (unsigned long long)c->cookie,
            c->cookie == cookie ? "equal to" : "differs from",
            (unsigned long long)cookie);
    assert_server_side_only(s, &pt);

    /* --- the client closes first (the browser goes away) */
    cfd = connect_to(family, port, 0);
    cport = local_port(cfd);
    afd = accept(lfd, NULL, NULL);
    ck_assert_int_ge(afd, 0);
    close(cfd);
    WAIT_FOR(k, &pt, s, find_conn(s, family, port, cport, SB_TCP_CLOSE_WAIT) != NULL);
    c = find_conn(s, family, port, cport, SB_TCP_CLOSE_WAIT);
    ck_assert_int_eq(c->has_info, 1);
    ck_assert_uint_eq(c->inode, inode_of_fd(afd));
    assert_server_side_only(s, &pt);

    /* still open server side, shut down for writing: LAST_ACK then gone */
    close(afd);
    WAIT_FOR(k, &pt, s, find_conn(s, family, port, cport, 0) == NULL);
    assert_server_side_only(s, &pt);
    /* ... while the client's TIME_WAIT exists (local port cport, peer port
     * port), as /proc/net/tcp shows: it was left out by the filter */
    ck_assert_msg(proc_net_tcp_has(family, cport, port, SB_TCP_TIME_WAIT),
                  "no client-side TIME_WAIT %u -> %u in /proc/net/tcp%s",
                  (unsigned)cport, (unsigned)port, family == AF_INET6 ? "6" : "");

    /* --- FIN_WAIT2 of a socket httpd still holds: a full socket */
    cfd = connect_to(family, port, 0);
    cport = local_port(cfd);
    afd = accept(lfd, NULL, NULL);
    ck_assert_int_ge(afd, 0);
    ck_assert_int_eq(shutdown(afd, SHUT_WR), 0);
    WAIT_FOR(k, &pt, s, find_conn(s, family, port, cport, SB_TCP_FIN_WAIT2) != NULL);
    c = find_conn(s, family, port, cport, SB_TCP_FIN_WAIT2);
    ck_assert_int_eq(c->has_info, 1);
    ck_assert_uint_eq(c->inode, inode_of_fd(afd));
    close(afd);
    close(cfd);
    close(lfd);
}

START_TEST(test_close_states_v4)
{
    close_state_checks(AF_INET);
}
END_TEST

START_TEST(test_close_states_v6)
{
    close_state_checks(AF_INET6);
}
END_TEST

/* More clients than the accept queue holds: the queue tops out at
 * backlog + 1 and the host's ListenOverflows moves. */
START_TEST(test_listen_overflow)
{
    sb_kernel_t *k = open_kernel();
    sb_kernel_sample_t *s0, *s;
    sb_kernel_ports_t pt;
    uint16_t port;
    int lfd, cfd[6], i;

    lfd = make_listener(AF_INET, 1, &port);
    memset(&pt, 0, sizeof(pt));
    pt.nports = 1;
    pt.port[0] = port;
    ck_assert_int_eq(sb_kernel_sample(k, &pt, pool, &s0), APR_SUCCESS);
    ck_assert_msg(s0->have_netstat, "no counters: %s", sb_kernel_error(k));
    ck_assert_uint_ge(s0->listen_drops, s0->listen_overflows);

    for (i = 0; i < 6; i++) {
        cfd[i] = connect_to(AF_INET, port, 1);
    }
    WAIT_FOR(k, &pt, s, find_listen(s, AF_INET, port)->queued == 2
             && s->listen_overflows > s0->listen_overflows);
    ck_assert_uint_eq(find_listen(s, AF_INET, port)->backlog, 1);
    ck_assert_uint_ge(s->listen_drops - s0->listen_drops,
                      s->listen_overflows - s0->listen_overflows);
    ck_assert_uint_ge(s->passive_opens - s0->passive_opens, 2);
    ck_assert_int_ge(count_state(s, SB_TCP_ESTABLISHED), 2);
    assert_server_side_only(s, &pt);
    fprintf(stderr, "# overflow: queue %u/%u, ListenOverflows +%llu, ListenDrops +%llu, "
            "PassiveOpens +%llu\n", find_listen(s, AF_INET, port)->queued,
            find_listen(s, AF_INET, port)->backlog,
            (unsigned long long)(s->listen_overflows - s0->listen_overflows),
            (unsigned long long)(s->listen_drops - s0->listen_drops),
            (unsigned long long)(s->passive_opens - s0->passive_opens));
    for (i = 0; i < 6; i++) {
        close(cfd[i]);
    }
    close(lfd);
}
END_TEST

static pid_t read_pid_max(void)
{
    FILE *f = fopen("/proc/sys/kernel/pid_max", "r");
    long v = 0;

    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(fscanf(f, "%ld", &v), 1);
    fclose(f);
    return (pid_t)v;            /* pids are below pid_max */
}

START_TEST(test_ports_of_pid)
{
    sb_kernel_t *k = open_kernel();
    sb_kernel_ports_t out;
    uint16_t p4, p6 = 0, lo, hi;
    int l4, l6, c;
    apr_status_t rv;

    l4 = make_listener(AF_INET, 4, &p4);
    l6 = make_listener(AF_INET6, 4, &p6);
    /* a connected socket is not a listen port */
    c = connect_to(AF_INET, p4, 0);

    rv = sb_kernel_listen_ports_of_pid(k, getpid(), &out);
    ck_assert_msg(rv == APR_SUCCESS, "%s", sb_kernel_error(k));
    if (l6 >= 0) {
        lo = p4 < p6 ? p4 : p6;
        hi = p4 < p6 ? p6 : p4;
        ck_assert_int_eq(out.nports, 2);
        ck_assert_uint_eq(out.port[0], lo);
        ck_assert_uint_eq(out.port[1], hi);
        close(l6);
    }
    else {
        ck_assert_int_eq(out.nports, 1);
        ck_assert_uint_eq(out.port[0], p4);
    }
    close(c);
    close(l4);

    /* no listener left */
    rv = sb_kernel_listen_ports_of_pid(k, getpid(), &out);
    ck_assert_int_eq(rv, APR_ENOENT);
    ck_assert_int_eq(out.nports, 0);
    ck_assert_ptr_nonnull(strstr(sb_kernel_error(k), "no listening TCP socket"));

    /* no such process */
    rv = sb_kernel_listen_ports_of_pid(k, read_pid_max(), &out);
    ck_assert_int_eq(rv, APR_FROM_OS_ERROR(ESRCH));
    ck_assert_ptr_nonnull(strstr(sb_kernel_error(k), "no process"));
}
END_TEST


static void probe_ports(pid_t target, char *msg, apr_size_t len)
{
    sb_kernel_t *k;
    sb_kernel_ports_t out;
    apr_pool_t *cp;
    apr_status_t rv;

    apr_pool_create(&cp, NULL);
    if (sb_kernel_open(&k, cp) != APR_SUCCESS) {
        snprintf(msg, len, "-1 %s", sb_kernel_error(k));
        return;
    }
    rv = sb_kernel_listen_ports_of_pid(k, target, &out);
    snprintf(msg, len, "%d %s", rv, sb_kernel_error(k));
}

START_TEST(test_ports_of_pid_eacces)
{
    char msg[600], want[64];
    pid_t target;

    if (!sb_unit_probe_as_nobody(probe_ports, &target, msg, sizeof(msg))) {
        return;
    }
    ck_assert_msg(atoi(msg) == APR_EACCES, "expected EACCES, got: %s", msg);
    ck_assert_ptr_nonnull(strstr(msg, "CAP_SYS_PTRACE"));
    snprintf(want, sizeof(want), "process %d", (int)target);
    ck_assert_ptr_nonnull(strstr(msg, want));
}
END_TEST

/* ---------------------------------------------------------------- httpd */

/* A private httpd (Debian's apache2, prefork) on 127.0.0.1, started by the
 * unchecked fixture in the runner process and stopped by the last test and,
 * should that fail, by the fixture's teardown.  Only this httpd is ever
 * signalled: its parent by the pid file's pid, checked against our config
 * path in its command line. */
#define HTTPD_START_SERVERS 3
#define HTTPD_BACKLOG 37

static struct {
    int ok;
    char err[2048];
    char dir[256];
    char conf[300];
    pid_t parent;
    uint16_t port;
} httpd;

static const char *apache2_bin(void)
{
    const char *a = getenv("APACHE2");

    return a && *a ? a : "/usr/sbin/apache2";
}

static int file_contains(const char *path, const char *needle, apr_size_t nlen)
{
    char buf[4096];
    int fd = open(path, O_RDONLY);
    ssize_t n;
    apr_size_t i;

    if (fd < 0) {
        return 0;
    }
    n = read(fd, buf, sizeof(buf));
    close(fd);
    for (i = 0; n > 0 && i + nlen <= (apr_size_t)n; i++) {
        if (!memcmp(buf + i, needle, nlen)) {
            return 1;
        }
    }
    return 0;
}

/* pid is alive (not a zombie) and runs our config. */
static int httpd_alive(pid_t pid)
{
    char path[64], stat_line[256];
    int fd;
    ssize_t n;
    const char *p;

    if (pid <= 0) {
        return 0;
    }
    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    fd = open(path, O_RDONLY);
    if (fd < 0) {
        return 0;
    }
    n = read(fd, stat_line, sizeof(stat_line) - 1);
    close(fd);
    if (n <= 0) {
        return 0;
    }
    stat_line[n] = '\0';
    p = strrchr(stat_line, ')');
    if (!p || p[2] == 'Z') {
        return 0;
    }
    snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)pid);
    return file_contains(path, httpd.conf, strlen(httpd.conf));
}

static int run_apache2(const char *action)
{
    pid_t pid = fork();
    int status;

    if (pid < 0) {
        return -1;
    }
    if (pid == 0) {
        char log[300];
        int fd;
        snprintf(log, sizeof(log), "%s/startup.log", httpd.dir);
        fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
        }
        execl(apache2_bin(), "apache2", "-f", httpd.conf, "-k", action, (char *)NULL);
        _exit(127);
    }
    if (waitpid(pid, &status, 0) != pid) {
        return -1;
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void append_file(char *dst, apr_size_t cap, const char *path)
{
    char buf[600];
    int fd = open(path, O_RDONLY);
    ssize_t n;
    apr_size_t have = strlen(dst);

    if (fd < 0) {
        return;
    }
    n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    if (n > 0 && have + 8 < cap) {
        buf[n] = '\0';
        snprintf(dst + have, cap - have, "\n%s: %s", path, buf);
    }
}

static pid_t read_pidfile(void)
{
    char path[300], buf[32];
    int fd;
    ssize_t n;

    snprintf(path, sizeof(path), "%s/httpd.pid", httpd.dir);
    fd = open(path, O_RDONLY);
    if (fd < 0) {
        return 0;
    }
    n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    if (n <= 0) {
        return 0;
    }
    buf[n] = '\0';
    return (pid_t)atol(buf);
}

/* Every live process running our config (parent and children). */
static int our_processes(pid_t *pids, int max)
{
    DIR *d = opendir("/proc");
    struct dirent *de;
    int n = 0;

    if (!d) {
        return 0;
    }
    while ((de = readdir(d)) != NULL && n < max) {
        pid_t p = (pid_t)atol(de->d_name);
        if (p > 1 && httpd_alive(p)) {
            pids[n++] = p;
        }
    }
    closedir(d);
    return n;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    return remove(path);
}

static void httpd_start(void)
{
    const char *tmp = getenv("TMPDIR");
    const char *mods = getenv("SB_MODULES_DIR");
    char path[300];
    FILE *f;
    int attempt;

    memset(&httpd, 0, sizeof(httpd));
    if (!mods || !*mods) {
        mods = "/usr/lib/apache2/modules";
    }
    if (access(apache2_bin(), X_OK) != 0) {
        snprintf(httpd.err, sizeof(httpd.err), "apache2 not found: apt-get install "
                 "apache2 (APACHE2='%s')", apache2_bin());
        return;
    }
    snprintf(httpd.dir, sizeof(httpd.dir), "%s/sbtest-kernel.XXXXXX",
             tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(httpd.dir)) {
        snprintf(httpd.err, sizeof(httpd.err), "mkdtemp %s: %s", httpd.dir, strerror(errno));
        httpd.dir[0] = '\0';
        return;
    }
    chmod(httpd.dir, 0755);     /* the children run as nobody */
    snprintf(httpd.conf, sizeof(httpd.conf), "%s/httpd.conf", httpd.dir);
    snprintf(path, sizeof(path), "%s/index.html", httpd.dir);
    if ((f = fopen(path, "w")) != NULL) {
        fputs("<html><body>sbtune test_kernel</body></html>\n", f);
        fclose(f);
        chmod(path, 0644);
    }

    for (attempt = 0; attempt < 3; attempt++) {
        uint16_t port;
        int probe, i, rc;

        /* a free port: the kernel picks one, we release it for httpd */
        probe = socket(AF_INET, SOCK_STREAM, 0);
        {
            struct sockaddr_in a;
            socklen_t sl = sizeof(a);
            memset(&a, 0, sizeof(a));
            a.sin_family = AF_INET;
            a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
            if (probe < 0 || bind(probe, (struct sockaddr *)&a, sizeof(a)) != 0
                || getsockname(probe, (struct sockaddr *)&a, &sl) != 0) {
                snprintf(httpd.err, sizeof(httpd.err), "no free port: %s", strerror(errno));
                if (probe >= 0) {
                    close(probe);
                }
                return;
            }
            port = ntohs(a.sin_port);
            close(probe);
        }
        f = fopen(httpd.conf, "w");
        if (!f) {
            snprintf(httpd.err, sizeof(httpd.err), "cannot write %s", httpd.conf);
            return;
        }
        fprintf(f, "# written by tests/unit/test_kernel.c\n"
                "ServerRoot \"%s\"\nDefaultRuntimeDir \"%s\"\n"
                "PidFile \"%s/httpd.pid\"\nErrorLog \"%s/error.log\"\n"
                "Mutex file:%s default\nServerName 127.0.0.1\n"
                "Listen 127.0.0.1:%u\nListenBacklog %d\n"
                "User nobody\nGroup nogroup\n"
                "LoadModule mpm_prefork_module \"%s/mod_mpm_prefork.so\"\n"
                "LoadModule authz_core_module \"%s/mod_authz_core.so\"\n"
                "StartServers %d\nMinSpareServers 1\nMaxSpareServers %d\n"
                "ServerLimit 8\nMaxRequestWorkers 8\n"
                "KeepAlive On\nKeepAliveTimeout 30\n"
                "DocumentRoot \"%s\"\n<Directory />\n    Require all granted\n"
                "</Directory>\n",
                httpd.dir, httpd.dir, httpd.dir, httpd.dir, httpd.dir,
                (unsigned)port, HTTPD_BACKLOG, mods, mods, HTTPD_START_SERVERS,
                HTTPD_START_SERVERS + 2, httpd.dir);
        fclose(f);
        snprintf(path, sizeof(path), "%s/httpd.pid", httpd.dir);
        unlink(path);

        rc = run_apache2("start");
        for (i = 0; i < 1000 && rc == 0; i++) {
            pid_t pid = read_pidfile();
            if (pid > 0 && httpd_alive(pid)) {
                httpd.parent = pid;
                httpd.port = port;
                httpd.ok = 1;
                httpd.err[0] = '\0';
                return;
            }
            sleep_ms(10);
        }
        snprintf(httpd.err, sizeof(httpd.err), "apache2 -k start (exit %d) did not "
                 "leave a running httpd within 10 s", rc);
        snprintf(path, sizeof(path), "%s/error.log", httpd.dir);
        append_file(httpd.err, sizeof(httpd.err), path);
        snprintf(path, sizeof(path), "%s/startup.log", httpd.dir);
        append_file(httpd.err, sizeof(httpd.err), path);
        if (!strstr(httpd.err, "ould not bind") && !strstr(httpd.err, "in use")) {
            return;
        }
    }
}

/* Stop our httpd (if it runs) and wait until every process of it is gone;
 * 1 when none is left. */
static int httpd_stop(void)
{
    pid_t left[64];
    int i, n;

    if (httpd.parent > 0 && httpd_alive(httpd.parent)) {
        run_apache2("stop");
    }
    for (i = 0; i < 1000; i++) {
        if (!httpd_alive(httpd.parent) && our_processes(left, 64) == 0) {
            return 1;
        }
        sleep_ms(10);
    }
    /* still there after 10 s: kill what runs our config, by pid */
    n = our_processes(left, 64);
    for (i = 0; i < n; i++) {
        kill(left[i], SIGKILL);
    }
    return 0;
}

static void httpd_setup(void)
{
    httpd_start();
}

static void httpd_teardown(void)
{
    if (httpd.conf[0]) {
        httpd_stop();
    }
    if (httpd.dir[0]) {
        nftw(httpd.dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
    }
}

START_TEST(test_httpd_listen_ports)
{
    sb_kernel_t *k;
    sb_kernel_ports_t pt;
    sb_kernel_sample_t *s;
    apr_status_t rv;

    ck_assert_msg(httpd.ok, "httpd did not start: %s", httpd.err);
    k = open_kernel();
    rv = sb_kernel_listen_ports_of_pid(k, httpd.parent, &pt);
    ck_assert_msg(rv == APR_SUCCESS, "%s", sb_kernel_error(k));
    ck_assert_int_eq(pt.nports, 1);
    ck_assert_uint_eq(pt.port[0], httpd.port);
    ck_assert_int_eq(sb_kernel_sample(k, &pt, pool, &s), APR_SUCCESS);
    ck_assert_int_eq(s->nlisten, 1);
    ck_assert_uint_eq(s->listen[0].backlog, HTTPD_BACKLOG);
    ck_assert_uint_eq(s->listen[0].uid, (uint32_t)geteuid());
}
END_TEST

/* A keep-alive request to httpd: its server-side socket belongs to a child
 * (inode set, tcp_info counts the request and the response), the test's
 * client side is not reported. */
START_TEST(test_httpd_connection)
{
    sb_kernel_t *k;
    sb_kernel_ports_t pt;
    sb_kernel_sample_t *s;
    const sb_conn_t *c;
    static const char req[] = "GET /index.html HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
    char resp[4096];
    apr_size_t got = 0, want = 0;
    uint16_t cport;
    int fd;

    ck_assert_msg(httpd.ok, "httpd did not start: %s", httpd.err);
    k = open_kernel();
    memset(&pt, 0, sizeof(pt));
    pt.nports = 1;
    pt.port[0] = httpd.port;
    fd = connect_to(AF_INET, httpd.port, 0);
    cport = local_port(fd);
    write_all(fd, req, sizeof(req) - 1);
    /* read headers and the Content-Length body */
    while (!want || got < want) {
        ssize_t r = read(fd, resp + got, sizeof(resp) - 1 - got);
        char *eoh, *cl;
        ck_assert_int_gt(r, 0);
        got += (apr_size_t)r;
        resp[got] = '\0';
        eoh = strstr(resp, "\r\n\r\n");
        cl = strstr(resp, "Content-Length: ");
        if (eoh && cl) {
            want = (apr_size_t)(eoh + 4 - resp) + (apr_size_t)atol(cl + 16);
        }
        ck_assert_uint_lt(got, sizeof(resp) - 1);
    }
    ck_assert_ptr_nonnull(strstr(resp, "HTTP/1.1 200"));
    WAIT_FOR(k, &pt, s, (c = find_conn(s, AF_INET, httpd.port, cport, 0)) != NULL
             && c->bytes_acked == got);
    ck_assert_int_eq(c->state, SB_TCP_ESTABLISHED);
    ck_assert_int_eq(c->has_info, 1);
    ck_assert_uint_eq(c->bytes_received, sizeof(req) - 1);
    ck_assert_uint_ne(c->inode, 0);
    if (geteuid() == 0) {
        struct passwd *pw = getpwnam("nobody");
        ck_assert_ptr_nonnull(pw);
        /* the socket is accept()ed by a child, which runs as nobody */
        ck_assert_uint_eq(c->uid, (uint32_t)pw->pw_uid);
    }
    assert_server_side_only(s, &pt);
    ck_assert_int_eq(s->nconns, 1);
    close(fd);
}
END_TEST

START_TEST(test_httpd_children_memory)
{
    pid_t *kids = NULL;
    int n = 0, i, tries;
    sb_procmem_t pm, parent;
    apr_status_t rv;

    ck_assert_msg(httpd.ok, "httpd did not start: %s", httpd.err);
    for (tries = 0; tries < 1000; tries++) {
        ck_assert_int_eq(sb_procmem_children(httpd.parent, pool, &kids, &n), APR_SUCCESS);
        if (n >= HTTPD_START_SERVERS) {
            break;
        }
        sleep_ms(10);
    }
    ck_assert_int_ge(n, HTTPD_START_SERVERS);
    for (i = 0; i < n; i++) {
        char path[64];
        snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)kids[i]);
        ck_assert_msg(file_contains(path, httpd.conf, strlen(httpd.conf)),
                      "child %d does not run our config", (int)kids[i]);
    }
    rv = sb_procmem_read(httpd.parent, &parent);
    ck_assert_msg(rv == APR_SUCCESS, "%s", parent.error);
    for (i = 0; i < n; i++) {
        rv = sb_procmem_read(kids[i], &pm);
        if (rv == APR_FROM_OS_ERROR(ESRCH)) {
            continue;           /* a child may have been replaced meanwhile */
        }
        ck_assert_msg(rv == APR_SUCCESS, "%s", pm.error);
        ck_assert_uint_eq(pm.missing, 0);
        ck_assert_uint_gt(pm.pss, 0);
        /* siblings and the parent share most pages: PSS well below RSS */
        ck_assert_uint_lt(pm.pss, pm.rss);
        ck_assert_uint_lt(pm.pss * 2, pm.rss);
        ck_assert_uint_ge(pm.rss, pm.private_clean + pm.private_dirty);
        ck_assert_uint_eq(pm.rss, pm.private_clean + pm.private_dirty
                          + pm.shared_clean + pm.shared_dirty);
        fprintf(stderr, "# httpd child %d: RSS %llu kB, PSS %llu kB (anon %llu, file "
                "%llu, shmem %llu), private %llu kB; parent PSS %llu kB\n",
                (int)kids[i], (unsigned long long)(pm.rss >> 10),
                (unsigned long long)(pm.pss >> 10), (unsigned long long)(pm.pss_anon >> 10),
                (unsigned long long)(pm.pss_file >> 10),
                (unsigned long long)(pm.pss_shmem >> 10),
                (unsigned long long)((pm.private_clean + pm.private_dirty) >> 10),
                (unsigned long long)(parent.pss >> 10));
    }
}
END_TEST

/* Runs last in its case: httpd -k stop leaves no process behind. */
START_TEST(test_httpd_stop)
{
    ck_assert_msg(httpd.ok, "httpd did not start: %s", httpd.err);
    ck_assert_msg(httpd_stop(), "httpd (parent %d) still runs 10 s after -k stop",
                  (int)httpd.parent);
}
END_TEST

/* ---------------------------------------------------------------- decoder */

/* The watched port of a captured dump: the local port of its first
 * message (tests/data/sockdiag-*: see tests/data/README.md). */
static sb_kernel_ports_t capture_port(const char *buf, apr_size_t len)
{
    sb_kernel_ports_t ports;
    uint16_t sport;

    ck_assert_uint_ge(len, 22);
    memcpy(&sport, buf + 20, 2);
    memset(&ports, 0, sizeof(ports));
    ports.nports = 1;
    ports.port[0] = ntohs(sport);
    return ports;
}

/* The real datagrams of a LISTEN dump and of a connections dump against
 * httpd (tests/fuzz/capture-seeds.sh) through the decoder of
 * sb_kernel_sample(). */
START_TEST(test_decode_dump_real)
{
    apr_size_t len, len2;
    const char *b = sb_unit_load(pool, "sockdiag-listen-prefork.0", &len);
    const char *done_dg = sb_unit_load(pool, "sockdiag-listen-prefork.1", &len2);
    sb_kernel_ports_t ports = capture_port(b, len), other;
    sb_kernel_sample_t *s;
    char err[512], addr[64];
    /* what capture-seeds.sh sent on its two open connections */
    const char *keepalive = "GET /?keepalive HTTP/1.1\r\nHost: seed.example\r\n\r\n";
    const char *never = "GET /never-ends HTTP/1.1\r\nHost: seed.example\r\nX-A: ";
    int done, i, est = 0, tw = 0, saw_ka = 0, saw_never = 0;

    ck_assert_int_eq(sb_kernel_decode_dump(b, len, AF_INET, 1, &ports, pool, &s, &done,
                                           err, sizeof(err)), APR_SUCCESS);
    ck_assert_int_eq(done, 0);
    ck_assert_int_eq(s->nlisten, 1);
    ck_assert_int_eq(s->nconns, 0);
    ck_assert_int_eq(s->listen[0].family, AF_INET);
    ck_assert_uint_eq(s->listen[0].port, ports.port[0]);
    ck_assert_str_eq(sb_kernel_addr_str(AF_INET, s->listen[0].addr, addr, sizeof(addr)),
                     "127.0.0.1");
    ck_assert_uint_gt(s->listen[0].backlog, 0);
    ck_assert_uint_gt(s->listen[0].inode, 0);
    ck_assert_int_eq(sb_kernel_decode_dump(done_dg, len2, AF_INET, 1, &ports, pool, &s, &done,
                                           err, sizeof(err)), APR_SUCCESS);
    ck_assert_int_eq(done, 1);
    ck_assert_int_eq(s->nlisten + s->nconns, 0);

    /* another dump's sequence number, another port: nothing of it is taken */
    ck_assert_int_eq(sb_kernel_decode_dump(b, len, AF_INET, 2, &ports, pool, &s, &done,
                                           err, sizeof(err)), APR_SUCCESS);
    ck_assert_int_eq(s->nlisten, 0);
    other = ports;
    other.port[0] = (uint16_t)(ports.port[0] + 1);
    ck_assert_int_eq(sb_kernel_decode_dump(b, len, AF_INET, 1, &other, pool, &s, &done,
                                           err, sizeof(err)), APR_SUCCESS);
    ck_assert_int_eq(s->nlisten, 0);

    b = sb_unit_load(pool, "sockdiag-conns-prefork.0", &len);
    ck_assert_int_eq(sb_kernel_decode_dump(b, len, AF_INET, 1, &ports, pool, &s, &done,
                                           err, sizeof(err)), APR_SUCCESS);
    ck_assert_int_eq(done, 0);
    ck_assert_int_eq(s->nlisten, 0);
    for (i = 0; i < s->nconns; i++) {
        const sb_conn_t *c = &s->conns[i];
        ck_assert_uint_eq(c->lport, ports.port[0]);
        if (c->state == SB_TCP_ESTABLISHED) {
            est++;
            ck_assert_int_eq(c->has_info, 1);
            ck_assert_uint_gt(c->inode, 0);
            saw_ka |= c->bytes_received == strlen(keepalive) && c->bytes_acked > 0;
            saw_never |= c->bytes_received == strlen(never) && c->bytes_acked == 0;
        }
        else if (c->state == SB_TCP_TIME_WAIT) {
            tw++;
            ck_assert_int_eq(c->has_info, 0);
            ck_assert_uint_eq(c->inode, 0);
            ck_assert_int_eq(c->timer, 3);
        }
    }
    ck_assert_int_eq(est, 2);
    ck_assert_int_eq(tw + est, s->nconns);
    ck_assert_msg(saw_ka && saw_never, "the keep-alive connection (%d) or the unfinished "
                  "request (%d) is missing", saw_ka, saw_never);
}
END_TEST

/* An NLMSG_ERROR datagram with error e; returns its length. */
static apr_size_t error_datagram(char *buf, int e, uint32_t seq)
{
    struct nlmsghdr *h = (struct nlmsghdr *)(void *)buf;
    struct nlmsgerr *ne = NLMSG_DATA(h);

    memset(buf, 0, NLMSG_SPACE(sizeof(*ne)));
    h->nlmsg_len = NLMSG_LENGTH(sizeof(*ne));
    h->nlmsg_type = NLMSG_ERROR;
    h->nlmsg_seq = seq;
    ne->error = e;
    return NLMSG_SPACE(sizeof(*ne));
}

/* The kernel's errors, an ack, and a garbled error number (fuzz_netlink
 * found -INT_MIN: undefined behaviour; tests/fuzz/regress/netlink). */
START_TEST(test_decode_dump_errors)
{
    union {
        struct nlmsghdr h;
        char b[256];
    } dg;
    sb_kernel_ports_t ports;
    sb_kernel_sample_t *s;
    char err[512];
    int done;
    apr_size_t n;

    memset(&ports, 0, sizeof(ports));
    ports.nports = 1;
    ports.port[0] = 80;
    n = error_datagram(dg.b, 0, 7);
    ck_assert_int_eq(sb_kernel_decode_dump(dg.b, n, AF_INET, 7, &ports, pool, &s, &done,
                                           err, sizeof(err)), APR_SUCCESS);
    n = error_datagram(dg.b, -ENOENT, 7);
    ck_assert_int_eq(sb_kernel_decode_dump(dg.b, n, AF_INET6, 7, &ports, pool, &s, &done,
                                           err, sizeof(err)), APR_ENOTIMPL);
    ck_assert_ptr_null(s);
    ck_assert_ptr_nonnull(strstr(err, "not available for IPv6 TCP"));
    n = error_datagram(dg.b, -EPERM, 7);
    ck_assert_int_eq(sb_kernel_decode_dump(dg.b, n, AF_INET, 7, &ports, pool, &s, &done,
                                           err, sizeof(err)), APR_FROM_OS_ERROR(EPERM));
    ck_assert_ptr_nonnull(strstr(err, "refused the IPv4 dump"));
    /* garbled: no negative errno */
    n = error_datagram(dg.b, INT_MIN, 7);
    ck_assert_int_eq(sb_kernel_decode_dump(dg.b, n, AF_INET, 7, &ports, pool, &s, &done,
                                           err, sizeof(err)), APR_FROM_OS_ERROR(EPROTO));
    n = error_datagram(dg.b, 5, 7);
    ck_assert_int_eq(sb_kernel_decode_dump(dg.b, n, AF_INET, 7, &ports, pool, &s, &done,
                                           err, sizeof(err)), APR_FROM_OS_ERROR(EPROTO));
    /* cut short of its nlmsgerr */
    n = error_datagram(dg.b, -EPERM, 7);
    dg.h.nlmsg_len = NLMSG_LENGTH(2);
    ck_assert_int_eq(sb_kernel_decode_dump(dg.b, n, AF_INET, 7, &ports, pool, &s, &done,
                                           err, sizeof(err)), APR_FROM_OS_ERROR(EPROTO));
    /* another dump's error is not this one's */
    n = error_datagram(dg.b, -EPERM, 6);
    ck_assert_int_eq(sb_kernel_decode_dump(dg.b, n, AF_INET, 7, &ports, pool, &s, &done,
                                           err, sizeof(err)), APR_SUCCESS);
}
END_TEST

/* ---------------------------------------------------------------- main */

static Suite *kernel_suite(void)
{
    Suite *s = suite_create("kernel");
    TCase *tc;

    tc = tcase_create("parse");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_netstat_real);
    tcase_add_test(tc, test_snmp_real);
    tcase_add_test(tc, test_counters_truncated);
    tcase_add_test(tc, test_counters_malformed);
    tcase_add_test(tc, test_tuple_key);
    tcase_add_test(tc, test_decode_dump_real);
    tcase_add_test(tc, test_decode_dump_errors);
    suite_add_tcase(s, tc);

    tc = tcase_create("sock_diag");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, test_bad_arguments);
    tcase_add_test(tc, test_port_filter);
    tcase_add_test(tc, test_accept_queue_v4);
    tcase_add_test(tc, test_accept_queue_v6);
    tcase_add_test(tc, test_close_states_v4);
    tcase_add_test(tc, test_close_states_v6);
    tcase_add_test(tc, test_listen_overflow);
    tcase_add_test(tc, test_ports_of_pid);
    tcase_add_test(tc, test_ports_of_pid_eacces);
    suite_add_tcase(s, tc);

    tc = tcase_create("httpd");
    tcase_add_unchecked_fixture(tc, httpd_setup, httpd_teardown);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, test_httpd_listen_ports);
    tcase_add_test(tc, test_httpd_connection);
    tcase_add_test(tc, test_httpd_children_memory);
    tcase_add_test(tc, test_httpd_stop);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return sb_unit_run(kernel_suite());
}
