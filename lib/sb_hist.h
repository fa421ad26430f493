/*
 * sb_hist.h - the one histogram type for every distribution sbtune keeps,
 * and its compact binary encoding (stored in the history's SQLite file,
 * format in sbtune-history(5)).  Pure: no I/O.
 */
#ifndef SB_HIST_H
#define SB_HIST_H

#include <stdint.h>
#include <apr_errno.h>


/*
 * One histogram type for every distribution sbtune keeps (times in seconds,
 * requests per connection as a plain count).  The bucket edges are fixed
 * and the same in every file: 4 buckets per doubling from 2^-10 s
 * (0.977 ms) to 2^12 s (4096 s, 68 min):
 *
 *   bucket 0                      [0, 2^-10)            underflow
 *   bucket i, 1 <= i <= 88        [2^(-10+(i-1)/4), 2^(-10+i/4))
 *   bucket 89                     [2^12, infinity)       overflow
 *
 * A bucket spans a factor 2^(1/4) = 1.189, so a quantile is off by less than
 * 19 % of its value (less in practice: it is interpolated within its bucket
 * and clamped to the exact min and max, which are kept).
 */
#define SB_HIST_PER_DOUBLING 4
#define SB_HIST_LOW_EXP      (-10)
#define SB_HIST_HIGH_EXP     12
#define SB_HIST_NBUCKETS \
    ((SB_HIST_HIGH_EXP - SB_HIST_LOW_EXP) * SB_HIST_PER_DOUBLING + 2)
/* Largest encoding sb_hist_encode() produces, in bytes. */
#define SB_HIST_ENCODED_MAX  (1 + 10 + 24 + SB_HIST_NBUCKETS * 11)

/* An all-zero sb_hist_t is a valid empty histogram. */
typedef struct {
    uint64_t count;             /* values added */
    double sum;                 /* their sum (for the mean) */
    double min;                 /* smallest value; 0 when count is 0 */
    double max;                 /* largest value; 0 when count is 0 */
    uint64_t bucket[SB_HIST_NBUCKETS];
} sb_hist_t;

/* Empty h. */
void sb_hist_init(sb_hist_t *h);

/* Count one value.  NaN and infinities are ignored; a negative value
 * counts as 0. */
void sb_hist_add(sb_hist_t *h, double value);

/* Add src's counts to dst (dst may be empty). */
void sb_hist_merge(sb_hist_t *dst, const sb_hist_t *src);

/* Number of values counted. */
uint64_t sb_hist_count(const sb_hist_t *h);

/* The q-quantile (0 <= q <= 1; clamped) by linear interpolation within the
 * bucket holding rank q * count, clamped to [min, max]; q = 0 gives min and
 * q = 1 gives max exactly.  NaN when h is empty or q is NaN. */
double sb_hist_quantile(const sb_hist_t *h, double q);

/* Lower edge of bucket i (0 for bucket 0), and the bucket a value falls in. */
double sb_hist_edge(int i);
int sb_hist_bucket(double value);

/* Encode h into buf (at least SB_HIST_ENCODED_MAX bytes) in the compact
 * binary form stored in SQLite (format in sbtune-history(5)); returns the
 * length. */
apr_size_t sb_hist_encode(const sb_hist_t *h, unsigned char *buf);

/* Decode len bytes into h.  Returns APR_SUCCESS, or APR_EINVAL for anything
 * that is not exactly a valid encoding (h is then empty). */
apr_status_t sb_hist_decode(sb_hist_t *h, const void *data, apr_size_t len);

#endif
