/*
 * sb_shm.h - httpd's scoreboard in shared memory, read from outside.
 *
 * httpd's ScoreBoardFile path names a POSIX shm object the way APR names
 * it (/dev/shm/ShM.<hash>H<hash>).  It is opened read-only without
 * following symlinks and mapped PROT_READ, MAP_SHARED from that descriptor
 * (the kernel refuses PROT_WRITE on it, mprotect included), so nothing in
 * sbtune can write httpd's scoreboard.  Each sample checks the object's
 * size (fstat) and decodes the records straight from the mapping under a
 * SIGBUS guard: an object truncated under us is an error (SB_SHM_EBADSIZE,
 * "truncated"), not a crash.  The guard installs a process-wide SIGBUS
 * handler at the first attach; it only catches faults inside a mapping the
 * faulting thread is decoding, and hands any other SIGBUS to the handler
 * installed before it (or the default action).  A program with a SIGBUS
 * handler of its own installs it before the first sb_shm_open(): one
 * installed after replaces the guard, and a truncation during a decode
 * would then reach it.
 *
 * Trusted only when it is httpd's: a regular object not writable by every
 * user, laid out as this build's scoreboard.h says, naming live processes
 * of one parent whose user owns it (or root owns it), and mapped by that
 * parent (checked where /proc/PARENT/maps can be read: as root, or as the
 * parent's user).  A segment whose processes are all gone is "httpd is not
 * running".  The segment is never removed or destroyed.
 */
#ifndef SB_SHM_H
#define SB_SHM_H

#include <sys/types.h>
#include <apr_pools.h>
#include <apr_errno.h>
#include "sb_sample.h"

/* The segment's size does not match the layout this build knows. */
#define SB_SHM_EBADSIZE   (APR_OS_START_USERERR + 101)
/* The segment was removed (httpd stopped) and none has replaced it yet. */
#define SB_SHM_EGONE      (APR_OS_START_USERERR + 102)
/* The segment outlived httpd: none of its processes is alive, or httpd's
 * parent is gone and its children are orphans (kill -9, a crash). */
#define SB_SHM_EDEAD      (APR_OS_START_USERERR + 103)
/* The object is not httpd's: owner, mode, or httpd's parent does not map it. */
#define SB_SHM_ENOTRUST   (APR_OS_START_USERERR + 104)

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
 * version or not a scoreboard, or truncated), SB_SHM_EDEAD (no live httpd
 * process), SB_SHM_ENOTRUST (not httpd's object), or another APR error. */
apr_status_t sb_shm_open(sb_shm_t **out, const char *path, apr_pool_t *p);

/* Copy and decode the segment into a new sample allocated from p.
 * Detects a segment replaced by a stop and start and reattaches on its own
 * (SB_SHM_EV_REATTACHED), and reports generation and restart changes in
 * sb_shm_events().  Returns APR_SUCCESS, SB_SHM_EGONE when the segment was
 * removed and no new one exists (httpd stopped; call again later),
 * SB_SHM_EDEAD when httpd died and left the segment (call again later: a
 * new httpd makes a new segment), SB_SHM_EBADSIZE when the object was
 * truncated under us, or an error from sb_shm_open() when reattaching
 * fails. */
apr_status_t sb_shm_sample(sb_shm_t *h, apr_pool_t *p, sb_sample_t **out);

/* The message for the last failure: names the path and what to do. */
const char *sb_shm_error(const sb_shm_t *h);

/* SB_SHM_EV_* flags of the last sb_shm_sample() call. */
int sb_shm_events(const sb_shm_t *h);

/* The read-only descriptor of the object (-1 when not attached), the
 * object's name, and httpd's parent found at attach (0 unknown): for
 * tests and messages. */
int sb_shm_fd(const sb_shm_t *h);
apr_size_t sb_shm_size(const sb_shm_t *h);  /* the usable area copied per sample */
const char *sb_shm_object(const sb_shm_t *h);
pid_t sb_shm_parent(const sb_shm_t *h);

/* The read-only mapping of the object (NULL when not attached) and its
 * length, APR's header included: for tests that it cannot be written. */
const void *sb_shm_mapping(const sb_shm_t *h, apr_size_t *len);

/* Tests only: SIGBUS faults inside a mapping the guard caught so far, and
 * a hook called with the object's descriptor between the size check and
 * the decode of each sample (NULL: none), to truncate it just there. */
unsigned long sb_shm_faults_caught(void);
void sb_shm_set_test_hook(void (*before_decode)(int fd));

/* Detach (never removes the segment).  Safe on a handle that failed to open. */
void sb_shm_close(sb_shm_t *h);

/* Decode a raw scoreboard: len bytes at buf, the usable area of the
 * segment (what follows APR's 8-byte size header), validated as attaching
 * validates a segment (at least the global record, server_limit and
 * thread_limit in httpd's ranges, the size they need with this build's
 * layout) and decoded by the code sb_shm_sample() uses, into a new sample
 * from p.  No process is looked at: the trust checks, the MPM and the
 * version are not part of it.  Returns APR_SUCCESS, SB_SHM_EBADSIZE with
 * the message in err, or APR_ENOMEM.  For tests and fuzzing. */
apr_status_t sb_shm_decode_buffer(const void *buf, apr_size_t len, apr_pool_t *p,
                                  sb_sample_t **out, char *err, apr_size_t errlen);

/* Size in bytes of a 2.4 scoreboard for these limits, as this build's
 * scoreboard.h lays it out (each record rounded up to 8 bytes). */
apr_size_t sb_shm_layout_size(int server_limit, int thread_limit);

/* Record sizes of this build's scoreboard.h (for tests and messages). */
void sb_shm_record_sizes(apr_size_t *global, apr_size_t *process, apr_size_t *worker);

/* The httpd version this build's scoreboard.h belongs to, e.g. "2.4.71". */
const char *sb_shm_build_version(void);

#endif
