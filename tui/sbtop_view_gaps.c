/*
 * sbtop_view_gaps.c - the keep-alive gaps view: the histogram of the idle
 * gaps that ended with another request on the same connection.
 */
#include "config.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <apr_strings.h>

#include "sb_slot.h"
#include "sbtop.h"
#include "sbtop_draw.h"

int sbt_gaps_draw(sbt_canvas_t *cv, const sbt_app_t *app, int y, int end, apr_pool_t *p)
{
    const sb_hist_t *h = &app->ka_gap;
    uint64_t count = sb_hist_count(h), per[40], mx = 0;
    char a[32], b[32], c[32], d[32], e[32];
    int i, lo = -1, hi = -1, barw = cv->cols - 36;

    (void)p;
    sbt_cv_bar(cv, y, SBT_ST_TITLE);
    sbt_cv_printf(cv, y++, 0, SBT_ST_TITLE, "Keep-alive gaps between requests on a connection: "
                  "%llu %s", (unsigned long long)count,
                  app->replay ? "in the hour before" : "since start");
    sbt_cv_printf(cv, y++, 0, SBT_ST_NORMAL, "idle periods ended by a close: %llu (gaps longer "
                  "than KeepAliveTimeout are never seen)", (unsigned long long)app->ka_close_n);
    if (count == 0) {
        sbt_cv_put(cv, y++, 0, SBT_ST_NORMAL, "no gaps observed yet: they come from the scoreboard "
                   "(prefork, worker) or the kernel (event, mod_status)");
        return y;
    }
    sbt_cv_printf(cv, y++, 0, SBT_ST_BOLD, "p50 %s   p90 %s   p95 %s   p99 %s   max %s",
                  sbt_fsecs(sb_hist_quantile(h, 0.5), a, sizeof(a)),
                  sbt_fsecs(sb_hist_quantile(h, 0.9), b, sizeof(b)),
                  sbt_fsecs(sb_hist_quantile(h, 0.95), c, sizeof(c)),
                  sbt_fsecs(sb_hist_quantile(h, 0.99), d, sizeof(d)),
                  sbt_fsecs(h->max, e, sizeof(e)));
    sbt_cv_printf(cv, y++, 0, SBT_ST_NORMAL, "a KeepAliveTimeout of %s catches 95 %% of the "
                  "follow-up requests seen", sbt_fsecs(sb_hist_quantile(h, 0.95), a, sizeof(a)));
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
            snprintf(range, sizeof(range), "< %s", sbt_fsecs(sb_hist_edge(1), a, sizeof(a)));
        }
        else if (i == 23) {
            snprintf(range, sizeof(range), ">= %s", sbt_fsecs(sb_hist_edge(SB_HIST_NBUCKETS - 1),
                                                              a, sizeof(a)));
        }
        else {
            int b0 = 1 + (i - 1) * SB_HIST_PER_DOUBLING;
            snprintf(range, sizeof(range), "%s - %s", sbt_fsecs(sb_hist_edge(b0), a, sizeof(a)),
                     sbt_fsecs(sb_hist_edge(b0) * 2, b, sizeof(b)));
        }
        sbt_cv_printf(cv, y, 0, SBT_ST_NORMAL, "%19s %8llu ", range, (unsigned long long)per[i]);
        sbt_draw_bar(cv, y, 29, barw, mx ? (double)per[i] / (double)mx : 0, SBT_ST_BAR_KA);
        y++;
    }
    return y;
}

/* Seconds around the replayed moment (replay's stand-in for the map). */
