/*
 * sbtune_apply.c - the apply procedure, one function per step (the steps
 * in sbtune_apply.h).
 */
#include "config.h"

#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <apr_sha1.h>
#include <apr_strings.h>

#include "sb_history.h"
#include "sbtune_apply.h"
#include "sbtune_apply_int.h"
#include "sbtune_current.h"

/* The MPM named s, as an int for c->mpm (-1: unknown). */
static int mpm_from_name(const char *s)
{
    sb_mpm_t m;
    return sb_mpm_parse(s, &m) == 0 ? (int)m : -1;
}

const char *sbtune_apply_exit_name(int code)
{
    switch (code) {
    case SBTUNE_APPLY_NOCHANGE: return "no change";
    case SBTUNE_APPLY_ERROR: return "error";
    case SBTUNE_APPLY_USAGE: return "usage";
    case SBTUNE_APPLY_SOURCE: return "source unavailable";
    case SBTUNE_APPLY_CHANGED: return "changed";
    case SBTUNE_APPLY_RECOMMEND: return "recommendation only";
    case SBTUNE_APPLY_LOCKED: return "locked";
    case SBTUNE_APPLY_REFUSED: return "refused";
    case SBTUNE_APPLY_ROLLED_BACK: return "rolled back";
    case SBTUNE_APPLY_ROLLBACK_FAILED: return "rollback failed";
    default: return "unknown";
    }
}


void sbtune_say(sbtune_ctx_t *c, const char *fmt, ...)
{
    va_list ap;
    char *line;

    va_start(ap, fmt);
    line = apr_pvsprintf(c->pool, fmt, ap);
    va_end(ap);
    c->report = apr_pstrcat(c->pool, c->report, line, "\n", NULL);
}

void sbtune_set_error(sbtune_ctx_t *c, const char *fmt, ...)
{
    va_list ap;
    char *msg;

    va_start(ap, fmt);
    msg = apr_pvsprintf(c->pool, fmt, ap);
    va_end(ap);
    c->error = c->error ? apr_pstrcat(c->pool, c->error, "\n", msg, NULL) : msg;
}


static void record_history(sbtune_ctx_t *c, const char *action, const char *before,
                           const char *after, const char *result)
{
    sb_history_t *h;
    sb_hist_change_t row;
    apr_status_t rv;

    if (c->o->history == NULL) {
        return;
    }
    rv = sb_history_open(&h, c->o->history, SB_HISTORY_WRITE, c->pool);
    if (rv == APR_SUCCESS) {
        memset(&row, 0, sizeof(row));
        row.ts = (int64_t)apr_time_sec(apr_time_now());
        row.action = action;
        row.before_json = before;
        row.after_json = after;
        row.reason = c->o->reason ? c->o->reason : "";
        row.result = result;
        rv = sb_history_put_change(h, &row);
        if (rv == APR_SUCCESS) {
            rv = sb_history_flush(h);
        }
    }
    if (rv != APR_SUCCESS) {
        sbtune_say(c, "warning: change not recorded in %s: %s", c->o->history, sb_history_error(h));
    }
    else {
        sbtune_say(c, "recorded in %s: %s (%s)", c->o->history, action, result);
    }
    sb_history_close(h);
}

void sbtune_apply_opts_init(sbtune_apply_opts_t *o)
{
    memset(o, 0, sizeof(*o));
    o->apachectl = "apache2ctl";
    o->ctl_style = SBTUNE_CTL_AUTO;
    sb_directive_init(&o->set);
    o->mpm = -1;
    o->lock_wait_s = 0;
    o->verify_timeout_s = 10;
}

/* One run's state between the steps. */
typedef struct {
    sbtune_apply_result_t *res;
    apr_pool_t *tp;             /* cleared at the end of the run */
    int lockfd;
    sbtune_obs_t before;
    sb_directives_t eff;        /* what is written: the set less what the MPM lacks */
    const char *text;           /* the new snippet */
    const char *prev;           /* the old one, NULL when there was none */
    apr_size_t prev_len;
    const char *before_json, *after_json;
    int full;                   /* stop and start instead of graceful */
    int placeholder;            /* a placeholder file was created */
    sbtune_ctl_result_t base;   /* DUMP_INCLUDES: also configtest's baseline */
    int journal;                /* the journal of this run exists */
    int written;                /* the new snippet is in the file */
} run_t;

/* SIGINT, SIGTERM, SIGHUP during a run: the run finishes its current
 * step, then rolls back what it changed and returns (never exits with the
 * snippet half applied).  apachectl and httpd get the default handlers
 * back at exec. */
static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
    interrupted = sig;
}

/* A step's "go on": any other value is the run's exit code. */
#define NEXT (-1)

static int step_check(sbtune_ctx_t *c, run_t *r)
{
    const sbtune_apply_opts_t *o = c->o;

    if (o->snippet == NULL || o->snippet[0] != '/') {
        sbtune_set_error(c, "an absolute snippet path is required (--snippet)");
        return SBTUNE_APPLY_USAGE;
    }
    if (!o->scoreboard && !o->status_url) {
        sbtune_set_error(c, "give --scoreboard and/or --status-url: sbtune verifies every reload");
        return SBTUNE_APPLY_USAGE;
    }
    if (!sb_directive_any(&o->set)) {
        sbtune_set_error(c, "nothing to apply: no directive set");
        return SBTUNE_APPLY_USAGE;
    }
    if (sbtune_ctl_init(&c->ctl, o->apachectl ? o->apachectl : "apache2ctl", o->ctl_style,
                        c->pool) != 0) {
        sbtune_set_error(c, "cannot parse the apachectl command '%s' (unbalanced quote?)",
                         o->apachectl);
        return SBTUNE_APPLY_USAGE;
    }
    {
        const char *why = sbtune_ctl_missing(&c->ctl, c->pool);
        if (why) {
            sbtune_set_error(c, "cannot run the apachectl command, nothing changed: %s (give "
                             "--apachectl)", why);
            return SBTUNE_APPLY_ERROR;
        }
    }
    /* the path checks before the lock, so that no lock file is made in an
     * unsafe directory; the previous bytes are read again under the lock */
    if (sbtune_snippet_open(&c->snip, o->snippet, c->pool) != APR_SUCCESS) {
        sbtune_set_error(c, "%s", sbtune_snippet_error(c->snip));
        return SBTUNE_APPLY_REFUSED;
    }
    return NEXT;
}

/* 1. lock */
static int step_lock(sbtune_ctx_t *c, run_t *r)
{
    const sbtune_apply_opts_t *o = c->o;
    const char *lock = o->lock ? o->lock : sbtune_lock_default(o->snippet, c->pool);
    char err[600];
    apr_status_t rv;

    if (o->dry_run) {
        return NEXT;
    }
    rv = sbtune_lock_acquire(lock, o->lock_wait_s, &r->lockfd, err, sizeof(err));
    if (rv != APR_SUCCESS) {
        sbtune_set_error(c, "%s", err);
        return rv == APR_EBUSY ? SBTUNE_APPLY_LOCKED
               : rv == APR_EINVAL ? SBTUNE_APPLY_REFUSED : SBTUNE_APPLY_ERROR;
    }
    sbtune_say(c, "locked %s", lock);
    return NEXT;
}

/* The MPM and httpd's minor version: the options, else mod_status, else
 * APACHECTL -V / -v. */
static int find_mpm_version(sbtune_ctx_t *c, const sbtune_obs_t *before)
{
    sbtune_ctl_result_t r;
    const char *s;

    if (c->mpm < 0) {
        c->mpm = mpm_from_name(before->mpm);
    }
    if (c->mpm < 0) {
        sbtune_ctl_run(&c->ctl, SBTUNE_CTL_MPM, &r);
        if (r.status == 0 && (s = strstr(r.out, "Server MPM:")) != NULL) {
            char name[16] = "";

            sscanf(s + 11, " %15s", name);
            c->mpm = mpm_from_name(name);
        }
    }
    if (c->mpm < 0) {
        return -1;
    }
    c->minor = c->o->httpd_minor;
    if (c->minor == 0 && (s = strstr(before->version, "Apache/2.")) != NULL) {
        c->minor = atoi(s + 9);
    }
    if (c->minor == 0) {
        sbtune_ctl_run(&c->ctl, SBTUNE_CTL_VERSION, &r);
        if ((s = strstr(r.out, "Apache/2.")) != NULL) {
            c->minor = atoi(s + 9);
        }
    }
    if (c->minor != 2) {
        c->minor = 4;
    }
    return 0;
}

/* 2. what runs now */
static int step_before(sbtune_ctx_t *c, run_t *r)
{
    const sbtune_apply_opts_t *o = c->o;
    sbtune_obs_t *b = &r->before;

    sbtune_observe(&c->obs, b, r->tp);
    if (!b->ok || (o->scoreboard && b->shm_gone) || (o->status_url && b->status_down)) {
        sbtune_set_error(c, "httpd cannot be observed, nothing changed: %s", b->err);
        return SBTUNE_APPLY_SOURCE;
    }
    r->res->gen_before = b->gen;
    b->sb_line = apr_pstrdup(c->pool, b->sb_line);
    if (find_mpm_version(c, b) != 0) {
        sbtune_set_error(c, "cannot tell httpd's MPM (give --mpm)");
        return SBTUNE_APPLY_SOURCE;
    }
    sbtune_say(c, "httpd 2.%d, MPM %s, generation %d%s%s", c->minor, sb_mpm_name((sb_mpm_t)c->mpm), b->gen,
               b->server_limit >= 0
               ? apr_psprintf(r->tp, ", ServerLimit %d ThreadLimit %d", b->server_limit,
                              b->thread_limit) : "",
               b->sb_len >= 0 ? apr_psprintf(r->tp, ", %d slots in mod_status", b->sb_len) : "");
    return NEXT;
}

/* The "before" of the history row: the old snippet and what runs. */
static const char *before_json(const sbtune_ctx_t *c, const sbtune_obs_t *b, apr_pool_t *p)
{
    const char *snip = sb_directive_json(&c->prevd, p);
    const char *slots = b->sb_len >= 0 ? apr_psprintf(p, ",\"slots\":%d", b->sb_len) : "";

    if (b->server_limit >= 0) {
        return apr_psprintf(p, "{\"snippet\":%s,\"running\":{\"generation\":%d,"
                            "\"ServerLimit\":%d,\"ThreadLimit\":%d%s}}", snip, b->gen,
                            b->server_limit, b->thread_limit, slots);
    }
    return apr_psprintf(p, "{\"snippet\":%s,\"running\":{\"generation\":%d%s}}", snip, b->gen,
                        slots);
}

/* 3-4. the snippet file, what would be written, and whether it differs */
static int step_render(sbtune_ctx_t *c, run_t *r)
{
    const sbtune_apply_opts_t *o = c->o;
    sb_directive_meta_t meta;

    if (sbtune_snippet_open(&c->snip, o->snippet, c->pool) != APR_SUCCESS) {
        sbtune_set_error(c, "%s", sbtune_snippet_error(c->snip));
        return SBTUNE_APPLY_REFUSED;
    }
    r->prev = sbtune_snippet_previous(c->snip, &r->prev_len);
    if (r->prev) {
        sb_directive_parse(&c->prevd, r->prev, r->prev_len);
    }
    r->eff = o->set;
    if (c->mpm == SB_MPM_PREFORK) {
        r->eff.threads_per_child = r->eff.thread_limit = -1;
    }
    meta.mpm = sb_mpm_name((sb_mpm_t)c->mpm);
    meta.httpd_minor = c->minor;
    meta.when = apr_time_now();
    meta.data = o->data;
    meta.why = o->reason;
    r->text = sb_directive_render(&r->eff, &meta, c->pool);
    r->res->snippet_text = r->text;
    if (r->prev && strcmp(sb_directive_body(r->prev, r->prev_len, r->tp),
                          sb_directive_body(r->text, strlen(r->text), r->tp)) == 0) {
        sbtune_say(c, "no change: %s already holds these directives", o->snippet);
        return SBTUNE_APPLY_NOCHANGE;
    }
    r->before_json = before_json(c, &r->before, c->pool);
    r->after_json = sb_directive_json(&r->eff, c->pool);
    return NEXT;
}

/* Why a stop and start is needed (ServerLimit/ThreadLimit grow), or NULL. */
static const char *needs_stop_start(sbtune_ctx_t *c, const run_t *r, apr_pool_t *p)
{
    const sb_directives_t *e = &r->eff, *pd = &c->prevd;
    const sbtune_obs_t *b = &r->before;
    const char *why = NULL;

    if (e->server_limit >= 0) {
        if (b->server_limit >= 0 ? e->server_limit > b->server_limit
            : e->server_limit != pd->server_limit) {
            why = b->server_limit >= 0
                ? apr_psprintf(p, "ServerLimit %d -> %d", b->server_limit, e->server_limit)
                : apr_psprintf(p, "ServerLimit %d (the running one is unknown without "
                               "--scoreboard; the previous snippet had %d)",
                               e->server_limit, pd->server_limit);
        }
        else if (b->server_limit >= 0 && e->server_limit < b->server_limit) {
            sbtune_say(c, "note: ServerLimit %d -> %d takes effect at the next stop and start; "
                       "until then the larger one stays", b->server_limit, e->server_limit);
        }
    }
    if (e->thread_limit >= 0 && c->mpm != SB_MPM_PREFORK
        && (b->thread_limit >= 0 ? e->thread_limit > b->thread_limit
            : e->thread_limit != pd->thread_limit)) {
        why = apr_psprintf(p, "%s%sThreadLimit %d -> %d", why ? why : "", why ? ", " : "",
                           b->thread_limit >= 0 ? b->thread_limit : pd->thread_limit,
                           e->thread_limit);
    }
    return why;
}

/* 5. graceful or stop + start?  (and the dry run stops here) */
static int step_restart_kind(sbtune_ctx_t *c, run_t *r)
{
    const char *why = needs_stop_start(c, r, c->pool);

    if (why && !c->o->allow_stop_start) {
        sbtune_set_error(c, "refused, nothing changed: %s.  httpd ignores ServerLimit and "
                         "ThreadLimit changes on every restart, graceful or full (AH00179 "
                         "prefork, AH00304/AH00309 worker, AH00501/AH00506 event: \"changing "
                         "ServerLimit ... not allowed during restart\"): they take a stop and a "
                         "start, which drops every connection.  Run again with "
                         "--allow-stop-start to do that, or plan within the running limits",
                         why);
        return SBTUNE_APPLY_REFUSED;
    }
    if (why) {
        r->full = 1;
        sbtune_say(c, "stop and start needed (--allow-stop-start given): %s", why);
    }
    if (c->o->dry_run) {
        sbtune_say(c, "dry run: %s would change (snippet above)", c->o->snippet);
        return SBTUNE_APPLY_RECOMMEND;
    }
    return NEXT;
}

static int refuse_include(sbtune_ctx_t *c, run_t *r)
{
    if (r->placeholder) {
        sbtune_snippet_restore(c->snip);
    }
    return SBTUNE_APPLY_REFUSED;
}

static const char placeholder_text[] =
    "# sbtune placeholder: checking that httpd includes this file\n";

/* ------------------------------------------------------------------ journal */

#define JOURNAL ".sbtune-journal"
#define PREV ".sbtune-prev"

/* SHA-1 of len bytes of data in hex ("none" for NULL). */
static const char *sha1_hex(const char *data, apr_size_t len, apr_pool_t *p)
{
    apr_sha1_ctx_t ctx;
    unsigned char d[APR_SHA1_DIGESTSIZE];
    char *out;
    int i;

    if (!data) {
        return "none";
    }
    apr_sha1_init(&ctx);
    apr_sha1_update_binary(&ctx, (const unsigned char *)data, (unsigned int)len);
    apr_sha1_final(d, &ctx);
    out = apr_palloc(p, 2 * APR_SHA1_DIGESTSIZE + 1);
    for (i = 0; i < APR_SHA1_DIGESTSIZE; i++) {
        snprintf(out + 2 * i, 3, "%02x", d[i]);
    }
    return out;
}

/* Record (again) what this run is about to do: step names the next one. */
static int journal_put(sbtune_ctx_t *c, run_t *r, const char *step)
{
    const char *text = apr_psprintf(
        r->tp, "sbtune journal 1\npid %ld\ntime %ld\nsnippet %s\nstep %s\nprev %s\n"
        "new %s\ngeneration %d\nfull %d\nafter %s\nbefore %s\n", (long)getpid(),
        (long)apr_time_sec(apr_time_now()), c->o->snippet, step,
        sha1_hex(r->prev, r->prev_len, r->tp), sha1_hex(r->text, strlen(r->text), r->tp),
        r->before.gen, r->full, r->after_json ? r->after_json : "{}",
        r->before_json ? r->before_json : "{}");

    if (sbtune_snippet_put_aux(c->snip, JOURNAL, text, strlen(text)) != APR_SUCCESS) {
        sbtune_set_error(c, "nothing changed: cannot write the journal: %s",
                         sbtune_snippet_error(c->snip));
        return -1;
    }
    r->journal = 1;
    return 0;
}

typedef struct {
    long pid, time;
    int gen, full;
    char step[32], prev[48], new_[48];
    const char *after, *before;
} journal_t;

/* Parse the journal text; 0, or -1 when it is not one. */
static int journal_parse(const char *text, journal_t *j, apr_pool_t *p)
{
    char *copy = apr_pstrdup(p, text), *line, *save = NULL;
    int seen = 0;

    memset(j, 0, sizeof(*j));
    j->gen = -1;
    for (line = apr_strtok(copy, "\n", &save); line; line = apr_strtok(NULL, "\n", &save)) {
        if (strcmp(line, "sbtune journal 1") == 0) {
            seen |= 1;
        }
        else if (sscanf(line, "pid %ld", &j->pid) == 1 || sscanf(line, "time %ld", &j->time) == 1
                 || sscanf(line, "generation %d", &j->gen) == 1
                 || sscanf(line, "full %d", &j->full) == 1) {
        }
        else if (sscanf(line, "step %31s", j->step) == 1) {
            seen |= 2;
        }
        else if (sscanf(line, "prev %47s", j->prev) == 1) {
            seen |= 4;
        }
        else if (sscanf(line, "new %47s", j->new_) == 1) {
            seen |= 8;
        }
        else if (strncmp(line, "after ", 6) == 0) {
            j->after = line + 6;
        }
        else if (strncmp(line, "before ", 7) == 0) {
            j->before = line + 7;
        }
    }
    return seen == 15 ? 0 : -1;
}

/* 1b. an interrupted run left its journal: find out what httpd runs and
 * complete it or roll it back, record that, then go on with this run. */
static int step_recover(sbtune_ctx_t *c, run_t *r)
{
    const char *jtext, *now, *prev = NULL, *hnow, *what;
    apr_size_t jlen, nowlen, prevlen = 0;
    journal_t j;
    sbtune_obs_t ob;
    int code = SBTUNE_APPLY_ROLLED_BACK;
    apr_status_t rv;

    if (c->o->dry_run) {
        return NEXT;
    }
    rv = sbtune_snippet_get_aux(c->snip, JOURNAL, &jtext, &jlen);
    if (rv == APR_ENOENT) {
        return NEXT;
    }
    if (rv != APR_SUCCESS || journal_parse(jtext, &j, r->tp) != 0) {
        sbtune_set_error(c, "refused, nothing changed: %s is not a journal sbtune can read%s%s; "
                         "check %s and httpd, then remove it",
                         sbtune_snippet_aux(c->snip, JOURNAL, 1), rv != APR_SUCCESS ? ": " : "",
                         rv != APR_SUCCESS ? sbtune_snippet_error(c->snip) : "",
                         c->o->snippet);
        return SBTUNE_APPLY_ERROR;
    }
    sbtune_say(c, "recovering: an interrupted run (pid %ld, %ld s ago) left %s before step "
               "'%s'", j.pid, (long)apr_time_sec(apr_time_now()) - j.time,
               sbtune_snippet_aux(c->snip, JOURNAL, 1), j.step);
    if (sbtune_snippet_reread(c->snip, &now, &nowlen) != APR_SUCCESS) {
        sbtune_set_error(c, "recovery: %s", sbtune_snippet_error(c->snip));
        return SBTUNE_APPLY_ERROR;
    }
    hnow = sha1_hex(now, nowlen, r->tp);
    sbtune_observe(&c->obs, &ob, r->tp);
    if (!ob.ok) {
        sbtune_set_error(c, "recovery: httpd cannot be observed, nothing changed (the journal "
                         "stays): %s", ob.err);
        return SBTUNE_APPLY_SOURCE;
    }
    if (strcmp(j.prev, "none") != 0
        && sbtune_snippet_get_aux(c->snip, PREV, &prev, &prevlen) == APR_SUCCESS
        && strcmp(sha1_hex(prev, prevlen, r->tp), j.prev) != 0) {
        prev = NULL;            /* not the bytes the journal names */
    }
    if (strcmp(hnow, j.new_) == 0) {
        /* the new snippet is in the file: did httpd load it? */
        sb_directives_t d;

        sb_directive_init(&d);
        sb_directive_parse(&d, now, nowlen);
        if (ob.gen >= 0 && j.gen >= 0 && ob.gen != j.gen
            && sbtune_verify_limits(c, &d, j.full, r->tp) == 0) {
            sbtune_say(c, "recovered: httpd runs the new snippet (generation %d -> %d), "
                       "verified", j.gen, ob.gen);
            record_history(c, "apply", j.before, j.after, "ok (recovered after an interrupted "
                           "run: httpd had loaded it, verified)");
            code = NEXT;
        }
        else if (strcmp(j.prev, "none") != 0 && !prev) {
            sbtune_set_error(c, "recovery: %s holds the interrupted run's new snippet but %s no "
                             "longer holds the previous one (SHA-1 %s); nothing changed, the "
                             "journal stays: put the previous snippet back by hand",
                             c->o->snippet, sbtune_snippet_aux(c->snip, PREV, 1), j.prev);
            return SBTUNE_APPLY_ROLLBACK_FAILED;
        }
        else {
            int loaded = ob.gen >= 0 && j.gen >= 0 && ob.gen != j.gen;
            sbtune_snippet_set_previous(c->snip, prev, prevlen);
            code = sbtune_verify_rollback(c, j.full, loaded, 0, ob.gen, r->tp);
            record_history(c, "apply", j.before, j.after,
                           code == SBTUNE_APPLY_ROLLED_BACK
                           ? (loaded ? "interrupted run; recovered: rolled back, httpd reloaded "
                              "the previous snippet" : "interrupted run; recovered: rolled "
                              "back, httpd had never loaded it")
                           : "interrupted run; recovery: ROLLBACK FAILED");
        }
    }
    else if (strcmp(hnow, j.prev) == 0
             || (strcmp(j.prev, "none") == 0
                 && strcmp(hnow, sha1_hex(placeholder_text, sizeof(placeholder_text) - 1,
                                          r->tp)) == 0)) {
        /* the previous snippet (or the placeholder) is in the file */
        if (!now || strcmp(j.prev, "none") == 0) {
            sbtune_snippet_set_previous(c->snip, NULL, 0);
            if (now) {
                sbtune_snippet_restore(c->snip);   /* the placeholder goes */
            }
        }
        what = "interrupted run; recovered: the previous snippet was in place";
        if (ob.gen >= 0 && j.gen >= 0 && ob.gen != j.gen) {
            /* httpd reloaded since: it may run the new values; reload what
             * the file says */
            int g2, l2;
            sbtune_say(c, "recovery: httpd reloaded since (generation %d -> %d): reloading the "
                       "previous snippet", j.gen, ob.gen);
            if (sbtune_verify_reload(c, j.full, ob.gen, &g2, &l2, r->tp) != 0 && !l2) {
                record_history(c, "apply", j.before, j.after,
                               "interrupted run; recovery: reload of the previous snippet "
                               "FAILED");
                return SBTUNE_APPLY_ROLLBACK_FAILED;
            }
            what = "interrupted run; recovered: httpd reloaded the previous snippet";
        }
        sbtune_say(c, "recovered: %s holds the previous snippet", c->o->snippet);
        record_history(c, "apply", j.before, j.after, what);
    }
    else {
        sbtune_set_error(c, "refused, nothing changed: %s changed since the interrupted run (it "
                         "holds neither the previous nor the new snippet of %s); check it and "
                         "httpd, then remove the journal", c->o->snippet,
                         sbtune_snippet_aux(c->snip, JOURNAL, 1));
        return SBTUNE_APPLY_REFUSED;
    }
    if (code != NEXT && code != SBTUNE_APPLY_ROLLED_BACK) {
        return code;            /* the journal stays for the next run */
    }
    if (sbtune_snippet_drop_aux(c->snip, JOURNAL) != APR_SUCCESS) {
        sbtune_set_error(c, "recovery: %s", sbtune_snippet_error(c->snip));
        return SBTUNE_APPLY_ERROR;
    }
    return NEXT;
}

/* 6. does httpd include the snippet (and not its backup)? */
static int step_included(sbtune_ctx_t *c, run_t *r)
{
    static const char *ph = placeholder_text;
    const char *snippet = c->o->snippet;
    char snip_real[PATH_MAX], prev_real[PATH_MAX + 32];

    if (journal_put(c, r, "includes") != 0) {
        return SBTUNE_APPLY_ERROR;
    }
    if (r->prev == NULL) {
        if (sbtune_snippet_write(c->snip, ph, strlen(ph)) != APR_SUCCESS) {
            sbtune_set_error(c, "nothing changed: %s", sbtune_snippet_error(c->snip));
            return SBTUNE_APPLY_ERROR;
        }
        r->placeholder = 1;
    }
    sbtune_ctl_run(&c->ctl, SBTUNE_CTL_INCLUDES, &r->base);
    if (realpath(snippet, snip_real) == NULL) {
        apr_cpystrn(snip_real, snippet, sizeof(snip_real));
    }
    if (r->base.status != 0) {
        sbtune_set_error(c, "refused, nothing changed: '%s' failed (exit %d); httpd's "
                         "configuration must pass configtest before sbtune changes it:\n%s",
                         r->base.cmdline, r->base.status, sbtune_ctl_tail(&r->base, c->pool));
        return refuse_include(c, r);
    }
    if (!sbtune_ctl_includes(r->base.out, snip_real, NULL)) {
        sbtune_set_error(c, "refused, nothing changed: httpd's configuration does not include %s "
                         "('%s' does not list it).  Add 'IncludeOptional %s' to httpd's "
                         "configuration (server level, after the MPM's own settings)",
                         snippet, r->base.cmdline, snippet);
        return refuse_include(c, r);
    }
    {
        char *slash = strrchr(snip_real, '/');
        snprintf(prev_real, sizeof(prev_real), "%.*s/.%s.sbtune-prev",
                 slash ? (int)(slash - snip_real) : 0, snip_real, slash ? slash + 1 : snip_real);
    }
    if (sbtune_ctl_includes(r->base.out, NULL, prev_real)) {
        sbtune_set_error(c, "refused, nothing changed: httpd also includes %s (a wildcard Include "
                         "matches sbtune's backup); use a pattern such as *.conf", prev_real);
        return refuse_include(c, r);
    }
    sbtune_say(c, "included: '%s' lists %s", r->base.cmdline, snip_real);
    return NEXT;
}

/* What verification compares with later: the keep-alive header before,
 * httpd's parent. */
static int step_baseline(sbtune_ctx_t *c, run_t *r)
{
    c->ka_before = -1;
    if (c->o->status_url && r->eff.keepalive < 0 && r->eff.keepalive_timeout >= 0) {
        sb_status_keepalive_t ka;

        if (sbtune_observe_keepalive(&c->obs, &ka) == 0) {
            c->ka_before = ka.keepalive_hdr ? 1 : 0;
        }
    }
    sbtune_find_pidfile(c);
    c->httpd_pid = sbtune_read_pidfile(c->pidfile);
    return NEXT;
}

/* 7. write */
static int step_write(sbtune_ctx_t *c, run_t *r)
{
    if (journal_put(c, r, "write") != 0) {
        return SBTUNE_APPLY_ERROR;
    }
    if (sbtune_snippet_write(c->snip, r->text, strlen(r->text)) != APR_SUCCESS) {
        sbtune_set_error(c, "nothing changed: %s", sbtune_snippet_error(c->snip));
        if (r->placeholder) {
            sbtune_snippet_restore(c->snip);
        }
        return SBTUNE_APPLY_ERROR;
    }
    r->written = 1;
    sbtune_say(c, "wrote %s (%lu bytes)%s", c->o->snippet, (unsigned long)strlen(r->text),
               r->prev ? apr_psprintf(r->tp, "; previous version in %s",
                                      sbtune_snippet_aux(c->snip, PREV, 1)) : "");
    return journal_put(c, r, "configtest") == 0 ? NEXT : SBTUNE_APPLY_ERROR;
}

/* 8. configtest */
static int step_configtest(sbtune_ctx_t *c, run_t *r)
{
    sbtune_ctl_result_t t;
    const char *new_warn;
    int code;

    sbtune_ctl_run(&c->ctl, SBTUNE_CTL_CONFIGTEST, &t);
    new_warn = sbtune_ctl_new_warnings(r->base.err, t.err, &r->eff, c->pool);
    if (t.status == 0 && !*new_warn) {
        sbtune_say(c, "configtest ok: %s", t.cmdline);
        return NEXT;
    }
    if (t.status != 0) {
        sbtune_set_error(c, "configtest rejected the snippet: '%s' exit %d:\n%s", t.cmdline,
                         t.status, sbtune_ctl_tail(&t, c->pool));
    }
    else {
        sbtune_set_error(c, "configtest would change the values: httpd accepts them only after "
                         "adjusting them ('%s'):\n%s", t.cmdline,
                         apr_pstrndup(c->pool, new_warn, strlen(new_warn) - 1));
    }
    code = sbtune_verify_rollback(c, r->full, 0, 0, r->before.gen, r->tp);
    if (code == SBTUNE_APPLY_ROLLED_BACK) {
        sbtune_set_error(c, "httpd untouched (no reload was done)");
    }
    record_history(c, "apply", r->before_json, r->after_json, "configtest failed; rolled back");
    return code;
}

/* A directive written to the snippet whose value in force comes from
 * another file (one read after the snippet sets it again), as "Name N in
 * FILE:LINE"; NULL when every written one is the snippet's. */
static const char *overridden(sbtune_ctx_t *c, const run_t *r, const sb_httpdconf_t *hc,
                              apr_pool_t *p)
{
    char snip_real[PATH_MAX], other[PATH_MAX];
    const char *out = NULL;
    int i;

    if (realpath(c->o->snippet, snip_real) == NULL) {
        return NULL;
    }
    for (i = 0; i < sb_directive_count; i++) {
        int id = sb_httpdconf_lookup(sb_directive_table[i].name);
        const sb_hc_value_t *v;

        if (sb_directive_get(&r->eff, i) < 0 || id < 0) {
            continue;
        }
        v = &hc->v[id];
        if (v->origin != SB_HC_CONFIG || !v->file
            || (realpath(v->file, other) != NULL && strcmp(other, snip_real) == 0)) {
            continue;
        }
        out = apr_psprintf(p, "%s%s%s %g at %s:%d", out ? out : "", out ? ", " : "",
                           v->spelled ? v->spelled : sb_directive_table[i].name, v->value,
                           v->file, v->line);
    }
    return out;
}

/* 8b. is what the snippet says what httpd would run?  Another file read
 * after it may set the same directive: then the reload would run that
 * file's value, and the verification could only tell once every process
 * of the old generation is gone.  The configuration says it now, before
 * httpd is touched.  Where the configuration cannot be evaluated, the
 * verification after the reload is the check. */
static int step_effective(sbtune_ctx_t *c, run_t *r)
{
    sb_httpdconf_t *hc;
    const char *why, *over;
    int code;

    if (sbtune_current_discover(c->o, &hc, &why, r->tp) != 0) {
        sbtune_say(c, "note: the configuration was not evaluated (%s); the reload's "
                   "verification checks the values", why);
        return NEXT;
    }
    over = overridden(c, r, hc, r->tp);
    if (!over) {
        sbtune_say(c, "in force after a reload: the values of %s (no later file sets them)",
                   c->o->snippet);
        c->config_checked = 1;
        return NEXT;
    }
    sbtune_set_error(c, "the values of %s would not be in force: a file httpd reads after it "
                     "sets them again (%s)", c->o->snippet, over);
    code = sbtune_verify_rollback(c, r->full, 0, 0, r->before.gen, r->tp);
    if (code == SBTUNE_APPLY_ROLLED_BACK) {
        sbtune_set_error(c, "httpd untouched (no reload was done); move the snippet's Include "
                         "after that file, or remove the directive there");
    }
    record_history(c, "apply", r->before_json, r->after_json,
                   apr_psprintf(r->tp, "overridden (%s); rolled back", over));
    return code;
}

/* 9-11. reload, verify; on failure roll back */
static int step_reload(sbtune_ctx_t *c, run_t *r)
{
    int gen_after = -1, loaded = 0, down, code;

    if (journal_put(c, r, "reload") != 0) {
        return sbtune_verify_rollback(c, r->full, 0, 0, r->before.gen, r->tp);
    }
    if (sbtune_verify_reload(c, r->full, r->before.gen, &gen_after, &loaded, r->tp) == 0
        && sbtune_verify_limits(c, &r->eff, r->full, r->tp) == 0) {
        r->res->gen_after = gen_after;
        r->res->stop_started = r->full;
        sbtune_say(c, "applied: %s", r->after_json);
        record_history(c, "apply", r->before_json, r->after_json,
                       r->full ? "ok (stop and start, verified)" : "ok (graceful, verified)");
        return SBTUNE_APPLY_CHANGED;
    }
    down = r->full && loaded && c->httpd_pid > 0 && !sbtune_pid_alive(c->httpd_pid);
    if (r->full && loaded && c->httpd_pid <= 0) {
        sbtune_obs_t ob;

        sbtune_observe(&c->obs, &ob, r->tp);
        down = !ob.ok;
    }
    r->res->gen_after = gen_after;
    code = sbtune_verify_rollback(c, r->full, loaded, down, gen_after, r->tp);
    r->res->rolled_back = 1;
    record_history(c, "apply", r->before_json, r->after_json,
                   code == SBTUNE_APPLY_ROLLED_BACK ? "reload or verification failed; rolled back"
                   : "reload or verification failed; ROLLBACK FAILED");
    return code;
}

static int (*const steps[])(sbtune_ctx_t *, run_t *) = {
    step_check, step_lock, step_recover, step_before, step_render, step_restart_kind,
    step_included, step_baseline, step_write, step_configtest, step_effective, step_reload,
    NULL
};

/* A signal came between two steps: undo what this run changed. */
static int interrupted_run(sbtune_ctx_t *c, run_t *r)
{
    int code;

    sbtune_set_error(c, "interrupted by signal %d (%s)", (int)interrupted,
                     strsignal((int)interrupted));
    if (!r->written && !r->placeholder) {
        sbtune_set_error(c, "nothing changed");
        return SBTUNE_APPLY_ERROR;
    }
    code = sbtune_verify_rollback(c, r->full, 0, 0, r->before.gen, r->tp);
    record_history(c, "apply", r->before_json, r->after_json,
                   code == SBTUNE_APPLY_ROLLED_BACK ? "interrupted; rolled back"
                   : "interrupted; ROLLBACK FAILED");
    return code;
}

int sbtune_apply_run(const sbtune_apply_opts_t *o, sbtune_apply_result_t *res, apr_pool_t *p)
{
    sbtune_ctx_t cc, *c = &cc;
    run_t r;
    int code = NEXT, i;

    memset(c, 0, sizeof(*c));
    memset(res, 0, sizeof(*res));
    memset(&r, 0, sizeof(r));
    res->gen_before = res->gen_after = -1;
    c->o = o;
    c->pool = p;
    c->report = apr_pstrdup(p, "");
    c->mpm = o->mpm;
    sbtune_observer_init(&c->obs, o, p);
    sb_directive_init(&c->prevd);
    r.res = res;
    r.lockfd = -1;
    apr_pool_create(&r.tp, p);

    {
        struct sigaction sa, old_int, old_term, old_hup;

        memset(&sa, 0, sizeof(sa));
        sa.sa_handler = on_signal;
        sigemptyset(&sa.sa_mask);
        sa.sa_flags = SA_RESTART;
        interrupted = 0;
        sigaction(SIGINT, &sa, &old_int);
        sigaction(SIGTERM, &sa, &old_term);
        sigaction(SIGHUP, &sa, &old_hup);
        for (i = 0; code == NEXT && steps[i]; i++) {
            if (interrupted) {
                code = interrupted_run(c, &r);
                break;
            }
            code = steps[i](c, &r);
        }
        /* a run that reached its result leaves no journal; a failed
         * rollback leaves it for the next run to finish */
        if (r.journal && code != SBTUNE_APPLY_ROLLBACK_FAILED
            && sbtune_snippet_drop_aux(c->snip, JOURNAL) != APR_SUCCESS) {
            sbtune_set_error(c, "warning: %s", sbtune_snippet_error(c->snip));
        }
        sigaction(SIGINT, &old_int, NULL);
        sigaction(SIGTERM, &old_term, NULL);
        sigaction(SIGHUP, &old_hup, NULL);
    }
    sbtune_observer_close(&c->obs);
    if (r.lockfd >= 0) {
        sbtune_lock_release(r.lockfd);
    }
    apr_pool_destroy(r.tp);
    res->code = code;
    res->report = c->report;
    res->error = c->error;
    return code;
}
