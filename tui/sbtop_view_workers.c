/*
 * sbtop_view_workers.c - the workers view: one row per slot in use, sorted
 * by the column the sort key picks.
 */
#include "config.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <apr_strings.h>

#include "sb_slot.h"
#include "sbtop.h"
#include "sbtop_draw.h"

typedef struct {
    int idx;
    double secs;
} wrow_t;

static const sbt_app_t *sort_app;

static double worker_secs(const sb_sample_t *s, const sb_worker_t *w)
{
    apr_time_t t = 0;

    switch (w->state) {
    case SB_SLOT_KEEPALIVE:
        t = w->stop_time ? w->stop_time : w->last_used;
        break;
    case SB_SLOT_READY:
    case SB_SLOT_DEAD:
    case SB_SLOT_STARTING:
        t = w->last_used;
        break;
    default:
        t = w->start_time && w->start_time >= w->stop_time ? w->start_time : w->last_used;
        break;
    }
    if (t <= 0 || t > s->ts) {
        return NAN;
    }
    return (double)(s->ts - t) / APR_USEC_PER_SEC;
}

static int state_rank(sb_slot_state_t st)
{
    static const int rank[SB_SLOT_NSTATES] = { 10, 8, 9, 1, 0, 2, 3, 4, 5, 6, 7 };
    return st < SB_SLOT_NSTATES ? rank[st] : 11;
}

static int cmp_rows(const void *pa, const void *pb)
{
    const wrow_t *a = pa, *b = pb;
    const sb_sample_t *s = sort_app->sample;
    const sb_worker_t *wa = &s->workers[a->idx], *wb = &s->workers[b->idx];
    int r = 0;

    switch (sort_app->sort) {
    case SBT_SORT_STATE:
        r = state_rank(wa->state) - state_rank(wb->state);
        if (r == 0) {
            r = (isnan(b->secs) ? -1 : b->secs) > (isnan(a->secs) ? -1 : a->secs) ? 1
                : (isnan(b->secs) ? -1 : b->secs) < (isnan(a->secs) ? -1 : a->secs) ? -1 : 0;
        }
        break;
    case SBT_SORT_SECONDS: {
        double x = isnan(a->secs) ? -1 : a->secs, z = isnan(b->secs) ? -1 : b->secs;
        r = z > x ? 1 : z < x ? -1 : 0;
        break;
    }
    case SBT_SORT_REQUESTS:
        r = wb->conn_count > wa->conn_count ? 1 : wb->conn_count < wa->conn_count ? -1 : 0;
        break;
    case SBT_SORT_CLIENT:
        r = strcmp(wa->client, wb->client);
        break;
    case SBT_SORT_SLOT:
    case SBT_NSORTS:
        break;
    }
    if (r == 0) {
        r = a->idx - b->idx;
    }
    return sort_app->sort_reverse ? -r : r;
}

static const char *const sort_names[SBT_NSORTS] = {
    "state", "seconds", "requests", "client", "slot"
};

int sbt_workers_draw(sbt_canvas_t *cv, const sbt_app_t *app, int y, int end, apr_pool_t *p)
{
    const sb_sample_t *s = app->sample;
    wrow_t *rows;
    sbt_foot_item_t keys[SBT_FOOT_MAX];
    char acts[256];
    int i, n = 0, nk, tl, cw;

    sbt_cv_bar(cv, y, SBT_ST_TITLE);
    if (app->replay || !s) {
        sbt_cv_put(cv, y, 0, SBT_ST_TITLE, "Workers");
        sbt_cv_put(cv, y + 1, 0, SBT_ST_NORMAL, app->replay
                   ? "The history has no per-slot records: the agent keeps per-second figures only."
                   : "no sample yet");
        return y + 2;
    }
    rows = apr_palloc(p, sizeof(*rows) * (apr_size_t)(s->nworkers + 1));
    for (i = 0; i < s->nworkers; i++) {
        if (s->workers[i].state == SB_SLOT_DEAD) {
            continue;
        }
        rows[n].idx = i;
        rows[n].secs = worker_secs(s, &s->workers[i]);
        n++;
    }
    sort_app = app;
    qsort(rows, (apr_size_t)n, sizeof(*rows), cmp_rows);
    nk = sbt_foot_items(keys, SBT_FOOT_MAX, app->view, 0);
    sbt_cv_printf(cv, y, 0, SBT_ST_TITLE, "Workers: %d of %d slots in use, sorted by %s%s (%s)",
                  n, s->nworkers, sort_names[app->sort], app->sort_reverse ? " (reversed)" : "",
                  sbt_foot_join(acts, sizeof(acts), keys, nk, SBT_FOOT_ACT, ": ", ", "));
    y++;
    if (s->source != SB_SOURCE_SHM) {
        sbt_cv_put(cv, y++, 0, SBT_ST_NOTICE, "mod_status gives states only: pid, times, clients "
                   "and requests need the shm source (--scoreboard)");
    }
    cw = cv->cols < 100 ? 15 : cv->cols < 140 ? 20 : 28;
    sbt_cv_printf(cv, y++, 0, SBT_ST_BOLD, "%7s %6s %2s %7s %5s %-*s %-*s %s", "PID", "SLOT", "ST",
                  "SECS", "REQS", cw, "CLIENT", cw, "VHOST", "REQUEST");
    tl = s->server.thread_limit > 0 ? s->server.thread_limit : 1;
    if (n > end - y) {
        end--;      /* keep the last line for the "more" note */
    }
    for (i = 0; i < n && y < end; i++) {
        const sb_worker_t *w = &s->workers[rows[i].idx];
        char slot[32], secs[32], client[64], vhost[32], req[64], st[2], pid[16];
        if (tl > 1) {
            snprintf(slot, sizeof(slot), "%d.%d", rows[i].idx / tl, rows[i].idx % tl);
        }
        else {
            snprintf(slot, sizeof(slot), "%d", rows[i].idx);
        }
        if (isnan(rows[i].secs)) {
            snprintf(secs, sizeof(secs), "-");
        }
        else {
            snprintf(secs, sizeof(secs), "%.1f", rows[i].secs);
        }
        if (w->pid > 0) {
            snprintf(pid, sizeof(pid), "%d", (int)w->pid);
        }
        else {
            snprintf(pid, sizeof(pid), "-");
        }
        sbt_clean(client, w->client, sizeof(client));
        sbt_clean(vhost, w->vhost, sizeof(vhost));
        sbt_clean(req, w->request, sizeof(req));
        st[0] = w->state < SB_SLOT_NSTATES ? sb_slot_table[w->state].ch : '?';
        st[1] = '\0';
        sbt_cv_printf(cv, y, 0, SBT_ST_NORMAL, "%7s %6s", pid, slot);
        sbt_cv_printf(cv, y, 16, (sbt_style_t)(SBT_ST_SLOT0 + (w->state < SB_SLOT_NSTATES
                                                            ? w->state : 0)), "%s", st);
        sbt_cv_printf(cv, y, 18, SBT_ST_NORMAL, "%7s %5u %-*.*s %-*.*s %s", secs,
                      w->conn_count, cw, cw, client[0] ? client : "-", cw, cw,
                      vhost[0] ? vhost : "-", req[0] ? req : "-");
        y++;
    }
    if (i < n) {
        sbt_cv_printf(cv, y++, 0, SBT_ST_DIM, "... %d more (sort with %s, or enlarge the window)",
                      n - i, sbt_key_name(SBT_ACT_SORT, acts, sizeof(acts)));
    }
    return y;
}
