/*
 * sb_status.h - the mod_status "?auto" source.
 *
 * sb_status_parse() is pure: a buffer in, a sample out, no I/O.
 * sb_status_fetch() uses libcurl to GET the page and then parses it.
 */
#ifndef SB_STATUS_H
#define SB_STATUS_H

#include <apr_pools.h>
#include "sb_sample.h"

/* A problem met while parsing; parsing goes on after a malformed line. */
typedef struct {
    int line;                   /* 1-based line number in the input */
    char message[160];
} sb_status_problem_t;

#define SB_STATUS_MAX_PROBLEMS 16

typedef struct {
    int nproblems;              /* problems recorded (at most SB_STATUS_MAX_PROBLEMS) */
    int nproblems_total;        /* problems seen, recorded or not */
    sb_status_problem_t problems[SB_STATUS_MAX_PROBLEMS];
    int saw_scoreboard;         /* a Scoreboard: line was found */
    int duplicate_keys;         /* keys seen twice (2.4.35-2.4.57 event) */
} sb_status_report_t;

/* Parse a mod_status ?auto page of len bytes (need not be NUL-terminated).
 * Fills *out (allocated from p) with source SB_SOURCE_STATUS, the server
 * fields, totals, event async figures and one sb_worker_t per Scoreboard
 * character (state only; proc = index, thread = 0), then sb_sample_count().
 * report (may be NULL) receives the malformed lines with line numbers.
 * Returns APR_SUCCESS when a Scoreboard line was decoded, APR_EINVAL (with
 * report filled) when the page has no usable Scoreboard line. */
apr_status_t sb_status_parse(const char *buf, apr_size_t len, apr_pool_t *p,
                             sb_sample_t **out, sb_status_report_t *report);

typedef struct {
    const char *url;            /* e.g. http://127.0.0.1/server-status?auto */
    long connect_timeout_ms;    /* default 2000 */
    long timeout_ms;            /* total, default 5000 */
    apr_size_t max_bytes;       /* response size cap, default 1 MiB */
    const char *user;           /* basic auth user, NULL for none */
    const char *password;
    const char *ca_file;        /* TLS: CA bundle, NULL = system default */
    int insecure;               /* TLS: skip peer verification */
    const volatile int *abort;  /* non-NULL: a fetch in flight gives up (within
                                 * about a second) once *abort is set */
} sb_status_opts_t;

/* libcurl's process-wide setup, done once (it is not thread-safe: call
 * it before a thread of yours fetches).  Returns 0 or -1. */
int sb_status_global_init(void);

/* Fill opts with the defaults above (url NULL). */
void sb_status_opts_default(sb_status_opts_t *opts);

/* GET opts->url (adding "?auto" when the URL has no query) and parse it.
 * On failure returns non-zero and writes a message naming the URL and the
 * cause (timeout, refused, HTTP status, size cap, parse error) to
 * errbuf[errlen].  Return codes: APR_SUCCESS; APR_ECONNREFUSED, APR_TIMEUP,
 * APR_EGENERAL (other transport or HTTP errors), APR_ENOSPC (size cap),
 * APR_EINVAL (not a mod_status ?auto page). */
apr_status_t sb_status_fetch(const sb_status_opts_t *opts, apr_pool_t *p,
                             sb_sample_t **out, sb_status_report_t *report,
                             char *errbuf, apr_size_t errlen);

/* KeepAlive as the status URL's response headers show it. */
typedef struct {
    int keepalive_hdr;          /* a Keep-Alive header came back */
    int timeout;                /* its timeout=N, -1 absent */
    int conn_close;             /* Connection: close */
} sb_status_keepalive_t;

/* GET opts->url with "Connection: Keep-Alive" (httpd answers with
 * "Keep-Alive: timeout=N" only to a client that asks) and fill h from the
 * response headers; the body is discarded.  Returns 0, or -1 when it did
 * not answer. */
int sb_status_keepalive(const sb_status_opts_t *opts, sb_status_keepalive_t *h);

#endif
