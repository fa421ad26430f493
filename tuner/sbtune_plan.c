/*
 * sbtune_plan.c - "sbtune plan": the planning calculator.
 *
 * For people who have only estimates (no history): a connection rate and
 * a hold time in, the planning article's arithmetic out (slots = rate x
 * hold), then Erlang C, the MPM's rounding, the memory cap and what a
 * restart takes.  With --slots it prints the capacity of a slot count.
 * All the arithmetic is sb_model's; this file parses and prints.
 */
#include "config.h"
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <apr_strings.h>

#include "sb_json.h"
#include "sb_model.h"
#include "sbtune.h"

static void usage(FILE *out)
{
    fprintf(out,
            "Usage: sbtune plan --conn-rate R --hold-time S [OPTION]...\n"
            "       sbtune plan --slots N --hold-time S [--conn-rate R]\n"
            "The planning calculator: slots = new clients/s x seconds each holds a slot\n"
            "(Little's law, the planning article's arithmetic), then Erlang C for random\n"
            "arrivals, the MPM's rounding, the memory cap and what a restart takes.\n\n");
    sbtune_options_help(out, SB_PROG_PLAN);
    fprintf(out,
            "\nExample (the article): sbtune plan --conn-rate 150 --keepalive-timeout 5"
            " --hold-time 6.6\n"
            "Exit status: 0 ok, 1 other failure, 2 usage error, 4 the memory cap makes the\n"
            "keep-alive plan impossible (KeepAlive Off or the event MPM is recommended).\n");
}

static const sbtune_cmd_t plan_cmd = { "plan", SB_PROG_PLAN, usage };

/* What the calculator is given, from the options. */
typedef struct {
    sb_model_config_t cfg;
    sb_model_inputs_t in;
    sb_model_current_t cur;
    double conn_rate, busy_rate, hold, kat, active;
    int64_t memory;
    int slots, json, filled;
} calc_t;

static int plan_usage(const char *msg)
{
    fprintf(stderr, "sbtune plan: %s\n", msg);
    return SBTUNE_EXIT_USAGE;
}

/* The model's configuration and the calculator's figures from o.
 * Returns -1 to go on, or SBTUNE_EXIT_USAGE. */
static int calc_from_options(calc_t *k, const sb_config_t *o)
{
    sb_model_config_defaults(&k->cfg);
    sb_model_inputs_init(&k->in);
    sb_model_current_init(&k->cur);
    if (*o->mpm && sb_mpm_parse(o->mpm, &k->cfg.mpm) != 0) {
        return plan_usage("--mpm takes one of prefork|worker|event");
    }
    if (strcmp(o->format, "apache") == 0) {
        return plan_usage("--format takes one of text|json, not 'apache'");
    }
    k->json = strcmp(o->format, "json") == 0;
    k->conn_rate = o->conn_rate;
    k->busy_rate = o->busy_rate;
    k->hold = o->hold_time;
    k->active = o->active_time;
    k->kat = o->keepalive_timeout;
    k->memory = o->memory;
    k->slots = o->slots > 0 ? o->slots : 0;
    k->cfg.spike_factor = o->spike_factor;
    k->cfg.target_wait = o->target_wait;
    k->cfg.async_factor = o->async_factor;
    k->cfg.server_limit_headroom = o->server_limit_headroom;
    k->cfg.min_kat = o->min_keepalive_timeout;
    k->cfg.mem_share = o->memory_share;
    k->cfg.mem_reserve_bytes = o->memory_reserve;
    k->cfg.mem_budget_bytes = o->memory_budget > 0 ? o->memory_budget : 0;
    if (o->threads_per_child > 0) {
        k->cfg.threads_per_child = o->threads_per_child;
    }
    k->in.service_time_s = o->service_time;
    k->in.req_per_conn_mean = o->requests_per_conn;
    if (o->pss > 0) {
        k->in.pss_per_worker_bytes = o->pss;
    }
    k->cur.max_request_workers = o->current_max_request_workers;
    k->cur.server_limit = o->current_server_limit;
    k->cur.thread_limit = o->current_thread_limit;
    return -1;
}

/* The hold time from --hold-time or --active-time.  Returns -1 to go on,
 * or SBTUNE_EXIT_USAGE. */
static int calc_hold(calc_t *k)
{
    if (isfinite(k->hold) && isfinite(k->active)) {
        return plan_usage("give --hold-time or --active-time, not both");
    }
    if (isfinite(k->active)) {
        /* the article's reasoning: the client's own time plus the timeout */
        k->hold = k->active + (isfinite(k->kat) ? k->kat : 5);
        if (!(k->hold > 0)) {
            return plan_usage("--active-time 0 with KeepAlive Off leaves no hold time");
        }
    }
    if (isnan(k->hold)) {
        return plan_usage("give --hold-time S: the seconds a client holds a slot"
                          " (its requests, the gaps between them and the final keep-alive wait;"
                          " the article's typical 7 s with KeepAliveTimeout 5), or"
                          " --active-time S (requests and gaps only)");
    }
    return -1;
}

/* The capacity of k->slots slots.  Returns the exit code. */
static int print_capacity(const calc_t *k, apr_pool_t *p)
{
    sb_json_t *j;
    char words[2048];
    double little, erlang, wait = NAN;

    if (sb_model_capacity(k->slots, k->hold, k->cfg.target_wait, &little, &erlang, words,
                          sizeof(words)) != 0) {
        fprintf(stderr, "sbtune plan: cannot compute the capacity of %d slots\n", k->slots);
        return SBTUNE_EXIT_USAGE;
    }
    if (isfinite(k->conn_rate)) {
        wait = sb_model_erlang_c(k->slots, k->conn_rate * k->hold);
        snprintf(words + strlen(words), sizeof(words) - strlen(words),
                 "At %g new clients/s: %g slots busy on average; a new client waits %.2f %%"
                 " of the time: %s.\n", k->conn_rate, k->conn_rate * k->hold, wait * 100,
                 wait <= k->cfg.target_wait ? "enough slots" : "too few slots");
    }
    if (!k->json) {
        printf("sbtune plan: capacity of %d slots at a %g s hold\n\n%s", k->slots, k->hold,
               words);
        return SBTUNE_EXIT_OK;
    }
    j = sb_json_create(p);
    sb_json_object_begin(j, NULL);
    sb_json_string(j, "mode", "capacity");
    sb_json_object_begin(j, "inputs");
    sb_json_int(j, "slots", k->slots);
    sb_json_double(j, "hold_time_s", k->hold);
    sb_json_double(j, "target_wait", k->cfg.target_wait);
    sb_json_double(j, "conn_per_s", k->conn_rate);
    sb_json_object_end(j);
    sb_json_object_begin(j, "capacity");
    sb_json_double(j, "littles_law_conn_per_s", little);
    sb_json_double(j, "erlang_c_conn_per_s", erlang);
    sb_json_double(j, "wait_probability_at_conn_rate", wait);
    sb_json_object_end(j);
    sb_json_string(j, "arithmetic", words);
    sb_json_object_end(j);
    printf("%s\n", sb_json_text(j, NULL));
    return SBTUNE_EXIT_OK;
}

void sbtune_json_sizing(sb_json_t *j, const char *key, sb_mpm_t mpm,
                        const sb_model_sizing_t *s)
{
    sb_json_object_begin(j, key);
    sb_json_string(j, "KeepAlive", s->keepalive ? "On" : "Off");
    if (s->keepalive) {
        sb_json_int(j, "KeepAliveTimeout", s->kat);
    }
    else {
        sb_json_null(j, "KeepAliveTimeout");
    }
    sb_json_int(j, "MaxRequestWorkers", s->max_request_workers);
    sb_json_int(j, "ServerLimit", s->server_limit);
    if (mpm != SB_MPM_PREFORK) {
        sb_json_int(j, "ThreadsPerChild", s->threads_per_child);
        sb_json_int(j, "ThreadLimit", s->thread_limit);
    }
    sb_json_object_end(j);
}

void sbtune_json_model(sb_json_t *j, const char *key, sb_mpm_t mpm,
                       const sb_model_sizing_t *s)
{
    sb_json_object_begin(j, key);
    sb_json_string(j, "mpm", sb_mpm_name(mpm));
    sb_json_double(j, "conn_per_s", s->conn_per_s);
    sb_json_double(j, "hold_time_s", s->hold.hold_s);
    sb_json_object_begin(j, "hold_parts");
    sb_json_double(j, "active_s", s->hold.active_s);
    sb_json_double(j, "service_s", s->hold.service_s);
    sb_json_double(j, "gaps_s", s->hold.gaps_s);
    sb_json_double(j, "final_wait_s", s->hold.final_wait_s);
    sb_json_double(j, "reconnects", s->hold.reconnects);
    sb_json_object_end(j);
    sb_json_double(j, "littles_law_slots", s->littles_slots);
    sb_json_double(j, "offered_load", s->offered_load);
    sb_json_int(j, "erlang_c_slots", s->slots);
    sb_json_double(j, "wait_probability", s->wait_prob);
    sb_json_int(j, "processes", s->processes);
    if (mpm == SB_MPM_EVENT) {
        sb_json_double(j, "request_load", s->request_load);
        sb_json_int(j, "design_connections", s->design_conns);
        sb_json_double(j, "connection_ceiling", s->conn_ceiling);
    }
    sb_json_object_end(j);
}

void sbtune_print_directives(FILE *out, sb_mpm_t mpm, const sb_model_sizing_t *s)
{
    fprintf(out, "    KeepAlive %s\n", s->keepalive ? "On" : "Off");
    if (s->keepalive) {
        fprintf(out, "    KeepAliveTimeout %d\n", s->kat);
    }
    fprintf(out, "    MaxRequestWorkers %d\n", s->max_request_workers);
    fprintf(out, "    ServerLimit %d\n", s->server_limit);
    if (mpm != SB_MPM_PREFORK) {
        fprintf(out, "    ThreadsPerChild %d\n", s->threads_per_child);
        fprintf(out, "    ThreadLimit %d\n", s->thread_limit);
    }
}

/* The plan as JSON. */
static void print_plan_json(const calc_t *k, const sb_model_plan_t *plan, apr_pool_t *p)
{
    sb_json_t *j = sb_json_create(p);

    sb_json_object_begin(j, NULL);
    sb_json_string(j, "mode", "plan");
    sb_json_string(j, "status", plan->status == SB_MODEL_OK ? "ok" : "no_fit");
    sbtune_json_sizing(j, "recommendation", k->cfg.mpm, &plan->rec);
    sb_json_object_begin(j, "current");
    sb_json_string(j, "KeepAlive", k->cur.keepalive ? "On" : "Off");
    if (k->cur.keepalive) {
        sb_json_int(j, "KeepAliveTimeout", k->cur.keepalive_timeout);
    }
    else {
        sb_json_null(j, "KeepAliveTimeout");
    }
    sb_json_int(j, "MaxRequestWorkers", k->cur.max_request_workers);
    sb_json_int(j, "ServerLimit", k->cur.server_limit);
    if (k->cfg.mpm != SB_MPM_PREFORK) {
        sb_json_int(j, "ThreadsPerChild", k->cur.threads_per_child);
        sb_json_int(j, "ThreadLimit", k->cur.thread_limit);
    }
    sb_json_bool(j, "httpd_defaults_assumed", (k->filled & (2 | 4 | 16)) != 0);
    sb_json_object_end(j);
    sb_json_object_begin(j, "inputs");
    sb_json_string(j, "mpm", sb_mpm_name(k->cfg.mpm));
    sb_json_double(j, "design_conn_per_s", plan->design_conn_per_s);
    sb_json_double(j, "conn_rate", k->conn_rate);
    sb_json_double(j, "busy_conn_per_s", k->busy_rate);
    sb_json_double(j, "spike_factor", k->cfg.spike_factor);
    sb_json_double(j, "hold_time_s", k->hold);
    if (k->in.keepalive) {
        sb_json_double(j, "keepalive_timeout_s", k->in.kat);
    }
    else {
        sb_json_null(j, "keepalive_timeout_s");
    }
    sb_json_double(j, "service_time_s", k->in.service_time_s);
    sb_json_double(j, "requests_per_conn", k->in.req_per_conn_mean);
    sb_json_int_or_null(j, "pss_per_worker_bytes",
                        k->in.pss_per_worker_bytes > 0 ? k->in.pss_per_worker_bytes : SB_UNKNOWN);
    sb_json_int_or_null(j, "memory_bytes", k->memory > 0 ? k->memory : SB_UNKNOWN);
    sb_json_double(j, "memory_budget_bytes", plan->mem_budget_bytes);
    sb_json_double(j, "target_wait", k->cfg.target_wait);
    if (k->cfg.mpm != SB_MPM_PREFORK) {
        sb_json_int(j, "threads_per_child", k->cfg.threads_per_child);
    }
    if (k->cfg.mpm == SB_MPM_EVENT) {
        sb_json_double(j, "async_factor", k->cfg.async_factor);
    }
    sb_json_object_end(j);
    sbtune_json_model(j, "model", k->cfg.mpm, &plan->rec);
    sb_json_object_begin(j, "memory");
    sb_json_int_or_null(j, "max_workers", plan->mem_max_workers >= 0
                        ? plan->mem_max_workers : SB_UNKNOWN);
    if (plan->fits_memory < 0) {
        sb_json_null(j, "fits");
    }
    else {
        sb_json_bool(j, "fits", plan->fits_memory);
    }
    sb_json_bool(j, "keepalive_timeout_shortened", plan->kat_memory_limited);
    sb_json_object_end(j);
    if (plan->has_event_alt) {
        sb_json_object_begin(j, "alternative");
        sb_json_string(j, "mpm", "event");
        sbtune_json_sizing(j, "recommendation", SB_MPM_EVENT, &plan->event_alt);
        sbtune_json_model(j, "model", SB_MPM_EVENT, &plan->event_alt);
        sb_json_object_end(j);
    }
    sb_json_bool(j, "needs_full_restart", plan->needs_full_restart);
    sb_json_string(j, "arithmetic", plan->arithmetic);
    sb_json_string(j, "uncertainty", plan->uncertainty);
    sb_json_object_end(j);
    printf("%s\n", sb_json_text(j, NULL));
}

/* The plan as text. */
static void print_plan_text(const calc_t *k, const sb_model_plan_t *plan)
{
    printf("sbtune plan: %s MPM, %.12g new clients/s to plan for\n\n",
           sb_mpm_name(k->cfg.mpm), plan->design_conn_per_s);
    fputs(plan->arithmetic, stdout);
    if (plan->status == SB_MODEL_NOFIT && plan->fits_memory == 1) {
        printf("\nThe keep-alive plan does not fit in memory.  Fallback:\n");
    }
    else if (plan->status == SB_MODEL_NOFIT) {
        printf("\nNo plan carries the design rate in this memory.  Capped at what"
               " fits:\n");
    }
    else {
        printf("\nRecommendation:\n");
    }
    sbtune_print_directives(stdout, k->cfg.mpm, &plan->rec);
    if (plan->needs_full_restart) {
        printf("  (needs a stop and a start: ServerLimit or ThreadLimit grows)\n");
    }
    printf("Current%s:\n", (k->filled & (2 | 4 | 16)) ? " (httpd's defaults where not given)"
           : "");
    printf("    KeepAlive %s\n", k->cur.keepalive ? "On" : "Off");
    if (k->cur.keepalive) {
        printf("    KeepAliveTimeout %d\n", k->cur.keepalive_timeout);
    }
    printf("    MaxRequestWorkers %d\n    ServerLimit %d\n", k->cur.max_request_workers,
           k->cur.server_limit);
    if (k->cfg.mpm != SB_MPM_PREFORK) {
        printf("    ThreadsPerChild %d\n    ThreadLimit %d\n", k->cur.threads_per_child,
               k->cur.thread_limit);
    }
    if (plan->uncertainty[0]) {
        printf("\nUncertainty: %s\n", plan->uncertainty);
    }
}

/* The plan of the calculator's figures.  Returns the exit code. */
static int plan(calc_t *k, apr_pool_t *p)
{
    sb_model_plan_t *plan;

    if (isnan(k->conn_rate) && isnan(k->busy_rate)) {
        return plan_usage("give --conn-rate R (new clients/s to plan for) or"
                          " --busy-rate R (the busy-period average, planned at --spike-factor"
                          " times it), or --slots N for the capacity of N slots");
    }
    if (k->cfg.mem_budget_bytes > 0 && (k->memory > 0 || k->cfg.mem_reserve_bytes > 0)) {
        return plan_usage("--memory-budget replaces --memory and --memory-reserve;"
                          " give one or the other");
    }
    k->in.peak_conn_per_s = k->conn_rate;
    k->in.busy_conn_per_s = k->busy_rate;
    k->in.hold_time_s = k->hold;
    k->in.mem_total_bytes = k->memory;
    if (isfinite(k->kat) && k->kat == 0) {
        k->in.keepalive = 0;
        k->cur.keepalive = 0;
    }
    else {
        k->in.kat = k->kat;
        if (isfinite(k->kat)) {
            k->cur.keepalive_timeout = (int)ceil(k->kat - 1e-9);
        }
    }
    k->filled = sb_model_current_defaults(&k->cur, k->cfg.mpm);
    if (k->in.keepalive && isnan(k->in.kat)) {
        k->in.kat = k->cur.keepalive_timeout;
    }

    plan = apr_pcalloc(p, sizeof(*plan));
    sb_model_plan(&k->cfg, &k->in, &k->cur, plan);
    if (plan->status == SB_MODEL_EINVAL || plan->status == SB_MODEL_NODATA) {
        return plan_usage(plan->missing);
    }
    if (k->json) {
        print_plan_json(k, plan, p);
    }
    else {
        print_plan_text(k, plan);
    }
    return plan->status == SB_MODEL_NOFIT ? SBTUNE_EXIT_NOFIT : SBTUNE_EXIT_OK;
}

int sbtune_plan_main(int argc, char **argv, apr_pool_t *p)
{
    sb_config_t o;
    calc_t k;
    int rc;

    if ((rc = sbtune_options(&plan_cmd, argc, argv, &o, p)) >= 0) {
        return rc;
    }
    memset(&k, 0, sizeof(k));
    if ((rc = calc_from_options(&k, &o)) >= 0 || (rc = calc_hold(&k)) >= 0) {
        return rc;
    }
    if (k.slots > 0) {
        return print_capacity(&k, p);
    }
    return plan(&k, p);
}
