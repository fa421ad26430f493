/*
 * sbtop.h - what sbtop's files share: the application state, the drawing
 * surface (ncurses screen or a plain-text frame), the view table and the
 * entry points of the sources, the replay and the renderer.
 */
#ifndef SBTOP_H
#define SBTOP_H

#include <stdint.h>
#include <stdio.h>
#include <apr_pools.h>
#include <apr_time.h>

#include "sb_config.h"
#include "sb_estimator.h"
#include "sb_history.h"
#include "sb_sample.h"
#include "sbtop_keys.h"

#include "sb_exit.h"        /* the exit codes, documented in sbtop(1) */

/* Seconds kept for the sparklines and the capacity line. */
#define SBT_RING 600

/* Sort columns of the workers view. */
typedef enum {
    SBT_SORT_STATE = 0,
    SBT_SORT_SECONDS,
    SBT_SORT_REQUESTS,
    SBT_SORT_CLIENT,
    SBT_SORT_SLOT,
    SBT_NSORTS
} sbt_sort_t;

/* One closed second, live (from sb_estimator) or replayed (from history). */
typedef struct {
    int64_t ts;
    int gap;                    /* no sample in this second */
    double busy, idle, open;    /* slot means (busy: BusyWorkers rule) */
    double ka_slots;            /* slots in K */
    double ka_conns;            /* idle keep-alive connections, NaN w/o kernel */
    double req, conn;           /* requests/s, arrivals/s; NaN unknown */
    double accepted;            /* connections httpd accepted/s; NaN unknown */
    double queue;               /* accept queue max, NaN unknown */
    double hold_sum;            /* slot hold observations of this second */
    int hold_n;
    int slots_total;
} sbt_sec_t;

/* Notice levels. */
enum { SBT_INFO = 0, SBT_WARN = 1 };

typedef struct {
    /* settings */
    const sb_config_t *cfg;
    int batch;
    long iterations;            /* -n; 0 = unlimited */
    double delay;               /* seconds between redraws / frames */
    int ascii;
    int color;
    double ka_timeout;          /* --keepalive-timeout, < 0 unknown */
    int max_workers_opt;        /* --max-request-workers, 0 unknown */
    int width, height;          /* batch frame width (height unbounded) */

    /* interaction */
    int view;                   /* index into sbt_views */
    int help;
    int paused;
    sbt_sort_t sort;
    int sort_reverse;
    int quit;

    /* live data */
    apr_pool_t *pool;
    apr_pool_t *spool[2];       /* double-buffered sample pools */
    int scur;
    sb_sample_t *sample;        /* latest sample, NULL before the first */
    int max_workers;            /* MaxRequestWorkers known, 0 unknown */
    int max_workers_from_status;
    int have_kernel;            /* a kernel view was taken */
    double k_queue, k_idle_ka, k_established;
    sbt_sec_t ring[SBT_RING];
    int ring_n, ring_head;      /* head: index of the newest */
    sb_hist_t ka_gap;           /* idle gaps ended by a request, since start */
    uint64_t ka_close_n;
    double hold_sum_all;
    uint64_t hold_n_all;
    const char *source_label;   /* "shm", "status", "status (fallback)" */
    int down;                   /* httpd unreachable */
    char down_msg[256];
    char notice[256];           /* latest notice, shown for a while */
    int notice_level;
    apr_time_t notice_ts;
    apr_time_t last_restart_ts; /* when the last restart was seen */
    int samples_taken;
    double shm_hz;

    /* replay */
    int replay;
    const char *history_path;
    sb_history_t *history;
    apr_pool_t *rpool;
    int64_t at;                 /* replayed second */
    int have_row;
    sb_hist_second_t row;       /* the row at 'at' */
    int64_t nearest_before, nearest_after; /* 0 none */
    int nrows_near;
    sb_hist_second_t near[11];  /* at-5 .. at+5 (ts 0: none) */
    char events_text[256];
    int nclients;
    struct {
        char client[64];
        double slot_seconds;
        int max_slots;
    } clients[16];
    double replay_hold_mean;    /* NaN unknown */
    uint64_t replay_hold_n;
} sbt_app_t;

/* ------------------------------------------------------------ canvas */

/* Text styles; the renderer maps them to colours or monochrome attributes. */
typedef enum {
    SBT_ST_NORMAL = 0,
    SBT_ST_BOLD,
    SBT_ST_DIM,
    SBT_ST_TITLE,
    SBT_ST_WARN,
    SBT_ST_NOTICE,
    SBT_ST_GOOD,
    SBT_ST_BAR_BUSY,
    SBT_ST_BAR_KA,
    SBT_ST_BAR_IDLE,
    SBT_ST_BAR_OPEN,
    SBT_ST_SPARK,
    SBT_ST_SLOT0                /* + sb_slot_state_t */
} sbt_style_t;

#define SBT_NSTYLES (SBT_ST_SLOT0 + 11)

typedef struct {
    int curses;                 /* 1: stdscr; 0: text lines */
    int rows, cols;
    int ascii;
    char **line;                /* text mode: rows lines of cols bytes */
    int used;                   /* text mode: rows written */
} sbt_canvas_t;

/* ------------------------------------------------------------ views */

#define SBT_VIEW_ACTS 4

/* A view of the screen: what switches to it, what acts in it, how it is
 * drawn.  A new view is a row of sbt_views (sbtop_views.c) and its draw
 * function; the footer, the help and the dispatch follow from the row. */
typedef struct {
    const char *name;           /* the footer's "[name]" */
    int keys[SBT_KEY_MAX];      /* switch to the view; unused entries 0 */
    const char *label;          /* how the help names the keys */
    const char *footer;         /* "KEY WORD" in the footer */
    const char *help;
    int summary;                /* a line of the gauges' figures above it */
    /* the keys acting in this view only (pressing one switches to it),
     * ended by SBT_ACT_NONE when fewer than SBT_VIEW_ACTS */
    sbt_action_t acts[SBT_VIEW_ACTS];
    /* draw from line y, above line end (a text canvas has no footer and
     * may be written beyond it), allocating from p; returns the next line */
    int (*draw)(sbt_canvas_t *cv, const sbt_app_t *app, int y, int end, apr_pool_t *p);
} sbt_view_t;

/* The views in the order of the footer and the help; sbtop starts in the
 * first. */
extern const sbt_view_t sbt_views[];
extern const int sbt_nviews;

/* ------------------------------------------------------------ draw */

/* Set up the colour pairs (after start_color) for colour or monochrome. */
void sbt_draw_init_colors(int color);

/* Text canvas of cols columns and at most rows lines from p. */
void sbt_canvas_text(sbt_canvas_t *cv, int rows, int cols, apr_pool_t *p);

/* Print the lines written on a text canvas (right-trimmed) to out. */
void sbt_canvas_print(const sbt_canvas_t *cv, FILE *out);

/* Draw the whole screen (or one batch frame) of the app's current state. */
void sbt_render(sbt_canvas_t *cv, const sbt_app_t *app);

/* ------------------------------------------------------------ sources */

/* Prepare the live sources.  Returns 0 or -1 with a message in err. */
int sbt_source_init(sbt_app_t *app, char *err, apr_size_t errlen);

/* Run the samplers whose deadline has come; returns the time of the next
 * deadline. */
apr_time_t sbt_source_poll(sbt_app_t *app, apr_time_t now);

/* Close seconds that ended (called before a redraw). */
void sbt_source_tick(sbt_app_t *app, apr_time_t now);

void sbt_source_close(sbt_app_t *app);

/* Set a notice shown under the header. */
void sbt_notice(sbt_app_t *app, int level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Append a closed second to the ring. */
void sbt_ring_push(sbt_app_t *app, const sbt_sec_t *s);

/* The i-th newest second of the ring (0 = newest), NULL beyond. */
const sbt_sec_t *sbt_ring_get(const sbt_app_t *app, int i);

/* ------------------------------------------------------------ replay */

/* Parse TIME ("1714567890", "YYYY-MM-DD HH:MM[:SS]" local, "last" with
 * last_ts) into unix seconds.  Returns 0 or -1. */
int sbt_parse_time(const char *s, int64_t last_ts, int64_t *out);

/* Open the history for replay.  Returns 0 or -1 with a message in err
 * (exit code in *rc). */
int sbt_replay_open(sbt_app_t *app, const char *at, char *err, apr_size_t errlen, int *rc);

/* Load what the history holds around app->at (after a step). */
void sbt_replay_load(sbt_app_t *app);

#endif
