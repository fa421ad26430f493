/*
 * sbtop_draw.h - what sbtop's drawing files share: the canvas primitives
 * and number formats (sbtop_canvas.c), the rate figures and gauge totals
 * of the dashboard (sbtop_dash.c), and the draw functions of the views.
 * sbtop.h has the canvas type and the entry points the UI loop calls.
 */
#ifndef SBTOP_DRAW_H
#define SBTOP_DRAW_H

#include <apr_pools.h>

#include "sbtop.h"

/* ------------------------------------------------------------ canvas */

/* Bytes of the UTF-8 string s that fit in n columns. */
apr_size_t sbt_u8_prefix(const char *s, int n);

/* Put s at (y, x) in style st, cut at the right edge; returns the columns
 * written (0 outside the canvas). */
int sbt_cv_put(sbt_canvas_t *cv, int y, int x, sbt_style_t st, const char *s);

/* sbt_cv_put of a formatted string (at most 1023 bytes). */
int sbt_cv_printf(sbt_canvas_t *cv, int y, int x, sbt_style_t st, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* Fill line y with spaces in style st (for title bars). */
void sbt_cv_bar(sbt_canvas_t *cv, int y, sbt_style_t st);

/* Clear line y of the curses screen (a text canvas starts blank). */
void sbt_cv_clear_line(sbt_canvas_t *cv, int y);

/* Word-wrap text into at most maxlines lines from (y, x); returns the
 * lines used (0 when fewer than 10 columns are left). */
int sbt_cv_wrap(sbt_canvas_t *cv, int y, int x, int maxlines, sbt_style_t st,
                const char *text);

/* A bar of width columns at (y, x), the share frac (0..1, NaN empty)
 * filled in style st, the rest dotted dim. */
void sbt_draw_bar(sbt_canvas_t *cv, int y, int x, int width, double frac, sbt_style_t st);

/* ------------------------------------------------------------ formats */

/* The formatters write into buf (len bytes) and return it. */

/* v with one decimal below 100 unless whole; "-" for NaN. */
const char *sbt_fnum(double v, char *buf, apr_size_t len);

/* A duration of s seconds as "42s", "3m07s", "5h02m", "2d04h"; "?" if < 0. */
const char *sbt_fdur(int64_t s, char *buf, apr_size_t len);

/* Seconds with a unit: "250 us", "12 ms", "1.50 s", "12.5 s"; "-" for NaN. */
const char *sbt_fsecs(double s, char *buf, apr_size_t len);

/* Field separator (" | " or a box-drawing bar) and dash for the canvas. */
const char *sbt_sep(const sbt_canvas_t *cv);
const char *sbt_dash(const sbt_canvas_t *cv);

/* Copy src to dst (len bytes) with every byte outside printable ASCII
 * replaced by '?' (client addresses and request lines come from httpd). */
void sbt_clean(char *dst, const char *src, apr_size_t len);

/* ------------------------------------------------------------ figures */

/* Per-second figures of the ring. */
typedef enum { SBT_R_REQ, SBT_R_CONN, SBT_R_BUSY, SBT_R_KA, SBT_R_ACCEPTED, SBT_R_QUEUE } sbt_rate_t;

/* Mean of figure r over the newest n seconds of the ring, NaN when none is
 * known; the maximum in *maxv when maxv is not NULL. */
double sbt_ring_mean(const sbt_app_t *app, sbt_rate_t r, int n, double *maxv);

/* What the gauges count: slots busy, in keep-alive, idle and open, out of
 * total (named total_name); NaN when unknown. */
typedef struct {
    double busy, ka, idle, open, total;
    const char *total_name;
} sbt_totals_t;

/* The gauge totals of the latest sample or replayed second. */
void sbt_totals(const sbt_app_t *app, sbt_totals_t *t);

/* ------------------------------------------------------------ frame */

/* The footer of the current view on line y: its name and the keys of the
 * footer items (sbt_foot_items), cut at the right edge. */
void sbt_draw_footer(sbt_canvas_t *cv, const sbt_app_t *app, int y);

/* The help overlay, centred: the help lines of the key table
 * (sbt_help_lines), each cut to the box. */
void sbt_draw_help(sbt_canvas_t *cv);

/* ------------------------------------------------------------ views */

/* The draw functions of the views: draw from line y, above line end (a
 * text canvas may be written beyond end: it has no footer), allocating
 * from p; return the next free line. */
int sbt_dash_draw(sbt_canvas_t *cv, const sbt_app_t *app, int y, int end, apr_pool_t *p);
int sbt_workers_draw(sbt_canvas_t *cv, const sbt_app_t *app, int y, int end, apr_pool_t *p);
int sbt_clients_draw(sbt_canvas_t *cv, const sbt_app_t *app, int y, int end, apr_pool_t *p);
int sbt_gaps_draw(sbt_canvas_t *cv, const sbt_app_t *app, int y, int end, apr_pool_t *p);

#endif
