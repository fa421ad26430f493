/*
 * sb_history.c - the history store in one SQLite file (see sb_history.h and
 * sbtune-history(5)).
 *
 * Rows put by the writer go to TEMP tables of its own connection (kept in
 * memory), and a flush copies them into the file and empties the TEMP
 * tables in the same transaction: when the transaction fails, SQLite rolls
 * both back and the rows are still buffered for the next flush.
 *
 * The column tables below drive the INSERT and SELECT statements and the
 * binding of the row structs; the CREATE TABLE statements of each schema
 * version are written out in full, because a migration must keep doing
 * what it did when it was released.
 */
#include "config.h"
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

#include <sqlite3.h>
#include <apr_network_io.h>
#include <apr_strings.h>

#include "sb_history.h"

#ifdef PACKAGE_VERSION
#define SB_HISTORY_SBTUNE_VERSION PACKAGE_VERSION
#else
#define SB_HISTORY_SBTUNE_VERSION "unknown"
#endif

#define SB_HISTORY_FILE_MODE   0640
#define SB_HISTORY_PRUNE_BATCH 1000
#define SB_HISTORY_VACUUM_STEP 1000
#define SB_HISTORY_WAL_LIMIT   "4194304"
/* SQLite's largest page count (SQLITE_MAX_PAGE_COUNT of 3.40). */
#define SB_HISTORY_NO_PAGE_CAP 1073741823

/* ------------------------------------------------------------------ rows */

void sb_hist_second_init(sb_hist_second_t *r, int64_t ts)
{
    memset(r, 0, sizeof(*r));
    r->ts = ts;
    r->source = SB_SOURCE_SHM;
    r->generation = r->busy_max = SB_UNKNOWN;
    r->listen_queue_max = r->listen_overflows = r->listen_drops = SB_UNKNOWN;
    r->pss_total_bytes = r->mem_available_bytes = SB_UNKNOWN;
    r->busy_mean = r->idle_mean = r->keepalive_slots_mean = r->keepalive_conns_mean = NAN;
    r->reading_mean = r->writing_mean = r->closing_mean = r->graceful_mean = NAN;
    r->open_mean = r->req_per_s = r->conn_per_s = r->bytes_per_s = NAN;
    r->accepted_per_s = r->refused_per_s = NAN;
}

void sb_hist_minute_init(sb_hist_minute_t *r, int64_t ts)
{
    memset(r, 0, sizeof(*r));
    r->ts = ts;
    r->source = (sb_source_kind_t)SB_UNKNOWN;
    r->busy_max = r->listen_queue_max = r->listen_overflows = r->listen_drops = SB_UNKNOWN;
    r->pss_per_worker_bytes = r->mem_available_min = SB_UNKNOWN;
    r->busy_mean = r->idle_mean = NAN;
    r->keepalive_slots_mean = r->keepalive_slots_max = NAN;
    r->keepalive_conns_mean = r->keepalive_conns_max = NAN;
    r->req_per_s_mean = r->req_per_s_max = r->conn_per_s_mean = r->conn_per_s_max = NAN;
    r->bytes_per_s_mean = NAN;
    r->accepted_per_s_mean = r->accepted_per_s_max = NAN;
    r->refused = SB_UNKNOWN;
}

/* ------------------------------------------------------------------ schema */

/* Version 1, the first schema.  Units and meaning: sbtune-history(5). */
static const char schema_v1[] =
    "CREATE TABLE second ("
    " ts INTEGER PRIMARY KEY,"
    " source TEXT NOT NULL CHECK (source IN ('shm', 'status')),"
    " generation INTEGER,"
    " busy_mean REAL, busy_max INTEGER, idle_mean REAL,"
    " keepalive_slots_mean REAL, keepalive_conns_mean REAL,"
    " reading_mean REAL, writing_mean REAL, closing_mean REAL,"
    " graceful_mean REAL, open_mean REAL,"
    " req_per_s REAL, conn_per_s REAL,"
    " listen_queue_max INTEGER, listen_overflows INTEGER, listen_drops INTEGER,"
    " bytes_per_s REAL, pss_total_bytes INTEGER, mem_available_bytes INTEGER,"
    " samples INTEGER NOT NULL CHECK (samples >= 0),"
    " gap INTEGER NOT NULL CHECK (gap IN (0, 1)));"
    "CREATE TABLE minute ("
    " ts INTEGER PRIMARY KEY CHECK (ts % 60 = 0),"
    " source TEXT CHECK (source IN ('shm', 'status')),"
    " seconds INTEGER NOT NULL, gap_seconds INTEGER NOT NULL,"
    " busy_mean REAL, busy_max INTEGER, idle_mean REAL,"
    " keepalive_slots_mean REAL, keepalive_slots_max REAL,"
    " keepalive_conns_mean REAL, keepalive_conns_max REAL,"
    " req_per_s_mean REAL, req_per_s_max REAL,"
    " conn_per_s_mean REAL, conn_per_s_max REAL,"
    " listen_queue_max INTEGER, listen_overflows INTEGER, listen_drops INTEGER,"
    " bytes_per_s_mean REAL, pss_per_worker_bytes INTEGER, mem_available_min INTEGER,"
    " ka_gap_hist BLOB, ka_close_hist BLOB, req_per_conn_hist BLOB,"
    " service_time_hist BLOB, hold_time_hist BLOB);"
    "CREATE TABLE changes ("
    " id INTEGER PRIMARY KEY, ts INTEGER NOT NULL, action TEXT NOT NULL,"
    " before_json TEXT, after_json TEXT, reason TEXT, result TEXT);"
    "CREATE INDEX changes_ts ON changes (ts);"
    "CREATE TABLE events ("
    " id INTEGER PRIMARY KEY, ts INTEGER NOT NULL,"
    " kind TEXT NOT NULL CHECK (kind IN ('restart', 'graceful', 'stop', 'start',"
    " 'reattach', 'gap', 'error')),"
    " detail TEXT);"
    "CREATE INDEX events_ts ON events (ts);"
    "CREATE TABLE clients ("
    " ts INTEGER NOT NULL CHECK (ts % 60 = 0), client TEXT NOT NULL,"
    " slot_seconds REAL NOT NULL, max_slots INTEGER NOT NULL,"
    " PRIMARY KEY (ts, client)) WITHOUT ROWID;";

/* Version 2: arrivals and accepted connections apart, refused attempts,
 * connection lifetimes (the eBPF source). */
static const char schema_v2[] =
    "ALTER TABLE second ADD COLUMN accepted_per_s REAL;"
    "ALTER TABLE second ADD COLUMN refused_per_s REAL;"
    "ALTER TABLE minute ADD COLUMN accepted_per_s_mean REAL;"
    "ALTER TABLE minute ADD COLUMN accepted_per_s_max REAL;"
    "ALTER TABLE minute ADD COLUMN refused INTEGER;"
    "ALTER TABLE minute ADD COLUMN conn_lifetime_hist BLOB;";

/* migrations[v] takes a file from version v to v + 1.  Version 0 is a file
 * with only the meta table (what a new file starts as). */
static const char *const migrations[SB_HISTORY_SCHEMA_VERSION] = {
    schema_v1,
    schema_v2,
};

static const char *const event_kinds[] = {
    "restart", "graceful", "stop", "start", "reattach", "gap", "error"
};

enum { COL_TS, COL_I64, COL_INT, COL_REAL, COL_SOURCE, COL_TEXT, COL_HIST };

typedef struct {
    const char *name;
    int type;
    size_t off;
} sb_col_t;

#define SC(f, t) { #f, t, offsetof(sb_hist_second_t, f) }
static const sb_col_t second_cols[] = {
    SC(ts, COL_TS), SC(source, COL_SOURCE), SC(generation, COL_I64),
    SC(busy_mean, COL_REAL), SC(busy_max, COL_I64), SC(idle_mean, COL_REAL),
    SC(keepalive_slots_mean, COL_REAL), SC(keepalive_conns_mean, COL_REAL),
    SC(reading_mean, COL_REAL), SC(writing_mean, COL_REAL), SC(closing_mean, COL_REAL),
    SC(graceful_mean, COL_REAL), SC(open_mean, COL_REAL),
    SC(req_per_s, COL_REAL), SC(conn_per_s, COL_REAL),
    SC(listen_queue_max, COL_I64), SC(listen_overflows, COL_I64),
    SC(listen_drops, COL_I64), SC(bytes_per_s, COL_REAL),
    SC(pss_total_bytes, COL_I64), SC(mem_available_bytes, COL_I64),
    SC(samples, COL_INT), SC(gap, COL_INT),
    SC(accepted_per_s, COL_REAL), SC(refused_per_s, COL_REAL),
};
#undef SC

#define MC(f, t) { #f, t, offsetof(sb_hist_minute_t, f) }
static const sb_col_t minute_cols[] = {
    MC(ts, COL_TS), MC(source, COL_SOURCE), MC(seconds, COL_INT), MC(gap_seconds, COL_INT),
    MC(busy_mean, COL_REAL), MC(busy_max, COL_I64), MC(idle_mean, COL_REAL),
    MC(keepalive_slots_mean, COL_REAL), MC(keepalive_slots_max, COL_REAL),
    MC(keepalive_conns_mean, COL_REAL), MC(keepalive_conns_max, COL_REAL),
    MC(req_per_s_mean, COL_REAL), MC(req_per_s_max, COL_REAL),
    MC(conn_per_s_mean, COL_REAL), MC(conn_per_s_max, COL_REAL),
    MC(listen_queue_max, COL_I64), MC(listen_overflows, COL_I64),
    MC(listen_drops, COL_I64), MC(bytes_per_s_mean, COL_REAL),
    MC(pss_per_worker_bytes, COL_I64), MC(mem_available_min, COL_I64),
    MC(ka_gap_hist, COL_HIST), MC(ka_close_hist, COL_HIST),
    MC(req_per_conn_hist, COL_HIST), MC(service_time_hist, COL_HIST),
    MC(hold_time_hist, COL_HIST),
    MC(accepted_per_s_mean, COL_REAL), MC(accepted_per_s_max, COL_REAL),
    MC(refused, COL_I64), MC(conn_lifetime_hist, COL_HIST),
};
#undef MC
#define SB_MINUTE_NHIST 6

static const sb_col_t event_cols[] = {
    { "ts", COL_TS, offsetof(sb_hist_event_t, ts) },
    { "kind", COL_TEXT, offsetof(sb_hist_event_t, kind) },
    { "detail", COL_TEXT, offsetof(sb_hist_event_t, detail) },
};

static const sb_col_t change_cols[] = {
    { "ts", COL_TS, offsetof(sb_hist_change_t, ts) },
    { "action", COL_TEXT, offsetof(sb_hist_change_t, action) },
    { "before_json", COL_TEXT, offsetof(sb_hist_change_t, before_json) },
    { "after_json", COL_TEXT, offsetof(sb_hist_change_t, after_json) },
    { "reason", COL_TEXT, offsetof(sb_hist_change_t, reason) },
    { "result", COL_TEXT, offsetof(sb_hist_change_t, result) },
};

static const sb_col_t client_cols[] = {
    { "ts", COL_TS, offsetof(sb_hist_client_t, ts) },
    { "client", COL_TEXT, offsetof(sb_hist_client_t, client) },
    { "slot_seconds", COL_REAL, offsetof(sb_hist_client_t, slot_seconds) },
    { "max_slots", COL_INT, offsetof(sb_hist_client_t, max_slots) },
};

enum { T_SECOND, T_MINUTE, T_EVENTS, T_CHANGES, T_CLIENTS, T_N };

typedef struct {
    const char *name;
    const sb_col_t *cols;
    int ncols;
    apr_size_t cap;             /* rows buffered at most */
    const char *verb;           /* how a flush stores a buffered row */
    const char *order;          /* readers' ORDER BY */
} sb_table_t;

#define NCOLS(a) ((int)(sizeof(a) / sizeof((a)[0])))
static const sb_table_t tables[T_N] = {
    { "second", second_cols, NCOLS(second_cols), SB_HISTORY_PENDING_SECONDS,
      "INSERT OR REPLACE", "ts" },
    { "minute", minute_cols, NCOLS(minute_cols), SB_HISTORY_PENDING_MINUTES,
      "INSERT OR REPLACE", "ts" },
    { "events", event_cols, NCOLS(event_cols), SB_HISTORY_PENDING_EVENTS,
      "INSERT", "ts, id" },
    { "changes", change_cols, NCOLS(change_cols), SB_HISTORY_PENDING_CHANGES,
      "INSERT", "ts, id" },
    { "clients", client_cols, NCOLS(client_cols), SB_HISTORY_PENDING_CLIENTS,
      "INSERT OR REPLACE", "ts, slot_seconds DESC, client" },
};

/* ------------------------------------------------------------------ handle */

struct sb_history {
    apr_pool_t *pool;
    sqlite3 *db;
    char *path;
    int flags;
    int busy_ms;
    apr_size_t pending[T_N];
    uint64_t dropped;
    sqlite3_stmt *put[T_N];     /* INSERT into the TEMP buffer table */
    const char *flush_sql[T_N];
    const char *drop_sql[T_N];
    const char *clear_sql[T_N];
    const char *count_sql[T_N];
    char *wal_path;
    dev_t dev;                  /* the file checked before SQLite opens it */
    ino_t ino;
    const char *select_sql[T_N];
    sb_hist_t hist[SB_MINUTE_NHIST]; /* decoded histograms of a minute row */
    char err[1024];
};

const char *sb_history_error(const sb_history_t *h)
{
    return h ? h->err : "no history handle";
}

static apr_status_t map_rc(sqlite3 *db, int rc)
{
    switch (rc & 0xff) {
    case SQLITE_OK:
    case SQLITE_ROW:
    case SQLITE_DONE:
        return APR_SUCCESS;
    case SQLITE_FULL:
        return SB_HISTORY_EFULL;
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        return SB_HISTORY_EBUSY;
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
        return SB_HISTORY_ECORRUPT;
    case SQLITE_NOMEM:
        return APR_ENOMEM;
    case SQLITE_PERM:
    case SQLITE_READONLY:
    case SQLITE_AUTH:
        return APR_EACCES;
    case SQLITE_CANTOPEN:
        if (db) {
            int e = sqlite3_system_errno(db);
            if (e == EACCES || e == EPERM) {
                return APR_EACCES;
            }
        }
        return SB_HISTORY_EDB;
    case SQLITE_IOERR:
        if (db) {
            int e = sqlite3_system_errno(db);
            if (e == ENOSPC || e == EDQUOT) {
                return SB_HISTORY_EFULL;
            }
        }
        return SB_HISTORY_EDB;
    default:
        return SB_HISTORY_EDB;
    }
}

/* Record why "what" failed with SQLite code rc; returns the mapped status.
 * Call before anything else touches the connection (ROLLBACK replaces
 * SQLite's message). */
static apr_status_t db_fail(sb_history_t *h, int rc, const char *what)
{
    apr_status_t rv = map_rc(h->db, rc);
    const char *msg = h->db ? sqlite3_errmsg(h->db) : sqlite3_errstr(rc);
    const char *hint = "";

    switch (rv) {
    case SB_HISTORY_EFULL:
        hint = " (the disk is full or the size cap is reached; rows stay buffered"
               " and the next flush retries)";
        break;
    case SB_HISTORY_EBUSY:
        hint = " (another process holds the database lock; rows stay buffered and"
               " the next flush retries)";
        break;
    case SB_HISTORY_ECORRUPT:
        hint = " (the file is damaged or not a database: it is left untouched;"
               " move it away or restore it)";
        break;
    case APR_EACCES:
        hint = " (check the permissions of the file, its -wal and -shm files and"
               " its directory)";
        break;
    default:
        break;
    }
    snprintf(h->err, sizeof(h->err), "history file %s: %s: %s%s", h->path, what, msg,
             hint);
    return rv;
}

static apr_status_t not_open(sb_history_t *h)
{
    snprintf(h->err, sizeof(h->err), "history file %s: the handle is not open",
             h->path ? h->path : "(none)");
    return APR_EINVAL;
}

static apr_status_t need_writer(sb_history_t *h)
{
    if (!h->db) {
        return not_open(h);
    }
    if (!(h->flags & SB_HISTORY_WRITE)) {
        snprintf(h->err, sizeof(h->err),
                 "history file %s: opened for reading only, cannot write", h->path);
        return APR_EINVAL;
    }
    return APR_SUCCESS;
}

static int exec_sql(sb_history_t *h, const char *sql)
{
    return sqlite3_exec(h->db, sql, NULL, NULL, NULL);
}

static void rollback(sb_history_t *h)
{
    if (h->db && !sqlite3_get_autocommit(h->db)) {
        exec_sql(h, "ROLLBACK");
    }
}

/* Run a statement that yields one integer (or NULL: *out = dflt). */
static int query_int(sb_history_t *h, const char *sql, int64_t dflt, int64_t *out)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(h->db, sql, -1, &st, NULL);

    *out = dflt;
    if (rc == SQLITE_OK) {
        rc = sqlite3_step(st);
        if (rc == SQLITE_ROW) {
            if (sqlite3_column_type(st, 0) != SQLITE_NULL) {
                *out = sqlite3_column_int64(st, 0);
            }
            rc = SQLITE_OK;
        }
        else if (rc == SQLITE_DONE) {
            rc = SQLITE_OK;
        }
    }
    sqlite3_finalize(st);
    return rc;
}

static apr_status_t history_cleanup(void *data)
{
    sb_history_t *h = data;
    int t;

    for (t = 0; t < T_N; t++) {
        sqlite3_finalize(h->put[t]);
        h->put[t] = NULL;
    }
    if (h->db) {
        sqlite3_close_v2(h->db);
        h->db = NULL;
    }
    return APR_SUCCESS;
}

void sb_history_close(sb_history_t *h)
{
    if (h && h->pool) {
        apr_pool_cleanup_run(h->pool, h, history_cleanup);
    }
}

/* ------------------------------------------------------------------ opening */

static char *parent_dir(apr_pool_t *p, const char *path)
{
    const char *slash = strrchr(path, '/');

    if (!slash) {
        return apr_pstrdup(p, ".");
    }
    if (slash == path) {
        return apr_pstrdup(p, "/");
    }
    return apr_pstrndup(p, path, (apr_size_t)(slash - path));
}

/* An existing file must be empty or start with SQLite's header. */
static apr_status_t check_header(sb_history_t *h, const struct stat *st)
{
    static const char magic[16] = "SQLite format 3";
    unsigned char hdr[100];
    ssize_t n;
    int fd;

    if (st->st_size == 0) {
        return APR_SUCCESS;
    }
    fd = open(h->path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        snprintf(h->err, sizeof(h->err), "history file %s: cannot open: %s", h->path,
                 strerror(e));
        return APR_FROM_OS_ERROR(e);
    }
    n = read(fd, hdr, sizeof(hdr));
    close(fd);
    if (n != (ssize_t)sizeof(hdr) || memcmp(hdr, magic, sizeof(magic)) != 0) {
        snprintf(h->err, sizeof(h->err),
                 "history file %s is not an SQLite database (it does not start with"
                 " \"SQLite format 3\"): refusing to use or overwrite it; move it"
                 " away or give another path", h->path);
        return SB_HISTORY_ECORRUPT;
    }
    return APR_SUCCESS;
}

/* Refuse symlinks and non-regular files; check that the directory exists;
 * create the file (mode 0640) for a writer. */
static apr_status_t check_path(sb_history_t *h)
{
    struct stat st;
    int tries;

    for (tries = 0; tries < 3; tries++) {
        int fd, e;
        if (lstat(h->path, &st) == 0) {
            if (S_ISLNK(st.st_mode)) {
                snprintf(h->err, sizeof(h->err),
                         "history file %s is a symbolic link: refusing to follow it"
                         " (give the real path)", h->path);
                return APR_EINVAL;
            }
            if (!S_ISREG(st.st_mode)) {
                snprintf(h->err, sizeof(h->err),
                         "history file %s is not a regular file", h->path);
                return APR_EINVAL;
            }
            h->dev = st.st_dev;
            h->ino = st.st_ino;
            return check_header(h, &st);
        }
        e = errno;
        if (e != ENOENT) {
            snprintf(h->err, sizeof(h->err), "history file %s: %s", h->path, strerror(e));
            return APR_FROM_OS_ERROR(e);
        }
        {
            char *dir = parent_dir(h->pool, h->path);
            if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
                snprintf(h->err, sizeof(h->err),
                         "directory %s of history file %s does not exist: create it"
                         " first (owned by the user sbagent runs as)", dir, h->path);
                return APR_ENOENT;
            }
        }
        if (!(h->flags & SB_HISTORY_WRITE)) {
            snprintf(h->err, sizeof(h->err),
                     "history file %s does not exist (sbagent creates it when it"
                     " starts keeping history)", h->path);
            return APR_ENOENT;
        }
        fd = open(h->path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                  SB_HISTORY_FILE_MODE);
        if (fd < 0) {
            e = errno;
            if (e == EEXIST) {
                continue;       /* someone else created it: look again */
            }
            snprintf(h->err, sizeof(h->err), "cannot create history file %s: %s",
                     h->path, strerror(e));
            return APR_FROM_OS_ERROR(e);
        }
        if (fchmod(fd, SB_HISTORY_FILE_MODE) != 0 || fstat(fd, &st) != 0) {
            e = errno;
            close(fd);
            unlink(h->path);
            snprintf(h->err, sizeof(h->err), "cannot set mode 0640 on history file %s: %s",
                     h->path, strerror(e));
            return APR_FROM_OS_ERROR(e);
        }
        close(fd);
        h->dev = st.st_dev;
        h->ino = st.st_ino;
        return APR_SUCCESS;
    }
    snprintf(h->err, sizeof(h->err), "history file %s keeps appearing and vanishing",
             h->path);
    return APR_EINVAL;
}

static apr_status_t check_integrity(sb_history_t *h)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(h->db, "PRAGMA quick_check(1)", -1, &st, NULL);
    apr_status_t rv = APR_SUCCESS;

    if (rc == SQLITE_OK) {
        rc = sqlite3_step(st);
    }
    if (rc == SQLITE_ROW) {
        const char *res = (const char *)sqlite3_column_text(st, 0);
        if (!res || strcmp(res, "ok") != 0) {
            snprintf(h->err, sizeof(h->err),
                     "history file %s is damaged (PRAGMA quick_check: %s): it is left"
                     " untouched; move it away or restore it", h->path,
                     res ? res : "no answer");
            rv = SB_HISTORY_ECORRUPT;
        }
    }
    else if (rc != SQLITE_DONE) {
        rv = db_fail(h, rc, "checking the file");
    }
    sqlite3_finalize(st);
    return rv;
}

/* The schema version: -1 when the file has no meta table (then *ntables
 * says whether it is empty). */
static apr_status_t read_version(sb_history_t *h, int *version, int64_t *ntables)
{
    int64_t has_meta;
    sqlite3_stmt *st = NULL;
    int rc;
    apr_status_t rv = APR_SUCCESS;

    *version = -1;
    rc = query_int(h, "SELECT count(*) FROM sqlite_master WHERE type = 'table'"
                      " AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'", 0, ntables);
    if (rc == SQLITE_OK) {
        rc = query_int(h, "SELECT count(*) FROM sqlite_master WHERE type = 'table'"
                          " AND name = 'meta'", 0, &has_meta);
    }
    if (rc != SQLITE_OK) {
        return db_fail(h, rc, "reading the schema");
    }
    if (!has_meta) {
        return APR_SUCCESS;
    }
    rc = sqlite3_prepare_v2(h->db, "SELECT value FROM meta WHERE key = 'schema_version'",
                            -1, &st, NULL);
    if (rc == SQLITE_OK) {
        rc = sqlite3_step(st);
    }
    if (rc == SQLITE_ROW) {
        const char *v = (const char *)sqlite3_column_text(st, 0);
        char *end = NULL;
        long n = v ? strtol(v, &end, 10) : -1;
        if (!v || end == v || *end || n < 0 || n > 1000000) {
            snprintf(h->err, sizeof(h->err),
                     "history file %s: meta.schema_version is '%s', not a version"
                     " number: not an sbtune history?", h->path, v ? v : "NULL");
            rv = SB_HISTORY_ESCHEMA;
        }
        else {
            *version = (int)n;
        }
    }
    else if (rc == SQLITE_DONE) {
        snprintf(h->err, sizeof(h->err),
                 "history file %s has a meta table without schema_version: not an"
                 " sbtune history; refusing to touch it", h->path);
        rv = SB_HISTORY_ESCHEMA;
    }
    else {
        rv = db_fail(h, rc, "reading the schema version");
    }
    sqlite3_finalize(st);
    return rv;
}

static apr_status_t newer_schema(sb_history_t *h, int version)
{
    snprintf(h->err, sizeof(h->err),
             "history file %s has schema version %d, newer than version %d that this"
             " sbtune (%s) knows: upgrade sbtune or give another file (a file is"
             " never downgraded)", h->path, version, SB_HISTORY_SCHEMA_VERSION,
             SB_HISTORY_SBTUNE_VERSION);
    return SB_HISTORY_ESCHEMA;
}

static apr_status_t not_ours(sb_history_t *h)
{
    snprintf(h->err, sizeof(h->err),
             "history file %s is an SQLite database without sbtune's meta table: not"
             " an sbtune history; refusing to touch it", h->path);
    return SB_HISTORY_ESCHEMA;
}

static int set_meta(sb_history_t *h, const char *key, const char *value)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(h->db, "INSERT OR REPLACE INTO meta (key, value)"
                                       " VALUES (?1, ?2)", -1, &st, NULL);

    if (rc == SQLITE_OK) {
        sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, value, -1, SQLITE_TRANSIENT);
        rc = sqlite3_step(st);
        rc = rc == SQLITE_DONE ? SQLITE_OK : rc;
    }
    sqlite3_finalize(st);
    return rc;
}

/* Create the meta table of a new file (version 0) and run every migration
 * up to SB_HISTORY_SCHEMA_VERSION, all in one transaction. */
static apr_status_t migrate(sb_history_t *h)
{
    int64_t ntables;
    int version, from, rc;
    apr_status_t rv;
    char what[160];

    rc = exec_sql(h, "BEGIN IMMEDIATE");
    if (rc != SQLITE_OK) {
        return db_fail(h, rc, "starting the schema transaction");
    }
    /* another writer may have done it meanwhile: look again under the lock */
    rv = read_version(h, &version, &ntables);
    if (rv != APR_SUCCESS) {
        rollback(h);
        return rv;
    }
    if (version < 0) {
        char host[256];
        if (ntables > 0) {
            rollback(h);
            return not_ours(h);
        }
        if (apr_gethostname(host, sizeof(host), h->pool) != APR_SUCCESS) {
            apr_cpystrn(host, "unknown", sizeof(host));
        }
        rc = exec_sql(h, "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)");
        if (rc == SQLITE_OK) {
            rc = set_meta(h, "schema_version", "0");
        }
        if (rc == SQLITE_OK) {
            rc = set_meta(h, "created_at",
                          apr_psprintf(h->pool, "%" APR_INT64_T_FMT,
                                       (apr_int64_t)apr_time_sec(apr_time_now())));
        }
        if (rc == SQLITE_OK) {
            rc = set_meta(h, "host", host);
        }
        if (rc == SQLITE_OK) {
            rc = set_meta(h, "sbtune_version", SB_HISTORY_SBTUNE_VERSION);
        }
        if (rc != SQLITE_OK) {
            rv = db_fail(h, rc, "creating the meta table");
            rollback(h);
            return rv;
        }
        version = 0;
    }
    if (version > SB_HISTORY_SCHEMA_VERSION) {
        rollback(h);
        return newer_schema(h, version);
    }
    from = version;
    for (; version < SB_HISTORY_SCHEMA_VERSION; version++) {
        rc = exec_sql(h, migrations[version]);
        if (rc != SQLITE_OK) {
            snprintf(what, sizeof(what),
                     "migrating from schema version %d to %d failed at step %d -> %d"
                     " (the file is left at version %d)",
                     from, SB_HISTORY_SCHEMA_VERSION, version, version + 1, from);
            rv = db_fail(h, rc, what);
            rollback(h);
            return rv;
        }
    }
    rc = set_meta(h, "schema_version",
                  apr_psprintf(h->pool, "%d", SB_HISTORY_SCHEMA_VERSION));
    if (rc == SQLITE_OK && from > 0) {
        rc = set_meta(h, "sbtune_version", SB_HISTORY_SBTUNE_VERSION);
    }
    if (rc == SQLITE_OK) {
        rc = exec_sql(h, "COMMIT");
    }
    if (rc != SQLITE_OK) {
        snprintf(what, sizeof(what), "migrating from schema version %d to %d",
                 from, SB_HISTORY_SCHEMA_VERSION);
        rv = db_fail(h, rc, what);
        rollback(h);
        return rv;
    }
    return APR_SUCCESS;
}

static const char *column_list(apr_pool_t *p, const sb_table_t *t)
{
    const char *s = t->cols[0].name;
    int i;

    for (i = 1; i < t->ncols; i++) {
        s = apr_pstrcat(p, s, ", ", t->cols[i].name, NULL);
    }
    return s;
}

/* The writer's buffer: one TEMP table per table, in memory. */
static apr_status_t prepare_buffers(sb_history_t *h)
{
    int t, i, rc;

    for (t = 0; t < T_N; t++) {
        const sb_table_t *tb = &tables[t];
        const char *cols = column_list(h->pool, tb);
        char *marks = apr_palloc(h->pool, (apr_size_t)tb->ncols * 2);
        const char *sql;

        for (i = 0; i < tb->ncols; i++) {
            marks[2 * i] = '?';
            marks[2 * i + 1] = ',';
        }
        marks[2 * tb->ncols - 1] = '\0';
        sql = apr_psprintf(h->pool, "CREATE TEMP TABLE IF NOT EXISTS p_%s (%s)",
                           tb->name, cols);
        rc = exec_sql(h, sql);
        if (rc == SQLITE_OK) {
            sql = apr_psprintf(h->pool, "INSERT INTO temp.p_%s (%s) VALUES (%s)",
                               tb->name, cols, marks);
            rc = sqlite3_prepare_v3(h->db, sql, -1, SQLITE_PREPARE_PERSISTENT,
                                    &h->put[t], NULL);
        }
        if (rc != SQLITE_OK) {
            return db_fail(h, rc, "preparing the write buffer");
        }
        h->flush_sql[t] = apr_psprintf(h->pool,
                                       "%s INTO main.%s (%s) SELECT %s FROM temp.p_%s"
                                       " ORDER BY rowid", tb->verb, tb->name, cols, cols,
                                       tb->name);
        h->clear_sql[t] = apr_psprintf(h->pool, "DELETE FROM temp.p_%s", tb->name);
        h->count_sql[t] = apr_psprintf(h->pool, "SELECT count(*) FROM temp.p_%s", tb->name);
        h->drop_sql[t] = apr_psprintf(h->pool,
                                      "DELETE FROM temp.p_%s WHERE rowid ="
                                      " (SELECT min(rowid) FROM temp.p_%s)",
                                      tb->name, tb->name);
    }
    return APR_SUCCESS;
}

static apr_status_t setup_writer(sb_history_t *h, int64_t page_count)
{
    sqlite3_stmt *st = NULL;
    int64_t autovac;
    int rc;
    const char *mode = NULL;

    if (page_count == 0) {
        /* only a new, empty file can take it without a VACUUM */
        exec_sql(h, "PRAGMA auto_vacuum = INCREMENTAL");
    }
    rc = sqlite3_prepare_v2(h->db, "PRAGMA journal_mode = WAL", -1, &st, NULL);
    if (rc == SQLITE_OK) {
        rc = sqlite3_step(st);
        if (rc == SQLITE_ROW) {
            mode = (const char *)sqlite3_column_text(st, 0);
            rc = mode && strcmp(mode, "wal") == 0 ? SQLITE_OK : SQLITE_ERROR;
        }
    }
    if (rc != SQLITE_OK) {
        apr_status_t rv;
        if (mode) {
            snprintf(h->err, sizeof(h->err),
                     "history file %s: cannot switch to WAL mode (journal mode stays"
                     " '%s'); is it on a network file system?", h->path, mode);
            rv = SB_HISTORY_EDB;
        }
        else {
            rv = db_fail(h, rc, "switching to WAL mode");
        }
        sqlite3_finalize(st);
        return rv;
    }
    sqlite3_finalize(st);
    rc = exec_sql(h, "PRAGMA synchronous = NORMAL;"
                     " PRAGMA journal_size_limit = " SB_HISTORY_WAL_LIMIT ";"
                     " PRAGMA temp_store = MEMORY");
    if (rc != SQLITE_OK) {
        return db_fail(h, rc, "setting up the connection");
    }
    rc = query_int(h, "PRAGMA auto_vacuum", 0, &autovac);
    if (rc == SQLITE_OK && autovac != 2) {
        /* a file from before schema version 1: make it shrink on prune; if
         * the rewrite fails (disk full) the file works as it is */
        if (exec_sql(h, "PRAGMA auto_vacuum = INCREMENTAL") == SQLITE_OK) {
            exec_sql(h, "VACUUM");
        }
    }
    return APR_SUCCESS;
}

/* path for a file: URI (RFC 3986 path characters kept, the rest %XX). */
static const char *uri_path(const char *path, apr_pool_t *p)
{
    char *out = apr_palloc(p, strlen(path) * 3 + 1), *o = out;
    const unsigned char *c;

    for (c = (const unsigned char *)path; *c; c++) {
        if ((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9')
            || strchr("/-._~", *c)) {
            *o++ = (char)*c;
        }
        else {
            o += sprintf(o, "%%%02X", *c);
        }
    }
    *o = '\0';
    return out;
}

apr_status_t sb_history_open(sb_history_t **out, const char *path, int flags,
                             apr_pool_t *p)
{
    sb_history_t *h = apr_pcalloc(p, sizeof(*h));
    int rc, version, t, rofs;
    int64_t ntables, page_count;
    struct stat st;
    apr_status_t rv;

    *out = h;
    h->pool = p;
    h->path = apr_pstrdup(p, path ? path : "");
    h->wal_path = apr_pstrcat(p, h->path, "-wal", NULL);
    h->flags = flags;
    h->busy_ms = SB_HISTORY_BUSY_TIMEOUT_MS;
    if (!path || !*path || (flags & ~(SB_HISTORY_READ | SB_HISTORY_WRITE))
        || !(flags & (SB_HISTORY_READ | SB_HISTORY_WRITE))) {
        snprintf(h->err, sizeof(h->err), "history file '%s': bad path or flags %#x",
                 h->path, (unsigned)flags);
        return APR_EINVAL;
    }
    rv = check_path(h);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    {
        struct statvfs vfs;
        rofs = statvfs(h->path, &vfs) == 0 && (vfs.f_flag & ST_RDONLY);
    }
    if (rofs && (flags & SB_HISTORY_WRITE)) {
        snprintf(h->err, sizeof(h->err),
                 "history file %s is on a read-only file system: it cannot be written "
                 "there (remount it read-write, or give a history file on a writable one)",
                 h->path);
        return APR_FROM_OS_ERROR(EROFS);
    }
    /* Not SQLITE_OPEN_NOFOLLOW: it also refuses symlinked directories on
     * the way (/var/lib/sbtune -> /srv/...), which are fine.  On a
     * read-only file system a reader of a WAL database cannot make the -shm
     * index SQLite's locking needs: nothing can change the file there, so
     * it is opened immutable (rows still in an unmerged -wal file, left by
     * an agent that did not close cleanly, are not seen: sbtune-history(5)). */
    if (rofs) {
        rc = sqlite3_open_v2(apr_pstrcat(p, "file:", uri_path(h->path, p), "?immutable=1",
                                         NULL), &h->db,
                             SQLITE_OPEN_READONLY | SQLITE_OPEN_URI, NULL);
    }
    else {
        rc = sqlite3_open_v2(h->path, &h->db,
                             (flags & SB_HISTORY_WRITE) ? SQLITE_OPEN_READWRITE
                                                        : SQLITE_OPEN_READONLY, NULL);
    }
    apr_pool_cleanup_register(p, h, history_cleanup, apr_pool_cleanup_null);
    if (rc != SQLITE_OK) {
        rv = db_fail(h, rc, "cannot open");
        history_cleanup(h);
        return rv;
    }
    /* SQLite opened the file by name: it must still be the one checked */
    if (lstat(h->path, &st) != 0 || !S_ISREG(st.st_mode) || st.st_dev != h->dev
        || st.st_ino != h->ino) {
        snprintf(h->err, sizeof(h->err),
                 "history file %s was replaced while it was being opened; refusing it",
                 h->path);
        history_cleanup(h);
        return APR_EINVAL;
    }
    if ((flags & SB_HISTORY_WRITE) && sqlite3_db_readonly(h->db, "main") == 1) {
        snprintf(h->err, sizeof(h->err),
                 "history file %s is not writable by this user: check its owner and"
                 " mode (0640, owned by the user sbagent runs as)", h->path);
        history_cleanup(h);
        return APR_EACCES;
    }
    sqlite3_busy_timeout(h->db, h->busy_ms);

    rv = check_integrity(h);
    if (rv == APR_SUCCESS) {
        rv = read_version(h, &version, &ntables);
    }
    if (rv == APR_SUCCESS && version > SB_HISTORY_SCHEMA_VERSION) {
        rv = newer_schema(h, version);
    }
    if (rv == APR_SUCCESS && version < 0 && ntables > 0) {
        rv = not_ours(h);
    }
    if (rv == APR_SUCCESS && !(flags & SB_HISTORY_WRITE)
        && version < SB_HISTORY_SCHEMA_VERSION) {
        if (version < 0) {
            snprintf(h->err, sizeof(h->err),
                     "history file %s is empty: sbagent has not written to it yet",
                     h->path);
        }
        else {
            snprintf(h->err, sizeof(h->err),
                     "history file %s has schema version %d, older than version %d:"
                     " it is migrated when sbagent opens it for writing", h->path,
                     version, SB_HISTORY_SCHEMA_VERSION);
        }
        rv = SB_HISTORY_ESCHEMA;
    }
    if (rv == APR_SUCCESS && (flags & SB_HISTORY_WRITE)) {
        rc = query_int(h, "PRAGMA page_count", 0, &page_count);
        rv = rc == SQLITE_OK ? setup_writer(h, page_count) : db_fail(h, rc, "reading the size");
        if (rv == APR_SUCCESS && version < SB_HISTORY_SCHEMA_VERSION) {
            rv = migrate(h);
        }
        if (rv == APR_SUCCESS) {
            rv = prepare_buffers(h);
        }
    }
    if (rv != APR_SUCCESS) {
        history_cleanup(h);
        return rv;
    }
    for (t = 0; t < T_N; t++) {
        h->select_sql[t] = apr_psprintf(p, "SELECT %s FROM main.%s WHERE ts >= ?1"
                                           " AND ts < ?2 ORDER BY %s",
                                        column_list(p, &tables[t]), tables[t].name,
                                        tables[t].order);
    }
    h->err[0] = '\0';
    return APR_SUCCESS;
}

void sb_history_busy_timeout(sb_history_t *h, int ms)
{
    h->busy_ms = ms < 0 ? 0 : ms;
    if (h->db) {
        sqlite3_busy_timeout(h->db, h->busy_ms);
    }
}

apr_status_t sb_history_max_bytes(sb_history_t *h, apr_off_t max_bytes)
{
    int64_t page_size, pages, got;
    char sql[64];
    int rc;

    if (!h->db) {
        return not_open(h);
    }
    rc = query_int(h, "PRAGMA page_size", 4096, &page_size);
    if (rc == SQLITE_OK) {
        pages = max_bytes > 0 ? (int64_t)max_bytes / page_size : SB_HISTORY_NO_PAGE_CAP;
        if (pages < 1) {
            pages = 1;
        }
        snprintf(sql, sizeof(sql), "PRAGMA max_page_count = %" APR_INT64_T_FMT,
                 (apr_int64_t)pages);
        rc = query_int(h, sql, 0, &got);
    }
    return rc == SQLITE_OK ? APR_SUCCESS : db_fail(h, rc, "setting the size cap");
}

/* ------------------------------------------------------------------ writing */

static const char *source_name(int src)
{
    switch (src) {
    case SB_SOURCE_SHM:
        return "shm";
    case SB_SOURCE_STATUS:
        return "status";
    default:
        return NULL;
    }
}

static int source_from_name(const char *s)
{
    if (s && strcmp(s, "shm") == 0) {
        return SB_SOURCE_SHM;
    }
    if (s && strcmp(s, "status") == 0) {
        return SB_SOURCE_STATUS;
    }
    return SB_UNKNOWN;
}

static int bind_row(sqlite3_stmt *st, const sb_table_t *t, const void *row)
{
    const char *base = row;
    int i, rc = SQLITE_OK;

    for (i = 0; i < t->ncols && rc == SQLITE_OK; i++) {
        const void *f = base + t->cols[i].off;
        int idx = i + 1;
        switch (t->cols[i].type) {
        case COL_TS:
            rc = sqlite3_bind_int64(st, idx, *(const int64_t *)f);
            break;
        case COL_I64: {
            int64_t v = *(const int64_t *)f;
            rc = v < 0 ? sqlite3_bind_null(st, idx) : sqlite3_bind_int64(st, idx, v);
            break;
        }
        case COL_INT:
            rc = sqlite3_bind_int(st, idx, *(const int *)f);
            break;
        case COL_REAL: {
            double d = *(const double *)f;
            rc = isfinite(d) ? sqlite3_bind_double(st, idx, d) : sqlite3_bind_null(st, idx);
            break;
        }
        case COL_SOURCE: {
            const char *s = source_name((int)*(const sb_source_kind_t *)f);
            rc = s ? sqlite3_bind_text(st, idx, s, -1, SQLITE_STATIC)
                   : sqlite3_bind_null(st, idx);
            break;
        }
        case COL_TEXT: {
            const char *s = *(const char *const *)f;
            rc = s ? sqlite3_bind_text(st, idx, s, -1, SQLITE_TRANSIENT)
                   : sqlite3_bind_null(st, idx);
            break;
        }
        case COL_HIST: {
            const sb_hist_t *hh = *(const sb_hist_t *const *)f;
            unsigned char buf[SB_HIST_ENCODED_MAX];
            if (hh) {
                apr_size_t n = sb_hist_encode(hh, buf);
                rc = sqlite3_bind_blob(st, idx, buf, (int)n, SQLITE_TRANSIENT);
            }
            else {
                rc = sqlite3_bind_null(st, idx);
            }
            break;
        }
        default:
            rc = SQLITE_MISUSE;
        }
    }
    return rc;
}

static apr_status_t put_row(sb_history_t *h, int t, const void *row)
{
    sqlite3_stmt *st = h->put[t];
    int rc;

    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    rc = bind_row(st, &tables[t], row);
    if (rc == SQLITE_OK) {
        rc = sqlite3_step(st);
        rc = rc == SQLITE_DONE ? SQLITE_OK : rc;
    }
    sqlite3_reset(st);
    if (rc != SQLITE_OK) {
        return db_fail(h, rc, "buffering a row");
    }
    h->pending[t]++;
    while (h->pending[t] > tables[t].cap) {
        rc = exec_sql(h, h->drop_sql[t]);
        if (rc != SQLITE_OK) {
            return db_fail(h, rc, "dropping the oldest buffered row");
        }
        h->pending[t]--;
        h->dropped++;
    }
    return APR_SUCCESS;
}

static apr_status_t bad_row(sb_history_t *h, const char *what)
{
    snprintf(h->err, sizeof(h->err), "history file %s: invalid row: %s", h->path, what);
    return APR_EINVAL;
}

apr_status_t sb_history_put_second(sb_history_t *h, const sb_hist_second_t *row)
{
    apr_status_t rv = need_writer(h);

    if (rv != APR_SUCCESS) {
        return rv;
    }
    if (!source_name((int)row->source)) {
        return bad_row(h, "second: source is neither shm nor status");
    }
    if (row->samples < 0 || (row->gap != 0 && row->gap != 1)) {
        return bad_row(h, "second: samples < 0 or gap not 0/1");
    }
    return put_row(h, T_SECOND, row);
}

apr_status_t sb_history_put_minute(sb_history_t *h, const sb_hist_minute_t *row)
{
    apr_status_t rv = need_writer(h);

    if (rv != APR_SUCCESS) {
        return rv;
    }
    if (row->ts % 60 != 0) {
        return bad_row(h, "minute: ts is not a multiple of 60");
    }
    if (row->seconds < 0 || row->gap_seconds < 0) {
        return bad_row(h, "minute: negative seconds or gap_seconds");
    }
    return put_row(h, T_MINUTE, row);
}

apr_status_t sb_history_put_event(sb_history_t *h, const sb_hist_event_t *row)
{
    apr_status_t rv = need_writer(h);
    apr_size_t i;

    if (rv != APR_SUCCESS) {
        return rv;
    }
    for (i = 0; row->kind && i < sizeof(event_kinds) / sizeof(event_kinds[0]); i++) {
        if (strcmp(row->kind, event_kinds[i]) == 0) {
            return put_row(h, T_EVENTS, row);
        }
    }
    return bad_row(h, "event: unknown kind (restart, graceful, stop, start, reattach,"
                      " gap, error)");
}

apr_status_t sb_history_put_change(sb_history_t *h, const sb_hist_change_t *row)
{
    apr_status_t rv = need_writer(h);

    if (rv != APR_SUCCESS) {
        return rv;
    }
    if (!row->action || !*row->action) {
        return bad_row(h, "change: no action");
    }
    return put_row(h, T_CHANGES, row);
}

static int by_slot_seconds(const void *a, const void *b)
{
    const sb_hist_client_t *x = a, *y = b;

    if (x->slot_seconds != y->slot_seconds) {
        return x->slot_seconds > y->slot_seconds ? -1 : 1;
    }
    return strcmp(x->client, y->client);
}

apr_status_t sb_history_put_clients(sb_history_t *h, int64_t minute_ts,
                                    const sb_hist_client_t *rows, int n)
{
    apr_status_t rv = need_writer(h);
    sb_hist_client_t *sorted;
    sqlite3_stmt *st = NULL;
    int i, rc;

    if (rv != APR_SUCCESS) {
        return rv;
    }
    if (minute_ts % 60 != 0 || n < 0) {
        return bad_row(h, "clients: minute ts is not a multiple of 60, or n < 0");
    }
    for (i = 0; i < n; i++) {
        if (!rows[i].client || !isfinite(rows[i].slot_seconds)
            || rows[i].slot_seconds < 0 || rows[i].max_slots < 0) {
            return bad_row(h, "clients: no client, or slot_seconds/max_slots unknown"
                              " or negative");
        }
    }
    /* a minute's rows replace what was buffered for it */
    rc = sqlite3_prepare_v2(h->db, "DELETE FROM temp.p_clients WHERE ts = ?1", -1, &st,
                            NULL);
    if (rc == SQLITE_OK) {
        sqlite3_bind_int64(st, 1, minute_ts);
        rc = sqlite3_step(st);
        rc = rc == SQLITE_DONE ? SQLITE_OK : rc;
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_OK) {
        return db_fail(h, rc, "buffering client rows");
    }
    {
        apr_size_t gone = (apr_size_t)sqlite3_changes(h->db);
        h->pending[T_CLIENTS] -= gone < h->pending[T_CLIENTS] ? gone : h->pending[T_CLIENTS];
    }
    if (n == 0) {
        return APR_SUCCESS;
    }
    sorted = malloc(sizeof(*sorted) * (apr_size_t)n);
    if (!sorted) {
        return APR_ENOMEM;
    }
    memcpy(sorted, rows, sizeof(*sorted) * (apr_size_t)n);
    qsort(sorted, (apr_size_t)n, sizeof(*sorted), by_slot_seconds);
    for (i = 0; i < n && i < SB_HISTORY_CLIENTS_PER_MINUTE && rv == APR_SUCCESS; i++) {
        sorted[i].ts = minute_ts;
        rv = put_row(h, T_CLIENTS, &sorted[i]);
    }
    free(sorted);
    return rv;
}

apr_size_t sb_history_pending(const sb_history_t *h)
{
    apr_size_t n = 0;
    int t;

    for (t = 0; t < T_N; t++) {
        n += h->pending[t];
    }
    return n;
}

uint64_t sb_history_dropped(const sb_history_t *h)
{
    return h->dropped;
}

/* After a failed flush: the buffer is what the rollback left. */
static void recount_pending(sb_history_t *h)
{
    int t;

    for (t = 0; t < T_N; t++) {
        int64_t n;
        if (query_int(h, h->count_sql[t], 0, &n) == SQLITE_OK) {
            h->pending[t] = (apr_size_t)n;
        }
    }
}

apr_status_t sb_history_flush(sb_history_t *h)
{
    apr_status_t rv = need_writer(h);
    char what[256];
    int t, rc;

    if (rv != APR_SUCCESS) {
        return rv;
    }
    if (sb_history_pending(h) == 0) {
        return APR_SUCCESS;
    }
    rc = exec_sql(h, "BEGIN IMMEDIATE");
    for (t = 0; t < T_N && rc == SQLITE_OK; t++) {
        if (!h->pending[t]) {
            continue;
        }
        if (t == T_CLIENTS) {
            rc = exec_sql(h, "DELETE FROM main.clients WHERE ts IN"
                             " (SELECT ts FROM temp.p_clients)");
        }
        if (rc == SQLITE_OK) {
            rc = exec_sql(h, h->flush_sql[t]);
        }
        if (rc == SQLITE_OK) {
            rc = exec_sql(h, h->clear_sql[t]);
        }
    }
    if (rc == SQLITE_OK) {
        rc = exec_sql(h, "COMMIT");
    }
    if (rc != SQLITE_OK) {
        snprintf(what, sizeof(what),
                 "writing %lu buffered rows (%llu dropped so far)",
                 (unsigned long)sb_history_pending(h),
                 (unsigned long long)h->dropped);
        rv = db_fail(h, rc, what);
        rollback(h);
        recount_pending(h);
        return rv;
    }
    memset(h->pending, 0, sizeof(h->pending));
    return APR_SUCCESS;
}

/* Run a DELETE of at most one batch until it deletes nothing. */
static apr_status_t prune_table(sb_history_t *h, const char *sql, int64_t cut)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(h->db, sql, -1, &st, NULL);
    apr_status_t rv = APR_SUCCESS;

    while (rc == SQLITE_OK) {
        sqlite3_bind_int64(st, 1, cut);
        rc = sqlite3_step(st);
        sqlite3_reset(st);
        if (rc != SQLITE_DONE) {
            break;
        }
        rc = sqlite3_changes(h->db) > 0 ? SQLITE_OK : SQLITE_DONE;
    }
    if (rc != SQLITE_DONE) {
        rv = db_fail(h, rc, "pruning old rows");
    }
    sqlite3_finalize(st);
    return rv;
}

#define SB_STR(x) SB_STR2(x)
#define SB_STR2(x) #x

apr_status_t sb_history_prune(sb_history_t *h, apr_time_t now, int keep_second_hours,
                              int keep_minute_days)
{
    apr_status_t rv = need_writer(h);
    int64_t now_s = (int64_t)apr_time_sec(now), cut_s, cut_m, free_pages;
    int rc, steps;

    if (rv != APR_SUCCESS) {
        return rv;
    }
    if (keep_second_hours <= 0) {
        keep_second_hours = SB_HISTORY_KEEP_SECOND_HOURS;
    }
    if (keep_minute_days <= 0) {
        keep_minute_days = SB_HISTORY_KEEP_MINUTE_DAYS;
    }
    cut_s = now_s - (int64_t)keep_second_hours * 3600;
    cut_m = now_s - (int64_t)keep_minute_days * 86400;

    rv = prune_table(h, "DELETE FROM main.second WHERE ts IN (SELECT ts FROM main.second"
                        " WHERE ts < ?1 ORDER BY ts LIMIT "
                        SB_STR(SB_HISTORY_PRUNE_BATCH) ")", cut_s);
    if (rv == APR_SUCCESS) {
        /* at most SB_HISTORY_CLIENTS_PER_MINUTE rows per minute: 30 minutes
         * is a batch of at most 960 rows */
        rv = prune_table(h, "DELETE FROM main.clients WHERE ts < ?1 AND ts <"
                            " (SELECT min(ts) FROM main.clients) + 1800", cut_s);
    }
    if (rv == APR_SUCCESS) {
        rv = prune_table(h, "DELETE FROM main.minute WHERE ts IN (SELECT ts FROM"
                            " main.minute WHERE ts < ?1 ORDER BY ts LIMIT "
                            SB_STR(SB_HISTORY_PRUNE_BATCH) ")", cut_m);
    }
    if (rv == APR_SUCCESS) {
        rv = prune_table(h, "DELETE FROM main.events WHERE id IN (SELECT id FROM"
                            " main.events WHERE ts < ?1 ORDER BY ts LIMIT "
                            SB_STR(SB_HISTORY_PRUNE_BATCH) ")", cut_m);
    }
    if (rv != APR_SUCCESS) {
        return rv;
    }
    /* give the freed pages back, a step at a time */
    for (steps = 0; steps < 100000; steps++) {
        rc = query_int(h, "PRAGMA main.freelist_count", 0, &free_pages);
        if (rc == SQLITE_OK && free_pages == 0) {
            break;
        }
        if (rc == SQLITE_OK) {
            rc = exec_sql(h, "PRAGMA main.incremental_vacuum("
                             SB_STR(SB_HISTORY_VACUUM_STEP) ")");
        }
        if (rc != SQLITE_OK) {
            return db_fail(h, rc, "returning freed pages (incremental vacuum)");
        }
    }
    exec_sql(h, "PRAGMA main.wal_checkpoint(PASSIVE)");
    return APR_SUCCESS;
}

apr_status_t sb_history_disk_bytes(sb_history_t *h, apr_off_t *bytes)
{
    struct stat st;

    *bytes = 0;
    if (stat(h->path, &st) != 0) {
        int e = errno;
        snprintf(h->err, sizeof(h->err), "history file %s: %s", h->path, strerror(e));
        return APR_FROM_OS_ERROR(e);
    }
    *bytes = (apr_off_t)st.st_size;
    if (stat(h->wal_path, &st) == 0) {
        *bytes += (apr_off_t)st.st_size;
    }
    return APR_SUCCESS;
}

/* ------------------------------------------------------------------ reading */

apr_status_t sb_history_last_ts(sb_history_t *h, int64_t *ts)
{
    int rc;

    *ts = 0;
    if (!h->db) {
        return not_open(h);
    }
    rc = query_int(h, "SELECT max(ts) FROM main.second", 0, ts);
    return rc == SQLITE_OK ? APR_SUCCESS : db_fail(h, rc, "reading the newest second");
}

static apr_status_t read_row(sb_history_t *h, sqlite3_stmt *st, const sb_table_t *t,
                             void *row)
{
    char *base = row;
    int i, nhist = 0;

    for (i = 0; i < t->ncols; i++) {
        void *f = base + t->cols[i].off;
        int null = sqlite3_column_type(st, i) == SQLITE_NULL;
        switch (t->cols[i].type) {
        case COL_TS:
        case COL_I64:
            *(int64_t *)f = null ? SB_UNKNOWN : sqlite3_column_int64(st, i);
            break;
        case COL_INT:
            *(int *)f = sqlite3_column_int(st, i);
            break;
        case COL_REAL:
            *(double *)f = null ? NAN : sqlite3_column_double(st, i);
            break;
        case COL_SOURCE:
            *(sb_source_kind_t *)f = (sb_source_kind_t)source_from_name(
                null ? NULL : (const char *)sqlite3_column_text(st, i));
            break;
        case COL_TEXT:
            *(const char **)f = null ? NULL : (const char *)sqlite3_column_text(st, i);
            break;
        case COL_HIST:
            *(const sb_hist_t **)f = NULL;
            if (!null) {
                const void *blob = sqlite3_column_blob(st, i);
                int n = sqlite3_column_bytes(st, i);
                if (nhist >= SB_MINUTE_NHIST
                    || sb_hist_decode(&h->hist[nhist], blob, (apr_size_t)n) != APR_SUCCESS) {
                    snprintf(h->err, sizeof(h->err),
                             "history file %s: %s row ts=%" APR_INT64_T_FMT ": column %s"
                             " is not a valid histogram", h->path, t->name,
                             (apr_int64_t)sqlite3_column_int64(st, 0), t->cols[i].name);
                    return SB_HISTORY_ECORRUPT;
                }
                *(const sb_hist_t **)f = &h->hist[nhist++];
            }
            break;
        default:
            break;
        }
    }
    return APR_SUCCESS;
}

typedef struct {
    int table;
    sb_history_second_fn *second;
    sb_history_minute_fn *minute;
    sb_history_event_fn *event;
    sb_history_change_fn *change;
    sb_history_client_fn *client;
    void *baton;
} sb_reader_t;

static apr_status_t iterate(sb_history_t *h, int64_t from, int64_t to, const sb_reader_t *r)
{
    union {
        sb_hist_second_t second;
        sb_hist_minute_t minute;
        sb_hist_event_t event;
        sb_hist_change_t change;
        sb_hist_client_t client;
    } row;
    const sb_table_t *t = &tables[r->table];
    sqlite3_stmt *st = NULL;
    apr_status_t rv = APR_SUCCESS;
    int rc;

    if (!h->db) {
        return not_open(h);
    }
    if (to <= from) {
        return APR_SUCCESS;
    }
    rc = sqlite3_prepare_v2(h->db, h->select_sql[r->table], -1, &st, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_bind_int64(st, 1, from);
        sqlite3_bind_int64(st, 2, to);
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
            memset(&row, 0, sizeof(row));
            rv = read_row(h, st, t, &row);
            if (rv != APR_SUCCESS) {
                break;
            }
            switch (r->table) {
            case T_SECOND:
                rv = r->second(r->baton, &row.second);
                break;
            case T_MINUTE:
                rv = r->minute(r->baton, &row.minute);
                break;
            case T_EVENTS:
                rv = r->event(r->baton, &row.event);
                break;
            case T_CHANGES:
                rv = r->change(r->baton, &row.change);
                break;
            default:
                rv = r->client(r->baton, &row.client);
                break;
            }
            if (rv != APR_SUCCESS) {
                break;
            }
        }
    }
    if (rv == APR_SUCCESS && rc != SQLITE_DONE) {
        char what[64];
        snprintf(what, sizeof(what), "reading table %s", t->name);
        rv = db_fail(h, rc, what);
    }
    sqlite3_finalize(st);
    return rv;
}

apr_status_t sb_history_seconds(sb_history_t *h, int64_t from, int64_t to,
                                sb_history_second_fn *fn, void *baton)
{
    sb_reader_t r = { T_SECOND, fn, NULL, NULL, NULL, NULL, baton };
    return iterate(h, from, to, &r);
}

apr_status_t sb_history_minutes(sb_history_t *h, int64_t from, int64_t to,
                                sb_history_minute_fn *fn, void *baton)
{
    sb_reader_t r = { T_MINUTE, NULL, fn, NULL, NULL, NULL, baton };
    return iterate(h, from, to, &r);
}

apr_status_t sb_history_events(sb_history_t *h, int64_t from, int64_t to,
                               sb_history_event_fn *fn, void *baton)
{
    sb_reader_t r = { T_EVENTS, NULL, NULL, fn, NULL, NULL, baton };
    return iterate(h, from, to, &r);
}

apr_status_t sb_history_changes(sb_history_t *h, int64_t from, int64_t to,
                                sb_history_change_fn *fn, void *baton)
{
    sb_reader_t r = { T_CHANGES, NULL, NULL, NULL, fn, NULL, baton };
    return iterate(h, from, to, &r);
}

apr_status_t sb_history_clients(sb_history_t *h, int64_t from, int64_t to,
                                sb_history_client_fn *fn, void *baton)
{
    sb_reader_t r = { T_CLIENTS, NULL, NULL, NULL, NULL, fn, baton };
    return iterate(h, from, to, &r);
}
