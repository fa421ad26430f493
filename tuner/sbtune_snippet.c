/*
 * sbtune_snippet.c - the snippet file sbtune owns (checked path, atomic
 * write, byte-for-byte restore) and the lock of a run (contracts in
 * sbtune_apply.h).
 */
#include "config.h"

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
    double deadline = sbtune_now_s() + (wait_s > 0 ? wait_s : 0);
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
        if (sbtune_now_s() >= deadline) {
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
        sbtune_sleep_ms(100);
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

