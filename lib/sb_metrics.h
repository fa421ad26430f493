/*
 * sb_metrics.h - the agent's figures in Prometheus text exposition format.
 *
 * sb_metrics_update() folds each closed second into gauges (the last
 * second) and counters (totals since the agent started); sb_metrics_render()
 * writes the exposition text.  Names follow Prometheus conventions: base
 * units (seconds, bytes), "_total" for counters.  Client addresses are
 * never rendered unless the operator turned export_clients on.  Each
 * metric is documented in sbagent(8), METRICS.
 */
#ifndef SB_METRICS_H
#define SB_METRICS_H

#include <stdint.h>
#include <apr_pools.h>
#include "sb_estimator.h"

typedef struct sb_metrics sb_metrics_t;

sb_metrics_t *sb_metrics_create(apr_pool_t *p);

/* Server identity of the latest sample (strings copied). */
void sb_metrics_set_server(sb_metrics_t *m, const char *version, const char *mpm,
                           int generation, int server_limit, int thread_limit);

/* httpd's settings as the agent knows them (its options): unknown <= 0,
 * keepalive_timeout NaN (0 is KeepAlive Off). */
typedef struct {
    int max_request_workers;
    double keepalive_timeout;
    int threads_per_child;
} sb_metrics_settings_t;

/* The settings, and the host's MemTotal (-1 unknown). */
void sb_metrics_set_settings(sb_metrics_t *m, const sb_metrics_settings_t *set,
                             int64_t mem_total);

/* Whether the latest sample attempt succeeded, and from which source. */
void sb_metrics_set_up(sb_metrics_t *m, int up, sb_source_kind_t source);

/* Fold one closed second in. */
void sb_metrics_update(sb_metrics_t *m, const sb_second_t *s);

/* Slots held per client address over the last second (export_clients). */
void sb_metrics_set_clients(sb_metrics_t *m, int n, const char *const *clients,
                            const double *slots);

/* Render the exposition text into a string allocated from p. */
const char *sb_metrics_render(const sb_metrics_t *m, int export_clients, apr_pool_t *p);


#endif
