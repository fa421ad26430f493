/*
 * sbtune_apply_cmd.c - "sbtune apply": write the given directives into the
 * snippet and apply them with sbtune_apply_run() (configtest, graceful or
 * stop and start, verification, rollback), under a lock, quiet for cron.
 * Its options, and the ones report --apply shares, are entries of
 * sb_config_options (lib/sb_config.c).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <apr_general.h>
#include <apr_strings.h>

#include "sb_httpd.h"
#include "sbtune.h"
#include "sbtune_apply.h"

static void usage(FILE *out)
{
    fprintf(out,
            "Usage: sbtune apply --snippet PATH --set NAME=VALUE... "
            "(--scoreboard PATH | --status-url URL) [OPTION]...\n"
            "Write the directives into the snippet and apply them to the running httpd:\n"
            "include check, configtest, graceful (or stop and start), verification, and\n"
            "byte-for-byte rollback on any failure.\n\n");
    sbtune_options_help(out, SB_PROG_APPLY);
    fprintf(out,
            "\nExit status: 0 no change, 10 changed (verified), 11 recommendation only (dry\n"
            "run), 1 error before httpd was touched, 2 usage, 3 httpd cannot be observed,\n"
            "12 locked by another run, 13 refused (stop and start needed, snippet not\n"
            "included, unsafe path; nothing changed), 14 failed and rolled back (verified),\n"
            "15 failed and the rollback failed too (check httpd now).  See sbtune(8).\n");
}

static const sbtune_cmd_t apply_cmd = { "apply", SB_PROG_APPLY, usage };

static const char *nonempty(const char *s)
{
    return s && *s ? s : NULL;
}

int sbtune_apply_opts_from_config(sbtune_apply_opts_t *o, const sb_config_t *cfg,
                                  apr_pool_t *p, char *err, apr_size_t errlen)
{
    o->snippet = nonempty(cfg->snippet);
    o->apachectl = cfg->apachectl;
    o->ctl_style = strcmp(cfg->apachectl_style, "verbs") == 0 ? SBTUNE_CTL_VERBS
        : strcmp(cfg->apachectl_style, "flags") == 0 ? SBTUNE_CTL_FLAGS : SBTUNE_CTL_AUTO;
    o->scoreboard = nonempty(cfg->scoreboard);
    o->status_url = nonempty(cfg->status_url);
    o->status_user = nonempty(cfg->status_user);
    o->ca_file = nonempty(cfg->ca_file);
    o->insecure = cfg->insecure;
    if (*cfg->status_password_file) {
        if (!o->status_user) {
            snprintf(err, errlen, "status_password_file needs status_user");
            return -1;
        }
        if (sb_httpd_read_password(cfg->status_password_file, p, &o->status_password, err,
                                   errlen) != 0) {
            return -1;
        }
    }
    o->mpm = strcmp(cfg->mpm, "prefork") == 0 ? SB_MPM_PREFORK
        : strcmp(cfg->mpm, "worker") == 0 ? SB_MPM_WORKER
        : strcmp(cfg->mpm, "event") == 0 ? SB_MPM_EVENT : -1;
    o->httpd_minor = strcmp(cfg->httpd_version, "2.2") == 0 ? 2
        : strcmp(cfg->httpd_version, "2.4") == 0 ? 4 : 0;
    o->allow_stop_start = cfg->allow_stop_start;
    o->history = nonempty(cfg->history);
    o->lock = nonempty(cfg->lock);
    o->lock_wait_s = cfg->lock_wait;
    o->verify_timeout_s = cfg->verify_timeout;
    o->dry_run = cfg->dry_run;
    return 0;
}

/* The --set lines into o->set.  Returns 0, or -1 with the message out. */
static int set_directives(sbtune_apply_opts_t *o, const char *lines, apr_pool_t *p)
{
    char err[512], *last, *line;

    for (line = apr_strtok(apr_pstrdup(p, lines), "\n", &last); line;
         line = apr_strtok(NULL, "\n", &last)) {
        if (sb_directive_set(&o->set, line, NULL, err, sizeof(err)) != 0) {
            fprintf(stderr, "sbtune apply: --set %s\n", err);
            return -1;
        }
    }
    return 0;
}

static void print_result(int code, const sbtune_apply_result_t *res)
{
    if (code == SBTUNE_APPLY_RECOMMEND && res->snippet_text) {
        fputs(res->snippet_text, stdout);
        fputs("\n", stdout);
    }
    if (res->report && *res->report) {
        fputs(res->report, stdout);
    }
    fflush(stdout);
    if (res->error) {
        fprintf(stderr, "sbtune apply: %s\n", res->error);
    }
    fprintf(code == SBTUNE_APPLY_CHANGED || code == SBTUNE_APPLY_NOCHANGE
            || code == SBTUNE_APPLY_RECOMMEND ? stdout : stderr,
            "sbtune apply: %s (exit %d)\n", sbtune_apply_exit_name(code), code);
}

int sbtune_cmd_apply(int argc, char **argv)
{
    sb_config_t cfg;
    sbtune_apply_opts_t o;
    sbtune_apply_result_t res;
    apr_pool_t *p;
    char err[512] = "";
    int code;

    if (apr_pool_create(&p, NULL) != APR_SUCCESS) {
        fprintf(stderr, "sbtune apply: out of memory\n");
        return SBTUNE_APPLY_ERROR;
    }
    sbtune_apply_opts_init(&o);
    if ((code = sbtune_options(&apply_cmd, argc, argv, &cfg, p)) >= 0) {
        apr_pool_destroy(p);
        return code;
    }
    if (sbtune_apply_opts_from_config(&o, &cfg, p, err, sizeof(err)) != 0
        || set_directives(&o, cfg.set, p) != 0) {
        if (err[0]) {
            fprintf(stderr, "sbtune apply: %s\n", err);
        }
        apr_pool_destroy(p);
        return SBTUNE_APPLY_USAGE;
    }
    if (o.snippet == NULL) {
        fprintf(stderr, "sbtune apply: --snippet PATH is required\n");
        apr_pool_destroy(p);
        return SBTUNE_APPLY_USAGE;
    }
    o.reason = nonempty(cfg.reason);
    o.data = nonempty(cfg.data);
    code = sbtune_apply_run(&o, &res, p);
    if (!cfg.cron || (code != SBTUNE_APPLY_NOCHANGE && code != SBTUNE_APPLY_RECOMMEND)) {
        print_result(code, &res);
    }
    apr_pool_destroy(p);
    return code;
}
