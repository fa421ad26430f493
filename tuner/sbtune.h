/*
 * sbtune.h - what sbtune's files share.
 */
#ifndef SBTUNE_H
#define SBTUNE_H

#include <apr_pools.h>

/* Exit codes (documented in sbtune(8)). */
#define SBTUNE_EXIT_OK      0
#define SBTUNE_EXIT_FAILURE 1
#define SBTUNE_EXIT_USAGE   2
#define SBTUNE_EXIT_NOFIT   4   /* memory cannot hold the slots at any sensible
                                 * KeepAliveTimeout: the fallback is printed */

/* "sbtune plan ...": the planning calculator (argv[0] is "plan").
 * Returns an exit code. */
int sbtune_plan_main(int argc, char **argv, apr_pool_t *p);

#endif
