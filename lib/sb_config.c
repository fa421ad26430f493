#include "config.h"
#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <yaml.h>
#include <apr_strings.h>
#include "sb_config.h"

#define OFF(f) offsetof(sb_config_t, f)
#define A SB_PROG_AGENT
#define T SB_PROG_TOP
#define U SB_PROG_TUNE

const sb_config_opt_t sb_config_options[] = {
    /* sources */
    { "scoreboard", SB_CT_STRING, A | T | U, OFF(scoreboard), "", 0, 0, NULL, "PATH",
      "httpd's ScoreBoardFile: read the scoreboard from shared memory" },
    { "status_url", SB_CT_STRING, A | T | U, OFF(status_url), "", 0, 0, NULL, "URL",
      "mod_status URL (\"?auto\" is added): the fallback or remote source" },
    { "status_user", SB_CT_STRING, A | T | U, OFF(status_user), "", 0, 0, NULL, "USER",
      "mod_status basic auth user" },
    { "status_password_file", SB_CT_STRING, A | T | U, OFF(status_password_file), "", 0, 0,
      NULL, "FILE", "file whose first line is the mod_status basic auth password" },
    { "ca_file", SB_CT_STRING, A | T | U, OFF(ca_file), "", 0, 0, NULL, "FILE",
      "CA certificates for mod_status over HTTPS" },
    { "insecure", SB_CT_BOOL, A | T | U, OFF(insecure), "false", 0, 1, NULL, NULL,
      "do not verify mod_status's TLS certificate" },
    { "connect_timeout_ms", SB_CT_INT, A | T | U, OFF(connect_timeout_ms), "2000", 1, 600000,
      NULL, "MS", "mod_status connect timeout" },
    { "timeout_ms", SB_CT_INT, A | T | U, OFF(timeout_ms), "5000", 1, 600000, NULL, "MS",
      "mod_status total timeout" },
    { "max_bytes", SB_CT_INT, A | T | U, OFF(max_bytes), "1048576", 1024, 1073741824, NULL,
      "N", "largest mod_status response accepted" },
    { "shm_hz", SB_CT_DOUBLE, A | T, OFF(shm_hz), "10", 0.1, 100, NULL, "HZ",
      "scoreboard samples per second" },
    { "status_interval", SB_CT_DOUBLE, A | T, OFF(status_interval), "5", 0.2, 3600, NULL,
      "SECONDS", "seconds between mod_status scrapes when it is the only source" },
    { "kernel_hz", SB_CT_DOUBLE, A | T, OFF(kernel_hz), "2", 0, 100, NULL, "HZ",
      "kernel socket samples per second (0: off)" },
    { "ports", SB_CT_STRING, A | T, OFF(ports), "", 0, 0, NULL, "LIST",
      "httpd's listen ports, e.g. 80,443 (default: found from httpd's processes)" },
    { "httpd_pidfile", SB_CT_STRING, A | T | U, OFF(httpd_pidfile), "", 0, 0, NULL, "FILE",
      "httpd's PidFile (default: the parent of the scoreboard's children)" },
    /* history */
    { "history", SB_CT_STRING, A | T | U, OFF(history), "", 0, 0, NULL, "FILE",
      "SQLite history file (empty: no history)" },
    { "keep_seconds_hours", SB_CT_INT, A, OFF(keep_seconds_hours), "48", 1, 8760, NULL,
      "HOURS", "how long per-second rows are kept" },
    { "keep_minutes_days", SB_CT_INT, A, OFF(keep_minutes_days), "90", 1, 3650, NULL,
      "DAYS", "how long per-minute rows are kept" },
    /* export */
    { "listen", SB_CT_STRING, A, OFF(listen), "", 0, 0, NULL, "ADDR:PORT",
      "serve Prometheus metrics here (e.g. 127.0.0.1:9117; empty: off)" },
    { "textfile", SB_CT_STRING, A, OFF(textfile), "", 0, 0, NULL, "FILE",
      "write Prometheus metrics to this node_exporter textfile (empty: off)" },
    { "export_clients", SB_CT_BOOL, A, OFF(export_clients), "false", 0, 1, NULL, NULL,
      "export per-client figures (client addresses leave the host)" },
    /* daemon */
    { "log_level", SB_CT_ENUM, A | T | U, OFF(log_level), "notice", 0, 0,
      "error|warning|notice|info|debug", "LEVEL", "least important messages logged" },
    { "log", SB_CT_ENUM, A | U, OFF(log), "stderr", 0, 0, "stderr|syslog", "WHERE",
      "where messages go" },
    { "user", SB_CT_STRING, A, OFF(user), "", 0, 0, NULL, "USER",
      "after attaching, drop to this user keeping only CAP_DAC_OVERRIDE" },
};
const int sb_config_noptions = (int)(sizeof(sb_config_options) / sizeof(sb_config_options[0]));

#undef A
#undef T
#undef U

const sb_config_opt_t *sb_config_find(const char *key)
{
    int i;
    for (i = 0; i < sb_config_noptions; i++) {
        if (strcmp(sb_config_options[i].key, key) == 0) {
            return &sb_config_options[i];
        }
    }
    return NULL;
}

const char *sb_config_long_name(const sb_config_opt_t *o, char *buf, apr_size_t len)
{
    apr_size_t i;
    for (i = 0; o->key[i] && i + 1 < len; i++) {
        buf[i] = o->key[i] == '_' ? '-' : o->key[i];
    }
    buf[i] = '\0';
    return buf;
}

static int parse_bool(const char *v, int *out)
{
    static const char *const yes[] = { "true", "yes", "on", "1" };
    static const char *const no[] = { "false", "no", "off", "0" };
    apr_size_t i;
    for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
        if (strcasecmp(v, yes[i]) == 0) {
            *out = 1;
            return 0;
        }
        if (strcasecmp(v, no[i]) == 0) {
            *out = 0;
            return 0;
        }
    }
    return -1;
}

static int choice_ok(const char *choices, const char *v)
{
    apr_size_t n = strlen(v);
    const char *c = choices;
    while (*c) {
        apr_size_t len = strcspn(c, "|");
        if (len == n && strncmp(c, v, n) == 0) {
            return 1;
        }
        c += len;
        if (*c == '|') {
            c++;
        }
    }
    return 0;
}

static void bounds(const sb_config_opt_t *o, char *buf, apr_size_t len)
{
    if (o->type == SB_CT_INT) {
        snprintf(buf, len, "a whole number from %.0f to %.0f", o->min, o->max);
    }
    else {
        snprintf(buf, len, "a number from %g to %g", o->min, o->max);
    }
}

int sb_config_set(sb_config_t *cfg, apr_pool_t *p, const char *key,
                  const char *value, const char *origin, unsigned program,
                  char *err, apr_size_t errlen)
{
    const sb_config_opt_t *o = sb_config_find(key);
    char *field;
    char allowed[96];

    if (!o) {
        snprintf(err, errlen, "%s: unknown key '%s'", origin, key);
        return -1;
    }
    if (!(o->programs & program)) {
        snprintf(err, errlen, "%s: '%s' is not an option of this program", origin, key);
        return -1;
    }
    field = (char *)cfg + o->offset;
    switch (o->type) {
    case SB_CT_BOOL: {
        int b;
        if (parse_bool(value, &b) != 0) {
            snprintf(err, errlen, "%s: %s must be true or false, not '%s'", origin, key, value);
            return -1;
        }
        *(int *)field = b;
        return 0;
    }
    case SB_CT_INT:
    case SB_CT_DOUBLE: {
        char *end;
        double d;
        errno = 0;
        d = strtod(value, &end);
        if (errno || end == value || *end || !isfinite(d) || d < o->min || d > o->max
            || (o->type == SB_CT_INT && d != floor(d))) {
            bounds(o, allowed, sizeof(allowed));
            snprintf(err, errlen, "%s: %s must be %s, not '%s'", origin, key, allowed, value);
            return -1;
        }
        if (o->type == SB_CT_INT) {
            *(int *)field = (int)d;
        }
        else {
            *(double *)field = d;
        }
        return 0;
    }
    case SB_CT_ENUM:
        if (!choice_ok(o->choices, value)) {
            snprintf(err, errlen, "%s: %s must be one of %s, not '%s'", origin, key,
                     o->choices, value);
            return -1;
        }
        *(const char **)field = apr_pstrdup(p, value);
        return 0;
    case SB_CT_STRING:
        *(const char **)field = apr_pstrdup(p, value);
        return 0;
    }
    return -1;
}

void sb_config_defaults(sb_config_t *cfg, apr_pool_t *p)
{
    int i;
    char err[256];

    memset(cfg, 0, sizeof(*cfg));
    for (i = 0; i < sb_config_noptions; i++) {
        sb_config_set(cfg, p, sb_config_options[i].key, sb_config_options[i].def,
                      "default", SB_PROG_ALL, err, sizeof(err));
    }
}

int sb_config_load(sb_config_t *cfg, apr_pool_t *p, const char *path,
                   char *err, apr_size_t errlen)
{
    FILE *f;
    yaml_parser_t parser;
    yaml_event_t ev;
    int rc = -1, done = 0, depth = 0, top_seen = 0;
    char *key = NULL;

    f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
        return -1;
    }
    if (!yaml_parser_initialize(&parser)) {
        fclose(f);
        snprintf(err, errlen, "%s: cannot initialize the YAML parser", path);
        return -1;
    }
    yaml_parser_set_input_file(&parser, f);

    while (!done) {
        char origin[512];
        if (!yaml_parser_parse(&parser, &ev)) {
            snprintf(err, errlen, "%s:%lu:%lu: YAML error: %s%s%s", path,
                     (unsigned long)parser.problem_mark.line + 1,
                     (unsigned long)parser.problem_mark.column + 1,
                     parser.problem ? parser.problem : "unknown",
                     parser.context ? " " : "", parser.context ? parser.context : "");
            goto out;
        }
        snprintf(origin, sizeof(origin), "%s:%lu:%lu", path,
                 (unsigned long)ev.start_mark.line + 1, (unsigned long)ev.start_mark.column + 1);
        switch (ev.type) {
        case YAML_STREAM_END_EVENT:
            done = 1;
            break;
        case YAML_MAPPING_START_EVENT:
            if (depth > 0 || top_seen) {
                snprintf(err, errlen, "%s: %s takes a single value, not a mapping", origin,
                         key ? key : "the file");
                yaml_event_delete(&ev);
                goto out;
            }
            depth++;
            top_seen = 1;
            break;
        case YAML_MAPPING_END_EVENT:
            depth--;
            break;
        case YAML_SEQUENCE_START_EVENT:
            snprintf(err, errlen, "%s: %s takes a single value, not a list", origin,
                     key ? key : "the file");
            yaml_event_delete(&ev);
            goto out;
        case YAML_ALIAS_EVENT:
            snprintf(err, errlen, "%s: aliases are not supported", origin);
            yaml_event_delete(&ev);
            goto out;
        case YAML_SCALAR_EVENT:
            if (depth == 0) {
                snprintf(err, errlen, "%s: the file must be a mapping of option: value",
                         origin);
                yaml_event_delete(&ev);
                goto out;
            }
            if (!key) {
                key = apr_pstrndup(p, (const char *)ev.data.scalar.value, ev.data.scalar.length);
                if (!sb_config_find(key)) {
                    snprintf(err, errlen, "%s: unknown key '%s' (see sbtune.yaml(5))",
                             origin, key);
                    yaml_event_delete(&ev);
                    goto out;
                }
            }
            else {
                const char *val = apr_pstrndup(p, (const char *)ev.data.scalar.value,
                                               ev.data.scalar.length);
                /* "~", "null" and an empty plain scalar mean the default */
                if (ev.data.scalar.style == YAML_PLAIN_SCALAR_STYLE
                    && (!*val || strcmp(val, "~") == 0 || strcmp(val, "null") == 0)) {
                    val = sb_config_find(key)->def;
                }
                /* the file is shared: another program's keys are valid here */
                if (sb_config_set(cfg, p, key, val, origin, SB_PROG_ALL, err, errlen) != 0) {
                    yaml_event_delete(&ev);
                    goto out;
                }
                key = NULL;
            }
            break;
        default:
            break;
        }
        yaml_event_delete(&ev);
    }
    rc = 0;
out:
    yaml_parser_delete(&parser);
    fclose(f);
    return rc;
}

int sb_config_getopt(struct option *opts, int max, unsigned program, int base,
                     apr_pool_t *p)
{
    int i, n = 0;
    for (i = 0; i < sb_config_noptions && n < max; i++) {
        const sb_config_opt_t *o = &sb_config_options[i];
        char *name;
        apr_size_t len;
        if (!(o->programs & program)) {
            continue;
        }
        len = strlen(o->key) + 1;
        name = apr_palloc(p, len);
        sb_config_long_name(o, name, len);
        opts[n].name = name;
        opts[n].has_arg = o->type == SB_CT_BOOL ? optional_argument : required_argument;
        opts[n].flag = NULL;
        opts[n].val = base + i;
        n++;
    }
    return n;
}

void sb_config_help(FILE *out, unsigned program)
{
    int i;
    for (i = 0; i < sb_config_noptions; i++) {
        const sb_config_opt_t *o = &sb_config_options[i];
        char name[64], left[96];
        if (!(o->programs & program)) {
            continue;
        }
        sb_config_long_name(o, name, sizeof(name));
        snprintf(left, sizeof(left), "--%s%s%s%s", name,
                 o->type == SB_CT_BOOL ? "[=BOOL]" : "", o->arg ? " " : "",
                 o->arg ? o->arg : "");
        fprintf(out, "      %-32s %s", left, o->help);
        if (o->type == SB_CT_ENUM) {
            fprintf(out, " (%s; default %s)", o->choices, o->def);
        }
        else if (o->def[0] && o->type != SB_CT_BOOL) {
            fprintf(out, " (default %s)", o->def);
        }
        fputc('\n', out);
    }
}

int sb_config_cmdline_add(sb_config_cmdline_t *cl, const char *key, const char *value,
                          const char *origin)
{
    if (cl->n >= SB_CONFIG_CMDLINE_MAX) {
        return -1;
    }
    cl->e[cl->n].key = key;
    cl->e[cl->n].value = value ? value : "true";
    apr_cpystrn(cl->e[cl->n].origin, origin, sizeof(cl->e[cl->n].origin));
    cl->n++;
    return 0;
}

int sb_config_cmdline_getopt(sb_config_cmdline_t *cl, int val, int base, const char *optarg)
{
    const sb_config_opt_t *o;
    char name[64], origin[80];

    if (val < base || val >= base + sb_config_noptions) {
        return 1;
    }
    o = &sb_config_options[val - base];
    snprintf(origin, sizeof(origin), "--%s", sb_config_long_name(o, name, sizeof(name)));
    return sb_config_cmdline_add(cl, o->key, optarg, origin);
}

int sb_config_resolve(sb_config_t *cfg, apr_pool_t *p, const char **file,
                      const char *default_file, const sb_config_cmdline_t *cl,
                      unsigned program, char *err, apr_size_t errlen)
{
    int i;

    sb_config_defaults(cfg, p);
    if (!*file && default_file && access(default_file, F_OK) == 0) {
        *file = default_file;
    }
    if (*file && sb_config_load(cfg, p, *file, err, errlen) != 0) {
        return -1;
    }
    for (i = 0; i < cl->n; i++) {
        if (sb_config_set(cfg, p, cl->e[i].key, cl->e[i].value, cl->e[i].origin, program,
                          err, errlen) != 0) {
            return -1;
        }
    }
    return 0;
}

int sb_cli_getopt(const sb_cli_opt_t *opts, int n, struct option *lopts, int max,
                  char *shortopts)
{
    int i, nl = 0;
    apr_size_t k = strlen(shortopts);

    for (i = 0; i < n && nl < max; i++) {
        lopts[nl].name = opts[i].name;
        lopts[nl].has_arg = opts[i].has_arg;
        lopts[nl].flag = NULL;
        lopts[nl].val = opts[i].id;
        nl++;
        if (opts[i].id > 0 && opts[i].id < 256) {
            shortopts[k++] = (char)opts[i].id;
            if (opts[i].has_arg == required_argument) {
                shortopts[k++] = ':';
            }
        }
    }
    shortopts[k] = '\0';
    return nl;
}

void sb_cli_help(FILE *out, const sb_cli_opt_t *opts, int n)
{
    int i;
    for (i = 0; i < n; i++) {
        char left[64];
        snprintf(left, sizeof(left), "--%s%s%s", opts[i].name, opts[i].arg ? " " : "",
                 opts[i].arg ? opts[i].arg : "");
        if (opts[i].id > 0 && opts[i].id < 256) {
            fprintf(out, "  -%c, %-32s %s\n", opts[i].id, left, opts[i].help);
        }
        else {
            fprintf(out, "      %-32s %s\n", left, opts[i].help);
        }
    }
}
