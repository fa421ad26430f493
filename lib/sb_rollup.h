/*
 * sb_rollup.h - closed seconds into history rows: one row per second, and
 * per minute the means and maxima over its non-gap seconds plus the
 * histograms of the keep-alive observations (sbtune-history(5)).
 */
#ifndef SB_ROLLUP_H
#define SB_ROLLUP_H

#include "sb_estimator.h"
#include "sb_history.h"

typedef struct sb_rollup sb_rollup_t;

sb_rollup_t *sb_rollup_create(apr_pool_t *p);

/* The history row of one second. */
void sb_rollup_second_row(const sb_second_t *s, sb_hist_second_t *row);

/* Add a closed second.  When it belongs to a later minute than the
 * seconds before it, the earlier minute is complete: returns 1 and fills
 * *out (its histogram pointers stay valid until the next call); else 0. */
int sb_rollup_add(sb_rollup_t *r, const sb_second_t *s, sb_hist_minute_t *out);

/* Complete the current minute (at exit); returns 1 when there was one. */
int sb_rollup_flush(sb_rollup_t *r, sb_hist_minute_t *out);

#endif
