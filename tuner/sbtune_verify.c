/*
 * sbtune_verify.c - whether a reload took: the new generation, the
 * limits and keep-alive in force as the sources show them, a stop and
 * start seen through; and the rollback (contracts in sbtune_apply_int.h).
 */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/types.h>

#include <apr_strings.h>

#include "sbtune_apply_int.h"

pid_t sbtune_read_pidfile(const char *path)
{
    FILE *f;
    long pid = 0;

    if (path == NULL || (f = fopen(path, "r")) == NULL) {
        return 0;
    }
    if (fscanf(f, "%ld", &pid) != 1) {
        pid = 0;
    }
    fclose(f);
    return (pid_t)pid;
}

/* The process exists and is not a zombie. */
int sbtune_pid_alive(pid_t pid)
{
    char path[64], buf[512];
    FILE *f;
    char *rp;
    int alive = 1;

    if (pid <= 0 || (kill(pid, 0) != 0 && errno == ESRCH)) {
        return 0;
    }
    snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
    if ((f = fopen(path, "r")) == NULL) {
        return errno == ENOENT ? 0 : 1;
    }
    if (fgets(buf, sizeof(buf), f) && (rp = strrchr(buf, ')')) != NULL && rp[1] == ' '
        && (rp[2] == 'Z' || rp[2] == 'X')) {
        alive = 0;
    }
    fclose(f);
    return alive;
}

/* PidFile from -t -D DUMP_RUN_CFG ("PidFile: "/path""). */
void sbtune_find_pidfile(sbtune_ctx_t *c)
{
    sbtune_ctl_result_t r;
    const char *s;

    sbtune_ctl_run(&c->ctl, SBTUNE_CTL_RUN_CFG, &r);
    s = strstr(r.out, "PidFile: ");
    if (r.status != 0 || s == NULL) {
        return;
    }
    s += 9;
    if (*s == '"') {
        s++;
    }
    c->pidfile = apr_pstrndup(c->pool, s, strcspn(s, "\"\n"));
}

/* Wait until the generation differs from old (or, after a stop and start,
 * until httpd answers again).  Returns 0 or -1 on timeout. */
static int wait_generation(sbtune_ctx_t *c, int old, sbtune_obs_t *ob, apr_pool_t *p)
{
    double deadline = sbtune_now_s() + c->o->verify_timeout_s;

    for (;;) {
        apr_pool_clear(p);
        sbtune_observe(&c->obs, ob, p);
        if (ob->ok && ob->gen >= 0 && ob->gen != old) {
            return 0;
        }
        if (sbtune_now_s() > deadline) {
            return -1;
        }
        sbtune_sleep_ms(SBTUNE_POLL_MS);
    }
}

/* mod_status prints the slots within MaxRequestWorkers ('.' when open)
 * and beyond them only live ones.  So mrw is in force when the Scoreboard
 * is mrw long; longer with only old processes finishing beyond ('G', or
 * (prefork, with the scoreboard) a process of an older generation) it is
 * not decided yet: the same line shows a larger MaxRequestWorkers whose
 * open slots beyond mrw are still held by old processes.  Returns 1 in
 * force, 0 not, -1 undecided (old processes beyond mrw).  An open slot
 * ('.') or a new process beyond mrw means a larger MaxRequestWorkers. */
static int mrw_in_force(const sbtune_obs_t *ob, int mrw, int prefork)
{
    int i, old = 0;

    if (ob->sb_len < mrw) {
        return 0;
    }
    for (i = mrw; i < ob->sb_len; i++) {
        if (ob->sb_line[i] == 'G') {
            old++;
            continue;
        }
        if (prefork && ob->sb_line[i] != '.' && i < ob->nprocs && ob->proc_old[i]) {
            old++;
            continue;
        }
        return 0;
    }
    return old ? -1 : 1;
}

/* Check the new limits (and keep-alive) within the timeout.  Returns 0
 * verified (report lines said), -1 not in force (error set). */
int sbtune_verify_limits(sbtune_ctx_t *c, const sb_directives_t *d, int full_restart,
                         apr_pool_t *p)
{
    double deadline = sbtune_now_s() + c->o->verify_timeout_s;
    sbtune_obs_t ob;
    sb_status_keepalive_t ka;
    int mrw_ok = d->max_request_workers < 0 || !c->o->status_url;
    int mrw_undecided = 0, sl_ok, ka_ok;
    int want_ka = d->keepalive, want_kat = d->keepalive_timeout;

    memset(&ka, 0, sizeof(ka));

    sl_ok = !full_restart || !c->o->scoreboard
        || (d->server_limit < 0 && d->thread_limit < 0);
    ka_ok = !c->o->status_url || (want_ka < 0 && want_kat < 0);
    for (;;) {
        apr_pool_clear(p);
        sbtune_observe(&c->obs, &ob, p);
        if (ob.ok) {
            if (!mrw_ok && ob.sb_len >= 0) {
                int v = mrw_in_force(&ob, d->max_request_workers, c->mpm == SB_MPM_PREFORK);
                mrw_ok = v == 1;
                mrw_undecided = v < 0;
            }
            if (!sl_ok && ob.server_limit >= 0) {
                sl_ok = (d->server_limit < 0 || ob.server_limit == d->server_limit)
                    && (d->thread_limit < 0 || c->mpm == SB_MPM_PREFORK
                        || ob.thread_limit == d->thread_limit);
            }
        }
        if (!ka_ok && sbtune_observe_keepalive(&c->obs, &ka) == 0) {
            /* with KeepAlive Off (not set here) no timeout shows */
            if (want_ka == 0) {
                ka_ok = !ka.keepalive_hdr;
            }
            else if (want_ka == 1) {
                ka_ok = ka.keepalive_hdr && (want_kat < 0 || ka.timeout == want_kat);
            }
            else if (c->ka_before == 0) {
                ka_ok = !ka.keepalive_hdr;  /* KeepAlive Off: no timeout to see */
            }
            else {
                ka_ok = ka.keepalive_hdr && ka.timeout == want_kat;
            }
        }
        if (mrw_ok && sl_ok && ka_ok) {
            break;
        }
        if (sbtune_now_s() > deadline) {
            if (!mrw_ok && mrw_undecided && sl_ok && ka_ok) {
                /* old processes still hold the slots beyond: what the
                 * line shows agrees with mrw (the previous behaviour) */
                sbtune_say(c, "note: old processes still finish in slots beyond "
                           "MaxRequestWorkers %d after %.0f s (Scoreboard: %s); taken as in "
                           "force%s", d->max_request_workers, c->o->verify_timeout_s, ob.sb_line,
                           c->config_checked ? " (the configuration sets it: checked before the"
                           " reload)" : " (the configuration was not evaluated: not verified)");
                break;
            }
            if (!mrw_ok) {
                sbtune_set_error(c, "MaxRequestWorkers %d is not in force: mod_status shows %d"
                                 " slots (Scoreboard: %s)", d->max_request_workers, ob.sb_len,
                                 ob.sb_line);
            }
            if (!sl_ok) {
                sbtune_set_error(c, "ServerLimit/ThreadLimit not in force: the scoreboard has"
                                 " %d/%d", ob.server_limit, ob.thread_limit);
            }
            if (!ka_ok) {
                sbtune_set_error(c, "keep-alive not as written: the status URL answers with %s "
                                 "(Keep-Alive timeout=%d); a <VirtualHost> of the status URL may"
                                 " set its own KeepAlive/KeepAliveTimeout",
                                 ka.keepalive_hdr ? "keep-alive" : "Connection: close", ka.timeout);
            }
            return -1;
        }
        sbtune_sleep_ms(SBTUNE_POLL_MS * 2);
    }
    if (d->max_request_workers >= 0) {
        if (c->o->status_url) {
            sbtune_say(c, "verified: mod_status Scoreboard shows MaxRequestWorkers %d",
                       d->max_request_workers);
        }
        else {
            sbtune_say(c, "not verifiable: MaxRequestWorkers (the scoreboard does not hold it; "
                       "give --status-url)");
        }
    }
    if (d->threads_per_child >= 0) {
        sbtune_say(c, "not verifiable on its own: ThreadsPerChild (configtest accepted it"
                   " unchanged%s)", c->o->status_url && d->max_request_workers >= 0
                   ? "; MaxRequestWorkers checked" : "");
    }
    if (full_restart && (d->server_limit >= 0 || d->thread_limit >= 0)) {
        if (c->o->scoreboard) {
            sbtune_say(c, "verified: scoreboard ServerLimit %d ThreadLimit %d", ob.server_limit,
                       ob.thread_limit);
        }
        else {
            sbtune_say(c, "not verifiable: ServerLimit/ThreadLimit (give --scoreboard)");
        }
    }
    if (d->keepalive >= 0 || d->keepalive_timeout >= 0) {
        if (c->o->status_url) {
            sbtune_say(c, "verified: the status URL answers with %s",
                       ka.keepalive_hdr ? apr_psprintf(p, "Keep-Alive: timeout=%d", ka.timeout)
                       : "Connection: close (KeepAlive Off)");
        }
        else {
            sbtune_say(c, "not verifiable: KeepAlive/KeepAliveTimeout (give --status-url: the "
                       "response's Keep-Alive header shows them)");
        }
    }
    return 0;
}

/* Wait until httpd is gone (pid from PidFile; else the sources fail). */
static int wait_stopped(sbtune_ctx_t *c, apr_pool_t *p)
{
    double deadline = sbtune_now_s() + c->o->verify_timeout_s + 5;
    sbtune_obs_t ob;

    for (;;) {
        apr_pool_clear(p);
        if (c->httpd_pid > 0) {
            if (!sbtune_pid_alive(c->httpd_pid)) {
                return 0;
            }
        }
        else {
            sbtune_observe(&c->obs, &ob, p);
            if ((!c->o->scoreboard || ob.shm_gone) && (!c->o->status_url || ob.status_down)) {
                return 0;
            }
        }
        if (sbtune_now_s() > deadline) {
            return -1;
        }
        sbtune_sleep_ms(SBTUNE_POLL_MS);
    }
}

static int wait_started(sbtune_ctx_t *c, sbtune_obs_t *ob, apr_pool_t *p)
{
    double deadline = sbtune_now_s() + c->o->verify_timeout_s;

    for (;;) {
        apr_pool_clear(p);
        sbtune_observe(&c->obs, ob, p);
        if (ob->ok && (!c->o->scoreboard || !ob->shm_gone)
            && (!c->o->status_url || !ob->status_down)) {
            c->httpd_pid = sbtune_read_pidfile(c->pidfile);
            return 0;
        }
        if (sbtune_now_s() > deadline) {
            return -1;
        }
        sbtune_sleep_ms(SBTUNE_POLL_MS);
    }
}

/* Reload with the file as it is now: graceful (verified by the generation)
 * or stop and start (verified by httpd answering again).  Returns 0, or -1
 * with the error set; *loaded says whether httpd (re)read the file. */
int sbtune_verify_reload(sbtune_ctx_t *c, int full, int gen_before, int *gen_after, int *loaded,
                         apr_pool_t *p)
{
    sbtune_ctl_result_t r;
    sbtune_obs_t ob;

    *loaded = 0;
    *gen_after = gen_before;
    if (!full) {
        sbtune_ctl_run(&c->ctl, SBTUNE_CTL_GRACEFUL, &r);
        if (r.status != 0) {
            /* a failed command may still have signalled httpd: what runs
             * now is read again before any result is told */
            sbtune_set_error(c, "'%s' failed (exit %d):\n%s", r.cmdline, r.status,
                             sbtune_ctl_tail(&r, p));
            if (wait_generation(c, gen_before, &ob, p) == 0) {
                *loaded = 1;
                *gen_after = ob.gen;
                sbtune_set_error(c, "... but httpd reloaded all the same: generation %d -> %d "
                                 "(it runs what the snippet file holds)", gen_before, ob.gen);
            }
            else {
                sbtune_say(c, "httpd did not reload: generation still %d after %.0f s",
                           gen_before, c->o->verify_timeout_s);
            }
            return -1;
        }
        sbtune_say(c, "ran: %s", r.cmdline);
        if (wait_generation(c, gen_before, &ob, p) != 0) {
            sbtune_set_error(c, "the reload did not take effect: generation still %d after %.0f s "
                             "('%s' exited 0)%s%s", gen_before, c->o->verify_timeout_s, r.cmdline,
                             *ob.err ? ": " : "", ob.err);
            return -1;
        }
        *loaded = 1;
        *gen_after = ob.gen;
        sbtune_say(c, "verified: generation %d -> %d", gen_before, ob.gen);
        return 0;
    }
    if (c->httpd_pid <= 0) {
        c->httpd_pid = sbtune_read_pidfile(c->pidfile);
    }
    sbtune_ctl_run(&c->ctl, SBTUNE_CTL_STOP, &r);
    if (r.status != 0) {
        sbtune_set_error(c, "'%s' failed (exit %d):\n%s", r.cmdline, r.status,
                             sbtune_ctl_tail(&r, p));
        return -1;
    }
    sbtune_say(c, "ran: %s", r.cmdline);
    if (wait_stopped(c, p) != 0) {
        sbtune_set_error(c, "httpd (pid %ld) still running %.0f s after '%s'", (long)c->httpd_pid,
                         c->o->verify_timeout_s + 5, r.cmdline);
        return -1;
    }
    sbtune_say(c, "httpd stopped%s", c->httpd_pid > 0
               ? apr_psprintf(p, " (pid %ld gone)", (long)c->httpd_pid) : "");
    sbtune_ctl_run(&c->ctl, SBTUNE_CTL_START, &r);
    *loaded = 1;
    if (r.status != 0) {
        sbtune_set_error(c, "'%s' failed (exit %d): httpd is not running:\n%s", r.cmdline, r.status,
                         sbtune_ctl_tail(&r, p));
        return -1;
    }
    sbtune_say(c, "ran: %s", r.cmdline);
    if (wait_started(c, &ob, p) != 0) {
        sbtune_set_error(c, "httpd did not answer within %.0f s after '%s': %s",
                         c->o->verify_timeout_s, r.cmdline, ob.err);
        return -1;
    }
    *gen_after = ob.gen;
    sbtune_say(c, "verified: httpd answers again (new scoreboard generation %d%s)", ob.gen,
               c->httpd_pid > 0 ? apr_psprintf(p, ", pid %ld", (long)c->httpd_pid) : "");
    return 0;
}

/* Put the previous snippet back and, when httpd had loaded the new one,
 * reload it the same way and verify.  Returns SBTUNE_APPLY_ROLLED_BACK or
 * SBTUNE_APPLY_ROLLBACK_FAILED. */
int sbtune_verify_rollback(sbtune_ctx_t *c, int full, int loaded, int httpd_down, int gen,
                           apr_pool_t *p)
{
    int gen2, loaded2;

    if (sbtune_snippet_restore(c->snip) != APR_SUCCESS) {
        sbtune_set_error(c, "ROLLBACK FAILED: %s", sbtune_snippet_error(c->snip));
        return SBTUNE_APPLY_ROLLBACK_FAILED;
    }
    sbtune_say(c, "rolled back: %s %s", sbtune_snippet_path(c->snip),
               sbtune_snippet_previous(c->snip, NULL) ? "restored byte for byte"
               : "removed (there was none)");
    if (httpd_down) {
        sbtune_ctl_result_t r;
        sbtune_obs_t ob;

        sbtune_ctl_run(&c->ctl, SBTUNE_CTL_START, &r);
        if (r.status != 0 || wait_started(c, &ob, p) != 0) {
            sbtune_set_error(c, "ROLLBACK FAILED: httpd does not start with the previous snippet "
                             "('%s' exit %d):\n%s", r.cmdline, r.status, sbtune_ctl_tail(&r, p));
            return SBTUNE_APPLY_ROLLBACK_FAILED;
        }
        sbtune_say(c, "rolled back: httpd started again with the previous snippet");
        return SBTUNE_APPLY_ROLLED_BACK;
    }
    if (!loaded) {
        sbtune_say(c, "rolled back: httpd never loaded the new snippet; no reload needed");
        return SBTUNE_APPLY_ROLLED_BACK;
    }
    if (sbtune_verify_reload(c, full, gen, &gen2, &loaded2, p) != 0) {
        if (!full && loaded2) {
            sbtune_say(c, "rolled back: the reload command failed, but httpd reloaded the "
                       "previous snippet (generation %d -> %d)", gen, gen2);
            return SBTUNE_APPLY_ROLLED_BACK;
        }
        sbtune_set_error(c, "ROLLBACK FAILED: the previous snippet is back in the file but the "
                         "reload with it was not verified; check httpd now");
        return SBTUNE_APPLY_ROLLBACK_FAILED;
    }
    sbtune_say(c, "rolled back: httpd reloaded the previous snippet");
    return SBTUNE_APPLY_ROLLED_BACK;
}
