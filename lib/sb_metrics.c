#include "config.h"
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <apr_strings.h>
#include "sb_hist.h"
#include "sb_metrics.h"

#define MAX_CLIENTS 64
/* The *_max60s gauges: the highest of the last RING closed seconds. */
#define RING 60

struct sb_metrics {
    apr_pool_t *pool;
    int have_second;
    sb_second_t last;           /* obs pointers are cleared */
    char version[64];
    char mpm[16];
    int generation;
    int server_limit;
    int thread_limit;
    int up;
    sb_source_kind_t source;
    double requests_total;
    double connections_total;
    double accepted_total;
    double refused_total;
    double overflows_total;
    double kbytes_total;
    uint64_t seconds_total;
    uint64_t gap_seconds_total;
    sb_hist_t hist[SB_OBS_N];   /* since the agent started, sb_hist's buckets */
    double ring_conn[RING], ring_busy[RING], ring_lq[RING];
    double ring_obs_min[SB_OBS_N][RING], ring_obs_max[SB_OBS_N][RING]; /* per second */
    unsigned ring_n;            /* seconds folded in (the ring's next slot: % RING) */
    int64_t pss_per_worker;     /* of the last second with a PSS; -1 unknown */
    int64_t mem_total;          /* -1 unknown */
    sb_metrics_settings_t set;
    int nclients;
    char clients[MAX_CLIENTS][64];
    double client_slots[MAX_CLIENTS];
};

sb_metrics_t *sb_metrics_create(apr_pool_t *p)
{
    sb_metrics_t *m = apr_pcalloc(p, sizeof(*m));
    m->pool = p;
    m->generation = -1;
    m->pss_per_worker = -1;
    m->mem_total = -1;
    m->set.max_request_workers = m->set.threads_per_child = -1;
    m->set.keepalive_timeout = NAN;
    return m;
}

void sb_metrics_set_server(sb_metrics_t *m, const char *version, const char *mpm,
                           int generation, int server_limit, int thread_limit)
{
    apr_cpystrn(m->version, version ? version : "", sizeof(m->version));
    apr_cpystrn(m->mpm, mpm ? mpm : "", sizeof(m->mpm));
    m->generation = generation;
    m->server_limit = server_limit;
    m->thread_limit = thread_limit;
}

void sb_metrics_set_up(sb_metrics_t *m, int up, sb_source_kind_t source)
{
    m->up = up;
    m->source = source;
}

void sb_metrics_set_settings(sb_metrics_t *m, const sb_metrics_settings_t *set,
                             int64_t mem_total)
{
    m->set = *set;
    m->mem_total = mem_total;
}

/* The last RING seconds' arrivals, busy slots and accept queue (NaN: not
 * measured that second). */
static void ring_add(sb_metrics_t *m, const sb_second_t *s)
{
    unsigned k = m->ring_n++ % RING;

    int i, j;

    m->ring_conn[k] = s->conn_per_s;
    m->ring_busy[k] = s->busy_max;
    m->ring_lq[k] = s->listen_queue_max;
    for (i = 0; i < SB_OBS_N; i++) {
        double lo = NAN, hi = NAN;
        for (j = 0; j < s->obs[i].n; j++) {
            double v = s->obs[i].v[j] < 0 ? 0 : s->obs[i].v[j];
            lo = v >= lo ? lo : v;
            hi = v <= hi ? hi : v;
        }
        m->ring_obs_min[i][k] = lo;
        m->ring_obs_max[i][k] = hi;
    }
}

/* The lowest of the ring's measured values; NaN when none. */
static double ring_min(const sb_metrics_t *m, const double *ring)
{
    unsigned n = m->ring_n < RING ? m->ring_n : RING, i;
    double min = NAN;

    for (i = 0; i < n; i++) {
        if (!isnan(ring[i]) && !(ring[i] >= min)) {
            min = ring[i];
        }
    }
    return min;
}

/* The highest of the ring's measured values; NaN when none. */
static double ring_max(const sb_metrics_t *m, const double *ring)
{
    unsigned n = m->ring_n < RING ? m->ring_n : RING, i;
    double max = NAN;

    for (i = 0; i < n; i++) {
        if (!isnan(ring[i]) && !(ring[i] <= max)) {
            max = ring[i];
        }
    }
    return max;
}

void sb_metrics_update(sb_metrics_t *m, const sb_second_t *s)
{
    int i, k;

    m->seconds_total++;
    if (s->gap) {
        m->gap_seconds_total++;
        return;
    }
    m->last = *s;
    memset(m->last.obs, 0, sizeof(m->last.obs));
    m->have_second = 1;
    if (!isnan(s->req_per_s)) {
        m->requests_total += s->req_per_s;
    }
    if (!isnan(s->conn_per_s)) {
        m->connections_total += s->conn_per_s;
    }
    if (!isnan(s->accepted_per_s)) {
        m->accepted_total += s->accepted_per_s;
    }
    if (!isnan(s->refused_per_s)) {
        m->refused_total += s->refused_per_s;
    }
    if (!isnan(s->listen_overflows)) {
        m->overflows_total += s->listen_overflows;
    }
    if (!isnan(s->kbytes_per_s)) {
        m->kbytes_total += s->kbytes_per_s;
    }
    ring_add(m, s);
    if (s->pss_total_bytes >= 0 && s->slots_total > 0 && !isnan(s->open_mean)
        && s->slots_total - s->open_mean >= 1) {
        /* as the minute rows of the history (lib/sb_rollup.c) */
        m->pss_per_worker = (int64_t)(s->pss_total_bytes / (s->slots_total - s->open_mean));
    }
    for (i = 0; i < SB_OBS_N; i++) {
        for (k = 0; k < s->obs[i].n; k++) {
            sb_hist_add(&m->hist[i], s->obs[i].v[k]);
        }
    }
}

void sb_metrics_set_clients(sb_metrics_t *m, int n, const char *const *clients,
                            const double *slots)
{
    int i;
    m->nclients = n < MAX_CLIENTS ? n : MAX_CLIENTS;
    for (i = 0; i < m->nclients; i++) {
        apr_cpystrn(m->clients[i], clients[i], sizeof(m->clients[i]));
        m->client_slots[i] = slots[i];
    }
}

/* A label value with \, " and newline escaped. */
static const char *label(apr_pool_t *p, const char *v)
{
    apr_size_t n = strlen(v), i, o = 0;
    char *out = apr_palloc(p, 2 * n + 1);
    for (i = 0; i < n; i++) {
        if (v[i] == '\\' || v[i] == '"') {
            out[o++] = '\\';
            out[o++] = v[i];
        }
        else if (v[i] == '\n') {
            out[o++] = '\\';
            out[o++] = 'n';
        }
        else {
            out[o++] = v[i];
        }
    }
    out[o] = '\0';
    return out;
}

typedef struct {
    apr_pool_t *p;
    char *buf;
    apr_size_t len, cap;
} out_t;

static void outf(out_t *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void outf(out_t *o, const char *fmt, ...)
{
    va_list ap;
    int n;

    for (;;) {
        va_start(ap, fmt);
        n = vsnprintf(o->buf + o->len, o->cap - o->len, fmt, ap);
        va_end(ap);
        if (n >= 0 && (apr_size_t)n < o->cap - o->len) {
            o->len += (apr_size_t)n;
            return;
        }
        {
            apr_size_t cap = o->cap * 2 + (apr_size_t)(n > 0 ? n : 0);
            char *nb = apr_palloc(o->p, cap);
            memcpy(nb, o->buf, o->len);
            o->buf = nb;
            o->cap = cap;
        }
    }
}

static void head(out_t *o, const char *name, const char *type, const char *help)
{
    outf(o, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void gauge(out_t *o, const char *name, const char *help, double v)
{
    if (isnan(v)) {
        return;
    }
    head(o, name, "gauge", help);
    outf(o, "%s %.17g\n", name, v);
}

static void counter(out_t *o, const char *name, const char *help, double v)
{
    head(o, name, "counter", help);
    outf(o, "%s %.17g\n", name, v);
}

static const struct {
    sb_obs_kind_t kind;
    const char *name;
    const char *help;
} histos[] = {
    { SB_OBS_KA_GAP, "sbtune_keepalive_gap_seconds",
      "Idle gaps on keep-alive connections that ended with another request." },
    { SB_OBS_KA_CLOSE, "sbtune_keepalive_close_idle_seconds",
      "Idle periods on keep-alive connections that ended with a close." },
    { SB_OBS_REQ_PER_CONN, "sbtune_connection_requests",
      "Requests served on a connection, counted when it closed." },
    { SB_OBS_SERVICE, "sbtune_request_service_seconds",
      "Service time of requests (start to end of the request)." },
    { SB_OBS_HOLD, "sbtune_connection_hold_seconds",
      "Time a connection held its worker slot (prefork, worker)." },
    { SB_OBS_LIFETIME, "sbtune_connection_lifetime_seconds",
      "A connection's life in the kernel, handshake to first close (eBPF source)." },
};

/*
 * A histogram in sb_hist's buckets (the history's: 4 per doubling from
 * 2^-10 to 2^12), so that sbtune reads from Prometheus the same
 * distribution the history stores.  Bucket i of sb_hist is [lo, hi): the
 * count at le="hi" is of the values below hi (a value equal to a bound
 * counts in the bucket above it).  The bounds print with 17 digits: they
 * parse back to the exact edges.
 */
static void histogram(out_t *o, const char *name, const char *help, const sb_hist_t *h)
{
    uint64_t cum = 0;
    int b;

    head(o, name, "histogram", help);
    for (b = 0; b + 1 < SB_HIST_NBUCKETS; b++) {
        cum += h->bucket[b];
        outf(o, "%s_bucket{le=\"%.17g\"} %llu\n", name, sb_hist_edge(b + 1),
             (unsigned long long)cum);
    }
    outf(o, "%s_bucket{le=\"+Inf\"} %llu\n%s_sum %.17g\n%s_count %llu\n", name,
         (unsigned long long)h->count, name, h->sum, name, (unsigned long long)h->count);
}

/* The settings httpd runs with, as far as the agent was told (options
 * max_request_workers, keepalive_timeout, threads_per_child), and the
 * host's memory. */
static void settings(out_t *o, const sb_metrics_t *m)
{
    const sb_metrics_settings_t *set = &m->set;

    if (set->max_request_workers > 0) {
        gauge(o, "sbtune_httpd_max_request_workers",
              "MaxRequestWorkers httpd runs with (sbagent's max_request_workers).",
              set->max_request_workers);
    }
    if (!isnan(set->keepalive_timeout)) {
        gauge(o, "sbtune_httpd_keepalive_timeout_seconds",
              "KeepAliveTimeout httpd runs with, 0 for KeepAlive Off (keepalive_timeout).",
              set->keepalive_timeout);
    }
    if (set->threads_per_child > 0) {
        gauge(o, "sbtune_httpd_threads_per_child",
              "ThreadsPerChild httpd runs with (threads_per_child).", set->threads_per_child);
    }
    if (m->mem_total > 0) {
        gauge(o, "sbtune_host_memory_total_bytes", "MemTotal of the host.",
              (double)m->mem_total);
    }
}

const char *sb_metrics_render(const sb_metrics_t *m, int export_clients, apr_pool_t *p)
{
    out_t o = { p, NULL, 0, 4096 };
    const sb_second_t *s = &m->last;
    apr_size_t i;

    o.buf = apr_palloc(p, o.cap);
    o.buf[0] = '\0';

    head(&o, "sbtune_up", "gauge",
         "1 when the last sample of httpd succeeded, 0 when httpd could not be read.");
    outf(&o, "sbtune_up %d\n", m->up);
    head(&o, "sbtune_source_info", "gauge", "The source of the slot figures (shm or status).");
    outf(&o, "sbtune_source_info{source=\"%s\"} 1\n", sb_source_name(m->source));
    if (m->version[0] || m->mpm[0]) {
        head(&o, "sbtune_httpd_info", "gauge", "The httpd being measured.");
        outf(&o, "sbtune_httpd_info{version=\"%s\",mpm=\"%s\"} 1\n", label(p, m->version),
             label(p, m->mpm));
    }
    if (m->generation >= 0) {
        gauge(&o, "sbtune_httpd_generation", "httpd's generation: +1 on every restart.",
              m->generation);
    }
    if (m->server_limit > 0) {
        gauge(&o, "sbtune_httpd_server_limit", "ServerLimit (process slots).", m->server_limit);
        gauge(&o, "sbtune_httpd_thread_limit", "ThreadLimit (worker slots per process).",
              m->thread_limit);
    }
    settings(&o, m);
    counter(&o, "sbtune_seconds_total", "Seconds the agent has closed.", (double)m->seconds_total);
    counter(&o, "sbtune_gap_seconds_total", "Seconds without any sample of httpd.",
            (double)m->gap_seconds_total);
    counter(&o, "sbtune_requests_total", "Requests httpd completed, counted by the agent.",
            m->requests_total);
    counter(&o, "sbtune_connections_total",
            "New clients whose handshake completed, accepted or not (see sbagent(8)).",
            m->connections_total);
    counter(&o, "sbtune_accepted_connections_total",
            "Of those, the connections httpd accepted (see sbagent(8)).",
            m->accepted_total);
    counter(&o, "sbtune_refused_total",
            "Connection attempts the kernel refused while httpd's accept queue was full.",
            m->refused_total);
    counter(&o, "sbtune_sent_bytes_total", "Bytes httpd served, counted by the agent.",
            m->kbytes_total * 1024);
    counter(&o, "sbtune_listen_overflows_total",
            "Connections the kernel refused because an accept queue was full (host-wide).",
            m->overflows_total);

    if (m->have_second) {
        static const struct {
            const char *state;
            apr_size_t off;
        } slots[] = {
            { "busy", offsetof(sb_second_t, busy_mean) },
            { "idle", offsetof(sb_second_t, idle_mean) },
            { "keepalive", offsetof(sb_second_t, keepalive_slots_mean) },
            { "reading", offsetof(sb_second_t, reading_mean) },
            { "writing", offsetof(sb_second_t, writing_mean) },
            { "closing", offsetof(sb_second_t, closing_mean) },
            { "graceful", offsetof(sb_second_t, graceful_mean) },
            { "open", offsetof(sb_second_t, open_mean) },
        };
        head(&o, "sbtune_slots", "gauge", "Worker slots per state, mean over the last second.");
        for (i = 0; i < sizeof(slots) / sizeof(slots[0]); i++) {
            double v = *(const double *)((const char *)s + slots[i].off);
            if (!isnan(v)) {
                outf(&o, "sbtune_slots{state=\"%s\"} %.17g\n", slots[i].state, v);
            }
        }
        gauge(&o, "sbtune_busy_slots_max", "Most busy worker slots in the last second.",
              s->busy_max);
        gauge(&o, "sbtune_keepalive_connections",
              "Idle keep-alive connections (kernel's view), mean over the last second.",
              s->keepalive_conns_mean);
        gauge(&o, "sbtune_requests_per_second", "Requests completed in the last second.",
              s->req_per_s);
        gauge(&o, "sbtune_connections_per_second",
              "New clients in the last second, accepted or not (estimate).", s->conn_per_s);
        gauge(&o, "sbtune_accepted_connections_per_second",
              "Connections httpd accepted in the last second (estimate).", s->accepted_per_s);
        gauge(&o, "sbtune_listen_queue_length",
              "Clients waiting in the accept queues, most in the last second.",
              s->listen_queue_max);
        gauge(&o, "sbtune_connections_per_second_max60s",
              "Highest sbtune_connections_per_second of the last 60 measured seconds.",
              ring_max(m, m->ring_conn));
        gauge(&o, "sbtune_busy_slots_max60s",
              "Highest sbtune_busy_slots_max of the last 60 measured seconds.",
              ring_max(m, m->ring_busy));
        gauge(&o, "sbtune_listen_queue_length_max60s",
              "Highest sbtune_listen_queue_length of the last 60 measured seconds.",
              ring_max(m, m->ring_lq));
        if (m->pss_per_worker >= 0) {
            gauge(&o, "sbtune_pss_per_worker_bytes",
                  "httpd's PSS divided by its slots with a process (not open).",
                  (double)m->pss_per_worker);
        }
        if (s->pss_total_bytes >= 0) {
            gauge(&o, "sbtune_httpd_pss_bytes",
                  "Proportional set size of httpd's processes together.",
                  (double)s->pss_total_bytes);
        }
        if (s->mem_available_bytes >= 0) {
            gauge(&o, "sbtune_host_memory_available_bytes", "MemAvailable of the host.",
                  (double)s->mem_available_bytes);
        }
    }
    for (i = 0; i < sizeof(histos) / sizeof(histos[0]); i++) {
        sb_obs_kind_t k = histos[i].kind;
        histogram(&o, histos[i].name, histos[i].help, &m->hist[k]);
        /* Prometheus keeps no extremes; sbtune reads them from these */
        gauge(&o, apr_pstrcat(p, histos[i].name, "_min60s", NULL),
              "Smallest value the histogram counted in the last 60 measured seconds.",
              ring_min(m, m->ring_obs_min[k]));
        gauge(&o, apr_pstrcat(p, histos[i].name, "_max60s", NULL),
              "Largest value the histogram counted in the last 60 measured seconds.",
              ring_max(m, m->ring_obs_max[k]));
    }
    if (export_clients && m->nclients > 0) {
        int c;
        head(&o, "sbtune_client_slots", "gauge",
             "Worker slots held per client address (export_clients is on).");
        for (c = 0; c < m->nclients; c++) {
            outf(&o, "sbtune_client_slots{client=\"%s\"} %.17g\n", label(p, m->clients[c]),
                 m->client_slots[c]);
        }
    }
    return o.buf;
}
