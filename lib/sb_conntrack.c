#include "config.h"
#include <stdlib.h>
#include <string.h>
#include "sb_conntrack.h"

/* A connection that was idle for less than this since its last response is
 * not counted idle at once: the response may not be complete.  The next
 * sample tells (see pending below). */
#define IDLE_MIN_MS 20
/* Linux keeps a timewait socket this long (TCP_TIMEWAIT_LEN). */
#define TIMEWAIT_MS 60000

typedef struct {
    uint64_t key;               /* 0: empty slot, 1: deleted */
    int state;
    int has_info;
    uint64_t bytes_received;
    uint64_t bytes_acked;
    uint32_t data_segs_in;
    apr_time_t idle_since;      /* end of the last response while idle, 0 busy */
    apr_time_t pending_since;   /* idle for less than IDLE_MIN_MS at the last
                                 * sample: the end of its response, 0 none */
    unsigned int seen_gen;      /* sample generation it was last seen in */
    int destroyed;              /* the destroy feed reported its end */
    uint32_t credited;          /* its requests counted in requests_seen */
    apr_time_t gone_at;         /* missing from the dump, its destroy message
                                 * not yet read: that sample's time; 0 not
                                 * gone */
    int assumed_one;            /* seen first in TIME_WAIT: one request assumed */
} entry_t;

struct sb_conntrack {
    entry_t *tab;
    apr_size_t cap;             /* power of two */
    apr_size_t used;            /* live + deleted */
    apr_size_t live;
    unsigned int gen;
    int baseline_done;          /* the first sample only registers */
    sb_conntrack_obs_cb cb;
    void *baton;
    sb_conntrack_stats_t stats;
};

static apr_status_t cleanup(void *data)
{
    sb_conntrack_t *t = data;
    free(t->tab);
    t->tab = NULL;
    return APR_SUCCESS;
}

sb_conntrack_t *sb_conntrack_create(apr_pool_t *p, sb_conntrack_obs_cb cb, void *baton)
{
    sb_conntrack_t *t = apr_pcalloc(p, sizeof(*t));
    t->cap = 1024;
    t->tab = calloc(t->cap, sizeof(entry_t));
    t->cb = cb;
    t->baton = baton;
    apr_pool_cleanup_register(p, t, cleanup, apr_pool_cleanup_null);
    return t;
}

void sb_conntrack_destroy(sb_conntrack_t *t)
{
    cleanup(t);
}

static uint64_t fix_key(uint64_t k)
{
    return k < 2 ? k + 2 : k;
}

static entry_t *find(sb_conntrack_t *t, uint64_t key, int create)
{
    apr_size_t i = (apr_size_t)(key & (t->cap - 1)), first_del = (apr_size_t)-1;

    for (;;) {
        entry_t *e = &t->tab[i];
        if (e->key == key) {
            return e;
        }
        if (e->key == 1 && first_del == (apr_size_t)-1) {
            first_del = i;
        }
        if (e->key == 0) {
            if (!create) {
                return NULL;
            }
            if (first_del != (apr_size_t)-1) {
                e = &t->tab[first_del];
            }
            else {
                t->used++;
            }
            memset(e, 0, sizeof(*e));
            e->key = key;
            t->live++;
            return e;
        }
        i = (i + 1) & (t->cap - 1);
    }
}

static void rehash(sb_conntrack_t *t, apr_size_t cap)
{
    entry_t *old = t->tab;
    apr_size_t oldcap = t->cap, i;

    t->tab = calloc(cap, sizeof(entry_t));
    if (!t->tab) {
        t->tab = old;          /* keep going with the old table */
        return;
    }
    t->cap = cap;
    t->used = t->live = 0;
    for (i = 0; i < oldcap; i++) {
        if (old[i].key > 1) {
            entry_t *e = find(t, old[i].key, 1);
            *e = old[i];
        }
    }
    free(old);
}

static int server_closing(int state)
{
    return state == SB_TCP_FIN_WAIT1 || state == SB_TCP_FIN_WAIT2
           || state == SB_TCP_TIME_WAIT || state == SB_TCP_CLOSING;
}

static int client_closing(int state)
{
    return state == SB_TCP_CLOSE_WAIT || state == SB_TCP_LAST_ACK;
}

static void observe(sb_conntrack_t *t, apr_time_t ts, sb_obs_kind_t kind, double v)
{
    if (t->cb && v >= 0) {
        t->cb(t->baton, ts, kind, v);
    }
}

/* The idle period of e ended with a close at about 'when'. */
static void closed(sb_conntrack_t *t, entry_t *e, apr_time_t ts, apr_time_t when, int by_server)
{
    /* data segments received: one per request for ordinary requests; a
     * last request after the latest sample is not counted */
    if (e->data_segs_in > 0) {
        observe(t, ts, SB_OBS_REQ_PER_CONN, (double)e->data_segs_in);
    }
    if (e->idle_since > 0) {
        observe(t, ts, SB_OBS_KA_CLOSE, (double)(when - e->idle_since) / APR_USEC_PER_SEC);
        if (by_server) {
            t->stats.closed_by_server++;
        }
        else {
            t->stats.closed_by_client++;
        }
    }
    e->idle_since = 0;
}

/* A connection the destroy feed reported freed: its final request count.
 * One followed until now gets the requests that came after its last
 * sample; one never seen (it came and went between two samples) is a new
 * connection with all its requests.  Its entry stays while the dumps list
 * it (a server-closed one in TIME_WAIT). */
static void destroyed(sb_conntrack_t *t, const sb_conn_t *c, sb_kernel_view_t *view)
{
    uint64_t key = fix_key(sb_kernel_tuple_hash(c));
    entry_t *e = find(t, key, 0);
    int segs = c->has_info ? (int)c->data_segs_in : 1;

    if (e && !e->destroyed) {
        /* followed: what came after the requests counted so far (one
         * assumed for one seen only in TIME_WAIT) */
        int had = e->assumed_one ? 1 : (int)e->credited;
        if (t->baseline_done && segs != had && (segs > had || e->assumed_one)) {
            view->requests_seen += segs - had;
        }
        if (e->pending_since > 0) {
            view->idle_late++;  /* its response had gone out: then it ended */
        }
    }
    else {
        /* never seen, or its 4-tuple's earlier connection was */
        if (!e) {
            e = find(t, key, 1);
        }
        else {
            memset(e, 0, sizeof(*e));
            e->key = key;
        }
        e->state = SB_TCP_CLOSE;
        if (t->baseline_done) {
            view->new_conns++;
            view->requests_seen += segs;
            view->unseen_destroyed++;
        }
    }
    e->destroyed = 1;
    e->assumed_one = 0;
    e->credited = (uint32_t)(segs > 0 ? segs : 0);
    if (c->has_info) {
        e->data_segs_in = c->data_segs_in;
        e->bytes_received = c->bytes_received;
        e->bytes_acked = c->bytes_acked;
    }
    e->pending_since = 0;
    /* swept at the end of this update unless the dump lists it (TIME_WAIT) */
}

/* An established connection seen again: idle or not, its keep-alive gaps
 * and a response that had just gone out at the last sample. */
static void established(sb_conntrack_t *t, entry_t *e, const sb_conn_t *c, apr_time_t ts,
                        int is_new, sb_kernel_view_t *view)
{
    apr_time_t recv_at = ts - apr_time_from_msec(c->last_data_recv_ms);
    apr_time_t sent_at = ts - apr_time_from_msec(c->last_data_sent_ms);
    int quiet = c->bytes_received > 0 && c->bytes_acked > 0 && sent_at >= recv_at
                && c->wqueue == 0 && c->rqueue == 0;
    int idle = quiet && c->last_data_sent_ms >= IDLE_MIN_MS;
    apr_time_t since = e->idle_since > 0 ? e->idle_since : e->pending_since;

    view->established++;
    if (!is_new && e->pending_since > 0
        && (c->bytes_received > e->bytes_received || (c->bytes_acked == e->bytes_acked
                                                      && c->bytes_received == e->bytes_received))) {
        /* its response had just gone out at the last sample: it was
         * complete then, as nothing was sent since, or the client
         * sent its next request (a client asks again once it has
         * the whole response): idle at the last sample */
        view->idle_late++;
    }
    if (!is_new && since > 0 && c->bytes_received > e->bytes_received
        && recv_at >= since) {
        /* requests arrived since the last sample, after an idle
         * period: the span holds as many gaps as requests */
        uint32_t n = c->data_segs_in > e->data_segs_in ? c->data_segs_in - e->data_segs_in : 1;
        double span = (double)(recv_at - since) / APR_USEC_PER_SEC;
        uint32_t j;
        if (n > 16) {
            n = 16;
        }
        for (j = 0; j < n; j++) {
            observe(t, ts, SB_OBS_KA_GAP, span / n);
        }
    }
    if (idle) {
        view->idle_keepalive++;
        e->idle_since = sent_at;
    }
    else {
        e->idle_since = 0;
    }
    e->pending_since = quiet && !idle ? sent_at : 0;
    e->bytes_received = c->bytes_received;
    e->bytes_acked = c->bytes_acked;
    e->data_segs_in = c->data_segs_in;
}

/* An established connection seen closing: who closed it first, and when. */
static void left_established(sb_conntrack_t *t, entry_t *e, const sb_conn_t *c, apr_time_t ts,
                             sb_kernel_view_t *view)
{
    if (e->pending_since > 0 && !e->destroyed) {
        view->idle_late++;  /* its response had gone out: then it ended */
    }
    e->pending_since = 0;
    if (server_closing(c->state)) {
        apr_time_t when = ts;
        if (c->state == SB_TCP_TIME_WAIT && c->expires_ms > 0
            && c->expires_ms <= TIMEWAIT_MS) {
            when = ts - apr_time_from_msec(TIMEWAIT_MS - c->expires_ms);
        }
        closed(t, e, ts, when, 1);
    }
    else if (client_closing(c->state)) {
        closed(t, e, ts, ts, 0);
        view->vanished++;
        /* with the destroy feed its last requests are counted
         * when the kernel frees it */
        view->tail_unknown += !e->destroyed && !view->have_destroyed;
    }
}

/* One connection of the dump: new or followed, its requests, its state. */
static void track(sb_conntrack_t *t, const sb_conn_t *c, apr_time_t ts, sb_kernel_view_t *view)
{
    uint64_t key = fix_key(sb_kernel_tuple_hash(c));
    entry_t *e = find(t, key, 0);
    int is_new = 0;

    if (c->state == SB_TCP_SYN_RECV) {
        return;             /* not accepted yet: counted once established */
    }
    if (!e) {
        e = find(t, key, 1);
        is_new = 1;
    }
    else if ((e->state == SB_TCP_TIME_WAIT || e->destroyed || e->gone_at > 0)
             && c->state != SB_TCP_TIME_WAIT && c->has_info) {
        /* the client reused the port of a connection in TIME_WAIT (or
         * of one the kernel freed) */
        memset(e, 0, sizeof(*e));
        e->key = key;
        is_new = 1;
    }
    if (is_new && t->baseline_done) {
        view->new_conns++;
        if (!c->has_info) {
            view->requests_seen++;      /* seen only closed: assume one */
            e->assumed_one = 1;
        }
    }
    e->seen_gen = t->gen;
    if (!t->baseline_done) {
        e->credited = c->data_segs_in;
    }
    else if (c->has_info && !(c->inode == 0 && (c->state == SB_TCP_ESTABLISHED
                                                 || c->state == SB_TCP_CLOSE_WAIT))
             && c->data_segs_in > e->credited && !e->assumed_one) {
        /* requests count once httpd has accepted their connection
         * (until then it is in the accept queue, no process holds
         * it): the access counters count them when served, which may
         * be long after they arrived in an overload */
        view->requests_seen += (int)(c->data_segs_in - e->credited);
        e->credited = c->data_segs_in;
    }

    if (c->state == SB_TCP_ESTABLISHED && c->has_info) {
        established(t, e, c, ts, is_new, view);
    }
    else if (e->state == SB_TCP_ESTABLISHED && c->state != SB_TCP_ESTABLISHED) {
        left_established(t, e, c, ts, view);
    }
    e->state = c->state;
    e->has_info = c->has_info;
}

/* Connections not in this dump: gone since the last sample (or, with the
 * destroy feed, kept one more sample for their destroy message). */
static void sweep(sb_conntrack_t *t, apr_time_t ts, sb_kernel_view_t *view)
{
    for (apr_size_t j = 0; j < t->cap; j++) {
        entry_t *e = &t->tab[j];
        int open;
        if (e->key <= 1 || e->seen_gen == t->gen) {
            continue;
        }
        open = e->state == SB_TCP_ESTABLISHED || client_closing(e->state);
        if (open && !e->destroyed && view->have_destroyed && e->gone_at == 0) {
            /* the kernel sends its destroy message after freeing it: it
             * may come with the next sample */
            e->gone_at = ts;
            continue;
        }
        if (e->state == SB_TCP_ESTABLISHED) {
            if (e->pending_since > 0 && !e->destroyed) {
                view->idle_late++;  /* its response had gone out: then it ended */
            }
            /* closed by the client between samples */
            closed(t, e, ts, e->gone_at > 0 ? e->gone_at : ts, 0);
            view->vanished++;
            /* its last requests: counted from the destroy feed, else
             * unseen (see sb_kernel_view_t) */
            view->tail_unknown += !e->destroyed;
        }
        else if (client_closing(e->state) && !e->destroyed && e->gone_at > 0) {
            view->tail_unknown++;   /* no destroy message came */
        }
        e->key = 1;
        t->live--;
    }
}

void sb_conntrack_update(sb_conntrack_t *t, const sb_kernel_sample_t *k, sb_kernel_view_t *view)
{
    int i;

    memset(view, 0, sizeof(*view));
    view->ts = k->ts;
    for (i = 0; i < k->nlisten; i++) {
        view->listen_queue += (int)k->listen[i].queued;
        view->listen_backlog += (int)k->listen[i].backlog;
    }
    view->listen_overflows = k->listen_overflows;
    view->have_overflows = k->have_netstat;
    if (!t->tab) {
        return;
    }
    t->gen++;
    if ((t->used + (apr_size_t)k->nconns + (apr_size_t)k->ndestroyed) * 2 > t->cap) {
        apr_size_t cap = t->cap;
        while ((t->live + (apr_size_t)k->nconns + (apr_size_t)k->ndestroyed) * 2 > cap) {
            cap *= 2;
        }
        rehash(t, cap * 2);
    }
    view->have_destroyed = k->have_destroyed && !k->destroyed_lost;
    for (i = 0; i < k->ndestroyed; i++) {
        destroyed(t, &k->destroyed[i], view);
    }
    for (i = 0; i < k->nconns; i++) {
        track(t, &k->conns[i], k->ts, view);
    }
    sweep(t, k->ts, view);
    t->stats.tracked = t->live;
    t->baseline_done = 1;
}

void sb_conntrack_stats(const sb_conntrack_t *t, sb_conntrack_stats_t *out)
{
    *out = t->stats;
}
