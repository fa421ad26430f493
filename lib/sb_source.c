/*
 * sb_source.c - the one handle on a running httpd: scoreboard, mod_status,
 * the fallback between them, the kernel's sockets, httpd's parent, ports
 * and memory, each on its own deadline.  See sb_source.h.
 */
#include "config.h"
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <apr_strings.h>
#include <apr_pools.h>

#include "sb_bpf.h"
#include "sb_conntrack.h"
#include "sb_httpd.h"
#include "sb_procmem.h"
#include "sb_shm.h"
#include "sb_source.h"

/* How often a scoreboard that is not attached, and a kernel source that
 * failed to open, are tried again. */
#define SB_SOURCE_SHM_RETRY     apr_time_from_msec(500)
#define SB_SOURCE_KERNEL_RETRY  apr_time_from_sec(10)

/* The scrape thread: it fetches into a pool of its own and hands over a
 * copy; the caller never waits for the network. */
typedef struct {
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int want;                   /* a scrape is asked for */
    int busy;                   /* a scrape is running */
    int done;                   /* a result waits to be taken */
    volatile int stop;          /* also the fetch's abort flag */
    sb_status_opts_t opts;      /* copied under mu when asked */
    apr_pool_t *pool;           /* the thread's, cleared before each scrape */
    apr_status_t rv;
    sb_sample_t *sample;        /* in pool */
    sb_status_report_t report;
    char err[512];
} scraper_t;

struct sb_source {
    apr_pool_t *pool;
    sb_source_opts_t o;
    sb_estimator_t *est;
    sb_source_notice_fn fn;
    void *baton;

    /* scoreboard */
    apr_pool_t *shm_pool;       /* the handle's; destroyed when the path changes */
    sb_shm_t *shm;
    int shm_attached;           /* the last scoreboard attempt succeeded */
    int shm_switched;           /* the path changed since the last sample */
    apr_time_t next_shm, next_shm_try;
    apr_time_t shm_period;      /* the start of next_shm's period */
    uint64_t jitter;            /* xorshift state for next_shm's moment */

    /* mod_status */
    int using_status;
    apr_time_t next_status;
    int status_have_last;
    int status_generation;
    apr_time_t status_restart;
    sb_status_report_t report;
    scraper_t *scraper;

    /* state of the source in use */
    int down;
    char err[512];              /* why the source in use failed last */
    char said[512];             /* the last reason passed to SB_SN_ERROR */

    /* kernel */
    apr_pool_t *kernel_pool;    /* handle and tracker; destroyed on failure */
    apr_pool_t *kview_pool;     /* one kernel sample, cleared each time */
    sb_kernel_t *kernel;
    sb_conntrack_t *conntrack;
    sb_kernel_ports_t ports;
    int have_ports;
    int kernel_failing;
    char kernel_said[512];
    apr_time_t next_kernel, next_kernel_open;
    int have_kview;
    sb_kernel_view_t kview;
    int ka_from_kernel;

    /* eBPF */
    apr_pool_t *bpf_pool;       /* the handle's; destroyed on failure */
    sb_bpf_t *bpf;
    int bpf_given_up;           /* auto: it cannot load here (said once) */
    int bpf_ports_set;
    sb_kernel_ports_t bpf_ports;
    sb_bpf_counts_t bpf_prev;
    apr_time_t next_bpf_open;
    char bpf_said[512];

    /* httpd's processes */
    pid_t parent;
    apr_time_t next_mem;        /* MemAvailable, and the earliest PSS read */
    apr_time_t next_pss;        /* the latest PSS read while the processes stay */
    int have_procs_sig;         /* procs_sig is known (a scoreboard sample) */
    uint64_t procs_sig;         /* httpd's process slots and pids, last sample */
    uint64_t pss_sig;           /* ... at the last PSS read */
    int64_t pss;                /* the last PSS read, -1 unknown */
    int memory_denied;
};

static void notice(sb_source_t *s, sb_source_notice_t kind, sb_level_t level,
                   const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void notice(sb_source_t *s, sb_source_notice_t kind, sb_level_t level,
                   const char *fmt, ...)
{
    char buf[1024];
    va_list ap;

    if (!s->fn) {
        return;
    }
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    s->fn(s->baton, kind, level, buf);
}

static apr_interval_time_t period_of(double hz)
{
    return hz > 0 ? (apr_interval_time_t)(APR_USEC_PER_SEC / hz) : 0;
}

static void advance(apr_time_t *next, apr_interval_time_t period, apr_time_t now)
{
    *next += period;
    if (*next <= now) {
        *next = now + period;   /* fell behind: skip, no burst */
    }
}

/* The next scoreboard sample: at a random moment of the next period (one
 * sample per period, stratified), so that the samples' means are time
 * averages also where httpd's load has a rhythm of its own.  A fixed
 * phase aliases with one: in t_matrix_* (KeepAlive Off) the slots were
 * busier in one part of every half second (the agents' own 2 Hz socket
 * dumps on two shared cores; 3 to 18 slots by phase), and the agents'
 * 10 Hz samples, all at one phase, saw 5-25 % fewer busy slots than a
 * 100 Hz sampler. */
static void advance_shm(sb_source_t *s, apr_time_t now)
{
    apr_interval_time_t period = period_of(s->o.shm_hz);

    s->shm_period += period;
    if (s->shm_period + period <= now) {
        s->shm_period = now;    /* fell behind: skip, no burst */
    }
    s->jitter ^= s->jitter << 13;
    s->jitter ^= s->jitter >> 7;
    s->jitter ^= s->jitter << 17;
    s->next_shm = s->shm_period
                  + (period > 0 ? (apr_interval_time_t)((s->jitter >> 11) % (uint64_t)period) : 0);
}

int sb_source_opts_from_config(sb_source_opts_t *o, const sb_config_t *cfg, apr_pool_t *p,
                               char *err, apr_size_t errlen)
{
    memset(o, 0, sizeof(*o));
    o->scoreboard = cfg->scoreboard;
    sb_status_opts_default(&o->status);
    o->status.url = cfg->status_url[0] ? cfg->status_url : NULL;
    o->status.connect_timeout_ms = cfg->connect_timeout_ms;
    o->status.timeout_ms = cfg->timeout_ms;
    o->status.max_bytes = (apr_size_t)cfg->max_bytes;
    o->status.user = cfg->status_user[0] ? cfg->status_user : NULL;
    o->status.ca_file = cfg->ca_file[0] ? cfg->ca_file : NULL;
    o->status.insecure = cfg->insecure;
    if (cfg->status_password_file[0]) {
        if (!o->status.user) {
            snprintf(err, errlen, "status_password_file needs status_user");
            return -1;
        }
        if (sb_httpd_read_password(cfg->status_password_file, p, &o->status.password, err,
                                   errlen) != 0) {
            return -1;
        }
    }
    o->kernel_source = strcmp(cfg->kernel_source, "bpf") == 0 ? SB_KSRC_BPF
                       : strcmp(cfg->kernel_source, "diag") == 0 ? SB_KSRC_DIAG : SB_KSRC_AUTO;
    if (cfg->ports[0] && sb_httpd_parse_ports(cfg->ports, &o->ports, err, errlen) != 0) {
        return -1;
    }
    o->shm_hz = cfg->shm_hz;
    o->status_interval = cfg->status_interval;
    o->kernel_hz = cfg->kernel_hz;
    o->httpd_pidfile = cfg->httpd_pidfile;
    o->memory_interval = 5;
    o->memory_steady_interval = 60;
    return 0;
}

/* ------------------------------------------------------------ the scrape thread */

static void scraper_free(scraper_t *sc)
{
    apr_pool_destroy(sc->pool);
    pthread_mutex_destroy(&sc->mu);
    pthread_cond_destroy(&sc->cv);
    free(sc);
}

static void *scraper_main(void *arg)
{
    scraper_t *sc = arg;

    pthread_mutex_lock(&sc->mu);
    for (;;) {
        sb_status_opts_t opts;
        sb_sample_t *smp = NULL;
        sb_status_report_t rep;
        char err[512];
        apr_status_t rv;

        while (!sc->want && !sc->stop) {
            pthread_cond_wait(&sc->cv, &sc->mu);
        }
        if (sc->stop) {
            break;
        }
        sc->want = 0;
        sc->busy = 1;
        opts = sc->opts;
        opts.abort = &sc->stop;
        pthread_mutex_unlock(&sc->mu);

        apr_pool_clear(sc->pool);
        rv = sb_status_fetch(&opts, sc->pool, &smp, &rep, err, sizeof(err));

        pthread_mutex_lock(&sc->mu);
        sc->rv = rv;
        sc->sample = smp;
        sc->report = rep;
        apr_cpystrn(sc->err, err, sizeof(sc->err));
        sc->busy = 0;
        sc->done = 1;
    }
    pthread_mutex_unlock(&sc->mu);
    return NULL;
}

/* Start the thread on first use: a program drops its privileges before
 * any thread exists (capabilities are per thread). */
static int scraper_start(sb_source_t *s)
{
    scraper_t *sc;

    if (s->scraper) {
        return 0;
    }
    if ((sc = calloc(1, sizeof(*sc))) == NULL) {
        return -1;
    }
    /* unmanaged: the thread's pool shares nothing with the caller's */
    if (apr_pool_create_unmanaged_ex(&sc->pool, NULL, NULL) != APR_SUCCESS) {
        free(sc);
        return -1;
    }
    pthread_mutex_init(&sc->mu, NULL);
    pthread_cond_init(&sc->cv, NULL);
    /* libcurl's global setup is not thread-safe: do it here, once */
    sb_status_global_init();
    if (pthread_create(&sc->thread, NULL, scraper_main, sc) != 0) {
        scraper_free(sc);
        return -1;
    }
    s->scraper = sc;
    return 0;
}

static void scraper_stop(sb_source_t *s)
{
    scraper_t *sc = s->scraper;

    if (!sc) {
        return;
    }
    pthread_mutex_lock(&sc->mu);
    sc->stop = 1;               /* a scrape in flight gives up within ~1 s */
    pthread_cond_signal(&sc->cv);
    pthread_mutex_unlock(&sc->mu);
    pthread_join(sc->thread, NULL);
    scraper_free(sc);
    s->scraper = NULL;
}

/* Ask for a scrape unless one is running.  Returns 1 when a result is
 * ready: its sample is copied into p. */
static int scraper_poll(sb_source_t *s, int ask, apr_pool_t *p, apr_status_t *rv,
                        sb_sample_t **out)
{
    scraper_t *sc = s->scraper;
    int ready = 0;

    pthread_mutex_lock(&sc->mu);
    if (sc->done) {
        sc->done = 0;
        ready = 1;
        *rv = sc->rv;
        *out = sc->rv == APR_SUCCESS ? sb_sample_copy(sc->sample, p) : NULL;
        s->report = sc->report;
        if (sc->rv != APR_SUCCESS) {
            apr_cpystrn(s->err, sc->err, sizeof(s->err));
        }
    }
    if (ask && !sc->busy && !sc->want) {
        sc->opts = s->o.status;
        sc->want = 1;
        pthread_cond_signal(&sc->cv);
    }
    pthread_mutex_unlock(&sc->mu);
    return ready;
}

static int scraper_idle(const sb_source_t *s)
{
    scraper_t *sc = s->scraper;
    int idle;

    pthread_mutex_lock(&sc->mu);
    idle = !sc->busy && !sc->want && !sc->done;
    pthread_mutex_unlock(&sc->mu);
    return idle;
}

/* ------------------------------------------------------------ handle */

static int want_shm(const sb_source_t *s)
{
    return s->o.scoreboard && s->o.scoreboard[0];
}

static int want_status(const sb_source_t *s)
{
    return s->o.status.url && s->o.status.url[0];
}

sb_source_t *sb_source_create(const sb_source_opts_t *o, sb_estimator_t *est,
                              sb_source_notice_fn fn, void *baton, apr_pool_t *p)
{
    sb_source_t *s = apr_pcalloc(p, sizeof(*s));
    apr_time_t now = apr_time_now();

    s->pool = p;
    s->est = est;
    s->fn = fn;
    s->baton = baton;
    apr_pool_create(&s->kview_pool, p);
    s->next_shm = s->next_shm_try = s->next_status = now;
    s->shm_period = now;
    s->jitter = ((uint64_t)now * 0x9E3779B97F4A7C15ULL) | 1;
    s->next_kernel = s->next_kernel_open = s->next_mem = s->next_pss = now;
    s->pss = -1;
    sb_source_reconfigure(s, o);
    return s;
}

static void shm_detach(sb_source_t *s)
{
    if (s->shm) {
        sb_shm_close(s->shm);
        s->shm = NULL;
    }
    if (s->shm_pool) {
        apr_pool_destroy(s->shm_pool);
        s->shm_pool = NULL;
    }
    s->shm_attached = 0;
}

static void kernel_reset(sb_source_t *s)
{
    if (s->kernel_pool) {
        apr_pool_destroy(s->kernel_pool);
        s->kernel_pool = NULL;
    }
    s->kernel = NULL;
    s->conntrack = NULL;
    s->have_kview = 0;
    s->bpf_ports_set = 0;       /* the eBPF handle stays: its ports follow */
}

static void bpf_reset(sb_source_t *s)
{
    if (s->bpf_pool) {
        apr_pool_destroy(s->bpf_pool);
        s->bpf_pool = NULL;
    }
    s->bpf = NULL;
    s->bpf_ports_set = 0;
}

void sb_source_reconfigure(sb_source_t *s, const sb_source_opts_t *o)
{
    int new_path = !s->o.scoreboard || !o->scoreboard
                   || strcmp(s->o.scoreboard, o->scoreboard) != 0;
    int new_ports = s->o.ports.nports != o->ports.nports
                    || memcmp(s->o.ports.port, o->ports.port, sizeof(o->ports.port)) != 0;
    int new_status = !s->o.status.url != !o->status.url
                     || (o->status.url && strcmp(s->o.status.url, o->status.url) != 0);
    int new_pidfile = s->o.httpd_pidfile && o->httpd_pidfile
                      && strcmp(s->o.httpd_pidfile, o->httpd_pidfile) != 0;

    if (new_path) {
        s->shm_switched = s->o.scoreboard != NULL;
        shm_detach(s);
        s->next_shm = s->next_shm_try = s->shm_period = apr_time_now();
    }
    if (new_status) {
        s->status_have_last = 0;
    }
    if (s->o.kernel_source != o->kernel_source) {
        bpf_reset(s);
        s->bpf_given_up = 0;
    }
    if (new_path || new_ports || new_pidfile) {
        /* maybe another httpd: find its parent and ports again, and follow
         * its connections from a new baseline */
        s->have_ports = 0;
        s->parent = 0;
        kernel_reset(s);
    }
    s->o = *o;
    if (o->ports.nports > 0) {
        s->ports = o->ports;
        s->have_ports = 1;
    }
    s->using_status = !want_shm(s) || (s->using_status && want_status(s) && !new_path);
    if (!want_status(s)) {
        s->using_status = 0;
    }
}

const char *sb_source_error(const sb_source_t *s)
{
    return s->err;
}

const sb_status_report_t *sb_source_status_report(const sb_source_t *s)
{
    return &s->report;
}

int sb_source_using_status(const sb_source_t *s)
{
    return s->using_status;
}

int sb_source_down(const sb_source_t *s)
{
    return s->down;
}

pid_t sb_source_parent(const sb_source_t *s)
{
    return s->parent;
}

int sb_source_bpf_active(const sb_source_t *s)
{
    return s->bpf != NULL && s->bpf_ports_set;
}

const sb_kernel_view_t *sb_source_kernel_view(const sb_source_t *s)
{
    return s->have_kview ? &s->kview : NULL;
}

/* Say a failure's reason once, however often it repeats. */
static void failed(sb_source_t *s, const char *why)
{
    if (why != s->err) {
        apr_cpystrn(s->err, why, sizeof(s->err));
    }
    if (strcmp(s->said, s->err) != 0) {
        apr_cpystrn(s->said, s->err, sizeof(s->said));
        notice(s, SB_SN_ERROR, SB_LEVEL_WARNING, "%s", s->err);
    }
}

static void went_down(sb_source_t *s)
{
    if (!s->down) {
        s->down = 1;
        notice(s, SB_SN_DOWN, SB_LEVEL_WARNING, "%s", s->err);
    }
}

/* ------------------------------------------------------------ the two samplers */

static apr_status_t take_shm(sb_source_t *s, apr_pool_t *p, sb_sample_t **out, int *events)
{
    apr_status_t rv;

    *out = NULL;
    *events = 0;
    if (!s->shm) {
        /* one handle for the handle's life: it re-attaches itself */
        apr_pool_create(&s->shm_pool, s->pool);
        rv = sb_shm_open(&s->shm, s->o.scoreboard, s->shm_pool);
        s->shm_attached = rv == APR_SUCCESS;
        if (rv != APR_SUCCESS) {
            failed(s, sb_shm_error(s->shm));
            return rv;
        }
    }
    rv = sb_shm_sample(s->shm, p, out);
    s->shm_attached = rv == APR_SUCCESS;
    if (rv != APR_SUCCESS) {
        failed(s, sb_shm_error(s->shm));
        return rv;
    }
    *events = sb_shm_events(s->shm);
    return APR_SUCCESS;
}

/* Restarts seen through mod_status: the generation or the restart time
 * moved since the previous page. */
static int status_events(sb_source_t *s, const sb_sample_t *smp)
{
    int ev = 0;

    if (s->status_have_last && smp->server.generation != s->status_generation) {
        ev |= SB_SHM_EV_GENERATION;
    }
    if (s->status_have_last && smp->server.restart_time != s->status_restart) {
        ev |= SB_SHM_EV_RESTARTED;
    }
    s->status_have_last = 1;
    s->status_generation = smp->server.generation;
    s->status_restart = smp->server.restart_time;
    return ev;
}

static apr_status_t take_status(sb_source_t *s, apr_pool_t *p, sb_sample_t **out, int *events)
{
    char err[512];
    apr_status_t rv = sb_status_fetch(&s->o.status, p, out, &s->report, err, sizeof(err));

    *events = 0;
    if (rv != APR_SUCCESS) {
        failed(s, err);
        return rv;
    }
    *events = status_events(s, *out);
    return APR_SUCCESS;
}

apr_status_t sb_source_take(sb_source_t *s, sb_source_kind_t kind, apr_pool_t *p,
                            sb_sample_t **out, int *events)
{
    *out = NULL;
    *events = 0;
    if (kind == SB_SOURCE_SHM && want_shm(s)) {
        return take_shm(s, p, out, events);
    }
    if (kind == SB_SOURCE_STATUS && want_status(s)) {
        return take_status(s, p, out, events);
    }
    snprintf(s->err, sizeof(s->err), "no %s configured",
             kind == SB_SOURCE_SHM ? "scoreboard path" : "mod_status URL");
    return APR_EINVAL;
}

/* ------------------------------------------------------------ httpd's processes */

static void find_parent(sb_source_t *s, const sb_sample_t *smp)
{
    pid_t p = sb_httpd_find_parent(s->o.httpd_pidfile, smp);

    if (p && p != s->parent) {
        s->parent = p;
        if (s->o.ports.nports == 0) {
            s->have_ports = 0;  /* a new parent may listen elsewhere */
        }
        notice(s, SB_SN_PARENT, SB_LEVEL_INFO, "httpd's parent process is %d", (int)p);
    }
}

int sb_source_pss_due(apr_time_t now, apr_time_t next_pss, int have_sig, uint64_t sig,
                      uint64_t last_sig)
{
    return !have_sig || sig != last_sig || now >= next_pss;
}

/* The scoreboard's process slots and their pids: PSS changes with them. */
static uint64_t procs_signature(const sb_sample_t *smp)
{
    uint64_t h = 1469598103934665603ULL;    /* FNV-1a */
    int i;

    for (i = 0; i < smp->nprocs; i++) {
        if (smp->procs[i].pid > 0) {
            h = (h ^ (uint64_t)(unsigned)i) * 1099511628211ULL;
            h = (h ^ (uint64_t)(unsigned)smp->procs[i].pid) * 1099511628211ULL;
        }
    }
    return h;
}

/* MemAvailable each time; the PSS of httpd's processes (one smaps_rollup
 * per process, which walks its page tables) only when read_pss, else the
 * last one read. */
static void sample_memory(sb_source_t *s, apr_pool_t *p, int read_pss)
{
    sb_hostmem_t hm;
    int64_t pss = -1, avail = -1;
    pid_t *kids;
    int n, i;
    sb_procmem_t pm;

    if (sb_procmem_host(&hm) == APR_SUCCESS) {
        avail = (int64_t)hm.mem_available;
    }
    if (!read_pss) {
        if (s->est) {
            sb_estimator_set_memory(s->est, s->pss, avail);
        }
        return;
    }
    if (s->parent > 0 && sb_procmem_children(s->parent, p, &kids, &n) == APR_SUCCESS) {
        apr_status_t rv = sb_procmem_read(s->parent, &pm);
        /* a child may exit meanwhile (ESRCH); no permission: unknown; a
         * parent that is gone (a stale pid): unknown, not 0 */
        pss = rv == APR_SUCCESS ? (int64_t)pm.pss : -1;
        for (i = 0; i < n && rv == APR_SUCCESS; i++) {
            apr_status_t crv = sb_procmem_read(kids[i], &pm);
            if (crv == APR_SUCCESS) {
                pss += (int64_t)pm.pss;
            }
            else if (APR_STATUS_IS_EACCES(crv)) {
                rv = crv;
            }
        }
        if (APR_STATUS_IS_EACCES(rv)) {
            if (!s->memory_denied) {
                notice(s, SB_SN_MEMORY, SB_LEVEL_WARNING,
                       "memory of httpd's processes unknown: %s", pm.error);
                s->memory_denied = 1;
            }
            pss = -1;
        }
    }
    s->pss = pss;
    if (s->est) {
        sb_estimator_set_memory(s->est, pss, avail);
    }
}

/* ------------------------------------------------------------ kernel */

static void kernel_obs(void *baton, apr_time_t ts, sb_obs_kind_t kind, double v)
{
    sb_source_t *s = baton;

    if (s->ka_from_kernel && s->est) {
        sb_estimator_add_obs(s->est, ts, kind, v);
    }
}

static void kernel_say(sb_source_t *s, const char *prefix)
{
    const char *why = sb_kernel_error(s->kernel);

    if (strcmp(s->kernel_said, why) != 0) {
        apr_cpystrn(s->kernel_said, why, sizeof(s->kernel_said));
        notice(s, SB_SN_KERNEL, SB_LEVEL_WARNING, "%s%s", prefix, why);
    }
}

/* Open the netlink socket in a pool of its own: a failed open is thrown
 * away whole and tried again later. */
static int kernel_open(sb_source_t *s, apr_time_t now)
{
    if (s->kernel) {
        return 0;
    }
    if (now < s->next_kernel_open) {
        return -1;
    }
    apr_pool_create(&s->kernel_pool, s->pool);
    if (sb_kernel_open(&s->kernel, s->kernel_pool) != APR_SUCCESS) {
        kernel_say(s, "kernel source off (tried again every 10 s): ");
        apr_pool_destroy(s->kernel_pool);
        s->kernel_pool = NULL;
        s->kernel = NULL;
        s->kernel_failing = 1;
        s->next_kernel_open = now + SB_SOURCE_KERNEL_RETRY;
        return -1;
    }
    if (s->kernel_failing) {
        notice(s, SB_SN_KERNEL, SB_LEVEL_NOTICE, "kernel source on again");
        s->kernel_failing = 0;
        s->kernel_said[0] = '\0';
    }
    s->conntrack = sb_conntrack_create(s->kernel_pool, kernel_obs, s);
    if (sb_kernel_destroy_feed(s->kernel)) {
        notice(s, SB_SN_KERNEL, SB_LEVEL_INFO, "sock_diag: no destroy feed (%s): connections "
               "that close between two kernel samples are estimated",
               sb_kernel_destroy_feed(s->kernel));
    }
    return 0;
}

static int kernel_ports(sb_source_t *s)
{
    apr_status_t rv;

    if (s->have_ports) {
        return 0;
    }
    if (!s->parent) {
        return -1;
    }
    rv = sb_kernel_listen_ports_of_pid(s->kernel, s->parent, &s->ports);
    if (rv != APR_SUCCESS && rv != APR_ENOSPC) {
        kernel_say(s, "cannot find httpd's listen ports (give --ports): ");
        return -1;
    }
    s->have_ports = 1;
    notice(s, SB_SN_PORTS, SB_LEVEL_INFO, "watching %d listen port(s) of httpd, the first %u",
           s->ports.nports, s->ports.port[0]);
    return 0;
}

static int sample_kernel(sb_source_t *s, apr_time_t now)
{
    sb_kernel_sample_t *ks;

    if (kernel_open(s, now) != 0 || kernel_ports(s) != 0) {
        return 0;
    }
    apr_pool_clear(s->kview_pool);
    if (sb_kernel_sample(s->kernel, &s->ports, s->kview_pool, &ks) != APR_SUCCESS) {
        kernel_say(s, "kernel sample failed: ");
        return 0;
    }
    s->kernel_said[0] = '\0';
    sb_conntrack_update(s->conntrack, ks, &s->kview);
    s->have_kview = 1;
    if (s->est) {
        sb_estimator_add_kernel(s->est, &s->kview);
    }
    return 1;
}

/* ------------------------------------------------------------ eBPF */

static int want_bpf(const sb_source_t *s)
{
    return s->o.kernel_hz > 0 && s->o.kernel_source != SB_KSRC_DIAG && !s->bpf_given_up;
}

/* Load the program (in a pool of its own, thrown away whole on failure).
 * auto: a failure is said once and not tried again (what stops it, BTF,
 * permissions, the kernel, the build, does not change while we run);
 * bpf: said and tried again every 10 s. */
static void bpf_open(sb_source_t *s, apr_time_t now)
{
    if (s->bpf || !want_bpf(s) || now < s->next_bpf_open) {
        return;
    }
    apr_pool_create(&s->bpf_pool, s->pool);
    if (sb_bpf_open(&s->bpf, s->bpf_pool) == APR_SUCCESS) {
        notice(s, SB_SN_BPF, SB_LEVEL_INFO, "eBPF source on: every arrival, close and "
               "lifetime is counted in the kernel");
        s->bpf_said[0] = '\0';
        memset(&s->bpf_prev, 0, sizeof(s->bpf_prev));
        return;
    }
    if (strcmp(s->bpf_said, sb_bpf_error(s->bpf)) != 0) {
        apr_cpystrn(s->bpf_said, sb_bpf_error(s->bpf), sizeof(s->bpf_said));
        if (s->o.kernel_source == SB_KSRC_AUTO) {
            notice(s, SB_SN_BPF, SB_LEVEL_NOTICE, "eBPF source off, arrivals estimated from "
                   "sock_diag samples: %s", s->bpf_said);
        }
        else {
            notice(s, SB_SN_BPF, SB_LEVEL_ERROR, "eBPF source (kernel_source: bpf) cannot "
                   "load (tried again every 10 s): %s", s->bpf_said);
        }
    }
    bpf_reset(s);
    s->bpf_given_up = s->o.kernel_source == SB_KSRC_AUTO;
    s->next_bpf_open = now + SB_SOURCE_KERNEL_RETRY;
}

static void bpf_lifetime(void *baton, double lifetime_s, sb_bpf_closer_t closer, uint16_t port)
{
    sb_source_t *s = baton;

    if (s->est) {
        sb_estimator_add_obs(s->est, apr_time_now(), SB_OBS_LIFETIME, lifetime_s);
    }
}

/* The counts since the last poll into the estimator; the ports follow
 * the kernel source's. */
static void sample_bpf(sb_source_t *s, apr_time_t now)
{
    sb_bpf_counts_t c;

    bpf_open(s, now);
    if (!s->bpf || !s->have_ports) {
        return;
    }
    if (!s->bpf_ports_set || memcmp(&s->bpf_ports, &s->ports, sizeof(s->ports)) != 0) {
        if (sb_bpf_set_ports(s->bpf, &s->ports) != APR_SUCCESS) {
            notice(s, SB_SN_BPF, SB_LEVEL_WARNING, "eBPF source: %s", sb_bpf_error(s->bpf));
            return;
        }
        s->bpf_ports = s->ports;
        if (!s->bpf_ports_set) {
            /* counting starts now: what came before is the baseline */
            sb_bpf_poll(s->bpf, &s->bpf_prev, NULL, NULL);
        }
        s->bpf_ports_set = 1;
    }
    if (sb_bpf_poll(s->bpf, &c, bpf_lifetime, s) != APR_SUCCESS) {
        notice(s, SB_SN_BPF, SB_LEVEL_WARNING, "eBPF source: %s", sb_bpf_error(s->bpf));
        return;
    }
    if (s->est) {
        sb_estimator_add_lifecycle(s->est, now, (double)(c.arrivals - s->bpf_prev.arrivals),
                                   (double)(c.closed_server - s->bpf_prev.closed_server),
                                   (double)(c.closed_client - s->bpf_prev.closed_client),
                                   (double)(c.closed_reset - s->bpf_prev.closed_reset));
    }
    s->bpf_prev = c;
}

void sb_source_prime(sb_source_t *s, apr_pool_t *p)
{
    sb_sample_t *smp;
    int ev;

    if (want_shm(s) && take_shm(s, p, &smp, &ev) == APR_SUCCESS) {
        find_parent(s, smp);
    }
    if (s->o.kernel_hz > 0 && kernel_open(s, apr_time_now()) == 0) {
        kernel_ports(s);
    }
    bpf_open(s, apr_time_now());     /* needs root or CAP_BPF + CAP_PERFMON */
}

/* ------------------------------------------------------------ poll */

/* The scoreboard's turn: a sample, or the fallback to mod_status. */
static void poll_shm(sb_source_t *s, apr_time_t now, apr_pool_t *p, sb_source_result_t *r)
{
    apr_status_t rv;

    advance_shm(s, now);
    if (!s->shm_attached && now < s->next_shm_try) {
        return;
    }
    rv = take_shm(s, p, &r->sample, &r->events);
    if (rv == APR_SUCCESS) {
        if (s->shm_switched) {
            /* another segment: no counter continues from the old one */
            r->events |= SB_SHM_EV_REATTACHED;
            r->switched = 1;
            s->shm_switched = 0;
        }
        if (s->using_status) {
            notice(s, SB_SN_SHM_BACK, SB_LEVEL_NOTICE,
                   "the scoreboard is readable again: back to shared memory");
            s->using_status = 0;
        }
        return;
    }
    s->next_shm_try = now + SB_SOURCE_SHM_RETRY;
    if (want_status(s) && !s->using_status) {
        notice(s, SB_SN_FALLBACK, SB_LEVEL_NOTICE, "falling back to mod_status at %s (%s)",
               s->o.status.url, s->err);
        s->using_status = 1;
        s->next_status = now;
    }
    else if (!want_status(s)) {
        went_down(s);
    }
}

static apr_interval_time_t status_period(const sb_source_t *s)
{
    double sec = s->o.status_interval > 0.2 ? s->o.status_interval : 0.2;
    return (apr_interval_time_t)(sec * APR_USEC_PER_SEC);
}

/* mod_status's turn, on the caller's thread or the scrape thread. */
static void poll_status(sb_source_t *s, apr_time_t now, apr_pool_t *p, sb_source_result_t *r)
{
    apr_status_t rv = APR_SUCCESS;
    int due = now >= s->next_status;

    if (s->o.async_status && scraper_start(s) == 0) {
        int ready = scraper_poll(s, due, p, &rv, &r->sample);
        if (due) {
            advance(&s->next_status, status_period(s), now);
        }
        if (!ready) {
            return;
        }
        if (rv == APR_SUCCESS) {
            r->events = status_events(s, r->sample);
        }
        else {
            failed(s, s->err);
        }
    }
    else {
        if (!due) {
            return;
        }
        advance(&s->next_status, status_period(s), now);
        rv = take_status(s, p, &r->sample, &r->events);
    }
    if (rv != APR_SUCCESS) {
        went_down(s);
    }
}

/* A sample came: restarts, httpd's parent, and the estimator. */
static void use_sample(sb_source_t *s, const sb_source_result_t *r)
{
    const sb_sample_t *smp = r->sample;

    if (s->down) {
        s->down = 0;
        notice(s, SB_SN_UP, SB_LEVEL_NOTICE, "httpd answers again");
    }
    s->err[0] = '\0';
    s->said[0] = '\0';
    if (!s->parent || (r->events & (SB_SHM_EV_REATTACHED | SB_SHM_EV_RESTARTED))) {
        find_parent(s, smp);
    }
    s->ka_from_kernel = !(smp->source == SB_SOURCE_SHM
                          && sb_mpm_slot_holds_keepalive(smp->server.mpm_id));
    s->have_procs_sig = smp->procs != NULL && smp->nprocs > 0;
    if (s->have_procs_sig) {
        s->procs_sig = procs_signature(smp);
    }
    if (s->est) {
        sb_estimator_add_sample(s->est, smp, r->events);
    }
}

apr_time_t sb_source_poll(sb_source_t *s, apr_time_t now, apr_pool_t *p, sb_source_result_t *r)
{
    apr_interval_time_t kperiod = period_of(s->o.kernel_hz);
    apr_time_t wake = now + apr_time_from_sec(1);

    memset(r, 0, sizeof(*r));
    if (want_shm(s) && now >= s->next_shm) {
        poll_shm(s, now, p, r);
    }
    if (!r->sample && s->using_status && want_status(s)) {
        poll_status(s, now, p, r);
    }
    if (r->sample) {
        use_sample(s, r);
    }
    if (kperiod > 0 && now >= s->next_kernel) {
        advance(&s->next_kernel, kperiod, now);
        r->kernel = sample_kernel(s, now);
        sample_bpf(s, now);
    }
    if (s->o.memory_interval > 0 && now >= s->next_mem) {
        /* PSS moves when httpd's processes come and go (they share their
         * pages differently) and slowly in between: it is read again when
         * the scoreboard's processes changed, else every
         * memory_steady_interval */
        int read_pss = sb_source_pss_due(now, s->next_pss, s->have_procs_sig, s->procs_sig,
                                         s->pss_sig);
        s->next_mem = now + (apr_interval_time_t)(s->o.memory_interval * APR_USEC_PER_SEC);
        if (read_pss) {
            double steady = s->o.memory_steady_interval > s->o.memory_interval
                            ? s->o.memory_steady_interval : s->o.memory_interval;
            s->next_pss = now + (apr_interval_time_t)(steady * APR_USEC_PER_SEC);
            s->pss_sig = s->procs_sig;
        }
        sample_memory(s, p, read_pss);
    }
    if (s->est) {
        sb_estimator_tick(s->est, apr_time_now(), apr_time_from_msec(200));
    }

    if (want_shm(s) && s->next_shm < wake) {
        wake = s->next_shm;
    }
    if (s->using_status && want_status(s)) {
        if (s->next_status < wake) {
            wake = s->next_status;
        }
        if (s->scraper && !scraper_idle(s) && now + apr_time_from_msec(50) < wake) {
            wake = now + apr_time_from_msec(50);    /* pick the result up soon */
        }
    }
    if (kperiod > 0 && s->next_kernel < wake) {
        wake = s->next_kernel;
    }
    return wake;
}

void sb_source_close(sb_source_t *s)
{
    scraper_stop(s);
    shm_detach(s);
    kernel_reset(s);
    bpf_reset(s);
}
