/* Unit tests of the capacity model (lib/sb_model.c): Erlang C against an
 * independent formula, the planning article's own figures, the
 * KeepAliveTimeout choice on histograms with known quantiles, the hold
 * time, the memory cap, the MPMs' rounding, hysteresis and too little
 * data. */
#include <check.h>
#include "sb_unit.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <apr_general.h>
#include "sb_model.h"

static apr_pool_t *pool;

static void setup(void)
{
    apr_pool_create(&pool, NULL);
}

static void teardown(void)
{
    apr_pool_destroy(pool);
}

/* Erlang C the textbook way, a different formula from the model's Erlang B
 * recursion: C = T / (sum_{k<n} a^k/k! + T), T = a^n/n! * n/(n-a), every
 * term in log space with long double so that n = 100,000 works too. */
static long double ref_erlang_c(int n, long double a)
{
    long double la = logl(a), mx, sum = 0, lt;
    int k;

    lt = n * la - lgammal((long double)n + 1) + logl((long double)n / (n - a));
    mx = lt;
    for (k = 0; k < n; k++) {
        long double l = k * la - lgammal((long double)k + 1);
        if (l > mx) {
            mx = l;
        }
    }
    for (k = 0; k < n; k++) {
        sum += expl(k * la - lgammal((long double)k + 1) - mx);
    }
    return expl(lt - mx) / (sum + expl(lt - mx));
}

static void hist_fill_uniform(sb_hist_t *h, double lo, double hi, int n)
{
    int i;

    sb_hist_init(h);
    for (i = 0; i < n; i++) {
        sb_hist_add(h, lo + (hi - lo) * (i + 0.5) / n);
    }
}

static void hist_fill_const(sb_hist_t *h, double v, int n)
{
    int i;

    for (i = 0; i < n; i++) {
        sb_hist_add(h, v);
    }
}

/* The article's second figure as calculator inputs. */
static void article_inputs(sb_model_inputs_t *in)
{
    sb_model_inputs_init(in);
    in->peak_conn_per_s = 150;
    in->hold_time_s = 6.6;
    in->kat = 5;
}

/* ------------------------------------------------------------------ Erlang C */

START_TEST(erlang_c_known_values)
{
    static const struct {
        int n;
        double a;
    } cases[] = {
        { 1, 0.5 }, { 2, 1 }, { 10, 8 }, { 10, 9.9 }, { 50, 45 }, { 100, 80 },
        { 256, 219.6 }, { 1066, 990 }, { 5000, 4900 }, { 100000, 99000 },
    };
    apr_size_t i;

    /* the classic example: 10 agents, 8 erlangs */
    ck_assert_double_eq_tol(sb_model_erlang_c(10, 8), 0.40918015, 1e-7);
    ck_assert_double_eq_tol(sb_model_erlang_c(1, 0.5), 0.5, 1e-12);
    ck_assert_double_eq_tol(sb_model_erlang_c(2, 1), 1.0 / 3, 1e-12);
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        double got = sb_model_erlang_c(cases[i].n, cases[i].a);
        long double want = ref_erlang_c(cases[i].n, cases[i].a);
        ck_assert_msg(fabsl(got - want) < 1e-9 + 1e-9 * want,
                      "C(%d, %g) = %.12g, reference %.12Lg", cases[i].n, cases[i].a, got, want);
        ck_assert(got > 0 && got < 1);
    }
    ck_assert_double_eq(sb_model_erlang_c(10, 10), 1.0);
    ck_assert_double_eq(sb_model_erlang_c(10, 12), 1.0);
    ck_assert_double_eq(sb_model_erlang_c(10, 0), 0.0);
    ck_assert(isnan(sb_model_erlang_c(0, 1)));
    ck_assert(isnan(sb_model_erlang_c(10, -1)));
    ck_assert(isnan(sb_model_erlang_c(10, NAN)));
}
END_TEST

START_TEST(slots_for_is_the_smallest_and_monotonic)
{
    double a;
    int prev = 0, n;

    for (a = 0; a < 600; a += 0.7) {
        n = sb_model_slots_for(a, 0.01);
        ck_assert_int_gt(n, a);
        ck_assert_int_ge(n, prev);
        ck_assert(sb_model_erlang_c(n, a) <= 0.01);
        ck_assert(n - 1 <= a || sb_model_erlang_c(n - 1, a) > 0.01);
        /* a looser target never needs more slots */
        ck_assert_int_le(sb_model_slots_for(a, 0.05), n);
        ck_assert_int_ge(sb_model_slots_for(a, 0.001), n);
        prev = n;
    }
    ck_assert_int_eq(sb_model_slots_for(0, 0.01), 1);
    /* large: about a + 2.37 sqrt(a) (Halfin-Whitt) and exactly the boundary */
    n = sb_model_slots_for(99000, 0.01);
    ck_assert_int_gt(n, 99000 + 2.2 * sqrt(99000));
    ck_assert_int_lt(n, 99000 + 2.6 * sqrt(99000));
    ck_assert(ref_erlang_c(n, 99000) <= 0.01);
    ck_assert(ref_erlang_c(n - 1, 99000) > 0.01);
    ck_assert_int_eq(sb_model_slots_for(-1, 0.01), -1);
    ck_assert_int_eq(sb_model_slots_for(10, 0), -1);
    ck_assert_int_eq(sb_model_slots_for(10, 1), -1);
    ck_assert_int_eq(sb_model_slots_for(NAN, 0.01), -1);
}
END_TEST

START_TEST(load_for_inverts_erlang_c)
{
    double a = sb_model_load_for(256, 0.01);

    ck_assert(a > 200 && a < 256);
    ck_assert_double_eq_tol(sb_model_erlang_c(256, a), 0.01, 1e-6);
    ck_assert(isnan(sb_model_load_for(0, 0.01)));
}
END_TEST

START_TEST(poisson_quantile)
{
    /* reference: the direct sum of the pmf */
    double means[] = { 0.5, 3, 100, 990 };
    apr_size_t i;

    for (i = 0; i < sizeof(means) / sizeof(means[0]); i++) {
        long double cum = 0, term = expl(-(long double)means[i]);
        long k = 0;
        while (cum + term < 0.99L) {
            cum += term;
            k++;
            term *= means[i] / k;
        }
        ck_assert_int_eq(sb_model_poisson_quantile(means[i], 0.99), k);
    }
    ck_assert_int_eq(sb_model_poisson_quantile(100, 0.99), 124);
    ck_assert_int_eq(sb_model_poisson_quantile(0, 0.99), 0);
    ck_assert_int_eq(sb_model_poisson_quantile(-1, 0.99), -1);
}
END_TEST

/* ------------------------------------------------------------------ the article */

START_TEST(article_256_slots_at_7_s)
{
    double little, erlang;
    char words[2048];

    ck_assert_int_eq(sb_model_capacity(256, 7, 0.01, &little, &erlang, words, sizeof(words)), 0);
    /* 256/7 = 36.57: the article's "36 (new) requests / second" */
    ck_assert_double_eq_tol(little, 256.0 / 7, 1e-9);
    ck_assert_int_eq((int)little, 36);
    /* random arrivals: less, and exactly P(wait) = 1 % there */
    ck_assert(erlang < little && erlang > 30);
    ck_assert_double_eq_tol(sb_model_erlang_c(256, erlang * 7), 0.01, 1e-6);
    ck_assert_ptr_nonnull(strstr(words, "256 slots / 7 s hold = 36.6 new clients/s"));
    ck_assert_int_eq(sb_model_capacity(0, 7, 0.01, &little, &erlang, NULL, 0), -1);
}
END_TEST

START_TEST(article_150_per_s_at_kat_5)
{
    sb_model_config_t cfg;
    sb_model_inputs_t in;
    sb_model_plan_t *plan = apr_pcalloc(pool, sizeof(*plan));

    sb_model_config_defaults(&cfg);
    article_inputs(&in);
    ck_assert_int_eq(sb_model_plan(&cfg, &in, NULL, plan), SB_MODEL_OK);
    /* L = lambda W: 150 x 6.6 = 990, the article's "area of 1,000" */
    ck_assert_double_eq_tol(plan->rec.littles_slots, 990, 1e-6);
    ck_assert_double_eq_tol(plan->rec.hold.hold_s, 6.6, 1e-9);
    ck_assert_double_eq_tol(plan->rec.hold.final_wait_s, 5, 1e-9);
    ck_assert_double_eq_tol(plan->rec.hold.active_s, 1.6, 1e-9);
    /* Erlang C asks for more than L, still about 1,000 */
    ck_assert_int_eq(plan->rec.slots, sb_model_slots_for(150 * 6.6, 0.01));
    ck_assert_int_gt(plan->rec.max_request_workers, 990);
    ck_assert_int_lt(plan->rec.max_request_workers, 1100);
    ck_assert_int_eq(plan->rec.server_limit, plan->rec.max_request_workers
                     + (plan->rec.max_request_workers + 3) / 4);
    ck_assert_int_eq(plan->rec.kat, 5);
    ck_assert(plan->rec.wait_prob <= 0.01);
    ck_assert_ptr_nonnull(strstr(plan->arithmetic,
                                 "150 new clients/s × 6.6 s hold = 990 slots"));
    ck_assert_ptr_nonnull(strstr(plan->arithmetic, "Erlang C"));
    ck_assert_ptr_nonnull(strstr(plan->uncertainty, "estimate"));
    /* no current ServerLimit known: nothing claimed */
    ck_assert_int_eq(plan->needs_full_restart, 0);

    /* the article's planning route: 50/s busy average x 3 = 150/s */
    cfg.spike_factor = 3;
    in.peak_conn_per_s = NAN;
    in.busy_conn_per_s = 50;
    ck_assert_int_eq(sb_model_plan(&cfg, &in, NULL, plan), SB_MODEL_OK);
    ck_assert_double_eq_tol(plan->design_conn_per_s, 150, 1e-9);
    ck_assert_double_eq_tol(plan->rec.littles_slots, 990, 1e-6);
}
END_TEST

START_TEST(design_rate)
{
    char w[512];

    ck_assert_double_eq_tol(sb_model_design_rate(2.5, 40, 95, w, sizeof(w)), 100, 1e-9);
    ck_assert_ptr_nonnull(strstr(w, "max(2.5 × 40 (the busy-period mean) = 100, 95"));
    ck_assert_double_eq_tol(sb_model_design_rate(2.5, 40, 120, w, sizeof(w)), 120, 1e-9);
    ck_assert_double_eq_tol(sb_model_design_rate(2.5, NAN, 120, NULL, 0), 120, 1e-9);
    ck_assert_double_eq_tol(sb_model_design_rate(2.5, 40, NAN, NULL, 0), 100, 1e-9);
    ck_assert(isnan(sb_model_design_rate(2.5, NAN, NAN, NULL, 0)));
}
END_TEST

/* ------------------------------------------------------------------ KeepAliveTimeout */

START_TEST(kat_from_known_quantiles)
{
    sb_hist_t g;
    sb_model_kat_t k;
    int i;

    /* uniform on [0, 2] s: the 95th percentile is 1.9 s -> 2 s */
    hist_fill_uniform(&g, 0, 2, 10000);
    ck_assert_int_eq(sb_model_choose_kat(&g, 5, 0.95, 1, 0, &k), 0);
    ck_assert_double_eq_tol(k.quantile_s, 1.9, 0.1);
    ck_assert_int_eq(k.kat, 2);
    ck_assert_int_eq(k.censored, 0);
    ck_assert(k.kept_share >= 0.95);
    ck_assert_ptr_nonnull(strstr(k.words, "KeepAliveTimeout 2 s keeps"));
    /* 80 %: 1.6 s -> 2 s; 50 %: 1 s -> 1 s */
    ck_assert_int_eq(sb_model_choose_kat(&g, 5, 0.5, 1, 0, &k), 0);
    ck_assert_int_eq(k.kat, 1);
    /* exponential, mean 0.5 s: 95th percentile 0.5 ln 20 = 1.50 s -> 2 s */
    sb_hist_init(&g);
    for (i = 0; i < 20000; i++) {
        sb_hist_add(&g, -0.5 * log(1 - (i + 0.5) / 20000.0));
    }
    ck_assert_int_eq(sb_model_choose_kat(&g, 15, 0.95, 1, 0, &k), 0);
    ck_assert_double_eq_tol(k.quantile_s, 0.5 * log(20), 0.1);
    ck_assert_int_eq(k.kat, 2);
    /* bounds: min 3 lifts it, max 1 caps it */
    ck_assert_int_eq(sb_model_choose_kat(&g, 15, 0.95, 3, 0, &k), 0);
    ck_assert_int_eq(k.kat, 3);
    /* 10 s quantile with a 15 s timeout, max 8: capped */
    hist_fill_uniform(&g, 0, 10.5, 10000);
    ck_assert_int_eq(sb_model_choose_kat(&g, 15, 0.95, 1, 8, &k), 0);
    ck_assert_int_eq(k.kat, 8);
    ck_assert_int_eq(k.censored, 0);
}
END_TEST

START_TEST(kat_censored_at_the_current_timeout)
{
    sb_hist_t g;
    sb_model_kat_t k;

    /* uniform up to the 5 s timeout: the 95th percentile (4.75 s) is at it */
    hist_fill_uniform(&g, 0, 5, 10000);
    ck_assert_int_eq(sb_model_choose_kat(&g, 5, 0.95, 1, 0, &k), 0);
    ck_assert_int_eq(k.censored, 1);
    ck_assert_int_eq(k.kat, 5);
    ck_assert_ptr_nonnull(strstr(k.words, "cannot show whether a longer timeout"));
    ck_assert_ptr_nonnull(strstr(k.words, "keeping 5 s"));
    /* a longer maximum is not used: nothing beyond 5 s was seen */
    ck_assert_int_eq(sb_model_choose_kat(&g, 5, 0.95, 1, 30, &k), 0);
    ck_assert_int_eq(k.kat, 5);
    ck_assert_ptr_nonnull(strstr(k.words, "trial at up to 30 s"));
    /* near: the quantile (4.2 s) is within a bucket of 5 s */
    hist_fill_uniform(&g, 0, 4.42, 10000);
    ck_assert_int_eq(sb_model_choose_kat(&g, 5, 0.95, 1, 0, &k), 0);
    ck_assert_int_eq(k.censored, 1);
    /* well below: not censored */
    hist_fill_uniform(&g, 0, 3, 10000);
    ck_assert_int_eq(sb_model_choose_kat(&g, 5, 0.95, 1, 0, &k), 0);
    ck_assert_int_eq(k.censored, 0);
    ck_assert_int_eq(k.kat, 3);
    /* no data */
    sb_hist_init(&g);
    ck_assert_int_eq(sb_model_choose_kat(&g, 5, 0.95, 1, 0, &k), -1);
    ck_assert_ptr_nonnull(strstr(k.words, "no idle gaps"));
    ck_assert_int_eq(sb_model_choose_kat(NULL, 5, 0.95, 1, 0, &k), -1);
}
END_TEST

/* ------------------------------------------------------------------ hold time */

/* 3 requests per connection, 0.1 s each; gaps half 0.5 s, half 3 s;
 * every connection closed by the 5 s timeout. */
static void hold_inputs(sb_model_inputs_t *in, sb_hist_t *gap, sb_hist_t *close_idle,
                        sb_hist_t *rpc, sb_hist_t *svc)
{
    sb_hist_init(gap);
    sb_hist_init(close_idle);
    sb_hist_init(rpc);
    sb_hist_init(svc);
    hist_fill_const(gap, 0.5, 1000);
    hist_fill_const(gap, 3.0, 1000);
    hist_fill_const(close_idle, 5.0, 1000);
    hist_fill_const(rpc, 3, 1000);
    hist_fill_const(svc, 0.1, 3000);
    sb_model_inputs_init(in);
    in->gap = gap;
    in->close_idle = close_idle;
    in->req_per_conn = rpc;
    in->service = svc;
    in->kat = 5;
}

START_TEST(hold_time_parts_and_shorter_timeout)
{
    sb_hist_t gap, close_idle, rpc, svc;
    sb_model_inputs_t in;
    sb_model_hold_t h;

    hold_inputs(&in, &gap, &close_idle, &rpc, &svc);
    /* at the measured 5 s: 3 x 0.1 + 2 x 1.75 + 5 = 8.8 s, nobody reconnects */
    ck_assert_double_eq_tol(sb_model_hold_time(&in, 5, &h), 8.8, 1e-9);
    ck_assert_double_eq_tol(h.service_s, 0.3, 1e-9);
    ck_assert_double_eq_tol(h.gaps_s, 3.5, 1e-9);
    ck_assert_double_eq_tol(h.final_wait_s, 5, 1e-9);
    ck_assert_double_eq_tol(h.reconnects, 0, 1e-12);
    ck_assert_double_eq_tol(h.kept_share, 1, 1e-12);
    /* a longer timeout is evaluated at the measured one */
    ck_assert_double_eq_tol(sb_model_hold_time(&in, 10, &h), 8.8, 1e-9);
    /* at 2 s: the 3 s gaps reconnect (1 per connection), each waits 2 s first;
     * final wait 2 s; slot-seconds 0.3 + 2 x 1.25 + 2 = 4.8 (within the
     * histogram's interpolation), over 2 connections */
    sb_model_hold_time(&in, 2, &h);
    ck_assert_double_eq_tol(h.kept_share, 0.5, 1e-9);
    ck_assert_double_eq_tol(h.reconnects, 1, 1e-9);
    ck_assert_double_eq_tol(h.rate_factor, 2, 1e-9);
    ck_assert_double_eq_tol(h.final_wait_s, 2, 1e-9);
    ck_assert_double_eq_tol(h.gaps_s, 2.5, 0.15);
    ck_assert_double_eq_tol(h.session_s, 4.8, 0.15);
    ck_assert_double_eq_tol(h.hold_s, h.session_s / 2, 1e-12);
    /* KeepAlive Off: every request its own connection */
    ck_assert_double_eq_tol(sb_model_hold_time(&in, 0, &h), 0.1, 1e-9);
    ck_assert_double_eq_tol(h.rate_factor, 3, 1e-9);
    ck_assert_double_eq_tol(h.session_s, 0.3, 1e-9);
    /* without gaps there is no hold time */
    in.gap = NULL;
    ck_assert(isnan(sb_model_hold_time(&in, 5, &h)));
    /* summary form: 6.6 s at 5 s = 1.6 active + 5 final; at 2 s: 3.6 s */
    article_inputs(&in);
    ck_assert_double_eq_tol(sb_model_hold_time(&in, 2, &h), 3.6, 1e-9);
    ck_assert_double_eq_tol(h.active_s, 1.6, 1e-9);
}
END_TEST

/* ------------------------------------------------------------------ memory */

START_TEST(memory_shortens_the_timeout)
{
    sb_model_config_t cfg;
    sb_model_inputs_t in;
    sb_model_plan_t *plan = apr_pcalloc(pool, sizeof(*plan));
    int n2 = sb_model_slots_for(150 * 3.6, 0.01), n1 = sb_model_slots_for(150 * 2.6, 0.01);

    sb_model_config_defaults(&cfg);
    article_inputs(&in);
    /* a budget for exactly the slots of a 2 s timeout */
    cfg.mem_budget_bytes = (int64_t)n2 * 10 * 1048576;
    in.pss_per_worker_bytes = 10 * 1048576;
    ck_assert_int_eq(sb_model_plan(&cfg, &in, NULL, plan), SB_MODEL_OK);
    ck_assert_int_eq(plan->kat_memory_limited, 1);
    ck_assert_int_eq(plan->rec.kat, 2);
    ck_assert_int_eq(plan->rec.max_request_workers, n2);
    ck_assert_int_eq(plan->mem_max_workers, n2);
    ck_assert_int_eq(plan->fits_memory, 1);
    ck_assert_ptr_nonnull(strstr(plan->arithmetic, "Memory sets KeepAliveTimeout 2 s"));
    /* one worker less: 1 s */
    cfg.mem_budget_bytes = (int64_t)(n2 - 1) * 10 * 1048576;
    ck_assert_int_eq(sb_model_plan(&cfg, &in, NULL, plan), SB_MODEL_OK);
    ck_assert_int_eq(plan->rec.kat, 1);
    ck_assert_int_eq(plan->rec.max_request_workers, n1);
    /* with the shortest sensible timeout at 2 s, it does not fit */
    cfg.min_kat = 2;
    ck_assert_int_eq(sb_model_plan(&cfg, &in, NULL, plan), SB_MODEL_NOFIT);
}
END_TEST

START_TEST(memory_cap_recommends_keepalive_off)
{
    sb_model_config_t cfg;
    sb_model_inputs_t in;
    sb_model_plan_t *plan = apr_pcalloc(pool, sizeof(*plan));
    int off = sb_model_slots_for(1500 * 0.05, 0.01);

    sb_model_config_defaults(&cfg);
    article_inputs(&in);
    in.service_time_s = 0.05;
    in.req_per_conn_mean = 10;
    in.pss_per_worker_bytes = 20 * 1048576;       /* 20 MiB per child */
    in.mem_total_bytes = (int64_t)4 << 30;        /* 4 GiB: 3 GiB budget, 153 workers */
    ck_assert_int_eq(sb_model_plan(&cfg, &in, NULL, plan), SB_MODEL_NOFIT);
    ck_assert_int_eq(plan->mem_max_workers, 153);
    ck_assert_int_eq(plan->rec.keepalive, 0);
    /* 1,500 requests/s x 0.05 s = 75 erlangs */
    ck_assert_int_eq(plan->rec.max_request_workers, off);
    ck_assert_int_le(plan->rec.max_request_workers, 153);
    ck_assert_int_eq(plan->fits_memory, 1);
    ck_assert_int_eq(plan->has_event_alt, 1);
    ck_assert_int_eq(plan->event_alt.max_request_workers % 25, 0);
    ck_assert_ptr_nonnull(strstr(plan->arithmetic, "Not even at KeepAliveTimeout 1 s"));
    ck_assert_ptr_nonnull(strstr(plan->arithmetic, "KeepAlive Off"));
    ck_assert_ptr_nonnull(strstr(plan->arithmetic, "the event MPM"));
    ck_assert_ptr_nonnull(strstr(plan->arithmetic, "153 workers at most"));

    /* 100 MiB per child: 30 workers; even KeepAlive Off does not fit */
    in.pss_per_worker_bytes = 100 * 1048576;
    ck_assert_int_eq(sb_model_plan(&cfg, &in, NULL, plan), SB_MODEL_NOFIT);
    ck_assert_int_eq(plan->rec.keepalive, 0);
    ck_assert_int_eq(plan->rec.max_request_workers, 30);
    ck_assert_int_eq(plan->fits_memory, 0);
    ck_assert(plan->rec.wait_prob > 0.5);
    ck_assert_ptr_nonnull(strstr(plan->arithmetic, "cannot carry 150 new clients/s"));

    /* the reserve for other services comes off the share */
    in.pss_per_worker_bytes = 20 * 1048576;
    cfg.mem_reserve_bytes = (int64_t)1 << 30;     /* 2 GiB left: 102 workers */
    ck_assert_int_eq(sb_model_plan(&cfg, &in, NULL, plan), SB_MODEL_NOFIT);
    ck_assert_int_eq(plan->mem_max_workers, 102);
    /* a reserve beyond the share is an error */
    cfg.mem_reserve_bytes = (int64_t)4 << 30;
    ck_assert_int_eq(sb_model_plan(&cfg, &in, NULL, plan), SB_MODEL_EINVAL);
    ck_assert_ptr_nonnull(strstr(plan->missing, "budget is not positive"));
}
END_TEST

/* ------------------------------------------------------------------ MPMs */

START_TEST(mpm_rounding_and_restarts)
{
    sb_model_config_t cfg;
    sb_model_inputs_t in;
    sb_model_current_t cur;
    sb_model_plan_t *plan = apr_pcalloc(pool, sizeof(*plan));
    int n = sb_model_slots_for(990, 0.01);

    sb_model_config_defaults(&cfg);
    article_inputs(&in);

    /* prefork: MaxRequestWorkers N, ServerLimit N + 25 % for the children
     * finishing gracefully after a reload; 256 current -> stop/start */
    sb_model_current_init(&cur);
    sb_model_current_defaults(&cur, SB_MPM_PREFORK);
    ck_assert_int_eq(cur.server_limit, 256);
    sb_model_plan(&cfg, &in, &cur, plan);
    ck_assert_int_eq(plan->rec.max_request_workers, n);
    ck_assert_int_eq(plan->rec.server_limit, n + (n + 3) / 4);
    ck_assert_int_eq(plan->needs_full_restart, 1);
    ck_assert_ptr_nonnull(strstr(plan->arithmetic, "stop and a start"));
    ck_assert_ptr_nonnull(strstr(plan->arithmetic, "for children finishing gracefully"));
    /* a larger running ServerLimit is kept, never lowered */
    cur.server_limit = 2000;
    sb_model_plan(&cfg, &in, &cur, plan);
    ck_assert_int_eq(plan->needs_full_restart, 0);
    ck_assert_int_eq(plan->rec.server_limit, 2000);
    ck_assert_ptr_nonnull(strstr(plan->arithmetic, "ServerLimit stays at the running 2,000"));

    /* worker: a multiple of ThreadsPerChild, ServerLimit + 25 % headroom */
    cfg.mpm = SB_MPM_WORKER;
    sb_model_current_init(&cur);
    sb_model_current_defaults(&cur, SB_MPM_WORKER);
    sb_model_plan(&cfg, &in, &cur, plan);
    ck_assert_int_eq(plan->rec.max_request_workers % 25, 0);
    ck_assert_int_ge(plan->rec.max_request_workers, n);
    ck_assert_int_lt(plan->rec.max_request_workers, n + 25);
    ck_assert_int_eq(plan->rec.processes, plan->rec.max_request_workers / 25);
    ck_assert_int_eq(plan->rec.server_limit,
                     plan->rec.processes + (int)ceil(plan->rec.processes * 0.25));
    ck_assert_int_eq(plan->rec.threads_per_child, 25);
    ck_assert_int_eq(plan->rec.thread_limit, 64);    /* the current one is enough */
    ck_assert_int_eq(plan->needs_full_restart, 1);   /* ServerLimit 16 is not */
    cur.server_limit = 100;
    sb_model_plan(&cfg, &in, &cur, plan);
    ck_assert_int_eq(plan->needs_full_restart, 0);
    /* ThreadsPerChild beyond the current ThreadLimit */
    cfg.threads_per_child = 100;
    sb_model_plan(&cfg, &in, &cur, plan);
    ck_assert_int_eq(plan->rec.max_request_workers % 100, 0);
    ck_assert_int_eq(plan->rec.thread_limit, 100);
    ck_assert_int_eq(plan->needs_full_restart, 1);
    ck_assert_ptr_nonnull(strstr(plan->arithmetic, "ThreadLimit 100 > the current 64"));
    /* at least one spare process, however small */
    cfg.threads_per_child = 25;
    in.peak_conn_per_s = 1;
    in.hold_time_s = 1;
    cur.server_limit = 1;
    sb_model_plan(&cfg, &in, &cur, plan);
    ck_assert_int_eq(plan->rec.processes, 1);
    ck_assert_int_eq(plan->rec.server_limit, 2);
    cur.server_limit = 100;

    /* event: workers from requests, connection ceiling checked */
    cfg.mpm = SB_MPM_EVENT;
    article_inputs(&in);
    in.service_time_s = 0.05;
    in.req_per_conn_mean = 10;
    sb_model_plan(&cfg, &in, &cur, plan);
    ck_assert_double_eq_tol(plan->rec.request_load, 75, 1e-9);
    ck_assert_int_eq(plan->rec.slots, sb_model_slots_for(75, 0.01));
    ck_assert_int_eq(plan->rec.max_request_workers % 25, 0);
    ck_assert_int_eq(plan->rec.design_conns, sb_model_poisson_quantile(990, 0.99));
    ck_assert(plan->rec.conn_ceiling >= plan->rec.design_conns);
    /* one process fewer would not hold the connections */
    ck_assert((plan->rec.max_request_workers - 25)
              + 2 * (plan->rec.max_request_workers - 25 - 75) < plan->rec.design_conns);
    /* far fewer workers than prefork needs for the same clients */
    ck_assert_int_lt(plan->rec.max_request_workers, n / 2);
    /* a higher AsyncRequestWorkerFactor needs fewer */
    cfg.async_factor = 4;
    {
        int before = plan->rec.max_request_workers;
        sb_model_plan(&cfg, &in, &cur, plan);
        ck_assert_int_lt(plan->rec.max_request_workers, before);
    }
}
END_TEST

/* ------------------------------------------------------------------ hysteresis */

START_TEST(hysteresis)
{
    long next;
    char why[256];

    ck_assert_int_eq(sb_model_should_change(100, 105, 10, 25, 1, &next, why, sizeof(why)), 0);
    ck_assert_int_eq(next, 100);
    ck_assert_ptr_nonnull(strstr(why, "threshold"));
    ck_assert_int_eq(sb_model_should_change(100, 120, 10, 25, 1, &next, NULL, 0), 1);
    ck_assert_int_eq(next, 120);
    ck_assert_int_eq(sb_model_should_change(100, 200, 10, 25, 1, &next, why, sizeof(why)), 1);
    ck_assert_int_eq(next, 125);
    ck_assert_ptr_nonnull(strstr(why, "limited"));
    ck_assert_int_eq(sb_model_should_change(1000, 500, 10, 20, 1, &next, NULL, 0), 1);
    ck_assert_int_eq(next, 800);
    /* in multiples of ThreadsPerChild */
    ck_assert_int_eq(sb_model_should_change(400, 1075, 10, 25, 25, &next, NULL, 0), 1);
    ck_assert_int_eq(next, 500);
    /* at least one unit (a KeepAliveTimeout of 5 -> 1) */
    ck_assert_int_eq(sb_model_should_change(5, 1, 10, 10, 1, &next, NULL, 0), 1);
    ck_assert_int_eq(next, 4);
    /* unbounded step, unknown current, no difference */
    ck_assert_int_eq(sb_model_should_change(100, 300, 10, 0, 1, &next, NULL, 0), 1);
    ck_assert_int_eq(next, 300);
    ck_assert_int_eq(sb_model_should_change(0, 300, 10, 25, 1, &next, NULL, 0), 1);
    ck_assert_int_eq(next, 300);
    ck_assert_int_eq(sb_model_should_change(300, 300, 10, 25, 1, &next, NULL, 0), 0);
}
END_TEST

/* ------------------------------------------------------------------ history */

/* Minutes from t0: 10 new connections/s, 40/s in minutes [60, 120); the
 * histograms of hold_inputs() once per minute; PSS 10 MiB. */
static sb_model_history_t *make_history(int minutes, int with_gaps, int with_pss)
{
    static sb_hist_t gap, close_idle, rpc, svc, hold;
    sb_model_inputs_t dummy;
    sb_model_history_t *h = sb_model_history_create(pool);
    int m;

    hold_inputs(&dummy, &gap, &close_idle, &rpc, &svc);
    sb_hist_init(&hold);
    hist_fill_const(&hold, 8.8, 1000);
    for (m = 0; m < minutes; m++) {
        sb_hist_minute_t row;
        sb_hist_minute_init(&row, 1700000040 + 60 * (int64_t)m);
        row.seconds = 60;
        row.conn_per_s_mean = m >= 60 && m < 120 ? 40 : 10;
        row.conn_per_s_max = m == 90 ? 95 : row.conn_per_s_mean * 1.5;
        row.req_per_s_mean = row.conn_per_s_mean * 3;
        row.ka_gap_hist = with_gaps ? &gap : NULL;
        row.ka_close_hist = &close_idle;
        row.req_per_conn_hist = &rpc;
        row.service_time_hist = &svc;
        row.hold_time_hist = &hold;
        row.pss_per_worker_bytes = with_pss ? 10 * 1048576 : SB_UNKNOWN;
        row.mem_available_min = (int64_t)3 << 30;
        row.listen_queue_max = m == 90 ? 17 : 0;
        row.listen_overflows = m == 90 ? 4 : 0;
        ck_assert_int_eq(sb_model_history_add(h, &row), APR_SUCCESS);
    }
    return h;
}

START_TEST(history_busy_window_and_plan)
{
    sb_model_config_t cfg;
    sb_model_inputs_t in;
    sb_model_current_t cur;
    sb_model_plan_t *plan = apr_pcalloc(pool, sizeof(*plan));
    sb_model_history_t *h = make_history(240, 1, 1);

    sb_model_config_defaults(&cfg);
    sb_model_inputs_init(&in);
    sb_model_history_inputs(h, &cfg, &in);
    ck_assert_int_eq(in.minutes, 240);
    ck_assert_double_eq_tol(in.busy_conn_per_s, 40, 1e-9);
    ck_assert_int_eq(in.busy_start_ts, 1700000040 + 60 * 60);
    ck_assert_int_eq(in.busy_minutes, 60);
    ck_assert_double_eq_tol(in.peak_conn_per_s, 95, 1e-9);
    ck_assert_int_eq(in.pss_per_worker_bytes, 10 * 1048576);
    ck_assert_int_eq(in.listen_queue_max, 17);
    ck_assert_int_eq(in.listen_overflows, 4);
    ck_assert_uint_eq(in.gap->count, 240 * 2000);

    in.kat = 5;
    in.mem_total_bytes = (int64_t)32 << 30;
    sb_model_current_init(&cur);
    sb_model_current_defaults(&cur, SB_MPM_PREFORK);
    ck_assert_int_eq(sb_model_plan(&cfg, &in, &cur, plan), SB_MODEL_OK);
    ck_assert_int_eq(plan->kat_memory_limited, 0);
    /* max(2.5 x 40, 95) = 100 */
    ck_assert_double_eq_tol(plan->design_conn_per_s, 100, 1e-9);
    /* half the gaps are 3 s: the 95th percentile is 3 s -> 3 s, not censored */
    ck_assert_int_eq(plan->kat_from_data, 1);
    ck_assert_int_eq(plan->rec.kat, 3);
    ck_assert_int_eq(plan->kat_censored, 0);
    /* slot demand = rate x slot-seconds per client, whatever the reconnects */
    ck_assert_double_eq_tol(plan->rec.offered_load, 100 * plan->rec.hold.session_s, 1e-6);
    ck_assert_int_eq(plan->rec.slots, sb_model_slots_for(plan->rec.offered_load, 0.01));
    ck_assert_ptr_nonnull(strstr(plan->arithmetic, "Hold per connection at KeepAliveTimeout 3 s"));
    ck_assert_ptr_nonnull(strstr(plan->arithmetic, "accept queue reached 17"));
    /* the rows do not say which refused attempts were httpd's: the host's
     * count, said as such */
    ck_assert_ptr_nonnull(strstr(plan->uncertainty,
                                 "The kernel refused 4 connection attempts on this host"));
    ck_assert_int_eq(plan->fits_memory, 1);
    ck_assert_ptr_nonnull(strstr(plan->arithmetic, "the model gives 8.8 s per connection at"
                                 " the current 5 s; measured: 8.8 s"));

    /* 8 GiB: 614 workers; the 3 s timeout needs more, 2 s fits */
    in.mem_total_bytes = (int64_t)8 << 30;
    ck_assert_int_eq(sb_model_plan(&cfg, &in, &cur, plan), SB_MODEL_OK);
    ck_assert_int_eq(plan->mem_max_workers, 614);
    ck_assert_int_eq(plan->kat_memory_limited, 1);
    ck_assert_int_eq(plan->rec.kat, 2);
    ck_assert_int_le(plan->rec.max_request_workers, 614);
    /* the 3 s gaps now reconnect: more arrivals, shorter holds */
    ck_assert_double_eq_tol(plan->rec.hold.reconnects, 1, 1e-9);
    ck_assert_double_eq_tol(plan->rec.conn_per_s, 200, 1e-9);

    /* all gaps up to the 5 s timeout: censored, kept at 5 s */
    {
        static sb_hist_t wide;
        hist_fill_uniform(&wide, 0, 5, 100000);
        in.gap = &wide;
        in.mem_total_bytes = (int64_t)64 << 30;
        ck_assert_int_eq(sb_model_plan(&cfg, &in, &cur, plan), SB_MODEL_OK);
        ck_assert_int_eq(plan->kat_censored, 1);
        ck_assert_int_eq(plan->rec.kat, 5);
        ck_assert_ptr_nonnull(strstr(plan->arithmetic, "cannot show whether a longer timeout"));
        ck_assert_ptr_nonnull(strstr(plan->uncertainty, "never seen"));
    }

    /* attributed to httpd: its own count; none of httpd's: no sentence
     * for the other ports' overflows */
    in.refused = 3;
    ck_assert_int_eq(sb_model_plan(&cfg, &in, &cur, plan), SB_MODEL_OK);
    ck_assert_ptr_nonnull(strstr(plan->uncertainty, "3 connection attempts were refused with"
                                 " httpd's accept queue full"));
    ck_assert_ptr_null(strstr(plan->uncertainty, "on this host"));
    in.refused = 0;
    ck_assert_int_eq(sb_model_plan(&cfg, &in, &cur, plan), SB_MODEL_OK);
    ck_assert_ptr_null(strstr(plan->uncertainty, "refused"));
}
END_TEST

START_TEST(partial_minutes_weigh_less)
{
    sb_model_config_t cfg;
    sb_model_inputs_t in;
    sb_model_history_t *h = sb_model_history_create(pool);
    sb_hist_minute_t row;

    sb_model_config_defaults(&cfg);
    sb_hist_minute_init(&row, 1700000040);
    row.seconds = 60;
    row.conn_per_s_mean = 2;
    row.accepted_per_s_mean = 1;
    sb_model_history_add(h, &row);
    /* the agent stopped 6 s into the next minute, during a burst */
    sb_hist_minute_init(&row, 1700000100);
    row.seconds = 6;
    row.conn_per_s_mean = 10;
    row.accepted_per_s_mean = 10;
    sb_model_history_add(h, &row);
    sb_model_inputs_init(&in);
    sb_model_history_inputs(h, &cfg, &in);
    ck_assert_double_eq_tol(in.busy_conn_per_s, (2.0 * 60 + 10 * 6) / 66, 1e-9);
    ck_assert_double_eq_tol(in.busy_accepted_per_s, (1.0 * 60 + 10 * 6) / 66, 1e-9);
}
END_TEST

START_TEST(too_little_data)
{
    sb_model_config_t cfg;
    sb_model_inputs_t in;
    sb_model_plan_t *plan = apr_pcalloc(pool, sizeof(*plan));

    sb_model_config_defaults(&cfg);
    /* 30 minutes, no gaps, no PSS, no MemTotal, no KeepAliveTimeout */
    sb_model_inputs_init(&in);
    sb_model_history_inputs(make_history(30, 0, 0), &cfg, &in);
    ck_assert_int_eq(sb_model_plan(&cfg, &in, NULL, plan), SB_MODEL_NODATA);
    ck_assert_ptr_nonnull(strstr(plan->missing, "only 30 minutes of history"));
    ck_assert_ptr_nonnull(strstr(plan->missing, "no keep-alive gap observations"));
    ck_assert_ptr_nonnull(strstr(plan->missing, "no PSS per worker"));
    ck_assert_ptr_nonnull(strstr(plan->missing, "no MemTotal"));
    ck_assert_ptr_nonnull(strstr(plan->missing, "KeepAliveTimeout in force"));
    ck_assert_str_eq(plan->arithmetic, "");
    ck_assert_int_eq(plan->rec.max_request_workers, 0);

    /* enough of everything but the PSS */
    sb_model_inputs_init(&in);
    sb_model_history_inputs(make_history(120, 1, 0), &cfg, &in);
    in.kat = 5;
    in.mem_total_bytes = (int64_t)8 << 30;
    ck_assert_int_eq(sb_model_plan(&cfg, &in, NULL, plan), SB_MODEL_NODATA);
    ck_assert_str_eq(plan->missing, "no PSS per worker (the agent reads the children's"
                     " /proc/PID/smaps_rollup, which needs root or httpd's user)");

    /* a shorter requirement lets the 30 minutes do */
    cfg.min_minutes = 10;
    sb_model_inputs_init(&in);
    sb_model_history_inputs(make_history(30, 1, 1), &cfg, &in);
    in.kat = 5;
    in.mem_total_bytes = (int64_t)8 << 30;
    ck_assert_int_eq(sb_model_plan(&cfg, &in, NULL, plan), SB_MODEL_OK);

    /* calculator: a rate and a hold time are all it needs */
    sb_model_inputs_init(&in);
    in.peak_conn_per_s = 10;
    ck_assert_int_eq(sb_model_plan(&cfg, &in, NULL, plan), SB_MODEL_NODATA);
    ck_assert_ptr_nonnull(strstr(plan->missing, "no hold time"));

    /* invalid configuration */
    article_inputs(&in);
    cfg.target_wait = 1.5;
    ck_assert_int_eq(sb_model_plan(&cfg, &in, NULL, plan), SB_MODEL_EINVAL);
    ck_assert_ptr_nonnull(strstr(plan->missing, "target waiting probability"));
}
END_TEST

/* ------------------------------------------------------------------ overload */

/* minutes of an overloaded prefork httpd with MaxRequestWorkers 8 and
 * KeepAliveTimeout 25: 2 new clients/s arriving, 0.6/s accepted, every slot
 * busy, the accept queue growing; gaps and service times seen, no
 * connection counted (the slots are never free between connections);
 * queued: whether the minutes show the queue */
static sb_model_history_t *overload_history(int minutes, int queued, int every_slot)
{
    static sb_hist_t gap, svc;
    sb_model_history_t *h = sb_model_history_create(pool);
    int m;

    sb_hist_init(&gap);
    sb_hist_init(&svc);
    hist_fill_uniform(&gap, 0.05, 0.85, 15);    /* 95 % within 0.81 s */
    hist_fill_const(&svc, 0.001, 30);
    for (m = 0; m < minutes; m++) {
        sb_hist_minute_t row;
        sb_hist_minute_init(&row, 1700000040 + 60 * (int64_t)m);
        row.seconds = 60;
        row.conn_per_s_mean = 2;
        row.conn_per_s_max = 5;
        row.accepted_per_s_mean = queued ? 0.6 : 2;
        row.req_per_s_mean = queued ? 1.2 : 6;      /* 2 requests per accepted connection */
        row.refused = 0;
        row.busy_mean = every_slot ? 8 : 5;
        row.busy_max = every_slot ? 8 : 7;
        row.listen_queue_max = queued ? 30 + 40 * m : 0;
        row.ka_gap_hist = &gap;
        row.service_time_hist = &svc;
        row.pss_per_worker_bytes = 10 * 1048576;
        ck_assert_int_eq(sb_model_history_add(h, &row), APR_SUCCESS);
    }
    return h;
}

static void overload_current(sb_model_current_t *cur)
{
    sb_model_current_init(cur);
    cur->keepalive = 1;
    cur->keepalive_timeout = 25;
    cur->max_request_workers = 8;
    cur->server_limit = 64;
    sb_model_current_defaults(cur, SB_MPM_PREFORK);
}

START_TEST(overload_plans_with_partial_data)
{
    sb_model_config_t cfg;
    sb_model_inputs_t in;
    sb_model_current_t cur;
    sb_model_plan_t *plan = apr_pcalloc(pool, sizeof(*plan));
    char w[SB_MODEL_NOTE_MAX];

    /* the production minimums: 60 minutes, 100 gaps, 100 connections */
    sb_model_config_defaults(&cfg);
    overload_current(&cur);
    sb_model_inputs_init(&in);
    sb_model_history_inputs(overload_history(5, 1, 1), &cfg, &in);
    in.kat = 25;
    in.mem_total_bytes = (int64_t)8 << 30;
    ck_assert_int_eq(in.queued_minutes, 5);
    ck_assert_int_eq(in.queued_busy_min, 8);
    ck_assert_double_eq_tol(in.served_req_per_conn, 2, 1e-9);
    ck_assert_int_eq(sb_model_overload(&cfg, &in, &cur, w, sizeof(w)), 1);
    ck_assert_ptr_nonnull(strstr(w, "an accept queue in 5 of the 5 minutes, 100 % of the"
                                 " time"));
    ck_assert_ptr_nonnull(strstr(w, "every slot busy"));
    ck_assert_ptr_nonnull(strstr(w, "httpd accepting 0.6 of the 2 new clients/s"));

    ck_assert_int_eq(sb_model_plan(&cfg, &in, &cur, plan), SB_MODEL_OK);
    ck_assert_int_eq(plan->overloaded, 1);
    /* the design rate is the arrivals' (2.5 x 2), not the accepted 0.6/s */
    ck_assert_double_eq_tol(plan->design_conn_per_s, 5, 1e-9);
    /* KeepAliveTimeout from the 75 gaps seen (100 asked for) */
    ck_assert_int_eq(plan->rec.kat, 1);
    ck_assert_ptr_nonnull(strstr(plan->estimated, "from the 75 keep-alive gaps seen"));
    ck_assert_ptr_nonnull(strstr(plan->estimated, "requests per connection 2"));
    ck_assert_ptr_nonnull(strstr(plan->estimated, "5 minutes of history, not the 60"));
    ck_assert_double_eq_tol(plan->rec.hold.requests, 2, 1e-9);
    /* slots from arrivals x the hold at 1 s: 5/s x (2 x 0.001 + 1 gap of
     * 0.45 s + a 1 s final wait) */
    ck_assert_double_eq_tol(plan->rec.offered_load, 5 * plan->rec.hold.session_s, 1e-9);
    ck_assert_double_eq_tol(plan->rec.hold.session_s, 0.002 + 0.45 + 1, 0.02);
    ck_assert_int_eq(plan->rec.max_request_workers,
                     sb_model_slots_for(plan->rec.offered_load, 0.01));
    ck_assert_int_gt(plan->rec.max_request_workers, 8);
    /* ServerLimit: the running 64 is kept */
    ck_assert_int_eq(plan->rec.server_limit, 64);
    ck_assert_int_eq(plan->needs_full_restart, 0);
    /* the report words: the overload, the estimates, the clients' wait */
    ck_assert_ptr_nonnull(strstr(plan->arithmetic, "Overload: an accept queue"));
    ck_assert_ptr_nonnull(strstr(plan->arithmetic, "Estimated: "));
    ck_assert_ptr_nonnull(strstr(plan->arithmetic, "the accept queue reached 190 clients; at"
                                 " the 0.6 new clients/s httpd accepted, the last of them"
                                 " waited about 316.7 s"));
    ck_assert_ptr_nonnull(strstr(plan->arithmetic, "none was refused"));
    ck_assert_ptr_nonnull(strstr(plan->uncertainty, "some inputs are estimated"));

    /* a single minute is not sustained evidence with the 60-minute default */
    sb_model_inputs_init(&in);
    sb_model_history_inputs(overload_history(1, 1, 1), &cfg, &in);
    in.kat = 25;
    in.mem_total_bytes = (int64_t)8 << 30;
    ck_assert_int_eq(sb_model_overload(&cfg, &in, &cur, NULL, 0), 0);
    ck_assert_int_eq(sb_model_plan(&cfg, &in, &cur, plan), SB_MODEL_NODATA);
    ck_assert_int_eq(plan->overloaded, 0);
}
END_TEST

START_TEST(no_overload_too_little_data)
{
    sb_model_config_t cfg;
    sb_model_inputs_t in;
    sb_model_current_t cur;
    sb_model_plan_t *plan = apr_pcalloc(pool, sizeof(*plan));

    sb_model_config_defaults(&cfg);
    overload_current(&cur);
    /* no queue: a server that is fine keeps "too little data" */
    sb_model_inputs_init(&in);
    sb_model_history_inputs(overload_history(10, 0, 0), &cfg, &in);
    in.kat = 25;
    in.mem_total_bytes = (int64_t)8 << 30;
    ck_assert_int_eq(sb_model_overload(&cfg, &in, &cur, NULL, 0), 0);
    ck_assert_int_eq(sb_model_plan(&cfg, &in, &cur, plan), SB_MODEL_NODATA);
    ck_assert_ptr_nonnull(strstr(plan->missing, "requests per connection of no connections"));
    ck_assert_str_eq(plan->estimated, "");

    /* a queue in under half the minutes: not sustained */
    {
        sb_model_history_t *h = overload_history(4, 1, 1);
        sb_hist_minute_t row;
        int m;
        for (m = 4; m < 10; m++) {
            sb_hist_minute_init(&row, 1700000040 + 60 * (int64_t)m);
            row.seconds = 60;
            row.conn_per_s_mean = 2;
            row.listen_queue_max = 0;
            row.busy_max = 5;
            sb_model_history_add(h, &row);
        }
        sb_model_inputs_init(&in);
        sb_model_history_inputs(h, &cfg, &in);
        ck_assert_int_eq(in.queued_minutes, 4);
        ck_assert_int_eq(sb_model_overload(&cfg, &in, &cur, NULL, 0), 0);
    }

    /* a queue in every minute, but slots free, everything accepted and
     * nothing refused: busy, not overloaded */
    {
        sb_model_history_t *h = overload_history(10, 1, 0);
        sb_model_inputs_init(&in);
        sb_model_history_inputs(h, &cfg, &in);
        in.busy_accepted_per_s = in.busy_conn_per_s;
        ck_assert_int_eq(sb_model_overload(&cfg, &in, &cur, NULL, 0), 0);
        /* refused attempts make it one */
        in.refused = 12;
        ck_assert_int_eq(sb_model_overload(&cfg, &in, &cur, NULL, 0), 1);
    }
}
END_TEST

int main(void)
{
    Suite *s = suite_create("model");
    TCase *q = tcase_create("queueing");
    TCase *a = tcase_create("article");
    TCase *k = tcase_create("keepalive");
    TCase *p = tcase_create("plan");

    tcase_add_checked_fixture(q, setup, teardown);
    tcase_set_timeout(q, 60);
    tcase_add_test(q, erlang_c_known_values);
    tcase_add_test(q, slots_for_is_the_smallest_and_monotonic);
    tcase_add_test(q, load_for_inverts_erlang_c);
    tcase_add_test(q, poisson_quantile);
    suite_add_tcase(s, q);

    tcase_add_checked_fixture(a, setup, teardown);
    tcase_add_test(a, article_256_slots_at_7_s);
    tcase_add_test(a, article_150_per_s_at_kat_5);
    tcase_add_test(a, design_rate);
    suite_add_tcase(s, a);

    tcase_add_checked_fixture(k, setup, teardown);
    tcase_add_test(k, kat_from_known_quantiles);
    tcase_add_test(k, kat_censored_at_the_current_timeout);
    tcase_add_test(k, hold_time_parts_and_shorter_timeout);
    suite_add_tcase(s, k);

    tcase_add_checked_fixture(p, setup, teardown);
    tcase_add_test(p, memory_shortens_the_timeout);
    tcase_add_test(p, memory_cap_recommends_keepalive_off);
    tcase_add_test(p, mpm_rounding_and_restarts);
    tcase_add_test(p, hysteresis);
    tcase_add_test(p, history_busy_window_and_plan);
    tcase_add_test(p, too_little_data);
    tcase_add_test(p, partial_minutes_weigh_less);
    tcase_add_test(p, overload_plans_with_partial_data);
    tcase_add_test(p, no_overload_too_little_data);
    suite_add_tcase(s, p);

    return sb_unit_run(s);
}
