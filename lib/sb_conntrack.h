/*
 * sb_conntrack.h - following httpd's client connections in the kernel's
 * socket tables from one sock_diag sample to the next.
 *
 * Connections are keyed by their 4-tuple: the kernel's cookie is not kept
 * from a half-open request sock to the established socket, and a 4-tuple
 * seen in TIME_WAIT and then established again is a new connection (the
 * client reused its port).  From each sample it derives: connections
 * first seen (the arrival count), idle keep-alive connections (established,
 * the last response sent after the last request arrived, nothing queued),
 * the idle gaps that ended with another request on the same connection,
 * the idle periods that ended with a close (and who closed), and the
 * accept-queue length.  With the kernel's destroy feed (see
 * sb_kernel_sample_t) each connection's end comes with its final request
 * count, and connections that came and went between two samples are
 * counted.  See sbagent(8), ESTIMATORS, for the error bounds.
 */
#ifndef SB_CONNTRACK_H
#define SB_CONNTRACK_H

#include "sb_estimator.h"
#include "sb_kernel.h"

typedef struct sb_conntrack sb_conntrack_t;

/* Called for each observation (kind SB_OBS_KA_GAP, SB_OBS_KA_CLOSE, and
 * SB_OBS_REQ_PER_CONN when a tracked connection closes) with
 * the time it was made and its value in seconds. */
typedef void (*sb_conntrack_obs_cb)(void *baton, apr_time_t ts, sb_obs_kind_t kind, double v);

typedef struct {
    uint64_t closed_by_server;  /* idle connections the server closed */
    uint64_t closed_by_client;  /* ... the client closed */
    uint64_t tracked;           /* connections in the table now */
} sb_conntrack_stats_t;

/* A tracker whose table is malloc'ed (freed by sb_conntrack_destroy, also
 * registered as a cleanup of p). */
sb_conntrack_t *sb_conntrack_create(apr_pool_t *p, sb_conntrack_obs_cb cb, void *baton);

/* Fold one kernel sample in and fill *view (ts, listen queue, established,
 * idle keep-alive, new connections, ListenOverflows).  The connections of
 * the first sample are the baseline: they are not counted as new. */
void sb_conntrack_update(sb_conntrack_t *t, const sb_kernel_sample_t *k, sb_kernel_view_t *view);

void sb_conntrack_stats(const sb_conntrack_t *t, sb_conntrack_stats_t *out);

void sb_conntrack_destroy(sb_conntrack_t *t);

#endif
