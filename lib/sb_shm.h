/*
 * sb_shm.h - httpd's scoreboard in shared memory, read from outside.
 *
 * The segment is found through httpd's ScoreBoardFile path with
 * apr_shm_attach(), validated against the layout of the scoreboard.h this
 * build was compiled with, and made read-only with mprotect(): nothing in
 * sbtune can write httpd's scoreboard.  Each sample copies the segment and
 * decodes the copy.  The segment is never removed or destroyed.
 */
#ifndef SB_SHM_H
#define SB_SHM_H

#include <apr_pools.h>
#include <apr_errno.h>
#include "sb_sample.h"

/* The segment's size does not match the layout this build knows. */
#define SB_SHM_EBADSIZE   (APR_OS_START_USERERR + 101)
/* The segment was removed (httpd stopped) and none has replaced it yet. */
#define SB_SHM_EGONE      (APR_OS_START_USERERR + 102)

typedef struct sb_shm sb_shm_t;

/* Events seen by the last sb_shm_sample() call (bit flags). */
#define SB_SHM_EV_REATTACHED  0x1  /* old segment gone, a new one attached */
#define SB_SHM_EV_GENERATION  0x2  /* running_generation changed */
#define SB_SHM_EV_RESTARTED   0x4  /* restart_time changed (full restart) */

/* Attach the scoreboard of the httpd whose ScoreBoardFile is path.
 * *out is allocated from p and is valid even on failure, so that
 * sb_shm_error() can say why.  Returns APR_SUCCESS, APR_ENOENT (no segment:
 * httpd not running, or ScoreBoardFile is not this path), APR_EACCES (not
 * allowed to open it), SB_SHM_EBADSIZE (layout mismatch: wrong httpd
 * version or not a scoreboard), or another APR error. */
apr_status_t sb_shm_open(sb_shm_t **out, const char *path, apr_pool_t *p);

/* Copy and decode the segment into a new sample allocated from p.
 * Detects a segment replaced by a stop and start and reattaches on its own
 * (SB_SHM_EV_REATTACHED), and reports generation and restart changes in
 * sb_shm_events().  Returns APR_SUCCESS, SB_SHM_EGONE when the segment was
 * removed and no new one exists (httpd stopped; call again later), or an
 * error from sb_shm_open() when reattaching fails. */
apr_status_t sb_shm_sample(sb_shm_t *h, apr_pool_t *p, sb_sample_t **out);

/* The message for the last failure: names the path and what to do. */
const char *sb_shm_error(const sb_shm_t *h);

/* SB_SHM_EV_* flags of the last sb_shm_sample() call. */
int sb_shm_events(const sb_shm_t *h);

/* Base address and length of the read-only mapping (for tests). */
const void *sb_shm_base(const sb_shm_t *h, apr_size_t *len);

/* Detach (never removes the segment).  Safe on a handle that failed to open. */
void sb_shm_close(sb_shm_t *h);

/* Size in bytes of a 2.4 scoreboard for these limits, as this build's
 * scoreboard.h lays it out (each record rounded up to 8 bytes). */
apr_size_t sb_shm_layout_size(int server_limit, int thread_limit);

/* Record sizes of this build's scoreboard.h (for tests and messages). */
void sb_shm_record_sizes(apr_size_t *global, apr_size_t *process, apr_size_t *worker);

/* The httpd version this build's scoreboard.h belongs to, e.g. "2.4.71". */
const char *sb_shm_build_version(void);

#endif
