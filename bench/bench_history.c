/*
 * bench_history - write a synthetic history for timing `sbtune report`.
 *
 *   bench_history --out FILE [--days N] [--end UNIX_SECONDS] [--seed N]
 *
 * Writes N days (default 7) of per-second rows (86,400 a day: 604,800 for
 * 7 days) and the minute rows the agent would have rolled them up into,
 * ending at --end (default now), through the same sb_history_put_*() and
 * sb_history_flush() calls sbagent uses.  The load follows a day's cycle
 * (quiet at night, busy in the afternoon) with noise from a fixed seed, so
 * the file is the same for the same arguments.  The minute rows carry the
 * histograms the planner reads (keep-alive gaps and closes, requests per
 * connection, service and hold times).  The per-second rows are kept
 * although sbagent prunes them after 48 h: a report reads the minute rows,
 * and the second rows are what make the file as large as a week of
 * seconds.  FILE must not exist.
 *
 * Exit status: 0 written, 1 a history error, 2 usage error.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <apr_general.h>
#include <apr_pools.h>

#include "sb_hist.h"
#include "sb_history.h"

static uint64_t rng_state;

/* xorshift64*: a fixed sequence for a seed */
static double rnd(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return (double)((rng_state * 2685821657736338717ULL) >> 11) / 9007199254740992.0;
}

/* Mean busy slots at unix second t: 4 at night to 40 in the afternoon. */
static double load_at(int64_t t)
{
    double day = (double)(t % 86400) / 86400.0;

    return 22.0 - 18.0 * cos(2.0 * M_PI * (day - 0.125));
}

static void usage(FILE *out)
{
    fprintf(out, "Usage: bench_history --out FILE [--days N] [--end UNIX_SECONDS] [--seed N]\n"
            "Write N days (default 7) of synthetic per-second and per-minute history\n"
            "rows into the new history FILE, ending at --end (default now).\n"
            "\nExit status: 0 written, 1 a history error, 2 usage error.\n");
}

/* Put one minute's row, its seconds summed in the figures given. */
static apr_status_t put_minute(sb_history_t *h, int64_t ts, const double sums[4],
                               int64_t busy_max, double req_max)
{
    sb_hist_minute_t m;
    sb_hist_t gap, close, rpc, svc, hold;
    double rate = sums[1] / 60.0;
    int k;

    sb_hist_init(&gap);
    sb_hist_init(&close);
    sb_hist_init(&rpc);
    sb_hist_init(&svc);
    sb_hist_init(&hold);
    for (k = 0; k < 200; k++) {
        sb_hist_add(&gap, 0.05 + 2.0 * rnd() * rnd());
        sb_hist_add(&close, 1.0 + 4.0 * rnd());
        sb_hist_add(&rpc, 1.0 + floor(6.0 * rnd()));
        sb_hist_add(&svc, 0.002 + 0.05 * rnd() * rnd());
        sb_hist_add(&hold, 0.5 + 3.0 * rnd());
    }
    sb_hist_minute_init(&m, ts);
    m.source = SB_SOURCE_SHM;
    m.seconds = 60;
    m.gap_seconds = 0;
    m.busy_mean = sums[0] / 60.0;
    m.busy_max = busy_max;
    m.idle_mean = 256.0 - m.busy_mean;
    m.keepalive_slots_mean = m.busy_mean * 0.6;
    m.keepalive_slots_max = (double)busy_max * 0.6;
    m.keepalive_conns_mean = m.busy_mean * 0.6;
    m.keepalive_conns_max = (double)busy_max * 0.6;
    m.req_per_s_mean = rate;
    m.req_per_s_max = req_max;
    m.conn_per_s_mean = sums[2] / 60.0;
    m.conn_per_s_max = req_max / 2.0;
    m.accepted_per_s_mean = m.conn_per_s_mean;
    m.accepted_per_s_max = m.conn_per_s_max;
    m.refused = 0;
    m.listen_queue_max = 0;
    m.listen_overflows = 0;
    m.listen_drops = 0;
    m.bytes_per_s_mean = sums[3] / 60.0;
    m.pss_per_worker_bytes = 6 << 20;
    m.mem_available_min = (int64_t)1 << 30;
    m.ka_gap_hist = &gap;
    m.ka_close_hist = &close;
    m.req_per_conn_hist = &rpc;
    m.service_time_hist = &svc;
    m.hold_time_hist = &hold;
    return sb_history_put_minute(h, &m);
}

static int generate(sb_history_t *h, int64_t start, int64_t end, long *nsec, long *nmin)
{
    double sums[4] = { 0, 0, 0, 0 }, req_max = 0;
    int64_t t, busy_max = 0;
    apr_status_t rv = APR_SUCCESS;

    for (t = start; t < end && rv == APR_SUCCESS; t++) {
        sb_hist_second_t s;
        double busy = load_at(t) * (0.7 + 0.6 * rnd());

        sb_hist_second_init(&s, t);
        s.source = SB_SOURCE_SHM;
        s.generation = 1;
        s.busy_mean = busy;
        s.busy_max = (int64_t)ceil(busy * 1.2);
        s.idle_mean = 256.0 - busy;
        s.keepalive_slots_mean = busy * 0.6;
        s.keepalive_conns_mean = busy * 0.6;
        s.reading_mean = busy * 0.1;
        s.writing_mean = busy * 0.3;
        s.closing_mean = 0;
        s.graceful_mean = 0;
        s.open_mean = 0;
        s.req_per_s = busy * 10.0;
        s.conn_per_s = busy * 3.0;
        s.accepted_per_s = s.conn_per_s;
        s.refused_per_s = 0;
        s.listen_queue_max = 0;
        s.listen_overflows = 0;
        s.listen_drops = 0;
        s.bytes_per_s = s.req_per_s * 12000.0;
        s.pss_total_bytes = (int64_t)16 * (6 << 20);
        s.mem_available_bytes = (int64_t)1 << 30;
        s.samples = 10;
        s.gap = 0;
        rv = sb_history_put_second(h, &s);
        (*nsec)++;
        sums[0] += busy;
        sums[1] += s.req_per_s;
        sums[2] += s.conn_per_s;
        sums[3] += s.bytes_per_s;
        busy_max = s.busy_max > busy_max ? s.busy_max : busy_max;
        req_max = s.req_per_s > req_max ? s.req_per_s : req_max;
        if (rv == APR_SUCCESS && (t + 1) % 60 == 0) {
            rv = put_minute(h, t - 59, sums, busy_max, req_max);
            (*nmin)++;
            memset(sums, 0, sizeof(sums));
            busy_max = 0;
            req_max = 0;
        }
        /* flush well inside the writer's buffers (an hour of seconds) */
        if (rv == APR_SUCCESS && (t + 1) % 1800 == 0) {
            rv = sb_history_flush(h);
        }
    }
    if (rv == APR_SUCCESS) {
        rv = sb_history_flush(h);
    }
    if (rv != APR_SUCCESS) {
        fprintf(stderr, "bench_history: %s\n", sb_history_error(h));
        return 1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    static const struct option lopts[] = {
        { "out", required_argument, NULL, 'o' }, { "days", required_argument, NULL, 'd' },
        { "end", required_argument, NULL, 'e' }, { "seed", required_argument, NULL, 's' },
        { "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 }
    };
    const char *out = NULL;
    long days = 7, nsec = 0, nmin = 0;
    long long end = (long long)time(NULL), seed = 1;
    apr_pool_t *pool;
    sb_history_t *h;
    char *e;
    int c, rc;

    while ((c = getopt_long(argc, argv, "o:d:e:s:h", lopts, NULL)) != -1) {
        errno = 0;
        switch (c) {
        case 'o':
            out = optarg;
            break;
        case 'd':
            days = strtol(optarg, &e, 10);
            if (errno || *e || days < 1 || days > 90) {
                fprintf(stderr, "bench_history: --days takes 1..90, not '%s'\n", optarg);
                return 2;
            }
            break;
        case 'e':
            end = strtoll(optarg, &e, 10);
            if (errno || *e || end < 86400 * 91) {
                fprintf(stderr, "bench_history: --end takes unix seconds, not '%s'\n", optarg);
                return 2;
            }
            break;
        case 's':
            seed = strtoll(optarg, &e, 10);
            if (errno || *e) {
                fprintf(stderr, "bench_history: --seed takes a number, not '%s'\n", optarg);
                return 2;
            }
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (!out || optind < argc) {
        usage(stderr);
        return 2;
    }
    if (access(out, F_OK) == 0) {
        fprintf(stderr, "bench_history: %s exists: give a new file\n", out);
        return 2;
    }
    rng_state = (uint64_t)seed * 0x9E3779B97F4A7C15ULL + 1;
    apr_initialize();
    apr_pool_create(&pool, NULL);
    if (sb_history_open(&h, out, SB_HISTORY_WRITE, pool) != APR_SUCCESS) {
        fprintf(stderr, "bench_history: %s\n", sb_history_error(h));
        return 1;
    }
    end -= end % 60;
    rc = generate(h, (int64_t)end - (int64_t)days * 86400, (int64_t)end, &nsec, &nmin);
    sb_history_close(h);
    if (rc == 0) {
        printf("bench_history: %s: %ld second rows and %ld minute rows, %ld days ending at "
               "%lld\n", out, nsec, nmin, days, end);
    }
    apr_pool_destroy(pool);
    apr_terminate();
    return rc;
}
