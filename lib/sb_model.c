/*
 * sb_model.c - the capacity model (see sb_model.h and DESIGN.md).
 */
#include "config.h"
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <apr_tables.h>
#include "sb_model.h"

/* A quantile within this factor of the current timeout is "near" it: one
 * histogram bucket (2^(1/4)), the resolution of the gap histogram. */
#define NEAR_FACTOR 0.8408964152537145

/* ------------------------------------------------------------------ words */

static void say(char *buf, apr_size_t len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void say(char *buf, apr_size_t len, const char *fmt, ...)
{
    apr_size_t used;
    va_list ap;

    if (!buf || len == 0) {
        return;
    }
    used = strlen(buf);
    if (used + 1 >= len) {
        return;
    }
    va_start(ap, fmt);
    vsnprintf(buf + used, len - used, fmt, ap);
    va_end(ap);
}

/* Numbers for the words: thousands grouped, trailing zeros dropped.  A
 * ring of buffers so that one say() can take several. */
typedef struct {
    char buf[24][48];
    int next;
} nums_t;

static const char *num(nums_t *n, double v, int decimals)
{
    char raw[48], *out = n->buf[n->next++ % 24];
    const char *s = raw, *dot;
    apr_size_t digits, i, o = 0;

    if (!isfinite(v)) {
        snprintf(out, 48, "unknown");
        return out;
    }
    snprintf(raw, sizeof(raw), "%.*f", decimals, v);
    if (strchr(raw, '.')) {
        char *e = raw + strlen(raw) - 1;
        while (*e == '0') {
            *e-- = '\0';
        }
        if (*e == '.') {
            *e = '\0';
        }
    }
    if (strcmp(raw, "-0") == 0) {
        snprintf(raw, sizeof(raw), "0");
    }
    if (*s == '-') {
        out[o++] = *s++;
    }
    dot = strchr(s, '.');
    digits = dot ? (apr_size_t)(dot - s) : strlen(s);
    for (i = 0; i < digits; i++) {
        if (i > 0 && (digits - i) % 3 == 0) {
            out[o++] = ',';
        }
        out[o++] = s[i];
    }
    snprintf(out + o, 48 - o, "%s", s + digits);
    return out;
}

/* Seconds with sensible precision. */
static const char *secs(nums_t *n, double v)
{
    return num(n, v, fabs(v) < 0.1 ? 4 : fabs(v) < 10 ? 2 : 1);
}

static const char *pct(nums_t *n, double share)
{
    char *out;
    const char *v = num(n, share * 100, fabs(share) < 0.1 ? 2 : 1);

    out = n->buf[n->next++ % 24];
    snprintf(out, 48, "%s %%", v);
    return out;
}

static const char *bytes(nums_t *n, double b)
{
    static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB" };
    char *out;
    const char *v;
    int u = 0;

    while (fabs(b) >= 1024 && u < 4) {
        b /= 1024;
        u++;
    }
    v = num(n, b, 1);
    out = n->buf[n->next++ % 24];
    snprintf(out, 48, "%s %s", v, units[u]);
    return out;
}

/* ------------------------------------------------------------------ MPM names */

/* ------------------------------------------------------------------ queueing */

double sb_model_erlang_c(int n, double a)
{
    double b = 1.0;
    int k;

    if (n < 1 || isnan(a) || a < 0 || isinf(a)) {
        return NAN;
    }
    if (a == 0) {
        return 0.0;
    }
    if (a >= n) {
        return 1.0;
    }
    for (k = 1; k <= n; k++) {
        b = a * b / (k + a * b);
    }
    return n * b / (n - a + a * b);
}

int sb_model_slots_for(double a, double target)
{
    double b = 1.0;
    int k;

    if (isnan(a) || a < 0 || a >= SB_MODEL_MAX_SLOTS || !(target > 0 && target < 1)) {
        return -1;
    }
    for (k = 1; k <= SB_MODEL_MAX_SLOTS; k++) {
        b = a * b / (k + a * b);
        if (k > a && k * b / (k - a + a * b) <= target) {
            return k;
        }
    }
    return -1;
}

double sb_model_load_for(int n, double target)
{
    double lo = 0, hi = n;
    int i;

    if (n < 1 || !(target > 0 && target < 1)) {
        return NAN;
    }
    for (i = 0; i < 200 && hi - lo > 1e-10 * n; i++) {
        double mid = (lo + hi) / 2;
        if (sb_model_erlang_c(n, mid) <= target) {
            lo = mid;
        }
        else {
            hi = mid;
        }
    }
    return lo;
}

long sb_model_poisson_quantile(double mean, double q)
{
    long double cum = 0;
    long k, start;

    if (isnan(mean) || mean < 0 || mean > 1e9 || !(q > 0 && q < 1)) {
        return -1;
    }
    if (mean == 0) {
        return 0;
    }
    /* the mass below mean - 40 sd is far under 1e-300 */
    start = (long)floor(mean - 40 * sqrt(mean) - 10);
    if (start < 0) {
        start = 0;
    }
    for (k = start; ; k++) {
        cum += expl((long double)k * logl(mean) - mean - lgammal((long double)k + 1));
        if (cum >= q) {
            return k;
        }
        if (k > mean + 60 * sqrt(mean) + 100) {
            return k;
        }
    }
}

/* ------------------------------------------------------------------ configuration */

void sb_model_config_defaults(sb_model_config_t *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->mpm = SB_MPM_PREFORK;
    cfg->spike_factor = 2.5;
    cfg->busy_window_min = 60;
    cfg->target_wait = 0.01;
    cfg->ka_target_share = 0.95;
    cfg->min_kat = 1;
    cfg->max_kat = 0;
    cfg->threads_per_child = 25;
    cfg->async_factor = 2;
    cfg->server_limit_headroom = 0.25;
    cfg->mem_share = 0.75;
    cfg->mem_reserve_bytes = 0;
    cfg->mem_budget_bytes = 0;
    cfg->min_minutes = 60;
    cfg->min_gaps = 100;
    cfg->min_conns = 100;
}

void sb_model_current_init(sb_model_current_t *cur)
{
    sb_directive_init(cur);
}

void sb_model_sizing_directives(sb_directives_t *d, const sb_model_sizing_t *s,
                                sb_mpm_t mpm)
{
    sb_directive_init(d);
    d->keepalive = s->keepalive ? 1 : 0;
    if (s->keepalive) {
        d->keepalive_timeout = s->kat;
    }
    d->max_request_workers = s->max_request_workers;
    d->server_limit = s->server_limit;
    if (mpm != SB_MPM_PREFORK) {
        d->threads_per_child = s->threads_per_child;
        d->thread_limit = s->thread_limit;
    }
}

int sb_model_current_defaults(sb_model_current_t *cur, sb_mpm_t mpm)
{
    int filled = 0, threaded = mpm != SB_MPM_PREFORK;

    if (cur->keepalive_timeout <= 0) {
        cur->keepalive_timeout = 5;
        filled |= 1;
    }
    if (cur->max_request_workers <= 0) {
        cur->max_request_workers = threaded ? 400 : 256;
        filled |= 2;
    }
    if (cur->server_limit <= 0) {
        cur->server_limit = threaded ? 16 : 256;
        filled |= 4;
    }
    if (threaded && cur->threads_per_child <= 0) {
        cur->threads_per_child = 25;
        filled |= 8;
    }
    if (threaded && cur->thread_limit <= 0) {
        cur->thread_limit = 64;
        filled |= 16;
    }
    if (cur->keepalive < 0) {
        cur->keepalive = 1;
        filled |= 32;
    }
    return filled;
}

void sb_model_inputs_init(sb_model_inputs_t *in)
{
    memset(in, 0, sizeof(*in));
    in->busy_conn_per_s = NAN;
    in->busy_accepted_per_s = NAN;
    in->refused = -1;
    in->peak_conn_per_s = NAN;
    in->busy_req_per_s = NAN;
    in->hold_time_s = NAN;
    in->service_time_s = NAN;
    in->req_per_conn_mean = NAN;
    in->kat = NAN;
    in->keepalive = 1;
    in->pss_per_worker_bytes = -1;
    in->mem_total_bytes = -1;
    in->mem_available_min_bytes = -1;
    in->listen_queue_max = -1;
    in->listen_overflows = -1;
    in->queued_busy_min = -1;
    in->queued_share = NAN;
    in->busy_slots_mean = NAN;
    in->accepted_mean = NAN;
    in->served_req_per_conn = NAN;
    in->req_per_conn_est = NAN;
}

/* ------------------------------------------------------------------ histograms */

static int hist_ok(const sb_hist_t *h)
{
    return h && h->count > 0;
}

static double hist_mean(const sb_hist_t *h)
{
    return hist_ok(h) ? h->sum / (double)h->count : NAN;
}

/* Bucket i's span as sb_hist_quantile() sees it: clamped to [min, max]. */
static void bucket_span(const sb_hist_t *h, int i, double *lo, double *hi)
{
    *lo = sb_hist_edge(i);
    *hi = i + 1 < SB_HIST_NBUCKETS ? sb_hist_edge(i + 1) : h->max;
    if (*lo < h->min) {
        *lo = h->min;
    }
    if (*hi > h->max) {
        *hi = h->max;
    }
    if (*hi < *lo) {
        *hi = *lo;
    }
}

/* Share of values <= x, uniform within a bucket (the inverse of
 * sb_hist_quantile()). */
static double hist_cdf(const sb_hist_t *h, double x)
{
    double cum = 0;
    int i;

    if (!hist_ok(h)) {
        return NAN;
    }
    if (x >= h->max) {
        return 1.0;
    }
    if (x < h->min) {
        return 0.0;
    }
    for (i = 0; i < SB_HIST_NBUCKETS; i++) {
        double c = (double)h->bucket[i], lo, hi;
        if (h->bucket[i] == 0) {
            continue;
        }
        bucket_span(h, i, &lo, &hi);
        if (hi <= x) {
            cum += c;
            continue;
        }
        if (lo <= x) {
            cum += c * (x - lo) / (hi - lo);
        }
        break;
    }
    return cum / (double)h->count;
}

/* E[min(X, k)]: the exact mean less the interpolated excess over k. */
static double hist_mean_capped(const sb_hist_t *h, double k)
{
    double excess = 0, m;
    int i;

    if (!hist_ok(h)) {
        return NAN;
    }
    m = hist_mean(h);
    if (k >= h->max) {
        return m;
    }
    if (k <= 0) {
        return 0;
    }
    for (i = 0; i < SB_HIST_NBUCKETS; i++) {
        double c = (double)h->bucket[i], lo, hi;
        if (h->bucket[i] == 0) {
            continue;
        }
        bucket_span(h, i, &lo, &hi);
        if (hi <= k) {
            continue;
        }
        if (lo >= k) {
            excess += c * ((lo + hi) / 2 - k);
        }
        else {
            excess += c * (hi - k) * (hi - k) / (2 * (hi - lo));
        }
    }
    m -= excess / (double)h->count;
    if (m > k) {
        m = k;
    }
    return m < 0 ? 0 : m;
}

/* ------------------------------------------------------------------ history */

typedef struct {
    int64_t ts;
    double conn;                /* arrivals */
    double req;
    double accepted;            /* NaN: not recorded (history before schema 2) */
    double w;                   /* seconds the minute's means cover: a partial
                                 * minute (the agent started or stopped) weighs less */
} minute_rate_t;

struct sb_model_history {
    apr_array_header_t *rates;
    sb_hist_t gap, close_idle, req_per_conn, service, hold;
    int has_gap, has_close, has_rpc, has_service, has_hold;
    double peak;
    int64_t pss_max, mem_avail_min, lq_max, overflows, refused;
    int queued;                 /* minutes with a queue or refused attempts */
    double queued_w, rate_w;    /* their seconds; the seconds of all minutes with a rate */
    int64_t queued_busy_min;
    double busy_sum, acc_sum, req_served, conn_accepted;
    int busy_n, acc_n;
};

sb_model_history_t *sb_model_history_create(apr_pool_t *p)
{
    sb_model_history_t *h = apr_pcalloc(p, sizeof(*h));

    h->rates = apr_array_make(p, 1024, sizeof(minute_rate_t));
    h->peak = NAN;
    h->pss_max = -1;
    h->mem_avail_min = -1;
    h->lq_max = -1;
    h->overflows = -1;
    h->refused = -1;
    h->queued_busy_min = -1;
    return h;
}

static void merge(sb_hist_t *dst, int *has, const sb_hist_t *src)
{
    if (src) {
        sb_hist_merge(dst, src);
        *has = 1;
    }
}

apr_status_t sb_model_history_add(sb_model_history_t *h, const sb_hist_minute_t *row)
{
    if (isfinite(row->conn_per_s_mean) && row->conn_per_s_mean >= 0) {
        minute_rate_t *r = apr_array_push(h->rates);
        r->ts = row->ts;
        r->conn = row->conn_per_s_mean;
        r->req = row->req_per_s_mean;
        r->accepted = row->accepted_per_s_mean;
        r->w = row->seconds > 0 && row->seconds < 60 ? row->seconds : 60;
        h->rate_w += r->w;
        if (row->listen_queue_max > 0 || row->refused > 0) {
            h->queued++;
            h->queued_w += r->w;
            if (row->busy_max >= 0
                && (h->queued_busy_min < 0 || row->busy_max < h->queued_busy_min)) {
                h->queued_busy_min = row->busy_max;
            }
        }
        if (isfinite(row->busy_mean)) {
            h->busy_sum += row->busy_mean;
            h->busy_n++;
        }
        if (isfinite(row->accepted_per_s_mean)) {
            double secs = row->seconds > 0 ? row->seconds : 60;
            h->acc_sum += row->accepted_per_s_mean;
            h->acc_n++;
            if (isfinite(row->req_per_s_mean)) {
                h->req_served += row->req_per_s_mean * secs;
                h->conn_accepted += row->accepted_per_s_mean * secs;
            }
        }
    }
    if (row->refused >= 0) {
        h->refused = (h->refused < 0 ? 0 : h->refused) + row->refused;
    }
    if (isfinite(row->conn_per_s_max) && !(row->conn_per_s_max <= h->peak)) {
        h->peak = row->conn_per_s_max;
    }
    merge(&h->gap, &h->has_gap, row->ka_gap_hist);
    merge(&h->close_idle, &h->has_close, row->ka_close_hist);
    merge(&h->req_per_conn, &h->has_rpc, row->req_per_conn_hist);
    merge(&h->service, &h->has_service, row->service_time_hist);
    merge(&h->hold, &h->has_hold, row->hold_time_hist);
    if (row->pss_per_worker_bytes > h->pss_max) {
        h->pss_max = row->pss_per_worker_bytes;
    }
    if (row->mem_available_min > 0
        && (h->mem_avail_min < 0 || row->mem_available_min < h->mem_avail_min)) {
        h->mem_avail_min = row->mem_available_min;
    }
    if (row->listen_queue_max > h->lq_max) {
        h->lq_max = row->listen_queue_max;
    }
    if (row->listen_overflows >= 0) {
        h->overflows = (h->overflows < 0 ? 0 : h->overflows) + row->listen_overflows;
    }
    return APR_SUCCESS;
}

apr_status_t sb_model_history_minute_cb(void *baton, const sb_hist_minute_t *row)
{
    return sb_model_history_add(baton, row);
}

static int by_ts(const void *a, const void *b)
{
    const minute_rate_t *x = a, *y = b;

    return (x->ts > y->ts) - (x->ts < y->ts);
}

/* What httpd accepted in the busiest window (the window's minutes that
 * recorded it). */
static void busy_accepted(const minute_rate_t *r, int n, sb_model_inputs_t *in, int64_t width)
{
    double sum = 0, w = 0;
    int i;

    for (i = 0; i < n; i++) {
        if (r[i].ts >= in->busy_start_ts && r[i].ts < in->busy_start_ts + width
            && isfinite(r[i].accepted)) {
            sum += r[i].accepted * r[i].w;
            w += r[i].w;
        }
    }
    in->busy_accepted_per_s = w > 0 ? sum / w : NAN;
}

void sb_model_history_inputs(const sb_model_history_t *h, const sb_model_config_t *cfg,
                             sb_model_inputs_t *in)
{
    minute_rate_t *r = (minute_rate_t *)h->rates->elts;
    int n = h->rates->nelts, i, j = 0, need, best_n = 0;
    int64_t width = (int64_t)(cfg->busy_window_min > 0 ? cfg->busy_window_min : 60) * 60;
    double sum = 0, rsum = 0, best = -1, best_req = NAN, ws = 0, rw = 0;
    int64_t best_ts = 0;

    in->from_history = 1;
    in->minutes = n;
    in->gap = h->has_gap ? &h->gap : NULL;
    in->close_idle = h->has_close ? &h->close_idle : NULL;
    in->req_per_conn = h->has_rpc ? &h->req_per_conn : NULL;
    in->service = h->has_service ? &h->service : NULL;
    in->hold = h->has_hold ? &h->hold : NULL;
    in->peak_conn_per_s = h->peak;
    in->pss_per_worker_bytes = h->pss_max;
    in->mem_available_min_bytes = h->mem_avail_min;
    in->listen_queue_max = h->lq_max;
    in->listen_overflows = h->overflows;
    in->refused = h->refused;
    in->queued_minutes = h->queued;
    in->queued_share = h->rate_w > 0 ? h->queued_w / h->rate_w : NAN;
    in->queued_busy_min = h->queued_busy_min;
    in->busy_slots_mean = h->busy_n ? h->busy_sum / h->busy_n : NAN;
    in->accepted_mean = h->acc_n ? h->acc_sum / h->acc_n : NAN;
    in->served_req_per_conn = h->conn_accepted >= 1 ? h->req_served / h->conn_accepted : NAN;
    if (n == 0) {
        return;
    }
    qsort(r, (size_t)n, sizeof(*r), by_ts);
    in->first_ts = r[0].ts;
    in->last_ts = r[n - 1].ts;
    if (r[n - 1].ts + 60 - r[0].ts <= width) {
        for (i = 0; i < n; i++) {
            sum += r[i].conn * r[i].w;
            ws += r[i].w;
            if (isfinite(r[i].req)) {
                rsum += r[i].req * r[i].w;
                rw += r[i].w;
            }
        }
        in->busy_conn_per_s = sum / ws;
        in->busy_req_per_s = rw > 0 ? rsum / rw : NAN;
        in->busy_start_ts = r[0].ts;
        in->busy_minutes = n;
        busy_accepted(r, n, in, width);
        return;
    }
    need = (int)(width / 60 / 2);
    if (need < 1) {
        need = 1;
    }
    /* windows [r[i].ts, r[i].ts + width): sums kept while both ends advance */
    for (i = 0; i < n; i++) {
        while (j < n && r[j].ts < r[i].ts + width) {
            sum += r[j].conn * r[j].w;
            ws += r[j].w;
            if (isfinite(r[j].req)) {
                rsum += r[j].req * r[j].w;
                rw += r[j].w;
            }
            j++;
        }
        if (j - i >= need && sum / ws > best) {
            best = sum / ws;
            best_n = j - i;
            best_ts = r[i].ts;
            best_req = rw > 0.5 ? rsum / rw : NAN;
        }
        sum -= r[i].conn * r[i].w;
        ws -= r[i].w;
        if (isfinite(r[i].req)) {
            rsum -= r[i].req * r[i].w;
            rw -= r[i].w;
        }
    }
    if (best_n == 0) {
        /* too sparse for any full window: the mean of everything */
        sum = ws = 0;
        for (i = 0; i < n; i++) {
            sum += r[i].conn * r[i].w;
            ws += r[i].w;
        }
        best = sum / ws;
        best_n = n;
        best_ts = r[0].ts;
    }
    in->busy_conn_per_s = best;
    in->busy_req_per_s = best_req;
    in->busy_start_ts = best_ts;
    in->busy_minutes = best_n;
    busy_accepted(r, n, in, width);
}


/* ------------------------------------------------------------------ hold time */

static int have_hists(const sb_model_inputs_t *in)
{
    return (hist_ok(in->req_per_conn) || isfinite(in->req_per_conn_est))
           && hist_ok(in->service);
}

/* Requests per connection: the estimate where the plan made one, else
 * the measured mean. */
static double req_per_conn(const sb_model_inputs_t *in)
{
    return isfinite(in->req_per_conn_est) ? in->req_per_conn_est : hist_mean(in->req_per_conn);
}

double sb_model_hold_time(const sb_model_inputs_t *in, double kat, sb_model_hold_t *parts)
{
    sb_model_hold_t h;

    h.kat = kat;
    h.requests = h.service_s = h.gaps_s = h.active_s = h.final_wait_s = NAN;
    h.session_s = h.hold_s = h.kept_share = NAN;
    h.reconnects = 0;
    h.rate_factor = 1;
    if (isnan(kat) || kat < 0) {
        goto out;
    }
    if (have_hists(in)) {
        double r = req_per_conn(in), s = hist_mean(in->service);
        double follow, k = kat, k0 = in->kat;

        if (r < 1) {
            r = 1;
        }
        follow = r - 1;
        h.requests = r;
        h.service_s = r * s;
        if (kat == 0) {
            /* KeepAlive Off: every request its own connection */
            h.gaps_s = 0;
            h.final_wait_s = 0;
            h.reconnects = follow;
            h.kept_share = follow > 0 ? 0 : NAN;
        }
        else {
            if (!in->keepalive) {
                goto out;       /* measured without keep-alive: nothing to go on */
            }
            if (isfinite(k0) && k > k0) {
                k = k0;         /* nothing beyond the measured timeout was seen */
            }
            if (follow > 1e-9) {
                if (!hist_ok(in->gap)) {
                    goto out;
                }
                h.gaps_s = follow * hist_mean_capped(in->gap, k);
                h.kept_share = hist_cdf(in->gap, k);
                h.reconnects = follow * (1 - h.kept_share);
            }
            else {
                h.gaps_s = 0;
            }
            h.final_wait_s = hist_ok(in->close_idle) ? hist_mean_capped(in->close_idle, k) : k;
        }
        h.active_s = h.service_s + h.gaps_s;
    }
    else if (isfinite(in->hold_time_s) && in->hold_time_s > 0) {
        double hold = in->hold_time_s, k0 = in->kat, final0 = 0;
        double r = isfinite(in->req_per_conn_mean) && in->req_per_conn_mean >= 1
            ? in->req_per_conn_mean : NAN;

        if (in->keepalive && isfinite(k0) && k0 > 0) {
            final0 = hold < k0 ? hold : k0;
        }
        h.active_s = hold - final0;
        h.requests = r;
        if (isfinite(in->service_time_s) && in->service_time_s >= 0) {
            h.service_s = (isfinite(r) ? r : 1) * in->service_time_s;
            if (h.service_s > h.active_s) {
                h.service_s = h.active_s;
            }
            h.gaps_s = h.active_s - h.service_s;
        }
        if (kat == 0) {
            /* KeepAlive Off: the gaps no longer hold a slot; without a
             * service time the active part is the bound */
            h.final_wait_s = 0;
            h.reconnects = isfinite(r) ? r - 1 : 0;
            if (isfinite(h.service_s)) {
                h.active_s = h.service_s;
                h.gaps_s = 0;
            }
            h.kept_share = 0;
        }
        else {
            h.final_wait_s = final0 < kat ? final0 : kat;
        }
    }
    else {
        goto out;
    }
    h.session_s = h.active_s + h.final_wait_s;
    h.rate_factor = 1 + h.reconnects;
    h.hold_s = h.session_s / h.rate_factor;
out:
    if (parts) {
        *parts = h;
    }
    return h.hold_s;
}

/* ------------------------------------------------------------------ KeepAliveTimeout */

int sb_model_choose_kat(const sb_hist_t *gap, double current, double share,
                        int min_kat, int max_kat, sb_model_kat_t *out)
{
    nums_t nb = { .next = 0 };
    int k, kcur, hi;
    double q;

    memset(out, 0, sizeof(*out));
    out->quantile_s = NAN;
    out->kept_share = NAN;
    if (!hist_ok(gap)) {
        say(out->words, sizeof(out->words),
            "no idle gaps between requests on the same connection were measured");
        return -1;
    }
    if (!(current > 0) || !(share > 0 && share < 1) || min_kat < 1) {
        say(out->words, sizeof(out->words),
            "invalid arguments: the current KeepAliveTimeout must be positive, the share"
            " between 0 and 1, the shortest timeout at least 1 s");
        return -1;
    }
    out->gaps = gap->count;
    kcur = (int)ceil(current - 1e-9);
    hi = max_kat > 0 ? max_kat : kcur;
    if (hi < min_kat) {
        hi = min_kat;
    }
    q = sb_hist_quantile(gap, share);
    out->quantile_s = q;
    k = (int)ceil(q - 1e-9);
    if (k < min_kat) {
        k = min_kat;
    }
    if (k >= kcur || q >= current * NEAR_FACTOR) {
        out->censored = 1;
        out->kat = kcur < hi ? kcur : hi;
        say(out->words, sizeof(out->words),
            "%s of the %s follow-up requests seen came within %s s of the previous"
            " response: at or near the current KeepAliveTimeout of %s s.  Gaps longer than"
            " %s s are never seen (the server closes first and those clients reconnect), so"
            " the data cannot show whether a longer timeout would keep more requests on"
            " their connection", pct(&nb, share), num(&nb, (double)gap->count, 0),
            secs(&nb, q), num(&nb, current, 2), num(&nb, current, 2));
        if (out->kat < kcur) {
            say(out->words, sizeof(out->words), "; the configured maximum is %d s", out->kat);
        }
        else {
            say(out->words, sizeof(out->words), "; keeping %d s", out->kat);
            if (max_kat > kcur) {
                say(out->words, sizeof(out->words),
                    " (a trial at up to %d s would measure what a longer one brings)",
                    max_kat);
            }
        }
        say(out->words, sizeof(out->words), ".");
    }
    else {
        out->kat = k < hi ? k : hi;
        say(out->words, sizeof(out->words),
            "%s of the %s follow-up requests seen came within %s s of the previous"
            " response, so KeepAliveTimeout %d s keeps %s of them on their connection"
            " (of those that came within the current %s s; later ones were never seen).",
            pct(&nb, share), num(&nb, (double)gap->count, 0), secs(&nb, q), out->kat,
            pct(&nb, hist_cdf(gap, out->kat)), num(&nb, current, 2));
    }
    out->kept_share = hist_cdf(gap, out->kat);
    return 0;
}

/* ------------------------------------------------------------------ design rate */

double sb_model_design_rate(double spike, double busy, double peak, char *words, apr_size_t len)
{
    nums_t nb = { .next = 0 };
    double a = NAN, d;

    if (words && len) {
        words[0] = '\0';
    }
    if (isfinite(busy) && busy >= 0 && isfinite(spike) && spike > 0) {
        a = spike * busy;
    }
    if (!(isfinite(peak) && peak >= 0)) {
        peak = NAN;
    }
    if (isnan(a) && isnan(peak)) {
        return NAN;
    }
    d = isnan(a) ? peak : isnan(peak) ? a : (a > peak ? a : peak);
    if (isfinite(a) && isfinite(peak)) {
        say(words, len, "Design rate: max(%s × %s (the busy-period mean) = %s, %s (the"
            " highest peak)) = %s new clients/s.", num(&nb, spike, 2),
            num(&nb, busy, 2), num(&nb, a, 1), num(&nb, peak, 1), num(&nb, d, 1));
    }
    else if (isfinite(a)) {
        say(words, len, "Design rate: %s × %s new clients/s busy-period mean = %s new"
            " clients/s (the worst spike to plan for).", num(&nb, spike, 2),
            num(&nb, busy, 2), num(&nb, d, 1));
    }
    else {
        say(words, len, "Design rate: %s new clients/s.", num(&nb, d, 1));
    }
    return d;
}

/* ------------------------------------------------------------------ hysteresis */

int sb_model_should_change(long current, long rec, double threshold_pct, double max_step_pct,
                           long multiple, long *next, char *why, apr_size_t whylen)
{
    long diff = rec - current, step, n = rec;
    double diff_pct;

    if (why && whylen) {
        why[0] = '\0';
    }
    if (multiple < 1) {
        multiple = 1;
    }
    if (current <= 0) {
        *next = rec;
        say(why, whylen, "no current value: set %ld", rec);
        return 1;
    }
    if (diff == 0) {
        *next = current;
        say(why, whylen, "%ld is already the recommended value", current);
        return 0;
    }
    diff_pct = fabs((double)diff) * 100.0 / (double)current;
    if (diff_pct < threshold_pct) {
        *next = current;
        say(why, whylen, "%ld -> %ld differs by %.1f %%, under the %.1f %% threshold: no change",
            current, rec, diff_pct, threshold_pct);
        return 0;
    }
    if (max_step_pct > 0 && diff_pct > max_step_pct) {
        step = (long)floor((double)current * max_step_pct / 100.0);
        step = step / multiple * multiple;
        if (step < multiple) {
            step = multiple;
        }
        if (step < labs(diff)) {
            n = current + (diff > 0 ? step : -step);
            if (n < 1) {
                n = 1;
            }
            *next = n;
            say(why, whylen, "%ld -> %ld is %.1f %%: limited to %.1f %% per run, %ld now",
                current, rec, diff_pct, max_step_pct, n);
            return 1;
        }
    }
    *next = n;
    say(why, whylen, "%ld -> %ld (%.1f %%)", current, rec, diff_pct);
    return 1;
}

/* ------------------------------------------------------------------ sizing */

static long round_up(double v, long m)
{
    long n = (long)ceil(v - 1e-9);

    if (n < m) {
        n = m;
    }
    return (n + m - 1) / m * m;
}

/* Prefork: the children a graceful reload leaves finishing their
 * connections hold scoreboard slots while their replacements start, so
 * ServerLimit leaves room for them. */
static long prefork_headroom(const sb_model_config_t *cfg, long mrw)
{
    long extra = (long)ceil((double)mrw * cfg->server_limit_headroom - 1e-9);

    return extra < 1 ? 1 : extra;
}

/* Size mpm for KeepAliveTimeout k (0: KeepAlive Off) at the design rate.
 * Returns 0, or -1 when the hold time is unknown or the slots overflow. */
static int size_mpm(const sb_model_config_t *cfg, sb_mpm_t mpm,
                    const sb_model_inputs_t *in, double design, int k, sb_model_sizing_t *s)
{
    long tpc = cfg->threads_per_child, mrw;
    int n;

    memset(s, 0, sizeof(*s));
    s->keepalive = k > 0;
    s->kat = k;
    s->design_conns = -1;
    s->conn_ceiling = NAN;
    s->request_load = NAN;
    if (isnan(sb_model_hold_time(in, k, &s->hold))) {
        return -1;
    }
    s->conn_per_s = design * s->hold.rate_factor;
    s->conn_load = design * s->hold.session_s;
    s->littles_slots = s->conn_load;
    if (mpm == SB_MPM_EVENT) {
        double need;
        /* workers serve requests; without a service time the active part
         * (service and gaps) bounds it */
        s->request_load = design * (isfinite(s->hold.service_s) ? s->hold.service_s
                                    : s->hold.active_s);
        n = sb_model_slots_for(s->request_load, cfg->target_wait);
        if (n < 0) {
            return -1;
        }
        s->slots = n;
        s->offered_load = s->request_load;
        s->design_conns = sb_model_poisson_quantile(s->conn_load, 1 - cfg->target_wait);
        need = ((double)s->design_conns + cfg->async_factor * s->request_load)
            / (1 + cfg->async_factor);
        s->needed = need > n ? need : n;
        mrw = round_up(s->needed, tpc);
        s->conn_ceiling = mrw + cfg->async_factor * (mrw - s->request_load);
    }
    else {
        s->offered_load = s->conn_load;
        n = sb_model_slots_for(s->offered_load, cfg->target_wait);
        if (n < 0) {
            return -1;
        }
        s->slots = n;
        s->needed = n;
        mrw = mpm == SB_MPM_PREFORK ? n : round_up(n, tpc);
    }
    if (mrw > SB_MODEL_MAX_SLOTS) {
        return -1;
    }
    s->max_request_workers = (int)mrw;
    if (mpm == SB_MPM_PREFORK) {
        s->processes = (int)mrw;
        s->server_limit = (int)(mrw + prefork_headroom(cfg, mrw));
    }
    else {
        long procs = mrw / tpc, extra = (long)ceil(procs * cfg->server_limit_headroom - 1e-9);
        if (extra < 1) {
            extra = 1;
        }
        s->processes = (int)procs;
        s->server_limit = (int)(procs + extra);
        s->threads_per_child = (int)tpc;
        s->thread_limit = (int)tpc;
    }
    s->wait_prob = sb_model_erlang_c(s->max_request_workers, s->offered_load);
    return 0;
}

/* Cap a sizing at max workers (memory), keeping the MPM's rounding. */
static void cap_sizing(const sb_model_config_t *cfg, sb_mpm_t mpm, sb_model_sizing_t *s,
                       long max)
{
    long tpc = cfg->threads_per_child, mrw = max;

    if (mpm != SB_MPM_PREFORK) {
        mrw = max / tpc * tpc;
        if (mrw < tpc) {
            mrw = tpc;
        }
    }
    if (mrw < 1) {
        mrw = 1;
    }
    if (mrw >= s->max_request_workers) {
        return;
    }
    s->max_request_workers = (int)mrw;
    if (mpm == SB_MPM_PREFORK) {
        s->processes = (int)mrw;
        s->server_limit = (int)(mrw + prefork_headroom(cfg, mrw));
    }
    else {
        long procs = mrw / tpc, extra = (long)ceil(procs * cfg->server_limit_headroom - 1e-9);
        s->processes = (int)procs;
        s->server_limit = (int)(procs + (extra < 1 ? 1 : extra));
    }
    s->wait_prob = sb_model_erlang_c(s->max_request_workers, s->offered_load);
    if (mpm == SB_MPM_EVENT) {
        s->conn_ceiling = mrw + cfg->async_factor * (mrw - s->request_load);
    }
}

/* ------------------------------------------------------------------ the plan's words */

static void say_hold(sb_model_plan_t *plan, const sb_model_inputs_t *in,
                     const sb_model_sizing_t *s, double design)
{
    char *t = plan->arithmetic;
    apr_size_t tl = sizeof(plan->arithmetic);
    const sb_model_hold_t *h = &s->hold;
    nums_t nb = { .next = 0 };

    if (!s->keepalive && !in->keepalive && !have_hists(in)) {
        say(t, tl, "Hold per connection with KeepAlive Off: %s s (given).\n",
            secs(&nb, h->hold_s));
        return;
    }
    if (!s->keepalive) {
        if (isfinite(h->service_s) && isfinite(h->requests)) {
            say(t, tl, "Hold with KeepAlive Off: each of the %s requests of a client is its own"
                " connection and holds a slot for its service time: %s × %s = %s new"
                " connections/s, each holding %s s.\n", num(&nb, h->requests, 2),
                num(&nb, design, 1), num(&nb, h->rate_factor, 2),
                num(&nb, design * h->rate_factor, 1), secs(&nb, h->hold_s));
        }
        else if (isfinite(h->service_s)) {
            say(t, tl, "Hold with KeepAlive Off: the service time alone, %s s per connection"
                " (one request per connection assumed; give the requests per connection"
                " to count the extra connections).\n", secs(&nb, h->hold_s));
        }
        else {
            say(t, tl, "Hold with KeepAlive Off: at most the active part, %s s per client"
                " (the gaps between requests no longer hold a slot, but without a service"
                " time this is the bound).\n", secs(&nb, h->hold_s));
        }
        return;
    }
    if (have_hists(in)) {
        say(t, tl, "Hold per connection at KeepAliveTimeout %d s: %s requests × %s s service"
            " = %s s, + %s gaps (each counted up to %d s) = %s s, + final keep-alive wait %s s"
            " (until the client closes or the timeout)", s->kat, num(&nb, h->requests, 2),
            secs(&nb, h->service_s / h->requests), secs(&nb, h->service_s),
            num(&nb, h->requests - 1, 2), s->kat, secs(&nb, h->gaps_s),
            secs(&nb, h->final_wait_s));
        if (h->reconnects > 1e-6) {
            say(t, tl, " = %s slot-seconds per client.  %s of the follow-up requests came"
                " after more than %d s idle: %s reconnects per client, so %s × %s = %s new"
                " connections/s, each holding %s s.\n", secs(&nb, h->session_s),
                pct(&nb, 1 - h->kept_share), s->kat, num(&nb, h->reconnects, 3),
                num(&nb, design, 1), num(&nb, h->rate_factor, 3),
                num(&nb, s->conn_per_s, 1), secs(&nb, h->hold_s));
        }
        else {
            say(t, tl, " = %s s.\n", secs(&nb, h->hold_s));
        }
        if (!hist_ok(in->close_idle)) {
            say(t, tl, "(No close measurements: every connection is assumed to wait out the"
                " whole timeout.)\n");
        }
        return;
    }
    say(t, tl, "Hold per client: %s s", secs(&nb, h->session_s));
    if (h->final_wait_s > 0 && h->active_s > 0) {
        say(t, tl, " = %s s of requests and gaps", secs(&nb, h->active_s));
        if (isfinite(h->service_s)) {
            say(t, tl, " (%s s service, %s s gaps)", secs(&nb, h->service_s),
                secs(&nb, h->gaps_s));
        }
        say(t, tl, " + %s s final keep-alive wait (KeepAliveTimeout %d s)",
            secs(&nb, h->final_wait_s), s->kat);
    }
    else if (h->final_wait_s > 0) {
        say(t, tl, " (all of it counted as keep-alive wait, shorter than the %d s timeout)",
            s->kat);
    }
    say(t, tl, ".\n");
}

static void say_sizing(sb_model_plan_t *plan, const sb_model_config_t *cfg,
                       sb_mpm_t mpm, const sb_model_sizing_t *s, const char *label)
{
    char *t = plan->arithmetic;
    apr_size_t tl = sizeof(plan->arithmetic);
    nums_t nb = { .next = 0 };
    double at_little;

    say(t, tl, "Little's law: %s new %s/s × %s s hold = %s %s, on average.\n",
        num(&nb, s->conn_per_s, 1), s->hold.rate_factor > 1 + 1e-6 ? "connections" : "clients",
        secs(&nb, s->hold.hold_s), num(&nb, s->conn_load, 0),
        mpm == SB_MPM_EVENT ? "open connections (prefork would hold a slot for each)"
        : "slots busy");
    if (mpm == SB_MPM_EVENT) {
        say(t, tl, "Event MPM: idle keep-alive connections wait in the listener, not in a"
            " worker; workers serve requests: %s requests/s × %s s service = %s busy"
            " workers on average%s.\n",
            num(&nb, s->conn_per_s / s->hold.rate_factor
                * (isfinite(s->hold.requests) ? s->hold.requests : 1), 1),
            secs(&nb, s->request_load / (s->conn_per_s / s->hold.rate_factor)
                 / (isfinite(s->hold.requests) ? s->hold.requests : 1)),
            num(&nb, s->request_load, 1),
            isfinite(s->hold.service_s) ? "" : " (no service time given: the active part,"
            " gaps included, is the bound)");
        say(t, tl, "Erlang C: %s workers keep the chance that a request waits for a worker"
            " under %s.\n", num(&nb, s->slots, 0), pct(&nb, cfg->target_wait));
        say(t, tl, "Connection ceiling: %s open connections on average, %s at the %s"
            " point with random arrivals; each process takes new connections while it has"
            " fewer than ThreadsPerChild + %s × its idle workers, so %s workers give a ceiling"
            " of %s + %s × (%s - %s) = %s connections.\n",
            num(&nb, s->conn_load, 0), num(&nb, (double)s->design_conns, 0),
            pct(&nb, 1 - cfg->target_wait), num(&nb, cfg->async_factor, 2),
            num(&nb, s->max_request_workers, 0), num(&nb, s->max_request_workers, 0),
            num(&nb, cfg->async_factor, 2), num(&nb, s->max_request_workers, 0),
            num(&nb, s->request_load, 0), num(&nb, s->conn_ceiling, 0));
        if (s->max_request_workers > round_up(s->slots, cfg->threads_per_child)) {
            say(t, tl, "The connection ceiling, not the requests, sets the worker count.\n");
        }
    }
    else {
        double little_n = ceil(s->conn_load - 1e-9) < 1 ? 1 : ceil(s->conn_load - 1e-9);
        at_little = sb_model_erlang_c((int)little_n, s->conn_load);
        say(t, tl, "Erlang C: Little's law gives the average; arrivals are random, so with"
            " only %s slots ", num(&nb, little_n, 0));
        if (at_little > 0.995) {
            say(t, tl, "the accept queue never drains");
        }
        else {
            say(t, tl, "a new client would wait in the accept queue %s of the time",
                pct(&nb, at_little));
        }
        say(t, tl, ".  %s slots keep the chance that a new client waits under %s (%s): %s"
            " slots (%s) more than Little's law, the spare capacity random arrivals need.\n",
            num(&nb, s->slots, 0), pct(&nb, cfg->target_wait),
            pct(&nb, sb_model_erlang_c(s->slots, s->offered_load)),
            num(&nb, s->slots - little_n, 0), pct(&nb, (s->slots - little_n) / little_n));
    }
    if (mpm == SB_MPM_PREFORK) {
        say(t, tl, "%s prefork: MaxRequestWorkers %s; ServerLimit %s = %s + %s for children"
            " finishing gracefully after reloads.\n", label,
            num(&nb, s->max_request_workers, 0), num(&nb, s->server_limit, 0),
            num(&nb, s->max_request_workers, 0),
            num(&nb, s->server_limit - s->max_request_workers, 0));
    }
    else {
        say(t, tl, "%s %s: MaxRequestWorkers %s = %s processes × ThreadsPerChild %d"
            " (rounded up from %s); ServerLimit %s = %s + %s for gracefully finishing"
            " processes after reloads; ThreadLimit >= %d.\n", label, sb_mpm_name(mpm),
            num(&nb, s->max_request_workers, 0), num(&nb, s->processes, 0),
            s->threads_per_child, num(&nb, ceil(s->needed - 1e-9), 0),
            num(&nb, s->server_limit, 0), num(&nb, s->processes, 0),
            num(&nb, s->server_limit - s->processes, 0), s->threads_per_child);
    }
}

static void say_step(sb_model_plan_t *plan, const sb_model_sizing_t *s, long nmax)
{
    nums_t nb = { .next = 0 };

    say(plan->arithmetic, sizeof(plan->arithmetic), "  At KeepAliveTimeout %d s: hold %s s,"
        " %s × %s s = %s slots busy, MaxRequestWorkers %s%s.\n", s->kat,
        secs(&nb, s->hold.hold_s), num(&nb, s->conn_per_s, 1), secs(&nb, s->hold.hold_s),
        num(&nb, s->conn_load, 0), num(&nb, s->max_request_workers, 0),
        s->max_request_workers <= nmax ? ": fits" : "");
}

static void say_missing(sb_model_plan_t *plan, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void say_missing(sb_model_plan_t *plan, const char *fmt, ...)
{
    apr_size_t used = strlen(plan->missing);
    va_list ap;

    if (used) {
        say(plan->missing, sizeof(plan->missing), "; ");
        used = strlen(plan->missing);
    }
    if (used + 1 >= sizeof(plan->missing)) {
        return;
    }
    va_start(ap, fmt);
    vsnprintf(plan->missing + used, sizeof(plan->missing) - used, fmt, ap);
    va_end(ap);
}

static int check_config(const sb_model_config_t *cfg, sb_model_plan_t *plan)
{
    if (!(cfg->spike_factor >= 1 && cfg->spike_factor <= 100)) {
        say_missing(plan, "the spike factor must be from 1 to 100");
    }
    if (!(cfg->target_wait > 0 && cfg->target_wait < 1)) {
        say_missing(plan, "the target waiting probability must be between 0 and 1");
    }
    if (!(cfg->ka_target_share > 0 && cfg->ka_target_share < 1)) {
        say_missing(plan, "the share of follow-up requests to keep must be between 0 and 1");
    }
    if (cfg->min_kat < 1 || cfg->max_kat < 0 || (cfg->max_kat && cfg->max_kat < cfg->min_kat)) {
        say_missing(plan, "the KeepAliveTimeout bounds must satisfy 1 <= min <= max");
    }
    if (cfg->mpm != SB_MPM_PREFORK
        && (cfg->threads_per_child < 1 || cfg->threads_per_child > SB_MODEL_MAX_THREAD_LIMIT)) {
        say_missing(plan, "ThreadsPerChild must be from 1 to %d", SB_MODEL_MAX_THREAD_LIMIT);
    }
    if (!(cfg->async_factor >= 0) || !(cfg->server_limit_headroom >= 0)) {
        say_missing(plan, "AsyncRequestWorkerFactor and the ServerLimit headroom must not be"
                    " negative");
    }
    if (!(cfg->mem_share > 0 && cfg->mem_share <= 1) || cfg->mem_reserve_bytes < 0) {
        say_missing(plan, "the memory share must be in (0, 1] and the reserve not negative");
    }
    if (cfg->busy_window_min < 1) {
        say_missing(plan, "the busy window must be at least 1 minute");
    }
    return plan->missing[0] ? -1 : 0;
}

static void say_estimated(sb_model_plan_t *plan, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void say_estimated(sb_model_plan_t *plan, const char *fmt, ...)
{
    apr_size_t used = strlen(plan->estimated);
    va_list ap;

    if (used) {
        say(plan->estimated, sizeof(plan->estimated), "; ");
        used = strlen(plan->estimated);
    }
    if (used + 1 >= sizeof(plan->estimated)) {
        return;
    }
    va_start(ap, fmt);
    vsnprintf(plan->estimated + used, sizeof(plan->estimated) - used, fmt, ap);
    va_end(ap);
}

static int overload_minutes(const sb_model_config_t *cfg)
{
    int need = cfg->min_minutes < SB_MODEL_OVERLOAD_MINUTES ? cfg->min_minutes
        : SB_MODEL_OVERLOAD_MINUTES;

    return need < 1 ? 1 : need;
}

int sb_model_overload(const sb_model_config_t *cfg, const sb_model_inputs_t *in,
                      const sb_model_current_t *cur, char *words, apr_size_t len)
{
    nums_t nb = { .next = 0 };
    int full, refused, short_acc;

    if (words && len) {
        words[0] = '\0';
    }
    if (!in->from_history || in->minutes <= 0 || in->queued_minutes < overload_minutes(cfg)
        || !(in->queued_share >= SB_MODEL_OVERLOAD_SHARE)) {
        return 0;
    }
    refused = in->refused > 0;
    full = cfg->mpm != SB_MPM_EVENT && cur && cur->max_request_workers > 0
        && in->queued_busy_min >= cur->max_request_workers;
    short_acc = isfinite(in->busy_accepted_per_s) && isfinite(in->busy_conn_per_s)
        && in->busy_accepted_per_s < 0.9 * in->busy_conn_per_s;
    if (!refused && !full && !short_acc) {
        return 0;
    }
    say(words, len, "an accept queue in %d of the %d minutes, %s of the time (up to %s"
        " clients)", in->queued_minutes, in->minutes, pct(&nb, in->queued_share),
        num(&nb, (double)in->listen_queue_max, 0));
    if (full) {
        say(words, len, ", every slot busy in each of them (MaxRequestWorkers %d)",
            cur->max_request_workers);
    }
    if (short_acc) {
        say(words, len, ", httpd accepting %s of the %s new clients/s arriving",
            num(&nb, in->busy_accepted_per_s, 2), num(&nb, in->busy_conn_per_s, 2));
    }
    if (refused) {
        say(words, len, ", %s attempts refused with the queue full",
            num(&nb, (double)in->refused, 0));
    }
    return 1;
}

static int check_data(const sb_model_config_t *cfg, sb_model_inputs_t *in,
                      sb_model_plan_t *plan)
{
    nums_t nb = { .next = 0 };
    int rate = (isfinite(in->busy_conn_per_s) && in->busy_conn_per_s > 0)
        || (isfinite(in->peak_conn_per_s) && in->peak_conn_per_s > 0);
    int over = plan->overloaded;
    int min_minutes = over ? overload_minutes(cfg) : cfg->min_minutes;

    if (!in->from_history) {
        if (!rate) {
            say_missing(plan, "no connection rate (give the rate to plan for, or the"
                        " busy-period mean)");
        }
        if (!have_hists(in) && !(isfinite(in->hold_time_s) && in->hold_time_s > 0)) {
            say_missing(plan, "no hold time per connection");
        }
        return plan->missing[0] ? -1 : 0;
    }
    if (in->minutes < min_minutes) {
        say_missing(plan, "only %d minutes of history with a connection rate (at least %d"
                    " needed)", in->minutes, min_minutes);
    }
    else if (over && in->minutes < cfg->min_minutes) {
        say_estimated(plan, "%d minutes of history, not the %d asked for: in overload %d"
                      " suffice, the next cycle has more", in->minutes, cfg->min_minutes,
                      min_minutes);
    }
    else if (!rate) {
        say_missing(plan, "no new connections in %d minutes of history", in->minutes);
    }
    if (in->keepalive) {
        uint64_t g = in->gap ? in->gap->count : 0;
        if (over && g > 0 && g < cfg->min_gaps) {
            say_estimated(plan, "KeepAliveTimeout from the %s keep-alive gaps seen (%s asked"
                          " for)", num(&nb, (double)g, 0), num(&nb, (double)cfg->min_gaps, 0));
        }
        else if (g < cfg->min_gaps) {
            say_missing(plan, "%s keep-alive gap observations (idle gaps followed by another"
                        " request; at least %s needed)", g ? num(&nb, (double)g, 0) : "no",
                        num(&nb, (double)cfg->min_gaps, 0));
        }
        if (!(isfinite(in->kat) && in->kat > 0)) {
            say_missing(plan, "the KeepAliveTimeout in force while the history was recorded");
        }
    }
    if (over && (!in->req_per_conn || in->req_per_conn->count < cfg->min_conns)
        && isfinite(in->served_req_per_conn)) {
        /* the slots are never free between connections in overload, so
         * few connections are counted; the ratio of what httpd served
         * stands in (low when queued clients give up after one request) */
        double r = in->served_req_per_conn, m = hist_mean(in->req_per_conn);
        uint64_t c = in->req_per_conn ? in->req_per_conn->count : 0;
        if (c > 0 && m > r) {
            r = m;
        }
        in->req_per_conn_est = r < 1 ? 1 : r;
        if (c > 0) {
            say_estimated(plan, "requests per connection %s, the larger of the requests"
                          " httpd served / the connections it accepted (%s; a lower bound"
                          " while queued clients give up) and the mean of the %s"
                          " connection(s) counted (%s; %s needed)",
                          num(&nb, in->req_per_conn_est, 2),
                          num(&nb, in->served_req_per_conn, 2), num(&nb, (double)c, 0),
                          num(&nb, m, 2), num(&nb, (double)cfg->min_conns, 0));
        }
        else {
            say_estimated(plan, "requests per connection %s: the requests httpd served /"
                          " the connections it accepted (a lower bound while queued clients"
                          " give up; no connection was counted, the slots are never free"
                          " between connections)", num(&nb, in->req_per_conn_est, 2));
        }
    }
    else if (!in->req_per_conn || in->req_per_conn->count < cfg->min_conns) {
        say_missing(plan, "requests per connection of %s connections (at least %s needed)",
                    in->req_per_conn && in->req_per_conn->count
                    ? num(&nb, (double)in->req_per_conn->count, 0) : "no",
                    num(&nb, (double)cfg->min_conns, 0));
    }
    if (!hist_ok(in->service)) {
        say_missing(plan, "no service times per request");
    }
    if (in->pss_per_worker_bytes <= 0) {
        say_missing(plan, "no PSS per worker (the agent reads the children's"
                    " /proc/PID/smaps_rollup, which needs root or httpd's user)");
    }
    if (cfg->mem_budget_bytes <= 0 && in->mem_total_bytes <= 0) {
        say_missing(plan, "no MemTotal and no memory budget");
    }
    return plan->missing[0] ? -1 : 0;
}

static void say_uncertainty(sb_model_plan_t *plan, const sb_model_config_t *cfg,
                            const sb_model_inputs_t *in)
{
    char *u = plan->uncertainty;
    apr_size_t ul = sizeof(plan->uncertainty);
    nums_t nb = { .next = 0 };
    double days = (double)(in->last_ts + 60 - in->first_ts) / 86400.0;

    if (!in->from_history) {
        sb_model_sizing_t more;
        sb_model_inputs_t x = *in;
        if (isfinite(x.hold_time_s)) {
            x.hold_time_s *= 1.1;
            if (size_mpm(cfg, plan->mpm, &x, plan->design_conn_per_s, plan->rec.kat, &more) == 0
                && plan->rec.keepalive) {
                say(u, ul, "The hold time %s s is an estimate: at %s s (10 %% more) the same"
                    " rate needs MaxRequestWorkers %s instead of %s.",
                    secs(&nb, in->hold_time_s), secs(&nb, x.hold_time_s),
                    num(&nb, more.max_request_workers, 0),
                    num(&nb, plan->rec.max_request_workers, 0));
            }
            else {
                say(u, ul, "The hold time %s s is an estimate; the slots grow in proportion"
                    " to it.", secs(&nb, in->hold_time_s));
            }
        }
        if (in->keepalive) {
            say(u, ul, " Without measured gaps, a shorter KeepAliveTimeout is assumed to cut"
                " only the final wait: follow-up requests it would turn into new connections"
                " are not counted.");
        }
        return;
    }
    if (plan->overloaded && plan->estimated[0]) {
        say(u, ul, "In overload some inputs are estimated (see Estimated): the next cycle,"
            " with the data recorded since this change, measures them.");
    }
    if (plan->kat_censored) {
        say(u, ul, "%sGaps longer than the current KeepAliveTimeout were never seen: whether a"
            " longer timeout would keep more requests on their connection is unknown.",
            u[0] ? " " : "");
    }
    if (in->refused > 0) {
        say(u, ul, "%s%s connection attempts were refused with httpd's accept queue full"
            " while the history was recorded: the measured rates and peak are lower bounds.",
            u[0] ? " " : "", num(&nb, (double)in->refused, 0));
    }
    else if (in->refused < 0 && in->listen_overflows > 0) {
        /* not attributed to httpd (an older history): the host's count */
        say(u, ul, "%sThe kernel refused %s connection attempts on this host (ListenOverflows,"
            " every port) while the history was recorded: if they were httpd's, the measured"
            " rates and peak are lower bounds.", u[0] ? " " : "",
            num(&nb, (double)in->listen_overflows, 0));
    }
    if (days < 7) {
        say(u, ul, "%sOnly %s days of history: the busiest hour and the highest peak may miss"
            " a weekly peak.", u[0] ? " " : "", num(&nb, days, 1));
    }
    if (!u[0]) {
        say(u, ul, "The spike factor %s is an assumption (the article's 2x-3x): the highest"
            " peak seen was %s x the busy-period mean.", num(&nb, cfg->spike_factor, 2),
            num(&nb, in->peak_conn_per_s / in->busy_conn_per_s, 2));
    }
}

/* One plan in the making: what the steps of sb_model_plan() share. */
typedef struct {
    const sb_model_config_t *cfg;
    sb_model_inputs_t in;
    sb_model_current_t cur;
    sb_model_plan_t *plan;
    nums_t nb;
    char *t;                    /* the arithmetic */
    apr_size_t tl;
    int k;                      /* the KeepAliveTimeout planned at */
} planning_t;

/* The design rate. */
static void plan_design_rate(planning_t *g)
{
    const sb_model_config_t *cfg = g->cfg;
    sb_model_plan_t *plan = g->plan;
    char words[SB_MODEL_NOTE_MAX];

    plan->design_conn_per_s = sb_model_design_rate(cfg->spike_factor, g->in.busy_conn_per_s,
                                                   g->in.peak_conn_per_s, words, sizeof(words));
    say(g->t, g->tl, "%s", words);
    if (g->in.from_history) {
        say(g->t, g->tl, "  (Busy period: the busiest %s minutes of %s; peak: the busiest second.)",
            num(&g->nb, g->in.busy_minutes, 0), num(&g->nb, g->in.minutes, 0));
    }
    say(g->t, g->tl, "\n");
}

/* The KeepAliveTimeout to plan at (g->k).  Returns 0, or -1 with the
 * plan's status set. */
static int plan_kat(planning_t *g)
{
    const sb_model_config_t *cfg = g->cfg;
    sb_model_plan_t *plan = g->plan;
    int kat_cur;

    if (g->in.keepalive && !(isfinite(g->in.kat) && g->in.kat > 0)) {
        g->in.kat = g->cur.keepalive_timeout > 0 ? g->cur.keepalive_timeout : 5;
        say(g->t, g->tl, "KeepAliveTimeout: not given; %s %s s.\n",
            g->cur.keepalive_timeout > 0 ? "the current" : "httpd's default",
            num(&g->nb, g->in.kat, 2));
    }
    kat_cur = g->in.keepalive ? (int)ceil(g->in.kat - 1e-9) : 0;
    if (!g->in.keepalive) {
        g->k = 0;
        if (g->in.from_history || have_hists(&g->in)) {
            say(g->t, g->tl, "KeepAlive was Off: one request per connection; the data cannot show"
                " what keep-alive would do.\n");
        }
    }
    else if (g->in.from_history || hist_ok(g->in.gap)) {
        if (sb_model_choose_kat(g->in.gap, g->in.kat, cfg->ka_target_share, cfg->min_kat,
                                cfg->max_kat, &plan->kat_choice) != 0) {
            say_missing(plan, "%s", plan->kat_choice.words);
            plan->status = SB_MODEL_NODATA;
            return -1;
        }
        g->k = plan->kat_choice.kat;
        plan->kat_censored = plan->kat_choice.censored;
        plan->kat_from_data = 1;
        say(g->t, g->tl, "KeepAliveTimeout: %s\n", plan->kat_choice.words);
    }
    else {
        g->k = kat_cur;
        if (cfg->max_kat > 0 && g->k > cfg->max_kat) {
            g->k = cfg->max_kat;
        }
        if (g->k < 1) {
            g->k = 1;
        }
    }
    return 0;
}

/* The slots at that timeout.  Returns 0, or -1 with the plan's status set. */
static int plan_slots(planning_t *g)
{
    const sb_model_config_t *cfg = g->cfg;
    sb_model_plan_t *plan = g->plan;
    sb_mpm_t mpm = cfg->mpm;

    if (size_mpm(cfg, mpm, &g->in, plan->design_conn_per_s, g->k, &plan->rec) != 0) {
        say_missing(plan, "the hold time at KeepAliveTimeout %d s cannot be computed from"
                    " these inputs, or the slots exceed %d", g->k, SB_MODEL_MAX_SLOTS);
        plan->status = SB_MODEL_NODATA;
        return -1;
    }
    say_hold(plan, &g->in, &plan->rec, plan->design_conn_per_s);
    if (hist_ok(g->in.hold) && g->k > 0) {
        sb_model_hold_t at_cur;
        sb_model_hold_time(&g->in, g->in.kat, &at_cur);
        say(g->t, g->tl, "(Cross-check: the model gives %s s per connection at the current %s s;"
            " measured: %s s.)\n", secs(&g->nb, at_cur.hold_s), num(&g->nb, g->in.kat, 2),
            secs(&g->nb, hist_mean(g->in.hold)));
    }
    if (plan->overloaded && mpm != SB_MPM_EVENT && isfinite(g->in.busy_slots_mean)
        && isfinite(g->in.accepted_mean)
        && g->in.accepted_mean > 0 && g->k > 0) {
        sb_model_hold_t at_cur;
        sb_model_hold_time(&g->in, g->in.kat, &at_cur);
        say(g->t, g->tl, "(Cross-check, Little's law on httpd's side: %s busy slots / %s"
            " connections/s accepted = %s s per accepted connection at the current %s s; the"
            " model gives %s s.)\n", num(&g->nb, g->in.busy_slots_mean, 1),
            num(&g->nb, g->in.accepted_mean, 2),
            secs(&g->nb, g->in.busy_slots_mean / g->in.accepted_mean),
            num(&g->nb, g->in.kat, 2), secs(&g->nb, at_cur.hold_s));
    }
    say_sizing(plan, cfg, mpm, &plan->rec, "Slots:");
    return 0;
}

/* Memory cannot hold the slots and no shorter timeout helps: NOFIT, and
 * the fallback (KeepAlive Off, the event MPM, or capped). */
static void memory_nofit(planning_t *g, long nmax)
{
    const sb_model_config_t *cfg = g->cfg;
    sb_model_plan_t *plan = g->plan;
    sb_mpm_t mpm = cfg->mpm;
    sb_model_sizing_t s;

    plan->status = SB_MODEL_NOFIT;
    if (g->k > 0) {
        say(g->t, g->tl, "Not even at KeepAliveTimeout %d s (the shortest sensible one)"
            " do the slots fit in memory.\n", cfg->min_kat);
    }
    if (mpm != SB_MPM_EVENT && g->k > 0
        && size_mpm(cfg, SB_MPM_EVENT, &g->in, plan->design_conn_per_s, g->k,
                    &plan->event_alt) == 0) {
        plan->has_event_alt = 1;
    }
    if (mpm != SB_MPM_EVENT && g->k > 0
        && size_mpm(cfg, mpm, &g->in, plan->design_conn_per_s, 0, &s) == 0) {
        say(g->t, g->tl, "%s: KeepAlive Off, as the article advises on hardware short"
            " of memory.\n", mpm == SB_MPM_PREFORK ? "Recommendation"
            : "In place, with the worker MPM");
        say_hold(plan, &g->in, &s, plan->design_conn_per_s);
        plan->rec = s;
        say_sizing(plan, cfg, mpm, &plan->rec, "KeepAlive Off:");
        if (plan->rec.max_request_workers <= nmax) {
            plan->fits_memory = 1;
            say(g->t, g->tl, "KeepAlive Off fits: %s <= %s workers.  The price: every"
                " request pays a new TCP (and TLS) handshake.\n",
                num(&g->nb, plan->rec.max_request_workers, 0),
                num(&g->nb, (double)nmax, 0));
        }
    }
    if (plan->fits_memory != 1) {
        int want = plan->rec.max_request_workers;
        cap_sizing(cfg, mpm, &plan->rec, nmax);
        say(g->t, g->tl, "This host cannot carry %s new clients/s: even %s needs %s"
            " workers and memory holds %s.  Capped at MaxRequestWorkers %s, a new"
            " client waits %s of the time at the design rate; more memory or"
            " more servers behind a load balancer are needed.\n",
            num(&g->nb, plan->design_conn_per_s, 1), plan->rec.keepalive
            ? "the event MPM" : "KeepAlive Off", num(&g->nb, want, 0),
            num(&g->nb, (double)nmax, 0), num(&g->nb, plan->rec.max_request_workers, 0),
            pct(&g->nb, plan->rec.wait_prob));
    }
    if (plan->has_event_alt) {
        const sb_model_sizing_t *e = &plan->event_alt;
        say(g->t, g->tl, "Alternative: the event MPM keeps idle keep-alive connections"
            " out of the workers: at KeepAliveTimeout %d s it needs %s workers"
            " (%s for the requests, the rest for its connection ceiling of %s"
            " open connections), MaxRequestWorkers %s = %s × %d, ServerLimit %s.",
            e->kat, num(&g->nb, e->max_request_workers, 0), num(&g->nb, e->slots, 0),
            num(&g->nb, (double)e->design_conns, 0),
            num(&g->nb, e->max_request_workers, 0), num(&g->nb, e->processes, 0),
            e->threads_per_child, num(&g->nb, e->server_limit, 0));
        if (mpm == SB_MPM_WORKER) {
            say(g->t, g->tl, "  At the worker MPM's PSS per thread that %s.\n",
                e->max_request_workers <= nmax ? "fits" : "does not fit either");
        }
        else {
            say(g->t, g->tl, "  Its threads share their process's memory: measure its"
                " PSS per worker before relying on it.\n");
        }
    }
}

/* The slots do not fit in nmax workers: the longest shorter timeout that
 * fits, else memory_nofit(). */
static void memory_over(planning_t *g, long nmax)
{
    const sb_model_config_t *cfg = g->cfg;
    sb_model_plan_t *plan = g->plan;
    sb_mpm_t mpm = cfg->mpm;
    sb_model_sizing_t s;
    int k2, found = 0;

    if (g->k - cfg->min_kat <= 10) {
        /* few candidates: each one, as a table */
        for (k2 = g->k - 1; g->k > 0 && k2 >= cfg->min_kat; k2--) {
            if (size_mpm(cfg, mpm, &g->in, plan->design_conn_per_s, k2, &s) != 0) {
                break;
            }
            say_step(plan, &s, nmax);
            if (s.max_request_workers <= nmax) {
                found = 1;
                break;
            }
        }
    }
    else if (size_mpm(cfg, mpm, &g->in, plan->design_conn_per_s, cfg->min_kat, &s) == 0) {
        /* the slots never shrink with a longer timeout: bisect for the
         * longest one that fits */
        int lo = cfg->min_kat, hi = g->k - 1;
        sb_model_sizing_t m;

        say_step(plan, &s, nmax);
        if (s.max_request_workers <= nmax) {
            found = 1;
            while (lo < hi) {
                int mid = lo + (hi - lo + 1) / 2;
                if (size_mpm(cfg, mpm, &g->in, plan->design_conn_per_s, mid, &m) == 0
                    && m.max_request_workers <= nmax) {
                    lo = mid;
                    s = m;
                }
                else {
                    hi = mid - 1;
                }
            }
            if (lo > cfg->min_kat) {
                say_step(plan, &s, nmax);
            }
            k2 = lo;
        }
    }
    if (found) {
        plan->rec = s;
        plan->kat_memory_limited = 1;
        plan->fits_memory = 1;
        say(g->t, g->tl, "Memory sets KeepAliveTimeout %d s", k2);
        if (isfinite(s.hold.kept_share)) {
            say(g->t, g->tl, ", which keeps %s of the follow-up requests on their"
                " connection", pct(&g->nb, s.hold.kept_share));
        }
        say(g->t, g->tl, ".\n");
    }
    else {
        memory_nofit(g, nmax);
    }
}

/* The memory cap.  Returns 0, or -1 with the plan's status set. */
static int plan_memory(planning_t *g)
{
    const sb_model_config_t *cfg = g->cfg;
    sb_model_plan_t *plan = g->plan;
    double budget = NAN;

    if (cfg->mem_budget_bytes > 0) {
        budget = (double)cfg->mem_budget_bytes;
    }
    else if (g->in.mem_total_bytes > 0) {
        budget = cfg->mem_share * (double)g->in.mem_total_bytes - (double)cfg->mem_reserve_bytes;
    }
    if (isfinite(budget) && budget <= 0) {
        say_missing(plan, "the memory budget is not positive (%s of %s less %s reserve)",
                    pct(&g->nb, cfg->mem_share), bytes(&g->nb, (double)g->in.mem_total_bytes),
                    bytes(&g->nb, (double)cfg->mem_reserve_bytes));
        plan->status = SB_MODEL_EINVAL;
        return -1;
    }
    plan->mem_budget_bytes = budget;
    if (!isfinite(budget) || g->in.pss_per_worker_bytes <= 0) {
        say(g->t, g->tl, "Memory: not checked (%s).\n", g->in.pss_per_worker_bytes <= 0
            ? "no PSS per worker" : "no memory size or budget");
    }
    else {
        long nmax = (long)floor(budget / (double)g->in.pss_per_worker_bytes);
        plan->mem_max_workers = nmax;
        if (cfg->mem_budget_bytes > 0) {
            say(g->t, g->tl, "Memory: budget %s", bytes(&g->nb, budget));
        }
        else {
            say(g->t, g->tl, "Memory: budget %s × %s MemTotal - %s reserve = %s",
                num(&g->nb, cfg->mem_share, 2), bytes(&g->nb, (double)g->in.mem_total_bytes),
                bytes(&g->nb, (double)cfg->mem_reserve_bytes), bytes(&g->nb, budget));
        }
        say(g->t, g->tl, " / %s PSS per worker = %s workers at most", bytes(&g->nb,
            (double)g->in.pss_per_worker_bytes), num(&g->nb, (double)nmax, 0));
        if (plan->rec.max_request_workers <= nmax) {
            plan->fits_memory = 1;
            say(g->t, g->tl, ": %s fit.\n", num(&g->nb, plan->rec.max_request_workers, 0));
        }
        else {
            plan->fits_memory = 0;
            say(g->t, g->tl, ": %s do not fit.\n", num(&g->nb, plan->rec.max_request_workers, 0));
            memory_over(g, nmax);
        }
    }
    return 0;
}

/* What the restart takes, and the evidence of queueing. */
static void plan_restart(planning_t *g)
{
    const sb_model_config_t *cfg = g->cfg;
    sb_model_plan_t *plan = g->plan;
    sb_mpm_t mpm = cfg->mpm;

    if (mpm != SB_MPM_PREFORK && g->cur.thread_limit > plan->rec.thread_limit) {
        plan->rec.thread_limit = g->cur.thread_limit;
    }
    if (g->cur.server_limit > plan->rec.server_limit
        && (mpm == SB_MPM_PREFORK || g->cur.threads_per_child <= 0
            || g->cur.threads_per_child == plan->rec.threads_per_child)) {
        /* a graceful restart keeps the running ServerLimit anyway; the
         * spare slots hold the processes that finish gracefully */
        say(g->t, g->tl, "ServerLimit stays at the running %s (not lowered to %s: a reload"
            " keeps it, and its spare slots hold the %s finishing gracefully).\n",
            num(&g->nb, g->cur.server_limit, 0), num(&g->nb, plan->rec.server_limit, 0),
            mpm == SB_MPM_PREFORK ? "children" : "processes");
        plan->rec.server_limit = g->cur.server_limit;
    }
    if (g->cur.server_limit > 0 && plan->rec.server_limit > g->cur.server_limit) {
        plan->needs_full_restart = 1;
        say(g->t, g->tl, "ServerLimit %s > the current %s: httpd ignores ServerLimit on every"
            " restart, graceful or full; it takes a stop and a start.\n",
            num(&g->nb, plan->rec.server_limit, 0), num(&g->nb, g->cur.server_limit, 0));
    }
    if (mpm != SB_MPM_PREFORK && g->cur.thread_limit > 0
        && plan->rec.thread_limit > g->cur.thread_limit) {
        plan->needs_full_restart = 1;
        say(g->t, g->tl, "ThreadLimit %d > the current %d: it takes a stop and a start.\n",
            plan->rec.thread_limit, g->cur.thread_limit);
    }
    if (g->cur.server_limit <= 0) {
        say(g->t, g->tl, "The current ServerLimit is unknown: whether a stop and start is needed"
            " cannot be said.\n");
    }
    if (plan->rec.server_limit > (mpm == SB_MPM_PREFORK ? SB_MODEL_PREFORK_MAX_SERVER_LIMIT
                                  : SB_MODEL_THREADED_MAX_SERVER_LIMIT)) {
        say(g->t, g->tl, "ServerLimit %s is beyond httpd's compiled-in maximum (%d): use more"
            " servers.\n", num(&g->nb, plan->rec.server_limit, 0),
            mpm == SB_MPM_PREFORK ? SB_MODEL_PREFORK_MAX_SERVER_LIMIT
            : SB_MODEL_THREADED_MAX_SERVER_LIMIT);
    }
    if (g->in.from_history && (g->in.listen_queue_max > 0 || g->in.refused > 0)) {
        say(g->t, g->tl, "Evidence: the accept queue reached %s clients", num(&g->nb,
            (double)(g->in.listen_queue_max > 0 ? g->in.listen_queue_max : 0), 0));
        if (g->in.listen_queue_max > 0 && isfinite(g->in.busy_accepted_per_s)
            && g->in.busy_accepted_per_s > 0) {
            say(g->t, g->tl, "; at the %s new clients/s httpd accepted, the last of them"
                " waited about %s s for a slot (Little's law: queue ÷ accept rate)",
                num(&g->nb, g->in.busy_accepted_per_s, 2),
                secs(&g->nb, (double)g->in.listen_queue_max / g->in.busy_accepted_per_s));
        }
        if (g->in.refused > 0) {
            say(g->t, g->tl, "; %s attempts were refused with httpd's accept queue full",
                num(&g->nb, (double)g->in.refused, 0));
        }
        else if (g->in.refused == 0) {
            say(g->t, g->tl, "; none was refused");
        }
        say(g->t, g->tl, ".\n");
    }
}

sb_model_status_t sb_model_plan(const sb_model_config_t *cfg, const sb_model_inputs_t *in_arg,
                                const sb_model_current_t *cur_arg, sb_model_plan_t *plan)
{
    planning_t g;

    memset(&g, 0, sizeof(g));
    memset(plan, 0, sizeof(*plan));
    g.cfg = cfg;
    g.in = *in_arg;
    g.plan = plan;
    g.t = plan->arithmetic;
    g.tl = sizeof(plan->arithmetic);
    plan->mpm = cfg->mpm;
    plan->mem_budget_bytes = NAN;
    plan->mem_max_workers = -1;
    plan->fits_memory = -1;
    plan->spike_factor = cfg->spike_factor;
    plan->busy_conn_per_s = g.in.busy_conn_per_s;
    plan->peak_conn_per_s = g.in.peak_conn_per_s;
    plan->design_conn_per_s = NAN;
    if (cur_arg) {
        g.cur = *cur_arg;
    }
    else {
        sb_model_current_init(&g.cur);
    }
    if (check_config(cfg, plan) != 0) {
        return plan->status = SB_MODEL_EINVAL;
    }
    plan->overloaded = sb_model_overload(cfg, &g.in, &g.cur, plan->overload,
                                         sizeof(plan->overload));
    if (check_data(cfg, &g.in, plan) != 0) {
        return plan->status = SB_MODEL_NODATA;
    }
    if (plan->overloaded) {
        say(g.t, g.tl, "Overload: %s.  The plan is made from the arrivals, not from what"
            " httpd accepted.\n", plan->overload);
        if (plan->estimated[0]) {
            say(g.t, g.tl, "Estimated: %s.\n", plan->estimated);
        }
    }
    plan_design_rate(&g);
    if (plan_kat(&g) != 0 || plan_slots(&g) != 0 || plan_memory(&g) != 0) {
        return plan->status;
    }
    plan_restart(&g);
    say_uncertainty(plan, cfg, &g.in);
    return plan->status;
}

/* ------------------------------------------------------------------ capacity */

int sb_model_capacity(int n, double hold, double target, double *littles_rate,
                      double *erlang_rate, char *words, apr_size_t len)
{
    nums_t nb = { .next = 0 };
    double a, little;

    if (words && len) {
        words[0] = '\0';
    }
    if (n < 1 || !(hold > 0) || !isfinite(hold) || !(target > 0 && target < 1)) {
        return -1;
    }
    little = n / hold;
    a = sb_model_load_for(n, target);
    if (littles_rate) {
        *littles_rate = little;
    }
    if (erlang_rate) {
        *erlang_rate = a / hold;
    }
    say(words, len, "Little's law: %s slots / %s s hold = %s new clients/s, with every slot"
        " busy all the time and clients arriving evenly (the planning article's arithmetic).\n",
        num(&nb, n, 0), secs(&nb, hold), num(&nb, little, 1));
    say(words, len, "Erlang C: arrivals are random; a new client waits in the accept queue"
        " less than %s of the time only up to %s new clients/s (%s slots busy on average,"
        " %s of them); at %s/s the queue grows without bound.\n", pct(&nb, target),
        num(&nb, a / hold, 1), num(&nb, a, 1), pct(&nb, a / n), num(&nb, little, 1));
    return 0;
}
