/*
 * sb_config.h - sbtune's configuration: one table of options.
 *
 * The table drives getopt_long, --help, the YAML file's keys
 * (/etc/sbtune/sbtune.yaml, shared by sbagent, sbtop and sbtune) and the
 * man pages' option lists (a test checks that every option is documented).
 * A YAML key "foo_bar" is the long option "--foo-bar".  Values from the
 * command line override the file.  Options marked SB_CF_CMDLINE (one
 * run's inputs: sbtune plan's rates, --set, --dry-run...) are command-line
 * options only and not keys of the file.  sbtune's subcommands have a
 * program bit each; an option of report and apply (the apply options) is
 * one entry with both bits.
 */
#ifndef SB_CONFIG_H
#define SB_CONFIG_H

#include <stdio.h>
#include <getopt.h>
#include <apr_pools.h>

#define SB_PROG_AGENT  0x01
#define SB_PROG_TOP    0x02
#define SB_PROG_PLAN   0x04     /* sbtune plan */
#define SB_PROG_REPORT 0x08     /* sbtune report */
#define SB_PROG_APPLY  0x10     /* sbtune apply */
#define SB_PROG_FLEET  0x20     /* sbtune fleet */
#define SB_PROG_TUNE   (SB_PROG_PLAN | SB_PROG_REPORT | SB_PROG_APPLY | SB_PROG_FLEET)
#define SB_PROG_ALL    0x3f

/* sb_config_opt_t.flags */
#define SB_CF_CMDLINE  0x1      /* a command-line option only, not a YAML key */
#define SB_CF_LIST     0x2      /* may repeat: the values joined by '\n' */
#define SB_CF_SHORT(c) ((unsigned)(c) << 8) /* also the short option -c */
#define SB_CF_SHORT_OF(flags) ((int)(((flags) >> 8) & 0xff))

typedef enum {
    SB_CT_BOOL,
    SB_CT_INT,
    SB_CT_DOUBLE,
    SB_CT_STRING,
    SB_CT_ENUM,
    SB_CT_BYTES,                /* int64_t: a size, suffixes K, M, G, T (powers of 1024) */
    SB_CT_PROB                  /* double: a probability, 0.01 or 1% */
} sb_ctype_t;

typedef struct {
    /* sources */
    const char *scoreboard;
    const char *status_url;
    const char *status_user;
    const char *status_password_file;
    const char *ca_file;
    int insecure;
    int connect_timeout_ms;
    int timeout_ms;
    int max_bytes;
    double shm_hz;
    double status_interval;
    double kernel_hz;
    const char *kernel_source;  /* "auto", "bpf" or "diag" */
    const char *ports;          /* "80,443"; empty: discover from httpd */
    const char *httpd_pidfile;  /* httpd's PidFile, to find its processes */
    /* history */
    const char *history;
    int keep_seconds_hours;
    int keep_minutes_days;
    /* export */
    const char *listen;         /* Prometheus endpoint, "" = off */
    const char *textfile;       /* node_exporter textfile, "" = off */
    int export_clients;
    /* daemon */
    const char *log_level;
    const char *log;            /* "stderr" or "syslog" */
    const char *user;           /* drop to this user after attaching */
    /* sbtune: numbers with an empty default are unset: NaN, or -1 */
    double conn_rate, busy_rate, spike_factor, hold_time, active_time;
    double keepalive_timeout, service_time, requests_per_conn;
    const char *mpm;            /* "" unset */
    int threads_per_child;
    double async_factor, server_limit_headroom, target_wait;
    int min_keepalive_timeout;
    int64_t pss, memory, memory_reserve, memory_budget;
    double memory_share;
    int slots, current_max_request_workers, current_server_limit, current_thread_limit;
    const char *format;
    double window_days;
    const char *prometheus, *instance, *selector; /* sbtune report/fleet --prometheus */
    int max_request_workers, server_limit, thread_limit;
    /* sbagent's and sbtop's own command-line options */
    int count;                  /* sbagent --count; -1 unset (daemon) */
    double interval;            /* sbagent --interval */
    double duration;            /* sbagent --duration; NaN unset */
    int iterations;             /* sbtop -n; -1 unset */
    double delay;               /* sbtop -d */
    int width;                  /* sbtop --width; -1 unset */
    int min_minutes, min_conns, min_gaps;
    int apply;
    const char *snippet, *apachectl, *apachectl_style, *httpd_version, *lock;
    int allow_stop_start, dry_run, cron;
    double lock_wait, verify_timeout;
    double threshold, max_step_up, max_step_down, min_interval, spike_ratio;
    int spike_minutes;
    const char *set;            /* Directive=value lines */
    const char *reason, *data;
} sb_config_t;

typedef struct {
    const char *key;            /* YAML key; long option with '_' -> '-' */
    sb_ctype_t type;
    unsigned programs;          /* SB_PROG_* that accept it */
    apr_size_t offset;          /* into sb_config_t */
    const char *def;            /* default, as text */
    double min, max;            /* numeric bounds (inclusive) */
    const char *choices;        /* SB_CT_ENUM: "a|b|c" */
    const char *arg;            /* metavariable in --help */
    const char *help;
    unsigned flags;             /* SB_CF_* */
} sb_config_opt_t;

extern const sb_config_opt_t sb_config_options[];
extern const int sb_config_noptions;

/* Fill cfg with the defaults of every option. */
void sb_config_defaults(sb_config_t *cfg, apr_pool_t *p);

/* Set option key (YAML spelling) from text.  origin names where the text
 * came from for messages ("--foo", "file:line:col").  An empty value sets
 * an option whose default is empty back to unset.  Returns 0, or -1
 * with a message in err that names origin and the allowed values
 * ("ORIGIN: key must be ALLOWED, not 'v'"; for an option of sbtune's alone
 * given on the command line "--foo takes ALLOWED, not 'v'"). */
int sb_config_set(sb_config_t *cfg, apr_pool_t *p, const char *key,
                  const char *value, const char *origin, unsigned program,
                  char *err, apr_size_t errlen);

/* Load a YAML file: a mapping of option keys to scalars.  The file is
 * shared by all programs, so any program's keys are accepted; unknown
 * keys, command-line-only options, wrong types and out-of-range values
 * are errors naming
 * file:line:column and the allowed values.  Returns 0, or
 * -1 with the message in err (cfg may be partly updated: load into a copy
 * to keep the old configuration on a failed reload). */
int sb_config_load(sb_config_t *cfg, apr_pool_t *p, const char *path,
                   char *err, apr_size_t errlen);

/* The same for len bytes of YAML text in buf (need not be NUL-terminated);
 * messages name it name ("-", "<fuzz>") where they would name the file. */
int sb_config_load_buffer(sb_config_t *cfg, apr_pool_t *p, const char *buf,
                          apr_size_t len, const char *name, char *err, apr_size_t errlen);

/* Find an option by YAML key; NULL if none. */
const sb_config_opt_t *sb_config_find(const char *key);

/* Append long options for program to opts (at most max entries; val is
 * base + table index; names allocated from p) and return how many were
 * added. */
int sb_config_getopt(struct option *opts, int max, unsigned program, int base,
                     apr_pool_t *p);

/* Print the options of program, one per line, for --help. */
void sb_config_help(FILE *out, unsigned program);

/* The same for the command-line-only options (cmdline 1) or the YAML
 * keys (cmdline 0) alone. */
void sb_config_help_cmdline(FILE *out, unsigned program, int cmdline);

/* Shared options seen on a command line, applied after the file. */
#define SB_CONFIG_CMDLINE_MAX 128
typedef struct {
    int n;
    struct {
        const char *key;
        const char *value;
        char origin[80];
    } e[SB_CONFIG_CMDLINE_MAX];
} sb_config_cmdline_t;

/* Record option key = value, given on the command line as origin ("-s",
 * "--status-url"); value NULL means "true" (a boolean flag).  Returns 0,
 * or -1 when more than SB_CONFIG_CMDLINE_MAX options were given. */
int sb_config_cmdline_add(sb_config_cmdline_t *cl, const char *key, const char *value,
                          const char *origin);

/* Record the shared option getopt_long returned as val (from
 * sb_config_getopt() with base).  Returns 0, 1 when val is not a shared
 * option, -1 when the list is full. */
int sb_config_cmdline_getopt(sb_config_cmdline_t *cl, int val, int base, const char *optarg);

/* The configuration in force: the defaults, then the YAML file (*file, or
 * default_file when *file is NULL and it exists; *file is set to the file
 * read, NULL for none), then the command line, checked against program's
 * options.  Returns 0, or -1 with the message in err. */
int sb_config_resolve(sb_config_t *cfg, apr_pool_t *p, const char **file,
                      const char *default_file, const sb_config_cmdline_t *cl,
                      unsigned program, char *err, apr_size_t errlen);

/* A program's own options (not YAML keys): one table drives getopt_long
 * and --help.  An id below 256 is also the short option. */
typedef struct {
    int id;
    const char *name;
    int has_arg;                /* no_argument, required_argument */
    const char *arg;            /* metavariable in --help, NULL for none */
    const char *help;
} sb_cli_opt_t;

/* Append opts to getopt_long's table lopts (at most max entries) and their
 * short forms to shortopts (NUL-terminated; room for 2 per option + 1).
 * Returns how many entries were appended. */
int sb_cli_getopt(const sb_cli_opt_t *opts, int n, struct option *lopts, int max,
                  char *shortopts);

/* Print opts for --help, one per line. */
void sb_cli_help(FILE *out, const sb_cli_opt_t *opts, int n);

/* A program's whole command line: -c/--config FILE, -h/--help,
 * -V/--version, its own options (own[], each handed to fn), the table's
 * options of program (recorded, with their short forms from
 * SB_CF_SHORT), then the configuration in force (sb_config_resolve() with
 * default_file). */
typedef struct {
    const char *name;           /* for messages: "sbagent", "sbtune plan" */
    unsigned program;           /* SB_PROG_* */
    const sb_cli_opt_t *own;    /* ids other than 'c', 'h', 'V' */
    int nown;
    const char *default_file;
    void (*usage)(FILE *out);   /* the whole --help */
    const char *version;        /* what --version prints; NULL: no --version */
    /* An own option: returns -1 to go on, or an exit code to return (after
     * a message of its own: 2). */
    int (*fn)(void *baton, int id, const char *arg);
    void *baton;
} sb_cli_t;

/* The --help lines of --config, --help and --version (as cli has them). */
void sb_cli_help_common(FILE *out, const sb_cli_t *cli);

/* Parse argv (argv[0] is the program) as cli says into cfg (from p);
 * *file is set to the configuration file read (NULL: none) and cl (from
 * p, may be NULL) to the options given, for a reload.  Usage errors are
 * printed to stderr with "Try '<name> --help'".  Returns -1 to go on,
 * or the exit code to return: 0 after --help or --version, fn's, or 2
 * (a usage or configuration error). */
int sb_cli_parse(const sb_cli_t *cli, int argc, char **argv, sb_config_t *cfg,
                 apr_pool_t *p, const char **file, const sb_config_cmdline_t **cl);

/* The long option spelling of key ("status_url" -> "status-url"). */
const char *sb_config_long_name(const sb_config_opt_t *o, char *buf, apr_size_t len);

#endif
