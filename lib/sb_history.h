/*
 * sb_history.h - the history store: one SQLite file that sbagent writes and
 * sbtop and sbtune read at the same time.
 *
 * The file is in WAL mode with synchronous=NORMAL: readers never block the
 * writer or each other, and a kill -9 of the writer loses at most the rows
 * of the flush in progress, never the file.  The schema is versioned
 * (table meta); man/sbtune-history.5 documents every table, column, unit,
 * the retention rules and the measured disk use.
 *
 * The writer buffers rows in memory (sb_history_put_*()) and writes them in
 * one transaction per sb_history_flush().  When the disk is full or another
 * process holds the write lock too long, the rows stay buffered (bounded;
 * the oldest are dropped and counted) and the next flush retries.
 *
 * Unknown figures: a double that is NaN and an int64_t that is negative
 * (SB_UNKNOWN) are stored as NULL and read back as NaN / SB_UNKNOWN.
 *
 * A handle is used by one thread at a time.  Its memory hangs off the pool
 * given to sb_history_open(); destroying that pool closes it.
 */
#ifndef SB_HISTORY_H
#define SB_HISTORY_H

#include <stdint.h>
#include <apr_pools.h>
#include <apr_errno.h>
#include <apr_time.h>
#include "sb_hist.h"
#include "sb_sample.h"

/* ------------------------------------------------------------------ rows */

/* One second (table second).  Means are over the raw samples of the
 * second; unknown: NaN / SB_UNKNOWN. */
typedef struct {
    int64_t ts;                 /* unix seconds (UTC) */
    sb_source_kind_t source;  /* shm or status */
    int64_t generation;         /* httpd's running generation */
    double busy_mean;           /* busy slots (mod_status's BusyWorkers rule) */
    int64_t busy_max;
    double idle_mean;
    double keepalive_slots_mean; /* slots in K */
    double keepalive_conns_mean; /* idle keep-alive connections (kernel) */
    double reading_mean;
    double writing_mean;
    double closing_mean;
    double graceful_mean;
    double open_mean;           /* open slots (no process/thread) */
    double req_per_s;
    double conn_per_s;          /* arrivals: new clients, accepted or not */
    double accepted_per_s;      /* of which httpd accepted (schema 2) */
    double refused_per_s;       /* attempts refused, httpd's queue full (2) */
    int64_t listen_queue_max;   /* accept queue length, max over samples */
    int64_t listen_overflows;   /* ListenOverflows delta in this second */
    int64_t listen_drops;       /* ListenDrops delta in this second */
    double bytes_per_s;
    int64_t pss_total_bytes;    /* PSS of all httpd processes */
    int64_t mem_available_bytes; /* host MemAvailable */
    int samples;                /* raw samples that made this second */
    int gap;                    /* 1: httpd not reachable, figures unknown */
} sb_hist_second_t;

/* One minute (table minute); ts is the minute's start (a multiple of 60).
 * _max figures are the busiest second's.  The histogram pointers may be
 * NULL (not measured: stored as NULL); rows passed to a reader callback
 * point into storage valid during the callback. */
typedef struct {
    int64_t ts;
    sb_source_kind_t source;  /* source of most seconds;
                                 * (sb_source_kind_t)SB_UNKNOWN: none */
    int seconds;                /* second rows that made this minute */
    int gap_seconds;            /* of which gaps */
    double busy_mean;
    int64_t busy_max;
    double idle_mean;
    double keepalive_slots_mean;
    double keepalive_slots_max;
    double keepalive_conns_mean;
    double keepalive_conns_max;
    double req_per_s_mean;
    double req_per_s_max;
    double conn_per_s_mean;
    double conn_per_s_max;
    double accepted_per_s_mean; /* schema 2 */
    double accepted_per_s_max;
    int64_t refused;            /* sum over the minute (schema 2) */
    int64_t listen_queue_max;
    int64_t listen_overflows;   /* sum over the minute */
    int64_t listen_drops;       /* sum over the minute */
    double bytes_per_s_mean;
    int64_t pss_per_worker_bytes;
    int64_t mem_available_min;
    const sb_hist_t *ka_gap_hist;     /* idle gaps followed by a request, s */
    const sb_hist_t *ka_close_hist;   /* idle periods ended by a close, s */
    const sb_hist_t *req_per_conn_hist; /* requests per connection */
    const sb_hist_t *service_time_hist; /* per request, s */
    const sb_hist_t *hold_time_hist;  /* slot hold time per connection, s */
    const sb_hist_t *conn_lifetime_hist; /* handshake to first close, s (eBPF; 2) */
} sb_hist_minute_t;

/* A configuration change applied by the tuner (table changes). */
typedef struct {
    int64_t ts;
    const char *action;         /* e.g. "apply", "rollback"; required */
    const char *before_json;
    const char *after_json;
    const char *reason;
    const char *result;
} sb_hist_change_t;

/* Something that happened (table events).  kind is one of "restart",
 * "graceful", "stop", "start", "reattach", "gap", "error". */
typedef struct {
    int64_t ts;
    const char *kind;
    const char *detail;
} sb_hist_event_t;

/* Slot holding of one client address in one minute (table clients). */
typedef struct {
    int64_t ts;                 /* minute start */
    const char *client;
    double slot_seconds;        /* slot-seconds held in the minute */
    int max_slots;              /* most slots held at once */
} sb_hist_client_t;

/* Set every figure of row to unknown, counts to 0 and ts to ts. */
void sb_hist_second_init(sb_hist_second_t *row, int64_t ts);
void sb_hist_minute_init(sb_hist_minute_t *row, int64_t ts);

/* ------------------------------------------------------------------ store */

#define SB_HISTORY_READ   0x1
#define SB_HISTORY_WRITE  0x2

#define SB_HISTORY_SCHEMA_VERSION      2
#define SB_HISTORY_KEEP_SECOND_HOURS   48
#define SB_HISTORY_KEEP_MINUTE_DAYS    90
#define SB_HISTORY_BUSY_TIMEOUT_MS     1000
/* Buffered rows kept while flushes fail, per table: seconds (one hour),
 * minutes (one day), events, changes, client rows. */
#define SB_HISTORY_PENDING_SECONDS     3600
#define SB_HISTORY_PENDING_MINUTES     1440
#define SB_HISTORY_PENDING_EVENTS      1000
#define SB_HISTORY_PENDING_CHANGES     1000
#define SB_HISTORY_PENDING_CLIENTS     4096
/* Client rows kept per minute (those holding the most slot-seconds). */
#define SB_HISTORY_CLIENTS_PER_MINUTE  32

/* The disk is full, or the limit of sb_history_max_bytes() is reached. */
#define SB_HISTORY_EFULL    (APR_OS_START_USERERR + 301)
/* Another process held the write lock for longer than the busy timeout. */
#define SB_HISTORY_EBUSY    (APR_OS_START_USERERR + 302)
/* Not an SQLite database, or damaged (quick_check failed). */
#define SB_HISTORY_ECORRUPT (APR_OS_START_USERERR + 303)
/* Schema version newer than this build knows, older on a read-only open,
 * or not an sbtune history at all. */
#define SB_HISTORY_ESCHEMA  (APR_OS_START_USERERR + 304)
/* Any other SQLite failure (the message has SQLite's text). */
#define SB_HISTORY_EDB      (APR_OS_START_USERERR + 305)

typedef struct sb_history sb_history_t;

/* Open the history file at path.  *out is allocated from p and valid even
 * on failure, so that sb_history_error() can say why.
 *
 * SB_HISTORY_WRITE creates the file when it does not exist (mode 0640
 * whatever the umask; the parent directory must exist), migrates an older
 * schema in one transaction, and buffers rows for sb_history_flush().
 * SB_HISTORY_READ opens read-only.  Both refuse a path that is a symbolic
 * link or not a regular file (directories on the way may be symbolic
 * links), and run PRAGMA quick_check.  The file is
 * never modified unless it is a valid history (or empty) and opened for
 * writing.
 *
 * Returns APR_SUCCESS; APR_ENOENT (no parent directory, or no file for
 * reading); APR_EINVAL (bad flags, symlink, not a regular file);
 * APR_EACCES; SB_HISTORY_ECORRUPT (not a database or damaged);
 * SB_HISTORY_ESCHEMA (newer schema than SB_HISTORY_SCHEMA_VERSION; older
 * one, or an empty file, opened for reading; not an sbtune history);
 * SB_HISTORY_EBUSY;
 * SB_HISTORY_EFULL or SB_HISTORY_EDB (creating or migrating failed; the
 * file is left as it was). */
apr_status_t sb_history_open(sb_history_t **out, const char *path, int flags,
                             apr_pool_t *p);

/* The message for the last failure: names the file and what to do. */
const char *sb_history_error(const sb_history_t *h);

/* Close the file.  Buffered rows not flushed are discarded: call
 * sb_history_flush() first.  Safe on a handle that failed to open and on a
 * closed one. */
void sb_history_close(sb_history_t *h);

/* How long a statement waits for another process's lock before failing
 * with SB_HISTORY_EBUSY (default SB_HISTORY_BUSY_TIMEOUT_MS). */
void sb_history_busy_timeout(sb_history_t *h, int ms);

/* Cap the database file at max_bytes (PRAGMA max_page_count; 0 removes
 * the cap).  A flush that would grow it beyond fails with
 * SB_HISTORY_EFULL.  The cap is never below the file's current size.
 * Returns APR_SUCCESS or SB_HISTORY_EDB. */
apr_status_t sb_history_max_bytes(sb_history_t *h, apr_off_t max_bytes);

/* Buffer one row for the next flush (writer only).  A second or minute
 * with the ts of a row already stored replaces it.  When a table's buffer
 * is full the oldest buffered row is dropped and counted in
 * sb_history_dropped().  put_clients keeps the SB_HISTORY_CLIENTS_PER_MINUTE
 * rows with the most slot-seconds and replaces that minute's stored rows;
 * the ts of each row is set to minute_ts.
 * Returns APR_SUCCESS, APR_EINVAL (read-only handle; invalid row: unknown
 * source or event kind, minute ts not a multiple of 60, missing action or
 * client, negative counts) or SB_HISTORY_EDB. */
apr_status_t sb_history_put_second(sb_history_t *h, const sb_hist_second_t *row);
apr_status_t sb_history_put_minute(sb_history_t *h, const sb_hist_minute_t *row);
apr_status_t sb_history_put_event(sb_history_t *h, const sb_hist_event_t *row);
apr_status_t sb_history_put_change(sb_history_t *h, const sb_hist_change_t *row);
apr_status_t sb_history_put_clients(sb_history_t *h, int64_t minute_ts,
                                    const sb_hist_client_t *rows, int n);

/* Write every buffered row in one transaction.  May wait up to the busy
 * timeout for another writer.  On failure nothing is written and every row
 * stays buffered for the next call.
 * Returns APR_SUCCESS, SB_HISTORY_EFULL (disk full or size cap),
 * SB_HISTORY_EBUSY (locked beyond the busy timeout), SB_HISTORY_EDB. */
apr_status_t sb_history_flush(sb_history_t *h);

/* Rows buffered and not yet written; rows dropped from full buffers since
 * the handle was opened. */
apr_size_t sb_history_pending(const sb_history_t *h);
uint64_t sb_history_dropped(const sb_history_t *h);

/* Delete rows older than the limits, measured from now: seconds and client
 * rows with ts < now - keep_second_hours, minutes and events with
 * ts < now - keep_minute_days (a value <= 0 means the default, 48 h and
 * 90 days); changes are kept.  Deletes in batches of 1000 rows, each its
 * own transaction, then returns the freed pages to the file system
 * (incremental vacuum) and checkpoints.  Returns APR_SUCCESS, APR_EINVAL
 * (read-only handle), SB_HISTORY_EBUSY, SB_HISTORY_EFULL, SB_HISTORY_EDB;
 * on failure the batches already done stay done. */
apr_status_t sb_history_prune(sb_history_t *h, apr_time_t now,
                              int keep_second_hours, int keep_minute_days);

/* Bytes the history occupies: the file plus its write-ahead log.
 * Returns APR_SUCCESS or the error of stat(). */
apr_status_t sb_history_disk_bytes(sb_history_t *h, apr_off_t *bytes);

/* The newest second row's ts, 0 when there is none. */
apr_status_t sb_history_last_ts(sb_history_t *h, int64_t *ts);

/* Readers: call fn for each stored row with from <= ts < to, in time order
 * (events and changes in the order written; clients by slot-seconds,
 * largest first, within a minute), from one consistent snapshot.  Rows are
 * valid during the call only.  A callback that returns anything but
 * APR_SUCCESS stops the iteration and that status is returned.
 * Returns APR_SUCCESS, the callback's status, SB_HISTORY_EBUSY,
 * SB_HISTORY_ECORRUPT (a stored histogram does not decode) or
 * SB_HISTORY_EDB. */
typedef apr_status_t (sb_history_second_fn)(void *baton, const sb_hist_second_t *row);
typedef apr_status_t (sb_history_minute_fn)(void *baton, const sb_hist_minute_t *row);
typedef apr_status_t (sb_history_event_fn)(void *baton, const sb_hist_event_t *row);
typedef apr_status_t (sb_history_change_fn)(void *baton, const sb_hist_change_t *row);
typedef apr_status_t (sb_history_client_fn)(void *baton, const sb_hist_client_t *row);

apr_status_t sb_history_seconds(sb_history_t *h, int64_t from, int64_t to,
                                sb_history_second_fn *fn, void *baton);
apr_status_t sb_history_minutes(sb_history_t *h, int64_t from, int64_t to,
                                sb_history_minute_fn *fn, void *baton);
apr_status_t sb_history_events(sb_history_t *h, int64_t from, int64_t to,
                               sb_history_event_fn *fn, void *baton);
apr_status_t sb_history_changes(sb_history_t *h, int64_t from, int64_t to,
                                sb_history_change_fn *fn, void *baton);
apr_status_t sb_history_clients(sb_history_t *h, int64_t from, int64_t to,
                                sb_history_client_fn *fn, void *baton);

#endif
