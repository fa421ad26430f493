/*
 * fuzz_shm: a raw scoreboard segment (the usable area after APR's 8-byte
 * header) through attach's size and limit checks and the decoder of
 * sb_shm_sample() (sb_shm_decode_buffer), and the sample it makes as
 * sbagent writes it in JSON (request lines, vhosts and client addresses
 * are whatever clients sent).
 */
#define SB_FUZZ_SAMPLE 1
#include "sb_fuzz.h"
#include "sb_shm.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p = sb_fuzz_pool();
    sb_sample_t *s = NULL;
    char err[512];
    apr_status_t rv;
    unsigned int sum = 0;
    int i;

    err[0] = '\0';
    rv = sb_shm_decode_buffer(data, size, p, &s, err, sizeof(err));
    SB_FUZZ_ASSERT(rv == APR_SUCCESS || rv == SB_SHM_EBADSIZE, "rv %d", (int)rv);
    SB_FUZZ_ASSERT((rv == APR_SUCCESS) == (s != NULL), "rv %d, sample %p", (int)rv, (void *)s);
    SB_FUZZ_ASSERT(rv == APR_SUCCESS || err[0], "rv %d without a message", (int)rv);
    if (s) {
        SB_FUZZ_ASSERT(sb_shm_layout_size(s->server.server_limit, s->server.thread_limit)
                       == size, "decoded limits %d x %d do not need %zu bytes",
                       s->server.server_limit, s->server.thread_limit, size);
        SB_FUZZ_ASSERT(s->nworkers == s->server.server_limit * s->server.thread_limit
                       && s->nprocs == s->server.server_limit, "%d workers, %d procs",
                       s->nworkers, s->nprocs);
        for (i = 0; i < SB_SLOT_NSTATES; i++) {
            sum += s->slots[i];
        }
        SB_FUZZ_ASSERT(sum <= (unsigned int)s->nworkers, "slots add up to %u of %d",
                       sum, s->nworkers);
        for (i = 0; i < s->nworkers; i++) {
            const sb_worker_t *w = &s->workers[i];
            SB_FUZZ_ASSERT(memchr(w->request, '\0', sizeof(w->request))
                           && memchr(w->vhost, '\0', sizeof(w->vhost))
                           && memchr(w->client, '\0', sizeof(w->client))
                           && memchr(w->protocol, '\0', sizeof(w->protocol)),
                           "worker %d: strings not terminated", i);
        }
        sb_fuzz_check_sample_json(s, p);
    }
    apr_pool_destroy(p);
    return 0;
}
