/*
 * test_bpf.c - sb_bpf where it can run anywhere: the build flag, the
 * error a build without the BPF source or a kernel without BTF gives, the
 * port-set bounds, close on a failed handle and twice.  Where the source
 * is built and this runs as root on a kernel with BTF it also loads it,
 * counts one loopback connection on a watched port and none on a port no
 * longer watched, resets by either side, and checks that user nobody gets APR_EACCES saying
 * which capabilities are missing, without leaking a descriptor per try.
 */
#include "config.h"

#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <check.h>
#include "sb_unit.h"
#include <apr_general.h>
#include <apr_pools.h>
#include <apr_strings.h>

#include "sb_bpf.h"

static apr_pool_t *pool;

static void setup(void)
{
    apr_pool_create(&pool, NULL);
}

static void teardown(void)
{
    apr_pool_destroy(pool);
}

/* Whether this process should be able to load the program. */
static int can_load(void)
{
    return sb_bpf_built() && geteuid() == 0 && access("/sys/kernel/btf/vmlinux", R_OK) == 0;
}

static int count_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    struct dirent *e;
    int n = 0;

    if (!d) {
        return -1;
    }
    while ((e = readdir(d)) != NULL) {
        n += e->d_name[0] != '.';
    }
    closedir(d);
    return n;
}

START_TEST(built_matches_config)
{
    ck_assert_int_eq(sb_bpf_built(), SB_HAVE_BPF ? 1 : 0);
}
END_TEST

START_TEST(open_says_why)
{
    sb_bpf_t *b = NULL;
    apr_status_t st = sb_bpf_open(&b, pool);
    const char *err;

    ck_assert_ptr_nonnull(b);
    err = sb_bpf_error(b);
    if (!sb_bpf_built()) {
        ck_assert_int_eq(st, APR_ENOTIMPL);
        ck_assert_ptr_nonnull(strstr(err, "built without the BPF source"));
    }
    else if (access("/sys/kernel/btf/vmlinux", R_OK) != 0) {
        ck_assert_int_eq(st, APR_ENOTIMPL);
        ck_assert_ptr_nonnull(strstr(err, "no BTF"));
    }
    else if (geteuid() == 0) {
        ck_assert_msg(st == APR_SUCCESS, "root could not load the BPF source: %s", err);
        ck_assert_str_eq(err, "");
    }
    else {
        ck_assert_msg(st == APR_EACCES, "not root: status %d (%s)", st, err);
        ck_assert_ptr_nonnull(strstr(err, "CAP_BPF"));
    }
    if (st != APR_SUCCESS) {
        sb_bpf_counts_t c;

        ck_assert_int_ne(err[0], '\0');
        ck_assert_int_eq(sb_bpf_poll(b, &c, NULL, NULL), st);
        ck_assert_uint_eq(c.arrivals, 0);
    }
    sb_bpf_close(b);
    sb_bpf_close(b);
}
END_TEST

START_TEST(set_ports_bounds)
{
    sb_bpf_t *b;
    apr_status_t st = sb_bpf_open(&b, pool);
    sb_kernel_ports_t ports;
    int i;

    memset(&ports, 0, sizeof(ports));
    ck_assert_int_eq(sb_bpf_set_ports(b, &ports), APR_EINVAL);
    ports.nports = SB_KERNEL_MAX_PORTS + 1;
    ck_assert_int_eq(sb_bpf_set_ports(b, &ports), APR_EINVAL);
    ports.nports = -1;
    ck_assert_int_eq(sb_bpf_set_ports(b, &ports), APR_EINVAL);
    ports.nports = 2;
    ports.port[0] = 80;
    ports.port[1] = 0;
    ck_assert_int_eq(sb_bpf_set_ports(b, &ports), APR_EINVAL);
    ck_assert_int_eq(sb_bpf_set_ports(b, NULL), APR_EINVAL);

    ports.nports = SB_KERNEL_MAX_PORTS;
    for (i = 0; i < SB_KERNEL_MAX_PORTS; i++) {
        ports.port[i] = (uint16_t)(1 + i);
    }
    ck_assert_int_eq(sb_bpf_set_ports(b, &ports), st);
    ports.nports = 1;
    ports.port[0] = 9;
    ck_assert_int_eq(sb_bpf_set_ports(b, &ports), st);
    sb_bpf_close(b);
}
END_TEST

/* A loopback listener on an ephemeral port: its port in *port. */
static int listener(uint16_t *port)
{
    struct sockaddr_in a;
    socklen_t len = sizeof(a);
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    ck_assert_int_ge(fd, 0);
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ck_assert_int_eq(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    ck_assert_int_eq(listen(fd, 8), 0);
    ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    *port = ntohs(a.sin_port);
    return fd;
}

/* Connect to port, accept, and close: the client first, or one side with
 * a reset (SO_LINGER 0) when rst_by is 'c' or 's'. */
static void one_conn(int lfd, uint16_t port, int rst_by)
{
    struct sockaddr_in a;
    struct linger lg = { 1, 0 };
    int c = socket(AF_INET, SOCK_STREAM, 0), s;

    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(port);
    ck_assert_int_eq(connect(c, (struct sockaddr *)&a, sizeof(a)), 0);
    s = accept(lfd, NULL, NULL);
    ck_assert_int_ge(s, 0);
    if (rst_by) {
        ck_assert_int_eq(setsockopt(rst_by == 'c' ? c : s, SOL_SOCKET, SO_LINGER, &lg,
                                    sizeof(lg)), 0);
    }
    if (rst_by == 's') {
        close(s);
        close(c);
    }
    else {
        close(c);
        close(s);
    }
}

static void one_client_close(int lfd, uint16_t port)
{
    one_conn(lfd, port, 0);
}

typedef struct {
    int n;
    sb_bpf_closer_t closer;
    uint16_t port;
} closes_t;

static void on_close(void *baton, double lifetime_s, sb_bpf_closer_t closer, uint16_t port)
{
    closes_t *cl = baton;

    ck_assert_int_eq(closer, cl->closer);
    ck_assert_int_eq(port, cl->port);
    ck_assert(lifetime_s >= 0 && lifetime_s < 5);
    cl->n++;
}

/* Poll until the counts show want closes (2 s at most). */
static void poll_until(sb_bpf_t *b, sb_bpf_counts_t *c, uint64_t want, closes_t *cl)
{
    struct timespec tick = { 0, 10 * 1000 * 1000 };
    int i;

    for (i = 0; i < 200; i++) {
        ck_assert_int_eq(sb_bpf_poll(b, c, on_close, cl), APR_SUCCESS);
        if (c->closed_server + c->closed_client + c->closed_reset >= want
            && (uint64_t)cl->n >= want) {
            return;
        }
        nanosleep(&tick, NULL);
    }
}

START_TEST(counts_a_watched_port_only)
{
    sb_bpf_t *b;
    sb_bpf_counts_t c;
    sb_kernel_ports_t ports = { 0 };
    uint16_t p1, p2;
    int l1, l2;
    closes_t cl = { 0, SB_BPF_CLOSED_CLIENT, 0 };

    if (!can_load()) {
        fprintf(stderr, "# counts_a_watched_port_only: needs the BPF source, root and BTF\n");
        return;
    }
    ck_assert_int_eq(sb_bpf_open(&b, pool), APR_SUCCESS);
    l1 = listener(&p1);
    l2 = listener(&p2);
    ports.nports = 1;
    ports.port[0] = p1;
    ck_assert_int_eq(sb_bpf_set_ports(b, &ports), APR_SUCCESS);
    cl.port = p1;
    one_client_close(l1, p1);
    one_client_close(l2, p2);
    poll_until(b, &c, 1, &cl);
    ck_assert_uint_eq(c.arrivals, 1);
    ck_assert_uint_eq(c.closed_client, 1);
    ck_assert_uint_eq(c.closed_server + c.closed_reset + c.untracked + c.lost, 0);
    ck_assert_int_eq(cl.n, 1);

    /* replaced: p2 only */
    ports.port[0] = p2;
    ck_assert_int_eq(sb_bpf_set_ports(b, &ports), APR_SUCCESS);
    cl.port = p2;
    one_client_close(l1, p1);
    one_client_close(l2, p2);
    poll_until(b, &c, 2, &cl);
    ck_assert_uint_eq(c.arrivals, 2);
    ck_assert_uint_eq(c.closed_client, 2);
    ck_assert_int_eq(cl.n, 2);

    /* resets, by the client and by the server (the kernel has released
     * the local port when the socket reaches CLOSE) */
    cl.closer = SB_BPF_CLOSED_RESET;
    one_conn(l2, p2, 'c');
    poll_until(b, &c, 3, &cl);
    ck_assert_uint_eq(c.closed_reset, 1);
    one_conn(l2, p2, 's');
    poll_until(b, &c, 4, &cl);
    ck_assert_uint_eq(c.arrivals, 4);
    ck_assert_uint_eq(c.closed_reset, 2);
    ck_assert_uint_eq(c.closed_client, 2);
    ck_assert_uint_eq(c.closed_server + c.untracked + c.lost, 0);
    ck_assert_int_eq(cl.n, 4);
    close(l1);
    close(l2);
    sb_bpf_close(b);
    ck_assert_int_eq(sb_bpf_poll(b, &c, NULL, NULL) == APR_SUCCESS, 0);
    sb_bpf_close(b);
}
END_TEST

/* As nobody: 20 failing opens, each in a pool cleared after it. */
static void open_as_nobody(pid_t target, char *msg, apr_size_t len)
{
    apr_pool_t *p;
    sb_bpf_t *b;
    apr_status_t st = APR_SUCCESS;
    int before, after, i;
    char err[400] = "";

    apr_pool_create(&p, NULL);
    before = count_fds();
    for (i = 0; i < 20; i++) {
        st = sb_bpf_open(&b, p);
        apr_cpystrn(err, sb_bpf_error(b), sizeof(err));
        apr_pool_clear(p);
    }
    after = count_fds();
    apr_pool_destroy(p);
    apr_snprintf(msg, len, "%d %d %d %s", st, before, after, err);
}

START_TEST(nobody_gets_eacces)
{
    char msg[600];
    pid_t target;
    int st = 0, before = 0, after = 0, used = 0;

    if (!can_load()) {
        fprintf(stderr, "# nobody_gets_eacces: needs the BPF source, root and BTF\n");
        return;
    }
    if (!sb_unit_probe_as_nobody(open_as_nobody, &target, msg, sizeof(msg))) {
        return;
    }
    ck_assert_int_eq(sscanf(msg, "%d %d %d %n", &st, &before, &after, &used), 3);
    ck_assert_msg(st == APR_EACCES, "nobody: status %d: %s", st, msg + used);
    ck_assert_msg(strstr(msg + used, "needs root or CAP_BPF and CAP_PERFMON") != NULL,
                  "nobody: %s", msg + used);
    ck_assert_int_eq(before, after);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("bpf");
    TCase *tc = tcase_create("bpf");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, built_matches_config);
    tcase_add_test(tc, open_says_why);
    tcase_add_test(tc, set_ports_bounds);
    tcase_add_test(tc, counts_a_watched_port_only);
    tcase_add_test(tc, nobody_gets_eacces);
    suite_add_tcase(s, tc);
    return sb_unit_run(s);
}
