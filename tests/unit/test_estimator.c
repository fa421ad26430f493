/* Unit tests of the estimator's arrival rule on constructed inputs: what
 * arrived (accepted or not) against what httpd accepted, from the accept
 * queue's growth, the kernel's new connections, refused attempts and the
 * eBPF lifecycle counts.  (The live figures are checked against the load
 * generator by the accuracy integration tests.) */
#include <check.h>
#include "sb_unit.h"
#include <math.h>
#include <string.h>
#include <apr_general.h>
#include "sb_estimator.h"

static apr_pool_t *pool;

#define MAXSEC 16
static sb_second_t secs[MAXSEC];
static int nsecs;
/* every observation of these kinds, all seconds */
static double hold_v[256], rpc_v[256];
static int hold_n, rpc_n;
/* hold-time observations of each second: count and sum */
static double hold_sec_n[MAXSEC], hold_sec_sum[MAXSEC];

static void on_second(const sb_second_t *s, void *baton)
{
    int i;

    for (i = 0; i < s->obs[SB_OBS_HOLD].n && hold_n < 256; i++) {
        hold_v[hold_n++] = s->obs[SB_OBS_HOLD].v[i];
    }
    for (i = 0; i < s->obs[SB_OBS_REQ_PER_CONN].n && rpc_n < 256; i++) {
        rpc_v[rpc_n++] = s->obs[SB_OBS_REQ_PER_CONN].v[i];
    }
    if (nsecs < MAXSEC) {
        hold_sec_n[nsecs] = s->obs[SB_OBS_HOLD].n;
        hold_sec_sum[nsecs] = 0;
        for (i = 0; i < s->obs[SB_OBS_HOLD].n; i++) {
            hold_sec_sum[nsecs] += s->obs[SB_OBS_HOLD].v[i];
        }
        secs[nsecs] = *s;
        memset(secs[nsecs].obs, 0, sizeof(secs[nsecs].obs));
    }
    nsecs++;
}

static void setup(void)
{
    apr_pool_create(&pool, NULL);
    nsecs = 0;
    hold_n = rpc_n = 0;
}

static void teardown(void)
{
    apr_pool_destroy(pool);
}

#define T0 ((apr_time_t)1700000000 * APR_USEC_PER_SEC)
#define AT(sec, ms) (T0 + apr_time_from_sec(sec) + apr_time_from_msec(ms))

/* A mod_status sample (no per-slot inference: the kernel's estimate is
 * the one in use), 4 slots, all busy. */
static void status_sample(sb_estimator_t *e, apr_time_t ts, uint64_t accesses)
{
    sb_sample_t *s = sb_sample_create(pool);
    int i;

    s->ts = ts;
    s->source = SB_SOURCE_STATUS;
    sb_sample_alloc(s, pool, 4, 0);
    for (i = 0; i < 4; i++) {
        s->workers[i].state = SB_SLOT_WRITE;
    }
    s->has_totals = 1;
    s->extended_status = 1;
    s->total_accesses = accesses;
    sb_sample_count(s);
    sb_estimator_add_sample(e, s, 0);
}

static void kernel_view(sb_estimator_t *e, apr_time_t ts, int queue, int backlog, int new_conns,
                        uint64_t overflows)
{
    sb_kernel_view_t v;

    memset(&v, 0, sizeof(v));
    v.ts = ts;
    v.listen_queue = queue;
    v.listen_backlog = backlog;
    v.new_conns = new_conns;
    v.requests_seen = new_conns;
    v.listen_overflows = overflows;
    v.have_overflows = 1;
    sb_estimator_add_kernel(e, &v);
}

/* A scoreboard sample of a prefork MPM (ExtendedStatus on): n slots as
 * given, the totals their access counts. */
static void shm_sample(sb_estimator_t *e, apr_time_t ts, const sb_worker_t *w, int n)
{
    sb_sample_t *s = sb_sample_create(pool);
    uint64_t total = 0;
    int i;

    s->ts = ts;
    s->source = SB_SOURCE_SHM;
    s->server.mpm_id = SB_MPM_PREFORK;
    s->server.generation = 0;
    sb_sample_alloc(s, pool, n, 0);
    for (i = 0; i < n; i++) {
        s->workers[i] = w[i];
        total += w[i].access_count;
    }
    s->has_totals = 1;
    s->extended_status = 1;
    s->total_accesses = total;
    sb_sample_count(s);
    sb_estimator_add_sample(e, s, 0);
}

static sb_worker_t slot(sb_slot_state_t st, unsigned long access, unsigned int conn_count,
                        apr_time_t start, apr_time_t stop, apr_time_t last_used)
{
    sb_worker_t w;

    memset(&w, 0, sizeof(w));
    w.pid = 100;
    w.state = st;
    w.access_count = access;
    w.conn_count = conn_count;
    w.start_time = start;
    w.stop_time = stop;
    w.last_used = last_used;
    return w;
}

/* KeepAlive Off: between two 10 Hz samples each slot serves three
 * one-request connections.  The slots sampled writing a response are all
 * on their connection's first request (conn_count 0): one request per
 * connection, and every request is a connection. */
START_TEST(first_requests_scale_the_scoreboard_estimate)
{
    sb_estimator_t *e = sb_estimator_create(pool, on_second, NULL);
    sb_worker_t w[8];
    double total = 0;
    int j, i;

    for (j = 0; j < 40; j++) {
        apr_time_t ts = AT(0, 100 * j + 50);
        for (i = 0; i < 8; i++) {
            unsigned long acc = 1000 + 3 * (unsigned long)j;
            if ((i + j) % 2 == 0) {
                w[i] = slot(SB_SLOT_WRITE, acc, 0, ts - 1000, ts - 3000, ts - 1000);
            }
            else {
                w[i] = slot(SB_SLOT_READY, acc, 0, ts - 2000, ts - 1500, ts - 1200);
            }
        }
        shm_sample(e, ts, w, 8);
    }
    sb_estimator_tick(e, AT(6, 0), 0);
    ck_assert(fabs(sb_estimator_req_per_conn(e) - 1) < 1e-9);
    /* 8 slots x 3 connections x 10 samples a second; the first second
     * lacks the baseline sample's interval */
    for (j = 1; j < 4; j++) {
        ck_assert_msg(fabs(secs[j].conn_per_s_scoreboard - 240) < 1e-9, "second %d: %g", j,
                      secs[j].conn_per_s_scoreboard);
        ck_assert(secs[j].req_per_s == 240);
        total += secs[j].conn_per_s;
    }
    ck_assert_msg(fabs(total - 720) < 1e-9, "arrivals %g", total);
}
END_TEST

/* The share of first requests among the slots sampled writing is
 * connections / requests: a quarter of them on conn_count 0 is four
 * requests per connection (trusted from 25 first requests on). */
START_TEST(requests_per_connection_from_first_requests)
{
    sb_estimator_t *e = sb_estimator_create(pool, on_second, NULL);
    sb_worker_t w[4];
    int j, i;

    for (j = 0; j < 30; j++) {
        apr_time_t ts = AT(0, 100 * j + 50);
        for (i = 0; i < 4; i++) {
            w[i] = slot(SB_SLOT_WRITE, 10, (unsigned int)i, ts - 1000, ts - 3000, ts - 1000);
        }
        shm_sample(e, ts, w, 4);
        if (j == 20) {
            /* 21 first requests: not yet trusted, nothing else known */
            ck_assert(sb_estimator_req_per_conn(e) == 1);
        }
    }
    ck_assert_msg(fabs(sb_estimator_req_per_conn(e) - 4) < 1e-9, "%g",
                  sb_estimator_req_per_conn(e));
}
END_TEST

/* Before enough slots were sampled writing, the slots sampled closing
 * (lingering close) give the scale: their connections' requests. */
START_TEST(requests_per_connection_from_closing_slots)
{
    sb_estimator_t *e = sb_estimator_create(pool, on_second, NULL);
    sb_worker_t w[5];
    int j, i;

    for (j = 0; j < 6; j++) {
        apr_time_t ts = AT(0, 100 * j + 50);
        for (i = 0; i < 5; i++) {
            /* requests 1, 2, 3, 3, 6: 3 on average */
            static const unsigned int cc[] = { 1, 2, 3, 3, 6 };
            w[i] = slot(SB_SLOT_CLOSING, 10, cc[i], ts - 1000, ts - 900, ts - 900);
        }
        shm_sample(e, ts, w, 5);
        if (j == 3) {
            ck_assert(sb_estimator_req_per_conn(e) == 1);     /* 20: not yet */
        }
    }
    ck_assert_msg(fabs(sb_estimator_req_per_conn(e) - 3) < 1e-9, "%g",
                  sb_estimator_req_per_conn(e));
}
END_TEST

/* The hold time of a connection followed on the scoreboard from its first
 * request (conn_count 1 idle in keep-alive, or 0 while writing) until its
 * slot is ready again, also after a last request between two samples;
 * and of a one-request connection between two samples. */
START_TEST(hold_time_from_the_first_request_to_ready)
{
    sb_estimator_t *e = sb_estimator_create(pool, on_second, NULL);
    sb_worker_t w[3];

    w[0] = slot(SB_SLOT_READY, 10, 0, AT(0, 10), AT(0, 11), AT(0, 12));
    w[1] = slot(SB_SLOT_READY, 20, 0, AT(0, 10), AT(0, 11), AT(0, 12));
    w[2] = slot(SB_SLOT_READY, 30, 0, AT(0, 10), AT(0, 11), AT(0, 12));
    shm_sample(e, AT(0, 100), w, 3);
    /* [0]: a connection's first request 150..151, idle now */
    w[0] = slot(SB_SLOT_KEEPALIVE, 11, 1, AT(0, 150), AT(0, 151), AT(0, 151));
    /* [1]: one connection of one request came and went: 120..121, ready 122 */
    w[1] = slot(SB_SLOT_READY, 21, 0, AT(0, 120), AT(0, 121), AT(0, 122));
    /* [2]: a connection's first request is being written */
    w[2] = slot(SB_SLOT_WRITE, 30, 0, AT(0, 190), AT(0, 11), AT(0, 190));
    shm_sample(e, AT(0, 200), w, 3);
    /* [0]: its second request, 350..352; [2]: idle after its second */
    w[0] = slot(SB_SLOT_KEEPALIVE, 12, 2, AT(0, 350), AT(0, 352), AT(0, 352));
    w[2] = slot(SB_SLOT_KEEPALIVE, 32, 2, AT(0, 300), AT(0, 301), AT(0, 301));
    shm_sample(e, AT(0, 400), w, 3);
    /* [0]: closed, ready since 460; [2]: one more request, then the client
     * closed: ready since 481 */
    w[0] = slot(SB_SLOT_READY, 12, 0, AT(0, 350), AT(0, 352), AT(0, 460));
    w[2] = slot(SB_SLOT_READY, 33, 0, AT(0, 470), AT(0, 480), AT(0, 481));
    shm_sample(e, AT(0, 500), w, 3);
    sb_estimator_tick(e, AT(2, 0), 0);
    ck_assert_int_eq(hold_n, 3);
    ck_assert_msg(fabs(hold_v[0] - 0.002) < 1e-9, "%g", hold_v[0]);
    /* in the order of the slots */
    ck_assert_msg(fabs(hold_v[1] - 0.310) < 1e-9, "%g", hold_v[1]);
    ck_assert_msg(fabs(hold_v[2] - 0.291) < 1e-9, "%g", hold_v[2]);
    ck_assert_int_eq(rpc_n, 2);
    ck_assert(rpc_v[0] == 1 && rpc_v[1] == 2);
}
END_TEST

/* A connection shorter than a sample interval that one sample caught in
 * flight is no hold-time observation of its own (caught in proportion to
 * its length); one between two samples that saw the slot ready is.  The
 * caught one counts through Little's law: of the two connections accepted
 * one got no hold time, and the slot-seconds the samples saw on a
 * connection (one sample, 0.1 s) less the observed one (5 ms) are its. */
START_TEST(hold_time_not_from_short_connections_caught_in_flight)
{
    sb_estimator_t *e = sb_estimator_create(pool, on_second, NULL);
    sb_worker_t w[1];

    w[0] = slot(SB_SLOT_READY, 10, 0, AT(0, 10), AT(0, 11), AT(0, 12));
    shm_sample(e, AT(0, 100), w, 1);
    w[0] = slot(SB_SLOT_WRITE, 10, 0, AT(0, 198), AT(0, 11), AT(0, 198));
    shm_sample(e, AT(0, 200), w, 1);
    /* done 5 ms after it started */
    w[0] = slot(SB_SLOT_READY, 11, 0, AT(0, 198), AT(0, 202), AT(0, 203));
    shm_sample(e, AT(0, 300), w, 1);
    /* another, 320..324, ready 325, between two samples */
    w[0] = slot(SB_SLOT_READY, 12, 0, AT(0, 320), AT(0, 324), AT(0, 325));
    shm_sample(e, AT(0, 400), w, 1);
    sb_estimator_tick(e, AT(2, 0), 0);
    ck_assert_msg(fabs(secs[0].accepted_per_s - 2) < 1e-9, "%g", secs[0].accepted_per_s);
    ck_assert_int_eq(hold_n, 2);
    ck_assert_msg(fabs(hold_v[0] - 0.005) < 1e-9, "%g", hold_v[0]);
    ck_assert_msg(fabs(hold_v[1] - 0.095) < 1e-9, "%g", hold_v[1]);
}
END_TEST

/* KeepAlive Off at 240 new connections/s on 8 slots: each slot serves
 * three one-request connections between two 10 Hz samples, and at each
 * sample half the slots are closing one (lingering close, conn_count 1).
 * No connection's end is seen (the slot took others before the next
 * sample), so none is observed; the hold time is Little's law: 4 slots
 * held on average over 240 accepted a second, 1/60 s, once per
 * connection (the observations count the connections, 240 a second). */
START_TEST(hold_time_by_littles_law_when_no_end_is_seen)
{
    sb_estimator_t *e = sb_estimator_create(pool, on_second, NULL);
    sb_worker_t w[8];
    int j, i;

    for (j = 0; j < 40; j++) {
        apr_time_t ts = AT(0, 100 * j + 50);
        for (i = 0; i < 8; i++) {
            unsigned long acc = 1000 + 3 * (unsigned long)j;
            if ((i + j) % 2 == 0) {
                w[i] = slot(SB_SLOT_CLOSING, acc, 1, ts - 1000, ts - 800, ts - 3000);
            }
            else {
                w[i] = slot(SB_SLOT_READY, acc, 0, ts - 2000, ts - 1500, ts - 1200);
            }
        }
        shm_sample(e, ts, w, 8);
    }
    sb_estimator_tick(e, AT(6, 0), 0);
    for (j = 1; j < 4; j++) {
        ck_assert_msg(fabs(secs[j].accepted_per_s - 240) < 1e-9, "second %d: %g", j,
                      secs[j].accepted_per_s);
        ck_assert_msg(hold_sec_n[j] == 240, "second %d: %g observations", j, hold_sec_n[j]);
        ck_assert_msg(fabs(hold_sec_sum[j] / hold_sec_n[j] - 1.0 / 60) < 1e-9,
                      "second %d: mean %g", j, hold_sec_sum[j] / hold_sec_n[j]);
    }
}
END_TEST

/* A keep-alive connection that holds its slot across seconds is observed
 * once, at its end (3 s), and Little's law adds nothing for it: only
 * connections that ended unobserved get its share, never one still on a
 * slot (which would be counted again at its end). */
START_TEST(hold_time_once_for_a_connection_across_seconds)
{
    sb_estimator_t *e = sb_estimator_create(pool, on_second, NULL);
    sb_worker_t w[1];
    int j;

    for (j = 0; j < 40; j++) {
        if (j == 0) {
            w[0] = slot(SB_SLOT_READY, 10, 0, AT(0, 10), AT(0, 11), AT(0, 12));
        }
        else if (j <= 30) {
            w[0] = slot(SB_SLOT_KEEPALIVE, 11, 1, AT(0, 120), AT(0, 121), AT(0, 121));
        }
        else {
            w[0] = slot(SB_SLOT_READY, 11, 0, AT(0, 120), AT(0, 121), AT(3, 120));
        }
        shm_sample(e, AT(0, 100 * j + 50), w, 1);
    }
    sb_estimator_tick(e, AT(6, 0), 0);
    ck_assert_int_eq(hold_n, 1);
    ck_assert_msg(fabs(hold_v[0] - 3.0) < 1e-9, "%g", hold_v[0]);
}
END_TEST

/* A slot sampled closing serves no more request on that connection: one
 * request later and ready again, what it served came on another
 * connection, whose ready time is no end of the one closing (which would
 * be given a hold spanning both). */
START_TEST(hold_time_not_across_a_closing_slots_next_connection)
{
    sb_estimator_t *e = sb_estimator_create(pool, on_second, NULL);
    sb_worker_t w[1];
    int j;

    w[0] = slot(SB_SLOT_READY, 10, 0, AT(0, 10), AT(0, 11), AT(0, 12));
    shm_sample(e, AT(0, 100), w, 1);
    /* a connection's first request done at 150, closing */
    w[0] = slot(SB_SLOT_CLOSING, 11, 1, AT(0, 150), AT(0, 151), AT(0, 12));
    shm_sample(e, AT(0, 200), w, 1);
    /* another connection 250..251, ready 252 */
    w[0] = slot(SB_SLOT_READY, 12, 0, AT(0, 250), AT(0, 251), AT(0, 252));
    shm_sample(e, AT(0, 300), w, 1);
    sb_estimator_tick(e, AT(2, 0), 0);
    /* not 150 to 252 (what Little's law adds for the connections it
     * does not observe is another matter, test above) */
    for (j = 0; j < hold_n; j++) {
        ck_assert_msg(fabs(hold_v[j] - 0.102) > 1e-9, "hold %g spans two connections",
                      hold_v[j]);
    }
}
END_TEST

/* prefork: with the eBPF source each connection's lifetime is its hold
 * time while no client waits in the accept queue, and the scoreboard's
 * own are not added; while clients wait (10 queued, 5 accepted a second:
 * about 2 s each, Little's law) the lifetimes are not hold times, the
 * scoreboard's are. */
START_TEST(hold_time_from_lifetimes)
{
    sb_estimator_t *e = sb_estimator_create(pool, on_second, NULL);
    sb_worker_t w[1];
    int s;

    for (s = 0; s < 8; s++) {
        int queue = s < 4 ? 0 : 10;
        w[0] = slot(s % 2 ? SB_SLOT_KEEPALIVE : SB_SLOT_READY, 10 + (unsigned long)s / 2,
                    s % 2, AT(s, 50), AT(s, 60), AT(s, 60));
        shm_sample(e, AT(s, 100), w, 1);
        kernel_view(e, AT(s, 400), queue, 128, 0, 0);
        sb_estimator_add_lifecycle(e, AT(s, 600), 5, 5, 0, 0);
        if (s == 3 || s == 7) {
            sb_estimator_add_obs(e, AT(s, 700), SB_OBS_LIFETIME, 3.5);
        }
    }
    sb_estimator_tick(e, AT(9, 0), 0);
    /* the lifetime of second 3; then the scoreboard's connection of
     * seconds 5..6 (5.050 to ready at 6.060); with the eBPF source no
     * hold time comes from Little's law (see hold_rest) */
    ck_assert_int_eq(hold_n, 2);
    ck_assert_msg(fabs(hold_v[0] - 3.5) < 1e-9, "%g", hold_v[0]);
    ck_assert_msg(fabs(hold_v[1] - 1.010) < 1e-9, "%g", hold_v[1]);
}
END_TEST

/* A wait in the accept queue that is small against the lifetimes (2.5 ms
 * against 3.5 s) comes off each lifetime. */
START_TEST(hold_time_from_lifetimes_less_a_small_wait)
{
    sb_estimator_t *e = sb_estimator_create(pool, on_second, NULL);
    sb_worker_t w[1];
    int s;

    for (s = 0; s < 5; s++) {
        w[0] = slot(SB_SLOT_READY, 10, 0, AT(0, 10), AT(0, 11), AT(0, 12));
        shm_sample(e, AT(s, 100), w, 1);
        /* one client waits at the sample of second 1, none at the others */
        kernel_view(e, AT(s, 400), s == 1, 128, 0, 0);
        sb_estimator_add_lifecycle(e, AT(s, 600), 100, 100, 0, 0);
        sb_estimator_add_obs(e, AT(s, 700), SB_OBS_LIFETIME, 3.5);
    }
    sb_estimator_tick(e, AT(6, 0), 0);
    ck_assert_int_eq(hold_n, 5);
    /* after second 1: 1 connection-second over 400 accepted */
    ck_assert_msg(fabs(hold_v[4] - (3.5 - 1.0 / 400)) < 1e-9, "%g", hold_v[4]);
}
END_TEST

START_TEST(queue_growth_is_arrivals_not_accepts)
{
    sb_estimator_t *e = sb_estimator_create(pool, on_second, NULL);
    int s;

    /* every second 10 new connections are seen; the queue grows by 6 a
     * second: httpd accepted 4 of them */
    for (s = 0; s < 5; s++) {
        status_sample(e, AT(s, 100), 100 + 10 * (uint64_t)s);
        kernel_view(e, AT(s, 500), 6 * (s + 1), 128, 10, 0);
    }
    sb_estimator_tick(e, AT(6, 0), 0);
    ck_assert_int_ge(nsecs, 5);
    for (s = 1; s < 5; s++) {
        ck_assert_msg(secs[s].conn_per_s == 10, "second %d: arrivals %g", s, secs[s].conn_per_s);
        ck_assert_msg(secs[s].accepted_per_s == 4, "second %d: accepted %g", s,
                      secs[s].accepted_per_s);
        ck_assert(secs[s].refused_per_s == 0);
        ck_assert(isnan(secs[s].conn_per_s_bpf));
    }
}
END_TEST

START_TEST(refused_counts_only_while_httpd_queue_is_full)
{
    sb_estimator_t *e = sb_estimator_create(pool, on_second, NULL);

    status_sample(e, AT(0, 100), 100);
    kernel_view(e, AT(0, 500), 2, 8, 0, 1000);
    /* the host refused 5 more while httpd's queue had room: another
     * listener's, not httpd's */
    status_sample(e, AT(1, 100), 100);
    kernel_view(e, AT(1, 500), 2, 8, 0, 1005);
    /* httpd's queue full (8 of 8): 7 refused are httpd's */
    status_sample(e, AT(2, 100), 100);
    kernel_view(e, AT(2, 500), 8, 8, 6, 1012);
    sb_estimator_tick(e, AT(4, 0), 0);
    ck_assert_int_ge(nsecs, 3);
    ck_assert(secs[1].refused_per_s == 0);
    ck_assert(secs[1].conn_per_s == 0);
    ck_assert_msg(secs[2].refused_per_s == 7, "refused %g", secs[2].refused_per_s);
    /* 6 seen arriving (the queue grew by 6); the 7 refused apart (each
     * retry of a client is refused again) */
    ck_assert_msg(secs[2].conn_per_s == 6, "arrivals %g", secs[2].conn_per_s);
    ck_assert(secs[2].accepted_per_s == 0);
}
END_TEST

START_TEST(ebpf_counts_are_the_arrivals)
{
    sb_estimator_t *e = sb_estimator_create(pool, on_second, NULL);
    int s;

    for (s = 0; s < 4; s++) {
        status_sample(e, AT(s, 100), 100 + 50 * (uint64_t)s);
        /* the kernel's samples see only 3 of the 50 (short connections
         * between two samples); the access counters make up the rest,
         * a second late */
        kernel_view(e, AT(s, 400), 0, 128, 3, 0);
        sb_estimator_add_lifecycle(e, AT(s, 600), 50, 45, 5, 0);
    }
    sb_estimator_tick(e, AT(5, 0), 0);
    for (s = 1; s < 4; s++) {
        ck_assert_msg(secs[s].conn_per_s == 50, "second %d: %g", s, secs[s].conn_per_s);
        ck_assert(secs[s].conn_per_s_bpf == 50);
        ck_assert_msg(secs[s].accepted_per_s >= 3 && secs[s].accepted_per_s <= 50, "accepted %g",
                      secs[s].accepted_per_s);
        ck_assert(secs[s].closed_by_server_bpf == 45 && secs[s].closed_by_client_bpf == 5);
        ck_assert(secs[s].closed_reset_bpf == 0);
    }
}
END_TEST

START_TEST(never_below_what_the_kernel_saw)
{
    sb_estimator_t *e = sb_estimator_create(pool, on_second, NULL);

    /* the queue shrinks by 3 while 5 arrive: 8 accepted, 5 arrived */
    status_sample(e, AT(0, 100), 100);
    kernel_view(e, AT(0, 500), 10, 128, 0, 0);
    status_sample(e, AT(1, 100), 100);
    kernel_view(e, AT(1, 500), 7, 128, 5, 0);
    sb_estimator_tick(e, AT(3, 0), 0);
    ck_assert(secs[1].conn_per_s == 5);
    ck_assert(secs[1].accepted_per_s == 8);
}
END_TEST

/* The scoreboard and the kernel see a connection in different seconds:
 * the total follows the larger count, not the larger of each second. */
START_TEST(the_floor_is_cumulative)
{
    sb_estimator_t *e = sb_estimator_create(pool, on_second, NULL);
    double total = 0;
    int s;
    /* seen per second; the estimate (here: the kernel's, with the access
     * counters) trails it by one second */
    static const int seen[] = { 0, 3, 2, 4, 1, 0, 0 };

    for (s = 0; s < 7; s++) {
        status_sample(e, AT(s, 100), 100);
        kernel_view(e, AT(s, 500), 0, 128, seen[s], 0);
    }
    sb_estimator_tick(e, AT(8, 0), 0);
    for (s = 0; s < 7; s++) {
        total += secs[s].conn_per_s;
    }
    ck_assert_msg(total == 10, "total arrivals %g, seen 10", total);
}
END_TEST

/* Requests per connection from counts: no connection has to end between
 * two samples (a lingering overload ends none). */
START_TEST(requests_per_connection_from_counts)
{
    sb_estimator_t *e = sb_estimator_create(pool, on_second, NULL);
    int s;

    ck_assert(sb_estimator_req_per_conn(e) == 1);     /* nothing seen yet */
    for (s = 0; s < 6; s++) {
        status_sample(e, AT(s, 100), 1000 + 30 * (uint64_t)s);
        sb_estimator_add_lifecycle(e, AT(s, 600), 10, 0, 0, 0);
    }
    sb_estimator_tick(e, AT(7, 0), 0);
    /* 30 requests and 10 arrivals a second */
    ck_assert_msg(fabs(sb_estimator_req_per_conn(e) - 3) < 0.2, "%g",
                  sb_estimator_req_per_conn(e));
}
END_TEST

int main(void)
{
    Suite *s = suite_create("estimator");
    TCase *tc = tcase_create("arrivals");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, queue_growth_is_arrivals_not_accepts);
    tcase_add_test(tc, refused_counts_only_while_httpd_queue_is_full);
    tcase_add_test(tc, ebpf_counts_are_the_arrivals);
    tcase_add_test(tc, never_below_what_the_kernel_saw);
    tcase_add_test(tc, the_floor_is_cumulative);
    tcase_add_test(tc, requests_per_connection_from_counts);
    tcase_add_test(tc, first_requests_scale_the_scoreboard_estimate);
    tcase_add_test(tc, requests_per_connection_from_first_requests);
    tcase_add_test(tc, requests_per_connection_from_closing_slots);
    tcase_add_test(tc, hold_time_from_the_first_request_to_ready);
    tcase_add_test(tc, hold_time_not_from_short_connections_caught_in_flight);
    tcase_add_test(tc, hold_time_by_littles_law_when_no_end_is_seen);
    tcase_add_test(tc, hold_time_not_across_a_closing_slots_next_connection);
    tcase_add_test(tc, hold_time_once_for_a_connection_across_seconds);
    tcase_add_test(tc, hold_time_from_lifetimes);
    tcase_add_test(tc, hold_time_from_lifetimes_less_a_small_wait);
    suite_add_tcase(s, tc);
    return sb_unit_run(s);
}
