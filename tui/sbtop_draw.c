/*
 * sbtop_draw.c - sbtop's screens, drawn on a canvas that is either the
 * curses screen or the lines of a plain-text batch frame: header, notice,
 * slot map, gauges, sparklines, the capacity line, the views and the help
 * overlay (generated from the key table).
 */
#include "config.h"
#include <curses.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <apr_strings.h>

#include "sb_slot.h"
#include "sbtop.h"
#include "sbtop_keys.h"

static attr_t style_attr[SBT_NSTYLES];

enum {
    PAIR_RED = 1, PAIR_GREEN, PAIR_YELLOW, PAIR_BLUE, PAIR_MAGENTA, PAIR_CYAN,
    PAIR_TITLE, PAIR_NOTICE, PAIR_WARN
};

void sbt_draw_init_colors(int color)
{
    int i;

    for (i = 0; i < SBT_NSTYLES; i++) {
        style_attr[i] = A_NORMAL;
    }
    style_attr[SBT_ST_BOLD] = A_BOLD;
    style_attr[SBT_ST_DIM] = A_DIM;
    if (!color) {
        style_attr[SBT_ST_TITLE] = A_REVERSE;
        style_attr[SBT_ST_WARN] = A_BOLD | A_REVERSE;
        style_attr[SBT_ST_NOTICE] = A_BOLD;
        style_attr[SBT_ST_BAR_BUSY] = A_BOLD;
        style_attr[SBT_ST_SLOT0 + SB_SLOT_DEAD] = A_DIM;
        style_attr[SBT_ST_SLOT0 + SB_SLOT_WRITE] = A_BOLD;
        style_attr[SBT_ST_SLOT0 + SB_SLOT_READ] = A_BOLD;
        style_attr[SBT_ST_SLOT0 + SB_SLOT_KEEPALIVE] = A_REVERSE;
        style_attr[SBT_ST_SLOT0 + SB_SLOT_GRACEFUL] = A_UNDERLINE;
        return;
    }
    use_default_colors();
    init_pair(PAIR_RED, COLOR_RED, -1);
    init_pair(PAIR_GREEN, COLOR_GREEN, -1);
    init_pair(PAIR_YELLOW, COLOR_YELLOW, -1);
    init_pair(PAIR_BLUE, COLOR_BLUE, -1);
    init_pair(PAIR_MAGENTA, COLOR_MAGENTA, -1);
    init_pair(PAIR_CYAN, COLOR_CYAN, -1);
    init_pair(PAIR_TITLE, COLOR_BLACK, COLOR_CYAN);
    init_pair(PAIR_NOTICE, COLOR_BLACK, COLOR_YELLOW);
    init_pair(PAIR_WARN, COLOR_WHITE, COLOR_RED);
    style_attr[SBT_ST_TITLE] = COLOR_PAIR(PAIR_TITLE);
    style_attr[SBT_ST_WARN] = COLOR_PAIR(PAIR_WARN) | A_BOLD;
    style_attr[SBT_ST_NOTICE] = COLOR_PAIR(PAIR_NOTICE);
    style_attr[SBT_ST_GOOD] = COLOR_PAIR(PAIR_GREEN);
    style_attr[SBT_ST_BAR_BUSY] = COLOR_PAIR(PAIR_RED) | A_BOLD;
    style_attr[SBT_ST_BAR_KA] = COLOR_PAIR(PAIR_MAGENTA) | A_BOLD;
    style_attr[SBT_ST_BAR_IDLE] = COLOR_PAIR(PAIR_GREEN);
    style_attr[SBT_ST_BAR_OPEN] = A_DIM;
    style_attr[SBT_ST_SPARK] = COLOR_PAIR(PAIR_CYAN);
    style_attr[SBT_ST_SLOT0 + SB_SLOT_DEAD] = A_DIM;
    style_attr[SBT_ST_SLOT0 + SB_SLOT_STARTING] = COLOR_PAIR(PAIR_CYAN);
    style_attr[SBT_ST_SLOT0 + SB_SLOT_READY] = COLOR_PAIR(PAIR_GREEN);
    style_attr[SBT_ST_SLOT0 + SB_SLOT_READ] = COLOR_PAIR(PAIR_CYAN) | A_BOLD;
    style_attr[SBT_ST_SLOT0 + SB_SLOT_WRITE] = COLOR_PAIR(PAIR_YELLOW) | A_BOLD;
    style_attr[SBT_ST_SLOT0 + SB_SLOT_KEEPALIVE] = COLOR_PAIR(PAIR_MAGENTA) | A_BOLD;
    style_attr[SBT_ST_SLOT0 + SB_SLOT_LOG] = COLOR_PAIR(PAIR_BLUE) | A_BOLD;
    style_attr[SBT_ST_SLOT0 + SB_SLOT_DNS] = COLOR_PAIR(PAIR_BLUE) | A_BOLD;
    style_attr[SBT_ST_SLOT0 + SB_SLOT_CLOSING] = COLOR_PAIR(PAIR_BLUE) | A_BOLD;
    style_attr[SBT_ST_SLOT0 + SB_SLOT_GRACEFUL] = COLOR_PAIR(PAIR_RED);
    style_attr[SBT_ST_SLOT0 + SB_SLOT_IDLE_KILL] = COLOR_PAIR(PAIR_RED);
}

/* ------------------------------------------------------------ canvas */

void sbt_canvas_text(sbt_canvas_t *cv, int rows, int cols, apr_pool_t *p)
{
    int i;

    memset(cv, 0, sizeof(*cv));
    cv->rows = rows;
    cv->cols = cols;
    cv->ascii = 1;
    cv->line = apr_palloc(p, sizeof(char *) * (apr_size_t)rows);
    for (i = 0; i < rows; i++) {
        cv->line[i] = apr_palloc(p, (apr_size_t)cols + 1);
        memset(cv->line[i], ' ', (apr_size_t)cols);
        cv->line[i][cols] = '\0';
    }
}

void sbt_canvas_print(const sbt_canvas_t *cv, FILE *out)
{
    int i;

    for (i = 0; i < cv->used; i++) {
        int n = cv->cols;
        while (n > 0 && cv->line[i][n - 1] == ' ') {
            n--;
        }
        fprintf(out, "%.*s\n", n, cv->line[i]);
    }
}

/* Display columns of a UTF-8 string (every glyph sbtop draws is one column). */
static int u8_width(const char *s)
{
    int w = 0;
    for (; *s; s++) {
        if (((unsigned char)*s & 0xC0) != 0x80) {
            w++;
        }
    }
    return w;
}

/* Bytes of s that fit in n columns. */
static apr_size_t u8_prefix(const char *s, int n)
{
    apr_size_t b = 0;
    int w = 0;

    while (s[b]) {
        if (((unsigned char)s[b] & 0xC0) != 0x80) {
            if (w == n) {
                break;
            }
            w++;
        }
        b++;
    }
    return b;
}

/* Put s at (y, x) in style st, cut at the right edge; returns the columns
 * written. */
static int cv_put(sbt_canvas_t *cv, int y, int x, sbt_style_t st, const char *s)
{
    int room, w;
    apr_size_t n;

    if (y < 0 || y >= cv->rows || x < 0 || x >= cv->cols) {
        return 0;
    }
    room = cv->cols - x;
    n = u8_prefix(s, room);
    w = u8_width(s);
    if (w > room) {
        w = room;
    }
    if (cv->curses) {
        attrset(style_attr[st]);
        mvaddnstr(y, x, s, (int)n);
        attrset(A_NORMAL);
    }
    else {
        apr_size_t i;
        int col = x;
        for (i = 0; i < n; i++) {
            unsigned char c = (unsigned char)s[i];
            if ((c & 0xC0) == 0x80) {
                continue;
            }
            cv->line[y][col++] = c >= 0x20 && c < 0x7f ? (char)c : '?';
        }
        if (y + 1 > cv->used) {
            cv->used = y + 1;
        }
    }
    return w;
}

static int cv_printf(sbt_canvas_t *cv, int y, int x, sbt_style_t st, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static int cv_printf(sbt_canvas_t *cv, int y, int x, sbt_style_t st, const char *fmt, ...)
{
    char buf[1024];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    return cv_put(cv, y, x, st, buf);
}

/* Fill a whole line with style st (for title bars). */
static void cv_bar(sbt_canvas_t *cv, int y, sbt_style_t st)
{
    char buf[1024];
    int n = cv->cols < (int)sizeof(buf) - 1 ? cv->cols : (int)sizeof(buf) - 1;

    memset(buf, ' ', (apr_size_t)n);
    buf[n] = '\0';
    cv_put(cv, y, 0, st, buf);
}

static void cv_clear_line(sbt_canvas_t *cv, int y)
{
    if (cv->curses && y >= 0 && y < cv->rows) {
        move(y, 0);
        clrtoeol();
    }
}

/* Word-wrap text into at most maxlines lines from (y, x); returns lines used. */
static int cv_wrap(sbt_canvas_t *cv, int y, int x, int maxlines, sbt_style_t st,
                   const char *text)
{
    int width = cv->cols - x, used = 0;
    const char *p = text;
    char buf[1024];

    if (width < 10) {
        return 0;
    }
    while (*p && used < maxlines) {
        apr_size_t n = u8_prefix(p, width);
        if (p[n] && used + 1 < maxlines) {
            apr_size_t cut = n;
            while (cut > 0 && p[cut] != ' ') {
                cut--;
            }
            if (cut > 0) {
                n = cut;
            }
        }
        if (n >= sizeof(buf)) {
            n = sizeof(buf) - 1;
        }
        memcpy(buf, p, n);
        buf[n] = '\0';
        cv_put(cv, y + used, x, st, buf);
        used++;
        p += n;
        while (*p == ' ') {
            p++;
        }
    }
    return used;
}

/* ------------------------------------------------------------ formatting */

static const char *fnum(double v, char *buf, apr_size_t len)
{
    if (isnan(v)) {
        snprintf(buf, len, "-");
    }
    else if (fabs(v) >= 100 || v == floor(v)) {
        snprintf(buf, len, "%.0f", v);
    }
    else {
        snprintf(buf, len, "%.1f", v);
    }
    return buf;
}

static const char *fdur(int64_t s, char *buf, apr_size_t len)
{
    if (s < 0) {
        snprintf(buf, len, "?");
    }
    else if (s < 60) {
        snprintf(buf, len, "%llds", (long long)s);
    }
    else if (s < 3600) {
        snprintf(buf, len, "%lldm%02llds", (long long)(s / 60), (long long)(s % 60));
    }
    else if (s < 86400) {
        snprintf(buf, len, "%lldh%02lldm", (long long)(s / 3600), (long long)(s % 3600 / 60));
    }
    else {
        snprintf(buf, len, "%lldd%02lldh", (long long)(s / 86400), (long long)(s % 86400 / 3600));
    }
    return buf;
}

static const char *fsecs(double s, char *buf, apr_size_t len)
{
    if (isnan(s)) {
        snprintf(buf, len, "-");
    }
    else if (s < 0.001) {
        snprintf(buf, len, "%.0f us", s * 1e6);
    }
    else if (s < 1) {
        snprintf(buf, len, "%.0f ms", s * 1e3);
    }
    else if (s < 10) {
        snprintf(buf, len, "%.2f s", s);
    }
    else {
        snprintf(buf, len, "%.1f s", s);
    }
    return buf;
}

static const char *sep(const sbt_canvas_t *cv)
{
    return cv->ascii ? " | " : " \xe2\x94\x82 ";
}

static const char *dash(const sbt_canvas_t *cv)
{
    return cv->ascii ? "-" : "\xe2\x80\x94";
}

/* ------------------------------------------------------------ header */

static int draw_header(sbt_canvas_t *cv, const sbt_app_t *app, int y)
{
    const sb_sample_t *s = app->sample;
    char buf[512], t[32], u[32];
    time_t now = time(NULL);
    struct tm tm;
    int x, clock_on_top;

    cv_bar(cv, y, SBT_ST_TITLE);
    localtime_r(&now, &tm);
    strftime(t, sizeof(t), "%H:%M:%S", &tm);
    if (app->replay) {
        time_t at = (time_t)app->at;
        char when[64];
        localtime_r(&at, &tm);
        strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", &tm);
        snprintf(buf, sizeof(buf), "sbtop%sREPLAY %s (%lld)%s%s", sep(cv), when,
                 (long long)app->at, sep(cv), app->history_path);
        cv_put(cv, y, 0, SBT_ST_TITLE, buf);
        y++;
        cv_clear_line(cv, y);
        if (app->have_row) {
            snprintf(buf, sizeof(buf), "source %s%sgeneration %lld%s%d samples in this second",
                     sb_source_name(app->row.source), sep(cv), (long long)app->row.generation,
                     sep(cv), app->row.samples);
        }
        else {
            snprintf(buf, sizeof(buf), "nothing recorded at this second");
        }
        x = cv_put(cv, y, 0, SBT_ST_NORMAL, buf);
        cv_printf(cv, y, x, SBT_ST_DIM, "%sLeft/Right 1 s, PgUp/PgDn 1 min", sep(cv));
        return y + 1;
    }
    if (s) {
        snprintf(buf, sizeof(buf), "sbtop%s%s%smpm %s%sup %s%sgen %d", sep(cv),
                 s->server.version[0] ? s->server.version : "httpd version unknown", sep(cv),
                 s->server.mpm[0] ? s->server.mpm : "unknown", sep(cv),
                 fdur(s->server.uptime_s, u, sizeof(u)), sep(cv), s->server.generation);
    }
    else {
        snprintf(buf, sizeof(buf), "sbtop%swaiting for the first sample", sep(cv));
    }
    x = cv_put(cv, y, 0, SBT_ST_TITLE, buf);
    clock_on_top = x + 20 <= cv->cols;
    if (app->paused) {
        cv_put(cv, y, clock_on_top ? cv->cols - 19 : cv->cols - 8, SBT_ST_WARN, " PAUSED ");
    }
    if (clock_on_top) {
        cv_put(cv, y, cv->cols - 9, SBT_ST_TITLE, t);
    }
    y++;
    cv_clear_line(cv, y);
    if (app->shm_hz > 0 && strcmp(app->source_label, "shm") == 0) {
        snprintf(buf, sizeof(buf), "source shm %g Hz", app->shm_hz);
    }
    else {
        snprintf(buf, sizeof(buf), "source %s", app->source_label);
    }
    x = cv_put(cv, y, 0, SBT_ST_BOLD, buf);
    snprintf(buf, sizeof(buf), "%srefresh %gs", sep(cv), app->delay);
    x += cv_put(cv, y, x, SBT_ST_NORMAL, buf);
    if (s) {
        if (s->server.server_limit > 0) {
            snprintf(buf, sizeof(buf), cv->cols >= 100 ? "%s%d slots: ServerLimit %d x "
                     "ThreadLimit %d" : "%s%d slots (%dx%d)", sep(cv), s->nworkers,
                     s->server.server_limit, s->server.thread_limit);
        }
        else {
            snprintf(buf, sizeof(buf), "%s%d slots", sep(cv), s->nworkers);
        }
        x += cv_put(cv, y, x, SBT_ST_NORMAL, buf);
        if (app->max_workers > 0) {
            snprintf(buf, sizeof(buf), "%sMaxRequestWorkers %d", sep(cv), app->max_workers);
            x += cv_put(cv, y, x, SBT_ST_NORMAL, buf);
        }
    }
    if (!clock_on_top) {
        snprintf(buf, sizeof(buf), "%s%s", sep(cv), t);
        cv_put(cv, y, x, SBT_ST_NORMAL, buf);
    }
    return y + 1;
}

static int draw_notice(sbt_canvas_t *cv, const sbt_app_t *app, int y)
{
    char buf[600];
    apr_time_t now = apr_time_now();

    cv_clear_line(cv, y);
    if (app->replay) {
        if (app->events_text[0]) {
            snprintf(buf, sizeof(buf), "events within a minute: %s", app->events_text);
            cv_put(cv, y, 0, SBT_ST_NOTICE, buf);
        }
        return y + 1;
    }
    if (app->down) {
        snprintf(buf, sizeof(buf), "httpd stopped %s retrying: %s", dash(cv), app->down_msg);
        cv_put(cv, y, 0, SBT_ST_WARN, buf);
    }
    else if (app->notice[0] && now - app->notice_ts < apr_time_from_sec(120)) {
        cv_put(cv, y, 0, app->notice_level == SBT_WARN ? SBT_ST_NOTICE : SBT_ST_BOLD,
               app->notice);
    }
    else if (app->sample && app->sample->extended_status == 0) {
        cv_put(cv, y, 0, SBT_ST_NOTICE, "ExtendedStatus is Off: requests/s, clients and "
               "requests are unknown");
    }
    return y + 1;
}

/* ------------------------------------------------------------ slot map */

static int draw_legend(sbt_canvas_t *cv, const sbt_app_t *app, int y, int x)
{
    const sb_sample_t *s = app->sample;
    int i;

    for (i = 0; i < SB_SLOT_NSTATES; i++) {
        char buf[64], ch[2];
        int always = i == SB_SLOT_READY || i == SB_SLOT_WRITE || i == SB_SLOT_KEEPALIVE
                     || i == SB_SLOT_DEAD;
        if (!always && s->slots[i] == 0) {
            continue;
        }
        snprintf(buf, sizeof(buf), " %s %u ", sb_slot_table[i].key, s->slots[i]);
        if (x + 1 + (int)strlen(buf) > cv->cols) {
            y++;
            x = 2;
        }
        ch[0] = sb_slot_table[i].ch;
        ch[1] = '\0';
        x += cv_put(cv, y, x, (sbt_style_t)(SBT_ST_SLOT0 + i), ch);
        x += cv_put(cv, y, x, SBT_ST_NORMAL, buf);
    }
    return y + 1;
}

/* Cells of workers [from, to) on lines of 'width' cells starting at (y, x),
 * grouped by 'group' with a space; returns lines used (at most maxl). */
static int draw_cells(sbt_canvas_t *cv, const sb_sample_t *s, int from, int to, int y,
                      int x, int width, int group, int maxl, int dim)
{
    int i, col = 0, line = 0, cx = x;

    for (i = from; i < to && line < maxl; i++) {
        sb_slot_state_t st = s->workers[i].state;
        char ch[2];
        if (col == width) {
            line++;
            col = 0;
            cx = x;
            if (line >= maxl) {
                break;
            }
        }
        if (group > 0 && col > 0 && col % group == 0) {
            cx++;
        }
        ch[0] = st < SB_SLOT_NSTATES ? sb_slot_table[st].ch : '?';
        ch[1] = '\0';
        cv_put(cv, y + line, cx, dim ? SBT_ST_DIM : (sbt_style_t)(SBT_ST_SLOT0 + st), ch);
        cx++;
        col++;
    }
    return from < to ? line + 1 : 0;
}

static int proc_empty(const sb_sample_t *s, int p, int tl)
{
    int t;
    if (s->procs && s->procs[p].pid > 0) {
        return 0;
    }
    for (t = 0; t < tl; t++) {
        if (s->workers[p * tl + t].state != SB_SLOT_DEAD) {
            return 0;
        }
    }
    return 1;
}

/* The slot map in at most 'avail' lines; returns the next free line. */
static int draw_map(sbt_canvas_t *cv, const sbt_app_t *app, int y, int avail)
{
    const sb_sample_t *s = app->sample;
    int tl, end = y + avail, x;

    if (avail < 2) {
        return y;
    }
    x = cv_put(cv, y, 0, SBT_ST_BOLD, "Slots");
    y = draw_legend(cv, app, y, x + 1);
    if (!s->procs || s->server.thread_limit <= 1) {
        /* prefork or mod_status: one row of cells wrapped to the width */
        int n = s->nworkers, mw = app->max_workers, width = cv->cols - 8, group = 10;
        int lines, need, shown;
        width -= width / (group + 1);
        width -= width % group;
        if (width < group) {
            width = cv->cols - 8 > 1 ? cv->cols - 8 : 1;
            group = 0;
        }
        if (mw <= 0 || mw > n) {
            mw = n;
        }
        need = (mw + width - 1) / width;
        lines = need < end - y ? need : end - y;
        for (x = 0; x < lines; x++) {
            cv_printf(cv, y + x, 0, SBT_ST_DIM, "%5d", x * width);
        }
        shown = draw_cells(cv, s, 0, mw, y, 7, width, group, lines, 0);
        y += shown;
        if (need > lines) {
            cv_printf(cv, end - 1, 7, SBT_ST_DIM, "... %d more slots (enlarge the window)",
                      mw - lines * width);
        }
        if (mw < n && y < end) {
            int left = end - y - 1, l;
            if (left > 0) {
                cv_printf(cv, y, 0, SBT_ST_DIM, "beyond MaxRequestWorkers %d (not usable "
                          "until it is raised):", mw);
                y++;
                l = draw_cells(cv, s, mw, n, y, 7, width, group, left, 1);
                y += l;
            }
        }
        return y;
    }
    /* threaded: one row per process slot, columns = threads */
    tl = s->server.thread_limit;
    {
        int p = 0, width = cv->cols - 16, group = 8;
        int perline;
        if (tl + (tl - 1) / group <= width) {
            perline = tl;
        }
        else if (tl <= width) {
            perline = tl;
            group = 0;
        }
        else {
            perline = width;
            group = 0;
        }
        while (p < s->nprocs && y < end) {
            int q = p, lines;
            if (proc_empty(s, p, tl)) {
                while (q + 1 < s->nprocs && proc_empty(s, q + 1, tl)) {
                    q++;
                }
                if (q > p) {
                    cv_printf(cv, y, 0, SBT_ST_DIM, "%3d-%-3d %s  (%d process slots unused)",
                              p, q, "", q - p + 1);
                }
                else {
                    cv_printf(cv, y, 0, SBT_ST_DIM, "%3d     %s  (process slot unused)", p, "");
                }
                y++;
                p = q + 1;
                continue;
            }
            if (y == end - 1 && p + 1 < s->nprocs) {
                cv_printf(cv, y, 0, SBT_ST_DIM, "... %d more process slots (enlarge the window)",
                          s->nprocs - p);
                y++;
                break;
            }
            cv_printf(cv, y, 0, SBT_ST_DIM, "%3d", p);
            if (s->procs[p].pid > 0) {
                cv_printf(cv, y, 4, s->procs[p].quiescing ? SBT_ST_DIM : SBT_ST_NORMAL, "%7d",
                          (int)s->procs[p].pid);
            }
            if (s->procs[p].quiescing) {
                cv_put(cv, y, 12, SBT_ST_DIM, "old");
            }
            lines = draw_cells(cv, s, p * tl, (p + 1) * tl, y, 16, perline, group, end - y, 0);
            y += lines;
            p++;
        }
    }
    return y;
}

/* ------------------------------------------------------------ gauges */

static void draw_bar(sbt_canvas_t *cv, int y, int x, int width, double frac, sbt_style_t st)
{
    char buf[1024];
    apr_size_t off = 0;
    int full, i;
    const char *fill = cv->ascii ? "#" : "\xe2\x96\x88";
    const char *empty = cv->ascii ? "." : "\xc2\xb7";

    if (width <= 0) {
        return;
    }
    if (isnan(frac) || frac < 0) {
        frac = 0;
    }
    if (frac > 1) {
        frac = 1;
    }
    full = (int)floor(frac * width + 0.5);
    if (frac > 0 && full == 0) {
        full = 1;
    }
    for (i = 0; i < full && off + 4 < sizeof(buf); i++) {
        off += (apr_size_t)snprintf(buf + off, sizeof(buf) - off, "%s", fill);
    }
    buf[off] = '\0';
    cv_put(cv, y, x, st, buf);
    off = 0;
    for (; i < width && off + 4 < sizeof(buf); i++) {
        off += (apr_size_t)snprintf(buf + off, sizeof(buf) - off, "%s", empty);
    }
    buf[off] = '\0';
    cv_put(cv, y, x + full, SBT_ST_DIM, buf);
}

static void gauge(sbt_canvas_t *cv, int y, int x, int width, const char *label, double v,
                  double total, sbt_style_t st)
{
    char n[32], buf[64];
    int barw = width - 12 - 16;

    cv_printf(cv, y, x, SBT_ST_BOLD, "%-11s", label);
    cv_put(cv, y, x + 11, SBT_ST_NORMAL, "[");
    draw_bar(cv, y, x + 12, barw, total > 0 ? v / total : NAN, st);
    cv_put(cv, y, x + 12 + barw, SBT_ST_NORMAL, "]");
    if (total > 0 && !isnan(v)) {
        snprintf(buf, sizeof(buf), " %s/%.0f %3.0f%%", fnum(v, n, sizeof(n)), total,
                 100.0 * v / total);
    }
    else {
        snprintf(buf, sizeof(buf), " %s", fnum(v, n, sizeof(n)));
    }
    cv_put(cv, y, x + 13 + barw, SBT_ST_NORMAL, buf);
}

static int draw_gauges(sbt_canvas_t *cv, const sbt_app_t *app, int y, double busy, double ka,
                       double idle, double open, double total, const char *total_name)
{
    int two = cv->cols >= 120, w = two ? cv->cols / 2 - 1 : cv->cols;
    char a[32], b[32], c[32];

    if (two) {
        gauge(cv, y, 0, w, "busy", busy, total, SBT_ST_BAR_BUSY);
        gauge(cv, y, w + 2, w, "keep-alive", ka, total, SBT_ST_BAR_KA);
        gauge(cv, y + 1, 0, w, "idle", idle, total, SBT_ST_BAR_IDLE);
        gauge(cv, y + 1, w + 2, w, "open", open, total, SBT_ST_BAR_OPEN);
        y += 2;
    }
    else {
        gauge(cv, y++, 0, w, "busy", busy, total, SBT_ST_BAR_BUSY);
        gauge(cv, y++, 0, w, "keep-alive", ka, total, SBT_ST_BAR_KA);
        gauge(cv, y++, 0, w, "idle", idle, total, SBT_ST_BAR_IDLE);
        gauge(cv, y++, 0, w, "open", open, total, SBT_ST_BAR_OPEN);
    }
    if (app->replay) {
        cv_printf(cv, y, 0, SBT_ST_NORMAL, "accept queue max %s%sidle keep-alive conns %s%s"
                  "gauges of %s", app->have_row && app->row.listen_queue_max >= 0
                  ? fnum((double)app->row.listen_queue_max, a, sizeof(a)) : "-", sep(cv),
                  app->have_row ? fnum(app->row.keepalive_conns_mean, b, sizeof(b)) : "-",
                  sep(cv), total_name);
        return y + 1;
    }
    if (app->have_kernel) {
        cv_printf(cv, y, 0, app->k_queue > 0 ? SBT_ST_WARN : SBT_ST_NORMAL,
                  "accept queue %s%sidle keep-alive conns (kernel) %s%sestablished %s%s"
                  "gauges of %s", fnum(app->k_queue, a, sizeof(a)), sep(cv),
                  fnum(app->k_idle_ka, b, sizeof(b)), sep(cv),
                  fnum(app->k_established, c, sizeof(c)), sep(cv), total_name);
    }
    else {
        cv_printf(cv, y, 0, SBT_ST_NORMAL, "accept queue -%sidle keep-alive conns - (no "
                  "kernel view)%sgauges of %s", sep(cv), sep(cv), total_name);
    }
    return y + 1;
}

/* ------------------------------------------------------------ rates */

typedef enum { R_REQ, R_CONN, R_BUSY, R_KA } rate_t;

static double sec_value(const sbt_app_t *app, const sbt_sec_t *s, rate_t r)
{
    if (s->gap) {
        return NAN;
    }
    switch (r) {
    case R_REQ: return s->req;
    case R_CONN: return s->conn;
    case R_BUSY: return s->busy;
    case R_KA:
        if (!isnan(s->ka_conns) && (s->ka_slots == 0 || isnan(s->ka_slots))
            && app->sample && strcmp(app->sample->server.mpm, "event") == 0) {
            return s->ka_conns;
        }
        if (app->replay && !isnan(s->ka_conns) && s->ka_slots == 0) {
            return s->ka_conns;
        }
        return s->ka_slots;
    }
    return NAN;
}

/* Mean of a figure over the newest n seconds (NaN when none known). */
static double ring_mean(const sbt_app_t *app, rate_t r, int n, double *maxv)
{
    double sum = 0, mx = NAN;
    int i, k = 0;

    for (i = 0; i < n; i++) {
        const sbt_sec_t *s = sbt_ring_get(app, i);
        double v;
        if (!s) {
            break;
        }
        v = sec_value(app, s, r);
        if (!isnan(v)) {
            sum += v;
            k++;
            if (isnan(mx) || v > mx) {
                mx = v;
            }
        }
    }
    if (maxv) {
        *maxv = mx;
    }
    return k ? sum / k : NAN;
}

static void draw_spark(sbt_canvas_t *cv, const sbt_app_t *app, int y, int x, int width,
                       rate_t r, int per)
{
    static const char *const blocks[] = {
        " ", "\xe2\x96\x81", "\xe2\x96\x82", "\xe2\x96\x83", "\xe2\x96\x84",
        "\xe2\x96\x85", "\xe2\x96\x86", "\xe2\x96\x87", "\xe2\x96\x88"
    };
    static const char ascii[] = " .,:-=+*#";
    double col[512], mx = 0;
    char buf[2048];
    apr_size_t off = 0;
    int c, i;

    if (width > 512) {
        width = 512;
    }
    if (width <= 0) {
        return;
    }
    /* column width-1 is the newest */
    for (c = 0; c < width; c++) {
        int k = 0;
        double sum = 0;
        for (i = 0; i < per; i++) {
            const sbt_sec_t *s = sbt_ring_get(app, (width - 1 - c) * per + i);
            double v;
            if (!s) {
                break;
            }
            v = sec_value(app, s, r);
            if (!isnan(v)) {
                sum += v;
                k++;
            }
        }
        col[c] = k ? sum / k : NAN;
        if (k && col[c] > mx) {
            mx = col[c];
        }
    }
    for (c = 0; c < width && off + 4 < sizeof(buf); c++) {
        int level = 0;
        if (!isnan(col[c]) && mx > 0) {
            level = (int)ceil(col[c] / mx * 8);
            if (level > 8) {
                level = 8;
            }
        }
        if (isnan(col[c])) {
            buf[off++] = ' ';
        }
        else if (cv->ascii) {
            buf[off++] = level == 0 ? '_' : ascii[level];
        }
        else {
            const char *b = level == 0 ? "\xe2\x96\x81" : blocks[level];
            apr_size_t n = strlen(b);
            memcpy(buf + off, b, n);
            off += n;
        }
    }
    buf[off] = '\0';
    cv_put(cv, y, x, SBT_ST_SPARK, buf);
}

static int draw_rates(sbt_canvas_t *cv, const sbt_app_t *app, int y)
{
    static const struct {
        rate_t r;
        const char *label;
    } rows[] = {
        { R_REQ, "requests/s" },
        { R_CONN, "new conns/s" },
        { R_BUSY, "busy slots" },
        { R_KA, "keep-alive" },
    };
    int i, width = cv->cols - 36, per;
    char a[32], b[32], c[32];

    if (width < 10) {
        width = 10;
    }
    per = (180 + width - 1) / width;   /* the last three minutes or more */
    for (i = 0; i < 4; i++) {
        const sbt_sec_t *s = sbt_ring_get(app, 0);
        double mx, now = s ? sec_value(app, s, rows[i].r) : NAN;
        double avg = ring_mean(app, rows[i].r, width * per, &mx);
        cv_printf(cv, y + i, 0, SBT_ST_BOLD, "%-11s", rows[i].label);
        cv_printf(cv, y + i, 11, SBT_ST_NORMAL, "%7s", fnum(now, a, sizeof(a)));
        draw_spark(cv, app, y + i, 19, width, rows[i].r, per);
        cv_printf(cv, y + i, 20 + width, SBT_ST_DIM, "avg %s max %s", fnum(avg, b, sizeof(b)),
                  fnum(mx, c, sizeof(c)));
    }
    cv_printf(cv, y + 4, 19, SBT_ST_DIM, "last %s, %d s per column, newest right",
              fdur((int64_t)width * per, a, sizeof(a)), per);
    return y + 5;
}

/* ------------------------------------------------------------ capacity */

static int draw_capacity(sbt_canvas_t *cv, const sbt_app_t *app, int y, int maxl, double total)
{
    char text[768], w_txt[160], kat[64], a[32], b[32], c[32];
    double hold_sum = 0, hold_w = NAN, lambda, busy, sustain;
    int i, hold_n = 0, n = app->max_workers > 0 ? app->max_workers : (int)total;
    const char *nname = app->max_workers > 0 ? "MaxRequestWorkers" : "slots";

    if (!app->replay) {
        for (i = 0; i < 300; i++) {
            const sbt_sec_t *s = sbt_ring_get(app, i);
            if (!s) {
                break;
            }
            hold_sum += s->hold_sum;
            hold_n += s->hold_n;
        }
    }
    if (hold_n >= 3) {
        hold_w = hold_sum / hold_n;
        snprintf(w_txt, sizeof(w_txt), "mean of %d holds in 5 min", hold_n);
    }
    else if (app->hold_n_all > 0) {
        hold_w = app->hold_sum_all / (double)app->hold_n_all;
        snprintf(w_txt, sizeof(w_txt), "mean of %llu holds%s",
                 (unsigned long long)app->hold_n_all, app->replay ? " in the hour before" : "");
    }
    lambda = ring_mean(app, R_CONN, 60, NULL);
    busy = ring_mean(app, R_BUSY, 60, NULL);
    if (isnan(hold_w) && !isnan(lambda) && lambda > 0 && !isnan(busy)) {
        hold_w = busy / lambda;
        snprintf(w_txt, sizeof(w_txt), "busy %s / %s conns/s",
                 fnum(busy, a, sizeof(a)), fnum(lambda, b, sizeof(b)));
    }
    if (app->ka_timeout >= 0) {
        snprintf(kat, sizeof(kat), "KeepAliveTimeout %g s", app->ka_timeout);
    }
    else {
        snprintf(kat, sizeof(kat), "KeepAliveTimeout unknown");
    }
    if (isnan(hold_w) || hold_w <= 0 || n <= 0) {
        snprintf(text, sizeof(text), "Capacity: hold time per connection not measured yet "
                 "(no finished connections, no arrivals); %s; new clients now %s/s", kat,
                 fnum(lambda, a, sizeof(a)));
        return y + cv_wrap(cv, y, 0, maxl, SBT_ST_NORMAL, text);
    }
    sustain = n / hold_w;
    if (!isnan(lambda)) {
        double head = 100.0 * (1.0 - lambda / sustain);
        snprintf(text, sizeof(text), "Capacity: with %s and hold time W = %.2f s/conn (%s), "
                 "%s %d sustains %d/%.2f = %s new clients/s; now %s/s: headroom %.0f %%", kat,
                 hold_w, w_txt, nname, n, n, hold_w,
                 fnum(sustain, a, sizeof(a)), fnum(lambda, b, sizeof(b)), head);
    }
    else {
        snprintf(text, sizeof(text), "Capacity: with %s and hold time W = %.2f s/conn (%s), "
                 "%s %d sustains %d/%.2f = %s new clients/s; arrival rate unknown", kat,
                 hold_w, w_txt, nname, n, n, hold_w,
                 fnum(sustain, c, sizeof(c)));
    }
    return y + cv_wrap(cv, y, 0, maxl, !isnan(lambda) && lambda > sustain ? SBT_ST_WARN
                       : SBT_ST_NORMAL, text);
}

/* ------------------------------------------------------------ views */

typedef struct {
    int idx;
    double secs;
} wrow_t;

static const sbt_app_t *sort_app;

static double worker_secs(const sb_sample_t *s, const sb_worker_t *w)
{
    apr_time_t t = 0;

    switch (w->state) {
    case SB_SLOT_KEEPALIVE:
        t = w->stop_time ? w->stop_time : w->last_used;
        break;
    case SB_SLOT_READY:
    case SB_SLOT_DEAD:
    case SB_SLOT_STARTING:
        t = w->last_used;
        break;
    default:
        t = w->start_time && w->start_time >= w->stop_time ? w->start_time : w->last_used;
        break;
    }
    if (t <= 0 || t > s->ts) {
        return NAN;
    }
    return (double)(s->ts - t) / APR_USEC_PER_SEC;
}

static int state_rank(sb_slot_state_t st)
{
    static const int rank[SB_SLOT_NSTATES] = { 10, 8, 9, 1, 0, 2, 3, 4, 5, 6, 7 };
    return st < SB_SLOT_NSTATES ? rank[st] : 11;
}

static int cmp_rows(const void *pa, const void *pb)
{
    const wrow_t *a = pa, *b = pb;
    const sb_sample_t *s = sort_app->sample;
    const sb_worker_t *wa = &s->workers[a->idx], *wb = &s->workers[b->idx];
    int r = 0;

    switch (sort_app->sort) {
    case SBT_SORT_STATE:
        r = state_rank(wa->state) - state_rank(wb->state);
        if (r == 0) {
            r = (isnan(b->secs) ? -1 : b->secs) > (isnan(a->secs) ? -1 : a->secs) ? 1
                : (isnan(b->secs) ? -1 : b->secs) < (isnan(a->secs) ? -1 : a->secs) ? -1 : 0;
        }
        break;
    case SBT_SORT_SECONDS: {
        double x = isnan(a->secs) ? -1 : a->secs, z = isnan(b->secs) ? -1 : b->secs;
        r = z > x ? 1 : z < x ? -1 : 0;
        break;
    }
    case SBT_SORT_REQUESTS:
        r = wb->conn_count > wa->conn_count ? 1 : wb->conn_count < wa->conn_count ? -1 : 0;
        break;
    case SBT_SORT_CLIENT:
        r = strcmp(wa->client, wb->client);
        break;
    case SBT_SORT_SLOT:
    case SBT_NSORTS:
        break;
    }
    if (r == 0) {
        r = a->idx - b->idx;
    }
    return sort_app->sort_reverse ? -r : r;
}

static const char *const sort_names[SBT_NSORTS] = {
    "state", "seconds", "requests", "client", "slot"
};

static void clean(char *dst, const char *src, apr_size_t len)
{
    apr_size_t i;
    for (i = 0; src[i] && i + 1 < len; i++) {
        unsigned char c = (unsigned char)src[i];
        dst[i] = c >= 0x20 && c < 0x7f ? (char)c : '?';
    }
    dst[i] = '\0';
}

static int draw_workers(sbt_canvas_t *cv, const sbt_app_t *app, int y, int end,
                        apr_pool_t *p)
{
    const sb_sample_t *s = app->sample;
    wrow_t *rows;
    int i, n = 0, tl, cw;

    cv_bar(cv, y, SBT_ST_TITLE);
    if (app->replay || !s) {
        cv_put(cv, y, 0, SBT_ST_TITLE, "Workers");
        cv_put(cv, y + 1, 0, SBT_ST_NORMAL, app->replay
               ? "The history has no per-slot records: the agent keeps per-second figures only."
               : "no sample yet");
        return y + 2;
    }
    rows = apr_palloc(p, sizeof(*rows) * (apr_size_t)(s->nworkers + 1));
    for (i = 0; i < s->nworkers; i++) {
        if (s->workers[i].state == SB_SLOT_DEAD) {
            continue;
        }
        rows[n].idx = i;
        rows[n].secs = worker_secs(s, &s->workers[i]);
        n++;
    }
    sort_app = app;
    qsort(rows, (apr_size_t)n, sizeof(*rows), cmp_rows);
    cv_printf(cv, y, 0, SBT_ST_TITLE, "Workers: %d of %d slots in use, sorted by %s%s "
              "(s: sort, r: reverse)", n, s->nworkers, sort_names[app->sort],
              app->sort_reverse ? " (reversed)" : "");
    y++;
    if (s->source != SB_SOURCE_SHM) {
        cv_put(cv, y++, 0, SBT_ST_NOTICE, "mod_status gives states only: pid, times, clients "
               "and requests need the shm source (--scoreboard)");
    }
    cw = cv->cols < 100 ? 15 : cv->cols < 140 ? 20 : 28;
    cv_printf(cv, y++, 0, SBT_ST_BOLD, "%7s %6s %2s %7s %5s %-*s %-*s %s", "PID", "SLOT", "ST",
              "SECS", "REQS", cw, "CLIENT", cw, "VHOST", "REQUEST");
    tl = s->server.thread_limit > 0 ? s->server.thread_limit : 1;
    if (n > end - y) {
        end--;      /* keep the last line for the "more" note */
    }
    for (i = 0; i < n && y < end; i++) {
        const sb_worker_t *w = &s->workers[rows[i].idx];
        char slot[32], secs[32], client[64], vhost[32], req[64], st[2], pid[16];
        if (tl > 1) {
            snprintf(slot, sizeof(slot), "%d.%d", rows[i].idx / tl, rows[i].idx % tl);
        }
        else {
            snprintf(slot, sizeof(slot), "%d", rows[i].idx);
        }
        if (isnan(rows[i].secs)) {
            snprintf(secs, sizeof(secs), "-");
        }
        else {
            snprintf(secs, sizeof(secs), "%.1f", rows[i].secs);
        }
        if (w->pid > 0) {
            snprintf(pid, sizeof(pid), "%d", (int)w->pid);
        }
        else {
            snprintf(pid, sizeof(pid), "-");
        }
        clean(client, w->client, sizeof(client));
        clean(vhost, w->vhost, sizeof(vhost));
        clean(req, w->request, sizeof(req));
        st[0] = w->state < SB_SLOT_NSTATES ? sb_slot_table[w->state].ch : '?';
        st[1] = '\0';
        cv_printf(cv, y, 0, SBT_ST_NORMAL, "%7s %6s", pid, slot);
        cv_printf(cv, y, 16, (sbt_style_t)(SBT_ST_SLOT0 + (w->state < SB_SLOT_NSTATES
                                                            ? w->state : 0)), "%s", st);
        cv_printf(cv, y, 18, SBT_ST_NORMAL, "%7s %5u %-*.*s %-*.*s %s", secs,
                  w->conn_count, cw, cw, client[0] ? client : "-", cw, cw,
                  vhost[0] ? vhost : "-", req[0] ? req : "-");
        y++;
    }
    if (i < n) {
        cv_printf(cv, y++, 0, SBT_ST_DIM, "... %d more (sort with s, or enlarge the window)",
                  n - i);
    }
    return y;
}

typedef struct {
    char client[64];
    int busy, ka, active;
} crow_t;

static int cmp_clients(const void *pa, const void *pb)
{
    const crow_t *a = pa, *b = pb;
    if (a->busy != b->busy) {
        return b->busy - a->busy;
    }
    return strcmp(a->client, b->client);
}

static int draw_clients(sbt_canvas_t *cv, const sbt_app_t *app, int y, int end,
                        apr_pool_t *p)
{
    const sb_sample_t *s = app->sample;
    crow_t *rows;
    int i, j, n = 0, busy_total = 0;

    cv_bar(cv, y, SBT_ST_TITLE);
    if (app->replay) {
        time_t m = (time_t)(app->at - ((app->at % 60) + 60) % 60);
        struct tm tm;
        char t[32];
        localtime_r(&m, &tm);
        strftime(t, sizeof(t), "%H:%M", &tm);
        cv_printf(cv, y++, 0, SBT_ST_TITLE, "Top clients by slots held in the minute %s "
                  "(from the history)", t);
        cv_printf(cv, y++, 0, SBT_ST_BOLD, "%-40s %14s %10s", "CLIENT", "SLOT-SECONDS",
                  "MAX SLOTS");
        if (app->nclients == 0) {
            cv_put(cv, y++, 0, SBT_ST_NORMAL, "no client rows recorded for this minute");
        }
        for (i = 0; i < app->nclients && y < end; i++) {
            cv_printf(cv, y++, 0, SBT_ST_NORMAL, "%-40.40s %14.1f %10d", app->clients[i].client,
                      app->clients[i].slot_seconds, app->clients[i].max_slots);
        }
        return y;
    }
    if (!s) {
        cv_put(cv, y, 0, SBT_ST_TITLE, "Top clients");
        return y + 1;
    }
    rows = apr_pcalloc(p, sizeof(*rows) * (apr_size_t)(s->nworkers + 1));
    for (i = 0; i < s->nworkers; i++) {
        const sb_worker_t *w = &s->workers[i];
        if (w->state >= SB_SLOT_NSTATES || !sb_slot_table[w->state].busy) {
            continue;
        }
        busy_total++;
        if (!w->client[0]) {
            continue;
        }
        for (j = 0; j < n && strcmp(rows[j].client, w->client) != 0; j++) {
        }
        if (j == n) {
            clean(rows[n].client, w->client, sizeof(rows[n].client));
            n++;
        }
        rows[j].busy++;
        if (w->state == SB_SLOT_KEEPALIVE) {
            rows[j].ka++;
        }
        else {
            rows[j].active++;
        }
    }
    qsort(rows, (apr_size_t)n, sizeof(*rows), cmp_clients);
    cv_printf(cv, y++, 0, SBT_ST_TITLE, "Top clients by slots held: %d clients hold %d busy "
              "slots", n, busy_total);
    if (s->source != SB_SOURCE_SHM || s->extended_status == 0) {
        cv_put(cv, y++, 0, SBT_ST_NOTICE, "client addresses need the shm source and "
               "ExtendedStatus On");
    }
    cv_printf(cv, y++, 0, SBT_ST_BOLD, "%-24s %6s %6s %6s %7s", "CLIENT", "SLOTS", "ACTIVE",
              "KA", "SHARE");
    for (i = 0; i < n && y < end; i++) {
        double share = busy_total ? 100.0 * rows[i].busy / busy_total : 0;
        int flag = busy_total > 0 && rows[i].busy * 2 > busy_total;
        cv_printf(cv, y, 0, flag ? SBT_ST_WARN : SBT_ST_NORMAL, "%-24.24s %6d %6d %6d %6.0f%%",
                  rows[i].client, rows[i].busy, rows[i].active, rows[i].ka, share);
        if (flag) {
            cv_printf(cv, y, 53, SBT_ST_WARN, " <- over half of busy");
        }
        y++;
    }
    return y;
}

static int draw_gaps(sbt_canvas_t *cv, const sbt_app_t *app, int y, int end)
{
    const sb_hist_t *h = &app->ka_gap;
    uint64_t count = sb_hist_count(h), per[40], mx = 0;
    char a[32], b[32], c[32], d[32], e[32];
    int i, lo = -1, hi = -1, barw = cv->cols - 36;

    cv_bar(cv, y, SBT_ST_TITLE);
    cv_printf(cv, y++, 0, SBT_ST_TITLE, "Keep-alive gaps between requests on a connection: %llu "
              "%s", (unsigned long long)count, app->replay ? "in the hour before" : "since start");
    cv_printf(cv, y++, 0, SBT_ST_NORMAL, "idle periods ended by a close: %llu (gaps longer "
              "than KeepAliveTimeout are never seen)", (unsigned long long)app->ka_close_n);
    if (count == 0) {
        cv_put(cv, y++, 0, SBT_ST_NORMAL, "no gaps observed yet: they come from the scoreboard "
               "(prefork, worker) or the kernel (event, mod_status)");
        return y;
    }
    cv_printf(cv, y++, 0, SBT_ST_BOLD, "p50 %s   p90 %s   p95 %s   p99 %s   max %s",
              fsecs(sb_hist_quantile(h, 0.5), a, sizeof(a)),
              fsecs(sb_hist_quantile(h, 0.9), b, sizeof(b)),
              fsecs(sb_hist_quantile(h, 0.95), c, sizeof(c)),
              fsecs(sb_hist_quantile(h, 0.99), d, sizeof(d)), fsecs(h->max, e, sizeof(e)));
    cv_printf(cv, y++, 0, SBT_ST_NORMAL, "a KeepAliveTimeout of %s catches 95 %% of the "
              "follow-up requests seen", fsecs(sb_hist_quantile(h, 0.95), a, sizeof(a)));
    /* one row per doubling; bucket 0 is the underflow row */
    memset(per, 0, sizeof(per));
    for (i = 0; i < SB_HIST_NBUCKETS; i++) {
        int r = i == 0 ? 0 : i == SB_HIST_NBUCKETS - 1 ? 23 : 1 + (i - 1) / SB_HIST_PER_DOUBLING;
        per[r] += h->bucket[i];
    }
    for (i = 0; i < 24; i++) {
        if (per[i]) {
            if (lo < 0) {
                lo = i;
            }
            hi = i;
            if (per[i] > mx) {
                mx = per[i];
            }
        }
    }
    for (i = lo; i <= hi && y < end; i++) {
        char range[48];
        if (i == 0) {
            snprintf(range, sizeof(range), "< %s", fsecs(sb_hist_edge(1), a, sizeof(a)));
        }
        else if (i == 23) {
            snprintf(range, sizeof(range), ">= %s", fsecs(sb_hist_edge(SB_HIST_NBUCKETS - 1),
                                                          a, sizeof(a)));
        }
        else {
            int b0 = 1 + (i - 1) * SB_HIST_PER_DOUBLING;
            snprintf(range, sizeof(range), "%s - %s", fsecs(sb_hist_edge(b0), a, sizeof(a)),
                     fsecs(sb_hist_edge(b0) * 2, b, sizeof(b)));
        }
        cv_printf(cv, y, 0, SBT_ST_NORMAL, "%19s %8llu ", range, (unsigned long long)per[i]);
        draw_bar(cv, y, 29, barw, mx ? (double)per[i] / (double)mx : 0, SBT_ST_BAR_KA);
        y++;
    }
    return y;
}

/* Seconds around the replayed moment (replay's stand-in for the map). */
static int draw_replay_table(sbt_canvas_t *cv, const sbt_app_t *app, int y, int end)
{
    int i;
    char v[8][32];

    cv_put(cv, y++, 0, SBT_ST_NOTICE, "No per-slot map in history: the agent records "
           "per-second figures, not slots.");
    if (y >= end) {
        return y;
    }
    cv_printf(cv, y++, 0, SBT_ST_BOLD, "  %-8s %6s %6s %6s %8s %8s %8s %6s", "TIME", "BUSY",
              "IDLE", "K", "KA-CONN", "REQ/S", "CONN/S", "QUEUE");
    for (i = 0; i < 11 && y < end; i++) {
        const sb_hist_second_t *r = &app->near[i];
        int64_t ts = app->at + i - 5;
        time_t tt = (time_t)ts;
        struct tm tm;
        char t[16];
        localtime_r(&tt, &tm);
        strftime(t, sizeof(t), "%H:%M:%S", &tm);
        if (r->ts != ts) {
            cv_printf(cv, y++, 0, i == 5 ? SBT_ST_BOLD : SBT_ST_DIM, "%s %-8s (not recorded)",
                      i == 5 ? ">" : " ", t);
            continue;
        }
        if (r->gap) {
            cv_printf(cv, y++, 0, i == 5 ? SBT_ST_BOLD : SBT_ST_DIM, "%s %-8s (gap: httpd not "
                      "reachable)", i == 5 ? ">" : " ", t);
            continue;
        }
        cv_printf(cv, y++, 0, i == 5 ? SBT_ST_BOLD : SBT_ST_NORMAL,
                  "%s %-8s %6s %6s %6s %8s %8s %8s %6s", i == 5 ? ">" : " ", t,
                  fnum(r->busy_mean, v[0], 32), fnum(r->idle_mean, v[1], 32),
                  fnum(r->keepalive_slots_mean, v[2], 32),
                  fnum(r->keepalive_conns_mean, v[3], 32), fnum(r->req_per_s, v[4], 32),
                  fnum(r->conn_per_s, v[5], 32),
                  r->listen_queue_max < 0 ? "-" : fnum((double)r->listen_queue_max, v[6], 32));
    }
    if (!app->have_row && y < end) {
        char bb[32], aa[32];
        time_t tb = (time_t)app->nearest_before, ta = (time_t)app->nearest_after;
        struct tm tm;
        strcpy(bb, "none");
        strcpy(aa, "none");
        if (tb) {
            localtime_r(&tb, &tm);
            strftime(bb, sizeof(bb), "%Y-%m-%d %H:%M:%S", &tm);
        }
        if (ta) {
            localtime_r(&ta, &tm);
            strftime(aa, sizeof(aa), "%Y-%m-%d %H:%M:%S", &tm);
        }
        cv_printf(cv, y++, 0, SBT_ST_NOTICE, "nothing recorded at this second; recorded "
                  "before: %s, after: %s", bb, aa);
    }
    return y;
}

/* ------------------------------------------------------------ help */

static void draw_help(sbt_canvas_t *cv)
{
    int w = cv->cols - 4 < 78 ? cv->cols - 4 : 78, h = sbt_nkeys + 6, y0, x0, i, y;

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
        cv_put(cv, y0 + i, x0, SBT_ST_NORMAL, buf);
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
    cv_put(cv, y0, x0 + 2, SBT_ST_BOLD, " sbtop keys ");
    y = y0 + 1;
    for (i = 0; i < sbt_nkeys && y < y0 + h - 2; i++) {
        if (sbt_keys[i].replay_only && (i == 0 || !sbt_keys[i - 1].replay_only)) {
            cv_put(cv, y++, x0 + 2, SBT_ST_DIM, "with --history and --at (replay):");
        }
        cv_printf(cv, y, x0 + 2, SBT_ST_BOLD, "%-8s", sbt_keys[i].label);
        {
            char buf[256];
            apr_size_t n = u8_prefix(sbt_keys[i].help, w - 14);
            snprintf(buf, sizeof(buf), "%.*s", (int)n, sbt_keys[i].help);
            cv_put(cv, y, x0 + 11, SBT_ST_NORMAL, buf);
        }
        y++;
    }
    cv_put(cv, y0 + h - 2, x0 + 2, SBT_ST_DIM, "any key closes this help");
}

/* ------------------------------------------------------------ screen */

static void draw_footer(sbt_canvas_t *cv, const sbt_app_t *app, int y)
{
    static const char *const names[SBT_NVIEWS] = { "dashboard", "workers", "clients", "gaps" };
    char buf[256];

    cv_bar(cv, y, SBT_ST_TITLE);
    snprintf(buf, sizeof(buf), "[%s] d dash  w workers  t clients  g gaps  h help  p pause  "
             "+/- refresh  q quit%s", names[app->view], app->replay ? "  <-/-> 1s  PgUp/Dn 1m" : "");
    cv_put(cv, y, 0, SBT_ST_TITLE, buf);
}

void sbt_render(sbt_canvas_t *cv, const sbt_app_t *app)
{
    apr_pool_t *p;
    const sb_sample_t *s = app->sample;
    int y = 0, end = cv->curses ? cv->rows - 1 : cv->rows;
    double busy, ka, idle, open, total;
    const char *total_name;

    apr_pool_create(&p, app->pool);
    if (cv->curses) {
        erase();
    }
    y = draw_header(cv, app, y);
    y = draw_notice(cv, app, y);

    if (app->replay) {
        const sb_hist_second_t *r = &app->row;
        busy = app->have_row ? r->busy_mean : NAN;
        ka = app->have_row ? r->keepalive_slots_mean : NAN;
        idle = app->have_row ? r->idle_mean : NAN;
        open = app->have_row ? r->open_mean : NAN;
        total = app->max_workers > 0 ? app->max_workers
                : app->have_row ? floor(r->busy_mean + r->idle_mean + r->open_mean
                                        + r->graceful_mean + 0.5) : NAN;
        total_name = app->max_workers > 0 ? "MaxRequestWorkers" : "slots (busy+idle+open)";
    }
    else if (s) {
        busy = s->busy;
        ka = s->slots[SB_SLOT_KEEPALIVE];
        idle = s->idle;
        open = s->slots[SB_SLOT_DEAD];
        total = app->max_workers > 0 ? app->max_workers : s->nworkers;
        total_name = app->max_workers > 0 ? "MaxRequestWorkers" : "all slots";
        if (app->max_workers > 0 && app->max_workers < s->nworkers) {
            open -= s->nworkers - app->max_workers;   /* open slots usable */
            if (open < 0) {
                open = 0;
            }
        }
    }
    else {
        busy = ka = idle = open = total = NAN;
        total_name = "slots";
    }

    if (!app->replay && !s) {
        cv_put(cv, y + 1, 2, SBT_ST_NORMAL, "waiting for the first sample...");
    }
    else if (app->view == SBT_VIEW_DASHBOARD) {
        /* fixed: gauges 5 (3 wide), rates 5, capacity 2; the map gets the rest */
        int gauges = cv->cols >= 120 ? 3 : 5, fixed = gauges + 5 + 2 + 1;
        int avail = end - y - fixed;
        if (!cv->curses) {
            avail = cv->rows;
        }
        if (app->replay) {
            y = draw_replay_table(cv, app, y, y + (avail > 3 ? avail : 3));
        }
        else {
            y = draw_map(cv, app, y, avail > 2 ? avail : 2);
        }
        y++;
        y = draw_gauges(cv, app, y, busy, ka, idle, open, total, total_name);
        y = draw_rates(cv, app, y);
        y = draw_capacity(cv, app, y, 2, total);
    }
    else {
        char v[7][32];
        cv_printf(cv, y++, 0, SBT_ST_NORMAL, "busy %s/%s  keep-alive %s  idle %s  open %s%s"
                  "requests/s %s  new conns/s %s", fnum(busy, v[0], 32), fnum(total, v[1], 32),
                  fnum(ka, v[2], 32), fnum(idle, v[3], 32), fnum(open, v[4], 32), sep(cv),
                  fnum(ring_mean(app, R_REQ, 1, NULL), v[5], 32),
                  fnum(ring_mean(app, R_CONN, 1, NULL), v[6], 32));
        switch (app->view) {
        case SBT_VIEW_WORKERS:
            y = draw_workers(cv, app, y, end, p);
            break;
        case SBT_VIEW_CLIENTS:
            y = draw_clients(cv, app, y, end, p);
            break;
        case SBT_VIEW_GAPS:
            y = draw_gaps(cv, app, y, end);
            break;
        default:
            break;
        }
    }
    if (cv->curses) {
        draw_footer(cv, app, cv->rows - 1);
        if (app->help) {
            draw_help(cv);
        }
    }
    apr_pool_destroy(p);
}
