/*
 * sbtune_current.h - the settings in force for "sbtune report" (and its
 * --apply): each from the command line, else what the running httpd was
 * configured with (discovered through apachectl: lib/sb_httpdconf, and
 * ServerLimit / ThreadLimit from the scoreboard when --scoreboard is
 * given), else, when discovery is not possible, the snippet sbtune owns,
 * else httpd's compiled-in defaults.  Every value keeps where it came
 * from; an option that differs from what httpd runs is a conflict
 * (reported; the option wins).  sbtune(8), DISCOVERY.
 */
#ifndef SBTUNE_CURRENT_H
#define SBTUNE_CURRENT_H

#include <stdio.h>
#include <apr_pools.h>

#include "sb_httpdconf.h"
#include "sb_json.h"
#include "sb_model.h"
#include "sbtune_apply.h"

typedef struct {
    const char *status;         /* "discovered", or "failed" (then reason) */
    const char *command;        /* the apachectl command line */
    const char *reason;         /* why nothing was discovered, or NULL */
    sb_httpdconf_t *hc;         /* what was discovered (NULL when failed) */
    const char *mpm_src;        /* where the MPM came from */
    const char *src[6];         /* per sb_directive_table index */
    const char *scoreboard;     /* "ServerLimit N, ThreadLimit M" in force, or NULL */
    char *conflicts;            /* one line each: an option against what httpd runs */
    int quiet;                  /* conflicts not printed on stderr (--cron) */
} sbtune_current_t;

/*
 * Fill *mpm, cur and *kat (KeepAliveTimeout in s, 0: KeepAlive Off) from
 * the explicit options they hold on entry (SB_MPM_UNKNOWN / <= 0 / NaN:
 * not given) and discovery with ao's apachectl command, snippet and
 * scoreboard; then httpd's defaults for what is still unset.  Prints the
 * failure of discovery (once) and, unless quiet (--cron: the report
 * carries them whenever it prints), each conflict on stderr, prefixed
 * "sbtune report: ".  Never fails.
 */
void sbtune_current_fill(sbtune_current_t *sc, const sbtune_apply_opts_t *ao, sb_mpm_t *mpm,
                         sb_model_current_t *cur, double *kat, int quiet, apr_pool_t *p);

/*
 * Discovery alone, with ao's apachectl command and snippet (the files as
 * they are now): 0 and *hc, or -1 and *reason.
 */
int sbtune_current_discover(const sbtune_apply_opts_t *ao, sb_httpdconf_t **hc,
                            const char **reason, apr_pool_t *p);

/* "Current settings (...):" and one line per value with its source, the
 * other discovered directives, the conflicts. */
void sbtune_current_print(FILE *out, const sbtune_current_t *sc, sb_mpm_t mpm,
                          const sb_model_current_t *cur, double kat);

/* The same as a JSON object under key. */
void sbtune_current_json(sb_json_t *j, const char *key, const sbtune_current_t *sc,
                         sb_mpm_t mpm, const sb_model_current_t *cur, double kat);

#endif
