/* Unit tests of the kernel connection tracker on constructed sock_diag
 * samples (the live kernel is exercised by test_kernel and the accuracy
 * integration test). */
#include <check.h>
#include "sb_unit.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <apr_general.h>
#include "sb_conntrack.h"

static apr_pool_t *pool;
static int nobs[SB_OBS_N];
static double lastobs[SB_OBS_N];

static void obs_cb(void *baton, apr_time_t ts, sb_obs_kind_t kind, double v)
{
    nobs[kind]++;
    lastobs[kind] = v;
}

static void setup(void)
{
    apr_pool_create(&pool, NULL);
    memset(nobs, 0, sizeof(nobs));
    memset(lastobs, 0, sizeof(lastobs));
}

static void teardown(void)
{
    apr_pool_destroy(pool);
}

static sb_conn_t conn(uint16_t rport, sb_tcp_state_t st)
{
    sb_conn_t c;
    memset(&c, 0, sizeof(c));
    c.family = 2; /* AF_INET */
    c.laddr[0] = 127;
    c.laddr[3] = 1;
    c.raddr[0] = 127;
    c.raddr[3] = 1;
    c.lport = 8080;
    c.rport = rport;
    c.state = st;
    c.has_info = st != SB_TCP_TIME_WAIT;
    c.inode = st == SB_TCP_ESTABLISHED ? 4242 : 0;   /* accepted by httpd */
    return c;
}

static sb_kernel_sample_t sample(apr_time_t ts, sb_conn_t *c, int n)
{
    sb_kernel_sample_t k;
    memset(&k, 0, sizeof(k));
    k.ts = ts;
    k.conns = c;
    k.nconns = n;
    return k;
}

#define MS(x) apr_time_from_msec(x)

START_TEST(baseline_is_not_counted_new_ones_are)
{
    sb_conntrack_t *t = sb_conntrack_create(pool, obs_cb, NULL);
    sb_conn_t c[3] = { conn(1000, SB_TCP_ESTABLISHED), conn(1001, SB_TCP_TIME_WAIT),
                       conn(1002, SB_TCP_ESTABLISHED) };
    sb_kernel_sample_t k = sample(MS(1000), c, 2);
    sb_kernel_view_t v;

    sb_conntrack_update(t, &k, &v);
    ck_assert_int_eq(v.new_conns, 0);
    k = sample(MS(1500), c, 3);
    sb_conntrack_update(t, &k, &v);
    ck_assert_int_eq(v.new_conns, 1);
    k = sample(MS(2000), c, 3);
    sb_conntrack_update(t, &k, &v);
    ck_assert_int_eq(v.new_conns, 0);
}
END_TEST

START_TEST(time_wait_counts_once_and_port_reuse_is_new)
{
    sb_conntrack_t *t = sb_conntrack_create(pool, obs_cb, NULL);
    sb_conn_t c = conn(2000, SB_TCP_ESTABLISHED);
    sb_kernel_sample_t k = sample(MS(0), NULL, 0);
    sb_kernel_view_t v;

    sb_conntrack_update(t, &k, &v);            /* empty baseline */
    k = sample(MS(500), &c, 1);
    sb_conntrack_update(t, &k, &v);
    ck_assert_int_eq(v.new_conns, 1);
    c = conn(2000, SB_TCP_TIME_WAIT);          /* same connection, closed */
    k = sample(MS(1000), &c, 1);
    sb_conntrack_update(t, &k, &v);
    ck_assert_int_eq(v.new_conns, 0);
    c = conn(2000, SB_TCP_ESTABLISHED);        /* the port reused */
    k = sample(MS(1500), &c, 1);
    sb_conntrack_update(t, &k, &v);
    ck_assert_int_eq(v.new_conns, 1);
    /* a short connection seen only in TIME_WAIT is a new one too */
    c = conn(2001, SB_TCP_TIME_WAIT);
    k = sample(MS(2000), &c, 1);
    sb_conntrack_update(t, &k, &v);
    ck_assert_int_eq(v.new_conns, 1);
}
END_TEST

START_TEST(idle_gap_and_server_close)
{
    sb_conntrack_t *t = sb_conntrack_create(pool, obs_cb, NULL);
    sb_conn_t c = conn(3000, SB_TCP_ESTABLISHED);
    sb_kernel_sample_t k = sample(MS(0), NULL, 0);
    sb_kernel_view_t v;

    sb_conntrack_update(t, &k, &v);
    /* t=1000: one request at 900, response sent at 950: idle */
    c.bytes_received = 80;
    c.data_segs_in = 1;
    c.bytes_acked = 500;
    c.last_data_recv_ms = 100;
    c.last_data_sent_ms = 50;
    k = sample(MS(1000), &c, 1);
    sb_conntrack_update(t, &k, &v);
    ck_assert_int_eq(v.idle_keepalive, 1);
    ck_assert_int_eq(v.established, 1);
    /* t=1500: the next request arrived at 1250 and is being served */
    c.bytes_received = 160;
    c.data_segs_in = 2;
    c.last_data_recv_ms = 250;
    c.last_data_sent_ms = 550;
    k = sample(MS(1500), &c, 1);
    sb_conntrack_update(t, &k, &v);
    ck_assert_int_eq(v.idle_keepalive, 0);
    ck_assert_int_eq(nobs[SB_OBS_KA_GAP], 1);
    ck_assert(fabs(lastobs[SB_OBS_KA_GAP] - 0.300) < 1e-9);   /* 950 -> 1250 */
    /* t=2000: answered at 1300, idle again */
    c.bytes_acked = 1000;
    c.last_data_recv_ms = 750;
    c.last_data_sent_ms = 700;
    k = sample(MS(2000), &c, 1);
    sb_conntrack_update(t, &k, &v);
    ck_assert_int_eq(v.idle_keepalive, 1);
    /* t=9000: in TIME_WAIT since 58 s left: closed by the server at 7300 */
    c = conn(3000, SB_TCP_TIME_WAIT);
    c.expires_ms = 58300;
    k = sample(MS(9000), &c, 1);
    sb_conntrack_update(t, &k, &v);
    ck_assert_int_eq(nobs[SB_OBS_KA_CLOSE], 1);
    ck_assert(fabs(lastobs[SB_OBS_KA_CLOSE] - 6.0) < 1e-9);  /* 1300 -> 7300 */
    ck_assert_int_eq(nobs[SB_OBS_REQ_PER_CONN], 1);          /* two requests came */
    ck_assert(fabs(lastobs[SB_OBS_REQ_PER_CONN] - 2.0) < 1e-9);
}
END_TEST

START_TEST(client_close_and_busy_connections)
{
    sb_conntrack_t *t = sb_conntrack_create(pool, obs_cb, NULL);
    sb_conn_t c[2] = { conn(4000, SB_TCP_ESTABLISHED), conn(4001, SB_TCP_ESTABLISHED) };
    sb_kernel_sample_t k = sample(MS(0), NULL, 0);
    sb_kernel_view_t v;
    sb_conntrack_stats_t st;

    sb_conntrack_update(t, &k, &v);
    /* idle one, and one with a request received and no answer yet */
    c[0].bytes_received = 80;
    c[0].bytes_acked = 500;
    c[0].last_data_recv_ms = 400;
    c[0].last_data_sent_ms = 300;
    c[1].bytes_received = 80;
    c[1].last_data_recv_ms = 200;
    c[1].last_data_sent_ms = 1000;
    k = sample(MS(1000), c, 2);
    sb_conntrack_update(t, &k, &v);
    ck_assert_int_eq(v.idle_keepalive, 1);
    ck_assert_int_eq(v.established, 2);
    /* both gone: the idle one was closed by the client */
    k = sample(MS(1500), NULL, 0);
    sb_conntrack_update(t, &k, &v);
    ck_assert_int_eq(nobs[SB_OBS_KA_CLOSE], 1);
    ck_assert(fabs(lastobs[SB_OBS_KA_CLOSE] - 0.8) < 1e-9);    /* 700 -> 1500 */
    sb_conntrack_stats(t, &st);
    ck_assert_uint_eq(st.closed_by_client, 1);
    ck_assert_uint_eq(st.closed_by_server, 0);
    ck_assert_uint_eq(st.tracked, 0);
}
END_TEST

START_TEST(listen_queue_and_many_connections)
{
    sb_conntrack_t *t = sb_conntrack_create(pool, obs_cb, NULL);
    sb_listen_t l[2];
    sb_conn_t *c = calloc(20000, sizeof(*c));
    sb_kernel_sample_t k = sample(MS(0), NULL, 0);
    sb_kernel_view_t v;
    int i;

    memset(l, 0, sizeof(l));
    l[0].queued = 3;
    l[1].queued = 4;
    k.listen = l;
    k.nlisten = 2;
    sb_conntrack_update(t, &k, &v);
    ck_assert_int_eq(v.listen_queue, 7);
    for (i = 0; i < 20000; i++) {
        c[i] = conn((uint16_t)(10000 + i % 50000), SB_TCP_TIME_WAIT);
        c[i].raddr[3] = (uint8_t)(1 + i / 50000);
    }
    k = sample(MS(500), c, 20000);
    sb_conntrack_update(t, &k, &v);
    ck_assert_int_eq(v.new_conns, 20000);
    k = sample(MS(1000), c, 20000);
    sb_conntrack_update(t, &k, &v);
    ck_assert_int_eq(v.new_conns, 0);
    free(c);
}
END_TEST

/* A response that had just gone out at a sample (less than IDLE_MIN_MS
 * before it) is not counted idle then; the next sample tells whether it was
 * (the client's next request came, or nothing happened since) and counts
 * it late; one still being sent (more data followed, no request) is not. */
START_TEST(just_answered_is_counted_idle_late)
{
    sb_conntrack_t *t = sb_conntrack_create(pool, obs_cb, NULL);
    sb_conn_t c[2] = { conn(5000, SB_TCP_ESTABLISHED), conn(5001, SB_TCP_ESTABLISHED) };
    sb_kernel_sample_t k = sample(MS(0), NULL, 0);
    sb_kernel_view_t v;

    sb_conntrack_update(t, &k, &v);
    /* t=1000: both answered 5 ms ago */
    c[0].bytes_received = c[1].bytes_received = 80;
    c[0].data_segs_in = c[1].data_segs_in = 1;
    c[0].bytes_acked = c[1].bytes_acked = 500;
    c[0].last_data_recv_ms = c[1].last_data_recv_ms = 10;
    c[0].last_data_sent_ms = c[1].last_data_sent_ms = 5;
    k = sample(MS(1000), c, 2);
    sb_conntrack_update(t, &k, &v);
    ck_assert_int_eq(v.idle_keepalive, 0);
    ck_assert_int_eq(v.idle_late, 0);
    /* t=1500: [0] got its next request at 1200 (answered at 1201, idle);
     * [1] sent 300 more bytes at 1490 (its response was not complete) */
    c[0].bytes_received = 160;
    c[0].data_segs_in = 2;
    c[0].bytes_acked = 1000;
    c[0].last_data_recv_ms = 300;
    c[0].last_data_sent_ms = 299;
    c[1].bytes_acked = 800;
    c[1].last_data_recv_ms = 510;
    c[1].last_data_sent_ms = 10;
    k = sample(MS(1500), c, 2);
    sb_conntrack_update(t, &k, &v);
    ck_assert_int_eq(v.idle_keepalive, 1);      /* [0] now */
    ck_assert_int_eq(v.idle_late, 1);           /* [0] at 1000 */
    /* its gap is measured from the response before the first sample:
     * 995 -> 1200 */
    ck_assert_int_eq(nobs[SB_OBS_KA_GAP], 1);
    ck_assert(fabs(lastobs[SB_OBS_KA_GAP] - 0.205) < 1e-9);
    /* t=2000: nothing moved on either since: both were idle at 1500 ([1]
     * is late: its response had just gone out then) */
    c[0].last_data_recv_ms = 800;
    c[0].last_data_sent_ms = 799;
    c[1].last_data_recv_ms = 1010;
    c[1].last_data_sent_ms = 510;
    k = sample(MS(2000), c, 2);
    sb_conntrack_update(t, &k, &v);
    ck_assert_int_eq(v.idle_keepalive, 2);
    ck_assert_int_eq(v.idle_late, 1);
}
END_TEST

/* The destroy feed: a followed connection's requests after its last
 * sample come from its final tcp_info (no unseen last request is
 * credited for it); one never
 * seen in a dump is a new connection with all its requests, and its
 * TIME_WAIT in a later dump is not new again. */
START_TEST(destroy_feed_counts_the_rest)
{
    sb_conntrack_t *t = sb_conntrack_create(pool, obs_cb, NULL);
    sb_conn_t c = conn(6000, SB_TCP_ESTABLISHED), d[2];
    sb_kernel_sample_t k = sample(MS(0), NULL, 0);
    sb_kernel_view_t v;

    k.have_destroyed = 1;
    sb_conntrack_update(t, &k, &v);
    c.bytes_received = 160;
    c.data_segs_in = 2;
    c.bytes_acked = 1000;
    c.last_data_recv_ms = 100;
    c.last_data_sent_ms = 90;
    k = sample(MS(500), &c, 1);
    k.have_destroyed = 1;
    sb_conntrack_update(t, &k, &v);
    ck_assert_int_eq(v.new_conns, 1);
    ck_assert_int_eq(v.requests_seen, 2);
    /* t=1000: it ended after 5 requests; another came (4 requests) and
     * went between the samples */
    d[0] = c;
    d[0].state = SB_TCP_CLOSE;
    d[0].data_segs_in = 5;
    d[1] = conn(6001, SB_TCP_CLOSE);
    d[1].data_segs_in = 4;
    /* the server closed the second: its TIME_WAIT is listed */
    c = conn(6001, SB_TCP_TIME_WAIT);
    k = sample(MS(1000), &c, 1);
    k.have_destroyed = 1;
    k.destroyed = d;
    k.ndestroyed = 2;
    sb_conntrack_update(t, &k, &v);
    ck_assert_int_eq(v.new_conns, 1);
    ck_assert_int_eq(v.unseen_destroyed, 1);
    ck_assert_int_eq(v.requests_seen, 3 + 4);
    ck_assert_int_eq(v.vanished, 1);
    ck_assert_int_eq(v.tail_unknown, 0);
    ck_assert(v.have_destroyed);
    ck_assert_int_eq(nobs[SB_OBS_REQ_PER_CONN], 1);
    ck_assert(lastobs[SB_OBS_REQ_PER_CONN] == 5);
    /* t=1500: its TIME_WAIT is no new one */
    k = sample(MS(1500), &c, 1);
    k.have_destroyed = 1;
    sb_conntrack_update(t, &k, &v);
    ck_assert_int_eq(v.new_conns, 0);
    ck_assert_int_eq(v.requests_seen, 0);
}
END_TEST

/* With the destroy feed: the requests of a connection still in the accept
 * queue (no process holds it) count once httpd accepts it; a client that
 * gives up while queued leaves its request to be counted when the kernel
 * frees the connection, not as a vanished one; a connection missing from
 * a dump whose destroy message comes one sample later is no new one. */
START_TEST(queued_requests_count_when_accepted)
{
    sb_conntrack_t *t = sb_conntrack_create(pool, obs_cb, NULL);
    sb_conn_t c[2] = { conn(7000, SB_TCP_ESTABLISHED), conn(7001, SB_TCP_ESTABLISHED) }, d;
    sb_kernel_sample_t k = sample(MS(0), NULL, 0);
    sb_kernel_view_t v;

    k.have_destroyed = 1;
    sb_conntrack_update(t, &k, &v);
    c[0].inode = c[1].inode = 0;
    c[0].bytes_received = c[1].bytes_received = 80;
    c[0].data_segs_in = c[1].data_segs_in = 1;
    k = sample(MS(500), c, 2);
    k.have_destroyed = 1;
    sb_conntrack_update(t, &k, &v);
    ck_assert_int_eq(v.new_conns, 2);
    ck_assert_int_eq(v.requests_seen, 0);
    /* [0] accepted; [1]'s client gave up (CLOSE_WAIT, still queued) */
    c[0].inode = 99;
    c[1].state = SB_TCP_CLOSE_WAIT;
    k = sample(MS(1000), c, 2);
    k.have_destroyed = 1;
    sb_conntrack_update(t, &k, &v);
    ck_assert_int_eq(v.requests_seen, 1);
    ck_assert_int_eq(v.vanished, 1);      /* the client closed it */
    ck_assert_int_eq(v.tail_unknown, 0);
    /* [1] accepted, served and freed; [0] gone from the dump, its destroy
     * message not read yet */
    k = sample(MS(1500), NULL, 0);
    k.have_destroyed = 1;
    d = c[1];
    d.state = SB_TCP_CLOSE;
    k.destroyed = &d;
    k.ndestroyed = 1;
    sb_conntrack_update(t, &k, &v);
    ck_assert_int_eq(v.requests_seen, 1);
    ck_assert_int_eq(v.new_conns, 0);
    ck_assert_int_eq(v.vanished, 0);
    ck_assert_int_eq(v.tail_unknown, 0);
    /* [0]'s destroy message: two requests in all */
    d = c[0];
    d.state = SB_TCP_CLOSE;
    d.data_segs_in = 2;
    k = sample(MS(2000), NULL, 0);
    k.have_destroyed = 1;
    k.destroyed = &d;
    k.ndestroyed = 1;
    sb_conntrack_update(t, &k, &v);
    ck_assert_int_eq(v.new_conns, 0);
    ck_assert_int_eq(v.requests_seen, 1);
    ck_assert_int_eq(v.vanished, 1);
    ck_assert_int_eq(v.tail_unknown, 0);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("conntrack");
    TCase *tc = tcase_create("conntrack");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, baseline_is_not_counted_new_ones_are);
    tcase_add_test(tc, time_wait_counts_once_and_port_reuse_is_new);
    tcase_add_test(tc, idle_gap_and_server_close);
    tcase_add_test(tc, client_close_and_busy_connections);
    tcase_add_test(tc, listen_queue_and_many_connections);
    tcase_add_test(tc, just_answered_is_counted_idle_late);
    tcase_add_test(tc, destroy_feed_counts_the_rest);
    tcase_add_test(tc, queued_requests_count_when_accepted);
    suite_add_tcase(s, tc);
    return sb_unit_run(s);
}
