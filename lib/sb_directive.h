/*
 * sb_directive.h - the httpd directives sbtune reads and writes, as one
 * table: their names (and the 2.2 spelling: MaxClients is 2.4's
 * MaxRequestWorkers), parsing "Name value" lines and "Name=value", JSON,
 * and the Apache snippet that carries them.
 *
 * sb_directives_t is also the capacity model's "settings in force"
 * (sb_model_current_t): a value < 0 is unset / unknown.
 */
#ifndef SB_DIRECTIVE_H
#define SB_DIRECTIVE_H

#include <apr_pools.h>
#include <apr_time.h>

typedef struct {
    int keepalive;              /* 1 On, 0 Off */
    int keepalive_timeout;      /* s */
    int max_request_workers;    /* MaxClients for httpd 2.2 */
    int server_limit;
    int threads_per_child;      /* worker/event only */
    int thread_limit;           /* worker/event only */
} sb_directives_t;

typedef struct {
    const char *name;           /* httpd 2.4's spelling */
    const char *alias;          /* httpd 2.2's, or NULL when the same */
    int onoff;                  /* 1: On/Off, 0: an integer >= 0 */
    apr_size_t offset;          /* into sb_directives_t */
} sb_directive_info_t;

/* The table, in the order JSON and messages list them. */
extern const sb_directive_info_t sb_directive_table[];
extern const int sb_directive_count;

/* Every field unset (-1). */
void sb_directive_init(sb_directives_t *d);

/* The value of directive idx (an index of sb_directive_table), < 0 unset. */
int sb_directive_get(const sb_directives_t *d, int idx);

/* Whether any field is set. */
int sb_directive_any(const sb_directives_t *d);

/* The index of the directive called name (len bytes; case-insensitive;
 * either spelling), or -1. */
int sb_directive_lookup(const char *name, apr_size_t len);

/* The name of directive idx as httpd 2.<minor> spells it (minor 2:
 * MaxClients). */
const char *sb_directive_name(int idx, int httpd_minor);

/* Set one directive from "Name=value" (value NULL) or ("Name", "value");
 * values are integers from 0 to INT_MAX (their range is httpd's to judge),
 * KeepAlive On/Off.  Returns 0, or -1 with a message in err naming the
 * allowed names and values; d is unchanged then. */
int sb_directive_set(sb_directives_t *d, const char *name, const char *value,
                     char *err, apr_size_t errlen);

/* Fill d from the directive lines of an Apache snippet (comments, other
 * directives, section lines and bad values ignored).  Returns the number
 * of directives found. */
int sb_directive_parse(sb_directives_t *d, const char *text, apr_size_t len);

/* "{"KeepAlive":"On","MaxRequestWorkers":12,...}" of the set fields,
 * allocated from p. */
char *sb_directive_json(const sb_directives_t *d, apr_pool_t *p);

typedef struct {
    const char *mpm;            /* "prefork", "worker" or "event" */
    int httpd_minor;            /* 2 for httpd 2.2 (MaxClients), else 4 */
    apr_time_t when;
    const char *data;           /* from what data, one line (may be NULL) */
    const char *why;            /* the arithmetic in words, any lines (may be NULL) */
} sb_directive_meta_t;

/*
 * Render the snippet: a header comment (when, data, why; every line
 * "# "-prefixed, control characters dropped, no trailing backslash that
 * would continue the comment onto the next line), KeepAlive and
 * KeepAliveTimeout at top level, the MPM directives (ServerLimit,
 * ThreadLimit, ThreadsPerChild, MaxRequestWorkers in that order; the
 * thread ones not for prefork) inside <IfModule mpm_<mpm>_module>.
 * Allocated from p.
 */
char *sb_directive_render(const sb_directives_t *d, const sb_directive_meta_t *m,
                          apr_pool_t *p);

/* The lines of text that are neither blank nor comments, trimmed, one
 * per line: two snippets with equal bodies set the same.  From p. */
char *sb_directive_body(const char *text, apr_size_t len, apr_pool_t *p);

#endif
