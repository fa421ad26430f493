/* Unit tests of the history store and the histogram type, on real SQLite
 * files in a temporary directory: round trips, concurrent readers (another
 * handle and a forked process), retention, schema versions, refusals,
 * kill -9 of a writer, full disk (size cap and a real tmpfs when root) and
 * a locked database.  The disk-use test prints the measured bytes per row
 * that sbtune-history(5) states. */
#include "config.h"
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <math.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <sqlite3.h>
#include <apr_general.h>
#include <apr_strings.h>

#include "sb_history.h"

static char tmpdir[256];
static apr_pool_t *pool;

static void make_tmpdir(void)
{
    strcpy(tmpdir, "/tmp/sbhist.XXXXXX");
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        abort();
    }
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    remove(path);
    return 0;
}

static void remove_tmpdir(void)
{
    nftw(tmpdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static void setup(void)
{
    apr_pool_create(&pool, NULL);
}

static void teardown(void)
{
    apr_pool_destroy(pool);
}

static const char *path_in(const char *name)
{
    return apr_pstrcat(pool, tmpdir, "/", name, NULL);
}

/* ------------------------------------------------------------ helpers */

static sb_history_t *open_ok(const char *path, int flags)
{
    sb_history_t *h;
    apr_status_t rv = sb_history_open(&h, path, flags, pool);
    ck_assert_msg(rv == APR_SUCCESS, "open %s: %d %s", path, rv, sb_history_error(h));
    return h;
}

static void make_second(sb_hist_second_t *r, int64_t ts)
{
    sb_hist_second_init(r, ts);
    r->source = ts % 5 == 0 ? SB_SOURCE_STATUS : SB_SOURCE_SHM;
    if (ts % 13 == 0) {
        r->gap = 1;             /* httpd unreachable: everything unknown */
        return;
    }
    r->generation = ts / 1000;
    r->busy_mean = 10.0 + (double)(ts % 37) / 10.0;
    r->busy_max = 12 + ts % 40;
    r->idle_mean = 50.0 - (double)(ts % 37) / 10.0;
    r->keepalive_slots_mean = (double)(ts % 29) / 3.0;
    r->keepalive_conns_mean = ts % 7 == 0 ? NAN : (double)(ts % 31) / 7.0;
    r->reading_mean = 0.1 * (double)(ts % 3);
    r->writing_mean = 1.25 + (double)(ts % 11) / 9.0;
    r->closing_mean = 0.05 * (double)(ts % 4);
    r->graceful_mean = 0;
    r->open_mean = 100.0 - r->busy_mean - r->idle_mean;
    r->req_per_s = 30.0 + (double)(ts % 97) / 3.0;
    r->conn_per_s = 8.0 + (double)(ts % 41) / 6.0;
    r->accepted_per_s = ts % 3 == 0 ? NAN : r->conn_per_s - (double)(ts % 4);
    r->refused_per_s = ts % 23 == 0 ? 2 : 0;
    r->listen_queue_max = ts % 17 == 0 ? 3 : 0;
    r->listen_overflows = 0;
    r->listen_drops = ts % 19 == 0 ? SB_UNKNOWN : 0;
    r->bytes_per_s = 812345.5 + (double)(ts % 1000) * 13.25;
    r->pss_total_bytes = 412000000 + (ts % 1000) * 4096;
    r->mem_available_bytes = ts % 11 == 0 ? SB_UNKNOWN : 3000000000LL - (ts % 5000) * 4096;
    r->samples = 10;
}

static int deq(double a, double b)
{
    return (isnan(a) && isnan(b)) || a == b;
}

static int second_eq(const sb_hist_second_t *a, const sb_hist_second_t *b)
{
    return a->ts == b->ts && a->source == b->source && a->generation == b->generation
           && deq(a->busy_mean, b->busy_mean) && a->busy_max == b->busy_max
           && deq(a->idle_mean, b->idle_mean)
           && deq(a->keepalive_slots_mean, b->keepalive_slots_mean)
           && deq(a->keepalive_conns_mean, b->keepalive_conns_mean)
           && deq(a->reading_mean, b->reading_mean) && deq(a->writing_mean, b->writing_mean)
           && deq(a->closing_mean, b->closing_mean)
           && deq(a->graceful_mean, b->graceful_mean) && deq(a->open_mean, b->open_mean)
           && deq(a->req_per_s, b->req_per_s) && deq(a->conn_per_s, b->conn_per_s)
           && deq(a->accepted_per_s, b->accepted_per_s)
           && deq(a->refused_per_s, b->refused_per_s)
           && a->listen_queue_max == b->listen_queue_max
           && a->listen_overflows == b->listen_overflows
           && a->listen_drops == b->listen_drops && deq(a->bytes_per_s, b->bytes_per_s)
           && a->pss_total_bytes == b->pss_total_bytes
           && a->mem_available_bytes == b->mem_available_bytes
           && a->samples == b->samples && a->gap == b->gap;
}

static void put_seconds(sb_history_t *h, int64_t from, int n)
{
    sb_hist_second_t r;
    int i;

    for (i = 0; i < n; i++) {
        make_second(&r, from + i);
        ck_assert_int_eq(sb_history_put_second(h, &r), APR_SUCCESS);
    }
}

/* Collects second rows; checks time order. */
typedef struct {
    int n;
    int cap;
    sb_hist_second_t *rows;
    int64_t last;
    int out_of_order;
} seconds_t;

static apr_status_t collect_second(void *baton, const sb_hist_second_t *row)
{
    seconds_t *c = baton;

    if (c->n > 0 && row->ts <= c->last) {
        c->out_of_order++;
    }
    c->last = row->ts;
    if (c->n < c->cap) {
        c->rows[c->n] = *row;
    }
    c->n++;
    return APR_SUCCESS;
}

static int count_seconds(sb_history_t *h, int64_t from, int64_t to)
{
    seconds_t c = { 0, 0, NULL, 0, 0 };
    apr_status_t rv = sb_history_seconds(h, from, to, collect_second, &c);

    ck_assert_msg(rv == APR_SUCCESS, "reading seconds: %s", sb_history_error(h));
    ck_assert_int_eq(c.out_of_order, 0);
    return c.n;
}

static int count_all_seconds(sb_history_t *h)
{
    return count_seconds(h, INT64_MIN, INT64_MAX);
}

/* Run SQL on the file through a connection of our own. */
static void raw_exec(const char *path, const char *sql)
{
    sqlite3 *db = NULL;
    char *msg = NULL;

    ck_assert_int_eq(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
                                     NULL), SQLITE_OK);
    ck_assert_msg(sqlite3_exec(db, sql, NULL, NULL, &msg) == SQLITE_OK, "%s: %s", sql,
                  msg ? msg : "?");
    sqlite3_close(db);
}

static const char *raw_text(const char *path, const char *sql)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    const char *out = NULL;

    ck_assert_int_eq(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    ck_assert_msg(sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK, "%s: %s", sql,
                  sqlite3_errmsg(db));
    if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0)) {
        out = apr_pstrdup(pool, (const char *)sqlite3_column_text(st, 0));
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
    return out;
}

static char *slurp(const char *path, apr_size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf;
    long n;

    ck_assert_ptr_nonnull(f);
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    fseek(f, 0, SEEK_SET);
    buf = apr_palloc(pool, (apr_size_t)n + 1);
    ck_assert_int_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *len = (apr_size_t)n;
    return buf;
}

static void assert_unchanged(const char *path, const char *before, apr_size_t len)
{
    apr_size_t len2;
    char *after = slurp(path, &len2);

    ck_assert_msg(len2 == len && memcmp(before, after, len) == 0,
                  "%s was modified by a refused open", path);
}

static int exists(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0;
}

/* A deterministic generator (64-bit LCG), uniform in [0, 1). */
static uint64_t lcg_state = 42;

static double uniform(void)
{
    lcg_state = lcg_state * 6364136223846793005ULL + 1442695040888963407ULL;
    return (double)(lcg_state >> 11) / 9007199254740992.0;
}

/* ------------------------------------------------------------ histogram */

START_TEST(hist_bucket_edges)
{
    int i;

    ck_assert_int_eq(SB_HIST_NBUCKETS, 90);
    ck_assert(sb_hist_edge(0) == 0.0);
    ck_assert(sb_hist_edge(1) == ldexp(1.0, -10));
    ck_assert(sb_hist_edge(41) == 1.0);
    ck_assert(sb_hist_edge(SB_HIST_NBUCKETS - 1) == 4096.0);
    for (i = 1; i < SB_HIST_NBUCKETS; i++) {
        ck_assert_int_eq(sb_hist_bucket(sb_hist_edge(i)), i);
        ck_assert_int_eq(sb_hist_bucket(nextafter(sb_hist_edge(i), 0)), i - 1);
        if (i > 1) {
            double ratio = sb_hist_edge(i) / sb_hist_edge(i - 1);
            ck_assert(fabs(ratio - pow(2, 0.25)) < 1e-12);
        }
    }
    ck_assert_int_eq(sb_hist_bucket(0), 0);
    ck_assert_int_eq(sb_hist_bucket(-3), 0);
    ck_assert_int_eq(sb_hist_bucket(1e-9), 0);
    ck_assert_int_eq(sb_hist_bucket(1e12), SB_HIST_NBUCKETS - 1);
    /* integers (requests per connection) 1..7 fall in distinct buckets */
    for (i = 1; i < 7; i++) {
        ck_assert_int_lt(sb_hist_bucket(i), sb_hist_bucket(i + 1));
    }
}
END_TEST

START_TEST(hist_add_special_values)
{
    sb_hist_t h;

    sb_hist_init(&h);
    sb_hist_add(&h, NAN);
    sb_hist_add(&h, INFINITY);
    sb_hist_add(&h, -INFINITY);
    ck_assert_uint_eq(sb_hist_count(&h), 0);
    ck_assert(isnan(sb_hist_quantile(&h, 0.5)));
    sb_hist_add(&h, -2);
    ck_assert_uint_eq(sb_hist_count(&h), 1);
    ck_assert(h.min == 0 && h.max == 0 && h.bucket[0] == 1);
    sb_hist_add(&h, 1e9);
    ck_assert_uint_eq(h.bucket[SB_HIST_NBUCKETS - 1], 1);
    ck_assert(sb_hist_quantile(&h, 1) == 1e9);
    ck_assert(sb_hist_quantile(&h, 0) == 0);
    ck_assert(sb_hist_quantile(&h, -1) == 0);
    ck_assert(sb_hist_quantile(&h, 7) == 1e9);
    ck_assert(isnan(sb_hist_quantile(&h, NAN)));
}
END_TEST

static void assert_close(double got, double want, double rel, const char *what)
{
    ck_assert_msg(fabs(got - want) <= rel * want, "%s: got %.6g, want %.6g (+-%.1f%%)",
                  what, got, want, rel * 100);
}

START_TEST(hist_quantiles_known_distributions)
{
    sb_hist_t h;
    int k;
    const int n = 20000;
    static const double qs[] = { 0.1, 0.5, 0.9, 0.95, 0.99 };
    apr_size_t i;

    /* uniform 1 ms .. 10 s in 1 ms steps: interpolation is nearly exact */
    sb_hist_init(&h);
    for (k = 1; k <= 10000; k++) {
        sb_hist_add(&h, k / 1000.0);
    }
    for (i = 0; i < sizeof(qs) / sizeof(qs[0]); i++) {
        assert_close(sb_hist_quantile(&h, qs[i]), qs[i] * 10.0, 0.01, "uniform");
    }
    assert_close(h.sum / (double)h.count, 5.0005, 1e-12, "uniform mean");

    /* exponential, mean 2 s, at evenly spaced probabilities */
    sb_hist_init(&h);
    for (k = 0; k < n; k++) {
        sb_hist_add(&h, -2.0 * log(1.0 - (k + 0.5) / n));
    }
    for (i = 0; i < sizeof(qs) / sizeof(qs[0]); i++) {
        assert_close(sb_hist_quantile(&h, qs[i]), -2.0 * log(1.0 - qs[i]), 0.03,
                     "exponential");
    }

    /* log-uniform over 6 decades: the worst case for linear interpolation
     * stays within one bucket (19 %) */
    sb_hist_init(&h);
    for (k = 0; k < n; k++) {
        sb_hist_add(&h, 1e-3 * pow(1e6, (k + 0.5) / n));
    }
    for (i = 0; i < sizeof(qs) / sizeof(qs[0]); i++) {
        assert_close(sb_hist_quantile(&h, qs[i]), 1e-3 * pow(1e6, qs[i]), 0.19,
                     "log-uniform");
    }

    /* one value: exact at every q */
    sb_hist_init(&h);
    for (k = 0; k < 1000; k++) {
        sb_hist_add(&h, 0.25);
    }
    ck_assert(sb_hist_quantile(&h, 0.01) == 0.25);
    ck_assert(sb_hist_quantile(&h, 0.5) == 0.25);
    ck_assert(sb_hist_quantile(&h, 0.99) == 0.25);

    /* two points: 90 % at 100 ms, 10 % at 30 s */
    sb_hist_init(&h);
    for (k = 0; k < 900; k++) {
        sb_hist_add(&h, 0.1);
    }
    for (k = 0; k < 100; k++) {
        sb_hist_add(&h, 30);
    }
    ck_assert(sb_hist_quantile(&h, 0.5) >= 0.1);
    ck_assert(sb_hist_quantile(&h, 0.5) < 0.1 * pow(2, 0.25));
    ck_assert(sb_hist_quantile(&h, 0.95) > 30 / pow(2, 0.25));
    ck_assert(sb_hist_quantile(&h, 0.95) <= 30);
    ck_assert(sb_hist_quantile(&h, 0) == 0.1);
    ck_assert(sb_hist_quantile(&h, 1) == 30);
    /* quantiles never decrease with q */
    {
        double prev = 0;
        for (k = 0; k <= 100; k++) {
            double v = sb_hist_quantile(&h, k / 100.0);
            ck_assert(v >= prev);
            prev = v;
        }
    }
}
END_TEST

START_TEST(hist_merge)
{
    sb_hist_t whole, a, b, empty;
    int k;

    sb_hist_init(&whole);
    sb_hist_init(&a);
    sb_hist_init(&b);
    sb_hist_init(&empty);
    for (k = 0; k < 5000; k++) {
        double v = 1e-4 * pow(1e8, uniform());
        sb_hist_add(&whole, v);
        sb_hist_add(k % 3 ? &a : &b, v);
    }
    sb_hist_merge(&a, &empty);
    sb_hist_merge(&empty, &b);
    ck_assert_int_eq(memcmp(&empty, &b, sizeof(b)), 0);
    sb_hist_merge(&a, &b);
    ck_assert_uint_eq(a.count, whole.count);
    ck_assert_int_eq(memcmp(a.bucket, whole.bucket, sizeof(a.bucket)), 0);
    ck_assert(a.min == whole.min && a.max == whole.max);
    ck_assert(fabs(a.sum - whole.sum) <= 1e-9 * whole.sum);
    ck_assert(sb_hist_quantile(&a, 0.5) == sb_hist_quantile(&whole, 0.5));
}
END_TEST

START_TEST(hist_encode_round_trip)
{
    sb_hist_t h, d;
    unsigned char buf[SB_HIST_ENCODED_MAX];
    apr_size_t n;
    int k;

    sb_hist_init(&h);
    n = sb_hist_encode(&h, buf);
    ck_assert_uint_eq(n, 2);
    ck_assert_int_eq(sb_hist_decode(&d, buf, n), APR_SUCCESS);
    ck_assert_int_eq(memcmp(&h, &d, sizeof(h)), 0);

    for (k = 0; k < 700; k++) {
        sb_hist_add(&h, 1e-5 * pow(1e9, uniform()));
    }
    n = sb_hist_encode(&h, buf);
    ck_assert_int_eq(sb_hist_decode(&d, buf, n), APR_SUCCESS);
    ck_assert_int_eq(memcmp(&h, &d, sizeof(h)), 0);

    /* every bucket with a huge count: the largest encoding */
    sb_hist_init(&h);
    for (k = 0; k < SB_HIST_NBUCKETS; k++) {
        h.bucket[k] = UINT64_MAX / 128 - (uint64_t)k;
        h.count += h.bucket[k];
    }
    h.min = 0;
    h.max = 1e300;
    h.sum = 1e308;
    n = sb_hist_encode(&h, buf);
    ck_assert_uint_le(n, SB_HIST_ENCODED_MAX);
    ck_assert_int_eq(sb_hist_decode(&d, buf, n), APR_SUCCESS);
    ck_assert_int_eq(memcmp(&h, &d, sizeof(h)), 0);
}
END_TEST

static void assert_bad(const void *data, apr_size_t len, const char *what)
{
    sb_hist_t d;
    static const sb_hist_t zero;

    memset(&d, 0x5a, sizeof(d));
    ck_assert_msg(sb_hist_decode(&d, data, len) == APR_EINVAL, "accepted: %s", what);
    ck_assert_msg(memcmp(&d, &zero, sizeof(d)) == 0, "not emptied: %s", what);
}

START_TEST(hist_decode_malformed)
{
    sb_hist_t h, d;
    unsigned char good[SB_HIST_ENCODED_MAX], b[SB_HIST_ENCODED_MAX + 16];
    apr_size_t n, i;
    int k;

    sb_hist_init(&h);
    sb_hist_add(&h, 0.002);
    sb_hist_add(&h, 0.5);
    sb_hist_add(&h, 0.5);
    sb_hist_add(&h, 300);
    n = sb_hist_encode(&h, good);
    /* layout: 01 04 sum(8) min(8) max(8) then (skip, count) pairs */
    ck_assert_uint_eq(n, 1 + 1 + 24 + 6);

    assert_bad(NULL, 0, "NULL");
    assert_bad(good, 0, "empty");
    assert_bad(good, 1, "version only");
    memcpy(b, good, n);
    b[0] = 2;
    assert_bad(b, n, "unknown version");
    for (i = 1; i < n; i++) {
        assert_bad(good, i, "truncated");
    }
    memcpy(b, good, n);
    b[n] = 0;
    assert_bad(b, n + 1, "trailing byte");
    {
        static const unsigned char empty_trailing[] = { 1, 0, 0 };
        static const unsigned char overlong[] = { 1, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                                                  0xff, 0xff, 0xff, 0x7f };
        static const unsigned char nonminimal[] = { 1, 0x80, 0x00 };
        assert_bad(empty_trailing, sizeof(empty_trailing), "count 0 with data");
        assert_bad(overlong, sizeof(overlong), "varint over 64 bits");
        assert_bad(nonminimal, sizeof(nonminimal), "non-minimal varint");
    }
    /* doubles: NaN sum, negative min, min > max */
    {
        double bad[3][3] = { { NAN, 0.002, 300 }, { 1, -1, 300 }, { 1, 400, 300 } };
        for (k = 0; k < 3; k++) {
            memcpy(b, good, n);
            memcpy(b + 2, &bad[k][0], 8);
            memcpy(b + 10, &bad[k][1], 8);
            memcpy(b + 18, &bad[k][2], 8);
            assert_bad(b, n, "bad double");
        }
        /* min outside the first bucket, max outside the last */
        memcpy(b, good, n);
        bad[0][0] = 0.1;
        memcpy(b + 10, &bad[0][0], 8);
        assert_bad(b, n, "min not in the first bucket");
        memcpy(b, good, n);
        bad[0][0] = 200;
        memcpy(b + 18, &bad[0][0], 8);
        assert_bad(b, n, "max not in the last bucket");
    }
    /* bucket pairs: zero count, counts not adding up, index beyond the end */
    memcpy(b, good, n);
    b[27] = 0;
    assert_bad(b, n, "zero bucket count");
    memcpy(b, good, n);
    b[29] = 1;
    assert_bad(b, n, "counts below total");
    memcpy(b, good, n);
    b[29] = 3;
    assert_bad(b, n, "counts above total");
    memcpy(b, good, n);
    b[30] = 100;
    assert_bad(b, n, "index beyond the last bucket");

    /* random bytes never crash and never decode to something inconsistent */
    for (k = 0; k < 20000; k++) {
        apr_size_t len = (apr_size_t)(uniform() * 64), j;
        unsigned char re[SB_HIST_ENCODED_MAX];
        memcpy(b, good, n);
        for (j = 0; j < len; j++) {
            b[j] = (unsigned char)(uniform() * 256);
        }
        if (k % 2) {
            b[0] = 1;           /* get past the version byte */
        }
        if (sb_hist_decode(&d, b, len) == APR_SUCCESS) {
            ck_assert_uint_eq(sb_hist_encode(&d, re), len);
            ck_assert_int_eq(memcmp(re, b, len), 0);
        }
    }
}
END_TEST

/* ------------------------------------------------------------ round trip */

typedef struct {
    int n;
    sb_hist_minute_t rows[8];
    sb_hist_t hists[8][6];
    int has[8][6];
} minutes_t;

static apr_status_t collect_minute(void *baton, const sb_hist_minute_t *row)
{
    minutes_t *c = baton;
    const sb_hist_t *hs[6] = { row->ka_gap_hist, row->ka_close_hist, row->req_per_conn_hist,
                               row->service_time_hist, row->hold_time_hist,
                               row->conn_lifetime_hist };
    int i;

    if (c->n >= 8) {
        return APR_EGENERAL;
    }
    c->rows[c->n] = *row;
    for (i = 0; i < 6; i++) {
        c->has[c->n][i] = hs[i] != NULL;
        if (hs[i]) {
            c->hists[c->n][i] = *hs[i];
        }
    }
    c->n++;
    return APR_SUCCESS;
}

typedef struct {
    int n;
    char text[16][200];
    int64_t ts[16];
} strings_t;

static apr_status_t collect_event(void *baton, const sb_hist_event_t *row)
{
    strings_t *c = baton;
    snprintf(c->text[c->n], sizeof(c->text[0]), "%s|%s", row->kind,
             row->detail ? row->detail : "NULL");
    c->ts[c->n++] = row->ts;
    return APR_SUCCESS;
}

static apr_status_t collect_change(void *baton, const sb_hist_change_t *row)
{
    strings_t *c = baton;
    snprintf(c->text[c->n], sizeof(c->text[0]), "%s|%s|%s|%s|%s", row->action,
             row->before_json ? row->before_json : "NULL",
             row->after_json ? row->after_json : "NULL", row->reason ? row->reason : "NULL",
             row->result ? row->result : "NULL");
    c->ts[c->n++] = row->ts;
    return APR_SUCCESS;
}

static apr_status_t collect_client(void *baton, const sb_hist_client_t *row)
{
    strings_t *c = baton;
    if (c->n < 16) {
        snprintf(c->text[c->n], sizeof(c->text[0]), "%s|%.2f|%d", row->client,
                 row->slot_seconds, row->max_slots);
        c->ts[c->n] = row->ts;
    }
    c->n++;
    return APR_SUCCESS;
}

START_TEST(round_trip_every_table)
{
    const char *path = path_in("roundtrip.db");
    sb_history_t *w, *r;
    sb_hist_second_t want[100];
    seconds_t got = { 0, 100, NULL, 0, 0 };
    sb_hist_minute_t m;
    sb_hist_t gap, close_, rpc, svc, hold;
    minutes_t mins;
    strings_t ev, ch, cl;
    sb_hist_client_t clients[40];
    char names[40][32];
    int64_t last;
    int i, k;

    w = open_ok(path, SB_HISTORY_WRITE);
    ck_assert_int_eq(sb_history_last_ts(w, &last), APR_SUCCESS);
    ck_assert_int_eq(last, 0);
    for (i = 0; i < 100; i++) {
        make_second(&want[i], 100000 + i);
        ck_assert_int_eq(sb_history_put_second(w, &want[i]), APR_SUCCESS);
    }
    /* a second written twice: the last one counts */
    want[5].busy_mean = 99.5;
    ck_assert_int_eq(sb_history_put_second(w, &want[5]), APR_SUCCESS);

    sb_hist_init(&gap);
    sb_hist_init(&close_);
    sb_hist_init(&rpc);
    sb_hist_init(&svc);
    sb_hist_init(&hold);
    for (k = 0; k < 300; k++) {
        sb_hist_add(&gap, 0.01 * pow(500, uniform()));
        sb_hist_add(&svc, 0.001 * pow(1000, uniform()));
    }
    for (k = 0; k < 60; k++) {
        sb_hist_add(&close_, 1 + 14 * uniform());
        sb_hist_add(&rpc, 1 + (int)(uniform() * 12));
        sb_hist_add(&hold, 0.2 + 20 * uniform());
    }
    sb_hist_minute_init(&m, 99960);
    m.source = SB_SOURCE_SHM;
    m.seconds = 60;
    m.gap_seconds = 2;
    m.busy_mean = 12.5;
    m.busy_max = 40;
    m.keepalive_slots_mean = 3.25;
    m.keepalive_slots_max = 9;
    m.req_per_s_mean = 41.5;
    m.req_per_s_max = 77;
    m.conn_per_s_mean = 9.75;
    m.conn_per_s_max = 15.5;
    m.accepted_per_s_mean = 8.5;
    m.accepted_per_s_max = 12;
    m.refused = 3;
    m.listen_queue_max = 4;
    m.listen_overflows = 1;
    m.pss_per_worker_bytes = 7340032;
    m.mem_available_min = 2000000000;
    m.ka_gap_hist = &gap;
    m.ka_close_hist = &close_;
    m.req_per_conn_hist = &rpc;
    m.service_time_hist = &svc;
    m.hold_time_hist = &hold;
    m.conn_lifetime_hist = &svc;
    ck_assert_int_eq(sb_history_put_minute(w, &m), APR_SUCCESS);
    {
        sb_hist_minute_t m2;
        sb_hist_minute_init(&m2, 100020);      /* all unknown, no histograms */
        ck_assert_int_eq(sb_history_put_minute(w, &m2), APR_SUCCESS);
    }
    {
        sb_hist_event_t e1 = { 100010, "graceful", "generation 3 -> 4" };
        sb_hist_event_t e2 = { 100005, "gap", NULL };
        sb_hist_event_t e3 = { 100010, "reattach", "new segment" };
        ck_assert_int_eq(sb_history_put_event(w, &e1), APR_SUCCESS);
        ck_assert_int_eq(sb_history_put_event(w, &e2), APR_SUCCESS);
        ck_assert_int_eq(sb_history_put_event(w, &e3), APR_SUCCESS);
    }
    {
        sb_hist_change_t c1 = { 100050, "apply", "{\"KeepAliveTimeout\":5}",
                                "{\"KeepAliveTimeout\":2}", "95 % of gaps < 1.8 s",
                                "verified" };
        sb_hist_change_t c2 = { 100070, "rollback", NULL, NULL, "configtest failed", NULL };
        ck_assert_int_eq(sb_history_put_change(w, &c1), APR_SUCCESS);
        ck_assert_int_eq(sb_history_put_change(w, &c2), APR_SUCCESS);
    }
    for (i = 0; i < 40; i++) {
        snprintf(names[i], sizeof(names[i]), "192.0.2.%d", i);
        clients[i].ts = 0;
        clients[i].client = names[i];
        clients[i].slot_seconds = (double)((i * 7) % 40) + 0.5;
        clients[i].max_slots = i % 5 + 1;
    }
    ck_assert_int_eq(sb_history_put_clients(w, 99960, clients, 40), APR_SUCCESS);
    ck_assert_uint_eq(sb_history_pending(w),
                      101 + 2 + 3 + 2 + SB_HISTORY_CLIENTS_PER_MINUTE);
    ck_assert_int_eq(sb_history_flush(w), APR_SUCCESS);
    ck_assert_uint_eq(sb_history_pending(w), 0);
    ck_assert_uint_eq(sb_history_dropped(w), 0);
    /* a minute's client rows are replaced, also once stored */
    ck_assert_int_eq(sb_history_put_clients(w, 100020, clients, 2), APR_SUCCESS);
    ck_assert_int_eq(sb_history_put_clients(w, 100020, clients + 2, 1), APR_SUCCESS);
    ck_assert_int_eq(sb_history_flush(w), APR_SUCCESS);
    ck_assert_int_eq(sb_history_put_clients(w, 100020, clients + 3, 1), APR_SUCCESS);
    ck_assert_int_eq(sb_history_flush(w), APR_SUCCESS);

    /* read back through the writer's handle and a reader's */
    r = open_ok(path, SB_HISTORY_READ);
    for (k = 0; k < 2; k++) {
        sb_history_t *h = k ? r : w;
        got.rows = apr_pcalloc(pool, sizeof(sb_hist_second_t) * 100);
        got.n = 0;
        ck_assert_int_eq(sb_history_seconds(h, 100000, 100100, collect_second, &got),
                         APR_SUCCESS);
        ck_assert_int_eq(got.n, 100);
        ck_assert_int_eq(got.out_of_order, 0);
        for (i = 0; i < 100; i++) {
            ck_assert_msg(second_eq(&got.rows[i], &want[i]), "second %d differs", i);
        }
        ck_assert_int_eq(count_seconds(h, 100010, 100020), 10);
        ck_assert_int_eq(sb_history_last_ts(h, &last), APR_SUCCESS);
        ck_assert_int_eq(last, 100099);

        memset(&mins, 0, sizeof(mins));
        ck_assert_int_eq(sb_history_minutes(h, 0, 200000, collect_minute, &mins),
                         APR_SUCCESS);
        ck_assert_int_eq(mins.n, 2);
        ck_assert_int_eq(mins.rows[0].ts, 99960);
        ck_assert_int_eq(mins.rows[0].source, SB_SOURCE_SHM);
        ck_assert_int_eq(mins.rows[0].seconds, 60);
        ck_assert_int_eq(mins.rows[0].gap_seconds, 2);
        ck_assert(mins.rows[0].busy_mean == 12.5 && mins.rows[0].busy_max == 40);
        ck_assert(isnan(mins.rows[0].idle_mean));
        ck_assert(mins.rows[0].conn_per_s_max == 15.5);
        ck_assert(mins.rows[0].listen_drops == SB_UNKNOWN);
        ck_assert(mins.rows[0].pss_per_worker_bytes == 7340032);
        ck_assert(mins.has[0][0] && mins.has[0][4]);
        ck_assert_int_eq(memcmp(&mins.hists[0][0], &gap, sizeof(gap)), 0);
        ck_assert_int_eq(memcmp(&mins.hists[0][1], &close_, sizeof(gap)), 0);
        ck_assert_int_eq(memcmp(&mins.hists[0][2], &rpc, sizeof(gap)), 0);
        ck_assert_int_eq(memcmp(&mins.hists[0][3], &svc, sizeof(gap)), 0);
        ck_assert_int_eq(memcmp(&mins.hists[0][4], &hold, sizeof(gap)), 0);
        ck_assert_int_eq(memcmp(&mins.hists[0][5], &svc, sizeof(gap)), 0);
        ck_assert(mins.rows[0].accepted_per_s_mean == 8.5
                  && mins.rows[0].accepted_per_s_max == 12 && mins.rows[0].refused == 3);
        ck_assert(isnan(mins.rows[1].accepted_per_s_mean) && mins.rows[1].refused == SB_UNKNOWN
                  && !mins.has[1][5]);
        ck_assert_int_eq(mins.rows[1].ts, 100020);
        ck_assert(mins.rows[1].source == (sb_source_kind_t)SB_UNKNOWN);
        ck_assert(isnan(mins.rows[1].busy_mean) && mins.rows[1].busy_max == SB_UNKNOWN);
        ck_assert(!mins.has[1][0] && !mins.has[1][1] && !mins.has[1][2] && !mins.has[1][3]
                  && !mins.has[1][4]);

        memset(&ev, 0, sizeof(ev));
        ck_assert_int_eq(sb_history_events(h, 0, INT64_MAX, collect_event, &ev), APR_SUCCESS);
        ck_assert_int_eq(ev.n, 3);
        ck_assert_str_eq(ev.text[0], "gap|NULL");
        ck_assert_str_eq(ev.text[1], "graceful|generation 3 -> 4");
        ck_assert_str_eq(ev.text[2], "reattach|new segment");
        ck_assert_int_eq(ev.ts[0], 100005);

        memset(&ch, 0, sizeof(ch));
        ck_assert_int_eq(sb_history_changes(h, 0, INT64_MAX, collect_change, &ch),
                         APR_SUCCESS);
        ck_assert_int_eq(ch.n, 2);
        ck_assert_str_eq(ch.text[0], "apply|{\"KeepAliveTimeout\":5}|"
                                     "{\"KeepAliveTimeout\":2}|95 % of gaps < 1.8 s|verified");
        ck_assert_str_eq(ch.text[1], "rollback|NULL|NULL|configtest failed|NULL");
        ck_assert_int_eq(ch.ts[1], 100070);

        memset(&cl, 0, sizeof(cl));
        ck_assert_int_eq(sb_history_clients(h, 99960, 99961, collect_client, &cl),
                         APR_SUCCESS);
        ck_assert_int_eq(cl.n, SB_HISTORY_CLIENTS_PER_MINUTE);
        ck_assert_str_eq(cl.text[0], "192.0.2.17|39.50|3");    /* most slot-seconds */
        ck_assert_int_eq(cl.ts[0], 99960);
        memset(&cl, 0, sizeof(cl));
        ck_assert_int_eq(sb_history_clients(h, 100020, 100021, collect_client, &cl),
                         APR_SUCCESS);
        ck_assert_int_eq(cl.n, 1);
        ck_assert_str_eq(cl.text[0], "192.0.2.3|21.50|4");
    }
    /* the meta table */
    ck_assert_str_eq(raw_text(path, "SELECT value FROM meta WHERE key = 'schema_version'"),
                     "2");
    ck_assert_ptr_nonnull(raw_text(path, "SELECT value FROM meta WHERE key = 'created_at'"));
    ck_assert_ptr_nonnull(raw_text(path, "SELECT value FROM meta WHERE key = 'host'"));
    ck_assert_ptr_nonnull(raw_text(path, "SELECT value FROM meta WHERE key = 'sbtune_version'"));
    ck_assert_str_eq(raw_text(path, "PRAGMA journal_mode"), "wal");
    ck_assert_str_eq(raw_text(path, "PRAGMA auto_vacuum"), "2");
    sb_history_close(r);
    sb_history_close(w);
    sb_history_close(w);
}
END_TEST

static apr_status_t stop_after_three(void *baton, const sb_hist_second_t *row)
{
    int *n = baton;
    return ++*n == 3 ? APR_EOF : APR_SUCCESS;
}

START_TEST(callback_stops_iteration)
{
    sb_history_t *w = open_ok(path_in("stop.db"), SB_HISTORY_WRITE);
    int n = 0;

    put_seconds(w, 1000, 10);
    ck_assert_int_eq(sb_history_flush(w), APR_SUCCESS);
    ck_assert_int_eq(sb_history_seconds(w, 0, INT64_MAX, stop_after_three, &n), APR_EOF);
    ck_assert_int_eq(n, 3);
    ck_assert_int_eq(count_seconds(w, 1005, 1005), 0);
    ck_assert_int_eq(count_seconds(w, 1009, 1000), 0);
}
END_TEST

START_TEST(invalid_rows_and_read_only)
{
    const char *path = path_in("invalid.db");
    sb_history_t *w = open_ok(path, SB_HISTORY_WRITE), *r;
    sb_hist_second_t s;
    sb_hist_minute_t m;
    sb_hist_event_t e = { 1, "bogus", NULL };
    sb_hist_change_t c = { 1, NULL, NULL, NULL, NULL, NULL };
    sb_hist_client_t cl = { 0, NULL, 1, 1 };

    make_second(&s, 1);
    s.source = (sb_source_kind_t)7;
    ck_assert_int_eq(sb_history_put_second(w, &s), APR_EINVAL);
    ck_assert_ptr_nonnull(strstr(sb_history_error(w), "source"));
    sb_hist_minute_init(&m, 61);
    ck_assert_int_eq(sb_history_put_minute(w, &m), APR_EINVAL);
    ck_assert_int_eq(sb_history_put_event(w, &e), APR_EINVAL);
    ck_assert_ptr_nonnull(strstr(sb_history_error(w), "kind"));
    ck_assert_int_eq(sb_history_put_change(w, &c), APR_EINVAL);
    ck_assert_int_eq(sb_history_put_clients(w, 120, &cl, 1), APR_EINVAL);
    ck_assert_int_eq(sb_history_put_clients(w, 121, NULL, 0), APR_EINVAL);
    ck_assert_uint_eq(sb_history_pending(w), 0);

    r = open_ok(path, SB_HISTORY_READ);
    make_second(&s, 1);
    ck_assert_int_eq(sb_history_put_second(r, &s), APR_EINVAL);
    ck_assert_ptr_nonnull(strstr(sb_history_error(r), "reading only"));
    ck_assert_int_eq(sb_history_flush(r), APR_EINVAL);
    ck_assert_int_eq(sb_history_prune(r, apr_time_now(), 0, 0), APR_EINVAL);
    sb_history_close(r);
    ck_assert_int_eq(sb_history_flush(r), APR_EINVAL);
    ck_assert_ptr_nonnull(strstr(sb_history_error(r), "not open"));
    ck_assert_int_eq(sb_history_open(&r, path, 0, pool), APR_EINVAL);
    ck_assert_int_eq(sb_history_open(&r, "", SB_HISTORY_READ, pool), APR_EINVAL);
}
END_TEST

/* ------------------------------------------------------------ concurrency */

START_TEST(reader_sees_committed_rows_only)
{
    const char *path = path_in("readers.db");
    sb_history_t *w = open_ok(path, SB_HISTORY_WRITE), *r;
    sqlite3 *other = NULL;
    int64_t last;

    r = open_ok(path, SB_HISTORY_READ);
    put_seconds(w, 5000, 10);
    ck_assert_int_eq(count_all_seconds(r), 0);          /* buffered, not written */
    ck_assert_int_eq(sb_history_flush(w), APR_SUCCESS);
    ck_assert_int_eq(count_all_seconds(r), 10);

    /* another writer inside a transaction: the reader is not blocked and
     * does not see the uncommitted row */
    ck_assert_int_eq(sqlite3_open_v2(path, &other, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
    ck_assert_int_eq(sqlite3_exec(other, "BEGIN IMMEDIATE; INSERT INTO second (ts, source,"
                                         " samples, gap) VALUES (6000, 'shm', 1, 0)",
                                  NULL, NULL, NULL), SQLITE_OK);
    ck_assert_int_eq(count_all_seconds(r), 10);
    ck_assert_int_eq(sb_history_last_ts(r, &last), APR_SUCCESS);
    ck_assert_int_eq(last, 5009);
    ck_assert_int_eq(sqlite3_exec(other, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
    ck_assert_int_eq(count_all_seconds(r), 11);
    ck_assert_int_eq(sb_history_last_ts(r, &last), APR_SUCCESS);
    ck_assert_int_eq(last, 6000);
    sqlite3_close(other);
    sb_history_close(r);
    sb_history_close(w);
}
END_TEST

static void write_all(int fd, const void *buf, size_t len)
{
    ck_assert_int_eq(write(fd, buf, len), (ssize_t)len);
}

static int read_full(int fd, void *buf, size_t len)
{
    size_t got = 0;
    while (got < len) {
        ssize_t n = read(fd, (char *)buf + got, len - got);
        if (n <= 0) {
            if (n < 0 && errno == EINTR) {
                continue;
            }
            return -1;
        }
        got += (size_t)n;
    }
    return 0;
}

/* The child of reader_in_forked_process: opens the file for reading when
 * told, counts the rows each time it is told and reports the count. */
static void reader_child(const char *path, int cmd, int report)
{
    apr_pool_t *p;
    sb_history_t *r = NULL;
    char c;

    apr_pool_create(&p, NULL);
    while (read(cmd, &c, 1) == 1) {
        int n = -1;
        seconds_t s = { 0, 0, NULL, 0, 0 };
        if (!r && sb_history_open(&r, path, SB_HISTORY_READ, p) != APR_SUCCESS) {
            fprintf(stderr, "child: %s\n", sb_history_error(r));
            _exit(2);
        }
        if (sb_history_seconds(r, INT64_MIN, INT64_MAX, collect_second, &s) == APR_SUCCESS
            && s.out_of_order == 0) {
            n = s.n;
        }
        if (write(report, &n, sizeof(n)) != sizeof(n)) {
            _exit(3);
        }
    }
    _exit(0);
}

START_TEST(reader_in_forked_process)
{
    const char *path = path_in("forked-reader.db");
    int cmd[2], rep[2], n, status;
    sb_history_t *w;
    pid_t pid;

    ck_assert_int_eq(pipe(cmd), 0);
    ck_assert_int_eq(pipe(rep), 0);
    /* fork before this process opens any database: SQLite's state must
     * not be shared across fork() */
    pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        close(cmd[1]);
        close(rep[0]);
        reader_child(path, cmd[0], rep[1]);
    }
    close(cmd[0]);
    close(rep[1]);

    w = open_ok(path, SB_HISTORY_WRITE);
    put_seconds(w, 7000, 120);
    ck_assert_int_eq(sb_history_flush(w), APR_SUCCESS);
    write_all(cmd[1], "c", 1);
    ck_assert_int_eq(read_full(rep[0], &n, sizeof(n)), 0);
    ck_assert_int_eq(n, 120);

    /* the reader keeps its handle open while the writer goes on */
    put_seconds(w, 7120, 80);
    ck_assert_int_eq(sb_history_flush(w), APR_SUCCESS);
    put_seconds(w, 7200, 5);                            /* not flushed */
    write_all(cmd[1], "c", 1);
    ck_assert_int_eq(read_full(rep[0], &n, sizeof(n)), 0);
    ck_assert_int_eq(n, 200);

    ck_assert_int_eq(sb_history_flush(w), APR_SUCCESS);
    write_all(cmd[1], "c", 1);
    ck_assert_int_eq(read_full(rep[0], &n, sizeof(n)), 0);
    ck_assert_int_eq(n, 205);

    close(cmd[1]);
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    close(rep[0]);
    sb_history_close(w);
}
END_TEST

/* ------------------------------------------------------------ retention */

static int count_table(const char *path, const char *table)
{
    return atoi(raw_text(path, apr_pstrcat(pool, "SELECT count(*) FROM ", table, NULL)));
}

START_TEST(prune_exactly_older_rows)
{
    const char *path = path_in("prune.db");
    sb_history_t *w = open_ok(path, SB_HISTORY_WRITE);
    const int64_t now = 1000000020;             /* now - 2 h and now - 3 d are minutes */
    const int64_t cut_s = now - 2 * 3600, cut_m = now - 3 * 86400;
    sb_hist_minute_t m;
    sb_hist_event_t e = { 0, "start", NULL };
    sb_hist_change_t c = { 1, "apply", NULL, NULL, NULL, NULL };
    sb_hist_client_t cl = { 0, "198.51.100.1", 3, 1 };
    int64_t t;

    ck_assert_int_eq(cut_s % 60, 0);
    ck_assert_int_eq(cut_m % 60, 0);
    put_seconds(w, cut_s - 2, 4);               /* cut-2, cut-1 go; cut, cut+1 stay */
    put_seconds(w, cut_s - 3000 - 2500, 2500);  /* several batches */
    for (t = cut_m - 120; t <= cut_m + 60; t += 60) {
        sb_hist_minute_init(&m, t);
        ck_assert_int_eq(sb_history_put_minute(w, &m), APR_SUCCESS);
    }
    e.ts = cut_m - 1;
    ck_assert_int_eq(sb_history_put_event(w, &e), APR_SUCCESS);
    e.ts = cut_m;
    ck_assert_int_eq(sb_history_put_event(w, &e), APR_SUCCESS);
    ck_assert_int_eq(sb_history_put_clients(w, cut_s - 60, &cl, 1), APR_SUCCESS);
    ck_assert_int_eq(sb_history_put_clients(w, cut_s, &cl, 1), APR_SUCCESS);
    ck_assert_int_eq(sb_history_put_change(w, &c), APR_SUCCESS);
    ck_assert_int_eq(sb_history_flush(w), APR_SUCCESS);
    ck_assert_int_eq(sb_history_flush(w), APR_SUCCESS);         /* nothing to do */

    ck_assert_int_eq(sb_history_prune(w, apr_time_from_sec(now), 2, 3), APR_SUCCESS);
    ck_assert_int_eq(count_all_seconds(w), 2);
    ck_assert_int_eq(count_seconds(w, cut_s, cut_s + 2), 2);
    ck_assert_int_eq(count_table(path, "minute"), 2);
    ck_assert_str_eq(raw_text(path, "SELECT min(ts) FROM minute"),
                     apr_psprintf(pool, "%" APR_INT64_T_FMT, (apr_int64_t)cut_m));
    ck_assert_int_eq(count_table(path, "events"), 1);
    ck_assert_str_eq(raw_text(path, "SELECT ts FROM events"),
                     apr_psprintf(pool, "%" APR_INT64_T_FMT, (apr_int64_t)cut_m));
    ck_assert_int_eq(count_table(path, "clients"), 1);
    ck_assert_str_eq(raw_text(path, "SELECT ts FROM clients"),
                     apr_psprintf(pool, "%" APR_INT64_T_FMT, (apr_int64_t)cut_s));
    ck_assert_int_eq(count_table(path, "changes"), 1);          /* never pruned */

    /* the defaults: 48 h and 90 days */
    put_seconds(w, now - 48 * 3600 - 1, 2);
    sb_hist_minute_init(&m, now - 90 * 86400 - 60);             /* one minute too old */
    ck_assert_int_eq(sb_history_put_minute(w, &m), APR_SUCCESS);
    ck_assert_int_eq(sb_history_flush(w), APR_SUCCESS);
    ck_assert_int_eq(sb_history_prune(w, apr_time_from_sec(now), 0, 0), APR_SUCCESS);
    ck_assert_int_eq(count_seconds(w, 0, cut_s), 1);            /* now - 48 h stays */
    ck_assert_int_eq(count_seconds(w, now - 48 * 3600, now - 48 * 3600 + 1), 1);
    ck_assert_int_eq(count_table(path, "minute"), 2);
    sb_history_close(w);
}
END_TEST

START_TEST(prune_shrinks_the_file)
{
    const char *path = path_in("shrink.db");
    sb_history_t *w = open_ok(path, SB_HISTORY_WRITE);
    struct stat full, pruned;
    apr_off_t bytes;
    int i;

    for (i = 0; i < 10; i++) {
        put_seconds(w, 10000 + i * 3000, 3000);
        ck_assert_int_eq(sb_history_flush(w), APR_SUCCESS);
    }
    ck_assert_int_eq(sb_history_disk_bytes(w, &bytes), APR_SUCCESS);
    ck_assert_int_gt(bytes, 30000 * 50);
    sb_history_close(w);
    ck_assert_int_eq(stat(path, &full), 0);

    w = open_ok(path, SB_HISTORY_WRITE);
    ck_assert_int_eq(sb_history_prune(w, apr_time_from_sec(10000 + 27000 + 3600), 1, 0),
                     APR_SUCCESS);
    ck_assert_int_eq(count_all_seconds(w), 3000);
    sb_history_close(w);
    ck_assert_int_eq(stat(path, &pruned), 0);
    ck_assert_msg(pruned.st_size * 5 < full.st_size,
                  "file did not shrink: %ld -> %ld bytes", (long)full.st_size,
                  (long)pruned.st_size);
}
END_TEST

/* ------------------------------------------------------------ schema */

START_TEST(newer_schema_is_refused)
{
    const char *path = path_in("newer.db");
    sb_history_t *h = open_ok(path, SB_HISTORY_WRITE);
    apr_size_t len;
    char *before;

    sb_history_close(h);
    raw_exec(path, "UPDATE meta SET value = '3' WHERE key = 'schema_version'");
    before = slurp(path, &len);
    ck_assert_int_eq(sb_history_open(&h, path, SB_HISTORY_WRITE, pool), SB_HISTORY_ESCHEMA);
    ck_assert_msg(strstr(sb_history_error(h), "schema version 3")
                  && strstr(sb_history_error(h), "version 2")
                  && strstr(sb_history_error(h), path), "%s", sb_history_error(h));
    ck_assert_int_eq(sb_history_open(&h, path, SB_HISTORY_READ, pool), SB_HISTORY_ESCHEMA);
    ck_assert_ptr_nonnull(strstr(sb_history_error(h), "schema version 3"));
    assert_unchanged(path, before, len);
}
END_TEST

static const char fake_v0[] =
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);"
    "INSERT INTO meta VALUES ('schema_version', '0'), ('created_at', '12345'),"
    " ('host', 'oldhost'), ('sbtune_version', '0.0.1');"
    "CREATE TABLE notes (n TEXT);"
    "INSERT INTO notes VALUES ('kept across migrations');";

START_TEST(old_schema_is_migrated)
{
    const char *path = path_in("v0.db");
    sb_history_t *h;
    sb_hist_event_t e = { 42, "start", "after migration" };
    strings_t ev;

    raw_exec(path, fake_v0);
    ck_assert_str_eq(raw_text(path, "PRAGMA auto_vacuum"), "0");

    /* a reader does not migrate */
    ck_assert_int_eq(sb_history_open(&h, path, SB_HISTORY_READ, pool), SB_HISTORY_ESCHEMA);
    ck_assert_ptr_nonnull(strstr(sb_history_error(h), "older"));
    ck_assert_str_eq(raw_text(path, "SELECT value FROM meta WHERE key = 'schema_version'"),
                     "0");

    h = open_ok(path, SB_HISTORY_WRITE);
    ck_assert_str_eq(raw_text(path, "SELECT value FROM meta WHERE key = 'schema_version'"),
                     "2");
    ck_assert_str_eq(raw_text(path, "SELECT value FROM meta WHERE key = 'created_at'"),
                     "12345");
    ck_assert_str_eq(raw_text(path, "SELECT n FROM notes"), "kept across migrations");
    ck_assert_str_eq(raw_text(path, "PRAGMA auto_vacuum"), "2");
    ck_assert_str_eq(raw_text(path, "PRAGMA journal_mode"), "wal");
    put_seconds(h, 1, 3);
    ck_assert_int_eq(sb_history_put_event(h, &e), APR_SUCCESS);
    ck_assert_int_eq(sb_history_flush(h), APR_SUCCESS);
    ck_assert_int_eq(count_all_seconds(h), 3);
    sb_history_close(h);

    h = open_ok(path, SB_HISTORY_READ);
    memset(&ev, 0, sizeof(ev));
    ck_assert_int_eq(sb_history_events(h, 0, 100, collect_event, &ev), APR_SUCCESS);
    ck_assert_int_eq(ev.n, 1);
    sb_history_close(h);
}
END_TEST

/* A file as schema version 1 wrote it: the version-2 columns dropped. */
START_TEST(v1_file_gets_the_v2_columns)
{
    const char *path = path_in("v1.db");
    sb_history_t *h = open_ok(path, SB_HISTORY_WRITE);
    sb_hist_second_t rows[4];
    seconds_t c = { 0, 4, rows, 0, 0 };

    sb_history_close(h);
    raw_exec(path, "ALTER TABLE second DROP COLUMN accepted_per_s;"
             "ALTER TABLE second DROP COLUMN refused_per_s;"
             "ALTER TABLE minute DROP COLUMN accepted_per_s_mean;"
             "ALTER TABLE minute DROP COLUMN accepted_per_s_max;"
             "ALTER TABLE minute DROP COLUMN refused;"
             "ALTER TABLE minute DROP COLUMN conn_lifetime_hist;"
             "UPDATE meta SET value = '1' WHERE key = 'schema_version';"
             "INSERT INTO second (ts, source, conn_per_s, samples, gap)"
             " VALUES (7, 'shm', 3.5, 10, 0);");
    h = open_ok(path, SB_HISTORY_WRITE);
    ck_assert_str_eq(raw_text(path, "SELECT value FROM meta WHERE key = 'schema_version'"),
                     "2");
    ck_assert_int_eq(sb_history_seconds(h, 0, 100, collect_second, &c), APR_SUCCESS);
    ck_assert_int_eq(c.n, 1);
    ck_assert(rows[0].conn_per_s == 3.5);
    ck_assert(isnan(rows[0].accepted_per_s));
    ck_assert(isnan(rows[0].refused_per_s));
    sb_history_close(h);
}
END_TEST

START_TEST(failed_migration_leaves_the_file)
{
    const char *path = path_in("v0-conflict.db");
    sb_history_t *h;
    apr_status_t rv;

    raw_exec(path, fake_v0);
    raw_exec(path, "CREATE TABLE events (x TEXT); INSERT INTO events VALUES ('mine')");
    rv = sb_history_open(&h, path, SB_HISTORY_WRITE, pool);
    ck_assert_int_eq(rv, SB_HISTORY_EDB);
    ck_assert_msg(strstr(sb_history_error(h), "step 0 -> 1")
                  && strstr(sb_history_error(h), "events"), "%s", sb_history_error(h));
    ck_assert_str_eq(raw_text(path, "SELECT value FROM meta WHERE key = 'schema_version'"),
                     "0");
    ck_assert_str_eq(raw_text(path, "SELECT x FROM events"), "mine");
    ck_assert_ptr_null(raw_text(path, "SELECT name FROM sqlite_master WHERE name = 'second'"));
}
END_TEST

START_TEST(foreign_database_is_refused)
{
    const char *path = path_in("foreign.db");
    sb_history_t *h;
    apr_size_t len;
    char *before;

    raw_exec(path, "CREATE TABLE accounts (id INTEGER, owner TEXT);"
                   " INSERT INTO accounts VALUES (1, 'someone')");
    before = slurp(path, &len);
    ck_assert_int_eq(sb_history_open(&h, path, SB_HISTORY_WRITE, pool), SB_HISTORY_ESCHEMA);
    ck_assert_ptr_nonnull(strstr(sb_history_error(h), "not an sbtune history"));
    ck_assert_int_eq(sb_history_open(&h, path, SB_HISTORY_READ, pool), SB_HISTORY_ESCHEMA);
    assert_unchanged(path, before, len);

    /* an empty SQLite file is taken */
    path = path_in("empty-sqlite.db");
    raw_exec(path, "PRAGMA user_version = 0");
    ck_assert_int_eq(sb_history_open(&h, path, SB_HISTORY_READ, pool), SB_HISTORY_ESCHEMA);
    h = open_ok(path, SB_HISTORY_WRITE);
    sb_history_close(h);
}
END_TEST

/* ------------------------------------------------------------ files */

START_TEST(symlinks_and_odd_paths_are_refused)
{
    const char *real = path_in("real.db"), *link_ = path_in("link.db");
    const char *dangling = path_in("dangling.db"), *target = path_in("nowhere.db");
    sb_history_t *h = open_ok(real, SB_HISTORY_WRITE);

    sb_history_close(h);
    ck_assert_int_eq(symlink(real, link_), 0);
    ck_assert_int_eq(sb_history_open(&h, link_, SB_HISTORY_WRITE, pool), APR_EINVAL);
    ck_assert_ptr_nonnull(strstr(sb_history_error(h), "symbolic link"));
    ck_assert_int_eq(sb_history_open(&h, link_, SB_HISTORY_READ, pool), APR_EINVAL);
    ck_assert_int_eq(symlink(target, dangling), 0);
    ck_assert_int_eq(sb_history_open(&h, dangling, SB_HISTORY_WRITE, pool), APR_EINVAL);
    ck_assert(!exists(target));
    ck_assert_int_eq(sb_history_open(&h, tmpdir, SB_HISTORY_WRITE, pool), APR_EINVAL);
    ck_assert_ptr_nonnull(strstr(sb_history_error(h), "not a regular file"));
    /* a symbolic link to the directory is fine: only the file itself counts */
    ck_assert_int_eq(mkdir(path_in("realdir"), 0700), 0);
    ck_assert_int_eq(symlink(path_in("realdir"), path_in("linkdir")), 0);
    h = open_ok(path_in("linkdir/h.db"), SB_HISTORY_WRITE);
    sb_history_close(h);
    ck_assert(exists(path_in("realdir/h.db")));
}
END_TEST

START_TEST(missing_directory_or_file)
{
    const char *path = path_in("no/such/dir/h.db");
    sb_history_t *h;

    ck_assert_int_eq(sb_history_open(&h, path, SB_HISTORY_WRITE, pool), APR_ENOENT);
    ck_assert_msg(strstr(sb_history_error(h), "directory")
                  && strstr(sb_history_error(h), "does not exist"), "%s",
                  sb_history_error(h));
    ck_assert(!exists(path_in("no")));
    ck_assert_int_eq(sb_history_open(&h, path_in("absent.db"), SB_HISTORY_READ, pool),
                     APR_ENOENT);
    ck_assert_ptr_nonnull(strstr(sb_history_error(h), "absent.db does not exist"));
    ck_assert(!exists(path_in("absent.db")));
}
END_TEST

START_TEST(file_mode_is_0640)
{
    static const mode_t masks[] = { 0, 022, 077, 0777 };
    struct stat st;
    apr_size_t i;

    for (i = 0; i < sizeof(masks) / sizeof(masks[0]); i++) {
        const char *path = path_in(apr_psprintf(pool, "mode%d.db", (int)i));
        mode_t old = umask(masks[i]);
        sb_history_t *h = open_ok(path, SB_HISTORY_WRITE);
        umask(old);
        put_seconds(h, 1, 1);
        ck_assert_int_eq(sb_history_flush(h), APR_SUCCESS);
        ck_assert_int_eq(stat(path, &st), 0);
        ck_assert_msg((st.st_mode & 07777) == 0640, "umask %03o: mode %03o", masks[i],
                      st.st_mode & 07777);
        ck_assert_int_eq(stat(apr_pstrcat(pool, path, "-wal", NULL), &st), 0);
        ck_assert_msg((st.st_mode & 07777) == 0640, "umask %03o: -wal mode %03o",
                      masks[i], st.st_mode & 07777);
        sb_history_close(h);
    }
}
END_TEST

START_TEST(not_writable_file)
{
    const char *path = path_in("readonly.db");
    sb_history_t *h = open_ok(path, SB_HISTORY_WRITE);
    pid_t pid;
    int status;

    sb_history_close(h);
    ck_assert_int_eq(chmod(path, 0444), 0);
    if (geteuid() == 0) {
        /* root writes anyway: try as an unprivileged user in a child */
        pid = fork();
        ck_assert_int_ge(pid, 0);
        if (pid == 0) {
            apr_pool_t *p;
            apr_pool_create(&p, NULL);
            if (chmod(tmpdir, 0755) != 0 || setgid(65534) != 0 || setuid(65534) != 0) {
                _exit(9);
            }
            _exit(sb_history_open(&h, path, SB_HISTORY_WRITE, p) == APR_EACCES
                  && strstr(sb_history_error(h), "not writable") ? 0 : 1);
        }
        ck_assert_int_eq(waitpid(pid, &status, 0), pid);
        ck_assert(WIFEXITED(status));
        ck_assert_int_eq(WEXITSTATUS(status), 0);
        ck_assert_int_eq(chmod(tmpdir, 0700), 0);
    }
    else {
        ck_assert_int_eq(sb_history_open(&h, path, SB_HISTORY_WRITE, pool), APR_EACCES);
        ck_assert_ptr_nonnull(strstr(sb_history_error(h), "not writable"));
    }
}
END_TEST

START_TEST(not_a_database_is_left_alone)
{
    static const char text[] = "KeepAliveTimeout 5\nMaxRequestWorkers 150\n";
    const char *path = path_in("notes.txt");
    sb_history_t *h;
    FILE *f = fopen(path, "w");
    apr_size_t len;
    char *before;
    int flags;

    fputs(text, f);
    fclose(f);
    before = slurp(path, &len);
    for (flags = SB_HISTORY_READ; flags <= SB_HISTORY_WRITE; flags++) {
        ck_assert_int_eq(sb_history_open(&h, path, flags, pool), SB_HISTORY_ECORRUPT);
        ck_assert_msg(strstr(sb_history_error(h), path)
                      && strstr(sb_history_error(h), "not an SQLite database"), "%s",
                      sb_history_error(h));
    }
    assert_unchanged(path, before, len);
    ck_assert(!exists(apr_pstrcat(pool, path, "-wal", NULL)));
    ck_assert(!exists(apr_pstrcat(pool, path, "-shm", NULL)));

    /* the header alone is not a database either */
    path = path_in("header-only.db");
    f = fopen(path, "w");
    fwrite("SQLite format 3", 1, 16, f);
    fclose(f);
    ck_assert_int_eq(sb_history_open(&h, path, SB_HISTORY_WRITE, pool), SB_HISTORY_ECORRUPT);
}
END_TEST

START_TEST(damaged_database_is_left_alone)
{
    const char *path = path_in("damaged.db");
    sb_history_t *h = open_ok(path, SB_HISTORY_WRITE);
    apr_size_t len;
    char *before;
    struct stat st;
    FILE *f;
    int flags;

    put_seconds(h, 1, 3000);
    ck_assert_int_eq(sb_history_flush(h), APR_SUCCESS);
    sb_history_close(h);
    ck_assert_int_eq(stat(path, &st), 0);
    /* scribble over pages 3.. 8 (the tables' b-tree pages) */
    f = fopen(path, "r+b");
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(fseek(f, 2 * 4096, SEEK_SET), 0);
    {
        char junk[6 * 4096];
        memset(junk, 0xa5, sizeof(junk));
        ck_assert_int_eq(fwrite(junk, 1, sizeof(junk), f), sizeof(junk));
    }
    fclose(f);
    before = slurp(path, &len);
    for (flags = SB_HISTORY_READ; flags <= SB_HISTORY_WRITE; flags++) {
        ck_assert_int_eq(sb_history_open(&h, path, flags, pool), SB_HISTORY_ECORRUPT);
        ck_assert_msg(strstr(sb_history_error(h), path)
                      && strstr(sb_history_error(h), "untouched"), "%s",
                      sb_history_error(h));
    }
    assert_unchanged(path, before, len);
}
END_TEST

/* ------------------------------------------------------------ kill -9 */

/* Writes 10 rows per flush forever and reports the last ts of each
 * completed flush before starting the next one. */
static void writer_child(const char *path, int report, int64_t start)
{
    apr_pool_t *p;
    sb_history_t *h;
    sb_hist_second_t r;
    int64_t ts, last;
    int i;

    apr_pool_create(&p, NULL);
    if (sb_history_open(&h, path, SB_HISTORY_WRITE, p) != APR_SUCCESS) {
        fprintf(stderr, "writer child: %s\n", sb_history_error(h));
        _exit(2);
    }
    if (sb_history_last_ts(h, &ts) != APR_SUCCESS) {
        _exit(3);
    }
    ts = ts ? ts + 1 : start;
    for (;;) {
        for (i = 0; i < 10; i++) {
            make_second(&r, ts + i);
            if (sb_history_put_second(h, &r) != APR_SUCCESS) {
                _exit(4);
            }
        }
        if (sb_history_flush(h) != APR_SUCCESS) {
            fprintf(stderr, "writer child: %s\n", sb_history_error(h));
            _exit(5);
        }
        last = ts + 9;
        if (write(report, &last, sizeof(last)) != sizeof(last)) {
            _exit(6);
        }
        ts += 10;
    }
}

typedef struct {
    int64_t expect;
    int holes;
} contiguous_t;

static apr_status_t check_contiguous(void *baton, const sb_hist_second_t *row)
{
    contiguous_t *c = baton;
    sb_hist_second_t want;

    make_second(&want, row->ts);
    if (row->ts != c->expect || !second_eq(row, &want)) {
        c->holes++;
    }
    c->expect = row->ts + 1;
    return APR_SUCCESS;
}

START_TEST(kill_9_of_the_writer)
{
    static const int kill_after[] = { 0, 1, 7, 40, 150 };
    const char *path = path_in("killed.db");
    const int64_t start = 1700000000;
    int64_t last = 0;
    apr_size_t round;

    for (round = 0; round < sizeof(kill_after) / sizeof(kill_after[0]); round++) {
        int rep[2], status, reports = 0;
        int64_t ts, newest;
        contiguous_t c = { start, 0 };
        sb_history_t *h;
        pid_t pid;
        int n;

        ck_assert_int_eq(pipe(rep), 0);
        pid = fork();
        ck_assert_int_ge(pid, 0);
        if (pid == 0) {
            close(rep[0]);
            writer_child(path, rep[1], start);
        }
        close(rep[1]);
        while (reports < kill_after[round] && read_full(rep[0], &ts, sizeof(ts)) == 0) {
            last = ts;
            reports++;
        }
        ck_assert_int_eq(reports, kill_after[round]);
        kill(pid, SIGKILL);
        ck_assert_int_eq(waitpid(pid, &status, 0), pid);
        ck_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
        while (read_full(rep[0], &ts, sizeof(ts)) == 0) {
            last = ts;          /* reports written before the kill */
        }
        close(rep[0]);

        if (last == 0) {
            /* killed before its first flush, maybe while creating the
             * file: a writer can still open it */
            h = open_ok(path, SB_HISTORY_WRITE);
            sb_history_close(h);
            ck_assert_str_eq(raw_text(path, "PRAGMA integrity_check"), "ok");
            continue;
        }
        /* open runs quick_check; every completed flush is there */
        h = open_ok(path, SB_HISTORY_READ);
        ck_assert_str_eq(raw_text(path, "PRAGMA integrity_check"), "ok");
        n = count_seconds(h, start, last + 1);
        ck_assert_int_eq(n, (int)(last - start + 1));
        ck_assert_int_eq(sb_history_seconds(h, start, INT64_MAX, check_contiguous, &c),
                         APR_SUCCESS);
        ck_assert_int_eq(c.holes, 0);
        ck_assert_int_eq(sb_history_last_ts(h, &newest), APR_SUCCESS);
        /* at most the flush in progress at the kill is there beyond */
        ck_assert_msg(newest == last || newest == last + 10, "newest %lld, last %lld",
                      (long long)newest, (long long)last);
        sb_history_close(h);
    }
}
END_TEST

/* ------------------------------------------------------------ full, busy */

START_TEST(full_at_the_size_cap)
{
    const char *path = path_in("capped.db");
    sb_history_t *w = open_ok(path, SB_HISTORY_WRITE), *r;
    apr_off_t bytes;

    put_seconds(w, 1, 100);
    ck_assert_int_eq(sb_history_flush(w), APR_SUCCESS);
    ck_assert_int_eq(sb_history_max_bytes(w, 1), APR_SUCCESS);  /* = current size */
    put_seconds(w, 101, 3000);
    ck_assert_int_eq(sb_history_flush(w), SB_HISTORY_EFULL);
    ck_assert_msg(strstr(sb_history_error(w), "full") && strstr(sb_history_error(w), path),
                  "%s", sb_history_error(w));
    ck_assert_uint_eq(sb_history_pending(w), 3000);
    put_seconds(w, 3101, 1);                                    /* sampling goes on */
    ck_assert_int_eq(sb_history_flush(w), SB_HISTORY_EFULL);
    ck_assert_uint_eq(sb_history_pending(w), 3001);
    ck_assert_uint_eq(sb_history_dropped(w), 0);

    r = open_ok(path, SB_HISTORY_READ);
    ck_assert_int_eq(count_all_seconds(r), 100);               /* nothing half-written */

    ck_assert_int_eq(sb_history_max_bytes(w, 0), APR_SUCCESS);  /* space again */
    ck_assert_int_eq(sb_history_flush(w), APR_SUCCESS);
    ck_assert_uint_eq(sb_history_pending(w), 0);
    ck_assert_int_eq(count_all_seconds(r), 3101);
    ck_assert_int_eq(sb_history_disk_bytes(w, &bytes), APR_SUCCESS);
    ck_assert_int_gt(bytes, 3101 * 50);
    sb_history_close(r);
    sb_history_close(w);
}
END_TEST

static void fill_up(int fd)
{
    static char block[65536];
    static const size_t sizes[] = { sizeof(block), 4096, 512, 1 };
    apr_size_t i;

    for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        while (write(fd, block, sizes[i]) > 0) {
        }
    }
}

/* The full-disk scenario on the file system at dir; returns NULL or what
 * went wrong (no ck_assert: the caller must unmount first). */
static const char *full_disk_scenario(const char *dir)
{
    const char *path = apr_pstrcat(pool, dir, "/h.db", NULL);
    const char *filler = apr_pstrcat(pool, dir, "/filler", NULL);
    sb_history_t *w = NULL, *r = NULL;
    const char *fail = NULL;
    sb_hist_second_t row;
    apr_status_t rv;
    int fd, i;
    seconds_t c = { 0, 0, NULL, 0, 0 };

    if ((rv = sb_history_open(&w, path, SB_HISTORY_WRITE, pool)) != APR_SUCCESS) {
        return apr_psprintf(pool, "open: %s", sb_history_error(w));
    }
    for (i = 0; i < 3100; i++) {
        make_second(&row, 1 + i);
        if (sb_history_put_second(w, &row) != APR_SUCCESS) {
            fail = apr_psprintf(pool, "put: %s", sb_history_error(w));
            goto out;
        }
        if (i == 99 && sb_history_flush(w) != APR_SUCCESS) {
            fail = apr_psprintf(pool, "first flush: %s", sb_history_error(w));
            goto out;
        }
        if (i == 99) {
            fd = open(filler, O_WRONLY | O_CREAT | O_TRUNC, 0600);
            if (fd < 0) {
                fail = "cannot create the filler";
                goto out;
            }
            fill_up(fd);
            close(fd);
        }
    }
    if ((rv = sb_history_flush(w)) != SB_HISTORY_EFULL) {
        fail = apr_psprintf(pool, "flush on a full disk returned %d, not SB_HISTORY_EFULL: %s",
                            rv, sb_history_error(w));
        goto out;
    }
    printf("full tmpfs: %s\n", sb_history_error(w));
    if (sb_history_pending(w) != 3000) {
        fail = apr_psprintf(pool, "%lu rows buffered, not 3000",
                            (unsigned long)sb_history_pending(w));
        goto out;
    }
    if ((rv = sb_history_flush(w)) != SB_HISTORY_EFULL || sb_history_pending(w) != 3000) {
        fail = "the retry on a full disk did not fail the same way";
        goto out;
    }
    unlink(filler);
    if ((rv = sb_history_flush(w)) != APR_SUCCESS || sb_history_pending(w) != 0) {
        fail = apr_psprintf(pool, "flush after freeing space: %s", sb_history_error(w));
        goto out;
    }
    sb_history_close(w);
    w = NULL;
    if (sb_history_open(&r, path, SB_HISTORY_READ, pool) != APR_SUCCESS) {
        fail = apr_psprintf(pool, "reopen: %s", sb_history_error(r));
        goto out;
    }
    if (sb_history_seconds(r, 0, INT64_MAX, collect_second, &c) != APR_SUCCESS
        || c.n != 3100 || c.out_of_order) {
        fail = apr_psprintf(pool, "%d rows after the disk had room again, not 3100", c.n);
    }
out:
    sb_history_close(w);
    sb_history_close(r);
    unlink(filler);
    return fail;
}

START_TEST(full_disk_on_a_tmpfs)
{
    const char *mnt = path_in("tmpfs");
    const char *no_mount = getenv("SB_TEST_NO_MOUNT");
    const char *fail;

    if (geteuid() != 0) {
        printf("full_disk_on_a_tmpfs: skipped, not root (full_at_the_size_cap covers"
               " SQLITE_FULL)\n");
        return;
    }
    ck_assert_int_eq(mkdir(mnt, 0700), 0);
    /* a private mount namespace: the tmpfs vanishes with this process even
     * if the test dies; unmounted below anyway */
    if (unshare(CLONE_NEWNS) == 0) {
        mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL);
    }
    if (mount("tmpfs", mnt, "tmpfs", MS_NOSUID | MS_NODEV, "size=1m,mode=0700") != 0) {
        int e = errno;
        if (no_mount && strcmp(no_mount, "1") == 0) {
            printf("full_disk_on_a_tmpfs: skipped, cannot mount a tmpfs (%s) and"
                   " SB_TEST_NO_MOUNT=1\n", strerror(e));
            return;
        }
        ck_abort_msg("cannot mount a tmpfs on %s: %s; set SB_TEST_NO_MOUNT=1 where"
                     " mounting is not allowed", mnt, strerror(e));
    }
    fail = full_disk_scenario(mnt);
    if (umount2(mnt, 0) != 0) {
        umount2(mnt, MNT_DETACH);
    }
    ck_assert_msg(fail == NULL, "%s", fail);
}
END_TEST

START_TEST(locked_database)
{
    const char *path = path_in("locked.db");
    sb_history_t *w = open_ok(path, SB_HISTORY_WRITE), *r;
    sqlite3 *other = NULL;

    put_seconds(w, 1, 10);
    ck_assert_int_eq(sb_history_flush(w), APR_SUCCESS);
    r = open_ok(path, SB_HISTORY_READ);
    sb_history_busy_timeout(w, 20);

    ck_assert_int_eq(sqlite3_open_v2(path, &other, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
    ck_assert_int_eq(sqlite3_exec(other, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
    put_seconds(w, 11, 20);
    ck_assert_int_eq(sb_history_flush(w), SB_HISTORY_EBUSY);
    ck_assert_msg(strstr(sb_history_error(w), "lock"), "%s", sb_history_error(w));
    ck_assert_uint_eq(sb_history_pending(w), 20);
    put_seconds(w, 31, 5);                              /* buffering goes on */
    ck_assert_int_eq(sb_history_flush(w), SB_HISTORY_EBUSY);
    ck_assert_uint_eq(sb_history_pending(w), 25);
    ck_assert_int_eq(sb_history_prune(w, apr_time_from_sec(1000000), 1, 1),
                     SB_HISTORY_EBUSY);
    ck_assert_int_eq(count_all_seconds(r), 10);         /* readers go on too */

    /* the buffer is bounded: the oldest rows are dropped and counted */
    put_seconds(w, 36, SB_HISTORY_PENDING_SECONDS);
    ck_assert_uint_eq(sb_history_pending(w), SB_HISTORY_PENDING_SECONDS);
    ck_assert_uint_eq(sb_history_dropped(w), 25);

    ck_assert_int_eq(sqlite3_exec(other, "ROLLBACK", NULL, NULL, NULL), SQLITE_OK);
    ck_assert_int_eq(sb_history_flush(w), APR_SUCCESS);
    ck_assert_uint_eq(sb_history_pending(w), 0);
    ck_assert_int_eq(count_all_seconds(r), 10 + SB_HISTORY_PENDING_SECONDS);
    ck_assert_int_eq(count_seconds(r, 11, 36), 0);      /* the dropped ones */
    sqlite3_close(other);
    sb_history_close(r);
    sb_history_close(w);
}
END_TEST

/* ------------------------------------------------------------ disk use */

/* Histograms of a moderately busy minute (~10 requests/s): wide,
 * log-spread distributions, so most buckets in their range are used. */
static void busy_minute_hists(sb_hist_t hs[5])
{
    int k;

    for (k = 0; k < 5; k++) {
        sb_hist_init(&hs[k]);
    }
    for (k = 0; k < 450; k++) {
        sb_hist_add(&hs[0], 0.01 * pow(1000, uniform()));     /* gaps 10 ms .. 10 s */
        sb_hist_add(&hs[3], 0.001 * pow(2000, uniform()));    /* service 1 ms .. 2 s */
    }
    for (k = 0; k < 150; k++) {
        sb_hist_add(&hs[1], 0.5 + 14.5 * uniform());          /* closes up to 15 s */
        sb_hist_add(&hs[2], 1 + (int)(uniform() * uniform() * 30)); /* requests */
        sb_hist_add(&hs[4], 0.1 * pow(300, uniform()));       /* hold 0.1 .. 30 s */
    }
}

static apr_off_t file_size(const char *path)
{
    struct stat st;
    ck_assert_int_eq(stat(path, &st), 0);
    return (apr_off_t)st.st_size;
}

START_TEST(disk_use_measured)
{
    const int nsec = 48 * 3600, nmin = 90 * 1440, nclients = 20;
    const int64_t t0 = 1700000000 - 1700000000 % 86400;
    const char *pe = path_in("du-empty.db"), *ps = path_in("du-seconds.db");
    const char *pm = path_in("du-minutes.db"), *pc = path_in("du-clients.db");
    sb_history_t *h;
    sb_hist_t pool_h[64][5];
    sb_hist_client_t cl[20];
    char names[20][40];
    apr_off_t empty, s_bytes, m_bytes, c_bytes, blob_bytes = 0;
    double per_s, per_m, per_c;
    apr_time_t t_open;
    int i, k;

    h = open_ok(pe, SB_HISTORY_WRITE);
    sb_history_close(h);
    empty = file_size(pe);

    h = open_ok(ps, SB_HISTORY_WRITE);
    for (i = 0; i < nsec; i++) {
        sb_hist_second_t r;
        make_second(&r, t0 + i);
        if (r.gap) {
            make_second(&r, t0 + i + 1);        /* a busy server: no gaps */
            r.ts = t0 + i;
        }
        ck_assert_int_eq(sb_history_put_second(h, &r), APR_SUCCESS);
        if (i % 3000 == 2999) {
            ck_assert_int_eq(sb_history_flush(h), APR_SUCCESS);
        }
    }
    ck_assert_int_eq(sb_history_flush(h), APR_SUCCESS);
    sb_history_close(h);
    s_bytes = file_size(ps) - empty;

    for (k = 0; k < 64; k++) {
        unsigned char buf[SB_HIST_ENCODED_MAX];
        int j;
        busy_minute_hists(pool_h[k]);
        for (j = 0; j < 5; j++) {
            blob_bytes += (apr_off_t)sb_hist_encode(&pool_h[k][j], buf);
        }
    }
    h = open_ok(pm, SB_HISTORY_WRITE);
    for (i = 0; i < nmin; i++) {
        sb_hist_minute_t m;
        sb_hist_t *hs = pool_h[i % 64];
        sb_hist_minute_init(&m, t0 + 60 * (int64_t)i);
        m.source = SB_SOURCE_SHM;
        m.seconds = 60;
        m.gap_seconds = 0;
        m.busy_mean = 20 + (i % 97) / 7.0;
        m.busy_max = 30 + i % 50;
        m.idle_mean = 80 - (i % 97) / 7.0;
        m.keepalive_slots_mean = (i % 53) / 3.0;
        m.keepalive_slots_max = 10 + (i % 61) / 9.0;
        m.keepalive_conns_mean = (i % 59) / 3.0;
        m.keepalive_conns_max = 12 + (i % 67) / 9.0;
        m.req_per_s_mean = 10 + (i % 83) / 7.0;
        m.req_per_s_max = 25 + (i % 89) / 3.0;
        m.conn_per_s_mean = 2.5 + (i % 71) / 13.0;
        m.conn_per_s_max = 7 + (i % 73) / 5.0;
        m.listen_queue_max = i % 31 == 0 ? 2 : 0;
        m.listen_overflows = 0;
        m.listen_drops = 0;
        m.bytes_per_s_mean = 512345.25 + (i % 1000) * 17.5;
        m.pss_per_worker_bytes = 7000000 + (i % 1000) * 4096;
        m.mem_available_min = 3000000000LL - (i % 5000) * 4096;
        m.ka_gap_hist = &hs[0];
        m.ka_close_hist = &hs[1];
        m.req_per_conn_hist = &hs[2];
        m.service_time_hist = &hs[3];
        m.hold_time_hist = &hs[4];
        ck_assert_int_eq(sb_history_put_minute(h, &m), APR_SUCCESS);
        if (i % 1000 == 999) {
            ck_assert_int_eq(sb_history_flush(h), APR_SUCCESS);
        }
    }
    ck_assert_int_eq(sb_history_flush(h), APR_SUCCESS);
    sb_history_close(h);
    m_bytes = file_size(pm) - empty;

    h = open_ok(pc, SB_HISTORY_WRITE);
    for (k = 0; k < nclients; k++) {
        snprintf(names[k], sizeof(names[k]), "2001:db8:%x::%x", k * 37, k * 1011);
        cl[k].client = names[k];
        cl[k].max_slots = 1 + k % 4;
    }
    for (i = 0; i < nsec / 60; i++) {
        for (k = 0; k < nclients; k++) {
            cl[k].slot_seconds = 0.5 + (double)((i * 31 + k * 7) % 600) / 10.0;
        }
        ck_assert_int_eq(sb_history_put_clients(h, t0 + 60 * (int64_t)i, cl, nclients),
                         APR_SUCCESS);
        if (i % 100 == 99) {
            ck_assert_int_eq(sb_history_flush(h), APR_SUCCESS);
        }
    }
    ck_assert_int_eq(sb_history_flush(h), APR_SUCCESS);
    sb_history_close(h);
    c_bytes = file_size(pc) - empty;

    t_open = apr_time_now();
    h = open_ok(pm, SB_HISTORY_READ);                   /* runs quick_check */
    t_open = apr_time_now() - t_open;
    sb_history_close(h);

    per_s = (double)s_bytes / nsec;
    per_m = (double)m_bytes / nmin;
    per_c = (double)c_bytes / (nsec / 60 * nclients);
    printf("history disk use: empty file %ld bytes; second row %.1f bytes (48 h: %.1f MiB);"
           " minute row %.1f bytes with 5 histograms of %.1f bytes on average"
           " (90 days: %.1f MiB); client row %.1f bytes (48 h x %d clients: %.1f MiB);"
           " quick_check at open of the 90-day minute file: %.2f s\n",
           (long)empty, per_s, s_bytes / 1048576.0, per_m, blob_bytes / (64.0 * 5), 
           m_bytes / 1048576.0, per_c, nclients, c_bytes / 1048576.0,
           (double)t_open / APR_USEC_PER_SEC);
    /* the bounds sbtune-history(5) states */
    ck_assert(per_s < 150);
    ck_assert(per_m < 1000);
    ck_assert(per_c < 80);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("history");
    TCase *hist = tcase_create("histogram");
    TCase *store = tcase_create("store");
    TCase *slow = tcase_create("slow");
    SRunner *sr;
    int failed;

    apr_initialize();
    make_tmpdir();

    tcase_add_checked_fixture(hist, setup, teardown);
    tcase_add_test(hist, hist_bucket_edges);
    tcase_add_test(hist, hist_add_special_values);
    tcase_add_test(hist, hist_quantiles_known_distributions);
    tcase_add_test(hist, hist_merge);
    tcase_add_test(hist, hist_encode_round_trip);
    tcase_add_test(hist, hist_decode_malformed);
    suite_add_tcase(s, hist);

    tcase_add_checked_fixture(store, setup, teardown);
    tcase_set_timeout(store, 120);
    tcase_add_test(store, round_trip_every_table);
    tcase_add_test(store, callback_stops_iteration);
    tcase_add_test(store, invalid_rows_and_read_only);
    tcase_add_test(store, reader_sees_committed_rows_only);
    tcase_add_test(store, reader_in_forked_process);
    tcase_add_test(store, prune_exactly_older_rows);
    tcase_add_test(store, prune_shrinks_the_file);
    tcase_add_test(store, newer_schema_is_refused);
    tcase_add_test(store, old_schema_is_migrated);
    tcase_add_test(store, failed_migration_leaves_the_file);
    tcase_add_test(store, v1_file_gets_the_v2_columns);
    tcase_add_test(store, foreign_database_is_refused);
    tcase_add_test(store, symlinks_and_odd_paths_are_refused);
    tcase_add_test(store, missing_directory_or_file);
    tcase_add_test(store, file_mode_is_0640);
    tcase_add_test(store, not_writable_file);
    tcase_add_test(store, not_a_database_is_left_alone);
    tcase_add_test(store, damaged_database_is_left_alone);
    tcase_add_test(store, kill_9_of_the_writer);
    tcase_add_test(store, full_at_the_size_cap);
    tcase_add_test(store, full_disk_on_a_tmpfs);
    tcase_add_test(store, locked_database);
    suite_add_tcase(s, store);

    tcase_add_checked_fixture(slow, setup, teardown);
    tcase_set_timeout(slow, 600);
    tcase_add_test(slow, disk_use_measured);
    suite_add_tcase(s, slow);

    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    remove_tmpdir();
    apr_terminate();
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
