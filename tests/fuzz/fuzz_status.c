/*
 * fuzz_status: mod_status's ?auto page (sb_status_parse), and the sample
 * it makes as sbagent writes it in JSON.
 */
#include "config.h"
#define SB_FUZZ_SAMPLE 1
#include "sb_fuzz.h"
#include "sb_status.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p = sb_fuzz_pool();
    sb_sample_t *s = NULL;
    sb_status_report_t r;
    apr_status_t rv;
    int i;

    rv = sb_status_parse((const char *)data, size, p, &s, &r);
    SB_FUZZ_ASSERT(rv == APR_SUCCESS || rv == APR_EINVAL, "status %d", (int)rv);
    SB_FUZZ_ASSERT((rv == APR_SUCCESS) == (s != NULL), "rv %d, sample %p", (int)rv, (void *)s);
    SB_FUZZ_ASSERT(r.nproblems >= 0 && r.nproblems <= SB_STATUS_MAX_PROBLEMS
                   && r.nproblems <= r.nproblems_total, "%d of %d problems",
                   r.nproblems, r.nproblems_total);
    for (i = 0; i < r.nproblems; i++) {
        SB_FUZZ_ASSERT(memchr(r.problems[i].message, '\0', sizeof(r.problems[i].message)),
                       "problem %d not terminated", i);
        SB_FUZZ_ASSERT(r.problems[i].line >= 1, "problem %d on line %d", i, r.problems[i].line);
    }
    if (s) {
        unsigned int sum = 0;
        SB_FUZZ_ASSERT(r.saw_scoreboard, "a sample without a Scoreboard line");
        SB_FUZZ_ASSERT(s->nworkers > 0 && (size_t)s->nworkers <= size,
                       "%d workers from %zu bytes", s->nworkers, size);
        for (i = 0; i < SB_SLOT_NSTATES; i++) {
            sum += s->slots[i];
        }
        SB_FUZZ_ASSERT(sum == (unsigned int)s->nworkers, "slots add up to %u of %d",
                       sum, s->nworkers);
        SB_FUZZ_ASSERT(memchr(s->server.version, '\0', sizeof(s->server.version))
                       && memchr(s->server.mpm, '\0', sizeof(s->server.mpm)),
                       "server strings not terminated");
        sb_fuzz_check_sample_json(s, p);
    }
    apr_pool_destroy(p);
    return 0;
}
