/*
 * bench_sources - the cost of one scoreboard sample from shared memory
 * against one mod_status scrape of the same running httpd, side by side.
 *
 *   bench_sources --scoreboard PATH --status-url URL --httpd-pid PID \
 *                 [--iterations N] [--warmup N] [--idle-seconds S] [--label TEXT]
 *
 * After the warm-up pairs, each of N iterations takes one sb_shm_sample()
 * and then one sb_status_fetch(), back to back, each with a sub-pool that
 * is cleared after the call.  Per call: wall time (CLOCK_MONOTONIC) and
 * this process's CPU time (CLOCK_PROCESS_CPUTIME_ID), and its voluntary
 * context switches (getrusage RUSAGE_SELF).  A scrape also costs httpd
 * CPU, which the shm sample does not: the CPU of httpd's processes (the
 * parent PID and its children) is read from /proc before and after the
 * loop, utime + stime from /proc/PID/stat (10 ms ticks) and, where the
 * kernel has it, the run time of each thread from
 * /proc/PID/task/TID/schedstat (nanoseconds), plus the children the
 * parent reaped meanwhile (its cutime + cstime).  The background CPU of an
 * idle httpd, measured for --idle-seconds just before the loop, is
 * subtracted before dividing by the number of scrapes.
 *
 * Output: plain text on stdout, one figure per line, each prefixed by the
 * label; the last line is the summary.  Nothing is asserted: this is a
 * benchmark, its figures are ratios measured in one run.
 *
 * Exit status: 0 done, 1 a source failed, 2 usage error.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/types.h>

#include <apr_general.h>
#include <apr_pools.h>
#include <apr_strings.h>

#include "sb_sample.h"
#include "sb_shm.h"
#include "sb_status.h"

#define BENCH_MAX_PROCS 1100    /* ServerLimit's hard maximum is 20000, but
                                 * a benched httpd runs few processes */

/* ------------------------------------------------------------- options */

enum {
    OPT_SCOREBOARD = 's', OPT_STATUS_URL = 'u', OPT_HTTPD_PID = 'p',
    OPT_ITERATIONS = 'n', OPT_WARMUP = 'w', OPT_IDLE = 'i', OPT_LABEL = 'l',
    OPT_HELP = 'h'
};

typedef struct {
    int id;
    const char *name;
    const char *arg;
    const char *help;
} bench_opt_t;

static const bench_opt_t bench_opts[] = {
    { OPT_SCOREBOARD, "scoreboard", "PATH", "httpd's ScoreBoardFile (required)" },
    { OPT_STATUS_URL, "status-url", "URL",
      "mod_status URL of the same httpd, on 127.0.0.1 (required)" },
    { OPT_HTTPD_PID, "httpd-pid", "PID",
      "httpd's parent process: its and its children's CPU are measured" },
    { OPT_ITERATIONS, "iterations", "N", "measured shm/status pairs (default 5000)" },
    { OPT_WARMUP, "warmup", "N", "pairs taken first and not measured (default 20)" },
    { OPT_IDLE, "idle-seconds", "S",
      "idle httpd CPU measured this long before the loop (default 2, 0: none)" },
    { OPT_LABEL, "label", "TEXT", "prefix of every output line (default \"httpd\")" },
    { OPT_HELP, "help", NULL, "show this help and exit" },
};
#define BENCH_NOPTS (sizeof(bench_opts) / sizeof(bench_opts[0]))

typedef struct {
    const char *scoreboard;
    const char *status_url;
    pid_t httpd_pid;
    long iterations;
    long warmup;
    double idle_seconds;
    const char *label;
} bench_cli_t;

static void usage(FILE *out)
{
    apr_size_t i;

    fprintf(out, "Usage: bench_sources --scoreboard PATH --status-url URL [OPTION]...\n"
            "Time one shm scoreboard sample against one mod_status scrape of the same\n"
            "httpd, alternately, and print the figures and their ratios.\n\n");
    for (i = 0; i < BENCH_NOPTS; i++) {
        char left[48];

        snprintf(left, sizeof(left), "--%s%s%s", bench_opts[i].name,
                 bench_opts[i].arg ? " " : "", bench_opts[i].arg ? bench_opts[i].arg : "");
        fprintf(out, "  -%c, %-24s %s\n", bench_opts[i].id, left, bench_opts[i].help);
    }
    fprintf(out, "\nExit status: 0 done, 1 a source failed, 2 usage error.\n");
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

/* Returns 0, or 2 after a message on a usage error; -1 after --help. */
static int parse_cli(int argc, char **argv, bench_cli_t *cli)
{
    struct option lopts[BENCH_NOPTS + 1];
    char sopts[3 * BENCH_NOPTS + 1];
    apr_size_t i, k = 0;
    int c;
    long v;
    char *end;

    memset(lopts, 0, sizeof(lopts));
    for (i = 0; i < BENCH_NOPTS; i++) {
        lopts[i].name = bench_opts[i].name;
        lopts[i].has_arg = bench_opts[i].arg ? required_argument : no_argument;
        lopts[i].val = bench_opts[i].id;
        sopts[k++] = (char)bench_opts[i].id;
        if (bench_opts[i].arg) {
            sopts[k++] = ':';
        }
    }
    sopts[k] = '\0';

    memset(cli, 0, sizeof(*cli));
    cli->iterations = 5000;
    cli->warmup = 20;
    cli->idle_seconds = 2;
    cli->label = "httpd";
    while ((c = getopt_long(argc, argv, sopts, lopts, NULL)) != -1) {
        switch (c) {
        case OPT_SCOREBOARD:
            cli->scoreboard = optarg;
            break;
        case OPT_STATUS_URL:
            cli->status_url = optarg;
            break;
        case OPT_HTTPD_PID:
            if (parse_long(optarg, 1, 4194304, &v) != 0) {
                fprintf(stderr, "bench_sources: --httpd-pid takes a process id, not '%s'\n",
                        optarg);
                return 2;
            }
            cli->httpd_pid = (pid_t)v;
            break;
        case OPT_ITERATIONS:
            if (parse_long(optarg, 1, 10000000, &cli->iterations) != 0) {
                fprintf(stderr, "bench_sources: --iterations takes 1..10000000, not '%s'\n",
                        optarg);
                return 2;
            }
            break;
        case OPT_WARMUP:
            if (parse_long(optarg, 0, 1000000, &cli->warmup) != 0) {
                fprintf(stderr, "bench_sources: --warmup takes 0..1000000, not '%s'\n",
                        optarg);
                return 2;
            }
            break;
        case OPT_IDLE:
            errno = 0;
            cli->idle_seconds = strtod(optarg, &end);
            if (errno || end == optarg || *end || !(cli->idle_seconds >= 0)
                || cli->idle_seconds > 600) {
                fprintf(stderr, "bench_sources: --idle-seconds takes 0..600, not '%s'\n",
                        optarg);
                return 2;
            }
            break;
        case OPT_LABEL:
            cli->label = optarg;
            break;
        case OPT_HELP:
            usage(stdout);
            return -1;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "bench_sources: unexpected argument '%s'\n", argv[optind]);
        return 2;
    }
    if (!cli->scoreboard || !cli->status_url) {
        fprintf(stderr, "bench_sources: --scoreboard and --status-url are both required\n");
        usage(stderr);
        return 2;
    }
    return 0;
}

/* ------------------------------------------------------------- clocks */

static double ts_us(const struct timespec *t)
{
    return (double)t->tv_sec * 1e6 + (double)t->tv_nsec / 1e3;
}

static double now_us(clockid_t clk)
{
    struct timespec t;

    clock_gettime(clk, &t);
    return ts_us(&t);
}

/* ------------------------------------------------------------- httpd CPU */

typedef struct {
    pid_t pid;
    unsigned long long start;   /* starttime, tells a reused pid apart */
} proc_id_t;

/* CPU of httpd's processes at one moment: the live ones (parent and
 * children) plus the children the parent has reaped (its cutime + cstime),
 * so that a child ending between two snapshots is not lost. */
typedef struct {
    int n;                      /* live processes */
    int nthreads;
    int schedstat;              /* live_ns is valid */
    unsigned long long live_ns;     /* threads' schedstat run time */
    unsigned long long live_ticks;  /* utime + stime */
    unsigned long long reaped_ticks; /* the parent's cutime + cstime */
    proc_id_t p[BENCH_MAX_PROCS];
} proc_set_t;

typedef struct {
    double cpu_us;              /* schedstat when available, else ticks */
    double ticks_us;            /* utime + stime, 10 ms ticks per process */
    int precise;                /* cpu_us comes from schedstat */
    int nprocs, nthreads;
    int joined, gone;           /* processes started / ended in between */
} cpu_delta_t;

/* Read /proc/PID/stat: ppid, utime + stime, cutime + cstime, starttime.
 * Returns 0 or -1. */
static int read_stat(pid_t pid, pid_t *ppid, unsigned long long *ticks,
                     unsigned long long *cticks, unsigned long long *start)
{
    char fn[64], buf[1024], *s;
    FILE *f;
    apr_size_t n;
    int ppid_i;
    unsigned long long ut, st;
    long long cut, cst;

    snprintf(fn, sizeof(fn), "/proc/%d/stat", (int)pid);
    f = fopen(fn, "r");
    if (!f) {
        return -1;
    }
    n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    s = strrchr(buf, ')');
    if (!s) {
        return -1;
    }
    /* state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt
     * utime stime cutime cstime priority nice nthreads itrealvalue starttime */
    if (sscanf(s + 1, " %*c %d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu"
               " %lld %lld %*d %*d %*d %*d %llu", &ppid_i, &ut, &st, &cut, &cst,
               start) != 6) {
        return -1;
    }
    *ppid = (pid_t)ppid_i;
    *ticks = ut + st;
    *cticks = (unsigned long long)(cut + cst);
    return 0;
}

/* Sum of the first field of /proc/PID/task/TID/schedstat over the threads.
 * Returns 0, or -1 when the kernel has no schedstat. */
static int read_run_ns(pid_t pid, unsigned long long *ns, int *nthreads)
{
    char dn[64], fn[96];
    DIR *d;
    struct dirent *e;
    int ok = 0;

    *ns = 0;
    *nthreads = 0;
    snprintf(dn, sizeof(dn), "/proc/%d/task", (int)pid);
    d = opendir(dn);
    if (!d) {
        return -1;
    }
    while ((e = readdir(d)) != NULL) {
        unsigned long long v;
        FILE *f;

        if (e->d_name[0] < '0' || e->d_name[0] > '9') {
            continue;
        }
        snprintf(fn, sizeof(fn), "%s/%.16s/schedstat", dn, e->d_name);
        f = fopen(fn, "r");
        if (!f) {
            continue;           /* the thread just ended */
        }
        if (fscanf(f, "%llu", &v) == 1) {
            *ns += v;
            ok = 1;
        }
        fclose(f);
        (*nthreads)++;
    }
    closedir(d);
    return ok ? 0 : -1;
}

static void add_proc(proc_set_t *set, pid_t pid, unsigned long long ticks,
                     unsigned long long start)
{
    unsigned long long ns;
    int nthreads;

    if (set->n >= BENCH_MAX_PROCS) {
        return;
    }
    set->p[set->n].pid = pid;
    set->p[set->n].start = start;
    set->n++;
    set->live_ticks += ticks;
    if (read_run_ns(pid, &ns, &nthreads) == 0) {
        set->live_ns += ns;
        set->nthreads += nthreads;
    }
    else {
        set->schedstat = 0;
    }
}

/* Snapshot the CPU of parent, of its live children and of its reaped ones. */
static void proc_snapshot(pid_t parent, proc_set_t *set)
{
    DIR *d;
    struct dirent *e;
    pid_t ppid;
    unsigned long long ticks, cticks, start;

    set->n = set->nthreads = 0;
    set->schedstat = 1;
    set->live_ns = set->live_ticks = set->reaped_ticks = 0;
    if (read_stat(parent, &ppid, &ticks, &cticks, &start) == 0) {
        set->reaped_ticks = cticks;
        add_proc(set, parent, ticks, start);
    }
    d = opendir("/proc");
    if (!d) {
        return;
    }
    while ((e = readdir(d)) != NULL) {
        long v;

        if (parse_long(e->d_name, 1, 4194304, &v) != 0 || (pid_t)v == parent) {
            continue;
        }
        if (read_stat((pid_t)v, &ppid, &ticks, &cticks, &start) == 0 && ppid == parent) {
            add_proc(set, (pid_t)v, ticks, start);
        }
    }
    closedir(d);
}

static int proc_in(const proc_set_t *set, const proc_id_t *id)
{
    int i;

    for (i = 0; i < set->n; i++) {
        if (set->p[i].pid == id->pid && set->p[i].start == id->start) {
            return 1;
        }
    }
    return 0;
}

/* CPU spent by httpd between two snapshots: the difference of (live +
 * reaped).  A child that ended in between moved from the live sum into the
 * parent's cutime + cstime, so only its CPU after a is counted. */
static void proc_delta(const proc_set_t *a, const proc_set_t *b, cpu_delta_t *d)
{
    double tick_us = 1e6 / (double)sysconf(_SC_CLK_TCK);
    double before, after;
    int i;

    memset(d, 0, sizeof(*d));
    for (i = 0; i < b->n; i++) {
        d->joined += !proc_in(a, &b->p[i]);
    }
    for (i = 0; i < a->n; i++) {
        d->gone += !proc_in(b, &a->p[i]);
    }
    d->nprocs = b->n;
    d->nthreads = b->nthreads;
    d->ticks_us = ((double)b->live_ticks - (double)a->live_ticks
                   + (double)b->reaped_ticks - (double)a->reaped_ticks) * tick_us;
    d->precise = a->schedstat && b->schedstat;
    if (d->precise) {
        before = (double)a->live_ns / 1e3 + (double)a->reaped_ticks * tick_us;
        after = (double)b->live_ns / 1e3 + (double)b->reaped_ticks * tick_us;
        d->cpu_us = after - before;
    }
    else {
        d->cpu_us = d->ticks_us;
    }
}

/* ------------------------------------------------------------- statistics */

typedef struct {
    double *wall;               /* us per call */
    double *cpu;                /* us per call */
    double csw;                 /* voluntary context switches, summed */
    long n;
} series_t;

typedef struct {
    double mean, p50, p99, max;
} summary_t;

static int cmp_double(const void *x, const void *y)
{
    double a = *(const double *)x, b = *(const double *)y;

    return (a > b) - (a < b);
}

/* Mean, and nearest-rank percentiles (sorts v in place). */
static summary_t summarize(double *v, long n)
{
    summary_t s;
    double sum = 0;
    long i, r;

    for (i = 0; i < n; i++) {
        sum += v[i];
    }
    qsort(v, (size_t)n, sizeof(*v), cmp_double);
    s.mean = sum / (double)n;
    r = (n * 50 + 99) / 100;
    s.p50 = v[r > 0 ? r - 1 : 0];
    r = (n * 99 + 99) / 100;
    s.p99 = v[r > 0 ? r - 1 : 0];
    s.max = v[n - 1];
    return s;
}

static double ratio(double num, double den)
{
    return den > 0 ? num / den : 0;
}

/* ------------------------------------------------------------- the loop */

typedef struct {
    sb_shm_t *shm;
    sb_status_opts_t sopts;
    int shm_slots, status_slots;
    const char *seg;            /* the bench's own read-only mapping of the object */
    apr_size_t seglen;          /* its usable area (after APR's 8-byte header) */
    char *dst;                  /* where the bare memcpy copies it */
    char err[512];
} sources_t;

enum { CALL_SHM = 0, CALL_STATUS = 1, CALL_MEMCPY = 2, CALL_NOP = 3 };

/* The physical limit of a sample (issue #12): a bare memcpy of the same
 * segment, from a read-only mapping of the same object, made here. */
static int map_segment(sources_t *src)
{
    int fd = open(sb_shm_object(src->shm), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    void *m;

    src->seglen = sb_shm_size(src->shm);
    if (fd < 0) {
        snprintf(src->err, sizeof(src->err), "open %s: %s", sb_shm_object(src->shm),
                 strerror(errno));
        return -1;
    }
    m = mmap(NULL, src->seglen + 8, PROT_READ, MAP_SHARED, fd, 0);
    close(fd);
    /* the destination at the source's offset in a page (8): the fastest
     * case of memcpy (a destination 4 KiB-aliased a few bytes off the
     * source makes "rep movsb" several times slower on some CPUs) */
    if (m == MAP_FAILED || posix_memalign((void **)&src->dst, 4096, src->seglen + 8) != 0) {
        snprintf(src->err, sizeof(src->err), "mmap %s: %s", sb_shm_object(src->shm),
                 strerror(errno));
        return -1;
    }
    src->seg = m;
    src->dst += 8;
    memset(src->dst, 1, src->seglen);
    return 0;
}

/* One call of a source (or the bare memcpy), measured into s[i] when s
 * is not NULL.  All three go through the same clock and getrusage calls.
 * Returns APR_SUCCESS or the source's error (message in src->err). */
static apr_status_t one_call(sources_t *src, int status, apr_pool_t *p,
                             series_t *s, long i)
{
    struct rusage r0, r1;
    double w0, w1, c0, c1;
    sb_sample_t *smp = NULL;
    apr_status_t rv;

    getrusage(RUSAGE_SELF, &r0);
    w0 = now_us(CLOCK_MONOTONIC);
    c0 = now_us(CLOCK_PROCESS_CPUTIME_ID);
    if (status == CALL_STATUS) {
        rv = sb_status_fetch(&src->sopts, p, &smp, NULL, src->err, sizeof(src->err));
    }
    else if (status == CALL_MEMCPY) {
        memcpy(src->dst, src->seg + 8, src->seglen);
        __asm__ volatile("" : : "r"(src->dst) : "memory");
        rv = APR_SUCCESS;
    }
    else if (status == CALL_NOP) {
        rv = APR_SUCCESS;       /* what the measuring itself costs */
    }
    else {
        rv = sb_shm_sample(src->shm, p, &smp);
    }
    c1 = now_us(CLOCK_PROCESS_CPUTIME_ID);
    w1 = now_us(CLOCK_MONOTONIC);
    getrusage(RUSAGE_SELF, &r1);
    if (rv != APR_SUCCESS) {
        if (status == CALL_SHM) {
            apr_cpystrn(src->err, sb_shm_error(src->shm), sizeof(src->err));
        }
        return rv;
    }
    if (status == CALL_STATUS) {
        src->status_slots = smp->nworkers;
    }
    else if (status == CALL_SHM) {
        src->shm_slots = smp->nworkers;
    }
    if (s) {
        s->wall[i] = w1 - w0;
        s->cpu[i] = c1 - c0;
        s->csw += (double)(r1.ru_nvcsw - r0.ru_nvcsw);
    }
    apr_pool_clear(p);
    return APR_SUCCESS;
}

static void series_init(series_t *s, long n, apr_pool_t *p)
{
    s->wall = apr_pcalloc(p, sizeof(double) * (apr_size_t)n);
    s->cpu = apr_pcalloc(p, sizeof(double) * (apr_size_t)n);
    s->csw = 0;
    s->n = n;
}

static void sleep_us(double us)
{
    struct timespec t;

    t.tv_sec = (time_t)(us / 1e6);
    t.tv_nsec = (long)((us - (double)t.tv_sec * 1e6) * 1e3);
    while (nanosleep(&t, &t) != 0 && errno == EINTR) {
    }
}

/* n shm samples, memcpys and empty calls back to back (caches warm): their
 * wall times into shm_w, mc_w, nop_w.  Returns 0, or 1 after a message. */
static int run_warm(sources_t *src, long n, apr_pool_t *iter, apr_pool_t *pool,
                    summary_t *shm_w, summary_t *mc_w, summary_t *nop_w)
{
    series_t shm, mc, nop;
    apr_status_t rv;
    long i;

    series_init(&shm, n, pool);
    series_init(&mc, n, pool);
    series_init(&nop, n, pool);
    for (i = 0; i < n; i++) {
        if ((rv = one_call(src, CALL_SHM, iter, &shm, i)) != APR_SUCCESS
            || (rv = one_call(src, CALL_MEMCPY, iter, &mc, i)) != APR_SUCCESS
            || (rv = one_call(src, CALL_NOP, iter, &nop, i)) != APR_SUCCESS) {
            fprintf(stderr, "bench_sources: back to back %ld: %s\n", i, src->err);
            return 1;
        }
    }
    *shm_w = summarize(shm.wall, shm.n);
    *mc_w = summarize(mc.wall, mc.n);
    *nop_w = summarize(nop.wall, nop.n);
    return 0;
}

static int run(const bench_cli_t *cli, apr_pool_t *pool)
{
    sources_t src;
    series_t shm, st, mc;
    summary_t shm_w, shm_c, st_w, st_c, mc_w, hot_w, mch_w, nop_w;
    proc_set_t *before, *after;
    cpu_delta_t idle, loop;
    apr_pool_t *iter;
    apr_size_t seglen = 0;
    apr_status_t rv;
    double loop_wall = 0, idle_wall = 0, bg_rate = 0, httpd_us = 0;
    double t0;
    int have_httpd = cli->httpd_pid > 0;
    const char *lab = cli->label;
    long i;

    memset(&src, 0, sizeof(src));
    rv = sb_shm_open(&src.shm, cli->scoreboard, pool);
    if (rv != APR_SUCCESS) {
        fprintf(stderr, "bench_sources: %s\n", sb_shm_error(src.shm));
        return 1;
    }
    sb_status_opts_default(&src.sopts);
    src.sopts.url = cli->status_url;
    apr_pool_create(&iter, pool);
    before = apr_pcalloc(pool, sizeof(*before));
    after = apr_pcalloc(pool, sizeof(*after));

    for (i = 0; i < cli->warmup; i++) {
        if ((rv = one_call(&src, 0, iter, NULL, 0)) != APR_SUCCESS
            || (rv = one_call(&src, 1, iter, NULL, 0)) != APR_SUCCESS) {
            fprintf(stderr, "bench_sources: warm-up: %s\n", src.err);
            sb_shm_close(src.shm);
            return 1;
        }
    }

    memset(&idle, 0, sizeof(idle));
    if (have_httpd && cli->idle_seconds > 0) {
        proc_snapshot(cli->httpd_pid, before);
        t0 = now_us(CLOCK_MONOTONIC);
        sleep_us(cli->idle_seconds * 1e6);
        proc_snapshot(cli->httpd_pid, after);
        idle_wall = now_us(CLOCK_MONOTONIC) - t0;
        proc_delta(before, after, &idle);
        bg_rate = idle.cpu_us / idle_wall;
    }

    if (map_segment(&src) != 0) {
        fprintf(stderr, "bench_sources: %s\n", src.err);
        sb_shm_close(src.shm);
        return 1;
    }
    series_init(&shm, cli->iterations, pool);
    series_init(&mc, cli->iterations, pool);
    series_init(&st, 2 * cli->iterations, pool);
    if (have_httpd) {
        proc_snapshot(cli->httpd_pid, before);
    }
    /* each shm sample and each memcpy comes right after a scrape, as the
     * agent's samples come after other work: the same caches for both */
    t0 = now_us(CLOCK_MONOTONIC);
    for (i = 0; i < cli->iterations; i++) {
        if ((rv = one_call(&src, CALL_SHM, iter, &shm, i)) != APR_SUCCESS
            || (rv = one_call(&src, CALL_STATUS, iter, &st, 2 * i)) != APR_SUCCESS
            || (rv = one_call(&src, CALL_MEMCPY, iter, &mc, i)) != APR_SUCCESS
            || (rv = one_call(&src, CALL_STATUS, iter, &st, 2 * i + 1)) != APR_SUCCESS) {
            fprintf(stderr, "bench_sources: iteration %ld: %s\n", i, src.err);
            sb_shm_close(src.shm);
            return 1;
        }
    }
    loop_wall = now_us(CLOCK_MONOTONIC) - t0;
    memset(&loop, 0, sizeof(loop));
    if (have_httpd) {
        proc_snapshot(cli->httpd_pid, after);
        proc_delta(before, after, &loop);
        httpd_us = (loop.cpu_us - bg_rate * loop_wall) / (double)st.n;
        if (httpd_us < 0) {
            httpd_us = 0;
        }
    }
    /* and back to back, caches warm: the limit of the copy itself */
    if (run_warm(&src, cli->iterations, iter, pool, &hot_w, &mch_w, &nop_w) != 0) {
        sb_shm_close(src.shm);
        return 1;
    }
    seglen = src.seglen;
    sb_shm_close(src.shm);
    munmap((void *)src.seg, src.seglen + 8);
    free(src.dst - 8);
    mc_w = summarize(mc.wall, mc.n);

    shm_c = summarize(shm.cpu, shm.n);
    st_c = summarize(st.cpu, st.n);
    shm_w = summarize(shm.wall, shm.n);
    st_w = summarize(st.wall, st.n);

    printf("%s: %ld shm/status pairs after %ld warm-up pairs, %.2f s; shm sample decodes %d slots"
           " (%.0f KiB segment), the status page lists %d slots\n",
           lab, cli->iterations, cli->warmup, loop_wall / 1e6, src.shm_slots,
           (double)seglen / 1024.0, src.status_slots);
    printf("%s: shm sample: wall mean %.1f us, p50 %.1f us, p99 %.1f us, max %.1f us;"
           " CPU mean %.1f us, p50 %.1f us; %.2f voluntary context switches/call\n",
           lab, shm_w.mean, shm_w.p50, shm_w.p99, shm_w.max, shm_c.mean, shm_c.p50,
           shm.csw / (double)shm.n);
    printf("%s: status scrape: wall mean %.1f us, p50 %.1f us, p99 %.1f us, max %.1f us;"
           " CPU mean %.1f us, p50 %.1f us; %.2f voluntary context switches/call\n",
           lab, st_w.mean, st_w.p50, st_w.p99, st_w.max, st_c.mean, st_c.p50,
           st.csw / (double)st.n);
    if (have_httpd) {
        printf("%s: httpd CPU: %.1f us per scrape (%.1f ms over the %.2f s loop, %d processes"
               " with %d threads, from %s; /proc/PID/stat utime+stime says %.0f ms in 10 ms"
               " ticks; idle background %.1f us/s over %.1f s subtracted; processes started"
               " %d, ended %d)\n",
               lab, httpd_us, loop.cpu_us / 1e3, loop_wall / 1e6, loop.nprocs, loop.nthreads,
               loop.precise ? "schedstat" : "utime+stime", loop.ticks_us / 1e3,
               bg_rate * 1e6, idle_wall / 1e6, loop.joined, loop.gone);
    }
    printf("%s: memcpy of the %.0f KiB segment (from a read-only mapping of the object), each "
           "after a scrape: wall mean %.2f us, p50 %.2f us; shm sample p50 %.2f us; shm/memcpy "
           "%.1fx (p50), %.1fx (mean)\n", lab, (double)seglen / 1024.0, mc_w.mean, mc_w.p50,
           shm_w.p50, ratio(shm_w.p50, mc_w.p50), ratio(shm_w.mean, mc_w.mean));
    printf("%s: back to back (caches warm), %ld each: shm sample p50 %.2f us, mean %.2f us; "
           "memcpy p50 %.2f us, mean %.2f us; shm/memcpy %.1fx (p50) warm\n", lab,
           cli->iterations, hot_w.p50, hot_w.mean, mch_w.p50, mch_w.mean,
           ratio(hot_w.p50, mch_w.p50));
    /* every call above includes two clock_gettime of each clock and two
     * getrusage: an empty call shows how much of a figure that is */
    printf("%s: an empty measured call: p50 %.2f us (in every figure above); less that, "
           "shm/memcpy %.1fx (p50) each after a scrape, %.1fx warm\n", lab, nop_w.p50,
           ratio(shm_w.p50 - nop_w.p50, mc_w.p50 - nop_w.p50),
           ratio(hot_w.p50 - nop_w.p50, mch_w.p50 - nop_w.p50));
    printf("%s: status/shm: wall %.1fx mean, %.1fx p50, %.1fx p99; CPU %.1fx mean",
           lab, ratio(st_w.mean, shm_w.mean), ratio(st_w.p50, shm_w.p50),
           ratio(st_w.p99, shm_w.p99), ratio(st_c.mean, shm_c.mean));
    if (have_httpd) {
        printf(", %.1fx with httpd's CPU", ratio(st_c.mean + httpd_us, shm_c.mean));
    }
    printf("\n");

    printf("%s: memcpy %.1f us, shm sample %.1f us (p50, each after a scrape), shm/memcpy "
           "%.1fx (%.1fx warm); shm sample %.0f us wall / %.0f us CPU; status scrape %.0f us "
           "wall / %.0f us CPU", lab, mc_w.p50, shm_w.p50, ratio(shm_w.p50, mc_w.p50),
           ratio(hot_w.p50, mch_w.p50), shm_w.mean, shm_c.mean, st_w.mean, st_c.mean);
    if (have_httpd) {
        printf(" + %.0f us httpd CPU", httpd_us);
    }
    printf("; status/shm wall %.1fx, CPU %.1fx", ratio(st_w.mean, shm_w.mean),
           ratio(st_c.mean, shm_c.mean));
    if (have_httpd) {
        printf(" (%.1fx with httpd's)", ratio(st_c.mean + httpd_us, shm_c.mean));
    }
    printf("\n");
    return 0;
}

int main(int argc, char **argv)
{
    bench_cli_t cli;
    apr_pool_t *pool;
    int rc;

    rc = parse_cli(argc, argv, &cli);
    if (rc != 0) {
        return rc < 0 ? 0 : rc;
    }
    if (apr_initialize() != APR_SUCCESS) {
        fprintf(stderr, "bench_sources: apr_initialize failed\n");
        return 1;
    }
    apr_pool_create(&pool, NULL);
    setvbuf(stdout, NULL, _IOLBF, 0);
    rc = run(&cli, pool);
    apr_pool_destroy(pool);
    apr_terminate();
    return rc;
}
