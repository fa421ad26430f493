/*
 * sb_shm.c - read httpd's scoreboard from its shared memory segment.
 *
 * This file compiles against httpd's own scoreboard.h, so the record
 * layout is exactly that of the httpd version of the build's headers.  It
 * does not include config.h: ap_config_auto.h defines the same PACKAGE_*
 * macros.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <apr.h>
#include <apr_hash.h>
#include <apr_strings.h>
#include <httpd.h>
#include <ap_release.h>
#include <scoreboard.h>

#include "sb_shm.h"
#include "sb_httpd.h"

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

#if !APR_USE_SHMEM_MMAP_SHM
#error "sbtune reads the scoreboard as APR >= 1.7.1 names it (POSIX shm_open); this APR uses another kind of shared memory"
#endif

/* APR's named POSIX shm object: an aligned size header, then the area. */
#define SB_APR_HEADER 8
#define SB_SHM_DIR "/dev/shm"

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
    int fd;                     /* the object, opened read-only; -1 none */
    apr_size_t size;            /* usable size (after APR's size header) */
    char *copy;                 /* attach: the global and process records (pread) */
    const char *map;            /* the object mapped PROT_READ, MAP_SHARED; NULL none */
    apr_size_t map_len;         /* SB_APR_HEADER + size */
    char object[256];           /* the POSIX shm object APR names for path */
    dev_t object_dev;
    ino_t object_ino;
    uid_t object_uid;
    pid_t parent;               /* httpd's parent, which maps the object */
    int parent_maps_checked;    /* /proc/PARENT/maps was readable and named it */
    unsigned long long parent_start; /* its start time (/proc/PID/stat), 0 unknown */
    int dead;                   /* the last sample found no live process */
    int server_limit;
    int thread_limit;
    int last_generation;
    apr_time_t last_restart;
    apr_time_t restart_seen;    /* when a full restart was last reported */
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

int sb_shm_fd(const sb_shm_t *h)
{
    return h->fd;
}

apr_size_t sb_shm_size(const sb_shm_t *h)
{
    return h->fd >= 0 ? h->size : 0;
}

const char *sb_shm_object(const sb_shm_t *h)
{
    return h->object;
}

pid_t sb_shm_parent(const sb_shm_t *h)
{
    return h->fd >= 0 ? h->parent : 0;
}

/* The object APR's shm_open names for a path: "/ShM.<h1>H<h2>", h1 APR's
 * default hash of the path, h2 Sedgewick's RS hash of it (as APR computes
 * it, over the path's chars as the platform's char type). */
static void object_name(const char *path, char *out, apr_size_t len)
{
    apr_ssize_t klen = (apr_ssize_t)strlen(path);
    unsigned int h1 = apr_hashfunc_default(path, &klen) & 0xffffffffu;
    unsigned int h2 = 0, a = 63689, b = 378551;
    const char *c;

    for (c = path; *c; c++) {
        h2 = h2 * a + (unsigned int)(int)*c;
        a *= b;
    }
    snprintf(out, len, SB_SHM_DIR "/ShM.%xH%x", h1, h2 & 0xffffffffu);
}

/* The effective uid of process pid (from /proc/PID/status); -1 unknown. */
static long uid_of(pid_t pid)
{
    char fn[64], line[256];
    FILE *f;
    long uid = -1;

    snprintf(fn, sizeof(fn), "/proc/%d/status", (int)pid);
    if (!(f = fopen(fn, "r"))) {
        return -1;
    }
    while (fgets(line, sizeof(line), f)) {
        long real, eff;
        if (sscanf(line, "Uid: %ld %ld", &real, &eff) == 2) {
            uid = eff;
            break;
        }
    }
    fclose(f);
    return uid;
}

/* 1 alive, 0 gone (a pid another user owns is alive). */
static int pid_alive(pid_t pid)
{
    return pid > 0 && (kill(pid, 0) == 0 || errno == EPERM);
}

/* httpd's parent still the process trust() found: alive, and with the
 * same start time, so that a pid the kernel reused for another process
 * after httpd died is not taken for httpd.  The start time is read every
 * 64th sample (about every 6 s at 10 Hz: a read of /proc per sample would
 * cost more than the sample), and at every sample while the segment is
 * dead (a pid that comes back alive is most likely reused). */
static int parent_same(const sb_shm_t *h)
{
    if (!pid_alive(h->parent)) {
        return 0;
    }
    if (h->parent_start == 0 || (!h->dead && (h->nsamples & 63) != 0)) {
        return 1;
    }
    return sb_httpd_start_time(h->parent) == h->parent_start;
}

/* Whether process pid maps the object (dev, ino): 1 yes, 0 no, -1 its
 * maps cannot be read (another user's process without CAP_SYS_PTRACE). */
static int maps_object(pid_t pid, dev_t dev, ino_t ino)
{
    char fn[64], line[1024];
    FILE *f;
    int found = 0;

    snprintf(fn, sizeof(fn), "/proc/%d/maps", (int)pid);
    if (!(f = fopen(fn, "r"))) {
        return errno == ENOENT ? 0 : -1;
    }
    while (!found && fgets(line, sizeof(line), f)) {
        unsigned int maj, mnr;
        unsigned long inode;
        if (sscanf(line, "%*x-%*x %*s %*x %x:%x %lu", &maj, &mnr, &inode) == 3
            && inode == (unsigned long)ino && makedev(maj, mnr) == dev) {
            found = 1;
        }
    }
    /* an empty read: maps of another user's process read as nothing */
    if (!found && ftell(f) == 0) {
        found = -1;
    }
    fclose(f);
    return found;
}

/* ------------------------------------------------------------------
 * The mapping and its guard.
 *
 * Each sample decodes the object through a PROT_READ, MAP_SHARED mapping
 * of the O_RDONLY descriptor: the kernel refuses PROT_WRITE on it (even
 * through mprotect), so nothing here can write httpd's scoreboard.  An
 * object truncated under us would make a read past its new end SIGBUS:
 * the size is checked with fstat() before each sample, and the decode runs
 * under a SIGBUS handler that jumps back out only for a fault inside the
 * mapping this thread is reading (a thread-local guard: sbtop samples from
 * a second thread).  Any other SIGBUS goes to the handler that was there
 * before, or kills the process as it would have without us.
 */
typedef struct {
    const char *lo, *hi;        /* the mapping being read */
    sigjmp_buf jb;
} sb_guard_t;

static __thread sb_guard_t *volatile sb_guard;
static struct sigaction sb_prev_bus;
static pthread_once_t sb_bus_once = PTHREAD_ONCE_INIT;
static int sb_bus_ok;
static volatile unsigned long sb_bus_caught;
static void (*sb_before_decode)(int fd);

static void on_sigbus(int sig, siginfo_t *si, void *uc)
{
    sb_guard_t *g = sb_guard;

    if (g && si && (const char *)si->si_addr >= g->lo && (const char *)si->si_addr < g->hi) {
        sb_guard = NULL;
        sb_bus_caught++;
        siglongjmp(g->jb, 1);
    }
    if ((sb_prev_bus.sa_flags & SA_SIGINFO) && sb_prev_bus.sa_sigaction) {
        sb_prev_bus.sa_sigaction(sig, si, uc);
        return;
    }
    if (!(sb_prev_bus.sa_flags & SA_SIGINFO) && sb_prev_bus.sa_handler != SIG_DFL
        && sb_prev_bus.sa_handler != SIG_IGN) {
        sb_prev_bus.sa_handler(sig);
        return;
    }
    /* the default: a fault re-runs the instruction and dies of it; a
     * SIGBUS someone sent is raised again */
    signal(SIGBUS, SIG_DFL);
    if (!si || si->si_code <= 0) {
        raise(SIGBUS);
    }
}

static void install_sigbus(void)
{
    struct sigaction sa;

    memset(&sa, 0, sizeof(sa));
    sa.sa_sigaction = on_sigbus;
    /* SA_NODEFER: siglongjmp out leaves the signal mask as it was without
     * a sigprocmask() per sample (sigsetjmp(jb, 0)) */
    sa.sa_flags = SA_SIGINFO | SA_NODEFER | SA_ONSTACK;
    sigemptyset(&sa.sa_mask);
    sb_bus_ok = sigaction(SIGBUS, &sa, &sb_prev_bus) == 0;
}

unsigned long sb_shm_faults_caught(void)
{
    return sb_bus_caught;
}

void sb_shm_set_test_hook(void (*before_decode)(int fd))
{
    sb_before_decode = before_decode;
}

const void *sb_shm_mapping(const sb_shm_t *h, apr_size_t *len)
{
    if (len) {
        *len = h->map ? h->map_len : 0;
    }
    return h->map;
}

static void unmap(sb_shm_t *h)
{
    if (h->map) {
        munmap((void *)h->map, h->map_len);
        h->map = NULL;
        h->map_len = 0;
    }
}

/* Map the object read-only; returns APR_SUCCESS, or an error with h->err. */
static apr_status_t map_object(sb_shm_t *h)
{
    void *m;
    int e;

    pthread_once(&sb_bus_once, install_sigbus);
    if (!sb_bus_ok) {
        snprintf(h->err, sizeof(h->err), "cannot install the SIGBUS handler that guards "
                 "reading the scoreboard mapping");
        return APR_EGENERAL;
    }
    h->map_len = SB_APR_HEADER + h->size;
    m = mmap(NULL, h->map_len, PROT_READ, MAP_SHARED, h->fd, 0);
    if (m == MAP_FAILED) {
        e = errno;
        snprintf(h->err, sizeof(h->err), "cannot map the scoreboard object %s of %s "
                 "read-only: %s", h->object, h->path, strerror(e));
        h->map_len = 0;
        return APR_FROM_OS_ERROR(e);
    }
    h->map = m;
    return APR_SUCCESS;
}

static void truncated_msg(sb_shm_t *h)
{
    struct stat st;
    long now = fstat(h->fd, &st) == 0 ? (long)st.st_size : -1;

    snprintf(h->err, sizeof(h->err), "the scoreboard object %s of %s was truncated "
             "to %ld bytes (its header claims %lu): httpd never shrinks its "
             "scoreboard, so something else wrote it; not trusted",
             h->object, h->path, now, (unsigned long)(SB_APR_HEADER + h->size));
}

/* Read len bytes at off of the usable area into buf: the object may have
 * been truncated under us (an error, never a SIGBUS: nothing is mapped). */
static int read_area(sb_shm_t *h, void *buf, apr_size_t len, apr_size_t off)
{
    apr_size_t done = 0;

    while (done < len) {
        ssize_t n = pread(h->fd, (char *)buf + done, len - done,
                          (off_t)(SB_APR_HEADER + off + done));
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            if (n < 0) {
                snprintf(h->err, sizeof(h->err), "cannot read the scoreboard object %s of %s: %s",
                         h->object, h->path, strerror(errno));
            }
            else {
                truncated_msg(h);
            }
            return -1;
        }
        done += (apr_size_t)n;
    }
    return 0;
}

static void detach(sb_shm_t *h)
{
    unmap(h);
    if (h->fd >= 0) {
        close(h->fd);
        h->fd = -1;
    }
    h->parent = 0;
    h->dead = 0;
}

/* The processes the scoreboard names: whether any is alive, and their
 * common parent (0 none alive, -1 they disagree). */
static pid_t live_parent(const sb_shm_t *h, const char *area, int *alive)
{
    const char *pbase = area + SIZE_GLOBAL;
    pid_t parent = 0;
    int i;

    *alive = 0;
    for (i = 0; i < h->server_limit; i++) {
        const volatile process_score *ps
            = (const volatile process_score *)(pbase + SIZE_PROCESS * (apr_size_t)i);
        pid_t pid = ps->pid, pp;
        if (pid <= 0 || !pid_alive(pid)) {
            continue;
        }
        (*alive)++;
        pp = sb_httpd_parent_of(pid);
        if (pp > 0 && parent == 0) {
            parent = pp;
        }
        else if (pp > 0 && pp != parent) {
            return -1;
        }
    }
    return parent;
}

/* Whether the object is httpd's (see sb_shm.h).  Returns APR_SUCCESS,
 * SB_SHM_EDEAD (no live process: httpd is not running) or SB_SHM_ENOTRUST,
 * with the message in h->err. */
static apr_status_t trust(sb_shm_t *h)
{
    int alive, m;
    pid_t parent = live_parent(h, h->copy, &alive);
    long puid;

    if (!alive) {
        snprintf(h->err, sizeof(h->err), "httpd is not running: no process the scoreboard %s "
                 "of %s names is alive (the segment outlived httpd: killed, or crashed)",
                 h->object, h->path);
        return SB_SHM_EDEAD;
    }
    if (parent < 0) {
        snprintf(h->err, sizeof(h->err), "the scoreboard %s of %s names processes of "
                 "different parents: not one httpd's; not trusted", h->object, h->path);
        return SB_SHM_ENOTRUST;
    }
    if (parent <= 1) {
        snprintf(h->err, sizeof(h->err), "httpd is not running: the processes the "
                 "scoreboard %s of %s names have lost their parent (httpd's parent was "
                 "killed)", h->object, h->path);
        return SB_SHM_EDEAD;
    }
    puid = uid_of(parent);
    if (h->object_uid != 0 && (long)h->object_uid != puid) {
        snprintf(h->err, sizeof(h->err), "the scoreboard object %s of %s belongs to uid %ld, "
                 "neither root nor the user of httpd's parent %d (uid %ld): not trusted "
                 "(another user may have created it while httpd was stopped)",
                 h->object, h->path, (long)h->object_uid, (int)parent, puid);
        return SB_SHM_ENOTRUST;
    }
    m = maps_object(parent, h->object_dev, h->object_ino);
    if (m == 0) {
        snprintf(h->err, sizeof(h->err), "httpd's parent %d does not map the scoreboard "
                 "object %s of %s: it is not that httpd's scoreboard; not trusted",
                 (int)parent, h->object, h->path);
        return SB_SHM_ENOTRUST;
    }
    h->parent = parent;
    h->parent_start = sb_httpd_start_time(parent);
    h->parent_maps_checked = m == 1;
    return APR_SUCCESS;
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

/* The usable size h->size holds at least the global record. */
static apr_status_t check_size(sb_shm_t *h)
{
    if (h->size < SIZE_GLOBAL) {
        snprintf(h->err, sizeof(h->err),
                 "segment of %s has %lu bytes, too small for a scoreboard (at least "
                 "%lu); is this an httpd ScoreBoardFile?",
                 h->path, (unsigned long)h->size, (unsigned long)SIZE_GLOBAL);
        return SB_SHM_EBADSIZE;
    }
    return APR_SUCCESS;
}

/* The limits of the global record gs are httpd's, and h->size is what
 * they need with this build's layout; sets h->server_limit and
 * h->thread_limit.  Returns APR_SUCCESS or SB_SHM_EBADSIZE (h->err). */
static apr_status_t check_layout(sb_shm_t *h, const global_score *gs)
{
    apr_size_t expect;

    h->server_limit = gs->server_limit;
    h->thread_limit = gs->thread_limit;
    if (h->server_limit < 1 || h->server_limit > SB_MAX_SERVER_LIMIT
        || h->thread_limit < 1 || h->thread_limit > SB_MAX_THREAD_LIMIT) {
        snprintf(h->err, sizeof(h->err),
                 "segment of %s is not an httpd 2.4 scoreboard: server_limit %d, "
                 "thread_limit %d are out of range",
                 h->path, h->server_limit, h->thread_limit);
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
        return SB_SHM_EBADSIZE;
    }
    return APR_SUCCESS;
}

static apr_status_t attach(sb_shm_t *h)
{
    uint64_t header;
    struct stat st;
    apr_status_t rv;

    apr_pool_clear(h->attach_pool);
    detach(h);
    h->copy = NULL;

    /* read-only, and never through a symlink: reading needs read
     * permission only, and nothing here can write the scoreboard */
    h->fd = open(h->object, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
    if (h->fd < 0) {
        int e = errno;
        if (e == ENOENT) {
            snprintf(h->err, sizeof(h->err),
                     "no scoreboard segment for %s: httpd is not running, or its "
                     "ScoreBoardFile is not this path (without ScoreBoardFile the "
                     "scoreboard is anonymous memory no other process can read: add "
                     "'ScoreBoardFile %s' to httpd's configuration, then stop and "
                     "start httpd, a graceful or full restart is not enough)",
                     h->path, h->path);
            return APR_ENOENT;
        }
        if (e == EACCES || e == EPERM) {
            snprintf(h->err, sizeof(h->err),
                     "permission denied reading the scoreboard of %s (%s): the object "
                     "belongs to the user httpd starts as (mode from its umask, 0600 "
                     "for root); run as that user or as root, or keep "
                     "CAP_DAC_READ_SEARCH (sbtune opens it read-only)",
                     h->path, h->object);
            return APR_EACCES;
        }
        snprintf(h->err, sizeof(h->err), "cannot open the scoreboard object %s of %s: %s%s",
                 h->object, h->path, strerror(e),
                 e == ELOOP ? " (a symlink: not followed)" : "");
        return APR_FROM_OS_ERROR(e);
    }
    if (fstat(h->fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        snprintf(h->err, sizeof(h->err), "the scoreboard object %s of %s is not a regular "
                 "shared memory object; not trusted", h->object, h->path);
        detach(h);
        return SB_SHM_ENOTRUST;
    }
    h->object_dev = st.st_dev;
    h->object_ino = st.st_ino;
    h->object_uid = st.st_uid;
    if (st.st_mode & S_IWOTH) {
        snprintf(h->err, sizeof(h->err), "the scoreboard object %s of %s is writable by "
                 "every user (mode %04o): anyone could forge it; not trusted",
                 h->object, h->path, (unsigned)(st.st_mode & 07777));
        detach(h);
        return SB_SHM_ENOTRUST;
    }
    if ((apr_size_t)st.st_size < SB_APR_HEADER
        || pread(h->fd, &header, sizeof(header), 0) != (ssize_t)sizeof(header)) {
        snprintf(h->err, sizeof(h->err),
                 "segment of %s (%s) has %ld bytes, too small for a scoreboard (at least "
                 "%lu); is this an httpd ScoreBoardFile?",
                 h->path, h->object, (long)st.st_size,
                 (unsigned long)(SB_APR_HEADER + SIZE_GLOBAL));
        detach(h);
        return SB_SHM_EBADSIZE;
    }
    /* the header holds the object's whole size, itself included */
    if (header < SB_APR_HEADER || (uint64_t)st.st_size < header) {
        snprintf(h->err, sizeof(h->err),
                 "scoreboard of %s is truncated: %s holds %ld bytes, its header "
                 "claims %llu",
                 h->path, h->object, (long)st.st_size, (unsigned long long)header);
        detach(h);
        return SB_SHM_EBADSIZE;
    }
    h->size = (apr_size_t)(header - SB_APR_HEADER);
    if ((rv = check_size(h)) != APR_SUCCESS) {
        detach(h);
        return rv;
    }
    {
        global_score gs;
        if (read_area(h, &gs, sizeof(gs), 0) != 0) {
            detach(h);
            return SB_SHM_EBADSIZE;
        }
        if ((rv = check_layout(h, &gs)) != APR_SUCCESS) {
            detach(h);
            return rv;
        }
    }
    h->copy = apr_palloc(h->attach_pool,
                         SIZE_GLOBAL + SIZE_PROCESS * (apr_size_t)h->server_limit);
    if (read_area(h, h->copy, SIZE_GLOBAL + SIZE_PROCESS * (apr_size_t)h->server_limit, 0)
        != 0) {
        detach(h);
        return SB_SHM_EBADSIZE;
    }
    if ((rv = trust(h)) != APR_SUCCESS) {
        detach(h);
        return rv;
    }
    if ((rv = map_object(h)) != APR_SUCCESS) {
        detach(h);
        return rv;
    }
    identify_server(h, (const process_score *)(h->copy + SIZE_GLOBAL));
    h->err[0] = '\0';
    return APR_SUCCESS;
}

apr_status_t sb_shm_open(sb_shm_t **out, const char *path, apr_pool_t *p)
{
    sb_shm_t *h = apr_pcalloc(p, sizeof(*h));
    char *abs = NULL;

    *out = h;
    h->pool = p;
    h->fd = -1;
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
    object_name(h->path, h->object, sizeof(h->object));
    h->last_generation = -1;
    return attach(h);
}

/* 1 when the object we opened was unlinked or replaced since.  httpd
 * unlinks its object before it makes a new one (and a rename over the name
 * unlinks ours too), so our descriptor's link count tells, without a path
 * lookup per sample; the name itself is looked up when the object has
 * another link, and every 64th sample. */
static int segment_replaced(const sb_shm_t *h, const struct stat *fst)
{
    struct stat st;

    if (fst->st_nlink == 0) {
        return 1;
    }
    if (fst->st_nlink == 1 && (h->nsamples & 63) != 0) {
        return 0;
    }
    if (stat(h->object, &st) != 0) {
        return 1;
    }
    return st.st_ino != h->object_ino || st.st_dev != h->object_dev;
}

/* Copy the char array field src, which httpd does not NUL-terminate when
 * it is full, into the array dst as a string: all of it (or as much as dst
 * holds) in one copy of a constant size, no scan for its NUL, then a NUL
 * at the end; a shorter string ends at its own NUL as before. */
#define COPY_FIELD(dst, src) \
    do { \
        enum { n_ = sizeof(src) < sizeof(dst) - 1 ? sizeof(src) : sizeof(dst) - 1 }; \
        memcpy((dst), (src), n_); \
        (dst)[n_] = '\0'; \
    } while (0)

/* What a decode sums over every slot: mod_status counts the counters of
 * dead slots too. */
typedef struct {
    uint64_t accesses, bytes, duration_ms;
    int live, stamped;
} sb_totals_t;

/* One worker record at rec into w.  rec may be the live mapping, which
 * httpd writes meanwhile: every field is read once (the state through a
 * volatile read, since it indexes tables), and the strings, which httpd
 * does not NUL-terminate, are copied bounded. */
static inline void decode_worker(sb_worker_t *w, const char *rec, int i, int j,
                                 pid_t ppid, sb_totals_t *t)
{
    const worker_score *ws = (const worker_score *)rec;
    unsigned int st = ((const volatile worker_score *)ws)->status;
    pid_t pid = ws->pid;

    w->proc = i;
    w->thread = j;
    w->pid = pid ? pid : ppid;
    w->generation = ws->generation;
    w->state = st < SB_SLOT_NSTATES ? (sb_slot_state_t)st : SB_SLOT_NSTATES;
    w->access_count = ws->access_count;
    w->my_access_count = ws->my_access_count;
    w->conn_count = ws->conn_count;
    w->bytes_served = ws->bytes_served;
    w->conn_bytes = ws->conn_bytes;
    w->last_used = ws->last_used;
    w->start_time = ws->start_time;
    w->stop_time = ws->stop_time;
    w->duration = ws->duration;
    t->accesses += w->access_count;
    t->bytes += (uint64_t)w->bytes_served;
    t->duration_ms += (uint64_t)(w->duration / 1000);
    /* An open slot's strings are left out: nothing shows them, and with
     * large ServerLimit x ThreadLimit most slots are open (their cache
     * lines are then never read). */
    if (w->state == SB_SLOT_DEAD) {
        w->client[0] = w->vhost[0] = w->request[0] = w->protocol[0] = '\0';
        return;
    }
    if (w->state != SB_SLOT_STARTING) {
        t->live++;
        t->stamped += w->last_used != 0;
    }
    if (ws->client64[0]) {
        COPY_FIELD(w->client, ws->client64);
    }
    else {
        COPY_FIELD(w->client, ws->client);
    }
    COPY_FIELD(w->vhost, ws->vhost);
    COPY_FIELD(w->request, ws->request);
    COPY_FIELD(w->protocol, ws->protocol);
}

/* One process record at rec into sp (each field read once; no copy to
 * the stack first: reading back a copy just made stalls on the store). */
static inline void decode_process(sb_process_t *sp, const char *rec, int i)
{
    const process_score *ps = (const process_score *)rec;

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
}

/* Decode the usable area at area (a copy, or the mapping under the guard)
 * into s, in one pass over the records without copying them first. */
static void decode(const sb_shm_t *h, const char *area, sb_sample_t *s)
{
    const global_score *g = (const global_score *)area;
    const char *pbase = area + SIZE_GLOBAL;
    const char *wbase = pbase + SIZE_PROCESS * (apr_size_t)h->server_limit;
    apr_time_t restart = g->restart_time;
    sb_totals_t t;
    int i, j;

    memset(&t, 0, sizeof(t));
    memset(s->slots, 0, sizeof(s->slots));  /* counted while decoding */
    s->busy = s->idle = s->graceful_busy = 0;
    s->source = SB_SOURCE_SHM;
    apr_cpystrn(s->server.version, h->version, sizeof(s->server.version));
    apr_cpystrn(s->server.mpm, h->mpm, sizeof(s->server.mpm));
    sb_mpm_parse(s->server.mpm, &s->server.mpm_id);
    s->server.generation = g->running_generation;
    s->server.restart_time = restart;
    s->server.uptime_s = restart > 0 ? (int64_t)apr_time_sec(s->ts - restart) : SB_UNKNOWN;
    s->server.server_limit = h->server_limit;
    s->server.thread_limit = h->thread_limit;

    for (i = 0; i < h->server_limit; i++) {
        const char *row = wbase + SIZE_WORKER * (apr_size_t)i * (apr_size_t)h->thread_limit;
        sb_worker_t *w = &s->workers[(apr_size_t)i * (apr_size_t)h->thread_limit];
        pid_t ppid;

        decode_process(&s->procs[i], pbase + SIZE_PROCESS * (apr_size_t)i, i);
        ppid = s->procs[i].pid;
        for (j = 0; j < h->thread_limit; j++) {
            decode_worker(&w[j], row + SIZE_WORKER * (apr_size_t)j, i, j, ppid, &t);
            sb_sample_count_one(s, w[j].state, &s->procs[i]);
        }
    }
    s->total_accesses = t.accesses;
    s->total_kbytes = t.bytes / 1024;
    s->total_duration_ms = t.duration_ms;
    s->has_totals = 1;
    /* With ExtendedStatus On httpd stamps last_used whenever a slot becomes
     * ready; with it Off it never does, and no counter moves. */
    s->extended_status = t.live == 0 ? SB_UNKNOWN : t.stamped > 0;
}

/* A new sample from p, its arrays not yet filled. */
static sb_sample_t *new_sample(const sb_shm_t *h, apr_pool_t *p)
{
    sb_sample_t *s = sb_sample_create(p);

    s->ts = apr_time_now();
    sb_sample_alloc_uninit(s, p, h->server_limit * h->thread_limit, h->server_limit);
    return s;
}

apr_status_t sb_shm_decode_buffer(const void *buf, apr_size_t len, apr_pool_t *p,
                                  sb_sample_t **out, char *err, apr_size_t errlen)
{
    sb_shm_t h;
    char name[] = "(buffer)";
    apr_status_t rv;

    *out = NULL;
    memset(&h, 0, sizeof(h));
    h.fd = -1;
    h.path = name;
    apr_cpystrn(h.object, name, sizeof(h.object));
    h.size = len;
    if ((rv = check_size(&h)) == APR_SUCCESS) {
        global_score gs;
        memcpy(&gs, buf, sizeof(gs));
        rv = check_layout(&h, &gs);
    }
    if (rv != APR_SUCCESS) {
        apr_cpystrn(err, h.err, errlen);
        return rv;
    }
    /* decoded from an aligned copy of exactly the area (buf may be
     * unaligned), by the decode a sample uses */
    if (!(h.copy = malloc(len))) {
        apr_cpystrn(err, "out of memory copying the scoreboard", errlen);
        return APR_ENOMEM;
    }
    memcpy(h.copy, buf, len);
    *out = new_sample(&h, p);
    decode(&h, h.copy, *out);
    free(h.copy);
    return APR_SUCCESS;
}

/* Decode the mapping into s under the SIGBUS guard, after the check that
 * httpd's parent is alive.  A fault inside the mapping (the object was
 * truncated after the fstat() check) is SB_SHM_EBADSIZE and detaches. */
static apr_status_t guarded_decode(sb_shm_t *h, sb_sample_t *s)
{
    sb_guard_t g;
    const char *area = h->map + SB_APR_HEADER;

    g.lo = h->map;
    g.hi = h->map + h->map_len;
    if (sigsetjmp(g.jb, 0) != 0) {
        truncated_msg(h);
        detach(h);
        return SB_SHM_EBADSIZE;
    }
    sb_guard = &g;
    __asm__ volatile("" : : : "memory");    /* no read of the mapping before this */
    /* httpd's parent gone (kill -9, a crash): the segment outlives it; the
     * children it left may still finish their requests */
    if (!parent_same(h)) {
        int alive;
        pid_t np = live_parent(h, area, &alive);
        if (!alive || np <= 1) {
            __asm__ volatile("" : : : "memory");
            sb_guard = NULL;
            snprintf(h->err, sizeof(h->err), "httpd is not running: its parent %d is gone "
                     "and %s (the scoreboard %s of %s outlived it)", (int)h->parent,
                     alive ? "its children are orphans" : "no process the scoreboard names "
                     "is alive", h->object, h->path);
            h->dead = 1;
            return SB_SHM_EDEAD;
        }
    }
    decode(h, area, s);
    __asm__ volatile("" : : : "memory");    /* ... nor after this */
    sb_guard = NULL;
    h->dead = 0;
    return APR_SUCCESS;
}

apr_status_t sb_shm_sample(sb_shm_t *h, apr_pool_t *p, sb_sample_t **out)
{
    sb_sample_t *s;
    struct stat fst;
    int attached_now = 0;
    apr_status_t rv;

    *out = NULL;
    h->events = 0;
    if (h->fd >= 0 && fstat(h->fd, &fst) != 0) {
        snprintf(h->err, sizeof(h->err), "cannot stat the scoreboard object %s of %s: %s",
                 h->object, h->path, strerror(errno));
        detach(h);
        return SB_SHM_EBADSIZE;
    }
    if (h->fd >= 0 && segment_replaced(h, &fst)) {
        detach(h);
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
        attached_now = 1;
    }
    else if (h->fd < 0) {
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
        attached_now = 1;
    }

    /* the size before each sample: a truncated object is an error here,
     * and only one truncated between this and the decode faults (caught);
     * a new attachment was just checked */
    if (!attached_now && (apr_size_t)fst.st_size < h->map_len) {
        truncated_msg(h);
        detach(h);
        return SB_SHM_EBADSIZE;
    }
    s = new_sample(h, p);
    if (sb_before_decode) {
        sb_before_decode(h->fd);
    }
    if ((rv = guarded_decode(h, s)) != APR_SUCCESS) {
        return rv;
    }

    if (h->nsamples > 0 && !(h->events & SB_SHM_EV_REATTACHED)) {
        if (s->server.generation != h->last_generation) {
            h->events |= SB_SHM_EV_GENERATION;
        }
        if (s->server.restart_time != h->last_restart) {
            h->events |= SB_SHM_EV_RESTARTED;
            h->restart_seen = s->ts;
        }
        /* a full restart stamps restart_time (pre_mpm) before the MPM sets
         * the new generation, with the configuration's post_config hooks in
         * between: a sample between the two sees the restart first and the
         * generation next.  That generation belongs to the same restart. */
        else if ((h->events & SB_SHM_EV_GENERATION) && h->restart_seen > 0
                 && s->ts - h->restart_seen < apr_time_from_sec(2)) {
            h->events &= ~SB_SHM_EV_GENERATION;
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
    if (h) {
        detach(h);
    }
}
