/*
 * sb_directive.c - the directive table, its parser and the snippet
 * renderer (contracts in sb_directive.h).
 */
#include "config.h"
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <apr_strings.h>

#include "sb_directive.h"

#define OFF(f) offsetof(sb_directives_t, f)

const sb_directive_info_t sb_directive_table[] = {
    { "KeepAlive", NULL, 1, OFF(keepalive) },
    { "KeepAliveTimeout", NULL, 0, OFF(keepalive_timeout) },
    { "ServerLimit", NULL, 0, OFF(server_limit) },
    { "ThreadLimit", NULL, 0, OFF(thread_limit) },
    { "ThreadsPerChild", NULL, 0, OFF(threads_per_child) },
    { "MaxRequestWorkers", "MaxClients", 0, OFF(max_request_workers) },
};
const int sb_directive_count =
    (int)(sizeof(sb_directive_table) / sizeof(sb_directive_table[0]));

#undef OFF

static int *field(sb_directives_t *d, int i)
{
    return (int *)((char *)d + sb_directive_table[i].offset);
}

int sb_directive_get(const sb_directives_t *d, int idx)
{
    return *(const int *)((const char *)d + sb_directive_table[idx].offset);
}

void sb_directive_init(sb_directives_t *d)
{
    int i;

    for (i = 0; i < sb_directive_count; i++) {
        *field(d, i) = -1;
    }
}

int sb_directive_any(const sb_directives_t *d)
{
    int i;

    for (i = 0; i < sb_directive_count; i++) {
        if (sb_directive_get(d, i) >= 0) {
            return 1;
        }
    }
    return 0;
}

static int name_is(const char *want, const char *name, apr_size_t len)
{
    return want && strlen(want) == len && strncasecmp(want, name, len) == 0;
}

int sb_directive_lookup(const char *name, apr_size_t len)
{
    int i;

    for (i = 0; i < sb_directive_count; i++) {
        if (name_is(sb_directive_table[i].name, name, len)
            || name_is(sb_directive_table[i].alias, name, len)) {
            return i;
        }
    }
    return -1;
}

const char *sb_directive_name(int idx, int httpd_minor)
{
    if (idx < 0 || idx >= sb_directive_count) {
        return "?";
    }
    if (httpd_minor == 2 && sb_directive_table[idx].alias) {
        return sb_directive_table[idx].alias;
    }
    return sb_directive_table[idx].name;
}

static int parse_value(int idx, const char *v, apr_size_t len, int *out)
{
    char buf[32];
    char *end;
    long n;

    if (len == 0 || len >= sizeof(buf)) {
        return -1;
    }
    memcpy(buf, v, len);
    buf[len] = '\0';
    if (sb_directive_table[idx].onoff) {
        if (strcasecmp(buf, "on") == 0) {
            *out = 1;
            return 0;
        }
        if (strcasecmp(buf, "off") == 0) {
            *out = 0;
            return 0;
        }
        return -1;
    }
    if (!isdigit((unsigned char)buf[0])) {
        return -1;
    }
    errno = 0;
    n = strtol(buf, &end, 10);
    if (errno || *end != '\0' || n < 0 || n > INT_MAX) {
        return -1;
    }
    *out = (int)n;
    return 0;
}

int sb_directive_set(sb_directives_t *d, const char *name, const char *value,
                     char *err, apr_size_t errlen)
{
    const char *eq;
    apr_size_t nlen;
    int idx, v;

    if (value == NULL) {
        eq = strchr(name, '=');
        if (eq == NULL) {
            snprintf(err, errlen, "'%s': expected Name=value", name);
            return -1;
        }
        nlen = (apr_size_t)(eq - name);
        value = eq + 1;
    }
    else {
        nlen = strlen(name);
    }
    idx = sb_directive_lookup(name, nlen);
    if (idx < 0) {
        snprintf(err, errlen, "unknown directive '%.*s' (allowed: KeepAlive, KeepAliveTimeout, "
                 "MaxRequestWorkers (MaxClients), ServerLimit, ThreadsPerChild, ThreadLimit)",
                 (int)nlen, name);
        return -1;
    }
    if (parse_value(idx, value, strlen(value), &v) != 0) {
        snprintf(err, errlen, "%s: invalid value '%s' (%s)", sb_directive_table[idx].name, value,
                 sb_directive_table[idx].onoff ? "On or Off" : "an integer from 0 to 2147483647");
        return -1;
    }
    *field(d, idx) = v;
    return 0;
}

/* [*a, *b) is the next word of [s, eol): leading and trailing blanks
 * skipped; *b is where the rest starts. */
static void word(const char *s, const char *eol, const char **a, const char **b)
{
    while (s < eol && isspace((unsigned char)*s)) {
        s++;
    }
    *a = s;
    while (s < eol && !isspace((unsigned char)*s)) {
        s++;
    }
    *b = s;
}

int sb_directive_parse(sb_directives_t *d, const char *text, apr_size_t len)
{
    const char *p = text, *end = text + len, *eol, *w, *we, *v, *ve;
    int found = 0, idx, val;

    while (p < end) {
        eol = memchr(p, '\n', (apr_size_t)(end - p));
        if (eol == NULL) {
            eol = end;
        }
        word(p, eol, &w, &we);
        v = we;
        while (v < eol && isspace((unsigned char)*v)) {
            v++;
        }
        ve = eol;
        while (ve > v && isspace((unsigned char)ve[-1])) {
            ve--;
        }
        if (w < eol && *w != '#' && *w != '<'
            && (idx = sb_directive_lookup(w, (apr_size_t)(we - w))) >= 0
            && parse_value(idx, v, (apr_size_t)(ve - v), &val) == 0) {
            *field(d, idx) = val;
            found++;
        }
        p = eol + 1;
    }
    return found;
}

char *sb_directive_json(const sb_directives_t *d, apr_pool_t *p)
{
    char *s = apr_pstrdup(p, "{");
    const char *sep = "";
    int i, v;

    for (i = 0; i < sb_directive_count; i++) {
        v = sb_directive_get(d, i);
        if (v < 0) {
            continue;
        }
        if (sb_directive_table[i].onoff) {
            s = apr_psprintf(p, "%s%s\"%s\":\"%s\"", s, sep, sb_directive_table[i].name,
                             v ? "On" : "Off");
        }
        else {
            s = apr_psprintf(p, "%s%s\"%s\":%d", s, sep, sb_directive_table[i].name, v);
        }
        sep = ",";
    }
    return apr_pstrcat(p, s, "}", NULL);
}

/* ------------------------------------------------------------------ render */

/* Append text as "# " comment lines: control characters dropped, no
 * trailing backslash (httpd joins a line ending in '\' with the next). */
static char *comment_lines(char *acc, const char *prefix, const char *text, apr_pool_t *p)
{
    const char *s = text;
    char *line;
    apr_size_t n;

    if (text == NULL || *text == '\0') {
        return acc;
    }
    while (*s) {
        const char *e = strchr(s, '\n');
        apr_size_t len = e ? (apr_size_t)(e - s) : strlen(s);

        line = apr_palloc(p, len + 1);
        for (n = 0; len > 0; s++, len--) {
            if ((unsigned char)*s >= 0x20 && *s != 0x7f) {
                line[n++] = *s;
            }
            else if (*s == '\t') {
                line[n++] = ' ';
            }
        }
        while (n > 0 && (line[n - 1] == '\\' || line[n - 1] == ' ')) {
            n--;
        }
        line[n] = '\0';
        if (n == 0) {
            acc = apr_pstrcat(p, acc, "#\n", NULL);
        }
        else {
            acc = apr_pstrcat(p, acc, "# ", prefix, line, "\n", NULL);
        }
        if (e == NULL) {
            break;
        }
        s = e + 1;
    }
    return acc;
}

static char *render_header(const sb_directive_meta_t *m, apr_pool_t *p)
{
    char when[64];
    apr_time_exp_t tm;
    apr_size_t sz;
    char *s;

    apr_time_exp_gmt(&tm, m->when);
    apr_strftime(when, &sz, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
    s = apr_psprintf(p, "# Written by sbtune on %s for httpd 2.%d, MPM %s.\n"
                     "# sbtune replaces this file; edits are lost.  Previous version: "
                     "beside it, '.' + this file's name + .sbtune-prev\n",
                     when, m->httpd_minor == 2 ? 2 : 4, m->mpm);
    if (m->data && *m->data) {
        s = comment_lines(s, "Data: ", m->data, p);
    }
    if (m->why && *m->why) {
        s = apr_pstrcat(p, s, "# Why:\n", NULL);
        s = comment_lines(s, "  ", m->why, p);
    }
    return apr_pstrcat(p, s, "\n", NULL);
}

char *sb_directive_render(const sb_directives_t *d, const sb_directive_meta_t *m,
                          apr_pool_t *p)
{
    char *s = render_header(m, p);
    const char *mrw = sb_directive_name(sb_directive_lookup("MaxRequestWorkers", 17),
                                        m->httpd_minor);
    int prefork = strcmp(m->mpm, "prefork") == 0;
    int mpm_block;

    if (d->keepalive >= 0) {
        s = apr_psprintf(p, "%sKeepAlive %s\n", s, d->keepalive ? "On" : "Off");
    }
    if (d->keepalive_timeout >= 0) {
        s = apr_psprintf(p, "%sKeepAliveTimeout %d\n", s, d->keepalive_timeout);
    }
    mpm_block = d->server_limit >= 0 || d->max_request_workers >= 0
        || (!prefork && (d->thread_limit >= 0 || d->threads_per_child >= 0));
    if (!mpm_block) {
        return s;
    }
    if (d->keepalive >= 0 || d->keepalive_timeout >= 0) {
        s = apr_pstrcat(p, s, "\n", NULL);
    }
    s = apr_psprintf(p, "%s<IfModule mpm_%s_module>\n", s, m->mpm);
    if (d->server_limit >= 0) {
        s = apr_psprintf(p, "%s    ServerLimit %d\n", s, d->server_limit);
    }
    if (!prefork && d->thread_limit >= 0) {
        s = apr_psprintf(p, "%s    ThreadLimit %d\n", s, d->thread_limit);
    }
    if (!prefork && d->threads_per_child >= 0) {
        s = apr_psprintf(p, "%s    ThreadsPerChild %d\n", s, d->threads_per_child);
    }
    if (d->max_request_workers >= 0) {
        s = apr_psprintf(p, "%s    %s %d\n", s, mrw, d->max_request_workers);
    }
    return apr_pstrcat(p, s, "</IfModule>\n", NULL);
}

char *sb_directive_body(const char *text, apr_size_t len, apr_pool_t *p)
{
    const char *q = text, *end = text + len, *eol, *a, *b;
    char *acc = apr_pstrdup(p, "");

    while (q < end) {
        eol = memchr(q, '\n', (apr_size_t)(end - q));
        if (eol == NULL) {
            eol = end;
        }
        a = q;
        while (a < eol && isspace((unsigned char)*a)) {
            a++;
        }
        b = eol;
        while (b > a && isspace((unsigned char)b[-1])) {
            b--;
        }
        if (a < b && *a != '#') {
            acc = apr_pstrcat(p, acc, apr_pstrmemdup(p, a, (apr_size_t)(b - a)), "\n", NULL);
        }
        q = eol + 1;
    }
    return acc;
}
