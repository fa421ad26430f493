#include "config.h"
#include <stdio.h>
#include "sbagent.h"

int sbagent_daemon(const sb_config_t *cfg, const sb_agent_cli_t *cli, apr_pool_t *p)
{
    fprintf(stderr, "sbagent: the daemon mode is not built yet: give --once or --count N\n");
    return SB_EXIT_USAGE;
}
