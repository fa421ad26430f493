/*
 * sb_json.h - a small streaming JSON writer into a growing buffer.
 *
 * Keys are given with each value inside objects and are NULL inside arrays
 * and at the top level.  Strings are escaped; bytes that are not valid
 * UTF-8 become U+FFFD, so whatever httpd left in a scoreboard string yields
 * valid JSON.  Non-finite doubles are written as null.
 */
#ifndef SB_JSON_H
#define SB_JSON_H

#include <stdint.h>
#include <apr_pools.h>
#include "sb_sample.h"

typedef struct sb_json sb_json_t;

sb_json_t *sb_json_create(apr_pool_t *p);
void sb_json_reset(sb_json_t *j);
void sb_json_object_begin(sb_json_t *j, const char *key);
void sb_json_object_end(sb_json_t *j);
void sb_json_array_begin(sb_json_t *j, const char *key);
void sb_json_array_end(sb_json_t *j);
void sb_json_string(sb_json_t *j, const char *key, const char *val); /* NULL: null */
void sb_json_int(sb_json_t *j, const char *key, int64_t val);
void sb_json_uint(sb_json_t *j, const char *key, uint64_t val);
void sb_json_double(sb_json_t *j, const char *key, double val);
void sb_json_bool(sb_json_t *j, const char *key, int val);
void sb_json_null(sb_json_t *j, const char *key);
/* A time as seconds since the epoch with microseconds; null when t <= 0. */
void sb_json_time(sb_json_t *j, const char *key, apr_time_t t);
/* An int that is null when it equals SB_UNKNOWN. */
void sb_json_int_or_null(sb_json_t *j, const char *key, int64_t val);

/* The text so far (NUL-terminated) and its length. */
const char *sb_json_text(const sb_json_t *j, apr_size_t *len);

/* What sb_json_sample() includes beyond the summary. */
#define SB_JSON_WORKERS   0x1   /* per worker and per process records */
#define SB_JSON_PRIVATE   0x2   /* client addresses, vhosts and request lines */

/* Write one sample as a JSON object (key as for any value).  The summary
 * keys: ts, source, server{...}, slots{...}, busy, idle, graceful_busy,
 * total_accesses, total_kbytes, total_duration_ms, extended_status, async;
 * flags add workers/processes.  Client addresses and request lines are
 * written only with SB_JSON_PRIVATE. */
void sb_json_sample(sb_json_t *j, const char *key, const sb_sample_t *s, int flags);

/* The same keys, written into an object the caller has opened. */
void sb_json_sample_fields(sb_json_t *j, const sb_sample_t *s, int flags);

#endif
