/*
 * fuzz_prom: an answer of Prometheus's /api/v1/query_range as sbtune
 * report --prometheus and sbtune fleet read it (tuner/sbtune_prom.c:
 * jansson's parse, then the matrix into per-step values).
 */
#include "config.h"
#include <math.h>
#include "sb_fuzz.h"
#include "sbtune_prom.h"

#define STEPS 16

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p = sb_fuzz_pool();
    char err[256];
    sbtune_prom_t *pr = sbtune_prom_create("http://127.0.0.1:9090", "{job=\"sbagent\"}", err,
                                           sizeof(err), p);
    int nseries = -1, rc, i, unknown;
    double *v = NULL;

    SB_FUZZ_ASSERT(pr != NULL, "%s", err);
    rc = sbtune_prom_parse_range(pr, (const char *)data, size, 1000, 60, STEPS, &nseries, &v);
    SB_FUZZ_ASSERT(rc == 0 || rc == -1, "rc %d", rc);
    if (rc == 0) {
        SB_FUZZ_ASSERT(nseries >= 0 && (size_t)nseries <= size, "%d series from %zu bytes",
                       nseries, size);
        SB_FUZZ_ASSERT((nseries > 0) == (v != NULL), "%d series, values %p", nseries,
                       (void *)v);
        /* every step's value is read (ASan checks the array's bounds) */
        for (i = 0, unknown = 0; v && i < STEPS; i++) {
            unknown += isnan(v[i]) != 0;
        }
        SB_FUZZ_ASSERT(unknown <= STEPS, "%d unknown of %d", unknown, STEPS);
    }
    else {
        const char *e = sbtune_prom_error(pr);
        SB_FUZZ_ASSERT(e[0] && strlen(e) < 2048, "no message");
    }
    apr_pool_destroy(p);
    return 0;
}
