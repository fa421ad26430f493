/*
 * sbtop - the live ncurses view of Apache httpd's worker slots.
 *
 * Samples the scoreboard (shared memory, mod_status as fallback) and the
 * kernel's sockets on deadlines, feeds sb_estimator, and redraws at the
 * refresh interval: header, slot map, gauges, rate sparklines, the capacity
 * line and the views switched by the keys of sbtop_keys.c.  Batch mode
 * (-b) prints plain-text frames; --history with --at replays what sbagent
 * recorded.  See sbtop(1).
 */
#include "config.h"
#include <errno.h>
#include <getopt.h>
#include <langinfo.h>
#include <locale.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curses.h>

#include <apr_general.h>
#include <apr_strings.h>

#include "sb_config.h"
#include "sb_shm.h"
#include "sbtop.h"
#include "sbtop_keys.h"

#ifndef SB_SYSCONFDIR
#define SB_SYSCONFDIR "/etc"
#endif
#ifndef SB_DEFAULT_CONFIG
#define SB_DEFAULT_CONFIG SB_SYSCONFDIR "/sbtune/sbtune.yaml"
#endif

static const char *prog = "sbtop";

/* ------------------------------------------------------------ options */

/* sbtop's options that take no value from the table; -n, -d, --width,
 * --keepalive-timeout, --max-request-workers and the shared ones are
 * entries of sb_config_options. */
enum {
    OPT_BATCH = 'b', OPT_ASCII = 256, OPT_NO_COLOR, OPT_AT
};

static const sb_cli_opt_t opts[] = {
    { OPT_BATCH, "batch", no_argument, NULL,
      "batch mode: print plain-text frames to stdout instead of the screen" },
    { OPT_ASCII, "ascii", no_argument, NULL,
      "draw bars, sparklines and lines with ASCII only (default in non-UTF-8 locales)" },
    { OPT_NO_COLOR, "no-color", no_argument, NULL,
      "monochrome: no colours (also when NO_COLOR is set in the environment)" },
    { OPT_AT, "at", required_argument, "TIME",
      "replay --history at TIME: unix seconds, \"YYYY-MM-DD HH:MM[:SS]\" (local) or last" },
};
#define NOPTS (sizeof(opts) / sizeof(opts[0]))

static sb_cli_t spec;          /* the command line (main) */

static void usage(FILE *out)
{
    sbt_help_line_t keys[SBT_HELP_MAX];
    int k, nk;

    fprintf(out,
            "Usage: %s [--scoreboard PATH] [--status-url URL] [OPTION]...\n"
            "       %s -b [-n N] [-d SECONDS] [--scoreboard PATH | --status-url URL]\n"
            "       %s --history FILE --at TIME [-b]\n"
            "Live view of an Apache httpd's worker slots: slot map, gauges, rates,\n"
            "keep-alive behaviour and capacity headroom.\n\n", prog, prog, prog);
    sb_cli_help_common(out, &spec);
    sb_cli_help(out, opts, (int)NOPTS);
    sb_config_help_cmdline(out, SB_PROG_TOP, 1);
    fprintf(out, "\nOptions that are also keys of the YAML file:\n");
    sb_config_help_cmdline(out, SB_PROG_TOP, 0);
    fprintf(out, "\nKeys:\n");
    nk = sbt_help_lines(keys, SBT_HELP_MAX);
    for (k = 0; k < nk; k++) {
        fprintf(out, "  %-8s %s\n", keys[k].label, keys[k].help);
    }
    fprintf(out, "\nExit status: 0 ok, 1 other failure, 2 usage or configuration error,\n"
            "3 source unavailable (batch mode: no sample could be taken).  See sbtop(1).\n");
}

/* ------------------------------------------------------------ terminal */

static volatile sig_atomic_t curses_on;
static volatile sig_atomic_t got_stop;

static void restore_terminal(void)
{
    if (curses_on) {
        curses_on = 0;
        curs_set(1);
        endwin();
    }
}

static void on_stop(int sig)
{
    got_stop = sig;
}

static void on_fatal(int sig)
{
    restore_terminal();
    signal(sig, SIG_DFL);
    raise(sig);
}

static void install_signals(void)
{
    struct sigaction sa;
    static const int fatal[] = { SIGSEGV, SIGBUS, SIGABRT, SIGFPE, SIGILL };
    apr_size_t i;

    memset(&sa, 0, sizeof(sa));
    sigemptyset(&sa.sa_mask);
    sa.sa_handler = on_stop;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    sa.sa_handler = on_fatal;
    sa.sa_flags = SA_RESETHAND;
    for (i = 0; i < sizeof(fatal) / sizeof(fatal[0]); i++) {
        sigaction(fatal[i], &sa, NULL);
    }
    signal(SIGPIPE, SIG_IGN);
}

static int start_curses(sbt_app_t *app, char *err, apr_size_t errlen)
{
    SCREEN *scr = newterm(NULL, stdout, stdin);

    if (!scr) {
        const char *t = getenv("TERM");
        snprintf(err, errlen, "cannot use the terminal (TERM=%s): use -b for batch mode",
                 t ? t : "unset");
        return -1;
    }
    curses_on = 1;
    set_term(scr);
    cbreak();
    noecho();
    nonl();
    keypad(stdscr, TRUE);
    set_escdelay(25);
    curs_set(0);
    if (app->color && has_colors()) {
        start_color();
    }
    else {
        app->color = 0;
    }
    sbt_draw_init_colors(app->color);
    return 0;
}

/* ------------------------------------------------------------ keys */

static void step_delay(sbt_app_t *app, int dir)
{
    int i;

    if (dir > 0) {
        for (i = 0; i < sbt_ndelays; i++) {
            if (sbt_delays[i] > app->delay + 1e-9) {
                app->delay = sbt_delays[i];
                return;
            }
        }
    }
    else {
        for (i = sbt_ndelays - 1; i >= 0; i--) {
            if (sbt_delays[i] < app->delay - 1e-9) {
                app->delay = sbt_delays[i];
                return;
            }
        }
    }
}

/* What dispatch asks of the loop. */
enum { SBT_DRAW = 1, SBT_DRAW_NOW = 2 };

/* Act on key k; returns 0, SBT_DRAW when the screen must be redrawn, or
 * SBT_DRAW | SBT_DRAW_NOW when the refresh interval changed too (the next
 * timed redraw is due at once). */
static int dispatch(sbt_app_t *app, int k)
{
    int view = 0, in_view, rc = SBT_DRAW;
    const sbt_key_t *b = sbt_key_find(k, &view);

    if (app->help) {
        app->help = 0;
        if (!b || b->action == SBT_ACT_HELP || b->action == SBT_ACT_CLOSE) {
            return SBT_DRAW;
        }
    }
    if (!b) {
        return 0;
    }
    in_view = sbt_key_view(b->action);
    if (in_view >= 0) {
        app->view = in_view;
    }
    switch (b->action) {
    case SBT_ACT_NONE: break;
    case SBT_ACT_QUIT: app->quit = 1; break;
    case SBT_ACT_HELP: app->help = 1; break;
    case SBT_ACT_CLOSE: break;
    case SBT_ACT_VIEW: app->view = view; break;
    case SBT_ACT_SORT: app->sort = (sbt_sort_t)((app->sort + 1) % SBT_NSORTS); break;
    case SBT_ACT_REVERSE: app->sort_reverse = !app->sort_reverse; break;
    case SBT_ACT_PAUSE: app->paused = !app->paused; break;
    case SBT_ACT_SLOWER: step_delay(app, 1); rc |= SBT_DRAW_NOW; break;
    case SBT_ACT_FASTER: step_delay(app, -1); rc |= SBT_DRAW_NOW; break;
    case SBT_ACT_REDRAW: clearok(curscr, TRUE); break;
    case SBT_ACT_BACK_SECOND:
    case SBT_ACT_FORWARD_SECOND:
    case SBT_ACT_BACK_MINUTE:
    case SBT_ACT_FORWARD_MINUTE:
        if (app->replay) {
            static const int step[] = { -1, 1, -60, 60 };
            app->at += step[b->action - SBT_ACT_BACK_SECOND];
            sbt_replay_load(app);
        }
        break;
    }
    return rc;
}

/* ------------------------------------------------------------ loops */

static void draw_screen(sbt_app_t *app)
{
    sbt_canvas_t cv;

    memset(&cv, 0, sizeof(cv));
    cv.curses = 1;
    cv.rows = LINES;
    cv.cols = COLS;
    cv.ascii = app->ascii;
    sbt_render(&cv, app);
    refresh();
}

static int interactive(sbt_app_t *app)
{
    apr_time_t now = apr_time_now(), next_draw = now, wake;
    long frames = 0;
    int force = 1;

    while (!got_stop && !app->quit) {
        int ch, todo;
        long ms;

        now = apr_time_now();
        wake = app->replay ? now + apr_time_from_sec(1) : sbt_source_poll(app, now);
        now = apr_time_now();
        if (now >= next_draw || force) {
            if (!app->replay) {
                sbt_source_tick(app, now);
            }
            if (!app->paused || force) {
                draw_screen(app);
                frames++;
                if (app->iterations > 0 && frames >= app->iterations) {
                    break;
                }
            }
            force = 0;
            if (now >= next_draw) {
                next_draw += (apr_interval_time_t)(app->delay * APR_USEC_PER_SEC);
                if (next_draw <= now) {
                    next_draw = now + (apr_interval_time_t)(app->delay * APR_USEC_PER_SEC);
                }
            }
        }
        if (next_draw < wake) {
            wake = next_draw;
        }
        /* round up: a 0 ms timeout before a deadline would spin */
        ms = (long)((wake - apr_time_now() + 999) / 1000);
        if (ms < 0) {
            ms = 0;
        }
        if (ms > 1000) {
            ms = 1000;
        }
        timeout((int)ms);
        ch = getch();
        if (ch == ERR) {
            continue;
        }
        if (ch == KEY_RESIZE) {
            force = 1;
            continue;
        }
        todo = dispatch(app, ch);
        if (todo & SBT_DRAW) {
            force = 1;
        }
        if (todo & SBT_DRAW_NOW) {
            next_draw = apr_time_now();
        }
    }
    return SB_EXIT_OK;
}

static void print_frame(sbt_app_t *app, apr_pool_t *p)
{
    sbt_canvas_t cv;

    sbt_canvas_text(&cv, 400, app->width, p);
    cv.ascii = 1;
    sbt_render(&cv, app);
    sbt_canvas_print(&cv, stdout);
    fputc('\n', stdout);
    fflush(stdout);
}

static int batch(sbt_app_t *app)
{
    apr_pool_t *fp;
    long n;
    apr_time_t start = apr_time_now(), next;

    apr_pool_create(&fp, app->pool);
    if (app->replay) {
        for (n = 0; n < app->iterations && !got_stop; n++) {
            apr_pool_clear(fp);
            sbt_replay_load(app);
            print_frame(app, fp);
            app->at++;
        }
        return SB_EXIT_OK;
    }
    /* the first frame waits for the first sample (at most 2 s) */
    while (!got_stop && app->samples_taken == 0 && !app->down
           && apr_time_now() - start < apr_time_from_sec(2)) {
        apr_time_t wake = sbt_source_poll(app, apr_time_now()), now = apr_time_now();
        if (app->samples_taken == 0 && wake > now) {
            apr_sleep(wake - now);
        }
    }
    if (app->samples_taken == 0) {
        fprintf(stderr, "%s: no sample could be taken: %s\n", prog,
                app->down_msg[0] ? app->down_msg : app->notice);
        return SB_EXIT_UNAVAILABLE;
    }
    next = apr_time_now();
    for (n = 0; n < app->iterations && !got_stop; n++) {
        apr_time_t now = apr_time_now();
        while (!got_stop && now < next) {
            apr_time_t wake = sbt_source_poll(app, now);
            now = apr_time_now();
            if (wake > next) {
                wake = next;
            }
            if (wake > now) {
                apr_sleep(wake - now);
            }
            now = apr_time_now();
        }
        sbt_source_poll(app, now);
        sbt_source_tick(app, apr_time_now());
        apr_pool_clear(fp);
        print_frame(app, fp);
        if (ferror(stdout)) {
            fprintf(stderr, "%s: cannot write the output: %s\n", prog, strerror(errno));
            return SB_EXIT_FAILURE;
        }
        next += (apr_interval_time_t)(app->delay * APR_USEC_PER_SEC);
    }
    return SB_EXIT_OK;
}

/* Show the frames (batch) or the screen until the end, then close the
 * sources; returns the exit status. */
static int run(sbt_app_t *app)
{
    char err[1024];
    int rc;

    if (app->batch) {
        rc = batch(app);
    }
    else {
        if (!isatty(STDOUT_FILENO) || !isatty(STDIN_FILENO)) {
            fprintf(stderr, "%s: not a terminal: use -b for batch mode\n", prog);
            return SB_EXIT_USAGE;
        }
        atexit(restore_terminal);
        if (start_curses(app, err, sizeof(err)) != 0) {
            fprintf(stderr, "%s: %s\n", prog, err);
            return SB_EXIT_FAILURE;
        }
        rc = interactive(app);
        restore_terminal();
    }
    if (!app->replay) {
        sbt_source_close(app);
    }
    else {
        sb_history_close(app->history);
    }
    return rc;
}

/* ------------------------------------------------------------ main */

/* sbtop's own options (sb_cli_t.fn). */
typedef struct {
    sbt_app_t *app;
    int no_color, ascii;
    const char *at;
} args_t;

static int own_option(void *baton, int id, const char *arg)
{
    args_t *a = baton;

    switch (id) {
    case OPT_BATCH: a->app->batch = 1; break;
    case OPT_ASCII: a->ascii = 1; break;
    case OPT_NO_COLOR: a->no_color = 1; break;
    case OPT_AT: a->at = arg; break;
    }
    return -1;
}

int main(int argc, char **argv)
{
    int rc;
    apr_pool_t *pool;
    sb_config_t cfg;
    sbt_app_t *app;
    const char *config_file = NULL, *nc;
    char err[1024];
    args_t args = { 0 };

    apr_app_initialize(&argc, (const char *const **)&argv, NULL);
    atexit(apr_terminate);
    apr_pool_create(&pool, NULL);
    app = apr_pcalloc(pool, sizeof(*app));
    app->pool = pool;
    app->color = 1;
    args.app = app;
    spec.name = prog;
    spec.program = SB_PROG_TOP;
    spec.own = opts;
    spec.nown = (int)NOPTS;
    spec.default_file = SB_DEFAULT_CONFIG;
    spec.usage = usage;
    spec.version = apr_psprintf(pool, "sbtop (%s) %s\nbuilt against httpd %s scoreboard layout\n",
                                PACKAGE_NAME, PACKAGE_VERSION, sb_shm_build_version());
    spec.fn = own_option;
    spec.baton = &args;

    if ((rc = sb_cli_parse(&spec, argc, argv, &cfg, pool, &config_file, NULL)) >= 0) {
        return rc;
    }
    app->delay = cfg.delay;
    app->iterations = cfg.iterations;
    app->width = cfg.width > 0 ? cfg.width : 0;
    app->ka_timeout = isnan(cfg.keepalive_timeout) ? -1 : cfg.keepalive_timeout;
    app->max_workers_opt = cfg.max_request_workers > 0 ? cfg.max_request_workers : 0;
    app->cfg = &cfg;
    if (app->iterations < 0) {
        app->iterations = app->batch ? 1 : 0;
    }
    if (app->width == 0) {
        const char *cols = getenv("COLUMNS");
        app->width = cols && atoi(cols) >= 40 && atoi(cols) <= 1000 ? atoi(cols) : 80;
    }
    nc = getenv("NO_COLOR");
    app->color = !args.no_color && !(nc && nc[0]);
    setlocale(LC_ALL, "");
    app->ascii = args.ascii || strcmp(nl_langinfo(CODESET), "UTF-8") != 0;
    app->max_workers = app->max_workers_opt;
    apr_pool_create(&app->spool[0], pool);
    apr_pool_create(&app->spool[1], pool);
    /* before the sources: the scoreboard's SIGBUS guard, installed at the
     * first attach, hands the faults it does not own to the handler that
     * was there before it (ours restores the terminal) */
    install_signals();

    if (args.at) {
        if (!cfg.history[0]) {
            fprintf(stderr, "%s: --at needs --history FILE (the agent's history)\n", prog);
            return SB_EXIT_USAGE;
        }
        app->history_path = cfg.history;
        if (sbt_replay_open(app, args.at, err, sizeof(err), &rc) != 0) {
            fprintf(stderr, "%s: %s\n", prog, err);
            return rc;
        }
        sbt_replay_load(app);
    }
    else {
        if (!cfg.scoreboard[0] && !cfg.status_url[0]) {
            fprintf(stderr, "%s: give a source: --scoreboard PATH (httpd's ScoreBoardFile) "
                    "and/or --status-url URL, or --history FILE --at TIME\n"
                    "Try '%s --help' for more information.\n", prog, prog);
            return SB_EXIT_USAGE;
        }
        if (sbt_source_init(app, err, sizeof(err)) != 0) {
            fprintf(stderr, "%s: %s\n", prog, err);
            return SB_EXIT_USAGE;
        }
    }

    return run(app);
}
