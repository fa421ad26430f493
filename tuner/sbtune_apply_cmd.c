/*
 * sbtune_apply_cmd.c - "sbtune apply": write the given directives into the
 * snippet and apply them with sbtune_apply_run() (configtest, graceful or
 * stop and start, verification, rollback), under a lock, quiet for cron.
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <apr_general.h>
#include <apr_strings.h>

#include "sbtune_apply.h"

enum {
    OPT_HELP = 'h',
    OPT_SNIPPET = 256, OPT_APACHECTL, OPT_CTL_STYLE, OPT_SCOREBOARD, OPT_STATUS_URL, OPT_SET,
    OPT_MPM, OPT_HTTPD_VERSION, OPT_ALLOW_STOP_START, OPT_HISTORY, OPT_LOCK, OPT_LOCK_WAIT,
    OPT_VERIFY_TIMEOUT, OPT_DRY_RUN, OPT_CRON, OPT_REASON, OPT_DATA
};

/* One table: getopt_long and --help. */
static const struct {
    int id;
    const char *name;
    int has_arg;
    const char *arg;
    const char *help;
} opts[] = {
    { OPT_SNIPPET, "snippet", required_argument, "PATH",
      "the Apache snippet sbtune owns (absolute; httpd must IncludeOptional it)" },
    { OPT_SET, "set", required_argument, "NAME=VALUE",
      "a directive to write: KeepAlive=On|Off, KeepAliveTimeout, MaxRequestWorkers "
      "(MaxClients), ServerLimit, ThreadsPerChild, ThreadLimit; repeat" },
    { OPT_APACHECTL, "apachectl", required_argument, "CMD",
      "apachectl command line (default apache2ctl), e.g. '/usr/sbin/apache2 -f /srv/httpd.conf'" },
    { OPT_CTL_STYLE, "apachectl-style", required_argument, "auto|verbs|flags",
      "verbs: CMD configtest|graceful|stop|start; flags: CMD -t|-k graceful|-k stop|-k start; "
      "auto (default): flags unless CMD is an *ctl script without -f/-d" },
    { OPT_SCOREBOARD, "scoreboard", required_argument, "PATH",
      "httpd's ScoreBoardFile: generation, ServerLimit, ThreadLimit" },
    { OPT_STATUS_URL, "status-url", required_argument, "URL",
      "mod_status URL: generation, MaxRequestWorkers (Scoreboard length), keep-alive header" },
    { OPT_MPM, "mpm", required_argument, "prefork|worker|event",
      "httpd's MPM (default: from mod_status, else APACHECTL -V)" },
    { OPT_HTTPD_VERSION, "httpd-version", required_argument, "2.2|2.4",
      "directive names (MaxClients for 2.2; default: from mod_status, else APACHECTL -v)" },
    { OPT_ALLOW_STOP_START, "allow-stop-start", no_argument, NULL,
      "allow a stop and start when ServerLimit/ThreadLimit grow (drops every connection)" },
    { OPT_HISTORY, "history", required_argument, "FILE", "record the change in this history file" },
    { OPT_LOCK, "lock", required_argument, "FILE", "lock file (default SNIPPET.lock)" },
    { OPT_LOCK_WAIT, "lock-wait", required_argument, "SECONDS",
      "wait this long for another run's lock (default 0: exit 12 at once)" },
    { OPT_VERIFY_TIMEOUT, "verify-timeout", required_argument, "SECONDS",
      "how long each reload may take to show (default 10)" },
    { OPT_DRY_RUN, "dry-run", no_argument, NULL,
      "print the snippet and what would change; exit 11 (or 0: no change)" },
    { OPT_CRON, "cron", no_argument, NULL,
      "print nothing unless something changed or failed" },
    { OPT_REASON, "reason", required_argument, "TEXT",
      "why (the arithmetic): the snippet's header and the history row" },
    { OPT_DATA, "data", required_argument, "TEXT", "from what data, for the snippet's header" },
    { OPT_HELP, "help", no_argument, NULL, "this help" },
};
#define NOPTS ((int)(sizeof(opts) / sizeof(opts[0])))

static void usage(FILE *out)
{
    int i;

    fprintf(out,
            "Usage: sbtune apply --snippet PATH --set NAME=VALUE... "
            "(--scoreboard PATH | --status-url URL) [OPTION]...\n"
            "Write the directives into the snippet and apply them to the running httpd:\n"
            "include check, configtest, graceful (or stop and start), verification, and\n"
            "byte-for-byte rollback on any failure.\n\n");
    for (i = 0; i < NOPTS; i++) {
        char left[64];

        snprintf(left, sizeof(left), "--%s%s%s", opts[i].name, opts[i].arg ? " " : "",
                 opts[i].arg ? opts[i].arg : "");
        if (strlen(left) > 28) {
            fprintf(out, "  %s\n  %-28s %s\n", left, "", opts[i].help);
        }
        else {
            fprintf(out, "  %-28s %s\n", left, opts[i].help);
        }
    }
    fprintf(out,
            "\nExit status: 0 no change, 10 changed (verified), 11 recommendation only (dry\n"
            "run), 1 error before httpd was touched, 2 usage, 3 httpd cannot be observed,\n"
            "12 locked by another run, 13 refused (stop and start needed, snippet not\n"
            "included, unsafe path; nothing changed), 14 failed and rolled back (verified),\n"
            "15 failed and the rollback failed too (check httpd now).  See sbtune(8).\n");
}

static int parse_seconds(const char *s, double *out)
{
    char *end;
    double v = strtod(s, &end);

    if (end == s || *end != '\0' || !(v >= 0) || v > 86400) {
        return -1;
    }
    *out = v;
    return 0;
}

int sbtune_cmd_apply(int argc, char **argv)
{
    struct option lopts[NOPTS + 1];
    sbtune_apply_opts_t o;
    sbtune_apply_result_t res;
    apr_pool_t *p;
    int i, c, cron = 0, code;
    char err[512];

    memset(lopts, 0, sizeof(lopts));
    for (i = 0; i < NOPTS; i++) {
        lopts[i].name = opts[i].name;
        lopts[i].has_arg = opts[i].has_arg;
        lopts[i].val = opts[i].id;
    }
    sbtune_apply_opts_init(&o);
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "h", lopts, NULL)) != -1) {
        switch (c) {
        case OPT_HELP:
            usage(stdout);
            return SBTUNE_APPLY_NOCHANGE;
        case OPT_SNIPPET:
            o.snippet = optarg;
            break;
        case OPT_APACHECTL:
            o.apachectl = optarg;
            break;
        case OPT_CTL_STYLE:
            if (strcmp(optarg, "auto") == 0) {
                o.ctl_style = SBTUNE_CTL_AUTO;
            }
            else if (strcmp(optarg, "verbs") == 0) {
                o.ctl_style = SBTUNE_CTL_VERBS;
            }
            else if (strcmp(optarg, "flags") == 0) {
                o.ctl_style = SBTUNE_CTL_FLAGS;
            }
            else {
                fprintf(stderr, "sbtune apply: --apachectl-style: '%s' is not auto, verbs or "
                        "flags\n", optarg);
                return SBTUNE_APPLY_USAGE;
            }
            break;
        case OPT_SCOREBOARD:
            o.scoreboard = optarg;
            break;
        case OPT_STATUS_URL:
            o.status_url = optarg;
            break;
        case OPT_SET:
            if (sb_directive_set(&o.set, optarg, NULL, err, sizeof(err)) != 0) {
                fprintf(stderr, "sbtune apply: --set %s\n", err);
                return SBTUNE_APPLY_USAGE;
            }
            break;
        case OPT_MPM:
            if (strcmp(optarg, "prefork") == 0) {
                o.mpm = SB_MODEL_PREFORK;
            }
            else if (strcmp(optarg, "worker") == 0) {
                o.mpm = SB_MODEL_WORKER;
            }
            else if (strcmp(optarg, "event") == 0) {
                o.mpm = SB_MODEL_EVENT;
            }
            else {
                fprintf(stderr, "sbtune apply: --mpm: '%s' is not prefork, worker or event\n",
                        optarg);
                return SBTUNE_APPLY_USAGE;
            }
            break;
        case OPT_HTTPD_VERSION:
            if (strcmp(optarg, "2.2") == 0) {
                o.httpd_minor = 2;
            }
            else if (strcmp(optarg, "2.4") == 0) {
                o.httpd_minor = 4;
            }
            else {
                fprintf(stderr, "sbtune apply: --httpd-version: '%s' is not 2.2 or 2.4\n", optarg);
                return SBTUNE_APPLY_USAGE;
            }
            break;
        case OPT_ALLOW_STOP_START:
            o.allow_stop_start = 1;
            break;
        case OPT_HISTORY:
            o.history = optarg;
            break;
        case OPT_LOCK:
            o.lock = optarg;
            break;
        case OPT_LOCK_WAIT:
        case OPT_VERIFY_TIMEOUT:
            if (parse_seconds(optarg, c == OPT_LOCK_WAIT ? &o.lock_wait_s
                              : &o.verify_timeout_s) != 0) {
                fprintf(stderr, "sbtune apply: --%s: '%s' is not a number of seconds from 0 "
                        "to 86400\n", c == OPT_LOCK_WAIT ? "lock-wait" : "verify-timeout", optarg);
                return SBTUNE_APPLY_USAGE;
            }
            break;
        case OPT_DRY_RUN:
            o.dry_run = 1;
            break;
        case OPT_CRON:
            cron = 1;
            break;
        case OPT_REASON:
            o.reason = optarg;
            break;
        case OPT_DATA:
            o.data = optarg;
            break;
        default:
            fprintf(stderr, "sbtune apply: unknown or incomplete option '%s'\n"
                    "Try 'sbtune apply --help'.\n", argv[optind - 1]);
            return SBTUNE_APPLY_USAGE;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "sbtune apply: unexpected argument '%s'\n", argv[optind]);
        return SBTUNE_APPLY_USAGE;
    }
    if (o.snippet == NULL) {
        fprintf(stderr, "sbtune apply: --snippet PATH is required\n");
        return SBTUNE_APPLY_USAGE;
    }
    if (apr_pool_create(&p, NULL) != APR_SUCCESS) {
        fprintf(stderr, "sbtune apply: out of memory\n");
        return SBTUNE_APPLY_ERROR;
    }
    code = sbtune_apply_run(&o, &res, p);
    if (!cron || (code != SBTUNE_APPLY_NOCHANGE && code != SBTUNE_APPLY_RECOMMEND)) {
        if (code == SBTUNE_APPLY_RECOMMEND && res.snippet_text) {
            fputs(res.snippet_text, stdout);
            fputs("\n", stdout);
        }
        if (res.report && *res.report) {
            fputs(res.report, stdout);
        }
        fflush(stdout);
        if (res.error) {
            fprintf(stderr, "sbtune apply: %s\n", res.error);
        }
        fprintf(code == SBTUNE_APPLY_CHANGED || code == SBTUNE_APPLY_NOCHANGE
                || code == SBTUNE_APPLY_RECOMMEND ? stdout : stderr,
                "sbtune apply: %s (exit %d)\n", sbtune_apply_exit_name(code), code);
    }
    apr_pool_destroy(p);
    return code;
}
