/*
 * sb_mpm.c - MPM names (sb_mpm.h).
 */
#include "config.h"
#include <string.h>
#include <strings.h>

#include "sb_mpm.h"

static const char *const names[] = { "prefork", "worker", "event" };

const char *sb_mpm_name(sb_mpm_t mpm)
{
    return mpm >= SB_MPM_PREFORK && mpm <= SB_MPM_EVENT ? names[mpm] : "unknown";
}

int sb_mpm_parse(const char *name, sb_mpm_t *out)
{
    size_t n;
    int i;

    *out = SB_MPM_UNKNOWN;
    if (!name) {
        return -1;
    }
    if (strncasecmp(name, "mpm_", 4) == 0) {
        name += 4;
    }
    n = strcspn(name, ".");
    for (i = SB_MPM_PREFORK; i <= SB_MPM_EVENT; i++) {
        if (n == strlen(names[i]) && strncasecmp(name, names[i], n) == 0
            && (name[n] == '\0' || strcmp(name + n, ".c") == 0)) {
            *out = (sb_mpm_t)i;
            return 0;
        }
    }
    return -1;
}

int sb_mpm_slot_holds_keepalive(sb_mpm_t mpm)
{
    return mpm == SB_MPM_PREFORK || mpm == SB_MPM_WORKER;
}
