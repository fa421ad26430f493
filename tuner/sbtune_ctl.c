/*
 * sbtune_ctl.c - the apachectl runner: the command line split, the
 * argument style, a child run with a deadline and its output, and what
 * sbtune reads from that output (contracts in sbtune_apply_int.h).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <apr_strings.h>
#include <apr_tables.h>

#include "sbtune_apply_int.h"

double sbtune_now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void sbtune_sleep_ms(long ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

    while (nanosleep(&ts, &ts) == -1 && errno == EINTR) {
    }
}

/* Split a command line on blanks; '...' and "..." group (no escapes in
 * '...', backslash escapes in "..." and bare words). */
static int split_cmd(const char *cmd, apr_array_header_t *argv, apr_pool_t *p)
{
    const char *s = cmd;
    char *w = apr_palloc(p, strlen(cmd) + 1);
    apr_size_t n;
    int any;

    while (*s) {
        while (*s == ' ' || *s == '\t') {
            s++;
        }
        if (*s == '\0') {
            break;
        }
        n = 0;
        any = 0;
        while (*s && *s != ' ' && *s != '\t') {
            if (*s == '\'') {
                const char *e = strchr(s + 1, '\'');

                if (e == NULL) {
                    return -1;
                }
                memcpy(w + n, s + 1, (apr_size_t)(e - s - 1));
                n += (apr_size_t)(e - s - 1);
                s = e + 1;
            }
            else if (*s == '"') {
                s++;
                while (*s && *s != '"') {
                    if (*s == '\\' && s[1]) {
                        s++;
                    }
                    w[n++] = *s++;
                }
                if (*s != '"') {
                    return -1;
                }
                s++;
            }
            else {
                if (*s == '\\' && s[1]) {
                    s++;
                }
                w[n++] = *s++;
            }
            any = 1;
        }
        if (any) {
            APR_ARRAY_PUSH(argv, const char *) = apr_pstrmemdup(p, w, n);
        }
    }
    return argv->nelts > 0 ? 0 : -1;
}

static char *read_all(FILE *f, apr_pool_t *p)
{
    long len;
    char *buf;
    size_t n;

    fflush(f);
    if (fseek(f, 0, SEEK_END) != 0 || (len = ftell(f)) < 0) {
        return apr_pstrdup(p, "");
    }
    if (len > 1 << 20) {
        len = 1 << 20;
    }
    rewind(f);
    buf = apr_palloc(p, (apr_size_t)len + 1);
    n = fread(buf, 1, (size_t)len, f);
    buf[n] = '\0';
    return buf;
}

static void close_fds_from(int lowfd)
{
    long max = sysconf(_SC_OPEN_MAX);
    int fd;

    if (max < 0 || max > 65536) {
        max = 65536;
    }
    for (fd = lowfd; fd < max; fd++) {
        close(fd);
    }
}

/* Run argv, capturing stdout and stderr (to temp files, not pipes: a
 * daemon started by -k start must not hold our end open). */
static void run_argv(const apr_array_header_t *argv, sbtune_ctl_result_t *r, apr_pool_t *p)
{
    FILE *fo = tmpfile(), *fe = tmpfile();
    const char **args = apr_pcalloc(p, sizeof(char *) * ((apr_size_t)argv->nelts + 1));
    double deadline = sbtune_now_s() + SBTUNE_CTL_TIMEOUT_S;
    pid_t pid;
    int i, st;
    const char *cmdline = "";

    for (i = 0; i < argv->nelts; i++) {
        args[i] = APR_ARRAY_IDX(argv, i, const char *);
        cmdline = apr_pstrcat(p, cmdline, i ? " " : "", args[i], NULL);
    }
    r->cmdline = cmdline;
    r->status = -1;
    r->out = r->err = apr_pstrdup(p, "");
    if (fo == NULL || fe == NULL) {
        r->err = apr_psprintf(p, "cannot create temp files: %s", strerror(errno));
        goto done;
    }
    fflush(stdout);
    fflush(stderr);
    pid = fork();
    if (pid < 0) {
        r->err = apr_psprintf(p, "fork: %s", strerror(errno));
        goto done;
    }
    if (pid == 0) {
        int devnull = open("/dev/null", O_RDONLY);

        if (devnull >= 0) {
            dup2(devnull, 0);
        }
        dup2(fileno(fo), 1);
        dup2(fileno(fe), 2);
        close_fds_from(3);
        signal(SIGPIPE, SIG_DFL);
        execvp(args[0], (char *const *)args);
        fprintf(stderr, "cannot run %s: %s\n", args[0], strerror(errno));
        _exit(127);
    }
    for (;;) {
        pid_t w = waitpid(pid, &st, WNOHANG);

        if (w == pid) {
            break;
        }
        if (w < 0 && errno != EINTR) {
            st = -1;
            break;
        }
        if (sbtune_now_s() > deadline) {
            kill(pid, SIGKILL);
            waitpid(pid, &st, 0);
            break;
        }
        sbtune_sleep_ms(10);
    }
    if (st == -1) {
        r->status = -1;
    }
    else if (WIFEXITED(st)) {
        r->status = WEXITSTATUS(st);
    }
    else {
        r->status = 128 + (WIFSIGNALED(st) ? WTERMSIG(st) : 0);
    }
    r->out = read_all(fo, p);
    r->err = read_all(fe, p);
done:
    if (fo) {
        fclose(fo);
    }
    if (fe) {
        fclose(fe);
    }
}

int sbtune_ctl_init(sbtune_ctl_t *ctl, const char *cmd, sbtune_ctl_style_t style,
                    apr_pool_t *p)
{
    const char *prog;
    int i;

    ctl->pool = p;
    ctl->argv = apr_array_make(p, 8, sizeof(const char *));
    if (split_cmd(cmd, ctl->argv, p) != 0) {
        return -1;
    }
    prog = strrchr(APR_ARRAY_IDX(ctl->argv, 0, const char *), '/');
    prog = prog ? prog + 1 : APR_ARRAY_IDX(ctl->argv, 0, const char *);
    if (style != SBTUNE_CTL_AUTO) {
        ctl->verbs = style == SBTUNE_CTL_VERBS;
        return 0;
    }
    ctl->verbs = strlen(prog) >= 3 && strcmp(prog + strlen(prog) - 3, "ctl") == 0;
    for (i = 1; i < ctl->argv->nelts; i++) {
        const char *a = APR_ARRAY_IDX(ctl->argv, i, const char *);

        if (strcmp(a, "-f") == 0 || strcmp(a, "-d") == 0) {
            ctl->verbs = 0;
        }
    }
    return 0;
}

const char *sbtune_ctl_missing(const sbtune_ctl_t *ctl, apr_pool_t *p)
{
    const char *prog = APR_ARRAY_IDX(ctl->argv, 0, const char *);
    const char *path = getenv("PATH");
    char *copy, *dir, *save = NULL;

    if (strchr(prog, '/')) {
        return access(prog, X_OK) == 0 ? NULL
               : apr_psprintf(p, "%s: %s", prog, strerror(errno));
    }
    copy = apr_pstrdup(p, path && *path ? path : "/usr/local/sbin:/usr/local/bin:/usr/sbin:"
                       "/usr/bin:/sbin:/bin");
    for (dir = apr_strtok(copy, ":", &save); dir; dir = apr_strtok(NULL, ":", &save)) {
        if (access(apr_pstrcat(p, *dir ? dir : ".", "/", prog, NULL), X_OK) == 0) {
            return NULL;
        }
    }
    return apr_psprintf(p, "%s: not found in PATH (%s)", prog,
                        path && *path ? path : "the default path");
}

/* Indented tail of a command's output for messages (last 12 lines). */
const char *sbtune_ctl_tail(const sbtune_ctl_result_t *r, apr_pool_t *p)
{
    const char *all = apr_pstrcat(p, r->err, (*r->err && *r->out) ? "\n" : "", r->out, NULL);
    const char *s = all + strlen(all);
    int lines = 0;
    char *out = apr_pstrdup(p, "");

    while (s > all && (s[-1] == '\n' || s[-1] == ' ')) {
        s--;
    }
    all = apr_pstrmemdup(p, all, (apr_size_t)(s - all));
    s = all + strlen(all);
    while (s > all && lines < 12) {
        s--;
        if (*s == '\n') {
            lines++;
        }
    }
    if (*s == '\n') {
        s++;
    }
    while (*s) {
        const char *e = strchr(s, '\n');
        apr_size_t n = e ? (apr_size_t)(e - s) : strlen(s);

        out = apr_pstrcat(p, out, "    | ", apr_pstrmemdup(p, s, n), "\n", NULL);
        s += n + (e ? 1 : 0);
    }
    return *out ? apr_pstrndup(p, out, strlen(out) - 1) : "    | (no output)";
}

void sbtune_ctl_run(const sbtune_ctl_t *ctl, sbtune_ctl_action_t a, sbtune_ctl_result_t *r)
{
    apr_array_header_t *argv = apr_array_copy(ctl->pool, ctl->argv);
    static const char *const verbs[] = { "configtest", "graceful", "stop", "start" };
    static const char *const kargs[] = { NULL, "graceful", "stop", "start" };

#define PUSH(s) (APR_ARRAY_PUSH(argv, const char *) = (s))
    switch (a) {
    case SBTUNE_CTL_CONFIGTEST:
    case SBTUNE_CTL_GRACEFUL:
    case SBTUNE_CTL_STOP:
    case SBTUNE_CTL_START:
        if (ctl->verbs) {
            PUSH(verbs[a]);
        }
        else if (a == SBTUNE_CTL_CONFIGTEST) {
            PUSH("-t");
        }
        else {
            PUSH("-k");
            PUSH(kargs[a]);
        }
        break;
    case SBTUNE_CTL_INCLUDES:
        PUSH("-t");
        PUSH("-D");
        PUSH("DUMP_INCLUDES");
        break;
    case SBTUNE_CTL_RUN_CFG:
        PUSH("-t");
        PUSH("-D");
        PUSH("DUMP_RUN_CFG");
        break;
    case SBTUNE_CTL_VERSION:
        PUSH("-v");
        break;
    case SBTUNE_CTL_MPM:
        PUSH("-V");
        break;
    case SBTUNE_CTL_MODULES:
        PUSH("-M");
        break;
    }
#undef PUSH
    run_argv(argv, r, ctl->pool);
}

/* Included configuration files from -t -D DUMP_INCLUDES: is path (by
 * realpath) among them?  Returns 1 yes, 0 no. */
int sbtune_ctl_includes(const char *out, const char *want_real, const char *also_real)
{
    const char *s = out;
    char real[PATH_MAX];

    while (s && *s) {
        const char *e = strchr(s, '\n');
        const char *par = s;
        char *path;
        apr_size_t n;

        n = e ? (apr_size_t)(e - s) : strlen(s);
        while (par < s + n && (*par == ' ' || *par == '\t')) {
            par++;
        }
        if (*par == '(') {
            par = memchr(par, ')', (apr_size_t)(s + n - par));
            if (par && par[1] == ' ') {
                path = strndup(par + 2, (apr_size_t)(s + n - par - 2));
                if (path) {
                    path[strcspn(path, "\r")] = '\0';
                    if (realpath(path, real) != NULL
                        && ((want_real && strcmp(real, want_real) == 0)
                            || (also_real && strcmp(real, also_real) == 0))) {
                        free(path);
                        return 1;
                    }
                    free(path);
                }
            }
        }
        s = e ? e + 1 : NULL;
    }
    return 0;
}

/* Lines of b (stderr of a configtest) that are not in a and name one of
 * the directives d sets. */
char *sbtune_ctl_new_warnings(const char *a, const char *b, const sb_directives_t *d,
                                    apr_pool_t *p)
{
    const char *s = b;
    char *acc = apr_pstrdup(p, "");
    int i;

    while (s && *s) {
        const char *e = strchr(s, '\n');
        apr_size_t n = e ? (apr_size_t)(e - s) : strlen(s);
        char *line = apr_pstrmemdup(p, s, n);

        if (n > 0 && strstr(a, line) == NULL) {
            for (i = 0; i < sb_directive_count; i++) {
                if (sb_directive_get(d, i) >= 0
                    && (strstr(line, sb_directive_table[i].name)
                        || (sb_directive_table[i].alias
                            && strstr(line, sb_directive_table[i].alias)))) {
                    acc = apr_pstrcat(p, acc, "    | ", line, "\n", NULL);
                    break;
                }
            }
        }
        s = e ? e + 1 : NULL;
    }
    return acc;
}
