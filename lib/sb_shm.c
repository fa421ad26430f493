/*
 * sb_shm.c - read httpd's scoreboard from its shared memory segment.
 *
 * This file compiles against httpd's own scoreboard.h, so the record
 * layout is exactly that of the httpd version of the build's headers.  It
 * does not include config.h: ap_config_auto.h defines the same PACKAGE_*
 * macros.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include <apr_shm.h>
#include <apr_strings.h>
#include <httpd.h>
#include <ap_release.h>
#include <scoreboard.h>

#include "sb_shm.h"

/* Our slot table must agree with httpd's state numbers. */
_Static_assert(SB_SLOT_DEAD == SERVER_DEAD && SB_SLOT_STARTING == SERVER_STARTING
               && SB_SLOT_READY == SERVER_READY && SB_SLOT_READ == SERVER_BUSY_READ
               && SB_SLOT_WRITE == SERVER_BUSY_WRITE
               && SB_SLOT_KEEPALIVE == SERVER_BUSY_KEEPALIVE
               && SB_SLOT_LOG == SERVER_BUSY_LOG && SB_SLOT_DNS == SERVER_BUSY_DNS
               && SB_SLOT_CLOSING == SERVER_CLOSING
               && SB_SLOT_GRACEFUL == SERVER_GRACEFUL
               && SB_SLOT_IDLE_KILL == SERVER_IDLE_KILL
               && SB_SLOT_NSTATES == SERVER_NUM_STATUS,
               "sb_slot_state_t differs from scoreboard.h");

#define SB_ALIGN8(n) (((n) + 7u) & ~(apr_size_t)7u)
#define SIZE_GLOBAL  SB_ALIGN8(sizeof(global_score))
#define SIZE_PROCESS SB_ALIGN8(sizeof(process_score))
#define SIZE_WORKER  SB_ALIGN8(sizeof(worker_score))

/* httpd refuses limits above these (MAX_SERVER_LIMIT, MAX_THREAD_LIMIT). */
#define SB_MAX_SERVER_LIMIT 200000
#define SB_MAX_THREAD_LIMIT 100000

struct sb_shm {
    apr_pool_t *pool;           /* lives as long as the handle */
    apr_pool_t *attach_pool;    /* subpool of one attachment */
    char *path;                 /* ScoreBoardFile as given (absolute) */
    apr_shm_t *shm;
    const char *base;           /* usable area (after APR's size header) */
    apr_size_t size;            /* usable size */
    char *copy;                 /* per-sample copy of the segment */
    char object[256];           /* backing object, from /proc/self/maps */
    dev_t object_dev;
    ino_t object_ino;
    int have_object;
    int server_limit;
    int thread_limit;
    int last_generation;
    apr_time_t last_restart;
    int nsamples;
    int events;
    char version[64];
    char mpm[16];
    char err[512];
};

apr_size_t sb_shm_layout_size(int server_limit, int thread_limit)
{
    return SIZE_GLOBAL + SIZE_PROCESS * (apr_size_t)server_limit
           + SIZE_WORKER * (apr_size_t)server_limit * (apr_size_t)thread_limit;
}

void sb_shm_record_sizes(apr_size_t *global, apr_size_t *process, apr_size_t *worker)
{
    *global = SIZE_GLOBAL;
    *process = SIZE_PROCESS;
    *worker = SIZE_WORKER;
}

const char *sb_shm_build_version(void)
{
    return AP_SERVER_BASEREVISION;
}

const char *sb_shm_error(const sb_shm_t *h)
{
    return h ? h->err : "no scoreboard handle";
}

int sb_shm_events(const sb_shm_t *h)
{
    return h->events;
}

const void *sb_shm_base(const sb_shm_t *h, apr_size_t *len)
{
    *len = h->size;
    return h->base;
}

/* Find the file backing the mapping that contains addr in /proc/self/maps
 * (a POSIX shm object "/dev/shm/ShM...", or "/SYSV<key>" for SysV). */
static int find_backing_object(const void *addr, char *name, apr_size_t namelen,
                               ino_t *ino)
{
    FILE *f = fopen("/proc/self/maps", "r");
    char line[1024];
    int found = 0;
    unsigned long a = (unsigned long)addr;

    if (!f) {
        return 0;
    }
    while (fgets(line, sizeof(line), f)) {
        unsigned long lo, hi, inode;
        int pathpos = 0;
        if (sscanf(line, "%lx-%lx %*s %*s %*s %lu %n", &lo, &hi, &inode, &pathpos) < 3) {
            continue;
        }
        if (a >= lo && a < hi && pathpos > 0) {
            char *nl = strchr(line + pathpos, '\n');
            if (nl) {
                *nl = '\0';
            }
            apr_cpystrn(name, line + pathpos, namelen);
            *ino = (ino_t)inode;
            found = 1;
            break;
        }
    }
    fclose(f);
    return found;
}

/* The MPM and version of the running httpd, from its processes: the MPM
 * module mapped into a child, the version string inside the binary.  Best
 * effort: fields stay empty when /proc does not tell (other user, static
 * MPM). */
static void identify_server(sb_shm_t *h, const process_score *procs)
{
    int i;
    pid_t child = 0;
    char fn[64], line[1024];
    FILE *f;

    h->version[0] = h->mpm[0] = '\0';
    for (i = 0; i < h->server_limit && !child; i++) {
        if (procs[i].pid > 0 && kill(procs[i].pid, 0) == 0) {
            child = procs[i].pid;
        }
    }
    if (!child) {
        return;
    }
    snprintf(fn, sizeof(fn), "/proc/%d/maps", (int)child);
    if ((f = fopen(fn, "r")) != NULL) {
        while (fgets(line, sizeof(line), f)) {
            char *m = strstr(line, "mod_mpm_");
            if (m) {
                apr_size_t n = strcspn(m + 8, ".");
                if (n < sizeof(h->mpm)) {
                    memcpy(h->mpm, m + 8, n);
                    h->mpm[n] = '\0';
                }
                break;
            }
        }
        fclose(f);
    }
    snprintf(fn, sizeof(fn), "/proc/%d/exe", (int)child);
    if ((f = fopen(fn, "rb")) != NULL) {
        static const char needle[] = "Apache/2.";
        char buf[65536 + 64];
        apr_size_t keep = 0, n;
        while ((n = fread(buf + keep, 1, sizeof(buf) - 64 - keep, f)) > 0) {
            apr_size_t total = keep + n, j;
            for (j = 0; j + sizeof(needle) - 1 + 4 <= total; j++) {
                if (memcmp(buf + j, needle, sizeof(needle) - 1) == 0) {
                    apr_size_t k = j;
                    while (k < total && k - j < sizeof(h->version) - 1
                           && (buf[k] == '/' || buf[k] == '.' || (buf[k] >= '0' && buf[k] <= '9')
                               || (buf[k] >= 'A' && buf[k] <= 'z'))) {
                        k++;
                    }
                    /* "Apache/2.4.71 (Debian)": keep the ServerTokens Full suffix */
                    if (k + 2 < total && buf[k] == ' ' && buf[k + 1] == '(') {
                        apr_size_t close = k + 2;
                        while (close < total && close - j < sizeof(h->version) - 1
                               && buf[close] >= ' ' && buf[close] < 0x7f && buf[close] != ')') {
                            close++;
                        }
                        if (close < total && buf[close] == ')' && close - j < sizeof(h->version) - 1) {
                            k = close + 1;
                        }
                    }
                    /* the binary holds "Apache/2.4.71" and "Apache/2.4.71 (Debian)":
                     * keep the longest */
                    if (k - j > sizeof(needle) && k - j > strlen(h->version)) {
                        memcpy(h->version, buf + j, k - j);
                        h->version[k - j] = '\0';
                    }
                }
            }
            keep = total < 63 ? total : 63;
            memmove(buf, buf + total - keep, keep);
        }
        fclose(f);
    }
}

static apr_status_t attach(sb_shm_t *h)
{
    apr_status_t rv;
    apr_size_t expect;
    const global_score *g;
    void *base;
    long pagesz = sysconf(_SC_PAGESIZE);
    struct stat st;

    apr_pool_clear(h->attach_pool);
    h->shm = NULL;
    h->base = NULL;
    h->have_object = 0;

    rv = apr_shm_attach(&h->shm, h->path, h->attach_pool);
    if (rv != APR_SUCCESS) {
        h->shm = NULL;
        if (APR_STATUS_IS_ENOENT(rv)) {
            snprintf(h->err, sizeof(h->err),
                     "no scoreboard segment for %s: httpd is not running, or its "
                     "ScoreBoardFile is not this path (without ScoreBoardFile the "
                     "scoreboard is anonymous memory no other process can read: add "
                     "'ScoreBoardFile %s' to httpd's configuration, then stop and "
                     "start httpd, a graceful or full restart is not enough)",
                     h->path, h->path);
            return APR_ENOENT;
        }
        if (APR_STATUS_IS_EACCES(rv)) {
            snprintf(h->err, sizeof(h->err),
                     "permission denied attaching the scoreboard of %s: the segment "
                     "belongs to the user httpd starts as (mode from its umask, 0600 "
                     "for root); run as that user or as root (APR opens it "
                     "read-write, so CAP_DAC_READ_SEARCH alone is not enough: it needs "
                     "CAP_DAC_OVERRIDE); sbtune maps it read-only",
                     h->path);
            return APR_EACCES;
        }
        {
            char ebuf[128];
            snprintf(h->err, sizeof(h->err), "cannot attach the scoreboard of %s: %s",
                     h->path, apr_strerror(rv, ebuf, sizeof(ebuf)));
        }
        return rv;
    }

    base = apr_shm_baseaddr_get(h->shm);
    h->size = apr_shm_size_get(h->shm);
    h->have_object = find_backing_object(base, h->object, sizeof(h->object),
                                         &h->object_ino);
    if (h->have_object && h->object[0] == '/' && stat(h->object, &st) == 0) {
        h->object_dev = st.st_dev;
        /* A size header bigger than the object would fault (SIGBUS) on read. */
        if ((apr_size_t)st.st_size < h->size) {
            snprintf(h->err, sizeof(h->err),
                     "scoreboard of %s is truncated: %s holds %ld bytes, its header "
                     "claims %lu",
                     h->path, h->object, (long)st.st_size, (unsigned long)h->size);
            apr_shm_detach(h->shm);
            h->shm = NULL;
            return SB_SHM_EBADSIZE;
        }
    }

    /* Read-only from here on: a monitor must never write the scoreboard. */
    {
        uintptr_t lo = (uintptr_t)base & ~((uintptr_t)pagesz - 1);
        uintptr_t hi = (uintptr_t)base + h->size;
        if (mprotect((void *)lo, hi - lo, PROT_READ) != 0) {
            snprintf(h->err, sizeof(h->err),
                     "cannot make the scoreboard mapping of %s read-only: %s; refusing "
                     "to use a writable mapping", h->path, strerror(errno));
            apr_shm_detach(h->shm);
            h->shm = NULL;
            return APR_FROM_OS_ERROR(errno);
        }
    }
    h->base = base;

    if (h->size < SIZE_GLOBAL) {
        snprintf(h->err, sizeof(h->err),
                 "segment of %s has %lu bytes, too small for a scoreboard (at least "
                 "%lu); is this an httpd ScoreBoardFile?",
                 h->path, (unsigned long)h->size, (unsigned long)SIZE_GLOBAL);
        sb_shm_close(h);
        return SB_SHM_EBADSIZE;
    }
    g = (const global_score *)h->base;
    h->server_limit = g->server_limit;
    h->thread_limit = g->thread_limit;
    if (h->server_limit < 1 || h->server_limit > SB_MAX_SERVER_LIMIT
        || h->thread_limit < 1 || h->thread_limit > SB_MAX_THREAD_LIMIT) {
        snprintf(h->err, sizeof(h->err),
                 "segment of %s is not an httpd 2.4 scoreboard: server_limit %d, "
                 "thread_limit %d are out of range",
                 h->path, h->server_limit, h->thread_limit);
        sb_shm_close(h);
        return SB_SHM_EBADSIZE;
    }
    expect = sb_shm_layout_size(h->server_limit, h->thread_limit);
    if (expect != h->size) {
        snprintf(h->err, sizeof(h->err),
                 "scoreboard of %s has %lu bytes but ServerLimit %d x ThreadLimit %d "
                 "needs %lu with the layout of httpd %s this build was compiled "
                 "against (global %lu, process %lu, worker %lu bytes): the running "
                 "httpd is another version; rebuild sbtune against its headers "
                 "(configure --with-apxs)",
                 h->path, (unsigned long)h->size, h->server_limit, h->thread_limit,
                 (unsigned long)expect, AP_SERVER_BASEREVISION,
                 (unsigned long)SIZE_GLOBAL, (unsigned long)SIZE_PROCESS,
                 (unsigned long)SIZE_WORKER);
        sb_shm_close(h);
        return SB_SHM_EBADSIZE;
    }
    h->copy = apr_palloc(h->attach_pool, h->size);
    identify_server(h, (const process_score *)(h->base + SIZE_GLOBAL));
    h->err[0] = '\0';
    return APR_SUCCESS;
}

apr_status_t sb_shm_open(sb_shm_t **out, const char *path, apr_pool_t *p)
{
    sb_shm_t *h = apr_pcalloc(p, sizeof(*h));
    char *abs = NULL;

    *out = h;
    h->pool = p;
    apr_pool_create(&h->attach_pool, p);
    /* APR derives the object's name from the path string: httpd made it
     * from the absolute path, so resolve a relative one against the cwd. */
    if (path[0] != '/') {
        char cwd[4096];
        if (!getcwd(cwd, sizeof(cwd))) {
            snprintf(h->err, sizeof(h->err), "cannot resolve relative path %s: %s",
                     path, strerror(errno));
            return APR_FROM_OS_ERROR(errno);
        }
        abs = apr_pstrcat(p, cwd, "/", path, NULL);
    }
    h->path = abs ? abs : apr_pstrdup(p, path);
    h->last_generation = -1;
    return attach(h);
}

/* 1 when the object we mapped was unlinked or replaced since we attached. */
static int segment_replaced(const sb_shm_t *h)
{
    struct stat st;

    if (!h->have_object || h->object[0] != '/') {
        return 0;
    }
    if (stat(h->object, &st) != 0) {
        return 1;
    }
    return st.st_ino != h->object_ino || st.st_dev != h->object_dev;
}

static void decode(const sb_shm_t *h, sb_sample_t *s)
{
    const global_score *g = (const global_score *)h->copy;
    const char *pbase = h->copy + SIZE_GLOBAL;
    const char *wbase = pbase + SIZE_PROCESS * (apr_size_t)h->server_limit;
    int i, j;

    s->source = SB_SOURCE_SHM;
    apr_cpystrn(s->server.version, h->version, sizeof(s->server.version));
    apr_cpystrn(s->server.mpm, h->mpm, sizeof(s->server.mpm));
    sb_mpm_parse(s->server.mpm, &s->server.mpm_id);
    s->server.generation = g->running_generation;
    s->server.restart_time = g->restart_time;
    s->server.uptime_s = g->restart_time > 0
                         ? (int64_t)apr_time_sec(s->ts - g->restart_time) : SB_UNKNOWN;
    s->server.server_limit = h->server_limit;
    s->server.thread_limit = h->thread_limit;

    for (i = 0; i < h->server_limit; i++) {
        const process_score *ps = (const process_score *)(pbase + SIZE_PROCESS * (apr_size_t)i);
        sb_process_t *sp = &s->procs[i];
        sp->slot = i;
        sp->pid = ps->pid;
        sp->generation = ps->generation;
        sp->quiescing = ps->quiescing != 0;
        sp->not_accepting = ps->not_accepting != 0;
        sp->connections = ps->connections;
        sp->write_completion = ps->write_completion;
        sp->lingering_close = ps->lingering_close;
        sp->keep_alive = ps->keep_alive;
        sp->suspended = ps->suspended;
        sp->wait_io = ps->wait_io;
        for (j = 0; j < h->thread_limit; j++) {
            apr_size_t idx = (apr_size_t)i * (apr_size_t)h->thread_limit + (apr_size_t)j;
            const worker_score *ws = (const worker_score *)(wbase + SIZE_WORKER * idx);
            sb_worker_t *w = &s->workers[idx];
            w->proc = i;
            w->thread = j;
            w->pid = ws->pid ? ws->pid : ps->pid;
            w->generation = ws->generation;
            w->state = ws->status < SB_SLOT_NSTATES ? (sb_slot_state_t)ws->status
                                                    : SB_SLOT_NSTATES;
            w->access_count = ws->access_count;
            w->my_access_count = ws->my_access_count;
            w->conn_count = ws->conn_count;
            w->bytes_served = ws->bytes_served;
            w->conn_bytes = ws->conn_bytes;
            w->last_used = ws->last_used;
            w->start_time = ws->start_time;
            w->stop_time = ws->stop_time;
            w->duration = ws->duration;
            /* The strings are not NUL-terminated when httpd filled them. */
            apr_cpystrn(w->client, ws->client64[0] ? ws->client64 : ws->client,
                        ws->client64[0] ? sizeof(ws->client64) : sizeof(ws->client));
            apr_cpystrn(w->vhost, ws->vhost, sizeof(ws->vhost));
            apr_cpystrn(w->request, ws->request, sizeof(ws->request));
            apr_cpystrn(w->protocol, ws->protocol, sizeof(ws->protocol));
            s->total_accesses += ws->access_count;
            s->total_kbytes += (uint64_t)ws->bytes_served;
            s->total_duration_ms += (uint64_t)(ws->duration / 1000);
        }
    }
    s->total_kbytes /= 1024;
    s->has_totals = 1;

    /* With ExtendedStatus On httpd stamps last_used whenever a slot becomes
     * ready; with it Off it never does, and no counter moves. */
    {
        int live = 0, stamped = 0;
        apr_size_t n = (apr_size_t)h->server_limit * (apr_size_t)h->thread_limit, k;
        for (k = 0; k < n; k++) {
            if (s->workers[k].state != SB_SLOT_DEAD && s->workers[k].state != SB_SLOT_STARTING) {
                live++;
                stamped += s->workers[k].last_used != 0;
            }
        }
        s->extended_status = live == 0 ? SB_UNKNOWN : stamped > 0;
    }
    sb_sample_count(s);
}

apr_status_t sb_shm_sample(sb_shm_t *h, apr_pool_t *p, sb_sample_t **out)
{
    sb_sample_t *s;
    apr_status_t rv;

    *out = NULL;
    h->events = 0;
    if (h->shm && segment_replaced(h)) {
        sb_shm_close(h);
        rv = attach(h);
        if (rv == APR_ENOENT) {
            snprintf(h->err, sizeof(h->err),
                     "the scoreboard segment of %s was removed: httpd stopped "
                     "(sampling resumes when it starts again)", h->path);
            return SB_SHM_EGONE;
        }
        if (rv != APR_SUCCESS) {
            return rv;
        }
        h->events |= SB_SHM_EV_REATTACHED;
    }
    else if (!h->shm) {
        rv = attach(h);
        if (rv == APR_ENOENT && h->nsamples > 0) {
            snprintf(h->err, sizeof(h->err),
                     "httpd is stopped: no scoreboard segment for %s yet (sampling "
                     "resumes when it starts again)", h->path);
            return SB_SHM_EGONE;
        }
        if (rv != APR_SUCCESS) {
            return rv;
        }
        if (h->nsamples > 0) {
            h->events |= SB_SHM_EV_REATTACHED;
        }
    }

    memcpy(h->copy, h->base, h->size);
    s = sb_sample_create(p);
    s->ts = apr_time_now();
    sb_sample_alloc(s, p, h->server_limit * h->thread_limit, h->server_limit);
    decode(h, s);

    if (h->nsamples > 0 && !(h->events & SB_SHM_EV_REATTACHED)) {
        if (s->server.generation != h->last_generation) {
            h->events |= SB_SHM_EV_GENERATION;
        }
        if (s->server.restart_time != h->last_restart) {
            h->events |= SB_SHM_EV_RESTARTED;
        }
    }
    h->last_generation = s->server.generation;
    h->last_restart = s->server.restart_time;
    h->nsamples++;
    *out = s;
    return APR_SUCCESS;
}

void sb_shm_close(sb_shm_t *h)
{
    if (h && h->shm) {
        apr_shm_detach(h->shm);
        h->shm = NULL;
        h->base = NULL;
    }
}
