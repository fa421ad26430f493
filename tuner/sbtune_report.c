/*
 * sbtune_report.c - "sbtune report": the plan from the agent's history.
 *
 * Reads the per-minute rows of the window (default the last 7 days) from
 * the SQLite history, turns them into the model's inputs (busiest hour,
 * peaks, the keep-alive gap and idle-close distributions, requests per
 * connection, service and hold times, PSS per worker) and prints the plan
 * with its arithmetic, or says what data is missing.
 *
 * With --apply (or --format apache) the window starts at the last applied
 * change recorded in the history's changes table (the settings in force),
 * and the recommendation goes through the policy (lib/sb_policy: a
 * threshold, a bounded step per run, no change during a spike, a minimum
 * interval since the last applied change; in overload, sb_model_overload(),
 * no interval and no step bound towards the plan) and then to
 * sbtune_apply_run(): the history -> snippet -> graceful -> verify flow
 * that cron runs (sbtune(8), "THE APPLY FLOW").
 */
#include "config.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <apr_strings.h>
#include <apr_time.h>

#include "sb_history.h"
#include "sb_policy.h"
#include "sb_procmem.h"
#include "sbtune.h"
#include "sbtune_apply.h"
#include "sbtune_current.h"
#include "sbtune_prom.h"

static void usage(FILE *out)
{
    fprintf(out, "Usage: sbtune report --history FILE [OPTION]...\n"
            "       sbtune report --prometheus URL --instance HOST:PORT [OPTION]...\n"
            "       sbtune report --history FILE --apply --snippet PATH"
            " (--scoreboard PATH | --status-url URL) [OPTION]...\n"
            "The KeepAliveTimeout / MaxRequestWorkers plan from the agent's history; with\n"
            "--apply, written into the snippet and applied by graceful reload (see\n"
            "'sbtune apply --help' for the checks), after the hysteresis.\n\n");
    sbtune_options_help(out, SB_PROG_REPORT);
    fprintf(out, "\nExit status without --apply: 0 plan printed, 1 failure, 2 usage, 4 the"
            " keep-alive plan does\nnot fit in memory (the fallback is printed), 5 too little"
            " data (what is missing is\nprinted).  With --apply: 0 no change (under the"
            " threshold, or already in force),\n10 changed and verified, 11 recommendation"
            " only (a spike, the minimum interval,\n--dry-run), 4 and 5 as above (nothing"
            " applied; 5 is silent with --cron unless\nhttpd is overloaded), and apply's 1,"
            " 3, 12, 13, 14, 15.  With --prometheus also 6 (Prometheus unreachable or\nits"
            " answer unusable) and 7 (no agent's series for --instance).  See sbtune(8).\n");
}

static const sbtune_cmd_t report_cmd = { "report", SB_PROG_REPORT, usage };

/* ------------------------------------------------------------------ the history */

/* The minute reader's baton: the model's accumulator plus the newest
 * minutes (for the spike check). */
typedef struct {
    sb_model_history_t *mh;
    sb_policy_recent_t recent;
} minutes_t;

static apr_status_t minute_cb(void *baton, const sb_hist_minute_t *row)
{
    minutes_t *m = baton;

    sb_policy_recent_add(&m->recent, row->ts, row->conn_per_s_mean, row->listen_queue_max);
    return sb_model_history_add(m->mh, row);
}

/* The newest applied change (action "apply", result "ok...") in the
 * changes table. */
static apr_status_t change_cb(void *baton, const sb_hist_change_t *row)
{
    int64_t *last = baton;

    if (row->action && strcmp(row->action, "apply") == 0 && row->result
        && strncmp(row->result, "ok", 2) == 0 && row->ts > *last) {
        *last = row->ts;
    }
    return APR_SUCCESS;
}

/* One report: the options, what the history says, the plan. */
typedef struct {
    const char *history;
    const char *prometheus, *instance, *selector; /* --prometheus instead of --history */
    const char *where;          /* the history file, or Prometheus and the instance */
    int json, apache, apply, cron, dry_run, minor;
    double window_days, kat;    /* kat: NaN unknown */
    int64_t memory;
    sb_policy_t hy;
    sbtune_apply_opts_t ao;
    sb_model_config_t cfg;
    sb_model_inputs_t in;
    sb_model_current_t cur;
    sbtune_current_t src;       /* where each current value came from */
    sb_model_plan_t *plan;
    minutes_t mins;
    int64_t last_change;
    int since_change;           /* the window starts at the last applied change */
    apr_time_t now;
} flow_t;

/* " (httpd accepted N/s; M refused)" when clients waited or were refused:
 * arrivals are what the plan is made from, not what httpd took. */
static const char *accepted_words(const sb_model_inputs_t *in, apr_pool_t *p)
{
    int differs = isfinite(in->busy_accepted_per_s)
                  && fabs(in->busy_conn_per_s - in->busy_accepted_per_s)
                     > 0.01 * in->busy_conn_per_s + 0.05;

    if (!differs && in->refused <= 0) {
        return "";
    }
    return apr_psprintf(p, " (%s%s%s)",
                        differs ? apr_psprintf(p, "httpd accepted %.3g/s",
                                               in->busy_accepted_per_s) : "",
                        differs && in->refused > 0 ? "; " : "",
                        in->refused > 0 ? apr_psprintf(p, "%" APR_INT64_T_FMT " attempts refused"
                                                       " with the accept queue full",
                                                       in->refused) : "");
}

/* What sbtune_apply_run() and the snippet's header are told. */
static const char *data_words(const flow_t *f, const sb_model_inputs_t *in, apr_pool_t *p)
{
    char a[32] = "?", b[32] = "?";
    apr_time_exp_t tm;
    apr_size_t sz;

    if (in->first_ts > 0) {
        apr_time_exp_gmt(&tm, apr_time_from_sec(in->first_ts));
        apr_strftime(a, &sz, sizeof(a), "%Y-%m-%dT%H:%MZ", &tm);
        apr_time_exp_gmt(&tm, apr_time_from_sec(in->last_ts));
        apr_strftime(b, &sz, sizeof(b), "%Y-%m-%dT%H:%MZ", &tm);
    }
    return apr_psprintf(p, "%d minute(s) of history in %s (%s to %s%s); busiest window %.3g new"
                        " clients/s%s, peak %.3g/s; accept queue max %s%s", in->minutes,
                        f->history, a, b, f->since_change ? ", since the last applied change"
                        : "", in->busy_conn_per_s, accepted_words(in, p),
                        in->peak_conn_per_s,
                        in->listen_queue_max >= 0
                        ? apr_psprintf(p, "%" APR_INT64_T_FMT, in->listen_queue_max) : "unknown",
                        f->plan && f->plan->overloaded ? "; overloaded" : "");
}

/* ------------------------------------------------------------------ the apply flow */

/* What decide() found. */
typedef struct {
    sb_directives_t d;          /* what to write next */
    const char *log;            /* the hysteresis, one line per setting */
    const char *held;           /* why nothing is applied now, or NULL */
    int code;
    sbtune_apply_result_t res;  /* when applied */
} decision_t;

static void print_apply_json(const flow_t *f, const decision_t *dc, apr_pool_t *p)
{
    const sb_directives_t *d = &dc->d;
    sb_json_t *j = sb_json_create(p);

    sb_json_object_begin(j, NULL);
    sb_json_string(j, "mode", "report-apply");
    sb_json_string(j, "history", f->history);
    sbtune_json_sizing(j, "recommendation", f->cfg.mpm, &f->plan->rec);
    sb_json_object_begin(j, "current");
    sb_json_string(j, "KeepAlive", f->cur.keepalive == 1 ? "On" : "Off");
    sb_json_int(j, "KeepAliveTimeout", f->cur.keepalive_timeout);
    sb_json_int(j, "MaxRequestWorkers", f->cur.max_request_workers);
    sb_json_int(j, "ServerLimit", f->cur.server_limit);
    sb_json_object_end(j);
    sbtune_current_json(j, "discovery", &f->src, f->cfg.mpm, &f->cur, f->kat);
    sb_json_object_begin(j, "next");
    if (d->keepalive >= 0) {
        sb_json_string(j, "KeepAlive", d->keepalive ? "On" : "Off");
    }
    if (d->keepalive_timeout >= 0) {
        sb_json_int(j, "KeepAliveTimeout", d->keepalive_timeout);
    }
    sb_json_int(j, "MaxRequestWorkers", d->max_request_workers);
    sb_json_int(j, "ServerLimit", d->server_limit);
    if (d->threads_per_child >= 0) {
        sb_json_int(j, "ThreadsPerChild", d->threads_per_child);
        sb_json_int(j, "ThreadLimit", d->thread_limit);
    }
    sb_json_object_end(j);
    sb_json_bool(j, "needs_full_restart", f->plan->needs_full_restart);
    sb_json_bool(j, "overloaded", f->plan->overloaded);
    sb_json_string(j, "overload", f->plan->overload);
    sb_json_string(j, "estimated", f->plan->estimated);
    sb_json_bool(j, "since_last_change", f->since_change);
    sb_json_int(j, "minutes", f->in.minutes);
    sb_json_string(j, "hysteresis", dc->log);
    sb_json_string(j, "decision", dc->held ? dc->held : sbtune_apply_exit_name(dc->code));
    sb_json_int(j, "exit", dc->code);
    sb_json_string(j, "arithmetic", f->plan->arithmetic);
    if (!dc->held) {
        sb_json_string(j, "apply_report", dc->res.report ? dc->res.report : "");
        if (dc->res.error) {
            sb_json_string(j, "apply_error", dc->res.error);
        }
    }
    sb_json_object_end(j);
    printf("%s\n", sb_json_text(j, NULL));
}

static void print_apply_text(const flow_t *f, const decision_t *dc, const char *data)
{
    const sbtune_apply_result_t *res = &dc->res;
    int code = dc->code;

    printf("sbtune report: %s MPM; %s\n\n", sb_mpm_name(f->cfg.mpm), data);
    sbtune_current_print(stdout, &f->src, f->cfg.mpm, &f->cur, f->kat);
    fputs(f->plan->arithmetic, stdout);
    printf("\nRecommendation:\n");
    sbtune_print_directives(stdout, f->cfg.mpm, &f->plan->rec);
    printf("\nHysteresis (threshold %.0f %%, step +%.0f %% / -%.0f %%):\n%s",
           f->hy.threshold_pct, f->hy.step_up_pct, f->hy.step_down_pct, dc->log);
    if (dc->held) {
        printf("\nsbtune report: %s (exit %d)\n", dc->held, code);
        return;
    }
    if (code == SBTUNE_APPLY_RECOMMEND && res->snippet_text) {
        printf("\n%s", res->snippet_text);
    }
    printf("\n%s", res->report ? res->report : "");
    fflush(stdout);
    if (res->error) {
        fprintf(stderr, "sbtune report: %s\n", res->error);
    }
    fprintf(code == SBTUNE_APPLY_CHANGED || code == SBTUNE_APPLY_NOCHANGE
            || code == SBTUNE_APPLY_RECOMMEND ? stdout : stderr,
            "sbtune report --apply: %s (exit %d)\n", sbtune_apply_exit_name(code), code);
}

/* Whether to apply now: nothing to change, a spike, the minimum
 * interval; else sbtune_apply_run() with why and data. */
static void decide(flow_t *f, decision_t *dc, int change, const char *why, const char *data,
                   apr_pool_t *p)
{
    char words[512];

    if (!change) {
        dc->code = SBTUNE_APPLY_NOCHANGE;
        dc->held = "no change: every difference is under the threshold";
    }
    else if (sb_policy_spike(&f->hy, &f->mins.recent, f->in.busy_conn_per_s, words,
                             sizeof(words))) {
        dc->code = SBTUNE_APPLY_RECOMMEND;
        dc->held = apr_psprintf(p, "recommendation only, not applied during %s", words);
    }
    else if (sb_policy_too_soon(&f->hy, f->last_change, (int64_t)apr_time_sec(f->now), words,
                                sizeof(words))) {
        dc->code = SBTUNE_APPLY_RECOMMEND;
        dc->held = apr_psprintf(p, "recommendation only: %s", words);
    }
    else {
        f->ao.set = dc->d;
        f->ao.mpm = (int)f->cfg.mpm;
        f->ao.httpd_minor = f->minor;
        f->ao.history = f->history;
        f->ao.dry_run = f->dry_run;
        f->ao.reason = why;
        f->ao.data = data;
        dc->code = sbtune_apply_run(&f->ao, &dc->res, p);
    }
}

/*
 * The decision and the apply: the policy's next directives (hysteresis on
 * KeepAliveTimeout and MaxRequestWorkers, re-planning the slots at the
 * timeout actually written when its step was bounded), the spike and
 * interval checks, then sbtune_apply_run() (or, for --format apache
 * alone, the snippet).  Returns the exit code.
 */
static int decide_and_apply(flow_t *f, apr_pool_t *p)
{
    decision_t dc;
    char *log = apr_pstrdup(p, "");
    const char *why, *data;
    int change;

    memset(&dc, 0, sizeof(dc));
    f->hy.overload = f->plan->overloaded;
    f->hy.allow_stop_start = f->ao.allow_stop_start;
    if (f->hy.overload) {
        log = apr_psprintf(p, "overload, planned from the %d minute(s) %s: no minimum interval,"
                           " no queue-growth spike check\n", f->in.minutes,
                           f->since_change ? "since the last applied change"
                           : "of history (no change applied yet)");
    }
    change = sb_policy_next(&f->hy, &f->cfg, &f->in, &f->cur, f->plan, &dc.d, &log, p);
    dc.log = log;
    why = apr_pstrcat(p, f->plan->arithmetic, "\nHysteresis:\n", log, NULL);
    data = data_words(f, &f->in, p);
    if (f->apache && !f->apply) {
        sb_directive_meta_t meta;

        meta.mpm = sb_mpm_name(f->cfg.mpm);
        meta.httpd_minor = f->minor ? f->minor : 4;
        meta.when = f->now;
        meta.data = data;
        meta.why = why;
        fputs(sb_directive_render(&dc.d, &meta, p), stdout);
        return change ? SBTUNE_APPLY_RECOMMEND : SBTUNE_APPLY_NOCHANGE;
    }
    decide(f, &dc, change, why, data, p);
    if (f->cron && (dc.code == SBTUNE_APPLY_NOCHANGE || dc.code == SBTUNE_APPLY_RECOMMEND)) {
        return dc.code;
    }
    if (f->json) {
        print_apply_json(f, &dc, p);
    }
    else {
        print_apply_text(f, &dc, data);
    }
    return dc.code;
}

/* ------------------------------------------------------------------ the report */

/* The flow from the options.  Returns -1 to go on, or an exit code. */
static int flow_from_options(flow_t *f, const sb_config_t *o, apr_pool_t *p)
{
    char err[512];

    sb_model_config_defaults(&f->cfg);
    sb_model_inputs_init(&f->in);
    sb_model_current_init(&f->cur);
    sbtune_apply_opts_init(&f->ao);
    if (sbtune_apply_opts_from_config(&f->ao, o, p, err, sizeof(err)) != 0) {
        fprintf(stderr, "sbtune report: %s\n", err);
        return SBTUNE_EXIT_USAGE;
    }
    f->history = *o->history ? o->history : NULL;
    f->prometheus = *o->prometheus ? o->prometheus : NULL;
    f->instance = *o->instance ? o->instance : NULL;
    f->selector = o->selector;
    f->where = f->prometheus ? apr_psprintf(p, "Prometheus at %s, instance %s", f->prometheus,
                                            f->instance ? f->instance : "?")
                             : f->history;
    f->window_days = o->window_days;
    f->cfg.mpm = SB_MPM_UNKNOWN;  /* discovered when not given */
    if (*o->mpm) {
        sb_mpm_parse(o->mpm, &f->cfg.mpm);
    }
    f->kat = o->keepalive_timeout;
    f->cur.max_request_workers = o->max_request_workers;
    f->cur.server_limit = o->server_limit;
    f->cur.thread_limit = o->thread_limit;
    if (o->threads_per_child > 0) {
        f->cur.threads_per_child = f->cfg.threads_per_child = o->threads_per_child;
    }
    f->cfg.spike_factor = o->spike_factor;
    f->cfg.target_wait = o->target_wait;
    f->cfg.min_minutes = o->min_minutes;
    f->cfg.min_conns = (uint64_t)o->min_conns;
    f->cfg.min_gaps = (uint64_t)o->min_gaps;
    f->memory = o->memory;
    f->json = strcmp(o->format, "json") == 0;
    f->apache = strcmp(o->format, "apache") == 0;
    f->apply = o->apply;
    f->dry_run = o->dry_run;
    f->cron = o->cron;
    f->minor = f->ao.httpd_minor;
    f->hy.threshold_pct = o->threshold;
    f->hy.step_up_pct = o->max_step_up;
    f->hy.step_down_pct = o->max_step_down;
    f->hy.min_interval_s = o->min_interval;
    f->hy.spike_minutes = o->spike_minutes;
    f->hy.spike_ratio = o->spike_ratio;
    return -1;
}

static int report_usage(const char *msg)
{
    fprintf(stderr, "sbtune report: %s\nTry 'sbtune report --help' for more information.\n",
            msg);
    return SBTUNE_EXIT_USAGE;
}

/* The options that go together.  Returns -1 to go on, or an exit code. */
static int check_flow(const flow_t *f)
{
    if (!f->history == !f->prometheus) {
        return report_usage("either --history FILE or --prometheus URL is required");
    }
    if (!f->prometheus != !f->instance) {
        return report_usage(f->instance ? "--instance goes with --prometheus"
                            : "--prometheus needs --instance HOST:PORT (see 'sbtune fleet')");
    }
    if (f->prometheus && (f->apply || f->apache)) {
        return report_usage("--apply and --format apache plan from the host's --history:"
                            " apply stays per host");
    }
    if (f->apply && (!f->ao.snippet || (!f->ao.scoreboard && !f->ao.status_url))) {
        return report_usage("--apply needs --snippet PATH and --scoreboard PATH"
                            " and/or --status-url URL");
    }
    if ((f->dry_run || f->cron) && !f->apply) {
        fprintf(stderr, "sbtune report: --%s goes with --apply\n",
                f->dry_run ? "dry-run" : "cron");
        return SBTUNE_EXIT_USAGE;
    }
    if (f->apply && f->apache) {
        fprintf(stderr, "sbtune report: --format apache prints the snippet without --apply;"
                " with --apply use --dry-run\n");
        return SBTUNE_EXIT_USAGE;
    }
    return -1;
}

/* The window's minutes (and, to apply, the last applied change) into the
 * model's inputs.  Returns 0, or -1 with the message out. */
static int read_history(flow_t *f, apr_pool_t *p)
{
    sb_history_t *h;
    int64_t now = (int64_t)apr_time_sec(f->now);

    if (sb_history_open(&h, f->history, SB_HISTORY_READ, p) != APR_SUCCESS) {
        fprintf(stderr, "sbtune report: %s\n", sb_history_error(h));
        return -1;
    }
    int64_t from = now - (int64_t)(f->window_days * 86400);

    f->mins.mh = sb_model_history_create(p);
    if ((f->apply || f->apache)
        && sb_history_changes(h, 0, now + 60, change_cb, &f->last_change) != APR_SUCCESS) {
        fprintf(stderr, "sbtune report: %s\n", sb_history_error(h));
        sb_history_close(h);
        return -1;
    }
    /* a decision plans from the settings in force: the minutes recorded
     * since the last applied change (from the next whole minute on) */
    if (f->last_change > 0 && (f->last_change + 59) / 60 * 60 > from) {
        from = (f->last_change + 59) / 60 * 60;
        f->since_change = 1;
    }
    if (sb_history_minutes(h, from, now + 60, minute_cb, &f->mins) != APR_SUCCESS) {
        fprintf(stderr, "sbtune report: %s\n", sb_history_error(h));
        sb_history_close(h);
        return -1;
    }
    sb_model_history_inputs(f->mins.mh, &f->cfg, &f->in);
    sb_history_close(h);
    return 0;
}

/* The window's minutes and the settings from Prometheus (sbtune_prom.h).
 * Returns 0, or the exit code with the message out. */
static int read_prometheus(flow_t *f, apr_pool_t *p)
{
    char err[512];
    sbtune_prom_settings_t set;
    sbtune_prom_t *pr = sbtune_prom_create(f->prometheus, f->selector, err, sizeof(err), p);
    int64_t now = (int64_t)apr_time_sec(f->now);
    int rc;

    if (!pr) {
        return report_usage(err);
    }
    f->mins.mh = sb_model_history_create(p);
    rc = sbtune_prom_read(pr, f->instance, now - (int64_t)(f->window_days * 86400), now,
                          minute_cb, &f->mins, &set);
    if (rc != 0) {
        fprintf(stderr, "sbtune report: %s\n", sbtune_prom_error(pr));
        return rc;
    }
    sb_model_history_inputs(f->mins.mh, &f->cfg, &f->in);
    memset(&f->src, 0, sizeof(f->src));
    f->src.status = "prometheus";
    f->src.command = "";
    f->src.reason = apr_psprintf(p, "read from the agent's series in %s", f->where);
    f->src.conflicts = apr_pstrdup(p, "");
    if (sbtune_prom_current(&set, &f->cfg.mpm, &f->cur, &f->kat, f->src.src,
                            &f->src.mpm_src) != 0) {
        fprintf(stderr, "sbtune report: %s exports no sbtune_httpd_info (the agent never read"
                " httpd): give --mpm\n", f->where);
        return SBTUNE_EXIT_NODATA;
    }
    if (f->cur.threads_per_child > 0) {
        f->cfg.threads_per_child = f->cur.threads_per_child;
    }
    f->in.keepalive = f->kat > 0;
    if (f->kat > 0) {
        f->in.kat = f->kat;
    }
    if (f->memory < 0) {
        f->memory = set.mem_total;
    }
    f->in.mem_total_bytes = f->memory;
    return 0;
}

/* The current values: the options, else what the running httpd was
 * configured with, else (not discoverable) what the snippet holds, else
 * httpd's compiled-in defaults (sbtune_current.h). */
static void current_settings(flow_t *f, apr_pool_t *p)
{
    sb_model_current_t *cur = &f->cur;

    sbtune_current_fill(&f->src, &f->ao, &f->cfg.mpm, cur, &f->kat, f->cron, p);
    if (cur->threads_per_child > 0) {
        f->cfg.threads_per_child = cur->threads_per_child;
    }
    if (f->src.hc && f->cfg.mpm == SB_MPM_EVENT && f->src.hc->mpm == SB_MPM_EVENT) {
        f->cfg.async_factor = f->src.hc->v[SB_HC_ASYNC_FACTOR].effective;
    }
    f->in.keepalive = f->kat > 0;
    cur->keepalive = f->kat > 0;
    if (f->kat > 0) {
        f->in.kat = f->kat;
        cur->keepalive_timeout = (int)ceil(f->kat - 1e-9);
    }
    if (f->memory < 0) {
        sb_hostmem_t hm;
        if (sb_procmem_host(&hm) == APR_SUCCESS) {
            f->memory = (int64_t)hm.mem_total;
        }
    }
    f->in.mem_total_bytes = f->memory;
    sb_model_current_defaults(cur, f->cfg.mpm);
}

/* --apply or --format apache without a plan that fits: nothing applied. */
static int nothing_to_apply(const flow_t *f)
{
    const sb_model_plan_t *plan = f->plan;

    /* too little data is quiet for cron (the first hour after
     * installation); a plan that does not fit needs a human */
    if (f->cron && plan->status == SB_MODEL_NODATA && !plan->overloaded) {
        return SBTUNE_EXIT_NODATA;
    }
    if (plan->status == SB_MODEL_NODATA) {
        if (plan->overloaded) {
            printf("sbtune report: httpd is overloaded (%s), but even the overload rule"
                   " cannot plan:\n", plan->overload);
        }
        printf("sbtune report: no recommendation from %d minute(s) of history in %s%s:\n%s\n"
               "Nothing applied.\n", f->in.minutes, f->history,
               f->since_change ? " since the last applied change" : "", plan->missing);
        return SBTUNE_EXIT_NODATA;
    }
    printf("sbtune report: %s MPM, %d minutes of history\n\n", sb_mpm_name(f->cfg.mpm),
           f->in.minutes);
    fputs(plan->arithmetic, stdout);
    printf("\nDoes not fit in memory; fallback (not applied automatically: KeepAlive Off or"
           " another MPM is an operator's decision):\n");
    sbtune_print_directives(stdout, f->cfg.mpm, &plan->rec);
    return SBTUNE_EXIT_NOFIT;
}

static void print_report_json(const flow_t *f, apr_pool_t *p)
{
    const sb_model_plan_t *plan = f->plan;
    sb_json_t *j = sb_json_create(p);

    sb_json_object_begin(j, NULL);
    sb_json_string(j, "mode", "report");
    if (f->prometheus) {
        sb_json_string(j, "prometheus", f->prometheus);
        sb_json_string(j, "instance", f->instance);
    }
    else {
        sb_json_string(j, "history", f->history);
    }
    sb_json_string(j, "status", plan->status == SB_MODEL_OK ? "ok"
                   : plan->status == SB_MODEL_NODATA ? "no_data" : "no_fit");
    if (plan->status == SB_MODEL_NODATA) {
        sb_json_null(j, "recommendation");
        sb_json_string(j, "missing", plan->missing);
    }
    else {
        sbtune_json_sizing(j, "recommendation", f->cfg.mpm, &plan->rec);
        sbtune_json_model(j, "model", f->cfg.mpm, &plan->rec);
    }
    sb_json_object_begin(j, "current");
    sb_json_string(j, "KeepAlive", f->cur.keepalive ? "On" : "Off");
    sb_json_int(j, "KeepAliveTimeout", f->cur.keepalive_timeout);
    sb_json_int(j, "MaxRequestWorkers", f->cur.max_request_workers);
    sb_json_int(j, "ServerLimit", f->cur.server_limit);
    sb_json_object_end(j);
    sbtune_current_json(j, "discovery", &f->src, f->cfg.mpm, &f->cur, f->kat);
    sb_json_object_begin(j, "inputs");
    sb_json_int(j, "minutes", f->in.minutes);
    sb_json_double(j, "busy_conn_per_s", f->in.busy_conn_per_s);
    sb_json_double(j, "busy_accepted_per_s", f->in.busy_accepted_per_s);
    sb_json_int_or_null(j, "refused", f->in.refused < 0 ? SB_UNKNOWN : f->in.refused);
    sb_json_double(j, "peak_conn_per_s", f->in.peak_conn_per_s);
    sb_json_double(j, "design_conn_per_s", plan->design_conn_per_s);
    sb_json_double(j, "hold_time_s", plan->rec.hold.hold_s);
    sb_json_int_or_null(j, "pss_per_worker_bytes", f->in.pss_per_worker_bytes > 0
                        ? f->in.pss_per_worker_bytes : SB_UNKNOWN);
    sb_json_int_or_null(j, "listen_queue_max", f->in.listen_queue_max);
    sb_json_int(j, "queued_minutes", f->in.queued_minutes);
    sb_json_double(j, "queued_share", f->in.queued_share);
    sb_json_double(j, "queue_wait_s", f->in.listen_queue_max > 0
                   && f->in.busy_accepted_per_s > 0
                   ? (double)f->in.listen_queue_max / f->in.busy_accepted_per_s : NAN);
    sb_json_object_end(j);
    sb_json_bool(j, "needs_full_restart", plan->needs_full_restart);
    sb_json_bool(j, "overloaded", plan->overloaded);
    sb_json_string(j, "overload", plan->overload);
    sb_json_string(j, "estimated", plan->estimated);
    sb_json_string(j, "arithmetic", plan->arithmetic);
    sb_json_string(j, "uncertainty", plan->uncertainty);
    sb_json_object_end(j);
    printf("%s\n", sb_json_text(j, NULL));
}

static void print_report_text(const flow_t *f, apr_pool_t *p)
{
    const sb_model_plan_t *plan = f->plan;

    if (plan->status == SB_MODEL_NODATA) {
        printf("sbtune report: no recommendation from %d minute(s) of history in %s:\n%s\n",
               f->in.minutes, f->where, plan->missing);
        sbtune_current_print(stdout, &f->src, f->cfg.mpm, &f->cur, f->kat);
        return;
    }
    printf("sbtune report: %s MPM, %d minutes of history, busiest hour %.3g new clients/s%s,"
           " peak %.3g/s\n\n", sb_mpm_name(f->cfg.mpm), f->in.minutes,
           f->in.busy_conn_per_s, accepted_words(&f->in, p), f->in.peak_conn_per_s);
    sbtune_current_print(stdout, &f->src, f->cfg.mpm, &f->cur, f->kat);
    fputs(plan->arithmetic, stdout);
    printf("\n%s:\n", plan->status == SB_MODEL_NOFIT ? "Does not fit in memory; fallback"
           : "Recommendation");
    sbtune_print_directives(stdout, f->cfg.mpm, &plan->rec);
    if (plan->needs_full_restart) {
        printf("  (needs a stop and a start: ServerLimit or ThreadLimit grows)\n");
    }
    if (plan->uncertainty[0]) {
        printf("\nUncertainty: %s\n", plan->uncertainty);
    }
}

int sbtune_report_main(int argc, char **argv, apr_pool_t *p)
{
    sb_config_t o;
    flow_t *f = apr_pcalloc(p, sizeof(*f));
    int rc;

    f->now = apr_time_now();
    if ((rc = sbtune_options(&report_cmd, argc, argv, &o, p)) >= 0
        || (rc = flow_from_options(f, &o, p)) >= 0 || (rc = check_flow(f)) >= 0) {
        return rc;
    }
    if (f->prometheus) {
        if ((rc = read_prometheus(f, p)) != 0) {
            return rc;
        }
    }
    else if (read_history(f, p) != 0) {
        return SBTUNE_EXIT_FAILURE;
    }
    else {
        current_settings(f, p);
    }
    f->plan = apr_pcalloc(p, sizeof(*f->plan));
    sb_model_plan(&f->cfg, &f->in, &f->cur, f->plan);
    if (f->plan->status == SB_MODEL_EINVAL) {
        fprintf(stderr, "sbtune report: %s\n", f->plan->missing);
        return SBTUNE_EXIT_USAGE;
    }
    if ((f->apply || f->apache) && f->plan->status != SB_MODEL_OK) {
        return nothing_to_apply(f);
    }
    if (f->apply || f->apache) {
        return decide_and_apply(f, p);
    }
    if (f->json) {
        print_report_json(f, p);
    }
    else {
        print_report_text(f, p);
    }
    return f->plan->status == SB_MODEL_NODATA ? SBTUNE_EXIT_NODATA
           : f->plan->status == SB_MODEL_NOFIT ? SBTUNE_EXIT_NOFIT : SBTUNE_EXIT_OK;
}
