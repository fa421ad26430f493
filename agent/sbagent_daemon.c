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
#include "sb_source.h"
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
    apr_time_t history_said;    /* when the failure was last logged */
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
        /* once when writing stops (SQLite's words for one full disk vary
         * from flush to flush), then a reminder every 10 minutes */
        apr_time_t now = apr_time_now();
        if (!o->history_failing || now - o->history_said > apr_time_from_sec(600)) {
            logmsg(L_ERROR, "history: %s (%lu rows waiting, %llu dropped; sampling goes on)",
                   sb_history_error(o->history),
                   (unsigned long)sb_history_pending(o->history),
                   (unsigned long long)sb_history_dropped(o->history));
            apr_cpystrn(o->history_err, sb_history_error(o->history), sizeof(o->history_err));
            o->history_said = now;
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
        json_num(j, "accepted_per_s", s->accepted_per_s);
        json_num(j, "conn_per_s_bpf", s->conn_per_s_bpf);
        json_num(j, "refused_per_s", s->refused_per_s);
        json_num(j, "closed_by_server_bpf", s->closed_by_server_bpf);
        json_num(j, "closed_by_client_bpf", s->closed_by_client_bpf);
        json_num(j, "closed_reset_bpf", s->closed_reset_bpf);
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

/* ------------------------------------------------------------- the agent */

typedef struct {
    sb_config_t cfg;
    const sb_agent_cli_t *cli;
    apr_pool_t *pool;
    outputs_t out;
    clients_t clients;
    sb_estimator_t *est;
    sb_source_t *src;
    sb_source_opts_t sopts;
    int had_sample;
} agent_t;

/* The source's notices: logged, and a stop or start in the history. */
static void on_notice(void *baton, sb_source_notice_t kind, sb_level_t level, const char *msg)
{
    agent_t *a = baton;

    switch (kind) {
    case SB_SN_DOWN:
        sb_metrics_set_up(a->out.metrics, 0,
                          sb_source_using_status(a->src) ? SB_SOURCE_STATUS : SB_SOURCE_SHM);
        history_event(&a->out, "stop", msg);
        return;                 /* the reason was logged as SB_SN_ERROR */
    case SB_SN_UP:
        history_event(&a->out, "start", msg);
        return;
    default:
        logmsg((int)level, "%s", msg);
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

/* A new sample: restarts into the log and history, the server's identity
 * into the metrics, the slots per client. */
static void use_sample(agent_t *a, const sb_source_result_t *r)
{
    const sb_sample_t *s = r->sample;
    const char *ev = r->switched ? "attached the scoreboard named by the new configuration"
                                 : event_text(r->events);

    if (ev) {
        logmsg(L_NOTICE, "%s", ev);
        history_event(&a->out, (r->events & SB_SHM_EV_REATTACHED) ? "reattach"
                      : (r->events & SB_SHM_EV_RESTARTED) ? "restart" : "graceful", ev);
    }
    if (s->extended_status == 0 && !a->had_sample) {
        logmsg(L_WARNING, "ExtendedStatus is Off: requests/s and connection figures "
               "are unknown; remove 'ExtendedStatus Off' and stop and start httpd");
    }
    a->had_sample = 1;
    sb_metrics_set_server(a->out.metrics, s->server.version, s->server.mpm,
                          s->server.generation, s->server.server_limit,
                          s->server.thread_limit);
    sb_metrics_set_up(a->out.metrics, 1, s->source);
    if (s->source == SB_SOURCE_SHM && s->extended_status == 1) {
        clients_add(&a->clients, s, 1.0 / a->cfg.shm_hz, a->out.history, a->out.metrics);
    }
}

/* httpd's settings the agent was given, and the host's MemTotal, for the
 * metrics (sbtune report --prometheus plans from them). */
static void export_settings(agent_t *a)
{
    sb_metrics_settings_t set;
    sb_hostmem_t hm;

    set.max_request_workers = a->cfg.max_request_workers;
    set.keepalive_timeout = a->cfg.keepalive_timeout;
    set.threads_per_child = a->cfg.threads_per_child;
    sb_metrics_set_settings(a->out.metrics, &set,
                            sb_procmem_host(&hm) == APR_SUCCESS ? (int64_t)hm.mem_total : -1);
}

/* ------------------------------------------------------------- SIGHUP */

/* Keys that cannot change while sbagent runs. */
static int needs_restart(const char *key)
{
    return strcmp(key, "user") == 0;
}

static int key_changed(const sb_config_opt_t *o, const sb_config_t *a, const sb_config_t *b)
{
    const char *fa = (const char *)a + o->offset, *fb = (const char *)b + o->offset;

    switch (o->type) {
    case SB_CT_BOOL:
    case SB_CT_INT:
        return *(const int *)fa != *(const int *)fb;
    case SB_CT_DOUBLE:
        /* NaN is "not set": two unset values are the same */
        if (isnan(*(const double *)fa) || isnan(*(const double *)fb)) {
            return isnan(*(const double *)fa) != isnan(*(const double *)fb);
        }
        return *(const double *)fa != *(const double *)fb;
    default:
        return strcmp(*(const char *const *)fa, *(const char *const *)fb) != 0;
    }
}

static const char *key_text(const sb_config_opt_t *o, const sb_config_t *c, char *buf,
                            apr_size_t len)
{
    const char *f = (const char *)c + o->offset;

    switch (o->type) {
    case SB_CT_BOOL:
        return *(const int *)f ? "true" : "false";
    case SB_CT_INT:
        snprintf(buf, len, "%d", *(const int *)f);
        return buf;
    case SB_CT_DOUBLE:
        if (isnan(*(const double *)f)) {
            return "unset";
        }
        snprintf(buf, len, "%g", *(const double *)f);
        return buf;
    default:
        return *(const char *const *)f;
    }
}

/* A new history file: opened before the old one is let go. */
static void reopen_history(agent_t *a, const sb_config_t *fresh)
{
    sb_history_t *h = NULL;

    if (fresh->history[0]) {
        if (sb_history_open(&h, fresh->history, SB_HISTORY_WRITE, a->pool) != APR_SUCCESS) {
            logmsg(L_ERROR, "SIGHUP: %s; keeping %s", sb_history_error(h),
                   a->cfg.history[0] ? a->cfg.history : "no history");
            return;
        }
    }
    if (a->out.history) {
        history_event(&a->out, "stop", "sbagent: history moved by SIGHUP");
        history_flush(&a->out);
        sb_history_close(a->out.history);
    }
    a->out.history = h;
    if (h && !a->out.rollup) {
        a->out.rollup = sb_rollup_create(a->pool);
    }
    a->cfg.history = fresh->history;
    history_event(&a->out, "start", "sbagent: history opened by SIGHUP");
}

/* A new metrics address: the old endpoint stops, the new one starts (or,
 * when it cannot, the old one comes back). */
static void restart_export(agent_t *a, const sb_config_t *fresh)
{
    char err[512];

    sb_export_stop(a->out.http);
    a->out.http = NULL;
    if (fresh->listen[0]) {
        a->out.http = sb_export_start(fresh->listen, err, sizeof(err));
        if (!a->out.http) {
            logmsg(L_ERROR, "SIGHUP: %s; keeping %s", err,
                   a->cfg.listen[0] ? a->cfg.listen : "no metrics endpoint");
            if (a->cfg.listen[0]) {
                a->out.http = sb_export_start(a->cfg.listen, err, sizeof(err));
            }
            return;
        }
        logmsg(L_NOTICE, "serving metrics on http://%s/metrics", fresh->listen);
    }
    a->cfg.listen = fresh->listen;
}

/* Re-read the file; apply every key that can change while running and
 * name the ones that cannot. */
static void reload(agent_t *a)
{
    const sb_agent_cli_t *cli = a->cli;
    sb_config_t fresh;
    sb_source_opts_t so;
    const char *file = cli->config_file;
    char err[1024], b1[64], b2[64];
    int i;

    if (!cli->config_file) {
        logmsg(L_NOTICE, "SIGHUP: no configuration file to reload");
        return;
    }
    if (sb_config_resolve(&fresh, a->pool, &file, NULL, cli->cmdline, SB_PROG_AGENT,
                          err, sizeof(err)) != 0
        || sb_source_opts_from_config(&so, &fresh, a->pool, err, sizeof(err)) != 0) {
        logmsg(L_ERROR, "SIGHUP: %s; keeping the running configuration", err);
        return;
    }
    for (i = 0; i < sb_config_noptions; i++) {
        const sb_config_opt_t *o = &sb_config_options[i];
        if (!(o->programs & SB_PROG_AGENT) || !key_changed(o, &a->cfg, &fresh)) {
            continue;
        }
        logmsg(L_NOTICE, "SIGHUP: %s: %s -> %s%s", o->key, key_text(o, &a->cfg, b1, sizeof(b1)),
               key_text(o, &fresh, b2, sizeof(b2)),
               needs_restart(o->key) ? " (takes effect when sbagent is started again)" : "");
    }
    if (strcmp(fresh.history, a->cfg.history) != 0) {
        reopen_history(a, &fresh);
    }
    if (strcmp(fresh.listen, a->cfg.listen) != 0) {
        restart_export(a, &fresh);
    }
    fresh.user = a->cfg.user;
    fresh.history = a->cfg.history;
    fresh.listen = a->cfg.listen;
    a->cfg = fresh;
    a->sopts = so;
    sb_source_reconfigure(a->src, &a->sopts);
    log_configure(&a->cfg);
    logmsg(L_NOTICE, "SIGHUP: reloaded %s", cli->config_file);
}

/* ------------------------------------------------------------- start-up */

/* Attach while still root, then drop to the user keeping only
 * CAP_DAC_READ_SEARCH (to open a new root-owned segment read-only after a
 * stop and start).  Before any thread exists: capabilities are per thread. */
static int drop_privileges(agent_t *a, apr_pool_t *p)
{
    char err[512], who[256];

    sb_source_prime(a->src, p);
    if (sb_privs_drop(a->cfg.user, SB_CAP_DEFAULT, err, sizeof(err)) != 0) {
        logmsg(L_ERROR, "cannot drop privileges to %s: %s", a->cfg.user, err);
        return -1;
    }
    sb_privs_describe(who, sizeof(who));
    logmsg(L_NOTICE, "running as %s", who);
    return 0;
}

static int open_outputs(agent_t *a)
{
    const sb_config_t *cfg = &a->cfg;

    if (cfg->history[0]) {
        apr_status_t hrv = sb_history_open(&a->out.history, cfg->history, SB_HISTORY_WRITE,
                                           a->pool);
        if (hrv != APR_SUCCESS) {
            logmsg(L_ERROR, "%s", sb_history_error(a->out.history));
            return -1;
        }
        a->out.rollup = sb_rollup_create(a->pool);
        history_event(&a->out, "start", "sbagent started");
    }
    if (cfg->listen[0]) {
        char err[512];
        struct sockaddr_storage ss;
        int loopback = 0;
        a->out.http = sb_export_start(cfg->listen, err, sizeof(err));
        if (!a->out.http) {
            logmsg(L_ERROR, "%s", err);
            return -1;
        }
        sb_export_parse_listen(cfg->listen, &ss, &loopback, err, sizeof(err));
        logmsg(loopback ? L_INFO : L_WARNING, "serving metrics on http://%s/metrics%s",
               cfg->listen, loopback ? "" : " (not loopback: reachable from other hosts)");
    }
    return 0;
}

static void close_outputs(agent_t *a)
{
    if (a->out.history) {
        sb_hist_minute_t min;
        if (sb_rollup_flush(a->out.rollup, &min)) {
            sb_history_put_minute(a->out.history, &min);
        }
        history_event(&a->out, "stop", got_stop ? "sbagent stopped by a signal"
                                                : "sbagent stopped");
        history_flush(&a->out);
        sb_history_close(a->out.history);
    }
    sb_export_stop(a->out.http);
}

/* ------------------------------------------------------------- main loop */

/* Flush the history every 2 s and prune it every 10 minutes. */
static void history_chores(agent_t *a, apr_time_t *next_flush, apr_time_t *next_prune)
{
    apr_time_t now = apr_time_now();

    if (!a->out.history) {
        return;
    }
    if (now >= *next_flush) {
        *next_flush = now + apr_time_from_sec(2);
        history_flush(&a->out);
    }
    if (now >= *next_prune) {
        *next_prune = now + apr_time_from_sec(600);
        if (sb_history_prune(a->out.history, now, a->cfg.keep_seconds_hours,
                             a->cfg.keep_minutes_days) != APR_SUCCESS) {
            logmsg(L_WARNING, "history prune: %s", sb_history_error(a->out.history));
        }
    }
}

static void run(agent_t *a, apr_pool_t *iter)
{
    const sb_agent_cli_t *cli = a->cli;
    apr_time_t start = apr_time_now();
    apr_time_t next_flush = start + apr_time_from_sec(2);
    apr_time_t next_prune = start + apr_time_from_sec(60);

    while (!got_stop) {
        sb_source_result_t r;
        apr_time_t now = apr_time_now(), wake;

        if (cli->duration > 0 && now - start >= cli->duration) {
            break;
        }
        if (got_hup) {
            got_hup = 0;
            reload(a);
        }
        apr_pool_clear(iter);
        wake = sb_source_poll(a->src, now, iter, &r);
        if (r.sample) {
            use_sample(a, &r);
        }
        history_chores(a, &next_flush, &next_prune);

        /* sleep until the next deadline (signals interrupt the sleep),
         * waking at least every 250 ms to close seconds on time */
        now = apr_time_now();
        if (wake > now + apr_time_from_msec(250)) {
            wake = now + apr_time_from_msec(250);
        }
        if (cli->duration > 0 && wake > start + cli->duration) {
            wake = start + cli->duration;
        }
        if (wake > now) {
            apr_sleep(wake - now);
        }
    }
}

int sbagent_daemon(const sb_config_t *cfg_in, const sb_agent_cli_t *cli, apr_pool_t *pool)
{
    agent_t a;
    apr_pool_t *iter;
    struct sigaction sa;

    memset(&a, 0, sizeof(a));
    a.cfg = *cfg_in;
    a.cli = cli;
    a.pool = pool;
    a.sopts = cli->sopts;
    log_configure(&a.cfg);
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    a.out.cli = cli;
    a.out.cfg = &a.cfg;
    a.out.pool = pool;
    a.out.json = sb_json_create(pool);
    a.out.metrics = sb_metrics_create(pool);
    export_settings(&a);
    apr_pool_create(&a.out.render_pool, pool);
    a.est = sb_estimator_create(pool, on_second, &a.out);
    clients_init(&a.clients, pool);
    apr_pool_create(&iter, pool);
    a.sopts.async_status = 1;
    a.src = sb_source_create(&a.sopts, a.est, on_notice, &a, pool);

    if (a.cfg.user[0] && drop_privileges(&a, iter) != 0) {
        return SB_EXIT_FAILURE;
    }
    if (open_outputs(&a) != 0) {
        return SB_EXIT_USAGE;
    }
    logmsg(L_NOTICE, "started: %s%s%s", a.cfg.scoreboard[0] ? "scoreboard " : "mod_status ",
           a.cfg.scoreboard[0] ? a.cfg.scoreboard : a.cfg.status_url,
           a.cfg.scoreboard[0] && a.cfg.status_url[0] ? " (mod_status as fallback)" : "");

    run(&a, iter);

    sb_estimator_tick(a.est, apr_time_now(), 0);
    close_outputs(&a);
    if (got_stop) {
        logmsg(L_NOTICE, "signal %d: flushed and stopping", (int)got_stop);
    }
    sb_source_close(a.src);
    if (!a.had_sample) {
        logmsg(L_ERROR, "no sample could be taken");
        return SB_EXIT_UNAVAILABLE;
    }
    return SB_EXIT_OK;
}
