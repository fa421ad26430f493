/*
 * sbtune_apply.c - the snippet writer and the safe apply procedure
 * (contracts and the procedure's steps in sbtune_apply.h).
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <apr_strings.h>
#include <apr_tables.h>
#include <curl/curl.h>

#include "sb_history.h"
#include "sb_shm.h"
#include "sb_status.h"
#include "sbtune_apply.h"

#define POLL_MS 50
#define CTL_TIMEOUT_S 120.0

/* ------------------------------------------------------------------ small helpers */

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void sleep_ms(long ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

    while (nanosleep(&ts, &ts) == -1 && errno == EINTR) {
    }
}

static const char *mpm_name(int mpm)
{
    switch (mpm) {
    case SB_MODEL_PREFORK: return "prefork";
    case SB_MODEL_WORKER: return "worker";
    case SB_MODEL_EVENT: return "event";
    default: return "unknown";
    }
}

static int mpm_from_name(const char *s)
{
    if (s == NULL) {
        return -1;
    }
    if (strcasecmp(s, "prefork") == 0) {
        return SB_MODEL_PREFORK;
    }
    if (strcasecmp(s, "worker") == 0) {
        return SB_MODEL_WORKER;
    }
    if (strcasecmp(s, "event") == 0) {
        return SB_MODEL_EVENT;
    }
    return -1;
}

const char *sbtune_apply_exit_name(int code)
{
    switch (code) {
    case SBTUNE_APPLY_NOCHANGE: return "no change";
    case SBTUNE_APPLY_ERROR: return "error";
    case SBTUNE_APPLY_USAGE: return "usage";
    case SBTUNE_APPLY_SOURCE: return "source unavailable";
    case SBTUNE_APPLY_CHANGED: return "changed";
    case SBTUNE_APPLY_RECOMMEND: return "recommendation only";
    case SBTUNE_APPLY_LOCKED: return "locked";
    case SBTUNE_APPLY_REFUSED: return "refused";
    case SBTUNE_APPLY_ROLLED_BACK: return "rolled back";
    case SBTUNE_APPLY_ROLLBACK_FAILED: return "rollback failed";
    default: return "unknown";
    }
}


/* ------------------------------------------------------------------ snippet file */

struct sbtune_snippet {
    apr_pool_t *pool;
    const char *path;
    const char *dir;
    const char *base;
    char *prev;                 /* NULL: there was no file */
    apr_size_t prev_len;
    mode_t mode;
    uid_t uid;
    gid_t gid;
    char error[1024];
};

static apr_status_t snip_fail(sbtune_snippet_t *s, apr_status_t rv, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static apr_status_t snip_fail(sbtune_snippet_t *s, apr_status_t rv, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(s->error, sizeof(s->error), fmt, ap);
    va_end(ap);
    return rv;
}

const char *sbtune_snippet_path(const sbtune_snippet_t *s)
{
    return s->path;
}

const char *sbtune_snippet_error(const sbtune_snippet_t *s)
{
    return s->error;
}

const char *sbtune_snippet_previous(const sbtune_snippet_t *s, apr_size_t *len)
{
    if (len) {
        *len = s->prev_len;
    }
    return s->prev;
}

apr_status_t sbtune_snippet_open(sbtune_snippet_t **out, const char *path, apr_pool_t *p)
{
    sbtune_snippet_t *s = apr_pcalloc(p, sizeof(*s));
    struct stat st, dst;
    const char *slash;
    int fd;
    apr_size_t cap, n;
    ssize_t r;

    *out = s;
    s->pool = p;
    s->path = apr_pstrdup(p, path ? path : "");
    s->mode = 0644;
    s->uid = (uid_t)-1;
    s->gid = (gid_t)-1;
    if (path == NULL || *path != '/') {
        return snip_fail(s, APR_EINVAL, "snippet path '%s' must be absolute", s->path);
    }
    slash = strrchr(s->path, '/');
    s->base = slash + 1;
    s->dir = slash == s->path ? "/" : apr_pstrmemdup(p, s->path, (apr_size_t)(slash - s->path));
    if (*s->base == '\0') {
        return snip_fail(s, APR_EINVAL, "snippet path '%s' names a directory", s->path);
    }
    if (stat(s->dir, &dst) != 0) {
        return snip_fail(s, errno == ENOENT ? APR_ENOENT : APR_FROM_OS_ERROR(errno),
                         "snippet directory %s: %s", s->dir, strerror(errno));
    }
    if (!S_ISDIR(dst.st_mode)) {
        return snip_fail(s, APR_EINVAL, "%s is not a directory", s->dir);
    }
    if (dst.st_mode & (S_IWGRP | S_IWOTH)) {
        return snip_fail(s, APR_EINVAL,
                         "refusing %s: its directory %s (mode %04o) is writable by %s%s; "
                         "others could replace the snippet or plant the temp, backup or lock "
                         "file beside it.  Use a directory only root (or you) can write",
                         s->path, s->dir, (unsigned)(dst.st_mode & 07777),
                         (dst.st_mode & S_IWOTH) ? "others" : "its group",
                         (dst.st_mode & S_ISVTX) ? " (the sticky bit does not stop new files)" : "");
    }
    if (dst.st_uid != 0 && dst.st_uid != geteuid()) {
        return snip_fail(s, APR_EINVAL,
                         "refusing %s: its directory %s belongs to uid %ld, who could replace "
                         "the snippet; use a directory owned by root or by you",
                         s->path, s->dir, (long)dst.st_uid);
    }
    if (lstat(s->path, &st) != 0) {
        if (errno == ENOENT) {
            return APR_SUCCESS;
        }
        return snip_fail(s, APR_FROM_OS_ERROR(errno), "%s: %s", s->path, strerror(errno));
    }
    if (S_ISLNK(st.st_mode)) {
        return snip_fail(s, APR_EINVAL,
                         "refusing %s: it is a symbolic link; sbtune writes a plain file in "
                         "place (point httpd's Include at the real path)", s->path);
    }
    if (!S_ISREG(st.st_mode)) {
        return snip_fail(s, APR_EINVAL, "refusing %s: not a regular file", s->path);
    }
    s->mode = st.st_mode & 07777;
    s->uid = st.st_uid;
    s->gid = st.st_gid;
    fd = open(s->path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
        return snip_fail(s, APR_FROM_OS_ERROR(errno), "cannot read %s: %s", s->path,
                         strerror(errno));
    }
    cap = (apr_size_t)st.st_size + 1;
    if (cap > 4u << 20) {
        close(fd);
        return snip_fail(s, APR_EINVAL, "refusing %s: %ld bytes is not a snippet", s->path,
                         (long)st.st_size);
    }
    s->prev = apr_palloc(p, cap + 1);
    n = 0;
    for (;;) {
        if (n == cap) {
            char *bigger = apr_palloc(p, cap * 2 + 1);

            memcpy(bigger, s->prev, n);
            s->prev = bigger;
            cap *= 2;
        }
        r = read(fd, s->prev + n, cap - n);
        if (r < 0 && errno == EINTR) {
            continue;
        }
        if (r < 0) {
            int e = errno;

            close(fd);
            s->prev = NULL;
            return snip_fail(s, APR_FROM_OS_ERROR(e), "cannot read %s: %s", s->path, strerror(e));
        }
        if (r == 0) {
            break;
        }
        n += (apr_size_t)r;
    }
    close(fd);
    s->prev[n] = '\0';
    s->prev_len = n;
    return APR_SUCCESS;
}

static int fsync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int rc;

    if (fd < 0) {
        return -1;
    }
    rc = fsync(fd);
    close(fd);
    return rc;
}

/* Write len bytes to a new temp file beside target (the old file's mode
 * and owner), fsync it; *tmp names it.  On failure nothing is left. */
static apr_status_t write_temp(sbtune_snippet_t *s, const char *target, const char *data,
                               apr_size_t len, char **tmpp)
{
    char *tmp = apr_psprintf(s->pool, "%s.sbtune-tmp.XXXXXX", target);
    int fd, e;
    apr_size_t off = 0;
    ssize_t w;

    *tmpp = NULL;
    fd = mkostemp(tmp, O_CLOEXEC);
    if (fd < 0) {
        e = errno;
        return snip_fail(s, APR_FROM_OS_ERROR(e), "cannot create a temp file beside %s: %s; "
                         "%s is unchanged", target, strerror(e), target);
    }
    if (fchmod(fd, s->mode) != 0) {
        e = errno;
        goto fail;
    }
    if (s->uid != (uid_t)-1 && geteuid() == 0 && fchown(fd, s->uid, s->gid) != 0) {
        e = errno;
        goto fail;
    }
    while (off < len) {
        w = write(fd, data + off, len - off);
        if (w < 0 && errno == EINTR) {
            continue;
        }
        if (w < 0) {
            e = errno;
            goto fail;
        }
        off += (apr_size_t)w;
    }
    if (fsync(fd) != 0) {
        e = errno;
        goto fail;
    }
    if (close(fd) != 0) {
        e = errno;
        fd = -1;
        goto fail;
    }
    *tmpp = tmp;
    return APR_SUCCESS;

fail:
    if (fd >= 0) {
        close(fd);
    }
    unlink(tmp);
    return snip_fail(s, APR_FROM_OS_ERROR(e), "cannot write %s (through %s): %s; %s is unchanged",
                     target, tmp, strerror(e), target);
}

/* rename() the temp file over target, then fsync the directory. */
static apr_status_t commit_temp(sbtune_snippet_t *s, char *tmp, const char *target)
{
    int e;

    if (rename(tmp, target) != 0) {
        e = errno;
        unlink(tmp);
        return snip_fail(s, APR_FROM_OS_ERROR(e), "cannot rename %s to %s: %s; %s is unchanged",
                         tmp, target, strerror(e), target);
    }
    /* a failed directory fsync leaves the new content in place, only its
     * durability across a crash in doubt */
    fsync_dir(s->dir);
    return APR_SUCCESS;
}

static apr_status_t atomic_write(sbtune_snippet_t *s, const char *target, const char *data,
                                 apr_size_t len)
{
    char *tmp;
    apr_status_t rv = write_temp(s, target, data, len, &tmp);

    return rv == APR_SUCCESS ? commit_temp(s, tmp, target) : rv;
}

apr_status_t sbtune_snippet_write(sbtune_snippet_t *s, const char *text, apr_size_t len)
{
    char *tmp;
    apr_status_t rv;

    rv = write_temp(s, s->path, text, len, &tmp);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    if (s->prev != NULL) {
        rv = atomic_write(s, apr_pstrcat(s->pool, s->path, ".sbtune-prev", NULL), s->prev,
                          s->prev_len);
        if (rv != APR_SUCCESS) {
            unlink(tmp);
            return rv;
        }
    }
    return commit_temp(s, tmp, s->path);
}

apr_status_t sbtune_snippet_restore(sbtune_snippet_t *s)
{
    if (s->prev == NULL) {
        if (unlink(s->path) != 0 && errno != ENOENT) {
            return snip_fail(s, APR_FROM_OS_ERROR(errno), "cannot remove %s: %s", s->path,
                             strerror(errno));
        }
        fsync_dir(s->dir);
        return APR_SUCCESS;
    }
    return atomic_write(s, s->path, s->prev, s->prev_len);
}

/* ------------------------------------------------------------------ lock */

apr_status_t sbtune_lock_acquire(const char *path, double wait_s, int *fdp,
                                 char *err, apr_size_t errlen)
{
    int fd, e;
    double deadline = now_s() + (wait_s > 0 ? wait_s : 0);
    char buf[32];
    ssize_t n;

    *fdp = -1;
    fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) {
        e = errno;
        snprintf(err, errlen, "cannot open lock file %s: %s%s", path, strerror(e),
                 e == ELOOP ? " (a symbolic link: refused)" : "");
        return APR_FROM_OS_ERROR(e);
    }
    for (;;) {
        if (flock(fd, LOCK_EX | LOCK_NB) == 0) {
            break;
        }
        if (errno != EWOULDBLOCK && errno != EINTR) {
            e = errno;
            close(fd);
            snprintf(err, errlen, "cannot lock %s: %s", path, strerror(e));
            return APR_FROM_OS_ERROR(e);
        }
        if (now_s() >= deadline) {
            n = pread(fd, buf, sizeof(buf) - 1, 0);
            buf[n > 0 ? n : 0] = '\0';
            buf[strcspn(buf, "\n")] = '\0';
            snprintf(err, errlen, "another sbtune run holds the lock %s%s%s%s", path,
                     *buf ? " (pid " : "", buf, *buf ? ")" : "");
            if (wait_s > 0) {
                apr_size_t l = strlen(err);

                snprintf(err + l, errlen - l, " after waiting %.0f s", wait_s);
            }
            close(fd);
            return APR_EBUSY;
        }
        sleep_ms(100);
    }
    n = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());
    if (ftruncate(fd, 0) == 0 && pwrite(fd, buf, (size_t)n, 0) < 0) {
        /* the pid is informative only */
    }
    *fdp = fd;
    return APR_SUCCESS;
}

void sbtune_lock_release(int fd)
{
    if (fd >= 0) {
        if (ftruncate(fd, 0) != 0) {
            /* informative content only */
        }
        flock(fd, LOCK_UN);
        close(fd);
    }
}

/* ------------------------------------------------------------------ apachectl */

typedef struct {
    int status;                 /* exit status; -1 not run; 128 + signal */
    char *out;
    char *err;
    const char *cmdline;
} ctl_result_t;

/* Split a command line on blanks; '...' and "..." group (no escapes in
 * '...', backslash escapes in "..." and bare words). */
static int split_cmd(const char *cmd, apr_array_header_t *argv, apr_pool_t *p)
{
    const char *s = cmd;
    char *w = apr_palloc(p, strlen(cmd) + 1);
    apr_size_t n;
    int any;

    while (*s) {
        while (*s == ' ' || *s == '\t') {
            s++;
        }
        if (*s == '\0') {
            break;
        }
        n = 0;
        any = 0;
        while (*s && *s != ' ' && *s != '\t') {
            if (*s == '\'') {
                const char *e = strchr(s + 1, '\'');

                if (e == NULL) {
                    return -1;
                }
                memcpy(w + n, s + 1, (apr_size_t)(e - s - 1));
                n += (apr_size_t)(e - s - 1);
                s = e + 1;
            }
            else if (*s == '"') {
                s++;
                while (*s && *s != '"') {
                    if (*s == '\\' && s[1]) {
                        s++;
                    }
                    w[n++] = *s++;
                }
                if (*s != '"') {
                    return -1;
                }
                s++;
            }
            else {
                if (*s == '\\' && s[1]) {
                    s++;
                }
                w[n++] = *s++;
            }
            any = 1;
        }
        if (any) {
            APR_ARRAY_PUSH(argv, const char *) = apr_pstrmemdup(p, w, n);
        }
    }
    return argv->nelts > 0 ? 0 : -1;
}

static char *read_all(FILE *f, apr_pool_t *p)
{
    long len;
    char *buf;
    size_t n;

    fflush(f);
    if (fseek(f, 0, SEEK_END) != 0 || (len = ftell(f)) < 0) {
        return apr_pstrdup(p, "");
    }
    if (len > 1 << 20) {
        len = 1 << 20;
    }
    rewind(f);
    buf = apr_palloc(p, (apr_size_t)len + 1);
    n = fread(buf, 1, (size_t)len, f);
    buf[n] = '\0';
    return buf;
}

static void close_fds_from(int lowfd)
{
    long max = sysconf(_SC_OPEN_MAX);
    int fd;

    if (max < 0 || max > 65536) {
        max = 65536;
    }
    for (fd = lowfd; fd < max; fd++) {
        close(fd);
    }
}

/* Run argv, capturing stdout and stderr (to temp files, not pipes: a
 * daemon started by -k start must not hold our end open). */
static void run_argv(const apr_array_header_t *argv, ctl_result_t *r, apr_pool_t *p)
{
    FILE *fo = tmpfile(), *fe = tmpfile();
    const char **args = apr_pcalloc(p, sizeof(char *) * ((apr_size_t)argv->nelts + 1));
    double deadline = now_s() + CTL_TIMEOUT_S;
    pid_t pid;
    int i, st;
    const char *cmdline = "";

    for (i = 0; i < argv->nelts; i++) {
        args[i] = APR_ARRAY_IDX(argv, i, const char *);
        cmdline = apr_pstrcat(p, cmdline, i ? " " : "", args[i], NULL);
    }
    r->cmdline = cmdline;
    r->status = -1;
    r->out = r->err = apr_pstrdup(p, "");
    if (fo == NULL || fe == NULL) {
        r->err = apr_psprintf(p, "cannot create temp files: %s", strerror(errno));
        goto done;
    }
    fflush(stdout);
    fflush(stderr);
    pid = fork();
    if (pid < 0) {
        r->err = apr_psprintf(p, "fork: %s", strerror(errno));
        goto done;
    }
    if (pid == 0) {
        int devnull = open("/dev/null", O_RDONLY);

        if (devnull >= 0) {
            dup2(devnull, 0);
        }
        dup2(fileno(fo), 1);
        dup2(fileno(fe), 2);
        close_fds_from(3);
        signal(SIGPIPE, SIG_DFL);
        execvp(args[0], (char *const *)args);
        fprintf(stderr, "cannot run %s: %s\n", args[0], strerror(errno));
        _exit(127);
    }
    for (;;) {
        pid_t w = waitpid(pid, &st, WNOHANG);

        if (w == pid) {
            break;
        }
        if (w < 0 && errno != EINTR) {
            st = -1;
            break;
        }
        if (now_s() > deadline) {
            kill(pid, SIGKILL);
            waitpid(pid, &st, 0);
            break;
        }
        sleep_ms(10);
    }
    if (st == -1) {
        r->status = -1;
    }
    else if (WIFEXITED(st)) {
        r->status = WEXITSTATUS(st);
    }
    else {
        r->status = 128 + (WIFSIGNALED(st) ? WTERMSIG(st) : 0);
    }
    r->out = read_all(fo, p);
    r->err = read_all(fe, p);
done:
    if (fo) {
        fclose(fo);
    }
    if (fe) {
        fclose(fe);
    }
}

/* ------------------------------------------------------------------ the procedure */

typedef struct {
    int ok;                     /* at least one source answered */
    int gen;                    /* -1 unknown */
    int server_limit, thread_limit; /* scoreboard; -1 unknown */
    int sb_len;                 /* mod_status Scoreboard length; -1 unknown */
    char *sb_line;
    char mpm[16];
    char version[64];
    int shm_gone;               /* scoreboard segment removed */
    int nprocs;                 /* scoreboard process slots below */
    int *proc_old;              /* 1: a live process of an older generation */
    int status_down;            /* mod_status did not answer */
    char err[600];
} obs_t;

typedef struct {
    const sbtune_apply_opts_t *o;
    apr_pool_t *pool;
    apr_array_header_t *ctl;    /* the apachectl command, split */
    int verbs;                  /* 1: verbs style */
    sb_shm_t *shm;
    sb_status_opts_t sopts;
    char *report;
    char *error;
    sbtune_snippet_t *snip;
    sb_directives_t prevd;  /* directives in the previous snippet */
    int mpm;
    int minor;
    pid_t httpd_pid;            /* from PidFile, 0 unknown */
    int ka_before;              /* the status URL's keep-alive before: 1, 0, -1 unknown */
    const char *pidfile;
} ctx_t;

static void say(ctx_t *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void say(ctx_t *c, const char *fmt, ...)
{
    va_list ap;
    char *line;

    va_start(ap, fmt);
    line = apr_pvsprintf(c->pool, fmt, ap);
    va_end(ap);
    c->report = apr_pstrcat(c->pool, c->report, line, "\n", NULL);
}

static void set_error(ctx_t *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void set_error(ctx_t *c, const char *fmt, ...)
{
    va_list ap;
    char *msg;

    va_start(ap, fmt);
    msg = apr_pvsprintf(c->pool, fmt, ap);
    va_end(ap);
    c->error = c->error ? apr_pstrcat(c->pool, c->error, "\n", msg, NULL) : msg;
}

/* Indented tail of a command's output for messages (last 12 lines). */
static const char *tail_text(const ctl_result_t *r, apr_pool_t *p)
{
    const char *all = apr_pstrcat(p, r->err, (*r->err && *r->out) ? "\n" : "", r->out, NULL);
    const char *s = all + strlen(all);
    int lines = 0;
    char *out = apr_pstrdup(p, "");

    while (s > all && (s[-1] == '\n' || s[-1] == ' ')) {
        s--;
    }
    all = apr_pstrmemdup(p, all, (apr_size_t)(s - all));
    s = all + strlen(all);
    while (s > all && lines < 12) {
        s--;
        if (*s == '\n') {
            lines++;
        }
    }
    if (*s == '\n') {
        s++;
    }
    while (*s) {
        const char *e = strchr(s, '\n');
        apr_size_t n = e ? (apr_size_t)(e - s) : strlen(s);

        out = apr_pstrcat(p, out, "    | ", apr_pstrmemdup(p, s, n), "\n", NULL);
        s += n + (e ? 1 : 0);
    }
    return *out ? apr_pstrndup(p, out, strlen(out) - 1) : "    | (no output)";
}

typedef enum { CTL_CONFIGTEST, CTL_GRACEFUL, CTL_STOP, CTL_START, CTL_INCLUDES,
               CTL_RUN_CFG, CTL_VERSION, CTL_MPM } ctl_action_t;

static void ctl(ctx_t *c, ctl_action_t a, ctl_result_t *r)
{
    apr_array_header_t *argv = apr_array_copy(c->pool, c->ctl);
    static const char *const verbs[] = { "configtest", "graceful", "stop", "start" };
    static const char *const kargs[] = { NULL, "graceful", "stop", "start" };

#define PUSH(s) (APR_ARRAY_PUSH(argv, const char *) = (s))
    switch (a) {
    case CTL_CONFIGTEST:
    case CTL_GRACEFUL:
    case CTL_STOP:
    case CTL_START:
        if (c->verbs) {
            PUSH(verbs[a]);
        }
        else if (a == CTL_CONFIGTEST) {
            PUSH("-t");
        }
        else {
            PUSH("-k");
            PUSH(kargs[a]);
        }
        break;
    case CTL_INCLUDES:
        PUSH("-t");
        PUSH("-D");
        PUSH("DUMP_INCLUDES");
        break;
    case CTL_RUN_CFG:
        PUSH("-t");
        PUSH("-D");
        PUSH("DUMP_RUN_CFG");
        break;
    case CTL_VERSION:
        PUSH("-v");
        break;
    case CTL_MPM:
        PUSH("-V");
        break;
    }
#undef PUSH
    run_argv(argv, r, c->pool);
}

/* One look at httpd through the given sources. */
static void observe(ctx_t *c, obs_t *ob, apr_pool_t *p)
{
    sb_sample_t *smp;
    apr_status_t rv;
    int i;

    memset(ob, 0, sizeof(*ob));
    ob->gen = ob->server_limit = ob->thread_limit = ob->sb_len = -1;
    ob->sb_line = apr_pstrdup(p, "");
    if (c->o->scoreboard) {
        if (c->shm == NULL) {
            rv = sb_shm_open(&c->shm, c->o->scoreboard, c->pool);
            if (rv != APR_SUCCESS) {
                snprintf(ob->err, sizeof(ob->err), "scoreboard: %s", sb_shm_error(c->shm));
                sb_shm_close(c->shm);
                c->shm = NULL;
                ob->shm_gone = 1;
            }
        }
        if (c->shm) {
            rv = sb_shm_sample(c->shm, p, &smp);
            if (rv == APR_SUCCESS) {
                ob->ok = 1;
                ob->gen = smp->server.generation;
                ob->server_limit = smp->server.server_limit;
                ob->thread_limit = smp->server.thread_limit;
                ob->nprocs = smp->nprocs;
                ob->proc_old = apr_pcalloc(p, sizeof(int) * (apr_size_t)(smp->nprocs + 1));
                for (i = 0; i < smp->nprocs; i++) {
                    ob->proc_old[i] = smp->procs[i].pid > 0
                        && smp->procs[i].generation != smp->server.generation;
                }
            }
            else {
                ob->shm_gone = 1;
                snprintf(ob->err, sizeof(ob->err), "scoreboard: %s", sb_shm_error(c->shm));
            }
        }
    }
    if (c->o->status_url) {
        char err[512];

        rv = sb_status_fetch(&c->sopts, p, &smp, NULL, err, sizeof(err));
        if (rv == APR_SUCCESS) {
            ob->ok = 1;
            if (!c->o->scoreboard) {
                ob->gen = smp->server.generation;
            }
            ob->sb_len = smp->nworkers;
            ob->sb_line = apr_palloc(p, (apr_size_t)smp->nworkers + 1);
            for (i = 0; i < smp->nworkers; i++) {
                ob->sb_line[i] = sb_slot_table[smp->workers[i].state].ch;
            }
            ob->sb_line[smp->nworkers] = '\0';
            apr_cpystrn(ob->mpm, smp->server.mpm, sizeof(ob->mpm));
            apr_cpystrn(ob->version, smp->server.version, sizeof(ob->version));
        }
        else {
            ob->status_down = 1;
            snprintf(ob->err + strlen(ob->err), sizeof(ob->err) - strlen(ob->err), "%s%s",
                     *ob->err ? "; " : "", err);
        }
    }
}

/* KeepAlive as the status URL's response headers show it: *on 1/0,
 * *timeout from "Keep-Alive: timeout=N" (-1 absent).  Returns 0 or -1. */
typedef struct {
    int keepalive_hdr;
    int timeout;
    int conn_close;
} ka_hdr_t;

static size_t ka_header_cb(char *buf, size_t size, size_t n, void *baton)
{
    ka_hdr_t *h = baton;
    size_t len = size * n;
    char line[256];
    char *v;

    if (len >= sizeof(line)) {
        return len;
    }
    memcpy(line, buf, len);
    line[len] = '\0';
    if (strncasecmp(line, "Keep-Alive:", 11) == 0) {
        h->keepalive_hdr = 1;
        v = strstr(line, "timeout=");
        if (v) {
            h->timeout = atoi(v + 8);
        }
    }
    else if (strncasecmp(line, "Connection:", 11) == 0 && strcasestr(line, "close")) {
        h->conn_close = 1;
    }
    return len;
}

static size_t discard_cb(char *buf, size_t size, size_t n, void *baton)
{
    return size * n;
}

static int probe_keepalive(ctx_t *c, ka_hdr_t *h)
{
    CURL *curl = curl_easy_init();
    struct curl_slist *hdrs;
    CURLcode rc;
    long code = 0;

    memset(h, 0, sizeof(*h));
    h->timeout = -1;
    if (curl == NULL) {
        return -1;
    }
    curl_easy_setopt(curl, CURLOPT_URL, c->o->status_url);
    curl_easy_setopt(curl, CURLOPT_HTTP_VERSION, CURL_HTTP_VERSION_1_1);
    curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, ka_header_cb);
    curl_easy_setopt(curl, CURLOPT_HEADERDATA, h);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, discard_cb);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, 3000L);
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, 2000L);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_USERAGENT, "sbtune-apply");
    if (c->sopts.ca_file) {
        curl_easy_setopt(curl, CURLOPT_CAINFO, c->sopts.ca_file);
    }
    if (c->sopts.insecure) {
        curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 0L);
        curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 0L);
    }
    /* httpd answers with "Keep-Alive: timeout=N" only to a client that asks */
    hdrs = curl_slist_append(NULL, "Connection: Keep-Alive");
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, hdrs);
    rc = curl_easy_perform(curl);
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &code);
    curl_easy_cleanup(curl);        /* closes the kept-alive connection */
    curl_slist_free_all(hdrs);
    return rc == CURLE_OK && code > 0 ? 0 : -1;
}

/* Included configuration files from -t -D DUMP_INCLUDES: is path (by
 * realpath) among them?  Returns 1 yes, 0 no. */
static int includes_list(const char *out, const char *want_real, const char *also_real)
{
    const char *s = out;
    char real[PATH_MAX];

    while (s && *s) {
        const char *e = strchr(s, '\n');
        const char *par = s;
        char *path;
        apr_size_t n;

        n = e ? (apr_size_t)(e - s) : strlen(s);
        while (par < s + n && (*par == ' ' || *par == '\t')) {
            par++;
        }
        if (*par == '(') {
            par = memchr(par, ')', (apr_size_t)(s + n - par));
            if (par && par[1] == ' ') {
                path = strndup(par + 2, (apr_size_t)(s + n - par - 2));
                if (path) {
                    path[strcspn(path, "\r")] = '\0';
                    if (realpath(path, real) != NULL
                        && ((want_real && strcmp(real, want_real) == 0)
                            || (also_real && strcmp(real, also_real) == 0))) {
                        free(path);
                        return 1;
                    }
                    free(path);
                }
            }
        }
        s = e ? e + 1 : NULL;
    }
    return 0;
}

/* Lines of b (stderr of a configtest) that are not in a and name one of
 * the directives d sets. */
static char *new_directive_warnings(const char *a, const char *b, const sb_directives_t *d,
                                    apr_pool_t *p)
{
    const char *s = b;
    char *acc = apr_pstrdup(p, "");
    int i;

    while (s && *s) {
        const char *e = strchr(s, '\n');
        apr_size_t n = e ? (apr_size_t)(e - s) : strlen(s);
        char *line = apr_pstrmemdup(p, s, n);

        if (n > 0 && strstr(a, line) == NULL) {
            for (i = 0; i < sb_directive_count; i++) {
                if (sb_directive_get(d, i) >= 0
                    && (strstr(line, sb_directive_table[i].name)
                        || (sb_directive_table[i].alias
                            && strstr(line, sb_directive_table[i].alias)))) {
                    acc = apr_pstrcat(p, acc, "    | ", line, "\n", NULL);
                    break;
                }
            }
        }
        s = e ? e + 1 : NULL;
    }
    return acc;
}

static pid_t read_pidfile(const char *path)
{
    FILE *f;
    long pid = 0;

    if (path == NULL || (f = fopen(path, "r")) == NULL) {
        return 0;
    }
    if (fscanf(f, "%ld", &pid) != 1) {
        pid = 0;
    }
    fclose(f);
    return (pid_t)pid;
}

/* The process exists and is not a zombie. */
static int pid_alive(pid_t pid)
{
    char path[64], buf[512];
    FILE *f;
    char *rp;
    int alive = 1;

    if (pid <= 0 || (kill(pid, 0) != 0 && errno == ESRCH)) {
        return 0;
    }
    snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
    if ((f = fopen(path, "r")) == NULL) {
        return errno == ENOENT ? 0 : 1;
    }
    if (fgets(buf, sizeof(buf), f) && (rp = strrchr(buf, ')')) != NULL && rp[1] == ' '
        && (rp[2] == 'Z' || rp[2] == 'X')) {
        alive = 0;
    }
    fclose(f);
    return alive;
}

/* PidFile from -t -D DUMP_RUN_CFG ("PidFile: "/path""). */
static void find_pidfile(ctx_t *c)
{
    ctl_result_t r;
    const char *s;

    ctl(c, CTL_RUN_CFG, &r);
    s = strstr(r.out, "PidFile: ");
    if (r.status != 0 || s == NULL) {
        return;
    }
    s += 9;
    if (*s == '"') {
        s++;
    }
    c->pidfile = apr_pstrndup(c->pool, s, strcspn(s, "\"\n"));
}

/* Wait until the generation differs from old (or, after a stop and start,
 * until httpd answers again).  Returns 0 or -1 on timeout. */
static int wait_generation(ctx_t *c, int old, obs_t *ob, apr_pool_t *p)
{
    double deadline = now_s() + c->o->verify_timeout_s;

    for (;;) {
        apr_pool_clear(p);
        observe(c, ob, p);
        if (ob->ok && ob->gen >= 0 && ob->gen != old) {
            return 0;
        }
        if (now_s() > deadline) {
            return -1;
        }
        sleep_ms(POLL_MS);
    }
}

/* mod_status prints the slots within MaxRequestWorkers ('.' when open)
 * and beyond them only live ones.  So mrw is in force when the Scoreboard
 * is mrw long, or longer with only old processes finishing beyond: 'G',
 * or (prefork, with the scoreboard) a process of an older generation.
 * An open slot ('.') beyond mrw means a larger MaxRequestWorkers. */
static int mrw_in_force(const obs_t *ob, int mrw, int prefork)
{
    int i;

    if (ob->sb_len < mrw) {
        return 0;
    }
    for (i = mrw; i < ob->sb_len; i++) {
        if (ob->sb_line[i] == 'G') {
            continue;
        }
        if (prefork && ob->sb_line[i] != '.' && i < ob->nprocs && ob->proc_old[i]) {
            continue;
        }
        return 0;
    }
    return 1;
}

/* Check the new limits (and keep-alive) within the timeout.  Returns 0
 * verified (report lines said), -1 not in force (error set). */
static int verify_limits(ctx_t *c, const sb_directives_t *d, int full_restart, apr_pool_t *p)
{
    double deadline = now_s() + c->o->verify_timeout_s;
    obs_t ob;
    ka_hdr_t ka;
    int mrw_ok = d->max_request_workers < 0 || !c->o->status_url;
    int sl_ok, ka_ok;
    int want_ka = d->keepalive, want_kat = d->keepalive_timeout;

    memset(&ka, 0, sizeof(ka));

    sl_ok = !full_restart || !c->o->scoreboard
        || (d->server_limit < 0 && d->thread_limit < 0);
    ka_ok = !c->o->status_url || (want_ka < 0 && want_kat < 0);
    for (;;) {
        apr_pool_clear(p);
        observe(c, &ob, p);
        if (ob.ok) {
            if (!mrw_ok && ob.sb_len >= 0) {
                mrw_ok = mrw_in_force(&ob, d->max_request_workers, c->mpm == SB_MODEL_PREFORK);
            }
            if (!sl_ok && ob.server_limit >= 0) {
                sl_ok = (d->server_limit < 0 || ob.server_limit == d->server_limit)
                    && (d->thread_limit < 0 || c->mpm == SB_MODEL_PREFORK
                        || ob.thread_limit == d->thread_limit);
            }
        }
        if (!ka_ok && probe_keepalive(c, &ka) == 0) {
            /* with KeepAlive Off (not set here) no timeout shows */
            if (want_ka == 0) {
                ka_ok = !ka.keepalive_hdr;
            }
            else if (want_ka == 1) {
                ka_ok = ka.keepalive_hdr && (want_kat < 0 || ka.timeout == want_kat);
            }
            else if (c->ka_before == 0) {
                ka_ok = !ka.keepalive_hdr;  /* KeepAlive Off: no timeout to see */
            }
            else {
                ka_ok = ka.keepalive_hdr && ka.timeout == want_kat;
            }
        }
        if (mrw_ok && sl_ok && ka_ok) {
            break;
        }
        if (now_s() > deadline) {
            if (!mrw_ok) {
                set_error(c, "MaxRequestWorkers %d is not in force: mod_status shows %d slots "
                          "(Scoreboard: %s)", d->max_request_workers, ob.sb_len, ob.sb_line);
            }
            if (!sl_ok) {
                set_error(c, "ServerLimit/ThreadLimit not in force: the scoreboard has %d/%d",
                          ob.server_limit, ob.thread_limit);
            }
            if (!ka_ok) {
                set_error(c, "keep-alive not as written: the status URL answers with %s "
                          "(Keep-Alive timeout=%d); a <VirtualHost> of the status URL may set "
                          "its own KeepAlive/KeepAliveTimeout",
                          ka.keepalive_hdr ? "keep-alive" : "Connection: close", ka.timeout);
            }
            return -1;
        }
        sleep_ms(POLL_MS * 2);
    }
    if (d->max_request_workers >= 0) {
        if (c->o->status_url) {
            say(c, "verified: mod_status Scoreboard shows MaxRequestWorkers %d",
                d->max_request_workers);
        }
        else {
            say(c, "not verifiable: MaxRequestWorkers (the scoreboard does not hold it; "
                "give --status-url)");
        }
    }
    if (d->threads_per_child >= 0) {
        say(c, "not verifiable on its own: ThreadsPerChild (configtest accepted it unchanged%s)",
            c->o->status_url && d->max_request_workers >= 0 ? "; MaxRequestWorkers checked" : "");
    }
    if (full_restart && (d->server_limit >= 0 || d->thread_limit >= 0)) {
        if (c->o->scoreboard) {
            say(c, "verified: scoreboard ServerLimit %d ThreadLimit %d", ob.server_limit,
                ob.thread_limit);
        }
        else {
            say(c, "not verifiable: ServerLimit/ThreadLimit (give --scoreboard)");
        }
    }
    if (d->keepalive >= 0 || d->keepalive_timeout >= 0) {
        if (c->o->status_url) {
            say(c, "verified: the status URL answers with %s",
                ka.keepalive_hdr ? apr_psprintf(p, "Keep-Alive: timeout=%d", ka.timeout)
                : "Connection: close (KeepAlive Off)");
        }
        else {
            say(c, "not verifiable: KeepAlive/KeepAliveTimeout (give --status-url: the "
                "response's Keep-Alive header shows them)");
        }
    }
    return 0;
}

/* Wait until httpd is gone (pid from PidFile; else the sources fail). */
static int wait_stopped(ctx_t *c, apr_pool_t *p)
{
    double deadline = now_s() + c->o->verify_timeout_s + 5;
    obs_t ob;

    for (;;) {
        apr_pool_clear(p);
        if (c->httpd_pid > 0) {
            if (!pid_alive(c->httpd_pid)) {
                return 0;
            }
        }
        else {
            observe(c, &ob, p);
            if ((!c->o->scoreboard || ob.shm_gone) && (!c->o->status_url || ob.status_down)) {
                return 0;
            }
        }
        if (now_s() > deadline) {
            return -1;
        }
        sleep_ms(POLL_MS);
    }
}

static int wait_started(ctx_t *c, obs_t *ob, apr_pool_t *p)
{
    double deadline = now_s() + c->o->verify_timeout_s;

    for (;;) {
        apr_pool_clear(p);
        observe(c, ob, p);
        if (ob->ok && (!c->o->scoreboard || !ob->shm_gone)
            && (!c->o->status_url || !ob->status_down)) {
            c->httpd_pid = read_pidfile(c->pidfile);
            return 0;
        }
        if (now_s() > deadline) {
            return -1;
        }
        sleep_ms(POLL_MS);
    }
}

/* Reload with the file as it is now: graceful (verified by the generation)
 * or stop and start (verified by httpd answering again).  Returns 0, or -1
 * with the error set; *loaded says whether httpd (re)read the file. */
static int reload(ctx_t *c, int full, int gen_before, int *gen_after, int *loaded, apr_pool_t *p)
{
    ctl_result_t r;
    obs_t ob;

    *loaded = 0;
    *gen_after = gen_before;
    if (!full) {
        ctl(c, CTL_GRACEFUL, &r);
        if (r.status != 0) {
            set_error(c, "'%s' failed (exit %d):\n%s", r.cmdline, r.status, tail_text(&r, p));
            return -1;
        }
        say(c, "ran: %s", r.cmdline);
        if (wait_generation(c, gen_before, &ob, p) != 0) {
            set_error(c, "the reload did not take effect: generation still %d after %.0f s "
                      "('%s' exited 0)%s%s", gen_before, c->o->verify_timeout_s, r.cmdline,
                      *ob.err ? ": " : "", ob.err);
            return -1;
        }
        *loaded = 1;
        *gen_after = ob.gen;
        say(c, "verified: generation %d -> %d", gen_before, ob.gen);
        return 0;
    }
    if (c->httpd_pid <= 0) {
        c->httpd_pid = read_pidfile(c->pidfile);
    }
    ctl(c, CTL_STOP, &r);
    if (r.status != 0) {
        set_error(c, "'%s' failed (exit %d):\n%s", r.cmdline, r.status, tail_text(&r, p));
        return -1;
    }
    say(c, "ran: %s", r.cmdline);
    if (wait_stopped(c, p) != 0) {
        set_error(c, "httpd (pid %ld) still running %.0f s after '%s'", (long)c->httpd_pid,
                  c->o->verify_timeout_s + 5, r.cmdline);
        return -1;
    }
    say(c, "httpd stopped%s", c->httpd_pid > 0
        ? apr_psprintf(p, " (pid %ld gone)", (long)c->httpd_pid) : "");
    ctl(c, CTL_START, &r);
    *loaded = 1;
    if (r.status != 0) {
        set_error(c, "'%s' failed (exit %d): httpd is not running:\n%s", r.cmdline, r.status,
                  tail_text(&r, p));
        return -1;
    }
    say(c, "ran: %s", r.cmdline);
    if (wait_started(c, &ob, p) != 0) {
        set_error(c, "httpd did not answer within %.0f s after '%s': %s",
                  c->o->verify_timeout_s, r.cmdline, ob.err);
        return -1;
    }
    *gen_after = ob.gen;
    say(c, "verified: httpd answers again (new scoreboard generation %d%s)", ob.gen,
        c->httpd_pid > 0 ? apr_psprintf(p, ", pid %ld", (long)c->httpd_pid) : "");
    return 0;
}

/* Put the previous snippet back and, when httpd had loaded the new one,
 * reload it the same way and verify.  Returns SBTUNE_APPLY_ROLLED_BACK or
 * SBTUNE_APPLY_ROLLBACK_FAILED. */
static int rollback(ctx_t *c, int full, int loaded, int httpd_down, int gen, apr_pool_t *p)
{
    int gen2, loaded2;

    if (sbtune_snippet_restore(c->snip) != APR_SUCCESS) {
        set_error(c, "ROLLBACK FAILED: %s", sbtune_snippet_error(c->snip));
        return SBTUNE_APPLY_ROLLBACK_FAILED;
    }
    say(c, "rolled back: %s %s", sbtune_snippet_path(c->snip),
        sbtune_snippet_previous(c->snip, NULL) ? "restored byte for byte" : "removed (there was none)");
    if (httpd_down) {
        ctl_result_t r;
        obs_t ob;

        ctl(c, CTL_START, &r);
        if (r.status != 0 || wait_started(c, &ob, p) != 0) {
            set_error(c, "ROLLBACK FAILED: httpd does not start with the previous snippet "
                      "('%s' exit %d):\n%s", r.cmdline, r.status, tail_text(&r, p));
            return SBTUNE_APPLY_ROLLBACK_FAILED;
        }
        say(c, "rolled back: httpd started again with the previous snippet");
        return SBTUNE_APPLY_ROLLED_BACK;
    }
    if (!loaded) {
        say(c, "rolled back: httpd never loaded the new snippet; no reload needed");
        return SBTUNE_APPLY_ROLLED_BACK;
    }
    if (reload(c, full, gen, &gen2, &loaded2, p) != 0) {
        set_error(c, "ROLLBACK FAILED: the previous snippet is back in the file but the "
                  "reload with it was not verified; check httpd now");
        return SBTUNE_APPLY_ROLLBACK_FAILED;
    }
    say(c, "rolled back: httpd reloaded the previous snippet");
    return SBTUNE_APPLY_ROLLED_BACK;
}

static void record_history(ctx_t *c, const char *action, const char *before, const char *after,
                           const char *result)
{
    sb_history_t *h;
    sb_hist_change_t row;
    apr_status_t rv;

    if (c->o->history == NULL) {
        return;
    }
    rv = sb_history_open(&h, c->o->history, SB_HISTORY_WRITE, c->pool);
    if (rv == APR_SUCCESS) {
        memset(&row, 0, sizeof(row));
        row.ts = (int64_t)apr_time_sec(apr_time_now());
        row.action = action;
        row.before_json = before;
        row.after_json = after;
        row.reason = c->o->reason ? c->o->reason : "";
        row.result = result;
        rv = sb_history_put_change(h, &row);
        if (rv == APR_SUCCESS) {
            rv = sb_history_flush(h);
        }
    }
    if (rv != APR_SUCCESS) {
        say(c, "warning: change not recorded in %s: %s", c->o->history, sb_history_error(h));
    }
    else {
        say(c, "recorded in %s: %s (%s)", c->o->history, action, result);
    }
    sb_history_close(h);
}

void sbtune_apply_opts_init(sbtune_apply_opts_t *o)
{
    memset(o, 0, sizeof(*o));
    o->apachectl = "apache2ctl";
    o->ctl_style = SBTUNE_CTL_AUTO;
    sb_directive_init(&o->set);
    o->mpm = -1;
    o->lock_wait_s = 0;
    o->verify_timeout_s = 10;
}

static int finish(ctx_t *c, sbtune_apply_result_t *res, int code)
{
    res->code = code;
    res->report = c->report;
    res->error = c->error;
    return code;
}

int sbtune_apply_run(const sbtune_apply_opts_t *o, sbtune_apply_result_t *res, apr_pool_t *p)
{
    ctx_t cc, *c = &cc;
    apr_pool_t *tp;
    int lockfd = -1, code, i, full = 0, loaded = 0, gen_after = -1, placeholder = 0;
    char err[600];
    const char *lock, *prog, *text, *prev, *before_json, *after_json, *new_warn;
    char snip_real[PATH_MAX], prev_real[PATH_MAX];
    apr_size_t prev_len;
    obs_t before;
    ctl_result_t r, base;
    sb_directive_meta_t meta;
    sb_directives_t eff;

    memset(c, 0, sizeof(*c));
    memset(res, 0, sizeof(*res));
    res->gen_before = res->gen_after = -1;
    c->o = o;
    c->pool = p;
    c->report = apr_pstrdup(p, "");
    c->mpm = o->mpm;
    sb_status_opts_default(&c->sopts);
    c->sopts.url = o->status_url;
    c->sopts.connect_timeout_ms = 1000;
    c->sopts.timeout_ms = 2000;
    sb_directive_init(&c->prevd);
    apr_pool_create(&tp, p);

    if (o->snippet == NULL || o->snippet[0] != '/') {
        set_error(c, "an absolute snippet path is required (--snippet)");
        return finish(c, res, SBTUNE_APPLY_USAGE);
    }
    if (!o->scoreboard && !o->status_url) {
        set_error(c, "give --scoreboard and/or --status-url: sbtune verifies every reload");
        return finish(c, res, SBTUNE_APPLY_USAGE);
    }
    if (!sb_directive_any(&o->set)) {
        set_error(c, "nothing to apply: no directive set");
        return finish(c, res, SBTUNE_APPLY_USAGE);
    }
    c->ctl = apr_array_make(p, 8, sizeof(const char *));
    if (split_cmd(o->apachectl ? o->apachectl : "apache2ctl", c->ctl, p) != 0) {
        set_error(c, "cannot parse the apachectl command '%s' (unbalanced quote?)", o->apachectl);
        return finish(c, res, SBTUNE_APPLY_USAGE);
    }
    prog = strrchr(APR_ARRAY_IDX(c->ctl, 0, const char *), '/');
    prog = prog ? prog + 1 : APR_ARRAY_IDX(c->ctl, 0, const char *);
    if (o->ctl_style == SBTUNE_CTL_AUTO) {
        c->verbs = strlen(prog) >= 3 && strcmp(prog + strlen(prog) - 3, "ctl") == 0;
        for (i = 1; i < c->ctl->nelts; i++) {
            const char *a = APR_ARRAY_IDX(c->ctl, i, const char *);

            if (strcmp(a, "-f") == 0 || strcmp(a, "-d") == 0) {
                c->verbs = 0;
            }
        }
    }
    else {
        c->verbs = o->ctl_style == SBTUNE_CTL_VERBS;
    }

    /* the path checks first, so that no lock file is made in an unsafe
     * directory; the previous bytes are read again under the lock */
    if (sbtune_snippet_open(&c->snip, o->snippet, p) != APR_SUCCESS) {
        set_error(c, "%s", sbtune_snippet_error(c->snip));
        return finish(c, res, SBTUNE_APPLY_REFUSED);
    }

    /* 1. lock */
    lock = o->lock ? o->lock : apr_pstrcat(p, o->snippet, ".lock", NULL);
    if (!o->dry_run) {
        apr_status_t rv = sbtune_lock_acquire(lock, o->lock_wait_s, &lockfd, err, sizeof(err));

        if (rv == APR_EBUSY) {
            set_error(c, "%s", err);
            return finish(c, res, SBTUNE_APPLY_LOCKED);
        }
        if (rv != APR_SUCCESS) {
            set_error(c, "%s", err);
            return finish(c, res, SBTUNE_APPLY_ERROR);
        }
        say(c, "locked %s", lock);
    }

    /* 2. what runs now */
    observe(c, &before, tp);
    if (!before.ok || (o->scoreboard && before.shm_gone) || (o->status_url && before.status_down)) {
        set_error(c, "httpd cannot be observed, nothing changed: %s", before.err);
        code = SBTUNE_APPLY_SOURCE;
        goto out;
    }
    res->gen_before = before.gen;
    before.sb_line = apr_pstrdup(p, before.sb_line);
    if (c->mpm < 0) {
        c->mpm = mpm_from_name(before.mpm);
    }
    if (c->mpm < 0) {
        ctl(c, CTL_MPM, &r);
        if (r.status == 0 && (prog = strstr(r.out, "Server MPM:")) != NULL) {
            char name[16] = "";

            sscanf(prog + 11, " %15s", name);
            c->mpm = mpm_from_name(name);
        }
    }
    if (c->mpm < 0) {
        set_error(c, "cannot tell httpd's MPM (give --mpm)");
        code = SBTUNE_APPLY_SOURCE;
        goto out;
    }
    c->minor = o->httpd_minor;
    if (c->minor == 0 && (prog = strstr(before.version, "Apache/2.")) != NULL) {
        c->minor = atoi(prog + 9);
    }
    if (c->minor == 0) {
        ctl(c, CTL_VERSION, &r);
        if ((prog = strstr(r.out, "Apache/2.")) != NULL) {
            c->minor = atoi(prog + 9);
        }
    }
    if (c->minor != 2) {
        c->minor = 4;
    }
    say(c, "httpd 2.%d, MPM %s, generation %d%s%s", c->minor, mpm_name(c->mpm), before.gen,
        before.server_limit >= 0
        ? apr_psprintf(tp, ", ServerLimit %d ThreadLimit %d", before.server_limit,
                       before.thread_limit) : "",
        before.sb_len >= 0 ? apr_psprintf(tp, ", %d slots in mod_status", before.sb_len) : "");

    /* 3. the snippet file */
    if (sbtune_snippet_open(&c->snip, o->snippet, p) != APR_SUCCESS) {
        set_error(c, "%s", sbtune_snippet_error(c->snip));
        code = SBTUNE_APPLY_REFUSED;
        goto out;
    }
    prev = sbtune_snippet_previous(c->snip, &prev_len);
    if (prev) {
        sb_directive_parse(&c->prevd, prev, prev_len);
    }

    /* what would be written; the effective set drops what the MPM lacks */
    eff = o->set;
    if (c->mpm == SB_MODEL_PREFORK) {
        eff.threads_per_child = eff.thread_limit = -1;
    }
    meta.mpm = mpm_name(c->mpm);
    meta.httpd_minor = c->minor;
    meta.when = apr_time_now();
    meta.data = o->data;
    meta.why = o->reason;
    text = sb_directive_render(&eff, &meta, p);
    res->snippet_text = text;

    /* 4. no change? */
    if (prev && strcmp(sb_directive_body(prev, prev_len, tp), sb_directive_body(text, strlen(text), tp)) == 0) {
        say(c, "no change: %s already holds these directives", o->snippet);
        code = SBTUNE_APPLY_NOCHANGE;
        goto out;
    }
    before_json = sb_directive_json(&c->prevd, p);
    after_json = sb_directive_json(&eff, p);
    if (before.server_limit >= 0) {
        before_json = apr_psprintf(p, "{\"snippet\":%s,\"running\":{\"generation\":%d,"
                                   "\"ServerLimit\":%d,\"ThreadLimit\":%d%s}}", before_json,
                                   before.gen, before.server_limit, before.thread_limit,
                                   before.sb_len >= 0
                                   ? apr_psprintf(p, ",\"slots\":%d", before.sb_len) : "");
    }
    else {
        before_json = apr_psprintf(p, "{\"snippet\":%s,\"running\":{\"generation\":%d%s}}",
                                   before_json, before.gen, before.sb_len >= 0
                                   ? apr_psprintf(p, ",\"slots\":%d", before.sb_len) : "");
    }

    /* 5. graceful or stop + start? */
    {
        const char *why = NULL;

        if (eff.server_limit >= 0) {
            if (before.server_limit >= 0 ? eff.server_limit > before.server_limit
                : eff.server_limit != c->prevd.server_limit) {
                why = before.server_limit >= 0
                    ? apr_psprintf(p, "ServerLimit %d -> %d", before.server_limit, eff.server_limit)
                    : apr_psprintf(p, "ServerLimit %d (the running one is unknown without "
                                   "--scoreboard; the previous snippet had %d)",
                                   eff.server_limit, c->prevd.server_limit);
            }
            else if (before.server_limit >= 0 && eff.server_limit < before.server_limit) {
                say(c, "note: ServerLimit %d -> %d takes effect at the next stop and start; "
                    "until then the larger one stays", before.server_limit, eff.server_limit);
            }
        }
        if (eff.thread_limit >= 0 && c->mpm != SB_MODEL_PREFORK) {
            if (before.thread_limit >= 0 ? eff.thread_limit > before.thread_limit
                : eff.thread_limit != c->prevd.thread_limit) {
                why = apr_psprintf(p, "%s%sThreadLimit %d -> %d", why ? why : "", why ? ", " : "",
                                   before.thread_limit >= 0 ? before.thread_limit
                                   : c->prevd.thread_limit, eff.thread_limit);
            }
        }
        if (why) {
            if (!o->allow_stop_start) {
                set_error(c, "refused, nothing changed: %s.  httpd ignores ServerLimit and "
                          "ThreadLimit changes on every restart, graceful or full (AH00179 "
                          "prefork, AH00304/AH00309 worker, AH00501/AH00506 event: \"changing "
                          "ServerLimit ... not allowed during restart\"): they take a stop and a "
                          "start, which drops every connection.  Run again with "
                          "--allow-stop-start to do that, or plan within the running limits",
                          why);
                code = SBTUNE_APPLY_REFUSED;
                goto out;
            }
            full = 1;
            say(c, "stop and start needed (--allow-stop-start given): %s", why);
        }
    }
    if (o->dry_run) {
        say(c, "dry run: %s would change (snippet above)", o->snippet);
        code = SBTUNE_APPLY_RECOMMEND;
        goto out;
    }

    /* 6. does httpd include the snippet? */
    if (prev == NULL) {
        static const char ph[] = "# sbtune placeholder: checking that httpd includes this file\n";

        if (sbtune_snippet_write(c->snip, ph, sizeof(ph) - 1) != APR_SUCCESS) {
            set_error(c, "nothing changed: %s", sbtune_snippet_error(c->snip));
            code = SBTUNE_APPLY_ERROR;
            goto out;
        }
        placeholder = 1;
    }
    ctl(c, CTL_INCLUDES, &base);
    if (realpath(o->snippet, snip_real) == NULL) {
        apr_cpystrn(snip_real, o->snippet, sizeof(snip_real));
    }
    if (base.status != 0 || !includes_list(base.out, snip_real, NULL)) {
        if (placeholder) {
            sbtune_snippet_restore(c->snip);
        }
        if (base.status != 0) {
            set_error(c, "refused, nothing changed: '%s' failed (exit %d); httpd's "
                      "configuration must pass configtest before sbtune changes it:\n%s",
                      base.cmdline, base.status, tail_text(&base, p));
        }
        else {
            set_error(c, "refused, nothing changed: httpd's configuration does not include %s "
                      "('%s' does not list it).  Add 'IncludeOptional %s' to httpd's "
                      "configuration (server level, after the MPM's own settings)",
                      o->snippet, base.cmdline, o->snippet);
        }
        code = SBTUNE_APPLY_REFUSED;
        goto out;
    }
    apr_cpystrn(prev_real, snip_real, sizeof(prev_real));
    apr_cpystrn(prev_real + strlen(prev_real), ".sbtune-prev", sizeof(prev_real) - strlen(prev_real));
    if (includes_list(base.out, NULL, prev_real)) {
        if (placeholder) {
            sbtune_snippet_restore(c->snip);
        }
        set_error(c, "refused, nothing changed: httpd also includes %s (a wildcard Include "
                  "matches sbtune's backup); use a pattern such as *.conf", prev_real);
        code = SBTUNE_APPLY_REFUSED;
        goto out;
    }
    say(c, "included: '%s' lists %s", base.cmdline, snip_real);
    c->ka_before = -1;
    if (o->status_url && eff.keepalive < 0 && eff.keepalive_timeout >= 0) {
        ka_hdr_t ka;

        if (probe_keepalive(c, &ka) == 0) {
            c->ka_before = ka.keepalive_hdr ? 1 : 0;
        }
    }
    find_pidfile(c);
    c->httpd_pid = read_pidfile(c->pidfile);

    /* 7. write */
    if (sbtune_snippet_write(c->snip, text, strlen(text)) != APR_SUCCESS) {
        set_error(c, "nothing changed: %s", sbtune_snippet_error(c->snip));
        if (placeholder) {
            sbtune_snippet_restore(c->snip);
        }
        code = SBTUNE_APPLY_ERROR;
        goto out;
    }
    say(c, "wrote %s (%lu bytes)%s", o->snippet, (unsigned long)strlen(text),
        prev ? "; previous version in .sbtune-prev" : "");

    /* 8. configtest */
    ctl(c, CTL_CONFIGTEST, &r);
    new_warn = new_directive_warnings(base.err, r.err, &eff, p);
    if (r.status != 0 || *new_warn) {
        if (r.status != 0) {
            set_error(c, "configtest rejected the snippet: '%s' exit %d:\n%s", r.cmdline,
                      r.status, tail_text(&r, p));
        }
        else {
            set_error(c, "configtest would change the values: httpd accepts them only after "
                      "adjusting them ('%s'):\n%s", r.cmdline,
                      apr_pstrndup(p, new_warn, strlen(new_warn) - 1));
        }
        code = rollback(c, full, 0, 0, before.gen, tp);
        if (code == SBTUNE_APPLY_ROLLED_BACK) {
            set_error(c, "httpd untouched (no reload was done)");
        }
        record_history(c, "apply", before_json, after_json, "configtest failed; rolled back");
        goto out;
    }
    say(c, "configtest ok: %s", r.cmdline);

    /* 9-10. reload and verify */
    if (reload(c, full, before.gen, &gen_after, &loaded, tp) != 0
        || verify_limits(c, &eff, full, tp) != 0) {
        int down = full && loaded && c->httpd_pid > 0 && !pid_alive(c->httpd_pid);

        if (full && loaded && c->httpd_pid <= 0) {
            obs_t ob;

            observe(c, &ob, tp);
            down = !ob.ok;
        }
        res->gen_after = gen_after;
        code = rollback(c, full, loaded, down, gen_after, tp);
        res->rolled_back = 1;
        record_history(c, "apply", before_json, after_json,
                       code == SBTUNE_APPLY_ROLLED_BACK ? "reload or verification failed; rolled back"
                       : "reload or verification failed; ROLLBACK FAILED");
        goto out;
    }
    res->gen_after = gen_after;
    res->stop_started = full;
    say(c, "applied: %s", after_json);
    record_history(c, "apply", before_json, after_json,
                   full ? "ok (stop and start, verified)" : "ok (graceful, verified)");
    code = SBTUNE_APPLY_CHANGED;

out:
    sb_shm_close(c->shm);
    c->shm = NULL;
    if (lockfd >= 0) {
        sbtune_lock_release(lockfd);
    }
    apr_pool_destroy(tp);
    return finish(c, res, code);
}
