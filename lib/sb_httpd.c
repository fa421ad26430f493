#include "config.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <apr_strings.h>
#include "sb_httpd.h"

/* The fields of /proc/PID/stat after the command name (which may hold
 * blanks and parentheses: from the last ')'), in buf; NULL when it cannot
 * be read. */
static const char *stat_fields(pid_t pid, char *buf, apr_size_t len)
{
    char fn[64];
    char *p = NULL;
    FILE *f;

    snprintf(fn, sizeof(fn), "/proc/%d/stat", (int)pid);
    if (!(f = fopen(fn, "r"))) {
        return NULL;
    }
    if (fgets(buf, (int)len, f)) {
        p = strrchr(buf, ')');
    }
    fclose(f);
    return p ? p + 1 : NULL;
}

pid_t sb_httpd_parent_of(pid_t pid)
{
    char buf[1024];
    const char *p = stat_fields(pid, buf, sizeof(buf));
    int ppid = 0;

    if (p && sscanf(p, " %*c %d", &ppid) != 1) {
        ppid = 0;
    }
    return (pid_t)ppid;
}

unsigned long long sb_httpd_start_time(pid_t pid)
{
    char buf[1024];
    const char *p = stat_fields(pid, buf, sizeof(buf));
    unsigned long long t = 0;

    /* state ppid pgrp session tty_nr tpgid flags minflt cminflt majflt
     * cmajflt utime stime cutime cstime priority nice num_threads
     * itrealvalue starttime: the 20th field after the name */
    if (p && sscanf(p, " %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s"
                    " %*s %*s %llu", &t) != 1) {
        t = 0;
    }
    return t;
}

pid_t sb_httpd_find_parent(const char *pidfile, const sb_sample_t *s)
{
    pid_t p = 0;
    int i;

    if (pidfile && pidfile[0]) {
        FILE *f = fopen(pidfile, "r");
        long v = 0;
        if (f) {
            if (fscanf(f, "%ld", &v) != 1) {
                v = 0;
            }
            fclose(f);
        }
        p = (pid_t)v;
    }
    for (i = 0; !p && s && s->procs && i < s->nprocs; i++) {
        if (s->procs[i].pid > 0) {
            p = sb_httpd_parent_of(s->procs[i].pid);
        }
    }
    return p > 1 ? p : 0;
}

int sb_httpd_parse_ports(const char *list, sb_kernel_ports_t *out, char *err, apr_size_t errlen)
{
    const char *c = list;

    out->nports = 0;
    while (*c) {
        char *end;
        long v = strtol(c, &end, 10);
        if (end == c || v < 1 || v > 65535 || out->nports >= SB_KERNEL_MAX_PORTS
            || (*end && *end != ',')) {
            snprintf(err, errlen, "ports '%s': give up to %d port numbers separated by commas",
                     list, SB_KERNEL_MAX_PORTS);
            return -1;
        }
        out->port[out->nports++] = (uint16_t)v;
        c = *end ? end + 1 : end;
    }
    if (out->nports == 0) {
        snprintf(err, errlen, "ports '%s': no port given", list);
        return -1;
    }
    return 0;
}

int sb_httpd_read_password(const char *file, apr_pool_t *p, const char **out, char *err,
                           apr_size_t errlen)
{
    FILE *f = fopen(file, "r");
    char line[1024];

    if (!f) {
        snprintf(err, errlen, "cannot read password file %s: %s", file, strerror(errno));
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
