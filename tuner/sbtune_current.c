/*
 * sbtune_current.c - the settings in force and where each came from
 * (contracts in sbtune_current.h; what discovery evaluates in
 * lib/sb_httpdconf.h).
 */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <apr_strings.h>

#include "sb_directive.h"
#include "sbtune_apply_int.h"
#include "sbtune_current.h"

/* The last non-blank line of a command's output, for a one-line reason;
 * with the line before when that one ends in ':' (httpd's "Syntax error
 * on line N of FILE:" then the error itself). */
static const char *last_line(const sbtune_ctl_result_t *r, apr_pool_t *p)
{
    const char *all = *r->err ? r->err : r->out;
    const char *e = all + strlen(all), *b, *pe, *pb;

    while (e > all && (e[-1] == '\n' || e[-1] == ' ' || e[-1] == '\r')) {
        e--;
    }
    for (b = e; b > all && b[-1] != '\n'; b--) {
    }
    if (b >= e) {
        return "no output";
    }
    for (pe = b; pe > all && (pe[-1] == '\n' || pe[-1] == '\r' || pe[-1] == ' '); pe--) {
    }
    for (pb = pe; pb > all && pb[-1] != '\n'; pb--) {
    }
    if (pe > pb && pe[-1] == ':') {
        return apr_pstrcat(p, apr_pstrmemdup(p, pb, (apr_size_t)(pe - pb)), " ",
                           apr_pstrmemdup(p, b, (apr_size_t)(e - b)), NULL);
    }
    return apr_pstrmemdup(p, b, (apr_size_t)(e - b));
}

static int run(const sbtune_ctl_t *ctl, sbtune_ctl_action_t a, sbtune_ctl_result_t *r,
               sbtune_current_t *sc, apr_pool_t *p)
{
    sbtune_ctl_run(ctl, a, r);
    if (r->status != 0) {
        sc->reason = r->status == 127 ? apr_psprintf(p, "'%s': %s", r->cmdline, last_line(r, p))
                     : apr_psprintf(p, "'%s' exited %d (%s)", r->cmdline, r->status,
                                    last_line(r, p));
        return -1;
    }
    return 0;
}

/* The -D arguments of the apachectl command itself. */
static void cmdline_defines(sb_httpdconf_t *hc, const sbtune_ctl_t *ctl, apr_pool_t *p)
{
    int i;

    for (i = 1; i < ctl->argv->nelts; i++) {
        const char *a = APR_ARRAY_IDX(ctl->argv, i, const char *);
        const char *name = NULL;

        if (strcmp(a, "-D") == 0 && i + 1 < ctl->argv->nelts) {
            name = APR_ARRAY_IDX(ctl->argv, ++i, const char *);
        }
        else if (strncmp(a, "-D", 2) == 0 && a[2]) {
            name = a + 2;
        }
        if (name) {
            const char *eq = strchr(name, '=');

            sb_httpdconf_define(hc, eq ? apr_pstrmemdup(p, name, (apr_size_t)(eq - name)) : name,
                                eq ? eq + 1 : "");
        }
    }
}

/* apachectl -V, -M, -t -D DUMP_RUN_CFG, -t -D DUMP_INCLUDES, the walk.
 * Returns 0, or -1 with sc->reason. */
static int discover(sbtune_current_t *sc, const sbtune_apply_opts_t *ao, apr_pool_t *p)
{
    sbtune_ctl_t ctl;
    sbtune_ctl_result_t r;
    sb_httpdconf_t *hc = sb_httpdconf_create(p);
    char err[1024];

    if (sbtune_ctl_init(&ctl, sc->command, ao->ctl_style, p) != 0) {
        sc->reason = apr_psprintf(p, "cannot parse the apachectl command '%s'", sc->command);
        return -1;
    }
    if (run(&ctl, SBTUNE_CTL_MPM, &r, sc, p) != 0) {
        return -1;
    }
    if (sb_httpdconf_parse_V(hc, r.out) != 0) {
        sc->reason = apr_psprintf(p, "'%s' printed no \"Server version\" and \"Server MPM\"",
                                  r.cmdline);
        return -1;
    }
    if (run(&ctl, SBTUNE_CTL_MODULES, &r, sc, p) != 0) {
        return -1;
    }
    if (sb_httpdconf_parse_M(hc, r.out) == 0) {
        sc->reason = apr_psprintf(p, "'%s' listed no module", r.cmdline);
        return -1;
    }
    if (run(&ctl, SBTUNE_CTL_RUN_CFG, &r, sc, p) != 0) {
        return -1;
    }
    sb_httpdconf_parse_defines(hc, r.out);
    cmdline_defines(hc, &ctl, p);
    if (run(&ctl, SBTUNE_CTL_INCLUDES, &r, sc, p) != 0) {
        return -1;
    }
    if (sb_httpdconf_parse_includes(hc, r.out, err, sizeof(err)) != 0
        || sb_httpdconf_walk(hc, err, sizeof(err)) != 0) {
        sc->reason = apr_pstrdup(p, err);
        return -1;
    }
    /* a snippet that exists but is not loaded: this is not the
     * configuration it belongs to (a missing one: --apply checks) */
    if (ao->snippet && access(ao->snippet, F_OK) == 0
        && !sb_httpdconf_has_file(hc, ao->snippet)) {
        sc->reason = apr_psprintf(p, "the snippet %s is not among the %d files '%s' loads"
                                  " (is --apachectl the running httpd's?)", ao->snippet,
                                  hc->nfiles, sc->command);
        return -1;
    }
    sc->hc = hc;
    return 0;
}

int sbtune_current_discover(const sbtune_apply_opts_t *ao, sb_httpdconf_t **hc,
                            const char **reason, apr_pool_t *p)
{
    sbtune_current_t sc;

    memset(&sc, 0, sizeof(sc));
    sc.command = ao->apachectl ? ao->apachectl : "apache2ctl";
    *hc = NULL;
    if (discover(&sc, ao, p) != 0) {
        *reason = sc.reason;
        return -1;
    }
    *hc = sc.hc;
    return 0;
}

/* Where a discovered value came from, with httpd's adjustment. */
static const char *where(const sb_httpdconf_t *hc, sb_hc_id_t id, apr_pool_t *p)
{
    const sb_hc_value_t *v = &hc->v[id];
    const char *w = sb_httpdconf_where(hc, id, p);

    if (v->adjusted) {
        return apr_psprintf(p, "%s%s %g; %s", w, v->origin == SB_HC_CONFIG ? " says" : "",
                            v->value, v->adjusted);
    }
    if (v->origin == SB_HC_CONFIG && v->spelled && sb_httpdconf_lookup(v->spelled) == (int)id
        && strcasecmp(v->spelled, sb_httpdconf_name(id)) != 0) {
        return apr_psprintf(p, "%s, as %s", w, v->spelled);
    }
    return w;
}

static void conflict(sbtune_current_t *sc, const char *line, apr_pool_t *p)
{
    sc->conflicts = apr_pstrcat(p, sc->conflicts, line, "\n", NULL);
    if (!sc->quiet) {
        fprintf(stderr, "sbtune report: conflict: %s\n", line);
    }
}

/* The snippet's directives (today's fallback when nothing is discovered). */
static void from_snippet(const sbtune_apply_opts_t *ao, sb_directives_t *sd, apr_pool_t *p)
{
    sbtune_snippet_t *sn;
    const char *prev;
    apr_size_t len;

    sb_directive_init(sd);
    if (ao->snippet && sbtune_snippet_open(&sn, ao->snippet, p) == APR_SUCCESS
        && (prev = sbtune_snippet_previous(sn, &len)) != NULL) {
        sb_directive_parse(sd, prev, len);
    }
}

/* ServerLimit and ThreadLimit in force, from the scoreboard. */
static void from_scoreboard(sbtune_current_t *sc, const sbtune_apply_opts_t *ao, int *sl,
                            int *tl, apr_pool_t *p)
{
    sbtune_apply_opts_t o = *ao;
    sbtune_observer_t w;
    sbtune_obs_t ob;

    *sl = *tl = -1;
    if (!ao->scoreboard) {
        return;
    }
    o.status_url = NULL;
    sbtune_observer_init(&w, &o, p);
    sbtune_observe(&w, &ob, p);
    sbtune_observer_close(&w);
    if (ob.ok && !ob.shm_gone) {
        *sl = ob.server_limit;
        *tl = ob.thread_limit;
        sc->scoreboard = apr_psprintf(p, "ServerLimit %d, ThreadLimit %d", *sl, *tl);
    }
}

void sbtune_current_fill(sbtune_current_t *sc, const sbtune_apply_opts_t *ao, sb_mpm_t *mpm,
                         sb_model_current_t *cur, double *kat, int quiet, apr_pool_t *p)
{
    const sb_httpdconf_t *hc;
    sb_directives_t sd;
    const char *snip_src = ao->snippet ? apr_pstrcat(p, "snippet ", ao->snippet, NULL) : NULL;
    int i, sb_sl, sb_tl;

    memset(sc, 0, sizeof(*sc));
    sc->quiet = quiet;
    sc->conflicts = apr_pstrdup(p, "");
    sc->command = ao->apachectl ? ao->apachectl : "apache2ctl";
    if (discover(sc, ao, p) == 0) {
        sc->status = "discovered";
        sb_directive_init(&sd);
    }
    else {
        sc->status = "failed";
        fprintf(stderr, "sbtune report: the running settings are not discovered: %s; using %s\n",
                sc->reason, ao->snippet ? "the options, the snippet and httpd's defaults"
                : "the options and httpd's defaults");
        from_snippet(ao, &sd, p);
    }
    hc = sc->hc;
    from_scoreboard(sc, ao, &sb_sl, &sb_tl, p);

    /* the MPM */
    if (*mpm != SB_MPM_UNKNOWN) {
        sc->mpm_src = "option";
        if (hc && hc->mpm != *mpm) {
            conflict(sc, apr_psprintf(p, "--mpm %s, but httpd runs the %s MPM (%s): the option"
                                      " wins", sb_mpm_name(*mpm), sb_mpm_name(hc->mpm),
                                      hc->mpm_from), p);
        }
    }
    else if (hc) {
        *mpm = hc->mpm;
        sc->mpm_src = hc->mpm_from;
    }
    else {
        *mpm = SB_MPM_PREFORK;
        sc->mpm_src = "default: give --mpm";
    }

    /* KeepAlive and KeepAliveTimeout: *kat (0: Off) */
    {
        const char *ka_src = NULL, *kat_src = NULL;
        double dk = NAN;

        if (hc) {
            dk = hc->v[SB_HC_KEEPALIVE].effective == 0 ? 0
                 : hc->v[SB_HC_KEEPALIVE_TIMEOUT].effective;
            ka_src = where(hc, SB_HC_KEEPALIVE, p);
            kat_src = where(hc, SB_HC_KEEPALIVE_TIMEOUT, p);
        }
        if (!isnan(*kat)) {
            sc->src[0] = sc->src[1] = "option";
            if (hc && fabs(dk - *kat) > 1e-9) {
                conflict(sc, apr_psprintf(p, "--keepalive-timeout %g, but httpd runs %s (%s):"
                                          " the option wins", *kat,
                                          dk == 0 ? "KeepAlive Off"
                                          : apr_psprintf(p, "KeepAliveTimeout %g", dk),
                                          dk == 0 ? ka_src : kat_src), p);
            }
        }
        else if (hc) {
            *kat = dk;
            sc->src[0] = ka_src;
            sc->src[1] = kat_src;
        }
        else if (sd.keepalive == 0) {
            *kat = 0;
            sc->src[0] = sc->src[1] = snip_src;
        }
        else if (sd.keepalive_timeout >= 0) {
            *kat = sd.keepalive_timeout;
            sc->src[1] = snip_src;
            sc->src[0] = sd.keepalive == 1 ? snip_src : "httpd default";
        }
        else {
            *kat = 5;
            sc->src[0] = sc->src[1] = "httpd default";
        }
    }

    /* ServerLimit, ThreadLimit, ThreadsPerChild, MaxRequestWorkers */
    for (i = 2; i < sb_directive_count; i++) {
        int *field = (int *)((char *)cur + sb_directive_table[i].offset);
        const char *name = sb_directive_table[i].name;
        int id = sb_httpdconf_lookup(name), dv = -1, sbv = -1;
        const char *dsrc = NULL;

        if (hc && hc->v[id].origin != SB_HC_NA) {
            dv = (int)hc->v[id].effective;
            dsrc = where(hc, (sb_hc_id_t)id, p);
        }
        sbv = id == SB_HC_SERVER_LIMIT ? sb_sl : id == SB_HC_THREAD_LIMIT
              && *mpm != SB_MPM_PREFORK ? sb_tl : -1;
        if (sbv > 0 && sbv != dv) {
            /* the running limits differ: a stop and start applies the
             * configuration's (a graceful restart does not) */
            dsrc = dv > 0 ? apr_psprintf(p, "scoreboard %s; the configuration says %d at %s:"
                                         " a stop and start applies it", ao->scoreboard, dv,
                                         dsrc)
                   : apr_psprintf(p, "scoreboard %s", ao->scoreboard);
            dv = sbv;
        }
        if (*field > 0) {
            sc->src[i] = "option";
            if (dv > 0 && dv != *field) {
                conflict(sc, apr_psprintf(p, "--%s %d, but httpd runs %s %d (%s): the option"
                                          " wins", id == SB_HC_MAX_REQUEST_WORKERS
                                          ? "max-request-workers" : id == SB_HC_SERVER_LIMIT
                                          ? "server-limit" : id == SB_HC_THREAD_LIMIT
                                          ? "thread-limit" : "threads-per-child", *field,
                                          name, dv, dsrc), p);
            }
        }
        else if (dv > 0) {
            *field = dv;
            sc->src[i] = dsrc;
        }
        else if (!hc && sb_directive_get(&sd, i) > 0) {
            *field = sb_directive_get(&sd, i);
            sc->src[i] = snip_src;
        }
    }
    sb_model_current_defaults(cur, *mpm);
    for (i = 2; i < sb_directive_count; i++) {
        if (sc->src[i] == NULL && sb_directive_get(cur, i) > 0) {
            sc->src[i] = "httpd default";
        }
    }
}

static const char *value_text(int i, const sb_model_current_t *cur, double kat, apr_pool_t *p)
{
    if (i == 0) {
        return kat > 0 ? "On" : "Off";
    }
    if (i == 1) {
        return kat > 0 ? apr_psprintf(p, "%g", kat) : "-";
    }
    return sb_directive_get(cur, i) > 0 ? apr_psprintf(p, "%d", sb_directive_get(cur, i)) : NULL;
}

/* The discovered directives the model does not use. */
static int other(int id)
{
    return id >= SB_HC_START_SERVERS;
}

void sbtune_current_print(FILE *out, const sbtune_current_t *sc, sb_mpm_t mpm,
                          const sb_model_current_t *cur, double kat)
{
    apr_pool_t *p;
    int i;

    apr_pool_create(&p, NULL);
    if (sc->hc) {
        fprintf(out, "Current settings (discovered through '%s': %d configuration file%s):\n",
                sc->command, sc->hc->nfiles, sc->hc->nfiles == 1 ? "" : "s");
    }
    else if (sc->status && strcmp(sc->status, "prometheus") == 0) {
        fprintf(out, "Current settings (%s):\n", sc->reason);
    }
    else {
        fprintf(out, "Current settings (not discovered: %s):\n", sc->reason);
    }
    fprintf(out, "  MPM %s (%s)\n", sb_mpm_name(mpm), sc->mpm_src);
    for (i = 0; i < sb_directive_count; i++) {
        const char *v = value_text(i, cur, kat, p);

        if (v && sc->src[i] && !(i == 1 && kat <= 0)) {
            fprintf(out, "  %s %s (%s)\n", sb_directive_table[i].name, v, sc->src[i]);
        }
    }
    if (sc->hc) {
        for (i = 0; i < SB_HC_COUNT; i++) {
            if (other(i) && sc->hc->v[i].origin != SB_HC_NA) {
                fprintf(out, "  %s %g (%s)\n", sb_httpdconf_name((sb_hc_id_t)i),
                        sc->hc->v[i].effective, where(sc->hc, (sb_hc_id_t)i, p));
            }
        }
        if (*sc->hc->notes) {
            const char *s = sc->hc->notes;

            fprintf(out, "  Notes on the configuration:\n");
            while (*s) {
                const char *e = strchr(s, '\n');

                fprintf(out, "    %.*s\n", (int)(e ? e - s : (long)strlen(s)), s);
                s = e ? e + 1 : s + strlen(s);
            }
        }
    }
    if (*sc->conflicts) {
        const char *s = sc->conflicts;

        while (*s) {
            const char *e = strchr(s, '\n');

            fprintf(out, "  Conflict: %.*s\n", (int)(e ? e - s : (long)strlen(s)), s);
            s = e ? e + 1 : s + strlen(s);
        }
    }
    fprintf(out, "\n");
    apr_pool_destroy(p);
}

static void json_lines(sb_json_t *j, const char *key, const char *lines, apr_pool_t *p)
{
    const char *s = lines ? lines : "";

    sb_json_array_begin(j, key);
    while (*s) {
        const char *e = strchr(s, '\n');
        apr_size_t n = e ? (apr_size_t)(e - s) : strlen(s);

        sb_json_string(j, NULL, apr_pstrmemdup(p, s, n));
        s += n + (e ? 1 : 0);
    }
    sb_json_array_end(j);
}

static void json_files(sb_json_t *j, const sb_hc_file_t *f)
{
    int i;

    sb_json_string(j, NULL, f->path);
    for (i = 0; i < f->children->nelts; i++) {
        json_files(j, APR_ARRAY_IDX(f->children, i, const sb_hc_file_t *));
    }
}

void sbtune_current_json(sb_json_t *j, const char *key, const sbtune_current_t *sc,
                         sb_mpm_t mpm, const sb_model_current_t *cur, double kat)
{
    apr_pool_t *p;
    int i;

    apr_pool_create(&p, NULL);
    sb_json_object_begin(j, key);
    sb_json_string(j, "status", sc->status);
    sb_json_string(j, "command", sc->command);
    sb_json_string(j, "reason", sc->reason);
    sb_json_object_begin(j, "settings");
    sb_json_object_begin(j, "MPM");
    sb_json_string(j, "value", sb_mpm_name(mpm));
    sb_json_string(j, "source", sc->mpm_src);
    sb_json_object_end(j);
    for (i = 0; i < sb_directive_count; i++) {
        const char *v = value_text(i, cur, kat, p);

        if (!v || !sc->src[i] || (i == 1 && kat <= 0)) {
            continue;
        }
        sb_json_object_begin(j, sb_directive_table[i].name);
        if (i == 0) {
            sb_json_string(j, "value", v);
        }
        else if (i == 1) {
            sb_json_double(j, "value", kat);
        }
        else {
            sb_json_int(j, "value", sb_directive_get(cur, i));
        }
        sb_json_string(j, "source", sc->src[i]);
        sb_json_object_end(j);
    }
    if (sc->hc) {
        for (i = 0; i < SB_HC_COUNT; i++) {
            if (other(i) && sc->hc->v[i].origin != SB_HC_NA) {
                sb_json_object_begin(j, sb_httpdconf_name((sb_hc_id_t)i));
                sb_json_double(j, "value", sc->hc->v[i].effective);
                sb_json_string(j, "source", where(sc->hc, (sb_hc_id_t)i, p));
                sb_json_object_end(j);
            }
        }
    }
    sb_json_object_end(j);
    if (sc->hc) {
        sb_json_array_begin(j, "files");
        json_files(j, sc->hc->root);
        sb_json_array_end(j);
        json_lines(j, "notes", sc->hc->notes, p);
    }
    sb_json_string(j, "scoreboard", sc->scoreboard);
    json_lines(j, "conflicts", sc->conflicts, p);
    sb_json_object_end(j);
    apr_pool_destroy(p);
}
