/* Unit tests of the apply policy: hysteresis, step bounds, the minimum
 * interval and the spike check. */
#include <check.h>
#include "sb_unit.h"
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <apr_general.h>
#include <apr_strings.h>
#include "sb_policy.h"

static apr_pool_t *pool;

static void setup(void)
{
    apr_pool_create(&pool, NULL);
}

static void teardown(void)
{
    apr_pool_destroy(pool);
}

/* minutes at rate conn each, the accept queue from lq0 growing by dlq */
static void fill(sb_policy_recent_t *r, int n, double conn, int64_t lq0, int64_t dlq)
{
    int i;

    memset(r, 0, sizeof(*r));
    for (i = 0; i < n; i++) {
        sb_policy_recent_add(r, 60 * i, conn, lq0 + dlq * i);
    }
}

START_TEST(defaults)
{
    sb_policy_t po;

    sb_policy_defaults(&po);
    ck_assert_double_eq(po.threshold_pct, 10);
    ck_assert_double_eq(po.step_up_pct, 100);
    ck_assert_double_eq(po.step_down_pct, 50);
    ck_assert_double_eq(po.min_interval_s, 3600);
    ck_assert_int_eq(po.spike_minutes, 3);
    ck_assert_double_eq(po.spike_ratio, 1.5);
}
END_TEST

START_TEST(spike_by_rate)
{
    sb_policy_t po;
    sb_policy_recent_t r;
    char w[256];

    sb_policy_defaults(&po);
    fill(&r, 10, 10, 0, 0);
    ck_assert_int_eq(sb_policy_spike(&po, &r, 10, w, sizeof(w)), 0);
    ck_assert_str_eq(w, "");
    /* the newest three at 20/s: above 1.5 x 10 */
    sb_policy_recent_add(&r, 600, 20, 0);
    sb_policy_recent_add(&r, 660, 20, 0);
    sb_policy_recent_add(&r, 720, 20, 0);
    ck_assert_int_eq(sb_policy_spike(&po, &r, 10, w, sizeof(w)), 1);
    ck_assert_ptr_nonnull(strstr(w, "last 3 minute(s) average 20 new clients/s"));
    /* just at the ratio is no spike */
    ck_assert_int_eq(sb_policy_spike(&po, &r, 20.0 / 1.5, w, sizeof(w)), 0);
    /* an unknown busy mean or rate tells nothing */
    ck_assert_int_eq(sb_policy_spike(&po, &r, NAN, w, sizeof(w)), 0);
    fill(&r, 3, NAN, 0, 0);
    ck_assert_int_eq(sb_policy_spike(&po, &r, 10, w, sizeof(w)), 0);
    /* off */
    fill(&r, 10, 100, 0, 0);
    po.spike_minutes = 0;
    ck_assert_int_eq(sb_policy_spike(&po, &r, 10, w, sizeof(w)), 0);
    /* fewer minutes than asked for: the ones there are */
    po.spike_minutes = 5;
    fill(&r, 2, 100, 0, 0);
    ck_assert_int_eq(sb_policy_spike(&po, &r, 10, w, sizeof(w)), 1);
    ck_assert_ptr_nonnull(strstr(w, "last 2 minute(s)"));
    memset(&r, 0, sizeof(r));
    ck_assert_int_eq(sb_policy_spike(&po, &r, 10, w, sizeof(w)), 0);
}
END_TEST

START_TEST(spike_by_queue)
{
    sb_policy_t po;
    sb_policy_recent_t r;
    char w[256];

    sb_policy_defaults(&po);
    /* growing in each of the last 3 minutes, with a minute before them */
    fill(&r, 4, 10, 1, 5);
    ck_assert_int_eq(sb_policy_spike(&po, &r, 10, w, sizeof(w)), 1);
    ck_assert_ptr_nonnull(strstr(w, "accept queue grew in each of the last 3 minutes (to 16"));
    /* no minute before the three: not enough to say */
    fill(&r, 3, 10, 1, 5);
    ck_assert_int_eq(sb_policy_spike(&po, &r, 10, w, sizeof(w)), 0);
    /* flat or shrinking, or unknown */
    fill(&r, 10, 10, 7, 0);
    ck_assert_int_eq(sb_policy_spike(&po, &r, 10, w, sizeof(w)), 0);
    fill(&r, 10, 10, 50, -2);
    ck_assert_int_eq(sb_policy_spike(&po, &r, 10, w, sizeof(w)), 0);
    fill(&r, 10, 10, -1, 0);
    ck_assert_int_eq(sb_policy_spike(&po, &r, 10, w, sizeof(w)), 0);
    /* the queue test needs two minutes at least */
    po.spike_minutes = 1;
    fill(&r, 10, 10, 1, 5);
    ck_assert_int_eq(sb_policy_spike(&po, &r, 10, w, sizeof(w)), 0);
}
END_TEST

START_TEST(overload_waives_interval_and_queue_spike)
{
    sb_policy_t po;
    sb_policy_recent_t r;
    char w[256];

    sb_policy_defaults(&po);
    fill(&r, 4, 10, 1, 5);
    ck_assert_int_eq(sb_policy_spike(&po, &r, 10, w, sizeof(w)), 1);
    ck_assert_int_eq(sb_policy_too_soon(&po, 1000, 1600, w, sizeof(w)), 1);
    /* the queue that grows is the overload, not a spike; the plan uses
     * only the data since the last change */
    po.overload = 1;
    ck_assert_int_eq(sb_policy_spike(&po, &r, 10, w, sizeof(w)), 0);
    ck_assert_int_eq(sb_policy_too_soon(&po, 1000, 1600, w, sizeof(w)), 0);
    /* a rate spike still holds a change back */
    fill(&r, 10, 10, 0, 0);
    sb_policy_recent_add(&r, 600, 20, 0);
    sb_policy_recent_add(&r, 660, 20, 0);
    sb_policy_recent_add(&r, 720, 20, 0);
    ck_assert_int_eq(sb_policy_spike(&po, &r, 10, w, sizeof(w)), 1);
}
END_TEST

/* ------------------------------------------------------------------ convergence */

/* One cycle's history of a simulated prefork httpd at (mrw, kat) under
 * 2 new clients/s, 3 requests each 0.05-0.85 s apart, 1 ms service, the
 * client lingering until KeepAliveTimeout: overloaded when the offered
 * load exceeds the slots (the slots all busy, httpd accepting what they
 * sustain, every queued client giving up after one request, nothing
 * counted per connection), else measured in full. */
static sb_hist_t sim_gap, sim_svc, sim_rpc, sim_close;

static void sim_minutes(sb_model_history_t *h, int64_t t0, int minutes, long mrw, long kat)
{
    double hold = 0.003 + 2 * 0.45 + kat, offered = 2 * hold;
    int over = offered > 0.9 * mrw, m;

    sb_hist_init(&sim_gap);
    sb_hist_init(&sim_svc);
    sb_hist_init(&sim_rpc);
    sb_hist_init(&sim_close);
    for (m = 0; m < 20; m++) {
        sb_hist_add(&sim_gap, 0.05 + 0.8 * (m + 0.5) / 20);
        sb_hist_add(&sim_svc, 0.001);
    }
    for (m = 0; m < 100; m++) {
        sb_hist_add(&sim_rpc, 3);
        sb_hist_add(&sim_close, kat);
    }
    for (m = 0; m < minutes; m++) {
        sb_hist_minute_t row;
        double acc = over ? mrw / hold : 2;
        sb_hist_minute_init(&row, t0 + 60 * (int64_t)m);
        row.seconds = 60;
        row.conn_per_s_mean = 2;
        row.conn_per_s_max = 5;
        row.accepted_per_s_mean = over ? acc + (2 - acc) * 0.5 : 2;
        row.req_per_s_mean = over ? acc * 3 + (2 - acc) * 0.5 : 6;
        row.refused = 0;
        row.busy_mean = over ? mrw : offered;
        row.busy_max = over ? mrw : (int64_t)ceil(offered);
        row.listen_queue_max = over ? 20 + 30 * m : 0;
        row.ka_gap_hist = &sim_gap;
        row.service_time_hist = &sim_svc;
        row.req_per_conn_hist = over ? NULL : &sim_rpc;
        row.ka_close_hist = over ? NULL : &sim_close;
        row.pss_per_worker_bytes = 10 * 1048576;
        ck_assert_int_eq(sb_model_history_add(h, &row), APR_SUCCESS);
    }
}

START_TEST(overload_converges_in_three_cycles)
{
    static const long starts[][2] = { { 8, 25 }, { 4, 60 }, { 2, 5 }, { 30, 25 } };
    int si;

    for (si = 0; si < (int)(sizeof(starts) / sizeof(starts[0])); si++) {
        sb_policy_t po;
        sb_model_config_t cfg;
        sb_model_current_t cur;
        int64_t now = 1700000000, last = 0;
        int cycle, changes = 0;
        char w[256];

        sb_policy_defaults(&po);
        sb_model_config_defaults(&cfg);
        cfg.min_conns = 20;
        cfg.min_gaps = 20;
        sb_model_current_init(&cur);
        cur.keepalive = 1;
        cur.max_request_workers = (int)starts[si][0];
        cur.server_limit = 1000;
        cur.keepalive_timeout = (int)starts[si][1];
        sb_model_current_defaults(&cur, SB_MPM_PREFORK);
        /* cron every 10 minutes, each cycle on the minutes since the change */
        for (cycle = 1; cycle <= 10; cycle++) {
            sb_model_history_t *h = sb_model_history_create(pool);
            sb_model_inputs_t in;
            sb_model_plan_t *plan = apr_pcalloc(pool, sizeof(*plan));
            sb_directives_t d;
            char *log = apr_pstrdup(pool, "");
            int change;

            sim_minutes(h, now, 10, cur.max_request_workers, cur.keepalive_timeout);
            now += 600;
            sb_model_inputs_init(&in);
            sb_model_history_inputs(h, &cfg, &in);
            in.kat = cur.keepalive_timeout;
            in.mem_total_bytes = (int64_t)8 << 30;
            sb_model_plan(&cfg, &in, &cur, plan);
            if (plan->status != SB_MODEL_OK) {
                /* too little data is the answer only without trouble */
                ck_assert_int_eq(plan->overloaded, 0);
                break;
            }
            po.overload = plan->overloaded;
            change = sb_policy_next(&po, &cfg, &in, &cur, plan, &d, &log, pool);
            if (!change || sb_policy_too_soon(&po, last, now, w, sizeof(w))) {
                ck_assert_int_eq(plan->overloaded, 0);
                break;
            }
            changes++;
            last = now;
            cur.max_request_workers = d.max_request_workers;
            cur.keepalive_timeout = d.keepalive_timeout;
            if (d.server_limit > cur.server_limit) {
                cur.server_limit = d.server_limit;
            }
        }
        ck_assert_int_le(changes, 3);
        ck_assert_int_ge(changes, 1);
        /* converged: no longer overloaded at the real 2 clients/s */
        ck_assert_double_lt(2 * (0.003 + 2 * 0.45 + cur.keepalive_timeout),
                            0.9 * cur.max_request_workers);
        ck_assert_double_lt(sb_model_erlang_c(cur.max_request_workers,
                                              2 * (0.003 + 0.9 + cur.keepalive_timeout)), 0.05);
    }
}
END_TEST

START_TEST(ring_keeps_the_newest)
{
    sb_policy_t po;
    sb_policy_recent_t r;
    char w[256];
    int i;

    sb_policy_defaults(&po);
    memset(&r, 0, sizeof(r));
    for (i = 0; i < 3 * SB_POLICY_RECENT_MAX + 5; i++) {
        sb_policy_recent_add(&r, 60 * i, i < 3 * SB_POLICY_RECENT_MAX + 2 ? 100 : 1, 0);
    }
    /* old minutes at 100/s are gone from the newest three */
    ck_assert_int_eq(sb_policy_spike(&po, &r, 10, w, sizeof(w)), 0);
}
END_TEST

START_TEST(minimum_interval)
{
    sb_policy_t po;
    char w[256];

    sb_policy_defaults(&po);
    ck_assert_int_eq(sb_policy_too_soon(&po, 0, 100000, w, sizeof(w)), 0);
    ck_assert_int_eq(sb_policy_too_soon(&po, 100000 - 3599, 100000, w, sizeof(w)), 1);
    ck_assert_str_eq(w, "the last change was applied 3599 s ago, the minimum interval is 3600 s");
    ck_assert_int_eq(sb_policy_too_soon(&po, 100000 - 3600, 100000, w, sizeof(w)), 0);
    po.min_interval_s = 0;
    ck_assert_int_eq(sb_policy_too_soon(&po, 100000 - 1, 100000, w, sizeof(w)), 0);
}
END_TEST

START_TEST(value_bounds_by_direction)
{
    sb_policy_t po;
    char *log = apr_pstrdup(pool, "");
    long next;

    sb_policy_defaults(&po);
    /* under the threshold */
    ck_assert_int_eq(sb_policy_value(&po, 100, 109, 1, &next, "X", &log, pool), 0);
    ck_assert_int_eq(next, 100);
    /* up: at most +100 % */
    ck_assert_int_eq(sb_policy_value(&po, 100, 450, 1, &next, "X", &log, pool), 1);
    ck_assert_int_eq(next, 200);
    /* down: at most -50 % */
    ck_assert_int_eq(sb_policy_value(&po, 100, 10, 1, &next, "Y", &log, pool), 1);
    ck_assert_int_eq(next, 50);
    /* in multiples */
    ck_assert_int_eq(sb_policy_value(&po, 100, 450, 25, &next, "X", &log, pool), 1);
    ck_assert_int_eq(next % 25, 0);
    ck_assert_int_le(next, 200);
    ck_assert_ptr_nonnull(strstr(log, "X: "));
    ck_assert_ptr_nonnull(strstr(log, "\nY: "));
}
END_TEST

static void prefork_plan(sb_model_plan_t *plan, int kat, int mrw)
{
    memset(plan, 0, sizeof(*plan));
    plan->status = SB_MODEL_OK;
    plan->rec.keepalive = 1;
    plan->rec.kat = kat;
    plan->rec.max_request_workers = mrw;
    plan->rec.server_limit = mrw;
    plan->rec.processes = mrw;
}

START_TEST(next_prefork)
{
    sb_policy_t po;
    sb_model_config_t cfg;
    sb_model_inputs_t in;
    sb_model_current_t cur;
    sb_model_plan_t plan;
    sb_directives_t d;
    char *log = apr_pstrdup(pool, "");

    sb_policy_defaults(&po);
    sb_model_config_defaults(&cfg);
    sb_model_inputs_init(&in);
    sb_model_current_init(&cur);
    cur.keepalive = 1;
    cur.keepalive_timeout = 5;
    cur.max_request_workers = 100;
    cur.server_limit = 100;

    /* everything within the threshold */
    prefork_plan(&plan, 5, 105);
    ck_assert_int_eq(sb_policy_next(&po, &cfg, &in, &cur, &plan, &d, &log, pool), 0);
    ck_assert_int_eq(d.max_request_workers, 100);
    ck_assert_int_eq(d.server_limit, 100);
    ck_assert_int_eq(d.keepalive_timeout, 5);
    ck_assert_int_eq(d.threads_per_child, -1);

    /* MaxRequestWorkers 100 -> 400 is bounded to 200; ServerLimit follows,
     * with 25 % for the children finishing gracefully */
    log = apr_pstrdup(pool, "");
    prefork_plan(&plan, 5, 400);
    ck_assert_int_eq(sb_policy_next(&po, &cfg, &in, &cur, &plan, &d, &log, pool), 1);
    ck_assert_int_eq(d.max_request_workers, 200);
    ck_assert_int_eq(d.server_limit, 250);
    /* never below the running one */
    log = apr_pstrdup(pool, "");
    cur.server_limit = 300;
    ck_assert_int_eq(sb_policy_next(&po, &cfg, &in, &cur, &plan, &d, &log, pool), 1);
    ck_assert_int_eq(d.server_limit, 300);
    cur.server_limit = 100;
    /* in overload the growth goes to the plan at once */
    log = apr_pstrdup(pool, "");
    po.overload = 1;
    ck_assert_int_eq(sb_policy_next(&po, &cfg, &in, &cur, &plan, &d, &log, pool), 1);
    ck_assert_int_eq(d.max_request_workers, 400);
    ck_assert_ptr_nonnull(strstr(log, "overload, no step bound"));
    /* ServerLimit cannot grow in a graceful reload: capped at what the
     * running 100 holds with its 25 % headroom (80), unless a stop and
     * start is allowed */
    log = apr_pstrdup(pool, "");
    prefork_plan(&plan, 5, 400);
    cur.max_request_workers = 50;
    ck_assert_int_eq(sb_policy_next(&po, &cfg, &in, &cur, &plan, &d, &log, pool), 1);
    ck_assert_int_eq(d.max_request_workers, 80);
    ck_assert_int_eq(d.server_limit, 100);
    ck_assert_ptr_nonnull(strstr(log, "capped at 80"));
    log = apr_pstrdup(pool, "");
    po.allow_stop_start = 1;
    ck_assert_int_eq(sb_policy_next(&po, &cfg, &in, &cur, &plan, &d, &log, pool), 1);
    ck_assert_int_eq(d.max_request_workers, 400);
    ck_assert_int_eq(d.server_limit, 400);     /* the plan's */
    po.allow_stop_start = 0;
    cur.max_request_workers = 100;
    /* a shrink keeps its bound even then */
    log = apr_pstrdup(pool, "");
    prefork_plan(&plan, 5, 20);
    ck_assert_int_eq(sb_policy_next(&po, &cfg, &in, &cur, &plan, &d, &log, pool), 1);
    ck_assert_int_eq(d.max_request_workers, 50);
    po.overload = 0;
    ck_assert_ptr_nonnull(strstr(log, "MaxRequestWorkers: "));

    /* KeepAlive flips off: a change; no timeout written */
    log = apr_pstrdup(pool, "");
    prefork_plan(&plan, 5, 100);
    plan.rec.keepalive = 0;
    ck_assert_int_eq(sb_policy_next(&po, &cfg, &in, &cur, &plan, &d, &log, pool), 1);
    ck_assert_int_eq(d.keepalive, 0);
    ck_assert_int_eq(d.keepalive_timeout, -1);
    ck_assert_ptr_nonnull(strstr(log, "KeepAlive: On -> Off"));

    /* KeepAliveTimeout 5 -> 1 steps down by at most half: 3 (the re-plan
     * needs inputs, which these are not: the timeout is bounded anyway) */
    log = apr_pstrdup(pool, "");
    prefork_plan(&plan, 1, 100);
    ck_assert_int_eq(sb_policy_next(&po, &cfg, &in, &cur, &plan, &d, &log, pool), 1);
    ck_assert_int_ge(d.keepalive_timeout, 2);
    ck_assert_int_le(d.keepalive_timeout, 3);
    ck_assert_ptr_nonnull(strstr(log, "KeepAliveTimeout: "));
}
END_TEST

/* A threaded MPM's case: the running settings (KeepAlive On) and a plan,
 * each as MaxRequestWorkers, ServerLimit, ThreadsPerChild, ThreadLimit and
 * KeepAliveTimeout (the plan's processes too). */
typedef struct {
    sb_policy_t po;
    sb_model_config_t cfg;
    sb_model_inputs_t in;
    sb_model_current_t cur;
    sb_model_plan_t plan;
    sb_directives_t d;
    char *log;
} threaded_t;

static void threaded(threaded_t *t, sb_mpm_t mpm, const int cur[5], const int rec[6])
{
    memset(t, 0, sizeof(*t));
    t->log = apr_pstrdup(pool, "");
    sb_policy_defaults(&t->po);
    sb_model_config_defaults(&t->cfg);
    t->cfg.mpm = mpm;
    sb_model_inputs_init(&t->in);
    sb_model_current_init(&t->cur);
    t->cur.keepalive = 1;
    t->cur.max_request_workers = cur[0];
    t->cur.server_limit = cur[1];
    t->cur.threads_per_child = cur[2];
    t->cur.thread_limit = cur[3];
    t->cur.keepalive_timeout = cur[4];
    t->plan.rec.keepalive = 1;
    t->plan.rec.max_request_workers = rec[0];
    t->plan.rec.server_limit = rec[1];
    t->plan.rec.threads_per_child = rec[2];
    t->plan.rec.thread_limit = rec[3];
    t->plan.rec.kat = rec[4];
    t->plan.rec.processes = rec[5];
}

static int next(threaded_t *t)
{
    return sb_policy_next(&t->po, &t->cfg, &t->in, &t->cur, &t->plan, &t->d, &t->log, pool);
}

START_TEST(next_threaded_keeps_the_running_server_limit)
{
    /* the plan keeps the running ServerLimit 4 (never lowered) for one
     * process; the step to 16 slots (2 processes + 1) fits in it: no
     * ServerLimit 5, which would need a stop and start */
    static const int cur[5] = { 32, 4, 8, 16, 7 }, rec[6] = { 8, 4, 8, 16, 4, 1 };
    threaded_t t;

    threaded(&t, SB_MPM_EVENT, cur, rec);
    next(&t);
    ck_assert_int_eq(t.d.max_request_workers, 16);
    ck_assert_int_eq(t.d.server_limit, 4);
}
END_TEST

START_TEST(next_threaded)
{
    static const int cur[5] = { 100, 5, 25, 64, 5 }, rec[6] = { 1000, 50, 25, 64, 5, 40 };
    threaded_t t;

    threaded(&t, SB_MPM_WORKER, cur, rec);
    /* 100 -> at most 200, in multiples of 25: 8 processes + the model's 25 %
     * spare of them (2), not the 10 the plan's 40 processes would have */
    ck_assert_int_eq(next(&t), 1);
    ck_assert_int_eq(t.d.max_request_workers, 200);
    ck_assert_int_eq(t.d.server_limit, 8 + 2);
    ck_assert_int_eq(t.d.threads_per_child, 25);
    ck_assert_int_eq(t.d.thread_limit, 64);

    /* a new ThreadsPerChild: MaxRequestWorkers as planned */
    t.log = apr_pstrdup(pool, "");
    t.cur.threads_per_child = 20;
    ck_assert_int_eq(next(&t), 1);
    ck_assert_int_eq(t.d.max_request_workers, 1000);
    ck_assert_int_eq(t.d.server_limit, 50);
    ck_assert_ptr_nonnull(strstr(t.log, "ThreadsPerChild 20 -> 25"));
}
END_TEST

int main(void)
{
    Suite *s = suite_create("policy");
    TCase *tc = tcase_create("policy");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, defaults);
    tcase_add_test(tc, spike_by_rate);
    tcase_add_test(tc, spike_by_queue);
    tcase_add_test(tc, ring_keeps_the_newest);
    tcase_add_test(tc, minimum_interval);
    tcase_add_test(tc, value_bounds_by_direction);
    tcase_add_test(tc, next_prefork);
    tcase_add_test(tc, next_threaded);
    tcase_add_test(tc, next_threaded_keeps_the_running_server_limit);
    tcase_add_test(tc, overload_waives_interval_and_queue_spike);
    tcase_add_test(tc, overload_converges_in_three_cycles);
    suite_add_tcase(s, tc);
    return sb_unit_run(s);
}
