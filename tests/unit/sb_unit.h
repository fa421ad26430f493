/*
 * sb_unit.h - what the unit tests share.
 */
#ifndef SB_UNIT_H
#define SB_UNIT_H

#include <check.h>
#include <sys/types.h>
#include <apr_pools.h>

/* The bytes of tests/data/NAME (under $top_srcdir), NUL-terminated for
 * the helpers (*len excludes the NUL), allocated from p.  Fails the test
 * when the file cannot be read. */
char *sb_unit_load(apr_pool_t *p, const char *name, apr_size_t *len);

/* Run probe(target, msg, len) as user nobody against a process of root's
 * made here (a child that waits on a pipe), and return in msg what probe
 * wrote.  Returns 0 (and runs nothing) when not root: there is no other
 * user to become; 1 otherwise. */
int sb_unit_probe_as_nobody(void (*probe)(pid_t, char *, apr_size_t), pid_t *target_out,
                            char *msg, apr_size_t len);

/* Run every test of s; returns the exit status for main(). */
int sb_unit_run(Suite *s);

#endif
