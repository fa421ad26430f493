/*
 * sb_hist.c - the histogram and its codec (sb_hist.h).
 */
#include "config.h"
#include <math.h>
#include <stddef.h>
#include <string.h>

#include "sb_hist.h"

void sb_hist_init(sb_hist_t *h)
{
    memset(h, 0, sizeof(*h));
}

double sb_hist_edge(int i)
{
    int k;

    if (i <= 0) {
        return 0.0;
    }
    if (i > SB_HIST_NBUCKETS - 1) {
        i = SB_HIST_NBUCKETS - 1;
    }
    k = i - 1;
    return ldexp(exp2((double)(k % SB_HIST_PER_DOUBLING) / SB_HIST_PER_DOUBLING),
                 SB_HIST_LOW_EXP + k / SB_HIST_PER_DOUBLING);
}

int sb_hist_bucket(double v)
{
    int i;

    if (!(v >= sb_hist_edge(1))) {
        return 0;
    }
    if (v >= sb_hist_edge(SB_HIST_NBUCKETS - 1)) {
        return SB_HIST_NBUCKETS - 1;
    }
    i = 1 + (int)floor((log2(v) - SB_HIST_LOW_EXP) * SB_HIST_PER_DOUBLING);
    if (i < 1) {
        i = 1;
    }
    if (i > SB_HIST_NBUCKETS - 2) {
        i = SB_HIST_NBUCKETS - 2;
    }
    /* log2() may round across an edge: the edges decide */
    while (i > 1 && v < sb_hist_edge(i)) {
        i--;
    }
    while (i < SB_HIST_NBUCKETS - 2 && v >= sb_hist_edge(i + 1)) {
        i++;
    }
    return i;
}

void sb_hist_add(sb_hist_t *h, double v)
{
    if (!isfinite(v)) {
        return;
    }
    if (v < 0) {
        v = 0;
    }
    if (h->count == 0 || v < h->min) {
        h->min = v;
    }
    if (h->count == 0 || v > h->max) {
        h->max = v;
    }
    h->count++;
    h->sum += v;
    h->bucket[sb_hist_bucket(v)]++;
}

void sb_hist_merge(sb_hist_t *dst, const sb_hist_t *src)
{
    int i;

    if (src->count == 0) {
        return;
    }
    if (dst->count == 0 || src->min < dst->min) {
        dst->min = src->min;
    }
    if (dst->count == 0 || src->max > dst->max) {
        dst->max = src->max;
    }
    dst->count += src->count;
    dst->sum += src->sum;
    for (i = 0; i < SB_HIST_NBUCKETS; i++) {
        dst->bucket[i] += src->bucket[i];
    }
}

uint64_t sb_hist_count(const sb_hist_t *h)
{
    return h->count;
}

double sb_hist_quantile(const sb_hist_t *h, double q)
{
    double rank, cum = 0;
    int i;

    if (h->count == 0 || isnan(q)) {
        return NAN;
    }
    if (q <= 0) {
        return h->min;
    }
    if (q >= 1) {
        return h->max;
    }
    rank = q * (double)h->count;
    for (i = 0; i < SB_HIST_NBUCKETS; i++) {
        double c = (double)h->bucket[i], lo, hi;
        if (h->bucket[i] == 0) {
            continue;
        }
        if (cum + c >= rank) {
            lo = sb_hist_edge(i);
            hi = i + 1 < SB_HIST_NBUCKETS ? sb_hist_edge(i + 1) : h->max;
            if (lo < h->min) {
                lo = h->min;
            }
            if (hi > h->max) {
                hi = h->max;
            }
            if (hi < lo) {
                hi = lo;
            }
            return lo + (hi - lo) * (rank - cum) / c;
        }
        cum += c;
    }
    return h->max;
}

static unsigned char *put_varint(unsigned char *p, uint64_t v)
{
    while (v >= 0x80) {
        *p++ = (unsigned char)(v | 0x80);
        v >>= 7;
    }
    *p++ = (unsigned char)v;
    return p;
}

/* A minimal LEB128 varint of at most 64 bits; -1 when malformed. */
static int get_varint(const unsigned char **pp, const unsigned char *end, uint64_t *out)
{
    const unsigned char *p = *pp;
    uint64_t v = 0;
    int shift = 0;

    while (p < end) {
        unsigned char b = *p++;
        if (shift == 63 && b > 1) {
            return -1;
        }
        v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            if (b == 0 && shift > 0) {
                return -1;
            }
            *out = v;
            *pp = p;
            return 0;
        }
        shift += 7;
        if (shift > 63) {
            return -1;
        }
    }
    return -1;
}

static unsigned char *put_double(unsigned char *p, double d)
{
    uint64_t u;
    int i;

    memcpy(&u, &d, sizeof(u));
    for (i = 0; i < 8; i++) {
        p[i] = (unsigned char)(u >> (8 * i));
    }
    return p + 8;
}

static double get_double(const unsigned char *p)
{
    uint64_t u = 0;
    double d;
    int i;

    for (i = 0; i < 8; i++) {
        u |= (uint64_t)p[i] << (8 * i);
    }
    memcpy(&d, &u, sizeof(d));
    return d;
}

apr_size_t sb_hist_encode(const sb_hist_t *h, unsigned char *buf)
{
    unsigned char *p = buf;
    int i, prev = -1;

    *p++ = 1;
    p = put_varint(p, h->count);
    if (h->count > 0) {
        p = put_double(p, h->sum);
        p = put_double(p, h->min);
        p = put_double(p, h->max);
        for (i = 0; i < SB_HIST_NBUCKETS; i++) {
            if (h->bucket[i]) {
                p = put_varint(p, (uint64_t)(i - prev - 1));
                p = put_varint(p, h->bucket[i]);
                prev = i;
            }
        }
    }
    return (apr_size_t)(p - buf);
}

apr_status_t sb_hist_decode(sb_hist_t *h, const void *data, apr_size_t len)
{
    const unsigned char *p = data, *end;
    uint64_t count, total = 0, skip, c;
    int prev = -1, first = -1;

    sb_hist_init(h);
    if (!data || len < 2 || p[0] != 1) {
        return APR_EINVAL;
    }
    end = p + len;
    p++;
    if (get_varint(&p, end, &count) != 0) {
        return APR_EINVAL;
    }
    if (count == 0) {
        return p == end ? APR_SUCCESS : APR_EINVAL;
    }
    if (end - p < 24) {
        return APR_EINVAL;
    }
    h->sum = get_double(p);
    h->min = get_double(p + 8);
    h->max = get_double(p + 16);
    p += 24;
    if (!isfinite(h->sum) || !isfinite(h->min) || !isfinite(h->max)
        || h->sum < 0 || h->min < 0 || h->min > h->max) {
        goto bad;
    }
    while (p < end) {
        int idx;
        if (get_varint(&p, end, &skip) != 0
            || skip >= (uint64_t)(SB_HIST_NBUCKETS - 1 - prev)) {
            goto bad;
        }
        idx = prev + 1 + (int)skip;
        if (get_varint(&p, end, &c) != 0 || c == 0 || c > count - total) {
            goto bad;
        }
        h->bucket[idx] = c;
        total += c;
        if (first < 0) {
            first = idx;
        }
        prev = idx;
    }
    if (total != count || first < 0
        || sb_hist_bucket(h->min) != first || sb_hist_bucket(h->max) != prev) {
        goto bad;
    }
    h->count = count;
    return APR_SUCCESS;
bad:
    sb_hist_init(h);
    return APR_EINVAL;
}
