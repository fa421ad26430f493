/*
 * sb_status_fetch.c - GET mod_status's ?auto page with libcurl.
 *
 * curl_global_init() runs on the first fetch, guarded by a plain static
 * flag: the first call of sb_status_fetch() must not race another thread
 * (call it once from main() before starting threads if that matters).
 */
#include "config.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <apr_errno.h>
#include <apr_strings.h>
#include <curl/curl.h>

#include "sb_status.h"

#ifdef PACKAGE_VERSION
#define SB_USER_AGENT "sbtune/" PACKAGE_VERSION
#else
#define SB_USER_AGENT "sbtune"
#endif

typedef struct {
    char *data;
    apr_size_t len;
    apr_size_t cap;
    apr_size_t max;
    int over_cap;
    int no_memory;
} fetch_buf_t;

static int curl_ready;

/* CURLOPT_XFERINFOFUNCTION: give up when the caller says so. */
static int on_progress(void *arg, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                       curl_off_t ulnow)
{
    const volatile int *abort = arg;
    return *abort ? 1 : 0;
}

void sb_status_opts_default(sb_status_opts_t *opts)
{
    memset(opts, 0, sizeof(*opts));
    opts->connect_timeout_ms = 2000;
    opts->timeout_ms = 5000;
    opts->max_bytes = 1024 * 1024;
}

int sb_status_global_init(void)
{
    if (!curl_ready) {
        if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
            return -1;
        }
        curl_ready = 1;
    }
    return 0;
}

static size_t on_data(char *ptr, size_t size, size_t nmemb, void *arg)
{
    fetch_buf_t *b = arg;
    apr_size_t n = size * nmemb;

    if (n > b->max - b->len) {
        b->over_cap = 1;
        return 0;
    }
    if (b->len + n > b->cap) {
        apr_size_t cap = b->cap ? b->cap : 16384;
        char *d;

        while (cap < b->len + n && cap <= b->max / 2) {
            cap *= 2;
        }
        if (cap < b->len + n || cap > b->max) {
            cap = b->max;
        }
        d = realloc(b->data, cap);
        if (!d) {
            b->no_memory = 1;
            return 0;
        }
        b->data = d;
        b->cap = cap;
    }
    memcpy(b->data + b->len, ptr, n);
    b->len += n;
    return n;
}

/* The URL for messages, with a password in it replaced by "***". */
static const char *url_for_humans(apr_pool_t *p, const char *url)
{
    const char *auth = strstr(url, "://");
    const char *at, *colon, *slash;

    if (!auth) {
        return url;
    }
    auth += 3;
    slash = strchr(auth, '/');
    at = strchr(auth, '@');
    if (!at || (slash && at > slash)) {
        return url;
    }
    colon = memchr(auth, ':', (apr_size_t)(at - auth));
    if (!colon) {
        return url;
    }
    return apr_pstrcat(p, apr_pstrmemdup(p, url, (apr_size_t)(colon - url)),
                       ":***", at, NULL);
}

static apr_status_t fail(char *errbuf, apr_size_t errlen, apr_status_t rv,
                         const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static apr_status_t fail(char *errbuf, apr_size_t errlen, apr_status_t rv,
                         const char *fmt, ...)
{
    va_list ap;

    if (errbuf && errlen > 0) {
        va_start(ap, fmt);
        apr_vsnprintf(errbuf, errlen, fmt, ap);
        va_end(ap);
    }
    return rv;
}

static apr_status_t map_curl_error(CURL *h, CURLcode cc,
                                   const char *curl_msg, const fetch_buf_t *b,
                                   const sb_status_opts_t *opts,
                                   const char *shown, char *errbuf,
                                   apr_size_t errlen)
{
    const char *detail = curl_msg[0] ? curl_msg : curl_easy_strerror(cc);
    char oserr[120];
    long os_errno = 0;

    switch (cc) {
    case CURLE_COULDNT_CONNECT:
        if (curl_easy_getinfo(h, CURLINFO_OS_ERRNO, &os_errno) == CURLE_OK
            && os_errno != 0) {
            detail = apr_strerror(APR_FROM_OS_ERROR((int)os_errno), oserr,
                                  sizeof(oserr));
        }
        return fail(errbuf, errlen, APR_ECONNREFUSED,
                    "cannot connect to %s: %s", shown, detail);
    case CURLE_OPERATION_TIMEDOUT:
        return fail(errbuf, errlen, APR_TIMEUP,
                    "timeout fetching %s (connect %ld ms, total %ld ms): %s",
                    shown, opts->connect_timeout_ms, opts->timeout_ms, detail);
    case CURLE_FILESIZE_EXCEEDED:
        return fail(errbuf, errlen, APR_ENOSPC,
                    "response from %s exceeds the size cap of %"
                    APR_SIZE_T_FMT " bytes", shown, opts->max_bytes);
    case CURLE_WRITE_ERROR:
        if (b->over_cap) {
            return fail(errbuf, errlen, APR_ENOSPC,
                        "response from %s exceeds the size cap of %"
                        APR_SIZE_T_FMT " bytes", shown, opts->max_bytes);
        }
        if (b->no_memory) {
            return fail(errbuf, errlen, APR_EGENERAL,
                        "out of memory reading %s", shown);
        }
        break;
    default:
        break;
    }
    return fail(errbuf, errlen, APR_EGENERAL, "cannot fetch %s: %s", shown,
                detail);
}

static apr_status_t check_reply(CURL *h, long code, const char *shown,
                                apr_pool_t *p, char *errbuf, apr_size_t errlen)
{
    char *location = NULL;

    if (code == 200) {
        return APR_SUCCESS;
    }
    if (code >= 300 && code < 400
        && curl_easy_getinfo(h, CURLINFO_REDIRECT_URL, &location) == CURLE_OK
        && location) {
        return fail(errbuf, errlen, APR_EGENERAL,
                    "HTTP %ld from %s (redirect to %s not followed)", code,
                    shown, url_for_humans(p, location));
    }
    return fail(errbuf, errlen, APR_EGENERAL, "HTTP %ld from %s", code, shown);
}

static apr_status_t parse_reply(CURL *h, const fetch_buf_t *b,
                                const char *shown, apr_pool_t *p,
                                sb_sample_t **out, sb_status_report_t *report,
                                char *errbuf, apr_size_t errlen)
{
    char *ctype = NULL;
    const char *hint = "";
    apr_status_t rv;

    rv = sb_status_parse(b->data ? b->data : "", b->len, p, out, report);
    if (rv == APR_SUCCESS) {
        (*out)->ts = apr_time_now();
        return APR_SUCCESS;
    }
    if (curl_easy_getinfo(h, CURLINFO_CONTENT_TYPE, &ctype) == CURLE_OK
        && ctype && strncasecmp(ctype, "text/html", 9) == 0) {
        hint = " (got an HTML page: is the URL's query missing \"auto\"?)";
    }
    if (report->saw_scoreboard && report->nproblems > 0
        && report->nproblems == report->nproblems_total) {
        const sb_status_problem_t *last = &report->problems[report->nproblems - 1];
        return fail(errbuf, errlen, APR_EINVAL,
                    "%s has no usable Scoreboard line (line %d: %s)", shown,
                    last->line, last->message);
    }
    if (report->saw_scoreboard) {
        return fail(errbuf, errlen, APR_EINVAL,
                    "%s has no usable Scoreboard line", shown);
    }
    return fail(errbuf, errlen, APR_EINVAL,
                "%s is not a mod_status ?auto page: no Scoreboard line in %"
                APR_SIZE_T_FMT " bytes%s", shown, b->len, hint);
}

apr_status_t sb_status_fetch(const sb_status_opts_t *opts, apr_pool_t *p,
                             sb_sample_t **out, sb_status_report_t *report,
                             char *errbuf, apr_size_t errlen)
{
    sb_status_report_t local_report;
    fetch_buf_t b;
    char curl_msg[CURL_ERROR_SIZE];
    const char *url, *shown;
    CURL *h;
    CURLcode cc;
    long code = 0;
    apr_status_t rv;

    *out = NULL;
    if (errbuf && errlen > 0) {
        errbuf[0] = '\0';
    }
    if (!report) {
        report = &local_report;
    }
    memset(report, 0, sizeof(*report));
    if (!opts->url || !opts->url[0]) {
        return fail(errbuf, errlen, APR_EINVAL, "no mod_status URL given");
    }
    url = strchr(opts->url, '?') ? opts->url
                                 : apr_pstrcat(p, opts->url, "?auto", NULL);
    shown = url_for_humans(p, url);
    if (opts->max_bytes == 0) {
        return fail(errbuf, errlen, APR_EINVAL,
                    "size cap of 0 bytes for %s", shown);
    }
    if (sb_status_global_init() != 0) {
        return fail(errbuf, errlen, APR_EGENERAL,
                    "curl_global_init failed, cannot fetch %s", shown);
    }
    h = curl_easy_init();
    if (!h) {
        return fail(errbuf, errlen, APR_EGENERAL,
                    "curl_easy_init failed, cannot fetch %s", shown);
    }
    memset(&b, 0, sizeof(b));
    b.max = opts->max_bytes;
    curl_msg[0] = '\0';

    curl_easy_setopt(h, CURLOPT_URL, url);
#if LIBCURL_VERSION_NUM >= 0x075500
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
#else
    curl_easy_setopt(h, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, opts->connect_timeout_ms);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, opts->timeout_ms);
    curl_easy_setopt(h, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)opts->max_bytes);
    curl_easy_setopt(h, CURLOPT_USERAGENT, SB_USER_AGENT);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, curl_msg);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &b);
    if (opts->abort) {
        curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
        curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress);
        curl_easy_setopt(h, CURLOPT_XFERINFODATA, (void *)opts->abort);
    }
    if (opts->user) {
        curl_easy_setopt(h, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
        curl_easy_setopt(h, CURLOPT_USERNAME, opts->user);
        curl_easy_setopt(h, CURLOPT_PASSWORD,
                         opts->password ? opts->password : "");
    }
    if (opts->ca_file) {
        curl_easy_setopt(h, CURLOPT_CAINFO, opts->ca_file);
    }
    if (opts->insecure) {
        curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
        curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
    }

    cc = curl_easy_perform(h);
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
    /* an error page over the size cap is reported by its status */
    if (cc != CURLE_OK
        && (code == 0 || code == 200
            || (cc != CURLE_WRITE_ERROR && cc != CURLE_FILESIZE_EXCEEDED))) {
        rv = map_curl_error(h, cc, curl_msg, &b, opts, shown, errbuf, errlen);
    }
    else {
        rv = check_reply(h, code, shown, p, errbuf, errlen);
        if (rv == APR_SUCCESS) {
            rv = parse_reply(h, &b, shown, p, out, report, errbuf, errlen);
        }
    }
    curl_easy_cleanup(h);
    free(b.data);
    return rv;
}

/* ---------------------------------------------------------------- keep-alive probe */

static size_t ka_header_cb(char *buf, size_t size, size_t n, void *baton)
{
    sb_status_keepalive_t *h = baton;
    size_t len = size * n;
    char line[256];
    char *v;

    if (len >= sizeof(line)) {
        return len;
    }
    memcpy(line, buf, len);
    line[len] = '\0';
    if (strncasecmp(line, "Keep-Alive:", 11) == 0) {
        h->keepalive_hdr = 1;
        v = strstr(line, "timeout=");
        if (v) {
            h->timeout = atoi(v + 8);
        }
    }
    else if (strncasecmp(line, "Connection:", 11) == 0 && strcasestr(line, "close")) {
        h->conn_close = 1;
    }
    return len;
}

static size_t discard_body(char *buf, size_t size, size_t n, void *baton)
{
    return size * n;
}

int sb_status_keepalive(const sb_status_opts_t *o, sb_status_keepalive_t *h)
{
    CURL *curl;
    struct curl_slist *hdrs;
    CURLcode rc;
    long code = 0;

    memset(h, 0, sizeof(*h));
    h->timeout = -1;
    if (!o->url || sb_status_global_init() != 0 || (curl = curl_easy_init()) == NULL) {
        return -1;
    }
    curl_easy_setopt(curl, CURLOPT_URL, o->url);
    curl_easy_setopt(curl, CURLOPT_HTTP_VERSION, CURL_HTTP_VERSION_1_1);
    curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, ka_header_cb);
    curl_easy_setopt(curl, CURLOPT_HEADERDATA, h);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, discard_body);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, 3000L);
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, 2000L);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_USERAGENT, SB_USER_AGENT);
    if (o->user && o->password) {
        curl_easy_setopt(curl, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
        curl_easy_setopt(curl, CURLOPT_USERNAME, o->user);
        curl_easy_setopt(curl, CURLOPT_PASSWORD, o->password);
    }
    if (o->ca_file) {
        curl_easy_setopt(curl, CURLOPT_CAINFO, o->ca_file);
    }
    if (o->insecure) {
        curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 0L);
        curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 0L);
    }
    /* httpd answers with "Keep-Alive: timeout=N" only to a client that asks */
    hdrs = curl_slist_append(NULL, "Connection: Keep-Alive");
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, hdrs);
    rc = curl_easy_perform(curl);
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &code);
    curl_easy_cleanup(curl);        /* closes the kept-alive connection */
    curl_slist_free_all(hdrs);
    return rc == CURLE_OK && code > 0 ? 0 : -1;
}
