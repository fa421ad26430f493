/*
 * sbtune_report.c - "sbtune report": the plan from the agent's history.
 *
 * Reads the per-minute rows of the window (default the last 7 days) from
 * the SQLite history, turns them into the model's inputs (busiest hour,
 * peaks, the keep-alive gap and idle-close distributions, requests per
 * connection, service and hold times, PSS per worker) and prints the plan
 * with its arithmetic, or says what data is missing.
 */
#include "config.h"
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <apr_strings.h>
#include <apr_time.h>

#include "sb_history.h"
#include "sb_procmem.h"
#include "sbtune.h"

enum {
    OPT_HISTORY = 1, OPT_WINDOW_DAYS, OPT_MPM, OPT_KAT, OPT_MRW, OPT_SERVER_LIMIT,
    OPT_TPC, OPT_THREAD_LIMIT, OPT_SPIKE, OPT_TARGET_WAIT, OPT_MIN_MINUTES, OPT_MEMORY,
    OPT_FORMAT, OPT_HELP
};

static const struct {
    int id;
    const char *name;
    const char *arg;
    const char *help;
} opts[] = {
    { OPT_HISTORY, "history", "FILE", "the agent's SQLite history (required)" },
    { OPT_WINDOW_DAYS, "window-days", "DAYS", "history window to plan from (default 7)" },
    { OPT_MPM, "mpm", "prefork|worker|event", "httpd's MPM (default prefork)" },
    { OPT_KAT, "keepalive-timeout", "S", "the current KeepAliveTimeout (0: KeepAlive Off;"
      " default 5)" },
    { OPT_MRW, "max-request-workers", "N", "the current MaxRequestWorkers" },
    { OPT_SERVER_LIMIT, "server-limit", "N", "the current ServerLimit" },
    { OPT_TPC, "threads-per-child", "N", "the current ThreadsPerChild (worker, event)" },
    { OPT_THREAD_LIMIT, "thread-limit", "N", "the current ThreadLimit (worker, event)" },
    { OPT_SPIKE, "spike-factor", "F", "design rate = F x busiest-hour mean (default 2.5)" },
    { OPT_TARGET_WAIT, "target-wait", "P", "chance a new client may wait (default 0.01)" },
    { OPT_MIN_MINUTES, "min-minutes", "N", "minutes of history needed (default 60)" },
    { OPT_MEMORY, "memory", "BYTES", "memory of the host (default MemTotal)" },
    { OPT_FORMAT, "format", "text|json", "output format (default text)" },
    { OPT_HELP, "help", NULL, "show this help and exit" },
};
#define NOPTS (sizeof(opts) / sizeof(opts[0]))

static void usage(FILE *out)
{
    apr_size_t i;
    fprintf(out, "Usage: sbtune report --history FILE [OPTION]...\n"
            "The KeepAliveTimeout / MaxRequestWorkers plan from the agent's history.\n\n");
    for (i = 0; i < NOPTS; i++) {
        char left[64];
        snprintf(left, sizeof(left), "--%s%s%s", opts[i].name, opts[i].arg ? " " : "",
                 opts[i].arg ? opts[i].arg : "");
        fprintf(out, "  %-38s %s\n", left, opts[i].help);
    }
    fprintf(out, "\nExit status: 0 plan printed, 1 failure, 2 usage, 4 the keep-alive plan does"
            " not fit in memory\n(the fallback is printed), 5 too little data (what is"
            " missing is printed).  See sbtune(8).\n");
}

static int num(const char *name, const char *s, double lo, double hi, double *out)
{
    char *end;
    double v;
    errno = 0;
    v = strtod(s, &end);
    if (errno || end == s || *end || !(v >= lo && v <= hi)) {
        fprintf(stderr, "sbtune report: --%s takes a number from %g to %g, not '%s'\n", name,
                lo, hi, s);
        return -1;
    }
    *out = v;
    return 0;
}

int sbtune_report_main(int argc, char **argv, apr_pool_t *p)
{
    static char prog[] = "sbtune report";
    struct option lopts[NOPTS + 1];
    sb_model_config_t cfg;
    sb_model_inputs_t in;
    sb_model_current_t cur;
    sb_model_plan_t *plan;
    sb_model_history_t *mh;
    sb_history_t *h;
    const char *history = NULL;
    double window_days = 7, kat = 5, v;
    int64_t memory = -1;
    int json = 0, c;
    apr_size_t i;
    apr_time_t now = apr_time_now();

    sb_model_config_defaults(&cfg);
    sb_model_inputs_init(&in);
    sb_model_current_init(&cur);
    for (i = 0; i < NOPTS; i++) {
        lopts[i].name = opts[i].name;
        lopts[i].has_arg = opts[i].arg ? required_argument : no_argument;
        lopts[i].flag = NULL;
        lopts[i].val = opts[i].id;
    }
    memset(&lopts[NOPTS], 0, sizeof(lopts[NOPTS]));
    argv[0] = prog;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", lopts, NULL)) != -1) {
        int rc = 0;
        switch (c) {
        case OPT_HISTORY: history = optarg; break;
        case OPT_WINDOW_DAYS: rc = num("window-days", optarg, 0.001, 3650, &window_days); break;
        case OPT_MPM:
            if (sb_model_mpm_parse(optarg, &cfg.mpm) != 0) {
                fprintf(stderr, "sbtune report: --mpm takes prefork, worker or event, not '%s'\n",
                        optarg);
                rc = -1;
            }
            break;
        case OPT_KAT: rc = num("keepalive-timeout", optarg, 0, 3600, &kat); break;
        case OPT_MRW:
            rc = num("max-request-workers", optarg, 1, 1e6, &v);
            cur.max_request_workers = (int)v;
            break;
        case OPT_SERVER_LIMIT:
            rc = num("server-limit", optarg, 1, 2e5, &v);
            cur.server_limit = (int)v;
            break;
        case OPT_TPC:
            rc = num("threads-per-child", optarg, 1, 1e5, &v);
            cur.threads_per_child = (int)v;
            cfg.threads_per_child = (int)v;
            break;
        case OPT_THREAD_LIMIT:
            rc = num("thread-limit", optarg, 1, 1e5, &v);
            cur.thread_limit = (int)v;
            break;
        case OPT_SPIKE: rc = num("spike-factor", optarg, 1, 100, &cfg.spike_factor); break;
        case OPT_TARGET_WAIT: rc = num("target-wait", optarg, 1e-9, 0.5, &cfg.target_wait); break;
        case OPT_MIN_MINUTES:
            rc = num("min-minutes", optarg, 1, 1e6, &v);
            cfg.min_minutes = (int)v;
            break;
        case OPT_MEMORY:
            rc = num("memory", optarg, 1 << 20, 1e15, &v);
            memory = (int64_t)v;
            break;
        case OPT_FORMAT:
            if (strcmp(optarg, "json") == 0) {
                json = 1;
            }
            else if (strcmp(optarg, "text") != 0) {
                fprintf(stderr, "sbtune report: --format takes text or json, not '%s'\n", optarg);
                rc = -1;
            }
            break;
        case OPT_HELP:
            usage(stdout);
            return SBTUNE_EXIT_OK;
        default:
            rc = -1;
        }
        if (rc != 0) {
            fprintf(stderr, "Try 'sbtune report --help' for more information.\n");
            return SBTUNE_EXIT_USAGE;
        }
    }
    if (optind < argc || !history) {
        fprintf(stderr, "sbtune report: %s\nTry 'sbtune report --help' for more information.\n",
                history ? "unexpected argument" : "--history FILE is required");
        return SBTUNE_EXIT_USAGE;
    }

    if (sb_history_open(&h, history, SB_HISTORY_READ, p) != APR_SUCCESS) {
        fprintf(stderr, "sbtune report: %s\n", sb_history_error(h));
        return SBTUNE_EXIT_FAILURE;
    }
    mh = sb_model_history_create(p);
    if (sb_history_minutes(h, (int64_t)apr_time_sec(now) - (int64_t)(window_days * 86400),
                           (int64_t)apr_time_sec(now) + 60, sb_model_history_minute_cb, mh)
        != APR_SUCCESS) {
        fprintf(stderr, "sbtune report: %s\n", sb_history_error(h));
        sb_history_close(h);
        return SBTUNE_EXIT_FAILURE;
    }
    sb_model_history_inputs(mh, &cfg, &in);
    sb_history_close(h);

    in.keepalive = kat > 0;
    cur.keepalive = kat > 0;
    if (kat > 0) {
        in.kat = kat;
        cur.kat = (int)ceil(kat - 1e-9);
    }
    if (memory < 0) {
        sb_hostmem_t hm;
        if (sb_procmem_host(&hm) == APR_SUCCESS) {
            memory = (int64_t)hm.mem_total;
        }
    }
    in.mem_total_bytes = memory;
    sb_model_current_defaults(&cur, cfg.mpm);

    plan = apr_pcalloc(p, sizeof(*plan));
    sb_model_plan(&cfg, &in, &cur, plan);
    if (plan->status == SB_MODEL_EINVAL) {
        fprintf(stderr, "sbtune report: %s\n", plan->missing);
        return SBTUNE_EXIT_USAGE;
    }
    if (json) {
        sb_json_t *j = sb_json_create(p);
        sb_json_object_begin(j, NULL);
        sb_json_string(j, "mode", "report");
        sb_json_string(j, "history", history);
        sb_json_string(j, "status", plan->status == SB_MODEL_OK ? "ok"
                       : plan->status == SB_MODEL_NODATA ? "no_data" : "no_fit");
        if (plan->status == SB_MODEL_NODATA) {
            sb_json_null(j, "recommendation");
            sb_json_string(j, "missing", plan->missing);
        }
        else {
            sbtune_json_sizing(j, "recommendation", cfg.mpm, &plan->rec);
            sbtune_json_model(j, "model", cfg.mpm, &plan->rec);
        }
        sb_json_object_begin(j, "current");
        sb_json_string(j, "KeepAlive", cur.keepalive ? "On" : "Off");
        sb_json_int(j, "KeepAliveTimeout", cur.kat);
        sb_json_int(j, "MaxRequestWorkers", cur.max_request_workers);
        sb_json_int(j, "ServerLimit", cur.server_limit);
        sb_json_object_end(j);
        sb_json_object_begin(j, "inputs");
        sb_json_int(j, "minutes", in.minutes);
        sb_json_double(j, "busy_conn_per_s", in.busy_conn_per_s);
        sb_json_double(j, "peak_conn_per_s", in.peak_conn_per_s);
        sb_json_double(j, "design_conn_per_s", plan->design_conn_per_s);
        sb_json_double(j, "hold_time_s", plan->rec.hold.hold_s);
        sb_json_int_or_null(j, "pss_per_worker_bytes",
                            in.pss_per_worker_bytes > 0 ? in.pss_per_worker_bytes : SB_UNKNOWN);
        sb_json_int_or_null(j, "listen_queue_max", in.listen_queue_max);
        sb_json_object_end(j);
        sb_json_bool(j, "needs_full_restart", plan->needs_full_restart);
        sb_json_string(j, "arithmetic", plan->arithmetic);
        sb_json_string(j, "uncertainty", plan->uncertainty);
        sb_json_object_end(j);
        printf("%s\n", sb_json_text(j, NULL));
    }
    else if (plan->status == SB_MODEL_NODATA) {
        printf("sbtune report: no recommendation from %d minute(s) of history in %s:\n%s\n",
               in.minutes, history, plan->missing);
    }
    else {
        printf("sbtune report: %s MPM, %d minutes of history, busiest hour %.3g new clients/s,"
               " peak %.3g/s\n\n", sb_model_mpm_name(cfg.mpm), in.minutes, in.busy_conn_per_s,
               in.peak_conn_per_s);
        fputs(plan->arithmetic, stdout);
        printf("\n%s:\n", plan->status == SB_MODEL_NOFIT ? "Does not fit in memory; fallback"
               : "Recommendation");
        sbtune_print_directives(stdout, cfg.mpm, &plan->rec);
        if (plan->needs_full_restart) {
            printf("  (needs a stop and a start: ServerLimit or ThreadLimit grows)\n");
        }
        if (plan->uncertainty[0]) {
            printf("\nUncertainty: %s\n", plan->uncertainty);
        }
    }
    return plan->status == SB_MODEL_NODATA ? SBTUNE_EXIT_NODATA
           : plan->status == SB_MODEL_NOFIT ? SBTUNE_EXIT_NOFIT : SBTUNE_EXIT_OK;
}
