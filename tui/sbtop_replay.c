/*
 * sbtop_replay.c - what the agent recorded at a past moment: the history's
 * second rows before and around the replayed second fill the same ring the
 * live view fills, the minute rows give the keep-alive gaps and the hold
 * time, the events and client rows say what happened then.
 */
#include "config.h"
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <apr_strings.h>

#include "sbtop.h"

int sbt_parse_time(const char *s, int64_t last_ts, int64_t *out)
{
    struct tm tm;
    const char *end;
    apr_size_t i, n = strlen(s);

    if (strcmp(s, "last") == 0 || strcmp(s, "end") == 0) {
        if (last_ts <= 0) {
            return -1;
        }
        *out = last_ts;
        return 0;
    }
    for (i = 0; i < n && isdigit((unsigned char)s[i]); i++) {
    }
    if (n > 0 && i == n) {
        char *e;
        long long v = strtoll(s, &e, 10);
        if (*e || v <= 0) {
            return -1;
        }
        *out = v;
        return 0;
    }
    memset(&tm, 0, sizeof(tm));
    end = strptime(s, "%Y-%m-%d %H:%M:%S", &tm);
    if (!end || *end) {
        memset(&tm, 0, sizeof(tm));
        end = strptime(s, "%Y-%m-%d %H:%M", &tm);
        if (!end || *end) {
            memset(&tm, 0, sizeof(tm));
            end = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
            if (!end || *end) {
                return -1;
            }
        }
    }
    tm.tm_isdst = -1;
    *out = (int64_t)mktime(&tm);
    return *out == -1 ? -1 : 0;
}

int sbt_replay_open(sbt_app_t *app, const char *at, char *err, apr_size_t errlen, int *rc)
{
    int64_t last = 0;
    apr_status_t rv;

    rv = sb_history_open(&app->history, app->history_path, SB_HISTORY_READ, app->pool);
    if (rv != APR_SUCCESS) {
        snprintf(err, errlen, "%s", sb_history_error(app->history));
        *rc = APR_STATUS_IS_ENOENT(rv) || APR_STATUS_IS_EACCES(rv) ? SB_EXIT_UNAVAILABLE
                                                                      : SB_EXIT_FAILURE;
        return -1;
    }
    sb_history_last_ts(app->history, &last);
    if (sbt_parse_time(at, last, &app->at) != 0) {
        snprintf(err, errlen, "--at '%s': give unix seconds, \"YYYY-MM-DD HH:MM[:SS]\" "
                 "(local time) or \"last\"%s", at, last > 0 ? "" : " (the history is empty)");
        *rc = SB_EXIT_USAGE;
        return -1;
    }
    apr_pool_create(&app->rpool, app->pool);
    app->replay = 1;
    app->source_label = "history";
    return 0;
}

typedef struct {
    sbt_app_t *app;
    int64_t at;
} load_t;

static apr_status_t on_row(void *baton, const sb_hist_second_t *row)
{
    load_t *l = baton;
    sbt_app_t *app = l->app;
    int64_t d = row->ts - l->at;

    if (row->ts <= l->at) {
        sbt_sec_t r;
        memset(&r, 0, sizeof(r));
        r.ts = row->ts;
        r.gap = row->gap;
        r.busy = row->busy_mean;
        r.idle = row->idle_mean;
        r.open = row->open_mean;
        r.ka_slots = row->keepalive_slots_mean;
        r.ka_conns = row->keepalive_conns_mean;
        r.req = row->req_per_s;
        r.conn = row->conn_per_s;
        r.accepted = row->accepted_per_s;
        r.queue = row->listen_queue_max < 0 ? NAN : (double)row->listen_queue_max;
        r.slots_total = -1;
        sbt_ring_push(app, &r);
        app->nearest_before = row->ts;
    }
    else if (!app->nearest_after) {
        app->nearest_after = row->ts;
    }
    if (row->ts == l->at) {
        app->row = *row;
        app->have_row = 1;
    }
    if (d >= -5 && d <= 5) {
        app->near[d + 5] = *row;
        app->nrows_near++;
    }
    return APR_SUCCESS;
}

/* Stops at the first row: where the record resumes after a hole. */
static apr_status_t on_first_after(void *baton, const sb_hist_second_t *row)
{
    ((sbt_app_t *)baton)->nearest_after = row->ts;
    return APR_EOF;
}

static apr_status_t on_minute(void *baton, const sb_hist_minute_t *m)
{
    sbt_app_t *app = ((load_t *)baton)->app;

    if (m->ka_gap_hist) {
        sb_hist_merge(&app->ka_gap, m->ka_gap_hist);
    }
    if (m->ka_close_hist) {
        app->ka_close_n += sb_hist_count(m->ka_close_hist);
    }
    if (m->hold_time_hist) {
        app->hold_sum_all += m->hold_time_hist->sum;
        app->hold_n_all += m->hold_time_hist->count;
    }
    return APR_SUCCESS;
}

static apr_status_t on_event(void *baton, const sb_hist_event_t *ev)
{
    sbt_app_t *app = ((load_t *)baton)->app;
    apr_size_t n = strlen(app->events_text);
    char t[16];
    time_t tt = (time_t)ev->ts;
    struct tm tm;

    if (strcmp(ev->kind, "gap") == 0) {
        return APR_SUCCESS;
    }
    localtime_r(&tt, &tm);
    strftime(t, sizeof(t), "%H:%M:%S", &tm);
    snprintf(app->events_text + n, sizeof(app->events_text) - n, "%s%s %s",
             n ? ", " : "", ev->kind, t);
    return APR_SUCCESS;
}

static apr_status_t on_client(void *baton, const sb_hist_client_t *c)
{
    sbt_app_t *app = ((load_t *)baton)->app;

    if (app->nclients < (int)(sizeof(app->clients) / sizeof(app->clients[0]))) {
        apr_cpystrn(app->clients[app->nclients].client, c->client,
                    sizeof(app->clients[0].client));
        app->clients[app->nclients].slot_seconds = c->slot_seconds;
        app->clients[app->nclients].max_slots = c->max_slots;
        app->nclients++;
    }
    return APR_SUCCESS;
}

void sbt_replay_load(sbt_app_t *app)
{
    load_t l;
    int64_t minute = app->at - ((app->at % 60) + 60) % 60;
    apr_status_t rv;

    l.app = app;
    l.at = app->at;
    app->ring_n = 0;
    app->ring_head = 0;
    app->have_row = 0;
    app->nearest_before = app->nearest_after = 0;
    app->nrows_near = 0;
    memset(app->near, 0, sizeof(app->near));
    app->events_text[0] = '\0';
    app->nclients = 0;
    sb_hist_init(&app->ka_gap);
    app->ka_close_n = 0;
    app->hold_sum_all = 0;
    app->hold_n_all = 0;
    rv = sb_history_seconds(app->history, app->at - SBT_RING + 1, app->at + 6, on_row, &l);
    if (rv == APR_SUCCESS) {
        /* the next recorded second after a hole, to say where data resumes */
        if (!app->nearest_after) {
            sb_history_seconds(app->history, app->at + 6, app->at + 86400, on_first_after, app);
        }
        sb_history_minutes(app->history, minute - 3600, minute + 60, on_minute, &l);
        sb_history_events(app->history, app->at - 60, app->at + 61, on_event, &l);
        sb_history_clients(app->history, minute, minute + 60, on_client, &l);
    }
    if (rv != APR_SUCCESS) {
        sbt_notice(app, SBT_WARN, "history: %s", sb_history_error(app->history));
    }
}
