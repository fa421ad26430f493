/*
 * sbtune_report.c - "sbtune report": the plan from the agent's history.
 *
 * Reads the per-minute rows of the window (default the last 7 days) from
 * the SQLite history, turns them into the model's inputs (busiest hour,
 * peaks, the keep-alive gap and idle-close distributions, requests per
 * connection, service and hold times, PSS per worker) and prints the plan
 * with its arithmetic, or says what data is missing.
 *
 * With --apply (or --format apache) the recommendation goes through the
 * hysteresis (sb_model_should_change(): a threshold, a bounded step per
 * run, no change during a spike, a minimum interval since the last applied
 * change as recorded in the history's changes table) and then to
 * sbtune_apply_run(): the history -> snippet -> graceful -> verify flow
 * that cron runs (sbtune(8), "THE APPLY FLOW").
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
#include "sb_policy.h"
#include "sb_procmem.h"
#include "sbtune.h"
#include "sbtune_apply.h"

enum {
    OPT_HISTORY = 1, OPT_WINDOW_DAYS, OPT_MPM, OPT_KAT, OPT_MRW, OPT_SERVER_LIMIT,
    OPT_TPC, OPT_THREAD_LIMIT, OPT_SPIKE, OPT_TARGET_WAIT, OPT_MIN_MINUTES, OPT_MEMORY,
    OPT_MIN_CONNS, OPT_MIN_GAPS, OPT_FORMAT, OPT_APPLY, OPT_SNIPPET, OPT_APACHECTL, OPT_CTL_STYLE, OPT_SCOREBOARD,
    OPT_STATUS_URL, OPT_HTTPD_VERSION, OPT_ALLOW_STOP_START, OPT_LOCK, OPT_LOCK_WAIT,
    OPT_VERIFY_TIMEOUT, OPT_DRY_RUN, OPT_CRON, OPT_THRESHOLD, OPT_STEP_UP, OPT_STEP_DOWN,
    OPT_MIN_INTERVAL, OPT_SPIKE_MINUTES, OPT_SPIKE_RATIO, OPT_HELP
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
    { OPT_MIN_CONNS, "min-conns", "N", "connections with a request count needed (default 100)" },
    { OPT_MIN_GAPS, "min-gaps", "N", "keep-alive gaps needed (default 100)" },
    { OPT_MEMORY, "memory", "BYTES", "memory of the host (default MemTotal)" },
    { OPT_FORMAT, "format", "text|json|apache", "output format (default text); apache: the"
      " snippet --apply would write" },
    { OPT_APPLY, "apply", NULL, "apply the recommendation (after the hysteresis) to the running"
      " httpd" },
    { OPT_SNIPPET, "snippet", "PATH", "the Apache snippet sbtune owns (required with --apply;"
      " its directives are the current values)" },
    { OPT_APACHECTL, "apachectl", "CMD", "apachectl command line (default apache2ctl)" },
    { OPT_CTL_STYLE, "apachectl-style", "auto|verbs|flags", "how CMD takes its actions"
      " (default auto)" },
    { OPT_SCOREBOARD, "scoreboard", "PATH", "httpd's ScoreBoardFile, to verify the reload" },
    { OPT_STATUS_URL, "status-url", "URL", "mod_status URL, to verify the reload" },
    { OPT_HTTPD_VERSION, "httpd-version", "2.2|2.4", "directive names (default 2.4, or what"
      " httpd says with --apply)" },
    { OPT_ALLOW_STOP_START, "allow-stop-start", NULL, "allow a stop and start when ServerLimit"
      " or ThreadLimit grow" },
    { OPT_LOCK, "lock", "FILE", "lock file (default SNIPPET.lock)" },
    { OPT_LOCK_WAIT, "lock-wait", "SECONDS", "wait this long for another run's lock"
      " (default 0)" },
    { OPT_VERIFY_TIMEOUT, "verify-timeout", "SECONDS", "how long a reload may take to show"
      " (default 10)" },
    { OPT_DRY_RUN, "dry-run", NULL, "with --apply: decide and print, change nothing (exit 11"
      " or 0)" },
    { OPT_CRON, "cron", NULL, "print nothing unless something changed or failed" },
    { OPT_THRESHOLD, "threshold", "PCT", "no change for differences under PCT % of the current"
      " value (default 10)" },
    { OPT_STEP_UP, "max-step-up", "PCT", "grow a value by at most PCT % per run (default 100;"
      " 0: no bound)" },
    { OPT_STEP_DOWN, "max-step-down", "PCT", "shrink a value by at most PCT % per run"
      " (default 50; 0: no bound)" },
    { OPT_MIN_INTERVAL, "min-interval", "SECONDS", "least time since the last applied change"
      " (default 3600)" },
    { OPT_SPIKE_MINUTES, "spike-minutes", "N", "minutes that make 'now' for the spike check"
      " (default 3; 0: no check)" },
    { OPT_SPIKE_RATIO, "spike-ratio", "F", "a spike: their rate above F x the busiest-hour"
      " mean (default 1.5)" },
    { OPT_HELP, "help", NULL, "show this help and exit" },
};
#define NOPTS (sizeof(opts) / sizeof(opts[0]))

static void usage(FILE *out)
{
    apr_size_t i;
    fprintf(out, "Usage: sbtune report --history FILE [OPTION]...\n"
            "       sbtune report --history FILE --apply --snippet PATH"
            " (--scoreboard PATH | --status-url URL) [OPTION]...\n"
            "The KeepAliveTimeout / MaxRequestWorkers plan from the agent's history; with\n"
            "--apply, written into the snippet and applied by graceful reload (see\n"
            "'sbtune apply --help' for the checks), after the hysteresis.\n\n");
    for (i = 0; i < NOPTS; i++) {
        char left[64];
        snprintf(left, sizeof(left), "--%s%s%s", opts[i].name, opts[i].arg ? " " : "",
                 opts[i].arg ? opts[i].arg : "");
        fprintf(out, "  %-38s %s\n", left, opts[i].help);
    }
    fprintf(out, "\nExit status without --apply: 0 plan printed, 1 failure, 2 usage, 4 the"
            " keep-alive plan does\nnot fit in memory (the fallback is printed), 5 too little"
            " data (what is missing is\nprinted).  With --apply: 0 no change (under the"
            " threshold, or already in force),\n10 changed and verified, 11 recommendation"
            " only (a spike, the minimum interval,\n--dry-run), 4 and 5 as above (nothing"
            " applied; 5 is silent with --cron), and\napply's 1, 3, 12, 13, 14, 15.  See"
            " sbtune(8).\n");
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

/* ------------------------------------------------------------------ the apply flow */

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

typedef struct {
    const char *history;
    int json, apache, apply, cron, dry_run, minor;
    sb_policy_t hy;
    sbtune_apply_opts_t ao;
    double window_days;
} flow_t;

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
    return apr_psprintf(p, "%d minute(s) of history in %s (%s to %s); busiest window %.3g new"
                        " clients/s, peak %.3g/s; accept queue max %s", in->minutes, f->history,
                        a, b, in->busy_conn_per_s, in->peak_conn_per_s,
                        in->listen_queue_max >= 0
                        ? apr_psprintf(p, "%" APR_INT64_T_FMT, in->listen_queue_max) : "unknown");
}

/*
 * The decision and the apply: hysteresis on KeepAliveTimeout and
 * MaxRequestWorkers (re-planning the slots at the timeout actually
 * written when its step was bounded), the spike and interval checks,
 * then sbtune_apply_run() (or, for --format apache alone, the snippet).
 * Returns the exit code.
 */
static int decide_and_apply(flow_t *f, const sb_model_config_t *cfg, const sb_model_inputs_t *in,
                            const sb_model_current_t *cur, sb_model_plan_t *plan,
                            const minutes_t *mins, int64_t last_change, apr_time_t now,
                            apr_pool_t *p)
{
    sb_model_mpm_t mpm = cfg->mpm;
    sb_directives_t d;
    sb_directive_meta_t meta;
    sbtune_apply_result_t res;
    char *log = apr_pstrdup(p, ""), words[512];
    const char *why, *data, *held = NULL;
    int change, code;

    change = sb_policy_next(&f->hy, cfg, in, cur, plan, &d, &log, p);
    why = apr_pstrcat(p, plan->arithmetic, "\nHysteresis:\n", log, NULL);
    data = data_words(f, in, p);

    if (f->apache && !f->apply) {
        meta.mpm = sb_model_mpm_name(mpm);
        meta.httpd_minor = f->minor ? f->minor : 4;
        meta.when = now;
        meta.data = data;
        meta.why = why;
        fputs(sb_directive_render(&d, &meta, p), stdout);
        return change ? SBTUNE_APPLY_RECOMMEND : SBTUNE_APPLY_NOCHANGE;
    }

    if (!change) {
        code = SBTUNE_APPLY_NOCHANGE;
        held = "no change: every difference is under the threshold";
    }
    else if (sb_policy_spike(&f->hy, &mins->recent, in->busy_conn_per_s, words,
                             sizeof(words))) {
        code = SBTUNE_APPLY_RECOMMEND;
        held = apr_psprintf(p, "recommendation only, not applied during %s", words);
    }
    else if (sb_policy_too_soon(&f->hy, last_change, (int64_t)apr_time_sec(now), words,
                                sizeof(words))) {
        code = SBTUNE_APPLY_RECOMMEND;
        held = apr_psprintf(p, "recommendation only: %s", words);
    }
    else {
        f->ao.set = d;
        f->ao.mpm = (int)mpm;
        f->ao.httpd_minor = f->minor;
        f->ao.history = f->history;
        f->ao.dry_run = f->dry_run;
        f->ao.reason = why;
        f->ao.data = data;
        code = sbtune_apply_run(&f->ao, &res, p);
    }

    if (f->cron && (code == SBTUNE_APPLY_NOCHANGE || code == SBTUNE_APPLY_RECOMMEND)) {
        return code;
    }
    if (f->json) {
        sb_json_t *j = sb_json_create(p);
        sb_json_object_begin(j, NULL);
        sb_json_string(j, "mode", "report-apply");
        sb_json_string(j, "history", f->history);
        sbtune_json_sizing(j, "recommendation", mpm, &plan->rec);
        sb_json_object_begin(j, "current");
        sb_json_string(j, "KeepAlive", cur->keepalive == 1 ? "On" : "Off");
        sb_json_int(j, "KeepAliveTimeout", cur->keepalive_timeout);
        sb_json_int(j, "MaxRequestWorkers", cur->max_request_workers);
        sb_json_int(j, "ServerLimit", cur->server_limit);
        sb_json_object_end(j);
        sb_json_object_begin(j, "next");
        if (d.keepalive >= 0) {
            sb_json_string(j, "KeepAlive", d.keepalive ? "On" : "Off");
        }
        if (d.keepalive_timeout >= 0) {
            sb_json_int(j, "KeepAliveTimeout", d.keepalive_timeout);
        }
        sb_json_int(j, "MaxRequestWorkers", d.max_request_workers);
        sb_json_int(j, "ServerLimit", d.server_limit);
        if (d.threads_per_child >= 0) {
            sb_json_int(j, "ThreadsPerChild", d.threads_per_child);
            sb_json_int(j, "ThreadLimit", d.thread_limit);
        }
        sb_json_object_end(j);
        sb_json_bool(j, "needs_full_restart", plan->needs_full_restart);
        sb_json_string(j, "hysteresis", log);
        sb_json_string(j, "decision", held ? held : sbtune_apply_exit_name(code));
        sb_json_int(j, "exit", code);
        sb_json_string(j, "arithmetic", plan->arithmetic);
        if (!held) {
            sb_json_string(j, "apply_report", res.report ? res.report : "");
            if (res.error) {
                sb_json_string(j, "apply_error", res.error);
            }
        }
        sb_json_object_end(j);
        printf("%s\n", sb_json_text(j, NULL));
        return code;
    }
    printf("sbtune report: %s MPM; %s\n\n", sb_model_mpm_name(mpm), data);
    fputs(plan->arithmetic, stdout);
    printf("\nRecommendation:\n");
    sbtune_print_directives(stdout, mpm, &plan->rec);
    printf("\nHysteresis (threshold %.0f %%, step +%.0f %% / -%.0f %%):\n%s", f->hy.threshold_pct,
           f->hy.step_up_pct, f->hy.step_down_pct, log);
    if (held) {
        printf("\nsbtune report: %s (exit %d)\n", held, code);
        return code;
    }
    if (code == SBTUNE_APPLY_RECOMMEND && res.snippet_text) {
        printf("\n%s", res.snippet_text);
    }
    printf("\n%s", res.report ? res.report : "");
    fflush(stdout);
    if (res.error) {
        fprintf(stderr, "sbtune report: %s\n", res.error);
    }
    fprintf(code == SBTUNE_APPLY_CHANGED || code == SBTUNE_APPLY_NOCHANGE
            || code == SBTUNE_APPLY_RECOMMEND ? stdout : stderr,
            "sbtune report --apply: %s (exit %d)\n", sbtune_apply_exit_name(code), code);
    return code;
}

int sbtune_report_main(int argc, char **argv, apr_pool_t *p)
{
    static char prog[] = "sbtune report";
    struct option lopts[NOPTS + 1];
    sb_model_config_t cfg;
    sb_model_inputs_t in;
    sb_model_current_t cur;
    sb_model_plan_t *plan;
    sb_history_t *h;
    minutes_t mins;
    flow_t f;
    double kat = -1, v;
    int64_t memory = -1, last_change = 0;
    int c, kat_given = 0;
    apr_size_t i;
    apr_time_t now = apr_time_now();

    sb_model_config_defaults(&cfg);
    sb_model_inputs_init(&in);
    sb_model_current_init(&cur);
    memset(&f, 0, sizeof(f));
    memset(&mins, 0, sizeof(mins));
    sbtune_apply_opts_init(&f.ao);
    f.window_days = 7;
    sb_policy_defaults(&f.hy);
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
        case OPT_HISTORY: f.history = optarg; break;
        case OPT_WINDOW_DAYS: rc = num("window-days", optarg, 0.001, 3650, &f.window_days); break;
        case OPT_MPM:
            if (sb_model_mpm_parse(optarg, &cfg.mpm) != 0) {
                fprintf(stderr, "sbtune report: --mpm takes prefork, worker or event, not '%s'\n",
                        optarg);
                rc = -1;
            }
            break;
        case OPT_KAT:
            rc = num("keepalive-timeout", optarg, 0, 3600, &kat);
            kat_given = 1;
            break;
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
        case OPT_MIN_CONNS:
            rc = num("min-conns", optarg, 1, 1e9, &v);
            cfg.min_conns = (uint64_t)v;
            break;
        case OPT_MIN_GAPS:
            rc = num("min-gaps", optarg, 1, 1e9, &v);
            cfg.min_gaps = (uint64_t)v;
            break;
        case OPT_MEMORY:
            rc = num("memory", optarg, 1 << 20, 1e15, &v);
            memory = (int64_t)v;
            break;
        case OPT_FORMAT:
            if (strcmp(optarg, "json") == 0) {
                f.json = 1;
            }
            else if (strcmp(optarg, "apache") == 0) {
                f.apache = 1;
            }
            else if (strcmp(optarg, "text") != 0) {
                fprintf(stderr, "sbtune report: --format takes text, json or apache, not '%s'\n",
                        optarg);
                rc = -1;
            }
            break;
        case OPT_APPLY: f.apply = 1; break;
        case OPT_SNIPPET: f.ao.snippet = optarg; break;
        case OPT_APACHECTL: f.ao.apachectl = optarg; break;
        case OPT_CTL_STYLE:
            if (strcmp(optarg, "auto") == 0) {
                f.ao.ctl_style = SBTUNE_CTL_AUTO;
            }
            else if (strcmp(optarg, "verbs") == 0) {
                f.ao.ctl_style = SBTUNE_CTL_VERBS;
            }
            else if (strcmp(optarg, "flags") == 0) {
                f.ao.ctl_style = SBTUNE_CTL_FLAGS;
            }
            else {
                fprintf(stderr, "sbtune report: --apachectl-style takes auto, verbs or flags,"
                        " not '%s'\n", optarg);
                rc = -1;
            }
            break;
        case OPT_SCOREBOARD: f.ao.scoreboard = optarg; break;
        case OPT_STATUS_URL: f.ao.status_url = optarg; break;
        case OPT_HTTPD_VERSION:
            if (strcmp(optarg, "2.2") == 0 || strcmp(optarg, "2.4") == 0) {
                f.minor = optarg[2] - '0';
            }
            else {
                fprintf(stderr, "sbtune report: --httpd-version takes 2.2 or 2.4, not '%s'\n",
                        optarg);
                rc = -1;
            }
            break;
        case OPT_ALLOW_STOP_START: f.ao.allow_stop_start = 1; break;
        case OPT_LOCK: f.ao.lock = optarg; break;
        case OPT_LOCK_WAIT: rc = num("lock-wait", optarg, 0, 86400, &f.ao.lock_wait_s); break;
        case OPT_VERIFY_TIMEOUT:
            rc = num("verify-timeout", optarg, 0, 86400, &f.ao.verify_timeout_s);
            break;
        case OPT_DRY_RUN: f.dry_run = 1; break;
        case OPT_CRON: f.cron = 1; break;
        case OPT_THRESHOLD: rc = num("threshold", optarg, 0, 1000, &f.hy.threshold_pct); break;
        case OPT_STEP_UP: rc = num("max-step-up", optarg, 0, 1e6, &f.hy.step_up_pct); break;
        case OPT_STEP_DOWN: rc = num("max-step-down", optarg, 0, 100, &f.hy.step_down_pct); break;
        case OPT_MIN_INTERVAL:
            rc = num("min-interval", optarg, 0, 365 * 86400.0, &f.hy.min_interval_s);
            break;
        case OPT_SPIKE_MINUTES:
            rc = num("spike-minutes", optarg, 0, SB_POLICY_RECENT_MAX - 1, &v);
            f.hy.spike_minutes = (int)v;
            break;
        case OPT_SPIKE_RATIO: rc = num("spike-ratio", optarg, 1, 100, &f.hy.spike_ratio); break;
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
    if (optind < argc || !f.history) {
        fprintf(stderr, "sbtune report: %s\nTry 'sbtune report --help' for more information.\n",
                f.history ? "unexpected argument" : "--history FILE is required");
        return SBTUNE_EXIT_USAGE;
    }
    if (f.apply && (!f.ao.snippet || (!f.ao.scoreboard && !f.ao.status_url))) {
        fprintf(stderr, "sbtune report: --apply needs --snippet PATH and --scoreboard PATH"
                " and/or --status-url URL\nTry 'sbtune report --help' for more information.\n");
        return SBTUNE_EXIT_USAGE;
    }
    if ((f.dry_run || f.cron) && !f.apply) {
        fprintf(stderr, "sbtune report: --%s goes with --apply\n", f.dry_run ? "dry-run" : "cron");
        return SBTUNE_EXIT_USAGE;
    }
    if (f.apply && f.apache) {
        fprintf(stderr, "sbtune report: --format apache prints the snippet without --apply;"
                " with --apply use --dry-run\n");
        return SBTUNE_EXIT_USAGE;
    }

    if (sb_history_open(&h, f.history, SB_HISTORY_READ, p) != APR_SUCCESS) {
        fprintf(stderr, "sbtune report: %s\n", sb_history_error(h));
        return SBTUNE_EXIT_FAILURE;
    }
    mins.mh = sb_model_history_create(p);
    if (sb_history_minutes(h, (int64_t)apr_time_sec(now) - (int64_t)(f.window_days * 86400),
                           (int64_t)apr_time_sec(now) + 60, minute_cb, &mins) != APR_SUCCESS
        || ((f.apply || f.apache)
            && sb_history_changes(h, 0, (int64_t)apr_time_sec(now) + 60, change_cb,
                                  &last_change) != APR_SUCCESS)) {
        fprintf(stderr, "sbtune report: %s\n", sb_history_error(h));
        sb_history_close(h);
        return SBTUNE_EXIT_FAILURE;
    }
    sb_model_history_inputs(mins.mh, &cfg, &in);
    sb_history_close(h);

    /* the current values: the options, else what the snippet holds, else
     * httpd's compiled-in defaults */
    if (f.ao.snippet) {
        sbtune_snippet_t *sn;
        sb_directives_t sd;
        const char *prev;
        apr_size_t len;

        sb_directive_init(&sd);
        if (sbtune_snippet_open(&sn, f.ao.snippet, p) == APR_SUCCESS
            && (prev = sbtune_snippet_previous(sn, &len)) != NULL) {
            sb_directive_parse(&sd, prev, len);
        }
        if (!kat_given && sd.keepalive == 0) {
            kat = 0;
            kat_given = 1;
        }
        else if (!kat_given && sd.keepalive_timeout >= 0) {
            kat = sd.keepalive_timeout;
            kat_given = 1;
        }
        if (cur.max_request_workers <= 0 && sd.max_request_workers > 0) {
            cur.max_request_workers = sd.max_request_workers;
        }
        if (cur.server_limit <= 0 && sd.server_limit > 0) {
            cur.server_limit = sd.server_limit;
        }
        if (cur.threads_per_child <= 0 && sd.threads_per_child > 0) {
            cur.threads_per_child = cfg.threads_per_child = sd.threads_per_child;
        }
        if (cur.thread_limit <= 0 && sd.thread_limit > 0) {
            cur.thread_limit = sd.thread_limit;
        }
    }
    if (!kat_given) {
        kat = 5;
    }
    in.keepalive = kat > 0;
    cur.keepalive = kat > 0;
    if (kat > 0) {
        in.kat = kat;
        cur.keepalive_timeout = (int)ceil(kat - 1e-9);
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
    if ((f.apply || f.apache) && plan->status != SB_MODEL_OK) {
        /* nothing to apply: too little data is quiet for cron (the first
         * hour after installation); a plan that does not fit needs a human */
        if (f.cron && plan->status == SB_MODEL_NODATA) {
            return SBTUNE_EXIT_NODATA;
        }
        if (plan->status == SB_MODEL_NODATA) {
            printf("sbtune report: no recommendation from %d minute(s) of history in %s:\n%s\n"
                   "Nothing applied.\n", in.minutes, f.history, plan->missing);
            return SBTUNE_EXIT_NODATA;
        }
        printf("sbtune report: %s MPM, %d minutes of history\n\n", sb_model_mpm_name(cfg.mpm),
               in.minutes);
        fputs(plan->arithmetic, stdout);
        printf("\nDoes not fit in memory; fallback (not applied automatically: KeepAlive Off or"
               " another MPM is an operator's decision):\n");
        sbtune_print_directives(stdout, cfg.mpm, &plan->rec);
        return SBTUNE_EXIT_NOFIT;
    }
    if (f.apply || f.apache) {
        return decide_and_apply(&f, &cfg, &in, &cur, plan, &mins, last_change, now, p);
    }
    if (f.json) {
        sb_json_t *j = sb_json_create(p);
        sb_json_object_begin(j, NULL);
        sb_json_string(j, "mode", "report");
        sb_json_string(j, "history", f.history);
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
        sb_json_int(j, "KeepAliveTimeout", cur.keepalive_timeout);
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
               in.minutes, f.history, plan->missing);
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
