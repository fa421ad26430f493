/*
 * sbtune.h - what sbtune's files share.
 */
#ifndef SBTUNE_H
#define SBTUNE_H

#include <stdio.h>
#include <apr_pools.h>
#include "sb_config.h"
#include "sb_json.h"
#include "sb_model.h"

/* Exit codes (documented in sbtune(8)): the shared ones, then sbtune's. */
#include "sb_exit.h"
#define SBTUNE_EXIT_OK      SB_EXIT_OK
#define SBTUNE_EXIT_FAILURE SB_EXIT_FAILURE
#define SBTUNE_EXIT_USAGE   SB_EXIT_USAGE
#define SBTUNE_EXIT_NOFIT   4   /* memory cannot hold the slots at any sensible
                                 * KeepAliveTimeout: the fallback is printed */
#define SBTUNE_EXIT_NODATA  5   /* too little history: what is missing is printed */

/* The YAML file every subcommand reads when there is no --config. */
#ifndef SBTUNE_DEFAULT_CONFIG
#define SBTUNE_DEFAULT_CONFIG SB_SYSCONFDIR "/sbtune/sbtune.yaml"
#endif

/* A subcommand for sbtune_options(). */
typedef struct {
    const char *name;           /* "plan", "report", "apply" */
    unsigned prog;              /* its SB_PROG_* bit */
    void (*usage)(FILE *out);   /* the whole --help */
} sbtune_cmd_t;

/*
 * The options of cmd: argv (argv[0] is the subcommand's name) through
 * getopt_long with the subcommand's entries of sb_config_options plus
 * --config FILE and -h/--help; then the configuration in force: the
 * defaults, the YAML file (--config, else SBTUNE_DEFAULT_CONFIG when it
 * exists; errors name file:line:column), the command line.  Prints the
 * help or the usage error itself.  Returns -1 to go on with cfg, or the
 * exit code: SBTUNE_EXIT_OK after --help, SBTUNE_EXIT_USAGE.
 */
int sbtune_options(const sbtune_cmd_t *cmd, int argc, char **argv, sb_config_t *cfg,
                   apr_pool_t *p);

/* The option lines of prog's --help (--config, --help, then the table's). */
void sbtune_options_help(FILE *out, unsigned prog);

/* "sbtune plan ...": the planning calculator (argv[0] is "plan").
 * Returns an exit code. */
int sbtune_plan_main(int argc, char **argv, apr_pool_t *p);

/* "sbtune report ...": the plan from the agent's history.  Returns an
 * exit code. */
int sbtune_report_main(int argc, char **argv, apr_pool_t *p);

/* "sbtune fleet ...": the plan of every agent a Prometheus server
 * scrapes, one line each.  Returns an exit code. */
int sbtune_fleet_main(int argc, char **argv, apr_pool_t *p);

/* The directives of a sizing as JSON (key as for sb_json values), its
 * model figures as JSON, and the directives as indented text lines. */
void sbtune_json_sizing(sb_json_t *j, const char *key, sb_mpm_t mpm,
                        const sb_model_sizing_t *s);
void sbtune_json_model(sb_json_t *j, const char *key, sb_mpm_t mpm,
                       const sb_model_sizing_t *s);
void sbtune_print_directives(FILE *out, sb_mpm_t mpm, const sb_model_sizing_t *s);

#endif
