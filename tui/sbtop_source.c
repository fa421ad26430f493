/*
 * sbtop_source.c - sbtop's live sources: the scoreboard in shared memory
 * sampled on absolute deadlines (shm_hz), mod_status as the fallback or
 * only source, the kernel's sockets (kernel_hz), all fed to sb_estimator,
 * whose closed seconds go to the app's ring.  Restarts, stops and the
 * fallback are turned into notices; a stopped httpd is retried.
 */
#include "config.h"
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <apr_strings.h>

#include "sb_conntrack.h"
#include "sb_httpd.h"
#include "sb_kernel.h"
#include "sb_shm.h"
#include "sb_status.h"
#include "sbtop.h"

typedef struct {
    sb_shm_t *shm;              /* NULL: not open (yet) */
    int want_shm;
    int want_status;
    int using_status;           /* sampling mod_status now */
    sb_status_opts_t sopts;
    apr_interval_time_t shm_period, kernel_period;
    apr_time_t next_shm, next_status, next_kernel, next_shm_retry;
    sb_estimator_t *est;
    apr_pool_t *kpool;          /* kernel samples, cleared each time */
    sb_kernel_t *kernel;
    sb_conntrack_t *conntrack;
    sb_kernel_ports_t ports;
    int have_ports;
    int kernel_off;
    pid_t parent;
    int ka_from_kernel;
    int status_have_last;
    int status_generation;
    apr_time_t status_restart;
    char last_err[512];
} sources_t;

static sources_t S;

void sbt_notice(sbt_app_t *app, int level, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(app->notice, sizeof(app->notice), fmt, ap);
    va_end(ap);
    app->notice_level = level;
    app->notice_ts = apr_time_now();
}

void sbt_ring_push(sbt_app_t *app, const sbt_sec_t *s)
{
    app->ring_head = (app->ring_head + 1) % SBT_RING;
    app->ring[app->ring_head] = *s;
    if (app->ring_n < SBT_RING) {
        app->ring_n++;
    }
}

const sbt_sec_t *sbt_ring_get(const sbt_app_t *app, int i)
{
    if (i < 0 || i >= app->ring_n) {
        return NULL;
    }
    return &app->ring[(app->ring_head - i + SBT_RING) % SBT_RING];
}

static void on_second(const sb_second_t *s, void *baton)
{
    sbt_app_t *app = baton;
    sbt_sec_t r;
    int i;

    memset(&r, 0, sizeof(r));
    r.ts = s->ts;
    r.gap = s->gap;
    r.busy = s->busy_mean;
    r.idle = s->idle_mean;
    r.open = s->open_mean;
    r.ka_slots = s->keepalive_slots_mean;
    r.ka_conns = s->keepalive_conns_mean;
    r.req = s->req_per_s;
    r.conn = s->conn_per_s;
    r.queue = s->listen_queue_max;
    r.slots_total = s->slots_total;
    for (i = 0; i < s->obs[SB_OBS_HOLD].n; i++) {
        r.hold_sum += s->obs[SB_OBS_HOLD].v[i];
        r.hold_n++;
    }
    app->hold_sum_all += r.hold_sum;
    app->hold_n_all += (uint64_t)r.hold_n;
    for (i = 0; i < s->obs[SB_OBS_KA_GAP].n; i++) {
        sb_hist_add(&app->ka_gap, s->obs[SB_OBS_KA_GAP].v[i]);
    }
    app->ka_close_n += (uint64_t)s->obs[SB_OBS_KA_CLOSE].n;
    sbt_ring_push(app, &r);
}

static apr_interval_time_t period_of(double hz)
{
    return (apr_interval_time_t)(APR_USEC_PER_SEC / hz);
}



int sbt_source_init(sbt_app_t *app, char *err, apr_size_t errlen)
{
    const sb_config_t *cfg = app->cfg;
    apr_time_t now = apr_time_now();

    memset(&S, 0, sizeof(S));
    S.want_shm = cfg->scoreboard[0] != '\0';
    S.want_status = cfg->status_url[0] != '\0';
    sb_status_opts_default(&S.sopts);
    S.sopts.url = S.want_status ? cfg->status_url : NULL;
    S.sopts.connect_timeout_ms = cfg->connect_timeout_ms;
    S.sopts.timeout_ms = cfg->timeout_ms;
    S.sopts.max_bytes = (apr_size_t)cfg->max_bytes;
    S.sopts.user = cfg->status_user[0] ? cfg->status_user : NULL;
    S.sopts.ca_file = cfg->ca_file[0] ? cfg->ca_file : NULL;
    S.sopts.insecure = cfg->insecure;
    if (cfg->status_password_file[0]) {
        if (!S.sopts.user) {
            snprintf(err, errlen, "status_password_file needs status_user");
            return -1;
        }
        if (sb_httpd_read_password(cfg->status_password_file, app->pool, &S.sopts.password,
                                   err, errlen) != 0) {
            return -1;
        }
    }
    if (cfg->ports[0]) {
        if (sb_httpd_parse_ports(cfg->ports, &S.ports, err, errlen) != 0) {
            return -1;
        }
        S.have_ports = 1;
    }
    S.shm_period = period_of(cfg->shm_hz);
    S.kernel_period = cfg->kernel_hz > 0 ? period_of(cfg->kernel_hz) : 0;
    S.kernel_off = cfg->kernel_hz <= 0;
    S.using_status = !S.want_shm;
    S.next_shm = S.next_status = S.next_kernel = S.next_shm_retry = now;
    S.est = sb_estimator_create(app->pool, on_second, app);
    apr_pool_create(&S.kpool, app->pool);
    app->shm_hz = S.want_shm ? cfg->shm_hz : 0;
    app->source_label = S.want_shm ? "shm" : "status";
    return 0;
}

void sbt_source_close(sbt_app_t *app)
{
    if (S.shm) {
        sb_shm_close(S.shm);
        S.shm = NULL;
    }
    if (S.kernel) {
        sb_kernel_close(S.kernel);
        S.kernel = NULL;
    }
}


static void find_parent(sbt_app_t *app, const sb_sample_t *s)
{
    pid_t p = sb_httpd_find_parent(app->cfg->httpd_pidfile, s);

    if (p && p != S.parent) {
        S.parent = p;
        if (!app->cfg->ports[0]) {
            S.have_ports = 0;   /* a new parent may listen elsewhere */
        }
    }
}

static void kernel_obs(void *baton, apr_time_t ts, sb_obs_kind_t kind, double v)
{
    if (S.ka_from_kernel) {
        sb_estimator_add_obs(S.est, ts, kind, v);
    }
}

static void sample_kernel(sbt_app_t *app)
{
    sb_kernel_sample_t *ks;
    sb_kernel_view_t view;

    apr_pool_clear(S.kpool);
    if (!S.kernel) {
        if (sb_kernel_open(&S.kernel, app->pool) != APR_SUCCESS) {
            sbt_notice(app, SBT_WARN, "kernel source off: %s", sb_kernel_error(S.kernel));
            S.kernel = NULL;
            S.kernel_off = 1;
            return;
        }
        S.conntrack = sb_conntrack_create(app->pool, kernel_obs, app);
    }
    if (!S.have_ports) {
        apr_status_t rv;
        if (!S.parent) {
            return;
        }
        rv = sb_kernel_listen_ports_of_pid(S.kernel, S.parent, &S.ports);
        if (rv != APR_SUCCESS && rv != APR_ENOSPC) {
            return;
        }
        S.have_ports = 1;
    }
    if (sb_kernel_sample(S.kernel, &S.ports, S.kpool, &ks) != APR_SUCCESS) {
        return;
    }
    sb_conntrack_update(S.conntrack, ks, &view);
    sb_estimator_add_kernel(S.est, &view);
    app->have_kernel = 1;
    app->k_queue = view.listen_queue;
    app->k_idle_ka = view.idle_keepalive;
    app->k_established = view.established;
}

static const char *hhmmss(apr_time_t t, char *buf, apr_size_t len)
{
    time_t tt = (time_t)apr_time_sec(t);
    struct tm tm;
    localtime_r(&tt, &tm);
    strftime(buf, len, "%H:%M:%S", &tm);
    return buf;
}

/* Turn a good sample into the app's latest and feed the estimator. */
static void use_sample(sbt_app_t *app, sb_sample_t *s, int events)
{
    char t[16];

    if (app->down) {
        sbt_notice(app, SBT_INFO, "httpd answers again at %s", hhmmss(s->ts, t, sizeof(t)));
        app->down = 0;
    }
    if (events & SB_SHM_EV_REATTACHED) {
        sbt_notice(app, SBT_WARN, "httpd was stopped and started: new scoreboard attached at %s"
                   " (generation %d)", hhmmss(s->ts, t, sizeof(t)), s->server.generation);
        app->last_restart_ts = s->ts;
    }
    else if (events & SB_SHM_EV_RESTARTED) {
        sbt_notice(app, SBT_WARN, "httpd restarted (full restart) at %s: generation %d,"
                   " slots cleared", hhmmss(s->ts, t, sizeof(t)), s->server.generation);
        app->last_restart_ts = s->ts;
    }
    else if (events & SB_SHM_EV_GENERATION) {
        sbt_notice(app, SBT_WARN, "httpd restarted gracefully at %s: generation %d",
                   hhmmss(s->ts, t, sizeof(t)), s->server.generation);
        app->last_restart_ts = s->ts;
    }
    if (!S.parent || (events & (SB_SHM_EV_REATTACHED | SB_SHM_EV_RESTARTED))) {
        find_parent(app, s);
    }
    S.ka_from_kernel = !(s->source == SB_SOURCE_SHM
                         && (strcmp(s->server.mpm, "prefork") == 0
                             || strcmp(s->server.mpm, "worker") == 0));
    if (s->source == SB_SOURCE_STATUS && s->server.max_workers > 0) {
        app->max_workers = s->server.max_workers;
        app->max_workers_from_status = 1;
    }
    if (app->max_workers_opt > 0) {
        app->max_workers = app->max_workers_opt;
    }
    sb_estimator_add_sample(S.est, s, events);
    app->sample = s;
    app->samples_taken++;
    app->scur = 1 - app->scur;
}

static apr_pool_t *next_pool(sbt_app_t *app)
{
    apr_pool_t *p = app->spool[1 - app->scur];
    apr_pool_clear(p);
    return p;
}

static apr_status_t sample_shm(sbt_app_t *app, apr_time_t now)
{
    apr_status_t rv;
    sb_sample_t *s;

    if (!S.shm) {
        if (now < S.next_shm_retry) {
            return APR_EAGAIN;
        }
        S.next_shm_retry = now + apr_time_from_sec(1);
        rv = sb_shm_open(&S.shm, app->cfg->scoreboard, app->pool);
        if (rv != APR_SUCCESS) {
            apr_cpystrn(S.last_err, sb_shm_error(S.shm), sizeof(S.last_err));
            S.shm = NULL;
            return rv;
        }
    }
    rv = sb_shm_sample(S.shm, next_pool(app), &s);
    if (rv != APR_SUCCESS) {
        apr_cpystrn(S.last_err, sb_shm_error(S.shm), sizeof(S.last_err));
        return rv;
    }
    use_sample(app, s, sb_shm_events(S.shm));
    return APR_SUCCESS;
}

static apr_status_t sample_status(sbt_app_t *app)
{
    char err[512];
    sb_status_report_t rep;
    sb_sample_t *s;
    int events = 0;
    apr_status_t rv = sb_status_fetch(&S.sopts, next_pool(app), &s, &rep, err, sizeof(err));

    if (rv != APR_SUCCESS) {
        apr_cpystrn(S.last_err, err, sizeof(S.last_err));
        return rv;
    }
    if (S.status_have_last && s->server.generation != S.status_generation) {
        events |= SB_SHM_EV_GENERATION;
    }
    if (S.status_have_last && s->server.restart_time != S.status_restart) {
        events |= SB_SHM_EV_RESTARTED;
    }
    S.status_have_last = 1;
    S.status_generation = s->server.generation;
    S.status_restart = s->server.restart_time;
    use_sample(app, s, events);
    return APR_SUCCESS;
}

static void set_down(sbt_app_t *app)
{
    if (!app->down) {
        app->down = 1;
    }
    apr_cpystrn(app->down_msg, S.last_err, sizeof(app->down_msg));
}

static apr_interval_time_t status_period(const sbt_app_t *app)
{
    double s = app->cfg->status_interval;

    if (app->delay < s) {
        s = app->delay;     /* a live view wants one scrape per refresh */
    }
    if (s < 0.2) {
        s = 0.2;
    }
    return (apr_interval_time_t)(s * APR_USEC_PER_SEC);
}

static void advance(apr_time_t *next, apr_interval_time_t period, apr_time_t now)
{
    *next += period;
    if (*next <= now) {
        *next = now + period;   /* fell behind: skip, no burst */
    }
}

apr_time_t sbt_source_poll(sbt_app_t *app, apr_time_t now)
{
    apr_time_t wake;

    if (S.want_shm && now >= S.next_shm) {
        apr_status_t rv;
        advance(&S.next_shm, S.shm_period, now);
        rv = sample_shm(app, now);
        if (rv == APR_SUCCESS) {
            if (S.using_status) {
                sbt_notice(app, SBT_INFO, "the scoreboard is readable again: back to shared memory");
                S.using_status = 0;
                app->source_label = "shm";
            }
        }
        else if (rv != APR_EAGAIN || !S.using_status) {
            if (S.want_status && !S.using_status) {
                sbt_notice(app, SBT_WARN, "scoreboard unavailable (%s): falling back to "
                           "mod_status", S.last_err);
                S.using_status = 1;
                app->source_label = "status (fallback)";
                S.next_status = now;
            }
            else if (!S.want_status) {
                set_down(app);
            }
        }
    }
    if (S.using_status && S.want_status && now >= S.next_status) {
        advance(&S.next_status, status_period(app), now);
        if (sample_status(app) != APR_SUCCESS) {
            set_down(app);
        }
    }
    if (!S.kernel_off && now >= S.next_kernel) {
        advance(&S.next_kernel, S.kernel_period, now);
        sample_kernel(app);
    }
    sb_estimator_tick(S.est, apr_time_now(), apr_time_from_msec(200));

    wake = now + apr_time_from_sec(1);
    if (S.want_shm && S.next_shm < wake) {
        wake = S.next_shm;
    }
    if (S.using_status && S.want_status && S.next_status < wake) {
        wake = S.next_status;
    }
    if (!S.kernel_off && S.next_kernel < wake) {
        wake = S.next_kernel;
    }
    return wake;
}

void sbt_source_tick(sbt_app_t *app, apr_time_t now)
{
    sb_estimator_tick(S.est, now, apr_time_from_msec(200));
}
