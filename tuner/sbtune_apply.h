/*
 * sbtune_apply.h - write the Apache snippet and apply it to a running httpd
 * safely: include check, configtest, graceful reload (or stop and start),
 * verification, byte-for-byte rollback; a lock and exit codes for cron.
 *
 * The procedure (sbtune_apply_run()):
 *
 *   1. lock          flock() on the lock file; wait up to lock_wait_s
 *   1b. recover      an unfinished journal of an interrupted run: find out
 *                    what httpd runs and complete or roll back (below)
 *   2. before        generation and limits in force, from the scoreboard
 *                    (ServerLimit, ThreadLimit, generation) and/or mod_status
 *                    (MPM, generation, Scoreboard length)
 *   3. snippet       refuse a symlink anywhere on the path, a non-regular
 *                    file, a directory that group or others can write or
 *                    that belongs to another user; keep the previous bytes
 *   4. no change     the new directive lines equal the old ones: exit 0
 *   5. restart kind  ServerLimit/ThreadLimit above the running ones (or
 *                    changed when the running ones are unknown) are ignored
 *                    by every restart (AH00179, AH00501/AH00506): refused
 *                    unless allow_stop_start
 *   6. included?     APACHECTL -t -D DUMP_INCLUDES must list the snippet
 *                    (realpaths compared); a missing snippet is created as
 *                    a comment-only placeholder first (IncludeOptional does
 *                    not list absent files) and removed on refusal
 *   7. write         temp file in the same directory, fsync, rename, fsync
 *                    of the directory; the old bytes also go to
 *                    .NAME.sbtune-prev.  Before it, the journal
 *                    .NAME.sbtune-journal records the intended change (the
 *                    previous and new bytes' SHA-1, the new values, the
 *                    generation before); it is removed once the run's
 *                    result is recorded
 *   8. configtest    APACHECTL -t: a non-zero exit, or a new warning that
 *                    names a directive sbtune set (httpd lowers or raises
 *                    such values and carries on: "MaxRequestWorkers of 0 not
 *                    allowed, increasing to 1") is a rejection: the old file
 *                    is put back byte for byte (or removed), httpd untouched
 *   9. reload        APACHECTL -k graceful, or -k stop then -k start
 *  10. verify        within verify_timeout_s: the generation changed
 *                    (graceful) or a new scoreboard/process answers (stop
 *                    and start); mod_status's Scoreboard is MaxRequestWorkers
 *                    slots long (longer only by old processes finishing: 'G',
 *                    or prefork slots of an older generation in the
 *                    scoreboard); the scoreboard's ServerLimit/ThreadLimit are
 *                    the new ones; the Keep-Alive response header of the
 *                    status URL shows KeepAlive / KeepAliveTimeout.  What no
 *                    source shows is reported as "not verifiable".
 *  11. rollback      any failure after the write: old file back, reloaded
 *                    the same way when httpd had loaded the new one, and
 *                    that reload verified too
 *  12. history       one row in the changes table (when, before, after,
 *                    why, result) when a history file is given
 *
 * The apachectl command is a command line (split on blanks; quotes group).
 * Two argument styles: "verbs" (apachectl configtest|graceful|stop|start,
 * which Debian's apache2ctl routes through systemd for start) and "flags"
 * (-t, -k graceful, -k stop, -k start: the httpd binary itself, or any
 * command with -f CONFIG for a private instance).  Auto: flags when the
 * program is not an *ctl script or the command has -f or -d.
 * DUMP_INCLUDES, -v and DUMP_RUN_CFG use -t/-v/-D in both styles (apachectl
 * passes unknown arguments to httpd).
 */
#ifndef SBTUNE_APPLY_H
#define SBTUNE_APPLY_H

#include <apr_pools.h>
#include "sb_exit.h"
#include <apr_errno.h>
#include <apr_time.h>

#include "sb_config.h"
#include "sb_directive.h"
#include "sb_model.h"

/*
 * Exit codes of "sbtune apply" (and of sbtune --apply / --cron).  Distinct
 * so that cron wrappers can tell them apart; sbtune(8) documents them.
 * 4 is SBTUNE_EXIT_NOFIT (sbtune.h).
 */
typedef enum {
    SBTUNE_APPLY_NOCHANGE = SB_EXIT_OK,      /* the snippet already says this; nothing done */
    SBTUNE_APPLY_ERROR = SB_EXIT_FAILURE,         /* failed before httpd was touched (write
                                     * error, disk full, apachectl missing...):
                                     * the snippet is as it was */
    SBTUNE_APPLY_USAGE = SB_EXIT_USAGE,         /* bad options */
    SBTUNE_APPLY_SOURCE = SB_EXIT_UNAVAILABLE,        /* scoreboard / mod_status unavailable */
    SBTUNE_APPLY_CHANGED = 10,      /* applied, reloaded and verified */
    SBTUNE_APPLY_RECOMMEND = 11,    /* a change is recommended, not applied
                                     * (dry run) */
    SBTUNE_APPLY_LOCKED = 12,       /* another run holds the lock */
    SBTUNE_APPLY_REFUSED = 13,      /* refused, nothing changed: needs stop and
                                     * start, snippet not included, unsafe path */
    SBTUNE_APPLY_ROLLED_BACK = 14,  /* the change failed (configtest, reload,
                                     * verification) and the previous snippet is
                                     * back in force, verified */
    SBTUNE_APPLY_ROLLBACK_FAILED = 15 /* the change failed and so did putting the
                                     * old one back: httpd's state needs a human */
} sbtune_apply_exit_t;

/* The name of an exit code ("changed", "locked", ...). */
const char *sbtune_apply_exit_name(int code);

/* ------------------------------------------------------------------ snippet */

/* The snippet file: the target path, checked, with its previous bytes. */
typedef struct sbtune_snippet sbtune_snippet_t;

/*
 * Check path and read what it holds now.  Every directory from / down is
 * opened without following a symlink (openat, O_NOFOLLOW) and must belong
 * to root or the caller; none may be writable by group or others, except a
 * sticky root-owned one on the way (/tmp), never the snippet's own
 * directory (the sticky bit does not stop new names).  The file itself
 * must not be a symlink and must be a regular file.  Every later access
 * goes through the checked directory's descriptor, never the path again.
 * APR_ENOENT when a directory does not exist, APR_EINVAL when refused.  A
 * missing file is fine (previous = none).  *out is valid even on failure:
 * sbtune_snippet_error() says why.
 */
apr_status_t sbtune_snippet_open(sbtune_snippet_t **out, const char *path, apr_pool_t *p);

/* The previous bytes (NULL when there was no file) and their length. */
const char *sbtune_snippet_previous(const sbtune_snippet_t *s, apr_size_t *len);

/*
 * Replace the file with len bytes of text atomically: a temp name beside
 * it (.NAME.sbtune-tmp.XXXXXX, O_EXCL, the old file's mode and owner, else
 * 0644), write, fsync; then the previous bytes go to .NAME.sbtune-prev the
 * same way (skipped when there were none); then rename over the target and
 * fsync of the directory.  The names sbtune keeps beside the snippet start
 * with a dot, so that httpd's Include globs ("*", "*.conf": fnmatch with
 * FNM_PERIOD) never take them.  On any failure (ENOSPC, EFBIG, ...) the
 * temp file is removed and the target is untouched.  Returns APR_SUCCESS
 * or the errno-based status (error text on the handle).
 */
apr_status_t sbtune_snippet_write(sbtune_snippet_t *s, const char *text, apr_size_t len);

/* Put the previous bytes back byte for byte (atomically, same way), or
 * remove the file when there was none.  Returns APR_SUCCESS or an error. */
apr_status_t sbtune_snippet_restore(sbtune_snippet_t *s);

/* What the file holds now (*now NULL when there is none). */
apr_status_t sbtune_snippet_reread(sbtune_snippet_t *s, const char **now, apr_size_t *len);

/* Replace the previous bytes the handle would restore (a recovery
 * restores what an interrupted run kept). */
apr_status_t sbtune_snippet_set_previous(sbtune_snippet_t *s, const char *prev, apr_size_t len);

/* The name .NAME<suffix> beside the snippet (full: with the directory),
 * and atomic write / read / removal of such a file (mode 0600) through
 * the checked directory. */
const char *sbtune_snippet_aux(const sbtune_snippet_t *s, const char *suffix, int full);
apr_status_t sbtune_snippet_put_aux(sbtune_snippet_t *s, const char *suffix, const char *data,
                                    apr_size_t len);
apr_status_t sbtune_snippet_get_aux(sbtune_snippet_t *s, const char *suffix, const char **data,
                                    apr_size_t *len);
apr_status_t sbtune_snippet_drop_aux(sbtune_snippet_t *s, const char *suffix);

const char *sbtune_snippet_path(const sbtune_snippet_t *s);
const char *sbtune_snippet_error(const sbtune_snippet_t *s);

/* Open the directory of path (want_parent: path names a file, *base gets
 * its name) checking every component as sbtune_snippet_open() does.
 * Returns the directory's descriptor, or -1 with the message in err
 * (errno ENOENT when a directory is missing). */
int sbtune_dir_open(const char *path, int want_parent, const char **base, char *err,
                    apr_size_t errlen, apr_pool_t *p);

/* ------------------------------------------------------------------ lock */

/* The default lock of a snippet DIR/NAME: DIR/.NAME.sbtune-lock. */
const char *sbtune_lock_default(const char *snippet, apr_pool_t *p);

/*
 * Take an exclusive flock() on path, waiting up to wait_s seconds (0: do
 * not wait).  The path is checked like the snippet's; the lock is created
 * exclusively (0600), or an existing file is used only when it is
 * sbtune's own lock (a regular file of the caller's, one link, no access
 * for others, holding nothing or sbtune's line): any other file is
 * refused, never truncated.  The holder's pid is written into it.
 * Returns APR_SUCCESS with *fd set, APR_EBUSY when another process holds
 * it beyond wait_s (its pid, when readable, is in err), APR_EINVAL when
 * refused, or another error.  Released by sbtune_lock_release() or process
 * exit.
 */
apr_status_t sbtune_lock_acquire(const char *path, double wait_s, int *fd,
                                 char *err, apr_size_t errlen);
void sbtune_lock_release(int fd);

/* ------------------------------------------------------------------ apply */

typedef enum {
    SBTUNE_CTL_AUTO = 0,
    SBTUNE_CTL_VERBS,           /* apachectl configtest|graceful|stop|start */
    SBTUNE_CTL_FLAGS            /* -t, -k graceful|stop|start */
} sbtune_ctl_style_t;

typedef struct {
    const char *snippet;        /* required */
    const char *apachectl;      /* default "apache2ctl" */
    sbtune_ctl_style_t ctl_style;
    const char *scoreboard;     /* ScoreBoardFile path, or NULL */
    const char *status_url;     /* mod_status URL, or NULL (one of the two required) */
    const char *status_user;    /* its basic auth, or NULL */
    const char *status_password;
    const char *ca_file;        /* its CA certificates, or NULL */
    int insecure;               /* do not verify its certificate */
    sb_directives_t set;    /* what to write (at least one field) */
    int mpm;                    /* sb_mpm_t, or -1: from mod_status, else -V */
    int httpd_minor;            /* 2 or 4; 0: from APACHECTL -v */
    int allow_stop_start;
    const char *history;        /* history file for the change row, or NULL */
    const char *lock;           /* lock file; NULL: SNIPPET.lock */
    double lock_wait_s;         /* default 0 */
    double verify_timeout_s;    /* per wait, default 10 */
    int dry_run;                /* render and compare only */
    const char *reason;         /* why (the arithmetic), for header and history */
    const char *data;           /* from what data, for the header */
} sbtune_apply_opts_t;

/* Defaults: apache2ctl, auto style, mpm -1, lock wait 0, verify 10 s. */
void sbtune_apply_opts_init(sbtune_apply_opts_t *o);

/* The apply options of cfg (the entries report --apply and apply share:
 * snippet, apachectl, apachectl_style, scoreboard, status_url and its
 * auth, mpm, httpd_version, allow_stop_start, history, lock, lock_wait,
 * verify_timeout, dry_run) into o, which sbtune_apply_opts_init() set up;
 * the status password is read from status_password_file.  Returns 0, or
 * -1 with a message in err. */
int sbtune_apply_opts_from_config(sbtune_apply_opts_t *o, const sb_config_t *cfg,
                                  apr_pool_t *p, char *err, apr_size_t errlen);

typedef struct {
    int code;                   /* sbtune_apply_exit_t */
    int gen_before, gen_after;  /* -1 unknown */
    int stop_started;           /* a stop and start was done */
    int rolled_back;
    const char *snippet_text;   /* what was (or would be) written */
    const char *report;         /* what was done and checked, lines */
    const char *error;          /* the failure, one paragraph; NULL on success */
} sbtune_apply_result_t;

/*
 * Run the procedure above.  Never exits; all memory from p.  Returns
 * res->code; res->report lists every step with its outcome (the
 * configtest or apachectl output on failure), res->error says what went
 * wrong and what state httpd and the file are in.
 */
int sbtune_apply_run(const sbtune_apply_opts_t *o, sbtune_apply_result_t *res, apr_pool_t *p);

/* "sbtune apply ...": the command (argv[0] is "apply").  Options in
 * "sbtune apply --help".  Returns an sbtune_apply_exit_t. */
int sbtune_cmd_apply(int argc, char **argv);

#endif
