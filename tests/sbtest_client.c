/* sbtest_client: holds a known workload on an httpd on the loopback.
 *
 * Opens N keep-alive connections, sends K "GET PATH HTTP/1.1" requests on
 * each (reading every response fully by its Content-Length) and leaves them
 * idle; opens M connections that each send one GET for a slow path and never
 * read the reply, so that each holds a worker slot in 'W'. Once all of that
 * is done it writes "ready\n" to stdout and (atomically) to --ready-file,
 * holds everything for --hold seconds and exits. SIGTERM, SIGINT or SIGHUP
 * close everything and exit at once.
 *
 * Only loopback addresses are accepted; counts and times are bounded.
 * Exit status: 0 after the hold (or a signal during it), 1 on any error or
 * a signal before ready, 2 on bad usage.
 */

#define _POSIX_C_SOURCE 200809L

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#define SBC_MAX_CONNS     512
#define SBC_MAX_REQUESTS  10000
#define SBC_MAX_HOLD      300
#define SBC_MAX_TIMEOUT   120
#define SBC_HEAD_MAX      16384
#define SBC_PATH_MAX      1024

typedef struct {
    const char *host;
    int port;
    int keepalive;
    int requests;
    const char *path;
    int slow;
    const char *slow_path;
    int hold;
    const char *ready_file;
    int timeout;
} sbc_opts_t;

/* One table drives getopt_long and --help. */
typedef struct {
    const char *name;
    int key;
    const char *arg;
    const char *help;
} sbc_option_t;

static const sbc_option_t sbc_options[] = {
    { "host",       'H', "ADDR",
      "numeric loopback address of httpd (default 127.0.0.1)" },
    { "port",       'p', "PORT",    "TCP port of httpd (required)" },
    { "keepalive",  'k', "N",
      "keep-alive connections to open and leave idle (default 0)" },
    { "requests",   'r', "K",
      "requests on each keep-alive connection before it idles (default 1)" },
    { "path",       'P', "PATH",
      "path of the keep-alive requests (default /)" },
    { "slow",       's', "M",
      "connections sending one slow request whose reply is never read "
      "(default 0)" },
    { "slow-path",  'S', "PATH",
      "path of the slow requests (default /cgi-bin/sleep.cgi?20)" },
    { "hold",       'T', "SECONDS",
      "how long to hold everything once ready (0..300, default 10)" },
    { "ready-file", 'f', "FILE",
      "write \"ready\\n\" to FILE (temp file + rename) once ready" },
    { "timeout",    't', "SECONDS",
      "limit for each connect and each response (1..120, default 10)" },
    { "help",       'h', NULL,      "show this help" },
};

#define SBC_NOPTIONS (sizeof(sbc_options) / sizeof(sbc_options[0]))

static const char *prog = "sbtest_client";
static int sig_pipe[2] = { -1, -1 };
static volatile sig_atomic_t got_signal;

static void on_signal(int sig)
{
    int saved = errno;
    char c = (char)sig;

    got_signal = sig;
    if (write(sig_pipe[1], &c, 1) < 0) {
        /* the pipe is full: a wake-up is pending anyway */
    }
    errno = saved;
}

#if defined(__GNUC__)
static void report(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));
#endif

static void report(const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "%s: ", prog);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

static long long now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void usage(FILE *out)
{
    size_t i;

    fprintf(out, "usage: %s --port PORT [options]\n"
            "Holds idle keep-alive and slow connections on a local httpd.\n\n",
            prog);
    for (i = 0; i < SBC_NOPTIONS; i++) {
        char left[40];

        snprintf(left, sizeof(left), "--%s%s%s", sbc_options[i].name,
                 sbc_options[i].arg ? " " : "",
                 sbc_options[i].arg ? sbc_options[i].arg : "");
        fprintf(out, "  %-22s %s\n", left, sbc_options[i].help);
    }
}

/* Parse a decimal integer in [lo, hi]. Returns 0 or -1. */
static int parse_int(const char *s, long lo, long hi, int *out)
{
    char *end;
    long v;

    errno = 0;
    v = strtol(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v < lo || v > hi) {
        return -1;
    }
    *out = (int)v;
    return 0;
}

static int valid_path(const char *p)
{
    size_t i, n = strlen(p);

    if (n == 0 || n > SBC_PATH_MAX || p[0] != '/') {
        return 0;
    }
    for (i = 0; i < n; i++) {
        if ((unsigned char)p[i] <= ' ' || p[i] == 0x7f) {
            return 0;
        }
    }
    return 1;
}

/* Returns 0 on success, 2 on bad usage (message printed), 1 for --help. */
static int parse_options(int argc, char **argv, sbc_opts_t *o)
{
    struct option longopts[SBC_NOPTIONS + 1];
    char shortopts[SBC_NOPTIONS * 2 + 2];
    size_t i, s = 0;
    int c, port_set = 0;

    shortopts[s++] = ':';
    for (i = 0; i < SBC_NOPTIONS; i++) {
        longopts[i].name = sbc_options[i].name;
        longopts[i].has_arg = sbc_options[i].arg ? required_argument
                                                 : no_argument;
        longopts[i].flag = NULL;
        longopts[i].val = sbc_options[i].key;
        shortopts[s++] = (char)sbc_options[i].key;
        if (sbc_options[i].arg) {
            shortopts[s++] = ':';
        }
    }
    memset(&longopts[SBC_NOPTIONS], 0, sizeof(longopts[0]));
    shortopts[s] = '\0';

    o->host = "127.0.0.1";
    o->port = 0;
    o->keepalive = 0;
    o->requests = 1;
    o->path = "/";
    o->slow = 0;
    o->slow_path = "/cgi-bin/sleep.cgi?20";
    o->hold = 10;
    o->ready_file = NULL;
    o->timeout = 10;

    while ((c = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1) {
        int bad = 0;

        switch (c) {
        case 'H':
            o->host = optarg;
            break;
        case 'p':
            bad = parse_int(optarg, 1, 65535, &o->port);
            port_set = 1;
            break;
        case 'k':
            bad = parse_int(optarg, 0, SBC_MAX_CONNS, &o->keepalive);
            break;
        case 'r':
            bad = parse_int(optarg, 1, SBC_MAX_REQUESTS, &o->requests);
            break;
        case 'P':
            bad = !valid_path(optarg);
            o->path = optarg;
            break;
        case 's':
            bad = parse_int(optarg, 0, SBC_MAX_CONNS, &o->slow);
            break;
        case 'S':
            bad = !valid_path(optarg);
            o->slow_path = optarg;
            break;
        case 'T':
            bad = parse_int(optarg, 0, SBC_MAX_HOLD, &o->hold);
            if (bad) {
                report("--hold '%s' refused: must be 0..%d seconds", optarg,
                       SBC_MAX_HOLD);
                return 2;
            }
            break;
        case 'f':
            o->ready_file = optarg;
            break;
        case 't':
            bad = parse_int(optarg, 1, SBC_MAX_TIMEOUT, &o->timeout);
            break;
        case 'h':
            usage(stdout);
            return 1;
        case ':':
            report("option '%s' needs an argument", argv[optind - 1]);
            usage(stderr);
            return 2;
        default:
            report("unknown option '%s'", argv[optind - 1]);
            usage(stderr);
            return 2;
        }
        if (bad) {
            report("invalid value '%s' for option '%s'", optarg,
                   argv[optind - 1]);
            usage(stderr);
            return 2;
        }
    }
    if (optind < argc) {
        report("unexpected argument '%s'", argv[optind]);
        return 2;
    }
    if (!port_set) {
        report("--port is required");
        usage(stderr);
        return 2;
    }
    if (o->keepalive + o->slow > SBC_MAX_CONNS) {
        report("--keepalive + --slow must not exceed %d", SBC_MAX_CONNS);
        return 2;
    }
    return 0;
}

static int is_loopback(const struct sockaddr *sa)
{
    if (sa->sa_family == AF_INET) {
        struct sockaddr_in in;

        memcpy(&in, sa, sizeof(in));
        return (ntohl(in.sin_addr.s_addr) >> 24) == 127;
    }
    if (sa->sa_family == AF_INET6) {
        struct sockaddr_in6 in6;
        static const unsigned char lo6[16] = { 0, 0, 0, 0, 0, 0, 0, 0,
                                               0, 0, 0, 0, 0, 0, 0, 1 };

        memcpy(&in6, sa, sizeof(in6));
        return memcmp(&in6.sin6_addr, lo6, sizeof(lo6)) == 0;
    }
    return 0;
}

/* Resolve host:port to a loopback address. Returns 0 or -1 (reported). */
static int resolve(const sbc_opts_t *o, struct sockaddr_storage *ss,
                   socklen_t *len)
{
    struct addrinfo hints, *res, *ai;
    const char *host;
    char port[8];
    int rv;

    /* numeric only: no name lookup may send traffic off the host */
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
    snprintf(port, sizeof(port), "%d", o->port);
    host = strcmp(o->host, "localhost") == 0 ? "127.0.0.1" : o->host;
    rv = getaddrinfo(host, port, &hints, &res);
    if (rv != 0) {
        report("host '%s': %s (a numeric loopback address is required, "
               "e.g. 127.0.0.1 or ::1)", o->host, gai_strerror(rv));
        return -1;
    }
    for (ai = res; ai; ai = ai->ai_next) {
        if (is_loopback(ai->ai_addr)) {
            memcpy(ss, ai->ai_addr, ai->ai_addrlen);
            *len = ai->ai_addrlen;
            freeaddrinfo(res);
            return 0;
        }
    }
    freeaddrinfo(res);
    report("host '%s' is not a loopback address: refused (test traffic "
           "stays on 127.0.0.1)", o->host);
    return -1;
}

/* Wait until fd is ready for events, a signal arrives or deadline_ms
 * passes. Returns 1 ready, 0 timeout, -1 signal, -2 poll error (errno).
 */
static int wait_fd(int fd, short events, long long deadline_ms)
{
    for (;;) {
        struct pollfd p[2];
        long long left = deadline_ms - now_ms();
        int rv;

        if (got_signal) {
            return -1;
        }
        if (left <= 0) {
            return 0;
        }
        p[0].fd = fd;
        p[0].events = events;
        p[0].revents = 0;
        p[1].fd = sig_pipe[0];
        p[1].events = POLLIN;
        p[1].revents = 0;
        rv = poll(p, 2, left > 1000 ? 1000 : (int)left);
        if (rv < 0 && errno != EINTR) {
            return -2;
        }
        if (got_signal) {
            return -1;
        }
        if (rv > 0 && p[0].revents) {
            return 1;
        }
    }
}

typedef struct {
    const char *kind;   /* "keep-alive" or "slow" */
    int index;          /* 1-based */
    int total;
} sbc_conn_t;

static void conn_error(const sbc_conn_t *c, const char *what, int err)
{
    if (err) {
        report("%s connection %d/%d: %s: %s (errno %d)", c->kind, c->index,
               c->total, what, strerror(err), err);
    }
    else {
        report("%s connection %d/%d: %s", c->kind, c->index, c->total, what);
    }
}

/* Report a wait_fd() failure. */
static void wait_error(const sbc_conn_t *c, const char *what, int rv,
                       int timeout)
{
    char msg[160];

    if (rv == -1) {
        snprintf(msg, sizeof(msg), "%s: interrupted by signal %d", what,
                 (int)got_signal);
        conn_error(c, msg, 0);
    }
    else if (rv == 0) {
        snprintf(msg, sizeof(msg), "%s: no answer within %d s", what,
                 timeout);
        conn_error(c, msg, 0);
    }
    else {
        conn_error(c, what, errno);
    }
}

/* Non-blocking connect within the timeout. Returns the fd or -1. */
static int open_conn(const sbc_conn_t *c, const struct sockaddr_storage *ss,
                     socklen_t len, int timeout)
{
    int fd, rv, err = 0;
    socklen_t elen = sizeof(err);

    fd = socket(ss->ss_family, SOCK_STREAM, 0);
    if (fd < 0) {
        conn_error(c, "socket", errno);
        return -1;
    }
    if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) < 0
        || fcntl(fd, F_SETFD, FD_CLOEXEC) < 0) {
        conn_error(c, "fcntl", errno);
        close(fd);
        return -1;
    }
    if (connect(fd, (const struct sockaddr *)ss, len) == 0) {
        return fd;
    }
    if (errno != EINPROGRESS) {
        conn_error(c, "connect", errno);
        close(fd);
        return -1;
    }
    rv = wait_fd(fd, POLLOUT, now_ms() + timeout * 1000LL);
    if (rv != 1) {
        wait_error(c, "connect", rv, timeout);
        close(fd);
        return -1;
    }
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen) < 0) {
        err = errno;
    }
    if (err) {
        conn_error(c, "connect", err);
        close(fd);
        return -1;
    }
    return fd;
}

static int send_all(const sbc_conn_t *c, int fd, const char *buf, size_t n,
                    int timeout)
{
    long long deadline = now_ms() + timeout * 1000LL;

    while (n > 0) {
        ssize_t w = send(fd, buf, n, MSG_NOSIGNAL);

        if (w > 0) {
            buf += w;
            n -= (size_t)w;
            continue;
        }
        if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK
                      || errno == EINTR)) {
            int rv = wait_fd(fd, POLLOUT, deadline);

            if (rv != 1) {
                wait_error(c, "send", rv, timeout);
                return -1;
            }
            continue;
        }
        conn_error(c, "send", errno);
        return -1;
    }
    return 0;
}

/* Find header name (case-insensitive) in the header block; copies its
 * value (trimmed) to out. Returns 1 if found.
 */
static int find_header(const char *head, const char *name, char *out,
                       size_t outlen)
{
    size_t nlen = strlen(name);
    const char *line = strstr(head, "\r\n");

    while (line && line[2] != '\r' && line[2] != '\0') {
        const char *p = line + 2, *eol = strstr(p, "\r\n"), *v;
        size_t vlen;

        if (!eol) {
            break;
        }
        if ((size_t)(eol - p) > nlen && strncasecmp(p, name, nlen) == 0
            && p[nlen] == ':') {
            v = p + nlen + 1;
            while (v < eol && (*v == ' ' || *v == '\t')) {
                v++;
            }
            vlen = (size_t)(eol - v);
            while (vlen > 0 && (v[vlen - 1] == ' ' || v[vlen - 1] == '\t')) {
                vlen--;
            }
            if (vlen >= outlen) {
                vlen = outlen - 1;
            }
            memcpy(out, v, vlen);
            out[vlen] = '\0';
            return 1;
        }
        line = eol;
    }
    return 0;
}

/* Check a complete response header (NUL-terminated): a 2xx/3xx status, a
 * Content-Length, no chunking, no "Connection: close". Stores the body
 * length in *len. Returns 0 or -1 (reported).
 */
static int check_head(const sbc_conn_t *c, const char *head, const char *what,
                      int *len)
{
    char val[64], msg[192];
    int status = 0;

    if (sscanf(head, "HTTP/1.%*d %d", &status) != 1) {
        snprintf(msg, sizeof(msg), "%s: malformed status line", what);
        conn_error(c, msg, 0);
        return -1;
    }
    if (status < 200 || status >= 400) {
        snprintf(msg, sizeof(msg), "%s: HTTP status %d", what, status);
        conn_error(c, msg, 0);
        return -1;
    }
    if (find_header(head, "Transfer-Encoding", val, sizeof(val))) {
        snprintf(msg, sizeof(msg), "%s: chunked responses are not "
                 "supported; use a static path", what);
        conn_error(c, msg, 0);
        return -1;
    }
    if (!find_header(head, "Content-Length", val, sizeof(val))
        || parse_int(val, 0, 1 << 30, len) != 0) {
        snprintf(msg, sizeof(msg), "%s: no valid Content-Length", what);
        conn_error(c, msg, 0);
        return -1;
    }
    if (find_header(head, "Connection", val, sizeof(val))
        && strcasecmp(val, "close") == 0) {
        snprintf(msg, sizeof(msg), "%s: server answered 'Connection: close' "
                 "(KeepAlive Off or MaxKeepAliveRequests reached)", what);
        conn_error(c, msg, 0);
        return -1;
    }
    return 0;
}

/* Read one full response (header + Content-Length body). Returns 0 if it
 * is a 2xx/3xx answer that keeps the connection open, -1 otherwise
 * (reported).
 */
static int read_response(const sbc_conn_t *c, int fd, int reqno,
                         int timeout)
{
    char head[SBC_HEAD_MAX + 1], what[64], msg[160];
    size_t have = 0;
    long long body_left = -1;
    long long deadline = now_ms() + timeout * 1000LL;

    snprintf(what, sizeof(what), "response to request %d", reqno);
    while (body_left != 0) {
        char buf[16384], *end;
        ssize_t r;
        int len, rv;

        r = recv(fd, buf, sizeof(buf), 0);
        if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK
                      || errno == EINTR)) {
            rv = wait_fd(fd, POLLIN, deadline);
            if (rv != 1) {
                wait_error(c, what, rv, timeout);
                return -1;
            }
            continue;
        }
        if (r < 0) {
            conn_error(c, what, errno);
            return -1;
        }
        if (r == 0) {
            snprintf(msg, sizeof(msg), "%s: server closed the connection "
                     "%s", what, body_left > 0 ? "in the body"
                     : "before the header was complete");
            conn_error(c, msg, 0);
            return -1;
        }
        if (body_left > 0) {
            body_left -= r;
        }
        else {
            if (have + (size_t)r > SBC_HEAD_MAX) {
                snprintf(msg, sizeof(msg), "%s: header larger than %d bytes",
                         what, SBC_HEAD_MAX);
                conn_error(c, msg, 0);
                return -1;
            }
            memcpy(head + have, buf, (size_t)r);
            have += (size_t)r;
            head[have] = '\0';
            end = strstr(head, "\r\n\r\n");
            if (!end) {
                continue;
            }
            end[2] = '\0';
            if (check_head(c, head, what, &len) < 0) {
                return -1;
            }
            body_left = (long long)len
                        - (long long)(have - (size_t)(end + 4 - head));
        }
        if (body_left < 0) {
            snprintf(msg, sizeof(msg), "%s: more bytes than Content-Length "
                     "(unexpected data)", what);
            conn_error(c, msg, 0);
            return -1;
        }
    }
    return 0;
}

/* Write "ready\n" to path through a temp file and rename(). 0 or -1. */
static int write_ready_file(const char *path)
{
    char tmp[4096];
    FILE *f;

    if (snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid())
        >= (int)sizeof(tmp)) {
        report("--ready-file path too long");
        return -1;
    }
    f = fopen(tmp, "w");
    if (!f) {
        report("cannot create %s: %s (errno %d)", tmp, strerror(errno),
               errno);
        return -1;
    }
    if (fputs("ready\n", f) == EOF || fclose(f) == EOF) {
        report("cannot write %s: %s (errno %d)", tmp, strerror(errno),
               errno);
        unlink(tmp);
        return -1;
    }
    if (rename(tmp, path) < 0) {
        report("cannot rename %s to %s: %s (errno %d)", tmp, path,
               strerror(errno), errno);
        unlink(tmp);
        return -1;
    }
    return 0;
}

static int setup_signals(void)
{
    struct sigaction sa;
    int i;

    if (pipe(sig_pipe) < 0) {
        report("pipe: %s (errno %d)", strerror(errno), errno);
        return -1;
    }
    for (i = 0; i < 2; i++) {
        fcntl(sig_pipe[i], F_SETFL, fcntl(sig_pipe[i], F_GETFL) | O_NONBLOCK);
        fcntl(sig_pipe[i], F_SETFD, FD_CLOEXEC);
    }
    memset(&sa, 0, sizeof(sa));
    sigemptyset(&sa.sa_mask);
    sa.sa_handler = on_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    sa.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &sa, NULL);
    return 0;
}

/* Hold all connections until the hold time is over or a signal arrives,
 * noting keep-alive connections the server closes. Returns how many the
 * server closed.
 */
static int hold_all(int *fds, int nka, int nslow, int hold)
{
    struct pollfd *p;
    long long start = now_ms(), deadline = start + hold * 1000LL;
    int i, n = nka + nslow, closed = 0;

    p = calloc((size_t)n + 1, sizeof(*p));
    if (!p) {
        report("out of memory");
        return 0;
    }
    for (i = 0; i < n; i++) {
        p[i].fd = fds[i];
        /* slow replies are never read: only errors/hangups are of note */
        p[i].events = i < nka ? POLLIN : 0;
    }
    p[n].fd = sig_pipe[0];
    p[n].events = POLLIN;

    while (!got_signal) {
        long long left = deadline - now_ms();
        int rv;

        if (left <= 0) {
            break;
        }
        rv = poll(p, (nfds_t)n + 1, left > 1000 ? 1000 : (int)left);
        if (rv <= 0) {
            continue;
        }
        for (i = 0; i < n; i++) {
            char buf[4096];
            ssize_t r;

            if (p[i].fd < 0 || !p[i].revents) {
                continue;
            }
            if (i >= nka) {
                p[i].fd = -1;
                continue;
            }
            r = recv(p[i].fd, buf, sizeof(buf), 0);
            if (r < 0 && (errno == EAGAIN || errno == EINTR)) {
                continue;
            }
            if (r == 0) {
                report("keep-alive connection %d/%d closed by the server "
                       "%.1f s into the hold", i + 1, nka,
                       (now_ms() - start) / 1000.0);
            }
            else if (r < 0) {
                report("keep-alive connection %d/%d: %s (errno %d) while "
                       "idle", i + 1, nka, strerror(errno), errno);
            }
            else {
                report("keep-alive connection %d/%d: %zd unexpected bytes "
                       "while idle", i + 1, nka, r);
                continue;
            }
            closed++;
            close(fds[i]);
            fds[i] = -1;
            p[i].fd = -1;
        }
    }
    free(p);
    return closed;
}

int main(int argc, char **argv)
{
    sbc_opts_t o;
    struct sockaddr_storage ss;
    socklen_t sslen = 0;
    char req[SBC_PATH_MAX + 512], hostport[300];
    int *fds, n, i, r, rv = 1, closed;

    r = parse_options(argc, argv, &o);
    if (r != 0) {
        return r == 1 ? 0 : 2;
    }
    if (resolve(&o, &ss, &sslen) < 0 || setup_signals() < 0) {
        return 1;
    }
    if (strchr(o.host, ':')) {
        snprintf(hostport, sizeof(hostport), "[%s]:%d", o.host, o.port);
    }
    else {
        snprintf(hostport, sizeof(hostport), "%s:%d", o.host, o.port);
    }

    n = o.keepalive + o.slow;
    fds = malloc(((size_t)n + 1) * sizeof(*fds));
    if (!fds) {
        report("out of memory");
        return 1;
    }
    for (i = 0; i < n; i++) {
        fds[i] = -1;
    }

    for (i = 0; i < o.keepalive; i++) {
        sbc_conn_t c = { "keep-alive", i + 1, o.keepalive };
        int k;

        fds[i] = open_conn(&c, &ss, sslen, o.timeout);
        if (fds[i] < 0) {
            goto done;
        }
        snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: %s\r\n"
                 "User-Agent: sbtest_client\r\n"
                 "Connection: keep-alive\r\n\r\n", o.path, hostport);
        for (k = 1; k <= o.requests; k++) {
            if (send_all(&c, fds[i], req, strlen(req), o.timeout) < 0
                || read_response(&c, fds[i], k, o.timeout) < 0) {
                goto done;
            }
        }
    }
    for (i = 0; i < o.slow; i++) {
        sbc_conn_t c = { "slow", i + 1, o.slow };
        int *fd = &fds[o.keepalive + i];

        *fd = open_conn(&c, &ss, sslen, o.timeout);
        if (*fd < 0) {
            goto done;
        }
        snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: %s\r\n"
                 "User-Agent: sbtest_client\r\n"
                 "Connection: keep-alive\r\n\r\n", o.slow_path, hostport);
        if (send_all(&c, *fd, req, strlen(req), o.timeout) < 0) {
            goto done;
        }
    }
    if (got_signal) {
        report("interrupted by signal %d before ready", (int)got_signal);
        goto done;
    }

    if (o.ready_file && write_ready_file(o.ready_file) < 0) {
        goto done;
    }
    fputs("ready\n", stdout);
    fflush(stdout);

    closed = hold_all(fds, o.keepalive, o.slow, o.hold);
    if (got_signal) {
        report("signal %d: closing %d connections", (int)got_signal, n);
    }
    else {
        report("held %d keep-alive (%d closed by the server) and %d slow "
               "connections for %d s", o.keepalive, closed, o.slow, o.hold);
    }
    rv = 0;

done:
    for (i = 0; i < n; i++) {
        if (fds[i] >= 0) {
            close(fds[i]);
        }
    }
    free(fds);
    return rv;
}
