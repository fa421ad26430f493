/*
 * sbtune_prom.c - the agent's series from Prometheus's HTTP API into the
 * history's minute rows (sbtune_prom.h).  The answers are parsed by
 * jansson; every failure names the URL and the query.
 */
#include "config.h"
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <jansson.h>
#include <apr_strings.h>

#include "sbtune_prom.h"

/* A query_range asks for at most this many steps (Prometheus refuses more
 * than 11000 points per series). */
#define MAX_STEPS 10000
/* The histograms are read with at most this many steps over the window
 * (one step per minute up to 4 hours). */
#define HIST_STEPS 240
/* The largest answer read. */
#define MAX_BODY (512 * 1024 * 1024)

struct sbtune_prom {
    apr_pool_t *p;
    const char *url;            /* without a trailing '/' */
    const char *matchers;       /* the selector without its braces */
    char err[2048];
};

/* One series of a range query: its labels, and a value per step (NaN:
 * no sample). */
typedef struct {
    json_t *metric;
    double *v;
} series_t;

typedef struct {
    int64_t start, step;
    int n;                      /* steps: start, start + step, ... */
    apr_array_header_t *series; /* series_t */
} matrix_t;

sbtune_prom_t *sbtune_prom_create(const char *url, const char *selector, char *err,
                                  apr_size_t errlen, apr_pool_t *p)
{
    sbtune_prom_t *pr = apr_pcalloc(p, sizeof(*pr));
    apr_size_t n = strlen(url), s = selector ? strlen(selector) : 0;

    if (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0) {
        snprintf(err, errlen, "--prometheus takes an http:// or https:// URL, not '%s'", url);
        return NULL;
    }
    if (s > 0 && (selector[0] != '{' || selector[s - 1] != '}')) {
        snprintf(err, errlen, "--selector takes label matchers in braces, as"
                 " {job=\"sbagent\"}, not '%s'", selector);
        return NULL;
    }
    while (n > 0 && url[n - 1] == '/') {
        n--;
    }
    pr->p = p;
    pr->url = apr_pstrndup(p, url, n);
    pr->matchers = s > 2 ? apr_pstrndup(p, selector + 1, s - 2) : "";
    return pr;
}

const char *sbtune_prom_error(const sbtune_prom_t *pr)
{
    return pr->err;
}

/* ------------------------------------------------------------------ HTTP */

typedef struct {
    char *buf;
    size_t len, cap;
    int too_big;
} body_t;

static size_t on_body(char *data, size_t size, size_t nmemb, void *baton)
{
    body_t *b = baton;
    size_t n = size * nmemb;

    if (b->len + n + 1 > MAX_BODY) {
        b->too_big = 1;
        return 0;
    }
    if (b->len + n + 1 > b->cap) {
        size_t cap = (b->len + n + 1) * 2;
        char *nb = realloc(b->buf, cap);
        if (!nb) {
            return 0;
        }
        b->buf = nb;
        b->cap = cap;
    }
    memcpy(b->buf + b->len, data, n);
    b->len += n;
    b->buf[b->len] = '\0';
    return n;
}

/* The "data" of an answer (HTTP status code) of the API, or NULL with
 * pr->err set.  The caller json_decref()s *root. */
static json_t *answer(sbtune_prom_t *pr, const char *body, size_t len, long code,
                      const char *endpoint, const char *expr, json_t **root)
{
    json_error_t je;
    json_t *status, *data;

    *root = json_loadb(body, len, 0, &je);
    if (!*root || !json_is_object(*root)) {
        snprintf(pr->err, sizeof(pr->err), "Prometheus at %s answered HTTP %ld to %s %s with"
                 " what is not the API's JSON (%s at line %d: '%.*s')", pr->url, code,
                 endpoint, expr, *root ? "not an object" : je.text, *root ? 1 : je.line,
                 (int)(len < 60 ? len : 60), body);
        json_decref(*root);
        *root = NULL;
        return NULL;
    }
    status = json_object_get(*root, "status");
    data = json_object_get(*root, "data");
    if (!json_is_string(status) || strcmp(json_string_value(status), "success") != 0
        || !json_is_object(data)) {
        json_t *e = json_object_get(*root, "error");
        snprintf(pr->err, sizeof(pr->err), "Prometheus at %s refused %s %s (HTTP %ld): %s",
                 pr->url, endpoint, expr, code,
                 json_is_string(e) ? json_string_value(e) : "no \"data\" in the answer");
        return NULL;
    }
    return data;
}

/* The "data" of the API's answer to GET endpoint?query=expr&params, or
 * NULL with pr->err set.  The caller json_decref()s *root. */
static json_t *api(sbtune_prom_t *pr, const char *endpoint, const char *expr,
                   const char *params, json_t **root)
{
    CURL *c = curl_easy_init();
    body_t b = { NULL, 0, 0, 0 };
    char *q, *u;
    long code = 0;
    CURLcode rc;
    json_t *data;

    *root = NULL;
    if (!c) {
        snprintf(pr->err, sizeof(pr->err), "cannot start libcurl");
        return NULL;
    }
    q = curl_easy_escape(c, expr, 0);
    u = apr_psprintf(pr->p, "%s/api/v1/%s?query=%s%s", pr->url, endpoint, q, params);
    curl_free(q);
    curl_easy_setopt(c, CURLOPT_URL, u);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 120000L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_USERAGENT, "sbtune/" PACKAGE_VERSION);
    rc = curl_easy_perform(c);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
    curl_easy_cleanup(c);
    if (rc != CURLE_OK) {
        snprintf(pr->err, sizeof(pr->err), "cannot read Prometheus at %s (%s %s): %s",
                 pr->url, endpoint, expr, b.too_big ? "the answer is over 512 MiB"
                 : curl_easy_strerror(rc));
        free(b.buf);
        return NULL;
    }
    data = answer(pr, b.buf ? b.buf : "", b.len, code, endpoint, expr, root);
    free(b.buf);
    return data;
}

/* A sample's value ("1.5", "NaN", "+Inf"); NaN when it is not a number. */
static double sample_value(json_t *pair, double *ts)
{
    json_t *t = json_array_get(pair, 0), *v = json_array_get(pair, 1);
    char *end;
    double d;

    if (!json_is_number(t) || !json_is_string(v)) {
        return NAN;
    }
    *ts = json_number_value(t);
    d = strtod(json_string_value(v), &end);
    return *end ? NAN : d;
}

/* The result array of a query of resultType type, or NULL with pr->err. */
static json_t *result_of(sbtune_prom_t *pr, json_t *data, const char *type, const char *expr)
{
    json_t *rt = json_object_get(data, "resultType"), *res = json_object_get(data, "result");

    if (!json_is_string(rt) || strcmp(json_string_value(rt), type) != 0
        || !json_is_array(res)) {
        snprintf(pr->err, sizeof(pr->err), "Prometheus at %s: the answer to %s is not a %s",
                 pr->url, expr, type);
        return NULL;
    }
    return res;
}

static apr_status_t json_unref(void *j)
{
    json_decref(j);
    return APR_SUCCESS;
}

/* Add one answer's series to m (the same labels: the same series_t). */
static int matrix_add(sbtune_prom_t *pr, matrix_t *m, json_t *res, const char *expr)
{
    size_t i, k;
    int j;

    for (i = 0; i < json_array_size(res); i++) {
        json_t *s = json_array_get(res, i), *metric = json_object_get(s, "metric");
        json_t *values = json_object_get(s, "values");
        series_t *se = NULL;

        if (!json_is_object(metric) || !json_is_array(values)) {
            snprintf(pr->err, sizeof(pr->err), "Prometheus at %s: a series of %s has no"
                     " \"metric\" or \"values\"", pr->url, expr);
            return -1;
        }
        for (j = 0; j < m->series->nelts && !se; j++) {
            series_t *o = &APR_ARRAY_IDX(m->series, j, series_t);
            if (json_equal(o->metric, metric)) {
                se = o;
            }
        }
        if (!se) {
            se = apr_array_push(m->series);
            se->metric = json_incref(metric);
            apr_pool_cleanup_register(pr->p, se->metric, json_unref, apr_pool_cleanup_null);
            se->v = apr_palloc(pr->p, sizeof(double) * (size_t)m->n);
            for (j = 0; j < m->n; j++) {
                se->v[j] = NAN;
            }
        }
        for (k = 0; k < json_array_size(values); k++) {
            double ts = -1, v = sample_value(json_array_get(values, k), &ts);
            double at = (ts - (double)m->start) / (double)m->step;

            if (at >= -0.5 && at < m->n - 0.5) {
                se->v[(int)(at + 0.5)] = v;
            }
        }
    }
    return 0;
}

/* expr over start, start + step, ... (n steps) into m, in pieces of at
 * most MAX_STEPS.  Returns 0, or -1 with pr->err. */
static int matrix(sbtune_prom_t *pr, const char *expr, int64_t start, int64_t step, int n,
                  matrix_t *m)
{
    int done = 0;

    m->start = start;
    m->step = step;
    m->n = n;
    m->series = apr_array_make(pr->p, 4, sizeof(series_t));
    while (done < n) {
        int part = n - done < MAX_STEPS ? n - done : MAX_STEPS;
        json_t *root, *data, *res;
        const char *params = apr_psprintf(pr->p, "&start=%" APR_INT64_T_FMT "&end=%"
                                          APR_INT64_T_FMT "&step=%" APR_INT64_T_FMT,
                                          start + done * step,
                                          start + (done + part - 1) * step, step);

        data = api(pr, "query_range", expr, params, &root);
        res = data ? result_of(pr, data, "matrix", expr) : NULL;
        if (!res || matrix_add(pr, m, res, expr) != 0) {
            json_decref(root);
            return -1;
        }
        json_decref(root);
        done += part;
    }
    return 0;
}

int sbtune_prom_parse_range(sbtune_prom_t *pr, const char *body, size_t len, int64_t start,
                            int64_t step, int n, int *nseries, double **values)
{
    json_t *root, *data = answer(pr, body, len, 200, "query_range", "(parse)", &root);
    json_t *res = data ? result_of(pr, data, "matrix", "(parse)") : NULL;
    matrix_t m;
    int rc = -1;

    m.start = start;
    m.step = step;
    m.n = n;
    m.series = apr_array_make(pr->p, 4, sizeof(series_t));
    if (res && matrix_add(pr, &m, res, "(parse)") == 0) {
        *nseries = m.series->nelts;
        *values = m.series->nelts ? APR_ARRAY_IDX(m.series, 0, series_t).v : NULL;
        rc = 0;
    }
    json_decref(root);
    return rc;
}

/* The values of m's only series (NULL when m has none). */
static const double *only(const matrix_t *m)
{
    return m->series->nelts > 0 ? APR_ARRAY_IDX(m->series, 0, series_t).v : NULL;
}

/* ------------------------------------------------------------------ counters */

/*
 * A counter's increase from step k to k + 1: NaN when the later value is
 * missing; a value that went down is the agent restarted (its counters
 * start at 0): the later value.  A missing earlier value counts as 0 when
 * the agent started within the step (sec, its sbtune_seconds_total, is at
 * most the step at k + 1); else NaN.
 */
static double delta(const double *v, const double *sec, int k, int64_t step)
{
    double a, b;

    if (!v || !sec) {
        return NAN;
    }
    a = v[k];
    b = v[k + 1];
    if (isnan(b)) {
        return NAN;
    }
    if (isnan(a)) {
        return isnan(sec[k]) && sec[k + 1] <= (double)step + 2 ? b : NAN;
    }
    return b >= a ? b - a : b;
}

/* The selector with more matchers (NULL: none) added. */
static const char *sel(const sbtune_prom_t *pr, const char *instance, const char *more)
{
    char *inst = apr_pstrdup(pr->p, "");
    const char *s;

    for (s = instance; s && *s; s++) {
        inst = apr_psprintf(pr->p, "%s%s%c", inst, *s == '"' || *s == '\\' ? "\\" : "", *s);
    }
    return apr_psprintf(pr->p, "{%s%sinstance=\"%s\"%s%s}", pr->matchers,
                        *pr->matchers ? "," : "", inst, more ? "," : "", more ? more : "");
}

/* ------------------------------------------------------------------ the minutes */

enum {
    Q_SEC, Q_GAP, Q_CONN, Q_ACC, Q_REQ, Q_REF, Q_OVF, Q_NCONN, Q_NACC, Q_NREQ,
    Q_PEAK, Q_BUSYMAX, Q_LQ, Q_BUSY, Q_PSS, Q_MEM, Q_N
};

/* The queries of the minute rows: the selector goes between the halves. */
static const char *const minute_q[Q_N][2] = {
    { "sbtune_seconds_total", "" }, { "sbtune_gap_seconds_total", "" },
    { "sbtune_connections_total", "" }, { "sbtune_accepted_connections_total", "" },
    { "sbtune_requests_total", "" }, { "sbtune_refused_total", "" },
    { "sbtune_listen_overflows_total", "" },
    { "count_over_time(sbtune_connections_per_second", "[60s])" },
    { "count_over_time(sbtune_accepted_connections_per_second", "[60s])" },
    { "count_over_time(sbtune_requests_per_second", "[60s])" },
    { "sbtune_connections_per_second_max60s", "" }, { "sbtune_busy_slots_max60s", "" },
    { "sbtune_listen_queue_length_max60s", "" },
    { NULL, NULL },             /* busy: its own selector */
    { "sbtune_pss_per_worker_bytes", "" },
    { "min_over_time(sbtune_host_memory_available_bytes", "[60s])" },
};

static int64_t round_or_unknown(double v)
{
    return isnan(v) ? SB_UNKNOWN : (int64_t)llround(v);
}

/* Minute k of the series in v (the step from k to k + 1) into row.
 * Returns 0 when the agent measured nothing in it (no row). */
static int minute_row(const double *const *v, int k, int64_t start, sb_hist_minute_t *row)
{
    double secs = delta(v[Q_SEC], v[Q_SEC], k, 60), gaps = delta(v[Q_GAP], v[Q_SEC], k, 60);
    double n;

    sb_hist_minute_init(row, start + 60 * (int64_t)k);
    if (isnan(secs) || secs < 0.5) {
        return 0;
    }
    secs = secs > 60 ? 60 : secs;
    gaps = isnan(gaps) ? 0 : gaps > secs ? secs : gaps;
    row->seconds = (int)lround(secs);
    row->gap_seconds = (int)lround(gaps);
    n = secs - gaps;
    if (n < 0.5) {
        return 1;
    }
#define AT(q) (v[q] ? v[q][k + 1] : NAN)
#define KNOWN(q) (AT(q) > 0)
    row->source = SB_SOURCE_SHM;
    row->busy_mean = AT(Q_BUSY);
    row->busy_max = round_or_unknown(AT(Q_BUSYMAX));
    if (KNOWN(Q_NCONN)) {
        row->conn_per_s_mean = delta(v[Q_CONN], v[Q_SEC], k, 60) / n;
        row->conn_per_s_max = AT(Q_PEAK);
    }
    if (KNOWN(Q_NACC)) {
        row->accepted_per_s_mean = delta(v[Q_ACC], v[Q_SEC], k, 60) / n;
    }
    if (KNOWN(Q_NREQ)) {
        row->req_per_s_mean = delta(v[Q_REQ], v[Q_SEC], k, 60) / n;
    }
    row->refused = round_or_unknown(delta(v[Q_REF], v[Q_SEC], k, 60));
    row->listen_queue_max = round_or_unknown(AT(Q_LQ));
    row->listen_overflows = isnan(AT(Q_LQ)) ? SB_UNKNOWN
                            : round_or_unknown(delta(v[Q_OVF], v[Q_SEC], k, 60));
    row->pss_per_worker_bytes = round_or_unknown(AT(Q_PSS));
    row->mem_available_min = round_or_unknown(AT(Q_MEM));
#undef AT
#undef KNOWN
    return 1;
}

/* The series sbtune_seconds_total of the instance must be one. */
static int one_agent(sbtune_prom_t *pr, const matrix_t *m, const char *s, int64_t from,
                     int64_t to)
{
    if (m->series->nelts == 1) {
        return 0;
    }
    if (m->series->nelts == 0) {
        snprintf(pr->err, sizeof(pr->err), "Prometheus at %s has no series"
                 " sbtune_seconds_total%s from %" APR_INT64_T_FMT " to %" APR_INT64_T_FMT
                 " (unix s): no agent with that instance and selector in the window",
                 pr->url, s, from, to);
    }
    else {
        char *j = json_dumps(APR_ARRAY_IDX(m->series, 1, series_t).metric, JSON_COMPACT);
        snprintf(pr->err, sizeof(pr->err), "Prometheus at %s has %d series"
                 " sbtune_seconds_total%s (one is %s): narrow --selector to one agent",
                 pr->url, m->series->nelts, s, j ? j : "?");
        free(j);
    }
    return SBTUNE_EXIT_NOINSTANCE;
}

/* ------------------------------------------------------------------ the histograms */

static const struct {
    const char *name;
    apr_size_t off;             /* into sb_hist_minute_t */
} hists[] = {
    { "sbtune_keepalive_gap_seconds", offsetof(sb_hist_minute_t, ka_gap_hist) },
    { "sbtune_keepalive_close_idle_seconds", offsetof(sb_hist_minute_t, ka_close_hist) },
    { "sbtune_connection_requests", offsetof(sb_hist_minute_t, req_per_conn_hist) },
    { "sbtune_request_service_seconds", offsetof(sb_hist_minute_t, service_time_hist) },
    { "sbtune_connection_hold_seconds", offsetof(sb_hist_minute_t, hold_time_hist) },
    { "sbtune_connection_lifetime_seconds", offsetof(sb_hist_minute_t, conn_lifetime_hist) },
};

/* The increase of v over the steps of m (NaN steps left out). */
static double increase(const double *v, const double *sec, const matrix_t *m)
{
    double sum = 0;
    int k;

    for (k = 0; k + 1 < m->n; k++) {
        double d = delta(v, sec, k, m->step);
        if (!isnan(d)) {
            sum += d;
        }
    }
    return sum;
}

/* The bucket of sb_hist whose upper bound is le ("+Inf": the last), or -1. */
static int bucket_of(const char *le)
{
    double x;
    char *end;
    int i;

    if (strcmp(le, "+Inf") == 0) {
        return SB_HIST_NBUCKETS - 1;
    }
    x = strtod(le, &end);
    for (i = 1; !*end && i < SB_HIST_NBUCKETS; i++) {
        if (fabs(sb_hist_edge(i) - x) <= 1e-12 * x) {
            return i - 1;
        }
    }
    return -1;
}

/* The cumulative bucket counts' increases into h: counts per bucket, the
 * sum, and min and max (the agent's 60-second extremes over the window,
 * kept within the lowest and highest bucket used; those buckets' edges
 * where the agent exported none). */
static void hist_from(sb_hist_t *h, const double *cum, double sum, double min, double max)
{
    double below = 0;
    int i, lo = -1, hi = -1;

    sb_hist_init(h);
    for (i = 0; i < SB_HIST_NBUCKETS; i++) {
        double c = cum[i] - below;
        if (isnan(cum[i])) {
            continue;
        }
        h->bucket[i] = c > 0 ? (uint64_t)llround(c) : 0;
        below = cum[i] > below ? cum[i] : below;
        h->count += h->bucket[i];
        if (h->bucket[i] > 0) {
            lo = lo < 0 ? i : lo;
            hi = i;
        }
    }
    if (h->count == 0) {
        sb_hist_init(h);
        return;
    }
    h->sum = sum;
    h->min = sb_hist_edge(lo);
    h->max = hi + 1 < SB_HIST_NBUCKETS ? sb_hist_edge(hi + 1) : sb_hist_edge(hi);
    if (min >= h->min && min <= h->max) {
        h->min = min;
    }
    if (max <= h->max && max >= h->min) {
        h->max = max;
    }
}

static int latest(sbtune_prom_t *pr, const char *name, const char *s, int64_t from,
                  int64_t to, double *out, json_t **metric);

/* The window's histograms into row (the histograms from p).  Returns 0,
 * or -1 with pr->err. */
static int read_hists(sbtune_prom_t *pr, const char *s, int64_t start, int steps,
                      sb_hist_minute_t *row)
{
    int64_t step = 60 * (int64_t)((steps + HIST_STEPS - 1) / HIST_STEPS);
    int n = (int)((60 * (int64_t)steps + step - 1) / step) + 1;
    matrix_t msec, mb, ms;
    size_t i;
    int j;

    if (matrix(pr, apr_psprintf(pr->p, "sbtune_seconds_total%s", s), start, step, n,
               &msec) != 0) {
        return -1;
    }
    for (i = 0; i < sizeof(hists) / sizeof(hists[0]); i++) {
        double cum[SB_HIST_NBUCKETS], min, max;
        sb_hist_t *h = apr_palloc(pr->p, sizeof(*h));
        int64_t end = start + 60 * (int64_t)steps;

        if (latest(pr, apr_pstrcat(pr->p, "min_over_time(", hists[i].name, "_min60s", NULL),
                   s, start, end, &min, NULL) != 0
            || latest(pr, apr_pstrcat(pr->p, "max_over_time(", hists[i].name, "_max60s", NULL),
                      s, start, end, &max, NULL) != 0) {
            return -1;
        }
        if (matrix(pr, apr_psprintf(pr->p, "%s_bucket%s", hists[i].name, s), start, step, n,
                   &mb) != 0
            || matrix(pr, apr_psprintf(pr->p, "%s_sum%s", hists[i].name, s), start, step, n,
                      &ms) != 0) {
            return -1;
        }
        for (j = 0; j < SB_HIST_NBUCKETS; j++) {
            cum[j] = NAN;
        }
        for (j = 0; j < mb.series->nelts; j++) {
            series_t *se = &APR_ARRAY_IDX(mb.series, j, series_t);
            json_t *le = json_object_get(se->metric, "le");
            int b = json_is_string(le) ? bucket_of(json_string_value(le)) : -1;

            if (b >= 0) {
                cum[b] = increase(se->v, only(&msec), &mb);
            }
        }
        hist_from(h, cum, only(&ms) ? increase(only(&ms), only(&msec), &ms) : 0, min, max);
        *(const sb_hist_t **)((char *)row + hists[i].off) = h->count ? h : NULL;
    }
    return 0;
}

/* ------------------------------------------------------------------ settings */

/* The latest value of name in the window (name "fn(metric": fn's over the
 * window instead); NaN when there is none. */
static int latest(sbtune_prom_t *pr, const char *name, const char *s, int64_t from,
                  int64_t to, double *out, json_t **metric)
{
    const char *fn = strchr(name, '(') ? "" : "last_over_time(";
    const char *expr = apr_psprintf(pr->p, "%s%s%s[%" APR_INT64_T_FMT "s])", fn, name, s,
                                    to - from > 60 ? to - from : 60);
    json_t *root, *data = api(pr, "query", expr,
                              apr_psprintf(pr->p, "&time=%" APR_INT64_T_FMT, to), &root);
    json_t *res = data ? result_of(pr, data, "vector", expr) : NULL, *first;
    double ts;

    *out = NAN;
    if (!res) {
        json_decref(root);
        return -1;
    }
    first = json_array_get(res, 0);
    if (first) {
        *out = sample_value(json_object_get(first, "value"), &ts);
        if (metric) {
            *metric = json_incref(json_object_get(first, "metric"));
        }
    }
    json_decref(root);
    return 0;
}

static int read_settings(sbtune_prom_t *pr, const char *s, int64_t from, int64_t to,
                         sbtune_prom_settings_t *set)
{
    double mrw, sl, tl, tpc, mem, one;
    json_t *info = NULL, *mpm, *version;

    if (latest(pr, "sbtune_httpd_max_request_workers", s, from, to, &mrw, NULL) != 0
        || latest(pr, "sbtune_httpd_server_limit", s, from, to, &sl, NULL) != 0
        || latest(pr, "sbtune_httpd_thread_limit", s, from, to, &tl, NULL) != 0
        || latest(pr, "sbtune_httpd_threads_per_child", s, from, to, &tpc, NULL) != 0
        || latest(pr, "sbtune_httpd_keepalive_timeout_seconds", s, from, to, &set->kat,
                  NULL) != 0
        || latest(pr, "sbtune_host_memory_total_bytes", s, from, to, &mem, NULL) != 0
        || latest(pr, "sbtune_httpd_info", s, from, to, &one, &info) != 0) {
        return -1;
    }
    set->max_request_workers = isnan(mrw) ? -1 : (int)mrw;
    set->server_limit = isnan(sl) ? -1 : (int)sl;
    set->thread_limit = isnan(tl) ? -1 : (int)tl;
    set->threads_per_child = isnan(tpc) ? -1 : (int)tpc;
    set->mem_total = isnan(mem) ? -1 : (int64_t)mem;
    set->mpm = SB_MPM_UNKNOWN;
    set->version = NULL;
    mpm = json_object_get(info, "mpm");
    version = json_object_get(info, "version");
    if (json_is_string(mpm)) {
        sb_mpm_parse(json_string_value(mpm), &set->mpm);
    }
    if (json_is_string(version)) {
        set->version = apr_pstrdup(pr->p, json_string_value(version));
    }
    json_decref(info);
    return 0;
}

/* ------------------------------------------------------------------ entry points */

int sbtune_prom_read(sbtune_prom_t *pr, const char *instance, int64_t from, int64_t to,
                     apr_status_t (*cb)(void *baton, const sb_hist_minute_t *row),
                     void *baton, sbtune_prom_settings_t *set)
{
    int64_t start = (from + 59) / 60 * 60, end = to / 60 * 60;
    int steps = (int)((end - start) / 60), k, q, rc;
    const char *s = sel(pr, instance, NULL);
    matrix_t m[Q_N];
    const double *v[Q_N];
    sb_hist_minute_t row;

    if (steps < 1) {
        snprintf(pr->err, sizeof(pr->err), "the window holds no whole minute");
        return SBTUNE_EXIT_NOINSTANCE;
    }
    for (q = 0; q < Q_N; q++) {
        const char *expr = q == Q_BUSY
                           ? apr_psprintf(pr->p, "avg_over_time(sbtune_slots%s[60s])",
                                          sel(pr, instance, "state=\"busy\""))
                           : apr_pstrcat(pr->p, minute_q[q][0], s, minute_q[q][1], NULL);
        if (matrix(pr, expr, start, 60, steps + 1, &m[q]) != 0) {
            return SBTUNE_EXIT_PROMETHEUS;
        }
        if (q == Q_SEC && (rc = one_agent(pr, &m[q], s, from, to)) != 0) {
            return rc;
        }
        v[q] = only(&m[q]);
    }
    if (read_settings(pr, s, from, to, set) != 0) {
        return SBTUNE_EXIT_PROMETHEUS;
    }
    for (k = 0; k < steps; k++) {
        if (minute_row(v, k, start, &row)) {
            cb(baton, &row);
        }
    }
    sb_hist_minute_init(&row, end - 60);
    if (read_hists(pr, s, start, steps, &row) != 0) {
        return SBTUNE_EXIT_PROMETHEUS;
    }
    cb(baton, &row);
    return 0;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

int sbtune_prom_instances(sbtune_prom_t *pr, int64_t from, int64_t to,
                          apr_array_header_t **out)
{
    const char *expr = apr_psprintf(pr->p, "count by (instance) (last_over_time("
                                    "sbtune_seconds_total{%s}[%" APR_INT64_T_FMT "s]))",
                                    pr->matchers, to - from > 60 ? to - from : 60);
    json_t *root, *data = api(pr, "query", expr,
                              apr_psprintf(pr->p, "&time=%" APR_INT64_T_FMT, to), &root);
    json_t *res = data ? result_of(pr, data, "vector", expr) : NULL;
    size_t i;

    *out = apr_array_make(pr->p, 8, sizeof(const char *));
    if (!res) {
        json_decref(root);
        return SBTUNE_EXIT_PROMETHEUS;
    }
    for (i = 0; i < json_array_size(res); i++) {
        json_t *inst = json_object_get(json_object_get(json_array_get(res, i), "metric"),
                                       "instance");
        if (json_is_string(inst)) {
            APR_ARRAY_PUSH(*out, const char *) = apr_pstrdup(pr->p, json_string_value(inst));
        }
    }
    json_decref(root);
    qsort((*out)->elts, (size_t)(*out)->nelts, sizeof(const char *), by_name);
    if ((*out)->nelts == 0) {
        snprintf(pr->err, sizeof(pr->err), "Prometheus at %s has no series"
                 " sbtune_seconds_total{%s} in the window: no agent", pr->url, pr->matchers);
        return SBTUNE_EXIT_NOINSTANCE;
    }
    return 0;
}

int sbtune_prom_current(const sbtune_prom_settings_t *set, sb_mpm_t *mpm,
                        sb_model_current_t *cur, double *kat, const char **src,
                        const char **mpm_src)
{
    static const char *const metric[6] = {
        "sbtune_httpd_keepalive_timeout_seconds", "sbtune_httpd_keepalive_timeout_seconds",
        "sbtune_httpd_server_limit", "sbtune_httpd_thread_limit",
        "sbtune_httpd_threads_per_child", "sbtune_httpd_max_request_workers"
    };
    int given[6], i, filled;

    *mpm_src = "option";
    if (*mpm == SB_MPM_UNKNOWN) {
        *mpm = set->mpm;
        *mpm_src = "sbtune_httpd_info";
    }
    if (*mpm == SB_MPM_UNKNOWN) {
        return -1;
    }
    given[0] = given[1] = !isnan(*kat);
    given[2] = cur->server_limit > 0;
    given[3] = cur->thread_limit > 0;
    given[4] = cur->threads_per_child > 0;
    given[5] = cur->max_request_workers > 0;
    if (!given[1] && !isnan(set->kat)) {
        *kat = set->kat;
    }
    if (!given[2] && set->server_limit > 0) {
        cur->server_limit = set->server_limit;
    }
    if (!given[3] && set->thread_limit > 0 && *mpm != SB_MPM_PREFORK) {
        cur->thread_limit = set->thread_limit;
    }
    if (!given[4] && set->threads_per_child > 0 && *mpm != SB_MPM_PREFORK) {
        cur->threads_per_child = set->threads_per_child;
    }
    if (!given[5] && set->max_request_workers > 0) {
        cur->max_request_workers = set->max_request_workers;
    }
    for (i = 0; i < 6; i++) {
        src[i] = given[i] ? "option" : NULL;
    }
    if (!given[1] && !isnan(*kat)) {
        src[0] = src[1] = metric[1];
    }
    for (i = 2; i < 6; i++) {
        if (!given[i] && sb_directive_get(cur, i) > 0) {
            src[i] = metric[i];
        }
    }
    cur->keepalive = isnan(*kat) ? -1 : *kat > 0;
    if (*kat > 0) {
        cur->keepalive_timeout = (int)ceil(*kat - 1e-9);
    }
    filled = sb_model_current_defaults(cur, *mpm);
    if (isnan(*kat)) {
        *kat = cur->keepalive == 0 ? 0 : cur->keepalive_timeout;
    }
    for (i = 0; i < 6; i++) {
        static const int bit[6] = { 32, 1, 4, 16, 8, 2 };
        if ((filled & bit[i]) && sb_directive_get(cur, i) > 0) {
            src[i] = "httpd default";
        }
    }
    return 0;
}
