/*
 * sb_procmem.c - PSS of processes (smaps_rollup / smaps), host memory
 * (meminfo) and the children of a process, from /proc.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <apr_strings.h>
#include <apr_tables.h>

#include "sb_procmem.h"

#define SB_PROCMEM_MAX (64u << 20)  /* cap on a smaps file */

/* "Key: value kB" fields a parser looks for. */
typedef struct {
    const char *key;
    apr_size_t offset;          /* of the uint64_t in the output struct */
    unsigned int bit;
} field_t;

#define PM(k, m, b) { k, offsetof(sb_procmem_t, m), b }
static const field_t pm_fields[] = {
    PM("Rss", rss, SB_PM_RSS),
    PM("Pss", pss, SB_PM_PSS),
    PM("Pss_Anon", pss_anon, SB_PM_PSS_ANON),
    PM("Pss_File", pss_file, SB_PM_PSS_FILE),
    PM("Pss_Shmem", pss_shmem, SB_PM_PSS_SHMEM),
    PM("Private_Clean", private_clean, SB_PM_PRIVATE_CLEAN),
    PM("Private_Dirty", private_dirty, SB_PM_PRIVATE_DIRTY),
    PM("Shared_Clean", shared_clean, SB_PM_SHARED_CLEAN),
    PM("Shared_Dirty", shared_dirty, SB_PM_SHARED_DIRTY),
    PM("Swap", swap, SB_PM_SWAP),
    PM("SwapPss", swap_pss, SB_PM_SWAP_PSS),
};
#define PM_ALL 0x07ffu

#define HM(k, m, b) { k, offsetof(sb_hostmem_t, m), b }
static const field_t hm_fields[] = {
    HM("MemTotal", mem_total, SB_HM_MEM_TOTAL),
    HM("MemAvailable", mem_available, SB_HM_MEM_AVAILABLE),
    HM("MemFree", mem_free, SB_HM_MEM_FREE),
    HM("Buffers", buffers, SB_HM_BUFFERS),
    HM("Cached", cached, SB_HM_CACHED),
    HM("SwapTotal", swap_total, SB_HM_SWAP_TOTAL),
    HM("SwapFree", swap_free, SB_HM_SWAP_FREE),
};
#define HM_ALL 0x7fu

#define NFIELDS(a) ((int)(sizeof(a) / sizeof((a)[0])))

/* Parse "Key:   123 kB" lines; values of a repeated key are summed.  Sets
 * *found to the bits of the keys seen.  Returns APR_SUCCESS or APR_EINVAL
 * with err filled. */
static apr_status_t parse_kb_lines(const char *buf, apr_size_t len,
                                   const field_t *fields, int nfields,
                                   void *out, unsigned int *found,
                                   char *err, apr_size_t errlen)
{
    apr_size_t pos = 0;
    int lineno = 0, i;

    *found = 0;
    while (pos < len) {
        const char *line = buf + pos, *nl, *colon, *p, *end;
        apr_size_t n, klen;
        uint64_t kb = 0;
        int digits = 0;

        nl = memchr(line, '\n', len - pos);
        if (!nl) {
            break;              /* a cut last line */
        }
        n = (apr_size_t)(nl - line);
        pos += n + 1;
        lineno++;
        colon = memchr(line, ':', n);
        if (!colon) {
            continue;
        }
        klen = (apr_size_t)(colon - line);
        for (i = 0; i < nfields; i++) {
            if (strlen(fields[i].key) == klen && !memcmp(fields[i].key, line, klen)) {
                break;
            }
        }
        if (i == nfields) {
            continue;
        }
        p = colon + 1;
        end = line + n;
        while (p < end && (*p == ' ' || *p == '\t')) {
            p++;
        }
        while (p < end && *p >= '0' && *p <= '9') {
            if (++digits > 15) {
                break;          /* 10^15 kB: not a real value */
            }
            kb = kb * 10 + (uint64_t)(*p - '0');
            p++;
        }
        while (p < end && (*p == ' ' || *p == '\t')) {
            p++;
        }
        if (digits == 0 || digits > 15 || end - p < 2 || p[0] != 'k' || p[1] != 'B'
            || (end - p > 2 && !(end - p == 3 && p[2] == '\r'))) {
            snprintf(err, errlen, "line %d: malformed value for %s: \"%.*s\"",
                     lineno, fields[i].key, (int)(n > 80 ? 80 : n), line);
            return APR_EINVAL;
        }
        {
            uint64_t *sum = (uint64_t *)(void *)((char *)out + fields[i].offset);
            /* repeated keys are summed (smaps): a total past 2^64 bytes is
             * no real process's, and would wrap to a small figure */
            if (kb * 1024 > UINT64_MAX - *sum) {
                snprintf(err, errlen, "line %d: %s adds up to more than 2^64 bytes",
                         lineno, fields[i].key);
                return APR_EINVAL;
            }
            *sum += kb * 1024;
        }
        *found |= fields[i].bit;
    }
    return APR_SUCCESS;
}

static apr_status_t parse_procmem(const char *buf, apr_size_t len,
                                  sb_procmem_t *out, int summed)
{
    unsigned int found;
    apr_status_t rv;

    memset(out, 0, sizeof(*out));
    out->summed = summed;
    rv = parse_kb_lines(buf, len, pm_fields, NFIELDS(pm_fields), out, &found,
                        out->error, sizeof(out->error));
    out->missing = PM_ALL & ~found;
    if (rv != APR_SUCCESS) {
        return rv;
    }
    if (out->missing & (SB_PM_RSS | SB_PM_PSS)) {
        snprintf(out->error, sizeof(out->error), "no %s line: not the text of "
                 "smaps%s, or cut short",
                 (out->missing & SB_PM_RSS) ? "Rss" : "Pss", summed ? "" : "_rollup");
        return APR_EINVAL;
    }
    return APR_SUCCESS;
}

apr_status_t sb_procmem_parse_rollup(const char *buf, apr_size_t len,
                                     sb_procmem_t *out)
{
    return parse_procmem(buf, len, out, 0);
}

apr_status_t sb_procmem_parse_smaps(const char *buf, apr_size_t len,
                                    sb_procmem_t *out)
{
    return parse_procmem(buf, len, out, 1);
}

apr_status_t sb_procmem_parse_meminfo(const char *buf, apr_size_t len,
                                      sb_hostmem_t *out)
{
    unsigned int found;
    apr_status_t rv;

    memset(out, 0, sizeof(*out));
    rv = parse_kb_lines(buf, len, hm_fields, NFIELDS(hm_fields), out, &found,
                        out->error, sizeof(out->error));
    out->missing = HM_ALL & ~found;
    if (rv != APR_SUCCESS) {
        return rv;
    }
    if (out->missing & SB_HM_MEM_TOTAL) {
        snprintf(out->error, sizeof(out->error), "no MemTotal line: not the "
                 "text of /proc/meminfo, or cut short");
        return APR_EINVAL;
    }
    return APR_SUCCESS;
}

/* Read a whole file (malloc'd, caller frees).  Returns 0 or an errno. */
static int read_all(const char *path, char **buf, apr_size_t *len)
{
    int fd, e;
    apr_size_t n = 0, cap = 4096;
    char *b;

    *buf = NULL;
    *len = 0;
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return errno;
    }
    if (!(b = malloc(cap))) {
        close(fd);
        return ENOMEM;
    }
    for (;;) {
        ssize_t r;
        if (cap - n < 1024) {
            char *nb;
            if (cap >= SB_PROCMEM_MAX) {
                free(b);
                close(fd);
                return EFBIG;
            }
            if (!(nb = realloc(b, cap * 2))) {
                free(b);
                close(fd);
                return ENOMEM;
            }
            b = nb;
            cap *= 2;
        }
        r = read(fd, b + n, cap - n);
        if (r < 0) {
            if (errno == EINTR) {
                continue;
            }
            e = errno;
            free(b);
            close(fd);
            return e;
        }
        if (r == 0) {
            break;
        }
        n += (apr_size_t)r;
    }
    close(fd);
    *buf = b;
    *len = n;
    return 0;
}

static apr_status_t read_pid_file(pid_t pid, const char *name, int summed,
                                  sb_procmem_t *out)
{
    char path[64], *buf;
    apr_size_t len;
    apr_status_t rv;
    int e;

    memset(out, 0, sizeof(*out));
    if (pid <= 0) {
        snprintf(out->error, sizeof(out->error), "no process %d", (int)pid);
        return APR_FROM_OS_ERROR(ESRCH);
    }
    snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, name);
    e = read_all(path, &buf, &len);
    if (e == 0 && len == 0) {
        free(buf);
        e = ESRCH;              /* a zombie or a kernel thread: no mappings */
    }
    if (e != 0) {
        if (e == ENOENT && !summed) {
            char dir[32];
            snprintf(dir, sizeof(dir), "/proc/%d", (int)pid);
            if (access(dir, F_OK) != 0) {
                e = ESRCH;
            }
            else {
                return ENOENT;  /* no smaps_rollup: the caller falls back */
            }
        }
        if (e == ENOENT) {
            e = ESRCH;
        }
        if (e == ESRCH) {
            snprintf(out->error, sizeof(out->error), "process %d is gone (exited, "
                     "a zombie, or a kernel thread without memory)", (int)pid);
            return APR_FROM_OS_ERROR(ESRCH);
        }
        if (e == EACCES || e == EPERM) {
            snprintf(out->error, sizeof(out->error), "%s: permission denied%s", path,
                     geteuid() == 0 ? " even as root (the process is in another "
                     "user namespace or container, or a security module forbids it)"
                     : ": another user's process; reading it needs root or "
                     "CAP_SYS_PTRACE");
            return APR_EACCES;
        }
        snprintf(out->error, sizeof(out->error), "cannot read %s: %s", path,
                 strerror(e));
        return APR_FROM_OS_ERROR(e);
    }
    rv = parse_procmem(buf, len, out, summed);
    free(buf);
    if (rv != APR_SUCCESS) {
        char msg[160];
        apr_cpystrn(msg, out->error, sizeof(msg));
        snprintf(out->error, sizeof(out->error), "%s: %s", path, msg);
    }
    return rv;
}

apr_status_t sb_procmem_read(pid_t pid, sb_procmem_t *out)
{
    apr_status_t rv = read_pid_file(pid, "smaps_rollup", 0, out);

    if (rv == ENOENT) {
        rv = read_pid_file(pid, "smaps", 1, out);
    }
    return rv;
}

apr_status_t sb_procmem_read_smaps(pid_t pid, sb_procmem_t *out)
{
    return read_pid_file(pid, "smaps", 1, out);
}

apr_status_t sb_procmem_host(sb_hostmem_t *out)
{
    char *buf;
    apr_size_t len;
    apr_status_t rv;
    int e;

    e = read_all("/proc/meminfo", &buf, &len);
    if (e != 0) {
        memset(out, 0, sizeof(*out));
        snprintf(out->error, sizeof(out->error), "cannot read /proc/meminfo: %s",
                 strerror(e));
        return APR_FROM_OS_ERROR(e);
    }
    rv = sb_procmem_parse_meminfo(buf, len, out);
    free(buf);
    return rv;
}

static int cmp_pid(const void *a, const void *b)
{
    pid_t x = *(const pid_t *)a, y = *(const pid_t *)b;

    return x < y ? -1 : x > y;
}

/* The ppid in /proc/pid/stat, or -1.  The command name (2nd field) may hold
 * spaces and ')': the fields go on after its last ')'. */
static pid_t ppid_of(const char *name)
{
    char path[300], buf[512];
    int fd;
    ssize_t n;
    const char *p;
    long ppid;
    char state;

    snprintf(path, sizeof(path), "/proc/%s/stat", name);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return -1;
    }
    n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    if (n <= 0) {
        return -1;
    }
    buf[n] = '\0';
    p = strrchr(buf, ')');
    if (!p || sscanf(p + 1, " %c %ld", &state, &ppid) != 2) {
        return -1;
    }
    return (pid_t)ppid;
}

/* The children of parent's main thread from /proc/PID/task/PID/children
 * (CONFIG_PROC_CHILDREN; httpd forks from its main thread): one read
 * instead of a scan of every process.  0, or -1 when the file is missing
 * or unreadable (then the scan). */
static int children_file(pid_t parent, apr_array_header_t *arr)
{
    char path[64], buf[8192], *c, *end;
    int fd;
    ssize_t got;
    size_t len = 0;

    snprintf(path, sizeof(path), "/proc/%d/task/%d/children", (int)parent, (int)parent);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return -1;
    }
    while (len < sizeof(buf) - 1
           && (got = read(fd, buf + len, sizeof(buf) - 1 - len)) > 0) {
        len += (size_t)got;
    }
    close(fd);
    if (len >= sizeof(buf) - 1) {
        return -1;              /* more children than fit: the scan */
    }
    buf[len] = '\0';
    for (c = buf; *c; c = end) {
        long v;
        while (*c == ' ' || *c == '\n') {
            c++;
        }
        if (!*c) {
            break;
        }
        v = strtol(c, &end, 10);
        if (end == c || v <= 0) {
            return -1;          /* not what the file holds: the scan */
        }
        APR_ARRAY_PUSH(arr, pid_t) = (pid_t)v;
    }
    return 0;
}

apr_status_t sb_procmem_children(pid_t parent, apr_pool_t *p, pid_t **pids, int *n)
{
    char dir[32];
    DIR *d;
    struct dirent *de;
    apr_array_header_t *arr;

    *pids = NULL;
    *n = 0;
    snprintf(dir, sizeof(dir), "/proc/%d", (int)parent);
    if (parent <= 0 || access(dir, F_OK) != 0) {
        return APR_FROM_OS_ERROR(ESRCH);
    }
    arr = apr_array_make(p, 16, sizeof(pid_t));
    if (children_file(parent, arr) == 0) {
        qsort(arr->elts, (size_t)arr->nelts, sizeof(pid_t), cmp_pid);
        *pids = (pid_t *)(void *)arr->elts;
        *n = arr->nelts;
        return APR_SUCCESS;
    }
    arr->nelts = 0;
    d = opendir("/proc");
    if (!d) {
        return APR_FROM_OS_ERROR(errno);
    }
    while ((de = readdir(d)) != NULL) {
        const char *c = de->d_name;
        while (*c >= '0' && *c <= '9') {
            c++;
        }
        if (c == de->d_name || *c != '\0') {
            continue;
        }
        if (ppid_of(de->d_name) == parent) {
            APR_ARRAY_PUSH(arr, pid_t) = (pid_t)atol(de->d_name);
        }
    }
    closedir(d);
    qsort(arr->elts, (size_t)arr->nelts, sizeof(pid_t), cmp_pid);
    *pids = (pid_t *)(void *)arr->elts;
    *n = arr->nelts;
    return APR_SUCCESS;
}
