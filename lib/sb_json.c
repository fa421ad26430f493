#include "config.h"
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <inttypes.h>
#include <apr_strings.h>
#include "sb_json.h"

#define SB_JSON_MAX_DEPTH 32

struct sb_json {
    apr_pool_t *pool;
    char *buf;
    apr_size_t len;
    apr_size_t cap;
    int depth;
    int first[SB_JSON_MAX_DEPTH];
};

sb_json_t *sb_json_create(apr_pool_t *p)
{
    sb_json_t *j = apr_pcalloc(p, sizeof(*j));
    j->pool = p;
    j->cap = 1024;
    j->buf = apr_palloc(p, j->cap);
    j->buf[0] = '\0';
    j->first[0] = 1;
    return j;
}

void sb_json_reset(sb_json_t *j)
{
    j->len = 0;
    j->buf[0] = '\0';
    j->depth = 0;
    j->first[0] = 1;
}

static void put(sb_json_t *j, const char *s, apr_size_t n)
{
    if (j->len + n + 1 > j->cap) {
        apr_size_t cap = j->cap;
        char *nb;
        while (j->len + n + 1 > cap) {
            cap *= 2;
        }
        nb = apr_palloc(j->pool, cap);
        memcpy(nb, j->buf, j->len);
        j->buf = nb;
        j->cap = cap;
    }
    memcpy(j->buf + j->len, s, n);
    j->len += n;
    j->buf[j->len] = '\0';
}

static void puts_(sb_json_t *j, const char *s)
{
    put(j, s, strlen(s));
}

/* Length of the valid UTF-8 sequence at s (1..4), or 0 when invalid. */
static int utf8_len(const unsigned char *s)
{
    if (s[0] < 0x80) {
        return 1;
    }
    if (s[0] >= 0xc2 && s[0] <= 0xdf) {
        return (s[1] & 0xc0) == 0x80 ? 2 : 0;
    }
    if (s[0] >= 0xe0 && s[0] <= 0xef) {
        if ((s[1] & 0xc0) != 0x80 || (s[2] & 0xc0) != 0x80) {
            return 0;
        }
        if ((s[0] == 0xe0 && s[1] < 0xa0) || (s[0] == 0xed && s[1] >= 0xa0)) {
            return 0;
        }
        return 3;
    }
    if (s[0] >= 0xf0 && s[0] <= 0xf4) {
        if ((s[1] & 0xc0) != 0x80 || (s[2] & 0xc0) != 0x80 || (s[3] & 0xc0) != 0x80) {
            return 0;
        }
        if ((s[0] == 0xf0 && s[1] < 0x90) || (s[0] == 0xf4 && s[1] >= 0x90)) {
            return 0;
        }
        return 4;
    }
    return 0;
}

static void put_string(sb_json_t *j, const char *str)
{
    const unsigned char *s = (const unsigned char *)str;

    put(j, "\"", 1);
    while (*s) {
        int n;
        char esc[8];
        switch (*s) {
        case '"':  puts_(j, "\\\""); s++; continue;
        case '\\': puts_(j, "\\\\"); s++; continue;
        case '\n': puts_(j, "\\n"); s++; continue;
        case '\r': puts_(j, "\\r"); s++; continue;
        case '\t': puts_(j, "\\t"); s++; continue;
        default: break;
        }
        if (*s < 0x20 || *s == 0x7f) {
            snprintf(esc, sizeof(esc), "\\u%04x", *s);
            puts_(j, esc);
            s++;
            continue;
        }
        n = utf8_len(s);
        if (n == 0) {
            puts_(j, "\\ufffd");
            s++;
            continue;
        }
        put(j, (const char *)s, (apr_size_t)n);
        s += n;
    }
    put(j, "\"", 1);
}

static void begin_value(sb_json_t *j, const char *key)
{
    if (!j->first[j->depth]) {
        put(j, ",", 1);
    }
    j->first[j->depth] = 0;
    if (key) {
        put_string(j, key);
        put(j, ":", 1);
    }
}

void sb_json_object_begin(sb_json_t *j, const char *key)
{
    begin_value(j, key);
    put(j, "{", 1);
    if (j->depth + 1 < SB_JSON_MAX_DEPTH) {
        j->first[++j->depth] = 1;
    }
}

void sb_json_object_end(sb_json_t *j)
{
    put(j, "}", 1);
    if (j->depth > 0) {
        j->depth--;
    }
}

void sb_json_array_begin(sb_json_t *j, const char *key)
{
    begin_value(j, key);
    put(j, "[", 1);
    if (j->depth + 1 < SB_JSON_MAX_DEPTH) {
        j->first[++j->depth] = 1;
    }
}

void sb_json_array_end(sb_json_t *j)
{
    put(j, "]", 1);
    if (j->depth > 0) {
        j->depth--;
    }
}

void sb_json_string(sb_json_t *j, const char *key, const char *val)
{
    begin_value(j, key);
    if (val) {
        put_string(j, val);
    }
    else {
        puts_(j, "null");
    }
}

void sb_json_int(sb_json_t *j, const char *key, int64_t val)
{
    char num[32];
    begin_value(j, key);
    snprintf(num, sizeof(num), "%" PRId64, val);
    puts_(j, num);
}

void sb_json_uint(sb_json_t *j, const char *key, uint64_t val)
{
    char num[32];
    begin_value(j, key);
    snprintf(num, sizeof(num), "%" PRIu64, val);
    puts_(j, num);
}

void sb_json_double(sb_json_t *j, const char *key, double val)
{
    char num[40];
    begin_value(j, key);
    if (!isfinite(val)) {
        puts_(j, "null");
        return;
    }
    snprintf(num, sizeof(num), "%.6g", val);
    puts_(j, num);
}

void sb_json_bool(sb_json_t *j, const char *key, int val)
{
    begin_value(j, key);
    puts_(j, val ? "true" : "false");
}

void sb_json_null(sb_json_t *j, const char *key)
{
    begin_value(j, key);
    puts_(j, "null");
}

void sb_json_int_or_null(sb_json_t *j, const char *key, int64_t val)
{
    if (val == SB_UNKNOWN) {
        sb_json_null(j, key);
    }
    else {
        sb_json_int(j, key, val);
    }
}

const char *sb_json_text(const sb_json_t *j, apr_size_t *len)
{
    if (len) {
        *len = j->len;
    }
    return j->buf;
}

void sb_json_time(sb_json_t *j, const char *key, apr_time_t t)
{
    char num[40];

    if (t <= 0) {
        sb_json_null(j, key);
        return;
    }
    begin_value(j, key);
    snprintf(num, sizeof(num), "%" APR_TIME_T_FMT ".%06d",
             apr_time_sec(t), (int)apr_time_usec(t));
    puts_(j, num);
}

void sb_json_sample(sb_json_t *j, const char *key, const sb_sample_t *s, int flags)
{
    sb_json_object_begin(j, key);
    sb_json_sample_fields(j, s, flags);
    sb_json_object_end(j);
}

void sb_json_sample_fields(sb_json_t *j, const sb_sample_t *s, int flags)
{
    int i;

    sb_json_time(j, "ts", s->ts);
    sb_json_string(j, "source", sb_source_name(s->source));

    sb_json_object_begin(j, "server");
    sb_json_string(j, "version", s->server.version[0] ? s->server.version : NULL);
    sb_json_string(j, "mpm", s->server.mpm[0] ? s->server.mpm : NULL);
    sb_json_int_or_null(j, "generation", s->server.generation);
    sb_json_int_or_null(j, "config_generation", s->server.config_generation);
    sb_json_time(j, "restart_time", s->server.restart_time);
    sb_json_int_or_null(j, "uptime_s", s->server.uptime_s);
    sb_json_int_or_null(j, "server_limit", s->server.server_limit);
    sb_json_int_or_null(j, "thread_limit", s->server.thread_limit);
    sb_json_int_or_null(j, "max_request_workers", s->server.max_workers);
    sb_json_object_end(j);

    sb_json_object_begin(j, "slots");
    for (i = 0; i < SB_SLOT_NSTATES; i++) {
        sb_json_uint(j, sb_slot_table[i].key, s->slots[i]);
    }
    sb_json_object_end(j);
    sb_json_int(j, "slots_total", s->nworkers);
    sb_json_uint(j, "busy", s->busy);
    sb_json_uint(j, "idle", s->idle);
    sb_json_uint(j, "graceful_busy", s->graceful_busy);

    if (s->has_totals) {
        sb_json_uint(j, "total_accesses", s->total_accesses);
        sb_json_uint(j, "total_kbytes", s->total_kbytes);
        sb_json_uint(j, "total_duration_ms", s->total_duration_ms);
    }
    else {
        sb_json_null(j, "total_accesses");
        sb_json_null(j, "total_kbytes");
        sb_json_null(j, "total_duration_ms");
    }
    if (s->extended_status == SB_UNKNOWN) {
        sb_json_null(j, "extended_status");
    }
    else {
        sb_json_bool(j, "extended_status", s->extended_status);
    }

    sb_json_object_begin(j, "async");
    sb_json_int_or_null(j, "processes", s->async.processes);
    sb_json_int_or_null(j, "stopping", s->async.stopping);
    sb_json_int_or_null(j, "conns_total", s->async.conns_total);
    sb_json_int_or_null(j, "wait_io", s->async.async_wait_io);
    sb_json_int_or_null(j, "writing", s->async.async_writing);
    sb_json_int_or_null(j, "keepalive", s->async.async_keepalive);
    sb_json_int_or_null(j, "closing", s->async.async_closing);
    sb_json_object_end(j);

    {
        /* The Scoreboard string, as mod_status prints it (no skipped slots). */
        char *sb = apr_palloc(j->pool, (apr_size_t)s->nworkers + 1);
        for (i = 0; i < s->nworkers; i++) {
            sb_slot_state_t st = s->workers[i].state;
            sb[i] = st < SB_SLOT_NSTATES ? sb_slot_table[st].ch : '?';
        }
        sb[s->nworkers] = '\0';
        sb_json_string(j, "scoreboard", sb);
    }

    if (flags & SB_JSON_WORKERS) {
        if (s->procs) {
            sb_json_array_begin(j, "processes");
            for (i = 0; i < s->nprocs; i++) {
                const sb_process_t *ps = &s->procs[i];
                sb_json_object_begin(j, NULL);
                sb_json_int(j, "slot", ps->slot);
                sb_json_int(j, "pid", ps->pid);
                sb_json_int(j, "generation", ps->generation);
                sb_json_bool(j, "quiescing", ps->quiescing);
                sb_json_bool(j, "not_accepting", ps->not_accepting);
                sb_json_uint(j, "connections", ps->connections);
                sb_json_uint(j, "write_completion", ps->write_completion);
                sb_json_uint(j, "lingering_close", ps->lingering_close);
                sb_json_uint(j, "keep_alive", ps->keep_alive);
                sb_json_uint(j, "suspended", ps->suspended);
                sb_json_uint(j, "wait_io", ps->wait_io);
                sb_json_object_end(j);
            }
            sb_json_array_end(j);
        }
        sb_json_array_begin(j, "workers");
        for (i = 0; i < s->nworkers; i++) {
            const sb_worker_t *w = &s->workers[i];
            sb_slot_state_t st = w->state;
            sb_json_object_begin(j, NULL);
            sb_json_int(j, "proc", w->proc);
            sb_json_int(j, "thread", w->thread);
            sb_json_string(j, "state", st < SB_SLOT_NSTATES ? sb_slot_table[st].key : "unknown");
            if (s->source == SB_SOURCE_SHM) {
                sb_json_int(j, "pid", w->pid);
                sb_json_int(j, "generation", w->generation);
                sb_json_uint(j, "access_count", w->access_count);
                sb_json_uint(j, "my_access_count", w->my_access_count);
                sb_json_uint(j, "conn_count", w->conn_count);
                sb_json_int(j, "bytes_served", w->bytes_served);
                sb_json_int(j, "conn_bytes", w->conn_bytes);
                sb_json_time(j, "last_used", w->last_used);
                sb_json_time(j, "start_time", w->start_time);
                sb_json_time(j, "stop_time", w->stop_time);
                sb_json_double(j, "duration_s", (double)w->duration / APR_USEC_PER_SEC);
                sb_json_string(j, "protocol", w->protocol);
                if (flags & SB_JSON_PRIVATE) {
                    sb_json_string(j, "client", w->client);
                    sb_json_string(j, "vhost", w->vhost);
                    sb_json_string(j, "request", w->request);
                }
            }
            sb_json_object_end(j);
        }
        sb_json_array_end(j);
    }
}
