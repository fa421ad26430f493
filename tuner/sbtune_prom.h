/*
 * sbtune_prom.h - the agent's series read back from a Prometheus server
 * (its HTTP API: /api/v1/query_range and /api/v1/query, over libcurl,
 * the answers parsed by jansson) into the minute rows the history holds,
 * so that "sbtune report --prometheus" and "sbtune fleet" plan from the
 * same inputs as "sbtune report --history" (sbtune(8), PROMETHEUS).
 *
 * Each minute [t, t+60) of the window (whole minutes, UTC) becomes one
 * sb_hist_minute_t: the counters' increase from t to t+60 (a counter that
 * went down restarted with the agent: its new value is the increase) over
 * the seconds the agent measured in it; the 60-second maxima
 * (sbtune_*_max60s) at t+60; the busy slots averaged over the minute's
 * scrapes.  The histograms (sb_hist's buckets, sbagent(8)) are summed over
 * the window and handed over in one more row without a rate.
 */
#ifndef SBTUNE_PROM_H
#define SBTUNE_PROM_H

#include <stdint.h>
#include <apr_pools.h>
#include <apr_tables.h>

#include "sb_history.h"
#include "sb_model.h"
#include "sb_mpm.h"

#define SBTUNE_EXIT_PROMETHEUS 6  /* Prometheus unreachable, an HTTP error, an
                                   * answer that is not the API's JSON */
#define SBTUNE_EXIT_NOINSTANCE 7  /* no agent's series (or several) for the
                                   * instance and selector */

typedef struct sbtune_prom sbtune_prom_t;

/* What the agent exports about httpd's settings (the latest value in the
 * window); unknown: <= 0, NaN, NULL. */
typedef struct {
    sb_mpm_t mpm;
    const char *version;
    int max_request_workers, server_limit, thread_limit, threads_per_child;
    double kat;                 /* KeepAliveTimeout, 0: KeepAlive Off */
    int64_t mem_total;
} sbtune_prom_settings_t;

/* A client of the server at url (http://host:port, maybe with a path
 * prefix), for the series matching selector ("{job=\"sbagent\"}"; "" or
 * "{}": any).  Returns NULL with a message in err when the selector is not
 * a {...} list of matchers. */
sbtune_prom_t *sbtune_prom_create(const char *url, const char *selector, char *err,
                                  apr_size_t errlen, apr_pool_t *p);

/* The message of the last failure: names the URL and the query. */
const char *sbtune_prom_error(const sbtune_prom_t *pr);

/* The instance labels of the agents with series in [from, to] (unix
 * seconds), sorted, into *out (const char *).  Returns 0 or an exit code. */
int sbtune_prom_instances(sbtune_prom_t *pr, int64_t from, int64_t to,
                          apr_array_header_t **out);

/* The window's minutes of instance, each to cb (as sb_history_minutes()
 * does; then one row of the window's histograms), and the settings.
 * Returns 0, SBTUNE_EXIT_PROMETHEUS or SBTUNE_EXIT_NOINSTANCE. */
int sbtune_prom_read(sbtune_prom_t *pr, const char *instance, int64_t from, int64_t to,
                     apr_status_t (*cb)(void *baton, const sb_hist_minute_t *row),
                     void *baton, sbtune_prom_settings_t *set);

/* An answer of /api/v1/query_range (body, len bytes) into n steps from
 * start: *nseries series, the first's values in *values (NaN: none; from
 * pr's pool).  Returns 0, or -1 with the message (sbtune_prom_error()).
 * For the fuzzer (tests/fuzz/fuzz_prom.c): the parse without the HTTP. */
int sbtune_prom_parse_range(sbtune_prom_t *pr, const char *body, size_t len, int64_t start,
                            int64_t step, int n, int *nseries, double **values);

/*
 * The settings in force for the plan: what cur, *mpm and *kat hold on
 * entry (the options: unknown <= 0, SB_MPM_UNKNOWN, NaN), else what the
 * agent exported (set), else httpd's defaults for the MPM.  src[i] (per
 * sb_directive_table index) and *mpm_src get where each came from.
 * Returns 0, or -1 when the MPM is unknown (no --mpm, no
 * sbtune_httpd_info).
 */
int sbtune_prom_current(const sbtune_prom_settings_t *set, sb_mpm_t *mpm,
                        sb_model_current_t *cur, double *kat, const char **src,
                        const char **mpm_src);

#endif
