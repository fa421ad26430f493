/*
 * sbtune_fleet.c - "sbtune fleet": the plan of every agent a Prometheus
 * server scrapes, one line each.
 *
 * Each instance of the selector's series is planned as "sbtune report
 * --prometheus URL --instance INSTANCE" plans it (sbtune_prom.h), with the
 * settings the agent exports.  The line has the MPM, the current and the
 * recommended KeepAliveTimeout and MaxRequestWorkers, the headroom at the
 * busy hour (1 - the busiest window's arrivals / the capacity of the
 * current settings, as the Prometheus rules compute it) and whether httpd
 * is saturated.  Nothing is applied: apply stays per host (sbtune report
 * --apply from cron, with the host's history).
 */
#include "config.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <apr_strings.h>
#include <apr_time.h>

#include "sb_json.h"
#include "sbtune.h"
#include "sbtune_prom.h"

static void usage(FILE *out)
{
    fprintf(out, "Usage: sbtune fleet --prometheus URL [--selector '{job=\"sbagent\"}']"
            " [OPTION]...\n"
            "The KeepAliveTimeout / MaxRequestWorkers plan of every agent the Prometheus\n"
            "server at URL scrapes, one line per instance (nothing is applied).\n\n");
    sbtune_options_help(out, SB_PROG_FLEET);
    fprintf(out, "\nExit status: 0 every instance planned, 1 failure, 2 usage, 5 too little"
            " data for\nsome instance (its line says what is missing), 6 Prometheus"
            " unreachable or its\nanswer unusable, 7 no agent's series (or an instance with"
            " several).  See sbtune(8).\n");
}

static const sbtune_cmd_t fleet_cmd = { "fleet", SB_PROG_FLEET, usage };

/* One instance's plan and its line's figures. */
typedef struct {
    const char *instance;
    int rc;                     /* sbtune_prom_read()'s, or 0 */
    const char *error;
    sb_mpm_t mpm;
    sb_model_current_t cur;
    double kat;                 /* current, s; 0 KeepAlive Off */
    sb_model_inputs_t in;
    sb_model_plan_t plan;
    double capacity;            /* new clients/s (prefork, worker) or requests/s
                                 * (event) the current settings carry; NaN unknown */
    double demand;              /* the busiest window's arrivals (requests) per s */
    double headroom;            /* 1 - demand / capacity; NaN unknown */
    int saturated;
} line_t;

/*
 * The capacity of the current settings at the busy hour: prefork and
 * worker N / W new clients per second, W the hold time at the current
 * timeout (from the distributions; else busy slots / accepted per second,
 * Little's law); event MaxRequestWorkers / the mean service time
 * requests per second (idle keep-alive connections hold no worker).
 */
static void headroom(line_t *l)
{
    const sb_model_inputs_t *in = &l->in;
    int n = l->cur.max_request_workers;
    sb_model_hold_t parts;
    double w;

    l->capacity = l->demand = l->headroom = NAN;
    if (n <= 0) {
        return;
    }
    if (l->mpm == SB_MPM_EVENT) {
        if (in->service && in->service->count > 0 && in->service->sum > 0) {
            l->capacity = n / (in->service->sum / (double)in->service->count);
            l->demand = in->busy_req_per_s;
        }
    }
    else {
        w = sb_model_hold_time(in, l->kat, &parts);
        if (!(w > 0) && in->accepted_mean > 0) {
            w = in->busy_slots_mean / in->accepted_mean;
        }
        if (w > 0) {
            l->capacity = n / w;
            l->demand = in->busy_conn_per_s;
        }
    }
    if (l->capacity > 0 && isfinite(l->demand)) {
        l->headroom = 1 - l->demand / l->capacity;
    }
}

/* Read and plan one instance.  Returns 0, or SBTUNE_EXIT_PROMETHEUS
 * (the server failed: stop). */
static int plan_one(sbtune_prom_t *pr, const sb_model_config_t *base, const sb_config_t *o,
                    int64_t from, int64_t to, line_t *l, apr_pool_t *p)
{
    sb_model_config_t cfg = *base;
    sb_model_history_t *mh = sb_model_history_create(p);
    sbtune_prom_settings_t set;
    const char *src[6], *mpm_src;

    sb_model_inputs_init(&l->in);
    sb_model_current_init(&l->cur);
    l->mpm = SB_MPM_UNKNOWN;
    l->kat = NAN;
    l->rc = sbtune_prom_read(pr, l->instance, from, to, sb_model_history_minute_cb, mh, &set);
    if (l->rc != 0) {
        l->error = apr_pstrdup(p, sbtune_prom_error(pr));
        return l->rc == SBTUNE_EXIT_PROMETHEUS ? l->rc : 0;
    }
    sb_model_history_inputs(mh, &cfg, &l->in);
    if (sbtune_prom_current(&set, &l->mpm, &l->cur, &l->kat, src, &mpm_src) != 0) {
        l->rc = SBTUNE_EXIT_NODATA;
        l->error = "no sbtune_httpd_info: the agent never read httpd";
        return 0;
    }
    cfg.mpm = l->mpm;
    if (l->cur.threads_per_child > 0) {
        cfg.threads_per_child = l->cur.threads_per_child;
    }
    l->in.keepalive = l->kat > 0;
    if (l->kat > 0) {
        l->in.kat = l->kat;
    }
    l->in.mem_total_bytes = o->memory > 0 ? o->memory : set.mem_total;
    sb_model_plan(&cfg, &l->in, &l->cur, &l->plan);
    headroom(l);
    l->saturated = l->plan.overloaded || (isfinite(l->headroom) && l->headroom <= 0);
    return 0;
}

static const char *status_name(const line_t *l)
{
    if (l->rc != 0) {
        return l->rc == SBTUNE_EXIT_NODATA ? "no_data" : "error";
    }
    return l->plan.status == SB_MODEL_OK ? "ok" : l->plan.status == SB_MODEL_NOFIT ? "no_fit"
           : l->plan.status == SB_MODEL_NODATA ? "no_data" : "error";
}

static int has_rec(const line_t *l)
{
    return l->rc == 0 && (l->plan.status == SB_MODEL_OK || l->plan.status == SB_MODEL_NOFIT);
}

static void print_text(const apr_array_header_t *lines, apr_pool_t *p)
{
    int i;

    printf("%-21s %-7s %-16s %-17s %-9s %s\n", "INSTANCE", "MPM", "KeepAliveTimeout",
           "MaxRequestWorkers", "HEADROOM", "STATE");
    for (i = 0; i < lines->nelts; i++) {
        const line_t *l = &APR_ARRAY_IDX(lines, i, line_t);
        const char *kat = "?", *mrw = "?", *hr = "?", *state;

        if (l->rc == 0 || l->mpm != SB_MPM_UNKNOWN) {
            kat = l->kat > 0 ? apr_psprintf(p, "%g", l->kat) : "Off";
            mrw = apr_psprintf(p, "%d", l->cur.max_request_workers);
        }
        if (has_rec(l)) {
            kat = apr_psprintf(p, "%s -> %s", kat, l->plan.rec.keepalive
                               ? apr_psprintf(p, "%d", l->plan.rec.kat) : "Off");
            mrw = apr_psprintf(p, "%s -> %d", mrw, l->plan.rec.max_request_workers);
        }
        if (isfinite(l->headroom)) {
            hr = apr_psprintf(p, "%.0f %%", 100 * l->headroom);
        }
        state = l->rc != 0 ? apr_psprintf(p, "%s: %s", status_name(l), l->error)
                : l->plan.status == SB_MODEL_NODATA
                ? apr_psprintf(p, "no data: %s", l->plan.missing)
                : apr_pstrcat(p, l->saturated ? "saturated" : "not saturated",
                              l->plan.status == SB_MODEL_NOFIT
                              ? " (keep-alive plan does not fit in memory)" : "", NULL);
        printf("%-21s %-7s %-16s %-17s %-9s %s\n", l->instance,
               l->mpm != SB_MPM_UNKNOWN ? sb_mpm_name(l->mpm) : "?", kat, mrw, hr, state);
    }
}

static void json_line(sb_json_t *j, const line_t *l)
{
    sb_json_object_begin(j, NULL);
    sb_json_string(j, "instance", l->instance);
    sb_json_string(j, "status", status_name(l));
    sb_json_string(j, "mpm", l->mpm != SB_MPM_UNKNOWN ? sb_mpm_name(l->mpm) : NULL);
    if (l->rc != 0) {
        sb_json_string(j, "error", l->error);
        sb_json_object_end(j);
        return;
    }
    sb_json_object_begin(j, "current");
    sb_json_double(j, "KeepAliveTimeout", l->kat);
    sb_json_int(j, "MaxRequestWorkers", l->cur.max_request_workers);
    sb_json_object_end(j);
    if (has_rec(l)) {
        sbtune_json_sizing(j, "recommendation", l->mpm, &l->plan.rec);
    }
    else {
        sb_json_null(j, "recommendation");
        sb_json_string(j, "missing", l->plan.missing);
    }
    sb_json_int(j, "minutes", l->in.minutes);
    sb_json_double(j, "busy_conn_per_s", l->in.busy_conn_per_s);
    sb_json_double(j, "busy_req_per_s", l->in.busy_req_per_s);
    sb_json_string(j, "capacity_unit", l->mpm == SB_MPM_EVENT ? "requests/s" : "clients/s");
    sb_json_double(j, "capacity", l->capacity);
    sb_json_double(j, "headroom", l->headroom);
    sb_json_bool(j, "saturated", l->saturated);
    sb_json_bool(j, "overloaded", l->plan.overloaded);
    sb_json_object_end(j);
}

static void print_json(const sb_config_t *o, const apr_array_header_t *lines, apr_pool_t *p)
{
    sb_json_t *j = sb_json_create(p);
    int i;

    sb_json_object_begin(j, NULL);
    sb_json_string(j, "mode", "fleet");
    sb_json_string(j, "prometheus", o->prometheus);
    sb_json_string(j, "selector", o->selector);
    sb_json_array_begin(j, "instances");
    for (i = 0; i < lines->nelts; i++) {
        json_line(j, &APR_ARRAY_IDX(lines, i, line_t));
    }
    sb_json_array_end(j);
    sb_json_object_end(j);
    printf("%s\n", sb_json_text(j, NULL));
}

static int fleet_usage(const char *msg)
{
    fprintf(stderr, "sbtune fleet: %s\nTry 'sbtune fleet --help' for more information.\n",
            msg);
    return SBTUNE_EXIT_USAGE;
}

int sbtune_fleet_main(int argc, char **argv, apr_pool_t *p)
{
    sb_config_t o;
    sb_model_config_t cfg;
    sbtune_prom_t *pr;
    apr_array_header_t *names, *lines;
    int64_t to = (int64_t)apr_time_sec(apr_time_now()), from;
    char err[512];
    int rc, i, worst = SBTUNE_EXIT_OK;

    if ((rc = sbtune_options(&fleet_cmd, argc, argv, &o, p)) >= 0) {
        return rc;
    }
    if (!*o.prometheus) {
        return fleet_usage("--prometheus URL is required");
    }
    if (strcmp(o.format, "apache") == 0) {
        return fleet_usage("--format takes text or json (apache is report's)");
    }
    if (!(pr = sbtune_prom_create(o.prometheus, o.selector, err, sizeof(err), p))) {
        return fleet_usage(err);
    }
    sb_model_config_defaults(&cfg);
    cfg.spike_factor = o.spike_factor;
    cfg.target_wait = o.target_wait;
    cfg.min_minutes = o.min_minutes;
    cfg.min_conns = (uint64_t)o.min_conns;
    cfg.min_gaps = (uint64_t)o.min_gaps;
    from = to - (int64_t)(o.window_days * 86400);
    if ((rc = sbtune_prom_instances(pr, from, to, &names)) != 0) {
        fprintf(stderr, "sbtune fleet: %s\n", sbtune_prom_error(pr));
        return rc;
    }
    lines = apr_array_make(p, names->nelts, sizeof(line_t));
    for (i = 0; i < names->nelts; i++) {
        line_t *l = apr_array_push(lines);

        memset(l, 0, sizeof(*l));
        l->instance = APR_ARRAY_IDX(names, i, const char *);
        if ((rc = plan_one(pr, &cfg, &o, from, to, l, p)) != 0) {
            fprintf(stderr, "sbtune fleet: %s\n", sbtune_prom_error(pr));
            return rc;
        }
        if (l->rc == SBTUNE_EXIT_NOINSTANCE) {
            worst = SBTUNE_EXIT_NOINSTANCE;
        }
        else if ((l->rc == SBTUNE_EXIT_NODATA || l->plan.status == SB_MODEL_NODATA)
                 && worst == SBTUNE_EXIT_OK) {
            worst = SBTUNE_EXIT_NODATA;
        }
    }
    if (strcmp(o.format, "json") == 0) {
        print_json(&o, lines, p);
    }
    else {
        print_text(lines, p);
    }
    return worst;
}
