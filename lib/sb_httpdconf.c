/*
 * sb_httpdconf.c - httpd's configuration as httpd loads it (contracts and
 * what is evaluated in sb_httpdconf.h).
 */
#include "config.h"
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include <apr_strings.h>

#include "sb_httpdconf.h"

/* ------------------------------------------------------------------ the table */

enum { K_ONOFF, K_TIMEOUT, K_INT, K_DOUBLE };
#define P_ (1 << SB_MPM_PREFORK)
#define W_ (1 << SB_MPM_WORKER)
#define E_ (1 << SB_MPM_EVENT)

typedef struct {
    const char *name;
    const char *alias;          /* the old name, or NULL */
    int kind;
    int mpms;                   /* the MPMs that have it */
    double def[3];              /* httpd 2.4's defaults: prefork, worker, event */
} hc_info_t;

/* httpd 2.4's compiled-in defaults (server/mpm/{prefork,worker,event}
 * and the directive docs): worker and event size MaxRequestWorkers as
 * the default ServerLimit 16 x the default ThreadsPerChild 25. */
static const hc_info_t table[SB_HC_COUNT] = {
    { "KeepAlive", NULL, K_ONOFF, P_ | W_ | E_, { 1, 1, 1 } },
    { "KeepAliveTimeout", NULL, K_TIMEOUT, P_ | W_ | E_, { 5, 5, 5 } },
    { "MaxRequestWorkers", "MaxClients", K_INT, P_ | W_ | E_, { 256, 400, 400 } },
    { "ServerLimit", NULL, K_INT, P_ | W_ | E_, { 256, 16, 16 } },
    { "ThreadsPerChild", NULL, K_INT, W_ | E_, { 0, 25, 25 } },
    { "ThreadLimit", NULL, K_INT, W_ | E_, { 0, 64, 64 } },
    { "StartServers", NULL, K_INT, P_ | W_ | E_, { 5, 3, 3 } },
    { "MinSpareServers", NULL, K_INT, P_, { 5, 0, 0 } },
    { "MaxSpareServers", NULL, K_INT, P_, { 10, 0, 0 } },
    { "MinSpareThreads", NULL, K_INT, W_ | E_, { 0, 75, 75 } },
    { "MaxSpareThreads", NULL, K_INT, W_ | E_, { 0, 250, 250 } },
    { "AsyncRequestWorkerFactor", NULL, K_DOUBLE, E_, { 0, 0, 2 } },
    { "ListenBacklog", NULL, K_INT, P_ | W_ | E_, { 511, 511, 511 } },
    { "MaxConnectionsPerChild", "MaxRequestsPerChild", K_INT, P_ | W_ | E_, { 0, 0, 0 } },
};

const char *sb_httpdconf_name(sb_hc_id_t id)
{
    return id >= 0 && id < SB_HC_COUNT ? table[id].name : "?";
}

int sb_httpdconf_lookup(const char *name)
{
    int i;

    for (i = 0; i < SB_HC_COUNT; i++) {
        if (strcasecmp(name, table[i].name) == 0
            || (table[i].alias && strcasecmp(name, table[i].alias) == 0)) {
            return i;
        }
    }
    return -1;
}

sb_httpdconf_t *sb_httpdconf_create(apr_pool_t *p)
{
    sb_httpdconf_t *hc = apr_pcalloc(p, sizeof(*hc));

    hc->pool = p;
    hc->mpm = SB_MPM_UNKNOWN;
    hc->static_modules = apr_array_make(p, 16, sizeof(const char *));
    hc->modules = apr_array_make(p, 32, sizeof(const char *));
    hc->defines = apr_table_make(p, 8);
    hc->runcfg_defines = apr_table_make(p, 8);
    hc->cmdline_defines = apr_table_make(p, 4);
    hc->notes = apr_pstrdup(p, "");
    return hc;
}

static void note(sb_httpdconf_t *hc, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void note(sb_httpdconf_t *hc, const char *fmt, ...)
{
    va_list ap;
    char *line;

    va_start(ap, fmt);
    line = apr_pvsprintf(hc->pool, fmt, ap);
    va_end(ap);
    hc->notes = apr_pstrcat(hc->pool, hc->notes, line, "\n", NULL);
}

/* ------------------------------------------------------------------ command output */

/* The next line of *s (without its newline, \r dropped), or NULL. */
static char *next_line(const char **s, apr_pool_t *p)
{
    const char *b = *s, *e;
    apr_size_t n;

    if (b == NULL || *b == '\0') {
        return NULL;
    }
    e = strchr(b, '\n');
    n = e ? (apr_size_t)(e - b) : strlen(b);
    *s = e ? e + 1 : b + n;
    if (n > 0 && b[n - 1] == '\r') {
        n--;
    }
    return apr_pstrmemdup(p, b, n);
}

/* The quoted value of ' -D NAME="value"' in line, or NULL. */
static const char *compiled_define(const char *line, const char *name, apr_pool_t *p)
{
    const char *s = strstr(line, name), *q;

    if (s == NULL || s[strlen(name)] != '=') {
        return NULL;
    }
    s += strlen(name) + 1;
    if (*s == '"') {
        s++;
        q = strchr(s, '"');
        return q ? apr_pstrmemdup(p, s, (apr_size_t)(q - s)) : NULL;
    }
    return apr_pstrdup(p, s);
}

int sb_httpdconf_parse_V(sb_httpdconf_t *hc, const char *out)
{
    const char *s = out;
    char *line;
    int got = 0;

    while ((line = next_line(&s, hc->pool)) != NULL) {
        const char *v;

        if (strncmp(line, "Server version:", 15) == 0) {
            char *a = strstr(line, "Apache/");

            if (a) {
                a += 7;
                hc->version = apr_pstrmemdup(hc->pool, a, strcspn(a, " \t("));
                if (strncmp(hc->version, "2.", 2) == 0) {
                    hc->httpd_minor = atoi(hc->version + 2);
                }
            }
            got |= 1;
        }
        else if (strncmp(line, "Server MPM:", 11) == 0) {
            char name[32] = "";

            if (sscanf(line + 11, " %31s", name) == 1 && sb_mpm_parse(name, &hc->mpm) == 0) {
                hc->mpm_from = "apachectl -V";
            }
            got |= 2;
        }
        else if ((v = compiled_define(line, "HTTPD_ROOT", hc->pool)) != NULL) {
            hc->httpd_root = v;
        }
        else if ((v = compiled_define(line, "SERVER_CONFIG_FILE", hc->pool)) != NULL) {
            hc->server_config_file = v;
        }
    }
    return got == 3 ? 0 : -1;
}

int sb_httpdconf_parse_M(sb_httpdconf_t *hc, const char *out)
{
    const char *s = out;
    char *line;
    int in = 0;

    while ((line = next_line(&s, hc->pool)) != NULL) {
        char name[128], kind[32];

        if (strncmp(line, "Loaded Modules:", 15) == 0) {
            in = 1;
            continue;
        }
        if (!in || (line[0] != ' ' && line[0] != '\t')
            || sscanf(line, " %127s (%31[a-z])", name, kind) != 2) {
            continue;
        }
        APR_ARRAY_PUSH(hc->modules, const char *) = apr_pstrdup(hc->pool, name);
        if (strcmp(kind, "static") == 0) {
            APR_ARRAY_PUSH(hc->static_modules, const char *) = apr_pstrdup(hc->pool, name);
        }
        if (hc->mpm == SB_MPM_UNKNOWN && strncmp(name, "mpm_", 4) == 0
            && strlen(name) > 7 && strcmp(name + strlen(name) - 7, "_module") == 0
            && sb_mpm_parse(apr_pstrndup(hc->pool, name, strlen(name) - 7), &hc->mpm) == 0) {
            hc->mpm_from = "apachectl -M";
        }
    }
    return hc->modules->nelts;
}

int sb_httpdconf_parse_defines(sb_httpdconf_t *hc, const char *out)
{
    const char *s = out;
    char *line;
    int n = 0;

    while ((line = next_line(&s, hc->pool)) != NULL) {
        char *name, *eq;

        if (strncmp(line, "ServerRoot: \"", 13) == 0 && strchr(line + 13, '"')) {
            hc->runcfg_server_root = apr_pstrmemdup(hc->pool, line + 13,
                                                    (apr_size_t)(strchr(line + 13, '"')
                                                                 - (line + 13)));
            continue;
        }
        if (strncmp(line, "Define: ", 8) != 0) {
            continue;
        }
        name = line + 8;
        eq = strchr(name, '=');
        if (eq) {
            *eq = '\0';
        }
        if (strcmp(name, "DUMP_RUN_CFG") == 0 || strcmp(name, "DUMP_INCLUDES") == 0) {
            continue;
        }
        apr_table_set(hc->runcfg_defines, name, eq ? eq + 1 : "");
        n++;
    }
    return n;
}

void sb_httpdconf_define(sb_httpdconf_t *hc, const char *name, const char *value)
{
    apr_table_set(hc->cmdline_defines, name, value ? value : "");
}

int sb_httpdconf_parse_includes(sb_httpdconf_t *hc, const char *out, char *err,
                                apr_size_t errlen)
{
    const char *s = out;
    char *line;
    int in = 0, lineno = 0;
    sb_hc_file_t *last = NULL;

    hc->root = NULL;
    hc->nfiles = 0;
    while ((line = next_line(&s, hc->pool)) != NULL) {
        char *q = line, *close;
        int indent, depth, pline;
        sb_hc_file_t *f;

        lineno++;
        if (strcmp(line, "Included configuration files:") == 0) {
            in = 1;
            continue;
        }
        if (!in || *line == '\0') {
            continue;
        }
        while (*q == ' ') {
            q++;
        }
        indent = (int)(q - line);
        close = *q == '(' ? strchr(q, ')') : NULL;
        if (close == NULL || close[1] != ' ' || close[2] == '\0') {
            /* httpd's own messages (AH00558...) may follow on stderr */
            if (hc->root) {
                break;
            }
            snprintf(err, errlen, "DUMP_INCLUDES line %d is not \"(LINE) PATH\": %.200s",
                     lineno, line);
            return -1;
        }
        depth = indent / 2 - 1;
        pline = strncmp(q, "(*)", 3) == 0 ? 0 : atoi(q + 1);
        f = apr_pcalloc(hc->pool, sizeof(*f));
        f->path = apr_pstrdup(hc->pool, close + 2);
        f->parent_line = pline;
        f->depth = depth;
        f->children = apr_array_make(hc->pool, 4, sizeof(sb_hc_file_t *));
        if (hc->root == NULL) {
            if (depth != 0 || pline != 0) {
                snprintf(err, errlen, "DUMP_INCLUDES: the first file is not the root \"(*)\":"
                         " %.200s", line);
                return -1;
            }
            hc->root = f;
        }
        else {
            sb_hc_file_t *par = last;

            if (depth < 1 || pline <= 0) {
                snprintf(err, errlen, "DUMP_INCLUDES line %d: a second root or no line: %.200s",
                         lineno, line);
                return -1;
            }
            while (par && par->depth >= depth) {
                par = par->parent;
            }
            if (par == NULL || par->depth != depth - 1) {
                snprintf(err, errlen, "DUMP_INCLUDES line %d: nested deeper than its parent:"
                         " %.200s", lineno, line);
                return -1;
            }
            f->parent = par;
            APR_ARRAY_PUSH(par->children, sb_hc_file_t *) = f;
        }
        hc->nfiles++;
        last = f;
    }
    if (hc->root == NULL) {
        snprintf(err, errlen, "no \"Included configuration files:\" with a \"(*)\" root in the"
                 " DUMP_INCLUDES output");
        return -1;
    }
    return 0;
}

/* ------------------------------------------------------------------ the walk */

/* A section open at the walk's position. */
typedef struct {
    const char *name;
    const char *file;
    int line;
    int active;                 /* its own condition (1 for other sections) */
    int conditional;            /* an <If...> evaluated at read time */
} section_t;

typedef struct {
    sb_httpdconf_t *hc;
    apr_pool_t *p;
    apr_array_header_t *stack;  /* section_t */
    apr_table_t *loaded;        /* modules loaded so far */
    char *err;
    apr_size_t errlen;
} walk_t;

static int active(const walk_t *w)
{
    int i;

    for (i = 0; i < w->stack->nelts; i++) {
        if (!APR_ARRAY_IDX(w->stack, i, section_t).active) {
            return 0;
        }
    }
    return 1;
}

/* The innermost section that is not conditional (not the main server's
 * context), or NULL. */
static const section_t *context(const walk_t *w)
{
    int i;

    for (i = w->stack->nelts - 1; i >= 0; i--) {
        const section_t *s = &APR_ARRAY_IDX(w->stack, i, section_t);

        if (!s->conditional) {
            return s;
        }
    }
    return NULL;
}

/* The next word of *s as httpd's ap_getword_conf takes it: blanks
 * separate, "..." and '...' group (a backslash escapes the quote). */
static char *word(const char **s, apr_pool_t *p)
{
    const char *a = *s;
    char *out, *o;

    while (*a && isspace((unsigned char)*a)) {
        a++;
    }
    if (*a == '\0') {
        *s = a;
        return NULL;
    }
    out = o = apr_palloc(p, strlen(a) + 1);
    if (*a == '"' || *a == '\'') {
        char q = *a++;

        while (*a && *a != q) {
            if (*a == '\\' && a[1] == q) {
                a++;
            }
            *o++ = *a++;
        }
        if (*a == q) {
            a++;
        }
    }
    else {
        while (*a && !isspace((unsigned char)*a)) {
            *o++ = *a++;
        }
    }
    *o = '\0';
    *s = a;
    return out;
}

/* ${NAME} from the defines, else the environment; unresolved left. */
static char *substitute(walk_t *w, const char *line)
{
    const char *s = line;
    char *out = apr_pstrdup(w->p, "");

    while (*s) {
        const char *b = strstr(s, "${"), *e, *v;
        char *name;

        if (b == NULL || (e = strchr(b + 2, '}')) == NULL) {
            return apr_pstrcat(w->p, out, s, NULL);
        }
        name = apr_pstrmemdup(w->p, b + 2, (apr_size_t)(e - b - 2));
        v = apr_table_get(w->hc->defines, name);
        if (v == NULL) {
            v = getenv(name);
        }
        out = apr_pstrcat(w->p, out, apr_pstrmemdup(w->p, s, (apr_size_t)(b - s)),
                          v ? v : apr_pstrmemdup(w->p, b, (apr_size_t)(e - b + 1)), NULL);
        s = e + 1;
    }
    return out;
}

/* "mod_status.c" -> "status_module"; "event.c" -> "mpm_event_module";
 * anything else unchanged. */
static const char *module_symbol(const char *name, apr_pool_t *p)
{
    apr_size_t n = strlen(name);
    sb_mpm_t m;

    if (n < 3 || strcmp(name + n - 2, ".c") != 0) {
        return name;
    }
    if (strcmp(name, "core.c") == 0) {
        return "core_module";
    }
    if (strcmp(name, "http_core.c") == 0) {
        return "http_module";
    }
    if (sb_mpm_parse(name, &m) == 0 && strncmp(name, "mpm_", 4) != 0) {
        return apr_pstrcat(p, "mpm_", sb_mpm_name(m), "_module", NULL);
    }
    if (strncmp(name, "mod_", 4) == 0) {
        return apr_pstrcat(p, apr_pstrmemdup(p, name + 4, n - 6), "_module", NULL);
    }
    return name;
}

static int module_loaded(walk_t *w, const char *name)
{
    return apr_table_get(w->loaded, module_symbol(name, w->p)) != NULL;
}

/* Compare dotted versions a and b: <0, 0, >0. */
static int vercmp(const char *a, const char *b)
{
    while (*a || *b) {
        long x = strtol(a, (char **)&a, 10), y = strtol(b, (char **)&b, 10);

        if (x != y) {
            return x < y ? -1 : 1;
        }
        if (*a == '.') {
            a++;
        }
        if (*b == '.') {
            b++;
        }
        if ((*a && !isdigit((unsigned char)*a)) || (*b && !isdigit((unsigned char)*b))) {
            break;
        }
    }
    return 0;
}

/* The condition of <name args>; conditional says whether it is one. */
static int condition(walk_t *w, const char *name, const char *args, const char *where,
                     int *conditional)
{
    const char *s = args;
    char *a = word(&s, w->p), *b;
    int neg = 0, r;

    *conditional = 1;
    if (strcasecmp(name, "IfModule") == 0 || strcasecmp(name, "IfDefine") == 0
        || strcasecmp(name, "IfFile") == 0) {
        if (a == NULL) {
            return 1;
        }
        if (*a == '!') {
            neg = 1;
            a++;
        }
        if (strcasecmp(name, "IfModule") == 0) {
            r = module_loaded(w, a);
        }
        else if (strcasecmp(name, "IfDefine") == 0) {
            r = apr_table_get(w->hc->defines, a) != NULL;
        }
        else {
            struct stat st;
            const char *path = a[0] == '/' || !w->hc->server_root ? a
                               : apr_pstrcat(w->p, w->hc->server_root, "/", a, NULL);

            r = stat(path, &st) == 0;
        }
        return neg ? !r : r;
    }
    if (strcasecmp(name, "IfVersion") == 0) {
        const char *op = "=", *v = a;

        if (a && (b = word(&s, w->p)) != NULL) {
            op = a;
            v = b;
        }
        if (v == NULL || w->hc->version == NULL || *op == '~' || *v == '/') {
            note(w->hc, "%s: <IfVersion %s> not evaluated: taken as true", where, args);
            return 1;
        }
        r = vercmp(w->hc->version, v);
        if (strcmp(op, "=") == 0 || strcmp(op, "==") == 0) {
            /* "2.4" matches 2.4.x */
            return strncmp(w->hc->version, v, strlen(v)) == 0
                   && (w->hc->version[strlen(v)] == '\0' || w->hc->version[strlen(v)] == '.');
        }
        if (strcmp(op, "!=") == 0) {
            return r != 0;
        }
        if (strcmp(op, ">") == 0) {
            return r > 0;
        }
        if (strcmp(op, ">=") == 0) {
            return r >= 0;
        }
        if (strcmp(op, "<") == 0) {
            return r < 0;
        }
        if (strcmp(op, "<=") == 0) {
            return r <= 0;
        }
        note(w->hc, "%s: <IfVersion %s> not evaluated: taken as true", where, args);
        return 1;
    }
    if (strcasecmp(name, "IfDirective") == 0 || strcasecmp(name, "IfSection") == 0) {
        note(w->hc, "%s: <%s %s> not evaluated: taken as true", where, name, args);
        return 1;
    }
    *conditional = 0;
    return 1;
}

/* A value of the table's directive id from its argument. */
static int parse_value(int kind, const char *arg, double *out)
{
    char *end;

    if (kind == K_ONOFF) {
        /* httpd 2.4 takes anything but "Off" or "0" as On */
        *out = strcasecmp(arg, "off") == 0 || strcmp(arg, "0") == 0 ? 0 : 1;
        return 0;
    }
    errno = 0;
    if (kind == K_DOUBLE) {
        *out = strtod(arg, &end);
        return end == arg || *end || errno ? -1 : 0;
    }
    *out = (double)strtoll(arg, &end, 10);
    if (end == arg || errno) {
        return -1;
    }
    if (kind == K_TIMEOUT) {
        if (*end == '\0' || strcasecmp(end, "s") == 0) {
            return 0;
        }
        if (strcasecmp(end, "ms") == 0) {
            *out /= 1000;
            return 0;
        }
        if (strcasecmp(end, "mi") == 0) {
            *out *= 60;
            return 0;
        }
        if (strcasecmp(end, "h") == 0) {
            *out *= 3600;
            return 0;
        }
        return -1;
    }
    return *end ? -1 : 0;
}

static int walk_file(walk_t *w, sb_hc_file_t *f);

/* Include / IncludeOptional at lines [first, last] of f: the files httpd
 * included there. */
static int walk_include(walk_t *w, sb_hc_file_t *f, int first, int last, int optional,
                        const char *where, const char *arg)
{
    int i, any = 0;

    for (i = 0; i < f->children->nelts; i++) {
        sb_hc_file_t *c = APR_ARRAY_IDX(f->children, i, sb_hc_file_t *);

        if (!c->used && c->parent_line >= first && c->parent_line <= last) {
            c->used = 1;
            any = 1;
            if (walk_file(w, c) != 0) {
                return -1;
            }
        }
    }
    if (!any && !optional) {
        note(w->hc, "%s: Include %s: httpd included nothing there (sbtune evaluates it as"
             " active; a directory or glob with no file, or the evaluation differs)", where,
             arg ? arg : "");
    }
    return 0;
}

/* One directive line (the section lines are handled before). */
static int directive(walk_t *w, sb_hc_file_t *f, int first, int last, const char *line)
{
    const char *s = line;
    char *name = word(&s, w->p), *a1, *a2;
    const char *where = apr_psprintf(w->p, "%s:%d", f->path, first);
    int id;

    if (name == NULL) {
        return 0;
    }
    a1 = word(&s, w->p);
    a2 = a1 ? word(&s, w->p) : NULL;
    if (strcasecmp(name, "Include") == 0 || strcasecmp(name, "IncludeOptional") == 0) {
        return walk_include(w, f, first, last, strcasecmp(name, "IncludeOptional") == 0,
                            where, a1);
    }
    if (strcasecmp(name, "Define") == 0 && a1) {
        apr_table_set(w->hc->defines, a1, a2 ? a2 : "");
        return 0;
    }
    if (strcasecmp(name, "UnDefine") == 0 && a1) {
        apr_table_unset(w->hc->defines, a1);
        return 0;
    }
    if (strcasecmp(name, "LoadModule") == 0 && a1) {
        apr_table_set(w->loaded, a1, "");
        return 0;
    }
    if (strcasecmp(name, "ServerRoot") == 0 && a1 && context(w) == NULL) {
        w->hc->server_root = a1;
        return 0;
    }
    if ((id = sb_httpdconf_lookup(name)) >= 0) {
        const section_t *ctx = context(w);
        sb_hc_value_t *v = &w->hc->v[id];
        double val;

        if (ctx) {
            note(w->hc, "%s: %s %s inside <%s> (%s:%d) is not the main server's: not counted",
                 where, name, a1 ? a1 : "", ctx->name, ctx->file, ctx->line);
            return 0;
        }
        if (a1 == NULL || a2 != NULL || parse_value(table[id].kind, a1, &val) != 0) {
            note(w->hc, "%s: %s with %s: not taken", where, name,
                 a1 == NULL ? "no value" : a2 ? "more than one value"
                 : apr_psprintf(w->p, "the value '%s'", a1));
            return 0;
        }
        v->origin = SB_HC_CONFIG;
        v->value = v->effective = val;
        v->spelled = name;
        v->file = f->path;
        v->line = first;
    }
    return 0;
}

static int walk_error(walk_t *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int walk_error(walk_t *w, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    apr_vsnprintf(w->err, w->errlen, fmt, ap);
    va_end(ap);
    return -1;
}

/* A section line: <Name args> or </Name>. */
static int section(walk_t *w, sb_hc_file_t *f, int first, char *line, int base)
{
    const char *where = apr_psprintf(w->p, "%s:%d", f->path, first);
    apr_size_t n;
    char *name, *args, *gt;

    if (line[1] == '/') {
        section_t *top;

        name = line + 2;
        name[strcspn(name, "> \t")] = '\0';
        if (w->stack->nelts <= base) {
            return walk_error(w, "%s: </%s> without a matching <%s> in this file", where,
                              name, name);
        }
        top = &APR_ARRAY_IDX(w->stack, w->stack->nelts - 1, section_t);
        if (strcasecmp(top->name, name) != 0) {
            return walk_error(w, "%s: </%s> closes <%s> of line %d", where, name, top->name,
                              top->line);
        }
        apr_array_pop(w->stack);
        return 0;
    }
    n = strcspn(line + 1, "> \t");
    name = apr_pstrmemdup(w->p, line + 1, n);
    args = apr_pstrdup(w->p, line + 1 + n);
    if ((gt = strrchr(args, '>')) != NULL) {
        *gt = '\0';
    }
    for (gt = args + strlen(args); gt > args && isspace((unsigned char)gt[-1]); gt--) {
        gt[-1] = '\0';
    }
    while (isspace((unsigned char)*args)) {
        args++;
    }
    {
        section_t s;
        int cond;

        s.name = name;
        s.file = f->path;
        s.line = first;
        if (active(w)) {
            s.active = condition(w, name, args, where, &cond);
        }
        else {
            /* inside a false block httpd reads no condition: only the
             * nesting counts */
            s.active = 1;
            cond = strncasecmp(name, "If", 2) == 0 && strcasecmp(name, "If") != 0;
        }
        s.conditional = cond;
        APR_ARRAY_PUSH(w->stack, section_t) = s;
    }
    return 0;
}

/* Read f (its logical lines), then its includes as they come. */
static int walk_file(walk_t *w, sb_hc_file_t *f)
{
    FILE *fp = fopen(f->path, "rb");
    char *buf, *s;
    apr_size_t len = 0, cap = 65536;
    int lineno = 0, base = w->stack->nelts;

    if (fp == NULL) {
        return walk_error(w, "cannot read %s (httpd loads it): %s", f->path, strerror(errno));
    }
    buf = apr_palloc(w->p, cap + 1);
    for (;;) {
        size_t got = fread(buf + len, 1, cap - len, fp);

        len += got;
        if (len < cap) {
            break;
        }
        {
            char *nb = apr_palloc(w->p, cap * 2 + 1);

            memcpy(nb, buf, len);
            buf = nb;
            cap *= 2;
        }
    }
    if (ferror(fp)) {
        fclose(fp);
        return walk_error(w, "cannot read %s (httpd loads it): %s", f->path, strerror(errno));
    }
    fclose(fp);
    buf[len] = '\0';
    s = buf;
    while (*s) {
        char *logical = apr_pstrdup(w->p, ""), *t;
        int first = lineno + 1, cont;

        do {
            char *e = strchr(s, '\n');
            apr_size_t n = e ? (apr_size_t)(e - s) : strlen(s);

            lineno++;
            if (n > 0 && s[n - 1] == '\r') {
                n--;
            }
            cont = n > 0 && s[n - 1] == '\\';
            logical = apr_pstrcat(w->p, logical, apr_pstrmemdup(w->p, s, cont ? n - 1 : n),
                                  NULL);
            s = e ? e + 1 : s + strlen(s);
        } while (cont && *s);
        t = logical;
        while (isspace((unsigned char)*t)) {
            t++;
        }
        if (*t == '\0' || *t == '#') {
            continue;
        }
        if (active(w)) {
            t = substitute(w, t);
        }
        if (*t == '<') {
            if (section(w, f, first, t, base) != 0) {
                return -1;
            }
        }
        else if (active(w) && directive(w, f, first, lineno, t) != 0) {
            return -1;
        }
    }
    if (w->stack->nelts > base) {
        const section_t *top = &APR_ARRAY_IDX(w->stack, w->stack->nelts - 1, section_t);

        return walk_error(w, "%s:%d: <%s> is not closed in this file", f->path, top->line,
                          top->name);
    }
    return 0;
}

/* Names that a Define in any of the tree's files sets (a cheap scan: the
 * first word of each line). */
static void scan_defines(sb_httpdconf_t *hc, const sb_hc_file_t *f, apr_table_t *out,
                         apr_pool_t *p)
{
    FILE *fp = fopen(f->path, "r");
    char line[4096];
    int i;

    if (fp) {
        while (fgets(line, sizeof(line), fp)) {
            const char *s = line;
            char *d = word(&s, p), *name;

            if (d && strcasecmp(d, "Define") == 0 && (name = word(&s, p)) != NULL) {
                apr_table_set(out, name, "");
            }
        }
        fclose(fp);
    }
    for (i = 0; i < f->children->nelts; i++) {
        scan_defines(hc, APR_ARRAY_IDX(f->children, i, const sb_hc_file_t *), out, p);
    }
}

static int copy_define(void *baton, const char *key, const char *value)
{
    void **b = baton;
    sb_httpdconf_t *hc = b[0];
    apr_table_t *skip = b[1];

    if (skip == NULL || apr_table_get(skip, key) == NULL) {
        apr_table_set(hc->defines, key, value);
    }
    return 1;
}

/* Unused entries of DUMP_INCLUDES: httpd included them where the walk
 * saw no active Include. */
static void unused(sb_httpdconf_t *hc, const sb_hc_file_t *f)
{
    int i;

    for (i = 0; i < f->children->nelts; i++) {
        const sb_hc_file_t *c = APR_ARRAY_IDX(f->children, i, const sb_hc_file_t *);

        if (!c->used) {
            note(hc, "%s:%d: httpd included %s there, where sbtune sees no active Include"
                 " (the evaluation differs): not read", f->path, c->parent_line, c->path);
        }
        else {
            unused(hc, c);
        }
    }
}

static void adjust(sb_httpdconf_t *hc, sb_hc_id_t id, double to, const char *why)
{
    sb_hc_value_t *v = &hc->v[id];

    v->adjusted = apr_psprintf(hc->pool, "httpd %s it to %.0f: %s",
                               to < v->effective ? "lowers" : "raises", to, why);
    v->effective = to;
}

/* httpd's adjustments at startup (its AH00507, AH00511, AH00513, AH00515
 * warnings and prefork's AH00180; worker's are the same as event's). */
static void adjustments(sb_httpdconf_t *hc)
{
    sb_hc_value_t *mrw = &hc->v[SB_HC_MAX_REQUEST_WORKERS];
    double sl = hc->v[SB_HC_SERVER_LIMIT].effective;

    if (hc->mpm == SB_MPM_PREFORK) {
        if (mrw->effective > sl) {
            adjust(hc, SB_HC_MAX_REQUEST_WORKERS, sl,
                   apr_psprintf(hc->pool, "at most ServerLimit %.0f", sl));
        }
        if (mrw->effective < 1) {
            adjust(hc, SB_HC_MAX_REQUEST_WORKERS, 1, "at least 1");
        }
        return;
    }
    {
        sb_hc_value_t *tpc = &hc->v[SB_HC_THREADS_PER_CHILD];
        double tl = hc->v[SB_HC_THREAD_LIMIT].effective, t;

        if (tpc->effective > tl) {
            adjust(hc, SB_HC_THREADS_PER_CHILD, tl,
                   apr_psprintf(hc->pool, "at most ThreadLimit %.0f", tl));
        }
        if (tpc->effective < 1) {
            adjust(hc, SB_HC_THREADS_PER_CHILD, 1, "at least 1");
        }
        t = tpc->effective;
        if (mrw->effective < t) {
            adjust(hc, SB_HC_MAX_REQUEST_WORKERS, t,
                   apr_psprintf(hc->pool, "at least ThreadsPerChild %.0f", t));
        }
        if (fmod(mrw->effective, t) != 0) {
            adjust(hc, SB_HC_MAX_REQUEST_WORKERS, mrw->effective - fmod(mrw->effective, t),
                   apr_psprintf(hc->pool, "a multiple of ThreadsPerChild %.0f", t));
        }
        if (mrw->effective / t > sl) {
            adjust(hc, SB_HC_MAX_REQUEST_WORKERS, sl * t,
                   apr_psprintf(hc->pool, "at most ServerLimit %.0f x ThreadsPerChild %.0f",
                                sl, t));
        }
    }
}

int sb_httpdconf_walk(sb_httpdconf_t *hc, char *err, apr_size_t errlen)
{
    walk_t w;
    apr_table_t *defined = apr_table_make(hc->pool, 4);
    void *baton[2];
    int i, rc;

    if (hc->root == NULL) {
        snprintf(err, errlen, "no configuration files (DUMP_INCLUDES not read)");
        return -1;
    }
    memset(&w, 0, sizeof(w));
    w.hc = hc;
    w.p = hc->pool;
    w.err = err;
    w.errlen = errlen;
    w.stack = apr_array_make(hc->pool, 8, sizeof(section_t));
    w.loaded = apr_table_make(hc->pool, 32);
    for (i = 0; i < hc->static_modules->nelts; i++) {
        apr_table_set(w.loaded, APR_ARRAY_IDX(hc->static_modules, i, const char *), "");
    }
    for (i = 0; i < SB_HC_COUNT; i++) {
        memset(&hc->v[i], 0, sizeof(hc->v[i]));
    }
    /* <IfFile> before a ServerRoot line: the -d of the command (which
     * DUMP_RUN_CFG shows, as the last ServerRoot), else HTTPD_ROOT */
    hc->server_root = hc->runcfg_server_root ? hc->runcfg_server_root : hc->httpd_root;
    /* the defines httpd started with: DUMP_RUN_CFG's less those a Define
     * in the files sets (httpd lists them at the end), plus the command
     * line's */
    scan_defines(hc, hc->root, defined, hc->pool);
    apr_table_clear(hc->defines);
    baton[0] = hc;
    baton[1] = defined;
    apr_table_do(copy_define, baton, hc->runcfg_defines, NULL);
    baton[1] = NULL;
    apr_table_do(copy_define, baton, hc->cmdline_defines, NULL);
    hc->root->used = 1;
    rc = walk_file(&w, hc->root);
    if (rc != 0) {
        return -1;
    }
    unused(hc, hc->root);
    if (hc->mpm == SB_MPM_UNKNOWN) {
        snprintf(err, errlen, "the MPM is unknown (neither -V nor -M names it)");
        return -1;
    }
    for (i = 0; i < SB_HC_COUNT; i++) {
        sb_hc_value_t *v = &hc->v[i];

        if (!(table[i].mpms & (1 << hc->mpm))) {
            v->origin = SB_HC_NA;
        }
        else if (v->origin == SB_HC_UNSET) {
            v->origin = SB_HC_DEFAULT;
            v->value = v->effective = table[i].def[hc->mpm];
        }
    }
    adjustments(hc);
    return 0;
}

const char *sb_httpdconf_where(const sb_httpdconf_t *hc, sb_hc_id_t id, apr_pool_t *p)
{
    const sb_hc_value_t *v = &hc->v[id];

    switch (v->origin) {
    case SB_HC_CONFIG:
        return apr_psprintf(p, "%s:%d", v->file, v->line);
    case SB_HC_DEFAULT:
        return "httpd default";
    case SB_HC_NA:
        return "not with the MPM";
    default:
        return "unknown";
    }
}

static int has_file(const sb_hc_file_t *f, const char *want)
{
    char real[PATH_MAX];
    int i;

    if (realpath(f->path, real) != NULL && strcmp(real, want) == 0) {
        return 1;
    }
    for (i = 0; i < f->children->nelts; i++) {
        if (has_file(APR_ARRAY_IDX(f->children, i, const sb_hc_file_t *), want)) {
            return 1;
        }
    }
    return 0;
}

int sb_httpdconf_has_file(const sb_httpdconf_t *hc, const char *path)
{
    char real[PATH_MAX];

    return hc->root && realpath(path, real) != NULL && has_file(hc->root, real);
}
