/*
 * sb_model.h - the capacity model: from measured (or estimated) arrivals,
 * hold times and keep-alive gaps to KeepAliveTimeout and MaxRequestWorkers.
 *
 * Pure arithmetic: no I/O, no clock, no global state.  The tuner reads the
 * history (sb_history_minutes() into sb_model_history_add()) or takes the
 * calculator's estimates, and hands them to sb_model_plan().
 *
 * The model (DESIGN.md, "The capacity model"; the planning article):
 *
 *   slots = arrival rate x time each client holds a slot     (L = lambda W)
 *
 * with the hold time W of a connection on prefork/worker made of the
 * service time of its requests, the idle gaps between them and the final
 * keep-alive wait (until KeepAliveTimeout or the client's own close).
 * Arrivals are random, so the slot count is the smallest N whose Erlang C
 * probability that a new client waits in the accept queue is under a
 * target (default 1 %), which is more than lambda W.  The event MPM keeps
 * idle keep-alive connections out of its workers: workers are sized from
 * active requests, and its connection ceiling is checked instead.
 *
 * Every result carries its arithmetic in words, and the main uncertainty.
 */
#ifndef SB_MODEL_H
#define SB_MODEL_H

#include <stdint.h>
#include <apr_pools.h>
#include "sb_directive.h"
#include "sb_history.h"

#define SB_MODEL_TEXT_MAX  8192     /* arithmetic */
#define SB_MODEL_NOTE_MAX  1024     /* uncertainty, missing data, kat words */

/* httpd's compile-time ceilings (MAX_SERVER_LIMIT, MAX_THREAD_LIMIT). */
#define SB_MODEL_PREFORK_MAX_SERVER_LIMIT 200000
#define SB_MODEL_THREADED_MAX_SERVER_LIMIT 20000
#define SB_MODEL_MAX_THREAD_LIMIT 100000

/* The overload rule (sb_model_overload()): an accept queue or refused
 * attempts in at least this share of the minutes, and in at least
 * min(min_minutes, SB_MODEL_OVERLOAD_MINUTES) of them. */
#define SB_MODEL_OVERLOAD_SHARE 0.5
#define SB_MODEL_OVERLOAD_MINUTES 5

/* Largest slot count sb_model_slots_for() searches. */
#define SB_MODEL_MAX_SLOTS 10000000


/* ------------------------------------------------------------------ queueing */

/*
 * Erlang C: the probability that a new arrival waits, with n servers and
 * offered load a = lambda W (in erlangs).  Computed through the Erlang B
 * recursion B(k) = a B(k-1) / (k + a B(k-1)), which stays within [0, 1] and
 * is stable for any n (O(n) time).  Returns 1 when a >= n (the queue grows
 * without bound), 0 when a == 0, NaN for n < 1, a < 0 or a NaN.
 */
double sb_model_erlang_c(int n, double a);

/*
 * The smallest n > a with sb_model_erlang_c(n, a) <= target_wait_prob
 * (0 < target < 1).  Nondecreasing in a, nonincreasing in the target.
 * Returns -1 for invalid arguments or when n would exceed
 * SB_MODEL_MAX_SLOTS.
 */
int sb_model_slots_for(double a, double target_wait_prob);

/*
 * The largest offered load n slots carry with P(wait) <= target (found by
 * bisection to 1e-9 erlang).  Divide by the hold time for the rate.
 * NaN for n < 1 or a target outside (0, 1).
 */
double sb_model_load_for(int n, double target_wait_prob);

/*
 * The smallest m with P(X <= m) >= q for X ~ Poisson(mean): the number of
 * simultaneously open connections when arrivals are random and connections
 * are never refused (M/G/infinity).  -1 for invalid arguments.
 */
long sb_model_poisson_quantile(double mean, double q);

/* ------------------------------------------------------------------ configuration */

typedef struct {
    sb_mpm_t mpm;
    double spike_factor;        /* x busy-period mean (default 2.5) */
    int busy_window_min;        /* busiest window, minutes (default 60) */
    double target_wait;         /* Erlang C target (default 0.01) */
    double ka_target_share;     /* follow-up requests to keep (default 0.95) */
    int min_kat;                /* shortest sensible KeepAliveTimeout (default 1) */
    int max_kat;                /* longest to recommend; 0: the current one */
    int threads_per_child;      /* worker/event (default 25) */
    double async_factor;        /* AsyncRequestWorkerFactor (default 2) */
    double server_limit_headroom; /* extra processes (prefork: children) as a
                                 * share of the needed ones, at least 1, for
                                 * those finishing gracefully after a reload
                                 * (default 0.25) */
    double mem_share;           /* share of MemTotal for httpd (default 0.75) */
    int64_t mem_reserve_bytes;  /* taken off for other services (default 0) */
    int64_t mem_budget_bytes;   /* > 0: the budget itself, share and reserve unused */
    int min_minutes;            /* history needed (default 60) */
    uint64_t min_gaps;          /* keep-alive gaps needed (default 100) */
    uint64_t min_conns;         /* connections needed (default 100) */
} sb_model_config_t;

void sb_model_config_defaults(sb_model_config_t *cfg);

/* httpd's settings in force: the directives (sb_directive.h); a value
 * <= 0 (keepalive: < 0) is unknown. */
typedef sb_directives_t sb_model_current_t;

/* All unknown. */
void sb_model_current_init(sb_model_current_t *cur);

/* httpd 2.4's compiled-in defaults for mpm (prefork 256/256; worker and
 * event 400 = 16 x 25, ThreadLimit 64; KeepAlive On, 5 s) for every field
 * of cur that is unknown; returns a bit mask of the fields it filled
 * (1 kat, 2 MaxRequestWorkers, 4 ServerLimit, 8 ThreadsPerChild,
 * 16 ThreadLimit, 32 KeepAlive). */
int sb_model_current_defaults(sb_model_current_t *cur, sb_mpm_t mpm);

/* ------------------------------------------------------------------ inputs */

/*
 * What the plan is made from.  Either measured distributions (history:
 * the histograms, censored at kat) or summary estimates (the calculator:
 * hold_time_s and optionally service_time_s and req_per_conn).  Unknown
 * doubles are NaN, unknown integers <= 0.
 */
typedef struct {
    int from_history;           /* 1: the missing-data rules apply */
    int minutes;                /* minutes of history with a rate */
    int64_t first_ts, last_ts;  /* their span */
    int64_t busy_start_ts;      /* start of the busiest window */
    int busy_minutes;           /* minutes in it */
    double busy_conn_per_s;     /* busiest-window mean of arrivals/s */
    double busy_accepted_per_s; /* ... of what httpd accepted; NaN unknown */
    double peak_conn_per_s;     /* highest short-window (1 s) peak, or the
                                 * rate to plan for (calculator) */
    double busy_req_per_s;      /* requests/s in the busiest window */
    /* distributions measured while KeepAliveTimeout was kat */
    const sb_hist_t *gap;       /* idle gaps followed by a request, s */
    const sb_hist_t *close_idle; /* last idle period, ended by a close, s */
    const sb_hist_t *req_per_conn; /* requests per connection */
    const sb_hist_t *service;   /* service time per request, s */
    const sb_hist_t *hold;      /* measured slot hold per connection, s (a
                                 * cross-check of the model at kat) */
    /* summary estimates, used where the histograms are absent */
    double hold_time_s;         /* slot hold per connection, final wait included */
    double service_time_s;      /* per request */
    double req_per_conn_mean;
    /* the timeout the figures were taken at */
    int keepalive;              /* 1 On, 0 Off */
    double kat;                 /* KeepAliveTimeout, s; NaN unknown */
    /* memory */
    int64_t pss_per_worker_bytes; /* PSS of one worker slot (prefork: one
                                 * child; threaded: a child's PSS / threads) */
    int64_t mem_total_bytes;
    int64_t mem_available_min_bytes;
    /* evidence of queueing */
    int64_t listen_queue_max;
    int64_t listen_overflows;
    int64_t refused;            /* attempts refused while httpd's queue was
                                 * full; -1 unknown */
    /* evidence of overload (history) */
    int queued_minutes;         /* minutes with an accept queue or refused attempts */
    double queued_share;        /* their share of the time (each minute weighted
                                 * by its seconds); NaN unknown */
    int64_t queued_busy_min;    /* the lowest busy_max of those minutes; -1 unknown */
    double busy_slots_mean;     /* busy slots, mean over the minutes; NaN unknown */
    double accepted_mean;       /* accepted connections/s, mean over the same
                                 * minutes; NaN unknown */
    double served_req_per_conn; /* requests served / connections accepted over the
                                 * window (a lower bound when queued clients give
                                 * up); NaN unknown */
    /* set by the plan: requests per connection estimated (overload) where
     * the measured distribution is too thin; NaN: not estimated */
    double req_per_conn_est;
} sb_model_inputs_t;

/* Everything unknown, keepalive on, from_history 0. */
void sb_model_inputs_init(sb_model_inputs_t *in);

/* ------------------------------------------------------------------ history */

/*
 * Accumulates minute rows (sb_history_minutes() callback) into inputs:
 * merged histograms, the busiest window's mean rate, the highest peak,
 * the largest PSS per worker, the lowest MemAvailable, the longest accept
 * queue and the refused clients.  Memory from p.
 */
typedef struct sb_model_history sb_model_history_t;

sb_model_history_t *sb_model_history_create(apr_pool_t *p);

/* Add one minute (any order; rows are not deduplicated).  Rows without a connection rate count for the distributions
 * only.  Returns APR_SUCCESS (usable as the reader's callback through
 * sb_model_history_minute_cb). */
apr_status_t sb_model_history_add(sb_model_history_t *h, const sb_hist_minute_t *row);
apr_status_t sb_model_history_minute_cb(void *baton, const sb_hist_minute_t *row);

/*
 * Fill in (from sb_model_inputs_init() first, then from the minutes): the
 * busiest window is the busy_window_min-minute span (by timestamps, gaps in
 * the history included) with the highest mean of per-minute
 * conn_per_s_mean (each minute weighted by the seconds it covers: a
 * partial minute, the agent starting or stopping in it, weighs less)
 * among windows holding at least half that many minutes (all minutes when
 * the history is shorter).  The histograms point into h.
 * kat, keepalive and mem_total_bytes are the caller's (the history does not
 * hold them).
 */
void sb_model_history_inputs(const sb_model_history_t *h, const sb_model_config_t *cfg,
                             sb_model_inputs_t *in);

/* ------------------------------------------------------------------ hold time */

typedef struct {
    double kat;                 /* the timeout evaluated, s */
    double requests;            /* requests per client visit (as measured) */
    double service_s;           /* their service time, s; NaN unknown */
    double gaps_s;              /* idle gaps spent on the connection, s; NaN unknown */
    double active_s;            /* service_s + gaps_s */
    double final_wait_s;        /* last keep-alive wait: min(kat, client's close) */
    double session_s;           /* slot-seconds per client visit */
    double reconnects;          /* extra connections per visit: follow-ups whose
                                 * gap exceeds kat */
    double rate_factor;         /* lambda' / lambda = 1 + reconnects */
    double hold_s;              /* W per connection = session_s / rate_factor */
    double kept_share;          /* share of the follow-up requests seen that stay
                                 * on their connection; NaN without gap data */
} sb_model_hold_t;

/*
 * The hold time per connection at KeepAliveTimeout kat (s, > 0; 0 means
 * KeepAlive Off), from in's distributions when in->gap is set, else from
 * in->hold_time_s (split into an active part and a final wait of
 * min(hold, in->kat)).  With the histograms, for a kat shorter than the
 * measured one each follow-up whose gap exceeds kat becomes a new
 * connection after a kat wait: arrivals grow by rate_factor and each
 * connection holds less, the slot demand lambda x session_s stays exact.
 * A kat longer than the measured one is evaluated as the measured one
 * (nothing beyond it was seen).  Returns parts->hold_s, or NaN (parts
 * filled as far as known) when in lacks what is needed.
 */
double sb_model_hold_time(const sb_model_inputs_t *in, double kat, sb_model_hold_t *parts);

/* ------------------------------------------------------------------ KeepAliveTimeout */

typedef struct {
    int kat;                    /* recommended, whole seconds */
    double quantile_s;          /* the target quantile of the gaps seen */
    double kept_share;          /* share of the follow-ups seen that kat keeps */
    int censored;               /* 1: the quantile is at or near the current
                                 * timeout: the data cannot show whether a
                                 * longer one would keep more */
    uint64_t gaps;              /* observations */
    char words[SB_MODEL_NOTE_MAX];
} sb_model_kat_t;

/*
 * The smallest whole-second KeepAliveTimeout in [min_kat, max_kat] (max_kat
 * <= 0: current_kat) that keeps target_share of the follow-up requests on
 * their connection, from the gaps seen while current_kat was in force.
 * Gaps beyond current_kat were never seen, so when the target quantile is
 * within one histogram bucket of current_kat (or above), the result is
 * current_kat (capped at max_kat) with censored set and words that say so.
 * Returns 0, or -1 (out->words says why) when gap is NULL or empty or an
 * argument is invalid.
 */
int sb_model_choose_kat(const sb_hist_t *gap, double current_kat, double target_share,
                        int min_kat, int max_kat, sb_model_kat_t *out);

/* ------------------------------------------------------------------ design rate */

/*
 * max(spike_factor x busy_mean, peak), ignoring unknown (NaN or negative)
 * terms; NaN when both are unknown.  words (may be NULL) gets the sentence.
 */
double sb_model_design_rate(double spike_factor, double busy_mean, double peak,
                            char *words, apr_size_t len);

/* ------------------------------------------------------------------ hysteresis */

/*
 * Whether to move a setting from current towards recommended: no change
 * when they differ by less than threshold_pct of current; otherwise at
 * most max_step_pct of current per run (max_step_pct <= 0: no bound),
 * at least one unit, in multiples of `multiple` (>= 1, e.g.
 * ThreadsPerChild) measured from current.  current <= 0 (unknown) moves
 * straight to recommended.  *next gets the value to apply (current when
 * there is no change); why (may be NULL) the reason.  Returns 1 to change,
 * 0 not.
 */
int sb_model_should_change(long current, long recommended, double threshold_pct,
                           double max_step_pct, long multiple, long *next,
                           char *why, apr_size_t whylen);

/* ------------------------------------------------------------------ the plan */

typedef enum {
    SB_MODEL_OK = 0,            /* a recommendation that fits */
    SB_MODEL_NODATA = 1,        /* too little data: none (missing says what) */
    SB_MODEL_NOFIT = 2,         /* memory cannot hold the slots at any sensible
                                 * KeepAliveTimeout: the recommendation is the
                                 * fallback (KeepAlive Off, or the event MPM) */
    SB_MODEL_EINVAL = 3         /* invalid configuration or inputs (missing says) */
} sb_model_status_t;

/* One MPM sizing. */
typedef struct {
    int keepalive;              /* 1 On, 0 Off */
    int kat;                    /* s; 0 with KeepAlive Off */
    int slots;                  /* Erlang C slots (before rounding) */
    double needed;              /* slots needed before the MPM's rounding (event:
                                 * the connection ceiling's need included) */
    int max_request_workers;
    int server_limit;
    int threads_per_child;      /* 0 for prefork */
    int thread_limit;           /* 0 for prefork */
    int processes;              /* child processes at full size */
    double conn_per_s;          /* lambda' at kat */
    double offered_load;        /* erlangs the slots must carry */
    double littles_slots;       /* lambda' W (the article's figure) */
    double wait_prob;           /* Erlang C at max_request_workers */
    /* event */
    double request_load;        /* lambda_requests x service time */
    double conn_load;           /* lambda' W: open connections on average */
    long design_conns;          /* Poisson quantile of conn_load */
    double conn_ceiling;        /* MRW + factor x idle workers at design load */
    sb_model_hold_t hold;
} sb_model_sizing_t;

/* The directives of a sizing: ThreadsPerChild and ThreadLimit only for
 * worker and event, KeepAliveTimeout only with KeepAlive On; the rest of
 * d unset. */
void sb_model_sizing_directives(sb_directives_t *d, const sb_model_sizing_t *s,
                                sb_mpm_t mpm);

typedef struct {
    sb_model_status_t status;
    sb_mpm_t mpm;
    int overloaded;             /* the overload rule holds (sb_model_overload()) */
    char overload[SB_MODEL_NOTE_MAX];   /* its evidence, in words */
    char estimated[SB_MODEL_NOTE_MAX];  /* inputs estimated or bounded, and how */
    sb_model_sizing_t rec;      /* the recommendation (the fallback on NOFIT) */
    int has_event_alt;          /* NOFIT on prefork/worker: event sizing below */
    sb_model_sizing_t event_alt;
    int needs_full_restart;     /* ServerLimit/ThreadLimit grow beyond current */
    int kat_memory_limited;     /* the timeout was shortened to fit memory */
    int kat_censored;
    int kat_from_data;          /* chosen from the gap distribution */
    sb_model_kat_t kat_choice;
    double design_conn_per_s;
    double spike_factor;
    double busy_conn_per_s;
    double peak_conn_per_s;
    double mem_budget_bytes;    /* NaN when no memory check */
    long mem_max_workers;       /* -1 when no memory check */
    int fits_memory;            /* 1 yes, 0 no, -1 not checked */
    char arithmetic[SB_MODEL_TEXT_MAX];
    char uncertainty[SB_MODEL_NOTE_MAX];
    char missing[SB_MODEL_NOTE_MAX];
} sb_model_plan_t;

/*
 * The plan.  cur may be NULL (nothing known about httpd's settings).
 * Steps: design rate; KeepAliveTimeout (from the gaps, or the given one);
 * hold time at it; Erlang C slots; MPM rounding; the memory cap, shortening
 * the timeout down to cfg->min_kat when that lets the slots fit, else the
 * fallback (KeepAlive Off for prefork and worker, with the event MPM's
 * sizing alongside); needs_full_restart against cur.
 * In overload (sb_model_overload(); plan->overloaded) the history may be
 * thinner: min(min_minutes, SB_MODEL_OVERLOAD_MINUTES) minutes, any
 * keep-alive gaps at all, and the requests per connection estimated as
 * in->served_req_per_conn where fewer than min_conns connections were
 * counted; plan->estimated names each estimate.  ServerLimit is never
 * below the current one, and prefork's leaves server_limit_headroom (at
 * least one) for children finishing gracefully after a reload.
 * Returns plan->status: SB_MODEL_OK, SB_MODEL_NOFIT, SB_MODEL_NODATA or
 * SB_MODEL_EINVAL (plan->missing says what is missing or wrong; no
 * recommendation then).
 */
sb_model_status_t sb_model_plan(const sb_model_config_t *cfg, const sb_model_inputs_t *in,
                                const sb_model_current_t *cur, sb_model_plan_t *plan);

/*
 * The overload rule: the history (in->from_history) shows httpd in
 * trouble, not merely busy.  An accept queue (or refused attempts) in at
 * least SB_MODEL_OVERLOAD_SHARE of the time (the minutes with a rate,
 * weighted by the seconds they cover), and in at least
 * min(cfg->min_minutes, SB_MODEL_OVERLOAD_MINUTES) minutes, together with
 * one of: refused attempts; every slot busy in each of those minutes
 * (prefork and worker: busy_max >= the current MaxRequestWorkers, cur may
 * be NULL: unknown); httpd accepting under 90 % of the arrivals.  Returns
 * 1 with the evidence in words (may be NULL), else 0.
 */
int sb_model_overload(const sb_model_config_t *cfg, const sb_model_inputs_t *in,
                      const sb_model_current_t *cur, char *words, apr_size_t len);

/*
 * Capacity of n slots at a hold time of hold_s: *littles_rate = n / hold
 * (every slot busy all the time), *erlang_rate = the rate whose P(wait) is
 * target.  words (may be NULL) gets the arithmetic.  Returns 0, or -1 for
 * invalid arguments.
 */
int sb_model_capacity(int n, double hold_s, double target, double *littles_rate,
                      double *erlang_rate, char *words, apr_size_t len);

#endif
