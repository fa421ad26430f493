/*
 * sbtop_dash.c - sbtop's dashboard: the slot map (or, in a replay, the
 * seconds around the replayed one), the gauges, the rate sparklines and
 * the capacity line.
 */
#include "config.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <apr_strings.h>

#include "sb_slot.h"
#include "sbtop.h"
#include "sbtop_draw.h"

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
        x += sbt_cv_put(cv, y, x, (sbt_style_t)(SBT_ST_SLOT0 + i), ch);
        x += sbt_cv_put(cv, y, x, SBT_ST_NORMAL, buf);
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
        sbt_cv_put(cv, y + line, cx, dim ? SBT_ST_DIM : (sbt_style_t)(SBT_ST_SLOT0 + st), ch);
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
    x = sbt_cv_put(cv, y, 0, SBT_ST_BOLD, "Slots");
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
            sbt_cv_printf(cv, y + x, 0, SBT_ST_DIM, "%5d", x * width);
        }
        shown = draw_cells(cv, s, 0, mw, y, 7, width, group, lines, 0);
        y += shown;
        if (need > lines) {
            sbt_cv_printf(cv, end - 1, 7, SBT_ST_DIM, "... %d more slots (enlarge the window)",
                          mw - lines * width);
        }
        if (mw < n && y < end) {
            int left = end - y - 1, l;
            if (left > 0) {
                sbt_cv_printf(cv, y, 0, SBT_ST_DIM, "beyond MaxRequestWorkers %d (not usable "
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
                    sbt_cv_printf(cv, y, 0, SBT_ST_DIM, "%3d-%-3d %s  (%d process slots unused)",
                                  p, q, "", q - p + 1);
                }
                else {
                    sbt_cv_printf(cv, y, 0, SBT_ST_DIM, "%3d     %s  (process slot unused)", p, "");
                }
                y++;
                p = q + 1;
                continue;
            }
            if (y == end - 1 && p + 1 < s->nprocs) {
                sbt_cv_printf(cv, y, 0, SBT_ST_DIM, "... %d more process slots (enlarge the "
                              "window)", s->nprocs - p);
                y++;
                break;
            }
            sbt_cv_printf(cv, y, 0, SBT_ST_DIM, "%3d", p);
            if (s->procs[p].pid > 0) {
                sbt_cv_printf(cv, y, 4, s->procs[p].quiescing ? SBT_ST_DIM : SBT_ST_NORMAL, "%7d",
                              (int)s->procs[p].pid);
            }
            if (s->procs[p].quiescing) {
                sbt_cv_put(cv, y, 12, SBT_ST_DIM, "old");
            }
            lines = draw_cells(cv, s, p * tl, (p + 1) * tl, y, 16, perline, group, end - y, 0);
            y += lines;
            p++;
        }
    }
    return y;
}

/* ------------------------------------------------------------ gauges */

static void gauge(sbt_canvas_t *cv, int y, int x, int width, const char *label, double v,
                  double total, sbt_style_t st)
{
    char n[32], buf[64];
    int barw = width - 12 - 16;

    sbt_cv_printf(cv, y, x, SBT_ST_BOLD, "%-11s", label);
    sbt_cv_put(cv, y, x + 11, SBT_ST_NORMAL, "[");
    sbt_draw_bar(cv, y, x + 12, barw, total > 0 ? v / total : NAN, st);
    sbt_cv_put(cv, y, x + 12 + barw, SBT_ST_NORMAL, "]");
    if (total > 0 && !isnan(v)) {
        snprintf(buf, sizeof(buf), " %s/%.0f %3.0f%%", sbt_fnum(v, n, sizeof(n)), total,
                 100.0 * v / total);
    }
    else {
        snprintf(buf, sizeof(buf), " %s", sbt_fnum(v, n, sizeof(n)));
    }
    sbt_cv_put(cv, y, x + 13 + barw, SBT_ST_NORMAL, buf);
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
        sbt_cv_printf(cv, y, 0, SBT_ST_NORMAL, "accept queue max %s%sidle keep-alive conns %s%s"
                      "gauges of %s", app->have_row && app->row.listen_queue_max >= 0
                      ? sbt_fnum((double)app->row.listen_queue_max, a, sizeof(a)) : "-",
                      sbt_sep(cv),
                      app->have_row ? sbt_fnum(app->row.keepalive_conns_mean, b, sizeof(b)) : "-",
                      sbt_sep(cv), total_name);
        return y + 1;
    }
    if (app->have_kernel) {
        sbt_cv_printf(cv, y, 0, app->k_queue > 0 ? SBT_ST_WARN : SBT_ST_NORMAL,
                      "accept queue %s%sidle keep-alive conns (kernel) %s%sestablished %s%s"
                      "gauges of %s", sbt_fnum(app->k_queue, a, sizeof(a)), sbt_sep(cv),
                      sbt_fnum(app->k_idle_ka, b, sizeof(b)), sbt_sep(cv),
                      sbt_fnum(app->k_established, c, sizeof(c)), sbt_sep(cv), total_name);
    }
    else {
        sbt_cv_printf(cv, y, 0, SBT_ST_NORMAL, "accept queue -%sidle keep-alive conns - (no "
                      "kernel view)%sgauges of %s", sbt_sep(cv), sbt_sep(cv), total_name);
    }
    return y + 1;
}

/* ------------------------------------------------------------ rates */

static double sec_value(const sbt_app_t *app, const sbt_sec_t *s, sbt_rate_t r)
{
    if (s->gap) {
        return NAN;
    }
    switch (r) {
    case SBT_R_REQ: return s->req;
    case SBT_R_CONN: return s->conn;
    case SBT_R_BUSY: return s->busy;
    case SBT_R_ACCEPTED: return s->accepted;
    case SBT_R_QUEUE: return s->queue;
    case SBT_R_KA:
        if (!isnan(s->ka_conns) && (s->ka_slots == 0 || isnan(s->ka_slots))
            && app->sample && app->sample->server.mpm_id == SB_MPM_EVENT) {
            return s->ka_conns;
        }
        if (app->replay && !isnan(s->ka_conns) && s->ka_slots == 0) {
            return s->ka_conns;
        }
        return s->ka_slots;
    }
    return NAN;
}

double sbt_ring_mean(const sbt_app_t *app, sbt_rate_t r, int n, double *maxv)
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
                       sbt_rate_t r, int per)
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
    sbt_cv_put(cv, y, x, SBT_ST_SPARK, buf);
}

static int draw_rates(sbt_canvas_t *cv, const sbt_app_t *app, int y)
{
    static const struct {
        sbt_rate_t r;
        const char *label;
    } rows[] = {
        { SBT_R_REQ, "requests/s" },
        { SBT_R_CONN, "arrivals/s" },
        { SBT_R_BUSY, "busy slots" },
        { SBT_R_KA, "keep-alive" },
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
        double avg = sbt_ring_mean(app, rows[i].r, width * per, &mx);
        sbt_cv_printf(cv, y + i, 0, SBT_ST_BOLD, "%-11s", rows[i].label);
        sbt_cv_printf(cv, y + i, 11, SBT_ST_NORMAL, "%7s", sbt_fnum(now, a, sizeof(a)));
        draw_spark(cv, app, y + i, 19, width, rows[i].r, per);
        sbt_cv_printf(cv, y + i, 20 + width, SBT_ST_DIM, "avg %s max %s",
                      sbt_fnum(avg, b, sizeof(b)), sbt_fnum(mx, c, sizeof(c)));
    }
    {
        const sbt_sec_t *s = sbt_ring_get(app, 0);
        int x = 19 + sbt_cv_printf(cv, y + 4, 19, SBT_ST_DIM, "last %s, %d s per column, "
                                   "newest right", sbt_fdur((int64_t)width * per, a,
                                                            sizeof(a)), per);
        if (s && !isnan(s->accepted) && !isnan(s->conn) && fabs(s->conn - s->accepted) >= 0.5) {
            /* clients wait in the accept queue, or it drains */
            sbt_cv_printf(cv, y + 4, x, SBT_ST_WARN, "; %s arrived, httpd accepted %s",
                          sbt_fnum(s->conn, b, sizeof(b)), sbt_fnum(s->accepted, c, sizeof(c)));
        }
    }
    return y + 5;
}

/* ------------------------------------------------------------ capacity */

/* "; N clients wait in the accept queue, about S s each" (Little's law:
 * the queue / the rate httpd accepts at), or "". */
static const char *waiting_words(const sbt_app_t *app, double accepted, char *buf,
                                 apr_size_t len)
{
    const sbt_sec_t *s = sbt_ring_get(app, 0);
    char q[32], w[32];

    if (!s || isnan(s->queue) || s->queue < 1) {
        return "";
    }
    if (isnan(accepted) || accepted <= 0.01) {
        snprintf(buf, len, "; %s clients wait in the accept queue and httpd takes none",
                 sbt_fnum(s->queue, q, sizeof(q)));
    }
    else {
        snprintf(buf, len, "; %s clients wait in the accept queue, about %s s each",
                 sbt_fnum(s->queue, q, sizeof(q)), sbt_fnum(s->queue / accepted, w, sizeof(w)));
    }
    return buf;
}

static int draw_capacity(sbt_canvas_t *cv, const sbt_app_t *app, int y, int maxl, double total)
{
    char text[768], w_txt[160], kat[64], a[32], b[32], c[32], waits[160];
    double hold_sum = 0, hold_w = NAN, lambda, accepted, busy, sustain;
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
    lambda = sbt_ring_mean(app, SBT_R_CONN, 60, NULL);
    accepted = sbt_ring_mean(app, SBT_R_ACCEPTED, 60, NULL);
    busy = sbt_ring_mean(app, SBT_R_BUSY, 60, NULL);
    if (isnan(accepted)) {
        accepted = lambda;
    }
    /* Little's law on what the slots hold: busy = accepted x W (arrivals
     * that wait in the queue hold no slot yet) */
    if (isnan(hold_w) && !isnan(accepted) && accepted > 0 && !isnan(busy)) {
        hold_w = busy / accepted;
        snprintf(w_txt, sizeof(w_txt), "busy %s / %s accepted/s",
                 sbt_fnum(busy, a, sizeof(a)), sbt_fnum(accepted, b, sizeof(b)));
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
                 sbt_fnum(lambda, a, sizeof(a)));
        return y + sbt_cv_wrap(cv, y, 0, maxl, SBT_ST_NORMAL, text);
    }
    sustain = n / hold_w;
    /* the verdict first: a narrow terminal cuts the derivation, not it */
    if (!isnan(lambda)) {
        double head = 100.0 * (1.0 - lambda / sustain);
        snprintf(text, sizeof(text), "Capacity: headroom %.0f %%: now %s new clients/s, "
                 "%s %d sustains %s/s%s (%d/W, W = %.2f s/conn from %s; %s)", head,
                 sbt_fnum(lambda, b, sizeof(b)), nname, n, sbt_fnum(sustain, a, sizeof(a)),
                 waiting_words(app, accepted, waits, sizeof(waits)), n, hold_w, w_txt, kat);
    }
    else {
        snprintf(text, sizeof(text), "Capacity: %s %d sustains %s new clients/s; arrival rate "
                 "unknown (%d/W, W = %.2f s/conn from %s; %s)", nname, n,
                 sbt_fnum(sustain, c, sizeof(c)), n, hold_w, w_txt, kat);
    }
    return y + sbt_cv_wrap(cv, y, 0, maxl, !isnan(lambda) && lambda > sustain ? SBT_ST_WARN
                           : SBT_ST_NORMAL, text);
}

static int draw_replay_table(sbt_canvas_t *cv, const sbt_app_t *app, int y, int end)
{
    int i;
    char v[8][32];

    sbt_cv_put(cv, y++, 0, SBT_ST_NOTICE, "No per-slot map in history: the agent records "
               "per-second figures, not slots.");
    if (y >= end) {
        return y;
    }
    sbt_cv_printf(cv, y++, 0, SBT_ST_BOLD, "  %-8s %6s %6s %6s %8s %8s %8s %6s", "TIME", "BUSY",
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
            sbt_cv_printf(cv, y++, 0, i == 5 ? SBT_ST_BOLD : SBT_ST_DIM, "%s %-8s (not recorded)",
                          i == 5 ? ">" : " ", t);
            continue;
        }
        if (r->gap) {
            sbt_cv_printf(cv, y++, 0, i == 5 ? SBT_ST_BOLD : SBT_ST_DIM, "%s %-8s (gap: httpd not "
                          "reachable)", i == 5 ? ">" : " ", t);
            continue;
        }
        sbt_cv_printf(cv, y++, 0, i == 5 ? SBT_ST_BOLD : SBT_ST_NORMAL,
                      "%s %-8s %6s %6s %6s %8s %8s %8s %6s", i == 5 ? ">" : " ", t,
                      sbt_fnum(r->busy_mean, v[0], 32), sbt_fnum(r->idle_mean, v[1], 32),
                      sbt_fnum(r->keepalive_slots_mean, v[2], 32),
                      sbt_fnum(r->keepalive_conns_mean, v[3], 32), sbt_fnum(r->req_per_s, v[4], 32),
                      sbt_fnum(r->conn_per_s, v[5], 32),
                      r->listen_queue_max < 0 ? "-"
                      : sbt_fnum((double)r->listen_queue_max, v[6], 32));
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
        sbt_cv_printf(cv, y++, 0, SBT_ST_NOTICE, "nothing recorded at this second; recorded "
                      "before: %s, after: %s", bb, aa);
    }
    return y;
}

void sbt_totals(const sbt_app_t *app, sbt_totals_t *t)
{
    const sb_sample_t *s = app->sample;

    if (app->replay) {
        const sb_hist_second_t *r = &app->row;
        t->busy = app->have_row ? r->busy_mean : NAN;
        t->ka = app->have_row ? r->keepalive_slots_mean : NAN;
        t->idle = app->have_row ? r->idle_mean : NAN;
        t->open = app->have_row ? r->open_mean : NAN;
        t->total = app->max_workers > 0 ? app->max_workers
                   : app->have_row ? floor(r->busy_mean + r->idle_mean + r->open_mean
                                           + r->graceful_mean + 0.5) : NAN;
        t->total_name = app->max_workers > 0 ? "MaxRequestWorkers" : "slots (busy+idle+open)";
    }
    else if (s) {
        t->busy = s->busy;
        t->ka = s->slots[SB_SLOT_KEEPALIVE];
        t->idle = s->idle;
        t->open = s->slots[SB_SLOT_DEAD];
        t->total = app->max_workers > 0 ? app->max_workers : s->nworkers;
        t->total_name = app->max_workers > 0 ? "MaxRequestWorkers" : "all slots";
        if (app->max_workers > 0 && app->max_workers < s->nworkers) {
            t->open -= s->nworkers - app->max_workers;   /* open slots usable */
            if (t->open < 0) {
                t->open = 0;
            }
        }
    }
    else {
        t->busy = t->ka = t->idle = t->open = t->total = NAN;
        t->total_name = "slots";
    }
}

int sbt_dash_draw(sbt_canvas_t *cv, const sbt_app_t *app, int y, int end, apr_pool_t *p)
{
    /* fixed: gauges 5 (3 wide), rates 5, capacity 2; the map gets the rest */
    int gauges = cv->cols >= 120 ? 3 : 5, fixed = gauges + 5 + 2 + 1;
    int avail = end - y - fixed;
    sbt_totals_t t;

    (void)p;
    sbt_totals(app, &t);
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
    y = draw_gauges(cv, app, y, t.busy, t.ka, t.idle, t.open, t.total, t.total_name);
    y = draw_rates(cv, app, y);
    return draw_capacity(cv, app, y, 2, t.total);
}
