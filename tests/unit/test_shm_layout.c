/*
 * Unit tests of the shared-memory source on real APR segments made here:
 * the layout arithmetic, the size validation, decoding, the read-only
 * descriptor and mapping, a truncation caught during the decode (and a
 * foreign SIGBUS not caught), the detection of a replaced segment, and the trust rules: a
 * segment is httpd's only when a live parent that maps it has live
 * children named in it, and its owner and mode are safe.  A fake httpd
 * here is a parent process that inherits the test's mapping and a child
 * of it whose pid goes into process slot 0.
 */
#include <check.h>
#include "sb_unit.h"
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <apr_general.h>
#include <apr_shm.h>
#include <apr_strings.h>
#include <httpd.h>
#include <scoreboard.h>

#include "sb_shm.h"

static apr_pool_t *pool;
static char path[256];
static pid_t fake_parent, fake_child;

static void reap(pid_t *pid)
{
    if (*pid > 0) {
        kill(*pid, SIGKILL);
        waitpid(*pid, NULL, 0);     /* only our own child can be reaped */
        *pid = 0;
    }
}


static void setup(void)
{
    apr_pool_create(&pool, NULL);
    snprintf(path, sizeof(path), "%s/sbtest-shm-%ld-%d",
             getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp", (long)getpid(), rand());
}

static void teardown(void)
{
    if (fake_child > 0) {
        kill(fake_child, SIGKILL);  /* the parent's child: reaped by it or init */
        fake_child = 0;
    }
    reap(&fake_parent);
    apr_shm_remove(path, pool);
    apr_pool_destroy(pool);
}

static void fake_httpd(apr_shm_t *shm);

/* A segment laid out like httpd's, with the given limits and total size. */
static apr_shm_t *make_segment(int server_limit, int thread_limit, apr_size_t size)
{
    apr_shm_t *shm;
    char *base;
    global_score *g;

    ck_assert_int_eq(apr_shm_create(&shm, size, path, pool), APR_SUCCESS);
    base = apr_shm_baseaddr_get(shm);
    memset(base, 0, size);
    g = (global_score *)base;
    g->server_limit = server_limit;
    g->thread_limit = thread_limit;
    g->running_generation = 3;
    g->restart_time = apr_time_now() - apr_time_from_sec(100);
    if (server_limit >= 1 && thread_limit >= 1
        && size >= sb_shm_layout_size(server_limit, thread_limit)) {
        fake_httpd(shm);
    }
    return shm;
}

static worker_score *worker_at(apr_shm_t *shm, int sl, int tl, int i, int j)
{
    apr_size_t gs, ps, ws;
    char *base = apr_shm_baseaddr_get(shm);
    sb_shm_record_sizes(&gs, &ps, &ws);
    return (worker_score *)(base + gs + ps * (apr_size_t)sl
                            + ws * ((apr_size_t)i * (apr_size_t)tl + (apr_size_t)j));
}

static process_score *process_at(apr_shm_t *shm, int i)
{
    apr_size_t gs, ps, ws;
    char *base = apr_shm_baseaddr_get(shm);
    sb_shm_record_sizes(&gs, &ps, &ws);
    return (process_score *)(base + gs + ps * (apr_size_t)i);
}

/* A fake httpd for the segment: a parent (which inherits this process's
 * mapping) and its child, whose pid it writes into process slot 0. */
static void fake_httpd(apr_shm_t *shm)
{
    volatile pid_t *slot = &process_at(shm, 0)->pid;
    int i;

    if (fake_child > 0) {
        kill(fake_child, SIGKILL);
        fake_child = 0;
    }
    reap(&fake_parent);
    *slot = 0;
    fake_parent = fork();
    ck_assert_int_ge(fake_parent, 0);
    if (fake_parent == 0) {
        pid_t c = fork();
        if (c == 0) {
            for (;;) {
                pause();
            }
        }
        *slot = c;
        for (;;) {
            pause();
        }
    }
    for (i = 0; i < 5000 && *slot == 0; i++) {
        usleep(1000);
    }
    ck_assert_int_gt(*slot, 0);
    fake_child = *slot;
}

/* The object APR made for path, opened read-write (to forge it). */
static int object_fd(sb_shm_t *h)
{
    int fd = open(sb_shm_object(h), O_RDWR);
    ck_assert_msg(fd >= 0, "open %s: %s", sb_shm_object(h), strerror(errno));
    return fd;
}

START_TEST(layout_matches_debian_2_4_71)
{
    apr_size_t g, p, w;
    sb_shm_record_sizes(&g, &p, &w);
    /* HTTPD-FACTS.md: sizes seen on Debian amd64 2.4.71 */
    ck_assert_uint_eq(g, 56);
    ck_assert_uint_eq(p, 40);
    ck_assert_uint_eq(w, 336);
    /* segments measured on live httpds: prefork ServerLimit 20; event 4 x 64 */
    ck_assert_uint_eq(sb_shm_layout_size(20, 1), 7576);
    ck_assert_uint_eq(sb_shm_layout_size(4, 64), 86232);
    ck_assert_uint_eq(g % 8 + p % 8 + w % 8, 0);
}
END_TEST

START_TEST(wrong_size_is_refused_with_both_sizes)
{
    sb_shm_t *h;
    apr_size_t right = sb_shm_layout_size(2, 3);
    apr_shm_t *shm = make_segment(2, 3, right + 8);
    char want[64];

    ck_assert_int_eq(sb_shm_open(&h, path, pool), SB_SHM_EBADSIZE);
    snprintf(want, sizeof(want), "has %lu bytes", (unsigned long)(right + 8));
    ck_assert_msg(strstr(sb_shm_error(h), want), "message: %s", sb_shm_error(h));
    snprintf(want, sizeof(want), "needs %lu", (unsigned long)right);
    ck_assert_msg(strstr(sb_shm_error(h), want), "message: %s", sb_shm_error(h));
    ck_assert_ptr_nonnull(strstr(sb_shm_error(h), sb_shm_build_version()));
    ck_assert_ptr_nonnull(strstr(sb_shm_error(h), path));
    apr_shm_destroy(shm);
}
END_TEST

START_TEST(garbage_limits_are_refused)
{
    sb_shm_t *h;
    apr_shm_t *shm = make_segment(-5, 0, 4096);

    ck_assert_int_eq(sb_shm_open(&h, path, pool), SB_SHM_EBADSIZE);
    ck_assert_ptr_nonnull(strstr(sb_shm_error(h), "out of range"));
    apr_shm_destroy(shm);
}
END_TEST

START_TEST(tiny_segment_is_refused)
{
    sb_shm_t *h;
    apr_shm_t *shm;

    ck_assert_int_eq(apr_shm_create(&shm, 16, path, pool), APR_SUCCESS);
    ck_assert_int_eq(sb_shm_open(&h, path, pool), SB_SHM_EBADSIZE);
    ck_assert_ptr_nonnull(strstr(sb_shm_error(h), "too small"));
    apr_shm_destroy(shm);
}
END_TEST

START_TEST(missing_segment_explains_scoreboardfile)
{
    sb_shm_t *h;
    ck_assert_int_eq(sb_shm_open(&h, path, pool), APR_ENOENT);
    ck_assert_ptr_nonnull(strstr(sb_shm_error(h), "ScoreBoardFile"));
    ck_assert_ptr_nonnull(strstr(sb_shm_error(h), path));
}
END_TEST

START_TEST(decode_counts_states_like_mod_status)
{
    const int sl = 2, tl = 3;
    apr_shm_t *shm = make_segment(sl, tl, sb_shm_layout_size(sl, tl));
    sb_shm_t *h;
    sb_sample_t *s;
    worker_score *w;

    process_at(shm, 0)->generation = 3;
    process_at(shm, 1)->pid = fake_child;
    process_at(shm, 1)->generation = 3;
    process_at(shm, 1)->quiescing = 1;      /* its slots count in no total */
    process_at(shm, 1)->keep_alive = 7;
    worker_at(shm, sl, tl, 0, 0)->status = SERVER_READY;
    worker_at(shm, sl, tl, 0, 0)->last_used = apr_time_now();
    worker_at(shm, sl, tl, 0, 1)->status = SERVER_BUSY_KEEPALIVE;
    w = worker_at(shm, sl, tl, 0, 2);
    w->status = SERVER_BUSY_WRITE;
    w->access_count = 41;
    w->conn_count = 2;
    w->bytes_served = 4096;
    memcpy(w->request, "GET /x HTTP/1.1", 16);
    memset(w->client64, 'c', sizeof(w->client64));  /* not NUL-terminated */
    worker_at(shm, sl, tl, 1, 0)->status = SERVER_BUSY_WRITE;
    worker_at(shm, sl, tl, 1, 0)->access_count = 1;
    worker_at(shm, sl, tl, 1, 1)->status = SERVER_GRACEFUL;

    ck_assert_int_eq(sb_shm_open(&h, path, pool), APR_SUCCESS);
    ck_assert_int_eq(sb_shm_sample(h, pool, &s), APR_SUCCESS);
    ck_assert_int_eq(s->source, SB_SOURCE_SHM);
    ck_assert_int_eq(s->server.server_limit, 2);
    ck_assert_int_eq(s->server.thread_limit, 3);
    ck_assert_int_eq(s->server.generation, 3);
    ck_assert_int_ge(s->server.uptime_s, 99);
    ck_assert_int_eq(s->nworkers, 6);
    ck_assert_uint_eq(s->slots[SB_SLOT_READY], 1);
    ck_assert_uint_eq(s->slots[SB_SLOT_KEEPALIVE], 1);
    ck_assert_uint_eq(s->slots[SB_SLOT_WRITE], 2);
    ck_assert_uint_eq(s->slots[SB_SLOT_GRACEFUL], 1);
    ck_assert_uint_eq(s->slots[SB_SLOT_DEAD], 1);
    ck_assert_uint_eq(s->busy, 2);          /* K + W of the live child only */
    ck_assert_uint_eq(s->idle, 1);
    ck_assert_uint_eq(s->graceful_busy, 0);
    ck_assert_uint_eq(s->total_accesses, 42);
    ck_assert_int_eq(s->extended_status, 1);
    ck_assert_str_eq(s->workers[2].request, "GET /x HTTP/1.1");
    ck_assert_uint_eq(strlen(s->workers[2].client), sizeof(s->workers[2].client) - 1);
    ck_assert_uint_eq(s->workers[2].conn_count, 2);
    ck_assert_int_eq(s->workers[4].proc, 1);
    ck_assert_int_eq(s->workers[4].thread, 1);
    ck_assert_uint_eq(s->procs[1].keep_alive, 7);
    ck_assert_int_eq(s->procs[1].quiescing, 1);
    sb_shm_close(h);
    apr_shm_destroy(shm);
}
END_TEST

START_TEST(extended_status_off_is_detected)
{
    apr_shm_t *shm = make_segment(1, 2, sb_shm_layout_size(1, 2));
    sb_shm_t *h;
    sb_sample_t *s;

    worker_at(shm, 1, 2, 0, 0)->status = SERVER_READY;
    worker_at(shm, 1, 2, 0, 1)->status = SERVER_READY;
    ck_assert_int_eq(sb_shm_open(&h, path, pool), APR_SUCCESS);
    ck_assert_int_eq(sb_shm_sample(h, pool, &s), APR_SUCCESS);
    ck_assert_int_eq(s->extended_status, 0);
    sb_shm_close(h);
    apr_shm_destroy(shm);
}
END_TEST

/* Whether a write to addr kills a child of this process with SIGSEGV
 * (and leaves the byte as it was). */
static int write_faults(const volatile char *addr)
{
    char before = *addr;
    int status;
    pid_t c = fork();

    ck_assert_int_ge(c, 0);
    if (c == 0) {
        signal(SIGSEGV, SIG_DFL);   /* a sanitizer's handler would exit instead */
        *(volatile char *)addr = (char)(before + 1);
        _exit(0);
    }
    ck_assert_int_eq(waitpid(c, &status, 0), c);
    return WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV && *addr == before;
}

START_TEST(descriptor_and_mapping_are_read_only)
{
    apr_shm_t *shm = make_segment(1, 1, sb_shm_layout_size(1, 1));
    sb_shm_t *h;
    const char *map;
    apr_size_t len, pg = (apr_size_t)sysconf(_SC_PAGESIZE);
    char c = 0, line[512], want[32];
    FILE *f;
    int found = 0;

    ck_assert_int_eq(sb_shm_open(&h, path, pool), APR_SUCCESS);
    ck_assert_int_ge(sb_shm_fd(h), 0);
    ck_assert_int_eq(fcntl(sb_shm_fd(h), F_GETFL) & O_ACCMODE, O_RDONLY);
    ck_assert_int_eq(write(sb_shm_fd(h), &c, 1), -1);
    ck_assert_int_eq(errno, EBADF);
    ck_assert_int_eq(sb_shm_parent(h), fake_parent);
    /* the mapping: shared, read-only, and the kernel refuses to make it
     * writable (the descriptor under it is O_RDONLY) */
    map = sb_shm_mapping(h, &len);
    ck_assert_ptr_nonnull(map);
    ck_assert_uint_eq(len, 8 + sb_shm_layout_size(1, 1));
    snprintf(want, sizeof(want), "%lx-", (unsigned long)map);
    ck_assert_ptr_nonnull(f = fopen("/proc/self/maps", "r"));
    while (fgets(line, sizeof(line), f)) {
        if (strncmp(line, want, strlen(want)) == 0) {
            found = 1;
            ck_assert_msg(strstr(line, " r--s "), "mapping not read-only shared: %s", line);
        }
    }
    fclose(f);
    ck_assert_int_eq(found, 1);
    ck_assert_int_eq(mprotect((void *)map, (len + pg - 1) / pg * pg, PROT_READ | PROT_WRITE),
                     -1);
    ck_assert_int_eq(errno, EACCES);
    ck_assert_int_eq(write_faults(map + 8), 1);
    sb_shm_close(h);
    ck_assert_int_eq(sb_shm_fd(h), -1);
    ck_assert_ptr_null(sb_shm_mapping(h, &len));
    apr_shm_destroy(shm);
}
END_TEST

/* The test hook: truncate the object between the size check and the
 * decode, through a read-write descriptor of it. */
static int truncate_fd = -1;

static void truncate_now(int fd)
{
    (void)fd;
    ck_assert_int_eq(ftruncate(truncate_fd, 64), 0);
}

START_TEST(truncated_during_the_decode_is_caught_not_sigbus)
{
    apr_size_t size = sb_shm_layout_size(4, 64);
    apr_shm_t *shm = make_segment(4, 64, size);
    sb_shm_t *h;
    sb_sample_t *s;
    unsigned long faults = sb_shm_faults_caught();

    ck_assert_int_eq(sb_shm_open(&h, path, pool), APR_SUCCESS);
    ck_assert_int_eq(sb_shm_sample(h, pool, &s), APR_SUCCESS);
    truncate_fd = object_fd(h);
    sb_shm_set_test_hook(truncate_now);
    ck_assert_int_eq(sb_shm_sample(h, pool, &s), SB_SHM_EBADSIZE);
    sb_shm_set_test_hook(NULL);
    /* the size check had passed: the decode faulted, and the guard caught it */
    ck_assert_uint_eq(sb_shm_faults_caught(), faults + 1);
    ck_assert_ptr_null(s);
    ck_assert_msg(strstr(sb_shm_error(h), "truncated to 64 bytes"), "%s", sb_shm_error(h));
    ck_assert_ptr_null(sb_shm_mapping(h, NULL));
    ck_assert_int_eq(sb_shm_sample(h, pool, &s), SB_SHM_EBADSIZE);
    close(truncate_fd);
    apr_shm_destroy(shm);
}
END_TEST

static void prior_bus_handler(int sig)
{
    (void)sig;
    _exit(7);
}

/* A SIGBUS outside the scoreboard's mapping is not swallowed by the
 * guard: a child that faults on a truncated file of its own dies of it,
 * or, with a handler installed before the first attach (as sbtop does),
 * runs that handler; a truncation during a decode is still caught. */
static void other_sigbus(int prior)
{
    apr_shm_t *shm = make_segment(1, 64, sb_shm_layout_size(1, 64));
    sb_shm_t *h;
    sb_sample_t *s;
    int status, fd;
    pid_t c;

    /* the handler the guard finds: the default (not a sanitizer's), or ours */
    {
        struct sigaction sa;
        memset(&sa, 0, sizeof(sa));
        sa.sa_handler = prior ? prior_bus_handler : SIG_DFL;
        sigemptyset(&sa.sa_mask);
        ck_assert_int_eq(sigaction(SIGBUS, &sa, NULL), 0);
    }
    ck_assert_int_eq(sb_shm_open(&h, path, pool), APR_SUCCESS);
    ck_assert_int_eq(sb_shm_sample(h, pool, &s), APR_SUCCESS);   /* handler installed */
    c = fork();
    ck_assert_int_ge(c, 0);
    if (c == 0) {
        char fn[300];
        volatile char *m;
        snprintf(fn, sizeof(fn), "%s.bus", path);
        fd = open(fn, O_RDWR | O_CREAT | O_TRUNC, 0600);
        unlink(fn);
        if (fd < 0 || ftruncate(fd, 8192) != 0) {
            _exit(3);
        }
        m = mmap(NULL, 8192, PROT_READ, MAP_SHARED, fd, 0);
        if (m == MAP_FAILED || ftruncate(fd, 0) != 0) {
            _exit(3);
        }
        (void)m[100];
        _exit(0);
    }
    ck_assert_int_eq(waitpid(c, &status, 0), c);
    if (prior) {
        ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 7,
                      "the prior handler did not run (status %#x)", (unsigned)status);
    }
    else {
        ck_assert_msg(WIFSIGNALED(status) && WTERMSIG(status) == SIGBUS,
                      "the child was not killed by SIGBUS (status %#x)", (unsigned)status);
    }
    /* and the guard still catches a fault inside the mapping */
    fd = object_fd(h);
    truncate_fd = fd;
    sb_shm_set_test_hook(truncate_now);
    ck_assert_int_eq(sb_shm_sample(h, pool, &s), SB_SHM_EBADSIZE);
    sb_shm_set_test_hook(NULL);
    ck_assert_msg(strstr(sb_shm_error(h), "truncated"), "%s", sb_shm_error(h));
    close(fd);
    sb_shm_close(h);
    apr_shm_destroy(shm);
}

START_TEST(other_sigbus_is_not_caught)
{
    other_sigbus(0);
}
END_TEST

START_TEST(other_sigbus_goes_to_the_prior_handler)
{
    other_sigbus(1);
}
END_TEST

START_TEST(segment_without_live_process_is_not_running)
{
    apr_shm_t *shm = make_segment(1, 1, sb_shm_layout_size(1, 1));
    sb_shm_t *h;
    sb_sample_t *s;

    /* kill -9 of httpd's parent and children: the segment stays */
    kill(fake_child, SIGKILL);
    fake_child = 0;
    reap(&fake_parent);
    ck_assert_int_eq(sb_shm_open(&h, path, pool), SB_SHM_EDEAD);
    ck_assert_msg(strstr(sb_shm_error(h), "httpd is not running"), "%s", sb_shm_error(h));
    ck_assert_int_eq(sb_shm_sample(h, pool, &s), SB_SHM_EDEAD);
    ck_assert_ptr_null(s);
    apr_shm_destroy(shm);
}
END_TEST

START_TEST(parent_killed_while_attached_is_not_running)
{
    apr_shm_t *shm = make_segment(1, 1, sb_shm_layout_size(1, 1));
    sb_shm_t *h;
    sb_sample_t *s;

    ck_assert_int_eq(sb_shm_open(&h, path, pool), APR_SUCCESS);
    ck_assert_int_eq(sb_shm_sample(h, pool, &s), APR_SUCCESS);
    reap(&fake_parent);         /* the child lives on, an orphan */
    ck_assert_int_eq(sb_shm_sample(h, pool, &s), SB_SHM_EDEAD);
    ck_assert_msg(strstr(sb_shm_error(h), "is gone"), "%s", sb_shm_error(h));
    /* httpd starts again: a new segment, trusted again */
    apr_shm_destroy(shm);
    kill(fake_child, SIGKILL);
    fake_child = 0;
    shm = make_segment(1, 1, sb_shm_layout_size(1, 1));
    ck_assert_int_eq(sb_shm_sample(h, pool, &s), APR_SUCCESS);
    ck_assert_int_ne(sb_shm_events(h) & SB_SHM_EV_REATTACHED, 0);
    sb_shm_close(h);
    apr_shm_destroy(shm);
}
END_TEST

START_TEST(object_of_another_user_is_refused)
{
    apr_shm_t *shm = make_segment(1, 1, sb_shm_layout_size(1, 1));
    sb_shm_t *h;
    int fd;

    if (geteuid() != 0) {
        return;                 /* only root can give the object away */
    }
    ck_assert_int_eq(sb_shm_open(&h, path, pool), APR_SUCCESS);
    sb_shm_close(h);
    fd = object_fd(h);
    ck_assert_int_eq(fchown(fd, 65534, 65534), 0);      /* nobody forged it */
    close(fd);
    ck_assert_int_eq(sb_shm_open(&h, path, pool), SB_SHM_ENOTRUST);
    ck_assert_msg(strstr(sb_shm_error(h), "uid 65534"), "%s", sb_shm_error(h));
    ck_assert_int_eq(sb_shm_fd(h), -1);
    apr_shm_destroy(shm);
}
END_TEST

START_TEST(world_writable_object_is_refused)
{
    apr_shm_t *shm = make_segment(1, 1, sb_shm_layout_size(1, 1));
    sb_shm_t *h;
    int fd;

    ck_assert_int_eq(sb_shm_open(&h, path, pool), APR_SUCCESS);
    sb_shm_close(h);
    fd = object_fd(h);
    ck_assert_int_eq(fchmod(fd, 0606), 0);
    close(fd);
    ck_assert_int_eq(sb_shm_open(&h, path, pool), SB_SHM_ENOTRUST);
    ck_assert_msg(strstr(sb_shm_error(h), "writable by every user"), "%s", sb_shm_error(h));
    apr_shm_destroy(shm);
}
END_TEST

START_TEST(processes_of_a_parent_that_does_not_map_it_are_refused)
{
    apr_shm_t *shm = make_segment(1, 1, sb_shm_layout_size(1, 1));
    sb_shm_t *h;

    /* a forger names a live process whose parent never mapped the object:
     * this test process (its parent is the test runner) */
    process_at(shm, 0)->pid = getpid();
    ck_assert_int_eq(sb_shm_open(&h, path, pool), SB_SHM_ENOTRUST);
    ck_assert_msg(strstr(sb_shm_error(h), "does not map"), "%s", sb_shm_error(h));
    apr_shm_destroy(shm);
}
END_TEST

START_TEST(truncated_under_us_is_an_error_not_sigbus)
{
    apr_size_t size = sb_shm_layout_size(4, 4);
    apr_shm_t *shm = make_segment(4, 4, size);
    sb_shm_t *h;
    sb_sample_t *s;
    int fd;

    ck_assert_int_eq(sb_shm_open(&h, path, pool), APR_SUCCESS);
    ck_assert_int_eq(sb_shm_sample(h, pool, &s), APR_SUCCESS);
    fd = object_fd(h);
    ck_assert_int_eq(ftruncate(fd, 64), 0);    /* nothing here touches the mapping after */
    close(fd);
    ck_assert_int_eq(sb_shm_sample(h, pool, &s), SB_SHM_EBADSIZE);
    ck_assert_msg(strstr(sb_shm_error(h), "truncated"), "%s", sb_shm_error(h));
    /* and again: the next attach refuses it as well */
    ck_assert_int_eq(sb_shm_sample(h, pool, &s), SB_SHM_EBADSIZE);
    apr_shm_destroy(shm);
}
END_TEST

START_TEST(symlinked_object_is_not_followed)
{
    apr_shm_t *shm = make_segment(1, 1, sb_shm_layout_size(1, 1));
    sb_shm_t *h;
    char real[300];

    ck_assert_int_eq(sb_shm_open(&h, path, pool), APR_SUCCESS);
    sb_shm_close(h);
    snprintf(real, sizeof(real), "%s.real", sb_shm_object(h));
    ck_assert_int_eq(rename(sb_shm_object(h), real), 0);
    ck_assert_int_eq(symlink(real, sb_shm_object(h)), 0);
    ck_assert_int_eq(sb_shm_open(&h, path, pool), APR_FROM_OS_ERROR(ELOOP));
    ck_assert_msg(strstr(sb_shm_error(h), "symlink"), "%s", sb_shm_error(h));
    unlink(sb_shm_object(h));
    ck_assert_int_eq(rename(real, sb_shm_object(h)), 0);
    apr_shm_destroy(shm);
}
END_TEST

START_TEST(replaced_segment_is_reattached)
{
    apr_shm_t *shm = make_segment(1, 1, sb_shm_layout_size(1, 1));
    sb_shm_t *h;
    sb_sample_t *s;

    ck_assert_int_eq(sb_shm_open(&h, path, pool), APR_SUCCESS);
    ck_assert_int_eq(sb_shm_sample(h, pool, &s), APR_SUCCESS);
    ck_assert_int_eq(s->server.server_limit, 1);

    /* httpd stops: the segment goes */
    apr_shm_destroy(shm);
    ck_assert_int_eq(sb_shm_sample(h, pool, &s), SB_SHM_EGONE);
    ck_assert_ptr_nonnull(strstr(sb_shm_error(h), "stopped"));
    ck_assert_int_eq(sb_shm_sample(h, pool, &s), SB_SHM_EGONE);

    /* httpd starts: a new segment with other limits */
    shm = make_segment(2, 2, sb_shm_layout_size(2, 2));
    ck_assert_int_eq(sb_shm_sample(h, pool, &s), APR_SUCCESS);
    ck_assert_int_ne(sb_shm_events(h) & SB_SHM_EV_REATTACHED, 0);
    ck_assert_int_eq(s->server.server_limit, 2);
    ck_assert_int_eq(s->nworkers, 4);

    /* replaced without a gap between two samples */
    apr_shm_destroy(shm);
    shm = make_segment(3, 1, sb_shm_layout_size(3, 1));
    ck_assert_int_eq(sb_shm_sample(h, pool, &s), APR_SUCCESS);
    ck_assert_int_ne(sb_shm_events(h) & SB_SHM_EV_REATTACHED, 0);
    ck_assert_int_eq(s->server.server_limit, 3);
    sb_shm_close(h);
    apr_shm_destroy(shm);
}
END_TEST

/* A real segment (tests/data/scoreboard-*.bin, the usable area of a live
 * httpd's object: tests/fuzz/capture-seeds.sh) through the decoder of
 * sb_shm_sample(), and damaged copies through attach's checks. */
START_TEST(decode_buffer_of_real_segments)
{
    /* ka: the keep-alive connection capture-seeds.sh left open holds a
     * slot (not under event, where it leaves the worker) */
    static const struct { const char *file; int ka; } segs[] = {
        { "scoreboard-prefork-4x1.bin", 1 },
        { "scoreboard-worker-2x4.bin", 1 },
        { "scoreboard-event-2x4.bin", 0 },
    };
    apr_size_t len, i;
    char err[512];

    for (i = 0; i < sizeof(segs) / sizeof(segs[0]); i++) {
        char *b = sb_unit_load(pool, segs[i].file, &len);
        const global_score *g = (const global_score *)(void *)b;
        sb_sample_t *s;
        int j, reading = 0, keepalive = 0, status = 0;

        ck_assert_int_eq(sb_shm_decode_buffer(b, len, pool, &s, err, sizeof(err)),
                         APR_SUCCESS);
        ck_assert_int_eq(s->server.server_limit, g->server_limit);
        ck_assert_int_eq(s->server.thread_limit, g->thread_limit);
        ck_assert_uint_eq(sb_shm_layout_size(g->server_limit, g->thread_limit), len);
        ck_assert_int_eq(s->nworkers, g->server_limit * g->thread_limit);
        ck_assert_int_eq(s->server.generation, g->running_generation);
        ck_assert_int_eq(s->extended_status, 1);
        for (j = 0; j < s->nworkers; j++) {
            const sb_worker_t *w = &s->workers[j];
            /* the request whose headers never end: no request line yet */
            reading += w->state == SB_SLOT_READ;
            keepalive += w->state == SB_SLOT_KEEPALIVE
                         && strcmp(w->request, "GET /?keepalive HTTP/1.1") == 0
                         && strcmp(w->client, "127.0.0.1") == 0;
            status += strcmp(w->request, "GET /server-status?auto HTTP/1.1") == 0;
        }
        ck_assert_msg(reading >= 1, "%s: no slot reading a request", segs[i].file);
        ck_assert_int_eq(keepalive, segs[i].ka);
        ck_assert_int_ge(status, 1);

        /* a byte short, or a byte more: not the layout the limits need */
        ck_assert_int_eq(sb_shm_decode_buffer(b, len - 1, pool, &s, err, sizeof(err)),
                         SB_SHM_EBADSIZE);
        ck_assert_ptr_null(s);
        ck_assert_ptr_nonnull(strstr(err, "needs"));
        /* limits out of httpd's range */
        ((global_score *)(void *)b)->server_limit = 0;
        ck_assert_int_eq(sb_shm_decode_buffer(b, len, pool, &s, err, sizeof(err)),
                         SB_SHM_EBADSIZE);
        ck_assert_ptr_nonnull(strstr(err, "out of range"));
        /* shorter than the global record */
        ck_assert_int_eq(sb_shm_decode_buffer(b, 16, pool, &s, err, sizeof(err)),
                         SB_SHM_EBADSIZE);
        ck_assert_ptr_nonnull(strstr(err, "too small"));
    }
}
END_TEST

START_TEST(generation_change_is_reported)
{
    apr_shm_t *shm = make_segment(1, 1, sb_shm_layout_size(1, 1));
    sb_shm_t *h;
    sb_sample_t *s;

    ck_assert_int_eq(sb_shm_open(&h, path, pool), APR_SUCCESS);
    ck_assert_int_eq(sb_shm_sample(h, pool, &s), APR_SUCCESS);
    ck_assert_int_eq(sb_shm_events(h), 0);
    ((global_score *)apr_shm_baseaddr_get(shm))->running_generation = 4;
    ck_assert_int_eq(sb_shm_sample(h, pool, &s), APR_SUCCESS);
    ck_assert_int_eq(sb_shm_events(h), SB_SHM_EV_GENERATION);
    ((global_score *)apr_shm_baseaddr_get(shm))->running_generation = 5;
    ((global_score *)apr_shm_baseaddr_get(shm))->restart_time = apr_time_now();
    ck_assert_int_eq(sb_shm_sample(h, pool, &s), APR_SUCCESS);
    ck_assert_int_eq(sb_shm_events(h), SB_SHM_EV_GENERATION | SB_SHM_EV_RESTARTED);
    sb_shm_close(h);
    apr_shm_destroy(shm);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("shm");
    TCase *tc = tcase_create("shm");

    srand((unsigned)getpid());
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, layout_matches_debian_2_4_71);
    tcase_add_test(tc, wrong_size_is_refused_with_both_sizes);
    tcase_add_test(tc, garbage_limits_are_refused);
    tcase_add_test(tc, tiny_segment_is_refused);
    tcase_add_test(tc, missing_segment_explains_scoreboardfile);
    tcase_add_test(tc, decode_counts_states_like_mod_status);
    tcase_add_test(tc, extended_status_off_is_detected);
    tcase_add_test(tc, descriptor_and_mapping_are_read_only);
    tcase_add_test(tc, truncated_during_the_decode_is_caught_not_sigbus);
    tcase_add_test(tc, other_sigbus_is_not_caught);
    tcase_add_test(tc, other_sigbus_goes_to_the_prior_handler);
    tcase_add_test(tc, segment_without_live_process_is_not_running);
    tcase_add_test(tc, parent_killed_while_attached_is_not_running);
    tcase_add_test(tc, object_of_another_user_is_refused);
    tcase_add_test(tc, world_writable_object_is_refused);
    tcase_add_test(tc, processes_of_a_parent_that_does_not_map_it_are_refused);
    tcase_add_test(tc, truncated_under_us_is_an_error_not_sigbus);
    tcase_add_test(tc, symlinked_object_is_not_followed);
    tcase_add_test(tc, replaced_segment_is_reattached);
    tcase_add_test(tc, generation_change_is_reported);
    tcase_add_test(tc, decode_buffer_of_real_segments);
    suite_add_tcase(s, tc);
    return sb_unit_run(s);
}
