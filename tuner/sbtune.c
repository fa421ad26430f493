/*
 * sbtune - turns sbagent's measurements into KeepAliveTimeout and
 * MaxRequestWorkers.
 *
 * This version has the planning calculator (sbtune plan), which needs no
 * history: the planning article's arithmetic, with Erlang C on top.
 */
#include "config.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <apr_general.h>

#include "sbtune.h"
#include "sbtune_apply.h"

static void usage(FILE *out)
{
    fprintf(out,
            "Usage: sbtune plan --conn-rate R --hold-time S [OPTION]...\n"
            "       sbtune plan --slots N --hold-time S [--conn-rate R]\n"
            "       sbtune report --history FILE [OPTION]...\n"
            "       sbtune report --history FILE --apply --snippet FILE"
            " --scoreboard PATH [--cron] [OPTION]...\n"
            "       sbtune report --prometheus URL --instance HOST:PORT [OPTION]...\n"
            "       sbtune fleet --prometheus URL [--selector '{job=\"sbagent\"}'] [OPTION]...\n"
            "       sbtune apply --snippet FILE --set Directive=value... [OPTION]...\n"
            "       sbtune --help | --version\n"
            "Plan KeepAliveTimeout and MaxRequestWorkers for Apache httpd from a\n"
            "connection rate and a hold time (see 'sbtune plan --help'), or from the\n"
            "agent's history (see 'sbtune report --help'), and apply it to the running\n"
            "httpd by graceful reload (report --apply; 'sbtune apply --help').  With a\n"
            "Prometheus server, plan one agent's httpd (report --prometheus) or every\n"
            "agent it scrapes ('sbtune fleet --help').\n"
            "Every subcommand reads " SBTUNE_DEFAULT_CONFIG " (when it exists) or\n"
            "--config FILE first; the command line wins (sbtune.yaml(5)).\n\n"
            "Exit status: 0 ok, 1 other failure, 2 usage error, 4 the memory cap makes\n"
            "the keep-alive plan impossible (the fallback is printed), 5 too little\n"
            "history (what is missing is printed); apply and report --apply: 0 no change,\n"
            "10 changed, 11 recommendation only, 12-15 locked, refused, rolled back,\n"
            "rollback failed; --prometheus and fleet: 6 Prometheus failed, 7 no agent's\n"
            "series.  See sbtune(8).\n");
}

int main(int argc, char **argv)
{
    apr_pool_t *pool;
    int rc;

    apr_app_initialize(&argc, (const char *const **)&argv, NULL);
    atexit(apr_terminate);
    apr_pool_create(&pool, NULL);

    if (argc < 2) {
        usage(stderr);
        return SBTUNE_EXIT_USAGE;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        usage(stdout);
        return SBTUNE_EXIT_OK;
    }
    if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "-V") == 0) {
        printf("sbtune (%s) %s\n", PACKAGE_NAME, PACKAGE_VERSION);
        return SBTUNE_EXIT_OK;
    }
    if (strcmp(argv[1], "plan") == 0) {
        rc = sbtune_plan_main(argc - 1, argv + 1, pool);
    }
    else if (strcmp(argv[1], "report") == 0) {
        rc = sbtune_report_main(argc - 1, argv + 1, pool);
    }
    else if (strcmp(argv[1], "fleet") == 0) {
        rc = sbtune_fleet_main(argc - 1, argv + 1, pool);
    }
    else if (strcmp(argv[1], "apply") == 0) {
        rc = sbtune_cmd_apply(argc - 1, argv + 1);
    }
    else {
        fprintf(stderr, "sbtune: unknown command '%s'\n"
                "Try 'sbtune --help' for more information.\n", argv[1]);
        rc = SBTUNE_EXIT_USAGE;
    }
    apr_pool_destroy(pool);
    return rc;
}
