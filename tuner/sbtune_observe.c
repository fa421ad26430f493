/*
 * sbtune_observe.c - how the apply procedure looks at httpd: through the
 * shared source handle (lib/sb_source), one sample of the scoreboard and
 * one of mod_status per look, and the status URL's keep-alive headers
 * (contracts in sbtune_apply_int.h).
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include <apr_strings.h>

#include "sb_slot.h"
#include "sb_source.h"
#include "sbtune_apply_int.h"

void sbtune_observer_init(sbtune_observer_t *w, const sbtune_apply_opts_t *o, apr_pool_t *p)
{
    sb_source_opts_t so;

    memset(w, 0, sizeof(*w));
    w->pool = p;
    w->scoreboard = o->scoreboard;
    w->status_url = o->status_url;
    sb_status_opts_default(&w->sopts);
    w->sopts.url = o->status_url;
    w->sopts.user = o->status_user;
    w->sopts.password = o->status_password;
    w->sopts.ca_file = o->ca_file;
    w->sopts.insecure = o->insecure;
    w->sopts.connect_timeout_ms = 1000;
    w->sopts.timeout_ms = 2000;
    memset(&so, 0, sizeof(so));
    so.scoreboard = o->scoreboard;
    so.status = w->sopts;
    w->src = sb_source_create(&so, NULL, NULL, NULL, p);
}

void sbtune_observer_close(sbtune_observer_t *w)
{
    if (w->src) {
        sb_source_close(w->src);
        w->src = NULL;
    }
}

static void look_at_scoreboard(sbtune_observer_t *w, sbtune_obs_t *ob, apr_pool_t *p)
{
    sb_sample_t *smp;
    int ev, i;

    if (sb_source_take(w->src, SB_SOURCE_SHM, p, &smp, &ev) != APR_SUCCESS) {
        ob->shm_gone = 1;
        snprintf(ob->err, sizeof(ob->err), "scoreboard: %s", sb_source_error(w->src));
        return;
    }
    ob->ok = 1;
    ob->gen = smp->server.generation;
    ob->server_limit = smp->server.server_limit;
    ob->thread_limit = smp->server.thread_limit;
    ob->nprocs = smp->nprocs;
    ob->proc_old = apr_pcalloc(p, sizeof(int) * (apr_size_t)(smp->nprocs + 1));
    for (i = 0; i < smp->nprocs; i++) {
        ob->proc_old[i] = smp->procs[i].pid > 0
                          && smp->procs[i].generation != smp->server.generation;
    }
}

static void look_at_status(sbtune_observer_t *w, sbtune_obs_t *ob, apr_pool_t *p)
{
    sb_sample_t *smp;
    int ev, i;

    if (sb_source_take(w->src, SB_SOURCE_STATUS, p, &smp, &ev) != APR_SUCCESS) {
        ob->status_down = 1;
        snprintf(ob->err + strlen(ob->err), sizeof(ob->err) - strlen(ob->err), "%s%s",
                 *ob->err ? "; " : "", sb_source_error(w->src));
        return;
    }
    ob->ok = 1;
    if (!w->scoreboard) {
        ob->gen = smp->server.generation;
    }
    ob->sb_len = smp->nworkers;
    ob->sb_line = apr_palloc(p, (apr_size_t)smp->nworkers + 1);
    for (i = 0; i < smp->nworkers; i++) {
        ob->sb_line[i] = sb_slot_table[smp->workers[i].state].ch;
    }
    ob->sb_line[smp->nworkers] = '\0';
    apr_cpystrn(ob->mpm, smp->server.mpm, sizeof(ob->mpm));
    apr_cpystrn(ob->version, smp->server.version, sizeof(ob->version));
}

void sbtune_observe(sbtune_observer_t *w, sbtune_obs_t *ob, apr_pool_t *p)
{
    memset(ob, 0, sizeof(*ob));
    ob->gen = ob->server_limit = ob->thread_limit = ob->sb_len = -1;
    ob->sb_line = apr_pstrdup(p, "");
    if (w->scoreboard) {
        look_at_scoreboard(w, ob, p);
    }
    if (w->status_url) {
        look_at_status(w, ob, p);
    }
}

int sbtune_observe_keepalive(sbtune_observer_t *w, sb_status_keepalive_t *h)
{
    return sb_status_keepalive(&w->sopts, h);
}
