/*
 * sb_status_parse.c - decode mod_status's "?auto" page into a sample.
 *
 * The page is "Key: value" lines.  What httpd 2.4 prints, in order:
 *
 *   <server name>                          bare line, 2.4.13+
 *   ServerVersion .. Load15                2.4.13+
 *   Total Accesses, Total kBytes           ExtendedStatus On only
 *   Total Duration                         2.4.35+, ExtendedStatus On
 *   CPUUser .. CPUChildrenSystem           2.4.35+, ExtendedStatus On
 *   CPULoad                                only when the CPU time is not 0
 *   Uptime, ReqPerSec, BytesPerSec         ExtendedStatus On (rates only
 *   BytesPerReq, DurationPerReq            when uptime/accesses are not 0)
 *   BusyWorkers, GracefulWorkers (2.4.58+), IdleWorkers
 *   Processes .. ConnsAsyncClosing         event MPM only; 2.4.35-2.4.57
 *                                          repeat BusyWorkers/IdleWorkers
 *                                          here, counted differently
 *   Scoreboard                             one character per slot that is
 *                                          not disabled
 *   other modules' lines                   mod_ssl, mod_proxy, mod_md ...
 *
 * Rules kept here:
 * - The first occurrence of a key wins; repeats are counted in
 *   report->duplicate_keys.
 * - Everything after the Scoreboard line belongs to other modules' status
 *   hooks (bare lines such as "TLSSessionCacheStatus" included) and is
 *   skipped unread.
 * - Line 1 without a "Key: " separator is the server name.  Any other line
 *   without one, a bad number, an unknown Scoreboard character or a line
 *   over SB_STATUS_MAX_LINE bytes is a problem, never fatal.
 * - Before 2.4.58 BusyWorkers includes the 'G' slots of live children and
 *   GracefulWorkers is absent: busy is then httpd's figure and
 *   graceful_busy the number of 'G' characters, so 'G' slots of live
 *   children are counted in both.
 * - Total Duration is absent before 2.4.35: total_duration_ms is then 0.
 * - max_workers is estimated for prefork only: its Scoreboard prints the
 *   MaxRequestWorkers slots plus any live child beyond them (after
 *   MaxRequestWorkers was lowered by a restart), so the length equals
 *   MaxRequestWorkers in the steady state.  Worker and event print whole
 *   processes of ThreadsPerChild slots, so their length is left alone.
 * - RestartTime is local time with a zone abbreviation: it is decoded
 *   exactly for UTC, GMT and numeric offsets, through this host's time zone
 *   when the abbreviation is one of this host's (tzname), else left 0.
 */
#include "config.h"

#include <limits.h>
#include <stdarg.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <apr_lib.h>
#include <apr_strings.h>

#include "sb_status.h"

#define SB_STATUS_MAX_LINE (64 * 1024)

typedef enum {
    F_TEXT,         /* free text */
    F_INT,          /* %d, may be negative */
    F_COUNT,        /* %d, never negative */
    F_U64,          /* %lu, %u, APR_OFF_T_FMT ... never negative */
    F_FLOAT,        /* %g or %.2f: checked, not kept */
    F_SCOREBOARD
} field_kind_t;

typedef enum {
    K_SERVER_VERSION, K_SERVER_MPM, K_SERVER_BUILT, K_CURRENT_TIME,
    K_RESTART_TIME, K_CONFIG_GEN, K_MPM_GEN, K_UPTIME_SECONDS, K_UPTIME_TEXT,
    K_LOAD1, K_LOAD5, K_LOAD15,
    K_TOTAL_ACCESSES, K_TOTAL_KBYTES, K_TOTAL_DURATION,
    K_CPU_USER, K_CPU_SYSTEM, K_CPU_CHILDREN_USER, K_CPU_CHILDREN_SYSTEM,
    K_CPU_LOAD, K_UPTIME, K_REQ_PER_SEC, K_BYTES_PER_SEC, K_BYTES_PER_REQ,
    K_DURATION_PER_REQ,
    K_BUSY, K_GRACEFUL, K_IDLE,
    K_PROCESSES, K_STOPPING, K_CONNS_TOTAL, K_CONNS_WAIT_IO, K_CONNS_WRITING,
    K_CONNS_KEEPALIVE, K_CONNS_CLOSING,
    K_SCOREBOARD,
    K_NFIELDS
} field_id_t;

static const struct {
    const char *name;
    field_kind_t kind;
} fields[K_NFIELDS] = {
    [K_SERVER_VERSION]      = { "ServerVersion",                F_TEXT },
    [K_SERVER_MPM]          = { "ServerMPM",                    F_TEXT },
    [K_SERVER_BUILT]        = { "Server Built",                 F_TEXT },
    [K_CURRENT_TIME]        = { "CurrentTime",                  F_TEXT },
    [K_RESTART_TIME]        = { "RestartTime",                  F_TEXT },
    [K_CONFIG_GEN]          = { "ParentServerConfigGeneration", F_INT },
    [K_MPM_GEN]             = { "ParentServerMPMGeneration",    F_INT },
    [K_UPTIME_SECONDS]      = { "ServerUptimeSeconds",          F_U64 },
    [K_UPTIME_TEXT]         = { "ServerUptime",                 F_TEXT },
    [K_LOAD1]               = { "Load1",                        F_FLOAT },
    [K_LOAD5]               = { "Load5",                        F_FLOAT },
    [K_LOAD15]              = { "Load15",                       F_FLOAT },
    [K_TOTAL_ACCESSES]      = { "Total Accesses",               F_U64 },
    [K_TOTAL_KBYTES]        = { "Total kBytes",                 F_U64 },
    [K_TOTAL_DURATION]      = { "Total Duration",               F_U64 },
    [K_CPU_USER]            = { "CPUUser",                      F_FLOAT },
    [K_CPU_SYSTEM]          = { "CPUSystem",                    F_FLOAT },
    [K_CPU_CHILDREN_USER]   = { "CPUChildrenUser",              F_FLOAT },
    [K_CPU_CHILDREN_SYSTEM] = { "CPUChildrenSystem",            F_FLOAT },
    [K_CPU_LOAD]            = { "CPULoad",                      F_FLOAT },
    [K_UPTIME]              = { "Uptime",                       F_U64 },
    [K_REQ_PER_SEC]         = { "ReqPerSec",                    F_FLOAT },
    [K_BYTES_PER_SEC]       = { "BytesPerSec",                  F_FLOAT },
    [K_BYTES_PER_REQ]       = { "BytesPerReq",                  F_FLOAT },
    [K_DURATION_PER_REQ]    = { "DurationPerReq",               F_FLOAT },
    [K_BUSY]                = { "BusyWorkers",                  F_COUNT },
    [K_GRACEFUL]            = { "GracefulWorkers",              F_COUNT },
    [K_IDLE]                = { "IdleWorkers",                  F_COUNT },
    [K_PROCESSES]           = { "Processes",                    F_COUNT },
    [K_STOPPING]            = { "Stopping",                     F_COUNT },
    [K_CONNS_TOTAL]         = { "ConnsTotal",                   F_COUNT },
    [K_CONNS_WAIT_IO]       = { "ConnsAsyncWaitIO",             F_COUNT },
    [K_CONNS_WRITING]       = { "ConnsAsyncWriting",            F_COUNT },
    [K_CONNS_KEEPALIVE]     = { "ConnsAsyncKeepAlive",          F_COUNT },
    [K_CONNS_CLOSING]       = { "ConnsAsyncClosing",            F_COUNT },
    [K_SCOREBOARD]          = { "Scoreboard",                   F_SCOREBOARD },
};

typedef struct {
    sb_status_report_t *report;
    int seen[K_NFIELDS];
    int valid[K_NFIELDS];
    int64_t num[K_NFIELDS];
    const char *text[K_NFIELDS];    /* into the input, not NUL-terminated */
    apr_size_t text_len[K_NFIELDS];
    int done;                       /* the Scoreboard line was met */
    const char *sb;                 /* Scoreboard value */
    apr_size_t sb_len;
    apr_size_t sb_slots;            /* characters that are known states */
} parse_state_t;

static void add_problem(parse_state_t *st, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void add_problem(parse_state_t *st, int line, const char *fmt, ...)
{
    sb_status_report_t *r = st->report;
    va_list ap;

    r->nproblems_total++;
    if (r->nproblems >= SB_STATUS_MAX_PROBLEMS) {
        return;
    }
    r->problems[r->nproblems].line = line;
    va_start(ap, fmt);
    apr_vsnprintf(r->problems[r->nproblems].message,
                  sizeof(r->problems[0].message), fmt, ap);
    va_end(ap);
    r->nproblems++;
}

/* A printable excerpt of untrusted text for a problem message. */
static const char *excerpt(char *dst, apr_size_t dstlen, const char *s,
                           apr_size_t n)
{
    apr_size_t i, max = dstlen - 1;
    int cut = 0;

    if (n > max) {
        n = max - 3;
        cut = 1;
    }
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        dst[i] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
    }
    if (cut) {
        memcpy(dst + i, "...", 3);
        i += 3;
    }
    dst[i] = '\0';
    return dst;
}

static int is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r';
}

static void trim(const char **s, apr_size_t *n)
{
    while (*n > 0 && is_space(**s)) {
        (*s)++;
        (*n)--;
    }
    while (*n > 0 && is_space((*s)[*n - 1])) {
        (*n)--;
    }
}

static int parse_u64(const char *s, apr_size_t n, uint64_t *out)
{
    uint64_t v = 0;
    apr_size_t i;

    if (n == 0) {
        return 0;
    }
    for (i = 0; i < n; i++) {
        unsigned d;
        if (s[i] < '0' || s[i] > '9') {
            return 0;
        }
        d = (unsigned)(s[i] - '0');
        if (v > (UINT64_MAX - d) / 10) {
            return 0;
        }
        v = v * 10 + d;
    }
    *out = v;
    return 1;
}

static int parse_int(const char *s, apr_size_t n, int64_t *out)
{
    uint64_t v;
    int neg = 0;

    if (n > 0 && s[0] == '-') {
        neg = 1;
        s++;
        n--;
    }
    if (!parse_u64(s, n, &v) || v > (uint64_t)INT_MAX + (uint64_t)neg) {
        return 0;
    }
    *out = neg ? -(int64_t)v : (int64_t)v;
    return 1;
}

static int match_word(const char *s, apr_size_t n, const char *word)
{
    apr_size_t wl = strlen(word);
    return n == wl && strncasecmp(s, word, wl) == 0;
}

/* apr_vformatter's %g and %.2f, locale-free: "0", ".25", "1.5e+06", "inf",
 * "nan", with an optional sign. */
static int is_float(const char *s, apr_size_t n)
{
    apr_size_t i = 0, digits = 0;

    if (n > 0 && (s[0] == '-' || s[0] == '+')) {
        i++;
    }
    if (match_word(s + i, n - i, "inf") || match_word(s + i, n - i, "infinity")
        || match_word(s + i, n - i, "nan")) {
        return 1;
    }
    while (i < n && apr_isdigit(s[i])) {
        i++;
        digits++;
    }
    if (i < n && s[i] == '.') {
        i++;
        while (i < n && apr_isdigit(s[i])) {
            i++;
            digits++;
        }
    }
    if (digits == 0) {
        return 0;
    }
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        apr_size_t exp_digits = 0;
        i++;
        if (i < n && (s[i] == '-' || s[i] == '+')) {
            i++;
        }
        while (i < n && apr_isdigit(s[i])) {
            i++;
            exp_digits++;
        }
        if (exp_digits == 0) {
            return 0;
        }
    }
    return i == n;
}

static int parse_fixed_digits(const char *s, int ndigits, int *out)
{
    int i, v = 0;

    for (i = 0; i < ndigits; i++) {
        if (!apr_isdigit(s[i])) {
            return 0;
        }
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 1;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (month 1..12). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
    int64_t era, yoe, doy, doe;

    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = y - era * 400;
    doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

/* "Monday, 23-Nov-2026 04:30:00 UTC" (DEFAULT_TIME_FORMAT of mod_status).
 * Returns 0 when the text or its zone cannot be decoded. */
static apr_time_t parse_status_time(const char *s, apr_size_t n)
{
    static const char months[12][4] = {
        "Jan", "Feb", "Mar", "Apr", "May", "Jun",
        "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"
    };
    apr_size_t i = 0;
    int day, mon = -1, year, hour, min, sec, k;
    const char *zone;
    apr_size_t zlen;
    char zbuf[16];
    int64_t t;

    while (i < n && apr_isalpha(s[i])) {
        i++;
    }
    if (i == 0 || i + 2 > n || s[i] != ',' || s[i + 1] != ' ') {
        return 0;
    }
    s += i + 2;
    n -= i + 2;
    /* DD-Mon-YYYY HH:MM:SS Z */
    if (n < 22 || s[2] != '-' || s[6] != '-' || s[11] != ' ' || s[14] != ':'
        || s[17] != ':' || s[20] != ' ') {
        return 0;
    }
    for (k = 0; k < 12; k++) {
        if (strncasecmp(s + 3, months[k], 3) == 0) {
            mon = k + 1;
        }
    }
    if (mon < 0 || !parse_fixed_digits(s, 2, &day)
        || !parse_fixed_digits(s + 7, 4, &year)
        || !parse_fixed_digits(s + 12, 2, &hour)
        || !parse_fixed_digits(s + 15, 2, &min)
        || !parse_fixed_digits(s + 18, 2, &sec)
        || day < 1 || day > 31 || hour > 23 || min > 59 || sec > 60) {
        return 0;
    }
    zone = s + 21;
    zlen = n - 21;
    trim(&zone, &zlen);
    if (zlen == 0 || zlen >= sizeof(zbuf)) {
        return 0;
    }
    memcpy(zbuf, zone, zlen);
    zbuf[zlen] = '\0';

    t = days_from_civil(year, mon, day) * 86400 + hour * 3600 + min * 60 + sec;
    if (!strcmp(zbuf, "UTC") || !strcmp(zbuf, "GMT") || !strcmp(zbuf, "UT")
        || !strcmp(zbuf, "Z")) {
        return apr_time_from_sec(t);
    }
    if ((zbuf[0] == '+' || zbuf[0] == '-') && zlen == 5) {
        int hh, mm;
        if (!parse_fixed_digits(zbuf + 1, 2, &hh)
            || !parse_fixed_digits(zbuf + 3, 2, &mm)) {
            return 0;
        }
        t += (zbuf[0] == '+' ? -1 : 1) * (hh * 3600 + mm * 60);
        return apr_time_from_sec(t);
    }
    {
        struct tm tm;
        time_t lt;

        tzset();
        memset(&tm, 0, sizeof(tm));
        if (!strcmp(zbuf, tzname[0])) {
            tm.tm_isdst = 0;
        }
        else if (!strcmp(zbuf, tzname[1])) {
            tm.tm_isdst = 1;
        }
        else {
            return 0;
        }
        tm.tm_year = year - 1900;
        tm.tm_mon = mon - 1;
        tm.tm_mday = day;
        tm.tm_hour = hour;
        tm.tm_min = min;
        tm.tm_sec = sec;
        lt = mktime(&tm);
        if (lt == (time_t)-1) {
            return 0;
        }
        return apr_time_from_sec(lt);
    }
}

static void parse_scoreboard(parse_state_t *st, const char *v, apr_size_t n,
                             int line)
{
    apr_size_t i, unknown = 0, first_bad = 0;

    st->sb = v;
    st->sb_len = n;
    st->sb_slots = 0;
    for (i = 0; i < n; i++) {
        if (sb_slot_from_char(v[i]) >= 0) {
            st->sb_slots++;
        }
        else if (unknown++ == 0) {
            first_bad = i;
        }
    }
    if (unknown > 0) {
        unsigned char c = (unsigned char)v[first_bad];
        char shown[8];

        if (c >= 0x21 && c < 0x7f) {
            apr_snprintf(shown, sizeof(shown), "'%c'", c);
        }
        else {
            apr_snprintf(shown, sizeof(shown), "\\x%02x", c);
        }
        add_problem(st, line, "Scoreboard: unknown slot character %s at "
                    "position %" APR_SIZE_T_FMT " (%" APR_SIZE_T_FMT
                    " unknown character%s skipped)", shown, first_bad,
                    unknown, unknown == 1 ? "" : "s");
    }
    if (st->sb_slots == 0) {
        add_problem(st, line, "Scoreboard: no slot characters");
    }
}

static void parse_value(parse_state_t *st, field_id_t id, const char *v,
                        apr_size_t n, int line)
{
    char ex[48];
    uint64_t u;
    int64_t i64;

    switch (fields[id].kind) {
    case F_TEXT:
        st->text[id] = v;
        st->text_len[id] = n;
        st->valid[id] = 1;
        return;
    case F_INT:
    case F_COUNT:
        if (parse_int(v, n, &i64) && (fields[id].kind == F_INT || i64 >= 0)) {
            st->num[id] = i64;
            st->valid[id] = 1;
            return;
        }
        break;
    case F_U64:
        if (parse_u64(v, n, &u) && u <= (uint64_t)INT64_MAX) {
            st->num[id] = (int64_t)u;
            st->valid[id] = 1;
            return;
        }
        break;
    case F_FLOAT:
        if (is_float(v, n)) {
            st->valid[id] = 1;
            return;
        }
        break;
    case F_SCOREBOARD:
        parse_scoreboard(st, v, n, line);
        st->valid[id] = st->sb_slots > 0;
        return;
    }
    add_problem(st, line, "%s: \"%s\" is not %s", fields[id].name,
                excerpt(ex, sizeof(ex), v, n),
                fields[id].kind == F_COUNT ? "a count"
                : fields[id].kind == F_FLOAT ? "a number" : "an integer");
}

static int starts_with(const char *s, apr_size_t n, const char *prefix)
{
    apr_size_t pl = strlen(prefix);
    return n >= pl && memcmp(s, prefix, pl) == 0;
}

static void parse_line(parse_state_t *st, const char *s, apr_size_t n,
                       int line, int terminated)
{
    apr_size_t i, klen = 0, vstart = 0;
    int found = 0, id;
    char ex[48];

    if (n > 0 && s[n - 1] == '\r') {
        n--;
    }
    if (n > SB_STATUS_MAX_LINE) {
        if (starts_with(s, n, "Scoreboard:")) {
            st->report->saw_scoreboard = 1;
            st->done = 1;
            add_problem(st, line, "Scoreboard: line of %" APR_SIZE_T_FMT
                        " bytes, over the limit of %d", n, SB_STATUS_MAX_LINE);
        }
        else {
            add_problem(st, line, "line of %" APR_SIZE_T_FMT " bytes, over "
                        "the limit of %d", n, SB_STATUS_MAX_LINE);
        }
        return;
    }
    if (n == 0) {
        return;
    }
    for (i = 0; i + 1 < n; i++) {
        if (s[i] == ':' && s[i + 1] == ' ') {
            klen = i;
            vstart = i + 2;
            found = 1;
            break;
        }
    }
    if (!found && s[n - 1] == ':') {
        /* "ServerUptime:" when the uptime is 0 s */
        klen = n - 1;
        vstart = n;
        found = 1;
    }
    if (!found) {
        if (line != 1) {
            add_problem(st, line, "no \": \" separator in \"%s\"",
                        excerpt(ex, sizeof(ex), s, n));
        }
        return;
    }
    for (id = 0; id < K_NFIELDS; id++) {
        if (strlen(fields[id].name) == klen
            && memcmp(fields[id].name, s, klen) == 0) {
            break;
        }
    }
    if (id == K_NFIELDS) {
        return;
    }
    if (id == K_SCOREBOARD) {
        st->report->saw_scoreboard = 1;
        st->done = 1;
        if (!terminated) {
            add_problem(st, line, "Scoreboard: line not terminated by a "
                        "newline, the page may be truncated");
        }
    }
    if (st->seen[id]) {
        st->report->duplicate_keys++;
        return;
    }
    st->seen[id] = 1;
    {
        const char *v = s + vstart;
        apr_size_t vn = n - vstart;
        trim(&v, &vn);
        parse_value(st, (field_id_t)id, v, vn, line);
    }
}

static void copy_text(char *dst, apr_size_t dstlen, const char *s,
                      apr_size_t n, int lower)
{
    apr_size_t i;

    if (n > dstlen - 1) {
        n = dstlen - 1;
    }
    for (i = 0; i < n; i++) {
        dst[i] = lower ? (char)apr_tolower(s[i]) : s[i];
    }
    dst[n] = '\0';
}

static void fill_sample(const parse_state_t *st, sb_sample_t *s,
                        apr_pool_t *p)
{
    apr_size_t i;
    int w = 0;

    s->source = SB_SOURCE_STATUS;
    if (st->valid[K_SERVER_VERSION]) {
        copy_text(s->server.version, sizeof(s->server.version),
                  st->text[K_SERVER_VERSION], st->text_len[K_SERVER_VERSION],
                  0);
    }
    if (st->valid[K_SERVER_MPM]) {
        copy_text(s->server.mpm, sizeof(s->server.mpm),
                  st->text[K_SERVER_MPM], st->text_len[K_SERVER_MPM], 1);
    }
    if (st->valid[K_MPM_GEN]) {
        s->server.generation = (int)st->num[K_MPM_GEN];
    }
    if (st->valid[K_CONFIG_GEN]) {
        s->server.config_generation = (int)st->num[K_CONFIG_GEN];
    }
    if (st->valid[K_RESTART_TIME]) {
        s->server.restart_time = parse_status_time(st->text[K_RESTART_TIME],
                                                   st->text_len[K_RESTART_TIME]);
    }
    if (st->valid[K_UPTIME_SECONDS]) {
        s->server.uptime_s = st->num[K_UPTIME_SECONDS];
    }
    else if (st->valid[K_UPTIME]) {
        s->server.uptime_s = st->num[K_UPTIME];
    }
    sb_mpm_parse(s->server.mpm, &s->server.mpm_id);
    if (s->server.mpm_id == SB_MPM_PREFORK && st->sb_len <= INT_MAX) {
        s->server.max_workers = (int)st->sb_len;
    }

    s->extended_status = st->seen[K_TOTAL_ACCESSES] ? 1 : 0;
    s->has_totals = st->valid[K_TOTAL_ACCESSES] && st->valid[K_TOTAL_KBYTES];
    if (s->has_totals) {
        s->total_accesses = (uint64_t)st->num[K_TOTAL_ACCESSES];
        s->total_kbytes = (uint64_t)st->num[K_TOTAL_KBYTES];
        if (st->valid[K_TOTAL_DURATION]) {
            s->total_duration_ms = (uint64_t)st->num[K_TOTAL_DURATION];
        }
    }

#define SB_ASYNC(field, key) \
    if (st->valid[key]) { s->async.field = (int)st->num[key]; }
    SB_ASYNC(processes, K_PROCESSES)
    SB_ASYNC(stopping, K_STOPPING)
    SB_ASYNC(conns_total, K_CONNS_TOTAL)
    SB_ASYNC(async_wait_io, K_CONNS_WAIT_IO)
    SB_ASYNC(async_writing, K_CONNS_WRITING)
    SB_ASYNC(async_keepalive, K_CONNS_KEEPALIVE)
    SB_ASYNC(async_closing, K_CONNS_CLOSING)
#undef SB_ASYNC

    sb_sample_alloc(s, p, (int)st->sb_slots, 0);
    for (i = 0; i < st->sb_len; i++) {
        int state = sb_slot_from_char(st->sb[i]);
        if (state < 0) {
            continue;
        }
        s->workers[w].proc = (int)i;
        s->workers[w].thread = 0;
        s->workers[w].state = (sb_slot_state_t)state;
        w++;
    }
    sb_sample_count(s);
    if (st->valid[K_BUSY]) {
        s->busy = (unsigned int)st->num[K_BUSY];
    }
    if (st->valid[K_IDLE]) {
        s->idle = (unsigned int)st->num[K_IDLE];
    }
    if (st->valid[K_GRACEFUL]) {
        s->graceful_busy = (unsigned int)st->num[K_GRACEFUL];
    }
}

apr_status_t sb_status_parse(const char *buf, apr_size_t len, apr_pool_t *p,
                             sb_sample_t **out, sb_status_report_t *report)
{
    sb_status_report_t local_report;
    parse_state_t *st;
    const char *pos, *end;
    int line = 0;
    sb_sample_t *s;

    *out = NULL;
    if (!report) {
        report = &local_report;
    }
    memset(report, 0, sizeof(*report));
    if (!buf) {
        return APR_EINVAL;
    }
    st = apr_pcalloc(p, sizeof(*st));
    st->report = report;
    pos = buf;
    end = buf + len;

    while (pos < end && !st->done) {
        const char *nl = memchr(pos, '\n', (apr_size_t)(end - pos));
        const char *eol = nl ? nl : end;

        line = line < INT_MAX ? line + 1 : line;
        parse_line(st, pos, (apr_size_t)(eol - pos), line, nl != NULL);
        pos = nl ? nl + 1 : end;
    }
    if (!st->valid[K_SCOREBOARD]) {
        return APR_EINVAL;
    }
    s = sb_sample_create(p);
    fill_sample(st, s, p);
    *out = s;
    return APR_SUCCESS;
}
