/*
 * sbtop_screen.c - the frame of every sbtop screen: the header, the notice
 * line, the view below them, the footer and the help overlay (generated
 * from the key table).
 */
#include "config.h"
#include <curses.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <apr_strings.h>

#include "sbtop.h"
#include "sbtop_draw.h"
#include "sbtop_keys.h"

/* ------------------------------------------------------------ header */

static int draw_header(sbt_canvas_t *cv, const sbt_app_t *app, int y)
{
    const sb_sample_t *s = app->sample;
    char buf[512], t[32], u[32];
    time_t now = time(NULL);
    struct tm tm;
    int x, clock_on_top;

    sbt_cv_bar(cv, y, SBT_ST_TITLE);
    localtime_r(&now, &tm);
    strftime(t, sizeof(t), "%H:%M:%S", &tm);
    if (app->replay) {
        time_t at = (time_t)app->at;
        char when[64];
        sbt_foot_item_t items[SBT_FOOT_MAX];
        int n;
        localtime_r(&at, &tm);
        strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", &tm);
        snprintf(buf, sizeof(buf), "sbtop%sREPLAY %s (%lld)%s%s", sbt_sep(cv), when,
                 (long long)app->at, sbt_sep(cv), app->history_path);
        sbt_cv_put(cv, y, 0, SBT_ST_TITLE, buf);
        y++;
        sbt_cv_clear_line(cv, y);
        if (app->have_row) {
            snprintf(buf, sizeof(buf), "source %s%sgeneration %lld%s%d samples in this second",
                     sb_source_name(app->row.source), sbt_sep(cv), (long long)app->row.generation,
                     sbt_sep(cv), app->row.samples);
        }
        else {
            snprintf(buf, sizeof(buf), "nothing recorded at this second");
        }
        x = sbt_cv_put(cv, y, 0, SBT_ST_NORMAL, buf);
        n = sbt_foot_items(items, SBT_FOOT_MAX, app->view, 1);
        sbt_foot_join(buf, sizeof(buf), items, n, SBT_FOOT_REPLAY, " ", ", ");
        sbt_cv_printf(cv, y, x, SBT_ST_DIM, "%s%s", sbt_sep(cv), buf);
        return y + 1;
    }
    if (s) {
        snprintf(buf, sizeof(buf), "sbtop%s%s%smpm %s%sup %s%sgen %d", sbt_sep(cv),
                 s->server.version[0] ? s->server.version : "httpd version unknown", sbt_sep(cv),
                 s->server.mpm[0] ? s->server.mpm : "unknown", sbt_sep(cv),
                 sbt_fdur(s->server.uptime_s, u, sizeof(u)), sbt_sep(cv), s->server.generation);
    }
    else {
        snprintf(buf, sizeof(buf), "sbtop%swaiting for the first sample", sbt_sep(cv));
    }
    x = sbt_cv_put(cv, y, 0, SBT_ST_TITLE, buf);
    clock_on_top = x + 20 <= cv->cols;
    if (app->paused) {
        sbt_cv_put(cv, y, clock_on_top ? cv->cols - 19 : cv->cols - 8, SBT_ST_WARN, " PAUSED ");
    }
    if (clock_on_top) {
        sbt_cv_put(cv, y, cv->cols - 9, SBT_ST_TITLE, t);
    }
    y++;
    sbt_cv_clear_line(cv, y);
    if (app->shm_hz > 0 && strcmp(app->source_label, "shm") == 0) {
        snprintf(buf, sizeof(buf), "source shm %g Hz", app->shm_hz);
    }
    else {
        snprintf(buf, sizeof(buf), "source %s", app->source_label);
    }
    x = sbt_cv_put(cv, y, 0, SBT_ST_BOLD, buf);
    snprintf(buf, sizeof(buf), "%srefresh %gs", sbt_sep(cv), app->delay);
    x += sbt_cv_put(cv, y, x, SBT_ST_NORMAL, buf);
    if (s) {
        if (s->server.server_limit > 0) {
            snprintf(buf, sizeof(buf), cv->cols >= 100 ? "%s%d slots: ServerLimit %d x "
                     "ThreadLimit %d" : "%s%d slots (%dx%d)", sbt_sep(cv), s->nworkers,
                     s->server.server_limit, s->server.thread_limit);
        }
        else {
            snprintf(buf, sizeof(buf), "%s%d slots", sbt_sep(cv), s->nworkers);
        }
        x += sbt_cv_put(cv, y, x, SBT_ST_NORMAL, buf);
        if (app->max_workers > 0) {
            snprintf(buf, sizeof(buf), "%sMaxRequestWorkers %d", sbt_sep(cv), app->max_workers);
            x += sbt_cv_put(cv, y, x, SBT_ST_NORMAL, buf);
        }
    }
    if (!clock_on_top) {
        snprintf(buf, sizeof(buf), "%s%s", sbt_sep(cv), t);
        sbt_cv_put(cv, y, x, SBT_ST_NORMAL, buf);
    }
    return y + 1;
}

static int draw_notice(sbt_canvas_t *cv, const sbt_app_t *app, int y)
{
    char buf[600];
    apr_time_t now = apr_time_now();

    sbt_cv_clear_line(cv, y);
    if (app->replay) {
        if (app->events_text[0]) {
            snprintf(buf, sizeof(buf), "events within a minute: %s", app->events_text);
            sbt_cv_put(cv, y, 0, SBT_ST_NOTICE, buf);
        }
        return y + 1;
    }
    if (app->down) {
        snprintf(buf, sizeof(buf), "httpd stopped %s retrying: %s", sbt_dash(cv), app->down_msg);
        sbt_cv_put(cv, y, 0, SBT_ST_WARN, buf);
    }
    else if (app->notice[0] && now - app->notice_ts < apr_time_from_sec(120)) {
        sbt_cv_put(cv, y, 0, app->notice_level == SBT_WARN ? SBT_ST_NOTICE : SBT_ST_BOLD,
                   app->notice);
    }
    else if (app->sample && app->sample->extended_status == 0) {
        sbt_cv_put(cv, y, 0, SBT_ST_NOTICE, "ExtendedStatus is Off: requests/s, clients and "
                   "requests are unknown");
    }
    return y + 1;
}

/* ------------------------------------------------------------ help */

void sbt_draw_help(sbt_canvas_t *cv)
{
    sbt_help_line_t lines[SBT_HELP_MAX];
    int nl = sbt_help_lines(lines, SBT_HELP_MAX);
    int w = cv->cols - 4 < 78 ? cv->cols - 4 : 78, h = nl + 6, y0, x0, i, y;

    if (h > cv->rows - 2) {
        h = cv->rows - 2;
    }
    y0 = (cv->rows - h) / 2;
    x0 = (cv->cols - w) / 2;
    for (i = 0; i < h; i++) {
        char buf[256];
        int n = w < (int)sizeof(buf) - 1 ? w : (int)sizeof(buf) - 1;
        memset(buf, ' ', (apr_size_t)n);
        buf[n] = '\0';
        if (cv->ascii || !cv->curses) {
            if (i == 0 || i == h - 1) {
                memset(buf, '-', (apr_size_t)n);
            }
            buf[0] = buf[n - 1] = (i == 0 || i == h - 1) ? '+' : '|';
        }
        sbt_cv_put(cv, y0 + i, x0, SBT_ST_NORMAL, buf);
    }
    if (cv->curses && !cv->ascii) {
        WINDOW *win = stdscr;
        attrset(A_NORMAL);
        mvwaddch(win, y0, x0, ACS_ULCORNER);
        mvwhline(win, y0, x0 + 1, ACS_HLINE, w - 2);
        mvwaddch(win, y0, x0 + w - 1, ACS_URCORNER);
        mvwvline(win, y0 + 1, x0, ACS_VLINE, h - 2);
        mvwvline(win, y0 + 1, x0 + w - 1, ACS_VLINE, h - 2);
        mvwaddch(win, y0 + h - 1, x0, ACS_LLCORNER);
        mvwhline(win, y0 + h - 1, x0 + 1, ACS_HLINE, w - 2);
        mvwaddch(win, y0 + h - 1, x0 + w - 1, ACS_LRCORNER);
    }
    sbt_cv_put(cv, y0, x0 + 2, SBT_ST_BOLD, " sbtop keys ");
    y = y0 + 1;
    for (i = 0; i < nl && y < y0 + h - 2; i++) {
        char buf[256];
        apr_size_t n = sbt_u8_prefix(lines[i].help, w - 14);
        if (lines[i].replay_only && (i == 0 || !lines[i - 1].replay_only)) {
            sbt_cv_put(cv, y++, x0 + 2, SBT_ST_DIM, "with --history and --at (replay):");
        }
        sbt_cv_printf(cv, y, x0 + 2, SBT_ST_BOLD, "%-8s", lines[i].label);
        snprintf(buf, sizeof(buf), "%.*s", (int)n, lines[i].help);
        sbt_cv_put(cv, y, x0 + 11, SBT_ST_NORMAL, buf);
        y++;
    }
    sbt_cv_put(cv, y0 + h - 2, x0 + 2, SBT_ST_DIM, "any key closes this help");
}

/* ------------------------------------------------------------ screen */

void sbt_draw_footer(sbt_canvas_t *cv, const sbt_app_t *app, int y)
{
    sbt_foot_item_t items[SBT_FOOT_MAX];
    int n = sbt_foot_items(items, SBT_FOOT_MAX, app->view, app->replay);
    char keys[512];

    sbt_cv_bar(cv, y, SBT_ST_TITLE);
    sbt_foot_join(keys, sizeof(keys), items, n, SBT_FOOT_VIEW | SBT_FOOT_ACT | SBT_FOOT_GLOBAL
                  | SBT_FOOT_REPLAY, " ", "  ");
    sbt_cv_printf(cv, y, 0, SBT_ST_TITLE, "[%s] %s", sbt_views[app->view].name, keys);
}

/* The figures of the gauges on one line, above a view other than the
 * dashboard. */
static int draw_summary(sbt_canvas_t *cv, const sbt_app_t *app, int y)
{
    sbt_totals_t t;
    char v[7][32];

    sbt_totals(app, &t);
    sbt_cv_printf(cv, y, 0, SBT_ST_NORMAL, "busy %s/%s  keep-alive %s  idle %s  open %s%s"
                  "requests/s %s  arrivals/s %s", sbt_fnum(t.busy, v[0], 32),
                  sbt_fnum(t.total, v[1], 32), sbt_fnum(t.ka, v[2], 32),
                  sbt_fnum(t.idle, v[3], 32), sbt_fnum(t.open, v[4], 32), sbt_sep(cv),
                  sbt_fnum(sbt_ring_mean(app, SBT_R_REQ, 1, NULL), v[5], 32),
                  sbt_fnum(sbt_ring_mean(app, SBT_R_CONN, 1, NULL), v[6], 32));
    return y + 1;
}

void sbt_render(sbt_canvas_t *cv, const sbt_app_t *app)
{
    const sbt_view_t *v = &sbt_views[app->view];
    apr_pool_t *p;
    int y = 0, end = cv->curses ? cv->rows - 1 : cv->rows;

    apr_pool_create(&p, app->pool);
    if (cv->curses) {
        erase();
    }
    y = draw_header(cv, app, y);
    y = draw_notice(cv, app, y);
    if (!app->replay && !app->sample) {
        sbt_cv_put(cv, y + 1, 2, SBT_ST_NORMAL, "waiting for the first sample...");
    }
    else {
        if (v->summary) {
            y = draw_summary(cv, app, y);
        }
        v->draw(cv, app, y, end, p);
    }
    if (cv->curses) {
        sbt_draw_footer(cv, app, cv->rows - 1);
        if (app->help) {
            sbt_draw_help(cv);
        }
    }
    apr_pool_destroy(p);
}
