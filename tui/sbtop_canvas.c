/*
 * sbtop_canvas.c - the canvas sbtop draws on (the curses screen or the
 * lines of a plain-text batch frame), its styles, and the number formats
 * of the screens (see sbtop_draw.h).
 */
#include "config.h"
#include <curses.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <apr_strings.h>

#include "sb_slot.h"
#include "sbtop.h"
#include "sbtop_draw.h"

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

apr_size_t sbt_u8_prefix(const char *s, int n)
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

int sbt_cv_put(sbt_canvas_t *cv, int y, int x, sbt_style_t st, const char *s)
{
    int room, w;
    apr_size_t n;

    if (y < 0 || y >= cv->rows || x < 0 || x >= cv->cols) {
        return 0;
    }
    room = cv->cols - x;
    n = sbt_u8_prefix(s, room);
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

int sbt_cv_printf(sbt_canvas_t *cv, int y, int x, sbt_style_t st, const char *fmt, ...)
{
    char buf[1024];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    return sbt_cv_put(cv, y, x, st, buf);
}

void sbt_cv_bar(sbt_canvas_t *cv, int y, sbt_style_t st)
{
    char buf[1024];
    int n = cv->cols < (int)sizeof(buf) - 1 ? cv->cols : (int)sizeof(buf) - 1;

    memset(buf, ' ', (apr_size_t)n);
    buf[n] = '\0';
    sbt_cv_put(cv, y, 0, st, buf);
}

void sbt_cv_clear_line(sbt_canvas_t *cv, int y)
{
    if (cv->curses && y >= 0 && y < cv->rows) {
        move(y, 0);
        clrtoeol();
    }
}

int sbt_cv_wrap(sbt_canvas_t *cv, int y, int x, int maxlines, sbt_style_t st,
                const char *text)
{
    int width = cv->cols - x, used = 0;
    const char *p = text;
    char buf[1024];

    if (width < 10) {
        return 0;
    }
    while (*p && used < maxlines) {
        apr_size_t n = sbt_u8_prefix(p, width);
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
        sbt_cv_put(cv, y + used, x, st, buf);
        used++;
        p += n;
        while (*p == ' ') {
            p++;
        }
    }
    return used;
}

/* ------------------------------------------------------------ formatting */

const char *sbt_fnum(double v, char *buf, apr_size_t len)
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

const char *sbt_fdur(int64_t s, char *buf, apr_size_t len)
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

const char *sbt_fsecs(double s, char *buf, apr_size_t len)
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

const char *sbt_sep(const sbt_canvas_t *cv)
{
    return cv->ascii ? " | " : " \xe2\x94\x82 ";
}

const char *sbt_dash(const sbt_canvas_t *cv)
{
    return cv->ascii ? "-" : "\xe2\x80\x94";
}


void sbt_draw_bar(sbt_canvas_t *cv, int y, int x, int width, double frac, sbt_style_t st)
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
    sbt_cv_put(cv, y, x, st, buf);
    off = 0;
    for (; i < width && off + 4 < sizeof(buf); i++) {
        off += (apr_size_t)snprintf(buf + off, sizeof(buf) - off, "%s", empty);
    }
    buf[off] = '\0';
    sbt_cv_put(cv, y, x + full, SBT_ST_DIM, buf);
}

void sbt_clean(char *dst, const char *src, apr_size_t len)
{
    apr_size_t i;
    for (i = 0; src[i] && i + 1 < len; i++) {
        unsigned char c = (unsigned char)src[i];
        dst[i] = c >= 0x20 && c < 0x7f ? (char)c : '?';
    }
    dst[i] = '\0';
}
