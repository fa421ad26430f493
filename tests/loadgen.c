/* loadgen: a known, reproducible HTTP/1.1 workload on a loopback httpd.
 *
 * The ground truth of sbtune's accuracy tests, of the tuner's end-to-end test
 * and of the live demo. New client connections arrive as a Poisson process;
 * each sends K requests one after another on one keep-alive connection, with
 * think-time gaps between a response and the next request, then either
 * closes at once or lingers idle until the server closes it (as browsers do).
 * At exit one JSON object reports what was offered (the truth) and what the
 * client experienced.
 *
 * Examples:
 *
 *   loadgen --url http://127.0.0.1:8080/ --rate 50 --duration 10 \
 *           --requests 3 --gap 0.2 --close
 *   loadgen --url http://127.0.0.1:8080/index.html --linger --rate 5 \
 *           --duration 10 --json-out /tmp/run.json
 *   loadgen --url http://[::1]:8080/ --schedule "20:10,100:5,20:10" \
 *           --requests 5 --requests-dist geometric --gap 1 --linger --progress
 *
 * Contracts:
 *
 * - Targets: only http:// URLs whose host is a numeric loopback address
 *   (127.0.0.0/8, ::1, ::ffff:127.x.y.z) or "localhost" (taken as
 *   127.0.0.1); anything else is refused as a usage error. No DNS lookups.
 * - Arrivals: exponential inter-arrival times at --rate, or a piecewise
 *   constant rate from --schedule (a non-homogeneous Poisson process: the
 *   arrival times are exact, a segment boundary does not restart the draw).
 *   With --schedule, --duration defaults to the schedule's total; a longer
 *   --duration keeps the last rate, a shorter one cuts the schedule.
 *   Arrivals are scheduled on absolute times from the start, so a late event
 *   loop does not lower the rate; lateness is reported as schedule_lag_ms.
 * - Reproducibility: arrival times, each connection's request count and its
 *   gaps are a function of --seed alone (separate random streams), not of the
 *   server's timing. The seed used is always in config.seed.
 * - Concurrency: an arrival while --max-conns connections are open is counted
 *   in dropped_by_client and not attempted.
 * - Timing (CLOCK_MONOTONIC): connect_ms from connect() to established;
 *   ttfb_ms from the send() that completes the request to the first
 *   response byte read; response_ms from that send() to the response's last
 *   byte (both only for answered requests; timeouts are in failed.timeout);
 *   idle_until_server_close_ms from the last response byte of a lingering
 *   connection to the server's FIN (or RST); conn_duration_ms, per opened
 *   connection, from established (connect() done, which on the client side
 *   includes a wait in the server's accept queue) to its end: the client's
 *   close, the server's FIN or RST as read, a failure, or the cut at the
 *   end of the run. Percentiles are nearest-rank
 *   over a log-linear histogram (exact below 2 ms, bucket error below 0.1 %
 *   above); count, min, mean and max are exact.
 * - --timeout bounds each request from its first byte written to its last
 *   response byte; --connect-timeout (default: --timeout) bounds connect().
 * - End: after --duration no connection starts; connections in progress go
 *   on for up to --drain seconds, then whatever is left is closed and counted
 *   in closed_at_end. SIGINT/SIGTERM: arrivals stop, idle connections are
 *   closed at once, requests in flight get at most 1 s more; a second signal
 *   ends the run at once. The JSON is written either way ("interrupted").
 * - Accounting identities (checked by the accuracy tests):
 *     connections_attempted = connections_opened + refused
 *                             + connect_timeouts + failed.connect_error
 *                             + closed_at_end.connecting
 *     connections_opened = sum of connection_ends (without its
 *                          server_closed_idle_by_reset, a subset)
 *     connection_ends.failed = failed.total - failed.connect_error
 *     requests_sent = responses_ok + responses_error.total
 *                     + requests_unanswered.failed
 *                     + requests_unanswered.cut_at_end
 *   per_second_arrivals counts connect() attempts in each second since the
 *   start; per_second_requests counts completed responses (any status);
 *   per_second_open / per_second_idle sample, at the end of each second, the
 *   open connections and those idle (in a gap or lingering).
 * - Output: the JSON goes to stdout, or to --json-out FILE (temporary file in
 *   the same directory, fsync, rename). Warnings and --progress go to stderr.
 * - RLIMIT_NOFILE's soft limit is raised to the hard limit; --max-conns is
 *   lowered (with a warning, and in config.max_conns) if it does not fit.
 * - Exit status: 0 when the run completed (failed requests are data), 1 on an
 *   internal error, 2 on a usage error.
 */

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#define LG_PROG             "loadgen"
#define LG_MAX_RATE         20000.0
#define LG_MAX_DURATION     3600.0
#define LG_MAX_DRAIN        600.0
#define LG_MAX_SECONDS      3600.0
#define LG_MAX_REQUESTS     100000L
#define LG_MAX_CONNS        1000000L
#define LG_MAX_SEGMENTS     256
#define LG_FD_RESERVE       32
#define LG_RBUF_SIZE        16384
#define LG_PATH_MAX         2048
#define LG_HOST_MAX         256
#define LG_EVENTS           256
#define LG_MAX_WARNINGS     10
#define LG_NS               INT64_C(1000000000)
#define LG_NO_POS           SIZE_MAX
#define LG_SIGNAL_TAG       UINT64_MAX
#define LG_STOP_GRACE_NS    LG_NS

/* Exit statuses. */
#define LG_EXIT_OK          0
#define LG_EXIT_INTERNAL    1
#define LG_EXIT_USAGE       2

/* ------------------------------------------------------------ option table */

enum {
    OPT_HELP = 'h',
    OPT_URL = 256,
    OPT_RATE,
    OPT_SCHEDULE,
    OPT_SEED,
    OPT_REQUESTS,
    OPT_REQUESTS_DIST,
    OPT_GAP,
    OPT_GAP_DIST,
    OPT_CLOSE,
    OPT_LINGER,
    OPT_LINGER_MAX,
    OPT_NO_KEEPALIVE,
    OPT_DURATION,
    OPT_DRAIN,
    OPT_MAX_CONNS,
    OPT_PATH,
    OPT_HOST_HEADER,
    OPT_TIMEOUT,
    OPT_CONNECT_TIMEOUT,
    OPT_JSON_OUT,
    OPT_PROGRESS
};

/* One table drives getopt_long and --help. arg NULL: no argument. */
typedef struct {
    const char *name;
    int key;
    const char *arg;
    const char *help;
} lg_option_t;

static const lg_option_t lg_options[] = {
    { "url",             OPT_URL,           "URL",
      "target, http://HOST[:PORT][/PATH]; HOST must be loopback "
      "(127.0.0.0/8, [::1], localhost); a bare URL argument works too" },
    { "rate",            OPT_RATE,          "R",
      "new connections per second, Poisson arrivals (at most 20000)" },
    { "schedule",        OPT_SCHEDULE,      "R1:S1,R2:S2,...",
      "piecewise constant rate instead of --rate: R new connections/s "
      "for S seconds each (R >= 0)" },
    { "seed",            OPT_SEED,          "N",
      "random seed (default: from the clock; reported in config.seed)" },
    { "requests",        OPT_REQUESTS,      "K",
      "requests per connection, sent one after another (default 1)" },
    { "requests-dist",   OPT_REQUESTS_DIST, "fixed|geometric",
      "K exactly, or geometric on 1,2,... with mean K (default fixed)" },
    { "gap",             OPT_GAP,           "SECONDS",
      "mean gap between a response and the next request (default 0)" },
    { "gap-dist",        OPT_GAP_DIST,      "exp|fixed",
      "exponential gaps with that mean, or exactly that (default exp)" },
    { "close",           OPT_CLOSE,         NULL,
      "close the connection right after the last response (default)" },
    { "linger",          OPT_LINGER,        NULL,
      "after the last response keep the connection open and idle until "
      "the server closes it" },
    { "linger-max",      OPT_LINGER_MAX,    "SECONDS",
      "longest a lingering connection is kept (default 30)" },
    { "no-keepalive",    OPT_NO_KEEPALIVE,  NULL,
      "one request per connection, sent with \"Connection: close\"" },
    { "duration",        OPT_DURATION,      "SECONDS",
      "time during which connections start (<= 3600; default 10, or the "
      "schedule's total)" },
    { "drain",           OPT_DRAIN,         "SECONDS",
      "then wait at most this long for connections in progress "
      "(<= 600, default 10)" },
    { "max-conns",       OPT_MAX_CONNS,     "N",
      "most concurrent client connections; arrivals beyond are dropped "
      "(default 2000)" },
    { "path",            OPT_PATH,          "PATH",
      "request path (default: the URL's, else /)" },
    { "host-header",     OPT_HOST_HEADER,   "VALUE",
      "Host header (default: HOST[:PORT] from the URL)" },
    { "timeout",         OPT_TIMEOUT,       "SECONDS",
      "limit for each request, first byte sent to last byte received "
      "(default 30)" },
    { "connect-timeout", OPT_CONNECT_TIMEOUT, "SECONDS",
      "limit for connect() (default: --timeout)" },
    { "json-out",        OPT_JSON_OUT,      "FILE",
      "write the JSON report to FILE atomically instead of stdout" },
    { "progress",        OPT_PROGRESS,      NULL,
      "print one status line per second on stderr" },
    { "help",            OPT_HELP,          NULL,
      "show this help and exit" },
};

#define LG_NOPTIONS (sizeof(lg_options) / sizeof(lg_options[0]))

typedef struct {
    double rate;
    double seconds;
} lg_segment_t;

typedef struct {
    const char *url;
    char host[LG_HOST_MAX];          /* host as written, without [] */
    char address[INET6_ADDRSTRLEN];  /* the numeric address loaded */
    int port;
    struct sockaddr_storage addr;
    socklen_t addrlen;
    char path[LG_PATH_MAX];
    char host_header[LG_HOST_MAX + 16];
    int rate_set;
    double rate;
    const char *schedule_text;
    lg_segment_t schedule[LG_MAX_SEGMENTS];
    double seg_end[LG_MAX_SEGMENTS];  /* cumulative ends, seconds */
    int n_segments;
    uint64_t seed;
    long requests;
    int requests_set;
    int requests_geometric;
    double gap;
    int gap_fixed;
    int linger;
    int end_set;
    double linger_max;
    int no_keepalive;
    double duration;
    int duration_set;
    double drain;
    long max_conns;
    long max_conns_requested;
    double timeout;
    double connect_timeout;
    const char *json_out;
    int progress;
} lg_config_t;

/* ------------------------------------------------------------ statistics */

/* Log-linear histogram of microsecond values: exact below 2048 us, then
 * 1024 buckets per power of two (relative bucket width below 0.1 %). */
#define LG_HIST_BITS        11
#define LG_HIST_HALF        (1u << (LG_HIST_BITS - 1))
#define LG_HIST_BUCKETS     ((66 - LG_HIST_BITS) * LG_HIST_HALF)

typedef struct {
    uint64_t counts[LG_HIST_BUCKETS];
    uint64_t n;
    uint64_t min_us;
    uint64_t max_us;
    double sum_us;
} lg_hist_t;

typedef struct {
    uint64_t *v;
    size_t len;                       /* highest index used + 1 */
    size_t cap;
} lg_series_t;

typedef struct {
    uint64_t attempted;
    uint64_t opened;
    uint64_t dropped_by_client;
    uint64_t refused;
    uint64_t connect_timeouts;
    uint64_t requests_sent;
    uint64_t responses_ok;
    uint64_t err_4xx;
    uint64_t err_5xx;
    uint64_t err_other;
    uint64_t err_total;
    uint64_t status_counts[600];
    uint64_t completed;               /* all planned requests answered */
    uint64_t requests_abandoned;
    uint64_t unanswered_failed;
    uint64_t unanswered_cut;
    /* failures, by cause */
    uint64_t f_reset;
    uint64_t f_timeout;
    uint64_t f_parse;
    uint64_t f_closed_before;
    uint64_t f_closed_mid;
    uint64_t f_write;
    uint64_t f_connect;
    uint64_t f_other;
    /* how opened connections ended */
    uint64_t end_client_close;
    uint64_t end_server_idle;
    uint64_t end_server_idle_rst;
    uint64_t end_linger_max;
    uint64_t end_server_gap;
    uint64_t end_server_after_resp;
    uint64_t end_failed;
    uint64_t end_cut;
    /* closed at the end of the run, by state */
    uint64_t cut_connecting;
    uint64_t cut_in_flight;
    uint64_t cut_gap;
    uint64_t cut_linger;
    uint64_t max_open;
    lg_hist_t connect;
    lg_hist_t ttfb;
    lg_hist_t response;
    lg_hist_t idle_close;
    lg_hist_t lag;
    lg_hist_t conn_duration;
    lg_series_t sec_arrivals;
    lg_series_t sec_requests;
    lg_series_t sec_open;
    lg_series_t sec_idle;
} lg_stats_t;

/* ------------------------------------------------------------ types */

typedef enum {
    CS_FREE = 0,
    CS_CONNECTING,
    CS_SENDING,
    CS_RECEIVING,
    CS_ANSWERED,                      /* response in, next step pending */
    CS_GAP,
    CS_LINGER
} lg_conn_state_t;

typedef enum {
    RP_HEAD = 0,
    RP_BODY_LENGTH,
    RP_BODY_EOF,
    RP_CHUNK_SIZE,
    RP_CHUNK_DATA,
    RP_CHUNK_CRLF,
    RP_TRAILER,
    RP_DONE
} lg_parse_phase_t;

typedef struct {
    int fd;
    uint32_t gen;
    lg_conn_state_t state;
    uint32_t events;                  /* epoll mask registered */
    size_t heap_pos;                  /* LG_NO_POS: no timer */
    int64_t deadline;
    uint64_t rng;
    long planned;
    long done;                        /* responses completed */
    int64_t t_connect;
    int64_t t_established;
    int64_t t_sent;
    int64_t t_idle_since;
    size_t woff;
    int request_written;
    int got_byte;
    char *rbuf;
    size_t rlen;
    lg_parse_phase_t phase;
    int status;
    int server_close;
    int64_t body_left;
} lg_conn_t;

typedef enum {
    PH_RUNNING = 0,                   /* arrivals */
    PH_DRAINING,                      /* no arrivals, waiting for the rest */
    PH_DONE
} lg_phase_t;

/* The one context: everything mutable lives here. */
typedef struct {
    lg_config_t cfg;
    int epfd;
    int sigfd;
    int epoll_pwait2_ok;
    lg_phase_t phase;
    int interrupted;
    int signals;
    int warnings;
    int64_t t_start;
    int64_t t_arrivals_end;           /* planned; moved earlier by a signal */
    int64_t t_arrivals_stopped;
    int64_t t_drain_end;
    int64_t t_next_tick;
    uint64_t tick;
    double next_arrival;              /* seconds since start; INFINITY: none */
    int arr_seg;
    uint64_t arr_rng;
    uint64_t conn_seq;
    lg_conn_t *conns;
    uint32_t *free_list;
    size_t n_free;
    size_t n_open;
    size_t n_idle;                    /* in CS_GAP or CS_LINGER */
    uint32_t *heap;
    size_t heap_len;
    char *request;
    size_t request_len;
    uint64_t last_prog_arrivals;
    uint64_t last_prog_responses;
    lg_stats_t st;
} lg_ctx_t;

/* ------------------------------------------------------------ helpers */

__attribute__((format(printf, 1, 2)))
static void lg_error(const char *fmt, ...)
{
    va_list ap;

    fputs(LG_PROG ": ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

/* Prints at most LG_MAX_WARNINGS warnings per run; the counters carry the
 * rest. */
__attribute__((format(printf, 2, 3)))
static void lg_warn(lg_ctx_t *ctx, const char *fmt, ...)
{
    va_list ap;

    if (ctx->warnings >= LG_MAX_WARNINGS) {
        return;
    }
    if (++ctx->warnings == LG_MAX_WARNINGS) {
        fputs(LG_PROG ": warning: (further warnings suppressed)\n", stderr);
        return;
    }
    fputs(LG_PROG ": warning: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

static int64_t now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * LG_NS + ts.tv_nsec;
}

static int64_t seconds_to_ns(double s)
{
    return (int64_t)llround(s * (double)LG_NS);
}

static uint64_t ns_to_us(int64_t ns)
{
    return ns <= 0 ? 0 : (uint64_t)((ns + 500) / 1000);
}

/* splitmix64: one 64-bit state per stream; good enough for sampling and
 * identical on every platform, unlike rand(). */
static uint64_t rng_next(uint64_t *state)
{
    uint64_t z = (*state += UINT64_C(0x9E3779B97F4A7C15));

    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

/* Uniform in the open interval (0, 1). */
static double rng_uniform(uint64_t *state)
{
    return ((double)(rng_next(state) >> 11) + 0.5) * 0x1.0p-53;
}

static double rng_exp(uint64_t *state, double mean)
{
    return -log(rng_uniform(state)) * mean;
}

/* ------------------------------------------------------------ histogram */

static size_t hist_index(uint64_t v)
{
    int msb, shift;

    if (v < 2 * LG_HIST_HALF) {
        return (size_t)v;
    }
    msb = 63 - __builtin_clzll(v);
    shift = msb - (LG_HIST_BITS - 1);
    return (size_t)shift * LG_HIST_HALF + (size_t)(v >> shift);
}

/* Midpoint of bucket idx, in microseconds. */
static double hist_bucket_value(size_t idx)
{
    size_t shift;
    uint64_t lo, width;

    if (idx < 2 * LG_HIST_HALF) {
        return (double)idx;
    }
    shift = idx / LG_HIST_HALF - 1;
    lo = (uint64_t)(idx - shift * LG_HIST_HALF) << shift;
    width = UINT64_C(1) << shift;
    return (double)lo + (double)(width - 1) / 2.0;
}

static void hist_add(lg_hist_t *h, uint64_t us)
{
    h->counts[hist_index(us)]++;
    if (h->n == 0 || us < h->min_us) {
        h->min_us = us;
    }
    if (us > h->max_us) {
        h->max_us = us;
    }
    h->n++;
    h->sum_us += (double)us;
}

static void hist_add_ns(lg_hist_t *h, int64_t ns)
{
    hist_add(h, ns_to_us(ns));
}

/* Nearest-rank percentile (p in (0,1]) in milliseconds; NAN when empty. */
static double hist_percentile_ms(const lg_hist_t *h, double p)
{
    uint64_t rank, seen = 0;
    size_t i;
    double v;

    if (h->n == 0) {
        return NAN;
    }
    rank = (uint64_t)ceil(p * (double)h->n);
    if (rank < 1) {
        rank = 1;
    }
    for (i = 0; i < LG_HIST_BUCKETS; i++) {
        seen += h->counts[i];
        if (seen >= rank) {
            break;
        }
    }
    if (i == LG_HIST_BUCKETS) {
        i = LG_HIST_BUCKETS - 1;
    }
    v = hist_bucket_value(i);
    if (v > (double)h->max_us) {
        v = (double)h->max_us;
    }
    if (v < (double)h->min_us) {
        v = (double)h->min_us;
    }
    return v / 1000.0;
}

/* ------------------------------------------------------------ per-second */

static int series_init(lg_series_t *s, size_t cap)
{
    s->v = calloc(cap, sizeof(*s->v));
    s->len = 0;
    s->cap = cap;
    return s->v ? 0 : -1;
}

/* Adds n at index idx; an index past the end lands in the last slot (the
 * series are sized for duration + drain, so this only absorbs lateness). */
static void series_add(lg_series_t *s, size_t idx, uint64_t n)
{
    if (idx >= s->cap) {
        idx = s->cap - 1;
    }
    s->v[idx] += n;
    if (idx + 1 > s->len) {
        s->len = idx + 1;
    }
}

static size_t second_index(const lg_ctx_t *ctx, int64_t t)
{
    return t <= ctx->t_start ? 0 : (size_t)((t - ctx->t_start) / LG_NS);
}

/* ------------------------------------------------------------ JSON writer */

typedef struct {
    FILE *f;
    int depth;
    int first[16];
    int inline_depth;                 /* >0: inside a one-line array */
} lg_json_t;

static void json_string_body(FILE *f, const char *s)
{
    const unsigned char *p;

    fputc('"', f);
    for (p = (const unsigned char *)s; *p; p++) {
        switch (*p) {
        case '"':
            fputs("\\\"", f);
            break;
        case '\\':
            fputs("\\\\", f);
            break;
        case '\n':
            fputs("\\n", f);
            break;
        case '\r':
            fputs("\\r", f);
            break;
        case '\t':
            fputs("\\t", f);
            break;
        default:
            if (*p < 0x20 || *p == 0x7f) {
                fprintf(f, "\\u%04x", *p);
            }
            else {
                fputc(*p, f);
            }
        }
    }
    fputc('"', f);
}

/* Starts a member (key non-NULL) or an array element (key NULL). */
static void json_key(lg_json_t *j, const char *key)
{
    if (j->inline_depth) {
        if (!j->first[j->depth]) {
            fputs(", ", j->f);
        }
        else if (key) {
            fputc(' ', j->f);
        }
    }
    else {
        if (!j->first[j->depth]) {
            fputc(',', j->f);
        }
        fprintf(j->f, "\n%*s", 2 * j->depth, "");
    }
    j->first[j->depth] = 0;
    if (key) {
        json_string_body(j->f, key);
        fputs(": ", j->f);
    }
}

static void json_open(lg_json_t *j, const char *key, char c, int one_line)
{
    if (j->depth > 0) {
        json_key(j, key);
    }
    fputc(c, j->f);
    if (j->depth < 15) {
        j->depth++;
    }
    j->first[j->depth] = 1;
    if (one_line || j->inline_depth) {
        j->inline_depth++;
    }
}

static void json_close(lg_json_t *j, char c)
{
    int was_empty = j->first[j->depth];

    if (j->depth > 0) {
        j->depth--;
    }
    if (j->inline_depth) {
        j->inline_depth--;
        if (!was_empty && c == '}') {
            fputc(' ', j->f);
        }
    }
    else if (!was_empty) {
        fprintf(j->f, "\n%*s", 2 * j->depth, "");
    }
    fputc(c, j->f);
}

static void json_u64(lg_json_t *j, const char *key, uint64_t v)
{
    json_key(j, key);
    fprintf(j->f, "%" PRIu64, v);
}

/* Non-finite values become null. */
static void json_num(lg_json_t *j, const char *key, double v, int decimals)
{
    json_key(j, key);
    if (!isfinite(v)) {
        fputs("null", j->f);
    }
    else if (decimals >= 0) {
        fprintf(j->f, "%.*f", decimals, v);
    }
    else {
        fprintf(j->f, "%.10g", v);
    }
}

static void json_str(lg_json_t *j, const char *key, const char *v)
{
    json_key(j, key);
    if (v) {
        json_string_body(j->f, v);
    }
    else {
        fputs("null", j->f);
    }
}

static void json_bool(lg_json_t *j, const char *key, int v)
{
    json_key(j, key);
    fputs(v ? "true" : "false", j->f);
}

static void json_null(lg_json_t *j, const char *key)
{
    json_key(j, key);
    fputs("null", j->f);
}

static void json_hist(lg_json_t *j, const char *key, const lg_hist_t *h)
{
    json_open(j, key, '{', 1);
    json_u64(j, "count", h->n);
    json_num(j, "min", h->n ? (double)h->min_us / 1000.0 : NAN, 3);
    json_num(j, "mean", h->n ? h->sum_us / (double)h->n / 1000.0 : NAN, 3);
    json_num(j, "p50", hist_percentile_ms(h, 0.50), 3);
    json_num(j, "p90", hist_percentile_ms(h, 0.90), 3);
    json_num(j, "p99", hist_percentile_ms(h, 0.99), 3);
    json_num(j, "max", h->n ? (double)h->max_us / 1000.0 : NAN, 3);
    json_close(j, '}');
}

static void json_series(lg_json_t *j, const char *key, const lg_series_t *s,
                        size_t len)
{
    size_t i;

    json_open(j, key, '[', 1);
    for (i = 0; i < len; i++) {
        json_u64(j, NULL, i < s->cap ? s->v[i] : 0);
    }
    json_close(j, ']');
}

/* ---------------------------------------------------------- option parsing */

/* Parses a finite number in [lo, hi] (lo excluded when lo_open). */
static int parse_double(const char *opt, const char *s, double lo, int lo_open,
                        double hi, double *out)
{
    char *end;
    double v;

    errno = 0;
    v = strtod(s, &end);
    if (errno != 0 || end == s || *end != '\0' || !isfinite(v)
        || v < lo || (lo_open && v == lo) || v > hi) {
        lg_error("--%s: expected a number in %c%g, %g], got '%s'",
                 opt, lo_open ? '(' : '[', lo, hi, s);
        return -1;
    }
    *out = v;
    return 0;
}

static int parse_long(const char *opt, const char *s, long lo, long hi,
                      long *out)
{
    char *end;
    long v;

    errno = 0;
    v = strtol(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v < lo || v > hi) {
        lg_error("--%s: expected an integer in [%ld, %ld], got '%s'",
                 opt, lo, hi, s);
        return -1;
    }
    *out = v;
    return 0;
}

static int parse_schedule(lg_config_t *cfg, const char *text)
{
    const char *p = text;
    double total = 0;

    cfg->n_segments = 0;
    while (*p) {
        char *end;
        double r, s;

        if (cfg->n_segments == LG_MAX_SEGMENTS) {
            lg_error("--schedule: more than %d segments", LG_MAX_SEGMENTS);
            return -1;
        }
        errno = 0;
        r = strtod(p, &end);
        if (errno || end == p || *end != ':' || !isfinite(r) || r < 0
            || r > LG_MAX_RATE) {
            lg_error("--schedule: bad rate at '%s' (expected "
                     "RATE:SECONDS,..., 0 <= RATE <= %g)", p, LG_MAX_RATE);
            return -1;
        }
        p = end + 1;
        errno = 0;
        s = strtod(p, &end);
        if (errno || end == p || (*end != ',' && *end != '\0')
            || !isfinite(s) || s <= 0) {
            lg_error("--schedule: bad duration at '%s' (expected "
                     "RATE:SECONDS with SECONDS > 0)", p);
            return -1;
        }
        total += s;
        if (total > LG_MAX_DURATION) {
            lg_error("--schedule: total %g s is more than %g s", total,
                     LG_MAX_DURATION);
            return -1;
        }
        cfg->schedule[cfg->n_segments].rate = r;
        cfg->schedule[cfg->n_segments].seconds = s;
        cfg->seg_end[cfg->n_segments] = total;
        cfg->n_segments++;
        p = end;
        if (*p == ',') {
            p++;
            if (*p == '\0') {
                lg_error("--schedule: trailing ','");
                return -1;
            }
        }
    }
    if (cfg->n_segments == 0) {
        lg_error("--schedule: empty");
        return -1;
    }
    return 0;
}

static int valid_token_text(const char *s, int allow_space)
{
    const unsigned char *p;

    for (p = (const unsigned char *)s; *p; p++) {
        if (*p < 0x20 || *p == 0x7f || (!allow_space && *p == ' ')) {
            return 0;
        }
    }
    return 1;
}

/* Accepts a numeric IPv4/IPv6 loopback address or "localhost"; fills
 * cfg->addr. Returns 0, or -1 after printing why the host is refused. */
static int resolve_loopback(lg_config_t *cfg)
{
    struct sockaddr_in *sin = (struct sockaddr_in *)&cfg->addr;
    struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&cfg->addr;
    struct in_addr a4;
    struct in6_addr a6;

    memset(&cfg->addr, 0, sizeof(cfg->addr));
    if (strcasecmp(cfg->host, "localhost") == 0) {
        a4.s_addr = htonl(INADDR_LOOPBACK);
        goto v4;
    }
    if (inet_pton(AF_INET, cfg->host, &a4) == 1) {
        if ((ntohl(a4.s_addr) >> 24) != 127) {
            goto refuse;
        }
        goto v4;
    }
    if (inet_pton(AF_INET6, cfg->host, &a6) == 1) {
        if (IN6_IS_ADDR_V4MAPPED(&a6) && a6.s6_addr[12] == 127) {
            memcpy(&a4.s_addr, &a6.s6_addr[12], 4);
            goto v4;
        }
        if (!IN6_IS_ADDR_LOOPBACK(&a6)) {
            goto refuse;
        }
        sin6->sin6_family = AF_INET6;
        sin6->sin6_port = htons((uint16_t)cfg->port);
        sin6->sin6_addr = a6;
        cfg->addrlen = sizeof(*sin6);
        inet_ntop(AF_INET6, &a6, cfg->address, sizeof(cfg->address));
        return 0;
    }

refuse:
    lg_error("refusing to load '%s': only loopback addresses may be loaded "
             "(127.0.0.0/8, ::1 or localhost, written as numbers; no DNS)",
             cfg->host);
    return -1;

v4:
    sin->sin_family = AF_INET;
    sin->sin_port = htons((uint16_t)cfg->port);
    sin->sin_addr = a4;
    cfg->addrlen = sizeof(*sin);
    inet_ntop(AF_INET, &a4, cfg->address, sizeof(cfg->address));
    return 0;
}

/* Splits http://HOST[:PORT][/PATH] into cfg; the path is kept unless --path
 * was given. */
static int parse_url(lg_config_t *cfg, const char *url, int path_set)
{
    const char *p, *host_end, *rest;
    size_t hlen;
    long port = 80;

    if (strncasecmp(url, "http://", 7) != 0) {
        lg_error("--url: only http:// URLs are supported, got '%s'", url);
        return -1;
    }
    p = url + 7;
    if (memchr(p, '@', strcspn(p, "/?#")) != NULL) {
        lg_error("--url: user information is not supported in '%s'", url);
        return -1;
    }
    if (*p == '[') {
        host_end = strchr(p, ']');
        if (!host_end) {
            lg_error("--url: unterminated '[' in '%s'", url);
            return -1;
        }
        hlen = (size_t)(host_end - p - 1);
        p++;
        rest = host_end + 1;
    }
    else {
        hlen = strcspn(p, ":/?#");
        rest = p + hlen;
    }
    if (hlen == 0 || hlen >= sizeof(cfg->host)) {
        lg_error("--url: bad host in '%s'", url);
        return -1;
    }
    memcpy(cfg->host, p, hlen);
    cfg->host[hlen] = '\0';
    if (*rest == ':') {
        char digits[8];
        size_t n = strcspn(rest + 1, "/?#");

        if (n == 0 || n >= sizeof(digits)) {
            lg_error("--url: bad port in '%s'", url);
            return -1;
        }
        memcpy(digits, rest + 1, n);
        digits[n] = '\0';
        port = strspn(digits, "0123456789") == n ? strtol(digits, NULL, 10)
                                                  : 0;
        if (port < 1 || port > 65535) {
            lg_error("--url: the port must be 1..65535, got '%s'", digits);
            return -1;
        }
        rest += 1 + n;
    }
    cfg->port = (int)port;
    if (*rest == '#') {
        rest = "";
    }
    if (!path_set) {
        size_t n = strcspn(rest, "#");

        if (n == 0) {
            strcpy(cfg->path, "/");
        }
        else {
            if (n >= sizeof(cfg->path) - 1) {
                lg_error("--url: path too long");
                return -1;
            }
            if (*rest == '?') {
                cfg->path[0] = '/';
                memcpy(cfg->path + 1, rest, n);
                cfg->path[n + 1] = '\0';
            }
            else {
                memcpy(cfg->path, rest, n);
                cfg->path[n] = '\0';
            }
        }
    }
    if (cfg->host_header[0] == '\0') {
        int v6 = strchr(cfg->host, ':') != NULL;
        char port_text[8] = "";

        if (port != 80) {
            snprintf(port_text, sizeof(port_text), ":%ld", port);
        }
        snprintf(cfg->host_header, sizeof(cfg->host_header), "%s%s%s%s",
                 v6 ? "[" : "", cfg->host, v6 ? "]" : "", port_text);
    }
    return 0;
}

/* Prints text wrapped at 79 columns, continuation lines indented by
 * indent columns; the first line starts at column `col`. */
static void print_wrapped(FILE *out, const char *text, int col, int indent)
{
    const char *p = text;

    while (*p) {
        size_t word = strcspn(p, " ");

        if (col > indent && col + 1 + (int)word > 79) {
            fprintf(out, "\n%*s", indent, "");
            col = indent;
        }
        else if (col > indent) {
            fputc(' ', out);
            col++;
        }
        fwrite(p, 1, word, out);
        col += (int)word;
        p += word;
        while (*p == ' ') {
            p++;
        }
    }
    fputc('\n', out);
}

static void usage(FILE *out)
{
    size_t i;

    fprintf(out,
            "usage: " LG_PROG " --url http://127.0.0.1:PORT/PATH "
            "(--rate R | --schedule SPEC) [options]\n\n"
            "Puts a reproducible Poisson workload of HTTP/1.1 keep-alive "
            "connections on a\n"
            "loopback httpd and prints one JSON report at exit.\n"
            "Exit status: 0 run completed (failed requests included), "
            "1 internal error,\n"
            "2 usage error.\n\n");
    for (i = 0; i < LG_NOPTIONS; i++) {
        char left[64];

        snprintf(left, sizeof(left), "--%s%s%s", lg_options[i].name,
                 lg_options[i].arg ? " " : "",
                 lg_options[i].arg ? lg_options[i].arg : "");
        if (strlen(left) > 26) {
            fprintf(out, "  %s\n%*s", left, 30, "");
        }
        else {
            fprintf(out, "  %-26s  ", left);
        }
        print_wrapped(out, lg_options[i].help, 30, 30);
    }
}

/* Returns 0 to run, 2 on a usage error (message printed), 3 after --help. */
static int parse_options(int argc, char **argv, lg_config_t *cfg)
{
    struct option longopts[LG_NOPTIONS + 1];
    const char *url = NULL;
    int path_set = 0, seed_set = 0, ct_set = 0, c;
    size_t i;

    for (i = 0; i < LG_NOPTIONS; i++) {
        longopts[i].name = lg_options[i].name;
        longopts[i].has_arg = lg_options[i].arg ? required_argument
                                                : no_argument;
        longopts[i].flag = NULL;
        longopts[i].val = lg_options[i].key;
    }
    memset(&longopts[LG_NOPTIONS], 0, sizeof(longopts[0]));

    cfg->requests = 1;
    cfg->gap = 0;
    cfg->linger_max = 30;
    cfg->duration = 10;
    cfg->drain = 10;
    cfg->max_conns = 2000;
    cfg->timeout = 30;
    strcpy(cfg->path, "/");

    opterr = 0;
    while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
        switch (c) {
        case OPT_HELP:
            usage(stdout);
            return 3;
        case OPT_URL:
            url = optarg;
            break;
        case OPT_RATE:
            if (parse_double("rate", optarg, 0, 1, LG_MAX_RATE,
                             &cfg->rate) < 0) {
                return 2;
            }
            cfg->rate_set = 1;
            break;
        case OPT_SCHEDULE:
            if (parse_schedule(cfg, optarg) < 0) {
                return 2;
            }
            cfg->schedule_text = optarg;
            break;
        case OPT_SEED: {
            char *end;
            unsigned long long v;

            errno = 0;
            v = strtoull(optarg, &end, 0);
            if (errno || end == optarg || *end || optarg[0] == '-') {
                lg_error("--seed: expected a non-negative integer, got '%s'",
                         optarg);
                return 2;
            }
            cfg->seed = (uint64_t)v;
            seed_set = 1;
            break;
        }
        case OPT_REQUESTS:
            if (parse_long("requests", optarg, 1, LG_MAX_REQUESTS,
                           &cfg->requests) < 0) {
                return 2;
            }
            cfg->requests_set = 1;
            break;
        case OPT_REQUESTS_DIST:
            if (strcmp(optarg, "fixed") == 0) {
                cfg->requests_geometric = 0;
            }
            else if (strcmp(optarg, "geometric") == 0) {
                cfg->requests_geometric = 1;
            }
            else {
                lg_error("--requests-dist: expected fixed or geometric, "
                         "got '%s'", optarg);
                return 2;
            }
            break;
        case OPT_GAP:
            if (parse_double("gap", optarg, 0, 0, LG_MAX_SECONDS,
                             &cfg->gap) < 0) {
                return 2;
            }
            break;
        case OPT_GAP_DIST:
            if (strcmp(optarg, "exp") == 0
                || strcmp(optarg, "exponential") == 0) {
                cfg->gap_fixed = 0;
            }
            else if (strcmp(optarg, "fixed") == 0) {
                cfg->gap_fixed = 1;
            }
            else {
                lg_error("--gap-dist: expected exp or fixed, got '%s'",
                         optarg);
                return 2;
            }
            break;
        case OPT_CLOSE:
        case OPT_LINGER:
            if (cfg->end_set && cfg->linger != (c == OPT_LINGER)) {
                lg_error("--close and --linger exclude each other");
                return 2;
            }
            cfg->linger = c == OPT_LINGER;
            cfg->end_set = 1;
            break;
        case OPT_LINGER_MAX:
            if (parse_double("linger-max", optarg, 0, 1, LG_MAX_SECONDS,
                             &cfg->linger_max) < 0) {
                return 2;
            }
            break;
        case OPT_NO_KEEPALIVE:
            cfg->no_keepalive = 1;
            break;
        case OPT_DURATION:
            if (parse_double("duration", optarg, 0, 1, LG_MAX_DURATION,
                             &cfg->duration) < 0) {
                return 2;
            }
            cfg->duration_set = 1;
            break;
        case OPT_DRAIN:
            if (parse_double("drain", optarg, 0, 0, LG_MAX_DRAIN,
                             &cfg->drain) < 0) {
                return 2;
            }
            break;
        case OPT_MAX_CONNS:
            if (parse_long("max-conns", optarg, 1, LG_MAX_CONNS,
                           &cfg->max_conns) < 0) {
                return 2;
            }
            break;
        case OPT_PATH:
            if (optarg[0] != '/' || !valid_token_text(optarg, 0)
                || strlen(optarg) >= sizeof(cfg->path)) {
                lg_error("--path: expected /PATH without spaces or control "
                         "characters, got '%s'", optarg);
                return 2;
            }
            strcpy(cfg->path, optarg);
            path_set = 1;
            break;
        case OPT_HOST_HEADER:
            if (!valid_token_text(optarg, 0) || optarg[0] == '\0'
                || strlen(optarg) >= sizeof(cfg->host_header)) {
                lg_error("--host-header: expected a value without spaces or "
                         "control characters, got '%s'", optarg);
                return 2;
            }
            strcpy(cfg->host_header, optarg);
            break;
        case OPT_TIMEOUT:
            if (parse_double("timeout", optarg, 0, 1, LG_MAX_SECONDS,
                             &cfg->timeout) < 0) {
                return 2;
            }
            break;
        case OPT_CONNECT_TIMEOUT:
            if (parse_double("connect-timeout", optarg, 0, 1, LG_MAX_SECONDS,
                             &cfg->connect_timeout) < 0) {
                return 2;
            }
            ct_set = 1;
            break;
        case OPT_JSON_OUT:
            if (optarg[0] == '\0') {
                lg_error("--json-out: empty file name");
                return 2;
            }
            cfg->json_out = optarg;
            break;
        case OPT_PROGRESS:
            cfg->progress = 1;
            break;
        case ':':
            lg_error("option '%s' needs an argument (see --help)",
                     argv[optind - 1]);
            return 2;
        default:
            lg_error("unknown option '%s' (see --help)", argv[optind - 1]);
            return 2;
        }
    }

    if (optind < argc) {
        if (url || optind + 1 < argc) {
            lg_error("unexpected argument '%s' (see --help)", argv[optind]);
            return 2;
        }
        url = argv[optind];
    }
    if (!url) {
        lg_error("no target: give --url http://127.0.0.1:PORT/ (see --help)");
        return 2;
    }
    if (cfg->rate_set == (cfg->schedule_text != NULL)) {
        lg_error("give exactly one of --rate and --schedule");
        return 2;
    }
    if (cfg->no_keepalive) {
        if ((cfg->requests_set && cfg->requests != 1)
            || cfg->requests_geometric) {
            lg_error("--no-keepalive sends one request per connection; "
                     "drop --requests/--requests-dist");
            return 2;
        }
        if (cfg->linger) {
            lg_error("--no-keepalive and --linger exclude each other");
            return 2;
        }
    }
    cfg->url = url;
    if (parse_url(cfg, url, path_set) < 0) {
        return 2;
    }
    if (!valid_token_text(cfg->path, 0) || cfg->path[0] != '/') {
        lg_error("--url: the path must not contain spaces or control "
                 "characters");
        return 2;
    }
    if (resolve_loopback(cfg) < 0) {
        return 2;
    }
    if (cfg->rate_set) {
        cfg->n_segments = 1;
        cfg->schedule[0].rate = cfg->rate;
        cfg->schedule[0].seconds = cfg->duration;
        cfg->seg_end[0] = cfg->duration;
    }
    else if (!cfg->duration_set) {
        cfg->duration = cfg->seg_end[cfg->n_segments - 1];
    }
    if (!ct_set) {
        cfg->connect_timeout = cfg->timeout;
    }
    if (!seed_set) {
        struct timespec ts;

        clock_gettime(CLOCK_REALTIME, &ts);
        cfg->seed = ((uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 20)
                     ^ ((uint64_t)getpid() << 8)) & UINT64_C(0xffffffff);
    }
    cfg->max_conns_requested = cfg->max_conns;
    return 0;
}

/* ------------------------------------------------------------ timers */

static void heap_place(lg_ctx_t *ctx, size_t pos, uint32_t id)
{
    ctx->heap[pos] = id;
    ctx->conns[id].heap_pos = pos;
}

static void heap_up(lg_ctx_t *ctx, size_t pos)
{
    uint32_t id = ctx->heap[pos];
    int64_t d = ctx->conns[id].deadline;

    while (pos > 0) {
        size_t parent = (pos - 1) / 2;

        if (ctx->conns[ctx->heap[parent]].deadline <= d) {
            break;
        }
        heap_place(ctx, pos, ctx->heap[parent]);
        pos = parent;
    }
    heap_place(ctx, pos, id);
}

static void heap_down(lg_ctx_t *ctx, size_t pos)
{
    uint32_t id = ctx->heap[pos];
    int64_t d = ctx->conns[id].deadline;

    for (;;) {
        size_t child = 2 * pos + 1;

        if (child >= ctx->heap_len) {
            break;
        }
        if (child + 1 < ctx->heap_len
            && ctx->conns[ctx->heap[child + 1]].deadline
               < ctx->conns[ctx->heap[child]].deadline) {
            child++;
        }
        if (d <= ctx->conns[ctx->heap[child]].deadline) {
            break;
        }
        heap_place(ctx, pos, ctx->heap[child]);
        pos = child;
    }
    heap_place(ctx, pos, id);
}

/* Arms (or re-arms) the connection's single timer. */
static void timer_set(lg_ctx_t *ctx, lg_conn_t *c, int64_t deadline)
{
    uint32_t id = (uint32_t)(c - ctx->conns);

    c->deadline = deadline;
    if (c->heap_pos == LG_NO_POS) {
        ctx->heap[ctx->heap_len] = id;
        c->heap_pos = ctx->heap_len++;
        heap_up(ctx, c->heap_pos);
    }
    else {
        heap_up(ctx, c->heap_pos);
        heap_down(ctx, c->heap_pos);
    }
}

static void timer_clear(lg_ctx_t *ctx, lg_conn_t *c)
{
    size_t pos = c->heap_pos;
    uint32_t last;

    if (pos == LG_NO_POS) {
        return;
    }
    c->heap_pos = LG_NO_POS;
    last = ctx->heap[--ctx->heap_len];
    if (pos < ctx->heap_len) {
        heap_place(ctx, pos, last);
        heap_up(ctx, pos);
        heap_down(ctx, ctx->conns[last].heap_pos);
    }
}

/* ------------------------------------------------------------ arrivals */

/* End (seconds since start) of arrival segment i, cut at --duration and
 * with the last segment extended to it. */
static double segment_end(const lg_config_t *cfg, int i)
{
    double end = cfg->seg_end[i];

    if (i == cfg->n_segments - 1 || end > cfg->duration) {
        end = cfg->duration;
    }
    return end;
}

/* Next arrival strictly after t (seconds since start) of the Poisson
 * process with the configured piecewise constant rate, by inverting its
 * integrated rate; INFINITY when none falls before --duration. */
static double next_arrival(lg_ctx_t *ctx, double t)
{
    const lg_config_t *cfg = &ctx->cfg;
    double e = -log(rng_uniform(&ctx->arr_rng));

    for (;;) {
        double rate, end;

        if (t >= cfg->duration) {
            return INFINITY;
        }
        while (ctx->arr_seg < cfg->n_segments - 1
               && t >= cfg->seg_end[ctx->arr_seg]) {
            ctx->arr_seg++;
        }
        rate = cfg->schedule[ctx->arr_seg].rate;
        end = segment_end(cfg, ctx->arr_seg);
        if (rate > 0) {
            double dt = e / rate;

            if (t + dt < end) {
                return t + dt;
            }
            e -= rate * (end - t);
        }
        t = end;
        if (ctx->arr_seg == cfg->n_segments - 1) {
            return INFINITY;
        }
    }
}

/* ------------------------------------------------------------ connections */

static void conn_set_events(lg_ctx_t *ctx, lg_conn_t *c, uint32_t events)
{
    struct epoll_event ev;

    if (c->events == events) {
        return;
    }
    memset(&ev, 0, sizeof(ev));
    ev.events = events;
    ev.data.u64 = ((uint64_t)c->gen << 32) | (uint64_t)(c - ctx->conns);
    if (epoll_ctl(ctx->epfd, EPOLL_CTL_MOD, c->fd, &ev) < 0) {
        lg_warn(ctx, "epoll_ctl: %s", strerror(errno));
    }
    c->events = events;
}

static void conn_set_state(lg_ctx_t *ctx, lg_conn_t *c, lg_conn_state_t s)
{
    int was_idle = c->state == CS_GAP || c->state == CS_LINGER;
    int is_idle = s == CS_GAP || s == CS_LINGER;

    if (was_idle && !is_idle) {
        ctx->n_idle--;
    }
    else if (!was_idle && is_idle) {
        ctx->n_idle++;
    }
    c->state = s;
}

/* Closes the socket and returns the slot to the free list. */
static void conn_release(lg_ctx_t *ctx, lg_conn_t *c)
{
    timer_clear(ctx, c);
    conn_set_state(ctx, c, CS_FREE);
    if (c->fd >= 0) {
        close(c->fd);
        c->fd = -1;
    }
    c->gen++;
    c->events = 0;
    ctx->free_list[ctx->n_free++] = (uint32_t)(c - ctx->conns);
    ctx->n_open--;
}

/* Ends an opened connection; the caller has counted how it ended. Requests
 * still planned are counted as abandoned. */
static void conn_end(lg_ctx_t *ctx, lg_conn_t *c)
{
    hist_add_ns(&ctx->st.conn_duration, now_ns() - c->t_established);
    if (c->planned > c->done) {
        int sent_unanswered = c->state == CS_RECEIVING
                              || (c->state == CS_SENDING
                                  && c->request_written);
        long left = c->planned - c->done - (sent_unanswered ? 1 : 0);

        ctx->st.requests_abandoned += (uint64_t)(left > 0 ? left : 0);
    }
    conn_release(ctx, c);
}

/* Counts a failure of the request in progress and ends the connection. */
static void conn_fail(lg_ctx_t *ctx, lg_conn_t *c, uint64_t *cause)
{
    (*cause)++;
    if (c->state == CS_RECEIVING
        || (c->state == CS_SENDING && c->request_written)) {
        ctx->st.unanswered_failed++;
    }
    ctx->st.end_failed++;
    conn_end(ctx, c);
}

static void conn_parse_reset(lg_conn_t *c)
{
    c->rlen = 0;
    c->phase = RP_HEAD;
    c->status = 0;
    c->server_close = 0;
    c->body_left = 0;
    c->got_byte = 0;
}

static void conn_send(lg_ctx_t *ctx, lg_conn_t *c);
static void conn_cut(lg_ctx_t *ctx, lg_conn_t *c);

/* Starts the next request of c now. */
static void conn_start_request(lg_ctx_t *ctx, lg_conn_t *c, int64_t now)
{
    conn_set_state(ctx, c, CS_SENDING);
    c->woff = 0;
    c->request_written = 0;
    conn_parse_reset(c);
    timer_set(ctx, c, now + seconds_to_ns(ctx->cfg.timeout));
    conn_send(ctx, c);
}

static void conn_established(lg_ctx_t *ctx, lg_conn_t *c, int64_t now)
{
    ctx->st.opened++;
    c->t_established = now;
    hist_add_ns(&ctx->st.connect, now - c->t_connect);
    conn_start_request(ctx, c, now);
}

/* Writes what is left of the request. The request counts as sent at the
 * start of the send() call that completes it: on the loopback that call can
 * hand the CPU to httpd, which may answer before send() returns. */
static void conn_send(lg_ctx_t *ctx, lg_conn_t *c)
{
    int64_t t_call = 0;

    while (c->woff < ctx->request_len) {
        ssize_t n;

        t_call = now_ns();
        n = send(c->fd, ctx->request + c->woff, ctx->request_len - c->woff,
                 MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            if (errno == EAGAIN || errno == EWOULDBLOCK) {
                conn_set_events(ctx, c, EPOLLOUT);
                return;
            }
            if (errno == ECONNRESET || errno == EPIPE) {
                conn_fail(ctx, c, c->done > 0 ? &ctx->st.f_closed_before
                                              : &ctx->st.f_reset);
            }
            else {
                lg_warn(ctx, "send: %s", strerror(errno));
                conn_fail(ctx, c, &ctx->st.f_write);
            }
            return;
        }
        c->woff += (size_t)n;
    }
    c->request_written = 1;
    c->t_sent = t_call;
    ctx->st.requests_sent++;
    conn_set_state(ctx, c, CS_RECEIVING);
    conn_set_events(ctx, c, EPOLLIN | EPOLLRDHUP);
}

/* Starts one connection for an arrival scheduled at `scheduled`. */
static void conn_open(lg_ctx_t *ctx, int64_t scheduled)
{
    const lg_config_t *cfg = &ctx->cfg;
    struct epoll_event ev;
    lg_conn_t *c;
    uint32_t id;
    int fd, one = 1, rv;
    int64_t now;
    uint64_t seq = ctx->conn_seq++;

    if (ctx->n_open >= (size_t)cfg->max_conns) {
        ctx->st.dropped_by_client++;
        return;
    }
    id = ctx->free_list[--ctx->n_free];
    c = &ctx->conns[id];
    ctx->n_open++;
    if (ctx->n_open > ctx->st.max_open) {
        ctx->st.max_open = ctx->n_open;
    }
    c->fd = -1;
    c->events = 0;
    c->heap_pos = LG_NO_POS;
    c->done = 0;
    c->request_written = 0;
    c->rng = ctx->cfg.seed ^ (UINT64_C(0xD1B54A32D192ED03) * (seq + 1));
    rng_next(&c->rng);
    c->planned = cfg->requests;
    if (cfg->requests_geometric && cfg->requests > 1) {
        double p = 1.0 / (double)cfg->requests;
        double k = 1.0 + floor(log(rng_uniform(&c->rng)) / log1p(-p));

        c->planned = k > (double)LG_MAX_REQUESTS ? LG_MAX_REQUESTS : (long)k;
    }
    conn_parse_reset(c);
    if (!c->rbuf) {
        c->rbuf = malloc(LG_RBUF_SIZE);
    }

    now = now_ns();
    ctx->st.attempted++;
    series_add(&ctx->st.sec_arrivals, second_index(ctx, now), 1);
    hist_add_ns(&ctx->st.lag, now - scheduled);
    c->state = CS_CONNECTING;

    if (!c->rbuf) {
        lg_warn(ctx, "out of memory for a connection buffer");
        ctx->st.f_connect++;
        conn_release(ctx, c);
        return;
    }
    fd = socket(cfg->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK
                | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        lg_warn(ctx, "socket: %s", strerror(errno));
        ctx->st.f_connect++;
        conn_release(ctx, c);
        return;
    }
    c->fd = fd;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    c->t_connect = now_ns();
    do {
        rv = connect(fd, (const struct sockaddr *)&cfg->addr, cfg->addrlen);
    } while (rv < 0 && errno == EINTR);
    if (rv < 0 && errno != EINPROGRESS) {
        if (errno == ECONNREFUSED) {
            ctx->st.refused++;
        }
        else {
            lg_warn(ctx, "connect: %s", strerror(errno));
            ctx->st.f_connect++;
        }
        conn_release(ctx, c);
        return;
    }
    memset(&ev, 0, sizeof(ev));
    ev.events = EPOLLOUT;
    ev.data.u64 = ((uint64_t)c->gen << 32) | id;
    if (epoll_ctl(ctx->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
        lg_warn(ctx, "epoll_ctl: %s", strerror(errno));
        ctx->st.f_connect++;
        conn_release(ctx, c);
        return;
    }
    c->events = EPOLLOUT;
    if (rv == 0) {
        conn_established(ctx, c, now_ns());
        return;
    }
    timer_set(ctx, c, c->t_connect + seconds_to_ns(cfg->connect_timeout));
}

static void conn_connect_done(lg_ctx_t *ctx, lg_conn_t *c, int64_t now)
{
    int err = 0;
    socklen_t len = sizeof(err);

    if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0) {
        err = errno;
    }
    if (err == 0) {
        timer_clear(ctx, c);
        conn_established(ctx, c, now);
        return;
    }
    if (err == EINPROGRESS || err == EALREADY) {
        return;
    }
    if (err == ECONNREFUSED) {
        ctx->st.refused++;
    }
    else if (err == ETIMEDOUT) {
        ctx->st.connect_timeouts++;
    }
    else {
        lg_warn(ctx, "connect: %s", strerror(err));
        ctx->st.f_connect++;
    }
    conn_release(ctx, c);
}

/* ------------------------------------------------------------ HTTP parsing */

static int name_is(const char *p, size_t n, const char *name)
{
    return strlen(name) == n && strncasecmp(p, name, n) == 0;
}

/* True when the comma separated token list v[0..n) contains tok. */
static int list_has(const char *v, size_t n, const char *tok, int last_only)
{
    size_t i = 0, tlen = strlen(tok);
    int found = 0;

    while (i < n) {
        size_t s, e;

        while (i < n && (v[i] == ' ' || v[i] == '\t' || v[i] == ',')) {
            i++;
        }
        s = i;
        while (i < n && v[i] != ',') {
            i++;
        }
        e = i;
        while (e > s && (v[e - 1] == ' ' || v[e - 1] == '\t')) {
            e--;
        }
        if (e == s) {
            continue;
        }
        found = e - s == tlen && strncasecmp(v + s, tok, tlen) == 0;
        if (found && !last_only) {
            return 1;
        }
    }
    return found;
}

/* Offset just past the blank line ending the head in p[0..len), or 0 when
 * it is not complete yet. */
static size_t head_end(const char *p, size_t len)
{
    size_t i;

    for (i = 0; i + 1 < len; i++) {
        if (p[i] != '\n') {
            continue;
        }
        if (p[i + 1] == '\n') {
            return i + 2;
        }
        if (p[i + 1] == '\r' && i + 2 < len && p[i + 2] == '\n') {
            return i + 3;
        }
    }
    return 0;
}

/* Parses a complete response head; sets status, server_close and the body
 * phase. Returns 0, or -1 when it is not HTTP/1.x. */
static int parse_head(lg_conn_t *c, const char *p, size_t len)
{
    const char *line = p, *end = p + len;
    int ka = 0, chunked = 0, te_other = 0, have_cl = 0, first = 1;
    int64_t cl = 0;

    while (line < end) {
        const char *eol = memchr(line, '\n', (size_t)(end - line));
        size_t n;

        if (!eol) {
            return -1;
        }
        n = (size_t)(eol - line);
        if (n > 0 && line[n - 1] == '\r') {
            n--;
        }
        if (first) {
            if (n < 12 || memcmp(line, "HTTP/1.", 7) != 0
                || !isdigit((unsigned char)line[7]) || line[8] != ' '
                || !isdigit((unsigned char)line[9])
                || !isdigit((unsigned char)line[10])
                || !isdigit((unsigned char)line[11])
                || (n > 12 && line[12] != ' ')) {
                return -1;
            }
            c->status = (line[9] - '0') * 100 + (line[10] - '0') * 10
                        + (line[11] - '0');
            if (c->status < 100) {
                return -1;
            }
            first = 0;
            c->server_close = line[7] == '0';
        }
        else if (n > 0 && line[0] != ' ' && line[0] != '\t') {
            const char *colon = memchr(line, ':', n);
            const char *v;
            size_t nlen, vlen;

            if (!colon) {
                return -1;
            }
            nlen = (size_t)(colon - line);
            v = colon + 1;
            vlen = n - nlen - 1;
            while (vlen > 0 && (*v == ' ' || *v == '\t')) {
                v++;
                vlen--;
            }
            while (vlen > 0 && (v[vlen - 1] == ' ' || v[vlen - 1] == '\t')) {
                vlen--;
            }
            if (name_is(line, nlen, "content-length")) {
                int64_t x = 0;
                size_t i;

                if (vlen == 0 || vlen > 18) {
                    return -1;
                }
                for (i = 0; i < vlen; i++) {
                    if (!isdigit((unsigned char)v[i])) {
                        return -1;
                    }
                    x = x * 10 + (v[i] - '0');
                }
                if (have_cl && x != cl) {
                    return -1;
                }
                cl = x;
                have_cl = 1;
            }
            else if (name_is(line, nlen, "transfer-encoding")) {
                if (list_has(v, vlen, "chunked", 1)) {
                    chunked = 1;
                }
                else {
                    te_other = 1;
                }
            }
            else if (name_is(line, nlen, "connection")) {
                if (list_has(v, vlen, "close", 0)) {
                    c->server_close = 2;
                }
                if (list_has(v, vlen, "keep-alive", 0)) {
                    ka = 1;
                }
            }
        }
        line = eol + 1;
    }
    if (first) {
        return -1;
    }
    if (c->server_close == 1 && ka) {
        c->server_close = 0;          /* HTTP/1.0 with keep-alive */
    }
    if (c->status < 200) {
        if (c->status == 101) {
            return -1;
        }
        c->phase = RP_HEAD;           /* interim response: another head */
    }
    else if (c->status == 204 || c->status == 304) {
        c->phase = RP_DONE;
    }
    else if (chunked) {
        c->phase = RP_CHUNK_SIZE;
    }
    else if (te_other) {
        c->phase = RP_BODY_EOF;
        c->server_close = 1;
    }
    else if (have_cl) {
        c->body_left = cl;
        c->phase = cl == 0 ? RP_DONE : RP_BODY_LENGTH;
    }
    else {
        c->phase = RP_BODY_EOF;
        c->server_close = 1;
    }
    return 0;
}

/* Parses a chunk-size line (without its line end). Returns the size or -1. */
static int64_t parse_chunk_size(const char *p, size_t n)
{
    int64_t v = 0;
    size_t i, digits = 0;

    for (i = 0; i < n; i++) {
        int d;

        if (p[i] >= '0' && p[i] <= '9') {
            d = p[i] - '0';
        }
        else if (p[i] >= 'a' && p[i] <= 'f') {
            d = p[i] - 'a' + 10;
        }
        else if (p[i] >= 'A' && p[i] <= 'F') {
            d = p[i] - 'A' + 10;
        }
        else if (p[i] == ';' || p[i] == ' ' || p[i] == '\t') {
            break;
        }
        else {
            return -1;
        }
        if (++digits > 15) {
            return -1;
        }
        v = v * 16 + d;
    }
    return digits ? v : -1;
}

/* Consumes response bytes from c->rbuf[0..rlen) and keeps what is left.
 * Returns 1 when a whole response has been consumed (c->phase RP_DONE),
 * 0 when more bytes are needed, -1 on a protocol error (*why says which). */
static int parse_response(lg_conn_t *c, const char **why)
{
    size_t pos = 0;
    int rv = 0;

    while (rv == 0) {
        const char *p = c->rbuf + pos;
        size_t len = c->rlen - pos;
        const char *eol;
        size_t take, n;

        if (c->phase == RP_DONE) {
            rv = 1;
            break;
        }
        if (len == 0) {
            break;
        }
        switch (c->phase) {
        case RP_HEAD:
            n = head_end(p, len);
            if (n == 0) {
                if (len >= LG_RBUF_SIZE) {
                    *why = "response head too large";
                    rv = -1;
                }
                goto out;
            }
            if (parse_head(c, p, n) < 0) {
                *why = "malformed or non-HTTP/1.x response head";
                rv = -1;
                goto out;
            }
            pos += n;
            break;
        case RP_BODY_LENGTH:
        case RP_CHUNK_DATA:
            take = (int64_t)len < c->body_left ? len : (size_t)c->body_left;
            pos += take;
            c->body_left -= (int64_t)take;
            if (c->body_left == 0) {
                c->phase = c->phase == RP_BODY_LENGTH ? RP_DONE
                                                      : RP_CHUNK_CRLF;
            }
            break;
        case RP_BODY_EOF:
            pos += len;
            break;
        case RP_CHUNK_SIZE:
        case RP_CHUNK_CRLF:
        case RP_TRAILER:
            eol = memchr(p, '\n', len);
            if (!eol) {
                if (len >= LG_RBUF_SIZE) {
                    *why = "chunk or trailer line too long";
                    rv = -1;
                }
                goto out;
            }
            n = (size_t)(eol - p);
            pos += n + 1;
            if (n > 0 && p[n - 1] == '\r') {
                n--;
            }
            if (c->phase == RP_CHUNK_SIZE) {
                int64_t size = parse_chunk_size(p, n);

                if (size < 0) {
                    *why = "bad chunk size";
                    rv = -1;
                    goto out;
                }
                c->body_left = size;
                c->phase = size == 0 ? RP_TRAILER : RP_CHUNK_DATA;
            }
            else if (c->phase == RP_CHUNK_CRLF) {
                if (n != 0) {
                    *why = "chunk data not followed by CRLF";
                    rv = -1;
                    goto out;
                }
                c->phase = RP_CHUNK_SIZE;
            }
            else if (n == 0) {
                c->phase = RP_DONE;
            }
            break;
        case RP_DONE:
            break;
        }
    }
out:
    if (pos > 0) {
        memmove(c->rbuf, c->rbuf + pos, c->rlen - pos);
        c->rlen -= pos;
    }
    return rv;
}

/* ------------------------------------------------------------ responses */

static void count_response(lg_ctx_t *ctx, lg_conn_t *c, int64_t now)
{
    lg_stats_t *st = &ctx->st;
    int s = c->status;

    if (s >= 200 && s < 400) {
        st->responses_ok++;
    }
    else if (s >= 400 && s < 500) {
        st->err_4xx++;
    }
    else if (s >= 500 && s < 600) {
        st->err_5xx++;
    }
    else {
        st->err_other++;
    }
    if (s < 200 || s >= 400) {
        st->err_total++;
    }
    if (s >= 100 && s < 600) {
        st->status_counts[s]++;
    }
    hist_add_ns(&st->response, now - c->t_sent);
    series_add(&st->sec_requests, second_index(ctx, now), 1);
    c->done++;
}

/* A whole response arrived at `now`: decide what the connection does next. */
static void conn_response_done(lg_ctx_t *ctx, lg_conn_t *c, int64_t now)
{
    const lg_config_t *cfg = &ctx->cfg;

    conn_set_state(ctx, c, CS_ANSWERED);
    count_response(ctx, c, now);
    if (c->rlen > 0) {
        lg_warn(ctx, "%zu unexpected bytes after a response", c->rlen);
        conn_fail(ctx, c, &ctx->st.f_parse);
        return;
    }
    if (c->done >= c->planned) {
        ctx->st.completed++;
    }
    if (c->server_close) {
        ctx->st.end_server_after_resp++;
        conn_end(ctx, c);
        return;
    }
    if (c->done < c->planned) {
        double gap = cfg->gap_fixed ? cfg->gap : rng_exp(&c->rng, cfg->gap);

        conn_set_state(ctx, c, CS_GAP);
        if (ctx->interrupted) {
            conn_cut(ctx, c);
            return;
        }
        if (gap <= 0) {
            conn_start_request(ctx, c, now);
            return;
        }
        c->t_idle_since = now;
        conn_set_events(ctx, c, EPOLLIN | EPOLLRDHUP);
        timer_set(ctx, c, now + seconds_to_ns(gap));
        return;
    }
    if (!cfg->linger) {
        ctx->st.end_client_close++;
        conn_end(ctx, c);
        return;
    }
    conn_set_state(ctx, c, CS_LINGER);
    if (ctx->interrupted) {
        conn_cut(ctx, c);
        return;
    }
    c->t_idle_since = now;
    conn_set_events(ctx, c, EPOLLIN | EPOLLRDHUP);
    timer_set(ctx, c, now + seconds_to_ns(cfg->linger_max));
}

/* The server closed (eof) or reset (!eof) an idle connection. */
static void conn_idle_closed(lg_ctx_t *ctx, lg_conn_t *c, int64_t now, int eof)
{
    if (c->state == CS_LINGER) {
        ctx->st.end_server_idle++;
        if (!eof) {
            ctx->st.end_server_idle_rst++;
        }
        hist_add_ns(&ctx->st.idle_close, now - c->t_idle_since);
    }
    else {
        ctx->st.end_server_gap++;
    }
    conn_end(ctx, c);
}

static void conn_readable(lg_ctx_t *ctx, lg_conn_t *c)
{
    for (;;) {
        const char *why = "";
        int64_t now;
        ssize_t n;
        int rv;

        if (c->state == CS_GAP || c->state == CS_LINGER) {
            char scratch[256];

            n = recv(c->fd, scratch, sizeof(scratch), 0);
            now = now_ns();
            if (n == 0) {
                conn_idle_closed(ctx, c, now, 1);
            }
            else if (n > 0) {
                lg_warn(ctx, "%zd unsolicited bytes on an idle connection",
                        n);
                conn_fail(ctx, c, &ctx->st.f_parse);
            }
            else if (errno == ECONNRESET) {
                conn_idle_closed(ctx, c, now, 0);
            }
            else if (errno != EAGAIN && errno != EWOULDBLOCK
                     && errno != EINTR) {
                lg_warn(ctx, "recv: %s", strerror(errno));
                conn_fail(ctx, c, &ctx->st.f_other);
            }
            return;
        }
        if (c->state != CS_RECEIVING) {
            return;
        }
        n = recv(c->fd, c->rbuf + c->rlen, LG_RBUF_SIZE - c->rlen, 0);
        now = now_ns();
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            if (errno == EAGAIN || errno == EWOULDBLOCK) {
                return;
            }
            if (errno == ECONNRESET) {
                conn_fail(ctx, c, &ctx->st.f_reset);
            }
            else {
                lg_warn(ctx, "recv: %s", strerror(errno));
                conn_fail(ctx, c, &ctx->st.f_other);
            }
            return;
        }
        if (n == 0) {
            if (c->phase == RP_BODY_EOF) {
                c->server_close = 1;
                c->phase = RP_DONE;
                conn_response_done(ctx, c, now);
            }
            else if (!c->got_byte) {
                conn_fail(ctx, c, &ctx->st.f_closed_before);
            }
            else {
                conn_fail(ctx, c, &ctx->st.f_closed_mid);
            }
            return;
        }
        if (!c->got_byte) {
            c->got_byte = 1;
            hist_add_ns(&ctx->st.ttfb, now - c->t_sent);
        }
        c->rlen += (size_t)n;
        rv = parse_response(c, &why);
        if (rv < 0) {
            lg_warn(ctx, "response to %s: %s", ctx->cfg.path, why);
            conn_fail(ctx, c, &ctx->st.f_parse);
            return;
        }
        if (rv == 1) {
            timer_clear(ctx, c);
            conn_response_done(ctx, c, now);
            return;
        }
    }
}

static void conn_on_event(lg_ctx_t *ctx, lg_conn_t *c, uint32_t events)
{
    switch (c->state) {
    case CS_CONNECTING:
        conn_connect_done(ctx, c, now_ns());
        break;
    case CS_SENDING:
        conn_send(ctx, c);
        break;
    case CS_RECEIVING:
    case CS_GAP:
    case CS_LINGER:
        if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) {
            conn_readable(ctx, c);
        }
        break;
    case CS_ANSWERED:
    case CS_FREE:
        break;
    }
}

static void conn_on_timer(lg_ctx_t *ctx, lg_conn_t *c, int64_t now)
{
    switch (c->state) {
    case CS_CONNECTING:
        ctx->st.connect_timeouts++;
        conn_release(ctx, c);
        break;
    case CS_SENDING:
    case CS_RECEIVING:
        conn_fail(ctx, c, &ctx->st.f_timeout);
        break;
    case CS_GAP:
        conn_start_request(ctx, c, now);
        break;
    case CS_LINGER:
        ctx->st.end_linger_max++;
        conn_end(ctx, c);
        break;
    case CS_ANSWERED:
    case CS_FREE:
        break;
    }
}

/* Closes connection c at the end of the run and counts it by state. */
static void conn_cut(lg_ctx_t *ctx, lg_conn_t *c)
{
    switch (c->state) {
    case CS_CONNECTING:
        ctx->st.cut_connecting++;
        conn_release(ctx, c);
        return;
    case CS_SENDING:
    case CS_RECEIVING:
        ctx->st.cut_in_flight++;
        if (c->state == CS_RECEIVING || c->request_written) {
            ctx->st.unanswered_cut++;
        }
        break;
    case CS_GAP:
        ctx->st.cut_gap++;
        break;
    case CS_LINGER:
        ctx->st.cut_linger++;
        break;
    case CS_ANSWERED:
        break;
    case CS_FREE:
        return;
    }
    ctx->st.end_cut++;
    conn_end(ctx, c);
}

/* Cuts every open connection, or only the idle ones. */
static void cut_all(lg_ctx_t *ctx, int idle_only)
{
    long i;

    for (i = 0; i < ctx->cfg.max_conns; i++) {
        lg_conn_t *c = &ctx->conns[i];

        if (c->state == CS_FREE) {
            continue;
        }
        if (idle_only && c->state != CS_GAP && c->state != CS_LINGER) {
            continue;
        }
        conn_cut(ctx, c);
    }
}

/* ------------------------------------------------------------ main loop */

static void stop_arrivals(lg_ctx_t *ctx, int64_t now)
{
    if (ctx->phase != PH_RUNNING) {
        return;
    }
    ctx->phase = PH_DRAINING;
    ctx->t_arrivals_stopped = now;
    ctx->t_drain_end = ctx->t_arrivals_end
                       + seconds_to_ns(ctx->cfg.drain);
    ctx->next_arrival = INFINITY;
}

static void on_signal(lg_ctx_t *ctx, int64_t now)
{
    struct signalfd_siginfo si;

    while (read(ctx->sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
        ctx->signals++;
        ctx->interrupted = 1;
    }
    if (ctx->signals == 0) {
        return;
    }
    if (ctx->phase == PH_RUNNING) {
        ctx->t_arrivals_end = now;
        stop_arrivals(ctx, now);
    }
    if (ctx->signals >= 2) {
        ctx->t_drain_end = now;
    }
    else if (ctx->t_drain_end > now + LG_STOP_GRACE_NS) {
        ctx->t_drain_end = now + LG_STOP_GRACE_NS;
    }
    cut_all(ctx, 1);
}

static void progress_line(lg_ctx_t *ctx)
{
    const lg_stats_t *st = &ctx->st;
    uint64_t resp = st->responses_ok + st->err_total;
    uint64_t failed = st->f_reset + st->f_timeout + st->f_parse
                      + st->f_closed_before + st->f_closed_mid + st->f_write
                      + st->f_connect + st->f_other;

    fprintf(stderr, LG_PROG ": t=%" PRIu64 "s %s open=%zu idle=%zu "
            "new=%" PRIu64 "/s resp=%" PRIu64 "/s ok=%" PRIu64
            " err=%" PRIu64 " failed=%" PRIu64 " refused=%" PRIu64
            " dropped=%" PRIu64 " idle_closed=%" PRIu64 "\n",
            ctx->tick, ctx->phase == PH_RUNNING ? "run" : "drain",
            ctx->n_open, ctx->n_idle,
            st->attempted - ctx->last_prog_arrivals,
            resp - ctx->last_prog_responses, st->responses_ok,
            st->err_total, failed, st->refused,
            st->dropped_by_client, st->end_server_idle);
    ctx->last_prog_arrivals = st->attempted;
    ctx->last_prog_responses = resp;
}

/* Samples the per-second occupancy series at the end of each second. */
static void on_tick(lg_ctx_t *ctx)
{
    size_t idx = (size_t)ctx->tick;

    series_add(&ctx->st.sec_open, idx, ctx->n_open);
    series_add(&ctx->st.sec_idle, idx, ctx->n_idle);
    ctx->tick++;
    ctx->t_next_tick = ctx->t_start + (int64_t)(ctx->tick + 1) * LG_NS;
    if (ctx->cfg.progress) {
        progress_line(ctx);
    }
}

static int64_t min64(int64_t a, int64_t b)
{
    return a < b ? a : b;
}

static int64_t arrival_ns(const lg_ctx_t *ctx)
{
    if (!isfinite(ctx->next_arrival)) {
        return INT64_MAX;
    }
    return ctx->t_start + seconds_to_ns(ctx->next_arrival);
}

static int wait_events(lg_ctx_t *ctx, struct epoll_event *evs, int64_t until)
{
    int64_t wait = until - now_ns();
    int n;

    if (wait < 0) {
        wait = 0;
    }
    if (ctx->epoll_pwait2_ok) {
        struct timespec ts;

        ts.tv_sec = (time_t)(wait / LG_NS);
        ts.tv_nsec = (long)(wait % LG_NS);
        n = epoll_pwait2(ctx->epfd, evs, LG_EVENTS, &ts, NULL);
        if (n >= 0 || errno != ENOSYS) {
            return n;
        }
        ctx->epoll_pwait2_ok = 0;
    }
    return epoll_wait(ctx->epfd, evs, LG_EVENTS,
                      (int)((wait + 999999) / 1000000));
}

/* Runs the workload to its end. Returns 0, or -1 on an internal error. */
static int run(lg_ctx_t *ctx)
{
    struct epoll_event evs[LG_EVENTS];

    ctx->t_start = now_ns();
    ctx->t_arrivals_end = ctx->t_start + seconds_to_ns(ctx->cfg.duration);
    ctx->t_drain_end = INT64_MAX;
    ctx->t_next_tick = ctx->t_start + LG_NS;
    ctx->next_arrival = next_arrival(ctx, 0);

    for (;;) {
        int64_t now = now_ns(), until;
        int i, n;

        while (ctx->phase == PH_RUNNING && arrival_ns(ctx) <= now) {
            int64_t sched = arrival_ns(ctx);

            ctx->next_arrival = next_arrival(ctx, ctx->next_arrival);
            conn_open(ctx, sched);
        }
        if (ctx->phase == PH_RUNNING && now >= ctx->t_arrivals_end) {
            stop_arrivals(ctx, now);
        }
        while (ctx->heap_len > 0) {
            lg_conn_t *c = &ctx->conns[ctx->heap[0]];

            if (c->deadline > now) {
                break;
            }
            timer_clear(ctx, c);
            conn_on_timer(ctx, c, now);
        }
        while (now >= ctx->t_next_tick) {
            on_tick(ctx);
        }
        if (ctx->phase == PH_DRAINING) {
            if (ctx->n_open == 0) {
                break;
            }
            if (now >= ctx->t_drain_end) {
                cut_all(ctx, 0);
                break;
            }
        }

        until = ctx->t_next_tick;
        if (ctx->phase == PH_RUNNING) {
            until = min64(until, min64(arrival_ns(ctx),
                                       ctx->t_arrivals_end));
        }
        else {
            until = min64(until, ctx->t_drain_end);
        }
        if (ctx->heap_len > 0) {
            until = min64(until, ctx->conns[ctx->heap[0]].deadline);
        }
        n = wait_events(ctx, evs, until);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            lg_error("epoll_wait: %s", strerror(errno));
            return -1;
        }
        for (i = 0; i < n; i++) {
            uint64_t tag = evs[i].data.u64;
            uint32_t id = (uint32_t)(tag & 0xffffffffu);
            lg_conn_t *c;

            if (tag == LG_SIGNAL_TAG) {
                on_signal(ctx, now_ns());
                continue;
            }
            if (id >= (uint32_t)ctx->cfg.max_conns) {
                continue;
            }
            c = &ctx->conns[id];
            if (c->state == CS_FREE || c->gen != (uint32_t)(tag >> 32)) {
                continue;
            }
            conn_on_event(ctx, c, evs[i].events);
        }
    }
    ctx->phase = PH_DONE;
    return 0;
}

/* ------------------------------------------------------------ report */

static void write_report(lg_ctx_t *ctx, FILE *f, int64_t t_end)
{
    const lg_config_t *cfg = &ctx->cfg;
    const lg_stats_t *st = &ctx->st;
    lg_json_t jw, *j = &jw;
    double elapsed = (double)(t_end - ctx->t_start) / (double)LG_NS;
    size_t secs = (size_t)ceil(elapsed - 0.001);
    int64_t arr_end = ctx->t_arrivals_stopped ? ctx->t_arrivals_stopped
                                              : t_end;
    uint64_t failed_total = st->f_reset + st->f_timeout + st->f_parse
                            + st->f_closed_before + st->f_closed_mid
                            + st->f_write + st->f_connect + st->f_other;
    int i;

    if (secs < st->sec_arrivals.len) {
        secs = st->sec_arrivals.len;
    }
    if (secs < st->sec_requests.len) {
        secs = st->sec_requests.len;
    }
    if (secs == 0) {
        secs = 1;
    }
    if (secs > st->sec_arrivals.cap) {
        secs = st->sec_arrivals.cap;
    }
    memset(&jw, 0, sizeof(jw));
    jw.f = f;
    json_open(j, NULL, '{', 0);
    json_str(j, "tool", "sbtune-loadgen");
    json_u64(j, "report_version", 1);

    json_open(j, "config", '{', 0);
    json_str(j, "url", cfg->url);
    json_str(j, "host", cfg->host);
    json_str(j, "address", cfg->address);
    json_u64(j, "port", (uint64_t)cfg->port);
    json_str(j, "path", cfg->path);
    json_str(j, "host_header", cfg->host_header);
    if (cfg->rate_set) {
        json_num(j, "rate", cfg->rate, -1);
        json_null(j, "schedule");
    }
    else {
        json_null(j, "rate");
        json_open(j, "schedule", '[', 0);
        for (i = 0; i < cfg->n_segments; i++) {
            json_open(j, NULL, '{', 1);
            json_num(j, "rate", cfg->schedule[i].rate, -1);
            json_num(j, "seconds", cfg->schedule[i].seconds, -1);
            json_close(j, '}');
        }
        json_close(j, ']');
    }
    json_u64(j, "seed", cfg->seed);
    json_u64(j, "requests", (uint64_t)cfg->requests);
    json_str(j, "requests_dist", cfg->requests_geometric ? "geometric"
                                                         : "fixed");
    json_num(j, "gap_s", cfg->gap, -1);
    json_str(j, "gap_dist", cfg->gap_fixed ? "fixed" : "exp");
    json_str(j, "end", cfg->linger ? "linger" : "close");
    json_num(j, "linger_max_s", cfg->linger_max, -1);
    json_bool(j, "keepalive", !cfg->no_keepalive);
    json_num(j, "duration_s", cfg->duration, -1);
    json_num(j, "drain_s", cfg->drain, -1);
    json_u64(j, "max_conns", (uint64_t)cfg->max_conns);
    json_u64(j, "max_conns_requested", (uint64_t)cfg->max_conns_requested);
    json_num(j, "timeout_s", cfg->timeout, -1);
    json_num(j, "connect_timeout_s", cfg->connect_timeout, -1);
    json_close(j, '}');

    json_num(j, "elapsed_s", elapsed, 3);
    json_num(j, "arrivals_s", (double)(arr_end - ctx->t_start)
                              / (double)LG_NS, 3);
    json_bool(j, "interrupted", ctx->interrupted);

    json_u64(j, "connections_attempted", st->attempted);
    json_u64(j, "connections_opened", st->opened);
    json_u64(j, "connections_completed", st->completed);
    json_u64(j, "dropped_by_client", st->dropped_by_client);
    json_u64(j, "refused", st->refused);
    json_u64(j, "connect_timeouts", st->connect_timeouts);
    json_u64(j, "max_concurrent_conns", st->max_open);
    json_u64(j, "requests_sent", st->requests_sent);
    json_u64(j, "responses_ok", st->responses_ok);
    json_open(j, "responses_error", '{', 1);
    json_u64(j, "total", st->err_total);
    json_u64(j, "4xx", st->err_4xx);
    json_u64(j, "5xx", st->err_5xx);
    json_u64(j, "other", st->err_other);
    json_close(j, '}');
    json_open(j, "status_counts", '{', 1);
    for (i = 100; i < 600; i++) {
        if (st->status_counts[i]) {
            char key[16];

            snprintf(key, sizeof(key), "%d", i);
            json_u64(j, key, st->status_counts[i]);
        }
    }
    json_close(j, '}');
    json_open(j, "requests_unanswered", '{', 1);
    json_u64(j, "failed", st->unanswered_failed);
    json_u64(j, "cut_at_end", st->unanswered_cut);
    json_close(j, '}');
    json_u64(j, "requests_abandoned", st->requests_abandoned);

    json_u64(j, "connections_closed_by_server_idle", st->end_server_idle);
    json_hist(j, "idle_until_server_close_ms", &st->idle_close);
    json_open(j, "connection_ends", '{', 0);
    json_u64(j, "client_close", st->end_client_close);
    json_u64(j, "server_closed_idle", st->end_server_idle);
    json_u64(j, "server_closed_idle_by_reset", st->end_server_idle_rst);
    json_u64(j, "linger_max_reached", st->end_linger_max);
    json_u64(j, "server_closed_in_gap", st->end_server_gap);
    json_u64(j, "server_closed_after_response", st->end_server_after_resp);
    json_u64(j, "failed", st->end_failed);
    json_u64(j, "cut_at_end", st->end_cut);
    json_close(j, '}');
    json_open(j, "closed_at_end", '{', 1);
    json_u64(j, "connecting", st->cut_connecting);
    json_u64(j, "in_flight", st->cut_in_flight);
    json_u64(j, "gap", st->cut_gap);
    json_u64(j, "linger", st->cut_linger);
    json_close(j, '}');

    json_hist(j, "connect_ms", &st->connect);
    json_hist(j, "ttfb_ms", &st->ttfb);
    json_hist(j, "response_ms", &st->response);
    json_hist(j, "schedule_lag_ms", &st->lag);
    json_hist(j, "conn_duration_ms", &st->conn_duration);

    json_open(j, "failed", '{', 0);
    json_u64(j, "total", failed_total);
    json_u64(j, "reset", st->f_reset);
    json_u64(j, "timeout", st->f_timeout);
    json_u64(j, "parse_error", st->f_parse);
    json_u64(j, "closed_before_response", st->f_closed_before);
    json_u64(j, "closed_mid_response", st->f_closed_mid);
    json_u64(j, "write_error", st->f_write);
    json_u64(j, "connect_error", st->f_connect);
    json_u64(j, "other", st->f_other);
    json_close(j, '}');

    json_series(j, "per_second_arrivals", &st->sec_arrivals, secs);
    json_series(j, "per_second_requests", &st->sec_requests, secs);
    json_series(j, "per_second_open", &st->sec_open, secs);
    json_series(j, "per_second_idle", &st->sec_idle, secs);
    json_close(j, '}');
    fputc('\n', f);
}

/* Writes the report to path through a temporary file and rename(2).
 * Returns 0 or -1 (message printed). */
static int write_report_file(lg_ctx_t *ctx, const char *path, int64_t t_end)
{
    size_t n = strlen(path);
    char *tmp = malloc(n + 16);
    FILE *f;
    int fd, bad;

    if (!tmp) {
        lg_error("out of memory");
        return -1;
    }
    snprintf(tmp, n + 16, "%s.tmp.XXXXXX", path);
    fd = mkstemp(tmp);
    if (fd < 0) {
        lg_error("%s: %s", tmp, strerror(errno));
        free(tmp);
        return -1;
    }
    fchmod(fd, 0644);
    f = fdopen(fd, "w");
    if (!f) {
        lg_error("%s: %s", tmp, strerror(errno));
        close(fd);
        unlink(tmp);
        free(tmp);
        return -1;
    }
    write_report(ctx, f, t_end);
    bad = fflush(f) != 0 || ferror(f) || fsync(fd) != 0;
    if (fclose(f) != 0) {
        bad = 1;
    }
    if (bad || rename(tmp, path) != 0) {
        lg_error("%s: %s", path, strerror(errno));
        unlink(tmp);
        free(tmp);
        return -1;
    }
    free(tmp);
    return 0;
}

/* ------------------------------------------------------------ setup */

/* Raises RLIMIT_NOFILE's soft limit to the hard limit and lowers max_conns
 * to what fits. */
static void setup_fd_limit(lg_ctx_t *ctx)
{
    struct rlimit rl;
    long fit;

    if (getrlimit(RLIMIT_NOFILE, &rl) != 0) {
        return;
    }
    if (rl.rlim_cur < rl.rlim_max) {
        rlim_t want = rl.rlim_max;

        rl.rlim_cur = want;
        if (setrlimit(RLIMIT_NOFILE, &rl) != 0) {
            getrlimit(RLIMIT_NOFILE, &rl);
        }
    }
    if (rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur > (rlim_t)LG_MAX_CONNS) {
        return;
    }
    fit = (long)rl.rlim_cur - LG_FD_RESERVE;
    if (fit < 1) {
        fit = 1;
    }
    if (ctx->cfg.max_conns > fit) {
        lg_error("warning: --max-conns %ld lowered to %ld (RLIMIT_NOFILE %ld)",
                 ctx->cfg.max_conns, fit, (long)rl.rlim_cur);
        ctx->cfg.max_conns = fit;
    }
}

static int setup(lg_ctx_t *ctx)
{
    const lg_config_t *cfg = &ctx->cfg;
    size_t n = (size_t)cfg->max_conns, secs, i;
    struct epoll_event ev;
    struct sigaction sa;
    sigset_t mask;
    char req[LG_PATH_MAX + LG_HOST_MAX + 256];
    int len;

    ctx->epfd = -1;
    ctx->sigfd = -1;
    ctx->epoll_pwait2_ok = 1;
    ctx->conns = calloc(n, sizeof(*ctx->conns));
    ctx->free_list = calloc(n, sizeof(*ctx->free_list));
    ctx->heap = calloc(n, sizeof(*ctx->heap));
    secs = (size_t)ceil(cfg->duration + cfg->drain) + 4;
    if (!ctx->conns || !ctx->free_list || !ctx->heap
        || series_init(&ctx->st.sec_arrivals, secs) < 0
        || series_init(&ctx->st.sec_requests, secs) < 0
        || series_init(&ctx->st.sec_open, secs) < 0
        || series_init(&ctx->st.sec_idle, secs) < 0) {
        lg_error("out of memory");
        return -1;
    }
    for (i = 0; i < n; i++) {
        ctx->conns[i].fd = -1;
        ctx->conns[i].heap_pos = LG_NO_POS;
        ctx->free_list[i] = (uint32_t)(n - 1 - i);
    }
    ctx->n_free = n;
    ctx->arr_rng = cfg->seed;
    rng_next(&ctx->arr_rng);

    len = snprintf(req, sizeof(req),
                   "GET %s HTTP/1.1\r\n"
                   "Host: %s\r\n"
                   "User-Agent: sbtune-loadgen/1\r\n"
                   "Accept: */*\r\n"
                   "%s"
                   "\r\n",
                   cfg->path, cfg->host_header,
                   cfg->no_keepalive ? "Connection: close\r\n" : "");
    if (len < 0 || (size_t)len >= sizeof(req)) {
        lg_error("request too long");
        return -1;
    }
    ctx->request = strdup(req);
    ctx->request_len = (size_t)len;
    if (!ctx->request) {
        lg_error("out of memory");
        return -1;
    }

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &sa, NULL);
    sigemptyset(&mask);
    sigaddset(&mask, SIGINT);
    sigaddset(&mask, SIGTERM);
    if (sigprocmask(SIG_BLOCK, &mask, NULL) != 0) {
        lg_error("sigprocmask: %s", strerror(errno));
        return -1;
    }
    ctx->sigfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
    ctx->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (ctx->sigfd < 0 || ctx->epfd < 0) {
        lg_error("signalfd/epoll_create1: %s", strerror(errno));
        return -1;
    }
    memset(&ev, 0, sizeof(ev));
    ev.events = EPOLLIN;
    ev.data.u64 = LG_SIGNAL_TAG;
    if (epoll_ctl(ctx->epfd, EPOLL_CTL_ADD, ctx->sigfd, &ev) < 0) {
        lg_error("epoll_ctl: %s", strerror(errno));
        return -1;
    }
    return 0;
}

static void teardown(lg_ctx_t *ctx)
{
    long i;

    if (ctx->conns) {
        for (i = 0; i < ctx->cfg.max_conns; i++) {
            if (ctx->conns[i].fd >= 0) {
                close(ctx->conns[i].fd);
            }
            free(ctx->conns[i].rbuf);
        }
    }
    free(ctx->conns);
    free(ctx->free_list);
    free(ctx->heap);
    free(ctx->request);
    free(ctx->st.sec_arrivals.v);
    free(ctx->st.sec_requests.v);
    free(ctx->st.sec_open.v);
    free(ctx->st.sec_idle.v);
    if (ctx->epfd >= 0) {
        close(ctx->epfd);
    }
    if (ctx->sigfd >= 0) {
        close(ctx->sigfd);
    }
}

int main(int argc, char **argv)
{
    lg_ctx_t *ctx = calloc(1, sizeof(*ctx));
    int rv, status = LG_EXIT_OK;
    int64_t t_end;

    if (!ctx) {
        lg_error("out of memory");
        return LG_EXIT_INTERNAL;
    }
    rv = parse_options(argc, argv, &ctx->cfg);
    if (rv != 0) {
        free(ctx);
        return rv == 3 ? LG_EXIT_OK : LG_EXIT_USAGE;
    }
    setup_fd_limit(ctx);
    if (setup(ctx) < 0 || run(ctx) < 0) {
        teardown(ctx);
        free(ctx);
        return LG_EXIT_INTERNAL;
    }
    t_end = now_ns();
    if (ctx->cfg.json_out) {
        if (write_report_file(ctx, ctx->cfg.json_out, t_end) < 0) {
            status = LG_EXIT_INTERNAL;
        }
    }
    else {
        write_report(ctx, stdout, t_end);
        if (fflush(stdout) != 0 || ferror(stdout)) {
            lg_error("stdout: %s", strerror(errno));
            status = LG_EXIT_INTERNAL;
        }
    }
    teardown(ctx);
    free(ctx);
    return status;
}
