#include "config.h"
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <apr_strings.h>
#include "sb_metrics.h"

const double sb_metrics_buckets[] = {
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, INFINITY
};
const int sb_metrics_nbuckets = (int)(sizeof(sb_metrics_buckets) / sizeof(sb_metrics_buckets[0]));

#define NB ((int)(sizeof(sb_metrics_buckets) / sizeof(sb_metrics_buckets[0])))
#define MAX_CLIENTS 64

typedef struct {
    uint64_t bucket[NB];        /* cumulative counts per upper bound */
    double sum;
    uint64_t count;
} histo_t;

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
    histo_t hist[SB_OBS_N];
    int nclients;
    char clients[MAX_CLIENTS][64];
    double client_slots[MAX_CLIENTS];
};

sb_metrics_t *sb_metrics_create(apr_pool_t *p)
{
    sb_metrics_t *m = apr_pcalloc(p, sizeof(*m));
    m->pool = p;
    m->generation = -1;
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

void sb_metrics_update(sb_metrics_t *m, const sb_second_t *s)
{
    int i, k, b;

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
    for (i = 0; i < SB_OBS_N; i++) {
        histo_t *h = &m->hist[i];
        for (k = 0; k < s->obs[i].n; k++) {
            double v = s->obs[i].v[k];
            for (b = 0; b < NB; b++) {
                if (v <= sb_metrics_buckets[b]) {
                    h->bucket[b]++;
                }
            }
            h->sum += v;
            h->count++;
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
    { SB_OBS_SERVICE, "sbtune_request_service_seconds",
      "Service time of requests (start to end of the request)." },
    { SB_OBS_HOLD, "sbtune_connection_hold_seconds",
      "Time a connection held its worker slot (prefork, worker)." },
    { SB_OBS_LIFETIME, "sbtune_connection_lifetime_seconds",
      "A connection's life in the kernel, handshake to first close (eBPF source)." },
};

const char *sb_metrics_render(const sb_metrics_t *m, int export_clients, apr_pool_t *p)
{
    out_t o = { p, NULL, 0, 4096 };
    const sb_second_t *s = &m->last;
    apr_size_t i;
    int b;

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
        const histo_t *h = &m->hist[histos[i].kind];
        head(&o, histos[i].name, "histogram", histos[i].help);
        for (b = 0; b < NB; b++) {
            if (isinf(sb_metrics_buckets[b])) {
                outf(&o, "%s_bucket{le=\"+Inf\"} %llu\n", histos[i].name,
                     (unsigned long long)h->bucket[b]);
            }
            else {
                outf(&o, "%s_bucket{le=\"%g\"} %llu\n", histos[i].name, sb_metrics_buckets[b],
                     (unsigned long long)h->bucket[b]);
            }
        }
        outf(&o, "%s_sum %.17g\n%s_count %llu\n", histos[i].name, h->sum, histos[i].name,
             (unsigned long long)h->count);
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
