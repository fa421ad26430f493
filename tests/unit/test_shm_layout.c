/*
 * Unit tests of the shared-memory source on real APR segments made here:
 * the layout arithmetic, the size validation, decoding, the read-only
 * mapping and the detection of a replaced segment.
 */
#include <check.h>
#include "sb_unit.h"
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>

#include <apr_general.h>
#include <apr_shm.h>
#include <apr_strings.h>
#include <httpd.h>
#include <scoreboard.h>

#include "sb_shm.h"

static apr_pool_t *pool;
static char path[256];

static void setup(void)
{
    apr_pool_create(&pool, NULL);
    snprintf(path, sizeof(path), "%s/sbtest-shm-%ld-%d",
             getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp", (long)getpid(), rand());
}

static void teardown(void)
{
    apr_shm_remove(path, pool);
    apr_pool_destroy(pool);
}

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

    process_at(shm, 0)->pid = getpid();
    process_at(shm, 0)->generation = 3;
    process_at(shm, 1)->pid = getpid();
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

    process_at(shm, 0)->pid = getpid();
    worker_at(shm, 1, 2, 0, 0)->status = SERVER_READY;
    worker_at(shm, 1, 2, 0, 1)->status = SERVER_READY;
    ck_assert_int_eq(sb_shm_open(&h, path, pool), APR_SUCCESS);
    ck_assert_int_eq(sb_shm_sample(h, pool, &s), APR_SUCCESS);
    ck_assert_int_eq(s->extended_status, 0);
    sb_shm_close(h);
    apr_shm_destroy(shm);
}
END_TEST

START_TEST(mapping_is_read_only)
{
    apr_shm_t *shm = make_segment(1, 1, sb_shm_layout_size(1, 1));
    sb_shm_t *h;
    apr_size_t len;
    volatile char *base;
    pid_t pid;
    int status;

    ck_assert_int_eq(sb_shm_open(&h, path, pool), APR_SUCCESS);
    base = (volatile char *)sb_shm_base(h, &len);
    ck_assert_uint_gt(len, 0);
    pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        /* die by the signal itself, not by a sanitizer's handler */
        signal(SIGSEGV, SIG_DFL);
        signal(SIGBUS, SIG_DFL);
        base[0] = 1;            /* must fault */
        base[len - 1] = 1;
        _exit(0);
    }
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert_msg(WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV,
                  "a write through sbtune's mapping did not fault (status %d)", status);
    sb_shm_close(h);
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
    tcase_add_test(tc, mapping_is_read_only);
    tcase_add_test(tc, replaced_segment_is_reattached);
    tcase_add_test(tc, generation_change_is_reported);
    suite_add_tcase(s, tc);
    return sb_unit_run(s);
}
