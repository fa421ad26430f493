/*
 * sbtune_snippet.c - the snippet file sbtune owns (checked path, atomic
 * write, byte-for-byte restore) and the lock of a run (contracts in
 * sbtune_apply.h).
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <apr_strings.h>

#include "sbtune_apply.h"
#include "sbtune_apply_int.h"

/* ------------------------------------------------------------------ paths */

/* The names sbtune keeps beside a snippet DIR/NAME: DIR/.NAME<suffix>.  A
 * leading dot keeps them out of httpd's globs: Include matches names with
 * fnmatch(FNM_PERIOD), so neither "*" nor "*.conf" takes them. */
#define AUX_PREV    ".sbtune-prev"
#define AUX_TMP     ".sbtune-tmp"
#define AUX_LOCK    ".sbtune-lock"

/* One directory on the way (fd, named shown): root's or the caller's, and
 * nobody else can write it.  A sticky root-owned directory such as /tmp is
 * allowed on the way, not as the file's own directory (last): the sticky
 * bit does not stop new names. */
static int check_dir(int fd, const char *path, const char *shown, int last, char *err,
                     apr_size_t errlen)
{
    struct stat st;

    if (fstat(fd, &st) != 0) {
        snprintf(err, errlen, "cannot stat %s: %s", shown, strerror(errno));
        return -1;
    }
    if (st.st_uid != 0 && st.st_uid != geteuid()) {
        snprintf(err, errlen, "refusing %s: the directory %s on its path belongs to uid %ld, "
                 "who could replace what is below it; use directories owned by root or by "
                 "you", path, shown, (long)st.st_uid);
        return -1;
    }
    if ((st.st_mode & (S_IWGRP | S_IWOTH))
        && (last || !(st.st_mode & S_ISVTX) || st.st_uid != 0)) {
        snprintf(err, errlen, "refusing %s: the directory %s (mode %04o) is writable by %s%s; "
                 "others could replace the file or plant sbtune's temp, backup or lock names.  "
                 "Use directories only root (or you) can write", path, shown,
                 (unsigned)(st.st_mode & 07777), (st.st_mode & S_IWOTH) ? "others" : "its group",
                 !(st.st_mode & S_ISVTX) ? "" : last ? " (the sticky bit does not stop new "
                 "files)" : " (sticky, but not root's)");
        return -1;
    }
    return 0;
}

int sbtune_dir_open(const char *path, int want_parent, const char **base, char *err,
                    apr_size_t errlen, apr_pool_t *p)
{
    apr_array_header_t *comps = apr_array_make(p, 8, sizeof(char *));
    char *copy, *tok, *save = NULL;
    const char *shown;
    int fd, nfd, i;

    *base = NULL;
    errno = 0;
    if (path == NULL || path[0] != '/') {
        snprintf(err, errlen, "path '%s' must be absolute", path ? path : "");
        return -1;
    }
    copy = apr_pstrdup(p, path);
    if (want_parent) {
        char *slash = strrchr(copy, '/');
        *base = apr_pstrdup(p, slash + 1);
        if (!**base || strcmp(*base, ".") == 0 || strcmp(*base, "..") == 0) {
            snprintf(err, errlen, "path '%s' does not name a file", path);
            return -1;
        }
        *slash = '\0';
    }
    for (tok = apr_strtok(copy, "/", &save); tok; tok = apr_strtok(NULL, "/", &save)) {
        if (strcmp(tok, "..") == 0) {
            snprintf(err, errlen, "refusing %s: '..' in the path", path);
            return -1;
        }
        if (strcmp(tok, ".") != 0) {
            APR_ARRAY_PUSH(comps, char *) = tok;
        }
    }
    fd = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
        snprintf(err, errlen, "cannot open /: %s", strerror(errno));
        return -1;
    }
    shown = "/";
    if (check_dir(fd, path, shown, comps->nelts == 0, err, errlen) != 0) {
        close(fd);
        return -1;
    }
    shown = "";
    for (i = 0; i < comps->nelts; i++) {
        const char *comp = APR_ARRAY_IDX(comps, i, char *);

        shown = apr_pstrcat(p, shown, "/", comp, NULL);
        nfd = openat(fd, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (nfd < 0) {
            int e = errno;
            struct stat lst;

            if ((e == ELOOP || e == ENOTDIR)
                && fstatat(fd, comp, &lst, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(lst.st_mode)) {
                snprintf(err, errlen, "refusing %s: %s is a symbolic link (sbtune follows none "
                         "on the way to the files it writes; give the real path)", path, shown);
                e = ELOOP;
            }
            else {
                snprintf(err, errlen, "%s %s: %s", e == ENOENT ? "no directory" : "cannot open",
                         shown, strerror(e));
            }
            close(fd);
            errno = e;
            return -1;
        }
        close(fd);
        fd = nfd;
        if (check_dir(fd, path, shown, i == comps->nelts - 1, err, errlen) != 0) {
            close(fd);
            errno = EACCES;
            return -1;
        }
    }
    return fd;
}

/* ------------------------------------------------------------------ snippet file */

struct sbtune_snippet {
    apr_pool_t *pool;
    const char *path;
    const char *dir;
    const char *base;
    int dirfd;                  /* the snippet's directory, checked; -1 none */
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

static apr_status_t close_dirfd(void *data)
{
    sbtune_snippet_t *s = data;

    if (s->dirfd >= 0) {
        close(s->dirfd);
        s->dirfd = -1;
    }
    return APR_SUCCESS;
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

const char *sbtune_snippet_aux(const sbtune_snippet_t *s, const char *suffix, int full)
{
    const char *name = apr_pstrcat(s->pool, ".", s->base, suffix, NULL);

    if (!full) {
        return name;
    }
    return apr_pstrcat(s->pool, strcmp(s->dir, "/") == 0 ? "" : s->dir, "/", name, NULL);
}

/* Read the regular file name (in the snippet's directory, not through a
 * symlink) into *out (NUL-terminated, from the handle's pool).  Returns
 * APR_SUCCESS, APR_ENOENT, or an error with the message on s. */
static apr_status_t read_at(sbtune_snippet_t *s, const char *name, char **out,
                            apr_size_t *outlen, struct stat *stp)
{
    struct stat st;
    int fd;
    apr_size_t cap, n = 0;
    ssize_t r;
    char *buf;

    *out = NULL;
    *outlen = 0;
    fd = openat(s->dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) {
        int e = errno;
        if (e == ENOENT) {
            return APR_ENOENT;
        }
        if (e == ELOOP) {
            return snip_fail(s, APR_EINVAL, "refusing %s/%s: it is a symbolic link; sbtune "
                             "writes a plain file in place (point httpd's Include at the real "
                             "path)", s->dir, name);
        }
        return snip_fail(s, APR_FROM_OS_ERROR(e), "cannot read %s/%s: %s", s->dir, name,
                         strerror(e));
    }
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return snip_fail(s, APR_EINVAL, "refusing %s/%s: not a regular file", s->dir, name);
    }
    if (st.st_size > (off_t)(4u << 20)) {
        close(fd);
        return snip_fail(s, APR_EINVAL, "refusing %s/%s: %ld bytes is not a snippet", s->dir,
                         name, (long)st.st_size);
    }
    cap = (apr_size_t)st.st_size + 1;
    buf = apr_palloc(s->pool, cap + 1);
    for (;;) {
        if (n == cap) {
            char *bigger = apr_palloc(s->pool, cap * 2 + 1);

            memcpy(bigger, buf, n);
            buf = bigger;
            cap *= 2;
        }
        r = read(fd, buf + n, cap - n);
        if (r < 0 && errno == EINTR) {
            continue;
        }
        if (r < 0) {
            int e = errno;

            close(fd);
            return snip_fail(s, APR_FROM_OS_ERROR(e), "cannot read %s/%s: %s", s->dir, name,
                             strerror(e));
        }
        if (r == 0) {
            break;
        }
        n += (apr_size_t)r;
    }
    close(fd);
    buf[n] = '\0';
    *out = buf;
    *outlen = n;
    if (stp) {
        *stp = st;
    }
    return APR_SUCCESS;
}

apr_status_t sbtune_snippet_open(sbtune_snippet_t **out, const char *path, apr_pool_t *p)
{
    sbtune_snippet_t *s = apr_pcalloc(p, sizeof(*s));
    const char *slash;
    struct stat st;
    apr_status_t rv;

    *out = s;
    s->pool = p;
    s->dirfd = -1;
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
    s->dirfd = sbtune_dir_open(s->path, 1, &s->base, s->error, sizeof(s->error), p);
    if (s->dirfd < 0) {
        return errno == ENOENT ? APR_ENOENT : APR_EINVAL;
    }
    apr_pool_cleanup_register(p, s, close_dirfd, apr_pool_cleanup_null);
    rv = read_at(s, s->base, &s->prev, &s->prev_len, &st);
    if (rv == APR_ENOENT) {
        return APR_SUCCESS;
    }
    if (rv != APR_SUCCESS) {
        return rv;
    }
    s->mode = st.st_mode & 07777;
    s->uid = st.st_uid;
    s->gid = st.st_gid;
    return APR_SUCCESS;
}

/* Write len bytes to a new temp name in the snippet's directory (mode,
 * owner), fsync it; *tmpp names it.  On failure nothing is left. */
static apr_status_t write_temp(sbtune_snippet_t *s, const char *target, const char *data,
                               apr_size_t len, mode_t mode, char **tmpp)
{
    char *tmp = NULL;
    int fd = -1, e, i;
    apr_size_t off = 0;
    ssize_t w;

    *tmpp = NULL;
    for (i = 0; i < 100 && fd < 0; i++) {
        unsigned long r = ((unsigned long)getpid() << 16) ^ (unsigned long)apr_time_now()
                          ^ ((unsigned long)i * 2654435761u);
        tmp = apr_psprintf(s->pool, ".%s%s.%06lx", s->base, AUX_TMP, r & 0xffffff);
        fd = openat(s->dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd < 0 && errno != EEXIST) {
            break;
        }
    }
    if (fd < 0) {
        e = errno;
        return snip_fail(s, APR_FROM_OS_ERROR(e), "cannot create a temp file in %s: %s; "
                         "%s is unchanged", s->dir, strerror(e), target);
    }
    if (fchmod(fd, mode) != 0) {
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
    unlinkat(s->dirfd, tmp, 0);
    return snip_fail(s, APR_FROM_OS_ERROR(e), "cannot write %s (through %s/%s): %s; %s is "
                     "unchanged", target, s->dir, tmp, strerror(e), target);
}

/* rename the temp name over name, then fsync the directory. */
static apr_status_t commit_temp(sbtune_snippet_t *s, char *tmp, const char *name)
{
    int e;

    if (renameat(s->dirfd, tmp, s->dirfd, name) != 0) {
        e = errno;
        unlinkat(s->dirfd, tmp, 0);
        return snip_fail(s, APR_FROM_OS_ERROR(e), "cannot rename %s/%s to %s/%s: %s; %s/%s is "
                         "unchanged", s->dir, tmp, s->dir, name, strerror(e), s->dir, name);
    }
    /* a failed directory fsync leaves the new content in place, only its
     * durability across a crash in doubt */
    fsync(s->dirfd);
    return APR_SUCCESS;
}

static apr_status_t atomic_write(sbtune_snippet_t *s, const char *name, const char *data,
                                 apr_size_t len, mode_t mode)
{
    char *tmp;
    apr_status_t rv = write_temp(s, name, data, len, mode, &tmp);

    return rv == APR_SUCCESS ? commit_temp(s, tmp, name) : rv;
}

apr_status_t sbtune_snippet_write(sbtune_snippet_t *s, const char *text, apr_size_t len)
{
    char *tmp;
    apr_status_t rv;

    rv = write_temp(s, s->base, text, len, s->mode, &tmp);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    if (s->prev != NULL) {
        rv = atomic_write(s, sbtune_snippet_aux(s, AUX_PREV, 0), s->prev, s->prev_len, s->mode);
        if (rv != APR_SUCCESS) {
            unlinkat(s->dirfd, tmp, 0);
            return rv;
        }
    }
    return commit_temp(s, tmp, s->base);
}

apr_status_t sbtune_snippet_restore(sbtune_snippet_t *s)
{
    if (s->prev == NULL) {
        if (unlinkat(s->dirfd, s->base, 0) != 0 && errno != ENOENT) {
            return snip_fail(s, APR_FROM_OS_ERROR(errno), "cannot remove %s: %s", s->path,
                             strerror(errno));
        }
        fsync(s->dirfd);
        return APR_SUCCESS;
    }
    return atomic_write(s, s->base, s->prev, s->prev_len, s->mode);
}

apr_status_t sbtune_snippet_reread(sbtune_snippet_t *s, const char **now, apr_size_t *len)
{
    char *buf;
    apr_status_t rv = read_at(s, s->base, &buf, len, NULL);

    *now = rv == APR_SUCCESS ? buf : NULL;
    return rv == APR_ENOENT ? APR_SUCCESS : rv;
}

apr_status_t sbtune_snippet_put_aux(sbtune_snippet_t *s, const char *suffix, const char *data,
                                    apr_size_t len)
{
    return atomic_write(s, sbtune_snippet_aux(s, suffix, 0), data, len, 0600);
}

apr_status_t sbtune_snippet_get_aux(sbtune_snippet_t *s, const char *suffix, const char **data,
                                    apr_size_t *len)
{
    char *buf;
    apr_status_t rv = read_at(s, sbtune_snippet_aux(s, suffix, 0), &buf, len, NULL);

    *data = rv == APR_SUCCESS ? buf : NULL;
    return rv;
}

apr_status_t sbtune_snippet_drop_aux(sbtune_snippet_t *s, const char *suffix)
{
    if (unlinkat(s->dirfd, sbtune_snippet_aux(s, suffix, 0), 0) != 0 && errno != ENOENT) {
        return snip_fail(s, APR_FROM_OS_ERROR(errno), "cannot remove %s: %s",
                         sbtune_snippet_aux(s, suffix, 1), strerror(errno));
    }
    fsync(s->dirfd);
    return APR_SUCCESS;
}

apr_status_t sbtune_snippet_set_previous(sbtune_snippet_t *s, const char *prev, apr_size_t len)
{
    s->prev = prev ? apr_pstrmemdup(s->pool, prev, len) : NULL;
    s->prev_len = prev ? len : 0;
    return APR_SUCCESS;
}

/* ------------------------------------------------------------------ lock */

#define LOCK_MAGIC "sbtune lock"

const char *sbtune_lock_default(const char *snippet, apr_pool_t *p)
{
    const char *slash = strrchr(snippet, '/');

    if (!slash) {
        return apr_pstrcat(p, ".", snippet, AUX_LOCK, NULL);
    }
    return apr_pstrcat(p, apr_pstrmemdup(p, snippet, (apr_size_t)(slash - snippet)), "/.",
                       slash + 1, AUX_LOCK, NULL);
}

/* Whether fd is a lock file sbtune made: a regular file of ours, one link,
 * no access for others, holding nothing or our line (or a bare pid: the
 * lock of sbtune 0.1's first releases). */
static int own_lock(int fd, char *why, apr_size_t len)
{
    struct stat st;
    char buf[64];
    ssize_t n;
    apr_size_t i;

    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        snprintf(why, len, "not a regular file");
        return 0;
    }
    if (st.st_uid != geteuid() || st.st_nlink != 1 || (st.st_mode & 077)) {
        snprintf(why, len, "owner uid %ld, %ld links, mode %04o (sbtune's lock is yours, one "
                 "link, 0600)", (long)st.st_uid, (long)st.st_nlink,
                 (unsigned)(st.st_mode & 07777));
        return 0;
    }
    n = pread(fd, buf, sizeof(buf) - 1, 0);
    if (n < 0) {
        snprintf(why, len, "unreadable: %s", strerror(errno));
        return 0;
    }
    buf[n] = '\0';
    if (n == 0 || strncmp(buf, LOCK_MAGIC, sizeof(LOCK_MAGIC) - 1) == 0) {
        return 1;
    }
    for (i = 0; i < (apr_size_t)n && (isdigit((unsigned char)buf[i]) || buf[i] == '\n'); i++) {
    }
    if (i == (apr_size_t)n && st.st_size < 32) {
        return 1;
    }
    snprintf(why, len, "it holds something else (%ld bytes)", (long)st.st_size);
    return 0;
}

apr_status_t sbtune_lock_acquire(const char *path, double wait_s, int *fdp,
                                 char *err, apr_size_t errlen)
{
    int fd, dfd, e;
    double deadline = sbtune_now_s() + (wait_s > 0 ? wait_s : 0);
    char buf[64], why[256];
    const char *base;
    ssize_t n;
    apr_pool_t *p;

    *fdp = -1;
    apr_pool_create(&p, NULL);
    dfd = sbtune_dir_open(path, 1, &base, err, errlen, p);
    if (dfd < 0) {
        apr_pool_destroy(p);
        return APR_EINVAL;
    }
    /* a new lock, or the one sbtune left: never another file */
    fd = openat(dfd, base, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0 && errno == EEXIST) {
        fd = openat(dfd, base, O_RDWR | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
        if (fd >= 0 && !own_lock(fd, why, sizeof(why))) {
            snprintf(err, errlen, "refusing the lock file %s: it is not sbtune's (%s); "
                     "sbtune neither uses nor truncates it.  Remove it or give another "
                     "--lock", path, why);
            close(fd);
            close(dfd);
            apr_pool_destroy(p);
            return APR_EINVAL;
        }
    }
    close(dfd);
    apr_pool_destroy(p);
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
        if (sbtune_now_s() >= deadline) {
            n = pread(fd, buf, sizeof(buf) - 1, 0);
            buf[n > 0 ? n : 0] = '\0';
            buf[strcspn(buf, "\n")] = '\0';
            snprintf(err, errlen, "another sbtune run holds the lock %s%s%s%s", path,
                     *buf ? " (" : "", buf, *buf ? ")" : "");
            if (wait_s > 0) {
                apr_size_t l = strlen(err);

                snprintf(err + l, errlen - l, " after waiting %.0f s", wait_s);
            }
            close(fd);
            return APR_EBUSY;
        }
        sbtune_sleep_ms(100);
    }
    n = snprintf(buf, sizeof(buf), LOCK_MAGIC ": pid %ld\n", (long)getpid());
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
