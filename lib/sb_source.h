/*
 * sb_source.h - httpd seen from outside, through one handle.
 *
 * The handle owns everything a program needs to watch a running httpd:
 * the scoreboard in shared memory (one sb_shm_t for the handle's life: it
 * re-attaches itself after httpd is stopped and started), mod_status (its
 * generation and restart time followed like the scoreboard's, optionally
 * scraped on a thread of its own so that a saturated httpd never stalls
 * the caller), the fallback from the first to the second and back, the
 * kernel's socket tables with the connection tracker, httpd's parent
 * process and listen ports, the memory of httpd's processes, and the
 * deadlines of each.  sbagent's daemon, sbagent --once, sbtop and sbtune's
 * verification are thin users of it, as varnishstat is of the VSM handle.
 *
 * Nothing on a retry path allocates from a long-lived pool: a program
 * that waits for httpd for days does not grow.
 */
#ifndef SB_SOURCE_H
#define SB_SOURCE_H

#include <sys/types.h>
#include <apr_pools.h>
#include <apr_time.h>

#include "sb_config.h"
#include "sb_estimator.h"
#include "sb_kernel.h"
#include "sb_sample.h"
#include "sb_status.h"

typedef struct sb_source sb_source_t;

/* Message levels, as sbagent's log levels. */
typedef enum {
    SB_LEVEL_ERROR = 0,
    SB_LEVEL_WARNING,
    SB_LEVEL_NOTICE,
    SB_LEVEL_INFO,
    SB_LEVEL_DEBUG
} sb_level_t;

/* What the handle tells its user, besides samples. */
typedef enum {
    SB_SN_ERROR = 0,    /* a source failed with a reason not said before */
    SB_SN_DOWN,         /* the source in use stopped answering (msg: why) */
    SB_SN_UP,           /* it answers again after SB_SN_DOWN */
    SB_SN_FALLBACK,     /* the scoreboard failed: mod_status from now on */
    SB_SN_SHM_BACK,     /* the scoreboard is readable again */
    SB_SN_PARENT,       /* httpd's parent process found (or changed) */
    SB_SN_PORTS,        /* the listen ports being watched */
    SB_SN_KERNEL,       /* the kernel source failed or came back */
    SB_SN_BPF,          /* the eBPF source is on, or off and why */
    SB_SN_MEMORY        /* the memory of httpd's processes is unknown */
} sb_source_notice_t;

typedef void (*sb_source_notice_fn)(void *baton, sb_source_notice_t kind, sb_level_t level,
                                    const char *msg);

/* Which kernel sources: sock_diag samples always (accept queue, idle
 * keep-alive connections, gaps), the eBPF lifecycle source (every
 * arrival, close and lifetime) where it loads (AUTO: else one notice
 * says why), always (BPF: a source that fails says so and is tried
 * again), or never (DIAG). */
typedef enum {
    SB_KSRC_AUTO = 0,
    SB_KSRC_BPF,
    SB_KSRC_DIAG
} sb_kernel_source_t;

typedef struct {
    const char *scoreboard;     /* httpd's ScoreBoardFile; NULL or "": none */
    sb_status_opts_t status;    /* status.url NULL or "": none */
    double shm_hz;              /* scoreboard samples per second */
    double status_interval;     /* seconds between scrapes when mod_status is used */
    double kernel_hz;           /* kernel samples per second; 0: off */
    sb_kernel_source_t kernel_source; /* the eBPF lifecycle source too? */
    sb_kernel_ports_t ports;    /* nports 0: found from httpd's parent */
    const char *httpd_pidfile;  /* NULL or "": the parent of a child */
    double memory_interval;     /* seconds between memory samples; 0: off */
    double memory_steady_interval; /* seconds between PSS reads while the
                                 * scoreboard's processes stay the same */
    int async_status;           /* scrape mod_status on a thread of its own */
} sb_source_opts_t;

/* Options from the configuration (every key that concerns the sources;
 * the status password is read from its file).  memory_interval is 5 s,
 * memory_steady_interval 60 s, async_status 0.  Returns 0, or -1 with a
 * message in err naming the key
 * or file at fault. */
int sb_source_opts_from_config(sb_source_opts_t *o, const sb_config_t *cfg, apr_pool_t *p,
                               char *err, apr_size_t errlen);

/* A handle for o (copied; strings must outlive the handle) from p.  est,
 * when not NULL, is fed every sample, kernel view, keep-alive observation
 * and memory figure; fn (may be NULL) receives the notices.  Opens
 * nothing yet.  Never fails. */
sb_source_t *sb_source_create(const sb_source_opts_t *o, sb_estimator_t *est,
                              sb_source_notice_fn fn, void *baton, apr_pool_t *p);

/* Take new options (SIGHUP): a new scoreboard path detaches the old
 * segment and attaches the new one at the next poll; new ports, status
 * options, rates and pidfile apply from the next poll.  o's strings must
 * outlive the handle. */
void sb_source_reconfigure(sb_source_t *s, const sb_source_opts_t *o);

/* What one poll produced. */
typedef struct {
    sb_sample_t *sample;        /* a new sample (from the pool given), or NULL */
    int events;                 /* SB_SHM_EV_* of that sample; the first sample
                                 * of another scoreboard path (reconfigured)
                                 * has SB_SHM_EV_REATTACHED and switched 1 */
    int switched;
    int kernel;                 /* a kernel view was taken (sb_source_kernel_view) */
} sb_source_result_t;

/* Run the samplers whose deadline has come, at most one sample: the
 * scoreboard while it answers, else mod_status when configured.  The
 * sample is allocated from p.  Returns the time of the next deadline. */
apr_time_t sb_source_poll(sb_source_t *s, apr_time_t now, apr_pool_t *p,
                          sb_source_result_t *r);

/* Attach what can be attached now (the scoreboard, httpd's parent, the
 * kernel source and httpd's ports), without sampling for the estimator:
 * for a program about to give up the privileges this needs. */
void sb_source_prime(sb_source_t *s, apr_pool_t *p);

/* One sample of one source now (kind SB_SOURCE_SHM or SB_SOURCE_STATUS),
 * outside the deadlines and the fallback: for --once, --count and the
 * tuner's verification.  *events as sb_shm_events(), also for mod_status
 * (against the previous sample of this handle).  Returns APR_SUCCESS, or
 * the error of sb_shm_sample()/sb_status_fetch(), the reason in
 * sb_source_error(); APR_EINVAL when that source is not configured. */
apr_status_t sb_source_take(sb_source_t *s, sb_source_kind_t kind, apr_pool_t *p,
                            sb_sample_t **out, int *events);

/* The reason of the last failure of the source in use, "" when none. */
const char *sb_source_error(const sb_source_t *s);

/* The malformed lines of the last mod_status page (never NULL). */
const sb_status_report_t *sb_source_status_report(const sb_source_t *s);

/* 1 while mod_status stands in for (or is) the source. */
int sb_source_using_status(const sb_source_t *s);

/* 1 while the source in use does not answer. */
int sb_source_down(const sb_source_t *s);

/* httpd's parent process, 0 when not known. */
pid_t sb_source_parent(const sb_source_t *s);

/* 1 while the eBPF lifecycle source counts arrivals. */
int sb_source_bpf_active(const sb_source_t *s);

/* The last kernel view, NULL before the first. */
const sb_kernel_view_t *sb_source_kernel_view(const sb_source_t *s);

/* Detach the scoreboard, close the kernel source, stop the scrape thread.
 * The handle's memory goes with its pool. */
void sb_source_close(sb_source_t *s);

/* Whether the PSS of httpd's processes is to be read again at a memory
 * sample at now: at once when the set of processes changed since the last
 * read (sig, the scoreboard's process slots and pids, against last_sig;
 * have_sig 0: not known, as with mod_status: every memory sample), else
 * from next_pss on.  For tests. */
int sb_source_pss_due(apr_time_t now, apr_time_t next_pss, int have_sig, uint64_t sig,
                      uint64_t last_sig);

#endif
