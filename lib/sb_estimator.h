/*
 * sb_estimator.h - from raw samples to per-second and per-minute figures.
 *
 * The estimator is fed the scoreboard or mod_status samples (10 Hz from
 * shared memory by default) and the kernel's socket samples, and closes
 * whole seconds: slot-state means and maxima, requests/s from the access
 * counters, new connections/s, keep-alive occupancy, the accept queue, and
 * observations for the keep-alive distributions (gaps that ended with
 * another request, idle periods that ended with a close, requests per
 * connection, service time, slot hold time).  Seconds with no sample are
 * closed as gaps: nothing is invented.  See sbagent(8), ESTIMATORS.
 */
#ifndef SB_ESTIMATOR_H
#define SB_ESTIMATOR_H

#include <stdint.h>
#include <apr_pools.h>
#include "sb_sample.h"

/* Observations made during one second (values in seconds or counts). */
typedef struct {
    int n;
    int cap;
    double *v;
} sb_obs_t;

typedef enum {
    SB_OBS_KA_GAP = 0,      /* idle gap that ended with another request */
    SB_OBS_KA_CLOSE,        /* idle period that ended with a close */
    SB_OBS_REQ_PER_CONN,    /* requests on a finished connection */
    SB_OBS_SERVICE,         /* service time of a request */
    SB_OBS_HOLD,            /* time a connection held its slot */
    SB_OBS_LIFETIME,        /* a connection's life in the kernel, from the
                             * handshake to the first close (eBPF) */
    SB_OBS_N
} sb_obs_kind_t;

extern const char *const sb_obs_names[SB_OBS_N];

/* The kernel's view for one sample, as the estimator needs it. */
typedef struct {
    apr_time_t ts;
    int listen_queue;           /* sum of accept queues of the listen sockets */
    int listen_backlog;         /* sum of their limits */
    int established;            /* server-side connections not closing */
    int idle_keepalive;         /* ... of which idle between requests */
    int idle_late;              /* connections idle at the previous sample
                                 * that it could not tell yet (their
                                 * response had just gone out) */
    int new_conns;              /* connections first seen in this sample
                                 * (in a dump, or by the destroy feed) */
    int requests_seen;          /* request segments on tracked connections,
                                 * counted once httpd accepted them (a
                                 * connection seen only in TIME_WAIT: 1;
                                 * with the destroy feed also those that
                                 * came after a connection's last sample,
                                 * and those of unseen ones) */
    int vanished;               /* tracked connections the client closed
                                 * since the last sample */
    int tail_unknown;           /* ... of which the destroy feed did not
                                 * report the end: each may have carried
                                 * one last request unseen */
    int unseen_destroyed;       /* of new_conns: never seen in a dump, known
                                 * from the destroy feed */
    int have_destroyed;         /* the destroy feed reported all it freed */
    uint64_t listen_overflows;  /* cumulative, host-wide */
    int have_overflows;
} sb_kernel_view_t;

typedef struct {
    int64_t ts;                 /* unix second */
    sb_source_kind_t source;
    int generation;
    int samples;                /* raw samples in this second */
    int gap;                    /* 1: no sample (httpd unreachable) */
    int slots_total;            /* worker slots of the scoreboard */
    double busy_mean, busy_max, idle_mean;
    double keepalive_slots_mean, keepalive_slots_max;
    double keepalive_conns_mean, keepalive_conns_max; /* NAN without kernel */
    double reading_mean, writing_mean, closing_mean, graceful_mean, open_mean;
    double req_per_s;           /* NAN when unknown (no ExtendedStatus) */
    double conn_per_s;          /* arrivals: new clients whose handshake
                                 * completed, accepted or still queued;
                                 * NAN unknown */
    double accepted_per_s;      /* arrivals - the accept queue's growth */
    double conn_per_s_bpf;      /* handshakes counted by eBPF; NAN w/o */
    double refused_per_s;       /* connection attempts the kernel refused
                                 * while httpd's accept queue was full
                                 * (ListenOverflows: packets, not clients);
                                 * NAN w/o kernel */
    double closed_by_server_bpf, closed_by_client_bpf, closed_reset_bpf; /* NAN w/o */
    double conn_per_s_kernel;   /* new 4-tuples seen by sock_diag; NAN w/o */
    double conn_per_s_scoreboard; /* slot-transition estimate; NAN w/o */
    double req_per_s_kernel;    /* requests seen on tracked connections */
    double closed_by_client_kernel; /* tracked connections the client closed */
    double kbytes_per_s;
    double listen_queue_max;    /* NAN without kernel */
    double listen_overflows;    /* delta; NAN without kernel */
    int64_t pss_total_bytes;    /* -1 unknown */
    int64_t mem_available_bytes;/* -1 unknown */
    sb_obs_t obs[SB_OBS_N];
} sb_second_t;

typedef struct sb_estimator sb_estimator_t;

typedef void (*sb_second_cb)(const sb_second_t *sec, void *baton);

/* Create an estimator; per-second memory comes from subpools of p. */
sb_estimator_t *sb_estimator_create(apr_pool_t *p, sb_second_cb cb, void *baton);

/* Feed one scoreboard or mod_status sample (events: SB_SHM_EV_* of it).
 * Samples must come in time order; a sample in a later second closes the
 * earlier ones (calling cb for each, gaps included). */
void sb_estimator_add_sample(sb_estimator_t *e, const sb_sample_t *s, int events);

/* Feed the kernel's view (also in time order). */
void sb_estimator_add_kernel(sb_estimator_t *e, const sb_kernel_view_t *k);

/* Connection lifecycle counts of the eBPF source since its previous call
 * (handshakes completed, closes by who closed first), at ts. */
void sb_estimator_add_lifecycle(sb_estimator_t *e, apr_time_t ts, double arrivals,
                                double closed_server, double closed_client,
                                double closed_reset);

/* Add an observation made elsewhere (the kernel connection tracker) to
 * the second that contains ts. */
void sb_estimator_add_obs(sb_estimator_t *e, apr_time_t ts, sb_obs_kind_t kind, double v);

/* Memory figures for the current second. */
void sb_estimator_set_memory(sb_estimator_t *e, int64_t pss_total, int64_t mem_available);

/* Close every second that ended at least 'grace' before now (a second with
 * no sample is closed as a gap once a sample source has been seen). */
void sb_estimator_tick(sb_estimator_t *e, apr_time_t now, apr_interval_time_t grace);

/* Close the current second too (at exit). */
void sb_estimator_flush(sb_estimator_t *e);

/* Mean requests per connection: from counts (requests / arrivals over the
 * last 60 s) where the eBPF source counted at least 20 arrivals there,
 * else over the connections seen finishing so far (1 if none yet).  The
 * scale of the scoreboard connection estimate. */
double sb_estimator_req_per_conn(const sb_estimator_t *e);

#endif
