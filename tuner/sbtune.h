/*
 * sbtune.h - what sbtune's files share.
 */
#ifndef SBTUNE_H
#define SBTUNE_H

#include <stdio.h>
#include <apr_pools.h>
#include "sb_json.h"
#include "sb_model.h"

/* Exit codes (documented in sbtune(8)). */
#define SBTUNE_EXIT_OK      0
#define SBTUNE_EXIT_FAILURE 1
#define SBTUNE_EXIT_USAGE   2
#define SBTUNE_EXIT_NOFIT   4   /* memory cannot hold the slots at any sensible
                                 * KeepAliveTimeout: the fallback is printed */
#define SBTUNE_EXIT_NODATA  5   /* too little history: what is missing is printed */

/* "sbtune plan ...": the planning calculator (argv[0] is "plan").
 * Returns an exit code. */
int sbtune_plan_main(int argc, char **argv, apr_pool_t *p);

/* "sbtune report ...": the plan from the agent's history.  Returns an
 * exit code. */
int sbtune_report_main(int argc, char **argv, apr_pool_t *p);

/* The directives of a sizing as JSON (key as for sb_json values), its
 * model figures as JSON, and the directives as indented text lines. */
void sbtune_json_sizing(sb_json_t *j, const char *key, sb_model_mpm_t mpm,
                        const sb_model_sizing_t *s);
void sbtune_json_model(sb_json_t *j, const char *key, sb_model_mpm_t mpm,
                       const sb_model_sizing_t *s);
void sbtune_print_directives(FILE *out, sb_model_mpm_t mpm, const sb_model_sizing_t *s);

#endif
