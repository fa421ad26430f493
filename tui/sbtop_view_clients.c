/*
 * sbtop_view_clients.c - the top clients view: clients by the busy slots
 * they hold (in a replay: the client rows recorded for the minute).
 */
#include "config.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <apr_strings.h>

#include "sb_slot.h"
#include "sbtop.h"
#include "sbtop_draw.h"

typedef struct {
    char client[64];
    int busy, ka, active;
} crow_t;

static int cmp_clients(const void *pa, const void *pb)
{
    const crow_t *a = pa, *b = pb;
    if (a->busy != b->busy) {
        return b->busy - a->busy;
    }
    return strcmp(a->client, b->client);
}

int sbt_clients_draw(sbt_canvas_t *cv, const sbt_app_t *app, int y, int end, apr_pool_t *p)
{
    const sb_sample_t *s = app->sample;
    crow_t *rows;
    int i, j, n = 0, busy_total = 0;

    sbt_cv_bar(cv, y, SBT_ST_TITLE);
    if (app->replay) {
        time_t m = (time_t)(app->at - ((app->at % 60) + 60) % 60);
        struct tm tm;
        char t[32];
        localtime_r(&m, &tm);
        strftime(t, sizeof(t), "%H:%M", &tm);
        sbt_cv_printf(cv, y++, 0, SBT_ST_TITLE, "Top clients by slots held in the minute %s "
                      "(from the history)", t);
        sbt_cv_printf(cv, y++, 0, SBT_ST_BOLD, "%-40s %14s %10s", "CLIENT", "SLOT-SECONDS",
                      "MAX SLOTS");
        if (app->nclients == 0) {
            sbt_cv_put(cv, y++, 0, SBT_ST_NORMAL, "no client rows recorded for this minute");
        }
        for (i = 0; i < app->nclients && y < end; i++) {
            sbt_cv_printf(cv, y++, 0, SBT_ST_NORMAL, "%-40.40s %14.1f %10d", app->clients[i].client,
                          app->clients[i].slot_seconds, app->clients[i].max_slots);
        }
        return y;
    }
    if (!s) {
        sbt_cv_put(cv, y, 0, SBT_ST_TITLE, "Top clients");
        return y + 1;
    }
    rows = apr_pcalloc(p, sizeof(*rows) * (apr_size_t)(s->nworkers + 1));
    for (i = 0; i < s->nworkers; i++) {
        const sb_worker_t *w = &s->workers[i];
        if (w->state >= SB_SLOT_NSTATES || !sb_slot_table[w->state].busy) {
            continue;
        }
        busy_total++;
        if (!w->client[0]) {
            continue;
        }
        for (j = 0; j < n && strcmp(rows[j].client, w->client) != 0; j++) {
        }
        if (j == n) {
            sbt_clean(rows[n].client, w->client, sizeof(rows[n].client));
            n++;
        }
        rows[j].busy++;
        if (w->state == SB_SLOT_KEEPALIVE) {
            rows[j].ka++;
        }
        else {
            rows[j].active++;
        }
    }
    qsort(rows, (apr_size_t)n, sizeof(*rows), cmp_clients);
    sbt_cv_printf(cv, y++, 0, SBT_ST_TITLE, "Top clients by slots held: %d clients hold %d busy "
                  "slots", n, busy_total);
    if (s->source != SB_SOURCE_SHM || s->extended_status == 0) {
        sbt_cv_put(cv, y++, 0, SBT_ST_NOTICE, "client addresses need the shm source and "
                   "ExtendedStatus On");
    }
    sbt_cv_printf(cv, y++, 0, SBT_ST_BOLD, "%-24s %6s %6s %6s %7s", "CLIENT", "SLOTS", "ACTIVE",
                  "KA", "SHARE");
    for (i = 0; i < n && y < end; i++) {
        double share = busy_total ? 100.0 * rows[i].busy / busy_total : 0;
        int flag = busy_total > 0 && rows[i].busy * 2 > busy_total;
        sbt_cv_printf(cv, y, 0, flag ? SBT_ST_WARN : SBT_ST_NORMAL, "%-24.24s %6d %6d %6d %6.0f%%",
                      rows[i].client, rows[i].busy, rows[i].active, rows[i].ka, share);
        if (flag) {
            sbt_cv_printf(cv, y, 53, SBT_ST_WARN, " <- over half of busy");
        }
        y++;
    }
    return y;
}
