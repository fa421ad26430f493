/*
 * sb_procmem.h - memory of httpd's processes and of the host, from /proc.
 *
 * A worker's cost is its PSS (proportional set size: each shared page
 * divided among the processes that map it), not its RSS, which counts the
 * pages shared with the parent and the siblings once per process.  Read from
 * /proc/PID/smaps_rollup (Linux 4.14), or summed from /proc/PID/smaps on
 * older kernels.  The parsers are pure functions over a buffer.
 */
#ifndef SB_PROCMEM_H
#define SB_PROCMEM_H

#include <stdint.h>
#include <sys/types.h>
#include <apr_pools.h>
#include <apr_errno.h>

/* Bits of sb_procmem_t.missing: lines the input lacked. */
#define SB_PM_RSS            0x0001
#define SB_PM_PSS            0x0002
#define SB_PM_PSS_ANON       0x0004
#define SB_PM_PSS_FILE       0x0008
#define SB_PM_PSS_SHMEM      0x0010
#define SB_PM_PRIVATE_CLEAN  0x0020
#define SB_PM_PRIVATE_DIRTY  0x0040
#define SB_PM_SHARED_CLEAN   0x0080
#define SB_PM_SHARED_DIRTY   0x0100
#define SB_PM_SWAP           0x0200
#define SB_PM_SWAP_PSS       0x0400

/* Memory of one process, in bytes. */
typedef struct {
    uint64_t rss;
    uint64_t pss;
    uint64_t pss_anon;          /* the Pss_* split exists in smaps_rollup only */
    uint64_t pss_file;
    uint64_t pss_shmem;
    uint64_t private_clean;
    uint64_t private_dirty;
    uint64_t shared_clean;
    uint64_t shared_dirty;
    uint64_t swap;
    uint64_t swap_pss;
    unsigned int missing;       /* SB_PM_* of fields not in the input (value 0) */
    int summed;                 /* 1: summed over the mappings of smaps; its
                                 * Pss is rounded down per mapping, so it reads
                                 * up to 1 KiB per mapping below smaps_rollup */
    char error[256];            /* why the last call failed, "" on success */
} sb_procmem_t;

/* Bits of sb_hostmem_t.missing. */
#define SB_HM_MEM_TOTAL      0x01
#define SB_HM_MEM_AVAILABLE  0x02
#define SB_HM_MEM_FREE       0x04
#define SB_HM_BUFFERS        0x08
#define SB_HM_CACHED         0x10
#define SB_HM_SWAP_TOTAL     0x20
#define SB_HM_SWAP_FREE      0x40

/* The host's memory, in bytes (/proc/meminfo). */
typedef struct {
    uint64_t mem_total;
    uint64_t mem_available;     /* the kernel's estimate (Linux 3.14+) */
    uint64_t mem_free;
    uint64_t buffers;
    uint64_t cached;
    uint64_t swap_total;
    uint64_t swap_free;
    unsigned int missing;       /* SB_HM_* of fields not in the input (value 0) */
    char error[256];
} sb_hostmem_t;

/* Parse the text of /proc/PID/smaps_rollup (len bytes, no NUL needed) into
 * *out: the "Key:  N kB" lines, kB turned into bytes; a key seen more than
 * once is summed, so the text of /proc/PID/smaps parses too.  Only lines
 * ending in '\n' count (a cut last line is ignored).  Fields without a line
 * are 0 with their SB_PM_* bit in out->missing.  Returns APR_SUCCESS when
 * Rss and Pss were found, APR_EINVAL (out->error says which line) when a
 * known key has a malformed value or a sum past 2^64 bytes, or Rss or Pss
 * is absent. */
apr_status_t sb_procmem_parse_rollup(const char *buf, apr_size_t len,
                                     sb_procmem_t *out);

/* The same for the text of /proc/PID/smaps; sets out->summed. */
apr_status_t sb_procmem_parse_smaps(const char *buf, apr_size_t len,
                                    sb_procmem_t *out);

/* Read the memory of process pid from /proc/pid/smaps_rollup, or sum
 * /proc/pid/smaps when the kernel has no smaps_rollup.  Returns APR_SUCCESS,
 * ESRCH (no such process, or it has no memory any more: exited, a zombie,
 * or a kernel thread; normal for httpd's children, which come and go),
 * APR_EACCES (another user's process: needs root or CAP_SYS_PTRACE),
 * APR_EINVAL (unparsable), or another errno; out->error says which. */
apr_status_t sb_procmem_read(pid_t pid, sb_procmem_t *out);

/* Like sb_procmem_read() but always sums /proc/pid/smaps (the fallback;
 * exported for tests and for comparison). */
apr_status_t sb_procmem_read_smaps(pid_t pid, sb_procmem_t *out);

/* Parse /proc/meminfo text.  Same line rules as sb_procmem_parse_rollup().
 * Returns APR_SUCCESS when MemTotal was found, APR_EINVAL otherwise or on a
 * malformed value of a known key. */
apr_status_t sb_procmem_parse_meminfo(const char *buf, apr_size_t len,
                                      sb_hostmem_t *out);

/* Read /proc/meminfo.  Returns APR_SUCCESS, APR_EINVAL, or an errno. */
apr_status_t sb_procmem_host(sb_hostmem_t *out);

/* The pids whose parent is parent (scanning /proc/[0-9]*\/stat), sorted,
 * in an array allocated from p.  Returns APR_SUCCESS (*n may be 0), ESRCH
 * when parent does not exist, or the errno of opening /proc. */
apr_status_t sb_procmem_children(pid_t parent, apr_pool_t *p, pid_t **pids, int *n);

#endif
