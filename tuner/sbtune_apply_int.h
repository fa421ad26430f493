/*
 * sbtune_apply_int.h - what the rooms of the apply procedure share
 * (private to tuner/): the apachectl runner (sbtune_ctl.c), the
 * observation of httpd (sbtune_observe.c), the verification and rollback
 * (sbtune_verify.c) and the procedure's context (sbtune_apply.c).
 */
#ifndef SBTUNE_APPLY_INT_H
#define SBTUNE_APPLY_INT_H

#include <sys/types.h>
#include <apr_pools.h>
#include <apr_tables.h>

#include "sb_source.h"
#include "sb_status.h"
#include "sbtune_apply.h"

#define SBTUNE_POLL_MS 50
#define SBTUNE_CTL_TIMEOUT_S 120.0

/* Monotonic seconds; a sleep that resumes after signals. */
double sbtune_now_s(void);
void sbtune_sleep_ms(long ms);

/* ------------------------------------------------------------------ apachectl */

typedef struct {
    int status;                 /* exit status; -1 not run; 128 + signal */
    char *out;
    char *err;
    const char *cmdline;
} sbtune_ctl_result_t;

typedef enum {
    SBTUNE_CTL_CONFIGTEST, SBTUNE_CTL_GRACEFUL, SBTUNE_CTL_STOP, SBTUNE_CTL_START,
    SBTUNE_CTL_INCLUDES, SBTUNE_CTL_RUN_CFG, SBTUNE_CTL_VERSION, SBTUNE_CTL_MPM,
    SBTUNE_CTL_MODULES
} sbtune_ctl_action_t;

typedef struct {
    apr_pool_t *pool;
    apr_array_header_t *argv;   /* the command, split */
    int verbs;                  /* 1: verbs style */
} sbtune_ctl_t;

/* Split the command line cmd (blanks; '...' and "..." group) and choose
 * the argument style (sbtune_apply.h).  Returns 0, or -1 when cmd does not
 * split (an unbalanced quote, nothing in it). */
int sbtune_ctl_init(sbtune_ctl_t *ctl, const char *cmd, sbtune_ctl_style_t style,
                    apr_pool_t *p);

/* Run action a (at most SBTUNE_CTL_TIMEOUT_S; stdin /dev/null, other fds
 * closed) and fill r; never fails: r->status says how it went. */
void sbtune_ctl_run(const sbtune_ctl_t *ctl, sbtune_ctl_action_t a, sbtune_ctl_result_t *r);

/* Why the command's program cannot be run (not found, not executable),
 * or NULL when it can. */
const char *sbtune_ctl_missing(const sbtune_ctl_t *ctl, apr_pool_t *p);

/* The last 12 lines of r's output, "    | "-indented, for messages. */
const char *sbtune_ctl_tail(const sbtune_ctl_result_t *r, apr_pool_t *p);

/* Whether -t -D DUMP_INCLUDES output out lists want_real (or also_real),
 * compared by realpath.  Returns 1 yes, 0 no. */
int sbtune_ctl_includes(const char *out, const char *want_real, const char *also_real);

/* The lines of b (stderr of a configtest) that are not in a and name one
 * of the directives d sets, "    | "-indented; "" for none. */
char *sbtune_ctl_new_warnings(const char *a, const char *b, const sb_directives_t *d,
                              apr_pool_t *p);

/* ------------------------------------------------------------------ observation */

/* One look at httpd. */
typedef struct {
    int ok;                     /* at least one source answered */
    int gen;                    /* -1 unknown */
    int server_limit, thread_limit; /* scoreboard; -1 unknown */
    int sb_len;                 /* mod_status Scoreboard length; -1 unknown */
    char *sb_line;
    char mpm[16];
    char version[64];
    int shm_gone;               /* scoreboard segment removed */
    int nprocs;                 /* scoreboard process slots below */
    int *proc_old;              /* 1: a live process of an older generation */
    int status_down;            /* mod_status did not answer */
    char err[600];
} sbtune_obs_t;

/* The sources sbtune looks at httpd through. */
typedef struct {
    apr_pool_t *pool;
    const char *scoreboard;     /* ScoreBoardFile, or NULL */
    const char *status_url;     /* mod_status URL, or NULL */
    sb_status_opts_t sopts;
    sb_source_t *src;           /* attaches at the first look */
} sbtune_observer_t;

/* Set up w for o's sources (scoreboard and/or status URL with its auth);
 * nothing is opened yet. */
void sbtune_observer_init(sbtune_observer_t *w, const sbtune_apply_opts_t *o, apr_pool_t *p);

/* One look at httpd through w's sources into ob (from p): the
 * scoreboard's generation, limits and old processes, mod_status's
 * generation, Scoreboard line, MPM and version.  ob->ok is 0 when no
 * source answered; ob->err says why. */
void sbtune_observe(sbtune_observer_t *w, sbtune_obs_t *ob, apr_pool_t *p);

/* Ask the status URL with "Connection: Keep-Alive" and fill h.  Returns
 * 0, or -1 when it did not answer. */
int sbtune_observe_keepalive(sbtune_observer_t *w, sb_status_keepalive_t *h);

/* Detach from the scoreboard (w's memory goes with its pool). */
void sbtune_observer_close(sbtune_observer_t *w);

/* ------------------------------------------------------------------ the procedure */

typedef struct {
    const sbtune_apply_opts_t *o;
    apr_pool_t *pool;
    sbtune_ctl_t ctl;
    sbtune_observer_t obs;
    char *report;
    char *error;
    sbtune_snippet_t *snip;
    sb_directives_t prevd;      /* directives in the previous snippet */
    int mpm;
    int minor;
    pid_t httpd_pid;            /* from PidFile, 0 unknown */
    int ka_before;              /* the status URL's keep-alive before: 1, 0, -1 unknown */
    int config_checked;         /* the evaluated configuration runs the snippet's values */
    const char *pidfile;
} sbtune_ctx_t;

/* Append a line to the report / a paragraph to the error. */
void sbtune_say(sbtune_ctx_t *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void sbtune_set_error(sbtune_ctx_t *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* ------------------------------------------------------------------ verification */

/* httpd's PidFile (from -t -D DUMP_RUN_CFG) into c->pidfile, when it says. */
void sbtune_find_pidfile(sbtune_ctx_t *c);

/* The pid in path, 0 when none. */
pid_t sbtune_read_pidfile(const char *path);

/* The process exists and is not a zombie. */
int sbtune_pid_alive(pid_t pid);

/* Graceful (full 0) or stop and start (full 1), then wait for the new
 * generation.  *loaded is 1 once httpd may have loaded the new snippet.
 * Returns 0, or -1 with the error on c. */
int sbtune_verify_reload(sbtune_ctx_t *c, int full, int gen_before, int *gen_after, int *loaded,
                         apr_pool_t *p);

/* Whether the directives d are in force, as far as the sources show
 * (within verify_timeout_s).  Returns 0, or -1 with the error on c. */
int sbtune_verify_limits(sbtune_ctx_t *c, const sb_directives_t *d, int full_restart,
                         apr_pool_t *p);

/* Put the previous snippet back and, when httpd had loaded the new one
 * (loaded) or is down (httpd_down), reload it the same way and verify.
 * Returns SBTUNE_APPLY_ROLLED_BACK or SBTUNE_APPLY_ROLLBACK_FAILED. */
int sbtune_verify_rollback(sbtune_ctx_t *c, int full, int loaded, int httpd_down, int gen,
                           apr_pool_t *p);

#endif
