/*
 * sbagent.h - what sbagent's files share.
 */
#ifndef SBAGENT_H
#define SBAGENT_H

#include <apr_pools.h>
#include <apr_time.h>
#include "sb_config.h"
#include "sb_source.h"

#include "sb_exit.h"        /* the exit codes, documented in sbagent(8) */

#ifndef SB_DEFAULT_CONFIG
#define SB_DEFAULT_CONFIG SB_SYSCONFDIR "/sbtune/sbtune.yaml"
#endif

/* What the command line asked for beyond the shared configuration. */
typedef struct {
    int once;
    long count;                 /* --count N (0: daemon mode) */
    apr_interval_time_t interval;
    apr_interval_time_t duration; /* daemon: 0 = until SIGTERM */
    int json;
    int flags;                  /* SB_JSON_* */
    sb_source_opts_t sopts;     /* built from the configuration */
    const char *config_file;    /* NULL: none */
    const sb_config_cmdline_t *cmdline; /* re-applied over the file on SIGHUP */
} sb_agent_cli_t;

/* Run the measuring daemon until SIGTERM/SIGINT or cli->duration; returns
 * an exit code. */
int sbagent_daemon(const sb_config_t *cfg, const sb_agent_cli_t *cli, apr_pool_t *p);

#endif
