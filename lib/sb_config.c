#include "config.h"
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <yaml.h>
#include <apr_strings.h>
#include "sb_config.h"

#define OFF(f) offsetof(sb_config_t, f)
#define A SB_PROG_AGENT
#define T SB_PROG_TOP
#define P SB_PROG_PLAN
#define R SB_PROG_REPORT
#define Y SB_PROG_APPLY
#define F SB_PROG_FLEET
#define C SB_CF_CMDLINE

const sb_config_opt_t sb_config_options[] = {
    /* sources */
    { "scoreboard", SB_CT_STRING, A | T | R | Y, OFF(scoreboard), "", 0, 0, NULL, "PATH",
      "httpd's ScoreBoardFile: read the scoreboard from shared memory", SB_CF_SHORT('s') },
    { "status_url", SB_CT_STRING, A | T | R | Y, OFF(status_url), "", 0, 0, NULL, "URL",
      "mod_status URL (\"?auto\" is added): the fallback or remote source", SB_CF_SHORT('u') },
    { "status_user", SB_CT_STRING, A | T | R | Y, OFF(status_user), "", 0, 0, NULL, "USER",
      "mod_status basic auth user", 0 },
    { "status_password_file", SB_CT_STRING, A | T | R | Y, OFF(status_password_file), "", 0, 0,
      NULL, "FILE", "file whose first line is the mod_status basic auth password", 0 },
    { "ca_file", SB_CT_STRING, A | T | R | Y, OFF(ca_file), "", 0, 0, NULL, "FILE",
      "CA certificates for mod_status over HTTPS", 0 },
    { "insecure", SB_CT_BOOL, A | T | R | Y, OFF(insecure), "false", 0, 1, NULL, NULL,
      "do not verify mod_status's TLS certificate", 0 },
    { "connect_timeout_ms", SB_CT_INT, A | T, OFF(connect_timeout_ms), "2000", 1, 600000,
      NULL, "MS", "mod_status connect timeout", 0 },
    { "timeout_ms", SB_CT_INT, A | T, OFF(timeout_ms), "5000", 1, 600000, NULL, "MS",
      "mod_status total timeout", 0 },
    { "max_bytes", SB_CT_INT, A | T, OFF(max_bytes), "1048576", 1024, 1073741824, NULL,
      "N", "largest mod_status response accepted", 0 },
    { "shm_hz", SB_CT_DOUBLE, A | T, OFF(shm_hz), "10", 0.1, 100, NULL, "HZ",
      "scoreboard samples per second", 0 },
    { "status_interval", SB_CT_DOUBLE, A | T, OFF(status_interval), "5", 0.2, 3600, NULL,
      "SECONDS", "seconds between mod_status scrapes when it is the only source", 0 },
    { "kernel_hz", SB_CT_DOUBLE, A | T, OFF(kernel_hz), "2", 0, 100, NULL, "HZ",
      "kernel socket samples per second (0: off)", 0 },
    { "kernel_source", SB_CT_ENUM, A | T, OFF(kernel_source), "auto", 0, 0, "auto|bpf|diag",
      "SOURCE", "connection arrivals and lifetimes from eBPF (bpf), sock_diag samples only"
      " (diag), or eBPF where it loads (auto)", 0 },
    { "ports", SB_CT_STRING, A | T, OFF(ports), "", 0, 0, NULL, "LIST",
      "httpd's listen ports, e.g. 80,443 (default: found from httpd's processes)", 0 },
    { "httpd_pidfile", SB_CT_STRING, A | T, OFF(httpd_pidfile), "", 0, 0, NULL, "FILE",
      "httpd's PidFile (default: the parent of the scoreboard's children)", 0 },
    /* history */
    { "history", SB_CT_STRING, A | T | R | Y, OFF(history), "", 0, 0, NULL, "FILE",
      "SQLite history file (empty: no history; report: the one to plan from, required;"
      " apply: record the change in it)", 0 },
    { "keep_seconds_hours", SB_CT_INT, A, OFF(keep_seconds_hours), "48", 1, 8760, NULL,
      "HOURS", "how long per-second rows are kept", 0 },
    { "keep_minutes_days", SB_CT_INT, A, OFF(keep_minutes_days), "90", 1, 3650, NULL,
      "DAYS", "how long per-minute rows are kept", 0 },
    /* export */
    { "listen", SB_CT_STRING, A, OFF(listen), "", 0, 0, NULL, "ADDR:PORT",
      "serve Prometheus metrics here (e.g. 127.0.0.1:9117; empty: off)", 0 },
    { "textfile", SB_CT_STRING, A, OFF(textfile), "", 0, 0, NULL, "FILE",
      "write Prometheus metrics to this node_exporter textfile (empty: off)", 0 },
    { "export_clients", SB_CT_BOOL, A, OFF(export_clients), "false", 0, 1, NULL, NULL,
      "export per-client figures (client addresses leave the host)", 0 },
    /* daemon */
    { "log_level", SB_CT_ENUM, A | T, OFF(log_level), "notice", 0, 0,
      "error|warning|notice|info|debug", "LEVEL", "least important messages logged", 0 },
    { "log", SB_CT_ENUM, A, OFF(log), "stderr", 0, 0, "stderr|syslog", "WHERE",
      "where messages go", 0 },
    { "user", SB_CT_STRING, A, OFF(user), "", 0, 0, NULL, "USER",
      "after attaching, drop to this user keeping only CAP_DAC_OVERRIDE", 0 },
    /* sbtune plan: one run's figures */
    { "conn_rate", SB_CT_DOUBLE, P, OFF(conn_rate), "", 0, 1e7, NULL, "R",
      "new client connections per second to plan for (the worst spike)", C },
    { "busy_rate", SB_CT_DOUBLE, P, OFF(busy_rate), "", 0, 1e7, NULL, "R",
      "busy-period average of new connections/s; planned at --spike-factor times it", C },
    { "hold_time", SB_CT_DOUBLE, P, OFF(hold_time), "", 1e-6, 86400, NULL, "S",
      "seconds a client holds a slot: its requests, the gaps, the final keep-alive wait", C },
    { "active_time", SB_CT_DOUBLE, P, OFF(active_time), "", 0, 86400, NULL, "S",
      "instead of --hold-time: seconds of requests and gaps; hold = this + the timeout", C },
    { "keepalive_timeout", SB_CT_DOUBLE, A | T | P | R, OFF(keepalive_timeout), "", 0, 86400, NULL,
      "S", "KeepAliveTimeout in force, s (0: KeepAlive Off; plan: default 5; report: default"
      " discovered from httpd; sbtop: named in the capacity line, default unknown; sbagent:"
      " exported as sbtune_httpd_keepalive_timeout_seconds)", C },
    { "service_time", SB_CT_DOUBLE, P, OFF(service_time), "", 0, 86400, NULL, "S",
      "service time per request, s (sizes the event MPM and KeepAlive Off)", C },
    { "requests_per_conn", SB_CT_DOUBLE, P, OFF(requests_per_conn), "", 1, 1e6, NULL, "N",
      "requests per client connection (default 1)", C },
    { "mpm", SB_CT_ENUM, P | R | Y, OFF(mpm), "", 0, 0, "prefork|worker|event", "MPM",
      "httpd's MPM (plan: default prefork; report: discovered through APACHECTL -V;"
      " apply: from mod_status, else APACHECTL -V)", 0 },
    { "threads_per_child", SB_CT_INT, A | P | R, OFF(threads_per_child), "", 1, 100000, NULL, "T",
      "worker/event ThreadsPerChild (plan: default 25; report: the current one, default"
      " discovered; sbagent: exported as sbtune_httpd_threads_per_child)", C },
    { "async_factor", SB_CT_DOUBLE, P, OFF(async_factor), "2", 0, 1000, NULL, "F",
      "event AsyncRequestWorkerFactor", C },
    { "server_limit_headroom", SB_CT_DOUBLE, P, OFF(server_limit_headroom), "0.25", 0, 10,
      NULL, "F", "spare ServerLimit for gracefully finishing processes, share (at least 1)",
      C },
    { "spike_factor", SB_CT_DOUBLE, P | R | F, OFF(spike_factor), "2.5", 1, 100, NULL, "F",
      "worst spike / busy-period mean: the design rate is F x the busiest-hour mean", 0 },
    { "target_wait", SB_CT_PROB, P | R | F, OFF(target_wait), "0.01", 1e-9, 0.5, NULL, "P",
      "chance a new client may wait in the accept queue: 0.01 or 1%", 0 },
    { "min_keepalive_timeout", SB_CT_INT, P, OFF(min_keepalive_timeout), "1", 1, 86400, NULL,
      "K", "shortest KeepAliveTimeout the memory cap may impose, s", C },
    { "pss", SB_CT_BYTES, P, OFF(pss), "", 1, 9e18, NULL, "BYTES",
      "PSS of one worker (suffixes K, M, G: powers of 1024)", C },
    { "memory", SB_CT_BYTES, P | R, OFF(memory), "", 1, 9e18, NULL, "BYTES",
      "the host's memory (report: default MemTotal)", C },
    { "memory_share", SB_CT_DOUBLE, P, OFF(memory_share), "0.75", 1e-6, 1, NULL, "F",
      "share of --memory httpd may use", C },
    { "memory_reserve", SB_CT_BYTES, P, OFF(memory_reserve), "0", 0, 9e18, NULL, "BYTES",
      "taken off the share for other services", C },
    { "memory_budget", SB_CT_BYTES, P, OFF(memory_budget), "", 1, 9e18, NULL, "BYTES",
      "httpd's memory budget itself (instead of --memory, --memory-share, --memory-reserve)",
      C },
    { "slots", SB_CT_INT, P, OFF(slots), "", 1, 1000000, NULL, "N",
      "print the capacity of N slots at --hold-time instead of a plan", C },
    { "current_max_request_workers", SB_CT_INT, P, OFF(current_max_request_workers), "", 1,
      1000000, NULL, "N",
      "MaxRequestWorkers in force (default httpd's: 256 prefork, 400 worker/event)", C },
    { "current_server_limit", SB_CT_INT, P, OFF(current_server_limit), "", 1, 200000, NULL,
      "N", "ServerLimit in force (default httpd's: 256 prefork, 16 worker/event)", C },
    { "current_thread_limit", SB_CT_INT, P, OFF(current_thread_limit), "", 1, 100000, NULL,
      "N", "ThreadLimit in force (default httpd's: 64)", C },
    { "format", SB_CT_ENUM, P | R | F, OFF(format), "text", 0, 0, "text|json|apache", "FORMAT",
      "output format; apache (report only): the snippet --apply would write; fleet: text"
      " or json", C },
    /* sbtune report */
    { "window_days", SB_CT_DOUBLE, R | F, OFF(window_days), "7", 0.001, 3650, NULL, "DAYS",
      "history window to plan from", 0 },
    { "max_request_workers", SB_CT_INT, A | T | R, OFF(max_request_workers), "", 1, 1000000, NULL,
      "N", "the current MaxRequestWorkers (report: default discovered from httpd;"
      " sbtop: default from mod_status for prefork, else all slots; sbagent: exported as"
      " sbtune_httpd_max_request_workers)", C },
    { "server_limit", SB_CT_INT, R, OFF(server_limit), "", 1, 200000, NULL, "N",
      "the current ServerLimit (default: discovered from httpd)", C },
    { "thread_limit", SB_CT_INT, R, OFF(thread_limit), "", 1, 100000, NULL, "N",
      "the current ThreadLimit (worker, event; default: discovered from httpd)", C },
    { "min_minutes", SB_CT_INT, R | F, OFF(min_minutes), "60", 1, 1000000, NULL, "N",
      "minutes of history needed", 0 },
    { "min_conns", SB_CT_INT, R | F, OFF(min_conns), "100", 1, 1000000000, NULL, "N",
      "connections with a request count needed", 0 },
    { "min_gaps", SB_CT_INT, R | F, OFF(min_gaps), "100", 1, 1000000000, NULL, "N",
      "keep-alive gaps needed", 0 },
    { "prometheus", SB_CT_STRING, R | F, OFF(prometheus), "", 0, 0, NULL, "URL",
      "plan from a Prometheus server's HTTP API (http://host:9090) instead of --history", C },
    { "instance", SB_CT_STRING, R, OFF(instance), "", 0, 0, NULL, "HOST:PORT",
      "with --prometheus: the agent's instance label", C },
    { "selector", SB_CT_STRING, R | F, OFF(selector), "{job=\"sbagent\"}", 0, 0, NULL,
      "{LABEL=\"VALUE\",...}", "with --prometheus: the label matchers of the agents' series",
      C },
    { "apply", SB_CT_BOOL, R, OFF(apply), "false", 0, 1, NULL, NULL,
      "apply the recommendation (after the hysteresis) to the running httpd", C },
    { "threshold", SB_CT_DOUBLE, R, OFF(threshold), "10", 0, 1000, NULL, "PCT",
      "no change for differences under PCT % of the current value", 0 },
    { "max_step_up", SB_CT_DOUBLE, R, OFF(max_step_up), "100", 0, 1e6, NULL, "PCT",
      "grow a value by at most PCT % per run (0: no bound)", 0 },
    { "max_step_down", SB_CT_DOUBLE, R, OFF(max_step_down), "50", 0, 100, NULL, "PCT",
      "shrink a value by at most PCT % per run (0: no bound)", 0 },
    { "min_interval", SB_CT_DOUBLE, R, OFF(min_interval), "3600", 0, 31536000, NULL,
      "SECONDS", "least time since the last applied change", 0 },
    { "spike_minutes", SB_CT_INT, R, OFF(spike_minutes), "3", 0, 63, NULL, "N",
      "minutes that make 'now' for the spike check (0: no check)", 0 },
    { "spike_ratio", SB_CT_DOUBLE, R, OFF(spike_ratio), "1.5", 1, 100, NULL, "F",
      "a spike: their rate above F x the busiest-hour mean", 0 },
    /* sbtune apply and report --apply */
    { "snippet", SB_CT_STRING, R | Y, OFF(snippet), "", 0, 0, NULL, "PATH",
      "the Apache snippet sbtune owns (absolute; httpd must IncludeOptional it; report:"
      " its directives are the current values when discovery fails)", 0 },
    { "set", SB_CT_STRING, Y, OFF(set), "", 0, 0, NULL, "NAME=VALUE",
      "a directive to write: KeepAlive=On|Off, KeepAliveTimeout, MaxRequestWorkers"
      " (MaxClients), ServerLimit, ThreadsPerChild, ThreadLimit; repeat",
      C | SB_CF_LIST },
    { "apachectl", SB_CT_STRING, R | Y, OFF(apachectl), "apache2ctl", 0, 0, NULL, "CMD",
      "apachectl command line, e.g. '/usr/sbin/apache2 -f /srv/httpd.conf' (report: also"
      " what discovers the running settings)", 0 },
    { "apachectl_style", SB_CT_ENUM, R | Y, OFF(apachectl_style), "auto", 0, 0,
      "auto|verbs|flags", "STYLE", "verbs: CMD configtest|graceful|stop|start; flags: CMD"
      " -t|-k graceful|-k stop|-k start; auto: flags unless CMD is an *ctl script without"
      " -f/-d", 0 },
    { "httpd_version", SB_CT_ENUM, R | Y, OFF(httpd_version), "", 0, 0, "2.2|2.4", "VERSION",
      "directive names (MaxClients for 2.2; default: from mod_status, else APACHECTL -v)", 0 },
    { "allow_stop_start", SB_CT_BOOL, R | Y, OFF(allow_stop_start), "false", 0, 1, NULL, NULL,
      "allow a stop and start when ServerLimit/ThreadLimit grow (drops every connection)", 0 },
    { "lock", SB_CT_STRING, R | Y, OFF(lock), "", 0, 0, NULL, "FILE",
      "lock file (default .NAME.sbtune-lock beside the snippet)", 0 },
    { "lock_wait", SB_CT_DOUBLE, R | Y, OFF(lock_wait), "0", 0, 86400, NULL, "SECONDS",
      "wait this long for another run's lock (0: exit 12 at once)", 0 },
    { "verify_timeout", SB_CT_DOUBLE, R | Y, OFF(verify_timeout), "10", 0, 86400, NULL,
      "SECONDS", "how long each reload may take to show", 0 },
    { "dry_run", SB_CT_BOOL, R | Y, OFF(dry_run), "false", 0, 1, NULL, NULL,
      "decide and print the snippet, change nothing (exit 11, or 0: no change)", C },
    { "cron", SB_CT_BOOL, R | Y, OFF(cron), "false", 0, 1, NULL, NULL,
      "print nothing unless something changed or failed", C },
    { "reason", SB_CT_STRING, Y, OFF(reason), "", 0, 0, NULL, "TEXT",
      "why (the arithmetic): the snippet's header and the history row", C },
    { "data", SB_CT_STRING, Y, OFF(data), "", 0, 0, NULL, "TEXT",
      "from what data, for the snippet's header", C },
    /* sbagent's and sbtop's own */
    { "count", SB_CT_INT, A, OFF(count), "", 1, 100000000, NULL, "N",
      "take N raw samples, one per --interval, print each, then exit", C | SB_CF_SHORT('n') },
    { "interval", SB_CT_DOUBLE, A, OFF(interval), "1", 0.01, 86400, NULL, "SECONDS",
      "time between samples with --count", C | SB_CF_SHORT('i') },
    { "duration", SB_CT_DOUBLE, A, OFF(duration), "", 0.001, 1e9, NULL, "SECONDS",
      "daemon mode: stop after this long", C },
    { "iterations", SB_CT_INT, T, OFF(iterations), "", 1, 100000000, NULL, "N",
      "stop after N frames (batch mode default 1; interactive: unlimited)",
      C | SB_CF_SHORT('n') },
    { "delay", SB_CT_DOUBLE, T, OFF(delay), "1", 0.1, 3600, NULL, "SECONDS",
      "refresh interval, or time between batch frames", C | SB_CF_SHORT('d') },
    { "width", SB_CT_INT, T, OFF(width), "", 40, 1000, NULL, "COLUMNS",
      "batch mode: frame width (default $COLUMNS or 80)", C },
};
const int sb_config_noptions = (int)(sizeof(sb_config_options) / sizeof(sb_config_options[0]));

#undef A
#undef T
#undef P
#undef R
#undef Y
#undef C

const sb_config_opt_t *sb_config_find(const char *key)
{
    int i;
    for (i = 0; i < sb_config_noptions; i++) {
        if (strcmp(sb_config_options[i].key, key) == 0) {
            return &sb_config_options[i];
        }
    }
    return NULL;
}

const char *sb_config_long_name(const sb_config_opt_t *o, char *buf, apr_size_t len)
{
    apr_size_t i;
    for (i = 0; o->key[i] && i + 1 < len; i++) {
        buf[i] = o->key[i] == '_' ? '-' : o->key[i];
    }
    buf[i] = '\0';
    return buf;
}

static int parse_bool(const char *v, int *out)
{
    static const char *const yes[] = { "true", "yes", "on", "1" };
    static const char *const no[] = { "false", "no", "off", "0" };
    apr_size_t i;
    for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
        if (strcasecmp(v, yes[i]) == 0) {
            *out = 1;
            return 0;
        }
        if (strcasecmp(v, no[i]) == 0) {
            *out = 0;
            return 0;
        }
    }
    return -1;
}

static int choice_ok(const char *choices, const char *v)
{
    apr_size_t n = strlen(v);
    const char *c = choices;
    while (*c) {
        apr_size_t len = strcspn(c, "|");
        if (len == n && strncmp(c, v, n) == 0) {
            return 1;
        }
        c += len;
        if (*c == '|') {
            c++;
        }
    }
    return 0;
}

static void bounds(const sb_config_opt_t *o, char *buf, apr_size_t len)
{
    switch (o->type) {
    case SB_CT_INT:
        snprintf(buf, len, "a whole number from %.0f to %.0f", o->min, o->max);
        break;
    case SB_CT_BYTES:
        snprintf(buf, len, "a size in bytes of at least %.0f (suffixes K, M, G, T)", o->min);
        break;
    case SB_CT_PROB:
        snprintf(buf, len, "a probability from %g to %g (or %g%% to %g%%)", o->min, o->max,
                 o->min * 100, o->max * 100);
        break;
    default:
        snprintf(buf, len, "a number from %g to %g", o->min, o->max);
        break;
    }
}

/* A plain decimal: an optional sign, digits with an optional fraction
 * and exponent, nothing else (strtod alone also takes "0x10", " 5",
 * "inf", "nan(...)"). */
static int is_decimal(const char *v)
{
    int digits = 0;

    if (*v == '+' || *v == '-') {
        v++;
    }
    while (isdigit((unsigned char)*v)) {
        v++;
        digits++;
    }
    if (*v == '.') {
        v++;
        while (isdigit((unsigned char)*v)) {
            v++;
            digits++;
        }
    }
    if (digits > 0 && (*v == 'e' || *v == 'E')) {
        int exp = 0;
        v++;
        if (*v == '+' || *v == '-') {
            v++;
        }
        while (isdigit((unsigned char)*v)) {
            v++;
            exp++;
        }
        if (!exp) {
            return 0;
        }
    }
    return digits > 0 && *v == '\0';
}

/* Bytes with an optional K, M, G or T (powers of 1024; "MiB", "MB" alike). */
static int parse_bytes(const char *s, double *out)
{
    char *end;
    double v, mult = 1;

    {
        /* the number part: the longest plain decimal, then the suffix */
        apr_size_t n = strspn(s, "0123456789.eE+-");
        char num[64], *e;
        if (n >= sizeof(num)) {
            return -1;
        }
        memcpy(num, s, n);
        num[n] = '\0';
        while (n > 0 && !is_decimal(num)) {
            num[--n] = '\0';
        }
        if (n == 0) {
            return -1;
        }
        errno = 0;
        v = strtod(num, &e);
        if (errno || *e || !isfinite(v) || v < 0) {
            return -1;
        }
        end = (char *)s + n;
    }
    switch (*end) {
    case 'k': case 'K': mult = 1024.0; end++; break;
    case 'm': case 'M': mult = 1048576.0; end++; break;
    case 'g': case 'G': mult = 1073741824.0; end++; break;
    case 't': case 'T': mult = 1099511627776.0; end++; break;
    default: break;
    }
    if (mult > 1 && *end == 'i') {
        end++;
    }
    if (*end == 'B' || *end == 'b') {
        end++;
    }
    if (*end) {
        return -1;
    }
    *out = floor(v * mult + 0.5);
    return 0;
}

/* A number of o's type from v into *d.  Returns 0 or -1. */
static int parse_number(const sb_config_opt_t *o, const char *v, double *d)
{
    char *end, buf[64];
    apr_size_t n = strlen(v);
    double scale = 1;

    if (o->type == SB_CT_BYTES) {
        return parse_bytes(v, d);
    }
    if (o->type == SB_CT_PROB && n > 0 && n < sizeof(buf) && v[n - 1] == '%') {
        memcpy(buf, v, n - 1);
        buf[n - 1] = '\0';
        v = buf;
        scale = 0.01;
    }
    if (!is_decimal(v)) {
        return -1;
    }
    errno = 0;
    *d = strtod(v, &end);
    if (errno || end == v || *end || !isfinite(*d)) {
        return -1;
    }
    *d *= scale;
    return o->type == SB_CT_INT && *d != floor(*d) ? -1 : 0;
}

/* The message for a bad value: sbtune's own command-line options say
 * "--foo takes ...", the rest "ORIGIN: key must be ...". */
static int bad_value(const sb_config_opt_t *o, const char *origin, const char *what,
                     const char *value, char *err, apr_size_t errlen)
{
    if (origin[0] == '-'
        && ((o->flags & SB_CF_CMDLINE) || !(o->programs & (SB_PROG_AGENT | SB_PROG_TOP)))) {
        snprintf(err, errlen, "%s takes %s, not '%s'", origin, what, value);
    }
    else {
        snprintf(err, errlen, "%s: %s must be %s, not '%s'", origin, o->key, what, value);
    }
    return -1;
}

/* An empty value for an option whose default is empty: unset. */
static void set_unset(const sb_config_opt_t *o, char *field)
{
    switch (o->type) {
    case SB_CT_INT:
    case SB_CT_BOOL:
        *(int *)field = -1;
        break;
    case SB_CT_DOUBLE:
    case SB_CT_PROB:
        *(double *)field = NAN;
        break;
    case SB_CT_BYTES:
        *(int64_t *)field = -1;
        break;
    case SB_CT_STRING:
    case SB_CT_ENUM:
        *(const char **)field = "";
        break;
    }
}

static int set_number(const sb_config_opt_t *o, char *field, const char *value,
                      const char *origin, char *err, apr_size_t errlen)
{
    char allowed[96];
    double d;

    if (parse_number(o, value, &d) != 0 || d < o->min || d > o->max) {
        bounds(o, allowed, sizeof(allowed));
        return bad_value(o, origin, allowed, value, err, errlen);
    }
    if (o->type == SB_CT_INT) {
        *(int *)field = (int)d;
    }
    else if (o->type == SB_CT_BYTES) {
        *(int64_t *)field = (int64_t)d;
    }
    else {
        *(double *)field = d;
    }
    return 0;
}

int sb_config_set(sb_config_t *cfg, apr_pool_t *p, const char *key,
                  const char *value, const char *origin, unsigned program,
                  char *err, apr_size_t errlen)
{
    const sb_config_opt_t *o = sb_config_find(key);
    char *field;
    char allowed[96];

    if (!o) {
        snprintf(err, errlen, "%s: unknown key '%s'", origin, key);
        return -1;
    }
    if (!(o->programs & program)) {
        snprintf(err, errlen, "%s: '%s' is not an option of this program", origin, key);
        return -1;
    }
    field = (char *)cfg + o->offset;
    if (!*value && !*o->def) {
        set_unset(o, field);
        return 0;
    }
    switch (o->type) {
    case SB_CT_BOOL: {
        int b;
        if (parse_bool(value, &b) != 0) {
            snprintf(err, errlen, "%s: %s must be true or false, not '%s'", origin, key, value);
            return -1;
        }
        *(int *)field = b;
        return 0;
    }
    case SB_CT_INT:
    case SB_CT_DOUBLE:
    case SB_CT_BYTES:
    case SB_CT_PROB:
        return set_number(o, field, value, origin, err, errlen);
    case SB_CT_ENUM:
        if (!choice_ok(o->choices, value)) {
            snprintf(allowed, sizeof(allowed), "one of %s", o->choices);
            return bad_value(o, origin, allowed, value, err, errlen);
        }
        *(const char **)field = apr_pstrdup(p, value);
        return 0;
    case SB_CT_STRING:
        if ((o->flags & SB_CF_LIST) && **(const char **)field) {
            *(const char **)field = apr_pstrcat(p, *(const char **)field, "\n", value, NULL);
        }
        else {
            *(const char **)field = apr_pstrdup(p, value);
        }
        return 0;
    }
    return -1;
}

void sb_config_defaults(sb_config_t *cfg, apr_pool_t *p)
{
    int i;
    char err[256];

    memset(cfg, 0, sizeof(*cfg));
    for (i = 0; i < sb_config_noptions; i++) {
        sb_config_set(cfg, p, sb_config_options[i].key, sb_config_options[i].def,
                      "default", SB_PROG_ALL, err, sizeof(err));
    }
}

/* The YAML events of an initialized parser into cfg; name is the file
 * (or what the buffer stands for) in messages.  Shared by the file and
 * buffer loaders. */
static int load_events(sb_config_t *cfg, apr_pool_t *p, yaml_parser_t *parser,
                       const char *path, char *err, apr_size_t errlen)
{
    yaml_event_t ev;
    int done = 0, depth = 0, top_seen = 0;
    char *key = NULL;

    while (!done) {
        char origin[512];
        if (!yaml_parser_parse(parser, &ev)) {
            snprintf(err, errlen, "%s:%lu:%lu: YAML error: %s%s%s", path,
                     (unsigned long)parser->problem_mark.line + 1,
                     (unsigned long)parser->problem_mark.column + 1,
                     parser->problem ? parser->problem : "unknown",
                     parser->context ? " " : "", parser->context ? parser->context : "");
            return -1;
        }
        snprintf(origin, sizeof(origin), "%s:%lu:%lu", path,
                 (unsigned long)ev.start_mark.line + 1, (unsigned long)ev.start_mark.column + 1);
        switch (ev.type) {
        case YAML_STREAM_END_EVENT:
            done = 1;
            break;
        case YAML_MAPPING_START_EVENT:
            if (depth > 0 || top_seen) {
                snprintf(err, errlen, "%s: %s takes a single value, not a mapping", origin,
                         key ? key : "the file");
                yaml_event_delete(&ev);
                return -1;
            }
            depth++;
            top_seen = 1;
            break;
        case YAML_MAPPING_END_EVENT:
            depth--;
            break;
        case YAML_SEQUENCE_START_EVENT:
            snprintf(err, errlen, "%s: %s takes a single value, not a list", origin,
                     key ? key : "the file");
            yaml_event_delete(&ev);
            return -1;
        case YAML_ALIAS_EVENT:
            snprintf(err, errlen, "%s: aliases are not supported", origin);
            yaml_event_delete(&ev);
            return -1;
        case YAML_SCALAR_EVENT:
            if (depth == 0) {
                snprintf(err, errlen, "%s: the file must be a mapping of option: value",
                         origin);
                yaml_event_delete(&ev);
                return -1;
            }
            if (memchr(ev.data.scalar.value, '\0', ev.data.scalar.length)) {
                snprintf(err, errlen, "%s: %s holds a NUL byte (\\0): not a valid %s",
                         origin, key ? key : "a key", key ? "value" : "key");
                yaml_event_delete(&ev);
                return -1;
            }
            if (!key) {
                key = apr_pstrndup(p, (const char *)ev.data.scalar.value, ev.data.scalar.length);
                if (!sb_config_find(key)) {
                    snprintf(err, errlen, "%s: unknown key '%s' (see sbtune.yaml(5))",
                             origin, key);
                    yaml_event_delete(&ev);
                    return -1;
                }
                if (sb_config_find(key)->flags & SB_CF_CMDLINE) {
                    snprintf(err, errlen, "%s: '%s' is a command-line option, not a key of"
                             " the file (see sbtune.yaml(5))", origin, key);
                    yaml_event_delete(&ev);
                    return -1;
                }
            }
            else {
                const char *val = apr_pstrndup(p, (const char *)ev.data.scalar.value,
                                               ev.data.scalar.length);
                /* "~", "null" and an empty plain scalar mean the default */
                if (ev.data.scalar.style == YAML_PLAIN_SCALAR_STYLE
                    && (!*val || strcmp(val, "~") == 0 || strcmp(val, "null") == 0)) {
                    val = sb_config_find(key)->def;
                }
                /* the file is shared: another program's keys are valid here */
                if (sb_config_set(cfg, p, key, val, origin, SB_PROG_ALL, err, errlen) != 0) {
                    yaml_event_delete(&ev);
                    return -1;
                }
                key = NULL;
            }
            break;
        default:
            break;
        }
        yaml_event_delete(&ev);
    }
    return 0;
}

int sb_config_load(sb_config_t *cfg, apr_pool_t *p, const char *path,
                   char *err, apr_size_t errlen)
{
    FILE *f;
    yaml_parser_t parser;
    int rc;

    f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
        return -1;
    }
    if (!yaml_parser_initialize(&parser)) {
        fclose(f);
        snprintf(err, errlen, "%s: cannot initialize the YAML parser", path);
        return -1;
    }
    yaml_parser_set_input_file(&parser, f);
    rc = load_events(cfg, p, &parser, path, err, errlen);
    yaml_parser_delete(&parser);
    fclose(f);
    return rc;
}

int sb_config_load_buffer(sb_config_t *cfg, apr_pool_t *p, const char *buf,
                          apr_size_t len, const char *name, char *err, apr_size_t errlen)
{
    yaml_parser_t parser;
    int rc;

    if (!yaml_parser_initialize(&parser)) {
        snprintf(err, errlen, "%s: cannot initialize the YAML parser", name);
        return -1;
    }
    yaml_parser_set_input_string(&parser, (const unsigned char *)buf, len);
    rc = load_events(cfg, p, &parser, name, err, errlen);
    yaml_parser_delete(&parser);
    return rc;
}

int sb_config_getopt(struct option *opts, int max, unsigned program, int base,
                     apr_pool_t *p)
{
    int i, n = 0;
    for (i = 0; i < sb_config_noptions && n < max; i++) {
        const sb_config_opt_t *o = &sb_config_options[i];
        char *name;
        apr_size_t len;
        if (!(o->programs & program)) {
            continue;
        }
        len = strlen(o->key) + 1;
        name = apr_palloc(p, len);
        sb_config_long_name(o, name, len);
        opts[n].name = name;
        opts[n].has_arg = o->type == SB_CT_BOOL ? optional_argument : required_argument;
        opts[n].flag = NULL;
        opts[n].val = base + i;
        n++;
    }
    return n;
}

/* The --help lines of program's options whose SB_CF_CMDLINE flag is
 * cmdline (-1: all). */
static void help_lines(FILE *out, unsigned program, int cmdline)
{
    int i;
    for (i = 0; i < sb_config_noptions; i++) {
        const sb_config_opt_t *o = &sb_config_options[i];
        char name[64], left[96];
        int sh = SB_CF_SHORT_OF(o->flags);
        if (!(o->programs & program)
            || (cmdline >= 0 && !(o->flags & SB_CF_CMDLINE) != !cmdline)) {
            continue;
        }
        sb_config_long_name(o, name, sizeof(name));
        snprintf(left, sizeof(left), "--%s%s%s%s", name,
                 o->type == SB_CT_BOOL ? "[=BOOL]" : "", o->arg ? " " : "",
                 o->arg ? o->arg : "");
        if (sh) {
            fprintf(out, "  -%c, %-32s %s", sh, left, o->help);
        }
        else {
            fprintf(out, "      %-32s %s", left, o->help);
        }
        if (o->type == SB_CT_ENUM && o->def[0]) {
            fprintf(out, " (%s; default %s)", o->choices, o->def);
        }
        else if (o->type == SB_CT_ENUM) {
            fprintf(out, " (%s)", o->choices);
        }
        else if (o->def[0] && o->type != SB_CT_BOOL) {
            fprintf(out, " (default %s)", o->def);
        }
        fputc('\n', out);
    }
}

void sb_config_help(FILE *out, unsigned program)
{
    help_lines(out, program, -1);
}

void sb_config_help_cmdline(FILE *out, unsigned program, int cmdline)
{
    help_lines(out, program, cmdline);
}

int sb_config_cmdline_add(sb_config_cmdline_t *cl, const char *key, const char *value,
                          const char *origin)
{
    if (cl->n >= SB_CONFIG_CMDLINE_MAX) {
        return -1;
    }
    cl->e[cl->n].key = key;
    cl->e[cl->n].value = value ? value : "true";
    apr_cpystrn(cl->e[cl->n].origin, origin, sizeof(cl->e[cl->n].origin));
    cl->n++;
    return 0;
}

int sb_config_cmdline_getopt(sb_config_cmdline_t *cl, int val, int base, const char *optarg)
{
    const sb_config_opt_t *o;
    char name[64], origin[80];

    if (val < base || val >= base + sb_config_noptions) {
        return 1;
    }
    o = &sb_config_options[val - base];
    snprintf(origin, sizeof(origin), "--%s", sb_config_long_name(o, name, sizeof(name)));
    return sb_config_cmdline_add(cl, o->key, optarg, origin);
}

int sb_config_resolve(sb_config_t *cfg, apr_pool_t *p, const char **file,
                      const char *default_file, const sb_config_cmdline_t *cl,
                      unsigned program, char *err, apr_size_t errlen)
{
    int i;

    sb_config_defaults(cfg, p);
    if (!*file && default_file && access(default_file, F_OK) == 0) {
        *file = default_file;
    }
    if (*file && sb_config_load(cfg, p, *file, err, errlen) != 0) {
        return -1;
    }
    for (i = 0; i < cl->n; i++) {
        if (sb_config_set(cfg, p, cl->e[i].key, cl->e[i].value, cl->e[i].origin, program,
                          err, errlen) != 0) {
            return -1;
        }
    }
    return 0;
}

int sb_cli_getopt(const sb_cli_opt_t *opts, int n, struct option *lopts, int max,
                  char *shortopts)
{
    int i, nl = 0;
    apr_size_t k = strlen(shortopts);

    for (i = 0; i < n && nl < max; i++) {
        lopts[nl].name = opts[i].name;
        lopts[nl].has_arg = opts[i].has_arg;
        lopts[nl].flag = NULL;
        lopts[nl].val = opts[i].id;
        nl++;
        if (opts[i].id > 0 && opts[i].id < 256) {
            shortopts[k++] = (char)opts[i].id;
            if (opts[i].has_arg == required_argument) {
                shortopts[k++] = ':';
            }
        }
    }
    shortopts[k] = '\0';
    return nl;
}

void sb_cli_help(FILE *out, const sb_cli_opt_t *opts, int n)
{
    int i;
    for (i = 0; i < n; i++) {
        char left[64];
        snprintf(left, sizeof(left), "--%s%s%s", opts[i].name, opts[i].arg ? " " : "",
                 opts[i].arg ? opts[i].arg : "");
        if (opts[i].id > 0 && opts[i].id < 256) {
            fprintf(out, "  -%c, %-32s %s\n", opts[i].id, left, opts[i].help);
        }
        else {
            fprintf(out, "      %-32s %s\n", left, opts[i].help);
        }
    }
}

/* ------------------------------------------------------------------ sb_cli_parse */

#define SB_CLI_TABLE_BASE 1000
enum { SB_CLI_CONFIG = 'c', SB_CLI_HELP = 'h', SB_CLI_VERSION = 'V' };

/* --config, --help, --version (the last only with cli->version). */
static int common_options(const sb_cli_t *cli, sb_cli_opt_t *out, apr_pool_t *p)
{
    out[0].id = SB_CLI_CONFIG;
    out[0].name = "config";
    out[0].has_arg = required_argument;
    out[0].arg = "FILE";
    out[0].help = cli->default_file
                  ? apr_psprintf(p, "read options from this YAML file (default %s if it exists)",
                                 cli->default_file)
                  : "read options from this YAML file";
    out[1].id = SB_CLI_HELP;
    out[1].name = "help";
    out[1].has_arg = no_argument;
    out[1].arg = NULL;
    out[1].help = "show this help and exit";
    out[2].id = SB_CLI_VERSION;
    out[2].name = "version";
    out[2].has_arg = no_argument;
    out[2].arg = NULL;
    out[2].help = "show the version and exit";
    return cli->version ? 3 : 2;
}

void sb_cli_help_common(FILE *out, const sb_cli_t *cli)
{
    sb_cli_opt_t common[3];
    apr_pool_t *p;

    apr_pool_create(&p, NULL);
    sb_cli_help(out, common, common_options(cli, common, p));
    apr_pool_destroy(p);
}

static const sb_cli_opt_t *own_option(const sb_cli_t *cli, int id)
{
    int i;
    for (i = 0; i < cli->nown; i++) {
        if (cli->own[i].id == id) {
            return &cli->own[i];
        }
    }
    return NULL;
}

/* The table option of program whose short form is c. */
static const sb_config_opt_t *short_option(unsigned program, int c)
{
    int i;
    for (i = 0; i < sb_config_noptions; i++) {
        const sb_config_opt_t *o = &sb_config_options[i];
        if ((o->programs & program) && SB_CF_SHORT_OF(o->flags) == c) {
            return o;
        }
    }
    return NULL;
}

/* msg (NULL: getopt said what), then where to look. */
static int try_help(const sb_cli_t *cli, const char *msg)
{
    if (msg) {
        fprintf(stderr, "%s: %s\n", cli->name, msg);
    }
    fprintf(stderr, "Try '%s --help' for more information.\n", cli->name);
    return 2;
}

/* getopt_long's tables: own's options, then the table's of the program
 * (val SB_CLI_TABLE_BASE + index), the short forms of both. */
static struct option *build_getopt(const sb_cli_t *cli, apr_pool_t *p, char **shortopts)
{
    int max = 3 + cli->nown + sb_config_noptions + 1, n, i;
    struct option *lopts = apr_pcalloc(p, sizeof(*lopts) * (apr_size_t)max);
    char *sh = apr_pcalloc(p, (apr_size_t)(2 * max + 1));
    sb_cli_opt_t common[3];
    apr_size_t k;

    n = sb_cli_getopt(common, common_options(cli, common, p), lopts, 3, sh);
    n += sb_cli_getopt(cli->own, cli->nown, lopts + n, cli->nown, sh);
    sb_config_getopt(lopts + n, max - n - 1, cli->program, SB_CLI_TABLE_BASE, p);
    k = strlen(sh);
    for (i = 0; i < sb_config_noptions; i++) {
        const sb_config_opt_t *o = &sb_config_options[i];
        if ((o->programs & cli->program) && SB_CF_SHORT_OF(o->flags)) {
            sh[k++] = (char)SB_CF_SHORT_OF(o->flags);
            if (o->type != SB_CT_BOOL) {
                sh[k++] = ':';
            }
        }
    }
    sh[k] = '\0';
    *shortopts = sh;
    return lopts;
}

int sb_cli_parse(const sb_cli_t *cli, int argc, char **argv, sb_config_t *cfg,
                 apr_pool_t *p, const char **file, const sb_config_cmdline_t **clp)
{
    sb_config_cmdline_t *cl = apr_pcalloc(p, sizeof(*cl));
    char *shortopts, err[1024], origin[8];
    struct option *lopts = build_getopt(cli, p, &shortopts);
    const sb_config_opt_t *o;
    int c, rv;

    *file = NULL;
    optind = 1;
    while ((c = getopt_long(argc, argv, shortopts, lopts, NULL)) != -1) {
        if (c == '?' || c == ':') {
            return try_help(cli, NULL);
        }
        if (c == SB_CLI_CONFIG) {
            *file = optarg;
            continue;
        }
        if (c == SB_CLI_HELP) {
            cli->usage(stdout);
            return 0;
        }
        if (c == SB_CLI_VERSION && cli->version) {
            fputs(cli->version, stdout);
            return 0;
        }
        if (own_option(cli, c)) {
            if ((rv = cli->fn(cli->baton, c, optarg)) >= 0) {
                return rv;
            }
            continue;
        }
        if (c < 256 && (o = short_option(cli->program, c)) != NULL) {
            snprintf(origin, sizeof(origin), "-%c", c);
            rv = sb_config_cmdline_add(cl, o->key, optarg, origin);
        }
        else {
            rv = sb_config_cmdline_getopt(cl, c, SB_CLI_TABLE_BASE, optarg);
        }
        if (rv != 0) {
            return try_help(cli, "too many options");
        }
    }
    if (optind < argc) {
        snprintf(err, sizeof(err), "unexpected argument '%s'", argv[optind]);
        return try_help(cli, err);
    }
    if (sb_config_resolve(cfg, p, file, cli->default_file, cl, cli->program, err,
                          sizeof(err)) != 0) {
        fprintf(stderr, "%s: %s\n", cli->name, err);
        return 2;
    }
    if (clp) {
        *clp = cl;
    }
    return -1;
}
