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
#include <math.h>
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

/* Options of sbagent alone that take no value from the table; --count,
 * --interval, --duration and the shared ones are entries of
 * sb_config_options. */
enum {
    OPT_ONCE = 'o', OPT_JSON = 'j', OPT_WORKERS = 'w',
    OPT_SHOW_CLIENTS = 256, OPT_CHECK_CONFIG
};

static const sb_cli_opt_t opts[] = {
    { OPT_ONCE, "once", no_argument, NULL,
      "take one sample, print it and exit (same as --count 1)" },
    { OPT_JSON, "json", no_argument, NULL,
      "print JSON: one object per sample, or per second in daemon mode" },
    { OPT_WORKERS, "workers", no_argument, NULL,
      "with --once/--count: include one record per worker slot and per process" },
    { OPT_SHOW_CLIENTS, "show-clients", no_argument, NULL,
      "with --workers: include client addresses, vhosts and request lines" },
    { OPT_CHECK_CONFIG, "check-config", no_argument, NULL,
      "check the configuration file and the options, then exit" },
};
#define NOPTS (sizeof(opts) / sizeof(opts[0]))

static sb_cli_t spec;          /* the command line (main) */

static void usage(FILE *out)
{
    const char *prog = spec.name;

    fprintf(out,
            "Usage: %s [--once | --count N] [--scoreboard PATH | --status-url URL] [OPTION]...\n"
            "Measure a running Apache httpd's worker slots, keep-alive occupancy and\n"
            "client arrival rate.  With --once or --count, print raw samples; without,\n"
            "run as the measuring daemon (per-second figures, history, export).\n\n", prog);
    sb_cli_help_common(out, &spec);
    sb_cli_help(out, opts, (int)NOPTS);
    sb_config_help_cmdline(out, SB_PROG_AGENT, 1);
    fprintf(out, "\nOptions that are also keys of the YAML file (the key of --status-url is status_url):\n");
    sb_config_help_cmdline(out, SB_PROG_AGENT, 0);
    fprintf(out,
            "\nExit status: 0 ok, 1 other failure, 2 usage or configuration error,\n"
            "3 source unavailable.  See sbagent(8) and sbtune.yaml(5).\n");
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

/* sbagent's own options (sb_cli_t.fn). */
typedef struct {
    sb_agent_cli_t *cli;
    int check_only;
} args_t;

static int own_option(void *baton, int id, const char *arg)
{
    args_t *a = baton;

    switch (id) {
    case OPT_ONCE: a->cli->once = 1; break;
    case OPT_JSON: a->cli->json = 1; break;
    case OPT_WORKERS: a->cli->flags |= SB_JSON_WORKERS; break;
    case OPT_SHOW_CLIENTS: a->cli->flags |= SB_JSON_PRIVATE; break;
    case OPT_CHECK_CONFIG: a->check_only = 1; break;
    }
    return -1;
}

/* What the options mean together; 0 or an exit code. */
static int check_options(const sb_config_t *cfg, sb_agent_cli_t *cli, apr_pool_t *pool)
{
    const char *prog = "sbagent";
    char err[1024];

    if (cli->once && cfg->count > 1) {
        fprintf(stderr, "%s: --once and --count %d contradict each other\n", prog, cfg->count);
        return SB_EXIT_USAGE;
    }
    cli->count = cli->once ? 1 : cfg->count > 0 ? cfg->count : 0;
    cli->interval = (apr_interval_time_t)(cfg->interval * APR_USEC_PER_SEC);
    cli->duration = isnan(cfg->duration) ? 0
                    : (apr_interval_time_t)(cfg->duration * APR_USEC_PER_SEC);
    if (!cfg->scoreboard[0] && !cfg->status_url[0]) {
        fprintf(stderr, "%s: give a source: --scoreboard PATH (httpd's ScoreBoardFile) "
                "and/or --status-url URL\nTry '%s --help' for more information.\n", prog, prog);
        return SB_EXIT_USAGE;
    }
    if (cli->count > 0 && cfg->scoreboard[0] && cfg->status_url[0]) {
        fprintf(stderr, "%s: with --once/--count give exactly one source: --scoreboard PATH "
                "or --status-url URL\n", prog);
        return SB_EXIT_USAGE;
    }
    if ((cli->flags & SB_JSON_PRIVATE) && !(cli->flags & SB_JSON_WORKERS)) {
        fprintf(stderr, "%s: --show-clients needs --workers\n", prog);
        return SB_EXIT_USAGE;
    }
    if (sb_source_opts_from_config(&cli->sopts, cfg, pool, err, sizeof(err)) != 0) {
        fprintf(stderr, "%s: %s\n", prog, err);
        return SB_EXIT_USAGE;
    }
    return 0;
}

int main(int argc, char **argv)
{
    apr_pool_t *pool;
    sb_config_t cfg;
    sb_agent_cli_t cli;
    args_t args;
    int rc;

    apr_app_initialize(&argc, (const char *const **)&argv, NULL);
    atexit(apr_terminate);
    apr_pool_create(&pool, NULL);
    memset(&cli, 0, sizeof(cli));
    memset(&args, 0, sizeof(args));
    args.cli = &cli;
    spec.name = "sbagent";
    spec.program = SB_PROG_AGENT;
    spec.own = opts;
    spec.nown = (int)NOPTS;
    spec.default_file = SB_DEFAULT_CONFIG;
    spec.usage = usage;
    spec.version = apr_psprintf(pool, "sbagent (%s) %s\nbuilt against httpd %s scoreboard"
                                " layout\n", PACKAGE_NAME, PACKAGE_VERSION,
                                sb_shm_build_version());
    spec.fn = own_option;
    spec.baton = &args;

    /* defaults, then the file, then the command line */
    if ((rc = sb_cli_parse(&spec, argc, argv, &cfg, pool, &cli.config_file, &cli.cmdline)) >= 0) {
        return rc;
    }
    if ((rc = check_options(&cfg, &cli, pool)) != 0) {
        return rc;
    }
    if (args.check_only) {
        if (cli.config_file) {
            printf("sbagent: configuration OK (%s)\n", cli.config_file);
        }
        else {
            printf("sbagent: configuration OK\n");
        }
        return SB_EXIT_OK;
    }
    if (cli.count == 0) {
        return sbagent_daemon(&cfg, &cli, pool);
    }
    return sample_mode(&cfg, &cli, pool);
}
