/*
 * test_status_parse.c - sb_status_parse() on real ?auto captures of httpd
 * 2.4.71 (tests/data, see its README.md) and on damaged copies of them.
 *
 * Expected values are read from the capture files by the simple helpers
 * below, never typed in.  Every input is handed to the parser in a buffer
 * of exactly its length with no NUL after it, so a sanitizer build catches
 * any read past len.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <check.h>
#include "sb_unit.h"
#include <apr_general.h>
#include <apr_pools.h>
#include <apr_strings.h>

#include "sb_status.h"

static apr_pool_t *pool;

static void setup(void)
{
    apr_pool_create(&pool, NULL);
}

static void teardown(void)
{
    apr_pool_destroy(pool);
}

/* ---------------------------------------------------------------- helpers */


static apr_status_t parse(const char *data, apr_size_t len, sb_sample_t **s,
                          sb_status_report_t *report)
{
    char *exact = malloc(len ? len : 1);
    apr_status_t rv;

    ck_assert_ptr_nonnull(exact);
    memcpy(exact, data, len);
    rv = sb_status_parse(exact, len, pool, s, report);
    /* the sample must not point into the input */
    memset(exact, 'x', len);
    free(exact);
    return rv;
}

static apr_status_t parse_str(const char *text, sb_sample_t **s,
                              sb_status_report_t *report)
{
    return parse(text, strlen(text), s, report);
}

/* Value of the first "key: value" line, or NULL. */
static const char *file_value(const char *text, const char *key)
{
    apr_size_t kl = strlen(key);
    const char *line = text;

    while (*line) {
        const char *eol = strchr(line, '\n');
        apr_size_t n = eol ? (apr_size_t)(eol - line) : strlen(line);
        if (n > 0 && line[n - 1] == '\r') {
            n--;
        }
        if (n >= kl + 2 && !strncmp(line, key, kl) && line[kl] == ':'
            && line[kl + 1] == ' ') {
            return apr_pstrmemdup(pool, line + kl + 2, n - kl - 2);
        }
        if (!eol) {
            break;
        }
        line = eol + 1;
    }
    return NULL;
}

static const char *must_value(const char *text, const char *key)
{
    const char *v = file_value(text, key);
    ck_assert_msg(v != NULL, "no \"%s\" line in the capture", key);
    return v;
}

/* 1-based line number of the first line starting with prefix, or 0. */
static int file_line_of(const char *text, const char *prefix)
{
    int line = 1;
    const char *p = text;

    while (*p) {
        if (!strncmp(p, prefix, strlen(prefix))) {
            return line;
        }
        p = strchr(p, '\n');
        if (!p) {
            break;
        }
        p++;
        line++;
    }
    return 0;
}

static unsigned count_char(const char *s, char c)
{
    unsigned n = 0;
    for (; *s; s++) {
        n += *s == c;
    }
    return n;
}

/* Replace the value of the first line "key: ..." with value. */
static char *with_value(const char *text, const char *key, const char *value)
{
    const char *at = strstr(text, apr_pstrcat(pool, "\n", key, ": ", NULL));
    const char *eol;

    ck_assert_ptr_nonnull(at);
    at += strlen(key) + 3;
    eol = strchr(at, '\n');
    ck_assert_ptr_nonnull(eol);
    return apr_pstrcat(pool, apr_pstrmemdup(pool, text, (apr_size_t)(at - text)),
                       value, eol, NULL);
}

static char *to_crlf(const char *text)
{
    char *out = apr_palloc(pool, strlen(text) * 2 + 1), *o = out;

    for (; *text; text++) {
        if (*text == '\n') {
            *o++ = '\r';
        }
        *o++ = *text;
    }
    *o = '\0';
    return out;
}

/* "Monday, 23-Nov-2026 04:30:00 UTC" -> apr_time_t, through timegm(). */
static apr_time_t utc_time(const char *s)
{
    static const char *months = "JanFebMarAprMayJunJulAugSepOctNovDec";
    char mon[4], zone[8];
    struct tm tm;
    const char *m;

    memset(&tm, 0, sizeof(tm));
    ck_assert_int_eq(sscanf(s, "%*[A-Za-z], %d-%3s-%d %d:%d:%d %7s", &tm.tm_mday,
                            mon, &tm.tm_year, &tm.tm_hour, &tm.tm_min,
                            &tm.tm_sec, zone), 7);
    ck_assert_str_eq(zone, "UTC");
    m = strstr(months, mon);
    ck_assert_ptr_nonnull(m);
    tm.tm_mon = (int)(m - months) / 3;
    tm.tm_year -= 1900;
    return apr_time_from_sec(timegm(&tm));
}

static void assert_same_sample(const sb_sample_t *a, const sb_sample_t *b)
{
    int i;

    ck_assert_str_eq(a->server.version, b->server.version);
    ck_assert_str_eq(a->server.mpm, b->server.mpm);
    ck_assert_int_eq(a->server.generation, b->server.generation);
    ck_assert_int_eq(a->server.config_generation, b->server.config_generation);
    ck_assert_int_eq(a->server.restart_time, b->server.restart_time);
    ck_assert_int_eq(a->server.uptime_s, b->server.uptime_s);
    ck_assert_int_eq(a->server.max_workers, b->server.max_workers);
    ck_assert_int_eq(a->nworkers, b->nworkers);
    for (i = 0; i < SB_SLOT_NSTATES; i++) {
        ck_assert_uint_eq(a->slots[i], b->slots[i]);
    }
    ck_assert_uint_eq(a->busy, b->busy);
    ck_assert_uint_eq(a->idle, b->idle);
    ck_assert_uint_eq(a->graceful_busy, b->graceful_busy);
    ck_assert_int_eq(a->has_totals, b->has_totals);
    ck_assert_uint_eq(a->total_accesses, b->total_accesses);
    ck_assert_uint_eq(a->total_kbytes, b->total_kbytes);
    ck_assert_uint_eq(a->total_duration_ms, b->total_duration_ms);
    ck_assert_int_eq(a->extended_status, b->extended_status);
    ck_assert_int_eq(a->async.processes, b->async.processes);
    ck_assert_int_eq(a->async.conns_total, b->async.conns_total);
    ck_assert_int_eq(a->async.async_keepalive, b->async.async_keepalive);
}

static int has_problem(const sb_status_report_t *r, int line, const char *part)
{
    int i;
    for (i = 0; i < r->nproblems; i++) {
        if (r->problems[i].line == line && strstr(r->problems[i].message, part)) {
            return 1;
        }
    }
    return 0;
}

/* ---------------------------------------------------------------- real captures */

static const struct {
    const char *file;
    const char *mpm;
    int extended;
} captures[] = {
    { "status-auto-prefork.txt",       "prefork", 1 },
    { "status-auto-prefork-noext.txt", "prefork", 0 },
    { "status-auto-worker.txt",        "worker",  1 },
    { "status-auto-event.txt",         "event",   1 },
    { "status-auto-event-noext.txt",   "event",   0 },
    { "status-auto-prefork-ssl.txt",   "prefork", 1 },
    { "status-auto-prefork-graceful.txt", "prefork", 1 },
};
#define NCAPTURES ((int)(sizeof(captures) / sizeof(captures[0])))

START_TEST(test_real_capture)
{
    apr_size_t len;
    const char *text = sb_unit_load(pool, captures[_i].file, &len);
    const char *sb = must_value(text, "Scoreboard");
    sb_status_report_t r;
    sb_sample_t *s;
    int i;

    ck_assert_int_eq(parse(text, len, &s, &r), APR_SUCCESS);
    ck_assert_int_eq(r.nproblems_total, 0);
    ck_assert_int_eq(r.duplicate_keys, 0);
    ck_assert_int_eq(r.saw_scoreboard, 1);

    ck_assert_int_eq(s->source, SB_SOURCE_STATUS);
    ck_assert_str_eq(s->server.mpm, captures[_i].mpm);
    ck_assert_str_eq(s->server.mpm, must_value(text, "ServerMPM"));
    ck_assert_str_eq(sb_mpm_name(s->server.mpm_id), captures[_i].mpm);
    ck_assert_str_eq(s->server.version, must_value(text, "ServerVersion"));
    ck_assert_int_eq(s->server.generation,
                     atoi(must_value(text, "ParentServerMPMGeneration")));
    ck_assert_int_eq(s->server.config_generation,
                     atoi(must_value(text, "ParentServerConfigGeneration")));
    ck_assert_int_eq(s->server.uptime_s,
                     atoll(must_value(text, "ServerUptimeSeconds")));
    ck_assert_int_eq(s->server.restart_time,
                     utc_time(must_value(text, "RestartTime")));
    ck_assert_int_eq(s->server.server_limit, SB_UNKNOWN);
    ck_assert_int_eq(s->server.thread_limit, SB_UNKNOWN);
    if (!strcmp(captures[_i].mpm, "prefork")) {
        ck_assert_int_eq(s->server.max_workers, (int)strlen(sb));
    }
    else {
        ck_assert_int_eq(s->server.max_workers, SB_UNKNOWN);
    }

    ck_assert_int_eq(s->nworkers, (int)strlen(sb));
    ck_assert_ptr_null(s->procs);
    for (i = 0; i < SB_SLOT_NSTATES; i++) {
        ck_assert_msg(s->slots[i] == count_char(sb, sb_slot_table[i].ch),
                      "%s: %u slots in state '%c', the capture has %u",
                      captures[_i].file, s->slots[i], sb_slot_table[i].ch,
                      count_char(sb, sb_slot_table[i].ch));
    }
    for (i = 0; i < s->nworkers; i++) {
        ck_assert_int_eq(s->workers[i].proc, i);
        ck_assert_int_eq(s->workers[i].thread, 0);
        ck_assert_int_eq(sb_slot_table[s->workers[i].state].ch, sb[i]);
    }
    ck_assert_uint_eq(s->busy, (unsigned)atoi(must_value(text, "BusyWorkers")));
    ck_assert_uint_eq(s->idle, (unsigned)atoi(must_value(text, "IdleWorkers")));
    ck_assert_uint_eq(s->graceful_busy,
                      (unsigned)atoi(must_value(text, "GracefulWorkers")));

    ck_assert_int_eq(s->extended_status, captures[_i].extended);
    ck_assert_int_eq(s->has_totals, captures[_i].extended);
    if (captures[_i].extended) {
        ck_assert_uint_eq(s->total_accesses,
                          strtoull(must_value(text, "Total Accesses"), NULL, 10));
        ck_assert_uint_eq(s->total_kbytes,
                          strtoull(must_value(text, "Total kBytes"), NULL, 10));
        ck_assert_uint_eq(s->total_duration_ms,
                          strtoull(must_value(text, "Total Duration"), NULL, 10));
    }
    else {
        ck_assert_ptr_null(file_value(text, "Total Accesses"));
        ck_assert_uint_eq(s->total_accesses, 0);
    }

    if (!strcmp(captures[_i].mpm, "event")) {
        ck_assert_int_eq(s->async.processes, atoi(must_value(text, "Processes")));
        ck_assert_int_eq(s->async.stopping, atoi(must_value(text, "Stopping")));
        ck_assert_int_eq(s->async.conns_total, atoi(must_value(text, "ConnsTotal")));
        ck_assert_int_eq(s->async.async_wait_io,
                         atoi(must_value(text, "ConnsAsyncWaitIO")));
        ck_assert_int_eq(s->async.async_writing,
                         atoi(must_value(text, "ConnsAsyncWriting")));
        ck_assert_int_eq(s->async.async_keepalive,
                         atoi(must_value(text, "ConnsAsyncKeepAlive")));
        ck_assert_int_eq(s->async.async_closing,
                         atoi(must_value(text, "ConnsAsyncClosing")));
    }
    else {
        ck_assert_int_eq(s->async.processes, SB_UNKNOWN);
        ck_assert_int_eq(s->async.conns_total, SB_UNKNOWN);
        ck_assert_int_eq(s->async.async_wait_io, SB_UNKNOWN);
        ck_assert_int_eq(s->async.async_keepalive, SB_UNKNOWN);
    }
}
END_TEST

START_TEST(test_real_capture_crlf)
{
    apr_size_t len;
    const char *text = sb_unit_load(pool, captures[_i].file, &len);
    const char *crlf = to_crlf(text);
    sb_status_report_t r;
    sb_sample_t *lf, *dos;

    ck_assert_int_eq(parse(text, len, &lf, NULL), APR_SUCCESS);
    ck_assert_int_eq(parse_str(crlf, &dos, &r), APR_SUCCESS);
    ck_assert_int_eq(r.nproblems_total, 0);
    assert_same_sample(lf, dos);
}
END_TEST

START_TEST(test_report_may_be_null)
{
    apr_size_t len;
    const char *text = sb_unit_load(pool, "status-auto-worker.txt", &len);
    sb_sample_t *s;

    ck_assert_int_eq(parse(text, len, &s, NULL), APR_SUCCESS);
    ck_assert_int_eq(parse_str("no status here\n", &s, NULL), APR_EINVAL);
    ck_assert_ptr_null(s);
}
END_TEST

/* ---------------------------------------------------------------- older formats */

START_TEST(test_event_2457_duplicates)
{
    apr_size_t len;
    const char *text = sb_unit_load(pool, "status-auto-event-2.4.57.txt", &len);
    const char *sb = must_value(text, "Scoreboard");
    sb_status_report_t r;
    sb_sample_t *s;

    ck_assert_int_eq(parse(text, len, &s, &r), APR_SUCCESS);
    ck_assert_int_eq(r.duplicate_keys, 2);
    ck_assert_int_eq(r.nproblems_total, 0);
    ck_assert_str_eq(s->server.version, "Apache/2.4.57 (Debian)");
    ck_assert_str_eq(s->server.mpm, "event");
    ck_assert_uint_eq(s->busy, (unsigned)atoi(must_value(text, "BusyWorkers")));
    ck_assert_uint_eq(s->idle, (unsigned)atoi(must_value(text, "IdleWorkers")));
    /* no GracefulWorkers line: the 'G' characters */
    ck_assert_ptr_null(file_value(text, "GracefulWorkers"));
    ck_assert_uint_eq(s->graceful_busy, count_char(sb, 'G'));
    ck_assert_ptr_null(file_value(text, "ConnsAsyncWaitIO"));
    ck_assert_int_eq(s->async.async_wait_io, SB_UNKNOWN);
    ck_assert_int_eq(s->async.conns_total, atoi(must_value(text, "ConnsTotal")));
    ck_assert_int_eq(s->async.stopping, atoi(must_value(text, "Stopping")));
    ck_assert_int_eq(s->nworkers, (int)strlen(sb));
}
END_TEST

START_TEST(test_duplicate_first_kept)
{
    apr_size_t len;
    const char *text = sb_unit_load(pool, "status-auto-event-2.4.57.txt", &len);
    const char *second = strstr(strstr(text, "\nStopping: "), "\nBusyWorkers: ");
    const char *edited;
    sb_status_report_t r;
    sb_sample_t *s;

    ck_assert_ptr_nonnull(second);
    /* the repeated pair (counted differently by 2.4.35-2.4.57) is ignored,
     * even when it is not a number */
    edited = apr_pstrcat(pool, apr_pstrmemdup(pool, text, (apr_size_t)(second - text)),
                         "\nBusyWorkers: 999\nIdleWorkers: x",
                         strstr(second + 1, "\nConnsTotal: "), NULL);
    ck_assert_int_eq(parse_str(edited, &s, &r), APR_SUCCESS);
    ck_assert_int_eq(r.duplicate_keys, 2);
    ck_assert_int_eq(r.nproblems_total, 0);
    ck_assert_uint_eq(s->busy, (unsigned)atoi(must_value(text, "BusyWorkers")));
    ck_assert_uint_eq(s->idle, (unsigned)atoi(must_value(text, "IdleWorkers")));
}
END_TEST

START_TEST(test_pre_2413)
{
    apr_size_t len;
    const char *text = sb_unit_load(pool, "status-auto-worker-2.4.12.txt", &len);
    const char *sb = must_value(text, "Scoreboard");
    sb_status_report_t r;
    sb_sample_t *s;
    int i;

    ck_assert_int_eq(parse(text, len, &s, &r), APR_SUCCESS);
    ck_assert_int_eq(r.nproblems_total, 0);
    ck_assert_int_eq(r.duplicate_keys, 0);
    ck_assert_str_eq(s->server.version, "");
    ck_assert_str_eq(s->server.mpm, "");
    ck_assert_int_eq(s->server.generation, SB_UNKNOWN);
    ck_assert_int_eq(s->server.config_generation, SB_UNKNOWN);
    ck_assert_int_eq(s->server.restart_time, 0);
    ck_assert_int_eq(s->server.max_workers, SB_UNKNOWN);
    /* no ServerUptimeSeconds: the ExtendedStatus "Uptime" */
    ck_assert_int_eq(s->server.uptime_s, atoll(must_value(text, "Uptime")));
    ck_assert_int_eq(s->extended_status, 1);
    ck_assert_int_eq(s->has_totals, 1);
    ck_assert_uint_eq(s->total_accesses,
                      strtoull(must_value(text, "Total Accesses"), NULL, 10));
    ck_assert_uint_eq(s->total_kbytes,
                      strtoull(must_value(text, "Total kBytes"), NULL, 10));
    ck_assert_uint_eq(s->total_duration_ms, 0);
    ck_assert_uint_eq(s->busy, (unsigned)atoi(must_value(text, "BusyWorkers")));
    ck_assert_uint_eq(s->idle, (unsigned)atoi(must_value(text, "IdleWorkers")));
    ck_assert_int_eq(s->nworkers, (int)strlen(sb));
    for (i = 0; i < SB_SLOT_NSTATES; i++) {
        ck_assert_uint_eq(s->slots[i], count_char(sb, sb_slot_table[i].ch));
    }
}
END_TEST

START_TEST(test_counts_from_chars_when_not_printed)
{
    sb_status_report_t r;
    sb_sample_t *s;

    ck_assert_int_eq(parse_str("Scoreboard: _WKRG.SCLDI_\n", &s, &r), APR_SUCCESS);
    ck_assert_int_eq(r.nproblems_total, 0);
    ck_assert_int_eq(s->nworkers, 12);
    ck_assert_uint_eq(s->busy, 6);          /* W K R C L D */
    ck_assert_uint_eq(s->idle, 2);
    ck_assert_uint_eq(s->graceful_busy, 1);
    ck_assert_uint_eq(s->slots[SB_SLOT_DEAD], 1);
    ck_assert_uint_eq(s->slots[SB_SLOT_STARTING], 1);
    ck_assert_uint_eq(s->slots[SB_SLOT_IDLE_KILL], 1);
    ck_assert_int_eq(s->extended_status, 0);
    ck_assert_int_eq(s->has_totals, 0);
}
END_TEST

/* ---------------------------------------------------------------- damaged input */

START_TEST(test_missing_final_newline)
{
    apr_size_t len;
    const char *text = sb_unit_load(pool, "status-auto-prefork.txt", &len);
    const char *sb = must_value(text, "Scoreboard");
    const char *more;
    sb_status_report_t r;
    sb_sample_t *s;

    ck_assert_int_eq(text[len - 1], '\n');
    /* httpd always ends the Scoreboard line: without its newline the page
     * may have been cut, which is reported but not fatal */
    ck_assert_int_eq(parse(text, len - 1, &s, &r), APR_SUCCESS);
    ck_assert_int_eq(s->nworkers, (int)strlen(sb));
    ck_assert_int_eq(r.nproblems_total, 1);
    ck_assert(has_problem(&r, file_line_of(text, "Scoreboard: "), "truncated"));

    /* a final line from another module without newline is nobody's concern */
    more = apr_pstrcat(pool, text, "TLSSessionCacheStatus\nCacheType: SHMCB\n"
                       "CacheSharedMemory: 512000", NULL);
    ck_assert_int_eq(parse_str(more, &s, &r), APR_SUCCESS);
    ck_assert_int_eq(r.nproblems_total, 0);
    ck_assert_int_eq(s->nworkers, (int)strlen(sb));
}
END_TEST

START_TEST(test_other_modules_ignored)
{
    apr_size_t len;
    const char *text = sb_unit_load(pool, "status-auto-event.txt", &len);
    char *longline = apr_palloc(pool, 70001);
    const char *more;
    sb_status_report_t r;
    sb_sample_t *s;

    memset(longline, 'y', 70000);
    longline[70000] = '\0';
    more = apr_pstrcat(pool, text,
                       "TLSSessionCacheStatus\n"
                       "CacheType: SHMCB\n"
                       "CacheSharedMemory: 512000\n"
                       "ProxyBalancer[0]Name: balancer://app\n"
                       "ProxyBalancer[0]Worker[0]Name: http://127.0.0.1:8080\n"
                       "ProxyBalancer[0]Worker[0]Status: Init Ok \n"
                       "BusyWorkers: 999\n"
                       "Scoreboard: WWWW\n"
                       "NotAvailable\n",
                       longline, "\n", NULL);
    ck_assert_int_eq(parse_str(more, &s, &r), APR_SUCCESS);
    ck_assert_int_eq(r.nproblems_total, 0);
    ck_assert_int_eq(r.duplicate_keys, 0);
    ck_assert_uint_eq(s->busy, (unsigned)atoi(must_value(text, "BusyWorkers")));
    ck_assert_int_eq(s->nworkers, (int)strlen(must_value(text, "Scoreboard")));
}
END_TEST

START_TEST(test_truncated_in_scoreboard)
{
    apr_size_t len;
    const char *text = sb_unit_load(pool, "status-auto-worker.txt", &len);
    const char *sbline = strstr(text, "\nScoreboard: ") + 1;
    const char *sb = must_value(text, "Scoreboard");
    apr_size_t cut = (apr_size_t)(sbline - text) + strlen("Scoreboard: ") + 5;
    sb_status_report_t r;
    sb_sample_t *s;
    int i;

    /* a cut inside the Scoreboard line leaves a shorter, still valid
     * scoreboard: the parser cannot tell the lost slots, it says so */
    ck_assert_int_eq(parse(text, cut, &s, &r), APR_SUCCESS);
    ck_assert_int_eq(s->nworkers, 5);
    for (i = 0; i < 5; i++) {
        ck_assert_int_eq(sb_slot_table[s->workers[i].state].ch, sb[i]);
    }
    ck_assert(has_problem(&r, file_line_of(text, "Scoreboard: "), "truncated"));
    /* the printed counts still come from httpd */
    ck_assert_uint_eq(s->busy, (unsigned)atoi(must_value(text, "BusyWorkers")));
}
END_TEST

START_TEST(test_truncated_before_scoreboard)
{
    apr_size_t len;
    const char *text = sb_unit_load(pool, "status-auto-worker.txt", &len);
    apr_size_t at = (apr_size_t)(strstr(text, "\nScoreboard: ") + 1 - text);
    sb_status_report_t r;
    sb_sample_t *s = (sb_sample_t *)1;

    ck_assert_int_eq(parse(text, at, &s, &r), APR_EINVAL);
    ck_assert_ptr_null(s);
    ck_assert_int_eq(r.saw_scoreboard, 0);

    ck_assert_int_eq(parse(text, at + 5, &s, &r), APR_EINVAL);   /* "Score" */
    ck_assert_int_eq(r.saw_scoreboard, 0);

    ck_assert_int_eq(parse(text, len / 2, &s, &r), APR_EINVAL);
    ck_assert_int_eq(r.saw_scoreboard, 0);

    /* "Scoreboard: " and nothing after it */
    ck_assert_int_eq(parse(text, at + strlen("Scoreboard: "), &s, &r), APR_EINVAL);
    ck_assert_int_eq(r.saw_scoreboard, 1);
    ck_assert(has_problem(&r, file_line_of(text, "Scoreboard: "), "no slot"));
}
END_TEST

START_TEST(test_garbage)
{
    apr_size_t n = 256 * 1024, i;
    char *buf = apr_palloc(pool, n);
    uint32_t x = 12345;
    sb_status_report_t r;
    sb_sample_t *s;

    for (i = 0; i < n; i++) {
        x = x * 1103515245u + 12345u;
        buf[i] = (char)(x >> 16);
    }
    ck_assert_int_eq(parse(buf, n, &s, &r), APR_EINVAL);
    ck_assert_ptr_null(s);
    ck_assert_int_le(r.nproblems, SB_STATUS_MAX_PROBLEMS);
    ck_assert_int_ge(r.nproblems_total, r.nproblems);

    memset(buf, 0, n);
    ck_assert_int_eq(parse(buf, n, &s, &r), APR_EINVAL);

    ck_assert_int_eq(parse("", 0, &s, &r), APR_EINVAL);
    ck_assert_int_eq(sb_status_parse(NULL, 0, pool, &s, &r), APR_EINVAL);
    ck_assert_int_eq(parse_str("\n\n\r\n", &s, &r), APR_EINVAL);
    ck_assert_int_eq(r.nproblems_total, 0);
}
END_TEST

START_TEST(test_oversized_line)
{
    apr_size_t n = 2 * 1024 * 1024;
    char *buf = apr_palloc(pool, n);
    sb_status_report_t r;
    sb_sample_t *s;

    memset(buf, 'A', n);
    ck_assert_int_eq(parse(buf, n, &s, &r), APR_EINVAL);
    ck_assert_int_eq(r.nproblems_total, 1);
    ck_assert(has_problem(&r, 1, "over the limit"));
}
END_TEST

START_TEST(test_scoreboard_length_limit)
{
    apr_size_t n = 60000;
    char *line = apr_palloc(pool, 70001);
    sb_status_report_t r;
    sb_sample_t *s;

    memset(line, '_', 70000);
    line[n] = '\0';
    ck_assert_int_eq(parse_str(apr_pstrcat(pool, "x\nScoreboard: ", line, "\n", NULL),
                               &s, &r), APR_SUCCESS);
    ck_assert_int_eq(s->nworkers, (int)n);
    ck_assert_uint_eq(s->idle, n);

    line[n] = '_';
    line[70000] = '\0';
    ck_assert_int_eq(parse_str(apr_pstrcat(pool, "x\nScoreboard: ", line, "\n", NULL),
                               &s, &r), APR_EINVAL);
    ck_assert_int_eq(r.saw_scoreboard, 1);
    ck_assert(has_problem(&r, 2, "Scoreboard: line of"));
}
END_TEST

START_TEST(test_malformed_numbers)
{
    apr_size_t len;
    const char *text = sb_unit_load(pool, "status-auto-prefork.txt", &len);
    const char *sb = must_value(text, "Scoreboard");
    const char *bad;
    sb_status_report_t r;
    sb_sample_t *s;
    unsigned busy_chars;

    bad = with_value(text, "Total Accesses", "80x3");
    ck_assert_int_eq(parse_str(bad, &s, &r), APR_SUCCESS);
    ck_assert_int_eq(r.nproblems_total, 1);
    ck_assert_int_eq(r.problems[0].line, file_line_of(text, "Total Accesses: "));
    ck_assert_ptr_nonnull(strstr(r.problems[0].message, "Total Accesses"));
    ck_assert_ptr_nonnull(strstr(r.problems[0].message, "80x3"));
    ck_assert_int_eq(s->has_totals, 0);
    ck_assert_int_eq(s->extended_status, 1);
    ck_assert_str_eq(s->server.mpm, "prefork");

    /* a bad BusyWorkers leaves the count of the characters */
    bad = with_value(text, "BusyWorkers", "-3");
    ck_assert_int_eq(parse_str(bad, &s, &r), APR_SUCCESS);
    ck_assert(has_problem(&r, file_line_of(text, "BusyWorkers: "), "not a count"));
    busy_chars = count_char(sb, 'R') + count_char(sb, 'W') + count_char(sb, 'K')
                 + count_char(sb, 'L') + count_char(sb, 'D') + count_char(sb, 'C');
    ck_assert_uint_eq(s->busy, busy_chars);

    bad = with_value(text, "Load5", "abc");
    ck_assert_int_eq(parse_str(bad, &s, &r), APR_SUCCESS);
    ck_assert(has_problem(&r, file_line_of(text, "Load5: "), "not a number"));

    bad = with_value(text, "ParentServerMPMGeneration", "99999999999");
    ck_assert_int_eq(parse_str(bad, &s, &r), APR_SUCCESS);
    ck_assert(has_problem(&r, file_line_of(text, "ParentServerMPMGeneration: "),
                          "not an integer"));
    ck_assert_int_eq(s->server.generation, SB_UNKNOWN);

    bad = with_value(text, "Total kBytes", "");
    ck_assert_int_eq(parse_str(bad, &s, &r), APR_SUCCESS);
    ck_assert(has_problem(&r, file_line_of(text, "Total kBytes:"), "Total kBytes"));
}
END_TEST

START_TEST(test_line_without_separator)
{
    apr_size_t len;
    const char *text = sb_unit_load(pool, "status-auto-worker.txt", &len);
    const char *second = strchr(strchr(text, '\n') + 1, '\n') + 1;
    const char *bad;
    sb_status_report_t r;
    sb_sample_t *s;

    bad = apr_pstrcat(pool, apr_pstrmemdup(pool, text, (apr_size_t)(second - text)),
                      "this line has no separator\n", second, NULL);
    ck_assert_int_eq(parse_str(bad, &s, &r), APR_SUCCESS);
    ck_assert_int_eq(r.nproblems_total, 1);
    ck_assert_int_eq(r.problems[0].line, 3);
    ck_assert_ptr_nonnull(strstr(r.problems[0].message, "separator"));
}
END_TEST

START_TEST(test_unknown_scoreboard_char)
{
    apr_size_t len;
    const char *text = sb_unit_load(pool, "status-auto-prefork.txt", &len);
    const char *sb = must_value(text, "Scoreboard");
    char *edited_sb = apr_pstrdup(pool, sb);
    sb_status_report_t r;
    sb_sample_t *s;
    int line = file_line_of(text, "Scoreboard: ");

    edited_sb[2] = 'Z';
    ck_assert_int_eq(parse_str(with_value(text, "Scoreboard", edited_sb), &s, &r),
                     APR_SUCCESS);
    ck_assert_int_eq(r.nproblems_total, 1);
    ck_assert(has_problem(&r, line, "'Z'"));
    ck_assert(has_problem(&r, line, "position 2"));
    ck_assert_int_eq(s->nworkers, (int)strlen(sb) - 1);
    ck_assert_int_eq(s->workers[1].proc, 1);
    ck_assert_int_eq(s->workers[2].proc, 3);
    /* the slot stays counted in max_workers: it exists */
    ck_assert_int_eq(s->server.max_workers, (int)strlen(sb));

    edited_sb[2] = '\x01';
    ck_assert_int_eq(parse_str(with_value(text, "Scoreboard", edited_sb), &s, &r),
                     APR_SUCCESS);
    ck_assert(has_problem(&r, line, "\\x01"));

    ck_assert_int_eq(parse_str("Scoreboard: ZZZ\n", &s, &r), APR_EINVAL);
    ck_assert_int_eq(r.saw_scoreboard, 1);
}
END_TEST

START_TEST(test_html_page)
{
    apr_size_t len;
    const char *text = sb_unit_load(pool, "status-html-prefork.html", &len);
    sb_status_report_t r;
    sb_sample_t *s;

    ck_assert_int_eq(parse(text, len, &s, &r), APR_EINVAL);
    ck_assert_ptr_null(s);
    ck_assert_int_eq(r.saw_scoreboard, 0);
    ck_assert_int_eq(r.nproblems, SB_STATUS_MAX_PROBLEMS);
    ck_assert_int_gt(r.nproblems_total, SB_STATUS_MAX_PROBLEMS);
}
END_TEST

/* ---------------------------------------------------------------- field forms */

START_TEST(test_value_forms)
{
    char longversion[300];
    sb_status_report_t r;
    sb_sample_t *s;

    /* what apr's %g prints, and ServerUptime at 0 s */
    ck_assert_int_eq(parse_str("127.0.0.1\nServerMPM: Event\nServerUptime:\n"
                               "Load1: .5\nCPULoad: inf\nReqPerSec: 1.5e+06\n"
                               "BytesPerSec: -nan\nBytesPerReq: 0\n"
                               "DurationPerReq: 12.25\nScoreboard: _W\n",
                               &s, &r), APR_SUCCESS);
    ck_assert_int_eq(r.nproblems_total, 0);
    ck_assert_str_eq(s->server.mpm, "event");
    ck_assert_int_eq(s->server.uptime_s, SB_UNKNOWN);

    ck_assert_int_eq(parse_str("::1\nLoad1: 1.\nLoad5: e5\nLoad15: 1e\n"
                               "Scoreboard: _\n", &s, &r), APR_SUCCESS);
    ck_assert_int_eq(r.nproblems_total, 2);
    ck_assert(has_problem(&r, 3, "Load5"));
    ck_assert(has_problem(&r, 4, "Load15"));

    memset(longversion, 'v', sizeof(longversion) - 1);
    longversion[sizeof(longversion) - 1] = '\0';
    ck_assert_int_eq(parse_str(apr_pstrcat(pool, "ServerVersion: ", longversion,
                                           "\nScoreboard: _\n", NULL), &s, &r),
                     APR_SUCCESS);
    ck_assert_uint_eq(strlen(s->server.version), sizeof(s->server.version) - 1);
}
END_TEST

START_TEST(test_restart_time)
{
    sb_status_report_t r;
    sb_sample_t *s;
    const apr_time_t expect = apr_time_from_sec(1795408200); /* 2026-11-23 04:30:00Z */

    setenv("TZ", "UTC", 1);
    tzset();
    ck_assert_int_eq(parse_str("RestartTime: Monday, 23-Nov-2026 04:30:00 UTC\n"
                               "Scoreboard: _\n", &s, &r), APR_SUCCESS);
    ck_assert_int_eq(s->server.restart_time, expect);
    ck_assert_int_eq(parse_str("RestartTime: Monday, 23-Nov-2026 05:30:00 +0100\n"
                               "Scoreboard: _\n", &s, &r), APR_SUCCESS);
    ck_assert_int_eq(s->server.restart_time, expect);
    ck_assert_int_eq(parse_str("RestartTime: Monday, 23-Nov-2026 05:30:00 CET\n"
                               "Scoreboard: _\n", &s, &r), APR_SUCCESS);
    ck_assert_int_eq(s->server.restart_time, 0);
    ck_assert_int_eq(parse_str("RestartTime: Monday, 23-Foo-2026 04:30:00 UTC\n"
                               "Scoreboard: _\n", &s, &r), APR_SUCCESS);
    ck_assert_int_eq(s->server.restart_time, 0);
    ck_assert_int_eq(parse_str("RestartTime: yesterday\nScoreboard: _\n", &s, &r),
                     APR_SUCCESS);
    ck_assert_int_eq(s->server.restart_time, 0);
    ck_assert_int_eq(r.nproblems_total, 0);

    /* a zone abbreviation of this host's time zone */
    setenv("TZ", "Europe/Berlin", 1);
    tzset();
    if (!strcmp(tzname[0], "CET")) {
        ck_assert_int_eq(parse_str("RestartTime: Monday, 23-Nov-2026 05:30:00 CET\n"
                                   "Scoreboard: _\n", &s, &r), APR_SUCCESS);
        ck_assert_int_eq(s->server.restart_time, expect);
    }
}
END_TEST

static Suite *status_parse_suite(void)
{
    Suite *s = suite_create("status_parse");
    TCase *tc;

    tc = tcase_create("captures");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_loop_test(tc, test_real_capture, 0, NCAPTURES);
    tcase_add_loop_test(tc, test_real_capture_crlf, 0, NCAPTURES);
    tcase_add_test(tc, test_report_may_be_null);
    suite_add_tcase(s, tc);

    tc = tcase_create("older_formats");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_event_2457_duplicates);
    tcase_add_test(tc, test_duplicate_first_kept);
    tcase_add_test(tc, test_pre_2413);
    tcase_add_test(tc, test_counts_from_chars_when_not_printed);
    suite_add_tcase(s, tc);

    tc = tcase_create("damaged");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_missing_final_newline);
    tcase_add_test(tc, test_other_modules_ignored);
    tcase_add_test(tc, test_truncated_in_scoreboard);
    tcase_add_test(tc, test_truncated_before_scoreboard);
    tcase_add_test(tc, test_garbage);
    tcase_add_test(tc, test_oversized_line);
    tcase_add_test(tc, test_scoreboard_length_limit);
    tcase_add_test(tc, test_malformed_numbers);
    tcase_add_test(tc, test_line_without_separator);
    tcase_add_test(tc, test_unknown_scoreboard_char);
    tcase_add_test(tc, test_html_page);
    suite_add_tcase(s, tc);

    tc = tcase_create("fields");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_value_forms);
    tcase_add_test(tc, test_restart_time);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return sb_unit_run(status_parse_suite());
}
