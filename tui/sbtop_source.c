/*
 * sbtop_source.c - sbtop on the shared source handle (lib/sb_source):
 * its samples become the app's latest, its closed seconds go to the app's
 * ring, its notices (restarts, stops, the fallback, the kernel) go on
 * screen.  mod_status is scraped on the handle's own thread, so keys and
 * redraws never wait for a saturated httpd.
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

#include "sb_shm.h"
#include "sb_source.h"
#include "sbtop.h"

typedef struct {
    sb_source_t *src;
    sb_source_opts_t opts;
    sb_estimator_t *est;
    int want_shm, want_status;
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
    r.accepted = s->accepted_per_s;
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

static const char *hhmmss(apr_time_t t, char *buf, apr_size_t len)
{
    time_t tt = (time_t)apr_time_sec(t);
    struct tm tm;
    localtime_r(&tt, &tm);
    strftime(buf, len, "%H:%M:%S", &tm);
    return buf;
}

/* The source's notices, on screen. */
static void on_notice(void *baton, sb_source_notice_t kind, sb_level_t level, const char *msg)
{
    sbt_app_t *app = baton;
    char t[16];

    switch (kind) {
    case SB_SN_DOWN:
        app->down = 1;
        break;
    case SB_SN_UP:
        app->down = 0;
        sbt_notice(app, SBT_INFO, "httpd answers again at %s",
                   hhmmss(apr_time_now(), t, sizeof(t)));
        break;
    case SB_SN_FALLBACK:
        sbt_notice(app, SBT_WARN, "scoreboard unavailable (%s): falling back to mod_status",
                   sb_source_error(S.src));
        app->source_label = "status (fallback)";
        break;
    case SB_SN_SHM_BACK:
        sbt_notice(app, SBT_INFO, "the scoreboard is readable again: back to shared memory");
        app->source_label = "shm";
        break;
    case SB_SN_BPF:
        if (level > SB_LEVEL_WARNING) {
            break;              /* on, or off where it cannot load: not news */
        }
        /* fall through */
    case SB_SN_KERNEL:
    case SB_SN_MEMORY:
        sbt_notice(app, level <= SB_LEVEL_WARNING ? SBT_WARN : SBT_INFO, "%s", msg);
        break;
    default:
        break;                  /* the reason shows with the down state */
    }
}

int sbt_source_init(sbt_app_t *app, char *err, apr_size_t errlen)
{
    const sb_config_t *cfg = app->cfg;

    memset(&S, 0, sizeof(S));
    if (sb_source_opts_from_config(&S.opts, cfg, app->pool, err, errlen) != 0) {
        return -1;
    }
    /* a live view wants one scrape per refresh, and never waits for one */
    if (app->delay < S.opts.status_interval) {
        S.opts.status_interval = app->delay;
    }
    S.opts.async_status = 1;
    S.want_shm = cfg->scoreboard[0] != '\0';
    S.want_status = cfg->status_url[0] != '\0';
    S.est = sb_estimator_create(app->pool, on_second, app);
    S.src = sb_source_create(&S.opts, S.est, on_notice, app, app->pool);
    app->shm_hz = S.want_shm ? cfg->shm_hz : 0;
    app->source_label = S.want_shm ? "shm" : "status";
    return 0;
}

void sbt_source_close(sbt_app_t *app)
{
    if (S.src) {
        sb_source_close(S.src);
        S.src = NULL;
    }
}

/* Turn a good sample into the app's latest. */
static void use_sample(sbt_app_t *app, sb_sample_t *s, int events)
{
    char t[16];

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
    if (s->source == SB_SOURCE_STATUS && s->server.max_workers > 0) {
        app->max_workers = s->server.max_workers;
        app->max_workers_from_status = 1;
    }
    if (app->max_workers_opt > 0) {
        app->max_workers = app->max_workers_opt;
    }
    app->sample = s;
    app->samples_taken++;
    app->scur = 1 - app->scur;
}

apr_time_t sbt_source_poll(sbt_app_t *app, apr_time_t now)
{
    apr_pool_t *p = app->spool[1 - app->scur];
    sb_source_result_t r;
    const sb_kernel_view_t *kv;
    apr_time_t wake;

    /* the pool of the sample on screen stays; the other one is reused */
    apr_pool_clear(p);
    wake = sb_source_poll(S.src, now, p, &r);
    if (r.sample) {
        use_sample(app, r.sample, r.events);
    }
    if (sb_source_down(S.src)) {
        apr_cpystrn(app->down_msg, sb_source_error(S.src), sizeof(app->down_msg));
    }
    if (r.kernel && (kv = sb_source_kernel_view(S.src)) != NULL) {
        app->have_kernel = 1;
        app->k_queue = kv->listen_queue;
        app->k_idle_ka = kv->idle_keepalive;
        app->k_established = kv->established;
    }
    return wake;
}

void sbt_source_tick(sbt_app_t *app, apr_time_t now)
{
    sb_estimator_tick(S.est, now, apr_time_from_msec(200));
}
