/*
 * sb_sample.h - the one normalized sample every source produces.
 *
 * A sample is a snapshot of httpd's worker slots at one moment, from the
 * scoreboard in shared memory (SB_SOURCE_SHM) or from mod_status's ?auto
 * page (SB_SOURCE_STATUS).  All memory hangs off the pool given to
 * sb_sample_create(); a sample is never shared between threads.
 */
#ifndef SB_SAMPLE_H
#define SB_SAMPLE_H

#include <stdint.h>
#include <sys/types.h>
#include <apr_pools.h>
#include <apr_time.h>

#include "sb_mpm.h"
#include "sb_slot.h"

typedef enum {
    SB_SOURCE_SHM = 0,
    SB_SOURCE_STATUS = 1
} sb_source_kind_t;

#define SB_UNKNOWN (-1)

/* Per worker slot; fields a source cannot see stay 0 / "" (status source:
 * only proc, thread and state are filled, from the Scoreboard: string). */
typedef struct {
    int proc;                   /* process slot (0..server_limit-1) */
    int thread;                 /* thread slot (0..thread_limit-1) */
    pid_t pid;                  /* owning process, 0 when unknown */
    int generation;
    sb_slot_state_t state;
    unsigned long access_count; /* requests served by this slot, all time */
    unsigned long my_access_count; /* ... by the current child */
    unsigned int conn_count;    /* requests on the current connection */
    int64_t bytes_served;
    int64_t conn_bytes;
    apr_time_t last_used;       /* 0 = never */
    apr_time_t start_time;      /* start of the last request */
    apr_time_t stop_time;       /* end of the last request */
    apr_time_t duration;        /* accumulated request time (usec) */
    char client[64];
    char vhost[32];
    char request[64];
    char protocol[16];
} sb_worker_t;

/* Per process slot; the connection gauges are filled by the event MPM only. */
typedef struct {
    int slot;
    pid_t pid;
    int generation;
    int quiescing;
    int not_accepting;
    uint32_t connections;
    uint32_t write_completion;
    uint32_t lingering_close;
    uint32_t keep_alive;
    uint32_t suspended;
    uint32_t wait_io;
} sb_process_t;

typedef struct {
    char version[64];           /* "Apache/2.4.71 (Debian)" or "" */
    char mpm[16];               /* "prefork", "worker", "event" or "" */
    sb_mpm_t mpm_id;            /* the same, SB_MPM_UNKNOWN for "" */
    int generation;             /* running generation (shm) / MPM generation */
    int config_generation;      /* status only; SB_UNKNOWN otherwise */
    apr_time_t restart_time;    /* 0 = unknown */
    int64_t uptime_s;           /* SB_UNKNOWN when unknown */
    int server_limit;           /* SB_UNKNOWN when unknown */
    int thread_limit;
    int max_workers;            /* MaxRequestWorkers, SB_UNKNOWN when unknown */
} sb_server_t;

/* Event MPM connection figures from mod_status (SB_UNKNOWN when absent). */
typedef struct {
    int processes;
    int stopping;
    int conns_total;
    int async_wait_io;
    int async_writing;
    int async_keepalive;
    int async_closing;
} sb_async_t;

typedef struct {
    apr_time_t ts;              /* when the sample was taken */
    sb_source_kind_t source;
    sb_server_t server;

    unsigned int slots[SB_SLOT_NSTATES]; /* count of slots per state */
    unsigned int busy;          /* mod_status's BusyWorkers rule */
    unsigned int graceful_busy; /* GracefulWorkers */
    unsigned int idle;          /* IdleWorkers (ready slots of live children) */

    int nworkers;               /* server_limit * thread_limit, or status length */
    sb_worker_t *workers;       /* index proc * thread_limit + thread */
    int nprocs;
    sb_process_t *procs;        /* NULL for the status source */
    sb_async_t async;

    int has_totals;             /* totals below are valid */
    uint64_t total_accesses;
    uint64_t total_kbytes;
    uint64_t total_duration_ms;
    int extended_status;        /* 1 on, 0 off, SB_UNKNOWN */
} sb_sample_t;

/* Allocate a zeroed sample from p with every "unknown" field set to
 * SB_UNKNOWN.  Never fails (APR aborts on out of memory). */
sb_sample_t *sb_sample_create(apr_pool_t *p);

/* Allocate room for nworkers workers and nprocs processes (either may be 0). */
void sb_sample_alloc(sb_sample_t *s, apr_pool_t *p, int nworkers, int nprocs);
/* The same without zeroing: for a source that fills every field of every
 * worker and process (the scoreboard's decoder). */
void sb_sample_alloc_uninit(sb_sample_t *s, apr_pool_t *p, int nworkers, int nprocs);

/* A deep copy of s from p (to hand a sample from one thread's pool to
 * another's). */
sb_sample_t *sb_sample_copy(const sb_sample_t *s, apr_pool_t *p);

/* Recount s->slots[], busy, idle and graceful_busy from s->workers and, when
 * present, s->procs, with mod_status's rules: only children that are not
 * quiescing count; idle counts ready slots of the current generation. */
void sb_sample_count(sb_sample_t *s);

/* What sb_sample_count() adds for one slot in state st of process ps
 * (NULL: not known), for a source that counts while it decodes (the
 * counters zeroed first). */
static inline void sb_sample_count_one(sb_sample_t *s, sb_slot_state_t st,
                                       const sb_process_t *ps)
{
    if (st >= SB_SLOT_NSTATES) {
        return;
    }
    s->slots[st]++;
    /* mod_status counts only live, non-quiescing children */
    if (ps && (ps->quiescing || ps->pid == 0)) {
        return;
    }
    if (st == SB_SLOT_READY) {
        if (!ps || ps->generation == s->server.generation) {
            s->idle++;
        }
    }
    else if (st == SB_SLOT_GRACEFUL) {
        s->graceful_busy++;
    }
    else if (sb_slot_table[st].busy) {
        s->busy++;
    }
}

const char *sb_source_name(sb_source_kind_t src);

#endif
