#include "config.h"
#include <math.h>
#include <string.h>
#include "sb_rollup.h"

typedef struct {
    int64_t ts;                 /* minute start, -1: none */
    int seconds, gaps, n;       /* n: non-gap seconds */
    int shm_seconds;
    double busy_sum, idle_sum, ka_sum, kac_sum, req_sum, conn_sum, bytes_sum, acc_sum;
    int kac_n, req_n, conn_n, bytes_n, acc_n;
    double busy_max, ka_max, kac_max, req_max, conn_max, acc_max;
    double lq_max, overflows, refused;
    int refused_n;
    int64_t pss_per_worker;
    int64_t mem_min;
    sb_hist_t hist[SB_OBS_N];
} minute_acc_t;

struct sb_rollup {
    minute_acc_t cur;
    minute_acc_t done;          /* the completed minute handed out */
};

static void acc_reset(minute_acc_t *m, int64_t ts)
{
    int i;
    memset(m, 0, sizeof(*m));
    m->ts = ts;
    m->pss_per_worker = -1;
    m->mem_min = -1;
    for (i = 0; i < SB_OBS_N; i++) {
        sb_hist_init(&m->hist[i]);
    }
}

sb_rollup_t *sb_rollup_create(apr_pool_t *p)
{
    sb_rollup_t *r = apr_pcalloc(p, sizeof(*r));
    acc_reset(&r->cur, -1);
    return r;
}

static int64_t round_or_unknown(double v)
{
    return isnan(v) ? SB_UNKNOWN : (int64_t)llround(v);
}

void sb_rollup_second_row(const sb_second_t *s, sb_hist_second_t *row)
{
    sb_hist_second_init(row, s->ts);
    row->gap = s->gap;
    row->samples = s->samples;
    if (s->gap) {
        return;
    }
    row->source = s->source;
    row->generation = s->generation;
    row->busy_mean = s->busy_mean;
    row->busy_max = round_or_unknown(s->busy_max);
    row->idle_mean = s->idle_mean;
    row->keepalive_slots_mean = s->keepalive_slots_mean;
    row->keepalive_conns_mean = s->keepalive_conns_mean;
    row->reading_mean = s->reading_mean;
    row->writing_mean = s->writing_mean;
    row->closing_mean = s->closing_mean;
    row->graceful_mean = s->graceful_mean;
    row->open_mean = s->open_mean;
    row->req_per_s = s->req_per_s;
    row->conn_per_s = s->conn_per_s;
    row->accepted_per_s = s->accepted_per_s;
    row->refused_per_s = s->refused_per_s;
    row->listen_queue_max = round_or_unknown(s->listen_queue_max);
    row->listen_overflows = round_or_unknown(s->listen_overflows);
    row->bytes_per_s = isnan(s->kbytes_per_s) ? NAN : s->kbytes_per_s * 1024;
    row->pss_total_bytes = s->pss_total_bytes >= 0 ? s->pss_total_bytes : SB_UNKNOWN;
    row->mem_available_bytes = s->mem_available_bytes >= 0 ? s->mem_available_bytes
                                                           : SB_UNKNOWN;
}

static void mean_max(double v, double *sum, int *n, double *max)
{
    if (!isnan(v)) {
        *sum += v;
        (*n)++;
        if (max && v > *max) {
            *max = v;
        }
    }
}

static void fill(const minute_acc_t *m, sb_hist_minute_t *out)
{
    sb_hist_minute_init(out, m->ts);
    out->seconds = m->seconds;
    out->gap_seconds = m->gaps;
    if (m->n == 0) {
        return;
    }
    out->source = m->shm_seconds * 2 >= m->n ? SB_SOURCE_SHM : SB_SOURCE_STATUS;
    out->busy_mean = m->busy_sum / m->n;
    out->busy_max = (int64_t)llround(m->busy_max);
    out->idle_mean = m->idle_sum / m->n;
    out->keepalive_slots_mean = m->ka_sum / m->n;
    out->keepalive_slots_max = m->ka_max;
    if (m->kac_n) {
        out->keepalive_conns_mean = m->kac_sum / m->kac_n;
        out->keepalive_conns_max = m->kac_max;
        out->listen_queue_max = (int64_t)llround(m->lq_max);
        out->listen_overflows = (int64_t)llround(m->overflows);
    }
    if (m->req_n) {
        out->req_per_s_mean = m->req_sum / m->req_n;
        out->req_per_s_max = m->req_max;
    }
    if (m->conn_n) {
        out->conn_per_s_mean = m->conn_sum / m->conn_n;
        out->conn_per_s_max = m->conn_max;
    }
    if (m->acc_n) {
        out->accepted_per_s_mean = m->acc_sum / m->acc_n;
        out->accepted_per_s_max = m->acc_max;
    }
    if (m->refused_n) {
        out->refused = (int64_t)llround(m->refused);
    }
    if (m->bytes_n) {
        out->bytes_per_s_mean = m->bytes_sum / m->bytes_n;
    }
    out->pss_per_worker_bytes = m->pss_per_worker >= 0 ? m->pss_per_worker : SB_UNKNOWN;
    out->mem_available_min = m->mem_min >= 0 ? m->mem_min : SB_UNKNOWN;
    out->ka_gap_hist = &m->hist[SB_OBS_KA_GAP];
    out->ka_close_hist = &m->hist[SB_OBS_KA_CLOSE];
    out->req_per_conn_hist = &m->hist[SB_OBS_REQ_PER_CONN];
    out->service_time_hist = &m->hist[SB_OBS_SERVICE];
    out->hold_time_hist = &m->hist[SB_OBS_HOLD];
    out->conn_lifetime_hist = &m->hist[SB_OBS_LIFETIME];
}

int sb_rollup_add(sb_rollup_t *r, const sb_second_t *s, sb_hist_minute_t *out)
{
    int64_t minute = s->ts - (s->ts % 60);
    minute_acc_t *m = &r->cur;
    int completed = 0, i, k;

    if (m->ts >= 0 && minute != m->ts) {
        r->done = *m;
        fill(&r->done, out);
        completed = m->seconds > 0;
        acc_reset(m, minute);
    }
    else if (m->ts < 0) {
        acc_reset(m, minute);
    }
    m->seconds++;
    if (s->gap) {
        m->gaps++;
        return completed;
    }
    m->n++;
    m->shm_seconds += s->source == SB_SOURCE_SHM;
    m->busy_sum += s->busy_mean;
    m->busy_max = fmax(m->busy_max, s->busy_max);
    m->idle_sum += s->idle_mean;
    m->ka_sum += s->keepalive_slots_mean;
    m->ka_max = fmax(m->ka_max, s->keepalive_slots_max);
    mean_max(s->keepalive_conns_mean, &m->kac_sum, &m->kac_n, &m->kac_max);
    if (!isnan(s->keepalive_conns_max)) {
        m->kac_max = fmax(m->kac_max, s->keepalive_conns_max);
    }
    mean_max(s->req_per_s, &m->req_sum, &m->req_n, &m->req_max);
    mean_max(s->conn_per_s, &m->conn_sum, &m->conn_n, &m->conn_max);
    mean_max(s->accepted_per_s, &m->acc_sum, &m->acc_n, &m->acc_max);
    if (!isnan(s->refused_per_s)) {
        m->refused += s->refused_per_s;
        m->refused_n++;
    }
    if (!isnan(s->kbytes_per_s)) {
        m->bytes_sum += s->kbytes_per_s * 1024;
        m->bytes_n++;
    }
    if (!isnan(s->listen_queue_max)) {
        m->lq_max = fmax(m->lq_max, s->listen_queue_max);
    }
    if (!isnan(s->listen_overflows)) {
        m->overflows += s->listen_overflows;
    }
    if (s->pss_total_bytes >= 0 && s->slots_total > 0 && !isnan(s->open_mean)
        && s->slots_total - s->open_mean >= 1) {
        m->pss_per_worker = (int64_t)(s->pss_total_bytes / (s->slots_total - s->open_mean));
    }
    if (s->mem_available_bytes >= 0
        && (m->mem_min < 0 || s->mem_available_bytes < m->mem_min)) {
        m->mem_min = s->mem_available_bytes;
    }
    for (i = 0; i < SB_OBS_N; i++) {
        for (k = 0; k < s->obs[i].n; k++) {
            sb_hist_add(&m->hist[i], s->obs[i].v[k]);
        }
    }
    return completed;
}

int sb_rollup_flush(sb_rollup_t *r, sb_hist_minute_t *out)
{
    if (r->cur.ts < 0 || r->cur.seconds == 0) {
        return 0;
    }
    r->done = r->cur;
    fill(&r->done, out);
    acc_reset(&r->cur, -1);
    return 1;
}
