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

#include <apr_general.h>
#include <apr_strings.h>
#include <apr_file_io.h>

#include "sb_json.h"
#include "sb_shm.h"
#include "sb_status.h"

/* Exit codes (documented in sbagent(8)). */
#define SB_EXIT_OK          0
#define SB_EXIT_FAILURE     1
#define SB_EXIT_USAGE       2
#define SB_EXIT_UNAVAILABLE 3

enum {
    OPT_ONCE = 'o', OPT_JSON = 'j', OPT_SCOREBOARD = 's', OPT_STATUS_URL = 'u',
    OPT_HELP = 'h', OPT_VERSION = 'V', OPT_WORKERS = 'w', OPT_COUNT = 'n',
    OPT_INTERVAL = 'i',
    OPT_TIMEOUT = 256, OPT_CONNECT_TIMEOUT, OPT_MAX_BYTES, OPT_STATUS_USER,
    OPT_STATUS_PASSWORD_FILE, OPT_CA_FILE, OPT_INSECURE, OPT_SHOW_CLIENTS
};

typedef struct {
    int id;
    const char *name;
    int has_arg;
    const char *arg;
    const char *help;
} sb_opt_t;

/* The one table: drives getopt_long and --help (and the man page's list). */
static const sb_opt_t opts[] = {
    { OPT_ONCE, "once", no_argument, NULL,
      "take one sample, print it and exit (same as --count 1)" },
    { OPT_COUNT, "count", required_argument, "N",
      "take N samples, one per --interval, then exit" },
    { OPT_INTERVAL, "interval", required_argument, "SECONDS",
      "time between samples with --count (default 1, at least 0.01)" },
    { OPT_SCOREBOARD, "scoreboard", required_argument, "PATH",
      "read the scoreboard from shared memory; PATH is httpd's ScoreBoardFile" },
    { OPT_STATUS_URL, "status-url", required_argument, "URL",
      "read mod_status at URL (\"?auto\" is added when the URL has no query)" },
    { OPT_JSON, "json", no_argument, NULL,
      "print JSON instead of text" },
    { OPT_WORKERS, "workers", no_argument, NULL,
      "include one record per worker slot and per process" },
    { OPT_SHOW_CLIENTS, "show-clients", no_argument, NULL,
      "with --workers: include client addresses, vhosts and request lines" },
    { OPT_CONNECT_TIMEOUT, "connect-timeout", required_argument, "MS",
      "mod_status: connect timeout in milliseconds (default 2000)" },
    { OPT_TIMEOUT, "timeout", required_argument, "MS",
      "mod_status: total timeout in milliseconds (default 5000)" },
    { OPT_MAX_BYTES, "max-bytes", required_argument, "N",
      "mod_status: refuse responses larger than N bytes (default 1048576)" },
    { OPT_STATUS_USER, "status-user", required_argument, "USER",
      "mod_status: basic auth user" },
    { OPT_STATUS_PASSWORD_FILE, "status-password-file", required_argument, "FILE",
      "mod_status: read the basic auth password from FILE's first line" },
    { OPT_CA_FILE, "ca-file", required_argument, "FILE",
      "mod_status over HTTPS: CA certificates to verify the server with" },
    { OPT_INSECURE, "insecure", no_argument, NULL,
      "mod_status over HTTPS: do not verify the server's certificate" },
    { OPT_HELP, "help", no_argument, NULL, "show this help and exit" },
    { OPT_VERSION, "version", no_argument, NULL, "show the version and exit" },
};
#define NOPTS (sizeof(opts) / sizeof(opts[0]))

static void usage(FILE *out, const char *prog)
{
    apr_size_t i;

    fprintf(out,
            "Usage: %s (--once | --count N) (--scoreboard PATH | --status-url URL) [OPTION]...\n"
            "Sample a running Apache httpd's worker slots.\n\n", prog);
    for (i = 0; i < NOPTS; i++) {
        char left[64];
        snprintf(left, sizeof(left), "--%s%s%s", opts[i].name,
                 opts[i].arg ? " " : "", opts[i].arg ? opts[i].arg : "");
        if (opts[i].id < 256) {
            fprintf(out, "  -%c, %-30s %s\n", opts[i].id, left, opts[i].help);
        }
        else {
            fprintf(out, "      %-30s %s\n", left, opts[i].help);
        }
    }
    fprintf(out,
            "\nExit status: 0 ok, 1 other failure, 2 usage error, 3 source unavailable.\n"
            "See sbagent(8).\n");
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

static int read_password(const char *file, apr_pool_t *p, const char **out)
{
    FILE *f = fopen(file, "r");
    char line[1024];

    if (!f) {
        fprintf(stderr, "sbagent: cannot read password file %s: %s\n", file, strerror(errno));
        return -1;
    }
    if (!fgets(line, sizeof(line), f)) {
        line[0] = '\0';
    }
    fclose(f);
    line[strcspn(line, "\r\n")] = '\0';
    *out = apr_pstrdup(p, line);
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

/* One sample from whichever source is configured.  The status source has
 * no segment to watch: restarts show as a generation or restart-time change
 * against the previous sample, which the caller passes in *events' state. */
static apr_status_t take_sample(sb_shm_t *shm, const sb_status_opts_t *sopts,
                                apr_pool_t *p, sb_sample_t **out, int *events,
                                const char **err)
{
    static int last_generation = SB_UNKNOWN, have_last = 0;
    static apr_time_t last_restart;
    apr_status_t rv;

    *events = 0;
    if (shm) {
        rv = sb_shm_sample(shm, p, out);
        if (rv != APR_SUCCESS) {
            *err = apr_pstrdup(p, sb_shm_error(shm));
            return rv;
        }
        *events = sb_shm_events(shm);
        return APR_SUCCESS;
    }
    else {
        char ebuf[512];
        sb_status_report_t report;
        int i;

        rv = sb_status_fetch(sopts, p, out, &report, ebuf, sizeof(ebuf));
        if (rv != APR_SUCCESS) {
            *err = apr_pstrdup(p, ebuf);
            return rv;
        }
        for (i = 0; i < report.nproblems; i++) {
            fprintf(stderr, "sbagent: warning: %s line %d: %s\n", sopts->url,
                    report.problems[i].line, report.problems[i].message);
        }
        if (have_last && (*out)->server.generation != last_generation) {
            *events |= SB_SHM_EV_GENERATION;
        }
        if (have_last && (*out)->server.restart_time != last_restart) {
            *events |= SB_SHM_EV_RESTARTED;
        }
        have_last = 1;
        last_generation = (*out)->server.generation;
        last_restart = (*out)->server.restart_time;
        return APR_SUCCESS;
    }
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

int main(int argc, char **argv)
{
    struct option lopts[NOPTS + 1];
    char shortopts[2 * NOPTS + 1];
    apr_size_t i, k = 0;
    apr_pool_t *pool;
    sb_status_opts_t sopts;
    const char *scoreboard = NULL, *password_file = NULL;
    int once = 0, json = 0, flags = 0, warned_extended = 0;
    long count = 0, n, failures = 0;
    apr_interval_time_t interval = apr_time_from_sec(1);
    apr_time_t next;
    apr_pool_t *iter;
    sb_shm_t *shm = NULL;
    sb_sample_t *sample = NULL;
    const char *last_err = NULL;
    const char *prog = "sbagent";
    int c;

    apr_app_initialize(&argc, (const char *const **)&argv, NULL);
    atexit(apr_terminate);
    apr_pool_create(&pool, NULL);
    sb_status_opts_default(&sopts);

    for (i = 0; i < NOPTS; i++) {
        lopts[i].name = opts[i].name;
        lopts[i].has_arg = opts[i].has_arg;
        lopts[i].flag = NULL;
        lopts[i].val = opts[i].id;
        if (opts[i].id < 256) {
            shortopts[k++] = (char)opts[i].id;
            if (opts[i].has_arg == required_argument) {
                shortopts[k++] = ':';
            }
        }
    }
    memset(&lopts[NOPTS], 0, sizeof(lopts[NOPTS]));
    shortopts[k] = '\0';

    while ((c = getopt_long(argc, argv, shortopts, lopts, NULL)) != -1) {
        long v;
        switch (c) {
        case OPT_ONCE: once = 1; break;
        case OPT_COUNT:
            if (parse_long(optarg, 1, 100000000, &count) != 0) {
                fprintf(stderr, "%s: --count takes a number from 1 to 100000000, not '%s'\n",
                        prog, optarg);
                return SB_EXIT_USAGE;
            }
            break;
        case OPT_INTERVAL: {
            char *end;
            double d;
            errno = 0;
            d = strtod(optarg, &end);
            if (errno || end == optarg || *end || !(d >= 0.01 && d <= 86400)) {
                fprintf(stderr, "%s: --interval takes seconds from 0.01 to 86400, not '%s'\n",
                        prog, optarg);
                return SB_EXIT_USAGE;
            }
            interval = (apr_interval_time_t)(d * APR_USEC_PER_SEC);
            break;
        }
        case OPT_JSON: json = 1; break;
        case OPT_WORKERS: flags |= SB_JSON_WORKERS; break;
        case OPT_SHOW_CLIENTS: flags |= SB_JSON_PRIVATE; break;
        case OPT_SCOREBOARD: scoreboard = optarg; break;
        case OPT_STATUS_URL: sopts.url = optarg; break;
        case OPT_STATUS_USER: sopts.user = optarg; break;
        case OPT_STATUS_PASSWORD_FILE: password_file = optarg; break;
        case OPT_CA_FILE: sopts.ca_file = optarg; break;
        case OPT_INSECURE: sopts.insecure = 1; break;
        case OPT_CONNECT_TIMEOUT:
        case OPT_TIMEOUT:
            if (parse_long(optarg, 1, 600000, &v) != 0) {
                fprintf(stderr, "%s: --%s takes milliseconds from 1 to 600000, not '%s'\n",
                        prog, c == OPT_TIMEOUT ? "timeout" : "connect-timeout", optarg);
                return SB_EXIT_USAGE;
            }
            if (c == OPT_TIMEOUT) {
                sopts.timeout_ms = v;
            }
            else {
                sopts.connect_timeout_ms = v;
            }
            break;
        case OPT_MAX_BYTES:
            if (parse_long(optarg, 1024, 1L << 30, &v) != 0) {
                fprintf(stderr, "%s: --max-bytes takes a size from 1024 to 1073741824, not '%s'\n",
                        prog, optarg);
                return SB_EXIT_USAGE;
            }
            sopts.max_bytes = (apr_size_t)v;
            break;
        case OPT_HELP:
            usage(stdout, prog);
            return SB_EXIT_OK;
        case OPT_VERSION:
            printf("sbagent (%s) %s\nbuilt against httpd %s scoreboard layout\n",
                   PACKAGE_NAME, PACKAGE_VERSION, sb_shm_build_version());
            return SB_EXIT_OK;
        default:
            fprintf(stderr, "Try '%s --help' for more information.\n", prog);
            return SB_EXIT_USAGE;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "%s: unexpected argument '%s'\nTry '%s --help' for more information.\n",
                prog, argv[optind], prog);
        return SB_EXIT_USAGE;
    }
    if (once && count > 1) {
        fprintf(stderr, "%s: --once and --count %ld contradict each other\n", prog, count);
        return SB_EXIT_USAGE;
    }
    if (once) {
        count = 1;
    }
    if (count == 0) {
        fprintf(stderr, "%s: give --once or --count N (the continuous daemon mode is not "
                "built yet)\nTry '%s --help' for more information.\n", prog, prog);
        return SB_EXIT_USAGE;
    }
    if (!scoreboard == !sopts.url) {
        fprintf(stderr, "%s: give exactly one source: --scoreboard PATH or --status-url URL\n"
                "Try '%s --help' for more information.\n", prog, prog);
        return SB_EXIT_USAGE;
    }
    if ((flags & SB_JSON_PRIVATE) && !(flags & SB_JSON_WORKERS)) {
        fprintf(stderr, "%s: --show-clients needs --workers\n", prog);
        return SB_EXIT_USAGE;
    }
    if (password_file) {
        if (!sopts.user) {
            fprintf(stderr, "%s: --status-password-file needs --status-user\n", prog);
            return SB_EXIT_USAGE;
        }
        if (read_password(password_file, pool, &sopts.password) != 0) {
            return SB_EXIT_USAGE;
        }
    }

    apr_pool_create(&iter, pool);
    if (scoreboard) {
        apr_status_t rv = sb_shm_open(&shm, scoreboard, pool);
        if (rv != APR_SUCCESS && (count == 1 || !APR_STATUS_IS_ENOENT(rv))) {
            fprintf(stderr, "%s: %s\n", prog, sb_shm_error(shm));
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
        if (take_sample(shm, &sopts, iter, &sample, &events, &err) != APR_SUCCESS) {
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
                sb_json_string(j, "source", shm ? "shm" : "status");
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
    if (shm) {
        sb_shm_close(shm);
    }
    if (failures == count) {
        return SB_EXIT_UNAVAILABLE;
    }
    return SB_EXIT_OK;
}
