/*
 * sb_httpdconf.h - the settings a running httpd was configured with, read
 * the way httpd reads them: from the output of `apachectl -V` (the MPM,
 * HTTPD_ROOT, SERVER_CONFIG_FILE, the version), `apachectl -M` (the
 * modules), `apachectl -t -D DUMP_RUN_CFG` (the defines) and `apachectl
 * -t -D DUMP_INCLUDES` (the configuration files httpd loads, nested in
 * load order, each with the line of the Include that pulled it in), and
 * then the files themselves, in that order.
 *
 * This module only parses: the caller runs the commands (tuner/'s
 * apachectl runner) and hands over their output.  Nothing is written.
 *
 * What the walk evaluates (sbtune(8), DISCOVERY):
 *   - logical lines: a trailing backslash continues the line (comments
 *     too, as in httpd); "#" starts a comment at the start of a line;
 *     directive names are case-insensitive; "..." and '...' group words
 *   - ${NAME}: the value of "Define NAME VALUE" seen so far, else the
 *     environment of this process (httpd also sees apachectl's envvars);
 *     an unresolved ${NAME} is left as it is, as httpd does
 *   - <IfModule [!]NAME>: NAME is a module name (status_module) or a
 *     source file name (mod_status.c, event.c); true for the static
 *     modules of -M and those a LoadModule already loaded at that line
 *   - <IfDefine [!]NAME>: the defines of DUMP_RUN_CFG (the -D arguments,
 *     also those apachectl adds) not set by a Define in the files, plus
 *     Define / UnDefine in order
 *   - <IfVersion [op] VERSION> against -V's version (a regular
 *     expression is not evaluated: taken as true, with a note);
 *     <IfFile [!]PATH> by stat() (relative to ServerRoot: the last
 *     ServerRoot line above, else DUMP_RUN_CFG's, else HTTPD_ROOT);
 *     <IfDirective> and <IfSection> are taken as true, with a note
 *   - every other section (<VirtualHost>, <Directory>, <Location>,
 *     <Files>, <If>, <Macro>, ...) is not the main server: a directive
 *     of the table inside it is not counted (a note names it)
 *   - Include / IncludeOptional: the files DUMP_INCLUDES lists under that
 *     line of that file are read there, in its order (httpd expanded the
 *     globs); an include httpd made where this walk sees none active (or
 *     the reverse for Include) is a note: the evaluation differs
 *   - the last directive in the main server's context wins; the value
 *     keeps the file and line where the directive starts
 *   - what is not set is httpd 2.4's compiled-in default for the MPM;
 *     then httpd's adjustments at startup (ThreadsPerChild to ThreadLimit,
 *     MaxRequestWorkers to a multiple of ThreadsPerChild, to at least
 *     ThreadsPerChild and at most ServerLimit x ThreadsPerChild; prefork's
 *     to at most ServerLimit), each with a note
 */
#ifndef SB_HTTPDCONF_H
#define SB_HTTPDCONF_H

#include <apr_pools.h>
#include <apr_tables.h>

#include "sb_mpm.h"

/* The directives read (the table in sb_httpdconf.c, in this order). */
typedef enum {
    SB_HC_KEEPALIVE = 0,
    SB_HC_KEEPALIVE_TIMEOUT,
    SB_HC_MAX_REQUEST_WORKERS,  /* also MaxClients */
    SB_HC_SERVER_LIMIT,
    SB_HC_THREADS_PER_CHILD,
    SB_HC_THREAD_LIMIT,
    SB_HC_START_SERVERS,
    SB_HC_MIN_SPARE_SERVERS,
    SB_HC_MAX_SPARE_SERVERS,
    SB_HC_MIN_SPARE_THREADS,
    SB_HC_MAX_SPARE_THREADS,
    SB_HC_ASYNC_FACTOR,         /* AsyncRequestWorkerFactor */
    SB_HC_LISTEN_BACKLOG,
    SB_HC_MAX_CONNECTIONS_PER_CHILD, /* also MaxRequestsPerChild */
    SB_HC_COUNT
} sb_hc_id_t;

typedef enum {
    SB_HC_UNSET = 0,            /* not read yet */
    SB_HC_CONFIG,               /* from a file: file, line */
    SB_HC_DEFAULT,              /* httpd's compiled-in default for the MPM */
    SB_HC_NA                    /* the MPM has no such directive */
} sb_hc_origin_t;

typedef struct {
    sb_hc_origin_t origin;
    double value;               /* KeepAlive 1/0; KeepAliveTimeout in s (ms
                                 * allowed); the rest as written */
    double effective;           /* after httpd's adjustments at startup */
    const char *adjusted;       /* why effective differs, or NULL */
    const char *spelled;        /* the name as written (MaxClients...) */
    const char *file;
    int line;
} sb_hc_value_t;

/* An entry of DUMP_INCLUDES: a file, the line of its parent's Include. */
typedef struct sb_hc_file sb_hc_file_t;
struct sb_hc_file {
    const char *path;
    int parent_line;            /* 0 for the root ("(*)") */
    int depth;
    sb_hc_file_t *parent;
    apr_array_header_t *children; /* sb_hc_file_t *, in load order */
    int used;                   /* the walk read it at an Include */
};

typedef struct {
    apr_pool_t *pool;
    sb_mpm_t mpm;               /* -V's "Server MPM", else -M's mpm_*_module */
    const char *mpm_from;       /* "apachectl -V", "apachectl -M" */
    const char *version;        /* "2.4.71", or NULL */
    int httpd_minor;            /* 2, 4; 0 unknown */
    const char *httpd_root;     /* -V's HTTPD_ROOT, or NULL */
    const char *server_config_file; /* -V's SERVER_CONFIG_FILE, or NULL */
    const char *runcfg_server_root; /* DUMP_RUN_CFG's ServerRoot, or NULL */
    const char *server_root;    /* ServerRoot as the walk last saw it */
    apr_array_header_t *static_modules; /* const char *, from -M */
    apr_array_header_t *modules;        /* every module of -M */
    apr_table_t *runcfg_defines;  /* DUMP_RUN_CFG's: name -> value ("" none) */
    apr_table_t *cmdline_defines; /* sb_httpdconf_define()'s */
    apr_table_t *defines;       /* the walk's, as it goes */
    sb_hc_file_t *root;         /* the DUMP_INCLUDES tree */
    int nfiles;
    sb_hc_value_t v[SB_HC_COUNT];
    char *notes;                /* one line each: what the walk could not take as httpd does */
} sb_httpdconf_t;

/* The directive's name as httpd 2.4 spells it. */
const char *sb_httpdconf_name(sb_hc_id_t id);

/* Its index by name (case-insensitive; MaxClients, MaxRequestsPerChild
 * too), or -1. */
int sb_httpdconf_lookup(const char *name);

/* An empty result, from p. */
sb_httpdconf_t *sb_httpdconf_create(apr_pool_t *p);

/* `apachectl -V`: MPM, version, HTTPD_ROOT, SERVER_CONFIG_FILE.  Returns
 * 0, or -1 when out has no "Server version" / "Server MPM" line. */
int sb_httpdconf_parse_V(sb_httpdconf_t *hc, const char *out);

/* `apachectl -M` ("Loaded Modules:" then " name (static|shared)"); the MPM
 * from mpm_*_module when -V did not say.  Returns the number of modules. */
int sb_httpdconf_parse_M(sb_httpdconf_t *hc, const char *out);

/* `apachectl -t -D DUMP_RUN_CFG`'s "Define: NAME[=VALUE]" lines (not
 * DUMP_RUN_CFG / DUMP_INCLUDES themselves).  Returns how many. */
int sb_httpdconf_parse_defines(sb_httpdconf_t *hc, const char *out);

/* A define of the command line (-D NAME). */
void sb_httpdconf_define(sb_httpdconf_t *hc, const char *name, const char *value);

/* `apachectl -t -D DUMP_INCLUDES` into the tree.  Returns 0, or -1 with
 * a message in err (no "Included configuration files:", no "(*)" root,
 * a line that is none of these). */
int sb_httpdconf_parse_includes(sb_httpdconf_t *hc, const char *out, char *err,
                                apr_size_t errlen);

/*
 * Read the tree's files from the root, as described above, then the
 * defaults and httpd's adjustments for hc->mpm.  Returns 0, or -1 with a
 * message in err naming the file (and line): unreadable, a section not
 * closed or closed by another name.
 */
int sb_httpdconf_walk(sb_httpdconf_t *hc, char *err, apr_size_t errlen);

/* "FILE:LINE", "httpd default", or "not with the MPM", from p. */
const char *sb_httpdconf_where(const sb_httpdconf_t *hc, sb_hc_id_t id, apr_pool_t *p);

/* Whether path (by realpath) is among the tree's files. */
int sb_httpdconf_has_file(const sb_httpdconf_t *hc, const char *path);

#endif
