/*
 * sb_policy.h - when sbtune may change httpd: the hysteresis (a threshold
 * under which a difference is left alone, a bounded step per run in
 * either direction), the minimum interval since the last applied change,
 * and the spike check (no change while the newest minutes are a spike).
 * Pure: no I/O, no clock; the caller passes the times.
 */
#ifndef SB_POLICY_H
#define SB_POLICY_H

#include <stdint.h>
#include <apr_pools.h>
#include "sb_directive.h"
#include "sb_model.h"

typedef struct {
    double threshold_pct;       /* no change under this % of the current value (10) */
    double step_up_pct;         /* grow by at most this % per run; 0: no bound (100) */
    double step_down_pct;       /* shrink by at most this % per run; 0: no bound (50) */
    double min_interval_s;      /* least time since the last applied change (3600) */
    int spike_minutes;          /* minutes that make "now"; 0: no spike check (3) */
    double spike_ratio;         /* a spike: above this x the busiest-window mean (1.5) */
    int overload;               /* 1: the plan found httpd overloaded
                                 * (sb_model_overload()) in the history recorded
                                 * since the last applied change: no minimum
                                 * interval, no queue-growth spike, and the
                                 * step bounds lifted towards the plan (0) */
    int allow_stop_start;       /* 1: ServerLimit/ThreadLimit may grow (a stop
                                 * and start); 0: in overload, MaxRequestWorkers
                                 * is capped at what the running ServerLimit
                                 * holds, so that a graceful reload can apply
                                 * it (0) */
} sb_policy_t;

/* The defaults above. */
void sb_policy_defaults(sb_policy_t *po);

#define SB_POLICY_RECENT_MAX 64

/* The newest minutes of the history, a ring in time order. */
typedef struct {
    int n;                      /* minutes added (the ring keeps the last ones) */
    int64_t ts[SB_POLICY_RECENT_MAX];
    double conn[SB_POLICY_RECENT_MAX];  /* new connections/s, mean; NaN unknown */
    int64_t lq[SB_POLICY_RECENT_MAX];   /* accept queue, max; < 0 unknown */
} sb_policy_recent_t;

/* Add the next (newer) minute. */
void sb_policy_recent_add(sb_policy_recent_t *r, int64_t ts, double conn_per_s,
                          int64_t listen_queue_max);

/*
 * Whether "now" is a spike: the mean connection rate of the newest
 * spike_minutes minutes (those with a rate) above spike_ratio x busy (the
 * busiest-window mean), or, with spike_minutes >= 2 and one more minute
 * before them, the accept queue longer in each of them than in the minute
 * before (not with po->overload: a queue that grows is the overload, not
 * a spike).  Returns 1 with the reason in words, else 0 (words "").
 */
int sb_policy_spike(const sb_policy_t *po, const sb_policy_recent_t *r, double busy,
                    char *words, apr_size_t len);

/*
 * Whether the minimum interval holds a change back: last_change (unix s,
 * <= 0 none) less than min_interval_s before now, unless po->overload
 * (the caller planned from the history since that change only).  Returns
 * 1 with the reason in words, else 0.
 */
int sb_policy_too_soon(const sb_policy_t *po, int64_t last_change, int64_t now,
                       char *words, apr_size_t len);

/*
 * One setting through the hysteresis (sb_model_should_change() with the
 * step bound of the direction): *next gets the value to write; a line
 * "name: why" is appended to *log (from p).  Returns 1 to change, 0 not.
 */
int sb_policy_value(const sb_policy_t *po, long cur, long rec, long multiple, long *next,
                    const char *name, char **log, apr_pool_t *p);

/*
 * The directives to write next, from the plan and the settings in force:
 * KeepAliveTimeout and MaxRequestWorkers through the hysteresis (the
 * slots re-planned at the timeout actually written when its step was
 * bounded: plan is replaced then), KeepAlive when it flips, a new
 * ThreadsPerChild taken as planned, ServerLimit following a bounded
 * MaxRequestWorkers (with the plan's headroom, never below the current
 * one).  With po->overload, MaxRequestWorkers grows and KeepAliveTimeout
 * shrinks to the plan in one step (the plan, made from the arrivals, is
 * bounded by memory and ServerLimit): with the threshold the only
 * hysteresis, an overload is resolved in the first cycle whose estimates
 * hold (without po->allow_stop_start, capped at what the running
 * ServerLimit holds, with its headroom), and each further cycle plans from the data since the change
 * (sbtune(8): at most three cycles).  *log (from p) gets the reasoning,
 * one line per setting.  Returns 1 when something changes, 0 when every difference is
 * under the threshold.
 */
int sb_policy_next(const sb_policy_t *po, const sb_model_config_t *cfg,
                   const sb_model_inputs_t *in, const sb_model_current_t *cur,
                   sb_model_plan_t *plan, sb_directives_t *d, char **log, apr_pool_t *p);

#endif
