/*
 * sb_policy.c - hysteresis, step bounds, minimum interval and the spike
 * check (contracts in sb_policy.h).
 */
#include "config.h"
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <apr_strings.h>

#include "sb_policy.h"

void sb_policy_defaults(sb_policy_t *po)
{
    po->threshold_pct = 10;
    po->step_up_pct = 100;
    po->step_down_pct = 50;
    po->min_interval_s = 3600;
    po->spike_minutes = 3;
    po->spike_ratio = 1.5;
    po->overload = 0;
    po->allow_stop_start = 0;
}

void sb_policy_recent_add(sb_policy_recent_t *r, int64_t ts, double conn_per_s,
                          int64_t listen_queue_max)
{
    int k = r->n % SB_POLICY_RECENT_MAX;

    r->ts[k] = ts;
    r->conn[k] = conn_per_s;
    r->lq[k] = listen_queue_max;
    r->n++;
}

/* The i-th newest minute (0 = newest); i < min(n, SB_POLICY_RECENT_MAX). */
static int recent_idx(const sb_policy_recent_t *r, int i)
{
    return (r->n - 1 - i) % SB_POLICY_RECENT_MAX;
}

static int queue_growing(const sb_policy_recent_t *r, int minutes)
{
    int i;

    for (i = 0; i < minutes; i++) {
        int64_t a = r->lq[recent_idx(r, i)], b = r->lq[recent_idx(r, i + 1)];
        if (!(a > 0 && b >= 0 && a > b)) {
            return 0;
        }
    }
    return 1;
}

int sb_policy_spike(const sb_policy_t *po, const sb_policy_recent_t *r, double busy,
                    char *words, apr_size_t len)
{
    int n = po->spike_minutes, i, got = 0;
    int avail = r->n < SB_POLICY_RECENT_MAX ? r->n : SB_POLICY_RECENT_MAX;
    double sum = 0;

    words[0] = '\0';
    if (n <= 0 || avail == 0) {
        return 0;
    }
    if (n > avail) {
        n = avail;
    }
    for (i = 0; i < n; i++) {
        double c = r->conn[recent_idx(r, i)];
        if (isfinite(c) && c >= 0) {
            sum += c;
            got++;
        }
    }
    if (got > 0 && isfinite(busy) && busy > 0 && sum / got > po->spike_ratio * busy) {
        snprintf(words, len, "a spike: the last %d minute(s) average %.3g new clients/s, above"
                 " %.3g x the busiest-window mean %.3g/s", got, sum / got, po->spike_ratio,
                 busy);
        return 1;
    }
    if (!po->overload && po->spike_minutes >= 2 && po->spike_minutes < SB_POLICY_RECENT_MAX
        && avail > po->spike_minutes && queue_growing(r, po->spike_minutes)) {
        snprintf(words, len, "a spike: the accept queue grew in each of the last %d"
                 " minutes (to %" APR_INT64_T_FMT " clients)", po->spike_minutes,
                 r->lq[recent_idx(r, 0)]);
        return 1;
    }
    return 0;
}

int sb_policy_too_soon(const sb_policy_t *po, int64_t last_change, int64_t now,
                       char *words, apr_size_t len)
{
    words[0] = '\0';
    if (po->overload || last_change <= 0 || po->min_interval_s <= 0
        || (double)(now - last_change) >= po->min_interval_s) {
        return 0;
    }
    snprintf(words, len, "the last change was applied %ld s ago, the minimum interval is"
             " %.0f s", (long)(now - last_change), po->min_interval_s);
    return 1;
}

int sb_policy_value(const sb_policy_t *po, long cur, long rec, long multiple, long *next,
                    const char *name, char **log, apr_pool_t *p)
{
    char why[256];
    int change = sb_model_should_change(cur, rec, po->threshold_pct,
                                        rec > cur ? po->step_up_pct : po->step_down_pct,
                                        multiple, next, why, sizeof(why));

    *log = apr_psprintf(p, "%s%s: %s\n", *log, name, why);
    return change;
}

/* In overload: no step bound towards the plan where the plan relieves
 * the overload (more workers, a shorter timeout); the other direction
 * keeps its bound. */
static int overload_value(const sb_policy_t *po, long cur, long rec, long multiple, long *next,
                          const char *name, int relieves, char **log, apr_pool_t *p)
{
    sb_policy_t o = *po;

    if (po->overload && relieves) {
        o.step_up_pct = o.step_down_pct = 0;
        *log = apr_psprintf(p, "%s%s: overload, no step bound towards the plan\n", *log,
                            name);
    }
    return sb_policy_value(&o, cur, rec, multiple, next, name, log, p);
}

/* KeepAlive and KeepAliveTimeout: *next_kat is the timeout to write; the
 * plan is re-made at it when the step bound held it back. */
static int next_keepalive(const sb_policy_t *po, const sb_model_config_t *cfg0,
                          const sb_model_inputs_t *in, const sb_model_current_t *cur,
                          sb_model_plan_t *plan, long *next_kat, char **log, apr_pool_t *p)
{
    sb_model_sizing_t *rec = &plan->rec;
    int change = 0;

    *next_kat = rec->kat;
    if (rec->keepalive && cur->keepalive == 1) {
        change = overload_value(po, cur->keepalive_timeout, rec->kat, 1, next_kat,
                                "KeepAliveTimeout", rec->kat < cur->keepalive_timeout, log, p);
        if (*next_kat != rec->kat) {
            sb_model_config_t cfg = *cfg0;
            sb_model_plan_t *again = apr_pcalloc(p, sizeof(*again));

            cfg.min_kat = cfg.max_kat = (int)*next_kat;
            if (sb_model_plan(&cfg, in, cur, again) == SB_MODEL_OK
                && again->rec.kat == *next_kat) {
                *log = apr_psprintf(p, "%sthe slots are sized again at KeepAliveTimeout %ld"
                                    " (%d before the bound)\n", *log, *next_kat, rec->kat);
                *plan = *again;
            }
        }
    }
    else if (rec->keepalive != (cur->keepalive == 1)) {
        change = 1;
        *log = apr_psprintf(p, "%sKeepAlive: %s -> %s\n", *log,
                            cur->keepalive == 1 ? "On" : "Off", rec->keepalive ? "On" : "Off");
    }
    return change;
}

int sb_policy_next(const sb_policy_t *po, const sb_model_config_t *cfg,
                   const sb_model_inputs_t *in, const sb_model_current_t *cur,
                   sb_model_plan_t *plan, sb_directives_t *d, char **log, apr_pool_t *p)
{
    sb_mpm_t mpm = cfg->mpm;
    const sb_model_sizing_t *rec;
    long next_kat, next_mrw, multiple;
    int change = next_keepalive(po, cfg, in, cur, plan, &next_kat, log, p);

    rec = &plan->rec;
    multiple = mpm == SB_MPM_PREFORK || rec->threads_per_child <= 0 ? 1
        : rec->threads_per_child;
    if (mpm != SB_MPM_PREFORK && cur->threads_per_child > 0
        && cur->threads_per_child != rec->threads_per_child) {
        change = 1;     /* a new ThreadsPerChild: no common multiple to step in */
        next_mrw = rec->max_request_workers;
        *log = apr_psprintf(p, "%sThreadsPerChild %d -> %d: MaxRequestWorkers %d as planned\n",
                            *log, cur->threads_per_child, rec->threads_per_child,
                            (int)next_mrw);
    }
    else {
        change |= overload_value(po, cur->max_request_workers, rec->max_request_workers,
                                 multiple, &next_mrw, "MaxRequestWorkers",
                                 rec->max_request_workers > cur->max_request_workers, log, p);
    }

    sb_model_sizing_directives(d, rec, mpm);
    if (d->keepalive_timeout >= 0) {
        d->keepalive_timeout = (int)next_kat;
    }
    d->max_request_workers = (int)next_mrw;
    if (next_mrw != rec->max_request_workers) {
        if (mpm == SB_MPM_PREFORK) {
            long extra = (long)ceil((double)next_mrw * cfg->server_limit_headroom - 1e-9);
            d->server_limit = (int)(next_mrw + (extra < 1 ? 1 : extra));
        }
        else {
            /* the plan's headroom rule for the processes of next_mrw (the
             * plan's own ServerLimit may already be the running one, kept:
             * its difference to the plan's processes is no headroom) */
            int procs = (int)((next_mrw + multiple - 1) / multiple);
            long extra = (long)ceil((double)procs * cfg->server_limit_headroom - 1e-9);
            d->server_limit = procs + (int)(extra < 1 ? 1 : extra);
        }
        /* never below the running one (a reload keeps it anyway) */
        if (cur->server_limit > d->server_limit
            && (mpm == SB_MPM_PREFORK || cur->threads_per_child <= 0
                || cur->threads_per_child == rec->threads_per_child)) {
            d->server_limit = cur->server_limit;
        }
    }
    if (po->overload && !po->allow_stop_start && cur->server_limit > 0
        && d->server_limit > cur->server_limit
        && (mpm == SB_MPM_PREFORK || cur->threads_per_child <= 0
            || cur->threads_per_child == rec->threads_per_child)) {
        /* a graceful reload cannot grow ServerLimit: the largest step it
         * can take, the running ServerLimit's headroom kept */
        long sl = cur->server_limit, cap;
        if (mpm == SB_MPM_PREFORK) {
            cap = (long)floor((double)sl / (1 + cfg->server_limit_headroom));
            if (cap >= sl) {
                cap = sl - 1;
            }
        }
        else {
            long spare = (long)ceil((double)sl * cfg->server_limit_headroom
                                    / (1 + cfg->server_limit_headroom) - 1e-9);
            cap = (sl - (spare < 1 ? 1 : spare)) * multiple;
        }
        if (cap > cur->max_request_workers && cap < next_mrw) {
            *log = apr_psprintf(p, "%sMaxRequestWorkers: %ld capped at %ld, what the running"
                                " ServerLimit %ld holds with its headroom (a larger one needs"
                                " a stop and start: --allow-stop-start)\n", *log, next_mrw,
                                cap, sl);
            next_mrw = cap;
            d->max_request_workers = (int)cap;
            d->server_limit = (int)sl;
            change = 1;
        }
        else if (next_mrw <= cap) {
            d->server_limit = (int)sl;  /* it fits, with a little less headroom */
        }
    }
    if (next_mrw == cur->max_request_workers && cur->server_limit > 0
        && (mpm == SB_MPM_PREFORK || cur->threads_per_child <= 0
            || cur->threads_per_child == rec->threads_per_child)) {
        d->server_limit = cur->server_limit;    /* the slots stay: so does ServerLimit */
    }
    return change;
}
