/*
 * sbagent - sbtune's measuring agent.
 *
 * This version takes one sample (--once) from the scoreboard in shared
 * memory (--scoreboard PATH, httpd's ScoreBoardFile) or from mod_status
 * (--status-url URL) and prints it as text or JSON.
 */
#include "config.h"
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <unistd.h>

#include <apr_general.h>
#include <apr_strings.h>
#include <apr_file_io.h>

#include "sb_json.h"
#include "sb_shm.h"
#include "sb_source.h"

#include "sb_config.h"
#include "sb_httpd.h"
#include "sbagent.h"

/* Options of sbagent alone; the shared ones come from sb_config_options. */
enum {
    OPT_ONCE = 'o', OPT_JSON = 'j', OPT_HELP = 'h', OPT_VERSION = 'V',
    OPT_WORKERS = 'w', OPT_COUNT = 'n', OPT_INTERVAL = 'i', OPT_CONFIG = 'c',
    OPT_SHOW_CLIENTS = 256, OPT_DURATION, OPT_CHECK_CONFIG,
    OPT_SHARED_BASE = 1000
};

static const sb_cli_opt_t opts[] = {
    { OPT_CONFIG, "config", required_argument, "FILE",
      "read options from this YAML file (default " SB_DEFAULT_CONFIG " if it exists)" },
    { OPT_ONCE, "once", no_argument, NULL,
      "take one sample, print it and exit (same as --count 1)" },
    { OPT_COUNT, "count", required_argument, "N",
      "take N raw samples, one per --interval, print each, then exit" },
    { OPT_INTERVAL, "interval", required_argument, "SECONDS",
      "time between samples with --count (default 1, at least 0.01)" },
    { OPT_JSON, "json", no_argument, NULL,
      "print JSON: one object per sample, or per second in daemon mode" },
    { OPT_DURATION, "duration", required_argument, "SECONDS",
      "daemon mode: stop after this long" },
    { OPT_WORKERS, "workers", no_argument, NULL,
      "with --once/--count: include one record per worker slot and per process" },
    { OPT_SHOW_CLIENTS, "show-clients", no_argument, NULL,
      "with --workers: include client addresses, vhosts and request lines" },
    { OPT_CHECK_CONFIG, "check-config", no_argument, NULL,
      "check the configuration file and the options, then exit" },
    { OPT_HELP, "help", no_argument, NULL, "show this help and exit" },
    { OPT_VERSION, "version", no_argument, NULL, "show the version and exit" },
};
#define NOPTS (sizeof(opts) / sizeof(opts[0]))

static void usage(FILE *out, const char *prog)
{
    fprintf(out,
            "Usage: %s [--once | --count N] [--scoreboard PATH | --status-url URL] [OPTION]...\n"
            "Measure a running Apache httpd's worker slots, keep-alive occupancy and\n"
            "client arrival rate.  With --once or --count, print raw samples; without,\n"
            "run as the measuring daemon (per-second figures, history, export).\n\n", prog);
    sb_cli_help(out, opts, (int)NOPTS);
    fprintf(out, "\nOptions that are also keys of the YAML file (the key of --status-url is status_url):\n");
    sb_config_help(out, SB_PROG_AGENT);
    fprintf(out,
            "\nExit status: 0 ok, 1 other failure, 2 usage or configuration error,\n"
            "3 source unavailable.  See sbagent(8) and sbtune.yaml(5).\n");
}

static int parse_long(const char *s, long lo, long hi, long *out)
{
    char *end;
    long v;

    errno = 0;
    v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi) {
        return -1;
    }
    *out = v;
    return 0;
}


static const struct {
    int flag;
    const char *name;
    const char *notice;
} event_names[] = {
    { SB_SHM_EV_REATTACHED, "reattached",
      "the scoreboard segment was replaced (httpd stopped and started): reattached" },
    { SB_SHM_EV_GENERATION, "generation",
      "httpd restarted (graceful or full): the generation changed" },
    { SB_SHM_EV_RESTARTED, "restart_time",
      "httpd's restart time changed: a full restart cleared the slots" },
};
#define NEVENTS (sizeof(event_names) / sizeof(event_names[0]))

static void report_events(const char *prog, int events)
{
    apr_size_t i;
    for (i = 0; i < NEVENTS; i++) {
        if (events & event_names[i].flag) {
            fprintf(stderr, "%s: notice: %s\n", prog, event_names[i].notice);
        }
    }
}

/* One sample from the configured source, with the status page's
 * malformed lines said as warnings. */
static apr_status_t take_sample(sb_source_t *src, const char *url, sb_source_kind_t kind,
                                apr_pool_t *p, sb_sample_t **out, int *events,
                                const char **err)
{
    apr_status_t rv = sb_source_take(src, kind, p, out, events);
    const sb_status_report_t *rep = sb_source_status_report(src);
    int i;

    if (rv != APR_SUCCESS) {
        *err = apr_pstrdup(p, sb_source_error(src));
        return rv;
    }
    for (i = 0; kind == SB_SOURCE_STATUS && i < rep->nproblems; i++) {
        fprintf(stderr, "sbagent: warning: %s line %d: %s\n", url,
                rep->problems[i].line, rep->problems[i].message);
    }
    return APR_SUCCESS;
}

static void print_text(const sb_sample_t *s)
{
    int i;

    printf("source:      %s\n", sb_source_name(s->source));
    printf("server:      %s, mpm %s, generation %d\n",
           s->server.version[0] ? s->server.version : "version unknown",
           s->server.mpm[0] ? s->server.mpm : "unknown", s->server.generation);
    if (s->server.server_limit != SB_UNKNOWN) {
        printf("limits:      ServerLimit %d, ThreadLimit %d\n",
               s->server.server_limit, s->server.thread_limit);
    }
    if (s->server.uptime_s != SB_UNKNOWN) {
        printf("uptime:      %lld s\n", (long long)s->server.uptime_s);
    }
    printf("slots:       %d total, %u busy, %u idle, %u gracefully finishing\n",
           s->nworkers, s->busy, s->idle, s->graceful_busy);
    printf("states:     ");
    for (i = 0; i < SB_SLOT_NSTATES; i++) {
        printf(" %c %s %u%s", sb_slot_table[i].ch, sb_slot_table[i].key, s->slots[i],
               i + 1 < SB_SLOT_NSTATES ? "," : "\n");
    }
    if (s->has_totals) {
        printf("accesses:    %llu requests, %llu kB\n",
               (unsigned long long)s->total_accesses, (unsigned long long)s->total_kbytes);
    }
    printf("scoreboard:  ");
    for (i = 0; i < s->nworkers; i++) {
        sb_slot_state_t st = s->workers[i].state;
        putchar(st < SB_SLOT_NSTATES ? sb_slot_table[st].ch : '?');
    }
    putchar('\n');
}

/* --once / --count: print raw samples of one source. */
static int sample_mode(const sb_config_t *cfg, const sb_agent_cli_t *cli, apr_pool_t *pool)
{
    const char *prog = "sbagent";
    sb_source_kind_t kind = cfg->scoreboard[0] ? SB_SOURCE_SHM : SB_SOURCE_STATUS;
    long count = cli->count, n, failures = 0;
    int json = cli->json, flags = cli->flags, warned_extended = 0, c;
    apr_interval_time_t interval = cli->interval;
    apr_time_t next;
    apr_pool_t *iter;
    sb_source_t *src = sb_source_create(&cli->sopts, NULL, NULL, NULL, pool);
    sb_sample_t *sample = NULL, *first = NULL;
    const char *last_err = NULL, *url = cli->sopts.status.url;
    int first_events = 0;

    apr_pool_create(&iter, pool);
    if (kind == SB_SOURCE_SHM) {
        /* a scoreboard that cannot be attached at all is final; a missing
         * one may appear while --count runs */
        const char *err = NULL;
        apr_status_t rv = take_sample(src, url, kind, pool, &first, &first_events, &err);
        if (rv != APR_SUCCESS && (count == 1 || !APR_STATUS_IS_ENOENT(rv))) {
            fprintf(stderr, "%s: %s\n", prog, err);
            return SB_EXIT_UNAVAILABLE;
        }
    }

    next = apr_time_now();
    for (n = 0; n < count; n++) {
        const char *err = NULL;
        int events = 0;

        apr_pool_clear(iter);
        if (n > 0) {
            /* absolute deadlines: no drift however long a sample takes */
            apr_time_t now;
            next += interval;
            now = apr_time_now();
            if (next > now) {
                apr_sleep(next - now);
            }
            else {
                next = now;
            }
        }
        if (first) {
            sample = first;     /* the one that proved the segment attaches */
            events = first_events;
            first = NULL;
        }
        else if (take_sample(src, url, kind, iter, &sample, &events, &err) != APR_SUCCESS) {
            failures++;
            /* say each new problem once, not once per sample */
            if (!last_err || strcmp(last_err, err) != 0) {
                fprintf(stderr, "%s: %s\n", prog, err);
                last_err = apr_pstrdup(pool, err);
            }
            if (json && count > 1) {
                sb_json_t *j = sb_json_create(iter);
                sb_json_object_begin(j, NULL);
                sb_json_time(j, "ts", apr_time_now());
                sb_json_string(j, "source", kind == SB_SOURCE_SHM ? "shm" : "status");
                sb_json_string(j, "error", err);
                sb_json_object_end(j);
                puts(sb_json_text(j, NULL));
                fflush(stdout);
            }
            continue;
        }
        last_err = NULL;
        report_events(prog, events);
        if (sample->extended_status == 0 && !warned_extended) {
            warned_extended = 1;
            fprintf(stderr, "%s: warning: ExtendedStatus is Off: per-worker counters and "
                    "request totals do not move; remove 'ExtendedStatus Off' (stop and start "
                    "httpd to apply)\n", prog);
        }
        if (json) {
            sb_json_t *j = sb_json_create(iter);
            sb_json_object_begin(j, NULL);
            sb_json_sample_fields(j, sample, flags);
            sb_json_array_begin(j, "events");
            for (c = 0; c < (int)NEVENTS; c++) {
                if (events & event_names[c].flag) {
                    sb_json_string(j, NULL, event_names[c].name);
                }
            }
            sb_json_array_end(j);
            sb_json_object_end(j);
            puts(sb_json_text(j, NULL));
        }
        else {
            if (n > 0) {
                putchar('\n');
            }
            print_text(sample);
        }
        if (fflush(stdout) != 0 || ferror(stdout)) {
            fprintf(stderr, "%s: cannot write the output: %s\n", prog, strerror(errno));
            return SB_EXIT_FAILURE;
        }
    }
    sb_source_close(src);
    if (failures == count) {
        return SB_EXIT_UNAVAILABLE;
    }
    return SB_EXIT_OK;
}

int main(int argc, char **argv)
{
    struct option lopts[NOPTS + 64];
    char shortopts[2 * NOPTS + 8];
    int nl = 0;
    apr_pool_t *pool;
    sb_config_t cfg;
    sb_agent_cli_t cli;
    const char *config_file = NULL;
    const char *prog = "sbagent";
    char err[1024];
    int c, check_only = 0;
    sb_config_cmdline_t cmdline;
    int rc;

    apr_app_initialize(&argc, (const char *const **)&argv, NULL);
    atexit(apr_terminate);
    apr_pool_create(&pool, NULL);
    memset(&cli, 0, sizeof(cli));
    memset(&cmdline, 0, sizeof(cmdline));
    cli.interval = apr_time_from_sec(1);

    shortopts[0] = '\0';
    nl = sb_cli_getopt(opts, (int)NOPTS, lopts, (int)NOPTS, shortopts);
    /* -s and -u stay as short forms of the two sources */
    strcat(shortopts, "s:u:");
    nl += sb_config_getopt(lopts + nl, (int)(sizeof(lopts) / sizeof(lopts[0])) - nl - 1,
                           SB_PROG_AGENT, OPT_SHARED_BASE, pool);
    memset(&lopts[nl], 0, sizeof(lopts[nl]));

    while ((c = getopt_long(argc, argv, shortopts, lopts, NULL)) != -1) {
        long v;
        switch (c) {
        case OPT_CONFIG: config_file = optarg; break;
        case OPT_ONCE: cli.once = 1; break;
        case OPT_JSON: cli.json = 1; break;
        case OPT_WORKERS: cli.flags |= SB_JSON_WORKERS; break;
        case OPT_SHOW_CLIENTS: cli.flags |= SB_JSON_PRIVATE; break;
        case OPT_CHECK_CONFIG: check_only = 1; break;
        case OPT_COUNT:
            if (parse_long(optarg, 1, 100000000, &v) != 0) {
                fprintf(stderr, "%s: --count takes a number from 1 to 100000000, not '%s'\n",
                        prog, optarg);
                return SB_EXIT_USAGE;
            }
            cli.count = v;
            break;
        case OPT_INTERVAL:
        case OPT_DURATION: {
            char *end;
            double d;
            errno = 0;
            d = strtod(optarg, &end);
            if (c == OPT_INTERVAL
                && (errno || end == optarg || *end || !(d >= 0.01 && d <= 86400))) {
                fprintf(stderr, "%s: --interval takes seconds from 0.01 to 86400, not '%s'\n",
                        prog, optarg);
                return SB_EXIT_USAGE;
            }
            if (c == OPT_DURATION
                && (errno || end == optarg || *end || !(d > 0 && d <= 1e9))) {
                fprintf(stderr, "%s: --duration takes seconds (more than 0), not '%s'\n",
                        prog, optarg);
                return SB_EXIT_USAGE;
            }
            if (c == OPT_INTERVAL) {
                cli.interval = (apr_interval_time_t)(d * APR_USEC_PER_SEC);
            }
            else {
                cli.duration = (apr_interval_time_t)(d * APR_USEC_PER_SEC);
            }
            break;
        }
        case 's':
        case 'u':
            if (sb_config_cmdline_add(&cmdline, c == 's' ? "scoreboard" : "status_url", optarg,
                                      c == 's' ? "-s" : "-u") != 0) {
                fprintf(stderr, "%s: too many options\n", prog);
                return SB_EXIT_USAGE;
            }
            break;
        case OPT_HELP:
            usage(stdout, prog);
            return SB_EXIT_OK;
        case OPT_VERSION:
            printf("sbagent (%s) %s\nbuilt against httpd %s scoreboard layout\n",
                   PACKAGE_NAME, PACKAGE_VERSION, sb_shm_build_version());
            return SB_EXIT_OK;
        default:
            rc = sb_config_cmdline_getopt(&cmdline, c, OPT_SHARED_BASE, optarg);
            if (rc == 0) {
                break;
            }
            if (rc < 0) {
                fprintf(stderr, "%s: too many options\n", prog);
                return SB_EXIT_USAGE;
            }
            fprintf(stderr, "Try '%s --help' for more information.\n", prog);
            return SB_EXIT_USAGE;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "%s: unexpected argument '%s'\nTry '%s --help' for more information.\n",
                prog, argv[optind], prog);
        return SB_EXIT_USAGE;
    }

    /* defaults, then the file, then the command line */
    if (sb_config_resolve(&cfg, pool, &config_file, SB_DEFAULT_CONFIG, &cmdline,
                          SB_PROG_AGENT, err, sizeof(err)) != 0) {
        fprintf(stderr, "%s: %s\n", prog, err);
        return SB_EXIT_USAGE;
    }
    cli.config_file = config_file;
    cli.cmdline = &cmdline;

    if (cli.once && cli.count > 1) {
        fprintf(stderr, "%s: --once and --count %ld contradict each other\n", prog, cli.count);
        return SB_EXIT_USAGE;
    }
    if (cli.once) {
        cli.count = 1;
    }
    if (!cfg.scoreboard[0] && !cfg.status_url[0]) {
        fprintf(stderr, "%s: give a source: --scoreboard PATH (httpd's ScoreBoardFile) "
                "and/or --status-url URL\nTry '%s --help' for more information.\n", prog, prog);
        return SB_EXIT_USAGE;
    }
    if (cli.count > 0 && cfg.scoreboard[0] && cfg.status_url[0]) {
        fprintf(stderr, "%s: with --once/--count give exactly one source: --scoreboard PATH "
                "or --status-url URL\n", prog);
        return SB_EXIT_USAGE;
    }
    if ((cli.flags & SB_JSON_PRIVATE) && !(cli.flags & SB_JSON_WORKERS)) {
        fprintf(stderr, "%s: --show-clients needs --workers\n", prog);
        return SB_EXIT_USAGE;
    }
    if (sb_source_opts_from_config(&cli.sopts, &cfg, pool, err, sizeof(err)) != 0) {
        fprintf(stderr, "%s: %s\n", prog, err);
        return SB_EXIT_USAGE;
    }
    if (check_only) {
        if (config_file) {
            printf("%s: configuration OK (%s)\n", prog, config_file);
        }
        else {
            printf("%s: configuration OK\n", prog);
        }
        return SB_EXIT_OK;
    }
    if (cli.count == 0) {
        return sbagent_daemon(&cfg, &cli, pool);
    }
    return sample_mode(&cfg, &cli, pool);
}
