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

enum {
    OPT_HELP = 'h',
    OPT_CONN_RATE = 256, OPT_BUSY_RATE, OPT_SPIKE_FACTOR, OPT_HOLD_TIME, OPT_ACTIVE_TIME,
    OPT_KAT,
    OPT_SERVICE_TIME, OPT_REQS, OPT_MPM, OPT_TPC, OPT_ASYNC, OPT_HEADROOM,
    OPT_TARGET_WAIT, OPT_MIN_KAT, OPT_PSS, OPT_MEMORY, OPT_MEM_SHARE, OPT_MEM_RESERVE,
    OPT_MEM_BUDGET, OPT_SLOTS, OPT_CUR_MRW, OPT_CUR_SL, OPT_CUR_TL, OPT_FORMAT
};

/* One table: getopt_long, --help and the man page's list. */
static const struct {
    int id;
    const char *name;
    int has_arg;
    const char *arg;
    const char *help;
} opts[] = {
    { OPT_CONN_RATE, "conn-rate", required_argument, "R",
      "new client connections per second to plan for (the worst spike)" },
    { OPT_BUSY_RATE, "busy-rate", required_argument, "R",
      "busy-period average of new connections/s; planned at --spike-factor times it" },
    { OPT_SPIKE_FACTOR, "spike-factor", required_argument, "F",
      "worst spike / busy-period average, 1 to 100 (default 2.5)" },
    { OPT_HOLD_TIME, "hold-time", required_argument, "S",
      "seconds a client holds a slot: its requests, the gaps, the final keep-alive wait" },
    { OPT_ACTIVE_TIME, "active-time", required_argument, "S",
      "instead of --hold-time: seconds of requests and gaps; hold = this + the timeout" },
    { OPT_KAT, "keepalive-timeout", required_argument, "K",
      "KeepAliveTimeout in force with that hold time, s (default 5; 0: KeepAlive Off)" },
    { OPT_SERVICE_TIME, "service-time", required_argument, "S",
      "service time per request, s (sizes the event MPM and KeepAlive Off)" },
    { OPT_REQS, "requests-per-conn", required_argument, "N",
      "requests per client connection (default 1)" },
    { OPT_MPM, "mpm", required_argument, "prefork|worker|event", "httpd's MPM (default prefork)" },
    { OPT_TPC, "threads-per-child", required_argument, "T", "worker/event ThreadsPerChild (default 25)" },
    { OPT_ASYNC, "async-factor", required_argument, "F",
      "event AsyncRequestWorkerFactor (default 2)" },
    { OPT_HEADROOM, "server-limit-headroom", required_argument, "F",
      "worker/event: spare ServerLimit for finishing processes, share (default 0.25, at least 1)" },
    { OPT_TARGET_WAIT, "target-wait", required_argument, "P",
      "chance a new client may wait in the accept queue: 0.01 or 1% (default 1%)" },
    { OPT_MIN_KAT, "min-keepalive-timeout", required_argument, "K",
      "shortest KeepAliveTimeout the memory cap may impose, s (default 1)" },
    { OPT_PSS, "pss", required_argument, "BYTES", "PSS of one worker (suffixes K, M, G: powers of 1024)" },
    { OPT_MEMORY, "memory", required_argument, "BYTES", "the host's memory (MemTotal)" },
    { OPT_MEM_SHARE, "memory-share", required_argument, "F",
      "share of --memory httpd may use (default 0.75)" },
    { OPT_MEM_RESERVE, "memory-reserve", required_argument, "BYTES",
      "taken off the share for other services (default 0)" },
    { OPT_MEM_BUDGET, "memory-budget", required_argument, "BYTES",
      "httpd's memory budget itself (instead of --memory, --memory-share, --memory-reserve)" },
    { OPT_SLOTS, "slots", required_argument, "N",
      "print the capacity of N slots at --hold-time instead of a plan" },
    { OPT_CUR_MRW, "current-max-request-workers", required_argument, "N",
      "MaxRequestWorkers in force (default httpd's: 256 prefork, 400 worker/event)" },
    { OPT_CUR_SL, "current-server-limit", required_argument, "N",
      "ServerLimit in force (default httpd's: 256 prefork, 16 worker/event)" },
    { OPT_CUR_TL, "current-thread-limit", required_argument, "N",
      "ThreadLimit in force (default httpd's: 64)" },
    { OPT_FORMAT, "format", required_argument, "text|json", "output format (default text)" },
    { OPT_HELP, "help", no_argument, NULL, "show this help and exit" },
};
#define NOPTS (sizeof(opts) / sizeof(opts[0]))

static void usage(FILE *out)
{
    apr_size_t i;

    fprintf(out,
            "Usage: sbtune plan --conn-rate R --hold-time S [OPTION]...\n"
            "       sbtune plan --slots N --hold-time S [--conn-rate R]\n"
            "The planning calculator: slots = new clients/s x seconds each holds a slot\n"
            "(Little's law, the planning article's arithmetic), then Erlang C for random\n"
            "arrivals, the MPM's rounding, the memory cap and what a restart takes.\n\n");
    for (i = 0; i < NOPTS; i++) {
        char left[64];
        snprintf(left, sizeof(left), "--%s%s%s", opts[i].name, opts[i].arg ? " " : "",
                 opts[i].arg ? opts[i].arg : "");
        if (opts[i].id < 256) {
            fprintf(out, "  -%c, %-36s %s\n", opts[i].id, left, opts[i].help);
        }
        else {
            fprintf(out, "      %-36s %s\n", left, opts[i].help);
        }
    }
    fprintf(out,
            "\nExample (the article): sbtune plan --conn-rate 150 --keepalive-timeout 5"
            " --hold-time 6.6\n"
            "Exit status: 0 ok, 1 other failure, 2 usage error, 4 the memory cap makes the\n"
            "keep-alive plan impossible (KeepAlive Off or the event MPM is recommended).\n");
}

static const char *opt_name(int id)
{
    apr_size_t i;

    for (i = 0; i < NOPTS; i++) {
        if (opts[i].id == id) {
            return opts[i].name;
        }
    }
    return "?";
}

static int bad(int id, const char *what, const char *val)
{
    fprintf(stderr, "sbtune plan: --%s takes %s, not '%s'\n", opt_name(id), what, val);
    return -1;
}

/* A finite number in [lo, hi]. */
static int parse_double(int id, const char *s, double lo, double hi, const char *what,
                        double *out)
{
    char *end;
    double v;

    errno = 0;
    v = strtod(s, &end);
    if (errno || end == s || *end || !isfinite(v) || v < lo || v > hi) {
        return bad(id, what, s);
    }
    *out = v;
    return 0;
}

static int parse_int(int id, const char *s, long lo, long hi, const char *what, int *out)
{
    char *end;
    long v;

    errno = 0;
    v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi) {
        return bad(id, what, s);
    }
    *out = (int)v;
    return 0;
}

/* Bytes with an optional K, M, G or T (powers of 1024; "MiB", "MB" alike). */
static int parse_bytes(int id, const char *s, int64_t *out)
{
    char *end;
    double v, mult = 1;

    errno = 0;
    v = strtod(s, &end);
    if (errno || end == s || !isfinite(v) || v <= 0) {
        return bad(id, "a positive size in bytes (suffixes K, M, G, T)", s);
    }
    switch (*end) {
    case 'k': case 'K': mult = 1024.0; end++; break;
    case 'm': case 'M': mult = 1048576.0; end++; break;
    case 'g': case 'G': mult = 1073741824.0; end++; break;
    case 't': case 'T': mult = 1099511627776.0; end++; break;
    default: break;
    }
    if (mult > 1 && *end == 'i') {
        end++;
    }
    if (*end == 'B' || *end == 'b') {
        end++;
    }
    if (*end || v * mult > 9e18 || v * mult < 1) {
        return bad(id, "a positive size in bytes (suffixes K, M, G, T)", s);
    }
    *out = (int64_t)llround(v * mult);
    return 0;
}

/* A probability: 0.01 or 1%. */
static int parse_prob(int id, const char *s, double *out)
{
    char buf[64];
    apr_size_t n = strlen(s);
    double v;

    if (n > 0 && n < sizeof(buf) && s[n - 1] == '%') {
        memcpy(buf, s, n - 1);
        buf[n - 1] = '\0';
        if (parse_double(id, buf, 1e-9, 99.999999, "a probability between 0 and 1 (or 0% and"
                         " 100%)", &v) != 0) {
            return -1;
        }
        *out = v / 100;
        return 0;
    }
    return parse_double(id, s, 1e-11, 0.99999999, "a probability between 0 and 1 (or 0% and"
                        " 100%)", out);
}

void sbtune_json_sizing(sb_json_t *j, const char *key, sb_model_mpm_t mpm,
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
    if (mpm != SB_MODEL_PREFORK) {
        sb_json_int(j, "ThreadsPerChild", s->threads_per_child);
        sb_json_int(j, "ThreadLimit", s->thread_limit);
    }
    sb_json_object_end(j);
}

void sbtune_json_model(sb_json_t *j, const char *key, sb_model_mpm_t mpm,
                       const sb_model_sizing_t *s)
{
    sb_json_object_begin(j, key);
    sb_json_string(j, "mpm", sb_model_mpm_name(mpm));
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
    if (mpm == SB_MODEL_EVENT) {
        sb_json_double(j, "request_load", s->request_load);
        sb_json_int(j, "design_connections", s->design_conns);
        sb_json_double(j, "connection_ceiling", s->conn_ceiling);
    }
    sb_json_object_end(j);
}

void sbtune_print_directives(FILE *out, sb_model_mpm_t mpm, const sb_model_sizing_t *s)
{
    fprintf(out, "    KeepAlive %s\n", s->keepalive ? "On" : "Off");
    if (s->keepalive) {
        fprintf(out, "    KeepAliveTimeout %d\n", s->kat);
    }
    fprintf(out, "    MaxRequestWorkers %d\n", s->max_request_workers);
    fprintf(out, "    ServerLimit %d\n", s->server_limit);
    if (mpm != SB_MODEL_PREFORK) {
        fprintf(out, "    ThreadsPerChild %d\n", s->threads_per_child);
        fprintf(out, "    ThreadLimit %d\n", s->thread_limit);
    }
}

int sbtune_plan_main(int argc, char **argv, apr_pool_t *p)
{
    static char prog[] = "sbtune plan";
    struct option lopts[NOPTS + 1];
    sb_model_config_t cfg;
    sb_model_inputs_t in;
    sb_model_current_t cur;
    sb_model_plan_t *plan;
    double conn_rate = NAN, busy_rate = NAN, hold = NAN, kat = NAN, active = NAN;
    int64_t memory = -1;
    int slots = 0, json = 0, filled, c;
    apr_size_t i;

    sb_model_config_defaults(&cfg);
    sb_model_inputs_init(&in);
    sb_model_current_init(&cur);
    for (i = 0; i < NOPTS; i++) {
        lopts[i].name = opts[i].name;
        lopts[i].has_arg = opts[i].has_arg;
        lopts[i].flag = NULL;
        lopts[i].val = opts[i].id;
    }
    memset(&lopts[NOPTS], 0, sizeof(lopts[NOPTS]));

    argv[0] = prog;             /* getopt's messages name it */
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", lopts, NULL)) != -1) {
        int rc = 0;
        switch (c) {
        case OPT_CONN_RATE:
            rc = parse_double(c, optarg, 0, 1e7, "new connections per second (0 to 1e7)",
                              &conn_rate);
            break;
        case OPT_BUSY_RATE:
            rc = parse_double(c, optarg, 0, 1e7, "new connections per second (0 to 1e7)",
                              &busy_rate);
            break;
        case OPT_SPIKE_FACTOR:
            rc = parse_double(c, optarg, 1, 100, "a factor from 1 to 100", &cfg.spike_factor);
            break;
        case OPT_HOLD_TIME:
            rc = parse_double(c, optarg, 1e-6, 86400, "seconds (more than 0, at most 86400)",
                              &hold);
            break;
        case OPT_ACTIVE_TIME:
            rc = parse_double(c, optarg, 0, 86400, "seconds (0 to 86400)", &active);
            break;
        case OPT_KAT:
            rc = parse_double(c, optarg, 0, 86400, "seconds (0 for KeepAlive Off)", &kat);
            break;
        case OPT_SERVICE_TIME:
            rc = parse_double(c, optarg, 0, 86400, "seconds", &in.service_time_s);
            break;
        case OPT_REQS:
            rc = parse_double(c, optarg, 1, 1e6, "a number of requests (at least 1)",
                              &in.req_per_conn_mean);
            break;
        case OPT_MPM:
            if (sb_model_mpm_parse(optarg, &cfg.mpm) != 0) {
                rc = bad(c, "one of prefork|worker|event", optarg);
            }
            break;
        case OPT_TPC:
            rc = parse_int(c, optarg, 1, SB_MODEL_MAX_THREAD_LIMIT, "a number from 1 to 100000",
                           &cfg.threads_per_child);
            break;
        case OPT_ASYNC:
            rc = parse_double(c, optarg, 0, 1000, "a factor from 0 to 1000", &cfg.async_factor);
            break;
        case OPT_HEADROOM:
            rc = parse_double(c, optarg, 0, 10, "a share from 0 to 10",
                              &cfg.server_limit_headroom);
            break;
        case OPT_TARGET_WAIT:
            rc = parse_prob(c, optarg, &cfg.target_wait);
            break;
        case OPT_MIN_KAT:
            rc = parse_int(c, optarg, 1, 86400, "whole seconds (at least 1)", &cfg.min_kat);
            break;
        case OPT_PSS:
            rc = parse_bytes(c, optarg, &in.pss_per_worker_bytes);
            break;
        case OPT_MEMORY:
            rc = parse_bytes(c, optarg, &memory);
            break;
        case OPT_MEM_SHARE:
            rc = parse_double(c, optarg, 1e-6, 1, "a share greater than 0, at most 1",
                              &cfg.mem_share);
            break;
        case OPT_MEM_RESERVE:
            if (strcmp(optarg, "0") == 0) {
                cfg.mem_reserve_bytes = 0;
            }
            else {
                rc = parse_bytes(c, optarg, &cfg.mem_reserve_bytes);
            }
            break;
        case OPT_MEM_BUDGET:
            rc = parse_bytes(c, optarg, &cfg.mem_budget_bytes);
            break;
        case OPT_SLOTS:
            rc = parse_int(c, optarg, 1, 1000000, "a number of slots from 1 to 1000000",
                           &slots);
            break;
        case OPT_CUR_MRW:
            rc = parse_int(c, optarg, 1, SB_MODEL_MAX_SLOTS, "a number (at least 1)",
                           &cur.max_request_workers);
            break;
        case OPT_CUR_SL:
            rc = parse_int(c, optarg, 1, SB_MODEL_PREFORK_MAX_SERVER_LIMIT,
                           "a number from 1 to 200000", &cur.server_limit);
            break;
        case OPT_CUR_TL:
            rc = parse_int(c, optarg, 1, SB_MODEL_MAX_THREAD_LIMIT, "a number from 1 to 100000",
                           &cur.thread_limit);
            break;
        case OPT_FORMAT:
            if (strcmp(optarg, "json") == 0) {
                json = 1;
            }
            else if (strcmp(optarg, "text") == 0) {
                json = 0;
            }
            else {
                rc = bad(c, "one of text|json", optarg);
            }
            break;
        case OPT_HELP:
            usage(stdout);
            return SBTUNE_EXIT_OK;
        default:
            fprintf(stderr, "Try 'sbtune plan --help' for more information.\n");
            return SBTUNE_EXIT_USAGE;
        }
        if (rc != 0) {
            return SBTUNE_EXIT_USAGE;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "sbtune plan: unexpected argument '%s'\n"
                "Try 'sbtune plan --help' for more information.\n", argv[optind]);
        return SBTUNE_EXIT_USAGE;
    }
    if (isfinite(hold) && isfinite(active)) {
        fprintf(stderr, "sbtune plan: give --hold-time or --active-time, not both\n");
        return SBTUNE_EXIT_USAGE;
    }
    if (isfinite(active)) {
        /* the article's reasoning: the client's own time plus the timeout */
        hold = active + (isfinite(kat) ? kat : 5);
        if (!(hold > 0)) {
            fprintf(stderr, "sbtune plan: --active-time 0 with KeepAlive Off leaves no hold"
                    " time\n");
            return SBTUNE_EXIT_USAGE;
        }
    }
    if (isnan(hold)) {
        fprintf(stderr, "sbtune plan: give --hold-time S: the seconds a client holds a slot"
                " (its requests, the gaps between them and the final keep-alive wait;"
                " the article's typical 7 s with KeepAliveTimeout 5), or --active-time S"
                " (requests and gaps only)\n");
        return SBTUNE_EXIT_USAGE;
    }

    /* the capacity of a slot count */
    if (slots > 0) {
        sb_json_t *j;
        char words[2048];
        double little, erlang, wait = NAN;

        if (sb_model_capacity(slots, hold, cfg.target_wait, &little, &erlang, words,
                              sizeof(words)) != 0) {
            fprintf(stderr, "sbtune plan: cannot compute the capacity of %d slots\n", slots);
            return SBTUNE_EXIT_USAGE;
        }
        if (isfinite(conn_rate)) {
            wait = sb_model_erlang_c(slots, conn_rate * hold);
            snprintf(words + strlen(words), sizeof(words) - strlen(words),
                     "At %g new clients/s: %g slots busy on average; a new client waits %.2f %%"
                     " of the time: %s.\n", conn_rate, conn_rate * hold, wait * 100,
                     wait <= cfg.target_wait ? "enough slots" : "too few slots");
        }
        if (!json) {
            printf("sbtune plan: capacity of %d slots at a %g s hold\n\n%s", slots, hold, words);
            return SBTUNE_EXIT_OK;
        }
        j = sb_json_create(p);
        sb_json_object_begin(j, NULL);
        sb_json_string(j, "mode", "capacity");
        sb_json_object_begin(j, "inputs");
        sb_json_int(j, "slots", slots);
        sb_json_double(j, "hold_time_s", hold);
        sb_json_double(j, "target_wait", cfg.target_wait);
        sb_json_double(j, "conn_per_s", conn_rate);
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

    if (isnan(conn_rate) && isnan(busy_rate)) {
        fprintf(stderr, "sbtune plan: give --conn-rate R (new clients/s to plan for) or"
                " --busy-rate R (the busy-period average, planned at --spike-factor times"
                " it), or --slots N for the capacity of N slots\n");
        return SBTUNE_EXIT_USAGE;
    }
    if (cfg.mem_budget_bytes > 0 && (memory > 0 || cfg.mem_reserve_bytes > 0)) {
        fprintf(stderr, "sbtune plan: --memory-budget replaces --memory and --memory-reserve;"
                " give one or the other\n");
        return SBTUNE_EXIT_USAGE;
    }

    in.peak_conn_per_s = conn_rate;
    in.busy_conn_per_s = busy_rate;
    in.hold_time_s = hold;
    in.mem_total_bytes = memory;
    if (isfinite(kat) && kat == 0) {
        in.keepalive = 0;
        cur.keepalive = 0;
    }
    else {
        in.kat = kat;
        if (isfinite(kat)) {
            cur.keepalive_timeout = (int)ceil(kat - 1e-9);
        }
    }
    filled = sb_model_current_defaults(&cur, cfg.mpm);
    if (in.keepalive && isnan(in.kat)) {
        in.kat = cur.keepalive_timeout;
    }

    plan = apr_pcalloc(p, sizeof(*plan));
    sb_model_plan(&cfg, &in, &cur, plan);
    if (plan->status == SB_MODEL_EINVAL || plan->status == SB_MODEL_NODATA) {
        fprintf(stderr, "sbtune plan: %s\n", plan->missing);
        return SBTUNE_EXIT_USAGE;
    }

    if (json) {
        sb_json_t *j = sb_json_create(p);

        sb_json_object_begin(j, NULL);
        sb_json_string(j, "mode", "plan");
        sb_json_string(j, "status", plan->status == SB_MODEL_OK ? "ok" : "no_fit");
        sbtune_json_sizing(j, "recommendation", cfg.mpm, &plan->rec);
        sb_json_object_begin(j, "current");
        sb_json_string(j, "KeepAlive", cur.keepalive ? "On" : "Off");
        if (cur.keepalive) {
            sb_json_int(j, "KeepAliveTimeout", cur.keepalive_timeout);
        }
        else {
            sb_json_null(j, "KeepAliveTimeout");
        }
        sb_json_int(j, "MaxRequestWorkers", cur.max_request_workers);
        sb_json_int(j, "ServerLimit", cur.server_limit);
        if (cfg.mpm != SB_MODEL_PREFORK) {
            sb_json_int(j, "ThreadsPerChild", cur.threads_per_child);
            sb_json_int(j, "ThreadLimit", cur.thread_limit);
        }
        sb_json_bool(j, "httpd_defaults_assumed", (filled & (2 | 4 | 16)) != 0);
        sb_json_object_end(j);
        sb_json_object_begin(j, "inputs");
        sb_json_string(j, "mpm", sb_model_mpm_name(cfg.mpm));
        sb_json_double(j, "design_conn_per_s", plan->design_conn_per_s);
        sb_json_double(j, "conn_rate", conn_rate);
        sb_json_double(j, "busy_conn_per_s", busy_rate);
        sb_json_double(j, "spike_factor", cfg.spike_factor);
        sb_json_double(j, "hold_time_s", hold);
        if (in.keepalive) {
            sb_json_double(j, "keepalive_timeout_s", in.kat);
        }
        else {
            sb_json_null(j, "keepalive_timeout_s");
        }
        sb_json_double(j, "service_time_s", in.service_time_s);
        sb_json_double(j, "requests_per_conn", in.req_per_conn_mean);
        sb_json_int_or_null(j, "pss_per_worker_bytes",
                            in.pss_per_worker_bytes > 0 ? in.pss_per_worker_bytes : SB_UNKNOWN);
        sb_json_int_or_null(j, "memory_bytes", memory > 0 ? memory : SB_UNKNOWN);
        sb_json_double(j, "memory_budget_bytes", plan->mem_budget_bytes);
        sb_json_double(j, "target_wait", cfg.target_wait);
        if (cfg.mpm != SB_MODEL_PREFORK) {
            sb_json_int(j, "threads_per_child", cfg.threads_per_child);
        }
        if (cfg.mpm == SB_MODEL_EVENT) {
            sb_json_double(j, "async_factor", cfg.async_factor);
        }
        sb_json_object_end(j);
        sbtune_json_model(j, "model", cfg.mpm, &plan->rec);
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
            sbtune_json_sizing(j, "recommendation", SB_MODEL_EVENT, &plan->event_alt);
            sbtune_json_model(j, "model", SB_MODEL_EVENT, &plan->event_alt);
            sb_json_object_end(j);
        }
        sb_json_bool(j, "needs_full_restart", plan->needs_full_restart);
        sb_json_string(j, "arithmetic", plan->arithmetic);
        sb_json_string(j, "uncertainty", plan->uncertainty);
        sb_json_object_end(j);
        printf("%s\n", sb_json_text(j, NULL));
    }
    else {
        printf("sbtune plan: %s MPM, %.12g new clients/s to plan for\n\n",
               sb_model_mpm_name(cfg.mpm), plan->design_conn_per_s);
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
        sbtune_print_directives(stdout, cfg.mpm, &plan->rec);
        if (plan->needs_full_restart) {
            printf("  (needs a stop and a start: ServerLimit or ThreadLimit grows)\n");
        }
        printf("Current%s:\n", (filled & (2 | 4 | 16)) ? " (httpd's defaults where not given)"
               : "");
        printf("    KeepAlive %s\n", cur.keepalive ? "On" : "Off");
        if (cur.keepalive) {
            printf("    KeepAliveTimeout %d\n", cur.keepalive_timeout);
        }
        printf("    MaxRequestWorkers %d\n    ServerLimit %d\n", cur.max_request_workers,
               cur.server_limit);
        if (cfg.mpm != SB_MODEL_PREFORK) {
            printf("    ThreadsPerChild %d\n    ThreadLimit %d\n", cur.threads_per_child,
                   cur.thread_limit);
        }
        if (plan->uncertainty[0]) {
            printf("\nUncertainty: %s\n", plan->uncertainty);
        }
    }
    return plan->status == SB_MODEL_NOFIT ? SBTUNE_EXIT_NOFIT : SBTUNE_EXIT_OK;
}
