/*
 * sbtune_opts.c - the command line and the YAML file of sbtune's
 * subcommands: every option is an entry of sb_config_options (lib/sb_config.c)
 * with the subcommand's program bit; --config and --help come with
 * sb_cli_parse().
 */
#include "config.h"
#include <stdio.h>
#include <string.h>

#include <apr_strings.h>

#include "sb_config.h"
#include "sbtune.h"

static int no_own_options(void *baton, int id, const char *arg)
{
    return -1;
}

static sb_cli_t spec_of(const sbtune_cmd_t *cmd, const char *prog)
{
    sb_cli_t spec;

    memset(&spec, 0, sizeof(spec));
    spec.name = prog;
    spec.program = cmd ? cmd->prog : SB_PROG_TUNE;
    spec.default_file = SBTUNE_DEFAULT_CONFIG;
    spec.usage = cmd ? cmd->usage : NULL;
    spec.fn = no_own_options;
    return spec;
}

void sbtune_options_help(FILE *out, unsigned prog)
{
    sb_cli_t spec = spec_of(NULL, "sbtune");

    sb_cli_help_common(out, &spec);
    sb_config_help(out, prog);
}

int sbtune_options(const sbtune_cmd_t *cmd, int argc, char **argv, sb_config_t *cfg,
                   apr_pool_t *p)
{
    char *prog = apr_pstrcat(p, "sbtune ", cmd->name, NULL);
    sb_cli_t spec = spec_of(cmd, prog);
    const char *file;

    argv[0] = prog;             /* getopt's messages name it */
    return sb_cli_parse(&spec, argc, argv, cfg, p, &file, NULL);
}
