/*
 * sbtune_opts.c - the command line and the YAML file of sbtune's
 * subcommands: every option is an entry of sb_config_options (lib/sb_config.c)
 * with the subcommand's program bit; here only --config and --help.
 */
#include "config.h"
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "sb_config.h"
#include "sbtune.h"

#define OPT_SHARED_BASE 1000

enum { OPT_HELP = 'h', OPT_CONFIG = 256 };

static const sb_cli_opt_t own[] = {
    { OPT_CONFIG, "config", required_argument, "FILE",
      "read options from this YAML file (default " SBTUNE_DEFAULT_CONFIG " if it exists)" },
    { OPT_HELP, "help", no_argument, NULL, "show this help and exit" },
};
#define NOWN ((int)(sizeof(own) / sizeof(own[0])))

void sbtune_options_help(FILE *out, unsigned prog)
{
    sb_cli_help(out, own, NOWN);
    sb_config_help(out, prog);
}

static int usage_error(const sbtune_cmd_t *cmd, const char *msg)
{
    if (msg) {
        fprintf(stderr, "sbtune %s: %s\n", cmd->name, msg);
    }
    fprintf(stderr, "Try 'sbtune %s --help' for more information.\n", cmd->name);
    return SBTUNE_EXIT_USAGE;
}

int sbtune_options(const sbtune_cmd_t *cmd, int argc, char **argv, sb_config_t *cfg,
                   apr_pool_t *p)
{
    struct option lopts[NOWN + 128];
    char shortopts[2 * NOWN + 8] = "";
    char prog[64], err[1024];
    sb_config_cmdline_t *cl = apr_pcalloc(p, sizeof(*cl));
    const char *file = NULL;
    int n, c;

    n = sb_cli_getopt(own, NOWN, lopts, NOWN, shortopts);
    n += sb_config_getopt(lopts + n, (int)(sizeof(lopts) / sizeof(lopts[0])) - n - 1,
                          cmd->prog, OPT_SHARED_BASE, p);
    memset(&lopts[n], 0, sizeof(lopts[n]));
    snprintf(prog, sizeof(prog), "sbtune %s", cmd->name);
    argv[0] = prog;             /* getopt's messages name it */
    optind = 1;
    while ((c = getopt_long(argc, argv, shortopts, lopts, NULL)) != -1) {
        if (c == OPT_HELP) {
            cmd->usage(stdout);
            return SBTUNE_EXIT_OK;
        }
        if (c == OPT_CONFIG) {
            file = optarg;
        }
        else if (sb_config_cmdline_getopt(cl, c, OPT_SHARED_BASE, optarg) != 0) {
            return usage_error(cmd, c == '?' ? NULL : "too many options");
        }
    }
    if (optind < argc) {
        snprintf(err, sizeof(err), "unexpected argument '%s'", argv[optind]);
        return usage_error(cmd, err);
    }
    if (sb_config_resolve(cfg, p, &file, SBTUNE_DEFAULT_CONFIG, cl, cmd->prog, err,
                          sizeof(err)) != 0) {
        return usage_error(cmd, err);
    }
    return -1;
}
