/*
 * sb_httpd.h - small facts about the running httpd and its configuration
 * that several programs need: its parent process, its listen ports as the
 * operator gives them, the mod_status password file.
 */
#ifndef SB_HTTPD_H
#define SB_HTTPD_H

#include <sys/types.h>
#include <apr_pools.h>
#include "sb_kernel.h"
#include "sb_sample.h"

/* The parent of process pid (from /proc/PID/stat); 0 when unknown. */
pid_t sb_httpd_parent_of(pid_t pid);

/* Its start time in clock ticks since boot (/proc/PID/stat), 0 when it
 * cannot be read: with the pid, it names one process (pids are reused). */
unsigned long long sb_httpd_start_time(pid_t pid);

/* httpd's parent: the pid in pidfile when pidfile is not NULL or "" (its
 * PidFile), else the parent of a child the sample names; 0 when unknown. */
pid_t sb_httpd_find_parent(const char *pidfile, const sb_sample_t *s);

/* Parse "80,443" (1..SB_KERNEL_MAX_PORTS ports).  Returns 0, or -1 with a
 * message in err. */
int sb_httpd_parse_ports(const char *list, sb_kernel_ports_t *out, char *err, apr_size_t errlen);

/* The first line of file (a password), without its line end, from p.
 * Returns 0, or -1 with a message naming the file in err. */
int sb_httpd_read_password(const char *file, apr_pool_t *p, const char **out, char *err,
                           apr_size_t errlen);

#endif
