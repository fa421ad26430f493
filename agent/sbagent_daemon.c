/*
 * sbagent_daemon.c - the measuring daemon: samples the sources on absolute
 * deadlines, turns the samples into per-second figures and hands them to
 * the outputs (JSON on stdout, history, metrics).
 */
#include "config.h"
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include <apr_hash.h>
#include <apr_strings.h>

#include "sb_conntrack.h"
#include "sb_estimator.h"
#include "sb_httpd.h"
#include "sb_kernel.h"
#include "sb_procmem.h"
#include "sb_rollup.h"
#include "sb_json.h"
#include "sb_metrics.h"
#include "sbagent_export.h"
#include "sbagent_privs.h"
#include "sb_shm.h"
#include "sb_status.h"
#include "sbagent.h"

static volatile sig_atomic_t got_stop;
static volatile sig_atomic_t got_hup;

static void on_signal(int sig)
{
    if (sig == SIGHUP) {
        got_hup = 1;
    }
    else {
        got_stop = sig;
    }
}

/* ------------------------------------------------------------- logging */

static const char *const level_names[] = { "error", "warning", "notice", "info", "debug" };
static const int level_syslog[] = { LOG_ERR, LOG_WARNING, LOG_NOTICE, LOG_INFO, LOG_DEBUG };
enum { L_ERROR, L_WARNING, L_NOTICE, L_INFO, L_DEBUG };

typedef struct {
    int level;
    int use_syslog;
} sb_log_t;

static sb_log_t logger = { L_NOTICE, 0 };

static void log_configure(const sb_config_t *cfg)
{
    int i;
    for (i = 0; i < 5; i++) {
        if (strcmp(cfg->log_level, level_names[i]) == 0) {
            logger.level = i;
        }
    }
    if (strcmp(cfg->log, "syslog") == 0 && !logger.use_syslog) {
        openlog("sbagent", LOG_PID, LOG_DAEMON);
        logger.use_syslog = 1;
    }
    else if (strcmp(cfg->log, "syslog") != 0 && logger.use_syslog) {
        closelog();
        logger.use_syslog = 0;
    }
}

static void logmsg(int level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void logmsg(int level, const char *fmt, ...)
{
    va_list ap;
    char buf[1024];

    if (level > logger.level) {
        return;
    }
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    if (logger.use_syslog) {
        syslog(level_syslog[level], "%s", buf);
    }
    else {
        fprintf(stderr, "sbagent: %s: %s\n", level_names[level], buf);
    }
}

/* ------------------------------------------------------------- clients */

/* Slots held per client address: per second (metrics, with export_clients
 * only) and per minute (history, kept on the host). */
typedef struct {
    char client[64];
    double slot_seconds;        /* this minute */
    int max_slots;              /* this minute */
    double second_sum;          /* slots summed over this second's samples */
} client_acc_t;

typedef struct {
    apr_pool_t *pool;           /* cleared every minute */
    apr_hash_t *map;            /* client -> client_acc_t */
    int64_t minute;
    int64_t second;
    int second_samples;
} clients_t;

static void clients_init(clients_t *c, apr_pool_t *parent)
{
    apr_pool_create(&c->pool, parent);
    c->map = apr_hash_make(c->pool);
    c->minute = -1;
    c->second = -1;
}

/* Publish the last second's per-client slots to the metrics. */
static void clients_close_second(clients_t *c, sb_metrics_t *m)
{
    const char *names[64];
    double slots[64];
    int n = 0;
    apr_hash_index_t *hi;

    for (hi = apr_hash_first(NULL, c->map); hi && n < 64; hi = apr_hash_next(hi)) {
        client_acc_t *a = apr_hash_this_val(hi);
        if (a->second_sum > 0 && c->second_samples > 0) {
            names[n] = a->client;
            slots[n] = a->second_sum / c->second_samples;
            n++;
        }
        a->second_sum = 0;
    }
    sb_metrics_set_clients(m, n, names, slots);
    c->second_samples = 0;
}

/* Hand the minute's rows to the history and start a new minute. */
static void clients_close_minute(clients_t *c, sb_history_t *h)
{
    apr_hash_index_t *hi;
    int n = 0, cap = (int)apr_hash_count(c->map);
    sb_hist_client_t *rows = apr_palloc(c->pool, sizeof(*rows) * (apr_size_t)(cap + 1));

    for (hi = apr_hash_first(NULL, c->map); hi; hi = apr_hash_next(hi)) {
        client_acc_t *a = apr_hash_this_val(hi);
        if (a->slot_seconds > 0) {
            rows[n].ts = c->minute;
            rows[n].client = a->client;
            rows[n].slot_seconds = a->slot_seconds;
            rows[n].max_slots = a->max_slots;
            n++;
        }
    }
    if (h && n > 0) {
        sb_history_put_clients(h, c->minute, rows, n);
    }
    apr_pool_clear(c->pool);
    c->map = apr_hash_make(c->pool);
}

static void clients_add(clients_t *c, const sb_sample_t *s, double period_s,
                        sb_history_t *h, sb_metrics_t *m)
{
    int64_t sec = (int64_t)apr_time_sec(s->ts), minute = sec - sec % 60;
    int i;

    if (c->second >= 0 && sec != c->second) {
        clients_close_second(c, m);
    }
    if (c->minute >= 0 && minute != c->minute) {
        clients_close_minute(c, h);
    }
    c->second = sec;
    c->minute = minute;
    c->second_samples++;
    {
        apr_hash_t *now = apr_hash_make(c->pool);
        for (i = 0; i < s->nworkers; i++) {
            const sb_worker_t *w = &s->workers[i];
            client_acc_t *a;
            int *cnt;
            if (!w->client[0] || w->state >= SB_SLOT_NSTATES || !sb_slot_table[w->state].busy) {
                continue;
            }
            a = apr_hash_get(c->map, w->client, APR_HASH_KEY_STRING);
            if (!a) {
                a = apr_pcalloc(c->pool, sizeof(*a));
                apr_cpystrn(a->client, w->client, sizeof(a->client));
                apr_hash_set(c->map, a->client, APR_HASH_KEY_STRING, a);
            }
            a->slot_seconds += period_s;
            a->second_sum += 1;
            cnt = apr_hash_get(now, a->client, APR_HASH_KEY_STRING);
            if (!cnt) {
                cnt = apr_pcalloc(c->pool, sizeof(*cnt));
                apr_hash_set(now, a->client, APR_HASH_KEY_STRING, cnt);
            }
            if (++*cnt > a->max_slots) {
                a->max_slots = *cnt;
            }
        }
    }
}

/* ------------------------------------------------------------- outputs */

typedef struct {
    const sb_agent_cli_t *cli;
    const sb_config_t *cfg;
    apr_pool_t *pool;
    apr_pool_t *render_pool;
    sb_json_t *json;
    sb_metrics_t *metrics;
    sb_export_t *http;
    long seconds;
    char textfile_err[512];
    sb_history_t *history;      /* NULL without --history */
    sb_rollup_t *rollup;
    char history_err[512];
    int history_failing;
} outputs_t;

/* Buffer a history row; errors are said once (rows stay buffered). */
static void history_put_second(outputs_t *o, const sb_second_t *s)
{
    sb_hist_second_t row;
    sb_hist_minute_t min;

    sb_rollup_second_row(s, &row);
    sb_history_put_second(o->history, &row);
    if (sb_rollup_add(o->rollup, s, &min)) {
        sb_history_put_minute(o->history, &min);
    }
}

static void history_event(outputs_t *o, const char *kind, const char *detail)
{
    sb_hist_event_t ev;
    if (!o->history) {
        return;
    }
    ev.ts = (int64_t)apr_time_sec(apr_time_now());
    ev.kind = kind;
    ev.detail = detail;
    sb_history_put_event(o->history, &ev);
}

/* Write the buffered rows; a full disk or a lock is logged once, sampling
 * goes on and the rows wait for the next flush. */
static void history_flush(outputs_t *o)
{
    apr_status_t rv;

    if (!o->history) {
        return;
    }
    rv = sb_history_flush(o->history);
    if (rv != APR_SUCCESS) {
        if (!o->history_failing || strcmp(o->history_err, sb_history_error(o->history)) != 0) {
            logmsg(L_ERROR, "history: %s (%lu rows waiting; sampling goes on)",
                   sb_history_error(o->history),
                   (unsigned long)sb_history_pending(o->history));
            apr_cpystrn(o->history_err, sb_history_error(o->history), sizeof(o->history_err));
        }
        o->history_failing = 1;
    }
    else if (o->history_failing) {
        logmsg(L_NOTICE, "history: writing again (%llu rows were dropped meanwhile)",
               (unsigned long long)sb_history_dropped(o->history));
        o->history_failing = 0;
    }
}

/* Render the metrics once and hand them to the endpoint and the textfile. */
static void publish_metrics(outputs_t *o)
{
    const char *text;

    if (!o->http && !o->cfg->textfile[0]) {
        return;
    }
    apr_pool_clear(o->render_pool);
    text = sb_metrics_render(o->metrics, o->cfg->export_clients, o->render_pool);
    if (o->http) {
        sb_export_publish(o->http, text);
    }
    if (o->cfg->textfile[0]) {
        char err[512];
        if (sb_export_write_textfile(o->cfg->textfile, text, err, sizeof(err)) != 0) {
            if (strcmp(err, o->textfile_err) != 0) {
                logmsg(L_WARNING, "%s", err);
                apr_cpystrn(o->textfile_err, err, sizeof(o->textfile_err));
            }
        }
        else {
            o->textfile_err[0] = '\0';
        }
    }
}

static void json_num(sb_json_t *j, const char *key, double v)
{
    if (isnan(v)) {
        sb_json_null(j, key);
    }
    else {
        sb_json_double(j, key, v);
    }
}

static void on_second(const sb_second_t *s, void *baton)
{
    outputs_t *o = baton;

    o->seconds++;
    sb_metrics_update(o->metrics, s);
    publish_metrics(o);
    if (o->history) {
        history_put_second(o, s);
    }
    if (o->cli->json) {
        sb_json_t *j = o->json;
        int i;
        sb_json_reset(j);
        sb_json_object_begin(j, NULL);
        sb_json_int(j, "ts", s->ts);
        sb_json_string(j, "source", s->gap ? NULL : sb_source_name(s->source));
        sb_json_bool(j, "gap", s->gap);
        sb_json_int(j, "samples", s->samples);
        sb_json_int_or_null(j, "generation", s->gap ? SB_UNKNOWN : s->generation);
        json_num(j, "req_per_s", s->req_per_s);
        json_num(j, "conn_per_s", s->conn_per_s);
        json_num(j, "conn_per_s_kernel", s->conn_per_s_kernel);
        json_num(j, "conn_per_s_scoreboard", s->conn_per_s_scoreboard);
        json_num(j, "req_per_s_kernel", s->req_per_s_kernel);
        json_num(j, "closed_by_client_kernel", s->closed_by_client_kernel);
        json_num(j, "busy_mean", s->busy_mean);
        json_num(j, "busy_max", s->busy_max);
        json_num(j, "idle_mean", s->idle_mean);
        json_num(j, "keepalive_slots_mean", s->keepalive_slots_mean);
        json_num(j, "keepalive_slots_max", s->keepalive_slots_max);
        json_num(j, "keepalive_conns_mean", s->keepalive_conns_mean);
        json_num(j, "keepalive_conns_max", s->keepalive_conns_max);
        json_num(j, "reading_mean", s->reading_mean);
        json_num(j, "writing_mean", s->writing_mean);
        json_num(j, "closing_mean", s->closing_mean);
        json_num(j, "graceful_mean", s->graceful_mean);
        json_num(j, "open_mean", s->open_mean);
        json_num(j, "kbytes_per_s", s->kbytes_per_s);
        json_num(j, "listen_queue_max", s->listen_queue_max);
        json_num(j, "listen_overflows", s->listen_overflows);
        sb_json_int_or_null(j, "pss_total_bytes", s->pss_total_bytes < 0 ? SB_UNKNOWN : s->pss_total_bytes);
        sb_json_int_or_null(j, "mem_available_bytes",
                            s->mem_available_bytes < 0 ? SB_UNKNOWN : s->mem_available_bytes);
        sb_json_object_begin(j, "observations");
        for (i = 0; i < SB_OBS_N; i++) {
            int k;
            sb_json_array_begin(j, sb_obs_names[i]);
            for (k = 0; k < s->obs[i].n; k++) {
                sb_json_double(j, NULL, s->obs[i].v[k]);
            }
            sb_json_array_end(j);
        }
        sb_json_object_end(j);
        sb_json_object_end(j);
        puts(sb_json_text(j, NULL));
        fflush(stdout);
    }
}

/* ------------------------------------------------------------- sources */

typedef struct {
    const sb_config_t *cfg;
    const sb_agent_cli_t *cli;
    apr_pool_t *pool;
    sb_shm_t *shm;              /* NULL without --scoreboard */
    int shm_ok;                 /* the last shm sample succeeded */
    int using_status;           /* falling back to (or only) mod_status */
    int status_have_last;
    int status_generation;
    apr_time_t status_restart;
    char last_err[512];
    int was_down;               /* the last attempt failed (for events) */
    /* kernel */
    sb_kernel_t *kernel;
    sb_conntrack_t *conntrack;
    sb_kernel_ports_t ports;
    int have_ports;
    int kernel_failed;          /* said once */
    char kernel_err[512];
    /* httpd's processes */
    pid_t parent;
    int ka_from_kernel;         /* keep-alive observations come from the kernel */
    int memory_denied;          /* said once */
    sb_estimator_t *est;
} sources_t;



/* Find httpd's parent: the PidFile if configured, else the parent of a
 * child named by the latest sample. */
static void find_parent(sources_t *src, const sb_sample_t *s)
{
    pid_t p = sb_httpd_find_parent(src->cfg->httpd_pidfile, s);

    if (p && p != src->parent) {
        src->parent = p;
        logmsg(L_INFO, "httpd's parent process is %d", (int)p);
    }
}


static void kernel_obs(void *baton, apr_time_t ts, sb_obs_kind_t kind, double v)
{
    sources_t *src = baton;
    if (src->ka_from_kernel) {
        sb_estimator_add_obs(src->est, ts, kind, v);
    }
}

/* One kernel sample into the estimator; quiet after the first failure. */
static void sample_kernel(sources_t *src, apr_pool_t *p)
{
    sb_kernel_sample_t *ks;
    sb_kernel_view_t view;
    apr_status_t rv;

    if (!src->kernel) {
        rv = sb_kernel_open(&src->kernel, src->pool);
        if (rv != APR_SUCCESS) {
            if (!src->kernel_failed) {
                logmsg(L_WARNING, "kernel source off: %s", sb_kernel_error(src->kernel));
                src->kernel_failed = 1;
            }
            src->kernel = NULL;
            return;
        }
        src->conntrack = sb_conntrack_create(src->pool, kernel_obs, src);
    }
    if (!src->have_ports) {
        if (!src->parent) {
            return;
        }
        rv = sb_kernel_listen_ports_of_pid(src->kernel, src->parent, &src->ports);
        if (rv != APR_SUCCESS && rv != APR_ENOSPC) {
            if (strcmp(src->kernel_err, sb_kernel_error(src->kernel)) != 0) {
                logmsg(L_WARNING, "cannot find httpd's listen ports (give --ports): %s",
                       sb_kernel_error(src->kernel));
                apr_cpystrn(src->kernel_err, sb_kernel_error(src->kernel), sizeof(src->kernel_err));
            }
            return;
        }
        src->have_ports = 1;
        logmsg(L_INFO, "watching %d listen port(s) of httpd, the first %u",
               src->ports.nports, src->ports.port[0]);
    }
    rv = sb_kernel_sample(src->kernel, &src->ports, p, &ks);
    if (rv != APR_SUCCESS) {
        if (strcmp(src->kernel_err, sb_kernel_error(src->kernel)) != 0) {
            logmsg(L_WARNING, "kernel sample failed: %s", sb_kernel_error(src->kernel));
            apr_cpystrn(src->kernel_err, sb_kernel_error(src->kernel), sizeof(src->kernel_err));
        }
        return;
    }
    src->kernel_err[0] = '\0';
    sb_conntrack_update(src->conntrack, ks, &view);
    sb_estimator_add_kernel(src->est, &view);
}

/* PSS of httpd's processes together and the host's MemAvailable. */
static void sample_memory(sources_t *src, apr_pool_t *p)
{
    sb_hostmem_t hm;
    int64_t pss = -1, avail = -1;

    if (sb_procmem_host(&hm) == APR_SUCCESS) {
        avail = (int64_t)hm.mem_available;
    }
    if (src->parent > 0) {
        pid_t *kids;
        int n, i;
        sb_procmem_t pm;
        if (sb_procmem_children(src->parent, p, &kids, &n) == APR_SUCCESS) {
            apr_status_t rv = sb_procmem_read(src->parent, &pm);
            /* a child may exit meanwhile (ESRCH); no permission: unknown */
            pss = rv == APR_SUCCESS ? (int64_t)pm.pss : 0;
            for (i = 0; i < n && !APR_STATUS_IS_EACCES(rv); i++) {
                rv = sb_procmem_read(kids[i], &pm);
                if (rv == APR_SUCCESS) {
                    pss += (int64_t)pm.pss;
                }
            }
            if (APR_STATUS_IS_EACCES(rv)) {
                if (!src->memory_denied) {
                    logmsg(L_WARNING, "memory of httpd's processes unknown: %s", pm.error);
                    src->memory_denied = 1;
                }
                pss = -1;
            }
        }
    }
    sb_estimator_set_memory(src->est, pss, avail);
}

static void say_once(sources_t *src, int level, const char *msg)
{
    if (strcmp(src->last_err, msg) != 0) {
        logmsg(level, "%s", msg);
        apr_cpystrn(src->last_err, msg, sizeof(src->last_err));
    }
}

static const char *event_text(int events)
{
    if (events & SB_SHM_EV_REATTACHED) {
        return "httpd was stopped and started: attached its new scoreboard";
    }
    if (events & SB_SHM_EV_RESTARTED) {
        return "httpd restarted (full restart): slots and counters cleared";
    }
    if (events & SB_SHM_EV_GENERATION) {
        return "httpd restarted gracefully: generation changed";
    }
    return NULL;
}

static apr_status_t sample_shm(sources_t *src, apr_pool_t *p, sb_sample_t **out, int *events)
{
    apr_status_t rv;

    if (!src->shm) {
        rv = sb_shm_open(&src->shm, src->cfg->scoreboard, src->pool);
        if (rv != APR_SUCCESS) {
            say_once(src, L_WARNING, sb_shm_error(src->shm));
            src->shm = NULL;
            return rv;
        }
    }
    rv = sb_shm_sample(src->shm, p, out);
    if (rv != APR_SUCCESS) {
        say_once(src, L_WARNING, sb_shm_error(src->shm));
        return rv;
    }
    *events = sb_shm_events(src->shm);
    src->last_err[0] = '\0';
    return APR_SUCCESS;
}

static apr_status_t sample_status(sources_t *src, apr_pool_t *p, sb_sample_t **out, int *events)
{
    char err[512];
    sb_status_report_t rep;
    apr_status_t rv = sb_status_fetch(&src->cli->sopts, p, out, &rep, err, sizeof(err));

    *events = 0;
    if (rv != APR_SUCCESS) {
        say_once(src, L_WARNING, err);
        return rv;
    }
    if (src->status_have_last && (*out)->server.generation != src->status_generation) {
        *events |= SB_SHM_EV_GENERATION;
    }
    if (src->status_have_last && (*out)->server.restart_time != src->status_restart) {
        *events |= SB_SHM_EV_RESTARTED;
    }
    src->status_have_last = 1;
    src->status_generation = (*out)->server.generation;
    src->status_restart = (*out)->server.restart_time;
    src->last_err[0] = '\0';
    return APR_SUCCESS;
}

/* ------------------------------------------------------------- main loop */

static apr_interval_time_t period_of(double hz)
{
    return (apr_interval_time_t)(APR_USEC_PER_SEC / hz);
}

int sbagent_daemon(const sb_config_t *cfg_in, const sb_agent_cli_t *cli, apr_pool_t *pool)
{
    sb_config_t cfg = *cfg_in;
    sources_t src;
    outputs_t out;
    clients_t clients;
    sb_estimator_t *est;
    apr_pool_t *iter;
    struct sigaction sa;
    apr_time_t start = apr_time_now(), now;
    apr_time_t next_shm, next_status, next_kernel, next_mem, next_flush, next_prune;
    apr_interval_time_t shm_period, status_period, kernel_period;
    int rc = SB_EXIT_OK, had_sample = 0;

    log_configure(&cfg);
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    memset(&src, 0, sizeof(src));
    src.cfg = &cfg;
    src.cli = cli;
    src.pool = pool;
    memset(&out, 0, sizeof(out));
    out.cli = cli;
    out.cfg = &cfg;
    out.pool = pool;
    out.json = sb_json_create(pool);
    out.metrics = sb_metrics_create(pool);
    apr_pool_create(&out.render_pool, pool);
    est = sb_estimator_create(pool, on_second, &out);
    clients_init(&clients, pool);
    src.est = est;
    apr_pool_create(&iter, pool);
    if (cfg.ports[0]) {
        char err[256];
        if (sb_httpd_parse_ports(cfg.ports, &src.ports, err, sizeof(err)) != 0) {
            logmsg(L_ERROR, "%s", err);
            return SB_EXIT_USAGE;
        }
        src.have_ports = 1;
    }

    if (cfg.user[0]) {
        /* Attach, find httpd's parent and its ports while still root, then
         * drop to the user keeping only CAP_DAC_OVERRIDE (to reattach a
         * new root-owned segment after a stop and start).  Before any
         * thread exists: capabilities are per thread. */
        char err[512], who[256];
        sb_sample_t *first = NULL;
        int ev;
        if (cfg.scoreboard[0] && sample_shm(&src, iter, &first, &ev) == APR_SUCCESS) {
            find_parent(&src, first);
        }
        if (cfg.kernel_hz > 0) {
            sample_kernel(&src, iter);
        }
        if (sb_privs_drop(cfg.user, SB_CAP_DEFAULT, err, sizeof(err)) != 0) {
            logmsg(L_ERROR, "cannot drop privileges to %s: %s", cfg.user, err);
            return SB_EXIT_FAILURE;
        }
        sb_privs_describe(who, sizeof(who));
        logmsg(L_NOTICE, "running as %s", who);
    }
    if (cfg.history[0]) {
        apr_status_t hrv = sb_history_open(&out.history, cfg.history, SB_HISTORY_WRITE, pool);
        if (hrv != APR_SUCCESS) {
            logmsg(L_ERROR, "%s", sb_history_error(out.history));
            return SB_EXIT_USAGE;
        }
        out.rollup = sb_rollup_create(pool);
        history_event(&out, "start", "sbagent started");
    }
    if (cfg.listen[0]) {
        char err[512];
        struct sockaddr_storage ss;
        int loopback = 0;
        out.http = sb_export_start(cfg.listen, err, sizeof(err));
        if (!out.http) {
            logmsg(L_ERROR, "%s", err);
            return SB_EXIT_USAGE;
        }
        sb_export_parse_listen(cfg.listen, &ss, &loopback, err, sizeof(err));
        logmsg(loopback ? L_INFO : L_WARNING, "serving metrics on http://%s/metrics%s",
               cfg.listen, loopback ? "" : " (not loopback: reachable from other hosts)");
    }

    shm_period = period_of(cfg.shm_hz);
    status_period = (apr_interval_time_t)(cfg.status_interval * APR_USEC_PER_SEC);
    src.using_status = !cfg.scoreboard[0];
    kernel_period = cfg.kernel_hz > 0 ? period_of(cfg.kernel_hz) : 0;
    next_shm = next_status = next_kernel = next_mem = start;
    next_flush = start + apr_time_from_sec(2);
    next_prune = start + apr_time_from_sec(60);
    logmsg(L_NOTICE, "started: %s%s%s", cfg.scoreboard[0] ? "scoreboard " : "mod_status ",
           cfg.scoreboard[0] ? cfg.scoreboard : cfg.status_url,
           cfg.scoreboard[0] && cfg.status_url[0] ? " (mod_status as fallback)" : "");

    while (!got_stop) {
        sb_sample_t *s = NULL;
        int events = 0;
        apr_time_t wake;

        now = apr_time_now();
        if (cli->duration > 0 && now - start >= cli->duration) {
            break;
        }
        if (got_hup) {
            got_hup = 0;
            if (cli->config_file) {
                sb_config_t fresh;
                const char *file = cli->config_file;
                char err[1024];
                if (sb_config_resolve(&fresh, pool, &file, NULL, cli->cmdline, SB_PROG_AGENT,
                                      err, sizeof(err)) != 0) {
                    logmsg(L_ERROR, "SIGHUP: %s; keeping the running configuration", err);
                }
                else {
                    cfg = fresh;
                    log_configure(&cfg);
                    shm_period = period_of(cfg.shm_hz);
                    status_period = (apr_interval_time_t)(cfg.status_interval * APR_USEC_PER_SEC);
                    logmsg(L_NOTICE, "SIGHUP: reloaded %s", cli->config_file);
                }
            }
            else {
                logmsg(L_NOTICE, "SIGHUP: no configuration file to reload");
            }
        }

        apr_pool_clear(iter);
        if (cfg.scoreboard[0] && now >= next_shm) {
            next_shm += shm_period;
            if (next_shm <= now) {
                next_shm = now + shm_period;   /* fell behind: skip, no burst */
            }
            if (sample_shm(&src, iter, &s, &events) == APR_SUCCESS) {
                if (src.using_status && cfg.status_url[0]) {
                    logmsg(L_NOTICE, "the scoreboard is readable again: back to shared memory");
                }
                src.using_status = 0;
            }
            else if (cfg.status_url[0] && !src.using_status) {
                logmsg(L_NOTICE, "falling back to mod_status at %s", cfg.status_url);
                src.using_status = 1;
                next_status = now;
            }
        }
        if (!s && src.using_status && cfg.status_url[0] && now >= next_status) {
            next_status += status_period;
            if (next_status <= now) {
                next_status = now + status_period;
            }
            sample_status(&src, iter, &s, &events);
        }
        if (s) {
            const char *ev = event_text(events);
            if (ev) {
                logmsg(L_NOTICE, "%s", ev);
                history_event(&out, (events & SB_SHM_EV_REATTACHED) ? "reattach"
                              : (events & SB_SHM_EV_RESTARTED) ? "restart" : "graceful", ev);
            }
            if (src.was_down) {
                history_event(&out, "start", "httpd answers again");
                src.was_down = 0;
            }
            if (s->extended_status == 0 && !had_sample) {
                logmsg(L_WARNING, "ExtendedStatus is Off: requests/s and connection figures "
                       "are unknown; remove 'ExtendedStatus Off' and stop and start httpd");
            }
            had_sample = 1;
            if (!src.parent || (events & (SB_SHM_EV_REATTACHED | SB_SHM_EV_RESTARTED))) {
                find_parent(&src, s);
            }
            src.ka_from_kernel = !(s->source == SB_SOURCE_SHM
                                   && (strcmp(s->server.mpm, "prefork") == 0
                                       || strcmp(s->server.mpm, "worker") == 0));
            sb_metrics_set_server(out.metrics, s->server.version, s->server.mpm,
                                  s->server.generation, s->server.server_limit,
                                  s->server.thread_limit);
            sb_metrics_set_up(out.metrics, 1, s->source);
            sb_estimator_add_sample(est, s, events);
            if (s->source == SB_SOURCE_SHM && s->extended_status == 1) {
                clients_add(&clients, s, (double)shm_period / APR_USEC_PER_SEC, out.history,
                            out.metrics);
            }
        }
        else if (src.last_err[0]) {
            sb_metrics_set_up(out.metrics, 0, src.using_status ? SB_SOURCE_STATUS : SB_SOURCE_SHM);
            if (!src.was_down) {
                history_event(&out, "stop", src.last_err);
                src.was_down = 1;
            }
        }
        if (out.history && apr_time_now() >= next_flush) {
            next_flush = apr_time_now() + apr_time_from_sec(2);
            history_flush(&out);
        }
        if (out.history && apr_time_now() >= next_prune) {
            next_prune = apr_time_now() + apr_time_from_sec(600);
            if (sb_history_prune(out.history, apr_time_now(), cfg.keep_seconds_hours,
                                 cfg.keep_minutes_days) != APR_SUCCESS) {
                logmsg(L_WARNING, "history prune: %s", sb_history_error(out.history));
            }
        }
        if (kernel_period > 0 && apr_time_now() >= next_kernel) {
            next_kernel += kernel_period;
            if (next_kernel <= apr_time_now()) {
                next_kernel = apr_time_now() + kernel_period;
            }
            sample_kernel(&src, iter);
        }
        if (apr_time_now() >= next_mem) {
            next_mem = apr_time_now() + apr_time_from_sec(5);
            sample_memory(&src, iter);
        }
        sb_estimator_tick(est, apr_time_now(), apr_time_from_msec(200));

        /* sleep until the next deadline (signals interrupt the sleep) */
        wake = next_shm;
        if (!cfg.scoreboard[0] || (src.using_status && next_status < wake)) {
            wake = next_status;
        }
        if (!cfg.scoreboard[0]) {
            wake = next_status;
        }
        if (kernel_period > 0 && next_kernel < wake) {
            wake = next_kernel;
        }
        if (wake > apr_time_now() + apr_time_from_msec(250)) {
            wake = apr_time_now() + apr_time_from_msec(250);   /* close seconds on time */
        }
        if (cli->duration > 0 && wake > start + cli->duration) {
            wake = start + cli->duration;
        }
        now = apr_time_now();
        if (wake > now) {
            apr_sleep(wake - now);
        }
    }
    sb_estimator_tick(est, apr_time_now(), 0);
    if (out.history) {
        sb_hist_minute_t min;
        if (sb_rollup_flush(out.rollup, &min)) {
            sb_history_put_minute(out.history, &min);
        }
        history_event(&out, "stop", got_stop ? "sbagent stopped by a signal" : "sbagent stopped");
        history_flush(&out);
        sb_history_close(out.history);
    }
    if (got_stop) {
        logmsg(L_NOTICE, "signal %d: flushed and stopping", (int)got_stop);
    }
    if (src.shm) {
        sb_shm_close(src.shm);
    }
    sb_export_stop(out.http);
    if (!had_sample) {
        logmsg(L_ERROR, "no sample could be taken");
        rc = SB_EXIT_UNAVAILABLE;
    }
    return rc;
}
