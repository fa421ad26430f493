#include "config.h"
#include <string.h>
#include <apr_strings.h>
#include "sb_sample.h"

sb_sample_t *sb_sample_create(apr_pool_t *p)
{
    sb_sample_t *s = apr_pcalloc(p, sizeof(*s));
    s->server.generation = SB_UNKNOWN;
    s->server.mpm_id = SB_MPM_UNKNOWN;
    s->server.config_generation = SB_UNKNOWN;
    s->server.uptime_s = SB_UNKNOWN;
    s->server.server_limit = SB_UNKNOWN;
    s->server.thread_limit = SB_UNKNOWN;
    s->server.max_workers = SB_UNKNOWN;
    s->async.processes = SB_UNKNOWN;
    s->async.stopping = SB_UNKNOWN;
    s->async.conns_total = SB_UNKNOWN;
    s->async.async_wait_io = SB_UNKNOWN;
    s->async.async_writing = SB_UNKNOWN;
    s->async.async_keepalive = SB_UNKNOWN;
    s->async.async_closing = SB_UNKNOWN;
    s->extended_status = SB_UNKNOWN;
    return s;
}

void sb_sample_alloc(sb_sample_t *s, apr_pool_t *p, int nworkers, int nprocs)
{
    s->nworkers = nworkers;
    s->workers = nworkers > 0 ? apr_pcalloc(p, sizeof(*s->workers) * (apr_size_t)nworkers) : NULL;
    s->nprocs = nprocs;
    s->procs = nprocs > 0 ? apr_pcalloc(p, sizeof(*s->procs) * (apr_size_t)nprocs) : NULL;
}

void sb_sample_alloc_uninit(sb_sample_t *s, apr_pool_t *p, int nworkers, int nprocs)
{
    s->nworkers = nworkers;
    s->workers = nworkers > 0 ? apr_palloc(p, sizeof(*s->workers) * (apr_size_t)nworkers) : NULL;
    s->nprocs = nprocs;
    s->procs = nprocs > 0 ? apr_palloc(p, sizeof(*s->procs) * (apr_size_t)nprocs) : NULL;
}

sb_sample_t *sb_sample_copy(const sb_sample_t *s, apr_pool_t *p)
{
    sb_sample_t *c = apr_pmemdup(p, s, sizeof(*s));

    c->workers = s->nworkers > 0
                 ? apr_pmemdup(p, s->workers, sizeof(*s->workers) * (apr_size_t)s->nworkers) : NULL;
    c->procs = s->nprocs > 0
               ? apr_pmemdup(p, s->procs, sizeof(*s->procs) * (apr_size_t)s->nprocs) : NULL;
    return c;
}

void sb_sample_count(sb_sample_t *s)
{
    int i;

    memset(s->slots, 0, sizeof(s->slots));
    s->busy = s->idle = s->graceful_busy = 0;
    for (i = 0; i < s->nworkers; i++) {
        const sb_worker_t *w = &s->workers[i];
        const sb_process_t *ps = NULL;

        if (s->procs && w->proc >= 0 && w->proc < s->nprocs) {
            ps = &s->procs[w->proc];
        }
        sb_sample_count_one(s, w->state, ps);
    }
}

const char *sb_source_name(sb_source_kind_t src)
{
    return src == SB_SOURCE_SHM ? "shm" : "status";
}
