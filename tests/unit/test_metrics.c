/* Unit tests of the exposition text: the histograms in sb_hist's buckets
 * (sbtune report --prometheus maps them back to the history's), the
 * 60-second extremes and maxima, the settings gauges. */
#include <check.h>
#include "sb_unit.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <apr_general.h>
#include <apr_strings.h>
#include "sb_hist.h"
#include "sb_metrics.h"

static apr_pool_t *pool;

static void setup(void)
{
    apr_pool_create(&pool, NULL);
}

static void teardown(void)
{
    apr_pool_destroy(pool);
}

/* A measured second at ts with conn_per_s conn and obs values of kind. */
static void second(sb_second_t *s, int64_t ts, double conn, sb_obs_kind_t kind,
                   double *v, int n)
{
    int i;

    memset(s, 0, sizeof(*s));
    s->ts = ts;
    s->busy_mean = s->busy_max = s->idle_mean = 1;
    s->keepalive_slots_mean = s->reading_mean = s->writing_mean = 0;
    s->closing_mean = s->graceful_mean = s->open_mean = 0;
    s->keepalive_conns_mean = s->keepalive_conns_max = NAN;
    s->req_per_s = s->accepted_per_s = s->refused_per_s = NAN;
    s->kbytes_per_s = s->listen_overflows = NAN;
    s->listen_queue_max = 0;
    s->conn_per_s = conn;
    s->pss_total_bytes = s->mem_available_bytes = -1;
    for (i = 0; i < SB_OBS_N; i++) {
        s->obs[i].n = 0;
    }
    s->obs[kind].n = n;
    s->obs[kind].v = v;
}

/* The value of the line that starts with prefix (followed by a space);
 * NaN when there is none. */
static double value_of(const char *text, const char *prefix)
{
    const char *at = text;
    size_t n = strlen(prefix);

    while ((at = strstr(at, prefix)) != NULL) {
        if ((at == text || at[-1] == '\n') && at[n] == ' ') {
            return strtod(at + n + 1, NULL);
        }
        at += n;
    }
    return NAN;
}

START_TEST(histogram_bounds_are_the_history_buckets)
{
    sb_metrics_t *m = sb_metrics_create(pool);
    double gaps[] = { 0.2, 0.2, 2.0 }, reqs[] = { 3 };
    sb_second_t s;
    const char *text, *at;
    char line[128];
    int i = 0;

    second(&s, 100, 1, SB_OBS_KA_GAP, gaps, 3);
    sb_metrics_update(m, &s);
    second(&s, 101, 1, SB_OBS_REQ_PER_CONN, reqs, 1);
    sb_metrics_update(m, &s);
    text = sb_metrics_render(m, 0, pool);
    /* every bound, in order, parses back to sb_hist's edge exactly */
    for (at = text; (at = strstr(at, "\nsbtune_keepalive_gap_seconds_bucket{le=\"")) != NULL;) {
        char *end;
        double le;

        at += strlen("\nsbtune_keepalive_gap_seconds_bucket{le=\"");
        if (strncmp(at, "+Inf", 4) == 0) {
            break;
        }
        le = strtod(at, &end);
        i++;
        ck_assert_msg(le == sb_hist_edge(i), "bound %d: %.17g, edge %.17g", i, le,
                      sb_hist_edge(i));
    }
    ck_assert_int_eq(i, SB_HIST_NBUCKETS - 1);
    /* [lo, hi): 2.0 is above the bound 2, 0.2 below 0.21022... */
    ck_assert(value_of(text, "sbtune_keepalive_gap_seconds_bucket{le=\"2\"}") == 2);
    ck_assert(value_of(text, "sbtune_keepalive_gap_seconds_bucket{le=\"+Inf\"}") == 3);
    ck_assert(fabs(value_of(text, "sbtune_keepalive_gap_seconds_sum") - 2.4) < 1e-12);
    ck_assert(value_of(text, "sbtune_keepalive_gap_seconds_count") == 3);
    ck_assert(value_of(text, "sbtune_keepalive_gap_seconds_min60s") == 0.2);
    ck_assert(value_of(text, "sbtune_keepalive_gap_seconds_max60s") == 2.0);
    /* 3 requests: in [2^1.5, 2^1.75) (libc's %.17g, as the exporter prints) */
    snprintf(line, sizeof(line), "sbtune_connection_requests_bucket{le=\"%.17g\"}",
             sb_hist_edge(sb_hist_bucket(3)));
    ck_assert(value_of(text, line) == 0);
    snprintf(line, sizeof(line), "sbtune_connection_requests_bucket{le=\"%.17g\"}",
             sb_hist_edge(sb_hist_bucket(3) + 1));
    ck_assert(value_of(text, line) == 1);
    ck_assert(value_of(text, "sbtune_connection_requests_count") == 1);
    /* no observation of service times: no extremes exported */
    ck_assert_ptr_null(strstr(text, "sbtune_request_service_seconds_max60s "));
}
END_TEST

START_TEST(sixty_second_maxima_forget_older_seconds)
{
    sb_metrics_t *m = sb_metrics_create(pool);
    double gap[] = { 7 };
    sb_second_t s;
    const char *text;
    int t;

    second(&s, 1000, 50, SB_OBS_KA_GAP, gap, 1);
    sb_metrics_update(m, &s);
    for (t = 1; t < 60; t++) {
        second(&s, 1000 + t, 1, SB_OBS_KA_GAP, NULL, 0);
        sb_metrics_update(m, &s);
    }
    text = sb_metrics_render(m, 0, pool);
    ck_assert(value_of(text, "sbtune_connections_per_second_max60s") == 50);
    ck_assert(value_of(text, "sbtune_keepalive_gap_seconds_max60s") == 7);
    second(&s, 1060, 1, SB_OBS_KA_GAP, NULL, 0);
    sb_metrics_update(m, &s);
    text = sb_metrics_render(m, 0, pool);
    ck_assert(value_of(text, "sbtune_connections_per_second_max60s") == 1);
    ck_assert_ptr_null(strstr(text, "sbtune_keepalive_gap_seconds_max60s "));
    /* the histogram keeps counting since the start */
    ck_assert(value_of(text, "sbtune_keepalive_gap_seconds_count") == 1);
}
END_TEST

START_TEST(settings_only_when_given)
{
    sb_metrics_t *m = sb_metrics_create(pool);
    sb_metrics_settings_t set = { -1, NAN, -1 };
    const char *text;

    text = sb_metrics_render(m, 0, pool);
    ck_assert_ptr_null(strstr(text, "sbtune_httpd_max_request_workers"));
    ck_assert_ptr_null(strstr(text, "sbtune_httpd_keepalive_timeout_seconds"));
    set.max_request_workers = 150;
    set.keepalive_timeout = 0;
    set.threads_per_child = 25;
    sb_metrics_set_settings(m, &set, 8LL << 30);
    text = sb_metrics_render(m, 0, pool);
    ck_assert(value_of(text, "sbtune_httpd_max_request_workers") == 150);
    ck_assert(value_of(text, "sbtune_httpd_keepalive_timeout_seconds") == 0);
    ck_assert(value_of(text, "sbtune_httpd_threads_per_child") == 25);
    ck_assert(value_of(text, "sbtune_host_memory_total_bytes") == (double)(8LL << 30));
}
END_TEST

int main(void)
{
    Suite *s = suite_create("metrics");
    TCase *tc = tcase_create("metrics");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, histogram_bounds_are_the_history_buckets);
    tcase_add_test(tc, sixty_second_maxima_forget_older_seconds);
    tcase_add_test(tc, settings_only_when_given);
    suite_add_tcase(s, tc);
    return sb_unit_run(s);
}
