#include "config.h"
#include <math.h>
#include <string.h>
#include <apr_strings.h>
#include "sb_estimator.h"
#include "sb_shm.h"

const char *const sb_obs_names[SB_OBS_N] = {
    "ka_gap", "ka_close", "req_per_conn", "service_time", "hold_time", "conn_lifetime"
};

/* Seconds of counts behind the requests-per-connection scale. */
#define SB_RPC_WINDOW 60
/* Connections the window needs before its ratio is trusted. */
#define SB_RPC_MIN_CONNS 20
/* First requests among the slots sampled writing a response the window
 * needs before their share is trusted (about 20 % relative error); the
 * same for the slots sampled closing. */
#define SB_RPC_MIN_FIRST 25
#define SB_RPC_MIN_CLOSING 25

/* What the estimator remembers of one worker slot between samples. */
typedef struct {
    int valid;
    pid_t pid;
    sb_slot_state_t state;
    unsigned long access;
    unsigned int conn_count;
    apr_time_t last_used;
    apr_time_t start_time;
    apr_time_t stop_time;
    apr_time_t conn_start;      /* start of the current connection, 0 unknown */
    int conn_samples;           /* samples that showed it on that connection */
    double conn_slot_s;         /* ... and the slot-seconds they stand for */
} slot_track_t;

/* The second being filled. */
typedef struct {
    int64_t ts;
    int samples;
    int kernel_samples;
    double busy_sum, busy_max, idle_sum;
    double ka_sum, ka_max, rd_sum, wr_sum, cl_sum, gr_sum, open_sum;
    double kconn_sum, kconn_max;
    double lq_sum;              /* accept queue, summed over kernel samples */
    double w_first, w_all;      /* slots sampled writing: on their
                                 * connection's first request, all */
    double c_req, c_all;        /* slots sampled closing: their
                                 * connections' requests, all */
    double req;                 /* requests completed */
    double kbytes;
    double conn_sb;             /* scoreboard estimate of new connections */
    double conn_k;              /* kernel: new connections */
    double req_k;               /* kernel: requests on tracked connections */
    double vanished_k;          /* kernel: tracked connections the client closed */
    double tail_k;              /* ... whose last requests were not counted */
    double lq_max;
    double lq_end;              /* accept queue at the last kernel sample */
    int lq_full;                /* the queue reached its limit */
    double overflows;
    int bpf_samples;
    double arrivals_bpf, closed_server_bpf, closed_client_bpf, closed_reset_bpf;
    int have_counts;            /* totals were usable in this second */
    int have_sb_conn;
    int slots_total;
    sb_source_kind_t source;
    int generation;
    int64_t pss, mem;
    int conn_capable;           /* a per-slot scoreboard sample in it */
    double hold_n;              /* hold times observed per connection */
    sb_obs_t obs[SB_OBS_N];
} acc_t;

struct sb_estimator {
    apr_pool_t *pool;
    apr_pool_t *second_pool;
    sb_second_cb cb;
    void *baton;
    acc_t cur;
    int started;
    /* previous sample */
    int have_prev;
    uint64_t prev_total;
    uint64_t prev_kbytes;
    int prev_has_totals;
    int prev_generation;
    slot_track_t *slots;
    int nslots;
    /* kernel */
    double untracked;           /* requests not on tracked connections, carried */
    double prev_req;            /* requests of the previous closed second */
    int have_prev_overflows;
    uint64_t prev_overflows;
    int have_prev_lq;
    double prev_lq;             /* accept queue at the end of the last second */
    double est_total;           /* arrivals estimated, seen and emitted since */
    double seen_total;          /* the start (see arrivals()) */
    double arrived_total;
    /* requests per finished connection, for the scoreboard estimate */
    double rpc_sum;
    double rpc_n;
    double rpc_lb_sum;          /* requests of connections that ended between
                                 * samples (an upper bound) */
    double rpc_lb_n;
    /* requests and eBPF arrivals of the last SB_RPC_WINDOW closed seconds:
     * requests per connection from counts, also when no connection ends;
     * the slots sampled writing a response (on their connection's first
     * request, all); the accept queue (mean) and the connections accepted */
    double win_req[SB_RPC_WINDOW], win_conn[SB_RPC_WINDOW];
    double win_wfirst[SB_RPC_WINDOW], win_wall[SB_RPC_WINDOW];
    double win_creq[SB_RPC_WINDOW], win_call[SB_RPC_WINDOW];
    double win_lq[SB_RPC_WINDOW], win_acc[SB_RPC_WINDOW];
    double win_hold[SB_RPC_WINDOW];     /* hold times observed, connections
                                         * accepted (any source) */
    double win_hacc[SB_RPC_WINDOW];
    int win_at;
    int slot_mpm;               /* the MPM holds a slot per connection */
    int have_lifetimes;         /* the eBPF source reports (lifetimes) */
    double queue_wait;          /* mean wait in the accept queue (s) */
    double life_mean;           /* mean eBPF lifetime (s), moving */
    apr_time_t prev_ts;         /* the previous scoreboard sample's time */
    apr_interval_time_t sample_dt; /* ... and the interval to this one */
    double dt_mean;             /* the sample interval (s), moving mean */
    int dt_n;                   /* ... over this many (up to 100) */
    /* since the start (see hold_rest): slot-seconds sampled on a
     * connection, connections accepted, hold times observed (count, sum),
     * Little's law's observations added (count, sum); of the latest
     * sample: the slots on a connection and the slot-seconds of those */
    double tot_slot_s, tot_acc, tot_obs_n, tot_obs_s, rest_n, rest_s;
    double open_n, open_s;
    double svc_sum;
    double svc_n;
    int64_t pss, mem;
};

static void acc_reset(sb_estimator_t *e, int64_t ts)
{
    apr_pool_clear(e->second_pool);
    memset(&e->cur, 0, sizeof(e->cur));
    e->cur.ts = ts;
    e->cur.pss = e->pss;
    e->cur.mem = e->mem;
    e->cur.generation = SB_UNKNOWN;
}

sb_estimator_t *sb_estimator_create(apr_pool_t *p, sb_second_cb cb, void *baton)
{
    sb_estimator_t *e = apr_pcalloc(p, sizeof(*e));
    e->pool = p;
    e->cb = cb;
    e->baton = baton;
    e->pss = -1;
    e->mem = -1;
    apr_pool_create(&e->second_pool, p);
    return e;
}

/* Prefork and worker hold times come from the eBPF lifetimes, less the
 * mean wait in the accept queue (over the last 60 s, Little's law), while
 * that wait is negligible: under 1 ms or 1 % of the mean lifetime.  A
 * connection's lifetime runs from its handshake, its hold from its
 * accept.  While clients wait longer (and a client may even give up
 * before the accept, ending its lifetime in the queue), the
 * scoreboard's. */
#define SB_HOLD_MAX_WAIT 0.001
#define SB_HOLD_MAX_WAIT_SHARE 0.01
static int lifetimes_hold(const sb_estimator_t *e)
{
    return e->have_lifetimes && (e->queue_wait < SB_HOLD_MAX_WAIT
                                 || e->queue_wait < SB_HOLD_MAX_WAIT_SHARE * e->life_mean);
}

static void obs_add(sb_estimator_t *e, sb_obs_kind_t kind, double v)
{
    sb_obs_t *o = &e->cur.obs[kind];
    if (!isfinite(v) || v < 0) {
        return;
    }
    if (o->n == o->cap) {
        int cap = o->cap ? o->cap * 2 : 16;
        double *nv = apr_palloc(e->second_pool, sizeof(double) * (apr_size_t)cap);
        if (o->n) {
            memcpy(nv, o->v, sizeof(double) * (apr_size_t)o->n);
        }
        o->v = nv;
        o->cap = cap;
    }
    o->v[o->n++] = v;
    if (kind == SB_OBS_LIFETIME) {
        /* the mean lifetime, over about the last 1,000 connections */
        e->life_mean = e->life_mean > 0 ? e->life_mean + (v - e->life_mean) / 1000 : v;
        if (e->slot_mpm && lifetimes_hold(e)) {
            /* prefork, worker: a connection holds its slot from its
             * accept to its close */
            obs_add(e, SB_OBS_HOLD, fmax(0, v - e->queue_wait));
        }
    }
    else if (kind == SB_OBS_REQ_PER_CONN) {
        e->rpc_sum += v;
        e->rpc_n += 1;
    }
    else if (kind == SB_OBS_SERVICE) {
        e->svc_sum += v;
        e->svc_n += 1;
    }
}

double sb_estimator_req_per_conn(const sb_estimator_t *e)
{
    double req = 0, conn = 0, wfirst = e->cur.w_first, wall = e->cur.w_all, n;
    double creq = e->cur.c_req, call = e->cur.c_all;
    int i;

    for (i = 0; i < SB_RPC_WINDOW; i++) {
        req += e->win_req[i];
        conn += e->win_conn[i];
        wfirst += e->win_wfirst[i];
        wall += e->win_wall[i];
        creq += e->win_creq[i];
        call += e->win_call[i];
    }
    if (conn >= SB_RPC_MIN_CONNS && req > 0) {
        return fmax(1.0, req / conn);   /* counted: every arrival (eBPF) */
    }
    if (wfirst >= SB_RPC_MIN_FIRST) {
        /* a slot sampled writing a response is on its connection's first
         * request when its conn_count is still 0: that share of the
         * samples is connections / requests (the samples fall on
         * requests in proportion to their service time, not to their
         * connection's length) */
        return fmax(1.0, wall / wfirst);
    }
    if (call >= SB_RPC_MIN_CLOSING) {
        /* a slot sampled closing (lingering close) shows its finished
         * connection's requests in conn_count: their mean, as long as
         * the close takes as long after few requests as after many */
        return fmax(1.0, creq / call);
    }
    n = e->rpc_n + e->rpc_lb_n;
    return n > 0 ? fmax(1.0, (e->rpc_sum + e->rpc_lb_sum) / n) : 1.0;
}

/* A closed second's requests and counted arrivals into the window. */
static void window_add(sb_estimator_t *e, const sb_second_t *s)
{
    const acc_t *a = &e->cur;
    int have = !isnan(s->req_per_s) && !isnan(s->conn_per_s_bpf), i;
    double lq = 0, acc = 0;

    e->win_at = (e->win_at + 1) % SB_RPC_WINDOW;
    e->win_req[e->win_at] = have ? s->req_per_s : 0;
    e->win_conn[e->win_at] = have ? s->conn_per_s_bpf : 0;
    e->win_wfirst[e->win_at] = a->w_first;
    e->win_wall[e->win_at] = a->w_all;
    e->win_creq[e->win_at] = a->c_req;
    e->win_call[e->win_at] = a->c_all;
    have = a->kernel_samples > 0 && !isnan(s->accepted_per_s);
    e->win_lq[e->win_at] = have ? a->lq_sum / a->kernel_samples : 0;
    e->win_acc[e->win_at] = have ? s->accepted_per_s : 0;
    e->win_hold[e->win_at] = a->hold_n;
    e->win_hacc[e->win_at] = isnan(s->accepted_per_s) ? 0 : s->accepted_per_s;
    for (i = 0; i < SB_RPC_WINDOW; i++) {
        lq += e->win_lq[i];
        acc += e->win_acc[i];
    }
    /* Little's law: connection-seconds waited / connections accepted */
    e->queue_wait = acc > 0 ? lq / acc : 0;
}

/* Arrivals and accepted connections (see sbagent(8), ESTIMATORS).  httpd
 * accepts what its slots free up; the rest wait in the accept queue or
 * are refused.  Arrivals are the connections whose handshake completed:
 * with eBPF each is counted; without, prefork and worker: the
 * scoreboard's estimate of what httpd accepted plus the queue's growth,
 * other MPMs and sources: the kernel's estimate (it sees queued
 * connections too); never below what the kernel saw.  Accepted =
 * arrivals - the queue's growth.  Attempts the kernel refused while
 * httpd's queue was full are counted apart: ListenOverflows counts
 * dropped packets, and a client that retries is dropped again, then
 * counted as an arrival once it gets in. */
static void arrivals(sb_estimator_t *e, sb_second_t *s)
{
    const acc_t *a = &e->cur;
    double dq = 0, est;

    if (a->kernel_samples) {
        if (e->have_prev_lq) {
            dq = a->lq_end - e->prev_lq;
        }
        e->prev_lq = a->lq_end;
        e->have_prev_lq = 1;
        s->refused_per_s = a->lq_full ? a->overflows : 0;
    }
    else {
        s->refused_per_s = NAN;
    }
    est = !isnan(s->conn_per_s_scoreboard) ? s->conn_per_s_scoreboard + dq
                                           : s->conn_per_s_kernel;
    /* never below what the kernel saw arrive (the connections it saw, not
     * its estimate of those it missed), counted since the start: the two
     * see a connection in different seconds, and the larger of two counts
     * second by second would count some twice */
    if (a->kernel_samples && !isnan(est)) {
        e->est_total += est;
        e->seen_total += a->conn_k;
        est = fmax(0, fmax(e->est_total, e->seen_total) - e->arrived_total);
        e->arrived_total += est;
    }
    if (a->bpf_samples) {
        s->conn_per_s_bpf = est = a->arrivals_bpf;
        s->closed_by_server_bpf = a->closed_server_bpf;
        s->closed_by_client_bpf = a->closed_client_bpf;
        s->closed_reset_bpf = a->closed_reset_bpf;
    }
    else {
        s->conn_per_s_bpf = s->closed_by_server_bpf = NAN;
        s->closed_by_client_bpf = s->closed_reset_bpf = NAN;
    }
    s->conn_per_s = est;
    s->accepted_per_s = isnan(est) ? NAN : fmax(0, est - dq);
}

/* Share of the connections accepted over the window that got no hold time
 * from the scoreboard (below) from which on their hold times come from
 * Little's law; under it the observed ones stand for all. */
#define SB_HOLD_REST_SHARE 0.2

/* Prefork and worker, hold times from the scoreboard: a connection's is
 * observed only where samples saw it start and end (see hold_obs).  With
 * KeepAlive Off a slot serves a connection in about a millisecond and
 * takes the next before the next sample, so few ends are seen, and those
 * seen are not a fair share (the long ones span two samples; a slot that
 * took one connection between two samples was a quiet one).  The
 * connections that ended unobserved get what Little's law leaves for them
 * (W = L / lambda, no length bias: each connection counts once, at its
 * accept, and each sampled slot-second once): since the start, the
 * slot-seconds sampled on a connection less those of the connections
 * still on a slot and less the observed hold times, over the connections
 * accepted less those still on a slot and those observed; as that many
 * observations of their mean, less what earlier seconds added.  Only
 * ended connections get one, so none is counted twice when a connection
 * still open is observed at its end.  Under SB_HOLD_REST_SHARE the rest is
 * let go (what is left there is mostly the scoreboard's counting error);
 * so it is with the eBPF source, whose hold times are the lifetimes (they
 * end at httpd's first close, before the lingering close: the slot time
 * of Little's law would mix two measures). */
static void hold_rest(sb_estimator_t *e, const sb_second_t *s)
{
    double acc = 0, seen = 0, n, sum, v, k;
    int i;

    for (i = 0; i < SB_RPC_WINDOW; i++) {
        acc += e->win_hacc[i];
        seen += e->win_hold[i];
    }
    if (!isnan(s->accepted_per_s)) {
        e->tot_acc += s->accepted_per_s;
    }
    n = e->tot_acc - e->open_n - e->tot_obs_n - e->rest_n;
    sum = e->tot_slot_s - e->open_s - e->tot_obs_s - e->rest_s;
    if (!e->cur.conn_capable || e->have_lifetimes || isnan(s->accepted_per_s)
        || !(acc - seen >= SB_HOLD_REST_SHARE * acc && acc > 0)) {
        e->rest_n += n;         /* let go */
        e->rest_s += sum;
        return;
    }
    if (n < 1 || sum <= 0) {
        return;
    }
    v = sum / n;
    k = floor(n);
    for (i = 0; i < (int)k; i++) {
        obs_add(e, SB_OBS_HOLD, v);
    }
    e->rest_n += k;
    e->rest_s += k * v;
}

static void emit(sb_estimator_t *e)
{
    const acc_t *a = &e->cur;
    sb_second_t s;
    double n = a->samples;
    int i;

    memset(&s, 0, sizeof(s));
    s.ts = a->ts;
    s.source = a->source;
    s.generation = a->generation;
    s.samples = a->samples;
    s.gap = a->samples == 0;
    s.slots_total = a->slots_total;
    s.busy_mean = n ? a->busy_sum / n : NAN;
    s.busy_max = n ? a->busy_max : NAN;
    s.idle_mean = n ? a->idle_sum / n : NAN;
    s.keepalive_slots_mean = n ? a->ka_sum / n : NAN;
    s.keepalive_slots_max = n ? a->ka_max : NAN;
    s.reading_mean = n ? a->rd_sum / n : NAN;
    s.writing_mean = n ? a->wr_sum / n : NAN;
    s.closing_mean = n ? a->cl_sum / n : NAN;
    s.graceful_mean = n ? a->gr_sum / n : NAN;
    s.open_mean = n ? a->open_sum / n : NAN;
    s.req_per_s = n && a->have_counts ? a->req : NAN;
    s.kbytes_per_s = n && a->have_counts ? a->kbytes : NAN;
    s.conn_per_s_scoreboard = n && a->have_sb_conn ? a->conn_sb : NAN;
    if (a->kernel_samples) {
        s.keepalive_conns_mean = a->kconn_sum / a->kernel_samples;
        s.keepalive_conns_max = a->kconn_max;
        s.conn_per_s_kernel = a->conn_k;
        s.req_per_s_kernel = a->req_k;
        s.closed_by_client_kernel = a->vanished_k;
        /* Connections the client opened and closed between two kernel
         * samples are never seen; their requests are: what the access
         * counters served beyond the requests seen on tracked connections
         * (and beyond one last unseen request of each tracked connection
         * the client closed) came on such connections, one request each
         * (carried over seconds, as the two counts do not tick together). */
        if (!isnan(s.req_per_s)) {
            /* the kernel sees a request up to one of its periods after the
             * scoreboard counts it: compare with the previous second's */
            e->untracked += e->prev_req - a->req_k - a->tail_k;
            e->prev_req = s.req_per_s;
            if (e->untracked > 0) {
                s.conn_per_s_kernel += e->untracked;
                e->untracked = 0;
            }
            else if (e->untracked < -4 * (a->req_k + 1)) {
                e->untracked = -4 * (a->req_k + 1);   /* bound the credit */
            }
        }
        s.listen_queue_max = a->lq_max;
        s.listen_overflows = a->overflows;
    }
    else {
        s.keepalive_conns_mean = s.keepalive_conns_max = NAN;
        s.conn_per_s_kernel = s.listen_queue_max = s.listen_overflows = NAN;
        s.req_per_s_kernel = s.closed_by_client_kernel = NAN;
    }
    arrivals(e, &s);
    window_add(e, &s);
    hold_rest(e, &s);
    s.pss_total_bytes = a->pss;
    s.mem_available_bytes = a->mem;
    for (i = 0; i < SB_OBS_N; i++) {
        s.obs[i] = a->obs[i];
    }
    if (e->cb) {
        e->cb(&s, e->baton);
    }
}

/* Close seconds up to (not including) ts. */
static void advance(sb_estimator_t *e, int64_t ts)
{
    if (!e->started) {
        e->started = 1;
        acc_reset(e, ts);
        return;
    }
    while (e->cur.ts < ts) {
        int64_t next = e->cur.ts + 1;
        emit(e);
        acc_reset(e, next);
    }
}

void sb_estimator_tick(sb_estimator_t *e, apr_time_t now, apr_interval_time_t grace)
{
    if (!e->started) {
        return;
    }
    advance(e, (int64_t)apr_time_sec(now - grace));
}

void sb_estimator_flush(sb_estimator_t *e)
{
    if (e->started) {
        emit(e);
        acc_reset(e, e->cur.ts + 1);
    }
}

void sb_estimator_set_memory(sb_estimator_t *e, int64_t pss_total, int64_t mem_available)
{
    e->pss = pss_total;
    e->mem = mem_available;
    e->cur.pss = pss_total;
    e->cur.mem = mem_available;
}

void sb_estimator_add_obs(sb_estimator_t *e, apr_time_t ts, sb_obs_kind_t kind, double v)
{
    advance(e, (int64_t)apr_time_sec(ts));
    obs_add(e, kind, v);
}

static int in_request(sb_slot_state_t st)
{
    return st == SB_SLOT_READ || st == SB_SLOT_WRITE || st == SB_SLOT_LOG
           || st == SB_SLOT_DNS;
}

static int on_connection(sb_slot_state_t st)
{
    return in_request(st) || st == SB_SLOT_KEEPALIVE || st == SB_SLOT_CLOSING;
}

static double usec_to_s(apr_time_t t)
{
    return (double)t / APR_USEC_PER_SEC;
}

/* The start of the connection a slot is on, where its sample shows it:
 * the start of the connection's first request (read at once after the
 * accept), while it is handled (conn_count still 0; in R the start time
 * is still the previous request's) or once it is done and the slot idles
 * or closes (conn_count 1).  0: unknown. */
static apr_time_t first_request_start(const slot_track_t *prev, const sb_worker_t *cur)
{
    int first = (cur->conn_count == 0 && in_request(cur->state) && cur->state != SB_SLOT_READ)
                || (cur->conn_count == 1 && (cur->state == SB_SLOT_KEEPALIVE
                                             || cur->state == SB_SLOT_CLOSING));

    return first && cur->start_time > 0 && cur->start_time != prev->start_time
           ? cur->start_time : 0;
}

/* The connection followed from its start ended at end: its hold time,
 * unless the eBPF source's lifetimes give it (see lifetimes_hold).  One that a
 * single sample caught and that lasted less than a sample interval is
 * left out: such a connection is caught with a probability that grows
 * with its length, and would bias the mean (with KeepAlive Off, 2.6x). */
static void hold_obs(sb_estimator_t *e, const slot_track_t *prev, apr_time_t start,
                     apr_time_t end)
{
    if (lifetimes_hold(e) || start <= 0 || end <= start) {
        return;
    }
    if (prev && prev->conn_samples <= 1 && end - start < e->sample_dt) {
        return;
    }
    obs_add(e, SB_OBS_HOLD, usec_to_s(end - start));
    e->cur.hold_n += 1;
    e->tot_obs_n += 1;
    e->tot_obs_s += usec_to_s(end - start);
}

/* Connection inference for one slot of a prefork or worker MPM, where a
 * worker stays with its connection until it closes.  conn_count counts the
 * requests of the slot's current connection and is zeroed when the slot
 * becomes ready again; access_count and conn_count move together at the
 * end of each request (ExtendedStatus).  So the connection of the previous
 * sample goes on exactly when conn_count grew by as much as access_count.
 * Returns the estimated number of connections the slot started since the
 * previous sample and records the keep-alive observations it can make
 * exactly (see sbagent(8), ESTIMATORS). */
static double infer_slot(sb_estimator_t *e, slot_track_t *prev, const sb_worker_t *cur)
{
    unsigned long da = cur->access_count - prev->access;
    int was_on = on_connection(prev->state) || prev->conn_count > 0;
    int now_on = on_connection(cur->state) || cur->conn_count > 0;
    int same = was_on && now_on && cur->conn_count == prev->conn_count + da;
    double started = 0;

    if (same) {
        if (prev->conn_start == 0 && prev->conn_count == 0) {
            prev->conn_start = first_request_start(prev, cur);
        }
        prev->conn_samples++;
        if (prev->state == SB_SLOT_KEEPALIVE && prev->stop_time > 0
            && cur->start_time > prev->stop_time) {
            /* idle at the previous sample: the requests started since then
             * share the idle time */
            int starts = (int)da + (in_request(cur->state) ? 1 : 0);
            if (starts >= 1) {
                double svc = e->svc_n > 0 ? e->svc_sum / e->svc_n : 0;
                double idle = usec_to_s(cur->start_time - prev->stop_time) - (starts - 1) * svc;
                int i;
                for (i = 0; i < starts && idle >= 0; i++) {
                    obs_add(e, SB_OBS_KA_GAP, idle / starts);
                }
            }
        }
        return 0;
    }
    if (!was_on) {
        /* ready (or not started) at the previous sample */
        if (now_on && cur->conn_count == da) {
            prev->conn_start = first_request_start(prev, cur);
            prev->conn_samples = 1;
            return 1;           /* one new connection, all requests on it */
        }
        if (!now_on && da == 1 && cur->start_time > prev->last_used
            && cur->last_used > cur->start_time) {
            /* ready at both samples, one request between: one connection
             * came and went (last_used is stamped when the slot becomes
             * ready) */
            obs_add(e, SB_OBS_REQ_PER_CONN, 1);
            hold_obs(e, NULL, cur->start_time, cur->last_used);
        }
    }
    else {
        /* the connection of the previous sample ended; when the slot is
         * ready now, what it served since belonged to that connection
         * unless connections came and went in between: the scale of the
         * estimate below */
        if (!now_on) {
            e->rpc_lb_sum += (double)(prev->conn_count + da);
            e->rpc_lb_n += 1;
        }
        if (!now_on && (da == 0 || (da == 1 && in_request(prev->state)))) {
            /* exactly that connection (and the request it had in flight),
             * and no other since */
            obs_add(e, SB_OBS_REQ_PER_CONN, (double)(prev->conn_count + da));
            if (da == 0 && prev->state == SB_SLOT_KEEPALIVE && prev->stop_time > 0
                && cur->last_used >= prev->stop_time) {
                /* last_used is stamped when the slot becomes ready */
                obs_add(e, SB_OBS_KA_CLOSE, usec_to_s(cur->last_used - prev->stop_time));
            }
            hold_obs(e, prev, prev->conn_start, cur->last_used);
        }
        else if (!now_on && prev->conn_start > 0 && prev->state != SB_SLOT_CLOSING
                 && (double)da <= fmax(1.0, sb_estimator_req_per_conn(e))) {
            /* ready again after at most a connection's worth of requests
             * (mean): taken for the rest of that connection, assuming the
             * slot took no other connection in between.  A client that
             * closes right after its last response leaves no sample
             * between that request and the close, so this is the usual
             * way such a connection's end is seen.  A slot sampled
             * closing serves no more request on its connection: what it
             * served since came on others, and its ready time is theirs. */
            hold_obs(e, prev, prev->conn_start, cur->last_used);
        }
    }
    if (now_on) {
        started = 1;
        prev->conn_start = first_request_start(prev, cur);
        prev->conn_samples = 1;
    }
    else {
        prev->conn_start = 0;
        prev->conn_samples = 0;
    }
    /* connections that began and ended between the two samples: the
     * requests left after the current connection's and the old one's
     * remainder, at the mean requests per connection */
    {
        double k = sb_estimator_req_per_conn(e);
        double rest = (double)da - (now_on ? cur->conn_count : 0);
        if (was_on) {
            /* the old connection's own remaining requests come first: what
             * is in flight, or what a connection of mean length still has */
            rest -= fmax(in_request(prev->state) ? 1.0 : 0.0, k - prev->conn_count);
        }
        if (rest > 0) {
            started += rest / k;
        }
    }
    return started;
}

void sb_estimator_add_sample(sb_estimator_t *e, const sb_sample_t *s, int events)
{
    acc_t *a;
    int i, conn_capable;
    double conns = 0, slot_dt = 0, open_n = 0, open_s = 0;

    advance(e, (int64_t)apr_time_sec(s->ts));
    a = &e->cur;
    a->samples++;
    e->sample_dt = e->prev_ts > 0 && s->ts > e->prev_ts ? s->ts - e->prev_ts : 0;
    e->prev_ts = s->ts;
    if (e->sample_dt > 0 && e->sample_dt < APR_USEC_PER_SEC * 10) {
        /* the mean interval, over about the last 100 samples; a sample
         * stands for that much time (the source takes one at a random
         * moment of each period: the time since the previous one would
         * weigh it by its own phase) */
        e->dt_n += e->dt_n < 100;
        e->dt_mean += (usec_to_s(e->sample_dt) - e->dt_mean) / e->dt_n;
        slot_dt = e->dt_mean;
    }
    a->slots_total = s->nworkers;
    a->source = s->source;
    a->generation = s->server.generation;
    a->busy_sum += s->busy;
    a->busy_max = fmax(a->busy_max, s->busy);
    a->idle_sum += s->idle;
    a->ka_sum += s->slots[SB_SLOT_KEEPALIVE];
    a->ka_max = fmax(a->ka_max, s->slots[SB_SLOT_KEEPALIVE]);
    a->rd_sum += s->slots[SB_SLOT_READ];
    a->wr_sum += s->slots[SB_SLOT_WRITE];
    a->cl_sum += s->slots[SB_SLOT_CLOSING];
    a->gr_sum += s->slots[SB_SLOT_GRACEFUL];
    a->open_sum += s->slots[SB_SLOT_DEAD];
    e->slot_mpm = sb_mpm_slot_holds_keepalive(s->server.mpm_id);

    /* requests and bytes from the totals; a full restart or a new segment
     * zeroes them, and what was served between the two samples is lost */
    if (s->has_totals && s->extended_status != 0) {
        if (e->have_prev && e->prev_has_totals) {
            if (s->total_accesses >= e->prev_total && !(events & (SB_SHM_EV_RESTARTED
                                                                  | SB_SHM_EV_REATTACHED))) {
                a->req += (double)(s->total_accesses - e->prev_total);
                a->kbytes += (double)(s->total_kbytes - e->prev_kbytes);
            }
            else {
                a->req += (double)s->total_accesses;
                a->kbytes += (double)s->total_kbytes;
            }
            a->have_counts = 1;
        }
        e->prev_total = s->total_accesses;
        e->prev_kbytes = s->total_kbytes;
    }
    e->prev_has_totals = s->has_totals && s->extended_status != 0;

    /* per-slot inference needs the scoreboard of a prefork or worker MPM */
    conn_capable = s->source == SB_SOURCE_SHM && s->extended_status == 1
                   && sb_mpm_slot_holds_keepalive(s->server.mpm_id);
    if (e->nslots != s->nworkers || (events & SB_SHM_EV_REATTACHED)) {
        e->slots = apr_pcalloc(e->pool, sizeof(*e->slots) * (apr_size_t)(s->nworkers + 1));
        e->nslots = s->nworkers;
    }
    for (i = 0; i < s->nworkers && s->source == SB_SOURCE_SHM; i++) {
        const sb_worker_t *w = &s->workers[i];
        slot_track_t *t = &e->slots[i];
        if (t->valid && t->pid == w->pid && s->extended_status == 1
            && w->stop_time != t->stop_time && w->stop_time >= w->start_time
            && w->start_time > 0) {
            /* the slot finished a request since the previous sample (any MPM) */
            obs_add(e, SB_OBS_SERVICE, usec_to_s(w->stop_time - w->start_time));
        }
        if (conn_capable && w->state == SB_SLOT_WRITE) {
            /* writing a response: the first of its connection? */
            a->w_all += 1;
            a->w_first += w->conn_count == 0;
        }
        else if (conn_capable && w->state == SB_SLOT_CLOSING) {
            a->c_all += 1;
            a->c_req += w->conn_count;
        }
        if (t->valid && conn_capable && t->pid == w->pid && w->access_count >= t->access
            && !(events & SB_SHM_EV_RESTARTED)) {
            conns += infer_slot(e, t, w);
        }
        else if (t->valid && conn_capable && on_connection(w->state)) {
            /* a new process in the slot, or counters reset: it serves a
             * connection it started since the previous sample */
            conns += 1;
            t->conn_start = 0;
            t->conn_samples = 1;
        }
        if (conn_capable && on_connection(w->state)) {
            /* the time since the previous sample, for the connection the
             * slot is on now: a new one unless the same went on */
            t->conn_slot_s = (t->valid && t->conn_samples > 1 ? t->conn_slot_s : 0) + slot_dt;
            e->tot_slot_s += slot_dt;
            open_n += 1;
            open_s += t->conn_slot_s;
        }
        else {
            t->conn_slot_s = 0;
        }
        t->valid = 1;
        t->pid = w->pid;
        t->state = w->state;
        t->access = w->access_count;
        t->conn_count = w->conn_count;
        t->last_used = w->last_used;
        t->start_time = w->start_time;
        t->stop_time = w->stop_time;
    }
    a->conn_capable |= conn_capable;
    e->open_n = open_n;
    e->open_s = open_s;
    if (conn_capable && e->have_prev) {
        a->conn_sb += conns;
        a->have_sb_conn = 1;
    }
    e->have_prev = 1;
    e->prev_generation = s->server.generation;
}

void sb_estimator_add_kernel(sb_estimator_t *e, const sb_kernel_view_t *k)
{
    acc_t *a;

    advance(e, (int64_t)apr_time_sec(k->ts));
    a = &e->cur;
    a->kernel_samples++;
    a->kconn_sum += k->idle_keepalive + k->idle_late;
    a->kconn_max = fmax(a->kconn_max, k->idle_keepalive);
    a->lq_max = fmax(a->lq_max, k->listen_queue);
    a->lq_sum += k->listen_queue;
    a->lq_end = k->listen_queue;
    if (k->listen_backlog > 0 && k->listen_queue >= k->listen_backlog) {
        a->lq_full = 1;
    }
    a->conn_k += k->new_conns;
    a->req_k += k->requests_seen;
    a->vanished_k += k->vanished;
    a->tail_k += k->tail_unknown;
    if (k->have_overflows) {
        if (e->have_prev_overflows && k->listen_overflows >= e->prev_overflows) {
            a->overflows += (double)(k->listen_overflows - e->prev_overflows);
        }
        e->prev_overflows = k->listen_overflows;
        e->have_prev_overflows = 1;
    }
}

void sb_estimator_add_lifecycle(sb_estimator_t *e, apr_time_t ts, double arrivals,
                                double closed_server, double closed_client,
                                double closed_reset)
{
    acc_t *a;

    advance(e, (int64_t)apr_time_sec(ts));
    a = &e->cur;
    e->have_lifetimes = 1;
    a->bpf_samples++;
    a->arrivals_bpf += arrivals;
    a->closed_server_bpf += closed_server;
    a->closed_client_bpf += closed_client;
    a->closed_reset_bpf += closed_reset;
}
