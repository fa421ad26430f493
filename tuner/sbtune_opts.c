/*
 * sbtune_opts.c - the command line and the YAML file of sbtune's
 * subcommands: every option is an entry of sb_config_options (lib/sb_config.c)
 * with the subcommand's program bit; here only --config and --help.
 */
#include "config.h"
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include <apr_strings.h>

#include "sb_config.h"
#include "sbtune.h"

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

static int own_option(void *baton, int id, const char *arg)
{
    const sbtune_cmd_t *cmd = baton;

    if (id == OPT_HELP) {
        cmd->usage(stdout);
        return SBTUNE_EXIT_OK;
    }
    return -1;
}

int sbtune_options(const sbtune_cmd_t *cmd, int argc, char **argv, sb_config_t *cfg,
                   apr_pool_t *p)
{
    char *prog = apr_pstrcat(p, "sbtune ", cmd->name, NULL);
    sb_cli_t spec = { prog, cmd->prog, own, NOWN, OPT_CONFIG, SBTUNE_DEFAULT_CONFIG,
                      own_option, (void *)cmd };
    const char *file;

    argv[0] = prog;             /* getopt's messages name it */
    return sb_cli_parse(&spec, argc, argv, cfg, p, &file, NULL);
}
